// SPDX-License-Identifier: GPL-2.0-only
/*
 * Focused scenarios for the primary-election state machine
 * (driver/rpw_elect.c): each test drives a few nodes by hand, frame by
 * frame, and checks states, epochs, emitted frames, events and the lease.
 * The randomised whole-system checks live in selftests/sim/elect_sim.c.
 */
#include "tap.h"
#include "rpw_elect.h"

#define MS	1000000ULL
#define T0	(1000 * MS)	/* local clocks do not start at 0 */

struct tn {
	struct rpw_elect e;
	struct rpw_frame out[64];
	enum rpw_elect_prio prio[64];
	u64 ttl[64];
	int nout;
	u64 timer;
	int ev[RPW_EV__MAX];
	u8 ev_addr[RPW_EV__MAX];
	bool refuse;		/* send() fails as on a full queue */
	int refused;
	u64 last_sent;		/* time of the last accepted send */
	u64 now;		/* set by the two-node loop */
};

static int t_send(void *ctx, const struct rpw_frame *f,
		  enum rpw_elect_prio prio, u64 ttl_ns)
{
	struct tn *n = ctx;

	if (n->refuse) {
		n->refused++;
		return -ENOBUFS;
	}
	n->last_sent = n->now;
	if (n->nout < 64) {
		n->prio[n->nout] = prio;
		n->ttl[n->nout] = ttl_ns;
		n->out[n->nout++] = *f;
	}
	return 0;
}

static void t_timer(void *ctx, u64 exp)
{
	((struct tn *)ctx)->timer = exp;
}

static void t_event(void *ctx, enum rpw_elect_event ev, u8 addr, u32 epoch)
{
	struct tn *n = ctx;

	(void)epoch;
	n->ev[ev]++;
	n->ev_addr[ev] = addr;
}

static const struct rpw_elect_ops ops = {
	.send = t_send, .timer = t_timer, .event = t_event,
};

static void mk(struct tn *n, u8 addr, u8 role)
{
	struct rpw_elect_cfg c;

	memset(n, 0, sizeof(*n));
	rpw_elect_cfg_default(&c, addr, role);
	if (rpw_elect_init(&n->e, &c, &ops, n))
		tap_ok(0, "init %u", addr);
}

/* Every frame sent so far went out intact (the MAC reports each). */
static void done_all(struct tn *n, u64 t)
{
	int i;

	for (i = 0; i < n->nout; i++)
		rpw_elect_tx_done(&n->e, &n->out[i], true, t);
}

static const struct rpw_frame *last(struct tn *n)
{
	return n->nout ? &n->out[n->nout - 1] : NULL;
}

static const struct rpw_frame *last_of(struct tn *n, u8 type)
{
	int i;

	for (i = n->nout - 1; i >= 0; i--)
		if (n->out[i].type == type)
			return &n->out[i];
	return NULL;
}

static u32 ep_of(const struct rpw_frame *f)
{
	return get_unaligned_le32(f->payload);
}

/* The secondary a claim built by claim() names as its acknowledger. */
static u8 claim_acker;

static struct rpw_frame claim(u8 type, u8 src, u32 ep, u8 seq)
{
	struct rpw_frame f;

	memset(&f, 0, sizeof(f));
	f.version = RPW_PROTO_VERSION;
	f.type = type;
	f.dst = RPW_ADDR_BCAST;
	f.src = src;
	f.seq = seq;
	put_unaligned_le32(ep, f.payload);
	f.len = 4;
	if (type == RPW_T_PRIMARY || type == RPW_T_HEARTBEAT) {
		put_unaligned_le16(100, f.payload + 4);
		f.payload[6] = claim_acker;
		f.len = RPW_ELECT_CLAIM_LEN;
	}
	return f;
}

/* Fire @n's timer at its expiry (plus @late). */
static void fire(struct tn *n, u64 late)
{
	rpw_elect_timer_expired(&n->e, n->timer + late);
}

static void test_cfg(void)
{
	struct rpw_elect_cfg c, d;
	const char *why;
	u64 dly;

	rpw_elect_cfg_default(&c, 5, RACKPWR_ROLE_PSU);
	TAP_EQ(rpw_elect_cfg_validate(&c, &why), 0, "defaults are valid");
	dly = c.bus_delay_ns + c.frame_ns;
	tap_ok(c.detect_ns >= 3 * c.hb_ns + dly + c.tol_ns,
	       "T_det >= (k+1)*T_h + J + T_f + tol (%.2f ms)",
	       c.detect_ns / 1e6);
	tap_ok(c.lease_ns < c.detect_ns && c.lease_ns > c.hb_ns + 2 * dly,
	       "T_h + 2(J+T_f) < lease < T_det (%.2f ms)", c.lease_ns / 1e6);
	tap_ok(c.initial_ns >= 2 * dly + c.tol_ns,
	       "T_initial >= worst-case answer time (%.2f ms)",
	       c.initial_ns / 1e6);
	tap_ok(c.slot_ns >= 2 * dly, "slot >= 2(J+T_f) (%.2f ms)",
	       c.slot_ns / 1e6);
	tap_ok(c.detect_ns + dly <= 110 * MS,
	       "worst single-slot failover T_det + J + T_f <= 110 ms");

	d = c;
	d.detect_ns = 3 * c.hb_ns;
	tap_ok(rpw_elect_cfg_validate(&d, &why) == -EINVAL && why,
	       "short detection rejected (%s)", why ? why : "");
	d = c;
	d.lease_ns = c.detect_ns;
	tap_ok(rpw_elect_cfg_validate(&d, &why) == -EINVAL,
	       "lease >= detection rejected (%s)", why ? why : "");
	d = c;
	d.initial_ns = c.bus_delay_ns;
	tap_ok(rpw_elect_cfg_validate(&d, &why) == -EINVAL,
	       "short initial wait rejected (%s)", why ? why : "");
	d = c;
	d.slot_ns = c.bus_delay_ns;
	tap_ok(rpw_elect_cfg_validate(&d, &why) == -EINVAL,
	       "short slot rejected (%s)", why ? why : "");
	d = c;
	d.addr = RPW_ADDR_BCAST;
	TAP_EQ(rpw_elect_cfg_validate(&d, NULL), -EINVAL,
	       "broadcast address rejected");
	/* A slower bus derives longer timers, not invalid ones. */
	d = c;
	d.bus_delay_ns = 60 * MS;
	d.detect_ns = d.lease_ns = d.guard_ns = d.slot_ns = d.initial_ns = 0;
	d.miss = 4;
	rpw_elect_cfg_derive(&d);
	tap_ok(rpw_elect_cfg_validate(&d, &why) == -EINVAL,
	       "J = 60 ms, k = 4: lease would flicker (%s)", why ? why : "");
	d.miss = 6;
	d.detect_ns = d.lease_ns = d.guard_ns = d.slot_ns = d.initial_ns = 0;
	rpw_elect_cfg_derive(&d);
	TAP_EQ(rpw_elect_cfg_validate(&d, NULL), 0,
	       "J = 60 ms, k = 6 derives a valid config");
}

/* A kernel node's MAC settings: UART profile, rackpwr.h's defaults. */
static void uart_mac(struct rpw_mac_cfg *mc, u8 max_addr, u8 prio_period)
{
	rpw_mac_cfg_default(mc, RPW_MAC_PROFILE_UART, 5, 115200);
	mc->max_addr = max_addr;	/* RPW_DEFAULT_MAX_ADDR is 64 */
	mc->prio_period = prio_period;	/* RPW_DEFAULT_PRIO_PERIOD is 4 */
	mc->nonce = 0x5eed;
}

/* Rounded to 0.1 ms, as the documents print them. */
static long tenths(u64 ns)
{
	return (long)((ns + 50000) / 100000);
}

/*
 * rpw_elect_cfg_build() against the figures the documents give: admin
 * guide and rackpwr-election.rst ("Timers", "Bounded access").
 */
