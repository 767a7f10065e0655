#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Authenticated frames on a simulated bus of 4 power-supply modules and 1
# chassis module (rackpwr-protocol.rst, "Authenticated frames"):
#
# - the switch-over procedure of the admin guide (key everywhere, then mode
#   optional everywhere, then required everywhere) drops no frame, and the
#   rack elects one acting primary that every module follows;
# - a module without the key (a power-supply module, which claims the
#   primary role for itself) is ignored - no keyed module follows it - and
#   counted (auth_missing);
# - frames put on the line from no node (bus0/inject): a DATA frame the
#   host tagged with key 1 (HMAC-SHA256, Python's hmac) is delivered once
#   (the kernel's tag equals the reference) and counted as a replay when
#   sent again; the same frame with one tag bit flipped, a WHO_PRIMARY of
#   epoch 0xffffffff tagged with a wrong key, and the plain forged frame of
#   elect_forged are dropped and counted;
# - key rotation (install key 2, send with it, retire key 1) while the
#   rack runs drops no frame and keeps the same primary in the same epoch
#   (see same_view for when a loaded host makes that check a skip);
# - no rackpwrctl output carries key bytes (nl_policy checks raw replies);
# - keyed nodes created and deleted leak no kmalloc object.
. /lib/rackpwr/tap.sh
. /lib/rackpwr/elect.sh

DBG=/sys/kernel/debug/rackpwr_sim/bus0
K1=/tmp/rack-k1
K2=/tmp/rack-k2
# Key 1: bytes 0x40..0x5f, key 2: 0x80..0x9f (hex text, as admins keep them).
echo 404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f >$K1
echo 808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f >$K2
# DATA "auth-test" from 99 to broadcast, key 1, counter 1 (seq 1).
VALID='\176\040\002\377\143\001\030\141\165\164\150\055\164\145\163\164\001\001\000\000\000\000\000\051\073\343\152\314\005\304\040\202\035\176'
# The same with the last tag bit flipped (FCS recomputed).
BADTAG='\176\040\002\377\143\001\030\141\165\164\150\055\164\145\163\164\001\001\000\000\000\000\000\051\073\343\152\314\005\304\041\013\014\176'
# WHO_PRIMARY epoch 0xffffffff from 99, key id 1, tagged with another key.
FORGED='\176\040\020\377\143\002\023\377\377\377\377\001\002\000\000\000\000\000\077\057\330\173\170\371\302\034\170\016\176'
# The plain frame of issue 10 (elect_forged).
PLAIN='\176\020\020\377\143\001\004\377\377\377\377\336\152\176'

# sum KEY [SKIP_ID]: a counter summed over the nodes of bus 0
sum() {
	t=0
	for i in $ids; do
		[ "$i" = "$2" ] && continue
		t=$((t + $(stat "$i" "$1")))
	done
	echo $t
}
# keyed_view [SKIP_ID]: "addr primary epoch" of the keyed nodes
keyed_view() { nodes 0 | awk -v s="$1" '$1 != s { print $2, $5, $7 }' | tr '\n' ' '; }
stalls() { dmesg | grep -c 'election: stall'; }
drops() { echo $(($(sum auth_missing) + $(sum auth_bad) + $(sum auth_replay))); }
# same_view DESC WANT GOT UNEXPECTED: the rack kept its primary and epoch.
# What authentication can do to an election is drop frames: UNEXPECTED is
# the number of frames it dropped beyond those the test injected.  A TCG
# guest on a loaded host re-elects now and then with plain frames too (the
# election tests flake then): a change of view with no unexpected drop is
# timing, not keys, and the check is skipped, not passed.
same_view() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	elif [ "$4" = 0 ]; then
		ok "$1 # SKIP re-elected with no frame dropped by authentication (timing under load; $(stalls) stalls logged): $3"
	else
		nok "$1 (want '$2', got '$3'; $4 frames dropped by authentication)"
	fi
}
# peer99: good frames from address 99 (the injector) summed over the nodes
peer99() {
	t=0
	for i in $ids; do
		n=$(rackpwrctl peers "$i" | sed -n 's/.* addr=99 .*rx_frames=\([0-9]*\).*/\1/p')
		t=$((t + ${n:-0}))
	done
	echo $t
}
# inject FRAME: put it on the line until every module read it intact (an
# injection is not arbitrated: it can collide with a module's frame).
inject() {
	r0=$(peer99)
	for _t in 1 2 3 4 5; do
		printf "$1" >$DBG/inject
		usleep 300000
		[ "$(peer99)" -ge $((r0 + 5)) ] && return 0
	done
	echo "# injection never read intact"
	return 1
}

