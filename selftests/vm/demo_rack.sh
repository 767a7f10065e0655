#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The README's main job (scripts/demo.sh runs it in a VM and prints its
# console): the seed's rack (lib/seedrack.sh: power-supply modules addr 1
# and 2, each with an assembly of six 6 kW supplies, chassis 11..16 of
# eight servers each, one rackpwrd per power-supply module) told step by
# step for a person, with `rackpwrctl map` after each step:
#   1. the rack comes up;  2. who is primary and why (the kernel's
#   election log);  3. the supplies through `sensors`;  4. servers ask
#   and are granted (one, then a storm of 47);  5. a bigger server is
#   denied, with the reason;  6. a supply fails: who is shed, in what
#   order;  7. the repair and the re-grants;  8. chassis 14-16 shut down
#   (releases);  9. the primary killed (node deleted, agent killed): the
#   takeover, the table rebuilt from the chassis, one assembly's budget;
#   10. the module back, chassis 14-16 on again.
# Every step is checked (TAP).  For scripts and the plot the guest also
# writes, at the end, "@step {JSON}" per step (its facts, checks and
# `rackpwrctl -j map`), "@plot T USABLE_MW BUDGET_MW HELD_MW" samples
# (T: /proc/uptime seconds; "T - - -": no settled primary) and
# "@mark T KIND TEXT" events.
. /lib/rackpwr/tap.sh
. /lib/rackpwr/seedrack.sh

D=/tmp/demo
rm -rf $D && mkdir -p $D && : >$D/plot && : >$D/marks && : >$D/steps

up_s() { read -r _u _x </proc/uptime; echo "$_u"; }
mark() { echo "$(up_s) $*" >>$D/marks; }
w() { awk -v m="$1" 'BEGIN { printf "%.1f kW", m / 1e6 }'; }
map() { rackpwrctl map --state-dir "$RACK_SD"; }
mapj() { rackpwrctl -j map --state-dir "$RACK_SD"; }
# jnum KEY JSON: the first number under "KEY"
jnum() { echo "$2" | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" | head -n1; }

# --- steps: a title, the story, checks, the map, a record ---------------
STEP=0
step() {
	STEP=$((STEP + 1)); S_NAME=$1; S_TITLE=$2; S_N0=$_n; S_F0=$_fail
	S_FACTS=
	printf '\n=== %d. %s\n' $STEP "$2"
}
# fact KEY TEXT / factn KEY NUMBER: a fact of the step's record
fact() {
	_v=$(printf '%s' "$2" | sed 's/\\/\\\\/g; s/"/\\"/g')
	S_FACTS="$S_FACTS${S_FACTS:+,}\"$1\":\"$_v\""
}
factn() { S_FACTS="$S_FACTS${S_FACTS:+,}\"$1\":${2:-null}"; }
step_end() {
	_m=$(map)
	echo
	echo "$_m"
	check "step $STEP: the map fits 80 columns" 1 \
		"$(echo "$_m" | awk '{ if (length($0) > m) m = length($0) } END { print (m <= 80) }')"
	_j=$(mapj)
	printf '{"step":%d,"name":"%s","title":"%s","checks":%d,"failed":%d,"facts":{%s},"map":%s}\n' \
		$STEP "$S_NAME" "$S_TITLE" $((_n - S_N0)) $((_fail - S_F0)) \
		"$S_FACTS" "${_j:-null}" >>$D/steps
}

# --- the plot's samples: the map's budget, about once a second ---------
# Capacity and budget are the primary's; granted is what the chassis
# modules' slots hold (a new primary's table grows as they report, their
# servers keep their power meanwhile).  "T - - -" while no node here is
# primary: a gap in the plot.
sampler() {
	while [ ! -e $D/stop ]; do
		_j=$(mapj 2>/dev/null)
		_u=$(jnum usable_mw "$_j"); _b=$(jnum budget_mw "$_j")
		_g=$(echo "$_j" | grep -o '"held_mw":[0-9]*' |
			awk -F: '{ s += $2 } END { if (NR) print s }')
		case $_j in
		*'"is_primary":true'*) ;;
		*) _u= ;;
		esac
		if [ -n "$_u" ] && [ -n "$_b" ] && [ -n "$_g" ]; then
			echo "$(up_s) $_u $_b $_g" >>$D/plot
		else
			echo "$(up_s) - - -" >>$D/plot
		fi
		usleep 600000
	done
}

