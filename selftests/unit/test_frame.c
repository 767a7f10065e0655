// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the rackpwr frame codec (driver/rpw_frame.c).
 *
 * The expected wire bytes of the known vectors were computed with a separate
 * Python implementation of the format, not with this codec.
 */
#include <stdio.h>
#include <string.h>

#include "rpw_frame.h"
#include "tap.h"

/* Deterministic PRNG (xorshift64*) so failures reproduce. */
static u64 rng_state = 0x2545f4914f6cdd1dULL;

static u32 rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (u32)((rng_state * 0x2545f4914f6cdd1dULL) >> 32);
}

static u32 rnd_below(u32 n)
{
	return rnd() % n;
}

/*
 * Test oracle: payload lengths written out from rpw_proto.h by hand.  @step:
 * allocation payloads are a 6-byte header plus whole entries of that size;
 * capacity payloads are short, or longer by a 4-byte policy digest.
 */
static const struct {
	u8 type;
	u8 min, max, step;
	const char *name;
} types[] = {
	{ RPW_T_ACK, 0, 0, 0, "ack" },
	{ RPW_T_DATA, 0, 64, 0, "data" },
	{ RPW_T_WHO_PRIMARY, 4, 4, 0, "who_primary" },
	{ RPW_T_PRIMARY, 7, 7, 0, "primary" },
	{ RPW_T_HEARTBEAT, 7, 7, 0, "heartbeat" },
	{ RPW_T_HEARTBEAT_ACK, 4, 4, 0, "heartbeat_ack" },
	{ RPW_T_STEP_DOWN, 4, 4, 0, "step_down" },
	{ RPW_T_CAP_QUERY, 4, 8, 4, "cap_query" },	/* + digest */
	{ RPW_T_CAP_REPORT, 16, 20, 4, "cap_report" },
	{ RPW_T_PWR_REQUEST, 14, 46, 8, "pwr_request" },
	{ RPW_T_PWR_ANSWER, 16, 46, 10, "pwr_answer" },
	{ RPW_T_PWR_CONFIRM, 14, 46, 8, "pwr_confirm" },
	{ RPW_T_PWR_RELEASE, 14, 46, 8, "pwr_release" },
	{ RPW_T_SHED_REQUEST, 14, 46, 8, "shed_request" },
	{ RPW_T_SHED_DONE, 14, 46, 8, "shed_done" },
	{ RPW_T_INV_QUERY, 6, 6, 0, "inv_query" },
	{ RPW_T_INV_REPORT, 18, 42, 12, "inv_report" },
	{ RPW_T_TEST, 0, 64, 0, "test" },
};

static bool frame_eq(const struct rpw_frame *a, const struct rpw_frame *b)
{
	return a->version == b->version && a->flags == b->flags &&
	       a->type == b->type && a->dst == b->dst && a->src == b->src &&
	       a->seq == b->seq && a->len == b->len &&
	       !memcmp(a->payload, b->payload, a->len);
}

static struct rpw_frame mkframe(u8 flags, u8 type, u8 dst, u8 src, u8 seq,
				const u8 *payload, u8 len)
{
	struct rpw_frame f;

	memset(&f, 0, sizeof(f));
	f.version = RPW_PROTO_VERSION;
	f.flags = flags;
	f.type = type;
	f.dst = dst;
	f.src = src;
	f.seq = seq;
	f.len = len;
	if (payload)
		memcpy(f.payload, payload, len);
	return f;
}

static u32 drops_total(const struct rpw_deframer *d)
{
	u32 sum = 0;
	int i;

	for (i = 0; i < RPW_DROP__MAX; i++)
		sum += d->stats.drops[i];
	return sum;
}

/* Only @why has a count, and it equals @n. */
static bool only_drop(const struct rpw_deframer *d, enum rpw_drop why, u32 n)
{
	int i;

	for (i = 0; i < RPW_DROP__MAX; i++)
		if (d->stats.drops[i] != (i == (int)why ? n : 0))
			return false;
	return true;
}

struct feed_result {
	int nframes;
	struct rpw_frame frames[8];
	int ndrops;
	int drops[16];		/* negative return codes, in order */
};

static void feed(struct rpw_deframer *d, const u8 *buf, size_t n,
		 struct feed_result *r)
{
	struct rpw_frame out;
	size_t i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = rpw_deframer_feed(d, buf[i], &out);
		if (ret == 1) {
			if (r->nframes < (int)ARRAY_SIZE(r->frames))
				r->frames[r->nframes] = out;
			r->nframes++;
		} else if (ret < 0) {
			if (r->ndrops < (int)ARRAY_SIZE(r->drops))
				r->drops[r->ndrops] = ret;
			r->ndrops++;
		}
	}
}

