#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Primary election on the simulated bus: simultaneous start of 2, 6 and 60
# modules gives exactly one acting primary that every module follows; a
# late joiner stays secondary; the primary's removal is taken over and
# chassis modules follow; a frozen primary stops acting (fenced) and one
# primary remains after the thaw; a partition heals to one primary;
# step-down hands over; a duplicate address is reported (event + log).
# Takeover times are printed as "# measured ..." lines.
#
# The 60-module rack is 30 psu + 30 chassis: ten assemblies of three
# power-supply and three chassis modules.  Only psu modules ask, claim and
# acknowledge, so this is the harder mix for the election than 20 + 40.
# rack_modules is set to the number of modules on the bus before each one
# is configured: the election derives its worst-case access delay from it.
. /lib/rackpwr/tap.sh
. /lib/rackpwr/elect.sh

# A TCG guest on a shared host runs its hrtimers late by several ms: the
# defaults must cope (the election raises its tolerance from the lateness
# it measures, rackpwr-election.rst "Measured lateness").
modprobe rackpwr && modprobe rackpwr_sim || { nok "load modules"; tap_end; exit 1; }
P=/sys/module/rackpwr/parameters
D=/sys/kernel/debug/rackpwr_sim

# bound_ms BUS NPSU: rpw_elect_converge_bound() of the bus's first psu node,
# from the timers it reports (rackpwr-election.rst, "Convergence bound").
bound_ms() {
	rackpwrctl node list | awk -v bus="bus=$1" -v n="$2" \
		'$0 ~ bus" " && / role=psu/ {
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		tol = v["elect_tol_us"]; hb = v["hb_us"]; d = v["bus_delay_us"] + 1600
		m = v["detect_us"]; if (m < 500000) m = 500000
		if (m < 8 * hb) m = 8 * hb; if (m < 2 * n * hb) m = 2 * n * hb
		g = d + d / 200 + tol
		b = v["initial_us"] + 4 * (hb + d + tol) + v["detect_us"] +
		    n * v["takeover_slot_us"] + 2 * m + v["lease_us"] + 2 * g
		printf "%d\n", b / 1000; exit }'
}

# start BUS NPSU NCHASSIS [OPTION...]: create all modules back to back.
# Every module sweeps the bus's addresses (max-addr, saved per bus for later
# joiners): modules with different sweeps take the same slot after a
# collision.
start() {
	echo $(($2 + $3 + 1)) >$P/rack_modules
	ma=$((100 + $3))
	[ "$3" -gt 0 ] || ma=$2
	eval "maxaddr_$1=$ma"
	bus=$1 npsu=$2 nch=$3
	shift 3
	set -- "$bus" "$npsu" "$nch" --max-addr "$ma" "$@"
	pids=
	i=1
	while [ $i -le "$2" ]; do
		rackpwrctl node new --bus "$1" --addr $i --role psu \
			"$4" "$5" $6 $7 >/dev/null &
		pids="$pids $!"
		i=$((i + 1))
	done
	i=1
	while [ $i -le "$3" ]; do
		rackpwrctl node new --bus "$1" --addr $((100 + i)) --role chassis \
			"$4" "$5" $6 $7 >/dev/null &
		pids="$pids $!"
		i=$((i + 1))
	done
	# Not a bare "wait": the event monitor runs in the background too.
	wait $pids
}

# pause_ms BUS: how long the primary may stop acting and keep the role:
# the fence after a rival's claim or a lease renewed late (a starved
# guest) ends within one detection time plus one lease
# (rackpwr-election.rst, "Lease and fencing").
pause_ms() {
	rackpwrctl node list | awk -v bus="bus=$1" '$0 ~ bus" " &&
		/state=primary/ {
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		printf "%d\n", (v["detect_us"] + v["lease_us"]) / 1000; exit }'
}

