// SPDX-License-Identifier: GPL-2.0-only
/*
 * rackpwr - bus access layer: slot arbitration, echo-verified transmission,
 * ACK/retransmission and duplicate suppression on the shared RS-485 line.
 *
 * Pure logic: no allocation, no locking, no clocks.  See rpw_mac.h for the
 * calling rules and Documentation/networking/rackpwr-mac.rst for the design.
 *
 * Arbitration in one paragraph: every byte read back marks the line busy;
 * T_ifs of silence makes it idle and starts slot 0 (the "origin").  In
 * ROTATE mode the slots belong, in descending address order starting after
 * the last data sender, to the peers heard within T_peer, with one extra
 * "newcomer" slot where the address order wraps (descending, like the
 * sweep).  In SWEEP mode (start-up, after any bad frame) slot k belongs
 * to address P - 1 - k, where P is the last sender of the sweep: a
 * descending pass over the whole address range that needs no shared peer
 * knowledge, so exactly one contender wins.  A data frame that asks its
 * addressee for an answer (ANS with ACKREQ) puts an "answer slot" for that
 * addressee in front of slot 0; what is sent there keeps the slot order.
 */

#include "rpw_compat.h"
#include "rpw_frame.h"
#include "rpw_mac.h"

#define RPW_MAC_NS_PER_US	1000ULL
/* Longest ACK on the wire: 8 body bytes, all escaped, plus two flags. */
#define RPW_MAC_ACK_MAX_CHARS	(2 + 2 * (RPW_HDR_LEN + RPW_FCS_LEN))
/* Receive latency budget the "uart" profile is designed for. */
#define RPW_MAC_UART_LAT_US	1000U
/* Longest answer (a frame sent in an ANS frame's U-point) the bound covers. */
#define RPW_MAC_ANSWER_CHARS	32
/* Retries of a collided urgent frame in priority slots, spread over. */
#define RPW_MAC_URGENT_RETRIES	2
#define RPW_MAC_URGENT_SPREAD	4
/* Ordinary slots between two priority slots (default). */
#define RPW_MAC_PRIO_PERIOD	4
/* Frames per access (default): 16-byte payloads fill RPW_MAX_WIRE first. */
#define RPW_MAC_INFO_FRAMES	8
/*
 * Default queue room: 32 requests, of which each class keeps its own
 * share.  The election never has more than a few frames queued (it limits
 * its own backlog, see rpw_elect.h); 8 covers it with room to spare.
 */
#define RPW_MAC_MAX_QUEUE	32
static const u8 rpw_mac_reserve_default[RPW_MAC_NR_CLASS] = {
	[RPW_MAC_CLASS_USER]	= 4,
	[RPW_MAC_CLASS_ELECT]	= 8,
	[RPW_MAC_CLASS_PROTO]	= 4,
	[RPW_MAC_CLASS_ALLOC]	= 4,
};

static const u8 rpw_mac_abort_seq[2] = { RPW_ESC, RPW_FLAG };

u64 rpw_mac_char_ns(u32 baud)
{
	u32 whole, rest;

	if (!baud)
		return 0;
	/* 10^10 / baud without a 64-bit division: 10 * (10^9 / baud). */
	whole = 1000000000U / baud;
	rest = 1000000000U % baud;
	/* rest * 10 < 4 * 10^7: fits in u32. */
	return (u64)whole * RPW_MAC_CHAR_BITS +
	       (rest * RPW_MAC_CHAR_BITS + baud - 1) / baud;
}

/* Kernel code must not divide u64 by u64 on 32-bit: shift and subtract. */
static u64 rpw_mac_div(u64 a, u64 b)
{
	u64 q = 0, bit = 1;

	if (!b)
		return 0;
	while (b < a && !(b >> 63)) {
		b <<= 1;
		bit <<= 1;
	}
	while (bit) {
		if (a >= b) {
			a -= b;
			q |= bit;
		}
		b >>= 1;
		bit >>= 1;
	}
	return q;
}

static u32 rpw_mac_ns_to_us_up(u64 ns)
{
	return (u32)rpw_mac_div(ns + RPW_MAC_NS_PER_US - 1,
				RPW_MAC_NS_PER_US);
}

void rpw_mac_cfg_default(struct rpw_mac_cfg *cfg, enum rpw_mac_profile profile,
			 u8 addr, u32 baud)
{
	u32 tc;

	memset(cfg, 0, sizeof(*cfg));
	cfg->addr = addr;
	cfg->max_addr = RPW_ADDR_MAX;
	cfg->max_retries = 3;
	cfg->max_collisions = 16;
	cfg->send_abort = 1;
	cfg->max_queue = RPW_MAC_MAX_QUEUE;
	memcpy(cfg->reserve, rpw_mac_reserve_default, sizeof(cfg->reserve));
	cfg->prio_period = RPW_MAC_PRIO_PERIOD;
	cfg->max_info_frames = RPW_MAC_INFO_FRAMES;
	cfg->baud = baud;
	tc = rpw_mac_ns_to_us_up(rpw_mac_char_ns(baud));

	if (profile == RPW_MAC_PROFILE_UART) {
		/*
		 * Slots and IFS must cover a receive latency of up to L:
		 * T_slot >= 2 T_char + 2 L, T_ifs >= T_turn + 2 T_char + 2 L,
		 * plus margin.  T_turn lets the sender release the driver.
		 */
		cfg->t_turnaround_us = max_t(u32, 500, 4 * tc);
		cfg->t_slot_us = 2 * tc + 2 * RPW_MAC_UART_LAT_US + 500;
		cfg->t_ifs_us = cfg->t_turnaround_us + 2 * tc +
				2 * RPW_MAC_UART_LAT_US + 1000;
		cfg->ack_timeout_us = 20000 + 2 * cfg->t_ifs_us;
		cfg->peer_timeout_us = 2000000;
	} else {
		/* Exact byte timing: 2 chars plus half a char of margin. */
		cfg->t_turnaround_us = 0;
		cfg->t_slot_us = (5 * tc + 1) / 2;
		cfg->t_ifs_us = (5 * tc + 1) / 2;
		cfg->ack_timeout_us = max_t(u32, 2000, 64 * tc);
		cfg->peer_timeout_us = 1000000;
	}
}

/*
 * Receive-latency budgets a node may use (us): quantized, so that jitter in
 * the estimate does not change the timing every frame.
 */
static const u32 rpw_mac_lat_steps[] = {
	0, 100, 150, 200, 300, 400, 500, 700, 1000, 1500, 2000, 3000, 4000,
	5000, 7000, 10000, 15000, 20000, RPW_MAC_LAT_CAP_US,
};

static u32 rpw_mac_lat_step(u32 us)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(rpw_mac_lat_steps); i++)
		if (rpw_mac_lat_steps[i] >= us)
			return rpw_mac_lat_steps[i];
	return RPW_MAC_LAT_CAP_US;
}

u32 rpw_mac_lat_budget(u32 cur_us, u32 need_us)
{
	u32 step = rpw_mac_lat_step(need_us);

	if (step >= cur_us)
		return step;
	/* Lower only with room to spare: no flipping between two steps. */
	if (rpw_mac_lat_step(need_us + need_us / 2) < cur_us)
		return step;
	return cur_us;
}

/*
 * The "uart" formulas with L as a parameter: T_slot = 2 T_char + 2 L +
 * L/2, T_ifs = T_turn + 2 T_char + 2 L + L, never below the "sim"
 * profile's 2.5 T_char; T_turn scales with L up to the 1 ms budget.
 */
u32 rpw_mac_cfg_for_latency(struct rpw_mac_cfg *cfg, u32 lat_us)
{
	u32 tc = rpw_mac_ns_to_us_up(rpw_mac_char_ns(cfg->baud));
	u32 l = rpw_mac_lat_step(lat_us);
	u32 turn = max_t(u32, 500, 4 * tc);
	u32 floor = (5 * tc + 1) / 2;

	cfg->t_turnaround_us = turn * min_t(u32, l, RPW_MAC_UART_LAT_US) /
			       RPW_MAC_UART_LAT_US;
	cfg->t_slot_us = max_t(u32, 2 * tc + 2 * l + l / 2, floor);
	cfg->t_ifs_us = cfg->t_turnaround_us +
			max_t(u32, 2 * tc + 3 * l, floor);
	/* A lost echo or ACK ends the wait: keep the spike allowance. */
	if (l)
		cfg->ack_timeout_us = max_t(u32, 20000 + 2 * cfg->t_ifs_us,
					    cfg->t_turnaround_us +
					    cfg->t_ifs_us +
					    RPW_MAC_ACK_MAX_CHARS * tc);
	else
		cfg->ack_timeout_us = max_t(u32, 2000, 64 * tc);
	return l;
}

static int rpw_mac_bad(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return -EINVAL;
}

static unsigned int rpw_mac_reserved(const struct rpw_mac_cfg *cfg)
{
	unsigned int c, sum = 0;

	for (c = 0; c < RPW_MAC_NR_CLASS; c++)
		sum += cfg->reserve[c];
	return sum;
}

