// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the capacity table (driver/rpw_cap.c): payload layout,
 * epoch fencing, who answers, the loss rule, the own line, clamping.
 *
 * Expected wire bytes are written out by hand from the protocol document.
 */
#include <stdio.h>
#include <string.h>

#include "rpw_cap.h"
#include "tap.h"

#define EPOCH	0x00000305u	/* term 3, claimed by address 5 */
#define PRIMARY	5

static const struct rpw_cap_view primary_view = {
	.epoch = EPOCH, .primary = PRIMARY, .is_primary = true,
};

static const struct rpw_cap_view secondary_view = {
	.epoch = EPOCH, .primary = PRIMARY, .is_primary = false,
};

static struct rpw_cap_entry mk(u64 a_mw, u64 b_mw, u8 present, u8 healthy)
{
	struct rpw_cap_entry e = {
		.bank_mw = { a_mw, b_mw }, .present = present,
		.healthy = healthy,
	};

	return e;
}

static struct rpw_frame report(u8 src, u32 epoch, u64 a_mw, u64 b_mw)
{
	struct rpw_cap_entry e = mk(a_mw, b_mw, 0x3f, 0x3f);
	struct rpw_frame f;

	rpw_cap_pack_report(&f, PRIMARY, epoch, &e);
	f.src = src;
	return f;
}

static struct rpw_frame query(u8 src, u32 epoch)
{
	struct rpw_frame f;

	rpw_cap_pack_query(&f, epoch);
	f.src = src;
	return f;
}

static void test_layout(void)
{
	static const u8 want_r[16] = {
		0x05, 0x03, 0x00, 0x00,		/* epoch */
		0xb8, 0x0b, 0x00, 0x00,		/* bank A 3000 W */
		0xd0, 0x07, 0x00, 0x00,		/* bank B 2000 W */
		0x07, 0x05,			/* present, healthy */
		0x00, 0x00,			/* flags */
	};
	static const u8 want_q[4] = { 0x05, 0x03, 0x00, 0x00 };
	struct rpw_cap_entry e = mk(3000999, 2000000, 0x07, 0x05), out;
	struct rpw_frame f;
	u32 epoch = 0;

	tap_ok(sizeof(struct rpw_cap_report) == 16 &&
	       sizeof(struct rpw_cap_query) == 4,
	       "payload structs are 16 and 4 bytes");
	rpw_cap_pack_report(&f, 9, EPOCH, &e);
	tap_ok(f.type == RPW_T_CAP_REPORT && f.dst == 9 &&
	       f.flags == RPW_F_ACKREQ && f.len == 16 &&
	       !memcmp(f.payload, want_r, 16),
	       "CAP_REPORT bytes: le32 epoch, le32 watts (rounded down), masks, flags");
	tap_ok(rpw_type_len_ok(RPW_T_CAP_REPORT, f.len) &&
	       !rpw_type_len_ok(RPW_T_CAP_REPORT, f.len - 1),
	       "frame length table uses the report's size");
	tap_ok(!rpw_cap_unpack_report(&f, &epoch, &out) && epoch == EPOCH &&
	       out.bank_mw[0] == 3000000 && out.bank_mw[1] == 2000000 &&
	       out.present == 0x07 && out.healthy == 0x05,
	       "CAP_REPORT round trip");
	rpw_cap_pack_query(&f, EPOCH);
	tap_ok(f.type == RPW_T_CAP_QUERY && f.dst == RPW_ADDR_BCAST &&
	       f.len == 4 && !memcmp(f.payload, want_q, 4) &&
	       rpw_type_len_ok(RPW_T_CAP_QUERY, f.len),
	       "CAP_QUERY bytes: broadcast, le32 epoch");
	f.len = 5;
	tap_ok(rpw_cap_unpack_query(&f, &epoch) == -EINVAL,
	       "query of the wrong length is refused");
	f = report(1, EPOCH, 1, 1);
	f.len = 15;
	tap_ok(rpw_cap_unpack_report(&f, &epoch, &out) == -EINVAL,
	       "report of the wrong length is refused");
	tap_ok(rpw_cap_unpack_report(&(struct rpw_frame){ .type = RPW_T_CAP_QUERY,
							 .len = 16 },
				     &epoch, &out) == -EINVAL,
	       "report unpack refuses other types");
}