# stable BUS WHAT: for 2 s (ten samples) the node in state primary keeps
# the role: it is the only one, every module follows it, no other node
# acts, and whenever it does not act it acts again within pause_ms.  The
# role is what the election keeps; acting may pause (rackpwr-election.rst,
# "Simultaneous start" and "Lease and fencing").  A sample that finds no
# node in state primary, another one, a module following another, or
# another node acting is bad.
stable() {
	first=$(nodes "$1" | awk '$4 == "primary" { n++; a = $2 }
		END { if (n == 1) print a }')
	lim=$(pause_ms "$1")
	bad=0
	paused=0
	i=0
	while [ $i -lt 10 ]; do
		l=$(nodes "$1")
		p=$(echo "$l" | awk '$4 == "primary" { n++; a = $2 }
			END { if (n == 1) print a }')
		a=$(echo "$l" | awk '$6 == 1 { n++; a = $2 }
			END { print (n > 1 ? "many" : a) }')
		if [ -z "$first" ] || [ "$p" != "$first" ] ||
		   [ "$(echo "$l" | awk -v p="$first" '$5 != p' | wc -l)" != 0 ] ||
		   { [ -n "$a" ] && [ "$a" != "$first" ]; }; then
			bad=$((bad + 1))
		elif [ -z "$a" ]; then
			paused=$((paused + 1))
			wait_one "$1" "${lim:-0}" "$(now_ms)" "" 20000 >/dev/null &&
				[ "$(acting_addr "$1")" = "$first" ] ||
				bad=$((bad + 1))
		fi
		usleep 200000
		i=$((i + 1))
	done
	check "$2: addr '$first' keeps the role, all follow it, no pause over ${lim:-?} ms (bad samples)" 0 "$bad"
	echo "# $2: addr $first not acting in $paused of 10 samples"
}

# primary_id BUS: id of the acting primary, waiting for one if needed
primary_id() {
	wait_one "$1" 10000 "$(now_ms)" >/dev/null
	acting_id "$1"
}

delbus() { for id in $(nodes "$1" | awk '{ print $1 }'); do rackpwrctl node del "$id"; done; }

# busload BUS MS: line time used (busy character slots) in the last MS ms
busload() {
	awk -v ms="$2" '/^busy_slots/ { b = $2 } /^collisions/ { c = $2 }
	     END { printf "%d bytes = %d ms of line time in %d ms (%d%%), %d collisions\n",
		   b, b * 0.0868, ms, ms ? 8.68 * b / ms : 0, c }' $D/bus$1/stats
}
# frames BUS: frames sent intact by the bus's nodes, total and the most
# by one node (MAC counters)
frames() {
	ids=" $(nodes "$1" | awk '{ printf "%s ", $1 }')"
	rackpwrctl stats | awk -v ids="$ids" '{
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		if (index(ids, " " v["id"] " ")) { t += v["tx_frames"]
			if (v["tx_frames"] > m) m = v["tx_frames"] } }
		END { printf "%d (max %d by one node)\n", t, m }'
}
rackpwrctl monitor >events.out 2>&1 &
monpid=$!

# The 60-module rack goes first and alone: its load on the one TCG vCPU
# delays the other buses' frames.
for round in "2 30 30" "0 2 1" "1 6 4"; do
	set -- $round
	t0=$(now_ms)
	start "$@"
	b=$(bound_ms "$1" "$2")
	# The wait is capped well below the bound to keep the test short.
	cap=$((b < 40000 ? b : 40000))
	if ms=$(wait_one "$1" "$cap" "$t0"); then
		ok "$2 psu + $3 chassis: one acting primary (addr $(acting_addr "$1")), everyone follows ($ms ms, bound $b ms)"
		echo "# measured power-up $2 psu + $3 chassis: $ms ms (from the first node-new, creation included)"
	else
		nok "$2 psu + $3 chassis: one acting primary, everyone follows (bound $b ms, waited $cap)"
		nodes "$1" | sed 's/^/# /'
	fi
	check "$2 psu: exactly one node in state primary" 1 \
		"$(nodes "$1" | awk '$4 == "primary"' | wc -l)"
	stable "$1" "$2 psu + $3 chassis"
	echo "# bus$1 power-up load: $(busload "$1" $(($(now_ms) - t0)))"
	echo "# bus$1 power-up frames sent: $(frames "$1")"
	if [ "$1" = 2 ]; then
		echo "# bus2 node timers: $(rackpwrctl node list | awk '/bus=2 / && / role=psu/ {
			for (i = 1; i <= NF; i++) if ($i ~ /_us=/) printf "%s ", $i; exit }')"
	fi
	[ "$1" = 1 ] || delbus "$1"
done
# Truly simultaneous start: the line stands still while 6 psu and 2
# chassis modules start, so every psu asks, hears nothing and claims; when
# the line moves, the claims meet and the highest address must win.
echo 1 > /sys/kernel/debug/rackpwr_sim/bus3/hold
start 3 6 2
sleep 1
echo 0 > /sys/kernel/debug/rackpwr_sim/bus3/hold
t0=$(now_ms)
if ms=$(wait_one 3 20000 "$t0"); then
	ok "simultaneous start of 6 psu: one acting primary after release ($ms ms)"
else
	nok "simultaneous start of 6 psu: one acting primary"
	nodes 3 | sed 's/^/# /'
fi
# What the held line promises is one primary, in one ballot for the whole
# rack, that keeps the role.  Not that it is the highest address: the
# first claim on the line after the release is whichever module's frame
# the release found ready, and a higher claim that reaches the line only
# after the rack acknowledged that one yields to it (rackpwr-election.rst,
# "Simultaneous start"; make -C selftests/sim start counts both).
w=$(acting_addr 3)
check "simultaneous start: every module holds the winner's epoch" 1 \
	"$(nodes 3 | awk '{ print $7 }' | sort -u | wc -l)"
echo "# measured held-line start: addr ${w:-none} won, epoch $(nodes 3 |
	awk -v a="$w" '$2 == a { printf "%d.%d", $7 / 256, $7 % 256 }') (the highest address is 6)"