/*
 * Build wire bytes from a raw body (header+payload) with a correct FCS,
 * bypassing the encoder's checks, so malformed-but-CRC-valid frames can be
 * produced.  Independent escaping code on purpose.
 */
static size_t raw_wire(const u8 *body, size_t n, u8 *out)
{
	u8 tmp[RPW_MAX_BODY + 16];
	size_t i, o = 0;
	u16 fcs;

	memcpy(tmp, body, n);
	fcs = crc_ccitt(0xffff, body, n) ^ 0xffff;
	tmp[n] = fcs & 0xff;
	tmp[n + 1] = fcs >> 8;
	out[o++] = 0x7e;
	for (i = 0; i < n + 2; i++) {
		if (tmp[i] == 0x7e || tmp[i] == 0x7d) {
			out[o++] = 0x7d;
			out[o++] = tmp[i] ^ 0x20;
		} else {
			out[o++] = tmp[i];
		}
	}
	out[o++] = 0x7e;
	return o;
}

static void test_crc(void)
{
	static const u8 check[] = "123456789";
	u16 x25 = crc_ccitt(0xffff, check, 9) ^ 0xffff;

	TAP_EQ(x25, 0x906e,
	       "crc: X.25 check value of \"123456789\"");
	TAP_EQ(crc_ccitt(0x0000, check, 9), 0x2189,
	       "crc: KERMIT check value (init 0, no xorout)");
	TAP_EQ(crc_ccitt(0xffff, check, 0), 0xffff, "crc: empty buffer");
	TAP_EQ(crc_ccitt(crc_ccitt(0xffff, check, 4), check + 4, 5),
	       crc_ccitt(0xffff, check, 9), "crc: incremental == one-shot");
}

struct vector {
	const char *what;
	struct rpw_frame f;
	u8 wire[32];
	int wlen;
};

static void test_vectors(void)
{
	static const u8 hb[] = { 7, 0, 0, 0, 60, 0, 9 };
	static const u8 req[] = { 7, 0, 0, 0, 1, 0, 3, 2, 0xf4, 0x01,
				  0x34, 0x12, 0, 0 };
	static const u8 esc[] = { 0x7e, 0x7d, 0x11 };
	struct vector v[] = {
		{
			"heartbeat 3->bcast epoch 7 lease 60 ms acker 9",
			mkframe(0, RPW_T_HEARTBEAT, 0xff, 0x03, 0x05, hb, 7),
			{ 0x7e, 0x10, 0x12, 0xff, 0x03, 0x05, 0x07, 0x07,
			  0x00, 0x00, 0x00, 0x3c, 0x00, 0x09, 0x6e, 0xb1,
			  0x7e },
			17,
		},
		{
			"ack 1->2 seq 42",
			mkframe(0, RPW_T_ACK, 0x02, 0x01, 0x2a, NULL, 0),
			{ 0x7e, 0x10, 0x01, 0x02, 0x01, 0x2a, 0x00, 0x92,
			  0x03, 0x7e },
			10,
		},
		{
			"pwr_request 4->1 ACKREQ slot 3 prio 2 500 W id 0x1234",
			mkframe(RPW_F_ACKREQ, RPW_T_PWR_REQUEST, 0x01, 0x04,
				0x10, req, 14),
			{ 0x7e, 0x11, 0x30, 0x01, 0x04, 0x10, 0x0e, 0x07,
			  0x00, 0x00, 0x00, 0x01, 0x00, 0x03, 0x02, 0xf4,
			  0x01, 0x34, 0x12, 0x00, 0x00, 0x1f, 0xe0, 0x7e },
			24,
		},
		{
			/* src 0x7d, payload 7e 7d, FCS 0xa57d: all escaped */
			"data 0x7d->5 escapes in src, payload and FCS",
			mkframe(RPW_F_ACKREQ, RPW_T_DATA, 0x05, 0x7d, 122,
				esc, 3),
			{ 0x7e, 0x11, 0x02, 0x05, 0x7d, 0x5d, 0x7a, 0x03,
			  0x7d, 0x5e, 0x7d, 0x5d, 0x11, 0x7d, 0x5d, 0xa5,
			  0x7e },
			17,
		},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		struct feed_result r = { 0 };
		struct rpw_deframer d;
		u8 out[RPW_MAX_WIRE];
		int n;

		n = rpw_frame_encode(&v[i].f, out, sizeof(out));
		tap_ok(n == v[i].wlen && !memcmp(out, v[i].wire, n),
		       "vector: encode %s (%d bytes)", v[i].what, n);
		rpw_deframer_init(&d);
		feed(&d, v[i].wire, v[i].wlen, &r);
		tap_ok(r.nframes == 1 && r.ndrops == 0 &&
		       frame_eq(&r.frames[0], &v[i].f) &&
		       d.stats.frames == 1 &&
		       d.stats.bytes == (u32)v[i].wlen,
		       "vector: decode %s", v[i].what);
	}
}

