// SPDX-License-Identifier: GPL-2.0-only
/*
 * nl_policy - the rackpwr generic netlink family seen by an independent
 * client: raw AF_NETLINK sockets and the uapi header, no libnl, the family
 * and its "events" group resolved through nlctrl.  Every op succeeds with
 * good input; bad input (missing, out-of-range, unknown or mis-sized
 * attributes, oversized payloads, bad frame types, a non-zero reserved
 * header field) is refused with an extack message and changes nothing;
 * an unprivileged process gets EPERM on every state change and can still
 * read; events arrive on the multicast group; every op's request policy,
 * as nlctrl reports it, is the one the YAML spec defines.
 *
 * Runs as root in a rig VM; loads the modules with modprobe itself.
 */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "uapi/linux/rackpwr.h"

#include "kselftest_harness.h"

/* One request attribute of one op, as the spec defines it. */
struct spec_attr {
	const char *what;
	int cmd;
	bool do_op;		/* else the dump's request */
	int attr;
	uint32_t type;		/* NL_ATTR_TYPE_* */
	unsigned long long min, max;	/* integers */
	int max_len;		/* binary, -1: none */
};

/* build/vm-tests/nl_policy_spec.h, from scripts/nl-policy-spec.py */
#include "nl_policy_spec.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK	270
#endif

/* Attribute types unknown to every rackpwr op (all maxattrs are lower). */
#define ATTR_UNKNOWN	200
#define RX_BUF		(256 * 1024)
#define MAX_MSGS	512

/* ---- raw netlink plumbing ---------------------------------------------- */

struct nl {
	int fd;
	uint32_t seq;
};

struct msg {
	union {
		struct nlmsghdr nh;
		char buf[70000];	/* room for a maximal attribute */
	};
};

/* What came back for one request: replies, error, extack. */
struct result {
	int err;		/* 0 or -errno */
	bool has_msg;		/* NLMSGERR_ATTR_MSG */
	char msg[256];
	bool has_offs;		/* NLMSGERR_ATTR_OFFS */
	uint32_t miss_type;	/* NLMSGERR_ATTR_MISS_TYPE, 0 if absent */
	int nrecv;		/* datagrams carrying replies */
	int n;			/* reply messages */
	struct nlmsghdr *m[MAX_MSGS];
	size_t rxlen;
	char rx[RX_BUF] __attribute__((aligned(8)));
};

static struct result res;	/* each test runs in its own process */
static uint16_t family;
static uint32_t events_grp;

static int nl_open(struct nl *nl)
{
	struct timeval tv = { .tv_sec = 10 };
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int one = 1;

	nl->seq = time(NULL);
	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (nl->fd < 0)
		return -errno;
	/* frame-send may wait for retransmissions: a few seconds at most. */
	if (setsockopt(nl->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(nl->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one,
		       sizeof(one)) ||
	    setsockopt(nl->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one,
		       sizeof(one)) ||
	    bind(nl->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(nl->fd);
		return -errno;
	}
	return 0;
}

static void nl_close(struct nl *nl)
{
	if (nl->fd >= 0)
		close(nl->fd);
	nl->fd = -1;
}

static void msg_init(struct msg *m, uint16_t type, uint16_t flags, uint8_t cmd)
{
	struct genlmsghdr *g;

	memset(&m->nh, 0, NLMSG_HDRLEN + GENL_HDRLEN);
	m->nh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	m->nh.nlmsg_type = type;
	m->nh.nlmsg_flags = NLM_F_REQUEST | flags;
	g = NLMSG_DATA(&m->nh);
	g->cmd = cmd;
	g->version = RACKPWR_FAMILY_VERSION;
}

static void rpw_msg(struct msg *m, uint8_t cmd, uint16_t flags)
{
	msg_init(m, family, flags, cmd);
}

static struct genlmsghdr *msg_genl(struct msg *m)
{
	return NLMSG_DATA(&m->nh);
}

static void put(struct msg *m, uint16_t type, const void *data, size_t len)
{
	struct nlattr *a = (struct nlattr *)(m->buf +
					     NLMSG_ALIGN(m->nh.nlmsg_len));

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	if (len)
		memcpy((char *)a + NLA_HDRLEN, data, len);
	memset((char *)a + NLA_HDRLEN + len, 0,
	       NLA_ALIGN(a->nla_len) - a->nla_len);
	m->nh.nlmsg_len = NLMSG_ALIGN(m->nh.nlmsg_len) + NLA_ALIGN(a->nla_len);
}

static void put_u8(struct msg *m, uint16_t type, uint8_t v)
{
	put(m, type, &v, 1);
}

static void put_u16(struct msg *m, uint16_t type, uint16_t v)
{
	put(m, type, &v, 2);
}

static void put_u32(struct msg *m, uint16_t type, uint32_t v)
{
	put(m, type, &v, 4);
}

static void put_u64(struct msg *m, uint16_t type, uint64_t v)
{
	put(m, type, &v, 8);
}

static void put_str(struct msg *m, uint16_t type, const char *s)
{
	put(m, type, s, strlen(s) + 1);
}

/* Parse a run of attributes into tb[0..max]; unknown types are ignored. */
static void parse(const void *p, int len, struct nlattr **tb, int max)
{
	const struct nlattr *a = p;

	memset(tb, 0, sizeof(*tb) * (max + 1));
	while (len >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
	       a->nla_len <= len) {
		int type = a->nla_type & NLA_TYPE_MASK;

		if (type <= max)
			tb[type] = (struct nlattr *)a;
		len -= NLA_ALIGN(a->nla_len);
		a = (const struct nlattr *)((const char *)a +
					     NLA_ALIGN(a->nla_len));
	}
}

static void *nla_data_of(const struct nlattr *a)
{
	return (char *)a + NLA_HDRLEN;
}

static int nla_len_of(const struct nlattr *a)
{
	return a->nla_len - NLA_HDRLEN;
}

static uint8_t get_u8(const struct nlattr *a)
{
	return *(uint8_t *)nla_data_of(a);
}

static uint16_t get_u16(const struct nlattr *a)
{
	uint16_t v;

	memcpy(&v, nla_data_of(a), 2);
	return v;
}

static uint32_t get_u32(const struct nlattr *a)
{
	uint32_t v;

	memcpy(&v, nla_data_of(a), 4);
	return v;
}

static uint64_t get_u64(const struct nlattr *a)
{
	uint64_t v;

	memcpy(&v, nla_data_of(a), 8);
	return v;
}

/* Attributes of a generic netlink message (after the genl header). */
static void parse_genl(const struct nlmsghdr *nh, struct nlattr **tb, int max)
{
	parse((const char *)NLMSG_DATA(nh) + GENL_HDRLEN,
	      nh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN), tb, max);
}

static uint8_t genl_cmd(const struct nlmsghdr *nh)
{
	return ((struct genlmsghdr *)NLMSG_DATA(nh))->cmd;
}

static void parse_extack(struct result *r, const void *tlvs, int len)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];

	parse(tlvs, len, tb, NLMSGERR_ATTR_MAX);
	if (tb[NLMSGERR_ATTR_MSG]) {
		int n = nla_len_of(tb[NLMSGERR_ATTR_MSG]);

		if (n > (int)sizeof(r->msg) - 1)
			n = sizeof(r->msg) - 1;
		memcpy(r->msg, nla_data_of(tb[NLMSGERR_ATTR_MSG]), n);
		r->msg[n] = '\0';
		r->has_msg = true;
	}
	r->has_offs = tb[NLMSGERR_ATTR_OFFS] != NULL;
	if (tb[NLMSGERR_ATTR_MISS_TYPE])
		r->miss_type = get_u32(tb[NLMSGERR_ATTR_MISS_TYPE]);
}

/*
 * Send @m and collect everything up to its ack, error or NLMSG_DONE into
 * @r.  @bufsz is the receive buffer per recv(): the kernel sizes dump
 * chunks after it.  Returns r->err, or a socket error.
 */
static int nl_call_buf(struct nl *nl, struct msg *m, struct result *r,
		       size_t bufsz)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	bool dump = (m->nh.nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;

	memset(r, 0, offsetof(struct result, rx));
	m->nh.nlmsg_seq = ++nl->seq;
	if (!dump)
		m->nh.nlmsg_flags |= NLM_F_ACK;
	if (sendto(nl->fd, m->buf, m->nh.nlmsg_len, 0, (struct sockaddr *)&sa,
		   sizeof(sa)) != (ssize_t)m->nh.nlmsg_len)
		return r->err = -errno;

	for (;;) {
		char *p;
		ssize_t len;
		bool got = false;

		r->rxlen = NLMSG_ALIGN(r->rxlen);
		if (r->rxlen + bufsz > RX_BUF)
			return r->err = -ENOSPC;
		p = r->rx + r->rxlen;
		len = recv(nl->fd, p, bufsz, MSG_TRUNC);
		if (len < 0)
			return r->err = -errno;
		if ((size_t)len > bufsz)
			return r->err = -EMSGSIZE;	/* we lost a part */
		r->rxlen += len;
		for (struct nlmsghdr *nh = (struct nlmsghdr *)p;
		     NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len)) {
			if (nh->nlmsg_seq != m->nh.nlmsg_seq)
				continue;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nh);
				size_t off = sizeof(*e);

				if (!(nh->nlmsg_flags & NLM_F_CAPPED))
					off += e->msg.nlmsg_len - NLMSG_HDRLEN;
				r->err = e->error;
				if (nh->nlmsg_flags & NLM_F_ACK_TLVS)
					parse_extack(r, (char *)e + off,
						     nh->nlmsg_len -
						     NLMSG_HDRLEN - off);
				return r->err;
			}
			if (nh->nlmsg_type == NLMSG_DONE) {
				int *e = NLMSG_DATA(nh);

				r->err = nh->nlmsg_len >= NLMSG_LENGTH(4) ?
					 *e : 0;
				if (nh->nlmsg_flags & NLM_F_ACK_TLVS)
					parse_extack(r, e + 1, nh->nlmsg_len -
						     NLMSG_LENGTH(4));
				return r->err;
			}
			if (r->n < MAX_MSGS)
				r->m[r->n++] = nh;
			got = true;
		}
		r->nrecv += got;
	}
}

static int nl_call(struct nl *nl, struct msg *m, struct result *r)
{
	return nl_call_buf(nl, m, r, 32768);
}

/* nlctrl: the family id, its "events" group and the ops' flags. */
struct family_info {
	uint16_t id;
	uint32_t version;
	uint32_t grp;
	uint32_t op_flags[RACKPWR_CMD_MAX + 1];
	bool has_op[RACKPWR_CMD_MAX + 1];
};

