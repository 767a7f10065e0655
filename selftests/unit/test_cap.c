// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the capacity table (driver/rpw_cap.c): payload layout,
 * epoch fencing, who answers, the loss rule, the own line, clamping, the
 * policy digest (short and long payloads, mismatch judged once per change).
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
	u32 epoch = 0, digest;

	tap_ok(RPW_CAP_REPORT_LEN == 16 && RPW_CAP_QUERY_LEN == 4 &&
	       sizeof(struct rpw_cap_report) == 20 &&
	       sizeof(struct rpw_cap_query) == 8,
	       "payloads are 16 and 4 bytes, 20 and 8 with a digest");
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
	tap_ok(rpw_cap_unpack_query(&f, &epoch, &digest) == -EINVAL,
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

/* The long forms: the sender's policy digest appended, le32. */
static void test_digest_layout(void)
{
	static const u8 want_q[8] = { 0x05, 0x03, 0x00, 0x00,
				      0x78, 0x56, 0x34, 0x12 };
	struct rpw_cap_entry e = mk(3000000, 2000000, 0x07, 0x05), out;
	struct rpw_frame f;
	u32 epoch, digest = 1;
	int len, bad = 0;

	e.digest = 0xcafe0001;
	rpw_cap_pack_report(&f, 9, EPOCH, &e);
	tap_ok(f.len == 20 && f.payload[16] == 0x01 && f.payload[17] == 0x00 &&
	       f.payload[18] == 0xfe && f.payload[19] == 0xca &&
	       rpw_type_len_ok(RPW_T_CAP_REPORT, 20),
	       "CAP_REPORT with a digest: 20 bytes, le32 digest at 16");
	tap_ok(!rpw_cap_unpack_report(&f, &epoch, &out) &&
	       out.digest == 0xcafe0001 && out.bank_mw[0] == 3000000 &&
	       epoch == EPOCH, "long CAP_REPORT round trip");
	f.len = 16;
	tap_ok(!rpw_cap_unpack_report(&f, &epoch, &out) && out.digest == 0 &&
	       out.healthy == 0x05,
	       "a short CAP_REPORT (older module) is taken, digest 0");
	e.digest = 0;
	rpw_cap_pack_report(&f, 9, EPOCH, &e);
	tap_ok(f.len == 16, "no digest: the short form older modules take");
	rpw_cap_pack_query_digest(&f, EPOCH, 0x12345678);
	tap_ok(f.len == 8 && !memcmp(f.payload, want_q, 8) &&
	       rpw_type_len_ok(RPW_T_CAP_QUERY, 8) &&
	       !rpw_cap_unpack_query(&f, &epoch, &digest) &&
	       digest == 0x12345678 && epoch == EPOCH,
	       "CAP_QUERY with the primary's digest: 8 bytes, round trip");
	rpw_cap_pack_query_digest(&f, EPOCH, 0);
	tap_ok(f.len == 4 && !rpw_cap_unpack_query(&f, &epoch, &digest) &&
	       digest == 0, "CAP_QUERY without a digest: 4 bytes, digest 0");
	/* Only the two forms: every other length is refused. */
	for (len = 0; len <= RPW_MAX_PAYLOAD; len++) {
		f.type = RPW_T_CAP_QUERY;
		f.len = len;
		bad += !rpw_cap_unpack_query(&f, &epoch, &digest) !=
		       (len == 4 || len == 8);
		bad += rpw_type_len_ok(RPW_T_CAP_QUERY, len) !=
		       (len == 4 || len == 8);
		f.type = RPW_T_CAP_REPORT;
		bad += !rpw_cap_unpack_report(&f, &epoch, &out) !=
		       (len == 16 || len == 20);
		bad += rpw_type_len_ok(RPW_T_CAP_REPORT, len) !=
		       (len == 16 || len == 20);
	}
	tap_ok(!bad, "capacity payloads: exactly the short and long lengths");
}

static struct rpw_frame report_d(u8 src, u64 a_mw, u32 digest)
{
	struct rpw_cap_entry e = mk(a_mw, 0, 0x3f, 0x3f);
	struct rpw_frame f;

	e.digest = digest;
	rpw_cap_pack_report(&f, PRIMARY, EPOCH, &e);
	f.src = src;
	return f;
}

static void test_digest_judge(void)
{
	struct rpw_cap_table t;
	struct rpw_cap_entry own = mk(1000000, 1000000, 3, 3);
	struct rpw_frame f;
	int a;

	rpw_cap_table_init(&t, PRIMARY);
	tap_ok(rpw_cap_set_digest(&t, 0xaaaa) && !rpw_cap_set_digest(&t, 0xaaaa),
	       "own digest set; the same again is no change");
	rpw_cap_set_local(&t, &own, 0);
	tap_ok(t.ent[PRIMARY].digest == 0xaaaa,
	       "the own line carries the own digest");
	f = report_d(2, 1000000, 0xaaaa);
	rpw_cap_rx(&t, &primary_view, &f, 1);
	f = report_d(3, 1000000, 0);
	rpw_cap_rx(&t, &primary_view, &f, 1);
	tap_ok(rpw_cap_judge(&t, true, 0) == -ENOENT,
	       "same digest, and a module without one: no mismatch");
	f = report_d(3, 1000000, 0xbbbb);
	tap_ok(rpw_cap_rx(&t, &primary_view, &f, 2) == RPW_CAP_RX_CHANGED &&
	       t.ent[3].digest == 0xbbbb,
	       "a new digest alone changes the line");
	a = rpw_cap_judge(&t, true, 0);
	tap_ok(a == 3 && t.ent[3].mismatch &&
	       rpw_cap_judge(&t, true, a + 1) == -ENOENT &&
	       rpw_cap_judge(&t, true, 0) == -ENOENT,
	       "the differing module is judged a mismatch, once");
	rpw_cap_set_digest(&t, 0xbbbb);
	a = rpw_cap_judge(&t, true, 0);
	tap_ok(a == 2 && t.ent[2].mismatch,
	       "the primary's digest changes: the other module differs now");
	a = rpw_cap_judge(&t, true, a + 1);
	tap_ok(a == 3 && !t.ent[3].mismatch &&
	       rpw_cap_judge(&t, true, a + 1) == -ENOENT,
	       "and the one that differed agrees again");
	rpw_cap_set_digest(&t, 0);
	tap_ok(rpw_cap_judge(&t, true, 0) == 2 && !t.ent[2].mismatch &&
	       rpw_cap_judge(&t, true, 3) == -ENOENT,
	       "no own digest (agent gone): nothing is a mismatch");
	rpw_cap_set_local(&t, &own, 5);
	tap_ok(t.ent[PRIMARY].digest == 0, "own line follows the own digest");
}

/* A secondary judges its own line against its primary's query. */
static void test_digest_secondary(void)
{
	struct rpw_cap_table t;
	struct rpw_cap_entry own = mk(1000000, 1000000, 3, 3);
	struct rpw_frame f;

	rpw_cap_table_init(&t, 7);
	rpw_cap_set_local(&t, &own, 0);
	rpw_cap_set_digest(&t, 0x1111);
	rpw_cap_pack_query_digest(&f, EPOCH, 0x2222);
	f.src = PRIMARY;
	tap_ok(rpw_cap_rx(&t, &secondary_view, &f, 1) == RPW_CAP_RX_ANSWER &&
	       t.primary_digest == 0x2222,
	       "the query tells the secondary its primary's digest");
	tap_ok(rpw_cap_judge(&t, false, 0) == 7 && t.ent[7].mismatch &&
	       rpw_cap_judge(&t, false, 8) == -ENOENT,
	       "own line differs from the primary's policy");
	rpw_cap_pack_report(&f, PRIMARY, EPOCH, &t.ent[7]);
	tap_ok(f.len == 20 && f.payload[16] == 0x11,
	       "the answer carries the own digest");
	f = query(PRIMARY, EPOCH);	/* an older primary: no digest */
	rpw_cap_rx(&t, &secondary_view, &f, 2);
	tap_ok(rpw_cap_judge(&t, false, 0) == 7 && !t.ent[7].mismatch,
	       "a primary without a digest: no mismatch");
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
	test_digest_layout();
	test_digest_judge();
	test_digest_secondary();
	test_clamp();
	test_answer();
	test_table();
	test_loss();
	return tap_done();
}
