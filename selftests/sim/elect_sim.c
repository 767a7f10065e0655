// SPDX-License-Identifier: GPL-2.0-only
/*
 * rackpwr - deterministic simulator for the primary election.
 *
 * Runs the real driver/rpw_elect.c for N power-supply and M chassis nodes on
 * a message-level broadcast medium in virtual time.  Every random choice
 * comes from one PRNG seeded per scenario, so a seed reproduces exactly.
 *
 * Faults: frame loss (whole bus, or at one receiver), corruption (dropped;
 * the sender's read-back fails), duplication, delay and reordering within
 * the bound J + T_f, node crash and restart (a restarted node keeps
 * nothing, not even the epoch), frozen nodes (timers and receive stop, then
 * resume with stale state, queued frames delivered late), partitions that
 * heal, clock drift within the configured bound, timer lateness within tol,
 * send() refused (a full transmit queue: the frame never reaches the bus).
 *
 * Invariants, after every event:
 *  - at most one node acts as primary (is_primary() true) at any instant,
 *    except nodes in different partitions (or that already were primaries
 *    in different partitions when the partition healed, until they resolve);
 *    checked exactly on the lease intervals, not only at event instants;
 *  - at most one node is primary in any epoch;
 *  - a node's epoch never decreases (per incarnation);
 *  - a chassis node never follows anything but the owner of its epoch;
 *  - no duplicate-address event without duplicate addresses;
 *  - once faults stop, within rpw_elect_converge_bound(): exactly one
 *    primary, acting, and every live node follows it in its epoch.
 *
 * Usage: elect_sim --seeds N [--seed S] [--psu N] [--chassis M] [-v]
 *        elect_sim --bench [--runs R] [--psu N]   (--psu: that row only;
 *        each row is seeded on its own, so it prints the same numbers)
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rpw_elect.h"
#include "rpw_mac.h"

#define MS		1000000ULL
#define MAXN		96
#define QCAP		64

/* ---------------------------------------------------------------- PRNG */

static u64 rng_s;

static u64 rnd(void)
{
	u64 z = (rng_s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static u64 rnd_below(u64 n)
{
	return n ? rnd() % n : 0;
}

static double rnd_unit(void)
{
	return (double)(rnd() >> 11) / (double)(1ULL << 53);
}

static bool chance(double p)
{
	return p > 0 && rnd_unit() < p;
}

/* ---------------------------------------------------------------- model */

enum ev_kind { EV_RX, EV_TXDONE, EV_TIMER, EV_BOOT, EV_CRASH, EV_RESTART,
	       EV_FREEZE, EV_THAW, EV_PART, EV_HEAL, EV_STEPDOWN, EV_LOSS_ON,
	       EV_LOSS_OFF, EV_QUIET, EV_KILL_PRIMARY };

struct ev {
	u64 t;
	u64 id;
	u8 kind;
	u8 node;
	u8 ok;
	int inc;
	u64 gen;
	struct rpw_frame f;
};

struct qitem {
	u8 kind;		/* EV_RX or EV_TXDONE */
	u8 ok;
	struct rpw_frame f;
};

struct node {
	struct rpw_elect e;
	struct rpw_elect_cfg cfg;
	int idx;
	u8 addr;
	bool psu;
	bool alive;
	bool frozen;
	bool booted;
	int inc;
	u64 off;
	s64 ppb;
	u64 tgen;
	u64 tlocal;
	bool timer_held;	/* fired while frozen */
	int group;
	struct qitem q[QCAP];
	int qn;
	/* invariant state */
	u32 last_epoch;
	u32 rejoins;		/* e.stats.rejoins seen */
	bool in_primary;
	u32 stint_epoch;
	u64 stint_start;
	bool lease[2];
	u64 ls[2], le[2];	/* lease windows in real time */
};

enum delay_model { DM_FUZZ, DM_TYPICAL, DM_WORST };

struct sim {
	u64 seed;
	int n, n_psu;
	struct node nd[MAXN];
	struct ev *heap;
	size_t hn, hcap;
	u64 next_id;
	u64 now;
	u64 prev_check;
	/* medium */
	enum delay_model dm;
	u64 j, tf, proc_max, tol;
	double loss_g, loss_rx, dup, corrupt;
	double burst_loss;
	double refuse;		/* send() fails with -ENOBUFS */
	bool burst;
	bool dup_addrs;
	bool quiet;
	u64 t_quiet, t_end, last_heal, heal_grace;
	bool adversary;
	bool forged_rx;		/* the frame being received is forged */
	bool partitioned;
	/* epochs claimed: epoch -> node */
	u32 *ep_tab;
	int *ep_node;
	size_t ep_n, ep_cap;
	/* results */
	bool failed;
	char why[256];
	u64 events;
	u64 frames;
	int verbose;
	/* bench */
	bool bench;
	int bench_phase;	/* 0 boot, 1 failover */
	u64 conv_follow, conv_act;	/* first times (0 = not yet) */
	u64 kill_t;
	int killed;
	u32 killed_epoch;
	u64 fo_follow, fo_act;
};

static struct sim *S;

struct opts {
	u64 seed;
	u64 seeds;
	int psu, chassis;
	int verbose;
	bool bench;
	int runs;
	const char *mutate;
	bool adversary;
};

static const struct opts *O;

/* Message level only: no dependency on the codec (rpw_frame.c). */
static const char *tname(u8 t)
{
	switch (t) {
	case RPW_T_WHO_PRIMARY: return "WHO_PRIMARY";
	case RPW_T_PRIMARY: return "PRIMARY";
	case RPW_T_HEARTBEAT: return "HEARTBEAT";
	case RPW_T_HEARTBEAT_ACK: return "HB_ACK";
	case RPW_T_STEP_DOWN: return "STEP_DOWN";
	default: return "?";
	}
}

static void apply_mutation(struct node *n);

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;

	if (S->failed)
		return;
	S->failed = true;
	va_start(ap, fmt);
	vsnprintf(S->why, sizeof(S->why), fmt, ap);
	va_end(ap);
}

static void vlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void vlog(const char *fmt, ...)
{
	va_list ap;

	if (!S->verbose)
		return;
	printf("# %10.3f ms ", (double)S->now / 1e6);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* ------------------------------------------------------------ clocks */

static u64 local_of(const struct node *n, u64 real)
{
	__int128 d = (__int128)real * n->ppb / 1000000000;

	return (u64)((__int128)real + n->off + d);
}

/* Smallest real time whose local time is >= @l. */
static u64 real_of(const struct node *n, u64 l)
{
	__int128 x;
	u64 r;

	if (l <= local_of(n, 0))
		return 0;
	x = ((__int128)l - n->off) * 1000000000 / (1000000000 + n->ppb);
	r = x < 0 ? 0 : (u64)x;
	while (local_of(n, r) < l)
		r++;
	while (r && local_of(n, r - 1) >= l)
		r--;
	return r;
}

/* ------------------------------------------------------------ heap */

static bool ev_less(const struct ev *a, const struct ev *b)
{
	return a->t < b->t || (a->t == b->t && a->id < b->id);
}

static void push(struct ev *x)
{
	size_t i;

	if (S->hn == S->hcap) {
		S->hcap = S->hcap ? 2 * S->hcap : 1024;
		S->heap = realloc(S->heap, S->hcap * sizeof(*S->heap));
		if (!S->heap) {
			perror("realloc");
			exit(2);
		}
	}
	x->id = S->next_id++;
	i = S->hn++;
	while (i) {
		size_t p = (i - 1) / 2;

		if (!ev_less(x, &S->heap[p]))
			break;
		S->heap[i] = S->heap[p];
		i = p;
	}
	S->heap[i] = *x;
}

static void pop(struct ev *out)
{
	struct ev last;
	size_t i = 0;

	*out = S->heap[0];
	last = S->heap[--S->hn];
	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= S->hn)
			break;
		if (c + 1 < S->hn && ev_less(&S->heap[c + 1], &S->heap[c]))
			c++;
		if (!ev_less(&S->heap[c], &last))
			break;
		S->heap[i] = S->heap[c];
		i = c;
	}
	if (S->hn)
		S->heap[i] = last;
}

