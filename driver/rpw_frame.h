/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rackpwr - frame codec: encoder and byte-wise deframer (pure logic).
 */
#ifndef _RPW_FRAME_H
#define _RPW_FRAME_H

#include "rpw_proto.h"

struct rpw_frame {
	u8 version;
	u8 flags;		/* RPW_F_* */
	u8 type;		/* enum rpw_type */
	u8 dst;
	u8 src;
	u8 seq;
	u8 len;			/* payload length, <= RPW_MAX_PAYLOAD */
	u8 payload[RPW_MAX_PAYLOAD];
};

/* Why the deframer dropped bytes; each has a counter. */
enum rpw_drop {
	RPW_DROP_NONE = 0,
	RPW_DROP_CRC,		/* FCS mismatch */
	RPW_DROP_SHORT,		/* flag-delimited body shorter than hdr+fcs */
	RPW_DROP_OVERSIZE,	/* body exceeded RPW_MAX_BODY before a flag */
	RPW_DROP_ESCAPE,	/* 0x7d followed by flag or invalid byte */
	RPW_DROP_VERSION,	/* unknown protocol version */
	RPW_DROP_LENGTH,	/* len field disagrees with body size */
	RPW_DROP_ADDR,		/* src 0/broadcast, or dst 0 */
	RPW_DROP_TYPE,		/* unknown type or payload length wrong for it */
	RPW_DROP_GARBAGE,	/* bytes outside any frame (between flags) */
	RPW_DROP__MAX,
};

struct rpw_deframer_stats {
	u32 frames;			/* good frames returned */
	u32 bytes;			/* every byte fed */
	u32 drops[RPW_DROP__MAX];	/* events (frames); GARBAGE counts bytes */
};

struct rpw_deframer {
	u8 state;			/* private */
	u16 pos;			/* private: body bytes collected */
	u8 body[RPW_MAX_BODY];		/* private */
	struct rpw_deframer_stats stats;
};

void rpw_deframer_init(struct rpw_deframer *d);
/* Forget a partial frame (e.g. after a collision); counts nothing. */
void rpw_deframer_reset(struct rpw_deframer *d);

/*
 * Feed one received byte.  Returns 1 when @out holds a complete, validated
 * frame, 0 when more bytes are needed, or -(enum rpw_drop) when a frame was
 * discarded (already counted in @d->stats).
 */
int rpw_deframer_feed(struct rpw_deframer *d, u8 byte, struct rpw_frame *out);

/*
 * Encode @f (version is forced to RPW_PROTO_VERSION) into @out.  Returns the
 * number of wire bytes including both flags, -EINVAL for a frame that
 * rpw_frame_validate() rejects, or -ENOSPC if @outlen is too small.
 * RPW_MAX_WIRE always suffices.
 */
int rpw_frame_encode(const struct rpw_frame *f, u8 *out, size_t outlen);

/* Header/type/length checks shared by encoder and deframer: 0 or -(rpw_drop). */
int rpw_frame_validate(const struct rpw_frame *f);

/*
 * Whether @len is a valid payload length for @type; false for unknown
 * types.  Allocation types (0x3_) need the header plus whole entries; that
 * the header's count matches is checked by their parser (rpw_alloc.c).
 */
bool rpw_type_len_ok(u8 type, u8 len);

const char *rpw_type_name(u8 type);
const char *rpw_drop_name(enum rpw_drop why);

#endif /* _RPW_FRAME_H */