int rpw_mac_cfg_validate(const struct rpw_mac_cfg *cfg, const char **why)
{
	u64 tc;

	if (why)
		*why = NULL;
	if (cfg->addr < RPW_ADDR_MIN || cfg->addr > RPW_ADDR_MAX)
		return rpw_mac_bad(why, "address must be 1..254");
	if (cfg->max_addr < cfg->addr || cfg->max_addr > RPW_ADDR_MAX)
		return rpw_mac_bad(why, "max_addr must be >= address and <= 254");
	if (cfg->baud < 300 || cfg->baud > 4000000)
		return rpw_mac_bad(why, "baud must be 300..4000000");
	if (!cfg->max_queue)
		return rpw_mac_bad(why, "max_queue must be at least 1");
	if (rpw_mac_reserved(cfg) > cfg->max_queue)
		return rpw_mac_bad(why, "queue reserves exceed max_queue");
	if (cfg->max_info_frames > RPW_MAC_MAX_BURST)
		return rpw_mac_bad(why, "max_info_frames must be 0..16");
	if (cfg->t_slot_us > 1000000 || cfg->t_ifs_us > 1000000 ||
	    cfg->t_turnaround_us > 1000000 || cfg->ack_timeout_us > 10000000)
		return rpw_mac_bad(why, "timing parameter too large");
	tc = rpw_mac_char_ns(cfg->baud);
	if (cfg->t_slot_us * RPW_MAC_NS_PER_US < 2 * tc)
		return rpw_mac_bad(why, "t_slot shorter than two character times");
	if (cfg->t_ifs_us * RPW_MAC_NS_PER_US <
	    cfg->t_turnaround_us * RPW_MAC_NS_PER_US + 2 * tc)
		return rpw_mac_bad(why,
				   "t_ifs must be >= t_turnaround + two character times");
	if (cfg->ack_timeout_us * RPW_MAC_NS_PER_US <
	    (cfg->t_turnaround_us + cfg->t_ifs_us) * RPW_MAC_NS_PER_US +
	    RPW_MAC_ACK_MAX_CHARS * tc)
		return rpw_mac_bad(why,
				   "ack_timeout shorter than t_turnaround + t_ifs + one ACK");
	if (cfg->peer_timeout_us < 1000)
		return rpw_mac_bad(why, "peer_timeout must be at least 1 ms");
	return 0;
}

u64 rpw_mac_access_bound_ns(const struct rpw_mac_cfg *cfg, unsigned int n,
			    unsigned int frame_chars, bool ack, u64 rx_lat_ns)
{
	u64 tc = rpw_mac_char_ns(cfg->baud);
	u64 t_ifs = cfg->t_ifs_us * RPW_MAC_NS_PER_US;
	u64 t_slot = cfg->t_slot_us * RPW_MAC_NS_PER_US;
	unsigned int burst = max_t(unsigned int, cfg->max_info_frames, 1);
	u64 cf;

	if (!n)
		return 0;
	/* An access carries up to max_info_frames, within RPW_MAX_WIRE. */
	if (burst > 1)
		frame_chars = max_t(unsigned int, frame_chars,
				    min_t(unsigned int, burst * frame_chars,
					  RPW_MAX_WIRE));
	/* One cycle: slot skew + alignment + burst + latency + IFS. */
	cf = rx_lat_ns + tc + frame_chars * tc + rx_lat_ns + t_ifs;
	if (ack)
		cf += cfg->t_turnaround_us * RPW_MAC_NS_PER_US + tc +
		      RPW_MAC_ACK_MAX_CHARS * tc + rx_lat_ns;
	/* Each access may be followed by one in its answer slot. */
	return t_ifs + (u64)(n - 1) * 2 * cf + (u64)n * t_slot;
}

/*
 * An urgent request that just missed a U-point waits for at most one of:
 * (a) a frame started in slot 0 (longest possible, all bytes escaped), its
 * ACK and the U-point after it; (b) that frame, up to two answers (frames
 * flagged ANS reserve their U-point; answers are at most
 * RPW_MAC_ANSWER_CHARS long), the IFS and the priority slot at the origin;
 * (c) on a quiet line, the IFS and prio_period + 1 slots.  Each receive
 * latency step costs rx_lat; slot 0 may start up to a quarter slot late.
 */
u64 rpw_mac_urgent_bound_ns(const struct rpw_mac_cfg *cfg, u64 rx_lat_ns)
{
	u64 tc = rpw_mac_char_ns(cfg->baud);
	u64 t_ifs = cfg->t_ifs_us * RPW_MAC_NS_PER_US;
	u64 t_slot = cfg->t_slot_us * RPW_MAC_NS_PER_US;
	u64 t_turn = cfg->t_turnaround_us * RPW_MAC_NS_PER_US;
	u64 frame = t_ifs + t_slot + RPW_MAX_WIRE * tc + 2 * rx_lat_ns;
	u64 answer = t_turn + rx_lat_ns + RPW_MAC_ANSWER_CHARS * tc + rx_lat_ns;
	u64 a, b, c;

	if (!cfg->prio_period)
		return RPW_MAC_TIMER_OFF;
	a = frame + t_turn + RPW_MAC_ACK_MAX_CHARS * tc + t_turn + rx_lat_ns;
	b = frame + 2 * answer + t_ifs + t_slot + t_slot / 4 + rx_lat_ns;
	c = t_ifs + (cfg->prio_period + 1) * t_slot + t_slot / 4 + rx_lat_ns;
	return max_t(u64, max_t(u64, a, b), c);
}

static void rpw_mac_event(struct rpw_mac *mac, enum rpw_mac_event ev,
			  const struct rpw_frame *f)
{
	if (mac->ops->event)
		mac->ops->event(mac->ctx, ev, f);
}

/* ---- membership and slots ---------------------------------------------- */

static bool rpw_mac_member(const struct rpw_mac *mac, unsigned int a)
{
	const struct rpw_mac_peer *p = &mac->peers[a];

	if (!p->heard)
		return false;
	/* Evaluated at the last byte of the busy period: same for all. */
	if (p->last_heard_ns >= mac->t_last)
		return true;
	return mac->t_last - p->last_heard_ns < mac->t_member;
}

/*
 * How long a silent member stays in the rotation: T_peer, but never less
 * than two of the longest rounds the current ring can take (a longest
 * access with its ACK per member, and one address sweep), so that a
 * saturated member, which sends once per round, never drops out because
 * the round outgrew T_peer (250 members in the UART profile: ~4 s rounds
 * against 2 s).  That also covers one round in which every access is
 * followed by another in its answer slot.  The ring counts at least every
 * address ever heard: after the start-up sweep the first ring is still
 * empty.  Nodes with the same view count alike, so all keep the same
 * window.
 */
static u64 rpw_mac_member_window(const struct rpw_mac *mac)
{
	u64 cycle = mac->t_slot + mac->t_ifs + 2 * mac->t_turn +
		    (RPW_MAX_WIRE + RPW_MAC_ACK_MAX_CHARS + 2) * mac->t_char;
	u64 round = max_t(u16, mac->ring, mac->n_heard + 1) * cycle +
		    (max_t(u8, mac->cfg.max_addr, mac->top_heard) + 1) *
		    mac->t_slot;

	return max_t(u64, mac->t_peer, 2 * round);
}

/*
 * ROTATE(s): the ring is the members in descending address order (the
 * direction of the sweep, so a sweep flows into the rotation without
 * serving anyone twice) plus one newcomer slot where the order wraps from
 * the lowest address to the highest; slot 0 is the ring element after s.
 * A node that does not count itself as a member (nothing sent intact
 * within T_peer) uses the newcomer slot, so it never takes a member's slot.
 */
static void rpw_mac_rotate_slot(struct rpw_mac *mac)
{
	unsigned int a = mac->mode_addr;
	unsigned int i;
	u16 count = 0, pos = 0;
	bool self_member;

	/* From the ring as it was: the round it takes decides. */
	mac->t_member = rpw_mac_member_window(mac);
	self_member = rpw_mac_member(mac, mac->cfg.addr);

	for (i = RPW_ADDR_MIN; i <= RPW_ADDR_MAX; i++) {
		a = a <= RPW_ADDR_MIN ? RPW_ADDR_MAX : a - 1;
		if (a == RPW_ADDR_MAX) {
			if (!self_member)
				pos = count;
			count++;
		}
		if (rpw_mac_member(mac, a)) {
			if (a == mac->cfg.addr)
				pos = count;
			count++;
		}
	}
	mac->my_slot = pos;
	mac->ring = count;
}

static void rpw_mac_set_mode(struct rpw_mac *mac, u8 mode, u8 addr, u64 origin)
{
	mac->mode = mode;
	mac->mode_addr = addr;
	mac->origin = origin;
	mac->p_first = 0;
	mac->p_resp = false;
	mac->ring_off = 0;
	mac->ans_addr = 0;
	if (mode == RPW_MAC_MODE_ROTATE)
		rpw_mac_rotate_slot(mac);
}

/*
 * First address of a sweep: cfg.max_addr, or a higher address that has
 * been heard, so every node that heard the same frames sweeps alike.
 */
static u8 rpw_mac_sweep_top(const struct rpw_mac *mac)
{
	return max_t(u8, mac->cfg.max_addr, mac->top_heard);
}

/*
 * Priority slots: with prio_period m, the physical slots p_first,
 * p_first + (m + 1), ... after the origin are reserved for urgent requests
 * and the sweep and rotation use the others ("logical" slots, in order).
 * The first one is slot 0 after a collision, a missing ACK or a repeated
 * round, and slot 1 when the line ended with a frame nobody ACKs: that
 * frame offered a U-point already, and on a saturated line the owner of
 * slot 0 always sends, so urgent access costs it nothing.
 */
static u64 rpw_mac_phys(const struct rpw_mac *mac, u64 j)
{
	u64 m = mac->cfg.prio_period, f = mac->p_first;

	if (!m || j < f)
		return j;
	j -= f;
	return f + 1 + j + rpw_mac_div(j, m);
}

