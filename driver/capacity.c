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
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/notifier.h>
#include <linux/slab.h>

#include "psu.h"
#include "rackpwr.h"

static unsigned int cap_query_ms = 1000;
module_param(cap_query_ms, uint, 0644);
MODULE_PARM_DESC(cap_query_ms,
		 "period of the primary's capacity queries in ms (100..60000)");

static unsigned long rpw_cap_period(void)
{
	return msecs_to_jiffies(clamp_t(unsigned int, cap_query_ms, 100,
					60000));
}

static bool rpw_cap_is_psu(struct rpw_node *node)
{
	return node->elect && node->role == RACKPWR_ROLE_PSU;
}

static bool rpw_cap_is_primary(struct rpw_node *node)
{
	return rpw_cap_is_psu(node) &&
	       rpw_elect_state(node->elect) == RPW_ES_PRIMARY;
}

static void rpw_cap_view_locked(struct rpw_node *node, struct rpw_cap_view *v)
{
	lockdep_assert_held(&node->lock);
	v->epoch = rpw_elect_epoch(node->elect);
	v->primary = rpw_elect_primary(node->elect);
	v->is_primary = rpw_cap_is_primary(node);
}

static void rpw_cap_send_report(struct rpw_node *node, u8 dst)
{
	struct rpw_cap_table *t = &node->cap->tab;
	struct rpw_frame f;

	lockdep_assert_held(&node->lock);
	rpw_cap_pack_report(&f, dst, rpw_elect_epoch(node->elect),
			    &t->ent[t->self]);
	rpw_node_queue_locked(node, &f, false);
}

/* Frames of the capacity range; node lock held, BH off. */
void rpw_cap_node_rx(struct rpw_node *node, const struct rpw_frame *f)
{
	struct rpw_cap_view v;

	lockdep_assert_held(&node->lock);
	if (!rpw_cap_is_psu(node))
		return;
	rpw_cap_view_locked(node, &v);
	switch (rpw_cap_rx(&node->cap->tab, &v, f, ktime_get_ns())) {
	case RPW_CAP_RX_ANSWER:
		rpw_cap_send_report(node, f->src);
		break;
	case RPW_CAP_RX_CHANGED:
		rpw_nl_capacity(node, f->src, &node->cap->tab.ent[f->src],
				false);
		break;
	default:
		break;
	}
}

/* The own line is @l now (NULL: the node has no assembly). */
static void rpw_cap_local_locked(struct rpw_node *node,
				 const struct rpw_cap_entry *l)
{
	struct rpw_cap_table *t = &node->cap->tab;
	u8 primary;

	lockdep_assert_held(&node->lock);
	/* A new address starts a new table; the old lines were another's. */
	if (t->self != node->cfg.addr)
		rpw_cap_table_init(t, node->cfg.addr);
	if (!rpw_cap_set_local(t, l, ktime_get_ns()))
		return;
	rpw_nl_capacity(node, t->self, &t->ent[t->self], true);
	primary = rpw_elect_primary(node->elect);
	if (l && !rpw_cap_is_primary(node) && primary && primary != t->self)
		rpw_cap_send_report(node, primary);
}

/*
 * Take the bound assembly's capacity and apply it to the node's own line.
 * Process context: the assembly API may sleep, so the snapshot is taken
 * outside the node lock, and cap->refresh keeps two refreshes (notifier,
 * work) from applying their snapshots out of order.
 */
static void rpw_cap_refresh(struct rpw_node *node)
{
	struct rpw_cap *cap = node->cap;
	struct rpw_psu_capacity c;
	struct rpw_cap_entry l = {};
	bool psu, have = false;
	int bus;

	mutex_lock(&cap->refresh);
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
	if (!node->dead && node->elect)
		rpw_cap_local_locked(node, have ? &l : NULL);
	spin_unlock_bh(&node->lock);
	mutex_unlock(&cap->refresh);
}

/* The primary's query round; node lock held. */
static void rpw_cap_query_locked(struct rpw_node *node)
{
	struct rpw_cap_table *t = &node->cap->tab;
	struct rpw_frame f;
	int a;

	lockdep_assert_held(&node->lock);
	rpw_cap_pack_query(&f, rpw_elect_epoch(node->elect));
	rpw_node_queue_locked(node, &f, false);
	for (a = 0; (a = rpw_cap_query_round(t, a)) >= 0; a++) {
		pr_warn_ratelimited("%s: power-supply module %d stopped reporting capacity\n",
				    node->name, a);
		rpw_nl_capacity(node, a, &t->ent[a], false);
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
	else if (rpw_elect_is_primary(node->elect, ktime_get_ns()))
		rpw_cap_query_locked(node);
	mod_delayed_work(system_wq, &cap->work, rpw_cap_period());
unlock:
	spin_unlock_bh(&node->lock);
}

/* A new primary's lease holds: ask at once (atomic context is fine). */
void rpw_cap_kick(struct rpw_node *node)
{
	if (node->cap && !node->dead)
		mod_delayed_work(system_wq, &node->cap->work, 0);
}

int rpw_cap_node_init(struct rpw_node *node)
{
	node->cap = kzalloc(sizeof(*node->cap), GFP_KERNEL);
	if (!node->cap)
		return -ENOMEM;
	node->cap->node = node;
	mutex_init(&node->cap->refresh);
	rpw_cap_table_init(&node->cap->tab, RPW_ADDR_NONE);
	INIT_DELAYED_WORK(&node->cap->work, rpw_cap_work);
	return 0;
}

/* Configured (role, address or binding may have changed): re-read now. */
void rpw_cap_node_start(struct rpw_node *node)
{
	mod_delayed_work(system_wq, &node->cap->work, 0);
}

/* After node->dead is set: the work cannot requeue itself any more. */
void rpw_cap_node_stop(struct rpw_node *node)
{
	cancel_delayed_work_sync(&node->cap->work);
}

void rpw_cap_node_free(struct rpw_node *node)
{
	if (node->cap)
		mutex_destroy(&node->cap->refresh);
	kfree(node->cap);
}

/* For dumps: the line at @addr or the next known one; -ENOENT at the end. */
int rpw_cap_node_next(struct rpw_node *node, int addr,
		      struct rpw_cap_entry *out, bool *local)
{
	const struct rpw_cap_table *t = &node->cap->tab;

	spin_lock_bh(&node->lock);
	addr = rpw_cap_next(t, addr);
	if (addr >= 0) {
		*out = t->ent[addr];
		*local = addr == t->self;
	}
	spin_unlock_bh(&node->lock);
	return addr;
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
	return rpw_asm_notifier_register(&rpw_cap_asm_nb);
}

void rpw_cap_exit(void)
{
	rpw_asm_notifier_unregister(&rpw_cap_asm_nb);
}
