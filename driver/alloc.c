// SPDX-License-Identifier: GPL-2.0-only
/*
 * rackpwr - power allocation: kernel glue for rpw_alloc.c (frame range 0x3_).
 *
 * Chassis side: a chassis node binds to its server I2C bus (node attribute
 * i2c-bus; by default the only chassis when there is exactly one, see
 * rpw_chassis_resolve()), the way a power-supply node binds its assembly.
 * The server driver's events (server.c, blocking notifier, process
 * context) and the primary's frames go into the pure slot table
 * (struct rpw_slots) under the node lock; its actions come back as frames,
 * queued at once, and as server operations (power on/off, orderly
 * shutdown), which may sleep and so run in order from a work item, never
 * under the node lock.  Power is only ever enabled for a grant of the
 * epoch the chassis follows: rpw_slots emits nothing else.
 *
 * Primary side: the pure ledger (struct rpw_ledger) under the node lock,
 * fed with the chassis' frames while the node acts as primary.  Requests
 * go to the policy holder (a netlink socket bound with policy-bind) and
 * to the power group; the holder answers with power-decide/power-shed.
 * Whatever it says, the ledger refuses a grant that would take the total
 * granted above the rack's usable capacity (capacity.c).  Without a
 * holder existing grants stay and new requests are denied with reason
 * no-policy after RPW_ALLOC_NOPOLICY_MS.  Frames the primary queues carry
 * its epoch, expire at the end of its current lease and are withdrawn on
 * demotion, lease loss or step-down.
 *
 * Lock order: rpw_alloc.hw_lock (mutex, orders the server I/O of a node)
 * before node->lock; the server driver's locks are taken under hw_lock,
 * never under node->lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/module.h>
#include <linux/notifier.h>
#include <linux/slab.h>

#include "rackpwr.h"
#include "rpw_alloc.h"
#include "server.h"

static unsigned int alloc_nopolicy_ms = RPW_ALLOC_NOPOLICY_MS;
module_param(alloc_nopolicy_ms, uint, 0644);
MODULE_PARM_DESC(alloc_nopolicy_ms,
		 "how long a request waits for a policy holder before it is denied with reason no-policy, ms");

static unsigned int alloc_shed_ms = RPW_ALLOC_SHED_MS;
module_param(alloc_shed_ms, uint, 0644);
MODULE_PARM_DESC(alloc_shed_ms,
		 "how long a server may take to shut down for a shed before it is reported as refusing, ms");

/* A frame the MAC could not take is tried again this much later. */
#define RPW_ALLOC_RETRY_NS	(10 * NSEC_PER_MSEC)

/* A server operation the slot table asked for, run by the work item. */
struct rpw_alloc_hw {
	u8 op;			/* enum rpw_alloc_act_kind: POWER_ON/OFF, SHUTDOWN */
	u8 slot;
	int bus;		/* the binding it was asked under */
	u32 grant_id;
};

/* Every act of one call, a power off per slot on a rebind: never more. */
#define RPW_ALLOC_HWQ		(RPW_ALLOC_OUT_ACTS + RPW_ALLOC_SLOTS)

/*
 * Orders all server I/O of the glue (operations, bindings, events): a
 * power-on can never pass the event or rebinding that came before it.
 * Taken before any node lock; the server driver's locks nest inside.
 */
static DEFINE_MUTEX(rpw_alloc_hw_mutex);

/* A node's allocation state, the protocol's priv (vzalloc'ed, ~25 KiB). */
struct rpw_alloc {
	struct rpw_node *node;
	struct work_struct hw_work;	/* runs hwq */
	struct work_struct bind_work;	/* (re)binds the server bus */
	struct work_struct know_work;	/* promoted: the chassis we heard */

	/* Everything below under the node lock. */
	int bus;			/* bound server bus, or -ENODEV */
	bool seeded;			/* slots hold a binding's state */
	struct rpw_slots slots;
	u8 prio[RPW_ALLOC_SLOTS];	/* set by slot-set, kept on rebind */
	bool enabled[RPW_ALLOC_SLOTS];	/* power-enable as last set/read */
	char ident[RPW_ALLOC_SLOTS][RPW_SRV_IDENT_LEN];
	struct rpw_alloc_hw hwq[RPW_ALLOC_HWQ];
	unsigned int hw_head;
	unsigned int hw_len;

	struct rpw_ledger ledger;	/* the primary's table */
	bool acting;			/* as last told to the ledger */
	u32 holder;			/* policy holder's portid, 0: none */
	u64 timer_at;
	/* Acting: the lease end our queued frames expire at, else 0. */
	u64 lease_end;
	bool retry;			/* a frame was not queued: try again */
	/*
	 * Flow control: our frames in the MAC queue by destination (the
	 * total and the held destinations are in @out).  A destination
	 * takes a new frame only when the last one is done, and all of
	 * them stay within the class's reserve (rpw_alloc.h).
	 */
	u8 queued[RPW_MAC_NR_ADDR];
	struct rpw_alloc_out out;	/* scratch of every pure call */
};

static const struct rpw_proto_ops rpw_alloc_proto;

/* Node lock held: this node's allocation state (NULL once detached). */
static struct rpw_alloc *rpw_alloc_of(struct rpw_node *node)
{
	return rpw_node_priv(node, &rpw_alloc_proto);
}

static bool rpw_alloc_role(struct rpw_node *node, u8 role)
{
	lockdep_assert_held(&node->lock);
	return !node->dead && node->mac_up && node->role == role;
}

static void rpw_alloc_timing(struct rpw_alloc_timing *t)
{
	rpw_alloc_timing_default(t);
	t->nopolicy_ms = clamp_t(unsigned int, alloc_nopolicy_ms, 100, 600000);
	t->shed_ms = clamp_t(unsigned int, alloc_shed_ms, 100, 600000);
}

/*
 * Node lock held: the end of the lease we act in now, 0 when not acting.
 * A confirmed window that starts before the current one ends extends it
 * (rpw_elect_lease(): window 1 follows window 0).
 */
static u64 rpw_alloc_lease_end(struct rpw_node *node, u64 now)
{
	const struct rpw_leader *l = &node->leader;

	lockdep_assert_held(&node->lock);
	if (!rpw_node_acting(node, now))
		return 0;
	return rpw_elect_lease_until(l->lease_start, l->lease_end,
				     ARRAY_SIZE(l->lease_end), now);
}

/* Frames a primary sends (P->C); the rest come from chassis modules. */
static bool rpw_alloc_from_primary(const struct rpw_frame *f)
{
	return f->type == RPW_T_PWR_ANSWER || f->type == RPW_T_PWR_CONFIRM ||
	       f->type == RPW_T_SHED_REQUEST || f->type == RPW_T_INV_QUERY;
}

/* Node lock held: what @f said is due again (it was not delivered). */
static void rpw_alloc_unsent(struct rpw_alloc *a, const struct rpw_frame *f)
{
	if (rpw_alloc_from_primary(f))
		rpw_ledger_unsent(&a->ledger, f);
	else
		rpw_slots_unsent(&a->slots, f);
}

/*
 * Queue one frame in the allocation class.  A primary's frame expires at
 * the end of its lease (fencing) and is not sent at all outside one; a
 * chassis frame lives one resend period (the resend supersedes it), but
 * for an INV_REPORT: it stays until sent or withdrawn (the chassis
 * follows another primary or epoch), since a report takes three frames
 * and so three turns on the bus, and one that expired was due again
 * from its start.  What a frame that cannot be queued said stays due:
 * again at the next lease (a leader callback) or, for any other error,
 * in a few milliseconds.
 */
