#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The README's main job (scripts/demo.sh runs this in a VM): a simulated
# rack on one RS-485 bus - 6 power-supply modules and 10 chassis modules -
# exchanging frames, plus one power-supply assembly's six PMBus supplies
# through hwmon, a supply failure and the capacity it costs.  Also a test:
# every step is checked.
. /lib/rackpwr/tap.sh

say() { printf '\n### %s\n' "$*"; }

modprobe rackpwr psu_poll_ms=250 && modprobe rackpwr_sim &&
	modprobe rackpwr_sim_pmbus || { nok "load modules"; tap_end; exit 1; }

say "A rack on the simulated RS-485 bus (115200 baud): 6 PSCM + 10 CCM"
for a in 1 2 3 4 5 6; do rackpwrctl node new --bus 0 --addr $a --role psu >/dev/null; done
for a in $(seq 11 20); do rackpwrctl node new --bus 0 --addr $a --role chassis >/dev/null; done
rackpwrctl node list | sed 's/ \(ifs\|slot\|turnaround\|ack_timeout\)_us=[0-9]*//g'
check "16 modules on the bus" 16 "$(rackpwrctl node list | grep -c kind=sim)"

say "Every module announces itself (broadcast), then PSCM 1 polls each CCM (acked unicast)"
for id in $(rackpwrctl node list | sed -n 's/^id=\([0-9]*\) .*/\1/p'); do
	rackpwrctl send "$id" 255 --text hello &
done
wait
psc1=$(rackpwrctl node list | sed -n 's/^id=\([0-9]*\) .* addr=1 .*/\1/p')
okn=0
for a in $(seq 11 20); do
	rackpwrctl send "$psc1" $a --ack --text "status?" && okn=$((okn + 1))
done
check "PSCM 1 reached all 10 chassis modules" 10 $okn
echo "peers heard by PSCM 1:"
rackpwrctl peers "$psc1" | sed 's/^/  /'
echo "PSCM 1 link counters:"
rackpwrctl stats "$psc1" | tr ' ' '\n' | sed -n 's/^\(tx_frames\|rx_frames\|acks_rx\|collisions\|retries\|access_delay_max_us\)=/  \1=/p'

say "Power-supply assembly: six PMBus supplies (bank A: 0-2, bank B: 3-5)"
BUS=
for d in /sys/bus/i2c/devices/i2c-*; do
	[ "$(cat "$d/name")" = rackpwr-sim-pmbus ] && BUS=${d##*-}
done
for a in 58 59 5a 5b 5c 5d; do
	echo rackpwr-psu 0x$a > /sys/bus/i2c/devices/i2c-$BUS/new_device
done
echo rackpwr-asm 0x50 > /sys/bus/i2c/devices/i2c-$BUS/new_device
sleep 1
if command -v sensors >/dev/null; then
	sensors 2>/dev/null | sed -n '1,40p'
fi
D=/sys/bus/i2c/devices/$BUS-0058
for f in /sys/bus/i2c/devices/$BUS-00*/capacity_bank_a_mw; do CAPDIR=${f%/*}; done
a0=$(cat $CAPDIR/capacity_bank_a_mw)
b0=$(cat $CAPDIR/capacity_bank_b_mw)
echo "usable capacity: bank A ${a0} mW, bank B ${b0} mW"
check_ge "bank A has capacity" 1 "$a0"

say "Supply 1 (bank A) loses its input"
echo 1 > /sys/kernel/debug/rackpwr_sim_pmbus/psu1/input_lost
sleep 1
echo "supply 1 health: $(cat /sys/bus/i2c/devices/$BUS-0059/health)"
a1=$(cat $CAPDIR/capacity_bank_a_mw)
echo "usable capacity: bank A ${a1} mW, bank B $(cat $CAPDIR/capacity_bank_b_mw) mW"
check_ge "bank A capacity dropped" 1 $((a0 - a1))
dmesg | grep -i rackpwr | tail -n 3 | sed 's/^/  /'
echo 0 > /sys/kernel/debug/rackpwr_sim_pmbus/psu1/input_lost
sleep 1
check "capacity restored when input returns" "$a0" "$(cat $CAPDIR/capacity_bank_a_mw)"

say "Not yet in this build: primary election, power grants and shedding (open issues)"
tap_end
