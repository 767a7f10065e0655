// SPDX-License-Identifier: GPL-2.0-only
/*
 * rackpwr - deterministic simulator for power allocation.
 *
 * Runs the real driver/rpw_alloc.c: 1-6 chassis modules (struct rpw_slots,
 * 8 simulated servers each) and 1-2 power-supply modules whose ledgers
 * (struct rpw_ledger) act in turn, on a message-level medium in virtual
 * time.  The election is modelled abstractly: a sequence of terms, each a
 * primary with an epoch and a lease; a term ends (crash or step-down), the
 * next starts only after the old lease ended, and every chassis learns of
 * it after a random delay.  A trivial policy stands in for the agent: grant
 * in priority order what fits, queue the rest, shed the least important
 * grants when the capacity drops; now and then it asks for a grant that
 * does not fit, which the ledger must refuse.  One PRNG seeded per scenario
 * drives every choice, so a seed reproduces exactly.
 *
 * Faults (during the first FAULT_MS): frame loss, duplication, delay with
 * reordering, failover, chassis restart (slots rebuilt from the simulated
 * hardware: power enable and the GRANT_ID register), capacity drops, the
 * policy holder going away, servers that ignore a shed.  Servers get
 * inserted, pulled, switched on, shut down, put to sleep and lowered, and
 * in half the scenarios every server without power asks at once.
 *
 * Invariants, after every event:
 *  - gate: a server's power is enabled only under a grant some primary
 *    sent for that chassis, slot and id, of at least its draw; POWER_ON
 *    only for a grant of the epoch the chassis follows;
 *  - count: the acting primary's ledger holds every enabled server of each
 *    chassis that reported to it, with the same grant id and at least its
 *    draw; every holding in the ledger is a grant some primary sent; the
 *    total is the sum of the holdings (no grant counted twice);
 *  - once: a primary never sends two different verdicts for one request,
 *    and a chassis powers a server on at most once per grant;
 *  - capacity: the servers' draw stays within the usable capacity, except
 *    within SHED_WINDOW of a capacity drop (the shed window, measured) and
 *    in a term whose recovery ended by the hold without a chassis's report
 *    (counted);
 *  - settle: after the faults stop and SETTLE_MS pass, the primary's ledger
 *    equals every chassis's truth, nothing is left unanswered or unconfirmed
 *    and a queued request does not fit.
 *
 * Usage: alloc_sim [--seeds N] [--seed S] [--chassis M] [-v|-vv]
 *        [--mutate resend|offack]   (no resends / the grant of a server
 *        that went off given back before its enable is off: must fail;
 *        see make alloc-mutants)
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rpw_alloc.h"
#include "rpw_elect.h"		/* RPW_EPOCH_MAKE */

#define MS		1000000ULL
#define MAXCH		6
#define NPSU_MAX	2
#define NSLOT		RPW_ALLOC_SLOTS
#define LEASE_NS	(60 * MS)
#define HB_NS		(20 * MS)
#define FAULT_MS	6000
#define SETTLE_MS	12000
#define SHED_MS		1500	/* the simulated servers shut down fast */
/* Two rounds of sheds (the first may meet servers that ignore it), + 1 s. */
#define SHED_WINDOW	((3 * (SHED_MS + 2 * RPW_ALLOC_RESEND_MS) + 1000) * MS)
#define MAXGRANTS	4096

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

static u64 rnd_range(u64 lo, u64 hi)
{
	return lo + rnd_below(hi - lo + 1);
}

static bool chance(double p)
{
	return p > 0 && (double)(rnd() >> 11) / (double)(1ULL << 53) < p;
}

/* ---------------------------------------------------------------- model */

enum ev_kind {
	EV_DELIVER, EV_TICK, EV_HB, EV_LEARN, EV_TERM_END, EV_TERM_START,
	EV_CRASH, EV_BOOT, EV_SRV, EV_SRV_DONE, EV_CAP, EV_POLICY, EV_QUIET,
	EV_STORM, EV_END, EV_OFF,
};

static const char *const ev_names[] = {
	"deliver", "tick", "hb", "learn", "term-end", "term-start", "crash",
	"boot", "srv", "srv-done", "cap", "policy", "quiet", "storm", "end",
	"off",
};

struct event {
	u64 t;
	u64 seq;
	u8 kind;
	u8 node;		/* chassis index / psu index */
	u8 slot;
	bool to_psu;		/* EV_DELIVER: destination is a PSU */
	u32 arg;		/* term, life, usable W, ... */
	u64 ttl;		/* EV_DELIVER from a primary: its lease end */
	struct rpw_frame f;
};

enum srv_state { SRV_ABSENT, SRV_OFF, SRV_ON, SRV_SLEEP };

/* The always-on device of one server slot: survives a chassis restart. */
struct hw_slot {
	u8 srv;			/* enum srv_state */
	bool powered;		/* power enable */
	bool stubborn;		/* ignores shutdown requests */
	bool shutting;		/* a shutdown is on its way */
	u8 prio;
	u32 grant_id;		/* GRANT_ID register */
	/*
	 * A POWER_OFF queued, carried out later (EV_OFF), as the kernel's
	 * work item does; 0: none.  The grant it was for.
	 */
	u32 off_id;
	u32 need_w;		/* EEPROM */
	u32 draw_w;		/* now, when on */
};

struct chassis {
	u8 addr;
	bool up;
	u32 life;		/* incarnation, bumped by each restart */
	u32 term;		/* the term it follows (index), 0 none */
	u64 next_tick;
	struct rpw_slots s;
	struct hw_slot hw[NSLOT];
	u64 shed_since[NSLOT];	/* a SHUTDOWN for a shed pending since */
};

struct psu {
	u8 addr;
	bool alive;
	u64 next_tick;
	struct rpw_ledger l;
};

struct term {
	u8 psu;
	u32 epoch;
	u64 start;
	bool live;		/* acting now */
	bool blind;		/* recovery ended by the hold */
};

struct grant {
	u8 ch, slot, verdict;
	bool used;		/* a chassis powered a server on for it */
	u32 id, w, term;
};

