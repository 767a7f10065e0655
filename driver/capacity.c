// SPDX-License-Identifier: GPL-2.0-only
/*
 * rackpwr - supply capacity across the bus.
 *
 * Every power-supply module knows its own assembly's usable capacity per
 * bank (driver/psu.c).  The acting primary asks every power-supply module
 * for theirs (CAP_QUERY, broadcast, every cap_query_ms and at once when it
 * is promoted); a secondary answers with CAP_REPORT, and also sends one at
 * once whenever its assembly's capacity or health changes.  A module that
 * has not reported for RPW_CAP_LOST_QUERIES queries counts as capacity
 * lost, with an event.  Each change is a capacity-ntf netlink event, and
 * capacity-get dumps what a node knows, so the policy always budgets the
 * whole rack.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/slab.h>

#include "psu.h"
#include "rackpwr.h"

#define RPW_CAP_LOST_QUERIES	3

static unsigned int cap_query_ms = 1000;
module_param(cap_query_ms, uint, 0644);
MODULE_PARM_DESC(cap_query_ms,
		 "period of the primary's capacity queries in ms (100..60000)");

/* This kernel's assembly, as psu.c last reported it. */
static DEFINE_SPINLOCK(rpw_cap_local_lock);
static struct rpw_cap_entry rpw_cap_local;

static unsigned long rpw_cap_period(void)
{
	return msecs_to_jiffies(clamp_t(unsigned int, cap_query_ms, 100,
					60000));
}

static void rpw_cap_local_get(struct rpw_cap_entry *e)
{
	spin_lock_bh(&rpw_cap_local_lock);
	*e = rpw_cap_local;
	spin_unlock_bh(&rpw_cap_local_lock);
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

/* Node lock held. */
static void rpw_cap_send_report(struct rpw_node *node, u8 dst)
{
	struct rpw_cap_entry l;
	struct rpw_frame f = {
		.type = RPW_T_CAP_REPORT,
		.dst = dst,
		.flags = RPW_F_ACKREQ,
		.len = 16,
	};

	rpw_cap_local_get(&l);
	put_unaligned_le32(rpw_elect_epoch(node->elect), f.payload);
	put_unaligned_le32(l.bank_mw[0] / 1000, f.payload + 4);
	put_unaligned_le32(l.bank_mw[1] / 1000, f.payload + 8);
	f.payload[12] = l.present;
	f.payload[13] = l.healthy;
	put_unaligned_le16(0, f.payload + 14);
	rpw_node_queue_locked(node, &f, false);
}

static bool rpw_cap_update(struct rpw_cap_entry *e, const u32 *bank_mw,
			   u8 present, u8 healthy, u64 now)
{
	bool changed = !e->known || e->lost || e->bank_mw[0] != bank_mw[0] ||
		       e->bank_mw[1] != bank_mw[1] || e->present != present ||
		       e->healthy != healthy;

	e->bank_mw[0] = bank_mw[0];
	e->bank_mw[1] = bank_mw[1];
	e->present = present;
	e->healthy = healthy;
	e->known = true;
	e->lost = false;
	e->last_ns = now;
	return changed;
}

/* Frames of the capacity range; node lock held, BH off. */
void rpw_cap_rx(struct rpw_node *node, const struct rpw_frame *f)
{
	u32 epoch, bank_mw[2];
	struct rpw_cap_entry *e;

	if (!rpw_cap_is_psu(node) || f->len < 4)
		return;
	epoch = get_unaligned_le32(f->payload);
	/* Fencing: only the current epoch's primary and its reports count. */
	if (epoch != rpw_elect_epoch(node->elect))
		return;

	if (f->type == RPW_T_CAP_QUERY) {
		if (f->src == rpw_elect_primary(node->elect) &&
		    !rpw_cap_is_primary(node))
			rpw_cap_send_report(node, f->src);
		return;
	}
	if (f->type != RPW_T_CAP_REPORT || f->len != 16 ||
	    !rpw_cap_is_primary(node))
		return;
	bank_mw[0] = min_t(u64, (u64)get_unaligned_le32(f->payload + 4) * 1000,
			   U32_MAX);
	bank_mw[1] = min_t(u64, (u64)get_unaligned_le32(f->payload + 8) * 1000,
			   U32_MAX);
	e = &node->cap->ent[f->src];
	if (rpw_cap_update(e, bank_mw, f->payload[12], f->payload[13],
			   ktime_get_ns()))
		rpw_nl_capacity(node, f->src, e, false);
}

/* Node lock held: the local assembly changed or the node just started. */
static void rpw_cap_local_changed_locked(struct rpw_node *node,
					 const struct rpw_cap_entry *l)
{
	struct rpw_cap_entry *own = &node->cap->ent[node->cfg.addr];
	u8 primary;

	if (!rpw_cap_update(own, l->bank_mw, l->present, l->healthy,
			    ktime_get_ns()))
		return;
	rpw_nl_capacity(node, node->cfg.addr, own, true);
	primary = rpw_elect_primary(node->elect);
	if (!rpw_cap_is_primary(node) && primary &&
	    primary != node->cfg.addr)
		rpw_cap_send_report(node, primary);
}

static void rpw_cap_work(struct work_struct *work)
{
	struct rpw_cap *cap = container_of(to_delayed_work(work),
					   struct rpw_cap, work);
	struct rpw_node *node = cap->node;
	u64 now = ktime_get_ns();
	u64 lost_ns = (u64)RPW_CAP_LOST_QUERIES *
		      jiffies_to_nsecs(rpw_cap_period());
	struct rpw_frame f = {
		.type = RPW_T_CAP_QUERY,
		.dst = RPW_ADDR_BCAST,
		.len = 4,
	};
	struct rpw_cap_entry l;
	unsigned int a;

	rpw_cap_local_get(&l);
	spin_lock_bh(&node->lock);
	if (node->dead)
		goto unlock;
	if (rpw_cap_is_psu(node) && l.known)
		rpw_cap_local_changed_locked(node, &l);
	if (!rpw_cap_is_primary(node)) {
		/* Only the primary keeps the rack's table. */
		for (a = 0; a < RPW_MAC_NR_ADDR; a++)
			if (a != node->cfg.addr)
				node->cap->ent[a].known = false;
		goto resched;
	}
	/* A primary outside its lease neither asks nor judges silence. */
	if (!rpw_elect_is_primary(node->elect, now))
		goto resched;
	put_unaligned_le32(rpw_elect_epoch(node->elect), f.payload);
	rpw_node_queue_locked(node, &f, false);
	for (a = 0; a < RPW_MAC_NR_ADDR; a++) {
		struct rpw_cap_entry *e = &node->cap->ent[a];

		if (a == node->cfg.addr || !e->known || e->lost ||
		    now - e->last_ns < lost_ns)
			continue;
		e->lost = true;
		pr_warn_ratelimited("%s: power-supply module %u stopped reporting capacity\n",
				    node->name, a);
		rpw_nl_capacity(node, a, e, false);
	}
resched:
	if (!node->dead)
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
	INIT_DELAYED_WORK(&node->cap->work, rpw_cap_work);
	return 0;
}

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
	kfree(node->cap);
}

