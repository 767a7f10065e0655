// SPDX-License-Identifier: GPL-2.0-only
/*
 * rackpwr - protocol core: bus nodes, their MAC instances and timers.
 *
 * A node is one attachment to the RS-485 bus (a tty with the line
 * discipline, a serdev device, or a simulated bus node).  Transports only
 * move bytes; the core runs the pure MAC (driver/rpw_mac.c) for each node
 * under the node's spinlock, drives its single hrtimer and reports frames
 * and events up through the notify ops netlink registers.
 *
 * Lifetime: nodes live in an xarray indexed by id.  Lookups take a kref
 * under RCU; rpw_node_destroy() unlinks the node, stops the MAC (pending
 * senders get -ECANCELED), cancels the timer and drops the creation
 * reference.  The transport must not feed bytes after destroy returns.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "psu.h"
#include "rackpwr.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

static DEFINE_XARRAY_ALLOC1(rpw_nodes);
/* Set while no node exists (module init and exit): plain reads suffice. */
static const struct rpw_notify_ops *rpw_notify;
/* Serialises node creation/destruction and the kind registry. */
static DEFINE_MUTEX(rpw_nodes_mutex);
static const struct rpw_kind_ops *rpw_kinds[RACKPWR_KIND_SERDEV + 1];
/* Written while no node exists (module init and exit). */
static const struct rpw_proto_ops *rpw_protos[RPW_PROTOS];

static u64 rpw_now(void)
{
	return ktime_get_ns();
}

void rpw_notify_register(const struct rpw_notify_ops *ops)
{
	WARN_ON(!xa_empty(&rpw_nodes));
	rpw_notify = ops;
}

void rpw_notify_node_change(struct rpw_node *node, bool deleted)
{
	if (rpw_notify)
		rpw_notify->node_change(node, deleted);
}

void rpw_notify_frame_rx(struct rpw_node *node, const struct rpw_frame *f)
{
	lockdep_assert_held(&node->lock);
	if (rpw_notify)
		rpw_notify->frame_rx(node, f);
}

void rpw_notify_bus_event(struct rpw_node *node, u32 event, u8 addr)
{
	lockdep_assert_held(&node->lock);
	if (rpw_notify)
		rpw_notify->bus_event(node, event, addr);
}

void rpw_notify_elect(struct rpw_node *node, u32 event, u8 addr, u32 epoch,
		      u32 state)
{
	lockdep_assert_held(&node->lock);
	if (rpw_notify)
		rpw_notify->elect_event(node, event, addr, epoch, state);
}

void rpw_notify_capacity(struct rpw_node *node, u8 addr,
			 const struct rpw_cap_entry *e, bool local)
{
	lockdep_assert_held(&node->lock);
	if (rpw_notify)
		rpw_notify->capacity(node, addr, e, local);
}

void rpw_notify_slot(struct rpw_node *node, const struct rpw_slot_view *v)
{
	lockdep_assert_held(&node->lock);
	if (rpw_notify)
		rpw_notify->slot(node, v);
}

void rpw_notify_power_request(struct rpw_node *node, u32 holder, u32 epoch,
			      const struct rpw_alloc_view *v)
{
	lockdep_assert_held(&node->lock);
	if (rpw_notify)
		rpw_notify->power_request(node, holder, epoch, v);
}

void rpw_notify_alloc(struct rpw_node *node, u32 event, u32 epoch,
		      const struct rpw_alloc_view *v)
{
	lockdep_assert_held(&node->lock);
	if (rpw_notify)
		rpw_notify->alloc_event(node, event, epoch, v);
}

/* MAC callbacks: all run with node->lock held. */

static void rpw_mac_cb_tx(void *ctx, const u8 *buf, size_t len)
{
	struct rpw_node *node = ctx;

	lockdep_assert_held(&node->lock);
	node->tops->write(node, buf, len);
}

static void rpw_mac_cb_tx_abort(void *ctx)
{
	struct rpw_node *node = ctx;

	lockdep_assert_held(&node->lock);
	if (node->tops->flush)
		node->tops->flush(node);
}

int rpw_proto_register(const struct rpw_proto_ops *ops)
{
	int i, free = -1;

	if (WARN_ON(!xa_empty(&rpw_nodes) || ops->range >= RPW_T_RANGES))
		return -EBUSY;
	for (i = 0; i < RPW_PROTOS; i++) {
		if (rpw_protos[i] && rpw_protos[i]->range == ops->range)
			return -EBUSY;
		if (!rpw_protos[i] && free < 0)
			free = i;
	}
	if (free < 0)
		return -ENOSPC;
	rpw_protos[free] = ops;
	return 0;
}

void rpw_proto_unregister(const struct rpw_proto_ops *ops)
{
	int i;

	WARN_ON(!xa_empty(&rpw_nodes));
	for (i = 0; i < RPW_PROTOS; i++)
		if (rpw_protos[i] == ops)
			rpw_protos[i] = NULL;
}

/* The slot of the protocol registered for @type's range, or -1. */
static int rpw_proto_slot_of(u8 type)
{
	int i;

	for (i = 0; i < RPW_PROTOS; i++)
		if (rpw_protos[i] && rpw_protos[i]->range == RPW_T_RANGE(type))
			return i;
	return -1;
}

void *rpw_node_priv(struct rpw_node *node, const struct rpw_proto_ops *ops)
{
	int i;

	lockdep_assert_held(&node->lock);
	for (i = 0; i < RPW_PROTOS; i++)
		if (rpw_protos[i] == ops)
			return node->proto[i].priv;
	return NULL;
}

/*
 * Frames by type range: the link layer's user frames (data, test) go up
 * to user space, the rest to the protocol registered for their range;
 * frames of a range nobody registered are dropped.
 */