static int resolve(struct nl *nl, struct family_info *fi)
{
	struct nlattr *tb[CTRL_ATTR_MAX + 1], *t2[CTRL_ATTR_MAX + 1];
	struct msg *m = malloc(sizeof(*m));
	struct nlattr *a;
	int err, rem;

	if (!m)
		return -ENOMEM;
	memset(fi, 0, sizeof(*fi));
	msg_init(m, GENL_ID_CTRL, 0, CTRL_CMD_GETFAMILY);
	msg_genl(m)->version = 2;
	put_str(m, CTRL_ATTR_FAMILY_NAME, RACKPWR_FAMILY_NAME);
	err = nl_call(nl, m, &res);
	free(m);
	if (err)
		return err;
	if (res.n != 1)
		return -EPROTO;
	parse_genl(res.m[0], tb, CTRL_ATTR_MAX);
	if (!tb[CTRL_ATTR_FAMILY_ID])
		return -EPROTO;
	fi->id = get_u16(tb[CTRL_ATTR_FAMILY_ID]);
	if (tb[CTRL_ATTR_VERSION])
		fi->version = get_u32(tb[CTRL_ATTR_VERSION]);
	if (tb[CTRL_ATTR_OPS]) {
		a = nla_data_of(tb[CTRL_ATTR_OPS]);
		for (rem = nla_len_of(tb[CTRL_ATTR_OPS]);
		     rem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN;
		     rem -= NLA_ALIGN(a->nla_len),
		     a = (void *)((char *)a + NLA_ALIGN(a->nla_len))) {
			uint32_t op;

			parse(nla_data_of(a), nla_len_of(a), t2, CTRL_ATTR_MAX);
			if (!t2[CTRL_ATTR_OP_ID])
				continue;
			op = get_u32(t2[CTRL_ATTR_OP_ID]);
			if (op > RACKPWR_CMD_MAX)
				continue;
			fi->has_op[op] = true;
			if (t2[CTRL_ATTR_OP_FLAGS])
				fi->op_flags[op] = get_u32(t2[CTRL_ATTR_OP_FLAGS]);
		}
	}
	if (tb[CTRL_ATTR_MCAST_GROUPS]) {
		a = nla_data_of(tb[CTRL_ATTR_MCAST_GROUPS]);
		for (rem = nla_len_of(tb[CTRL_ATTR_MCAST_GROUPS]);
		     rem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN;
		     rem -= NLA_ALIGN(a->nla_len),
		     a = (void *)((char *)a + NLA_ALIGN(a->nla_len))) {
			parse(nla_data_of(a), nla_len_of(a), t2,
			      CTRL_ATTR_MAX);
			if (t2[CTRL_ATTR_MCAST_GRP_NAME] &&
			    t2[CTRL_ATTR_MCAST_GRP_ID] &&
			    !strcmp(nla_data_of(t2[CTRL_ATTR_MCAST_GRP_NAME]),
				    RACKPWR_MCGRP_EVENTS))
				fi->grp = get_u32(t2[CTRL_ATTR_MCAST_GRP_ID]);
		}
	}
	return 0;
}

/* ---- rackpwr helpers ---------------------------------------------------- */

/* Node configuration; -1 = attribute not sent. */
struct cfg {
	long addr, role, baud, ifs, slot, turn, ackto, retries;
};

#define CFG_NONE { -1, -1, -1, -1, -1, -1, -1, -1 }

static void put_cfg(struct msg *m, const struct cfg *c)
{
	if (c->addr >= 0)
		put_u8(m, RACKPWR_A_NODE_ADDR, c->addr);
	if (c->role >= 0)
		put_u32(m, RACKPWR_A_NODE_ROLE, c->role);
	if (c->baud >= 0)
		put_u32(m, RACKPWR_A_NODE_BAUD, c->baud);
	if (c->ifs >= 0)
		put_u32(m, RACKPWR_A_NODE_T_IFS_US, c->ifs);
	if (c->slot >= 0)
		put_u32(m, RACKPWR_A_NODE_T_SLOT_US, c->slot);
	if (c->turn >= 0)
		put_u32(m, RACKPWR_A_NODE_T_TURNAROUND_US, c->turn);
	if (c->ackto >= 0)
		put_u32(m, RACKPWR_A_NODE_ACK_TIMEOUT_US, c->ackto);
	if (c->retries >= 0)
		put_u8(m, RACKPWR_A_NODE_MAX_RETRIES, c->retries);
}

/* A node as node-get reports it. */
struct node {
	uint32_t id, kind, bus, role, baud, ifs, slot, turn, ackto, bound;
	uint8_t addr, retries;
	bool has_bus, has_bound;
	char name[32];
};

static int node_parse(const struct nlmsghdr *nh, struct node *n)
{
	struct nlattr *tb[RACKPWR_A_NODE_MAX + 1];

	memset(n, 0, sizeof(*n));
	parse_genl(nh, tb, RACKPWR_A_NODE_MAX);
	if (!tb[RACKPWR_A_NODE_ID])
		return -1;
	n->id = get_u32(tb[RACKPWR_A_NODE_ID]);
	if (tb[RACKPWR_A_NODE_NAME])
		snprintf(n->name, sizeof(n->name), "%.*s",
			 nla_len_of(tb[RACKPWR_A_NODE_NAME]),
			 (char *)nla_data_of(tb[RACKPWR_A_NODE_NAME]));
#define U32(f, A) if (tb[RACKPWR_A_NODE_##A]) n->f = get_u32(tb[RACKPWR_A_NODE_##A])
	U32(kind, KIND);
	U32(role, ROLE);
	U32(baud, BAUD);
	U32(ifs, T_IFS_US);
	U32(slot, T_SLOT_US);
	U32(turn, T_TURNAROUND_US);
	U32(ackto, ACK_TIMEOUT_US);
#undef U32
	n->has_bus = tb[RACKPWR_A_NODE_BUS];
	if (n->has_bus)
		n->bus = get_u32(tb[RACKPWR_A_NODE_BUS]);
	n->has_bound = tb[RACKPWR_A_NODE_ACCESS_BOUND_US];
	if (n->has_bound)
		n->bound = get_u32(tb[RACKPWR_A_NODE_ACCESS_BOUND_US]);
	if (tb[RACKPWR_A_NODE_ADDR])
		n->addr = get_u8(tb[RACKPWR_A_NODE_ADDR]);
	if (tb[RACKPWR_A_NODE_MAX_RETRIES])
		n->retries = get_u8(tb[RACKPWR_A_NODE_MAX_RETRIES]);
	return 0;
}

/*
 * Same configuration?  access-bound-us is derived from the peers heard so
 * far and changes on its own, so it is not part of the comparison.
 */
static bool node_cfg_eq(const struct node *a, const struct node *b)
{
	struct node x = *a, y = *b;

	x.bound = y.bound = 0;
	return !memcmp(&x, &y, sizeof(x));
}

static int node_new(struct nl *nl, uint32_t bus, const struct cfg *c,
		    struct node *out)
{
	struct msg *m = malloc(sizeof(*m));
	int err;

	rpw_msg(m, RACKPWR_CMD_NODE_NEW, 0);
	put_u32(m, RACKPWR_A_NODE_KIND, RACKPWR_KIND_SIM);
	put_u32(m, RACKPWR_A_NODE_BUS, bus);
	put_cfg(m, c);
	err = nl_call(nl, m, &res);
	free(m);
	if (!err && (res.n != 1 || node_parse(res.m[0], out)))
		err = -EPROTO;
	return err;
}

static int node_get(struct nl *nl, uint32_t id, struct node *out)
{
	struct msg *m = malloc(sizeof(*m));
	int err;

	rpw_msg(m, RACKPWR_CMD_NODE_GET, 0);
	put_u32(m, RACKPWR_A_NODE_ID, id);
	err = nl_call(nl, m, &res);
	free(m);
	if (!err && (res.n != 1 || node_parse(res.m[0], out)))
		err = -EPROTO;
	return err;
}

static int node_set(struct nl *nl, uint32_t id, const struct cfg *c)
{
	struct msg *m = malloc(sizeof(*m));
	int err;

	rpw_msg(m, RACKPWR_CMD_NODE_SET, 0);
	put_u32(m, RACKPWR_A_NODE_ID, id);
	put_cfg(m, c);
	err = nl_call(nl, m, &res);
	free(m);
	return err;
}

static int node_del(struct nl *nl, uint32_t id)
{
	struct msg *m = malloc(sizeof(*m));
	int err;

	rpw_msg(m, RACKPWR_CMD_NODE_DEL, 0);
	put_u32(m, RACKPWR_A_NODE_ID, id);
	err = nl_call(nl, m, &res);
	free(m);
	return err;
}

/* Number of nodes in a node-get dump; -errno on error. */
static int node_count(struct nl *nl)
{
	struct msg *m = malloc(sizeof(*m));
	int err;

	rpw_msg(m, RACKPWR_CMD_NODE_GET, NLM_F_DUMP);
	err = nl_call(nl, m, &res);
	free(m);
	return err ?: res.n;
}

static int frame_send(struct nl *nl, uint32_t node, uint8_t dst, uint8_t type,
		      const void *payload, size_t len, bool ack)
{
	struct msg *m = malloc(sizeof(*m));
	int err;

	rpw_msg(m, RACKPWR_CMD_FRAME_SEND, 0);
	put_u32(m, RACKPWR_A_FRAME_NODE_ID, node);
	put_u8(m, RACKPWR_A_FRAME_DST, dst);
	put_u8(m, RACKPWR_A_FRAME_TYPE, type);
	if (payload)
		put(m, RACKPWR_A_FRAME_PAYLOAD, payload, len);
	if (ack)
		put(m, RACKPWR_A_FRAME_ACK, NULL, 0);
	err = nl_call(nl, m, &res);
	free(m);
	return err;
}

/*
 * Broadcast a first frame from @node so that the others learn its address.
 * A fresh node transmits only in its slot of the start-up sweep (255
 * slots, ~0.7 s at 115200); under TCG a late timer can miss it several
 * times and frame-send gives up after 5 s, so try a few times.
 */
static int hello(struct nl *nl, uint32_t node)
{
	int i, err = -EINVAL;

	for (i = 0; i < 3; i++) {
		err = frame_send(nl, node, 255, RACKPWR_FRAME_TYPE_TEST, "hi",
				 2, false);
		if (err != -ETIMEDOUT)
			break;
	}
	return err;
}

/* One counter of a stats-get do; -1 if missing. */
static int64_t stat_of(struct nl *nl, uint32_t id, int attr)
{
	struct nlattr *tb[RACKPWR_A_NODE_MAX + 1], *st[RACKPWR_A_STATS_MAX + 1];
	struct msg *m = malloc(sizeof(*m));
	int err;

	rpw_msg(m, RACKPWR_CMD_STATS_GET, 0);
	put_u32(m, RACKPWR_A_NODE_ID, id);
	err = nl_call(nl, m, &res);
	free(m);
	if (err || res.n != 1)
		return -1;
	parse_genl(res.m[0], tb, RACKPWR_A_NODE_MAX);
	if (!tb[RACKPWR_A_NODE_STATS])
		return -1;
	parse(nla_data_of(tb[RACKPWR_A_NODE_STATS]),
	      nla_len_of(tb[RACKPWR_A_NODE_STATS]), st, RACKPWR_A_STATS_MAX);
	return st[attr] ? (int64_t)get_u64(st[attr]) : -1;
}

/* ---- event socket ------------------------------------------------------------- */

static int ev_open(struct nl *ev)
{
	int rcvbuf = 1 << 20;
	int err = nl_open(ev);

	if (err)
		return err;
	setsockopt(ev->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (setsockopt(ev->fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &events_grp,
		       sizeof(events_grp)))
		return -errno;
	return 0;
}

/* Event messages received within @ms, appended to res.m[]. */
static int ev_collect(struct nl *ev, int ms)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = { .fd = ev->fd, .events = POLLIN };
		int left, len;
		struct nlmsghdr *nh;

		clock_gettime(CLOCK_MONOTONIC, &t);
		left = ms - ((t.tv_sec - t0.tv_sec) * 1000 +
			     (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || poll(&p, 1, left) <= 0)
			return res.n;
		res.rxlen = NLMSG_ALIGN(res.rxlen);
		if (res.rxlen + 32768 > RX_BUF)
			return res.n;
		len = recv(ev->fd, res.rx + res.rxlen, 32768, 0);
		if (len <= 0)
			return -errno;
		nh = (struct nlmsghdr *)(res.rx + res.rxlen);
		res.rxlen += len;	/* before NLMSG_NEXT eats len */
		for (; NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len))
			if (nh->nlmsg_type == family && res.n < MAX_MSGS)
				res.m[res.n++] = nh;
	}
}

static void ev_reset(void)
{
	res.n = 0;
	res.rxlen = 0;
}

/* Diagnostics: every event collected, one line each. */
static void dump_events(void)
{
	struct nlattr *tb[RACKPWR_A_NODE_MAX + 1];
	int i, j;

	for (i = 0; i < res.n; i++) {
		parse_genl(res.m[i], tb, RACKPWR_A_NODE_MAX);
		fprintf(stderr, "#  event %d: cmd %u:", i, genl_cmd(res.m[i]));
		for (j = 1; j <= 6; j++)
			if (tb[j] && nla_len_of(tb[j]) == 4)
				fprintf(stderr, " %d=%u", j, get_u32(tb[j]));
			else if (tb[j] && nla_len_of(tb[j]) == 1)
				fprintf(stderr, " %d=%u", j, get_u8(tb[j]));
		fputc('\n', stderr);
	}
}