static void sched(u64 t, u8 kind, int node)
{
	struct ev x;

	memset(&x, 0, sizeof(x));
	x.t = t;
	x.kind = kind;
	x.node = (u8)node;
	push(&x);
}

/* ------------------------------------------------------------ medium */

static u64 access_delay(void)
{
	u64 amax = S->j > S->proc_max ? S->j - S->proc_max : 0;
	u64 mean = 2 * MS;

	switch (S->dm) {
	case DM_WORST:
		return rnd_below(amax + 1);
	case DM_TYPICAL:
		/* idle bus most of the time: exponential, capped at the bound */
		{
			double x = -(double)mean * __builtin_log(1 - rnd_unit());

			return x > (double)amax ? amax : (u64)x;
		}
	default:
		switch (rnd_below(4)) {
		case 0:
			return amax;
		case 1:
			return rnd_below(MS);
		default:
			return rnd_below(amax + 1);
		}
	}
}

static u64 proc_delay(void)
{
	if (S->dm == DM_TYPICAL)
		return rnd_below(S->proc_max / 4 + 1);
	if (S->dm == DM_FUZZ && chance(0.3))
		return S->proc_max;
	return rnd_below(S->proc_max + 1);
}

static void deliver_later(int to, const struct rpw_frame *f, u64 t)
{
	struct ev x;

	memset(&x, 0, sizeof(x));
	x.t = t;
	x.kind = EV_RX;
	x.node = (u8)to;
	x.inc = S->nd[to].inc;
	x.f = *f;
	push(&x);
}

/*
 * Claims and acks reach the bus within J (the MAC's urgent bound); a
 * question (WHO_PRIMARY) takes ordinary turns and may wait for a full
 * rotation of a busy bus: model up to 4 J.
 */
static int sim_send(void *ctx, const struct rpw_frame *f,
		    enum rpw_elect_prio prio, u64 ttl_ns)
{
	struct node *s = ctx;
	u64 a = access_delay() * (prio == RPW_ELECT_PRIO_NORMAL ?
				  1 + rnd_below(4) : 1);
	u64 wire = S->now + a + S->tf;
	double lg = S->burst ? S->burst_loss : S->loss_g;
	bool lost = chance(lg) || chance(S->corrupt);
	struct ev x;
	int i;

	/* Acks (the only frames with a ttl) reach the bus within J < ttl. */
	(void)ttl_ns;
	if (chance(S->refuse))
		return -ENOBUFS;
	S->frames++;
	if (S->verbose > 1)
		vlog("n%d(%u) tx %s dst %u seq %u ep %08x%s", s->idx, s->addr,
		     tname(f->type), f->dst, f->seq,
		     get_unaligned_le32(f->payload), lost ? " LOST" : "");
	memset(&x, 0, sizeof(x));
	x.t = wire;
	x.kind = EV_TXDONE;
	x.node = (u8)s->idx;
	x.inc = s->inc;
	x.ok = !lost;
	x.f = *f;
	push(&x);
	if (lost)
		return 0;
	for (i = 0; i < S->n; i++) {
		struct node *r = &S->nd[i];

		if (r == s || !r->alive || r->group != s->group)
			continue;
		if (f->dst != RPW_ADDR_BCAST && f->dst != r->addr)
			continue;
		if (chance(S->loss_rx))
			continue;
		deliver_later(i, f, wire + proc_delay());
		if (chance(S->dup))
			deliver_later(i, f, wire + proc_delay());
	}
	return 0;
}

static void sim_timer(void *ctx, u64 expires)
{
	struct node *n = ctx;
	struct ev x;
	u64 t;

	n->tgen++;
	n->tlocal = expires;
	n->timer_held = false;
	if (expires == RPW_ELECT_NO_TIMER)
		return;
	t = real_of(n, expires);
	if (t < S->now)
		t = S->now;
	/* hrtimer/scheduling lateness, inside the configured tolerance */
	if (S->dm == DM_FUZZ)
		t += rnd_below(S->tol * 9 / 10);
	memset(&x, 0, sizeof(x));
	x.t = t;
	x.kind = EV_TIMER;
	x.node = (u8)n->idx;
	x.inc = n->inc;
	x.gen = n->tgen;
	if (S->verbose > 2)
		vlog("n%d arm timer local %llu real %llu off %llu ppb %lld", n->idx, (unsigned long long)expires, (unsigned long long)t, (unsigned long long)n->off, (long long)n->ppb);
	push(&x);
}

static void sim_event(void *ctx, enum rpw_elect_event ev, u8 addr, u32 epoch)
{
	struct node *n = ctx;

	if (S->verbose)
		vlog("n%d(%u) event %s addr %u epoch %08x", n->idx, n->addr,
		     rpw_elect_event_name(ev), addr, epoch);
	/* A forged frame in a member's name is reported, rightly. */
	if (ev == RPW_EV_DUP_ADDR && !S->dup_addrs && !S->adversary)
		fail("n%d(%u): dup_addr event without duplicate addresses",
		     n->idx, n->addr);
}

static const struct rpw_elect_ops sim_ops = {
	.send = sim_send,
	.timer = sim_timer,
	.event = sim_event,
};

/* ------------------------------------------------------------ checks */

static void note_epoch(struct node *n, u32 ep)
{
	size_t i;

	for (i = 0; i < S->ep_n; i++) {
		if (S->ep_tab[i] != ep)
			continue;
		if (S->ep_node[i] != n->idx)
			fail("epoch %08x claimed by n%d and n%d", ep,
			     S->ep_node[i], n->idx);
		return;
	}
	if (S->ep_n == S->ep_cap) {
		S->ep_cap = S->ep_cap ? 2 * S->ep_cap : 64;
		S->ep_tab = realloc(S->ep_tab, S->ep_cap * sizeof(u32));
		S->ep_node = realloc(S->ep_node, S->ep_cap * sizeof(int));
		if (!S->ep_tab || !S->ep_node)
			exit(2);
	}
	S->ep_tab[S->ep_n] = ep;
	S->ep_node[S->ep_n++] = n->idx;
}

