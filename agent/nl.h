/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rackpwr user space: small libnl-genl wrapper shared by rackpwrctl and
 * rackpwrd (request/ack with extack messages, dumps, event socket).
 */
#ifndef _RPW_AGENT_NL_H
#define _RPW_AGENT_NL_H

#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <linux/rackpwr.h>

struct rpw_nl {
	struct nl_sock *sk;
	int family;
	char errmsg[256];	/* extack message of the last error */
	int errattr;		/* offending attribute type or -1 */
};

/* @cmd is the reply's or event's command. */
typedef int (*rpw_nl_cb)(int cmd, struct nlattr **tb, void *arg);

int rpw_nl_open(struct rpw_nl *nl);
void rpw_nl_close(struct rpw_nl *nl);
struct nl_msg *rpw_nl_msg(struct rpw_nl *nl, int cmd, int flags);
/*
 * Send @msg (consumed) and receive replies until the ack/done.  Each reply
 * is parsed with @maxattr and handed to @cb.  Returns 0 or -errno (kernel
 * error), with nl->errmsg holding the extack message, if any.
 */
int rpw_nl_call(struct rpw_nl *nl, struct nl_msg *msg, int maxattr,
		rpw_nl_cb cb, void *arg);
/* Subscribe to the events group (for monitor/agent). */
int rpw_nl_subscribe(struct rpw_nl *nl);
/* Receive one batch of events; -errno, 0 = nothing yet (non-blocking). */
int rpw_nl_recv_events(struct rpw_nl *nl, rpw_nl_cb cb, void *arg);
/* Resolve a node by id (digits) or name; returns id or -errno. */
int rpw_nl_node_lookup(struct rpw_nl *nl, const char *what);

#endif /* _RPW_AGENT_NL_H */
