// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the agent's allocation policy (agent/policy.c).
 *
 * The input is a program of events as a kernel, a daemon and an operator
 * might feed them, well-formed or not: requests, table entries in any
 * state (unknown ids, holdings above the want, repeats, stale states),
 * capacity tables with any masks, time steps and ticks, refused
 * decisions, configuration changes, resyncs, plans, and outputs of one to
 * eight actions.  After every step:
 *  - the budget's totals equal what the slots report (granted = the sum
 *    held by granted, shedding and non-compliant slots; reserved = the
 *    sum wanted by restoring slots; the counts of each state);
 *  - no more actions than the output holds; every action names a slot the
 *    policy knows, a DECIDE its live request (except a denial when the
 *    table is full), a GRANT the watts the request asked;
 *  - rpwp_plan() changes nothing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n",		\
			__FILE__, __LINE__, #cond);			\
		abort();						\
	}								\
} while (0)

#define SLOTS	24	/* small: the table fills up and records are reused */

struct input {
	const uint8_t *p;
	size_t n;
};

static uint32_t take(struct input *in, unsigned int bytes)
{
	uint32_t v = 0;

	while (bytes--) {
		v = v << 8 | (in->n ? *in->p : 0);
		if (in->n) {
			in->p++;
			in->n--;
		}
	}
	return v;
}

static void entry(struct input *in, struct rpwp_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->chassis = (uint16_t)(take(in, 1) % 6);
	e->slot = (uint8_t)(take(in, 1) % 8);
	e->prio = (uint8_t)take(in, 1);
	e->state = (enum rpwp_kstate)(take(in, 1) % 6);	/* 5: invalid */
	e->want_mw = take(in, 1) * 50000;
	e->held_mw = take(in, 1) % 2 ? e->want_mw : take(in, 1) * 50000;
	e->req_id = take(in, 1) % 16;
	e->age_ms = take(in, 2);
	e->reason = (uint8_t)take(in, 1) % 16;
}

/* The totals agree with the slots; returns a fingerprint of the view. */
static uint64_t check_view(const struct rpwp *p)
{
	uint64_t held = 0, res = 0, fp = 1469598103934665603ull;
	unsigned int cur = 0, granted = 0, queued = 0, sh = 0, nc = 0,
		     restore = 0;
	struct rpwp_slot_info si;
	struct rpwp_budget b;

	while (!rpwp_slot_next(p, &cur, &si)) {
		switch (si.state) {
		case RPWP_P_GRANTED:
			granted++;
			held += si.held_mw;
			break;
		case RPWP_P_SHEDDING:
			granted++;
			sh++;
			held += si.held_mw;
			break;
		case RPWP_P_NONCOMPLIANT:
			granted++;
			nc++;
			held += si.held_mw;
			break;
		case RPWP_P_PENDING:
		case RPWP_P_QUEUED:
			queued++;
			break;
		case RPWP_P_RESTORING:
			restore++;
			res += si.want_mw;
			break;
		case RPWP_P_SHED:
			restore++;
			break;
		default:
			break;
		}
		fp = (fp ^ ((uint64_t)si.chassis << 40 | (uint64_t)si.slot << 32 |
			    si.state << 24 | si.held_mw)) * 1099511628211ull;
	}
	rpwp_budget(p, &b);
	CHECK(b.granted_mw == held);
	CHECK(b.reserved_mw == res);
	CHECK(b.granted == granted && b.queued == queued);
	CHECK(b.shedding == sh && b.noncompliant == nc);
	CHECK(b.restore == restore);
	CHECK(b.budget_mw <= b.usable_mw);
	return fp ^ b.granted_mw ^ b.budget_mw << 1;
}

