// SPDX-License-Identifier: GPL-2.0-only
/*
 * busim - deterministic virtual-time RS-485 bus simulator running the real
 * MAC on every node.  The model is described in busim.h.
 */

#include <stdlib.h>
#include <string.h>

#include "busim.h"

#define BUSIM_TXQ	1024
#define BUSIM_RXQ	4096
#define BUSIM_POOL	64

enum busim_ev_type {
	BUSIM_EV_TICK = 1,	/* end of a character slot on the line */
	BUSIM_EV_RX,		/* deliver a node's received chunk */
	BUSIM_EV_TIMER,		/* a MAC timer */
	BUSIM_EV_USER,
};

struct busim_ev {
	u64 t;
	u64 order;
	u64 gen;
	int type;
	int node;
	void (*fn)(struct busim *sim, void *arg);
	void *arg;
};

struct busim_fifo {
	u8 buf[BUSIM_TXQ];
	unsigned int head, n;
	u64 since;		/* when the head byte became available */
};

struct busim_req {
	struct rpw_mac_txreq req;
	bool used;
};

struct busim_node {
	struct busim *sim;
	int idx;
	struct rpw_mac mac;
	struct busim_fifo tx;
	u8 rxq[BUSIM_RXQ];
	unsigned int rxn;
	bool rx_sched;
	u64 lat, jitter;
	double ber, drop;
	bool partitioned, frozen, timer_missed;
	u64 timer_gen;
	unsigned int pool_used;
	struct busim_req pool[BUSIM_POOL];
};

struct busim {
	struct busim_cfg cfg;
	struct busim_hooks hooks;
	u64 now;
	u64 tc;			/* character time, ns */
	u64 rng;
	u64 order;
	struct busim_ev *heap;
	size_t nheap, heap_cap;
	bool tick_sched;
	u64 tick_at;
	bool held;		/* busim_hold(): the line stands still */
	struct busim_fifo inject;
	struct busim_line_stats ls;
	struct busim_node *nodes;
};

/* ---- PRNG (splitmix64) and event heap ---------------------------------- */

u64 busim_rand(struct busim *sim)
{
	u64 z = (sim->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double busim_unit(struct busim *sim)
{
	return (busim_rand(sim) >> 11) * (1.0 / 9007199254740992.0);
}

static bool busim_ev_less(const struct busim_ev *a, const struct busim_ev *b)
{
	return a->t < b->t || (a->t == b->t && a->order < b->order);
}

static void busim_push(struct busim *sim, struct busim_ev ev)
{
	size_t i, p;

	if (sim->nheap == sim->heap_cap) {
		sim->heap_cap = sim->heap_cap ? 2 * sim->heap_cap : 256;
		sim->heap = realloc(sim->heap,
				    sim->heap_cap * sizeof(*sim->heap));
		if (!sim->heap)
			abort();
	}
	if (ev.t < sim->now)
		ev.t = sim->now;
	ev.order = sim->order++;
	i = sim->nheap++;
	while (i) {
		p = (i - 1) / 2;
		if (!busim_ev_less(&ev, &sim->heap[p]))
			break;
		sim->heap[i] = sim->heap[p];
		i = p;
	}
	sim->heap[i] = ev;
}

static struct busim_ev busim_pop(struct busim *sim)
{
	struct busim_ev top = sim->heap[0], last = sim->heap[--sim->nheap];
	size_t i = 0, c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= sim->nheap)
			break;
		if (c + 1 < sim->nheap &&
		    busim_ev_less(&sim->heap[c + 1], &sim->heap[c]))
			c++;
		if (!busim_ev_less(&sim->heap[c], &last))
			break;
		sim->heap[i] = sim->heap[c];
		i = c;
	}
	if (sim->nheap)
		sim->heap[i] = last;
	return top;
}

static void busim_push_simple(struct busim *sim, u64 t, int type, int node,
			      u64 gen)
{
	struct busim_ev ev = { .t = t, .type = type, .node = node, .gen = gen };

	busim_push(sim, ev);
}

/* ---- line ---------------------------------------------------------------- */

