// SPDX-License-Identifier: GPL-2.0-only
/*
 * rackpwr - supply capacity across the bus: kernel glue for rpw_cap.c.
 *
 * Each power-supply node reports the assembly it is bound to (node
 * attribute i2c-bus; by default the only assembly when there is exactly
 * one, see rpw_asm_resolve()).  A node without an assembly, and a chassis
 * node, has no own line and does not answer queries.  The acting primary
 * asks every power-supply module (CAP_QUERY, broadcast, every cap_query_ms
 * and at once when its lease holds after promotion); a secondary answers
 * with CAP_REPORT, and also sends one at once whenever its assembly
 * changes.  The table, fencing and loss rule live in rpw_cap.c; this file
 * runs them under the node lock, follows the assemblies (rpw_asm notifier)
 * and turns changes into capacity-ntf events.
 *
 * Policy digest: the node's policy holder announces its policy's digest
 * (policy-bind); queries carry the primary's, reports the sender's.  A
 * change of a line's digest verdict (rpw_cap_judge()) is a capacity-ntf of
 * that line and one log line: loud when modules disagree.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/notifier.h>
#include <linux/slab.h>

#include "psu.h"
#include "rackpwr.h"

/* A node's capacity state, the protocol's priv. */
struct rpw_cap {
	struct rpw_node *node;
	struct delayed_work work;
	bool kick;		/* promoted: query once the lease holds */
	struct rpw_cap_table tab;	/* under the node lock */
};

/*
 * Orders the own-assembly snapshots (the assembly API sleeps, so they are
 * taken outside the node lock) of every node: a notifier and a work item
 * refreshing the same node cannot apply theirs out of order.
 */
static DEFINE_MUTEX(rpw_cap_refresh_lock);

static const struct rpw_proto_ops rpw_cap_proto;

/* Node lock held: this node's capacity state (NULL once detached). */
static struct rpw_cap *rpw_cap_of(struct rpw_node *node)
{
	return rpw_node_priv(node, &rpw_cap_proto);
}

static unsigned int cap_query_ms = 1000;
module_param(cap_query_ms, uint, 0644);
MODULE_PARM_DESC(cap_query_ms,
		 "period of the primary's capacity queries in ms (100..60000)");

static unsigned long rpw_cap_period(void)
{
	return msecs_to_jiffies(clamp_t(unsigned int, cap_query_ms, 100,
					60000));
}

/*
 * Queue a query or report for one round only: the next round supersedes
 * it.  Without the TTL a module that cannot get the bus (garbage on the
 * line, no echo) queued one of each per round until the MAC's shared room
 * was gone and sends were refused with ENOBUFS (issue 10).
 */
static void rpw_cap_queue(struct rpw_node *node, const struct rpw_frame *f)
{
	const struct rpw_txopts o = {
		.cls = RPW_MAC_CLASS_PROTO,
		.ttl_ns = jiffies_to_nsecs(rpw_cap_period()),
	};

	rpw_node_queue_locked(node, f, &o);
}

/* Node lock held: a configured power-supply node (the election runs). */
static bool rpw_cap_is_psu(struct rpw_node *node)
{
	lockdep_assert_held(&node->lock);
	return node->mac_up && node->role == RACKPWR_ROLE_PSU;
}

static bool rpw_cap_is_primary(struct rpw_node *node)
{
	return rpw_cap_is_psu(node) &&
	       node->leader.state == RACKPWR_ELECT_STATE_PRIMARY;
}

static void rpw_cap_view_locked(struct rpw_node *node, struct rpw_cap_view *v)
{
	lockdep_assert_held(&node->lock);
	v->epoch = node->leader.epoch;
	v->primary = node->leader.primary;
	v->is_primary = rpw_cap_is_primary(node);
}