struct sim {
	u64 now;
	u64 seq;
	u64 events;
	int verbose;
	char why[256];
	bool failed;
	/* scenario */
	int nch, npsu;
	double loss, dup;
	u64 jitter;
	bool quiet;		/* faults and server activity stopped */
	u64 usable_mw;
	u64 drop_t;		/* last capacity drop */
	u64 ext_t;		/* shedding could resume (boot, term, policy) */
	bool policy;
	/* state */
	struct chassis ch[MAXCH];
	struct psu psu[NPSU_MAX];
	struct term terms[16];
	int nterms;		/* terms[nterms - 1] is the latest */
	struct grant grants[MAXGRANTS];
	int ngrants;
	/* heap */
	struct event *heap;
	size_t nheap, capheap;
	/* measurements */
	u64 over_since;		/* truth above usable since, 0 none */
	u64 max_over_ns;
	u64 blind_over;
	u64 refused, stale_rx, power_ons, restarts, failovers, sheds;
};

static struct sim *S;
static const char *mutate;
static bool off_ack = true;	/* --mutate offack: false */

static struct rpw_alloc_out out;
static struct rpw_alloc_timing tm;

static __attribute__((format(printf, 1, 2))) void fail(const char *fmt, ...)
{
	va_list ap;

	if (S->failed)
		return;
	S->failed = true;
	va_start(ap, fmt);
	vsnprintf(S->why, sizeof(S->why), fmt, ap);
	va_end(ap);
	if (S->verbose)
		printf("# %.3f ms FAIL: %s\n", S->now / 1e6, S->why);
}

