// SPDX-License-Identifier: GPL-2.0-only
/*
 * rackpwr - protocol core: bus nodes, their MAC instances and timers.
 *
 * A node is one attachment to the RS-485 bus (a tty with the line
 * discipline, a serdev device, or a simulated bus node).  Transports only
 * move bytes; the core runs the pure MAC (driver/rpw_mac.c) for each node
 * under the node's spinlock, drives its single hrtimer and reports frames
 * and events to netlink.
 *
 * Lifetime: nodes live in an xarray indexed by id.  Lookups take a kref
 * under RCU; rpw_node_destroy() unlinks the node, stops the MAC (pending
 * senders get -ECANCELED), cancels the timer and drops the creation
 * reference.  The transport must not feed bytes after destroy returns.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "psu.h"
#include "rackpwr.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

static DEFINE_XARRAY_ALLOC1(rpw_nodes);
/* Serialises node creation/destruction and the kind registry. */
static DEFINE_MUTEX(rpw_nodes_mutex);
static const struct rpw_kind_ops *rpw_kinds[RACKPWR_KIND_SERDEV + 1];

static u64 rpw_now(void)
{
	return ktime_get_ns();
}

/* MAC callbacks: all run with node->lock held. */

static void rpw_mac_cb_tx(void *ctx, const u8 *buf, size_t len)
{
	struct rpw_node *node = ctx;

	node->tops->write(node, buf, len);
}

static void rpw_mac_cb_tx_abort(void *ctx)
{
	struct rpw_node *node = ctx;

	if (node->tops->flush)
		node->tops->flush(node);
}

static void rpw_mac_cb_rx(void *ctx, const struct rpw_frame *f)
{
	struct rpw_node *node = ctx;

	switch (f->type) {
	case RPW_T_DATA:
	case RPW_T_TEST:
		rpw_nl_frame_rx(node, f);
		break;
	default:
		/* Election, capacity and power frames: consumers not loaded. */
		break;
	}
}

static void rpw_tx_put(struct rpw_tx *tx)
{
	if (refcount_dec_and_test(&tx->ref))
		kfree(tx);
}

static void rpw_mac_cb_done(void *ctx, struct rpw_mac_txreq *req, int result)
{
	struct rpw_tx *tx = container_of(req, struct rpw_tx, req);

	tx->result = result;
	complete(&tx->done);
	rpw_tx_put(tx);
}

static void rpw_mac_cb_timer(void *ctx, u64 expires)
{
	struct rpw_node *node = ctx;

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

	switch (ev) {
	case RPW_MAC_EV_TX:
		trace_rackpwr_frame_tx(node->id, f);
		break;
	case RPW_MAC_EV_RX:
		trace_rackpwr_frame_rx(node->id, f);
		peer = rpw_mac_peer(node->mac, f->src);
		if (peer && peer->rx_frames == 1)
			rpw_nl_bus_event(node, RACKPWR_EVENT_PEER_NEW, f->src);
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
		rpw_nl_bus_event(node, RACKPWR_EVENT_DUP_ADDR, node->cfg.addr);
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
};

static enum hrtimer_restart rpw_node_timer_fn(struct hrtimer *t)
{
	struct rpw_node *node = container_of(t, struct rpw_node, timer);
	u64 now;

	spin_lock_bh(&node->lock);
	if (node->dead || !node->mac_up || node->frozen ||
	    node->timer_at == RPW_MAC_TIMER_OFF)
		goto out;
	now = rpw_now();
	if (now < node->timer_at)
		hrtimer_start(&node->timer, ns_to_ktime(node->timer_at),
			      HRTIMER_MODE_ABS_SOFT);
	else
		rpw_mac_timer_expired(node->mac, now);
out:
	spin_unlock_bh(&node->lock);
	return HRTIMER_NORESTART;
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
	node->mac = kzalloc(sizeof(*node->mac), GFP_KERNEL);
	if (!node->mac) {
		kfree(node);
		return ERR_PTR(-ENOMEM);
	}
	kref_init(&node->ref);
	spin_lock_init(&node->lock);
	hrtimer_init(&node->timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_SOFT);
	node->timer.function = rpw_node_timer_fn;
	node->timer_at = RPW_MAC_TIMER_OFF;
	node->kind = kind;
	node->bus = bus;
	node->profile = profile;
	node->tops = tops;
	node->priv = priv;
	node->role = RACKPWR_ROLE_CHASSIS;
	/* Address 0: the node is inert until configured. */
	rpw_mac_cfg_default(&node->cfg, profile, RPW_ADDR_MIN, 115200);
	node->cfg.addr = RPW_ADDR_NONE;

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
		kfree(node->mac);
		kfree(node);
		return ERR_PTR(err);
	}
	rpw_nl_node_change(node, false);
	return node;
}
EXPORT_SYMBOL_GPL(rpw_node_create);