/* Count frame-rx-ntf at @node from @src with @payload. */
static int count_rx(uint32_t node, uint8_t src, uint8_t dst, uint8_t type,
		    const char *payload)
{
	struct nlattr *tb[RACKPWR_A_FRAME_MAX + 1];
	int i, n = 0;

	for (i = 0; i < res.n; i++) {
		if (genl_cmd(res.m[i]) != RACKPWR_CMD_FRAME_RX_NTF)
			continue;
		parse_genl(res.m[i], tb, RACKPWR_A_FRAME_MAX);
		if (!tb[RACKPWR_A_FRAME_NODE_ID] || !tb[RACKPWR_A_FRAME_SRC] ||
		    !tb[RACKPWR_A_FRAME_DST] || !tb[RACKPWR_A_FRAME_TYPE] ||
		    !tb[RACKPWR_A_FRAME_SEQ] || !tb[RACKPWR_A_FRAME_PAYLOAD])
			continue;
		if (get_u32(tb[RACKPWR_A_FRAME_NODE_ID]) == node &&
		    get_u8(tb[RACKPWR_A_FRAME_SRC]) == src &&
		    get_u8(tb[RACKPWR_A_FRAME_DST]) == dst &&
		    get_u8(tb[RACKPWR_A_FRAME_TYPE]) == type &&
		    nla_len_of(tb[RACKPWR_A_FRAME_PAYLOAD]) ==
		    (int)strlen(payload) &&
		    !memcmp(nla_data_of(tb[RACKPWR_A_FRAME_PAYLOAD]), payload,
			    strlen(payload)))
			n++;
	}
	return n;
}

/* node-change-ntf for @id: 1 = with config, 2 = deletion, 0 = none. */
static int find_change(uint32_t id, uint8_t *addr)
{
	struct nlattr *tb[RACKPWR_A_NODE_MAX + 1];
	int i, kind = 0;

	for (i = 0; i < res.n; i++) {
		if (genl_cmd(res.m[i]) != RACKPWR_CMD_NODE_CHANGE_NTF)
			continue;
		parse_genl(res.m[i], tb, RACKPWR_A_NODE_MAX);
		if (!tb[RACKPWR_A_NODE_ID] ||
		    get_u32(tb[RACKPWR_A_NODE_ID]) != id)
			continue;
		if (!tb[RACKPWR_A_NODE_NAME]) {
			kind = 2;
			continue;
		}
		kind = 1;
		if (tb[RACKPWR_A_NODE_ADDR])
			*addr = get_u8(tb[RACKPWR_A_NODE_ADDR]);
	}
	return kind;
}

/* ---- fixture ------------------------------------------------------------ */

FIXTURE(rpw) {
	struct nl nl;
	struct nl ev;		/* subscribed to "events" from the start */
	struct family_info fi;
	uint32_t ids[64];
	int nids;
};

FIXTURE_SETUP(rpw)
{
	ASSERT_EQ(0, system("modprobe rackpwr; modprobe rackpwr_sim"));
	self->nids = 0;
	ASSERT_EQ(0, nl_open(&self->nl));
	ASSERT_EQ(0, resolve(&self->nl, &self->fi))
		TH_LOG("family %s not found: %s", RACKPWR_FAMILY_NAME,
		       strerror(-res.err));
	family = self->fi.id;
	events_grp = self->fi.grp;
	ASSERT_NE(0, events_grp) TH_LOG("no \"events\" multicast group");
	ASSERT_EQ(0, ev_open(&self->ev));
}

FIXTURE_TEARDOWN(rpw)
{
	int i;

	for (i = 0; i < self->nids; i++)
		node_del(&self->nl, self->ids[i]);
	nl_close(&self->nl);
	nl_close(&self->ev);
}

/*
 * Data/test frames from @src that reached anybody since the fixture was
 * set up.  Every configured node also runs the election, so transmit
 * counters move by themselves; frame-rx-ntf carries only what user space
 * sent.
 */
static int user_frames_from(FIXTURE_DATA(rpw) *self, uint8_t src)
{
	struct nlattr *tb[RACKPWR_A_FRAME_MAX + 1];
	int i, n = 0;

	ev_reset();
	ev_collect(&self->ev, 300);
	for (i = 0; i < res.n; i++) {
		if (genl_cmd(res.m[i]) != RACKPWR_CMD_FRAME_RX_NTF)
			continue;
		parse_genl(res.m[i], tb, RACKPWR_A_FRAME_MAX);
		if (tb[RACKPWR_A_FRAME_SRC] &&
		    get_u8(tb[RACKPWR_A_FRAME_SRC]) == src)
			n++;
	}
	return n;
}

/* Create a sim node owned by the test (deleted in teardown). */
static uint32_t mknode(struct __test_metadata *_metadata,
		       FIXTURE_DATA(rpw) *self, uint32_t bus, long addr)
{
	struct cfg c = CFG_NONE;
	struct node n;
	int err;

	c.addr = addr;
	err = node_new(&self->nl, bus, &c, &n);
	EXPECT_EQ(0, err) TH_LOG("node-new bus %u addr %ld: %s (%s)", bus,
				 addr, strerror(-err), res.msg);
	if (err)
		return 0;
	self->ids[self->nids++] = n.id;
	return n.id;
}

/* Expect @err to be one of the errnos, with a non-empty extack message. */
#define EXPECT_REFUSED(what, err, e1, e2) do {				\
	int __e = (err);						\
	EXPECT_TRUE(__e == -(e1) || __e == -(e2))			\
		TH_LOG("%s: want %s, got %d (%s)", what, strerror(e1),	\
		       __e, __e ? strerror(-__e) : "success");		\
	EXPECT_TRUE(res.has_msg && res.msg[0])				\
		TH_LOG("%s: no extack message", what);			\
	if (res.has_msg)						\
		TH_LOG("%s: %s -> \"%s\"", what, strerror(-__e), res.msg); \
} while (0)

/* ---- success paths ------------------------------------------------------ */

TEST_F(rpw, family)
{
	static const int admin[] = { RACKPWR_CMD_NODE_NEW, RACKPWR_CMD_NODE_SET,
				     RACKPWR_CMD_NODE_DEL,
				     RACKPWR_CMD_FRAME_SEND,
				     RACKPWR_CMD_KEY_SET, RACKPWR_CMD_KEY_DEL };
	static const int open_ops[] = { RACKPWR_CMD_NODE_GET,
					RACKPWR_CMD_STATS_GET,
					RACKPWR_CMD_PEER_GET };
	unsigned int i;

	EXPECT_EQ(RACKPWR_FAMILY_VERSION, self->fi.version);
	EXPECT_NE(0, self->fi.grp) TH_LOG("no \"events\" multicast group");
	for (i = 0; i < sizeof(admin) / sizeof(admin[0]); i++) {
		EXPECT_TRUE(self->fi.has_op[admin[i]]);
		EXPECT_TRUE(self->fi.op_flags[admin[i]] & GENL_ADMIN_PERM)
			TH_LOG("op %d lacks GENL_ADMIN_PERM", admin[i]);
	}
	for (i = 0; i < sizeof(open_ops) / sizeof(open_ops[0]); i++) {
		EXPECT_TRUE(self->fi.has_op[open_ops[i]]);
		EXPECT_FALSE(self->fi.op_flags[open_ops[i]] & GENL_ADMIN_PERM);
	}
	EXPECT_TRUE(self->fi.op_flags[RACKPWR_CMD_NODE_GET] & GENL_CMD_CAP_DUMP);
	EXPECT_TRUE(self->fi.op_flags[RACKPWR_CMD_STATS_GET] & GENL_CMD_CAP_DUMP);
	EXPECT_TRUE(self->fi.op_flags[RACKPWR_CMD_PEER_GET] & GENL_CMD_CAP_DUMP);
	/* Notifications are not requests. */
	EXPECT_FALSE(self->fi.has_op[RACKPWR_CMD_FRAME_RX_NTF]);
}

TEST_F(rpw, node_new_get)
{
	struct cfg c = { 11, RACKPWR_ROLE_PSU, 115200, 3500, 2500, 500, 25000,
			 5 };
	struct node n, g, n2;
	char want[32];
	int i, found = 0;

	ASSERT_EQ(0, node_new(&self->nl, 1, &c, &n)) TH_LOG("%s", res.msg);
	self->ids[self->nids++] = n.id;
	EXPECT_EQ(RACKPWR_CMD_NODE_NEW, genl_cmd(res.m[0]));
	EXPECT_LE(1, n.id);
	snprintf(want, sizeof(want), "sim1.%u", n.id);
	EXPECT_STREQ(want, n.name);

	ASSERT_EQ(0, node_get(&self->nl, n.id, &g));
	EXPECT_EQ(RACKPWR_CMD_NODE_GET, genl_cmd(res.m[0]));
	EXPECT_EQ(n.id, g.id);
	EXPECT_STREQ(want, g.name);
	EXPECT_EQ(RACKPWR_KIND_SIM, g.kind);
	EXPECT_TRUE(g.has_bus);
	EXPECT_EQ(1, g.bus);
	EXPECT_EQ(11, g.addr);
	EXPECT_EQ(RACKPWR_ROLE_PSU, g.role);
	EXPECT_EQ(115200, g.baud);
	EXPECT_EQ(3500, g.ifs);
	EXPECT_EQ(2500, g.slot);
	EXPECT_EQ(500, g.turn);
	EXPECT_EQ(25000, g.ackto);
	EXPECT_EQ(5, g.retries);
	EXPECT_TRUE(g.has_bound && g.bound > 0);

	/* A second node gets its own id; the dump lists each exactly once. */
	c.addr = 12;
	ASSERT_EQ(0, node_new(&self->nl, 1, &c, &n2));
	self->ids[self->nids++] = n2.id;
	EXPECT_NE(n.id, n2.id);
	ASSERT_LE(2, node_count(&self->nl));
	for (i = 0; i < res.n; i++) {
		struct node d;

		ASSERT_EQ(0, node_parse(res.m[i], &d));
		EXPECT_EQ(RACKPWR_CMD_NODE_GET, genl_cmd(res.m[i]));
		EXPECT_TRUE(res.m[i]->nlmsg_flags & NLM_F_MULTI);
		if (d.id == n.id) {
			found++;
			EXPECT_EQ(11, d.addr);
		} else if (d.id == n2.id) {
			found += 100;
			EXPECT_EQ(12, d.addr);
		}
	}
	EXPECT_EQ(101, found);
}

TEST_F(rpw, node_set)
{
	struct cfg c = CFG_NONE;
	uint32_t id = mknode(_metadata, self, 1, 13);
	struct node g, before;

	ASSERT_NE(0, id);
	ASSERT_EQ(0, node_get(&self->nl, id, &before));
	c.addr = 14;
	c.role = RACKPWR_ROLE_CHASSIS;
	c.slot = 2000;
	c.retries = 0;
	ASSERT_EQ(0, node_set(&self->nl, id, &c)) TH_LOG("%s", res.msg);
	EXPECT_EQ(0, res.n);	/* a plain ack */
	ASSERT_EQ(0, node_get(&self->nl, id, &g));
	EXPECT_EQ(14, g.addr);
	EXPECT_EQ(RACKPWR_ROLE_CHASSIS, g.role);
	EXPECT_EQ(2000, g.slot);
	EXPECT_EQ(0, g.retries);
	/* What was not given stays. */
	EXPECT_EQ(before.ifs, g.ifs);
	EXPECT_EQ(before.baud, g.baud);
	EXPECT_EQ(before.ackto, g.ackto);

	/* A new line rate applies. */
	c = (struct cfg)CFG_NONE;
	c.baud = 57600;
	ASSERT_EQ(0, node_set(&self->nl, id, &c)) TH_LOG("%s", res.msg);
	ASSERT_EQ(0, node_get(&self->nl, id, &g));
	EXPECT_EQ(57600, g.baud);
	EXPECT_EQ(14, g.addr);
}

