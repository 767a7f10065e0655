#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# rig-nodes: 3
#
# Link layer over real 8250 UARTs, one node per VM, all VMs on the rig's
# RS-485 hub (vmrun.py --nodes 3 --tests link_uart).  Every VM runs this
# same script; rig_sync keeps them in step:
#   attach   the line discipline on ttyS1 (address 10 + RIG_NODE)
#   hello    everybody broadcasts once, so every peer is known
#   traffic  acked unicast to every other node and broadcasts: each frame
#            arrives exactly once, counters agree
#   part     hub partitions VM 2: frames to and from it time out; heal
#            and they go through again
#   ber      bit errors on every receiver: CRC errors counted, everything
#            still delivered through retransmission
#   detach   the attach process is killed while frames are being sent:
#            the node goes away, the kernel stays quiet
. /lib/rackpwr/tap.sh
. /lib/rig.sh

ME=$((10 + RIG_NODE))
N=${RIG_NNODES:-1}
K=${K:-3}		# unicast frames to every peer per phase
PART=2			# the VM the hub partitions (index = hub node)
PARTADDR=$((10 + PART))
# Timers for a TCG guest.  The "uart" defaults assume 1 ms of receive
# latency (slot 2674 us, ifs 3674 us); the echo round trip measured
# through the hub with three TCG guests is p50 0.35 ms, p90 1 ms, p99
# 4-5.5 ms, max 6-17 ms.  Slots cover ~2.5 ms of latency; the IFS must
# outlast the longest stall between two chunks of one frame, or a
# receiver resets its deframer mid-frame and loses the frame.
SLOT_US=${SLOT_US:-5000}
IFS_US=${IFS_US:-20000}
TURN_US=${TURN_US:-1000}
ACKTO_US=${ACKTO_US:-60000}

if [ "$N" -lt 3 ]; then
	echo "# needs three VMs on the hub: vmrun.py --nodes 3"
	nok "run with --nodes 3"
	tap_end
	exit 1
fi

sync_or_die() {
	rig_sync "$1" >/dev/null || { nok "sync $1"; tap_end; exit 1; }
}

# uhex SRC DST K / bhex SRC K: payloads that say who sent what to whom
uhex() { printf '75%02x%02x%02x' "$1" "$2" "$3"; }
bhex() { printf '62%02x%02x' "$1" "$2"; }

# send_retry ARGS...: frame-send; a fresh node gets the line only in its
# slot of the start-up sweep, which a late timer can miss (send timeout).
send_retry() {
	_i=0
	while [ $_i -lt 3 ]; do
		_o=$(rackpwrctl send "$@" 2>&1) && return 0
		case $_o in *"timed out"*) ;; *) echo "# $_o"; return 1 ;; esac
		_i=$((_i + 1))
	done
	echo "# $_o"
	return 1
}

peers() {
	_p=10
	while [ $_p -lt $((10 + N)) ]; do
		[ $_p -ne "$ME" ] && echo $_p
		_p=$((_p + 1))
	done
}

modprobe rackpwr || { nok "load rackpwr"; tap_end; exit 1; }
role=chassis
[ "$RIG_NODE" = 0 ] && role=psu

# ---- attach ---------------------------------------------------------------
rackpwrctl attach "$RIG_BUS" --addr "$ME" --role $role --slot-us "$SLOT_US" \
	--ifs-us "$IFS_US" --turnaround-us "$TURN_US" \
	--ack-timeout-us "$ACKTO_US" >attach.out 2>&1 &
att=$!
i=0
while ! grep -q attached attach.out && [ $i -lt 50 ]; do
	usleep 100000
	i=$((i + 1))
done
sed 's/^/# /' attach.out
node=$(rackpwrctl node show ttyS1)
echo "# $node"
check "ldisc node ttyS1 exists with address $ME" "$ME" "$(field addr "$node")"
check "it is an ldisc node" ldisc "$(field kind "$node")"
check "role applied" $role "$(field role "$node")"
ID=$(field id "$node")

rackpwrctl monitor --timeout 600 >mon.txt &
mon=$!
sync_or_die attached

