// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the rackpwr frame codec (driver/rpw_frame.c).
 *
 * 1. The input is a byte stream for the deframer.  Every frame it accepts
 *    must pass rpw_frame_validate(), re-encode within RPW_MAX_WIRE, and
 *    decode again to the identical frame with nothing counted as dropped.
 * 2. The input's first bytes are also taken as an arbitrary struct
 *    rpw_frame for the encoder: it must either refuse it (-EINVAL, and
 *    validate agrees) or produce bytes that decode to the same frame.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpw_frame.h"

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n",		\
			__FILE__, __LINE__, #cond);			\
		abort();						\
	}								\
} while (0)

static bool frame_eq(const struct rpw_frame *a, const struct rpw_frame *b)
{
	return a->version == b->version && a->flags == b->flags &&
	       a->type == b->type && a->dst == b->dst && a->src == b->src &&
	       a->seq == b->seq && a->len == b->len &&
	       !memcmp(a->payload, b->payload, a->len);
}

static u32 drops_total(const struct rpw_deframer *d)
{
	u32 sum = 0;
	int i;

	for (i = 0; i < RPW_DROP__MAX; i++)
		sum += d->stats.drops[i];
	return sum;
}

/* @f must encode, and its encoding must decode to exactly @f. */
static void check_roundtrip(const struct rpw_frame *f)
{
	struct rpw_deframer d;
	struct rpw_frame out;
	u8 wire[RPW_MAX_WIRE + 1];
	int n, i, ret, got = 0;

	n = rpw_frame_encode(f, wire, RPW_MAX_WIRE);
	CHECK(n >= 2 + RPW_HDR_LEN + RPW_FCS_LEN && n <= RPW_MAX_WIRE);
	CHECK(rpw_frame_encode(f, wire, n - 1) == -ENOSPC);
	CHECK(rpw_frame_encode(f, wire, n) == n);

	rpw_deframer_init(&d);
	for (i = 0; i < n; i++) {
		ret = rpw_deframer_feed(&d, wire[i], &out);
		CHECK(ret == 0 || ret == 1);
		if (ret == 1) {
			CHECK(i == n - 1);
			CHECK(frame_eq(&out, f));
			got++;
		}
	}
	CHECK(got == 1 && drops_total(&d) == 0 && d.stats.frames == 1);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct rpw_deframer d;
	struct rpw_frame out, f;
	u32 frames = 0, drops = 0;
	size_t i;
	int ret;

	rpw_deframer_init(&d);
	for (i = 0; i < size; i++) {
		ret = rpw_deframer_feed(&d, data[i], &out);
		CHECK(ret <= 1 && ret > -RPW_DROP__MAX);
		if (ret == 1) {
			frames++;
			CHECK(out.version == RPW_PROTO_VERSION ||
			      out.version == RPW_PROTO_VERSION_AUTH);
			CHECK(rpw_frame_validate(&out) == 0);
			CHECK(strcmp(rpw_type_name(out.type), "unknown"));
			check_roundtrip(&out);
		} else if (ret < 0) {
			drops++;
			CHECK(strcmp(rpw_drop_name(-ret), "unknown"));
		}
		/* Mid-stream reset must be harmless wherever it lands. */
		if (size > 1 && i == (size_t)data[0] * 3)
			rpw_deframer_reset(&d);
	}
	CHECK(d.stats.bytes == size && d.stats.frames == frames);
	CHECK(drops_total(&d) == drops);

	memset(&f, 0, sizeof(f));
	memcpy(&f, data, size < sizeof(f) ? size : sizeof(f));
	f.version = RPW_PROTO_VERSION;
	ret = rpw_frame_validate(&f);
	if (ret == 0) {
		check_roundtrip(&f);
	} else {
		u8 wire[RPW_MAX_WIRE];

		CHECK(ret < 0 && ret > -RPW_DROP__MAX);
		CHECK(rpw_frame_encode(&f, wire, sizeof(wire)) == -EINVAL);
	}
	return 0;
}