TEST_F(rpw, node_del)
{
	uint32_t id = mknode(_metadata, self, 1, 15);
	int before = node_count(&self->nl);
	struct node g;

	ASSERT_NE(0, id);
	ASSERT_EQ(0, node_del(&self->nl, id)) TH_LOG("%s", res.msg);
	EXPECT_EQ(before - 1, node_count(&self->nl));
	EXPECT_REFUSED("node-get of a deleted node", node_get(&self->nl, id, &g),
		       ENODEV, ENODEV);
	EXPECT_REFUSED("second node-del", node_del(&self->nl, id), ENODEV,
		       ENODEV);
	EXPECT_TRUE(res.has_offs) TH_LOG("bad attribute not pointed at");
}

TEST_F(rpw, frame_send_and_stats)
{
	struct nlattr *tb[RACKPWR_A_NODE_MAX + 1], *st[RACKPWR_A_STATS_MAX + 1];
	uint32_t a = mknode(_metadata, self, 2, 21);
	uint32_t b = mknode(_metadata, self, 2, 22);
	char big[RACKPWR_MAX_PAYLOAD];
	struct msg *m = malloc(sizeof(*m));
	int i, err, seen = 0;

	ASSERT_NE(0, a);
	ASSERT_NE(0, b);
	/* b announces itself so that a knows the destination. */
	err = hello(&self->nl, b);
	ASSERT_EQ(0, err) TH_LOG("broadcast: %s (%s)", strerror(-err), res.msg);
	err = frame_send(&self->nl, a, 22, RACKPWR_FRAME_TYPE_DATA, "hello", 5,
			 true);
	EXPECT_EQ(0, err) TH_LOG("acked unicast: %s (%s)", strerror(-err),
				 res.msg);
	err = frame_send(&self->nl, a, 22, RACKPWR_FRAME_TYPE_TEST, NULL, 0,
			 false);
	EXPECT_EQ(0, err) TH_LOG("empty test frame: %s (%s)", strerror(-err),
				 res.msg);
	memset(big, 0x7e, sizeof(big));	/* all flag bytes: escaped */
	err = frame_send(&self->nl, a, 22, RACKPWR_FRAME_TYPE_DATA, big,
			 sizeof(big), true);
	EXPECT_EQ(0, err) TH_LOG("64-byte payload: %s (%s)", strerror(-err),
				 res.msg);

	EXPECT_LE(3, stat_of(&self->nl, a, RACKPWR_A_STATS_TX_FRAMES));
	EXPECT_LE(2, stat_of(&self->nl, a, RACKPWR_A_STATS_ACKS_RX));
	EXPECT_LE(3, stat_of(&self->nl, b, RACKPWR_A_STATS_RX_FRAMES));
	EXPECT_LE(2, stat_of(&self->nl, b, RACKPWR_A_STATS_ACKS_TX));
	EXPECT_EQ(0, stat_of(&self->nl, a, RACKPWR_A_STATS_CRC_ERRORS));

	/* stats-get do: every counter is there. */
	rpw_msg(m, RACKPWR_CMD_STATS_GET, 0);
	put_u32(m, RACKPWR_A_NODE_ID, a);
	ASSERT_EQ(0, nl_call(&self->nl, m, &res));
	ASSERT_EQ(1, res.n);
	EXPECT_EQ(RACKPWR_CMD_STATS_GET, genl_cmd(res.m[0]));
	parse_genl(res.m[0], tb, RACKPWR_A_NODE_MAX);
	ASSERT_NE(NULL, tb[RACKPWR_A_NODE_STATS]);
	EXPECT_TRUE(tb[RACKPWR_A_NODE_STATS]->nla_type & NLA_F_NESTED);
	parse(nla_data_of(tb[RACKPWR_A_NODE_STATS]),
	      nla_len_of(tb[RACKPWR_A_NODE_STATS]), st, RACKPWR_A_STATS_MAX);
	for (i = RACKPWR_A_STATS_TX_FRAMES; i <= RACKPWR_A_STATS_MAX; i++)
		EXPECT_NE(NULL, st[i]) TH_LOG("stats attribute %d missing", i);

	/* stats-get dump: both nodes, once each, with counters. */
	rpw_msg(m, RACKPWR_CMD_STATS_GET, NLM_F_DUMP);
	ASSERT_EQ(0, nl_call(&self->nl, m, &res));
	for (i = 0; i < res.n; i++) {
		parse_genl(res.m[i], tb, RACKPWR_A_NODE_MAX);
		ASSERT_NE(NULL, tb[RACKPWR_A_NODE_ID]);
		EXPECT_NE(NULL, tb[RACKPWR_A_NODE_STATS]);
		if (get_u32(tb[RACKPWR_A_NODE_ID]) == a)
			seen += 1;
		if (get_u32(tb[RACKPWR_A_NODE_ID]) == b)
			seen += 100;
	}
	EXPECT_EQ(101, seen);
	free(m);
}

TEST_F(rpw, peer_get)
{
	struct nlattr *tb[RACKPWR_A_PEER_MAX + 1];
	uint32_t a = mknode(_metadata, self, 2, 23);
	uint32_t b = mknode(_metadata, self, 2, 24);
	struct msg *m = malloc(sizeof(*m));
	int i, found = 0;

	ASSERT_NE(0, a);
	ASSERT_NE(0, b);
	/* Nothing heard yet: an empty dump, not an error. */
	rpw_msg(m, RACKPWR_CMD_PEER_GET, NLM_F_DUMP);
	put_u32(m, RACKPWR_A_PEER_NODE_ID, a);
	ASSERT_EQ(0, nl_call(&self->nl, m, &res)) TH_LOG("%s", res.msg);
	EXPECT_EQ(0, res.n);

	ASSERT_EQ(0, hello(&self->nl, b)) TH_LOG("%s", res.msg);
	usleep(100000);
	rpw_msg(m, RACKPWR_CMD_PEER_GET, NLM_F_DUMP);
	put_u32(m, RACKPWR_A_PEER_NODE_ID, a);
	ASSERT_EQ(0, nl_call(&self->nl, m, &res)) TH_LOG("%s", res.msg);
	for (i = 0; i < res.n; i++) {
		EXPECT_EQ(RACKPWR_CMD_PEER_GET, genl_cmd(res.m[i]));
		parse_genl(res.m[i], tb, RACKPWR_A_PEER_MAX);
		ASSERT_NE(NULL, tb[RACKPWR_A_PEER_ADDR]);
		ASSERT_NE(NULL, tb[RACKPWR_A_PEER_NODE_ID]);
		EXPECT_EQ(a, get_u32(tb[RACKPWR_A_PEER_NODE_ID]));
		if (get_u8(tb[RACKPWR_A_PEER_ADDR]) != 24)
			continue;
		found++;
		ASSERT_NE(NULL, tb[RACKPWR_A_PEER_RX_FRAMES]);
		ASSERT_NE(NULL, tb[RACKPWR_A_PEER_LAST_HEARD_MS]);
		EXPECT_LE(1, get_u64(tb[RACKPWR_A_PEER_RX_FRAMES]));
		EXPECT_GT(10000, get_u32(tb[RACKPWR_A_PEER_LAST_HEARD_MS]));
	}
	EXPECT_EQ(1, found);

	/* A node that does not exist: the dump fails with a reason. */
	rpw_msg(m, RACKPWR_CMD_PEER_GET, NLM_F_DUMP);
	put_u32(m, RACKPWR_A_PEER_NODE_ID, 0xfffffff0);
	EXPECT_REFUSED("peer-get of a missing node",
		       nl_call(&self->nl, m, &res), ENODEV, ENODEV);
	free(m);
}

/* Dumps larger than one skb resume where they stopped: no loss, no repeat. */
TEST_F(rpw, dump_resumes)
{
	struct nlattr *tb[RACKPWR_A_NODE_MAX + 1];
	struct msg *m = malloc(sizeof(*m));
	static int seen[64];
	int i, j, total;
	struct nl fresh;

	/* ~250 bytes of stats each: more than one 3.7 KiB dump skb */
	for (i = 0; i < 20; i++)
		ASSERT_NE(0, mknode(_metadata, self, 3, 100 + i));
	total = node_count(&self->nl);
	ASSERT_LE(20, total);

	/*
	 * The kernel sizes dump skbs after the largest read a socket ever
	 * made (up to 32 KiB): a fresh socket read in 4 KiB gets one page
	 * per part.
	 */
	ASSERT_EQ(0, nl_open(&fresh));
	rpw_msg(m, RACKPWR_CMD_STATS_GET, NLM_F_DUMP);
	ASSERT_EQ(0, nl_call_buf(&fresh, m, &res, 4096));
	nl_close(&fresh);
	EXPECT_LE(2, res.nrecv) TH_LOG("dump came in %d part(s)", res.nrecv);
	EXPECT_EQ(total, res.n);
	for (i = 0; i < res.n; i++) {
		parse_genl(res.m[i], tb, RACKPWR_A_NODE_MAX);
		ASSERT_NE(NULL, tb[RACKPWR_A_NODE_ID]);
		for (j = 0; j < self->nids; j++)
			if (self->ids[j] == get_u32(tb[RACKPWR_A_NODE_ID]))
				seen[j]++;
	}
	for (j = 0; j < self->nids; j++)
		EXPECT_EQ(1, seen[j]) TH_LOG("node %u dumped %d times",
					     self->ids[j], seen[j]);
	free(m);
}

/* ---- bad input ---------------------------------------------------------- */

TEST_F(rpw, missing_attrs)
{
	struct msg *m = malloc(sizeof(*m));
	uint32_t a = mknode(_metadata, self, 4, 31);
	int before = node_count(&self->nl);

	ASSERT_NE(0, a);
	ASSERT_NE(0, mknode(_metadata, self, 4, 39));	/* a listener */
	before++;
	rpw_msg(m, RACKPWR_CMD_NODE_GET, 0);
	EXPECT_REFUSED("node-get without id", nl_call(&self->nl, m, &res),
		       EINVAL, EINVAL);
	EXPECT_EQ(RACKPWR_A_NODE_ID, res.miss_type);

	rpw_msg(m, RACKPWR_CMD_NODE_NEW, 0);
	put_u32(m, RACKPWR_A_NODE_BUS, 4);
	put_u8(m, RACKPWR_A_NODE_ADDR, 32);
	EXPECT_REFUSED("node-new without kind", nl_call(&self->nl, m, &res),
		       EINVAL, EINVAL);
	EXPECT_EQ(RACKPWR_A_NODE_KIND, res.miss_type);

	rpw_msg(m, RACKPWR_CMD_NODE_NEW, 0);
	put_u32(m, RACKPWR_A_NODE_KIND, RACKPWR_KIND_SIM);
	put_u32(m, RACKPWR_A_NODE_BUS, 4);
	EXPECT_REFUSED("node-new without addr", nl_call(&self->nl, m, &res),
		       EINVAL, EINVAL);
	EXPECT_EQ(RACKPWR_A_NODE_ADDR, res.miss_type);

	rpw_msg(m, RACKPWR_CMD_NODE_SET, 0);
	put_u8(m, RACKPWR_A_NODE_ADDR, 33);
	EXPECT_REFUSED("node-set without id", nl_call(&self->nl, m, &res),
		       EINVAL, EINVAL);
	EXPECT_EQ(RACKPWR_A_NODE_ID, res.miss_type);

	rpw_msg(m, RACKPWR_CMD_NODE_DEL, 0);
	EXPECT_REFUSED("node-del without id", nl_call(&self->nl, m, &res),
		       EINVAL, EINVAL);

	rpw_msg(m, RACKPWR_CMD_STATS_GET, 0);
	EXPECT_REFUSED("stats-get without id", nl_call(&self->nl, m, &res),
		       EINVAL, EINVAL);

	rpw_msg(m, RACKPWR_CMD_PEER_GET, NLM_F_DUMP);
	EXPECT_REFUSED("peer-get without node-id", nl_call(&self->nl, m, &res),
		       EINVAL, EINVAL);

	rpw_msg(m, RACKPWR_CMD_FRAME_SEND, 0);
	put_u32(m, RACKPWR_A_FRAME_NODE_ID, a);
	put_u8(m, RACKPWR_A_FRAME_TYPE, RACKPWR_FRAME_TYPE_DATA);
	EXPECT_REFUSED("frame-send without dst", nl_call(&self->nl, m, &res),
		       EINVAL, EINVAL);
	EXPECT_EQ(RACKPWR_A_FRAME_DST, res.miss_type);

	rpw_msg(m, RACKPWR_CMD_FRAME_SEND, 0);
	put_u32(m, RACKPWR_A_FRAME_NODE_ID, a);
	put_u8(m, RACKPWR_A_FRAME_DST, 255);
	EXPECT_REFUSED("frame-send without type", nl_call(&self->nl, m, &res),
		       EINVAL, EINVAL);
	EXPECT_EQ(RACKPWR_A_FRAME_TYPE, res.miss_type);

	rpw_msg(m, RACKPWR_CMD_FRAME_SEND, 0);
	put_u8(m, RACKPWR_A_FRAME_DST, 255);
	put_u8(m, RACKPWR_A_FRAME_TYPE, RACKPWR_FRAME_TYPE_DATA);
	EXPECT_REFUSED("frame-send without node-id",
		       nl_call(&self->nl, m, &res), EINVAL, EINVAL);
	EXPECT_EQ(RACKPWR_A_FRAME_NODE_ID, res.miss_type);

	EXPECT_EQ(before, node_count(&self->nl));
	EXPECT_EQ(0, user_frames_from(self, 31));
	free(m);
}

