// SPDX-License-Identifier: GPL-2.0-only
/*
 * rackpwr - power allocation (pure logic): the chassis slot table, the
 * primary's ledger and the 0x3_ payloads.  rpw_alloc.h states the rules and
 * the calling conventions; rackpwr-protocol.rst, "Power allocation", argues
 * why they give exactly-once grants across loss, restarts and failover.
 */
#include "rpw_alloc.h"

/* Slot frames due (struct rpw_slot.dirty). */
#define RPW_SD_REQ	BIT(0)	/* the open request */
#define RPW_SD_STMT	BIT(1)	/* the outstanding statement */
#define RPW_SD_FIX	BIT(2)	/* "fix_id is over" */

/* Ledger frames due (struct rpw_ledger_ent.dirty). */
#define RPW_LD_ANS	BIT(0)	/* the last answer */
#define RPW_LD_CONF	BIT(1)	/* a confirm of the entry */
#define RPW_LD_SHED	BIT(2)	/* the shed request */

#define RPW_ALL_SLOTS	((u8)((1U << RPW_ALLOC_SLOTS) - 1))

static u64 rpw_ms(u32 ms)
{
	return (u64)ms * 1000000;
}

void rpw_alloc_timing_default(struct rpw_alloc_timing *t)
{
	t->resend_ms = RPW_ALLOC_RESEND_MS;
	t->queued_ms = RPW_ALLOC_QUEUED_MS;
	t->recovery_ms = RPW_ALLOC_RECOVERY_MS;
	t->nopolicy_ms = RPW_ALLOC_NOPOLICY_MS;
	t->shed_ms = RPW_ALLOC_SHED_MS;
}

u32 rpw_alloc_recovery_ms(u64 access_ns, u32 resend_ms)
{
	u64 ms = div_u64((1 + RPW_ALLOC_REPORT_FRAMES) * access_ns + 999999,
			 1000000) + resend_ms;

	/* A bound of hours is already meaningless: no overflow to care for. */
	return max_t(u64, min_t(u64, ms, 3600000), RPW_ALLOC_RECOVERY_MS);
}

static void rpw_timing_set(struct rpw_alloc_timing *dst,
			   const struct rpw_alloc_timing *t)
{
	if (t)
		*dst = *t;
	else
		rpw_alloc_timing_default(dst);
}

void rpw_alloc_out_reset(struct rpw_alloc_out *o)
{
	o->nframes = 0;
	o->nacts = 0;
	o->dropped = 0;
	o->blocked = false;
}

void rpw_alloc_out_hold(struct rpw_alloc_out *o, u8 dst, bool on)
{
	if (on)
		o->held[dst / 8] |= BIT(dst % 8);
	else
		o->held[dst / 8] &= ~BIT(dst % 8);
}

bool rpw_alloc_out_held(const struct rpw_alloc_out *o, u8 dst)
{
	return o->held[dst / 8] & BIT(dst % 8);
}

int rpw_alloc_prio_cmp(u8 prio_a, u8 addr_a, u8 slot_a,
		       u8 prio_b, u8 addr_b, u8 slot_b)
{
	if (prio_a != prio_b)
		return prio_a > prio_b ? 1 : -1;
	if (addr_a != addr_b)
		return addr_a < addr_b ? 1 : -1;
	if (slot_a != slot_b)
		return slot_a < slot_b ? 1 : -1;
	return 0;
}

u16 rpw_alloc_mw_to_w(u64 mw)
{
	u64 w = div_u64(mw, 1000);

	return w > 0xffff ? 0xffff : (u16)w;
}

static u64 rpw_min_t(u64 a, u64 b)
{
	return a < b ? a : b;
}

static bool rpw_gs_holds(u8 gs)
{
	return gs == RPW_GS_GRANTED || gs == RPW_GS_SHEDDING;
}

/* ------------------------------------------------------------------ */
/* Output                                                              */

static struct rpw_alloc_act *rpw_out_act(struct rpw_alloc_out *o, u8 kind)
{
	struct rpw_alloc_act *a;

	if (o->nacts >= RPW_ALLOC_OUT_ACTS) {
		o->dropped++;
		return NULL;
	}
	a = &o->acts[o->nacts++];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	return a;
}

static bool rpw_out_room(const struct rpw_alloc_out *o, unsigned int acts)
{
	return o->nacts + acts <= RPW_ALLOC_OUT_ACTS;
}

static bool rpw_out_full(const struct rpw_alloc_out *o)
{
	return o->nframes >= RPW_ALLOC_OUT_FRAMES;
}

/*
 * May a new frame to @dst be appended?  Not to a held destination nor
 * beyond max_queued (flow control: marked, the caller comes back when a
 * frame is done), nor when @o is full.
 */
static bool rpw_out_may_open(struct rpw_alloc_out *o, u8 dst)
{
	if (rpw_alloc_out_held(o, dst) ||
	    (o->max_queued && o->queued + o->nframes >= o->max_queued)) {
		o->blocked = true;
		return false;
	}
	return !rpw_out_full(o);
}

/*
 * Room for one @esz-byte entry of @type to @dst: in the last open frame of
 * that kind if it has room, else in a new one.  NULL when @o is full.
 */
static void *rpw_out_entry(struct rpw_alloc_out *o, u8 type, u8 dst,
			   u32 epoch, size_t esz)
{
	struct rpw_frame *f = NULL;
	unsigned int i;
	u8 *p;

	for (i = o->nframes; i-- > 0;) {
		struct rpw_frame *c = &o->frames[i];

		if (c->type == type && c->dst == dst &&
		    c->len + esz <= RPW_PWR_MAX_PAYLOAD) {
			f = c;
			break;
		}
	}
	if (!f) {
		if (!rpw_out_may_open(o, dst))
			return NULL;
		f = &o->frames[o->nframes++];
		memset(f, 0, sizeof(*f));
		f->version = RPW_PROTO_VERSION;
		f->type = type;
		f->dst = dst;
		f->flags = dst == RPW_ADDR_BCAST ? 0 : RPW_F_ACKREQ;
		put_unaligned_le32(epoch, f->payload);
		f->len = RPW_PWR_HDR_LEN;
	}
	p = f->payload + f->len;
	memset(p, 0, esz);
	f->len += esz;
	f->payload[4]++;
	return p;
}

/* The header of @f, when its count matches its length for @esz entries. */
static int rpw_pwr_parse(const struct rpw_frame *f, size_t esz, u32 *epoch)
{
	unsigned int count;

	if (f->len < RPW_PWR_HDR_LEN)
		return -EBADMSG;
	count = f->payload[4];
	if (RPW_PWR_HDR_LEN + count * esz != f->len || !count != !esz)
		return -EBADMSG;
	*epoch = get_unaligned_le32(f->payload);
	return count;
}

static const void *rpw_pwr_entry(const struct rpw_frame *f, size_t esz,
				 unsigned int i)
{
	return f->payload + RPW_PWR_HDR_LEN + i * esz;
}

/* ------------------------------------------------------------------ */
/* Chassis side                                                        */

static bool rpw_slot_holds(const struct rpw_slot *sl)
{
	return sl->state == RPW_SLOT_GRANTED || sl->state == RPW_SLOT_SHEDDING;
}

static bool rpw_slot_asks(const struct rpw_slot *sl)
{
	return sl->state == RPW_SLOT_REQUESTING ||
	       sl->state == RPW_SLOT_QUEUED;
}

static bool rpw_slots_following(const struct rpw_slots *s)
{
	return s->primary != RPW_ADDR_NONE;
}

static void rpw_slot_event(struct rpw_alloc_out *o, unsigned int i,
			   const struct rpw_slot *sl, u8 event)
{
	struct rpw_alloc_act *a = rpw_out_act(o, RPW_ACT_EVENT);

	if (!a)
		return;
	a->event = event;
	a->slot = i;
	a->state = sl->state;
	a->reason = sl->reason;
	a->prio = sl->prio;
	a->id = sl->id;
	a->watts = sl->held_w;
}

static void rpw_slot_power(struct rpw_alloc_out *o, unsigned int i,
			   const struct rpw_slot *sl, u8 kind)
{
	struct rpw_alloc_act *a = rpw_out_act(o, kind);

	if (!a)
		return;
	a->slot = i;
	a->id = sl->id;
	a->watts = sl->held_w;
}

void rpw_slots_init(struct rpw_slots *s, const struct rpw_alloc_timing *t,
		    u32 id_seed)
{
	unsigned int i;

	memset(s, 0, sizeof(*s));
	rpw_timing_set(&s->t, t);
	s->next_id = id_seed;
	for (i = 0; i < RPW_ALLOC_SLOTS; i++) {
		s->slot[i].state = RPW_SLOT_EMPTY;
		s->slot[i].prio = RPW_ALLOC_PRIO_DEFAULT;
	}
}

static u32 rpw_slots_new_id(struct rpw_slots *s)
{
	if (!s->next_id)
		s->next_id++;
	return s->next_id++;
}