static void test_cfg_build(void)
{
	struct rpw_elect_params p = {
		.role = RACKPWR_ROLE_PSU, .rack_modules = 8, .tol_us = 5000,
		.rx_lat_ns = MS,	/* elect.c: the UART profile's latency */
	};
	struct rpw_elect_cfg c;
	struct rpw_mac_cfg mc;
	const char *why = NULL;
	int err;

	uart_mac(&mc, 64, 4);
	TAP_EQ(rpw_elect_cfg_build(&c, &mc, &p, &why), 0,
	       "shipped defaults build a valid config");
	TAP_EQ(tenths(c.bus_delay_ns), 396, "prio-period 4: J 39.6 ms");
	TAP_EQ(tenths(c.bus_delay_ns), tenths(rpw_mac_urgent_bound_ns(&mc, MS)),
	       "prio-period 4: J is the MAC's urgent bound");
	TAP_EQ(tenths(c.hb_ns), 419, "prio-period 4: heartbeat 41.9 ms");
	TAP_EQ(c.miss, 2, "k defaults to 2");
	TAP_EQ(c.nonce, mc.nonce, "the MAC's nonce spreads unnamed answers");
	tap_ok(c.member_ns >= c.detect_ns && c.member_ns >= 8 * c.hb_ns,
	       "membership window holds T_det and 8 heartbeats (%.1f ms)",
	       c.member_ns / 1e6);
	tap_diag("prio-period 4: J %.1f T_h %.1f T_det %.1f T_lease %.1f ms",
		 c.bus_delay_ns / 1e6, c.hb_ns / 1e6, c.detect_ns / 1e6,
		 c.lease_ns / 1e6);

	/* Urgent access off, the node's other defaults. */
	uart_mac(&mc, 64, 0);
	TAP_EQ(rpw_elect_cfg_build(&c, &mc, &p, &why), 0,
	       "prio-period 0 builds a valid config");
	TAP_EQ(tenths(c.bus_delay_ns), 4986, "prio-period 0: J 498.6 ms");
	TAP_EQ(tenths(c.hb_ns), 2634, "prio-period 0: T_h 263.4 ms");

	/* rackpwr-election.rst's table: prio-period 0, max-addr 254. */
	uart_mac(&mc, RPW_ADDR_MAX, 0);
	rpw_elect_cfg_build(&c, &mc, &p, &why);
	TAP_EQ(tenths(c.bus_delay_ns), 10067, "table, 8 modules: J 1006.7 ms");
	TAP_EQ(tenths(c.hb_ns), 5253, "table, 8 modules: T_h 525.3 ms");
	TAP_EQ(tenths(c.detect_ns), 25953, "table, 8 modules: T_det 2595.3 ms");
	TAP_EQ(tenths(c.member_ns), 42028, "table, 8 modules: member 4202.8 ms");

	/* Explicit settings are taken as given and validated. */
	uart_mac(&mc, 64, 4);
	p.hb_us = 60000;
	TAP_EQ(rpw_elect_cfg_build(&c, &mc, &p, &why), 0,
	       "hb-us 60000 is accepted with the shipped defaults");
	TAP_EQ(c.hb_ns, 60 * MS, "explicit heartbeat kept");
	p.hb_us = 5000;
	why = NULL;
	err = rpw_elect_cfg_build(&c, &mc, &p, &why);
	tap_ok(err == -EINVAL && why, "hb-us 5000 is refused (%s)",
	       why ? why : "");
	p.hb_us = 0;
	p.bus_delay_us = 50000;
	p.miss = 4;
	TAP_EQ(rpw_elect_cfg_build(&c, &mc, &p, &why), 0,
	       "explicit J and k build a valid config");
	tap_ok(c.bus_delay_ns == 50 * MS && c.miss == 4,
	       "explicit J and k kept");
	p.bus_delay_us = 0;
	p.miss = 0;
	p.role = 0;
	TAP_EQ(rpw_elect_cfg_build(&c, &mc, &p, NULL), -EINVAL,
	       "role outside enum rackpwr_role refused");
}

/* One psu node alone: discover, promote, act only after confirmation. */
static void test_alone(void)
{
	struct tn a;
	const struct rpw_frame *f;
	u64 t, s;

	mk(&a, 7, RACKPWR_ROLE_PSU);
	rpw_elect_start(&a.e, T0);
	f = last(&a);
	tap_ok(f && f->type == RPW_T_WHO_PRIMARY && f->dst == RPW_ADDR_BCAST,
	       "start broadcasts WHO_PRIMARY");
	TAP_EQ(a.prio[a.nout - 1], RPW_ELECT_PRIO_NORMAL,
	       "... in ordinary turns (the MAC orders a simultaneous start)");
	TAP_EQ(rpw_elect_state(&a.e), RPW_ES_DISCOVER, "starts discovering");
	TAP_EQ(a.timer, T0 + a.e.cfg.initial_ns, "waits T_initial");
	fire(&a, 0);
	TAP_EQ(rpw_elect_state(&a.e), RPW_ES_PRIMARY, "no answer: promoted");
	TAP_EQ(rpw_elect_epoch(&a.e), RPW_EPOCH_MAKE(1, 7),
	       "epoch = term 1, own address");
	f = last(&a);
	tap_ok(f && f->type == RPW_T_PRIMARY && ep_of(f) == a.e.epoch &&
	       f->len == RPW_ELECT_CLAIM_LEN,
	       "PRIMARY broadcast with epoch, lease and acknowledger");
	TAP_EQ(a.prio[a.nout - 1], RPW_ELECT_PRIO_NORMAL,
	       "... in ordinary turns (a claim after discovery)");
	TAP_EQ(a.ev[RPW_EV_PROMOTED], 1, "promoted event");
	t = a.timer - a.e.cfg.hb_ns;
	tap_ok(!rpw_elect_is_primary(&a.e, t + 1),
	       "not acting before confirmation");
	rpw_elect_tx_done(&a.e, f, true, t + 2 * MS);
	tap_ok(!rpw_elect_is_primary(&a.e, t + a.e.cfg.guard_ns - MS),
	       "not acting before the guard");
	tap_ok(!rpw_elect_is_primary(&a.e, T0 + a.e.cfg.lease_ns - MS),
	       "not acting before one lease of listening after start");
	s = T0 + a.e.cfg.lease_ns + 2 * MS + a.e.cfg.tol_ns;
	/* keep the lease alive with heartbeats read back intact */
	while (a.timer < s + 40 * MS) {
		u64 now = a.timer;

		fire(&a, 0);
		rpw_elect_tx_done(&a.e, last(&a), true, now + MS);
	}
	tap_ok(rpw_elect_is_primary(&a.e, a.timer - MS),
	       "alone: acting on read-back confirmation");
	TAP_EQ(a.ev[RPW_EV_LEASE_OK], 1, "lease_ok event once");
	t = a.timer;
	fire(&a, 0);	/* this heartbeat is never read back */
	tap_ok(!rpw_elect_is_primary(&a.e, t + a.e.cfg.lease_ns),
	       "lease lapses without confirmation (fenced)");
	TAP_EQ(rpw_elect_state(&a.e), RPW_ES_PRIMARY, "... still primary in state");
}

/* A primary answers a late joiner, which stays secondary and acks. */
static void test_late_joiner(void)
{
	struct tn p, j;
	struct rpw_frame f;
	const struct rpw_frame *o;
	u32 ep = RPW_EPOCH_MAKE(3, 200);

	mk(&p, 200, RACKPWR_ROLE_PSU);
	mk(&j, 210, RACKPWR_ROLE_PSU);
	rpw_elect_start(&j.e, T0);
	claim_acker = 210;	/* the primary names the joiner */
	f = claim(RPW_T_PRIMARY, 200, ep, 9);
	claim_acker = 0;
	rpw_elect_rx(&j.e, &f, T0 + 10 * MS);
	TAP_EQ(rpw_elect_state(&j.e), RPW_ES_SECONDARY,
	       "joiner hearing a primary stays secondary");
	TAP_EQ(rpw_elect_epoch(&j.e), ep, "joiner learned the epoch");
	TAP_EQ(rpw_elect_primary(&j.e), 200, "joiner follows the primary");
	o = last(&j);
	tap_ok(o && o->type == RPW_T_HEARTBEAT_ACK && o->seq == 9 &&
	       ep_of(o) == ep, "joiner acks with the claim's seq");
	TAP_EQ(j.prio[j.nout - 1], RPW_ELECT_PRIO_URGENT, "... as urgent");
	tap_ok(j.ttl[j.nout - 1] >= 2 * j.e.cfg.bus_delay_ns + 2 * j.e.cfg.tol_ns &&
	       j.ttl[j.nout - 1] < j.e.cfg.lease_ns,
	       "... worthless after the ack window (ttl %llu ns)",
	       (unsigned long long)j.ttl[j.nout - 1]);
	TAP_EQ(j.ttl[0], 0, "WHO_PRIMARY never expires");
	TAP_EQ(j.timer, T0 + 10 * MS + j.e.detect_ns, "detection armed");

	/* The primary side: WHO_PRIMARY gets an answer. */
	rpw_elect_start(&p.e, T0);
	fire(&p, 0);
	done_all(&p, T0 + 99 * MS);
	p.nout = 0;
	f = claim(RPW_T_WHO_PRIMARY, 210, 0, 0);
	rpw_elect_rx(&p.e, &f, T0 + 100 * MS);
	o = last(&p);
	tap_ok(o && o->type == RPW_T_PRIMARY, "primary answers WHO_PRIMARY");
}

