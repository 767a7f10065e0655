#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Failover rebuild: two power-supply modules with a test policy holder
# each, a chassis of eight servers with three of them granted (one
# lowered to 250 W).  The primary steps down; the new primary collects
# the chassis' table (INV_QUERY/INV_REPORT), ends its recovery, and its
# allocation table then equals the chassis' truth: the same slots, ids and
# exact watts, and the same total.  The old primary's table is empty and
# its holder can no longer decide (ESTALE).  A request made after the
# failover is granted once, by the new primary.  Then the primary's node
# is deleted outright (a crashed module): the other rebuilds again.
. /lib/rackpwr/tap.sh
. /lib/rackpwr/psu.sh
. /lib/rackpwr/elect.sh
. /lib/rackpwr/alloc.sh

{ modprobe at24 && modprobe rackpwr_sim_pmbus && modprobe rackpwr_sim_server &&
  modprobe rackpwr psu_poll_ms=250 cap_query_ms=500 &&
  modprobe rackpwr_sim && asm_new 1 && asm_new 2 && chassis_new 1 0x0f; } ||
	{ nok "load modules"; tap_end; exit 1; }
NA=$(new_node --addr 1 --role psu --i2c-bus "$(asm_bus 1)")
NB=$(new_node --addr 2 --role psu --i2c-bus "$(asm_bus 2)")
NC=$(new_node --addr 10 --role chassis --i2c-bus "$(chassis_bus 1)")
t=0
while ! settled 3 && [ $t -lt 300 ]; do usleep 100000; t=$((t + 1)); done
check "one primary" 1 "$n"
rackpwrctl policy "$NA" --grant-if-fits >pola.log 2>&1 &
POLA=$!
rackpwrctl policy "$NB" --grant-if-fits >polb.log 2>&1 &
POLB=$!
check "holders bound" 2 "$(until_eq 2 8000 pwr_sum bound "$NA" "$NB")"

check "four servers present, off" 4 "$(rackpwrctl slots "$NC" | grep -c 'state=off')"
for i in 0 1 2; do srv 1 $i button 1; done
for i in 0 1 2; do
	check "slot $i granted" granted "$(until_eq granted 5000 slotf "$NC" $i state)"
done
srv 1 1 lower 250
check "slot 1 lowered to 250 W" 250000 "$(until_eq 250000 8000 slotf "$NC" 1 held_mw)"
# truth: "slot id held_mw" of every slot that holds power, at the chassis
truth() {
	rackpwrctl slots "$NC" | awk '{
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		if (v["held_mw"] > 0) print v["slot"], v["req_id"], v["held_mw"] }'
}
# ledger NODE: the same, from a primary's allocation table
ledger() {
	rackpwrctl alloc "$(node_of "$1")" | awk '$0 ~ /state=granted|state=shedding/ {
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		print v["slot"], v["req_id"], v["held_mw"] }'
}
T=$(truth)
echo "$T" | sed 's/^/# truth: /'
check "the primary's table is the chassis' truth" "$T" "$(until_eq "$T" 8000 ledger P)"
check "total granted: 400 + 250 + 600 W (mW)" 1250000 \
	"$(until_eq 1250000 8000 pwr P granted_mw)"

OLD=$(prim)
NEW=$NA; [ "$OLD" = "$NA" ] && NEW=$NB
OE=$(pwr "$OLD" epoch)
rackpwrctl step-down "$OLD" && ok "primary $OLD steps down" || nok "step-down"
check "the other module acts as primary" "$NEW" "$(until_eq "$NEW" 5000 acting_primary)"
check "its recovery ends" 0 "$(until_eq 0 5000 pwr "$NEW" recovering)"
check "rebuilt table equals the chassis' truth" "$T" "$(until_eq "$T" 8000 ledger "$NEW")"
check "rebuilt total (mW)" 1250000 "$(pwr "$NEW" granted_mw)"
check "no grant lost: servers still powered" 111 "$(srv 1 0 enable)$(srv 1 1 enable)$(srv 1 2 enable)"
check "the old primary's table is empty" "" "$(table "$OLD")"
ID=$(slotf "$NC" 0 req_id)
expect_fail "the old primary's epoch is stale (ESTALE)" "Stale file handle" \
	rackpwrctl decide "$NEW" 10 0 "$ID" deny --reason policy --epoch "$OE"
expect_fail "the old primary no longer decides (ESTALE)" "Stale file handle" \
	rackpwrctl shed "$OLD" 10 0 --epoch "$OE"

srv 1 3 button 1
check "a request after the failover is granted" granted "$(until_eq granted 5000 slotf "$NC" 3 state)"
check "by the new primary: 400 + 250 + 600 + 700 W" 1950000 \
	"$(until_eq 1950000 8000 pwr "$NEW" granted_mw)"
check "answered once" 1 "$(cat pola.log polb.log | grep -c "slot=3 req_id=$(slotf "$NC" 3 req_id) .*verdict=grant err=0")"

# The primary's node vanishes (a crashed module).
T=$(truth)
kill $POLA $POLB; wait $POLA $POLB 2>/dev/null
rackpwrctl node del "$NEW" && ok "primary's node deleted" || nok "node del"
check "the remaining module acts as primary" "$OLD" "$(until_eq "$OLD" 8000 acting_primary)"
check "its recovery ends" 0 "$(until_eq 0 5000 pwr "$OLD" recovering)"
check "rebuilt again: the chassis' truth" "$T" "$(until_eq "$T" 8000 ledger "$OLD")"
check "rebuilt total (mW)" 1950000 "$(pwr "$OLD" granted_mw)"

for id in $OLD $NC; do rackpwrctl node del "$id"; done
asm_del 1; asm_del 2; chassis_del 1
rmmod rackpwr_sim && rmmod rackpwr && rmmod rackpwr_sim_server &&
	rmmod rackpwr_sim_pmbus && ok "modules unloaded" || nok "modules unloaded"
tap_end
