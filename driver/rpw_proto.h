/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rackpwr - RS-485 wire protocol constants, version 1.
 *
 * Documentation/networking/rackpwr-protocol.rst is the normative text; keep
 * the two in step.  Everything on the wire is little-endian.
 *
 *   0x7E | ver:4 flags:4 | type | dst | src | seq | len | payload[len] | fcs16 | 0x7E
 *
 * Between the flags, 0x7E and 0x7D are sent as 0x7D, byte ^ 0x20.  The FCS is
 * crc_ccitt(0xffff, header+payload) ^ 0xffff, low byte first (the HDLC /
 * BACnet MS/TP data CRC), computed before escaping.
 */
#ifndef _RPW_PROTO_H
#define _RPW_PROTO_H

#include "rpw_compat.h"

#define RPW_PROTO_VERSION	1
/*
 * Version 2: an authenticated frame (rpw_auth.h, the protocol document's
 * "Authenticated frames").  Same header; the payload ends in a trailer
 *
 *   payload[n] | key_id:u8 | counter:le48 | tag[8]
 *
 * counted in len, so the type's length rules apply to n = len - 15.
 */
#define RPW_PROTO_VERSION_AUTH	2
#define RPW_AUTH_KEYID_LEN	1
#define RPW_AUTH_CTR_LEN	6
#define RPW_AUTH_TAG_LEN	8
#define RPW_AUTH_TRAILER_LEN	(RPW_AUTH_KEYID_LEN + RPW_AUTH_CTR_LEN + \
				 RPW_AUTH_TAG_LEN)

#define RPW_FLAG		0x7e
#define RPW_ESC			0x7d
#define RPW_ESC_XOR		0x20

#define RPW_HDR_LEN		6	/* ver/flags, type, dst, src, seq, len */
#define RPW_FCS_LEN		2
#define RPW_MAX_PAYLOAD		64
#define RPW_MAX_BODY		(RPW_HDR_LEN + RPW_MAX_PAYLOAD + RPW_FCS_LEN)
/* What an authenticated frame leaves of the payload for its type. */
#define RPW_AUTH_MAX_PAYLOAD	(RPW_MAX_PAYLOAD - RPW_AUTH_TRAILER_LEN)
/* Worst case on the wire: every body byte escaped, plus two flags. */
#define RPW_MAX_WIRE		(2 + 2 * RPW_MAX_BODY)

/* Addresses: 0 is never valid, 0xff is broadcast (destination only). */
#define RPW_ADDR_NONE		0x00
#define RPW_ADDR_MIN		0x01
#define RPW_ADDR_MAX		0xfe
#define RPW_ADDR_BCAST		0xff

/* Low nibble of byte 0. */
#define RPW_F_ACKREQ		BIT(0)	/* unicast: receiver must send ACK */
#define RPW_F_RETX		BIT(1)	/* retransmission of an earlier seq */
/* Sent with urgent access (MAC): does not move the slot order. */
#define RPW_F_PRIO		BIT(2)
/* Urgent answers follow: the U-point after this frame is theirs. */
#define RPW_F_ANS		BIT(3)
#define RPW_F_MASK		(RPW_F_ACKREQ | RPW_F_RETX | RPW_F_PRIO | RPW_F_ANS)
/*
 * More frames of this bus access follow back to back (MAC bursts): the
 * U-point after this frame is nobody's.  On the wire bit 7 of the length
 * byte (lengths are <= 64), in struct rpw_frame a flag like the others.
 */
#define RPW_F_MORE		BIT(4)
#define RPW_LEN_MORE		0x80

/*
 * Frame types.  Ranges: 0x0_ link, 0x1_ election, 0x2_ capacity,
 * 0x3_ power allocation, 0x7_ test/diagnostic.  Payload layouts are in
 * the protocol document; lengths are enforced by rpw_type_len_ok().
 */
enum rpw_type {
	RPW_T_ACK		= 0x01,	/* seq = acknowledged seq, len 0 */
	RPW_T_DATA		= 0x02,	/* opaque datagram, 0..64 bytes */

	RPW_T_WHO_PRIMARY	= 0x10,	/* epoch:le32 */
	RPW_T_PRIMARY		= 0x11,	/* epoch:le32 lease_ms:le16 acker:u8 */
	RPW_T_HEARTBEAT		= 0x12,	/* epoch:le32 lease_ms:le16 acker:u8 */
	RPW_T_HEARTBEAT_ACK	= 0x13,	/* epoch:le32 */
	RPW_T_STEP_DOWN		= 0x14,	/* epoch:le32 */