static __attribute__((format(printf, 1, 2))) void trace(const char *fmt, ...)
{
	va_list ap;

	if (S->verbose < 1)
		return;
	printf("# %10.3f ", S->now / 1e6);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* ---------------------------------------------------------------- heap */

static bool ev_before(const struct event *a, const struct event *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void push(struct event *e)
{
	size_t i;

	if (S->nheap == S->capheap) {
		S->capheap = S->capheap ? 2 * S->capheap : 1024;
		S->heap = realloc(S->heap, S->capheap * sizeof(*S->heap));
		if (!S->heap)
			abort();
	}
	e->seq = S->seq++;
	i = S->nheap++;
	while (i && ev_before(e, &S->heap[(i - 1) / 2])) {
		S->heap[i] = S->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	S->heap[i] = *e;
}

static struct event pop(void)
{
	struct event top = S->heap[0], last = S->heap[--S->nheap];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= S->nheap)
			break;
		if (c + 1 < S->nheap && ev_before(&S->heap[c + 1], &S->heap[c]))
			c++;
		if (!ev_before(&S->heap[c], &last))
			break;
		S->heap[i] = S->heap[c];
		i = c;
	}
	if (S->nheap)
		S->heap[i] = last;
	return top;
}

static void at(u64 t, u8 kind, u8 node, u8 slot, u32 arg)
{
	struct event e;

	memset(&e, 0, sizeof(e));
	e.t = t;
	e.kind = kind;
	e.node = node;
	e.slot = slot;
	e.arg = arg;
	push(&e);
}

/* ---------------------------------------------------------------- terms */

static struct term *cur_term(void)
{
	return S->nterms ? &S->terms[S->nterms - 1] : NULL;
}

static struct psu *acting_psu(void)
{
	struct term *t = cur_term();

	return t && t->live ? &S->psu[t->psu] : NULL;
}

static struct grant *grant_find(u8 ch, u8 slot, u32 id)
{
	int i;

	for (i = S->ngrants; i-- > 0;)
		if (S->grants[i].ch == ch && S->grants[i].slot == slot &&
		    S->grants[i].id == id && S->grants[i].verdict == RPW_PWR_GRANT)
			return &S->grants[i];
	return NULL;
}

/* Whether some chassis already powered a server on for (ch, slot, id). */
static bool grant_used(u8 ch, u8 slot, u32 id)
{
	int i;

	for (i = 0; i < S->ngrants; i++)
		if (S->grants[i].ch == ch && S->grants[i].slot == slot &&
		    S->grants[i].id == id && S->grants[i].used)
			return true;
	return false;
}

/* A verdict leaving the primary of term @term for chassis @ch. */
static void note_verdict(u8 ch, const struct rpw_pwr_ans *a, u32 term)
{
	u32 id = le32_to_cpu(a->req_id);
	int i;

	for (i = S->ngrants; i-- > 0;) {
		struct grant *g = &S->grants[i];

		if (g->ch != ch || g->slot != a->slot || g->id != id ||
		    g->term != term || g->verdict == RPW_PWR_QUEUED)
			continue;
		if (a->verdict != RPW_PWR_QUEUED && g->verdict != a->verdict)
			fail("once: term %u answered ch%u slot %u id %u with %u then %u",
			     term, ch, a->slot, id, g->verdict, a->verdict);
		return;
	}
	if (S->ngrants >= MAXGRANTS) {
		fail("sim: grant table full");
		return;
	}
	S->grants[S->ngrants++] = (struct grant){
		.ch = ch, .slot = a->slot, .verdict = a->verdict, .id = id,
		.w = le16_to_cpu(a->watts), .term = term,
	};
}

/* ---------------------------------------------------------------- medium */

static int ch_by_addr(u8 addr)
{
	int i;

	for (i = 0; i < S->nch; i++)
		if (S->ch[i].addr == addr)
			return i;
	return -1;
}

static int psu_by_addr(u8 addr)
{
	int i;

	for (i = 0; i < S->npsu; i++)
		if (S->psu[i].addr == addr)
			return i;
	return -1;
}

/*
 * The MAC gave a frame up (no ACK after its retries, expired): the
 * sender's rpw_*_unsent(), as the glue's tx_done.  Half the lost frames.
 */
static void gave_up(const struct rpw_frame *f, bool to_psu)
{
	int i = to_psu ? ch_by_addr(f->src) : psu_by_addr(f->src);

	if (i < 0 || !chance(0.5))
		return;
	if (to_psu && S->ch[i].up)
		rpw_slots_unsent(&S->ch[i].s, f);
	else if (!to_psu && S->psu[i].alive)
		rpw_ledger_unsent(&S->psu[i].l, f);
}

static void send_one(const struct rpw_frame *f, bool to_psu, int dst,
		     u64 ttl, u32 term)
{
	struct event e;
	int copies = 1;

	if (!S->quiet && chance(S->loss)) {
		gave_up(f, to_psu);
		return;
	}
	if (!S->quiet && chance(S->dup))
		copies = 2;
	while (copies--) {
		memset(&e, 0, sizeof(e));
		e.kind = EV_DELIVER;
		e.t = S->now + MS / 2 + rnd_below(S->quiet ? MS : S->jitter);
		e.node = dst;
		e.to_psu = to_psu;
		e.ttl = ttl;
		e.arg = term;
		e.f = *f;
		push(&e);
	}
}

static void send_from_psu(struct psu *p, struct rpw_frame *f)
{
	int term = S->nterms;	/* index + 1 of the acting term */
	unsigned int i;
	int c;

	f->src = p->addr;
	if (f->type == RPW_T_PWR_ANSWER) {
		c = ch_by_addr(f->dst);
		for (i = 0; c >= 0 && i < f->payload[4]; i++)
			note_verdict(c, (const void *)(f->payload + 6 + 10 * i),
				     term);
	}
	if (f->dst == RPW_ADDR_BCAST) {
		for (c = 0; c < S->nch; c++)
			send_one(f, false, c, S->now + LEASE_NS, term);
		return;
	}
	c = ch_by_addr(f->dst);
	if (c >= 0)
		send_one(f, false, c, S->now + LEASE_NS, term);
}

/* ---------------------------------------------------------------- checks */

static void check_gate(void)
{
	int c, i;

	for (c = 0; c < S->nch; c++) {
		for (i = 0; i < NSLOT; i++) {
			const struct hw_slot *h = &S->ch[c].hw[i];
			const struct grant *g;

			if (!h->powered)
				continue;
			g = grant_find(c, i, h->grant_id);
			if (!g)
				fail("gate: ch%d slot %d enabled under id %u, never granted",
				     c, i, h->grant_id);
			else if (h->srv == SRV_ON && h->draw_w > g->w)
				fail("gate: ch%d slot %d draws %u W on a %u W grant",
				     c, i, h->draw_w, g->w);
		}
	}
}

static void check_count(void)
{
	struct psu *p = acting_psu();
	u64 sum = 0;
	int c, i, k;

	if (!p)
		return;
	for (k = 0; k < RPW_ALLOC_MAX_CHASSIS; k++) {
		const struct rpw_ledger_chassis *lc = &p->l.ch[k];

		if (lc->addr == RPW_ADDR_NONE)
			continue;
		c = ch_by_addr(lc->addr);
		for (i = 0; i < NSLOT; i++) {
			const struct rpw_ledger_ent *e = &lc->ent[i];
			const struct hw_slot *h = &S->ch[c].hw[i];
			bool holds = e->state == RPW_GS_GRANTED ||
				     e->state == RPW_GS_SHEDDING;

			if (holds) {
				sum += e->held_mw;
				if (!grant_find(c, i, e->id))
					fail("count: ledger holds ch%d slot %d id %u, never granted",
					     c, i, e->id);
			}
			if (lc->reported != 0xff || !h->powered)
				continue;
			if (!holds || e->id != h->grant_id ||
			    (h->srv == SRV_ON && e->held_mw < h->draw_w * 1000ULL))
				fail("count: ch%d slot %d enabled (id %u, %u W) but the ledger has state %u id %u %" PRIu64 " mW",
				     c, i, h->grant_id, h->draw_w, e->state,
				     e->id, e->held_mw);
		}
	}
	if (sum != p->l.granted_mw)
		fail("count: ledger total %" PRIu64 " mW, holdings sum %" PRIu64,
		     p->l.granted_mw, sum);
}

/* Whether shedding can progress: a primary, a policy, every chassis up. */
static bool can_shed(void)
{
	struct term *t = cur_term();
	int c;

	if (!t || !t->live || !S->policy)
		return false;
	for (c = 0; c < S->nch; c++)
		if (!S->ch[c].up)
			return false;
	return true;
}

/*
 * The servers' draw stays within the usable capacity, or else only servers
 * that ignore sheds are left.  Above it only after a capacity drop, for at
 * most SHED_WINDOW from the drop or from when shedding could resume (a
 * primary, the policy or a chassis back).  A term whose recovery ended by
 * the hold without some chassis's report may go above it like a drop: its
 * primary did not know those holdings (counted as blind).
 */
static void check_capacity(void)
{
	struct term *t = cur_term();
	u64 draw = 0, compliant = 0;
	int c, i;

	for (c = 0; c < S->nch; c++) {
		for (i = 0; i < NSLOT; i++) {
			const struct hw_slot *h = &S->ch[c].hw[i];

			if (!h->powered || h->srv != SRV_ON)
				continue;
			draw += h->draw_w * 1000ULL;
			if (!h->stubborn)
				compliant += h->draw_w * 1000ULL;
		}
	}
	if (draw <= S->usable_mw || !compliant) {
		if (S->over_since && S->now - S->over_since > S->max_over_ns)
			S->max_over_ns = S->now - S->over_since;
		S->over_since = 0;
		return;
	}
	if (!S->over_since) {
		S->over_since = S->now;
		/* Holdings of a chassis silent through the recovery hold. */
		if (t && t->blind) {
			S->drop_t = S->now;
			S->blind_over++;
		}
	}
	if (!can_shed())
		S->ext_t = S->now;
	if (S->drop_t &&
	    S->now - (S->ext_t > S->drop_t ? S->ext_t : S->drop_t) <=
	    SHED_WINDOW)
		return;
	fail("capacity: servers draw %" PRIu64 " mW of %" PRIu64 " usable",
	     draw, S->usable_mw);
}

static void check_all(void)
{
	check_gate();
	check_count();
	check_capacity();
}

/* ---------------------------------------------------------------- chassis */

static void schedule_tick(u64 *next_tick, u64 t, u8 node, bool psu)
{
	if (t == RPW_ALLOC_NO_TIMER || t == *next_tick)
		return;
	if (t < S->now)
		t = S->now;
	*next_tick = t;
	at(t, EV_TICK, node, psu, 0);
}

static void srv_shutdown(struct chassis *c, int ci, int i)
{
	struct hw_slot *h = &c->hw[i];

	if (h->srv != SRV_ON || h->shutting)
		return;
	if (h->stubborn && chance(0.7))
		return;			/* never complies */
	h->shutting = true;
	at(S->now + rnd_range(20, h->stubborn ? 3 * SHED_MS : SHED_MS / 2) * MS,
	   EV_SRV_DONE, ci, i, c->life);
}

/* Execute what the slot table asked for, then tick it. */
static void chassis_run(struct chassis *c, int ci)
{
	struct term *t;
	unsigned int k;

	if (out.dropped)
		fail("sim: ch%d: %u actions did not fit", ci, out.dropped);
	for (k = 0; k < out.nacts; k++) {
		const struct rpw_alloc_act *a = &out.acts[k];
		struct hw_slot *h = &c->hw[a->slot];
		struct grant *g;

		switch (a->kind) {
		case RPW_ACT_POWER_ON:
			t = c->term ? &S->terms[c->term - 1] : NULL;
			g = grant_find(ci, a->slot, a->id);
			if (!g || !t || S->terms[g->term - 1].epoch != t->epoch ||
			    c->s.epoch != t->epoch)
				fail("gate: ch%d slot %u POWER_ON id %u not a grant of the followed epoch",
				     ci, a->slot, a->id);
			else if (grant_used(ci, a->slot, a->id))
				fail("once: ch%d slot %u powered on twice for grant %u",
				     ci, a->slot, a->id);
			else
				g->used = true;
			if (h->srv == SRV_ABSENT)
				fail("sim: power on of an empty slot");
			h->off_id = 0;	/* a queued power-off ran first */
			h->powered = true;
			h->grant_id = a->id;
			h->srv = SRV_ON;
			h->draw_w = h->need_w;
			h->shutting = false;
			S->power_ons++;
			trace("ch%d slot %u POWER_ON %u W id %u", ci, a->slot,
			      a->watts, a->id);
			break;
		case RPW_ACT_POWER_OFF:
			trace("ch%d slot %u POWER_OFF", ci, a->slot);
			/* A server pulled out draws nothing: at once. */
			if (h->srv == SRV_ABSENT) {
				h->powered = false;
				break;
			}
			h->off_id = a->id;
			at(S->now + rnd_range(0, 300) * MS, EV_OFF, ci, a->slot,
			   c->life);
			break;
		case RPW_ACT_SHUTDOWN:
			trace("ch%d slot %u SHUTDOWN%s", ci, a->slot,
			      h->stubborn ? " (stubborn)" : "");
			srv_shutdown(c, ci, a->slot);
			break;
		default:
			break;
		}
	}
	for (k = 0; k < out.nframes; k++) {
		struct rpw_frame *f = &out.frames[k];
		int p = psu_by_addr(f->dst);

		f->src = c->addr;
		if (p >= 0)
			send_one(f, true, p, ~0ULL, 0);
	}
	rpw_alloc_out_reset(&out);
	schedule_tick(&c->next_tick, rpw_slots_tick(&c->s, S->now, &out),
		      ci, false);
	if (out.nacts || out.nframes)
		chassis_run(c, ci);
}

static void chassis_event(int ci, unsigned int slot, unsigned int ev, u32 w)
{
	struct chassis *c = &S->ch[ci];
	int err;

	if (!c->up)
		return;
	rpw_alloc_out_reset(&out);
	err = rpw_slots_server_event(&c->s, slot, ev, w, S->now, &out);
	trace("ch%d slot %u event %u (%u W): %d, state %u", ci, slot, ev, w,
	      err, c->s.slot[slot].state);
	chassis_run(c, ci);
}

/*
 * The queued POWER_OFF of @slot is carried out.  Lost with the chassis'
 * life (the enable stays on: the restarted chassis seeds the slot from it).
 */
static void chassis_off_done(int ci, unsigned int slot, u32 life)
{
	struct chassis *c = &S->ch[ci];
	struct hw_slot *h = &c->hw[slot];
	u32 id = h->off_id;

	if (!c->up || c->life != life || !id)
		return;
	h->off_id = 0;
	h->powered = false;
	trace("ch%d slot %u power off done (grant %u)", ci, slot, id);
	rpw_alloc_out_reset(&out);
	if (off_ack)
		rpw_slots_power_off_done(&c->s, slot, id, S->now);
	chassis_run(c, ci);
}

static void chassis_boot(int ci)
{
	struct chassis *c = &S->ch[ci];
	struct term *t = cur_term();
	int i;

	c->up = true;
	c->life++;
	c->term = 0;
	rpw_slots_init(&c->s, &tm, (u32)rnd());
	c->s.off_ack = off_ack;
	for (i = 0; i < NSLOT; i++) {
		struct hw_slot *h = &c->hw[i];
		struct rpw_slot_hw hw = {
			.present = h->srv != SRV_ABSENT,
			.powered = h->powered, .prio = h->prio,
			.watts = h->need_w, .grant_id = h->grant_id,
		};

		h->off_id = 0;	/* a queued power-off died with the chassis */
		if (rpw_slots_seed(&c->s, i, &hw))
			fail("sim: seed of ch%d slot %d refused", ci, i);
		/*
		 * The glue reports what the device shows beyond the seed; a
		 * lowered draw only sometimes (the ledger remembers it).
		 */
		if (h->powered && h->srv != SRV_ON)
			chassis_event(ci, i, h->srv == SRV_SLEEP ?
				      RPW_SEV_SLEEP : RPW_SEV_OFF, 0);
		else if (h->powered && h->draw_w < h->need_w && chance(0.5))
			chassis_event(ci, i, RPW_SEV_LOWER, h->draw_w);
	}
	if (t && t->live)
		at(S->now + rnd_range(1, 200) * MS, EV_LEARN, ci, 0,
		   S->nterms);
	rpw_alloc_out_reset(&out);
	chassis_run(c, ci);
}

/*
 * The server is pulled out, its device with it: nothing of it is enabled
 * any more, even with a power-off still queued (it runs later, on nothing).
 */
static void srv_pull(struct hw_slot *h)
{
	h->srv = SRV_ABSENT;
	h->powered = false;
}

/* A random thing happens to a server of chassis @ci. */
static void srv_random(int ci)
{
	struct chassis *c = &S->ch[ci];
	int i = rnd_below(NSLOT);
	struct hw_slot *h = &c->hw[i];
	static const u8 triggers[] = { RPW_SEV_BUTTON, RPW_SEV_LAN_WAKE,
				       RPW_SEV_ADMIN_ON };
	u64 r = rnd_below(100);

	if (!c->up)
		return;
	switch (h->srv) {
	case SRV_ABSENT:
		h->srv = SRV_OFF;
		h->need_w = rnd_range(50, 400);
		h->draw_w = h->need_w;
		h->stubborn = chance(0.2);
		h->prio = rnd_below(48) * 5;
		h->powered = false;
		chassis_event(ci, i, RPW_SEV_PRESENT, h->need_w);
		if (chance(0.7))
			chassis_event(ci, i, RPW_SEV_INSERT, 0);
		return;
	case SRV_OFF:
		if (r < 10) {
			srv_pull(h);
			chassis_event(ci, i, RPW_SEV_GONE, 0);
		} else {
			chassis_event(ci, i, triggers[rnd_below(3)], 0);
		}
		return;
	case SRV_SLEEP:
		if (r < 10) {
			srv_pull(h);
			chassis_event(ci, i, RPW_SEV_GONE, 0);
		} else {
			chassis_event(ci, i, RPW_SEV_WAKE, 0);
		}
		return;
	case SRV_ON:
	default:
		if (!h->powered)
			return;
		if (r < 10) {		/* pulled out while running */
			srv_pull(h);
			chassis_event(ci, i, RPW_SEV_GONE, 0);
		} else if (r < 35) {
			h->srv = SRV_OFF;
			chassis_event(ci, i, RPW_SEV_OFF, 0);
		} else if (r < 50) {
			h->srv = SRV_SLEEP;
			chassis_event(ci, i, RPW_SEV_SLEEP, 0);
		} else if (r < 65 && h->draw_w > 20) {
			h->draw_w = rnd_range(10, h->draw_w - 1);
			chassis_event(ci, i, RPW_SEV_LOWER, h->draw_w);
		} else if (r < 75) {
			chassis_event(ci, i, RPW_SEV_ADMIN_OFF, 0);
		}
		return;
	}
}

/*
 * Every server without power asks at the same instant (a power-up); each
 * chassis passes its events in one batch, then ticks once, as the glue
 * does after a poll of its servers.
 */
static void storm(void)
{
	int c, i;

	trace("storm");
	for (c = 0; c < S->nch; c++) {
		if (!S->ch[c].up)
			continue;
		rpw_alloc_out_reset(&out);
		for (i = 0; i < NSLOT; i++) {
			struct hw_slot *h = &S->ch[c].hw[i];

			if (h->srv == SRV_ABSENT || h->powered)
				continue;
			rpw_slots_server_event(&S->ch[c].s, i,
					       h->srv == SRV_SLEEP ?
					       RPW_SEV_WAKE : RPW_SEV_ADMIN_ON,
					       0, S->now, &out);
		}
		chassis_run(&S->ch[c], c);
	}
}

/* A shutdown (admin or shed) completes: the server is off. */
static void srv_done(int ci, int i, u32 life)
{
	struct chassis *c = &S->ch[ci];
	struct hw_slot *h = &c->hw[i];

	if (!h->shutting || h->srv != SRV_ON)
		return;
	h->shutting = false;
	h->srv = SRV_OFF;
	/* A restarted chassis learned the state when it booted. */
	if (c->up && life == c->life)
		chassis_event(ci, i, RPW_SEV_OFF, 0);
}

/* ---------------------------------------------------------------- primary */

static void psu_run(struct psu *p, int pi)
{
	unsigned int k;

	if (out.dropped)
		fail("sim: psu%d: %u actions did not fit", pi, out.dropped);
	for (k = 0; k < out.nacts; k++) {
		const struct rpw_alloc_act *a = &out.acts[k];

		if (a->kind == RPW_ACT_EVENT && a->event == RPW_AEV_RECOVERED &&
		    a->reason == RPW_PWR_R_RECOVERING) {
			cur_term()->blind = true;
			trace("psu%d recovered by the hold", pi);
		} else if (a->kind == RPW_ACT_EVENT &&
			   a->event == RPW_AEV_SHED_REFUSED) {
			trace("psu%d: shed of 0x%x slot %u refused", pi,
			      a->addr, a->slot);
		} else if (a->kind == RPW_ACT_EVENT &&
			   a->event == RPW_AEV_RECOVERED) {
			trace("psu%d recovered: all reported", pi);
		}
	}
	for (k = 0; k < out.nframes; k++)
		send_from_psu(p, &out.frames[k]);
	rpw_alloc_out_reset(&out);
	if (!p->l.acting)
		return;
	schedule_tick(&p->next_tick, rpw_ledger_tick(&p->l, S->now, &out),
		      pi, true);
	if (out.nacts || out.nframes)
		psu_run(p, pi);
}

struct cand {
	u8 addr, slot, prio, state, reason;
	u32 id;
	u64 want, held;
};

/*
 * A grant the ledger recorded: the primary may hold the answer a moment
 * for the rest of the policy's burst (RPW_ALLOC_BURST_MS), but the grant
 * is real from now on, so the ledger may count it.
 */
static void note_decided(const struct cand *c)
{
	struct rpw_pwr_ans a = {
		.slot = c->slot, .verdict = RPW_PWR_GRANT,
		.watts = cpu_to_le16(rpw_alloc_mw_to_w(c->want)),
		.req_id = cpu_to_le32(c->id),
	};
	int ch = ch_by_addr(c->addr);

	if (ch >= 0)
		note_verdict(ch, &a, S->nterms);
}

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	return -rpw_alloc_prio_cmp(x->prio, x->addr, x->slot,
				   y->prio, y->addr, y->slot);
}

