// SPDX-License-Identifier: GPL-2.0-only
/*
 * rackpwr - generic netlink family "rackpwr".
 *
 * Documentation/netlink/specs/rackpwr.yaml is the source of truth; the
 * policies below mirror it (Debian's 6.1 predates split ops, so the
 * per-op policies are written here rather than generated).  Every state
 * change needs CAP_NET_ADMIN (GENL_ADMIN_PERM); reads are open.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/i2c.h>
#include <linux/module.h>
#include <net/genetlink.h>

#include "psu.h"
#include "rackpwr.h"
#include "rpw_alloc.h"

static struct netlink_range_validation rpw_baud_range = {
	.min = 1200, .max = 1000000,
};

static struct netlink_range_validation rpw_timer_range = {
	.min = 50, .max = 100000,
};

static struct netlink_range_validation rpw_turn_range = {
	.min = 0, .max = 100000,
};

static struct netlink_range_validation rpw_ack_range = {
	.min = 100, .max = 1000000,
};

static struct netlink_range_validation rpw_hb_range = {
	.min = 1000, .max = 10000000,
};

static struct netlink_range_validation rpw_delay_range = {
	.min = 100, .max = 10000000,
};

/* An adapter number: i2c_get_adapter() takes an int. */
static struct netlink_range_validation rpw_i2c_bus_range = {
	.max = INT_MAX,
};

static const struct nla_policy rpw_node_id_policy[RACKPWR_A_NODE_MAX + 1] = {
	[RACKPWR_A_NODE_ID] = NLA_POLICY_MIN(NLA_U32, 1),
};

/*
 * node-new and node-set take the same configuration; node-new adds kind
 * and bus, node-set the id.  Written out per op, as ynl-gen-c would:
 * nl_policy checks every op's policy against the spec.
 */
static const struct nla_policy rpw_node_new_policy[RACKPWR_A_NODE_MAX + 1] = {
	[RACKPWR_A_NODE_KIND] = NLA_POLICY_RANGE(NLA_U32, RACKPWR_KIND_SIM,
						 RACKPWR_KIND_SERDEV),
	[RACKPWR_A_NODE_BUS] = NLA_POLICY_MAX(NLA_U32, RPW_SIM_BUSES - 1),
	[RACKPWR_A_NODE_ADDR] = NLA_POLICY_RANGE(NLA_U8, RPW_ADDR_MIN,
						 RPW_ADDR_MAX),
	[RACKPWR_A_NODE_ROLE] = NLA_POLICY_RANGE(NLA_U32, RACKPWR_ROLE_PSU,
						 RACKPWR_ROLE_CHASSIS),
	[RACKPWR_A_NODE_BAUD] = NLA_POLICY_FULL_RANGE(NLA_U32, &rpw_baud_range),
	[RACKPWR_A_NODE_T_IFS_US] = NLA_POLICY_FULL_RANGE(NLA_U32, &rpw_timer_range),
	[RACKPWR_A_NODE_T_SLOT_US] = NLA_POLICY_FULL_RANGE(NLA_U32, &rpw_timer_range),
	[RACKPWR_A_NODE_T_TURNAROUND_US] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &rpw_turn_range),
	[RACKPWR_A_NODE_ACK_TIMEOUT_US] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &rpw_ack_range),
	[RACKPWR_A_NODE_MAX_RETRIES] = NLA_POLICY_MAX(NLA_U8, 15),
	[RACKPWR_A_NODE_HB_US] = NLA_POLICY_FULL_RANGE(NLA_U32, &rpw_hb_range),
	[RACKPWR_A_NODE_MAX_ADDR] = NLA_POLICY_RANGE(NLA_U8, RPW_ADDR_MIN,
						     RPW_ADDR_MAX),
	[RACKPWR_A_NODE_MISS] = NLA_POLICY_RANGE(NLA_U8, 1, 16),
	[RACKPWR_A_NODE_BUS_DELAY_US] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &rpw_delay_range),
	[RACKPWR_A_NODE_PRIO_PERIOD] = NLA_POLICY_MAX(NLA_U8, 16),
	[RACKPWR_A_NODE_I2C_BUS] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &rpw_i2c_bus_range),
	[RACKPWR_A_NODE_I2C_BUS_AUTO] = { .type = NLA_FLAG },
};

static const struct nla_policy rpw_node_set_policy[RACKPWR_A_NODE_MAX + 1] = {
	[RACKPWR_A_NODE_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[RACKPWR_A_NODE_ADDR] = NLA_POLICY_RANGE(NLA_U8, RPW_ADDR_MIN,
						 RPW_ADDR_MAX),
	[RACKPWR_A_NODE_ROLE] = NLA_POLICY_RANGE(NLA_U32, RACKPWR_ROLE_PSU,
						 RACKPWR_ROLE_CHASSIS),
	[RACKPWR_A_NODE_BAUD] = NLA_POLICY_FULL_RANGE(NLA_U32, &rpw_baud_range),
	[RACKPWR_A_NODE_T_IFS_US] = NLA_POLICY_FULL_RANGE(NLA_U32, &rpw_timer_range),
	[RACKPWR_A_NODE_T_SLOT_US] = NLA_POLICY_FULL_RANGE(NLA_U32, &rpw_timer_range),
	[RACKPWR_A_NODE_T_TURNAROUND_US] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &rpw_turn_range),
	[RACKPWR_A_NODE_ACK_TIMEOUT_US] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &rpw_ack_range),
	[RACKPWR_A_NODE_MAX_RETRIES] = NLA_POLICY_MAX(NLA_U8, 15),
	[RACKPWR_A_NODE_HB_US] = NLA_POLICY_FULL_RANGE(NLA_U32, &rpw_hb_range),
	[RACKPWR_A_NODE_MAX_ADDR] = NLA_POLICY_RANGE(NLA_U8, RPW_ADDR_MIN,
						     RPW_ADDR_MAX),
	[RACKPWR_A_NODE_MISS] = NLA_POLICY_RANGE(NLA_U8, 1, 16),
	[RACKPWR_A_NODE_BUS_DELAY_US] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &rpw_delay_range),
	[RACKPWR_A_NODE_PRIO_PERIOD] = NLA_POLICY_MAX(NLA_U8, 16),
	[RACKPWR_A_NODE_I2C_BUS] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &rpw_i2c_bus_range),
	[RACKPWR_A_NODE_I2C_BUS_AUTO] = { .type = NLA_FLAG },
};

static const struct nla_policy rpw_peer_policy[RACKPWR_A_PEER_MAX + 1] = {
	[RACKPWR_A_PEER_NODE_ID] = NLA_POLICY_MIN(NLA_U32, 1),
};

static const struct nla_policy rpw_cap_policy[RACKPWR_A_CAPACITY_MAX + 1] = {
	[RACKPWR_A_CAPACITY_NODE_ID] = NLA_POLICY_MIN(NLA_U32, 1),
};

