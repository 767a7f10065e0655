#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The physical invariant: whatever the policy says, the primary never
# grants more than the rack's usable capacity.  One power-supply module
# bound to an assembly with a single 1600 W supply, a chassis of four
# servers (400, 500, 600, 700 W), no policy holder: requests are answered
# by hand with power-decide.  400 + 500 + 600 W fit; 700 W more is refused
# with an extack message and counted, the slot stays unpowered, and the
# totals at both ends stay exact.  A grant for other watts than asked and
# a decision on a request that does not exist are refused too.
. /lib/rackpwr/tap.sh
. /lib/rackpwr/psu.sh
. /lib/rackpwr/elect.sh
. /lib/rackpwr/alloc.sh

{ modprobe at24 && modprobe rackpwr_sim_pmbus && modprobe rackpwr_sim_server &&
  modprobe rackpwr psu_poll_ms=250 cap_query_ms=500 alloc_nopolicy_ms=60000 &&
  modprobe rackpwr_sim && asm_new 1 0x01 && chassis_new 1 0; } ||
	{ nok "load modules, one supply, one empty chassis"; tap_end; exit 1; }
NA=$(new_node --addr 1 --role psu --i2c-bus "$(asm_bus 1)")
NC=$(new_node --addr 10 --role chassis --i2c-bus "$(chassis_bus 1)")
t=0
while ! settled 2 && [ $t -lt 300 ]; do usleep 100000; t=$((t + 1)); done
check "the power-supply node is primary" "$NA" "$(prim)"
d=/sys/bus/i2c/devices/$(asm_bus 1)-0050
t=0
while [ "$(rd "$d/capacity_bank_a_mw")" = 0 ] && [ $t -lt 50 ]; do usleep 100000; t=$((t + 1)); done
U=$(($(rd "$d/capacity_bank_a_mw") + $(rd "$d/capacity_bank_b_mw")))
check "usable capacity: one supply (mW)" 1600000 "$U"
check "the primary knows it" "$U" "$(until_eq "$U" 5000 pwr "$NA" usable_mw)"

for i in 0 1 2 3; do srv 1 $i present 1; done
for i in 0 1 2 3; do
	check "slot $i asks" pending "$(until_eq pending 5000 entf "$NA" 10 $i state)"
done
# grant SLOT: decide a grant of exactly what the slot asks
grant() {
	rackpwrctl decide "$NA" 10 "$1" "$(entf "$NA" 10 "$1" req_id)" grant \
		--mw "$(entf "$NA" 10 "$1" want_mw)"
}
grant 0 && ok "grant 400 W" || nok "grant 400 W"
grant 1 && ok "grant 500 W" || nok "grant 500 W"
grant 2 && ok "grant 600 W" || nok "grant 600 W"
check "1500 W granted (mW)" 1500000 "$(pwr "$NA" granted_mw)"
expect_fail "700 W more refused: it would exceed the usable capacity" \
	"exceed the rack's usable capacity" grant 3
check "the refusal is counted" 1 "$(pwr "$NA" refused_invariant)"
check "still 1500 W granted (mW)" 1500000 "$(pwr "$NA" granted_mw)"
check "slot 3 still waits" pending "$(entf "$NA" 10 3 state)"
check "slot 3's server not powered" 0 "$(srv 1 3 enable)"
for i in 0 1 2; do
	check "slot $i granted" granted "$(until_eq granted 8000 slotf "$NC" $i state)"
	check "slot $i powered" 1 "$(until_eq 1 5000 srv 1 $i enable)"
done
check "the chassis holds 1500 W" 1500000 "$(rackpwrctl slots "$NC" |
	sed -n 's/.* held_mw=\([0-9]*\) .*/\1/p' | awk '{ s += $1 } END { print s }')"

ID3=$(entf "$NA" 10 3 req_id)
expect_fail "a grant for other watts than asked is refused" "must be the watts asked" \
	rackpwrctl decide "$NA" 10 3 "$ID3" grant --mw 100000
expect_fail "a decision on an unknown request is refused" "not the slot's open request" \
	rackpwrctl decide "$NA" 10 3 $((ID3 + 7)) deny --reason policy
expect_fail "a grant for an empty slot is refused" "no such request" \
	rackpwrctl decide "$NA" 10 5 1 grant --mw 1000
expect_fail "a grant without mw is refused" "missing required attribute" \
	rackpwrctl decide "$NA" 10 3 "$ID3" grant
check "no more refusals counted" 1 "$(pwr "$NA" refused_invariant)"

# Room again: slot 2 shuts down; 400 + 500 + 700 W is exactly the usable
# capacity, which is allowed.
srv 1 2 off 1
check "600 W returned" 900000 "$(until_eq 900000 5000 pwr "$NA" granted_mw)"
grant 3 && ok "700 W fit exactly now" || nok "700 W fit exactly now"
check "slot 3 granted" granted "$(until_eq granted 8000 slotf "$NC" 3 state)"
check "slot 3 powered" 1 "$(until_eq 1 5000 srv 1 3 enable)"
check "granted total is the usable capacity (mW)" "$U" "$(pwr "$NA" granted_mw)"

for id in $NA $NC; do rackpwrctl node del "$id"; done
asm_del 1; chassis_del 1
rmmod rackpwr_sim && rmmod rackpwr && rmmod rackpwr_sim_server &&
	rmmod rackpwr_sim_pmbus && ok "modules unloaded" || nok "modules unloaded"
tap_end