static void rpw_mac_cb_rx(void *ctx, const struct rpw_frame *f)
{
	struct rpw_node *node = ctx;
	int i;

	lockdep_assert_held(&node->lock);
	if (f->type == RPW_T_DATA || f->type == RPW_T_TEST) {
		rpw_notify_frame_rx(node, f);
		return;
	}
	i = rpw_proto_slot_of(f->type);
	if (i >= 0 && node->proto[i].priv && rpw_protos[i]->rx)
		rpw_protos[i]->rx(node, node->proto[i].priv, f, rpw_now());
}

static void rpw_tx_put(struct rpw_tx *tx)
{
	if (refcount_dec_and_test(&tx->ref))
		kfree(tx);
}

static void rpw_mac_cb_done(void *ctx, struct rpw_mac_txreq *req, int result)
{
	struct rpw_tx *tx = container_of(req, struct rpw_tx, req);
	struct rpw_node *node = ctx;

	lockdep_assert_held(&node->lock);
	if (tx->internal) {
		int i = rpw_proto_slot_of(req->frame.type);

		if (i >= 0 && !node->dead && node->proto[i].priv &&
		    rpw_protos[i]->tx_done)
			rpw_protos[i]->tx_done(node, node->proto[i].priv,
					       &req->frame, !result, rpw_now());
		kfree(tx);
		return;
	}
	tx->result = result;
	complete(&tx->done);
	rpw_tx_put(tx);
}

static void rpw_mac_cb_timer(void *ctx, u64 expires)
{
	struct rpw_node *node = ctx;

	lockdep_assert_held(&node->lock);
	node->timer_at = expires;
	if (expires == RPW_MAC_TIMER_OFF) {
		hrtimer_try_to_cancel(&node->timer);
		return;
	}
	hrtimer_start(&node->timer, ns_to_ktime(expires),
		      HRTIMER_MODE_ABS_SOFT);
}

static void rpw_mac_cb_event(void *ctx, enum rpw_mac_event ev,
			     const struct rpw_frame *f)
{
	struct rpw_node *node = ctx;
	const struct rpw_mac_peer *peer;

	lockdep_assert_held(&node->lock);
	/* The MAC reports our own ACKs without a frame. */
	if (!f && ev != RPW_MAC_EV_RX_DROP)
		return;
	switch (ev) {
	case RPW_MAC_EV_TX:
		trace_rackpwr_frame_tx(node->id, f);
		break;
	case RPW_MAC_EV_RX:
		trace_rackpwr_frame_rx(node->id, f);
		peer = rpw_mac_peer(node->mac, f->src);
		if (peer && peer->rx_frames == 1)
			rpw_notify_bus_event(node, RACKPWR_EVENT_PEER_NEW, f->src);
		break;
	case RPW_MAC_EV_COLLISION:
		trace_rackpwr_collision(node->id, f);
		break;
	case RPW_MAC_EV_RETRY:
		trace_rackpwr_retry(node->id, f);
		break;
	case RPW_MAC_EV_TIMEOUT:
		trace_rackpwr_tx_timeout(node->id, f);
		break;
	case RPW_MAC_EV_RX_DROP:
		trace_rackpwr_rx_drop(node->id);
		break;
	case RPW_MAC_EV_DUP_ADDR:
		pr_warn_ratelimited("%s: another module transmits with our address %u\n",
				    node->name, node->cfg.addr);
		rpw_notify_bus_event(node, RACKPWR_EVENT_DUP_ADDR, node->cfg.addr);
		break;
	default:
		break;
	}
}

static const struct rpw_mac_ops rpw_mac_cb = {
	.tx = rpw_mac_cb_tx,
	.tx_abort = rpw_mac_cb_tx_abort,
	.rx = rpw_mac_cb_rx,
	.done = rpw_mac_cb_done,
	.timer = rpw_mac_cb_timer,
	.event = rpw_mac_cb_event,
	.seal = rpw_node_auth_seal,
	.open = rpw_node_auth_open,
};

/*
 * Queue a frame of the core's own (a protocol's) with the node lock held;
 * nobody waits for it, the done callback frees it.
 */
static int rpw_node_queue_prio(struct rpw_node *node, const struct rpw_frame *f,
			       const struct rpw_txopts *o)
{
	u64 now = rpw_now();
	struct rpw_tx *tx;
	int err;

	lockdep_assert_held(&node->lock);
	if (node->dead || !node->mac_up)
		return -ENETDOWN;
	tx = kzalloc(sizeof(*tx), GFP_ATOMIC);
	if (!tx)
		return -ENOMEM;
	tx->req.frame = *f;
	tx->req.keep_seq = o->keep_seq;
	tx->req.urgent = o->urgent || o->defer;
	tx->req.defer = o->defer;
	tx->req.ahead = o->ahead;
	tx->req.answered = o->answered;
	tx->req.expires_ns = o->expires_ns ?: o->ttl_ns ? now + o->ttl_ns : 0;
	tx->req.cls = o->cls;
	tx->internal = true;
	err = rpw_mac_submit(node->mac, &tx->req, now);
	if (err)
		kfree(tx);
	return err;
}

/* Election frames go with urgent access, every other class in turns. */
int rpw_node_queue_locked(struct rpw_node *node, const struct rpw_frame *f,
			  const struct rpw_txopts *o)
{
	static const struct rpw_txopts ordinary = {
		.cls = RPW_MAC_CLASS_PROTO,
	};

	return rpw_node_queue_prio(node, f, o ?: &ordinary);
}

static void rpw_slot_timer_start(struct rpw_proto_slot *slot)
{
	hrtimer_start(&slot->timer, ns_to_ktime(slot->timer_at),
		      HRTIMER_MODE_ABS_SOFT);
}

