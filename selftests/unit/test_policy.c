// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host unit tests of the allocation policy (agent/policy.c): every seed
 * scenario of issue 12's proof (first server granted, release then the
 * waiting request granted, denied when full, the budget under n+n, n+1
 * and none, a failed supply shed from the lowest priority one at a time
 * and re-granted on repair, ties, a server that ignores its shed), then
 * resync, the what-if plan, the configuration digest, and thousands of
 * random event sequences against a model of the kernel's table that
 * check the invariants after every step.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "tap.h"

#define KW(x)	((uint32_t)((x) * 1000000.0 + 0.5))	/* kW -> mW */

struct h {
	struct rpwp *p;
	struct rpwp_action act[64];
	struct rpwp_out out;
	uint64_t now;
	uint32_t next_id;
};

static void h_reset_out(struct h *h)
{
	h->out.act = h->act;
	h->out.max = 64;
	h->out.n = 0;
	h->out.more = false;
}

static void h_init(struct h *h, enum rpwp_mode mode)
{
	struct rpwp_cfg cfg;

	rpwp_cfg_init(&cfg);
	cfg.mode = mode;
	memset(h, 0, sizeof(*h));
	h->p = rpwp_create(512, &cfg);
	h->now = 1000;
	h->next_id = 100;
	h_reset_out(h);
}

/* One assembly at address 16 with both banks' six supplies healthy. */
static void h_cap(struct h *h, double a_kw, double b_kw, uint8_t healthy)
{
	struct rpwp_assembly a = {
		.addr = 16, .present = 0x3f, .healthy = healthy,
		.bank_a_mw = KW(a_kw), .bank_b_mw = KW(b_kw),
	};

	h_reset_out(h);
	rpwp_capacity(h->p, &a, 1, h->now, &h->out);
}

static uint32_t h_req(struct h *h, uint16_t ch, uint8_t slot, uint8_t prio,
		      double kw)
{
	struct rpwp_entry e = {
		.chassis = ch, .slot = slot, .prio = prio,
		.state = RPWP_K_PENDING, .want_mw = KW(kw),
		.req_id = ++h->next_id,
	};

	h_reset_out(h);
	rpwp_request(h->p, &e, h->now, &h->out);
	return e.req_id;
}

static void h_gone(struct h *h, uint16_t ch, uint8_t slot, uint32_t id,
		   uint8_t reason)
{
	struct rpwp_entry e = {
		.chassis = ch, .slot = slot, .state = RPWP_K_GONE,
		.req_id = id, .reason = reason,
	};

	h_reset_out(h);
	rpwp_entry(h->p, &e, h->now, &h->out);
}

static void h_tick(struct h *h, uint64_t dt)
{
	h->now += dt;
	h_reset_out(h);
	rpwp_tick(h->p, h->now, &h->out);
}

/* The only action out, of @type for (ch, slot)? */
static const struct rpwp_action *one(const struct h *h,
				     enum rpwp_act_type type, uint16_t ch,
				     uint8_t slot)
{
	if (h->out.n != 1 || h->act[0].type != type ||
	    h->act[0].chassis != ch || h->act[0].slot != slot) {
		for (unsigned int i = 0; i < h->out.n; i++)
			tap_diag("  act %u: %s %u/%u: %s", i,
				 rpwp_act_name(h->act[i].type),
				 h->act[i].chassis, h->act[i].slot,
				 h->act[i].text);
		return NULL;
	}
	return &h->act[0];
}

static void dump(const struct h *h)
{
	for (unsigned int i = 0; i < h->out.n; i++)
		tap_diag("  act %u: %s %u/%u v%d r%d: %s", i,
			 rpwp_act_name(h->act[i].type), h->act[i].chassis,
			 h->act[i].slot, h->act[i].verdict, h->act[i].reason,
			 h->act[i].text);
}

static bool is_decide(const struct rpwp_action *a, enum rpwp_verdict v,
		      enum rpwp_reason r)
{
	return a && a->type == RPWP_ACT_DECIDE && a->verdict == v &&
	       a->reason == r;
}

static uint64_t granted(const struct h *h)
{
	struct rpwp_budget b;

	rpwp_budget(h->p, &b);
	return b.granted_mw;
}

/* ---- seed scenarios ----------------------------------------------------- */

/* seed ¶41 */
static void test_first_grant(void)
{
	static const char want41[] =
		"granted: n+n: rails A and B 4.80 kW usable, 0.40 kW granted, request 0.40 kW";
	const struct rpwp_action *a;
	struct rpwp_slot_info si;
	struct h h;
	uint32_t id;

	h_init(&h, RPWP_MODE_NN);
	h_cap(&h, 4.8, 4.8, 0x3f);
	tap_ok(h.out.n == 0, "41: capacity alone decides nothing");
	id = h_req(&h, 32, 0, 128, 0.4);
	a = one(&h, RPWP_ACT_DECIDE, 32, 0);
	tap_ok(is_decide(a, RPWP_GRANT, RPWP_R_NONE) && a->mw == KW(0.4) &&
	       a->req_id == id, "41: the first server is granted its 0.40 kW");
	tap_ok(a && !strcmp(a->text, want41),
	       "41: reason text with numbers: %s", a ? a->text : "-");
	tap_ok(!rpwp_why(h.p, 32, 0, &si) && si.state == RPWP_P_GRANTED &&
	       si.has_last && !strcmp(si.last.text, a ? a->text : ""),
	       "41: why 32/0 keeps the decision");
	h_reset_out(&h);
	{
		struct rpwp_entry e = { .chassis = 32, .slot = 0, .prio = 128,
					.state = RPWP_K_PENDING,
					.want_mw = KW(0.4), .req_id = id };

		rpwp_request(h.p, &e, h.now, &h.out);
	}
	tap_ok(h.out.n == 0, "41: a repeated notification is not answered twice");
	rpwp_destroy(h.p);
}

/* seed ¶42 */
static void test_release_then_waiting(void)
{
	const struct rpwp_action *a;
	uint32_t id[5];
	struct h h;

	h_init(&h, RPWP_MODE_NN);
	h_cap(&h, 4.8, 4.8, 0x3f);
	for (int i = 0; i < 4; i++) {
		id[i] = h_req(&h, 32, (uint8_t)i, 128, 1.2);
		tap_ok(is_decide(one(&h, RPWP_ACT_DECIDE, 32, (uint8_t)i),
				 RPWP_GRANT, RPWP_R_NONE),
		       "42: 32/%d granted 1.20 kW", i);
	}
	id[4] = h_req(&h, 32, 4, 128, 1.2);
	a = one(&h, RPWP_ACT_DECIDE, 32, 4);
	tap_ok(is_decide(a, RPWP_QUEUE, RPWP_R_REDUNDANCY),
	       "42: the fifth waits (queued: it fits the rack, not n+n): %s",
	       a ? a->text : "-");
	tap_ok(a && strstr(a->text, "4.80 kW granted, request 1.20 kW"),
	       "42: queued text states granted and request");
	h_gone(&h, 32, 1, id[1], 11 /* OFF */);
	a = one(&h, RPWP_ACT_DECIDE, 32, 4);
	tap_ok(is_decide(a, RPWP_GRANT, RPWP_R_NONE) && a->req_id == id[4] &&
	       a->mw == KW(1.2),
	       "42: release of 32/1 grants the waiting 32/4, same request id");
	tap_ok(granted(&h) == KW(4.8), "42: 4.80 kW granted after");
	rpwp_destroy(h.p);
}

