/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * busim - deterministic virtual-time simulator of the rackpwr RS-485 bus,
 * running the real MAC (driver/rpw_mac.c) on every node.
 *
 * Line model (like the in-kernel hub): a byte-slot channel.  Time is cut
 * into character slots of 10/baud seconds on a global grid; every node has
 * a transmit FIFO and puts one byte into each slot while it has bytes that
 * were written before the slot began.  One transmitter: its byte reaches
 * every node (the sender included: the echo).  Several: if all wrote the
 * same byte it survives, otherwise every node reads the same random byte.
 * Bytes are read at the end of their slot, then reach the node's MAC after
 * its receive latency (fixed + uniform jitter), in chunks as a tty flip
 * buffer would deliver them.
 *
 * Faults per node: bit error rate and byte drop probability on receive,
 * partition (the node hears only its own echo and nobody hears it), freeze
 * (no timer or receive processing; input is buffered; the UART keeps
 * sending what was already written).  Raw bytes can be injected.
 *
 * Everything is driven by one event heap ordered by (time, insertion
 * order) and one seeded PRNG, so a run is a pure function of its inputs.
 * The hooks let an upper layer (e.g. an election simulator) sit on top:
 * it receives frames and completions, and schedules its own callbacks with
 * busim_at().
 */
#ifndef _BUSIM_H
#define _BUSIM_H

#include "rpw_mac.h"

struct busim;

struct busim_hooks {
	void (*rx)(struct busim *sim, int node, const struct rpw_frame *f,
		   void *user);
	void (*done)(struct busim *sim, int node, struct rpw_mac_txreq *req,
		     int result, void *user);
	void (*event)(struct busim *sim, int node, enum rpw_mac_event ev,
		      const struct rpw_frame *f, void *user);
	/* Every occupied character slot: byte read, number of writers. */
	void (*line)(struct busim *sim, u8 byte, int writers, void *user);
	/*
	 * Optional, authenticated frames (rpw_mac_ops.seal/open).  Without
	 * them frames go out plain and version-2 frames are dropped.
	 */
	int (*seal)(struct busim *sim, int node, struct rpw_frame *f,
		    void *user);
	enum rpw_auth_verdict (*open)(struct busim *sim, int node,
				      struct rpw_frame *f, void *user);
	void *user;
};

struct busim_cfg {
	unsigned int nodes;
	u32 baud;
	u64 seed;
	u64 rx_lat_ns;		/* default receive latency, every node */
	u64 rx_jitter_ns;	/* plus uniform 0..jitter per chunk */
	bool no_nonce;		/* keep a MAC nonce of 0 (never skip) */
};

struct busim_line_stats {
	u64 slots_busy;		/* character slots with >= 1 writer */
	u64 slots_collided;	/* ... with writers that disagreed */
	u64 bytes_injected;
	u64 rx_flipped;		/* bytes corrupted by BER at a receiver */
	u64 rx_dropped;		/* bytes dropped at a receiver */
	u64 rx_overruns;	/* receive buffer full (frozen node) */
};

/*
 * @macs: one MAC configuration per node (addresses must be unique unless a
 * test wants a duplicate).  Returns NULL on a bad argument or MAC config.
 */
struct busim *busim_new(const struct busim_cfg *cfg,
			const struct rpw_mac_cfg *macs,
			const struct busim_hooks *hooks);
void busim_free(struct busim *sim);

u64 busim_now(const struct busim *sim);
u64 busim_char_ns(const struct busim *sim);
unsigned int busim_nodes(const struct busim *sim);
struct rpw_mac *busim_mac(struct busim *sim, int node);
int busim_node_of(const struct busim *sim, u8 addr);	/* -1 if none */
u64 busim_rand(struct busim *sim);
const struct busim_line_stats *busim_line_stats(const struct busim *sim);

/* Submit a caller-owned request at the current time. */
int busim_submit(struct busim *sim, int node, struct rpw_mac_txreq *req);
/*
 * Same, from a per-node pool of requests (-ENOBUFS when exhausted);
 * RPW_F_ANS in @flags submits it as answered (struct rpw_mac_txreq).
 */
int busim_send(struct busim *sim, int node, u8 dst, u8 type, u8 flags,
	       const void *payload, u8 len);
/* Requests of the pool currently owned by the MAC of @node. */
unsigned int busim_pool_used(const struct busim *sim, int node);

/* Bytes written by a phantom transmitter starting now. */
void busim_inject(struct busim *sim, const u8 *bytes, size_t len);

/* @node < 0: every node. */
void busim_set_ber(struct busim *sim, int node, double ber);
void busim_set_drop(struct busim *sim, int node, double p);
void busim_set_latency(struct busim *sim, int node, u64 lat_ns,
		       u64 jitter_ns);
void busim_partition(struct busim *sim, int node, bool on);
void busim_freeze(struct busim *sim, int node, bool on);
/*
 * The line stands still (like the in-kernel hub's debugfs "hold"): bytes
 * written stay in the transmitters' FIFOs, nobody reads anything, time
 * passes (echo timeouts run).  Released, every byte still queued goes out
 * from the next slot on: frames written while held meet there.
 */
void busim_hold(struct busim *sim, bool on);

/* Call @fn(sim, arg) at virtual time @t (>= now). */
void busim_at(struct busim *sim, u64 t,
	      void (*fn)(struct busim *sim, void *arg), void *arg);

/* Run every event up to and including @t; returns events processed. */
u64 busim_run_until(struct busim *sim, u64 t);
/*
 * Run until no MAC is busy, no byte is queued or in flight, or @deadline.
 * True when idle was reached.
 */
bool busim_run_until_idle(struct busim *sim, u64 deadline);

#endif /* _BUSIM_H */