int rpw_slots_seed(struct rpw_slots *s, unsigned int slot,
		   const struct rpw_slot_hw *hw)
{
	struct rpw_slot *sl;

	if (slot >= RPW_ALLOC_SLOTS || (hw->powered && !hw->grant_id) ||
	    (hw->present && (!hw->watts || hw->watts > 0xffff)))
		return -EINVAL;
	sl = &s->slot[slot];
	memset(sl, 0, sizeof(*sl));
	sl->prio = hw->prio;
	sl->state = RPW_SLOT_EMPTY;
	if (!hw->present)
		return 0;
	sl->present = true;
	sl->want_w = hw->watts;
	sl->state = RPW_SLOT_OFF;
	if (hw->powered) {
		sl->state = RPW_SLOT_GRANTED;
		sl->id = hw->grant_id;
		sl->held_w = hw->watts;
		sl->seeded = true;
	}
	return 0;
}

void rpw_slots_leader(struct rpw_slots *s, u8 primary, u32 epoch,
		      u64 lease_end, u64 now)
{
	unsigned int i;

	s->lease_end = lease_end;
	if (primary == s->primary && epoch == s->epoch)
		return;
	s->primary = primary;
	s->epoch = epoch;
	s->confirmed = 0;
	s->inv_due = RPW_ALL_SLOTS;
	s->inv_sent = 0;	/* withdrawn by the glue */
	s->inv_ns = now;
	/* Everything open goes to the new primary at once. */
	for (i = 0; i < RPW_ALLOC_SLOTS; i++) {
		struct rpw_slot *sl = &s->slot[i];

		sl->fix_id = 0;
		sl->dirty &= ~RPW_SD_FIX;
		if (rpw_slot_asks(sl))
			sl->dirty |= RPW_SD_REQ;
		if (sl->stmt_type)
			sl->dirty |= RPW_SD_STMT;
		sl->resend_ns = now;
	}
}

/*
 * An absolute statement about the slot's grant (@sl->id holds @held W),
 * outstanding until a confirm shows the ledger agrees.
 */
static void rpw_slot_stmt(struct rpw_slot *sl, u8 type, u8 reason, u32 held,
			  u64 now)
{
	sl->stmt_type = type;
	sl->stmt_reason = reason;
	sl->stmt_held = held;
	sl->dirty |= RPW_SD_STMT;
	sl->resend_ns = now;
}

static void rpw_slot_request(struct rpw_slots *s, struct rpw_slot *sl,
			     u64 now)
{
	sl->id = rpw_slots_new_id(s);
	sl->state = RPW_SLOT_REQUESTING;
	sl->reason = RPW_PWR_R_NONE;
	sl->held_w = 0;
	sl->want_on = false;
	sl->dirty |= RPW_SD_REQ;
	sl->resend_ns = now;
	if (!s->req_until)
		s->req_until = now + rpw_ms(RPW_ALLOC_BURST_MS);
}

/*
 * The server's power is off now: the grant (or open request) @sl->id is
 * over; tell the primary until it confirms.
 */
static void rpw_slot_over(struct rpw_slot *sl, u8 reason, u64 now)
{
	u8 type = sl->state == RPW_SLOT_SHEDDING ? RPW_T_SHED_DONE :
						   RPW_T_PWR_RELEASE;

	sl->held_w = 0;
	sl->state = RPW_SLOT_RELEASING;
	sl->reason = reason;
	sl->dirty &= ~RPW_SD_REQ;
	rpw_slot_stmt(sl, type, reason, 0, now);
}

static void rpw_slot_powered_off(struct rpw_slots *s, struct rpw_slot *sl,
				 unsigned int i, u8 reason, u64 now,
				 struct rpw_alloc_out *o)
{
	u32 held = sl->held_w;

	if (rpw_slot_holds(sl)) {
		rpw_slot_power(o, i, sl, RPW_ACT_POWER_OFF);
		if (sl->state == RPW_SLOT_SHEDDING && reason != RPW_PWR_R_REMOVED) {
			reason = RPW_PWR_R_SHED;
			/*
			 * The server gave its power back for the rack, not
			 * for itself: it asks again, and the primary grants
			 * it when capacity returns (queued until then).
			 */
			sl->want_on |= sl->restore;
		}
		sl->restore = false;
		rpw_slot_over(sl, reason, now);
		/*
		 * The server says it is off (or asleep), but its power enable
		 * is on until the glue has switched it off: a wake would run
		 * it on watts the primary no longer counts.  A server pulled
		 * out draws nothing.
		 */
		if (s->off_ack && reason != RPW_PWR_R_REMOVED)
			sl->off_w = held;
	} else if (rpw_slot_asks(sl) && reason == RPW_PWR_R_REMOVED) {
		/* Withdraw the request: "it is over" for this id too. */
		rpw_slot_over(sl, reason, now);
	} else {
		return;
	}
	rpw_slot_event(o, i, sl, RPW_AEV_SLOT);
}

static int rpw_slot_gone(struct rpw_slots *s, struct rpw_slot *sl,
			 unsigned int i, u64 now, struct rpw_alloc_out *o)
{
	sl->want_on = false;
	if (!sl->present)
		return 0;
	sl->present = false;
	if (rpw_slot_holds(sl) || rpw_slot_asks(sl)) {
		rpw_slot_powered_off(s, sl, i, RPW_PWR_R_REMOVED, now, o);
		return 0;
	}
	if (sl->state != RPW_SLOT_RELEASING) {
		sl->state = RPW_SLOT_EMPTY;
		sl->id = 0;
		sl->reason = RPW_PWR_R_REMOVED;
		rpw_slot_event(o, i, sl, RPW_AEV_SLOT);
	}
	return 0;
}

static int rpw_slot_trigger(struct rpw_slots *s, struct rpw_slot *sl,
			    unsigned int i, unsigned int ev, u64 now,
			    struct rpw_alloc_out *o)
{
	if (!sl->present)
		return -ENODEV;
	sl->trigger = ev;
	if (sl->state == RPW_SLOT_RELEASING) {
		sl->want_on = true;
		return 0;
	}
	if (sl->state != RPW_SLOT_OFF && sl->state != RPW_SLOT_DENIED)
		return 0;
	rpw_slot_request(s, sl, now);
	rpw_slot_event(o, i, sl, RPW_AEV_SLOT);
	return 0;
}

static int rpw_slot_admin_off(struct rpw_slot *sl, unsigned int i, u64 now,
			      struct rpw_alloc_out *o)
{
	sl->want_on = false;
	sl->restore = false;
	if (rpw_slot_holds(sl)) {
		rpw_slot_power(o, i, sl, RPW_ACT_SHUTDOWN);
		return 0;
	}
	if (rpw_slot_asks(sl)) {
		rpw_slot_over(sl, RPW_PWR_R_ADMIN, now);
		rpw_slot_event(o, i, sl, RPW_AEV_SLOT);
	}
	return 0;
}

static int rpw_slot_lower(struct rpw_slot *sl, unsigned int i, u32 watts,
			  u64 now, struct rpw_alloc_out *o)
{
	if (!rpw_slot_holds(sl))
		return 0;
	/* More than granted needs a new grant: never taken silently. */
	if (watts > sl->held_w)
		return -ERANGE;
	if (watts == sl->held_w)
		return 0;
	sl->held_w = watts;
	sl->seeded = false;
	rpw_slot_stmt(sl, RPW_T_PWR_RELEASE, RPW_PWR_R_LOWER, watts, now);
	rpw_slot_event(o, i, sl, RPW_AEV_SLOT);
	return 0;
}

static int rpw_slot_present(struct rpw_slot *sl, unsigned int i, u32 watts,
			    struct rpw_alloc_out *o)
{
	bool was = sl->present;

	sl->present = true;
	if (sl->state == RPW_SLOT_EMPTY || sl->state == RPW_SLOT_OFF ||
	    sl->state == RPW_SLOT_DENIED || sl->state == RPW_SLOT_RELEASING)
		sl->want_w = watts;
	if (sl->state == RPW_SLOT_EMPTY) {
		sl->state = RPW_SLOT_OFF;
		sl->reason = RPW_PWR_R_NONE;
	}
	if (!was)
		rpw_slot_event(o, i, sl, RPW_AEV_SLOT);
	return 0;
}

int rpw_slots_server_event(struct rpw_slots *s, unsigned int slot,
			   unsigned int ev, u32 watts, u64 now,
			   struct rpw_alloc_out *out)
{
	struct rpw_slot *sl;

	if (slot >= RPW_ALLOC_SLOTS)
		return -EINVAL;
	sl = &s->slot[slot];
	switch (ev) {
	case RPW_SEV_PRESENT:
		if (!watts || watts > 0xffff)
			return -EINVAL;
		return rpw_slot_present(sl, slot, watts, out);
	case RPW_SEV_GONE:
		return rpw_slot_gone(s, sl, slot, now, out);
	case RPW_SEV_INSERT:
	case RPW_SEV_BUTTON:
	case RPW_SEV_LAN_WAKE:
	case RPW_SEV_WAKE:
	case RPW_SEV_ADMIN_ON:
		return rpw_slot_trigger(s, sl, slot, ev, now, out);
	case RPW_SEV_ADMIN_OFF:
		return rpw_slot_admin_off(sl, slot, now, out);
	case RPW_SEV_SLEEP:
		rpw_slot_powered_off(s, sl, slot, RPW_PWR_R_SLEEP, now, out);
		return 0;
	case RPW_SEV_OFF:
		rpw_slot_powered_off(s, sl, slot, RPW_PWR_R_OFF, now, out);
		return 0;
	case RPW_SEV_LOWER:
		if (!watts)
			return -EINVAL;
		return rpw_slot_lower(sl, slot, watts, now, out);
	default:
		return -EINVAL;
	}
}