static void check_out(const struct rpwp *p, const struct rpwp_out *out,
		      const struct rpwp_entry *req)
{
	CHECK(out->n <= out->max);
	for (unsigned int i = 0; i < out->n; i++) {
		const struct rpwp_action *a = &out->act[i];
		struct rpwp_slot_info si;

		CHECK(a->type >= RPWP_ACT_DECIDE && a->type <= RPWP_ACT_RESTORE);
		CHECK(memchr(a->text, 0, sizeof(a->text)));
		if (a->type == RPWP_ACT_DECIDE && a->verdict == RPWP_DENY &&
		    a->reason == RPWP_R_POLICY) {
			/* table full: the request itself, not remembered */
			CHECK(req && a->chassis == req->chassis &&
			      a->slot == req->slot);
			continue;
		}
		CHECK(!rpwp_why(p, a->chassis, a->slot, &si));
		if (a->type == RPWP_ACT_DECIDE && a->verdict == RPWP_GRANT)
			CHECK(a->mw == si.want_mw);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct rpwp_action act[8];
	struct rpwp_assembly a[4];
	struct rpwp_plan_step st[32];
	struct rpwp_cfg cfg;
	struct rpwp *p;
	uint64_t now = 1000;

	rpwp_cfg_init(&cfg);
	cfg.mode = (enum rpwp_mode)(take(&in, 1) % 3);
	cfg.shed_deadline_ms = 1 + take(&in, 1) * 100;
	cfg.restore_ms = 1 + take(&in, 1) * 100;
	p = rpwp_create(SLOTS, &cfg);
	CHECK(p);
	while (in.n) {
		struct rpwp_out out = { act, 1 + take(&in, 1) % 8, 0, false };
		struct rpwp_entry e;
		unsigned int op = take(&in, 1) % 10;

		switch (op) {
		case 0:
			entry(&in, &e);
			e.state = RPWP_K_PENDING;
			rpwp_request(p, &e, now, &out);
			check_out(p, &out, &e);
			break;
		case 1:
			entry(&in, &e);
			rpwp_entry(p, &e, now, &out);
			check_out(p, &out, &e);
			break;
		case 2: {
			unsigned int n = take(&in, 1) % 5;

			for (unsigned int k = 0; k < n; k++) {
				a[k].addr = (uint8_t)take(&in, 1);
				a[k].present = (uint8_t)take(&in, 1);
				a[k].healthy = (uint8_t)take(&in, 1);
				a[k].lost = take(&in, 1) % 8 == 0;
				a[k].bank_a_mw = take(&in, 1) * 100000;
				a[k].bank_b_mw = take(&in, 1) * 100000;
			}
			rpwp_capacity(p, a, n, now, &out);
			check_out(p, &out, NULL);
			break;
		}
		case 3:
			now += take(&in, 2) * 10;
			/* fall through */
		case 4:
			rpwp_tick(p, now, &out);
			check_out(p, &out, NULL);
			break;
		case 5:
			entry(&in, &e);
			rpwp_decide_failed(p, e.chassis, e.slot, e.req_id,
					   -(int)(take(&in, 1) % 120), now, &out);
			check_out(p, &out, NULL);
			break;
		case 6:
			cfg.mode = (enum rpwp_mode)(take(&in, 1) % 4);
			cfg.deny_when_full = take(&in, 1) & 1;
			cfg.n_overrides = take(&in, 1) % 4;
			for (unsigned int k = 0; k < cfg.n_overrides; k++)
				cfg.overrides[k] = (struct rpwp_prio_override){
					(uint16_t)(take(&in, 1) % 6),
					(uint8_t)(take(&in, 1) % 8),
					(uint8_t)take(&in, 1) };
			rpwp_set_cfg(p, &cfg, now, &out);
			check_out(p, &out, NULL);
			break;
		case 7: {
			unsigned int n = take(&in, 1) % 12;

			rpwp_resync_begin(p);
			for (unsigned int k = 0; k < n; k++) {
				entry(&in, &e);
				rpwp_resync_entry(p, &e, now);
			}
			rpwp_resync_end(p, now, &out);
			check_out(p, &out, NULL);
			break;
		}
		case 8: {
			struct rpwp_supply f[3];
			struct rpwp_plan plan;
			uint64_t before = check_view(p);
			unsigned int n = take(&in, 1) % 4;

			for (unsigned int k = 0; k < n; k++) {
				f[k].addr = (uint8_t)take(&in, 1);
				f[k].index = (uint8_t)(take(&in, 1) % 8);
			}
			rpwp_plan(p, f, n, st, take(&in, 1) % 33, &plan);
			CHECK(check_view(p) == before);
			break;
		}
		default: {
			struct rpwp_slot_info q[SLOTS];

			CHECK(rpwp_queue_list(p, q, SLOTS) <= SLOTS);
			(void)rpwp_next_deadline(p);
			break;
		}
		}
		check_view(p);
	}
	rpwp_destroy(p);
	return 0;
}
