# SPDX-License-Identifier: GPL-2.0-only
# Helpers of the guest tests that drive the simulated PMBus supplies
# (rackpwr_sim_pmbus.ko); installed as /lib/rackpwr/psu.sh.  Source
# /lib/rackpwr/tap.sh first.

# Simulated assemblies (netdevsim-style, Documentation/hwmon/rackpwr.rst):
# SIMBUS creates and deletes them, SIMDBG/asmID holds each one's knobs.
SIMBUS=/sys/bus/rackpwr_sim_pmbus
SIMDBG=/sys/kernel/debug/rackpwr_sim_pmbus
SIM=$SIMDBG/asm0	# knobs of assembly 0, the one psu_setup creates

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

# asm_new ID [PRESENT_MASK]: create simulated assembly ID (its six
# rackpwr-psu clients and its rackpwr-asm client come with it)
asm_new() { echo "$*" >$SIMBUS/new_device; }
# asm_del ID: delete it (clients, adapter, knobs)
asm_del() { echo "$1" >$SIMBUS/del_device; }
# asm_bus ID: its I2C adapter's number
asm_bus() { cat "$SIMBUS/devices/rackpwr_sim_pmbus$1/i2c_bus"; }
# psu_find_bus: set BUS to assembly 0's adapter number
psu_find_bus() { BUS=$(asm_bus 0 2>/dev/null); [ -n "$BUS" ]; }
# psu_setup [rackpwr module parameters...]: load both modules, create
# assembly 0 with all six supplies, set BUS
psu_setup() {
	modprobe rackpwr_sim_pmbus && modprobe rackpwr "$@" && asm_new 0 &&
		psu_find_bus
}
# dev SLOT: the supply's I2C device directory; hw SLOT: its hwmon directory
dev() { echo /sys/bus/i2c/devices/$BUS-005$(printf %x $((8 + $1))); }
hw() { echo "$(dev "$1")"/hwmon/hwmon*; }
