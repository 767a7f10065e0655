// SPDX-License-Identifier: GPL-2.0-only
/*
 * rackpwr - primary election among power-supply modules (pure logic).
 *
 * See rpw_elect.h for the calling convention and
 * Documentation/networking/rackpwr-election.rst for the design: why each
 * timer has the value it has and why at most one node acts as primary.
 */

#include "rpw_compat.h"
#include "rpw_elect.h"

#define NSEC_MS		1000000ULL
/* An unnamed answer goes to one claim in this many (see maybe_ack). */
#define RPW_ELECT_SPREAD	4

static const char * const rpw_elect_state_names[RPW_ES__MAX] = {
	[RPW_ES_IDLE]		= "idle",
	[RPW_ES_DISCOVER]	= "discover",
	[RPW_ES_SECONDARY]	= "secondary",
	[RPW_ES_TAKEOVER]	= "takeover",
	[RPW_ES_PRIMARY]	= "primary",
	[RPW_ES_FOLLOWER]	= "follower",
	[RPW_ES_STOPPED]	= "stopped",
};

static const char * const rpw_elect_event_names[RPW_EV__MAX] = {
	[RPW_EV_PROMOTED]	= "promoted",
	[RPW_EV_DEMOTED]	= "demoted",
	[RPW_EV_EPOCH_CHANGED]	= "epoch_changed",
	[RPW_EV_PRIMARY_CHANGED] = "primary_changed",
	[RPW_EV_PRIMARY_LOST]	= "primary_lost",
	[RPW_EV_CONFLICT]	= "conflict",
	[RPW_EV_DUP_ADDR]	= "dup_addr",
	[RPW_EV_LEASE_LOST]	= "lease_lost",
	[RPW_EV_LEASE_OK]	= "lease_ok",
	[RPW_EV_STALL]		= "stall",
	[RPW_EV_STEP_DOWN]	= "step_down",
};

const char *rpw_elect_state_name(enum rpw_elect_state s)
{
	if ((unsigned int)s >= RPW_ES__MAX)
		return "?";
	return rpw_elect_state_names[s];
}

const char *rpw_elect_event_name(enum rpw_elect_event ev)
{
	if ((unsigned int)ev >= RPW_EV__MAX || !rpw_elect_event_names[ev])
		return "?";
	return rpw_elect_event_names[ev];
}

/*
 * Upper bound on the clock error accumulated over @x ns: x * rho, computed
 * with a shift instead of a 64-bit division (2^19 < 10^6, so this errs on
 * the long side by at most 1.91x, which only adds margin).
 */
static u64 elect_drift(const struct rpw_elect_cfg *c, u64 x)
{
	return ((x * c->drift_ppm) >> 19) + 1;
}

/* Worst-case delay from send() at one node to rx() at another: J + T_f. */
static u64 elect_delay(const struct rpw_elect_cfg *c)
{
	return c->bus_delay_ns + c->frame_ns;
}

/* Ceiling of ns/1e6 without a division (4295 / 2^32 >= 1e-6). */
static u64 elect_ns_to_ms_up(u64 ns)
{
	return ((ns * 4295ULL) >> 32) + 1;
}

void rpw_elect_cfg_default(struct rpw_elect_cfg *c, u8 addr, u8 role)
{
	memset(c, 0, sizeof(*c));
	c->addr = addr;
	c->role = role;
	c->miss = 2;
	c->drift_ppm = 1000;
	c->bus_delay_ns = 25 * NSEC_MS;
	/* 12 bytes of 10 bits at 115200 baud */
	c->frame_ns = 1041667;
	c->tol_ns = 2 * NSEC_MS;
	c->hb_ns = 16 * NSEC_MS;
	c->member_ns = 500 * NSEC_MS;
	rpw_elect_cfg_derive(c);
}

/* The minimum each derived timer must have; shared by derive and validate. */
static u64 elect_min_detect(const struct rpw_elect_cfg *c)
{
	u64 beat = (u64)(c->miss + 1) * c->hb_ns;

	return beat + 2 * elect_drift(c, beat) + elect_delay(c) + c->tol_ns;
}

static u64 elect_min_guard(const struct rpw_elect_cfg *c)
{
	u64 d = elect_delay(c);

	return d + 2 * elect_drift(c, d) + c->tol_ns;
}

static u64 elect_min_slot(const struct rpw_elect_cfg *c)
{
	return 2 * elect_delay(c) + c->tol_ns + 2 * elect_drift(c, c->detect_ns);
}

static u64 elect_min_initial(const struct rpw_elect_cfg *c)
{
	u64 d = elect_delay(c);
	u64 ask = 2 * d + c->tol_ns + c->frame_ns;
	u64 beat = c->hb_ns + d + c->tol_ns;

	return max_t(u64, ask, beat) + elect_drift(c, ask + beat);
}

void rpw_elect_cfg_derive(struct rpw_elect_cfg *c)
{
	if (!c->detect_ns)
		c->detect_ns = elect_min_detect(c);
	if (!c->lease_ns && c->detect_ns > 2 * elect_drift(c, c->detect_ns) +
	    NSEC_MS)
		c->lease_ns = c->detect_ns - 2 * elect_drift(c, c->detect_ns) -
			      NSEC_MS;
	if (!c->guard_ns)
		c->guard_ns = elect_min_guard(c);
	if (!c->slot_ns)
		c->slot_ns = elect_min_slot(c);
	if (!c->initial_ns)
		c->initial_ns = elect_min_initial(c);
}

int rpw_elect_cfg_validate(const struct rpw_elect_cfg *c, const char **why)
{
	const char *w = NULL;

	if (c->addr < RPW_ADDR_MIN || c->addr > RPW_ADDR_MAX)
		w = "address out of range";
	else if (c->role != RACKPWR_ROLE_PSU &&
		 c->role != RACKPWR_ROLE_CHASSIS)
		w = "unknown role";
	else if (c->miss > 16)
		w = "miss count above 16";
	else if (c->drift_ppm > 10000)
		w = "clock drift bound above 1%";
	else if (!c->frame_ns || c->bus_delay_ns > 10000 * NSEC_MS ||
		 c->tol_ns > 10000 * NSEC_MS)
		w = "bus timing out of range";
	else if (c->tol_max_ns && (c->tol_max_ns < c->tol_ns ||
				   c->tol_max_ns > 10000 * NSEC_MS))
		w = "tolerance cap below the tolerance or above 10 s";
	else if (c->hb_ns < 4 * c->frame_ns || c->hb_ns > 10000 * NSEC_MS)
		w = "heartbeat period below 4 frame times or above 10 s";
	else if (c->detect_ns < elect_min_detect(c) ||
		 c->detect_ns > 60000 * NSEC_MS)
		w = "detection time below (k+1)*T_h + J + T_f + tol";
	else if (c->lease_ns + 2 * elect_drift(c, c->detect_ns) >=
		 c->detect_ns)
		w = "lease not shorter than the detection time";
	else if (c->guard_ns < elect_min_guard(c))
		w = "lease guard below J + T_f + tol";
	else if (c->lease_ns < c->hb_ns + 2 * elect_delay(c) +
		 2 * c->tol_ns)
		w = "lease shorter than T_h + 2*(J + T_f + tol): flickers";
	else if (elect_ns_to_ms_up(c->lease_ns) > 0xffff)
		w = "lease does not fit lease_ms";
	else if (c->slot_ns < elect_min_slot(c))
		w = "slot width below 2*(J + T_f) + tol";
	else if (c->initial_ns < elect_min_initial(c))
		w = "initial wait below the worst-case answer time";
	else if (c->member_ns < c->detect_ns || c->member_ns < 8 * c->hb_ns)
		w = "membership window below the detection time";
	if (why)
		*why = w;
	return w ? -EINVAL : 0;
}

/*
 * J, the worst-case access delay: the MAC's bound for urgent requests
 * (claims and acks use the U-point and priority slots), unless set.  With
 * urgent access off (prio_period 0) J covers a full rotation of
 * rack_modules modules plus an address sweep.
 */
static u64 elect_bus_delay(const struct rpw_mac_cfg *mc,
			   const struct rpw_elect_params *p, unsigned int chars)
{
	unsigned int n = min_t(unsigned int,
			       max_t(unsigned int, p->rack_modules, 2),
			       RPW_ADDR_MAX);

	if (p->bus_delay_us)
		return (u64)p->bus_delay_us * 1000;
	if (mc->prio_period)
		return rpw_mac_urgent_bound_ns(mc, p->rx_lat_ns);
	return rpw_mac_access_bound_ns(mc, n, chars, true, p->rx_lat_ns) +
	       (u64)(mc->max_addr + 1) * mc->t_slot_us * 1000;
}

