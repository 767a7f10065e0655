#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest test: a simulated chassis with eight servers (issue 11).  The
# kernel's at24 binds to every EEPROM and rackpwr reads watts and identity
# through it; every trigger, sleep, orderly off and lower consumption gives
# exactly its one event (driver's counters and the notifier stream, seen
# through the test-only rackpwr_sim_srvctl.ko); power stays off until the
# API enables it; an enabled server keeps its enable and grant id across a
# driver restart; abrupt removal gives GONE; NACK, garbage and bad EEPROMs
# are reported and change nothing; the registers read with i2c-tools; a
# chassis new/del loop does not grow the slab caches; the modules unload
# while polling.  Prints TAP.

POLL_MS=50
LOOPS=${LOOPS:-80}
. /lib/rackpwr/tap.sh
. /lib/rackpwr/srv.sh

echo "TAP version 13"
ONE=$((POLL_MS * 4 + 800))	# a poll, with room for a loaded TCG guest
modprobe i2c-dev && modprobe at24 && modprobe rackpwr_sim_server &&
	modprobe rackpwr srv_poll_ms=$POLL_MS && modprobe rackpwr_sim_srvctl ||
	{ nok "load modules"; tap_end; exit 1; }

chs_new 0 && ok "new_device 0: eight servers" || nok "new_device 0"
BUS=$(chs_bus 0)
CHS=0
check "at24 binds all eight EEPROMs" 8 "$(bound_to "$BUS" 5 at24)"
check "rackpwr-server binds all eight devices" 8 \
	"$(bound_to "$BUS" 4 rackpwr-server)"
check "slot 3's EEPROM through at24's eeprom file" RPWS \
	"$(head -c 4 "$(edev 3)/eeprom")"
check "eight nvmem devices on the adapter" 8 \
	"$(ls /sys/bus/nvmem/devices | grep -c "^$BUS-005")"
for s in 0 1 2 3 4 5 6 7; do
	wait_for "$(sdev $s)/state" off $ONE >/dev/null
	w=$((400 + 100 * s))
	check "slot $s: state off, $w W, SIM-SRV$s, one PRESENT, not enabled" \
		"off $w SIM-SRV$s 1 0 0" \
		"$(rd "$(sdev $s)/state") $(rd "$(sdev $s)/watts") $(rd "$(sdev $s)/ident") $(rd "$(sdev $s)/events/present") $(rd "$(sdev $s)/enabled") $(rd "$(sdev $s)/grant_id")"
done
check_ge "the EEPROM was read (bytes, slot 0)" 34 "$(rd "$(knob 0 eeprom_reads)")"
check "notifier: chassis added" "added $BUS" "$(ctl_events | grep added)"
check "notifier: eight PRESENT with the EEPROM's watts" \
	"$BUS 0 present 400,$BUS 1 present 500,$BUS 2 present 600,$BUS 3 present 700,$BUS 4 present 800,$BUS 5 present 900,$BUS 6 present 1000,$BUS 7 present 1100" \
	"$(ctl_events | grep present | sort | paste -sd,)"
check "rpw_chassis_resolve: AUTO is the only chassis" "$BUS" "$(ctl_resolve -1)"
check "rpw_chassis_resolve: its adapter" "$BUS" "$(ctl_resolve "$BUS")"
check "rpw_chassis_resolve: another adapter" -19 "$(ctl_resolve $((BUS + 50)))"
check "rpw_srv_get() of slot 7" \
	"present=1 enabled=0 shutdown_pending=0 fault=0 pstate=0 watts=1100 lower_watts=0 grant_id=0 ident=SIM-SRV7" \
	"$(ctl_info "$BUS" 7)"

# evcheck SLOT EVENT WATTS WHAT: after WHAT happened, exactly one EVENT of
# SLOT, in the counters and in the notifier stream.  SNAP: counters before.
evcheck() {
	wait_for "$(sdev $1)/events/$2" \
		"$(evplus "$SNAP" "$2" | tr ' ' '\n' | sed -n "s/^$2=//p")" \
		$ONE >/dev/null
	msleep $((POLL_MS * 3))		# nothing else follows
	check "slot $1 $4: one $2 event, nothing else" \
		"$(evplus "$SNAP" "$2")" "$(evsnap $1)"
	check "slot $1 $4: notifier '$BUS $1 $2 $3'" "$BUS $1 $2 $3" \
		"$(ctl_events)"
}
# trig SLOT KNOB EVENT [VALUE [WATTS]]: write VALUE (1) to KNOB, expect
# EVENT carrying WATTS (0)
trig() {
	SNAP=$(evsnap $1)
	ctl_clear
	echo "${4:-1}" >"$(knob $1 $2)"
	evcheck $1 $3 "${5:-0}" "$2"
}

