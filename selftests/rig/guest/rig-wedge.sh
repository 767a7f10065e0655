#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Rig self-test: wedge the guest's user space.  SIGSTOP to every process but
# init and this one freezes the guest-side watchdog and the output relay, so
# init never reports; only the host's timeout can end this VM.
echo "stopping every process"
kill -STOP -1
sleep 1000