static void test_names(void)
{
	bool ok = true;
	size_t i;
	int a, b;

	for (i = 0; i < ARRAY_SIZE(types); i++)
		if (strcmp(rpw_type_name(types[i].type), types[i].name)) {
			tap_diag("type 0x%02x named %s", types[i].type,
				 rpw_type_name(types[i].type));
			ok = false;
		}
	tap_ok(ok, "names: every type has its short name");
	tap_ok(!strcmp(rpw_type_name(0x00), "unknown") &&
	       !strcmp(rpw_type_name(0x7e), "unknown") &&
	       !strcmp(rpw_type_name(0xff), "unknown"),
	       "names: unknown types");
	tap_ok(!strcmp(rpw_drop_name(RPW_DROP_CRC), "crc") &&
	       !strcmp(rpw_drop_name(RPW_DROP_GARBAGE), "garbage") &&
	       !strcmp(rpw_drop_name(RPW_DROP__MAX), "unknown") &&
	       !strcmp(rpw_drop_name((enum rpw_drop)-1), "unknown"),
	       "names: drop names and out-of-range reasons");
	ok = true;
	for (a = 1; a < RPW_DROP__MAX; a++) {
		if (!strcmp(rpw_drop_name(a), "unknown"))
			ok = false;
		for (b = 1; b < a; b++)
			if (!strcmp(rpw_drop_name(a), rpw_drop_name(b)))
				ok = false;
	}
	tap_ok(ok, "names: drop names are distinct and known");
}

static void test_len_table(void)
{
	int type, len, bad = 0;
	size_t i;

	for (type = 0; type < 256; type++) {
		for (len = 0; len < 256; len++) {
			bool want = false;

			for (i = 0; i < ARRAY_SIZE(types); i++)
				if (types[i].type == type)
					want = len >= types[i].min &&
					       len <= types[i].max &&
					       (!types[i].step ||
						(len - types[i].min) %
						types[i].step == 0);
			if (rpw_type_len_ok(type, len) != want) {
				if (bad++ < 5)
					tap_diag("type 0x%02x len %d", type,
						 len);
			}
		}
	}
	TAP_EQ(bad, 0, "len table: all 65536 (type, len) pairs as specified");
}

/* Every type at its min and max length, unicast and broadcast. */
static void test_roundtrip_types(void)
{
	int cases = 0, bad = 0;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		const u8 lens[2] = { types[i].min, types[i].max };
		int c;

		/* c: bit 3 = max length, bit 2 = broadcast, bits 1:0 = flags */
		for (c = 0; c < 16; c++) {
			int l = c >> 3, bc = (c >> 2) & 1, fl = c & 3;
			struct feed_result r = { 0 };
			struct rpw_deframer d;
			u8 out[RPW_MAX_WIRE];
			struct rpw_frame f;
			bool legal;
			int n, k;

			f = mkframe(fl, types[i].type, bc ? 0xff : 0x2a,
				    0x7e, (u8)cases, NULL, lens[l]);
			/* Payload of flag bytes: worst-case escaping. */
			for (k = 0; k < f.len; k++)
				f.payload[k] = (k & 1) ? 0x7d : 0x7e;
			legal = !((fl & RPW_F_ACKREQ) &&
				  (bc || types[i].type == RPW_T_ACK)) &&
				!(bc && types[i].type == RPW_T_ACK);
			n = rpw_frame_encode(&f, out, sizeof(out));
			cases++;
			if (!legal) {
				if (n != -EINVAL)
					bad++;
				continue;
			}
			if (n < 0 || n > RPW_MAX_WIRE) {
				bad++;
				continue;
			}
			rpw_deframer_init(&d);
			feed(&d, out, n, &r);
			if (r.nframes != 1 || r.ndrops ||
			    !frame_eq(&r.frames[0], &f)) {
				tap_diag("type %s len %u flags %d bc %d",
					 types[i].name, f.len, fl, bc);
				bad++;
			}
		}
	}
	tap_ok(bad == 0, "round-trip: every type at min/max len, flags, bcast (%d cases)",
	       cases);
}

/* Valid raw body for a HEARTBEAT 3->bcast; tests mutate it. */
static size_t hb_body(u8 *b)
{
	static const u8 body[] = { 0x10, RPW_T_HEARTBEAT, 0xff, 0x03, 0x01,
				   7, 1, 0, 0, 0, 100, 0, 2 };

	memcpy(b, body, sizeof(body));
	return sizeof(body);
}

/* Feed one raw-bodied frame to a fresh deframer; expect exactly @why. */
static void expect_drop(const char *what, const u8 *body, size_t n,
			enum rpw_drop why)
{
	struct feed_result r = { 0 };
	struct rpw_deframer d;
	u8 wire[2 * RPW_MAX_BODY + 8];
	size_t w = raw_wire(body, n, wire);