# Every power-on trigger: exactly its event, and no power.
for s in 0 1 2 3 4 5 6 7; do
	trig $s button button
	trig $s lan_wake lan_wake
	trig $s wake wake
done
n=0
for s in 0 1 2 3 4 5 6 7; do
	[ "$(rd "$(knob $s enable)") $(rd "$(knob $s state)")" = "0 off" ] &&
		n=$((n + 1))
done
check "no trigger enabled any server (device's enable, power state)" 8 $n
expect_fail "a server that is off cannot sleep (sim)" "Invalid argument" \
	sh -c "echo 1 >$(knob 0 sleep)"

# The API powers a server on; sleep, wake, lower, orderly off.
ctl_power "$BUS" 2 on 1234 && ok "power on slot 2, grant id 1234" ||
	nok "power on slot 2"
check "sim: slot 2 enabled and on, grant id 1234" "1 on 1234" \
	"$(rd "$(knob 2 enable)") $(rd "$(knob 2 state)") $(rd "$(knob 2 grant_id)")"
check "driver: slot 2 enabled, on, grant id 1234" "1 on 1234" \
	"$(rd "$(sdev 2)/enabled") $(rd "$(sdev 2)/state") $(rd "$(sdev 2)/grant_id")"
check "the other slots stay off" "0 0" \
	"$(rd "$(knob 1 enable)") $(rd "$(knob 3 enable)")"
expect_fail "power on with grant id 0 refused" "Invalid argument" \
	ctl_power "$BUS" 2 on 0
expect_fail "power on of slot 8 refused" "Invalid argument" \
	ctl_power "$BUS" 8 on 5
expect_fail "power on of an adapter without chassis" "No such device" \
	ctl_power 999 0 on 5
trig 2 sleep sleep
check "slot 2 asleep" sleep "$(rd "$(sdev 2)/state")"
trig 2 wake wake
check "slot 2 on again" on "$(rd "$(sdev 2)/state")"
trig 2 lower lower 350 350
check "slot 2 lower_watts" 350 "$(rd "$(sdev 2)/lower_watts")"
SNAP=$(evsnap 2)
echo 600 >"$(knob 2 lower)"
msleep $((POLL_MS * 4))
check "LOWER to its full 600 W is not lower: no event" "$SNAP" "$(evsnap 2)"
check_ge "... and logged" 1 "$(dmesg | grep -c 'LOWER to 600 W of 600 W ignored')"
trig 2 off off
check "slot 2 off by itself, enable still set" "off 1" \
	"$(rd "$(sdev 2)/state") $(rd "$(sdev 2)/enabled")"
ctl_power "$BUS" 2 off && ok "power off slot 2" || nok "power off slot 2"
check "sim: slot 2 enable 0, grant id 0" "0 0" \
	"$(rd "$(knob 2 enable)") $(rd "$(knob 2 grant_id)")"

# Orderly shutdown on request, and a server that ignores it.
echo 500 >"$(knob 2 shed_delay_ms)"
ctl_power "$BUS" 2 on 1235
SNAP=$(evsnap 2)
ctl_clear
ctl_shutdown "$BUS" 2 && ok "shutdown request to slot 2" ||
	nok "shutdown request to slot 2"
check "slot 2 shutdown pending" 1 "$(rd "$(sdev 2)/shutdown_pending")"
evcheck 2 off 0 "shutdown request"
check "slot 2 off, request done" "off 0" \
	"$(rd "$(sdev 2)/state") $(rd "$(sdev 2)/shutdown_pending")"
ctl_power "$BUS" 2 off
echo 1 >"$(knob 3 ignore_shed)"
ctl_power "$BUS" 3 on 77
SNAP=$(evsnap 3)
ctl_shutdown "$BUS" 3
msleep 600
check "slot 3 ignores the request: still on, pending, no event" \
	"on 1 $SNAP" \
	"$(rd "$(sdev 3)/state") $(rd "$(sdev 3)/shutdown_pending") $(evsnap 3)"
