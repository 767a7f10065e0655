#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The allocation policy through the real daemon: one rackpwrd per
# power-supply node (1, 2), each node bound to a simulated assembly with one
# 1600 W supply per bank (N+N budget: the weaker rail, 2 x 1600 W = 3.2 kW
# of 6.4 kW usable), and a chassis node (10) with eight simulated servers
# (slot n needs 400 + 100 n W); priorities from the agents' configuration.
# In one VM boot:
#  - the first server is granted; the rack fills to the N+N budget and a
#    request beyond it is queued for redundancy, though it fits the usable
#    capacity (N+N kept); a release lets the waiting request in;
#  - SIGHUP with "when-full deny": the next request beyond the budget is
#    denied; SIGHUP with a bad file: every error logged with file:line,
#    the old configuration (mode, digest) stays;
#  - a bank-B supply fails: the lowest priority is shed first, one at a
#    time (a server that ignores its shed holds the next one back until
#    the deadline, is reported and skipped); the acting agent SIGKILLed
#    in the middle of that shed: the kernel's fail-safe keeps every
#    grant, the agent restarted resyncs without changing one; sheds go on
#    until the budget holds; the supply repaired: the shed servers are
#    powered on and granted again, highest priority first;
#  - rackpwrctl why names each decision with its numbers; rackpwrctl mode
#    gives one agent another policy: the digests differ, the kernel and
#    the agents report the mismatch, the state file shows it; mode default
#    and they agree again;
#  - the metrics file parses as Prometheus text (strict parser below)
#    and agrees with the state file; SIGTERM leaves every grant in place.
. /lib/rackpwr/tap.sh
. /lib/rackpwr/psu.sh
. /lib/rackpwr/elect.sh
. /lib/rackpwr/alloc.sh

SD=/tmp/rpd
CONF=/tmp/rackpwrd.conf
rm -rf $SD && mkdir -p $SD
{ modprobe at24 && modprobe rackpwr_sim_pmbus && modprobe rackpwr_sim_server &&
  modprobe rackpwr psu_poll_ms=250 cap_query_ms=2000 alloc_shed_ms=20000 &&
  modprobe rackpwr_sim && asm_new 1 0x09 && asm_new 2 0x09 && chassis_new 1 0; } ||
	{ nok "load modules, two assemblies, one empty chassis"; tap_end; exit 1; }
# Slow heartbeats and capacity queries: a loaded TCG guest stalls for a
# second now and then; a false failover costs the new primary a capacity
# round, a module that misses three queries counts as lost (zero).
E="--hb-us 200000 --miss 6"
NA=$(new_node --addr 1 --role psu --i2c-bus "$(asm_bus 1)" $E)
NB=$(new_node --addr 2 --role psu --i2c-bus "$(asm_bus 2)" $E)
NC=$(new_node --addr 10 --role chassis --i2c-bus "$(chassis_bus 1)")
t=0
while ! settled 3 && [ $t -lt 300 ]; do usleep 100000; t=$((t + 1)); done
check "one primary, followed by all" 1 "$n"
check "usable capacity: 4 x 1600 W (mW)" 6400000 "$(until_eq 6400000 15000 pwr P usable_mw)"

cat >$CONF <<EOF
# the test's policy
mode n+n
shed-deadline 6s
prio 10/0 70
prio 10/1 60
prio 10/2 50
prio 10/3 40   # shed before 2
prio 10/4 30
prio 10/5 20
prio 10/6 10
EOF
# agent NODE: start (again) the agent of NODE, logging to NODE.log
agent() {
	rackpwrd --node "$1" --config $CONF --state-dir $SD \
		--metrics $SD/node-$1.prom >>"$1.log" 2>&1 &
	eval "PID$1=$!"
}
: >"$NA.log"
: >"$NB.log"
agent "$NA"
agent "$NB"
pid_of() { eval "echo \$PID$1"; }
logs() { cat "$NA.log" "$NB.log"; }
# sval NODE KEY: a top-level value of NODE's agent's state file
sval() { sed -n "s/.*\"$2\": \"\{0,1\}\([^,\"]*\).*/\1/p" "$SD/node-$1.json" | head -n1; }
check "both agents bound" 2 "$(until_eq 2 10000 pwr_sum bound "$NA" "$NB")"
acting_agents() { grep -l '"acting": true' $SD/node-*.json 2>/dev/null | wc -l; }
check "the acting primary's agent decides" 1 "$(until_eq 1 15000 acting_agents)"
D=$(sval "$NA" digest)
check "both agents announce the same digest" "$D" "$(sval "$NB" digest)"

