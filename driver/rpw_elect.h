/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rackpwr - primary election among power-supply modules (pure logic).
 *
 * Sans-I/O state machine: the caller passes the time (@now, ns, monotonic)
 * into every call and provides three callbacks: send a frame, arm the single
 * timer, report an event.  No allocation, no sleeping, no clock reads, so the
 * same code runs in the kernel (hrtimer + MAC glue) and in the deterministic
 * simulator (selftests/sim/elect_sim.c).  The caller serialises all calls on
 * one struct rpw_elect and must not call back into it from the callbacks.
 *
 * Documentation/networking/rackpwr-election.rst is the design text: states,
 * timers and their formulas, the lease/fencing argument and its assumptions.
 *
 * Epochs are ballots: bits 31..8 are a term counter, bits 7..0 the address of
 * the node that claimed the term.  Two nodes can therefore never claim the
 * same epoch, and comparing epochs as u32 orders claims by (term, address):
 * the tie between simultaneous claims goes to the highest address.
 */
#ifndef _RPW_ELECT_H
#define _RPW_ELECT_H

#include "rpw_frame.h"
#include "rpw_mac.h"
#include "uapi/linux/rackpwr.h"	/* enum rackpwr_role: one set of values */

#define RPW_ELECT_NO_TIMER	(~(u64)0)

#define RPW_EPOCH_TERM(e)	((u32)(e) >> 8)
#define RPW_EPOCH_OWNER(e)	((u8)((e) & 0xff))
#define RPW_EPOCH_MAKE(t, a)	(((u32)(t) << 8) | (u8)(a))
#define RPW_EPOCH_TERM_MAX	0xffffffU

/*
 * Most terms one frame may move a node's epoch on (rackpwr-election.rst,
 * "Epoch adoption"): an ordinary failover moves it by one, a module that
 * missed a few failovers by a few.  Farther jumps need the confirmation
 * of a second member (or a node that knows no epoch yet).
 */
#define RPW_EPOCH_STEP		16U

/*
 * Serial-number order of ballots (RFC 1982 on the 24-bit term, then the
 * owner): true if @a is later than @b.  Term 0 is "no epoch", before every
 * other; the term wraps from RPW_EPOCH_TERM_MAX to 1, so the term space is
 * never exhausted, and nodes within 2^23 terms of each other agree.
 */
static inline bool rpw_epoch_after(u32 a, u32 b)
{
	u32 d = (RPW_EPOCH_TERM(a) - RPW_EPOCH_TERM(b)) & RPW_EPOCH_TERM_MAX;

	if (!RPW_EPOCH_TERM(a))
		return false;
	if (!RPW_EPOCH_TERM(b))
		return true;
	if (!d)
		return RPW_EPOCH_OWNER(a) > RPW_EPOCH_OWNER(b);
	return d < 0x800000U;
}

/* Terms from @b forward to @a (serial), 0 if @a is not later in term. */
static inline u32 rpw_epoch_terms(u32 a, u32 b)
{
	u32 d = (RPW_EPOCH_TERM(a) - RPW_EPOCH_TERM(b)) & RPW_EPOCH_TERM_MAX;

	if (!RPW_EPOCH_TERM(b))
		return RPW_EPOCH_TERM(a);
	return d < 0x800000U ? d : 0;
}

/* Payload lengths: a claim (PRIMARY/HEARTBEAT), the other frames. */
#define RPW_ELECT_CLAIM_LEN	RPW_LEN_CLAIM
#define RPW_ELECT_EPOCH_LEN	RPW_LEN_EPOCH

/* Heartbeat sends remembered for matching acknowledgments (by seq). */
#define RPW_ELECT_RING		8

/* Measured lateness: the largest of this window and the last counts. */
#define RPW_ELECT_LATE_WIN_NS	(4000ULL * 1000 * 1000)

/* Claims of others remembered for matching acknowledgments. */
#define RPW_ELECT_HEARD		4

/* A claim that send() refused is tried again this much later. */
#define RPW_ELECT_RETRY_NS	1000000ULL