/*
 * The primary names the acknowledger, taking the psu modules it knows in
 * turn; a secondary answers only when named, or unnamed once per
 * membership window (deferred, to one claim in four) so that a module the
 * primary missed gets known.
 */
static void test_named_acker(void)
{
	struct tn p, s, s2;
	struct rpw_frame f;
	const struct rpw_frame *o;
	u32 ep = RPW_EPOCH_MAKE(4, 200);
	u8 named[4], first[2];
	int i, k, n;

	/* Primary 200 knows psu modules 7 and 9 (their questions). */
	mk(&p, 200, RACKPWR_ROLE_PSU);
	rpw_elect_start(&p.e, T0);
	fire(&p, 0);
	done_all(&p, T0 + 99 * MS);
	f = claim(RPW_T_WHO_PRIMARY, 7, 0, 0);
	rpw_elect_rx(&p.e, &f, T0 + 100 * MS);
	f = claim(RPW_T_WHO_PRIMARY, 9, 0, 0);
	rpw_elect_rx(&p.e, &f, T0 + 101 * MS);
	for (i = 0; i < 4; i++) {
		done_all(&p, p.timer - MS);
		p.nout = 0;
		fire(&p, 0);
		o = last_of(&p, RPW_T_HEARTBEAT);
		named[i] = o ? o->payload[6] : 0;
	}
	tap_ok(named[0] && named[0] != named[1] && named[0] == named[2] &&
	       named[1] == named[3] && (named[0] == 7 || named[0] == 9) &&
	       (named[1] == 7 || named[1] == 9),
	       "primary names its psu modules in turn (%u %u %u %u)",
	       named[0], named[1], named[2], named[3]);

	/* A secondary answers only when named ... */
	mk(&s, 9, RACKPWR_ROLE_PSU);
	rpw_elect_start(&s.e, T0);
	claim_acker = 7;
	f = claim(RPW_T_HEARTBEAT, 200, ep, 5);
	rpw_elect_rx(&s.e, &f, T0 + 10 * MS);
	tap_ok(!last_of(&s, RPW_T_HEARTBEAT_ACK), "not named: no ack");
	claim_acker = 9;
	f = claim(RPW_T_HEARTBEAT, 200, ep, 6);
	rpw_elect_rx(&s.e, &f, T0 + 20 * MS);
	o = last_of(&s, RPW_T_HEARTBEAT_ACK);
	tap_ok(o && o->seq == 6 && s.prio[s.nout - 1] == RPW_ELECT_PRIO_URGENT,
	       "named: urgent ack with the claim's seq");
	/*
	 * ... or unnamed, deferred, after a membership window of silence:
	 * to one claim in four, picked by its nonce, so that modules whose
	 * windows ran out together do not all answer the same claim.
	 */
	for (k = 0; k < 2; k++) {
		struct tn *x = k ? &s2 : &s;

		if (k) {
			mk(&s2, 9, RACKPWR_ROLE_PSU);
			s2.e.cfg.nonce = 2;
			rpw_elect_start(&s2.e, T0);
			claim_acker = 9;
			f = claim(RPW_T_HEARTBEAT, 200, ep, 6);
			rpw_elect_rx(&s2.e, &f, T0 + 20 * MS);
		} else {
			s.e.cfg.nonce = 1;
		}
		done_all(x, T0 + 21 * MS);
		x->nout = 0;
		claim_acker = 7;
		first[k] = 0;
		for (i = 0; i < 16; i++) {
			f = claim(RPW_T_HEARTBEAT, 200, ep, (u8)(7 + i));
			rpw_elect_rx(&x->e, &f, T0 + 20 * MS +
				     x->e.member_win + MS + i * 20 * MS);
			o = last_of(x, RPW_T_HEARTBEAT_ACK);
			if (o && !first[k])
				first[k] = o->seq;
		}
		n = 0;
		for (i = 0; i < x->nout; i++)
			n += x->out[i].type == RPW_T_HEARTBEAT_ACK;
		o = last_of(x, RPW_T_HEARTBEAT_ACK);
		tap_ok(n == 1 && x->prio[x->nout - 1] == RPW_ELECT_PRIO_DEFER,
		       "unnamed for a window (nonce %u): one deferred ack of 16 claims, to claim %u",
		       x->e.cfg.nonce, first[k]);
	}
	tap_ok(first[0] != first[1],
	       "two modules with other nonces answer other claims (%u, %u)",
	       first[0], first[1]);
	claim_acker = RPW_ADDR_NONE;
	f = claim(RPW_T_HEARTBEAT, 200, ep, 40);
	s.nout = 0;
	rpw_elect_rx(&s.e, &f, T0 + 5000 * MS);
	o = last_of(&s, RPW_T_HEARTBEAT_ACK);
	tap_ok(o && o->seq == 40,
	       "a claim that names nobody gets the unnamed answer at once");
	claim_acker = 0;
}

/* Two nodes promote at once: the higher address wins, loser demotes. */
static void test_tie(void)
{
	struct tn a, b;
	struct rpw_frame fa, fb;

	mk(&a, 40, RACKPWR_ROLE_PSU);
	mk(&b, 90, RACKPWR_ROLE_PSU);
	rpw_elect_start(&a.e, T0);
	rpw_elect_start(&b.e, T0);
	fire(&a, 0);
	fire(&b, 0);
	fa = *last_of(&a, RPW_T_PRIMARY);
	fb = *last_of(&b, RPW_T_PRIMARY);
	tap_ok(ep_of(&fb) > ep_of(&fa), "same term: higher address, higher epoch");
	rpw_elect_rx(&a.e, &fb, a.timer - 10 * MS);
	TAP_EQ(rpw_elect_state(&a.e), RPW_ES_SECONDARY, "lower address demoted at once");
	TAP_EQ(a.ev[RPW_EV_DEMOTED], 1, "demoted event");
	TAP_EQ(rpw_elect_primary(&a.e), 90, "loser follows the winner");
	done_all(&b, b.timer - 11 * MS);
	b.nout = 0;
	rpw_elect_rx(&b.e, &fa, b.timer - 10 * MS);
	TAP_EQ(rpw_elect_state(&b.e), RPW_ES_PRIMARY, "winner stays primary");
	tap_ok(b.nout && last(&b)->type == RPW_T_PRIMARY,
	       "winner re-announces after hearing the rival");
	TAP_EQ(b.ev[RPW_EV_CONFLICT], 1, "conflict event");
}

/* Primary lost: address-ranked slots; a new PRIMARY stands others down. */
static void test_takeover(void)
{
	struct tn hi, lo;
	struct rpw_frame f;
	u32 ep = RPW_EPOCH_MAKE(5, 100);
	u64 t = T0 + 10 * MS;

	mk(&hi, 150, RACKPWR_ROLE_PSU);
	mk(&lo, 120, RACKPWR_ROLE_PSU);
	rpw_elect_start(&hi.e, T0);
	rpw_elect_start(&lo.e, T0);
	/* Both follow 100 and know each other (acks). */
	f = claim(RPW_T_HEARTBEAT, 100, ep, 3);
	rpw_elect_rx(&hi.e, &f, t);
	rpw_elect_rx(&lo.e, &f, t);
	f = claim(RPW_T_HEARTBEAT_ACK, 120, ep, 3);
	rpw_elect_rx(&hi.e, &f, t);
	f = claim(RPW_T_HEARTBEAT_ACK, 150, ep, 3);
	rpw_elect_rx(&lo.e, &f, t);
	TAP_EQ(hi.timer, t + hi.e.detect_ns, "detection = last heartbeat + T_det");
	tap_ok(hi.e.detect_ns >= 100 * MS,
	       "detection covers the primary's advertised 100 ms lease");
	t = lo.timer;
	fire(&hi, 0);
	fire(&lo, 0);
	TAP_EQ(hi.ev[RPW_EV_PRIMARY_LOST], 1, "primary_lost reported");
	TAP_EQ(rpw_elect_state(&hi.e), RPW_ES_PRIMARY,
	       "highest address takes over in slot 0");
	TAP_EQ(rpw_elect_epoch(&hi.e), RPW_EPOCH_MAKE(6, 150),
	       "takeover epoch: next term, own address");
	TAP_EQ(rpw_elect_state(&lo.e), RPW_ES_TAKEOVER, "lower one waits its slot");
	TAP_EQ(lo.timer, t + lo.e.cfg.slot_ns, "one slot later");
	f = *last_of(&hi, RPW_T_PRIMARY);
	rpw_elect_rx(&lo.e, &f, lo.timer - 20 * MS);
	TAP_EQ(rpw_elect_state(&lo.e), RPW_ES_SECONDARY,
	       "new PRIMARY during the slot wait: stand down");
	TAP_EQ(rpw_elect_primary(&lo.e), 150, "and follow it");

	/* Epoch fencing: the old primary's heartbeat is now stale. */
	f = claim(RPW_T_HEARTBEAT, 100, ep, 4);
	lo.nout = 0;
	rpw_elect_rx(&lo.e, &f, lo.timer - 10 * MS);
	TAP_EQ(rpw_elect_primary(&lo.e), 150, "stale heartbeat ignored");
	/* 150's next heartbeat demotes 100: no unicast from every listener. */
	tap_ok(!lo.nout, "no teaching while following a live primary");
}

