// SPDX-License-Identifier: GPL-2.0-only
/*
 * rackpwr - frame codec: encoder and byte-wise deframer.
 *
 * Pure logic shared by the kernel module and the user-space tests: no
 * allocation, no locking, no clocks.  The caller serialises access to one
 * struct rpw_deframer.  Wire format: see rpw_proto.h and
 * Documentation/networking/rackpwr-protocol.rst.
 */

#include "rpw_compat.h"
#include "rpw_frame.h"

enum rpw_rx_state {
	RPW_RX_HUNT = 0,	/* no flag seen yet: bytes are garbage */
	RPW_RX_BODY,		/* collecting a body after a flag */
	RPW_RX_ESC,		/* previous byte was RPW_ESC */
	RPW_RX_SKIP,		/* frame already dropped: wait for a flag */
};

/*
 * The single table of frame types: name and allowed payload length range,
 * from the sizes of the payload structs in rpw_proto.h (the election's from
 * the fields listed beside their type constants).  Allocation payloads are
 * a header and whole entries: @step is the entry size; a capacity payload
 * may carry a policy digest at its end: @step is the digest's size.  A
 * length is valid from @min_len in whole steps; 0: any in the range.
 */
struct rpw_type_info {
	u8 type;
	u8 min_len;
	u8 max_len;
	u8 step;
	const char *name;
};

#define RPW_PWR_TYPE(t, ent, n) \
	{ t, RPW_PWR_HDR_LEN + sizeof(ent), RPW_PWR_MAX_LEN(sizeof(ent)), \
	  sizeof(ent), n }

/* type, min_len, max_len, step, name */
static const struct rpw_type_info rpw_types[] = {
	{ RPW_T_ACK, 0, 0, 0, "ack" },
	{ RPW_T_DATA, 0, RPW_MAX_PAYLOAD, 0, "data" },
	{ RPW_T_WHO_PRIMARY, RPW_LEN_EPOCH, RPW_LEN_EPOCH, 0, "who_primary" },
	{ RPW_T_PRIMARY, RPW_LEN_CLAIM, RPW_LEN_CLAIM, 0, "primary" },
	{ RPW_T_HEARTBEAT, RPW_LEN_CLAIM, RPW_LEN_CLAIM, 0, "heartbeat" },
	{ RPW_T_HEARTBEAT_ACK, RPW_LEN_EPOCH, RPW_LEN_EPOCH, 0,
	  "heartbeat_ack" },
	{ RPW_T_STEP_DOWN, RPW_LEN_EPOCH, RPW_LEN_EPOCH, 0, "step_down" },
	{ RPW_T_CAP_QUERY, RPW_CAP_QUERY_LEN, RPW_CAP_QUERY_DIGEST_LEN,
	  RPW_CAP_DIGEST_LEN, "cap_query" },
	{ RPW_T_CAP_REPORT, RPW_CAP_REPORT_LEN, RPW_CAP_REPORT_DIGEST_LEN,
	  RPW_CAP_DIGEST_LEN, "cap_report" },
	RPW_PWR_TYPE(RPW_T_PWR_REQUEST, struct rpw_pwr_req, "pwr_request"),
	RPW_PWR_TYPE(RPW_T_PWR_ANSWER, struct rpw_pwr_ans, "pwr_answer"),
	RPW_PWR_TYPE(RPW_T_PWR_CONFIRM, struct rpw_pwr_conf, "pwr_confirm"),
	RPW_PWR_TYPE(RPW_T_PWR_RELEASE, struct rpw_pwr_stmt, "pwr_release"),
	RPW_PWR_TYPE(RPW_T_SHED_REQUEST, struct rpw_pwr_shed, "shed_request"),
	RPW_PWR_TYPE(RPW_T_SHED_DONE, struct rpw_pwr_stmt, "shed_done"),
	{ RPW_T_INV_QUERY, RPW_PWR_HDR_LEN, RPW_PWR_HDR_LEN, 0, "inv_query" },
	RPW_PWR_TYPE(RPW_T_INV_REPORT, struct rpw_inv_ent, "inv_report"),
	{ RPW_T_TEST, 0, RPW_MAX_PAYLOAD, 0, "test" },
};

static const char * const rpw_drop_names[RPW_DROP__MAX] = {
	[RPW_DROP_NONE]		= "none",
	[RPW_DROP_CRC]		= "crc",
	[RPW_DROP_SHORT]	= "short",
	[RPW_DROP_OVERSIZE]	= "oversize",
	[RPW_DROP_ESCAPE]	= "escape",
	[RPW_DROP_VERSION]	= "version",
	[RPW_DROP_LENGTH]	= "length",
	[RPW_DROP_ADDR]		= "addr",
	[RPW_DROP_TYPE]		= "type",
	[RPW_DROP_GARBAGE]	= "garbage",
};

static const struct rpw_type_info *rpw_type_lookup(u8 type)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(rpw_types); i++)
		if (rpw_types[i].type == type)
			return &rpw_types[i];
	return NULL;
}