void rpw_node_proto_timer(struct rpw_node *node,
			  const struct rpw_proto_ops *ops, u64 expires)
{
	int i;

	lockdep_assert_held(&node->lock);
	for (i = 0; i < RPW_PROTOS && rpw_protos[i] != ops; i++)
		;
	if (WARN_ON_ONCE(i == RPW_PROTOS))
		return;
	node->proto[i].timer_at = expires;
	if (expires == RPW_TIMER_OFF)
		hrtimer_try_to_cancel(&node->proto[i].timer);
	else
		rpw_slot_timer_start(&node->proto[i]);
}

static enum hrtimer_restart rpw_node_proto_timer_fn(struct hrtimer *t)
{
	struct rpw_proto_slot *slot = container_of(t, struct rpw_proto_slot,
						   timer);
	struct rpw_node *node = slot->node;
	int i = slot - node->proto;
	u64 now;

	spin_lock_bh(&node->lock);
	if (node->dead || !slot->priv || node->frozen ||
	    slot->timer_at == RPW_TIMER_OFF)
		goto out;
	now = rpw_now();
	if (now < slot->timer_at)
		rpw_slot_timer_start(slot);
	else
		rpw_protos[i]->timer(node, slot->priv, now);
	/*
	 * A lease that ended on a silent bus: the frames marked in the timer
	 * go now, not at the next bytes heard (which may be after the next
	 * lease, and would take that lease's frames along).
	 */
	rpw_node_withdraw_locked(node);
out:
	spin_unlock_bh(&node->lock);
	return HRTIMER_NORESTART;
}

void rpw_node_set_leader(struct rpw_node *node, const struct rpw_leader *l)
{
	struct rpw_leader old = node->leader;
	int i;

	lockdep_assert_held(&node->lock);
	if (!memcmp(&old, l, sizeof(old)))
		return;
	node->leader = *l;
	for (i = 0; i < RPW_PROTOS; i++)
		if (rpw_protos[i] && rpw_protos[i]->leader &&
		    node->proto[i].priv)
			rpw_protos[i]->leader(node, node->proto[i].priv, &old);
}

bool rpw_node_acting(struct rpw_node *node, u64 now)
{
	const struct rpw_leader *l = &node->leader;
	unsigned int i;

	lockdep_assert_held(&node->lock);
	if (l->state != RACKPWR_ELECT_STATE_PRIMARY)
		return false;
	for (i = 0; i < ARRAY_SIZE(l->lease_start); i++)
		if (now >= l->lease_start[i] && now < l->lease_end[i])
			return true;
	return false;
}

static enum hrtimer_restart rpw_node_timer_fn(struct hrtimer *t)
{
	struct rpw_node *node = container_of(t, struct rpw_node, timer);
	u64 now;

	spin_lock_bh(&node->lock);
	if (node->dead || !node->mac_up || node->frozen ||
	    node->timer_at == RPW_MAC_TIMER_OFF)
		goto out;
	now = rpw_now();
	if (now < node->timer_at) {
		hrtimer_start(&node->timer, ns_to_ktime(node->timer_at),
			      HRTIMER_MODE_ABS_SOFT);
		goto out;
	}
	/* The MAC forgets its timer as it runs: mirror that. */
	node->timer_at = RPW_MAC_TIMER_OFF;
	rpw_mac_timer_expired(node->mac, now);
	/* What its callbacks marked (a lease lost in tx_done) goes now. */
	rpw_node_withdraw_locked(node);
	/*
	 * The MAC asked to run again at or before the time it just ran:
	 * nothing can have changed, so that would spin in softirq context.
	 * Give the line a character time.
	 */
	if (node->timer_at != RPW_MAC_TIMER_OFF && node->timer_at <= now) {
		struct rpw_mac *m = node->mac;

		pr_warn_ratelimited("%s: MAC timer re-armed in the past (mode %u addr %u idle %d tx %d ackp %d wack %d head %d upoint %d)\n",
				    node->name, m->mode, m->mode_addr,
				    m->idle_done, m->tx_active, m->ack_pending,
				    m->wait_ack, !!m->head, m->u_offer);
		node->timer_at = now + rpw_mac_char_ns(m->cfg.baud);
		hrtimer_start(&node->timer, ns_to_ktime(node->timer_at),
			      HRTIMER_MODE_ABS_SOFT);
	}
out:
	spin_unlock_bh(&node->lock);
	return HRTIMER_NORESTART;
}

/* Process context: every registered protocol gets its per-node state. */
static int rpw_node_attach(struct rpw_node *node)
{
	int i, err;

	for (i = 0; i < RPW_PROTOS; i++) {
		struct rpw_proto_slot *slot = &node->proto[i];

		slot->node = node;
		slot->timer_at = RPW_TIMER_OFF;
		hrtimer_init(&slot->timer, CLOCK_MONOTONIC,
			     HRTIMER_MODE_ABS_SOFT);
		slot->timer.function = rpw_node_proto_timer_fn;
		if (!rpw_protos[i] || !rpw_protos[i]->attach)
			continue;
		err = rpw_protos[i]->attach(node, &slot->priv);
		if (err)
			return err;
	}
	return 0;
}

/*
 * Process context, after the node is dead and its timers stopped (or it
 * never ran): nothing reaches the protocols any more.
 */
static void rpw_node_detach(struct rpw_node *node)
{
	int i;

	for (i = 0; i < RPW_PROTOS; i++) {
		void *priv;

		hrtimer_cancel(&node->proto[i].timer);
		spin_lock_bh(&node->lock);
		priv = node->proto[i].priv;
		node->proto[i].priv = NULL;
		spin_unlock_bh(&node->lock);
		if (priv && rpw_protos[i]->detach)
			rpw_protos[i]->detach(node, priv);
	}
}

