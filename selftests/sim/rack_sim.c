// SPDX-License-Identifier: GPL-2.0-only
/*
 * rack_sim - the seed's rack with its real policy: the shed sequence after
 * a supply failure and the failover in the middle of a storm, timed.
 *
 * Two power-supply modules (addresses 1 and 2), each with an assembly of
 * six supplies (bank A 0-2, bank B 3-5, RACK_SUPPLY_MW each), and six
 * chassis modules (addresses 11-16) of eight servers, on one bus at 115200
 * baud with the UART timing profile.  Every node runs the real code: the
 * MAC (busim.c), the election (rpw_elect.c), the capacity exchange
 * (rpw_cap.c) and the allocation (rpw_alloc.c), glued the way stack_sim.c
 * and the kernel glue (elect.c, capacity.c, alloc.c) do.  Each
 * power-supply module has an agent: the real policy (agent/policy.c, mode
 * n+n, default configuration) driven the way rackpwrd drives it.  It
 * hears each notification of the kernel --agent-us after it was raised
 * and acts at once (power-decide, power-shed, slot-set power on for a
 * restore).  On every election or recovery event it reads power-get
 * (acting = the node acts and its ledger is not recovering, at the node's
 * epoch): deciding from the moment its node acts, it reads the table
 * again (a resync) at once.  Seeing its node's lease hold at an epoch for
 * the first time, recovering or not, it holds sheds for --settle-ms (the
 * policy's settling: the new primary's capacity table fills) but grants
 * what fits the capacity known.  A refused decision makes it resync.  A
 * shed server shuts down --shutdown-ms after it is asked.
 *
 * Servers: chassis c (0-5), slot s: RACK_SRV_W(s) watts, priority
 * rack_prio(c, s): 48 distinct levels, a permutation of the slots, so the
 * shed order is the policy's and not the address order.
 *
 *   rack_sim --shed-bench [--seed S] [common options]
 *	All 48 servers ask at once; once all are powered and the rack is
 *	quiet, supply 1 (bank A) of the secondary's assembly fails (the
 *	secondary reports it unsolicited); the policy sheds one server at a
 *	time, lowest priority first, until the granted total fits the n+n
 *	budget again.  Then the supply is repaired: the shed servers, which
 *	asked again after their shed and were queued, are granted again.
 *	Printed: the time until the storm is powered (the real policy's
 *	storm), from the failure to the first shed request
 *	reaching its chassis and to the desired state (the primary's policy
 *	and ledger hold no more than the budget), and from the repair to the
 *	last shed server powered again.
 *
 *   rack_sim --failover-bench [--kill-ms K] [--seed S] [common options]
 *	All 48 servers ask at once; K ms later (default 250) the acting
 *	primary is cut off the bus.  Printed: the last power-on under its
 *	grants and the first under its successor's, and the takeover: kill
 *	-> successor acting, its ledger rebuilt from the chassis (recovery
 *	over), its agent deciding, first grant powered; when every request
 *	was answered, and how many servers are powered then (the successor
 *	knows only its own assembly: the others are queued).
 *
 *   rack_sim --settle-bench [--cut-ms C] [--seed S] [common options]
 *	All 48 servers ask at once; once all are powered and the rack is
 *	quiet (4.68 kW granted, n+n budget 4.80 kW), the acting primary is
 *	cut off the bus for C ms (default 800) and comes back as a
 *	secondary.  Its successor rebuilds the table knowing only its own
 *	assembly (budget 2.40 kW) until the other answers a capacity query
 *	after its return: a shed before then would be needless.  Printed:
 *	the cut -> successor acting, deciding, both assemblies known, its
 *	settle over; and the sheds (the run fails on any, and on a
 *	successor that knew both assemblies already when it began to decide:
 *	nothing would have been held).
 *
 * Common options: --agent-us U (1000), --settle-ms M (2500, rackpwrd's
 * 2 x cap_query_ms + 500), --shutdown-ms D (0), --no-renew (a primary's
 * queued frames keep the lease end of their queueing, as before they
 * followed the lease: the run fails when one expires though its lease
 * had been renewed past it), -v, -vv (frames).
 * A line "row: ..." carries the figures for make bench-shed/-failover.
 *
 * Every figure is printed in ms and in frame times (T_f: the election's
 * frame, 18 characters), with its floor beside it ("floor:" lines for
 * the tables): the wire time of the frames on its critical path, at the
 * length the protocol gives them (no gaps, no ACKs, no waiting for the
 * sender's turn), plus the election's detection time T_det for the
 * takeover.  The run checks itself and prints "result: ok" only if: the
 * shed order equals the priority order computed here from the server
 * table (lowest first, as many as the budget needs, no more); no server is
 * powered on twice for one grant, while powered, or without its chassis
 * holding the grant; a grant of the acting primary never leaves more
 * powered than its policy's budget; the powered total never exceeds the
 * supplies' capacity, nor the n+n budget outside the shed window; at the
 * end every request has its answer (every server powered, for the shed
 * bench), each server was powered once plus once per shed, and the
 * primary's ledger has one line per server, agreeing with its chassis.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "busim.h"
#include "policy.h"
#include "rpw_alloc.h"
#include "rpw_cap.h"
#include "rpw_elect.h"

#define MS		1000000ULL
#define NPSU		2
#define NCH		6
#define NN		(NPSU + NCH)
#define CH_BASE		11
#define NSLOT		RPW_ALLOC_SLOTS
#define NSRV		(NCH * NSLOT)
#define RACK_SUPPLY_MW	800000U		/* each supply's usable mW */
#define RACK_SRV_W(s)	(80 + 5 * (s))	/* a server's need by slot, W */
#define FAIL_SUPPLY	1		/* the failing supply: bank A */
#define NEVER		(~0ULL)
#define POL_ACTS	64
#define TAKEOVER_TARGET_MS 300		/* issue 13: takeover with rebuild */
#define STORM_TARGET_MS	150		/* issue 13: 48 requests answered */

struct agent {
	struct rpwp *pol;
	bool acting, synced, need_sync;
	u32 epoch;
	u32 settle_epoch;	/* the epoch its sheds were held at */
	u64 settle_until;
	u64 tick_at;		/* armed policy tick, NEVER: none */
	u64 deciding_since;	/* synced at its epoch, 0: not */
};

struct server {
	u32 watts;
	u8 prio;
	bool powered;
	u32 grant;		/* the id it was powered for */
	unsigned int power_ons;
	unsigned int sheds;	/* shutdowns asked for a shed */
};

struct rnode {
	struct busim *sim;
	int idx;
	u8 addr;
	bool psu, dead;
	struct rpw_elect e;
	u64 timer;
	/* capacity */
	struct rpw_cap_table cap;
	struct rpw_cap_entry own;
	u64 next_query;		/* primary: next CAP_QUERY, 0: promoted */
	u32 cap_epoch;		/* primary: the epoch its table is of */
	/* allocation */
	struct rpw_slots slots;
	struct rpw_ledger ledger;
	struct rpw_alloc_out out;
	bool acting;
	u64 atimer;
	u8 aq[256];
	struct agent ag;
	struct server srv[NSLOT];
	u64 renewed_end;	/* psu: the lease end last renewed to */
	u64 renewed_at;		/* ... and when */
};

static struct rnode nodes[NN];
static int verbose, norenew;
/* Primary frames that expired after their lease was renewed past them. */
static unsigned long long renew_missed;
static void alloc_renew(struct rnode *n, u64 now);
static u64 agent_ns = MS, settle_ms = 2500, shutdown_ns;
static unsigned int fails;	/* invariant violations */

#ifndef __printf
#define __printf(a, b)	__attribute__((format(printf, a, b)))
#endif

