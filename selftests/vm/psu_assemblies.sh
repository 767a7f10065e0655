#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest test: several supply assemblies in one kernel.  Two simulated
# assemblies with different capacities (present masks, MFR_POUT_MAX) both
# bind (a second one used to fail with -EBUSY), each reports its own
# capacity and total load, a fault on one changes only that one, and
# del_device of one leaves the other polling.  Regression: rated_power_mw
# outside 0..50000000 mW is refused (-EINVAL, no change; 3 GW per supply
# used to be accepted and wrap the 32-bit bank sum).  A new_device/
# del_device loop must not grow the slab caches.  Prints TAP.

POLL_MS=100
SLACK_MS=300
LOOPS=400
. /lib/rackpwr/tap.sh
. /lib/rackpwr/psu.sh

echo "TAP version 13"
ONE=$((POLL_MS + SLACK_MS))
modprobe rackpwr_sim_pmbus && modprobe rackpwr psu_poll_ms=$POLL_MS ||
	{ nok "load modules"; tap_end; exit 1; }

# Assembly 1: slots 0, 1 and 3 filled, 1.6 kW units (the default).
# Assembly 2: all six slots, 2 kW units (inserted after setting the knob:
# MFR_POUT_MAX is read when a unit is identified).
asm_new 1 0x0b && ok "new_device 1 0x0b" || nok "new_device 1 0x0b"
asm_new 2 0 && ok "new_device 2 0" || nok "new_device 2 0"
for s in 0 1 2 3 4 5; do
	echo 2000000 >$SIMDBG/asm2/psu$s/pout_max_mw
	echo 1 >$SIMDBG/asm2/psu$s/present
done
B1=$(asm_bus 1)
B2=$(asm_bus 2)
[ -n "$B1" ] && [ -n "$B2" ] && [ "$B1" != "$B2" ] &&
	ok "two adapters: i2c-$B1, i2c-$B2" || nok "two adapters ('$B1', '$B2')"
check "assembly 1's present_mask" 0x0b "$(rd $SIMBUS/devices/rackpwr_sim_pmbus1/present_mask)"
A1=/sys/bus/i2c/devices/$B1-0050
A2=/sys/bus/i2c/devices/$B2-0050
# sdev BUS SLOT: a supply's I2C device directory on adapter BUS
sdev() { echo /sys/bus/i2c/devices/$1-005$(printf %x $((8 + $2))); }
bound() { ls -d /sys/bus/i2c/devices/$1-00*/driver 2>/dev/null | wc -l; }
check "assembly 1: 6 supplies + controller bound" 7 "$(bound "$B1")"
check "assembly 2: 6 supplies + controller bound" 7 "$(bound "$B2")"
check "no slot refused as already bound" 0 "$(dmesg | grep -c 'already bound')"

t=$(wait_for "$A2/capacity_bank_b_mw" 6000000 $ONE)
check "assembly 1 bank A: slots 0, 1" 3200000 "$(rd "$A1/capacity_bank_a_mw")"
check "assembly 1 bank B: slot 3" 1600000 "$(rd "$A1/capacity_bank_b_mw")"
check "assembly 1 supplies_present" 0x0b "$(rd "$A1/supplies_present")"
check "assembly 2 bank A: 3 x 2 kW" 6000000 "$(rd "$A2/capacity_bank_a_mw")"
check "assembly 2 bank B: 3 x 2 kW ($t ms)" 6000000 "$(rd "$A2/capacity_bank_b_mw")"
check "assembly 2 supplies_present" 0x3f "$(rd "$A2/supplies_present")"
check "assembly 1 total pout (hwmon): 3 supplies" 1800000000 \
	"$(rd "$(echo "$A1"/hwmon/hwmon*)/power2_input")"
check "assembly 2 total pout (hwmon): 6 supplies" 3600000000 \
	"$(rd "$(echo "$A2"/hwmon/hwmon*)/power2_input")"
n=$(cat /sys/bus/i2c/devices/$B1-00*/hwmon/hwmon*/name \
	/sys/bus/i2c/devices/$B2-00*/hwmon/hwmon*/name | grep -c -- -)
