#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Rig self-test: a failing guest test; the rig must report "not ok" with the
# exit status, and the run must fail.
echo "this test fails on purpose"
exit 3