/* seed ¶43 */
static void test_denied_when_full(void)
{
	static const char want_never[] =
		"denied: n+n: rail A 4.80 kW usable, 0.00 kW granted, request 5.00 kW; above the n+n budget with nothing else granted";
	static const char want_full[] =
		"denied: n+n: rail A 4.80 kW usable, 4.55 kW granted, request 0.40 kW; full";
	const struct rpwp_action *a;
	struct rpwp_cfg cfg;
	struct h h;

	h_init(&h, RPWP_MODE_NN);
	h_cap(&h, 4.8, 6.0, 0x3f);
	h_req(&h, 32, 0, 128, 5.0);
	a = one(&h, RPWP_ACT_DECIDE, 32, 0);
	tap_ok(is_decide(a, RPWP_DENY, RPWP_R_REDUNDANCY),
	       "43: 5.00 kW above the n+n budget, within usable: denied redundancy");
	tap_ok(a && !strcmp(a->text, want_never),
	       "43: %s", a ? a->text : "-");
	h_req(&h, 32, 1, 128, 11.0);
	a = one(&h, RPWP_ACT_DECIDE, 32, 1);
	tap_ok(is_decide(a, RPWP_DENY, RPWP_R_NEVER_FITS) &&
	       strstr(a->text, "more than the rack's 10.80 kW usable"),
	       "43: 11.00 kW above the rack's usable: denied never-fits");
	/* a full rack with deny_when_full: denied, with the numbers */
	rpwp_cfg_init(&cfg);
	cfg.deny_when_full = true;
	h_reset_out(&h);
	tap_ok(!rpwp_set_cfg(h.p, &cfg, h.now, &h.out), "43: deny_when_full set");
	h_req(&h, 32, 2, 128, 4.55);
	tap_ok(is_decide(one(&h, RPWP_ACT_DECIDE, 32, 2), RPWP_GRANT,
			 RPWP_R_NONE), "43: 4.55 kW granted");
	h_req(&h, 32, 3, 128, 0.4);
	a = one(&h, RPWP_ACT_DECIDE, 32, 3);
	tap_ok(is_decide(a, RPWP_DENY, RPWP_R_REDUNDANCY) &&
	       !strcmp(a->text, want_full),
	       "43: full rack denies 0.40 kW: %s", a ? a->text : "-");
	tap_ok(granted(&h) == KW(4.55), "43: nothing more granted");
	rpwp_destroy(h.p);
}

/* Grants 0.5 kW servers until one is queued; returns the count granted. */
static int fill(struct h *h, uint16_t ch)
{
	for (int i = 0; i < 64; i++) {
		h_req(h, ch + i / 8, (uint8_t)(i % 8), 128, 0.5);
		if (h->out.n != 1 || h->act[0].verdict != RPWP_GRANT)
			return i;
	}
	return -1;
}

/* seed ¶44 */
static void test_modes(void)
{
	struct rpwp_budget b;
	struct h h;
	int n;

	/* banks of three 1.6 kW supplies; bank B lost one: 4.8 / 3.2 */
	h_init(&h, RPWP_MODE_NN);
	h_cap(&h, 4.8, 3.2, 0x1f);
	rpwp_budget(h.p, &b);
	tap_ok(b.rail_a_mw == KW(4.8) && b.rail_b_mw == KW(3.2) &&
	       b.usable_mw == KW(8.0) && b.budget_mw == KW(3.2),
	       "44: n+n budget is the weaker rail B (3.20 of 4.80/3.20 kW)");
	n = fill(&h, 32);
	tap_ok(n == 6, "44: n+n: six 0.50 kW servers granted, the 7th queued (%d)", n);
	tap_ok(h.act[0].reason == RPWP_R_REDUNDANCY &&
	       strstr(h.act[0].text, "rail B 3.20 kW usable, 3.00 kW granted"),
	       "44: n+n queue: redundancy, %s", h.act[0].text);
	rpwp_destroy(h.p);

	h_init(&h, RPWP_MODE_N1);
	h_cap(&h, 4.8, 3.2, 0x1f);
	rpwp_budget(h.p, &b);
	tap_ok(b.max_supply_mw == KW(1.6) && b.budget_mw == KW(6.4),
	       "44: n+1 budget 8.00 - 1.60 kW = 6.40 kW (%llu)",
	       (unsigned long long)b.budget_mw);
	n = fill(&h, 32);
	tap_ok(n == 12, "44: n+1: twelve 0.50 kW servers granted (%d)", n);
	tap_ok(!!strstr(h.act[0].text,
			"n+1: 8.00 kW usable less one supply 1.60 kW = 6.40 kW"),
	       "44: n+1 text: %s", h.act[0].text);
	rpwp_destroy(h.p);

	h_init(&h, RPWP_MODE_NONE);
	h_cap(&h, 4.8, 3.2, 0x1f);
	n = fill(&h, 32);
	tap_ok(n == 16, "44: none: 8.00 kW usable, sixteen granted (%d)", n);
	tap_ok(h.act[0].reason == RPWP_R_CAPACITY,
	       "44: none: the 17th waits for capacity");
	rpwp_destroy(h.p);

	/* n+1 share: a bank with two healthy supplies and 3.3 kW: 1.65 */
	{
		struct rpwp_assembly a = { .addr = 1, .healthy = 0x1b,
					   .bank_a_mw = 3300000,
					   .bank_b_mw = 3300001 };

		tap_ok(rpwp_supply_mw(&a, 0) == 1650000 &&
		       rpwp_supply_mw(&a, 2) == 0 &&
		       rpwp_supply_mw(&a, 3) == 1650001,
		       "44: per-supply share = bank / healthy in bank, rounded up");
	}
}

/* Eight servers of 0.6 kW, priorities 80..10 on slots 0..7 (4.80 kW). */
static void eight(struct h *h, uint32_t *id)
{
	for (int i = 0; i < 8; i++)
		id[i] = h_req(h, 32, (uint8_t)i, (uint8_t)(80 - 10 * i), 0.6);
}

/* seed ¶45-46 */
static void test_supply_fails(void)
{
	const struct rpwp_action *a;
	struct rpwp_budget b;
	uint32_t id[8];
	struct h h;

	h_init(&h, RPWP_MODE_NN);
	h_cap(&h, 4.8, 4.8, 0x3f);
	eight(&h, id);
	tap_ok(granted(&h) == KW(4.8), "45: 4.80 kW granted");
	h_cap(&h, 4.8, 3.2, 0x1f);	/* supply 5 of bank B fails */
	a = one(&h, RPWP_ACT_SHED, 32, 7);
	tap_ok(!!a, "45: the lowest priority (32/7, prio 10) shed, alone");
	tap_ok(a && strstr(a->text, "rail B 3.20 kW usable, 4.80 kW granted"),
	       "45: shed text: %s", a ? a->text : "-");
	h_tick(&h, 1000);
	tap_ok(h.out.n == 0, "45: nothing more while the shed is out");
	h_gone(&h, 32, 7, id[7], 7 /* SHED */);
	tap_ok(!!one(&h, RPWP_ACT_SHED, 32, 6),
	       "45: re-analysed: 4.20 > 3.20 kW, next lowest 32/6 shed");
	h_gone(&h, 32, 6, id[6], 7);
	tap_ok(!!one(&h, RPWP_ACT_SHED, 32, 5), "45: then 32/5");
	h_gone(&h, 32, 5, id[5], 7);
	tap_ok(h.out.n == 0 && granted(&h) == KW(3.0),
	       "45: 3.00 <= 3.20 kW: the desired state holds, shedding stops");
	rpwp_budget(h.p, &b);
	tap_ok(b.restore == 3 && b.shedding == 0,
	       "45: three shed slots remembered for the restore");
	h_req(&h, 33, 0, 200, 0.3);
	tap_ok(is_decide(one(&h, RPWP_ACT_DECIDE, 33, 0), RPWP_QUEUE,
			 RPWP_R_REDUNDANCY),
	       "45: a new request waits while degraded (0.30 kW > 0.20 left)");
	h_cap(&h, 4.8, 4.8, 0x3f);	/* repaired */
	tap_ok(h.out.n == 3 && h.act[0].type == RPWP_ACT_DECIDE &&
	       h.act[0].chassis == 33 && h.act[0].verdict == RPWP_GRANT &&
	       h.act[1].type == RPWP_ACT_RESTORE && h.act[1].slot == 5 &&
	       h.act[2].type == RPWP_ACT_RESTORE && h.act[2].slot == 6,
	       "46: repair: prio 200 granted, then shed 32/5 and 32/6 restored (priority order)");
	tap_ok(!!strstr(h.act[2].text,
			"3.30 kW granted (+1.20 kW reserved), 0.60 kW reserved for 60000 ms"),
	       "46: %s", h.act[2].text);
	rpwp_budget(h.p, &b);
	tap_ok(b.reserved_mw == KW(1.2) && b.headroom_mw == KW(0.3) &&
	       b.restore == 3,
	       "46: their 1.20 kW reserved; 32/7 (0.60 kW) waits for room");
	h_req(&h, 34, 0, 20, 0.3);	/* same priority, asks meanwhile */
	tap_ok(is_decide(one(&h, RPWP_ACT_DECIDE, 34, 0), RPWP_GRANT,
			 RPWP_R_NONE), "46: 0.30 kW of headroom is granted meanwhile");
	h_req(&h, 35, 0, 20, 0.3);
	tap_ok(is_decide(one(&h, RPWP_ACT_DECIDE, 35, 0), RPWP_QUEUE,
			 RPWP_R_REDUNDANCY),
	       "46: the next waits: the reservations hold the n+n budget");
	id[6] = h_req(&h, 32, 6, 20, 0.6);
	tap_ok(is_decide(one(&h, RPWP_ACT_DECIDE, 32, 6), RPWP_GRANT,
			 RPWP_R_NONE),
	       "46: 32/6 asks again and is granted ahead of 35/0 (same priority)");
	rpwp_budget(h.p, &b);
	tap_ok(b.reserved_mw == KW(0.6) && b.granted_mw == KW(4.2) &&
	       b.queued == 1, "46: its reservation turned into the grant");
	h_tick(&h, RPWP_RESTORE_MS);
	tap_ok(is_decide(one(&h, RPWP_ACT_DECIDE, 35, 0), RPWP_GRANT, 0),
	       "46: 32/5 never asked: its reservation lapses, 35/0 (prio 20) granted");
	h_gone(&h, 34, 0, h.next_id - 2, 11);
	tap_ok(!!one(&h, RPWP_ACT_RESTORE, 32, 7),
	       "46: a release makes room: 32/7 (prio 10) restored");
	h_tick(&h, RPWP_RESTORE_MS);
	rpwp_budget(h.p, &b);
	tap_ok(h.out.n == 0 && b.reserved_mw == 0 && b.restore == 0,
	       "46: and lapses too: nothing reserved, nothing remembered");
	rpwp_destroy(h.p);
}