bool rpw_type_len_ok(u8 type, u8 len)
{
	const struct rpw_type_info *ti = rpw_type_lookup(type);

	if (!ti || len < ti->min_len || len > ti->max_len)
		return false;
	return !ti->step || (len - ti->min_len) % ti->step == 0;
}

const char *rpw_type_name(u8 type)
{
	const struct rpw_type_info *ti = rpw_type_lookup(type);

	return ti ? ti->name : "unknown";
}

const char *rpw_drop_name(enum rpw_drop why)
{
	if ((unsigned int)why >= RPW_DROP__MAX)
		return "unknown";
	return rpw_drop_names[why];
}

/* Version 1, or version 2: authenticated (rpw_auth.h). */
static bool rpw_version_ok(u8 version)
{
	return version == RPW_PROTO_VERSION ||
	       version == RPW_PROTO_VERSION_AUTH;
}

/*
 * Header checks after framing, CRC and the len/body consistency have been
 * verified; the encoder runs the same checks so that it can never emit a
 * frame a peer would drop.  Reserved flag bits must be zero when sending;
 * the deframer masks them off on receipt (see rpw_deframer_feed()).
 */
static int rpw_check(u8 version, u8 flags, u8 type, u8 dst, u8 src, u8 len)
{
	if (!rpw_version_ok(version) || (flags & ~(RPW_F_MASK | RPW_F_MORE)))
		return -RPW_DROP_VERSION;
	if (len > RPW_MAX_PAYLOAD)
		return -RPW_DROP_LENGTH;
	if (src < RPW_ADDR_MIN || src > RPW_ADDR_MAX || dst == RPW_ADDR_NONE)
		return -RPW_DROP_ADDR;
	/* The trailer of an authenticated frame is not the type's payload. */
	if (version == RPW_PROTO_VERSION_AUTH) {
		if (len < RPW_AUTH_TRAILER_LEN)
			return -RPW_DROP_TYPE;
		len -= RPW_AUTH_TRAILER_LEN;
	}
	if (!rpw_type_len_ok(type, len))
		return -RPW_DROP_TYPE;
	/* Nobody could answer a broadcast ACKREQ without colliding. */
	if (dst == RPW_ADDR_BCAST && (flags & RPW_F_ACKREQ))
		return -RPW_DROP_TYPE;
	/* An ACK asking for an ACK would ping-pong forever. */
	if (type == RPW_T_ACK &&
	    ((flags & RPW_F_ACKREQ) || dst == RPW_ADDR_BCAST))
		return -RPW_DROP_TYPE;
	return 0;
}

static u8 rpw_wire_version(const struct rpw_frame *f)
{
	return f->version == RPW_PROTO_VERSION_AUTH ? RPW_PROTO_VERSION_AUTH :
						      RPW_PROTO_VERSION;
}

void rpw_frame_header(const struct rpw_frame *f, u8 *hdr)
{
	hdr[0] = (rpw_wire_version(f) << 4) | (f->flags & RPW_F_MASK);
	hdr[1] = f->type;
	hdr[2] = f->dst;
	hdr[3] = f->src;
	hdr[4] = f->seq;
	hdr[5] = f->len | (f->flags & RPW_F_MORE ? RPW_LEN_MORE : 0);
}

int rpw_frame_validate(const struct rpw_frame *f)
{
	return rpw_check(f->version, f->flags, f->type, f->dst, f->src,
			 f->len);
}

static u16 rpw_fcs(const u8 *hdr, const u8 *payload, size_t len)
{
	u16 crc = crc_ccitt(0xffff, hdr, RPW_HDR_LEN);

	return crc_ccitt(crc, payload, len) ^ 0xffff;
}

/* Append @b escaped; false when @out is full. */
static bool rpw_put(u8 *out, size_t outlen, size_t *pos, u8 b)
{
	if (b == RPW_FLAG || b == RPW_ESC) {
		if (outlen - *pos < 2)
			return false;
		out[(*pos)++] = RPW_ESC;
		out[(*pos)++] = b ^ RPW_ESC_XOR;
		return true;
	}
	if (outlen - *pos < 1)
		return false;
	out[(*pos)++] = b;
	return true;
}

int rpw_frame_encode(const struct rpw_frame *f, u8 *out, size_t outlen)
{
	u8 hdr[RPW_HDR_LEN];
	u8 fcs[RPW_FCS_LEN];
	size_t pos = 0;
	size_t i;
	int ret;

	ret = rpw_check(rpw_wire_version(f), f->flags, f->type, f->dst, f->src,
			f->len);
	if (ret)
		return -EINVAL;

	rpw_frame_header(f, hdr);
	put_unaligned_le16(rpw_fcs(hdr, f->payload, f->len), fcs);

	if (outlen < 2)
		return -ENOSPC;
	out[pos++] = RPW_FLAG;
	for (i = 0; i < RPW_HDR_LEN; i++)
		if (!rpw_put(out, outlen, &pos, hdr[i]))
			return -ENOSPC;
	for (i = 0; i < f->len; i++)
		if (!rpw_put(out, outlen, &pos, f->payload[i]))
			return -ENOSPC;
	for (i = 0; i < RPW_FCS_LEN; i++)
		if (!rpw_put(out, outlen, &pos, fcs[i]))
			return -ENOSPC;
	if (pos >= outlen)
		return -ENOSPC;
	out[pos++] = RPW_FLAG;
	return pos;
}

