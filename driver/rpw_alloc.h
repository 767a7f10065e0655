/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rackpwr - power allocation (pure logic): the chassis side's slot table
 * (struct rpw_slots) and the primary side's ledger (struct rpw_ledger).
 *
 * Sans-I/O like rpw_cap/rpw_elect: the caller passes the time (@now, ns,
 * monotonic) into every call, serialises all calls on one object, and
 * executes what a call appends to a caller-owned struct rpw_alloc_out:
 * frames to queue and actions (power on/off, shutdown, events).  Nothing
 * here allocates, locks or reads a clock, so the same code runs in the
 * kernel (driver/alloc.c), in host unit tests and in the simulator
 * (selftests/sim/alloc_sim.c).
 *
 * Documentation/networking/rackpwr-protocol.rst, "Power allocation", is the
 * design text.  The rules in short:
 * - A chassis powers a server on only for a GRANT of its live request,
 *   received from the primary it follows, at the epoch it follows, within
 *   that primary's lease as it knows it.
 * - Request ids are u32, drawn from a random start per chassis life, +1 per
 *   request, never 0; a request is resent with the same id every
 *   resend_ms (queued_ms once QUEUED) to the primary followed now.
 * - Releases and shed completions are absolute statements ("grant X of
 *   slot s now holds H W"; H = 0: X is over for good), resent until the
 *   primary's PWR_CONFIRM shows its ledger agrees.  The chassis answers a
 *   CONFIRM that disagrees with the truth by correcting it.
 * - The ledger never drops a holding except on the chassis's statement
 *   that the grant is over, so it never counts less than is powered.
 * - A new primary asks every chassis for its table (INV_QUERY) and grants
 *   nothing until each known chassis reported all its slots or recovery_ms
 *   passed.
 */
#ifndef _RPW_ALLOC_H
#define _RPW_ALLOC_H

#include "rpw_frame.h"

#define RPW_ALLOC_SLOTS		8	/* servers per chassis module */
#define RPW_ALLOC_MAX_CHASSIS	32	/* chassis modules a ledger tracks */
#define RPW_ALLOC_DONE_IDS	4	/* finished ids remembered per slot */
#define RPW_ALLOC_PRIO_DEFAULT	128
#define RPW_ALLOC_NO_TIMER	(~(u64)0)

/* Timing (rackpwr-protocol.rst, "Allocation timing"), in ms. */
#define RPW_ALLOC_RESEND_MS	200	/* resend of requests, statements */
#define RPW_ALLOC_QUEUED_MS	1000	/* resend of QUEUED requests */
#define RPW_ALLOC_RECOVERY_MS	1000	/* new primary: least hold (below) */
#define RPW_ALLOC_NOPOLICY_MS	3000	/* pending without a policy holder */
#define RPW_ALLOC_SHED_MS	30000	/* a server's time to shut down */
/*
 * Bursts: a chassis holds a new request this long (or until a frame's
 * worth, five, are due), so that triggers seen in one poll of its servers
 * share a frame; the primary holds the answers for a chassis while the
 * policy still has requests of it to decide, up to this long, so that a
 * burst of decisions leaves in full frames (four answers).
 */
#define RPW_ALLOC_BURST_MS	2

struct rpw_alloc_timing {
	u32 resend_ms;
	u32 queued_ms;
	u32 recovery_ms;
	u32 nopolicy_ms;
	u32 shed_ms;
};

/* The RPW_ALLOC_*_MS constants. */
void rpw_alloc_timing_default(struct rpw_alloc_timing *t);

/* Frames of one chassis's full table report (INV_REPORT). */
#define RPW_ALLOC_REPORT_FRAMES						\
	((RPW_ALLOC_SLOTS +						\
	  RPW_PWR_MAX_ENTRIES(sizeof(struct rpw_inv_ent)) - 1) /		\
	 RPW_PWR_MAX_ENTRIES(sizeof(struct rpw_inv_ent)))

/*
 * The recovery hold (ms) on a bus whose worst-case access delay is
 * @access_ns (rpw_mac_access_bound_ns() for the modules known, every one
 * saturated): the INV_QUERY and each frame of a report take one access
 * each, and a query lost on the line is resent @resend_ms later.  Never
 * less than RPW_ALLOC_RECOVERY_MS (rackpwr-protocol.rst, "Failover
 * rebuild").
 */
u32 rpw_alloc_recovery_ms(u64 access_ns, u32 resend_ms);

/* Chassis slot states (uapi enum rackpwr_slot_state mirrors them). */
enum rpw_slot_state {
	RPW_SLOT_EMPTY = 1,	/* no server */
	RPW_SLOT_OFF,		/* present, no power, nothing asked */
	RPW_SLOT_REQUESTING,	/* request sent, no verdict yet */
	RPW_SLOT_QUEUED,	/* the primary queued the request */
	RPW_SLOT_DENIED,	/* the request was denied (reason kept) */
	RPW_SLOT_GRANTED,	/* powered under a grant */
	RPW_SLOT_SHEDDING,	/* asked to shut down for a shed */
	RPW_SLOT_RELEASING,	/* a release not yet confirmed */
};

#define RPW_SLOT_STATE_MAX	RPW_SLOT_RELEASING

/* Ledger entry states (uapi mirror from 1; 0 = no entry, wire only). */
enum rpw_grant_state {
	RPW_GS_NONE = 0,
	RPW_GS_PENDING,		/* waiting for the policy's decision */
	RPW_GS_QUEUED,		/* the policy queued it */
	RPW_GS_GRANTED,		/* holds power */
	RPW_GS_SHEDDING,	/* holds power, a shed was requested */
};

#define RPW_GS_MAX		RPW_GS_SHEDDING

/* PWR_ANSWER verdicts (wire). */
enum rpw_pwr_verdict {
	RPW_PWR_GRANT = 1,
	RPW_PWR_QUEUED,
	RPW_PWR_DENIED,
};

/* Reason codes (wire, u8; uapi enum rackpwr_pwr_reason mirrors them). */
enum rpw_pwr_reason {
	RPW_PWR_R_NONE = 0,
	RPW_PWR_R_CAPACITY,	/* does not fit the usable capacity */
	RPW_PWR_R_REDUNDANCY,	/* would lose the redundancy policy */
	RPW_PWR_R_NO_POLICY,	/* no policy holder decided in time */
	RPW_PWR_R_POLICY,	/* the policy said no */
	RPW_PWR_R_RECOVERING,	/* the primary is rebuilding its ledger */
	RPW_PWR_R_NEVER_FITS,	/* more than the rack can ever give */
	RPW_PWR_R_SHED,		/* released for a shed (complied) */
	RPW_PWR_R_ADMIN,	/* an administrator's power-off */
	RPW_PWR_R_REMOVED,	/* the server was pulled out */
	RPW_PWR_R_SLEEP,	/* the server went to sleep */
	RPW_PWR_R_OFF,		/* the server shut down */
	RPW_PWR_R_LOWER,	/* the server lowered its consumption */
	RPW_PWR_R_REFUSED,	/* a shed not complied within shed_ms */
	RPW_PWR_R_STALE,	/* not this chassis's live grant */
	RPW_PWR_R_POWER_FAILED,	/* the server's device refused the enable */
};

#define RPW_PWR_R_MAX		RPW_PWR_R_POWER_FAILED

/* What the server's device reports, as the glue passes it in. */
enum rpw_slot_ev {
	RPW_SEV_PRESENT = 1,	/* a server is there; watts = its need */
	RPW_SEV_GONE,		/* abrupt removal: it stopped answering */
	RPW_SEV_INSERT,		/* power-on triggers: insertion, */
	RPW_SEV_BUTTON,		/* front-panel button, */
	RPW_SEV_LAN_WAKE,	/* wake on LAN, */
	RPW_SEV_WAKE,		/* wake from sleep, */
	RPW_SEV_ADMIN_ON,	/* an administrator's power-on */
	RPW_SEV_ADMIN_OFF,	/* administrator: orderly shutdown */
	RPW_SEV_SLEEP,		/* the server went to sleep */
	RPW_SEV_OFF,		/* the server is off (orderly shutdown) */
	RPW_SEV_LOWER,		/* it draws less now; watts = new draw */
};

#define RPW_SEV_MAX		RPW_SEV_LOWER

/* What a call asks the caller to do. */
enum rpw_alloc_act_kind {
	RPW_ACT_POWER_ON = 1,	/* chassis: enable @slot, @watts, grant @id */
	RPW_ACT_POWER_OFF,	/* chassis: disable @slot's power */
	RPW_ACT_SHUTDOWN,	/* chassis: ask @slot's server to shut down */
	RPW_ACT_EVENT,		/* both: tell user space (@event) */
};

enum rpw_alloc_event {
	RPW_AEV_SLOT = 1,	/* chassis: @slot changed (@state, @reason) */
	RPW_AEV_SHED_IGNORED,	/* chassis: @slot ignored a shed */
	RPW_AEV_REQUEST,	/* primary: @addr/@slot request @id waits */
	RPW_AEV_ENTRY,		/* primary: @addr/@slot entry changed */
	RPW_AEV_NO_POLICY,	/* primary: @id denied, no policy holder */
	RPW_AEV_SHED_REFUSED,	/* primary: shed of @id not complied */
	RPW_AEV_RECOVERED,	/* primary: grants allowed (@reason:
				 * NONE all reported, RECOVERING hold over)
				 */
};

struct rpw_alloc_act {
	u8 kind;		/* enum rpw_alloc_act_kind */
	u8 event;		/* enum rpw_alloc_event */
	u8 addr;		/* chassis address (primary side) */
	u8 slot;
	u8 state;		/* slot or grant state after the change */
	u8 reason;		/* enum rpw_pwr_reason */
	u8 prio;
	u32 id;			/* request/grant id */
	u32 watts;		/* W: power on/want; events: held */
};

#define RPW_ALLOC_OUT_FRAMES	16
#define RPW_ALLOC_OUT_ACTS	32

/*
 * Filled by the calls below, drained by the caller: reset it
 * (rpw_alloc_out_reset()) before each call.  One call never appends more
 * than fits; frames that do not fit stay due and come in the next tick.
 * Frames come with type, dst, flags (RPW_F_ACKREQ on unicast), len and
 * payload; the caller sets src and queues them in the allocation MAC
 * class, a primary's with TTL = the end of its lease.  Execute the actions
 * in order.  About 1.7 KiB: keep it in the node, not on the kernel stack.
 *
 * Flow control (the caller's, kept across resets): @held marks the
 * destinations that take no new frame now; with @max_queued set, frames
 * are appended only while @queued (the caller's count of its frames still
 * in the MAC queue) plus those in @o stay below it.  What is due for a
 * held destination or beyond @max_queued stays due, without a timer:
 * tick again when a frame of yours is done.  Holding a destination while
 * a frame to it is still queued batches everything that fell due
 * meanwhile into the next frame (Nagle's rule): one frame per destination
 * in the MAC queue costs an idle request nothing and gathers a storm into
 * full frames; @max_queued within the class's reserve of queue room
 * never meets -ENOBUFS.
 */
struct rpw_alloc_out {
	unsigned int nframes;
	unsigned int nacts;
	/* Actions that did not fit: 0 if reset before each call. */
	unsigned int dropped;
	/* Private: an entry was left due for flow control. */
	bool blocked;
	unsigned int queued;
	unsigned int max_queued;	/* 0: no limit */
	u8 held[256 / 8];	/* bitmap by destination address */
	struct rpw_frame frames[RPW_ALLOC_OUT_FRAMES];
	struct rpw_alloc_act acts[RPW_ALLOC_OUT_ACTS];
};

void rpw_alloc_out_reset(struct rpw_alloc_out *o);

/* Flow control: hold (@on) or release destination @dst. */
void rpw_alloc_out_hold(struct rpw_alloc_out *o, u8 dst, bool on);
bool rpw_alloc_out_held(const struct rpw_alloc_out *o, u8 dst);

/*
 * Priority total order: higher @prio first, then the lower chassis address,
 * then the lower slot.  > 0 when a is more important than b, 0 if equal.
 */
int rpw_alloc_prio_cmp(u8 prio_a, u8 addr_a, u8 slot_a,
		       u8 prio_b, u8 addr_b, u8 slot_b);

/* ------------------------------------------------------------------ */
/* Chassis side                                                        */

struct rpw_slot {
	u8 state;		/* enum rpw_slot_state */
	bool present;		/* a server is there (RELEASING may be gone) */
	u8 prio;
	u8 reason;		/* last verdict's or release's reason */
	u8 trigger;		/* last power-on trigger (enum rpw_slot_ev) */
	bool want_on;		/* a trigger waits for the slot to be free */
	bool restore;		/* shed: ask again once the shed is over */
	bool seeded;		/* holding from rpw_slots_seed(), unconfirmed */
	u8 stmt_type;		/* outstanding statement: RELEASE/SHED_DONE */
	u8 stmt_reason;
	u8 dirty;		/* private: frames due (RPW_SD_*) */
	u32 want_w;		/* what the server needs */
	u32 held_w;		/* what it holds now */
	u32 id;			/* live request/grant id, 0 none */
	u32 stmt_held;		/* outstanding statement: its holding */
	u32 fix_id;		/* an id the ledger holds wrongly, 0 none */
	u32 off_w;		/* RELEASING: held until the enable is off */
	u64 resend_ns;		/* next resend of the request/statement */
	u64 shed_end_ns;	/* SHEDDING: the deadline */
};

struct rpw_slots_stats {
	u32 rx_stale;		/* P->C frames not from the followed primary */
	u32 rx_bad;		/* malformed payloads */
	u32 stray;		/* answers/sheds for an id not live here */
	u32 resent;		/* requests and statements resent */
	u32 shed_ignored;	/* sheds not complied within shed_ms */
};

struct rpw_slots {
	struct rpw_alloc_timing t;
	u8 primary;		/* followed primary, RPW_ADDR_NONE: none */
	u32 epoch;		/* the epoch followed */
	u64 lease_end;		/* its lease as we know it */
	u32 next_id;		/* next request id */
	u8 inv_due;		/* private: slots whose report is due */
	u8 inv_sent;		/* private: ... in a report still queued */
	u64 inv_sent_end;	/* private: inv_sent counts until then */
	u8 confirmed;		/* slots confirmed since the last follow */
	u64 inv_ns;		/* next unsolicited report */
	u64 req_until;		/* private: new requests held until, 0 */
	/*
	 * Set by the caller after init when it reports every POWER_OFF it
	 * carried out (rpw_slots_power_off_done()): a server that went off
	 * or to sleep gives its grant back only then.
	 */
	bool off_ack;
	struct rpw_slot slot[RPW_ALLOC_SLOTS];
	struct rpw_slots_stats stats;
};

/* The glue's view of a slot after a restart, from the hardware. */
struct rpw_slot_hw {
	bool present;
	bool powered;		/* power enable is on */
	u8 prio;
	u32 watts;		/* the server's need (EEPROM) */
	u32 grant_id;		/* the device's GRANT_ID register */
};

/*
 * Every slot EMPTY.  @id_seed: the first request id (get_random_u32();
 * 0 is skipped).  @t NULL: the defaults.
 */
void rpw_slots_init(struct rpw_slots *s, const struct rpw_alloc_timing *t,
		    u32 id_seed);

/*
 * After init, before anything else: a slot's hardware state.  A powered
 * server is GRANTED under @grant_id with @watts held, so a restarted
 * chassis reports it (-EINVAL for a powered slot without a grant id:
 * the glue decides what to do with a server nobody granted).  Then pass
 * what the device shows beyond that as events: OFF or SLEEP for a powered
 * server that is not on (its grant is released), LOWER if known.
 */
int rpw_slots_seed(struct rpw_slots *s, unsigned int slot,
		   const struct rpw_slot_hw *hw);

/*
 * The election's view: the primary followed (@primary RPW_ADDR_NONE: none)
 * at @epoch, its lease ending at @lease_end.  Call on every change and on
 * every lease renewal.  A new primary or epoch gets our whole table and
 * every open request at once.
 */
void rpw_slots_leader(struct rpw_slots *s, u8 primary, u32 epoch,
		      u64 lease_end, u64 now);

/*
 * A server event (enum rpw_slot_ev) for @slot; @watts for PRESENT and
 * LOWER.  -EINVAL for a bad slot, event or watts.
 */
int rpw_slots_server_event(struct rpw_slots *s, unsigned int slot,
			   unsigned int ev, u32 watts, u64 now,
			   struct rpw_alloc_out *out);

/*
 * The glue could not switch @slot's power on for grant @id (the device
 * refused the enable after bounded retries, and the enable is known to be
 * off): the grant goes back unused (RELEASING, reason POWER_FAILED,
 * statement "holds 0"), an event.  No new request follows by itself: the
 * next trigger asks again.  -ESTALE when the slot no longer holds @id.
 */
int rpw_slots_power_failed(struct rpw_slots *s, unsigned int slot, u32 id,
			   u64 now, struct rpw_alloc_out *out);

/*
 * With @s->off_ack: the POWER_OFF of @slot under grant @id is carried out
 * (tried: a device that fails it is reported all the same, or the slot
 * would hold its grant for ever).  Until then a server that went off or
 * to sleep keeps its grant (RELEASING, its holding still stated in
 * reports), so the primary never counts its watts free while its enable
 * may still be on.  -ESTALE when the slot waits for no such power-off.
 */
int rpw_slots_power_off_done(struct rpw_slots *s, unsigned int slot, u32 id,
			     u64 now);

/* Set @slot's priority; the primary learns it from an INV_REPORT. */
int rpw_slots_set_prio(struct rpw_slots *s, unsigned int slot, u8 prio,
		       u64 now);

/*
 * A received allocation frame (P->C types).  0 when used; -ESTALE when not
 * from the followed primary at its epoch within its lease, -EBADMSG for a
 * malformed payload, -EOPNOTSUPP for a type the chassis side does not take
 * (all counted in stats but the last).
 */
int rpw_slots_rx(struct rpw_slots *s, const struct rpw_frame *f, u64 now,
		 struct rpw_alloc_out *out);

/*
 * Deadlines and resends, then every due frame (batched per type).  Call
 * after any batch of calls and when the returned time (or
 * RPW_ALLOC_NO_TIMER) comes.
 */
u64 rpw_slots_tick(struct rpw_slots *s, u64 now, struct rpw_alloc_out *out);

/*
 * The MAC delivered @f, a frame of ours (its ACK came back).  The primary
 * has it: its entries that are still open here are resent only after
 * queued_ms, not resend_ms, unless the primary changes.  A primary busy
 * with a storm answers late; resending what it already holds would only
 * add to its queue.
 */
void rpw_slots_delivered(struct rpw_slots *s, const struct rpw_frame *f,
			 u64 now);

/*
 * @f, a frame of ours to the primary followed now, was not delivered
 * (expired in the queue, no ACK): what it said that is still open goes
 * out again at the next tick instead of waiting for a resend.
 */
void rpw_slots_unsent(struct rpw_slots *s, const struct rpw_frame *f);

/*
 * Nothing of ours is queued any more, and no delivered() or unsent()
 * will come for what was (the MAC started anew): what was in flight is
 * due again.  A slot's report is queued once until it is delivered or
 * not, or for queued_ms at most (an INV_QUERY meanwhile asks for the
 * other slots only), so this must be said.
 */
void rpw_slots_flushed(struct rpw_slots *s);

/* ------------------------------------------------------------------ */
/* Primary side                                                        */

struct rpw_ledger_ent {
	u8 state;		/* enum rpw_grant_state */
	u8 prio;
	u8 reason;		/* the last answer's reason */
	u8 ans;			/* the last answer's verdict, 0: none */
	u8 dirty;		/* private: frames due (RPW_LD_*) */
	u32 id;			/* request/grant id */
	u32 ans_id;		/* the id the last answer was about */
	u32 ans_w;
	u32 done[RPW_ALLOC_DONE_IDS];	/* ids known over, newest first */
	u64 want_mw;
	u64 held_mw;
	u64 since;		/* when the state was entered */
	u64 resend_ns;		/* SHEDDING: next SHED_REQUEST */
	u64 shed_end_ns;	/* SHEDDING: when it counts as refused */
};

struct rpw_ledger_chassis {
	u8 addr;		/* RPW_ADDR_NONE: unused */
	u8 reported;		/* slots reported at this epoch */
	u64 ans_until;		/* private: answers held until, 0 none */
	struct rpw_ledger_ent ent[RPW_ALLOC_SLOTS];
};

struct rpw_ledger_stats {
	u32 rx_stale;		/* C->P frames at another epoch / not acting */
	u32 rx_bad;		/* malformed payloads */
	u32 rx_full;		/* from a chassis beyond RPW_ALLOC_MAX_CHASSIS */
	u32 refused;		/* grants refused by the physical invariant */
	u32 dup_requests;	/* requests answered again */
	u32 no_policy;		/* requests denied for lack of a policy */
	u32 shed_refused;	/* sheds not complied */
	u32 adopted;		/* holdings adopted from chassis statements */
};

struct rpw_ledger {
	struct rpw_alloc_timing t;
	bool acting;
	bool recovering;
	bool policy;		/* a policy holder is bound */
	u32 epoch;
	u64 acting_since;
	u64 policy_since;	/* when the holder went away */
	u64 query_ns;		/* next INV_QUERY */
	bool query_due;		/* private */
	u8 rr;			/* private: the chassis served first next */
	u64 granted_mw;		/* sum of GRANTED and SHEDDING holdings */
	struct rpw_ledger_chassis ch[RPW_ALLOC_MAX_CHASSIS];
	struct rpw_ledger_stats stats;
};

/* Not acting, no chassis known.  @t NULL: the defaults. */
void rpw_ledger_init(struct rpw_ledger *l, const struct rpw_alloc_timing *t);

/*
 * The node became the acting primary of @epoch (@acting) or stopped being
 * it.  Either way the table is emptied (the known chassis stay); a new
 * primary starts the recovery: INV_QUERY, grants refused with -EAGAIN.
 */
void rpw_ledger_role(struct rpw_ledger *l, bool acting, u32 epoch, u64 now,
		     struct rpw_alloc_out *out);

/*
 * A chassis module at @addr exists (from the bus): recovery waits for its
 * report.  -ENOSPC when RPW_ALLOC_MAX_CHASSIS are known.
 */
int rpw_ledger_know(struct rpw_ledger *l, u8 addr);

/* A policy holder bound (@bound) or went away. */
void rpw_ledger_policy(struct rpw_ledger *l, bool bound, u64 now);

/*
 * A received allocation frame (C->P types), from any chassis address.
 * 0 when used; -ESTALE when not acting or at another epoch, -EBADMSG,
 * -ENOSPC (no room for a new chassis), -EOPNOTSUPP as rpw_slots_rx().
 */
int rpw_ledger_rx(struct rpw_ledger *l, const struct rpw_frame *f, u64 now,
		  struct rpw_alloc_out *out);

/*
 * The policy's verdict (enum rpw_pwr_verdict) on request @req_id of
 * @addr/@slot.  A GRANT must be for exactly the watts asked (@mw) and
 * keep the granted total within @usable_mw.  Errors: -ESTALE not acting
 * or @req_id is not the slot's open request, -ENOENT no such request,
 * -EALREADY already granted, -EAGAIN recovering, -ENOSPC the physical
 * invariant (counted in stats.refused), -EINVAL bad verdict/watts/reason.
 */
int rpw_ledger_decide(struct rpw_ledger *l, u8 addr, unsigned int slot,
		      u32 req_id, unsigned int verdict, u64 mw,
		      unsigned int reason, u64 usable_mw, u64 now,
		      struct rpw_alloc_out *out);

/*
 * Ask @addr/@slot's grant to shed (an orderly shutdown).  -ESTALE not
 * acting, -ENOENT nothing granted there, -EALREADY shedding already.
 */
int rpw_ledger_shed(struct rpw_ledger *l, u8 addr, unsigned int slot,
		    u64 now, struct rpw_alloc_out *out);

/* Deadlines (recovery, no policy, sheds), queries, then due frames. */
u64 rpw_ledger_tick(struct rpw_ledger *l, u64 now, struct rpw_alloc_out *out);

/*
 * @f, a frame of ours, was not delivered (the MAC gave it up: expired in
 * the queue at the end of a lease window, no ACK after its retries,
 * withdrawn).  What it said that is still true goes out again at the next
 * tick: an answer is never lost to a busy bus, and a chassis need not
 * resend its request for it.
 */
void rpw_ledger_unsent(struct rpw_ledger *l, const struct rpw_frame *f);

/* One ledger line for the dumps. */
struct rpw_ledger_info {
	u8 addr;
	u8 slot;
	u8 state;		/* enum rpw_grant_state, never NONE */
	u8 prio;
	u8 reason;
	u32 id;
	u64 want_mw;
	u64 held_mw;
	u64 since;
};

/*
 * Iterate the entries: start with @pos 0, continue with the returned
 * position + 1; -ENOENT at the end.  Positions are stable while the table
 * does not change (chassis index * RPW_ALLOC_SLOTS + slot).
 */
int rpw_ledger_next(const struct rpw_ledger *l, int pos,
		    struct rpw_ledger_info *info);

/* Watts for the wire: whole watts, clamped to a le16. */
u16 rpw_alloc_mw_to_w(u64 mw);

#endif /* _RPW_ALLOC_H */
