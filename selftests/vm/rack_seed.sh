#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# rig-clients: 1
#
# The seed's rack in one guest (issue 13, seed paragraphs 41-46):
# selftests/vm/lib/seedrack.sh builds it (2 power-supply modules with six
# 6 kW supplies each, 6 chassis modules of 8 servers, one rackpwrd per
# power-supply module, n+n budget 36 kW = the 48 servers exactly; the
# numbers are in its header).  rpw_invariants.py watches throughout and
# checks the invariants at the end.  Each step asserts exact states and
# watts:
#  - the first server is granted (41);
#  - the other 47 at once (storm): all granted, 36.0 kW, nothing waits;
#  - a server replaced by a 1500 W one while the rack is full: queued
#    for redundancy though it fits the 72 kW usable (N+N kept, 44); a
#    1100 W server switched off: the waiting one is granted (42);
#  - "when-full deny" by SIGHUP: the 1100 W server asks again, denied (43);
#  - the rack restored, then a bank-B supply fails (budget 30 kW): the
#    six lowest priorities (slot 7 of chassis 11..16, 1100 W each) are
#    shed one at a time, in priority order, until 29.4 kW <= 30 kW (45);
#    repaired: the six are granted again, highest priority first (46).
. /lib/rackpwr/tap.sh
. /lib/rackpwr/seedrack.sh

INV=$PWD/inv.log
seedrack_up --watch "$INV" --period-ms 500 ||
	{ nok "the seed's rack up, the invariant watcher running"; seedrack_down; tap_end; exit 1; }
ok "the seed's rack up: power-supply nodes $RACK_PSU, chassis nodes $RACK_CCM"

# slots_in STATE: how many of the 48 slots are in STATE
slots_in() {
	for _i in $RACK_CCM; do rackpwrctl slots "$_i"; done | grep -c "state=$1 "
}
# granted_is C S WATTS DESC: slot granted, holding WATTS, powered
granted_is() {
	check "$4: granted" granted "$(until_eq granted 10000 rack_slot "$1" "$2" state)"
	check "$4: holds $3 W" $(($3 * 1000)) "$(rack_slot "$1" "$2" held_mw)"
	check "$4: powered" 1 "$(until_eq 1 5000 rack_enabled "$1" "$2")"
}
total_is() {
	check "$2 (mW)" "$1" "$(until_eq "$1" 15000 pwr P granted_mw)"
}
# insert_asks C S: insert the server; an insertion is a power-on trigger,
# also when it follows a removal whose release the primary has not
# confirmed yet (the slot is still releasing).  If it does not ask, that
# fails, and its button is pressed so that the scenario goes on.
insert_asks() {
	rack_insert "$1" "$2"
	_t=0
	while [ $_t -lt 20 ]; do
		case $(rack_slot "$1" "$2" state) in
		off|empty) usleep 200000; _t=$((_t + 1)) ;;
		*) ok "$((10 + $1))/$2 inserted asks"; return 0 ;;
		esac
	done
	nok "$((10 + $1))/$2 inserted asks (off, trigger $(rack_slot "$1" "$2" trigger))"
	rack_on "$1" "$2"
}
check "48 servers present, off" 48 "$(slots_in off)"
check "usable: 2 assemblies x 2 banks x 18 kW (mW)" $RACK_USABLE_MW "$(pwr P usable_mw)"

# --- 41: the first server ------------------------------------------------
t0=$(now_ms)
rack_on 1 0
granted_is 1 0 400 "41: the first server, 11/0"
echo "# measured first grant (button to granted seen) $(($(now_ms) - t0)) ms"
total_is 400000 "41: granted in the rack"

# --- the storm: the other 47 at once -------------------------------------
rack_mark "$INV" storm
t0=$(now_ms)
for c in 1 2 3 4 5 6; do
	for s in 0 1 2 3 4 5 6 7; do
		[ "$c$s" = 10 ] || rack_on $c $s
	done
done
total_is $RACK_BUDGET_MW "storm: all 48 granted, the budget exactly"
echo "# measured storm (47 buttons to 36 kW granted seen) $(($(now_ms) - t0)) ms"
check "storm: 48 servers powered" 48 "$(until_eq 48 10000 rack_powered)"
check "storm: 48 slots granted at their chassis" 48 "$(until_eq 48 5000 slots_in granted)"
check "storm: nothing waits" 0 "$(pwr P pending)"

# --- 44: N+N kept ----------------------------------------------------------
rack_mark "$INV" n+n-kept
rack_pull 1 0
total_is 35600000 "11/0 pulled out: its 400 W released"
rack_srv 1 0 watts 1500
insert_asks 1 0
check "44: a 1500 W server in 11/0, 400 W free: queued" queued \
	"$(until_eq queued 10000 rack_slot 1 0 state)"