/* The first logical slot at physical index @k or later. */
static u64 rpw_mac_logical_from(const struct rpw_mac *mac, u64 k)
{
	u64 m = mac->cfg.prio_period, f = mac->p_first, d, g, r;

	if (!m || k <= f)
		return k;
	d = k - f - 1;
	g = rpw_mac_div(d, m + 1);
	r = d - g * (m + 1);
	return f + g * m + (r < m ? r : m);
}

/* The first priority slot at physical index @k or later. */
static u64 rpw_mac_pslot_from(const struct rpw_mac *mac, u64 k)
{
	u64 m = mac->cfg.prio_period, f = mac->p_first;

	if (k <= f)
		return f;
	return f + rpw_mac_div(k - f + m, m + 1) * (m + 1);
}

static u64 rpw_mac_slot_time(const struct rpw_mac *mac, u64 k)
{
	return mac->origin + k * mac->t_slot;
}

/* A sweep has mode_addr - 1 logical slots (addresses mode_addr - 1 .. 1). */
static u64 rpw_mac_sweep_end(const struct rpw_mac *mac)
{
	if (mac->mode_addr <= 1)
		return mac->origin;
	return rpw_mac_slot_time(mac, rpw_mac_phys(mac, mac->mode_addr - 2) + 1);
}

/* May the head request use priority slots (and, if !collisions, U-points)? */
static bool rpw_mac_urgent_head(const struct rpw_mac *mac)
{
	const struct rpw_mac_txreq *req = mac->head;

	return req && req->urgent && mac->cfg.prio_period &&
	       req->collisions <= (req->optional ? 0 : RPW_MAC_URGENT_RETRIES);
}

/*
 * The first priority slot the head may use.  Two urgent frames that
 * collided (two modules answering one claim with different views of whose
 * turn it is) retry in different priority slots, picked by address, before
 * they fall back to the sweep; and the first slot after a frame flagged ANS
 * belongs to its answers that missed the U-point (a late timer), not to a
 * heartbeat that fell due.
 */
static u64 rpw_mac_pslot_min(const struct rpw_mac *mac)
{
	const struct rpw_mac_txreq *req = mac->head;
	u64 m1 = mac->cfg.prio_period + 1;
	unsigned int skip = 0;

	if (req->collisions == 1)
		skip = mac->cfg.addr % RPW_MAC_URGENT_SPREAD;
	else if (req->collisions > 1)
		skip = (mac->cfg.addr / RPW_MAC_URGENT_SPREAD) %
		       RPW_MAC_URGENT_SPREAD;
	else if (mac->p_resp && (!req->resp || req->defer))
		skip = 1;
	return mac->p_first + skip * m1;
}

/*
 * Next start time for us at or after @now minus the lateness tolerance.
 * *@slot is false when the value is only a wake-up (end of a sweep in
 * which we have no slot left).
 */
static u64 rpw_mac_next_slot(const struct rpw_mac *mac, u64 now, bool *slot)
{
	u64 tol = mac->t_slot / 4;
	u64 k = 0, j, t, end, tp = RPW_MAC_TIMER_OFF;
	u16 mine;

	now = max_t(u64, now, mac->dup_hold);
	/* Our answer slot comes before every other slot of the round. */
	if (mac->ans_addr == mac->cfg.addr &&
	    mac->origin - mac->t_slot + tol >= now) {
		*slot = true;
		return mac->origin - mac->t_slot;
	}
	/* First physical slot that has not passed yet. */
	if (now > mac->origin + tol)
		k = rpw_mac_div(now - tol - mac->origin + mac->t_slot - 1,
				mac->t_slot);
	if (rpw_mac_urgent_head(mac)) {
		j = max_t(u64, k, rpw_mac_pslot_min(mac));
		tp = rpw_mac_slot_time(mac, rpw_mac_pslot_from(mac, j));
	}

	if (mac->mode == RPW_MAC_MODE_SWEEP) {
		end = rpw_mac_sweep_end(mac);
		if (tp >= end)
			tp = RPW_MAC_TIMER_OFF;
		if (mac->cfg.addr < mac->mode_addr) {
			j = mac->mode_addr - 1 - mac->cfg.addr;
			t = rpw_mac_slot_time(mac, rpw_mac_phys(mac, j));
			if (t + tol >= now)
				tp = min_t(u64, tp, t);
		}
		*slot = tp != RPW_MAC_TIMER_OFF;
		return *slot ? tp : end;
	}

	/*
	 * ROTATE: the round repeats while nobody transmits; ring_off slots
	 * of it were used before the origin.
	 */
	mine = (mac->my_slot + mac->ring - mac->ring_off) % mac->ring;
	j = rpw_mac_logical_from(mac, k);
	if (j > mine)
		j = mine + rpw_mac_div(j - mine + mac->ring - 1, mac->ring) *
			   mac->ring;
	else
		j = mine;
	t = rpw_mac_slot_time(mac, rpw_mac_phys(mac, j));
	*slot = true;
	return min_t(u64, t, tp);
}

/* ---- queue -------------------------------------------------------------- */

/*
 * Room for one more request of class @cls: inside its own reserve, or in
 * the shared room that the requests beyond their class's reserve use.
 */
static bool rpw_mac_room(const struct rpw_mac *mac, unsigned int cls)
{
	unsigned int c, shared, used = 0;

	if (mac->qcls[cls] < mac->cfg.reserve[cls])
		return true;
	shared = mac->cfg.max_queue - rpw_mac_reserved(&mac->cfg);
	for (c = 0; c < RPW_MAC_NR_CLASS; c++)
		if (mac->qcls[c] > mac->cfg.reserve[c])
			used += mac->qcls[c] - mac->cfg.reserve[c];
	return used < shared;
}

/* @req left the queue (not yet reported done). */
static void rpw_mac_unqueued(struct rpw_mac *mac,
			     const struct rpw_mac_txreq *req)
{
	mac->qlen--;
	mac->qcls[req->cls]--;
}

static void rpw_mac_finish(struct rpw_mac *mac, int result, u64 now)
{
	struct rpw_mac_txreq *req = mac->head;

	if (!req)
		return;
	mac->head = req->next;
	if (!mac->head)
		mac->tail = NULL;
	else if (!mac->head->urgent)	/* urgent: waiting since submit */
		mac->head->ready_ns = now;
	rpw_mac_unqueued(mac, req);
	mac->wait_ack = false;
	req->next = NULL;
	mac->ops->done(mac->ctx, req, result);
}

/* No ACK for the head frame: retransmit at our next turn or give up. */
static void rpw_mac_ack_missing(struct rpw_mac *mac, u64 now)
{
	struct rpw_mac_txreq *req = mac->head;

	mac->wait_ack = false;
	if (!req)
		return;
	if (req->tries > mac->cfg.max_retries) {
		mac->stats.timeouts++;
		rpw_mac_event(mac, RPW_MAC_EV_TIMEOUT, &req->frame);
		if (!mac->peers[req->frame.dst].heard) {
			mac->stats.unreachable++;
			rpw_mac_finish(mac, -EHOSTUNREACH, now);
		} else {
			rpw_mac_finish(mac, -ETIMEDOUT, now);
		}
		return;
	}
	mac->stats.retries++;
	req->frame.flags |= RPW_F_RETX;
	req->ready_ns = now;
	rpw_mac_event(mac, RPW_MAC_EV_RETRY, &req->frame);
}

/* ---- line state --------------------------------------------------------- */

/* A frame ended (or the line went quiet): deferred requests may go next. */
static void rpw_mac_clear_defer(struct rpw_mac *mac)
{
	struct rpw_mac_txreq *req;

	for (req = mac->head; req && req->urgent; req = req->next)
		req->defer = false;
}

/*
 * A data frame went over the line.  One sent in turn (not PRIO) anchors
 * the next round at its sender, and if it asks its addressee for an
 * answer (ANS on a unicast frame with ACKREQ), the addressee gets the
 * answer slot.  A PRIO frame from that addressee after it in the same
 * busy period is the answer: a node whose idle point came late (receive
 * latency) reads the answer slot's access as part of the busy period
 * before it, and must end up where the others do.
 */
static void rpw_mac_data_frame(struct rpw_mac *mac, const struct rpw_frame *f)
{
	if (f->flags & RPW_F_PRIO) {
		if (f->src == mac->rx_ans_dst)
			mac->rx_ans_dst = 0;
		return;
	}
	mac->rx_data_src = f->src;
	mac->rx_ans_dst = 0;
	if ((f->flags & (RPW_F_ANS | RPW_F_ACKREQ)) ==
	    (RPW_F_ANS | RPW_F_ACKREQ) && f->dst != RPW_ADDR_BCAST)
		mac->rx_ans_dst = f->dst;
}

/* Same rotation from @at, @passed more of its slots used. */
static void rpw_mac_rotate_on(struct rpw_mac *mac, u64 passed, u64 at)
{
	u64 off = mac->ring_off + passed;

	rpw_mac_set_mode(mac, RPW_MAC_MODE_ROTATE, mac->mode_addr, at);
	mac->ring_off = off - rpw_mac_div(off, mac->ring) * mac->ring;
}

