// SPDX-License-Identifier: GPL-2.0-only
/*
 * rackpwrd - the rackpwr agent.  Today it follows the kernel's event
 * group and logs what an operator needs to see, with timestamps: nodes
 * coming and going, duplicate addresses, new peers, election transitions
 * and capacity changes.  The power-allocation policy is added here with
 * the allocation frames.
 *
 * Events can be lost on either side: the event socket's receive buffer
 * overruns (ENOBUFS), or the kernel fails to build or multicast one (each
 * node's ntf-dropped counter).  Either way rackpwrd says so and reads the
 * state again by dump (node-get, capacity-get): a resync, at most one a
 * second.  The counters are compared on every node-change event (which
 * carries its node's counter), by a quiet node dump every few seconds and
 * at every resync, which logs the rise.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/netlink.h>

#include "nl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define RPWD_RCVBUF	(4 << 20)	/* some hundreds of notifications */
#define RPWD_AUDIT_S	5		/* between quiet counter checks */
#define RPWD_RESYNC_MS	1000		/* at least between two resyncs */
#define RPWD_MAX_NODES	256

/* A node's kernel-side drop counter as last seen. */
struct known {
	uint32_t id;
	uint64_t dropped;
};

struct agent {
	struct rpw_nl ev;	/* events: non-blocking, no sequence checks */
	struct rpw_nl req;	/* dumps */
	struct known nodes[RPWD_MAX_NODES];
	unsigned int nnodes;
	const char *resync;	/* why a resync is due, or NULL */
	unsigned int overruns;
};