/*
 * The lease must outlast one heartbeat plus two bus delays, and it ends
 * before the secondaries' detection time (k+1)*T_h + J: so k*T_h must
 * exceed J + T_f + tol.  J/32 covers the clock drift terms, which grow
 * with the timers (a fixed 2 ms margin was rejected as "flickers" above
 * J = 1.3 s).  A heartbeat and its ack each hold the line for a frame and
 * T_ifs: at most a quarter of it (hb_line_ns; with stretched MAC timers
 * the election took half of the line).
 */
static u64 elect_default_hb(const struct rpw_elect_cfg *ec)
{
	u64 lease = div_u64(ec->bus_delay_ns + (ec->bus_delay_ns >> 5) +
			    ec->frame_ns + ec->tol_ns + 2 * NSEC_MS,
			    ec->miss) + 2 * NSEC_MS;

	return max_t(u64, ec->hb_min_ns, max_t(u64, lease, ec->hb_line_ns));
}

/*
 * @c from @base with tolerance @tol: T_h (when derived) and every derived
 * timer follow it.  The membership window must hold a detection time and
 * eight heartbeats; on a slow or crowded bus (rack_modules >= 16 at
 * 115200) the 500 ms default does not, and every node was rejected.
 */
static void elect_cfg_tune(struct rpw_elect_cfg *c,
			   const struct rpw_elect_cfg *base, u64 tol)
{
	*c = *base;
	c->tol_ns = tol;
	if (c->hb_min_ns)
		c->hb_ns = elect_default_hb(c);
	c->detect_ns = 0;
	c->lease_ns = 0;
	c->guard_ns = 0;
	c->slot_ns = 0;
	c->initial_ns = 0;
	rpw_elect_cfg_derive(c);
	c->member_ns = max_t(u64, c->member_ns,
			     max_t(u64, c->detect_ns, 8 * c->hb_ns));
}

int rpw_elect_cfg_build(struct rpw_elect_cfg *ec, const struct rpw_mac_cfg *mc,
			const struct rpw_elect_params *p, const char **why)
{
	/* Election frames: header, 6-byte payload, FCS, flags, some escapes. */
	const unsigned int chars = RPW_HDR_LEN + 6 + RPW_FCS_LEN + 4;
	struct rpw_elect_cfg base;

	rpw_elect_cfg_default(&base, mc->addr, p->role);
	base.frame_ns = rpw_mac_char_ns(mc->baud) * chars;
	base.nonce = mc->nonce;
	base.bus_delay_ns = elect_bus_delay(mc, p, chars);
	if (p->miss)
		base.miss = p->miss;
	/* An explicit heartbeat is validated as given. */
	if (p->hb_us) {
		base.hb_ns = (u64)p->hb_us * 1000;
	} else {
		base.hb_min_ns = base.hb_ns;
		base.hb_line_ns = 8 * (base.frame_ns +
				       (u64)mc->t_ifs_us * 1000);
	}
	base.tol_max_ns = (u64)p->tol_max_us * 1000;
	elect_cfg_tune(ec, &base, (u64)p->tol_us * 1000);
	return rpw_elect_cfg_validate(ec, why);
}

u64 rpw_elect_converge_bound(const struct rpw_elect_cfg *c,
			     unsigned int n_psu)
{
	u64 d = elect_delay(c) + c->tol_ns;

	/*
	 * Discovery, one stale claim taught and retracted, a full detection
	 * and every slot, the membership aging that lets a primary whose
	 * peers all died confirm itself, and a last lease window.
	 */
	return c->initial_ns + 4 * (c->hb_ns + d) + c->detect_ns +
	       (u64)n_psu * c->slot_ns +
	       2 * max_t(u64, c->member_ns, 2ULL * n_psu * c->hb_ns) +
	       c->lease_ns +
	       2 * c->guard_ns;
}

static void elect_event(struct rpw_elect *e, enum rpw_elect_event ev, u8 addr,
			u32 epoch)
{
	if (e->ops->event)
		e->ops->event(e->ctx, ev, addr, epoch);
}

static void elect_set_timer(struct rpw_elect *e, u64 expires)
{
	e->timer = expires;
	e->ops->timer(e->ctx, expires);
}

static void elect_members(const struct rpw_elect *e, u8 skip,
			  unsigned int *m, unsigned int *rank);

static bool elect_is_member(const struct rpw_elect *e, unsigned int a)
{
	return (e->member_cur[a >> 5] | e->member_prev[a >> 5]) &
	       (1U << (a & 31));
}

/*
 * A power-supply module by what it did: it made a claim we followed, or
 * acknowledged a claim we heard.  Membership ages out in two windows
 * (a module that left must leave the acker rotation and the takeover
 * slots); this record does not, so a module that comes back from a
 * partition is told from an address that never took part.
 */
static void elect_known_add(struct rpw_elect *e, u8 a)
{
	if (a >= RPW_ADDR_MIN && a <= RPW_ADDR_MAX && a != e->persisted)
		e->known[a >> 5] |= 1U << (a & 31);
}

static bool elect_is_known(const struct rpw_elect *e, u8 a)
{
	return e->known[a >> 5] & (1U << (a & 31));
}

/*
 * The primary names the one secondary that acknowledges a claim, taking
 * the psu modules it knows in turn.  Each secondary used to work out its
 * turn from its own view of the membership; modules that had just started
 * knew few others, all took the turn, and their acks collided after every
 * heartbeat until the views agreed (tens of seconds in a 60-module rack).
 * Known members (elect_known_add()) are named while there are any: one
 * that never acknowledged anything (an address heard only claiming or
 * asking, as a babbler is) cost the lease its turn every round.  A new
 * module answers unnamed once per membership window, and is known then.
 */
static u8 elect_pick_acker(struct rpw_elect *e)
{
	unsigned int i, pass, a;

	for (pass = 0; pass < 2; pass++) {
		a = e->last_acker;
		for (i = 0; i < RPW_ADDR_MAX; i++) {
			a = a >= RPW_ADDR_MAX ? RPW_ADDR_MIN : a + 1;
			if (a != e->cfg.addr && elect_is_member(e, a) &&
			    (pass || elect_is_known(e, a))) {
				e->last_acker = a;
				return a;
			}
		}
	}
	return RPW_ADDR_NONE;
}

/*
 * How long after a claim was sent its acknowledgment still confirms the
 * lease: the claim's and the ack's bus delays, timer lateness, drift.
 */
static u64 elect_ack_window(const struct rpw_elect *e)
{
	u64 d = elect_delay(&e->cfg);

	return 2 * d + 2 * e->cfg.tol_ns + elect_drift(&e->cfg, 2 * d);
}

/* Every election payload starts with the epoch (rpw_proto.h). */
static u32 elect_frame_epoch(const struct rpw_frame *f)
{
	const struct rpw_wire_epoch *p = (const void *)f->payload;

	return le32_to_cpu(p->epoch);
}

static const struct rpw_wire_claim *elect_claim(const struct rpw_frame *f)
{
	return (const void *)f->payload;
}

/*
 * How long a frame may wait for the bus (0: no limit).  An acknowledgment
 * counts only within the claimer's ack window (the claim went out before
 * we heard it: the window is generous).  A heartbeat that has not reached
 * the bus by the next one's time plus the delay its lease is built on
 * (T_h + J + T_f + tol) lost its urgent access to collisions and waits
 * for ordinary turns: a sweep of a large rack takes longer than T_det.
 * (Only J + T_f + tol dropped a heartbeat that waited behind a frame in
 * service: the lease lapsed and an allocation waited 920 ms instead of
 * 300, make -C selftests/sim bench-alloc seed 1.)  Kept, it also held back
 * every later heartbeat (the backlog rule), and the secondaries took the
 * primary for lost (stack_sim --psu 30 --chassis 30 --spread-ms 1000
 * --tol-us 20000 --starve-ms 60 --seed 9: silent from 1195 to 1399 ms).
 * Dropped unsent, it makes room for the next one, urgent again.  A
 * re-announcement (an answer to a question or a stale claim, once our
 * claim is out) says nothing the next heartbeat does not: after a
 * collision it waits for its sweep slot, and the MAC lets no urgent frame
 * to the same destination overtake it (duplicate suppression), so it held
 * the heartbeats back just as long (seed 19 of the same run).  Claims
 * after discovery wait as long as they must: they start the epoch.
 */
static u64 elect_ttl(const struct rpw_elect *e, u8 type)
{
	if (type == RPW_T_HEARTBEAT_ACK)
		return elect_ack_window(e);
	if (type == RPW_T_HEARTBEAT)
		return e->cfg.hb_ns + elect_delay(&e->cfg) + e->cfg.tol_ns;
	if (type == RPW_T_PRIMARY && e->announced)
		return e->cfg.hb_ns;
	return 0;
}

