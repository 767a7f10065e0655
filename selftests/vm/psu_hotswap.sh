#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest test: supply removal and insertion detected by polling (health,
# capacity, re-identification of the new unit), unbind/rebind, assembly
# creation and deletion and module unload while polls and sysfs readers
# run.  The rig
# fails the run on any kernel splat (WARNING, lockdep, KASAN, ...).
# Prints TAP; exits non-zero on any failure.

POLL_MS=100
SLACK_MS=300
. /lib/rackpwr/tap.sh
. /lib/rackpwr/psu.sh

# Background sysfs reader: hammers every hwmon attribute until killed.
reader() {
	while :; do
		cat /sys/class/hwmon/hwmon*/* >/dev/null 2>&1
		cat /sys/bus/i2c/devices/*-005*/health >/dev/null 2>&1
	done
}

echo "TAP version 13"
# Log lines of this test only: other tests may run in this guest first
# (and wrap the log buffer), so count from a marker.
echo "rackpwr: psu_hotswap starts" >/dev/kmsg
if psu_setup psu_poll_ms=$POLL_MS &&
	echo 2000000 >"$(dev 3)/rated_power_mw"; then
	ok "setup on i2c-$BUS"
else
	nok "setup"; tap_end; exit 1
fi
A=/sys/bus/i2c/devices/$BUS-0050
ONE=$((POLL_MS + SLACK_MS))
drv=/sys/bus/i2c/drivers/rackpwr-psu
check "rated_power_mw overrides slot 3" 2000000 "$(rd "$(dev 3)/rated_power_mw")"
check "bank B with the override" 5200000 "$(rd "$A/capacity_bank_b_mw")"

# Removal: the address stops acknowledging.
K=$SIM/psu4
D=$(dev 4)
echo 0 >$K/present
t=$(wait_for "$D/health" absent $ONE)
check "removal -> absent ($t ms)" absent "$(rd "$D/health")"
check "removal -> bank B" 3600000 "$(rd "$A/capacity_bank_b_mw")"
check "removal -> present mask" 0x2f "$(rd "$A/supplies_present")"
err=$(cat "$(hw 4)/in1_input" 2>&1 >/dev/null)
case $err in
*"No data"*) ok "absent -> ENODATA ($err)" ;;
*) nok "absent -> ENODATA (got '$err')" ;;
esac
check "absent: limits not reported" ERR "$(rd "$(hw 4)/in1_crit")"
check "absent -> total pout of 5" 3000000000 "$(rd "$A/hwmon/hwmon"*/power2_input)"
# A different unit goes in: new serial, a 2 kW rating.
echo 2000000 >$K/pout_max_mw
echo 1 >$K/present
t=$(wait_for "$D/health" ok $ONE)
check "insertion -> ok ($t ms)" ok "$(rd "$D/health")"
check "insertion -> new unit identified" SIMPSU4-001 "$(rd "$D/mfr_serial")"
check "insertion -> new rating" 2000000 "$(rd "$D/rated_power_mw")"
check "insertion -> bank B" 5600000 "$(rd "$A/capacity_bank_b_mw")"
check "insertion -> readings" 230000 "$(rd "$(hw 4)/in1_input")"
log=$(dmesg | sed -n "/psu_hotswap starts/,\$p" | grep -c "slot 4 health")
check "two health log lines for remove + insert" 2 "$log"

# A unit with a non-linear VOUT_MODE: vout is not guessed.
echo 0 >$K/present
wait_for "$D/health" absent $ONE >/dev/null
echo 64 >$K/vout_mode
echo 1 >$K/present
wait_for "$D/health" ok $ONE >/dev/null
check "direct-format VOUT_MODE -> in2_input read error" ERR "$(rd "$(hw 4)/in2_input")"
check "... and in2 limits too" ERR "$(rd "$(hw 4)/in2_crit")"
check "... other readings fine" 50000 "$(rd "$(hw 4)/curr2_input")"
echo 23 >$K/vout_mode
echo 0 >$K/present
wait_for "$D/health" absent $ONE >/dev/null
echo 1 >$K/present
wait_for "$D/health" ok $ONE >/dev/null
check "linear VOUT_MODE again -> vout" 12000 "$(rd "$(hw 4)/in2_input")"