	rpw_deframer_init(&d);
	feed(&d, wire, w, &r);
	tap_ok(r.nframes == 0 && r.ndrops == 1 && r.drops[0] == -(int)why &&
	       only_drop(&d, why, 1) && d.stats.frames == 0,
	       "drop %s: %s", rpw_drop_name(why), what);
}

static void test_drops_checks(void)
{
	u8 b[RPW_MAX_BODY];
	size_t n;

	n = hb_body(b);
	b[0] = 0x30;
	expect_drop("version 3", b, n, RPW_DROP_VERSION);
	/* Version 2 (authenticated) needs room for its 15-byte trailer. */
	n = hb_body(b);
	b[0] = 0x20;
	expect_drop("version 2 heartbeat without a trailer", b, n,
		    RPW_DROP_TYPE);
	n = hb_body(b);
	b[0] = 0x00;
	expect_drop("version 0", b, n, RPW_DROP_VERSION);
	n = hb_body(b);
	b[5] = 8;
	expect_drop("len field 8, payload 7", b, n, RPW_DROP_LENGTH);
	n = hb_body(b);
	b[5] = 6;
	expect_drop("len field 6, payload 7", b, n, RPW_DROP_LENGTH);
	n = hb_body(b);
	b[3] = 0x00;
	expect_drop("src 0", b, n, RPW_DROP_ADDR);
	n = hb_body(b);
	b[3] = 0xff;
	expect_drop("src broadcast", b, n, RPW_DROP_ADDR);
	n = hb_body(b);
	b[2] = 0x00;
	expect_drop("dst 0", b, n, RPW_DROP_ADDR);
	n = hb_body(b);
	b[1] = 0x00;
	expect_drop("type 0x00", b, n, RPW_DROP_TYPE);
	n = hb_body(b);
	b[1] = 0x40;
	expect_drop("type 0x40", b, n, RPW_DROP_TYPE);
	n = hb_body(b);
	b[1] = RPW_T_STEP_DOWN;		/* wants 4 bytes, has 6 */
	expect_drop("step_down with 6 bytes", b, n, RPW_DROP_TYPE);
	n = hb_body(b);
	b[0] = 0x11;			/* ACKREQ to broadcast */
	expect_drop("broadcast with ACKREQ", b, n, RPW_DROP_TYPE);
	{
		u8 ack[] = { 0x11, RPW_T_ACK, 0x02, 0x01, 0x09, 0 };

		expect_drop("ack with ACKREQ", ack, sizeof(ack),
			    RPW_DROP_TYPE);
		ack[0] = 0x10;
		ack[2] = 0xff;
		expect_drop("broadcast ack", ack, sizeof(ack), RPW_DROP_TYPE);
	}
	{
		/* Header of 6 + FCS, but nothing else: 7 bytes is short. */
		u8 s[] = { 0x10, RPW_T_ACK, 0x02, 0x01, 0x09 };

		expect_drop("7-byte body", s, sizeof(s), RPW_DROP_SHORT);
	}

	/* Validation order: each pair reports the earlier check. */
	n = hb_body(b);
	b[0] = 0x30;
	b[5] = 1;
	expect_drop("order: version before length", b, n, RPW_DROP_VERSION);
	n = hb_body(b);
	b[5] = 1;
	b[3] = 0;
	expect_drop("order: length before addr", b, n, RPW_DROP_LENGTH);
	n = hb_body(b);
	b[3] = 0;
	b[1] = 0x40;
	expect_drop("order: addr before type", b, n, RPW_DROP_ADDR);
}