/*
 * A chassis asks again for a shed server once the shed is over: the
 * request waits (even with "when-full deny", which refuses new demand
 * only) and is granted in priority order when capacity returns.
 */
static void test_shed_asks_again(void)
{
	struct rpwp_cfg cfg;
	uint32_t id[8];
	struct h h;

	h_init(&h, RPWP_MODE_NN);
	h_cap(&h, 4.8, 4.8, 0x3f);
	eight(&h, id);
	rpwp_cfg_init(&cfg);
	cfg.deny_when_full = true;
	h_reset_out(&h);
	rpwp_set_cfg(h.p, &cfg, h.now, &h.out);
	h_cap(&h, 4.8, 3.2, 0x1f);
	tap_ok(!!one(&h, RPWP_ACT_SHED, 32, 7), "shed-again: 32/7 shed");
	h_gone(&h, 32, 7, id[7], 7 /* SHED */);
	tap_ok(!!one(&h, RPWP_ACT_SHED, 32, 6), "shed-again: then 32/6");
	h_req(&h, 32, 7, 10, 0.6);	/* 32/7's chassis asks again */
	tap_ok(is_decide(one(&h, RPWP_ACT_DECIDE, 32, 7), RPWP_QUEUE,
			 RPWP_R_REDUNDANCY),
	       "shed-again: 32/7 asks again: queued, not denied");
	h_gone(&h, 32, 6, id[6], 7);
	tap_ok(!!one(&h, RPWP_ACT_SHED, 32, 5), "shed-again: then 32/5");
	h_req(&h, 32, 6, 20, 0.6);
	h_gone(&h, 32, 5, id[5], 7);
	h_req(&h, 32, 5, 30, 0.6);
	tap_ok(is_decide(one(&h, RPWP_ACT_DECIDE, 32, 5), RPWP_QUEUE,
			 RPWP_R_REDUNDANCY), "shed-again: 32/5 queued too");
	h_req(&h, 33, 0, 5, 0.1);
	tap_ok(h.out.n == 1 && h.act[0].type == RPWP_ACT_DECIDE &&
	       h.act[0].verdict == RPWP_DENY,
	       "shed-again: new demand behind them is still denied: %s",
	       h.out.n ? h.act[0].text : "-");
	h_cap(&h, 4.8, 4.8, 0x3f);	/* repaired */
	tap_ok(h.out.n == 3 && is_decide(&h.act[0], RPWP_GRANT, 0) &&
	       h.act[0].slot == 5 && is_decide(&h.act[1], RPWP_GRANT, 0) &&
	       h.act[1].slot == 6 && is_decide(&h.act[2], RPWP_GRANT, 0) &&
	       h.act[2].slot == 7,
	       "shed-again: repaired: granted 32/5, 32/6, 32/7 (priority order)");
	rpwp_destroy(h.p);
}

static void test_ties(void)
{
	uint32_t id[4];
	struct h h;

	h_init(&h, RPWP_MODE_NN);
	h_cap(&h, 2.4, 2.4, 0x3f);
	/* equal priority: shed highest chassis, then highest slot first */
	id[0] = h_req(&h, 40, 1, 50, 0.6);
	id[1] = h_req(&h, 41, 0, 50, 0.6);
	id[2] = h_req(&h, 40, 2, 50, 0.6);
	id[3] = h_req(&h, 39, 7, 50, 0.6);
	h_cap(&h, 1.2, 2.4, 0x3f);
	tap_ok(!!one(&h, RPWP_ACT_SHED, 41, 0),
	       "ties: equal priority sheds the highest chassis first (41/0)");
	h_gone(&h, 41, 0, id[1], 7);
	tap_ok(!!one(&h, RPWP_ACT_SHED, 40, 2),
	       "ties: then the higher slot of chassis 40 (40/2)");
	h_gone(&h, 40, 2, id[2], 7);
	tap_ok(h.out.n == 0, "ties: 1.20 kW fits");
	h_cap(&h, 2.4, 2.4, 0x3f);
	tap_ok(h.out.n == 2 && h.act[0].chassis == 40 && h.act[0].slot == 2 &&
	       h.act[1].chassis == 41,
	       "ties: restored in the kernel's order: 40/2 before 41/0");
	rpwp_destroy(h.p);

	/* queue: priority, then arrival, not address */
	h_init(&h, RPWP_MODE_NN);
	h_cap(&h, 1.0, 1.0, 0x3f);
	id[0] = h_req(&h, 10, 0, 50, 1.0);
	h_req(&h, 50, 0, 60, 0.5);	/* arrives first */
	h_req(&h, 20, 0, 60, 0.5);
	h_req(&h, 5, 0, 90, 1.0);	/* highest priority, last */
	h_gone(&h, 10, 0, id[0], 11);
	tap_ok(one(&h, RPWP_ACT_DECIDE, 5, 0) &&
	       h.act[0].verdict == RPWP_GRANT,
	       "ties: queue head is the highest priority (5/0)");
	rpwp_destroy(h.p);

	h_init(&h, RPWP_MODE_NN);
	h_cap(&h, 1.0, 1.0, 0x3f);
	id[0] = h_req(&h, 10, 0, 50, 1.0);
	h_req(&h, 50, 0, 60, 0.5);
	h_req(&h, 20, 0, 60, 0.5);
	h_req(&h, 7, 3, 60, 0.5);
	h_req(&h, 7, 2, 70, 0.5);
	{
		struct rpwp_slot_info q[8];
		unsigned int n = rpwp_queue_list(h.p, q, 8);

		tap_ok(n == 4 && q[0].chassis == 7 && q[0].slot == 2 &&
		       q[1].chassis == 50 && q[2].chassis == 20 &&
		       q[3].chassis == 7 && q[3].slot == 3 &&
		       q[1].state == RPWP_P_QUEUED,
		       "ties: queue list in order: 7/2 (prio 70), 50/0, 20/0, 7/3");
		tap_ok(rpwp_queue_list(h.p, q, 2) == 2 && q[1].chassis == 50,
		       "ties: queue list bounded by its array");
	}
	h_gone(&h, 10, 0, id[0], 11);
	tap_ok(h.out.n == 2 && h.act[0].chassis == 7 && h.act[1].chassis == 50,
	       "ties: the head (prio 70), then equal priority in arrival order");
	rpwp_destroy(h.p);
}

