// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for power allocation (driver/rpw_alloc.c).
 *
 * The input is a program for one chassis slot table and one primary's
 * ledger: arbitrary allocation frames to either (from the right or a wrong
 * address and epoch), server events, policy decisions, sheds, leader and
 * policy-holder changes, time steps, the frames each side sends
 * delivered to the other, the MAC's delivered/given-up results and flow
 * control (held destinations, a queue budget).  After every step:
 *  - every frame either side sends passes rpw_frame_validate() and its
 *    header's count matches its length; no action is dropped;
 *  - POWER_ON only for a slot now GRANTED under that id, and only right
 *    after a PWR_ANSWER from the followed primary at the followed epoch;
 *  - a successful grant keeps the ledger's total within the usable
 *    capacity given, and the total is the sum of the holdings.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpw_alloc.h"

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n",		\
			__FILE__, __LINE__, #cond);			\
		abort();						\
	}								\
} while (0)

#define MS		1000000ULL
#define PRIMARY		5
#define CHASSIS		0x21
#define EPOCH		0x305u
#define USABLE_MW	1500000ULL

struct input {
	const u8 *p;
	size_t n;
};

static u8 take(struct input *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static struct rpw_slots slots;
static struct rpw_ledger led;
static struct rpw_alloc_out out;
static struct rpw_frame to_ledger[RPW_ALLOC_OUT_FRAMES];
static struct rpw_frame to_slots[RPW_ALLOC_OUT_FRAMES];
static unsigned int n_to_ledger, n_to_slots;
static u64 now;

static void check_frames(u8 src, struct rpw_frame *keep, unsigned int *nkeep)
{
	unsigned int i;

	for (i = 0; i < out.nframes; i++) {
		struct rpw_frame f = out.frames[i];

		f.src = src;
		CHECK(rpw_frame_validate(&f) == 0);
		CHECK(f.len >= RPW_PWR_HDR_LEN);
		CHECK(rpw_type_len_ok(f.type, f.len));
		/* count entries of exactly one entry's valid size */
		if (f.type == RPW_T_INV_QUERY)
			CHECK(f.payload[4] == 0);
		else
			CHECK(f.payload[4] &&
			      (f.len - RPW_PWR_HDR_LEN) % f.payload[4] == 0 &&
			      rpw_type_len_ok(f.type, RPW_PWR_HDR_LEN +
					      (f.len - RPW_PWR_HDR_LEN) /
					      f.payload[4]));
		keep[i] = f;
	}
	*nkeep = out.nframes;
}

/* The chassis side's output; @answer: the input was a followed answer. */
static void slots_out(bool answer)
{
	unsigned int i;

	CHECK(!out.dropped);
	for (i = 0; i < out.nacts; i++) {
		const struct rpw_alloc_act *a = &out.acts[i];

		CHECK(a->slot < RPW_ALLOC_SLOTS);
		if (a->kind != RPW_ACT_POWER_ON)
			continue;
		CHECK(answer);
		CHECK(slots.slot[a->slot].state == RPW_SLOT_GRANTED);
		CHECK(slots.slot[a->slot].id == a->id && a->id);
	}
	check_frames(CHASSIS, to_ledger, &n_to_ledger);
}

static void ledger_out(void)
{
	struct rpw_ledger_info info;
	u64 sum = 0;
	int pos;

	CHECK(!out.dropped);
	check_frames(PRIMARY, to_slots, &n_to_slots);
	for (pos = rpw_ledger_next(&led, 0, &info); pos >= 0;
	     pos = rpw_ledger_next(&led, pos + 1, &info))
		if (info.state == RPW_GS_GRANTED ||
		    info.state == RPW_GS_SHEDDING)
			sum += info.held_mw;
	CHECK(sum == led.granted_mw);
}

static void slots_rx(const struct rpw_frame *f)
{
	bool followed = f->src == slots.primary && f->len >= 4 &&
			get_unaligned_le32(f->payload) == slots.epoch &&
			now < slots.lease_end && f->type == RPW_T_PWR_ANSWER;

	rpw_alloc_out_reset(&out);
	rpw_slots_rx(&slots, f, now, &out);
	slots_out(followed);
}

static void ledger_rx(const struct rpw_frame *f)
{
	rpw_alloc_out_reset(&out);
	rpw_ledger_rx(&led, f, now, &out);
	ledger_out();
}

/* An arbitrary allocation frame from the input. */
static struct rpw_frame any_frame(struct input *in, bool to_primary)
{
	struct rpw_frame f;
	u8 b = take(in);

	memset(&f, 0, sizeof(f));
	f.version = RPW_PROTO_VERSION;
	f.type = 0x30 + (b & 7);
	f.src = (b & 8) ? take(in) : (to_primary ? CHASSIS : PRIMARY);
	f.dst = to_primary ? PRIMARY : CHASSIS;
	f.len = take(in) % (RPW_MAX_PAYLOAD + 1);
	memset(f.payload, 0, sizeof(f.payload));
	if (in->n >= f.len) {
		memcpy(f.payload, in->p, f.len);
		in->p += f.len;
		in->n -= f.len;
	}
	if (!(b & 16) && f.len >= 4)
		put_unaligned_le32(EPOCH, f.payload);
	return f;
}

static void step(struct input *in)
{
	u8 op = take(in);
	struct rpw_frame f;
	unsigned int i;
	int err;

	switch (op % 12) {
	case 0:
		f = any_frame(in, false);
		slots_rx(&f);
		break;
	case 1:
		f = any_frame(in, true);
		ledger_rx(&f);
		break;
	case 2: {
		u8 slot = take(in), ev = take(in);
		u32 w = take(in) | (take(in) << 8);

		rpw_alloc_out_reset(&out);
		rpw_slots_server_event(&slots, slot % 9, ev % 13, w, now, &out);
		slots_out(false);
		break;
	}
	case 3:
		now += (u64)take(in) * 20 * MS;
		rpw_alloc_out_reset(&out);
		rpw_slots_tick(&slots, now, &out);
		slots_out(false);
		rpw_alloc_out_reset(&out);
		rpw_ledger_tick(&led, now, &out);
		ledger_out();
		break;
	case 4: {
		u8 slot = take(in) % 9, b = take(in), r = take(in);
		u8 v = b & 3;		/* bit 2: the watts asked, else half */
		const struct rpw_ledger_ent *e;
		u32 id = 0;
		u64 mw = 0;

		if (slot < RPW_ALLOC_SLOTS && led.ch[0].addr == CHASSIS) {
			e = &led.ch[0].ent[slot];
			id = e->id;
			mw = (b & 4) ? e->want_mw : e->want_mw / 2;
		}
		rpw_alloc_out_reset(&out);
		err = rpw_ledger_decide(&led, CHASSIS, slot, id, v, mw, r % 16,
					USABLE_MW, now, &out);
		if (!err && v == RPW_PWR_GRANT)
			CHECK(led.granted_mw <= USABLE_MW);
		ledger_out();
		break;
	}
	case 5:
		rpw_alloc_out_reset(&out);
		rpw_ledger_shed(&led, CHASSIS, take(in) % 9, now, &out);
		ledger_out();
		break;
	case 6:
		/* Deliver what each side sent to the other. */
		for (i = 0; i < n_to_slots; i++) {
			f = to_slots[i];
			slots_rx(&f);
		}
		for (i = 0; i < n_to_ledger; i++) {
			f = to_ledger[i];
			ledger_rx(&f);
		}
		break;
	case 7: {
		u8 b = take(in);

		rpw_slots_leader(&slots, (b & 1) ? PRIMARY : b, EPOCH + (b & 2),
				 now + (u64)take(in) * 10 * MS, now);
		break;
	}
	case 8:
		rpw_ledger_policy(&led, take(in) & 1, now);
		break;
	case 10: {
		/* The MAC's results: a sent frame delivered or given up. */
		u8 b = take(in);

		f = (b & 1) && n_to_ledger ? to_ledger[take(in) % n_to_ledger] :
					     any_frame(in, true);
		if (b & 2)
			rpw_slots_delivered(&slots, &f, now);
		else
			rpw_slots_unsent(&slots, &f);
		f = (b & 4) && n_to_slots ? to_slots[take(in) % n_to_slots] :
					    any_frame(in, false);
		rpw_ledger_unsent(&led, &f);
		break;
	}
	case 11: {
		/* Flow control: held destinations, a queue budget. */
		u8 b = take(in);

		rpw_alloc_out_hold(&out, (b & 1) ? PRIMARY : CHASSIS, b & 2);
		out.max_queued = (b >> 2) & 3;
		out.queued = (b >> 4) & 3;
		break;
	}
	default:
		rpw_alloc_out_reset(&out);
		rpw_ledger_role(&led, true, EPOCH, now, &out);
		rpw_ledger_know(&led, CHASSIS);
		ledger_out();
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct rpw_alloc_timing t;

	rpw_alloc_timing_default(&t);
	t.shed_ms = 1000;
	now = 0;
	n_to_ledger = n_to_slots = 0;
	rpw_slots_init(&slots, &t, take(&in) | 1);
	rpw_slots_leader(&slots, PRIMARY, EPOCH, 1000 * MS, 0);
	rpw_ledger_init(&led, &t);
	rpw_ledger_know(&led, CHASSIS);
	memset(&out, 0, sizeof(out));	/* flow control too */
	rpw_ledger_role(&led, true, EPOCH, 0, &out);
	while (in.n)
		step(&in);
	return 0;
}