/* After @n processed something at S->now. */
static void check_node(struct node *n)
{
	struct rpw_elect *e = &n->e;
	u32 ep = rpw_elect_epoch(e);
	unsigned int i;
	u64 ls, le;

	if (O && O->mutate && (!strcmp(O->mutate, "nofence") ||
			       !strcmp(O->mutate, "detect"))) {
		e->act_after = 0;
		e->fence_primary = 0;
		e->fence_rival = 0;
		if (!strcmp(O->mutate, "detect"))
			e->detect_ns = e->cfg.detect_ns;
	}
	/* An outvoted node forgets its epoch: a new incarnation of its view. */
	if (e->stats.rejoins != n->rejoins) {
		n->rejoins = e->stats.rejoins;
		n->last_epoch = 0;
	}
	if (rpw_epoch_after(n->last_epoch, ep))
		fail("n%d(%u): epoch went back %08x -> %08x", n->idx, n->addr,
		     n->last_epoch, ep);
	n->last_epoch = ep;
	if (!n->psu) {
		u8 p = rpw_elect_primary(e);

		if (p != RPW_ADDR_NONE && p != RPW_EPOCH_OWNER(ep))
			fail("chassis n%d follows %u in epoch %08x", n->idx, p,
			     ep);
	}
	if (rpw_elect_state(e) == RPW_ES_PRIMARY) {
		if (!n->in_primary || n->stint_epoch != ep) {
			n->in_primary = true;
			n->stint_epoch = ep;
			n->stint_start = S->now;
			note_epoch(n, ep);
		}
	} else {
		n->in_primary = false;
	}
	for (i = 0; i < 2; i++) {
		n->lease[i] = false;
		if (rpw_elect_lease(e, i, &ls, &le)) {
			n->ls[i] = real_of(n, ls);
			n->le[i] = real_of(n, le);
			n->lease[i] = n->le[i] > n->ls[i];
		}
	}
}

static bool pair_exempt(const struct node *a, const struct node *b)
{
	if (a->group != b->group)
		return true;
	/*
	 * After a heal, claims made on information from the partition (a
	 * loss detected while cut off) may still be acted on for one more
	 * detection time and all slots: the partition caused them.
	 */
	return S->last_heal &&
	       a->stint_start < S->last_heal + S->heal_grace &&
	       b->stint_start < S->last_heal + S->heal_grace;
}

/*
 * Acting intervals between the previous check and @upto (at least the
 * instant of the previous check itself): states only change at events.
 */
static void check_overlap(u64 upto)
{
	u64 from = S->prev_check;
	int idx[2 * MAXN], w[2 * MAXN], k = 0, a, b;

	if (upto <= from)
		upto = from + 1;
	for (a = 0; a < S->n; a++) {
		struct node *n = &S->nd[a];
		int i;

		if (!n->alive || !n->in_primary)
			continue;
		for (i = 0; i < 2; i++)
			if (n->lease[i] && n->le[i] > from && n->ls[i] < upto) {
				idx[k] = a;
				w[k++] = i;
			}
	}
	for (a = 0; a < k; a++)
		for (b = a + 1; b < k; b++) {
			struct node *x = &S->nd[idx[a]], *y = &S->nd[idx[b]];
			u64 s = x->ls[w[a]] > y->ls[w[b]] ? x->ls[w[a]] :
							    y->ls[w[b]];
			u64 t = x->le[w[a]] < y->le[w[b]] ? x->le[w[a]] :
							    y->le[w[b]];

			if (x == y)
				continue;
			if (s < from)
				s = from;
			if (t > upto)
				t = upto;
			if (s < t && !pair_exempt(x, y))
				fail("two acting primaries at %.3f ms: n%d(%u) ep %08x and n%d(%u) ep %08x",
				     (double)s / 1e6, x->idx, x->addr,
				     x->stint_epoch, y->idx, y->addr,
				     y->stint_epoch);
		}
	S->prev_check = upto > S->now ? S->now : upto;
}

/* Exactly one primary, acting, everyone follows it. */
static int converged(bool need_act, u32 min_epoch)
{
	int a, p = -1;
	u32 ep;

	for (a = 0; a < S->n; a++) {
		struct node *n = &S->nd[a];

		if (!n->alive || !n->booted || !n->psu)
			continue;
		if (rpw_elect_state(&n->e) == RPW_ES_PRIMARY) {
			if (p >= 0)
				return -1;
			p = a;
		}
	}
	if (p < 0)
		return -1;
	ep = rpw_elect_epoch(&S->nd[p].e);
	if (ep < min_epoch)
		return -1;
	if (need_act && !rpw_elect_is_primary(&S->nd[p].e,
					      local_of(&S->nd[p], S->now)))
		return -1;
	for (a = 0; a < S->n; a++) {
		struct node *n = &S->nd[a];

		if (!n->alive || !n->booted || a == p)
			continue;
		if (rpw_elect_primary(&n->e) != S->nd[p].addr ||
		    rpw_elect_epoch(&n->e) != ep)
			return -1;
	}
	return p;
}

/* ------------------------------------------------------------ nodes */

static void node_boot(struct node *n)
{
	n->alive = true;
	n->booted = true;
	n->frozen = false;
	n->qn = 0;
	n->inc++;
	n->tgen++;
	n->last_epoch = 0;
	n->in_primary = false;
	n->lease[0] = n->lease[1] = false;
	if (rpw_elect_init(&n->e, &n->cfg, &sim_ops, n)) {
		fail("n%d: config rejected", n->idx);
		return;
	}
	apply_mutation(n);
	vlog("n%d(%u) boot %s", n->idx, n->addr, n->psu ? "psu" : "chassis");
	rpw_elect_start(&n->e, local_of(n, S->now));
	check_node(n);
}

static void node_crash(struct node *n)
{
	vlog("n%d(%u) crash", n->idx, n->addr);
	n->alive = false;
	n->frozen = false;
	n->lease[0] = n->lease[1] = false;
	n->in_primary = false;
	n->qn = 0;
	n->tgen++;
}

static void node_rx(struct node *n, const struct rpw_frame *f)
{
	if (S->verbose > 1)
		vlog("n%d(%u) rx %s from %u seq %u ep %08x", n->idx, n->addr,
		     tname(f->type), f->src, f->seq,
		     get_unaligned_le32(f->payload));
	u32 before = rpw_elect_epoch(&n->e);
	u32 rejoins = n->e.stats.rejoins;

	rpw_elect_rx(&n->e, f, local_of(n, S->now));
	/* Adversary runs: no forged frame moves an anchored node's term far. */
	if (S->forged_rx && n->e.anchored && before &&
	    n->e.stats.rejoins == rejoins &&
	    rpw_epoch_terms(rpw_elect_epoch(&n->e), before) > RPW_EPOCH_STEP)
		fail("n%d(%u): %s from %u moved the epoch %08x -> %08x",
		     n->idx, n->addr, tname(f->type), f->src, before,
		     rpw_elect_epoch(&n->e));
	check_node(n);
}

static void node_txdone(struct node *n, const struct rpw_frame *f, bool ok)
{
	rpw_elect_tx_done(&n->e, f, ok, local_of(n, S->now));
	check_node(n);
}

static void node_timer(struct node *n)
{
	if (S->verbose > 1)
		vlog("n%d(%u) timer (%s)", n->idx, n->addr,
		     rpw_elect_state_name(rpw_elect_state(&n->e)));
	rpw_elect_timer_expired(&n->e, local_of(n, S->now));
	check_node(n);
}

static void node_thaw(struct node *n)
{
	bool timer_first = chance(0.5);
	int i;

	vlog("n%d(%u) thaw (%d queued%s)", n->idx, n->addr, n->qn,
	     n->timer_held ? ", timer" : "");
	n->frozen = false;
	if (timer_first && n->timer_held) {
		n->timer_held = false;
		node_timer(n);
		check_overlap(S->now);
	}
	for (i = 0; i < n->qn && n->alive; i++) {
		if (n->q[i].kind == EV_RX)
			node_rx(n, &n->q[i].f);
		else
			node_txdone(n, &n->q[i].f, n->q[i].ok);
		check_overlap(S->now);
	}
	n->qn = 0;
	if (n->timer_held) {
		n->timer_held = false;
		node_timer(n);
	}
}

