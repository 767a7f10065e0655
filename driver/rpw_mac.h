/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rackpwr - bus access layer (MAC): arbitration and reliable delivery on the
 * shared half-duplex RS-485 line (pure logic).
 *
 * Sans-I/O: the MAC never reads a clock, sleeps or allocates.  The caller
 * passes the time (@now, ns, monotonic) into every entry point and provides
 * callbacks to put bytes on the line and to arm one timer.  The kernel glue
 * runs it under a spinlock with an hrtimer; selftests/sim/busim.c runs the
 * same code on a virtual-time bus.
 *
 * Documentation/networking/rackpwr-mac.rst is the design text: slot
 * arbitration (rotation, sweep, newcomer slot), timing formulas, the
 * worst-case access delay and the measured numbers.
 *
 * Rules for callers: all entry points of one struct rpw_mac are serialised
 * by the caller.  From inside the rx and done callbacks only
 * rpw_mac_submit() may be called on the same MAC (it is queued and the timer
 * is re-armed when the outer entry point returns); no callback may call
 * rpw_mac_rx_bytes() or rpw_mac_timer_expired() of the same MAC.
 */
#ifndef _RPW_MAC_H
#define _RPW_MAC_H

#include "rpw_auth.h"
#include "rpw_frame.h"

/* Value passed to ops->timer to cancel the timer (equals U64_MAX). */
#define RPW_MAC_TIMER_OFF	(~(u64)0)

#define RPW_MAC_NR_ADDR		256	/* peer table, indexed by address */

/* Bits per character on the line: 8N1 = start + 8 data + stop. */
#define RPW_MAC_CHAR_BITS	10

/*
 * Frames one access may carry (cfg.max_info_frames), sent back to back;
 * together they never take more line time than one longest frame
 * (RPW_MAX_WIRE characters), so the urgent bound holds for bursts too.
 */
#define RPW_MAC_MAX_BURST	16

/*
 * Traffic classes of the transmit queue.  Each class has queue room of its
 * own (cfg.reserve) that the others can never take, and shares the rest
 * of max_queue with them: a burst of one class cannot refuse another's
 * frames while that class stays within its reserve.  Classes change only
 * admission, not the order frames leave in (urgent first, then FIFO).
 */
enum rpw_mac_class {
	RPW_MAC_CLASS_USER = 0,	/* frames from user space (frame-send) */
	RPW_MAC_CLASS_ELECT,	/* election: claims, heartbeats, acks */
	RPW_MAC_CLASS_PROTO,	/* the core's protocols: capacity reports */
	RPW_MAC_CLASS_ALLOC,	/* power allocation requests and grants */
	RPW_MAC_NR_CLASS,
};

enum rpw_mac_profile {
	RPW_MAC_PROFILE_SIM = 0,	/* exact byte timing (simulated bus) */
	RPW_MAC_PROFILE_UART,		/* real UART / VM: ms of rx latency */
};

struct rpw_mac_cfg {
	u8 addr;		/* own address, RPW_ADDR_MIN..RPW_ADDR_MAX */
	u8 max_addr;		/* highest address in use: sweep length */
	u8 max_retries;		/* retransmissions after the first send */
	u8 max_collisions;	/* per frame, then done(-EBUSY) */
	u8 send_abort;		/* send 0x7d 0x7e after a collision */
	/*
	 * Urgent access: a priority slot after every prio_period ordinary
	 * slots (and the "U-point" after frames nobody ACKs); 0 = off.  All
	 * nodes on a bus must agree, like on the slot width.
	 */
	u8 prio_period;
	/*
	 * Frames per bus access, like BACnet MS/TP's Nmax_info_frames: an
	 * access in our own slot sends the head and up to this many - 1
	 * queued ordinary frames back to back (within RPW_MAX_WIRE
	 * characters; a frame requesting an ACK ends the burst), so the
	 * IFS and the slot are paid once per access.  0 or 1: one frame.
	 */
	u8 max_info_frames;
	u16 max_queue;		/* queued requests, then -ENOBUFS */
	/* Room of max_queue only each class may use (sum <= max_queue). */
	u8 reserve[RPW_MAC_NR_CLASS];
	u32 baud;		/* 8N1 character time = 10 / baud */
	u32 t_ifs_us;		/* silence that makes the line idle */
	u32 t_slot_us;		/* contention slot */
	u32 t_turnaround_us;	/* end of data frame -> start of ACK */
	u32 ack_timeout_us;	/* upper bound on ACK/echo wait */
	u32 peer_timeout_us;	/* peer counts in the rotation this long */
	/*
	 * Random per module instance (0: never used).  Two modules given
	 * the same address share every slot; after their frames collided
	 * there twice, each leaves its next slot unused if the next bit
	 * says so, so one gets through and the other hears its address.
	 */
	u32 nonce;
};

