#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Contention on the simulated bus: 2, 8 and 60 nodes all send acked
# unicast frames at once (plus a broadcast each).  Every frame must be
# delivered exactly once; with two nodes missing 0.3 % of the bytes their
# view of the line is wrong at times, they collide or lose frames, and
# that is counted and repaired by retransmission, never lost.
. /lib/rackpwr/tap.sh

FRAMES=${FRAMES:-3}
DBG=/sys/kernel/debug/rackpwr_sim

modprobe rackpwr && modprobe rackpwr_sim || { nok "load modules"; tap_end; exit 1; }

# run_round BUS N DROP_PPM
run_round() {
	bus=$1 n=$2 drop=$3
	ids=""
	i=1
	while [ $i -le "$n" ]; do
		id=$(field id "$(rackpwrctl node new --bus "$bus" --addr $i)")
		ids="$ids $id"
		i=$((i + 1))
	done
	# Everyone says hello once so that peers are known (no EHOSTUNREACH).
	for id in $ids; do rackpwrctl send "$id" 255 --text hi & done
	wait
	if [ "$drop" -gt 0 ]; then
		# Two nodes miss bytes: more retries are allowed everywhere.
		for id in $ids; do rackpwrctl node set "$id" --max-retries 8; done
		for id in $(echo $ids | cut -d' ' -f1-2); do
			echo "$drop" > $DBG/bus$bus/sim$bus.$id/drop_ppm
		done
	fi

	rackpwrctl monitor --timeout $((20 + n)) > mon.$bus &
	mon=$!
	sleep 1
	fails=0
	i=1
	for id in $ids; do
		(
			k=1
			while [ $k -le "$FRAMES" ]; do
				dst=$(( (i + k - 1) % n + 1 ))
				[ $dst -eq $i ] && dst=$(( i % n + 1 ))
				rackpwrctl send "$id" $dst --ack \
					--text "f-$i-$k" || echo FAIL >> fails.$bus
				k=$((k + 1))
			done
		) &
		i=$((i + 1))
	done
	wait_start=$(date +%s)
	# Wait for the senders (not the monitor).
	while [ "$(jobs -p | wc -l)" -gt 1 ] && \
	      [ $(( $(date +%s) - wait_start )) -lt $((60 + 2 * n)) ]; do
		sleep 1
	done
	# Let the monitor drain its socket: stop once its output stops growing.
	last=-1
	while [ "$(wc -l < mon.$bus)" != "$last" ]; do
		last=$(wc -l < mon.$bus)
		sleep 1
	done
	kill $mon 2>/dev/null
	wait 2>/dev/null
	[ -f fails.$bus ] && fails=$(wc -l < fails.$bus)
	want=$((n * FRAMES))
	# Unicast payloads "f-SRC-K" hex-encoded start with 662d.
	got=$(grep -c ' dst=[0-9]* type=2 .*payload=662d' mon.$bus)
	uniq=$(grep ' type=2 .*payload=662d' mon.$bus | sed 's/.*payload=//' |
	       sort -u | wc -l)
	check "$n nodes (drop $drop ppm): every send call succeeded" 0 "$fails"
	check "$n nodes: every frame delivered" "$want" "$uniq"
	check "$n nodes: no frame delivered twice" "$want" "$got"
	coll=0 retr=0 dups=0 rxerr=0
	for id in $ids; do
		coll=$((coll + $(stat "$id" collisions)))
		retr=$((retr + $(stat "$id" retries)))
		dups=$((dups + $(stat "$id" duplicates)))
	done
	# Every byte a disturbed node misses breaks the frame it belongs to
	# there (CRC, framing or garbage); only some of them go on to cause a
	# collision or a retry (about 3 missed bytes per node: with
	# collisions and retries alone the check failed now and then).
	for id in $(echo $ids | cut -d' ' -f1-2); do
		rxerr=$((rxerr + $(stat "$id" crc_errors) + $(stat "$id" framing_errors) + \
			$(stat "$id" garbage_bytes)))
	done
	echo "# $n nodes drop=$drop: collisions=$coll retries=$retr dup_suppressed=$dups rx_errors(disturbed)=$rxerr"
	if [ "$drop" -gt 0 ]; then
		check_ge "$n nodes: missed bytes were counted (receive errors, collisions or retries)" \
			1 $((rxerr + coll + retr))
	fi
	for id in $ids; do rackpwrctl node del "$id" || nok "delete $id"; done
}

run_round 0 2 0
run_round 1 8 0
run_round 2 8 3000
run_round 3 60 0

rmmod rackpwr_sim && rmmod rackpwr && ok "modules unloaded" || nok "modules unloaded"
tap_end