static void enqueue(struct node *n, u8 kind, const struct rpw_frame *f,
		    bool ok)
{
	if (n->qn >= QCAP)
		return;		/* receive buffer overflow: lost */
	n->q[n->qn].kind = kind;
	n->q[n->qn].ok = ok;
	n->q[n->qn].f = *f;
	n->qn++;
}

static int find_primary(void)
{
	int a;

	for (a = 0; a < S->n; a++)
		if (S->nd[a].alive && S->nd[a].psu &&
		    rpw_elect_state(&S->nd[a].e) == RPW_ES_PRIMARY)
			return a;
	return -1;
}

/* ------------------------------------------------------------ run loop */

static void process(struct ev *x)
{
	struct node *n = &S->nd[x->node];
	int a;

	switch (x->kind) {
	case EV_RX:
	case EV_TXDONE:
		if (!n->alive || n->inc != x->inc)
			return;
		if (n->frozen) {
			enqueue(n, x->kind, &x->f, x->ok);
			return;
		}
		if (x->kind == EV_RX) {
			S->forged_rx = x->ok == 2;
			node_rx(n, &x->f);
			S->forged_rx = false;
		}
		else
			node_txdone(n, &x->f, x->ok);
		break;
	case EV_TIMER:
		if (S->verbose > 2)
			vlog("n%d timer ev alive %d inc %d/%d gen %llu/%llu",
			     n->idx, n->alive, n->inc, x->inc,
			     (unsigned long long)n->tgen,
			     (unsigned long long)x->gen);
		if (!n->alive || n->inc != x->inc || n->tgen != x->gen)
			return;
		if (n->frozen) {
			n->timer_held = true;
			return;
		}
		node_timer(n);
		break;
	case EV_BOOT:
	case EV_RESTART:
		if (!n->alive)
			node_boot(n);
		break;
	case EV_CRASH:
		if (n->alive && !S->quiet)
			node_crash(n);
		break;
	case EV_FREEZE:
		if (n->alive && !S->quiet) {
			vlog("n%d(%u) freeze", n->idx, n->addr);
			n->frozen = true;
		}
		break;
	case EV_THAW:
		if (n->alive && n->frozen)
			node_thaw(n);
		break;
	case EV_PART:
		if (S->quiet)
			break;
		/* A new cut while cut: the old sides meet, as in a heal. */
		if (S->partitioned)
			S->last_heal = S->now;
		for (a = 0; a < S->n; a++)
			S->nd[a].group = (int)rnd_below(2);
		S->partitioned = true;
		vlog("partition");
		break;
	case EV_HEAL:
		if (!S->partitioned)
			break;
		for (a = 0; a < S->n; a++)
			S->nd[a].group = 0;
		S->partitioned = false;
		S->last_heal = S->now;
		vlog("heal");
		break;
	case EV_STEPDOWN:
		a = find_primary();
		if (a >= 0 && !S->nd[a].frozen) {
			vlog("n%d step down", a);
			rpw_elect_step_down(&S->nd[a].e,
					    local_of(&S->nd[a], S->now));
			check_node(&S->nd[a]);
		}
		break;
	case EV_LOSS_ON:
		if (!S->quiet)
			S->burst = true;
		break;
	case EV_LOSS_OFF:
		S->burst = false;
		break;
	case EV_KILL_PRIMARY:
		a = find_primary();
		if (a >= 0 && !S->quiet) {
			S->killed = a;
			S->killed_epoch = rpw_elect_epoch(&S->nd[a].e);
			S->kill_t = S->now;
			node_crash(&S->nd[a]);
			S->bench_phase = 1;
		}
		break;
	case EV_QUIET:
		/* Faults stop: heal, thaw, clean medium. */
		S->quiet = true;
		S->burst = false;
		S->loss_g = S->loss_rx = S->dup = S->corrupt = 0;
		S->refuse = 0;
		if (S->partitioned) {
			for (a = 0; a < S->n; a++)
				S->nd[a].group = 0;
			S->partitioned = false;
			S->last_heal = S->now;
		}
		for (a = 0; a < S->n; a++)
			if (S->nd[a].alive && S->nd[a].frozen)
				node_thaw(&S->nd[a]);
		vlog("quiet");
		break;
	}
}

static void run_until(u64 t_end)
{
	struct ev x;

	while (S->hn && !S->failed) {
		if (S->heap[0].t > t_end)
			break;
		pop(&x);
		check_overlap(x.t);
		S->now = x.t;
		S->events++;
		process(&x);
		check_overlap(S->now);
		if (S->bench) {
			int p;

			if (S->bench_phase == 0) {
				if (!S->conv_follow && converged(false, 0) >= 0)
					S->conv_follow = S->now;
				if (!S->conv_act && converged(true, 0) >= 0)
					S->conv_act = S->now;
			} else {
				p = converged(false, S->killed_epoch + 1);
				if (!S->fo_follow && p >= 0)
					S->fo_follow = S->now;
				if (!S->fo_act &&
				    converged(true, S->killed_epoch + 1) >= 0)
					S->fo_act = S->now;
			}
		}
	}
	if (!S->failed) {
		check_overlap(t_end);
		S->now = t_end;
	}
}

/* ------------------------------------------------------------ scenarios */


static void sim_reset(struct sim *s)
{
	free(s->heap);
	free(s->ep_tab);
	free(s->ep_node);
	memset(s, 0, sizeof(*s));
}

static void pick_addrs(int n, bool dup)
{
	bool used[256] = { false };
	int i;

	for (i = 0; i < n; i++) {
		u8 a;

		do {
			a = (u8)(1 + rnd_below(RPW_ADDR_MAX));
		} while (used[a]);
		used[a] = true;
		S->nd[i].addr = a;
	}
	if (dup && n >= 2)
		S->nd[1].addr = S->nd[0].addr;
}

static void setup_nodes(int n_psu, int n_ch, const struct rpw_elect_cfg *base,
			u64 drift_ppb)
{
	int i;

	S->n = n_psu + n_ch;
	S->n_psu = n_psu;
	pick_addrs(S->n, S->dup_addrs);
	for (i = 0; i < S->n; i++) {
		struct node *n = &S->nd[i];

		n->idx = i;
		n->psu = i < n_psu;
		n->cfg = *base;
		n->cfg.addr = n->addr;
		n->cfg.role = n->psu ? RACKPWR_ROLE_PSU : RACKPWR_ROLE_CHASSIS;
		/* Random per module as in the kernel, without using the RNG. */
		n->cfg.nonce = (u32)((S->seed ^ (i + 1)) * 0x9e3779b97f4a7c15ULL >> 32);
		n->off = rnd_below(1000 * MS);
		n->ppb = drift_ppb ? (s64)rnd_below(2 * drift_ppb + 1) -
				     (s64)drift_ppb : 0;
	}
}

static void base_cfg(struct rpw_elect_cfg *c, u64 j, u64 hb, u8 miss)
{
	rpw_elect_cfg_default(c, 1, RACKPWR_ROLE_PSU);
	c->bus_delay_ns = j;
	c->hb_ns = hb;
	c->miss = miss;
	c->detect_ns = c->lease_ns = c->guard_ns = c->slot_ns = 0;
	c->initial_ns = 0;
	rpw_elect_cfg_derive(c);
	/* Raise k until the lease can be renewed without gaps. */
	while (rpw_elect_cfg_validate(c, NULL) && c->miss < 16) {
		c->miss++;
		c->detect_ns = c->lease_ns = c->slot_ns = 0;
		rpw_elect_cfg_derive(c);
	}
	if (c->member_ns < c->detect_ns)
		c->member_ns = 2 * c->detect_ns;
	if (c->member_ns < 8 * c->hb_ns)
		c->member_ns = 8 * c->hb_ns;
}

