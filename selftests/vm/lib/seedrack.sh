# SPDX-License-Identifier: GPL-2.0-only
# The seed's rack in one guest (issue 13), for the rack_* tests, the demo
# and the benches; installed as /lib/rackpwr/seedrack.sh.  Source
# /lib/rackpwr/tap.sh first; this file sources psu.sh, elect.sh and
# alloc.sh (definitions only).
#
# seedrack_up [--no-agents] [--watch FILE] builds, on one simulated bus at
# 115200 baud (rackpwr_sim.ko):
#   power-supply nodes addr 1 and 2, node i bound to simulated assembly i
#     (rackpwr_sim_pmbus ID i) of six supplies, bank A 0-2, bank B 3-5,
#     each rated 6 kW (rackpwr,rated-power-mw): 18 kW per bank;
#   chassis nodes addr 11..16: chassis index c (1..6) is addr 10 + c,
#     bound to simulated chassis c (rackpwr_sim_server ID c) of eight
#     servers, all present and off;
#   one rackpwrd --node ID per power-supply node (not with --no-agents),
#     config $RACK_CONF (mode n+n, shed-deadline 6s, when-full queue and
#     the 48 priorities below), state in $RACK_SD, log $RACK_SD/ID.log;
# then waits until one primary is followed by all eight nodes, the
# primary knows both assemblies (usable 72 kW), and (with agents) both
# agents are bound and one of them acts.
#
# The numbers (chosen so that every scenario of issue 13 is exact):
#   server watts   slot s of every chassis: 400 + 100 s W (the
#                  simulator's default EEPROM): 400 .. 1100 W, 6.0 kW a
#                  chassis, 36.0 kW the rack
#   priority       chassis c, slot s: 194 + c - 6 s (all 48 distinct,
#                  153 .. 200): within a slot column chassis 6 comes
#                  first, the opposite of the kernel's tie order, so the
#                  shed order shows the configuration at work
#   capacity       rail A = rail B = 2 x 3 x 6 kW = 36 kW, usable 72 kW;
#                  n+n budget = the weaker rail = 36 kW = the 48 servers
#                  exactly: a storm of all 48 is granted whole, nothing
#                  more fits
#   one supply of bank B failed: rail B 30 kW, budget 30 kW, 6 kW over:
#                  shed (priority 153 .. 158) 11/7, 12/7, 13/7, 14/7,
#                  15/7, 16/7 (1100 W each): 29.4 kW granted
#   one module lost: one assembly, budget 18 kW = chassis 1-3 exactly
#
#   c \ s   0    1    2    3    4    5    6    7     (priority)
#   1     195  189  183  177  171  165  159  153
#   2     196  190  184  178  172  166  160  154
#   3     197  191  185  179  173  167  161  155
#   4     198  192  186  180  174  168  162  156
#   5     199  193  187  181  175  169  163  157
#   6     200  194  188  182  176  170  164  158
#
# Exports: RACK_PSU (the two power-supply node ids, addr 1 first),
# RACK_CCM (the six chassis node ids, chassis 1 first), RACK_PRIMARY (the
# acting primary's node id when seedrack_up returns), RACK_CONF, RACK_SD.
# SEEDRACK_MODPARAMS replaces the rackpwr module parameters below.
# Helpers (C: chassis index 1..6, S: slot 0..7; A: assembly 1..2, I:
# supply 0..5) are listed where they are defined.
. /lib/rackpwr/psu.sh
. /lib/rackpwr/elect.sh
. /lib/rackpwr/alloc.sh

RACK_SUPPLY_MW=6000000
RACK_USABLE_MW=72000000
RACK_BUDGET_MW=36000000
RACK_CONF=${RACK_CONF:-/tmp/seedrack.conf}
RACK_SD=${RACK_SD:-/tmp/seedrack}
# Slow heartbeats: a loaded TCG guest stalls for a second now and then,
# and a false failover costs a capacity round (as in agent_policy).
RACK_ELECT=${RACK_ELECT:-"--hb-us 200000 --miss 6"}
# Capacity queries every 2 s: a module that misses three counts as lost,
# and a loaded TCG guest stalls for seconds (agent_policy does the same).
SEEDRACK_MODPARAMS=${SEEDRACK_MODPARAMS:-"psu_poll_ms=250 cap_query_ms=2000 alloc_shed_ms=20000"}

