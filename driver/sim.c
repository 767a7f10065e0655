// SPDX-License-Identifier: GPL-2.0-only
/*
 * rackpwr_sim - simulated RS-485 buses for tests (the netdevsim pattern).
 *
 * Up to RPW_SIM_BUSES buses, each a byte-slot channel paced at the bus's
 * baud rate: in every character time, if exactly one node drives the line
 * its byte reaches every node including itself (echo); if several drive it,
 * every node reads one corrupted byte (collision).  Nodes are created over
 * netlink (node-new, kind sim) and carry the real protocol core, so one VM
 * holds a whole rack.  Fault knobs live in debugfs:
 *
 *   /sys/kernel/debug/rackpwr_sim/bus<B>/
 *	stats		busy character slots (line time used), collisions
 *	inject		bytes written here go on the line from no node
 *	hold		1 = the line stands still (bytes queue up); 0 releases
 *			them, e.g. to start many modules truly at once
 *	<node>/ber_ppm	bit errors in what this node receives
 *	<node>/drop_ppm	bytes this node misses
 *	<node>/delay_us	this node hears everything later (a slow receiver)
 *	<node>/partition 1 = cut off: hears only its own echo, nobody hears it
 *	<node>/frozen	1 = stalled module (no rx, timers held)
 *
 * Bytes are delivered in batches every tick_us (module parameter), so
 * nodes see receive latency up to one tick, like a UART's FIFO and the
 * tty workqueue; nodes therefore use the MAC's UART timing profile.  A
 * byte goes on the line no earlier than it was written, however late the
 * tick runs.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/prandom.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "rackpwr.h"

#define SIM_MAX_NODES	64
#define SIM_TXQ		1024
#define SIM_BATCH	64	/* bytes delivered per tick at most */
#define SIM_DELAYQ	2048	/* bytes held back for a delayed receiver */

static unsigned int tick_us = 500;
module_param(tick_us, uint, 0444);
MODULE_PARM_DESC(tick_us, "delivery batch period in microseconds (50..5000)");

static unsigned int baud = 115200;
module_param(baud, uint, 0444);
MODULE_PARM_DESC(baud, "line rate of the simulated buses");

struct sim_txq {
	u8 buf[SIM_TXQ];
	u16 head;
	u16 len;
};

struct sim_node {
	struct list_head list;
	struct sim_bus *bus;
	struct rpw_node *node;
	struct dentry *dir;
	struct sim_txq txq;
	u64 tx_at;		/* when the first byte in txq was written */
	u8 rx[SIM_BATCH];
	u16 rxlen;
	u32 ber_ppm;
	u32 drop_ppm;
	u32 delay_us;
	struct {
		u64 due;
		u8 b;
	} dq[SIM_DELAYQ];	/* ring of delayed bytes */
	u16 dq_head;
	u16 dq_len;
	bool partition;
	bool frozen;
	u64 overflow;
};

struct sim_bus {
	spinlock_t lock;	/* nodes list, queues, counters */
	struct list_head nodes;
	unsigned int nnodes;
	struct hrtimer timer;
	bool running;
	u64 line_ns;		/* slots processed up to here */
	u64 char_ns;
	struct sim_txq inject;	/* bytes from no node (garbage tests) */
	u32 hold;		/* debugfs: line stopped */
	struct dentry *dir;
	u64 busy_slots, collisions, overflow;
	struct rnd_state rnd;
};

static struct sim_bus sim_buses[RPW_SIM_BUSES];
static struct dentry *sim_debugfs;
static DEFINE_MUTEX(sim_mutex);	/* node create/destroy */

static bool sim_q_pop(struct sim_txq *q, u8 *b)
{
	if (!q->len)
		return false;
	*b = q->buf[q->head];
	q->head = (q->head + 1) % SIM_TXQ;
	q->len--;
	return true;
}

static size_t sim_q_push(struct sim_txq *q, const u8 *buf, size_t len)
{
	size_t i, n = min_t(size_t, len, SIM_TXQ - q->len);

	for (i = 0; i < n; i++)
		q->buf[(q->head + q->len + i) % SIM_TXQ] = buf[i];
	q->len += n;
	return n;
}

static bool sim_chance(struct sim_bus *bus, u32 ppm)
{
	return ppm && prandom_u32_state(&bus->rnd) % 1000000 < ppm;
}

static void sim_rx(struct sim_bus *bus, struct sim_node *sn, u8 b)
{
	unsigned int i;

	if (sim_chance(bus, sn->drop_ppm))
		return;
	if (sim_chance(bus, sn->ber_ppm))
		b ^= BIT(prandom_u32_state(&bus->rnd) & 7);
	if (sn->delay_us || sn->dq_len) {
		/* Keep order behind bytes still held back. */
		if (sn->dq_len == SIM_DELAYQ) {
			sn->overflow++;
			return;
		}
		i = (sn->dq_head + sn->dq_len++) % SIM_DELAYQ;
		sn->dq[i].due = bus->line_ns + (u64)sn->delay_us * NSEC_PER_USEC;
		sn->dq[i].b = b;
		return;
	}
	if (sn->rxlen < SIM_BATCH)
		sn->rx[sn->rxlen++] = b;
}