/* Weaken the implementation on purpose: the checker must notice. */
static void apply_mutation(struct node *n)
{
	if (!O || !O->mutate)
		return;
	if (!strcmp(O->mutate, "nofence"))
		n->e.cfg.lease_ns = 3 * n->e.cfg.detect_ns;
	else if (!strcmp(O->mutate, "guard"))
		n->e.cfg.guard_ns = 0;
	else if (!strcmp(O->mutate, "detect"))
		n->e.cfg.detect_ns = n->e.cfg.lease_ns / 2;
}

static const double loss_g_tab[] = { 0, 0.01, 0.05, 0.2 };
static const double loss_rx_tab[] = { 0, 0.001, 0.003 };
static const double dup_tab[] = { 0, 0.01, 0.1 };
static const double corrupt_tab[] = { 0, 0.01, 0.05 };
static const double refuse_tab[] = { 0, 0.02, 0.2 };
static const u64 spread_tab[] = { 2 * MS, 50 * MS, 500 * MS, 2000 * MS };
static const u64 freeze_tab[] = { 5 * MS, 60 * MS, 150 * MS, 600 * MS };

static int run_scenario(u64 seed, int verbose, char *summary, size_t slen)
{
	static struct sim sim;
	struct rpw_elect_cfg cfg;
	static const u64 js[] = { 2 * MS, 10 * MS, 25 * MS, 25 * MS, 40 * MS };
	static const u64 hbs[] = { 10 * MS, 20 * MS, 20 * MS, 40 * MS };
	int n_psu, n_ch, i, nf;
	u64 spread, t_f0, t_q, bound;
	bool clean, simultaneous, same_cfg = true;

	sim_reset(&sim);
	S = &sim;
	rng_s = seed * 0x2545f4914f6cdd1dULL + 0x1234567;
	S->seed = seed;
	S->verbose = verbose;
	S->dm = DM_FUZZ;

	n_psu = 1 + (int)rnd_below(chance(0.1) ? 16 : 6);
	n_ch = (int)rnd_below(6);
	if (O->psu > 0)
		n_psu = O->psu;
	if (O->chassis >= 0)
		n_ch = O->chassis;
	if (n_psu + n_ch > MAXN)
		n_ch = MAXN - n_psu;
	S->dup_addrs = false;

	base_cfg(&cfg, js[rnd_below(5)], hbs[rnd_below(4)],
		 (u8)(1 + rnd_below(3)));
	S->j = cfg.bus_delay_ns;
	S->tf = cfg.frame_ns;
	S->tol = cfg.tol_ns;
	S->proc_max = S->j / 4;
	setup_nodes(n_psu, n_ch, &cfg, (u64)cfg.drift_ppm * 1000);
	/* Sometimes one node runs a slower heartbeat / longer detection. */
	if (chance(0.1)) {
		struct node *n = &S->nd[rnd_below(n_psu)];

		same_cfg = false;
		base_cfg(&n->cfg, cfg.bus_delay_ns, cfg.hb_ns * 2,
			 (u8)(cfg.miss + 1));
		n->cfg.addr = n->addr;
		n->cfg.nonce = S->nd[0].cfg.nonce ^ n->addr;
		if (n->cfg.member_ns < cfg.member_ns)
			n->cfg.member_ns = cfg.member_ns;
		cfg.member_ns = n->cfg.member_ns;
		for (i = 0; i < S->n; i++)
			S->nd[i].cfg.member_ns = cfg.member_ns;
	}

	clean = chance(0.1);
	S->loss_g = clean ? 0 : loss_g_tab[rnd_below(4)];
	S->loss_rx = clean ? 0 : loss_rx_tab[rnd_below(3)];
	S->dup = clean ? 0 : dup_tab[rnd_below(3)];
	S->corrupt = clean ? 0 : corrupt_tab[rnd_below(3)];
	S->burst_loss = 0.5 + rnd_unit() / 2;
	S->refuse = clean ? 0 : refuse_tab[rnd_below(3)];

	/* Power-up. */
	simultaneous = chance(0.25);
	spread = simultaneous ? 0 :
		 spread_tab[rnd_below(4)];
	for (i = 0; i < S->n; i++)
		sched(rnd_below(spread + 1), EV_BOOT, i);

	/* Faults. */
	t_f0 = spread + 100 * MS;
	t_q = t_f0 + (clean ? 0 : 300 * MS + rnd_below(2700 * MS));
	nf = clean ? 0 : (int)rnd_below(10);
	for (i = 0; i < nf; i++) {
		u64 t = t_f0 + rnd_below(t_q - t_f0 + 1);
		int who = (int)rnd_below(S->n);
		u64 dur;

		switch (rnd_below(7)) {
		case 0:		/* crash; restart later or maybe never */
			sched(t, EV_CRASH, who);
			if (chance(0.7))
				sched(t + 60 * MS + rnd_below(1000 * MS),
				      EV_RESTART, who);
			break;
		case 1:		/* crash the primary, whoever it is then */
			sched(t, EV_KILL_PRIMARY, 0);
			break;
		case 2:		/* frozen / stalled node */
			dur = freeze_tab[rnd_below(4)];
			sched(t, EV_FREEZE, who);
			sched(t + rnd_below(dur + 1), EV_THAW, who);
			break;
		case 3:		/* partition that heals */
			sched(t, EV_PART, 0);
			sched(t + 20 * MS + rnd_below(1500 * MS), EV_HEAL, 0);
			break;
		case 4:		/* loss burst */
			sched(t, EV_LOSS_ON, 0);
			sched(t + rnd_below(300 * MS), EV_LOSS_OFF, 0);
			break;
		case 5:		/* graceful hand-over */
			sched(t, EV_STEPDOWN, 0);
			break;
		default:	/* freeze the primary: the fencing case */
			{
				struct ev x;

				memset(&x, 0, sizeof(x));
				x.t = t;
				x.kind = EV_FREEZE;
				x.node = (u8)rnd_below(n_psu);
				push(&x);
				sched(t + 50 * MS + rnd_below(500 * MS),
				      EV_THAW, x.node);
			}
			break;
		}
	}
	sched(t_q, EV_QUIET, 0);
	/* Dead nodes come back at quiet time, except maybe some. */
	for (i = 0; i < S->n; i++)
		if (i == 0 || chance(0.8))
			sched(t_q, EV_RESTART, i);

	if (S->verbose)
		printf("# seed %" PRIu64 ": %d psu + %d chassis, J %.1f ms, T_h %.1f ms, k %u, loss %.3f/%.3f dup %.2f corrupt %.2f refuse %.2f, boot spread %.0f ms, %d faults, quiet at %.0f ms\n",
		       seed, n_psu, n_ch, cfg.bus_delay_ns / 1e6,
		       cfg.hb_ns / 1e6, cfg.miss, S->loss_g, S->loss_rx,
		       S->dup, S->corrupt, S->refuse, spread / 1e6, nf,
		       t_q / 1e6);

	bound = 0;
	for (i = 0; i < S->n; i++) {
		struct rpw_elect_cfg c = S->nd[i].cfg;
		u64 b;

		rpw_elect_cfg_derive(&c);
		b = rpw_elect_converge_bound(&c, (unsigned int)n_psu);
		if (b > bound)
			bound = b;
	}
	S->t_quiet = t_q;
	S->t_end = t_q + bound;
	for (i = 0; i < S->n; i++) {
		struct rpw_elect_cfg c = S->nd[i].cfg;
		u64 g;

		rpw_elect_cfg_derive(&c);
		g = 2 * c.detect_ns + (u64)n_psu * c.slot_ns;
		if (g > S->heal_grace)
			S->heal_grace = g;
	}

	run_until(S->t_end);

	if (!S->failed) {
		int p = converged(true, 0);

		if (p < 0) {
			int a;

			for (a = 0; a < S->n; a++) {
				struct node *n = &S->nd[a];

				if (!n->alive)
					continue;
				if (verbose)
					printf("#   n%d(%u) acks ok %u late %u act_after %.1f fence p %.1f r %.1f lease %.1f-%.1f now %.1f\n",
					       a, n->addr, n->e.stats.acks_ok,
					       n->e.stats.acks_late,
					       ((double)n->e.act_after - local_of(n, 0)) / 1e6,
					       ((double)n->e.fence_primary - local_of(n, 0)) / 1e6,
					       ((double)n->e.fence_rival - local_of(n, 0)) / 1e6,
					       ((double)n->e.lease_start[0] - local_of(n, 0)) / 1e6,
					       ((double)n->e.lease_end[0] - local_of(n, 0)) / 1e6,
					       ((double)local_of(n, S->now) - local_of(n, 0)) / 1e6);
				if (verbose)
					printf("#   n%d(%u) %s %s primary %u epoch %08x acting %d\n",
					       a, n->addr,
					       n->psu ? "psu" : "chassis",
					       rpw_elect_state_name(rpw_elect_state(&n->e)),
					       rpw_elect_primary(&n->e),
					       rpw_elect_epoch(&n->e),
					       rpw_elect_is_primary(&n->e, local_of(n, S->now)));
			}
			fail("no single acting primary followed by all %.0f ms after faults stopped",
			     bound / 1e6);
		} else if (simultaneous && clean && same_cfg && !O->mutate) {
			/*
			 * Clean bus, same instant: of the nodes that claimed
			 * before hearing a claim, the highest address wins,
			 * and nobody needs a second term.
			 */
			u32 best = 0;
			size_t k;

			for (k = 0; k < S->ep_n; k++)
				if (S->ep_tab[k] > best)
					best = S->ep_tab[k];
			if (rpw_elect_epoch(&S->nd[p].e) != best ||
			    RPW_EPOCH_TERM(best) != 1)
				fail("simultaneous start: primary %u in %08x, highest claim %08x",
				     S->nd[p].addr,
				     rpw_elect_epoch(&S->nd[p].e), best);
		}
	}
	snprintf(summary, slen, "%d psu + %d chassis, %" PRIu64 " events",
		 n_psu, n_ch, S->events);
	return S->failed ? 1 : 0;
}

