// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host test of the agent's message decoder (agent/decode.c) against
 * crafted netlink messages: every event and reply decodes into its plain
 * struct; missing required attributes, wrong lengths and types, strings
 * without their NUL, oversized payloads, flags with a payload, truncated
 * attributes and short messages are refused with a reason; attributes the
 * decoder does not know (also above the old fixed cap of 32) are skipped.
 * Built against Debian's libnl-3 like the agent.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include "decode.h"
#include "tap.h"

#define FAMILY	0x20	/* any: the decoder does not look at it */

static struct nl_msg *new_msg(uint8_t cmd)
{
	struct nl_msg *m = nlmsg_alloc();

	if (!m || !genlmsg_put(m, 0, 0, FAMILY, 0, 0, cmd, 1)) {
		fprintf(stderr, "nlmsg_alloc failed\n");
		exit(2);
	}
	return m;
}

static char why[256];

/* Decode and free @m; returns rpw_decode()'s result. */
static int decode(struct nl_msg *m, struct rpw_msg *out)
{
	int err = rpw_decode(nlmsg_hdr(m), out, why, sizeof(why));

	nlmsg_free(m);
	return err;
}

/* Refused, and the reason names @what. */
static void refused(struct nl_msg *m, const char *what, const char *desc)
{
	struct rpw_msg out;
	int err = decode(m, &out);

	tap_ok(err == -EBADMSG && strstr(why, what), "%s: refused (%d, '%s')",
	       desc, err, why);
}

static struct nl_msg *elect(int skip)
{
	struct nl_msg *m = new_msg(RACKPWR_CMD_ELECT_NTF);

	if (skip != RACKPWR_A_ELECT_NODE_ID)
		nla_put_u32(m, RACKPWR_A_ELECT_NODE_ID, 7);
	if (skip != RACKPWR_A_ELECT_EVENT)
		nla_put_u32(m, RACKPWR_A_ELECT_EVENT,
			    RACKPWR_ELECT_EVENT_PROMOTED);
	if (skip != RACKPWR_A_ELECT_ADDR)
		nla_put_u8(m, RACKPWR_A_ELECT_ADDR, 3);
	if (skip != RACKPWR_A_ELECT_EPOCH)
		nla_put_u32(m, RACKPWR_A_ELECT_EPOCH, 0x1203);
	if (skip != RACKPWR_A_ELECT_STATE)
		nla_put_u32(m, RACKPWR_A_ELECT_STATE,
			    RACKPWR_ELECT_STATE_PRIMARY);
	return m;
}

static void put_node_base(struct nl_msg *m, const char *name)
{
	nla_put_u32(m, RACKPWR_A_NODE_ID, 4);
	if (name)
		nla_put_string(m, RACKPWR_A_NODE_NAME, name);
	nla_put_u32(m, RACKPWR_A_NODE_KIND, RACKPWR_KIND_SIM);
	nla_put_u32(m, RACKPWR_A_NODE_ROLE, RACKPWR_ROLE_PSU);
}

static void test_elect(void)
{
	struct rpw_msg out;
	int a;

	tap_ok(!decode(elect(0), &out) && out.cmd == RACKPWR_CMD_ELECT_NTF &&
	       out.elect.node_id == 7 && out.elect.addr == 3 &&
	       out.elect.epoch == 0x1203 &&
	       out.elect.event == RACKPWR_ELECT_EVENT_PROMOTED &&
	       out.elect.state == RACKPWR_ELECT_STATE_PRIMARY,
	       "elect-ntf decodes every field");
	for (a = 1; a <= RACKPWR_A_ELECT_MAX; a++) {
		char desc[64];

		snprintf(desc, sizeof(desc), "elect-ntf without attribute %d", a);
		refused(elect(a), "missing required attribute", desc);
	}
}

static void test_lengths(void)
{
	struct nl_msg *m;
	uint64_t big = 5;
	uint16_t small = 5;

	m = elect(RACKPWR_A_ELECT_EVENT);
	nla_put(m, RACKPWR_A_ELECT_EVENT, sizeof(small), &small);
	refused(m, "attribute event (2) has a bad length", "u32 of 2 bytes");

	m = elect(RACKPWR_A_ELECT_ADDR);
	nla_put_u32(m, RACKPWR_A_ELECT_ADDR, 3);
	refused(m, "attribute addr (3) has a bad length", "u8 of 4 bytes");

	m = elect(RACKPWR_A_ELECT_EPOCH);
	nla_put(m, RACKPWR_A_ELECT_EPOCH, sizeof(big), &big);
	refused(m, "attribute epoch (4) has a bad length", "u32 of 8 bytes");

	m = new_msg(RACKPWR_CMD_PEER_GET);
	nla_put_u32(m, RACKPWR_A_PEER_NODE_ID, 1);
	nla_put_u8(m, RACKPWR_A_PEER_ADDR, 2);
	nla_put_u32(m, RACKPWR_A_PEER_LAST_HEARD_MS, 3);
	nla_put_u32(m, RACKPWR_A_PEER_RX_FRAMES, 4);
	refused(m, "rx-frames", "u64 of 4 bytes");
}