# The test's commands (15 per rotation step) yield to the kernel's softirq
# thread: on one emulated CPU they starved the modules' timers otherwise.
renice -n 19 -p $$ >/dev/null
# 20 ms of timer lateness, as elect_basic: TCG runs hrtimers late.
modprobe rackpwr elect_tol_us=20000 && modprobe rackpwr_sim ||
	{ nok "load modules"; tap_end; exit 1; }

for a in 1 2 3 4; do rackpwrctl node new --bus 0 --addr $a --role psu >/dev/null; done
rackpwrctl node new --bus 0 --addr 5 --role chassis >/dev/null
ids=$(rackpwrctl node list | sed -n 's/^id=\([0-9]*\) .*/\1/p')

# The admin guide's switch-over: every step on every module first.
rc=0
for i in $ids; do rackpwrctl key set "$i" --id 1 --key-file $K1 || rc=1; done
for i in $ids; do rackpwrctl key set "$i" --mode optional || rc=1; done
for i in $ids; do rackpwrctl key set "$i" --mode required || rc=1; done
check "key 1 set and mode required on all 5 modules" 0 $rc
check "every module: auth=required tx_key=1 rx_key=0" 5 \
	"$(rackpwrctl node list | grep -c 'auth=required tx_key=1 rx_key=0')"
if ms=$(wait_one 0 20000 "$(now_ms)"); then
	ok "authenticated rack: one acting primary that every module follows ($ms ms)"
else
	nok "authenticated rack: one acting primary that every module follows"
	nodes 0 | sed 's/^/# /'
fi
check "the switch-over dropped no frame (auth_missing+bad+replay)" 0 \
	$(($(sum auth_missing) + $(sum auth_bad) + $(sum auth_replay)))
check_ge "frames went out authenticated (tx_frames)" 20 "$(sum tx_frames)"
echo "# primary $(acting_addr 0); addr primary epoch: $(keyed_view)"


# A module without the key: ignored and counted.
miss0=$(sum auth_missing)
view0=$(keyed_view)
rackpwrctl node new --bus 0 --addr 6 --role psu >/dev/null
nokey=$(rackpwrctl node list | sed -n 's/^id=\([0-9]*\) .* addr=6 .*/\1/p')
sleep 4
# Its psu claims compete for urgent access (the protocol document's threat
# model): only whether anyone follows it is asserted.
echo "# keyed modules before: $view0; after: $(keyed_view "$nokey")"
check "none of them follows the module without the key" 0 \
	"$(nodes 0 | awk -v s="$nokey" '$1 != s && $5 == 6' | wc -l)"
check_ge "its frames are dropped and counted (auth_missing)" \
	$((miss0 + 5)) "$(sum auth_missing "$nokey")"
check_ge "it cannot verify the rack's frames either (its auth_bad)" 5 \
	"$(stat "$nokey" auth_bad)"
rackpwrctl node del "$nokey"
sleep 1

# Injected frames.
rackpwrctl monitor --timeout 12 >/tmp/auth-mon &
mon=$!
sleep 1
bad0=$(sum auth_bad)
rep0=$(sum auth_replay)
miss0=$(sum auth_missing)
drop0=$(drops)
view0=$(keyed_view)
inject "$VALID"
check "a frame tagged on the host with key 1 is accepted (no auth drop)" \
	"$bad0 $rep0 $miss0" "$(sum auth_bad) $(sum auth_replay) $(sum auth_missing)"
inject "$VALID"
check "the same frame again: a replay on every module" $((rep0 + 5)) \
	"$(sum auth_replay)"
inject "$BADTAG"
check "one tag bit flipped: bad on every module" $((bad0 + 5)) \
	"$(sum auth_bad)"
inject "$FORGED"
check "WHO_PRIMARY tagged with another key: bad on every module" \
	$((bad0 + 10)) "$(sum auth_bad)"
inject "$PLAIN"
check "the plain forged frame: missing on every module" $((miss0 + 5)) \
	"$(sum auth_missing)"
