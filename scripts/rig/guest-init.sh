#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# /init of the rig's initramfs (scripts/rig/mkinitramfs.sh), and, sourced as
# /lib/rig.sh, the helper library of shell tests.  Runs under busybox sh.
#
# Kernel command line:
#   rig.tests=a,b,c | all   tests to run, in order ("all": every /tests/*)
#   rig.timeout=SECONDS     per-test limit (default 60; 0 = none)
#   rig.node=N              index of this VM in a multi-VM run (default 0)
#   rig.nnodes=N            number of VMs in the run (default 1)
#   rig.role=STRING         free-form, passed to tests as RIG_ROLE
#
# Console (/dev/ttyS0) output is TAP 13: "TAP version 13", "1..N", then per
# test "ok N name # time=1.23s" or "not ok N name # exit=RC time=..." /
# "# TIMEOUT time=...".  Test output is prefixed with "# ".  Lines starting
# with "# rig: " are for vmrun.py (start of a test, end of the run).
#
# Ports: /dev/ttyS1 is the RS-485 bus (the hub's node socket in multi-VM
# runs), /dev/ttyS2 carries the host's answers to RIG-HUB:/RIG-SYNC: lines.

RIG_BUS=${RIG_BUS:-/dev/ttyS1}
RIG_HOSTPORT=${RIG_HOSTPORT:-/dev/ttyS2}

# rig_request KIND TEXT...: print "# RIG-KIND: TEXT" on the console, where
# vmrun.py picks it up, and wait for its one-line answer on ttyS2.  The port
# is opened before the request goes out so the answer cannot be lost.
# Prints the answer; succeeds iff it starts with "ok".
rig_request() {
	_kind=$1
	shift
	_to=${RIG_TIMEOUT:-60}
	[ "$_to" -gt 0 ] 2>/dev/null || _to=600
	_ans=
	{
		echo "# RIG-$_kind: $*" >/dev/console
		IFS= read -r -t "$_to" _ans
	} <"$RIG_HOSTPORT"
	_ans=$(printf '%s' "$_ans" | tr -d '\r')
	echo "$_ans"
	case $_ans in
	ok*) return 0 ;;
	*) return 1 ;;
	esac
}

# rig_hub CMD...: run a command on the bus hub's control socket, e.g.
# "rig_hub partition 2", "rig_hub heal 2", "rig_hub ber 0 1000",
# "rig_hub stats".  Prints the hub's answer; fails unless it is "ok ...".
rig_hub() {
	rig_request HUB "$@"
}

# rig_sync NAME: barrier across all VMs of the run; returns when every
# running VM reached "rig_sync NAME" (immediately in a single-VM run).
rig_sync() {
	rig_request SYNC "$1"
}

# rig_kill N: the host powers VM N off at once (a module pulled from the
# rack); its unfinished tests count as skipped, unless one already printed
# a failed check ("not ok ..."): that test fails.
rig_kill() {
	rig_request KILL "$1"
}

