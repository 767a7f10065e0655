#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# rig-bus-uarts: 2
#
# The line discipline and the tty (issue 9), on ttyS1 and the PCI UART
# ttyS4 of one guest, both on the rig's hub (vmrun.py --bus-uarts 2):
#   termios   with the discipline attached, stty reads and sets the line
#             (every termios ioctl used to fail with EINVAL)
#   speed     the node starts at the tty's speed and follows every change
#             made with stty: unconfigured, and configured (reconfigured,
#             address kept, timers rescaled); a speed the MAC refuses
#             leaves the node as it was, and so does a node-set asking
#             for a rate other than the tty's
#   ldattach  util-linux "ldattach -8 -n -1 -s 57600 29 ttyS1" attaches a
#             node at 57600 baud that exchanges acked frames with a node
#             that rackpwrctl attached to ttyS4
. /lib/rackpwr/tap.sh

# Timers for VM receive latency (see link_uart.sh).
T="--slot-us 5000 --ifs-us 20000 --turnaround-us 1000 --ack-timeout-us 60000"

# node KEY: one field of the ttyS1 node
node() { field "$1" "$(rackpwrctl node show ttyS1 2>&1)"; }
# speed DEV: the line rate stty reports
speed() { stty -F "$1" 2>&1 | sed -n 's/^speed \([0-9]*\) baud.*/\1/p'; }

modprobe rackpwr || { nok "load rackpwr"; tap_end; exit 1; }
[ -c /dev/ttyS4 ] && ok "second bus UART present" ||
	{ nok "second bus UART present"; tap_end; exit 1; }

# ---- termios and speed ----------------------------------------------------
rackpwrctl attach /dev/ttyS1 --baud 57600 >a1.txt 2>&1 &
p1=$!
attached a1.txt || nok "attach ($(cat a1.txt))"
check "the node starts at the tty's speed" 57600 "$(node baud)"
if stty -F /dev/ttyS1 >stty.txt 2>&1; then
	ok "stty reads the line with the discipline attached"
else
	nok "stty reads the line with the discipline attached ($(cat stty.txt))"
fi
check "stty sees the line's speed" 57600 "$(speed /dev/ttyS1)"
if stty -F /dev/ttyS1 19200 >stty.txt 2>&1; then
	ok "stty sets the speed with the discipline attached"
else
	nok "stty sets the speed with the discipline attached ($(cat stty.txt))"
fi
check "the tty runs at the new speed" 19200 "$(speed /dev/ttyS1)"
check "the unconfigured node follows the speed" 19200 "$(node baud)"
check "the discipline stays attached" 1 \
	"$(rackpwrctl node list | grep -c 'name=ttyS1 kind=ldisc')"

rackpwrctl node set ttyS1 --addr 31 || nok "give the node an address"
slot=$(node slot_us)
stty -F /dev/ttyS1 38400 || nok "stty 38400 on a configured node"
check "the configured node follows the speed" 38400 "$(node baud)"
check "... keeping its address" 31 "$(node addr)"
if [ -n "$slot" ] && [ "$(node slot_us)" -lt "$slot" ]; then
	ok "... with its MAC timers rescaled ($slot -> $(node slot_us) us)"
else
	nok "... with its MAC timers rescaled ($slot -> $(node slot_us) us)"
fi
expect_fail "node set --baud other than the tty's is refused" \
	"baud follows the tty's speed" rackpwrctl node set ttyS1 --baud 9600
check "... and changes nothing" 38400 "$(node baud)"
if rackpwrctl node set ttyS1 --baud 38400 --addr 32; then
	ok "node set --baud at the tty's speed is accepted"
else
	nok "node set --baud at the tty's speed is accepted"
fi
check "... and applied" 32 "$(node addr)"
stty -F /dev/ttyS1 50 2>/dev/null
check "a speed the MAC refuses (50) leaves the node at its rate" 38400 \
	"$(node baud)"
check "... and is logged" 1 \
	"$(dmesg | grep -c 'ttyS1: line rate 50 not applied to the node')"
kill $p1
wait $p1 2>/dev/null
check "detached" 0 "$(rackpwrctl node list | grep -c kind=ldisc)"

# ---- ldattach -------------------------------------------------------------
if [ -x /usr/sbin/ldattach ]; then
	ok "ldattach in the initramfs"
else
	nok "ldattach in the initramfs (util-linux missing on the host?)"
fi
ldattach -d -8 -n -1 -s 57600 29 /dev/ttyS1 >ld.txt 2>&1 &
pl=$!
i=0
while [ "$(rackpwrctl node list | grep -c 'name=ttyS1 kind=ldisc')" = 0 ] &&
	[ $i -lt 100 ]; do
	usleep 50000
	i=$((i + 1))
done
check "ldattach 29 attached a node to ttyS1" 1 \
	"$(rackpwrctl node list | grep -c 'name=ttyS1 kind=ldisc')"
check "at the speed ldattach -s set" 57600 "$(node baud)"
rackpwrctl node set ttyS1 --addr 41 --role psu $T ||
	nok "configure the ldattach node"
rackpwrctl attach /dev/ttyS4 --baud 57600 --addr 42 $T >a2.txt 2>&1 &
p2=$!
attached a2.txt || nok "attach ttyS4 ($(cat a2.txt))"
okn=0
for i in 1 2 3; do
	rackpwrctl send ttyS1 42 --ack --text "l$i" && okn=$((okn + 1))
	rackpwrctl send ttyS4 41 --ack --text "r$i" && okn=$((okn + 1))
done
check "6 acked frames between the ldattach node and the other" 6 $okn
kill $pl $p2
wait $pl $p2 2>/dev/null
sed 's/^/# ldattach: /' ld.txt
check "killing ldattach detaches" 0 "$(rackpwrctl node list | grep -c kind=ldisc)"
rmmod rackpwr && ok "module unloaded" || nok "module unloaded"
tap_end
