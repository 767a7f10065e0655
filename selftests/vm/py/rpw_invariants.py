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
      "sample", "overrun", "stop") until SIGTERM or SIGINT.
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
enabled    No server is powered without a grant.  A chassis slot seen
           enabled (slot-ntf or slot-get) with request id R: some
           primary's table showed R granted or shedding (alloc-ntf or
           alloc-get) no later than --tolerance-ms (default 500: dumps
           and events come on different sockets) after, and R's grant
           had not ended (its granted or shedding entry ended) more than
           the tolerance before.  A simulated server whose enable knob reads 1: a grant
           of its slot was live within the tolerance.  Times are bounds:
           a sample's dumps are taken between its "t0" and "t", a
           notification arrived between "tp" (the previous read) and "t"
           (its read); a grant counts from its earliest bound (the
           previous sample's "t0" when a dump shows it first), an
           enable or an end at the bound that favours the server.
answers    Every request is answered exactly once.  A request is the
           chassis address, slot and request id.  Its chassis slot moves
           requesting -> [queued] -> granted or denied: queued is an
           interim answer, granted (or shedding) and denied are final.
           A request whose slot goes off or empty, or asks again under a
           new id, before a final answer was withdrawn.  Violations: a
           request finally answered both ways (granted and denied at the
           chassis, or denied in a primary's table, the entry ended from
           pending or queued with reason capacity, redundancy, no-policy,
           policy or never-fits, and granted anywhere); a primary
           granting a request (pending or queued -> granted) that its
           chassis already holds granted (granted twice); a request still
           requesting or queued when the log ends (unless --allow-open).
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
        # Notifications are stamped when read ("t"); one read after the
        # previous read ("tp") arrived after it: its time is in (tp, t].
        self.tdrain = now()

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
        t0 = now()
        rec = {'k': 'sample', 'power': {}, 'capacity': {}, 'alloc': {},
               'slots': {}}
        nodes = self.dump('node-get', {})
        if isinstance(nodes, dict):
            nodes = []
        rec['nodes'] = nodes
        for n in nodes:
            i = n['id']
            if n.get('role') == 'psu':
                rec['power'][str(i)] = self.do('power-get', {'node-id': i})
                if 'acting' in n:
                    rec['capacity'][str(i)] = self.dump('capacity-get',
                                                        {'node-id': i})
                    rec['alloc'][str(i)] = self.dump('alloc-get',
                                                     {'node-id': i})
            elif n.get('role') == 'chassis':
                rec['slots'][str(i)] = self.dump('slot-get', {'node-id': i})
        rec['hw'] = self.hw(nodes)
        rec['t'] = now()
        rec['t0'] = t0
        append(self.out, rec)

    def drain(self):
        while True:
            try:
                data = self.ev.sock.recv(1 << 20, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            except OSError as e:
                if e.errno != errno.ENOBUFS:
                    raise
                append(self.out, {'t': now(), 'k': 'overrun'})
                continue
            t = now()
            tp, self.tdrain = self.tdrain, t
            for m in self.NlMsgs(data):
                if m.error or m.done:
                    continue
                d = self.ev.nlproto.decode(self.ev, m, None)
                if d.cmd() in self.skip:
                    continue
                self.ev.handle_ntf(d)
            for n in self.ev.async_msg_queue:
                append(self.out, {'t': t, 'tp': tp, 'k': 'ntf',
                                  'name': n['name'], 'msg': n['msg']})
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


class Checker:
    def __init__(self, recs, mode, bound_ms, tol_ms, allow_open):
        self.recs = sorted(recs, key=lambda r: r.get('t', 0))
        self.mode = mode
        self.bound = bound_ms / 1000.0
        self.tol = tol_ms / 1000.0
        self.allow_open = allow_open
        self.viol = {'budget': [], 'enabled': [], 'answers': [],
                     'events': []}
        self.measured = []
        self.addr = {}          # node id -> bus address
        self.grant_seen = {}    # request key -> first time a table held it
        self.grant_end = {}     # request key -> time its grant was released
        self.slot_grants = {}   # (addr, slot) -> [[start, end or None]]
        self.ledger_state = {}  # (node, addr, slot) -> (req, state)
        self.denied_at = {}     # request key -> time a table denied it
        self.final = {}         # request key -> {'granted': t, 'denied': t}
        self.first = {}         # request key -> first time seen
        self.open = {}          # request key -> interim state at its slot
        self.held = {}          # (addr, slot) -> request the chassis holds
        # (lo, hi, ...): seen between lo and hi (a sample's dumps take
        # time: its start and end; a notification's arrival twice)
        self.enabled_recs = []  # (lo, hi, key) chassis slot enabled
        self.hw_recs = []       # (lo, hi, addr, slot) simulated enable 1
        self.decided = []       # (t, node, key) grant decisions
        self.nsamples = 0
        self.nntf = 0

    def v(self, kind, t, text):
        self.viol[kind].append('t=%.3f %s' % (t, text))

    # -- the allocation tables of the primaries --
    def ledger(self, t, node, e, dump, lo=None):
        if 'chassis' not in e or 'slot' not in e:
            return
        a, s, req = e['chassis'], e['slot'], e.get('req-id', 0)
        state = e.get('state')
        prev = self.ledger_state.get((node, a, s))
        if state is None and prev and req == 0:
            req = prev[0]	# an ended entry's view may have lost its id
        key = (a, s, req)
        pstate = prev[1] if prev and prev[0] == req else None
        if state in HELD:
            # seen: the earliest it can have happened (a grant before an
            # enable is proven late only by this lower bound)
            lo = t if lo is None else lo
            if key not in self.grant_seen:
                self.grant_seen[key] = lo
                self.slot_grants.setdefault((a, s), []).append([lo, None])
            if pstate in ('pending', 'queued'):
                self.decided.append((t, node, key))
                if self.held.get((a, s)) == req:
                    self.v('answers', t, 'chassis %d slot %d request %d '
                           'granted twice (node %d granted it while the '
                           'chassis held its grant)' % (a, s, req, node))
                if key in self.denied_at:
                    self.v('answers', t, 'chassis %d slot %d request %d '
                           'granted after it was denied' % key)
            self.ledger_state[(node, a, s)] = (req, state)
        elif state is None and not dump:
            reason = e.get('reason', 'none')
            if pstate in ('pending', 'queued') and reason in DENY:
                self.denied_at.setdefault(key, t)
                if key in self.grant_seen:
                    self.v('answers', t, 'chassis %d slot %d request %d '
                           'denied after it was granted' % key)
            # Any end of a held entry gives the grant back (an ended
            # entry's view may say reason none).
            if pstate in HELD:
                self.grant_end.setdefault(key, t)
                for iv in self.slot_grants.get((a, s), []):
                    if iv[1] is None:
                        iv[1] = t
            self.ledger_state.pop((node, a, s), None)
        elif state is not None:
            self.ledger_state[(node, a, s)] = (req, state)
            self.first.setdefault(key, t)

    # -- the chassis' slots --
    def slot(self, t, node, s, lo=None):
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
                       'after %s' % (a, sl, req, fin, other))
            f.setdefault(fin, t)
            self.open.pop(key, None)
            if fin == 'granted':
                self.held[(a, sl)] = req
        if st not in HELD:
            self.held.pop((a, sl), None)
        # An open request of this slot other than the one it still
        # waits for was withdrawn (off, empty) or superseded (a new id).
        for k in [k for k in self.open if k[:2] == (a, sl)]:
            if k != key or st not in ('requesting', 'queued'):
                del self.open[k]
        if s.get('enabled'):
            self.enabled_recs.append((t if lo is None else lo, t, key))

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
        sheds = sum(1 for k, te in self.grant_end.items()
                    if win['t0'] - self.tol <= te <= t)
        self.measured.append('shed window %.0f ms (granted %d mW over a %s '
                             'budget of %d mW; %d grants released; now %d '
                             'mW)' % (ms, win['g0'], self.mode, win['b0'],
                                      sheds, b))
        if ms > self.bound * 1000:
            self.v('budget', t, 'shed window %.0f ms longer than the bound '
                   '%.0f ms' % (ms, self.bound * 1000))

    def enables(self):
        for lo, t, key in self.enabled_recs:
            g = self.grant_seen.get(key)
            if g is None or g > t + self.tol:
                self.v('enabled', t, 'chassis %d slot %d enabled under '
                       'request %d, which no primary granted' % key)
            e = self.grant_end.get(key)
            if e is not None and e < lo - self.tol:
                self.v('enabled', t, 'chassis %d slot %d enabled under '
                       'request %d after its grant ended at %.3f' %
                       (key + (e,)))
        for lo, t, a, s in self.hw_recs:
            live = any(iv[0] <= t + self.tol and
                       (iv[1] is None or iv[1] >= lo - self.tol)
                       for iv in self.slot_grants.get((a, s), []))
            if not live:
                self.v('enabled', t, 'simulated server at chassis %d slot '
                       '%d powered without a live grant' % (a, s))

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
        tlast0 = 0	# the last sample's start: a table read before it
        for r in self.recs:
            k, t = r.get('k'), r.get('t', 0)
            if k == 'overrun':
                self.v('events', t, 'event socket overrun (ENOBUFS)')
            elif k == 'sample':
                self.nsamples += 1
                t0 = r.get('t0', t)
                tprev0, tlast0 = tlast0, t0
                for n in r.get('nodes', []):
                    self.addr[n['id']] = n['addr']
                for node, ents in r.get('alloc', {}).items():
                    if isinstance(ents, list):
                        for e in ents:
                            self.ledger(t0, int(node), e, True, tprev0)
                for node, sl in r.get('slots', {}).items():
                    if isinstance(sl, list):
                        for s in sl:
                            self.slot(t, int(node), s, t0)
                for a, en in r.get('hw', {}).items():
                    for s, on in enumerate(en):
                        if on:
                            self.hw_recs.append((t0, t, int(a), s))
            elif k == 'ntf':
                self.nntf += 1
                m = r['msg']
                if r['name'] == 'node-change-ntf' and 'addr' in m:
                    self.addr[m['id']] = m['addr']
                elif r['name'] == 'alloc-ntf' and \
                        m.get('event') == 'entry':
                    self.ledger(t, m['node-id'], m, False,
                                r.get('tp', t))
                elif r['name'] == 'alloc-ntf' and \
                        m.get('event') == 'no-policy-deny':
                    self.denied_at.setdefault(
                        (m['chassis'], m['slot'], m.get('req-id', 0)), t)
                elif r['name'] == 'slot-ntf':
                    self.slot(t, m['node-id'], m)
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
    injects one violation."""
    cap = [{'addr': 1, 'bank-a-mw': 6000000, 'bank-b-mw': 6000000,
            'healthy': 0x09}]
    recs = []
    t = [0.0]

    def at(dt, rec):
        t[0] += dt
        rec['t'] = t[0]
        recs.append(rec)

    def sample(granted, caps, slots, hw=(0,) * 8, alloc=()):
        at(0.2, {'k': 'sample', 'nodes': [
            {'id': 1, 'addr': 1, 'role': 'psu', 'acting': True},
            {'id': 2, 'addr': 11, 'role': 'chassis'}],
            'power': {'1': {'granted-mw': granted}},
            'capacity': {'1': caps}, 'alloc': {'1': list(alloc)},
            'slots': {'2': slots}, 'hw': {'11': list(hw)}})

    def ntf(name, msg, dt=0.01):
        at(dt, {'k': 'ntf', 'name': name, 'msg': msg})

    def ent(slot, req, state=None, reason='none', node=1):
        m = {'node-id': node, 'event': 'entry', 'chassis': 11,
             'slot': slot, 'req-id': req, 'reason': reason}
        if state:
            m['state'] = state
        ntf('alloc-ntf', m)

    def sl(slot, req, state, enabled=False, dt=0.01):
        m = {'node-id': 2, 'slot': slot, 'req-id': req, 'state': state}
        if enabled:
            m['enabled'] = True
        ntf('slot-ntf', m, dt)
        return m

    at(0, {'k': 'start', 'period_ms': 200})
    sample(0, cap, [])
    at(0.01, {'k': 'mark', 'text': 'first'})
    sl(0, 7, 'requesting')
    ent(0, 7, 'pending')
    if fault == 'enabled':
        sl(1, 9, 'granted', True)   # powered, no primary granted 9
    ent(0, 7, 'granted')
    sl(0, 7, 'granted', True)
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
    'enabled': 'no server enabled without a grant',
    'after': 'no server enabled without a grant',
    'hw': 'no server enabled without a grant',
    'twice': 'every request answered exactly once',
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
            what = 'a clean log passes'
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
