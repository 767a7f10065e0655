/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rackpwr allocation policy (rpwp): who gets power, who waits, who is shed.
 *
 * Pure C: no libnl, no clock (the caller passes "now" in milliseconds of
 * any monotonic clock), no allocation after rpwp_create(), no global state.
 * The daemon (rackpwrd) feeds it what the acting primary's kernel reports
 * (capacity-get / capacity-ntf, power-request-ntf, alloc-get / alloc-ntf)
 * and executes the actions it returns, in order, through power-decide and
 * power-shed.  The policy never asks the kernel for a grant above the
 * rack's usable capacity (the kernel would refuse it with ENOSPC).
 * Documentation/admin-guide/rackpwr-policy.rst describes the policy.
 *
 * Units: power in milliwatts, uint32_t per server, uint64_t for every sum;
 * time in milliseconds (uint64_t), only ever compared and subtracted.
 *
 * Calling rules: one thread at a time per struct rpwp.  Every call that
 * may decide takes a struct rpwp_out and appends at most out->max actions;
 * work that did not fit (out->more set) is done by the next call, so the
 * caller executes the actions and calls rpwp_tick() again while
 * out->more.  The policy's own view changes only as far as the actions it
 * returned: a decision or shed it could not return was not taken (a
 * non-compliance report that did not fit comes with the next call).
 *
 * Cost: every request, release and shed step is O(log n) in the number of
 * entries (binary heaps and a hash table, running totals); a capacity
 * change is O(assemblies) plus the grants or sheds it causes.
 */
#ifndef _RACKPWR_POLICY_H
#define _RACKPWR_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Redundancy mode: what the budget protects against. */
enum rpwp_mode {
	RPWP_MODE_NN,		/* "n+n": the weaker rail alone carries all */
	RPWP_MODE_N1,		/* "n+1": any one supply may fail */
	RPWP_MODE_NONE,		/* "none": total usable capacity */
};

/* "n+n", "n+1", "none"; "?" for an unknown value. */
const char *rpwp_mode_name(enum rpwp_mode mode);
/* Parses those names (exact, lower case); 0 or -1 if unknown. */
int rpwp_mode_parse(const char *s, enum rpwp_mode *mode);

/* ------------------------------------------------------------------ */
/* Configuration                                                       */

#define RPWP_MAX_OVERRIDES	2048	/* 256 chassis x 8 slots */
#define RPWP_SHED_DEADLINE_MS	35000	/* > kernel's 30 s + 2 resends */
#define RPWP_RESTORE_MS		60000	/* a shed server's time to re-ask */
#define RPWP_RETRY_MS		250	/* grants pause after a refused one */

/* A slot's priority set by the policy's configuration, not its chassis. */
struct rpwp_prio_override {
	uint16_t chassis;	/* chassis module's bus address */
	uint8_t slot;
	uint8_t prio;		/* 0..255, higher is more important */
};

/*
 * The policy's configuration.  rpwp_cfg_init() fills the defaults.
 * shed_deadline_ms: how long a shed server may take to give its power
 * back before it is reported non-compliant and skipped.  restore_ms: how
 * long a slot told it may power on again (RPWP_ACT_RESTORE) keeps its
 * reserved watts before the reservation lapses.  deny_when_full: a
 * request that does not fit now is denied (reason capacity or
 * redundancy) instead of queued.  overrides: at most one
 * per (chassis, slot); they replace the priority the chassis sends.
 */
struct rpwp_cfg {
	enum rpwp_mode mode;
	uint64_t shed_deadline_ms;
	uint64_t restore_ms;
	bool deny_when_full;	/* deny, not queue, what does not fit now */
	unsigned int n_overrides;
	struct rpwp_prio_override overrides[RPWP_MAX_OVERRIDES];
};

void rpwp_cfg_init(struct rpwp_cfg *cfg);
/*
 * Validates @cfg: mode known, deadlines 1..86400000 ms, n_overrides in
 * range, no (chassis, slot) twice.  0, or -1 with a message in @err.
 */