static const struct nla_policy rpw_frame_policy[RACKPWR_A_FRAME_MAX + 1] = {
	[RACKPWR_A_FRAME_NODE_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[RACKPWR_A_FRAME_DST] = NLA_POLICY_RANGE(NLA_U8, RPW_ADDR_MIN,
						 RPW_ADDR_BCAST),
	[RACKPWR_A_FRAME_TYPE] = { .type = NLA_U8 },
	[RACKPWR_A_FRAME_PAYLOAD] = { .type = NLA_BINARY,
				      .len = RACKPWR_MAX_PAYLOAD },
	[RACKPWR_A_FRAME_ACK] = { .type = NLA_FLAG },
};

/* key-set: the key (HMAC-SHA256) is 16..64 bytes; mode as enum auth-mode. */
static const struct nla_policy rpw_key_set_policy[RACKPWR_A_NODE_MAX + 1] = {
	[RACKPWR_A_NODE_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[RACKPWR_A_NODE_KEY_ID] = NLA_POLICY_MIN(NLA_U8, 1),
	[RACKPWR_A_NODE_KEY] = NLA_POLICY_RANGE(NLA_BINARY, 16, 64),
	[RACKPWR_A_NODE_KEY_USE] = { .type = NLA_FLAG },
	[RACKPWR_A_NODE_AUTH_MODE] = NLA_POLICY_MAX(NLA_U32,
						    RACKPWR_AUTH_MODE_REQUIRED),
};

static const struct nla_policy rpw_key_del_policy[RACKPWR_A_NODE_MAX + 1] = {
	[RACKPWR_A_NODE_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[RACKPWR_A_NODE_KEY_ID] = NLA_POLICY_MIN(NLA_U8, 1),
};

/* Power allocation: one policy per op, as the spec lists the requests. */
static const struct nla_policy rpw_slot_get_policy[RACKPWR_A_SLOT_MAX + 1] = {
	[RACKPWR_A_SLOT_NODE_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[RACKPWR_A_SLOT_SLOT] = NLA_POLICY_MAX(NLA_U8, RPW_ALLOC_SLOTS - 1),
};

static const struct nla_policy rpw_slot_set_policy[RACKPWR_A_SLOT_MAX + 1] = {
	[RACKPWR_A_SLOT_NODE_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[RACKPWR_A_SLOT_SLOT] = NLA_POLICY_MAX(NLA_U8, RPW_ALLOC_SLOTS - 1),
	[RACKPWR_A_SLOT_PRIO] = { .type = NLA_U8 },
	[RACKPWR_A_SLOT_POWER] = NLA_POLICY_RANGE(NLA_U32, RACKPWR_SLOT_POWER_ON,
						  RACKPWR_SLOT_POWER_OFF),
};

static const struct nla_policy rpw_power_id_policy[RACKPWR_A_POWER_MAX + 1] = {
	[RACKPWR_A_POWER_NODE_ID] = NLA_POLICY_MIN(NLA_U32, 1),
};

static const struct nla_policy rpw_policy_bind_policy[RACKPWR_A_POWER_MAX + 1] = {
	[RACKPWR_A_POWER_NODE_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[RACKPWR_A_POWER_POLICY_DIGEST] = { .type = NLA_U32 },
};

static const struct nla_policy rpw_power_shed_policy[RACKPWR_A_POWER_MAX + 1] = {
	[RACKPWR_A_POWER_NODE_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[RACKPWR_A_POWER_EPOCH] = { .type = NLA_U32 },
	[RACKPWR_A_POWER_CHASSIS] = NLA_POLICY_RANGE(NLA_U8, RPW_ADDR_MIN,
						     RPW_ADDR_MAX),
	[RACKPWR_A_POWER_SLOT] = NLA_POLICY_MAX(NLA_U8, RPW_ALLOC_SLOTS - 1),
};

static const struct nla_policy rpw_power_decide_policy[RACKPWR_A_POWER_MAX + 1] = {
	[RACKPWR_A_POWER_NODE_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[RACKPWR_A_POWER_EPOCH] = { .type = NLA_U32 },
	[RACKPWR_A_POWER_CHASSIS] = NLA_POLICY_RANGE(NLA_U8, RPW_ADDR_MIN,
						     RPW_ADDR_MAX),
	[RACKPWR_A_POWER_SLOT] = NLA_POLICY_MAX(NLA_U8, RPW_ALLOC_SLOTS - 1),
	[RACKPWR_A_POWER_REQ_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[RACKPWR_A_POWER_VERDICT] = NLA_POLICY_RANGE(NLA_U32,
						     RACKPWR_VERDICT_GRANT,
						     RACKPWR_VERDICT_DENY),
	[RACKPWR_A_POWER_MW] = { .type = NLA_U32 },
	[RACKPWR_A_POWER_REASON] = NLA_POLICY_MAX(NLA_U32,
						  RACKPWR_REASON_POWER_FAILED),
};

static struct genl_family rpw_genl_family;

enum rpw_mcgrp { RPW_MCGRP_EVENTS, RPW_MCGRP_POWER };

static const struct genl_multicast_group rpw_mcgrps[] = {
	[RPW_MCGRP_EVENTS] = { .name = RACKPWR_MCGRP_EVENTS },
	[RPW_MCGRP_POWER] = { .name = RACKPWR_MCGRP_POWER },
};

/*
 * GENL_REQ_ATTR_CHECK() only reports the missing attribute's type
 * (NLMSGERR_ATTR_MISS_TYPE); give every such error a message as well.
 */
static bool rpw_nl_missing(struct genl_info *info, int attr)
{
	if (!GENL_REQ_ATTR_CHECK(info, attr))
		return false;
	NL_SET_ERR_MSG_MOD(info->extack, "missing required attribute");
	return true;
}

static struct rpw_node *rpw_nl_node(struct genl_info *info, int attr)
{
	struct rpw_node *node;

	if (rpw_nl_missing(info, attr))
		return ERR_PTR(-EINVAL);
	node = rpw_node_get_by_id(nla_get_u32(info->attrs[attr]));
	if (!node) {
		NL_SET_BAD_ATTR(info->extack, info->attrs[attr]);
		NL_SET_ERR_MSG_MOD(info->extack, "no such node");
		return ERR_PTR(-ENODEV);
	}
	return node;
}

/*
 * genl_ops.internal_flags: the op acts on one node, named by this
 * attribute.  pre_doit looks it up once and leaves it referenced in
 * info->user_ptr[0]; post_doit drops it after the handler.
 */
#define RPW_NL_NODE		BIT(0)	/* RACKPWR_A_NODE_ID */
#define RPW_NL_FRAME_NODE	BIT(1)	/* RACKPWR_A_FRAME_NODE_ID */
#define RPW_NL_SLOT_NODE	BIT(2)	/* RACKPWR_A_SLOT_NODE_ID */
#define RPW_NL_POWER_NODE	BIT(3)	/* RACKPWR_A_POWER_NODE_ID */
#define RPW_NL_ANY_NODE		(RPW_NL_NODE | RPW_NL_FRAME_NODE | \
				 RPW_NL_SLOT_NODE | RPW_NL_POWER_NODE)

static int rpw_nl_pre_doit(const struct genl_ops *ops, struct sk_buff *skb,
			   struct genl_info *info)
{
	struct rpw_node *node;

	if (ops->internal_flags & RPW_NL_NODE)
		node = rpw_nl_node(info, RACKPWR_A_NODE_ID);
	else if (ops->internal_flags & RPW_NL_FRAME_NODE)
		node = rpw_nl_node(info, RACKPWR_A_FRAME_NODE_ID);
	else if (ops->internal_flags & RPW_NL_SLOT_NODE)
		node = rpw_nl_node(info, RACKPWR_A_SLOT_NODE_ID);
	else if (ops->internal_flags & RPW_NL_POWER_NODE)
		node = rpw_nl_node(info, RACKPWR_A_POWER_NODE_ID);
	else
		return 0;
	if (IS_ERR(node))
		return PTR_ERR(node);
	info->user_ptr[0] = node;
	return 0;
}

static void rpw_nl_post_doit(const struct genl_ops *ops, struct sk_buff *skb,
			     struct genl_info *info)
{
	if (ops->internal_flags & RPW_NL_ANY_NODE)
		rpw_node_put(info->user_ptr[0]);
}

static u32 rpw_ns_to_us(u64 ns)
{
	return min_t(u64, div_u64(ns, NSEC_PER_USEC), U32_MAX);
}

static int rpw_nl_put_elect(struct sk_buff *skb, struct rpw_node *node)
{
	struct rpw_elect_view v;

	rpw_node_elect_view(node, &v);
	if (!v.up)
		return 0;
	if (nla_put_u32(skb, RACKPWR_A_NODE_ELECT_STATE, v.state) ||
	    nla_put_u8(skb, RACKPWR_A_NODE_PRIMARY, v.primary) ||
	    nla_put_u32(skb, RACKPWR_A_NODE_EPOCH, v.epoch) ||
	    (v.acting && nla_put_flag(skb, RACKPWR_A_NODE_ACTING)) ||
	    nla_put_u32(skb, RACKPWR_A_NODE_HB_US, rpw_ns_to_us(v.cfg.hb_ns)) ||
	    nla_put_u8(skb, RACKPWR_A_NODE_MISS, v.cfg.miss) ||
	    nla_put_u32(skb, RACKPWR_A_NODE_BUS_DELAY_US,
			rpw_ns_to_us(v.cfg.bus_delay_ns)) ||
	    nla_put_u32(skb, RACKPWR_A_NODE_DETECT_US,
			rpw_ns_to_us(v.cfg.detect_ns)) ||
	    nla_put_u32(skb, RACKPWR_A_NODE_SLOT_US,
			rpw_ns_to_us(v.cfg.slot_ns)) ||
	    nla_put_u32(skb, RACKPWR_A_NODE_INITIAL_US,
			rpw_ns_to_us(v.cfg.initial_ns)) ||
	    nla_put_u32(skb, RACKPWR_A_NODE_LEASE_US,
			rpw_ns_to_us(v.cfg.lease_ns)) ||
	    nla_put_u32(skb, RACKPWR_A_NODE_ELECT_TOL_US,
			rpw_ns_to_us(v.cfg.tol_ns)) ||
	    nla_put_u32(skb, RACKPWR_A_NODE_ELECT_LATE_US,
			rpw_ns_to_us(v.late_ns)))
		return -EMSGSIZE;
	return 0;
}

/* Mode and key ids only: no operation returns key material. */
static int rpw_nl_put_auth(struct sk_buff *skb, struct rpw_node *node)
{
	struct rpw_auth_view v;

	rpw_node_auth_view(node, &v);
	if (nla_put_u32(skb, RACKPWR_A_NODE_AUTH_MODE, v.mode) ||
	    (v.tx_id && nla_put_u8(skb, RACKPWR_A_NODE_AUTH_TX_KEY, v.tx_id)) ||
	    (v.rx_id && nla_put_u8(skb, RACKPWR_A_NODE_AUTH_RX_KEY, v.rx_id)))
		return -EMSGSIZE;
	return 0;
}

/* ns to us, rounded up, without overflowing near U32_MAX. */
static u32 rpw_nl_us(u32 ns)
{
	return ns / NSEC_PER_USEC + !!(ns % NSEC_PER_USEC);
}

/* Echo latency and the timing it suggests, while the MAC runs. */
static int rpw_nl_put_line(struct sk_buff *skb, struct rpw_node *node)
{
	struct rpw_node_line l;

	if (!rpw_node_line(node, &l))
		return 0;
	if (nla_put_u64_64bit(skb, RACKPWR_A_NODE_LINE_LAT_SAMPLES,
			      l.lat.samples, RACKPWR_A_NODE_PAD) ||
	    nla_put_u32(skb, RACKPWR_A_NODE_LINE_LAT_LAST_US,
			rpw_nl_us(l.lat.last_ns)) ||
	    nla_put_u32(skb, RACKPWR_A_NODE_LINE_LAT_P99_US,
			rpw_nl_us(l.lat.p99_ns)) ||
	    nla_put_u32(skb, RACKPWR_A_NODE_LINE_LAT_WIN_MAX_US,
			rpw_nl_us(l.lat.win_max_ns)) ||
	    nla_put_u32(skb, RACKPWR_A_NODE_LINE_LAT_MAX_US,
			rpw_nl_us(l.lat.max_ns)))
		return -EMSGSIZE;
	if (l.lat.samples < RPW_MAC_LAT_MIN)
		return 0;
	if (nla_put_u32(skb, RACKPWR_A_NODE_LINE_LAT_BUDGET_US,
			l.lat.budget_us) ||
	    nla_put_u32(skb, RACKPWR_A_NODE_LINE_T_SLOT_US, l.t_slot_us) ||
	    nla_put_u32(skb, RACKPWR_A_NODE_LINE_T_IFS_US, l.t_ifs_us))
		return -EMSGSIZE;
	return 0;
}

/* The binding: the adapter in use (if any) and whether it is the default. */
static int rpw_nl_put_i2c_bus(struct sk_buff *skb, struct rpw_node *node)
{
	bool is_auto;
	int bus = rpw_cap_node_i2c_bus(node, &is_auto);

	if (bus < 0)
		bus = rpw_alloc_node_i2c_bus(node, &is_auto);

	if ((bus >= 0 && nla_put_u32(skb, RACKPWR_A_NODE_I2C_BUS, bus)) ||
	    (is_auto && nla_put_flag(skb, RACKPWR_A_NODE_I2C_BUS_AUTO)))
		return -EMSGSIZE;
	return 0;
}

static int rpw_nl_fill_node(struct sk_buff *skb, struct rpw_node *node,
			    u32 portid, u32 seq, int flags, u8 cmd)
{
	struct rpw_mac_cfg cfg;
	void *hdr;
	bool up;
	u8 role;

	hdr = genlmsg_put(skb, portid, seq, &rpw_genl_family, flags, cmd);
	if (!hdr)
		return -EMSGSIZE;
	rpw_node_snapshot(node, &cfg, &role, &up, NULL);
	if (nla_put_u32(skb, RACKPWR_A_NODE_ID, node->id) ||
	    nla_put_string(skb, RACKPWR_A_NODE_NAME, node->name) ||
	    nla_put_u32(skb, RACKPWR_A_NODE_KIND, node->kind) ||
	    nla_put_u32(skb, RACKPWR_A_NODE_ROLE, role) ||
	    nla_put_u32(skb, RACKPWR_A_NODE_BAUD, cfg.baud) ||
	    nla_put_u32(skb, RACKPWR_A_NODE_T_IFS_US, cfg.t_ifs_us) ||
	    nla_put_u32(skb, RACKPWR_A_NODE_T_SLOT_US, cfg.t_slot_us) ||
	    nla_put_u32(skb, RACKPWR_A_NODE_T_TURNAROUND_US,
			cfg.t_turnaround_us) ||
	    nla_put_u32(skb, RACKPWR_A_NODE_ACK_TIMEOUT_US,
			cfg.ack_timeout_us) ||
	    nla_put_u8(skb, RACKPWR_A_NODE_MAX_RETRIES, cfg.max_retries) ||
	    nla_put_u8(skb, RACKPWR_A_NODE_MAX_ADDR, cfg.max_addr) ||
	    nla_put_u8(skb, RACKPWR_A_NODE_PRIO_PERIOD, cfg.prio_period))
		goto nla_fail;
	if (node->kind == RACKPWR_KIND_SIM &&
	    nla_put_u32(skb, RACKPWR_A_NODE_BUS, node->bus))
		goto nla_fail;
	if (nla_put_u64_64bit(skb, RACKPWR_A_NODE_NTF_DROPPED,
			      atomic64_read(&node->ntf_dropped),
			      RACKPWR_A_NODE_PAD))
		goto nla_fail;
	if (rpw_nl_put_elect(skb, node) || rpw_nl_put_i2c_bus(skb, node) ||
	    rpw_nl_put_auth(skb, node) || rpw_nl_put_line(skb, node))
		goto nla_fail;
	if (up) {
		/* For the modules this node has heard, itself included. */
		unsigned int n = rpw_node_peer_count(node) + 1;
		u64 bound = rpw_mac_access_bound_ns(&cfg, max(n, 2U),
						    RPW_MAX_WIRE, true, 0);

		if (nla_put_u8(skb, RACKPWR_A_NODE_ADDR, cfg.addr) ||
		    nla_put_u32(skb, RACKPWR_A_NODE_ACCESS_BOUND_US,
				min_t(u64, div_u64(bound, NSEC_PER_USEC),
				      U32_MAX)))
			goto nla_fail;
	}
	genlmsg_end(skb, hdr);
	return 0;

nla_fail:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

static int rpw_nl_reply_node(struct genl_info *info, struct rpw_node *node,
			     u8 cmd)
{
	struct sk_buff *msg;
	int err;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	err = rpw_nl_fill_node(msg, node, info->snd_portid, info->snd_seq, 0,
			       cmd);
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	return genlmsg_reply(msg, info);
}

static int rpw_nl_node_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	return rpw_nl_reply_node(info, info->user_ptr[0], RACKPWR_CMD_NODE_GET);
}

/* cb->args[0]: next node id to dump. */
static int rpw_nl_dump_nodes(struct sk_buff *skb, struct netlink_callback *cb,
			     int (*fill)(struct sk_buff *, struct rpw_node *,
					 u32, u32, int, u8), u8 cmd)
{
	unsigned long index = cb->args[0];
	struct rpw_node *node;
	int err = 0;

	while ((node = rpw_node_next(&index))) {
		err = fill(skb, node, NETLINK_CB(cb->skb).portid,
			   cb->nlh->nlmsg_seq, NLM_F_MULTI, cmd);
		rpw_node_put(node);
		if (err)
			break;
		index++;
	}
	cb->args[0] = index;
	/* A full skb ends this round; the dump resumes at the same node. */
	return err == -EMSGSIZE && skb->len ? skb->len : err ?: skb->len;
}

static int rpw_nl_node_get_dumpit(struct sk_buff *skb,
				  struct netlink_callback *cb)
{
	return rpw_nl_dump_nodes(skb, cb, rpw_nl_fill_node,
				 RACKPWR_CMD_NODE_GET);
}

/*
 * i2c-bus must name an existing adapter (an assembly may bind to it later);
 * i2c-bus-auto returns to the default.  Giving both is a contradiction.
 */
static int rpw_nl_parse_i2c_bus(struct genl_info *info,
				struct rpw_node_params *p)
{
	struct nlattr *bus = info->attrs[RACKPWR_A_NODE_I2C_BUS];
	struct i2c_adapter *adap;

	if (bus && info->attrs[RACKPWR_A_NODE_I2C_BUS_AUTO]) {
		NL_SET_BAD_ATTR(info->extack, bus);
		NL_SET_ERR_MSG_MOD(info->extack,
				   "i2c-bus and i2c-bus-auto exclude each other");
		return -EINVAL;
	}
	if (info->attrs[RACKPWR_A_NODE_I2C_BUS_AUTO]) {
		p->i2c_bus = RPW_I2C_BUS_AUTO;
		p->has_i2c_bus = true;
		return 0;
	}
	if (!bus)
		return 0;
	p->i2c_bus = nla_get_u32(bus);
	adap = i2c_get_adapter(p->i2c_bus);
	if (!adap) {
		NL_SET_BAD_ATTR(info->extack, bus);
		NL_SET_ERR_MSG_MOD(info->extack, "no I2C adapter with that number");
		return -ENODEV;
	}
	i2c_put_adapter(adap);
	p->has_i2c_bus = true;
	return 0;
}

static int rpw_nl_parse_params(struct genl_info *info,
			       struct rpw_node_params *p)
{
	struct nlattr **a = info->attrs;

	memset(p, 0, sizeof(*p));
	if (a[RACKPWR_A_NODE_ADDR])
		p->addr = nla_get_u8(a[RACKPWR_A_NODE_ADDR]);
	if (a[RACKPWR_A_NODE_ROLE])
		p->role = nla_get_u32(a[RACKPWR_A_NODE_ROLE]);
	if (a[RACKPWR_A_NODE_BAUD])
		p->baud = nla_get_u32(a[RACKPWR_A_NODE_BAUD]);
	if (a[RACKPWR_A_NODE_T_IFS_US])
		p->t_ifs_us = nla_get_u32(a[RACKPWR_A_NODE_T_IFS_US]);
	if (a[RACKPWR_A_NODE_T_SLOT_US])
		p->t_slot_us = nla_get_u32(a[RACKPWR_A_NODE_T_SLOT_US]);
	if (a[RACKPWR_A_NODE_T_TURNAROUND_US]) {
		p->t_turnaround_us =
			nla_get_u32(a[RACKPWR_A_NODE_T_TURNAROUND_US]);
		p->has_turnaround = true;
	}
	if (a[RACKPWR_A_NODE_ACK_TIMEOUT_US])
		p->ack_timeout_us = nla_get_u32(a[RACKPWR_A_NODE_ACK_TIMEOUT_US]);
	if (a[RACKPWR_A_NODE_HB_US])
		p->hb_us = nla_get_u32(a[RACKPWR_A_NODE_HB_US]);
	if (a[RACKPWR_A_NODE_MAX_ADDR])
		p->max_addr = nla_get_u8(a[RACKPWR_A_NODE_MAX_ADDR]);
	if (a[RACKPWR_A_NODE_MISS])
		p->miss = nla_get_u8(a[RACKPWR_A_NODE_MISS]);
	if (a[RACKPWR_A_NODE_BUS_DELAY_US])
		p->bus_delay_us = nla_get_u32(a[RACKPWR_A_NODE_BUS_DELAY_US]);
	if (a[RACKPWR_A_NODE_MAX_RETRIES]) {
		p->max_retries = nla_get_u8(a[RACKPWR_A_NODE_MAX_RETRIES]);
		p->has_max_retries = true;
	}
	if (a[RACKPWR_A_NODE_PRIO_PERIOD]) {
		p->prio_period = nla_get_u8(a[RACKPWR_A_NODE_PRIO_PERIOD]);
		p->has_prio_period = true;
	}
	return rpw_nl_parse_i2c_bus(info, p);
}

static int rpw_nl_node_new_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct rpw_node_params p;
	struct rpw_node *node;
	u32 bus = 0;
	int err;

	if (rpw_nl_missing(info, RACKPWR_A_NODE_KIND) ||
	    rpw_nl_missing(info, RACKPWR_A_NODE_ADDR))
		return -EINVAL;
	if (nla_get_u32(info->attrs[RACKPWR_A_NODE_KIND]) != RACKPWR_KIND_SIM) {
		NL_SET_BAD_ATTR(info->extack, info->attrs[RACKPWR_A_NODE_KIND]);
		NL_SET_ERR_MSG_MOD(info->extack,
				   "only simulated nodes are created over netlink");
		return -EOPNOTSUPP;
	}
	if (info->attrs[RACKPWR_A_NODE_BUS])
		bus = nla_get_u32(info->attrs[RACKPWR_A_NODE_BUS]);
	/* Check first: a rejected request must not create anything. */
	err = rpw_nl_parse_params(info, &p) ?:
	      rpw_node_params_check(RPW_MAC_PROFILE_UART, &p, info->extack);
	if (err)
		return err;

	node = rpw_kind_create(RACKPWR_KIND_SIM, bus, info->extack);
	if (IS_ERR(node))
		return PTR_ERR(node);
	err = rpw_node_configure(node, &p, info->extack);
	if (!err)
		err = rpw_nl_reply_node(info, node, RACKPWR_CMD_NODE_NEW);
	if (err)
		rpw_kind_destroy(node, NULL);	/* bad config changes nothing */
	return err;
}

static int rpw_nl_node_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct rpw_node_params p;

	return rpw_nl_parse_params(info, &p) ?:
	       rpw_node_configure(info->user_ptr[0], &p, info->extack);
}

static int rpw_nl_node_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	return rpw_kind_destroy(info->user_ptr[0], info->extack);
}

static int rpw_nl_put_stats(struct sk_buff *skb, const struct rpw_mac_stats *s,
			    const struct rpw_elect_view *v)
{
	const u64 *refused = s->refused;
	struct nlattr *nest;
	u64 avg = s->access_count ?
		  div64_u64(s->access_sum_ns, s->access_count) : 0;

	nest = nla_nest_start(skb, RACKPWR_A_NODE_STATS);
	if (!nest)
		return -EMSGSIZE;
#define PUT(attr, val) \
	nla_put_u64_64bit(skb, RACKPWR_A_STATS_##attr, (val), RACKPWR_A_STATS_PAD)
	if (PUT(TX_FRAMES, s->tx_frames) || PUT(TX_BYTES, s->tx_bytes) ||
	    PUT(RX_FRAMES, s->rx_frames) || PUT(RX_BYTES, s->rx_bytes) ||
	    PUT(CRC_ERRORS, s->crc_errors) ||
	    PUT(FRAMING_ERRORS, s->framing_errors + s->header_errors) ||
	    PUT(COLLISIONS, s->collisions) || PUT(RETRIES, s->retries) ||
	    PUT(TIMEOUTS, s->timeouts) || PUT(DUPLICATES, s->duplicates) ||
	    PUT(OVERSIZE, s->oversize) ||
	    PUT(GARBAGE_BYTES, s->garbage_bytes) ||
	    PUT(ACKS_TX, s->acks_tx) || PUT(ACKS_RX, s->acks_rx) ||
	    PUT(DUP_ADDR, s->dup_addr) || PUT(DUP_SKIPS, s->dup_skips) ||
	    PUT(EXPIRED, s->expired) ||
	    PUT(ACCESS_DELAY_MAX_US, div_u64(s->access_max_ns, NSEC_PER_USEC)) ||
	    PUT(ACCESS_DELAY_AVG_US, div_u64(avg, NSEC_PER_USEC)) ||
	    PUT(REFUSED_USER, refused[RPW_MAC_CLASS_USER]) ||
	    PUT(REFUSED_ELECT, refused[RPW_MAC_CLASS_ELECT]) ||
	    PUT(REFUSED_PROTO, refused[RPW_MAC_CLASS_PROTO]) ||
	    PUT(REFUSED_ALLOC, refused[RPW_MAC_CLASS_ALLOC]) ||
	    (v->up && (PUT(ELECT_TX_REFUSED, v->tx_refused) ||
		       PUT(ELECT_RX_UNEARNED, v->rx_unearned) ||
		       PUT(ELECT_REJOINS, v->rejoins))) ||
	    PUT(AUTH_MISSING, s->auth_missing) || PUT(AUTH_BAD, s->auth_bad) ||
	    PUT(AUTH_REPLAY, s->auth_replay) ||
	    PUT(ANSWER_COUNT, s->answer_count)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
#undef PUT
	nla_nest_end(skb, nest);
	return 0;
}

static int rpw_nl_fill_stats(struct sk_buff *skb, struct rpw_node *node,
			     u32 portid, u32 seq, int flags, u8 cmd)
{
	struct rpw_mac_stats stats;
	struct rpw_elect_view v;
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &rpw_genl_family, flags, cmd);
	if (!hdr)
		return -EMSGSIZE;
	rpw_node_snapshot(node, NULL, NULL, NULL, &stats);
	rpw_node_elect_view(node, &v);
	if (nla_put_u32(skb, RACKPWR_A_NODE_ID, node->id) ||
	    nla_put_string(skb, RACKPWR_A_NODE_NAME, node->name) ||
	    rpw_nl_put_stats(skb, &stats, &v)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

static int rpw_nl_stats_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	int err;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	err = rpw_nl_fill_stats(msg, info->user_ptr[0], info->snd_portid,
				info->snd_seq, 0, RACKPWR_CMD_STATS_GET);
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	return genlmsg_reply(msg, info);
}

static int rpw_nl_stats_get_dumpit(struct sk_buff *skb,
				   struct netlink_callback *cb)
{
	return rpw_nl_dump_nodes(skb, cb, rpw_nl_fill_stats,
				 RACKPWR_CMD_STATS_GET);
}

/*
 * Dumps of one node (peers, capacity): cb->args[0] = node id, 0 when the
 * request has none; cb->args[1] = next address.  6.1 runs .start without
 * an extack (cb->extack is NULL), so a missing id is reported by dumpit,
 * whose message reaches user space in NLMSG_DONE.  The policies make a
 * given id >= 1.
 */
static int rpw_nl_node_dump_start(struct netlink_callback *cb, int attr)
{
	struct nlattr *id = genl_dumpit_info(cb)->attrs[attr];

	cb->args[0] = id ? nla_get_u32(id) : 0;
	cb->args[1] = 0;
	return 0;
}

/* The dump's node, referenced, or an ERR_PTR with the extack message set. */
static struct rpw_node *rpw_nl_dump_node(struct netlink_callback *cb,
					 const char *missing)
{
	struct rpw_node *node;

	if (!cb->args[0]) {
		if (cb->extack)
			cb->extack->_msg = missing;	/* a static string */
		return ERR_PTR(-EINVAL);
	}
	node = rpw_node_get_by_id(cb->args[0]);
	if (!node) {
		NL_SET_ERR_MSG_MOD(cb->extack, "no such node");
		return ERR_PTR(-ENODEV);
	}
	return node;
}

/* End one round: remember where to resume, drop the node, say if done. */
static int rpw_nl_dump_end(struct sk_buff *skb, struct netlink_callback *cb,
			   struct rpw_node *node, int addr, int err)
{
	cb->args[1] = addr < 0 ? RPW_MAC_NR_ADDR : addr;
	rpw_node_put(node);
	/* A full skb ends this round; the dump resumes at the same address. */
	if (err == -EMSGSIZE && skb->len)
		return skb->len;
	return err ?: skb->len;
}

static int rpw_nl_peer_get_start(struct netlink_callback *cb)
{
	return rpw_nl_node_dump_start(cb, RACKPWR_A_PEER_NODE_ID);
}

static int rpw_nl_peer_get_dumpit(struct sk_buff *skb,
				  struct netlink_callback *cb)
{
	struct rpw_node *node;
	int addr = cb->args[1];
	int err = 0;

	node = rpw_nl_dump_node(cb, "rackpwr: peer dump needs a node id");
	if (IS_ERR(node))
		return PTR_ERR(node);
	for (;;) {
		struct rpw_mac_peer peer;
		u64 now = ktime_get_ns();
		void *hdr;

		addr = rpw_node_peer_next(node, addr, &peer);
		if (addr < 0)
			break;

		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &rpw_genl_family,
				  NLM_F_MULTI, RACKPWR_CMD_PEER_GET);
		if (!hdr) {
			err = -EMSGSIZE;
			break;
		}
		if (nla_put_u32(skb, RACKPWR_A_PEER_NODE_ID, node->id) ||
		    nla_put_u8(skb, RACKPWR_A_PEER_ADDR, addr) ||
		    nla_put_u32(skb, RACKPWR_A_PEER_LAST_HEARD_MS,
				min_t(u64, div_u64(now - peer.last_heard_ns,
						   NSEC_PER_MSEC), U32_MAX)) ||
		    nla_put_u64_64bit(skb, RACKPWR_A_PEER_RX_FRAMES,
				      peer.rx_frames, RACKPWR_A_PEER_PAD)) {
			genlmsg_cancel(skb, hdr);
			err = -EMSGSIZE;
			break;
		}
		genlmsg_end(skb, hdr);
		addr++;
	}
	return rpw_nl_dump_end(skb, cb, node, addr, err);
}

static int rpw_nl_put_cap(struct sk_buff *skb, struct rpw_node *node, u8 addr,
			  const struct rpw_cap_entry *e, bool local, u64 now)
{
	u64 age = local || now < e->last_ns ? 0 :
		  div_u64(now - e->last_ns, NSEC_PER_MSEC);

	if (nla_put_u32(skb, RACKPWR_A_CAPACITY_NODE_ID, node->id) ||
	    nla_put_u8(skb, RACKPWR_A_CAPACITY_ADDR, addr) ||
	    nla_put_u32(skb, RACKPWR_A_CAPACITY_BANK_A_MW,
			e->lost ? 0 : min_t(u64, e->bank_mw[0], U32_MAX)) ||
	    nla_put_u32(skb, RACKPWR_A_CAPACITY_BANK_B_MW,
			e->lost ? 0 : min_t(u64, e->bank_mw[1], U32_MAX)) ||
	    nla_put_u8(skb, RACKPWR_A_CAPACITY_PRESENT, e->present) ||
	    nla_put_u8(skb, RACKPWR_A_CAPACITY_HEALTHY, e->healthy) ||
	    nla_put_u32(skb, RACKPWR_A_CAPACITY_AGE_MS,
			min_t(u64, age, U32_MAX)) ||
	    (local && nla_put_flag(skb, RACKPWR_A_CAPACITY_LOCAL)) ||
	    (e->lost && nla_put_flag(skb, RACKPWR_A_CAPACITY_LOST)) ||
	    nla_put_u32(skb, RACKPWR_A_CAPACITY_POLICY_DIGEST, e->digest) ||
	    nla_put_u32(skb, RACKPWR_A_CAPACITY_PRIMARY_DIGEST,
			e->ref_digest) ||
	    (e->mismatch &&
	     nla_put_flag(skb, RACKPWR_A_CAPACITY_DIGEST_MISMATCH)))
		return -EMSGSIZE;
	return 0;
}

static int rpw_nl_cap_get_start(struct netlink_callback *cb)
{
	return rpw_nl_node_dump_start(cb, RACKPWR_A_CAPACITY_NODE_ID);
}

static int rpw_nl_cap_get_dumpit(struct sk_buff *skb,
				 struct netlink_callback *cb)
{
	struct rpw_cap_entry e;
	struct rpw_node *node;
	int addr = cb->args[1];
	bool local;
	int err = 0;

	node = rpw_nl_dump_node(cb, "rackpwr: capacity dump needs a node id");
	if (IS_ERR(node))
		return PTR_ERR(node);
	while ((addr = rpw_cap_node_next(node, addr, &e, &local)) >= 0) {
		void *hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
					cb->nlh->nlmsg_seq, &rpw_genl_family,
					NLM_F_MULTI, RACKPWR_CMD_CAPACITY_GET);

		if (!hdr) {
			err = -EMSGSIZE;
			break;
		}
		if (rpw_nl_put_cap(skb, node, addr, &e, local,
				   ktime_get_ns())) {
			genlmsg_cancel(skb, hdr);
			err = -EMSGSIZE;
			break;
		}
		genlmsg_end(skb, hdr);
		addr++;
	}
	return rpw_nl_dump_end(skb, cb, node, addr, err);
}

/* What a frame-send result means, for the extack message. */
static const struct {
	int err;
	const char *msg;
} rpw_send_errors[] = {
	{ -ENETDOWN, "rackpwr: node has no address yet" },
	{ -EINVAL, "rackpwr: frame rejected (destination is this node?)" },
	{ -ENOBUFS, "rackpwr: transmit queue full" },
	{ -ETIMEDOUT, "rackpwr: not acknowledged" },
	{ -EHOSTUNREACH, "rackpwr: destination never heard on the bus" },
	{ -EBUSY, "rackpwr: too many collisions" },
	{ -ECANCELED, "rackpwr: node reconfigured or removed" },
	{ -ETIME, "rackpwr: bus too busy: not sent within the access bound, withdrawn" },
};

static void rpw_nl_send_error(struct netlink_ext_ack *extack, int err)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(rpw_send_errors); i++) {
		if (rpw_send_errors[i].err == err) {
			extack->_msg = rpw_send_errors[i].msg;
			return;
		}
	}
}

static int rpw_nl_frame_send_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct rpw_node *node = info->user_ptr[0];
	struct nlattr **a = info->attrs;
	struct rpw_frame f = {};
	int err;

	if (rpw_nl_missing(info, RACKPWR_A_FRAME_DST) ||
	    rpw_nl_missing(info, RACKPWR_A_FRAME_TYPE))
		return -EINVAL;
	f.type = nla_get_u8(a[RACKPWR_A_FRAME_TYPE]);
	if (f.type != RACKPWR_FRAME_TYPE_DATA &&
	    f.type != RACKPWR_FRAME_TYPE_TEST) {
		NL_SET_BAD_ATTR(info->extack, a[RACKPWR_A_FRAME_TYPE]);
		NL_SET_ERR_MSG_MOD(info->extack,
				   "only data and test frames can be sent from user space");
		return -EINVAL;
	}
	f.dst = nla_get_u8(a[RACKPWR_A_FRAME_DST]);
	if (a[RACKPWR_A_FRAME_ACK]) {
		if (f.dst == RPW_ADDR_BCAST) {
			NL_SET_BAD_ATTR(info->extack, a[RACKPWR_A_FRAME_ACK]);
			NL_SET_ERR_MSG_MOD(info->extack,
					   "broadcast frames are not acknowledged");
			return -EINVAL;
		}
		f.flags |= RPW_F_ACKREQ;
	}
	if (a[RACKPWR_A_FRAME_PAYLOAD]) {
		f.len = nla_len(a[RACKPWR_A_FRAME_PAYLOAD]);
		nla_memcpy(f.payload, a[RACKPWR_A_FRAME_PAYLOAD], f.len);
	}

	err = rpw_node_send(node, &f, RPW_MAC_CLASS_USER,
			    rpw_node_send_timeout(node));
	if (err)
		rpw_nl_send_error(info->extack, err);
	return err;
}

static int rpw_nl_step_down_doit(struct sk_buff *skb, struct genl_info *info)
{
	return rpw_node_step_down(info->user_ptr[0], info->extack);
}

static int rpw_nl_key_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *key = info->attrs[RACKPWR_A_NODE_KEY];
	struct nlattr **a = info->attrs;
	struct rpw_key_req r = {};
	int err;

	if (a[RACKPWR_A_NODE_KEY_ID])
		r.id = nla_get_u8(a[RACKPWR_A_NODE_KEY_ID]);
	if (key) {
		r.key = nla_data(key);
		r.key_len = nla_len(key);
	}
	r.use = a[RACKPWR_A_NODE_KEY_USE];
	if (a[RACKPWR_A_NODE_AUTH_MODE]) {
		r.has_mode = true;
		r.mode = nla_get_u32(a[RACKPWR_A_NODE_AUTH_MODE]);
	}
	err = rpw_node_key_set(info->user_ptr[0], &r, info->extack);
	/* The request's copy is the last one outside the transform. */
	if (key)
		memzero_explicit(nla_data(key), nla_len(key));
	return err;
}

static int rpw_nl_key_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	if (rpw_nl_missing(info, RACKPWR_A_NODE_KEY_ID))
		return -EINVAL;
	return rpw_node_key_del(info->user_ptr[0],
				nla_get_u8(info->attrs[RACKPWR_A_NODE_KEY_ID]),
				info->extack);
}

