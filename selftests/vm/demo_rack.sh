#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The README's main job (scripts/demo.sh runs this in a VM): a simulated
# rack on one RS-485 bus - 6 power-supply modules and 10 chassis modules -
# exchanging frames, plus one power-supply assembly per power-supply module
# (six PMBus supplies each, through hwmon), a supply failure and the
# capacity it costs.  Also a test: every step is checked.
. /lib/rackpwr/tap.sh
. /lib/rackpwr/psu.sh

say() { printf '\n### %s\n' "$*"; }

modprobe rackpwr psu_poll_ms=250 && modprobe rackpwr_sim &&
	modprobe rackpwr_sim_pmbus ||
	{ nok "load modules"; tap_end; exit 1; }

# One simulated assembly per PSCM, each its own I2C adapter; PSCM N uses
# assembly N-1 (the binding is given when the node is created).
for i in 0 1 2 3 4 5; do asm_new $i; done
psu_find_bus

say "A rack on the simulated RS-485 bus (115200 baud): 6 PSCM + 10 CCM"
for a in 1 2 3 4 5 6; do
	rackpwrctl node new --bus 0 --addr $a --role psu \
		--i2c-bus "$(asm_bus $((a - 1)))" >/dev/null
done
for a in $(seq 11 20); do rackpwrctl node new --bus 0 --addr $a --role chassis >/dev/null; done
rackpwrctl node list | tr ' ' '\n' |
	awk -F= '$1 == "id" { if (l) print l; l = "" }
		 $1 ~ /^(id|name|addr|role|slot_us|ifs_us|hb_us|detect_us)$/ { l = l " " $0 }
		 END { print l }'
check "16 modules on the bus" 16 "$(rackpwrctl node list | grep -c kind=sim)"

say "Primary election among the 6 PSCMs; every CCM follows the primary"
acting() { rackpwrctl node list | grep -c 'acting=1'; }
prim() { rackpwrctl node list | sed -n 's/.* addr=\([0-9]*\) .*acting=1.*/\1/p'; }
# Converged: one module acts and all 16 follow it (modules that promoted
# at once resolve their conflict first).
converged() {
	[ "$(acting)" = 1 ] &&
		[ "$(rackpwrctl node list | grep -c " primary=$(prim) ")" = 16 ]
}
t=0
while ! converged && [ $t -lt 400 ]; do usleep 100000; t=$((t + 1)); done
check "exactly one primary acts (after $((t * 100)) ms)" 1 "$(acting)"
prim=$(prim)
rackpwrctl node list | sed -n 's/^id=\([0-9]*\) .* addr=\([0-9]*\) role=\([a-z]*\) .* epoch=\([0-9]*\) .* state=\([a-z]*\) primary=\([0-9]*\) .*/  addr \2 (\3): \5, follows \6, epoch \4/p'
check "every module follows the primary (addr $prim)" 16 \
	"$(rackpwrctl node list | grep -c " primary=$prim ")"

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

say "Power-supply assemblies: one per PSCM, each its own I2C adapter with six PMBus supplies (bank A: 0-2, bank B: 3-5)"
for i in 0 1 2 3 4 5; do echo "  assembly $i: i2c-$(asm_bus $i), used by PSCM $((i + 1))"; done
check "6 assemblies on 6 I2C adapters" 6 \
	"$(for i in 0 1 2 3 4 5; do asm_bus $i; done | sort -u | wc -l)"
sleep 1
if command -v sensors >/dev/null; then
	# Assembly 0's controller and its first supply (42 chips in all).
	sensors "rackpwr_assembly-i2c-$BUS-50" "rackpwr_psu-i2c-$BUS-58" 2>/dev/null
fi
for f in /sys/bus/i2c/devices/$BUS-00*/capacity_bank_a_mw; do CAPDIR=${f%/*}; done
a0=$(cat $CAPDIR/capacity_bank_a_mw)
b0=$(cat $CAPDIR/capacity_bank_b_mw)
echo "usable capacity: bank A ${a0} mW, bank B ${b0} mW"
check_ge "bank A has capacity" 1 "$a0"

pid=$(rackpwrctl node list | sed -n 's/^id=\([0-9]*\) .*acting=1.*/\1/p')
sleep 2
echo "capacity known to the primary (one line per power-supply assembly):"
rackpwrctl capacity "$pid" | sed 's/^/  /'
check "the primary knows 6 assemblies of bank A ${a0} mW" 6 \
	"$(rackpwrctl capacity "$pid" | grep -c "bank_a_mw=$a0 ")"

say "Supply 1 (bank A) of assembly 0 (PSCM 1's) loses its input"
echo 1 > $SIM/psu1/input_lost
sleep 1
echo "supply 1 health: $(cat /sys/bus/i2c/devices/$BUS-0059/health)"
a1=$(cat $CAPDIR/capacity_bank_a_mw)
echo "usable capacity: bank A ${a1} mW, bank B $(cat $CAPDIR/capacity_bank_b_mw) mW"
check_ge "bank A capacity dropped" 1 $((a0 - a1))
dmesg | grep -i rackpwr | tail -n 3 | sed 's/^/  /'
echo "capacity known to the primary now:"
rackpwrctl capacity "$pid" | sed 's/^/  /'
check "the failure reached the primary for that one assembly" \
	"1 5" "$(rackpwrctl capacity "$pid" | grep -c "bank_a_mw=$a1 ") $(rackpwrctl capacity "$pid" | grep -c "bank_a_mw=$a0 ")"
echo 0 > $SIM/psu1/input_lost
sleep 1
check "capacity restored when input returns" "$a0" "$(cat $CAPDIR/capacity_bank_a_mw)"

say "Next for this demo: servers asking and being granted, denied and shed by rackpwrd (see agent_policy)"
tap_end
