#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# rig-clients: 1
#
# The seed's rack (selftests/vm/lib/seedrack.sh) loses its primary in the
# middle of a storm (issue 13, seed paragraphs 47-49).  Chassis 11 and 12
# power on their 16 servers at once; as soon as the primary has granted
# the first of them its agent is SIGKILLed and its node deleted (a module
# pulled from the rack: its assembly goes with it), and chassis 13 powers
# on its 8.  The other power-supply module takes over, rebuilds the table
# from the chassis modules and answers the rest: all 24 servers granted,
# 18.0 kW, exactly the n+n budget of the one assembly left; its table is
# the chassis' truth (slot, request id, watts); nothing lost, nothing
# granted twice (rpw_invariants.py watches throughout).  A request beyond
# that budget then waits, and is withdrawn by pulling the server.
. /lib/rackpwr/tap.sh
. /lib/rackpwr/seedrack.sh

INV=$PWD/inv.log
seedrack_up --watch "$INV" --period-ms 500 ||
	{ nok "the seed's rack up, the invariant watcher running"; seedrack_down; tap_end; exit 1; }
ok "the seed's rack up: power-supply nodes $RACK_PSU, chassis nodes $RACK_CCM"
P=$RACK_PRIMARY
S=$(rack_psu 1)
[ "$S" = "$P" ] && S=$(rack_psu 2)

# --- 47: the primary lost in the middle of a storm ------------------------
rack_mark "$INV" storm
t0=$(now_ms)
for c in 1 2; do
	for s in 0 1 2 3 4 5 6 7; do rack_on $c $s; done
done
t=0
while [ "$(pwr "$P" granted_mw)" = 0 ] && [ $t -lt 100 ]; do
	usleep 50000; t=$((t + 1))
done
rack_mark "$INV" primary-lost
tk=$(now_ms)
rack_agent_kill "$P"
rackpwrctl node del "$P" && ok "47: primary $P lost $((tk - t0)) ms into the storm" ||
	nok "47: primary $P deleted"
n_on=$(($(powered 1) + $(powered 2)))
echo "# at the loss: $n_on servers powered"
for s in 0 1 2 3 4 5 6 7; do rack_on 3 $s; done

check "47: the secondary $S acts" "$S" "$(until_eq "$S" 20000 acting_primary)"
echo "# measured takeover (node deleted to the other acting, seen) $(($(now_ms) - tk)) ms"
check "48: its recovery ends" 0 "$(until_eq 0 30000 pwr "$S" recovering)"
check "48: it knows one assembly: usable 36 kW (mW)" 36000000 \
	"$(until_eq 36000000 10000 pwr "$S" usable_mw)"
check "49: all 24 granted: 18.0 kW, the one assembly's n+n budget (mW)" \
	18000000 "$(until_eq 18000000 30000 pwr "$S" granted_mw)"
echo "# measured storm with takeover (first button to 18 kW granted seen) $(($(now_ms) - t0)) ms"
on_1_3() { echo $(($(powered 1) + $(powered 2) + $(powered 3))); }
check "49: 24 servers powered" 24 "$(until_eq 24 60000 on_1_3)"
check "49: chassis 14-16 stay off" 0 "$(($(powered 4) + $(powered 5) + $(powered 6)))"

# truth: "chassis slot req_id held_mw" of every slot holding power, from
# the chassis nodes; ledger: the same from the primary's table
truth() {
	for c in 1 2 3 4 5 6; do
		rackpwrctl slots "$(rack_ccm $c)" | awk -v a=$((10 + c)) '{
			for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
			if (v["held_mw"] > 0) print a, v["slot"], v["req_id"], v["held_mw"] }'
	done
}
ledger() {
	rackpwrctl alloc "$S" | awk '/state=granted|state=shedding/ {
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		print v["chassis"], v["slot"], v["req_id"], v["held_mw"] }' |
		sort -n -k1,1 -k2,2
}
T=$(truth)
check "49: the chassis hold 24 grants" 24 "$(echo "$T" | grep -c .)"
check "49: the new primary's table is the chassis' truth (slot, id, watts)" \
	"$T" "$(until_eq "$T" 30000 ledger)"
check "49: each grant once at its chassis (24 distinct ids)" 24 \
	"$(echo "$T" | awk '{ print $3 }' | sort -u | grep -c .)"
if [ "$(echo "$T" | grep -c .)" != 24 ]; then
	for c in 1 2 3; do rackpwrctl slots "$(rack_ccm $c)" | sed 's/^/# /'; done
	rackpwrctl alloc "$S" | sed 's/^/# /'
	rack_logs | sed 's/^/# agent: /'
fi

# --- beyond the budget: waits; pulled: withdrawn ------------------------
rack_on 4 0
check "a 400 W request beyond the 18 kW budget waits" queued \
	"$(until_eq queued 15000 rack_slot 4 0 state)"
check "for redundancy (it fits the 36 kW usable)" redundancy "$(rack_slot 4 0 reason)"
rack_pull 4 0
check "pulled while it waits: withdrawn" empty "$(until_eq empty 10000 rack_slot 4 0 state)"
check "nothing waits" 0 "$(until_eq 0 10000 pwr "$S" pending)"

rack_watch_stop
rack_check "$INV" && ok "invariants held throughout" || nok "invariants held throughout"
check "the kernel refused no grant (refused-invariant)" 0 "$(pwr "$S" refused_invariant)"
RACK_PSU=$S
seedrack_down && ok "the rack taken down, modules unloaded" ||
	nok "the rack taken down, modules unloaded"
tap_end
