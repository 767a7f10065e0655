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
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "psu.h"
#include "rackpwr.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

static unsigned int rack_modules = 8;
module_param(rack_modules, uint, 0644);
MODULE_PARM_DESC(rack_modules,
		 "modules assumed to share the bus when deriving the election's worst-case access delay without urgent access (prio-period 0; 2..254)");

static unsigned int elect_tol_us = 5000;
module_param(elect_tol_us, uint, 0644);
MODULE_PARM_DESC(elect_tol_us,
		 "worst timer/scheduling lateness the election tolerates, in microseconds");

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
	case RPW_T_CAP_QUERY:
	case RPW_T_CAP_REPORT:
		rpw_cap_node_rx(node, f);
		break;
	default:
		/* Election frames; power frames come with the agent's issue. */
		if (node->elect)
			rpw_elect_rx(node->elect, f, rpw_now());
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
	struct rpw_node *node = ctx;

	if (tx->internal) {
		if (node->elect && !node->dead)
			rpw_elect_tx_done(node->elect, &req->frame, !result,
					  rpw_now());
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

/* Election callbacks: all run with node->lock held. */

/*
 * Queue a frame of the core's own (election, capacity) with the node lock
 * held; nobody waits for it, the done callback frees it.
 */
static int rpw_node_queue_prio(struct rpw_node *node, const struct rpw_frame *f,
			       bool keep_seq, enum rpw_elect_prio prio,
			       u64 ttl_ns)
{
	u64 now = rpw_now();
	struct rpw_tx *tx;
	int err;

	if (node->dead || !node->mac_up)
		return -ENETDOWN;
	tx = kzalloc(sizeof(*tx), GFP_ATOMIC);
	if (!tx)
		return -ENOMEM;
	tx->req.frame = *f;
	tx->req.keep_seq = keep_seq;
	tx->req.urgent = prio != RPW_ELECT_PRIO_NORMAL;
	tx->req.defer = prio == RPW_ELECT_PRIO_DEFER;
	tx->req.answered = keep_seq && rpw_elect_answered(f);
	tx->req.expires_ns = ttl_ns ? now + ttl_ns : 0;
	tx->internal = true;
	err = rpw_mac_submit(node->mac, &tx->req, now);
	if (err)
		kfree(tx);
	return err;
}

int rpw_node_queue_locked(struct rpw_node *node, const struct rpw_frame *f,
			  bool election)
{
	return rpw_node_queue_prio(node, f, election, election ?
				   RPW_ELECT_PRIO_URGENT : RPW_ELECT_PRIO_NORMAL, 0);
}

static int rpw_elect_cb_send(void *ctx, const struct rpw_frame *f,
			     enum rpw_elect_prio prio, u64 ttl_ns)
{
	/* Acks name the claim they confirm by seq: keep the election's. */
	return rpw_node_queue_prio(ctx, f, true, prio, ttl_ns);
}

static void rpw_elect_cb_timer(void *ctx, u64 expires)
{
	struct rpw_node *node = ctx;

	node->etimer_at = expires;
	if (expires == RPW_ELECT_NO_TIMER) {
		hrtimer_try_to_cancel(&node->etimer);
		return;
	}
	hrtimer_start(&node->etimer, ns_to_ktime(expires),
		      HRTIMER_MODE_ABS_SOFT);
}

static void rpw_elect_cb_event(void *ctx, enum rpw_elect_event ev, u8 addr,
			       u32 epoch)
{
	struct rpw_node *node = ctx;
	u32 state = rpw_elect_state(node->elect);

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
	/* Our claims still queued are stale now: withdrawn after the call. */
	if (ev == RPW_EV_DEMOTED ||
	    (ev == RPW_EV_STEP_DOWN && addr == node->cfg.addr))
		node->elect_withdraw = true;
	/* Ask for the rack's capacity as soon as the new lease holds. */
	if (ev == RPW_EV_PROMOTED)
		node->cap->kick = true;
	if (ev == RPW_EV_LEASE_OK && node->cap->kick) {
		node->cap->kick = false;
		rpw_cap_kick(node);
	}
	rpw_nl_elect_event(node, ev, addr, epoch, state);
}

static const struct rpw_elect_ops rpw_elect_cb = {
	.send = rpw_elect_cb_send,
	.timer = rpw_elect_cb_timer,
	.event = rpw_elect_cb_event,
};

static enum hrtimer_restart rpw_node_etimer_fn(struct hrtimer *t)
{
	struct rpw_node *node = container_of(t, struct rpw_node, etimer);
	u64 now;

	spin_lock_bh(&node->lock);
	if (node->dead || !node->elect || node->frozen ||
	    node->etimer_at == RPW_ELECT_NO_TIMER)
		goto out;
	now = rpw_now();
	if (now < node->etimer_at)
		hrtimer_start(&node->etimer, ns_to_ktime(node->etimer_at),
			      HRTIMER_MODE_ABS_SOFT);
	else
		rpw_elect_timer_expired(node->elect, now);
out:
	spin_unlock_bh(&node->lock);
	return HRTIMER_NORESTART;
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
	if (!node->mac || rpw_cap_node_init(node)) {
		kfree(node->mac);
		kfree(node);
		return ERR_PTR(-ENOMEM);
	}
	kref_init(&node->ref);
	spin_lock_init(&node->lock);
	hrtimer_init(&node->timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_SOFT);
	node->timer.function = rpw_node_timer_fn;
	node->timer_at = RPW_MAC_TIMER_OFF;
	hrtimer_init(&node->etimer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_SOFT);
	node->etimer.function = rpw_node_etimer_fn;
	node->etimer_at = RPW_ELECT_NO_TIMER;
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
		rpw_cap_node_free(node);
		kfree(node->mac);
		kfree(node);
		return ERR_PTR(err);
	}
	rpw_nl_node_change(node, false);
	return node;
}
EXPORT_SYMBOL_GPL(rpw_node_create);