static void busim_fifo_put(struct busim *sim, struct busim_fifo *q,
			   const u8 *buf, size_t len)
{
	size_t i;

	if (!q->n)
		q->since = sim->now;
	for (i = 0; i < len && q->n < BUSIM_TXQ; i++, q->n++)
		q->buf[(q->head + q->n) % BUSIM_TXQ] = buf[i];
	if (!sim->tick_sched && !sim->held && q->n) {
		/* The next slot on the global grid, read at its end. */
		u64 start = (sim->now + sim->tc - 1) / sim->tc * sim->tc;

		sim->tick_sched = true;
		sim->tick_at = start + sim->tc;
		busim_push_simple(sim, sim->tick_at, BUSIM_EV_TICK, -1, 0);
	}
}

static bool busim_fifo_ready(const struct busim_fifo *q, u64 slot_start)
{
	return q->n && q->since <= slot_start;
}

static u8 busim_fifo_pop(struct busim_fifo *q, u64 now)
{
	u8 b = q->buf[q->head];

	q->head = (q->head + 1) % BUSIM_TXQ;
	q->n--;
	q->since = now;
	return b;
}

static void busim_deliver_chunk(struct busim_node *nd)
{
	u8 buf[BUSIM_RXQ];
	unsigned int n = nd->rxn;

	if (!n || nd->frozen)
		return;
	/* Copy first: the MAC's callbacks may run the simulator's API. */
	memcpy(buf, nd->rxq, n);
	nd->rxn = 0;
	rpw_mac_rx_bytes(&nd->mac, buf, n, nd->sim->now);
}

static void busim_node_rx(struct busim *sim, struct busim_node *nd, u8 b)
{
	int bit;

	if (nd->drop > 0 && busim_unit(sim) < nd->drop) {
		sim->ls.rx_dropped++;
		return;
	}
	if (nd->ber > 0) {
		u8 orig = b;

		for (bit = 0; bit < 8; bit++)
			if (busim_unit(sim) < nd->ber)
				b ^= 1u << bit;
		if (b != orig)
			sim->ls.rx_flipped++;
	}
	if (nd->rxn >= BUSIM_RXQ) {
		sim->ls.rx_overruns++;
		return;
	}
	nd->rxq[nd->rxn++] = b;
	if (nd->frozen)
		return;
	if (!nd->lat && !nd->jitter) {
		busim_deliver_chunk(nd);
		return;
	}
	if (!nd->rx_sched) {
		u64 d = nd->lat;

		if (nd->jitter)
			d += busim_rand(sim) % (nd->jitter + 1);
		nd->rx_sched = true;
		busim_push_simple(sim, sim->now + d, BUSIM_EV_RX, nd->idx, 0);
	}
}

static void busim_tick(struct busim *sim)
{
	unsigned int i, n = sim->cfg.nodes;
	u64 slot_start = sim->now - sim->tc;
	int writers = 0;
	bool wrote[n + 1];
	u8 byte[n + 1], line = 0;
	bool differ = false;

	sim->tick_sched = false;
	if (sim->held)
		return;		/* busim_hold() reschedules on release */
	for (i = 0; i <= n; i++) {
		struct busim_fifo *q = i < n ? &sim->nodes[i].tx : &sim->inject;

		wrote[i] = busim_fifo_ready(q, slot_start);
		if (!wrote[i])
			continue;
		byte[i] = busim_fifo_pop(q, sim->now);
		if (i < n && sim->nodes[i].partitioned)
			continue;	/* only its own transceiver hears it */
		if (writers && byte[i] != line)
			differ = true;
		line = byte[i];
		writers++;
	}
	if (writers) {
		sim->ls.slots_busy++;
		if (differ) {
			sim->ls.slots_collided++;
			line = (u8)busim_rand(sim);
		}
		if (sim->hooks.line)
			sim->hooks.line(sim, line, writers, sim->hooks.user);
	}

	for (i = 0; i <= n; i++) {
		struct busim_fifo *q = i < n ? &sim->nodes[i].tx : &sim->inject;

		if (q->n && !sim->tick_sched) {
			sim->tick_sched = true;
			sim->tick_at = sim->now + sim->tc;
			busim_push_simple(sim, sim->tick_at, BUSIM_EV_TICK,
					  -1, 0);
		}
	}

	for (i = 0; i < n; i++) {
		struct busim_node *nd = &sim->nodes[i];

		if (nd->partitioned) {
			if (wrote[i])
				busim_node_rx(sim, nd, byte[i]);
		} else if (writers) {
			busim_node_rx(sim, nd, line);
		}
	}
}