/*
 * After one decision: its events are for the agent, which the simulated
 * policy is; the frames come from the tick after the batch (psu_run()).
 */
static void policy_drain(int pi)
{
	if (out.dropped)
		fail("sim: psu%d: %u actions did not fit", pi, out.dropped);
	out.nacts = 0;
	out.dropped = 0;
}

/* The trivial policy: shed what no longer fits, then grant what fits. */
static void policy_run(void)
{
	struct psu *p = acting_psu();
	struct cand cs[RPW_ALLOC_MAX_CHASSIS * NSLOT];
	struct rpw_ledger_info info;
	int pos, n = 0, i, err, pass;
	u64 kept = 0;

	if (!p || !S->policy)
		return;
	for (pos = rpw_ledger_next(&p->l, 0, &info); pos >= 0;
	     pos = rpw_ledger_next(&p->l, pos + 1, &info))
		cs[n++] = (struct cand){ info.addr, info.slot, info.prio,
					 info.state, info.reason, info.id,
					 info.want_mw, info.held_mw };
	qsort(cs, n, sizeof(cs[0]), cand_cmp);
	rpw_alloc_out_reset(&out);
	/*
	 * Least important first; a grant that refused a shed only when
	 * nothing else is left (its chassis may have been down).
	 */
	for (i = 0; i < n; i++)
		if (cs[i].state == RPW_GS_GRANTED ||
		    cs[i].state == RPW_GS_SHEDDING)
			kept += cs[i].held;
	for (pass = 0; pass < 2; pass++) {
		for (i = n; i-- > 0 && kept > S->usable_mw;) {
			if (cs[i].state != RPW_GS_GRANTED ||
			    (cs[i].reason == RPW_PWR_R_REFUSED) != pass)
				continue;
			err = rpw_ledger_shed(&p->l, cs[i].addr, cs[i].slot,
					      S->now, &out);
			policy_drain(p - S->psu);
			if (err)
				continue;
			kept -= cs[i].held;
			S->sheds++;
			trace("policy sheds 0x%x slot %u id %u", cs[i].addr,
			      cs[i].slot, cs[i].id);
		}
	}
	for (i = 0; i < n; i++) {
		bool fits = p->l.granted_mw + cs[i].want <= S->usable_mw;
		bool buggy = chance(0.01);

		if (cs[i].state != RPW_GS_PENDING &&
		    cs[i].state != RPW_GS_QUEUED)
			continue;
		if (fits || buggy) {
			err = rpw_ledger_decide(&p->l, cs[i].addr, cs[i].slot,
						cs[i].id, RPW_PWR_GRANT,
						cs[i].want, 0, S->usable_mw,
						S->now, &out);
			policy_drain(p - S->psu);
			if (!err)
				note_decided(&cs[i]);
			if (err == -ENOSPC)
				S->refused++;
			if (err != -EAGAIN)
				continue;
		}
		if (cs[i].state == RPW_GS_PENDING)
			rpw_ledger_decide(&p->l, cs[i].addr, cs[i].slot,
					  cs[i].id, RPW_PWR_QUEUED, 0,
					  fits ? RPW_PWR_R_RECOVERING :
					  RPW_PWR_R_CAPACITY, S->usable_mw,
					  S->now, &out);
		policy_drain(p - S->psu);
	}
	psu_run(p, p - S->psu);
}