# ---- hello ----------------------------------------------------------------
t0=$(rig_uptime_cs)
send_retry ttyS1 255 --test --hex "$(bhex "$ME" 0)" &&
	ok "hello broadcast sent" || nok "hello broadcast sent"
echo "# hello took $(( $(rig_uptime_cs) - t0 ))0 ms"
sync_or_die hello
sleep 1
for p in $(peers); do
	check "peer $p heard" 1 "$(rackpwrctl peers ttyS1 | grep -c "addr=$p ")"
done

# ---- traffic --------------------------------------------------------------
sync_or_die traffic
t0=$(rig_uptime_cs)
fails=0
k=1
while [ $k -le "$K" ]; do
	for p in $(peers); do
		rackpwrctl send ttyS1 $p --ack --hex "$(uhex "$ME" $p $k)" ||
			fails=$((fails + 1))
	done
	rackpwrctl send ttyS1 255 --hex "$(bhex "$ME" $k)" ||
		fails=$((fails + 1))
	k=$((k + 1))
done
t1=$(rig_uptime_cs)
sent=$((K * N))
echo "# $sent frames (acked unicast + broadcast) in $(( (t1 - t0) * 10 )) ms"
check "every send succeeded" 0 $fails
sync_or_die sent
sleep 2
bad=0
for p in $(peers); do
	k=1
	while [ $k -le "$K" ]; do
		c=$(grep -c "src=$p dst=$ME type=2 .*payload=$(uhex $p "$ME" $k)\$" mon.txt)
		[ "$c" = 1 ] || { echo "# unicast $p->$ME #$k arrived $c times"; bad=$((bad + 1)); }
		c=$(grep -c "src=$p dst=255 type=2 .*payload=$(bhex $p $k)\$" mon.txt)
		[ "$c" = 1 ] || { echo "# broadcast $p #$k arrived $c times"; bad=$((bad + 1)); }
		k=$((k + 1))
	done
done
check "every frame from every peer arrived exactly once" 0 $bad
[ $bad = 0 ] || grep -v "src=$ME " mon.txt | sed 's/^/# mon: /'
check "no frame from ourselves came back" 0 "$(grep -c "src=$ME " mon.txt)"
st=$(rackpwrctl stats ttyS1)
echo "# $st"
check_ge "tx_frames counts what we sent" $((sent + 1)) "$(field tx_frames "$st")"
check_ge "rx_frames counts what we got" $(( (N - 1) * (sent + 1) )) \
	"$(field rx_frames "$st")"
check_ge "acks received for our unicasts" $((K * (N - 1))) "$(field acks_rx "$st")"
# An ACK of ours that collided is not counted as sent; the peer then
# retransmits and we answer again, or it was lost with the collision.
check_ge "acks sent for theirs (less collided ones)" \
	$((K * (N - 1) - $(field collisions "$st"))) "$(field acks_tx "$st")"
check "no timeouts" 0 "$(field timeouts "$st")"
check "no duplicate address" 0 "$(field dup_addr "$st")"
echo "# contention: collisions=$(field collisions "$st") retries=$(field retries "$st") access_delay_max_us=$(field access_delay_max_us "$st") avg=$(field access_delay_avg_us "$st")"

# ---- partition ------------------------------------------------------------
sync_or_die pre-part
if [ "$RIG_NODE" = 0 ]; then
	a=$(rig_hub partition $PART) && ok "hub: $a" || nok "hub partition: $a"
fi
sync_or_die parted
if [ "$ME" = $PARTADDR ]; then
	expect_fail "partitioned node: frame to 10 not acknowledged" \
		"not acknowledged" rackpwrctl send ttyS1 10 --ack --text lost
else
	expect_fail "frame to the partitioned node not acknowledged" \
		"not acknowledged" rackpwrctl send ttyS1 $PARTADDR --ack --text lost
fi
check_ge "timeout counted" 1 "$(stat ttyS1 timeouts)"
sync_or_die timed-out
if [ "$RIG_NODE" = 0 ]; then
	a=$(rig_hub heal $PART) && ok "hub: $a" || nok "hub heal: $a"
fi
sync_or_die healed
if [ "$ME" = $PARTADDR ]; then
	send_retry ttyS1 10 --ack --text back && ok "healed: frame to 10 delivered" ||
		nok "healed: frame to 10 delivered"