int rpwp_cfg_check(const struct rpwp_cfg *cfg, char *err, size_t errlen);
/*
 * Stable 64-bit digest of the canonical policy: FNV-1a (64-bit offset
 * basis and prime) over the text rpwp_cfg_canon() writes.  Two
 * configurations that behave the same (overrides in any order) have the
 * same digest.  The daemon sends its low 32 bits on the wire.
 */
uint64_t rpwp_cfg_digest(const struct rpwp_cfg *cfg);
/*
 * The canonical text: "mode=n+n\nshed_deadline_ms=35000\n
 * restore_ms=60000\nfull=queue\n" ("full=deny" with deny_when_full),
 * then one "prio=CHASSIS/SLOT:PRIO\n" per override, sorted by chassis
 * then slot (decimal).  Writes at most @len bytes (NUL
 * included); returns the full length as snprintf() does.
 */
size_t rpwp_cfg_canon(const struct rpwp_cfg *cfg, char *buf, size_t len);

/* ------------------------------------------------------------------ */
/* Inputs                                                              */

#define RPWP_SUPPLIES		6	/* per assembly: 0-2 bank A, 3-5 bank B */
#define RPWP_BANK_A_MASK	0x07
#define RPWP_BANK_B_MASK	0x38

/* One power-supply assembly as capacity-get on the primary reports it. */
struct rpwp_assembly {
	uint8_t addr;		/* its power-supply module's bus address */
	uint8_t present;	/* bit n: supply slot n occupied */
	uint8_t healthy;	/* bit n: supply n healthy */
	bool lost;		/* stopped answering: counts as zero */
	uint32_t bank_a_mw;	/* usable mW of bank A's healthy supplies */
	uint32_t bank_b_mw;	/* same for bank B */
};

/* A supply: (assembly address, supply index 0..5), for rpwp_plan(). */
struct rpwp_supply {
	uint8_t addr;
	uint8_t index;
};

/* An allocation entry's state in the primary's table (alloc-get). */
enum rpwp_kstate {
	RPWP_K_GONE,		/* the entry left the table */
	RPWP_K_PENDING,		/* rackpwr_alloc_state values from here */
	RPWP_K_QUEUED,
	RPWP_K_GRANTED,
	RPWP_K_SHEDDING,
};

/*
 * One entry of the primary's table, as power-request-ntf (state
 * PENDING), alloc-ntf entry events and the alloc-get dump carry it.
 * chassis is 16 bits so that the policy can be measured beyond the
 * bus's 8-bit address space; the daemon passes the bus address.
 */
struct rpwp_entry {
	uint16_t chassis;
	uint8_t slot;
	uint8_t prio;		/* as the chassis sent it */
	enum rpwp_kstate state;
	uint32_t want_mw;
	uint32_t held_mw;
	uint32_t req_id;
	uint32_t age_ms;	/* alloc-get's age-ms; 0 elsewhere */
	uint8_t reason;		/* alloc-ntf's reason (rackpwr_reason) */
};

/* ------------------------------------------------------------------ */
/* Outputs                                                             */

/* rackpwr_verdict values. */
enum rpwp_verdict {
	RPWP_GRANT = 1,
	RPWP_QUEUE,
	RPWP_DENY,
};

/* rackpwr_reason values the policy uses in a decision. */
enum rpwp_reason {
	RPWP_R_NONE = 0,	/* a grant */
	RPWP_R_CAPACITY = 1,	/* does not fit the budget now */
	RPWP_R_REDUNDANCY = 2,	/* fits the usable capacity, not the mode */
	RPWP_R_POLICY = 4,	/* the policy's table is full */
	RPWP_R_RECOVERING = 5,	/* the kernel refused a grant: recovering */
	RPWP_R_NEVER_FITS = 6,	/* above the budget with nothing else held */
};

enum rpwp_act_type {
	RPWP_ACT_DECIDE = 1,	/* power-decide verdict/mw/reason */
	RPWP_ACT_SHED,		/* power-shed chassis/slot */
	RPWP_ACT_NONCOMPLIANT,	/* report: the slot ignored its shed */
	RPWP_ACT_RESTORE,	/* a shed slot may power on again */
};

#define RPWP_TEXT_MAX		256

