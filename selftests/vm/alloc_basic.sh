#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Power allocation on one simulated rack: two power-supply modules (1, 2),
# each bound to a simulated assembly of six 1600 W supplies, and a chassis
# module (10) bound to a simulated chassis of eight servers (slot n needs
# 400 + 100 n W).  Asserts exact slot states, power enables and watts at
# both ends:
#  - without a policy holder every trigger (insertion, button, LAN wake,
#    admin power-on) asks and is held, no server is powered, and after the
#    hold the request is denied with reason no-policy;
#  - with the test policy holder (rackpwrctl policy --grant-if-fits) every
#    trigger is granted and powers its server under the grant's id;
#  - orderly shutdown, sleep (and wake again), lower consumption, abrupt
#    removal, admin power-off, a power enable the server's device refuses
#    (power-failed) and a shed each return exactly the slot's
#    watts at the primary; a server that ignores a shed keeps its watts
#    counted and is reported;
#  - stale epochs and a node that is not the primary are refused (ESTALE),
#    another socket cannot decide while a holder is bound, unprivileged
#    writes are refused;
#  - the holder SIGKILLed: grants stay, new requests are denied no-policy
#    after the hold; the holder back: it resyncs and nothing changes.
. /lib/rackpwr/tap.sh
. /lib/rackpwr/psu.sh
. /lib/rackpwr/elect.sh
. /lib/rackpwr/alloc.sh

HOLD=1500	# alloc_nopolicy_ms
{ modprobe at24 && modprobe rackpwr_sim_pmbus && modprobe rackpwr_sim_server &&
  modprobe rackpwr psu_poll_ms=250 cap_query_ms=500 \
	alloc_nopolicy_ms=$HOLD alloc_shed_ms=3000 &&
  modprobe rackpwr_sim && asm_new 1 && asm_new 2 && chassis_new 1 0; } ||
	{ nok "load modules, two assemblies, one empty chassis"; tap_end; exit 1; }
B1=$(asm_bus 1); B2=$(asm_bus 2); CB=$(chassis_bus 1)
ok "assemblies on adapters $B1 and $B2, chassis on $CB"

NA=$(new_node --addr 1 --role psu --i2c-bus "$B1")
NB=$(new_node --addr 2 --role psu --i2c-bus "$B2")
NC=$(new_node --addr 10 --role chassis --i2c-bus "$CB")
check "chassis node bound to its server bus" "$CB" \
	"$(field i2c_bus "$(rackpwrctl node show "$NC")")"
t=0
while ! settled 3 && [ $t -lt 300 ]; do usleep 100000; t=$((t + 1)); done
check "one primary, followed by all" 1 "$n"

# Usable capacity: both banks of both assemblies, as the supplies say.
cap() {
	d=/sys/bus/i2c/devices/$(asm_bus "$1")-0050
	echo $(($(rd "$d/capacity_bank_a_mw") + $(rd "$d/capacity_bank_b_mw")))
}
t=0
while { [ "$(cap 1)" -le 0 ] || [ "$(cap 2)" -le 0 ]; } 2>/dev/null && [ $t -lt 50 ]; do
	usleep 100000; t=$((t + 1))
done
U=$(($(cap 1) + $(cap 2)))
check "usable capacity at the primary is both assemblies' (mW)" "$U" \
	"$(until_eq "$U" 15000 pwr P usable_mw)"
check "8 empty slots" 8 "$(rackpwrctl slots "$NC" | grep -c 'state=empty')"

enabled_any() { powered 1; }
# watch_gated MS: sample the enables for MS; print the most seen at once
watch_gated() {
	_s=$(now_ms); _m=0
	while [ $(($(now_ms) - _s)) -lt "$1" ]; do
		_e=$(enabled_any); [ "$_e" -gt "$_m" ] && _m=$_e
		usleep 100000
	done
	echo $_m
}

# --- no policy holder: every trigger asks, nothing is powered ---------
for i in 0 1 2 3; do srv 1 $i present 1; done
check "insertion: slot 0 asks" requesting "$(until_eq requesting 5000 slotf "$NC" 0 state)"
check "insertion: slot 0's trigger" insert "$(slotf "$NC" 0 trigger)"
check "the primary holds the request of slot 0 pending" pending \
	"$(until_eq pending 5000 entf P 10 0 state)"
check "pending request: exact watts asked (mW)" 400000 "$(entf P 10 0 want_mw)"
check "four requests pending" 4 "$(until_eq 4 5000 pwr P pending)"
check "no server powered while the requests wait" 0 "$(watch_gated 800)"
check "after the hold: denied" denied "$(until_eq denied $((HOLD + 15000)) slotf "$NC" 3 state)"
# Each request's hold runs from when its primary took it: after a change
# of primary (a loaded host) slot 0 may be denied after slot 3.
check "slot 0 denied too" denied "$(until_eq denied $((HOLD + 15000)) slotf "$NC" 0 state)"
check "denied with reason no-policy" no-policy "$(slotf "$NC" 0 reason)"
check_ge "no-policy denials counted" 4 "$(pwr_sum no_policy_denied "$NA" "$NB")"
check "denied requests leave the table" "" "$(table P)"
check "nothing granted" 0 "$(pwr P granted_mw)"