/* Move the delayed bytes that are due into this tick's delivery. */
static void sim_release_delayed(struct sim_node *sn, u64 now)
{
	while (sn->dq_len && sn->rxlen < SIM_BATCH &&
	       sn->dq[sn->dq_head].due <= now) {
		sn->rx[sn->rxlen++] = sn->dq[sn->dq_head].b;
		sn->dq_head = (sn->dq_head + 1) % SIM_DELAYQ;
		sn->dq_len--;
	}
}

/* What everyone reads when several drive the line: never any sender's byte. */
static u8 sim_collide(const u8 *sent, unsigned int n)
{
	u8 v = ~sent[0];
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (v == sent[i]) {
			v++;
			i = -1;	/* restart: check against all again */
		}
	}
	return v;
}

/* One character time on the line.  Returns true if any byte moved. */
static bool sim_slot(struct sim_bus *bus)
{
	u8 sent[SIM_MAX_NODES + 1];
	struct sim_node *sn;
	unsigned int n = 0;
	u8 b;

	/* A partitioned node's bytes only ever reach itself. */
	list_for_each_entry(sn, &bus->nodes, list) {
		if (sn->partition) {
			if (sim_q_pop(&sn->txq, &b))
				sim_rx(bus, sn, b);
			continue;
		}
		if (sn->tx_at < bus->line_ns && sim_q_pop(&sn->txq, &sent[n]))
			n++;
	}
	if (sim_q_pop(&bus->inject, &sent[n]))
		n++;
	if (!n)
		return false;
	bus->busy_slots++;
	b = sent[0];
	if (n > 1) {
		bus->collisions++;
		b = sim_collide(sent, n);
	}
	list_for_each_entry(sn, &bus->nodes, list)
		if (!sn->partition)
			sim_rx(bus, sn, b);
	return true;
}

static bool sim_pending(struct sim_bus *bus)
{
	struct sim_node *sn;

	if (bus->inject.len)
		return true;
	list_for_each_entry(sn, &bus->nodes, list)
		if (sn->txq.len || sn->dq_len)
			return true;
	return false;
}

/* Write time of the earliest byte waiting for the line, or U64_MAX. */
static u64 sim_next_tx(struct sim_bus *bus)
{
	struct sim_node *sn;
	u64 t = U64_MAX;

	if (bus->inject.len)
		return 0;
	list_for_each_entry(sn, &bus->nodes, list)
		if (sn->txq.len && sn->tx_at < t)
			t = sn->tx_at;
	return t;
}

static enum hrtimer_restart sim_tick(struct hrtimer *t)
{
	struct sim_bus *bus = container_of(t, struct sim_bus, timer);
	struct rpw_node *to[SIM_MAX_NODES];
	struct sim_node *sn, *from[SIM_MAX_NODES];
	unsigned int i, n = 0, slots = 0;
	u64 now = ktime_get_ns(), next;
	enum hrtimer_restart ret;

	spin_lock_bh(&bus->lock);
	if (READ_ONCE(bus->hold))
		bus->line_ns = now;	/* time passes, nothing moves */
	while (slots < SIM_BATCH) {
		next = sim_next_tx(bus);
		if (next == U64_MAX)
			break;		/* nothing to send */
		/*
		 * An idle gap: the line waits for the first byte written.
		 * A tick that runs late must not put bytes on the line
		 * before they were written: with them all in the queues, a
		 * frame started in time collided with one written later.
		 */
		if (next > bus->line_ns)
			bus->line_ns = next;
		if (bus->line_ns + bus->char_ns > now)
			break;
		bus->line_ns += bus->char_ns;
		slots++;
		sim_slot(bus);
	}
	/* Idle, or we fell behind (a busy host): time does not pile up. */
	if (bus->line_ns + bus->char_ns <= now && slots >= SIM_BATCH)
		bus->line_ns = now;
	list_for_each_entry(sn, &bus->nodes, list) {
		sim_release_delayed(sn, now);
		if (!sn->rxlen)
			continue;
		from[n] = sn;
		to[n++] = sn->node;
	}
	spin_unlock_bh(&bus->lock);

	/*
	 * Deliver without the bus lock: the MAC may answer at once and
	 * write() takes it.  Nodes cannot go away under us: destroy unlinks
	 * them and then waits for this callback with hrtimer_cancel().
	 */
	for (i = 0; i < n; i++) {
		rpw_node_rx_at(to[i], from[i]->rx, from[i]->rxlen, now);
		from[i]->rxlen = 0;
	}