struct rpw_node *rpw_node_create(u32 kind, const char *name, u32 bus,
				 enum rpw_mac_profile profile,
				 const struct rpw_transport_ops *tops, void *priv)
{
	struct rpw_node *node;
	u32 id;
	int err;

	node = kzalloc(sizeof(*node), GFP_KERNEL);
	if (!node)
		return ERR_PTR(-ENOMEM);
	spin_lock_init(&node->lock);
	/* node->mac stays NULL until the first configuration brings it up. */
	if (rpw_node_attach(node)) {
		rpw_node_detach(node);
		kfree(node);
		return ERR_PTR(-ENOMEM);
	}
	kref_init(&node->ref);
	hrtimer_init(&node->timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_SOFT);
	node->timer.function = rpw_node_timer_fn;
	node->timer_at = RPW_MAC_TIMER_OFF;
	node->kind = kind;
	node->bus = bus;
	node->profile = profile;
	node->tops = tops;
	node->priv = priv;
	node->role = RACKPWR_ROLE_CHASSIS;
	node->i2c_bus = RPW_I2C_BUS_AUTO;
	/* Address 0: the node is inert until configured. */
	rpw_mac_cfg_default(&node->cfg, profile, RPW_ADDR_MIN, 115200);
	node->cfg.addr = RPW_ADDR_NONE;
	/* A rack has a few dozen modules: sweep 64 addresses, not 254. */
	node->cfg.max_addr = RPW_DEFAULT_MAX_ADDR;
	node->cfg.prio_period = RPW_DEFAULT_PRIO_PERIOD;
	/* Breaks the tie between two modules given the same address. */
	node->cfg.nonce = get_random_u32();

	mutex_lock(&rpw_nodes_mutex);
	err = xa_alloc(&rpw_nodes, &id, node, xa_limit_31b, GFP_KERNEL);
	if (!err) {
		node->id = id;
		if (name)
			strscpy(node->name, name, sizeof(node->name));
		else
			snprintf(node->name, sizeof(node->name), "sim%u.%u",
				 bus, id);
	}
	mutex_unlock(&rpw_nodes_mutex);
	if (err) {
		rpw_node_detach(node);
		kfree(node);
		return ERR_PTR(err);
	}
	/*
	 * Not announced yet: the first configuration sends the one
	 * node-change notification, complete with the node's address.
	 */
	return node;
}
EXPORT_SYMBOL_GPL(rpw_node_create);

/* Every protocol must accept the node's new configuration. */
static int rpw_node_check_protos(const struct rpw_node_setup *su,
				 const char **why)
{
	int i, err;

	for (i = 0; i < RPW_PROTOS; i++) {
		if (!rpw_protos[i] || !rpw_protos[i]->check)
			continue;
		err = rpw_protos[i]->check(su, why);
		if (err)
			return err;
	}
	return 0;
}

/*
 * New line rate: the MAC timers return to that rate's defaults.
 */
static void rpw_cfg_set_baud(struct rpw_mac_cfg *cfg,
			     enum rpw_mac_profile profile, u32 baud)
{
	struct rpw_mac_cfg defaults;

	rpw_mac_cfg_default(&defaults, profile, cfg->addr ?: 1, baud);
	cfg->baud = baud;
	cfg->t_ifs_us = defaults.t_ifs_us;
	cfg->t_slot_us = defaults.t_slot_us;
	cfg->t_turnaround_us = defaults.t_turnaround_us;
	cfg->ack_timeout_us = defaults.ack_timeout_us;
}

/*
 * Apply @p on top of @cur (the node's present settings) and validate the
 * result as a whole.  No side effects: callers check a request before they
 * change anything.
 */
static int rpw_node_resolve(const struct rpw_node_setup *cur,
			    const struct rpw_node_params *p,
			    struct rpw_node_setup *out,
			    struct netlink_ext_ack *extack)
{
	struct rpw_mac_cfg *cfg = &out->cfg;
	enum rpw_mac_profile profile;
	const char *why;
	int err;

	*out = *cur;
	profile = out->profile;
	if (p->addr)
		cfg->addr = p->addr;
	if (p->role)
		out->role = p->role;
	if (p->hb_us)
		out->hb_us = p->hb_us;
	if (p->miss)
		out->miss = p->miss;
	if (p->bus_delay_us)
		out->bus_delay_us = p->bus_delay_us;
	/* A new line rate rescales every timer that was not given. */
	if (p->baud && p->baud != cfg->baud)
		rpw_cfg_set_baud(cfg, profile, p->baud);
	if (p->t_ifs_us)
		cfg->t_ifs_us = p->t_ifs_us;
	if (p->t_slot_us)
		cfg->t_slot_us = p->t_slot_us;
	if (p->has_turnaround)
		cfg->t_turnaround_us = p->t_turnaround_us;
	if (p->ack_timeout_us)
		cfg->ack_timeout_us = p->ack_timeout_us;
	if (p->has_max_retries)
		cfg->max_retries = p->max_retries;
	if (p->has_prio_period)
		cfg->prio_period = p->prio_period;
	if (p->max_addr)
		cfg->max_addr = p->max_addr;
	else if (cfg->addr > cfg->max_addr)
		cfg->max_addr = cfg->addr;	/* the default must not refuse */

	if (!cfg->addr) {
		NL_SET_ERR_MSG_MOD(extack, "node has no address; set one");
		return -EINVAL;
	}
	err = rpw_mac_cfg_validate(cfg, &why);
	if (!err)
		err = rpw_node_check_protos(out, &why);
	/* The validators' reasons are static strings. */
	if (err && extack)
		extack->_msg = why;
	return err;
}

static void rpw_node_setup_default(struct rpw_node_setup *su,
				   enum rpw_mac_profile profile)
{
	memset(su, 0, sizeof(*su));
	su->profile = profile;
	rpw_mac_cfg_default(&su->cfg, profile, RPW_ADDR_MIN, 115200);
	su->cfg.addr = RPW_ADDR_NONE;
	su->cfg.max_addr = RPW_DEFAULT_MAX_ADDR;
	su->cfg.prio_period = RPW_DEFAULT_PRIO_PERIOD;
	su->role = RACKPWR_ROLE_CHASSIS;
}