/*
 * Election timers follow the bus: J, the worst-case access delay, is the
 * MAC's bound for urgent requests (claims and acks use the U-point and
 * priority slots), unless set explicitly; the rest is derived by
 * rpw_elect_cfg_derive().  With priority access off (prio_period 0) J must
 * cover a full rotation of rack_modules modules plus an address sweep.
 */
static int rpw_elect_cfg_build(struct rpw_elect_cfg *ec,
			       const struct rpw_mac_cfg *cfg, u8 role,
			       u32 hb_us, u8 miss, u32 bus_delay_us,
			       enum rpw_mac_profile profile, const char **why)
{
	/* Election frames: header, 6-byte payload, FCS, flags, some escapes. */
	const unsigned int chars = RPW_HDR_LEN + 6 + RPW_FCS_LEN + 4;
	unsigned int n = clamp_t(unsigned int, rack_modules, 2, RPW_ADDR_MAX);
	u64 lat = profile == RPW_MAC_PROFILE_UART ? NSEC_PER_MSEC : 0;

	rpw_elect_cfg_default(ec, cfg->addr, role == RACKPWR_ROLE_PSU ?
			      RPW_ROLE_PSU : RPW_ROLE_CHASSIS);
	ec->frame_ns = rpw_mac_char_ns(cfg->baud) * chars;
	ec->nonce = cfg->nonce;
	ec->tol_ns = (u64)elect_tol_us * NSEC_PER_USEC;
	if (bus_delay_us)
		ec->bus_delay_ns = (u64)bus_delay_us * NSEC_PER_USEC;
	else if (cfg->prio_period)
		ec->bus_delay_ns = rpw_mac_urgent_bound_ns(cfg, lat);
	else
		ec->bus_delay_ns = rpw_mac_access_bound_ns(cfg, n, chars, true,
							   lat) +
				   (u64)(cfg->max_addr + 1) * cfg->t_slot_us *
				   NSEC_PER_USEC;
	if (miss)
		ec->miss = miss;
	/*
	 * The lease must outlast one heartbeat plus two bus delays, and it
	 * ends before the secondaries' detection time (k+1)*T_h + J: so
	 * k*T_h must exceed J + T_f + tol.  Scale the default heartbeat up
	 * for slow buses; an explicit one is validated as given.  J/32 covers
	 * the clock drift terms, which grow with the timers (a fixed 2 ms
	 * margin was rejected as "flickers" above J = 1.3 s).
	 */
	if (hb_us)
		ec->hb_ns = (u64)hb_us * NSEC_PER_USEC;
	else
		ec->hb_ns = max3(ec->hb_ns,
				 div_u64(ec->bus_delay_ns +
					 (ec->bus_delay_ns >> 5) +
					 ec->frame_ns + ec->tol_ns +
					 2 * NSEC_PER_MSEC,
					 ec->miss) + 2 * NSEC_PER_MSEC,
				 /*
				  * A heartbeat and its ack each hold the line
				  * for a frame and T_ifs: at most a quarter of
				  * it (with stretched MAC timers the election
				  * took half of the line).
				  */
				 8 * (ec->frame_ns +
				      (u64)cfg->t_ifs_us * NSEC_PER_USEC));
	/* Re-derive everything from the inputs above. */
	ec->detect_ns = 0;
	ec->lease_ns = 0;
	ec->guard_ns = 0;
	ec->slot_ns = 0;
	ec->initial_ns = 0;
	rpw_elect_cfg_derive(ec);
	/*
	 * The membership window must hold a detection time and eight
	 * heartbeats; on a slow or crowded bus (rack_modules >= 16 at
	 * 115200) the 500 ms default does not, and every node was rejected.
	 */
	ec->member_ns = max3(ec->member_ns, ec->detect_ns, 8 * ec->hb_ns);
	return rpw_elect_cfg_validate(ec, why);
}