# granted SLOT DESC
granted() {
	check "$2: granted" granted "$(until_eq granted 10000 slotf "$NC" "$1" state)"
	check "$2: server powered" 1 "$(until_eq 1 5000 srv 1 "$1" enable)"
}
# until_ge MIN MAX_MS CMD...: run CMD until it prints at least MIN
until_ge() {
	_w=$1; _m=$2; shift 2; _s=$(now_ms)
	while [ "$("$@")" -lt "$_w" ] 2>/dev/null && [ $(($(now_ms) - _s)) -lt "$_m" ]; do
		usleep 200000
	done
	"$@"
}
why_f() { field "$2" "$(rackpwrctl why "10/$1" --state-dir $SD | head -n1)"; }

# --- ¶41: the first server is granted ------------------------------
srv 1 0 present 1
granted 0 "first server"
check "why 10/0: grant" grant "$(until_eq grant 5000 why_f 0 verdict)"
check "why 10/0: the watts asked (mW)" 400000 "$(why_f 0 mw)"
check "why 10/0: decided by an agent of the rack" 1 \
	"$(why_f 0 node | grep -cx "$NA\|$NB")"

# --- fill to the N+N budget; beyond it: queued for redundancy -------
for s in 1 2 4 5; do srv 1 $s present 1; done
for s in 1 2 4 5; do granted $s "slot $s"; done
check "granted: exactly the N+N budget (mW)" 3200000 "$(until_eq 3200000 5000 pwr P granted_mw)"
srv 1 3 present 1
check "slot 3 beyond the budget: queued" queued "$(until_eq queued 10000 slotf "$NC" 3 state)"
check "queued for redundancy, not capacity" redundancy "$(until_eq redundancy 5000 why_f 3 reason)"
rackpwrctl why 10/3 --state-dir $SD | sed 's/^/# /'
check "its reason has the mode and the numbers" 1 \
	"$(rackpwrctl why 10/3 --state-dir $SD | grep -c 'queued: n+n: rails A and B 3.20 kW usable, 3.20 kW granted, request 0.70 kW')"
check "N+N kept: 3.2 of 6.4 kW granted" 3200000 "$(pwr P granted_mw)"
check "slot 3 not powered" 0 "$(srv 1 3 enable)"

# --- ¶42: a release lets the waiting request in --------------------
srv 1 4 off 1
check "slot 4 released" off "$(until_eq off 10000 slotf "$NC" 4 state)"
granted 3 "the waiting request after the release"
check "granted now (mW)" 3100000 "$(until_eq 3100000 5000 pwr P granted_mw)"

# --- SIGHUP: when-full deny; ¶43 denied when full -------------------
echo "when-full deny" >>$CONF
kill -HUP "$(pid_of "$NA")" "$(pid_of "$NB")"
check "reload applied" 2 "$(until_eq 2 5000 sh -c "cat $NA.log $NB.log | grep -c 'reload: $CONF applied'")"
D2=$(sval "$NA" digest)
check "a new policy, a new digest" 1 "$([ "$D2" != "$D" ] && echo 1)"
srv 1 6 present 1
check "slot 6 beyond the budget: denied" denied "$(until_eq denied 10000 slotf "$NC" 6 state)"
check "why 10/6: deny" deny "$(until_eq deny 5000 why_f 6 verdict)"
check "denied for redundancy" redundancy "$(why_f 6 reason)"
check "nothing more granted (mW)" 3100000 "$(pwr P granted_mw)"

# --- SIGHUP with a bad file: the old configuration stays -------------
cp $CONF $CONF.good
printf 'mode n+3\nshed-deadline 1h\nbogus\n' >>$CONF
kill -HUP "$(pid_of "$NA")"
check "bad file: every error with file:line" 3 \
	"$(until_eq 3 5000 sh -c "grep -c 'error: $CONF:1[0-9]: ' $NA.log")"
grep "error: $CONF:" "$NA.log" | sed 's/^/# /'
check "bad file: not applied, said so" 1 "$(until_eq 1 5000 sh -c "grep -c 'not applied; keeping' $NA.log")"
check "the mode in force stays" n+n "$(sval "$NA" mode)"
check "the digest in force stays" "$D2" "$(sval "$NA" digest)"
cp $CONF.good $CONF

# --- ¶45-46: a supply fails: shed lowest priority, one at a time ----
# Granted: 0 (p70, 400 W), 1 (p60, 500), 2 (p50, 600), 3 (p40, 700),
# 5 (p20, 900) = 3.1 kW.  Rail B falls to 1600 W: the budget too.
srv 1 5 ignore_shed 1
echo 1 >$SIMDBG/asm2/psu3/input_lost
check "slot 5, lowest priority, shed first" shedding \
	"$(until_eq shedding 15000 slotf "$NC" 5 state)"