enum rpw_elect_state {
	RPW_ES_IDLE = 0,	/* initialised, not started */
	RPW_ES_DISCOVER,	/* asked WHO_PRIMARY, waiting T_initial */
	RPW_ES_SECONDARY,	/* following (or waiting for) a primary */
	RPW_ES_TAKEOVER,	/* primary lost: waiting for our slot */
	RPW_ES_PRIMARY,		/* claimed; acts only inside its lease */
	RPW_ES_FOLLOWER,	/* chassis role */
	RPW_ES_STOPPED,
	RPW_ES__MAX,
};

enum rpw_elect_event {
	RPW_EV_PROMOTED = 1,	/* we claimed epoch @epoch */
	RPW_EV_DEMOTED,		/* we lost the role; @addr/@epoch: winner */
	RPW_EV_EPOCH_CHANGED,	/* known epoch rose to @epoch */
	RPW_EV_PRIMARY_CHANGED,	/* now following @addr in @epoch */
	RPW_EV_PRIMARY_LOST,	/* @addr silent for the detection time */
	RPW_EV_CONFLICT,	/* heard rival primary @addr in @epoch */
	RPW_EV_DUP_ADDR,	/* a frame claims our address; not ours */
	RPW_EV_LEASE_LOST,	/* primary without confirmation: fenced */
	RPW_EV_LEASE_OK,	/* primary confirmed: acting */
	RPW_EV_STALL,		/* our timer ran late: state re-validated */
	RPW_EV_STEP_DOWN,	/* @addr handed over (or we did) */
	RPW_EV__MAX,
};

struct rpw_elect_cfg {
	u8 addr;		/* own address, RPW_ADDR_MIN..RPW_ADDR_MAX */
	u8 role;		/* enum rackpwr_role: PSU may become primary */
	u8 miss;		/* k: heartbeats that may be lost in a row */
	u32 drift_ppm;		/* rho: bound on clock rate error */
	u64 bus_delay_ns;	/* J: worst-case access delay (see doc) */
	u64 frame_ns;		/* T_f: time of one election frame */
	u64 tol_ns;		/* worst timer/scheduling lateness */
	u64 hb_ns;		/* T_h: heartbeat period */
	u64 member_ns;		/* psu membership window */
	u32 nonce;		/* random per module: spreads unnamed answers */
	/* Derived by rpw_elect_cfg_derive() when 0, else validated. */
	u64 detect_ns;		/* T_det */
	u64 lease_ns;		/* T_lease */
	u64 guard_ns;		/* G: lease starts G after the send */
	u64 slot_ns;		/* W */
	u64 initial_ns;		/* T_initial */
	/*
	 * Measured lateness (rackpwr-election.rst): above tol_ns, tol_ns is
	 * a floor and the node raises its tolerance, up to this, to twice
	 * the timer lateness it measures, and derives every timer anew (the
	 * ones above, and T_h when hb_min_ns is set).  0: tol_ns is fixed.
	 */
	u64 tol_max_ns;
	/* A derived T_h: at least these (0: T_h is fixed as given). */
	u64 hb_min_ns;		/* the configured floor */
	u64 hb_line_ns;		/* the election's share of the line */
};

struct rpw_elect_stats {
	u32 tx;			/* frames send() accepted */
	u32 rx;
	u32 rx_bad;		/* malformed election frame */
	u32 rx_stale;		/* lower epoch: rejected (fencing) */
	u32 acks_ok;		/* acks that renewed the lease */
	u32 acks_late;		/* acks outside the window or unknown seq */
	u32 promotions;
	u32 demotions;
	u32 dup_addr;
	u32 stalls;
	u32 tx_refused;		/* frames send() refused (see its ops doc) */
	u32 rx_unearned;	/* later epoch the frame may not raise us to */
	u32 rejoins;		/* outvoted: epoch forgotten (may go back) */
	u32 tol_changes;	/* tolerance re-derived from lateness */
};

struct rpw_elect;

/*
 * How a frame should reach the bus.  Claims, step-downs and acks need the
 * bounded access J stands for (the MAC's urgent access); a second answer
 * to the same claim waits for the first one's frame so the two never
 * collide; questions (WHO_PRIMARY) take ordinary turns, so a simultaneous
 * start is ordered by the MAC's arbitration.
 */
