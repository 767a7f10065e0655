/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rackpwr - kernel-internal interfaces between the protocol core, the
 * transports (ldisc, serdev, simulated bus) and the netlink family.
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

/* A node's capacity state (capacity.c). */
struct rpw_cap {
	struct rpw_node *node;
	struct delayed_work work;
	struct mutex refresh;	/* orders own-assembly snapshots */
	bool kick;		/* promoted: query once the lease holds */
	struct rpw_cap_table tab;	/* under the node lock */
};

/* A transport moves bytes; everything else is the core's job. */
struct rpw_transport_ops {
	/*
	 * Put @len bytes on the line.  Called with the node lock held (BH
	 * disabled): must not sleep.  Bytes that do not fit now are the
	 * transport's to keep and send later, in order.
	 */
	void (*write)(struct rpw_node *node, const u8 *buf, size_t len);
	/* Drop bytes not yet sent (collision); same context as write. */
	void (*flush)(struct rpw_node *node);
};

/*
 * Transmit buffer of the tty-based transports (ldisc, serdev): the MAC
 * hands over a whole frame at once, the UART takes what fits and asks for
 * more through its write_wakeup.
 */
struct rpw_txbuf {
	spinlock_t lock;	/* head, len, buf */
	size_t head;
	size_t len;
	u64 overflow;
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
void rpw_txbuf_clear(struct rpw_txbuf *tb);

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

struct rpw_node {
	struct kref ref;
	struct rcu_head rcu;
	u32 id;
	u32 kind;		/* enum rackpwr_kind */
	u32 bus;		/* simulated bus number */
	char name[RPW_NAME_LEN];

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
	struct rpw_mac *mac;
	struct hrtimer timer;
	u64 timer_at;		/* RPW_MAC_TIMER_OFF when not wanted */

	/* Primary election, running whenever the MAC runs. */
	u32 hb_us;		/* as configured; 0 = default */
	u32 bus_delay_us;	/* 0 = derived from the MAC's access bound */
	u8 miss;		/* 0 = default */
	bool elect_withdraw;	/* demoted: cancel our queued claims */
	struct rpw_elect *elect;
	struct hrtimer etimer;
	u64 etimer_at;		/* RPW_ELECT_NO_TIMER when not wanted */

	/*
	 * I2C adapter this node's hardware sits on (a power-supply node's
	 * assembly): an adapter number or RPW_I2C_BUS_AUTO, resolved
	 * whenever it is needed (capacity.c).
	 */
	int i2c_bus;
	struct rpw_cap *cap;	/* under lock, except the work item */
};

/* Election view for netlink, taken under the node lock. */
struct rpw_elect_view {
	bool up;
	bool acting;
	u8 state;
	u8 primary;
	u32 epoch;
	struct rpw_elect_cfg cfg;
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
		  unsigned long timeout);
unsigned long rpw_node_send_timeout(struct rpw_node *node);
void rpw_node_snapshot(struct rpw_node *node, struct rpw_mac_cfg *cfg,
		       u8 *role, bool *up, struct rpw_mac_stats *stats);
void rpw_node_elect_view(struct rpw_node *node, struct rpw_elect_view *v);
unsigned int rpw_node_peer_count(struct rpw_node *node);
int rpw_node_queue_locked(struct rpw_node *node, const struct rpw_frame *f,
			  bool election);
int rpw_node_step_down(struct rpw_node *node, struct netlink_ext_ack *extack);

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

/* capacity.c */
int rpw_cap_init(void);
void rpw_cap_exit(void);
int rpw_cap_node_init(struct rpw_node *node);
void rpw_cap_node_start(struct rpw_node *node);
void rpw_cap_node_stop(struct rpw_node *node);
void rpw_cap_node_free(struct rpw_node *node);
void rpw_cap_node_rx(struct rpw_node *node, const struct rpw_frame *f);
void rpw_cap_kick(struct rpw_node *node);
int rpw_cap_node_next(struct rpw_node *node, int addr,
		      struct rpw_cap_entry *out, bool *local);
int rpw_cap_node_i2c_bus(struct rpw_node *node, bool *is_auto);

/* netlink.c */
int rpw_nl_init(void);
void rpw_nl_exit(void);
void rpw_nl_node_change(struct rpw_node *node, bool deleted);
void rpw_nl_frame_rx(struct rpw_node *node, const struct rpw_frame *f);
void rpw_nl_bus_event(struct rpw_node *node, u32 event, u8 addr);
void rpw_nl_elect_event(struct rpw_node *node, u32 event, u8 addr, u32 epoch,
			u32 state);
void rpw_nl_capacity(struct rpw_node *node, u8 addr,
		     const struct rpw_cap_entry *e, bool local);

/* ldisc.c / serdev.c */
int rpw_ldisc_init(void);
void rpw_ldisc_exit(void);
int rpw_serdev_init(void);
void rpw_serdev_exit(void);

#endif /* _RACKPWR_H */
