# SPDX-License-Identifier: GPL-2.0-only
# Helpers of the guest tests that drive the simulated PMBus supplies
# (rackpwr_sim_pmbus.ko); installed as /lib/rackpwr/psu.sh.  Source
# /lib/rackpwr/tap.sh first.

SIM=/sys/kernel/debug/rackpwr_sim_pmbus

# rd FILE: its value, or "ERR" when the read fails (an errno, never a number)
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

# psu_find_bus: set BUS to the simulated adapter's number
psu_find_bus() {
	BUS=
	for d in /sys/bus/i2c/devices/i2c-*; do
		[ "$(cat "$d/name")" = rackpwr-sim-pmbus ] && BUS=${d##*-}
	done
	[ -n "$BUS" ]
}
# psu_add_all: instantiate the six supplies and the assembly controller
psu_add_all() {
	for a in 58 59 5a 5b 5c 5d; do
		echo rackpwr-psu 0x$a >/sys/bus/i2c/devices/i2c-$BUS/new_device ||
			return 1
	done
	echo rackpwr-asm 0x50 >/sys/bus/i2c/devices/i2c-$BUS/new_device
}
# psu_setup [rackpwr module parameters...]: load both modules, add all
psu_setup() {
	modprobe rackpwr_sim_pmbus && modprobe rackpwr "$@" &&
		psu_find_bus && psu_add_all
}
# dev SLOT: the supply's I2C device directory; hw SLOT: its hwmon directory
dev() { echo /sys/bus/i2c/devices/$BUS-005$(printf %x $((8 + $1))); }
hw() { echo "$(dev "$1")"/hwmon/hwmon*; }
