#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Self-tests of the QEMU test rig (scripts/rig/vmrun.py and friends): the
# rig must pass what passes and fail everything else.  Four runs:
#   clean   rig-pass (shell) + rig_harness (C)        -> exit 0
#   faults  rig-fail, rig-hang (guest timeout), rig-warn (WARN_ON module),
#           rig-pass, rig-wedge (guest stops reacting) -> exit 1, each
#           reported as expected, within the timeouts
#   nohang  boot never reaches the tests (rdinit=/bin/cat) -> boot TIMEOUT
#   bus     3 VMs on rs485-hub running rig-bus, and a host-side
#           scenario script talking to the hub           -> exit 0
#   kill    3 VMs running rig-kill: node 0 kills node 1 (after a failed
#           check: not ok) and node 2 (checks passed: SKIP) -> exit 1
#   host    (no VM) the splats of sleeping in atomic context fail a run
# faults and nohang run at the same time (both mostly wait).
# Prints TAP; exits non-zero if any expectation is not met.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP" || exit 2
PY=/usr/bin/python3
OUT=build/rig-selftest
INITRD=build/rig/initramfs.cpio.gz
rm -rf "$OUT"
mkdir -p "$OUT"

echo "TAP version 13"
make -s -C selftests/rig >"$OUT/build.log" 2>&1 &&
	make -s -C scripts/rig >>"$OUT/build.log" 2>&1 &&
	sh scripts/rig/mkinitramfs.sh "$INITRD" >>"$OUT/build.log" 2>&1 || {
	sed 's/^/# /' "$OUT/build.log"
	echo "Bail out! rig self-test build failed"
	exit 1
}

# vmrun NAME ARGS...: run the rig, keep its TAP in $OUT/NAME.out, its exit
# status in $OUT/NAME.rc and its wall time (whole seconds) in $OUT/NAME.sec.
vmrun() {
	name=$1
	shift
	t0=$(date +%s)
	$PY scripts/rig/vmrun.py --initrd "$INITRD" --logdir "$OUT/$name" \
		"$@" >"$OUT/$name.out" 2>&1
	echo $? >"$OUT/$name.rc"
	echo $(($(date +%s) - t0)) >"$OUT/$name.sec"
}

n=0
failed=0
# expect RUN DESCRIPTION TEST-COMMAND...
expect() {
	run=$1 desc=$2
	shift 2
	n=$((n + 1))
	if "$@"; then
		echo "ok $n $run: $desc"
	else
		echo "not ok $n $run: $desc"
		sed 's/^/# /' "$OUT/$run.out"
		failed=$((failed + 1))
	fi
}
has() { grep -Eq -- "$2" "$OUT/$1.out"; }
rc_is() { [ "$(cat "$OUT/$1.rc")" = "$2" ]; }
took_at_most() { [ "$(cat "$OUT/$1.sec")" -le "$2" ]; }

# The splats a sleeping call in atomic context prints (issue 10), on a
# kernel without DEBUG_ATOMIC_SLEEP too, fail a run: checked on the host.
splats_caught() {
	$PY - <<'PYEOF'
import sys
sys.path.insert(0, "scripts/rig")
import vmrun
lines = [
    "BUG: scheduling while atomic: kworker/u2:1/37/0x00000201",
    "BUG: workqueue leaked lock or atomic: kworker/u2:1/0x00000201/37",
    "scheduling while atomic: kworker/u2:1/37/0x00000201",
    "watchdog: BUG: soft lockup - CPU#0 stuck for 26s! [kworker/u2:1:37]",
    "BUG: sleeping function called from invalid context at kernel/locking/mutex.c:580",
]
sys.exit(0 if all(vmrun.SPLATS.search(l) for l in lines) else 1)
PYEOF
}
n=$((n + 1))
if splats_caught; then
	echo "ok $n host: sleeping-in-atomic splats fail a run"
else
	echo "not ok $n host: sleeping-in-atomic splats fail a run"
	failed=$((failed + 1))