/* ------------------------------------------------------------ adversary */

/* The frame of issue #10: 7e 10 10 ff 63 01 04 ff ff ff ff de 6a 7e. */
static void adv_reported(struct rpw_frame *f)
{
	memset(f, 0, sizeof(*f));
	f->version = RPW_PROTO_VERSION;
	f->type = RPW_T_WHO_PRIMARY;
	f->src = 0x10;
	f->dst = RPW_ADDR_BCAST;
	f->seq = 0x01;
	f->len = RPW_LEN_EPOCH;
	put_unaligned_le32(0xffffffffU, f->payload);
}

static const u8 adv_types[] = {
	RPW_T_WHO_PRIMARY, RPW_T_PRIMARY, RPW_T_HEARTBEAT, RPW_T_HEARTBEAT_ACK,
	RPW_T_STEP_DOWN, RPW_T_CAP_QUERY, RPW_T_CAP_REPORT,
};

/* An address no module uses. */
static u8 adv_stranger(void)
{
	u8 a;
	int i;

again:
	a = (u8)(1 + rnd_below(RPW_ADDR_MAX));
	for (i = 0; i < S->n; i++)
		if (S->nd[i].addr == a)
			goto again;
	return a;
}

/*
 * A forged frame with chosen fields: an epoch-carrying type, from @src,
 * in an epoch far ahead (or the maximum, or just ahead) of the rack's.
 */
static void adv_forge(struct rpw_frame *f, u8 src, u32 rack_ep)
{
	u32 term = RPW_EPOCH_TERM(rack_ep);
	u32 ep;

	memset(f, 0, sizeof(*f));
	f->version = RPW_PROTO_VERSION;
	f->type = adv_types[rnd_below(ARRAY_SIZE(adv_types))];
	f->src = src;
	f->dst = chance(0.5) ? RPW_ADDR_BCAST : S->nd[rnd_below(S->n)].addr;
	f->seq = (u8)rnd();
	switch (rnd_below(4)) {
	case 0:
		ep = 0xffffffffU;
		break;
	case 1:
		ep = RPW_EPOCH_MAKE(term + 1 + rnd_below(RPW_EPOCH_STEP), src);
		break;
	case 2:
		ep = RPW_EPOCH_MAKE(term + RPW_EPOCH_STEP + 1 +
				    rnd_below(1 << 22), src);
		break;
	default:
		ep = (u32)rnd();
		break;
	}
	put_unaligned_le32(ep, f->payload);
	f->len = RPW_LEN_EPOCH;
	if (f->type == RPW_T_PRIMARY || f->type == RPW_T_HEARTBEAT) {
		/* The rack's lease: a longer one stretches any detection. */
		put_unaligned_le16((u16)(S->nd[0].cfg.lease_ns / MS),
				   f->payload + 4);
		f->payload[6] = S->nd[rnd_below(S->n)].addr;
		f->len = RPW_LEN_CLAIM;
	} else if (f->type == RPW_T_CAP_QUERY || f->type == RPW_T_CAP_REPORT) {
		f->len = (u8)(4 + rnd_below(RPW_MAX_PAYLOAD - 3));
		for (int i = 4; i < f->len; i++)
			f->payload[i] = (u8)rnd();
	}
}

/* Any CRC-valid frame: random type, addresses, length and payload. */
static void adv_random(struct rpw_frame *f)
{
	int i;

	memset(f, 0, sizeof(*f));
	f->version = RPW_PROTO_VERSION;
	f->type = chance(0.7) ? adv_types[rnd_below(ARRAY_SIZE(adv_types))] :
				(u8)rnd();
	f->src = (u8)rnd();
	f->dst = chance(0.5) ? RPW_ADDR_BCAST : (u8)rnd();
	f->seq = (u8)rnd();
	f->len = chance(0.5) ? (chance(0.5) ? RPW_LEN_EPOCH : RPW_LEN_CLAIM) :
			       (u8)rnd_below(RPW_MAX_PAYLOAD + 1);
	for (i = 0; i < f->len; i++)
		f->payload[i] = (u8)rnd();
}

static void adv_send(const struct rpw_frame *f, u64 t)
{
	struct ev x;
	int i;

	for (i = 0; i < S->n; i++) {
		if (!S->nd[i].alive)
			continue;
		memset(&x, 0, sizeof(x));
		x.t = t + proc_delay();
		x.kind = EV_RX;
		x.node = (u8)i;
		x.ok = 2;	/* forged */
		x.inc = S->nd[i].inc;
		x.f = *f;
		push(&x);
	}
}

