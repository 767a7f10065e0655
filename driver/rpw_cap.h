/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rackpwr - capacity of the rack's power-supply assemblies (pure logic).
 *
 * One table per node, indexed by bus address: the node's own assembly (if
 * it has one) and, on the acting primary, every power-supply module's last
 * CAP_REPORT.  The caller passes the time and the election's view (epoch,
 * primary, own state) into every call, serialises all calls on one table
 * and does the sending; nothing here allocates, locks or reads a clock, so
 * the same code runs in the kernel (driver/capacity.c), in host unit tests
 * and in the deterministic simulator.
 *
 * Rules (Documentation/networking/rackpwr-protocol.rst, "Capacity"):
 * - Fencing: a query or report counts only if it carries the receiver's
 *   current epoch; a module answers only the primary it follows.
 * - A module without an assembly has no own line and does not answer.
 * - Only the primary keeps other modules' lines; a module that has not
 *   reported since RPW_CAP_LOST_QUERIES queries counts as lost (capacity
 *   zero) until it reports again.
 * - Policy digest: every module may announce the 32-bit digest of its
 *   agent's policy (0: none).  Reports carry the sender's, queries the
 *   primary's.  A line's digest mismatches when it and the reference are
 *   both non-zero and differ; the reference is the own digest on the
 *   primary and the primary's (from its last query) on a secondary, whose
 *   only line is its own.
 */
#ifndef _RPW_CAP_H
#define _RPW_CAP_H

#include "rpw_frame.h"

#define RPW_CAP_LOST_QUERIES	3
#define RPW_CAP_NR_ADDR		256	/* table, indexed by address */

/* One assembly's capacity as known by a node. */
struct rpw_cap_entry {
	u64 last_ns;			/* when it was last reported/set */
	u64 bank_mw[RPW_CAP_BANKS];	/* usable mW, summed in u64 */
	u8 present;			/* slot bitmasks */
	u8 healthy;
	u8 missed;			/* queries since its last report */
	bool known;
	bool lost;
	u32 digest;			/* policy digest it announced, 0: none */
	u32 ref_digest;			/* judged against (the primary's) */
	bool mismatch;			/* as last judged (rpw_cap_judge()) */
};

struct rpw_cap_table {
	u8 self;			/* own address (RPW_ADDR_NONE: none) */
	u32 digest;			/* own policy digest, 0: none */
	u32 primary_digest;		/* a secondary: its primary's */
	struct rpw_cap_entry ent[RPW_CAP_NR_ADDR];
};

/* What the election says right now, as the caller sees it. */
struct rpw_cap_view {
	u32 epoch;			/* current epoch */
	u8 primary;			/* address of the primary we follow */
	bool is_primary;		/* we are the primary of @epoch */
};

enum rpw_cap_rx_result {
	RPW_CAP_RX_IGNORE = 0,		/* nothing to do */
	RPW_CAP_RX_ANSWER,		/* send our report to the frame's src */
	RPW_CAP_RX_CHANGED,		/* the src's line changed: tell */
};

/* Empty table for a node with address @self. */
void rpw_cap_table_init(struct rpw_cap_table *t, u8 self);

/*
 * Set (or with @l NULL remove) the own assembly's line.  Returns true when
 * the line changed (a new value, or removed).
 */
bool rpw_cap_set_local(struct rpw_cap_table *t,
		       const struct rpw_cap_entry *l, u64 now);

/* Whether the node has an own line (an assembly to report). */
bool rpw_cap_has_local(const struct rpw_cap_table *t);

/* Not the primary: forget every line but the own one. */
void rpw_cap_forget_others(struct rpw_cap_table *t);

/* A received capacity frame; see enum rpw_cap_rx_result. */
enum rpw_cap_rx_result rpw_cap_rx(struct rpw_cap_table *t,
				  const struct rpw_cap_view *v,
				  const struct rpw_frame *f, u64 now);

/*
 * The primary sends a query: count it against the other modules' lines,
 * from address @from on.  A line that has already missed
 * RPW_CAP_LOST_QUERIES queries becomes lost; its address is returned and
 * the caller continues with that address + 1, so each loss is reported
 * once.  -ENOENT when the round is complete.
 */
int rpw_cap_query_round(struct rpw_cap_table *t, int from);

/* The known line at @addr or the next one; -ENOENT at the end. */
int rpw_cap_next(const struct rpw_cap_table *t, int addr);

/* Sum of the known, not lost lines' bank @bank in mW. */
u64 rpw_cap_total_mw(const struct rpw_cap_table *t, unsigned int bank);

/*
 * Set the own policy digest (kept in the own line too); true when it
 * changed.  rpw_cap_table_init() forgets it: a caller that starts a new
 * table sets it again.
 */
bool rpw_cap_set_digest(struct rpw_cap_table *t, u32 digest);

/*
 * Judge every known line's digest against the reference (see above) for a
 * node that is (@is_primary) or is not the primary, from address @from
 * on.  Every line passed records the reference (@ref_digest); the first
 * line whose verdict changed is updated and its address returned; the
 * caller continues with that address + 1, so each change is reported
 * once.  -ENOENT when no further line changed.
 */
int rpw_cap_judge(struct rpw_cap_table *t, bool is_primary, int from);

/*
 * Payloads: fill @f (type, dst, len, payload) / parse one.  A digest of 0
 * sends the short form; unpacking takes both and yields 0 for the short.
 */
void rpw_cap_pack_query(struct rpw_frame *f, u32 epoch);
void rpw_cap_pack_query_digest(struct rpw_frame *f, u32 epoch, u32 digest);
void rpw_cap_pack_report(struct rpw_frame *f, u8 dst, u32 epoch,
			 const struct rpw_cap_entry *own);
int rpw_cap_unpack_query(const struct rpw_frame *f, u32 *epoch, u32 *digest);
int rpw_cap_unpack_report(const struct rpw_frame *f, u32 *epoch,
			  struct rpw_cap_entry *out);

/* Watts for the wire: whole watts, clamped to what a le32 holds. */
u32 rpw_cap_mw_to_w(u64 mw);

#endif /* _RPW_CAP_H */
