#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# rig-nodes: 4
# rig-clients: 1
#
# The rack across VMs (issue 13): the primary's VM killed in the middle of
# a power-on storm.  Four VMs on the rig's RS-485 hub, each attaching the
# line discipline to its real 8250 UART (/dev/ttyS1):
#   VM 0, 1  power-supply modules, addresses 1 and 2, each bound to its own
#            simulated assembly of six 4000 W supplies (bank A 0-2, bank B
#            3-5: 12 kW per rail) and running its own rackpwrd (mode n+n)
#   VM 2, 3  chassis modules, addresses 11 and 12, each with a simulated
#            chassis of eight servers (slot n needs 400 + 100 n W: 6 kW)
# The numbers make the end state exact: the 16 servers need 12 kW, the
# n+n budget is 24 kW with both assemblies and exactly 12 kW with the
# survivor's alone, so every request is granted, before and after the
# kill, and nothing is ever shed.
#
# Settle (one primary, followed by all, knowing both assemblies), then the
# storm: both chassis press all eight power buttons at once.  As soon as
# chassis 11 holds its first grant it has the host kill the acting
# primary's VM (RIG-KILL: SIGKILL to its QEMU, assembly and agent with
# it).  The surviving power-supply module takes over, rebuilds its table
# from the chassis' inventory and answers the rest.  Checked in the
# surviving VMs:
#   - every request answered exactly once: per slot one grant, never a
#     denial, the request id never changes; the chassis tell the survivor
#     (one data frame each) which slots the old and the new primary
#     granted, and the survivor's agent granted exactly the new ones;
#   - no server enabled without a grant: every slot event with the power
#     enable on is a held grant, and at the end every server's GRANT_ID
#     register holds the id the new primary's table has for it;
#   - granted watts never above the n+n budget, sampled on the survivor
#     from the kernel's dumps (budget: the weaker rail of the capacity
#     lines not lost), and rpw_invariants.py (the family through ynl,
#     nothing of the project's) watching the power-supply VMs: its check
#     on the survivor must find no violation.
# Measured (each VM's own clock): kill -> first grant after it, last grant
# before the kill -> first grant after it, and the takeover (acting ->
# table rebuilt, and the survivor's first grant after that).
. /lib/rig.sh
. /lib/rackpwr/tap.sh
. /lib/rackpwr/psu.sh
. /lib/rackpwr/elect.sh
. /lib/rackpwr/alloc.sh

die() { nok "$*"; tap_end; exit 1; }
[ "$RIG_NNODES" = 4 ] || die "needs 4 VMs (vmrun.py --nodes 4), have $RIG_NNODES"
me=$RIG_NODE
if [ "$me" -lt 2 ]; then
	role=psu; addr=$((me + 1))
else
	role=chassis; addr=$((9 + me))
fi
SUPPLY_MW=4000000
WAIT=30000		# ms: the longest any phase may take
SD=/tmp/rpd
CONF=/tmp/rackpwrd.conf
sync_or_die() { rig_sync "$1" >/dev/null || die "sync $1"; }

{ modprobe at24 && modprobe rackpwr_sim_pmbus && modprobe rackpwr_sim_server &&
  modprobe rackpwr elect_tol_us=50000 psu_poll_ms=250; } ||
	die "load modules"
if [ $role = psu ]; then
	asm_new 1 0x3f $SUPPLY_MW || die "assembly of six $SUPPLY_MW mW supplies"
else
	chassis_new 1 || die "chassis of eight servers"
fi
# The invariant watcher of the power-supply VMs: its Python start takes
# seconds under TCG, overlapping the settling.
INV=$PWD/inv.log
INVPY=/lib/rackpwr/py/rpw_invariants.py
if [ $role = psu ]; then
	python3 $INVPY watch --out "$INV" --period-ms 500 &
	INVW=$!
	renice -n 10 -p $INVW >/dev/null
fi
sync_or_die loaded

# Timers for TCG guests: the MAC's of link_uart (receive latency of a few
# ms, stalls between the chunks of one frame), slow heartbeats (four
# guests on two loaded cores stall for a second now and then; a false
# failover would end the scenario early).
rackpwrctl attach "$RIG_BUS" --addr "$addr" --role $role --slot-us 5000 \
	--ifs-us 20000 --turnaround-us 1000 --ack-timeout-us 60000 \
	--hb-us 200000 --miss 6 >attach.log 2>&1 &
ATT=$!
attached attach.log || die "attach $RIG_BUS ($(cat attach.log))"
ID=$(sed -n 's/^attached id=\([0-9]*\) .*/\1/p' attach.log)
ok "$role module $addr on $RIG_BUS (node $ID)"