struct range_case {
	const char *what;
	uint8_t cmd;
	uint16_t attr;
	int size;		/* 1, 4 */
	uint32_t val;
};

TEST_F(rpw, out_of_range)
{
	static const struct range_case cases[] = {
		{ "node-new addr 0", RACKPWR_CMD_NODE_NEW, RACKPWR_A_NODE_ADDR, 1, 0 },
		{ "node-new addr 255", RACKPWR_CMD_NODE_NEW, RACKPWR_A_NODE_ADDR, 1, 255 },
		{ "node-new bus 16", RACKPWR_CMD_NODE_NEW, RACKPWR_A_NODE_BUS, 4, 16 },
		{ "node-new kind 0", RACKPWR_CMD_NODE_NEW, RACKPWR_A_NODE_KIND, 4, 0 },
		{ "node-new kind 4", RACKPWR_CMD_NODE_NEW, RACKPWR_A_NODE_KIND, 4, 4 },
		{ "node-new role 0", RACKPWR_CMD_NODE_NEW, RACKPWR_A_NODE_ROLE, 4, 0 },
		{ "node-new role 3", RACKPWR_CMD_NODE_NEW, RACKPWR_A_NODE_ROLE, 4, 3 },
		{ "node-new baud 1199", RACKPWR_CMD_NODE_NEW, RACKPWR_A_NODE_BAUD, 4, 1199 },
		{ "node-new baud 1000001", RACKPWR_CMD_NODE_NEW, RACKPWR_A_NODE_BAUD, 4, 1000001 },
		{ "node-new ifs 49", RACKPWR_CMD_NODE_NEW, RACKPWR_A_NODE_T_IFS_US, 4, 49 },
		{ "node-new ifs 100001", RACKPWR_CMD_NODE_NEW, RACKPWR_A_NODE_T_IFS_US, 4, 100001 },
		{ "node-new slot 49", RACKPWR_CMD_NODE_NEW, RACKPWR_A_NODE_T_SLOT_US, 4, 49 },
		{ "node-new turnaround 100001", RACKPWR_CMD_NODE_NEW, RACKPWR_A_NODE_T_TURNAROUND_US, 4, 100001 },
		{ "node-new ack timeout 99", RACKPWR_CMD_NODE_NEW, RACKPWR_A_NODE_ACK_TIMEOUT_US, 4, 99 },
		{ "node-new ack timeout 1000001", RACKPWR_CMD_NODE_NEW, RACKPWR_A_NODE_ACK_TIMEOUT_US, 4, 1000001 },
		{ "node-new retries 16", RACKPWR_CMD_NODE_NEW, RACKPWR_A_NODE_MAX_RETRIES, 1, 16 },
		{ "node-set addr 0", RACKPWR_CMD_NODE_SET, RACKPWR_A_NODE_ADDR, 1, 0 },
		{ "node-set slot 100001", RACKPWR_CMD_NODE_SET, RACKPWR_A_NODE_T_SLOT_US, 4, 100001 },
		{ "node-set baud 0", RACKPWR_CMD_NODE_SET, RACKPWR_A_NODE_BAUD, 4, 0 },
		{ "node-set retries 255", RACKPWR_CMD_NODE_SET, RACKPWR_A_NODE_MAX_RETRIES, 1, 255 },
		{ "node-set id 0", RACKPWR_CMD_NODE_SET, RACKPWR_A_NODE_ID, 4, 0 },
		{ "node-get id 0", RACKPWR_CMD_NODE_GET, RACKPWR_A_NODE_ID, 4, 0 },
		{ "node-del id 0", RACKPWR_CMD_NODE_DEL, RACKPWR_A_NODE_ID, 4, 0 },
		{ "stats-get id 0", RACKPWR_CMD_STATS_GET, RACKPWR_A_NODE_ID, 4, 0 },
		{ "frame-send dst 0", RACKPWR_CMD_FRAME_SEND, RACKPWR_A_FRAME_DST, 1, 0 },
		{ "frame-send node-id 0", RACKPWR_CMD_FRAME_SEND, RACKPWR_A_FRAME_NODE_ID, 4, 0 },
	};
	struct msg *m = malloc(sizeof(*m));
	uint32_t a = mknode(_metadata, self, 4, 41);
	struct node g0, g;
	unsigned int i;
	int before;

	ASSERT_NE(0, a);
	/* b, so that frame-send has a known destination if it got through */
	ASSERT_NE(0, mknode(_metadata, self, 4, 42));
	before = node_count(&self->nl);
	ASSERT_EQ(0, node_get(&self->nl, a, &g0));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct range_case *c = &cases[i];

		rpw_msg(m, c->cmd, 0);
		switch (c->cmd) {
		case RACKPWR_CMD_NODE_NEW:
			if (c->attr != RACKPWR_A_NODE_KIND)
				put_u32(m, RACKPWR_A_NODE_KIND,
					RACKPWR_KIND_SIM);
			if (c->attr != RACKPWR_A_NODE_ADDR)
				put_u8(m, RACKPWR_A_NODE_ADDR, 43);
			break;
		case RACKPWR_CMD_NODE_SET:
			if (c->attr != RACKPWR_A_NODE_ID)
				put_u32(m, RACKPWR_A_NODE_ID, a);
			break;
		case RACKPWR_CMD_FRAME_SEND:
			if (c->attr != RACKPWR_A_FRAME_NODE_ID)
				put_u32(m, RACKPWR_A_FRAME_NODE_ID, a);
			if (c->attr != RACKPWR_A_FRAME_DST)
				put_u8(m, RACKPWR_A_FRAME_DST, 42);
			put_u8(m, RACKPWR_A_FRAME_TYPE, RACKPWR_FRAME_TYPE_TEST);
			break;
		}
		if (c->size == 1)
			put_u8(m, c->attr, c->val);
		else
			put_u32(m, c->attr, c->val);
		EXPECT_REFUSED(c->what, nl_call(&self->nl, m, &res), ERANGE,
			       EINVAL);
		EXPECT_TRUE(res.has_offs)
			TH_LOG("%s: bad attribute not pointed at", c->what);
	}
	/* Nothing was created, nothing changed, nothing sent. */
	EXPECT_EQ(before, node_count(&self->nl));
	ASSERT_EQ(0, node_get(&self->nl, a, &g));
	EXPECT_TRUE(node_cfg_eq(&g0, &g));
	EXPECT_EQ(0, user_frames_from(self, 41));
	free(m);
}

TEST_F(rpw, unknown_attrs_strict)
{
	struct msg *m = malloc(sizeof(*m));
	uint32_t a = mknode(_metadata, self, 4, 51);
	struct node g0, g;

	ASSERT_NE(0, a);
	ASSERT_NE(0, mknode(_metadata, self, 4, 59));	/* a listener */
	ASSERT_EQ(0, node_get(&self->nl, a, &g0));

	rpw_msg(m, RACKPWR_CMD_NODE_GET, 0);
	put_u32(m, RACKPWR_A_NODE_ID, a);
	put_u32(m, RACKPWR_A_NODE_MAX + 1, 1);
	EXPECT_REFUSED("node-get with type above max", nl_call(&self->nl, m, &res),
		       EINVAL, EINVAL);

	/* Defined for the family but beyond this op's maxattr. */
	rpw_msg(m, RACKPWR_CMD_NODE_GET, 0);
	put_u32(m, RACKPWR_A_NODE_ID, a);
	put_u8(m, RACKPWR_A_NODE_ADDR, 52);
	EXPECT_REFUSED("node-get with addr", nl_call(&self->nl, m, &res),
		       EINVAL, EINVAL);

	rpw_msg(m, RACKPWR_CMD_NODE_SET, 0);
	put_u32(m, RACKPWR_A_NODE_ID, a);
	put_u8(m, RACKPWR_A_NODE_ADDR, 52);
	put_u32(m, ATTR_UNKNOWN, 1);
	EXPECT_REFUSED("node-set with type 200", nl_call(&self->nl, m, &res),
		       EINVAL, EINVAL);

	/* Read-only attribute, not in the request policy. */
	rpw_msg(m, RACKPWR_CMD_NODE_SET, 0);
	put_u32(m, RACKPWR_A_NODE_ID, a);
	put_u8(m, RACKPWR_A_NODE_ADDR, 52);
	put_u32(m, RACKPWR_A_NODE_ACCESS_BOUND_US, 1);
	EXPECT_REFUSED("node-set with access-bound", nl_call(&self->nl, m, &res),
		       EINVAL, EINVAL);

	/* Within maxattr but with no policy entry (NLA_UNSPEC): strict. */
	rpw_msg(m, RACKPWR_CMD_NODE_SET, 0);
	put_u32(m, RACKPWR_A_NODE_ID, a);
	put_u8(m, RACKPWR_A_NODE_ADDR, 52);
	put_str(m, RACKPWR_A_NODE_NAME, "evil");
	EXPECT_REFUSED("node-set with name", nl_call(&self->nl, m, &res),
		       EINVAL, EINVAL);

	rpw_msg(m, RACKPWR_CMD_NODE_SET, 0);
	put_u32(m, RACKPWR_A_NODE_ID, a);
	put_u8(m, RACKPWR_A_NODE_ADDR, 52);
	put(m, 0, NULL, 0);
	EXPECT_REFUSED("node-set with type 0", nl_call(&self->nl, m, &res),
		       EINVAL, EINVAL);

	rpw_msg(m, RACKPWR_CMD_FRAME_SEND, 0);
	put_u32(m, RACKPWR_A_FRAME_NODE_ID, a);
	put_u8(m, RACKPWR_A_FRAME_DST, 255);
	put_u8(m, RACKPWR_A_FRAME_TYPE, RACKPWR_FRAME_TYPE_TEST);
	put_u8(m, RACKPWR_A_FRAME_MAX + 1, 1);
	EXPECT_REFUSED("frame-send with type above max",
		       nl_call(&self->nl, m, &res), EINVAL, EINVAL);

	rpw_msg(m, RACKPWR_CMD_PEER_GET, NLM_F_DUMP);
	put_u32(m, RACKPWR_A_PEER_NODE_ID, a);
	put_u8(m, RACKPWR_A_PEER_ADDR, 1);
	EXPECT_REFUSED("peer-get with addr", nl_call(&self->nl, m, &res),
		       EINVAL, EINVAL);

	/* Trailing garbage after the last attribute. */
	rpw_msg(m, RACKPWR_CMD_NODE_SET, 0);
	put_u32(m, RACKPWR_A_NODE_ID, a);
	put_u8(m, RACKPWR_A_NODE_ADDR, 52);
	memset(m->buf + m->nh.nlmsg_len, 0xff, 4);
	m->nh.nlmsg_len += 2;
	EXPECT_REFUSED("node-set with trailing bytes",
		       nl_call(&self->nl, m, &res), EINVAL, EINVAL);

	ASSERT_EQ(0, node_get(&self->nl, a, &g));
	EXPECT_TRUE(node_cfg_eq(&g0, &g));
	EXPECT_EQ(0, user_frames_from(self, 51));
	free(m);
}

