// SPDX-License-Identifier: GPL-2.0-only
/*
 * stack_sim - the election on top of the real MAC: every node runs
 * driver/rpw_elect.c glued to driver/rpw_mac.c the way driver/elect.c does
 * (urgent/defer/keep_seq per frame, tx results back to the election), on
 * the byte-level virtual-time bus of busim.c.  elect_sim checks the
 * election against a message-level medium; this checks the two layers
 * together, deterministically, for one scenario at a time.
 *
 *   stack_sim [--psu N] [--chassis M] [--prio P] [--seed S] [--ms T]
 *             [--tol-us U] [--tol-max-us X] [--kill-ms K] [--spread-ms B]
 *             [--dup-ms D] [--flood-ms F] [--no-reserve] [--no-withdraw]
 *             [--cap-ms Q] [--auth] [--hold-ms H]
 *             [--starve-ms S [--starve-gap-ms G]]
 *             [--alloc-bench | --alloc-check] [--no-renew] [-v]
 *
 * The election's timers come from the kernel's derivation with --tol-us
 * (elect_tol_us, default 5000) and --tol-max-us (elect_tol_max_us, default
 * 320000; 0 keeps the tolerance fixed).
 *
 * Prints one line per node at the end and "result: ok" when exactly one
 * node acts as primary and every node follows it; exit status 0 then.
 * With --kill-ms the acting primary is cut off (partitioned) at K ms and
 * the time until everyone follows its successor is printed ("failover").
 * With --dup-ms a module with the address of the lowest power-supply
 * module (a secondary) joins at D ms; the run fails unless a copy of that
 * address reports the duplicate (MAC or election event) within 2 s.
 * With --flood-ms every node keeps its transmit queue full of user frames
 * (broadcast data, the MAC's user class) from F ms on; the run fails if
 * the primary changes or an election frame is refused for queue room.
 * --no-reserve gives the MAC no per-class reserves (one shared queue, as
 * before traffic classes): the flood then refuses election frames.
 * With --cap-ms the capacity exchange (driver/rpw_cap.c) runs on top, as
 * driver/capacity.c drives it: the acting primary queries every Q ms,
 * every psu module but the first has an assembly of its own capacity; at
 * every millisecond a primary's line must hold exactly its module's
 * values, and at the end the acting primary must list every module with
 * an assembly (none lost), no line for the one without, and their total.
 * With --auth every node holds key 1 in mode required (driver/rpw_auth.c,
 * the reference HMAC-SHA256 of selftests/lib): every frame, ACKs
 * included, carries the 15-byte trailer; the run also fails if any frame
 * is dropped by authentication.
 *
 * With --hold-ms the line stands still (busim_hold(), the VM hub's debugfs
 * "hold") from the start until H ms: every module boots, queues its
 * WHO_PRIMARY, hears nothing and claims; at H the frames meet.  Every run
 * prints when exactly one node was in state primary with every live node
 * following it (from then to the end of the run), from the release or, without
 * --hold-ms, from 0, beside the target T_initial + 3 frame times.  Up to 100
 * psu modules the chassis modules have addresses 101 and up, above that
 * the ones after the last psu module.
 *
 * With --starve-ms the whole guest stalls, as a TCG guest on a loaded host
 * does: for 1..S ms every 0..2*G ms (G default 200) no election or MAC
 * timer runs and no byte moves or is read (the in-kernel hub is guest
 * code too); then the late timers fire in expiry order.  It prints the
 * winner's address and epoch beside the highest psu address, and any time
 * after the rack first converged when no node acted as primary (the role
 * may stay put while a starved primary's lease lapses).
 *
 * --alloc-bench runs the power allocation (driver/rpw_alloc.c) on top, as
 * driver/alloc.c drives it: every chassis module has eight servers, the
 * acting primary's ledger asks a trivial policy that grants every request
 * --policy-us after it was reported (the netlink round trip to the agent
 * and back), the usable capacity is never the limit.  From 2 s on, one
 * request every 400 ms on an otherwise idle bus (--requests N, default
 * 200, each released again half way): the latency from the trigger reaching the
 * chassis' slot table to the chassis emitting power-on, p50/p99/max.  Then
 * every slot of every chassis at the same instant (6 chassis: 48
 * requests): the time until the last one is powered.  Excluded: the
 * server driver's poll (srv_poll_ms) before the trigger and the I2C write
 * after it.  The run fails if a request stays unanswered.
 * --alloc-urgent sends the allocation frames with urgent access, an
 * experiment: driver/alloc.c uses ordinary access.
 *
 * --alloc-check runs the same allocation under churn instead: from 2 s
 * on, every slot of every chassis asks for power when it has
 * none and releases it when it holds a grant, at random intervals of
 * 20-400 ms, until 5 s before the end (--ms, at least 10 s); with
 * --starve-ms the guest stalls until then too.  The policy grants every
 * request, one in three after queueing it first for 10-300 ms; like
 * rackpwrd it reads the table again (a resync) when a decision is refused
 * because its node does not act, and it is told the pending requests
 * again when a recovery ends.  As in driver/alloc.c nothing of the
 * allocation runs while the guest is stalled, a primary withdraws its
 * queued allocation frames when its lease lapses, and a chassis follows
 * its primary's lease as the election knows it and withdraws what it
 * queued when it follows another primary or epoch.  A primary's queued
 * frames follow its lease as it is renewed (after every call into the
 * election, where elect.c publishes it; --no-renew: they keep the lease
 * end of their queueing), and the run fails if one expires though its
 * lease had been renewed past its expiry while it was queued.  The
 * primaries' allocation frames sent, expired and withdrawn are printed.
 * At the end the
 * acting primary's ledger must count exactly the grants the chassis hold
 * (same id, same watts), no request may be open, and some server must
 * have been powered.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "busim.h"
#include "ref_hmac.h"
#include "rpw_auth.h"
#include "rpw_alloc.h"
#include "rpw_cap.h"
#include "rpw_elect.h"

#define MS	1000000ULL
#define MAXN	254

struct snode {
	struct busim *sim;
	int idx;
	struct rpw_elect e;
	u64 timer;		/* armed expiry or RPW_ELECT_NO_TIMER */
	bool timer_missed;	/* it fell due while the guest stalled */
	bool dead;
	struct rpw_cap_table cap;	/* --cap-ms */
	struct rpw_cap_entry own;	/* its assembly, if has_asm */
	bool has_asm;
	struct rpw_auth auth;		/* --auth: key 1, mode required */
	/* --alloc-bench */
	struct rpw_slots slots;		/* chassis */
	struct rpw_ledger ledger;	/* psu */
	struct rpw_alloc_out out;
	bool acting;			/* as told to the ledger */
	u64 atimer;			/* armed allocation timer */
	u8 aq[256];			/* its frames queued, by destination */
	u64 asked[RPW_ALLOC_SLOTS];	/* trigger time of a slot's request */
	bool lease;			/* psu: inside its lease at the last sync */
	bool resync;			/* --alloc-check: its agent will resync */
	u64 renewed_end;		/* psu: the lease end last renewed to */
	u64 renewed_at;			/* ... and when */
};

static struct snode nodes[MAXN];
static int nn, verbose, nowithdraw, norenew;
/* Primary frames that expired after their lease was renewed past them. */
static unsigned long long renew_missed;
static bool alloc_on, alloc_urgent;
static void alloc_renew(struct snode *n, u64 now);
static u64 cap_ms;
static unsigned int cap_bad;	/* lines that disagreed with their module */
static u64 collisions_urgent;
static u8 dup_addr;		/* address given twice (--dup-ms), or 0 */
static u64 dup_seen = ~0ULL;	/* first report of it */
static bool flooding;		/* --flood-ms reached */
static u64 hold_ms;		/* --hold-ms */
static bool released;		/* --hold-ms is over */
/* --starve-ms: the whole guest stalls (a starved TCG vCPU) */
static u64 starve_max, starve_gap = 200;
static bool stalled;

/* --auth: every node holds key 1 (32 bytes of 0x40..0x5f). */
static int auth_on;

static int s_hmac(void *ctx, unsigned int slot, const u8 *msg, size_t len,
		  u8 *tag)
{
	u8 key[32], out[REF_SHA256_LEN];
	unsigned int i;

	(void)ctx;
	(void)slot;
	for (i = 0; i < sizeof(key); i++)
		key[i] = 0x40 + i;
	ref_hmac_sha256(key, sizeof(key), msg, len, out);
	memcpy(tag, out, RPW_AUTH_TAG_LEN);
	return 0;
}

static int h_seal(struct busim *sim, int node, struct rpw_frame *f,
		  void *user)
{
	(void)sim;
	(void)user;
	return auth_on ? rpw_auth_seal(&nodes[node].auth, f) : 0;
}