/* Events for counters and tracepoints; @f may be NULL where noted. */
enum rpw_mac_event {
	RPW_MAC_EV_TX = 1,	/* a frame went out intact (echo verified) */
	RPW_MAC_EV_RX,		/* good frame from another node (incl. ACK) */
	RPW_MAC_EV_COLLISION,	/* our transmission failed; f: our frame */
	RPW_MAC_EV_RETRY,	/* no ACK, frame will be sent again */
	RPW_MAC_EV_DUP,		/* retransmission already delivered */
	RPW_MAC_EV_DUP_ADDR,	/* someone else sends with our address */
	RPW_MAC_EV_RX_DROP,	/* frame dropped by the deframer; f NULL */
	RPW_MAC_EV_TIMEOUT,	/* frame given up (-ETIMEDOUT/-EHOSTUNREACH) */
	RPW_MAC_EV__MAX,
};

struct rpw_mac_txreq {
	struct rpw_frame frame;	/* dst, type, ACKREQ flag, payload */
	/*
	 * The caller numbered the frame (the election names the claim an
	 * ack confirms by seq): the MAC keeps frame.seq.
	 */
	bool keep_seq;
	/*
	 * Queue ahead of ordinary frames not yet on the line, and use the
	 * priority slots and U-points (bounded access, see the doc) until
	 * the first collision.
	 */
	bool urgent;
	/*
	 * Urgent, but let the first U-point pass (a second answer, one the
	 * sender can do without): after a collision it retries with
	 * ordinary access, leaving the priority slots to the frames whose
	 * delay the bound covers.
	 */
	bool defer;
	/*
	 * Ordinary access, but queued like an urgent request (behind the
	 * frame in service and the urgent and ahead requests): a claim must
	 * not wait behind the module's own start-up question.
	 */
	bool ahead;
	/*
	 * Answers follow this frame (flag ANS).  After one nobody ACKs, its
	 * U-point is for the urgent answers (the election's); after a
	 * unicast frame with RPW_F_ACKREQ, the addressee gets the answer
	 * slot, in front of the next round (power allocation requests).
	 */
	bool answered;
	/* enum rpw_mac_class: whose queue room it takes (fixed until done). */
	u8 cls;
	/*
	 * 0, or the frame is worthless after this time (an acknowledgment
	 * the claimer no longer counts): dropped unsent, done(-ETIME).
	 */
	u64 expires_ns;
	/* Private to the MAC between submit and done. */
	struct rpw_mac_txreq *next;
	bool resp;		/* submitted from rx(): an answer */
	bool optional;		/* submitted with defer (cleared later) */
	u64 ready_ns;		/* became eligible for the bus */
	u8 tries;		/* intact transmissions so far */
	u8 collisions;		/* failed attempts so far */
};