# rack_watts S / rack_prio C S: the table above (W / 0..255)
rack_watts() { echo $((400 + 100 * $1)); }
rack_prio() { echo $((194 + $1 - 6 * $2)); }
# rack_addr C: the chassis' bus address; rack_ccm C: its node id
rack_addr() { echo $((10 + $1)); }
rack_ccm() { echo "$RACK_CCM" | cut -d' ' -f"$1"; }
# rack_psu I: node id of power-supply node I (1, 2: its address)
rack_psu() { echo "$RACK_PSU" | cut -d' ' -f"$1"; }

# rack_srv C S KNOB [VALUE]: read or write a server's simulator knob
rack_srv() { srv "$@"; }
# rack_on C S: power-on trigger (the button); rack_off C S: orderly off
# (the server shuts itself down); rack_sleep C S; rack_wake C S;
# rack_pull C S: abrupt removal; rack_insert C S: insertion (a fresh
# server: it asks for power); rack_ignore_shed C S 0|1
rack_on() { srv "$1" "$2" button 1; }
rack_off() { srv "$1" "$2" off 1; }
rack_sleep() { srv "$1" "$2" sleep 1; }
rack_wake() { srv "$1" "$2" wake 1; }
rack_pull() { srv "$1" "$2" present 0; }
rack_insert() { srv "$1" "$2" present 1; }
rack_ignore_shed() { srv "$1" "$2" ignore_shed "$3"; }
# rack_enabled C S: the server's power enable as the hardware sees it
rack_enabled() { srv "$1" "$2" enable; }
# rack_psu_fail A I / rack_psu_repair A I: supply I of assembly A loses /
# gets back its input
rack_psu_fail() { echo 1 >"$SIMDBG/asm$1/psu$2/input_lost"; }
rack_psu_repair() { echo 0 >"$SIMDBG/asm$1/psu$2/input_lost"; }
# rack_slot C S KEY: a field of the chassis node's slot (rackpwrctl slots)
rack_slot() { slotf "$(rack_ccm "$1")" "$2" "$3"; }
# rack_powered: how many of the 48 servers have their power on
rack_powered() {
	_p=0
	for _c in 1 2 3 4 5 6; do _p=$((_p + $(powered $_c))); done
	echo $_p
}

