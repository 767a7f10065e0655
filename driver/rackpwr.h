/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rackpwr - kernel-internal interfaces between the protocol core, the
 * transports (ldisc, serdev, simulated bus), the protocols and the netlink
 * family.
 *
 * Layering (A -> B: A calls functions B defines):
 *
 *	transports (ldisc.c, serdev.c, sim.c)	-> core (core.c)
 *	protocols (elect.c, capacity.c, alloc.c)	-> core
 *	capacity.c -> psu.c, alloc.c -> server.c (their node's hardware)
 *	alloc.c -> capacity.c, elect.c (accessors: the usable capacity,
 *	  which modules are power-supply modules)
 *	netlink (netlink.c)			-> core, protocols' accessors
 *	core, netlink				-> auth (auth.c: a node's keys)
 *	main.c					-> every layer's init and exit
 *	hardware (psu.c, server.c)		-> its pure code only; the
 *						   protocols call it
 *
 * and the glue calls its pure code (rpw_*.c), which calls nobody.  Calls
 * the other way go through ops the upper layer registers: struct
 * rpw_transport_ops (core -> transport), struct rpw_proto_ops (core ->
 * protocols), struct rpw_notify_ops (core, protocols -> netlink).  Nobody
 * but the core touches a node's MAC; netlink reads the MAC and the
 * protocols' state through accessors that copy it under the node lock.
 *
 * Lock order (outer first):
 *
 *	sim_mutex (sim.c)
 *	  rpw_nodes_mutex (core.c: node table, node kinds)
 *	rpw_cap_refresh_lock (capacity.c, mutex; the assembly API's locks
 *	  are taken under it, never under node->lock)
 *	rpw_alloc_hw_mutex (alloc.c, mutex; the server API's locks are taken
 *	  under it, never under node->lock)
 *	rpw_auth_mutex (auth.c, mutex: key-set, key-del, a node's keys freed
 *	  by rpw_node_destroy(), under sim_mutex there)
 *	node->lock (spinlock, BH off: MAC, timers, protocol state, leader)
 *	  transport locks taken in ->write/->flush (rpw_txbuf.lock with IRQs
 *	  off, the simulated bus's lock)
 *
 * Transports feed received bytes without any lock of theirs held.
 * Functions documented "node lock held" assert it (lockdep).
 */
#ifndef _RACKPWR_H
#define _RACKPWR_H

#include <linux/hrtimer.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/netlink.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/completion.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <uapi/linux/rackpwr.h>

#include "rpw_auth.h"
#include "rpw_cap.h"
#include "rpw_elect.h"
#include "rpw_mac.h"

#define RPW_NAME_LEN	20
#define RPW_SIM_BUSES	16
#define RPW_DEFAULT_MAX_ADDR	64
/*
 * Urgent bus access (priority slots, U-points) for the election's frames:
 * J no longer grows with the rack and the sweep, and failover takes
 * ~0.1 s instead of 1-2 s (rackpwr-election.rst, "Bounded access").
 */
#define RPW_DEFAULT_PRIO_PERIOD	4

struct rpw_node;
struct rpw_auth_node;

/* A transport moves bytes; everything else is the core's job. */
struct rpw_transport_ops {
	/*
	 * Put @len bytes on the line.  Called with the node lock held (BH
	 * disabled): must not sleep.  Bytes that do not fit now are the
	 * transport's to keep and send later, in order.
	 */
	void (*write)(struct rpw_node *node, const u8 *buf, size_t len);
	/*
	 * Drop bytes not yet sent (collision); same context as write.  A
	 * tty's flush_buffer may sleep (a pty's takes a mutex): the tty
	 * transports drop their own queue here and flush the tty from a
	 * work item (rpw_txbuf_abort()).
	 */
	void (*flush)(struct rpw_node *node);
	/*
	 * The line's speed is the node's baud (a tty's, set with stty): the
	 * transport reports it with rpw_node_set_baud(), and a configuration
	 * asking for another rate is refused.
	 */
	bool line_rate;
};

/*
 * Transmit buffer of the tty-based transports (ldisc, serdev): the MAC
 * hands over a whole frame at once, the UART takes what fits and asks for
 * more through its write_wakeup.  tty write() must not sleep (tty_driver.h)
 * and is called here in atomic context; flush_buffer may sleep and is
 * called only from the transport's flush work.  Between an abort and the
 * end of that flush the buffer holds every new byte back, so the flush
 * never drops bytes written after the abort.
 */
struct rpw_txbuf {
	spinlock_t lock;	/* head, len, buf, held, flush_gen */
	size_t head;
	size_t len;
	u64 overflow;
	bool held;		/* output stopped until the tty is flushed */
	unsigned int flush_gen;	/* aborts so far */
	u8 buf[4 * RPW_MAX_WIRE];
};

/* Puts bytes into the UART; returns how many it took, or -errno. */
typedef int (*rpw_txbuf_out_t)(void *ctx, const u8 *buf, size_t len);

void rpw_txbuf_init(struct rpw_txbuf *tb);
/* Queue @len bytes and push; returns the bytes still queued. */
size_t rpw_txbuf_write(struct rpw_txbuf *tb, const u8 *buf, size_t len,
		       rpw_txbuf_out_t out, void *ctx);
/* Push what the UART takes now; returns the bytes still queued. */
size_t rpw_txbuf_push(struct rpw_txbuf *tb, rpw_txbuf_out_t out, void *ctx);
/*
 * Collision: drop the queued bytes and hold output back until the caller's
 * flush work calls rpw_txbuf_flushed().  Atomic context; never sleeps.
 */
void rpw_txbuf_abort(struct rpw_txbuf *tb);
/* Flush work: the abort generation to pass to rpw_txbuf_flushed(). */
unsigned int rpw_txbuf_flush_gen(struct rpw_txbuf *tb);
/*
 * Flush work, after flushing the tty: output resumes unless another abort
 * came meanwhile (its work flushes again).  Returns the bytes still queued.
 */
size_t rpw_txbuf_flushed(struct rpw_txbuf *tb, unsigned int gen,
			 rpw_txbuf_out_t out, void *ctx);

/* Configuration as set over netlink or firmware; 0 = keep/default. */
struct rpw_node_params {
	u8 addr;
	u8 role;		/* enum rackpwr_role */
	u8 max_retries;
	bool has_max_retries;
	bool has_turnaround;	/* 0 is a valid turnaround */
	bool has_prio_period;	/* 0 turns urgent access off */
	u8 prio_period;
	u8 max_addr;
	u32 baud;
	u32 t_ifs_us;
	u32 t_slot_us;
	u32 t_turnaround_us;
	u32 ack_timeout_us;
	u32 hb_us;		/* election timers */
	u8 miss;
	u32 bus_delay_us;
	/* I2C adapter number, or RPW_I2C_BUS_AUTO (psu.h) */
	int i2c_bus;
	bool has_i2c_bus;
};

/* Who leads the bus, as the election last published it (node lock). */
struct rpw_leader {
	u32 epoch;		/* highest epoch known (ballot), 0 before any */
	u8 primary;		/* address followed, own when primary, or 0 */
	u8 state;		/* enum rackpwr_elect_state */
	bool acting;		/* primary inside its lease, when published */
	/* Our confirmed lease windows [start, end) while primary, local ns. */
	u64 lease_start[2];
	u64 lease_end[2];
};

#define RPW_PROTOS		4	/* election, capacity, allocation, spare */
#define RPW_TIMER_OFF		(~(u64)0)

/* A protocol's per-node state and its timer, owned by the core. */
struct rpw_proto_slot {
	void *priv;		/* the protocol's, from attach */
	struct rpw_node *node;
	struct hrtimer timer;
	u64 timer_at;		/* RPW_TIMER_OFF when not wanted */
};

struct rpw_node {
	struct kref ref;
	struct rcu_head rcu;
	u32 id;
	u32 kind;		/* enum rackpwr_kind */
	u32 bus;		/* simulated bus number */
	char name[RPW_NAME_LEN];
	/* Notifications lost other than for lack of listeners (netlink.c). */
	atomic64_t ntf_dropped;

	const struct rpw_transport_ops *tops;
	void *priv;		/* transport's */

	/* Protects everything below; taken with BH disabled. */
	spinlock_t lock;
	bool dead;
	bool frozen;		/* test knob: a stalled module */
	u8 role;
	enum rpw_mac_profile profile;
	struct rpw_mac_cfg cfg;
	bool mac_up;		/* address configured, MAC running */
	struct rpw_mac *mac;	/* NULL until mac_up */
	struct hrtimer timer;
	u64 timer_at;		/* RPW_MAC_TIMER_OFF when not wanted */

	/* Election settings as configured; 0 = default/derived. */
	u32 hb_us;
	u32 bus_delay_us;
	u8 miss;

	/*
	 * I2C adapter this node's hardware sits on (a power-supply node's
	 * assembly): an adapter number or RPW_I2C_BUS_AUTO, resolved
	 * whenever it is needed (capacity.c).
	 */
	int i2c_bus;
	struct rpw_leader leader;
	/* Keys and replay state (auth.c), NULL before the first key-set. */
	struct rpw_auth_node *auth;
	unsigned long withdraw;	/* protocols (by slot) with frames to cancel */
	struct rpw_proto_slot proto[RPW_PROTOS];	/* by registration */
};

/* A node's full configuration: its current one plus netlink's params. */
struct rpw_node_setup {
	struct rpw_mac_cfg cfg;
	enum rpw_mac_profile profile;
	u32 hb_us;
	u32 bus_delay_us;
	u8 role;
	u8 miss;
};

/* How a protocol's frame reaches the bus (see struct rpw_mac_txreq). */
struct rpw_txopts {
	enum rpw_mac_class cls;	/* queue room it takes (rpw_mac.h) */
	bool keep_seq;		/* the protocol numbered it */
	bool urgent;		/* urgent access */
	bool defer;		/* urgent, after the next frame */
	bool ahead;		/* ordinary access, queued before ordinary */
	bool answered;		/* answers follow (flag ANS, rpw_mac.h) */
	u64 ttl_ns;		/* 0, or drop it unsent this long after queueing */
	u64 expires_ns;		/* 0, or drop it unsent after this (not ttl_ns) */
};

/*
 * A protocol (election 0x1_, capacity 0x2_, allocation 0x3_) plugs into the
 * core for one frame-type range.  The core dispatches received frames and
 * the results of the protocol's own frames by range, runs one timer per
 * protocol and node, and tells every protocol when the leader view
 * (role, primary, epoch, lease) changes.  Optional callbacks may be NULL.
 */
struct rpw_proto_ops {
	const char *name;
	u8 range;		/* RPW_T_RANGE() of its frame types */
	/* Process context: node created; *@priv is handed to the rest. */
	int (*attach)(struct rpw_node *node, void **priv);
	/* Process context: node destroyed, its timers stopped: free @priv. */
	void (*detach)(struct rpw_node *node, void *priv);
	/* Would @su configure a node?  No side effects; reason in *@why. */
	int (*check)(const struct rpw_node_setup *su, const char **why);

	/* The rest run with the node lock held (BH off): must not sleep. */
	/* The MAC (re)started with @su, after check() accepted it. */
	void (*start)(struct rpw_node *node, void *priv,
		      const struct rpw_node_setup *su, u64 now);
	/* Before the MAC stops (reconfiguration, destruction). */
	void (*stop)(struct rpw_node *node, void *priv, u64 now);
	void (*rx)(struct rpw_node *node, void *priv, const struct rpw_frame *f,
		   u64 now);
	/* Result of a frame it queued with rpw_node_queue_locked(). */
	void (*tx_done)(struct rpw_node *node, void *priv,
			const struct rpw_frame *f, bool ok, u64 now);
	/* Its timer (rpw_node_proto_timer()) expired. */
	void (*timer)(struct rpw_node *node, void *priv, u64 now);
	/* Role or epoch changed: node->leader was @old. */
	void (*leader)(struct rpw_node *node, void *priv,
		       const struct rpw_leader *old);
	/* Which of its queued frames rpw_node_withdraw_later() cancels. */
	bool (*withdraw)(const struct rpw_frame *f);
};

/* Election view for netlink, taken under the node lock. */
struct rpw_elect_view {
	bool up;
	bool acting;
	u8 state;
	u8 primary;
	u32 epoch;
	struct rpw_elect_cfg cfg;
	u32 tx_refused;		/* frames the MAC refused to queue */
	u32 rx_unearned;	/* later epochs not adopted */
	u32 rejoins;		/* outvoted: epoch forgotten */
	u64 late_ns;		/* largest timer lateness measured lately */
};

/* A frame in flight, shared between its submitter and the MAC. */
struct rpw_tx {
	struct rpw_mac_txreq req;
	refcount_t ref;
	struct completion done;
	int result;
	bool internal;		/* sent by the core itself: nobody waits */
};

/* core.c */
struct rpw_node *rpw_node_create(u32 kind, const char *name, u32 bus,
				 enum rpw_mac_profile profile,
				 const struct rpw_transport_ops *tops, void *priv);
int rpw_node_configure(struct rpw_node *node, const struct rpw_node_params *p,
		       struct netlink_ext_ack *extack);
int rpw_node_set_baud(struct rpw_node *node, u32 baud, const char **why);
int rpw_node_params_check(enum rpw_mac_profile profile,
			  const struct rpw_node_params *p,
			  struct netlink_ext_ack *extack);
void rpw_node_destroy(struct rpw_node *node);
void rpw_node_put(struct rpw_node *node);
struct rpw_node *rpw_node_get_by_id(u32 id);
struct rpw_node *rpw_node_next(unsigned long *index);
void rpw_node_rx(struct rpw_node *node, const u8 *buf, size_t len);
void rpw_node_rx_at(struct rpw_node *node, const u8 *buf, size_t len, u64 at);
void rpw_node_set_frozen(struct rpw_node *node, bool frozen);
int rpw_node_send(struct rpw_node *node, const struct rpw_frame *f,
		  enum rpw_mac_class cls, unsigned long timeout);
unsigned long rpw_node_send_timeout(struct rpw_node *node);
void rpw_node_snapshot(struct rpw_node *node, struct rpw_mac_cfg *cfg,
		       u8 *role, bool *up, struct rpw_mac_stats *stats);
unsigned int rpw_node_peer_count(struct rpw_node *node);
int rpw_node_peer_next(struct rpw_node *node, int addr,
		       struct rpw_mac_peer *out);

/* The echo latency the MAC measured and the timing it suggests. */
struct rpw_node_line {
	struct rpw_mac_lat lat;
	u32 t_slot_us, t_ifs_us;	/* for lat.budget_us; 0 before */
};

bool rpw_node_line(struct rpw_node *node, struct rpw_node_line *out);

/* Protocols: register before the first node exists, unregister after. */
int rpw_proto_register(const struct rpw_proto_ops *ops);
void rpw_proto_unregister(const struct rpw_proto_ops *ops);
/* Node lock held: @ops' state of @node, NULL before attach/after detach. */
void *rpw_node_priv(struct rpw_node *node, const struct rpw_proto_ops *ops);
/*
 * Node lock held: queue a frame nobody waits for; @o NULL = an ordinary
 * frame of the core's protocols (RPW_MAC_CLASS_PROTO).
 */
int rpw_node_queue_locked(struct rpw_node *node, const struct rpw_frame *f,
			  const struct rpw_txopts *o);
/* Node lock held: (re)arm @ops' timer of @node; RPW_TIMER_OFF cancels. */
void rpw_node_proto_timer(struct rpw_node *node,
			  const struct rpw_proto_ops *ops, u64 expires);
/*
 * Node lock held: cancel @ops' queued frames that its withdraw() picks.
 * The MAC cannot cancel from inside its callbacks: _later() marks them,
 * the core cancels after the bytes it feeds the MAC, or at once with
 * rpw_node_withdraw_locked() (outside MAC callbacks).
 */
void rpw_node_withdraw_later(struct rpw_node *node,
			     const struct rpw_proto_ops *ops);
void rpw_node_withdraw_locked(struct rpw_node *node);
/*
 * Node lock held: @ops' queued frames that its withdraw() picks and whose
 * expiry has not passed expire at @expires_ns instead (a lease renewed);
 * safe inside MAC callbacks.  Returns how many.
 */
unsigned int rpw_node_renew_locked(struct rpw_node *node,
				   const struct rpw_proto_ops *ops,
				   u64 expires_ns);
/* Node lock held: the election publishes who leads; protocols are told. */
void rpw_node_set_leader(struct rpw_node *node, const struct rpw_leader *l);
/* Node lock held: we are the primary and our lease holds at @now. */
bool rpw_node_acting(struct rpw_node *node, u64 now);

/* Node kinds that can be created over netlink (the simulated bus). */
struct rpw_kind_ops {
	struct module *owner;
	struct rpw_node *(*create)(u32 bus, struct netlink_ext_ack *extack);
	void (*destroy)(struct rpw_node *node);
};

int rpw_kind_register(u32 kind, const struct rpw_kind_ops *ops);
void rpw_kind_unregister(u32 kind);
struct rpw_node *rpw_kind_create(u32 kind, u32 bus,
				 struct netlink_ext_ack *extack);
int rpw_kind_destroy(struct rpw_node *node, struct netlink_ext_ack *extack);

/* elect.c: the election's glue */
int rpw_elect_proto_init(void);
void rpw_elect_proto_exit(void);
void rpw_node_elect_view(struct rpw_node *node, struct rpw_elect_view *v);
int rpw_node_step_down(struct rpw_node *node, struct netlink_ext_ack *extack);
/* The power-supply modules the election heard recently, by address. */
void rpw_node_elect_members(struct rpw_node *node, unsigned long *map,
			    unsigned int nbits);
/*
 * Node lock held: following a primary, the end of the lease it may still
 * hold (rpw_elect_primary_lease()), else 0.  Read when needed rather than
 * published: it changes with every heartbeat.
 */
u64 rpw_node_primary_lease_locked(struct rpw_node *node);

/* capacity.c */
int rpw_cap_init(void);
void rpw_cap_exit(void);
int rpw_cap_node_next(struct rpw_node *node, int addr,
		      struct rpw_cap_entry *out, bool *local);
int rpw_cap_node_i2c_bus(struct rpw_node *node, bool *is_auto);
/* Node lock held: usable mW of every assembly the node knows (both banks). */
u64 rpw_cap_usable_mw_locked(struct rpw_node *node);
void rpw_cap_set_digest_locked(struct rpw_node *node, u32 digest);
u32 rpw_cap_node_digest(struct rpw_node *node);

/*
 * alloc.c: power allocation.  A chassis node's server slots, and the
 * primary's allocation table with its policy holder (a netlink portid).
 * Views are copied under the node lock for netlink.
 */
struct rpw_slot_view {
	u8 slot;
	u8 state;		/* enum rackpwr_slot_state */
	u8 prio;
	u8 trigger;		/* enum rackpwr_trigger */
	u8 reason;		/* enum rackpwr_reason */
	u8 primary;
	bool present;
	bool enabled;
	u32 epoch;
	u32 want_mw;
	u32 held_mw;
	u32 req_id;
	char ident[24];
};

/* One entry of the primary's table. */
struct rpw_alloc_view {
	u8 chassis;
	u8 slot;
	u8 state;		/* enum rackpwr_alloc_state */
	u8 prio;
	u8 reason;		/* enum rackpwr_reason */
	bool gone;		/* left the table (alloc-ntf only) */
	u32 want_mw;
	u32 held_mw;
	u32 req_id;
	u64 changed_ns;
};

struct rpw_power_view {
	u32 epoch;
	bool acting;
	bool recovering;
	bool bound;
	u32 pending;
	u64 usable_mw;
	u64 granted_mw;
	u64 refused_invariant;
	u64 nopolicy_denied;
	u64 rx_stale;
};

/* A policy holder's answer (power-decide) or shed (power-shed). */
struct rpw_power_cmd {
	u32 portid;		/* the caller */
	u32 epoch;		/* the caller's view */
	u8 chassis;
	u8 slot;
	u8 verdict;		/* enum rackpwr_verdict */
	u8 reason;
	u32 req_id;
	u32 mw;
};

int rpw_alloc_init(void);
void rpw_alloc_exit(void);
/* Process context; -EOPNOTSUPP (extack) unless a chassis node. */
int rpw_alloc_slot_get(struct rpw_node *node, unsigned int slot,
		       struct rpw_slot_view *v, struct netlink_ext_ack *extack);
/* @prio < 0: keep; @power 0: none, else enum rackpwr_slot_power. */
int rpw_alloc_slot_set(struct rpw_node *node, unsigned int slot, int prio,
		       u32 power, struct netlink_ext_ack *extack);
/* For dumps: the entry at position @pos or the next one; -ENOENT at the end. */
int rpw_alloc_entry_next(struct rpw_node *node, int pos,
			 struct rpw_alloc_view *v, u32 *epoch);
void rpw_alloc_power_view(struct rpw_node *node, struct rpw_power_view *v);
/* @digest: the holder's policy digest to announce, NULL: unchanged. */
int rpw_alloc_policy_bind(struct rpw_node *node, u32 portid,
			  const u32 *digest, struct netlink_ext_ack *extack);
/* The socket @portid is gone: every binding it held ends. */
void rpw_alloc_policy_release(u32 portid);
int rpw_alloc_decide(struct rpw_node *node, const struct rpw_power_cmd *c,
		     struct netlink_ext_ack *extack);
int rpw_alloc_shed(struct rpw_node *node, const struct rpw_power_cmd *c,
		   struct netlink_ext_ack *extack);
/* The adapter a chassis node is bound to, or -ENODEV; process context. */
int rpw_alloc_node_i2c_bus(struct rpw_node *node, bool *is_auto);

/*
 * Events reported up to user space: netlink registers these, the core and
 * the protocols call the rpw_notify_*() wrappers, which do nothing while
 * nobody is registered.
 */
struct rpw_notify_ops {
	/* Process context: node created, reconfigured or deleted. */
	void (*node_change)(struct rpw_node *node, bool deleted);
	/* The rest run with the node lock held (BH off): must not sleep. */
	void (*frame_rx)(struct rpw_node *node, const struct rpw_frame *f);
	void (*bus_event)(struct rpw_node *node, u32 event, u8 addr);
	void (*elect_event)(struct rpw_node *node, u32 event, u8 addr,
			    u32 epoch, u32 state);
	void (*capacity)(struct rpw_node *node, u8 addr,
			 const struct rpw_cap_entry *e, bool local);
	/* Power allocation (alloc.c): a slot, a request, an entry/event. */
	void (*slot)(struct rpw_node *node, const struct rpw_slot_view *v);
	void (*power_request)(struct rpw_node *node, u32 holder, u32 epoch,
			      const struct rpw_alloc_view *v);
	void (*alloc_event)(struct rpw_node *node, u32 event, u32 epoch,
			    const struct rpw_alloc_view *v);
};

/* Before the first node exists; NULL after the last one is gone. */
void rpw_notify_register(const struct rpw_notify_ops *ops);
void rpw_notify_node_change(struct rpw_node *node, bool deleted);
void rpw_notify_frame_rx(struct rpw_node *node, const struct rpw_frame *f);
void rpw_notify_bus_event(struct rpw_node *node, u32 event, u8 addr);
void rpw_notify_elect(struct rpw_node *node, u32 event, u8 addr, u32 epoch,
		      u32 state);
void rpw_notify_capacity(struct rpw_node *node, u8 addr,
			 const struct rpw_cap_entry *e, bool local);
void rpw_notify_slot(struct rpw_node *node, const struct rpw_slot_view *v);
/* To the policy holder @holder (0: none) and the power group. */
void rpw_notify_power_request(struct rpw_node *node, u32 holder, u32 epoch,
			      const struct rpw_alloc_view *v);
/* @event: enum rackpwr_power_event; @v NULL for a node-wide event. */
void rpw_notify_alloc(struct rpw_node *node, u32 event, u32 epoch,
		      const struct rpw_alloc_view *v);
/* Module exit, after every transport: no node may be left. */
void rpw_core_exit(void);

/* auth.c: authenticated frames (keys, crypto; rpw_auth.h is the logic) */
struct rpw_key_req {
	u8 id;			/* key id, 0 = none given */
	const u8 *key;		/* install this key as @id; NULL = none */
	unsigned int key_len;
	bool use;		/* send with @id from now on */
	bool has_mode;
	u8 mode;		/* enum rackpwr_auth_mode */
};

struct rpw_auth_view {
	u8 mode;		/* enum rackpwr_auth_mode */
	u8 tx_id;		/* key sent with, 0 = none */
	u8 rx_id;		/* the other key held, 0 = none */
};

/* Process context; all of @r is checked before anything changes. */
int rpw_node_key_set(struct rpw_node *node, const struct rpw_key_req *r,
		     struct netlink_ext_ack *extack);
int rpw_node_key_del(struct rpw_node *node, u8 id,
		     struct netlink_ext_ack *extack);
void rpw_node_auth_view(struct rpw_node *node, struct rpw_auth_view *v);
/* Process context, node dead: its keys are zeroed and freed. */
void rpw_node_auth_free(struct rpw_node *node);
/* The MAC's seal and open (ctx = node), node lock held. */
int rpw_node_auth_seal(void *ctx, struct rpw_frame *f);
enum rpw_auth_verdict rpw_node_auth_open(void *ctx, struct rpw_frame *f);

/* netlink.c */
int rpw_nl_init(void);
void rpw_nl_exit(void);

/* ldisc.c / serdev.c */
int rpw_ldisc_init(void);
void rpw_ldisc_exit(void);
int rpw_serdev_init(void);
void rpw_serdev_exit(void);

#endif /* _RACKPWR_H */