/*
 * Apply @p on top of the node's current configuration.  Everything is
 * validated before anything changes; a running MAC is restarted with the
 * new settings (frames in flight get -ECANCELED), counters are kept.
 */
int rpw_node_configure(struct rpw_node *node, const struct rpw_node_params *p,
		       struct netlink_ext_ack *extack)
{
	struct rpw_mac_cfg cfg, defaults;
	struct rpw_mac *mac, *old = NULL;
	const char *why;
	u8 addr;
	int err;

	mac = kzalloc(sizeof(*mac), GFP_KERNEL);
	if (!mac)
		return -ENOMEM;

	spin_lock_bh(&node->lock);
	cfg = node->cfg;
	addr = p->addr ?: cfg.addr;
	/* A new line rate rescales every timer that was not given. */
	if (p->baud && p->baud != cfg.baud) {
		rpw_mac_cfg_default(&defaults, node->profile, addr ?: 1,
				    p->baud);
		cfg.baud = p->baud;
		cfg.t_ifs_us = defaults.t_ifs_us;
		cfg.t_slot_us = defaults.t_slot_us;
		cfg.t_turnaround_us = defaults.t_turnaround_us;
		cfg.ack_timeout_us = defaults.ack_timeout_us;
	}
	cfg.addr = addr;
	if (p->t_ifs_us)
		cfg.t_ifs_us = p->t_ifs_us;
	if (p->t_slot_us)
		cfg.t_slot_us = p->t_slot_us;
	if (p->t_turnaround_us)
		cfg.t_turnaround_us = p->t_turnaround_us;
	if (p->ack_timeout_us)
		cfg.ack_timeout_us = p->ack_timeout_us;
	if (p->has_max_retries)
		cfg.max_retries = p->max_retries;

	if (!cfg.addr) {
		err = -EINVAL;
		NL_SET_ERR_MSG_MOD(extack, "node has no address; set one");
		goto unlock;
	}
	err = rpw_mac_cfg_validate(&cfg, &why);
	if (err) {
		/* The MAC's reasons are static strings. */
		if (extack)
			extack->_msg = why;
		goto unlock;
	}
	if (node->dead) {
		err = -ENODEV;
		goto unlock;
	}

	err = rpw_mac_init(mac, &cfg, &rpw_mac_cb, node, rpw_now());
	if (err) {
		NL_SET_ERR_MSG_MOD(extack, "MAC rejected the configuration");
		goto unlock;
	}
	if (node->mac_up) {
		/* Counters and the peer table survive a reconfiguration. */
		rpw_mac_cancel_all(node->mac, rpw_now());
		old = node->mac;
		mac->stats = old->stats;
		memcpy(mac->peers, old->peers, sizeof(mac->peers));
	}
	node->mac = mac;
	node->cfg = cfg;
	node->mac_up = true;
	if (p->role)
		node->role = p->role;
	mac = old;
unlock:
	spin_unlock_bh(&node->lock);
	kfree(mac);
	if (!err)
		rpw_nl_node_change(node, false);
	return err;
}
EXPORT_SYMBOL_GPL(rpw_node_configure);

static void rpw_node_release(struct kref *ref)
{
	struct rpw_node *node = container_of(ref, struct rpw_node, ref);

	kfree(node->mac);
	kfree_rcu(node, rcu);
}