static void test_ignores_shed(void)
{
	const struct rpwp_action *a;
	struct rpwp_slot_info si;
	struct rpwp_budget b;
	uint32_t id[8];
	struct h h;

	h_init(&h, RPWP_MODE_NN);
	h_cap(&h, 4.8, 4.8, 0x3f);
	eight(&h, id);
	h_cap(&h, 4.8, 3.6, 0x3f);	/* 1.2 kW over */
	tap_ok(!!one(&h, RPWP_ACT_SHED, 32, 7), "ignore: 32/7 shed");
	tap_ok(rpwp_next_deadline(h.p) == h.now + RPWP_SHED_DEADLINE_MS,
	       "ignore: next deadline is the shed's");
	h_tick(&h, RPWP_SHED_DEADLINE_MS - 1);
	tap_ok(h.out.n == 0, "ignore: nothing before the deadline");
	h_tick(&h, 1);
	tap_ok(h.out.n == 2 && h.act[0].type == RPWP_ACT_NONCOMPLIANT &&
	       h.act[0].slot == 7 && h.act[1].type == RPWP_ACT_SHED &&
	       h.act[1].slot == 6,
	       "ignore: at the deadline 32/7 reported, 32/6 shed next");
	tap_ok(!!strstr(h.act[0].text, "still holds 0.60 kW 35000 ms"),
	       "ignore: %s", h.act[0].text);
	rpwp_budget(h.p, &b);
	tap_ok(b.granted_mw == KW(4.8) && b.noncompliant == 1,
	       "ignore: its watts still count");
	/* the kernel's refusal of 32/6 (shed-refused event) */
	{
		struct rpwp_entry e = { .chassis = 32, .slot = 6, .prio = 20,
					.state = RPWP_K_GRANTED,
					.want_mw = KW(0.6), .held_mw = KW(0.6),
					.req_id = id[6], .reason = 13 };

		h_reset_out(&h);
		rpwp_entry(h.p, &e, h.now, &h.out);
	}
	tap_ok(h.out.n == 2 && h.act[0].type == RPWP_ACT_NONCOMPLIANT &&
	       h.act[0].slot == 6 && h.act[1].type == RPWP_ACT_SHED &&
	       h.act[1].slot == 5,
	       "ignore: kernel-reported refusal: 32/6 reported, 32/5 shed");
	h_gone(&h, 32, 5, id[5], 7);
	tap_ok(!!one(&h, RPWP_ACT_SHED, 32, 4),
	       "ignore: 4.20 > 3.60 kW still: 32/4 shed");
	h_gone(&h, 32, 4, id[4], 7);
	tap_ok(h.out.n == 0 && granted(&h) == KW(3.6),
	       "ignore: desired state holds with the two that ignored");
	tap_ok(!rpwp_why(h.p, 32, 7, &si) && si.state == RPWP_P_GRANTED &&
	       si.last.type == RPWP_ACT_NONCOMPLIANT,
	       "ignore: after the episode 32/7 is granted again, why says non-compliant");
	/* the late complier: shut down after all */
	h_cap(&h, 4.8, 3.0, 0x3f);
	a = one(&h, RPWP_ACT_SHED, 32, 7);
	tap_ok(!!a, "ignore: a new episode tries 32/7 again");
	rpwp_destroy(h.p);
}

/* ---- resync, plan, digest ----------------------------------------------- */

static void snapshot(struct rpwp *p, char *buf, size_t len)
{
	struct rpwp_slot_info si;
	struct rpwp_budget b;
	unsigned int cur = 0;
	size_t at;

	rpwp_budget(p, &b);
	at = (size_t)snprintf(buf, len, "g=%llu r=%llu q=%u s=%u;",
			      (unsigned long long)b.granted_mw,
			      (unsigned long long)b.reserved_mw, b.queued,
			      b.shedding);
	while (!rpwp_slot_next(p, &cur, &si) && at < len)
		at += (size_t)snprintf(buf + at, len - at, "%u/%u:%d:%u;",
				       si.chassis, si.slot, si.state,
				       si.held_mw);
}

static void test_resync(void)
{
	struct rpwp_budget b;
	uint32_t id[8], q;
	struct h h;

	h_init(&h, RPWP_MODE_NN);
	h_cap(&h, 4.8, 4.8, 0x3f);
	eight(&h, id);
	q = h_req(&h, 33, 0, 90, 0.6);	/* queued */
	h_cap(&h, 4.8, 3.6, 0x3f);
	tap_ok(!!one(&h, RPWP_ACT_SHED, 32, 7), "resync: 32/7 shed");
	/*
	 * the daemon restarts: dump = 7 granted, 32/7 shedding, 33/0
	 * queued, 34/0 pending (not seen before)
	 */
	rpwp_resync_begin(h.p);
	for (int i = 0; i < 8; i++) {
		struct rpwp_entry e = {
			.chassis = 32, .slot = (uint8_t)i,
			.prio = (uint8_t)(80 - 10 * i),
			.state = i == 7 ? RPWP_K_SHEDDING : RPWP_K_GRANTED,
			.want_mw = KW(0.6), .held_mw = KW(0.6),
			.req_id = id[i], .age_ms = 500,
		};

		tap_ok(!rpwp_resync_entry(h.p, &e, h.now) || i,
		       "resync: entries taken");
	}
	{
		struct rpwp_entry e = { .chassis = 33, .slot = 0, .prio = 90,
					.state = RPWP_K_QUEUED,
					.want_mw = KW(0.6), .req_id = q,
					.age_ms = 100 };
		struct rpwp_entry f = { .chassis = 34, .slot = 0, .prio = 10,
					.state = RPWP_K_PENDING,
					.want_mw = KW(0.2), .req_id = 999 };

		rpwp_resync_entry(h.p, &e, h.now);
		rpwp_resync_entry(h.p, &f, h.now);
	}
	h_cap(&h, 4.8, 3.6, 0x3f);
	tap_ok(h.out.n == 0,
	       "resync: capacity between begin and end decides nothing");
	h_reset_out(&h);
	rpwp_resync_end(h.p, h.now, &h.out);
	tap_ok(is_decide(one(&h, RPWP_ACT_DECIDE, 34, 0), RPWP_QUEUE,
			 RPWP_R_CAPACITY),
	       "resync: only the pending request is answered (queued)");
	rpwp_budget(h.p, &b);
	tap_ok(b.granted_mw == KW(4.8) && b.shedding == 1 && b.queued == 2,
	       "resync: 4.80 kW granted, one shed in progress, two waiting");
	h_gone(&h, 32, 7, id[7], 7);
	tap_ok(!!one(&h, RPWP_ACT_SHED, 32, 6),
	       "resync: shedding goes on from the adopted shed");

	/* resync of an unchanged table changes nothing at all */
	{
		char before[2048], after[2048];
		struct rpwp_slot_info si;
		unsigned int cur = 0;
		struct rpwp_entry dump[32];
		unsigned int n = 0;

		snapshot(h.p, before, sizeof(before));
		while (!rpwp_slot_next(h.p, &cur, &si)) {
			static const enum rpwp_kstate k[] = {
				[RPWP_P_PENDING] = RPWP_K_PENDING,
				[RPWP_P_QUEUED] = RPWP_K_QUEUED,
				[RPWP_P_GRANTED] = RPWP_K_GRANTED,
				[RPWP_P_SHEDDING] = RPWP_K_SHEDDING,
				[RPWP_P_NONCOMPLIANT] = RPWP_K_GRANTED,
			};

			if (si.state < RPWP_P_PENDING ||
			    si.state > RPWP_P_NONCOMPLIANT)
				continue;
			dump[n++] = (struct rpwp_entry){
				.chassis = si.chassis, .slot = si.slot,
				.prio = si.prio, .state = k[si.state],
				.want_mw = si.want_mw, .held_mw = si.held_mw,
				.req_id = si.req_id,
				.age_ms = (uint32_t)(h.now - si.since_ms) };
		}
		rpwp_resync_begin(h.p);
		for (unsigned int i = 0; i < n; i++)
			rpwp_resync_entry(h.p, &dump[i], h.now);
		h_reset_out(&h);
		rpwp_resync_end(h.p, h.now, &h.out);
		snapshot(h.p, after, sizeof(after));
		tap_ok(h.out.n == 0 && !strcmp(before, after),
		       "resync: the same dump again: no action, same view");
	}
	rpwp_destroy(h.p);
}

static void test_plan(void)
{
	struct rpwp_plan_step st[16];
	struct rpwp_supply f[2] = { { 16, 5 }, { 16, 4 } };
	struct rpwp_plan plan;
	char before[2048], after[2048];
	uint32_t id[8];
	struct h h;

	h_init(&h, RPWP_MODE_NN);
	h_cap(&h, 4.8, 4.8, 0x3f);
	eight(&h, id);
	snapshot(h.p, before, sizeof(before));
	rpwp_plan(h.p, f, 1, st, 16, &plan);
	snapshot(h.p, after, sizeof(after));
	tap_ok(!strcmp(before, after), "plan: the policy's state unchanged");
	tap_ok(plan.budget_before_mw == KW(4.8) &&
	       plan.budget_after_mw == KW(3.2) && plan.steps == 3,
	       "plan: supply 16/5 fails: budget 3.20 kW, three sheds");
	tap_ok(st[0].slot == 7 && st[1].slot == 6 && st[2].slot == 5 &&
	       st[0].granted_mw == KW(4.2) && st[2].granted_mw == KW(3.0) &&
	       st[2].budget_mw == KW(3.2),
	       "plan: order 32/7, 32/6, 32/5 with granted after each");
	rpwp_plan(h.p, f, 2, st, 2, &plan);
	tap_ok(plan.budget_after_mw == KW(1.6) && plan.steps == 6 &&
	       st[1].slot == 6, "plan: two of bank B fail: six sheds (two written)");
	/* the plan matches what the policy then does */
	h_cap(&h, 4.8, 3.2, 0x1f);
	tap_ok(!!one(&h, RPWP_ACT_SHED, 32, 7),
	       "plan: the real failure sheds its first step");
	{
		struct rpwp_supply bad = { 99, 0 };

		rpwp_plan(h.p, &bad, 1, st, 16, &plan);
		tap_ok(plan.unknown_supply && plan.steps == 3 &&
		       st[0].slot == 7 && st[1].slot == 6,
		       "plan: unknown supply flagged; the shed in progress comes first");
	}
	rpwp_destroy(h.p);
}

