#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The main job: installs what is missing, builds rackpwr, boots Debian's
# kernel in QEMU with the modules and shows a simulated rack working
# (selftests/vm/demo_rack.sh).  Its console is printed as it runs.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
echo "== installing Debian packages if missing"
scripts/setup-deps.sh
scripts/ksrc.sh
echo "== building modules, agent and tests"
make -s modules agent >/dev/null
make -s -C selftests/vm >/dev/null
echo "== booting a VM with the simulated rack"
/usr/bin/python3 scripts/rig/vmrun.py --test demo_rack --logdir build/vmlogs/demo \
	--timeout 300 >build/demo.tap || rc=$?
sed -n 's/^# \(# \)\{0,1\}//p' build/vmlogs/demo/vm0.log |
	grep -v '^rig:\|^qemu-system\|^\[' || true
cat build/demo.tap | tail -n 3
exit "${rc:-0}"
