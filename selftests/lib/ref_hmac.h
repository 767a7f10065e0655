/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reference HMAC-SHA256 for the host tests, simulators and benchmarks of
 * authenticated frames (driver/rpw_auth.c).  Written for the tests from
 * FIPS 180-4 and RFC 2104, independent of the kernel's crypto API, and
 * checked against the RFC 4231 vectors in selftests/unit/test_auth.c.
 */
#ifndef _RPW_REF_HMAC_H
#define _RPW_REF_HMAC_H

#include <stddef.h>
#include <stdint.h>

#define REF_SHA256_LEN		32
#define REF_SHA256_BLOCK	64

void ref_sha256(const uint8_t *msg, size_t len, uint8_t out[REF_SHA256_LEN]);
void ref_hmac_sha256(const uint8_t *key, size_t klen, const uint8_t *msg,
		     size_t len, uint8_t out[REF_SHA256_LEN]);

#endif /* _RPW_REF_HMAC_H */