static void test_drops_framing(void)
{
	struct feed_result r;
	struct rpw_deframer d;
	u8 good[RPW_MAX_WIRE], wire[512], b[RPW_MAX_BODY];
	struct rpw_frame f, ref;
	int glen;
	size_t n, w;

	ref = mkframe(0, RPW_T_HEARTBEAT, 0xff, 0x03, 0x01,
		      (const u8 []){ 1, 0, 0, 0, 100, 0, 2 }, 7);
	glen = rpw_frame_encode(&ref, good, sizeof(good));
	tap_ok(glen > 0, "framing: reference frame encodes");

	/* CRC: one payload byte changed after the FCS was computed. */
	memcpy(wire, good, glen);
	wire[9] ^= 0x01;
	memset(&r, 0, sizeof(r));
	memset(&f, 0xaa, sizeof(f));
	rpw_deframer_init(&d);
	{
		struct rpw_frame out = f;
		int i, ret = 0;

		for (i = 0; i < glen; i++)
			ret = rpw_deframer_feed(&d, wire[i], &out);
		tap_ok(ret == -RPW_DROP_CRC && only_drop(&d, RPW_DROP_CRC, 1) &&
		       !memcmp(&out, &f, sizeof(f)),
		       "drop crc: flipped payload bit, @out untouched");
	}

	/* CRC is checked before version/length: corrupt those too. */
	n = hb_body(b);
	w = raw_wire(b, n, wire);
	wire[1] = 0x20;
	wire[6] = 9;
	memset(&r, 0, sizeof(r));
	rpw_deframer_init(&d);
	feed(&d, wire, w, &r);
	tap_ok(r.ndrops == 1 && only_drop(&d, RPW_DROP_CRC, 1),
	       "order: crc before version and length");

	/* SHORT: bodies of 1..7 bytes, one event each. */
	rpw_deframer_init(&d);
	memset(&r, 0, sizeof(r));
	for (n = 1; n < RPW_HDR_LEN + RPW_FCS_LEN; n++) {
		w = 0;
		wire[w++] = 0x7e;
		memset(wire + w, 0x11, n);
		w += n;
		wire[w++] = 0x7e;
		feed(&d, wire, w, &r);
	}
	tap_ok(r.ndrops == 7 && only_drop(&d, RPW_DROP_SHORT, 7),
	       "drop short: bodies of 1..7 bytes counted 7 times");

	/* OVERSIZE: counted once however long, then resync on the flag. */
	rpw_deframer_init(&d);
	memset(&r, 0, sizeof(r));
	w = 0;
	wire[w++] = 0x7e;
	memset(wire + w, 0x11, 300);
	w += 300;
	memcpy(wire + w, good, glen);
	w += glen;
	feed(&d, wire, w, &r);
	tap_ok(r.nframes == 1 && frame_eq(&r.frames[0], &ref) &&
	       r.ndrops == 1 && r.drops[0] == -RPW_DROP_OVERSIZE &&
	       only_drop(&d, RPW_DROP_OVERSIZE, 1),
	       "drop oversize: 300-byte body counted once, next frame decoded");

	/* Exactly RPW_MAX_BODY bytes is not oversize (it is a CRC error). */
	rpw_deframer_init(&d);
	memset(&r, 0, sizeof(r));
	w = 0;
	wire[w++] = 0x7e;
	memset(wire + w, 0x11, RPW_MAX_BODY);
	w += RPW_MAX_BODY;
	wire[w++] = 0x7e;
	feed(&d, wire, w, &r);
	tap_ok(only_drop(&d, RPW_DROP_CRC, 1),
	       "oversize boundary: %d-byte body is not oversize",
	       RPW_MAX_BODY);
	rpw_deframer_init(&d);
	memset(&r, 0, sizeof(r));
	wire[1 + RPW_MAX_BODY] = 0x11;
	wire[2 + RPW_MAX_BODY] = 0x7e;
	feed(&d, wire, RPW_MAX_BODY + 3, &r);
	tap_ok(only_drop(&d, RPW_DROP_OVERSIZE, 1),
	       "oversize boundary: %d-byte body is oversize",
	       RPW_MAX_BODY + 1);

	/* A maximal valid frame (64-byte DATA, all escaped) decodes. */
	{
		struct rpw_frame big = mkframe(0, RPW_T_DATA, 9, 8, 0, NULL,
					       RPW_MAX_PAYLOAD);
		u8 bw[RPW_MAX_WIRE];
		int bn;

		memset(big.payload, 0x7e, sizeof(big.payload));
		bn = rpw_frame_encode(&big, bw, sizeof(bw));
		rpw_deframer_init(&d);
		memset(&r, 0, sizeof(r));
		feed(&d, bw, bn, &r);
		tap_ok(bn > 2 * RPW_MAX_PAYLOAD && r.nframes == 1 &&
		       frame_eq(&r.frames[0], &big) && drops_total(&d) == 0,
		       "max frame: 64-byte payload of 0x7e (%d wire bytes)",
		       bn);
	}

	/* ESCAPE (invalid byte): rest skipped silently, next frame ok. */
	rpw_deframer_init(&d);
	memset(&r, 0, sizeof(r));
	w = 0;
	wire[w++] = 0x7e;
	wire[w++] = 0x10;
	wire[w++] = 0x7d;
	wire[w++] = 0x11;		/* 0x11 ^ 0x20 = 0x31: invalid */
	memset(wire + w, 0x22, 10);
	w += 10;
	memcpy(wire + w, good, glen);
	w += glen;
	feed(&d, wire, w, &r);
	tap_ok(r.nframes == 1 && frame_eq(&r.frames[0], &ref) &&
	       r.ndrops == 1 && r.drops[0] == -RPW_DROP_ESCAPE &&
	       only_drop(&d, RPW_DROP_ESCAPE, 1),
	       "drop escape: 7d 11 counted once, next frame decoded");

	/* 7d 7d is invalid too (0x5d is not a flag or escape). */
	rpw_deframer_init(&d);
	memset(&r, 0, sizeof(r));
	feed(&d, (const u8 []){ 0x7e, 0x10, 0x7d, 0x7d, 0x5e, 0x7e }, 6, &r);
	tap_ok(only_drop(&d, RPW_DROP_ESCAPE, 1),
	       "drop escape: 7d 7d counted once");

	/*
	 * Abort: 7d 7e drops the partial frame and the 7e opens the next
	 * one, so the frame right behind needs no flag of its own.
	 */
	rpw_deframer_init(&d);
	memset(&r, 0, sizeof(r));
	w = 0;
	wire[w++] = 0x7e;
	wire[w++] = 0x10;
	wire[w++] = 0x12;
	wire[w++] = 0x7d;
	memcpy(wire + w, good, glen);	/* starts with its own 0x7e */
	w += glen;
	feed(&d, wire, w, &r);
	tap_ok(r.nframes == 1 && frame_eq(&r.frames[0], &ref) &&
	       r.ndrops == 1 && r.drops[0] == -RPW_DROP_ESCAPE &&
	       only_drop(&d, RPW_DROP_ESCAPE, 1),
	       "abort: 7d 7e drops partial frame, flag opens next frame");

	/* GARBAGE: per byte before the first flag. */
	rpw_deframer_init(&d);
	memset(&r, 0, sizeof(r));
	w = 0;
	memcpy(wire, (const u8 []){ 0x00, 0x7d, 0x11, 0xff, 0x5e }, 5);
	w = 5;
	memcpy(wire + w, good, glen);
	w += glen;
	feed(&d, wire, w, &r);
	tap_ok(r.nframes == 1 && frame_eq(&r.frames[0], &ref) &&
	       r.ndrops == 5 && r.drops[4] == -RPW_DROP_GARBAGE &&
	       only_drop(&d, RPW_DROP_GARBAGE, 5) &&
	       d.stats.bytes == (u32)w,
	       "drop garbage: 5 bytes before the first flag, then resync");
}