static void test_clamp(void)
{
	/* Two supplies at 3 GW each: 6e12 mW must not wrap on the wire. */
	struct rpw_cap_entry e = mk(6000000000000ULL, 4294967295000ULL, 3, 3);
	struct rpw_cap_entry out;
	struct rpw_frame f;
	u32 epoch;

	tap_ok(rpw_cap_mw_to_w(6000000000000ULL) == 0xffffffffU &&
	       rpw_cap_mw_to_w(999) == 0 && rpw_cap_mw_to_w(1000) == 1,
	       "mW to W rounds down and clamps to U32_MAX");
	rpw_cap_pack_report(&f, PRIMARY, EPOCH, &e);
	rpw_cap_unpack_report(&f, &epoch, &out);
	tap_ok(out.bank_mw[0] == 4294967295000ULL &&
	       out.bank_mw[1] == 4294967295000ULL,
	       "over-large sums are clamped, not wrapped (%llu)",
	       (unsigned long long)out.bank_mw[0]);
}

static void test_answer(void)
{
	struct rpw_cap_table t;
	struct rpw_cap_entry own = mk(1000000, 2000000, 1, 1);
	struct rpw_frame f;

	rpw_cap_table_init(&t, 7);
	f = query(PRIMARY, EPOCH);
	tap_ok(rpw_cap_rx(&t, &secondary_view, &f, 10) == RPW_CAP_RX_IGNORE,
	       "a module without an assembly does not answer");
	tap_ok(rpw_cap_set_local(&t, &own, 10) && rpw_cap_has_local(&t),
	       "own line set");
	tap_ok(!rpw_cap_set_local(&t, &own, 20), "same values: no change");
	tap_ok(rpw_cap_rx(&t, &secondary_view, &f, 30) == RPW_CAP_RX_ANSWER,
	       "the primary's query in the current epoch is answered");
	f = query(PRIMARY, EPOCH - 0x100);
	tap_ok(rpw_cap_rx(&t, &secondary_view, &f, 30) == RPW_CAP_RX_IGNORE,
	       "a query from an older epoch is fenced");
	f = query(PRIMARY, EPOCH + 0x100);
	tap_ok(rpw_cap_rx(&t, &secondary_view, &f, 30) == RPW_CAP_RX_IGNORE,
	       "a query from a newer epoch not yet followed is ignored");
	f = query(6, EPOCH);
	tap_ok(rpw_cap_rx(&t, &secondary_view, &f, 30) == RPW_CAP_RX_IGNORE,
	       "a query from a module that is not our primary is ignored");
	f = query(PRIMARY, EPOCH);
	tap_ok(rpw_cap_rx(&t, &primary_view, &f, 30) == RPW_CAP_RX_IGNORE,
	       "the primary answers nobody");
	tap_ok(rpw_cap_set_local(&t, NULL, 40) && !rpw_cap_has_local(&t) &&
	       rpw_cap_next(&t, 0) == -ENOENT,
	       "own line removed (assembly gone, or psu -> chassis)");
	tap_ok(!rpw_cap_set_local(&t, NULL, 40), "removing twice: no change");
	tap_ok(rpw_cap_rx(&t, &secondary_view, &f, 50) == RPW_CAP_RX_IGNORE,
	       "after removal the query is not answered");
}