wait $mon
check "the accepted frame reached user space once per module" 5 \
	"$(grep -c 'src=99 dst=255 type=2 .*payload=617574682d74657374' /tmp/auth-mon)"
same_view "after the injections: same primary, same epoch" "$view0" \
	"$(keyed_view)" $(($(drops) - drop0 - 20))

# Rotation while the rack runs.
bad0=$(sum auth_bad)
drop0=$(drops)
view0=$(keyed_view)
rc=0
first=1
for i in $ids; do
	if [ $first = 1 ]; then
		# The key from stdin, as from a secrets store.
		rackpwrctl key set "$i" --id 2 --key-file - <$K2 || rc=1
		first=0
	else
		rackpwrctl key set "$i" --id 2 --key-file $K2 || rc=1
	fi
done
check "rotation step 1: key 2 installed everywhere (tx_key=1 rx_key=2)" 5 \
	"$(rackpwrctl node list | grep -c 'tx_key=1 rx_key=2')"
for i in $ids; do rackpwrctl key set "$i" --id 2 --use || rc=1; done
sleep 1
for i in $ids; do rackpwrctl key del "$i" --id 1 || rc=1; done
check "rotation commands succeeded" 0 $rc
sleep 2
check "rotation done: every module sends with key 2 and holds no other" 5 \
	"$(rackpwrctl node list | grep -c 'auth=required tx_key=2 rx_key=0')"
check "rotation dropped no frame (auth_missing+bad+replay)" "$drop0" \
	"$(drops)"
same_view "rotation kept the primary and its epoch" "$view0" \
	"$(keyed_view)" $(($(drops) - drop0))
if ms=$(wait_one 0 10000 "$(now_ms)"); then
	ok "after rotation: one acting primary that every module follows ($ms ms)"
else
	nok "after rotation: one acting primary that every module follows"
	nodes 0 | sed 's/^/# /'
fi
rep0=$(sum auth_replay)
inject "$VALID"
check "key 1 retired: its frame is bad now, not a replay" \
	"$((bad0 + 5)) $rep0" "$(sum auth_bad) $(sum auth_replay)"

expect_fail "key-del of the key sent with is refused" "use another key" \
	rackpwrctl key del "$(echo $ids | cut -d' ' -f1)" --id 2
echo 0011 >/tmp/short-key
expect_fail "a 2-byte key file is refused" "hex digits" \
	rackpwrctl key set "$(echo $ids | cut -d' ' -f1)" --id 3 \
	--key-file /tmp/short-key
out=$(rackpwrctl node list; rackpwrctl stats)
case "$out" in
*4041424344454647*|*8081828384858687*|*@ABCDEFG*) nok "rackpwrctl output carries key bytes" ;;
*) ok "no key bytes in node list or stats" ;;
esac

# Keys are freed with their node: three rounds of keyed nodes (two keys
# each) created and deleted on bus 1; a kmalloc cache that grows by half
# the nodes or more in every round leaks (as node_leak.sh counts).
slabs() {
	sleep 1		# nodes are freed after an RCU grace period
	for s in /sys/kernel/slab/kmalloc-*/shrink; do
		[ -e "$s" ] && echo 1 >"$s" 2>/dev/null
	done
	awk 'NR > 2 && $1 ~ /^kmalloc-/ { print $1, $2 }' /proc/slabinfo
}
keyloop() {
	_i=0
	while [ $_i -lt "$1" ]; do
		_id=$(field id "$(rackpwrctl node new --bus 1 --addr 9)")
		rackpwrctl key set "$_id" --id 1 --key-file $K1 --mode required &&
		rackpwrctl key set "$_id" --id 2 --key-file $K2 --use &&
		rackpwrctl node del "$_id" || return 1
		_i=$((_i + 1))
	done
}
N=30
keyloop 5
: >/tmp/grew
rc=0
for r in 1 2 3; do
	slabs >/tmp/before
	keyloop $N || rc=1
	slabs >/tmp/after
	awk 'NR == FNR { b[$1] = $2; next } $2 - b[$1] >= n / 2 { print $1 }' \
		n=$N /tmp/before /tmp/after >>/tmp/grew
done
check "keyed nodes created and deleted" 0 $rc
check "no kmalloc cache grows with keyed nodes" "" \
	"$(sort /tmp/grew | uniq -c | awk '$1 == 3 { print $2 }')"
tap_end