/* Would @p configure a new node of @profile?  Changes nothing. */
int rpw_node_params_check(enum rpw_mac_profile profile,
			  const struct rpw_node_params *p,
			  struct netlink_ext_ack *extack)
{
	struct rpw_node_setup cur, out;

	rpw_node_setup_default(&cur, profile);
	return rpw_node_resolve(&cur, p, &out, extack);
}

/*
 * Apply @p on top of the node's current configuration.  Everything is
 * validated before anything changes; a running MAC is restarted with the
 * new settings (frames in flight get -ECANCELED), counters are kept.  The
 * election restarts too: a reconfigured module rejoins as secondary.
 */
/* Node lock held: tell the protocols the MAC stops, or (re)started. */
static void rpw_node_stop_protos(struct rpw_node *node, u64 now)
{
	int i;

	lockdep_assert_held(&node->lock);
	for (i = 0; i < RPW_PROTOS; i++)
		if (rpw_protos[i] && rpw_protos[i]->stop && node->proto[i].priv)
			rpw_protos[i]->stop(node, node->proto[i].priv, now);
}

static void rpw_node_start_protos(struct rpw_node *node,
				  const struct rpw_node_setup *su, u64 now)
{
	int i;

	lockdep_assert_held(&node->lock);
	for (i = 0; i < RPW_PROTOS; i++)
		if (rpw_protos[i] && rpw_protos[i]->start &&
		    node->proto[i].priv)
			rpw_protos[i]->start(node, node->proto[i].priv, su,
					     now);
}

static int rpw_node_apply(struct rpw_node *node,
			  const struct rpw_node_params *p, bool from_line,
			  struct netlink_ext_ack *extack)
{
	struct rpw_mac *mac, *old = NULL;
	struct rpw_node_setup cur, su;
	int err;

	/* Tens of kilobytes (the duplicate memory of 256 peers). */
	mac = kvzalloc(sizeof(*mac), GFP_KERNEL);
	if (!mac)
		return -ENOMEM;

	spin_lock_bh(&node->lock);
	cur.cfg = node->cfg;
	cur.profile = node->profile;
	cur.role = node->role;
	cur.hb_us = node->hb_us;
	cur.miss = node->miss;
	cur.bus_delay_us = node->bus_delay_us;
	err = rpw_node_resolve(&cur, p, &su, extack);
	if (err)
		goto unlock;
	/* A node whose line sets its rate cannot be told another one. */
	if (node->tops->line_rate && !from_line &&
	    su.cfg.baud != cur.cfg.baud) {
		NL_SET_ERR_MSG_MOD(extack,
				   "baud follows the tty's speed: set it on the tty (stty)");
		err = -EINVAL;
		goto unlock;
	}
	if (node->dead) {
		err = -ENODEV;
		goto unlock;
	}

	err = rpw_mac_init(mac, &su.cfg, &rpw_mac_cb, node, rpw_now());
	if (err) {
		NL_SET_ERR_MSG_MOD(extack, "configuration rejected");
		goto unlock;
	}
	if (node->mac_up) {
		rpw_node_stop_protos(node, rpw_now());
		/* Counters and the peer table survive a reconfiguration. */
		rpw_mac_cancel_all(node->mac, rpw_now());
		old = node->mac;
		mac->stats = old->stats;
		memcpy(mac->peers, old->peers, sizeof(mac->peers));
	}
	node->mac = mac;
	node->cfg = su.cfg;
	node->mac_up = true;
	node->role = su.role;
	node->hb_us = su.hb_us;
	node->miss = su.miss;
	node->bus_delay_us = su.bus_delay_us;
	if (p->has_i2c_bus)
		node->i2c_bus = p->i2c_bus;
	rpw_node_start_protos(node, &su, rpw_now());
	mac = old;
unlock:
	spin_unlock_bh(&node->lock);
	kvfree(mac);
	if (!err)
		rpw_notify_node_change(node, false);
	return err;
}

int rpw_node_configure(struct rpw_node *node, const struct rpw_node_params *p,
		       struct netlink_ext_ack *extack)
{
	return rpw_node_apply(node, p, false, extack);
}
EXPORT_SYMBOL_GPL(rpw_node_configure);

/*
 * The line rate changed under the node (a tty's speed set with stty).  A
 * configured node is reconfigured as by a node-set giving only the baud
 * (MAC and election restart, node-change notification); one without an
 * address just takes the rate for its first configuration.  Returns
 * -EINVAL with @why set when the rate or the resulting timers are refused.
 */
int rpw_node_set_baud(struct rpw_node *node, u32 baud, const char **why)
{
	struct rpw_node_params p = { .baud = baud };
	struct netlink_ext_ack extack = {};
	struct rpw_mac_cfg cfg;
	bool same, up;
	int err = 0;

	spin_lock_bh(&node->lock);
	up = node->mac_up;
	same = baud == node->cfg.baud;
	if (!up && !same) {
		cfg = node->cfg;
		rpw_cfg_set_baud(&cfg, node->profile, baud);
		/* Only the rate can be wrong yet: no address to check. */
		cfg.addr = RPW_ADDR_MIN;
		err = rpw_mac_cfg_validate(&cfg, why);
		if (!err) {
			cfg.addr = node->cfg.addr;
			node->cfg = cfg;
		}
	}
	spin_unlock_bh(&node->lock);
	/* Any termios change gets here: restart the MAC only for a new rate. */
	if (!up || same)
		return err;
	err = rpw_node_apply(node, &p, true, &extack);
	if (err)
		*why = extack._msg ?: "configuration rejected";
	return err;
}
EXPORT_SYMBOL_GPL(rpw_node_set_baud);

static void rpw_node_release(struct kref *ref)
{
	struct rpw_node *node = container_of(ref, struct rpw_node, ref);

	kvfree(node->mac);
	kfree_rcu(node, rcu);
}