int rpw_slots_power_failed(struct rpw_slots *s, unsigned int slot, u32 id,
			   u64 now, struct rpw_alloc_out *out)
{
	struct rpw_slot *sl;

	if (slot >= RPW_ALLOC_SLOTS)
		return -EINVAL;
	sl = &s->slot[slot];
	if (!rpw_slot_holds(sl) || sl->id != id)
		return -ESTALE;
	sl->want_on = false;
	sl->seeded = false;
	/* Said as a release even when shedding: nothing was ever on. */
	sl->state = RPW_SLOT_GRANTED;
	rpw_slot_over(sl, RPW_PWR_R_POWER_FAILED, now);
	rpw_slot_event(out, slot, sl, RPW_AEV_SLOT);
	return 0;
}

int rpw_slots_power_off_done(struct rpw_slots *s, unsigned int slot, u32 id,
			     u64 now)
{
	struct rpw_slot *sl;

	if (slot >= RPW_ALLOC_SLOTS)
		return -EINVAL;
	sl = &s->slot[slot];
	if (!sl->off_w || sl->id != id)
		return -ESTALE;
	sl->off_w = 0;
	if (sl->stmt_type) {
		sl->dirty |= RPW_SD_STMT;
		sl->resend_ns = now;
	}
	return 0;
}

int rpw_slots_set_prio(struct rpw_slots *s, unsigned int slot, u8 prio,
		       u64 now)
{
	if (slot >= RPW_ALLOC_SLOTS)
		return -EINVAL;
	if (s->slot[slot].prio == prio)
		return 0;
	s->slot[slot].prio = prio;
	/* An open request carries it; a holding needs a report. */
	s->inv_due |= BIT(slot);
	if (rpw_slot_asks(&s->slot[slot]))
		s->slot[slot].dirty |= RPW_SD_REQ;
	(void)now;
	return 0;
}

static void rpw_slot_grant(struct rpw_slot *sl, unsigned int i, u32 watts,
			   u64 now, struct rpw_alloc_out *o)
{
	if (watts < sl->want_w) {
		/* Not enough to run on: the grant goes back at once. */
		sl->reason = RPW_PWR_R_REFUSED;
		rpw_slot_over(sl, RPW_PWR_R_REFUSED, now);
		rpw_slot_event(o, i, sl, RPW_AEV_SLOT);
		return;
	}
	sl->state = RPW_SLOT_GRANTED;
	sl->held_w = watts;
	sl->reason = RPW_PWR_R_NONE;
	sl->dirty &= ~RPW_SD_REQ;
	rpw_slot_power(o, i, sl, RPW_ACT_POWER_ON);
	rpw_slot_event(o, i, sl, RPW_AEV_SLOT);
}

static void rpw_slot_answer(struct rpw_slots *s, const struct rpw_pwr_ans *e,
			    u64 now, struct rpw_alloc_out *o)
{
	struct rpw_slot *sl = &s->slot[e->slot];
	u32 id = le32_to_cpu(e->req_id);

	if (!id) {
		s->stats.rx_bad++;
		return;
	}
	if (id != sl->id || !rpw_slot_asks(sl)) {
		s->stats.stray++;
		/* A grant we do not hold: the ledger must learn it is over. */
		if (e->verdict == RPW_PWR_GRANT && id != sl->id) {
			sl->fix_id = id;
			sl->dirty |= RPW_SD_FIX;
		}
		return;
	}
	switch (e->verdict) {
	case RPW_PWR_GRANT:
		rpw_slot_grant(sl, e->slot, le16_to_cpu(e->watts), now, o);
		return;
	case RPW_PWR_QUEUED:
		sl->resend_ns = now + rpw_ms(s->t.queued_ms);
		if (sl->state == RPW_SLOT_QUEUED && sl->reason == e->reason)
			return;
		sl->state = RPW_SLOT_QUEUED;
		break;
	default:		/* RPW_PWR_DENIED */
		sl->state = RPW_SLOT_DENIED;
		sl->id = 0;
		sl->dirty &= ~RPW_SD_REQ;
		break;
	}
	sl->reason = e->reason;
	rpw_slot_event(o, e->slot, sl, RPW_AEV_SLOT);
}

/* Whether the ledger's view (@gs, @held, @id) confirms the statement. */
static bool rpw_slot_stmt_confirmed(const struct rpw_slot *sl, u8 gs,
				    u32 held, u32 id)
{
	if (!sl->stmt_held)
		return gs == RPW_GS_NONE || id != sl->id;
	return id == sl->id && held == sl->stmt_held && rpw_gs_holds(gs);
}

static void rpw_slot_released(struct rpw_slots *s, struct rpw_slot *sl,
			      unsigned int i, u64 now, struct rpw_alloc_out *o)
{
	sl->id = 0;
	sl->state = sl->present ? RPW_SLOT_OFF : RPW_SLOT_EMPTY;
	if (sl->want_on && sl->present)
		rpw_slot_request(s, sl, now);
	sl->want_on = false;
	rpw_slot_event(o, i, sl, RPW_AEV_SLOT);
}

/* Compare the ledger's view of a slot with the truth; correct it. */
static void rpw_slot_confirm(struct rpw_slots *s, const struct rpw_pwr_conf *e,
			     u64 now, struct rpw_alloc_out *o)
{
	struct rpw_slot *sl = &s->slot[e->slot];
	u32 held = le16_to_cpu(e->held_watts);
	u32 id = le32_to_cpu(e->req_id);
	u8 gs = e->state;

	s->confirmed |= BIT(e->slot);
	if (sl->fix_id && (gs == RPW_GS_NONE || id != sl->fix_id)) {
		sl->fix_id = 0;
		sl->dirty &= ~RPW_SD_FIX;
	}
	/*
	 * After a restart the holding is the server's full need, an upper
	 * bound: what we told the ledger before is the better figure.
	 */
	if (sl->seeded && rpw_slot_holds(sl) && id == sl->id &&
	    rpw_gs_holds(gs) && held && held < sl->held_w && !sl->stmt_type) {
		sl->held_w = held;
		rpw_slot_event(o, e->slot, sl, RPW_AEV_SLOT);
	}
	if (gs != RPW_GS_NONE && id == sl->id)
		sl->seeded = false;
	if (sl->stmt_type && !sl->off_w &&
	    rpw_slot_stmt_confirmed(sl, gs, held, id)) {
		sl->stmt_type = 0;
		sl->dirty &= ~RPW_SD_STMT;
		if (sl->state == RPW_SLOT_RELEASING)
			rpw_slot_released(s, sl, e->slot, now, o);
	}
	if (gs != RPW_GS_NONE && id && id != sl->id) {
		/* The ledger counts a grant that is not ours (any more). */
		sl->fix_id = id;
		sl->dirty |= RPW_SD_FIX;
		sl->resend_ns = now;
	}
	if (rpw_slot_holds(sl) && !sl->stmt_type &&
	    !(id == sl->id && held == sl->held_w && rpw_gs_holds(gs)))
		rpw_slot_stmt(sl, RPW_T_PWR_RELEASE, RPW_PWR_R_NONE,
			      sl->held_w, now);
	if (rpw_slot_asks(sl) && (gs == RPW_GS_NONE || id != sl->id)) {
		sl->dirty |= RPW_SD_REQ;
		sl->resend_ns = now;
	}
}

static void rpw_slot_shed(struct rpw_slots *s, const struct rpw_pwr_shed *e,
			  u64 now, struct rpw_alloc_out *o)
{
	struct rpw_slot *sl = &s->slot[e->slot];
	u32 id = le32_to_cpu(e->req_id);

	if (!id) {
		s->stats.rx_bad++;
		return;
	}
	if (id != sl->id) {
		s->stats.stray++;
		sl->fix_id = id;
		sl->dirty |= RPW_SD_FIX;
		sl->resend_ns = now;
		return;
	}
	if (sl->state == RPW_SLOT_RELEASING) {
		sl->dirty |= RPW_SD_STMT;	/* the answer is already out */
		sl->resend_ns = now;
		return;
	}
	if (sl->state != RPW_SLOT_GRANTED)
		return;
	sl->state = RPW_SLOT_SHEDDING;
	sl->restore = true;
	sl->shed_end_ns = now + rpw_ms(s->t.shed_ms);
	rpw_slot_power(o, e->slot, sl, RPW_ACT_SHUTDOWN);
	rpw_slot_event(o, e->slot, sl, RPW_AEV_SLOT);
}

/*
 * The slots whose report is still queued, to be sent anyway: not queued
 * twice.  The MAC tells when it is done with each frame (delivered(),
 * unsent()), so queued_ms only bounds what a frame lost without a word
 * would cost.
 */
static u8 rpw_slots_in_flight(const struct rpw_slots *s, u64 now)
{
	return now < s->inv_sent_end ? s->inv_sent : 0;
}

