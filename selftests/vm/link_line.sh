#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# rig-bus-uarts: 2
#
# Timing from the line (rackpwr-mac.rst): after some traffic, node-get
# reports the echo latency its MAC measured and the timing that budget
# gives, on the simulated bus and on two real 8250 UARTs of this guest on
# the rig's RS-485 hub line (ttyS1 and ttyS4; vmrun.py --bus-uarts 2).
. /lib/rackpwr/tap.sh

FRAMES=${FRAMES:-20}
TC=87			# us per character at 115200, rounded up
FLOOR=$(((5 * TC + 1) / 2))

max() { [ "$1" -gt "$2" ] && echo "$1" || echo "$2"; }
min() { [ "$1" -lt "$2" ] && echo "$1" || echo "$2"; }

# line_check NAME NODE SENT: the node's measured latency is consistent and
# the suggested slot and IFS are the derivation's for its budget.
line_check() {
	_ln=$(rackpwrctl node show "$2")
	echo "# $1: $(echo "$_ln" | tr ' ' '\n' | grep '^line_' | tr '\n' ' ')"
	_ls=$(field line_lat_samples "$_ln")
	_ltx=$(stat "$2" tx_frames)
	_lacks=$(stat "$2" acks_tx)
	check_ge "$1: latency samples after $3 frames" "$3" "${_ls:-0}"
	check_ge "$1: no more samples than intact frames and ACKs" \
		"${_ls:-x}" "$((_ltx + _lacks))"
	_lp99=$(field line_lat_p99_us "$_ln")
	_lwmax=$(field line_lat_win_max_us "$_ln")
	_lmax=$(field line_lat_max_us "$_ln")
	check_ge "$1: window max >= p99" "${_lp99:-x}" "${_lwmax:-x}"
	check_ge "$1: max >= window max" "${_lwmax:-x}" "${_lmax:-x}"
	check_ge "$1: max below 1 s" "${_lmax:-x}" 1000000
	_lb=$(field line_lat_budget_us "$_ln")
	[ -n "$_lb" ] && ok "$1: budget reported ($_lb us)" ||
		nok "$1: budget reported"
	_lb=${_lb:-0}
	_lturn=$(($(max 500 $((4 * TC))) * $(min "$_lb" 1000) / 1000))
	check "$1: suggested slot for the budget" \
		"$(max $((2 * TC + 2 * _lb + _lb / 2)) $FLOOR)" \
		"$(field line_slot_us "$_ln")"
	check "$1: suggested IFS for the budget" \
		"$((_lturn + $(max $((2 * TC + 3 * _lb)) $FLOOR)))" \
		"$(field line_ifs_us "$_ln")"
	# The measurement is reported, not applied.
	check "$1: slot in use unchanged" "$4" "$(field slot_us "$_ln")"
}

# ---- simulated bus ---------------------------------------------------------
modprobe rackpwr && modprobe rackpwr_sim || { nok "load modules"; tap_end; exit 1; }
a=$(rackpwrctl node new --bus 0 --addr 1 --role chassis)
b=$(rackpwrctl node new --bus 0 --addr 2 --role chassis)
A=$(field id "$a"); B=$(field id "$b")
SIM_SLOT=$(field slot_us "$a")
n=$(rackpwrctl node show "$A")
s=$(field line_lat_samples "$n")
echo "# sim: $s samples before traffic"
if [ "${s:-x}" -lt 16 ] 2>/dev/null; then
	check "sim: no budget below 16 samples" "" "$(field line_lat_budget_us "$n")"
else
	nok "sim: a fresh node reports fewer than 16 samples ('$s')"
fi
okn=0
i=0
while [ $i -lt "$FRAMES" ]; do
	rackpwrctl send "$A" 2 --ack --text "a$i" && okn=$((okn + 1))
	rackpwrctl send "$B" 255 --text "b$i" && okn=$((okn + 1))
	i=$((i + 1))
done
# The sim profile assumes exact timing; a TCG guest's timer stalls (the
# latency this test measures) can cost an acked frame its retries.
check_ge "sim: most of $((2 * FRAMES)) frames sent" $((3 * FRAMES / 2)) $okn
line_check sim "$A" "$FRAMES" "$SIM_SLOT"
line_check "sim B" "$B" "$FRAMES" "$SIM_SLOT"
rackpwrctl node del "$A"
rackpwrctl node del "$B"

# ---- two 8250 UARTs on the hub ---------------------------------------------
[ -c /dev/ttyS4 ] && ok "second bus UART present" ||
	{ nok "second bus UART present"; tap_end; exit 1; }
# Timers for VM receive latency (see link_uart.sh).
T="--slot-us 5000 --ifs-us 20000 --turnaround-us 1000 --ack-timeout-us 60000"
rackpwrctl attach /dev/ttyS1 --addr 21 --role chassis $T > a1.txt &
p1=$!
rackpwrctl attach /dev/ttyS4 --addr 22 --role chassis $T > a2.txt &
p2=$!
attached a1.txt && attached a2.txt || nok "two ldisc nodes attached"
U1=$(sed -n 's/^attached id=\([0-9]*\) .*/\1/p' a1.txt)
U2=$(sed -n 's/^attached id=\([0-9]*\) .*/\1/p' a2.txt)
okn=0
i=0
while [ $i -lt "$FRAMES" ]; do
	rackpwrctl send "$U1" 22 --ack --text "u$i" && okn=$((okn + 1))
	rackpwrctl send "$U2" 255 --text "v$i" && okn=$((okn + 1))
	i=$((i + 1))
done
check "uart: $((2 * FRAMES)) frames sent" $((2 * FRAMES)) $okn
line_check uart "$U1" "$FRAMES" 5000
line_check "uart B" "$U2" "$FRAMES" 5000
kill $p1 $p2
wait $p1 $p2 2>/dev/null
check "detached: no ldisc node left" 0 "$(rackpwrctl node list | grep -c kind=ldisc)"
rmmod rackpwr_sim; rmmod rackpwr && ok "modules unloaded" || nok "modules unloaded"
tap_end