/* 0, or send() refused the frame: counted, nothing went out. */
static int elect_send(struct rpw_elect *e, u8 type, u8 dst, u8 seq,
		      u32 epoch, enum rpw_elect_prio prio, u64 now)
{
	struct rpw_wire_claim *claim;
	struct rpw_wire_epoch *ep;
	struct rpw_frame f;
	int err;

	memset(&f, 0, sizeof(f));
	f.version = RPW_PROTO_VERSION;
	f.type = type;
	f.dst = dst;
	f.src = e->cfg.addr;
	f.seq = seq;
	if (type == RPW_T_PRIMARY || type == RPW_T_HEARTBEAT) {
		claim = (void *)f.payload;
		claim->epoch = cpu_to_le32(epoch);
		claim->lease_ms =
			cpu_to_le16((u16)elect_ns_to_ms_up(e->cfg.lease_ns));
		claim->acker = elect_pick_acker(e);
		f.len = sizeof(*claim);
	} else {
		ep = (void *)f.payload;
		ep->epoch = cpu_to_le32(epoch);
		f.len = sizeof(*ep);
	}
	err = e->ops->send(e->ctx, &f, prio, elect_ttl(e, type));
	if (err) {
		/* No tx_done() will come: the backlog counts stay as they are. */
		e->stats.tx_refused++;
		return err;
	}
	e->stats.tx++;
	if (!e->txq_claims && !e->txq_other && !e->txq_slow)
		e->txq_since = now;
	/* Ordinary turns are not bounded by J: counted apart. */
	if (prio == RPW_ELECT_PRIO_NORMAL)
		e->txq_slow++;
	else if (f.len == RPW_ELECT_CLAIM_LEN)
		e->txq_claims++;
	else if (type != RPW_T_STEP_DOWN)
		e->txq_other++;
	return 0;
}

/*
 * Too many frames of this kind still wait for the bus.  Claims are sent
 * once per T_h, so while every access takes at most J no more than
 * J/T_h + 1 of them can be outstanding.  Acks answer claims as they
 * arrive, up to J early or late, so 2J/T_h + 1 (with fewer, an acker
 * skipped every other claim of a slow bus and the lease lapsed between
 * its acks).  More means the bus is
 * slower than configured (a crowded or saturated line, one frame per node
 * per turn): another one would only queue behind the others and every one
 * of them would arrive late and stale, feeding false detections and rival
 * claims.  The queued frames carry the same information, older by the
 * backlog, which only shortens the lease they confirm.  A result that never
 * comes (a caller that lost it) is forgotten after a membership window
 * (a start-up sweep of the UART profile alone takes 200 ms).
 */
static void elect_tx_forget(struct rpw_elect *e, u64 now)
{
	if ((e->txq_claims || e->txq_other || e->txq_slow) &&
	    now - e->txq_since > e->cfg.member_ns) {
		e->txq_claims = 0;
		e->txq_other = 0;
		e->txq_slow = 0;
	}
}

static bool elect_tx_busy(struct rpw_elect *e, bool claim, u64 now)
{
	elect_tx_forget(e, now);
	return (claim ? e->txq_claims : e->txq_other) * e->cfg.hb_ns >
	       (claim ? 1 : 2) * e->cfg.bus_delay_ns;
}

/* A frame of ours still waits for an ordinary turn. */
static bool elect_tx_slow(struct rpw_elect *e, u64 now)
{
	elect_tx_forget(e, now);
	return e->txq_slow;
}

/* ---- psu membership: two bitmaps aged one window at a time ---- */

static void elect_member_age(struct rpw_elect *e, u64 now)
{
	unsigned int m, rank;

	if (now < e->member_rotate)
		return;
	if (now - e->member_rotate >= e->member_win)
		memset(e->member_prev, 0, sizeof(e->member_prev));
	else
		memcpy(e->member_prev, e->member_cur, sizeof(e->member_prev));
	memset(e->member_cur, 0, sizeof(e->member_cur));
	/*
	 * Secondaries ack in turns, so each is heard every m heartbeats:
	 * the window must hold two turns or live members would drop out.
	 */
	elect_members(e, RPW_ADDR_NONE, &m, &rank);
	e->member_win = max_t(u64, e->cfg.member_ns, 2ULL * m * e->cfg.hb_ns);
	e->member_rotate = now + e->member_win;
}

static void elect_member_add(struct rpw_elect *e, u8 a)
{
	if (a >= RPW_ADDR_MIN && a <= RPW_ADDR_MAX)
		e->member_cur[a >> 5] |= 1U << (a & 31);
}

static void elect_member_del(struct rpw_elect *e, u8 a)
{
	e->member_cur[a >> 5] &= ~(1U << (a & 31));
	e->member_prev[a >> 5] &= ~(1U << (a & 31));
}

static unsigned int elect_weight(u32 w)
{
	unsigned int n = 0;

	while (w) {
		w &= w - 1;
		n++;
	}
	return n;
}

/*
 * @m: psu nodes we know besides @skip, ourselves included;
 * @rank: how many of them have a higher address than ours.
 */
static void elect_members(const struct rpw_elect *e, u8 skip,
			  unsigned int *m, unsigned int *rank)
{
	u8 self = e->cfg.addr;
	unsigned int i, n = 1, r = 0;

	for (i = 0; i < ARRAY_SIZE(e->member_cur); i++) {
		u32 w = e->member_cur[i] | e->member_prev[i];
		u32 hi;

		if (self >> 5 == i)
			w &= ~(1U << (self & 31));
		if (skip >> 5 == i)
			w &= ~(1U << (skip & 31));
		if (!w)
			continue;
		n += elect_weight(w);
		if (i > (unsigned int)(self >> 5U)) {
			r += elect_weight(w);
		} else if (i == (unsigned int)(self >> 5U)) {
			hi = (self & 31) == 31 ? 0 : ~0U << ((self & 31) + 1);
			r += elect_weight(w & hi);
		}
	}
	*m = n;
	*rank = r;
}

static bool elect_alone(const struct rpw_elect *e)
{
	unsigned int m, rank;

	elect_members(e, RPW_ADDR_NONE, &m, &rank);
	return m == 1;
}

/* ---- lease ---- */

/*
 * Earliest time we may act at all: after one lease time of listening since
 * start, and after the advertised lease of every other claimer we heard (it
 * may be stalled and unable to hear that it lost).
 */
static u64 elect_act_from(const struct rpw_elect *e)
{
	u64 t = max_t(u64, e->act_after, e->fence_rival);

	return max_t(u64, t, e->fence_primary);
}

/* A claim by @src, heard now, advertising @lease_ms. */
static u64 elect_fence_of(const struct rpw_elect *e, u16 lease_ms, u64 now)
{
	u64 adv = (u64)lease_ms * NSEC_MS;

	return now + adv + 2 * elect_drift(&e->cfg, adv) + e->cfg.tol_ns;
}

static void elect_fence_rival(struct rpw_elect *e, u64 until, u8 src)
{
	if (until <= e->fence_rival)
		return;
	e->rival = e->fence_rival > 0 && e->rival != src ? RPW_ADDR_NONE : src;
	e->fence_rival = until;
}

bool rpw_elect_is_primary(const struct rpw_elect *e, u64 now)
{
	unsigned int i;

	if (e->state != RPW_ES_PRIMARY || now < elect_act_from(e))
		return false;
	for (i = 0; i < 2; i++)
		if (now >= e->lease_start[i] && now < e->lease_end[i])
			return true;
	return false;
}

bool rpw_elect_lease(const struct rpw_elect *e, unsigned int i, u64 *start,
		     u64 *end)
{
	u64 s;

	if (i > 1 || e->state != RPW_ES_PRIMARY)
		return false;
	s = max_t(u64, e->lease_start[i], elect_act_from(e));
	if (e->lease_end[i] <= s)
		return false;
	*start = s;
	*end = e->lease_end[i];
	return true;
}

static struct rpw_elect_hb *elect_ring_find(struct rpw_elect *e, u8 seq)
{
	unsigned int i;

	for (i = 0; i < RPW_ELECT_RING; i++)
		if (e->ring[i].used && e->ring[i].seq == seq)
			return &e->ring[i];
	return NULL;
}

static void elect_check_lease(struct rpw_elect *e, u64 now)
{
	bool act = rpw_elect_is_primary(e, now);

	if (act == e->acting)
		return;
	e->acting = act;
	elect_event(e, act ? RPW_EV_LEASE_OK : RPW_EV_LEASE_LOST, e->cfg.addr,
		    e->epoch);
}

/* A claim of this epoch was heard or read back intact. */
static void elect_announced(struct rpw_elect *e, u64 now)
{
	if (!e->announced)
		e->announced_at = now;
	e->announced = true;
}

/*
 * A claim frame sent at @hb->sent was confirmed.  Every node that could take
 * over heard it no earlier than @hb->sent, so none can act before
 * sent + T_det; we act in [sent + G, sent + T_lease).  The guard G lets the
 * frame reach, and demote, any older primary before we act.  A slow claim
 * (sent in ordinary turns, or read back later than D after its send: it
 * lost a collision) may reach the others only now: the guard counts from
 * now.
 */