	spin_lock_bh(&bus->lock);
	if (sim_pending(bus)) {
		hrtimer_forward_now(t, ns_to_ktime(tick_us * NSEC_PER_USEC));
		ret = HRTIMER_RESTART;
	} else {
		bus->running = false;
		ret = HRTIMER_NORESTART;
	}
	spin_unlock_bh(&bus->lock);
	return ret;
}

/* Caller holds bus->lock. */
static void sim_kick(struct sim_bus *bus)
{
	if (bus->running)
		return;
	bus->running = true;
	bus->line_ns = ktime_get_ns();
	hrtimer_start(&bus->timer, ns_to_ktime(tick_us * NSEC_PER_USEC), HRTIMER_MODE_REL_SOFT);
}

static void sim_write(struct rpw_node *node, const u8 *buf, size_t len)
{
	struct sim_node *sn = node->priv;
	struct sim_bus *bus = sn->bus;
	size_t n;

	spin_lock_bh(&bus->lock);
	if (!sn->txq.len)
		sn->tx_at = ktime_get_ns();
	n = sim_q_push(&sn->txq, buf, len);
	if (n < len)
		sn->overflow += len - n;
	sim_kick(bus);
	spin_unlock_bh(&bus->lock);
}

static void sim_flush(struct rpw_node *node)
{
	struct sim_node *sn = node->priv;

	spin_lock_bh(&sn->bus->lock);
	sn->txq.len = 0;
	spin_unlock_bh(&sn->bus->lock);
}

static const struct rpw_transport_ops sim_tops = {
	.write = sim_write,
	.flush = sim_flush,
};

static int sim_bool_set(void *data, u64 val, bool frozen)
{
	struct sim_node *sn = data;

	if (val > 1)
		return -EINVAL;
	spin_lock_bh(&sn->bus->lock);
	if (frozen)
		sn->frozen = val;
	else
		sn->partition = val;
	spin_unlock_bh(&sn->bus->lock);
	if (frozen)
		rpw_node_set_frozen(sn->node, val);
	return 0;
}

static int sim_partition_set(void *data, u64 val)
{
	return sim_bool_set(data, val, false);
}

static int sim_partition_get(void *data, u64 *val)
{
	*val = ((struct sim_node *)data)->partition;
	return 0;
}

static int sim_frozen_set(void *data, u64 val)
{
	return sim_bool_set(data, val, true);
}

static int sim_frozen_get(void *data, u64 *val)
{
	*val = ((struct sim_node *)data)->frozen;
	return 0;
}

DEFINE_DEBUGFS_ATTRIBUTE(sim_partition_fops, sim_partition_get,
			 sim_partition_set, "%llu\n");
DEFINE_DEBUGFS_ATTRIBUTE(sim_frozen_fops, sim_frozen_get, sim_frozen_set,
			 "%llu\n");