void rpw_node_put(struct rpw_node *node)
{
	kref_put(&node->ref, rpw_node_release);
}
EXPORT_SYMBOL_GPL(rpw_node_put);

void rpw_node_destroy(struct rpw_node *node)
{
	bool announced;

	mutex_lock(&rpw_nodes_mutex);
	xa_erase(&rpw_nodes, node->id);
	mutex_unlock(&rpw_nodes_mutex);

	spin_lock_bh(&node->lock);
	if (node->mac_up)
		rpw_node_stop_protos(node, rpw_now());
	node->dead = true;
	/* Only configured nodes were announced (rpw_node_configure()). */
	announced = node->mac_up;
	if (node->mac_up)
		rpw_mac_cancel_all(node->mac, rpw_now());
	node->timer_at = RPW_MAC_TIMER_OFF;
	spin_unlock_bh(&node->lock);
	/* dead is set: the callbacks cannot re-arm the timers any more. */
	hrtimer_cancel(&node->timer);
	rpw_node_detach(node);
	rpw_node_auth_free(node);

	if (announced)
		rpw_notify_node_change(node, true);
	rpw_node_put(node);
}
EXPORT_SYMBOL_GPL(rpw_node_destroy);

struct rpw_node *rpw_node_get_by_id(u32 id)
{
	struct rpw_node *node;

	rcu_read_lock();
	node = xa_load(&rpw_nodes, id);
	if (node && !kref_get_unless_zero(&node->ref))
		node = NULL;
	rcu_read_unlock();
	return node;
}

/* Iterate for dumps: returns a referenced node with id >= *index, or NULL. */
struct rpw_node *rpw_node_next(unsigned long *index)
{
	struct rpw_node *node;

	rcu_read_lock();
	for (;;) {
		node = xa_find(&rpw_nodes, index, ULONG_MAX, XA_PRESENT);
		if (!node || kref_get_unless_zero(&node->ref))
			break;
		(*index)++;
	}
	rcu_read_unlock();
	return node;
}

void rpw_node_withdraw_later(struct rpw_node *node,
			     const struct rpw_proto_ops *ops)
{
	int i;

	lockdep_assert_held(&node->lock);
	for (i = 0; i < RPW_PROTOS; i++)
		if (rpw_protos[i] == ops && ops->withdraw)
			__set_bit(i, &node->withdraw);
}

/* A protocol's own frame (queued by rpw_node_queue_locked()) it withdraws. */
static bool rpw_node_withdraw_match(const struct rpw_mac_txreq *req, void *arg)
{
	const struct rpw_tx *tx = container_of(req, struct rpw_tx, req);
	int i = rpw_proto_slot_of(req->frame.type);

	return tx->internal && i >= 0 && test_bit(i, arg) &&
	       rpw_protos[i]->withdraw(&req->frame);
}

void rpw_node_withdraw_locked(struct rpw_node *node)
{
	unsigned long pending = node->withdraw;

	lockdep_assert_held(&node->lock);
	if (!pending)
		return;
	node->withdraw = 0;
	if (node->mac_up)
		rpw_mac_cancel_if(node->mac, rpw_node_withdraw_match, &pending,
				  rpw_now());
}

struct rpw_node_renew {
	const struct rpw_proto_ops *ops;
};

static bool rpw_node_renew_match(const struct rpw_mac_txreq *req, void *arg)
{
	const struct rpw_tx *tx = container_of(req, struct rpw_tx, req);
	const struct rpw_node_renew *r = arg;
	int i = rpw_proto_slot_of(req->frame.type);

	return tx->internal && i >= 0 && rpw_protos[i] == r->ops &&
	       r->ops->withdraw && r->ops->withdraw(&req->frame);
}

unsigned int rpw_node_renew_locked(struct rpw_node *node,
				   const struct rpw_proto_ops *ops,
				   u64 expires_ns)
{
	struct rpw_node_renew r = { .ops = ops };

	lockdep_assert_held(&node->lock);
	if (!node->mac_up)
		return 0;
	return rpw_mac_expiry_if(node->mac, rpw_node_renew_match, &r,
				 expires_ns, rpw_now());
}

/* Bytes read back from the line, our own echo included. */
void rpw_node_rx(struct rpw_node *node, const u8 *buf, size_t len)
{
	rpw_node_rx_at(node, buf, len, rpw_now());
}
EXPORT_SYMBOL_GPL(rpw_node_rx);

/*
 * Same, with the time the bytes were on the line.  The simulated bus hands
 * one batch to every node in turn; stamped each with its own delivery time
 * (a TCG guest took milliseconds per dozen modules), the modules disagreed
 * on where the slots were and collided.  Never earlier than the last byte
 * the MAC saw.
 */
void rpw_node_rx_at(struct rpw_node *node, const u8 *buf, size_t len, u64 at)
{
	spin_lock_bh(&node->lock);
	if (!node->dead && node->mac_up && !node->frozen) {
		rpw_mac_rx_bytes(node->mac, buf, len,
				 max_t(u64, at, node->mac->t_last));
		rpw_node_withdraw_locked(node);
	}
	spin_unlock_bh(&node->lock);
}
EXPORT_SYMBOL_GPL(rpw_node_rx_at);

/*
 * Test knob: a frozen node behaves like a stalled module.  It neither
 * receives (bytes are lost, as in an overrun UART FIFO) nor acts on its
 * timer; on thaw it catches up with whatever its timers say.
 */
void rpw_node_set_frozen(struct rpw_node *node, bool frozen)
{
	int i;

	spin_lock_bh(&node->lock);
	node->frozen = frozen;
	if (!frozen && !node->dead && node->mac_up &&
	    node->timer_at != RPW_MAC_TIMER_OFF)
		hrtimer_start(&node->timer, ns_to_ktime(node->timer_at),
			      HRTIMER_MODE_ABS_SOFT);
	for (i = 0; i < RPW_PROTOS; i++)
		if (!frozen && !node->dead && node->proto[i].priv &&
		    node->proto[i].timer_at != RPW_TIMER_OFF)
			rpw_slot_timer_start(&node->proto[i]);
	spin_unlock_bh(&node->lock);
}
EXPORT_SYMBOL_GPL(rpw_node_set_frozen);