check "one at a time: slot 3 keeps its grant meanwhile" granted "$(slotf "$NC" 3 state)"
P=$(prim)
before=$(table P)
echo "$before" | sed 's/^/# before: /'
kill -KILL "$(pid_of "$P")"
wait "$(pid_of "$P")" 2>/dev/null
check "agent killed mid-shed: the node has no holder" 0 "$(until_eq 0 5000 pwr P bound)"
check "fail-safe: every grant stays" "$before" "$(table P)"
r0=$(logs | grep -c 'resync done')
agent "$P"
check "agent back: bound again" 1 "$(until_eq 1 10000 pwr P bound)"
check_ge "the acting agent resynced" $((r0 + 1)) "$(until_ge $((r0 + 1)) 10000 sh -c "cat $NA.log $NB.log | grep -c 'resync done'")"
check "resynced: no grant changed" "$before" "$(table P)"
check "slot 3 still granted while slot 5 ignores its shed" granted "$(slotf "$NC" 3 state)"
# The policy's deadline (6 s; the kernel's is 20 s): reported, skipped;
# then 3, 2 and 1 go.
check_ge "the server that ignored its shed is reported" 1 \
	"$(until_ge 1 20000 sh -c "cat $NA.log $NB.log | grep -c 'chassis 10 slot 5 did not comply'")"
# A shed server's chassis asks again once the shed is over: it waits in
# the queue (queued even under "when-full deny") for the capacity.
check "then slot 3 (p40) is shed, asks again, waits" queued \
	"$(until_eq queued 20000 slotf "$NC" 3 state)"
check "then slot 2 (p50)" queued "$(until_eq queued 20000 slotf "$NC" 2 state)"
check "then slot 1 (p60): the budget holds (mW)" 1300000 \
	"$(until_eq 1300000 20000 pwr P granted_mw)"
check "slot 0 (p70) keeps its grant" granted "$(slotf "$NC" 0 state)"
# order SED: the first of each slot that SED picks from both logs, in
# time order (both agents stamp with the same monotonic clock)
order() {
	logs | sort | sed -n "$1" | awk '!seen[$0]++' | tr '\n' ' ' | sed 's/ $//'
}
logs | sort | grep 'shed chassis 10 slot' | sed 's/^/# /'
check "shed order: 5, 3, 2, 1" "5 3 2 1" \
	"$(order 's/.*] warning: shed chassis 10 slot \([0-9]\).*/\1/p')"

# --- repaired: the shed servers come back, highest priority first ---
srv 1 5 ignore_shed 0
read -r t_rep _ </proc/uptime
echo 0 >$SIMDBG/asm2/psu3/input_lost
for s in 1 2 3; do granted $s "slot $s restored"; done
check "granted after the repair (mW)" 3100000 "$(until_eq 3100000 10000 pwr P granted_mw)"
# The agents stamp their lines with the monotonic clock, as /proc/uptime.
check "restored in priority order: 1, 2, 3" "1 2 3" \
	"$(logs | sort | awk -v t="$t_rep" '{ s = $0; sub(/^\[ */, "", s); sub(/\].*/, "", s) }
		s + 0 > t + 0' |
		sed -n 's/.*chassis 10 slot \([0-9]\) req [0-9]*: granted.*/\1/p' |
		awk '!seen[$0]++' | tr '\n' ' ' | sed 's/ $//')"
grep -h '"slot": [0-9]' $SD/node-*.json | sed 's/^/# state: /'

# --- two agents, two policies: the mismatch is reported --------------
P=$(prim)
O=$([ "$P" = "$NA" ] && echo "$NB" || echo "$NA")
OA=$([ "$O" = "$NA" ] && echo 1 || echo 2)	# its module's bus address
check "agents agree: no mismatch in the state file" 0 "$(grep -c '"match": false' $SD/node-$P.json)"
check "rackpwrctl mode: the other agent runs n+1" "node=$O mode=n+1" "$(rackpwrctl mode "$O" n+1 --state-dir $SD)"
check_ge "the acting agent reports the mismatch" 1 \
	"$(until_ge 1 10000 sh -c "cat $NA.log $NB.log | grep -c 'POLICY MISMATCH: module $OA '")"
check_ge "the kernel logs it" 1 "$(until_ge 1 5000 sh -c "dmesg | grep -c 'policy digest mismatch'")"
check "the state file shows it" 1 "$(until_eq 1 5000 sh -c "cat $SD/node-*.json | grep -c '\"match\": false' | awk '{ print (\$1 >= 1) }'")"
check_ge "the other agent sees it too (its own line)" 1 \
	"$(until_ge 1 10000 sh -c "grep -c 'POLICY MISMATCH: module $OA ' $O.log")"