static void elect_confirm(struct rpw_elect *e, struct rpw_elect_hb *hb,
			  u64 now)
{
	u64 s = (hb->slow ? now : hb->sent) + hb->guard;
	u64 end = hb->sent + hb->lease;
	u64 *ls = e->lease_start, *le = e->lease_end;
	unsigned int i;

	/* Someone heard it (an ack), or it was read back intact. */
	elect_announced(e, now);
	/*
	 * Every node has the lease we advertise now: from here on their
	 * detection covers a longer heartbeat period (elect_late()).
	 */
	if (hb->lease == e->cfg.lease_ns)
		e->hb_cur = e->cfg.hb_ns;

	if (end <= now)
		return;
	/* Forget windows that are over; keep window 0 the earlier one. */
	if (le[0] <= now) {
		ls[0] = ls[1];
		le[0] = le[1];
		ls[1] = 0;
		le[1] = 0;
	}
	if (le[1] <= now) {
		ls[1] = 0;
		le[1] = 0;
	}
	for (i = 0; i < 2; i++) {
		if (le[i] > ls[i] && s <= le[i] && end >= ls[i]) {
			ls[i] = min_t(u64, ls[i], s);
			le[i] = max_t(u64, le[i], end);
			break;
		}
	}
	if (i == 2) {
		/* Disjoint from both: it becomes window 0 or 1. */
		if (le[0] <= ls[0]) {
			ls[0] = s;
			le[0] = end;
		} else if (s >= le[0] && (le[1] <= ls[1] || s < ls[1])) {
			ls[1] = s;
			le[1] = end;
		}
	}
	if (le[1] > ls[1] && ls[1] <= le[0]) {
		le[0] = max_t(u64, le[0], le[1]);
		ls[1] = 0;
		le[1] = 0;
	}
}

static void elect_clear_lease(struct rpw_elect *e)
{
	memset(e->lease_start, 0, sizeof(e->lease_start));
	memset(e->lease_end, 0, sizeof(e->lease_end));
	e->acting = false;
}

/* ---- transitions ---- */

static void elect_raise_epoch(struct rpw_elect *e, u32 epoch)
{
	if (!rpw_epoch_after(epoch, e->epoch))
		return;
	e->epoch = epoch;
	e->jump_ep = 0;
	elect_event(e, RPW_EV_EPOCH_CHANGED, RPW_EPOCH_OWNER(epoch), epoch);
}

static void elect_set_primary(struct rpw_elect *e, u8 addr)
{
	if (e->primary == addr)
		return;
	e->primary = addr;
	if (addr != RPW_ADDR_NONE)
		elect_event(e, RPW_EV_PRIMARY_CHANGED, addr, e->epoch);
}

static void elect_arm_detect(struct rpw_elect *e)
{
	if (e->cfg.role == RACKPWR_ROLE_PSU) {
		e->state = RPW_ES_SECONDARY;
	} else if (e->primary == RPW_ADDR_NONE) {
		elect_set_timer(e, RPW_ELECT_NO_TIMER);
		return;
	}
	elect_set_timer(e, e->evidence + e->detect_ns);
}

/*
 * Heartbeats and takeover claims are urgent: J is about them.  A claim
 * after discovery and a re-announcement answer something many nodes
 * heard at once (a simultaneous start, a rival's claim): they take
 * ordinary turns, so the MAC's arbitration orders them instead of
 * letting every reaction collide in the same U-point.
 */
static void elect_send_claim(struct rpw_elect *e, u8 type,
			     enum rpw_elect_prio prio, u64 now)
{
	struct rpw_elect_hb *hb = &e->ring[e->ring_pos];
	u8 pos = e->ring_pos;

	e->ring_pos = (e->ring_pos + 1) % RPW_ELECT_RING;
	hb->sent = now;
	hb->seq = e->seq++;
	hb->used = true;
	hb->tx_ok = false;
	hb->slow = prio == RPW_ELECT_PRIO_NORMAL;
	hb->normal = hb->slow;
	hb->lease = e->cfg.lease_ns;
	hb->guard = e->cfg.guard_ns;
	if (!elect_send(e, type, RPW_ADDR_BCAST, hb->seq, e->epoch, prio, now))
		return;
	/*
	 * Refused (no queue room, no memory): a claim missing until the next
	 * heartbeat counts as a lost one at every secondary, and k + 1 of
	 * them in a row make a false failover.  Give back its ring entry and
	 * seq (nothing can acknowledge it) and try again soon; the caller
	 * arms the timer (elect_arm_primary()).
	 */
	hb->used = false;
	e->ring_pos = pos;
	e->seq--;
	e->resend = true;
}

/* Primary: the next heartbeat, or the retry of a refused claim first. */
static void elect_arm_primary(struct rpw_elect *e, u64 now)
{
	u64 t = e->hb_next;

	if (e->resend)
		t = min_t(u64, t, now + RPW_ELECT_RETRY_NS);
	elect_set_timer(e, t);
}

/*
 * Become primary in @epoch (ours): no lease and no heartbeat yet.  The
 * caller reports the events, then elect_claim_send() makes the claim.
 */
static void elect_claim_epoch(struct rpw_elect *e, u32 epoch, u64 now)
{
	e->epoch = epoch;
	e->epoch_at = now;
	e->jump_ep = 0;
	e->persisted_from = epoch;
	e->state = RPW_ES_PRIMARY;
	e->announced = false;
	e->primary = e->cfg.addr;
	elect_clear_lease(e);
	memset(e->ring, 0, sizeof(e->ring));
}

static void elect_claim_send(struct rpw_elect *e, enum rpw_elect_prio prio,
			     u64 now)
{
	e->hb_cur = e->cfg.hb_ns;
	e->hb_next = now + e->hb_cur;
	e->resend = false;
	elect_send_claim(e, RPW_T_PRIMARY, prio, now);
	e->next_reannounce = now + 2 * e->cfg.frame_ns;
	elect_arm_primary(e, now);
}

static void elect_promote(struct rpw_elect *e, enum rpw_elect_prio prio,
			  u64 now)
{
	/* Serial order: the term wraps past RPW_EPOCH_TERM_MAX to 1. */
	u32 term = (RPW_EPOCH_TERM(e->epoch) + 1) & RPW_EPOCH_TERM_MAX;

	elect_claim_epoch(e, RPW_EPOCH_MAKE(term ? term : 1, e->cfg.addr), now);
	e->stats.promotions++;
	elect_event(e, RPW_EV_PROMOTED, e->cfg.addr, e->epoch);
	elect_event(e, RPW_EV_EPOCH_CHANGED, e->cfg.addr, e->epoch);
	elect_claim_send(e, prio, now);
}

/*
 * Primary: a claim in our name in a later epoch, at most RPW_EPOCH_STEP
 * terms on, that we did not send (a forged one, or a module configured
 * with our address).  Every module that heard it follows "us" in that
 * epoch and takes our own heartbeats for stale ones; a two-module rack
 * then had two primaries a jump apart that neither could adopt.  Claim
 * the epoch as ours, with a new lease: the forger gained a bounded step.
 */
static void elect_reclaim(struct rpw_elect *e, u32 ep, u64 now)
{
	if (rpw_epoch_terms(ep, e->epoch) > RPW_EPOCH_STEP)
		return;
	elect_claim_epoch(e, ep, now);
	elect_event(e, RPW_EV_EPOCH_CHANGED, e->cfg.addr, e->epoch);
	elect_claim_send(e, RPW_ELECT_PRIO_URGENT, now);
}

static void elect_demote(struct rpw_elect *e, u8 winner, u32 epoch)
{
	e->state = RPW_ES_SECONDARY;
	e->primary = RPW_ADDR_NONE;
	elect_clear_lease(e);
	e->stats.demotions++;
	elect_event(e, RPW_EV_DEMOTED, winner, epoch);
}

/* The primary is gone (@lost): wait for our address-ranked slot. */
static void elect_takeover(struct rpw_elect *e, u8 lost, u64 now)
{
	unsigned int m, rank;

	if (lost != RPW_ADDR_NONE)
		elect_member_del(e, lost);
	elect_members(e, RPW_ADDR_NONE, &m, &rank);
	if (now < e->yield_until)
		rank += m;
	if (!rank) {
		elect_promote(e, RPW_ELECT_PRIO_URGENT, now);
		return;
	}
	e->state = RPW_ES_TAKEOVER;
	elect_set_timer(e, now + rank * e->cfg.slot_ns);
}