static uint64_t fnv(const char *s)
{
	uint64_t x = 14695981039346656037ull;

	while (*s) {
		x ^= (unsigned char)*s++;
		x *= 1099511628211ull;
	}
	return x;
}

static void test_digest(void)
{
	struct rpwp_cfg a, b;
	char text[256], err[128];

	rpwp_cfg_init(&a);
	rpwp_cfg_canon(&a, text, sizeof(text));
	tap_ok(!strcmp(text, "mode=n+n\nshed_deadline_ms=35000\nrestore_ms=60000\nfull=queue\n"),
	       "digest: canonical text of the defaults");
	tap_ok(rpwp_cfg_digest(&a) == fnv(text),
	       "digest: FNV-1a 64 of the canonical text (%016llx)",
	       (unsigned long long)rpwp_cfg_digest(&a));
	/* modules of different versions must agree: pinned */
	tap_ok(rpwp_cfg_digest(&a) == 0xa85fc9b2a155a8d6ull,
	       "digest: the defaults' digest is stable (a85fc9b2a155a8d6)");
	a.overrides[0] = (struct rpwp_prio_override){ 32, 1, 200 };
	a.overrides[1] = (struct rpwp_prio_override){ 17, 7, 10 };
	a.overrides[2] = (struct rpwp_prio_override){ 32, 0, 5 };
	a.n_overrides = 3;
	b = a;
	b.overrides[0] = a.overrides[2];
	b.overrides[2] = a.overrides[0];
	tap_ok(rpwp_cfg_digest(&a) == rpwp_cfg_digest(&b),
	       "digest: override order does not matter");
	rpwp_cfg_canon(&a, text, sizeof(text));
	tap_ok(!!strstr(text, "full=queue\nprio=17/7:10\nprio=32/0:5\nprio=32/1:200\n"),
	       "digest: overrides sorted in the text");
	b.overrides[1].prio = 11;
	tap_ok(rpwp_cfg_digest(&a) != rpwp_cfg_digest(&b),
	       "digest: a priority changes it");
	b = a;
	b.mode = RPWP_MODE_N1;
	tap_ok(rpwp_cfg_digest(&a) != rpwp_cfg_digest(&b),
	       "digest: the mode changes it");
	b = a;
	b.overrides[1] = b.overrides[0];
	tap_ok(rpwp_cfg_check(&b, err, sizeof(err)) == -1 &&
	       strstr(err, "chassis 32 slot 1 set twice"),
	       "cfg: duplicate override refused: %s", err);
	b = a;
	b.shed_deadline_ms = 0;
	tap_ok(rpwp_cfg_check(&b, err, sizeof(err)) == -1,
	       "cfg: zero shed deadline refused: %s", err);
	{
		enum rpwp_mode m;

		tap_ok(!rpwp_mode_parse("n+1", &m) && m == RPWP_MODE_N1 &&
		       rpwp_mode_parse("N+1", &m) == -1 &&
		       !strcmp(rpwp_mode_name(RPWP_MODE_NONE), "none"),
		       "cfg: mode names");
	}
	{
		char k[24];

		tap_ok(!strcmp(rpwp_kw(4550000, k), "4.55") &&
		       !strcmp(rpwp_kw(4999, k), "0.00") &&
		       !strcmp(rpwp_kw(5000, k), "0.01") &&
		       !strcmp(rpwp_kw(0, k), "0.00"),
		       "kw: two decimals, half up");
	}
}

static void test_overrides_and_out(void)
{
	struct rpwp_cfg cfg;
	uint32_t id[3];
	struct h h;

	h_init(&h, RPWP_MODE_NN);
	h_cap(&h, 1.2, 1.2, 0x3f);
	id[0] = h_req(&h, 32, 0, 200, 0.6);
	id[1] = h_req(&h, 32, 1, 100, 0.6);
	rpwp_cfg_init(&cfg);
	cfg.overrides[0] = (struct rpwp_prio_override){ 32, 0, 1 };
	cfg.n_overrides = 1;
	h_reset_out(&h);
	rpwp_set_cfg(h.p, &cfg, h.now, &h.out);
	h_cap(&h, 0.6, 1.2, 0x3f);
	tap_ok(!!one(&h, RPWP_ACT_SHED, 32, 0),
	       "override: 32/0 set to prio 1 is shed before 32/1 (prio 100)");
	rpwp_destroy(h.p);

	/* a full output: nothing taken that was not returned */
	h_init(&h, RPWP_MODE_NN);
	h_cap(&h, 1.2, 1.2, 0x3f);
	id[2] = h_req(&h, 32, 0, 100, 1.2);
	for (int i = 1; i < 4; i++)
		h_req(&h, 32, (uint8_t)i, 100, 0.4);
	h_reset_out(&h);
	h.out.max = 1;
	{
		struct rpwp_entry e = { .chassis = 32, .slot = 0,
					.state = RPWP_K_GONE,
					.req_id = id[2] };

		rpwp_entry(h.p, &e, h.now, &h.out);
	}
	tap_ok(h.out.n == 1 && h.out.more && rpwp_next_deadline(h.p) == 0 &&
	       granted(&h) == KW(0.4),
	       "out full: one grant returned, more set, only it counted");
	h_reset_out(&h);
	rpwp_tick(h.p, h.now, &h.out);
	tap_ok(h.out.n == 2 && !h.out.more && granted(&h) == KW(1.2),
	       "out full: the tick returns the other two");
	/* the kernel refuses a grant: retried after the pause */
	h_gone(&h, 32, 3, h.act[1].req_id, 11);
	id[0] = h_req(&h, 32, 4, 100, 0.4);
	tap_ok(is_decide(one(&h, RPWP_ACT_DECIDE, 32, 4), RPWP_GRANT, 0),
	       "refused: granted");
	h_reset_out(&h);
	rpwp_decide_failed(h.p, 32, 4, id[0], -EAGAIN, h.now, &h.out);
	tap_ok(is_decide(one(&h, RPWP_ACT_DECIDE, 32, 4), RPWP_QUEUE,
			 RPWP_R_RECOVERING) && granted(&h) == KW(0.8) &&
	       strstr(h.act[0].text, "refused a grant while recovering"),
	       "refused (EAGAIN): the first answer becomes queued, reason recovering: %s",
	       h.act[0].text);
	tap_ok(rpwp_next_deadline(h.p) == h.now + RPWP_RETRY_MS,
	       "refused: retry due in %d ms", RPWP_RETRY_MS);
	h_tick(&h, RPWP_RETRY_MS - 1);
	tap_ok(h.out.n == 0, "refused: no grant before the retry");
	h_tick(&h, 1);
	tap_ok(is_decide(one(&h, RPWP_ACT_DECIDE, 32, 4), RPWP_GRANT, 0),
	       "refused: granted on the retry");
	h_gone(&h, 32, 4, id[0], 11);
	id[0] = h_req(&h, 32, 5, 100, 0.4);
	h_reset_out(&h);
	rpwp_decide_failed(h.p, 32, 5, id[0], -ENOSPC, h.now, &h.out);
	tap_ok(is_decide(one(&h, RPWP_ACT_DECIDE, 32, 5), RPWP_QUEUE,
			 RPWP_R_CAPACITY),
	       "refused (ENOSPC): queued for capacity: %s", h.act[0].text);
	rpwp_destroy(h.p);
}

/* ---- settling: a new primary's capacity table still fills --------------- */