/* ---- power allocation -------------------------------------------------- */

static int rpw_nl_put_slot(struct sk_buff *skb, struct rpw_node *node,
			   const struct rpw_slot_view *v)
{
	if (nla_put_u32(skb, RACKPWR_A_SLOT_NODE_ID, node->id) ||
	    nla_put_u8(skb, RACKPWR_A_SLOT_SLOT, v->slot) ||
	    nla_put_u32(skb, RACKPWR_A_SLOT_STATE, v->state) ||
	    nla_put_u8(skb, RACKPWR_A_SLOT_PRIO, v->prio) ||
	    nla_put_u32(skb, RACKPWR_A_SLOT_WANT_MW, v->want_mw) ||
	    nla_put_u32(skb, RACKPWR_A_SLOT_HELD_MW, v->held_mw) ||
	    nla_put_u32(skb, RACKPWR_A_SLOT_REQ_ID, v->req_id) ||
	    nla_put_u32(skb, RACKPWR_A_SLOT_LAST_TRIGGER, v->trigger) ||
	    (v->present && nla_put_flag(skb, RACKPWR_A_SLOT_PRESENT)) ||
	    (v->enabled && nla_put_flag(skb, RACKPWR_A_SLOT_ENABLED)) ||
	    nla_put_u32(skb, RACKPWR_A_SLOT_REASON, v->reason) ||
	    (v->ident[0] &&
	     nla_put_string(skb, RACKPWR_A_SLOT_IDENT, v->ident)) ||
	    nla_put_u8(skb, RACKPWR_A_SLOT_PRIMARY, v->primary) ||
	    nla_put_u32(skb, RACKPWR_A_SLOT_EPOCH, v->epoch))
		return -EMSGSIZE;
	return 0;
}