/* Node lock held: tell every line whose digest verdict changed, log once. */
static void rpw_cap_judge_locked(struct rpw_node *node, struct rpw_cap *cap)
{
	struct rpw_cap_table *t = &cap->tab;
	bool primary = rpw_cap_is_primary(node);
	int a;

	lockdep_assert_held(&node->lock);
	for (a = 0; (a = rpw_cap_judge(t, primary, a)) >= 0; a++) {
		const struct rpw_cap_entry *e = &t->ent[a];

		if (e->mismatch)
			pr_warn("%s: policy digest mismatch: module %d runs 0x%08x, the primary 0x%08x\n",
				node->name, a, e->digest, e->ref_digest);
		else
			pr_info("%s: policy digest of module %d agrees with the primary's again\n",
				node->name, a);
		rpw_notify_capacity(node, a, e, a == t->self);
	}
}

static void rpw_cap_send_report(struct rpw_node *node, struct rpw_cap *cap,
				u8 dst)
{
	struct rpw_cap_table *t = &cap->tab;
	struct rpw_frame f;

	lockdep_assert_held(&node->lock);
	rpw_cap_pack_report(&f, dst, node->leader.epoch, &t->ent[t->self]);
	rpw_cap_queue(node, &f);
}

/* Frames of the capacity range; node lock held, BH off. */
static void rpw_cap_node_rx(struct rpw_node *node, void *priv,
			    const struct rpw_frame *f, u64 now)
{
	struct rpw_cap *cap = priv;
	struct rpw_cap_view v;

	lockdep_assert_held(&node->lock);
	if (!rpw_cap_is_psu(node))
		return;
	rpw_cap_view_locked(node, &v);
	switch (rpw_cap_rx(&cap->tab, &v, f, now)) {
	case RPW_CAP_RX_ANSWER:
		rpw_cap_send_report(node, cap, f->src);
		break;
	case RPW_CAP_RX_CHANGED:
		rpw_notify_capacity(node, f->src, &cap->tab.ent[f->src], false);
		break;
	default:
		break;
	}
	/* A query may bring a new primary digest, a report a new own one. */
	rpw_cap_judge_locked(node, cap);
}

/* The own line is @l now (NULL: the node has no assembly). */
static void rpw_cap_local_locked(struct rpw_node *node, struct rpw_cap *cap,
				 const struct rpw_cap_entry *l)
{
	struct rpw_cap_table *t = &cap->tab;
	u8 primary;

	lockdep_assert_held(&node->lock);
	/* A new address starts a new table; the old lines were another's. */
	if (t->self != node->cfg.addr) {
		u32 digest = t->digest;	/* the node's, not the address' */

		rpw_cap_table_init(t, node->cfg.addr);
		rpw_cap_set_digest(t, digest);
	}
	if (!rpw_cap_set_local(t, l, ktime_get_ns()))
		return;
	rpw_notify_capacity(node, t->self, &t->ent[t->self], true);
	primary = node->leader.primary;
	if (l && !rpw_cap_is_primary(node) && primary && primary != t->self)
		rpw_cap_send_report(node, cap, primary);
}

/*
 * Take the bound assembly's capacity and apply it to the node's own line.
 * Process context: the assembly API may sleep, so the snapshot is taken
 * outside the node lock.
 */
static void rpw_cap_refresh(struct rpw_node *node)
{
	struct rpw_psu_capacity c;
	struct rpw_cap_entry l = {};
	bool psu, have = false;
	struct rpw_cap *cap;
	int bus;

	mutex_lock(&rpw_cap_refresh_lock);
	spin_lock_bh(&node->lock);
	psu = !node->dead && rpw_cap_is_psu(node);
	bus = node->i2c_bus;
	spin_unlock_bh(&node->lock);

	if (psu) {
		bus = rpw_asm_resolve(bus);
		have = bus >= 0 && !rpw_asm_get_capacity(bus, &c);
	}
	if (have) {
		l.bank_mw[0] = c.bank_mw[0];
		l.bank_mw[1] = c.bank_mw[1];
		l.present = c.present;
		l.healthy = c.healthy;
	}

	spin_lock_bh(&node->lock);
	cap = rpw_cap_of(node);
	if (cap && !node->dead && node->mac_up)
		rpw_cap_local_locked(node, cap, have ? &l : NULL);
	spin_unlock_bh(&node->lock);
	mutex_unlock(&rpw_cap_refresh_lock);
}