static void test_streams(void)
{
	struct feed_result r;
	struct rpw_deframer d;
	u8 w1[RPW_MAX_WIRE], w2[RPW_MAX_WIRE], wire[1024];
	struct rpw_frame f1, f2;
	int n1, n2;
	size_t w;
	int i;

	f1 = mkframe(0, RPW_T_CAP_QUERY, 0xff, 0x01, 0x11,
		     (const u8 []){ 1, 2, 3, 4 }, 4);
	f2 = mkframe(RPW_F_ACKREQ | RPW_F_RETX, RPW_T_SHED_DONE, 0x01, 0x05,
		     0x12, (const u8 []){ 1, 2, 3, 4, 1, 0, 5, 0x7e, 7, 8, 9,
					  0, 0, 0 }, 14);
	n1 = rpw_frame_encode(&f1, w1, sizeof(w1));
	n2 = rpw_frame_encode(&f2, w2, sizeof(w2));

	/* Shared flag: f1 without its closing flag, then f2. */
	rpw_deframer_init(&d);
	memset(&r, 0, sizeof(r));
	memcpy(wire, w1, n1 - 1);
	memcpy(wire + n1 - 1, w2, n2);
	feed(&d, wire, n1 - 1 + n2, &r);
	tap_ok(r.nframes == 2 && frame_eq(&r.frames[0], &f1) &&
	       frame_eq(&r.frames[1], &f2) && drops_total(&d) == 0,
	       "back-to-back: one flag between two frames");

	/* Each with its own flags, plus idle fill: nothing counted. */
	rpw_deframer_init(&d);
	memset(&r, 0, sizeof(r));
	w = 0;
	for (i = 0; i < 5; i++)
		wire[w++] = 0x7e;
	memcpy(wire + w, w1, n1);
	w += n1;
	memcpy(wire + w, w2, n2);
	w += n2;
	for (i = 0; i < 5; i++)
		wire[w++] = 0x7e;
	memcpy(wire + w, w1, n1);
	w += n1;
	feed(&d, wire, w, &r);
	tap_ok(r.nframes == 3 && frame_eq(&r.frames[2], &f1) &&
	       drops_total(&d) == 0 && d.stats.frames == 3 &&
	       d.stats.bytes == (u32)w,
	       "idle fill: repeated flags count nothing");

	/* Noise between frames is one dropped "frame", not garbage. */
	rpw_deframer_init(&d);
	memset(&r, 0, sizeof(r));
	w = 0;
	memcpy(wire + w, w1, n1);
	w += n1;
	memcpy(wire + w, (const u8 []){ 0x01, 0x02, 0x03 }, 3);
	w += 3;
	memcpy(wire + w, w2, n2);
	w += n2;
	feed(&d, wire, w, &r);
	tap_ok(r.nframes == 2 && only_drop(&d, RPW_DROP_SHORT, 1),
	       "noise between frames: one short drop, both frames decoded");

	/* reset(): partial frame forgotten, counts nothing, then hunts. */
	rpw_deframer_init(&d);
	memset(&r, 0, sizeof(r));
	feed(&d, w2, n2 / 2, &r);
	rpw_deframer_reset(&d);
	tap_ok(drops_total(&d) == 0, "reset: counts nothing");
	feed(&d, (const u8 []){ 0x33, 0x44 }, 2, &r);
	feed(&d, w1, n1, &r);
	tap_ok(r.nframes == 1 && frame_eq(&r.frames[0], &f1) &&
	       only_drop(&d, RPW_DROP_GARBAGE, 2),
	       "reset: bytes before the next flag are garbage, then resync");

	/* Every flag bit of the nibble is defined; ANS comes through. */
	{
		u8 b[RPW_MAX_BODY], rw[64];
		size_t n = hb_body(b), rn;

		b[0] = 0x18;	/* bit 3 */
		rn = raw_wire(b, n, rw);
		rpw_deframer_init(&d);
		memset(&r, 0, sizeof(r));
		feed(&d, rw, rn, &r);
		tap_ok(r.nframes == 1 && r.frames[0].flags == RPW_F_ANS &&
		       drops_total(&d) == 0,
		       "flag bit 3 (ANS) decoded");
	}
}