/* Follow @src, which claims @epoch (not lower than ours). */
static void elect_follow(struct rpw_elect *e, u8 src, u32 epoch, u16 lease_ms,
			 u64 now)
{
	u64 adv = (u64)lease_ms * NSEC_MS;
	u64 need = adv + 2 * elect_drift(&e->cfg, adv) + 1;

	if (e->primary != src && e->primary != RPW_ADDR_NONE &&
	    e->primary != e->cfg.addr)
		elect_fence_rival(e, e->fence_primary, RPW_ADDR_NONE);
	e->fence_primary = elect_fence_of(e, lease_ms, now);
	if (epoch != e->epoch)
		e->epoch_at = now;
	elect_raise_epoch(e, epoch);
	if (src != e->cfg.addr) {
		e->anchored = true;
		elect_known_add(e, src);
	}
	/* The rack moved on: a persistent claimer's one term counts anew. */
	if (src != e->persisted && epoch != e->persisted_from)
		e->persisted_from = epoch;
	elect_set_primary(e, src);
	e->evidence = now;
	/* A primary configured with a longer lease must not be overtaken. */
	e->detect_ns = max_t(u64, e->cfg.detect_ns, need);
	elect_arm_detect(e);
}

static void elect_dup(struct rpw_elect *e, u64 now)
{
	e->stats.dup_addr++;
	if (now < e->next_dup)
		return;
	e->next_dup = now + e->cfg.member_ns;
	elect_event(e, RPW_EV_DUP_ADDR, e->cfg.addr, e->epoch);
}

/*
 * Tell a node that claims a stale epoch which epoch we know.  Only while we
 * follow nobody: a live primary's next heartbeat (or its re-announcement)
 * demotes the stale claimer anyway, and on a bus of many modules every
 * listener teaching every stale claim saturates the line.
 */
static void elect_teach(struct rpw_elect *e, u8 dst, u64 now)
{
	if (e->primary != RPW_ADDR_NONE || now < e->next_teach ||
	    elect_tx_busy(e, false, now) || elect_tx_slow(e, now))
		return;
	e->next_teach = now + 4 * e->cfg.hb_ns;
	elect_send(e, RPW_T_WHO_PRIMARY, dst, 0, e->epoch, RPW_ELECT_PRIO_NORMAL,
		   now);
}

/*
 * Answer a WHO_PRIMARY or a rival claim: one broadcast answers every asker
 * and every rival, so none while our previous claims still wait for the bus
 * (a burst of questions or stale claims from a simultaneous start of many
 * modules otherwise queued one announcement per question).
 */
static void elect_announce(struct rpw_elect *e, u64 now)
{
	if (now < e->next_reannounce || elect_tx_busy(e, true, now) ||
	    elect_tx_slow(e, now))
		return;
	e->next_reannounce = now + 2 * e->cfg.frame_ns;
	elect_send_claim(e, RPW_T_PRIMARY, RPW_ELECT_PRIO_NORMAL, now);
	if (e->resend)
		elect_arm_primary(e, now);
}

/* A 32-bit integer hash (lowbias32): independent picks per claim. */
static u32 elect_mix(u32 x)
{
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	return x;
}

static void elect_maybe_ack(struct rpw_elect *e, const struct rpw_frame *f,
			    u64 now)
{
	enum rpw_elect_prio prio = RPW_ELECT_PRIO_URGENT;
	u8 acker = elect_claim(f)->acker;
	u64 last = e->last_ack;

	/*
	 * The named secondary answers.  One the primary does not know yet
	 * (its WHO_PRIMARY was lost) would never be named: once per
	 * membership window it answers unnamed, after the named one.  Every
	 * module whose window ran out together (those that started together,
	 * or all of them when a new primary names others first) would answer
	 * the same claim and collide, and again one window later: each one
	 * answers one claim in RPW_ELECT_SPREAD, picked by its nonce, or in
	 * half the modules it knows: 200 modules that answered one claim in
	 * four (or every claim that named nobody) kept colliding with the
	 * primary's heartbeats until it lost its lease.
	 */
	if (acker != e->cfg.addr) {
		unsigned int m, rank, spread;

		if (now - e->last_ack < e->member_win)
			return;
		elect_members(e, RPW_ADDR_NONE, &m, &rank);
		spread = max_t(unsigned int, RPW_ELECT_SPREAD, m / 2);
		if ((acker != RPW_ADDR_NONE || m > RPW_ELECT_SPREAD) &&
		    elect_mix(e->cfg.nonce ^ f->seq) % spread)
			return;
		prio = RPW_ELECT_PRIO_DEFER;
	}
	if (elect_tx_busy(e, false, now))
		return;
	e->acked_seq = f->seq;
	e->last_ack = now;
	/* Refused: not an answer given, so the next claim gets one. */
	if (elect_send(e, RPW_T_HEARTBEAT_ACK, RPW_ADDR_BCAST, f->seq,
		       e->epoch, prio, now))
		e->last_ack = last;
}

/*
 * Epoch adoption (rackpwr-election.rst, "Epoch adoption"): only a claim
 * from the epoch's owner raises our epoch, and only if the owner is a
 * module heard before this frame (@member) and the claim is at most
 * RPW_EPOCH_STEP terms ahead.  A farther jump is adopted once a second
 * member acknowledged the same epoch (a module that missed many
 * failovers, a partition healing), or while we have followed nobody
 * since we started (a module joining a rack, the taught lone primary).  Any
 * other frame in a later epoch is not evidence of anything: the owner's
 * next claim will be.  So one forged frame, or frames from an address
 * that never took part, move no epoch and demote no primary.
 */
static bool elect_may_adopt(struct rpw_elect *e, u32 ep, bool member,
			    u64 now)
{
	if (!rpw_epoch_after(ep, e->epoch))
		return false;
	if (!e->anchored)
		return true;
	/*
	 * A rival in the same term within a detection time of our epoch's
	 * start: simultaneous claims, the highest address wins at once.
	 */
	if (!member && (RPW_EPOCH_TERM(ep) != RPW_EPOCH_TERM(e->epoch) ||
			now - e->epoch_at >= e->detect_ns))
		return false;
	/*
	 * A member only by persistence (elect_rx_claim()), never known
	 * before, is a module that started in a partition or a babbler: the
	 * babbler of elect_sim --adversary moved the rack 12 terms with one
	 * frame repeated for a detection time.  More than one term from our
	 * epoch when it became a member, in all (a babbler followed one
	 * term on could otherwise step one term per claim), takes a second
	 * address that acknowledged one of its claims.
	 */
	if (RPW_EPOCH_OWNER(ep) == e->persisted && e->persisted_ack != ep &&
	    (rpw_epoch_terms(ep, e->epoch) > 1 ||
	     rpw_epoch_terms(ep, e->persisted_from) > 1))
		return false;
	if (rpw_epoch_terms(ep, e->epoch) <= RPW_EPOCH_STEP)
		return true;
	if (e->jump_ep != ep) {
		e->jump_ep = ep;
		e->jump_acked = false;
	}
	e->jump_claimed = true;
	return e->jump_acked;
}

/* An acknowledgment of a far later epoch by another member: recorded. */
static void elect_jump_ack(struct rpw_elect *e, const struct rpw_frame *f,
			   u32 ep, bool member)
{
	if (!member || f->src == RPW_EPOCH_OWNER(ep) ||
	    !rpw_epoch_after(ep, e->epoch) ||
	    rpw_epoch_terms(ep, e->epoch) <= RPW_EPOCH_STEP)
		return;
	if (e->jump_ep != ep) {
		e->jump_ep = ep;
		e->jump_claimed = false;
	}
	e->jump_acked = true;
}

static bool elect_is_member_addr(const struct rpw_elect *e, u8 a)
{
	return a >= RPW_ADDR_MIN && a <= RPW_ADDR_MAX && elect_is_member(e, a);
}

/*
 * Outvoted: our epoch is later than the claim @ep of a member, which
 * another member acknowledged within a detection time; we have followed
 * nobody and held our epoch for a detection time, no lease we know of may
 * still run, and we claim nothing (a claimer's peers answer its claims).
 * Then nobody else holds our epoch (all power-supply modules restarted
 * while a chassis module kept it, or a forged epoch reached us while we
 * joined): keeping it would make us refuse the rack's primary forever.
 * Takes two addresses and a detection time of silence.  Rival fences
 * stay: they keep us from acting, not from following.
 */
static bool elect_outvoted(const struct rpw_elect *e, u32 ep, bool member,
			   u64 now)
{
	if (!member || e->outvote_ep != ep || now - e->outvote_at >
	    e->detect_ns || now - e->epoch_at < e->detect_ns ||
	    now < e->fence_primary)
		return false;
	/*
	 * A primary that does not act and that no peer acknowledged for a
	 * membership window (a start race settles sooner): the lone primary
	 * of a partition that failed over more than once, which the rack
	 * does not adopt from a member only by persistence
	 * (elect_may_adopt()).
	 */
	if (e->state == RPW_ES_PRIMARY)
		return !e->acting && now - e->epoch_at >= e->member_win &&
		       now - e->peer_ack >= e->member_win;
	return now - e->evidence >= e->detect_ns &&
	       e->primary == RPW_ADDR_NONE;
}

