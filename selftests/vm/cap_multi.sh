#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# One node, its own assembly: three power-supply modules on the simulated
# RS-485 bus and two simulated assemblies with different capacities.  Two
# modules are bound (i2c-bus) to one assembly each; the third keeps the
# default binding, which finds no assembly while there are two.  The
# primary's table has one line per assembly with that assembly's values
# and sums to their total; a fault on one assembly changes only its line;
# the module without an assembly lists none and answers no query; psu ->
# chassis drops the own line; bad bindings are refused with a message and
# change nothing; removing an assembly unbinds its module and lets the
# default binding find the one left.
. /lib/rackpwr/tap.sh
. /lib/rackpwr/psu.sh
. /lib/rackpwr/elect.sh

{ modprobe rackpwr_sim_pmbus &&
  modprobe rackpwr psu_poll_ms=250 cap_query_ms=500 &&
  modprobe rackpwr_sim && asm_new 1 0x3f && asm_new 2 0x05; } ||
	{ nok "load modules, create two assemblies"; tap_end; exit 1; }
B1=$(asm_bus 1)
B2=$(asm_bus 2)
ok "assemblies on adapters $B1 and $B2"

# asm_a ID / asm_b ID: the assembly's own view of its bank capacity (mW)
asm_a() { rd "/sys/bus/i2c/devices/$(asm_bus "$1")-0050/capacity_bank_a_mw"; }
asm_b() { rd "/sys/bus/i2c/devices/$(asm_bus "$1")-0050/capacity_bank_b_mw"; }
# Supplies come up with their first poll: wait for a stable non-zero value.
t=0
while { [ "$(asm_a 1)" = 0 ] || [ "$(asm_a 2)" = 0 ] ||
	[ "$(asm_a 1)" = ERR ] || [ "$(asm_a 2)" = ERR ]; } && [ $t -lt 50 ]; do
	usleep 100000; t=$((t + 1))
done
A1=$(asm_a 1); A2=$(asm_a 2); AB1=$(asm_b 1); AB2=$(asm_b 2)
echo "# assembly 1: A $A1 B $AB1 mW, assembly 2: A $A2 B $AB2 mW"
check_ge "assembly 1 has capacity" 1 "$A1"
[ "$A1" != "$A2" ] && ok "the assemblies differ in capacity" ||
	nok "the assemblies differ in capacity ($A1 = $A2)"

# id_of NAME-OR-ID OUTPUT-OF-NODE-NEW
new_node() { rackpwrctl node new --bus 0 --role psu "$@" | sed -n 's/^id=\([0-9]*\) .*/\1/p'; }
NA=$(new_node --addr 1 --i2c-bus "$B1")
NB=$(new_node --addr 2)
NC=$(new_node --addr 3)
show() { rackpwrctl node show "$1"; }
check "explicit binding reported" "$B1" "$(field i2c_bus "$(show "$NA")")"
check "explicit binding is not the default" 0 "$(field i2c_bus_auto "$(show "$NA")")"
check "default binding with two assemblies: none" none "$(field i2c_bus "$(show "$NB")")"
check "default binding flagged" 1 "$(field i2c_bus_auto "$(show "$NB")")"
rackpwrctl node set "$NB" --i2c-bus "$B2" ||
	nok "bind node 2 to assembly 2"
check "node-set binds to assembly 2" "$B2" "$(field i2c_bus "$(show "$NB")")"

# lines NODE: "addr bank_a bank_b local lost" per capacity line NODE lists
lines() {
	rackpwrctl capacity "$1" | sed 's/[a-z_]*=//g' |
		awk '{ print $2, $3, $4, $8, $9 }'
}
col() { lines "$1" | awk -v a="$2" -v c="$3" '$1 == a { print $c }'; }
primary_id() { rackpwrctl node list | sed -n 's/^id=\([0-9]*\) .*state=primary.*/\1/p' | head -n1; }
# pw ADDR COL: that line's value at the current primary in whole watts,
# -1 without such a line (a loaded TCG guest may change primaries)
pw() { v=$(col "$(primary_id)" "$1" "$2"); echo $(( ${v:--1000} / 1000 )); }
nlines() { lines "$(primary_id)" | wc -l; }
total_a() { lines "$(primary_id)" | awk '{ s += int($2 / 1000) } END { print s }'; }
# until WANT CMD...: CMD's output once it is WANT, or after 5 s its last
# output (a new primary needs a query period to fill its table)
until_eq() {
	_w=$1; shift; _t=0
	while [ "$("$@")" != "$_w" ] && [ $_t -lt 50 ]; do usleep 100000; _t=$((_t + 1)); done
	"$@"
}
t=0
while ! settled 3 && [ $t -lt 300 ]; do usleep 100000; t=$((t + 1)); done
check "one primary was elected" 1 "$n"
P=$(primary_id)