static void test_encode_errors(void)
{
	struct rpw_frame good, f;
	u8 buf[RPW_MAX_WIRE + 16];
	int need, n, bad = 0;
	size_t len;

	good = mkframe(RPW_F_ACKREQ, RPW_T_DATA, 0x05, 0x7d, 0x7e,
		       (const u8 []){ 0x7e, 0x7d, 0x11 }, 3);
	need = rpw_frame_encode(&good, buf, sizeof(buf));
	TAP_EQ(need, 17, "encode: escaped frame needs 17 bytes");
	for (len = 0; len < (size_t)need; len++) {
		memset(buf, 0xcc, sizeof(buf));
		n = rpw_frame_encode(&good, buf, len);
		if (n != -ENOSPC || buf[len] != 0xcc)
			bad++;
	}
	TAP_EQ(bad, 0, "encode: -ENOSPC for every short buffer, no overrun");
	TAP_EQ(rpw_frame_encode(&good, buf, need), need,
	       "encode: exact-size buffer suffices");

	f = good;
	f.version = 9;
	n = rpw_frame_encode(&f, buf, sizeof(buf));
	tap_ok(n == need && buf[1] == 0x11, "encode: version forced to 1");
	TAP_EQ(rpw_frame_validate(&f), -RPW_DROP_VERSION,
	       "validate: version 9 rejected");
	TAP_EQ(rpw_frame_validate(&good), 0, "validate: good frame");

#define EINVAL_CASE(what, stmt, why) do {				\
	f = good;							\
	stmt;								\
	TAP_EQ(rpw_frame_encode(&f, buf, sizeof(buf)), -EINVAL,	\
	       "encode -EINVAL: " what);				\
	TAP_EQ(rpw_frame_validate(&f), -(why), "validate: " what);	\
} while (0)

	EINVAL_CASE("len 65", f.len = 65, RPW_DROP_LENGTH);
	EINVAL_CASE("len 255", f.len = 255, RPW_DROP_LENGTH);
	EINVAL_CASE("src 0", f.src = 0, RPW_DROP_ADDR);
	EINVAL_CASE("src broadcast", f.src = 0xff, RPW_DROP_ADDR);
	EINVAL_CASE("dst 0", f.dst = 0, RPW_DROP_ADDR);
	EINVAL_CASE("unknown type", f.type = 0x03, RPW_DROP_TYPE);
	EINVAL_CASE("heartbeat with 3 bytes", f.type = RPW_T_HEARTBEAT,
		    RPW_DROP_TYPE);
	EINVAL_CASE("ack with payload", f.type = RPW_T_ACK, RPW_DROP_TYPE);
	EINVAL_CASE("ack with ACKREQ",
		    (f.type = RPW_T_ACK, f.len = 0), RPW_DROP_TYPE);
	EINVAL_CASE("broadcast ack",
		    (f.type = RPW_T_ACK, f.len = 0, f.flags = 0,
		     f.dst = 0xff), RPW_DROP_TYPE);
	EINVAL_CASE("broadcast with ACKREQ", f.dst = 0xff, RPW_DROP_TYPE);
	EINVAL_CASE("flag beyond the flags nibble", f.flags = 0x20,
		    RPW_DROP_VERSION);
#undef EINVAL_CASE
}