/*
 * A rival we outrank leads the rack: we claim, our claim went out intact
 * a detection time ago or more, still no peer acknowledged this epoch,
 * and another member acknowledged the rival's earlier epoch
 * @ep within a detection time.  Nobody follows our epoch, so it fences
 * nothing.  (Sooner, it cost the winner of an ordinary race its term: the
 * rack was about to adopt our claim.)  Kept, it made a livelock (stack_sim --psu 30 --chassis
 * 30 --hold-ms 1000 --seed 18): our question was lost on the held line, the
 * rack took us for an unknown claimer that had to claim for a detection
 * time first, our heartbeats met the rival's, and we never yielded to
 * its lower epoch.  Takes a claim and another address's acknowledgment.
 */
static bool elect_unacked_rival(const struct rpw_elect *e, u32 ep,
				bool member, u64 now)
{
	return e->state == RPW_ES_PRIMARY && e->peer_ack < e->epoch_at &&
	       e->announced &&
	       now - e->announced_at >= e->detect_ns && member &&
	       e->outvote_ep == ep && now - e->outvote_at <= e->detect_ns;
}

static void elect_rx_claim(struct rpw_elect *e, const struct rpw_frame *f,
			   u32 ep, u64 now)
{
	/*
	 * A module we once followed or heard answering is one in the race
	 * even after its membership aged out: a primary alone in its view
	 * (its only peer lost and deleted) must yield to that peer's
	 * takeover claim before the claimer acts, or both act.
	 */
	bool member = elect_is_member_addr(e, f->src) ||
		      elect_is_known(e, f->src);

	u16 lease_ms = le16_to_cpu(elect_claim(f)->lease_ms);

	if (RPW_EPOCH_OWNER(ep) != f->src || !RPW_EPOCH_TERM(ep)) {
		e->stats.rx_bad++;
		return;
	}
	if (f->src == e->cfg.addr) {
		if (e->state == RPW_ES_PRIMARY && ep == e->epoch &&
		    elect_ring_find(e, f->seq))
			return;		/* our own echo */
		elect_dup(e, now);
		if (!rpw_epoch_after(ep, e->epoch))
			return;
		if (e->state == RPW_ES_PRIMARY) {
			elect_reclaim(e, ep, now);
			return;
		}
	}
	if (f->src != e->cfg.addr) {
		e->heard[e->heard_pos].at = now;
		e->heard[e->heard_pos].ep = ep;
		e->heard[e->heard_pos].seq = f->seq;
		e->heard_pos = (e->heard_pos + 1) % RPW_ELECT_HEARD;
	}
	if (rpw_epoch_after(e->epoch, ep) &&
	    (elect_outvoted(e, ep, member, now) ||
	     elect_unacked_rival(e, ep, member, now))) {
		/* Forget the epoch nobody else holds; join as if new. */
		if (e->state == RPW_ES_PRIMARY) {
			elect_event(e, RPW_EV_CONFLICT, f->src, ep);
			elect_demote(e, f->src, ep);
		}
		e->stats.rejoins++;
		e->epoch = 0;
		e->anchored = false;
		e->jump_ep = 0;
	}
	if (rpw_epoch_after(e->epoch, ep)) {
		elect_member_add(e, f->src);
		e->stats.rx_stale++;
		if (f->src != e->cfg.addr)
			elect_fence_rival(e, elect_fence_of(e, lease_ms, now),
					  f->src);
		if (e->state == RPW_ES_PRIMARY) {
			/* The winner re-announces so everyone re-points. */
			elect_event(e, RPW_EV_CONFLICT, f->src, ep);
			elect_announce(e, now);
		} else {
			elect_teach(e, f->src, now);
		}
		return;
	}
	if (ep != e->epoch && !elect_may_adopt(e, ep, member, now)) {
		/*
		 * While we follow nobody or claim without confirmation (a
		 * start, a failover: no peer acknowledged our epoch yet and
		 * we do not act) a claimer is a module in the race: its next
		 * claim may be adopted.  Under a live primary, and by one
		 * that was acknowledged (a lost ack may leave a gap in its
		 * lease), an unknown claimer must keep claiming for a
		 * detection time first (a partition healed): one frame, or a
		 * burst, never makes a member.
		 */
		if (e->cand != f->src || now - e->cand_last > e->detect_ns) {
			e->cand = f->src;
			e->cand_since = now;
		}
		e->cand_last = now;
		if (e->primary == RPW_ADDR_NONE ||
		    (e->state == RPW_ES_PRIMARY && e->peer_ack < e->epoch_at &&
		     !rpw_elect_is_primary(e, now))) {
			elect_member_add(e, f->src);
		} else if (now - e->cand_since >= e->detect_ns) {
			elect_member_add(e, f->src);
			if (!elect_is_known(e, f->src) &&
			    e->persisted != f->src) {
				e->persisted = f->src;
				e->persisted_from = e->epoch;
			}
		}
		/*
		 * Not followed, but it may be a primary acting on a lease
		 * (we were frozen while the rack failed over to a module we
		 * do not know): no takeover of ours may act before that
		 * lease ends.  A primary does not fence itself on it, or a
		 * babbler would keep it from acting as long as it babbles.
		 */
		if (e->state != RPW_ES_PRIMARY)
			elect_fence_rival(e, elect_fence_of(e, lease_ms, now),
					  f->src);
		e->stats.rx_unearned++;
		return;
	}
	elect_member_add(e, f->src);
	if (e->state == RPW_ES_PRIMARY) {
		/* ep > ours: we lost; ep == ours is impossible (owner). */
		elect_event(e, RPW_EV_CONFLICT, f->src, ep);
		elect_demote(e, f->src, ep);
	}
	elect_follow(e, f->src, ep, lease_ms, now);
	if (e->cfg.role == RACKPWR_ROLE_PSU)
		elect_maybe_ack(e, f, now);
}

/*
 * An acknowledgment in epoch @ep answers a claim we know: one of our own,
 * or one we heard from another node, at most an ack window ago (claims
 * and acks each reach us within J).
 */
static bool elect_ack_answers(struct rpw_elect *e, const struct rpw_frame *f,
			      u32 ep, u64 now)
{
	struct rpw_elect_hb *hb;
	unsigned int i;

	if (e->state == RPW_ES_PRIMARY && ep == e->epoch) {
		hb = elect_ring_find(e, f->seq);
		if (hb && now - hb->sent <= elect_ack_window(e))
			return true;
	}
	for (i = 0; i < RPW_ELECT_HEARD; i++)
		if (e->heard[i].at && e->heard[i].ep == ep &&
		    e->heard[i].seq == f->seq &&
		    now - e->heard[i].at <= elect_ack_window(e))
			return true;
	return false;
}

static void elect_rx_ack(struct rpw_elect *e, const struct rpw_frame *f,
			 u32 ep, u64 now)
{
	bool member = elect_is_member_addr(e, f->src);
	u64 d = elect_delay(&e->cfg);
	u8 owner = RPW_EPOCH_OWNER(ep);
	struct rpw_elect_hb *hb;

	if (f->src == e->cfg.addr || !RPW_EPOCH_TERM(ep))
		return;
	/*
	 * Only an acknowledgment that answers a claim we heard, in our epoch
	 * or a bounded step before it, makes a member: the primary names
	 * its members as ackers in turn and secondaries count them in their
	 * takeover slots, so a babbler of acknowledgments in made-up epochs
	 * (0xffffffff is a few terms before a young epoch in serial order)
	 * cost the primary its lease at every turn it was named.
	 */
	if ((ep == e->epoch || (rpw_epoch_after(e->epoch, ep) &&
				rpw_epoch_terms(e->epoch, ep) <= RPW_EPOCH_STEP)) &&
	    elect_ack_answers(e, f, ep, now)) {
		elect_member_add(e, f->src);
		elect_known_add(e, f->src);
	}
	if (rpw_epoch_after(e->epoch, ep)) {
		e->stats.rx_stale++;
		if (member && owner != f->src) {
			e->outvote_ep = ep;
			e->outvote_at = now;
		}
		return;
	}
	/*
	 * A member following a later epoch is evidence (its owner's claim
	 * may have collided here), within the claims' bound; far later
	 * ones only count towards confirming a jump (elect_may_adopt()).
	 */
	if (owner == e->persisted && owner != f->src &&
	    rpw_epoch_after(ep, e->epoch) && elect_ack_answers(e, f, ep, now))
		e->persisted_ack = ep;
	if (ep != e->epoch &&
	    (!member || owner == f->src || owner < RPW_ADDR_MIN ||
	     owner > RPW_ADDR_MAX ||
	     rpw_epoch_terms(ep, e->epoch) > RPW_EPOCH_STEP)) {
		elect_jump_ack(e, f, ep, member);
		e->stats.rx_unearned++;
		return;
	}
	if (ep == e->epoch)
		e->acked_seq = f->seq;
	if (e->state == RPW_ES_PRIMARY && ep == e->epoch) {
		/* The rival we waited for follows us now. */
		if (f->src == e->rival && e->fence_rival > now)
			e->fence_rival = now;
		hb = elect_ring_find(e, f->seq);
		if (hb && now - hb->sent <= elect_ack_window(e)) {
			e->stats.acks_ok++;
			/* A peer follows our epoch: it is the rack's. */
			e->anchored = true;
			e->peer_ack = now;
			elect_confirm(e, hb, now);
		} else {
			e->stats.acks_late++;
		}
		return;
	}
	if (e->state == RPW_ES_PRIMARY) {
		elect_event(e, RPW_EV_CONFLICT, owner, ep);
		elect_demote(e, owner, ep);
	}
	if (owner == e->cfg.addr)
		return;
	/*
	 * Someone follows @owner in @ep: it was alive when the acked claim
	 * was received, at most one delay before this ack.
	 */
	elect_raise_epoch(e, ep);
	elect_set_primary(e, owner);
	if (now > d && now - d > e->evidence)
		e->evidence = now - d;
	if (e->state != RPW_ES_PRIMARY)
		elect_arm_detect(e);
}