struct rpw_mac_ops {
	/* Put @len bytes on the line now (no partial writes expected). */
	void (*tx)(void *ctx, const u8 *buf, size_t len);
	/* Stop driving the line, flush bytes not yet sent. */
	void (*tx_abort)(void *ctx);
	/* Frame for the upper layer (never ACKs, never duplicates). */
	void (*rx)(void *ctx, const struct rpw_frame *f);
	/*
	 * @req leaves the MAC: 0 (unicast acknowledged, or sent intact when
	 * no ACK was requested), -ETIMEDOUT, -EHOSTUNREACH (never heard from
	 * the destination), -EBUSY (max_collisions), -ECANCELED.
	 */
	void (*done)(void *ctx, struct rpw_mac_txreq *req, int result);
	/* (Re)arm the single timer; RPW_MAC_TIMER_OFF cancels it. */
	void (*timer)(void *ctx, u64 expires_ns);
	/* Optional. */
	void (*event)(void *ctx, enum rpw_mac_event ev,
		      const struct rpw_frame *f);
	/*
	 * Optional, authenticated frames (rpw_auth.h).  @seal gets a copy
	 * of every frame about to go on the line, ACKs included, with the
	 * header of this transmission, and may append the trailer; an error
	 * gives the frame up with done(error) (an ACK is not sent).  @open
	 * judges every good frame from another node that would act here (to
	 * us or broadcast; an ACK completing our frame) before the MAC ACKs,
	 * delivers or remembers it; only RPW_AUTH_OK frames go further, the
	 * others count in stats.auth_*.  Without @open, version-2 frames are
	 * RPW_AUTH_BAD.
	 */
	int (*seal)(void *ctx, struct rpw_frame *f);
	enum rpw_auth_verdict (*open)(void *ctx, struct rpw_frame *f);
};

struct rpw_mac_stats {
	u64 tx_frames;		/* non-ACK frames sent intact */
	u64 tx_bytes;		/* their wire bytes */
	u64 rx_frames;		/* good frames from others (incl. ACKs) */
	u64 rx_bytes;		/* every byte read from the line (echo too) */
	u64 crc_errors;
	u64 framing_errors;	/* escape, short, length, truncated */
	u64 header_errors;	/* version, address, type */
	u64 oversize;
	u64 garbage_bytes;	/* bytes outside any frame */
	u64 collisions;		/* own transmissions that failed */
	u64 echo_timeouts;	/* own bytes never read back */
	u64 retries;		/* retransmissions after missing ACK */
	u64 timeouts;		/* frames given up after max_retries */
	u64 unreachable;	/* ... of which never heard the peer */
	u64 busy_drops;		/* frames given up after max_collisions */
	u64 cancelled;
	u64 duplicates;		/* retransmissions suppressed */
	u64 dup_addr;		/* frames with our src that are not ours */
	u64 dup_skips;		/* own slots left to a copy of our address */
	u64 expired;		/* frames dropped unsent after expires_ns */
	u64 acks_tx;
	u64 acks_rx;		/* ACKs that completed one of our frames */
	u64 ack_bytes;		/* wire bytes of our intact ACKs */
	u64 delivered;		/* frames passed to ops->rx */
	u64 access_count;	/* intact non-ACK accesses (a burst is one) */
	u64 access_sum_ns;	/* ready -> start of intact transmission */
	u64 access_max_ns;
	u64 access_last_ns;
	u64 urgent_count;	/* ... sent in a U-point or priority slot */
	u64 urgent_sum_ns;	/* ready -> start, those frames */
	u64 urgent_max_ns;
	u64 answer_count;	/* accesses in an answer slot of ours */
	/* Submissions refused for want of queue room (-ENOBUFS), by class. */
	u64 refused[RPW_MAC_NR_CLASS];
	/* Good frames dropped by ops->open (enum rpw_auth_verdict). */
	u64 auth_missing;
	u64 auth_bad;
	u64 auth_replay;
	u64 auth_fail;		/* frames given up because @seal failed */
};

/*
 * Echo latency of our own transmissions (rackpwr-mac.rst, "Timing from
 * the line"): for each intact transmission, the time its first (last)
 * byte came back minus the time tx() was called plus the line time up to
 * that byte, the later of the two.  It holds the receive latency L of this
 * node and the transmit alignment A.
 */
#define RPW_MAC_LAT_WINDOW	128	/* samples the estimate is taken over */
#define RPW_MAC_LAT_MIN		16	/* samples before a budget is given */
/* Highest budget: its timing stays within node-set's ranges from 9600 baud. */
#define RPW_MAC_LAT_CAP_US	30000

