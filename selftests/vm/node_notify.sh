#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# node-change-ntf on creation (issue 9: node-new sent two, the first one
# without the node's address).  Counted with rackpwrctl monitor:
#   node-new with an address       exactly one, with the address
#   node-del                       exactly one deletion
#   rackpwrctl attach --addr       exactly one, with the address
#   attach without an address      none until node-set gives it one, then one
#   detach                         one deletion (none for a node never
#                                  announced)
. /lib/rackpwr/tap.sh

modprobe rackpwr && modprobe rackpwr_sim || {
	nok "load modules"
	tap_end
	exit 1
}

rackpwrctl monitor --timeout 60 >mon.txt &
mon=$!
sleep 1

off=0
# mark: later counts look only at events after this point.
mark() { off=$(wc -l <mon.txt); }
# since PATTERN: node-change events matching PATTERN since the mark.
since() {
	sleep 1
	tail -n +$((off + 1)) mon.txt | grep -c "^node-change $1"
}

mark
n=$(rackpwrctl node new --bus 0 --addr 5)
id=$(field id "$n")
check "node-new: one node-change" 1 "$(since "id=$id ")"
check "node-new: it carries the address" 1 "$(since "id=$id .*addr=5 ")"
mark
rackpwrctl node del "$id" || nok "node del"
check "node-del: one node-change, a deletion" 1 "$(since "")"
check "node-del: the deletion names the node" 1 "$(since "id=$id deleted")"

mark
rackpwrctl attach "$RIG_BUS" --addr 6 >a1.txt 2>&1 &
p=$!
attached a1.txt || nok "attach with an address ($(cat a1.txt))"
id=$(sed -n 's/^attached id=\([0-9]*\) .*/\1/p' a1.txt)
check "attach with an address: one node-change" 1 "$(since "")"
check "attach with an address: it carries the address" 1 \
	"$(since "id=$id .*kind=ldisc addr=6 ")"
mark
kill $p
wait $p 2>/dev/null
check "detach: one deletion" 1 "$(since "id=$id deleted")"

mark
rackpwrctl attach "$RIG_BUS" >a2.txt 2>&1 &
p=$!
attached a2.txt || nok "attach without an address ($(cat a2.txt))"
id=$(sed -n 's/^attached id=\([0-9]*\) .*/\1/p' a2.txt)
check "attach without an address: not announced" 0 "$(since "")"
check "... but listed" 1 "$(rackpwrctl node list | grep -c "id=$id .*kind=ldisc")"
rackpwrctl node set "$id" --addr 7 || nok "node set"
check "first address: one node-change" 1 "$(since "id=$id .*addr=7 ")"
mark
kill $p
wait $p 2>/dev/null
check "detach: one deletion" 1 "$(since "id=$id deleted")"

mark
rackpwrctl attach "$RIG_BUS" >a3.txt 2>&1 &
p=$!
attached a3.txt || nok "attach without an address ($(cat a3.txt))"
kill $p
wait $p 2>/dev/null
check "a node never announced: no deletion either" 0 "$(since "")"

kill $mon
wait $mon 2>/dev/null
sed 's/^/# mon: /' mon.txt
rmmod rackpwr_sim && rmmod rackpwr && ok "modules unloaded" ||
	nok "modules unloaded"
tap_end