stable 3 "simultaneous start"
delbus 3

echo 12 >$P/rack_modules

# Late joiner on bus 1 stays secondary.
p=$(acting_addr 1)
id=$(field id "$(rackpwrctl node new --bus 1 --addr 50 --role psu \
	--max-addr "$maxaddr_1")")
sleep 2
check "late joiner (addr 50) stays secondary" "secondary" \
	"$(nodes 1 | awk '$2 == 50 { print $4 }')"
check "late joiner follows the primary" "$p" "$(nodes 1 | awk '$2 == 50 { print $5 }')"
check "primary unchanged by the late joiner" "$p" "$(acting_addr 1)"

# Primary removed: takeover, every node (chassis included) follows.
pid=$(primary_id 1)
t0=$(now_ms)
rackpwrctl node del "$pid"
if ms=$(wait_one 1 10000 "$t0"); then
	ok "primary removed: takeover, all follow ($ms ms)"
	echo "# measured failover (node removed -> all follow the new acting primary): $ms ms"
else nok "primary removed: takeover"; nodes 1 | sed 's/^/# /'; fi
stable 1 "after the takeover"

# Frozen primary: it stops acting within its lease (fenced), the others
# take over, and after the thaw there is one primary.
pid=$(primary_id 1)
paddr=$(acting_addr 1)
lease=$(rackpwrctl node list | awk -v id="id=$pid" '$1 == id {
	for (i = 1; i <= NF; i++) if ($i ~ /^lease_us=/) { sub(/.*=/, "", $i); print $i } }')
t0=$(now_ms)
echo 1 >$D/bus1/sim1.$pid/frozen
if ms=$(wait_one 1 10000 "$t0" "$pid"); then
	ok "frozen primary (addr $paddr): addr $(acting_addr 1) took over ($ms ms)"
	echo "# measured takeover from a frozen primary: $ms ms"
else nok "frozen primary: takeover"; nodes 1 | sed 's/^/# /'; fi
el=$(($(now_ms) - t0))
[ "$el" -lt $((lease / 1000 + 100)) ] && usleep $(((lease / 1000 + 100 - el) * 1000))
check "frozen primary is fenced (not acting) while frozen" 0 \
	"$(nodes 1 | awk -v id="$pid" '$1 == id { print $6 }')"