/* Lease: only acks for a recent claim of ours renew it. */
static void test_lease_acks(void)
{
	struct tn p;
	struct rpw_frame f;
	const struct rpw_frame *hb;
	u32 n;
	int i;
	u64 t;

	mk(&p, 60, RACKPWR_ROLE_PSU);
	rpw_elect_start(&p.e, T0);
	f = claim(RPW_T_HEARTBEAT, 1, 0x0101, 0);	/* a primary */
	rpw_elect_rx(&p.e, &f, T0 + MS);
	f = claim(RPW_T_HEARTBEAT_ACK, 61, 0x0101, 0);	/* and a psu peer */
	f.len = 4;
	rpw_elect_rx(&p.e, &f, T0 + MS);
	t = T0 + p.e.cfg.lease_ns + 10 * MS;
	for (i = 0; i < 50 && (p.timer < t ||
			       rpw_elect_state(&p.e) != RPW_ES_PRIMARY); i++)
		fire(&p, 0);
	hb = last(&p);
	t = p.timer - p.e.cfg.hb_ns;	/* when hb was sent */
	TAP_EQ(rpw_elect_state(&p.e), RPW_ES_PRIMARY, "took over (slot 1)");
	tap_ok(hb->type == RPW_T_HEARTBEAT || hb->type == RPW_T_PRIMARY,
	       "claim sent");
	rpw_elect_tx_done(&p.e, hb, true, t + MS);
	tap_ok(!rpw_elect_is_primary(&p.e, t + p.e.cfg.guard_ns + MS),
	       "with a peer, read-back alone does not confirm");
	f = claim(RPW_T_HEARTBEAT_ACK, 61, p.e.epoch, (u8)(hb->seq + 100));
	rpw_elect_rx(&p.e, &f, t + 3 * MS);
	tap_ok(!rpw_elect_is_primary(&p.e, t + p.e.cfg.guard_ns + MS),
	       "ack for an unknown seq ignored");
	f = claim(RPW_T_HEARTBEAT_ACK, 61, p.e.epoch, hb->seq);
	rpw_elect_rx(&p.e, &f, t + 3 * p.e.cfg.lease_ns);
	TAP_EQ(p.e.stats.acks_late, 2, "late ack counted, not used");
	rpw_elect_rx(&p.e, &f, t + 3 * MS);
	tap_ok(!rpw_elect_is_primary(&p.e, t + p.e.cfg.guard_ns - MS),
	       "acked: not acting before the guard");
	tap_ok(rpw_elect_is_primary(&p.e, t + p.e.cfg.guard_ns + MS),
	       "acked: acting after the guard");
	tap_ok(!rpw_elect_is_primary(&p.e, t + p.e.cfg.lease_ns),
	       "lease ends lease_ns after the acked send");
	/* A later epoch proves itself by its owner's claim, not an ack. */
	n = p.e.stats.rx_unearned;
	f = claim(RPW_T_HEARTBEAT_ACK, 61, RPW_EPOCH_MAKE(RPW_EPOCH_TERM(p.e.epoch) + 1, 61), 0);
	rpw_elect_rx(&p.e, &f, t + 4 * MS);
	tap_ok(rpw_elect_state(&p.e) == RPW_ES_PRIMARY &&
	       p.e.stats.rx_unearned == n + 1,
	       "ack in a higher epoch: unearned, counted, no demotion");
	f = claim(RPW_T_HEARTBEAT, 61, RPW_EPOCH_MAKE(RPW_EPOCH_TERM(p.e.epoch) + 1, 61), 0);
	rpw_elect_rx(&p.e, &f, t + 4 * MS);
	TAP_EQ(rpw_elect_state(&p.e), RPW_ES_SECONDARY,
	       "its owner's claim, one term on: someone newer rules, demote");
	tap_ok(!rpw_elect_is_primary(&p.e, t + p.e.cfg.guard_ns + MS),
	       "demoted: not acting");
}

/* Chassis: follows, fences, never goes back. */
static void test_chassis(void)
{
	struct tn c;
	struct rpw_frame f;
	u32 e1 = RPW_EPOCH_MAKE(4, 30), e0 = RPW_EPOCH_MAKE(3, 31);

	mk(&c, 77, RACKPWR_ROLE_CHASSIS);
	rpw_elect_start(&c.e, T0);
	TAP_EQ(c.nout, 0, "chassis sends nothing at start");
	TAP_EQ(rpw_elect_state(&c.e), RPW_ES_FOLLOWER, "chassis follows");
	f = claim(RPW_T_HEARTBEAT, 30, e1, 1);
	rpw_elect_rx(&c.e, &f, T0 + MS);
	TAP_EQ(rpw_elect_primary(&c.e), 30, "chassis tracks the primary");
	f = claim(RPW_T_PRIMARY, 31, e0, 1);
	rpw_elect_rx(&c.e, &f, T0 + 2 * MS);
	TAP_EQ(rpw_elect_primary(&c.e), 30, "lower epoch rejected");
	TAP_EQ(rpw_elect_epoch(&c.e), e1, "epoch kept");
	TAP_EQ(c.e.stats.rx_stale, 1, "counted as stale");
	TAP_EQ(c.nout, 0, "following a live primary: no teaching");
	fire(&c, 0);
	TAP_EQ(rpw_elect_primary(&c.e), RPW_ADDR_NONE, "silence: primary lost");
	TAP_EQ(c.ev[RPW_EV_PRIMARY_LOST], 1, "primary_lost event");
	TAP_EQ(rpw_elect_epoch(&c.e), e1, "epoch survives the loss");
	f = claim(RPW_T_HEARTBEAT, 31, e0, 2);
	rpw_elect_rx(&c.e, &f, c.timer + 10 * MS);
	TAP_EQ(rpw_elect_primary(&c.e), RPW_ADDR_NONE,
	       "still rejects the lower epoch after the loss");
	tap_ok(c.nout == 1 && c.out[0].type == RPW_T_WHO_PRIMARY &&
	       c.out[0].dst == 31, "without a primary: stale claimer taught");
}

static void test_step_down_and_stale_primary(void)
{
	struct tn p, s;
	struct rpw_frame f;
	const struct rpw_frame *o;
	int rc;

	mk(&p, 50, RACKPWR_ROLE_PSU);
	mk(&s, 40, RACKPWR_ROLE_PSU);
	rpw_elect_start(&p.e, T0);
	rpw_elect_start(&s.e, T0);
	fire(&p, 0);
	f = *last(&p);
	rpw_elect_rx(&s.e, &f, T0 + 60 * MS);
	rc = rpw_elect_step_down(&s.e, T0 + 61 * MS);
	TAP_EQ(rc, -EPERM, "secondary cannot step down");
	rc = rpw_elect_step_down(&p.e, T0 + 70 * MS);
	TAP_EQ(rc, 0, "primary steps down");
	o = last(&p);
	tap_ok(o && o->type == RPW_T_STEP_DOWN && ep_of(o) == p.e.epoch,
	       "STEP_DOWN broadcast in its epoch");
	tap_ok(!rpw_elect_is_primary(&p.e, T0 + 70 * MS), "no longer acting");
	rpw_elect_rx(&s.e, o, T0 + 72 * MS);
	TAP_EQ(rpw_elect_state(&s.e), RPW_ES_PRIMARY,
	       "the only other psu node takes over at once (slot 0)");
	tap_ok(rpw_elect_epoch(&s.e) > rpw_elect_epoch(&p.e) ||
	       RPW_EPOCH_TERM(rpw_elect_epoch(&s.e)) == 2, "with the next term");

	/* A primary taught a newer epoch (unicast WHO_PRIMARY) demotes. */
	mk(&p, 50, RACKPWR_ROLE_PSU);
	rpw_elect_start(&p.e, T0);
	fire(&p, 0);
	f = claim(RPW_T_WHO_PRIMARY, 9, RPW_EPOCH_MAKE(8, 20), 0);
	f.dst = 50;
	rpw_elect_rx(&p.e, &f, T0 + 60 * MS);
	TAP_EQ(rpw_elect_state(&p.e), RPW_ES_SECONDARY,
	       "stale primary taught a newer epoch demotes");
	TAP_EQ(rpw_elect_epoch(&p.e), RPW_EPOCH_MAKE(8, 20), "and adopts it");
}