/*
 * One action.  text is the human reason with its numbers, e.g.
 * "queued: n+n: rail B 4.80 kW usable, budget 4.80 kW, 4.55 kW granted,
 * request 0.40 kW"; the same text is kept for rpwp_why().
 * RESTORE: the slot was shed and now fits again (its watts are reserved
 * for restore_ms); the chassis does not ask by itself after a shed, so
 * the daemon powers the slot on (slot-set --power on where it can reach
 * the chassis node) or logs it for the operator.  Its request then
 * arrives like any other.
 */
struct rpwp_action {
	enum rpwp_act_type type;
	uint16_t chassis;
	uint8_t slot;
	uint8_t prio;		/* the priority the policy used */
	enum rpwp_verdict verdict;	/* DECIDE only */
	enum rpwp_reason reason;	/* DECIDE only */
	uint32_t req_id;	/* DECIDE; the grant's id for SHED */
	uint32_t mw;		/* DECIDE GRANT: want_mw; SHED: held */
	uint64_t at_ms;
	char text[RPWP_TEXT_MAX];
};

struct rpwp_out {
	struct rpwp_action *act;	/* caller's array of max entries */
	unsigned int max;
	unsigned int n;			/* appended so far; caller resets */
	bool more;			/* work left: call rpwp_tick() */
};

/* ------------------------------------------------------------------ */
/* Lifetime                                                            */

struct rpwp;

/*
 * Allocates everything the policy will ever use for up to @max_slots
 * (chassis, slot) records (live entries plus remembered decisions).
 * NULL on allocation failure, @max_slots 0 or above 1 << 22, or a @cfg
 * that rpwp_cfg_check() refuses.
 */
struct rpwp *rpwp_create(unsigned int max_slots, const struct rpwp_cfg *cfg);
void rpwp_destroy(struct rpwp *p);

/*
 * Replaces the configuration (SIGHUP): priorities of known entries are
 * recomputed, the budget follows the new mode, and the queue is drained
 * or shedding starts as the new budget requires.  -1 (nothing changed)
 * if rpwp_cfg_check() refuses @cfg.
 */
int rpwp_set_cfg(struct rpwp *p, const struct rpwp_cfg *cfg, uint64_t now,
		 struct rpwp_out *out);
const struct rpwp_cfg *rpwp_get_cfg(const struct rpwp *p);

/* ------------------------------------------------------------------ */
/* Events                                                              */

/*
 * The rack's capacity: every assembly the primary knows (@n at most
 * 256).  A fall below what is granted starts shedding; a rise grants
 * waiting requests and restores shed slots.
 */
void rpwp_capacity(struct rpwp *p, const struct rpwp_assembly *a,
		   unsigned int n, uint64_t now, struct rpwp_out *out);

/*
 * A new primary's capacity table fills until @until (ms, the clock of
 * @now): its other assemblies answer the first queries.  Until then the
 * policy grants what fits the capacity it knows but sheds nothing: an
 * assembly not reported yet counts as zero, so the known capacity is
 * never above the real one and neither is any mode's budget, which only
 * grows as assemblies are added; a shed decided on it may be needless.
 * rpwp_tick() at rpwp_next_deadline() ends the settling and sheds as the
 * budget then requires, lowest priority first.  Starting (@until > @now)
 * returns no action; @until <= @now ends it at once.
 */
void rpwp_settling(struct rpwp *p, uint64_t until, uint64_t now,
		   struct rpwp_out *out);

/*
 * A request awaits a decision (power-request-ntf; @e->state PENDING).
 * The policy answers it exactly once: GRANT, QUEUE (granted later by a
 * DECIDE GRANT of the same req_id) or DENY.  A request already answered
 * (same chassis, slot, req_id) is ignored: notifications may repeat.
 */
void rpwp_request(struct rpwp *p, const struct rpwp_entry *e, uint64_t now,
		  struct rpwp_out *out);