static void term_start(void)
{
	struct term *t;
	int pi = S->npsu == 1 ? 0 : (int)rnd_below(S->npsu);
	int c;

	if (S->nterms >= (int)(sizeof(S->terms) / sizeof(S->terms[0])))
		return;
	t = &S->terms[S->nterms++];
	memset(t, 0, sizeof(*t));
	t->psu = pi;
	t->epoch = RPW_EPOCH_MAKE(S->nterms, S->psu[pi].addr);
	t->start = S->now;
	t->live = true;
	S->psu[pi].alive = true;
	trace("term %d: psu%d primary at epoch 0x%x", S->nterms, pi, t->epoch);
	for (c = 0; c < S->nch; c++)
		rpw_ledger_know(&S->psu[pi].l, S->ch[c].addr);
	rpw_alloc_out_reset(&out);
	rpw_ledger_role(&S->psu[pi].l, true, t->epoch, S->now, &out);
	rpw_ledger_policy(&S->psu[pi].l, S->policy, S->now);
	S->psu[pi].next_tick = 0;
	psu_run(&S->psu[pi], pi);
	for (c = 0; c < S->nch; c++)
		if (S->ch[c].up)
			at(S->now + rnd_range(1, S->quiet ? 50 : 400) * MS,
			   EV_LEARN, c, 0, S->nterms);
}