/* Assembly 16 (2.40 kW a bank), and 17 alike if @both. */
static void h_cap2(struct h *h, bool both)
{
	struct rpwp_assembly a[2] = {
		{ .addr = 16, .present = 0x3f, .healthy = 0x3f,
		  .bank_a_mw = KW(2.4), .bank_b_mw = KW(2.4) },
		{ .addr = 17, .present = 0x3f, .healthy = 0x3f,
		  .bank_a_mw = KW(2.4), .bank_b_mw = KW(2.4) },
	};

	h_reset_out(h);
	rpwp_capacity(h->p, a, both ? 2 : 1, h->now, &h->out);
}

/*
 * A new primary reads the table its predecessor granted against both
 * assemblies (4.80 kW: 32/0-7, 0.60 kW each, prio 80 down to 10) while
 * its own capacity table knows only its own assembly (2.40 kW).
 */
static void h_takeover(struct h *h, uint64_t settle_ms)
{
	h_init(h, RPWP_MODE_NN);
	h_reset_out(h);
	rpwp_settling(h->p, h->now + settle_ms, h->now, &h->out);
	rpwp_resync_begin(h->p);
	for (int i = 0; i < 8; i++) {
		struct rpwp_entry e = {
			.chassis = 32, .slot = (uint8_t)i,
			.prio = (uint8_t)(80 - 10 * i),
			.state = RPWP_K_GRANTED, .want_mw = KW(0.6),
			.held_mw = KW(0.6), .req_id = 500 + i, .age_ms = 100,
		};

		rpwp_resync_entry(h->p, &e, h->now);
	}
	h_cap2(h, false);
	h_reset_out(h);
	rpwp_resync_end(h->p, h->now, &h->out);
	h_tick(h, 0);
}

static void test_settling(void)
{
	const struct rpwp_action *a;
	struct rpwp_budget b;
	struct rpwp_cfg cfg;
	uint32_t id;
	struct h h;

	/* grants go on: what fits the capacity known so far */
	h_init(&h, RPWP_MODE_NN);
	h_reset_out(&h);
	rpwp_settling(h.p, h.now + 2500, h.now, &h.out);
	rpwp_budget(h.p, &b);
	tap_ok(h.out.n == 0 && b.settling &&
	       rpwp_next_deadline(h.p) == h.now + 2500,
	       "settling: starts without an action, ends at a deadline");
	h_cap2(&h, false);
	h_req(&h, 32, 0, 50, 2.0);
	a = one(&h, RPWP_ACT_DECIDE, 32, 0);
	tap_ok(is_decide(a, RPWP_GRANT, RPWP_R_NONE),
	       "settling: a request that fits the known 2.40 kW is granted");
	h_req(&h, 32, 1, 50, 0.6);
	a = one(&h, RPWP_ACT_DECIDE, 32, 1);
	tap_ok(is_decide(a, RPWP_QUEUE, RPWP_R_REDUNDANCY) &&
	       strstr(a->text, "capacity table still filling, 2500 ms left"),
	       "settling: one that does not fit waits, saying why: %s",
	       a ? a->text : "-");
	h_req(&h, 32, 2, 40, 3.0);
	tap_ok(is_decide(one(&h, RPWP_ACT_DECIDE, 32, 2), RPWP_QUEUE,
			 RPWP_R_CAPACITY),
	       "settling: 3.00 kW above the known budget waits, not denied");
	h.now += 1000;
	h_cap2(&h, true);
	tap_ok(h.out.n == 1 && is_decide(&h.act[0], RPWP_GRANT, RPWP_R_NONE) &&
	       h.act[0].slot == 1,
	       "settling: the other assembly reports: 32/1 granted (4.80 kW)");
	h_tick(&h, 1500);
	rpwp_budget(h.p, &b);
	tap_ok(h.out.n == 0 && !b.settling &&
	       rpwp_next_deadline(h.p) == UINT64_MAX,
	       "settled: nothing to do, no deadline left");
	rpwp_destroy(h.p);

	/* over budget on a half-filled table: no shed while settling */
	h_takeover(&h, 2500);
	rpwp_budget(h.p, &b);
	tap_ok(h.out.n == 0 && b.granted_mw == KW(4.8) &&
	       b.budget_mw == KW(2.4) && b.over_mw == KW(2.4),
	       "settling: 4.80 kW granted over a known 2.40 kW: no shed");
	h_req(&h, 33, 0, 200, 0.2);
	tap_ok(is_decide(one(&h, RPWP_ACT_DECIDE, 33, 0), RPWP_QUEUE,
			 RPWP_R_CAPACITY),
	       "settling: over budget, even prio 200 waits");
	h.now += 800;
	h_cap2(&h, true);
	tap_ok(h.out.n == 0, "settling: the table fills: 4.80 kW fit");
	h_tick(&h, 1700);
	tap_ok(h.out.n == 0 && granted(&h) == KW(4.8),
	       "settled: the needless shed never happens");
	rpwp_destroy(h.p);

	/* the other assembly never reports: shed at the end, in order */
	h_takeover(&h, 2500);
	h_tick(&h, 2499);
	tap_ok(h.out.n == 0 && rpwp_next_deadline(h.p) == h.now + 1,
	       "settling: nothing shed before its end");
	h_tick(&h, 1);
	tap_ok(!!one(&h, RPWP_ACT_SHED, 32, 7),
	       "settled, still over budget: the lowest priority (32/7) shed");
	for (int i = 7; i > 3; i--) {
		h_gone(&h, 32, (uint8_t)i, 500 + i, 7);
		if (i > 4)
			tap_ok(!!one(&h, RPWP_ACT_SHED, 32, (uint8_t)(i - 1)),
			       "settled: then 32/%d", i - 1);
	}
	tap_ok(h.out.n == 0 && granted(&h) == KW(2.4),
	       "settled: four shed, 2.40 kW: the desired state holds");
	rpwp_destroy(h.p);

	/* a takeover before the end: settling again from the new deadline */
	h_takeover(&h, 2500);
	h.now += 2000;
	h_reset_out(&h);
	rpwp_settling(h.p, h.now + 2500, h.now, &h.out);
	h_tick(&h, 2499);
	tap_ok(h.out.n == 0, "settling again: the later deadline holds");
	h_reset_out(&h);
	rpwp_settling(h.p, 0, h.now, &h.out);
	tap_ok(!!one(&h, RPWP_ACT_SHED, 32, 7),
	       "settling ended at once (until 0): shed now");
	rpwp_destroy(h.p);

	/* "when-full deny": not decided on a half-filled table */
	rpwp_cfg_init(&cfg);
	cfg.deny_when_full = true;
	h_init(&h, RPWP_MODE_NN);
	rpwp_set_cfg(h.p, &cfg, h.now, &h.out);
	h_reset_out(&h);
	rpwp_settling(h.p, h.now + 2500, h.now, &h.out);
	h_cap2(&h, false);
	h_req(&h, 32, 0, 50, 2.0);
	h_req(&h, 32, 1, 50, 0.6);
	tap_ok(is_decide(one(&h, RPWP_ACT_DECIDE, 32, 1), RPWP_QUEUE,
			 RPWP_R_REDUNDANCY),
	       "when-full deny, settling: queued, not denied");
	id = h_req(&h, 32, 2, 40, 2.6);
	tap_ok(is_decide(one(&h, RPWP_ACT_DECIDE, 32, 2), RPWP_QUEUE,
			 RPWP_R_CAPACITY) && id,
	       "when-full deny, settling: 2.60 kW queued too");
	h_tick(&h, 2500);
	tap_ok(h.out.n == 2 && is_decide(&h.act[0], RPWP_DENY,
					 RPWP_R_REDUNDANCY) &&
	       h.act[0].slot == 1 &&
	       is_decide(&h.act[1], RPWP_DENY, RPWP_R_REDUNDANCY) &&
	       h.act[1].slot == 2,
	       "when-full deny, settled on 2.40 kW: both answered again, denied");
	rpwp_budget(h.p, &b);
	tap_ok(b.queued == 0 && granted(&h) == KW(2.0),
	       "when-full deny, settled: nothing waits");
	rpwp_destroy(h.p);
}

/* ---- randomized invariants --------------------------------------------- */

/*
 * A model of the primary's table: it applies the policy's actions as the
 * kernel does (ENOSPC above usable, ENOENT for unknown entries, answers
 * only for PENDING/QUEUED), notifies the policy, and lets servers release,
 * comply with sheds (or not) and come back after a restore.
 */
#define M_CH	6
#define M_SL	8

struct mslot {
	int state;		/* 0 none, RPWP_K_* */
	uint32_t want, held, id;
	uint8_t prio;
	bool answered;		/* its first answer came */
	bool ignores;		/* ignores sheds */
	uint64_t shed_end;
	bool restore;		/* told to power on again */
};