static void elect_rx_who(struct rpw_elect *e, const struct rpw_frame *f,
			 u32 ep, u64 now)
{
	if (f->src == e->cfg.addr)
		return;
	/*
	 * Only psu modules ask the whole bus, when they start and know no
	 * epoch (a teaching WHO_PRIMARY is unicast): count the asker, so
	 * that after a simultaneous start the secondaries agree whose turn
	 * it is to acknowledge (each one that knew only the winner answered
	 * at once, and all collided).
	 */
	if (f->dst == RPW_ADDR_BCAST && !ep)
		elect_member_add(e, f->src);
	if (rpw_epoch_after(ep, e->epoch)) {
		/*
		 * Only a teaching answer to our own stale claim tells us we
		 * are stale: unicast, to a primary no other module
		 * acknowledged for a detection time (a lone power-supply
		 * module taught by a chassis module), at most a bounded step
		 * ahead unless we followed nobody yet.  A real later epoch
		 * otherwise reaches us by its owner's claim.
		 */
		if (f->dst != e->cfg.addr || e->state != RPW_ES_PRIMARY ||
		    (e->peer_ack && now - e->peer_ack < e->detect_ns &&
		     RPW_EPOCH_TERM(ep) != RPW_EPOCH_TERM(e->epoch)) ||
		    (e->anchored &&
		     rpw_epoch_terms(ep, e->epoch) > RPW_EPOCH_STEP)) {
			e->stats.rx_unearned++;
			return;
		}
		if (e->state == RPW_ES_PRIMARY) {
			elect_event(e, RPW_EV_CONFLICT, RPW_EPOCH_OWNER(ep), ep);
			elect_demote(e, RPW_EPOCH_OWNER(ep), ep);
		}
		elect_raise_epoch(e, ep);
		e->primary = RPW_ADDR_NONE;
		e->evidence = now;
		elect_arm_detect(e);
		return;
	}
	if (e->state == RPW_ES_PRIMARY)
		elect_announce(e, now);
}

static void elect_rx_step(struct rpw_elect *e, const struct rpw_frame *f,
			  u32 ep, u64 now)
{
	if (f->src == e->cfg.addr || RPW_EPOCH_OWNER(ep) != f->src ||
	    !RPW_EPOCH_TERM(ep)) {
		e->stats.rx_bad++;
		return;
	}
	if (rpw_epoch_after(e->epoch, ep)) {
		e->stats.rx_stale++;
		return;
	}
	/* A hand-over of an epoch we never adopted proves nothing. */
	if (ep != e->epoch) {
		e->stats.rx_unearned++;
		return;
	}
	if (e->state == RPW_ES_PRIMARY)
		return;
	elect_event(e, RPW_EV_STEP_DOWN, f->src, ep);
	/* It stopped acting before it sent this: its lease is void. */
	if (e->primary == f->src)
		e->fence_primary = 0;
	e->primary = RPW_ADDR_NONE;
	e->evidence = now;
	if (e->cfg.role == RACKPWR_ROLE_PSU)
		elect_takeover(e, f->src, now);
	else
		elect_arm_detect(e);
}

int rpw_elect_rx(struct rpw_elect *e, const struct rpw_frame *f, u64 now)
{
	u8 need;
	u32 ep;

	switch (f->type) {
	case RPW_T_PRIMARY:
	case RPW_T_HEARTBEAT:
		need = RPW_ELECT_CLAIM_LEN;
		break;
	case RPW_T_WHO_PRIMARY:
	case RPW_T_HEARTBEAT_ACK:
	case RPW_T_STEP_DOWN:
		need = RPW_ELECT_EPOCH_LEN;
		break;
	default:
		return -ENOENT;
	}
	if (f->len != need || f->src < RPW_ADDR_MIN || f->src > RPW_ADDR_MAX) {
		e->stats.rx_bad++;
		return -EPROTO;
	}
	if (e->state == RPW_ES_IDLE || e->state == RPW_ES_STOPPED)
		return 0;
	e->stats.rx++;
	ep = elect_frame_epoch(f);
	elect_member_age(e, now);
	switch (f->type) {
	case RPW_T_PRIMARY:
	case RPW_T_HEARTBEAT:
		elect_rx_claim(e, f, ep, now);
		break;
	case RPW_T_HEARTBEAT_ACK:
		elect_rx_ack(e, f, ep, now);
		break;
	case RPW_T_WHO_PRIMARY:
		elect_rx_who(e, f, ep, now);
		break;
	default:
		elect_rx_step(e, f, ep, now);
		break;
	}
	elect_check_lease(e, now);
	return 0;
}

/* Which count a transmission result belongs to (see elect_send()). */
static void elect_tx_count_done(struct rpw_elect *e, const struct rpw_frame *f)
{
	struct rpw_elect_hb *hb = NULL;
	bool slow;

	if (f->type == RPW_T_WHO_PRIMARY) {
		if (e->txq_slow)
			e->txq_slow--;
		return;
	}
	if (f->len == RPW_ELECT_CLAIM_LEN && elect_frame_epoch(f) == e->epoch)
		hb = elect_ring_find(e, f->seq);
	if (f->len == RPW_ELECT_CLAIM_LEN)
		slow = hb ? hb->normal : e->txq_slow && !e->txq_claims;
	else
		slow = false;
	if (slow && e->txq_slow)
		e->txq_slow--;
	else if (f->len == RPW_ELECT_CLAIM_LEN && e->txq_claims)
		e->txq_claims--;
	else if (f->len == RPW_ELECT_EPOCH_LEN && f->type != RPW_T_STEP_DOWN &&
		 e->txq_other)
		e->txq_other--;
}

void rpw_elect_tx_done(struct rpw_elect *e, const struct rpw_frame *f,
		       bool ok, u64 now)
{
	struct rpw_elect_hb *hb;

	if (f->src == e->cfg.addr) {
		elect_tx_count_done(e, f);
		e->txq_since = now;
	}
	if (e->state != RPW_ES_PRIMARY || f->src != e->cfg.addr ||
	    (f->type != RPW_T_PRIMARY && f->type != RPW_T_HEARTBEAT) ||
	    f->len != RPW_ELECT_CLAIM_LEN || elect_frame_epoch(f) != e->epoch)
		return;
	hb = elect_ring_find(e, f->seq);
	if (!hb)
		return;
	hb->tx_ok = ok;
	if (now - hb->sent > elect_delay(&e->cfg))
		hb->slow = true;
	if (ok)
		elect_announced(e, now);
	elect_member_age(e, now);
	/*
	 * With no other psu node heard for a whole membership window nobody
	 * can acknowledge; a frame read back intact from the bus reached
	 * every connected node, which is what an ack would have proven.
	 */
	if (ok && elect_alone(e) && now - hb->sent <= elect_ack_window(e))
		elect_confirm(e, hb, now);
	elect_check_lease(e, now);
}

/*
 * Primary timer: a heartbeat is due (hb_next), or a claim that send()
 * refused is retried before it.
 */