check "44: for redundancy (it fits the 72 kW usable)" redundancy "$(rack_slot 1 0 reason)"
check "44: N+N kept: nothing more granted (mW)" 35600000 "$(pwr P granted_mw)"
check "44: not powered" 0 "$(rack_enabled 1 0)"

# --- 42: a release lets the waiting request in --------------------------
rack_off 2 7
check "42: 12/7 (1100 W) off" off "$(until_eq off 10000 rack_slot 2 7 state)"
granted_is 1 0 1500 "42: the waiting 11/0"
total_is $RACK_BUDGET_MW "42: 36.0 - 1.1 + 1.5 kW: the budget again"

# --- 43: denied when full --------------------------------------------------
rack_reload "when-full deny"
rack_on 2 7
check "43: when-full deny: 12/7 asks 1100 W, denied" denied \
	"$(until_eq denied 10000 rack_slot 2 7 state)"
check "43: for redundancy" redundancy "$(rack_slot 2 7 reason)"
check "43: not powered" 0 "$(rack_enabled 2 7)"
check "43: nothing more granted (mW)" $RACK_BUDGET_MW "$(pwr P granted_mw)"

# --- back to the seed's rack -----------------------------------------------
rack_mark "$INV" restore
rack_reload
rack_pull 1 0
total_is 34500000 "11/0 pulled out: its 1500 W released"
rack_srv 1 0 watts 400
insert_asks 1 0
granted_is 1 0 400 "11/0 back to 400 W"
rack_on 2 7
granted_is 2 7 1100 "12/7 again"
total_is $RACK_BUDGET_MW "the rack full again"

# --- 45: a supply fails: shed one at a time, lowest priority first -------
rack_mark "$INV" supply-fail
read -r t_fail _ </proc/uptime
t0=$(now_ms)
rack_psu_fail 2 3
total_is 29400000 "45: budget 30 kW: six 1100 W servers shed, 29.4 kW"
echo "# measured shed (failure to 29.4 kW seen) $(($(now_ms) - t0)) ms"
check "45: 42 servers powered" 42 "$(until_eq 42 10000 rack_powered)"
for c in 1 2 3 4 5 6; do
	check "45: 1$c/7 shed, asked again, waits" queued "$(until_eq queued 10000 rack_slot $c 7 state)"
done
check "45: the other 42 keep their grants" 42 "$(slots_in granted)"
# order SED: what SED picks from the agents' lines after t_fail, firsts
order() {
	rack_logs | awk -v t="$1" '{ s = $0; sub(/^\[ */, "", s); sub(/\].*/, "", s) }
		s + 0 > t + 0' | sed -n "$2" | awk '!seen[$0]++' | tr '\n' ' ' |
		sed 's/ $//'
}
rack_logs | grep 'shed chassis' | sed 's/^/# /'
check "45: shed order by priority 153..158: 11/7 .. 16/7" \
	"11/7 12/7 13/7 14/7 15/7 16/7" \
	"$(order "$t_fail" 's/.*warning: shed chassis \([0-9]*\) slot \([0-9]\).*/\1\/\2/p')"

# --- 46: repaired: granted again, highest priority first ----------------
rack_mark "$INV" repair
read -r t_rep _ </proc/uptime
rack_psu_repair 2 3
total_is $RACK_BUDGET_MW "46: repaired: 36.0 kW granted again"
check "46: 48 servers powered" 48 "$(until_eq 48 10000 rack_powered)"
rack_logs | awk -v t="$t_rep" '{ s = $0; sub(/^\[ */, "", s); sub(/\].*/, "", s) }
	s + 0 > t + 0' | grep 'restore\|: granted\|queued' | sed 's/^/# /'
check "46: re-granted in priority order: 16/7 .. 11/7" \
	"16/7 15/7 14/7 13/7 12/7 11/7" \
	"$(order "$t_rep" 's/.*chassis \([0-9]*\) slot \([0-9]\) req [0-9]*: granted.*/\1\/\2/p')"

# --- the invariants, from the watcher's log -----------------------------------
rack_watch_stop
rack_check "$INV" --shed-bound-ms 20000 && ok "invariants held throughout" ||
	nok "invariants held throughout"
check "the kernel refused no grant (refused-invariant)" 0 \
	"$(pwr_sum refused_invariant $RACK_PSU)"
seedrack_down && ok "the rack taken down, modules unloaded" ||
	nok "the rack taken down, modules unloaded"
tap_end