static void test_strings(void)
{
	char longname[RPW_DEC_NAME_LEN + 8];
	struct nl_msg *m;

	m = new_msg(RACKPWR_CMD_NODE_GET);
	put_node_base(m, NULL);
	nla_put(m, RACKPWR_A_NODE_NAME, 5, "sim0.");
	refused(m, "attribute name (3)", "name without its NUL");

	m = new_msg(RACKPWR_CMD_NODE_GET);
	put_node_base(m, NULL);
	nla_put(m, RACKPWR_A_NODE_NAME, 0, NULL);
	refused(m, "attribute name (3)", "empty name attribute");

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	m = new_msg(RACKPWR_CMD_NODE_GET);
	put_node_base(m, longname);
	refused(m, "attribute name (3)", "name longer than the decoder's buffer");
}

static void test_node(void)
{
	struct nl_msg *m, *ignored;
	struct rpw_msg out;
	uint32_t v = 99;
	int err;

	m = new_msg(RACKPWR_CMD_NODE_GET);
	put_node_base(m, "sim0.1");
	nla_put_u8(m, RACKPWR_A_NODE_ADDR, 5);
	nla_put_flag(m, RACKPWR_A_NODE_ACTING);
	nla_put_u64(m, RACKPWR_A_NODE_NTF_DROPPED, 12);
	/* From a newer kernel: numbers beyond the set, also beyond 32. */
	nla_put(m, RACKPWR_A_NODE_MAX + 1, sizeof(v), &v);
	nla_put(m, 33, sizeof(v), &v);
	nla_put(m, 62, 1, "x");
	nla_put(m, 0x3fff, sizeof(v), &v);
	err = decode(m, &out);
	tap_ok(!err && out.node.id == 4 && !strcmp(out.node.name, "sim0.1") &&
	       out.node.addr == 5 && out.node.acting &&
	       out.node.ntf_dropped == 12 &&
	       RPW_HAS(out.node.has, RACKPWR_A_NODE_NTF_DROPPED) &&
	       !RPW_HAS(out.node.has, RACKPWR_A_NODE_BAUD),
	       "node-get with unknown attributes (max+1, 33, 62, 16383) decodes (%d '%s')",
	       err, why);

	m = new_msg(RACKPWR_CMD_NODE_GET);
	put_node_base(m, "sim0.1");
	nla_put(m, RACKPWR_A_NODE_ACTING, sizeof(v), &v);
	refused(m, "flag acting carries 4 bytes", "flag with a payload");

	m = new_msg(RACKPWR_CMD_NODE_GET);
	put_node_base(m, "sim0.1");
	nla_put_u32(m, RACKPWR_A_NODE_AUTH_MODE, RACKPWR_AUTH_MODE_REQUIRED);
	nla_put_u8(m, RACKPWR_A_NODE_AUTH_TX_KEY, 3);
	nla_put_u8(m, RACKPWR_A_NODE_AUTH_RX_KEY, 4);
	err = decode(m, &out);
	tap_ok(!err && out.node.auth_mode == RACKPWR_AUTH_MODE_REQUIRED &&
	       out.node.auth_tx_key == 3 && out.node.auth_rx_key == 4 &&
	       RPW_HAS(out.node.has, RACKPWR_A_NODE_AUTH_MODE),
	       "node-get with auth mode and key ids decodes (%d '%s')", err, why);

	m = new_msg(RACKPWR_CMD_NODE_GET);
	put_node_base(m, "sim0.1");
	nla_put_u32(m, RACKPWR_A_NODE_AUTH_TX_KEY, 3);
	refused(m, "attribute auth-tx-key", "auth-tx-key of 4 bytes");

	m = new_msg(RACKPWR_CMD_NODE_CHANGE_NTF);
	nla_put_u32(m, RACKPWR_A_NODE_ID, 9);
	tap_ok(!decode(m, &out) && out.node.deleted && out.node.id == 9,
	       "node-change-ntf with the id only is a deletion");

	m = new_msg(RACKPWR_CMD_NODE_CHANGE_NTF);
	nla_put_string(m, RACKPWR_A_NODE_NAME, "sim0.2");
	refused(m, "missing required attribute id", "node-change-ntf without id");

	m = new_msg(RACKPWR_CMD_NODE_CHANGE_NTF);
	nla_put_u32(m, RACKPWR_A_NODE_ID, 9);
	nla_put_string(m, RACKPWR_A_NODE_NAME, "sim0.2");
	refused(m, "missing required attribute kind",
		"node-change-ntf of a live node without its kind");

	m = new_msg(RACKPWR_CMD_NODE_GET);
	nla_put_u32(m, RACKPWR_A_NODE_ID, 9);
	refused(m, "missing required attribute name", "node-get reply without name");

	/* The decoder owns its output: a refused message leaves nothing. */
	ignored = new_msg(RACKPWR_CMD_NODE_GET);
	put_node_base(ignored, "sim0.3");
	nla_put(ignored, RACKPWR_A_NODE_ADDR, 2, &v);
	memset(&out, 0xa5, sizeof(out));
	err = decode(ignored, &out);
	tap_ok(err == -EBADMSG && out.node.id == 0 && out.node.has == 0,
	       "a refused message leaves a zeroed struct");
}

