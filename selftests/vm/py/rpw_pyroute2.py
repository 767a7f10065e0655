#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Dump rackpwr's nodes with pyroute2, a client that knows nothing of it.

pyroute2's generic netlink socket resolves the family by name and decodes
the attributes with a message class built here from the YAML spec alone
(attribute numbers in order, from 1 or an explicit value), the way any
third-party tool would.  Prints one "addr=A role=R name=N" line per node.
Usage: rpw_pyroute2.py SPEC
"""
import sys

import yaml
from pyroute2.netlink import NLM_F_DUMP, NLM_F_REQUEST, genlmsg
from pyroute2.netlink.generic import GenericNetlinkSocket

TYPES = {'u8': 'uint8', 'u16': 'uint16', 'u32': 'uint32', 'u64': 'uint64',
         'string': 'asciiz', 'flag': 'flag', 'binary': 'hex', 'pad': 'none',
         's32': 'int32', 's64': 'int64', 'nest': 'hex'}


def numbered(items):
    """(value, item) pairs: explicit values, else one more than the last."""
    nxt = 1
    for it in items:
        v = it.get('value', nxt)
        yield v, it
        nxt = v + 1


def main():
    spec = yaml.safe_load(open(sys.argv[1]))
    sets = {s['name']: s for s in spec['attribute-sets']}
    amap = [('UNSPEC', 'none')]
    names = {}
    for v, a in numbered(sets['node']['attributes']):
        while len(amap) < v:
            amap.append(('UNUSED%d' % len(amap), 'none'))
        amap.append((a['name'], TYPES[a['type']]))
        names[a['name']] = a
    cmd = dict((o['name'], v) for v, o in
               numbered(spec['operations']['list']))['node-get']
    roles = [e if isinstance(e, str) else e['name'] for e in
             next(d for d in spec['definitions']
                  if d['name'] == 'role')['entries']]
    role_start = next(d for d in spec['definitions']
                      if d['name'] == 'role').get('value-start', 0)

    class NodeMsg(genlmsg):
        nla_map = tuple(amap)

    sock = GenericNetlinkSocket()
    sock.bind(spec['name'], NodeMsg)
    msg = NodeMsg()
    msg['cmd'] = cmd
    msg['version'] = spec.get('version', 1)
    n = 0
    for r in sock.nlm_request(msg, msg_type=sock.prid,
                              msg_flags=NLM_F_REQUEST | NLM_F_DUMP):
        role = r.get_attr('role')
        print('addr=%s role=%s name=%s' % (
            r.get_attr('addr'),
            roles[role - role_start] if role is not None else '?',
            r.get_attr('name')))
        n += 1
    sock.close()
    print('nodes=%d' % n)


if __name__ == '__main__':
    main()