ctl_power "$BUS" 3 off
msleep $((POLL_MS * 3))
check "power off cuts it: off, no OFF event, grant id 0" "off 0 $SNAP 0" \
	"$(rd "$(knob 3 state)") $(rd "$(sdev 3)/grant_id") $(evsnap 3) $(rd "$(knob 3 grant_id)")"

# The device keeps the enable and the grant id across a driver restart.
ctl_power "$BUS" 4 on 777
ctl_clear
echo "$BUS-0044" >/sys/bus/i2c/drivers/rackpwr-server/unbind
check "unbind: GONE" "$BUS 4 gone 0" "$(ctl_events)"
check "the server keeps power" "1 on 777" \
	"$(rd "$(knob 4 enable)") $(rd "$(knob 4 state)") $(rd "$(knob 4 grant_id)")"
echo "$BUS-0044" >/sys/bus/i2c/drivers/rackpwr-server/bind
check "rebind: PRESENT" "$BUS 4 gone 0,$BUS 4 present 800" \
	"$(ctl_events | paste -sd,)"
check "rebind finds it enabled with grant id 777" \
	"present=1 enabled=1 shutdown_pending=0 fault=0 pstate=1 watts=800 lower_watts=0 grant_id=777 ident=SIM-SRV4" \
	"$(ctl_info "$BUS" 4)"

# Abrupt removal, reinsertion, and a swap between two polls.
ctl_power "$BUS" 5 on 55
SNAP=$(evsnap 5)
ctl_clear
echo 0 >"$(knob 5 present)"
evcheck 5 gone 0 "pulled"
check "slot 5 absent, nothing left" "absent 0 0 0" \
	"$(rd "$(sdev 5)/state") $(rd "$(sdev 5)/watts") $(rd "$(sdev 5)/enabled") $(rd "$(sdev 5)/grant_id")"
expect_fail "power on of an empty slot refused" "No such device" \
	ctl_power "$BUS" 5 on 56
echo 1500 >"$(knob 5 watts)"
trig 5 present present 1 1500
check "reinserted: off, not enabled, its new watts" "off 0 1500" \
	"$(rd "$(sdev 5)/state") $(rd "$(sdev 5)/enabled") $(rd "$(sdev 5)/watts")"
ctl_clear
echo 0 >"$(knob 5 present)"
echo 1 >"$(knob 5 present)"
wait_for "$(knob 5 events)" 0 $ONE >/dev/null
msleep $((POLL_MS * 2))
check "swapped between polls: GONE then PRESENT" \
	"$BUS 5 gone 0,$BUS 5 present 1500" "$(ctl_events | paste -sd,)"

# NACK and garbage: reported once, nothing changes, events resume.
SNAP=$(evsnap 6)
ctl_clear
echo 1 >"$(knob 6 nack)"
evcheck 6 nack 0 "nack"
check "slot 6 fault nack, state kept" "nack off 1000" \
	"$(rd "$(sdev 6)/fault") $(rd "$(sdev 6)/state") $(rd "$(sdev 6)/watts")"
expect_fail "power on while it NACKs fails" "Input/output error" \
	ctl_power "$BUS" 6 on 9
echo 1 >"$(knob 6 button)"
msleep $((POLL_MS * 4))
check "a button press while it NACKs is not seen yet" "$(evplus "$SNAP" nack)" \
	"$(evsnap 6)"
SNAP=$(evsnap 6)
ctl_clear
echo 0 >"$(knob 6 nack)"
evcheck 6 button 0 "answers again"
check "slot 6 fault none" none "$(rd "$(sdev 6)/fault")"
for g in 1 2; do
	SNAP=$(evsnap 7)
	ctl_clear
	echo $g >"$(knob 7 garbage)"
	evcheck 7 nack 0 "garbage=$g"
	check "slot 7 garbage=$g: fault garbage, state and watts kept" \
		"garbage off 1100" \
		"$(rd "$(sdev 7)/fault") $(rd "$(sdev 7)/state") $(rd "$(sdev 7)/watts")"
	echo 0 >"$(knob 7 garbage)"
	wait_for "$(sdev 7)/fault" none $ONE >/dev/null
done
check "no server enabled by a fault" "0 0" \
	"$(rd "$(knob 6 enable)") $(rd "$(knob 7 enable)")"
