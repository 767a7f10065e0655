#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Link layer over the simulated bus: two nodes exchange unicast (acked)
# and broadcast frames; counters, peers, events and netlink errors.
. /lib/rackpwr/tap.sh

modprobe rackpwr && modprobe rackpwr_sim || { nok "load modules"; tap_end; exit 1; }
ok "modules loaded"

rackpwrd > rackpwrd.log 2>&1 &
agent=$!
sleep 1
a=$(rackpwrctl node new --bus 0 --addr 1 --role psu)
b=$(rackpwrctl node new --bus 0 --addr 2 --role chassis)
A=$(field id "$a"); B=$(field id "$b")
check "node A created with addr 1" 1 "$(field addr "$a")"
check "node B created with addr 2" 2 "$(field addr "$b")"
check "two nodes listed" 2 "$(rackpwrctl node list | grep -c kind=sim)"

rackpwrctl monitor --timeout 30 > mon.txt &
mon=$!
sleep 1
if rackpwrctl send "$A" 2 --ack --text hello; then ok "unicast with ack delivered"
else nok "unicast with ack delivered"; fi
rackpwrctl send "$B" 255 --test --hex 00ff7e7d || nok "broadcast sent"
sleep 1
kill $mon
wait $mon
sed 's/^/# mon: /' mon.txt
check "receiver saw the unicast payload" 1 \
	"$(grep -c "src=1 dst=2 type=2 .*payload=68656c6c6f" mon.txt)"
check "broadcast reached the other node" 1 \
	"$(grep -c "node=$A src=2 dst=255 type=127 .*payload=00ff7e7d" mon.txt)"

check_ge "A counted tx frames" 1 "$(stat "$A" tx_frames)"
check_ge "B sent an ack" 1 "$(stat "$B" acks_tx)"
check_ge "A received the ack" 1 "$(stat "$A" acks_rx)"
check "no collisions between two polite nodes" 0 "$(stat "$A" collisions)"
# Queue refusals per class and the election's refused sends: reported, none.
check "refusal counters reported, all 0" "0 0 0 0 0" \
	"$(for c in refused_user refused_elect refused_proto refused_alloc \
		elect_tx_refused; do stat "$A" $c; done | xargs)"
check "B is a peer of A" 1 "$(rackpwrctl peers "$A" | grep -c 'addr=2 ')"
check "A does not list itself as a peer" 0 "$(rackpwrctl peers "$A" | grep -c 'addr=1 ')"

# Delivery errors come back as errnos with a reason.
expect_fail "unknown destination is unreachable" "never heard" \
	rackpwrctl send "$A" 77 --ack
expect_fail "ack on broadcast is refused" "not acknowledged" \
	rackpwrctl send "$A" 255 --ack
expect_fail "sending to ourselves is refused" "rejected" \
	rackpwrctl send "$A" 1
expect_fail "payload over 64 bytes is refused" "failed policy validation" \
	rackpwrctl send "$A" 2 --text \
	"0123456789012345678901234567890123456789012345678901234567890123456789"
expect_fail "address 0 is refused" "out of range" \
	rackpwrctl node new --bus 0 --addr 0
expect_fail "bus 16 is refused" "out of range" \
	rackpwrctl node new --bus 16 --addr 3
expect_fail "slot below the minimum is refused" "out of range" \
	rackpwrctl node set "$A" --slot-us 10
expect_fail "no such node" "no such node" rackpwrctl node show 9999
# A dump that fails reports its error (carried in NLMSG_DONE).
expect_fail "peers of a missing node" "no such node" rackpwrctl peers 9999
expect_fail "capacity of a missing node" "no such node" rackpwrctl capacity 9999

# Reconfiguration keeps counters and takes effect.
before=$(stat "$A" tx_frames)
rackpwrctl node set "$A" --addr 3 --slot-us 3000 || nok "reconfigure"
check "new address applied" 3 "$(field addr "$(rackpwrctl node show "$A")")"
# (the election keeps sending, so the count can only have grown)
check_ge "counters kept across reconfiguration" "$before" "$(stat "$A" tx_frames)"
rackpwrctl send "$B" 3 --ack --text again && ok "delivery to the new address" ||
	nok "delivery to the new address"

rackpwrctl node del "$A" && ok "node deleted" || nok "node deleted"
kill $agent
wait $agent
sed 's/^/# rackpwrd: /' rackpwrd.log
check_ge "rackpwrd logged the nodes" 2 "$(grep -c 'addr [12] up' rackpwrd.log)"
# Once, and again if the reconfigured node (a new address restarts its
# election) became primary before it was deleted.
check_ge "rackpwrd logged the election" 1 "$(grep -c 'became primary' rackpwrd.log)"
check "rackpwrd logged the removal" 1 "$(grep -c "node $A removed" rackpwrd.log)"
check "one node left" 1 "$(rackpwrctl node list | grep -c kind=sim)"
rmmod rackpwr_sim && rmmod rackpwr && ok "modules unloaded" || nok "modules unloaded"
tap_end