TEST_F(rpw, wrong_length)
{
	struct msg *m = malloc(sizeof(*m));
	uint32_t a = mknode(_metadata, self, 4, 61);
	struct node g0, g;

	ASSERT_NE(0, a);
	ASSERT_NE(0, mknode(_metadata, self, 4, 69));	/* a listener */
	ASSERT_EQ(0, node_get(&self->nl, a, &g0));

	rpw_msg(m, RACKPWR_CMD_NODE_GET, 0);
	put_u16(m, RACKPWR_A_NODE_ID, a);
	EXPECT_REFUSED("node-get id as u16", nl_call(&self->nl, m, &res),
		       EINVAL, ERANGE);

	rpw_msg(m, RACKPWR_CMD_NODE_GET, 0);
	put_u64(m, RACKPWR_A_NODE_ID, a);
	EXPECT_REFUSED("node-get id as u64", nl_call(&self->nl, m, &res),
		       EINVAL, ERANGE);

	rpw_msg(m, RACKPWR_CMD_NODE_GET, 0);
	put(m, RACKPWR_A_NODE_ID, NULL, 0);
	EXPECT_REFUSED("node-get empty id", nl_call(&self->nl, m, &res),
		       EINVAL, ERANGE);

	rpw_msg(m, RACKPWR_CMD_NODE_SET, 0);
	put_u32(m, RACKPWR_A_NODE_ID, a);
	put_u32(m, RACKPWR_A_NODE_ADDR, 62);
	EXPECT_REFUSED("node-set addr as u32", nl_call(&self->nl, m, &res),
		       EINVAL, ERANGE);

	rpw_msg(m, RACKPWR_CMD_NODE_SET, 0);
	put_u32(m, RACKPWR_A_NODE_ID, a);
	put_u8(m, RACKPWR_A_NODE_T_SLOT_US, 200);
	EXPECT_REFUSED("node-set slot as u8", nl_call(&self->nl, m, &res),
		       EINVAL, ERANGE);

	rpw_msg(m, RACKPWR_CMD_FRAME_SEND, 0);
	put_u32(m, RACKPWR_A_FRAME_NODE_ID, a);
	put_u8(m, RACKPWR_A_FRAME_DST, 255);
	put_u32(m, RACKPWR_A_FRAME_TYPE, RACKPWR_FRAME_TYPE_TEST);
	EXPECT_REFUSED("frame-send type as u32", nl_call(&self->nl, m, &res),
		       EINVAL, ERANGE);

	rpw_msg(m, RACKPWR_CMD_FRAME_SEND, 0);
	put_u32(m, RACKPWR_A_FRAME_NODE_ID, a);
	put_u8(m, RACKPWR_A_FRAME_DST, 69);
	put_u8(m, RACKPWR_A_FRAME_TYPE, RACKPWR_FRAME_TYPE_TEST);
	put_u32(m, RACKPWR_A_FRAME_ACK, 1);
	EXPECT_REFUSED("frame-send ack flag with a value",
		       nl_call(&self->nl, m, &res), EINVAL, ERANGE);

	ASSERT_EQ(0, node_get(&self->nl, a, &g));
	EXPECT_TRUE(node_cfg_eq(&g0, &g));
	EXPECT_EQ(0, user_frames_from(self, 61));
	free(m);
}

TEST_F(rpw, oversized_payload)
{
	static const int sizes[] = { RACKPWR_MAX_PAYLOAD + 1, 256, 4000,
				     60000 };
	static char big[60000];
	uint32_t a = mknode(_metadata, self, 4, 71);
	uint32_t b = mknode(_metadata, self, 4, 72);
	unsigned int i;
	char what[64];

	ASSERT_NE(0, a);
	ASSERT_NE(0, b);
	ASSERT_EQ(0, hello(&self->nl, b)) TH_LOG("%s", res.msg);
	memset(big, 'x', sizeof(big));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(what, sizeof(what), "%d-byte payload", sizes[i]);
		EXPECT_REFUSED(what, frame_send(&self->nl, a, 72,
						RACKPWR_FRAME_TYPE_DATA, big,
						sizes[i], true),
			       ERANGE, EINVAL);
		EXPECT_TRUE(res.has_offs) TH_LOG("%s: no bad attribute", what);
	}
	EXPECT_EQ(0, user_frames_from(self, 71));
}

TEST_F(rpw, frame_type_and_ack)
{
	static const uint8_t bad[] = { 0, 1, 3, 4, 126, 128, 254, 255 };
	uint32_t a = mknode(_metadata, self, 4, 81);
	uint32_t b = mknode(_metadata, self, 4, 82);
	unsigned int i;
	char what[64];

	ASSERT_NE(0, a);
	ASSERT_NE(0, b);
	ASSERT_EQ(0, hello(&self->nl, b)) TH_LOG("%s", res.msg);
	for (i = 0; i < sizeof(bad); i++) {
		snprintf(what, sizeof(what), "frame type %u", bad[i]);
		EXPECT_REFUSED(what, frame_send(&self->nl, a, 82, bad[i], "t",
						1, false), EINVAL, EINVAL);
		EXPECT_TRUE(res.has_offs) TH_LOG("%s: no bad attribute", what);
	}
	EXPECT_REFUSED("acked broadcast",
		       frame_send(&self->nl, a, 255, RACKPWR_FRAME_TYPE_DATA,
				  "t", 1, true), EINVAL, EINVAL);
	EXPECT_REFUSED("frame to ourselves",
		       frame_send(&self->nl, a, 81, RACKPWR_FRAME_TYPE_DATA,
				  "t", 1, false), EINVAL, EINVAL);
	EXPECT_REFUSED("acked frame to an address never heard",
		       frame_send(&self->nl, a, 99, RACKPWR_FRAME_TYPE_DATA,
				  "t", 1, true), EHOSTUNREACH, EHOSTUNREACH);
	EXPECT_EQ(0, user_frames_from(self, 81));
	/* Both good types still go out. */
	EXPECT_EQ(0, frame_send(&self->nl, a, 82, RACKPWR_FRAME_TYPE_DATA,
				"d", 1, true)) TH_LOG("%s", res.msg);
	EXPECT_EQ(0, frame_send(&self->nl, a, 82, RACKPWR_FRAME_TYPE_TEST,
				"t", 1, true)) TH_LOG("%s", res.msg);
}

TEST_F(rpw, reserved_header)
{
	struct msg *m = malloc(sizeof(*m));
	uint32_t a = mknode(_metadata, self, 4, 91);
	struct node g0, g;

	ASSERT_NE(0, a);
	ASSERT_EQ(0, node_get(&self->nl, a, &g0));

	rpw_msg(m, RACKPWR_CMD_NODE_GET, NLM_F_DUMP);
	msg_genl(m)->reserved = 1;
	EXPECT_REFUSED("node-get dump, reserved 1", nl_call(&self->nl, m, &res),
		       EINVAL, EINVAL);

	rpw_msg(m, RACKPWR_CMD_NODE_SET, 0);
	msg_genl(m)->reserved = 0x8000;
	put_u32(m, RACKPWR_A_NODE_ID, a);
	put_u8(m, RACKPWR_A_NODE_ADDR, 92);
	EXPECT_REFUSED("node-set, reserved 0x8000", nl_call(&self->nl, m, &res),
		       EINVAL, EINVAL);

	/* Flags whose meaning the family does not define. */
	rpw_msg(m, RACKPWR_CMD_NODE_SET, NLM_F_REPLACE);
	put_u32(m, RACKPWR_A_NODE_ID, a);
	put_u8(m, RACKPWR_A_NODE_ADDR, 92);
	EXPECT_REFUSED("node-set with NLM_F_REPLACE",
		       nl_call(&self->nl, m, &res), EINVAL, EINVAL);

	/* An op the family does not have. */
	rpw_msg(m, RACKPWR_CMD_FRAME_RX_NTF, 0);
	EXPECT_NE(0, nl_call(&self->nl, m, &res));
	rpw_msg(m, RACKPWR_CMD_MAX + 1, 0);
	EXPECT_NE(0, nl_call(&self->nl, m, &res));

	ASSERT_EQ(0, node_get(&self->nl, a, &g));
	EXPECT_TRUE(node_cfg_eq(&g0, &g));
	free(m);
}

/* A rejected request leaves the node exactly as it was. */
TEST_F(rpw, rejected_changes_nothing)
{
	struct msg *m = malloc(sizeof(*m));
	struct cfg c = CFG_NONE;
	struct node g0, g, n;
	uint32_t a;
	int before;

	c.addr = 101;
	c.role = RACKPWR_ROLE_PSU;
	ASSERT_EQ(0, node_new(&self->nl, 5, &c, &n)) TH_LOG("%s", res.msg);
	a = n.id;
	self->ids[self->nids++] = a;
	ASSERT_EQ(0, node_get(&self->nl, a, &g0));

	/* Valid attributes, invalid together: slot under two characters. */
	c = (struct cfg)CFG_NONE;
	c.addr = 102;
	c.role = RACKPWR_ROLE_CHASSIS;
	c.slot = 60;
	EXPECT_REFUSED("node-set slot below two characters",
		       node_set(&self->nl, a, &c), EINVAL, EINVAL);
	ASSERT_EQ(0, node_get(&self->nl, a, &g));
	EXPECT_EQ(101, g.addr);
	EXPECT_EQ(RACKPWR_ROLE_PSU, g.role);
	EXPECT_TRUE(node_cfg_eq(&g0, &g));

	/* ack timeout shorter than ifs + turnaround + one ACK */
	c = (struct cfg)CFG_NONE;
	c.addr = 102;
	c.ifs = 50000;
	c.ackto = 1000;
	EXPECT_REFUSED("node-set ack timeout below ifs",
		       node_set(&self->nl, a, &c), EINVAL, EINVAL);
	ASSERT_EQ(0, node_get(&self->nl, a, &g));
	EXPECT_TRUE(node_cfg_eq(&g0, &g));

	/* One good and one out-of-range attribute. */
	c = (struct cfg)CFG_NONE;
	c.addr = 102;
	c.baud = 1000001;
	EXPECT_REFUSED("node-set with bad baud", node_set(&self->nl, a, &c),
		       ERANGE, EINVAL);
	ASSERT_EQ(0, node_get(&self->nl, a, &g));
	EXPECT_TRUE(node_cfg_eq(&g0, &g));

	/* kind and bus are fixed. */
	rpw_msg(m, RACKPWR_CMD_NODE_SET, 0);
	put_u32(m, RACKPWR_A_NODE_ID, a);
	put_u8(m, RACKPWR_A_NODE_ADDR, 102);
	put_u32(m, RACKPWR_A_NODE_BUS, 6);
	EXPECT_REFUSED("node-set with bus", nl_call(&self->nl, m, &res),
		       EINVAL, EINVAL);
	ASSERT_EQ(0, node_get(&self->nl, a, &g));
	EXPECT_TRUE(node_cfg_eq(&g0, &g));

	/* node-new with a bad combination creates nothing. */
	before = node_count(&self->nl);
	c = (struct cfg)CFG_NONE;
	c.addr = 103;
	c.slot = 60;
	EXPECT_REFUSED("node-new slot below two characters",
		       node_new(&self->nl, 5, &c, &n), EINVAL, EINVAL);
	EXPECT_EQ(before, node_count(&self->nl));

	/* node-new: the kernel assigns ids; only sim nodes. */
	rpw_msg(m, RACKPWR_CMD_NODE_NEW, 0);
	put_u32(m, RACKPWR_A_NODE_ID, 4242);
	put_u32(m, RACKPWR_A_NODE_KIND, RACKPWR_KIND_SIM);
	put_u8(m, RACKPWR_A_NODE_ADDR, 104);
	EXPECT_REFUSED("node-new with id", nl_call(&self->nl, m, &res),
		       EINVAL, EINVAL);
	rpw_msg(m, RACKPWR_CMD_NODE_NEW, 0);
	put_u32(m, RACKPWR_A_NODE_KIND, RACKPWR_KIND_LDISC);
	put_u8(m, RACKPWR_A_NODE_ADDR, 104);
	EXPECT_REFUSED("node-new of an ldisc node",
		       nl_call(&self->nl, m, &res), EOPNOTSUPP, EINVAL);
	EXPECT_EQ(before, node_count(&self->nl));

	/* ...and a good request still works afterwards. */
	c = (struct cfg)CFG_NONE;
	c.addr = 102;
	EXPECT_EQ(0, node_set(&self->nl, a, &c)) TH_LOG("%s", res.msg);
	ASSERT_EQ(0, node_get(&self->nl, a, &g));
	EXPECT_EQ(102, g.addr);
	free(m);
}