# granted_mw: what the acting primary's agent counts as granted
granted_mw() { jnum granted_mw "$(mapj)"; }
budget_mw() { jnum budget_mw "$(mapj)"; }
# sheds SINCE: "C/S" of each shed the agents logged after uptime SINCE
sheds() {
	rack_logs | awk -v t="$1" '{ s = $0; sub(/^\[ */, "", s); sub(/\].*/, "", s) }
		s + 0 > t + 0' |
		sed -n 's/.*warning: shed chassis \([0-9]*\) slot \([0-9]\).*/\1\/\2/p' |
		awk '!seen[$0]++' | tr '\n' ' ' | sed 's/ $//'
}
# shed_lines SINCE: those log lines, for the story and the plot's marks
shed_lines() {
	rack_logs | awk -v t="$1" '{ s = $0; sub(/^\[ */, "", s); sub(/\].*/, "", s) }
		s + 0 > t + 0 && /warning: shed chassis/'
}
# grants SINCE: "C/S" of each grant the agents logged after SINCE
grants() {
	rack_logs | awk -v t="$1" '{ s = $0; sub(/^\[ */, "", s); sub(/\].*/, "", s) }
		s + 0 > t + 0' |
		sed -n 's/.*chassis \([0-9]*\) slot \([0-9]\) req [0-9]*: granted.*/\1\/\2/p' |
		awk '!seen[$0]++' | tr '\n' ' ' | sed 's/ $//'
}
# tell_sheds SINCE: print the sheds and mark them on the plot
tell_sheds() {
	shed_lines "$1" |
		sed -n 's/^\[ *\([0-9.]*\)\].*shed chassis \([0-9]*\) slot \([0-9]\) (prio \([0-9]*\)).*/\1 \2\/\3 \4/p' |
		awk '!seen[$2]++' | while read -r t cs p; do
		echo "$t shed shed $cs" >>$D/marks
		printf '  +%5.2f s  shed %s (priority %s)\n' \
			"$(awk -v a="$t" -v b="$1" 'BEGIN { print a - b }')" "$cs" "$p"
	done
}
# why C/S: the agent's last decision for the slot, for a person
why() {
	_l=$(rackpwrctl why "$1" --state-dir "$RACK_SD")
	echo "  \$ rackpwrctl why $1"
	echo "$_l" | sed 's/^/    /'
}
why_f() { field "$2" "$(rackpwrctl why "$1" --state-dir "$RACK_SD" | head -n1)"; }

dmesg_n0=$(dmesg | wc -l)
# A module that misses three capacity queries counts as lost: 2 s between
# queries (the seed's 1 s) spares a loaded TCG guest false losses.
SEEDRACK_MODPARAMS="psu_poll_ms=250 cap_query_ms=2000 alloc_shed_ms=20000"

# ======================================================================
step up "The rack comes up: 2 power-supply modules, 6 chassis, 2 agents"
echo "seedrack_up: simulated RS-485 bus at 115200 baud; assemblies of six 6 kW"
echo "supplies (bank A 0-2, bank B 3-5) behind modules addr 1 and 2; chassis"
echo "modules addr 11..16 with eight servers each (slot s needs 400 + 100 s W);"
echo "one rackpwrd per power-supply module (mode n+n, 48 distinct priorities)."
t0=$(up_s)
if ! seedrack_up; then
	nok "seedrack_up"
	tap_end
	exit 1
fi
t1=$(up_s)
ok "the seed's rack is up ($(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s)"
touch $D/plot
sampler &
SAMPLER=$!
rackpwrctl node list | sed -n 's/^id=\([0-9]*\) name=\([^ ]*\) .* addr=\([0-9]*\) role=\([a-z]*\) .*/  node \1 (\2): addr \3, \4/p'
check "2 power-supply and 6 chassis modules" "2 6" \
	"$(rackpwrctl node list | grep -c role=psu) $(rackpwrctl node list | grep -c role=chassis)"
# The acting agent decides nothing until it has heard both assemblies.
check "the acting agent knows the budget: 36.0 kW" 36000000 \
	"$(until_eq 36000000 20000 budget_mw)"