/* T_ifs of silence after the last byte at @at: decide the new mode. */
static void rpw_mac_idle(struct rpw_mac *mac, u64 at)
{
	u8 src = mac->rx_data_src;
	u8 ans = mac->rx_ans_dst;
	u64 passed = 0;

	if (mac->rx_partial) {
		/* A frame that stopped without its closing flag. */
		mac->stats.framing_errors++;
		mac->rx_bad = true;
		rpw_mac_event(mac, RPW_MAC_EV_RX_DROP, NULL);
	}
	/* Frames never span an idle gap. */
	rpw_deframer_reset(&mac->dfr);
	mac->rx_partial = false;
	mac->rx_skip = false;
	mac->ack_pending = false;	/* too late to answer now */
	mac->idle_done = true;

	/*
	 * Only frames out of turn (PRIO) were sent: the slots before them
	 * were offered and passed, so the sweep or round goes on after them
	 * instead of restarting (heartbeats every T_h starved the addresses
	 * at the end of a longer sweep).  Frames in the answer slot, before
	 * the origin, pass none.
	 */
	if (!src && !mac->rx_bad && mac->busy_start >= mac->origin)
		passed = rpw_mac_logical_from(mac, rpw_mac_div(mac->busy_start -
							       mac->origin,
							       mac->t_slot) + 1);
	if (src)
		mac->anchor = src;
	if (mac->rx_bad)
		rpw_mac_set_mode(mac, RPW_MAC_MODE_SWEEP,
				 rpw_mac_sweep_top(mac) + 1, at);
	else if (src && mac->mode == RPW_MAC_MODE_SWEEP &&
		 src < mac->mode_addr)
		rpw_mac_set_mode(mac, RPW_MAC_MODE_SWEEP, src, at);
	else if (src)
		rpw_mac_set_mode(mac, RPW_MAC_MODE_ROTATE, src, at);
	else if (mac->mode == RPW_MAC_MODE_SWEEP)
		rpw_mac_set_mode(mac, RPW_MAC_MODE_SWEEP, mac->mode_addr > passed ?
				 mac->mode_addr - passed : 1, at);
	else
		rpw_mac_rotate_on(mac, passed, at);
	/*
	 * The access asked its addressee for an answer: the addressee gets
	 * one slot in front of all others, and the round starts after it.
	 */
	if (src && ans && !mac->rx_bad) {
		mac->ans_addr = ans;
		mac->origin += mac->t_slot;
	}
	/* An unanswered ANS frame leaves its answers the slot at once. */
	if (mac->u_offer && !mac->u_ans && mac->cfg.prio_period)
		mac->p_first = 1;
	mac->p_resp = mac->u_offer && mac->u_ans;
	mac->u_offer = false;
	/*
	 * A frame that collided at least twice, the last time in a slot
	 * that is ours alone (not a priority slot), most likely shares it
	 * with a module of our address: with identical timing the two
	 * would collide until both give up, and neither would ever hear
	 * the other.  Half of the time (by the nonce) leave our next slot
	 * to the other copy.
	 */
	if (mac->own_coll && mac->head && mac->head->collisions >= 2)
		mac->dup_skip = (mac->cfg.nonce >>
				 ((mac->head->collisions - 2) & 31)) & 1;
	mac->own_coll = false;
	rpw_mac_clear_defer(mac);
	mac->rx_bad = false;
	mac->rx_data_src = 0;
	mac->rx_ans_dst = 0;

	/* The ACK must have started inside the IFS. */
	if (mac->wait_ack)
		rpw_mac_ack_missing(mac, at);
}

/* Move the line state forward to @now. */
static void rpw_mac_advance(struct rpw_mac *mac, u64 now)
{
	u64 end, period, k;

	if (!mac->idle_done) {
		if (mac->tx_active || now < mac->t_last + mac->t_ifs)
			return;
		rpw_mac_idle(mac, mac->t_last + mac->t_ifs);
	}
	while (mac->mode == RPW_MAC_MODE_SWEEP) {
		end = rpw_mac_sweep_end(mac);
		if (now < end)
			return;
		if (mac->anchor) {
			/* Sweep complete: everyone who wanted has sent once. */
			rpw_mac_set_mode(mac, RPW_MAC_MODE_ROTATE, mac->anchor,
					 end);
			return;
		}
		/*
		 * Nobody ever sent: the sweep repeats from the top (also
		 * one that frames sent out of turn carried to its end);
		 * skip whole rounds.  Repeats start with a priority slot,
		 * so measure the period after set_mode(): every node must
		 * skip alike.  (Repeating a sweep shortened to nothing armed
		 * the timer in the past forever: a soft lockup.)
		 */
		rpw_mac_set_mode(mac, RPW_MAC_MODE_SWEEP,
				 rpw_mac_sweep_top(mac) + 1, end);
		period = rpw_mac_sweep_end(mac) - end;
		if (!period)
			return;
		k = rpw_mac_div(now - end, period);
		mac->origin = end + k * period;
	}
}

/* ---- transmitter -------------------------------------------------------- */

static void rpw_mac_start_tx(struct rpw_mac *mac, bool ack, u64 now)
{
	mac->tx_active = true;
	mac->tx_is_ack = ack;
	mac->echo_pos = 0;
	mac->burst_done = 0;
	mac->burst_until = 0;
	mac->tx_id = mac->burst_id[0];
	mac->tx_start = now;
	mac->echo_deadline = now + mac->tx_len * mac->t_char + mac->t_ack;
	if (mac->idle_done)
		mac->busy_start = now;
	mac->idle_done = false;
	mac->ops->tx(mac->ctx, mac->txbuf, mac->tx_len);
}

/* FNV-1a over what two frames of one (type, dst, seq) may differ in. */
static u32 rpw_mac_frame_sum(const struct rpw_frame *f)
{
	u32 h = 2166136261U;
	unsigned int i;

	h = (h ^ f->flags) * 16777619U;
	h = (h ^ f->len) * 16777619U;
	for (i = 0; i < f->len; i++)
		h = (h ^ f->payload[i]) * 16777619U;
	return h;
}

static void rpw_mac_txid_of(struct rpw_mac_txid *id, const struct rpw_frame *f)
{
	id->type = f->type;
	id->dst = f->dst;
	id->seq = f->seq;
	id->sum = rpw_mac_frame_sum(f);
}

/* Frame @i of this transmission ends at @end in txbuf. */
static void rpw_mac_burst_add(struct rpw_mac *mac, struct rpw_mac_txreq *req,
			      const struct rpw_frame *f, unsigned int end)
{
	unsigned int i = mac->burst_n++;

	mac->burst[i] = req;
	mac->burst_end[i] = end;
	rpw_mac_txid_of(&mac->burst_id[i], f);
	mac->tx_len = end;
}

/* Is @f a late echo of one of our failed attempts? */
static bool rpw_mac_late_echo(const struct rpw_mac *mac,
			      const struct rpw_frame *f, u64 now)
{
	const struct rpw_mac_txid *id;
	unsigned int i;

	for (i = 0; i < RPW_MAC_LATE + RPW_MAC_MAX_BURST; i++) {
		if (i < RPW_MAC_LATE)
			id = &mac->late[i];
		else if (i - RPW_MAC_LATE < mac->burst_n && !mac->tx_active &&
			 now <= mac->burst_until)
			id = &mac->burst_id[i - RPW_MAC_LATE];
		else
			break;
		if ((i >= RPW_MAC_LATE || now <= id->until) &&
		    f->type == id->type && f->dst == id->dst &&
		    f->seq == id->seq && rpw_mac_frame_sum(f) == id->sum)
			return true;
	}
	return false;
}

/*
 * Encode @f into txbuf at @off as this transmission sends it: sealed when
 * ops->seal says so.  -ENOSPC when it does not fit.
 */
static int rpw_mac_encode(struct rpw_mac *mac, struct rpw_frame *f,
			  unsigned int off)
{
	int ret;

	if (mac->ops->seal) {
		ret = mac->ops->seal(mac->ctx, f);
		if (ret) {
			mac->stats.auth_fail++;
			return ret;
		}
	}
	return rpw_frame_encode(f, mac->txbuf + off, sizeof(mac->txbuf) - off);
}

static void rpw_mac_send_ack(struct rpw_mac *mac, u64 now)
{
	struct rpw_frame a;
	int len;

	memset(&a, 0, sizeof(a));
	a.version = RPW_PROTO_VERSION;
	a.type = RPW_T_ACK;
	a.dst = mac->ack_dst;
	a.src = mac->cfg.addr;
	a.seq = mac->ack_seq;
	mac->ack_pending = false;
	len = rpw_mac_encode(mac, &a, 0);
	if (len <= 0)
		return;
	mac->burst_n = 0;
	rpw_mac_burst_add(mac, NULL, &a, len);
	rpw_mac_start_tx(mac, true, now);
}

/*
 * An urgent request overtakes the head while that is not on the line or
 * waiting for its ACK; not a retransmission to the same destination,
 * which must stay the last seq sent there (duplicate suppression).
 */
static void rpw_mac_promote(struct rpw_mac *mac)
{
	struct rpw_mac_txreq *h = mac->head, *u;

	if (!h || h->urgent || mac->tx_active || mac->wait_ack)
		return;
	u = h->next;
	if (!u || !u->urgent ||
	    ((h->tries || h->collisions) && h->frame.dst == u->frame.dst))
		return;
	h->next = u->next;
	if (mac->tail == u)
		mac->tail = h;
	u->next = h;
	mac->head = u;
}

/*
 * The U-point: t_turn after a good frame that nobody ACKs, where an ACK
 * would start, an urgent request may start; everyone else waits for the
 * IFS and sees it first (t_ifs >= t_turn + 2 T_char + latency).  Never
 * the frame's sender's.  After a frame flagged ANS it belongs to answers:
 * requests submitted while that frame was delivered (deferred ones after
 * the frame that followed); a heartbeat falling due at that moment
 * collided with the acknowledgment it competed with.
 */
