#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Rig self-test: a test that never ends; the guest's per-test timeout must
# kill it (and the child it started) and the next test must still run.
echo "hanging on purpose"
sleep 1000 &
sleep 1000
