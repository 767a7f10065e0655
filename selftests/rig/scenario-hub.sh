#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Host-side scenario for the rig self-test's bus run (vmrun.py --scenario):
# checks the environment vmrun.py gives a scenario and that it can drive the
# hub while the VMs run: all nodes connect, and "stats" answers.
set -u
: "${RIG_HUB_CTL:?}" "${RIG_HUBCTL:?}" "${RIG_LOGDIR:?}" "${RIG_NODES:?}"
[ "$RIG_NODES" = 3 ] || { echo "RIG_NODES=$RIG_NODES"; exit 1; }
i=0
while [ $i -lt 60 ]; do
	s=$("$RIG_HUBCTL" "$RIG_HUB_CTL" stats) || { echo "stats: $s"; exit 1; }
	case $s in
	*n0.conn=1*n1.conn=1*n2.conn=1*)
		echo "all nodes connected: $s"
		# Wait for the guests to show up in their console logs.
		grep -q '^# rig: start' "$RIG_LOGDIR/vm2.log" && exit 0 ;;
	esac
	sleep 0.5
	i=$((i + 1))
done
echo "nodes did not all connect and start: $s"
exit 1