static void term_end(bool crash)
{
	struct term *t = cur_term();
	struct psu *p;

	if (!t || !t->live)
		return;
	p = &S->psu[t->psu];
	t->live = false;
	rpw_alloc_out_reset(&out);
	rpw_ledger_role(&p->l, false, 0, S->now, &out);
	if (crash)
		p->alive = false;
	S->failovers++;
	trace("term %d ends (%s)", S->nterms, crash ? "crash" : "step-down");
	/* The next primary acts only after the old lease ended. */
	at(S->now + LEASE_NS + rnd_range(50, 400) * MS, EV_TERM_START, 0, 0, 0);
}

/* ---------------------------------------------------------------- events */

static void deliver(struct event *e)
{
	if (e->to_psu) {
		struct psu *p = &S->psu[e->node];

		int ci = ch_by_addr(e->f.src);

		if (!p->alive)
			return;
		/* Its ACK, mostly: the chassis's tx_done(ok). */
		if (ci >= 0 && S->ch[ci].up && chance(0.9))
			rpw_slots_delivered(&S->ch[ci].s, &e->f, S->now);
		rpw_alloc_out_reset(&out);
		if (rpw_ledger_rx(&p->l, &e->f, S->now, &out) == -ESTALE)
			S->stale_rx++;
		psu_run(p, e->node);
		return;
	}
	{
		struct chassis *c = &S->ch[e->node];

		/* The MAC withdraws frames of an ended term, drops late ones. */
		if (!c->up || e->arg != (u32)S->nterms || !cur_term()->live ||
		    S->now > e->ttl)
			return;
		rpw_alloc_out_reset(&out);
		if (rpw_slots_rx(&c->s, &e->f, S->now, &out) == -ESTALE)
			S->stale_rx++;
		chassis_run(c, e->node);
	}
}

static void learn(int ci, u32 term)
{
	struct chassis *c = &S->ch[ci];
	struct term *t;

	if (!c->up || term != (u32)S->nterms || !cur_term()->live)
		return;
	t = &S->terms[term - 1];
	c->term = term;
	rpw_slots_leader(&c->s, S->psu[t->psu].addr, t->epoch,
			 S->now + LEASE_NS, S->now);
	rpw_alloc_out_reset(&out);
	chassis_run(c, ci);
}

/* Heartbeats renew the lease each chassis knows. */
static void heartbeat(void)
{
	struct term *t = cur_term();
	int c;

	at(S->now + HB_NS, EV_HB, 0, 0, 0);
	if (!t || !t->live)
		return;
	for (c = 0; c < S->nch; c++) {
		struct chassis *ch = &S->ch[c];

		if (!ch->up || ch->term != (u32)S->nterms)
			continue;
		if (!S->quiet && chance(S->loss))
			continue;
		rpw_slots_leader(&ch->s, S->psu[t->psu].addr, t->epoch,
				 S->now + LEASE_NS, S->now);
	}
}