static void test_table(void)
{
	struct rpw_cap_table t;
	struct rpw_cap_entry own = mk(6000000, 0, 0x3f, 0x3f);
	struct rpw_frame f;
	int n = 0, a;

	rpw_cap_table_init(&t, PRIMARY);
	rpw_cap_set_local(&t, &own, 0);
	f = report(2, EPOCH, 4000000, 1000000);
	tap_ok(rpw_cap_rx(&t, &primary_view, &f, 5) == RPW_CAP_RX_CHANGED,
	       "first report creates a line");
	tap_ok(rpw_cap_rx(&t, &primary_view, &f, 6) == RPW_CAP_RX_IGNORE &&
	       t.ent[2].last_ns == 6,
	       "same report again: no change, age refreshed");
	f = report(3, EPOCH, 2500000, 0);
	rpw_cap_rx(&t, &primary_view, &f, 7);
	for (a = 0; (a = rpw_cap_next(&t, a)) >= 0; a++)
		n++;
	tap_ok(n == 3, "three lines: own and two reports (%d)", n);
	tap_ok(rpw_cap_total_mw(&t, 0) == 12500000 &&
	       rpw_cap_total_mw(&t, 1) == 1000000,
	       "bank totals sum every line");
	f = report(3, EPOCH, 1500000, 0);
	tap_ok(rpw_cap_rx(&t, &primary_view, &f, 8) == RPW_CAP_RX_CHANGED &&
	       t.ent[3].bank_mw[0] == 1500000 && t.ent[2].bank_mw[0] == 4000000,
	       "a change on one assembly changes only its line");
	f = report(3, EPOCH - 0x100, 9000000, 0);
	tap_ok(rpw_cap_rx(&t, &primary_view, &f, 9) == RPW_CAP_RX_IGNORE &&
	       t.ent[3].bank_mw[0] == 1500000,
	       "a report from an older epoch is fenced");
	f = report(4, EPOCH, 9000000, 0);
	tap_ok(rpw_cap_rx(&t, &secondary_view, &f, 9) == RPW_CAP_RX_IGNORE &&
	       !t.ent[4].known, "a secondary keeps no reports");
	f = report(PRIMARY, EPOCH, 1, 1);
	tap_ok(rpw_cap_rx(&t, &primary_view, &f, 9) == RPW_CAP_RX_IGNORE &&
	       t.ent[PRIMARY].bank_mw[0] == 6000000,
	       "a report with our own address never overwrites the own line");
	rpw_cap_forget_others(&t);
	tap_ok(rpw_cap_next(&t, 0) == PRIMARY &&
	       rpw_cap_next(&t, PRIMARY + 1) == -ENOENT,
	       "demoted: only the own line stays");
}

static void test_loss(void)
{
	struct rpw_cap_table t;
	struct rpw_frame f;
	int i, lost = -1, a;

	rpw_cap_table_init(&t, PRIMARY);
	f = report(2, EPOCH, 4000000, 0);
	rpw_cap_rx(&t, &primary_view, &f, 0);
	f = report(3, EPOCH, 3000000, 0);
	rpw_cap_rx(&t, &primary_view, &f, 0);
	/* Module 3 answers every query, module 2 falls silent. */
	for (i = 1; i <= RPW_CAP_LOST_QUERIES + 1 && lost < 0; i++) {
		for (a = 0; (a = rpw_cap_query_round(&t, a)) >= 0; a++) {
			tap_ok(lost < 0, "one loss reported once");
			lost = a;
		}
		f = report(3, EPOCH, 3000000, 0);
		rpw_cap_rx(&t, &primary_view, &f, i);
		if (lost < 0)
			tap_ok(!t.ent[2].lost, "query %d: not lost yet", i);
	}
	tap_ok(lost == 2 && i - 1 == RPW_CAP_LOST_QUERIES + 1,
	       "lost when the next query finds %d unanswered (query %d)",
	       RPW_CAP_LOST_QUERIES, i - 1);
	tap_ok(t.ent[2].lost && !t.ent[3].lost,
	       "the answering module is not lost");
	tap_ok(rpw_cap_total_mw(&t, 0) == 3000000,
	       "a lost line counts as zero");
	tap_ok(rpw_cap_query_round(&t, 0) == -ENOENT,
	       "a lost line is not reported again");
	f = report(2, EPOCH, 4000000, 0);
	tap_ok(rpw_cap_rx(&t, &primary_view, &f, 9) == RPW_CAP_RX_CHANGED &&
	       !t.ent[2].lost && rpw_cap_total_mw(&t, 0) == 7000000,
	       "a lost module that reports again is back");
	rpw_cap_table_init(&t, PRIMARY);
	rpw_cap_set_local(&t, &(struct rpw_cap_entry){ .bank_mw = { 1 } }, 0);
	for (i = 0; i < 10; i++)
		tap_ok(rpw_cap_query_round(&t, 0) == -ENOENT && !t.ent[PRIMARY].lost,
		       "round %d: the own line is never lost", i);
}

int main(void)
{
	test_layout();
	test_clamp();
	test_answer();
	test_table();
	test_loss();
	return tap_done();
}