struct rpw_mac_lat {
	u64 samples;		/* intact transmissions measured */
	u32 last_ns;
	u32 p99_ns;		/* nearest-rank 99th percentile of the window */
	u32 win_max_ns;		/* largest in the window */
	u32 max_ns;		/* largest ever */
	/*
	 * The receive-latency budget L the line needs (us, quantized, with
	 * hysteresis); valid once samples >= RPW_MAC_LAT_MIN.
	 */
	u32 budget_us;
};

/*
 * Duplicate suppression remembers the frames last delivered from a peer
 * in four sets: unicast to us and broadcast, each sent with ordinary and
 * with urgent access (PRIO), the last RPW_MAC_DUP_DEPTH frames of each.
 */
#define RPW_MAC_DUP_SETS	4
#define RPW_MAC_DUP_DEPTH	(RPW_MAC_MAX_BURST + 1)

struct rpw_mac_peer {
	u64 last_heard_ns;	/* valid when heard */
	u64 rx_frames;		/* good frames from this address */
	u8 heard;		/* ever received a good frame from it */
	u8 dup_n[RPW_MAC_DUP_SETS];	/* valid entries of dup_key[set] */
	/* Hash of seq, type, len and payload; newest first. */
	u32 dup_key[RPW_MAC_DUP_SETS][RPW_MAC_DUP_DEPTH];
};

enum rpw_mac_mode {
	RPW_MAC_MODE_SWEEP = 0,	/* descending address sweep */
	RPW_MAC_MODE_ROTATE,	/* rotating slots among known peers */
};

/* A frame of ours as its late echo would show it. */
struct rpw_mac_txid {
	u8 type, dst, seq;
	u32 sum;		/* flags, length and payload */
	u64 until;		/* a late echo arrives before this, or 0 */
};

/* Failed attempts remembered: a retry may fail before the echo arrives. */
#define RPW_MAC_LATE	2

struct rpw_mac {
	/* All fields private except stats and peers (read-only). */
	struct rpw_mac_cfg cfg;
	const struct rpw_mac_ops *ops;
	void *ctx;

	u64 t_char;		/* ns per character */
	u64 t_ifs, t_slot, t_turn, t_ack, t_peer;
	u64 t_member;		/* T_peer, or longer for a long round */

	struct rpw_deframer dfr;
	struct rpw_frame rxf;
	bool rx_partial;	/* body bytes since the last flag */
	bool rx_skip;		/* dropping until the next flag */
	bool rx_bad;		/* bad frame/garbage in this busy period */
	u8 rx_prev;		/* previous byte (abort detection) */
	u8 rx_data_src;		/* sender of a good data frame, or 0 */
	u8 rx_ans_dst;		/* ... its addressee, if it asked for an answer */
	u8 top_heard;		/* highest address heard: sweep start */
	u16 n_heard;		/* addresses ever heard, ourselves included */

	/* Line / arbitration state. */
	u64 t_last;		/* time of the last received byte */
	bool idle_done;		/* quiet period processed */
	u8 mode;		/* enum rpw_mac_mode */
	u8 mode_addr;		/* SWEEP: P (next slot for P-1); ROTATE: s */
	u8 anchor;		/* last data sender heard, 0 = none */
	u16 my_slot;		/* ROTATE: our slot index */
	u16 ring;		/* ROTATE: slots per round */
	u64 origin;		/* start of slot 0 */
	u16 p_first;		/* first priority slot after the origin */
	bool p_resp;		/* ... and it is for answers only */
	u16 ring_off;		/* ROTATE: ring slots used before origin */
	/* Owner of the answer slot, origin - T_slot .. origin; 0 = none. */
	u8 ans_addr;
	u64 busy_start;		/* first byte of the current busy period */
	bool u_offer;		/* line ended with a frame nobody ACKs */
	bool u_mine;		/* ... sent by us: the U-point is not ours */
	bool u_ans;		/* ... with ANS: the U-point is for answers */
	bool in_rx;		/* inside ops->rx() */
	bool own_coll;		/* our frame collided in its own slot */
	bool dup_skip;		/* leave our next slot unused (see nonce) */
	u64 dup_hold;		/* ... the one that ends here */

