#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Rig self-test for multi-VM runs: three VMs on rs485-hub, every node runs
# this test (vmrun.py --nodes 3 --tests rig-bus).  Phases, each started by a
# barrier so all nodes listen before anyone sends:
#   bcast      node 0 sends a line; every node (node 0 = its own echo)
#              receives exactly that line
#   collide    nodes 0 and 1 send 4000 bytes each at once; every node sees
#              corrupted bytes and neither stream intact
#   partition  node 0 has the host partition node 2 off; node 0's line
#              reaches nodes 0 and 1 but not node 2, node 2's line stays
#              off the main bus
#   heal       node 0 has the host heal node 2; node 2's line reaches all
. /lib/rig.sh
fail() { echo "FAIL: node $RIG_NODE: $*"; exit 1; }
[ "$RIG_NNODES" = 3 ] || fail "needs exactly 3 nodes, have $RIG_NNODES"
me=$RIG_NODE
rx=$RIG_TMP/rx
SETTLE=1.5	# seconds for the hub (115200 baud) and the guests to deliver

# One reader for the whole test: the bus is never unread, and each phase
# looks at what arrived after its start offset.
: >"$rx"
cat "$RIG_BUS" >>"$rx" &
reader=$!
trap 'kill $reader 2>/dev/null' EXIT
sleep 0.2

# phase NAME: remember where this phase's bytes will start, then barrier.
# (Not the other way round: a fast sender's bytes may arrive before a slow
# node has looked at its file after the barrier.)
phase() {
	off=$(wc -c <"$rx")
	a=$(rig_sync "$1") || fail "sync $1: answer '$a'"
}
# got: bytes received since the phase started.
got() {
	sleep "$SETTLE"
	tail -c +$((off + 1)) "$rx"
}
# count CHAR FILE: how many bytes of FILE are CHAR.
count() {
	tr -cd "$1" <"$2" | wc -c
}

phase bcast
[ "$me" = 0 ] && echo "bcast-from-0" >"$RIG_BUS"
g=$(got)
[ "$g" = "bcast-from-0" ] || fail "bcast: got '$g'"
echo "bcast ok"

head -c 4000 /dev/zero | tr '\0' a >"$RIG_TMP/a"
head -c 4000 /dev/zero | tr '\0' b >"$RIG_TMP/b"
phase collide
[ "$me" = 0 ] && cat "$RIG_TMP/a" >"$RIG_BUS"
[ "$me" = 1 ] && cat "$RIG_TMP/b" >"$RIG_BUS"
got >"$RIG_TMP/collide"
na=$(count a "$RIG_TMP/collide")
nb=$(count b "$RIG_TMP/collide")
n=$(wc -c <"$RIG_TMP/collide")
echo "collide: $n bytes, $na a, $nb b, $((n - na - nb)) corrupted"
[ "$na" -lt 4000 ] && [ "$nb" -lt 4000 ] && [ $((n - na - nb)) -gt 0 ] ||
	fail "collide: no corruption (streams did not overlap?)"

if [ "$me" = 0 ]; then
	rig_hub partition 2 || fail "partition 2 refused"
fi
phase partition
[ "$me" = 0 ] && echo "part-from-0" >"$RIG_BUS"
[ "$me" = 2 ] && { sleep 0.5; echo "part-from-2" >"$RIG_BUS"; }
g=$(got)
echo "partition: got '$(echo "$g" | tr '\n' ' ')'"
case $me in
0 | 1) [ "$g" = "part-from-0" ] || fail "partition: got '$g'" ;;
2) case $g in *from-0*) fail "partitioned node heard node 0" ;; esac ;;
esac

if [ "$me" = 0 ]; then
	rig_hub heal 2 || fail "heal 2 refused"
fi
phase heal
[ "$me" = 2 ] && echo "heal-from-2" >"$RIG_BUS"
g=$(got)
[ "$g" = "heal-from-2" ] || fail "heal: got '$g'"
echo "heal ok"
[ "$me" = 0 ] && rig_hub stats
rig_sync end >/dev/null || fail "sync end"
exit 0