static enum rpw_auth_verdict h_open(struct busim *sim, int node,
				    struct rpw_frame *f, void *user)
{
	(void)sim;
	(void)user;
	return rpw_auth_open(&nodes[node].auth, f);
}

/* Queue user frames until the MAC refuses one (its user room is full). */
static void flood_fill(struct busim *sim, int node)
{
	static const u8 p[16] = { 0x5a };

	if (!nodes[node].dead)
		while (!busim_send(sim, node, RPW_ADDR_BCAST, RPW_T_DATA, 0,
				   p, sizeof(p)))
			;
}

static void s_flood(struct busim *sim, void *arg)
{
	int i;

	(void)arg;
	flooding = true;
	for (i = 0; i < nn; i++)
		flood_fill(sim, i);
}

static void dup_report(struct snode *n, u64 now)
{
	if (n->e.cfg.addr == dup_addr && dup_seen == ~0ULL)
		dup_seen = now;
}

static void s_timer_fire(struct busim *sim, void *arg)
{
	struct snode *n = arg;
	u64 now = busim_now(sim);

	if (n->dead || n->timer == RPW_ELECT_NO_TIMER || now < n->timer)
		return;
	if (stalled) {
		n->timer_missed = true;
		return;
	}
	n->timer = RPW_ELECT_NO_TIMER;
	rpw_elect_timer_expired(&n->e, now);
	if (alloc_on)
		alloc_renew(n, now);
}

/*
 * --starve-ms: the guest's vCPU is not scheduled for 1..S ms, every
 * 0..2*G ms (--starve-gap-ms, default 200).  Nothing in the guest runs:
 * the election's and the MAC's timers fall due and fire late, in the order
 * of their expiry, receive processing stops, and the in-kernel hub (guest
 * code too) moves no byte, so every byte written before the stall goes on
 * the line after it (the hub's "no earlier than it was written").
 */
static int timer_cmp(const void *a, const void *b)
{
	const struct snode *x = *(struct snode *const *)a;
	const struct snode *y = *(struct snode *const *)b;

	return x->timer < y->timer ? -1 : x->timer > y->timer;
}

static void s_stall(struct busim *sim, void *arg);

static void s_resume(struct busim *sim, void *arg)
{
	static struct snode *due[MAXN];
	u64 now = busim_now(sim);
	int i, n = 0;

	(void)arg;
	stalled = false;
	for (i = 0; i < nn; i++)
		if (nodes[i].timer_missed) {
			nodes[i].timer_missed = false;
			due[n++] = &nodes[i];
		}
	qsort(due, n, sizeof(due[0]), timer_cmp);
	for (i = 0; i < n; i++)
		busim_at(sim, now, s_timer_fire, due[i]);
	busim_freeze(sim, -1, false);
	if (!hold_ms || released)
		busim_hold(sim, false);
	busim_at(sim, now + busim_rand(sim) % (2 * starve_gap * MS + 1),
		 s_stall, NULL);
}

static bool quiet;		/* --alloc-check: faults and churn are over */
/* The primaries' allocation frames: sent, expired, otherwise not sent. */
static unsigned long long p_frames[3];

static void s_stall(struct busim *sim, void *arg)
{
	u64 now = busim_now(sim);
	u64 end = now + MS + busim_rand(sim) % (starve_max * MS);

	(void)arg;
	if (quiet)
		return;
	stalled = true;
	busim_freeze(sim, -1, true);
	busim_hold(sim, true);
	busim_at(sim, end, s_resume, NULL);
	if (verbose)
		printf("# %9.3f ms guest stalled until %.3f ms\n", now / 1e6,
		       end / 1e6);
}

static void s_timer(void *ctx, u64 exp)
{
	struct snode *n = ctx;

	n->timer = exp;
	if (exp != RPW_ELECT_NO_TIMER)
		busim_at(n->sim, exp < busim_now(n->sim) ? busim_now(n->sim) :
			 exp, s_timer_fire, n);
}

static int s_send(void *ctx, const struct rpw_frame *f,
		  enum rpw_elect_prio prio, u64 ttl_ns)
{
	struct snode *n = ctx;
	struct rpw_mac_txreq *req = calloc(1, sizeof(*req));
	int err;

	if (verbose > 1)
		printf("# %9.3f ms n%d send type 0x%02x seq %u prio %d\n",
		       busim_now(n->sim) / 1e6, n->idx, f->type, f->seq, prio);
	req->frame = *f;
	req->keep_seq = true;
	req->urgent = prio != RPW_ELECT_PRIO_NORMAL;
	req->defer = prio == RPW_ELECT_PRIO_DEFER;
	req->ahead = rpw_elect_claim(f);
	req->answered = rpw_elect_answered(f);
	req->cls = RPW_MAC_CLASS_ELECT;
	req->expires_ns = ttl_ns ? busim_now(n->sim) + ttl_ns : 0;
	err = busim_submit(n->sim, n->idx, req);
	if (err)
		free(req);
	return err;
}

static bool s_own_claim(const struct rpw_mac_txreq *req, void *arg)
{
	(void)arg;
	return req->keep_seq && rpw_elect_claim(&req->frame);
}

/* As rpw_node_withdraw_locked(): after the call that demoted us. */
static void s_withdraw(struct busim *sim, void *arg)
{
	struct snode *n = arg;

	if (!n->dead)
		rpw_mac_cancel_if(busim_mac(sim, n->idx), s_own_claim, NULL,
				  busim_now(sim));
}

static void s_event(void *ctx, enum rpw_elect_event ev, u8 addr, u32 epoch)
{
	struct snode *n = ctx;

	if (ev == RPW_EV_DEMOTED && !nowithdraw)
		busim_at(n->sim, busim_now(n->sim), s_withdraw, n);
	if (ev == RPW_EV_DUP_ADDR)
		dup_report(n, busim_now(n->sim));

	if (verbose)
		printf("# %9.3f ms n%d(%u) %s addr %u epoch %u.%u\n",
		       busim_now(n->sim) / 1e6, n->idx, n->e.cfg.addr,
		       rpw_elect_event_name(ev), addr, RPW_EPOCH_TERM(epoch),
		       RPW_EPOCH_OWNER(epoch));
}

static const struct rpw_elect_ops s_ops = {
	.send = s_send, .timer = s_timer, .event = s_event,
};

/* Capacity frames go out like capacity.c's: normal access, PROTO class. */
static void cap_send(struct snode *n, const struct rpw_frame *f)
{
	struct rpw_mac_txreq *req = calloc(1, sizeof(*req));

	req->frame = *f;
	req->cls = RPW_MAC_CLASS_PROTO;
	if (busim_submit(n->sim, n->idx, req))
		free(req);
}

static bool cap_is_psu(struct snode *n)
{
	return n->e.cfg.role == RACKPWR_ROLE_PSU;
}

static void cap_view(struct snode *n, struct rpw_cap_view *v)
{
	v->epoch = rpw_elect_epoch(&n->e);
	v->primary = rpw_elect_primary(&n->e);
	v->is_primary = rpw_elect_state(&n->e) == RPW_ES_PRIMARY;
}

static void cap_rx(struct snode *n, const struct rpw_frame *f, u64 now)
{
	struct rpw_cap_view v;
	struct rpw_frame r;

	if (!cap_ms || !cap_is_psu(n))
		return;
	cap_view(n, &v);
	if (rpw_cap_rx(&n->cap, &v, f, now) == RPW_CAP_RX_ANSWER) {
		rpw_cap_pack_report(&r, f->src, v.epoch,
				    &n->cap.ent[n->cap.self]);
		cap_send(n, &r);
	}
}

/* As rpw_cap_work(): the own line, then the primary's query round. */
static void cap_tick(struct busim *sim, void *arg)
{
	struct snode *n = arg;
	u64 now = busim_now(sim);
	struct rpw_frame q;
	int a;

	busim_at(sim, now + cap_ms * MS, cap_tick, n);
	if (n->dead || !cap_is_psu(n))
		return;
	rpw_cap_set_local(&n->cap, n->has_asm ? &n->own : NULL, now);
	if (rpw_elect_state(&n->e) != RPW_ES_PRIMARY) {
		rpw_cap_forget_others(&n->cap);
		return;
	}
	if (!rpw_elect_is_primary(&n->e, now))
		return;
	rpw_cap_pack_query(&q, rpw_elect_epoch(&n->e));
	cap_send(n, &q);
	for (a = 0; (a = rpw_cap_query_round(&n->cap, a)) >= 0; a++)
		if (verbose)
			printf("# %9.3f ms n%d capacity of %d lost\n",
			       now / 1e6, n->idx, a);
}

