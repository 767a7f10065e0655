#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Rig self-test: loads rig_warn.ko, whose init hits WARN_ON(1) and still
# succeeds.  The test itself passes; the rig must fail the run on the splat.
modprobe rig_warn || { echo "modprobe rig_warn failed"; exit 1; }
grep -q '^rig_warn ' /proc/modules || { echo "rig_warn not loaded"; exit 1; }
echo "rig_warn loaded"
