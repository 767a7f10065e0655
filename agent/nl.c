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
#include <unistd.h>
#include <linux/netlink.h>

#include "nl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

struct rpw_call {
	struct rpw_nl *nl;
	rpw_nl_cb cb;
	void *arg;
	int err;
	int done;
	int bad;	/* malformed replies skipped */
	unsigned int seq;	/* of the request */
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
	struct nla_policy pol[NLMSGERR_ATTR_MAX + 1] = {
		[NLMSGERR_ATTR_MSG] = { .type = NLA_STRING },
	};
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	int alen = (int)nlh->nlmsg_len - (int)NLMSG_HDRLEN - off;

	nl->errmsg[0] = 0;
	nl->errattr = -1;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || alen <= 0 ||
	    nla_parse(tb, NLMSGERR_ATTR_MAX,
		      (struct nlattr *)((char *)nlmsg_data(nlh) + off), alen,
		      pol))
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
	char why[sizeof(c->nl->errmsg) - 32];
	struct rpw_msg m;
	int err;

	err = rpw_decode(nlmsg_hdr(msg), &m, why, sizeof(why));
	if (err == -EOPNOTSUPP)
		return NL_SKIP;
	if (err) {
		if (!c->bad++)
			snprintf(c->nl->errmsg, sizeof(c->nl->errmsg),
				 "malformed reply skipped: %s", why);
		return NL_SKIP;
	}
	if (c->cb && c->cb(&m, NULL, c->arg))
		return NL_STOP;
	return NL_OK;
}

/*
 * Answers carry the request's sequence number; a notification unicast to
 * this socket carries 0 and goes to nl->stray, anything else is stale.
 */
static int rpw_seq_cb(struct nl_msg *msg, void *arg)
{
	struct rpw_call *c = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	char why[200];
	struct rpw_msg m;

	if (nlh->nlmsg_seq == c->seq)
		return NL_OK;
	if (!nlh->nlmsg_seq && c->nl->stray &&
	    !rpw_decode(nlh, &m, why, sizeof(why)))
		c->nl->stray(&m, NULL, c->nl->stray_arg);
	return NL_SKIP;
}

int rpw_nl_call(struct rpw_nl *nl, struct nl_msg *msg, rpw_nl_cb cb,
		void *arg)
{
	struct rpw_call c = { .nl = nl, .cb = cb, .arg = arg };
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
	nl_cb_set(nlcb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, rpw_seq_cb, &c);
	err = nl_send_auto(nl->sk, msg);
	c.seq = nlmsg_hdr(msg)->nlmsg_seq;
	/* A request may carry a key (key-set): leave no copy in the heap. */
	explicit_bzero(nlmsg_hdr(msg), nlmsg_hdr(msg)->nlmsg_len);
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
	if (!c.err && c.bad)
		return -EBADMSG;	/* nl->errmsg says why */
	return c.err;
}

/*
 * The group's id, from the controller.  Only "no such family or group"
 * is final: any other failure of the lookup (a signal, memory) is tried
 * again, as a monitor that does not start loses every event.
 */
static int rpw_nl_grp(struct rpw_nl *nl, const char *name)
{
	int grp = -NLE_FAILURE, i;

	for (i = 0; i < 5; i++) {
		grp = genl_ctrl_resolve_grp(nl->sk, RACKPWR_FAMILY_NAME, name);
		if (grp >= 0)
			return grp;
		if (grp == -NLE_OBJ_NOTFOUND)
			return -ENOENT;
		usleep(100000);
	}
	return -EIO;
}

int rpw_nl_subscribe(struct rpw_nl *nl, int rcvbuf)
{
	int fd = nl_socket_get_fd(nl->sk);
	int grp = rpw_nl_grp(nl, RACKPWR_MCGRP_EVENTS);

	if (grp < 0)
		return grp;
	nl_socket_disable_seq_check(nl->sk);
	/* FORCE passes net.core.rmem_max (CAP_NET_ADMIN); else the cap. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)) &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)))
		return -errno;
	if (nl_socket_add_membership(nl->sk, grp))
		return -EIO;
	return 0;
}

int rpw_nl_join(struct rpw_nl *nl, const char *name)
{
	int grp = rpw_nl_grp(nl, name);

	if (grp < 0)
		return grp;
	return nl_socket_add_membership(nl->sk, grp) ? -EIO : 0;
}

static int rpw_event_cb(struct nl_msg *msg, void *arg)
{
	struct rpw_call *c = arg;
	char why[200];
	struct rpw_msg m;
	int err;

	err = rpw_decode(nlmsg_hdr(msg), &m, why, sizeof(why));
	if (err == -EOPNOTSUPP)
		return NL_SKIP;
	if (c->cb)
		c->cb(err ? NULL : &m, err ? why : NULL, c->arg);
	return NL_OK;
}

/* Events carry sequence number 0: accept them all. */
static int rpw_no_seq_check(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

/*
 * An overrun shows as ENOBUFS from recvmsg(), which libnl-3 (3.7, Debian
 * 12) turns into -NLE_NOMEM; an empty non-blocking socket ends the batch
 * with 0 (older libnl) or -NLE_AGAIN.
 */
int rpw_nl_recv_events(struct rpw_nl *nl, rpw_nl_cb cb, void *arg)
{
	struct rpw_call c = { .nl = nl, .cb = cb, .arg = arg };
	struct nl_cb *nlcb = nl_cb_alloc(NL_CB_DEFAULT);
	int err, rounds = 0;

	if (!nlcb)
		return -ENOMEM;
	nl_cb_set(nlcb, NL_CB_VALID, NL_CB_CUSTOM, rpw_event_cb, &c);
	nl_cb_set(nlcb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, rpw_no_seq_check, NULL);
	/* Drain, but give the caller's loop a turn under a flood. */
	do
		err = nl_recvmsgs_report(nl->sk, nlcb);
	while (err > 0 && ++rounds < 256);
	nl_cb_put(nlcb);
	if (err >= 0 || err == -NLE_AGAIN)
		return 0;
	if (err == -NLE_NOMEM)
		return -ENOBUFS;
	snprintf(nl->errmsg, sizeof(nl->errmsg), "%s", nl_geterror(err));
	return -EIO;
}

struct rpw_lookup {
	const char *name;
	int id;
};

static int rpw_lookup_cb(const struct rpw_msg *m, const char *bad, void *arg)
{
	struct rpw_lookup *l = arg;

	(void)bad;
	if (!strcmp(m->node.name, l->name))
		l->id = m->node.id;
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
	err = rpw_nl_call(nl, msg, rpw_lookup_cb, &l);
	return err ? err : l.id;
}
