// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for authenticated frames (driver/rpw_auth.c) and the codec's
 * version-2 rules (driver/rpw_frame.c), with the reference HMAC-SHA256 of
 * selftests/lib (checked here against RFC 4231 first).
 *
 * The sealed-frame vector was computed with Python's hmac/hashlib and a
 * separate encoder, not with this code.
 */
#include <stdio.h>
#include <string.h>

#include "ref_hmac.h"
#include "rpw_auth.h"
#include "tap.h"

/* ---- RFC 4231 known answers -------------------------------------------- */

static void hex(const char *s, u8 *out, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (sscanf(s + 2 * i, "%2hhx", &out[i]) != 1)
			out[i] = 0;	/* a typo in a vector fails its check */
}

static void kat(const char *name, const u8 *key, size_t klen, const char *msg,
		const u8 *bmsg, size_t mlen, const char *want, size_t wlen)
{
	u8 out[REF_SHA256_LEN], exp[REF_SHA256_LEN];

	hex(want, exp, wlen);
	ref_hmac_sha256(key, klen, bmsg ? bmsg : (const u8 *)msg,
			bmsg ? mlen : strlen(msg), out);
	tap_ok(!memcmp(out, exp, wlen), "RFC 4231 %s", name);
}

static void test_rfc4231(void)
{
	u8 k[131], d[50], out[REF_SHA256_LEN], exp[REF_SHA256_LEN];
	unsigned int i;

	ref_sha256((const u8 *)"abc", 3, out);
	hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	    exp, 32);
	tap_ok(!memcmp(out, exp, 32), "FIPS 180-4 SHA-256(\"abc\")");

	memset(k, 0x0b, 20);
	kat("case 1", k, 20, "Hi There", NULL, 0,
	    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
	    32);
	kat("case 2", (const u8 *)"Jefe", 4, "what do ya want for nothing?",
	    NULL, 0,
	    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
	    32);
	memset(k, 0xaa, 20);
	memset(d, 0xdd, 50);
	kat("case 3", k, 20, NULL, d, 50,
	    "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
	    32);
	for (i = 0; i < 25; i++)
		k[i] = i + 1;
	memset(d, 0xcd, 50);
	kat("case 4", k, 25, NULL, d, 50,
	    "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
	    32);
	memset(k, 0x0c, 20);
	kat("case 5 (truncated to 128 bits)", k, 20, "Test With Truncation",
	    NULL, 0, "a3b6167473100ee06e0c796c2955552b", 16);
	memset(k, 0xaa, 131);
	kat("case 6 (key longer than a block)", k, 131,
	    "Test Using Larger Than Block-Size Key - Hash Key First", NULL, 0,
	    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
	    32);
	kat("case 7 (key and data longer than a block)", k, 131,
	    "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.",
	    NULL, 0,
	    "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
	    32);
}

/* ---- a node's keys ------------------------------------------------------ */

struct keys {
	u8 key[RPW_AUTH_SLOTS][32];
	unsigned int calls;
	bool fail;
};

static int mac_fn(void *ctx, unsigned int slot, const u8 *msg, size_t len,
		  u8 *tag)
{
	struct keys *k = ctx;
	u8 out[REF_SHA256_LEN];

	k->calls++;
	if (k->fail)
		return -EIO;
	ref_hmac_sha256(k->key[slot], sizeof(k->key[slot]), msg, len, out);
	memcpy(tag, out, RPW_AUTH_TAG_LEN);
	return 0;
}

/* Key material named by a byte: key id n has bytes n, n+1, ... */
static void install(struct rpw_auth *a, struct keys *k, u8 id)
{
	int s = rpw_auth_key_slot(a, id);
	unsigned int i;

	if (s < 0)
		return;
	for (i = 0; i < sizeof(k->key[s]); i++)
		k->key[s][i] = (u8)(id + i);
	rpw_auth_key_installed(a, s, id);
}

static struct rpw_frame mkframe(u8 src, u8 dst, u8 type, const char *p)
{
	struct rpw_frame f;