check_ge "communication restored is logged" 3 \
	"$(dmesg | grep -c 'communication restored')"

# Bad EEPROMs: refused with a reason, the server is not present.
# eebad MODE KNOB VALUE REASON: reinsert slot 1 with KNOB=VALUE
eebad() {
	echo 0 >"$(knob 1 present)"
	wait_for "$(sdev 1)/state" absent $ONE >/dev/null
	echo "$2" >"$(knob 1 $1)"
	SNAP=$(evsnap 1)
	echo 1 >"$(knob 1 present)"
	wait_for "$(sdev 1)/state" bad-eeprom $ONE >/dev/null
	msleep $((POLL_MS * 3))
	check "slot 1 $1=$2: bad-eeprom, no event" "bad-eeprom $SNAP" \
		"$(rd "$(sdev 1)/state") $(evsnap 1)"
	check_ge "... logged: $3" 1 \
		"$(dmesg | grep -c "EEPROM 0x51 refused: $3")"
}
eebad eeprom_garbage 1 "bad checksum"
expect_fail "power on of a server with a bad EEPROM refused" "No such device" \
	ctl_power "$BUS" 1 on 3
echo 1 >"$(knob 1 button)"
msleep $((POLL_MS * 3))
check "its button press is not delivered" "$SNAP" "$(evsnap 1)"
eebad eeprom_garbage 2 "bad magic"
echo 0 >"$(knob 1 eeprom_garbage)"
t=$(wait_for "$(sdev 1)/state" off 2500)
check "EEPROM fixed: present within the retry ($t ms)" "off 500" \
	"$(rd "$(sdev 1)/state") $(rd "$(sdev 1)/watts")"
eebad watts 0 "watts is 0"
echo 500 >"$(knob 1 watts)"
wait_for "$(sdev 1)/state" off 2500 >/dev/null
n=0
for s in 0 1 2 3 5 6 7; do
	[ "$(rd "$(knob $s enable)")" = 0 ] && n=$((n + 1))
done
check "only slot 4 (enabled by the API) has power" "7 1" \
	"$n $(rd "$(knob 4 enable)")"

# A chassis created empty: at24 cannot bind to the EEPROMs until a server
# is inserted; the driver then binds it and reads the EEPROM.
chs_new 3 0x00 && ok "new_device 3 0x00: no server" || nok "new_device 3 0x00"
B3=$(chs_bus 3)
check "chassis 3: no EEPROM bound, eight devices bound" "0 8" \
	"$(bound_to "$B3" 5 at24) $(bound_to "$B3" 4 rackpwr-server)"
check "rpw_chassis_resolve: AUTO with two chassis" -19 "$(ctl_resolve -1)"
ctl_clear
echo 1 >"$SRVDBG/chassis3/server6/present"
t=$(wait_for "/sys/bus/i2c/devices/$B3-0046/state" off $ONE)
check "inserted into chassis 3: at24 bound, server present ($t ms)" \
	"1 off 1000 $B3 6 present 1000" \
	"$(bound_to "$B3" 5 at24) $(rd "/sys/bus/i2c/devices/$B3-0046/state") $(rd "/sys/bus/i2c/devices/$B3-0046/watts") $(ctl_events | grep " present ")"
chs_del 3 && ok "del_device 3" || nok "del_device 3"

# i2c-tools on the registers (the driver holds the addresses: -f).
check "i2cget ID" 0x52 "$(i2cget -f -y "$BUS" 0x40 0x00 2>&1)"
check "i2cget ID+VERSION as a word" 0x0152 "$(i2cget -f -y "$BUS" 0x40 0x00 w 2>&1)"
check "i2cget STATUS of slot 4 (on, enabled)" 0x05 "$(i2cget -f -y "$BUS" 0x44 0x02 2>&1)"
check "i2cget GRANT_ID low word of slot 4" 0x0309 "$(i2cget -f -y "$BUS" 0x44 0x08 w 2>&1)"
expect_fail "register 0x20 is NACKed" "" i2cget -f -y "$BUS" 0x40 0x20
expect_fail "STATUS is read-only" "" i2cset -f -y "$BUS" 0x40 0x02 0x00
check "i2cget EEPROM byte 0 of slot 0" 0x52 "$(i2cget -f -y "$BUS" 0x50 0x00 2>&1)"
echo 0 >"$(knob 5 present)"
expect_fail "a pulled server does not answer" "" i2cget -f -y "$BUS" 0x45 0x00

