/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rackpwr user space: the one decoder of the family's messages, shared by
 * rackpwrd and rackpwrctl.  Every message is parsed with a libnl policy
 * per attribute set (sized from the uapi RACKPWR_A_*_MAX), its command's
 * required attributes are checked, and the result is a plain struct: no
 * caller touches a struct nlattr.  A malformed message is refused with a
 * reason, never half-decoded.
 *
 * Attributes above a set's maximum (from a newer kernel) are ignored, as
 * are known attributes a command does not need.  No allocation, no I/O.
 */
#ifndef _RPW_AGENT_DECODE_H
#define _RPW_AGENT_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>
#include <linux/rackpwr.h>

#define RPW_DEC_NAME_LEN	32	/* the kernel's names are shorter */

/* Bit @attr of a "has" mask: that attribute was present. */
#define RPW_HAS(mask, attr)	(!!((mask) & (1ULL << (attr))))

struct rpw_dec_stats {
	uint32_t has;
	uint64_t v[RACKPWR_A_STATS_MAX + 1];	/* indexed by RACKPWR_A_STATS_* */
};

/* node-get, node-new, node-change-ntf and stats-get. */
struct rpw_dec_node {
	uint64_t has;		/* RPW_HAS(has, RACKPWR_A_NODE_*) */
	bool deleted;		/* node-change-ntf carrying the id only */
	uint32_t id;
	char name[RPW_DEC_NAME_LEN];
	uint32_t kind, bus, role, baud;
	uint32_t t_ifs_us, t_slot_us, t_turnaround_us, ack_timeout_us;
	uint32_t access_bound_us, elect_state, epoch;
	uint32_t hb_us, bus_delay_us, detect_us, slot_us, initial_us, lease_us;
	uint32_t elect_tol_us, elect_late_us;
	uint8_t addr, max_retries, primary, miss, max_addr, prio_period;
	bool acting;
	uint64_t ntf_dropped;
	uint32_t i2c_bus;
	bool i2c_bus_auto;
	uint32_t auth_mode;		/* enum rackpwr_auth_mode */
	uint8_t auth_tx_key, auth_rx_key;	/* key ids; never key bytes */
	/* Echo latency measured and the timing it suggests (read only). */
	uint64_t line_lat_samples;
	uint32_t line_lat_last_us, line_lat_p99_us, line_lat_win_max_us;
	uint32_t line_lat_max_us, line_lat_budget_us;
	uint32_t line_t_slot_us, line_t_ifs_us;
	struct rpw_dec_stats stats;
};

struct rpw_dec_peer {
	uint32_t node_id;
	uint8_t addr;
	uint32_t last_heard_ms;
	uint64_t rx_frames;
};

struct rpw_dec_frame {
	uint32_t node_id;
	uint8_t src, dst, type, seq;
	uint8_t payload[RACKPWR_MAX_PAYLOAD];
	unsigned int len;
};

struct rpw_dec_bus_event {
	uint32_t node_id;
	uint32_t event;
	uint8_t addr;
};

struct rpw_dec_elect {
	uint32_t node_id;
	uint32_t event;
	uint8_t addr;
	uint32_t epoch;
	uint32_t state;
};

struct rpw_dec_cap {
	uint32_t node_id;
	uint8_t addr;
	uint32_t bank_a_mw, bank_b_mw;
	uint8_t present, healthy;
	uint32_t age_ms;
	bool local, lost;
	uint32_t policy_digest, primary_digest;	/* 0: none */
	bool digest_mismatch;
};

/* slot-get, slot-ntf. */
struct rpw_dec_slot {
	uint32_t node_id;
	uint8_t slot, prio, primary;
	uint32_t state, want_mw, held_mw, req_id, last_trigger, reason, epoch;
	bool present, enabled;
	char ident[RPW_DEC_NAME_LEN];
};

/* alloc-get, power-get, policy-bind, power-request-ntf, alloc-ntf. */
struct rpw_dec_power {
	uint64_t has;		/* RPW_HAS(has, RACKPWR_A_POWER_*) */
	uint32_t node_id, epoch;
	uint8_t chassis, slot, prio;
	uint32_t req_id, verdict, mw, reason, state, want_mw, held_mw, age_ms;
	uint32_t event, pending;
	bool acting, recovering, bound;
	uint64_t usable_mw, granted_mw, refused_invariant, no_policy_denied;
	uint64_t rx_stale, ntf_dropped;
	uint32_t policy_digest;
};

struct rpw_msg {
	uint8_t cmd;		/* RACKPWR_CMD_*: says which member is valid */
	union {
		struct rpw_dec_node node;	/* node-*, stats-get */
		struct rpw_dec_peer peer;	/* peer-get */
		struct rpw_dec_frame frame;	/* frame-rx-ntf */
		struct rpw_dec_bus_event bus;	/* bus-event-ntf */
		struct rpw_dec_elect elect;	/* elect-ntf */
		struct rpw_dec_cap cap;		/* capacity-get, capacity-ntf */
		struct rpw_dec_slot slot;	/* slot-get, slot-ntf */
		struct rpw_dec_power power;	/* alloc, power, policy */
	};
};

/*
 * Decode one generic netlink message of the family (@nlh->nlmsg_len bytes
 * at @nlh).  Returns 0 with @m filled, -EOPNOTSUPP for a command this
 * decoder does not know (skip it), or -EBADMSG with the reason in @why
 * (at most @whylen bytes, always terminated).
 */
int rpw_decode(const struct nlmsghdr *nlh, struct rpw_msg *m, char *why,
	       size_t whylen);

/* The spec's name of a command ("elect-ntf"), or "?". */
const char *rpw_cmd_name(unsigned int cmd);

#endif /* _RPW_AGENT_DECODE_H */