t=0
while [ "$(lines "$(primary_id)" | wc -l)" -lt 2 ] && [ $t -lt 50 ]; do usleep 100000; t=$((t + 1)); done
usleep 1500000	# three more query rounds: a third line would show by now
lines "$(primary_id)" | sed 's/^/# primary: /'
check "primary lists two lines" 2 "$(until_eq 2 nlines)"
check "no line for the module without an assembly" "" "$(col "$(primary_id)" 3 2)"
# Reports carry whole watts; the primary's own line is exact.
check "line of module 1 is assembly 1 (bank A, W)" $((A1 / 1000)) "$(until_eq $((A1 / 1000)) pw 1 2)"
check "line of module 1 is assembly 1 (bank B, W)" $((AB1 / 1000)) "$(until_eq $((AB1 / 1000)) pw 1 3)"
check "line of module 2 is assembly 2 (bank A, W)" $((A2 / 1000)) "$(until_eq $((A2 / 1000)) pw 2 2)"
check "line of module 2 is assembly 2 (bank B, W)" $((AB2 / 1000)) "$(until_eq $((AB2 / 1000)) pw 2 3)"
check "bank A total is the sum of both assemblies (W)" $((A1 / 1000 + A2 / 1000)) \
	"$(until_eq $((A1 / 1000 + A2 / 1000)) total_a)"
check "module 3 has no own line" 0 "$(lines "$NC" | awk '$4 == 1' | wc -l)"

# A fault on assembly 1 changes its line only.
echo 1 > "$SIMDBG/asm1/psu0/input_lost"
t=0
while [ "$(asm_a 1)" = "$A1" ] && [ $t -lt 30 ]; do usleep 100000; t=$((t + 1)); done
F1=$(asm_a 1)
check_ge "assembly 1 lost capacity" 1 $((A1 - F1))
check "the fault reached module 1's line at the primary" $((F1 / 1000)) \
	"$(until_eq $((F1 / 1000)) pw 1 2)"
lines "$(primary_id)" | sed 's/^/# fault: /'
check "module 2's line unchanged" $((A2 / 1000)) "$(until_eq $((A2 / 1000)) pw 2 2)"
echo 0 > "$SIMDBG/asm1/psu0/input_lost"

# Bad bindings: refused with a message, nothing changes.
before=$(rackpwrctl node list | wc -l)
expect_fail "binding to a missing adapter refused" "no I2C adapter" \
	rackpwrctl node set "$NA" --i2c-bus 999
check "binding unchanged after the refusal" "$B1" "$(field i2c_bus "$(show "$NA")")"
expect_fail "adapter number out of range refused" "out of range" \
	rackpwrctl node set "$NA" --i2c-bus 4294967295
expect_fail "node-new with a missing adapter refused" "no I2C adapter" \
	rackpwrctl node new --bus 0 --addr 9 --role psu --i2c-bus 999
check "no node created" "$before" "$(rackpwrctl node list | wc -l)"

# psu -> chassis drops the own line (a secondary, so the primary stays).
P=$(primary_id)
X=$NA; XA=1
[ "$P" = "$NA" ] && { X=$NB; XA=2; }
rackpwrctl node set "$X" --role chassis
t=0
while [ "$(lines "$X" | wc -l)" != 0 ] && [ $t -lt 30 ]; do usleep 100000; t=$((t + 1)); done
check "chassis node lists no capacity" 0 "$(lines "$X" | wc -l)"
check "chassis node reports no assembly" none "$(field i2c_bus "$(show "$X")")"
# lost_or_gone: the primary no longer counts the chassis node's line
lost_or_gone() { v=$(col "$(primary_id)" $XA 5); [ "${v:-1}" = 1 ]; }
t=0
while ! lost_or_gone && [ $t -lt 50 ]; do usleep 100000; t=$((t + 1)); done
lost_or_gone && ok "the primary no longer counts the chassis node's line" ||
	nok "the primary no longer counts the chassis node's line"
rackpwrctl node set "$X" --role psu
t=0
while [ "$(lines "$X" | awk '$4 == 1' | wc -l)" != 1 ] && [ $t -lt 30 ]; do usleep 100000; t=$((t + 1)); done
check "back to psu: own line again, same binding" 1 "$(lines "$X" | awk '$4 == 1' | wc -l)"

# Assembly 2 goes: module 2 has none; the default binding finds assembly 1.
asm_del 2
t=0
while [ "$(field i2c_bus "$(show "$NC")")" != "$B1" ] && [ $t -lt 30 ]; do usleep 100000; t=$((t + 1)); done
check "module 2 lost its assembly" none "$(field i2c_bus "$(show "$NB")")"
check "module 2 lists no own line" 0 "$(lines "$NB" | awk '$4 == 1' | wc -l)"
check "default binding now resolves to the only assembly" "$B1" "$(field i2c_bus "$(show "$NC")")"
t=0
while [ "$(lines "$NC" | awk '$4 == 1' | wc -l)" != 1 ] && [ $t -lt 30 ]; do usleep 100000; t=$((t + 1)); done
check "module 3 lists assembly 1 as its own line" "$(($(asm_a 1) / 1000))" \
	"$(lines "$NC" | awk '$4 == 1 { print int($2 / 1000) }')"

for id in $NA $NB $NC; do rackpwrctl node del "$id"; done
asm_del 1
rmmod rackpwr_sim && rmmod rackpwr && rmmod rackpwr_sim_pmbus &&
	ok "modules unloaded" || nok "modules unloaded"
tap_end