/* ---- MAC callbacks ------------------------------------------------------- */

static void busim_op_tx(void *ctx, const u8 *buf, size_t len)
{
	struct busim_node *nd = ctx;

	busim_fifo_put(nd->sim, &nd->tx, buf, len);
}

static void busim_op_tx_abort(void *ctx)
{
	struct busim_node *nd = ctx;
	struct busim *sim = nd->sim;

	/* The byte already in the shift register still goes out. */
	if (sim->tick_sched && busim_fifo_ready(&nd->tx, sim->tick_at - sim->tc))
		nd->tx.n = 1;
	else
		nd->tx.n = 0;
}

static void busim_op_rx(void *ctx, const struct rpw_frame *f)
{
	struct busim_node *nd = ctx;
	struct busim *sim = nd->sim;

	if (sim->hooks.rx)
		sim->hooks.rx(sim, nd->idx, f, sim->hooks.user);
}

static void busim_op_done(void *ctx, struct rpw_mac_txreq *req, int result)
{
	struct busim_node *nd = ctx;
	struct busim *sim = nd->sim;
	struct busim_req *pr = (struct busim_req *)req;

	if (sim->hooks.done)
		sim->hooks.done(sim, nd->idx, req, result, sim->hooks.user);
	if (pr >= nd->pool && pr < nd->pool + BUSIM_POOL) {
		pr->used = false;
		nd->pool_used--;
	}
}

static void busim_op_timer(void *ctx, u64 expires)
{
	struct busim_node *nd = ctx;

	nd->timer_gen++;
	if (expires != RPW_MAC_TIMER_OFF)
		busim_push_simple(nd->sim, expires, BUSIM_EV_TIMER, nd->idx,
				  nd->timer_gen);
}

static void busim_op_event(void *ctx, enum rpw_mac_event ev,
			   const struct rpw_frame *f)
{
	struct busim_node *nd = ctx;
	struct busim *sim = nd->sim;

	if (sim->hooks.event)
		sim->hooks.event(sim, nd->idx, ev, f, sim->hooks.user);
}

static int busim_op_seal(void *ctx, struct rpw_frame *f)
{
	struct busim_node *nd = ctx;
	struct busim *sim = nd->sim;

	return sim->hooks.seal ? sim->hooks.seal(sim, nd->idx, f,
						 sim->hooks.user) : 0;
}

static enum rpw_auth_verdict busim_op_open(void *ctx, struct rpw_frame *f)
{
	struct busim_node *nd = ctx;
	struct busim *sim = nd->sim;

	if (sim->hooks.open)
		return sim->hooks.open(sim, nd->idx, f, sim->hooks.user);
	return f->version == RPW_PROTO_VERSION ? RPW_AUTH_OK : RPW_AUTH_BAD;
}

static const struct rpw_mac_ops busim_ops = {
	.tx = busim_op_tx,
	.tx_abort = busim_op_tx_abort,
	.rx = busim_op_rx,
	.done = busim_op_done,
	.timer = busim_op_timer,
	.event = busim_op_event,
	.seal = busim_op_seal,
	.open = busim_op_open,
};

/* ---- API ----------------------------------------------------------------- */

struct busim *busim_new(const struct busim_cfg *cfg,
			const struct rpw_mac_cfg *macs,
			const struct busim_hooks *hooks)
{
	struct busim *sim;
	unsigned int i;

	if (!cfg->nodes || !cfg->baud)
		return NULL;
	sim = calloc(1, sizeof(*sim));
	if (!sim)
		return NULL;
	sim->cfg = *cfg;
	if (hooks)
		sim->hooks = *hooks;
	sim->tc = rpw_mac_char_ns(cfg->baud);
	sim->rng = cfg->seed;
	sim->nodes = calloc(cfg->nodes, sizeof(*sim->nodes));
	if (!sim->nodes) {
		free(sim);
		return NULL;
	}
	for (i = 0; i < cfg->nodes; i++) {
		struct busim_node *nd = &sim->nodes[i];
		struct rpw_mac_cfg mc = macs[i];
		u64 r = cfg->seed ^ (0x9e3779b97f4a7c15ULL * (i + 1));

		/* As the kernel does: a random nonce per module instance. */
		if (!mc.nonce && !cfg->no_nonce) {
			r = (r ^ (r >> 30)) * 0xbf58476d1ce4e5b9ULL;
			r = (r ^ (r >> 27)) * 0x94d049bb133111ebULL;
			mc.nonce = (u32)(r ^ (r >> 31));
		}
		nd->sim = sim;
		nd->idx = i;
		nd->lat = cfg->rx_lat_ns;
		nd->jitter = cfg->rx_jitter_ns;
		if (rpw_mac_init(&nd->mac, &mc, &busim_ops, nd, 0)) {
			busim_free(sim);
			return NULL;
		}
	}
	return sim;
}

