# SPDX-License-Identifier: GPL-2.0-only
#
# Election helpers for guest tests (elect_basic, elect_prio); sourced after
# tap.sh.

now_ms() { read -r up _ </proc/uptime; echo $((${up%.*} * 1000 + 1${up#*.}0 - 1000)); }

# nodes BUS: "id addr role state primary acting epoch" per node
nodes() {
	rackpwrctl node list | awk -v bus="bus=$1" '$0 ~ bus" " {
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		print v["id"], v["addr"], v["role"], v["state"], v["primary"], v["acting"], v["epoch"] }'
}
acting_addr() { nodes "$1" | awk '$6 == 1 { print $2 }'; }
acting_id() { nodes "$1" | awk '$6 == 1 { print $1 }'; }

# wait_one BUS MAX_MS T0 [SKIP_ID [POLL_US]]: until exactly one node acts as
# primary and every node (but SKIP_ID) follows it; prints ms since T0.
wait_one() {
	while :; do
		l=$(nodes "$1" | awk -v s="$4" '$1 != s')
		p=$(echo "$l" | awk '$6 == 1 { print $2 }')
		if [ "$(echo "$l" | awk '$6 == 1' | wc -l)" = 1 ] &&
		   [ "$(echo "$l" | awk -v p="$p" '$5 != p' | wc -l)" = 0 ]; then
			echo $(($(now_ms) - $3))
			return 0
		fi
		[ $(($(now_ms) - $3)) -gt "$2" ] && break
		usleep "${5:-100000}"
	done
	echo "never"
	return 1
}
# settled N: exactly one node is in state primary and N nodes follow it;
# sets n (nodes in state primary) and a (its address)
settled() {
	l=$(rackpwrctl node list)
	n=$(echo "$l" | grep -c 'state=primary')
	a=$(echo "$l" | sed -n 's/.* addr=\([0-9]*\) .*state=primary.*/\1/p')
	[ "$n" = 1 ] && [ "$(echo "$l" | grep -c " primary=$a ")" = "$1" ]
}