enum rpw_elect_prio {
	RPW_ELECT_PRIO_NORMAL = 0,
	RPW_ELECT_PRIO_URGENT,
	RPW_ELECT_PRIO_DEFER,		/* urgent, after the next frame */
};

/*
 * PRIMARY or HEARTBEAT: what a demoted node withdraws from its queue, and
 * what the MAC queues ahead of the module's ordinary frames (a claim after
 * discovery waited behind the start-up WHO_PRIMARY, which a simultaneous
 * start of 60 modules put on the line one sweep slot each: 330 ms).  The
 * questions stay: they introduce the modules (membership, acks).
 */
static inline bool rpw_elect_claim(const struct rpw_frame *f)
{
	return f->type == RPW_T_PRIMARY || f->type == RPW_T_HEARTBEAT;
}

/*
 * Frames that get an urgent answer (claims are acknowledged, and a helper
 * may follow an acknowledgment): the MAC keeps the U-point after them for
 * the answer (flag ANS) instead of letting a heartbeat that fell due
 * collide with it.
 */
static inline bool rpw_elect_answered(const struct rpw_frame *f)
{
	return rpw_elect_claim(f) || f->type == RPW_T_HEARTBEAT_ACK;
}

struct rpw_elect_ops {
	/*
	 * Queue @f for transmission (broadcast or unicast) via the MAC.
	 * @ttl_ns: 0, or drop the frame unsent this long after queueing it
	 * (an acknowledgment after the claimer's ack window counts for
	 * nothing, and a backlog of them only collides with heartbeats; a
	 * heartbeat or re-announcement that missed its bound holds back the
	 * next heartbeat).
	 * An error means the frame was not queued: it is counted in
	 * stats.tx_refused, a primary's claim is sent again
	 * RPW_ELECT_RETRY_NS later (or at the next heartbeat, if sooner), and
	 * an acknowledgment is not counted as given, so the next claim is
	 * answered.
	 */
	int (*send)(void *ctx, const struct rpw_frame *f,
		    enum rpw_elect_prio prio, u64 ttl_ns);
	/* (Re)arm the single timer; RPW_ELECT_NO_TIMER cancels it. */
	void (*timer)(void *ctx, u64 expires_ns);
	void (*event)(void *ctx, enum rpw_elect_event ev, u8 addr, u32 epoch);
};

struct rpw_elect_hb {
	u64 sent;		/* local time of the send() call */
	u8 seq;
	bool used;
	bool tx_ok;
	bool slow;		/* may have reached the bus later than D */
	bool normal;		/* sent in ordinary turns */
	/* The lease it advertised and the guard then (elect_late()). */
	u64 lease;
	u64 guard;
};

