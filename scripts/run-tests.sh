#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Every rackpwr test, from a fresh clone: installs what is missing
# (Debian packages), builds, then runs the quality gates, the host unit
# tests (ASan+UBSan), a bounded fuzz run, the simulators, the VM rig's
# self-tests and the VM tests (the transport and lifecycle ones also on the
# debug kernel, once scripts/debug-kernel.sh has built it).  Each step
# reports TAP; the last line is "N passed, N failed".  Logs: build/test-logs/.
#
#   scripts/run-tests.sh            everything
#   ONLY="unit vm" scripts/run-tests.sh
#   FUZZ_SECONDS=60 ELECT_SEEDS=100000 ALLOC_SEEDS=100000 ADVERSARY_SEEDS=100000 \
#	scripts/run-tests.sh
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 2
LOGS=build/test-logs
PY=/usr/bin/python3
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
ELECT_SEEDS=${ELECT_SEEDS:-10000}
ALLOC_SEEDS=${ALLOC_SEEDS:-10000}
ADVERSARY_SEEDS=${ADVERSARY_SEEDS:-10000}
ONLY=${ONLY:-}
passed=0
failed=0
start=$(date +%s)

say() { printf '%s\n' "== $*"; }

wanted() {
	[ -z "$ONLY" ] && return 0
	case " $ONLY " in *" $1 "*) return 0 ;; esac
	return 1
}

# count LOG: add the log's top-level TAP results to the totals.
count() {
	p=$(grep -c '^ok ' "$1")
	f=$(grep -c '^not ok ' "$1")
	passed=$((passed + p))
	failed=$((failed + f))
	# Failures, with the failed checks vmrun.py names under them.
	awk '/^not ok /{ print; f = 1; next } f && /^#   /{ print; next } { f = 0 }' \
		"$1" | sed 's/^/   /'
	echo "   $p passed, $f failed ($1)"
}

# step NAME CMD...: run CMD, log it, count its TAP lines; a failing CMD
# without any "not ok" line counts as one failure.
step() {
	name=$1
	shift
	wanted "$name" || return 0
	log=$LOGS/$name.log
	t0=$(date +%s)
	say "$name: $*"
	"$@" >"$log" 2>&1
	rc=$?
	if [ $rc -ne 0 ] && ! grep -q '^not ok ' "$log"; then
		echo "not ok - $name exited $rc" >>"$log"
		tail -n 20 "$log" | sed 's/^/   | /'
	elif [ $rc -eq 0 ] && ! grep -q '^ok ' "$log"; then
		echo "ok - $name" >>"$log"	# a runner without TAP (libFuzzer)
	fi
	count "$log"
	echo "   ($(($(date +%s) - t0)) s)"
}

# gate_run CMD...: a quality gate passes when CMD exits 0 and the compiler
# (file:line:col: warning/error) or sparse said nothing.
gate_run() {
	"$@" >"$LOGS/gate.out" 2>&1
	rc=$?
	cat "$LOGS/gate.out"
	if [ $rc -eq 0 ] &&
	   ! grep -qE '^[^ ]+:[0-9]+:[0-9]+: (warning|error):' "$LOGS/gate.out"; then
		echo "ok - $*"
	else
		echo "not ok - $*"
	fi
}

mkdir -p "$LOGS"
say "setup: Debian packages and kernel source pieces"
scripts/setup-deps.sh || { echo "0 passed, 1 failed"; exit 1; }
scripts/ksrc.sh || { echo "0 passed, 1 failed"; exit 1; }

build() {
	gate_run make modules W=1
	gate_run make agent
	gate_run make tests
	[ ! -f selftests/sim/Makefile ] || gate_run make -C selftests/sim
	gate_run make -C selftests/bench
}
step build build

quality() {
	gate_run make sparse
	gate_run make checkpatch
	gate_run make spec-check
	gate_run make layer-check
	[ ! -x scripts/doc-check.sh ] || scripts/doc-check.sh
	scripts/dt-check.sh
}
step quality quality

