#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Benchmark (also a test): how long a supply failure takes to show up,
#   local   - in the assembly's capacity (sysfs), driven by the poll
#   primary - in the primary's capacity table, after the CAP_REPORT crossed
#             the simulated bus from a secondary
# over ROUNDS input-loss/recovery cycles at POLL_MS, as p50/p90/max in ms.
# Documented bounds (Documentation/hwmon/rackpwr.rst): a fault shows within
# one poll interval, a recovery within two; the test allows one interval
# more for TCG scheduling and the bus.  Rerun:
#   scripts/rig/vmrun.py --test bench_psu_latency
. /lib/rackpwr/tap.sh
. /lib/rackpwr/psu.sh

POLL_MS=${POLL_MS:-250}
ROUNDS=${ROUNDS:-10}
psu_setup psu_poll_ms=$POLL_MS cap_query_ms=500 && modprobe rackpwr_sim ||
	{ nok "load modules"; tap_end; exit 1; }
for a in 1 2; do rackpwrctl node new --bus 0 --addr $a --role psu >/dev/null; done
t=0
while ! rackpwrctl node list | grep -q 'acting=1' && [ $t -lt 100 ]; do
	usleep 100000; t=$((t + 1))
done
P=$(rackpwrctl node list | sed -n 's/^id=\([0-9]*\) .*acting=1.*/\1/p')
S=$(rackpwrctl node list | sed -n 's/^id=\([0-9]*\) .* addr=\([0-9]*\) .*acting=0.*/\2/p')
[ -n "$P" ] && [ -n "$S" ] && ok "primary $P, secondary addr $S" ||
	{ nok "election"; tap_end; exit 1; }
CAP=$(ls -d /sys/bus/i2c/devices/$BUS-0050)
full=$(rd $CAP/capacity_bank_a_mw)
sleep 2

# stats FILE: "p50 p90 max" of the numbers in FILE
stats() {
	sort -n "$1" | awk '{ v[NR] = $1 } END {
		p50 = v[int((NR + 1) * 0.5)]; p90 = v[int(NR * 0.9 + 0.5)]
		print p50, p90, v[NR] }'
}
: > local.1; : > local.0; : > primary.1; : > primary.0
i=0
while [ $i -lt "$ROUNDS" ]; do
	for state in 1 0; do
		t0=$(now_ms)
		echo $state > $SIM/psu0/input_lost
		while { [ $state = 1 ] && [ "$(rd $CAP/capacity_bank_a_mw)" = "$full" ]; } ||
		      { [ $state = 0 ] && [ "$(rd $CAP/capacity_bank_a_mw)" != "$full" ]; }; do
			[ $(($(now_ms) - t0)) -gt 5000 ] && break
			usleep 5000
		done
		echo $(($(now_ms) - t0)) >> local.$state
		now=$(rd $CAP/capacity_bank_a_mw)
		while ! rackpwrctl capacity "$P" | grep -q "addr=$S bank_a_mw=$now "; do
			[ $(($(now_ms) - t0)) -gt 5000 ] && break
			usleep 5000
		done
		echo $(($(now_ms) - t0)) >> primary.$state
	done
	i=$((i + 1))
done
# report WHAT FILE LIMIT_MS
report() {
	set -- "$1" $(stats "$2") "$3"
	echo "# $1: p50 $2 ms  p90 $3 ms  max $4 ms  (limit $5 ms)"
	check_ge "$1 p90 within the limit" "$3" "$5"
}
echo "# $ROUNDS faults and $ROUNDS recoveries, poll interval $POLL_MS ms"
report "fault, local (sysfs)      " local.1 $((2 * POLL_MS))
report "fault, at the primary     " primary.1 $((2 * POLL_MS))
report "recovery, local (sysfs)   " local.0 $((3 * POLL_MS))
report "recovery, at the primary  " primary.0 $((3 * POLL_MS))
tap_end