/* All fields private; use the accessors below. */
struct rpw_elect {
	struct rpw_elect_cfg cfg;	/* in effect (tolerance applied) */
	struct rpw_elect_cfg base;	/* as configured */
	/* Largest timer lateness in this and the last window. */
	u64 late_cur;
	u64 late_prev;
	u64 late_rotate;
	u64 hb_cur;		/* primary: T_h in use (see elect_retune) */
	const struct rpw_elect_ops *ops;
	void *ctx;
	u8 state;
	u8 primary;		/* RPW_ADDR_NONE when unknown */
	u8 seq;			/* seq of the next PRIMARY/HEARTBEAT */
	u8 ring_pos;
	u8 acked_seq;		/* seq of the last ack heard in our epoch */
	u8 last_acker;		/* primary: the last secondary named */
	u64 last_ack;		/* our last acknowledgment (or start) */
	/* Our frames handed to send() whose tx_done() has not come yet. */
	u8 txq_claims;		/* PRIMARY/HEARTBEAT */
	u8 txq_other;		/* HEARTBEAT_ACK */
	u8 txq_slow;		/* any sent in ordinary turns */
	u64 txq_since;		/* their last progress (send or result) */
	u64 hb_next;		/* primary: next heartbeat */
	bool resend;		/* primary: a refused claim waits for a retry */
	bool acting;		/* last reported lease state */
	/*
	 * A claim of this epoch went out intact.  No heartbeats before: the
	 * first heartbeats of a simultaneous start overtook their claims
	 * (urgent) and all collided.
	 */
	bool announced;
	u64 announced_at;	/* when it first did */
	u32 epoch;		/* highest epoch known (ballot) */
	/* A jump of more than RPW_EPOCH_STEP terms waiting for confirmation. */
	u32 jump_ep;
	bool jump_claimed;	/* heard claimed by its owner */
	bool jump_acked;	/* heard acknowledged by another member */
	bool anchored;		/* followed a claim, or a peer acked ours */
	u64 epoch_at;		/* when our epoch last changed */
	u64 peer_ack;		/* last ack of our claims by another module */
	/* An unknown claimer under a live primary: since when, last heard. */
	u8 cand;
	u64 cand_since;
	u64 cand_last;
	/*
	 * ... the last one that became a member only by persisting, an epoch
	 * of its that another node acknowledged (answering its claim), and
	 * our epoch then.
	 */
	u8 persisted;
	u32 persisted_ack;
	u32 persisted_from;	/* our epoch when it became a member */
	/*
	 * The last claims heard from other nodes, for matching acks (an ack
	 * may arrive after the next claim: 2J can exceed T_h).
	 */
	struct {
		u64 at;
		u32 ep;
		u8 seq;
	} heard[RPW_ELECT_HEARD];
	u8 heard_pos;
	/* An earlier epoch a member acknowledged for its owner, and when. */
	u32 outvote_ep;
	u64 outvote_at;
	u64 timer;		/* armed expiry or RPW_ELECT_NO_TIMER */
	u64 evidence;		/* last sign of life of the primary */
	u64 detect_ns;		/* T_det, raised by advertised leases */
	/* acting iff now is inside one of the two confirmed windows */
	u64 lease_start[2];
	u64 lease_end[2];
	u64 yield_until;	/* after a step-down: take the last slot */
	u64 act_after;		/* no acting before: leases we never heard */
	u64 fence_primary;	/* lease the followed primary may still hold */
	u64 fence_rival;	/* ... and rival claimers we heard */
	u8 rival;		/* the rival behind fence_rival, if one */
	u64 next_answer;	/* rate limits */
	u64 next_teach;
	u64 next_reannounce;
	u64 next_dup;
	u64 member_rotate;
	u64 member_win;		/* current window length */
	u32 member_cur[8];	/* psu nodes heard in this window */
	u32 member_prev[8];	/* ... and in the previous one */
	/* Ever followed, or heard answering a claim: never ages. */
	u32 known[8];
	struct rpw_elect_hb ring[RPW_ELECT_RING];
	struct rpw_elect_stats stats;
};

/* Defaults for 115200 baud (formulas in the documentation). */
void rpw_elect_cfg_default(struct rpw_elect_cfg *c, u8 addr, u8 role);
/* Fill the derived fields that are 0 from the inputs. */
void rpw_elect_cfg_derive(struct rpw_elect_cfg *c);
/* 0 or -EINVAL; @why (may be NULL) names the violated rule. */
int rpw_elect_cfg_validate(const struct rpw_elect_cfg *c, const char **why);
/*
 * Time after the last fault within which exactly one primary acts and every
 * node follows it, for a rack of @n_psu power-supply modules.
 */
u64 rpw_elect_converge_bound(const struct rpw_elect_cfg *c,
			     unsigned int n_psu);

/*
 * What the kernel derives a node's election timers from, besides its MAC
 * configuration; 0 in @hb_us, @bus_delay_us or @miss means "derive".
 */
struct rpw_elect_params {
	u8 role;		/* enum rackpwr_role */
	u8 miss;		/* k */
	u32 hb_us;		/* T_h */
	u32 bus_delay_us;	/* J */
	/* J without urgent access covers a rotation of this many modules. */
	unsigned int rack_modules;
	u32 tol_us;		/* worst timer/scheduling lateness */
	/* Raise tol_us from measured lateness up to this (0: fixed). */
	u32 tol_max_us;
	u64 rx_lat_ns;		/* the transport's receive latency */
};

/*
 * A node's election configuration from its MAC's (@mc, address and nonce
 * included) and @p, derived as rackpwr-election.rst "Timers" says and
 * validated: 0, or -EINVAL with a static reason in *@why.
 */