# mon_start: the family's events with this VM's uptime in front (mon.log).
# A monitor that fails to start (now and then "No such file or directory"
# on a loaded guest) is started again; mon.pid names the one running.
monitor() {
	sh -c 'while :; do rackpwrctl monitor & echo $! >'"$1"'; wait $!
		[ $? -gt 128 ] && exit; usleep 100000; done'
}
mon_start() {
	monitor mon.pid 2>&1 |
		awk '{ getline u <"/proc/uptime"; close("/proc/uptime")
			split(u, t, " "); print t[1], $0; fflush() }' >mon.log &
}
mon_start
cleanup() {
	kill "$(cat mon.pid 2>/dev/null)" "$SAMP" "$AGENT" "$ATT" $INVW 2>/dev/null
	wait 2>/dev/null
}
trap cleanup EXIT

if [ $role = psu ]; then
	# Distinct priorities, the two chassis interleaved: 11/s 100 + 2s,
	# 12/s 101 + 2s.
	rm -rf $SD && mkdir -p $SD
	{
		echo "mode n+n"
		for s in 0 1 2 3 4 5 6 7; do
			echo "prio 11/$s $((100 + 2 * s))"
			echo "prio 12/$s $((101 + 2 * s))"
		done
	} >$CONF
	rackpwrd --node "$ID" --config $CONF --state-dir $SD \
		--metrics $SD/node.prom >agent.log 2>&1 &
	AGENT=$!
	check "agent bound" 1 "$(until_eq 1 $WAIT pwr "$ID" bound)"
else
	check "eight servers present, off" 8 \
		"$(until_eq 8 $WAIT sh -c "rackpwrctl slots $ID | grep -c 'state=off'")"
fi

# Settled: everyone follows a primary; the primary counts both
# assemblies (4 x 12 kW usable).
view() { rackpwrctl node show "$ID"; }
field_primary() { field primary "$(view)"; }
# following: the primary this module follows, once it is steady (the same
# in three looks 500 ms apart: two primaries of one term, after a
# simultaneous start, took up to 0.7 s to settle on the higher address; a
# primary's lease may lapse for a moment on a loaded host, which the
# allocation rides out)
following() {
	_p=
	for _i in 1 2 3; do
		_v=$(view)
		_q=$(field primary "$_v")
		case $(field state "$_v") in
		primary|secondary|follower) ;;
		*) return 1 ;;
		esac
		[ "${_q:-0}" != 0 ] && [ "$_q" != 255 ] || return 1
		[ -z "$_p" ] || [ "$_p" = "$_q" ] || return 1
		_p=$_q
		[ $_i = 3 ] || usleep 500000
	done
	echo "$_p"
}
# The primary seen steady is the one checked: after a simultaneous start
# both psu modules may claim term 1 and the chassis follow the lower
# address until the higher one's claim wins; asking once more after the
# first steady answer caught that switch and failed.
_t=$(now_ms)
P=
while ! P=$(following) && [ $(($(now_ms) - _t)) -lt $((2 * WAIT)) ]; do
	usleep 200000
done
check_ge "follows a primary" 1 "${P:-0}"
[ -n "$P" ] || echo "# $(view)"
if [ "$P" = "$addr" ]; then
	check "the primary counts both assemblies (mW)" 48000000 \
		"$(until_eq 48000000 $((2 * WAIT)) pwr "$ID" usable_mw)"
	# Its table out of recovery for 3 s at one epoch: three rounds of
	# inventory queries since, so the storm meets a settled ledger.
	_t=$(now_ms)
	while [ $(($(now_ms) - _t)) -lt $WAIT ]; do
		e0=$(pwr "$ID" epoch)
		[ "$(pwr "$ID" recovering)" = 0 ] && sleep 3 &&
			[ "$(pwr "$ID" epoch)" = "$e0" ] &&
			[ "$(pwr "$ID" recovering)" = 0 ] && break
		usleep 200000
	done
	check "the primary's table is settled" "$e0 0" \
		"$(pwr "$ID" epoch) $(pwr "$ID" recovering)"
fi
if [ $role = psu ]; then
	_t=0
	while ! grep -q '"k": "sample"' "$INV" 2>/dev/null && [ $_t -lt 600 ]; do
		usleep 100000; _t=$((_t + 1))
	done
	check "the invariant watcher samples" 1 "$(grep -c -m1 '"k": "sample"' "$INV")"