static void __printf(1, 2) fail(const char *fmt, ...)
{
	va_list ap;

	if (fails++ < 10) {
		printf("# FAIL: ");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
}

static u64 now_of(const struct rnode *n)
{
	return busim_now(n->sim);
}

/* 48 distinct priorities, 1..236: k = c * 8 + s gets 1 + 5 ((29k + 11) mod 48). */
static u8 rack_prio(int c, int s)
{
	return 1 + 5 * (((c * NSLOT + s) * 29 + 11) % NSRV);
}

/* ---- wire time of frames, for the floors ------------------------------- */

static u64 char_ns;

/* A frame of @type with @len payload bytes (zeros) on the wire, ns. */
static u64 wire(u8 type, unsigned int len)
{
	struct rpw_frame f = { .version = RPW_PROTO_VERSION, .type = type,
			       .dst = 1, .src = CH_BASE, .len = len };
	u8 buf[RPW_MAX_WIRE];
	int n;

	if (type != RPW_T_INV_QUERY && type != RPW_T_PRIMARY)
		f.flags = RPW_F_ACKREQ;
	if (type == RPW_T_INV_QUERY || type == RPW_T_PRIMARY)
		f.dst = RPW_ADDR_BCAST;
	n = rpw_frame_encode(&f, buf, sizeof(buf));
	if (n <= 0) {
		fprintf(stderr, "rack_sim: frame 0x%02x len %u: %d\n", type, len, n);
		exit(2);
	}
	return (u64)n * char_ns;
}

/* @n entries of @esz bytes in as few allocation frames of @type as fit. */
static u64 wire_entries(u8 type, unsigned int esz, unsigned int n)
{
	unsigned int per = RPW_PWR_MAX_ENTRIES(esz), k;
	u64 ns = 0;

	for (; n; n -= k) {
		k = n < per ? n : per;
		ns += wire(type, RPW_PWR_HDR_LEN + k * esz);
	}
	return ns;
}

/* A secondary's CAP_REPORT of its assembly, as rpw_cap packs it. */
static u64 wire_cap_report(void)
{
	struct rpw_cap_entry e = { .present = 0x3f, .healthy = 0x3f };
	struct rpw_frame f;

	rpw_cap_pack_report(&f, 1, 0, &e);
	return wire(f.type, f.len);
}

/* ---- election (as stack_sim.c and driver/elect.c) ---------------------- */

static void s_timer_fire(struct busim *sim, void *arg)
{
	struct rnode *n = arg;
	u64 now = busim_now(sim);

	if (n->dead || n->timer == RPW_ELECT_NO_TIMER || now < n->timer)
		return;
	n->timer = RPW_ELECT_NO_TIMER;
	rpw_elect_timer_expired(&n->e, now);
	alloc_renew(n, now);
}

static void s_timer(void *ctx, u64 exp)
{
	struct rnode *n = ctx;

	n->timer = exp;
	if (exp != RPW_ELECT_NO_TIMER)
		busim_at(n->sim, exp < now_of(n) ? now_of(n) : exp,
			 s_timer_fire, n);
}

static int s_send(void *ctx, const struct rpw_frame *f,
		  enum rpw_elect_prio prio, u64 ttl_ns)
{
	struct rnode *n = ctx;
	struct rpw_mac_txreq *req = calloc(1, sizeof(*req));
	int err;

	if (!req)
		return -ENOMEM;
	req->frame = *f;
	req->keep_seq = true;
	req->urgent = prio != RPW_ELECT_PRIO_NORMAL;
	req->defer = prio == RPW_ELECT_PRIO_DEFER;
	req->ahead = rpw_elect_claim(f);
	req->answered = rpw_elect_answered(f);
	req->cls = RPW_MAC_CLASS_ELECT;
	req->expires_ns = ttl_ns ? now_of(n) + ttl_ns : 0;
	err = busim_submit(n->sim, n->idx, req);
	if (err)
		free(req);
	return err;
}

static bool own_claim(const struct rpw_mac_txreq *req, void *arg)
{
	(void)arg;
	return req->keep_seq && rpw_elect_claim(&req->frame);
}

/* As rpw_node_withdraw_locked(): a primary's allocation frames too. */
static bool own_alloc(const struct rpw_mac_txreq *req, void *arg)
{
	(void)arg;
	return req->cls == RPW_MAC_CLASS_ALLOC;
}

static void a_withdraw(struct busim *sim, void *arg)
{
	struct rnode *n = arg;

	if (!n->dead)
		rpw_mac_cancel_if(busim_mac(sim, n->idx), own_alloc, NULL,
				  busim_now(sim));
}

static void s_withdraw(struct busim *sim, void *arg)
{
	struct rnode *n = arg;

	if (n->dead)
		return;
	rpw_mac_cancel_if(busim_mac(sim, n->idx), own_claim, NULL,
			  busim_now(sim));
	if (n->psu)
		rpw_mac_cancel_if(busim_mac(sim, n->idx), own_alloc, NULL,
				  busim_now(sim));
}

/* Notifications to the agent (kinds). */
enum { AG_RECHECK, AG_RESYNC, AG_REQUEST, AG_ENTRY, AG_CAPACITY };

static void ag_notify(struct rnode *n, int kind, const struct rpwp_entry *e);

static void s_event(void *ctx, enum rpw_elect_event ev, u8 addr, u32 epoch)
{
	struct rnode *n = ctx;

	if (ev == RPW_EV_DEMOTED)
		busim_at(n->sim, now_of(n), s_withdraw, n);
	/* rackpwrd reads power-get again on every election event of its node */
	if (n->psu)
		ag_notify(n, AG_RECHECK, NULL);
	if (verbose)
		printf("# %9.3f ms n%d(%u) %s addr %u epoch %u.%u\n",
		       now_of(n) / 1e6, n->idx, n->addr,
		       rpw_elect_event_name(ev), addr, RPW_EPOCH_TERM(epoch),
		       RPW_EPOCH_OWNER(epoch));
}

static const struct rpw_elect_ops s_ops = {
	.send = s_send, .timer = s_timer, .event = s_event,
};

/* ---- the agent: rackpwrd's handling of the policy ---------------------- */

struct ag_ev {
	struct rnode *n;
	int kind;
	u32 epoch;
	struct rpwp_entry e;
};

static void alloc_kick(struct rnode *n, u64 now);
static void ag_run(struct rnode *n, struct rpwp_out *o, u64 now);
static void ag_arm(struct rnode *n, u64 now);
static void watch_restored(struct rnode *p, u64 now);

static u64 pol_ms(u64 now)
{
	return now / MS;
}

/* The node's capacity lines as the policy takes them. */
static unsigned int ag_lines(struct rnode *n, struct rpwp_assembly *a)
{
	unsigned int k = 0;
	int i;

	for (i = 0; (i = rpw_cap_next(&n->cap, i)) >= 0 && k < 8; i++) {
		const struct rpw_cap_entry *c = &n->cap.ent[i];

		a[k++] = (struct rpwp_assembly){
			.addr = i, .present = c->present,
			.healthy = c->healthy, .lost = c->lost,
			.bank_a_mw = c->bank_mw[0], .bank_b_mw = c->bank_mw[1],
		};
	}
	return k;
}

/* The ledger line of @addr/@slot as the kernel's entry view has it. */
static struct rpwp_entry ledger_entry(const struct rpw_ledger *l, u8 addr,
				      unsigned int slot, u64 now)
{
	struct rpwp_entry r = { .chassis = addr, .slot = slot };
	const struct rpw_ledger_ent *e = NULL;
	unsigned int i;

	for (i = 0; i < RPW_ALLOC_MAX_CHASSIS; i++)
		if (l->ch[i].addr == addr)
			e = &l->ch[i].ent[slot];
	if (!e || e->state == RPW_GS_NONE)
		return r;	/* RPWP_K_GONE */
	r.state = (enum rpwp_kstate)e->state;	/* same numbering */
	r.prio = e->prio;
	r.reason = e->reason;
	r.req_id = e->id;
	r.want_mw = e->want_mw;
	r.held_mw = e->held_mw;
	r.age_ms = (now - e->since) / MS;
	return r;
}

static void ag_deliver(struct busim *sim, void *arg);

/* A notification for @n's agent, as the kernel raises it now. */
static void ag_notify(struct rnode *n, int kind, const struct rpwp_entry *e)
{
	struct ag_ev *ev = calloc(1, sizeof(*ev));

	if (!ev) {
		fail("out of memory");
		return;
	}
	ev->n = n;
	ev->kind = kind;
	ev->epoch = n->ledger.epoch;
	if (e)
		ev->e = *e;
	busim_at(n->sim, now_of(n) + agent_ns, ag_deliver, ev);
}

/* The kernel's usable capacity: both banks of every known line. */
static u64 usable_mw(const struct rnode *n)
{
	return rpw_cap_total_mw(&n->cap, 0) + rpw_cap_total_mw(&n->cap, 1);
}

static bool may_act(const struct rnode *n, u64 now)
{
	return !n->dead && n->acting && rpw_elect_is_primary(&n->e, now) &&
	       n->ag.epoch == n->ledger.epoch;
}

/* One action, as rackpwrd's run_one(). */
static void ag_one(struct rnode *n, const struct rpwp_action *a,
		   struct rpwp_out *retry, u64 now);

static void ag_resync(struct rnode *n, u64 now)
{
	struct rpwp_action acts[POL_ACTS];
	struct rpwp_out o = { .act = acts, .max = POL_ACTS };
	struct rpwp_assembly as[8];
	struct rpw_ledger_info in;
	struct rpwp_entry e;
	int pos;

	if (!n->ag.acting || n->ag.need_sync)
		return;
	rpwp_resync_begin(n->ag.pol);
	for (pos = 0; (pos = rpw_ledger_next(&n->ledger, pos, &in)) >= 0;
	     pos++) {
		e = ledger_entry(&n->ledger, in.addr, in.slot, now);
		if (rpwp_resync_entry(n->ag.pol, &e, pol_ms(now)))
			fail("policy table full");
	}
	n->ag.synced = true;
	n->ag.deciding_since = now;
	rpwp_capacity(n->ag.pol, as, ag_lines(n, as), pol_ms(now), &o);
	rpwp_resync_end(n->ag.pol, pol_ms(now), &o);
	ag_run(n, &o, now);
	rpwp_tick(n->ag.pol, pol_ms(now), &o);
	ag_run(n, &o, now);
	ag_arm(n, now);
	if (verbose) {
		struct rpwp_budget b;

		rpwp_budget(n->ag.pol, &b);
		printf("# %9.3f ms n%d agent resynced at epoch %u.%u: budget %llu mW, granted %llu mW, %u waiting\n",
		       now / 1e6, n->idx, RPW_EPOCH_TERM(n->ag.epoch),
		       RPW_EPOCH_OWNER(n->ag.epoch),
		       (unsigned long long)b.budget_mw,
		       (unsigned long long)b.granted_mw, b.queued);
	}
}

static void ag_start(struct busim *sim, void *arg)
{
	struct rnode *n = arg;
	u64 now = busim_now(sim);

	if (n->dead || !n->ag.need_sync || !n->ag.acting)
		return;
	n->ag.need_sync = false;
	ag_resync(n, now);
}

/* As rackpwrd's settle_start(): sheds wait while the table fills. */
static void ag_settle_start(struct rnode *n, u32 epoch, u64 now)
{
	struct rpwp_action acts[POL_ACTS];
	struct rpwp_out o = { .act = acts, .max = POL_ACTS };
	struct agent *ag = &n->ag;

	ag->settle_epoch = epoch;
	ag->settle_until = now + settle_ms * MS;
	rpwp_settling(ag->pol, pol_ms(ag->settle_until), pol_ms(now), &o);
	if (o.n)
		fail("n%d: the policy acted when its settling started", n->idx);
	if (verbose)
		printf("# %9.3f ms n%d agent: epoch %u.%u, sheds held until %.3f ms\n",
		       now / 1e6, n->idx, RPW_EPOCH_TERM(epoch),
		       RPW_EPOCH_OWNER(epoch), ag->settle_until / 1e6);
}

/* As rackpwrd's recheck(): power-get, then maybe a resync. */
static void ag_recheck(struct rnode *n, u64 now)
{
	struct agent *ag = &n->ag;
	bool was = ag->acting;
	/* power-get: the node's election epoch and acting, the ledger's recovery */
	bool lease = rpw_elect_is_primary(&n->e, now);
	bool acting = lease && !n->ledger.recovering;
	u32 epoch = rpw_elect_epoch(&n->e);

	if (acting && (epoch != ag->epoch || !was)) {
		ag->synced = false;
		ag->need_sync = true;
		busim_at(n->sim, now, ag_start, n);
	}
	if (lease && epoch != ag->settle_epoch)
		ag_settle_start(n, epoch, now);
	if (!acting) {
		ag->synced = false;
		ag->deciding_since = 0;
	}
	ag->acting = acting;
	ag->epoch = epoch;
}

static void ag_deliver(struct busim *sim, void *arg)
{
	struct ag_ev *ev = arg;
	struct rnode *n = ev->n;
	struct rpwp_action acts[POL_ACTS];
	struct rpwp_out o = { .act = acts, .max = POL_ACTS };
	struct rpwp_assembly as[8];
	u64 now = busim_now(sim);

	if (n->dead)
		goto out;
	switch (ev->kind) {
	case AG_RECHECK:
		ag_recheck(n, now);
		break;
	case AG_RESYNC:
		/* A refused op: read the state again (rackpwrd's resync). */
		ag_recheck(n, now);
		if (n->ag.synced)
			ag_resync(n, now);
		break;
	case AG_REQUEST:
		if (ev->epoch != n->ag.epoch)
			ag_recheck(n, now);
		if (!n->ag.acting || !n->ag.synced || ev->epoch != n->ag.epoch)
			break;
		ev->e.state = RPWP_K_PENDING;
		rpwp_request(n->ag.pol, &ev->e, pol_ms(now), &o);
		ag_run(n, &o, now);
		break;
	case AG_ENTRY:
		if (!n->ag.acting || !n->ag.synced)
			break;
		rpwp_entry(n->ag.pol, &ev->e, pol_ms(now), &o);
		ag_run(n, &o, now);
		break;
	case AG_CAPACITY:
		if (!n->ag.acting || !n->ag.synced)
			break;
		rpwp_capacity(n->ag.pol, as, ag_lines(n, as), pol_ms(now), &o);
		ag_run(n, &o, now);
		break;
	}
	ag_arm(n, now);
	watch_restored(n, now);
out:
	free(ev);
}

static void ag_tick(struct busim *sim, void *arg)
{
	struct rnode *n = arg;
	struct rpwp_action acts[POL_ACTS];
	struct rpwp_out o = { .act = acts, .max = POL_ACTS };
	u64 now = busim_now(sim);

	if (n->ag.tick_at != now)
		return;
	n->ag.tick_at = NEVER;
	if (n->dead || !n->ag.acting || !n->ag.synced)
		return;
	rpwp_tick(n->ag.pol, pol_ms(now), &o);
	ag_run(n, &o, now);
	ag_arm(n, now);
}

/* rackpwrd polls until the policy's next deadline. */
static void ag_arm(struct rnode *n, u64 now)
{
	u64 dl;

	if (n->dead || !n->ag.acting || !n->ag.synced)
		return;
	dl = rpwp_next_deadline(n->ag.pol);
	if (dl == UINT64_MAX)
		return;
	dl = dl * MS < now ? now : dl * MS;
	if (n->ag.tick_at != NEVER && n->ag.tick_at <= dl)
		return;
	n->ag.tick_at = dl;
	busim_at(n->sim, dl, ag_tick, n);
}

/* ---- measurements and checks ------------------------------------------- */

static struct {
	/* shed bench */
	u64 storm_all;			/* the first storm fully powered */
	u64 fail_at, first_shed, restored, repair_at, last_regrant;
	unsigned int sheds, regrants;
	u8 shed_seq[NSRV][2];		/* chassis index, slot */
	bool want_regrant[NCH][NSLOT];
	u64 budget_after, granted_at_fail;
	/* failover bench */
	u64 storm_at, kill_at, last_before, first_after, all_at;
	u64 acting_at, rebuilt_at, deciding_at;
	u32 kill_epoch;			/* the killed primary's */
	unsigned int open_at_kill;	/* requests without an answer */
	unsigned int inv_rx, inv_query;	/* during the rebuild */
	unsigned int stale;		/* refused by the successor */
	unsigned int inv_unsent;	/* reports withdrawn or given up */
	int killed;			/* node index, -1: none */
	bool shed_window;		/* budget may be exceeded */
	/* settle bench */
	u64 cut_at, back_at, full_at, settled_at;
	u64 cut_mw, deciding_budget;
	unsigned int cut_sheds;		/* shed requests after the cut */
	int cut;			/* node index, -1: none */
} m = { .killed = -1, .cut = -1 };

/* When the primary was killed or cut off, 0: not yet. */
static u64 lost_at(void)
{
	return m.kill_at ? m.kill_at : m.cut_at;
}

static struct rnode *chassis(int c)
{
	return &nodes[NPSU + c];
}

static u64 powered_mw(void)
{
	u64 mw = 0;
	int c, s;

	for (c = 0; c < NCH; c++)
		for (s = 0; s < NSLOT; s++)
			if (chassis(c)->srv[s].powered)
				mw += (u64)chassis(c)->srv[s].watts * 1000;
	return mw;
}

static unsigned int powered_count(void)
{
	unsigned int k = 0;
	int c, s;

	for (c = 0; c < NCH; c++)
		for (s = 0; s < NSLOT; s++)
			k += chassis(c)->srv[s].powered;
	return k;
}

/* Healthy supplies of every assembly: the rack's physical capacity. */
static u64 rack_mw(int bank)
{
	u64 mw = 0;
	int i;

	for (i = 0; i < NPSU; i++)
		mw += nodes[i].own.bank_mw[bank];
	return mw;
}

static struct rnode *acting_primary(u64 now)
{
	int i;

	for (i = 0; i < NPSU; i++)
		if (!nodes[i].dead && nodes[i].acting &&
		    rpw_elect_is_primary(&nodes[i].e, now))
			return &nodes[i];
	return NULL;
}

/* Every millisecond: what must hold whatever the timing. */
static void check_invariants(u64 now)
{
	u64 mw = powered_mw(), a = rack_mw(0), b = rack_mw(1);
	int c, s;

	if (mw > a + b)
		fail("%.3f ms: %llu mW powered, usable %llu", now / 1e6,
		     (unsigned long long)mw, (unsigned long long)(a + b));
	if (!m.shed_window && mw > (a < b ? a : b))
		fail("%.3f ms: %llu mW powered above the n+n budget %llu",
		     now / 1e6, (unsigned long long)mw,
		     (unsigned long long)(a < b ? a : b));
	for (c = 0; c < NCH; c++)
		for (s = 0; s < NSLOT; s++) {
			const struct server *v = &chassis(c)->srv[s];
			const struct rpw_slot *sl = &chassis(c)->slots.slot[s];

			if (v->powered && (sl->id != v->grant ||
					   (sl->state != RPW_SLOT_GRANTED &&
					    sl->state != RPW_SLOT_SHEDDING)))
				fail("%.3f ms: chassis %d slot %d powered without its grant",
				     now / 1e6, CH_BASE + c, s);
		}
}

/*
 * The desired state after the failure: the primary's policy and ledger
 * hold no more than the lowered budget, and nothing more is powered.
 */
static void watch_restored(struct rnode *p, u64 now)
{
	struct rpwp_budget b;

	if (!m.fail_at || m.restored || p->dead || !p->ag.synced)
		return;
	rpwp_budget(p->ag.pol, &b);
	if (b.budget_mw != m.budget_after || b.granted_mw > b.budget_mw ||
	    p->ledger.granted_mw > b.budget_mw)
		return;
	m.restored = now;
	m.shed_window = false;
	if (powered_mw() > b.budget_mw)
		fail("desired state in the ledger, but %llu mW still powered",
		     (unsigned long long)powered_mw());
}

/*
 * A grant of the acting primary's epoch powered a server: the policy
 * granted it only if it fitted the budget beside everything its ledger
 * holds, so nothing powered may exceed that budget now.  A primary that
 * granted before it knew every holding (no rebuild) fails here.
 */
static void budget_check(const struct rnode *ch, u64 now)
{
	struct rnode *p = acting_primary(now);
	struct rpwp_budget b;

	if (!p || !p->ag.synced || ch->slots.epoch != p->ledger.epoch)
		return;
	rpwp_budget(p->ag.pol, &b);
	if (powered_mw() > b.budget_mw)
		fail("%.3f ms: a grant of epoch %u.%u powered %llu mW, above its policy's budget %llu mW",
		     now / 1e6, RPW_EPOCH_TERM(p->ledger.epoch),
		     RPW_EPOCH_OWNER(p->ledger.epoch),
		     (unsigned long long)powered_mw(),
		     (unsigned long long)b.budget_mw);
}

/* ---- server model (the chassis' actions) -------------------------------- */

static void srv_off(struct busim *sim, void *arg);

struct srv_ref {
	struct rnode *n;
	unsigned int slot;
};

static void srv_action(struct rnode *n, const struct rpw_alloc_act *a, u64 now)
{
	struct server *v = &n->srv[a->slot];
	struct srv_ref *r;

	switch (a->kind) {
	case RPW_ACT_POWER_ON:
		if (v->powered || (v->power_ons && v->grant == a->id))
			fail("chassis %u slot %u powered on twice (grant %u, then %u)",
			     n->addr, a->slot, v->grant, a->id);
		v->powered = true;
		v->grant = a->id;
		v->power_ons++;
		budget_check(n, now);
		if (m.storm_at && !m.storm_all && powered_count() == NSRV)
			m.storm_all = now;
		/* Whose grant: the killed primary's epoch or its successor's. */
		if (m.kill_at && (now < m.kill_at ||
				  n->slots.epoch == m.kill_epoch))
			m.last_before = now;
		else if (m.kill_at && !m.first_after)
			m.first_after = now;
		if (m.repair_at && now >= m.repair_at &&
		    m.want_regrant[n->idx - NPSU][a->slot]) {
			m.want_regrant[n->idx - NPSU][a->slot] = false;
			m.regrants++;
			m.last_regrant = now;
		}
		break;
	case RPW_ACT_POWER_OFF:
		v->powered = false;
		break;
	case RPW_ACT_SHUTDOWN:
		/* The shed request reached the chassis: in order. */
		v->sheds++;
		m.cut_sheds += m.cut_at != 0;
		if (m.fail_at && m.sheds < NSRV) {
			if (!m.first_shed)
				m.first_shed = now;
			m.shed_seq[m.sheds][0] = n->idx - NPSU;
			m.shed_seq[m.sheds][1] = a->slot;
			m.sheds++;
		}
		r = malloc(sizeof(*r));
		if (!r) {
			fail("out of memory");
			break;
		}
		r->n = n;
		r->slot = a->slot;
		busim_at(n->sim, now + shutdown_ns, srv_off, r);
		break;
	}
}

/* ---- allocation glue (as driver/alloc.c, stack_sim.c) ------------------- */

static bool alloc_cls(const struct rpw_mac_txreq *req, void *arg)
{
	(void)arg;
	return req->cls == RPW_MAC_CLASS_ALLOC;
}

/*
 * As rpw_alloc_renew(), after every call into the election (where
 * elect.c publishes the leader): a primary's queued allocation frames
 * follow its lease as it is renewed (--no-renew: they keep the lease end
 * they were queued with).
 */
static void alloc_renew(struct rnode *n, u64 now)
{
	u64 end;

	if (n->dead || !(n->psu))
		return;
	end = rpw_elect_lease_end(&n->e, now);
	if (!end || end == n->renewed_end)
		return;
	n->renewed_end = end;
	n->renewed_at = now;
	if (!norenew)
		rpw_mac_expiry_if(busim_mac(n->sim, n->idx), alloc_cls, NULL,
				  end, now);
}

/*
 * A primary's allocation frame expired: fail when its lease had already
 * been renewed past its expiry while it was queued (it had to follow).
 */
static void alloc_expired(struct rnode *n, const struct rpw_mac_txreq *req,
			  u64 now)
{
	if (n->renewed_at > req->expires_ns ||
	    n->renewed_end <= req->expires_ns)
		return;
	renew_missed++;
	if (verbose)
		printf("# %9.3f ms n%d frame 0x%02x expired at %.3f ms, lease renewed to %.3f ms at %.3f ms\n",
		       now / 1e6, n->idx, req->frame.type,
		       req->expires_ns / 1e6, n->renewed_end / 1e6,
		       n->renewed_at / 1e6);
}

static void alloc_send(struct rnode *n, const struct rpw_frame *f)
{
	struct rpw_mac_txreq *req = calloc(1, sizeof(*req));
	u64 now = now_of(n);

	if (!req)
		return;
	req->frame = *f;
	req->cls = RPW_MAC_CLASS_ALLOC;
	/* As rpw_alloc_tx(): the answer slot for all but table reports. */
	req->answered = !n->psu && f->type != RPW_T_INV_REPORT;
	if (!n->psu) {
		/* An INV_REPORT stays until sent or withdrawn. */
		if (f->type != RPW_T_INV_REPORT)
			req->expires_ns = now + (u64)n->slots.t.resend_ms * MS;
	} else {
		req->expires_ns = rpw_elect_lease_end(&n->e, now);
		if (!req->expires_ns) {
			rpw_ledger_unsent(&n->ledger, f);
			free(req);
			return;
		}
	}
	if (m.killed >= 0 && !m.rebuilt_at)
		m.inv_query += f->type == RPW_T_INV_QUERY;
	if (verbose > 1)
		printf("# %9.3f ms n%d queues 0x%02x to %u len %u\n", now / 1e6,
		       n->idx, f->type, f->dst, f->len);
	if (busim_submit(n->sim, n->idx, req)) {
		if (n->psu)
			rpw_ledger_unsent(&n->ledger, f);
		else
			rpw_slots_unsent(&n->slots, f);
		free(req);
		return;
	}
	n->aq[f->dst]++;
	n->out.queued++;
	rpw_alloc_out_hold(&n->out, f->dst, true);
}

static void alloc_done(struct rnode *n, const struct rpw_frame *f, bool ok,
		       u64 now)
{
	if (!ok && !n->psu && m.killed >= 0 && !m.rebuilt_at)
		m.inv_unsent += f->type == RPW_T_INV_REPORT;
	if (ok && !n->psu)
		rpw_slots_delivered(&n->slots, f, now);
	if (!ok && n->psu)
		rpw_ledger_unsent(&n->ledger, f);
	else if (!ok)
		rpw_slots_unsent(&n->slots, f);
	if (!n->aq[f->dst] || !n->out.queued)
		return;
	n->out.queued--;
	if (!--n->aq[f->dst])
		rpw_alloc_out_hold(&n->out, f->dst, false);
	if (!n->dead)
		alloc_kick(n, now);
}

/* A pending request is told again when the recovery ends (renotify). */
static void alloc_renotify(struct rnode *n, u64 now)
{
	struct rpw_ledger_info in;
	struct rpwp_entry e;
	int pos;

	for (pos = 0; (pos = rpw_ledger_next(&n->ledger, pos, &in)) >= 0;
	     pos++) {
		if (in.state != RPW_GS_PENDING)
			continue;
		e = ledger_entry(&n->ledger, in.addr, in.slot, now);
		ag_notify(n, AG_REQUEST, &e);
	}
}

static void alloc_event(struct rnode *n, const struct rpw_alloc_act *a,
			u64 now)
{
	struct rpwp_entry e;

	if (!n->psu)
		return;
	switch (a->event) {
	case RPW_AEV_REQUEST:
		e = ledger_entry(&n->ledger, a->addr, a->slot, now);
		e.req_id = a->id;
		ag_notify(n, AG_REQUEST, &e);
		break;
	case RPW_AEV_ENTRY:
		e = ledger_entry(&n->ledger, a->addr, a->slot, now);
		ag_notify(n, AG_ENTRY, &e);
		break;
	case RPW_AEV_SHED_REFUSED:
		e = ledger_entry(&n->ledger, a->addr, a->slot, now);
		e.req_id = a->id;
		e.state = RPWP_K_GRANTED;
		e.reason = RPW_PWR_R_REFUSED;
		ag_notify(n, AG_ENTRY, &e);
		break;
	case RPW_AEV_RECOVERED:
		if (verbose)
			printf("# %9.3f ms n%d recovered (reason %u)\n",
			       now / 1e6, n->idx, a->reason);
		if (!m.rebuilt_at && lost_at() && now > lost_at())
			m.rebuilt_at = now;
		ag_notify(n, AG_RECHECK, NULL);
		alloc_renotify(n, now);
		break;
	case RPW_AEV_NO_POLICY:
		fail("chassis %u slot %u denied for want of a policy",
		     a->addr, a->slot);
		break;
	}
}

static void alloc_drain(struct rnode *n, u64 now)
{
	struct rpw_alloc_out *o = &n->out;
	unsigned int i;

	if (o->dropped)
		fail("n%d: %u allocation actions dropped", n->idx, o->dropped);
	for (i = 0; i < o->nframes; i++)
		alloc_send(n, &o->frames[i]);
	for (i = 0; i < o->nacts; i++) {
		if (o->acts[i].kind == RPW_ACT_EVENT)
			alloc_event(n, &o->acts[i], now);
		else if (!n->psu)
			srv_action(n, &o->acts[i], now);
	}
	rpw_alloc_out_reset(o);
}

static void a_timer_fire(struct busim *sim, void *arg)
{
	struct rnode *n = arg;
	u64 now = busim_now(sim);

	if (n->dead || n->atimer == RPW_ALLOC_NO_TIMER || now < n->atimer)
		return;
	n->atimer = RPW_ALLOC_NO_TIMER;
	alloc_kick(n, now);
}

static void alloc_kick(struct rnode *n, u64 now)
{
	u64 next;
	int round;

	alloc_drain(n, now);
	for (round = 0; round < 8; round++) {
		next = n->psu ? rpw_ledger_tick(&n->ledger, now, &n->out) :
		       rpw_slots_tick(&n->slots, now, &n->out);
		alloc_drain(n, now);
		if (next > now)
			break;
	}
	if (next <= now)
		next = now + MS;
	if (next != RPW_ALLOC_NO_TIMER && next != n->atimer) {
		n->atimer = next;
		busim_at(n->sim, next, a_timer_fire, n);
	}
}

static void srv_off(struct busim *sim, void *arg)
{
	struct srv_ref *r = arg;
	u64 now = busim_now(sim);

	if (!r->n->dead) {
		rpw_slots_server_event(&r->n->slots, r->slot, RPW_SEV_OFF, 0,
				       now, &r->n->out);
		alloc_kick(r->n, now);
	}
	free(r);
}

static void alloc_follow(struct rnode *n, u64 now);

static void alloc_rx(struct rnode *n, const struct rpw_frame *f, u64 now)
{
	int err;

	if (n->psu && m.killed >= 0 && !m.rebuilt_at)
		m.inv_rx += f->type == RPW_T_INV_REPORT;
	if (!n->psu)
		alloc_follow(n, now);
	if (n->psu)
		err = rpw_ledger_rx(&n->ledger, f, now, &n->out);
	else
		err = rpw_slots_rx(&n->slots, f, now, &n->out);
	if (n->psu && m.killed >= 0 && err == -ESTALE)
		m.stale++;
	if (verbose > 1)
		printf("# %9.3f ms n%d rx 0x%02x from %u len %u: %d\n",
		       now / 1e6, n->idx, f->type, f->src, f->len, err);
	alloc_kick(n, now);
}

/* ---- capacity glue (as driver/capacity.c) ------------------------------- */

static void cap_send(struct rnode *n, const struct rpw_frame *f)
{
	struct rpw_mac_txreq *req = calloc(1, sizeof(*req));

	if (!req)
		return;
	req->frame = *f;
	req->cls = RPW_MAC_CLASS_PROTO;
	if (busim_submit(n->sim, n->idx, req))
		free(req);
}

static bool is_primary_state(const struct rnode *n)
{
	return rpw_elect_state(&n->e) == RPW_ES_PRIMARY;
}

/* The own assembly changed: a secondary tells the primary at once. */
static void cap_local(struct rnode *n, u64 now)
{
	struct rpw_frame r;
	u8 p = rpw_elect_primary(&n->e);

	if (!rpw_cap_set_local(&n->cap, &n->own, now))
		return;
	if (is_primary_state(n)) {
		if (n->acting)
			ag_notify(n, AG_CAPACITY, NULL);
		return;
	}
	if (p && p != n->addr) {
		rpw_cap_pack_report(&r, p, rpw_elect_epoch(&n->e),
				    &n->cap.ent[n->addr]);
		cap_send(n, &r);
	}
}

static void cap_rx(struct rnode *n, const struct rpw_frame *f, u64 now)
{
	struct rpw_cap_view v = {
		.epoch = rpw_elect_epoch(&n->e),
		.primary = rpw_elect_primary(&n->e),
		.is_primary = is_primary_state(n),
	};
	struct rpw_frame r;

	if (!n->psu)
		return;
	switch (rpw_cap_rx(&n->cap, &v, f, now)) {
	case RPW_CAP_RX_ANSWER:
		rpw_cap_pack_report(&r, f->src, v.epoch,
				    &n->cap.ent[n->cap.self]);
		cap_send(n, &r);
		break;
	case RPW_CAP_RX_CHANGED:
		if (verbose > 1)
			printf("# %9.3f ms n%d capacity of %u changed\n",
			       now / 1e6, n->idx, f->src);
		ag_notify(n, AG_CAPACITY, NULL);
		break;
	default:
		break;
	}
}

/*
 * Every millisecond: the primary queries at once when its lease holds
 * after promotion, then every second; others keep only their own line.
 * As rpw_cap_leader(): a primary at a new epoch starts from its own line.
 */
static void cap_sync(struct rnode *n, u64 now)
{
	struct rpw_frame q;
	int a;

	if (!is_primary_state(n)) {
		rpw_cap_forget_others(&n->cap);
		n->next_query = 0;
		n->cap_epoch = 0;
		return;
	}
	if (n->cap_epoch != rpw_elect_epoch(&n->e)) {
		rpw_cap_forget_others(&n->cap);
		n->next_query = 0;
		n->cap_epoch = rpw_elect_epoch(&n->e);
	}
	if (!rpw_elect_is_primary(&n->e, now) ||
	    (n->next_query && now < n->next_query))
		return;
	n->next_query = now + 1000 * MS;
	rpw_cap_pack_query(&q, rpw_elect_epoch(&n->e));
	cap_send(n, &q);
	for (a = 0; (a = rpw_cap_query_round(&n->cap, a)) >= 0; a++)
		ag_notify(n, AG_CAPACITY, NULL);
}

/*
 * As rpw_alloc_follow(): the primary followed and the end of its lease as
 * its last claim advertised it; what was queued for the one followed
 * before is withdrawn (after the call, as rpw_node_withdraw_locked()).
 */
static void alloc_follow(struct rnode *n, u64 now)
{
	u64 lease = rpw_elect_primary_lease(&n->e);
	u8 p = lease ? rpw_elect_primary(&n->e) : RPW_ADDR_NONE;

	if (p != n->slots.primary || rpw_elect_epoch(&n->e) != n->slots.epoch)
		busim_at(n->sim, now, a_withdraw, n);
	rpw_slots_leader(&n->slots, p, rpw_elect_epoch(&n->e), lease, now);
}

/* Every millisecond, as the leader callbacks: whom we follow, do we act. */
static void node_sync(struct busim *sim, void *arg)
{
	struct rnode *n = arg;
	u64 now = busim_now(sim);
	bool acting;
	int i;

	busim_at(sim, now + MS, node_sync, n);
	if (n->dead)
		return;
	if (!n->psu) {
		alloc_follow(n, now);
		alloc_kick(n, now);
		return;
	}
	cap_sync(n, now);
	/* As rpw_alloc_leader(): a lapsed lease in the same epoch keeps it. */
	if (n->acting && (!is_primary_state(n) ||
			  rpw_elect_epoch(&n->e) != n->ledger.epoch)) {
		rpw_ledger_role(&n->ledger, false, n->ledger.epoch, now,
				&n->out);
		n->acting = false;
		ag_notify(n, AG_RECHECK, NULL);
	}
	acting = rpw_elect_is_primary(&n->e, now);
	if (acting && !n->acting) {
		/* As rpw_alloc_recovery_hold(): every module known. */
		n->ledger.t.recovery_ms = rpw_alloc_recovery_ms(
			rpw_mac_access_bound_ns(&busim_mac(sim, n->idx)->cfg,
						NN, RPW_MAX_WIRE, true, MS),
			n->ledger.t.resend_ms);
		rpw_ledger_role(&n->ledger, true, rpw_elect_epoch(&n->e), now,
				&n->out);
		n->acting = true;
		for (i = 0; i < NN; i++)
			if (!nodes[i].psu)
				rpw_ledger_know(&n->ledger, nodes[i].addr);
		if (lost_at() && now > lost_at() && !m.acting_at)
			m.acting_at = now;
		ag_notify(n, AG_RECHECK, NULL);
	}
	alloc_kick(n, now);
}

/* ---- busim hooks ---------------------------------------------------------- */

static void h_rx(struct busim *sim, int node, const struct rpw_frame *f,
		 void *user)
{
	struct rnode *n = &nodes[node];

	(void)user;
	if (n->dead)
		return;
	if (f->type == RPW_T_CAP_QUERY || f->type == RPW_T_CAP_REPORT)
		cap_rx(n, f, busim_now(sim));
	else if (RPW_T_RANGE(f->type) == RPW_T_RANGE(RPW_T_PWR_REQUEST))
		alloc_rx(n, f, busim_now(sim));
	else
		rpw_elect_rx(&n->e, f, busim_now(sim));
	alloc_renew(n, busim_now(sim));
}

/* The primaries' allocation frames: sent, expired, otherwise not sent. */
static unsigned long long p_frames[3];

static void h_done(struct busim *sim, int node, struct rpw_mac_txreq *req,
		   int result, void *user)
{
	struct rnode *n = &nodes[node];

	(void)user;
	if (RPW_T_RANGE(req->frame.type) == RPW_T_RANGE(RPW_T_PWR_REQUEST) &&
	    n->psu) {
		p_frames[result == -ETIME ? 1 : result ? 2 : 0]++;
		if (result == -ETIME)
			alloc_expired(n, req, busim_now(sim));
	}
	if (RPW_T_RANGE(req->frame.type) == RPW_T_RANGE(RPW_T_PWR_REQUEST))
		alloc_done(n, &req->frame, !result, busim_now(sim));
	else if (req->cls == RPW_MAC_CLASS_ELECT && !n->dead)
		rpw_elect_tx_done(&n->e, &req->frame, !result, busim_now(sim));
	if (req->cls == RPW_MAC_CLASS_ELECT)
		alloc_renew(n, busim_now(sim));
	free(req);
}

static void s_boot(struct busim *sim, void *arg)
{
	struct rnode *n = arg;

	rpw_elect_start(&n->e, busim_now(sim));
}

/* ---- the agent's actions ------------------------------------------------- */

static void ag_one(struct rnode *n, const struct rpwp_action *a,
		   struct rpwp_out *retry, u64 now)
{
	int err, c = a->chassis - CH_BASE;

	switch (a->type) {
	case RPWP_ACT_DECIDE:
		err = may_act(n, now) ?
		      rpw_ledger_decide(&n->ledger, a->chassis, a->slot,
					a->req_id, a->verdict, a->mw,
					a->reason, usable_mw(n), now,
					&n->out) : -ESTALE;
		if (verbose)
			printf("# %9.3f ms n%d decide %u/%u id %u %s: %d\n",
			       now / 1e6, n->idx, a->chassis, a->slot,
			       a->req_id, rpwp_verdict_name(a->verdict), err);
		if (err) {
			rpwp_decide_failed(n->ag.pol, a->chassis, a->slot,
					   a->req_id, err, pol_ms(now), retry);
			if (err == -ESTALE || err == -ENOENT)
				ag_notify(n, AG_RESYNC, NULL);
		}
		break;
	case RPWP_ACT_SHED:
		/* The capacity table may still fill: a shed may be needless. */
		if (now < n->ag.settle_until)
			fail("n%d shed chassis %u slot %u %.3f ms before its settle ended",
			     n->idx, a->chassis, a->slot,
			     (n->ag.settle_until - now) / 1e6);
		err = may_act(n, now) ?
		      rpw_ledger_shed(&n->ledger, a->chassis, a->slot, now,
				      &n->out) : -ESTALE;
		if (verbose)
			printf("# %9.3f ms n%d shed %u/%u prio %u: %d\n",
			       now / 1e6, n->idx, a->chassis, a->slot, a->prio,
			       err);
		if (err)
			fail("shed of chassis %u slot %u refused: %d",
			     a->chassis, a->slot, err);
		break;
	case RPWP_ACT_NONCOMPLIANT:
		fail("chassis %u slot %u reported non-compliant", a->chassis,
		     a->slot);
		break;
	case RPWP_ACT_RESTORE:
		/* rackpwrd: slot-set power on, the chassis node is local. */
		if (c >= 0 && c < NCH) {
			rpw_slots_server_event(&chassis(c)->slots, a->slot,
					       RPW_SEV_ADMIN_ON, 0, now,
					       &chassis(c)->out);
			alloc_kick(chassis(c), now);
		}
		break;
	}
	alloc_kick(n, now);
}

/* As rackpwrd's run_out(): in order, then what the policy has left. */
static void ag_run(struct rnode *n, struct rpwp_out *o, u64 now)
{
	struct rpwp_action acts[POL_ACTS];
	unsigned int i, k, rounds = 0;
	bool more;

	for (;;) {
		k = o->n;
		more = o->more;
		memcpy(acts, o->act, k * sizeof(acts[0]));
		o->n = 0;
		o->more = false;
		if (k && (!n->ag.acting || !n->ag.synced)) {
			ag_notify(n, AG_RECHECK, NULL);
			break;
		}
		for (i = 0; i < k; i++)
			ag_one(n, &acts[i], o, now);
		if (!more && !o->n)
			break;
		if (++rounds > 1000) {
			fail("the policy keeps returning work");
			break;
		}
		if (more && o->n < o->max)
			rpwp_tick(n->ag.pol, pol_ms(now), o);
	}
	o->n = 0;
}

/* ---- the scenarios --------------------------------------------------------- */

static bool shed_bench, failover_bench, settle_bench;
static u64 cut_ms = 800;
static u64 kill_ms = 250, end_at = NEVER, frame_ns, detect_ns;
static u8 expect_seq[NSRV][2];
static unsigned int expect_sheds;
static u64 budget_before;

/* The rack is quiet: one deciding primary, every chassis confirmed. */
static bool settled(u64 now)
{
	struct rnode *p = acting_primary(now);
	int i;

	if (!p || p->ledger.recovering || !p->ag.synced)
		return false;
	for (i = 0; i < NN; i++) {
		if (nodes[i].dead)
			continue;
		if (nodes[i].out.queued)
			return false;
		if (!nodes[i].psu && nodes[i].slots.confirmed != 0xff)
			return false;
	}
	return true;
}

/* Every server's request has its answer: granted, queued or denied. */
static bool all_answered(void)
{
	int c, s;

	for (c = 0; c < NCH; c++)
		for (s = 0; s < NSLOT; s++) {
			u8 st = chassis(c)->slots.slot[s].state;

			if (st != RPW_SLOT_GRANTED && st != RPW_SLOT_QUEUED &&
			    st != RPW_SLOT_DENIED)
				return false;
		}
	return true;
}

static void storm(u64 now)
{
	int c, s;

	m.storm_at = now;
	for (c = 0; c < NCH; c++)
		for (s = 0; s < NSLOT; s++)
			rpw_slots_server_event(&chassis(c)->slots, s,
					       RPW_SEV_BUTTON, 0, now,
					       &chassis(c)->out);
	for (c = 0; c < NCH; c++)
		alloc_kick(chassis(c), now);
}

/* Lower priority first: the policy's shed order, from the server table. */
static int shed_cmp(const void *a, const void *b)
{
	const u8 *x = a, *y = b;

	return rpw_alloc_prio_cmp(chassis(x[0])->srv[x[1]].prio,
				  CH_BASE + x[0], x[1],
				  chassis(y[0])->srv[y[1]].prio,
				  CH_BASE + y[0], y[1]);
}

static void expect_shed(u64 budget)
{
	u8 all[NSRV][2];
	u64 mw = powered_mw();
	int c, s, k = 0;

	for (c = 0; c < NCH; c++)
		for (s = 0; s < NSLOT; s++) {
			all[k][0] = c;
			all[k][1] = s;
			k++;
		}
	qsort(all, NSRV, sizeof(all[0]), shed_cmp);
	for (k = 0; k < NSRV && mw > budget; k++) {
		memcpy(expect_seq[k], all[k], 2);
		mw -= (u64)chassis(all[k][0])->srv[all[k][1]].watts * 1000;
		expect_sheds++;
	}
}

/* A supply of the secondary's assembly fails (@on false) or is back. */
static void supply(struct rnode *p, bool ok, u64 now)
{
	struct rnode *s = &nodes[p == &nodes[0]];

	if (ok) {
		s->own.healthy |= 1 << FAIL_SUPPLY;
		s->own.bank_mw[0] += RACK_SUPPLY_MW;
	} else {
		s->own.healthy &= ~(1 << FAIL_SUPPLY);
		s->own.bank_mw[0] -= RACK_SUPPLY_MW;
	}
	cap_local(s, now);
}

static int phase;
static void cut_primary(u64 now);

static void b_poll(struct busim *sim, void *arg)
{
	u64 now = busim_now(sim);
	struct rnode *p = acting_primary(now);
	int c, s;

	(void)arg;
	busim_at(sim, now + 10 * MS, b_poll, NULL);
	if (!settled(now))
		return;
	switch (phase) {
	case 0:
		storm(now);
		if (failover_bench)
			m.kill_at = now + kill_ms * MS;
		phase++;
		break;
	case 1:
		if (failover_bench && m.killed >= 0 && m.all_at) {
			end_at = now;
			phase = 9;
			break;
		}
		if (settle_bench && !m.cut_at && powered_count() == NSRV) {
			cut_primary(now);
			break;
		}
		if (settle_bench && m.back_at && m.settled_at) {
			end_at = now;
			phase = 9;
		}
		if (failover_bench || settle_bench || powered_count() != NSRV)
			break;
		/*
		 * Shed bench: fail a supply of the secondary, once the agent's
		 * start-up settle is over (it holds sheds; the bench times the
		 * shed of a settled rack, not what is left of that wait).
		 */
		if (now < p->ag.settle_until)
			break;
		budget_before = rack_mw(0) < rack_mw(1) ? rack_mw(0) :
				rack_mw(1);
		m.granted_at_fail = powered_mw();
		m.fail_at = now;
		m.shed_window = true;
		supply(p, false, now);
		m.budget_after = rack_mw(0) < rack_mw(1) ? rack_mw(0) :
				 rack_mw(1);
		expect_shed(m.budget_after);
		phase++;
		break;
	case 2:
		if (!m.restored)
			break;
		/* Quiet again (the shed servers asked and wait): repair. */
		m.repair_at = now;
		for (c = 0; c < NCH; c++)
			for (s = 0; s < NSLOT; s++)
				m.want_regrant[c][s] = !chassis(c)->srv[s].powered;
		supply(p, true, now);
		phase++;
		break;
	case 3:
		if (powered_count() == NSRV && m.regrants == m.sheds) {
			end_at = now;
			phase = 9;
		}
		break;
	}
}

/* Settle bench: the primary off the bus for cut_ms, then back. */
static void cut_primary(u64 now)
{
	struct rnode *p = acting_primary(now);

	m.cut = p->idx;
	m.cut_at = now;
	m.cut_mw = powered_mw();
	busim_partition(p->sim, p->idx, true);
}

/* Its successor: deciding on which budget, both assemblies known when. */
static void watch_cut(struct rnode *p, u64 now)
{
	u64 full = rack_mw(0) < rack_mw(1) ? rack_mw(0) : rack_mw(1);
	struct rpwp_budget b;

	if (m.cut >= 0 && !m.back_at && now >= m.cut_at + cut_ms * MS) {
		busim_partition(nodes[m.cut].sim, m.cut, false);
		m.back_at = now;
	}
	if (m.cut < 0 || !p || p->idx == m.cut || !p->ag.synced)
		return;
	rpwp_budget(p->ag.pol, &b);
	if (!m.deciding_budget)
		m.deciding_budget = b.budget_mw;
	if (!m.full_at && b.budget_mw == full)
		m.full_at = now;
	if (!m.settled_at && now >= p->ag.settle_until)
		m.settled_at = now;
}

static void kill_primary(u64 now)
{
	struct rnode *p = acting_primary(now);
	int c, s;

	if (!p) {
		fail("no acting primary to kill at %.3f ms", now / 1e6);
		return;
	}
	m.killed = p->idx;
	m.kill_epoch = p->ledger.epoch;
	for (c = 0; c < NCH; c++)
		for (s = 0; s < NSLOT; s++)
			m.open_at_kill += !chassis(c)->srv[s].powered;
	p->dead = true;
	busim_partition(p->sim, p->idx, true);
}

/* Once a millisecond: the shed's end, the kill. */
static void b_watch(u64 now)
{
	struct rnode *p = acting_primary(now);

	if (m.kill_at && now >= m.kill_at && m.killed < 0)
		kill_primary(now);
	if (m.storm_at && !m.all_at && all_answered())
		m.all_at = now;
	if (p)
		watch_restored(p, now);
	watch_cut(p, now);
}

/* ---- the report ---------------------------------------------------------- */

static double tf(u64 ns)
{
	return (double)ns / frame_ns;
}

static void fig(const char *what, u64 ns, u64 floor_ns)
{
	printf("# %s %.2f ms = %.1f T_f (floor %.2f ms = %.1f T_f)\n", what,
	       ns / 1e6, tf(ns), floor_ns / 1e6, tf(floor_ns));
}

/* A ledger line agrees with its chassis: granted and powered, or queued. */
static void check_line(const struct rpw_ledger_info *in)
{
	const struct rnode *ch = chassis(in->addr - CH_BASE);
	const struct server *v = &ch->srv[in->slot];
	u8 st = ch->slots.slot[in->slot].state;

	if (in->state == RPW_GS_GRANTED && v->powered && v->grant == in->id)
		return;
	if (in->state == RPW_GS_QUEUED && !v->powered &&
	    st == RPW_SLOT_QUEUED && ch->slots.slot[in->slot].id == in->id)
		return;
	fail("ledger line %u/%u (state %u id %u) is not the chassis' (%u, %s)",
	     in->addr, in->slot, in->state, in->id, st,
	     v->powered ? "powered" : "off");
}

static bool end_checks(u64 now)
{
	struct rnode *p = acting_primary(now);
	struct rpw_ledger_info in;
	unsigned int lines = 0;
	int c, s, pos;

	if (!p) {
		fail("no acting primary at the end");
		return false;
	}
	if ((shed_bench || settle_bench) && powered_count() != NSRV)
		fail("%u of %d servers powered at the end", powered_count(),
		     NSRV);
	if (!all_answered())
		fail("a request is still unanswered at the end");
	if (p->ledger.granted_mw != powered_mw())
		fail("the ledger holds %llu mW, %llu mW are powered",
		     (unsigned long long)p->ledger.granted_mw,
		     (unsigned long long)powered_mw());
	for (pos = 0; (pos = rpw_ledger_next(&p->ledger, pos, &in)) >= 0;
	     pos++, lines++)
		check_line(&in);
	if (lines != NSRV)
		fail("the ledger has %u lines for %d servers", lines, NSRV);
	/* Powered once, and once more after each shed: no double grant. */
	for (c = 0; c < NCH; c++)
		for (s = 0; s < NSLOT; s++) {
			const struct server *v = &chassis(c)->srv[s];

			if (v->power_ons != v->sheds + v->powered ||
			    v->sheds > 1)
				fail("chassis %d slot %d powered on %u times, shed %u times",
				     CH_BASE + c, s, v->power_ons, v->sheds);
		}
	if (shed_bench) {
		if (!m.sheds || m.sheds != expect_sheds ||
		    memcmp(m.shed_seq, expect_seq, m.sheds * 2))
			fail("%u sheds, %u expected, or not in priority order",
			     m.sheds, expect_sheds);
		if (m.regrants != m.sheds)
			fail("%u of %u shed servers granted again", m.regrants,
			     m.sheds);
	}
	if (settle_bench && m.cut_sheds)
		fail("%u sheds after the cut: the successor shed on a half-filled capacity table",
		     m.cut_sheds);
	if (settle_bench && (!m.full_at || m.deciding_budget >= m.cut_mw))
		fail("the successor's budget held the %llu mW granted when it began to decide: nothing to hold",
		     (unsigned long long)m.cut_mw);
	if (settle_bench && m.full_at >= m.settled_at)
		fail("the successor knew both assemblies only after its settle: a shed was due");
	if (failover_bench && (m.killed < 0 || !m.last_before ||
			       !m.open_at_kill))
		fail("the kill at %.3f ms did not fall inside the storm (%s)",
		     m.kill_at / 1e6, !m.last_before ?
		     "no server powered before it" : "all powered before it");
	else if (failover_bench && !m.first_after)
		fail("no server was granted after the kill: nothing to time");
	return !fails;
}

static void report_shed(void)
{
	u64 rep = wire_cap_report(), f1, f2, f3, fs = 0;
	u64 req = wire_entries(RPW_T_SHED_REQUEST, sizeof(struct rpw_pwr_shed), 1);
	u64 done = wire_entries(RPW_T_SHED_DONE, sizeof(struct rpw_pwr_stmt), 1);
	unsigned int per[NCH] = { 0 }, k;
	char b1[24], b2[24], g[24];
	int c;

	for (k = 0; k < m.sheds; k++)
		per[m.shed_seq[k][0]]++;
	f1 = rep + req;
	f2 = rep + m.sheds * (req + done);
	f3 = rep;
	for (c = 0; c < NCH; c++)
		f3 += wire_entries(RPW_T_PWR_ANSWER, sizeof(struct rpw_pwr_ans),
				   per[c]);
	printf("# shed: budget %s -> %s kW, %s kW granted: %u sheds, in priority order:",
	       rpwp_kw(budget_before, b1), rpwp_kw(m.budget_after, b2),
	       rpwp_kw(m.granted_at_fail, g), m.sheds);
	for (k = 0; k < m.sheds; k++)
		printf(" %u/%u(%u)", CH_BASE + m.shed_seq[k][0],
		       m.shed_seq[k][1],
		       chassis(m.shed_seq[k][0])->srv[m.shed_seq[k][1]].prio);
	printf("\n");
	for (c = 0; c < NCH; c++)
		fs += wire_entries(RPW_T_PWR_REQUEST, sizeof(struct rpw_pwr_req),
				   NSLOT) +
		      wire_entries(RPW_T_PWR_ANSWER, sizeof(struct rpw_pwr_ans),
				   NSLOT);
	printf("floor: storm %.2f ms = %.1f T_f: every chassis' PWR_REQUESTs and PWR_ANSWERs\n",
	       fs / 1e6, tf(fs));
	printf("floor: first %.2f ms = %.1f T_f: a CAP_REPORT and a SHED_REQUEST\n",
	       f1 / 1e6, tf(f1));
	printf("floor: desired %.2f ms = %.1f T_f: the report, per shed a SHED_REQUEST and a SHED_DONE\n",
	       f2 / 1e6, tf(f2));
	printf("floor: regrant %.2f ms = %.1f T_f: the report, the PWR_ANSWER frames\n",
	       f3 / 1e6, tf(f3));
	if (!m.first_shed || !m.restored || !m.last_regrant || !m.storm_all)
		return;
	fig("shed: first shed request at its chassis after",
	    m.first_shed - m.fail_at, f1);
	fig("shed: desired state after", m.restored - m.fail_at, f2);
	fig("shed: repair: last re-grant powered after",
	    m.last_regrant - m.repair_at, f3);
	printf("# shed: the storm before: all %d powered after %.2f ms = %.1f T_f (target %d ms: %s)\n",
	       NSRV, (m.storm_all - m.storm_at) / 1e6,
	       tf(m.storm_all - m.storm_at), STORM_TARGET_MS,
	       m.storm_all - m.storm_at <= STORM_TARGET_MS * MS ? "met" :
	       "MISSED");
	printf("row: %.2f %.1f %s %u %.2f %.1f %.2f %.1f %.2f %.1f\n",
	       (m.storm_all - m.storm_at) / 1e6, tf(m.storm_all - m.storm_at),
	       m.storm_all - m.storm_at <= STORM_TARGET_MS * MS ? "met" :
	       "MISSED",
	       m.sheds, (m.first_shed - m.fail_at) / 1e6,
	       tf(m.first_shed - m.fail_at), (m.restored - m.fail_at) / 1e6,
	       tf(m.restored - m.fail_at),
	       (m.last_regrant - m.repair_at) / 1e6,
	       tf(m.last_regrant - m.repair_at));
}

static void report_failover(void)
{
	u64 fa = detect_ns + wire(RPW_T_PRIMARY, 7), fr = fa, ff;
	u64 k = m.kill_at, take;
	struct rnode *p = acting_primary(end_at);
	struct rpwp_budget b;
	char kw[24];
	int c;

	fr += wire(RPW_T_INV_QUERY, RPW_PWR_HDR_LEN);
	for (c = 0; c < NCH; c++)
		fr += wire_entries(RPW_T_INV_REPORT, sizeof(struct rpw_inv_ent),
				   NSLOT);
	ff = fr + wire_entries(RPW_T_PWR_ANSWER, sizeof(struct rpw_pwr_ans), 1);
	printf("floor: acting %.2f ms = %.1f T_f: T_det and the PRIMARY claim\n",
	       fa / 1e6, tf(fa));
	printf("floor: rebuilt %.2f ms = %.1f T_f: and an INV_QUERY, every chassis' INV_REPORTs\n",
	       fr / 1e6, tf(fr));
	printf("floor: first, gap %.2f ms = %.1f T_f: and one PWR_ANSWER\n",
	       ff / 1e6, tf(ff));
	if (!m.first_after || !m.acting_at || !m.rebuilt_at || !p ||
	    !m.all_at || !m.last_before)
		return;
	m.deciding_at = p->ag.deciding_since;
	take = m.first_after - k;
	printf("# failover: storm of %d at %.0f ms, primary %u cut off %llu ms later\n",
	       NSRV, m.storm_at / 1e6, nodes[m.killed].addr,
	       (unsigned long long)kill_ms);
	printf("# failover: last grant before the kill %.2f ms before it, first after %.2f ms after it (gap %.2f ms = %.1f T_f)\n",
	       (k - m.last_before) / 1e6, take / 1e6,
	       (m.first_after - m.last_before) / 1e6,
	       tf(m.first_after - m.last_before));
	printf("# failover: kill -> %u acting %.2f ms, ledger rebuilt %.2f ms, policy deciding %.2f ms\n",
	       p->addr, (m.acting_at - k) / 1e6, (m.rebuilt_at - k) / 1e6,
	       (m.deciding_at - k) / 1e6);
	printf("# failover: the rebuild took %u INV_REPORT frames for %d chassis (%u more not delivered: withdrawn as the chassis followed the successor, or given up) after %u INV_QUERY; %u allocation frames refused as stale after the kill\n",
	       m.inv_rx, NCH, m.inv_unsent, m.inv_query, m.stale);
	fig("failover: takeover with rebuild (kill -> first grant)", take, ff);
	printf("# failover: target %d ms: %s\n", TAKEOVER_TARGET_MS,
	       take <= TAKEOVER_TARGET_MS * MS ? "met" : "MISSED");
	rpwp_budget(p->ag.pol, &b);
	printf("# failover: %u servers unpowered at the kill; all %d answered %.2f ms after the storm began: %u powered, %u queued (budget %s kW: the lost module's assembly no longer counts)\n",
	       m.open_at_kill, NSRV, (m.all_at - m.storm_at) / 1e6,
	       powered_count(), NSRV - powered_count(),
	       rpwp_kw(b.budget_mw, kw));
	printf("row: %u %.2f %.2f %.1f %.2f %.1f %.2f %.2f %.1f %s %.2f %.1f %.2f %.1f %u\n",
	       m.open_at_kill, (k - m.last_before) / 1e6,
	       (m.acting_at - k) / 1e6, tf(m.acting_at - k),
	       (m.rebuilt_at - k) / 1e6, tf(m.rebuilt_at - k),
	       (m.deciding_at - k) / 1e6, take / 1e6, tf(take),
	       take <= TAKEOVER_TARGET_MS * MS ? "met" : "MISSED",
	       (m.first_after - m.last_before) / 1e6,
	       tf(m.first_after - m.last_before),
	       (m.all_at - m.storm_at) / 1e6, tf(m.all_at - m.storm_at),
	       powered_count());
}

static void report_settle(void)
{
	struct rnode *p = acting_primary(end_at);
	u64 c = m.cut_at;
	char k1[24], k2[24], k3[24];

	if (!p || !m.acting_at || !m.full_at || !m.settled_at ||
	    !p->ag.deciding_since)
		return;
	printf("# settle: primary %u cut off for %llu ms with all %d powered (%s kW; n+n budget %s kW with both assemblies)\n",
	       nodes[m.cut].addr, (unsigned long long)cut_ms, NSRV,
	       rpwp_kw(m.cut_mw, k1),
	       rpwp_kw(rack_mw(0) < rack_mw(1) ? rack_mw(0) : rack_mw(1), k2));
	printf("# settle: successor %u acting %.2f ms after the cut, deciding %.2f ms on its own assembly (budget %s kW), both known %.2f ms, settle over %.2f ms: %u sheds\n",
	       p->addr, (m.acting_at - c) / 1e6,
	       (p->ag.deciding_since - c) / 1e6,
	       rpwp_kw(m.deciding_budget, k3), (m.full_at - c) / 1e6,
	       (m.settled_at - c) / 1e6, m.cut_sheds);
	printf("row: %.2f %.2f %.2f %.2f %u\n", (m.acting_at - c) / 1e6,
	       (p->ag.deciding_since - c) / 1e6, (m.full_at - c) / 1e6,
	       (m.settled_at - c) / 1e6, m.cut_sheds);
}

/* ---- setup ----------------------------------------------------------------- */

static void setup(struct busim *sim, u64 seed)
{
	struct rpwp_cfg pc;
	int i, s;

	rpwp_cfg_init(&pc);
	for (i = 0; i < NN; i++) {
		struct rnode *n = &nodes[i];

		n->sim = sim;
		n->idx = i;
		n->timer = RPW_ELECT_NO_TIMER;
		n->atimer = RPW_ALLOC_NO_TIMER;
		n->ag.tick_at = NEVER;
		rpw_alloc_out_reset(&n->out);
		n->out.max_queued = busim_mac(sim, i)->cfg.reserve[RPW_MAC_CLASS_ALLOC];
		rpw_cap_table_init(&n->cap, n->addr);
		if (n->psu) {
			n->own.present = 0x3f;
			n->own.healthy = 0x3f;
			n->own.bank_mw[0] = 3 * (u64)RACK_SUPPLY_MW;
			n->own.bank_mw[1] = 3 * (u64)RACK_SUPPLY_MW;
			rpw_cap_set_local(&n->cap, &n->own, 0);
			rpw_ledger_init(&n->ledger, NULL);
			rpw_ledger_policy(&n->ledger, true, 0);
			n->ag.pol = rpwp_create(4096, &pc);
			if (!n->ag.pol) {
				fprintf(stderr, "rack_sim: rpwp_create failed\n");
				exit(2);
			}
		} else {
			rpw_slots_init(&n->slots, NULL,
				       (u32)(seed * 7919 + 1000 * (i + 1)));
			for (s = 0; s < NSLOT; s++) {
				n->srv[s].watts = RACK_SRV_W(s);
				n->srv[s].prio = rack_prio(i - NPSU, s);
				rpw_slots_set_prio(&n->slots, s,
						   n->srv[s].prio, 0);
				rpw_slots_server_event(&n->slots, s,
						       RPW_SEV_PRESENT,
						       n->srv[s].watts, 0,
						       &n->out);
			}
			rpw_alloc_out_reset(&n->out);
		}
		busim_at(sim, MS, node_sync, n);
		busim_at(sim, busim_rand(sim) % MS, s_boot, n);
	}
	busim_at(sim, 2000 * MS, b_poll, NULL);
}

static int bad_args(void)
{
	fprintf(stderr, "usage: rack_sim --shed-bench|--failover-bench|--settle-bench [--seed S]\n"
		"       [--kill-ms K] [--cut-ms C] [--agent-us U] [--settle-ms M]\n"
		"       [--shutdown-ms D] [-v]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct rpw_mac_cfg mc[NN];
	struct busim_cfg bc = { .nodes = NN, .baud = 115200,
				.rx_lat_ns = 200000, .rx_jitter_ns = 800000 };
	struct busim_hooks h = { .rx = h_rx, .done = h_done };
	u64 seed = 1, t, limit = 60000 * MS;
	struct rpw_elect_cfg ec;
	struct busim *sim;
	int a, i;
	bool ok;

	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--shed-bench"))
			shed_bench = true;
		else if (!strcmp(argv[a], "--failover-bench"))
			failover_bench = true;
		else if (!strcmp(argv[a], "--settle-bench"))
			settle_bench = true;
		else if (!strcmp(argv[a], "--cut-ms") && a + 1 < argc)
			cut_ms = strtoull(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--seed") && a + 1 < argc)
			seed = strtoull(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--kill-ms") && a + 1 < argc)
			kill_ms = strtoull(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--agent-us") && a + 1 < argc)
			agent_ns = strtoull(argv[++a], NULL, 0) * 1000;
		else if (!strcmp(argv[a], "--settle-ms") && a + 1 < argc)
			settle_ms = strtoull(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--shutdown-ms") && a + 1 < argc)
			shutdown_ns = strtoull(argv[++a], NULL, 0) * MS;
		else if (!strcmp(argv[a], "--no-renew"))
			norenew = 1;
		else if (!strcmp(argv[a], "-v"))
			verbose++;
		else if (!strcmp(argv[a], "-vv"))
			verbose += 2;
		else
			return bad_args();
	}
	if (shed_bench + failover_bench + settle_bench != 1 || kill_ms > 5000 ||
	    !cut_ms || cut_ms > 10000 ||
	    settle_ms > 60000 || shutdown_ns > 60000 * MS || !agent_ns ||
	    agent_ns > 1000 * MS)
		return bad_args();
	bc.seed = seed;
	for (i = 0; i < NN; i++) {
		nodes[i].psu = i < NPSU;
		nodes[i].addr = i < NPSU ? i + 1 : CH_BASE + i - NPSU;
		rpw_mac_cfg_default(&mc[i], RPW_MAC_PROFILE_UART, nodes[i].addr,
				    115200);
		mc[i].max_addr = CH_BASE + NCH - 1;
		mc[i].prio_period = 4;
	}
	sim = busim_new(&bc, mc, &h);
	if (!sim)
		return 2;
	char_ns = busim_char_ns(sim);
	if (RPW_PWR_MAX_ENTRIES(sizeof(struct rpw_pwr_ans)) < 1) {
		fprintf(stderr, "rack_sim: no answer fits a frame\n");
		return 2;
	}
	for (i = 0; i < NN; i++) {
		const struct rpw_elect_params ep = {
			.role = nodes[i].psu ? RACKPWR_ROLE_PSU :
				RACKPWR_ROLE_CHASSIS,
			.rack_modules = NN + 1,
			.tol_us = 5000,
			.rx_lat_ns = MS,
		};

		rpw_elect_cfg_build(&ec, &busim_mac(sim, i)->cfg, &ep, NULL);
		if (rpw_elect_init(&nodes[i].e, &ec, &s_ops, &nodes[i])) {
			fprintf(stderr, "rack_sim: election config rejected\n");
			return 2;
		}
		frame_ns = ec.frame_ns;
		detect_ns = ec.detect_ns;
	}
	setup(sim, seed);
	printf("# rack_sim: %s, seed rack: 2 psu (6 x %u W supplies), %d chassis x %d servers, 115200 baud, UART profile\n",
	       shed_bench ? "shed bench" : failover_bench ? "failover bench" :
	       "settle bench",
	       RACK_SUPPLY_MW / 1000, NCH, NSLOT);
	printf("# rack_sim: policy n+n (agent/policy.c), agent %.2f ms, settle %llu ms, shutdown %llu ms, T_f %.2f ms, T_det %.2f ms\n",
	       agent_ns / 1e6, (unsigned long long)settle_ms,
	       (unsigned long long)(shutdown_ns / MS), frame_ns / 1e6,
	       detect_ns / 1e6);
	printf("# seed %llu\n", (unsigned long long)seed);
	for (t = MS; t < limit && t <= end_at; t += MS) {
		busim_run_until(sim, t);
		check_invariants(t);
		b_watch(t);
	}
	if (end_at == NEVER)
		fail("the scenario did not finish within %llu ms (phase %d)",
		     (unsigned long long)(limit / MS), phase);
	else
		end_checks(end_at);
	if (shed_bench)
		report_shed();
	else if (failover_bench)
		report_failover();
	else
		report_settle();
	printf("# alloc primary frames: %llu sent, %llu expired (%llu after their lease was renewed), %llu withdrawn or failed\n",
	       p_frames[0], p_frames[1], renew_missed, p_frames[2]);
	if (renew_missed)
		fail("%llu primary frames expired though their lease had been renewed past them",
		     renew_missed);
	ok = !fails;
	printf("result: %s\n", ok ? "ok" : "FAILED");
	for (i = 0; i < NPSU; i++)
		rpwp_destroy(nodes[i].ag.pol);
	busim_free(sim);
	return ok ? 0 : 1;
}