check_ge "metrics: the mismatch" 1 "$(until_ge 1 5000 sh -c "cat $SD/node-*.prom | sed -n 's/^rackpwr_policy_digest_mismatches{[^}]*} //p' | awk '{ s += \$1 } END { print s + 0 }'")"
check "mode default: the same policy again" "node=$O mode=n+n" "$(rackpwrctl mode "$O" default --state-dir $SD)"
check "they agree again" 0 "$(until_eq 0 10000 sh -c "cat $SD/node-*.json | grep -c '\"match\": false'")"
expect_fail "mode refuses a mode that does not exist" "not n+n, n+1, none" \
	rackpwrctl mode "$O" n+2 --state-dir $SD
expect_fail "mode: only root" "only root" nobody rackpwrctl mode "$O" n+1 --state-dir $SD

# --- metrics: strict Prometheus text ----------------------------------
# Every line a HELP, a TYPE (before its samples, once per name) or a sample
# "name{label="value",...} number" of a TYPEd name; no series twice.
promcheck() {
	awk '
	function fail(m) { print "# " FILENAME ":" NR ": " m ": " $0; bad++ }
	/^# HELP / { if (!match($3, /^[a-zA-Z_:][a-zA-Z0-9_:]*$/)) fail("help name");
		     if (help[$3]++) fail("HELP twice"); next }
	/^# TYPE / { if (NF != 4 || $4 !~ /^(gauge|counter)$/) fail("type");
		     if (type[$3]++) fail("TYPE twice"); next }
	/^#/ { fail("comment"); next }
	{
		if (!match($0, /^[a-zA-Z_:][a-zA-Z0-9_:]*/)) { fail("name"); next }
		name = substr($0, 1, RLENGTH); rest = substr($0, RLENGTH + 1)
		if (!type[name]) fail("sample before its TYPE")
		if (substr(rest, 1, 1) == "{") {
			lbl = "[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\.)*\""
			if (!match(rest, "^\\{" lbl "(," lbl ")*\\}")) { fail("labels"); next }
			series = name substr(rest, 1, RLENGTH); rest = substr(rest, RLENGTH + 1)
		} else series = name
		if (rest !~ /^ -?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/) fail("value")
		if (seen[series]++) fail("series twice")
		n++
	}
	END { print n + 0, bad + 0 }' "$1"
}
M=$SD/node-$P.prom
r=$(promcheck "$M")
check "metrics file: strict Prometheus text, no error" 0 "${r#* }"
check_ge "metrics file: samples" 20 "${r% *}"
g=$(sed -n 's/.*"granted_mw": \([0-9]*\).*/\1/p' $SD/node-$P.json)
check "metrics agree with the state file: granted watts" \
	"$((g / 1000)).$(printf %03d $((g % 1000)))" \
	"$(sed -n "s/^rackpwr_policy_granted_watts{node=\"$P\"} //p" "$M")"
check "metrics: slot 0 holds 400 W" 400.000 \
	"$(sed -n "s/^rackpwr_policy_slot_held_watts{node=\"$P\",chassis=\"10\",slot=\"0\"} //p" "$M")"
check_ge "metrics: sheds counted (the restarted agent's 3)" 3 \
	"$(cat $SD/node-*.prom | sed -n 's/^rackpwr_policy_sheds_total{[^}]*} //p' | awk '{ s += $1 } END { print s }')"

# --- SIGTERM: the agents go, the grants stay -------------------------
before=$(table P)
kill -TERM "$(pid_of "$NA")" "$(pid_of "$NB")"
wait "$(pid_of "$NA")"; ra=$?
wait "$(pid_of "$NB")"; rb=$?
check "SIGTERM: both agents exit 0" "0 0" "$ra $rb"
check "no holder any more" 0 "$(until_eq 0 5000 pwr_sum bound "$NA" "$NB")"
check "every grant stays" "$before" "$(table P)"
check "they said so" 2 "$(logs | grep -c 'grants stay')"
check "and removed their pid files" 0 "$(ls $SD/*.pid 2>/dev/null | wc -l)"
logs | sort | grep -E 'error|warning|restore|reload|MISMATCH|deciding|bound' | sed 's/^/# agent: /' | head -n 120

for s in 0 1 2 3 4 5 6 7; do srv 1 $s present 0 2>/dev/null; done
rackpwrctl node del "$NC"; rackpwrctl node del "$NA"; rackpwrctl node del "$NB"
chassis_del 1; asm_del 1; asm_del 2
rmmod rackpwr_sim && rmmod rackpwr_sim_server && rmmod rackpwr_sim_pmbus &&
	rmmod rackpwr && ok "modules unloaded" || nok "modules unloaded"
tap_end