static void rpw_alloc_tx(struct rpw_node *node, struct rpw_alloc *a,
			 const struct rpw_frame *f, u64 now)
{
	struct rpw_txopts o = { .cls = RPW_MAC_CLASS_ALLOC };
	int err;

	if (rpw_alloc_from_primary(f)) {
		u64 end = rpw_alloc_lease_end(node, now);

		if (!end) {
			rpw_alloc_unsent(a, f);
			return;
		}
		/* The lease end itself: a TTL would end a little later. */
		o.expires_ns = end;
	} else if (f->type != RPW_T_INV_REPORT) {
		o.ttl_ns = (u64)a->slots.t.resend_ms * NSEC_PER_MSEC;
		/*
		 * Its answer goes in the answer slot.  A table report (no
		 * TTL either) asks for none: its confirms would halve the
		 * reports' share of the line while a new primary waits for
		 * all of them.
		 */
		o.answered = true;
	}
	err = rpw_node_queue_locked(node, f, &o);
	if (err) {
		if (err != -ENETDOWN)
			pr_warn_ratelimited("%s: allocation frame 0x%02x not queued: %d\n",
					    node->name, f->type, err);
		rpw_alloc_unsent(a, f);
		a->retry |= err != -ENETDOWN;
		return;
	}
	a->queued[f->dst]++;
	a->out.queued++;
	rpw_alloc_out_hold(&a->out, f->dst, true);
}

/* ---- views and events --------------------------------------------------- */

static u8 rpw_alloc_trigger(u8 ev)
{
	if (ev >= RPW_SEV_INSERT && ev <= RPW_SEV_ADMIN_ON)
		return RACKPWR_TRIGGER_INSERT + ev - RPW_SEV_INSERT;
	return RACKPWR_TRIGGER_NONE;
}

static void rpw_alloc_slot_view(struct rpw_node *node, struct rpw_alloc *a,
				unsigned int slot, struct rpw_slot_view *v)
{
	const struct rpw_slot *sl = &a->slots.slot[slot];

	lockdep_assert_held(&node->lock);
	memset(v, 0, sizeof(*v));
	v->slot = slot;
	v->state = sl->state;
	v->prio = sl->prio;
	v->trigger = rpw_alloc_trigger(sl->trigger);
	v->reason = sl->reason;
	v->present = sl->present;
	v->enabled = a->enabled[slot];
	v->primary = a->slots.primary;
	v->epoch = a->slots.epoch;
	v->want_mw = min_t(u64, (u64)sl->want_w * 1000, U32_MAX);
	v->held_mw = min_t(u64, (u64)sl->held_w * 1000, U32_MAX);
	v->req_id = sl->id;
	strscpy(v->ident, a->ident[slot], sizeof(v->ident));
}

/* The ledger line of @addr/@slot, or @v->gone. */
static void rpw_alloc_entry_view(const struct rpw_ledger *l, u8 addr,
				 unsigned int slot, struct rpw_alloc_view *v)
{
	const struct rpw_ledger_ent *e = NULL;
	unsigned int i;

	memset(v, 0, sizeof(*v));
	v->chassis = addr;
	v->slot = slot;
	for (i = 0; i < RPW_ALLOC_MAX_CHASSIS && slot < RPW_ALLOC_SLOTS; i++)
		if (l->ch[i].addr == addr)
			e = &l->ch[i].ent[slot];
	if (!e || e->state == RPW_GS_NONE) {
		v->gone = true;
		return;
	}
	v->state = e->state;
	v->prio = e->prio;
	v->reason = e->reason;
	v->req_id = e->id;
	v->want_mw = min_t(u64, e->want_mw, U32_MAX);
	v->held_mw = min_t(u64, e->held_mw, U32_MAX);
	v->changed_ns = e->since;
}

/*
 * Node lock held: tell the holder again about every request still
 * pending.  Requests that came in during the recovery could not be
 * granted then (EAGAIN); the holder needs no timer of its own to retry.
 */
static void rpw_alloc_renotify(struct rpw_node *node, struct rpw_alloc *a)
{
	struct rpw_ledger_info in;
	struct rpw_alloc_view v;
	int pos;

	for (pos = 0; (pos = rpw_ledger_next(&a->ledger, pos, &in)) >= 0;
	     pos++) {
		if (in.state != RPW_GS_PENDING)
			continue;
		rpw_alloc_entry_view(&a->ledger, in.addr, in.slot, &v);
		rpw_notify_power_request(node, a->holder, a->ledger.epoch, &v);
	}
}

/* Node lock held: one event the pure code reported. */
static void rpw_alloc_event(struct rpw_node *node, struct rpw_alloc *a,
			    const struct rpw_alloc_act *act)
{
	struct rpw_slot_view sv;
	struct rpw_alloc_view v;
	u32 epoch = a->ledger.epoch;

	switch (act->event) {
	case RPW_AEV_SHED_IGNORED:
		pr_warn("%s: slot %u: the server did not shut down within %u ms of a shed request\n",
			node->name, act->slot, a->slots.t.shed_ms);
		fallthrough;
	case RPW_AEV_SLOT:
		if (act->slot < RPW_ALLOC_SLOTS) {
			rpw_alloc_slot_view(node, a, act->slot, &sv);
			rpw_notify_slot(node, &sv);
		}
		break;
	case RPW_AEV_REQUEST:
		rpw_alloc_entry_view(&a->ledger, act->addr, act->slot, &v);
		v.req_id = act->id;
		rpw_notify_power_request(node, a->holder, epoch, &v);
		break;
	case RPW_AEV_ENTRY:
		rpw_alloc_entry_view(&a->ledger, act->addr, act->slot, &v);
		if (v.gone) {
			/* Ended: the view is empty, the event says what ended. */
			v.req_id = act->id;
			v.prio = act->prio;
			v.reason = act->reason;
		}
		rpw_notify_alloc(node, RACKPWR_POWER_EVENT_ENTRY, epoch, &v);
		break;
	case RPW_AEV_NO_POLICY:
	case RPW_AEV_SHED_REFUSED:
		rpw_alloc_entry_view(&a->ledger, act->addr, act->slot, &v);
		v.req_id = act->id;
		v.reason = act->reason;
		if (act->event == RPW_AEV_SHED_REFUSED)
			pr_warn("%s: chassis %u slot %u did not comply with a shed\n",
				node->name, act->addr, act->slot);
		rpw_notify_alloc(node, act->event == RPW_AEV_NO_POLICY ?
				 RACKPWR_POWER_EVENT_NO_POLICY_DENY :
				 RACKPWR_POWER_EVENT_SHED_REFUSED, epoch, &v);
		break;
	case RPW_AEV_RECOVERED:
		rpw_notify_alloc(node, RACKPWR_POWER_EVENT_RECOVERED, epoch, NULL);
		rpw_alloc_renotify(node, a);
		break;
	}
}

/* ---- running the pure code ---------------------------------------------- */

/* Node lock held: queue a server operation for the work item. */
static void rpw_alloc_hw_queue(struct rpw_alloc *a, u8 op, u8 slot,
			       u32 grant_id)
{
	struct rpw_alloc_hw *h;

	lockdep_assert_held(&a->node->lock);
	if (a->bus < 0)
		return;		/* no server bus: nothing to switch */
	if (WARN_ON_ONCE(a->hw_len == RPW_ALLOC_HWQ))
		return;
	h = &a->hwq[(a->hw_head + a->hw_len++) % RPW_ALLOC_HWQ];
	h->op = op;
	h->slot = slot;
	h->bus = a->bus;
	h->grant_id = grant_id;
	if (!a->node->dead)
		queue_work(system_wq, &a->hw_work);
}