# rig_uptime_cs: seconds since boot in hundredths.
rig_uptime_cs() {
	read -r _up _idle </proc/uptime
	echo $((${_up%.*} * 100 + 1${_up#*.} - 100))
}

# Sourced as a library: stop here.
[ "$$" = 1 ] || return 0 2>/dev/null || exit 0

###########################################################################
# init

export PATH=/bin:/sbin:/usr/bin:/usr/sbin
export HOME=/root
umask 022

mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm

RIG_TESTS=
RIG_TIMEOUT=60
RIG_NODE=0
RIG_NNODES=1
RIG_ROLE=
for w in $(cat /proc/cmdline); do
	case $w in
	rig.tests=*) RIG_TESTS=${w#*=} ;;
	rig.timeout=*) RIG_TIMEOUT=${w#*=} ;;
	rig.node=*) RIG_NODE=${w#*=} ;;
	rig.nnodes=*) RIG_NNODES=${w#*=} ;;
	rig.role=*) RIG_ROLE=${w#*=} ;;
	esac
done
hostname "rig$RIG_NODE"
export RIG_TIMEOUT RIG_NODE RIG_NNODES RIG_ROLE RIG_BUS RIG_HOSTPORT

# Both extra UARTs are byte pipes to the host: no modem control, no echo,
# no line editing.  A port QEMU did not get is simply absent.
for p in $RIG_BUS $RIG_HOSTPORT; do
	[ -e "$p" ] && stty -F "$p" 115200 clocal raw -echo 2>/dev/null
done

if [ "$RIG_TESTS" = all ]; then
	RIG_TESTS=$(ls /tests)
else
	RIG_TESTS=$(echo "$RIG_TESTS" | tr ',' ' ')
fi
set -- $RIG_TESTS

# run_test PATH: run one test in its own session (so a timeout can kill all
# it started) with its output prefixed by "# "; sets rc and timed_out.
run_test() {
	rm -f /tmp/rig.fifo /tmp/rig.timedout
	mkfifo /tmp/rig.fifo
	while IFS= read -r l; do echo "# $l"; done </tmp/rig.fifo &
	rp=$!
	(cd "$RIG_TMP" && exec setsid "$1") >/tmp/rig.fifo 2>&1 </dev/null &
	tp=$!
	wp=
	if [ "$RIG_TIMEOUT" -gt 0 ] 2>/dev/null; then
		setsid sh -c "sleep $RIG_TIMEOUT; touch /tmp/rig.timedout;
			kill -KILL -$tp" >/dev/null 2>&1 &
		wp=$!
	fi
	wait $tp 2>/dev/null
	rc=$?
	[ -n "$wp" ] && kill -KILL -"$wp" 2>/dev/null
	# Leftover children of the test (daemons it forgot) go too.
	kill -KILL -"$tp" 2>/dev/null
	timed_out=0
	[ -e /tmp/rig.timedout ] && timed_out=1
	# The prefixer ends when the last writer is gone; a child that
	# escaped into its own session must not stall the run.
	n=0
	while kill -0 $rp 2>/dev/null && [ $n -lt 20 ]; do
		usleep 50000
		n=$((n + 1))
	done
	kill $rp 2>/dev/null
	wait $rp 2>/dev/null
}

# rig_kmemleak WHEN: on a kernel with kmemleak (the debug kernel), scan
# and report every leak whose backtrace names a rackpwr module or an
# address no symbol covers (a module unloaded since: the rig unloads only
# the project's) as a kernel message "rig: kmemleak: ...", which vmrun.py
# fails the run on; then forget them.  kmemleak reports an object only
# once it has been unreferenced for 5 s: a scan after each test, and one
# more 5 s after the last.
rig_kmemleak() {
	_k=/sys/kernel/debug/kmemleak
	[ -w $_k ] || return 0
	echo scan >$_k 2>/dev/null || return 0
	awk -v when="$1" '
		function flush() {
			if (blk != "" && ours) {
				printf "<3>rig: kmemleak: %s: %s\n", when, head \
					>"/dev/kmsg"
				close("/dev/kmsg")
				printf "%s", blk
			}
			blk = ""; ours = 0
		}
		/^unreferenced object/ { flush(); head = $0 }
		{ blk = blk "# " $0 "\n" }
		/\[rackpwr/ || /\] 0x[0-9a-f]+$/ { ours = 1 }
		END { flush() }' $_k
	echo clear >$_k
}

echo "TAP version 13"
echo "1..$#"
echo "# rig: node=$RIG_NODE nnodes=$RIG_NNODES timeout=$RIG_TIMEOUT" \
	"kernel=$(uname -r)"
echo "# rig: tests $*"
RIG_UNLOAD=${RIG_UNLOAD:-rackpwr_sim rackpwr rackpwr_sim_pmbus}
i=0
for name in "$@"; do
	i=$((i + 1))
	path=
	for d in /tests /rigtests; do
		[ -x "$d/$name" ] && { path=$d/$name; break; }
	done
	echo "# rig: start $i $name"
	if [ -z "$path" ]; then
		echo "not ok $i $name # no such test in the initramfs"
		continue
	fi
	export RIG_TEST=$name
	export RIG_TMP=/tmp/rig-$name
	mkdir -p "$RIG_TMP"
	t0=$(rig_uptime_cs)
	run_test "$path"
	t1=$(rig_uptime_cs)
	dt=$((t1 - t0))
	tm=$(printf 'time=%d.%02ds' $((dt / 100)) $((dt % 100)))
	if [ $timed_out = 1 ]; then
		echo "not ok $i $name # TIMEOUT after ${RIG_TIMEOUT}s $tm"
	elif [ $rc = 0 ]; then
		echo "ok $i $name # $tm"
	else
		echo "not ok $i $name # exit=$rc $tm"
	fi
	# Every test starts from a clean kernel: unload what it left loaded
	# (modules in $RIG_UNLOAD, most dependent first).
	for m in $RIG_UNLOAD; do
		grep -q "^$m " /proc/modules && rmmod "$m" 2>/dev/null
	done
	rig_kmemleak "$name"
done
if [ -w /sys/kernel/debug/kmemleak ]; then
	sleep 5
	rig_kmemleak "end of run"
fi
echo "# rig: done"
sync
poweroff -f