/* Entries with a slot number out of range are counted and skipped. */
static bool rpw_slots_entry_ok(struct rpw_slots *s, u8 slot)
{
	if (slot < RPW_ALLOC_SLOTS)
		return true;
	s->stats.rx_bad++;
	return false;
}

static int rpw_slots_rx_entries(struct rpw_slots *s, const struct rpw_frame *f,
				int n, u64 now, struct rpw_alloc_out *o)
{
	int i;

	for (i = 0; i < n; i++) {
		switch (f->type) {
		case RPW_T_PWR_ANSWER: {
			const struct rpw_pwr_ans *e =
				rpw_pwr_entry(f, sizeof(*e), i);

			if (!rpw_slots_entry_ok(s, e->slot))
				break;
			if (e->verdict < RPW_PWR_GRANT ||
			    e->verdict > RPW_PWR_DENIED) {
				s->stats.rx_bad++;
				break;
			}
			rpw_slot_answer(s, e, now, o);
			break;
		}
		case RPW_T_PWR_CONFIRM: {
			const struct rpw_pwr_conf *e =
				rpw_pwr_entry(f, sizeof(*e), i);

			if (!rpw_slots_entry_ok(s, e->slot))
				break;
			if (e->state > RPW_GS_MAX) {
				s->stats.rx_bad++;
				break;
			}
			rpw_slot_confirm(s, e, now, o);
			break;
		}
		default: {		/* RPW_T_SHED_REQUEST */
			const struct rpw_pwr_shed *e =
				rpw_pwr_entry(f, sizeof(*e), i);

			if (rpw_slots_entry_ok(s, e->slot))
				rpw_slot_shed(s, e, now, o);
			break;
		}
		}
	}
	return 0;
}

static size_t rpw_slots_rx_esz(u8 type)
{
	switch (type) {
	case RPW_T_PWR_ANSWER:
		return sizeof(struct rpw_pwr_ans);
	case RPW_T_PWR_CONFIRM:
		return sizeof(struct rpw_pwr_conf);
	case RPW_T_SHED_REQUEST:
		return sizeof(struct rpw_pwr_shed);
	default:		/* RPW_T_INV_QUERY */
		return 0;
	}
}

int rpw_slots_rx(struct rpw_slots *s, const struct rpw_frame *f, u64 now,
		 struct rpw_alloc_out *out)
{
	u32 epoch;
	int n;

	if (f->type != RPW_T_PWR_ANSWER && f->type != RPW_T_PWR_CONFIRM &&
	    f->type != RPW_T_SHED_REQUEST && f->type != RPW_T_INV_QUERY)
		return -EOPNOTSUPP;
	n = rpw_pwr_parse(f, rpw_slots_rx_esz(f->type), &epoch);
	if (n < 0) {
		s->stats.rx_bad++;
		return n;
	}
	/* Fencing: the followed primary, its epoch, within its lease. */
	if (!rpw_slots_following(s) || f->src != s->primary ||
	    epoch != s->epoch || now >= s->lease_end) {
		s->stats.rx_stale++;
		return -ESTALE;
	}
	if (f->type == RPW_T_INV_QUERY) {
		s->inv_due = RPW_ALL_SLOTS & ~rpw_slots_in_flight(s, now);
		return 0;
	}
	return rpw_slots_rx_entries(s, f, n, now, out);
}

/* Shed deadlines and resends: mark what is due. */
static void rpw_slots_timers(struct rpw_slots *s, u64 now,
			     struct rpw_alloc_out *o)
{
	unsigned int i;

	for (i = 0; i < RPW_ALLOC_SLOTS; i++) {
		struct rpw_slot *sl = &s->slot[i];

		if (sl->state == RPW_SLOT_SHEDDING && now >= sl->shed_end_ns) {
			/* Told as it is: the server still holds its grant. */
			s->stats.shed_ignored++;
			sl->state = RPW_SLOT_GRANTED;
			sl->reason = RPW_PWR_R_REFUSED;
			rpw_slot_stmt(sl, RPW_T_SHED_DONE, RPW_PWR_R_REFUSED,
				      sl->held_w, now);
			rpw_slot_event(o, i, sl, RPW_AEV_SHED_IGNORED);
		}
		if (now < sl->resend_ns || !rpw_slots_following(s))
			continue;
		if (rpw_slot_asks(sl) && !(sl->dirty & RPW_SD_REQ)) {
			sl->dirty |= RPW_SD_REQ;
			s->stats.resent++;
		}
		if (sl->stmt_type && !(sl->dirty & RPW_SD_STMT)) {
			sl->dirty |= RPW_SD_STMT;
			s->stats.resent++;
		}
		if (sl->fix_id)
			sl->dirty |= RPW_SD_FIX;
	}
	if (rpw_slots_following(s) && s->confirmed != RPW_ALL_SLOTS &&
	    now >= s->inv_ns) {
		/* Only what is still unconfirmed: a report takes 3 frames. */
		s->inv_due = RPW_ALL_SLOTS & ~s->confirmed &
			     ~rpw_slots_in_flight(s, now);
		s->inv_ns = now + rpw_ms(s->t.resend_ms);
	}
}

static bool rpw_slot_emit_stmt(struct rpw_slots *s, struct rpw_slot *sl,
			       unsigned int i, struct rpw_alloc_out *o)
{
	struct rpw_pwr_stmt *e;

	if (sl->dirty & RPW_SD_FIX) {
		e = rpw_out_entry(o, RPW_T_PWR_RELEASE, s->primary, s->epoch,
				  sizeof(*e));
		if (!e)
			return false;
		e->slot = i;
		e->reason = RPW_PWR_R_STALE;
		e->req_id = cpu_to_le32(sl->fix_id);
		sl->dirty &= ~RPW_SD_FIX;
	}
	/* Not before the enable is off: rpw_slots_power_off_done(). */
	if ((sl->dirty & RPW_SD_STMT) && !sl->off_w) {
		e = rpw_out_entry(o, sl->stmt_type, s->primary, s->epoch,
				  sizeof(*e));
		if (!e)
			return false;
		e->slot = i;
		e->reason = sl->stmt_reason;
		e->held_watts = cpu_to_le16(sl->stmt_held);
		e->req_id = cpu_to_le32(sl->id);
		sl->dirty &= ~RPW_SD_STMT;
	}
	return true;
}

static bool rpw_slot_emit_req(struct rpw_slots *s, struct rpw_slot *sl,
			      unsigned int i, bool hold, struct rpw_alloc_out *o)
{
	struct rpw_pwr_req *e;

	if (!(sl->dirty & RPW_SD_REQ) || hold)
		return true;
	e = rpw_out_entry(o, RPW_T_PWR_REQUEST, s->primary, s->epoch,
			  sizeof(*e));
	if (!e)
		return false;
	e->slot = i;
	e->prio = sl->prio;
	e->watts = cpu_to_le16(sl->want_w);
	e->req_id = cpu_to_le32(sl->id);
	sl->dirty &= ~RPW_SD_REQ;
	return true;
}

static void rpw_slot_inv_fill(const struct rpw_slot *sl, unsigned int i,
			      struct rpw_inv_ent *e)
{
	e->slot = i;
	e->state = sl->state;
	e->prio = sl->prio;
	e->want_watts = cpu_to_le16(sl->want_w);
	/* Still held while the enable is on (a report is a statement). */
	e->held_watts = cpu_to_le16(sl->off_w ?: sl->held_w);
	e->req_id = cpu_to_le32(sl->id);
}

static bool rpw_slots_emit_inv(struct rpw_slots *s, u64 now,
			       struct rpw_alloc_out *o)
{
	struct rpw_inv_ent *e = NULL;
	unsigned int i;

	for (i = 0; i < RPW_ALLOC_SLOTS; i++) {
		if (!(s->inv_due & BIT(i)))
			continue;
		e = rpw_out_entry(o, RPW_T_INV_REPORT, s->primary, s->epoch,
				  sizeof(*e));
		if (!e)
			return false;
		rpw_slot_inv_fill(&s->slot[i], i, e);
		s->inv_due &= ~BIT(i);
		s->inv_sent = rpw_slots_in_flight(s, now) | BIT(i);
		s->inv_sent_end = now + rpw_ms(s->t.queued_ms);
	}
	/* The report's last frame is the newest INV_REPORT in @o. */
	for (i = o->nframes; e && i-- > 0;) {
		if (o->frames[i].type == RPW_T_INV_REPORT) {
			o->frames[i].payload[5] |= RPW_PWR_F_LAST;
			break;
		}
	}
	return true;
}

/*
 * Every due frame, batched; false when @o filled up or flow control
 * stopped it first (what is left stays due).
 */
static bool rpw_slots_emit(struct rpw_slots *s, u64 now,
			   struct rpw_alloc_out *o)
{
	unsigned int i, reqs = 0;
	bool ok = true, hold;