	memset(&f, 0, sizeof(f));
	f.version = RPW_PROTO_VERSION;
	f.flags = RPW_F_ACKREQ;
	f.type = type;
	f.dst = dst;
	f.src = src;
	f.seq = 7;
	f.len = strlen(p);
	memcpy(f.payload, p, f.len);
	return f;
}

/* Wire round trip through the codec, like the bus does it. */
static int wire(const struct rpw_frame *in, struct rpw_frame *out)
{
	u8 buf[RPW_MAX_WIRE];
	struct rpw_deframer d;
	int n, i, ret = 0;

	n = rpw_frame_encode(in, buf, sizeof(buf));
	if (n < 0)
		return n;
	rpw_deframer_init(&d);
	for (i = 0; i < n; i++)
		ret = rpw_deframer_feed(&d, buf[i], out);
	return ret;
}

static void test_vector(void)
{
	static const u8 want[] = {
		0x7e, 0x21, 0x02, 0x05, 0x03, 0x07, 0x12, 0x61, 0x62, 0x63,
		0x01, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, 0x69, 0xb6, 0x8a,
		0x9c, 0xa3, 0x0f, 0x3b, 0x2b, 0x09, 0xe6, 0x7e,
	};
	struct rpw_frame f = mkframe(3, 5, RPW_T_DATA, "abc");
	struct rpw_auth a;
	struct keys k = { 0 };
	u8 buf[RPW_MAX_WIRE];
	unsigned int i;
	int n;

	rpw_auth_init(&a, mac_fn, &k);
	rpw_auth_key_installed(&a, 0, 1);
	for (i = 0; i < 32; i++)
		k.key[0][i] = i;
	rpw_auth_ctr_floor(&a, 0x010203040505ULL);
	tap_ok(rpw_auth_set_mode(&a, RPW_AUTH_REQUIRED) == 0, "mode required");
	tap_ok(rpw_auth_seal(&a, &f) == 0, "seal");
	n = rpw_frame_encode(&f, buf, sizeof(buf));
	tap_ok(n == (int)sizeof(want) && !memcmp(buf, want, n),
	       "sealed DATA \"abc\", key id 1, counter 0x010203040506: wire bytes as computed independently (%d bytes)",
	       n);
	tap_ok(rpw_auth_tx_ctr(&a) == 0x010203040506ULL,
	       "the counter sent is the floor + 1");
}

static void test_codec(void)
{
	struct rpw_frame f = mkframe(3, 5, RPW_T_WHO_PRIMARY, "abcd"), g;
	u8 buf[RPW_MAX_WIRE];

	f.version = RPW_PROTO_VERSION_AUTH;
	tap_ok(rpw_frame_validate(&f) == -RPW_DROP_TYPE,
	       "v2 frame without room for a trailer is invalid");
	f.len = 4 + RPW_AUTH_TRAILER_LEN;
	tap_ok(rpw_frame_validate(&f) == 0,
	       "v2 WHO_PRIMARY: type length checked without the trailer");
	f.len = 5 + RPW_AUTH_TRAILER_LEN;
	tap_ok(rpw_frame_validate(&f) == -RPW_DROP_TYPE,
	       "v2 WHO_PRIMARY with 5 payload bytes is invalid");
	f.len = 4 + RPW_AUTH_TRAILER_LEN;
	tap_ok(wire(&f, &g) == 1 && g.version == RPW_PROTO_VERSION_AUTH &&
	       g.len == f.len, "v2 frame survives encode + deframe");
	/* A v2 frame too short for a trailer, CRC-valid, from the wire. */
	f = mkframe(3, 5, RPW_T_ACK, "");
	f.flags = 0;
	rpw_frame_encode(&f, buf, sizeof(buf));
	tap_ok(wire(&f, &g) == 1 && g.version == RPW_PROTO_VERSION,
	       "v1 ACK still decodes");
	f.version = 3;
	tap_ok(rpw_frame_encode(&f, buf, sizeof(buf)) > 0 &&
	       buf[1] >> 4 == RPW_PROTO_VERSION,
	       "unknown version in struct encodes as v1");
}

