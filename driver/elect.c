// SPDX-License-Identifier: GPL-2.0-only
/*
 * rackpwr - primary election: kernel glue around the pure state machine
 * (rpw_elect.c).
 *
 * Registers with the core for the election's frame range (0x1_).  The core
 * hands over received election frames, the results of the election's own
 * frames and its timer, all under the node lock; the glue queues frames
 * through the core, logs and reports events, and after every call into
 * the state machine publishes who leads (struct rpw_leader) so other
 * protocols learn of role and epoch changes without reading the election.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "rackpwr.h"

static unsigned int rack_modules = 8;
module_param(rack_modules, uint, 0644);
MODULE_PARM_DESC(rack_modules,
		 "modules assumed to share the bus when deriving the election's worst-case access delay without urgent access (prio-period 0; 2..254)");

static unsigned int elect_tol_us = 5000;
module_param(elect_tol_us, uint, 0644);
MODULE_PARM_DESC(elect_tol_us,
		 "worst timer/scheduling lateness the election tolerates, in microseconds");

static unsigned int elect_tol_max_us = 320000;
module_param(elect_tol_max_us, uint, 0644);
MODULE_PARM_DESC(elect_tol_max_us,
		 "the election raises its tolerance from the lateness it measures up to this, in microseconds (0: elect_tol_us is fixed)");

/* A node's election; every field under the node lock. */
struct rpw_elect_node {
	struct rpw_elect e;
	struct rpw_node *node;
	bool inited;		/* configured at least once */
	bool running;		/* between start and stop */
};

static const struct rpw_proto_ops rpw_elect_proto;

/*
 * Election timers follow the bus: rpw_elect_cfg_build() derives them from
 * the MAC's configuration (rackpwr-election.rst, "Timers").
 */
static int rpw_elect_node_cfg(struct rpw_elect_cfg *ec,
			      const struct rpw_node_setup *su, const char **why)
{
	const struct rpw_elect_params p = {
		.role = su->role,
		.miss = su->miss,
		.hb_us = su->hb_us,
		.bus_delay_us = su->bus_delay_us,
		.rack_modules = rack_modules,
		.tol_us = elect_tol_us,
		.tol_max_us = elect_tol_max_us ?
			      max(elect_tol_max_us, elect_tol_us) : 0,
		.rx_lat_ns = su->profile == RPW_MAC_PROFILE_UART ?
			     NSEC_PER_MSEC : 0,
	};

	return rpw_elect_cfg_build(ec, &su->cfg, &p, why);
}

/* Node lock held: tell the core (and so the other protocols) who leads. */
static void rpw_elect_publish(struct rpw_elect_node *en, u64 now)
{
	struct rpw_leader l = {
		.epoch = rpw_elect_epoch(&en->e),
		.primary = rpw_elect_primary(&en->e),
		.state = rpw_elect_state(&en->e),
		.acting = rpw_elect_is_primary(&en->e, now),
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(l.lease_start); i++)
		rpw_elect_lease(&en->e, i, &l.lease_start[i], &l.lease_end[i]);
	rpw_node_set_leader(en->node, &l);
}

/* Callbacks of the state machine: all run with the node lock held. */

static int rpw_elect_cb_send(void *ctx, const struct rpw_frame *f,
			     enum rpw_elect_prio prio, u64 ttl_ns)
{
	struct rpw_elect_node *en = ctx;
	const struct rpw_txopts o = {
		.cls = RPW_MAC_CLASS_ELECT,
		/* Acks name the claim they confirm by seq: keep the election's. */
		.keep_seq = true,
		.urgent = prio != RPW_ELECT_PRIO_NORMAL,
		.defer = prio == RPW_ELECT_PRIO_DEFER,
		.ahead = rpw_elect_claim(f),
		.answered = rpw_elect_answered(f),
		.ttl_ns = ttl_ns,
	};

	int err;

	err = rpw_node_queue_locked(en->node, f, &o);
	/* Counted by the election, which retries claims (rpw_elect.h). */
	if (err && err != -ENETDOWN)
		pr_warn_ratelimited("%s: election: frame 0x%02x not queued: %d\n",
				    en->node->name, f->type, err);
	return err;
}

static void rpw_elect_cb_timer(void *ctx, u64 expires)
{
	struct rpw_elect_node *en = ctx;

	rpw_node_proto_timer(en->node, &rpw_elect_proto, expires);
}