static void test_stats(void)
{
	struct nl_msg *m;
	struct nlattr *nest;
	struct rpw_msg out;
	uint32_t v = 1;
	int err;

	m = new_msg(RACKPWR_CMD_STATS_GET);
	nla_put_u32(m, RACKPWR_A_NODE_ID, 2);
	nla_put_string(m, RACKPWR_A_NODE_NAME, "ttyS1");
	nest = nla_nest_start(m, RACKPWR_A_NODE_STATS | NLA_F_NESTED);
	nla_put_u64(m, RACKPWR_A_STATS_TX_FRAMES, 17);
	nla_put_u64(m, RACKPWR_A_STATS_EXPIRED, 3);
	nla_put(m, RACKPWR_A_STATS_MAX + 5, sizeof(v), &v);
	nla_nest_end(m, nest);
	err = decode(m, &out);
	tap_ok(!err && out.node.stats.v[RACKPWR_A_STATS_TX_FRAMES] == 17 &&
	       out.node.stats.v[RACKPWR_A_STATS_EXPIRED] == 3 &&
	       RPW_HAS(out.node.stats.has, RACKPWR_A_STATS_EXPIRED) &&
	       !RPW_HAS(out.node.stats.has, RACKPWR_A_STATS_RX_FRAMES),
	       "stats-get with a nested (NLA_F_NESTED) set decodes (%d '%s')",
	       err, why);

	m = new_msg(RACKPWR_CMD_STATS_GET);
	nla_put_u32(m, RACKPWR_A_NODE_ID, 2);
	nest = nla_nest_start(m, RACKPWR_A_NODE_STATS);
	nla_put_u32(m, RACKPWR_A_STATS_TX_FRAMES, 17);
	nla_nest_end(m, nest);
	refused(m, "stats:", "stats counter of 4 bytes");

	m = new_msg(RACKPWR_CMD_STATS_GET);
	nla_put_u32(m, RACKPWR_A_NODE_ID, 2);
	refused(m, "missing required attribute stats", "stats-get without stats");
}

static void test_frame(void)
{
	uint8_t payload[RACKPWR_MAX_PAYLOAD + 1];
	struct nl_msg *m;
	struct rpw_msg out;
	int err;

	memset(payload, 0x7e, sizeof(payload));
	m = new_msg(RACKPWR_CMD_FRAME_RX_NTF);
	nla_put_u32(m, RACKPWR_A_FRAME_NODE_ID, 1);
	nla_put_u8(m, RACKPWR_A_FRAME_SRC, 2);
	nla_put_u8(m, RACKPWR_A_FRAME_DST, 255);
	nla_put_u8(m, RACKPWR_A_FRAME_TYPE, 127);
	nla_put_u8(m, RACKPWR_A_FRAME_SEQ, 9);
	nla_put(m, RACKPWR_A_FRAME_PAYLOAD, RACKPWR_MAX_PAYLOAD, payload);
	err = decode(m, &out);
	tap_ok(!err && out.frame.len == RACKPWR_MAX_PAYLOAD &&
	       out.frame.payload[63] == 0x7e && out.frame.dst == 255 &&
	       out.frame.seq == 9, "frame-rx-ntf with a full payload decodes");

	m = new_msg(RACKPWR_CMD_FRAME_RX_NTF);
	nla_put_u32(m, RACKPWR_A_FRAME_NODE_ID, 1);
	nla_put_u8(m, RACKPWR_A_FRAME_SRC, 2);
	nla_put_u8(m, RACKPWR_A_FRAME_DST, 255);
	nla_put_u8(m, RACKPWR_A_FRAME_TYPE, 127);
	nla_put_u8(m, RACKPWR_A_FRAME_SEQ, 9);
	nla_put(m, RACKPWR_A_FRAME_PAYLOAD, sizeof(payload), payload);
	refused(m, "attribute payload", "payload over 64 bytes");
}