static struct rpw_frame random_frame(void)
{
	struct rpw_frame f;
	size_t t = rnd_below(ARRAY_SIZE(types));
	int k;

	memset(&f, 0, sizeof(f));
	f.version = RPW_PROTO_VERSION;
	f.type = types[t].type;
	f.len = types[t].min +
		rnd_below(types[t].max - types[t].min + 1);
	if (types[t].step)	/* whole entries (or digest) only */
		f.len -= (f.len - types[t].min) % types[t].step;
	f.src = 1 + rnd_below(254);
	f.dst = 1 + rnd_below(255);
	f.seq = rnd();
	f.flags = rnd() & RPW_F_MASK;
	if (f.type == RPW_T_ACK && f.dst == 0xff)
		f.dst = 0x7e;
	if (f.type == RPW_T_ACK || f.dst == 0xff)
		f.flags &= ~RPW_F_ACKREQ;
	for (k = 0; k < f.len; k++)
		/* Bias towards the special bytes to exercise escaping. */
		f.payload[k] = (rnd() & 3) ? rnd() : 0x7d + (rnd() & 1);
	return f;
}

/*
 * 100000 random valid frames with random noise (including flags and
 * escapes) between them: all frames come out, exactly and in order.
 */
static void test_random_stream(void)
{
	enum { N = 100000 };
	struct rpw_deframer d;
	struct rpw_frame f, out;
	u8 w[RPW_MAX_WIRE];
	int i, k, n, ret, enc_fail = 0, mismatch = 0, extra = 0;
	u32 bytes = 0;

	rpw_deframer_init(&d);
	for (i = 0; i < N; i++) {
		int got = 0;
		int noise = rnd_below(25);

		for (k = 0; k < noise; k++) {
			u8 c = (rnd() & 7) ? rnd() : 0x7d + (rnd() & 1);

			bytes++;
			if (rpw_deframer_feed(&d, c, &out) == 1)
				extra++;
		}
		f = random_frame();
		n = rpw_frame_encode(&f, w, sizeof(w));
		if (n < 0) {
			enc_fail++;
			continue;
		}
		for (k = 0; k < n; k++) {
			bytes++;
			ret = rpw_deframer_feed(&d, w[k], &out);
			if (ret != 1)
				continue;
			if (got++ || k != n - 1 || !frame_eq(&out, &f))
				mismatch++;
		}
		if (!got)
			mismatch++;
	}
	TAP_EQ(enc_fail, 0, "random stream: every random valid frame encodes");
	tap_ok(mismatch == 0 && extra == 0 && d.stats.frames == N,
	       "random stream: %d frames decoded exactly through noise (%d mismatches, %d extra)",
	       N, mismatch, extra);
	tap_ok(d.stats.bytes == bytes && drops_total(&d) > 0,
	       "random stream: %u bytes fed, noise counted as %u drops",
	       d.stats.bytes, drops_total(&d));
}

/*
 * Single-bit flips anywhere in the wire image (flags included): a frame
 * is either delivered exactly or the damage is counted.  Never wrong data.
 */
static void test_bitflips(void)
{
	enum { N = 100000 };
	struct rpw_deframer d;
	struct rpw_frame f, out;
	u8 w[RPW_MAX_WIRE];
	int i, k, n, wrong = 0, silent = 0, delivered = 0;

	for (i = 0; i < N; i++) {
		int got = 0;
		u32 before;

		f = random_frame();
		n = rpw_frame_encode(&f, w, sizeof(w));
		k = rnd_below(n * 8);
		w[k / 8] ^= 1u << (k % 8);

		rpw_deframer_init(&d);
		/* Leading flag as left by a previous frame, trailing idle. */
		rpw_deframer_feed(&d, RPW_FLAG, &out);
		before = drops_total(&d);
		for (k = 0; k < n; k++)
			if (rpw_deframer_feed(&d, w[k], &out) == 1) {
				got++;
				if (!frame_eq(&out, &f))
					wrong++;
			}
		if (rpw_deframer_feed(&d, RPW_FLAG, &out) == 1) {
			got++;
			if (!frame_eq(&out, &f))
				wrong++;
		}
		if (got > 1)
			wrong++;
		else if (got == 1)
			delivered++;
		else if (drops_total(&d) == before)
			silent++;
	}
	TAP_EQ(wrong, 0, "bit flips: no corrupted frame ever delivered");
	TAP_EQ(silent, 0, "bit flips: every lost frame counted as a drop");
	tap_diag("bit flips: %d of %d damaged frames delivered intact",
		 delivered, N);
}

int main(void)
{
	test_crc();
	test_vectors();
	test_names();
	test_len_table();
	test_roundtrip_types();
	test_drops_checks();
	test_drops_framing();
	test_streams();
	test_encode_errors();
	test_random_stream();
	test_bitflips();
	return tap_done();
}
