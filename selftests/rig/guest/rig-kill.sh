#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Rig self-test for RIG-KILL (vmrun.py --nodes 3 --tests rig-kill): node 0
# powers nodes 1 and 2 off once all three reached a barrier.  Before it,
# node 1 printed a failed check and node 2 a passed one.  The rig must
# report node 1's test as failed (its checks up to the kill count) and
# node 2's as skipped (it could not finish).
. /lib/rig.sh
case $RIG_NODE in
0)
	rig_sync pulled >/dev/null || exit 1
	rig_kill 1 && rig_kill 2 || exit 1
	exit 0
	;;
1) echo "not ok 1 - a check that fails before the kill" ;;
2) echo "ok 1 - a check that passes before the kill" ;;
esac
rig_sync pulled >/dev/null
# Killed here; reaching the end would be a rig bug.
sleep 60
echo "not killed"
exit 1