/* Node lock held: carry out what the last pure calls asked for. */
static void rpw_alloc_drain(struct rpw_node *node, struct rpw_alloc *a,
			    u64 now)
{
	struct rpw_alloc_out *o = &a->out;
	unsigned int i;

	lockdep_assert_held(&node->lock);
	for (i = 0; i < o->nframes; i++)
		rpw_alloc_tx(node, a, &o->frames[i], now);
	for (i = 0; i < o->nacts; i++) {
		const struct rpw_alloc_act *act = &o->acts[i];

		if (act->kind == RPW_ACT_EVENT)
			rpw_alloc_event(node, a, act);
		else
			rpw_alloc_hw_queue(a, act->kind, act->slot, act->id);
	}
	rpw_alloc_out_reset(o);
}

static bool rpw_alloc_out_full(const struct rpw_alloc_out *o)
{
	return o->nframes == RPW_ALLOC_OUT_FRAMES ||
	       o->nacts == RPW_ALLOC_OUT_ACTS;
}

/*
 * Node lock held, after any input: execute its output, then every due
 * frame and deadline (more rounds while the output fills up), and arm
 * the timer for the next one.
 */
static void rpw_alloc_kick(struct rpw_node *node, struct rpw_alloc *a, u64 now)
{
	u64 next = RPW_ALLOC_NO_TIMER;
	unsigned int round;
	bool full = false;

	lockdep_assert_held(&node->lock);
	rpw_alloc_drain(node, a, now);
	if (node->dead)
		return;
	for (round = 0; round < 8; round++) {
		next = RPW_ALLOC_NO_TIMER;
		if (a->seeded && rpw_alloc_role(node, RACKPWR_ROLE_CHASSIS))
			next = rpw_slots_tick(&a->slots, now, &a->out);
		if (rpw_alloc_role(node, RACKPWR_ROLE_PSU))
			next = min(next, rpw_ledger_tick(&a->ledger, now,
							 &a->out));
		full = rpw_alloc_out_full(&a->out);
		rpw_alloc_drain(node, a, now);
		if (!full)
			break;
	}
	/*
	 * Still more due, or a deadline already past: come back a little
	 * later rather than spin in softirq context.
	 */
	if (full || next <= now)
		next = min_t(u64, next, now + NSEC_PER_MSEC);
	if (a->retry)
		next = min_t(u64, next, now + RPW_ALLOC_RETRY_NS);
	/* The lease may run out on a silent bus: withdraw then. */
	if (a->lease_end)
		next = min(next, a->lease_end);
	a->retry = false;
	if (next <= now)
		next = now + NSEC_PER_MSEC;
	if (next != a->timer_at) {
		a->timer_at = next;
		rpw_node_proto_timer(node, &rpw_alloc_proto, next);
	}
}

/* ---- protocol callbacks ------------------------------------------------- */

/*
 * Node lock held: tell the slot table whom the chassis follows and until
 * when that primary's lease may run: on every leader change and before
 * every received frame (the lease moves with every heartbeat, which is
 * not worth a leader callback of every protocol).
 */
static void rpw_alloc_follow(struct rpw_node *node, struct rpw_alloc *a,
			     u64 now)
{
	const struct rpw_leader *l = &node->leader;
	u64 lease = rpw_node_primary_lease_locked(node);
	u8 primary = l->primary;

	if (primary == node->cfg.addr || !lease)
		primary = RPW_ADDR_NONE;
	/* What we queued for the one we followed is for nobody now. */
	if (primary != a->slots.primary || l->epoch != a->slots.epoch)
		rpw_node_withdraw_later(node, &rpw_alloc_proto);
	rpw_slots_leader(&a->slots, primary, l->epoch, lease, now);
}

/*
 * Node lock held: our queued frames follow the lease.  Renewed, they
 * expire at its new end (on a busy bus they expired while the lease was
 * being renewed, and went again at the tail of the queue); ended, they
 * are withdrawn (rpw_alloc_timer() when the bus is silent).  No frame
 * expires later than the lease it goes under: fencing holds.
 */
static void rpw_alloc_renew(struct rpw_node *node, struct rpw_alloc *a,
			    u64 now)
{
	u64 end = rpw_alloc_role(node, RACKPWR_ROLE_PSU) ?
		  rpw_alloc_lease_end(node, now) : 0;

	if (end == a->lease_end)
		return;
	if (end)
		rpw_node_renew_locked(node, &rpw_alloc_proto, end);
	else
		rpw_node_withdraw_later(node, &rpw_alloc_proto);
	a->lease_end = end;
}

/* Node lock held: we act as primary at the leader's epoch. */
static bool rpw_alloc_acting(struct rpw_node *node)
{
	const struct rpw_leader *l = &node->leader;

	return rpw_alloc_role(node, RACKPWR_ROLE_PSU) && l->acting &&
	       l->state == RACKPWR_ELECT_STATE_PRIMARY;
}

/*
 * Role, epoch or lease changed.  A chassis follows the new primary (its
 * table goes there at once).
 *
 * A power-supply node that stops being primary, or moves to another
 * epoch, empties its ledger and its queued frames are withdrawn.  A lease
 * that lapses and comes back within the same epoch keeps the ledger: no
 * other primary can have granted anything meanwhile (it would have had
 * to win a later epoch), releases sent to us were refused and are
 * restated until confirmed, and nothing leaves the node outside a lease
 * (rpw_alloc_tx(), rpw_alloc_may_act()); the queued frames are withdrawn
 * all the same.  One that starts acting rebuilds the ledger from the
 * chassis' reports, once know_work has told it which chassis to wait for.
 */
static void rpw_alloc_leader(struct rpw_node *node, void *priv,
			     const struct rpw_leader *old)
{
	const struct rpw_leader *l = &node->leader;
	struct rpw_alloc *a = priv;
	u64 now = ktime_get_ns();

	lockdep_assert_held(&node->lock);
	if (a->seeded && rpw_alloc_role(node, RACKPWR_ROLE_CHASSIS))
		rpw_alloc_follow(node, a, now);
	if (a->acting && (!rpw_alloc_role(node, RACKPWR_ROLE_PSU) ||
			  l->state != RACKPWR_ELECT_STATE_PRIMARY ||
			  l->epoch != a->ledger.epoch)) {
		rpw_ledger_role(&a->ledger, false, a->ledger.epoch, now,
				&a->out);
		a->acting = false;
	}
	if (old->acting && !l->acting)
		rpw_node_withdraw_later(node, &rpw_alloc_proto);
	rpw_alloc_renew(node, a, now);
	if (rpw_alloc_acting(node) && !a->acting && !node->dead)
		queue_work(system_wq, &a->know_work);
	rpw_alloc_kick(node, a, now);
}

static void rpw_alloc_rx(struct rpw_node *node, void *priv,
			 const struct rpw_frame *f, u64 now)
{
	struct rpw_alloc *a = priv;
	int err = -EOPNOTSUPP;

	lockdep_assert_held(&node->lock);
	if (a->seeded && rpw_alloc_role(node, RACKPWR_ROLE_CHASSIS))
		rpw_alloc_follow(node, a, now);
	if (rpw_alloc_role(node, RACKPWR_ROLE_CHASSIS))
		err = rpw_slots_rx(&a->slots, f, now, &a->out);
	else if (rpw_alloc_role(node, RACKPWR_ROLE_PSU))
		err = rpw_ledger_rx(&a->ledger, f, now, &a->out);
	if (err == -ENOSPC)
		pr_warn_ratelimited("%s: chassis %u: no room for more than %d chassis modules\n",
				    node->name, f->src, RPW_ALLOC_MAX_CHASSIS);
	rpw_alloc_kick(node, a, now);
}