fi
sync_or_die settled
P=$(following) || P=$(following) || echo "# $(view)"
echo "# module $addr follows primary $P"
[ "$P" = 1 ] || [ "$P" = 2 ] || die "the primary is a power-supply module ($P)"
PVM=$((P - 1))			# its VM
S=$((3 - P))			# the survivor's address
sync_or_die storm

# ---- the storm, the kill -------------------------------------------------
if [ "$addr" = "$P" ]; then
	# The host powers this VM off in the middle of the storm.
	sleep 100
	nok "primary $P: still running 100 s after the storm began"
	tap_end
	exit 1
fi

# granted_ev: "time_s slot primary" per slot event that turns a slot granted
granted_ev() {
	awk '$2 == "slot" {
		for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		s = v["slot"]
		if (v["state"] == "granted" && prev[s] != "granted")
			print $1, s, v["primary"]
		prev[s] = v["state"] }' mon.log
}
# mask SLOT...: the bit mask of the slots named; bits N: how many bits
mask() { _m=0; for _s; do _m=$((_m | (1 << _s))); done; echo $_m; }
bits() { _b=0; _m=$1; while [ "$_m" -gt 0 ]; do _b=$((_b + (_m & 1))); _m=$((_m >> 1)); done; echo $_b; }
ms_of() { awk -v t="$1" 'BEGIN { printf "%d\n", t * 1000 + 0.5 }'; }

if [ $role = chassis ]; then
	if [ "$addr" = 11 ]; then
		# The killer: at its first grant (the kernel multicasts the
		# slot's change), the primary's VM is pulled.
		monitor kmon.pid 2>kmon.err | {
			while read -r l; do
				case $l in
				"slot "*" state=granted "*)
					rig_kill "$PVM" >/dev/null && now_ms >kill.ms
					echo "$l" >kill.line
					break ;;
				esac
			done
		} &
		KILLER=$!
		usleep 300000	# it listens
	fi
	t_storm=$(now_ms)
	for s in 0 1 2 3 4 5 6 7; do echo 1 >"$SRVDBG/chassis1/server$s/button"; done
	if [ "$addr" = 11 ]; then
		wait $KILLER
		kill "$(cat kmon.pid)" 2>/dev/null
		t_kill=$(cat kill.ms 2>/dev/null)
		[ -n "$t_kill" ] || sed 's/^/# monitor: /' kmon.err
		echo "# killed at: $(cat kill.line 2>/dev/null)"
		n0=$(granted_ev | awk -v t="$t_kill" '$1 * 1000 <= t + 0' | wc -l)
		[ -n "$t_kill" ] &&
			ok "primary $P's VM killed $((t_kill - t_storm)) ms into the storm, $n0 of this chassis' grants in" ||
			nok "RIG-KILL $PVM"
	fi
	check "all eight granted" 8 \
		"$(until_eq 8 $WAIT sh -c "rackpwrctl slots $ID | grep -c 'state=granted'")"
	check "all eight powered" 8 "$(until_eq 8 5000 powered 1)"
	check "follows the survivor" "$S" "$(until_eq "$S" $WAIT field_primary)"
else
	# The survivor: samples the kernel's view every 200 ms until the
	# end (time, acting, granted and budget mW).
	budget() {
		rackpwrctl capacity "$ID" | awk '{
			for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
			if (v["lost"] == 0) { a += v["bank_a_mw"]; b += v["bank_b_mw"] } }
			END { print (a < b ? a : b) + 0 }'
	}
	(
		while :; do
			l=$(rackpwrctl power "$ID")
			echo "$(now_ms) $(field acting "$l") $(field granted_mw "$l") $(budget)"
			usleep 200000
		done
	) >samples.log 2>&1 &
	SAMP=$!
	check "takes over" 1 "$(until_eq 1 $WAIT pwr "$ID" acting)"
	check "its table rebuilt" 0 "$(until_eq 0 $WAIT pwr "$ID" recovering)"
	check "all 16 granted: 12 kW (mW)" 12000000 \
		"$(until_eq 12000000 $WAIT pwr "$ID" granted_mw)"
	check "the dead module's assembly counts no more (mW)" 24000000 \
		"$(until_eq 24000000 $WAIT pwr "$ID" usable_mw)"
	check "nothing pending" 0 "$(pwr "$ID" pending)"
	check "16 granted entries" 16 "$(rackpwrctl alloc "$ID" | grep -c 'state=granted')"
	kill $SAMP; wait $SAMP 2>/dev/null; SAMP=
	kill -TERM $INVW; wait $INVW 2>/dev/null; INVW=
	o=$(python3 $INVPY check "$INV" --mode n+n 2>&1)
	r=$?
	echo "$o" | sed 's/^/# inv: /'
	check "rpw_invariants.py check: no violation" 0 $r
	r=$(awk '$2 == 1 { n++; if ($3 > $4) { bad++; if (!w) w = $0 } }
		END { print n + 0, bad + 0, w }' samples.log)
	check_ge "budget samples while acting" 1 "${r%% *}"
	set -- $r
	check "granted never above the n+n budget" 0 "$2"
	[ "$2" = 0 ] || echo "# first violation (ms acting granted budget): $3 $4 $5 $6"
	# Every grant of this module's agent, by the numbers it logged
	# ("n+n: rails A and B B kW usable, G kW granted, request R kW",
	# G counting R): none above the budget.
	check "no grant of the agent above its budget" 0 "$(grep ': granted: ' agent.log |
		sed 's/.*: granted: n+n: rails A and B \([0-9.]*\) kW usable, \([0-9.]*\) kW granted.*/\1 \2/' |
		awk 'NF != 2 || $2 > $1 { n++ } END { print n + 0 }')"