struct model {
	struct h h;
	struct mslot s[M_CH][M_SL];
	struct rpwp_assembly a[2];
	uint64_t budget, granted;
	bool window;		/* over budget since a capacity loss */
	uint64_t settle_until;	/* a takeover's settling: no shed */
	unsigned int held;	/* checks over budget while settling */
	uint32_t id;
	unsigned int fail;
	char why[200];
	uint64_t rng;
	bool trace;
	/* notifications the kernel sent, not read by the policy yet */
	struct rpwp_entry ntf[256];
	unsigned int nh, nt;
	unsigned int grants, sheds, ignored, restores;
};

static uint32_t rnd(struct model *m, uint32_t n)
{
	m->rng ^= m->rng << 13;
	m->rng ^= m->rng >> 7;
	m->rng ^= m->rng << 17;
	return (uint32_t)(m->rng % n);
}

static void m_fail(struct model *m, const char *what)
{
	if (!m->fail++)
		snprintf(m->why, sizeof(m->why), "t=%llu: %s",
			 (unsigned long long)m->h.now, what);
}

static uint64_t m_usable(const struct model *m)
{
	uint64_t u = 0;

	for (int k = 0; k < 2; k++)
		if (!m->a[k].lost)
			u += (uint64_t)m->a[k].bank_a_mw + m->a[k].bank_b_mw;
	return u;
}

/* The invariants, once the policy has read every notification. */
static void m_check(struct model *m)
{
	struct rpwp_budget b;

	rpwp_budget(m->h.p, &b);
	m->budget = b.budget_mw;
	if (b.granted_mw != m->granted)
		m_fail(m, "policy's granted total differs from the table's");
	if (m->granted <= m->budget)
		m->window = false;
	else if (!m->window)
		m_fail(m, "granted above budget outside a shed window");
	m->held += m->granted > m->budget && b.settling;
	if (m->h.now < m->settle_until && !b.settling)
		m_fail(m, "settling ended early");
}

static struct mslot *m_slot(struct model *m, uint16_t ch, uint8_t sl)
{
	if (ch < 100 || ch >= 100 + M_CH || sl >= M_SL)
		return NULL;
	return &m->s[ch - 100][sl];
}

/* The kernel notifies the entry's state now (alloc-ntf). */
static void m_ntf(struct model *m, int c, int i, uint8_t reason)
{
	struct mslot *s = &m->s[c][i];

	if (m->nt - m->nh == 256) {
		m_fail(m, "notification queue overflow");
		return;
	}
	m->ntf[m->nt++ % 256] = (struct rpwp_entry){
		.chassis = (uint16_t)(100 + c), .slot = (uint8_t)i,
		.prio = s->prio, .state = (enum rpwp_kstate)s->state,
		.want_mw = s->want, .held_mw = s->held, .req_id = s->id,
		.reason = reason,
	};
}

static int m_decide(struct model *m, const struct rpwp_action *a)
{
	struct mslot *s = m_slot(m, a->chassis, a->slot);

	if (!s || !s->state || s->id != a->req_id)
		return -ENOENT;
	if (s->state != RPWP_K_PENDING && s->state != RPWP_K_QUEUED)
		return -EALREADY;
	if (a->verdict == RPWP_GRANT) {
		if (a->mw != s->want)
			return -EINVAL;
		if (m->granted + a->mw > m_usable(m))
			return -ENOSPC;
	}
	if (s->state == RPWP_K_PENDING && s->answered)
		m_fail(m, "pending answered twice");
	if (s->state == RPWP_K_QUEUED && a->verdict == RPWP_QUEUE)
		m_fail(m, "queued request queued again");
	s->answered = true;
	switch (a->verdict) {
	case RPWP_GRANT:
		if (m->granted + a->mw > m->budget)
			m_fail(m, "grant beyond the budget");
		s->state = RPWP_K_GRANTED;
		s->held = a->mw;
		m->granted += a->mw;
		m->grants++;
		break;
	case RPWP_QUEUE:
		s->state = RPWP_K_QUEUED;
		break;
	default:
		s->state = 0;
		break;
	}
	return 0;
}

/* The daemon executes the policy's actions in order. */
static void m_exec(struct model *m)
{
	struct rpwp_action act[64];
	unsigned int n = m->h.out.n;

	memcpy(act, m->h.act, n * sizeof(act[0]));
	for (unsigned int k = 0; k < n; k++) {
		const struct rpwp_action *a = &act[k];
		struct mslot *s = m_slot(m, a->chassis, a->slot);
		int err;

		if (m->trace)
			printf("#    %s %u/%u v%d %u: %s\n",
			       rpwp_act_name(a->type), a->chassis, a->slot,
			       a->verdict, a->mw, a->text);
		switch (a->type) {
		case RPWP_ACT_DECIDE:
			err = m_decide(m, a);
			if (err == -ENOSPC || err == -EINVAL)
				m_fail(m, "the kernel would refuse a grant");
			else if (err)
				m_fail(m, "decision for an unknown entry");
			if (err) {
				h_reset_out(&m->h);
				rpwp_decide_failed(m->h.p, a->chassis, a->slot,
						   a->req_id, err, m->h.now,
						   &m->h.out);
				m_exec(m);
			} else {
				m_ntf(m, a->chassis - 100, a->slot, 0);
			}
			break;
		case RPWP_ACT_SHED:
			if (m->h.now < m->settle_until)
				m_fail(m, "shed while settling");
			if (!s || s->state != RPWP_K_GRANTED ||
			    s->id != a->req_id) {
				m_fail(m, s && s->state == RPWP_K_SHEDDING ?
				       "shed of an entry shedding (EALREADY)" :
				       "shed of an entry not granted");
				break;
			}
			s->state = RPWP_K_SHEDDING;
			/*
			 * compliers within the chassis's 30 s; a refusal
			 * at 30.4 s, or later (alloc_shed_ms raised)
			 */
			s->shed_end = m->h.now + (s->ignores ?
				(rnd(m, 4) ? 30400 : 30400 + rnd(m, 60000)) :
				1000 + rnd(m, 29000));
			m->sheds++;
			m_ntf(m, a->chassis - 100, a->slot, 0);
			break;
		case RPWP_ACT_NONCOMPLIANT:
			if (!s || !s->state)
				m_fail(m, "non-compliance of an unknown entry");
			m->ignored++;
			break;
		case RPWP_ACT_RESTORE:
			if (!s || (s->state && s->state != RPWP_K_PENDING))
				m_fail(m, "restore of a live slot");
			else
				s->restore = true;
			m->restores++;
			break;
		}
	}
}

/* The policy reads every notification; then the invariants hold. */
static void m_settle(struct model *m)
{
	m_exec(m);
	while (m->nh != m->nt && !m->fail) {
		struct rpwp_entry e = m->ntf[m->nh++ % 256];

		if (m->trace)
			printf("#  ntf %u/%u st%d held %u id %u r%u\n",
			       e.chassis, e.slot, e.state, e.held_mw,
			       e.req_id, e.reason);
		h_reset_out(&m->h);
		m->h.out.max = 1 + rnd(m, 8);	/* sometimes too small */
		rpwp_entry(m->h.p, &e, m->h.now, &m->h.out);
		m_exec(m);
	}
	m_check(m);
}

static void m_cap(struct model *m)
{
	struct rpwp_budget b;

	if (m->trace)
		printf("# cap %x/%x lost %d/%d\n", m->a[0].healthy,
		       m->a[1].healthy, m->a[0].lost, m->a[1].lost);
	h_reset_out(&m->h);
	rpwp_capacity(m->h.p, m->a, 2, m->h.now, &m->h.out);
	rpwp_budget(m->h.p, &b);
	if (b.budget_mw < m->budget && m->granted > b.budget_mw)
		m->window = true;	/* a capacity loss */
	m->budget = b.budget_mw;
	m_settle(m);
}

static void m_request(struct model *m, int c, int i)
{
	struct mslot *s = &m->s[c][i];
	struct rpwp_entry e;

	s->state = RPWP_K_PENDING;
	s->id = ++m->id;
	s->want = (1 + rnd(m, 12)) * 100000;
	s->prio = (uint8_t)(rnd(m, 4) * 60);
	s->held = 0;
	s->answered = false;
	s->ignores = rnd(m, 8) == 0;
	s->restore = false;
	e = (struct rpwp_entry){
		.chassis = (uint16_t)(100 + c), .slot = (uint8_t)i,
		.prio = s->prio, .state = RPWP_K_PENDING, .want_mw = s->want,
		.req_id = s->id,
	};
	if (m->trace)
		printf("# req %d/%d prio %u want %u id %u\n", 100 + c, i,
		       s->prio, s->want, s->id);
	h_reset_out(&m->h);
	m->h.out.max = 1 + rnd(m, 8);	/* sometimes too small */
	rpwp_request(m->h.p, &e, m->h.now, &m->h.out);
	m_settle(m);
}