/*
 * One of our frames left the MAC queue: its destination takes the next
 * one.  A chassis's delivered frame defers the resends of what it said
 * (the primary has it); what a frame not delivered (expired at the end of
 * a lease window, unacknowledged, withdrawn) said that is still true is
 * due again, so a busy bus loses nothing.
 */
static void rpw_alloc_tx_done(struct rpw_node *node, void *priv,
			      const struct rpw_frame *f, bool ok, u64 now)
{
	struct rpw_alloc *a = priv;

	lockdep_assert_held(&node->lock);
	if (!a->queued[f->dst] || !a->out.queued)
		return;		/* queued before the last (re)start */
	a->out.queued--;
	if (!--a->queued[f->dst])
		rpw_alloc_out_hold(&a->out, f->dst, false);
	if (ok && !rpw_alloc_from_primary(f))
		rpw_slots_delivered(&a->slots, f, now);
	else if (!ok)
		rpw_alloc_unsent(a, f);
	rpw_alloc_kick(node, a, now);
}

static void rpw_alloc_timer(struct rpw_node *node, void *priv, u64 now)
{
	struct rpw_alloc *a = priv;

	a->timer_at = RPW_ALLOC_NO_TIMER;
	rpw_alloc_renew(node, a, now);
	rpw_alloc_kick(node, a, now);
}

/*
 * Every queued allocation frame of the node: a primary's on demotion,
 * lease loss or step-down, a chassis' when it follows another primary or
 * epoch (frames queued since go again: rpw_alloc_unsent()).
 */
static bool rpw_alloc_withdraw(const struct rpw_frame *f)
{
	return RPW_T_RANGE(f->type) == RPW_T_RANGE(RPW_T_PWR_REQUEST);
}

/* Configured (role, address or binding may have changed): rebind. */
static void rpw_alloc_start(struct rpw_node *node, void *priv,
			    const struct rpw_node_setup *su, u64 now)
{
	struct rpw_alloc *a = priv;

	/* A new MAC: nothing of ours is queued; its reserve is our cap. */
	memset(a->queued, 0, sizeof(a->queued));
	memset(a->out.held, 0, sizeof(a->out.held));
	a->out.queued = 0;
	a->lease_end = 0;
	rpw_slots_flushed(&a->slots);
	a->out.max_queued = max_t(unsigned int, 1,
				  su->cfg.reserve[RPW_MAC_CLASS_ALLOC]);
	queue_work(system_wq, &a->bind_work);
}

/* ---- chassis side: the server bus (process context) --------------------- */

static const char *const rpw_alloc_hw_names[] = {
	[RPW_ACT_POWER_ON] = "power on",
	[RPW_ACT_POWER_OFF] = "power off",
	[RPW_ACT_SHUTDOWN] = "shutdown request",
};

/*
 * A power-on the device refuses is tried RPW_ALLOC_POWER_TRIES times in
 * all, RPW_ALLOC_POWER_GAP_MS apart (a NACK may be a glitch on the bus).
 */
#define RPW_ALLOC_POWER_TRIES	3
#define RPW_ALLOC_POWER_GAP_MS	20

static int rpw_alloc_power_on(const struct rpw_alloc_hw *h)
{
	int err, i;

	for (i = 0; i < RPW_ALLOC_POWER_TRIES; i++) {
		if (i)
			msleep(RPW_ALLOC_POWER_GAP_MS);
		err = rpw_srv_set_power(h->bus, h->slot, true, h->grant_id);
		if (!err || err == -ENODEV)
			break;
	}
	return err;
}

/*
 * After a power-on failed for good: is the enable known to be off?  It is
 * when the driver refused to touch the server (-ENODEV), when the grant id
 * never reached the device (the driver writes it before the enable, so a
 * refused id write means the enable was never written), or when switching
 * it off works.  A failed read-back after the enable write leaves it
 * unknown.
 */
static bool rpw_alloc_known_off(const struct rpw_alloc_hw *h, int err)
{
	struct rpw_srv_info info;

	if (err == -ENODEV)
		return true;
	if (!rpw_srv_get(h->bus, h->slot, &info) && !info.enabled &&
	    info.grant_id != h->grant_id)
		return true;
	return !rpw_srv_set_power(h->bus, h->slot, false, 0);
}

static int rpw_alloc_hw_run(const struct rpw_alloc_hw *h)
{
	switch (h->op) {
	case RPW_ACT_POWER_ON:
		return rpw_alloc_power_on(h);
	case RPW_ACT_POWER_OFF:
		return rpw_srv_set_power(h->bus, h->slot, false, 0);
	default:
		return rpw_srv_request_shutdown(h->bus, h->slot);
	}
}

/*
 * Node lock held: a power-on failed for good (@err).  If the enable is
 * known to be off (@off: the power-off after it succeeded, or the server
 * was never powered because the driver does not know it, -ENODEV), the
 * grant goes back unused with reason power-failed and the primary is told
 * "holds 0".  Otherwise the enable may have been set before the error (a
 * failed read-back): the grant stays counted, never less than may be
 * drawn.  Logged either way; slot-ntf shows the state and the reason.
 */
static void rpw_alloc_power_failed(struct rpw_node *node, struct rpw_alloc *a,
				   const struct rpw_alloc_hw *h, int err,
				   bool off, u64 now)
{
	if (!off) {
		pr_warn("%s: slot %u: power on for grant %u failed (%d) and the enable could not be switched off: the grant stays counted\n",
			node->name, h->slot, h->grant_id, err);
		return;
	}
	pr_warn("%s: slot %u: power on for grant %u failed after %u tries (%d): grant given back (power-failed)\n",
		node->name, h->slot, h->grant_id, RPW_ALLOC_POWER_TRIES, err);
	a->enabled[h->slot] = false;
	if (!rpw_slots_power_failed(&a->slots, h->slot, h->grant_id, now,
				    &a->out))
		rpw_alloc_kick(node, a, now);
}

/*
 * Run the queued server operations in order.  A power-on that fails for
 * good is undone (power off) and given back: rpw_alloc_power_failed().
 */
