#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""The rack's invariants, checked from the netlink family alone.

Shares nothing with rackpwrctl or rackpwrd: it talks to the "rackpwr"
generic netlink family through the kernel's ynl library and the YAML spec
(the clients initramfs has both), and reads the simulated servers' power
enables from debugfs when they exist.

  rpw_invariants.py watch --out FILE [--period-ms N] [--spec YAML]
      Subscribes to the "events" and "power" groups (one socket, 4 MiB
      receive buffer) and every --period-ms (default 200) samples the
      nodes, power-get, capacity-get and alloc-get of the acting power-
      supply node(s), slot-get of every chassis node and the simulator's
      enables.  Appends one JSON object a line to FILE ("start", "ntf",
      "sample", "overrun", "stop") until SIGTERM or SIGINT.  Times are
      CLOCK_MONOTONIC seconds.  A sample's tables are read one after the
      other between its "t0" and "t"; "tt" gives each read's own
      [start, end].  A notification ("n": its place in the socket's order,
      which is the order the kernel raised them) was raised in (tp, t]:
      "t" is its read, "tp" when the drain before found the socket empty.
  rpw_invariants.py mark FILE TEXT
      Appends a "mark" line (a scenario's step, for the measurements).
  rpw_invariants.py check FILE [--mode n+n|n+1|none] [--shed-bound-ms N]
                              [--tolerance-ms N] [--allow-open]
      Prints TAP lines, "# violation: ..." and "# measured ..." lines;
      exits 1 on any violation.
  rpw_invariants.py selftest
      Runs check on made-up logs, a clean one and one per violation:
      each must be caught (host, no kernel needed).

What check asserts (Documentation/dev-tools/rackpwr-testing.rst):

budget     In every sample with one acting primary that is not
           recovering, granted-mw <= the budget of --mode computed from
           that primary's capacity-get (assemblies not lost): n+n the
           weaker rail, n+1 usable less the largest supply share, none
           usable.  Exception, the shed window: it opens where granted
           exceeds a budget that fell (capacity lost, a new primary that
           does not know every assembly yet): at the primary's first
           capacity-ntf since the sample before, else at the sample; it
           closes
           at the first sample where granted fits again.  Inside it
           granted must never rise (nothing is granted while shedding),
           it must close before the log ends and last at most
           --shed-bound-ms (default 30000); its length is printed, to
           within one sampling period.
enabled    No server is powered without a grant.  A grant of request R
           (chassis, slot, id) is what the notifications say: it starts at
           the first alloc-ntf of any primary's entry for R granted or
           shedding (raised in (tp, t] of that notification) and ends at
           the alloc-ntf that ends that entry (raised by its "t").  An
           enable seen in (lo, hi] -- a slot-ntf with enabled and id R
           (its tp, t), a slot-get line (its read's [start, end]) -- is a
           violation unless a grant of R started by hi + --tolerance-ms
           and did not end before lo - --tolerance-ms (default 500 ms:
           slack only, every bound above is exact).  A simulated server
           whose enable knob reads 1 (read in tt['hw']): the same with
           any grant of its slot.  Dumps of the primaries' tables are not
           used: a dump and a notification of the same change cannot be
           ordered.
answers    Every request is answered exactly once.  A request is the
           chassis address, slot and request id.  Judged from the
           notifications alone, in the order the kernel raised them (one
           socket): a primary's table is its power-request-ntf (pending)
           and alloc-ntf entries since its last alloc-ntf "recovery" (the
           kernel empties the table when a node starts acting), the
           chassis' slot is its last slot-ntf.  Its chassis slot moves
           requesting -> [queued] -> granted or denied: queued is an
           interim answer, granted (or shedding) and denied are final.
           A request whose slot goes off or empty, or asks again under a
           new id, before a final answer was withdrawn.  Violations: a
           request finally answered both ways (granted and denied at the
           chassis, or denied in a primary's table, the entry ended from
           pending or queued with reason capacity, redundancy, no-policy,
           policy or never-fits, and granted anywhere); granted twice: a
           primary's entry for R moves from pending or queued to granted
           after the chassis's last slot-ntf said it holds R (granted or
           shedding); a request still requesting or queued when the log
           ends (unless --allow-open).  Each violation names the
           notifications (node, epoch, read times) and grants involved.
events     No "overrun" (ENOBUFS) on the event socket: lost events would
           make the other checks blind.
"""
import argparse
import errno
import json
import os
import select
import signal
import socket
import sys
import time

YNL = '/usr/lib/rackpwr/ynl'
SPEC = '/usr/share/rackpwr/rackpwr.yaml'
SRVBUS = '/sys/bus/rackpwr_sim_server/devices'
SRVDBG = '/sys/kernel/debug/rackpwr_sim_server'
MODES = ('n+n', 'n+1', 'none')
HELD = ('granted', 'shedding')
# The deny reasons of an entry that ends before it was granted
# (rpw_alloc.h, enum rpw_pwr_reason).
DENY = ('capacity', 'redundancy', 'no-policy', 'policy', 'never-fits')
# Notifications the checks do not need (one per frame on the bus).
SKIP_NTF = ('frame-rx-ntf', 'bus-event-ntf')


def now():
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def append(path, rec):
    """One JSON line, appended in one write (marks come from elsewhere)."""
    line = json.dumps(rec, sort_keys=True) + '\n'
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


# ---- watch ----------------------------------------------------------------

def fast_yaml():
    """Parse the spec once, with libyaml when PyYAML has it: the two
    YnlFamily objects would parse it twice in pure Python, seconds each
    under TCG."""
    import yaml
    loader = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)
    cache = {}
    plain = yaml.safe_load

    def load(stream):
        name = getattr(stream, 'name', None)
        if name is None:
            return plain(stream)
        if name not in cache:
            cache[name] = yaml.load(stream, Loader=loader)
        return cache[name]
    yaml.safe_load = load


class Watcher:
    def __init__(self, spec, out, period):
        sys.path.insert(0, YNL)
        from lib import Netlink, YnlFamily  # the kernel's ynl library
        fast_yaml()
        self.out = out
        self.period = period
        # schema '': no jsonschema validation (none in the guest)
        self.dm = YnlFamily(spec, schema='')  # requests and dumps
        self.ev = YnlFamily(spec, schema='')  # notifications only
        # Notifications are read in drains; each drain reads until the
        # socket is empty.  One read in a drain was queued after the
        # previous drain found the socket empty ("tp"), and before it was
        # read ("t"): it was raised in (tp, t].
        self.tempty = now()
        # SO_RCVBUFFORCE (33): root may exceed rmem_max
        self.ev.sock.setsockopt(socket.SOL_SOCKET,
                                getattr(socket, 'SO_RCVBUFFORCE', 33),
                                4 << 20)
        # ntf_subscribe() binds each time: once is all a socket may
        self.ev.ntf_subscribe('events')
        self.ev.sock.setsockopt(
            Netlink.SOL_NETLINK, Netlink.NETLINK_ADD_MEMBERSHIP,
            self.ev.nlproto.get_mcast_id('power', self.ev.mcast_groups))
        self.skip = set(op.rsp_value for name, op in self.ev.msgs.items()
                        if name in SKIP_NTF and op.rsp_value is not None)
        from lib.ynl import NlMsgs
        self.NlMsgs = NlMsgs
        self.stop = False
        self.seq = 0

    def dump(self, op, vals):
        try:
            return self.dm.dump(op, vals)
        except Exception as e:  # a node deleted meanwhile: ENODEV
            return {'error': str(e)}

    def do(self, op, vals):
        try:
            return self.dm.do(op, vals)
        except Exception as e:
            return {'error': str(e)}

    def hw(self, nodes):
        """Simulated servers' enables by chassis address: [0/1] * 8."""
        bus_addr = dict((n.get('i2c-bus'), n['addr']) for n in nodes
                        if n.get('role') == 'chassis' and 'i2c-bus' in n)
        out = {}
        if not os.path.isdir(SRVBUS):
            return out
        for d in os.listdir(SRVBUS):
            try:
                with open(os.path.join(SRVBUS, d, 'i2c_bus')) as f:
                    bus = int(f.read())
            except (OSError, ValueError):
                continue
            if bus not in bus_addr:
                continue
            cid = d[len('rackpwr_sim_server'):]
            en = []
            for s in range(8):
                try:
                    with open('%s/chassis%s/server%d/enable' %
                              (SRVDBG, cid, s)) as f:
                        en.append(int(f.read()))
                except (OSError, ValueError):
                    en.append(0)
            out[str(bus_addr[bus])] = en
        return out

    def sample(self):
        """One sample.  Its tables are read one after the other, each at
        some instant of its own: "tt" keeps [start, end] of every read
        (tt[table][node id], tt['hw']), so that a check compares a table
        with what happened at that table's time, not the sample's."""
        t0 = now()
        rec = {'k': 'sample', 'power': {}, 'capacity': {}, 'alloc': {},
               'slots': {}}
        tt = {'power': {}, 'capacity': {}, 'alloc': {}, 'slots': {}}

        def read(table, i, fn, op):
            a = now()
            rec[table][str(i)] = fn(op, {'node-id': i})
            tt[table][str(i)] = [a, now()]
        nodes = self.dump('node-get', {})
        if isinstance(nodes, dict):
            nodes = []
        rec['nodes'] = nodes
        tt['nodes'] = [t0, now()]
        for n in nodes:
            i = n['id']
            if n.get('role') == 'psu':
                read('power', i, self.do, 'power-get')
                if 'acting' in n:
                    read('capacity', i, self.dump, 'capacity-get')
                    read('alloc', i, self.dump, 'alloc-get')
            elif n.get('role') == 'chassis':
                read('slots', i, self.dump, 'slot-get')
        a = now()
        rec['hw'] = self.hw(nodes)
        tt['hw'] = [a, now()]
        rec['tt'] = tt
        rec['t'] = now()
        rec['t0'] = t0
        append(self.out, rec)

    def drain(self):
        """Read the event socket until it is empty.  Every notification
        read now was raised after the previous drain found the socket
        empty ("tp", the same for the whole drain, however long it takes)
        and before its own read ("t"); "n" numbers them in the order the
        kernel queued them (one socket: the order they were raised)."""
        tp = self.tempty
        while True:
            tb = now()
            try:
                data = self.ev.sock.recv(1 << 20, socket.MSG_DONTWAIT)
            except BlockingIOError:
                self.tempty = tb
                return
            except OSError as e:
                if e.errno != errno.ENOBUFS:
                    raise
                append(self.out, {'t': now(), 'k': 'overrun'})
                continue
            t = now()
            for m in self.NlMsgs(data):
                # the genetlink command, first byte after the header:
                # skip the per-frame notifications without decoding them
                if m.error or m.done or m.raw[:1] and m.raw[0] in self.skip:
                    continue
                self.ev.handle_ntf(self.ev.nlproto.decode(self.ev, m, None))
            for n in self.ev.async_msg_queue:
                self.seq += 1
                append(self.out, {'t': t, 'tp': tp, 'n': self.seq,
                                  'k': 'ntf', 'name': n['name'],
                                  'msg': n['msg']})
            self.ev.async_msg_queue.clear()

    def run(self):
        append(self.out, {'t': now(), 'k': 'start',
                          'period_ms': int(self.period * 1000)})
        nxt = now()
        while not self.stop:
            self.drain()
            if now() >= nxt:
                self.sample()
                nxt = now() + self.period
            try:
                select.select([self.ev.sock], [], [],
                              max(0, nxt - now()))
            except InterruptedError:
                pass
        self.drain()
        self.sample()
        append(self.out, {'t': now(), 'k': 'stop'})


def cmd_watch(a):
    w = Watcher(a.spec, a.out, a.period_ms / 1000.0)

    def stop(sig, frame):
        w.stop = True
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    w.run()
    return 0


def cmd_mark(a):
    append(a.file, {'t': now(), 'k': 'mark', 'text': a.text})
    return 0


# ---- check ----------------------------------------------------------------

def budget(caps, mode):
    """(budget, usable) in mW from one primary's capacity-get entries."""
    rail = [0, 0]
    share = 0
    for c in caps:
        if c.get('lost'):
            continue
        for b, key, mask in ((0, 'bank-a-mw', 0x07), (1, 'bank-b-mw', 0x38)):
            mw = c.get(key, 0)
            rail[b] += mw
            if mw:
                n = bin(c.get('healthy', 0) & mask).count('1') or 1
                share = max(share, -(-mw // n))
    usable = rail[0] + rail[1]
    if mode == 'n+n':
        return min(rail), usable
    if mode == 'n+1':
        return max(0, usable - share), usable
    return usable, usable


class Grant:
    """One grant of a request (chassis, slot, id) as the notifications
    tell it: raised no earlier than "lo" (the first notification of any
    primary's table holding it); over no later than "end" (the read of the
    one that ended it), None while it lives."""
    def __init__(self, key, node, epoch, lo, t):
        self.key, self.node, self.epoch = key, node, epoch
        self.lo, self.t, self.end = lo, t, None

    def __str__(self):
        return ('grant %d of %d/%d by node %s epoch %s, raised in '
                '(%.3f, %.3f], %s' % (self.key[2], self.key[0],
                                      self.key[1], self.node, self.epoch,
                                      self.lo, self.t,
                                      'live' if self.end is None else
                                      'ended by %.3f' % self.end))


class Checker:
    """Transitions (answers) come from the notifications alone: one
    socket, read in the order the kernel raised them, so "the chassis held
    R before a primary granted R" is an order, never a guess from two
    tables read at different instants.  The dumps give what has no
    notification of its own or must be seen as it is: the budget's
    figures, and the enables (slot-get, the simulator's knobs), each with
    the times of its own read."""
    def __init__(self, recs, mode, bound_ms, tol_ms, allow_open):
        # ties (one read, several notifications): the order they were read
        self.recs = sorted(recs, key=lambda r: (r.get('t', 0), r.get('n', 0)))
        self.mode = mode
        self.bound = bound_ms / 1000.0
        self.tol = tol_ms / 1000.0
        self.allow_open = allow_open
        self.viol = {'budget': [], 'enabled': [], 'answers': [],
                     'events': []}
        self.measured = []
        self.addr = {}          # node id -> bus address
        self.grants = {}        # request key -> [Grant], oldest first
        self.tables = {}        # node -> {(addr, slot): (req, state)}
        self.epoch = {}         # node -> the epoch of its table
        self.denied_at = {}     # request key -> time a table denied it
        self.final = {}         # request key -> {'granted': t, 'denied': t}
        self.first = {}         # request key -> first time seen
        self.open = {}          # request key -> interim state at its slot
        # (addr, slot) -> (request, read time) the chassis holds
        self.held = {}
        # (lo, hi, what): seen between lo and hi, by what (for the report)
        self.enabled_recs = []  # (lo, hi, key, what) chassis slot enabled
        self.hw_recs = []       # (lo, hi, addr, slot) simulated enable 1
        self.decided = []       # (t, node, key) grant decisions
        self.nsamples = 0
        self.nntf = 0

    def v(self, kind, t, text):
        self.viol[kind].append('t=%.3f %s' % (t, text))

    def live(self, key):
        gs = self.grants.get(key)
        return gs[-1] if gs and gs[-1].end is None else None

    # -- the allocation tables of the primaries (notifications only) --
    def recovery(self, node, epoch):
        """A node starts acting: its table starts empty (the kernel
        empties it without a notification per entry)."""
        self.tables[node] = {}
        self.epoch[node] = epoch

    def ledger(self, t, tp, node, e):
        if 'chassis' not in e or 'slot' not in e:
            return
        a, s, req = e['chassis'], e['slot'], e.get('req-id', 0)
        state = e.get('state')
        tbl = self.tables.setdefault(node, {})
        epoch = e.get('epoch', self.epoch.get(node))
        prev = tbl.get((a, s))
        if state is None and prev and req == 0:
            req = prev[0]	# an ended entry's view may have lost its id
        key = (a, s, req)
        pstate = prev[1] if prev and prev[0] == req else None
        if state in HELD:
            if not self.live(key):
                self.grants.setdefault(key, []).append(
                    Grant(key, node, epoch, tp, t))
            if pstate in ('pending', 'queued'):
                self.decided.append((t, node, key))
                h = self.held.get((a, s))
                if h and h[0] == req:
                    first = self.grants[key][0]
                    self.v('answers', t, 'chassis %d slot %d request %d '
                           'granted twice (node %d epoch %s granted it '
                           'from %s, read at %.3f, while the chassis held '
                           'its grant: its slot-ntf read at %.3f; first %s)'
                           % (a, s, req, node, epoch, pstate, t, h[1],
                              first))
                if key in self.denied_at:
                    self.v('answers', t, 'chassis %d slot %d request %d '
                           'granted after it was denied (node %d epoch %s, '
                           'denied at %.3f)' % (key + (node, epoch,
                                                     self.denied_at[key])))
            tbl[(a, s)] = (req, state)
        elif state is None:
            reason = e.get('reason', 'none')
            if pstate in ('pending', 'queued') and reason in DENY:
                self.denied_at.setdefault(key, t)
                if key in self.grants:
                    self.v('answers', t, 'chassis %d slot %d request %d '
                           'denied (%s) by node %d epoch %s after %s' %
                           (key + (reason, node, epoch,
                                   self.grants[key][0])))
            # Any end of a held entry gives the grant back (an ended
            # entry's view may say reason none).
            g = self.live(key)
            if pstate in HELD and g:
                g.end = t
            tbl.pop((a, s), None)
        else:
            tbl[(a, s)] = (req, state)
            self.first.setdefault(key, t)

    # -- the chassis' slots (notifications only) --
    def slot(self, t, tp, node, s):
        a = self.addr.get(node)
        if a is None or 'slot' not in s:
            return
        sl, req, st = s['slot'], s.get('req-id', 0), s.get('state')
        key = (a, sl, req)
        if st in ('requesting', 'queued'):
            self.first.setdefault(key, t)
            if key not in self.final:
                self.open[key] = st
        elif st in HELD or st == 'denied':
            fin = 'denied' if st == 'denied' else 'granted'
            f = self.final.setdefault(key, {})
            other = 'granted' if fin == 'denied' else 'denied'
            if other in f and fin not in f:
                self.v('answers', t, 'chassis %d slot %d request %d: %s '
                       '(slot-ntf read at %.3f) after %s (read at %.3f)' %
                       (a, sl, req, fin, t, other, f[other]))
            f.setdefault(fin, t)
            self.open.pop(key, None)
            if fin == 'granted' and self.held.get((a, sl), (None,))[0] != req:
                self.held[(a, sl)] = (req, t)
        if st not in HELD:
            self.held.pop((a, sl), None)
        # An open request of this slot other than the one it still
        # waits for was withdrawn (off, empty) or superseded (a new id).
        for k in [k for k in self.open if k[:2] == (a, sl)]:
            if k != key or st not in ('requesting', 'queued'):
                del self.open[k]
        if s.get('enabled'):
            self.enabled_recs.append((tp, t, key, 'slot-ntf of node %d '
                                      'read at %.3f' % (node, t)))

    # -- the budget --
    def cap_ntf_after(self, node, t0, t1):
        """The first capacity-ntf of NODE in (t0, t1], or t1: where a
        shed window opened, to within the sampling when none came."""
        for r in self.recs:
            if t0 < r.get('t', 0) <= t1 and r.get('k') == 'ntf' and \
               r['name'] == 'capacity-ntf' and \
               r['msg'].get('node-id') == node:
                return r['t']
        return t1

    def samples(self):
        win = None
        prev = None
        tprev = 0
        for r in self.recs:
            if r.get('k') != 'sample':
                continue
            t = r['t']
            tp, tprev = tprev, t
            acting = [n for n in r.get('nodes', []) if n.get('role') ==
                      'psu' and 'acting' in n]
            if len(acting) != 1:
                prev = None
                continue
            p = acting[0]['id']
            pw = r['power'].get(str(p), {})
            caps = r['capacity'].get(str(p))
            if 'error' in pw or not isinstance(caps, list) or \
               'recovering' in pw:
                prev = None
                continue
            b, usable = budget(caps, self.mode)
            g = pw.get('granted-mw', 0)
            if win:
                if g > win['last']:
                    self.v('budget', t, 'granted rose from %d to %d mW '
                           'while shedding' % (win['last'], g))
                win['last'] = g
                if g <= b:
                    self.close(win, t, b)
                    win = None
            elif g > b:
                fell = prev is None or prev[0] != p or b < prev[1]
                if fell:
                    win = {'t0': self.cap_ntf_after(p, tp, t), 'g0': g,
                           'b0': b, 'last': g}
                else:
                    self.v('budget', t, 'granted %d mW above the %s budget '
                           '%d mW (usable %d) without a capacity loss' %
                           (g, self.mode, b, usable))
            prev = (p, b)
        if win:
            self.v('budget', win['t0'], 'shed window never closed (granted '
                   '%d mW, budget %d mW)' % (win['last'], win['b0']))

    def close(self, win, t, b):
        ms = (t - win['t0']) * 1000
        sheds = sum(1 for gs in self.grants.values() for g in gs
                    if g.end is not None and
                    win['t0'] - self.tol <= g.end <= t)
        self.measured.append('shed window %.0f ms (granted %d mW over a %s '
                             'budget of %d mW; %d grants released; now %d '
                             'mW)' % (ms, win['g0'], self.mode, win['b0'],
                                      sheds, b))
        if ms > self.bound * 1000:
            self.v('budget', t, 'shed window %.0f ms longer than the bound '
                   '%.0f ms' % (ms, self.bound * 1000))

    def enables(self):
        """An enable seen in (lo, hi] needs a grant of its request (any of
        its slot for a simulated server's knob) raised before hi and not
        ended before lo, give or take the tolerance."""
        def alive(g, lo, hi):
            return g.lo <= hi + self.tol and \
                (g.end is None or g.end >= lo - self.tol)
        for lo, t, key, what in self.enabled_recs:
            gs = self.grants.get(key, [])
            if any(alive(g, lo, t) for g in gs):
                continue
            if not gs:
                self.v('enabled', t, 'chassis %d slot %d enabled under '
                       'request %d, which no primary granted (%s, seen in '
                       '(%.3f, %.3f])' % (key + (what, lo, t)))
            else:
                self.v('enabled', t, 'chassis %d slot %d enabled under '
                       'request %d (%s, seen in (%.3f, %.3f]) outside its '
                       'grant: %s' % (key + (what, lo, t, '; '.join(
                           str(g) for g in gs))))
        for lo, t, a, s in self.hw_recs:
            gs = [g for k, l in self.grants.items() if k[:2] == (a, s)
                  for g in l]
            if any(alive(g, lo, t) for g in gs):
                continue
            self.v('enabled', t, 'simulated server at chassis %d slot %d '
                   'powered without a live grant (its enable read in '
                   '[%.3f, %.3f]; grants of the slot: %s)' %
                   (a, s, lo, t, '; '.join(str(g) for g in gs[-3:]) or
                    'none'))

    def marks(self):
        marks = [r for r in self.recs if r.get('k') == 'mark']
        for i, m in enumerate(marks):
            t0 = m['t']
            t1 = marks[i + 1]['t'] if i + 1 < len(marks) else 1e18
            keys = [k for k, t in self.first.items() if t0 <= t < t1]
            fin = [min(self.final[k].values()) for k in keys
                   if k in self.final]
            if keys:
                self.measured.append(
                    "after mark '%s': %d requests, %d answered, the last "
                    "%.0f ms after the mark" %
                    (m['text'], len(keys), len(fin),
                     (max(fin) - t0) * 1000 if fin else -1))
            lost = m['text'].startswith('primary-lost')
            if lost:
                self.takeover(t0, t1)

    def takeover(self, t0, t1):
        """First acting sample, recovered event and grant after t0."""
        old = None
        for r in self.recs:
            if r.get('k') == 'sample' and r['t'] < t0:
                act = [n['id'] for n in r['nodes'] if 'acting' in n and
                       n.get('role') == 'psu']
                old = act[0] if len(act) == 1 else old
        acting = rec = grant = None
        for r in self.recs:
            if not t0 <= r.get('t', 0) < t1:
                continue
            if r['k'] == 'sample' and acting is None:
                act = [n['id'] for n in r['nodes'] if 'acting' in n and
                       n.get('role') == 'psu' and n['id'] != old]
                acting = r['t'] if act else None
            if r['k'] == 'ntf' and r['name'] == 'alloc-ntf' and \
               r['msg'].get('event') == 'recovered' and \
               r['msg'].get('node-id') != old and rec is None:
                rec = r['t']
        for t, node, key in self.decided:
            if t0 <= t < t1 and node != old and grant is None:
                grant = t

        def ms(x):
            return '%.0f ms' % ((x - t0) * 1000) if x else 'never'
        self.measured.append('takeover after mark: another primary acting '
                             '%s, recovered %s, first grant %s' %
                             (ms(acting), ms(rec), ms(grant)))

    def run(self):
        for r in self.recs:
            k, t = r.get('k'), r.get('t', 0)
            if k == 'overrun':
                self.v('events', t, 'event socket overrun (ENOBUFS)')
            elif k == 'sample':
                self.nsamples += 1
                t0 = r.get('t0', t)
                tt = r.get('tt', {})
                for n in r.get('nodes', []):
                    self.addr[n['id']] = n['addr']
                for node, sl in r.get('slots', {}).items():
                    lo, hi = tt.get('slots', {}).get(node, (t0, t))
                    if isinstance(sl, list):
                        for s in sl:
                            a = self.addr.get(int(node))
                            if s.get('enabled') and a is not None:
                                self.enabled_recs.append(
                                    (lo, hi, (a, s['slot'],
                                              s.get('req-id', 0)),
                                     'slot-get of node %s in [%.3f, %.3f]'
                                     % (node, lo, hi)))
                lo, hi = tt.get('hw', (t0, t))
                for a, en in r.get('hw', {}).items():
                    for s, on in enumerate(en):
                        if on:
                            self.hw_recs.append((lo, hi, int(a), s))
            elif k == 'ntf':
                self.nntf += 1
                m = r['msg']
                tp = r.get('tp', t)
                ev = m.get('event')
                if r['name'] == 'node-change-ntf' and 'addr' in m:
                    self.addr[m['id']] = m['addr']
                elif r['name'] == 'alloc-ntf' and ev == 'recovery':
                    self.recovery(m['node-id'], m.get('epoch'))
                elif r['name'] == 'alloc-ntf' and ev in ('entry',
                                                         'shed-refused'):
                    self.ledger(t, tp, m['node-id'], m)
                elif r['name'] == 'power-request-ntf':
                    self.ledger(t, tp, m['node-id'],
                                dict(m, state='pending'))
                elif r['name'] == 'alloc-ntf' and ev == 'no-policy-deny':
                    self.denied_at.setdefault(
                        (m['chassis'], m['slot'], m.get('req-id', 0)), t)
                elif r['name'] == 'slot-ntf':
                    self.slot(t, tp, m['node-id'], m)
        self.samples()
        self.enables()
        if not self.allow_open:
            for key, st in sorted(self.open.items()):
                self.v('answers', self.recs[-1]['t'] if self.recs else 0,
                       'chassis %d slot %d request %d still %s when the '
                       'log ends' % (key + (st,)))
        self.marks()
        return self.report()

    def report(self):
        out = []
        n = 0
        bad = 0
        nreq = len(set(self.first) | set(self.final))

        def tap(ok, text, kind):
            nonlocal n, bad
            n += 1
            bad += not ok
            out.append('%s %d - %s' % ('ok' if ok else 'not ok', n, text))
            for x in self.viol[kind][:20]:
                out.append('# violation: ' + x)
            if len(self.viol[kind]) > 20:
                out.append('# ... %d more' % (len(self.viol[kind]) - 20))
        n += 1
        ok = self.nsamples > 0
        bad += not ok
        out.append('%s %d - invariants: %d samples, %d notifications, %d '
                   'requests' % ('ok' if ok else 'not ok', n,
                                 self.nsamples, self.nntf, nreq))
        tap(not self.viol['events'], 'no notification lost', 'events')
        tap(not self.viol['budget'], 'granted within the %s budget outside '
            'shed windows (bound %.0f ms)' % (self.mode, self.bound * 1000),
            'budget')
        tap(not self.viol['enabled'], 'no server enabled without a grant',
            'enabled')
        tap(not self.viol['answers'], 'every request answered exactly once',
            'answers')
        for m in self.measured:
            out.append('# measured ' + m)
        out.append('1..%d' % n)
        return out, bad


def load(path):
    recs = []
    with open(path) as f:
        for i, line in enumerate(f):
            try:
                recs.append(json.loads(line))
            except ValueError:
                # the watcher killed in the middle of a line: the last one
                print('# %s:%d: not JSON, skipped' % (path, i + 1))
    return recs


def cmd_check(a):
    c = Checker(load(a.file), a.mode, a.shed_bound_ms, a.tolerance_ms,
                a.allow_open)
    out, bad = c.run()
    print('\n'.join(out))
    return 1 if bad else 0


# ---- selftest ---------------------------------------------------------------

def fake_log(fault=None):
    """A rack of one primary (node 1), one chassis (node 2, addr 11) and
    one 6 kW supply per bank: slot 0 asks 2 kW and is granted, slot 1
    (3 kW) is denied; bank B loses 3 kW and slot 0 is shed.  FAULT
    injects one violation, or (a timing) none."""
    cap = [{'addr': 1, 'bank-a-mw': 6000000, 'bank-b-mw': 6000000,
            'healthy': 0x09}]
    recs = []
    t = [0.0]

    def at(dt, rec):
        t[0] += dt
        rec['t'] = t[0]
        recs.append(rec)

    def sample(granted, caps, slots, hw=(0,) * 8, alloc=(), tt=None):
        at(0.2, {'k': 'sample', 'nodes': [
            {'id': 1, 'addr': 1, 'role': 'psu', 'acting': True},
            {'id': 2, 'addr': 11, 'role': 'chassis'}],
            'power': {'1': {'granted-mw': granted}},
            'capacity': {'1': caps}, 'alloc': {'1': list(alloc)},
            'slots': {'2': slots}, 'hw': {'11': list(hw)}})
        if tt:
            # [start, end] of each read, counted back from the sample's end
            def back(ab):
                return [t[0] - ab[0], t[0] - ab[1]]
            recs[-1]['t0'] = t[0] - 0.2
            recs[-1]['tt'] = dict(
                (k, dict((n, back(ab)) for n, ab in v.items())
                 if isinstance(v, dict) else back(v))
                for k, v in tt.items())

    def ntf(name, msg, dt=0.01, tp=None):
        at(dt, {'k': 'ntf', 'name': name, 'msg': msg})
        if tp is not None:
            recs[-1]['tp'] = tp

    def ent(slot, req, state=None, reason='none', node=1, tp=None,
            dt=0.01):
        m = {'node-id': node, 'event': 'entry', 'chassis': 11,
             'slot': slot, 'req-id': req, 'reason': reason}
        if state:
            m['state'] = state
        ntf('alloc-ntf', m, dt, tp)

    def sl(slot, req, state, enabled=False, dt=0.01, tp=None):
        m = {'node-id': 2, 'slot': slot, 'req-id': req, 'state': state}
        if enabled:
            m['enabled'] = True
        ntf('slot-ntf', m, dt, tp)
        return m

    at(0, {'k': 'start', 'period_ms': 200})
    sample(0, cap, [])
    at(0.01, {'k': 'mark', 'text': 'first'})
    sl(0, 7, 'requesting')
    ent(0, 7, 'pending')
    if fault == 'enabled':
        sl(1, 9, 'granted', True)   # powered, no primary granted 9
    if fault in ('mid-sample', 'late-read'):
        # One sample: alloc-get read before the grant (pending), slot-get
        # and the knobs after the chassis switched the server on.  The
        # grant's notifications come in the next drain: at once, or
        # (late-read) a second after the sample, behind a long drain,
        # raised any time since the drain before the sample.
        tp = t[0]
        sample(0, cap, [{'slot': 0, 'req-id': 7, 'state': 'granted',
                         'enabled': True}], hw=(1,) + (0,) * 7,
               alloc=[{'chassis': 11, 'slot': 0, 'req-id': 7,
                       'state': 'pending'}],
               tt={'alloc': {'1': (0.19, 0.18)}, 'slots': {'2': (0.1, 0.05)},
                   'hw': (0.02, 0.0)})
        late = 1.0 if fault == 'late-read' else 0.01
        ent(0, 7, 'granted', tp=tp, dt=late)
        sl(0, 7, 'granted', True, dt=0, tp=tp)
    else:
        ent(0, 7, 'granted')
        sl(0, 7, 'granted', True)
    if fault == 'twice-sampled':
        # A second primary grants 7 again, the chassis holding it: its
        # dumps, read in between, must not hide the order.
        ntf('alloc-ntf', {'node-id': 3, 'event': 'recovery', 'epoch': 9})
        sample(2000000, cap, [{'slot': 0, 'req-id': 7, 'state': 'granted',
                               'enabled': True}], hw=(1,) + (0,) * 7,
               alloc=[{'chassis': 11, 'slot': 0, 'req-id': 7,
                       'state': 'granted'}])
        ntf('power-request-ntf', {'node-id': 3, 'chassis': 11, 'slot': 0,
                                  'req-id': 7, 'epoch': 9})
        ent(0, 7, 'granted', node=3)
    if fault == 'twice':
        ent(0, 7, 'pending', node=3)
        ent(0, 7, 'granted', node=3)
    sample(2000000, cap, [{'slot': 0, 'req-id': 7, 'state': 'granted',
                           'enabled': True}], hw=(1,) + (0,) * 7,
           alloc=[{'chassis': 11, 'slot': 0, 'req-id': 7,
                   'state': 'granted'}])
    sl(1, 8, 'requesting')
    ent(1, 8, 'pending')
    ent(1, 8, None, 'redundancy')
    sl(1, 8, 'denied')
    if fault == 'both':
        sl(1, 8, 'granted')
    if fault == 'open':
        sl(2, 5, 'requesting')
    if fault == 'over':
        sample(7000000, cap, [])
    if fault == 'overrun':
        at(0.01, {'k': 'overrun'})
    low = [dict(cap[0], **{'bank-b-mw': 1000000})]
    sample(2000000, low, [])
    if fault == 'rise':
        sample(2500000, low, [])
    if fault == 'long':
        for i in range(200):
            sample(2000000, low, [])
    ent(0, 7, 'shedding')
    sl(0, 7, 'shedding', True)
    sl(0, 7, 'off')
    ent(0, 0, None, 'shed')  # an ended entry's view without its id
    if fault == 'after':
        sl(0, 7, 'granted', True, dt=1.0)
    if fault == 'hw':
        sample(0, low, [], hw=(0, 0, 1) + (0,) * 5)
    sample(0, low, [{'slot': 0, 'req-id': 7, 'state': 'off'}])
    if fault == 'never':
        sample(3000000, [dict(cap[0], **{'bank-b-mw': 0})], [])
    at(0.01, {'k': 'stop'})
    return recs


FAULTS = {
    None: None,
    'mid-sample': None,
    'late-read': None,
    'enabled': 'no server enabled without a grant',
    'after': 'no server enabled without a grant',
    'hw': 'no server enabled without a grant',
    'twice': 'every request answered exactly once',
    'twice-sampled': 'every request answered exactly once',
    'both': 'every request answered exactly once',
    'open': 'every request answered exactly once',
    'over': 'granted within',
    'rise': 'granted within',
    'long': 'granted within',
    'never': 'granted within',
    'overrun': 'no notification lost',
}


def cmd_selftest(a):
    n = 0
    bad = 0
    for fault, want in FAULTS.items():
        out, nbad = Checker(fake_log(fault), 'n+n', 30000, 500,
                            False).run()
        failed = [line for line in out if line.startswith('not ok')]
        if want is None:
            ok = nbad == 0
            what = ("timing '%s' passes" % fault) if fault else \
                'a clean log passes'
        else:
            ok = nbad == 1 and len(failed) == 1 and want in failed[0]
            what = "fault '%s' fails only '%s'" % (fault, want)
        n += 1
        bad += not ok
        print('%s %d - %s' % ('ok' if ok else 'not ok', n, what))
        if not ok or a.verbose:
            print('\n'.join('#   ' + line for line in out))
    print('1..%d' % n)
    return 1 if bad else 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = p.add_subparsers(dest='cmd', required=True)
    w = sub.add_parser('watch')
    w.add_argument('--out', required=True)
    w.add_argument('--period-ms', type=int, default=200)
    w.add_argument('--spec', default=SPEC)
    m = sub.add_parser('mark')
    m.add_argument('file')
    m.add_argument('text')
    c = sub.add_parser('check')
    c.add_argument('file')
    c.add_argument('--mode', choices=MODES, default='n+n')
    c.add_argument('--shed-bound-ms', type=int, default=30000)
    c.add_argument('--tolerance-ms', type=int, default=500)
    c.add_argument('--allow-open', action='store_true')
    s = sub.add_parser('selftest')
    s.add_argument('-v', '--verbose', action='store_true')
    a = p.parse_args()
    return {'watch': cmd_watch, 'mark': cmd_mark, 'check': cmd_check,
            'selftest': cmd_selftest}[a.cmd](a)


if __name__ == '__main__':
    sys.exit(main())
