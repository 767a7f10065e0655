#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# rackpwrd learns that it missed events, on either side, and resyncs:
#  1. its own receive buffer overruns (a tiny --rcvbuf, the agent stopped
#     while node reconfigurations flood the events group): it logs the
#     loss and reads nodes and capacity again by dump, listing a node whose
#     creation it never saw as an event;
#  2. the kernel cannot deliver (a stopped listener that asked for
#     NETLINK_BROADCAST_ERROR turns every multicast into ENOBUFS): the
#     node's ntf-dropped counter rises, node show reports it, the kernel
#     logs it, and a healthy rackpwrd notices the rise and resyncs without
#     having lost anything itself.
. /lib/rackpwr/tap.sh
. /lib/rackpwr/psu.sh

# One simulated assembly: node A, a power-supply node with the default
# binding, has a capacity line of its own for the resync to read.
psu_setup && modprobe rackpwr_sim || { nok "load modules"; tap_end; exit 1; }
ok "modules loaded, one assembly"

# flood NODE N: N reconfigurations, each a node-change notification.
flood() {
	i=0
	while [ $i -lt "$2" ]; do
		rackpwrctl node set "$1" --slot-us $((1000 + i)) || return 1
		i=$((i + 1))
	done
}

# 1. Overrun of the agent's own socket.
rackpwrd --rcvbuf 4096 >small.log 2>&1 &
small=$!
sleep 1
a=$(rackpwrctl node new --bus 0 --addr 1 --role psu)
A=$(field id "$a")
sleep 1
kill -STOP $small
flood "$A" 40 && ok "40 reconfigurations while the agent is stopped" ||
	nok "40 reconfigurations while the agent is stopped"
b=$(rackpwrctl node new --bus 0 --addr 2 --role chassis)
B=$(field id "$b")
kill -CONT $small
sleep 3
check_ge "agent logged the overrun" 1 \
	"$(grep -c 'missed events: receive buffer overrun' small.log)"
check_ge "agent resynced because it missed events" 1 \
	"$(grep -c 'resync (missed events)' small.log)"
check_ge "resync found both nodes" 1 \
	"$(grep -c 'resync done: 2 nodes' small.log)"
check_ge "resync listed the node created while it was stopped" 1 \
	"$(grep -c "resync: node $B (sim0.2) addr 2 role chassis" small.log)"
check_ge "resync read the capacity table" 1 \
	"$(grep -c "resync: node $A: assembly" small.log)"
check "no kernel-side drop was reported" 0 \
	"$(grep -c 'the kernel failed to deliver' small.log)"
check "node A: kernel dropped nothing" 0 \
	"$(field ntf_dropped "$(rackpwrctl node show "$A")")"
kill $small
wait $small
sed 's/^/# small: /' small.log | grep -v 'addr 1 up$'

# 2. The kernel cannot deliver to a listener that wants to know.
rackpwrd >main.log 2>&1 &
main=$!
rackpwrd --rcvbuf 1 --broadcast-error >stuck.log 2>&1 &
stuck=$!
sleep 1
kill -STOP $stuck
flood "$A" 20 || nok "reconfigure with a stuck listener"
dropped=$(field ntf_dropped "$(rackpwrctl node show "$A")")
check_ge "node A counts the undelivered notifications" 1 "$dropped"
check_ge "kernel logged the drops" 1 \
	"$(dmesg | grep -c 'sim0.1: notification [0-9]* dropped (-105)')"
# The next node-change event or the 5 s audit shows the rise.
sleep 6
kill -CONT $stuck
kill $stuck
wait $stuck
kill $main
wait $main
sed 's/^/# main: /' main.log | grep -v 'addr 1 up$'
check_ge "healthy agent noticed the kernel-side drop" 1 \
	"$(grep -c "node $A (sim0.1): the kernel failed to deliver" main.log)"
check_ge "and resynced" 1 \
	"$(grep -c 'resync (the kernel dropped events)' main.log)"
# At most one resync a second, however many notifications are dropped.
check "resyncs are rate-limited" 1 \
	"$(awk '/resync \(the kernel dropped/ { n++ } END { print (n >= 1 && n <= 12) }' main.log)"
check "the healthy agent itself missed nothing" 0 \
	"$(grep -c 'receive buffer overrun' main.log)"

rackpwrctl node del "$A"
rackpwrctl node del "$B"
rmmod rackpwr_sim && rmmod rackpwr && ok "modules unloaded" || nok "modules unloaded"
tap_end