fi
sync_or_die granted

# ---- exactly once, across VMs -------------------------------------------
if [ $role = chassis ]; then
	granted_ev | sed 's/^/# grant: /'
	check "one grant per slot, each slot once" "0 1 2 3 4 5 6 7" \
		"$(granted_ev | awk '{ print $2 }' | sort | tr '\n' ' ' | sed 's/ $//')"
	om=$(mask $(granted_ev | awk -v p="$P" '$3 == p { print $2 }'))
	nm=$(mask $(granted_ev | awk -v p="$S" '$3 == p { print $2 }'))
	check "every grant from the old or the new primary" 255 $((om + nm))
	check "no request denied" 0 "$(grep -c ' slot .*state=denied' mon.log)"
	# per slot: one request id from the first request on
	check "no request id changed" 0 "$(awk '$2 == "slot" {
		for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		if (v["req_id"] == 0) next
		if (id[v["slot"]] == "") id[v["slot"]] = v["req_id"]
		else if (id[v["slot"]] != v["req_id"]) n++ } END { print n + 0 }' mon.log)"
	check "no slot powered without a held grant" 0 "$(awk '$2 == "slot" &&
		/ enabled=1 / && !/ state=(granted|shedding) / { n++ } END { print n + 0 }' mon.log)"
	bad=0
	for s in 0 1 2 3 4 5 6 7; do
		l=$(rackpwrctl slots "$ID" "$s")
		[ "$(srv 1 "$s" grant_id)" = "$(field req_id "$l")" ] &&
		[ "$(field held_mw "$l")" = $(((400 + 100 * s) * 1000)) ] &&
		[ "$(srv 1 "$s" enable)" = 1 ] || { bad=$((bad + 1)); echo "# $l"; }
	done
	check "every server powered under its grant id, exact watts" 0 $bad
	t_last=$(granted_ev | awk -v p="$P" '$3 == p { t = $1 } END { print t }')
	t_first=$(granted_ev | awk -v p="$S" '$3 == p { print $1; exit }')
	echo "# chassis $addr: old primary granted mask $om, new primary mask $nm"
	[ -n "$t_last" ] && [ -n "$t_first" ] &&
		echo "# measured at chassis $addr: last grant before the kill -> first grant after: $(($(ms_of "$t_first") - $(ms_of "$t_last"))) ms"
	[ -n "$t_kill" ] && [ -n "$t_first" ] &&
		echo "# measured at chassis $addr: kill -> first grant after: $(($(ms_of "$t_first") - t_kill)) ms"
	# Tell the survivor: payload = address, old mask, new mask, then each
	# slot's request id (u32, big-endian hex).
	pl=$(printf '%02x%02x%02x' "$addr" "$om" "$nm")
	for s in 0 1 2 3 4 5 6 7; do
		pl=$pl$(printf '%08x' "$(field req_id "$(rackpwrctl slots "$ID" "$s")")")
	done
	send_ok=0
	for i in 1 2 3; do
		rackpwrctl send "$ID" "$S" --ack --hex "$pl" >/dev/null 2>&1 &&
			{ send_ok=1; break; }
	done
	check "masks sent to the survivor" 1 $send_ok