int rpw_elect_cfg_build(struct rpw_elect_cfg *ec, const struct rpw_mac_cfg *mc,
			const struct rpw_elect_params *p, const char **why);

/* Copies and derives @cfg; -EINVAL if it fails validation. */
int rpw_elect_init(struct rpw_elect *e, const struct rpw_elect_cfg *cfg,
		   const struct rpw_elect_ops *ops, void *ctx);
void rpw_elect_start(struct rpw_elect *e, u64 now);
/* 0 handled, -ENOENT not an election frame, -EPROTO malformed. */
int rpw_elect_rx(struct rpw_elect *e, const struct rpw_frame *f, u64 now);
/*
 * Transmission result of every frame we sent (the MAC read back its own
 * echo intact, or gave up, or cancelled it).  The caller must report each
 * frame that send() accepted (returned 0) exactly once: the election sends
 * no new heartbeat, announcement or acknowledgment while its previous one
 * still waits for the bus, so a slow bus never builds a backlog of stale
 * election frames.  PRIMARY/HEARTBEAT results also confirm a lone primary.
 */
void rpw_elect_tx_done(struct rpw_elect *e, const struct rpw_frame *f,
		       bool ok, u64 now);
void rpw_elect_timer_expired(struct rpw_elect *e, u64 now);
/* Admin hand-over: -EPERM unless primary. */
int rpw_elect_step_down(struct rpw_elect *e, u64 now);
void rpw_elect_stop(struct rpw_elect *e, u64 now);

/*
 * The end of the lease window (of @n, [@start, @end) each) that holds at
 * @now, followed into a window that starts before it ends; 0 when none
 * holds: what a primary's allocation frames may live until (alloc.c on
 * its published copy, the simulators on the election itself).
 */
u64 rpw_elect_lease_until(const u64 *start, const u64 *end, unsigned int n,
			  u64 now);
/* The same over @e's own confirmed lease windows. */
u64 rpw_elect_lease_end(const struct rpw_elect *e, u64 now);

/* True only in state PRIMARY and inside a confirmed lease. */
bool rpw_elect_is_primary(const struct rpw_elect *e, u64 now);
/*
 * Confirmed lease window @i (0 or 1) as [start, end) in local time; false
 * if none.  Window 1, when present, starts after window 0 ends.
 */
bool rpw_elect_lease(const struct rpw_elect *e, unsigned int i, u64 *start,
		     u64 *end);

static inline enum rpw_elect_state rpw_elect_state(const struct rpw_elect *e)
{
	return (enum rpw_elect_state)e->state;
}

static inline u32 rpw_elect_epoch(const struct rpw_elect *e)
{
	return e->epoch;
}

/* Address of the primary we follow (own address if primary), or 0. */
static inline u8 rpw_elect_primary(const struct rpw_elect *e)
{
	return e->primary;
}

/*
 * Following another primary: the end of the lease it may still hold, as
 * its last claim advertised it (local time); 0 when we follow nobody.
 * Allocation frames from it count only before then (alloc.c).
 */
static inline u64 rpw_elect_primary_lease(const struct rpw_elect *e)
{
	if (e->primary == RPW_ADDR_NONE || e->primary == e->cfg.addr)
		return 0;
	return e->fence_primary;
}

/* @a is a power-supply module heard recently (an election member). */
static inline bool rpw_elect_member(const struct rpw_elect *e, unsigned int a)
{
	return a < 256 && ((e->member_cur[a >> 5] | e->member_prev[a >> 5]) &
			   (1U << (a & 31)));
}

static inline const struct rpw_elect_stats *
rpw_elect_stats(const struct rpw_elect *e)
{
	return &e->stats;
}

/* The largest timer lateness measured in the last one or two windows. */
static inline u64 rpw_elect_lateness(const struct rpw_elect *e)
{
	return e->late_cur > e->late_prev ? e->late_cur : e->late_prev;
}

const char *rpw_elect_state_name(enum rpw_elect_state s);
const char *rpw_elect_event_name(enum rpw_elect_event ev);

#endif /* _RPW_ELECT_H */