static void rpw_alloc_hw_work(struct work_struct *work)
{
	struct rpw_alloc *a = container_of(work, struct rpw_alloc, hw_work);
	struct rpw_node *node = a->node;
	struct rpw_slot_view v;
	struct rpw_alloc_hw h;
	bool off;
	int err;

	mutex_lock(&rpw_alloc_hw_mutex);
	for (;;) {
		spin_lock_bh(&node->lock);
		if (!a->hw_len || node->dead) {
			spin_unlock_bh(&node->lock);
			break;
		}
		h = a->hwq[a->hw_head];
		a->hw_head = (a->hw_head + 1) % RPW_ALLOC_HWQ;
		a->hw_len--;
		spin_unlock_bh(&node->lock);

		err = rpw_alloc_hw_run(&h);
		if (err)
			pr_warn("%s: slot %u: %s on I2C bus %d failed: %d\n",
				node->name, h.slot, rpw_alloc_hw_names[h.op],
				h.bus, err);
		off = err && h.op == RPW_ACT_POWER_ON &&
		      rpw_alloc_known_off(&h, err);

		spin_lock_bh(&node->lock);
		if (err && h.op == RPW_ACT_POWER_ON && h.bus == a->bus &&
		    !node->dead && rpw_alloc_role(node, RACKPWR_ROLE_CHASSIS))
			rpw_alloc_power_failed(node, a, &h, err, off,
					       ktime_get_ns());
		if (!err && h.op != RPW_ACT_SHUTDOWN && h.bus == a->bus &&
		    !node->dead) {
			a->enabled[h.slot] = h.op == RPW_ACT_POWER_ON;
			rpw_alloc_slot_view(node, a, h.slot, &v);
			rpw_notify_slot(node, &v);
		}
		/*
		 * A server that went off or to sleep gives its grant back
		 * only now that its enable is off: before, a wake would run
		 * it on watts the primary counts free.  A failed write is
		 * logged above and the grant goes all the same.
		 */
		if (h.op == RPW_ACT_POWER_OFF && h.bus == a->bus &&
		    !node->dead && rpw_alloc_role(node, RACKPWR_ROLE_CHASSIS)) {
			u64 now = ktime_get_ns();

			if (!rpw_slots_power_off_done(&a->slots, h.slot,
						      h.grant_id, now))
				rpw_alloc_kick(node, a, now);
		}
		spin_unlock_bh(&node->lock);
	}
	mutex_unlock(&rpw_alloc_hw_mutex);
}

/* Node lock held: seed slot @i from what the driver read at binding. */
static void rpw_alloc_seed(struct rpw_node *node, struct rpw_alloc *a,
			   unsigned int i, const struct rpw_srv_info *in)
{
	struct rpw_slot_hw hw = {
		.present = in->present,
		.powered = in->present && in->enabled,
		.prio = a->prio[i],
		.watts = in->watts,
		.grant_id = in->grant_id,
	};

	a->enabled[i] = in->enabled;
	strscpy(a->ident[i], in->present ? in->ident : "", RPW_SRV_IDENT_LEN);
	if (!rpw_slots_seed(&a->slots, i, &hw))
		return;
	/* Powered without a grant we know of: nobody granted it, switch off. */
	pr_warn("%s: slot %u: powered server without a grant id: switching it off\n",
		node->name, i);
	hw.powered = false;
	rpw_slots_seed(&a->slots, i, &hw);
	rpw_alloc_hw_queue(a, RPW_ACT_POWER_OFF, i, 0);
}

/*
 * Node lock held: the chassis binds to @bus (or to none, @bus < 0).  The
 * old binding's granted servers are switched off first: this node no
 * longer accounts for them.  The table restarts from the hardware: a
 * server the device says is powered under a grant id keeps that grant.
 */
static void rpw_alloc_bind_locked(struct rpw_node *node, struct rpw_alloc *a,
				  int bus, const struct rpw_srv_info *info,
				  u64 now)
{
	struct rpw_alloc_timing t;
	unsigned int i;

	lockdep_assert_held(&node->lock);
	for (i = 0; a->seeded && i < RPW_ALLOC_SLOTS; i++)
		if (a->enabled[i] && a->bus >= 0)
			rpw_alloc_hw_queue(a, RPW_ACT_POWER_OFF, i, 0);
	rpw_alloc_timing(&t);
	rpw_slots_init(&a->slots, &t, get_random_u32());
	a->slots.off_ack = true;	/* rpw_alloc_hw_work() says when */
	memset(a->enabled, 0, sizeof(a->enabled));
	a->bus = bus;
	a->seeded = bus >= 0;
	for (i = 0; a->seeded && i < RPW_ALLOC_SLOTS; i++)
		rpw_alloc_seed(node, a, i, &info[i]);
	if (a->seeded)
		rpw_alloc_follow(node, a, now);
	pr_info("%s: chassis %s I2C bus %d\n", node->name,
		bus >= 0 ? "bound to" : "unbound from", bus >= 0 ? bus : 0);
	rpw_alloc_kick(node, a, now);
}

static void rpw_alloc_bind_work(struct work_struct *work)
{
	struct rpw_alloc *a = container_of(work, struct rpw_alloc, bind_work);
	struct rpw_srv_info *info;
	struct rpw_node *node = a->node;
	bool chassis, same;
	unsigned int i;
	int want, bus;

	info = kcalloc(RPW_ALLOC_SLOTS, sizeof(*info), GFP_KERNEL);
	if (!info)
		return;
	mutex_lock(&rpw_alloc_hw_mutex);
	spin_lock_bh(&node->lock);
	chassis = rpw_alloc_role(node, RACKPWR_ROLE_CHASSIS);
	want = node->i2c_bus;
	spin_unlock_bh(&node->lock);

	bus = chassis ? rpw_chassis_resolve(want) : -ENODEV;
	for (i = 0; bus >= 0 && i < RPW_ALLOC_SLOTS; i++)
		if (rpw_srv_get(bus, i, &info[i]))
			memset(&info[i], 0, sizeof(info[i]));

	spin_lock_bh(&node->lock);
	same = a->bus == bus && a->seeded == (bus >= 0);
	if (!node->dead && !same)
		rpw_alloc_bind_locked(node, a, bus, info, ktime_get_ns());
	spin_unlock_bh(&node->lock);
	mutex_unlock(&rpw_alloc_hw_mutex);
	kfree(info);
}

/*
 * Node lock held: the recovery hold for @modules on this bus, from the
 * MAC's worst-case access delay as the election reckons it (maximum-size
 * frames, ACKs, 1 ms receive latency in the UART profile); see
 * rpw_alloc_recovery_ms().
 */
static u32 rpw_alloc_recovery_hold(struct rpw_node *node,
				   unsigned int modules, u32 resend_ms)
{
	u64 rx_lat = node->profile == RPW_MAC_PROFILE_UART ? NSEC_PER_MSEC : 0;

	lockdep_assert_held(&node->lock);
	return rpw_alloc_recovery_ms(rpw_mac_access_bound_ns(&node->cfg,
							     max(modules, 2U),
							     RPW_MAX_WIRE,
							     true, rx_lat),
				     resend_ms);
}

/*
 * Promoted: every module this node has heard that is not a known
 * power-supply module (an election member or a capacity line) may be a
 * chassis, and the recovery waits for its report (or the recovery hold).
 * The peer table is read without the node lock, so this runs from a work
 * item, and the ledger starts acting only here: a recovery that began
 * before the chassis were known would end at once, with nobody to wait
 * for.
 */
static void rpw_alloc_know_work(struct work_struct *work)
{
	struct rpw_alloc *a = container_of(work, struct rpw_alloc, know_work);
	struct rpw_node *node = a->node;
	DECLARE_BITMAP(heard, RPW_MAC_NR_ADDR);
	DECLARE_BITMAP(psu, RPW_MAC_NR_ADDR);
	unsigned int modules = rpw_node_peer_count(node) + 1;
	struct rpw_cap_entry ce;
	struct rpw_mac_peer p;
	bool local;
	int addr;
	u64 now;

	bitmap_zero(heard, RPW_MAC_NR_ADDR);
	for (addr = 0; (addr = rpw_node_peer_next(node, addr, &p)) >= 0; addr++)
		__set_bit(addr, heard);
	rpw_node_elect_members(node, psu, RPW_MAC_NR_ADDR);
	bitmap_andnot(heard, heard, psu, RPW_MAC_NR_ADDR);
	for (addr = 0; (addr = rpw_cap_node_next(node, addr, &ce, &local)) >= 0;
	     addr++)
		__clear_bit(addr, heard);

	spin_lock_bh(&node->lock);
	if (node->dead || a->acting || !rpw_alloc_acting(node))
		goto unlock;
	now = ktime_get_ns();
	a->ledger.t.recovery_ms = rpw_alloc_recovery_hold(node, modules,
							  a->ledger.t.resend_ms);
	rpw_ledger_role(&a->ledger, true, node->leader.epoch, now, &a->out);
	a->acting = true;
	__clear_bit(node->cfg.addr, heard);
	for_each_set_bit(addr, heard, RPW_MAC_NR_ADDR)
		if (addr >= RPW_ADDR_MIN && addr <= RPW_ADDR_MAX)
			rpw_ledger_know(&a->ledger, addr);
	rpw_notify_alloc(node, RACKPWR_POWER_EVENT_RECOVERY, a->ledger.epoch,
			 NULL);
	rpw_alloc_kick(node, a, now);
unlock:
	spin_unlock_bh(&node->lock);
}

