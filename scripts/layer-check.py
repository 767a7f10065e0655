#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Check the layering rackpwr.h writes down, on the built objects.

A -> B when A's object uses a symbol B's object defines (nm).  Allowed:
transports and protocols call the core, netlink calls the core and the
protocols' accessors, glue calls its pure code, a protocol calls its
node's hardware (capacity -> psu, alloc -> server) and alloc reads the
usable capacity and the power-supply modules (capacity, elect accessors),
main.c calls everyone.
Everything else, and any call cycle between files, fails: calls the
other way go through ops tables.  TAP output.

usage: layer-check.py [DRIVER_DIR]
"""
import os
import subprocess
import sys

PURE = {'rpw_frame', 'rpw_mac', 'rpw_elect', 'rpw_pmbus', 'rpw_alloc',
        'rpw_srv', 'rpw_auth'}
ALLOWED = {
    'main': None,				# everyone
    # auth.c is the core's key store: the MAC's seal/open run in it.
    'core': PURE | {'auth'},
    'auth': PURE,
    'rpw_auth': {'rpw_frame'},
    'ldisc': {'core'}, 'serdev': {'core'},
    'elect': {'core'} | PURE,
    'capacity': {'core', 'psu'} | PURE,
    'alloc': {'core', 'server', 'capacity', 'elect'} | PURE,
    'netlink': {'core', 'elect', 'capacity', 'alloc', 'auth'} | PURE,
    'psu': PURE, 'server': PURE,
    'rpw_frame': set(), 'rpw_pmbus': set(), 'rpw_srv': set(),
    'rpw_mac': {'rpw_frame'}, 'rpw_elect': {'rpw_mac', 'rpw_frame'},
    'rpw_alloc': {'rpw_frame'},
}


def symbols(path):
    defs, undef = set(), set()
    out = subprocess.run(['nm', path], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3 and f[1] in 'TDRB':
            defs.add(f[2])
        elif len(f) == 2 and f[0] == 'U':
            undef.add(f[1])
    return defs, undef


def main(ddir):
    objs = {o: symbols(os.path.join(ddir, o + '.o')) for o in ALLOWED}
    fails, n = 0, 0
    for a, (_, undef) in sorted(objs.items()):
        for b, (defs, _) in sorted(objs.items()):
            if a == b or not undef & defs:
                continue
            n += 1
            ok = ALLOWED[a] is None or b in ALLOWED[a]
            fails += not ok
            print('%sok %d - %s -> %s%s' % ('' if ok else 'not ', n, a, b,
                  '' if ok else ' (%s)' % ', '.join(sorted(undef & defs))))
    print('1..%d' % n)
    return 1 if fails else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else 'driver'))