# rack_conf [EXTRA LINE...]: (re)write $RACK_CONF: the seed's policy and
# the 48 priorities, then each EXTRA line
rack_conf() {
	{
		echo "# the seed's rack (seedrack.sh)"
		echo "mode n+n"
		echo "shed-deadline 6s"
		for _c in 1 2 3 4 5 6; do
			for _s in 0 1 2 3 4 5 6 7; do
				echo "prio $(rack_addr $_c)/$_s $(rack_prio $_c $_s)"
			done
		done
		for _l in "$@"; do echo "$_l"; done
	} >"$RACK_CONF"
}
# rack_agent ID: start (again) the agent of node ID (pid in RACK_PID_ID,
# log appended to $RACK_SD/ID.log)
rack_agent() {
	rackpwrd --node "$1" --config "$RACK_CONF" --state-dir "$RACK_SD" \
		--metrics "$RACK_SD/node-$1.prom" >>"$RACK_SD/$1.log" 2>&1 &
	eval "RACK_PID_$1=$!"
}
# rack_agent_pid ID; rack_agent_kill ID [SIGNAL]: signal (default KILL)
# and reap it
rack_agent_pid() { eval "echo \${RACK_PID_$1:-}"; }
rack_agent_kill() {
	_p=$(rack_agent_pid "$1")
	[ -n "$_p" ] || return 0
	kill "-${2:-KILL}" "$_p" 2>/dev/null
	wait "$_p" 2>/dev/null
	eval "RACK_PID_$1="
}
# rack_reload [EXTRA LINE...]: rewrite the config and SIGHUP every agent;
# waits (10 s at most) until each logged the reload
rack_reload() {
	rack_conf "$@"
	_want=
	for _i in $RACK_PSU; do
		_p=$(rack_agent_pid "$_i")
		[ -n "$_p" ] || continue
		_want="$_want $_i:$(($(grep -c 'reload: [^ ]* applied' "$RACK_SD/$_i.log") + 1))"
		kill -HUP "$_p"
	done
	for _w in $_want; do
		_f=$RACK_SD/${_w%%:*}.log
		until_eq "${_w#*:}" 10000 grep -c 'reload: [^ ]* applied' "$_f" >/dev/null
	done
}
# rack_logs: both agents' logs merged by time stamp, each log's own order
# kept among equal stamps (a batch of decisions shares one)
rack_logs() {
	awk '{ s = $0; sub(/^\[ */, "", s); sub(/\].*/, "", s); print s "\t" $0 }' \
		"$RACK_SD"/*.log 2>/dev/null | sort -s -n -k1,1 | cut -f2-
}
# rack_acting_agents: how many agents say they act
rack_acting_agents() {
	grep -l '"acting": true' "$RACK_SD"/node-*.json 2>/dev/null | wc -l
}

# The invariant checker (selftests/vm/py/rpw_invariants.py; needs the
# "# rig-clients: 1" initramfs for python3 and ynl):
# rack_watch FILE [ARGS]: start "watch --out FILE" (niceness 10; pid in
# RACK_WATCH_PID) and wait (60 s at most) for its first sample
# (rack_watch_start FILE [ARGS] / rack_watch_wait FILE: the two halves;
# the family must exist, rackpwr.ko loaded, before the start)
RACK_INV=/lib/rackpwr/py/rpw_invariants.py
rack_watch_start() {
	_f=$1; shift
	python3 $RACK_INV watch --out "$_f" "$@" &
	RACK_WATCH_PID=$!
	renice -n 10 -p $RACK_WATCH_PID >/dev/null
}
rack_watch_wait() {
	_t=0
	while ! grep -q '"k": "sample"' "$1" 2>/dev/null && [ $_t -lt 600 ]; do
		usleep 100000; _t=$((_t + 1))
	done
	grep -q '"k": "sample"' "$1"
}
rack_watch() { rack_watch_start "$@" && rack_watch_wait "$1"; }
# rack_mark FILE TEXT: a mark line (monotonic time; /proc/uptime has the
# same clock in a guest that never suspends), at once, without python
rack_mark() {
	read -r _up _x </proc/uptime
	echo "{\"k\": \"mark\", \"t\": $_up, \"text\": \"$2\"}" >>"$1"
}
# rack_watch_stop: SIGTERM the watcher (a last sample) and reap it
rack_watch_stop() {
	[ -n "${RACK_WATCH_PID:-}" ] || return 0
	kill -TERM "$RACK_WATCH_PID" 2>/dev/null
	wait "$RACK_WATCH_PID" 2>/dev/null
	RACK_WATCH_PID=
}
# rack_check FILE [ARGS]: "check FILE ARGS", its lines printed as
# comments; fails when it finds a violation
rack_check() {
	_o=$(python3 $RACK_INV check "$@" 2>&1)
	_r=$?
	echo "$_o" | sed 's/^/# inv: /'
	return $_r
}

# seedrack_up [--no-agents] [--watch FILE [--period-ms N]]: the rack;
# --watch starts the invariant watcher as soon as the family exists (its
# start, seconds of Python under TCG, overlaps the rack's) and waits for
# its first sample at the end
seedrack_up() {
	_agents=1
	_watch=
	_wargs=
	while [ $# -gt 0 ]; do
		case $1 in
		--no-agents) _agents=0 ;;
		--watch) _watch=$2; shift ;;
		--period-ms) _wargs="--period-ms $2"; shift ;;
		*) echo "# seedrack_up: unknown $1" >&2; return 1 ;;
		esac
		shift
	done
	rm -rf "$RACK_SD" && mkdir -p "$RACK_SD" || return 1
	# shellcheck disable=SC2086
	{ modprobe at24 && modprobe rackpwr_sim_pmbus &&
	  modprobe rackpwr_sim_server && modprobe rackpwr $SEEDRACK_MODPARAMS &&
	  modprobe rackpwr_sim; } || { echo "# seedrack: modules" >&2; return 1; }
	# shellcheck disable=SC2086
	[ -z "$_watch" ] || rack_watch_start "$_watch" $_wargs
	for _a in 1 2; do
		asm_new $_a 0x3f $RACK_SUPPLY_MW || return 1
	done
	for _c in 1 2 3 4 5 6; do
		chassis_new $_c 0xff || return 1
	done
	RACK_PSU=
	for _a in 1 2; do
		# shellcheck disable=SC2086
		_id=$(new_node --addr $_a --role psu --i2c-bus "$(asm_bus $_a)" \
			$RACK_ELECT)
		[ -n "$_id" ] || return 1
		RACK_PSU="$RACK_PSU${RACK_PSU:+ }$_id"
	done
	RACK_CCM=
	for _c in 1 2 3 4 5 6; do
		_id=$(new_node --addr "$(rack_addr $_c)" --role chassis \
			--i2c-bus "$(chassis_bus $_c)")
		[ -n "$_id" ] || return 1
		RACK_CCM="$RACK_CCM${RACK_CCM:+ }$_id"
	done
	export RACK_PSU RACK_CCM
	_t=0
	while ! settled 8 && [ $_t -lt 300 ]; do usleep 100000; _t=$((_t + 1)); done
	settled 8 || { echo "# seedrack: no primary followed by all" >&2; return 1; }
	[ "$(until_eq $RACK_USABLE_MW 30000 pwr P usable_mw)" = $RACK_USABLE_MW ] ||
		{ echo "# seedrack: the primary lacks capacity" >&2; return 1; }
	rack_conf
	if [ $_agents = 1 ]; then
		for _i in $RACK_PSU; do
			: >"$RACK_SD/$_i.log"
			rack_agent "$_i"
		done
		# shellcheck disable=SC2086
		[ "$(until_eq 2 30000 pwr_sum bound $RACK_PSU)" = 2 ] &&
			[ "$(until_eq 1 30000 rack_acting_agents)" = 1 ] ||
			{ echo "# seedrack: agents not bound or none acts" >&2; return 1; }
	fi
	RACK_PRIMARY=$(prim)
	export RACK_PRIMARY
	[ -z "$_watch" ] || rack_watch_wait "$_watch" ||
		{ echo "# seedrack: the watcher took no sample" >&2; return 1; }
}

# seedrack_down: stop the watcher and the agents (SIGTERM), delete every
# node, chassis and assembly, unload the modules; fails if an unload fails
seedrack_down() {
	rack_watch_stop
	for _i in $RACK_PSU; do rack_agent_kill "$_i" TERM; done
	for _c in 1 2 3 4 5 6; do
		for _s in 0 1 2 3 4 5 6 7; do srv $_c $_s present 0 2>/dev/null; done
	done
	for _i in $RACK_CCM $RACK_PSU; do rackpwrctl node del "$_i" 2>/dev/null; done
	for _c in 1 2 3 4 5 6; do chassis_del $_c 2>/dev/null; done
	for _a in 1 2; do asm_del $_a 2>/dev/null; done
	rmmod rackpwr_sim && rmmod rackpwr_sim_server &&
		rmmod rackpwr_sim_pmbus && rmmod rackpwr
}