	for (i = 0; i < RPW_ALLOC_SLOTS; i++)
		reqs += !!(s->slot[i].dirty & RPW_SD_REQ);
	if (!reqs)
		s->req_until = 0;
	/* New requests wait for the rest of their burst. */
	hold = now < s->req_until &&
	       reqs < RPW_PWR_MAX_ENTRIES(sizeof(struct rpw_pwr_req));
	for (i = 0; i < RPW_ALLOC_SLOTS && ok; i++) {
		struct rpw_slot *sl = &s->slot[i];
		u8 was = sl->dirty;

		if (!was)
			continue;
		ok = rpw_slot_emit_stmt(s, sl, i, o) &&
		     rpw_slot_emit_req(s, sl, i, hold, o);
		/* The resend period runs from the (last) frame sent. */
		if (sl->dirty != was)
			sl->resend_ns = now + rpw_ms(sl->state == RPW_SLOT_QUEUED ?
						     s->t.queued_ms :
						     s->t.resend_ms);
	}
	return ok && rpw_slots_emit_inv(s, now, o);
}

static u64 rpw_slots_next(const struct rpw_slots *s, u64 now)
{
	u64 next = RPW_ALLOC_NO_TIMER;
	unsigned int i;

	/* Past it, the requests wait for flow control. */
	if (rpw_slots_following(s) && s->req_until > now)
		next = s->req_until;
	for (i = 0; i < RPW_ALLOC_SLOTS; i++) {
		const struct rpw_slot *sl = &s->slot[i];

		if (sl->state == RPW_SLOT_SHEDDING)
			next = rpw_min_t(next, sl->shed_end_ns);
		/* Still due after a tick: it waits for flow control. */
		if (rpw_slots_following(s) && !sl->dirty &&
		    (rpw_slot_asks(sl) || sl->stmt_type || sl->fix_id))
			next = rpw_min_t(next, sl->resend_ns);
	}
	if (rpw_slots_following(s) && s->confirmed != RPW_ALL_SLOTS)
		next = rpw_min_t(next, s->inv_ns);
	return next;
}

u64 rpw_slots_tick(struct rpw_slots *s, u64 now, struct rpw_alloc_out *out)
{
	rpw_slots_timers(s, now, out);
	if (!rpw_slots_following(s))
		return rpw_slots_next(s, now);
	if (!rpw_slots_emit(s, now, out) && rpw_out_full(out))
		return now;
	return rpw_slots_next(s, now);
}

/* Request, statement and report entries: slot first, the id last. */
static_assert(sizeof(struct rpw_pwr_req) == sizeof(struct rpw_pwr_stmt),
	      "a request entry is as long as a statement entry");

void rpw_slots_delivered(struct rpw_slots *s, const struct rpw_frame *f,
			 u64 now)
{
	u64 later = now + rpw_ms(s->t.queued_ms);
	size_t esz = f->type == RPW_T_INV_REPORT ?
		     sizeof(struct rpw_inv_ent) : sizeof(struct rpw_pwr_stmt);
	u32 epoch;
	int i, n;

	if (f->type != RPW_T_PWR_REQUEST && f->type != RPW_T_PWR_RELEASE &&
	    f->type != RPW_T_SHED_DONE && f->type != RPW_T_INV_REPORT)
		return;
	n = rpw_pwr_parse(f, esz, &epoch);
	if (n <= 0 || f->dst != s->primary || epoch != s->epoch)
		return;
	if (f->type == RPW_T_INV_REPORT && s->confirmed != RPW_ALL_SLOTS &&
	    s->inv_ns < later)
		s->inv_ns = later;
	for (i = 0; i < n; i++) {
		const u8 *e = rpw_pwr_entry(f, esz, i);
		struct rpw_slot *sl;

		if (e[0] >= RPW_ALLOC_SLOTS)
			continue;
		if (f->type == RPW_T_INV_REPORT)
			s->inv_sent &= ~BIT(e[0]);
		sl = &s->slot[e[0]];
		if (get_unaligned_le32(e + esz - 4) != sl->id || !sl->id ||
		    sl->resend_ns >= later)
			continue;
		if (f->type == sl->stmt_type ||
		    ((f->type == RPW_T_PWR_REQUEST ||
		      f->type == RPW_T_INV_REPORT) && rpw_slot_asks(sl)))
			sl->resend_ns = later;
	}
}

static void rpw_slot_unsent(struct rpw_slots *s, u8 type, unsigned int i,
			    u32 id)
{
	struct rpw_slot *sl = &s->slot[i];

	switch (type) {
	case RPW_T_PWR_REQUEST:
		if (rpw_slot_asks(sl) && sl->id == id)
			sl->dirty |= RPW_SD_REQ;
		break;
	case RPW_T_INV_REPORT:
		/*
		 * Even when a confirm of the slot came meanwhile: it may
		 * answer a request or statement, and a new primary grants
		 * nothing to this chassis until every slot was reported.
		 */
		s->inv_due |= BIT(i);
		s->inv_sent &= ~BIT(i);
		break;
	default:		/* RPW_T_PWR_RELEASE, RPW_T_SHED_DONE */
		if (sl->stmt_type == type && sl->id == id)
			sl->dirty |= RPW_SD_STMT;
		if (sl->fix_id && sl->fix_id == id)
			sl->dirty |= RPW_SD_FIX;
		break;
	}
}

void rpw_slots_unsent(struct rpw_slots *s, const struct rpw_frame *f)
{
	size_t esz = f->type == RPW_T_INV_REPORT ?
		     sizeof(struct rpw_inv_ent) : sizeof(struct rpw_pwr_stmt);
	u32 epoch;
	int i, n;

	if (f->type != RPW_T_PWR_REQUEST && f->type != RPW_T_PWR_RELEASE &&
	    f->type != RPW_T_SHED_DONE && f->type != RPW_T_INV_REPORT)
		return;
	n = rpw_pwr_parse(f, esz, &epoch);
	if (n <= 0 || !rpw_slots_following(s) || f->dst != s->primary ||
	    epoch != s->epoch)
		return;
	for (i = 0; i < n; i++) {
		const u8 *e = rpw_pwr_entry(f, esz, i);

		if (e[0] < RPW_ALLOC_SLOTS)
			rpw_slot_unsent(s, f->type, e[0],
					get_unaligned_le32(e + esz - 4));
	}
}

void rpw_slots_flushed(struct rpw_slots *s)
{
	s->inv_due |= s->inv_sent;
	s->inv_sent = 0;
}

/* ------------------------------------------------------------------ */
/* Primary side                                                        */

static bool rpw_ent_done(const struct rpw_ledger_ent *e, u32 id)
{
	unsigned int i;

	for (i = 0; i < RPW_ALLOC_DONE_IDS; i++)
		if (e->done[i] == id)
			return true;
	return false;
}

static void rpw_ent_done_push(struct rpw_ledger_ent *e, u32 id)
{
	if (rpw_ent_done(e, id))
		return;
	memmove(&e->done[1], &e->done[0],
		sizeof(e->done) - sizeof(e->done[0]));
	e->done[0] = id;
}

static void rpw_ledger_sum(struct rpw_ledger *l)
{
	unsigned int c, i;
	u64 sum = 0;

	for (c = 0; c < RPW_ALLOC_MAX_CHASSIS; c++)
		for (i = 0; i < RPW_ALLOC_SLOTS; i++)
			if (rpw_gs_holds(l->ch[c].ent[i].state))
				sum += l->ch[c].ent[i].held_mw;
	l->granted_mw = sum;
}

/* The chassis entry of @addr; RPW_ADDR_NONE finds a free one. */
static struct rpw_ledger_chassis *rpw_ledger_slot(struct rpw_ledger *l,
						  u8 addr)
{
	unsigned int c;

	for (c = 0; c < RPW_ALLOC_MAX_CHASSIS; c++)
		if (l->ch[c].addr == addr)
			return &l->ch[c];
	return NULL;
}

/*
 * The chassis entry of a module's address.  Address 0 marks a free entry
 * and 0xff is no module's: neither has one (a frame, netlink or the
 * MAC's report naming them must not reach a free entry).
 */
static struct rpw_ledger_chassis *rpw_ledger_find(struct rpw_ledger *l,
						  u8 addr)
{
	if (addr == RPW_ADDR_NONE || addr == RPW_ADDR_BCAST)
		return NULL;
	return rpw_ledger_slot(l, addr);
}

static struct rpw_ledger_chassis *rpw_ledger_add(struct rpw_ledger *l,
						 u8 addr)
{
	struct rpw_ledger_chassis *ch;

	if (addr == RPW_ADDR_NONE || addr == RPW_ADDR_BCAST)
		return NULL;
	ch = rpw_ledger_find(l, addr);
	if (ch)
		return ch;
	ch = rpw_ledger_slot(l, RPW_ADDR_NONE);
	if (ch) {
		memset(ch, 0, sizeof(*ch));
		ch->addr = addr;
	}
	return ch;
}

static void rpw_ledger_event(struct rpw_alloc_out *o, u8 event,
			     const struct rpw_ledger_chassis *ch,
			     unsigned int slot, u32 id)
{
	const struct rpw_ledger_ent *e = &ch->ent[slot];
	struct rpw_alloc_act *a = rpw_out_act(o, RPW_ACT_EVENT);

	if (!a)
		return;
	a->event = event;
	a->addr = ch->addr;
	a->slot = slot;
	a->state = e->state;
	a->reason = e->reason;
	a->prio = e->prio;
	a->id = id;
	a->watts = rpw_alloc_mw_to_w(e->state ? e->held_mw : 0);
}