static u64 rpw_mac_upoint(const struct rpw_mac *mac)
{
	if (mac->idle_done || !mac->u_offer || mac->u_mine || mac->tx_active ||
	    mac->ack_pending || mac->wait_ack || !rpw_mac_urgent_head(mac) ||
	    mac->head->collisions ||
	    (mac->u_ans && !mac->head->resp) || mac->head->defer)
		return RPW_MAC_TIMER_OFF;
	return mac->t_last + mac->t_turn;
}

/*
 * In our answer slot an urgent head (a heartbeat that fell due) lets the
 * first ordinary request, the answer the slot was given for, go first if
 * it asks for an ACK: the U-point after that ACK is ours, so the urgent
 * frame waits no longer than behind a frame started in slot 0 (the
 * urgent bound's case (a)), while the answer would wait a whole round.
 * Not past a re-send to the same destination (as rpw_mac_promote()).
 */
static void rpw_mac_answer_first(struct rpw_mac *mac)
{
	struct rpw_mac_txreq *prev = NULL, *o, *u;

	if (!rpw_mac_urgent_head(mac))
		return;
	for (o = mac->head; o && o->urgent; o = o->next)
		prev = o;
	if (!o || !(o->frame.flags & RPW_F_ACKREQ))
		return;
	for (u = mac->head; u != o; u = u->next)
		if ((u->tries || u->collisions) && u->frame.dst == o->frame.dst)
			return;
	prev->next = o->next;
	if (mac->tail == o)
		mac->tail = prev;
	o->next = mac->head;
	mac->head = o;
}

/* The head is worthless now and not on the line. */
static bool rpw_mac_head_expired(const struct rpw_mac *mac, u64 now)
{
	const struct rpw_mac_txreq *req = mac->head;

	return req && req->expires_ns && now > req->expires_ns &&
	       !mac->tx_active && !mac->wait_ack;
}

/* May @req follow the frames already in this access? */
static bool rpw_mac_may_follow(const struct rpw_mac *mac,
			       const struct rpw_mac_txreq *req, u64 now)
{
	return req && mac->burst_n < mac->cfg.max_info_frames &&
	       !req->urgent && !req->tries && !req->collisions &&
	       !(req->expires_ns && now > req->expires_ns);
}

/* Encode burst frame @i (its request's frame) into txbuf at its place. */
static int rpw_mac_burst_encode(struct rpw_mac *mac, unsigned int i)
{
	struct rpw_mac_txreq *req = mac->burst[i];
	/* A follower's opening flag is the closing flag before it. */
	unsigned int off = i ? mac->burst_end[i - 1] - 1 : 0;
	struct rpw_frame f = req->frame;
	int len;

	/* Sealed per transmission: req->frame stays as submitted. */
	len = rpw_mac_encode(mac, &f, off);
	if (len <= 0)
		return len ?: -EINVAL;
	mac->burst_end[i] = off + len;
	rpw_mac_txid_of(&mac->burst_id[i], &f);
	mac->tx_len = off + len;
	return 0;
}

/*
 * An access in our own slot carries more queued frames behind the head,
 * back to back, like MS/TP's Nmax_info_frames: the IFS and the slot are
 * paid once.  Only ordinary first attempts follow (urgent frames use
 * their own access; a re-send keeps its place), all within RPW_MAX_WIRE
 * characters, the longest frame the urgent bound allows for; a frame that
 * requests an ACK ends the burst (its ACK follows the busy period, as
 * after a single frame).  Every frame but the last carries RPW_F_MORE so
 * that nobody takes the U-point between two of them: frames are encoded
 * with it while a follower may come, and the last one again without it
 * (2 characters of room kept: its FCS may escape differently).
 */
static int rpw_mac_burst_fill(struct rpw_mac *mac, u64 now)
{
	struct rpw_mac_txreq *req = mac->burst[0];
	unsigned int i;
	int err;

	for (;;) {
		i = mac->burst_n - 1;
		if (!(mac->burst[i]->frame.flags & RPW_F_MORE))
			return 0;
		req = req->next;
		if (rpw_mac_may_follow(mac, req, now) &&
		    mac->tx_len + 2 <= RPW_MAX_WIRE) {
			req->frame.flags &= ~(RPW_F_PRIO | RPW_F_ANS |
					      RPW_F_RETX | RPW_F_MORE);
			if (req->answered)
				req->frame.flags |= RPW_F_ANS;
			if (mac->tx_answer)
				req->frame.flags |= RPW_F_PRIO;
			if (!(req->frame.flags & RPW_F_ACKREQ))
				req->frame.flags |= RPW_F_MORE;
			mac->burst[mac->burst_n++] = req;
			err = rpw_mac_burst_encode(mac, i + 1);
			if (!err && mac->tx_len + 2 <= RPW_MAX_WIRE)
				continue;
			/* Too long with the others (or not sealable now). */
			req->frame.flags &= ~RPW_F_MORE;
			mac->burst_n--;
			mac->tx_len = mac->burst_end[i];
		}
		/* No follower after all: the last frame goes without MORE. */
		mac->burst[i]->frame.flags &= ~RPW_F_MORE;
		return rpw_mac_burst_encode(mac, i);
	}
}

static void rpw_mac_try_tx(struct rpw_mac *mac, u64 now)
{
	struct rpw_mac_txreq *req;
	bool slot, answer = false;
	u64 u;
	int len;

	rpw_mac_promote(mac);
	while (rpw_mac_head_expired(mac, now)) {
		mac->stats.expired++;
		rpw_mac_finish(mac, -ETIME, now);
		rpw_mac_promote(mac);
	}
	req = mac->head;
	u = rpw_mac_upoint(mac);
	if (u <= now && now <= u + mac->t_slot / 4)
		goto send;
	if (!req || mac->tx_active || mac->ack_pending || mac->wait_ack ||
	    !mac->idle_done)
		return;
	if (rpw_mac_next_slot(mac, now, &slot) > now || !slot)
		return;
	if (mac->dup_skip) {
		/* Not in this slot: a copy of our address may use it. */
		mac->dup_skip = false;
		mac->dup_hold = now + mac->t_slot;
		mac->stats.dup_skips++;
		return;
	}
	/* Only our answer slot comes before the origin. */
	answer = mac->ans_addr == mac->cfg.addr && now < mac->origin;
	if (answer) {
		rpw_mac_answer_first(mac);
		req = mac->head;
	}
send:
	/*
	 * Any earlier attempt may have reached the receiver (a collision can
	 * hit our echo of the closing flag only), so every re-send of this
	 * seq is marked for duplicate suppression.
	 */
	if (req->tries || req->collisions)
		req->frame.flags |= RPW_F_RETX;
	/*
	 * Receivers keep their slot order for frames sent out of turn: with
	 * urgent access, or in our answer slot (the round goes on after the
	 * access that asked, and an answer earns no answer slot).
	 */
	req->frame.flags &= ~(RPW_F_PRIO | RPW_F_ANS);
	mac->tx_urgent = rpw_mac_urgent_head(mac);
	mac->tx_answer = answer;
	if (mac->tx_urgent || answer)
		req->frame.flags |= RPW_F_PRIO;
	if (req->answered)
		req->frame.flags |= RPW_F_ANS;
	/* Ordinary access: more frames may follow (rpw_mac_burst_fill()). */
	req->frame.flags &= ~RPW_F_MORE;
	if (!mac->tx_urgent && mac->cfg.max_info_frames > 1 &&
	    !(req->frame.flags & RPW_F_ACKREQ))
		req->frame.flags |= RPW_F_MORE;
	mac->burst[0] = req;
	mac->burst_n = 1;
	len = rpw_mac_burst_encode(mac, 0);
	if (!len)
		len = rpw_mac_burst_fill(mac, now);
	if (len) {
		/* Validated at submit: a payload too long to seal, or corrupt. */
		req->frame.flags &= ~RPW_F_MORE;
		rpw_mac_finish(mac, len, now);
		return;
	}
	rpw_mac_start_tx(mac, false, now);
}

/* Our own transmission failed (echo mismatch, deframer error, no echo). */
static void rpw_mac_tx_failed(struct rpw_mac *mac, bool send_abort, u64 now)
{
	struct rpw_mac_txreq *req = mac->head;
	bool ack = mac->tx_is_ack;
	unsigned int i;

	mac->tx_active = false;
	/*
	 * With receive latency the "collision" may be someone else's frame
	 * that the line carried before ours: ours then follows intact and
	 * must not count as another module using our address, even when
	 * it arrives after a retry has started (urgent retries are quick).
	 */
	mac->late[mac->late_next] = mac->tx_id;
	mac->late[mac->late_next].until = now + mac->tx_len * mac->t_char +
					  mac->t_ack;
	/* ... and so may the frames of the burst behind it. */
	mac->burst_until = mac->late[mac->late_next].until;
	mac->late_next = (mac->late_next + 1) % RPW_MAC_LATE;
	mac->ops->tx_abort(mac->ctx);
	/* Make every receiver drop the broken frame at once. */
	if (send_abort)
		mac->ops->tx(mac->ctx, rpw_mac_abort_seq,
			     sizeof(rpw_mac_abort_seq));
	mac->rx_bad = true;
	mac->t_last = now;
	mac->idle_done = false;
	rpw_mac_event(mac, RPW_MAC_EV_COLLISION, ack || !req ? NULL :
		      &req->frame);
	/* A lost ACK is not retried: the sender retransmits, we re-ACK. */
	if (ack || !req)
		return;
	/*
	 * The frames behind it in the burst may have gone out intact as well
	 * (a misjudged echo): each is re-sent on its own, marked RETX.
	 */
	for (i = mac->burst_done + 1; i < mac->burst_n; i++)
		mac->burst[i]->collisions++;
	mac->own_coll = !(req->frame.flags & RPW_F_PRIO);
	if (++req->collisions > mac->cfg.max_collisions) {
		mac->stats.busy_drops++;
		rpw_mac_finish(mac, -EBUSY, now);
	}
}