	/* Transmitter. */
	bool tx_active;
	bool tx_is_ack;
	bool tx_urgent;		/* head was eligible for urgent access */
	bool tx_answer;		/* this access is in our answer slot */
	u16 tx_len;
	u16 echo_pos;
	u64 tx_start;
	u64 echo_deadline;
	u8 txbuf[RPW_MAX_WIRE];
	/*
	 * The frames of this access (burst[0] is the head; the rest follow
	 * it in the queue), where each ends in txbuf, and how many of them
	 * have been echoed intact.
	 */
	struct rpw_mac_txreq *burst[RPW_MAC_MAX_BURST];
	u16 burst_end[RPW_MAC_MAX_BURST];
	struct rpw_mac_txid burst_id[RPW_MAC_MAX_BURST];
	u8 burst_n, burst_done;
	u64 burst_until;	/* late echoes of a failed burst until */
	/* The frame on the line, and our last failed ones (late echoes). */
	struct rpw_mac_txid tx_id;
	struct rpw_mac_txid late[RPW_MAC_LATE];
	u8 late_next;

	/* ACK we owe. */
	bool ack_pending;
	u8 ack_dst, ack_seq;
	u64 ack_due;
	u64 ack_ref;		/* t_last when the ACK was scheduled */

	/* Queue (head is the frame in service). */
	struct rpw_mac_txreq *head, *tail;
	u16 qlen;
	u16 qcls[RPW_MAC_NR_CLASS];	/* queued requests per class */
	bool wait_ack;
	u64 ack_deadline;
	u8 seq[RPW_MAC_NR_ADDR];	/* next seq per destination */

	u64 timer_armed;
	int depth;		/* entry point nesting (callbacks) */

	struct rpw_mac_stats stats;
	struct rpw_mac_peer peers[RPW_MAC_NR_ADDR];

	/* Echo latency: ring of the last samples (ns), see rpw_mac_lat. */
	u32 lat_win[RPW_MAC_LAT_WINDOW];
	u64 lat_samples;
	u32 lat_first;		/* of the transmission on the line */
	u32 lat_last, lat_max;
	u32 lat_budget_us;
};

/* Fill @cfg with the defaults of @profile for @addr at @baud. */
void rpw_mac_cfg_default(struct rpw_mac_cfg *cfg, enum rpw_mac_profile profile,
			 u8 addr, u32 baud);
/* 0, or -EINVAL with a static reason in *@why (if @why). */
int rpw_mac_cfg_validate(const struct rpw_mac_cfg *cfg, const char **why);

/* ns per 8N1 character at @baud (rounded up). */
u64 rpw_mac_char_ns(u32 baud);

/*
 * Documented worst-case access delay (ns) for @n saturated nodes, frames of
 * at most @frame_chars wire characters, ACKs when @ack, and receive latency
 * of at most @rx_lat_ns (see the doc for the derivation and assumptions).
 */
u64 rpw_mac_access_bound_ns(const struct rpw_mac_cfg *cfg, unsigned int n,
			    unsigned int frame_chars, bool ack, u64 rx_lat_ns);

/*
 * Documented worst-case access delay (ns) of an urgent request: from
 * submit to the start of its transmission, for any load, as long as no
 * other node has an urgent request at the same time (see the doc).
 */
u64 rpw_mac_urgent_bound_ns(const struct rpw_mac_cfg *cfg, u64 rx_lat_ns);

/*
 * The "uart" profile's timing for a receive-latency budget of @lat_us
 * instead of its fixed 1 ms, at cfg->baud (rackpwr-mac.rst, "Timing from
 * the line"): sets t_turnaround_us, t_slot_us, t_ifs_us and ack_timeout_us
 * of @cfg.  @lat_us is rounded up to the next step of the budget ladder
 * (at most RPW_MAC_LAT_CAP_US); 1000 gives the "uart" profile's values, 0
 * the "sim" profile's.  Returns the budget used.
 */