fi

vmrun clean --tests rig-pass,rig_harness --timeout 30
expect clean "exit status 0" rc_is clean 0
expect clean "shell test passes" has clean '^ok 1 rig-pass # time=[0-9.]+s$'
expect clean "C harness test passes" has clean '^ok 2 rig_harness # time='
expect clean "kernel log clean" has clean '^ok 3 kernel-log-clean$'
expect clean "summary" has clean '^vm: 3 passed, 0 failed$'

vmrun faults --tests rig-fail,rig-hang,rig-warn,rig-pass,rig-wedge \
	--timeout 3 --boot-timeout 30 &
vmrun nohang --tests rig-pass --append rdinit=/bin/cat --boot-timeout 10
wait
expect faults "exit status 1" rc_is faults 1
expect faults "failing test reported with its status" \
	has faults '^not ok 1 rig-fail # exit=3 '
expect faults "hung test killed by the guest within its 3 s" \
	has faults '^not ok 2 rig-hang # TIMEOUT after 3s time=3\.[0-9]+s$'
expect faults "test that loads rig_warn.ko itself passes" \
	has faults '^ok 3 rig-warn # '
expect faults "the WARNING is printed" \
	has faults '^# SPLAT: WARNING: .*rig_warn'
expect faults "tests after a timeout still run (no leftovers)" \
	has faults '^ok 4 rig-pass # '
expect faults "wedged guest killed by the host" \
	has faults '^not ok 5 rig-wedge # TIMEOUT \(host\) '
expect faults "kernel log splat fails the run" \
	has faults '^not ok 6 kernel-log-clean # 1 splat'
expect faults "summary" has faults '^vm: 2 passed, 4 failed$'
expect faults "wedge detected within timeout + host grace (3 + 8 s)" \
	has faults 'TIMEOUT \(host\) test rig-wedge ran 1[12]s without'
expect faults "whole run bounded" took_at_most faults 60
expect nohang "exit status 1" rc_is nohang 1
expect nohang "boot that never reaches the tests times out" \
	has nohang '^not ok 1 boot # TIMEOUT \(host\) no progress within 10s$'
expect nohang "planned test reported as not run" \
	has nohang '^not ok 2 rig-pass # not run: '
expect nohang "killed within the boot timeout" took_at_most nohang 14

vmrun bus --nodes 3 --tests rig-bus --timeout 60 \
	--scenario selftests/rig/scenario-hub.sh
expect bus "exit status 0" rc_is bus 0
for i in 0 1 2; do
	expect bus "node $i: broadcast, echo, collision, partition, heal" \
		has bus "^ok [0-9]+ vm$i: rig-bus # time="
done
expect bus "hub saw collisions" has bus '^# hub: ok .* collisions=[1-9]'
expect bus "host-side scenario drove the hub" \
	has bus '^ok 7 scenario selftests/rig/scenario-hub.sh$'
expect bus "summary" has bus '^vm: 7 passed, 0 failed$'

vmrun kill --nodes 3 --tests rig-kill --timeout 60
expect kill "exit status 1" rc_is kill 1
expect kill "the killing node's test passes" has kill '^ok [0-9]+ vm0: rig-kill # time='
expect kill "a failed check before the kill fails the killed VM's test" \
	has kill '^not ok [0-9]+ vm1: rig-kill # VM killed on request after 1 failed check\(s\)$'
expect kill "the failed check is named" \
	has kill '^#   vm1: not ok 1 - a check that fails before the kill$'
expect kill "a killed VM whose checks passed is skipped" \
	has kill '^ok [0-9]+ vm2: rig-kill # SKIP VM killed on request$'
expect kill "summary" has kill '^vm: 5 passed, 1 failed$'

echo "1..$n"
for r in clean faults nohang bus kill; do
	echo "# $r: $(cat "$OUT/$r.sec")s, exit $(cat "$OUT/$r.rc")"
done
echo "rig: $((n - failed)) passed, $failed failed"
[ $failed = 0 ]