void rpw_deframer_reset(struct rpw_deframer *d)
{
	/* Mid-frame position is unknown: wait for the next flag. */
	d->state = RPW_RX_HUNT;
	d->pos = 0;
}

void rpw_deframer_init(struct rpw_deframer *d)
{
	memset(d, 0, sizeof(*d));
	rpw_deframer_reset(d);
}

static int rpw_drop(struct rpw_deframer *d, enum rpw_drop why)
{
	d->stats.drops[why]++;
	return -why;
}

/* A flag closed a non-empty body: validate it in the documented order. */
static int rpw_deframer_finish(struct rpw_deframer *d, struct rpw_frame *out)
{
	const u8 *b = d->body;
	unsigned int plen;
	u16 fcs;
	int ret;

	if (d->pos < RPW_HDR_LEN + RPW_FCS_LEN)
		return rpw_drop(d, RPW_DROP_SHORT);

	plen = d->pos - RPW_HDR_LEN - RPW_FCS_LEN;
	fcs = get_unaligned_le16(b + d->pos - RPW_FCS_LEN);
	if (rpw_fcs(b, b + RPW_HDR_LEN, plen) != fcs)
		return rpw_drop(d, RPW_DROP_CRC);
	if (!rpw_version_ok(b[0] >> 4))
		return rpw_drop(d, RPW_DROP_VERSION);
	if ((b[5] & ~RPW_LEN_MORE) != plen)
		return rpw_drop(d, RPW_DROP_LENGTH);

	/*
	 * Reserved flag bits are ignored so that a later revision can use
	 * them for hints that old receivers may safely skip.
	 */
	ret = rpw_check(b[0] >> 4, b[0] & RPW_F_MASK, b[1], b[2], b[3], plen);
	if (ret)
		return rpw_drop(d, -ret);

	memset(out, 0, sizeof(*out));
	out->version = b[0] >> 4;
	out->flags = (b[0] & RPW_F_MASK) |
		     (b[5] & RPW_LEN_MORE ? RPW_F_MORE : 0);
	out->type = b[1];
	out->dst = b[2];
	out->src = b[3];
	out->seq = b[4];
	out->len = plen;
	memcpy(out->payload, b + RPW_HDR_LEN, plen);
	d->stats.frames++;
	return 1;
}

static int rpw_deframer_store(struct rpw_deframer *d, u8 byte)
{
	if (d->pos >= RPW_MAX_BODY) {
		/* Counted once; the rest up to the next flag is skipped. */
		d->state = RPW_RX_SKIP;
		d->pos = 0;
		return rpw_drop(d, RPW_DROP_OVERSIZE);
	}
	d->body[d->pos++] = byte;
	return 0;
}

int rpw_deframer_feed(struct rpw_deframer *d, u8 byte, struct rpw_frame *out)
{
	int ret = 0;

	d->stats.bytes++;

	switch (d->state) {
	case RPW_RX_HUNT:
		if (byte == RPW_FLAG) {
			d->state = RPW_RX_BODY;
			d->pos = 0;
			return 0;
		}
		return rpw_drop(d, RPW_DROP_GARBAGE);

	case RPW_RX_SKIP:
		if (byte == RPW_FLAG) {
			d->state = RPW_RX_BODY;
			d->pos = 0;
		}
		return 0;

	case RPW_RX_ESC:
		if (byte == RPW_FLAG) {
			/* Abort sequence; this flag opens the next frame. */
			d->state = RPW_RX_BODY;
			d->pos = 0;
			return rpw_drop(d, RPW_DROP_ESCAPE);
		}
		byte ^= RPW_ESC_XOR;
		if (byte != RPW_FLAG && byte != RPW_ESC) {
			d->state = RPW_RX_SKIP;
			d->pos = 0;
			return rpw_drop(d, RPW_DROP_ESCAPE);
		}
		d->state = RPW_RX_BODY;
		return rpw_deframer_store(d, byte);

	case RPW_RX_BODY:
	default:
		break;
	}

	if (byte == RPW_ESC) {
		d->state = RPW_RX_ESC;
		return 0;
	}
	if (byte != RPW_FLAG)
		return rpw_deframer_store(d, byte);

	/* Closing flag; it also opens the next body.  Empty body = idle fill. */
	if (d->pos)
		ret = rpw_deframer_finish(d, out);
	d->state = RPW_RX_BODY;
	d->pos = 0;
	return ret;
}