/*
 * Queue @f in the MAC's queue room of class @cls and wait up to @timeout
 * jiffies for its result.  The request is reference counted, so giving up
 * early (timeout, fatal signal) is safe while the MAC still holds it.
 */
int rpw_node_send(struct rpw_node *node, const struct rpw_frame *f,
		  enum rpw_mac_class cls, unsigned long timeout)
{
	struct rpw_tx *tx;
	long left;
	int err;

	tx = kzalloc(sizeof(*tx), GFP_KERNEL);
	if (!tx)
		return -ENOMEM;
	tx->req.frame = *f;
	tx->req.cls = cls;
	refcount_set(&tx->ref, 2);
	init_completion(&tx->done);

	spin_lock_bh(&node->lock);
	if (node->dead)
		err = -ENODEV;
	else if (!node->mac_up)
		err = -ENETDOWN;
	else
		err = rpw_mac_submit(node->mac, &tx->req, rpw_now());
	spin_unlock_bh(&node->lock);
	if (err) {
		kfree(tx);
		return err;
	}

	left = wait_for_completion_killable_timeout(&tx->done, timeout);
	if (left > 0) {
		err = tx->result;
	} else {
		/* Withdraw it, unless it is on the line right now. */
		spin_lock_bh(&node->lock);
		err = node->mac_up && !node->dead ?
		      rpw_mac_cancel(node->mac, &tx->req, rpw_now()) : -ENOENT;
		spin_unlock_bh(&node->lock);
		if (err == -ENOENT) {
			/* It completed just now. */
			wait_for_completion(&tx->done);
			err = tx->result;
		} else if (err == -EBUSY) {
			/* On the line: give it its retries, then report unknown. */
			left = wait_for_completion_killable_timeout(&tx->done,
								    timeout);
			err = left > 0 ? tx->result : -ETIMEDOUT;
		} else {
			err = left ? (int)left : -ETIME;
		}
	}
	rpw_tx_put(tx);
	return err;
}

/*
 * How long a sender may wait: every attempt may wait the worst-case
 * access delay for the modules heard so far, then an ACK timeout; and
 * every attempt, plus two collisions, may cost a full address sweep (a
 * bad frame on the line restarts arbitration with one).
 */
unsigned long rpw_node_send_timeout(struct rpw_node *node)
{
	unsigned int n = rpw_node_peer_count(node) + 1;
	struct rpw_mac_cfg cfg;
	u32 slots;
	u64 ns, sweep;

	rpw_node_snapshot(node, &cfg, NULL, NULL, NULL);
	ns = rpw_mac_access_bound_ns(&cfg, max_t(unsigned int, n, 2),
				     RPW_MAX_WIRE, true, NSEC_PER_MSEC);
	slots = cfg.max_addr;
	if (cfg.prio_period)
		slots += slots / cfg.prio_period + 1;
	sweep = (cfg.t_ifs_us + (u64)slots * cfg.t_slot_us) * NSEC_PER_USEC;
	ns = (ns + (u64)cfg.ack_timeout_us * NSEC_PER_USEC + sweep) *
	     (cfg.max_retries + 1) + 2 * sweep + NSEC_PER_SEC;
	return nsecs_to_jiffies(min_t(u64, ns, 60 * NSEC_PER_SEC));
}

/* Modules this node has heard on its bus. */
unsigned int rpw_node_peer_count(struct rpw_node *node)
{
	unsigned int n = 0;
	int a = 0;

	spin_lock_bh(&node->lock);
	while (node->mac_up && (a = rpw_mac_peer_next(node->mac, a)) >= 0) {
		if (a != node->cfg.addr)	/* our own echo marks us heard */
			n++;
		a++;
	}
	spin_unlock_bh(&node->lock);
	return n;
}

/*
 * For dumps: the first module heard at or above @addr (this node's own
 * address excluded, though the MAC counts it in the rotation) and a copy
 * of what the MAC knows of it; -ENOENT at the end.
 */
int rpw_node_peer_next(struct rpw_node *node, int addr,
		       struct rpw_mac_peer *out)
{
	spin_lock_bh(&node->lock);
	for (;;) {
		addr = node->mac_up ? rpw_mac_peer_next(node->mac, addr) :
				      -ENOENT;
		if (addr != node->cfg.addr)
			break;
		addr++;
	}
	if (addr >= 0)
		*out = *rpw_mac_peer(node->mac, addr);
	spin_unlock_bh(&node->lock);
	return addr;
}

void rpw_node_snapshot(struct rpw_node *node, struct rpw_mac_cfg *cfg,
		       u8 *role, bool *up, struct rpw_mac_stats *stats)
{
	spin_lock_bh(&node->lock);
	if (cfg)
		*cfg = node->cfg;
	if (role)
		*role = node->role;
	if (up)
		*up = node->mac_up;
	if (stats && node->mac_up)
		*stats = node->mac->stats;
	else if (stats)
		memset(stats, 0, sizeof(*stats));
	spin_unlock_bh(&node->lock);
}

/*
 * What the MAC measured of the line, and the timing its budget gives at
 * the node's baud (rackpwr-mac.rst, "Timing from the line"): reported,
 * not applied.  False while the MAC is down.
 */
bool rpw_node_line(struct rpw_node *node, struct rpw_node_line *out)
{
	struct rpw_mac_cfg cfg;
	bool up;

	memset(out, 0, sizeof(*out));
	spin_lock_bh(&node->lock);
	up = node->mac_up;
	if (up)
		rpw_mac_latency(node->mac, &out->lat);
	cfg = node->cfg;
	spin_unlock_bh(&node->lock);
	if (up && out->lat.samples >= RPW_MAC_LAT_MIN) {
		rpw_mac_cfg_for_latency(&cfg, out->lat.budget_us);
		out->t_slot_us = cfg.t_slot_us;
		out->t_ifs_us = cfg.t_ifs_us;
	}
	return up;
}

