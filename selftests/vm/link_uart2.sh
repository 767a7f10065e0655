#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# rig-bus-uarts: 2
#
# Two real 8250 UARTs of one guest on the same RS-485 hub line (ttyS1 and
# the PCI UART ttyS4; vmrun.py --bus-uarts 2), each with the line
# discipline attached: two ldisc nodes in one kernel exchange acked unicast
# and broadcast frames, every frame exactly once, and both detach cleanly.
. /lib/rackpwr/tap.sh

modprobe rackpwr || { nok "load rackpwr"; tap_end; exit 1; }
[ -c /dev/ttyS4 ] && ok "second bus UART present" ||
	{ nok "second bus UART present"; tap_end; exit 1; }
# Timers for VM receive latency (see link_uart.sh).
T="--slot-us 5000 --ifs-us 20000 --turnaround-us 1000 --ack-timeout-us 60000"
rackpwrctl attach /dev/ttyS1 --addr 21 --role psu $T > a1.txt &
p1=$!
rackpwrctl attach /dev/ttyS4 --addr 22 --role chassis $T > a2.txt &
p2=$!
sleep 1
A=$(sed -n 's/^attached id=\([0-9]*\) .*/\1/p' a1.txt)
B=$(sed -n 's/^attached id=\([0-9]*\) .*/\1/p' a2.txt)
check "two ldisc nodes" 2 "$(rackpwrctl node list | grep -c kind=ldisc)"

rackpwrctl monitor --timeout 60 > mon.txt &
mon=$!
sleep 1
rackpwrctl send "$A" 255 --text hello-from-21 || nok "broadcast from ttyS1"
rackpwrctl send "$B" 255 --text hello-from-22 || nok "broadcast from ttyS4"
okn=0
for i in 1 2 3 4 5; do
	rackpwrctl send "$A" 22 --ack --text "a$i" && okn=$((okn + 1))
	rackpwrctl send "$B" 21 --ack --text "b$i" && okn=$((okn + 1))
done
check "10 acked frames between the two UARTs" 10 $okn
last=-1
while [ "$(wc -l < mon.txt)" != "$last" ]; do last=$(wc -l < mon.txt); sleep 1; done
kill $mon
wait $mon 2>/dev/null
check "ttyS4 node got every frame of ttyS1 once" 5 \
	"$(grep -c "node=$B src=21 dst=22 type=2" mon.txt)"
check "ttyS1 node got every frame of ttyS4 once" 5 \
	"$(grep -c "node=$A src=22 dst=21 type=2" mon.txt)"
check "broadcasts crossed both ways" 2 "$(grep -c 'dst=255 .*payload=68656c6c6f2d66726f6d2d32' mon.txt)"
rackpwrctl stats "$A" | sed 's/^/# /'

kill $p1 $p2
wait $p1 $p2 2>/dev/null
check "detached: no ldisc node left" 0 "$(rackpwrctl node list | grep -c kind=ldisc)"
rmmod rackpwr && ok "module unloaded" || nok "module unloaded"
tap_end