static void rpw_mac_collision(struct rpw_mac *mac, u64 now)
{
	mac->stats.collisions++;
	rpw_mac_tx_failed(mac, mac->cfg.send_abort, now);
}

/* An intact access that started @d after its head became ready. */
static void rpw_mac_access_stats(struct rpw_mac *mac, u64 d)
{
	mac->stats.access_count++;
	mac->stats.access_sum_ns += d;
	mac->stats.access_last_ns = d;
	if (d > mac->stats.access_max_ns)
		mac->stats.access_max_ns = d;
	if (mac->tx_answer)
		mac->stats.answer_count++;
	if (mac->tx_urgent) {
		mac->stats.urgent_count++;
		mac->stats.urgent_sum_ns += d;
		if (d > mac->stats.urgent_max_ns)
			mac->stats.urgent_max_ns = d;
	}
}

static_assert(!(RPW_MAC_LAT_WINDOW & (RPW_MAC_LAT_WINDOW - 1)),
	      "the latency ring is indexed with a mask");

/* Nearest-rank 99th percentile and maximum of the latency window. */
static void rpw_mac_lat_window(const struct rpw_mac *mac, u32 *p99, u32 *max)
{
	/* The k largest, k = n - ceil(0.99 n) + 1 <= n / 100 + 1. */
	u32 top[RPW_MAC_LAT_WINDOW / 100 + 1] = { 0 };
	unsigned int n = min_t(u64, mac->lat_samples, RPW_MAC_LAT_WINDOW);
	unsigned int k = n - (99 * n + 99) / 100 + 1;
	unsigned int i, j;
	u32 v, t;

	*p99 = 0;
	*max = 0;
	if (!n)
		return;
	for (i = 0; i < n; i++) {
		v = mac->lat_win[i];
		for (j = 0; j < k; j++) {
			if (v > top[j]) {
				t = top[j];
				top[j] = v;
				v = t;
			}
		}
	}
	*p99 = top[k - 1];
	*max = top[0];
}

/*
 * The budget L the window asks for: its 99th percentile less one T_char
 * (every sample holds the transmit alignment A <= T_char, which the
 * formulas count in their 2 T_char), plus a quarter.
 */
static u32 rpw_mac_lat_need(const struct rpw_mac *mac)
{
	u32 p99, wmax;
	u64 l;

	rpw_mac_lat_window(mac, &p99, &wmax);
	l = p99 > mac->t_char ? p99 - mac->t_char : 0;
	return rpw_mac_ns_to_us_up(l + l / 4);
}

/*
 * Byte @n of our transmission came back at @now: it was on the line at
 * tx_start + A + n * T_char, so what is left is A + L (ns, saturated).
 */
static u32 rpw_mac_lat_since(const struct rpw_mac *mac, unsigned int n,
			     u64 now)
{
	u64 end = mac->tx_start + n * mac->t_char;

	return now > end ? (u32)min_t(u64, now - end, ~0U) : 0;
}

/*
 * An intact transmission ended at @now.  Its sample is the later of its
 * first and last byte: carrier sense (the slot) depends on the first, idle
 * detection (the IFS) on the last, and a UART's receive FIFO may hold the
 * first bytes back until its trigger level or timeout.
 */
static void rpw_mac_lat_sample(struct rpw_mac *mac, u64 now)
{
	u32 d = max_t(u32, mac->lat_first,
		      rpw_mac_lat_since(mac, mac->tx_len, now));

	mac->lat_win[mac->lat_samples & (RPW_MAC_LAT_WINDOW - 1)] = d;
	mac->lat_samples++;
	mac->lat_last = d;
	mac->lat_max = max_t(u32, mac->lat_max, d);
	if (mac->lat_samples >= RPW_MAC_LAT_MIN)
		mac->lat_budget_us = rpw_mac_lat_budget(mac->lat_budget_us,
							rpw_mac_lat_need(mac));
}

/* Every byte of our frame came back unchanged. */
static void rpw_mac_tx_intact(struct rpw_mac *mac, u64 now)
{
	struct rpw_mac_txreq *req = mac->head;
	struct rpw_mac_peer *self = &mac->peers[mac->cfg.addr];
	unsigned int i = mac->burst_done++;
	u16 from = i ? mac->burst_end[i - 1] : 0;

	/* The last frame of the burst: the line is released. */
	if (mac->burst_done >= mac->burst_n) {
		mac->tx_active = false;
		rpw_mac_lat_sample(mac, now);
	} else {
		mac->tx_id = mac->burst_id[mac->burst_done];
	}
	/* Others heard us now: we count ourselves in the rotation. */
	mac->n_heard += !self->heard;
	self->heard = 1;
	self->last_heard_ns = now;
	if (mac->tx_is_ack) {
		mac->stats.acks_tx++;
		mac->stats.ack_bytes += mac->tx_len;
		rpw_mac_event(mac, RPW_MAC_EV_TX, NULL);
		return;
	}
	if (!req)
		return;
	rpw_mac_data_frame(mac, &req->frame);
	mac->stats.tx_frames++;
	/* A follower's opening flag is counted with the frame before it. */
	mac->stats.tx_bytes += mac->burst_end[i] - from;
	req->tries++;
	/* One access: its delay counts with the burst's first frame. */
	if (!i)
		rpw_mac_access_stats(mac, mac->tx_start - req->ready_ns);
	rpw_mac_event(mac, RPW_MAC_EV_TX, &req->frame);
	if (req->frame.flags & RPW_F_ACKREQ) {
		mac->wait_ack = true;
		mac->ack_deadline = now + mac->t_ack;
	} else {
		rpw_mac_finish(mac, 0, now);
	}
}

/* ---- receiver ----------------------------------------------------------- */

static void rpw_mac_rx_drop(struct rpw_mac *mac, int why)
{
	switch (why) {
	case RPW_DROP_CRC:
		mac->stats.crc_errors++;
		break;
	case RPW_DROP_SHORT:
	case RPW_DROP_ESCAPE:
	case RPW_DROP_LENGTH:
		mac->stats.framing_errors++;
		break;
	case RPW_DROP_OVERSIZE:
		mac->stats.oversize++;
		break;
	case RPW_DROP_GARBAGE:
		mac->stats.garbage_bytes++;
		mac->rx_bad = true;
		return;		/* one event per byte would flood */
	default:
		mac->stats.header_errors++;
		break;
	}
	mac->rx_bad = true;
	rpw_mac_event(mac, RPW_MAC_EV_RX_DROP, NULL);
}

/* Authenticated-frame check (ops->open); false = drop, counted. */
static bool rpw_mac_auth_ok(struct rpw_mac *mac, struct rpw_frame *f)
{
	enum rpw_auth_verdict v = RPW_AUTH_OK;

	if (mac->ops->open)
		v = mac->ops->open(mac->ctx, f);
	else if (f->version != RPW_PROTO_VERSION)
		v = RPW_AUTH_BAD;
	switch (v) {
	case RPW_AUTH_OK:
		return true;
	case RPW_AUTH_MISSING:
		mac->stats.auth_missing++;
		break;
	case RPW_AUTH_REPLAY:
		mac->stats.auth_replay++;
		break;
	default:
		mac->stats.auth_bad++;
		break;
	}
	return false;
}

/* What a frame's attempts have in common: seq and content, not flags. */
static u32 rpw_mac_dup_key(const struct rpw_frame *f)
{
	u32 h = 2166136261U;
	unsigned int i;

	h = (h ^ f->seq) * 16777619U;
	h = (h ^ f->type) * 16777619U;
	h = (h ^ f->len) * 16777619U;
	for (i = 0; i < f->len; i++)
		h = (h ^ f->payload[i]) * 16777619U;
	return h;
}

/*
 * Is @f (for us) a re-send of a frame already delivered from @p?  Only a
 * RETX frame can be, and only one that matches a remembered frame of its
 * kind, so a restarted sender's first attempt is always new, and a frame
 * that reuses the seq of another (the election numbers its own frames)
 * is not taken for it.  Urgent frames overtake an ordinary one between
 * its attempts (rpw_mac_enqueue()), so the two are remembered apart: any
 * number of heartbeats passing a re-sent frame cannot push it out.
 * Every frame not dropped is remembered.
 */
static bool rpw_mac_seen(struct rpw_mac_peer *p, const struct rpw_frame *f)
{
	unsigned int kind = f->dst == RPW_ADDR_BCAST ? 2 : 0;
	unsigned int set = kind + !!(f->flags & RPW_F_PRIO);
	u32 key = rpw_mac_dup_key(f);
	unsigned int i, s;

	/* A re-send may go with other access than the first attempt. */
	if (f->flags & RPW_F_RETX)
		for (s = kind; s < kind + 2; s++)
			for (i = 0; i < p->dup_n[s]; i++)
				if (p->dup_key[s][i] == key)
					return true;
	for (i = RPW_MAC_DUP_DEPTH - 1; i > 0; i--)
		p->dup_key[set][i] = p->dup_key[set][i - 1];
	p->dup_key[set][0] = key;
	if (p->dup_n[set] < RPW_MAC_DUP_DEPTH)
		p->dup_n[set]++;
	return false;
}