void rpw_ledger_init(struct rpw_ledger *l, const struct rpw_alloc_timing *t)
{
	memset(l, 0, sizeof(*l));
	rpw_timing_set(&l->t, t);
}

void rpw_ledger_role(struct rpw_ledger *l, bool acting, u32 epoch, u64 now,
		     struct rpw_alloc_out *out)
{
	unsigned int c;

	for (c = 0; c < RPW_ALLOC_MAX_CHASSIS; c++) {
		memset(l->ch[c].ent, 0, sizeof(l->ch[c].ent));
		l->ch[c].reported = 0;
		l->ch[c].ans_until = 0;
	}
	l->acting = acting;
	l->epoch = epoch;
	l->granted_mw = 0;
	l->recovering = acting;
	l->acting_since = now;
	l->query_ns = now;
	l->query_due = acting;
	(void)out;
}

int rpw_ledger_know(struct rpw_ledger *l, u8 addr)
{
	if (addr == RPW_ADDR_NONE || addr == RPW_ADDR_BCAST)
		return -EINVAL;
	return rpw_ledger_add(l, addr) ? 0 : -ENOSPC;
}

void rpw_ledger_policy(struct rpw_ledger *l, bool bound, u64 now)
{
	if (l->policy && !bound)
		l->policy_since = now;
	l->policy = bound;
}

static void rpw_ent_answer(struct rpw_ledger_ent *e, u8 verdict, u8 reason,
			   u32 id, u32 watts)
{
	e->ans = verdict;
	e->ans_id = id;
	e->ans_w = watts;
	e->reason = reason;
	e->dirty |= RPW_LD_ANS;
}

/*
 * "Grant @id now holds @held_mw" (0: it is over for good).  @want_mw: what
 * the server needs, if the statement says (an INV_REPORT), else 0.
 */
static void rpw_ledger_stmt(struct rpw_ledger *l,
			    struct rpw_ledger_chassis *ch, unsigned int slot,
			    u32 id, u64 held_mw, u64 want_mw, u8 type, u8 reason,
			    u64 now, struct rpw_alloc_out *o)
{
	struct rpw_ledger_ent *e = &ch->ent[slot];
	bool mine = e->state != RPW_GS_NONE && e->id == id;

	e->dirty |= RPW_LD_CONF;
	if (!held_mw) {
		rpw_ent_done_push(e, id);
		if (!mine)
			return;
		e->state = RPW_GS_NONE;
		e->held_mw = 0;
		e->reason = reason;
		e->dirty &= ~RPW_LD_SHED;
		rpw_ledger_event(o, RPW_AEV_ENTRY, ch, slot, id);
		return;
	}
	if (rpw_ent_done(e, id))
		return;		/* a late copy of an older statement */
	if (mine && rpw_gs_holds(e->state)) {
		/*
		 * A grant's holding only decreases, so the least stated is
		 * the newest: late copies change nothing, and the ledger
		 * never goes back up (a confirm stays true once sent).
		 */
		e->held_mw = rpw_min_t(e->held_mw, held_mw);
		/*
		 * After a lower consumption the holding is below the need:
		 * a report says the need, a release (adopted) did not.
		 */
		if (want_mw)
			e->want_mw = want_mw;
		if (e->state == RPW_GS_SHEDDING && type == RPW_T_SHED_DONE) {
			/* Refused: still held, and told so. */
			e->state = RPW_GS_GRANTED;
			e->reason = RPW_PWR_R_REFUSED;
			e->dirty &= ~RPW_LD_SHED;
			l->stats.shed_refused++;
			rpw_ledger_event(o, RPW_AEV_SHED_REFUSED, ch, slot, id);
		} else {
			rpw_ledger_event(o, RPW_AEV_ENTRY, ch, slot, id);
		}
		return;
	}
	/* Another holding keeps its place; the confirm tells the chassis. */
	if (rpw_gs_holds(e->state))
		return;
	/* The chassis holds @id (from an earlier primary): adopt it. */
	e->state = RPW_GS_GRANTED;
	e->id = id;
	e->held_mw = held_mw;
	e->want_mw = want_mw > held_mw ? want_mw : held_mw;
	e->reason = RPW_PWR_R_NONE;
	e->ans = RPW_PWR_GRANT;
	e->ans_id = id;
	e->ans_w = rpw_alloc_mw_to_w(held_mw);
	e->dirty &= ~RPW_LD_ANS;
	e->since = now;
	l->stats.adopted++;
	rpw_ledger_event(o, RPW_AEV_ENTRY, ch, slot, id);
}

static void rpw_ledger_request(struct rpw_ledger *l,
			       struct rpw_ledger_chassis *ch,
			       unsigned int slot, u32 id, u8 prio, u32 watts,
			       u64 now, struct rpw_alloc_out *o)
{
	struct rpw_ledger_ent *e = &ch->ent[slot];

	if (rpw_ent_done(e, id) || (e->state != RPW_GS_NONE && e->id == id)) {
		/* Known: the same answer again (none yet while pending). */
		if (e->state != RPW_GS_NONE && e->id == id)
			e->prio = prio;
		if (e->ans && e->ans_id == id) {
			e->dirty |= RPW_LD_ANS;
			l->stats.dup_requests++;
		}
		return;
	}
	if (rpw_gs_holds(e->state)) {
		/* One grant per slot: the chassis must end the other first. */
		e->dirty |= RPW_LD_CONF;
		return;
	}
	e->state = RPW_GS_PENDING;
	e->id = id;
	e->prio = prio;
	e->want_mw = (u64)watts * 1000;
	e->held_mw = 0;
	e->since = now;
	e->reason = RPW_PWR_R_NONE;
	e->ans = 0;
	/* An answer still held for an older id is moot: it asks anew. */
	e->dirty &= ~RPW_LD_ANS;
	rpw_ledger_event(o, RPW_AEV_REQUEST, ch, slot, id);
}

static void rpw_ledger_report(struct rpw_ledger *l,
			      struct rpw_ledger_chassis *ch,
			      const struct rpw_inv_ent *r, u64 now,
			      struct rpw_alloc_out *o)
{
	struct rpw_ledger_ent *e = &ch->ent[r->slot];
	u32 held = le16_to_cpu(r->held_watts);
	u32 id = le32_to_cpu(r->req_id);

	ch->reported |= BIT(r->slot);
	e->dirty |= RPW_LD_CONF;
	if (!id)
		return;
	switch (r->state) {
	case RPW_SLOT_REQUESTING:
	case RPW_SLOT_QUEUED:
		rpw_ledger_request(l, ch, r->slot, id, r->prio,
				   le16_to_cpu(r->want_watts), now, o);
		break;
	case RPW_SLOT_GRANTED:
	case RPW_SLOT_SHEDDING:
	case RPW_SLOT_RELEASING:
		rpw_ledger_stmt(l, ch, r->slot, id, (u64)held * 1000,
				(u64)le16_to_cpu(r->want_watts) * 1000,
				RPW_T_INV_REPORT, RPW_PWR_R_NONE, now, o);
		break;
	default:
		return;
	}
	if (e->state != RPW_GS_NONE && e->id == id)
		e->prio = r->prio;
}

static bool rpw_ledger_all_reported(const struct rpw_ledger *l)
{
	unsigned int c;

	for (c = 0; c < RPW_ALLOC_MAX_CHASSIS; c++)
		if (l->ch[c].addr != RPW_ADDR_NONE &&
		    l->ch[c].reported != RPW_ALL_SLOTS)
			return false;
	return true;
}

static void rpw_ledger_recovered(struct rpw_ledger *l, u8 reason,
				 struct rpw_alloc_out *o)
{
	struct rpw_alloc_act *a;

	l->recovering = false;
	a = rpw_out_act(o, RPW_ACT_EVENT);
	if (a) {
		a->event = RPW_AEV_RECOVERED;
		a->reason = reason;
	}
}

static size_t rpw_ledger_rx_esz(u8 type)
{
	switch (type) {
	case RPW_T_PWR_REQUEST:
		return sizeof(struct rpw_pwr_req);
	case RPW_T_INV_REPORT:
		return sizeof(struct rpw_inv_ent);
	default:		/* RPW_T_PWR_RELEASE, RPW_T_SHED_DONE */
		return sizeof(struct rpw_pwr_stmt);
	}
}