static void m_mode(struct model *m, enum rpwp_mode mode)
{
	struct rpwp_budget b;
	struct rpwp_cfg cfg;

	if (m->trace)
		printf("# mode %s\n", rpwp_mode_name(mode));
	cfg = *rpwp_get_cfg(m->h.p);
	cfg.mode = mode;
	cfg.deny_when_full = rnd(m, 4) == 0;
	cfg.n_overrides = rnd(m, 3);
	for (unsigned int k = 0; k < cfg.n_overrides; k++)	/* distinct */
		cfg.overrides[k] = (struct rpwp_prio_override){
			(uint16_t)(100 + k), (uint8_t)rnd(m, M_SL),
			(uint8_t)rnd(m, 256) };
	h_reset_out(&m->h);
	if (rpwp_set_cfg(m->h.p, &cfg, m->h.now, &m->h.out))
		m_fail(m, "set_cfg refused a valid configuration");
	rpwp_budget(m->h.p, &b);
	if (b.budget_mw < m->budget && m->granted > b.budget_mw)
		m->window = true;	/* the mode took the room away */
	m->budget = b.budget_mw;
	m_settle(m);
}

/* Resync from the table: only pending requests may be answered. */
static void m_resync(struct model *m)
{
	uint64_t before = m->grants;

	if (m->trace)
		printf("# resync\n");
	if (rnd(m, 2)) {
		/* a takeover: sheds wait while the capacity table fills */
		m->settle_until = m->h.now + 500 + rnd(m, 3000);
		h_reset_out(&m->h);
		rpwp_settling(m->h.p, m->settle_until, m->h.now, &m->h.out);
		if (m->h.out.n)
			m_fail(m, "settling started with an action");
	}
	rpwp_resync_begin(m->h.p);
	for (int c = 0; c < M_CH; c++) {
		for (int i = 0; i < M_SL; i++) {
			struct mslot *s = &m->s[c][i];
			struct rpwp_entry e = {
				.chassis = (uint16_t)(100 + c),
				.slot = (uint8_t)i, .prio = s->prio,
				.state = (enum rpwp_kstate)s->state,
				.want_mw = s->want, .held_mw = s->held,
				.req_id = s->id, .age_ms = rnd(m, 5000),
			};

			if (s->state &&
			    rpwp_resync_entry(m->h.p, &e, m->h.now))
				m_fail(m, "resync entry refused");
		}
	}
	h_reset_out(&m->h);
	rpwp_resync_end(m->h.p, m->h.now, &m->h.out);
	for (unsigned int k = 0; k < m->h.out.n; k++) {
		const struct rpwp_action *a = &m->h.act[k];
		struct mslot *s = m_slot(m, a->chassis, a->slot);

		if (a->type != RPWP_ACT_DECIDE || !s ||
		    s->state != RPWP_K_PENDING)
			m_fail(m, "resync did more than answer pending requests");
	}
	m_exec(m);
	if (m->grants != before && m->granted > m->budget)
		m_fail(m, "resync granted while over budget");
	m_settle(m);
}

static void m_step(struct model *m)
{
	int c = (int)rnd(m, M_CH), i = (int)rnd(m, M_SL);
	struct mslot *s = &m->s[c][i];

	switch (rnd(m, 10)) {
	case 0: case 1: case 2:
		if (!s->state)
			m_request(m, c, i);
		break;
	case 3:			/* release or withdraw */
		if (s->state == RPWP_K_GRANTED || s->state == RPWP_K_QUEUED ||
		    s->state == RPWP_K_PENDING) {
			if (s->state == RPWP_K_GRANTED)
				m->granted -= s->held;
			s->state = 0;
			s->held = 0;
			if (m->trace)
				printf("# release %d/%d\n", 100 + c, i);
			m_ntf(m, c, i, 11);
			m_settle(m);
		}
		break;
	case 4:			/* capacity change */
		for (int k = 0; k < 2; k++) {
			m->a[k].healthy = (uint8_t)rnd(m, 64);
			m->a[k].bank_a_mw = 1600000u *
				(uint32_t)__builtin_popcount(m->a[k].healthy & 7);
			m->a[k].bank_b_mw = 1600000u *
				(uint32_t)__builtin_popcount(m->a[k].healthy & 56);
			m->a[k].lost = rnd(m, 10) == 0;
		}
		m_cap(m);
		break;
	case 9:			/* the daemon resyncs from the dump */
		if (rnd(m, 4))
			goto time;
		m_resync(m);
		break;
	case 8:			/* a reload changes the mode */
		if (rnd(m, 8))
			goto time;
		m_mode(m, (enum rpwp_mode)rnd(m, 3));
		break;
	case 5:			/* a restored slot asks again */
		if (s->restore && !s->state)
			m_request(m, c, i);
		break;
	default:		/* time passes */
time:
		m->h.now += rnd(m, 4000);
		for (c = 0; c < M_CH; c++) {
			for (i = 0; i < M_SL; i++) {
				s = &m->s[c][i];
				if (s->state != RPWP_K_SHEDDING ||
				    m->h.now < s->shed_end)
					continue;
				if (s->ignores) {	/* shed-refused */
					s->state = RPWP_K_GRANTED;
					m_ntf(m, c, i, 13);
				} else {
					m->granted -= s->held;
					s->state = 0;
					s->held = 0;
					m_ntf(m, c, i, 7);
				}
			}
		}
		h_reset_out(&m->h);
		m_settle(m);	/* events are read before timers run */
		if (m->trace)
			printf("# tick\n");
		h_reset_out(&m->h);
		m->h.out.max = 1 + rnd(m, 8);
		rpwp_tick(m->h.p, m->h.now, &m->h.out);
		m_settle(m);
		break;
	}
}

static void test_random(void)
{
	unsigned int seeds = 3000, bad = 0, grants = 0, sheds = 0,
		     ignored = 0, restores = 0, unanswered = 0, held = 0;

	const char *tr = getenv("POLICY_TRACE");

	for (unsigned int seed = 1; seed <= seeds; seed++) {
		struct model *m = calloc(1, sizeof(*m));

		if (tr && (unsigned int)atoi(tr) != seed) {
			free(m);
			continue;
		}
		m->trace = !!tr;
		m->rng = 0x9e3779b97f4a7c15ull * seed + 1;
		h_init(&m->h, (enum rpwp_mode)(seed % 3));
		for (int k = 0; k < 2; k++)
			m->a[k] = (struct rpwp_assembly){
				.addr = (uint8_t)(16 + k), .present = 0x3f,
				.healthy = 0x3f, .bank_a_mw = 4800000,
				.bank_b_mw = 4800000 };
		m_cap(m);
		for (int step = 0; step < 400 && !m->fail; step++)
			m_step(m);
		/* settle: time passes, every pending request answered */
		for (int k = 0; k < 50 && !m->fail; k++) {
			m->h.now += 1000;
			h_reset_out(&m->h);
			rpwp_tick(m->h.p, m->h.now, &m->h.out);
			m_settle(m);
		}
		for (int c = 0; c < M_CH; c++)
			for (int i = 0; i < M_SL; i++)
				if (m->s[c][i].state == RPWP_K_PENDING &&
				    !m->s[c][i].answered)
					unanswered++;
		if (m->fail && bad++ < 5)
			tap_diag("seed %u: %s", seed, m->why);
		grants += m->grants;
		sheds += m->sheds;
		ignored += m->ignored;
		restores += m->restores;
		held += m->held;
		rpwp_destroy(m->h.p);
		free(m);
	}
	tap_ok(!bad, "random: %u sequences, invariants held after every step (%u failed)",
	       seeds, bad);
	tap_ok(!unanswered, "random: every request answered (%u not)",
	       unanswered);
	tap_ok(grants > 10000 && sheds > 1000 && ignored > 50 && restores > 100 &&
	       held > 100,
	       "random: exercised: %u grants, %u sheds, %u non-compliant, %u restores, %u steps over budget while settling",
	       grants, sheds, ignored, restores, held);
}

int main(void)
{
	test_first_grant();
	test_release_then_waiting();
	test_denied_when_full();
	test_modes();
	test_supply_fails();
	test_shed_asks_again();
	test_ties();
	test_ignores_shed();
	test_resync();
	test_plan();
	test_digest();
	test_overrides_and_out();
	test_settling();
	test_random();
	return tap_done();
}