/* A rack of two senders (3, 4) and one receiver, one key each. */
static void test_seal_open(void)
{
	struct rpw_auth tx, rx;
	struct keys kt = { 0 }, kr = { 0 };
	struct rpw_frame f, g, h;
	unsigned int i, bad = 0;

	rpw_auth_init(&tx, mac_fn, &kt);
	rpw_auth_init(&rx, mac_fn, &kr);
	f = mkframe(3, 5, RPW_T_DATA, "hello");
	tap_ok(rpw_auth_seal(&tx, &f) == 0 && f.version == RPW_PROTO_VERSION &&
	       f.len == 5 && kt.calls == 0, "mode off: seal leaves the frame");
	tap_ok(rpw_auth_set_mode(&tx, RPW_AUTH_OPTIONAL) == -EINVAL,
	       "optional without a key: -EINVAL");
	install(&tx, &kt, 9);
	install(&rx, &kr, 9);
	tap_ok(rpw_auth_tx_id(&tx) == 9 && rpw_auth_rx_id(&tx) == 0,
	       "first key is the one sent with");
	tap_ok(rpw_auth_set_mode(&tx, RPW_AUTH_REQUIRED) == 0 &&
	       rpw_auth_set_mode(&rx, RPW_AUTH_REQUIRED) == 0, "mode required");
	tap_ok(rpw_auth_set_mode(&rx, 3) == -EINVAL, "mode 3: -EINVAL");

	rpw_auth_ctr_floor(&tx, 1000);
	tap_ok(rpw_auth_seal(&tx, &f) == 0 &&
	       f.version == RPW_PROTO_VERSION_AUTH &&
	       f.len == 5 + RPW_AUTH_TRAILER_LEN, "seal appends the trailer");
	g = f;
	tap_ok(wire(&g, &h) == 1 && rpw_auth_open(&rx, &h) == RPW_AUTH_OK &&
	       h.len == 5 && !memcmp(h.payload, "hello", 5) &&
	       h.version == RPW_PROTO_VERSION_AUTH,
	       "open verifies and strips; the frame stays marked version 2");
	g = f;
	tap_ok(rpw_auth_open(&rx, &g) == RPW_AUTH_REPLAY,
	       "the same frame again: replay");
	tap_ok(rx.slot[0].last[3] == 1001, "replay state: last counter 1001");

	/* Every bit of header, payload and trailer is covered. */
	for (i = 0; i < 8u * (RPW_HDR_LEN + f.len); i++) {
		u8 hdr[RPW_HDR_LEN];

		g = f;
		if (i < 8 * RPW_HDR_LEN) {
			rpw_frame_header(&g, hdr);
			hdr[i / 8] ^= 1 << (i % 8);
			g.version = hdr[0] >> 4;
			g.flags = hdr[0] & 0xf;
			g.type = hdr[1];
			g.dst = hdr[2];
			g.src = hdr[3];
			g.seq = hdr[4];
			g.len = hdr[5];
			/* The codec rejects other versions and lengths. */
			if (g.version != RPW_PROTO_VERSION_AUTH ||
			    g.len != f.len)
				continue;
		} else {
			g.payload[i / 8 - RPW_HDR_LEN] ^= 1 << (i % 8);
		}
		g.version = RPW_PROTO_VERSION_AUTH;
		if (rpw_auth_open(&rx, &g) == RPW_AUTH_OK)
			bad++;
	}
	tap_ok(!bad, "no single-bit change of a sealed frame is accepted (%u were)",
	       bad);

	g = f;
	g.flags ^= RPW_F_RETX;
	tap_ok(rpw_auth_open(&rx, &g) == RPW_AUTH_BAD,
	       "RETX set on a frame sealed without it: bad tag");

	/* Counters: strictly increasing per sender, independent senders. */
	f = mkframe(3, 5, RPW_T_DATA, "a");
	rpw_auth_seal(&tx, &f);
	g = mkframe(3, 5, RPW_T_DATA, "b");
	rpw_auth_seal(&tx, &g);
	tap_ok(rpw_auth_open(&rx, &g) == RPW_AUTH_OK,
	       "counter 1003 accepted");
	tap_ok(rpw_auth_open(&rx, &f) == RPW_AUTH_REPLAY,
	       "counter 1002 after 1003: replay (a bus does not reorder)");
	f = mkframe(4, 5, RPW_T_DATA, "c");
	rpw_auth_ctr_floor(&tx, 5);
	tap_ok(rpw_auth_tx_ctr(&tx) == 1003, "a lower floor changes nothing");
	rpw_auth_seal(&tx, &f);
	tap_ok(rpw_auth_open(&rx, &f) == RPW_AUTH_OK,
	       "another sender's counter is its own");
	tap_ok(rx.slot[0].last[4] == 1004 && rx.slot[0].last[3] == 1003,
	       "per-sender state");

	/* Modes on the receive side. */
	f = mkframe(3, 5, RPW_T_DATA, "plain");
	tap_ok(rpw_auth_open(&rx, &f) == RPW_AUTH_MISSING,
	       "required: plain frame is missing authentication");
	rpw_auth_set_mode(&rx, RPW_AUTH_OPTIONAL);
	tap_ok(rpw_auth_open(&rx, &f) == RPW_AUTH_OK && f.len == 5,
	       "optional: plain frame accepted unchanged");
	rpw_auth_set_mode(&rx, RPW_AUTH_OFF);
	f = mkframe(3, 5, RPW_T_DATA, "x");
	rpw_auth_seal(&tx, &f);
	tap_ok(rpw_auth_open(&rx, &f) == RPW_AUTH_OK,
	       "off: a verified frame is still accepted");
	g = mkframe(3, 5, RPW_T_DATA, "x");
	rpw_auth_seal(&tx, &g);
	g.payload[1] = 77;	/* key id */
	tap_ok(rpw_auth_open(&rx, &g) == RPW_AUTH_BAD, "unknown key id: bad");

	/* Sender side limits. */
	memset(&f, 0, sizeof(f));
	f = mkframe(3, 5, RPW_T_DATA, "");
	f.len = RPW_AUTH_MAX_PAYLOAD + 1;
	tap_ok(rpw_auth_seal(&tx, &f) == -EMSGSIZE && f.len ==
	       RPW_AUTH_MAX_PAYLOAD + 1, "payload over 49 bytes: -EMSGSIZE");
	f.len = RPW_AUTH_MAX_PAYLOAD;
	tap_ok(rpw_auth_seal(&tx, &f) == 0 && f.len == RPW_MAX_PAYLOAD &&
	       rpw_frame_validate(&f) == 0, "49 bytes + trailer = 64: valid");
	kt.fail = true;
	f = mkframe(3, 5, RPW_T_DATA, "z");
	i = (unsigned int)rpw_auth_tx_ctr(&tx);
	tap_ok(rpw_auth_seal(&tx, &f) == -EIO && f.len == 1 &&
	       f.version == RPW_PROTO_VERSION && rpw_auth_tx_ctr(&tx) == i + 1,
	       "MAC error: frame unchanged, the counter is not reused");
	kt.fail = false;
	rpw_auth_ctr_floor(&tx, RPW_AUTH_CTR_MAX - 1);
	tap_ok(rpw_auth_seal(&tx, &f) == 0 &&
	       rpw_auth_seal(&tx, &g) == -EOVERFLOW,
	       "48-bit counter exhausted: -EOVERFLOW, never wraps");
	rpw_auth_ctr_floor(&tx, RPW_AUTH_CTR_MAX + 5);
	tap_ok(rpw_auth_tx_ctr(&tx) == RPW_AUTH_CTR_MAX,
	       "floor masked to 48 bits");
}