static void rpw_elect_cb_event(void *ctx, enum rpw_elect_event ev, u8 addr,
			       u32 epoch)
{
	struct rpw_elect_node *en = ctx;
	struct rpw_node *node = en->node;
	u32 state = rpw_elect_state(&en->e);

	switch (ev) {
	case RPW_EV_LEASE_OK:
	case RPW_EV_EPOCH_CHANGED:
		break;	/* frequent and expected: netlink only */
	case RPW_EV_DUP_ADDR:
	case RPW_EV_CONFLICT:
	case RPW_EV_LEASE_LOST:
	case RPW_EV_STALL:
		pr_warn_ratelimited("%s: election: %s (addr %u, epoch %u.%u)\n",
				    node->name, rpw_elect_event_name(ev), addr,
				    RPW_EPOCH_TERM(epoch),
				    RPW_EPOCH_OWNER(epoch));
		break;
	default:
		pr_info_ratelimited("%s: election: %s (addr %u, epoch %u.%u)\n",
				    node->name, rpw_elect_event_name(ev), addr,
				    RPW_EPOCH_TERM(epoch),
				    RPW_EPOCH_OWNER(epoch));
		break;
	}
	/*
	 * Our claims still queued are stale now: withdrawn after the call.
	 * After a simultaneous start the losers' queued claims trickled out
	 * for a second and each one fenced the winner for a lease.
	 */
	if (ev == RPW_EV_DEMOTED ||
	    (ev == RPW_EV_STEP_DOWN && addr == node->cfg.addr))
		rpw_node_withdraw_later(node, &rpw_elect_proto);
	rpw_notify_elect(node, ev, addr, epoch, state);
}

static const struct rpw_elect_ops rpw_elect_cb = {
	.send = rpw_elect_cb_send,
	.timer = rpw_elect_cb_timer,
	.event = rpw_elect_cb_event,
};

/* Protocol callbacks (struct rpw_proto_ops). */

static int rpw_elect_check(const struct rpw_node_setup *su, const char **why)
{
	struct rpw_elect_cfg ec;

	return rpw_elect_node_cfg(&ec, su, why);
}

static int rpw_elect_attach(struct rpw_node *node, void **priv)
{
	struct rpw_elect_node *en = kzalloc(sizeof(*en), GFP_KERNEL);

	if (!en)
		return -ENOMEM;
	en->node = node;
	*priv = en;
	return 0;
}

static void rpw_elect_detach(struct rpw_node *node, void *priv)
{
	kfree(priv);
}

/* A (re)configured module rejoins as secondary. */
static void rpw_elect_start_node(struct rpw_node *node, void *priv,
				 const struct rpw_node_setup *su, u64 now)
{
	struct rpw_elect_node *en = priv;
	struct rpw_elect_cfg ec;

	lockdep_assert_held(&node->lock);
	/* check() accepted the same setup under the same lock. */
	if (WARN_ON_ONCE(rpw_elect_node_cfg(&ec, su, NULL) ||
			 rpw_elect_init(&en->e, &ec, &rpw_elect_cb, en)))
		return;
	en->inited = true;
	en->running = true;
	rpw_elect_start(&en->e, now);
	rpw_elect_publish(en, now);
}

static void rpw_elect_stop_node(struct rpw_node *node, void *priv, u64 now)
{
	struct rpw_elect_node *en = priv;

	lockdep_assert_held(&node->lock);
	if (!en->running)
		return;
	rpw_elect_stop(&en->e, now);
	en->running = false;
	rpw_elect_publish(en, now);
}

static void rpw_elect_rx_node(struct rpw_node *node, void *priv,
			      const struct rpw_frame *f, u64 now)
{
	struct rpw_elect_node *en = priv;

	lockdep_assert_held(&node->lock);
	if (!en->running)
		return;
	rpw_elect_rx(&en->e, f, now);
	rpw_elect_publish(en, now);
}

static void rpw_elect_tx_done_node(struct rpw_node *node, void *priv,
				   const struct rpw_frame *f, bool ok, u64 now)
{
	struct rpw_elect_node *en = priv;

	lockdep_assert_held(&node->lock);
	if (!en->running)
		return;
	rpw_elect_tx_done(&en->e, f, ok, now);
	rpw_elect_publish(en, now);
}

static void rpw_elect_timer_node(struct rpw_node *node, void *priv, u64 now)
{
	struct rpw_elect_node *en = priv;

	u64 tol = en->e.cfg.tol_ns;

	lockdep_assert_held(&node->lock);
	if (!en->running)
		return;
	rpw_elect_timer_expired(&en->e, now);
	if (en->e.cfg.tol_ns != tol)
		pr_info_ratelimited("%s: election: tolerance %llu -> %llu ms (timers up to %llu ms late), heartbeat %llu ms, detection %llu ms\n",
				    node->name, div_u64(tol, NSEC_PER_MSEC),
				    div_u64(en->e.cfg.tol_ns, NSEC_PER_MSEC),
				    div_u64(rpw_elect_lateness(&en->e),
					    NSEC_PER_MSEC),
				    div_u64(en->e.cfg.hb_ns, NSEC_PER_MSEC),
				    div_u64(en->e.cfg.detect_ns,
					    NSEC_PER_MSEC));
	rpw_elect_publish(en, now);
}