static void rpw_mac_rx_frame(struct rpw_mac *mac, struct rpw_frame *f,
			     bool mine, u64 now)
{
	struct rpw_mac_peer *p = &mac->peers[f->src];
	struct rpw_mac_txreq *req = mac->head;

	if (mine)
		return;		/* accounted in rpw_mac_tx_intact() */

	if (f->src == mac->cfg.addr) {
		/* Our echo arriving after a failed attempt is not a rival. */
		if (rpw_mac_late_echo(mac, f, now))
			return;
		mac->stats.dup_addr++;
		rpw_mac_event(mac, RPW_MAC_EV_DUP_ADDR, f);
		if (f->type != RPW_T_ACK)
			rpw_mac_data_frame(mac, f);
		return;
	}

	mac->n_heard += !p->heard;
	p->heard = 1;
	if (f->src > mac->top_heard)
		mac->top_heard = f->src;
	p->last_heard_ns = now;
	p->rx_frames++;
	mac->stats.rx_frames++;
	rpw_mac_event(mac, RPW_MAC_EV_RX, f);

	/*
	 * The line carried a good frame: arbitration counts it whatever its
	 * tag (every node sees the same slots, keyed or not).  A frame that
	 * would act on this node is authenticated first (ops->open): an
	 * unauthenticated one is never ACKed, delivered or remembered.
	 */
	if (f->type == RPW_T_ACK) {
		if (f->dst == mac->cfg.addr && mac->wait_ack && req &&
		    f->src == req->frame.dst && f->seq == req->frame.seq &&
		    rpw_mac_auth_ok(mac, f)) {
			mac->stats.acks_rx++;
			rpw_mac_finish(mac, 0, now);
		}
		return;		/* ACKs do not rotate the slot order */
	}

	/* Like ACKs, frames sent with urgent access keep the order. */
	rpw_mac_data_frame(mac, f);
	if (f->dst != mac->cfg.addr && f->dst != RPW_ADDR_BCAST)
		return;
	if (!rpw_mac_auth_ok(mac, f))
		return;

	if (f->dst == mac->cfg.addr && (f->flags & RPW_F_ACKREQ) &&
	    !mac->tx_active) {
		mac->ack_pending = true;
		mac->ack_dst = f->src;
		mac->ack_seq = f->seq;
		mac->ack_due = now + mac->t_turn;
	}
	if (rpw_mac_seen(p, f)) {
		mac->stats.duplicates++;
		rpw_mac_event(mac, RPW_MAC_EV_DUP, f);
		return;
	}
	mac->stats.delivered++;
	mac->in_rx = true;
	mac->ops->rx(mac->ctx, f);
	mac->in_rx = false;
}

static void rpw_mac_rx_byte(struct rpw_mac *mac, u8 b, u64 now)
{
	bool mine = false;
	int ret;

	/* Line activity after the frame we owe an ACK for: keep quiet. */
	mac->ack_pending = false;
	mac->u_offer = false;

	if (mac->tx_active) {
		if (b != mac->txbuf[mac->echo_pos]) {
			rpw_mac_collision(mac, now);
		} else {
			if (!mac->echo_pos++)
				mac->lat_first = rpw_mac_lat_since(mac, 1, now);
			mine = mac->echo_pos == mac->burst_end[mac->burst_done];
		}
	}

	ret = rpw_deframer_feed(&mac->dfr, b, &mac->rxf);
	if (ret < 0) {
		rpw_mac_rx_drop(mac, -ret);
		if (mac->tx_active)
			rpw_mac_collision(mac, now);
	}

	if (b == RPW_FLAG) {
		mac->rx_partial = false;
		mac->rx_skip = false;
	} else if (ret < 0) {
		mac->rx_partial = false;
		mac->rx_skip = true;
	} else if (!mac->rx_skip) {
		mac->rx_partial = true;
	}

	if (mine)
		rpw_mac_tx_intact(mac, now);
	if (ret == 1) {
		/* No ACK follows: the U-point is free. */
		mac->u_offer = (mac->rxf.dst == RPW_ADDR_BCAST ||
				!(mac->rxf.flags & RPW_F_ACKREQ)) &&
			       !(mac->rxf.flags & RPW_F_MORE);
		/*
		 * The U-point after our own ACK is ours too: a module that
		 * every frame is sent to (the primary, during a round of
		 * capacity reports) ACKs each one, and the next sender took
		 * slot 0 before the priority slot every time.  Not after our
		 * ACK of a frame that asked us for an answer, though: our
		 * answer slot follows, and an urgent frame sent here would
		 * take the answer's place (rpw_mac_data_frame()).
		 */
		mac->u_mine = mine && (mac->rxf.type != RPW_T_ACK ||
				       mac->rx_ans_dst == mac->cfg.addr);
		mac->u_ans = mac->rxf.flags & RPW_F_ANS;
		/* Before rx: a request submitted from it waits for the next. */
		rpw_mac_clear_defer(mac);
		rpw_mac_rx_frame(mac, &mac->rxf, mine, now);
	}
}

/* ---- timer -------------------------------------------------------------- */

static void rpw_mac_rearm(struct rpw_mac *mac, u64 now)
{
	u64 t = RPW_MAC_TIMER_OFF, u;
	bool slot;

	if (mac->ack_pending)
		t = min_t(u64, t, mac->ack_due);
	if (mac->tx_active)
		t = min_t(u64, t, mac->echo_deadline);
	if (mac->wait_ack)
		t = min_t(u64, t, mac->ack_deadline);
	if (!mac->idle_done) {
		if (!mac->tx_active &&
		    (mac->head || mac->wait_ack || mac->rx_partial))
			t = min_t(u64, t, mac->t_last + mac->t_ifs);
		u = rpw_mac_upoint(mac);
		if (u > now)
			t = min_t(u64, t, u);
	} else if (mac->head && !mac->wait_ack && !mac->tx_active &&
		   !mac->ack_pending) {
		t = min_t(u64, t, rpw_mac_next_slot(mac, now, &slot));
	}
	/* Drop an expired head then, not at its slot: the next one may go. */
	if (mac->head && mac->head->expires_ns && !mac->tx_active &&
	    !mac->wait_ack)
		t = min_t(u64, t, mac->head->expires_ns + 1);
	if (t != mac->timer_armed) {
		mac->timer_armed = t;
		mac->ops->timer(mac->ctx, t);
	}
}

/*
 * Common tail of every entry point.  Nested calls (submit from a callback)
 * only queue; the outermost call advances, transmits and re-arms, keeping
 * depth raised so that callbacks made from here nest as well.
 */
static void rpw_mac_leave(struct rpw_mac *mac, u64 now)
{
	if (mac->depth > 1) {
		mac->depth--;
		return;
	}
	rpw_mac_advance(mac, now);
	rpw_mac_try_tx(mac, now);
	mac->depth--;
	rpw_mac_rearm(mac, now);
}

/* ---- entry points ------------------------------------------------------- */

int rpw_mac_init(struct rpw_mac *mac, const struct rpw_mac_cfg *cfg,
		 const struct rpw_mac_ops *ops, void *ctx, u64 now)
{
	if (rpw_mac_cfg_validate(cfg, NULL))
		return -EINVAL;
	if (!ops || !ops->tx || !ops->tx_abort || !ops->rx || !ops->done ||
	    !ops->timer)
		return -EINVAL;

	memset(mac, 0, sizeof(*mac));
	mac->cfg = *cfg;
	mac->ops = ops;
	mac->ctx = ctx;
	mac->t_char = rpw_mac_char_ns(cfg->baud);
	mac->t_ifs = cfg->t_ifs_us * RPW_MAC_NS_PER_US;
	mac->t_slot = cfg->t_slot_us * RPW_MAC_NS_PER_US;
	mac->t_turn = cfg->t_turnaround_us * RPW_MAC_NS_PER_US;
	mac->t_ack = cfg->ack_timeout_us * RPW_MAC_NS_PER_US;
	mac->t_peer = cfg->peer_timeout_us * RPW_MAC_NS_PER_US;
	mac->t_member = mac->t_peer;
	rpw_deframer_init(&mac->dfr);
	mac->timer_armed = RPW_MAC_TIMER_OFF;

	/*
	 * Start-up: nothing heard yet, so no rotation can be shared.  Begin
	 * with a full sweep as if a bad frame had just ended at @now.
	 */
	mac->t_last = now;
	mac->idle_done = true;
	rpw_mac_set_mode(mac, RPW_MAC_MODE_SWEEP, cfg->max_addr + 1,
			 now + mac->t_ifs);
	return 0;
}

void rpw_mac_rx_bytes(struct rpw_mac *mac, const u8 *buf, size_t len, u64 now)
{
	size_t i;

	if (!len)
		return;
	mac->depth++;
	rpw_mac_advance(mac, now);
	if (mac->idle_done)
		mac->busy_start = now;
	for (i = 0; i < len; i++)
		rpw_mac_rx_byte(mac, buf[i], now);
	mac->stats.rx_bytes += len;
	mac->t_last = now;
	mac->idle_done = false;
	rpw_mac_leave(mac, now);
}