void busim_free(struct busim *sim)
{
	if (!sim)
		return;
	free(sim->heap);
	free(sim->nodes);
	free(sim);
}

u64 busim_now(const struct busim *sim)
{
	return sim->now;
}

u64 busim_char_ns(const struct busim *sim)
{
	return sim->tc;
}

unsigned int busim_nodes(const struct busim *sim)
{
	return sim->cfg.nodes;
}

struct rpw_mac *busim_mac(struct busim *sim, int node)
{
	return &sim->nodes[node].mac;
}

int busim_node_of(const struct busim *sim, u8 addr)
{
	unsigned int i;

	for (i = 0; i < sim->cfg.nodes; i++)
		if (sim->nodes[i].mac.cfg.addr == addr)
			return i;
	return -1;
}

const struct busim_line_stats *busim_line_stats(const struct busim *sim)
{
	return &sim->ls;
}

int busim_submit(struct busim *sim, int node, struct rpw_mac_txreq *req)
{
	struct busim_node *nd = &sim->nodes[node];

	if (nd->frozen)
		return -EAGAIN;
	return rpw_mac_submit(&nd->mac, req, sim->now);
}

int busim_send(struct busim *sim, int node, u8 dst, u8 type, u8 flags,
	       const void *payload, u8 len)
{
	struct busim_node *nd = &sim->nodes[node];
	struct busim_req *pr = NULL;
	unsigned int i;
	int ret;

	for (i = 0; i < BUSIM_POOL; i++) {
		if (!nd->pool[i].used) {
			pr = &nd->pool[i];
			break;
		}
	}
	if (!pr || len > RPW_MAX_PAYLOAD)
		return pr ? -EINVAL : -ENOBUFS;
	memset(&pr->req, 0, sizeof(pr->req));
	pr->req.frame.dst = dst;
	pr->req.frame.type = type;
	pr->req.frame.flags = flags;
	/* The MAC sets ANS itself, for requests marked answered. */
	pr->req.answered = flags & RPW_F_ANS;
	pr->req.frame.len = len;
	if (len)
		memcpy(pr->req.frame.payload, payload, len);
	pr->used = true;
	nd->pool_used++;
	ret = busim_submit(sim, node, &pr->req);
	if (ret) {
		pr->used = false;
		nd->pool_used--;
	}
	return ret;
}

unsigned int busim_pool_used(const struct busim *sim, int node)
{
	return sim->nodes[node].pool_used;
}

void busim_inject(struct busim *sim, const u8 *bytes, size_t len)
{
	sim->ls.bytes_injected += len;
	busim_fifo_put(sim, &sim->inject, bytes, len);
}

/* Node range for the fault setters: @node < 0 means every node. */
static void busim_range(const struct busim *sim, int node, unsigned int *lo,
			unsigned int *hi)
{
	*lo = node < 0 ? 0 : (unsigned int)node;
	*hi = node < 0 ? sim->cfg.nodes : (unsigned int)node + 1;
}

void busim_set_ber(struct busim *sim, int node, double ber)
{
	unsigned int i, lo, hi;

	busim_range(sim, node, &lo, &hi);
	for (i = lo; i < hi; i++)
		sim->nodes[i].ber = ber;
}

void busim_set_drop(struct busim *sim, int node, double p)
{
	unsigned int i, lo, hi;

	busim_range(sim, node, &lo, &hi);
	for (i = lo; i < hi; i++)
		sim->nodes[i].drop = p;
}