static void test_dup_stall_malformed(void)
{
	struct tn a;
	struct rpw_frame f;
	int rc;

	mk(&a, 33, RACKPWR_ROLE_PSU);
	rpw_elect_start(&a.e, T0);
	f = claim(RPW_T_PRIMARY, 33, RPW_EPOCH_MAKE(2, 33), 5);
	rpw_elect_rx(&a.e, &f, T0 + MS);
	TAP_EQ(a.ev[RPW_EV_DUP_ADDR], 1, "PRIMARY from our own address: dup_addr");

	mk(&a, 33, RACKPWR_ROLE_PSU);
	rpw_elect_start(&a.e, T0);
	fire(&a, 0);
	f = *last(&a);		/* our own echo */
	rpw_elect_rx(&a.e, &f, a.timer - 15 * MS);
	TAP_EQ(a.ev[RPW_EV_DUP_ADDR], 0, "our own echo is not a duplicate");

	mk(&a, 33, RACKPWR_ROLE_PSU);
	rpw_elect_start(&a.e, T0);
	f = claim(RPW_T_HEARTBEAT, 20, RPW_EPOCH_MAKE(2, 20), 5);
	rpw_elect_rx(&a.e, &f, T0 + MS);
	fire(&a, 200 * MS);	/* we were stalled for 200 ms */
	TAP_EQ(a.ev[RPW_EV_STALL], 1, "late timer reported as stall");
	TAP_EQ(rpw_elect_state(&a.e), RPW_ES_SECONDARY,
	       "stalled secondary listens again instead of taking over");

	f = claim(RPW_T_HEARTBEAT, 20, RPW_EPOCH_MAKE(2, 21), 5);
	rpw_elect_rx(&a.e, &f, a.timer - MS);
	TAP_EQ(a.e.stats.rx_bad, 1, "epoch owner != src rejected");
	f.len = 3;
	rc = rpw_elect_rx(&a.e, &f, a.timer - MS);
	TAP_EQ(rc, -EPROTO, "bad length: -EPROTO");
	f.type = RPW_T_DATA;
	rc = rpw_elect_rx(&a.e, &f, a.timer - MS);
	TAP_EQ(rc, -ENOENT, "other types: -ENOENT");
	rpw_elect_stop(&a.e, a.timer);
	TAP_EQ(a.timer, RPW_ELECT_NO_TIMER, "stop cancels the timer");
}

/*
 * A bus slower than configured: claims that never leave the MAC must not
 * pile up behind each other.  Defaults: J = 25 ms, T_h = 16 ms, so at most
 * J/T_h + 1 = 2 claims may wait for the bus at a time.
 */
static void test_tx_backlog(void)
{
	struct tn p;
	struct rpw_frame held[8];
	int i, nclaims = 0, before;

	mk(&p, 60, RACKPWR_ROLE_PSU);
	rpw_elect_start(&p.e, T0);
	rpw_elect_tx_done(&p.e, &p.out[0], true, T0 + MS);
	fire(&p, 0);
	TAP_EQ(rpw_elect_state(&p.e), RPW_ES_PRIMARY, "alone: promoted");
	rpw_elect_tx_done(&p.e, last(&p), true, p.timer - 15 * MS);
	/* Four heartbeat periods (< T_det) without any transmission result. */
	for (i = 0; i < 4; i++)
		fire(&p, 0);
	for (i = 0; i < p.nout; i++)
		if (p.out[i].type == RPW_T_HEARTBEAT && nclaims < 8)
			held[nclaims++] = p.out[i];
	TAP_EQ(nclaims, 2, "at most J/T_h + 1 claims wait for the bus");
	TAP_EQ(rpw_elect_state(&p.e), RPW_ES_PRIMARY, "still primary");
	/* The bus moves again: heartbeats resume at once. */
	rpw_elect_tx_done(&p.e, &held[0], true, p.timer - MS);
	before = p.nout;
	fire(&p, 0);
	tap_ok(p.nout == before + 1 && last(&p)->type == RPW_T_HEARTBEAT,
	       "a transmission result lets the next heartbeat out");
	/* Results that never come are forgotten after a membership window. */
	before = p.nout;
	for (i = 0; i < 60; i++)
		fire(&p, 0);
	tap_ok(p.nout >= before + 2, "lost results do not silence the primary (%d sent)",
	       p.nout - before);
}

/* Deliver @a's frames to @b (and back) at @t: intact, instantly. */
static void flush(struct tn *a, struct tn *b, u64 t)
{
	struct tn *x = a, *y = b, *z;
	int i, rounds;

	for (rounds = 0; rounds < 8 && (a->nout || b->nout); rounds++) {
		for (i = 0; i < x->nout; i++) {
			struct rpw_frame f = x->out[i];

			rpw_elect_tx_done(&x->e, &f, true, t);
			rpw_elect_rx(&y->e, &f, t);
		}
		x->nout = 0;
		z = x;
		x = y;
		y = z;
	}
}

/* Run two nodes that hear each other until @until; fire timers in order. */
static void run2(struct tn *a, struct tn *b, u64 until,
		 void (*hook)(struct tn *, struct tn *, u64))
{
	struct tn *n;
	u64 t;

	for (;;) {
		n = a->timer <= b->timer ? a : b;
		t = n->timer;
		if (t > until)
			break;
		if (hook)
			hook(a, b, t);
		a->now = t;
		b->now = t;
		rpw_elect_timer_expired(&n->e, t);
		flush(a, b, t);
	}
}

static u64 refuse_from, refuse_until;

static void refuse_hook(struct tn *a, struct tn *b, u64 t)
{
	struct tn *p = rpw_elect_state(&a->e) == RPW_ES_PRIMARY ? a : b;

	p->refuse = t >= refuse_from && t < refuse_until;
}

/*
 * A primary's send() refused (its transmit queue full, no memory) for
 * longer than k heartbeat periods, ending shortly before the secondary's
 * detection time: every refusal is counted, the refused claim is retried
 * RPW_ELECT_RETRY_NS later, and the first retry after the refusals end
 * reaches the secondary before it declares the primary lost.  Skipping
 * the claim until the next heartbeat (the old behaviour) failed over.
 */
static void test_tx_refused(void)
{
	struct tn *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct tn *p, *s;
	u64 t, det;
	int lost, prom;

	mk(a, 60, RACKPWR_ROLE_PSU);
	mk(b, 50, RACKPWR_ROLE_PSU);
	rpw_elect_start(&a->e, T0);
	rpw_elect_start(&b->e, T0);
	flush(a, b, T0);
	run2(a, b, T0 + 2000 * MS, NULL);
	p = rpw_elect_state(&a->e) == RPW_ES_PRIMARY ? a : b;
	s = p == a ? b : a;
	tap_ok(rpw_elect_state(&p->e) == RPW_ES_PRIMARY &&
	       rpw_elect_state(&s->e) == RPW_ES_SECONDARY &&
	       rpw_elect_primary(&s->e) == p->e.cfg.addr,
	       "refused: one primary, one secondary following it");
	lost = s->ev[RPW_EV_PRIMARY_LOST];
	prom = s->ev[RPW_EV_PROMOTED] + p->ev[RPW_EV_DEMOTED];

	/* From the primary's next heartbeat until just before detection. */
	run2(a, b, p->timer, NULL);
	t = p->last_sent;
	det = s->e.detect_ns;
	tap_ok(det > (p->e.cfg.miss + 1) * p->e.cfg.hb_ns + 3 * RPW_ELECT_RETRY_NS,
	       "refused: the window covers k + 1 heartbeats (T_det %.1f ms, T_h %.1f ms)",
	       det / 1e6, p->e.cfg.hb_ns / 1e6);
	refuse_from = t + 1;
	refuse_until = t + det - 3 * RPW_ELECT_RETRY_NS;
	run2(a, b, refuse_until + 2000 * MS, refuse_hook);
	tap_ok(p->refused > p->e.cfg.miss + 1,
	       "refused: %d sends refused", p->refused);
	TAP_EQ(p->e.stats.tx_refused, p->refused,
	       "refused: every refusal counted (stats.tx_refused)");
	TAP_EQ(s->ev[RPW_EV_PRIMARY_LOST], lost,
	       "refused: no false failover at the secondary");
	tap_ok(rpw_elect_state(&p->e) == RPW_ES_PRIMARY &&
	       rpw_elect_primary(&s->e) == p->e.cfg.addr &&
	       s->ev[RPW_EV_PROMOTED] + p->ev[RPW_EV_DEMOTED] == prom,
	       "refused: the same primary, never demoted");
	free(a);
	free(b);
}