factn psu_nodes "[$(echo $RACK_PSU | tr ' ' ,)]"
factn chassis_nodes "[$(echo $RACK_CCM | tr ' ' ,)]"
step_end

# ======================================================================
step election "Which module is primary, and why"
# A loaded TCG guest lets the primary's lease lapse for a moment now and
# then: wait for it to act, and name it by its state in any case.
acting_n() { rackpwrctl node list | grep -c 'state=primary .*acting=1'; }
NACT=$(until_eq 1 15000 acting_n)
L=$(rackpwrctl node list)
PA=$(echo "$L" | sed -n 's/.* addr=\([0-9]*\) .*state=primary .*/\1/p' | head -n1)
E=$(echo "$L" | sed -n "s/.* addr=$PA .* epoch=\([0-9]*\) .*/\1/p" | head -n1)
TERM=$((E >> 8)); OWNER=$((E & 255))
echo "The kernel's election log (dmesg) of the power-supply modules:"
# "sim0.1: election: promoted (addr 1, epoch 1.1)"
dmesg | tail -n +$((dmesg_n0 + 1)) |
	sed -n 's/.*rackpwr: \(sim[0-9.]*\): election: \([a-z-]*\) (addr \([0-9]*\), epoch \([0-9.]*\)).*/\1 \2 \3 \4/p' >$D/elect
for id in $RACK_PSU; do
	nm=$(echo "$L" | sed -n "s/^id=$id name=\([^ ]*\) .*/\1/p")
	ad=$(echo "$L" | sed -n "s/^id=$id .* addr=\([0-9]*\) .*/\1/p")
	grep "^$nm " $D/elect | while read -r _nm ev a ep; do
		case $ev in
		promoted|demoted|conflict|primary-changed|step-down)
			echo "  module addr $ad: $ev, epoch $ep (addr $a)" ;;
		esac
	done
done
# The claimers of the winning term: every module promoted in it.
CLAIM=$( { awk -v t="$TERM" '$2 == "promoted" { split($4, e, "."); if (e[1] == t) print e[2] }' $D/elect
	   echo "$OWNER"; } | sort -n | uniq | tr '\n' ' ' | sed 's/ $//')
NC=$(echo "$CLAIM" | wc -w)
HIGH=$(echo "$CLAIM" | tr ' ' '\n' | sort -n | tail -n1)
echo
echo "The primary is module addr $PA, epoch $TERM.$OWNER: term $TERM, claimed by addr $OWNER."
if [ "$NC" -gt 1 ]; then
	echo "Term $TERM was claimed by addr $(echo "$CLAIM" | sed 's/ / and addr /g') at once (they started"
	echo "together).  Claims of the same term are ordered by address: the highest,"
	echo "addr $HIGH, wins; the other demoted itself and follows it."
else
	echo "Nobody else claimed term $TERM: addr $OWNER asked who is primary, heard no one"
	echo "for its discovery time and claimed it; the other module heard that claim"
	echo "and follows it."
fi
check "exactly one module acts as primary" 1 "$NACT"
check "the epoch's owner is the primary" "$PA" "$OWNER"
check "the primary has the highest address of term $TERM's claimers" "$HIGH" "$PA"
check "all 8 modules follow addr $PA" 8 "$(echo "$L" | grep -c " primary=$PA ")"
PRIM=$(echo "$L" | sed -n "s/^id=\([0-9]*\) .* addr=$PA .*/\1/p")
OTHER=$(echo "$RACK_PSU" | tr ' ' '\n' | grep -vx "$PRIM")
factn primary_addr "$PA"; fact epoch "$TERM.$OWNER"; factn term "$TERM"
factn claimed_by "$OWNER"; factn claimers "[$(echo "$CLAIM" | tr ' ' ,)]"
step_end