	RPW_T_CAP_QUERY		= 0x20,	/* struct rpw_cap_query */
	RPW_T_CAP_REPORT	= 0x21,	/* struct rpw_cap_report */

	/* Power allocation: struct rpw_pwr_hdr + count entries, below. */
	RPW_T_PWR_REQUEST	= 0x30,	/* C->P struct rpw_pwr_req */
	RPW_T_PWR_ANSWER	= 0x31,	/* P->C struct rpw_pwr_ans */
	RPW_T_PWR_CONFIRM	= 0x32,	/* P->C struct rpw_pwr_conf */
	RPW_T_PWR_RELEASE	= 0x33,	/* C->P struct rpw_pwr_stmt */
	RPW_T_SHED_REQUEST	= 0x34,	/* P->C struct rpw_pwr_shed */
	RPW_T_SHED_DONE		= 0x35,	/* C->P struct rpw_pwr_stmt */
	RPW_T_INV_QUERY		= 0x36,	/* P->C broadcast, header only */
	RPW_T_INV_REPORT	= 0x37,	/* C->P struct rpw_inv_ent */

	RPW_T_TEST		= 0x7f,	/* diagnostics, 0..64 bytes */
};

/* Frame-type ranges: the high nibble. */
#define RPW_T_RANGE(type)	((u8)(type) >> 4)
#define RPW_T_RANGES		16

/*
 * Payloads, as written above; rpw_type_len_ok() takes their sizes from
 * here (rpw_frame.c).  Election (rackpwr-election.rst): WHO_PRIMARY,
 * HEARTBEAT_ACK and STEP_DOWN carry the sender's epoch, PRIMARY and
 * HEARTBEAT are claims.  Every election payload starts with the epoch.
 */
struct rpw_wire_epoch {
	__le32 epoch;
} __packed;

struct rpw_wire_claim {
	__le32 epoch;
	__le16 lease_ms;	/* the claimer's lease, rounded up */
	u8 acker;		/* the secondary named to acknowledge, or 0 */
} __packed;

#define RPW_LEN_EPOCH		sizeof(struct rpw_wire_epoch)
#define RPW_LEN_CLAIM		sizeof(struct rpw_wire_claim)

static_assert(RPW_LEN_EPOCH == 4);
static_assert(RPW_LEN_CLAIM == 7);
static_assert(offsetof(struct rpw_wire_claim, epoch) == 0);

/*
 * Capacity payloads (0x2_).  Banks are counted in whole watts: a le32 holds
 * 4.29 GW, and a sender clamps larger sums instead of wrapping them.
 */
#define RPW_CAP_BANKS		2	/* bank A = 0, bank B = 1 */

/*
 * CAP_QUERY: the primary of @epoch asks every power-supply module.  Since
 * the policy digest, both capacity payloads may end with @digest, the
 * sender's 32-bit policy digest: a sender without one (no agent announced
 * it) sends the short form, which older modules accept, and a receiver
 * takes either length (digest 0 for the short one).
 */
struct rpw_cap_query {
	__le32 epoch;
	__le32 digest;			/* long form only */
} __packed;

/* CAP_REPORT: one module's assembly, answering the primary of @epoch. */
struct rpw_cap_report {
	__le32 epoch;
	__le32 bank_w[RPW_CAP_BANKS];	/* usable watts of healthy supplies */
	u8 present;			/* bit n: a supply sits in slot n */
	u8 healthy;			/* bit n: slot n is healthy */
	__le16 flags;			/* 0; receivers ignore it */
	__le32 digest;			/* long form only */
} __packed;

#define RPW_CAP_DIGEST_LEN	sizeof(__le32)
#define RPW_CAP_QUERY_LEN	offsetof(struct rpw_cap_query, digest)
#define RPW_CAP_QUERY_DIGEST_LEN	sizeof(struct rpw_cap_query)
#define RPW_CAP_REPORT_LEN	offsetof(struct rpw_cap_report, digest)
#define RPW_CAP_REPORT_DIGEST_LEN	sizeof(struct rpw_cap_report)
static_assert(RPW_CAP_QUERY_LEN == 4, "CAP_QUERY payload is 4 bytes");
static_assert(RPW_CAP_QUERY_DIGEST_LEN == 8, "or 8 with a digest");
static_assert(RPW_CAP_REPORT_LEN == 16, "CAP_REPORT payload is 16 bytes");
static_assert(RPW_CAP_REPORT_DIGEST_LEN == 20, "or 20 with a digest");

