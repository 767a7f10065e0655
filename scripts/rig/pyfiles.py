#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""List the files a guest's Python needs for the standard-client tests.

Imports what the tests import (the kernel's ynl library and CLI modules,
pyroute2, the tests in selftests/vm/py), then prints every loaded module's
file and its compiled twin, so scripts/rig/mkinitramfs.sh copies a pruned
interpreter instead of the whole standard library.
Usage: pyfiles.py YNL_DIR TEST_DIR
"""
import importlib.util
import os
import sys

ynl, tests = sys.argv[1], sys.argv[2]
sys.path[:0] = [ynl, tests]
# The stdlib pieces the CLI and the tests use; the rest follows by import.
import argparse, json, pprint, time, select, signal, socket, struct  # noqa
import errno, traceback, re, random, uuid, ipaddress, functools  # noqa
import collections, enum  # noqa
import encodings.idna, encodings.ascii, encodings.latin_1  # noqa
import lib  # noqa: F401  (the ynl library)
import pyroute2  # noqa: F401
from pyroute2.netlink import genlmsg  # noqa: F401
from pyroute2.netlink.generic import GenericNetlinkSocket  # noqa: F401
for f in sorted(os.listdir(tests)):
    if f.endswith('.py'):
        __import__(f[:-3])

out = set()
for m in list(sys.modules.values()):
    f = getattr(m, '__file__', None)
    if not f or not f.startswith('/usr/'):
        continue
    out.add(f)
    if f.endswith('.py'):
        c = importlib.util.cache_from_source(f)
        if os.path.exists(c):
            out.add(c)
    # A package's __init__ needs its directory to exist: implied.
for f in sorted(out):
    print(f)