/* The primary's query round; node lock held. */
static void rpw_cap_query_locked(struct rpw_node *node, struct rpw_cap *cap)
{
	struct rpw_cap_table *t = &cap->tab;
	struct rpw_frame f;
	int a;

	lockdep_assert_held(&node->lock);
	rpw_cap_pack_query_digest(&f, node->leader.epoch, t->digest);
	rpw_cap_queue(node, &f);
	for (a = 0; (a = rpw_cap_query_round(t, a)) >= 0; a++) {
		pr_warn_ratelimited("%s: power-supply module %d stopped reporting capacity\n",
				    node->name, a);
		rpw_notify_capacity(node, a, &t->ent[a], false);
	}
}

static void rpw_cap_work(struct work_struct *work)
{
	struct rpw_cap *cap = container_of(to_delayed_work(work),
					   struct rpw_cap, work);
	struct rpw_node *node = cap->node;

	/* Also catches up with anything the notifier could not apply. */
	rpw_cap_refresh(node);
	spin_lock_bh(&node->lock);
	if (node->dead)
		goto unlock;
	if (!rpw_cap_is_primary(node))
		/* Only the primary keeps the rack's table. */
		rpw_cap_forget_others(&cap->tab);
	/* A primary outside its lease neither asks nor judges silence. */
	else if (rpw_node_acting(node, ktime_get_ns()))
		rpw_cap_query_locked(node, cap);
	/* The role may have changed, and with it the digest to compare. */
	rpw_cap_judge_locked(node, cap);
	mod_delayed_work(system_wq, &cap->work, rpw_cap_period());
unlock:
	spin_unlock_bh(&node->lock);
}

/*
 * Role or epoch changed.  Promoted: ask for the rack's capacity as soon as
 * the new lease holds, not one period later (atomic context is fine).
 * The table starts from the own line: a line left from an earlier term
 * may be above its assembly's capacity now (changes went to another
 * primary), while one not reported yet counts as zero, so the capacity a
 * new primary knows is never above the rack's (rackpwrd grants on it).
 */
static void rpw_cap_leader(struct rpw_node *node, void *priv,
			   const struct rpw_leader *old)
{
	const struct rpw_leader *l = &node->leader;
	struct rpw_cap *cap = priv;

	lockdep_assert_held(&node->lock);
	if (l->state == RACKPWR_ELECT_STATE_PRIMARY &&
	    (old->state != RACKPWR_ELECT_STATE_PRIMARY ||
	     old->epoch != l->epoch)) {
		rpw_cap_forget_others(&cap->tab);
		cap->kick = true;
	}
	if (cap->kick && l->acting) {
		cap->kick = false;
		if (!node->dead)
			mod_delayed_work(system_wq, &cap->work, 0);
	}
}

static int rpw_cap_attach(struct rpw_node *node, void **priv)
{
	struct rpw_cap *cap = kzalloc(sizeof(*cap), GFP_KERNEL);

	if (!cap)
		return -ENOMEM;
	cap->node = node;
	rpw_cap_table_init(&cap->tab, RPW_ADDR_NONE);
	INIT_DELAYED_WORK(&cap->work, rpw_cap_work);
	*priv = cap;
	return 0;
}

/* Configured (role, address or binding may have changed): re-read now. */
static void rpw_cap_start(struct rpw_node *node, void *priv,
			  const struct rpw_node_setup *su, u64 now)
{
	struct rpw_cap *cap = priv;

	mod_delayed_work(system_wq, &cap->work, 0);
}

/* After node->dead is set: the work cannot requeue itself any more. */
static void rpw_cap_detach(struct rpw_node *node, void *priv)
{
	struct rpw_cap *cap = priv;

	cancel_delayed_work_sync(&cap->work);
	kfree(cap);
}

static const struct rpw_proto_ops rpw_cap_proto = {
	.name = "capacity",
	.range = RPW_T_RANGE(RPW_T_CAP_QUERY),
	.attach = rpw_cap_attach,
	.detach = rpw_cap_detach,
	.start = rpw_cap_start,
	.rx = rpw_cap_node_rx,
	.leader = rpw_cap_leader,
};

/* For dumps: the line at @addr or the next known one; -ENOENT at the end. */
int rpw_cap_node_next(struct rpw_node *node, int addr,
		      struct rpw_cap_entry *out, bool *local)
{
	const struct rpw_cap *cap;