/* ---- keys (authenticated frames) ---------------------------------------- */

static int key_req(struct nl *nl, int cmd, uint32_t id, int kid,
		   const void *key, int klen, bool use, int mode)
{
	struct msg *m = malloc(sizeof(*m));
	int err;

	rpw_msg(m, cmd, 0);
	put_u32(m, RACKPWR_A_NODE_ID, id);
	if (kid >= 0)
		put_u8(m, RACKPWR_A_NODE_KEY_ID, kid);
	if (key)
		put(m, RACKPWR_A_NODE_KEY, key, klen);
	if (use)
		put(m, RACKPWR_A_NODE_KEY_USE, NULL, 0);
	if (mode >= 0)
		put_u32(m, RACKPWR_A_NODE_AUTH_MODE, mode);
	err = nl_call(nl, m, &res);
	free(m);
	return err;
}

#define key_set(nl, id, kid, key, klen, use, mode) \
	key_req(nl, RACKPWR_CMD_KEY_SET, id, kid, key, klen, use, mode)
#define key_del(nl, id, kid) \
	key_req(nl, RACKPWR_CMD_KEY_DEL, id, kid, NULL, 0, false, -1)

/* Does any message of the last reply carry @len bytes of @key? */
static bool res_has(const void *key, size_t len)
{
	int i;

	for (i = 0; i < res.n; i++)
		if (memmem(res.m[i], res.m[i]->nlmsg_len, key, len))
			return true;
	return false;
}

/* node-get of @id: auth-mode, auth-tx-key, auth-rx-key (-1 when absent). */
static int key_view(struct nl *nl, uint32_t id, int v[3])
{
	struct nlattr *tb[RACKPWR_A_NODE_MAX + 1];
	struct node n;
	int err = node_get(nl, id, &n);

	if (err)
		return err;
	parse_genl(res.m[0], tb, RACKPWR_A_NODE_MAX);
	v[0] = tb[RACKPWR_A_NODE_AUTH_MODE] ?
	       (int)get_u32(tb[RACKPWR_A_NODE_AUTH_MODE]) : -1;
	v[1] = tb[RACKPWR_A_NODE_AUTH_TX_KEY] ?
	       get_u8(tb[RACKPWR_A_NODE_AUTH_TX_KEY]) : -1;
	v[2] = tb[RACKPWR_A_NODE_AUTH_RX_KEY] ?
	       get_u8(tb[RACKPWR_A_NODE_AUTH_RX_KEY]) : -1;
	return 0;
}

/*
 * key-set and key-del refuse bad requests with a message; node-get reports
 * the mode and key ids, and no reply ever carries key bytes.
 */
TEST_F(rpw, keys)
{
	static const char key[] = "rackpwr-nl-test-key-0123456789abcdef-xyz";
	static const char key2[] = "second-key-16byt";
	uint32_t id = mknode(_metadata, self, 7, 30);
	struct msg *m = malloc(sizeof(*m));
	char big[65];
	int v[3];

	memset(big, 'k', sizeof(big));
	ASSERT_NE(0, id);
	ASSERT_NE(NULL, m);
	ASSERT_EQ(0, key_view(&self->nl, id, v));
	EXPECT_TRUE(v[0] == RACKPWR_AUTH_MODE_OFF && v[1] < 0 && v[2] < 0);

	EXPECT_REFUSED("key-set: nothing to do",
		       key_set(&self->nl, id, -1, NULL, 0, false, -1),
		       EINVAL, EINVAL);
	EXPECT_REFUSED("key-set: key without key-id",
		       key_set(&self->nl, id, -1, key, 32, false, -1),
		       EINVAL, EINVAL);
	EXPECT_REFUSED("key-set: key of 15 bytes",
		       key_set(&self->nl, id, 1, key, 15, false, -1),
		       EINVAL, ERANGE);
	EXPECT_REFUSED("key-set: key of 65 bytes",
		       key_set(&self->nl, id, 1, big, sizeof(big), false, -1),
		       EINVAL, ERANGE);
	EXPECT_REFUSED("key-set: key id 0",
		       key_set(&self->nl, id, 0, key, 32, false, -1),
		       EINVAL, ERANGE);
	EXPECT_REFUSED("key-set: mode 3",
		       key_set(&self->nl, id, 1, key, 32, false, 3),
		       EINVAL, ERANGE);
	EXPECT_REFUSED("key-set: required without a key",
		       key_set(&self->nl, id, -1, NULL, 0, false,
			       RACKPWR_AUTH_MODE_REQUIRED), EINVAL, EINVAL);
	EXPECT_REFUSED("key-set: use of a key not held",
		       key_set(&self->nl, id, 4, NULL, 0, true, -1),
		       EINVAL, EINVAL);
	EXPECT_REFUSED("key-del: key not held", key_del(&self->nl, id, 1),
		       ENOENT, ENOENT);
	EXPECT_REFUSED("key-del: no key-id", key_del(&self->nl, id, -1),
		       EINVAL, EINVAL);
	ASSERT_EQ(0, key_view(&self->nl, id, v));
	EXPECT_TRUE(v[0] == RACKPWR_AUTH_MODE_OFF && v[1] < 0)
		TH_LOG("a refused key-set changed the node: mode %d key %d",
		       v[0], v[1]);

	ASSERT_EQ(0, key_set(&self->nl, id, 1, key, 40, false,
			     RACKPWR_AUTH_MODE_REQUIRED)) TH_LOG("%s", res.msg);
	ASSERT_EQ(0, key_view(&self->nl, id, v));
	EXPECT_TRUE(v[0] == RACKPWR_AUTH_MODE_REQUIRED && v[1] == 1 &&
		    v[2] < 0) TH_LOG("mode %d tx %d rx %d", v[0], v[1], v[2]);
	EXPECT_FALSE(res_has(key, 8)) TH_LOG("node-get carries key bytes");
	rpw_msg(m, RACKPWR_CMD_NODE_GET, NLM_F_DUMP);
	ASSERT_EQ(0, nl_call(&self->nl, m, &res));
	EXPECT_FALSE(res_has(key, 8)) TH_LOG("node-get dump carries key bytes");
	rpw_msg(m, RACKPWR_CMD_STATS_GET, NLM_F_DUMP);
	ASSERT_EQ(0, nl_call(&self->nl, m, &res));
	EXPECT_FALSE(res_has(key, 8)) TH_LOG("stats-get carries key bytes");

	EXPECT_REFUSED("key-del: the key sent with, mode required",
		       key_del(&self->nl, id, 1), EBUSY, EBUSY);
	ASSERT_EQ(0, key_set(&self->nl, id, 2, key2, 16, true, -1));
	ASSERT_EQ(0, key_view(&self->nl, id, v));
	EXPECT_TRUE(v[1] == 2 && v[2] == 1) TH_LOG("tx %d rx %d", v[1], v[2]);
	EXPECT_FALSE(res_has(key2, 8));
	ASSERT_EQ(0, key_del(&self->nl, id, 1));
	ASSERT_EQ(0, key_view(&self->nl, id, v));
	EXPECT_TRUE(v[1] == 2 && v[2] < 0) TH_LOG("tx %d rx %d", v[1], v[2]);
	ASSERT_EQ(0, key_set(&self->nl, id, -1, NULL, 0, false,
			     RACKPWR_AUTH_MODE_OFF));
	ASSERT_EQ(0, key_del(&self->nl, id, 2));
	ASSERT_EQ(0, key_view(&self->nl, id, v));
	EXPECT_TRUE(v[0] == RACKPWR_AUTH_MODE_OFF && v[1] < 0 && v[2] < 0);
	free(m);
}

/* ---- privileges --------------------------------------------------------- */

static int child_fail;

#define CHILD_EXPECT(cond, ...) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "# unprivileged: " __VA_ARGS__);	\
		fputc('\n', stderr);					\
		child_fail++;						\
	}								\
} while (0)

/* Runs in a child without root: returns the number of failed checks. */
static int unprivileged_checks(uint32_t a, uint32_t b)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct cap[2];
	struct msg *m = malloc(sizeof(*m));
	struct cfg c = CFG_NONE;
	struct family_info fi;
	struct node n;
	struct nl nl;
	int err;

	if (setgroups(0, NULL) || setgid(65534) || setuid(65534)) {
		perror("drop privileges");
		return 100;
	}
	CHILD_EXPECT(getuid() == 65534 && geteuid() == 65534 &&
		     getgid() == 65534, "uid/gid not dropped");
	CHILD_EXPECT(!syscall(SYS_capget, &hdr, cap), "capget: %m");
	CHILD_EXPECT(!cap[0].effective && !cap[1].effective &&
		     !cap[0].permitted && !cap[1].permitted,
		     "capabilities left: %x %x", cap[0].effective,
		     cap[1].effective);

	if (nl_open(&nl) || resolve(&nl, &fi)) {
		fprintf(stderr, "# unprivileged: family not resolved\n");
		return 100;
	}
	CHILD_EXPECT(fi.id == family, "family id differs");

	/* State changes: EPERM. */
	c.addr = 120;
	err = node_new(&nl, 6, &c, &n);
	CHILD_EXPECT(err == -EPERM, "node-new: %s", strerror(-err));
	c.addr = 121;
	err = node_set(&nl, a, &c);
	CHILD_EXPECT(err == -EPERM, "node-set: %s", strerror(-err));
	err = node_del(&nl, a);
	CHILD_EXPECT(err == -EPERM, "node-del: %s", strerror(-err));
	err = frame_send(&nl, a, 255, RACKPWR_FRAME_TYPE_TEST, "u", 1, false);
	CHILD_EXPECT(err == -EPERM, "frame-send broadcast: %s", strerror(-err));
	err = frame_send(&nl, a, 112, RACKPWR_FRAME_TYPE_DATA, "u", 1, true);
	CHILD_EXPECT(err == -EPERM, "frame-send unicast: %s", strerror(-err));
	err = key_set(&nl, a, 1, "unprivileged-key", 16, false,
		      RACKPWR_AUTH_MODE_REQUIRED);
	CHILD_EXPECT(err == -EPERM, "key-set: %s", strerror(-err));
	err = key_del(&nl, a, 1);
	CHILD_EXPECT(err == -EPERM, "key-del: %s", strerror(-err));

	/* Reads: allowed. */
	err = node_count(&nl);
	CHILD_EXPECT(err >= 2, "node-get dump: %d", err);
	err = node_get(&nl, a, &n);
	CHILD_EXPECT(!err && n.addr == 111, "node-get: %s addr %u",
		     strerror(-err), n.addr);
	CHILD_EXPECT(stat_of(&nl, b, RACKPWR_A_STATS_TX_FRAMES) >= 1,
		     "stats-get do");
	rpw_msg(m, RACKPWR_CMD_STATS_GET, NLM_F_DUMP);
	err = nl_call(&nl, m, &res);
	CHILD_EXPECT(!err && res.n >= 2, "stats-get dump: %s, %d",
		     strerror(-err), res.n);
	rpw_msg(m, RACKPWR_CMD_PEER_GET, NLM_F_DUMP);
	put_u32(m, RACKPWR_A_PEER_NODE_ID, a);
	err = nl_call(&nl, m, &res);
	CHILD_EXPECT(!err && res.n >= 1, "peer-get dump: %s, %d",
		     strerror(-err), res.n);
	nl_close(&nl);
	free(m);
	return child_fail;
}