static int rpw_nl_fill_slot(struct sk_buff *skb, struct rpw_node *node,
			    const struct rpw_slot_view *v, u32 portid,
			    u32 seq, int flags)
{
	void *hdr = genlmsg_put(skb, portid, seq, &rpw_genl_family, flags,
				RACKPWR_CMD_SLOT_GET);

	if (!hdr)
		return -EMSGSIZE;
	if (rpw_nl_put_slot(skb, node, v)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

static int rpw_nl_slot_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct rpw_slot_view v;
	struct sk_buff *msg;
	int err;

	if (rpw_nl_missing(info, RACKPWR_A_SLOT_SLOT))
		return -EINVAL;
	err = rpw_alloc_slot_get(info->user_ptr[0],
				 nla_get_u8(info->attrs[RACKPWR_A_SLOT_SLOT]),
				 &v, info->extack);
	if (err)
		return err;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	err = rpw_nl_fill_slot(msg, info->user_ptr[0], &v, info->snd_portid,
			       info->snd_seq, 0);
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	return genlmsg_reply(msg, info);
}

/* cb->args[2]: the request named a slot, which a dump does not take. */
static int rpw_nl_slot_get_start(struct netlink_callback *cb)
{
	cb->args[2] = !!genl_dumpit_info(cb)->attrs[RACKPWR_A_SLOT_SLOT];
	return rpw_nl_node_dump_start(cb, RACKPWR_A_SLOT_NODE_ID);
}

static int rpw_nl_slot_get_dumpit(struct sk_buff *skb,
				  struct netlink_callback *cb)
{
	struct rpw_slot_view v;
	struct rpw_node *node;
	int slot = cb->args[1];
	int err = 0;

	if (cb->args[2]) {
		if (cb->extack)
			cb->extack->_msg = "rackpwr: a slot dump takes no slot";
		return -EINVAL;
	}
	node = rpw_nl_dump_node(cb, "rackpwr: slot dump needs a node id");
	if (IS_ERR(node))
		return PTR_ERR(node);
	for (; slot < RPW_ALLOC_SLOTS; slot++) {
		err = rpw_alloc_slot_get(node, slot, &v, cb->extack);
		if (err)
			break;
		err = rpw_nl_fill_slot(skb, node, &v,
				       NETLINK_CB(cb->skb).portid,
				       cb->nlh->nlmsg_seq, NLM_F_MULTI);
		if (err)
			break;
	}
	return rpw_nl_dump_end(skb, cb, node,
			       slot >= RPW_ALLOC_SLOTS ? -1 : slot, err);
}

static int rpw_nl_slot_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **a = info->attrs;
	int prio = -1;
	u32 power = 0;

	if (rpw_nl_missing(info, RACKPWR_A_SLOT_SLOT))
		return -EINVAL;
	if (!a[RACKPWR_A_SLOT_PRIO] && !a[RACKPWR_A_SLOT_POWER]) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "nothing to set: give prio and/or power");
		return -EINVAL;
	}
	if (a[RACKPWR_A_SLOT_PRIO])
		prio = nla_get_u8(a[RACKPWR_A_SLOT_PRIO]);
	if (a[RACKPWR_A_SLOT_POWER])
		power = nla_get_u32(a[RACKPWR_A_SLOT_POWER]);
	return rpw_alloc_slot_set(info->user_ptr[0],
				  nla_get_u8(a[RACKPWR_A_SLOT_SLOT]), prio,
				  power, info->extack);
}