static void rpw_ledger_rx_entry(struct rpw_ledger *l,
				struct rpw_ledger_chassis *ch,
				const struct rpw_frame *f, unsigned int i,
				u64 now, struct rpw_alloc_out *o)
{
	const void *p = rpw_pwr_entry(f, rpw_ledger_rx_esz(f->type), i);
	const struct rpw_pwr_req *q = p;
	const struct rpw_pwr_stmt *st = p;
	const struct rpw_inv_ent *r = p;

	/* slot is the first byte of every entry. */
	if (q->slot >= RPW_ALLOC_SLOTS)
		goto bad;
	switch (f->type) {
	case RPW_T_PWR_REQUEST:
		if (!q->req_id || !q->watts)
			goto bad;
		rpw_ledger_request(l, ch, q->slot, le32_to_cpu(q->req_id),
				   q->prio, le16_to_cpu(q->watts), now, o);
		return;
	case RPW_T_INV_REPORT:
		if (r->state < RPW_SLOT_EMPTY || r->state > RPW_SLOT_STATE_MAX)
			goto bad;
		rpw_ledger_report(l, ch, r, now, o);
		return;
	default:
		if (!st->req_id || st->reason > RPW_PWR_R_MAX)
			goto bad;
		rpw_ledger_stmt(l, ch, st->slot, le32_to_cpu(st->req_id),
				(u64)le16_to_cpu(st->held_watts) * 1000, 0,
				f->type, st->reason, now, o);
		return;
	}
bad:
	l->stats.rx_bad++;
}

int rpw_ledger_rx(struct rpw_ledger *l, const struct rpw_frame *f, u64 now,
		  struct rpw_alloc_out *out)
{
	struct rpw_ledger_chassis *ch;
	u32 epoch;
	int i, n;

	if (f->type != RPW_T_PWR_REQUEST && f->type != RPW_T_PWR_RELEASE &&
	    f->type != RPW_T_SHED_DONE && f->type != RPW_T_INV_REPORT)
		return -EOPNOTSUPP;
	n = rpw_pwr_parse(f, rpw_ledger_rx_esz(f->type), &epoch);
	if (n < 0) {
		l->stats.rx_bad++;
		return n;
	}
	if (f->src == RPW_ADDR_NONE || f->src == RPW_ADDR_BCAST) {
		l->stats.rx_bad++;
		return -EINVAL;
	}
	if (!l->acting || epoch != l->epoch) {
		l->stats.rx_stale++;
		return -ESTALE;
	}
	ch = rpw_ledger_add(l, f->src);
	if (!ch) {
		l->stats.rx_full++;
		return -ENOSPC;
	}
	for (i = 0; i < n; i++)
		rpw_ledger_rx_entry(l, ch, f, i, now, out);
	rpw_ledger_sum(l);
	if (l->recovering && rpw_ledger_all_reported(l))
		rpw_ledger_recovered(l, RPW_PWR_R_NONE, out);
	return 0;
}

static int rpw_ledger_grant(struct rpw_ledger *l,
			    const struct rpw_ledger_chassis *ch,
			    struct rpw_ledger_ent *e, u64 mw, u64 usable_mw)
{
	if (l->recovering || ch->reported != RPW_ALL_SLOTS)
		return -EAGAIN;
	if (mw != e->want_mw)
		return -EINVAL;
	if (l->granted_mw + mw > usable_mw) {
		l->stats.refused++;
		return -ENOSPC;
	}
	e->state = RPW_GS_GRANTED;
	e->held_mw = mw;
	return 0;
}

int rpw_ledger_decide(struct rpw_ledger *l, u8 addr, unsigned int slot,
		      u32 req_id, unsigned int verdict, u64 mw,
		      unsigned int reason, u64 usable_mw, u64 now,
		      struct rpw_alloc_out *out)
{
	struct rpw_ledger_chassis *ch;
	struct rpw_ledger_ent *e;
	int err;

	if (verdict < RPW_PWR_GRANT || verdict > RPW_PWR_DENIED ||
	    reason > RPW_PWR_R_MAX || slot >= RPW_ALLOC_SLOTS)
		return -EINVAL;
	if (!l->acting)
		return -ESTALE;
	ch = rpw_ledger_find(l, addr);
	if (!ch || addr == RPW_ADDR_NONE)
		return -ENOENT;
	e = &ch->ent[slot];
	if (e->state == RPW_GS_NONE)
		return -ENOENT;
	if (e->id != req_id)
		return -ESTALE;
	if (rpw_gs_holds(e->state))
		return -EALREADY;
	switch (verdict) {
	case RPW_PWR_GRANT:
		err = rpw_ledger_grant(l, ch, e, mw, usable_mw);
		if (err)
			return err;
		reason = RPW_PWR_R_NONE;
		break;
	case RPW_PWR_QUEUED:
		e->state = RPW_GS_QUEUED;
		break;
	default:		/* RPW_PWR_DENIED */
		e->state = RPW_GS_NONE;
		rpw_ent_done_push(e, req_id);
		break;
	}
	e->since = now;
	rpw_ent_answer(e, verdict, reason, req_id,
		       rpw_alloc_mw_to_w(e->want_mw));
	rpw_ledger_sum(l);
	rpw_ledger_event(out, RPW_AEV_ENTRY, ch, slot, req_id);
	return 0;
}

int rpw_ledger_shed(struct rpw_ledger *l, u8 addr, unsigned int slot,
		    u64 now, struct rpw_alloc_out *out)
{
	struct rpw_ledger_chassis *ch;
	struct rpw_ledger_ent *e;

	if (slot >= RPW_ALLOC_SLOTS)
		return -EINVAL;
	if (!l->acting)
		return -ESTALE;
	ch = rpw_ledger_find(l, addr);
	if (!ch || addr == RPW_ADDR_NONE)
		return -ENOENT;
	e = &ch->ent[slot];
	if (e->state == RPW_GS_SHEDDING)
		return -EALREADY;
	if (e->state != RPW_GS_GRANTED)
		return -ENOENT;
	e->state = RPW_GS_SHEDDING;
	e->since = now;
	e->resend_ns = now;
	/* The chassis's deadline, plus time for its SHED_DONE to come. */
	e->shed_end_ns = now + rpw_ms(l->t.shed_ms + 2 * l->t.resend_ms);
	e->dirty |= RPW_LD_SHED;
	rpw_ledger_event(out, RPW_AEV_ENTRY, ch, slot, e->id);
	return 0;
}

/* Pending past the no-policy hold: denied; false when @o is full. */
static bool rpw_ledger_nopolicy(struct rpw_ledger *l,
				struct rpw_ledger_chassis *ch,
				unsigned int slot, u64 now,
				struct rpw_alloc_out *o)
{
	struct rpw_ledger_ent *e = &ch->ent[slot];
	u64 from = e->since > l->policy_since ? e->since : l->policy_since;

	if (l->policy || e->state != RPW_GS_PENDING ||
	    now < from + rpw_ms(l->t.nopolicy_ms))
		return true;
	if (!rpw_out_room(o, 1))
		return false;
	e->state = RPW_GS_NONE;
	rpw_ent_done_push(e, e->id);
	rpw_ent_answer(e, RPW_PWR_DENIED, RPW_PWR_R_NO_POLICY, e->id, 0);
	l->stats.no_policy++;
	rpw_ledger_event(o, RPW_AEV_NO_POLICY, ch, slot, e->id);
	return true;
}

static bool rpw_ledger_shed_timer(struct rpw_ledger *l,
				  struct rpw_ledger_chassis *ch,
				  unsigned int slot, u64 now,
				  struct rpw_alloc_out *o)
{
	struct rpw_ledger_ent *e = &ch->ent[slot];

	if (e->state != RPW_GS_SHEDDING)
		return true;
	if (now >= e->shed_end_ns) {
		if (!rpw_out_room(o, 1))
			return false;
		/* Never heard back: still held, reported as refused. */
		e->state = RPW_GS_GRANTED;
		e->reason = RPW_PWR_R_REFUSED;
		e->dirty &= ~RPW_LD_SHED;
		l->stats.shed_refused++;
		rpw_ledger_event(o, RPW_AEV_SHED_REFUSED, ch, slot, e->id);
	} else if (now >= e->resend_ns) {
		e->dirty |= RPW_LD_SHED;
	}
	return true;
}

/*
 * The entry's due frames; false when @o is full.  What flow control
 * stops, or an answer held for the policy's burst (@hold_ans), stays due.
 */
static bool rpw_ledger_emit_ent(struct rpw_ledger *l,
				const struct rpw_ledger_chassis *ch,
				unsigned int slot, struct rpw_ledger_ent *e,
				bool hold_ans, u64 now, struct rpw_alloc_out *o)
{
	if ((e->dirty & RPW_LD_ANS) && !hold_ans) {
		struct rpw_pwr_ans *a;

		a = rpw_out_entry(o, RPW_T_PWR_ANSWER, ch->addr, l->epoch,
				  sizeof(*a));
		if (!a)
			return !rpw_out_full(o);
		a->slot = slot;
		a->verdict = e->ans;
		a->reason = e->reason;
		a->watts = cpu_to_le16(e->ans == RPW_PWR_GRANT ? e->ans_w : 0);
		a->req_id = cpu_to_le32(e->ans_id);
		e->dirty &= ~RPW_LD_ANS;
	}
	if (e->dirty & RPW_LD_CONF) {
		struct rpw_pwr_conf *c;

		c = rpw_out_entry(o, RPW_T_PWR_CONFIRM, ch->addr, l->epoch,
				  sizeof(*c));
		if (!c)
			return !rpw_out_full(o);
		c->slot = slot;
		c->state = e->state;
		if (e->state != RPW_GS_NONE) {
			c->held_watts = cpu_to_le16(rpw_alloc_mw_to_w(e->held_mw));
			c->req_id = cpu_to_le32(e->id);
		}
		e->dirty &= ~RPW_LD_CONF;
	}
	if (e->dirty & RPW_LD_SHED) {
		struct rpw_pwr_shed *s;

		s = rpw_out_entry(o, RPW_T_SHED_REQUEST, ch->addr, l->epoch,
				  sizeof(*s));
		if (!s)
			return !rpw_out_full(o);
		s->slot = slot;
		s->watts = cpu_to_le16(rpw_alloc_mw_to_w(e->held_mw));
		s->req_id = cpu_to_le32(e->id);
		e->dirty &= ~RPW_LD_SHED;
		e->resend_ns = now + rpw_ms(l->t.resend_ms);
	}
	return true;
}