/* Rotation: install next, switch, retire; and the slot rules. */
static void test_rotation(void)
{
	struct rpw_auth a, b, c;
	struct keys ka = { 0 }, kb = { 0 }, kc = { 0 };
	struct rpw_frame f, g;

	rpw_auth_init(&a, mac_fn, &ka);
	rpw_auth_init(&b, mac_fn, &kb);
	rpw_auth_init(&c, mac_fn, &kc);
	install(&a, &ka, 1);
	install(&b, &kb, 1);
	install(&c, &kc, 1);
	rpw_auth_set_mode(&a, RPW_AUTH_REQUIRED);
	rpw_auth_set_mode(&b, RPW_AUTH_REQUIRED);
	rpw_auth_set_mode(&c, RPW_AUTH_REQUIRED);

	/* Step 1: key 2 everywhere, accepted, not sent with. */
	install(&a, &ka, 2);
	install(&b, &kb, 2);
	tap_ok(rpw_auth_tx_id(&a) == 1 && rpw_auth_rx_id(&a) == 2,
	       "step 1: key 2 accepted, key 1 still sent with");
	/* Step 2: a switches first; c has not even installed key 2 yet. */
	tap_ok(rpw_auth_key_use(&a, 2) == 0 && rpw_auth_tx_id(&a) == 2,
	       "step 2: a sends with key 2");
	f = mkframe(1, 0xff, RPW_T_DATA, "r1");
	rpw_auth_seal(&a, &f);
	tap_ok(rpw_auth_open(&b, &f) == RPW_AUTH_OK,
	       "b holds both keys: accepts a's key-2 frame");
	f = mkframe(2, 0xff, RPW_T_DATA, "r2");
	rpw_auth_seal(&b, &f);
	tap_ok(rpw_auth_open(&a, &f) == RPW_AUTH_OK,
	       "a still accepts b's key-1 frame");
	f = mkframe(1, 0xff, RPW_T_DATA, "r3");
	rpw_auth_seal(&a, &f);
	tap_ok(rpw_auth_open(&c, &f) == RPW_AUTH_BAD,
	       "c without key 2: a's frame is bad (why step 1 comes first)");
	tap_ok(rpw_auth_key_use(&a, 3) == -ENOENT, "use of a key not held: -ENOENT");

	/* Step 3: retire key 1. */
	tap_ok(rpw_auth_key_remove(&b, 1) == -EBUSY,
	       "removing the key sent with while the mode sends: -EBUSY");
	rpw_auth_key_use(&b, 2);
	tap_ok(rpw_auth_key_remove(&b, 1) == 0 && rpw_auth_tx_id(&b) == 2 &&
	       rpw_auth_rx_id(&b) == 0, "step 3: key 1 gone, key 2 sent with");
	tap_ok(rpw_auth_key_remove(&b, 1) == -ENOENT, "remove twice: -ENOENT");
	f = mkframe(3, 0xff, RPW_T_DATA, "old");
	rpw_auth_seal(&c, &f);
	tap_ok(rpw_auth_open(&b, &f) == RPW_AUTH_BAD,
	       "a frame under the retired key is bad");

	/* Slot choice. */
	tap_ok(rpw_auth_key_slot(&a, 0) == -EINVAL, "key id 0: -EINVAL");
	tap_ok(rpw_auth_key_slot(&a, 2) == rpw_auth_slot_of(&a, 2),
	       "an installed id gets its own slot back");
	install(&a, &ka, 7);
	tap_ok(rpw_auth_tx_id(&a) == 2 && rpw_auth_rx_id(&a) == 7 &&
	       rpw_auth_slot_of(&a, 1) == -ENOENT,
	       "both slots full: a new key replaces the one not sent with");
	f = mkframe(2, 0xff, RPW_T_DATA, "x");
	rpw_auth_seal(&b, &f);
	g = f;
	tap_ok(rpw_auth_open(&a, &g) == RPW_AUTH_OK, "sender 2 accepted");
	g = f;
	tap_ok(rpw_auth_open(&a, &g) == RPW_AUTH_REPLAY, "... once");
	install(&a, &ka, 2);
	g = f;
	tap_ok(rpw_auth_open(&a, &g) == RPW_AUTH_OK,
	       "key re-installed: its replay state starts afresh");
	rpw_auth_set_mode(&c, RPW_AUTH_OFF);
	tap_ok(rpw_auth_key_remove(&c, 1) == 0 && rpw_auth_tx_id(&c) == 0 &&
	       rpw_auth_set_mode(&c, RPW_AUTH_REQUIRED) == -EINVAL,
	       "mode off: the last key can go; then no mode that sends");
}

int main(void)
{
	test_rfc4231();
	test_vector();
	test_codec();
	test_seal_open();
	test_rotation();
	return tap_done();
}