static u32 rpw_nl_age_ms(u64 then, u64 now)
{
	return now > then ? min_t(u64, div_u64(now - then, NSEC_PER_MSEC),
				  U32_MAX) : 0;
}

/* An entry of the primary's table; the entry's attributes only if given. */
static int rpw_nl_put_entry(struct sk_buff *skb, struct rpw_node *node,
			    u32 epoch, const struct rpw_alloc_view *v)
{
	if (nla_put_u32(skb, RACKPWR_A_POWER_NODE_ID, node->id) ||
	    nla_put_u32(skb, RACKPWR_A_POWER_EPOCH, epoch))
		return -EMSGSIZE;
	if (!v)
		return 0;
	if (nla_put_u8(skb, RACKPWR_A_POWER_CHASSIS, v->chassis) ||
	    nla_put_u8(skb, RACKPWR_A_POWER_SLOT, v->slot) ||
	    (!v->gone && nla_put_u32(skb, RACKPWR_A_POWER_STATE, v->state)) ||
	    nla_put_u8(skb, RACKPWR_A_POWER_PRIO, v->prio) ||
	    nla_put_u32(skb, RACKPWR_A_POWER_WANT_MW, v->want_mw) ||
	    nla_put_u32(skb, RACKPWR_A_POWER_HELD_MW, v->held_mw) ||
	    nla_put_u32(skb, RACKPWR_A_POWER_REQ_ID, v->req_id) ||
	    nla_put_u32(skb, RACKPWR_A_POWER_REASON, v->reason))
		return -EMSGSIZE;
	return 0;
}