u32 rpw_mac_cfg_for_latency(struct rpw_mac_cfg *cfg, u32 lat_us);

/*
 * The budget a node with budget @cur_us adopts when its line needs
 * @need_us: the ladder step at or above @need_us if that is higher than
 * @cur_us (at once), a lower step only when @need_us with half of it again
 * still fits below @cur_us (hysteresis), else @cur_us.
 */
u32 rpw_mac_lat_budget(u32 cur_us, u32 need_us);

/* The echo latency measured so far (see struct rpw_mac_lat). */
void rpw_mac_latency(const struct rpw_mac *mac, struct rpw_mac_lat *out);

/* -EINVAL (bad cfg or missing op) or 0.  The line counts as idle at @now. */
int rpw_mac_init(struct rpw_mac *mac, const struct rpw_mac_cfg *cfg,
		 const struct rpw_mac_ops *ops, void *ctx, u64 now);

/* Everything read back from the line, our own echo included. */
void rpw_mac_rx_bytes(struct rpw_mac *mac, const u8 *buf, size_t len, u64 now);
void rpw_mac_timer_expired(struct rpw_mac *mac, u64 now);

/*
 * Queue @req (caller-owned until done).  The MAC sets src and seq (one
 * 8-bit counter per destination, broadcast has its own) and clears
 * RPW_F_RETX.  -EINVAL for a frame the codec rejects, an ACK, a class
 * >= RPW_MAC_NR_CLASS or dst == own address; -ENOBUFS (counted in
 * stats.refused[cls]) when req->cls has used its reserve and the shared
 * room (max_queue minus all reserves) is full.
 */
int rpw_mac_submit(struct rpw_mac *mac, struct rpw_mac_txreq *req, u64 now);

/* Every queued request gets done(-ECANCELED); the line is released. */
void rpw_mac_cancel_all(struct rpw_mac *mac, u64 now);

/*
 * Withdraw @req: done(-ECANCELED) and 0, or -EBUSY while it is on the line
 * or waiting for its ACK (it then completes by itself, soon), or -ENOENT.
 */
int rpw_mac_cancel(struct rpw_mac *mac, struct rpw_mac_txreq *req, u64 now);

/*
 * Withdraw every queued request for which @match() is true, except one on
 * the line or waiting for its ACK: done(-ECANCELED) each.  Returns how many.
 * Not from inside a callback (like every entry point but submit).
 */
unsigned int rpw_mac_cancel_if(struct rpw_mac *mac,
			       bool (*match)(const struct rpw_mac_txreq *req,
					     void *arg),
			       void *arg, u64 now);

/* True while frames are queued, an ACK is owed or a frame is on the line. */
bool rpw_mac_busy(const struct rpw_mac *mac);

void rpw_mac_reset_stats(struct rpw_mac *mac);

/*
 * Peer iterator for dumps: the first heard address >= @from, or -ENOENT.
 * Resume a dump with the returned address + 1.
 */
int rpw_mac_peer_next(const struct rpw_mac *mac, int from);
const struct rpw_mac_peer *rpw_mac_peer(const struct rpw_mac *mac, u8 addr);

const char *rpw_mac_event_name(enum rpw_mac_event ev);

/*
 * Give every queued request that has an expiry not yet past and for which
 * @match() is true the expiry @expires_ns (> @now): a frame worthless at
 * the end of a lease follows the lease as it is renewed.  The frame on the
 * line or waiting for its ACK too (its retries).  Returns how many.  It
 * sends nothing and calls no callback but ops->timer, so unlike cancel_if
 * it may be called from inside one.
 */
unsigned int rpw_mac_expiry_if(struct rpw_mac *mac,
			       bool (*match)(const struct rpw_mac_txreq *req,
					     void *arg),
			       void *arg, u64 expires_ns, u64 now);

#endif /* _RPW_MAC_H */