static void handle(struct event *e)
{
	struct chassis *c = e->node < MAXCH ? &S->ch[e->node] : NULL;

	if (S->verbose >= 2 && e->kind != EV_HB)
		trace("event %s node %u slot %u arg %u", ev_names[e->kind],
		      e->node, e->slot, e->arg);
	switch (e->kind) {
	case EV_DELIVER:
		deliver(e);
		break;
	case EV_TICK:
		if (e->slot) {
			struct psu *p = &S->psu[e->node];

			if (p->next_tick != e->t || !p->alive || !p->l.acting)
				break;
			p->next_tick = 0;
			rpw_alloc_out_reset(&out);
			psu_run(p, e->node);
		} else {
			if (c->next_tick != e->t || !c->up)
				break;
			c->next_tick = 0;
			rpw_alloc_out_reset(&out);
			chassis_run(c, e->node);
		}
		break;
	case EV_HB:
		heartbeat();
		break;
	case EV_LEARN:
		learn(e->node, e->arg);
		break;
	case EV_TERM_END:
		term_end(e->arg);
		break;
	case EV_TERM_START:
		term_start();
		break;
	case EV_CRASH:
		if (!c->up)
			break;
		c->up = false;
		S->restarts++;
		trace("ch%u crashes", e->node);
		at(S->now + rnd_range(50, 2000) * MS, EV_BOOT, e->node, 0, 0);
		break;
	case EV_BOOT:
		trace("ch%u boots", e->node);
		chassis_boot(e->node);
		break;
	case EV_SRV:
		if (!S->quiet) {
			srv_random(e->node);
			at(S->now + rnd_range(20, 600) * MS, EV_SRV, e->node, 0,
			   0);
		}
		break;
	case EV_SRV_DONE:
		srv_done(e->node, e->slot, e->arg);
		break;
	case EV_OFF:
		chassis_off_done(e->node, e->slot, e->arg);
		break;
	case EV_CAP:
		if (e->arg * 1000ULL < S->usable_mw)
			S->drop_t = S->now;
		S->usable_mw = e->arg * 1000ULL;
		trace("usable capacity %u W", e->arg);
		break;
	case EV_POLICY:
		S->policy = e->arg;
		if (acting_psu())
			rpw_ledger_policy(&acting_psu()->l, S->policy, S->now);
		trace("policy holder %s", S->policy ? "bound" : "gone");
		break;
	case EV_QUIET:
		S->quiet = true;
		trace("faults stop");
		break;
	case EV_STORM:
		storm();
		break;
	default:
		break;
	}
}

/* ---------------------------------------------------------------- settle */

static u8 expect_gs(const struct rpw_slot *sl)
{
	switch (sl->state) {
	case RPW_SLOT_REQUESTING:
		return RPW_GS_PENDING;
	case RPW_SLOT_QUEUED:
		return RPW_GS_QUEUED;
	case RPW_SLOT_GRANTED:
		return RPW_GS_GRANTED;
	case RPW_SLOT_SHEDDING:
		return RPW_GS_SHEDDING;
	default:
		return RPW_GS_NONE;
	}
}

static void check_settled(void)
{
	struct psu *p = acting_psu();
	int c, i;

	if (!p) {
		fail("settle: no acting primary");
		return;
	}
	if (p->l.recovering)
		fail("settle: still recovering");
	for (c = 0; c < S->nch && !S->failed; c++) {
		struct chassis *ch = &S->ch[c];
		const struct rpw_ledger_chassis *lc = NULL;
		int k;

		for (k = 0; k < RPW_ALLOC_MAX_CHASSIS; k++)
			if (p->l.ch[k].addr == ch->addr)
				lc = &p->l.ch[k];
		if (!ch->up || ch->s.epoch != cur_term()->epoch || !lc) {
			fail("settle: ch%d not following the primary", c);
			break;
		}
		for (i = 0; i < NSLOT; i++) {
			const struct rpw_slot *sl = &ch->s.slot[i];
			const struct rpw_ledger_ent *e = &lc->ent[i];
			u8 gs = expect_gs(sl);
			u8 st = e->state;

			if (st == RPW_GS_QUEUED && gs == RPW_GS_PENDING)
				gs = RPW_GS_QUEUED;
			if (sl->state == RPW_SLOT_REQUESTING ||
			    sl->state == RPW_SLOT_RELEASING ||
			    sl->stmt_type || sl->fix_id)
				fail("settle: ch%d slot %d unfinished (state %u stmt %u fix %u)",
				     c, i, sl->state, sl->stmt_type, sl->fix_id);
			else if (st != gs || (gs && e->id != sl->id) ||
				 (gs >= RPW_GS_GRANTED &&
				  e->held_mw != sl->held_w * 1000ULL))
				fail("settle: ch%d slot %d is state %u id %u %u W, ledger %u id %u %" PRIu64 " mW",
				     c, i, sl->state, sl->id, sl->held_w, st,
				     e->id, e->held_mw);
			else if (sl->state == RPW_SLOT_QUEUED &&
				 p->l.granted_mw + e->want_mw <= S->usable_mw)
				fail("settle: ch%d slot %d queued though it fits",
				     c, i);
			else if (gs >= RPW_GS_GRANTED &&
				 e->want_mw != sl->want_w * 1000ULL)
				fail("settle: ch%d slot %d wants %u W, ledger %" PRIu64 " mW",
				     c, i, sl->want_w, e->want_mw);
			else if (ch->hw[i].powered !=
				 (sl->state == RPW_SLOT_GRANTED ||
				  sl->state == RPW_SLOT_SHEDDING))
				fail("settle: ch%d slot %d enable %d in state %u",
				     c, i, ch->hw[i].powered, sl->state);
		}
	}
}

/* ---------------------------------------------------------------- run */

static void scenario(void)
{
	static const double loss_tab[] = { 0, 0.02, 0.1, 0.3 };
	static const double dup_tab[] = { 0, 0.02, 0.1 };
	static const u64 jitter_tab[] = { MS, 5 * MS, 20 * MS };
	u64 need = 0;
	int c, i, n;

	S->nch = S->nch ? S->nch : (int)rnd_range(1, MAXCH);
	S->npsu = rnd_range(1, NPSU_MAX);
	S->loss = loss_tab[rnd_below(4)];
	S->dup = dup_tab[rnd_below(3)];
	S->jitter = jitter_tab[rnd_below(3)];
	S->policy = true;
	for (i = 0; i < S->npsu; i++) {
		S->psu[i].addr = 1 + i;
		S->psu[i].alive = true;
		rpw_ledger_init(&S->psu[i].l, &tm);
	}
	for (c = 0; c < S->nch; c++) {
		struct chassis *ch = &S->ch[c];

		ch->addr = 0x20 + c;
		for (i = 0; i < NSLOT; i++) {
			struct hw_slot *h = &ch->hw[i];

			if (chance(0.3))
				continue;
			h->srv = SRV_OFF;
			h->need_w = rnd_range(50, 400);
			h->draw_w = h->need_w;
			h->prio = rnd_below(48) * 5;
			h->stubborn = chance(0.2);
			need += h->need_w;
		}
		at(rnd_range(0, 30) * MS, EV_BOOT, c, 0, 0);
		at(rnd_range(100, 400) * MS, EV_SRV, c, 0, 0);
	}
	S->usable_mw = (need + 400) * rnd_range(30, 100) * 10;
	at(rnd_range(20, 60) * MS, EV_TERM_START, 0, 0, 0);
	at(HB_NS, EV_HB, 0, 0, 0);
	for (n = rnd_below(3); n-- > 0;)
		at(rnd_range(300, FAULT_MS) * MS, EV_TERM_END, 0, 0,
		   chance(0.5));
	for (n = rnd_below(3); n-- > 0;)
		at(rnd_range(100, FAULT_MS) * MS, EV_CRASH, rnd_below(S->nch),
		   0, 0);
	if (chance(0.5)) {
		u64 t = rnd_range(200, FAULT_MS - 1000);

		at(t * MS, EV_CAP, 0, 0,
		   S->usable_mw / 1000 * rnd_range(40, 90) / 100);
		if (chance(0.5))
			at((t + rnd_range(500, 3000)) * MS, EV_CAP, 0, 0,
			   S->usable_mw / 1000);
	}
	if (chance(0.3)) {
		u64 t = rnd_range(200, FAULT_MS - 500);

		at(t * MS, EV_POLICY, 0, 0, 0);
		at((t + rnd_range(100, 5000)) * MS, EV_POLICY, 0, 0, 1);
	}
	if (chance(0.5))
		at(rnd_range(100, FAULT_MS) * MS, EV_STORM, 0, 0, 0);
	at(FAULT_MS * MS, EV_QUIET, 0, 0, 0);
	at((FAULT_MS + SETTLE_MS) * MS, EV_END, 0, 0, 0);
}

