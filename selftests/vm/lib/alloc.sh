# SPDX-License-Identifier: GPL-2.0-only
# Helpers of the power-allocation guest tests (alloc_*.sh, bench_alloc);
# installed as /lib/rackpwr/alloc.sh.  Source tap.sh, psu.sh first.

# Simulated chassis (rackpwr_sim_server.ko, netdevsim-style): SRVBUS makes
# and deletes them, SRVDBG/chassisID/serverN holds each server's knobs.
SRVBUS=/sys/bus/rackpwr_sim_server
SRVDBG=/sys/kernel/debug/rackpwr_sim_server

# chassis_new ID [SLOTS_MASK] / chassis_del ID / chassis_bus ID
chassis_new() { echo "$*" >$SRVBUS/new_device; }
chassis_del() { echo "$1" >$SRVBUS/del_device; }
chassis_bus() { cat "$SRVBUS/devices/rackpwr_sim_server$1/i2c_bus"; }
# srv CHASSIS SLOT KNOB [VALUE]: read (ERR on failure) or write a knob
srv() {
	if [ $# -ge 4 ]; then echo "$4" >"$SRVDBG/chassis$1/server$2/$3"
	else rd "$SRVDBG/chassis$1/server$2/$3"; fi
}

# acting_primary: id of the node that acts as primary now, if one does
acting_primary() {
	rackpwrctl node list |
		sed -n 's/^id=\([0-9]*\) .*state=primary .*acting=1.*/\1/p' |
		head -n1
}
# prim: the node that is primary, preferably one acting (inside its lease;
# a loaded TCG guest lets leases lapse for a moment now and then, and a
# lapse keeps the allocation table), waiting up to 15 s for one
prim() {
	_t=0
	while :; do
		_l=$(rackpwrctl node list)
		_p=$(echo "$_l" | sed -n 's/^id=\([0-9]*\) .*state=primary .*acting=1.*/\1/p' | head -n1)
		[ -n "$_p" ] || _p=$(echo "$_l" | sed -n 's/^id=\([0-9]*\) .*state=primary .*/\1/p' | head -n1)
		{ [ -n "$_p" ] || [ $_t -ge 50 ]; } && break
		usleep 300000; _t=$((_t + 1))
	done
	echo "$_p"
}
# node NODE: NODE, or the acting primary for "P"
node_of() { if [ "$1" = P ]; then prim; else echo "$1"; fi; }

# slotf NODE SLOT KEY: one field of a chassis node's slot
slotf() { field "$3" "$(rackpwrctl slots "$1" "$2")"; }
# (NODE may be P: the acting primary, looked up at every call)
# entf NODE CHASSIS SLOT KEY: a field of the primary's allocation line of
# that slot, "none" when it has none
entf() {
	_l=$(rackpwrctl alloc "$(node_of "$1")" | grep " chassis=$2 slot=$3 ")
	if [ -n "$_l" ]; then field "$4" "$_l"; else echo none; fi
}
# table NODE: the allocation table without node, epoch, ages and want_mw
# (the same after a failover, for comparisons; a rebuilt ledger takes a
# lowered slot's want from the chassis' report, the original one keeps the
# request's)
table() {
	rackpwrctl alloc "$(node_of "$1")" |
		sed 's/^node=[0-9]* epoch=[0-9]* //; s/ age_ms=[0-9]*//; s/ want_mw=[0-9]*//'
}
# pwr NODE KEY: a field of power-get
pwr() { field "$2" "$(rackpwrctl power "$(node_of "$1")")"; }
# until_eq WANT MAX_MS CMD...: run CMD until it prints WANT (at most
# MAX_MS), then print its last output.  Polls every 200 ms: each
# rackpwrctl is a fork and exec, which a TCG guest pays for in the
# timeliness of the election's timers.
until_eq() {
	_w=$1; _m=$2; shift 2; _s=$(now_ms)
	while [ "$("$@")" != "$_w" ] && [ $(($(now_ms) - _s)) -lt "$_m" ]; do
		usleep 200000
	done
	"$@"
}
# new_node ARGS...: create a simulated node, print its id
new_node() { rackpwrctl node new --bus 0 "$@" | sed -n 's/^id=\([0-9]*\) .*/\1/p'; }
# nobody CMD...: run CMD as an unprivileged user (uid/gid 65534, no
# capabilities); busybox su needs the account in /etc/passwd
nobody() {
	chmod 755 /	# the rig's initramfs root is 0700
	grep -q '^nobody:' /etc/passwd ||
		echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >>/etc/passwd
	grep -q '^nogroup:' /etc/group 2>/dev/null ||
		echo 'nogroup:x:65534:' >>/etc/group
	su -s /bin/sh nobody -c "$*"
}
# pwr_sum KEY NODE...: the sum of a power-get counter over nodes
pwr_sum() {
	_k=$1; shift; _s=0
	for _n in "$@"; do _s=$((_s + $(pwr "$_n" "$_k"))); done
	echo $_s
}
# powered CHASSIS: how many of its simulated servers are present and
# have their power on (one read of every knob file)
powered() {
	cat "$SRVDBG/chassis$1"/server*/present "$SRVDBG/chassis$1"/server*/enable |
		awk '{ v[NR] = $1 } END { for (i = 1; i <= NR / 2; i++)
			n += v[i] == 1 && v[i + NR / 2] == 1; print n + 0 }'
}
# stable: wait (up to 15 s) until the primary is out of its recovery and
# its table holds at least one line, so that a snapshot means something
stable() {
	_t=0
	while { [ "$(pwr P recovering)" != 0 ] || [ -z "$(table P)" ]; } &&
	      [ $_t -lt 50 ]; do
		usleep 300000; _t=$((_t + 1))
	done
}
# retry CMD...: run CMD until it succeeds, at most 5 times a second apart
# (an op that acts fails with ESTALE while the primary's lease lapses)
retry() {
	_r=0
	until "$@"; do
		_r=$((_r + 1)); [ $_r -ge 5 ] && return 1
		sleep 1
	done
}
# shed_p CHASSIS SLOT: power-shed at the primary of the moment
shed_p() { rackpwrctl shed "$(prim)" "$@"; }