else
	send_retry ttyS1 $PARTADDR --ack --text back &&
		ok "healed: frame to $PARTADDR delivered" ||
		nok "healed: frame to $PARTADDR delivered"
fi

# ---- bit errors -----------------------------------------------------------
# Every corrupted frame costs a sweep of the 64 addresses (0.34 s with
# 5 ms slots), which the send timeout allows once per attempt and twice
# besides, so the rate stays moderate: 2000 ppm per byte, ~5 % of 25-byte
# frames.
BER=${BER:-2000}
sync_or_die pre-ber
rackpwrctl node set ttyS1 --max-retries 12 || nok "raise max-retries"
errs() {
	_s=$(rackpwrctl stats ttyS1)
	echo $(( $(field crc_errors "$_s") + $(field framing_errors "$_s") + \
		$(field garbage_bytes "$_s") + $(field collisions "$_s") ))
}
before=$(errs)
sync_or_die retries-set
if [ "$RIG_NODE" = 0 ]; then
	a=$(rig_hub ber all "$BER") && ok "hub: $a" || nok "hub ber: $a"
fi
sync_or_die ber-on
fails=0
k=1
while [ $k -le 4 ]; do
	for p in $(peers); do
		rackpwrctl send ttyS1 $p --ack --hex "$(printf '65%02x%02x%02x0123456789abcdef' "$ME" $p $k)" ||
			fails=$((fails + 1))
	done
	k=$((k + 1))
done
check "with $BER ppm byte errors every acked frame delivered" 0 $fails
sync_or_die ber-sent
hub=$(rig_hub stats)
if [ "$RIG_NODE" = 0 ]; then
	a=$(rig_hub ber all 0) && ok "hub: $a" || nok "hub ber off: $a"
fi
hit=$(echo "$hub" | tr ' ' '\n' | sed -n "s/^n$RIG_NODE.ber=//p")
after=$(errs)
echo "# hub corrupted $hit bytes we received; crc+framing+garbage+collisions $before -> $after, retries $(stat ttyS1 retries)"
if [ "${hit:-0}" -gt 0 ]; then
	check_ge "corrupted bytes were noticed and counted" $((before + 1)) $after
else
	ok "no byte of ours was hit (nothing to count) # SKIP"
fi
sleep 1
bad=0
for p in $(peers); do
	k=1
	while [ $k -le 4 ]; do
		c=$(grep -c "src=$p dst=$ME type=2 .*payload=$(printf '65%02x%02x%02x0123456789abcdef' $p "$ME" $k)\$" mon.txt)
		[ "$c" = 1 ] || { echo "# ber frame $p->$ME #$k arrived $c times"; bad=$((bad + 1)); }
		k=$((k + 1))
	done
done
check "under bit errors every frame arrived exactly once" 0 $bad
rackpwrctl node set ttyS1 --max-retries 3 || nok "restore max-retries"

# ---- detach under traffic -------------------------------------------------
sync_or_die pre-detach
(
	while kill -0 $att 2>/dev/null; do
		for p in $(peers); do
			rackpwrctl send ttyS1 $p --ack --text load >/dev/null 2>&1
		done
		rackpwrctl send ttyS1 255 --text load >/dev/null 2>&1
	done
) &
load=$!
sleep 2
if [ "$ME" = $PARTADDR ]; then
	kill $att
	wait $att
	check "attach exited cleanly" 0 $?
	usleep 300000
	expect_fail "node gone after detach" "no node" rackpwrctl node show ttyS1
fi
sync_or_die detached-one
if [ "$ME" != $PARTADDR ]; then
	expect_fail "frame to the detached node not acknowledged" \
		"not acknowledged" rackpwrctl send ttyS1 $PARTADDR --ack --text gone
	sleep 1
	kill $att
	wait $att
	check "attach exited cleanly" 0 $?
	usleep 300000
	expect_fail "node gone after detach" "no node" rackpwrctl node show ttyS1
fi
kill $load 2>/dev/null
wait $load 2>/dev/null
sync_or_die detached-all
kill $mon 2>/dev/null
rmmod rackpwr && ok "module unloaded" || nok "module unloaded"
tap_end