/*
 * A refused acknowledgment is no answer given: the unnamed once-per-window
 * answer then goes to the next claim instead of waiting another window.
 */
static void test_ack_refused(void)
{
	struct tn *s = calloc(1, sizeof(*s));
	u32 ep = RPW_EPOCH_MAKE(4, 200);
	struct rpw_frame f;
	u64 t;

	mk(s, 9, RACKPWR_ROLE_PSU);
	rpw_elect_start(&s->e, T0);
	s->nout = 0;
	claim_acker = RPW_ADDR_NONE;
	t = T0 + s->e.cfg.member_ns + 10 * MS;
	s->refuse = true;
	f = claim(RPW_T_HEARTBEAT, 200, ep, 1);
	rpw_elect_rx(&s->e, &f, t);
	TAP_EQ(s->e.stats.tx_refused, 1, "ack refused: counted");
	s->refuse = false;
	f = claim(RPW_T_HEARTBEAT, 200, ep, 2);
	rpw_elect_rx(&s->e, &f, t + 5 * MS);
	tap_ok(last_of(s, RPW_T_HEARTBEAT_ACK) &&
	       last_of(s, RPW_T_HEARTBEAT_ACK)->seq == 2,
	       "ack refused: the next claim is answered");
	claim_acker = 0;
	free(s);
}

/*
 * Epoch adoption: only a claim from the epoch's owner, a member heard
 * before, a bounded step ahead raises the epoch; a farther jump needs a
 * second member's acknowledgment; nothing else raises it (issue #10: one
 * forged WHO_PRIMARY in epoch 0xffffffff left the rack without a primary).
 */
static void test_epoch_adoption(void)
{
	struct tn *s = calloc(1, sizeof(*s)), *p = calloc(1, sizeof(*p));
	u32 e3 = RPW_EPOCH_MAKE(3, 50), far;
	struct rpw_frame f;
	u64 t = T0 + MS;

	tap_ok(rpw_epoch_after(RPW_EPOCH_MAKE(1, 5),
			       RPW_EPOCH_MAKE(RPW_EPOCH_TERM_MAX, 9)) &&
	       !rpw_epoch_after(RPW_EPOCH_MAKE(RPW_EPOCH_TERM_MAX, 9),
				RPW_EPOCH_MAKE(1, 5)),
	       "serial order: term 1 follows the last term");
	tap_ok(rpw_epoch_after(RPW_EPOCH_MAKE(1, 1), 0) &&
	       !rpw_epoch_after(0, RPW_EPOCH_MAKE(1, 1)),
	       "serial order: no epoch is before every epoch");

	mk(s, 40, RACKPWR_ROLE_PSU);
	rpw_elect_start(&s->e, T0);
	f = claim(RPW_T_HEARTBEAT, 50, e3, 2);
	rpw_elect_rx(&s->e, &f, t);
	TAP_EQ(rpw_elect_primary(&s->e), 50, "joining: first claim followed");
	f = claim(RPW_T_HEARTBEAT_ACK, 60, e3, 2);	/* member 60 */
	rpw_elect_rx(&s->e, &f, t);
	f = claim(RPW_T_HEARTBEAT_ACK, 70, e3, 2);	/* member 70 */
	rpw_elect_rx(&s->e, &f, t);

	/* The frame of the report: 7e 10 10 ff 63 01 04 ff ff ff ff ... */
	f = claim(RPW_T_WHO_PRIMARY, 0x10, 0xffffffffU, 0x01);
	rpw_elect_rx(&s->e, &f, t + MS);
	tap_ok(rpw_elect_epoch(&s->e) == e3 && rpw_elect_primary(&s->e) == 50,
	       "forged WHO_PRIMARY in epoch 0xffffffff: nothing moves");
	f.dst = 40;		/* a unicast teach, far ahead */
	put_unaligned_le32(RPW_EPOCH_MAKE(RPW_EPOCH_TERM_MAX, 50), f.payload);
	rpw_elect_rx(&s->e, &f, t + MS);
	TAP_EQ(rpw_elect_epoch(&s->e), e3, "teach far ahead: unearned");
	f = claim(RPW_T_STEP_DOWN, 50, RPW_EPOCH_MAKE(9, 50), 0);
	rpw_elect_rx(&s->e, &f, t + 2 * MS);
	f = claim(RPW_T_HEARTBEAT_ACK, 60, RPW_EPOCH_MAKE(200, 61), 0);
	rpw_elect_rx(&s->e, &f, t + 2 * MS);
	tap_ok(rpw_elect_epoch(&s->e) == e3 && rpw_elect_primary(&s->e) == 50,
	       "STEP_DOWN and ack of epochs never claimed: nothing moves");
	f = claim(RPW_T_HEARTBEAT, 0x10, RPW_EPOCH_MAKE(4, 0x10), 3);
	rpw_elect_rx(&s->e, &f, t + 3 * MS);
	rpw_elect_rx(&s->e, &f, t + 4 * MS);
	tap_ok(rpw_elect_epoch(&s->e) == e3 && rpw_elect_primary(&s->e) == 50,
	       "claims from an address never heard: not adopted, not a member");

	far = RPW_EPOCH_MAKE(3 + RPW_EPOCH_STEP + 1, 60);
	f = claim(RPW_T_HEARTBEAT, 60, far, 4);
	rpw_elect_rx(&s->e, &f, t + 5 * MS);
	TAP_EQ(rpw_elect_epoch(&s->e), e3,
	       "member's claim more than RPW_EPOCH_STEP ahead: waits");
	f = claim(RPW_T_HEARTBEAT_ACK, 70, far, 4);
	rpw_elect_rx(&s->e, &f, t + 6 * MS);
	f = claim(RPW_T_HEARTBEAT, 60, far, 5);
	rpw_elect_rx(&s->e, &f, t + 7 * MS);
	tap_ok(rpw_elect_epoch(&s->e) == far && rpw_elect_primary(&s->e) == 60,
	       "... adopted once another member acknowledged it");
	f = claim(RPW_T_HEARTBEAT, 70, RPW_EPOCH_MAKE(RPW_EPOCH_TERM(far) +
						      RPW_EPOCH_STEP, 70), 6);
	rpw_elect_rx(&s->e, &f, t + 8 * MS);
	tap_ok(RPW_EPOCH_TERM(rpw_elect_epoch(&s->e)) ==
	       RPW_EPOCH_TERM(far) + RPW_EPOCH_STEP &&
	       rpw_elect_primary(&s->e) == 70,
	       "member's claim RPW_EPOCH_STEP ahead: adopted");

	/* An acting primary keeps its role through every forged frame. */
	mk(p, 50, RACKPWR_ROLE_PSU);
	rpw_elect_start(&p->e, T0);
	fire(p, 0);
	TAP_EQ(rpw_elect_state(&p->e), RPW_ES_PRIMARY, "lone primary");
	f = claim(RPW_T_WHO_PRIMARY, 0x10, 0xffffffffU, 0x01);
	rpw_elect_rx(&p->e, &f, p->timer - MS);
	f = claim(RPW_T_HEARTBEAT_ACK, 0x10, 0xffffff0fU, 0x01);
	rpw_elect_rx(&p->e, &f, p->timer - MS);
	f = claim(RPW_T_STEP_DOWN, 0x0f, 0xffffff0fU, 0x01);
	rpw_elect_rx(&p->e, &f, p->timer - MS);
	tap_ok(rpw_elect_state(&p->e) == RPW_ES_PRIMARY &&
	       RPW_EPOCH_TERM(rpw_elect_epoch(&p->e)) == 1,
	       "primary: forged WHO_PRIMARY/ack/STEP_DOWN, still primary in term 1");

	/* The term wraps instead of running out. */
	mk(p, 50, RACKPWR_ROLE_PSU);
	rpw_elect_start(&p->e, T0);
	f = claim(RPW_T_HEARTBEAT, 9, RPW_EPOCH_MAKE(RPW_EPOCH_TERM_MAX, 9), 0);
	rpw_elect_rx(&p->e, &f, T0 + MS);
	fire(p, 0);
	while (rpw_elect_state(&p->e) != RPW_ES_PRIMARY && p->timer != RPW_ELECT_NO_TIMER)
		fire(p, 0);
	TAP_EQ(rpw_elect_epoch(&p->e), RPW_EPOCH_MAKE(1, 50),
	       "takeover after the last term: term 1, after it in serial order");
	free(s);
	free(p);
}