/* psu.c: capacity, presence or health of this assembly changed. */
static void rpw_cap_psu_notify(void)
{
	struct rpw_psu_capacity c = {};
	unsigned long index = 0;
	struct rpw_node *node;
	int bus;

	/* Until nodes bind to an assembly: the only one, else none. */
	bus = rpw_asm_resolve(RPW_I2C_BUS_AUTO);
	if (bus >= 0)
		rpw_asm_get_capacity(bus, &c);
	spin_lock_bh(&rpw_cap_local_lock);
	rpw_cap_local.bank_mw[0] = min_t(u64, c.bank_mw[0], U32_MAX);
	rpw_cap_local.bank_mw[1] = min_t(u64, c.bank_mw[1], U32_MAX);
	rpw_cap_local.present = c.present;
	rpw_cap_local.healthy = c.healthy;
	rpw_cap_local.known = true;
	spin_unlock_bh(&rpw_cap_local_lock);

	/* Tell every local power-supply node; secondaries report at once. */
	while ((node = rpw_node_next(&index))) {
		struct rpw_cap_entry l;

		rpw_cap_local_get(&l);
		spin_lock_bh(&node->lock);
		if (!node->dead && rpw_cap_is_psu(node))
			rpw_cap_local_changed_locked(node, &l);
		spin_unlock_bh(&node->lock);
		rpw_node_put(node);
		index++;
	}
}

/* For dumps: the entry at @addr or the next known one; -ENOENT at the end. */
int rpw_cap_next(struct rpw_node *node, int addr, struct rpw_cap_entry *out)
{
	int a = -ENOENT;

	spin_lock_bh(&node->lock);
	for (; addr < RPW_MAC_NR_ADDR; addr++) {
		if (node->cap->ent[addr].known) {
			*out = node->cap->ent[addr];
			a = addr;
			break;
		}
	}
	spin_unlock_bh(&node->lock);
	return a;
}

static int rpw_cap_asm_event(struct notifier_block *nb, unsigned long ev,
			     void *data)
{
	rpw_cap_psu_notify();
	return NOTIFY_OK;
}

static struct notifier_block rpw_cap_asm_nb = {
	.notifier_call = rpw_cap_asm_event,
};

int __init rpw_cap_init(void)
{
	int ret = rpw_asm_notifier_register(&rpw_cap_asm_nb);

	if (ret)
		return ret;
	rpw_cap_psu_notify();
	return 0;
}

void rpw_cap_exit(void)
{
	rpw_asm_notifier_unregister(&rpw_cap_asm_nb);
}