void busim_set_latency(struct busim *sim, int node, u64 lat_ns, u64 jitter_ns)
{
	unsigned int i, lo, hi;

	busim_range(sim, node, &lo, &hi);
	for (i = lo; i < hi; i++) {
		sim->nodes[i].lat = lat_ns;
		sim->nodes[i].jitter = jitter_ns;
	}
}

void busim_partition(struct busim *sim, int node, bool on)
{
	unsigned int i, lo, hi;

	busim_range(sim, node, &lo, &hi);
	for (i = lo; i < hi; i++)
		sim->nodes[i].partitioned = on;
}

void busim_hold(struct busim *sim, bool on)
{
	unsigned int i;

	sim->held = on;
	if (on || sim->tick_sched)
		return;
	for (i = 0; i <= sim->cfg.nodes; i++) {
		struct busim_fifo *q = i < sim->cfg.nodes ?
				       &sim->nodes[i].tx : &sim->inject;

		if (!q->n)
			continue;
		/* Everything written while held starts in the next slot. */
		sim->tick_sched = true;
		sim->tick_at = (sim->now + sim->tc - 1) / sim->tc * sim->tc +
			       sim->tc;
		busim_push_simple(sim, sim->tick_at, BUSIM_EV_TICK, -1, 0);
		return;
	}
}

void busim_freeze(struct busim *sim, int node, bool on)
{
	unsigned int i, lo, hi;

	busim_range(sim, node, &lo, &hi);
	for (i = lo; i < hi; i++) {
		struct busim_node *nd = &sim->nodes[i];
		bool was = nd->frozen;

		nd->frozen = on;
		if (!was || on)
			continue;
		/* Thawed: buffered input and a missed timer run now. */
		if (nd->rxn && !nd->rx_sched) {
			nd->rx_sched = true;
			busim_push_simple(sim, sim->now, BUSIM_EV_RX, nd->idx, 0);
		}
		if (nd->timer_missed) {
			nd->timer_missed = false;
			busim_push_simple(sim, sim->now, BUSIM_EV_TIMER, nd->idx,
					  nd->timer_gen);
		}
	}
}

void busim_at(struct busim *sim, u64 t,
	      void (*fn)(struct busim *sim, void *arg), void *arg)
{
	struct busim_ev ev = { .t = t, .type = BUSIM_EV_USER, .fn = fn,
			       .arg = arg, .node = -1 };

	busim_push(sim, ev);
}

static void busim_dispatch(struct busim *sim, const struct busim_ev *ev)
{
	struct busim_node *nd = ev->node >= 0 ? &sim->nodes[ev->node] : NULL;

	sim->now = ev->t;
	switch (ev->type) {
	case BUSIM_EV_TICK:
		busim_tick(sim);
		break;
	case BUSIM_EV_RX:
		nd->rx_sched = false;
		busim_deliver_chunk(nd);
		break;
	case BUSIM_EV_TIMER:
		if (ev->gen != nd->timer_gen)
			break;		/* re-armed or cancelled since */
		if (nd->frozen) {
			nd->timer_missed = true;
			break;
		}
		rpw_mac_timer_expired(&nd->mac, sim->now);
		break;
	case BUSIM_EV_USER:
		ev->fn(sim, ev->arg);
		break;
	}
}

u64 busim_run_until(struct busim *sim, u64 t)
{
	struct busim_ev ev;
	u64 n = 0;

	while (sim->nheap && sim->heap[0].t <= t) {
		ev = busim_pop(sim);
		busim_dispatch(sim, &ev);
		n++;
	}
	if (sim->now < t)
		sim->now = t;
	return n;
}

static bool busim_idle(const struct busim *sim)
{
	unsigned int i;

	if (sim->inject.n)
		return false;
	for (i = 0; i < sim->cfg.nodes; i++) {
		const struct busim_node *nd = &sim->nodes[i];

		if (nd->tx.n || nd->rxn || rpw_mac_busy(&nd->mac))
			return false;
	}
	return true;
}

bool busim_run_until_idle(struct busim *sim, u64 deadline)
{
	struct busim_ev ev;

	for (;;) {
		if (busim_idle(sim))
			return true;
		if (!sim->nheap || sim->heap[0].t > deadline) {
			if (sim->now < deadline)
				sim->now = deadline;
			return busim_idle(sim);
		}
		ev = busim_pop(sim);
		busim_dispatch(sim, &ev);
	}
}