static const struct rpw_proto_ops rpw_elect_proto = {
	.name = "election",
	.range = RPW_T_RANGE(RPW_T_WHO_PRIMARY),
	.attach = rpw_elect_attach,
	.detach = rpw_elect_detach,
	.check = rpw_elect_check,
	.start = rpw_elect_start_node,
	.stop = rpw_elect_stop_node,
	.rx = rpw_elect_rx_node,
	.tx_done = rpw_elect_tx_done_node,
	.timer = rpw_elect_timer_node,
	/* A demoted module withdraws its claims not yet on the line. */
	.withdraw = rpw_elect_claim,
};

/* Accessors for netlink. */

void rpw_node_elect_view(struct rpw_node *node, struct rpw_elect_view *v)
{
	struct rpw_elect_node *en;

	memset(v, 0, sizeof(*v));
	spin_lock_bh(&node->lock);
	en = rpw_node_priv(node, &rpw_elect_proto);
	if (en && en->inited) {
		v->up = true;
		v->state = rpw_elect_state(&en->e);
		v->primary = rpw_elect_primary(&en->e);
		v->epoch = rpw_elect_epoch(&en->e);
		v->acting = rpw_elect_is_primary(&en->e, ktime_get_ns());
		v->cfg = en->e.cfg;
		v->tx_refused = rpw_elect_stats(&en->e)->tx_refused;
		v->rx_unearned = rpw_elect_stats(&en->e)->rx_unearned;
		v->rejoins = rpw_elect_stats(&en->e)->rejoins;
		v->late_ns = rpw_elect_lateness(&en->e);
	}
	spin_unlock_bh(&node->lock);
}

void rpw_node_elect_members(struct rpw_node *node, unsigned long *map,
			    unsigned int nbits)
{
	struct rpw_elect_node *en;
	unsigned int a;

	bitmap_zero(map, nbits);
	spin_lock_bh(&node->lock);
	en = rpw_node_priv(node, &rpw_elect_proto);
	for (a = 0; en && en->inited && a < nbits; a++)
		if (rpw_elect_member(&en->e, a))
			__set_bit(a, map);
	spin_unlock_bh(&node->lock);
}

u64 rpw_node_primary_lease_locked(struct rpw_node *node)
{
	struct rpw_elect_node *en;

	lockdep_assert_held(&node->lock);
	en = rpw_node_priv(node, &rpw_elect_proto);
	return en && en->inited ? rpw_elect_primary_lease(&en->e) : 0;
}

int rpw_node_step_down(struct rpw_node *node, struct netlink_ext_ack *extack)
{
	struct rpw_elect_node *en;
	int err = -EINVAL;
	u64 now;

	spin_lock_bh(&node->lock);
	en = rpw_node_priv(node, &rpw_elect_proto);
	if (en && en->running && !node->dead) {
		now = ktime_get_ns();
		err = rpw_elect_step_down(&en->e, now);
		rpw_elect_publish(en, now);
		rpw_node_withdraw_locked(node);
	}
	spin_unlock_bh(&node->lock);
	if (err)
		NL_SET_ERR_MSG_MOD(extack, "node is not the primary");
	return err ? -EINVAL : 0;
}

int __init rpw_elect_proto_init(void)
{
	/* The uapi enums mirror the state machine's. */
	BUILD_BUG_ON((int)RACKPWR_ELECT_STATE_PRIMARY != (int)RPW_ES_PRIMARY);
	BUILD_BUG_ON((int)RACKPWR_ELECT_STATE_STOPPED != (int)RPW_ES_STOPPED);
	BUILD_BUG_ON((int)RACKPWR_ELECT_EVENT_PROMOTED != (int)RPW_EV_PROMOTED);
	BUILD_BUG_ON((int)RACKPWR_ELECT_EVENT_STEP_DOWN != (int)RPW_EV_STEP_DOWN);
	BUILD_BUG_ON(RPW_ELECT_NO_TIMER != RPW_TIMER_OFF);

	return rpw_proto_register(&rpw_elect_proto);
}

void rpw_elect_proto_exit(void)
{
	rpw_proto_unregister(&rpw_elect_proto);
}