/* Every primary's lines hold exactly what their modules have. */
static void cap_check_lines(void)
{
	int i, j, a;

	for (i = 0; i < nn; i++) {
		const struct rpw_cap_table *t = &nodes[i].cap;

		for (a = 0; (a = rpw_cap_next(t, a)) >= 0; a++) {
			for (j = 0; j < nn; j++)
				if (nodes[j].e.cfg.addr == a && nodes[j].has_asm)
					break;
			if (j == nn ||
			    t->ent[a].bank_mw[0] != nodes[j].own.bank_mw[0] ||
			    t->ent[a].bank_mw[1] != nodes[j].own.bank_mw[1]) {
				if (!cap_bad++)
					printf("# n%d holds a wrong line for %d\n",
					       i, a);
			}
		}
	}
}

/* The acting primary @p's table is complete: one line per assembly. */
static bool cap_complete(int p)
{
	const struct rpw_cap_table *t = NULL;
	u64 want = 0;
	int i, lines = 0, a;

	for (i = 0; i < nn; i++) {
		if (nodes[i].dead)
			continue;
		if (nodes[i].e.cfg.addr == p)
			t = &nodes[i].cap;
		if (nodes[i].has_asm)
			want += nodes[i].own.bank_mw[0];
	}
	if (!t)
		return false;
	for (a = 0; (a = rpw_cap_next(t, a)) >= 0; a++)
		if (!t->ent[a].lost)
			lines++;
	for (i = 0; i < nn; i++)
		if (!nodes[i].dead && nodes[i].has_asm)
			lines--;
	printf("# capacity: primary %d lists %llu mW in bank A, the assemblies hold %llu mW\n",
	       p, (unsigned long long)rpw_cap_total_mw(t, 0),
	       (unsigned long long)want);
	return !lines && rpw_cap_total_mw(t, 0) == want && !cap_bad;
}

/* ---- --alloc-bench ------------------------------------------------------ */

static u64 policy_ns = 1000000;
static u64 lat[4096];
static unsigned int nlat, storm_left;
static u64 storm_t0, storm_end, settled_at;
/* Allocation frames sent during the storm: by chassis, by the primary. */
static unsigned int storm_frames[2];

/*
 * Where an idle request's time goes (one in flight at a time): the
 * instants below, in order, then the differences between neighbours.
 */
enum {
	BK_TRIGGER,	/* the trigger reached the chassis' slot table */
	BK_CH_SUBMIT,	/* its PWR_REQUEST handed to the chassis' MAC */
	BK_CH_START,	/* the access carrying it began (intact attempt) */
	BK_P_RX,	/* the primary's ledger received it */
	BK_P_SUBMIT,	/* the PWR_ANSWER handed to the primary's MAC */
	BK_P_START,	/* the access carrying the answer began */
	BK_POWER_ON,	/* the chassis emitted power-on */
	BK_NR
};

static const char *const bk_name[BK_NR - 1] = {
	"chassis queue", "chassis access", "request line",
	"primary+policy", "answer access", "answer line",
};
static u64 bk_t[BK_NR];
static u64 bk_d[BK_NR - 1][4096];
static unsigned int bk_n;
/* Storm: access waits of allocation frames (last attempt), by sender. */
static u64 storm_wait_sum[2], storm_wait_max[2];
static unsigned int storm_wait_n[2];

/* Mark instant @i of the request in flight (the first time only). */
static void bk_mark(unsigned int i, u64 t)
{
	if (bk_t[BK_TRIGGER] && !bk_t[i])
		bk_t[i] = t;
}

static void bk_record(u64 now)
{
	unsigned int i;

	bk_mark(BK_POWER_ON, now);
	for (i = 1; i < BK_NR; i++)
		if (bk_t[i] < bk_t[i - 1])
			break;
	if (i == BK_NR && bk_n < sizeof(bk_d[0]) / sizeof(bk_d[0][0])) {
		for (i = 1; i < BK_NR; i++)
			bk_d[i - 1][bk_n] = bk_t[i] - bk_t[i - 1];
		bk_n++;
	}
	memset(bk_t, 0, sizeof(bk_t));
}

/*
 * @f arrived at @n: the sender's access carrying it began at its MAC's
 * tx_start (the receiver has the frame before the sender its echo).
 */
static void bk_rx(struct snode *n, const struct rpw_frame *f)
{
	bool psu = n->e.cfg.role == RACKPWR_ROLE_PSU;
	int i;

	for (i = 0; i < nn; i++)
		if (nodes[i].e.cfg.addr == f->src)
			break;
	if (i == nn)
		return;
	if (f->type == RPW_T_PWR_REQUEST && psu && n->acting)
		bk_mark(BK_CH_START, busim_mac(n->sim, i)->tx_start);
	if (f->type == RPW_T_PWR_ANSWER && !psu)
		bk_mark(BK_P_START, busim_mac(n->sim, i)->tx_start);
}

/* @node sent allocation frame @f intact: its access wait in the storm. */
static void bk_tx(struct busim *sim, int node, const struct rpw_frame *f)
{
	struct rpw_mac *mac = busim_mac(sim, node);
	bool psu = nodes[node].e.cfg.role == RACKPWR_ROLE_PSU;
	u64 w;

	(void)f;
	if (!storm_t0 || !storm_left || !mac->head)
		return;
	w = mac->tx_start - mac->head->ready_ns;
	storm_wait_sum[psu] += w;
	storm_wait_n[psu]++;
	if (w > storm_wait_max[psu])
		storm_wait_max[psu] = w;
}

struct decide {
	struct snode *n;
	u8 addr, slot, verdict;
	u32 id, watts, epoch;
};

/* --alloc-check (see the header) */
static bool check_on;
static u64 check_quiet_ns;