srv 1 0 button 1
srv 1 1 lan_wake 1
rackpwrctl slot-set "$NC" 2 --power on
check "button: slot 0 asks" requesting "$(until_eq requesting 5000 slotf "$NC" 0 state)"
check "button: trigger" button "$(slotf "$NC" 0 trigger)"
check "LAN wake: slot 1 asks" requesting "$(until_eq requesting 5000 slotf "$NC" 1 state)"
check "LAN wake: trigger" lan-wake "$(slotf "$NC" 1 trigger)"
check "admin power-on: slot 2 asks" requesting "$(until_eq requesting 5000 slotf "$NC" 2 state)"
check "admin power-on: trigger" admin "$(slotf "$NC" 2 trigger)"
check "no server powered before a grant" 0 "$(watch_gated 800)"
check "denied again after the hold" denied "$(until_eq denied $((HOLD + 15000)) slotf "$NC" 2 state)"
check "still nothing powered" 0 "$(enabled_any)"

# --- the test policy holder grants what fits -------------------------
# One holder per power-supply node: whichever acts as primary has one (a
# loaded TCG guest may move the primary role now and then).
holders() {
	rackpwrctl policy "$NA" --grant-if-fits >"pol$1a.log" 2>&1 &
	POLA=$!
	rackpwrctl policy "$NB" --grant-if-fits >"pol$1b.log" 2>&1 &
	POLB=$!
}
holders 1
check "policy holder bound" 1 "$(until_eq 1 8000 pwr P bound)"
check "both nodes have a holder" 2 "$(until_eq 2 8000 pwr_sum bound "$NA" "$NB")"
# granted SLOT WATTS DESC: the slot is granted and powered under its id
granted() {
	check "$3: granted" granted "$(until_eq granted 8000 slotf "$NC" "$1" state)"
	check "$3: server powered" 1 "$(until_eq 1 5000 srv 1 "$1" enable)"
	check "$3: the server holds the grant's id" "$(slotf "$NC" "$1" req_id)" \
		"$(srv 1 "$1" grant_id)"
	check "$3: chassis holds the watts (mW)" $(($2 * 1000)) "$(slotf "$NC" "$1" held_mw)"
	check "$3: primary's line holds them (mW)" $(($2 * 1000)) \
		"$(until_eq $(($2 * 1000)) 2000 entf P 10 "$1" held_mw)"
	_id=$(slotf "$NC" "$1" req_id)
	check "$3: same id at the primary" "$_id" \
		"$(until_eq "$_id" 8000 entf P 10 "$1" req_id)"
}
srv 1 0 button 1
granted 0 400 "button"
srv 1 1 lan_wake 1
granted 1 500 "LAN wake"
rackpwrctl slot-set "$NC" 2 --power on
granted 2 600 "admin power-on"
srv 1 3 button 1
granted 3 700 "button on slot 3"
srv 1 4 present 1
granted 4 800 "insertion"
check "granted total (mW)" 3000000 "$(until_eq 3000000 5000 pwr P granted_mw)"

# --- releases return exactly the slot's watts ------------------------
srv 1 0 off 1
check "orderly shutdown: slot 0 off" off "$(until_eq off 8000 slotf "$NC" 0 state)"
check "orderly shutdown: reason" off "$(slotf "$NC" 0 reason)"
check "orderly shutdown: power disabled" 0 "$(srv 1 0 enable)"
check "orderly shutdown: line gone" none "$(until_eq none 5000 entf P 10 0 state)"
check "orderly shutdown: 400 W returned" 2600000 "$(until_eq 2600000 5000 pwr P granted_mw)"

OLD=$(slotf "$NC" 1 req_id)
srv 1 1 sleep 1
check "sleep: slot 1 off" off "$(until_eq off 8000 slotf "$NC" 1 state)"
check "sleep: reason" sleep "$(slotf "$NC" 1 reason)"
check "sleep: 500 W returned" 2100000 "$(until_eq 2100000 5000 pwr P granted_mw)"
srv 1 1 wake 1
check "wake: a new trigger" wake "$(until_eq wake 5000 slotf "$NC" 1 trigger)"
granted 1 500 "wake from sleep"
[ "$(slotf "$NC" 1 req_id)" != "$OLD" ] && ok "wake: a new grant id" ||
	nok "wake: a new grant id (still $OLD)"
