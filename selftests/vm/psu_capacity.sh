#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Capacity crosses the bus: three power-supply modules on the simulated bus
# share this VM's simulated assembly.  The primary learns every module's
# capacity (CAP_QUERY/CAP_REPORT), a supply failure reaches it within one
# poll interval, and a module that stops answering counts as lost.
. /lib/rackpwr/tap.sh
. /lib/rackpwr/psu.sh
. /lib/rackpwr/elect.sh

POLL_MS=250
psu_setup psu_poll_ms=$POLL_MS cap_query_ms=500 && modprobe rackpwr_sim ||
	{ nok "load modules"; tap_end; exit 1; }
sleep 1

for a in 1 2 3; do rackpwrctl node new --bus 0 --addr $a --role psu >/dev/null; done
# primary_id: id of the node in state primary (it keeps the rack's table)
primary_id() { rackpwrctl node list | sed -n 's/^id=\([0-9]*\) .*state=primary.*/\1/p'; }
# Settled: one node in state primary and all three follow it (modules
# started one after another may promote at once and resolve the conflict).
t=0
while ! settled 3 && [ $t -lt 300 ]; do usleep 100000; t=$((t + 1)); done
check "one primary was elected" 1 "$n"

# entries [NODE]: "addr bank_a bank_b lost" per assembly known to NODE
# (default: the current primary)
entries() {
	rackpwrctl capacity "${1:-$(primary_id)}" | sed 's/[a-z_]*=//g' |
		awk '{ print $2, $3, $4, $9 }'
}
t=0
while [ "$(entries | wc -l)" -lt 3 ] && [ $t -lt 50 ]; do usleep 100000; t=$((t + 1)); done
check "primary knows all three assemblies" 3 "$(entries | wc -l)"
entries | sed 's/^/# /'
a0=$(entries | awk 'NR == 1 { print $2 }')
check_ge "bank A capacity reported" 1 "$a0"

rackpwrctl monitor --timeout 30 > mon.txt &
mon=$!
sleep 1
echo 1 > $SIM/psu0/input_lost
# One poll interval for the supply, plus the report on the bus.
usleep $(( (POLL_MS * 2 + 300) * 1000 ))
low=$(entries | awk -v a="$a0" '$2 < a' | wc -l)
entries | sed 's/^/# /'
check "supply failure reached the primary for every assembly" 3 "$low"
kill $mon; wait $mon 2>/dev/null
check_ge "capacity events were sent" 3 "$(grep -c '^capacity ' mon.txt)"
echo 0 > $SIM/psu0/input_lost
usleep $(( (POLL_MS * 2 + 300) * 1000 ))
check "capacity back everywhere" 3 "$(entries | awk -v a="$a0" '$2 == a' | wc -l)"

# A secondary that stops answering counts as lost.  (Cut off, it elects
# itself in its own segment: no quorum, see rackpwr-election.rst.)
P=$(primary_id)
S=$(rackpwrctl node list | sed -n 's/^id=\([0-9]*\) .*state=secondary.*/\1/p' | head -n1)
SA=$(field addr "$(rackpwrctl node show "$S")")
echo 1 > /sys/kernel/debug/rackpwr_sim/bus0/sim0.$S/partition
sleep 3
check "silent module counts as lost" 1 \
	"$(entries "$P" | awk -v a="$SA" '$1 == a { print $4 }')"
check "lost module's capacity counts as zero" 0 \
	"$(entries "$P" | awk -v a="$SA" '$1 == a { print $2 }')"
echo 0 > /sys/kernel/debug/rackpwr_sim/bus0/sim0.$S/partition
sleep 2
check "module back after the partition heals" 0 \
	"$(entries | awk -v a="$SA" '$1 == a { print $4 }')"

for id in $(rackpwrctl node list | sed -n 's/^id=\([0-9]*\) .*/\1/p'); do rackpwrctl node del "$id"; done
rmmod rackpwr_sim && rmmod rackpwr && rmmod rackpwr_sim_pmbus && ok "modules unloaded" ||
	nok "modules unloaded"
tap_end