# Leak check (no kmemleak): chassis new/del cycles with everything bound,
# in three rounds of LOOPS.  A cache's count moves by whole slabs that come
# and go (kmalloc-8 by its 512-object slab with nothing leaked: checked
# with slub_debug=U and /sys/kernel/debug/slab/*/alloc_traces), so a cache
# fails only when it grew by LOOPS/2 objects and by more than one slab in
# every round: a leak of one object per server grows each round by 8 x
# LOOPS.
slabs() { awk 'NR > 2 { print $1, $2, $5 }' /proc/slabinfo | sort; }
settle() {
	sync; echo 3 >/proc/sys/vm/drop_caches; sleep 1
	for f in /sys/kernel/slab/*/shrink; do echo 1 >"$f"; done 2>/dev/null
}
# leakround: LOOPS cycles; prints the caches that grew by LOOPS/2 objects
# and more than one slab
leakround() {
	settle
	slabs >/tmp/srv_s0
	_i=0
	while [ $_i -lt "$LOOPS" ]; do
		chs_new 9 0xff || bad=$((bad + 1))
		chs_del 9 || bad=$((bad + 1))
		_i=$((_i + 1))
	done
	settle
	slabs >/tmp/srv_s1
	awk 'NR == FNR { a[$1] = $2; next }
		$2 - a[$1] >= n && $2 - a[$1] > $3 { print $1 }' \
		n=$((LOOPS / 2)) /tmp/srv_s0 /tmp/srv_s1
	awk 'NR == FNR { a[$1] = $2; next } $2 != a[$1] { printf "%s %+d ", $1, $2 - a[$1] }' \
		/tmp/srv_s0 /tmp/srv_s1 | sed 's/^/# slab deltas: /' >&2
	echo >&2
}
for i in 1 2 3; do chs_new 9 && chs_del 9; done
bad=0
: >/tmp/srv_grew
for r in 1 2 3; do leakround >>/tmp/srv_grew; done
check "3 x $LOOPS new_device/del_device cycles" 0 $bad
check "no slab cache grows with the chassis" "" \
	"$(sort /tmp/srv_grew | uniq -c | awk '$1 == 3 { print $2 }')"

# Module unload while polling; the device keeps slot 4's power.
rmmod rackpwr_sim_srvctl && rmmod rackpwr && ok "rmmod rackpwr while polling" ||
	nok "rmmod rackpwr while polling"
check "slot 4 keeps its power with no driver" "1 on 777" \
	"$(rd "$(knob 4 enable)") $(rd "$(knob 4 state)") $(rd "$(knob 4 grant_id)")"
modprobe rackpwr srv_poll_ms=$POLL_MS && ok "modprobe rackpwr again" ||
	nok "modprobe rackpwr again"
wait_for "$(sdev 4)/state" on $ONE >/dev/null
check "the restarted driver finds slot 4 enabled, grant id 777" "on 1 777" \
	"$(rd "$(sdev 4)/state") $(rd "$(sdev 4)/enabled") $(rd "$(sdev 4)/grant_id")"
chs_new 1 && ok "a second chassis" || nok "a second chassis"
rmmod rackpwr_sim_server && ok "rmmod the simulator with two chassis bound" ||
	nok "rmmod the simulator with two chassis bound"

# at24 through SMBus I2C-block reads: an adapter without plain I2C.
modprobe rackpwr_sim_server smbus_only=1 && chs_new 2 0x81 &&
	ok "simulator with smbus_only=1, chassis 2" || nok "smbus_only chassis"
BUS=$(chs_bus 2)
wait_for "$(sdev 7)/state" off $ONE >/dev/null
check "smbus_only: at24 binds, the driver reads both EEPROMs" \
	"2 off 400 SIM-SRV0 off 1100 SIM-SRV7" \
	"$(bound_to "$BUS" 5 at24) $(rd "$(sdev 0)/state") $(rd "$(sdev 0)/watts") $(rd "$(sdev 0)/ident") $(rd "$(sdev 7)/state") $(rd "$(sdev 7)/watts") $(rd "$(sdev 7)/ident")"
rmmod rackpwr_sim_server && rmmod rackpwr && rmmod at24 &&
	ok "rmmod simulator, rackpwr and at24" ||
	nok "rmmod simulator, rackpwr and at24"
tap_end