static int rpw_nl_alloc_get_start(struct netlink_callback *cb)
{
	return rpw_nl_node_dump_start(cb, RACKPWR_A_POWER_NODE_ID);
}

/* cb->args[1]: position in the table (chassis address * slots + slot). */
static int rpw_nl_alloc_get_dumpit(struct sk_buff *skb,
				   struct netlink_callback *cb)
{
	struct rpw_alloc_view v;
	struct rpw_node *node;
	int pos = cb->args[1];
	int err = 0;
	u32 epoch;

	node = rpw_nl_dump_node(cb, "rackpwr: alloc dump needs a node id");
	if (IS_ERR(node))
		return PTR_ERR(node);
	while ((pos = rpw_alloc_entry_next(node, pos, &v, &epoch)) >= 0) {
		void *hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
					cb->nlh->nlmsg_seq, &rpw_genl_family,
					NLM_F_MULTI, RACKPWR_CMD_ALLOC_GET);

		if (!hdr) {
			err = -EMSGSIZE;
			break;
		}
		if (rpw_nl_put_entry(skb, node, epoch, &v) ||
		    nla_put_u32(skb, RACKPWR_A_POWER_AGE_MS,
				rpw_nl_age_ms(v.changed_ns, ktime_get_ns()))) {
			genlmsg_cancel(skb, hdr);
			err = -EMSGSIZE;
			break;
		}
		genlmsg_end(skb, hdr);
		pos++;
	}
	/* rpw_nl_dump_end() takes an address; the table is longer. */
	cb->args[1] = pos < 0 ? INT_MAX : pos;
	rpw_node_put(node);
	if (err == -EMSGSIZE && skb->len)
		return skb->len;
	return err ?: skb->len;
}

static int rpw_nl_fill_power(struct sk_buff *skb, struct rpw_node *node,
			     u32 portid, u32 seq, u8 cmd)
{
	struct rpw_power_view v;
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &rpw_genl_family, 0, cmd);
	if (!hdr)
		return -EMSGSIZE;
	rpw_alloc_power_view(node, &v);
#define PUT64(attr, val) \
	nla_put_u64_64bit(skb, RACKPWR_A_POWER_##attr, (val), RACKPWR_A_POWER_PAD)
	if (nla_put_u32(skb, RACKPWR_A_POWER_NODE_ID, node->id) ||
	    nla_put_u32(skb, RACKPWR_A_POWER_EPOCH, v.epoch) ||
	    (v.acting && nla_put_flag(skb, RACKPWR_A_POWER_ACTING)) ||
	    (v.recovering && nla_put_flag(skb, RACKPWR_A_POWER_RECOVERING)) ||
	    (v.bound && nla_put_flag(skb, RACKPWR_A_POWER_BOUND)) ||
	    nla_put_u32(skb, RACKPWR_A_POWER_PENDING, v.pending) ||
	    PUT64(USABLE_MW, v.usable_mw) || PUT64(GRANTED_MW, v.granted_mw) ||
	    PUT64(REFUSED_INVARIANT, v.refused_invariant) ||
	    PUT64(NO_POLICY_DENIED, v.nopolicy_denied) ||
	    PUT64(RX_STALE, v.rx_stale) ||
	    PUT64(NTF_DROPPED, atomic64_read(&node->ntf_dropped)) ||
	    nla_put_u32(skb, RACKPWR_A_POWER_POLICY_DIGEST,
			rpw_cap_node_digest(node))) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
#undef PUT64
	genlmsg_end(skb, hdr);
	return 0;
}

static int rpw_nl_reply_power(struct genl_info *info, u8 cmd)
{
	struct sk_buff *msg;
	int err;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	err = rpw_nl_fill_power(msg, info->user_ptr[0], info->snd_portid,
				info->snd_seq, cmd);
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	return genlmsg_reply(msg, info);
}

static int rpw_nl_power_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	return rpw_nl_reply_power(info, RACKPWR_CMD_POWER_GET);
}

static int rpw_nl_policy_bind_doit(struct sk_buff *skb,
				   struct genl_info *info)
{
	struct nlattr *d = info->attrs[RACKPWR_A_POWER_POLICY_DIGEST];
	u32 digest = d ? nla_get_u32(d) : 0;
	int err;

	err = rpw_alloc_policy_bind(info->user_ptr[0], info->snd_portid,
				    d ? &digest : NULL, info->extack);
	return err ?: rpw_nl_reply_power(info, RACKPWR_CMD_POLICY_BIND);
}

/* The target of power-decide and power-shed, with the caller's view. */
static int rpw_nl_power_cmd(struct genl_info *info, struct rpw_power_cmd *c)
{
	struct nlattr **a = info->attrs;

	if (rpw_nl_missing(info, RACKPWR_A_POWER_EPOCH) ||
	    rpw_nl_missing(info, RACKPWR_A_POWER_CHASSIS) ||
	    rpw_nl_missing(info, RACKPWR_A_POWER_SLOT))
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	c->portid = info->snd_portid;
	c->epoch = nla_get_u32(a[RACKPWR_A_POWER_EPOCH]);
	c->chassis = nla_get_u8(a[RACKPWR_A_POWER_CHASSIS]);
	c->slot = nla_get_u8(a[RACKPWR_A_POWER_SLOT]);
	return 0;
}

static int rpw_nl_power_decide_doit(struct sk_buff *skb,
				    struct genl_info *info)
{
	struct nlattr **a = info->attrs;
	struct rpw_power_cmd c;
	int err;

	err = rpw_nl_power_cmd(info, &c);
	if (err)
		return err;
	if (rpw_nl_missing(info, RACKPWR_A_POWER_REQ_ID) ||
	    rpw_nl_missing(info, RACKPWR_A_POWER_VERDICT))
		return -EINVAL;
	c.req_id = nla_get_u32(a[RACKPWR_A_POWER_REQ_ID]);
	c.verdict = nla_get_u32(a[RACKPWR_A_POWER_VERDICT]);
	if (c.verdict == RACKPWR_VERDICT_GRANT &&
	    rpw_nl_missing(info, RACKPWR_A_POWER_MW))
		return -EINVAL;
	if (a[RACKPWR_A_POWER_MW])
		c.mw = nla_get_u32(a[RACKPWR_A_POWER_MW]);
	if (a[RACKPWR_A_POWER_REASON])
		c.reason = nla_get_u32(a[RACKPWR_A_POWER_REASON]);
	return rpw_alloc_decide(info->user_ptr[0], &c, info->extack);
}

static int rpw_nl_power_shed_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct rpw_power_cmd c;

	return rpw_nl_power_cmd(info, &c) ?:
	       rpw_alloc_shed(info->user_ptr[0], &c, info->extack);
}