static int sim_stats_show(struct seq_file *m, void *v)
{
	struct sim_bus *bus = m->private;
	struct sim_node *sn;

	spin_lock_bh(&bus->lock);
	seq_printf(m, "busy_slots %llu\ncollisions %llu\nnodes %u\n",
		   bus->busy_slots, bus->collisions, bus->nnodes);
	list_for_each_entry(sn, &bus->nodes, list)
		seq_printf(m, "node %s queued %u overflow %llu\n",
			   sn->node->name, sn->txq.len, sn->overflow);
	spin_unlock_bh(&bus->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(sim_stats);

static ssize_t sim_inject_write(struct file *file, const char __user *ubuf,
				size_t count, loff_t *ppos)
{
	struct sim_bus *bus = file->private_data;
	u8 buf[256];
	size_t n = min(count, sizeof(buf));

	if (copy_from_user(buf, ubuf, n))
		return -EFAULT;
	spin_lock_bh(&bus->lock);
	n = sim_q_push(&bus->inject, buf, n);
	if (n)
		sim_kick(bus);
	spin_unlock_bh(&bus->lock);
	return n ? n : -ENOSPC;
}

static const struct file_operations sim_inject_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = sim_inject_write,
	.llseek = noop_llseek,
};

static struct rpw_node *sim_create(u32 busno, struct netlink_ext_ack *extack)
{
	struct sim_bus *bus = &sim_buses[busno];
	struct rpw_node *node;
	struct sim_node *sn;

	sn = kvzalloc(sizeof(*sn), GFP_KERNEL);
	if (!sn)
		return ERR_PTR(-ENOMEM);
	sn->bus = bus;

	mutex_lock(&sim_mutex);
	if (bus->nnodes >= SIM_MAX_NODES) {
		NL_SET_ERR_MSG_MOD(extack, "simulated bus is full (64 nodes)");
		node = ERR_PTR(-ENOSPC);
		goto err;
	}
	node = rpw_node_create(RACKPWR_KIND_SIM, NULL, busno,
			       RPW_MAC_PROFILE_UART, &sim_tops, sn);
	if (IS_ERR(node))
		goto err;
	sn->node = node;
	sn->dir = debugfs_create_dir(node->name, bus->dir);
	debugfs_create_u32("ber_ppm", 0600, sn->dir, &sn->ber_ppm);
	debugfs_create_u32("drop_ppm", 0600, sn->dir, &sn->drop_ppm);
	debugfs_create_u32("delay_us", 0600, sn->dir, &sn->delay_us);
	debugfs_create_file_unsafe("partition", 0600, sn->dir, sn,
				   &sim_partition_fops);
	debugfs_create_file_unsafe("frozen", 0600, sn->dir, sn,
				   &sim_frozen_fops);
	spin_lock_bh(&bus->lock);
	list_add_tail(&sn->list, &bus->nodes);
	bus->nnodes++;
	spin_unlock_bh(&bus->lock);
	mutex_unlock(&sim_mutex);
	return node;

err:
	mutex_unlock(&sim_mutex);
	kvfree(sn);
	return node;
}

/* Caller holds sim_mutex. */
static void sim_destroy_locked(struct sim_node *sn)
{
	struct sim_bus *bus = sn->bus;

	debugfs_remove_recursive(sn->dir);
	spin_lock_bh(&bus->lock);
	list_del(&sn->list);
	bus->nnodes--;
	spin_unlock_bh(&bus->lock);
	/* Wait out a tick that may still deliver to this node, then resume. */
	hrtimer_cancel(&bus->timer);
	spin_lock_bh(&bus->lock);
	bus->running = false;
	if (sim_pending(bus))
		sim_kick(bus);
	spin_unlock_bh(&bus->lock);

	/* No more rx; the core stops the MAC, which stops our write(). */
	rpw_node_destroy(sn->node);
	kvfree(sn);
}

static void sim_destroy(struct rpw_node *node)
{
	bool dead;

	mutex_lock(&sim_mutex);
	/* Two node-del requests may race; the loser finds the node dead. */
	spin_lock_bh(&node->lock);
	dead = node->dead;
	spin_unlock_bh(&node->lock);
	if (!dead)
		sim_destroy_locked(node->priv);
	mutex_unlock(&sim_mutex);
}

static const struct rpw_kind_ops sim_kind = {
	.owner = THIS_MODULE,
	.create = sim_create,
	.destroy = sim_destroy,
};

static int __init sim_init(void)
{
	char name[16];
	unsigned int i;
	int err;

	if (tick_us < 50 || tick_us > 5000 || baud < 1200 || baud > 1000000)
		return -EINVAL;
	sim_debugfs = debugfs_create_dir("rackpwr_sim", NULL);
	for (i = 0; i < RPW_SIM_BUSES; i++) {
		struct sim_bus *bus = &sim_buses[i];

		spin_lock_init(&bus->lock);
		INIT_LIST_HEAD(&bus->nodes);
		hrtimer_init(&bus->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_SOFT);
		bus->timer.function = sim_tick;
		bus->char_ns = DIV_ROUND_UP(RPW_MAC_CHAR_BITS * NSEC_PER_SEC, baud);
		prandom_seed_state(&bus->rnd, 0x5eed0000 + i);
		snprintf(name, sizeof(name), "bus%u", i);
		bus->dir = debugfs_create_dir(name, sim_debugfs);
		debugfs_create_file("stats", 0400, bus->dir, bus,
				    &sim_stats_fops);
		debugfs_create_file("inject", 0200, bus->dir, bus,
				    &sim_inject_fops);
		debugfs_create_u32("hold", 0600, bus->dir, &bus->hold);
	}
	err = rpw_kind_register(RACKPWR_KIND_SIM, &sim_kind);
	if (err)
		debugfs_remove_recursive(sim_debugfs);
	return err;
}

static void __exit sim_exit(void)
{
	unsigned int i;

	/* No new nodes; then take down every node still on a bus. */
	rpw_kind_unregister(RACKPWR_KIND_SIM);
	mutex_lock(&sim_mutex);
	for (i = 0; i < RPW_SIM_BUSES; i++) {
		struct sim_bus *bus = &sim_buses[i];

		while (!list_empty(&bus->nodes))
			sim_destroy_locked(list_first_entry(&bus->nodes,
							    struct sim_node,
							    list));
		hrtimer_cancel(&bus->timer);
	}
	mutex_unlock(&sim_mutex);
	debugfs_remove_recursive(sim_debugfs);
}

module_init(sim_init);
module_exit(sim_exit);

MODULE_DESCRIPTION("rackpwr simulated RS-485 buses (for tests only)");
MODULE_AUTHOR("rackpwr developers");
MODULE_LICENSE("GPL");
