// SPDX-License-Identifier: GPL-2.0-only
/*
 * rackpwr user space: libnl-genl helpers.  Follows the habits of iw and
 * hostapd: explicit ack/err/finish callbacks, NETLINK_EXT_ACK and
 * NETLINK_CAP_ACK on, extack messages surfaced to the user, and a separate
 * non-blocking socket without sequence checks for events.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>

#include "nl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

struct rpw_call {
	struct rpw_nl *nl;
	int maxattr;
	rpw_nl_cb cb;
	void *arg;
	int err;
	int done;
};

int rpw_nl_open(struct rpw_nl *nl)
{
	int one = 1;

	memset(nl, 0, sizeof(*nl));
	nl->sk = nl_socket_alloc();
	if (!nl->sk)
		return -ENOMEM;
	if (genl_connect(nl->sk)) {
		nl_socket_free(nl->sk);
		return -ECONNREFUSED;
	}
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_CAP_ACK,
		   &one, sizeof(one));
	nl->family = genl_ctrl_resolve(nl->sk, RACKPWR_FAMILY_NAME);
	if (nl->family < 0) {
		nl_socket_free(nl->sk);
		nl->sk = NULL;
		return -ENOENT;
	}
	return 0;
}

void rpw_nl_close(struct rpw_nl *nl)
{
	if (nl->sk)
		nl_socket_free(nl->sk);
	nl->sk = NULL;
}

struct nl_msg *rpw_nl_msg(struct rpw_nl *nl, int cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0, flags,
			 cmd, RACKPWR_FAMILY_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/*
 * Pull NLMSGERR_ATTR_MSG out of an extended ack; the TLVs start @off bytes
 * into the message payload.
 */
static void rpw_nl_extack_at(struct rpw_nl *nl, struct nlmsghdr *nlh, int off)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	int alen = (int)nlh->nlmsg_len - (int)NLMSG_HDRLEN - off;

	nl->errmsg[0] = 0;
	nl->errattr = -1;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || alen <= 0 ||
	    nla_parse(tb, NLMSGERR_ATTR_MAX,
		      (struct nlattr *)((char *)nlmsg_data(nlh) + off), alen,
		      NULL))
		return;
	if (tb[NLMSGERR_ATTR_MSG])
		snprintf(nl->errmsg, sizeof(nl->errmsg), "%s",
			 nla_get_string(tb[NLMSGERR_ATTR_MSG]));
}

/* After struct nlmsgerr, and the echoed request unless capped. */
static void rpw_nl_extack(struct rpw_nl *nl, struct nlmsghdr *nlh,
			  struct nlmsgerr *e)
{
	int off = sizeof(*e);

	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	rpw_nl_extack_at(nl, nlh, off);
}

static int rpw_err_cb(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct rpw_call *c = arg;
	struct nlmsghdr *nlh = (struct nlmsghdr *)e - 1;

	(void)nla;
	c->err = e->error;
	rpw_nl_extack(c->nl, nlh, e);
	c->done = 1;
	return NL_STOP;
}

static int rpw_ack_cb(struct nl_msg *msg, void *arg)
{
	struct rpw_call *c = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);

	/* A dump that failed part-way carries its errno in NLMSG_DONE. */
	if (nlh->nlmsg_type == NLMSG_DONE &&
	    nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
		int err = *(int *)nlmsg_data(nlh);

		if (err < 0) {
			c->err = err;
			rpw_nl_extack_at(c->nl, nlh, sizeof(int));
		}
	}
	c->done = 1;
	return NL_STOP;
}

static int rpw_valid_cb(struct nl_msg *msg, void *arg)
{
	struct rpw_call *c = arg;
	struct genlmsghdr *g = nlmsg_data(nlmsg_hdr(msg));
	struct nlattr *tb[64];
	int err;

	if (c->maxattr >= 64)
		return NL_SKIP;
	err = genlmsg_parse(nlmsg_hdr(msg), 0, tb, c->maxattr, NULL);
	if (err)
		return NL_SKIP;
	if (c->cb && c->cb(g->cmd, tb, c->arg))
		return NL_STOP;
	return NL_OK;
}