echo 0 >$D/bus1/sim1.$pid/frozen
t0=$(now_ms)
if ms=$(wait_one 1 10000 "$t0"); then ok "frozen primary: one primary after thaw ($ms ms)"
else nok "frozen primary: one primary after thaw"; nodes 1 | sed 's/^/# /'; fi
check "thawed old primary is not acting" 0 \
	"$(nodes 1 | awk -v id="$pid" '$1 == id { print $6 }')"
check "exactly one node in state primary after thaw" 1 \
	"$(nodes 1 | awk '$4 == "primary"' | wc -l)"

# Partition the primary away (the rest elects), heal: one primary.
pid=$(primary_id 1)
t0=$(now_ms)
echo 1 >$D/bus1/sim1.$pid/partition
if ms=$(wait_one 1 10000 "$t0" "$pid"); then
	ok "partition: the connected side elected a primary ($ms ms)"
	echo "# measured takeover from a partitioned primary: $ms ms"
else nok "partition: the connected side elects"; nodes 1 | sed 's/^/# /'; fi
sleep 1
echo 0 >$D/bus1/sim1.$pid/partition
t0=$(now_ms)
if ms=$(wait_one 1 10000 "$t0"); then ok "partition healed: one primary ($ms ms)"
	echo "# measured partition heal -> one primary: $ms ms"
else nok "partition healed"; nodes 1 | sed 's/^/# /'; fi

# Graceful step-down.
pid=$(primary_id 1)
t0=$(now_ms)
rackpwrctl step-down "$pid" && ok "step-down accepted" || nok "step-down accepted"
if ms=$(wait_one 1 10000 "$t0"); then ok "after step-down: one primary ($ms ms)"
	echo "# measured step-down hand-over: $ms ms"
else nok "after step-down"; nodes 1 | sed 's/^/# /'; fi
check "step-down moved the role" 0 \
	"$(nodes 1 | awk -v id="$pid" '$1 == id { print $6 }')"
expect_fail "step-down of a secondary is refused" "not the primary" \
	rackpwrctl step-down "$pid"

# Duplicate address: a second module with the address of a secondary.
dup=$(nodes 1 | awk '$3 == "psu" && $6 == 0 { print $2; exit }')
rackpwrctl monitor >mon.out 2>&1 &
mon=$!
sleep 1
t0=$(now_ms)
id=$(field id "$(rackpwrctl node new --bus 1 --addr "$dup" --role psu \
	--max-addr "$maxaddr_1")")
t=0
# The duplicate is heard intact when it asks (WHO_PRIMARY); named in a
# claim, both copies answer in the same slot and collide, and after two
# collisions each stays out of a sweep by its random nonce, so one of the
# two is heard.  Wait up to 10 s.
while [ $t -lt 100 ] && ! grep -q "event=dup-addr addr=$dup" mon.out; do
	usleep 100000
	t=$((t + 1))
done
kill "$mon"
if grep -q "event=dup-addr addr=$dup" mon.out; then
	ok "duplicate address $dup: event"
	echo "# duplicate address reported after $(( $(now_ms) - t0 )) ms (100 ms polls)"
else
	nok "duplicate address $dup: event"; sed 's/^/# /' mon.out | tail -5
fi
dmesg | grep -q "transmits with our address $dup\$" && ok "duplicate address $dup: log line" ||
	nok "duplicate address $dup: log line"
rackpwrctl node del "$id"
t0=$(now_ms)
if ms=$(wait_one 1 10000 "$t0"); then ok "duplicate removed: one primary ($ms ms)"
else nok "duplicate removed: one primary"; nodes 1 | sed 's/^/# /'; fi

delbus 1
kill "$monpid"
echo "# election events over the whole test: $(awk '/^elect/ { split($3, kv, "="); n[kv[2]]++ }
	END { for (k in n) printf "%s=%d ", k, n[k] }' events.out)"
rmmod rackpwr_sim && rmmod rackpwr && ok "modules unloaded" || nok "modules unloaded"
tap_end
