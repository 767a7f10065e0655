#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Rig self-test: a passing guest test.  It checks what every VM test relies
# on, so it fails if the guest environment is broken: mounts, test
# environment, raw bus UART, in-tree modules via modprobe, the host channel.
. /lib/rig.sh
fail() { echo "FAIL: $*"; exit 1; }

grep -q ' /sys/kernel/debug debugfs ' /proc/mounts || fail "no debugfs"
grep -q ' /tmp tmpfs ' /proc/mounts || fail "no tmpfs on /tmp"
[ "$RIG_TEST" = rig-pass ] || fail "RIG_TEST=$RIG_TEST"
[ "$(pwd)" = "$RIG_TMP" ] || fail "cwd $(pwd) is not RIG_TMP=$RIG_TMP"
[ "$RIG_NODE" -lt "$RIG_NNODES" ] ||
	fail "RIG_NODE=$RIG_NODE RIG_NNODES=$RIG_NNODES"
# A test the rig killed for its timeout must not leave children behind.
ps | grep -q '[s]leep 1000' && fail "leftover processes of an earlier test"
stty -F "$RIG_BUS" -a 2>/dev/null | grep -q -- '-icanon' ||
	fail "$RIG_BUS not raw"

# i2c-stub answers 0 for registers nobody wrote; i2cset/i2cget round trip.
modprobe i2c-dev || fail "modprobe i2c-dev"
modprobe i2c-stub chip_addr=0x50 || fail "modprobe i2c-stub"
bus=$(grep -l 'SMBus stub driver' /sys/class/i2c-adapter/*/name |
	sed 's|.*/i2c-\([0-9]*\)/name|\1|')
[ -e "/dev/i2c-$bus" ] || fail "no /dev/i2c-$bus"
i2cset -y "$bus" 0x50 0x10 0xa5 || fail "i2cset"
[ "$(i2cget -y "$bus" 0x50 0x10)" = 0xa5 ] || fail "i2cget"
rmmod i2c-stub || fail "rmmod i2c-stub"

# Dynamically linked programs came with their libraries.
if [ -e /usr/bin/sensors ]; then
	sensors -v || fail "sensors does not run"
fi

# The host answers on ttyS2: a barrier of one VM passes at once (with more
# VMs it would wait for all of them, which may not run this test); a hub
# command gets the hub's statistics, or a refusal when the run has no hub.
if [ "$RIG_NNODES" = 1 ]; then
	rig_sync rig-pass || fail "rig_sync"
fi
ans=$(rig_hub stats)
case $ans in
"ok nodes="* | "err no hub"*) ;;
*) fail "rig_hub stats answered '$ans'" ;;
esac
echo "guest environment ok"
