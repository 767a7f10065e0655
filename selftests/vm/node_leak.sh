#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# No memory leaks over a node's life (issue 9: every node created leaked
# its first MAC, a 7.3 KB kmalloc-8k object).  The guest kernel has no
# kmemleak, so compare the kmalloc caches' object counts in /proc/slabinfo
# over loops of:
#   sim      node-new (with an address: create + configure) and node-del
#   ldisc    rackpwrctl attach with an address (TIOCSETD + node-set), detach
# A leak of one object per node shows as growth by the number of nodes;
# the per-CPU slab caches are flushed before each count, and a cache may
# grow by half the iterations before the test fails: a cache's count moves
# by whole slabs that come and go between counts (42 objects of
# kmalloc-96, with no trend over 400 more nodes).
. /lib/rackpwr/tap.sh

NSIM=${NSIM:-200}
NLD=${NLD:-60}

# slabs: "cache active_objs" of every kmalloc cache, per-CPU slabs flushed.
slabs() {
	sleep 1		# nodes are freed after an RCU grace period
	for s in /sys/kernel/slab/kmalloc-*/shrink; do
		[ -e "$s" ] && echo 1 >"$s" 2>/dev/null
	done
	awk 'NR > 2 && $1 ~ /^kmalloc-/ { print $1, $2 }' /proc/slabinfo
}

# grown BEFORE AFTER N: check that no cache grew by N/2 objects or more.
grown() {
	awk -v n="$3" 'NR == FNR { b[$1] = $2; next }
		{ d = $2 - b[$1]; if (d > max) { max = d; c = $1 } }
		END { printf "%s %d\n", c ? c : "none", max }' "$1" "$2" >grown.txt
	read -r cache growth <grown.txt
	echo "# largest growth over $3 iterations: $cache +$growth objects"
	[ "$growth" -lt $(($3 / 2)) ]
}


modprobe rackpwr && modprobe rackpwr_sim || {
	nok "load modules"
	tap_end
	exit 1
}
ok "modules loaded"

# sim: create (with configuration) and delete
simloop() {
	_i=0
	_bad=0
	while [ $_i -lt "$1" ]; do
		_out=$(rackpwrctl node new --bus 0 --addr $((_i % 200 + 1)))
		rackpwrctl node del "$(field id "$_out")" || _bad=$((_bad + 1))
		_i=$((_i + 1))
	done
	return $_bad
}
simloop 20		# warm the caches up
slabs >before.txt
if simloop "$NSIM"; then ok "$NSIM sim nodes created and deleted"
else nok "$NSIM sim nodes created and deleted"; fi
slabs >after.txt
if grown before.txt after.txt "$NSIM"; then
	ok "sim node-new/del: no kmalloc cache grows with the nodes"
else
	nok "sim node-new/del: kmalloc caches grow with the nodes (leak)"
fi
check "no sim node left" 0 "$(rackpwrctl node list | grep -c kind=sim)"

# ldisc: attach with an address, detach
ldloop() {
	_i=0
	_bad=0
	while [ $_i -lt "$1" ]; do
		rm -f att.txt
		rackpwrctl attach "$RIG_BUS" --addr $((_i % 200 + 1)) \
			>att.txt 2>&1 &
		_p=$!
		attached att.txt || _bad=$((_bad + 1))
		kill $_p
		wait $_p 2>/dev/null
		_i=$((_i + 1))
	done
	[ $_bad = 0 ] || cat att.txt
	return $_bad
}
ldloop 5
slabs >before.txt
if ldloop "$NLD"; then ok "$NLD attaches with an address and detaches"
else nok "$NLD attaches with an address and detaches"; fi
slabs >after.txt
if grown before.txt after.txt "$NLD"; then
	ok "ldisc attach/detach: no kmalloc cache grows with the nodes"
else
	nok "ldisc attach/detach: kmalloc caches grow with the nodes (leak)"
fi
check "no ldisc node left" 0 "$(rackpwrctl node list | grep -c kind=ldisc)"

rmmod rackpwr_sim && rmmod rackpwr && ok "modules unloaded" ||
	nok "modules unloaded"
tap_end