/* Acknowledgers named by @p's next @n heartbeats (acks from @acker). */
static void named_by(struct tn *p, u8 *named, int n, u64 *t)
{
	const struct rpw_frame *o;
	struct rpw_frame f;
	int i;

	for (i = 0; i < n; i++) {
		p->nout = 0;
		*t = p->timer;
		fire(p, 0);
		done_all(p, *t + MS);
		o = last_of(p, RPW_T_HEARTBEAT);
		named[i] = o ? o->payload[6] : 0;
		if (o && named[i]) {
			f = claim(RPW_T_HEARTBEAT_ACK, named[i], p->e.epoch,
				  o->seq);
			rpw_elect_rx(&p->e, &f, *t + 2 * MS);
		}
	}
}

/*
 * Forged acknowledgments make no member (elect_sim --adversary seed
 * 1519): an ack in epoch 0xffffffff, a few terms before a young epoch in
 * serial order, or one in our epoch answering no claim of ours, made its
 * sender a member; the primary then named it in turn and lost its lease
 * at every one of its turns.
 */
static void test_forged_acks(void)
{
	struct tn *p = calloc(1, sizeof(*p));
	struct rpw_frame f;
	u8 named[6];
	u64 t;
	int i, bad = 0;

	mk(p, 50, RACKPWR_ROLE_PSU);
	rpw_elect_start(&p->e, T0);
	fire(p, 0);
	done_all(p, p->timer - 10 * MS);
	f = claim(RPW_T_WHO_PRIMARY, 7, 0, 0);
	rpw_elect_rx(&p->e, &f, p->timer - 5 * MS);
	named_by(p, named, 2, &t);
	f = claim(RPW_T_HEARTBEAT_ACK, 0x10, 0xffffffffU, 0x01);
	rpw_elect_rx(&p->e, &f, t + 3 * MS);
	f = claim(RPW_T_HEARTBEAT_ACK, 0x11, p->e.epoch, (u8)(p->e.seq + 77));
	rpw_elect_rx(&p->e, &f, t + 3 * MS);
	named_by(p, named, 6, &t);
	for (i = 0; i < 6; i++)
		bad += named[i] != 7;
	TAP_EQ(bad, 0, "forged acks (0xffffffff, unknown seq): never named");
	tap_ok(rpw_elect_is_primary(&p->e, t + p->e.cfg.guard_ns + 2 * MS),
	       "forged acks: the primary still acts");
	free(p);
}

/*
 * A babbling claimer (elect_sim --adversary seeds 12 and 287): an address
 * never heard before repeats a claim 12 terms ahead for longer than a
 * detection time while the rack's primary is alive.  It becomes a member
 * by persisting, but moves the epoch at most one term, and an acting
 * primary never names it as its acknowledger.  With a second address
 * answering its claims (a healed partition) the jump is adopted.
 */
static void test_babbler(void)
{
	struct tn *s = calloc(1, sizeof(*s)), *p = calloc(1, sizeof(*p));
	u32 e3 = RPW_EPOCH_MAKE(3, 50), jump = RPW_EPOCH_MAKE(15, 0x10);
	struct rpw_frame f;
	u8 named[8];
	u64 t, t0 = T0 + MS;
	int i, bad = 0;

	mk(s, 40, RACKPWR_ROLE_PSU);
	rpw_elect_start(&s->e, T0);
	for (t = t0; t < t0 + 4 * s->e.cfg.detect_ns; t += 4 * MS) {
		f = claim(RPW_T_HEARTBEAT, 50, e3, (u8)(t / MS));
		if ((t - t0) % (16 * MS) == 0)
			rpw_elect_rx(&s->e, &f, t);
		f = claim(RPW_T_HEARTBEAT, 0x10, jump, 9);
		if (t > t0)
			rpw_elect_rx(&s->e, &f, t);
	}
	tap_ok(rpw_elect_epoch(&s->e) == e3 && rpw_elect_primary(&s->e) == 50,
	       "babbler 12 terms ahead for 4 detection times: not adopted");
	tap_ok(s->e.stats.rx_unearned > 0, "babbler: counted unearned (%u)",
	       s->e.stats.rx_unearned);
	f = claim(RPW_T_HEARTBEAT_ACK, 0x11, jump, 9);
	rpw_elect_rx(&s->e, &f, t + MS);
	f = claim(RPW_T_HEARTBEAT, 0x10, jump, 10);
	rpw_elect_rx(&s->e, &f, t + 2 * MS);
	tap_ok(rpw_elect_epoch(&s->e) == jump && rpw_elect_primary(&s->e) == 0x10,
	       "... adopted once a second address answered its claim");

	/* A babbler one term ahead is followed, but cannot step on. */
	mk(s, 40, RACKPWR_ROLE_PSU);
	rpw_elect_start(&s->e, T0);
	jump = RPW_EPOCH_MAKE(4, 0x10);
	for (t = t0; t < t0 + 4 * s->e.cfg.detect_ns; t += 4 * MS) {
		f = claim(RPW_T_HEARTBEAT, 50, e3, (u8)(t / MS));
		if ((t - t0) % (16 * MS) == 0 &&
		    rpw_elect_primary(&s->e) != 0x10)
			rpw_elect_rx(&s->e, &f, t);
		f = claim(RPW_T_HEARTBEAT, 0x10, jump, 9);
		if (t > t0)
			rpw_elect_rx(&s->e, &f, t);
	}
	TAP_EQ(rpw_elect_epoch(&s->e), jump,
	       "babbler one term ahead for 4 detection times: followed");
	for (i = 1; i <= 20; i++) {
		f = claim(RPW_T_HEARTBEAT, 0x10,
			  RPW_EPOCH_MAKE(4 + i, 0x10), (u8)(9 + i));
		rpw_elect_rx(&s->e, &f, t + (u64)i * MS);
	}
	TAP_EQ(RPW_EPOCH_TERM(rpw_elect_epoch(&s->e)), 4,
	       "... but its claims one term further each do not move it");

	/*
	 * Its one term counts from the rack's epoch: after a failover it
	 * may be one term ahead of the new primary (elect_sim seed 36495,
	 * where the chassis modules refused a healed partition's primary
	 * for good).
	 */
	mk(s, 40, RACKPWR_ROLE_PSU);
	rpw_elect_start(&s->e, T0);
	jump = RPW_EPOCH_MAKE(5, 0x10);
	for (t = t0; t < t0 + 4 * s->e.cfg.detect_ns; t += 4 * MS) {
		f = claim(RPW_T_HEARTBEAT, 50, e3, (u8)(t / MS));
		if ((t - t0) % (16 * MS) == 0) {
			rpw_elect_rx(&s->e, &f, t);
			f = claim(RPW_T_HEARTBEAT_ACK, 60, e3, (u8)(t / MS));
			rpw_elect_rx(&s->e, &f, t + MS);
		}
		f = claim(RPW_T_HEARTBEAT, 0x10, jump, 9);
		if (t > t0)
			rpw_elect_rx(&s->e, &f, t);
	}
	TAP_EQ(rpw_elect_epoch(&s->e), e3, "babbler two terms ahead: refused");
	f = claim(RPW_T_HEARTBEAT, 60, RPW_EPOCH_MAKE(4, 60), 1);
	rpw_elect_rx(&s->e, &f, t + MS);
	TAP_EQ(rpw_elect_primary(&s->e), 60, "a member took over, one term on");
	f = claim(RPW_T_HEARTBEAT, 0x10, jump, 10);
	rpw_elect_rx(&s->e, &f, t + 2 * MS);
	tap_ok(rpw_elect_epoch(&s->e) == jump &&
	       rpw_elect_primary(&s->e) == 0x10,
	       "... then the claimer one term ahead of it is followed");

	/* An acting primary never names the babbler. */
	mk(p, 50, RACKPWR_ROLE_PSU);
	rpw_elect_start(&p->e, T0);
	fire(p, 0);
	done_all(p, p->timer - 10 * MS);
	f = claim(RPW_T_WHO_PRIMARY, 7, 0, 0);
	rpw_elect_rx(&p->e, &f, p->timer - 5 * MS);
	named_by(p, named, 2, &t);
	jump = RPW_EPOCH_MAKE(RPW_EPOCH_TERM(p->e.epoch) + 12, 0x10);
	for (i = 0; i < 8 * 3; i++) {
		f = claim(RPW_T_HEARTBEAT, 0x10, jump, 9);
		rpw_elect_rx(&p->e, &f, p->timer - MS);
		if (i % 3 == 2) {
			named_by(p, named + i / 3, 1, &t);
			bad += named[i / 3] != 7;
		}
	}
	tap_ok(rpw_elect_state(&p->e) == RPW_ES_PRIMARY &&
	       RPW_EPOCH_TERM(rpw_elect_epoch(&p->e)) == 1,
	       "babbler at an acting primary: still primary in term 1");
	TAP_EQ(bad, 0, "babbler: never named as acknowledger");
	tap_ok(rpw_elect_is_primary(&p->e, t + p->e.cfg.guard_ns + 2 * MS),
	       "babbler: the primary still acts");
	free(s);
	free(p);
}

