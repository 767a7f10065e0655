// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reference HMAC-SHA256 (FIPS 180-4, RFC 2104) for the host tests: simple
 * and slow, one message at a time, no streaming.
 */
#include <string.h>

#include "ref_hmac.h"

static const uint32_t k256[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror(uint32_t x, unsigned int n)
{
	return (x >> n) | (x << (32 - n));
}

static void block(uint32_t h[8], const uint8_t *p)
{
	uint32_t w[64], v[8], t1, t2;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (i = 16; i < 64; i++)
		w[i] = w[i - 16] + w[i - 7] +
		       (ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3)) +
		       (ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10));
	memcpy(v, h, sizeof(v));
	for (i = 0; i < 64; i++) {
		t1 = v[7] + (ror(v[4], 6) ^ ror(v[4], 11) ^ ror(v[4], 25)) +
		     ((v[4] & v[5]) ^ (~v[4] & v[6])) + k256[i] + w[i];
		t2 = (ror(v[0], 2) ^ ror(v[0], 13) ^ ror(v[0], 22)) +
		     ((v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]));
		memmove(v + 1, v, 7 * sizeof(v[0]));
		v[4] += t1;
		v[0] = t1 + t2;
	}
	for (i = 0; i < 8; i++)
		h[i] += v[i];
}

/* SHA-256 of @a then @b (HMAC hashes a pad block followed by data). */
static void sha256_2(const uint8_t *a, size_t alen, const uint8_t *b,
		     size_t blen, uint8_t out[REF_SHA256_LEN])
{
	uint32_t h[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};
	uint8_t buf[REF_SHA256_BLOCK];
	uint64_t bits = (uint64_t)(alen + blen) * 8;
	size_t total = alen + blen, pos = 0, n = 0, i;

	for (pos = 0; pos < total; pos++) {
		buf[n++] = pos < alen ? a[pos] : b[pos - alen];
		if (n == REF_SHA256_BLOCK) {
			block(h, buf);
			n = 0;
		}
	}
	buf[n++] = 0x80;
	if (n > REF_SHA256_BLOCK - 8) {
		memset(buf + n, 0, REF_SHA256_BLOCK - n);
		block(h, buf);
		n = 0;
	}
	memset(buf + n, 0, REF_SHA256_BLOCK - 8 - n);
	for (i = 0; i < 8; i++)
		buf[REF_SHA256_BLOCK - 1 - i] = (uint8_t)(bits >> (8 * i));
	block(h, buf);
	for (i = 0; i < 8; i++) {
		out[4 * i] = h[i] >> 24;
		out[4 * i + 1] = h[i] >> 16;
		out[4 * i + 2] = h[i] >> 8;
		out[4 * i + 3] = h[i];
	}
}

void ref_sha256(const uint8_t *msg, size_t len, uint8_t out[REF_SHA256_LEN])
{
	sha256_2(msg, len, NULL, 0, out);
}

void ref_hmac_sha256(const uint8_t *key, size_t klen, const uint8_t *msg,
		     size_t len, uint8_t out[REF_SHA256_LEN])
{
	uint8_t k[REF_SHA256_BLOCK] = { 0 }, pad[REF_SHA256_BLOCK];
	uint8_t inner[REF_SHA256_LEN];
	size_t i;

	if (klen > REF_SHA256_BLOCK)
		ref_sha256(key, klen, k);
	else
		memcpy(k, key, klen);
	for (i = 0; i < REF_SHA256_BLOCK; i++)
		pad[i] = k[i] ^ 0x36;
	sha256_2(pad, sizeof(pad), msg, len, inner);
	for (i = 0; i < REF_SHA256_BLOCK; i++)
		pad[i] = k[i] ^ 0x5c;
	sha256_2(pad, sizeof(pad), inner, sizeof(inner), out);
}