static const u8 rpw_alloc_sev[RPW_SRV_EV__MAX] = {
	[RPW_SRV_EV_PRESENT] = RPW_SEV_PRESENT,
	[RPW_SRV_EV_GONE] = RPW_SEV_GONE,
	[RPW_SRV_EV_BUTTON] = RPW_SEV_BUTTON,
	[RPW_SRV_EV_LAN_WAKE] = RPW_SEV_LAN_WAKE,
	[RPW_SRV_EV_WAKE] = RPW_SEV_WAKE,
	[RPW_SRV_EV_SLEEP] = RPW_SEV_SLEEP,
	[RPW_SRV_EV_OFF] = RPW_SEV_OFF,
	[RPW_SRV_EV_LOWER] = RPW_SEV_LOWER,
};

/*
 * One server event for @node, if it is the chassis bound to that bus.  A
 * server appearing in a slot without one was inserted: that is its first
 * power-on trigger.  Called with rpw_alloc_hw_mutex held.
 */
static void rpw_alloc_srv_event(struct rpw_node *node,
				const struct rpw_srv_event *ev,
				const struct rpw_srv_info *info)
{
	struct rpw_alloc *a;
	u8 sev = ev->ev < RPW_SRV_EV__MAX ? rpw_alloc_sev[ev->ev] : 0;
	u64 now = ktime_get_ns();
	bool inserted;
	int err = 0;

	spin_lock_bh(&node->lock);
	a = rpw_alloc_of(node);
	if (!a || !a->seeded || a->bus != ev->bus || ev->slot >= RPW_ALLOC_SLOTS ||
	    !rpw_alloc_role(node, RACKPWR_ROLE_CHASSIS) || !sev)
		goto unlock;
	/*
	 * Not "the slot is EMPTY": a server pulled while it held power
	 * leaves the slot RELEASING until the primary confirms, and one
	 * inserted before that must still ask (once the release is done).
	 */
	inserted = sev == RPW_SEV_PRESENT && !a->slots.slot[ev->slot].present;
	if (info)
		strscpy(a->ident[ev->slot], info->ident, RPW_SRV_IDENT_LEN);
	if (sev == RPW_SEV_GONE) {
		a->ident[ev->slot][0] = 0;
		a->enabled[ev->slot] = false;
	}
	err = rpw_slots_server_event(&a->slots, ev->slot, sev, ev->watts, now,
				     &a->out);
	if (!err && inserted)
		err = rpw_slots_server_event(&a->slots, ev->slot,
					     RPW_SEV_INSERT, 0, now, &a->out);
	if (err)
		pr_warn_ratelimited("%s: slot %u: server event %s refused: %d\n",
				    node->name, ev->slot,
				    rpw_srv_ev_name(ev->ev), err);
	rpw_alloc_kick(node, a, now);
unlock:
	spin_unlock_bh(&node->lock);
}

static int rpw_alloc_srv_notify(struct notifier_block *nb,
				unsigned long action, void *data)
{
	const struct rpw_srv_event *ev = data;
	struct rpw_srv_info info, *ip = NULL;
	unsigned long index = 0;
	struct rpw_node *node;

	mutex_lock(&rpw_alloc_hw_mutex);
	if (action == RPW_SRV_EVENT && ev->ev == RPW_SRV_EV_NACK)
		pr_warn_ratelimited("I2C bus %d slot %u: server device stopped answering\n",
				    ev->bus, ev->slot);
	if (action == RPW_SRV_EVENT && ev->ev == RPW_SRV_EV_PRESENT &&
	    !rpw_srv_get(ev->bus, ev->slot, &info))
		ip = &info;
	while ((node = rpw_node_next(&index))) {
		if (action == RPW_SRV_EVENT) {
			rpw_alloc_srv_event(node, ev, ip);
		} else {
			/* An adapter came or went: AUTO may resolve anew. */
			spin_lock_bh(&node->lock);
			if (rpw_alloc_of(node) && !node->dead)
				queue_work(system_wq,
					   &rpw_alloc_of(node)->bind_work);
			spin_unlock_bh(&node->lock);
		}
		rpw_node_put(node);
		index++;
	}
	mutex_unlock(&rpw_alloc_hw_mutex);
	return NOTIFY_OK;
}

static struct notifier_block rpw_alloc_srv_nb = {
	.notifier_call = rpw_alloc_srv_notify,
};

/* ---- lifecycle ---------------------------------------------------------- */

static int rpw_alloc_attach(struct rpw_node *node, void **priv)
{
	struct rpw_alloc_timing t;
	struct rpw_alloc *a;

	a = kvzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return -ENOMEM;
	a->node = node;
	a->bus = -ENODEV;
	a->timer_at = RPW_ALLOC_NO_TIMER;
	memset(a->prio, RPW_ALLOC_PRIO_DEFAULT, sizeof(a->prio));
	rpw_alloc_timing(&t);
	rpw_slots_init(&a->slots, &t, get_random_u32());
	a->slots.off_ack = true;	/* rpw_alloc_hw_work() says when */
	rpw_ledger_init(&a->ledger, &t);
	rpw_alloc_out_reset(&a->out);
	INIT_WORK(&a->hw_work, rpw_alloc_hw_work);
	INIT_WORK(&a->bind_work, rpw_alloc_bind_work);
	INIT_WORK(&a->know_work, rpw_alloc_know_work);
	*priv = a;
	return 0;
}

/*
 * After node->dead is set: the works cannot requeue.  Servers stay as
 * they are: their devices keep power-enable and the grant id, and the
 * next chassis node bound to the bus adopts them (rpw_slots_seed()).
 */
static void rpw_alloc_detach(struct rpw_node *node, void *priv)
{
	struct rpw_alloc *a = priv;

	cancel_work_sync(&a->bind_work);
	cancel_work_sync(&a->know_work);
	cancel_work_sync(&a->hw_work);
	kvfree(a);
}

static const struct rpw_proto_ops rpw_alloc_proto = {
	.name = "allocation",
	.range = RPW_T_RANGE(RPW_T_PWR_REQUEST),
	.attach = rpw_alloc_attach,
	.detach = rpw_alloc_detach,
	.start = rpw_alloc_start,
	.rx = rpw_alloc_rx,
	.tx_done = rpw_alloc_tx_done,
	.timer = rpw_alloc_timer,
	.leader = rpw_alloc_leader,
	.withdraw = rpw_alloc_withdraw,
};

/* ---- accessors for netlink (process context) ---------------------------- */