/*
 * A healthy rack meets an adversary: the frame of the report, forged
 * frames of every epoch-carrying type from unused addresses and from the
 * members' own, CRC-valid random frames, and a babbling node repeating a
 * forged frame.  After each attack, within one ordinary failover time
 * (detection, every takeover slot, a lease and two heartbeats), one
 * acting primary is followed by every node again; no frame moves an
 * anchored node's term by more than RPW_EPOCH_STEP (node_rx()); and the
 * term advanced at most one step per attack from a member's address,
 * none at all for attacks from addresses no module uses.
 */
static int run_adversary(u64 seed, int verbose, char *summary, size_t slen)
{
	static struct sim sim;
	struct rpw_elect_cfg cfg;
	static const u64 hbs[] = { 10 * MS, 20 * MS, 40 * MS };
	int n_psu, n_ch, i, k, attacks, member_attacks = 0;
	u64 t, fo, t_conv;
	u32 term0, term1;
	int p;

	sim_reset(&sim);
	S = &sim;
	rng_s = seed * 0x9e3779b97f4a7c15ULL + 0x7e57;
	S->seed = seed;
	S->verbose = verbose;
	S->dm = DM_FUZZ;
	S->adversary = true;
	/* Every fifth seed: the rack of the report. */
	n_psu = seed % 5 ? 2 + (int)rnd_below(5) : 4;
	n_ch = seed % 5 ? (int)rnd_below(4) : 1;
	base_cfg(&cfg, 10 * MS, hbs[rnd_below(3)], (u8)(1 + rnd_below(2)));
	S->j = cfg.bus_delay_ns;
	S->tf = cfg.frame_ns;
	S->tol = cfg.tol_ns;
	S->proc_max = S->j / 4;
	setup_nodes(n_psu, n_ch, &cfg, (u64)cfg.drift_ppm * 1000);
	for (i = 0; i < S->n; i++)
		sched(rnd_below(200 * MS), EV_BOOT, i);
	rpw_elect_cfg_derive(&cfg);
	fo = cfg.detect_ns + (u64)n_psu * cfg.slot_ns + cfg.lease_ns +
	     2 * cfg.hb_ns;
	t_conv = 200 * MS + rpw_elect_converge_bound(&cfg, (unsigned int)n_psu);
	S->t_quiet = 0;
	S->t_end = ~0ULL;
	run_until(t_conv);
	p = converged(true, 0);
	if (!S->failed && p < 0)
		fail("no acting primary before the attacks");
	term0 = p >= 0 ? RPW_EPOCH_TERM(rpw_elect_epoch(&S->nd[p].e)) : 0;
	attacks = 4 + (int)rnd_below(8);
	t = S->now;
	for (k = 0; k < attacks && !S->failed; k++) {
		struct rpw_frame f;
		u32 rack = rpw_elect_epoch(&S->nd[p].e);
		const char *what;
		int burst = 1, b;

		t += rnd_below(fo);
		switch (k ? rnd_below(5) : 0) {
		case 0:
			adv_reported(&f);
			what = "the reported frame";
			break;
		case 1:
			adv_forge(&f, adv_stranger(), rack);
			what = "forged, unused address";
			break;
		case 2:
			adv_forge(&f, S->nd[rnd_below(S->n)].addr, rack);
			what = "forged, a member's address";
			member_attacks++;
			break;
		case 3:
			adv_random(&f);
			what = "random frame";
			member_attacks++;	/* it may hit one */
			break;
		default:
			adv_forge(&f, adv_stranger(), rack);
			what = "babbling node";
			burst = 20 + (int)rnd_below(200);
			break;
		}
		if (S->verbose)
			printf("# %.3f ms attack %d: %s %s from %u to %u epoch %08x x%d\n",
			       t / 1e6, k, what, tname(f.type), f.src, f.dst,
			       get_unaligned_le32(f.payload), burst);
		for (b = 0; b < burst; b++) {
			adv_send(&f, t);
			t += S->tf;
		}
		t += fo;
		run_until(t);
		p = converged(true, 0);
		if (!S->failed && p < 0) {
			for (i = 0; verbose && i < S->n; i++)
				printf("#   n%d(%u) %s primary %u epoch %08x acting %d\n",
				       i, S->nd[i].addr,
				       rpw_elect_state_name(rpw_elect_state(&S->nd[i].e)),
				       rpw_elect_primary(&S->nd[i].e),
				       rpw_elect_epoch(&S->nd[i].e),
				       rpw_elect_is_primary(&S->nd[i].e,
							    local_of(&S->nd[i], S->now)));
			fail("attack %d (%s): no acting primary followed by all %.0f ms later",
			     k, what, fo / 1e6);
		}
	}
	if (!S->failed) {
		term1 = RPW_EPOCH_TERM(rpw_elect_epoch(&S->nd[p].e));
		if (((term1 - term0) & RPW_EPOCH_TERM_MAX) >
		    (u32)attacks * 2 + (u32)member_attacks * RPW_EPOCH_STEP)
			fail("term %u -> %u after %d attacks, %d possibly from members",
			     term0, term1, attacks, member_attacks);
	}
	snprintf(summary, slen, "adversary: %d psu + %d chassis, %d attacks, %" PRIu64 " events",
		 n_psu, n_ch, attacks, S->events);
	return S->failed ? 1 : 0;
}

/* ------------------------------------------------------------ bench */

/* J of the bench rows: the default, or the MAC's urgent bound. */
static u64 bench_j = 25 * MS;

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static void pct(u64 *v, int n, double *p50, double *p99, double *mx)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_u64);
	*p50 = v[n / 2] / 1e6;
	*p99 = v[(n * 99) / 100 >= n ? n - 1 : (n * 99) / 100] / 1e6;
	*mx = v[n - 1] / 1e6;
}

static void bench_one(int n_psu, int n_ch, enum delay_model dm, int runs,
		      double loss, u64 *boot_f, u64 *boot_a, u64 *fo_f,
		      u64 *fo_a, int *bad)
{
	static struct sim sim;
	struct rpw_elect_cfg cfg;
	int r, i;

	*bad = 0;
	for (r = 0; r < runs; r++) {
		sim_reset(&sim);
		S = &sim;
		rng_s = 0xbe9c ^ ((u64)n_psu << 32) ^ ((u64)dm << 48) ^
			(u64)r * 7919;
		S->bench = true;
		S->dm = dm;
		S->verbose = getenv("ELECT_BENCH_TRACE") &&
			     r == atoi(getenv("ELECT_BENCH_TRACE")) &&
			     n_psu == 2 && dm == DM_TYPICAL ? 2 : 0;
		base_cfg(&cfg, bench_j, 16 * MS, 2);
		S->j = cfg.bus_delay_ns;
		S->tf = cfg.frame_ns;
		S->tol = cfg.tol_ns;
		S->proc_max = 3 * MS;
		S->loss_g = loss;
		setup_nodes(n_psu, n_ch, &cfg, (u64)cfg.drift_ppm * 1000);
		for (i = 0; i < S->n; i++)
			sched(rnd_below(MS), EV_BOOT, i);
		sched(1500 * MS + rnd_below(20 * MS), EV_KILL_PRIMARY, 0);
		run_until(1500 * MS + 2000 * MS);
		if (S->failed || !S->conv_follow || !S->conv_act ||
		    !S->fo_follow || !S->fo_act) {
			if (S->failed)
				printf("# bench run %d failed: %s\n", r, S->why);
			(*bad)++;
			boot_f[r] = boot_a[r] = fo_f[r] = fo_a[r] = ~0ULL >> 1;
			continue;
		}
		boot_f[r] = S->conv_follow;
		boot_a[r] = S->conv_act;
		fo_f[r] = S->fo_follow - S->kill_t;
		if (getenv("ELECT_BENCH_SLOW") && fo_f[r] > 98 * MS)
			printf("# slow run %d psu %d: %.1f ms\n", r, n_psu,
			       fo_f[r] / 1e6);
		fo_a[r] = S->fo_act - S->kill_t;
	}
}