/*
 * Power allocation payloads (0x3_): a header, then @count entries of the
 * type's entry struct, so that several slots share one frame.  The length
 * is exactly RPW_PWR_HDR_LEN + count * entry size with count >= 1
 * (INV_QUERY: the header alone, count 0).  Watts are whole watts, a le16
 * per server; request ids are u32, never 0.  @epoch is the primary's epoch
 * in P->C frames and the epoch the chassis follows in C->P frames.
 */
struct rpw_pwr_hdr {
	__le32 epoch;
	u8 count;		/* entries that follow */
	u8 flags;		/* RPW_PWR_F_*; others 0, ignored on receipt */
} __packed;

#define RPW_PWR_F_LAST		BIT(0)	/* INV_REPORT: last part of a report */

/* PWR_REQUEST: the slot asks for @watts; a resend keeps @req_id. */
struct rpw_pwr_req {
	u8 slot;
	u8 prio;		/* higher = more important */
	__le16 watts;
	__le32 req_id;
} __packed;

/* PWR_ANSWER: the verdict on request @req_id (enum rpw_pwr_verdict). */
struct rpw_pwr_ans {
	u8 slot;
	u8 verdict;
	u8 reason;		/* enum rpw_pwr_reason */
	u8 rsvd;		/* 0 */
	__le16 watts;		/* GRANT: the watts granted */
	__le32 req_id;		/* the request; a grant's id is its request's */
} __packed;

/*
 * PWR_CONFIRM: what the primary's ledger now records for a slot, sent in
 * answer to every statement (RELEASE, SHED_DONE, INV_REPORT entry).  The
 * chassis compares it with the truth and corrects any difference.
 */
struct rpw_pwr_conf {
	u8 slot;
	u8 state;		/* enum rpw_grant_state; 0 = nothing */
	__le16 held_watts;
	__le32 req_id;		/* 0 when state is 0 */
} __packed;

/*
 * PWR_RELEASE, SHED_DONE: an absolute statement, "grant @req_id of this
 * slot now holds @held_watts" (0: the grant is over for good), so a
 * resent one is idempotent.
 */
struct rpw_pwr_stmt {
	u8 slot;
	u8 reason;		/* enum rpw_pwr_reason */
	__le16 held_watts;
	__le32 req_id;
} __packed;

/* SHED_REQUEST: shed grant @req_id, which holds @watts, by a shutdown. */
struct rpw_pwr_shed {
	u8 slot;
	u8 rsvd;		/* 0 */
	__le16 watts;
	__le32 req_id;
} __packed;

/* INV_REPORT: one slot of the chassis's table (all eight are reported). */
struct rpw_inv_ent {
	u8 slot;
	u8 state;		/* enum rpw_slot_state */
	u8 prio;
	u8 rsvd;		/* 0 */
	__le16 want_watts;	/* what the server needs */
	__le16 held_watts;	/* what it holds now */
	__le32 req_id;		/* the live request or grant, 0 if none */
} __packed;

#define RPW_PWR_HDR_LEN		sizeof(struct rpw_pwr_hdr)
/*
 * Allocation payloads are packed to what an authenticated frame carries,
 * in either mode: one batching, one length rule, and a rack can switch
 * authentication on without a frame that no longer fits.
 */
#define RPW_PWR_MAX_PAYLOAD	RPW_AUTH_MAX_PAYLOAD
#define RPW_PWR_MAX_ENTRIES(esz) \
	((RPW_PWR_MAX_PAYLOAD - RPW_PWR_HDR_LEN) / (esz))
/* The header plus as many whole entries as fit. */
#define RPW_PWR_MAX_LEN(esz) \
	(RPW_PWR_MAX_PAYLOAD - (RPW_PWR_MAX_PAYLOAD - RPW_PWR_HDR_LEN) % (esz))

static_assert(RPW_PWR_HDR_LEN == 6, "allocation header is 6 bytes");
static_assert(sizeof(struct rpw_pwr_req) == 8, "PWR_REQUEST entry");
static_assert(sizeof(struct rpw_pwr_ans) == 10, "PWR_ANSWER entry");
static_assert(sizeof(struct rpw_pwr_conf) == 8, "PWR_CONFIRM entry");
static_assert(sizeof(struct rpw_pwr_stmt) == 8, "RELEASE/SHED_DONE entry");
static_assert(sizeof(struct rpw_pwr_shed) == 8, "SHED_REQUEST entry");
static_assert(sizeof(struct rpw_inv_ent) == 12, "INV_REPORT entry");
static_assert(RPW_PWR_MAX_LEN(12) <= RPW_AUTH_MAX_PAYLOAD, "fits a frame");
static_assert(RPW_PWR_MAX_ENTRIES(8) == 5, "five requests per frame");

#endif /* _RPW_PROTO_H */