static const struct genl_ops rpw_genl_ops[] = {
	{
		.cmd = RACKPWR_CMD_NODE_GET,
		.doit = rpw_nl_node_get_doit,
		.dumpit = rpw_nl_node_get_dumpit,
		.policy = rpw_node_id_policy,
		.maxattr = RACKPWR_A_NODE_ID,
		.internal_flags = RPW_NL_NODE,
	},
	{
		.cmd = RACKPWR_CMD_NODE_NEW,
		.doit = rpw_nl_node_new_doit,
		.policy = rpw_node_new_policy,
		.maxattr = RACKPWR_A_NODE_I2C_BUS_AUTO,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = RACKPWR_CMD_NODE_SET,
		.doit = rpw_nl_node_set_doit,
		.policy = rpw_node_set_policy,
		.maxattr = RACKPWR_A_NODE_I2C_BUS_AUTO,
		.flags = GENL_ADMIN_PERM,
		.internal_flags = RPW_NL_NODE,
	},
	{
		.cmd = RACKPWR_CMD_NODE_DEL,
		.doit = rpw_nl_node_del_doit,
		.policy = rpw_node_id_policy,
		.maxattr = RACKPWR_A_NODE_ID,
		.flags = GENL_ADMIN_PERM,
		.internal_flags = RPW_NL_NODE,
	},
	{
		.cmd = RACKPWR_CMD_STATS_GET,
		.doit = rpw_nl_stats_get_doit,
		.dumpit = rpw_nl_stats_get_dumpit,
		.policy = rpw_node_id_policy,
		.maxattr = RACKPWR_A_NODE_ID,
		.internal_flags = RPW_NL_NODE,
	},
	{
		.cmd = RACKPWR_CMD_PEER_GET,
		.start = rpw_nl_peer_get_start,
		.dumpit = rpw_nl_peer_get_dumpit,
		.policy = rpw_peer_policy,
		.maxattr = RACKPWR_A_PEER_NODE_ID,
	},
	{
		.cmd = RACKPWR_CMD_FRAME_SEND,
		.doit = rpw_nl_frame_send_doit,
		.policy = rpw_frame_policy,
		.maxattr = RACKPWR_A_FRAME_ACK,
		.flags = GENL_ADMIN_PERM,
		.internal_flags = RPW_NL_FRAME_NODE,
	},
	{
		.cmd = RACKPWR_CMD_CAPACITY_GET,
		.start = rpw_nl_cap_get_start,
		.dumpit = rpw_nl_cap_get_dumpit,
		.policy = rpw_cap_policy,
		.maxattr = RACKPWR_A_CAPACITY_NODE_ID,
	},
	{
		.cmd = RACKPWR_CMD_STEP_DOWN,
		.doit = rpw_nl_step_down_doit,
		.policy = rpw_node_id_policy,
		.maxattr = RACKPWR_A_NODE_ID,
		.flags = GENL_ADMIN_PERM,
		.internal_flags = RPW_NL_NODE,
	},
	{
		.cmd = RACKPWR_CMD_KEY_SET,
		.doit = rpw_nl_key_set_doit,
		.policy = rpw_key_set_policy,
		.maxattr = RACKPWR_A_NODE_KEY_USE,
		.flags = GENL_ADMIN_PERM,
		.internal_flags = RPW_NL_NODE,
	},
	{
		.cmd = RACKPWR_CMD_KEY_DEL,
		.doit = rpw_nl_key_del_doit,
		.policy = rpw_key_del_policy,
		.maxattr = RACKPWR_A_NODE_KEY_ID,
		.flags = GENL_ADMIN_PERM,
		.internal_flags = RPW_NL_NODE,
	},
	{
		.cmd = RACKPWR_CMD_SLOT_GET,
		.doit = rpw_nl_slot_get_doit,
		.start = rpw_nl_slot_get_start,
		.dumpit = rpw_nl_slot_get_dumpit,
		.policy = rpw_slot_get_policy,
		.maxattr = RACKPWR_A_SLOT_SLOT,
		.internal_flags = RPW_NL_SLOT_NODE,
	},
	{
		.cmd = RACKPWR_CMD_SLOT_SET,
		.doit = rpw_nl_slot_set_doit,
		.policy = rpw_slot_set_policy,
		.maxattr = RACKPWR_A_SLOT_POWER,
		.flags = GENL_ADMIN_PERM,
		.internal_flags = RPW_NL_SLOT_NODE,
	},
	{
		.cmd = RACKPWR_CMD_ALLOC_GET,
		.start = rpw_nl_alloc_get_start,
		.dumpit = rpw_nl_alloc_get_dumpit,
		.policy = rpw_power_id_policy,
		.maxattr = RACKPWR_A_POWER_NODE_ID,
	},
	{
		.cmd = RACKPWR_CMD_POWER_GET,
		.doit = rpw_nl_power_get_doit,
		.policy = rpw_power_id_policy,
		.maxattr = RACKPWR_A_POWER_NODE_ID,
		.internal_flags = RPW_NL_POWER_NODE,
	},
	{
		.cmd = RACKPWR_CMD_POLICY_BIND,
		.doit = rpw_nl_policy_bind_doit,
		.policy = rpw_policy_bind_policy,
		.maxattr = RACKPWR_A_POWER_POLICY_DIGEST,
		.flags = GENL_ADMIN_PERM,
		.internal_flags = RPW_NL_POWER_NODE,
	},
	{
		.cmd = RACKPWR_CMD_POWER_DECIDE,
		.doit = rpw_nl_power_decide_doit,
		.policy = rpw_power_decide_policy,
		.maxattr = RACKPWR_A_POWER_REASON,
		.flags = GENL_ADMIN_PERM,
		.internal_flags = RPW_NL_POWER_NODE,
	},
	{
		.cmd = RACKPWR_CMD_POWER_SHED,
		.doit = rpw_nl_power_shed_doit,
		.policy = rpw_power_shed_policy,
		.maxattr = RACKPWR_A_POWER_SLOT,
		.flags = GENL_ADMIN_PERM,
		.internal_flags = RPW_NL_POWER_NODE,
	},
};

static struct genl_family rpw_genl_family __ro_after_init = {
	.name = RACKPWR_FAMILY_NAME,
	.version = RACKPWR_FAMILY_VERSION,
	.maxattr = RACKPWR_A_NODE_MAX,
	.netnsok = false,
	/* frame-send sleeps until delivery; do not hold genl_mutex for it. */
	.parallel_ops = true,
	.module = THIS_MODULE,
	.pre_doit = rpw_nl_pre_doit,
	.post_doit = rpw_nl_post_doit,
	.ops = rpw_genl_ops,
	.n_ops = ARRAY_SIZE(rpw_genl_ops),
	.resv_start_op = RACKPWR_CMD_NODE_GET,
	.mcgrps = rpw_mcgrps,
	.n_mcgrps = ARRAY_SIZE(rpw_mcgrps),
};

/*
 * Notifications: rpw_nl_ntf_new() returns a message with its genl header
 * (NULL when nobody listens or memory is short), rpw_nl_ntf_send() sends or,
 * after a failed put, drops it.  Every notification that is lost for a
 * reason other than "nobody listens" (-ESRCH) is counted in its node's
 * ntf_dropped, which node-get reports, so that an agent can tell it missed
 * an event and resynchronise by dump.
 */
static void rpw_nl_ntf_dropped(struct rpw_node *node, u8 cmd, int err)
{
	u64 n = atomic64_inc_return(&node->ntf_dropped);

	pr_warn_ratelimited("%s: notification %u dropped (%d), %llu so far\n",
			    node->name, cmd, err, n);
}

static struct sk_buff *rpw_nl_ntf_new(struct rpw_node *node, u8 cmd,
				      gfp_t gfp, void **hdr)
{
	struct sk_buff *msg;

	if (!genl_has_listeners(&rpw_genl_family, &init_net, RPW_MCGRP_EVENTS))
		return NULL;
	msg = genlmsg_new(NLMSG_GOODSIZE, gfp);
	if (!msg) {
		rpw_nl_ntf_dropped(node, cmd, -ENOMEM);
		return NULL;
	}
	*hdr = genlmsg_put(msg, 0, 0, &rpw_genl_family, 0, cmd);
	if (!*hdr) {
		nlmsg_free(msg);
		rpw_nl_ntf_dropped(node, cmd, -EMSGSIZE);
		return NULL;
	}
	return msg;
}

/* Multicast a finished notification; consumes @msg. */
static void rpw_nl_ntf_mcast(struct rpw_node *node, struct sk_buff *msg,
			     u8 cmd, gfp_t gfp)
{
	int err;

	err = genlmsg_multicast(&rpw_genl_family, msg, 0, RPW_MCGRP_EVENTS, gfp);
	if (err && err != -ESRCH)
		rpw_nl_ntf_dropped(node, cmd, err);
}

static void rpw_nl_ntf_send(struct rpw_node *node, struct sk_buff *msg,
			    void *hdr, int put_err, gfp_t gfp)
{
	u8 cmd = ((struct genlmsghdr *)nlmsg_data(nlmsg_hdr(msg)))->cmd;

	if (put_err) {
		nlmsg_free(msg);
		rpw_nl_ntf_dropped(node, cmd, put_err);
		return;
	}
	genlmsg_end(msg, hdr);
	rpw_nl_ntf_mcast(node, msg, cmd, gfp);
}

/* Process context: node created, reconfigured or deleted. */
static void rpw_nl_node_change(struct rpw_node *node, bool deleted)
{
	const u8 cmd = RACKPWR_CMD_NODE_CHANGE_NTF;
	struct sk_buff *msg;
	void *hdr;
	int err;

	if (deleted) {
		msg = rpw_nl_ntf_new(node, cmd, GFP_KERNEL, &hdr);
		if (!msg)
			return;
		err = nla_put_u32(msg, RACKPWR_A_NODE_ID, node->id);
		rpw_nl_ntf_send(node, msg, hdr, err, GFP_KERNEL);
		return;
	}
	if (!genl_has_listeners(&rpw_genl_family, &init_net, RPW_MCGRP_EVENTS))
		return;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg) {
		rpw_nl_ntf_dropped(node, cmd, -ENOMEM);
		return;
	}
	err = rpw_nl_fill_node(msg, node, 0, 0, 0, cmd);
	if (err) {
		nlmsg_free(msg);
		rpw_nl_ntf_dropped(node, cmd, err);
		return;
	}
	rpw_nl_ntf_mcast(node, msg, cmd, GFP_KERNEL);
}