static void test_capacity_bus(void)
{
	struct nl_msg *m;
	struct rpw_msg out;

	m = new_msg(RACKPWR_CMD_CAPACITY_NTF);
	nla_put_u32(m, RACKPWR_A_CAPACITY_NODE_ID, 1);
	nla_put_u8(m, RACKPWR_A_CAPACITY_ADDR, 2);
	nla_put_u32(m, RACKPWR_A_CAPACITY_BANK_A_MW, 3000000);
	nla_put_u32(m, RACKPWR_A_CAPACITY_BANK_B_MW, 0);
	nla_put_u8(m, RACKPWR_A_CAPACITY_PRESENT, 0x0f);
	nla_put_u8(m, RACKPWR_A_CAPACITY_HEALTHY, 0x0e);
	nla_put_u32(m, RACKPWR_A_CAPACITY_AGE_MS, 10);
	nla_put_flag(m, RACKPWR_A_CAPACITY_LOST);
	tap_ok(!decode(m, &out) && out.cap.bank_a_mw == 3000000 &&
	       out.cap.healthy == 0x0e && out.cap.lost && !out.cap.local &&
	       !out.cap.policy_digest && !out.cap.digest_mismatch,
	       "capacity-ntf decodes, flags included");

	m = new_msg(RACKPWR_CMD_CAPACITY_NTF);
	nla_put_u32(m, RACKPWR_A_CAPACITY_NODE_ID, 1);
	nla_put_u8(m, RACKPWR_A_CAPACITY_ADDR, 2);
	nla_put_u32(m, RACKPWR_A_CAPACITY_BANK_A_MW, 3000000);
	nla_put_u32(m, RACKPWR_A_CAPACITY_BANK_B_MW, 0);
	nla_put_u8(m, RACKPWR_A_CAPACITY_PRESENT, 0x0f);
	nla_put_u8(m, RACKPWR_A_CAPACITY_HEALTHY, 0x0e);
	nla_put_u32(m, RACKPWR_A_CAPACITY_AGE_MS, 10);
	nla_put_u32(m, RACKPWR_A_CAPACITY_POLICY_DIGEST, 0xdeadbeef);
	nla_put_u32(m, RACKPWR_A_CAPACITY_PRIMARY_DIGEST, 0x12345678);
	nla_put_flag(m, RACKPWR_A_CAPACITY_DIGEST_MISMATCH);
	tap_ok(!decode(m, &out) && out.cap.policy_digest == 0xdeadbeef &&
	       out.cap.primary_digest == 0x12345678 && out.cap.digest_mismatch,
	       "capacity-ntf with policy digests and a mismatch");

	m = new_msg(RACKPWR_CMD_CAPACITY_GET);
	nla_put_u32(m, RACKPWR_A_CAPACITY_NODE_ID, 1);
	nla_put_u8(m, RACKPWR_A_CAPACITY_ADDR, 2);
	refused(m, "missing required attribute bank-a-mw",
		"capacity-get reply without its banks");

	m = new_msg(RACKPWR_CMD_BUS_EVENT_NTF);
	nla_put_u32(m, RACKPWR_A_BUS_EVENT_NODE_ID, 1);
	nla_put_u32(m, RACKPWR_A_BUS_EVENT_EVENT, RACKPWR_EVENT_PEER_NEW);
	refused(m, "missing required attribute addr", "bus-event-ntf without addr");
}

static void test_framing(void)
{
	struct nl_msg *m;
	struct nlmsghdr *nlh;
	struct rpw_msg out;
	struct {
		struct nlmsghdr h;
		uint8_t b[2];
	} shorty = { .h = { .nlmsg_len = NLMSG_LENGTH(2) } };
	int err;

	m = new_msg(99);
	nla_put_u32(m, 1, 1);
	tap_ok(decode(m, &out) == -EOPNOTSUPP, "unknown command is skipped");

	err = rpw_decode(&shorty.h, &out, why, sizeof(why));
	tap_ok(err == -EBADMSG && strstr(why, "no genl header"),
	       "message shorter than a genl header refused ('%s')", why);

	/* The last attribute claims more bytes than the message holds. */
	m = elect(0);
	nlh = nlmsg_hdr(m);
	nla_put_u32(m, RACKPWR_A_ELECT_STATE, 1);
	nlh->nlmsg_len -= 2;
	refused(m, "truncated attribute", "truncated last attribute");
}

int main(void)
{
	test_elect();
	test_lengths();
	test_strings();
	test_node();
	test_stats();
	test_frame();
	test_capacity_bus();
	test_framing();
	return tap_done();
}