check "wake: 500 W back" 2600000 "$(until_eq 2600000 5000 pwr P granted_mw)"

srv 1 2 lower 250
check "lower: slot 2 holds 250 W (mW)" 250000 "$(until_eq 250000 8000 slotf "$NC" 2 held_mw)"
check "lower: the primary's line too" 250000 "$(until_eq 250000 8000 entf P 10 2 held_mw)"
check "lower: 350 W returned" 2250000 "$(until_eq 2250000 5000 pwr P granted_mw)"
check "lower: still powered" 1 "$(srv 1 2 enable)"

# Pulled while granted and another server inserted before the primary
# confirmed the release (here within one poll: GONE, then PRESENT): the
# insertion still asks, once the release is done.
OLD=$(slotf "$NC" 1 req_id)
srv 1 1 present 0
srv 1 1 present 1
check "swapped while granted: the insertion asks" insert \
	"$(until_eq insert 8000 slotf "$NC" 1 trigger)"
granted 1 500 "swapped while granted"
[ "$(slotf "$NC" 1 req_id)" != "$OLD" ] && ok "swapped: a new grant id" ||
	nok "swapped: a new grant id (still $OLD)"
check "swapped: 500 W held again" 2250000 "$(until_eq 2250000 5000 pwr P granted_mw)"

srv 1 3 present 0
check "abrupt removal: slot 3 empty" empty "$(until_eq empty 8000 slotf "$NC" 3 state)"
check "abrupt removal: reason" removed "$(slotf "$NC" 3 reason)"
check "abrupt removal: line gone" none "$(until_eq none 5000 entf P 10 3 state)"
check "abrupt removal: 700 W returned" 1550000 "$(until_eq 1550000 5000 pwr P granted_mw)"

rackpwrctl slot-set "$NC" 4 --power off
check "admin power-off: slot 4 off" off "$(until_eq off 8000 slotf "$NC" 4 state)"
check "admin power-off: power disabled" 0 "$(srv 1 4 enable)"
check "admin power-off: 800 W returned" 750000 "$(until_eq 750000 5000 pwr P granted_mw)"
# A release asks for an answer: the primary's confirm goes in its answer
# slot, and the node's stats count it (answer_count, at the end of them).
check "answer_count exported" "1 1" \
	"$(rackpwrctl stats "$NA" | grep -c ' answer_count=') $(rackpwrctl stats "$NB" | grep -c ' answer_count=')"
check_ge "answer slots used by the primaries" 1 \
	"$(($(stat "$NA" answer_count) + $(stat "$NB" answer_count)))"

# --- a power enable the server's device refuses (data NACK) ---------
srv 1 0 nack 1
rackpwrctl slot-set "$NC" 0 --power on
check "refused enable: the grant goes back, reason power-failed" power-failed \
	"$(until_eq power-failed 10000 slotf "$NC" 0 reason)"
check "refused enable: slot 0 off" off "$(until_eq off 8000 slotf "$NC" 0 state)"
check "refused enable: not powered" 0 "$(srv 1 0 enable)"
check "refused enable: no line at the primary" none \
	"$(until_eq none 5000 entf P 10 0 state)"
check "refused enable: nothing more counted" 750000 \
	"$(until_eq 750000 5000 pwr P granted_mw)"
check_ge "refused enable: logged" 1 \
	"$(dmesg | grep -c 'slot 0: power on for grant [0-9]* failed after 3 tries')"
srv 1 0 nack 0

# Sheds come from the policy holder only while one is bound.
expect_fail "another socket cannot shed while a holder is bound" \
	"another socket" rackpwrctl shed "$(prim)" 10 1
check "shed refused: slot 1 still granted" granted "$(slotf "$NC" 1 state)"

# --- refusals ---------------------------------------------------------
E=$(pwr P epoch)
S=$NA; [ "$(prim)" = "$NA" ] && S=$NB
expect_fail "decide with a stale epoch: ESTALE" "Stale file handle" \
	rackpwrctl decide "$(prim)" 10 0 1 deny --reason policy --epoch $((E - 256))
expect_fail "decide on a node that is not the primary: ESTALE" \
	"does not act as primary" rackpwrctl decide "$S" 10 0 1 deny --reason policy
expect_fail "shed on a secondary: ESTALE" "does not act as primary" \
	rackpwrctl shed "$S" 10 1
expect_fail "policy-bind on a chassis node refused" "not a configured power-supply node" \
	rackpwrctl policy "$NC" --grant-if-fits --timeout 1
expect_fail "slot-set on a power-supply node refused" "not a configured chassis node" \
	rackpwrctl slot-set "$S" 0 --prio 3
expect_fail "slot out of range refused" "out of range" \
	rackpwrctl slot-set "$NC" 8 --prio 3
