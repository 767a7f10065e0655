#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Write the seed corpus for fuzz_alloc into corpus/alloc/.

Programs in fuzz_alloc's input language (see step() there): a server asks,
the policy grants, the server runs, then is shed or shuts down.  Run from
selftests/fuzz; output is deterministic.
"""
import os

PRESENT, BUTTON, OFF, GONE, LOWER = 1, 4, 10, 2, 11
EV, TICK, DECIDE, SHED, DELIVER, POLICY = 2, 3, 4, 5, 6, 8
GRANT_FULL, QUEUE, DENY = 1 | 4, 2, 3


def ev(slot, e, w=0):
    return [EV, slot, e, w & 0xFF, w >> 8]


def pump(n=3):
    return [TICK, 0, DELIVER] * n


grant = ([0x41] + ev(3, PRESENT, 200) + ev(3, BUTTON) + pump() +
         [POLICY, 1, DECIDE, 3, GRANT_FULL, 0] + pump())
seeds = {
    "grant_release": grant + ev(3, OFF) + pump(),
    "grant_lower_gone": grant + ev(3, LOWER, 120) + pump() + ev(3, GONE) +
                        pump(),
    "shed": grant + [SHED, 3] + pump() + [TICK, 60] + pump(),
    "queue_deny": ([0x41] + ev(1, PRESENT, 90) + ev(1, BUTTON) + pump() +
                   [DECIDE, 1, QUEUE, 1] + pump() + [DECIDE, 1, DENY, 4] +
                   pump()),
    "no_policy": ([0x41] + ev(6, PRESENT, 90) + ev(6, BUTTON) + pump() +
                  [TICK, 200] + pump()),
}

os.makedirs("corpus/alloc", exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join("corpus/alloc", name), "wb") as f:
        f.write(bytes(data))
