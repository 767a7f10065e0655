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

#include "decode.h"

/*
 * @m is a reply or event, decoded (decode.h).  rpw_nl_call() refuses
 * malformed replies itself; rpw_nl_recv_events() hands a malformed event
 * over as @m NULL with @bad saying why, for the caller to log.
 */
typedef int (*rpw_nl_cb)(const struct rpw_msg *m, const char *bad, void *arg);

struct rpw_nl {
	struct nl_sock *sk;
	int family;
	char errmsg[256];	/* extack message or reason of the last error */
	int errattr;		/* offending attribute type or -1 */
	/*
	 * Notifications unicast to this socket (a policy holder's requests)
	 * that arrive while rpw_nl_call() waits for its answer: handed here,
	 * or dropped when NULL.
	 */
	rpw_nl_cb stray;
	void *stray_arg;
};

int rpw_nl_open(struct rpw_nl *nl);
void rpw_nl_close(struct rpw_nl *nl);
struct nl_msg *rpw_nl_msg(struct rpw_nl *nl, int cmd, int flags);
/*
 * Send @msg (consumed) and receive replies until the ack/done, handing each
 * to @cb.  Returns 0 or -errno: the kernel's error, with nl->errmsg holding
 * its extack message, or -EBADMSG when a reply was malformed (skipped; the
 * reason in nl->errmsg).
 */
int rpw_nl_call(struct rpw_nl *nl, struct nl_msg *msg, rpw_nl_cb cb,
		void *arg);
/*
 * Subscribe to the events group (for monitor/agent) with a receive buffer
 * of @rcvbuf bytes (beyond net.core.rmem_max when privileged).
 */
int rpw_nl_subscribe(struct rpw_nl *nl, int rcvbuf);
/* Also join the multicast group @grp (e.g. RACKPWR_MCGRP_POWER). */
int rpw_nl_join(struct rpw_nl *nl, const char *grp);
/*
 * Receive every queued event (non-blocking socket).  Returns 0 once the
 * socket is empty, -ENOBUFS when the kernel had to drop events for this
 * socket (receive buffer overrun: the caller missed events), -EIO on other
 * errors (nl->errmsg says which).
 */
int rpw_nl_recv_events(struct rpw_nl *nl, rpw_nl_cb cb, void *arg);
/* Resolve a node by id (digits) or name; returns id or -errno. */
int rpw_nl_node_lookup(struct rpw_nl *nl, const char *what);

#endif /* _RPW_AGENT_NL_H */