# ======================================================================
step supplies "Each assembly's supplies, through sensors (lm-sensors)"
echo "Each supply is a PMBus device with a hwmon driver; sensors reads it."
B1=$(asm_bus 1)
echo "\$ sensors rackpwr_psu-i2c-$B1-58      (assembly 1, supply 0)"
sensors "rackpwr_psu-i2c-$B1-58" 2>&1 | sed 's/^/  /'
echo "All twelve (sensors -u, condensed):"
nsup=0
for a in 1 2; do
	b=$(asm_bus $a)
	for i in 0 1 2 3 4 5; do
		chip="rackpwr_psu-i2c-$b-$(printf %02x $((0x58 + i)))"
		line=$(sensors -u "$chip" 2>/dev/null | awk -v a="$a" -v i="$i" '
			/^ *in1_input:/ { vin = $2 } /^ *power2_input:/ { po = $2 }
			/^ *temp1_input:/ { t = $2 } /^ *fan1_input:/ { f = $2 }
			/_alarm:/ && $2 + 0 != 0 { al++ }
			END { if (vin == "") exit 1
			      printf "  assembly %d supply %d (bank %s): vin %3.0f V, pout %4.0f W, inlet %2.0f C, fan %5.0f RPM, %s\n",
				a, i, i < 3 ? "A" : "B", vin, po, t, f, al ? al " alarm(s)" : "no alarm" }') &&
			nsup=$((nsup + 1)) && echo "$line"
	done
done
check "sensors reads all 12 supplies" 12 "$nsup"
factn supplies_read "$nsup"
step_end

# ======================================================================
step grants "Servers ask for power and are granted"
echo "Server 11/0 (chassis 11, slot 0; 400 W, priority $(rack_prio 1 0)): its power button."
rack_on 1 0
check "11/0 granted" granted "$(until_eq granted 15000 rack_slot 1 0 state)"
check "11/0 powered on" 1 "$(until_eq 1 5000 rack_enabled 1 0)"
check "why 11/0: grant of 400 W" "grant 400000" \
	"$(until_eq grant 5000 why_f 11/0 verdict) $(why_f 11/0 mw)"
why 11/0
echo
echo "A storm: the 47 other servers' buttons pressed at once."
ts=$(up_s)
for c in 1 2 3 4 5 6; do
	for s in 0 1 2 3 4 5 6 7; do
		[ $c$s = 10 ] || rack_on $c $s &
	done
done
wait_storm() { rack_powered; }
check "all 48 servers powered on" 48 "$(until_eq 48 90000 wait_storm)"
te=$(up_s)
check "36.0 kW granted: the N+N budget exactly" 36000000 "$(until_eq 36000000 10000 granted_mw)"
echo "All 48 granted in $(awk -v a="$ts" -v b="$te" 'BEGIN { printf "%.1f", b - a }') s: 36.0 kW, rail A = rail B = 36 kW, so N+N"
echo "(either rail alone carries every server) allows exactly this."
why 16/7
factn granted_mw "$(granted_mw)"; factn powered 48
step_end

# ======================================================================
step denied "A bigger server is denied, with the reason"
echo "The policy switches to 'when-full deny' (SIGHUP to both agents), and"
echo "server 11/7 (1100 W) is swapped for a 1500 W one: pulled, then inserted."
rack_reload "when-full deny"
rack_pull 1 7
check "11/7 pulled: its 1100 W released" 34900000 "$(until_eq 34900000 15000 granted_mw)"
rack_srv 1 7 watts 1500
rack_insert 1 7
check "the 1500 W server is denied" denied "$(until_eq denied 15000 rack_slot 1 7 state)"
check "why 11/7: deny, for redundancy" "deny redundancy" \
	"$(until_eq deny 5000 why_f 11/7 verdict) $(why_f 11/7 reason)"
why 11/7
echo "It would fit the usable 72 kW, but not the N+N budget: 1.1 kW left."
fact why_11_7 "$(rackpwrctl why 11/7 --state-dir "$RACK_SD" | sed -n 2p | sed 's/^ *//')"
step_end
echo "(Swapped back: the 1100 W server, the seed's policy again.)"
rack_pull 1 7
until_eq empty 10000 rack_slot 1 7 state >/dev/null
rack_srv 1 7 watts 1100
rack_reload
rack_insert 1 7
check "the 1100 W server back: granted" granted "$(until_eq granted 15000 rack_slot 1 7 state)"
check "36.0 kW granted again" 36000000 "$(until_eq 36000000 10000 granted_mw)"

# ======================================================================
step failure "A supply fails: who is shed, in what order"
echo "Supply 3 (bank B) of assembly 2 loses its input: rail B falls from 36 to"
echo "30 kW, so does the N+N budget; 36.0 kW are granted.  The agent sheds the"
echo "lowest priority first, one at a time, until the budget holds."
tf=$(up_s)
mark fail "supply 2:3 fails"
rack_psu_fail 2 3
check "the budget falls to 30 kW" 30000000 "$(until_eq 30000000 15000 budget_mw)"
check "shed until 29.4 kW are granted" 29400000 "$(until_eq 29400000 60000 granted_mw)"
echo "Sheds (seconds after the failure):"
tell_sheds "$tf"
nlate=$(rack_logs | awk -v t="$tf" '{ s = $0; sub(/^\[ */, "", s); sub(/\].*/, "", s) }
	s + 0 > t + 0 && /did not comply/' | wc -l)
[ "$nlate" = 0 ] ||
	echo "($nlate shed server(s) gave their watts back after the agent's 6 s deadline on this busy guest: it shed the next in line meanwhile.)"
# The first six; a busy guest may shed more when an assembly's report
# comes late (the kernel logs "stopped reporting capacity"), and grants
# them again when it comes.
first6() { echo "$1" | cut -d' ' -f1-6; }
check "shed order: priority 153..158" "11/7 12/7 13/7 14/7 15/7 16/7" \
	"$(first6 "$(sheds "$tf")")"
check "the shed servers are off" 42 "$(until_eq 42 10000 rack_powered)"
echo "A shed server asks again and waits:"
check "11/7 asks again: queued" queued "$(until_eq queued 20000 rack_slot 1 7 state)"
why 11/7
fact shed_order "$(sheds "$tf")"; factn granted_mw "$(granted_mw)"
step_end

# ======================================================================
step repair "The supply is repaired: the shed servers are granted again"
tr_=$(up_s)
mark repair "supply 2:3 repaired"
rack_psu_repair 2 3
check "the budget is back to 36 kW" 36000000 "$(until_eq 36000000 15000 budget_mw)"
check "36.0 kW granted again" 36000000 "$(until_eq 36000000 60000 granted_mw)"
check "all 48 servers on" 48 "$(until_eq 48 20000 rack_powered)"
echo "Granted again, in order: $(grants "$tr_") (the budget has room for all"
echo "six at once)."
# Each shed server is granted again (a busy guest may have shed and
# re-granted more, when an assembly's reports came late: the map says so).
regranted() {
	_g=" $(grants "$tr_") "
	for _x in 11/7 12/7 13/7 14/7 15/7 16/7; do
		case $_g in *" $_x "*) printf '%s ' $_x ;; esac
	done | sed 's/ $//'
}
check "the six shed servers granted again" "11/7 12/7 13/7 14/7 15/7 16/7" "$(regranted)"
fact regrant_order "$(grants "$tr_")"
step_end

# ======================================================================
step release "Chassis 14-16 are shut down: their grants are released"
echo "Their operators shut the 24 servers of chassis 14, 15 and 16 down (an"
echo "orderly off of each): every release gives its watts back to the budget."
tl=$(up_s)
mark release "chassis 14-16 off"
for c in 4 5 6; do
	for s in 0 1 2 3 4 5 6 7; do rack_off $c $s & done
done
wait_off() { rack_powered; }
check "24 servers off, 24 on" 24 "$(until_eq 24 60000 wait_off)"
check "18.0 kW granted: chassis 11-13" 18000000 "$(until_eq 18000000 20000 granted_mw)"
echo "Released in $(awk -v a="$tl" -v b="$(up_s)" 'BEGIN { printf "%.1f", b - a }') s; 18.0 of 36.0 kW granted."
factn granted_mw "$(granted_mw)"
step_end

# ======================================================================
step takeover "The primary is killed: the other module takes over"
OA=$(rackpwrctl node list | sed -n "s/^id=$OTHER .* addr=\([0-9]*\) .*/\1/p")
echo "Module addr $PA (node $PRIM) dies: its agent is killed and its node deleted."
echo "Module addr $OA must notice, claim the next term, rebuild the allocation"
echo "table from the chassis modules, and its agent must take over the policy."
echo "Its own assembly is all it can see now: N+N budget 18 kW, what is granted."
tk=$(up_s)
mark kill "primary addr $PA killed"
rack_agent_kill "$PRIM"
rackpwrctl node del "$PRIM" >/dev/null
acting_o() {
	rackpwrctl node list | grep -c "^id=$OTHER .*state=primary .*acting=1"
}
check "addr $OA acts as primary" 1 "$(until_eq 1 20000 acting_o)"
agent_o() { grep -c '"acting": true' "$RACK_SD/node-$OTHER.json" 2>/dev/null; }
check "its agent decides" 1 "$(until_eq 1 20000 agent_o)"
tt=$(up_s)
mark takeover "addr $OA takes over"
L=$(rackpwrctl node list)
E2=$(echo "$L" | sed -n "s/^id=$OTHER .* epoch=\([0-9]*\) .*/\1/p")
echo "Takeover after $(awk -v a="$tk" -v b="$tt" 'BEGIN { printf "%.1f", b - a }') s: epoch $((E2 >> 8)).$((E2 & 255)) (term $((E2 >> 8)), claimed by addr $((E2 & 255)))."
check "a new term, claimed by addr $OA" "1 $OA" \
	"$([ $((E2 >> 8)) -gt "$TERM" ] && echo 1) $((E2 & 255))"
follow_o() { rackpwrctl node list | grep -c " primary=$OA "; }
check "all 7 remaining modules follow addr $OA" 7 "$(until_eq 7 15000 follow_o)"
check "the budget: one assembly, 18 kW" 18000000 "$(until_eq 18000000 20000 budget_mw)"
check "the table rebuilt from the chassis: 18.0 kW granted" 18000000 \
	"$(until_eq 18000000 20000 granted_mw)"
# Nothing granted twice: every slot's held watts, summed over the
# chassis modules, is what the new primary's table holds.
held_sum() {
	for c in $RACK_CCM; do rackpwrctl slots "$c"; done |
		sed -n 's/.* held_mw=\([0-9]*\) .*/\1/p' | awk '{ s += $1 } END { print s + 0 }'
}
check "nothing granted twice: the chassis hold what the table says" \
	"$(pwr "$OTHER" granted_mw)" "$(held_sum)"
check "nothing lost: the 24 servers of chassis 11-13 stay on" 24 "$(rack_powered)"
check "nobody shed" "" "$(sheds "$tk")"
fact takeover_s "$(awk -v a="$tk" -v b="$tt" 'BEGIN { printf "%.2f", b - a }')"
fact epoch "$((E2 >> 8)).$((E2 & 255))"
step_end

# ======================================================================
step back "The module comes back; chassis 14-16 power on again"
# shellcheck disable=SC2086
NEW=$(new_node --addr "$PA" --role psu --i2c-bus "$(asm_bus "$PA")" $RACK_ELECT)
: >"$RACK_SD/$NEW.log"
rack_agent "$NEW"
mark repair "addr $PA back"
echo "Module addr $PA restarts (node $NEW) with its agent; it joins the rack"
echo "under addr $OA, and its assembly counts again."
usable_mw() { jnum usable_mw "$(mapj)"; }
check "usable capacity 72 kW again" 72000000 "$(until_eq 72000000 30000 usable_mw)"
check "the budget 36 kW again" 36000000 "$(until_eq 36000000 20000 budget_mw)"
prim_o() { rackpwrctl node list | grep -c "^id=$OTHER .*state=primary "; }
check "addr $OA stays primary" 1 "$(until_eq 1 10000 prim_o)"
for c in 4 5 6; do
	for s in 0 1 2 3 4 5 6 7; do rack_on $c $s & done
done
check "all 48 servers on" 48 "$(until_eq 48 90000 wait_storm)"
check "36.0 kW granted" 36000000 "$(until_eq 36000000 20000 granted_mw)"
RACK_PSU="$OTHER $NEW"
step_end

# ======================================================================
touch $D/stop
wait $SAMPLER 2>/dev/null
check_ge "the plot has samples" 20 "$(grep -vc ' - ' $D/plot)"
seedrack_down
check "the rack taken down" 0 $?
# For the host (demo.sh): the records go out on a quiet console (no rack
# left to log), kernel messages held back until the rig's "# " prefixer
# has passed them on, so that none splits a line.
pk=$(cut -f1 /proc/sys/kernel/printk)
echo 1 >/proc/sys/kernel/printk
sed 's/^/@step /' $D/steps
sed 's/^/@plot /' $D/plot
sed 's/^/@mark /' $D/marks
sleep 3
echo "$pk" >/proc/sys/kernel/printk
tap_end