void rpw_txbuf_init(struct rpw_txbuf *tb)
{
	spin_lock_init(&tb->lock);
	tb->head = 0;
	tb->len = 0;
	tb->held = false;
	tb->flush_gen = 0;
}

static size_t rpw_txbuf_push_locked(struct rpw_txbuf *tb, rpw_txbuf_out_t out,
				    void *ctx)
{
	int n;

	lockdep_assert_held(&tb->lock);
	if (!tb->len || tb->held)
		return tb->len;
	n = out(ctx, tb->buf + tb->head, tb->len);
	if (n > 0) {
		tb->head += n;
		tb->len -= n;
		if (!tb->len)
			tb->head = 0;
	}
	return tb->len;
}

size_t rpw_txbuf_write(struct rpw_txbuf *tb, const u8 *buf, size_t len,
		       rpw_txbuf_out_t out, void *ctx)
{
	unsigned long flags;
	size_t left;

	spin_lock_irqsave(&tb->lock, flags);
	if (tb->head + tb->len + len > sizeof(tb->buf)) {
		memmove(tb->buf, tb->buf + tb->head, tb->len);
		tb->head = 0;
	}
	if (tb->len + len > sizeof(tb->buf)) {
		/* Dropped whole: the MAC sees no echo and tries again. */
		tb->overflow++;
	} else {
		memcpy(tb->buf + tb->head + tb->len, buf, len);
		tb->len += len;
	}
	left = rpw_txbuf_push_locked(tb, out, ctx);
	spin_unlock_irqrestore(&tb->lock, flags);
	return left;
}

size_t rpw_txbuf_push(struct rpw_txbuf *tb, rpw_txbuf_out_t out, void *ctx)
{
	unsigned long flags;
	size_t left;

	spin_lock_irqsave(&tb->lock, flags);
	left = rpw_txbuf_push_locked(tb, out, ctx);
	spin_unlock_irqrestore(&tb->lock, flags);
	return left;
}

void rpw_txbuf_abort(struct rpw_txbuf *tb)
{
	unsigned long flags;

	spin_lock_irqsave(&tb->lock, flags);
	tb->head = 0;
	tb->len = 0;
	tb->held = true;
	tb->flush_gen++;
	spin_unlock_irqrestore(&tb->lock, flags);
}

unsigned int rpw_txbuf_flush_gen(struct rpw_txbuf *tb)
{
	unsigned long flags;
	unsigned int gen;

	spin_lock_irqsave(&tb->lock, flags);
	gen = tb->flush_gen;
	spin_unlock_irqrestore(&tb->lock, flags);
	return gen;
}

size_t rpw_txbuf_flushed(struct rpw_txbuf *tb, unsigned int gen,
			 rpw_txbuf_out_t out, void *ctx)
{
	unsigned long flags;
	size_t left;

	spin_lock_irqsave(&tb->lock, flags);
	if (gen == tb->flush_gen)
		tb->held = false;
	left = rpw_txbuf_push_locked(tb, out, ctx);
	spin_unlock_irqrestore(&tb->lock, flags);
	return left;
}

int rpw_kind_register(u32 kind, const struct rpw_kind_ops *ops)
{
	int err = 0;

	if (kind >= ARRAY_SIZE(rpw_kinds))
		return -EINVAL;
	mutex_lock(&rpw_nodes_mutex);
	if (rpw_kinds[kind])
		err = -EBUSY;
	else
		rpw_kinds[kind] = ops;
	mutex_unlock(&rpw_nodes_mutex);
	return err;
}
EXPORT_SYMBOL_GPL(rpw_kind_register);

void rpw_kind_unregister(u32 kind)
{
	mutex_lock(&rpw_nodes_mutex);
	rpw_kinds[kind] = NULL;
	mutex_unlock(&rpw_nodes_mutex);
}
EXPORT_SYMBOL_GPL(rpw_kind_unregister);

static const struct rpw_kind_ops *rpw_kind_get(u32 kind)
{
	const struct rpw_kind_ops *ops = NULL;

	mutex_lock(&rpw_nodes_mutex);
	if (kind < ARRAY_SIZE(rpw_kinds) && rpw_kinds[kind] &&
	    try_module_get(rpw_kinds[kind]->owner))
		ops = rpw_kinds[kind];
	mutex_unlock(&rpw_nodes_mutex);
	return ops;
}

struct rpw_node *rpw_kind_create(u32 kind, u32 bus,
				 struct netlink_ext_ack *extack)
{
	const struct rpw_kind_ops *ops = rpw_kind_get(kind);
	struct rpw_node *node;

	if (!ops) {
		NL_SET_ERR_MSG_MOD(extack,
				   "this kind of node cannot be created here (is rackpwr_sim loaded?)");
		return ERR_PTR(-EOPNOTSUPP);
	}
	node = ops->create(bus, extack);
	module_put(ops->owner);
	return node;
}

int rpw_kind_destroy(struct rpw_node *node, struct netlink_ext_ack *extack)
{
	const struct rpw_kind_ops *ops = rpw_kind_get(node->kind);

	if (!ops) {
		NL_SET_ERR_MSG_MOD(extack,
				   "node goes away with its port; detach the line discipline or unbind");
		return -EOPNOTSUPP;
	}
	ops->destroy(node);
	module_put(ops->owner);
	return 0;
}

void rpw_core_exit(void)
{
	/* Transports are gone, so are their nodes; sim nodes hold a module ref. */
	WARN_ON(!xa_empty(&rpw_nodes));
	rcu_barrier();	/* kfree_rcu of the last nodes */
}