else
	# masks_from CHASSIS: "old new id0 .. id7" (hex) from that chassis'
	# frame
	masks_from() {
		awk -v c="$(printf %02x "$1")" '$2 == "frame" {
			for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
			p = v["payload"]
			if (substr(p, 1, 2) != c || length(p) != 70) next
			printf "%s %s", substr(p, 3, 2), substr(p, 5, 2)
			for (i = 0; i < 8; i++) printf " %s", substr(p, 7 + 8 * i, 8)
			print ""; exit }' mon.log
	}
	EPOCH=$(pwr "$ID" epoch)
	# ledger_ids CHASSIS: the request ids of its slots 0..7 that this
	# module's table holds granted at its epoch (0: none)
	ledger_ids() {
		rackpwrctl alloc "$ID" | awk -v c="$1" -v e="$EPOCH" '{
			for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
			if (v["chassis"] == c && v["epoch"] == e && v["state"] == "granted")
				id[v["slot"]] = v["req_id"] }
			END { for (s = 0; s < 8; s++) printf "%s%s", s ? " " : "", id[s] == "" ? 0 : id[s]
				print "" }'
	}
	hex() { printf '%d' "0x$1"; }
	# agent_slots CHASSIS: slots this module's agent granted to it
	agent_slots() {
		sed -n "s/.*chassis $1 slot \([0-9]\) req [0-9]*: granted.*/\1/p" agent.log
	}
	total_new=0
	for c in 11 12; do
		_t=$(now_ms)
		while [ -z "$(masks_from $c)" ] && [ $(($(now_ms) - _t)) -lt $WAIT ]; do
			usleep 100000
		done
		set -- $(masks_from $c)
		[ $# = 10 ] || { nok "chassis $c's masks arrived"; continue; }
		o=$(hex "$1"); nw=$(hex "$2")
		shift 2
		ids=
		for h; do ids="$ids${ids:+ }$(hex "$h")"; done
		check "chassis $c: every slot's grant in this module's table, at its epoch, same id" \
			"$ids" "$(ledger_ids $c)"
		echo "# chassis $c: granted by the old primary $o, by this one $nw"
		check "chassis $c: this module's agent granted exactly the new ones" \
			"$nw" "$(mask $(agent_slots $c))"
		check "chassis $c: and each once" "$(bits "$nw")" "$(agent_slots $c | wc -l)"
		total_new=$((total_new + $(bits "$nw")))
	done
	check_ge "the kill landed mid-storm: requests left for the survivor" 1 $total_new
	# Takeover, from this VM's events: becoming acting primary (the elect
	# event naming this module primary), the table rebuilt, first grant.
	t_prim=$(awk '$2 == "elect" && / event=promoted / { t = $1 } END { print t }' mon.log)
	t_lost=$(awk -v p="$t_prim" '$2 == "elect" && / event=primary-lost / && $1 <= p + 0 { t = $1 }
		END { print t }' mon.log)
	t_rec=$(awk '$2 == "alloc" && / event=recovered/ { t = $1 } END { print t }' mon.log)
	# the agent stamps its lines with the monotonic clock, as /proc/uptime
	t_g=$(sed -n 's/^\[ *\([0-9.]*\)\] chassis [0-9]* slot [0-9] req [0-9]*: granted.*/\1/p' agent.log |
		awk -v p="$t_prim" '$1 >= p + 0 { print; exit }')
	[ -n "$t_lost" ] && [ -n "$t_prim" ] &&
		echo "# measured at psu $addr: primary lost -> promoted: $(($(ms_of "$t_prim") - $(ms_of "$t_lost"))) ms"
	[ -n "$t_prim" ] && [ -n "$t_rec" ] &&
		echo "# measured at psu $addr: promoted -> recovery over: $(($(ms_of "$t_rec") - $(ms_of "$t_prim"))) ms"
	[ -n "$t_prim" ] && [ -n "$t_g" ] &&
		echo "# measured at psu $addr: takeover with rebuild (promoted -> its first grant): $(($(ms_of "$t_g") - $(ms_of "$t_prim"))) ms"
fi
# What happened, for the log.
kill -0 "$(cat mon.pid)" 2>/dev/null ||
	nok "the event monitor ran throughout ($(wc -l <mon.log) lines: $(grep -v '^[0-9.]* [a-z-]* node=' mon.log | head -n 3))"
if [ $role = psu ]; then
	sed 's/^/# agent: /' agent.log | tail -n 40
	grep -E ' (elect|alloc event=(recovery|recovered|no-policy-deny|invariant)) ' mon.log |
		sed 's/^/# ev: /' | tail -n 30
else
	grep -E ' (slot|elect) ' mon.log | sed 's/^/# ev: /' | tail -n 60
fi
sync_or_die done
cleanup
trap - EXIT
tap_end