/* Node lock held: the node's state, or NULL with the extack message set. */
static struct rpw_alloc *rpw_alloc_get(struct rpw_node *node, u8 role,
				       struct netlink_ext_ack *extack)
{
	struct rpw_alloc *a = rpw_alloc_of(node);

	if (!a || node->dead) {
		NL_SET_ERR_MSG_MOD(extack, "node is going away");
		return NULL;
	}
	if (rpw_alloc_role(node, role))
		return a;
	if (role == RACKPWR_ROLE_CHASSIS)
		NL_SET_ERR_MSG_MOD(extack, "not a configured chassis node");
	else
		NL_SET_ERR_MSG_MOD(extack, "not a configured power-supply node");
	return NULL;
}

int rpw_alloc_slot_get(struct rpw_node *node, unsigned int slot,
		       struct rpw_slot_view *v, struct netlink_ext_ack *extack)
{
	struct rpw_alloc *a;
	int err = -EOPNOTSUPP;

	if (slot >= RPW_ALLOC_SLOTS) {
		NL_SET_ERR_MSG_MOD(extack, "no such slot");
		return -EINVAL;
	}
	spin_lock_bh(&node->lock);
	a = rpw_alloc_get(node, RACKPWR_ROLE_CHASSIS, extack);
	if (a) {
		rpw_alloc_slot_view(node, a, slot, v);
		err = 0;
	}
	spin_unlock_bh(&node->lock);
	return err;
}

int rpw_alloc_slot_set(struct rpw_node *node, unsigned int slot, int prio,
		       u32 power, struct netlink_ext_ack *extack)
{
	u64 now = ktime_get_ns();
	struct rpw_alloc *a;
	int err = -EOPNOTSUPP;

	if (slot >= RPW_ALLOC_SLOTS) {
		NL_SET_ERR_MSG_MOD(extack, "no such slot");
		return -EINVAL;
	}
	spin_lock_bh(&node->lock);
	a = rpw_alloc_get(node, RACKPWR_ROLE_CHASSIS, extack);
	if (!a)
		goto unlock;
	err = 0;
	if (prio >= 0) {
		a->prio[slot] = prio;
		err = rpw_slots_set_prio(&a->slots, slot, prio, now);
	}
	if (!err && power && (!a->seeded || a->bus < 0)) {
		NL_SET_ERR_MSG_MOD(extack, "the chassis node has no server bus");
		err = -ENODEV;
	} else if (!err && power) {
		err = rpw_slots_server_event(&a->slots, slot,
					     power == RACKPWR_SLOT_POWER_ON ?
					     RPW_SEV_ADMIN_ON : RPW_SEV_ADMIN_OFF,
					     0, now, &a->out);
		if (err)
			NL_SET_ERR_MSG_MOD(extack,
					   "the slot cannot do that now (empty?)");
	}
	rpw_alloc_kick(node, a, now);
unlock:
	spin_unlock_bh(&node->lock);
	return err;
}

int rpw_alloc_entry_next(struct rpw_node *node, int pos,
			 struct rpw_alloc_view *v, u32 *epoch)
{
	struct rpw_ledger_info in;
	struct rpw_alloc *a;

	spin_lock_bh(&node->lock);
	a = rpw_alloc_of(node);
	pos = a && !node->dead ? rpw_ledger_next(&a->ledger, pos, &in) :
				 -ENOENT;
	if (pos >= 0) {
		memset(v, 0, sizeof(*v));
		v->chassis = in.addr;
		v->slot = in.slot;
		v->state = in.state;
		v->prio = in.prio;
		v->reason = in.reason;
		v->req_id = in.id;
		v->want_mw = min_t(u64, in.want_mw, U32_MAX);
		v->held_mw = min_t(u64, in.held_mw, U32_MAX);
		v->changed_ns = in.since;
		*epoch = a->ledger.epoch;
	}
	spin_unlock_bh(&node->lock);
	return pos;
}

void rpw_alloc_power_view(struct rpw_node *node, struct rpw_power_view *v)
{
	struct rpw_ledger_info in;
	struct rpw_alloc *a;
	int pos;

	memset(v, 0, sizeof(*v));
	spin_lock_bh(&node->lock);
	a = rpw_alloc_of(node);
	if (!a || node->dead)
		goto unlock;
	v->epoch = node->leader.epoch;
	v->acting = rpw_node_acting(node, ktime_get_ns());
	v->bound = a->holder != 0;
	if (rpw_alloc_role(node, RACKPWR_ROLE_CHASSIS)) {
		v->rx_stale = a->slots.stats.rx_stale;
		goto unlock;
	}
	/*
	 * Primary, but the ledger starts only once the published lease has
	 * begun and know_work has run: it is recovering already.  Node
	 * listings read the lease from the clock, a little before the
	 * election publishes it; a reader would see recovering go 0, 1, 0.
	 */
	v->recovering = a->ledger.recovering ||
			(node->leader.state == RACKPWR_ELECT_STATE_PRIMARY &&
			 !a->acting);
	v->usable_mw = rpw_cap_usable_mw_locked(node);
	v->granted_mw = a->ledger.granted_mw;
	v->refused_invariant = a->ledger.stats.refused;
	v->nopolicy_denied = a->ledger.stats.no_policy;
	v->rx_stale = a->ledger.stats.rx_stale;
	for (pos = 0; (pos = rpw_ledger_next(&a->ledger, pos, &in)) >= 0; pos++)
		v->pending += in.state == RPW_GS_PENDING;
unlock:
	spin_unlock_bh(&node->lock);
}

int rpw_alloc_policy_bind(struct rpw_node *node, u32 portid,
			  const u32 *digest, struct netlink_ext_ack *extack)
{
	struct rpw_alloc *a;
	int err = -EOPNOTSUPP;
	u64 now;

	spin_lock_bh(&node->lock);
	a = rpw_alloc_get(node, RACKPWR_ROLE_PSU, extack);
	if (!a)
		goto unlock;
	err = -EBUSY;
	if (a->holder && a->holder != portid) {
		NL_SET_ERR_MSG_MOD(extack,
				   "another socket is the node's policy holder");
		goto unlock;
	}
	err = 0;
	/* The holder may bind again to announce a new policy's digest. */
	if (digest)
		rpw_cap_set_digest_locked(node, *digest);
	if (a->holder == portid)
		goto unlock;
	now = ktime_get_ns();
	a->holder = portid;
	rpw_ledger_policy(&a->ledger, true, now);
	rpw_notify_alloc(node, RACKPWR_POWER_EVENT_POLICY_BOUND,
			 a->ledger.epoch, NULL);
	pr_info("%s: policy holder bound (port %u)\n", node->name, portid);
	rpw_alloc_kick(node, a, now);
unlock:
	spin_unlock_bh(&node->lock);
	return err;
}

void rpw_alloc_policy_release(u32 portid)
{
	unsigned long index = 0;
	struct rpw_node *node;
	struct rpw_alloc *a;
	u64 now;

	while ((node = rpw_node_next(&index))) {
		spin_lock_bh(&node->lock);
		a = rpw_alloc_of(node);
		if (a && !node->dead && a->holder == portid) {
			now = ktime_get_ns();
			a->holder = 0;
			/* Its policy is gone with it: no digest to compare. */
			rpw_cap_set_digest_locked(node, 0);
			rpw_ledger_policy(&a->ledger, false, now);
			rpw_notify_alloc(node, RACKPWR_POWER_EVENT_POLICY_UNBOUND,
					 a->ledger.epoch, NULL);
			pr_warn("%s: policy holder gone: fail-safe (grants stay, new requests denied after %u ms)\n",
				node->name, a->ledger.t.nopolicy_ms);
			rpw_alloc_kick(node, a, now);
		}
		spin_unlock_bh(&node->lock);
		rpw_node_put(node);
		index++;
	}
}