static int bench(int runs, int only_psu)
{
	static const int sizes[] = { 2, 6, 16, 60 };
	static const char * const dmn[] = { "", "typical", "worst-case" };
	const double tf_ms = 1.0416667;
	struct rpw_elect_cfg c;
	u64 *v[4];
	int i, k, m, bad, rc = 0;

	rpw_elect_cfg_default(&c, 1, RACKPWR_ROLE_PSU);
	c.bus_delay_ns = bench_j;
	c.detect_ns = c.lease_ns = c.guard_ns = c.slot_ns = c.initial_ns = 0;
	rpw_elect_cfg_derive(&c);
	for (k = 0; k < 4; k++)
		v[k] = calloc((size_t)runs, sizeof(u64));
	printf("# rackpwr election bench: 115200 baud, T_f %.3f ms, J %.0f ms, T_h %.0f ms, k %u\n",
	       tf_ms, c.bus_delay_ns / 1e6, c.hb_ns / 1e6, c.miss);
	printf("# derived: T_det %.2f ms, lease %.2f ms, guard %.2f ms, slot %.2f ms, T_initial %.2f ms\n",
	       c.detect_ns / 1e6, c.lease_ns / 1e6, c.guard_ns / 1e6,
	       c.slot_ns / 1e6, c.initial_ns / 1e6);
	printf("# anchors: VRRP default failover 3600 ms (3456 frame times); BACnet MS/TP token recovery >= 500 ms (480 frame times)\n");
	printf("# %d runs per row, 8 chassis nodes; times in ms [frame times]\n",
	       runs);
	printf("# %-10s %5s  %-32s %-32s %-32s %-32s\n", "delays", "psu",
	       "power-up: all follow p50/p99/max", "power-up: acting",
	       "failover: all follow p50/p99/max", "failover: new acting");
	for (m = DM_TYPICAL; m <= DM_WORST; m++)
		for (i = 0; i < 4; i++) {
			double a[4][3];
			char buf[4][64];

			if (only_psu && sizes[i] != only_psu)
				continue;
			bench_one(sizes[i], 8, (enum delay_model)m,
				  sizes[i] > 16 ? runs / 2 : runs, 0, v[0],
				  v[1], v[2], v[3], &bad);
			for (k = 0; k < 4; k++) {
				pct(v[k], sizes[i] > 16 ? runs / 2 : runs,
				    &a[k][0], &a[k][1], &a[k][2]);
				snprintf(buf[k], sizeof(buf[k]),
					 "%.1f/%.1f/%.1f [%.0f/%.0f/%.0f]",
					 a[k][0], a[k][1], a[k][2],
					 a[k][0] / tf_ms, a[k][1] / tf_ms,
					 a[k][2] / tf_ms);
			}
			printf("  %-10s %5d  %-32s %-32s %-32s %-32s%s\n",
			       dmn[m], sizes[i], buf[0], buf[1], buf[2],
			       buf[3], bad ? "  FAILED RUNS" : "");
			if (bad)
				rc = 1;
			if (m == DM_TYPICAL && a[2][1] > 100.0) {
				printf("# target missed: failover p99 %.1f ms > 100 ms\n",
				       a[2][1]);
			}
		}
	for (k = 0; k < 4; k++)
		free(v[k]);
	return rc;
}

/* ------------------------------------------------------------ main */

static void usage(void)
{
	fprintf(stderr,
		"usage: elect_sim [--seeds N] [--seed S] [--psu N] [--chassis M] [-v|-vv|-vvv]\n"
		"                 [--mutate guard|nofence|detect]\n"
		"       elect_sim --bench [--runs R] [--j-urgent]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct opts o = { .seed = 1, .seeds = 10000, .psu = 0, .chassis = -1,
			  .runs = 200 };
	u64 i, failed = 0, events = 0;
	struct timespec t0, t1;
	int a;

	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--seeds") && a + 1 < argc)
			o.seeds = strtoull(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--seed") && a + 1 < argc)
			o.seed = strtoull(argv[++a], NULL, 0);
		else if ((!strcmp(argv[a], "--psu") ||
			  !strcmp(argv[a], "--nodes")) && a + 1 < argc)
			o.psu = atoi(argv[++a]);
		else if (!strcmp(argv[a], "--chassis") && a + 1 < argc)
			o.chassis = atoi(argv[++a]);
		else if (!strcmp(argv[a], "--runs") && a + 1 < argc)
			o.runs = atoi(argv[++a]);
		else if (!strcmp(argv[a], "--mutate") && a + 1 < argc)
			o.mutate = argv[++a];
		else if (!strcmp(argv[a], "--bench"))
			o.bench = true;
		else if (!strcmp(argv[a], "--adversary"))
			o.adversary = true;
		else if (!strcmp(argv[a], "--j-urgent")) {
			struct rpw_mac_cfg mc;

			rpw_mac_cfg_default(&mc, RPW_MAC_PROFILE_SIM, 1, 115200);
			bench_j = rpw_mac_urgent_bound_ns(&mc, 0);
		}
		else if (!strcmp(argv[a], "-v"))
			o.verbose = 1;
		else if (!strcmp(argv[a], "-vvv"))
			o.verbose = 3;
		else if (!strcmp(argv[a], "-vv"))
			o.verbose = 2;
		else
			usage();
	}
	if (o.psu < 0 || o.psu > MAXN - 1 || o.chassis >= MAXN || o.runs < 2)
		usage();
	O = &o;
	if (o.bench)
		return bench(o.runs, o.psu);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	printf("TAP version 13\n");
	for (i = 0; i < o.seeds; i++) {
		u64 seed = o.seed + i;
		char sum[128];

		if ((o.adversary ? run_adversary : run_scenario)(seed,
				o.verbose, sum, sizeof(sum))) {
			failed++;
			if (failed <= 10) {
				printf("not ok %" PRIu64 " - seed %" PRIu64 " (%s): %s\n",
				       failed, seed, sum, S->why);
				printf("# repro: %s --seeds 1 --seed %" PRIu64,
				       argv[0], seed);
				if (o.psu)
					printf(" --psu %d", o.psu);
				if (o.chassis >= 0)
					printf(" --chassis %d", o.chassis);
				if (o.mutate)
					printf(" --mutate %s", o.mutate);
				if (o.adversary)
					printf(" --adversary");
				printf(" -v\n");
			}
		} else if (o.verbose) {
			printf("ok - seed %" PRIu64 " (%s)\n", seed, sum);
		}
		events += S->events;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%sok - %" PRIu64 " scenarios, seeds %" PRIu64 "..%" PRIu64 ", %" PRIu64 " failed, %" PRIu64 " events, %.1f s\n",
	       failed ? "not " : "", o.seeds, o.seed, o.seed + o.seeds - 1,
	       failed, events,
	       (double)(t1.tv_sec - t0.tv_sec) +
	       (t1.tv_nsec - t0.tv_nsec) / 1e9);
	printf("1..%" PRIu64 "\n", failed ? failed + 1 : 1);
	sim_reset(S);
	return failed ? 1 : 0;
}