void rpw_node_put(struct rpw_node *node)
{
	kref_put(&node->ref, rpw_node_release);
}
EXPORT_SYMBOL_GPL(rpw_node_put);

void rpw_node_destroy(struct rpw_node *node)
{
	mutex_lock(&rpw_nodes_mutex);
	xa_erase(&rpw_nodes, node->id);
	mutex_unlock(&rpw_nodes_mutex);

	spin_lock_bh(&node->lock);
	node->dead = true;
	if (node->mac_up)
		rpw_mac_cancel_all(node->mac, rpw_now());
	node->timer_at = RPW_MAC_TIMER_OFF;
	spin_unlock_bh(&node->lock);
	/* dead is set: the callback cannot re-arm the timer any more. */
	hrtimer_cancel(&node->timer);

	rpw_nl_node_change(node, true);
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

/* Bytes read back from the line, our own echo included. */
void rpw_node_rx(struct rpw_node *node, const u8 *buf, size_t len)
{
	spin_lock_bh(&node->lock);
	if (!node->dead && node->mac_up && !node->frozen)
		rpw_mac_rx_bytes(node->mac, buf, len, rpw_now());
	spin_unlock_bh(&node->lock);
}
EXPORT_SYMBOL_GPL(rpw_node_rx);

/*
 * Test knob: a frozen node behaves like a stalled module.  It neither
 * receives (bytes are lost, as in an overrun UART FIFO) nor acts on its
 * timer; on thaw it catches up with whatever its timers say.
 */
void rpw_node_set_frozen(struct rpw_node *node, bool frozen)
{
	spin_lock_bh(&node->lock);
	node->frozen = frozen;
	if (!frozen && !node->dead && node->mac_up &&
	    node->timer_at != RPW_MAC_TIMER_OFF)
		hrtimer_start(&node->timer, ns_to_ktime(node->timer_at),
			      HRTIMER_MODE_ABS_SOFT);
	spin_unlock_bh(&node->lock);
}
EXPORT_SYMBOL_GPL(rpw_node_set_frozen);

/*
 * Queue @f and wait up to @timeout jiffies for its result.  The request is
 * reference counted, so giving up early (timeout, fatal signal) is safe
 * while the MAC still holds it.
 */
int rpw_node_send(struct rpw_node *node, const struct rpw_frame *f,
		  unsigned long timeout)
{
	struct rpw_tx *tx;
	long left;
	int err;

	tx = kzalloc(sizeof(*tx), GFP_KERNEL);
	if (!tx)
		return -ENOMEM;
	tx->req.frame = *f;
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
	if (left > 0)
		err = tx->result;
	else
		err = left ? (int)left : -ETIMEDOUT;
	rpw_tx_put(tx);
	return err;
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
	if (stats)
		*stats = node->mac->stats;
	spin_unlock_bh(&node->lock);
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

static int __init rackpwr_init(void)
{
	int err;

	err = rpw_nl_init();
	if (err)
		return err;
	err = rpw_ldisc_init();
	if (err)
		goto err_nl;
	err = rpw_serdev_init();
	if (err)
		goto err_ldisc;
	err = rpw_psu_init();
	if (err)
		goto err_serdev;
	return 0;

err_serdev:
	rpw_serdev_exit();
err_ldisc:
	rpw_ldisc_exit();
err_nl:
	rpw_nl_exit();
	return err;
}

static void __exit rackpwr_exit(void)
{
	rpw_psu_exit();
	rpw_serdev_exit();
	rpw_ldisc_exit();
	rpw_nl_exit();
	/* Transports are gone, so are their nodes; sim nodes hold a module ref. */
	WARN_ON(!xa_empty(&rpw_nodes));
	rcu_barrier();	/* kfree_rcu of the last nodes */
}

module_init(rackpwr_init);
module_exit(rackpwr_exit);

MODULE_DESCRIPTION("Rack power management over a shared RS-485 bus");
MODULE_AUTHOR("rackpwr developers");
MODULE_LICENSE("GPL");