check "hwmon names carry no '-' (lm-sensors)" 0 "$n"
if command -v sensors >/dev/null; then
	sensors "rackpwr_assembly-i2c-$B2-50" >/dev/null 2>&1 &&
		ok "sensors reads assembly 2's controller" ||
		nok "sensors reads assembly 2's controller"
fi

# A fault on assembly 1 changes only assembly 1.
echo 1 >$SIMDBG/asm1/psu0/input_lost
t=$(wait_for "$A1/capacity_bank_a_mw" 1600000 $ONE)
check "assembly 1 supply 0 input lost -> bank A ($t ms)" 1600000 "$(rd "$A1/capacity_bank_a_mw")"
check "assembly 2 bank A unchanged" 6000000 "$(rd "$A2/capacity_bank_a_mw")"
check "assembly 2 supply 0 still ok" ok "$(rd "$(sdev "$B2" 0)/health")"
echo 0 >$SIMDBG/asm1/psu0/input_lost
t=$(wait_for "$A1/capacity_bank_a_mw" 3200000 $ONE)
check "assembly 1 recovered ($t ms)" 3200000 "$(rd "$A1/capacity_bank_a_mw")"

# Regression: rated_power_mw takes 0..50000000 mW; the rest is -EINVAL and
# changes nothing.
D=$(sdev "$B2" 0)
for v in 50000001 3000000000 4294967296 -1 abc; do
	expect_fail "rated_power_mw $v refused" "Invalid argument" \
		sh -c "echo $v >$D/rated_power_mw"
done
check "refused writes changed nothing" 2000000 "$(rd "$D/rated_power_mw")"
check "... nor the bank" 6000000 "$(rd "$A2/capacity_bank_a_mw")"
# Every slot at the limit: the largest sums there can be are exact.  (The
# decoder refuses MFR_POUT_MAX above 30 kW as garbage, so no reading can
# pass 32 bits either; banks are summed in 64 bits all the same.)
for s in 0 1 2 3 4 5; do
	echo 50000000 >"$(sdev "$B2" $s)/rated_power_mw"
done
t=$(wait_for "$A2/capacity_bank_b_mw" 150000000 $ONE)
check "bank A, 3 x 50 kW" 150000000 "$(rd "$A2/capacity_bank_a_mw")"
check "bank B, 3 x 50 kW ($t ms)" 150000000 "$(rd "$A2/capacity_bank_b_mw")"
for s in 0 1 2 3 4 5; do
	echo 0 >"$(sdev "$B2" $s)/rated_power_mw"
done
check "0 -> MFR_POUT_MAX again" 2000000 "$(rd "$D/rated_power_mw")"
check "ratings back to MFR_POUT_MAX" 6000000 "$(rd "$A2/capacity_bank_b_mw")"

# del_device of one leaves the other intact and polling; a knob file held
# open across it fails instead of touching freed state.
exec 3<$SIMDBG/asm1/psu0/xfers
asm_del 1 && ok "del_device 1" || nok "del_device 1"
expect_fail "knob held open across del_device" "error" cat <&3
exec 3<&-
[ ! -e /sys/bus/i2c/devices/i2c-$B1 ] && ok "assembly 1's adapter gone" ||
	nok "assembly 1's adapter gone"
[ ! -e $SIMDBG/asm1 ] && ok "assembly 1's knobs gone" || nok "assembly 1's knobs gone"
check "assembly 2 still bound" 7 "$(bound "$B2")"
echo 1 >$SIMDBG/asm2/psu0/input_lost
t=$(wait_for "$A2/capacity_bank_a_mw" 4000000 $ONE)
check "assembly 2 still polls ($t ms)" 4000000 "$(rd "$A2/capacity_bank_a_mw")"
echo 0 >$SIMDBG/asm2/psu0/input_lost

# The simulator's bus refuses what it cannot do.
expect_fail "new_device of an existing id" "exists" asm_new 2
expect_fail "del_device of an unknown id" "No such file" asm_del 7
expect_fail "present mask beyond six slots" "Invalid argument" asm_new 3 0x40
expect_fail "trailing garbage" "Invalid argument" asm_new 3 0x3f x
expect_fail "four fields" "Invalid argument" asm_new 3 0x3f 1 2
echo >$SIMBUS/new_device && [ -e $SIMBUS/devices/rackpwr_sim_pmbus0 ] &&
	ok "empty new_device line takes the lowest free id (0)" ||
	nok "empty new_device line takes the lowest free id (0)"
