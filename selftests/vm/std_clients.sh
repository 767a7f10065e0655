#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# rig-clients: 1
#
# Guest test: standard clients work with rackpwr unmodified, none of them
# through the project's own decoder.
#   iproute2 genl      resolves the family, its operations and groups;
#   ynl (kernel 6.12)  creates, dumps and refuses through the YAML spec, and
#                      follows the events group;
#   pyroute2           dumps the nodes with attribute numbers taken from the
#                      spec alone (selftests/vm/py/rpw_pyroute2.py);
#   node_exporter      its hwmon collector exports the simulated supplies
#                      with the values sysfs holds, without a scrape error;
#                      its textfile collector reads rackpwrd's metrics file
#                      (and refuses a malformed one: the check can fail).
# Runs on the initramfs built with RIG_CLIENTS=1 (vmrun.py --clients).
. /lib/rackpwr/tap.sh
. /lib/rackpwr/psu.sh

SPEC=/usr/share/rackpwr/rackpwr.yaml
ynl() {
	python3 /usr/lib/rackpwr/ynl/cli.py --spec $SPEC --no-schema "$@"
}

echo "TAP version 13"
if psu_setup psu_poll_ms=200 && modprobe rackpwr_sim; then
	ok "modules loaded, assembly on i2c-$BUS"
else
	nok "setup"; tap_end; exit 1
fi

# --- iproute2 genl --------------------------------------------------------
out=$(genl -d ctrl get name rackpwr 2>&1)
case "$out" in
*"Name: rackpwr"*) ok "genl: family rackpwr resolved" ;;
*) nok "genl: family rackpwr resolved ($out)" ;;
esac
# The operations with a handler (events have none), by number: genl lists
# each as "#N:  ID-0xC", groups as "#N:  ID-0xG  name: NAME".  (genl prints
# an operation's flags only for families of version 2 and up.)
want=$(python3 -c "
import yaml
ops = yaml.safe_load(open('$SPEC'))['operations']['list']
print(' '.join(str(i + 1) for i, o in enumerate(ops)
               if 'do' in o or 'dump' in o))")
got=$(echo "$out" | sed -n 's/.*#[0-9]*:  *ID-0x\([0-9a-f]*\) *$/\1/p' |
	while read -r h; do echo $((0x$h)); done | sort -n | tr '\n' ' ')
check "genl: the spec's operations, by number" "$want" "${got% }"
for g in events power; do
	case "$out" in
	*"name: $g"*) ok "genl: multicast group $g" ;;
	*) nok "genl: multicast group $g ($out)" ;;
	esac
done

# --- ynl --------------------------------------------------------------------
out=$(ynl --do node-new --output-json \
	--json '{"kind": "sim", "bus": 0, "addr": 9, "role": "chassis"}' 2>&1)
check "ynl: node-new succeeds" 0 $?
check "ynl: node-new seen by rackpwrctl" 1 \
	"$(rackpwrctl node list | grep -c ' addr=9 ')"
out=$(ynl --dump node-get --output-json 2>&1)
got=$(echo "$out" | python3 -c "
import json, sys
n = json.load(sys.stdin)
print(' '.join('%d:%s' % (x['addr'], x['role']) for x in n))")
check "ynl: node-get dump decodes addr and role by name" "9:chassis" "$got"

# A refused request: extack text, no change.
out=$(ynl --do node-new \
	--json '{"kind": "sim", "bus": 99, "addr": 11, "role": "psu"}' 2>&1)
rc=$?
case "$out" in
*"'msg'"*|*"'bad-attr'"*) ok "ynl: bus out of range refused with extack" ;;
*) nok "ynl: bus out of range refused with extack (rc $rc: $out)" ;;
esac
check "ynl: refused request changed nothing" 1 \
	"$(rackpwrctl node list | grep -c 'kind=sim')"
out=$(ynl --do node-set --json '{"id": 999999, "max-addr": 32}' 2>&1)
case "$out" in
*"'msg'"*) ok "ynl: unknown node refused with an extack message" ;;
*) nok "ynl: unknown node refused with an extack message ($out)" ;;
esac

# Notifications through the events group.
# ynl reads the spec first (seconds under TCG): wait until its socket has
# joined a group (/proc/net/netlink: protocol 16, its port id = its pid).
ynl --subscribe events --sleep 12 --output-json >/tmp/ntf 2>&1 &
sub=$!
for _ in $(seq 100); do
	awk -v p=$sub '$2 == 16 && $3 == p && $4 != "00000000" { f = 1 }
		END { exit !f }' /proc/net/netlink && break
	sleep 0.1