/*
 * Apply @p on top of the node's current configuration.  Everything is
 * validated before anything changes; a running MAC is restarted with the
 * new settings (frames in flight get -ECANCELED), counters are kept.  The
 * election restarts too: a reconfigured module rejoins as secondary.
 */
/* A node's full configuration, resolved from its current one plus params. */
struct rpw_node_setup {
	struct rpw_mac_cfg cfg;
	struct rpw_elect_cfg ecfg;
	u32 hb_us;
	u32 bus_delay_us;
	u8 role;
	u8 miss;
};

/*
 * Apply @p on top of @cur (the node's present settings) and validate the
 * result as a whole.  No side effects: callers check a request before they
 * change anything.
 */
static int rpw_node_resolve(const struct rpw_node_setup *cur,
			    enum rpw_mac_profile profile,
			    const struct rpw_node_params *p,
			    struct rpw_node_setup *out,
			    struct netlink_ext_ack *extack)
{
	struct rpw_mac_cfg *cfg = &out->cfg, defaults;
	const char *why;
	int err;

	*out = *cur;
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
	if (p->baud && p->baud != cfg->baud) {
		rpw_mac_cfg_default(&defaults, profile, cfg->addr ?: 1, p->baud);
		cfg->baud = p->baud;
		cfg->t_ifs_us = defaults.t_ifs_us;
		cfg->t_slot_us = defaults.t_slot_us;
		cfg->t_turnaround_us = defaults.t_turnaround_us;
		cfg->ack_timeout_us = defaults.ack_timeout_us;
	}
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
		err = rpw_elect_cfg_build(&out->ecfg, cfg, out->role, out->hb_us,
					  out->miss, out->bus_delay_us, profile,
					  &why);
	/* The validators' reasons are static strings. */
	if (err && extack)
		extack->_msg = why;
	return err;
}

static void rpw_node_setup_default(struct rpw_node_setup *su,
				   enum rpw_mac_profile profile)
{
	memset(su, 0, sizeof(*su));
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
	return rpw_node_resolve(&cur, profile, p, &out, extack);
}

/*
 * Apply @p on top of the node's current configuration.  Everything is
 * validated before anything changes; a running MAC is restarted with the
 * new settings (frames in flight get -ECANCELED), counters are kept.  The
 * election restarts too: a reconfigured module rejoins as secondary.
 */
int rpw_node_configure(struct rpw_node *node, const struct rpw_node_params *p,
		       struct netlink_ext_ack *extack)
{
	struct rpw_mac *mac, *old = NULL;
	struct rpw_elect *elect, *old_elect = NULL;
	struct rpw_node_setup cur, su;
	int err;

	mac = kzalloc(sizeof(*mac), GFP_KERNEL);
	elect = kzalloc(sizeof(*elect), GFP_KERNEL);
	if (!mac || !elect) {
		kfree(mac);
		kfree(elect);
		return -ENOMEM;
	}

	spin_lock_bh(&node->lock);
	cur.cfg = node->cfg;
	cur.role = node->role;
	cur.hb_us = node->hb_us;
	cur.miss = node->miss;
	cur.bus_delay_us = node->bus_delay_us;
	err = rpw_node_resolve(&cur, node->profile, p, &su, extack);
	if (err)
		goto unlock;
	if (node->dead) {
		err = -ENODEV;
		goto unlock;
	}

