# SPDX-License-Identifier: GPL-2.0-only
# Helpers of the guest tests that drive simulated chassis modules and their
# servers (rackpwr_sim_server.ko) and the server API through the test-only
# rackpwr_sim_srvctl.ko; installed as /lib/rackpwr/srv.sh.  Source
# /lib/rackpwr/tap.sh first.

# Simulated chassis (netdevsim-style, Documentation/dev-tools/
# rackpwr-testing.rst): SRVBUS creates and deletes them, SRVDBG/chassisID/
# serverN holds each server's knobs, SRVCTL drives the driver's API.
SRVBUS=/sys/bus/rackpwr_sim_server
SRVDBG=/sys/kernel/debug/rackpwr_sim_server
SRVCTL=/sys/kernel/debug/rackpwr_sim_srvctl

# rd FILE: its value, or "ERR" when the read fails (as in psu.sh)
rd() { v=$(cat "$1" 2>/dev/null) || v=ERR; echo "${v:-ERR}"; }
msleep() { usleep $(($1 * 1000)); }
now_ms() { read -r _up _x </proc/uptime; echo $((${_up%.*} * 1000 + 1${_up#*.}0 - 1000)); }
# wait_for FILE WANT MAX_MS: poll until FILE reads WANT; echoes elapsed ms
wait_for() {
	_s=$(now_ms)
	while [ "$(rd "$1")" != "$2" ] && [ $(($(now_ms) - _s)) -le "$3" ]; do
		usleep 10000
	done
	echo $(($(now_ms) - _s))
	[ "$(rd "$1")" = "$2" ]
}

# chs_new ID [SLOTS_MASK]: create simulated chassis ID (its eight 24c02
# and eight rackpwr-server clients come with it)
chs_new() { echo "$*" >$SRVBUS/new_device; }
# chs_del ID: delete it (clients, adapter, knobs)
chs_del() { echo "$1" >$SRVBUS/del_device; }
# chs_bus ID: its I2C adapter's number
chs_bus() { cat "$SRVBUS/devices/rackpwr_sim_server$1/i2c_bus"; }
# knob SLOT NAME: chassis $CHS's knob file of the server in SLOT
knob() { echo "$SRVDBG/chassis${CHS:-0}/server$1/$2"; }
# sdev SLOT / edev SLOT: the server's communication device / EEPROM
# directory on adapter $BUS
sdev() { echo /sys/bus/i2c/devices/$BUS-004$1; }
edev() { echo /sys/bus/i2c/devices/$BUS-005$1; }
# bound_to BUS HIGH DRIVER: how many clients 0xHIGH0..0xHIGH7 DRIVER binds
bound_to() {
	_c=0
	for _s in 0 1 2 3 4 5 6 7; do
		_d=$(readlink /sys/bus/i2c/devices/$1-00$2$_s/driver 2>/dev/null)
		[ "${_d##*/}" = "$3" ] && _c=$((_c + 1))
	done
	echo $_c
}

# evsnap SLOT: the driver's event counters of the server in SLOT
evsnap() {
	for _e in present gone button lan_wake wake sleep off lower nack; do
		printf '%s=%s ' $_e "$(rd "$(sdev "$1")/events/$_e")"
	done
	echo
}
# evplus SNAP EVENT: SNAP with EVENT's counter one higher
evplus() {
	echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" \
		'NF == 2 { if ($1 == k) $2 = $2 + 1; printf "%s=%s ", $1, $2 } END { print "" }'
}
# ctl_clear / ctl_events: forget / print the notifications srvctl saw
ctl_clear() { echo x >$SRVCTL/events; }
ctl_events() { cat $SRVCTL/events; }
# ctl_power BUS SLOT on ID | off; ctl_shutdown BUS SLOT; ctl_info BUS SLOT
ctl_power() { echo "$*" >$SRVCTL/power; }
ctl_shutdown() { echo "$*" >$SRVCTL/shutdown; }
ctl_info() { echo "$*" >$SRVCTL/info && cat $SRVCTL/info; }
# ctl_resolve BUS: rpw_chassis_resolve(BUS) (-1: the only chassis)
ctl_resolve() { echo "$1" >$SRVCTL/resolve && cat $SRVCTL/resolve; }
