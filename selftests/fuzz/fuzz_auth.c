// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for authenticated frames (driver/rpw_auth.c) behind the
 * frame codec, with the reference HMAC-SHA256 of selftests/lib.
 *
 * 1. Every frame the deframer accepts from the input goes through
 *    rpw_auth_open() of a receiver holding two keys in mode required: the
 *    verdict is one of the four, a frame is accepted only when it is a
 *    version-2 frame (no forgery is expected to succeed), and a refused
 *    frame is left as it was.
 * 2. The input's first bytes as a struct rpw_frame (made valid): sealed by
 *    a sender with either key, encoded and deframed, it must open to the
 *    identical frame, once; the same bytes again are a replay, and with any
 *    single bit of the trailer flipped it is refused.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref_hmac.h"
#include "rpw_auth.h"

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n",		\
			__FILE__, __LINE__, #cond);			\
		abort();						\
	}								\
} while (0)

/* Slot s holds key id 7 + s: 32 bytes of (s + 1) * 0x11. */
static int mac_fn(void *ctx, unsigned int slot, const u8 *msg, size_t len,
		  u8 *tag)
{
	u8 key[32], out[REF_SHA256_LEN];

	(void)ctx;
	memset(key, (slot + 1) * 0x11, sizeof(key));
	ref_hmac_sha256(key, sizeof(key), msg, len, out);
	memcpy(tag, out, RPW_AUTH_TAG_LEN);
	return 0;
}

static void keyed(struct rpw_auth *a, unsigned int tx)
{
	rpw_auth_init(a, mac_fn, NULL);
	rpw_auth_key_installed(a, 0, 7);
	rpw_auth_key_installed(a, 1, 8);
	CHECK(rpw_auth_key_use(a, 7 + tx) == 0);
	CHECK(rpw_auth_set_mode(a, RPW_AUTH_REQUIRED) == 0);
}

static int deframe(const u8 *wire, int n, struct rpw_frame *out)
{
	struct rpw_deframer d;
	int i, ret = 0;

	rpw_deframer_init(&d);
	for (i = 0; i < n; i++)
		ret = rpw_deframer_feed(&d, wire[i], out);
	return ret;
}

static void roundtrip(const u8 *data, size_t size)
{
	static struct rpw_auth tx, rx;
	struct rpw_frame f, g, h;
	u8 wire[RPW_MAX_WIRE];
	unsigned int bit;
	int n;

	memset(&f, 0, sizeof(f));
	memcpy(&f, data, size < sizeof(f) ? size : sizeof(f));
	f.version = RPW_PROTO_VERSION;
	if (f.len > RPW_AUTH_MAX_PAYLOAD)
		f.len %= RPW_AUTH_MAX_PAYLOAD + 1;
	memset(f.payload + f.len, 0, sizeof(f.payload) - f.len);
	if (rpw_frame_validate(&f))
		return;
	keyed(&tx, size & 1);
	keyed(&rx, 0);
	rpw_auth_ctr_floor(&tx, size * 977);
	g = f;
	CHECK(rpw_auth_seal(&tx, &g) == 0);
	CHECK(g.version == RPW_PROTO_VERSION_AUTH &&
	      g.len == f.len + RPW_AUTH_TRAILER_LEN);
	n = rpw_frame_encode(&g, wire, sizeof(wire));
	CHECK(n > 0 && deframe(wire, n, &h) == 1);
	CHECK(rpw_auth_open(&rx, &h) == RPW_AUTH_OK);
	CHECK(h.len == f.len && !memcmp(h.payload, f.payload, f.len) &&
	      h.type == f.type && h.flags == f.flags && h.src == f.src);
	CHECK(deframe(wire, n, &h) == 1);
	CHECK(rpw_auth_open(&rx, &h) == RPW_AUTH_REPLAY);
	bit = data[0] % (8 * RPW_AUTH_TRAILER_LEN);
	h = g;
	h.payload[f.len + bit / 8] ^= 1 << (bit % 8);
	CHECK(rpw_auth_open(&rx, &h) != RPW_AUTH_OK);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static struct rpw_auth rx;
	struct rpw_deframer d;
	struct rpw_frame out, before;
	enum rpw_auth_verdict v;
	size_t i;

	keyed(&rx, 0);
	rpw_deframer_init(&d);
	for (i = 0; i < size; i++) {
		if (rpw_deframer_feed(&d, data[i], &out) != 1)
			continue;
		before = out;
		v = rpw_auth_open(&rx, &out);
		CHECK(v <= RPW_AUTH_REPLAY);
		if (before.version == RPW_PROTO_VERSION)
			CHECK(v == RPW_AUTH_MISSING);
		/* A 64-bit tag: a random input never forges one. */
		CHECK(v != RPW_AUTH_OK);
		CHECK(!memcmp(&before, &out, sizeof(out)));
	}
	if (size)
		roundtrip(data, size);
	return 0;
}