/*
 * Node lock held: may @c act on the node?  Only at the node's epoch while
 * it acts as primary, and only as the bound holder when there is one.
 */
static int rpw_alloc_may_act(struct rpw_node *node, struct rpw_alloc *a,
			     const struct rpw_power_cmd *c, u64 now,
			     struct netlink_ext_ack *extack)
{
	if (!rpw_node_acting(node, now)) {
		NL_SET_ERR_MSG_MOD(extack, "the node does not act as primary");
		return -ESTALE;
	}
	if (c->epoch != node->leader.epoch || c->epoch != a->ledger.epoch) {
		NL_SET_ERR_MSG_MOD(extack,
				   "stale epoch: not the node's (see power-get)");
		return -ESTALE;
	}
	if (a->holder && a->holder != c->portid) {
		NL_SET_ERR_MSG_MOD(extack,
				   "another socket is the node's policy holder");
		return -EBUSY;
	}
	return 0;
}

/* What rpw_ledger_decide()/rpw_ledger_shed() errors mean. */
static const struct {
	int err;
	const char *msg;
} rpw_alloc_errors[] = {
	{ -ESTALE, "rackpwr: not the slot's open request" },
	{ -ENOENT, "rackpwr: no such request or grant" },
	{ -EALREADY, "rackpwr: already decided/shedding" },
	{ -EAGAIN, "rackpwr: recovering: grants wait for the chassis tables" },
	{ -ENOSPC, "rackpwr: the grant would exceed the rack's usable capacity" },
	{ -EINVAL, "rackpwr: bad verdict, watts (must be the watts asked) or reason" },
};

static void rpw_alloc_error(struct netlink_ext_ack *extack, int err)
{
	unsigned int i;

	for (i = 0; extack && i < ARRAY_SIZE(rpw_alloc_errors); i++)
		if (rpw_alloc_errors[i].err == err && !extack->_msg)
			extack->_msg = rpw_alloc_errors[i].msg;
}

int rpw_alloc_decide(struct rpw_node *node, const struct rpw_power_cmd *c,
		     struct netlink_ext_ack *extack)
{
	u64 now = ktime_get_ns();
	struct rpw_alloc_view v;
	struct rpw_alloc *a;
	int err = -EOPNOTSUPP;

	spin_lock_bh(&node->lock);
	a = rpw_alloc_get(node, RACKPWR_ROLE_PSU, extack);
	if (!a)
		goto unlock;
	err = rpw_alloc_may_act(node, a, c, now, extack);
	if (err)
		goto unlock;
	err = rpw_ledger_decide(&a->ledger, c->chassis, c->slot, c->req_id,
				c->verdict, c->mw, c->reason,
				rpw_cap_usable_mw_locked(node), now, &a->out);
	if (err == -ENOSPC) {
		rpw_alloc_entry_view(&a->ledger, c->chassis, c->slot, &v);
		rpw_notify_alloc(node, RACKPWR_POWER_EVENT_INVARIANT,
				 a->ledger.epoch, &v);
		pr_warn_ratelimited("%s: grant of %u mW to chassis %u slot %u refused: %llu of %llu mW usable already granted\n",
				    node->name, c->mw, c->chassis, c->slot,
				    a->ledger.granted_mw,
				    rpw_cap_usable_mw_locked(node));
	}
	rpw_alloc_error(extack, err);
	rpw_alloc_kick(node, a, now);
unlock:
	spin_unlock_bh(&node->lock);
	return err;
}

int rpw_alloc_shed(struct rpw_node *node, const struct rpw_power_cmd *c,
		   struct netlink_ext_ack *extack)
{
	u64 now = ktime_get_ns();
	struct rpw_alloc *a;
	int err = -EOPNOTSUPP;

	spin_lock_bh(&node->lock);
	a = rpw_alloc_get(node, RACKPWR_ROLE_PSU, extack);
	if (!a)
		goto unlock;
	err = rpw_alloc_may_act(node, a, c, now, extack);
	if (!err)
		err = rpw_ledger_shed(&a->ledger, c->chassis, c->slot, now,
				      &a->out);
	rpw_alloc_error(extack, err);
	rpw_alloc_kick(node, a, now);
unlock:
	spin_unlock_bh(&node->lock);
	return err;
}

/* The adapter of @node's chassis binding, or -ENODEV; as for assemblies. */
int rpw_alloc_node_i2c_bus(struct rpw_node *node, bool *is_auto)
{
	struct rpw_alloc *a;
	int bus = -ENODEV;

	spin_lock_bh(&node->lock);
	*is_auto = node->i2c_bus == RPW_I2C_BUS_AUTO;
	a = rpw_alloc_of(node);
	if (a && a->seeded && rpw_alloc_role(node, RACKPWR_ROLE_CHASSIS))
		bus = a->bus;
	spin_unlock_bh(&node->lock);
	return bus;
}

int __init rpw_alloc_init(void)
{
	int err;

	/* The uapi enums mirror the pure code's. */
	BUILD_BUG_ON((int)RACKPWR_SLOT_STATE_EMPTY != (int)RPW_SLOT_EMPTY);
	BUILD_BUG_ON((int)RACKPWR_SLOT_STATE_RELEASING !=
		     (int)RPW_SLOT_RELEASING);
	BUILD_BUG_ON((int)RACKPWR_ALLOC_STATE_PENDING != (int)RPW_GS_PENDING);
	BUILD_BUG_ON((int)RACKPWR_ALLOC_STATE_SHEDDING != (int)RPW_GS_SHEDDING);
	BUILD_BUG_ON((int)RACKPWR_VERDICT_GRANT != (int)RPW_PWR_GRANT);
	BUILD_BUG_ON((int)RACKPWR_VERDICT_QUEUE != (int)RPW_PWR_QUEUED);
	BUILD_BUG_ON((int)RACKPWR_VERDICT_DENY != (int)RPW_PWR_DENIED);
	BUILD_BUG_ON((int)RACKPWR_REASON_NO_POLICY != (int)RPW_PWR_R_NO_POLICY);
	BUILD_BUG_ON((int)RACKPWR_REASON_REFUSED != (int)RPW_PWR_R_REFUSED);
	BUILD_BUG_ON((int)RACKPWR_REASON_STALE != (int)RPW_PWR_R_STALE);
	BUILD_BUG_ON((int)RACKPWR_REASON_POWER_FAILED !=
		     (int)RPW_PWR_R_POWER_FAILED);
	BUILD_BUG_ON(RACKPWR_TRIGGER_ADMIN - RACKPWR_TRIGGER_INSERT !=
		     RPW_SEV_ADMIN_ON - RPW_SEV_INSERT);
	BUILD_BUG_ON(RPW_ALLOC_NO_TIMER != RPW_TIMER_OFF);
	BUILD_BUG_ON(RPW_ALLOC_SLOTS != RPW_SRV_SLOTS);

	err = rpw_proto_register(&rpw_alloc_proto);
	if (err)
		return err;
	err = rpw_srv_notifier_register(&rpw_alloc_srv_nb);
	if (err)
		rpw_proto_unregister(&rpw_alloc_proto);
	return err;
}

void rpw_alloc_exit(void)
{
	rpw_srv_notifier_unregister(&rpw_alloc_srv_nb);
	rpw_proto_unregister(&rpw_alloc_proto);
}