/*
 * A claim forged in the primary's own name, a bounded step ahead
 * (elect_sim --adversary seed 1871): every secondary followed "it" there
 * and took the real heartbeats for stale ones; in a two-module rack the
 * secondary then took over a jump ahead that the primary could not adopt,
 * and neither acted again.  The primary now claims that epoch itself.
 */
static void test_forged_own_claim(void)
{
	struct tn *p = calloc(1, sizeof(*p));
	struct rpw_frame f;
	const struct rpw_frame *o;
	u32 ep, far;

	mk(p, 50, RACKPWR_ROLE_PSU);
	rpw_elect_start(&p->e, T0);
	fire(p, 0);
	done_all(p, p->timer - 10 * MS);
	ep = RPW_EPOCH_MAKE(1 + RPW_EPOCH_STEP, 50);
	far = RPW_EPOCH_MAKE(2 + 2 * RPW_EPOCH_STEP, 50);
	p->nout = 0;
	f = claim(RPW_T_HEARTBEAT, 50, far, 200);
	rpw_elect_rx(&p->e, &f, p->timer - 5 * MS);
	TAP_EQ(RPW_EPOCH_TERM(rpw_elect_epoch(&p->e)), 1,
	       "own address, more than RPW_EPOCH_STEP ahead: ignored");
	f = claim(RPW_T_HEARTBEAT, 50, ep, 200);
	rpw_elect_rx(&p->e, &f, p->timer - 4 * MS);
	o = last(p);
	tap_ok(rpw_elect_state(&p->e) == RPW_ES_PRIMARY &&
	       rpw_elect_epoch(&p->e) == ep && o && o->type == RPW_T_PRIMARY &&
	       ep_of(o) == ep,
	       "own address, RPW_EPOCH_STEP ahead: claimed as ours, announced");
	TAP_EQ(p->ev[RPW_EV_DUP_ADDR], 1, "... and reported as dup_addr");
	free(p);
}

/*
 * The lone primary of a partition that failed over more than once: the
 * rack does not adopt its jump from a member only by persistence, so it
 * yields when a member's earlier claim is acknowledged by another member
 * and no peer acknowledged its own claims for a membership window
 * (elect_sim seed 1327 with the persistence rule alone).
 */
static void test_outvoted_primary(void)
{
	struct tn *p = calloc(1, sizeof(*p));
	u32 other = RPW_EPOCH_MAKE(1, 30);
	struct rpw_frame f;
	u64 t, t0;
	u8 k = 0;

	mk(p, 50, RACKPWR_ROLE_PSU);
	rpw_elect_start(&p->e, T0);
	fire(p, 0);
	TAP_EQ(rpw_elect_state(&p->e), RPW_ES_PRIMARY, "outvoted: lone primary");
	t0 = p->timer;
	for (t = t0; t < t0 + 2 * p->e.cfg.member_ns &&
	     rpw_elect_state(&p->e) == RPW_ES_PRIMARY; t += 10 * MS) {
		f = claim(RPW_T_HEARTBEAT, 30, other, ++k);
		rpw_elect_rx(&p->e, &f, t);
		f = claim(RPW_T_HEARTBEAT_ACK, 40, other, k);
		rpw_elect_rx(&p->e, &f, t + MS);
	}
	tap_ok(rpw_elect_state(&p->e) == RPW_ES_SECONDARY &&
	       rpw_elect_primary(&p->e) == 30 && p->e.stats.rejoins == 1,
	       "outvoted: unacknowledged primary rejoins and follows 30");
	tap_ok(t - t0 >= p->e.cfg.member_ns,
	       "outvoted: not before a membership window (%.0f ms)",
	       (t - t0) / 1e6);
	free(p);
}

/*
 * A claim not followed still fences (elect_sim seed 14959): a module
 * frozen while the rack failed over to a primary it did not know yet
 * heard that primary's claims as unearned, took over and acted at the
 * same time as it.
 */
static void test_unearned_fence(void)
{
	struct tn *s = calloc(1, sizeof(*s));
	u32 e3 = RPW_EPOCH_MAKE(3, 50);
	struct rpw_frame f;
	u64 t = T0 + MS, until;

	mk(s, 40, RACKPWR_ROLE_PSU);
	rpw_elect_start(&s->e, T0);
	f = claim(RPW_T_HEARTBEAT, 50, e3, 1);
	rpw_elect_rx(&s->e, &f, t);
	f = claim(RPW_T_HEARTBEAT, 0x10, RPW_EPOCH_MAKE(4, 0x10), 1);
	put_unaligned_le16(1000, f.payload + 4);
	rpw_elect_rx(&s->e, &f, t + MS);
	TAP_EQ(rpw_elect_primary(&s->e), 50, "unearned claim: not followed");
	until = t + MS + 1000 * MS;
	while (rpw_elect_state(&s->e) != RPW_ES_PRIMARY &&
	       s->timer != RPW_ELECT_NO_TIMER)
		fire(s, 0);
	done_all(s, s->timer - s->e.cfg.hb_ns + MS);
	tap_ok(rpw_elect_state(&s->e) == RPW_ES_PRIMARY &&
	       !rpw_elect_is_primary(&s->e, s->timer - s->e.cfg.hb_ns +
				     s->e.cfg.guard_ns + MS) &&
	       s->timer < until,
	       "took over: not acting inside the unearned claimer's lease");
	free(s);
}

/*
 * A lone primary yields at once to a module it followed before (elect_sim
 * seed 5300): it had deleted its only peer when it took over from it and
 * acted alone on read-backs; the peer, following it without being named,
 * missed two heartbeats and took over.  Its claim came from no member, so
 * the primary waited a detection time and both acted.
 */
static void test_known_claimer(void)
{
	struct tn *p = calloc(1, sizeof(*p));
	struct rpw_frame f;
	int i;
	u32 ep;

	mk(p, 50, RACKPWR_ROLE_PSU);
	rpw_elect_start(&p->e, T0);
	f = claim(RPW_T_HEARTBEAT, 233, RPW_EPOCH_MAKE(5, 233), 1);
	rpw_elect_rx(&p->e, &f, T0 + MS);
	while (rpw_elect_state(&p->e) != RPW_ES_PRIMARY &&
	       p->timer != RPW_ELECT_NO_TIMER)
		fire(p, 0);
	for (i = 0; i < 50 && !rpw_elect_is_primary(&p->e, p->timer - MS);
	     i++) {
		p->nout = 0;
		fire(p, 0);
		done_all(p, p->timer - p->e.cfg.hb_ns + MS);
	}
	tap_ok(rpw_elect_is_primary(&p->e, p->timer - MS),
	       "known claimer: took over, acts alone on read-back");
	ep = RPW_EPOCH_MAKE(RPW_EPOCH_TERM(p->e.epoch) + 1, 233);
	f = claim(RPW_T_PRIMARY, 233, ep, 2);
	rpw_elect_rx(&p->e, &f, p->timer - MS);
	tap_ok(rpw_elect_state(&p->e) == RPW_ES_SECONDARY &&
	       rpw_elect_primary(&p->e) == 233 && rpw_elect_epoch(&p->e) == ep,
	       "known claimer: its takeover claim demotes us at once");
	free(p);
}

int main(void)
{
	test_cfg();
	test_cfg_build();
	test_alone();
	test_late_joiner();
	test_named_acker();
	test_tie();
	test_takeover();
	test_lease_acks();
	test_chassis();
	test_step_down_and_stale_primary();
	test_dup_stall_malformed();
	test_tx_backlog();
	test_tx_refused();
	test_ack_refused();
	test_epoch_adoption();
	test_forged_acks();
	test_babbler();
	test_forged_own_claim();
	test_outvoted_primary();
	test_unearned_fence();
	test_known_claimer();
	return tap_done();
}