# As nobody: every write refused, reads allowed.
expect_fail "unprivileged slot-set refused" "not permitted" \
	nobody rackpwrctl slot-set "$NC" 0 --prio 7
expect_fail "unprivileged policy-bind refused" "not permitted" \
	nobody rackpwrctl policy "$(prim)" --grant-if-fits --timeout 1
expect_fail "unprivileged decide refused" "not permitted" \
	nobody rackpwrctl decide "$(prim)" 10 0 1 deny --reason policy --epoch "$E"
expect_fail "unprivileged shed refused" "not permitted" \
	nobody rackpwrctl shed "$(prim)" 10 1 --epoch "$E"
check "unprivileged reads work" 8 "$(nobody rackpwrctl slots "$NC" | wc -l)"
check "unprivileged prio change did nothing" 128 "$(slotf "$NC" 0 prio)"
rackpwrctl slot-set "$NC" 0 --prio 200
check "slot-set prio" 200 "$(slotf "$NC" 0 prio)"

# --- the holder SIGKILLed: fail-safe ----------------------------------
rackpwrctl monitor --timeout 300 >mon.log 2>&1 &
MON=$!
usleep 300000
stable
BEFORE=$(table P)
kill -9 $POLA $POLB
wait $POLA $POLB 2>/dev/null
check "holders gone: unbound" 0 "$(until_eq 0 8000 pwr_sum bound "$NA" "$NB")"
check "holder gone: grants stay" "$BEFORE" "$(table P)"
check "holder gone: servers stay powered" 2 "$(enabled_any)"
srv 1 0 button 1
check "fail-safe: new request waits" pending "$(until_eq pending 5000 entf P 10 0 state)"
check "fail-safe: not powered" 0 "$(srv 1 0 enable)"
check "fail-safe: denied no-policy after the hold" denied \
	"$(until_eq denied $((HOLD + 15000)) slotf "$NC" 0 state)"
check "fail-safe: reason" no-policy "$(slotf "$NC" 0 reason)"
check "fail-safe: grants unchanged" "$BEFORE" "$(table P)"
check_ge "event: policy-unbound" 1 "$(grep -c 'alloc event=policy-unbound' mon.log)"
check_ge "event: no-policy denial" 1 "$(grep -c 'alloc event=no-policy-deny' mon.log)"
check "exactly one shed-free grant table" 750000 "$(pwr P granted_mw)"

holders 2
check "holders back: bound" 2 "$(until_eq 2 8000 pwr_sum bound "$NA" "$NB")"
usleep 500000
check "holders back: nothing changed" "$BEFORE" "$(table P)"
check "holders back: nothing decided" 0 "$(cat pol2a.log pol2b.log | grep -c '^decide')"

# --- sheds ------------------------------------------------------------
kill $POLA $POLB; wait $POLA $POLB 2>/dev/null
check "unbound for manual sheds" 0 "$(until_eq 0 8000 pwr_sum bound "$NA" "$NB")"
stable
retry shed_p 10 1 && ok "shed slot 1" || nok "shed slot 1"
check "shed: server 1 switched off" 0 "$(until_eq 0 8000 srv 1 1 enable)"
check "shed: 500 W returned" 250000 "$(until_eq 250000 5000 pwr P granted_mw)"
# Its chassis asks again once the shed is over; no holder is bound, so
# the request is denied after the hold.
check "shed: the slot asks again, denied without a holder" denied \
	"$(until_eq denied $((HOLD + 8000)) slotf "$NC" 1 state)"
check "shed: reason" no-policy "$(slotf "$NC" 1 reason)"
check "shed: server 1 still off" 0 "$(srv 1 1 enable)"
srv 1 2 ignore_shed 1
stable
retry shed_p 10 2 && ok "shed slot 2 (ignores it)" || nok "shed slot 2"
check "ignored shed: shedding" shedding "$(until_eq shedding 5000 slotf "$NC" 2 state)"
usleep 4000000
check "ignored shed: reported refused" refused "$(until_eq refused 5000 slotf "$NC" 2 reason)"
check "ignored shed: still powered" 1 "$(srv 1 2 enable)"
check "ignored shed: the primary still counts its 250 W" 250000 \
	"$(until_eq 250000 8000 pwr P granted_mw)"
check_ge "event: shed-refused" 1 "$(grep -c 'shed-refused' mon.log)"
kill $MON 2>/dev/null; wait $MON 2>/dev/null
cat pol1a.log pol1b.log | sed 's/^/# /' | head -20

for id in $NA $NB $NC; do rackpwrctl node del "$id"; done
asm_del 1; asm_del 2; chassis_del 1
rmmod rackpwr_sim && rmmod rackpwr && rmmod rackpwr_sim_server &&
	rmmod rackpwr_sim_pmbus && ok "modules unloaded" || nok "modules unloaded"
tap_end