/*
 * An entry of the primary's table changed (alloc-ntf entry event): GONE
 * (released, withdrawn, denied; reason SHED, OFF, REMOVED... as the
 * kernel keeps it), held watts lowered, a grant the kernel adopted from
 * a chassis, or a shed refused: pass the shed-refused event as state
 * GRANTED with reason REFUSED (13).  An entry with another req_id than
 * the slot's live one replaces it, except GONE (an older request's end,
 * ignored).  States older than the policy's own decisions (a QUEUED
 * notification arriving after the policy granted) are ignored.  A
 * PENDING entry the policy does not know is handled as rpwp_request().
 */
void rpwp_entry(struct rpwp *p, const struct rpwp_entry *e, uint64_t now,
		struct rpwp_out *out);

/*
 * The kernel refused a DECIDE the policy returned (@err a negative errno
 * from power-decide: -EAGAIN while recovering, -ENOSPC, ...).  A refused
 * GRANT goes back to the head of its priority in the queue and is tried
 * again by the next rpwp_tick(); a first answer then queues it, with
 * reason RECOVERING after -EAGAIN, else CAPACITY.  A refused QUEUE or
 * DENY is forgotten (the daemon resyncs: ENOENT/ESTALE mean the table
 * moved on).
 */
void rpwp_decide_failed(struct rpwp *p, uint16_t chassis, uint8_t slot,
			uint32_t req_id, int err, uint64_t now,
			struct rpwp_out *out);

/*
 * Timers and left-over work: shed deadlines (REPORT non-compliant, shed
 * the next), lapsed restore reservations, refused grants to retry, the
 * end of a settling, and whatever did not fit the last @out.  Call it at rpwp_next_deadline()
 * and whenever out->more was set.
 */
void rpwp_tick(struct rpwp *p, uint64_t now, struct rpwp_out *out);
/* The next time rpwp_tick() has work, or UINT64_MAX. */
uint64_t rpwp_next_deadline(const struct rpwp *p);

/*
 * Resync (after missed events or a restart): rebuild the view from the
 * alloc-get dump without changing any grant.  rpwp_resync_begin() drops
 * the table view (remembered decisions, the configuration, a settling
 * and the shed slots awaiting restore stay); rpwp_resync_entry() adds each dumped
 * entry (a SHEDDING entry becomes the shed in progress, its deadline
 * counted from @now; queued entries keep their order by age_ms, then
 * the total order); rpwp_capacity() may be called in between;
 * rpwp_resync_end() returns only the DECIDEs that PENDING entries need.
 * Shedding, draining and restoring go on from the next event or tick.
 * Between begin and end, call only rpwp_resync_entry() and
 * rpwp_capacity() (which then decides nothing).
 * rpwp_resync_entry() returns -1 when the table is full (entry ignored).
 */
void rpwp_resync_begin(struct rpwp *p);
int rpwp_resync_entry(struct rpwp *p, const struct rpwp_entry *e,
		      uint64_t now);
void rpwp_resync_end(struct rpwp *p, uint64_t now, struct rpwp_out *out);

/* ------------------------------------------------------------------ */
/* Views (for status, metrics, why; none changes the policy)           */

struct rpwp_budget {
	enum rpwp_mode mode;
	uint64_t rail_a_mw;	/* bank A of every assembly, summed */
	uint64_t rail_b_mw;
	uint64_t usable_mw;	/* rail A + rail B: the kernel's limit */
	uint64_t max_supply_mw;	/* the largest one supply (n+1) */
	uint64_t budget_mw;	/* what the mode allows to be granted */
	uint64_t granted_mw;	/* held by GRANTED and SHEDDING entries */
	uint64_t reserved_mw;	/* restore reservations */
	uint64_t headroom_mw;	/* budget - granted - reserved, or 0 */
	uint64_t over_mw;	/* granted - budget, or 0 */
	unsigned int granted;	/* entries */
	unsigned int queued;	/* waiting requests (pending + queued) */
	unsigned int shedding;	/* sheds in progress (1; more if adopted) */
	unsigned int noncompliant;	/* skipped in this shed episode */
	unsigned int restore;	/* shed slots waiting for capacity */
	bool settling;		/* rpwp_settling(): sheds held */
};

void rpwp_budget(const struct rpwp *p, struct rpwp_budget *b);