done
rackpwrctl node new --bus 0 --addr 10 --role chassis >/dev/null
wait $sub
got=$(python3 -c "
import json
q = json.load(open('/tmp/ntf'))
print(sum(1 for m in q if m['name'] == 'node-change-ntf'
          and m['msg'].get('addr') == 10))" 2>&1)
if [ "$got" -ge 1 ] 2>/dev/null; then
	ok "ynl: node-change-ntf for the new node (addr 10) received ($got)"
else
	nok "ynl: node-change-ntf for the new node (addr 10) received ($got)"
	head -c 800 /tmp/ntf | sed 's/^/# /'
fi

# --- pyroute2 ---------------------------------------------------------------
out=$(python3 /lib/rackpwr/py/rpw_pyroute2.py $SPEC 2>&1)
check "pyroute2: dump counts every node" "nodes=2" \
	"$(echo "$out" | grep '^nodes=')"
check "pyroute2: addr 9 is a chassis module" 1 \
	"$(echo "$out" | grep -c '^addr=9 role=chassis ')"

# --- node_exporter ----------------------------------------------------------
ip link set lo up 2>/dev/null
mkdir -p /tmp/textfile
prometheus-node-exporter --collector.disable-defaults --collector.hwmon \
	--web.listen-address=127.0.0.1:9100 >/tmp/ne.log 2>&1 &
ne=$!
m=
for _ in $(seq 50); do
	m=$(wget -qO- http://127.0.0.1:9100/metrics 2>/dev/null) && break
	sleep 0.2
done
kill $ne 2>/dev/null
check "node_exporter: hwmon collector succeeded" 1 \
	"$(echo "$m" | grep -c '^node_scrape_collector_success{collector="hwmon"} 1$')"
chips=$(echo "$m" | sed -n \
	's/^node_hwmon_chip_names{chip="\([^"]*\)",chip_name="rackpwr_psu"} 1$/\1/p')
check "node_exporter: six rackpwr_psu chips" 6 "$(echo "$chips" | grep -c .)"
# Supply 0's input power: sysfs in microwatts, exported in watts.
uw=$(rd "$(hw 0)/power1_input")
chip=$(echo "$m" | sed -n \
	's/^node_hwmon_chip_names{chip="\([^"]*\)",chip_name="rackpwr_psu"} 1$/\1/p' |
	grep "_00$(printf %x 88)\$" | head -n1)
got=$(echo "$m" | sed -n \
	"s/^node_hwmon_power_watt{chip=\"$chip\",sensor=\"power1\"} //p")
want=$(awk -v u="$uw" 'BEGIN { printf "%g", u / 1e6 }')
got=$(awk -v g="$got" 'BEGIN { printf "%g", g }')
check "node_exporter: supply 0 power1 in watts ($chip)" "$want" "$got"
check "node_exporter: labels exported" 1 \
	"$(echo "$m" | grep -c "^node_hwmon_sensor_label{chip=\"$chip\",label=\"pin\",sensor=\"power1\"} 1$")"

# rackpwrd's metrics file through the textfile collector, which parses it
# strictly (a malformed file is a scrape error).
rackpwrctl node new --bus 0 --addr 5 --role psu --i2c-bus "$BUS" >/dev/null
PSU=$(rackpwrctl node list | sed -n 's/^id=\([0-9]*\) .* addr=5 .*/\1/p')
mkdir -p /tmp/rs /tmp/textfile /tmp/badtext
rackpwrd --node "$PSU" --state-dir /tmp/rs \
	--metrics /tmp/textfile/rackpwrd.prom >/tmp/rackpwrd.log 2>&1 &
agent=$!
for _ in $(seq 100); do
	grep -q '^rackpwr_policy_acting{.*} 1$' /tmp/textfile/rackpwrd.prom \
		2>/dev/null && break
	sleep 0.1
done
# scrape DIR: the textfile collector's view of DIR
scrape() {
	prometheus-node-exporter --collector.disable-defaults \
		--collector.textfile --collector.textfile.directory="$1" \
		--web.listen-address=127.0.0.1:9101 >/tmp/ne2.log 2>&1 &
	_ne=$!
	for _ in $(seq 50); do
		wget -qO- http://127.0.0.1:9101/metrics 2>/dev/null && break
		sleep 0.2
	done
	kill $_ne 2>/dev/null
	wait $_ne 2>/dev/null
}
m=$(scrape /tmp/textfile)
check "node_exporter: rackpwrd's metrics file parses" 1 \
	"$(echo "$m" | grep -c '^node_textfile_scrape_error 0$')"
check "node_exporter: the agent acts (rackpwr_policy_acting 1)" 1 \
	"$(echo "$m" | grep -c "^rackpwr_policy_acting{node=\"$PSU\"} 1$")"
check_ge "node_exporter: rackpwr_policy_* series exported" 10 \
	"$(echo "$m" | grep -c '^rackpwr_policy_')"
printf 'rackpwr_policy_x{node="1" 1\n' >/tmp/badtext/bad.prom
m=$(scrape /tmp/badtext)
check "node_exporter: a malformed file is a scrape error" 1 \
	"$(echo "$m" | grep -c '^node_textfile_scrape_error 1$')"
kill $agent 2>/dev/null
wait $agent 2>/dev/null

tap_end