void rpw_mac_timer_expired(struct rpw_mac *mac, u64 now)
{
	mac->depth++;
	mac->timer_armed = RPW_MAC_TIMER_OFF;

	if (mac->tx_active && now >= mac->echo_deadline) {
		mac->stats.echo_timeouts++;
		rpw_mac_tx_failed(mac, false, now);
	}
	if (mac->ack_pending && now >= mac->ack_due && !mac->tx_active)
		rpw_mac_send_ack(mac, now);
	rpw_mac_advance(mac, now);
	if (mac->wait_ack && now >= mac->ack_deadline)
		rpw_mac_ack_missing(mac, now);
	rpw_mac_leave(mac, now);
}

/* Urgent and ahead requests queue before ordinary ones (rpw_mac_enqueue). */
static bool rpw_mac_queued_ahead(const struct rpw_mac_txreq *req)
{
	return req->urgent || req->ahead;
}

/*
 * Urgent requests (the election's) go behind the frame in service and the
 * urgent ones already queued, ahead of ordinary traffic: a module's own
 * backlog must not delay its heartbeat.  Ahead requests go behind those,
 * before the ordinary ones.  Others go to the tail.
 */
static void rpw_mac_enqueue(struct rpw_mac *mac, struct rpw_mac_txreq *req)
{
	struct rpw_mac_txreq *prev = mac->head;

	if (!rpw_mac_queued_ahead(req) || !prev) {
		if (mac->tail)
			mac->tail->next = req;
		else
			mac->head = req;
		mac->tail = req;
		return;
	}
	/*
	 * An ordinary head that is not on the line, not waiting for its ACK
	 * and never went out intact is not in service yet: after a collision
	 * it waits for its turn in a sweep (hundreds of ms on a large address
	 * range), and urgent requests behind it waited as long.
	 */
	if (!prev->tries && !mac->wait_ack &&
	    !(mac->tx_active && !mac->tx_is_ack) &&
	    (req->urgent ? !prev->urgent : !rpw_mac_queued_ahead(prev))) {
		req->next = prev;
		mac->head = req;
		return;
	}
	/* Not between the frames of the access on the line. */
	if (mac->tx_active && !mac->tx_is_ack && mac->burst_n)
		prev = mac->burst[mac->burst_n - 1];
	while (prev->next && (req->urgent ? prev->next->urgent :
			      rpw_mac_queued_ahead(prev->next)))
		prev = prev->next;
	req->next = prev->next;
	prev->next = req;
	if (mac->tail == prev)
		mac->tail = req;
}

int rpw_mac_submit(struct rpw_mac *mac, struct rpw_mac_txreq *req, u64 now)
{
	struct rpw_frame *f = &req->frame;

	if (req->cls >= RPW_MAC_NR_CLASS)
		return -EINVAL;
	if (!rpw_mac_room(mac, req->cls)) {
		mac->stats.refused[req->cls]++;
		return -ENOBUFS;
	}
	f->version = RPW_PROTO_VERSION;
	f->src = mac->cfg.addr;
	f->flags &= RPW_F_ACKREQ;
	if (f->type == RPW_T_ACK || f->dst == mac->cfg.addr ||
	    rpw_frame_validate(f))
		return -EINVAL;
	if (!req->keep_seq)
		f->seq = mac->seq[f->dst]++;
	req->next = NULL;
	req->resp = mac->in_rx;
	req->optional = req->defer;
	req->tries = 0;
	req->collisions = 0;
	req->ready_ns = now;
	rpw_mac_enqueue(mac, req);
	mac->qlen++;
	mac->qcls[req->cls]++;

	mac->depth++;
	rpw_mac_leave(mac, now);
	return 0;
}

void rpw_mac_cancel_all(struct rpw_mac *mac, u64 now)
{
	struct rpw_mac_txreq *req = mac->head;
	struct rpw_mac_txreq *next;

	mac->depth++;
	if (mac->tx_active) {
		mac->tx_active = false;
		mac->ops->tx_abort(mac->ctx);
		mac->t_last = now;
		mac->idle_done = false;
	}
	mac->ack_pending = false;
	mac->wait_ack = false;
	/* Detach first: done() may submit new requests. */
	mac->head = NULL;
	mac->tail = NULL;
	mac->qlen = 0;
	memset(mac->qcls, 0, sizeof(mac->qcls));
	while (req) {
		next = req->next;
		req->next = NULL;
		mac->stats.cancelled++;
		mac->ops->done(mac->ctx, req, -ECANCELED);
		req = next;
	}
	rpw_mac_leave(mac, now);
}

/* Is @req on the line (in this access) or waiting for its ACK? */
static bool rpw_mac_in_service(const struct rpw_mac *mac,
			       const struct rpw_mac_txreq *req)
{
	unsigned int i;

	if (req == mac->head && (mac->tx_active || mac->wait_ack))
		return true;
	if (!mac->tx_active || mac->tx_is_ack)
		return false;
	for (i = mac->burst_done; i < mac->burst_n; i++)
		if (mac->burst[i] == req)
			return true;
	return false;
}

int rpw_mac_cancel(struct rpw_mac *mac, struct rpw_mac_txreq *req, u64 now)
{
	struct rpw_mac_txreq **pp, *prev = NULL;

	/* On the line or waiting for its ACK: let it finish by itself. */
	if (rpw_mac_in_service(mac, req))
		return -EBUSY;
	for (pp = &mac->head; *pp; prev = *pp, pp = &(*pp)->next) {
		if (*pp != req)
			continue;
		*pp = req->next;
		if (mac->tail == req)
			mac->tail = prev;
		if (!prev && mac->head)
			mac->head->ready_ns = now;
		rpw_mac_unqueued(mac, req);
		req->next = NULL;
		mac->depth++;
		mac->stats.cancelled++;
		mac->ops->done(mac->ctx, req, -ECANCELED);
		rpw_mac_leave(mac, now);
		return 0;
	}
	return -ENOENT;
}

unsigned int rpw_mac_cancel_if(struct rpw_mac *mac,
			       bool (*match)(const struct rpw_mac_txreq *req,
					     void *arg),
			       void *arg, u64 now)
{
	struct rpw_mac_txreq **pp = &mac->head, *req, *prev = NULL;
	struct rpw_mac_txreq *gone = NULL, **tail = &gone;
	unsigned int n = 0;

	mac->depth++;
	while ((req = *pp)) {
		if (rpw_mac_in_service(mac, req) || !match(req, arg)) {
			prev = req;
			pp = &req->next;
			continue;
		}
		*pp = req->next;
		if (mac->tail == req)
			mac->tail = prev;
		rpw_mac_unqueued(mac, req);
		req->next = NULL;
		*tail = req;
		tail = &req->next;
		n++;
	}
	if (n && mac->head && !mac->head->urgent)
		mac->head->ready_ns = now;
	/* Detached first: done() may submit new requests. */
	while ((req = gone)) {
		gone = req->next;
		req->next = NULL;
		mac->stats.cancelled++;
		mac->ops->done(mac->ctx, req, -ECANCELED);
	}
	rpw_mac_leave(mac, now);
	return n;
}

bool rpw_mac_busy(const struct rpw_mac *mac)
{
	return mac->head || mac->tx_active || mac->ack_pending;
}

void rpw_mac_reset_stats(struct rpw_mac *mac)
{
	memset(&mac->stats, 0, sizeof(mac->stats));
}

void rpw_mac_latency(const struct rpw_mac *mac, struct rpw_mac_lat *out)
{
	out->samples = mac->lat_samples;
	out->last_ns = mac->lat_last;
	out->max_ns = mac->lat_max;
	rpw_mac_lat_window(mac, &out->p99_ns, &out->win_max_ns);
	out->budget_us = mac->lat_budget_us;
}

int rpw_mac_peer_next(const struct rpw_mac *mac, int from)
{
	int a;

	for (a = max_t(int, from, RPW_ADDR_MIN); a <= RPW_ADDR_MAX; a++)
		if (mac->peers[a].heard)
			return a;
	return -ENOENT;
}

const struct rpw_mac_peer *rpw_mac_peer(const struct rpw_mac *mac, u8 addr)
{
	return &mac->peers[addr];
}

static const char * const rpw_mac_event_names[RPW_MAC_EV__MAX] = {
	[RPW_MAC_EV_TX]		= "tx",
	[RPW_MAC_EV_RX]		= "rx",
	[RPW_MAC_EV_COLLISION]	= "collision",
	[RPW_MAC_EV_RETRY]	= "retry",
	[RPW_MAC_EV_DUP]	= "dup",
	[RPW_MAC_EV_DUP_ADDR]	= "dup_addr",
	[RPW_MAC_EV_RX_DROP]	= "rx_drop",
	[RPW_MAC_EV_TIMEOUT]	= "timeout",
};

const char *rpw_mac_event_name(enum rpw_mac_event ev)
{
	if ((unsigned int)ev >= RPW_MAC_EV__MAX || !rpw_mac_event_names[ev])
		return "unknown";
	return rpw_mac_event_names[ev];
}

unsigned int rpw_mac_expiry_if(struct rpw_mac *mac,
			       bool (*match)(const struct rpw_mac_txreq *req,
					     void *arg),
			       void *arg, u64 expires_ns, u64 now)
{
	struct rpw_mac_txreq *req;
	unsigned int n = 0;

	for (req = mac->head; req; req = req->next) {
		/* An expired frame's time is over: it is not revived. */
		if (!req->expires_ns || now > req->expires_ns ||
		    !match(req, arg))
			continue;
		req->expires_ns = expires_ns;
		n++;
	}
	/*
	 * Only the timer follows the head's new expiry (inside a callback
	 * the outer entry point re-arms): nothing is sent or done here.
	 */
	if (n && !mac->depth)
		rpw_mac_rearm(mac, now);
	return n;
}