	spin_lock_bh(&node->lock);
	cap = rpw_cap_of(node);
	addr = cap ? rpw_cap_next(&cap->tab, addr) : -ENOENT;
	if (addr >= 0) {
		*out = cap->tab.ent[addr];
		*local = addr == cap->tab.self;
	}
	spin_unlock_bh(&node->lock);
	return addr;
}

/*
 * The rack's usable capacity as this node knows it: both banks of every
 * assembly in its table (on the acting primary, the whole rack's).  The
 * physical limit of the power allocation (alloc.c).
 */
u64 rpw_cap_usable_mw_locked(struct rpw_node *node)
{
	const struct rpw_cap *cap;

	lockdep_assert_held(&node->lock);
	cap = rpw_cap_of(node);
	if (!cap)
		return 0;
	return rpw_cap_total_mw(&cap->tab, 0) + rpw_cap_total_mw(&cap->tab, 1);
}

/*
 * Node lock held: the policy digest the node's policy holder announced (0:
 * none, e.g. the holder is gone).  A change shows in the own line at once,
 * reaches the primary with an unsolicited report (a secondary) or the
 * next query (the primary), and is judged against the other lines.
 */
void rpw_cap_set_digest_locked(struct rpw_node *node, u32 digest)
{
	struct rpw_cap *cap;
	struct rpw_cap_table *t;
	u8 primary;

	lockdep_assert_held(&node->lock);
	cap = rpw_cap_of(node);
	if (!cap || node->dead)
		return;
	t = &cap->tab;
	if (!rpw_cap_set_digest(t, digest))
		return;
	pr_info("%s: policy digest 0x%08x\n", node->name, digest);
	if (rpw_cap_has_local(t)) {
		rpw_notify_capacity(node, t->self, &t->ent[t->self], true);
		primary = node->leader.primary;
		if (rpw_cap_is_psu(node) && !rpw_cap_is_primary(node) &&
		    primary && primary != t->self)
			rpw_cap_send_report(node, cap, primary);
	}
	rpw_cap_judge_locked(node, cap);
}

/* The node's own policy digest (0: none announced). */
u32 rpw_cap_node_digest(struct rpw_node *node)
{
	const struct rpw_cap *cap;
	u32 digest;

	spin_lock_bh(&node->lock);
	cap = rpw_cap_of(node);
	digest = cap ? cap->tab.digest : 0;
	spin_unlock_bh(&node->lock);
	return digest;
}

/*
 * The adapter of the assembly @node reports, or -ENODEV (no assembly, or
 * not a power-supply node).  @is_auto: the binding is the default.
 * Process context.
 */
int rpw_cap_node_i2c_bus(struct rpw_node *node, bool *is_auto)
{
	bool psu;
	int bus;

	spin_lock_bh(&node->lock);
	bus = node->i2c_bus;
	psu = node->role == RACKPWR_ROLE_PSU;
	spin_unlock_bh(&node->lock);
	*is_auto = bus == RPW_I2C_BUS_AUTO;
	return psu ? rpw_asm_resolve(bus) : -ENODEV;
}

/*
 * An assembly was added, changed or removed.  Every power-supply node
 * re-reads its own: an AUTO binding may resolve differently now.
 */
static int rpw_cap_asm_event(struct notifier_block *nb, unsigned long action,
			     void *data)
{
	unsigned long index = 0;
	struct rpw_node *node;

	while ((node = rpw_node_next(&index))) {
		rpw_cap_refresh(node);
		rpw_node_put(node);
		index++;
	}
	return NOTIFY_OK;
}

static struct notifier_block rpw_cap_asm_nb = {
	.notifier_call = rpw_cap_asm_event,
};

int __init rpw_cap_init(void)
{
	int err = rpw_proto_register(&rpw_cap_proto);

	if (err)
		return err;
	err = rpw_asm_notifier_register(&rpw_cap_asm_nb);
	if (err)
		rpw_proto_unregister(&rpw_cap_proto);
	return err;
}

void rpw_cap_exit(void)
{
	rpw_asm_notifier_unregister(&rpw_cap_asm_nb);
	rpw_proto_unregister(&rpw_cap_proto);
}