static void sim_reset(struct sim *s)
{
	free(s->heap);
	memset(s, 0, sizeof(*s));
}

/* One scenario; 0 when every invariant held. */
static int run_scenario(u64 seed, int verbose, int nch, char *sum,
			size_t sumlen)
{
	static struct sim sim;
	struct event e;

	sim_reset(&sim);
	S = &sim;
	S->verbose = verbose;
	S->nch = nch;
	rng_s = seed * 0x2545f4914f6cdd1dULL + 1;
	scenario();
	while (S->nheap && !S->failed) {
		e = pop();
		S->now = e.t;
		S->events++;
		if (e.kind == EV_END) {
			struct term *t = cur_term();

			/* A crash in the last moment: let the rack recover. */
			if (!t || !t->live) {
				at(S->now + 2000 * MS, EV_END, 0, 0, 0);
				continue;
			}
			check_settled();
			break;
		}
		handle(&e);
		/* The policy acts on what the primary sees. */
		if ((e.kind == EV_DELIVER && e.to_psu) ||
		    (e.kind == EV_TICK && e.slot) || e.kind == EV_CAP ||
		    e.kind == EV_POLICY || e.kind == EV_TERM_START)
			policy_run();
		check_all();
	}
	snprintf(sum, sumlen,
		 "%d chassis, %d psu, loss %.2f dup %.2f, %d terms, %" PRIu64
		 " restarts, %" PRIu64 " power-ons, %" PRIu64 " sheds, %" PRIu64
		 " refused, shed window %.0f ms",
		 S->nch, S->npsu, S->loss, S->dup, S->nterms, S->restarts,
		 S->power_ons, S->sheds, S->refused, S->max_over_ns / 1e6);
	return S->failed;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: alloc_sim [--seeds N] [--seed S] [--chassis M] [-v|-vv]\n"
		"                 [--mutate resend|offack]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	u64 seeds = 10000, seed0 = 1, i, failed = 0, events = 0, powers = 0;
	u64 max_over = 0, blind = 0, refused = 0, sheds = 0;
	struct timespec t0, t1;
	int verbose = 0, nch = 0, a;
	char sum[256];

	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--seeds") && a + 1 < argc)
			seeds = strtoull(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--seed") && a + 1 < argc)
			seed0 = strtoull(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--chassis") && a + 1 < argc)
			nch = atoi(argv[++a]);
		else if (!strcmp(argv[a], "--mutate") && a + 1 < argc)
			mutate = argv[++a];
		else if (!strcmp(argv[a], "-v"))
			verbose = 1;
		else if (!strcmp(argv[a], "-vv"))
			verbose = 2;
		else
			usage();
	}
	if (nch < 0 || nch > MAXCH)
		usage();
	rpw_alloc_timing_default(&tm);
	tm.shed_ms = SHED_MS;
	/* Weakened on purpose (make alloc-mutants): nothing is resent. */
	if (mutate && !strcmp(mutate, "resend"))
		tm.resend_ms = tm.queued_ms = 1000000;
	else if (mutate && !strcmp(mutate, "offack"))
		off_ack = false;
	else if (mutate)
		usage();

	clock_gettime(CLOCK_MONOTONIC, &t0);
	printf("TAP version 13\n");
	for (i = 0; i < seeds; i++) {
		u64 seed = seed0 + i;

		if (run_scenario(seed, verbose, nch, sum, sizeof(sum))) {
			failed++;
			if (failed <= 10) {
				printf("not ok %" PRIu64 " - seed %" PRIu64 " (%s): %s\n",
				       failed, seed, sum, S->why);
				printf("# repro: %s --seeds 1 --seed %" PRIu64,
				       argv[0], seed);
				if (nch)
					printf(" --chassis %d", nch);
				if (mutate)
					printf(" --mutate %s", mutate);
				printf(" -v\n");
			}
		} else if (verbose) {
			printf("ok - seed %" PRIu64 " (%s)\n", seed, sum);
		}
		events += S->events;
		powers += S->power_ons;
		refused += S->refused;
		sheds += S->sheds;
		blind += S->blind_over;
		if (S->max_over_ns > max_over)
			max_over = S->max_over_ns;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# %" PRIu64 " power-ons, %" PRIu64 " sheds; %" PRIu64
	       " grants the policy asked beyond capacity, refused by the ledger\n",
	       powers, sheds, refused);
	printf("# longest shed window (draw above usable after a drop): %.0f ms (bound %.0f ms)\n",
	       max_over / 1e6, SHED_WINDOW / 1e6);
	printf("# periods above capacity begun in a term that recovered by the hold: %" PRIu64 "\n",
	       blind);
	printf("%sok - %" PRIu64 " scenarios, seeds %" PRIu64 "..%" PRIu64 ", %" PRIu64 " failed, %" PRIu64 " events, %.1f s\n",
	       failed ? "not " : "", seeds, seed0, seed0 + seeds - 1, failed,
	       events, (double)(t1.tv_sec - t0.tv_sec) +
	       (t1.tv_nsec - t0.tv_nsec) / 1e9);
	printf("1..%" PRIu64 "\n", failed ? failed + 1 : 1);
	sim_reset(S);
	return failed ? 1 : 0;
}