TEST_F(rpw, unprivileged)
{
	uint32_t a = mknode(_metadata, self, 6, 111);
	uint32_t b = mknode(_metadata, self, 6, 112);
	struct node g0, g;
	int status;
	pid_t pid;

	ASSERT_NE(0, a);
	ASSERT_NE(0, b);
	ASSERT_EQ(0, hello(&self->nl, b)) TH_LOG("%s", res.msg);
	ASSERT_EQ(0, node_get(&self->nl, a, &g0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(unprivileged_checks(a, b));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("failed checks, see above");
	/* Nothing the child tried took effect. */
	ASSERT_EQ(0, node_get(&self->nl, a, &g));
	EXPECT_TRUE(node_cfg_eq(&g0, &g));
	EXPECT_EQ(0, user_frames_from(self, 111));
}

TEST_F(rpw, events)
{
	struct nlattr *tb[RACKPWR_A_BUS_EVENT_MAX + 1];
	uint32_t a = mknode(_metadata, self, 7, 131);
	uint32_t b = mknode(_metadata, self, 7, 132);
	struct cfg c = CFG_NONE;
	uint8_t addr = 0;
	struct nl *ev = &self->ev;
	struct node n;
	int i, peer_new = 0;

	ASSERT_NE(0, a);
	ASSERT_NE(0, b);

	/* Node created, reconfigured, deleted. */
	c.addr = 133;
	ASSERT_EQ(0, node_new(&self->nl, 7, &c, &n)) TH_LOG("%s", res.msg);
	self->ids[self->nids++] = n.id;
	ev_reset();
	ev_collect(ev, 500);
	EXPECT_EQ(1, find_change(n.id, &addr)) TH_LOG("no node-change-ntf");
	EXPECT_EQ(133, addr);
	c.addr = 134;
	ASSERT_EQ(0, node_set(&self->nl, n.id, &c));
	ev_reset();
	ev_collect(ev, 500);
	EXPECT_EQ(1, find_change(n.id, &addr));
	EXPECT_EQ(134, addr);
	ASSERT_EQ(0, node_del(&self->nl, n.id));
	self->nids--;
	ev_reset();
	ev_collect(ev, 500);
	EXPECT_EQ(2, find_change(n.id, &addr)) TH_LOG("no deletion event");

	/* Frames between two sim nodes: b's first one makes it a's peer. */
	ev_reset();
	ASSERT_EQ(0, hello(&self->nl, b)) TH_LOG("%s", res.msg);
	ev_reset();
	ev_collect(ev, 500);
	for (i = 0; i < res.n; i++) {
		if (genl_cmd(res.m[i]) != RACKPWR_CMD_BUS_EVENT_NTF)
			continue;
		parse_genl(res.m[i], tb, RACKPWR_A_BUS_EVENT_MAX);
		if (tb[RACKPWR_A_BUS_EVENT_NODE_ID] &&
		    get_u32(tb[RACKPWR_A_BUS_EVENT_NODE_ID]) == a &&
		    tb[RACKPWR_A_BUS_EVENT_EVENT] &&
		    get_u32(tb[RACKPWR_A_BUS_EVENT_EVENT]) ==
		    RACKPWR_EVENT_PEER_NEW && tb[RACKPWR_A_BUS_EVENT_ADDR] &&
		    get_u8(tb[RACKPWR_A_BUS_EVENT_ADDR]) == 132)
			peer_new++;
	}
	if (peer_new != 1)
		dump_events();
	EXPECT_EQ(1, peer_new) TH_LOG("peer-new bus event for 132 at a");
	EXPECT_LE(1, count_rx(a, 132, 255, RACKPWR_FRAME_TYPE_TEST, "hi"));

	ASSERT_EQ(0, frame_send(&self->nl, b, 255, RACKPWR_FRAME_TYPE_TEST,
				"bcast-b", 7, false)) TH_LOG("%s", res.msg);
	ev_reset();
	ev_collect(ev, 500);
	if (count_rx(a, 132, 255, RACKPWR_FRAME_TYPE_TEST, "bcast-b") != 1)
		dump_events();
	EXPECT_EQ(1, count_rx(a, 132, 255, RACKPWR_FRAME_TYPE_TEST, "bcast-b"));
	EXPECT_EQ(0, count_rx(b, 132, 255, RACKPWR_FRAME_TYPE_TEST, "bcast-b"))
		TH_LOG("the sender received its own broadcast");

	ASSERT_EQ(0, frame_send(&self->nl, a, 132, RACKPWR_FRAME_TYPE_DATA,
				"uni-a", 5, true)) TH_LOG("%s", res.msg);
	ev_reset();
	ev_collect(ev, 500);
	if (count_rx(b, 131, 132, RACKPWR_FRAME_TYPE_DATA, "uni-a") != 1)
		dump_events();
	EXPECT_EQ(1, count_rx(b, 131, 132, RACKPWR_FRAME_TYPE_DATA, "uni-a"))
		TH_LOG("frame-rx-ntf at b: want exactly one");
	EXPECT_EQ(0, count_rx(a, 131, 132, RACKPWR_FRAME_TYPE_DATA, "uni-a"));
}

/* ---- policies against the spec ----------------------------------------- */

#define KPOL_MAX	32
#define KATTR_MAX	64

/* One attribute of one kernel policy, as nlctrl getpolicy reports it. */
struct kattr {
	uint32_t type;		/* 0: not in the policy */
	uint64_t min, max;
	uint32_t max_len;
};

static struct kattr kpol[KPOL_MAX][KATTR_MAX];
static int op_pol[RACKPWR_CMD_MAX + 1][2];	/* [cmd][do] = index or -1 */

/* Every attribute nested in @nest. */
#define for_each_nested(a, nest, rem)					\
	for (a = nla_data_of(nest), rem = nla_len_of(nest);		\
	     rem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN;		\
	     rem -= NLA_ALIGN(a->nla_len),				\
	     a = (void *)((char *)a + NLA_ALIGN(a->nla_len)))

static void kpol_op(const struct nlattr *ops)
{
	struct nlattr *t[CTRL_ATTR_POLICY_DUMP_MAX + 1], *a;
	int rem, cmd;

	for_each_nested(a, ops, rem) {
		cmd = a->nla_type & NLA_TYPE_MASK;
		if (cmd > RACKPWR_CMD_MAX)
			continue;
		parse(nla_data_of(a), nla_len_of(a), t,
		      CTRL_ATTR_POLICY_DUMP_MAX);
		if (t[CTRL_ATTR_POLICY_DO])
			op_pol[cmd][1] = get_u32(t[CTRL_ATTR_POLICY_DO]);
		if (t[CTRL_ATTR_POLICY_DUMP])
			op_pol[cmd][0] = get_u32(t[CTRL_ATTR_POLICY_DUMP]);
	}
}

static void kpol_policy(const struct nlattr *pols)
{
	struct nlattr *t[NL_POLICY_TYPE_ATTR_MAX + 1], *p, *a;
	int rem, rem2, idx, type;

	for_each_nested(p, pols, rem) {
		idx = p->nla_type & NLA_TYPE_MASK;
		if (idx >= KPOL_MAX)
			continue;
		for_each_nested(a, p, rem2) {
			struct kattr *k;

			type = a->nla_type & NLA_TYPE_MASK;
			if (type >= KATTR_MAX)
				continue;
			k = &kpol[idx][type];
			parse(nla_data_of(a), nla_len_of(a), t,
			      NL_POLICY_TYPE_ATTR_MAX);
			if (t[NL_POLICY_TYPE_ATTR_TYPE])
				k->type = get_u32(t[NL_POLICY_TYPE_ATTR_TYPE]);
			if (t[NL_POLICY_TYPE_ATTR_MIN_VALUE_U])
				k->min = get_u64(t[NL_POLICY_TYPE_ATTR_MIN_VALUE_U]);
			if (t[NL_POLICY_TYPE_ATTR_MAX_VALUE_U])
				k->max = get_u64(t[NL_POLICY_TYPE_ATTR_MAX_VALUE_U]);
			if (t[NL_POLICY_TYPE_ATTR_MAX_LENGTH])
				k->max_len = get_u32(t[NL_POLICY_TYPE_ATTR_MAX_LENGTH]);
		}
	}
}

static bool spec_has(int cmd, bool do_op, int attr)
{
	unsigned int i;

	for (i = 0; i < sizeof(spec_attrs) / sizeof(spec_attrs[0]); i++)
		if (spec_attrs[i].cmd == cmd && spec_attrs[i].do_op == do_op &&
		    (attr < 0 || spec_attrs[i].attr == attr))
			return true;
	return false;
}

/*
 * Every op's request policy in the running kernel is the spec's: each
 * attribute the spec lists with its type and range, and nothing else.
 * (6.1 has no split ops: a dump shares its do's policy, so dumps whose
 * spec lists no request attributes are not compared.)
 */
TEST_F(rpw, policies_match_spec)
{
	struct nlattr *tb[CTRL_ATTR_MAX + 1];
	struct msg *m = malloc(sizeof(*m));
	unsigned int i;
	int cmd, d, a;

	ASSERT_NE(NULL, m);
	memset(kpol, 0, sizeof(kpol));
	memset(op_pol, 0xff, sizeof(op_pol));
	msg_init(m, GENL_ID_CTRL, NLM_F_DUMP, CTRL_CMD_GETPOLICY);
	put_u16(m, CTRL_ATTR_FAMILY_ID, family);
	ASSERT_EQ(0, nl_call(&self->nl, m, &res));
	free(m);
	for (i = 0; i < res.n; i++) {
		parse_genl(res.m[i], tb, CTRL_ATTR_MAX);
		if (tb[CTRL_ATTR_OP_POLICY])
			kpol_op(tb[CTRL_ATTR_OP_POLICY]);
		if (tb[CTRL_ATTR_POLICY])
			kpol_policy(tb[CTRL_ATTR_POLICY]);
	}

	for (i = 0; i < sizeof(spec_attrs) / sizeof(spec_attrs[0]); i++) {
		const struct spec_attr *s = &spec_attrs[i];
		int idx = op_pol[s->cmd][s->do_op];
		const struct kattr *k;

		EXPECT_TRUE(idx >= 0 && idx < KPOL_MAX)
			TH_LOG("%s: the op has no policy", s->what);
		if (idx < 0 || idx >= KPOL_MAX)
			continue;
		k = &kpol[idx][s->attr];
		EXPECT_EQ(s->type, k->type)
			TH_LOG("%s: type %u in the kernel", s->what, k->type);
		if (s->type == NL_ATTR_TYPE_U8 || s->type == NL_ATTR_TYPE_U32) {
			EXPECT_EQ(s->min, k->min)
				TH_LOG("%s: kernel min %llu", s->what,
				       (unsigned long long)k->min);
			EXPECT_EQ(s->max, k->max)
				TH_LOG("%s: kernel max %llu", s->what,
				       (unsigned long long)k->max);
		}
		if (s->max_len >= 0) {
			EXPECT_EQ(s->max_len, k->max_len)
				TH_LOG("%s: kernel max-len %u", s->what,
				       k->max_len);
		}
	}
	/* Nothing the spec does not list. */
	for (cmd = 0; cmd <= RACKPWR_CMD_MAX; cmd++) {
		for (d = 0; d < 2; d++) {
			int idx = op_pol[cmd][d];

			if (idx < 0 || idx >= KPOL_MAX || !spec_has(cmd, d, -1))
				continue;
			for (a = 0; a < KATTR_MAX; a++) {
				EXPECT_TRUE(!kpol[idx][a].type ||
					    spec_has(cmd, d, a))
					TH_LOG("cmd %d %s: kernel accepts attribute %d, the spec does not",
					       cmd, d ? "do" : "dump", a);
			}
		}
	}
}

TEST_HARNESS_MAIN