	err = rpw_mac_init(mac, &su.cfg, &rpw_mac_cb, node, rpw_now());
	if (!err)
		err = rpw_elect_init(elect, &su.ecfg, &rpw_elect_cb, node);
	if (err) {
		NL_SET_ERR_MSG_MOD(extack, "configuration rejected");
		goto unlock;
	}
	if (node->elect) {
		rpw_elect_stop(node->elect, rpw_now());
		old_elect = node->elect;
		node->elect = NULL;
	}
	if (node->mac_up) {
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
	node->elect = elect;
	rpw_elect_start(elect, rpw_now());
	rpw_cap_node_start(node);
	mac = old;
	elect = old_elect;
unlock:
	spin_unlock_bh(&node->lock);
	kfree(mac);
	kfree(elect);
	if (!err)
		rpw_nl_node_change(node, false);
	return err;
}
EXPORT_SYMBOL_GPL(rpw_node_configure);

static void rpw_node_release(struct kref *ref)
{
	struct rpw_node *node = container_of(ref, struct rpw_node, ref);

	rpw_cap_node_free(node);
	kfree(node->elect);
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
	if (node->elect)
		rpw_elect_stop(node->elect, rpw_now());
	node->dead = true;
	if (node->mac_up)
		rpw_mac_cancel_all(node->mac, rpw_now());
	node->timer_at = RPW_MAC_TIMER_OFF;
	node->etimer_at = RPW_ELECT_NO_TIMER;
	spin_unlock_bh(&node->lock);
	/* dead is set: the callbacks cannot re-arm the timers any more. */
	hrtimer_cancel(&node->timer);
	hrtimer_cancel(&node->etimer);
	rpw_cap_node_stop(node);

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

static bool rpw_node_own_claim(const struct rpw_mac_txreq *req, void *arg)
{
	return req->keep_seq && rpw_elect_claim(&req->frame);
}

/*
 * A demoted module withdraws its claims that have not reached the line:
 * after a simultaneous start the losers' queued claims trickled out for a
 * second and each one fenced the winner for a lease.  Outside the MAC's
 * callbacks (it cannot cancel from inside them).
 */
static void rpw_node_withdraw_locked(struct rpw_node *node)
{
	if (!node->elect_withdraw)
		return;
	node->elect_withdraw = false;
	if (node->mac_up)
		rpw_mac_cancel_if(node->mac, rpw_node_own_claim, NULL,
				  rpw_now());
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
	spin_lock_bh(&node->lock);
	node->frozen = frozen;
	if (!frozen && !node->dead && node->mac_up &&
	    node->timer_at != RPW_MAC_TIMER_OFF)
		hrtimer_start(&node->timer, ns_to_ktime(node->timer_at),
			      HRTIMER_MODE_ABS_SOFT);
	if (!frozen && !node->dead && node->elect &&
	    node->etimer_at != RPW_ELECT_NO_TIMER)
		hrtimer_start(&node->etimer, ns_to_ktime(node->etimer_at),
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

void rpw_node_elect_view(struct rpw_node *node, struct rpw_elect_view *v)
{
	memset(v, 0, sizeof(*v));
	spin_lock_bh(&node->lock);
	if (node->elect) {
		v->up = true;
		v->state = rpw_elect_state(node->elect);
		v->primary = rpw_elect_primary(node->elect);
		v->epoch = rpw_elect_epoch(node->elect);
		v->acting = rpw_elect_is_primary(node->elect, rpw_now());
		v->cfg = node->elect->cfg;
	}
	spin_unlock_bh(&node->lock);
}

int rpw_node_step_down(struct rpw_node *node, struct netlink_ext_ack *extack)
{
	int err = -EINVAL;

	spin_lock_bh(&node->lock);
	if (node->elect && !node->dead) {
		err = rpw_elect_step_down(node->elect, rpw_now());
		rpw_node_withdraw_locked(node);
	}
	spin_unlock_bh(&node->lock);
	if (err)
		NL_SET_ERR_MSG_MOD(extack, "node is not the primary");
	return err ? -EINVAL : 0;
}

void rpw_txbuf_init(struct rpw_txbuf *tb)
{
	spin_lock_init(&tb->lock);
	tb->head = 0;
	tb->len = 0;
}

/* tb->lock held. */
static size_t rpw_txbuf_push_locked(struct rpw_txbuf *tb, rpw_txbuf_out_t out,
				    void *ctx)
{
	int n;

	if (!tb->len)
		return 0;
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

void rpw_txbuf_clear(struct rpw_txbuf *tb)
{
	unsigned long flags;

	spin_lock_irqsave(&tb->lock, flags);
	tb->head = 0;
	tb->len = 0;
	spin_unlock_irqrestore(&tb->lock, flags);
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

	/* The uapi enums mirror the state machine's. */
	BUILD_BUG_ON((int)RACKPWR_ELECT_STATE_PRIMARY != (int)RPW_ES_PRIMARY);
	BUILD_BUG_ON((int)RACKPWR_ELECT_STATE_STOPPED != (int)RPW_ES_STOPPED);
	BUILD_BUG_ON((int)RACKPWR_ELECT_EVENT_PROMOTED != (int)RPW_EV_PROMOTED);
	BUILD_BUG_ON((int)RACKPWR_ELECT_EVENT_STEP_DOWN != (int)RPW_EV_STEP_DOWN);

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
	err = rpw_cap_init();
	if (err)
		goto err_psu;
	return 0;

err_psu:
	rpw_psu_exit();
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
	rpw_cap_exit();
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
