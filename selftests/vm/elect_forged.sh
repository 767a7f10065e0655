#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# One forged frame must not take the rack's primary away (issue 10): on a
# simulated bus of 4 power-supply modules and 1 chassis module, the frame
# of the report - a CRC-valid WHO_PRIMARY from address 99, which nobody
# uses, carrying epoch 0xffffffff:
#
#   7e 10 10 ff 63 01 04 ff ff ff ff de 6a 7e
#
# is put on the line from no node (bus0/inject), three times.  Before the
# fix it demoted the acting primary and every module adopted the epoch, so
# that no module could claim a higher term: no primary, for good.  Now:
# every module hears it (peer 99), an acting primary that every module
# follows is there within one failover time after each injection, and the
# epoch's term moves by at most RPW_EPOCH_STEP (16) in all.
. /lib/rackpwr/tap.sh
. /lib/rackpwr/elect.sh

DBG=/sys/kernel/debug/rackpwr_sim/bus0
FRAME='\176\020\020\377\143\001\004\377\377\377\377\336\152\176'

# 20 ms of timer lateness, as elect_basic: TCG runs hrtimers late.
modprobe rackpwr elect_tol_us=20000 && modprobe rackpwr_sim ||
	{ nok "load modules"; tap_end; exit 1; }

for a in 1 2 3 4; do rackpwrctl node new --bus 0 --addr $a --role psu >/dev/null; done
rackpwrctl node new --bus 0 --addr 5 --role chassis >/dev/null
if ms=$(wait_one 0 20000 "$(now_ms)"); then
	ok "one acting primary that every module follows ($ms ms)"
else
	nok "one acting primary that every module follows"
	nodes 0 | sed 's/^/# /'
fi
l=$(rackpwrctl node list | head -n 1)
det=$(($(field detect_us "$l") / 1000))
# One ordinary failover: detection, a takeover slot round and the claim
# (the election doc), with room for TCG's late timers.
fo=$((2 * det + 1000))
term0=$(($(nodes 0 | awk '{ print $7; exit }') >> 8))
echo "# detection ${det} ms; a primary must act again within ${fo} ms; term $term0"

i=1
while [ $i -le 3 ]; do
	printf "$FRAME" >$DBG/inject
	t0=$(now_ms)
	usleep 200000
	if ms=$(wait_one 0 "$fo" "$t0"); then
		ok "forged frame $i: an acting primary, every module follows ($ms ms)"
	else
		nok "forged frame $i: no acting primary within $fo ms"
		nodes 0 | sed 's/^/# /'
	fi
	i=$((i + 1))
done

heard=0
for id in $(rackpwrctl node list | sed -n 's/^id=\([0-9]*\) .*/\1/p'); do
	rackpwrctl peers "$id" | grep -q 'addr=99 ' && heard=$((heard + 1))
done
check "the forged frames reached all 5 modules (peer 99)" 5 "$heard"
max=$(nodes 0 | awk '{ t = int($7 / 256); if (t > m) m = t } END { print m }')
if [ $((max - term0)) -le 16 ] && [ "$max" -lt 16777215 ]; then
	ok "epoch term $term0 -> $max: moved by at most 16"
else
	nok "epoch term $term0 -> $max: the forged epoch was adopted"
fi
check "no module adopted epoch 0xffffffff" 0 \
	"$(nodes 0 | awk '$7 == 4294967295' | wc -l)"
# The election's refusals are visible through netlink (node stats).
n=0
for id in $(rackpwrctl node list | sed -n 's/^id=\([0-9]*\) .*/\1/p'); do
	case "$(stat "$id" elect_rx_unearned) $(stat "$id" elect_rejoins)" in
	[0-9]*" "[0-9]*) n=$((n + 1)) ;;
	esac
done
check "every module reports elect_rx_unearned and elect_rejoins" 5 "$n"
tap_end