/* One node dump's findings. */
struct sync_pass {
	struct agent *ag;
	bool quiet;		/* audit: log only drops */
	struct known seen[RPWD_MAX_NODES];
	unsigned int nseen;
	bool dropped;
	unsigned int caps;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void stamp(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	printf("[%5ld.%03ld] ", (long)ts.tv_sec, ts.tv_nsec / 1000000);
}

static void __attribute__((format(printf, 1, 2))) say(const char *fmt, ...)
{
	va_list ap;

	stamp();
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

static struct known *known_find(struct agent *ag, uint32_t id)
{
	unsigned int i;

	for (i = 0; i < ag->nnodes; i++)
		if (ag->nodes[i].id == id)
			return &ag->nodes[i];
	return NULL;
}

static void known_forget(struct agent *ag, uint32_t id)
{
	struct known *k = known_find(ag, id);

	if (k)
		*k = ag->nodes[--ag->nnodes];
}

/* Did the kernel drop more of this node's notifications than last seen? */
static bool known_rose(struct agent *ag, const struct rpw_dec_node *n)
{
	struct known *k = known_find(ag, n->id);

	return k && RPW_HAS(n->has, RACKPWR_A_NODE_NTF_DROPPED) &&
	       n->ntf_dropped > k->dropped;
}

/* A node seen for the first time sets its baseline. */
static void known_add(struct agent *ag, const struct rpw_dec_node *n)
{
	if (known_find(ag, n->id) || ag->nnodes == RPWD_MAX_NODES)
		return;
	ag->nodes[ag->nnodes++] = (struct known){ n->id, n->ntf_dropped };
}

static void log_cap(const char *prefix, const struct rpw_dec_cap *c)
{
	say("%snode %u: assembly %u capacity A %u W, B %u W, healthy 0x%02x%s\n",
	    prefix, c->node_id, c->addr, c->bank_a_mw / 1000,
	    c->bank_b_mw / 1000, c->healthy, c->lost ? " LOST" : "");
}

static void log_elect(const struct rpw_dec_elect *e)
{
	static const char *const what[] = {
		[RACKPWR_ELECT_EVENT_PROMOTED] = "became primary",
		[RACKPWR_ELECT_EVENT_DEMOTED] = "lost the primary role to",
		[RACKPWR_ELECT_EVENT_PRIMARY_CHANGED] = "now follows primary",
		[RACKPWR_ELECT_EVENT_PRIMARY_LOST] = "lost primary",
		[RACKPWR_ELECT_EVENT_CONFLICT] = "heard a rival primary",
		[RACKPWR_ELECT_EVENT_DUP_ADDR] = "DUPLICATE ADDRESS",
		[RACKPWR_ELECT_EVENT_LEASE_LOST] = "primary lease lapsed (fenced)",
		[RACKPWR_ELECT_EVENT_STALL] = "stalled, re-validated",
		[RACKPWR_ELECT_EVENT_STEP_DOWN] = "step-down by",
	};

	/* Lease renewals and epoch bumps are routine: not logged. */
	if (e->event >= sizeof(what) / sizeof(what[0]) || !what[e->event])
		return;
	say("node %u: %s %u (epoch %u.%u)\n", e->node_id, what[e->event],
	    e->addr, e->epoch >> 8, e->epoch & 0xff);
}

static void log_node(const struct rpw_dec_node *n)
{
	if (n->deleted)
		say("node %u removed\n", n->id);
	else
		say("node %u (%s) addr %u up\n", n->id, n->name, n->addr);
}

static int event_cb(const struct rpw_msg *m, const char *bad, void *arg)
{
	struct agent *ag = arg;

	if (!m) {
		say("rackpwrd: malformed event skipped: %s\n", bad);
		return 0;
	}
	switch (m->cmd) {
	case RACKPWR_CMD_NODE_CHANGE_NTF:
		log_node(&m->node);
		if (m->node.deleted)
			known_forget(ag, m->node.id);
		else if (known_rose(ag, &m->node) && !ag->resync)
			ag->resync = "the kernel dropped events";
		else
			known_add(ag, &m->node);
		break;
	case RACKPWR_CMD_BUS_EVENT_NTF:
		if (m->bus.event == RACKPWR_EVENT_DUP_ADDR)
			say("node %u: DUPLICATE ADDRESS %u on the bus\n",
			    m->bus.node_id, m->bus.addr);
		else if (m->bus.event == RACKPWR_EVENT_PEER_NEW)
			say("node %u: new peer %u\n", m->bus.node_id,
			    m->bus.addr);
		break;
	case RACKPWR_CMD_ELECT_NTF:
		log_elect(&m->elect);
		break;
	case RACKPWR_CMD_CAPACITY_NTF:
		log_cap("", &m->cap);
		break;
	}
	return 0;
}

static int sync_node_cb(const struct rpw_msg *m, const char *bad, void *arg)
{
	static const char *const roles[] = {
		[RACKPWR_ROLE_PSU] = "psu", [RACKPWR_ROLE_CHASSIS] = "chassis",
	};
	struct sync_pass *s = arg;
	const struct rpw_dec_node *n = &m->node;
	struct known *k = known_find(s->ag, n->id);
	struct known now = { n->id, n->ntf_dropped };

	(void)bad;
	if (s->nseen == RPWD_MAX_NODES)
		return 0;
	if (known_rose(s->ag, n)) {
		s->dropped = true;
		/* An audit leaves the rise for the resync to report. */
		if (s->quiet)
			now.dropped = k->dropped;
		else
			say("node %u (%s): the kernel failed to deliver %llu notification(s) (%llu in all)\n",
			    n->id, n->name,
			    (unsigned long long)(n->ntf_dropped - k->dropped),
			    (unsigned long long)n->ntf_dropped);
	}
	s->seen[s->nseen++] = now;
	if (!s->quiet)
		say("resync: node %u (%s) addr %u role %s ntf-dropped %llu\n",
		    n->id, n->name, n->addr,
		    n->role < 3 && roles[n->role] ? roles[n->role] : "?",
		    (unsigned long long)n->ntf_dropped);
	return 0;
}

static int sync_cap_cb(const struct rpw_msg *m, const char *bad, void *arg)
{
	struct sync_pass *s = arg;

	(void)bad;
	log_cap("resync: ", &m->cap);
	s->caps++;
	return 0;
}

/* Dump every node; the known table becomes exactly the nodes dumped. */
static int sync_nodes(struct agent *ag, struct sync_pass *s)
{
	struct nl_msg *msg = rpw_nl_msg(&ag->req, RACKPWR_CMD_NODE_GET,
					NLM_F_DUMP);
	int err;

	if (!msg)
		return -ENOMEM;
	err = rpw_nl_call(&ag->req, msg, sync_node_cb, s);
	if (err) {
		say("rackpwrd: node dump failed: %s%s%s\n", strerror(-err),
		    ag->req.errmsg[0] ? ": " : "", ag->req.errmsg);
		return err;
	}
	memcpy(ag->nodes, s->seen, s->nseen * sizeof(s->seen[0]));
	ag->nnodes = s->nseen;
	return 0;
}

static void sync_caps(struct agent *ag, struct sync_pass *s)
{
	unsigned int i;

	for (i = 0; i < s->nseen; i++) {
		struct nl_msg *msg = rpw_nl_msg(&ag->req,
						RACKPWR_CMD_CAPACITY_GET,
						NLM_F_DUMP);
		int err;

		if (!msg)
			return;
		nla_put_u32(msg, RACKPWR_A_CAPACITY_NODE_ID, s->seen[i].id);
		err = rpw_nl_call(&ag->req, msg, sync_cap_cb, s);
		/* A node deleted since the node dump is no loss. */
		if (err && err != -ENODEV)
			say("rackpwrd: capacity dump of node %u failed: %s%s%s\n",
			    s->seen[i].id, strerror(-err),
			    ag->req.errmsg[0] ? ": " : "", ag->req.errmsg);
	}
}

/* Read the whole state again, logging it. */
static void resync(struct agent *ag, const char *why)
{
	struct sync_pass s = { .ag = ag };

	say("rackpwrd: resync (%s): reading nodes and capacity\n", why);
	if (sync_nodes(ag, &s))
		return;
	sync_caps(ag, &s);
	say("rackpwrd: resync done: %u nodes, %u capacity entries\n", s.nseen,
	    s.caps);
}

/* Quiet check of the kernel's drop counters; a rise asks for a resync. */
static void audit(struct agent *ag)
{
	struct sync_pass s = { .ag = ag, .quiet = true };

	if (!sync_nodes(ag, &s) && s.dropped && !ag->resync)
		ag->resync = "the kernel dropped events";
}

static void receive(struct agent *ag)
{
	int err, tries = 0;

	/* Drain what is queued (older than any resync), then resync. */
	while ((err = rpw_nl_recv_events(&ag->ev, event_cb, ag)) == -ENOBUFS &&
	       ++tries < 64) {
		ag->overruns++;
		say("rackpwrd: missed events: receive buffer overrun (%u so far)\n",
		    ag->overruns);
		ag->resync = "missed events";
	}
	if (err && err != -ENOBUFS)
		say("rackpwrd: event receive error: %s\n", ag->ev.errmsg);
}

static const struct option rpwd_opts[] = {
	/* For tests only: force overruns. */
	{ "rcvbuf", required_argument, NULL, 'r' },
	/* For tests only: make the kernel count our overruns (ntf-dropped). */
	{ "broadcast-error", no_argument, NULL, 'b' },
	{ NULL, 0, NULL, 0 },
};

static int setup(struct agent *ag, int rcvbuf, int bcast_err)
{
	int one = 1;
	int err;

	err = rpw_nl_open(&ag->req);
	if (!err)
		err = rpw_nl_open(&ag->ev);
	if (!err)
		err = rpw_nl_subscribe(&ag->ev, rcvbuf);
	if (!err && bcast_err &&
	    setsockopt(nl_socket_get_fd(ag->ev.sk), SOL_NETLINK,
		       NETLINK_BROADCAST_ERROR, &one, sizeof(one)))
		err = -errno;
	if (!err)
		err = nl_socket_set_nonblocking(ag->ev.sk) ? -EIO : 0;
	return err;
}

int main(int argc, char **argv)
{
	static struct agent ag;
	int rcvbuf = RPWD_RCVBUF, bcast_err = 0;
	long long next_audit, next_resync = 0;
	int c, err;

	while ((c = getopt_long(argc, argv, "", rpwd_opts, NULL)) != -1) {
		if (c == 'r' && atoi(optarg) > 0)
			rcvbuf = atoi(optarg);
		else if (c == 'b')
			bcast_err = 1;
		else
			optind = argc + 1;	/* usage */
	}
	if (optind != argc) {
		fputs("usage: rackpwrd (runs in the foreground; SIGTERM stops it)\n",
		      stderr);
		return 2;
	}
	err = setup(&ag, rcvbuf, bcast_err);
	if (err) {
		fprintf(stderr, "rackpwrd: cannot follow rackpwr events: %s\n",
			strerror(-err));
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	say("rackpwrd: following rackpwr events\n");
	/* Subscribed first, so nothing falls between the dump and events. */
	audit(&ag);
	next_audit = now_ms() + RPWD_AUDIT_S * 1000;
	while (!stop) {
		struct pollfd p = { nl_socket_get_fd(ag.ev.sk), POLLIN, 0 };

		if (poll(&p, 1, ag.resync ? 100 : 1000) > 0)
			receive(&ag);
		if (!ag.resync && now_ms() >= next_audit) {
			audit(&ag);
			next_audit = now_ms() + RPWD_AUDIT_S * 1000;
		}
		/* A steady loss would otherwise resync on every event. */
		if (ag.resync && now_ms() >= next_resync) {
			resync(&ag, ag.resync);
			ag.resync = NULL;
			next_resync = now_ms() + RPWD_RESYNC_MS;
		}
	}
	rpw_nl_close(&ag.ev);
	rpw_nl_close(&ag.req);
	return 0;
}