asm_del 0

# The firmware property rackpwr,rated-power-mw (the simulator gives it to
# every supply when new_device has a third field).
asm_new 4 0x09 1500000 && ok "new_device 4 0x09 1500000" ||
	nok "new_device 4 0x09 1500000"
B4=$(asm_bus 4)
check "rackpwr,rated-power-mw sets the rating" 1500000 "$(rd "$(sdev "$B4" 0)/rated_power_mw")"
check "... and the capacity" 1500000 "$(rd "/sys/bus/i2c/devices/$B4-0050/capacity_bank_a_mw")"
echo 0 >"$(sdev "$B4" 0)/rated_power_mw"
check "rated_power_mw 0 overrides it with MFR_POUT_MAX" 1600000 "$(rd "$(sdev "$B4" 0)/rated_power_mw")"
asm_del 4
asm_new 4 0x3f 50000001
check "out-of-range rackpwr,rated-power-mw: no supply binds" 1 "$(bound "$(asm_bus 4)")"
check_ge "... and the probe says why" 6 \
	"$(dmesg | grep -c 'rackpwr,rated-power-mw 50000001: not in 0..50000000')"
asm_del 4

# Leak check (Debian's kernel has no kmemleak) across LOOPS create/delete
# cycles with the driver bound: no slab cache may grow by half an object
# per cycle, and the unreclaimable total, where an assembly's large
# kmalloc is accounted, must not grow by 8 kB per cycle.  SLUB counts
# free objects of per-CPU slabs as in use: shrinking every cache first
# makes the counts exact enough.
slabs() { awk 'NR > 2 { print $1, $2 }' /proc/slabinfo | sort; }
sunreclaim() { sed -n 's/^SUnreclaim: *\([0-9]*\) kB/\1/p' /proc/meminfo; }
settle() {
	sync; echo 3 >/proc/sys/vm/drop_caches; sleep 1
	for f in /sys/kernel/slab/*/shrink; do echo 1 >"$f"; done 2>/dev/null
}
for i in 1 2 3; do asm_new 5 && asm_del 5; done
settle
s0=$(slabs)
m0=$(sunreclaim)
bad=0
i=0
while [ $i -lt $LOOPS ]; do
	asm_new 5 0x15 || bad=$((bad + 1))
	asm_del 5 || bad=$((bad + 1))
	i=$((i + 1))
done
check "$LOOPS new_device/del_device cycles" 0 $bad
settle
s1=$(slabs)
m1=$(sunreclaim)
grown=$(printf '%s\n%s\n' "$s0" "$s1" |
	awk -v n=$((LOOPS / 2)) '{ if ($1 in a) { if ($2 - a[$1] >= n) print $1, $2 - a[$1] } else a[$1] = $2 }')
[ -z "$grown" ] && ok "no slab cache grew by $((LOOPS / 2)) objects" ||
	nok "slab caches grew: $(echo $grown)"
printf '%s\n%s\n' "$s0" "$s1" | awk '{ if ($1 in a) { if ($2 != a[$1]) printf "%s %+d ", $1, $2 - a[$1] } else a[$1] = $2 } END { print "" }' | sed 's/^/# slab deltas: /'
check_ge "SUnreclaim grew < $((LOOPS * 8)) kB (${m0} -> ${m1} kB)" 0 \
	$((LOOPS * 8 - (m1 - m0)))

# Module unload with assemblies bound and polling.
asm_new 3 && ok "new_device 3" || nok "new_device 3"
rmmod rackpwr_sim_pmbus && ok "rmmod sim with two assemblies" ||
	nok "rmmod sim with two assemblies"
[ ! -e $SIMDBG ] && ok "simulator's debugfs gone" || nok "simulator's debugfs gone"
rmmod rackpwr && ok "rmmod rackpwr" || nok "rmmod rackpwr"
tap_end