/* The policy's state of a slot. */
enum rpwp_pstate {
	RPWP_P_IDLE,		/* no entry (only a remembered decision) */
	RPWP_P_PENDING,		/* waiting, not answered yet */
	RPWP_P_QUEUED,		/* answered QUEUE, waiting */
	RPWP_P_GRANTED,
	RPWP_P_SHEDDING,	/* the shed in progress */
	RPWP_P_NONCOMPLIANT,	/* granted, ignored its shed */
	RPWP_P_SHED,		/* shed, waiting for capacity to restore */
	RPWP_P_RESTORING,	/* RESTORE sent, watts reserved */
};

const char *rpwp_pstate_name(enum rpwp_pstate st);
const char *rpwp_verdict_name(enum rpwp_verdict v);	/* "grant"... */
const char *rpwp_reason_name(enum rpwp_reason r);	/* "capacity"... */
const char *rpwp_act_name(enum rpwp_act_type t);	/* "decide"... */

/* A slot as the policy sees it, with its last decision. */
struct rpwp_slot_info {
	uint16_t chassis;
	uint8_t slot;
	uint8_t prio;		/* effective (override or chassis) */
	enum rpwp_pstate state;
	uint32_t want_mw;
	uint32_t held_mw;
	uint32_t req_id;
	uint64_t since_ms;	/* entered this state */
	bool has_last;		/* a decision/action is remembered */
	struct rpwp_action last;	/* the last action about the slot */
};

/* The slot's view and last action; -1 if the policy knows nothing. */
int rpwp_why(const struct rpwp *p, uint16_t chassis, uint8_t slot,
	     struct rpwp_slot_info *info);
/*
 * Every known slot (live or remembered), in no particular order:
 * @cursor starts at 0; returns 0 and advances it, or -1 at the end.
 */
int rpwp_slot_next(const struct rpwp *p, unsigned int *cursor,
		   struct rpwp_slot_info *info);
/*
 * The waiting requests in queue order (priority, then arrival), at most
 * @max of them; returns how many were written.  O(n log n).
 */
unsigned int rpwp_queue_list(const struct rpwp *p,
			     struct rpwp_slot_info *info, unsigned int max);

/* ------------------------------------------------------------------ */
/* What-if                                                             */

/* One step of a shed plan: the slot shed and the rack after it. */
struct rpwp_plan_step {
	uint16_t chassis;
	uint8_t slot;
	uint8_t prio;
	uint32_t mw;		/* its holding, given back */
	uint64_t granted_mw;	/* granted after this step */
	uint64_t budget_mw;	/* the budget with the failed supplies */
};

struct rpwp_plan {
	uint64_t budget_before_mw;	/* now */
	uint64_t budget_after_mw;	/* with the failed supplies */
	uint64_t usable_after_mw;
	uint64_t granted_mw;		/* now */
	unsigned int steps;		/* sheds needed (may exceed max) */
	bool unknown_supply;		/* a supply named is not known */
};

/*
 * What if the supplies in @failed (healthy ones; others change nothing)
 * failed now: who would be shed, lowest priority first (the shed in
 * progress first), until the granted total fits the budget, assuming
 * every server complies.  Writes at most @max steps; the count needed
 * is in plan->steps.  A failed supply takes its per-supply share out of
 * its bank (rackpwr-policy.rst, "Budget").  Does not change the policy.
 */
void rpwp_plan(const struct rpwp *p, const struct rpwp_supply *failed,
	       unsigned int n_failed, struct rpwp_plan_step *step,
	       unsigned int max, struct rpwp_plan *plan);

/*
 * Per-supply capacity as the policy derives it: the bank's usable mW
 * divided by the number of healthy supplies in that bank, rounded up;
 * 0 for a supply that is not healthy.
 */
uint32_t rpwp_supply_mw(const struct rpwp_assembly *a, unsigned int index);

/*
 * Formats @mw as kW with two decimals ("4.80"), rounded half up, into
 * @buf (at least 24 bytes).  Returns @buf.
 */
char *rpwp_kw(uint64_t mw, char *buf);

#endif /* _RACKPWR_POLICY_H */