/* The rest run in atomic context (rpw_notify_*() assert the node lock). */

static void rpw_nl_frame_rx(struct rpw_node *node, const struct rpw_frame *f)
{
	struct sk_buff *msg;
	void *hdr;

	msg = rpw_nl_ntf_new(node, RACKPWR_CMD_FRAME_RX_NTF, GFP_ATOMIC, &hdr);
	if (!msg)
		return;
	rpw_nl_ntf_send(node, msg, hdr,
			nla_put_u32(msg, RACKPWR_A_FRAME_NODE_ID, node->id) ||
			nla_put_u8(msg, RACKPWR_A_FRAME_SRC, f->src) ||
			nla_put_u8(msg, RACKPWR_A_FRAME_DST, f->dst) ||
			nla_put_u8(msg, RACKPWR_A_FRAME_TYPE, f->type) ||
			nla_put_u8(msg, RACKPWR_A_FRAME_SEQ, f->seq) ||
			nla_put(msg, RACKPWR_A_FRAME_PAYLOAD, f->len,
				f->payload),
			GFP_ATOMIC);
}

static void rpw_nl_bus_event(struct rpw_node *node, u32 event, u8 addr)
{
	struct sk_buff *msg;
	void *hdr;

	msg = rpw_nl_ntf_new(node, RACKPWR_CMD_BUS_EVENT_NTF, GFP_ATOMIC, &hdr);
	if (!msg)
		return;
	rpw_nl_ntf_send(node, msg, hdr,
			nla_put_u32(msg, RACKPWR_A_BUS_EVENT_NODE_ID, node->id) ||
			nla_put_u32(msg, RACKPWR_A_BUS_EVENT_EVENT, event) ||
			nla_put_u8(msg, RACKPWR_A_BUS_EVENT_ADDR, addr),
			GFP_ATOMIC);
}

static void rpw_nl_elect_event(struct rpw_node *node, u32 event, u8 addr,
			       u32 epoch, u32 state)
{
	struct sk_buff *msg;
	void *hdr;

	msg = rpw_nl_ntf_new(node, RACKPWR_CMD_ELECT_NTF, GFP_ATOMIC, &hdr);
	if (!msg)
		return;
	rpw_nl_ntf_send(node, msg, hdr,
			nla_put_u32(msg, RACKPWR_A_ELECT_NODE_ID, node->id) ||
			nla_put_u32(msg, RACKPWR_A_ELECT_EVENT, event) ||
			nla_put_u8(msg, RACKPWR_A_ELECT_ADDR, addr) ||
			nla_put_u32(msg, RACKPWR_A_ELECT_EPOCH, epoch) ||
			nla_put_u32(msg, RACKPWR_A_ELECT_STATE, state),
			GFP_ATOMIC);
}

static void rpw_nl_capacity(struct rpw_node *node, u8 addr,
			    const struct rpw_cap_entry *e, bool local)
{
	struct sk_buff *msg;
	void *hdr;

	msg = rpw_nl_ntf_new(node, RACKPWR_CMD_CAPACITY_NTF, GFP_ATOMIC, &hdr);
	if (!msg)
		return;
	rpw_nl_ntf_send(node, msg, hdr,
			rpw_nl_put_cap(msg, node, addr, e, local,
				       ktime_get_ns()),
			GFP_ATOMIC);
}

/* ---- power notifications ------------------------------------------------ */

/* Like rpw_nl_ntf_new() for the power group, or for the holder alone. */
static struct sk_buff *rpw_nl_pwr_new(struct rpw_node *node, u8 cmd,
				      u32 holder, void **hdr)
{
	struct sk_buff *msg;

	if (!holder && !genl_has_listeners(&rpw_genl_family, &init_net,
					   RPW_MCGRP_POWER))
		return NULL;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_ATOMIC);
	if (!msg) {
		rpw_nl_ntf_dropped(node, cmd, -ENOMEM);
		return NULL;
	}
	*hdr = genlmsg_put(msg, 0, 0, &rpw_genl_family, 0, cmd);
	if (!*hdr) {
		nlmsg_free(msg);
		rpw_nl_ntf_dropped(node, cmd, -EMSGSIZE);
		return NULL;
	}
	return msg;
}

/*
 * Send a finished power notification to @holder (unicast, never blocking)
 * and the power group.  A holder whose socket buffer is full misses it:
 * counted, and the agent resyncs from alloc-get.
 */
static void rpw_nl_pwr_send(struct rpw_node *node, struct sk_buff *msg,
			    void *hdr, int put_err, u32 holder)
{
	u8 cmd = ((struct genlmsghdr *)nlmsg_data(nlmsg_hdr(msg)))->cmd;
	struct sk_buff *copy;
	int err;

	if (put_err) {
		nlmsg_free(msg);
		rpw_nl_ntf_dropped(node, cmd, put_err);
		return;
	}
	genlmsg_end(msg, hdr);
	if (holder) {
		copy = skb_clone(msg, GFP_ATOMIC);
		err = copy ? genlmsg_unicast(&init_net, copy, holder) : -ENOMEM;
		if (err)
			rpw_nl_ntf_dropped(node, cmd, err);
	}
	if (!genl_has_listeners(&rpw_genl_family, &init_net, RPW_MCGRP_POWER)) {
		nlmsg_free(msg);
		return;
	}
	err = genlmsg_multicast(&rpw_genl_family, msg, 0, RPW_MCGRP_POWER,
				GFP_ATOMIC);
	if (err && err != -ESRCH)
		rpw_nl_ntf_dropped(node, cmd, err);
}

static void rpw_nl_slot(struct rpw_node *node, const struct rpw_slot_view *v)
{
	struct sk_buff *msg;
	void *hdr;

	msg = rpw_nl_pwr_new(node, RACKPWR_CMD_SLOT_NTF, 0, &hdr);
	if (msg)
		rpw_nl_pwr_send(node, msg, hdr, rpw_nl_put_slot(msg, node, v),
				0);
}

static void rpw_nl_power_request(struct rpw_node *node, u32 holder, u32 epoch,
				 const struct rpw_alloc_view *v)
{
	struct sk_buff *msg;
	void *hdr;

	msg = rpw_nl_pwr_new(node, RACKPWR_CMD_POWER_REQUEST_NTF, holder, &hdr);
	if (msg)
		rpw_nl_pwr_send(node, msg, hdr,
				nla_put_u32(msg, RACKPWR_A_POWER_NODE_ID,
					    node->id) ||
				nla_put_u32(msg, RACKPWR_A_POWER_EPOCH, epoch) ||
				nla_put_u8(msg, RACKPWR_A_POWER_CHASSIS,
					   v->chassis) ||
				nla_put_u8(msg, RACKPWR_A_POWER_SLOT, v->slot) ||
				nla_put_u32(msg, RACKPWR_A_POWER_REQ_ID,
					    v->req_id) ||
				nla_put_u8(msg, RACKPWR_A_POWER_PRIO, v->prio) ||
				nla_put_u32(msg, RACKPWR_A_POWER_WANT_MW,
					    v->want_mw) ||
				nla_put_u32(msg, RACKPWR_A_POWER_HELD_MW,
					    v->held_mw),
				holder);
}

static void rpw_nl_alloc_event(struct rpw_node *node, u32 event, u32 epoch,
			       const struct rpw_alloc_view *v)
{
	struct sk_buff *msg;
	void *hdr;

	msg = rpw_nl_pwr_new(node, RACKPWR_CMD_ALLOC_NTF, 0, &hdr);
	if (msg)
		rpw_nl_pwr_send(node, msg, hdr,
				nla_put_u32(msg, RACKPWR_A_POWER_EVENT, event) ||
				rpw_nl_put_entry(msg, node, epoch, v), 0);
}

static const struct rpw_notify_ops rpw_nl_notify = {
	.node_change = rpw_nl_node_change,
	.frame_rx = rpw_nl_frame_rx,
	.bus_event = rpw_nl_bus_event,
	.elect_event = rpw_nl_elect_event,
	.capacity = rpw_nl_capacity,
	.slot = rpw_nl_slot,
	.power_request = rpw_nl_power_request,
	.alloc_event = rpw_nl_alloc_event,
};

/*
 * A policy holder is a socket: when it is released (closed, or its process
 * killed) its bindings end, as net/handshake notices a gone listener.
 * Process context (netlink_release()).
 */
static int rpw_nl_urelease(struct notifier_block *nb, unsigned long state,
			   void *data)
{
	const struct netlink_notify *n = data;

	if (state == NETLINK_URELEASE && n->protocol == NETLINK_GENERIC &&
	    n->portid && net_eq(n->net, &init_net))
		rpw_alloc_policy_release(n->portid);
	return NOTIFY_DONE;
}

static struct notifier_block rpw_nl_urelease_nb = {
	.notifier_call = rpw_nl_urelease,
};

int __init rpw_nl_init(void)
{
	int err = genl_register_family(&rpw_genl_family);

	if (err)
		return err;
	err = netlink_register_notifier(&rpw_nl_urelease_nb);
	if (err) {
		genl_unregister_family(&rpw_genl_family);
		return err;
	}
	rpw_notify_register(&rpw_nl_notify);
	return 0;
}

void rpw_nl_exit(void)
{
	rpw_notify_register(NULL);
	netlink_unregister_notifier(&rpw_nl_urelease_nb);
	genl_unregister_family(&rpw_genl_family);
}