int rpw_nl_call(struct rpw_nl *nl, struct nl_msg *msg, int maxattr,
		rpw_nl_cb cb, void *arg)
{
	struct rpw_call c = { .nl = nl, .maxattr = maxattr, .cb = cb,
			      .arg = arg };
	struct nl_cb *nlcb = nl_cb_alloc(NL_CB_DEFAULT);
	int err;

	nl->errmsg[0] = 0;
	nl->errattr = -1;
	if (!nlcb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl_cb_err(nlcb, NL_CB_CUSTOM, rpw_err_cb, &c);
	nl_cb_set(nlcb, NL_CB_ACK, NL_CB_CUSTOM, rpw_ack_cb, &c);
	nl_cb_set(nlcb, NL_CB_FINISH, NL_CB_CUSTOM, rpw_ack_cb, &c);
	nl_cb_set(nlcb, NL_CB_VALID, NL_CB_CUSTOM, rpw_valid_cb, &c);

	/* Requests that do not otherwise answer must still be acked. */
	nlmsg_hdr(msg)->nlmsg_flags |= NLM_F_ACK;
	err = nl_send_auto(nl->sk, msg);
	nlmsg_free(msg);
	if (err < 0) {
		nl_cb_put(nlcb);
		return -EIO;
	}
	while (!c.done) {
		err = nl_recvmsgs(nl->sk, nlcb);
		if (err < 0 && !c.done) {
			c.err = -EIO;
			snprintf(nl->errmsg, sizeof(nl->errmsg), "%s",
				 nl_geterror(err));
			break;
		}
	}
	nl_cb_put(nlcb);
	return c.err;
}

int rpw_nl_subscribe(struct rpw_nl *nl)
{
	int grp = genl_ctrl_resolve_grp(nl->sk, RACKPWR_FAMILY_NAME,
					RACKPWR_MCGRP_EVENTS);

	if (grp < 0)
		return -ENOENT;
	nl_socket_disable_seq_check(nl->sk);
	nl_socket_set_buffer_size(nl->sk, 1 << 20, 0);
	if (nl_socket_add_membership(nl->sk, grp))
		return -EIO;
	return 0;
}

static int rpw_event_cb(struct nl_msg *msg, void *arg)
{
	struct rpw_call *c = arg;
	struct genlmsghdr *g = nlmsg_data(nlmsg_hdr(msg));
	struct nlattr *tb[64];

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, 32, NULL))
		return NL_SKIP;
	if (c->cb)
		c->cb(g->cmd, tb, c->arg);
	return NL_OK;
}

/* Events carry sequence number 0: accept them all. */
static int rpw_no_seq_check(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

int rpw_nl_recv_events(struct rpw_nl *nl, rpw_nl_cb cb, void *arg)
{
	struct rpw_call c = { .nl = nl, .cb = cb, .arg = arg };
	struct nl_cb *nlcb = nl_cb_alloc(NL_CB_DEFAULT);
	int err;

	if (!nlcb)
		return -ENOMEM;
	nl_cb_set(nlcb, NL_CB_VALID, NL_CB_CUSTOM, rpw_event_cb, &c);
	nl_cb_set(nlcb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, rpw_no_seq_check, NULL);
	err = nl_recvmsgs(nl->sk, nlcb);
	nl_cb_put(nlcb);
	return err < 0 ? -EIO : 0;
}

struct rpw_lookup {
	const char *name;
	int id;
};

static int rpw_lookup_cb(int cmd, struct nlattr **tb, void *arg)
{
	struct rpw_lookup *l = arg;

	(void)cmd;
	if (tb[RACKPWR_A_NODE_NAME] && tb[RACKPWR_A_NODE_ID] &&
	    !strcmp(nla_get_string(tb[RACKPWR_A_NODE_NAME]), l->name))
		l->id = nla_get_u32(tb[RACKPWR_A_NODE_ID]);
	return 0;
}

int rpw_nl_node_lookup(struct rpw_nl *nl, const char *what)
{
	struct rpw_lookup l = { .name = what, .id = -ENODEV };
	struct nl_msg *msg;
	char *end;
	long v;
	int err;

	v = strtol(what, &end, 10);
	if (*what && !*end)
		return v > 0 && v < 0x7fffffff ? (int)v : -EINVAL;
	msg = rpw_nl_msg(nl, RACKPWR_CMD_NODE_GET, NLM_F_DUMP);
	if (!msg)
		return -ENOMEM;
	err = rpw_nl_call(nl, msg, RACKPWR_A_NODE_MAX, rpw_lookup_cb, &l);
	return err ? err : l.id;
}