/*
 * Whether @ch's due answers wait for more of the policy's burst: while a
 * request of it is still pending, up to a frame's worth and at most
 * RPW_ALLOC_BURST_MS from the first.  Keeps ch->ans_until: the deadline
 * while answers are due, 0 when none are.
 */
static bool rpw_ledger_hold_answers(struct rpw_ledger_chassis *ch, u64 now)
{
	unsigned int i, due = 0;
	bool pending = false;

	for (i = 0; i < RPW_ALLOC_SLOTS; i++) {
		due += !!(ch->ent[i].dirty & RPW_LD_ANS);
		pending |= ch->ent[i].state == RPW_GS_PENDING;
	}
	if (!due) {
		ch->ans_until = 0;
		return false;
	}
	if (!ch->ans_until)
		ch->ans_until = now + rpw_ms(RPW_ALLOC_BURST_MS);
	return pending && now < ch->ans_until &&
	       due < RPW_PWR_MAX_ENTRIES(sizeof(struct rpw_pwr_ans));
}

static bool rpw_ledger_query(struct rpw_ledger *l, u64 now,
			     struct rpw_alloc_out *o)
{
	struct rpw_frame *f;

	if (rpw_ledger_all_reported(l)) {
		l->query_due = false;
		return true;
	}
	if (now < l->query_ns && !l->query_due)
		return true;
	if (!rpw_out_may_open(o, RPW_ADDR_BCAST)) {
		l->query_due = true;	/* after the flow control */
		return !rpw_out_full(o);
	}
	f = &o->frames[o->nframes++];
	memset(f, 0, sizeof(*f));
	f->version = RPW_PROTO_VERSION;
	f->type = RPW_T_INV_QUERY;
	f->dst = RPW_ADDR_BCAST;
	f->len = RPW_PWR_HDR_LEN;
	put_unaligned_le32(l->epoch, f->payload);
	l->query_due = false;
	l->query_ns = now + rpw_ms(l->recovering ? l->t.resend_ms :
				   l->t.queued_ms);
	return true;
}

static u64 rpw_ledger_next_ns(const struct rpw_ledger *l, u64 now)
{
	u64 next = RPW_ALLOC_NO_TIMER;
	unsigned int c, i;

	if (l->recovering)
		next = l->acting_since + rpw_ms(l->t.recovery_ms);
	if (!rpw_ledger_all_reported(l) && !l->query_due)
		next = rpw_min_t(next, l->query_ns);
	for (c = 0; c < RPW_ALLOC_MAX_CHASSIS; c++) {
		/* Past it, the answers wait for flow control. */
		if (l->ch[c].ans_until > now)
			next = rpw_min_t(next, l->ch[c].ans_until);
		for (i = 0; i < RPW_ALLOC_SLOTS; i++) {
			const struct rpw_ledger_ent *e = &l->ch[c].ent[i];
			u64 from = e->since > l->policy_since ? e->since :
								l->policy_since;

			if (e->state == RPW_GS_PENDING && !l->policy)
				next = rpw_min_t(next, from +
						 rpw_ms(l->t.nopolicy_ms));
			/* A shed still due waits for flow control. */
			if (e->state == RPW_GS_SHEDDING)
				next = rpw_min_t(next, e->dirty & RPW_LD_SHED ?
						 e->shed_end_ns :
						 rpw_min_t(e->resend_ns,
							   e->shed_end_ns));
		}
	}
	return next;
}

/*
 * The due frames of chassis entry @c (timers first); false when @o is
 * full.
 */
static bool rpw_ledger_emit_ch(struct rpw_ledger *l, unsigned int c, u64 now,
			       struct rpw_alloc_out *o)
{
	struct rpw_ledger_chassis *ch = &l->ch[c];
	unsigned int i;
	bool hold;

	for (i = 0; i < RPW_ALLOC_SLOTS; i++)
		if (!rpw_ledger_nopolicy(l, ch, i, now, o) ||
		    !rpw_ledger_shed_timer(l, ch, i, now, o))
			return false;
	hold = rpw_ledger_hold_answers(ch, now);
	for (i = 0; i < RPW_ALLOC_SLOTS; i++)
		if (!rpw_ledger_emit_ent(l, ch, i, &ch->ent[i], hold, now, o))
			return false;
	rpw_ledger_hold_answers(ch, now);
	return true;
}

u64 rpw_ledger_tick(struct rpw_ledger *l, u64 now, struct rpw_alloc_out *out)
{
	unsigned int start = l->rr, c, k, n;
	bool full = false;

	if (!l->acting)
		return RPW_ALLOC_NO_TIMER;
	if (l->recovering && rpw_ledger_all_reported(l))
		rpw_ledger_recovered(l, RPW_PWR_R_NONE, out);
	else if (l->recovering &&
		 now >= l->acting_since + rpw_ms(l->t.recovery_ms))
		rpw_ledger_recovered(l, RPW_PWR_R_RECOVERING, out);
	if (!rpw_ledger_query(l, now, out))
		full = true;
	/*
	 * Round robin from the chassis after the last one that got a frame:
	 * with the queue's room (max_queued) smaller than the number of
	 * chassis, a scan from the first entry let the first chassis take
	 * every free place while those behind them waited for seconds.
	 */
	for (k = 0; k < RPW_ALLOC_MAX_CHASSIS && !full; k++) {
		c = (start + k) % RPW_ALLOC_MAX_CHASSIS;
		if (l->ch[c].addr == RPW_ADDR_NONE)
			continue;
		n = out->nframes;
		full = !rpw_ledger_emit_ch(l, c, now, out);
		if (out->nframes != n)
			l->rr = (c + 1) % RPW_ALLOC_MAX_CHASSIS;
	}
	rpw_ledger_sum(l);
	return full ? now : rpw_ledger_next_ns(l, now);
}

static void rpw_ledger_unsent_ent(struct rpw_ledger_ent *e, u8 type,
				  u32 id)
{
	switch (type) {
	case RPW_T_PWR_ANSWER:
		if (e->ans && e->ans_id == id)
			e->dirty |= RPW_LD_ANS;
		break;
	case RPW_T_PWR_CONFIRM:		/* shows the entry as it is now */
		e->dirty |= RPW_LD_CONF;
		break;
	default:			/* RPW_T_SHED_REQUEST */
		if (e->state == RPW_GS_SHEDDING && e->id == id)
			e->dirty |= RPW_LD_SHED;
		break;
	}
}

void rpw_ledger_unsent(struct rpw_ledger *l, const struct rpw_frame *f)
{
	struct rpw_ledger_chassis *ch;
	u32 epoch;
	size_t esz;
	int i, n;

	esz = rpw_slots_rx_esz(f->type);
	if ((!esz && f->type != RPW_T_INV_QUERY) ||
	    (f->type == RPW_T_INV_QUERY && f->dst != RPW_ADDR_BCAST))
		return;
	n = rpw_pwr_parse(f, esz, &epoch);
	if (n < 0 || !l->acting || epoch != l->epoch)
		return;
	if (f->type == RPW_T_INV_QUERY) {
		l->query_due = !rpw_ledger_all_reported(l);
		return;
	}
	ch = rpw_ledger_find(l, f->dst);
	for (i = 0; ch && f->dst != RPW_ADDR_NONE && i < n; i++) {
		const u8 *p = rpw_pwr_entry(f, esz, i);

		if (p[0] < RPW_ALLOC_SLOTS)
			rpw_ledger_unsent_ent(&ch->ent[p[0]], f->type,
					      get_unaligned_le32(p + esz - 4));
	}
}

int rpw_ledger_next(const struct rpw_ledger *l, int pos,
		    struct rpw_ledger_info *info)
{
	int n = RPW_ALLOC_MAX_CHASSIS * RPW_ALLOC_SLOTS;

	for (pos = pos < 0 ? 0 : pos; pos < n; pos++) {
		const struct rpw_ledger_chassis *ch =
			&l->ch[pos / RPW_ALLOC_SLOTS];
		const struct rpw_ledger_ent *e = &ch->ent[pos % RPW_ALLOC_SLOTS];

		if (ch->addr == RPW_ADDR_NONE || e->state == RPW_GS_NONE)
			continue;
		info->addr = ch->addr;
		info->slot = pos % RPW_ALLOC_SLOTS;
		info->state = e->state;
		info->prio = e->prio;
		info->reason = e->reason;
		info->id = e->id;
		info->want_mw = e->want_mw;
		info->held_mw = e->held_mw;
		info->since = e->since;
		return pos;
	}
	return -ENOENT;
}