static void alloc_kick(struct snode *n, u64 now);

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
static void alloc_renew(struct snode *n, u64 now)
{
	u64 end;

	if (n->dead || !(n->e.cfg.role == RACKPWR_ROLE_PSU))
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
static void alloc_expired(struct snode *n, const struct rpw_mac_txreq *req,
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

static void alloc_send(struct snode *n, const struct rpw_frame *f)
{
	struct rpw_mac_txreq *req = calloc(1, sizeof(*req));
	u64 now = busim_now(n->sim);
	int err;

	req->frame = *f;
	req->cls = RPW_MAC_CLASS_ALLOC;
	req->urgent = alloc_urgent;	/* experiment: not what alloc.c does */
	/* As rpw_alloc_tx(): the answer slot for all but table reports. */
	req->answered = n->e.cfg.role != RACKPWR_ROLE_PSU &&
			f->type != RPW_T_INV_REPORT;
	/*
	 * As rpw_alloc_tx(): a chassis frame lives one resend period, a
	 * primary's ends with its lease and is not sent outside one.
	 */
	if (n->e.cfg.role != RACKPWR_ROLE_PSU) {
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
	if (verbose)
		printf("# %9.3f ms n%d alloc send 0x%02x to %u len %u\n",
		       busim_now(n->sim) / 1e6, n->idx, f->type, f->dst,
		       f->len);
	err = busim_submit(n->sim, n->idx, req);
	if (err && verbose)
		printf("# n%d alloc frame 0x%02x refused: %d\n", n->idx,
		       f->type, err);
	if (err) {
		if (n->e.cfg.role == RACKPWR_ROLE_PSU)
			rpw_ledger_unsent(&n->ledger, f);
		else
			rpw_slots_unsent(&n->slots, f);
		free(req);
		return;
	}
	if (f->type == RPW_T_PWR_REQUEST && n->e.cfg.role != RACKPWR_ROLE_PSU)
		bk_mark(BK_CH_SUBMIT, now);
	if (f->type == RPW_T_PWR_ANSWER && n->e.cfg.role == RACKPWR_ROLE_PSU)
		bk_mark(BK_P_SUBMIT, now);
	/* As rpw_alloc_tx(): flow control until its done. */
	n->aq[f->dst]++;
	n->out.queued++;
	rpw_alloc_out_hold(&n->out, f->dst, true);
	if (storm_t0 && storm_left)
		storm_frames[n->e.cfg.role == RACKPWR_ROLE_PSU]++;
}

/*
 * As rpw_alloc_tx_done(): the destination takes the next frame; a
 * chassis's delivered frame pushes its resends back, a frame that was
 * not delivered goes again.
 */
static void alloc_done(struct snode *n, const struct rpw_frame *f, bool ok,
		       u64 now)
{
	if (ok && n->e.cfg.role != RACKPWR_ROLE_PSU)
		rpw_slots_delivered(&n->slots, f, now);
	if (!ok && n->e.cfg.role == RACKPWR_ROLE_PSU)
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

static void alloc_ask(struct snode *n, u8 addr, u8 slot, u32 id, u8 verdict,
		      u64 now);

/*
 * --alloc-check: the agent reads the allocation table (a resync) and
 * decides every pending request and grants every queued one; while its
 * node does not act (or still recovers), it looks again 10 ms later.
 */
static void a_resync(struct busim *sim, void *arg)
{
	struct snode *n = arg;
	struct rpw_ledger_info in;
	u64 now = busim_now(sim);
	int pos;

	if (stalled) {
		busim_at(sim, now + MS / 4, a_resync, n);
		return;
	}
	if (n->dead || rpw_elect_state(&n->e) != RPW_ES_PRIMARY) {
		n->resync = false;
		return;
	}
	if (!n->acting || n->ledger.recovering) {
		busim_at(sim, now + 10 * MS, a_resync, n);
		return;
	}
	n->resync = false;
	for (pos = 0; (pos = rpw_ledger_next(&n->ledger, pos, &in)) >= 0;
	     pos++)
		if (in.state == RPW_GS_PENDING || in.state == RPW_GS_QUEUED)
			alloc_ask(n, in.addr, in.slot, in.id,
				  in.state == RPW_GS_QUEUED ? RPW_PWR_GRANT : 0,
				  now);
}

static void alloc_resync_later(struct snode *n, u64 now)
{
	if (n->resync)
		return;
	n->resync = true;
	busim_at(n->sim, now + 10 * MS, a_resync, n);
}

/*
 * The guest is stalled: nothing of the kernel or the agent runs.  @fn
 * comes back a quarter millisecond later (in order of scheduling).
 */
static bool alloc_stalled(struct busim *sim,
			  void (*fn)(struct busim *sim, void *arg), void *arg)
{
	if (!stalled)
		return false;
	busim_at(sim, busim_now(sim) + MS / 4, fn, arg);
	return true;
}

/*
 * The trivial policy: grant exactly what was asked.  With --alloc-check
 * one request in three is queued first and granted 10-300 ms later (as
 * when the budget frees up).  As rpw_alloc_may_act(): refused outside
 * the lease (the agent tries again while its node is primary at the
 * epoch that asked) and at another epoch (the new primary asks anew).
 */
static void a_decide(struct busim *sim, void *arg)
{
	struct decide *d = arg;
	struct snode *n = d->n;
	u64 now = busim_now(sim);
	int err = 0;

	if (alloc_stalled(sim, a_decide, d))
		return;
	if (!n->dead && check_on &&
	    (!n->acting || n->ledger.epoch != d->epoch)) {
		/* The agent reads the table again when its node acts. */
		err = -ESTALE;
		alloc_resync_later(n, now);
	} else if (!n->dead && check_on && !rpw_elect_is_primary(&n->e, now)) {
		err = -EAGAIN;
	} else if (!n->dead) {
		err = rpw_ledger_decide(&n->ledger, d->addr, d->slot, d->id,
					d->verdict, (u64)d->watts * 1000,
					d->verdict == RPW_PWR_QUEUED ?
					RPW_PWR_R_CAPACITY : 0, ~0ULL >> 1,
					now, &n->out);
	}
	if (verbose)
		printf("# %9.3f ms n%d decide %u/%u id %u verdict %u: %d\n",
		       now / 1e6, n->idx, d->addr, d->slot, d->id, d->verdict,
		       err);
	if (err == -EAGAIN) {
		/* Recovering: the glue tells the holder again when it ends. */
		busim_at(sim, now + MS, a_decide, d);
		return;
	}
	alloc_kick(n, now);
	if (!err && d->verdict == RPW_PWR_QUEUED) {
		d->verdict = RPW_PWR_GRANT;
		busim_at(sim, now + (10 + busim_rand(sim) % 291) * MS,
			 a_decide, d);
		return;
	}
	free(d);
}

static unsigned int power_ons;

static void alloc_power_on(struct snode *n, unsigned int slot, u64 now)
{
	power_ons++;
	if (!n->asked[slot])
		return;
	if (nlat < sizeof(lat) / sizeof(lat[0]) && !storm_t0) {
		lat[nlat++] = now - n->asked[slot];
		bk_record(now);
	}
	n->asked[slot] = 0;
	if (storm_t0 && storm_left && !--storm_left)
		storm_end = now;
}

/* What the request of @addr/@slot asks for, from the ledger (as netlink). */
static u32 alloc_want_w(const struct rpw_ledger *l, u8 addr, u8 slot)
{
	struct rpw_ledger_info in;
	int pos;

	for (pos = 0; (pos = rpw_ledger_next(l, pos, &in)) >= 0; pos++)
		if (in.addr == addr && in.slot == slot)
			return in.want_mw / 1000;
	return 0;
}

/*
 * A request notification reaches the policy (after --policy-us), which
 * decides @verdict (0: its own choice).
 */
static void alloc_ask(struct snode *n, u8 addr, u8 slot, u32 id, u8 verdict,
		      u64 now)
{
	struct decide *d = calloc(1, sizeof(*d));

	d->n = n;
	d->addr = addr;
	d->slot = slot;
	d->id = id;
	d->epoch = n->ledger.epoch;
	d->verdict = verdict ?: check_on && !(busim_rand(n->sim) % 3) ?
		     RPW_PWR_QUEUED : RPW_PWR_GRANT;
	d->watts = alloc_want_w(&n->ledger, addr, slot);
	busim_at(n->sim, now + policy_ns, a_decide, d);
}

/* As rpw_alloc_renotify(): the recovery is over, pending requests again. */
static void alloc_renotify(struct snode *n, u64 now)
{
	struct rpw_ledger_info in;
	int pos;

	if (!check_on)
		return;
	for (pos = 0; (pos = rpw_ledger_next(&n->ledger, pos, &in)) >= 0;
	     pos++)
		if (in.state == RPW_GS_PENDING)
			alloc_ask(n, in.addr, in.slot, in.id, 0, now);
}

static void alloc_drain(struct snode *n, u64 now)
{
	struct rpw_alloc_out *o = &n->out;
	unsigned int i;

	for (i = 0; i < o->nframes; i++)
		alloc_send(n, &o->frames[i]);
	for (i = 0; i < o->nacts; i++) {
		const struct rpw_alloc_act *a = &o->acts[i];

		if (a->kind == RPW_ACT_POWER_ON)
			alloc_power_on(n, a->slot, now);
		if (a->kind == RPW_ACT_EVENT && a->event == RPW_AEV_RECOVERED)
			alloc_renotify(n, now);
		if (a->kind != RPW_ACT_EVENT || a->event != RPW_AEV_REQUEST)
			continue;
		alloc_ask(n, a->addr, a->slot, a->id, 0, now);
	}
	rpw_alloc_out_reset(o);
}

static void a_timer_fire(struct busim *sim, void *arg)
{
	struct snode *n = arg;
	u64 now = busim_now(sim);

	if (n->dead || n->atimer == RPW_ALLOC_NO_TIMER || now < n->atimer ||
	    alloc_stalled(sim, a_timer_fire, n))
		return;
	n->atimer = RPW_ALLOC_NO_TIMER;
	alloc_kick(n, now);
}

/* As rpw_alloc_kick(): output, due frames, the next deadline. */
static void alloc_kick(struct snode *n, u64 now)
{
	u64 next;
	int round;

	alloc_drain(n, now);
	for (round = 0; round < 8; round++) {
		next = n->e.cfg.role == RACKPWR_ROLE_PSU ?
		       rpw_ledger_tick(&n->ledger, now, &n->out) :
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

/*
 * As rpw_alloc_follow(): the primary followed and the end of its lease as
 * its last claim advertised it (none: followed by nobody).
 */
/* As rpw_alloc_withdraw(): every queued allocation frame of the node. */
static bool alloc_own(const struct rpw_mac_txreq *req, void *arg)
{
	(void)arg;
	return req->cls == RPW_MAC_CLASS_ALLOC;
}

/* As rpw_node_withdraw_locked(): after the call (not in a MAC callback). */
static void a_withdraw(struct busim *sim, void *arg)
{
	struct snode *n = arg;

	if (!n->dead)
		rpw_mac_cancel_if(busim_mac(sim, n->idx), alloc_own, NULL,
				  busim_now(sim));
}

static void alloc_follow(struct snode *n, u64 now)
{
	u64 lease = rpw_elect_primary_lease(&n->e);
	u8 p = lease ? rpw_elect_primary(&n->e) : RPW_ADDR_NONE;

	if (p != n->slots.primary || rpw_elect_epoch(&n->e) != n->slots.epoch)
		busim_at(n->sim, now, a_withdraw, n);
	rpw_slots_leader(&n->slots, p, rpw_elect_epoch(&n->e), lease, now);
}

/* Every millisecond, as the leader callback: whom we follow, do we act. */
static void alloc_sync(struct busim *sim, void *arg)
{
	struct snode *n = arg;
	u64 now = busim_now(sim);
	bool acting;
	int i;

	busim_at(sim, now + MS, alloc_sync, n);
	if (n->dead || stalled)
		return;
	if (n->e.cfg.role != RACKPWR_ROLE_PSU) {
		alloc_follow(n, now);
		alloc_kick(n, now);
		return;
	}
	/* As rpw_alloc_leader(): the lease lapsed, our frames withdrawn. */
	acting = rpw_elect_is_primary(&n->e, now);
	if (n->lease && !acting)
		a_withdraw(sim, n);
	n->lease = acting;
	/* As rpw_alloc_leader(): a lapsed lease in the same epoch keeps it. */
	if (n->acting && (rpw_elect_state(&n->e) != RPW_ES_PRIMARY ||
			  rpw_elect_epoch(&n->e) != n->ledger.epoch)) {
		rpw_ledger_role(&n->ledger, false, n->ledger.epoch, now,
				&n->out);
		n->acting = false;
	}
	if (acting && !n->acting) {
		/* As rpw_alloc_recovery_hold(): every module known. */
		n->ledger.t.recovery_ms = rpw_alloc_recovery_ms(
			rpw_mac_access_bound_ns(&busim_mac(sim, n->idx)->cfg,
						nn < 2 ? 2 : nn, RPW_MAX_WIRE,
						true, MS),
			n->ledger.t.resend_ms);
		rpw_ledger_role(&n->ledger, true, rpw_elect_epoch(&n->e), now,
				&n->out);
		n->acting = true;
		for (i = 0; i < nn; i++)
			if (nodes[i].e.cfg.role != RACKPWR_ROLE_PSU)
				rpw_ledger_know(&n->ledger,
						nodes[i].e.cfg.addr);
	}
	alloc_kick(n, now);
}

static void alloc_rx(struct snode *n, const struct rpw_frame *f, u64 now)
{
	if (verbose) {
		unsigned int k;

		printf("# %9.3f ms n%d alloc rx 0x%02x from %u:", now / 1e6,
		       n->idx, f->type, f->src);
		for (k = 0; verbose > 1 && k < f->len; k++)
			printf(" %02x", f->payload[k]);
		printf("\n");
	}
	bk_rx(n, f);
	if (f->type == RPW_T_PWR_REQUEST && n->e.cfg.role == RACKPWR_ROLE_PSU &&
	    n->acting)
		bk_mark(BK_P_RX, now);
	if (n->e.cfg.role == RACKPWR_ROLE_PSU) {
		rpw_ledger_rx(&n->ledger, f, now, &n->out);
	} else {
		alloc_follow(n, now);
		rpw_slots_rx(&n->slots, f, now, &n->out);
	}
	alloc_kick(n, now);
}

static void alloc_event(struct snode *n, unsigned int slot, unsigned int ev,
			u64 now)
{
	if (ev != RPW_SEV_OFF)
		n->asked[slot] = now;
	if (ev == RPW_SEV_BUTTON && !storm_t0) {
		memset(bk_t, 0, sizeof(bk_t));
		bk_t[BK_TRIGGER] = now;
	}
	rpw_slots_server_event(&n->slots, slot, ev, 0, now, &n->out);
	alloc_kick(n, now);
}

#define BENCH_GAP	400	/* ms between idle requests */

/* One request at a time: trigger, (granted), release, next. */
static int bench_next;

static void b_step(struct busim *sim, void *arg)
{
	int k = bench_next++, c, slot;
	struct snode *n;
	u64 now = busim_now(sim);

	(void)arg;
	/* The k-th request goes to the (k mod chassis)-th chassis. */
	for (c = 0, n = NULL; !n; c++)
		if (nodes[(k + c) % nn].e.cfg.role != RACKPWR_ROLE_PSU)
			n = &nodes[(k + c) % nn];
	slot = (k / 7) % RPW_ALLOC_SLOTS;
	if (n->slots.slot[slot].state == RPW_SLOT_GRANTED)
		alloc_event(n, slot, RPW_SEV_OFF, now);
	alloc_event(n, slot, RPW_SEV_BUTTON, now);
}

static void b_release(struct busim *sim, void *arg)
{
	u64 now = busim_now(sim);
	unsigned int s;
	int i;

	(void)arg;
	for (i = 0; i < nn; i++)
		for (s = 0; s < RPW_ALLOC_SLOTS; s++)
			if (nodes[i].e.cfg.role != RACKPWR_ROLE_PSU &&
			    nodes[i].slots.slot[s].state == RPW_SLOT_GRANTED)
				alloc_event(&nodes[i], s, RPW_SEV_OFF, now);
}

static void b_storm(struct busim *sim, void *arg)
{
	u64 now = busim_now(sim);
	unsigned int s;
	int i;

	(void)arg;
	storm_t0 = now;
	for (i = 0; i < nn; i++)
		for (s = 0; s < RPW_ALLOC_SLOTS; s++)
			if (nodes[i].e.cfg.role != RACKPWR_ROLE_PSU) {
				storm_left++;
				alloc_event(&nodes[i], s, RPW_SEV_BUTTON, now);
			}
}

static int bench_requests;

/* The acting primary recovered, every chassis confirmed, no frame queued. */
static bool alloc_settled(void)
{
	bool acting = false;
	int i, a;

	for (i = 0; i < nn; i++) {
		const struct snode *n = &nodes[i];

		if (n->out.queued)
			return false;
		if (n->e.cfg.role == RACKPWR_ROLE_PSU) {
			if (n->acting && n->ledger.recovering)
				return false;
			acting |= n->acting;
			for (a = 0; a < RPW_ALLOC_MAX_CHASSIS; a++)
				if (n->acting && n->ledger.ch[a].addr != RPW_ADDR_NONE &&
				    n->ledger.ch[a].reported != 0xff)
					return false;
		} else if (n->slots.confirmed != 0xff) {
			return false;
		}
	}
	return acting;
}

/*
 * --alloc-check: every slot of every chassis, at random intervals of
 * 20-400 ms, asks for power when it has none and gives it back when it
 * holds a grant, until the churn ends (check_quiet_ns).
 */
static void c_churn(struct busim *sim, void *arg)
{
	struct snode *n = &nodes[(unsigned long)arg / RPW_ALLOC_SLOTS];
	unsigned int slot = (unsigned long)arg % RPW_ALLOC_SLOTS;
	u64 now = busim_now(sim);
	u8 st = n->slots.slot[slot].state;

	if (now >= check_quiet_ns || n->dead)
		return;
	if (alloc_stalled(sim, c_churn, arg))
		return;
	if (st == RPW_SLOT_GRANTED)
		alloc_event(n, slot, RPW_SEV_OFF, now);
	else if (st == RPW_SLOT_OFF || st == RPW_SLOT_DENIED)
		alloc_event(n, slot, RPW_SEV_BUTTON, now);
	busim_at(sim, now + (20 + busim_rand(sim) % 381) * MS, c_churn, arg);
}

static void check_start(struct busim *sim, u64 now)
{
	unsigned long k;

	for (k = 0; k < (unsigned long)nn * RPW_ALLOC_SLOTS; k++)
		if (nodes[k / RPW_ALLOC_SLOTS].e.cfg.role != RACKPWR_ROLE_PSU)
			busim_at(sim, now + busim_rand(sim) % (50 * MS),
				 c_churn, (void *)k);
}

static void c_quiet(struct busim *sim, void *arg)
{
	(void)sim;
	(void)arg;
	quiet = true;
}

/*
 * --alloc-check, at the end: the acting primary's ledger and every
 * chassis' slot table tell the same story, and no request is open.
 */
static bool check_report(void)
{
	const struct rpw_ledger *l = NULL;
	unsigned int bad = 0, granted = 0;
	int i, c;
	u64 now = busim_now(nodes[0].sim);

	for (i = 0; i < nn; i++)
		if (!nodes[i].dead && nodes[i].e.cfg.role == RACKPWR_ROLE_PSU &&
		    nodes[i].acting && rpw_elect_is_primary(&nodes[i].e, now))
			l = &nodes[i].ledger;
	if (!l || l->recovering) {
		printf("# alloc check: no acting primary with a ledger at the end\n");
		return false;
	}
	for (i = 0; i < nn; i++) {
		const struct snode *n = &nodes[i];
		const struct rpw_ledger_chassis *ch = NULL;
		unsigned int s;

		if (n->e.cfg.role == RACKPWR_ROLE_PSU || n->dead)
			continue;
		for (c = 0; c < RPW_ALLOC_MAX_CHASSIS; c++)
			if (l->ch[c].addr == n->e.cfg.addr)
				ch = &l->ch[c];
		if (!ch || ch->reported != 0xff || n->slots.confirmed != 0xff)
			printf("# alloc check: chassis %u: reported 0x%02x to the primary, confirmed 0x%02x, follows %u at %u.%u, lease %.3f ms\n",
			       n->e.cfg.addr, ch ? ch->reported : 0,
			       n->slots.confirmed, n->slots.primary,
			       RPW_EPOCH_TERM(n->slots.epoch),
			       RPW_EPOCH_OWNER(n->slots.epoch),
			       n->slots.lease_end / 1e6);
		for (s = 0; s < RPW_ALLOC_SLOTS; s++) {
			const struct rpw_slot *sl = &n->slots.slot[s];
			const struct rpw_ledger_ent *e = ch ? &ch->ent[s] : NULL;
			bool holds = sl->state == RPW_SLOT_GRANTED ||
				     sl->state == RPW_SLOT_SHEDDING;
			bool counts = e && (e->state == RPW_GS_GRANTED ||
					    e->state == RPW_GS_SHEDDING);
			bool ok = holds == counts &&
				  (!holds || (e->id == sl->id &&
					      e->held_mw == (u64)sl->held_w * 1000)) &&
				  (sl->state == RPW_SLOT_OFF || holds);

			granted += holds;
			if (ok)
				continue;
			bad++;
			printf("# alloc check: chassis %u slot %u: %s id %u held %u W, ledger %s id %u held %llu mW\n",
			       n->e.cfg.addr, s,
			       sl->state == RPW_SLOT_QUEUED ? "queued" :
			       sl->state == RPW_SLOT_REQUESTING ? "requesting" :
			       sl->state == RPW_SLOT_RELEASING ? "releasing" :
			       holds ? "granted" : "other",
			       sl->id, sl->held_w,
			       !e || e->state == RPW_GS_NONE ? "none" :
			       e->state == RPW_GS_PENDING ? "pending" :
			       e->state == RPW_GS_QUEUED ? "queued" : "granted",
			       e ? e->id : 0,
			       (unsigned long long)(e ? e->held_mw : 0));
		}
	}
	printf("# alloc check: %u power-ons, %u slots powered at the end, %u disagree with the ledger or still wait\n",
	       power_ons, granted, bad);
	return !bad && power_ons;
}

/*
 * The idle requests start once the rack settled (the new primary's
 * inventory round is over), then one every BENCH_GAP ms, released half
 * way: the release and its confirmation are over before the next
 * request, so each one finds the bus idle but for the election's
 * heartbeats.  Then the storm.
 */
static void b_settle(struct busim *sim, void *arg)
{
	u64 now = busim_now(sim);
	int k;

	(void)arg;
	if (check_on) {
		/* Faults all along: no waiting for a quiet rack. */
		check_start(sim, now);
		return;
	}
	if (!alloc_settled()) {
		busim_at(sim, now + 10 * MS, b_settle, NULL);
		return;
	}
	settled_at = now;
	for (k = 0; k < bench_requests; k++) {
		busim_at(sim, now + k * BENCH_GAP * MS, b_step, NULL);
		busim_at(sim, now + k * BENCH_GAP * MS + BENCH_GAP / 2 * MS,
			 b_release, NULL);
	}
	busim_at(sim, now + bench_requests * BENCH_GAP * MS, b_storm, NULL);
}

static void alloc_setup(struct busim *sim, int requests, u64 start)
{
	unsigned int s;
	int i;

	for (i = 0; i < nn; i++) {
		struct snode *n = &nodes[i];

		n->atimer = RPW_ALLOC_NO_TIMER;
		rpw_alloc_out_reset(&n->out);
		n->out.max_queued = busim_mac(sim, i)->cfg.reserve[RPW_MAC_CLASS_ALLOC];
		rpw_slots_init(&n->slots, NULL, 1000 * (i + 1));
		rpw_ledger_init(&n->ledger, NULL);
		rpw_ledger_policy(&n->ledger, true, 0);
		if (n->e.cfg.role != RACKPWR_ROLE_PSU)
			for (s = 0; s < RPW_ALLOC_SLOTS; s++)
				rpw_slots_server_event(&n->slots, s,
						       RPW_SEV_PRESENT,
						       400 + 100 * s, 0,
						       &n->out);
		rpw_alloc_out_reset(&n->out);
		busim_at(sim, MS, alloc_sync, n);
	}
	bench_requests = requests;
	busim_at(sim, start, b_settle, NULL);
}

static int u64cmp(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static bool alloc_report(void)
{
	unsigned int i;

	if (!nlat) {
		printf("# alloc: no request answered\n");
		return false;
	}
	qsort(lat, nlat, sizeof(lat[0]), u64cmp);
	printf("# alloc idle: %u requests, request -> grant p50 %.2f ms p99 %.2f ms max %.2f ms (policy %.2f ms)\n",
	       nlat, lat[nlat / 2] / 1e6, lat[(nlat * 99) / 100] / 1e6,
	       lat[nlat - 1] / 1e6, policy_ns / 1e6);
	printf("# alloc: idle requests from %.0f ms on (rack settled)\n",
	       settled_at / 1e6);
	for (i = 0; bk_n && i < BK_NR - 1; i++) {
		u64 sum = 0;
		unsigned int k;

		for (k = 0; k < bk_n; k++)
			sum += bk_d[i][k];
		qsort(bk_d[i], bk_n, sizeof(bk_d[i][0]), u64cmp);
		printf("# alloc idle breakdown: %-15s mean %6.2f ms p50 %6.2f ms p99 %6.2f ms max %6.2f ms (%u requests)\n",
		       bk_name[i], sum / 1e6 / bk_n, bk_d[i][bk_n / 2] / 1e6,
		       bk_d[i][(bk_n * 99) / 100] / 1e6,
		       bk_d[i][bk_n - 1] / 1e6, bk_n);
	}
	for (i = 0; i < 2; i++)
		if (storm_wait_n[i])
			printf("# alloc storm: %s access wait per frame mean %.2f ms max %.2f ms (%u frames)\n",
			       i ? "primary" : "chassis",
			       storm_wait_sum[i] / 1e6 / storm_wait_n[i],
			       storm_wait_max[i] / 1e6, storm_wait_n[i]);
	if (storm_left)
		printf("# alloc storm: %u requests unanswered\n", storm_left);
	else
		printf("# alloc storm: all answered in %.2f ms, %u frames from the chassis, %u from the primary\n",
		       (storm_end - storm_t0) / 1e6, storm_frames[0],
		       storm_frames[1]);
	return !storm_left && storm_end;
}

static void h_rx(struct busim *sim, int node, const struct rpw_frame *f,
		 void *user)
{
	(void)user;
	if (nodes[node].dead)
		return;
	if (f->type == RPW_T_CAP_QUERY || f->type == RPW_T_CAP_REPORT)
		cap_rx(&nodes[node], f, busim_now(sim));
	else if (RPW_T_RANGE(f->type) == RPW_T_RANGE(RPW_T_PWR_REQUEST))
		alloc_on ? alloc_rx(&nodes[node], f, busim_now(sim)) : (void)0;
	else
	{
		rpw_elect_rx(&nodes[node].e, f, busim_now(sim));
		if (alloc_on)
			alloc_renew(&nodes[node], busim_now(sim));
	}
}

static void h_done(struct busim *sim, int node, struct rpw_mac_txreq *req,
		   int result, void *user)
{
	(void)user;
	if (RPW_T_RANGE(req->frame.type) == RPW_T_RANGE(RPW_T_PWR_REQUEST)) {
		if (verbose > 1)
			printf("# %9.3f ms n%d done type 0x%02x to %u result %d\n",
			       busim_now(sim) / 1e6, node, req->frame.type,
			       req->frame.dst, result);
		if (nodes[node].e.cfg.role == RACKPWR_ROLE_PSU)
			p_frames[result == -ETIME ? 1 : result ? 2 : 0]++;
		if (nodes[node].e.cfg.role == RACKPWR_ROLE_PSU &&
		    result == -ETIME)
			alloc_expired(&nodes[node], req, busim_now(sim));
		alloc_done(&nodes[node], &req->frame, !result, busim_now(sim));
		free(req);
		return;
	}
	if (req->frame.type == RPW_T_DATA) {
		/* busim_send()'s pool: busim frees it, the flood refills. */
		if (flooding)
			flood_fill(sim, node);
		return;
	}
	if (verbose > 1)
		printf("# %9.3f ms n%d done type 0x%02x seq %u result %d\n",
		       busim_now(sim) / 1e6, node, req->frame.type,
		       req->frame.seq, result);
	if (!nodes[node].dead)
		rpw_elect_tx_done(&nodes[node].e, &req->frame, !result,
				  busim_now(sim));
	if (alloc_on && req->cls == RPW_MAC_CLASS_ELECT)
		alloc_renew(&nodes[node], busim_now(sim));
	free(req);
}

static void h_event(struct busim *sim, int node, enum rpw_mac_event ev,
		    const struct rpw_frame *f, void *user)
{
	(void)user;
	if (ev == RPW_MAC_EV_DUP_ADDR && !nodes[node].dead)
		dup_report(&nodes[node], busim_now(sim));
	if (ev == RPW_MAC_EV_TX && f && alloc_on &&
	    RPW_T_RANGE(f->type) == RPW_T_RANGE(RPW_T_PWR_REQUEST))
		bk_tx(sim, node, f);
	if (ev != RPW_MAC_EV_COLLISION)
		return;
	if (f && (f->flags & RPW_F_PRIO))
		collisions_urgent++;
	if (verbose > 1)
		printf("# %9.3f ms n%d collision %s type 0x%02x flags %x\n",
		       busim_now(sim) / 1e6, node, f ? "frame" : "ack/none",
		       f ? f->type : 0, f ? f->flags : 0);
}

static void s_boot(struct busim *sim, void *arg)
{
	struct snode *n = arg;

	if (stalled) {		/* nothing starts in a stalled guest */
		busim_at(sim, busim_now(sim) + MS / 4, s_boot, n);
		return;
	}
	if (n->dead) {		/* the duplicate, connected only now */
		n->dead = false;
		busim_partition(sim, n->idx, false);
	}
	rpw_elect_start(&n->e, busim_now(sim));
}

/* --tol-max-us: the kernel's elect_tol_max_us default (driver/elect.c). */
static unsigned int tol_max_us = 320000;

/* The kernel's derivation (driver/elect.c), with this rack's size and timing. */
static void s_cfg(struct rpw_elect_cfg *ec, const struct rpw_mac_cfg *mc,
		  u8 role, u64 tol, u64 lat)
{
	const struct rpw_elect_params p = {
		.role = role,
		.rack_modules = nn + 1,
		.tol_us = tol / 1000,
		.tol_max_us = tol_max_us,
		.rx_lat_ns = lat,
	};

	rpw_elect_cfg_build(ec, mc, &p, NULL);
}

/* Exactly one acting primary that every live node follows: its address. */
static int converged(u64 now)
{
	int i, p = -1;

	for (i = 0; i < nn; i++) {
		if (nodes[i].dead)
			continue;
		if (rpw_elect_is_primary(&nodes[i].e, now)) {
			if (p >= 0)
				return -1;
			p = nodes[i].e.cfg.addr;
		}
	}
	if (p < 0)
		return -1;
	for (i = 0; i < nn; i++)
		if (!nodes[i].dead && rpw_elect_primary(&nodes[i].e) != p)
			return -1;
	return p;
}

/* One node in state primary, followed by every live node: its address. */
static int one_primary(void)
{
	int i, p = -1;

	for (i = 0; i < nn; i++) {
		if (nodes[i].dead ||
		    rpw_elect_state(&nodes[i].e) != RPW_ES_PRIMARY)
			continue;
		if (p >= 0)
			return -1;
		p = nodes[i].e.cfg.addr;
	}
	for (i = 0; p >= 0 && i < nn; i++)
		if (!nodes[i].dead && rpw_elect_primary(&nodes[i].e) != p)
			return -1;
	return p;
}

static void s_release(struct busim *sim, void *arg)
{
	(void)arg;
	released = true;
	if (!stalled)
		busim_hold(sim, false);
}

int main(int argc, char **argv)
{
	struct rpw_mac_cfg mc[MAXN];
	struct busim_cfg bc = { .baud = 115200, .rx_lat_ns = 200000,
				.rx_jitter_ns = 800000 };
	struct busim_hooks h = { .rx = h_rx, .done = h_done,
				 .event = h_event, .seal = h_seal,
				 .open = h_open };
	int npsu = 6, nch = 4, prio = 4, i, a, p;
	u64 seed = 1, dur = 3000, tol = 5000, kill = 0, t, conv = 0, spread = 1;
	u64 dup = 0, flood = 0, refused_el = 0, refused_user = 0;
	bool dup_ok = true, noreserve = false, alloc_ok = true;
	int requests = 200;
	unsigned int changes = 0;
	int last = -1;
	u64 coll = 0, txf = 0, txb = 0, auth_drops = 0, one = 0, t0, target;
	u64 gap_at = 0, gap_max = 0, ever = 0;
	unsigned int gaps = 0;
	u8 ch_base = 101;
	struct rpw_elect_cfg ec;
	struct busim *sim;

	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--psu") && a + 1 < argc)
			npsu = atoi(argv[++a]);
		else if (!strcmp(argv[a], "--chassis") && a + 1 < argc)
			nch = atoi(argv[++a]);
		else if (!strcmp(argv[a], "--prio") && a + 1 < argc)
			prio = atoi(argv[++a]);
		else if (!strcmp(argv[a], "--seed") && a + 1 < argc)
			seed = strtoull(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--ms") && a + 1 < argc)
			dur = strtoull(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--tol-us") && a + 1 < argc)
			tol = strtoull(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--tol-max-us") && a + 1 < argc)
			tol_max_us = strtoul(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--spread-ms") && a + 1 < argc)
			spread = strtoull(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--kill-ms") && a + 1 < argc)
			kill = strtoull(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--dup-ms") && a + 1 < argc)
			dup = strtoull(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--flood-ms") && a + 1 < argc)
			flood = strtoull(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--hold-ms") && a + 1 < argc)
			hold_ms = strtoull(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--starve-ms") && a + 1 < argc)
			starve_max = strtoull(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--starve-gap-ms") && a + 1 < argc)
			starve_gap = strtoull(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--no-reserve"))
			noreserve = true;
		else if (!strcmp(argv[a], "--no-withdraw"))
			nowithdraw = 1;
		else if (!strcmp(argv[a], "--cap-ms") && a + 1 < argc)
			cap_ms = strtoull(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--auth"))
			auth_on = 1;
		else if (!strcmp(argv[a], "--alloc-bench"))
			alloc_on = true;
		else if (!strcmp(argv[a], "--alloc-check"))
			alloc_on = check_on = true;
		else if (!strcmp(argv[a], "--alloc-urgent"))
			alloc_urgent = true;
		else if (!strcmp(argv[a], "--requests") && a + 1 < argc)
			requests = atoi(argv[++a]);
		else if (!strcmp(argv[a], "--policy-us") && a + 1 < argc)
			policy_ns = strtoull(argv[++a], NULL, 0) * 1000;
		else if (!strcmp(argv[a], "--no-renew"))
			norenew = 1;
		else if (!strcmp(argv[a], "-v"))
			verbose++;
		else if (!strcmp(argv[a], "-vv"))
			verbose += 2;
		else {
			fprintf(stderr, "usage: see the header of stack_sim.c\n");
			return 2;
		}
	}
	nn = npsu + nch + !!dup;
	if (npsu < 2 && dup) {
		fprintf(stderr, "stack_sim: --dup-ms needs two psu modules\n");
		return 2;
	}
	if (nn < 1 || nn > MAXN) {
		fprintf(stderr, "stack_sim: 1..%d nodes\n", MAXN);
		return 2;
	}
	if (npsu > 100 || 100 + nch > RPW_ADDR_MAX)
		ch_base = npsu + 1;
	if (ch_base + nch - 1 > RPW_ADDR_MAX) {
		fprintf(stderr, "stack_sim: %d addresses at most\n",
			RPW_ADDR_MAX);
		return 2;
	}
	bc.nodes = nn;
	bc.seed = seed;
	for (i = 0; i < nn; i++) {
		/* The duplicate is the last node: a psu with address 1. */
		bool psu = i < npsu || (dup && i == nn - 1);

		rpw_mac_cfg_default(&mc[i], RPW_MAC_PROFILE_UART,
				    i < npsu ? i + 1 : psu ? 1 :
				    ch_base + i - npsu, 115200);
		/* A configured rack: every node sweeps the rack's addresses. */
		mc[i].max_addr = nch ? ch_base + nch - 1 : npsu;
		mc[i].prio_period = prio;
		if (noreserve)
			memset(mc[i].reserve, 0, sizeof(mc[i].reserve));
	}
	sim = busim_new(&bc, mc, &h);
	if (!sim)
		return 2;
	for (i = 0; i < nn; i++) {
		nodes[i].sim = sim;
		nodes[i].idx = i;
		nodes[i].timer = RPW_ELECT_NO_TIMER;
		s_cfg(&ec, &busim_mac(sim, i)->cfg, i < npsu || (dup && i == nn - 1) ?
		      RACKPWR_ROLE_PSU : RACKPWR_ROLE_CHASSIS, tol * 1000, MS);
		rpw_cap_table_init(&nodes[i].cap, mc[i].addr);
		rpw_auth_init(&nodes[i].auth, s_hmac, NULL);
		if (auth_on) {
			rpw_auth_key_installed(&nodes[i].auth, 0, 1);
			rpw_auth_set_mode(&nodes[i].auth, RPW_AUTH_REQUIRED);
		}
		/* Whole watts, distinct per module; the first psu has none. */
		nodes[i].has_asm = i > 0 && i < npsu;
		nodes[i].own.bank_mw[0] = (u64)(i + 1) * 1000000;
		nodes[i].own.bank_mw[1] = (u64)(i + 1) * 500000;
		nodes[i].own.present = nodes[i].own.healthy = 0x3f;
		if (cap_ms)
			busim_at(sim, cap_ms * MS, cap_tick, &nodes[i]);
		if (rpw_elect_init(&nodes[i].e, &ec, &s_ops, &nodes[i])) {
			fprintf(stderr, "stack_sim: election config rejected\n");
			return 2;
		}
		if (dup && i == nn - 1) {
			dup_addr = mc[i].addr;
			nodes[i].dead = true;
			busim_partition(sim, i, true);
			busim_at(sim, dup * MS, s_boot, &nodes[i]);
			continue;
		}
		busim_at(sim, busim_rand(sim) % (spread * MS), s_boot,
			 &nodes[i]);
	}
	if (hold_ms) {
		busim_hold(sim, true);
		busim_at(sim, hold_ms * MS, s_release, NULL);
	}
	if (starve_max)
		busim_at(sim, busim_rand(sim) % (2 * starve_gap * MS + 1),
			 s_stall, NULL);
	if (flood)
		busim_at(sim, flood * MS, s_flood, NULL);
	if (alloc_on) {
		if (requests < 1 || requests > 4000)
			requests = 200;
		alloc_setup(sim, requests, 2000 * MS);
		/* Up to 3 s for the rack to settle first. */
		if (!check_on &&
		    dur < 5000 + (u64)requests * BENCH_GAP + 2000)
			dur = 5000 + (u64)requests * BENCH_GAP + 2000;
	}
	if (check_on) {
		/* Churn and stalls end 5 s before the end of the run. */
		if (dur < 10000)
			dur = 10000;
		check_quiet_ns = (dur - 5000) * MS;
		busim_at(sim, check_quiet_ns, c_quiet, NULL);
	}
	printf("# stack_sim: %d psu + %d chassis, prio_period %d, J %.2f ms, T_h %.2f ms, T_det %.2f ms, seed %llu\n",
	       npsu, nch, prio, ec.bus_delay_ns / 1e6, ec.hb_ns / 1e6,
	       ec.detect_ns / 1e6, (unsigned long long)seed);
	for (t = 0; t < dur * MS; t += MS) {
		busim_run_until(sim, t);
		if (cap_ms)
			cap_check_lines();
		if (one_primary() < 0)
			one = 0;
		else if (!one)
			one = t;
		p = converged(t);
		if (p < 0)
			conv = 0;
		else if (!conv)
			conv = t;
		/* After it first converged: times nobody acted. */
		if (p > 0 && !ever)
			ever = t;
		if (ever && p < 0 && !gap_at && (!kill || t < kill * MS))
			gap_at = t;
		if (gap_at && p > 0) {
			gaps++;
			if (t - gap_at > gap_max)
				gap_max = t - gap_at;
			gap_at = 0;
		}
		/* A converged rack that changes primary without a fault. */
		if (p > 0 && last > 0 && p != last && (!kill || t < kill * MS))
			changes++;
		if (p > 0)
			last = p;
		if (kill && t == kill * MS && p > 0) {
			for (i = 0; i < nn; i++)
				if (nodes[i].e.cfg.addr == p) {
					busim_partition(sim, i, true);
					nodes[i].dead = true;
				}
			conv = 0;
		}
	}
	for (i = 0; i < nn; i++) {
		const struct rpw_mac_stats *s = &busim_mac(sim, i)->stats;

		coll += s->collisions;
		txf += s->tx_frames;
		txb += s->tx_bytes;
		auth_drops += s->auth_missing + s->auth_bad + s->auth_replay +
			      s->auth_fail;
		refused_el += nodes[i].e.stats.tx_refused;
		refused_user += s->refused[RPW_MAC_CLASS_USER];
		printf("# n%d addr %u %s primary %u epoch %u.%u acting %d tx %llu coll %llu urgent_max %.2f ms\n",
		       i, nodes[i].e.cfg.addr,
		       rpw_elect_state_name(rpw_elect_state(&nodes[i].e)),
		       rpw_elect_primary(&nodes[i].e),
		       RPW_EPOCH_TERM(rpw_elect_epoch(&nodes[i].e)),
		       RPW_EPOCH_OWNER(rpw_elect_epoch(&nodes[i].e)),
		       rpw_elect_is_primary(&nodes[i].e, t),
		       (unsigned long long)s->tx_frames,
		       (unsigned long long)s->collisions,
		       s->urgent_max_ns / 1e6);
	}
	p = converged(t);
	/* Which ballot won: the tie of a simultaneous start is by address. */
	for (i = 0; p > 0 && i < nn; i++)
		if (nodes[i].e.cfg.addr == p)
			printf("# winner: addr %d epoch %u.%u, highest psu address %d\n",
			       p, RPW_EPOCH_TERM(rpw_elect_epoch(&nodes[i].e)),
			       RPW_EPOCH_OWNER(rpw_elect_epoch(&nodes[i].e)),
			       npsu);
	if (gaps || gap_at)
		printf("# after it first converged: %u gaps without one acting primary, longest %.0f ms%s\n",
		       gaps, gap_max / 1e6, gap_at ? ", one at the end" : "");
	printf("# collisions %llu (urgent frames %llu); converged since %.0f ms; %u primary changes without a fault\n",
	       (unsigned long long)coll, (unsigned long long)collisions_urgent,
	       conv / 1e6, changes);
	if (kill && p > 0)
		printf("# failover: %.0f ms\n", (conv - kill * MS) / 1e6);
	/* The start (the end of the hold): a target of issue #14. */
	t0 = hold_ms * MS;
	target = ec.initial_ns + 3 * ec.frame_ns;
	if (one && one >= t0 && (!kill || one < kill * MS))
		printf("# start%s: one primary after %.0f ms (target T_initial + 3 T_f = %.1f ms: %s), acting %.0f ms\n",
		       hold_ms ? " (held line, from the release)" : "",
		       (one - t0) / 1e6, target / 1e6,
		       one - t0 <= target ? "met" : "missed",
		       conv ? (conv - t0) / 1e6 : -1.0);
	else if (!kill)
		printf("# start%s: no lasting single primary\n",
		       hold_ms ? " (held line)" : "");
	/* Line time per frame: what authentication costs on the wire. */
	printf("# line: %llu frames, %.1f chars, %.2f ms per frame%s\n",
	       (unsigned long long)txf, txf ? (double)txb / txf : 0,
	       txf ? (double)txb * busim_char_ns(sim) / txf / 1e6 : 0,
	       auth_on ? " (authenticated)" : "");
	if (auth_on)
		printf("# auth drops: %llu\n", (unsigned long long)auth_drops);
	if (dup) {
		dup_ok = dup_seen != ~0ULL && dup_seen - dup * MS <= 2000 * MS;
		if (dup_seen != ~0ULL)
			printf("# duplicate address %u reported after %.0f ms\n",
			       dup_addr, (dup_seen - dup * MS) / 1e6);
		else
			printf("# duplicate address %u never reported\n",
			       dup_addr);
	}
	if (flood)
		printf("# flood: %llu user frames refused, %llu election frames refused\n",
		       (unsigned long long)refused_user,
		       (unsigned long long)refused_el);
	if (alloc_on)
		printf("# alloc primary frames: %llu sent, %llu expired (%llu after their lease was renewed), %llu withdrawn or failed\n",
		       p_frames[0], p_frames[1], renew_missed, p_frames[2]);
	if (check_on)
		alloc_ok = check_report();
	else if (alloc_on)
		alloc_ok = alloc_report();
	/* --alloc-check: failovers of a starved guest are its faults. */
	p = p > 0 && (!changes || check_on) && dup_ok && (!flood || !refused_el) &&
	    (!cap_ms || cap_complete(p)) && !auth_drops && alloc_ok &&
	    !renew_missed;
	printf("result: %s\n", p ? "ok" : "FAILED");
	busim_free(sim);
	return p ? 0 : 1;
}