step unit make -C selftests/unit run
# make install into a staging tree; systemd-analyze verify of the units.
step install sh selftests/install/test_install.sh
step fuzz make -C selftests/fuzz run FUZZ_SECONDS="$FUZZ_SECONDS"
if [ -f selftests/sim/Makefile ]; then
	step election-sim make -C selftests/sim run SEEDS="$ELECT_SEEDS"
	step election-adversary make -C selftests/sim adversary \
		SEEDS="$ADVERSARY_SEEDS"
	step stack-sim make -C selftests/sim stack
	# Simultaneous and held-line starts (rackpwr-election.rst).
	step start-sim make -C selftests/sim start
	# Authentication off and on in the same racks (fails on any auth drop).
	step auth-sim make -C selftests/sim auth-cost
	step alloc-sim make -C selftests/sim alloc SEEDS="$ALLOC_SEEDS"
	# The seed's rack under the real policy: shed order, failover with
	# rebuild (the benches assert them), and broken policies caught.
	step rack-sim make -C selftests/sim bench-rack rack-mutants
fi
step hub make -C selftests/rig run-host
step rig-selftests sh selftests/rig/run-selftests.sh
# Guest tests: one VM for all plain tests.  A test with a "# rig-nodes: N"
# line runs on N VMs joined by the RS-485 hub, one with "# rig-bus-uarts: K"
# on a VM with K UARTs on the hub, one with "# rig-clients: 1" on the VM
# that carries the standard clients (vm-clients), or with "# rig-nodes: N"
# too, on N VMs that all carry them.
# vm_multi NAME LOGDIR CMD...: step NAME, for a test on several guests.  A
# guest whose TSC could not be calibrated (several TCG guests booting at
# once on a small host) keeps time at the wrong rate, and its results say
# nothing about rackpwr: such a failed run is repeated once, and says so.
vm_multi() {
	_n=$1 _d=$2
	shift 2
	_p=$passed _f=$failed
	step "$_n" "$@"
	if [ "$failed" -gt "$_f" ] &&
	   grep -q 'tsc: Unable to calibrate against PIT' "$_d"/vm*.log 2>/dev/null; then
		echo "   rerun: a guest's clock was not calibrated (tsc: Unable to calibrate against PIT)"
		passed=$_p
		failed=$_f
		step "$_n" "$@"
	fi
}

single=
clients=
for t in selftests/vm/*.sh selftests/vm/*.c; do
	[ -e "$t" ] || continue
	n=$(basename "${t%.*}")
	nodes=$(sed -n 's/^# rig-nodes: *\([0-9]*\).*/\1/p' "$t" | head -n1)
	uarts=$(sed -n 's/^# rig-bus-uarts: *\([0-9]*\).*/\1/p' "$t" | head -n1)
	cl=
	grep -q '^# rig-clients: *1' "$t" && cl=--clients
	if [ -n "$cl" ] && [ -z "$nodes$uarts" ]; then
		clients="$clients${clients:+,}$n"
	elif [ -n "$nodes$uarts" ]; then
		vm_multi "vm-$n" "build/vmlogs/$n" \
			$PY scripts/rig/vmrun.py --logdir "build/vmlogs/$n" \
			--nodes "${nodes:-1}" --bus-uarts "${uarts:-1}" $cl \
			--tests "$n" --timeout 240
	else
		single="$single${single:+,}$n"
	fi
done
step vm $PY scripts/rig/vmrun.py --logdir build/vmlogs/single --timeout 300 \
	--tests "$single"
# The tests that drive standard clients (ynl, pyroute2, genl, node_exporter)
# share one VM whose initramfs carries them.
[ -z "$clients" ] ||
	step vm-clients $PY scripts/rig/vmrun.py --clients \
		--logdir build/vmlogs/clients --timeout 300 --tests "$clients"
# The transport and lifecycle tests again on the debug kernel (lockdep,
# atomic-sleep checks, KASAN, kmemleak) when scripts/debug-kernel.sh has
# built and cached it; its build is too slow for every run.  Steps
# vm-debug and vm-debug-tty (ONLY="vm-debug vm-debug-tty").
if [ -f "${RPW_DEBUG_KERNEL_DIR:-build/debug-kernel}/.done" ]; then
	step vm-debug env RPW_KERNEL=debug $PY scripts/rig/vmrun.py \
		--logdir build/vmlogs/debug --timeout 900 \
		--tests ldisc_pty,node_leak,link_basic,psu_hotswap
	step vm-debug-tty env RPW_KERNEL=debug $PY scripts/rig/vmrun.py \
		--logdir build/vmlogs/debug-ldisc_tty --bus-uarts 2 \
		--timeout 900 --tests ldisc_tty
elif wanted vm-debug; then
	echo "# SKIP debug kernel not built (scripts/debug-kernel.sh)"
fi

echo "== total time $(($(date +%s) - start)) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