# A slot that is empty at probe time shows every attribute and fills in.
echo "$BUS-005d" >$drv/unbind
echo 0 >$SIM/psu5/present
echo "$BUS-005d" >$drv/bind
check "bound while empty -> absent" absent "$(rd "$(dev 5)/health")"
echo 1 >$SIM/psu5/present
t=$(wait_for "$(dev 5)/health" ok $ONE)
check "inserted after probe -> ok ($t ms)" ok "$(rd "$(dev 5)/health")"
check "inserted after probe -> vin" 230000 "$(rd "$(hw 5)/in1_input")"

reader &
rp=$!

# Unbind/rebind while the poll work and a reader run.
bad=0
i=0
while [ $i -lt 15 ]; do
	echo "$BUS-0058" >$drv/unbind || bad=$((bad + 1))
	[ $((i % 3)) = 0 ] && usleep $((POLL_MS * 1000))
	echo "$BUS-0058" >$drv/bind || bad=$((bad + 1))
	usleep $(((i % 4) * 40000))
	i=$((i + 1))
done
check "15 unbind/bind cycles under polling" 0 $bad
t=$(wait_for "$(dev 0)/health" ok $ONE)
check "rebound supply healthy ($t ms)" ok "$(rd "$(dev 0)/health")"
check "rebound supply reads" 600000000 "$(rd "$(hw 0)/power2_input")"
check "capacity after rebinds" 4800000 "$(rd "$A/capacity_bank_a_mw")"

# A second assembly created and deleted while both poll: its clients,
# adapter and knobs go with it, assembly 0 is untouched.
bad=0
for i in 1 2 3 4 5; do
	asm_new 1 || bad=$((bad + 1))
	usleep $(((i % 3) * POLL_MS * 1000))
	asm_del 1 || bad=$((bad + 1))
done
check "5 new_device/del_device cycles while polling" 0 $bad
check "assembly 0 untouched" 4800000 "$(rd "$A/capacity_bank_a_mw")"
# An address outside 0x58..0x5d has no slot: the probe refuses it.
echo rackpwr-psu 0x60 >/sys/bus/i2c/devices/i2c-$BUS/new_device
[ -e /sys/bus/i2c/devices/$BUS-0060/driver ] && nok "0x60 must not bind" ||
	ok "0x60 (no slot) not bound"
echo 0x60 >/sys/bus/i2c/devices/i2c-$BUS/delete_device

# Removal and insertion storm while polling.
for i in 1 2 3 4 5 6; do
	echo $((i % 2)) >$SIM/psu2/present
	echo $((i % 2)) >$SIM/psu3/present
	usleep $((POLL_MS * 700))
done
echo 1 >$SIM/psu2/present
echo 1 >$SIM/psu3/present
t=$(wait_for "$(dev 3)/health" ok $ONE)
check "after insertion storm ($t ms)" ok "$(rd "$(dev 2)/health")"

# Module unload with bound, polling supplies and a busy reader.
rmmod rackpwr && ok "rmmod rackpwr while polling" || nok "rmmod rackpwr"
# The I2C devices stay; the reloaded driver binds them again.
modprobe rackpwr psu_poll_ms=$POLL_MS && ok "reload" || nok "reload"
t=$(wait_for "$(dev 1)/health" ok $ONE)
check "healthy after reload ($t ms)" ok "$(rd "$(dev 1)/health")"
# The adapter goes away under its bound clients.
rmmod rackpwr_sim_pmbus && ok "rmmod sim with clients bound" ||
	nok "rmmod sim with clients bound"
kill $rp
wait $rp 2>/dev/null
rmmod rackpwr && ok "rmmod rackpwr" || nok "rmmod rackpwr"
tap_end