static void elect_primary_timer(struct rpw_elect *e, u64 now)
{
	bool tick = now >= e->hb_next;

	if (tick || e->resend) {
		e->resend = false;
		/*
		 * Heartbeats only after the claim went out: queued behind
		 * it they told nobody anything new, and once it was out they
		 * kept the urgent ones waiting (the backlog limit) until the
		 * secondaries took the silence for a loss.  A claim that was
		 * lost is repeated instead.
		 */
		if (e->announced) {
			if (!elect_tx_busy(e, true, now))
				elect_send_claim(e, RPW_T_HEARTBEAT,
						 RPW_ELECT_PRIO_URGENT, now);
		} else if (!elect_tx_busy(e, true, now) && !e->txq_claims &&
			   !elect_tx_slow(e, now)) {
			elect_send_claim(e, RPW_T_PRIMARY,
					 RPW_ELECT_PRIO_NORMAL, now);
		}
	}
	if (tick) {
		e->hb_next += e->hb_cur;
		if (e->hb_next <= now)
			e->hb_next = now + e->hb_cur;
	}
	elect_arm_primary(e, now);
	elect_check_lease(e, now);
}

/*
 * Measured lateness: a timer of ours fired @late after its time.  With
 * tol_max set the tolerance is the configured one doubled until it
 * covers twice the largest lateness of the last one or two windows (up
 * to tol_max; doublings keep re-derivations few), and every timer is
 * derived anew.  A lower tolerance (and a shorter T_h) applies at once: a
 * lease window counts from the lease and guard of the claim that earned it
 * (a new, longer guard with an old lease left gaps: lease lost).  A longer T_h
 * waits (hb_cur) until a claim advertising the new, longer lease is
 * confirmed: the secondaries' detection covers the lease they heard last
 * (elect_follow()), and a heartbeat period beyond it would look like a
 * lost primary.  A setting that does not validate (an explicit T_h too
 * short for the tolerance) is not taken: the current one stays.
 */
static void elect_late(struct rpw_elect *e, u64 late, u64 now)
{
	u64 want = max_t(u64, e->base.tol_ns, NSEC_MS);
	struct rpw_elect_cfg c;
	u64 m;

	if (!e->base.tol_max_ns)
		return;
	if (now >= e->late_rotate) {
		/* No rotation for a whole window: both windows are over. */
		e->late_prev = now - e->late_rotate < RPW_ELECT_LATE_WIN_NS ?
			       e->late_cur : 0;
		e->late_cur = 0;
		e->late_rotate = now + RPW_ELECT_LATE_WIN_NS;
	}
	e->late_cur = max_t(u64, e->late_cur, late);
	m = rpw_elect_lateness(e);
	while (want < 2 * m && want < e->base.tol_max_ns)
		want *= 2;
	want = min_t(u64, want, e->base.tol_max_ns);
	want = max_t(u64, want, e->base.tol_ns);
	if (want == e->cfg.tol_ns)
		return;
	elect_cfg_tune(&c, &e->base, want);
	if (rpw_elect_cfg_validate(&c, NULL))
		return;
	e->cfg = c;
	e->hb_cur = min_t(u64, e->hb_cur, c.hb_ns);
	e->stats.tol_changes++;
}

u64 rpw_elect_lease_until(const u64 *start, const u64 *end, unsigned int n,
			  u64 now)
{
	unsigned int i;
	u64 e = 0;

	for (i = 0; i < n; i++)
		if (now >= start[i] && now < end[i] && end[i] > e)
			e = end[i];
	for (i = 0; e && i < n; i++)
		if (start[i] <= e && end[i] > e)
			e = end[i];
	return e;
}

u64 rpw_elect_lease_end(const struct rpw_elect *e, u64 now)
{
	u64 st[2] = { 0 }, end[2] = { 0 };
	unsigned int w;

	for (w = 0; w < 2; w++)
		rpw_elect_lease(e, w, &st[w], &end[w]);
	return rpw_elect_lease_until(st, end, 2, now);
}

void rpw_elect_timer_expired(struct rpw_elect *e, u64 now)
{
	u64 exp = e->timer;
	bool late;
	u8 lost;

	if (exp == RPW_ELECT_NO_TIMER || now < exp)
		return;
	e->timer = RPW_ELECT_NO_TIMER;
	/*
	 * A timer that runs late means this node was stalled: what it knows
	 * is stale, so it re-validates (listens again) instead of acting on
	 * a timeout that may be its own fault.
	 */
	late = now - exp > e->cfg.tol_ns;
	if (late) {
		e->stats.stalls++;
		elect_event(e, RPW_EV_STALL, e->cfg.addr, e->epoch);
	}
	elect_late(e, now - exp, now);
	elect_member_age(e, now);
	switch (e->state) {
	case RPW_ES_DISCOVER:
		if (late)
			elect_set_timer(e, now + e->cfg.initial_ns);
		else
			elect_promote(e, RPW_ELECT_PRIO_NORMAL, now);
		break;
	case RPW_ES_SECONDARY:
	case RPW_ES_FOLLOWER:
		if (late) {
			e->evidence = now;
			elect_arm_detect(e);
			break;
		}
		lost = e->primary;
		if (lost != RPW_ADDR_NONE)
			elect_event(e, RPW_EV_PRIMARY_LOST, lost, e->epoch);
		e->primary = RPW_ADDR_NONE;
		e->detect_ns = e->cfg.detect_ns;
		if (e->state == RPW_ES_SECONDARY)
			elect_takeover(e, lost, now);
		break;
	case RPW_ES_TAKEOVER:
		if (late) {
			e->evidence = now;
			elect_arm_detect(e);
		} else {
			elect_promote(e, RPW_ELECT_PRIO_URGENT, now);
		}
		break;
	case RPW_ES_PRIMARY:
		elect_primary_timer(e, now);
		break;
	default:
		break;
	}
}

int rpw_elect_init(struct rpw_elect *e, const struct rpw_elect_cfg *cfg,
		   const struct rpw_elect_ops *ops, void *ctx)
{
	memset(e, 0, sizeof(*e));
	e->cfg = *cfg;
	rpw_elect_cfg_derive(&e->cfg);
	if (rpw_elect_cfg_validate(&e->cfg, NULL) || !ops || !ops->send ||
	    !ops->timer)
		return -EINVAL;
	e->ops = ops;
	e->ctx = ctx;
	e->state = RPW_ES_IDLE;
	e->primary = RPW_ADDR_NONE;
	e->timer = RPW_ELECT_NO_TIMER;
	e->detect_ns = e->cfg.detect_ns;
	e->base = e->cfg;
	e->hb_cur = e->cfg.hb_ns;
	return 0;
}

void rpw_elect_start(struct rpw_elect *e, u64 now)
{
	u64 l = e->cfg.lease_ns;

	e->member_win = e->cfg.member_ns;
	e->member_rotate = now + e->member_win;
	e->late_rotate = now + RPW_ELECT_LATE_WIN_NS;
	/* Our WHO_PRIMARY introduces us; answer unnamed only a window on. */
	e->last_ack = now;
	e->evidence = now;
	/*
	 * A primary may hold a lease from a frame sent before we listened;
	 * its later frames reach us before it acts on them (guard), so one
	 * lease time of listening is enough before we may act ourselves.
	 */
	e->act_after = now + l + 2 * elect_drift(&e->cfg, l) + e->cfg.tol_ns;
	if (e->cfg.role == RACKPWR_ROLE_CHASSIS) {
		e->state = RPW_ES_FOLLOWER;
		elect_set_timer(e, RPW_ELECT_NO_TIMER);
		return;
	}
	e->state = RPW_ES_DISCOVER;
	elect_send(e, RPW_T_WHO_PRIMARY, RPW_ADDR_BCAST, 0, e->epoch,
		   RPW_ELECT_PRIO_NORMAL, now);
	elect_set_timer(e, now + e->cfg.initial_ns);
}

int rpw_elect_step_down(struct rpw_elect *e, u64 now)
{
	if (e->state != RPW_ES_PRIMARY)
		return -EPERM;
	elect_send(e, RPW_T_STEP_DOWN, RPW_ADDR_BCAST, 0, e->epoch,
		   RPW_ELECT_PRIO_URGENT, now);
	elect_event(e, RPW_EV_STEP_DOWN, e->cfg.addr, e->epoch);
	elect_demote(e, RPW_ADDR_NONE, e->epoch);
	/* Let the others take over; come back only after all their slots. */
	e->yield_until = now + 2 * e->cfg.detect_ns;
	e->evidence = now;
	elect_arm_detect(e);
	return 0;
}

void rpw_elect_stop(struct rpw_elect *e, u64 now)
{
	if (e->state == RPW_ES_PRIMARY) {
		elect_send(e, RPW_T_STEP_DOWN, RPW_ADDR_BCAST, 0, e->epoch,
			   RPW_ELECT_PRIO_URGENT, now);
		elect_demote(e, RPW_ADDR_NONE, e->epoch);
	}
	(void)now;
	e->state = RPW_ES_STOPPED;
	e->primary = RPW_ADDR_NONE;
	elect_set_timer(e, RPW_ELECT_NO_TIMER);
}
