#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# rig-nodes: 3
#
# Primary election over real UARTs and the RS-485 hub: VMs 0 and 1 attach
# /dev/ttyS1 as psu modules (addresses 10 and 11), VM 2 as a chassis module
# (12).  Once one primary acts and everyone follows it, the primary's VM
# is killed by the host (RIG-KILL: its QEMU gets SIGKILL, like a module
# pulled from the rack).  The other psu must take over and the chassis
# must follow it.
#
#   scripts/rig/vmrun.py --nodes 3 --tests elect_multi
. /lib/rig.sh
. /lib/rackpwr/tap.sh

[ "$RIG_NNODES" = 3 ] || { nok "needs 3 VMs, have $RIG_NNODES"; tap_end; exit 1; }
me=$RIG_NODE
addr=$((10 + me))
role=psu
[ "$me" = 2 ] && role=chassis
WAIT_MS=20000

now_ms() { read -r up _ </proc/uptime; echo $((${up%.*} * 1000 + 1${up#*.}0 - 1000)); }
# view: "state primary acting" of our node
view() {
	rackpwrctl node list | awk -v a="addr=$addr" '$0 ~ a" " {
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		print v["state"], v["primary"], v["acting"]; exit }'
}
# wait_for AWK-CONDITION-ON-VIEW: poll until true; prints ms waited
wait_for() {
	t0=$(now_ms)
	while :; do
		v=$(view)
		[ -n "$v" ] && echo "$v" | awk "{ exit !($1) }" &&
			{ echo $(($(now_ms) - t0)); return 0; }
		[ $(($(now_ms) - t0)) -gt $WAIT_MS ] && { echo never; return 1; }
		usleep 50000
	done
}

modprobe rackpwr elect_tol_us=20000 || { nok "load rackpwr"; tap_end; exit 1; }
rig_sync loaded >/dev/null || { nok "sync loaded"; tap_end; exit 1; }
rackpwrctl attach "$RIG_BUS" --addr "$addr" --role "$role" >attach.log 2>&1 &
att=$!
cleanup() { kill "$att" 2>/dev/null; wait "$att" 2>/dev/null; }
trap cleanup EXIT

# Power-up: every node knows a primary and exactly one psu acts.
if ms=$(wait_for '$2 != 0 && ($1 == "primary" ? $3 == 1 : 1)'); then
	ok "node $me ($role $addr): follows primary $(view | cut -d' ' -f2) ($ms ms)"
else
	nok "node $me ($role $addr): no primary ($(view))"
fi
rig_sync elected >/dev/null || nok "sync elected"
set -- $(view)
old=$2
if [ "$old" = "$addr" ]; then
	check "the primary acts" 1 "$3"
else
	check "secondary or follower is not acting" 0 "$3"
fi

# All nodes have looked; now the primary dies.
rig_sync kill >/dev/null || nok "sync kill"
if [ "$old" = "$addr" ]; then
	# Nothing after this runs: the host powers this VM off.
	rig_kill "$me" >/dev/null
	sleep 60
	nok "primary $addr: still running after RIG-KILL"
else
	new=$((old == 10 ? 11 : 10))
	if [ "$role" = psu ]; then
		ms=$(wait_for "\$3 == 1 && \$2 == $addr") &&
			ok "psu $addr took over from $old ($ms ms)" ||
			nok "psu $addr took over from $old ($(view))"
	else
		ms=$(wait_for "\$2 == $new") &&
			ok "chassis follows the new primary $new ($ms ms)" ||
			nok "chassis follows the new primary $new ($(view))"
	fi
	[ "$ms" != never ] &&
		echo "# measured failover at $role $addr (primary VM killed -> $role sees new primary): $ms ms"
fi
rig_sync done >/dev/null || nok "sync done"
cleanup
trap - EXIT
tap_end
