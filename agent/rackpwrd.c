// SPDX-License-Identifier: GPL-2.0-only
/*
 * rackpwrd - the rackpwr agent (Documentation/admin-guide/rackpwrd.rst).
 *
 * With --node ID it is the allocation policy of that power-supply node:
 * it binds as the node's policy holder (policy-bind, announcing its
 * policy's digest) and, while the node acts as primary at the epoch it
 * last read (power-get), feeds the pure policy (policy.c) what the kernel
 * reports and executes the policy's actions: power-decide, power-shed,
 * reports.  Every election event of the node makes it read power-get
 * again; a new epoch, a refused op (ESTALE) or missed events make it read
 * the whole table again (a resync: alloc-get, capacity-get), which never
 * changes a grant.  It writes a state file and a metrics file after every
 * change.  Without --node it only logs (the monitor of old).
 *
 * Events can be lost on either side: the event socket's receive buffer
 * overruns (ENOBUFS), or the kernel fails to build or multicast one (each
 * node's ntf-dropped counter).  Either way rackpwrd says so and reads the
 * state again by dump: a resync, at most one a second.  The counters are
 * compared on every node-change event (which carries its node's counter),
 * by a quiet node dump every few seconds and at every resync.
 *
 * Signals: SIGHUP reloads the configuration (a bad file keeps the old
 * one); SIGTERM and SIGINT exit, leaving every grant to the kernel's
 * fail-safe.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/netlink.h>

#include "config.h"
#include "nl.h"
#include "policy.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define RPWD_RCVBUF	(4 << 20)	/* some hundreds of notifications */
#define RPWD_AUDIT_S	5		/* between quiet counter checks */
#define RPWD_RESYNC_MS	1000		/* at least between two resyncs */
#define RPWD_BIND_MS	2000		/* between attempts to bind */
#define RPWD_MAX_NODES	256
#define RPWD_MAX_SLOTS	4096		/* policy records: live + remembered */
#define RPWD_ACTS	64		/* actions per policy call */
#define RPWD_STRAY	512		/* requests kept while a call waits */
#define RPWD_MAX_ASM	256
/* A new primary asks every module at once, then every cap_query_ms. */
#define RPWD_SETTLE_QUERIES	2
#define CAP_QUERY_PARAM	"/sys/module/rackpwr/parameters/cap_query_ms"

#define DEF_CONFIG	"/etc/rackpwrd.conf"
#define DEF_STATE_DIR	"/run/rackpwrd"
#define DEF_METRICS_DIR	"/var/lib/prometheus/node-exporter"

/* A node's kernel-side drop counter as last seen. */
struct known {
	uint32_t id;
	uint64_t dropped;
};

/* A capacity line of the node's table (the rack's, on the primary). */
struct line {
	bool used, local, mismatch;
	uint32_t digest, ref;
	struct rpwp_assembly a;
};

/* Counters for the metrics file, since start. */
struct counts {
	uint64_t grants, queued[16], denied[16], sheds, noncompliant;
	uint64_t restores, decide_err, resyncs, overruns, reloads;
	uint64_t reload_err;
};

struct agent {
	struct rpw_nl ev;	/* events: non-blocking, no sequence checks */
	struct rpw_nl req;	/* requests and dumps; the bound holder */
	struct known nodes[RPWD_MAX_NODES];
	unsigned int nnodes;
	const char *resync;	/* why a resync is due, or NULL */
	unsigned int overruns;

	/* The policy agent (--node); node_id 0: log only. */
	uint32_t node_id;
	uint8_t addr, primary;
	bool bound, acting, synced;
	uint32_t epoch;
	uint64_t ntf_dropped;	/* power-get's, as last seen */
	bool recheck;		/* read power-get again */
	long long settle_until;	/* a new primary's capacity table fills */
	uint32_t settle_epoch;	/* the epoch it filled at */
	bool settling;		/* sheds held until settle_until */
	bool need_sync;		/* resync: acting again */
	unsigned int eagain;	/* grants refused: the kernel recovers */
	bool dirty;		/* state/metrics files to write */
	long long next_bind;
	struct rpwp *pol;
	struct rpwp_cfg pcfg;
	struct rpwc cfg;
	uint32_t digest;	/* announced: low 32 bits of the policy's */
	const char *config, *state_dir, *metrics;
	char mode_file[512], state_file[512], pid_file[512];
	bool syslog;
	struct line lines[RPWD_MAX_ASM];
	bool mm_said[RPWD_MAX_ASM];	/* mismatch logged (kept by resync) */
	struct rpw_dec_power stray[RPWD_STRAY];
	unsigned int nstray;
	bool stray_lost;
	struct counts c;
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

static volatile sig_atomic_t stop, reload;
static int log_level = RPWC_LOG_INFO;
static bool log_syslog;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload = 1;
	else
		stop = 1;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static long long real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* A monotonic time of the policy's as CLOCK_REALTIME ms. */
static long long to_real(uint64_t mono)
{
	return real_ms() - (now_ms() - (long long)mono);
}

/*
 * Log to stderr: "<N>" (syslog level) first with --syslog, for journald
 * and syslog, else a monotonic timestamp and the level's name.
 */
static void __attribute__((format(printf, 2, 3)))
logm(int level, const char *fmt, ...)
{
	static const char *const names[8] = {
		[3] = "error: ", [4] = "warning: ", [6] = "", [7] = "debug: ",
	};
	struct timespec ts;
	va_list ap;

	if (level > log_level)
		return;
	if (log_syslog) {
		fprintf(stderr, "<%d>", level);
	} else {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		fprintf(stderr, "[%5ld.%03ld] %s", (long)ts.tv_sec,
			ts.tv_nsec / 1000000, names[level & 7] ?
			names[level & 7] : "");
	}
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fflush(stderr);
}

#define say(...)	logm(RPWC_LOG_INFO, __VA_ARGS__)
#define warn(...)	logm(RPWC_LOG_WARNING, __VA_ARGS__)
#define err(...)	logm(RPWC_LOG_ERR, __VA_ARGS__)
#define dbg(...)	logm(RPWC_LOG_DEBUG, __VA_ARGS__)

/* ", extack text" of the last failed call, or "". */
static const char *xmsg(const struct rpw_nl *nl)
{
	static char buf[sizeof(nl->errmsg) + 4];

	snprintf(buf, sizeof(buf), "%s%s", nl->errmsg[0] ? ": " : "",
		 nl->errmsg);
	return buf;
}

/* ---- the node table (monitor part) ----------------------------------- */

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

/* ---- the policy's inputs ------------------------------------------------ */

static void run_out(struct agent *ag, struct rpwp_out *o);

#define OUT(name) \
	struct rpwp_action name##_act[RPWD_ACTS]; \
	struct rpwp_out name = { .act = name##_act, .max = RPWD_ACTS }

/* The kernel's entry, in the policy's terms. */
static struct rpwp_entry to_entry(const struct rpw_dec_power *p)
{
	struct rpwp_entry e = {
		.chassis = p->chassis, .slot = p->slot, .prio = p->prio,
		.want_mw = p->want_mw, .held_mw = p->held_mw,
		.req_id = p->req_id, .age_ms = p->age_ms,
		.reason = (uint8_t)p->reason,
	};

	/* An entry event without a state: the entry left the table. */
	if (!RPW_HAS(p->has, RACKPWR_A_POWER_STATE))
		e.state = RPWP_K_GONE;
	else if (p->state >= RACKPWR_ALLOC_STATE_PENDING &&
		 p->state <= RACKPWR_ALLOC_STATE_SHEDDING)
		e.state = (enum rpwp_kstate)(RPWP_K_PENDING + p->state -
					     RACKPWR_ALLOC_STATE_PENDING);
	else
		e.state = RPWP_K_GONE;
	return e;
}

/* The node's capacity lines as the policy takes them. */
static void feed_capacity(struct agent *ag)
{
	struct rpwp_assembly a[RPWD_MAX_ASM];
	unsigned int i, n = 0;
	OUT(o);

	if (!ag->pol || !ag->acting || !ag->synced)
		return;
	for (i = 0; i < RPWD_MAX_ASM; i++)
		if (ag->lines[i].used)
			a[n++] = ag->lines[i].a;
	rpwp_capacity(ag->pol, a, n, now_ms(), &o);
	run_out(ag, &o);
}

/* A capacity line of our node: keep it (digest too), tell the policy. */
static void take_line(struct agent *ag, const struct rpw_dec_cap *c)
{
	struct line *l = &ag->lines[c->addr];
	bool *said = &ag->mm_said[c->addr];

	l->used = true;
	l->local = c->local;
	l->digest = c->policy_digest;
	l->ref = c->primary_digest;
	l->mismatch = c->digest_mismatch;
	l->a = (struct rpwp_assembly){
		.addr = c->addr, .present = c->present, .healthy = c->healthy,
		.lost = c->lost, .bank_a_mw = c->bank_a_mw,
		.bank_b_mw = c->bank_b_mw,
	};
	/* Loud, once per change (a resync reads the lines again). */
	if (l->mismatch && !*said)
		err("POLICY MISMATCH: module %u runs policy digest 0x%08x, the primary 0x%08x: the rack's power-supply modules must run the same policy\n",
		    c->addr, l->digest, l->ref);
	else if (*said && !l->mismatch)
		say("module %u: policy digest agrees with the primary's again\n",
		    c->addr);
	*said = l->mismatch;
	ag->dirty = true;
}

/*
 * Does line @l count for the peers: on the acting primary every other
 * module's, elsewhere the own line, compared with the primary's digest
 * (other lines are left from a time the node was primary).
 */
static bool peer_line(const struct agent *ag, const struct line *l)
{
	if (!l->used)
		return false;
	if (l->local)
		return !ag->acting && ag->primary && ag->primary != ag->addr;
	return ag->acting;
}

/* ---- netlink calls -------------------------------------------------------- */

/* Requests unicast to the holder while a call waits: kept for later. */
static int stray_cb(const struct rpw_msg *m, const char *bad, void *arg)
{
	struct agent *ag = arg;

	if (!m) {
		warn("malformed request skipped: %s\n", bad);
		return 0;
	}
	if (m->cmd != RACKPWR_CMD_POWER_REQUEST_NTF ||
	    m->power.node_id != ag->node_id)
		return 0;
	if (ag->nstray == RPWD_STRAY) {
		ag->stray_lost = true;
		return 0;
	}
	ag->stray[ag->nstray++] = m->power;
	return 0;
}

static int power_cb(const struct rpw_msg *m, const char *bad, void *arg)
{
	(void)bad;
	*(struct rpw_dec_power *)arg = m->power;
	return 0;
}

/* Bind as the node's policy holder, announcing the digest. */
static int bind_holder(struct agent *ag)
{
	struct nl_msg *m = rpw_nl_msg(&ag->req, RACKPWR_CMD_POLICY_BIND, 0);
	struct rpw_dec_power p;
	int e;

	if (!m)
		return -ENOMEM;
	nla_put_u32(m, RACKPWR_A_POWER_NODE_ID, ag->node_id);
	nla_put_u32(m, RACKPWR_A_POWER_POLICY_DIGEST, ag->digest);
	e = rpw_nl_call(&ag->req, m, power_cb, &p);
	if (e) {
		if (ag->bound || ag->next_bind == 0)
			err("node %u: policy-bind failed: %s%s\n", ag->node_id,
			    strerror(-e), xmsg(&ag->req));
		ag->bound = false;
		return e;
	}
	if (!ag->bound)
		say("node %u: bound as policy holder (epoch %u.%u, %s), policy digest 0x%08x\n",
		    ag->node_id, p.epoch >> 8, p.epoch & 0xff,
		    p.acting ? "acting primary" : "not acting", ag->digest);
	ag->bound = true;
	ag->recheck = true;
	ag->dirty = true;
	return 0;
}

/* ---- resync ------------------------------------------------------------------ */

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
	if (n->id == s->ag->node_id) {
		s->ag->addr = n->addr;
		s->ag->primary = n->primary;
	}
	if (s->nseen == RPWD_MAX_NODES)
		return 0;
	if (known_rose(s->ag, n)) {
		s->dropped = true;
		/* An audit leaves the rise for the resync to report. */
		if (s->quiet)
			now.dropped = k->dropped;
		else
			warn("node %u (%s): the kernel failed to deliver %llu notification(s) (%llu in all)\n",
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
	if (m->cap.node_id == s->ag->node_id)
		take_line(s->ag, &m->cap);
	s->caps++;
	return 0;
}

/* Dump every node; the known table becomes exactly the nodes dumped. */
static int sync_nodes(struct agent *ag, struct sync_pass *s)
{
	struct nl_msg *msg = rpw_nl_msg(&ag->req, RACKPWR_CMD_NODE_GET,
					NLM_F_DUMP);
	int e;

	if (!msg)
		return -ENOMEM;
	e = rpw_nl_call(&ag->req, msg, sync_node_cb, s);
	if (e) {
		err("node dump failed: %s%s\n", strerror(-e), xmsg(&ag->req));
		return e;
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
		int e;

		if (!msg)
			return;
		if (s->seen[i].id == ag->node_id)
			memset(ag->lines, 0, sizeof(ag->lines));
		nla_put_u32(msg, RACKPWR_A_CAPACITY_NODE_ID, s->seen[i].id);
		e = rpw_nl_call(&ag->req, msg, sync_cap_cb, s);
		/* A node deleted since the node dump is no loss. */
		if (e && e != -ENODEV)
			err("capacity dump of node %u failed: %s%s\n",
			    s->seen[i].id, strerror(-e), xmsg(&ag->req));
	}
}

static int sync_alloc_cb(const struct rpw_msg *m, const char *bad, void *arg)
{
	struct agent *ag = arg;
	struct rpwp_entry e = to_entry(&m->power);

	(void)bad;
	if (rpwp_resync_entry(ag->pol, &e, now_ms()))
		err("policy table full: chassis %u slot %u ignored\n",
		    e.chassis, e.slot);
	return 0;
}

/*
 * The policy's view again from the primary's table.  Only at the epoch
 * power-get said: the dump itself says which epoch it is (an entry's
 * epoch), and a decision at another epoch is refused anyway.
 */
static void sync_policy(struct agent *ag)
{
	struct nl_msg *msg;
	int e;
	OUT(o);

	/* Not before recheck() saw the node act at its epoch. */
	if (!ag->pol || !ag->acting || ag->need_sync)
		return;
	rpwp_resync_begin(ag->pol);
	msg = rpw_nl_msg(&ag->req, RACKPWR_CMD_ALLOC_GET, NLM_F_DUMP);
	if (!msg)
		return;
	nla_put_u32(msg, RACKPWR_A_POWER_NODE_ID, ag->node_id);
	e = rpw_nl_call(&ag->req, msg, sync_alloc_cb, ag);
	if (e) {
		err("allocation dump of node %u failed: %s%s\n", ag->node_id,
		    strerror(-e), xmsg(&ag->req));
		ag->synced = false;
		ag->recheck = true;
		ag->resync = "the allocation dump failed";
		return;
	}
	ag->synced = true;
	feed_capacity(ag);
	rpwp_resync_end(ag->pol, now_ms(), &o);
	run_out(ag, &o);
	/* Shedding, draining and restoring go on from the next tick. */
	rpwp_tick(ag->pol, now_ms(), &o);
	run_out(ag, &o);
	ag->c.resyncs++;
	ag->dirty = true;
}

/* Read the whole state again, logging it. */
static void resync(struct agent *ag, const char *why)
{
	struct sync_pass s = { .ag = ag };

	say("resync (%s): reading nodes, capacity%s\n", why,
	    ag->pol ? " and the allocation table" : "");
	if (sync_nodes(ag, &s))
		return;
	sync_caps(ag, &s);
	/* Requests kept while waiting are in the dump too. */
	ag->nstray = 0;
	ag->stray_lost = false;
	sync_policy(ag);
	say("resync done: %u nodes, %u capacity entries\n", s.nseen, s.caps);
}

/* Quiet check of the kernel's drop counters; a rise asks for a resync. */
static void audit(struct agent *ag)
{
	struct sync_pass s = { .ag = ag, .quiet = true };

	if (!sync_nodes(ag, &s) && s.dropped && !ag->resync)
		ag->resync = "the kernel dropped events";
}

/* How long a new primary's capacity table takes to fill. */
static long long settle_ms(void)
{
	FILE *f = fopen(CAP_QUERY_PARAM, "r");
	long ms = 0;

	if (f) {
		if (fscanf(f, "%ld", &ms) != 1)
			ms = 0;
		fclose(f);
	}
	if (ms < 100 || ms > 60000)
		ms = 1000;	/* the module's default and range */
	return RPWD_SETTLE_QUERIES * ms + 500;
}

/*
 * A new primary knows only its own assembly until the others answer its
 * first queries, sent once its lease holds: the capacity it knows is
 * never above the rack's (policy.h, rpwp_settling()), so the policy
 * grants on it, but a shed decided on it may be needless: sheds wait
 * settle_ms() from the first time the node is seen acting (its lease
 * holding, recovering or not) at an epoch.  The epoch is kept apart from
 * ag->epoch, which is also stored while a new primary waits for its lease
 * (not acting): seen so first, a takeover would skip the wait.
 */
static void settle_start(struct agent *ag, const struct rpw_dec_power *p)
{
	OUT(o);

	if (!p->acting || p->epoch == ag->settle_epoch)
		return;
	ag->settle_epoch = p->epoch;
	ag->settle_until = now_ms() + settle_ms();
	ag->settling = true;
	/* Starting returns no action. */
	rpwp_settling(ag->pol, (uint64_t)ag->settle_until, now_ms(), &o);
	say("node %u: primary at epoch %u.%u: its capacity table fills; sheds wait %lld ms, grants start once its ledger has recovered\n",
	    ag->node_id, p->epoch >> 8, p->epoch & 0xff,
	    ag->settle_until - now_ms());
	ag->dirty = true;
}

/* The settling ended: say so, with the budget sheds now follow. */
static void settle_end(struct agent *ag)
{
	struct rpwp_budget b;
	char k1[24], k2[24];

	ag->settling = false;
	ag->dirty = true;
	if (!ag->acting || !ag->synced)
		return;
	rpwp_budget(ag->pol, &b);
	say("node %u: capacity table settled: budget %s kW, %s kW granted%s\n",
	    ag->node_id, rpwp_kw(b.budget_mw, k1), rpwp_kw(b.granted_mw, k2),
	    b.granted_mw > b.budget_mw ? ": shedding" : "");
}

/*
 * Is the node the acting primary, at which epoch?  A change of either,
 * or power notifications the kernel could not deliver, means a resync.
 */
static void recheck(struct agent *ag)
{
	struct nl_msg *m = rpw_nl_msg(&ag->req, RACKPWR_CMD_POWER_GET, 0);
	struct rpw_dec_power p;
	bool was = ag->acting;
	int e;

	ag->recheck = false;
	if (!m)
		return;
	nla_put_u32(m, RACKPWR_A_POWER_NODE_ID, ag->node_id);
	e = rpw_nl_call(&ag->req, m, power_cb, &p);
	if (e) {
		if (ag->acting)
			err("node %u: power-get failed: %s%s: not deciding\n",
			    ag->node_id, strerror(-e), xmsg(&ag->req));
		ag->acting = false;
		ag->dirty = true;
		return;
	}
	if (ag->bound && !p.bound) {
		warn("node %u: no longer the policy holder; binding again\n",
		     ag->node_id);
		ag->bound = false;
		ag->dirty = true;
		ag->next_bind = 0;
	}
	ag->acting = p.acting && !p.recovering;
	/*
	 * Deciding starts as soon as the ledger has recovered: read
	 * everything then (a resync).  Acting again at the same epoch (a
	 * lease that lapsed for a moment) keeps the capacity table.
	 */
	if (p.acting && p.epoch != ag->epoch) {
		ag->synced = false;
		ag->need_sync = true;
	} else if (ag->acting && !was) {
		ag->need_sync = true;
	}
	settle_start(ag, &p);
	if (!ag->acting)
		ag->synced = false;
	if (p.ntf_dropped > ag->ntf_dropped && !ag->resync)
		ag->resync = "the kernel dropped power events";
	/* Lease renewals come often: files only when something changed. */
	if (was != ag->acting || p.epoch != ag->epoch) {
		say("node %u: %s at epoch %u.%u%s%s\n", ag->node_id,
		    ag->acting ? "deciding as acting primary" : "not deciding",
		    p.epoch >> 8, p.epoch & 0xff,
		    p.acting && p.recovering ? " (recovering)" : "",
		    ag->acting && ag->settling ? " (sheds held: settling)" : "");
		ag->dirty = true;
	}
	ag->epoch = p.epoch;
	ag->ntf_dropped = p.ntf_dropped;
}

/* ---- the policy's actions ------------------------------------------------ */

/* An op that acts: the node and the epoch we decide at. */
static struct nl_msg *act_msg(struct agent *ag, int cmd,
			      const struct rpwp_action *a)
{
	struct nl_msg *m = rpw_nl_msg(&ag->req, cmd, 0);

	if (!m)
		return NULL;
	nla_put_u32(m, RACKPWR_A_POWER_NODE_ID, ag->node_id);
	nla_put_u32(m, RACKPWR_A_POWER_EPOCH, ag->epoch);
	nla_put_u8(m, RACKPWR_A_POWER_CHASSIS, (uint8_t)a->chassis);
	nla_put_u8(m, RACKPWR_A_POWER_SLOT, a->slot);
	return m;
}

static int do_decide(struct agent *ag, const struct rpwp_action *a)
{
	struct nl_msg *m = act_msg(ag, RACKPWR_CMD_POWER_DECIDE, a);

	if (!m)
		return -ENOMEM;
	nla_put_u32(m, RACKPWR_A_POWER_REQ_ID, a->req_id);
	nla_put_u32(m, RACKPWR_A_POWER_VERDICT, a->verdict);
	if (a->verdict == RPWP_GRANT)
		nla_put_u32(m, RACKPWR_A_POWER_MW, a->mw);
	else
		nla_put_u32(m, RACKPWR_A_POWER_REASON, a->reason);
	return rpw_nl_call(&ag->req, m, NULL, NULL);
}

static int restore_cb(const struct rpw_msg *m, const char *bad, void *arg)
{
	int *id = arg;
	const struct rpw_dec_node *n = &m->node;

	(void)bad;
	if (n->role == RACKPWR_ROLE_CHASSIS && n->addr == (uint8_t)(*id >> 16))
		*id = (int)n->id;
	return 0;
}

/*
 * A shed slot fits again: its chassis does not ask by itself after a
 * shed, so power it on where its chassis node is in this kernel (a
 * simulated rack, or a board running both roles); else the operator
 * must (logged).
 */
static void do_restore(struct agent *ag, const struct rpwp_action *a)
{
	struct nl_msg *m = rpw_nl_msg(&ag->req, RACKPWR_CMD_NODE_GET,
				      NLM_F_DUMP);
	int id = a->chassis << 16, e;

	if (!m || rpw_nl_call(&ag->req, m, restore_cb, &id) || id >> 16) {
		say("chassis %u slot %u may power on again: %s (its chassis node is not on this machine: power it on there)\n",
		    a->chassis, a->slot, a->text);
		return;
	}
	m = rpw_nl_msg(&ag->req, RACKPWR_CMD_SLOT_SET, 0);
	if (!m)
		return;
	nla_put_u32(m, RACKPWR_A_SLOT_NODE_ID, (uint32_t)id);
	nla_put_u8(m, RACKPWR_A_SLOT_SLOT, a->slot);
	nla_put_u32(m, RACKPWR_A_SLOT_POWER, RACKPWR_SLOT_POWER_ON);
	e = rpw_nl_call(&ag->req, m, NULL, NULL);
	if (e)
		err("restore chassis %u slot %u: slot-set power on failed: %s%s\n",
		    a->chassis, a->slot, strerror(-e), xmsg(&ag->req));
	else
		say("restore chassis %u slot %u: powered on again (%s)\n",
		    a->chassis, a->slot, a->text);
}

static void count_decision(struct agent *ag, const struct rpwp_action *a)
{
	unsigned int r = a->reason < 16 ? a->reason : 0;

	if (a->verdict == RPWP_GRANT)
		ag->c.grants++;
	else if (a->verdict == RPWP_QUEUE)
		ag->c.queued[r]++;
	else
		ag->c.denied[r]++;
}

static void run_one(struct agent *ag, const struct rpwp_action *a,
		    struct rpwp_out *retry)
{
	struct nl_msg *m;
	int e;

	switch (a->type) {
	case RPWP_ACT_DECIDE:
		e = do_decide(ag, a);
		if (e) {
			ag->c.decide_err++;
			/*
			 * EAGAIN: a chassis' table is not rebuilt yet; the
			 * policy retries every RPWP_RETRY_MS.  Said once.
			 */
			logm(e != -EAGAIN ? RPWC_LOG_ERR : ag->eagain++ ?
			     RPWC_LOG_DEBUG : RPWC_LOG_WARNING,
			     "decide chassis %u slot %u req %u %s refused: %s%s%s\n",
			     a->chassis, a->slot, a->req_id,
			     rpwp_verdict_name(a->verdict), strerror(-e),
			     xmsg(&ag->req), e == -EAGAIN ?
			     "; retried (more refusals at debug level)" : "");
			rpwp_decide_failed(ag->pol, a->chassis, a->slot,
					   a->req_id, e, now_ms(), retry);
			if (e == -ESTALE || e == -ENOENT) {
				ag->recheck = true;
				if (!ag->resync)
					ag->resync = "a decision was refused";
			}
			return;
		}
		count_decision(ag, a);
		if (a->verdict == RPWP_GRANT && ag->eagain) {
			say("grants accepted again after %u refusal(s) while the kernel recovered\n",
			    ag->eagain);
			ag->eagain = 0;
		}
		logm(a->verdict == RPWP_GRANT ? RPWC_LOG_INFO :
		     RPWC_LOG_WARNING, "chassis %u slot %u req %u: %s\n",
		     a->chassis, a->slot, a->req_id, a->text);
		break;
	case RPWP_ACT_SHED:
		m = act_msg(ag, RACKPWR_CMD_POWER_SHED, a);
		e = m ? rpw_nl_call(&ag->req, m, NULL, NULL) : -ENOMEM;
		if (e) {
			err("shed chassis %u slot %u refused: %s%s\n",
			    a->chassis, a->slot, strerror(-e), xmsg(&ag->req));
			ag->recheck = true;
			if (!ag->resync)
				ag->resync = "a shed was refused";
			return;
		}
		ag->c.sheds++;
		warn("shed chassis %u slot %u (prio %u): %s\n", a->chassis,
		     a->slot, a->prio, a->text);
		break;
	case RPWP_ACT_NONCOMPLIANT:
		ag->c.noncompliant++;
		err("chassis %u slot %u did not comply with its shed: %s\n",
		    a->chassis, a->slot, a->text);
		break;
	case RPWP_ACT_RESTORE:
		ag->c.restores++;
		do_restore(ag, a);
		break;
	}
}

/*
 * Execute the actions in order, then whatever the policy has left (more
 * work, grants the kernel refused).  The policy counts on every action it
 * returned: one that cannot be executed (the node stopped deciding) makes
 * its view wrong, so the next chance rebuilds it (a resync).  A refused
 * one asks for a resync too (run_one()).
 */
static void run_out(struct agent *ag, struct rpwp_out *o)
{
	struct rpwp_action acts[RPWD_ACTS];
	unsigned int i, n, rounds = 0;
	bool more;

	for (;;) {
		n = o->n < RPWD_ACTS ? o->n : RPWD_ACTS;
		more = o->more;
		memcpy(acts, o->act, n * sizeof(acts[0]));
		o->n = 0;
		o->more = false;
		if (n)
			ag->dirty = true;
		if (n && (!ag->acting || !ag->synced)) {
			dbg("%u action(s) not executed: not deciding\n", n);
			if (!ag->resync)
				ag->resync = "the policy's actions were not executed";
			break;
		}
		for (i = 0; i < n; i++)
			run_one(ag, &acts[i], o);
		if (!more && !o->n)
			break;
		if (++rounds > 1000) {
			err("the policy keeps returning work; going on later\n");
			break;
		}
		if (more && o->n < o->max)
			rpwp_tick(ag->pol, now_ms(), o);
	}
	o->n = 0;
}

/* ---- events ----------------------------------------------------------------- */

static void on_request(struct agent *ag, const struct rpw_dec_power *p)
{
	struct rpwp_entry e = to_entry(p);
	OUT(o);

	if (p->epoch != ag->epoch)
		ag->recheck = true;	/* then a resync at the new epoch */
	if (!ag->pol || !ag->acting || !ag->synced || p->epoch != ag->epoch)
		return;
	e.state = RPWP_K_PENDING;
	dbg("request chassis %u slot %u req %u prio %u want %u mW\n",
	    p->chassis, p->slot, p->req_id, p->prio, p->want_mw);
	rpwp_request(ag->pol, &e, now_ms(), &o);
	run_out(ag, &o);
}

static void on_alloc(struct agent *ag, const struct rpw_dec_power *p)
{
	struct rpwp_entry e;
	OUT(o);

	switch (p->event) {
	case RACKPWR_POWER_EVENT_ENTRY:
	case RACKPWR_POWER_EVENT_SHED_REFUSED:
		if (!ag->pol || !ag->acting || !ag->synced ||
		    !RPW_HAS(p->has, RACKPWR_A_POWER_CHASSIS) ||
		    !RPW_HAS(p->has, RACKPWR_A_POWER_SLOT))
			return;
		e = to_entry(p);
		if (p->event == RACKPWR_POWER_EVENT_SHED_REFUSED) {
			e.state = RPWP_K_GRANTED;
			e.reason = RACKPWR_REASON_REFUSED;
		}
		rpwp_entry(ag->pol, &e, now_ms(), &o);
		run_out(ag, &o);
		break;
	case RACKPWR_POWER_EVENT_POLICY_UNBOUND:
		/* Ours (the kernel lost us?) or another's: read again. */
		ag->recheck = true;
		break;
	case RACKPWR_POWER_EVENT_RECOVERY:
	case RACKPWR_POWER_EVENT_RECOVERED:
		ag->recheck = true;
		break;
	case RACKPWR_POWER_EVENT_INVARIANT:
		err("node %u: the kernel refused a grant above the rack's usable capacity (chassis %u slot %u)\n",
		    ag->node_id, p->chassis, p->slot);
		break;
	case RACKPWR_POWER_EVENT_NO_POLICY_DENY:
		warn("node %u: chassis %u slot %u denied for want of a policy holder\n",
		     ag->node_id, p->chassis, p->slot);
		break;
	}
}

static int event_cb(const struct rpw_msg *m, const char *bad, void *arg)
{
	struct agent *ag = arg;

	if (!m) {
		warn("malformed event skipped: %s\n", bad);
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
		if (m->node.id == ag->node_id) {
			if (m->node.deleted) {
				ag->bound = false;
				ag->acting = false;
			} else {
				ag->addr = m->node.addr;
				ag->primary = m->node.primary;
			}
			ag->recheck = true;
		}
		break;
	case RACKPWR_CMD_BUS_EVENT_NTF:
		if (m->bus.event == RACKPWR_EVENT_DUP_ADDR)
			err("node %u: DUPLICATE ADDRESS %u on the bus\n",
			    m->bus.node_id, m->bus.addr);
		else if (m->bus.event == RACKPWR_EVENT_PEER_NEW)
			say("node %u: new peer %u\n", m->bus.node_id,
			    m->bus.addr);
		break;
	case RACKPWR_CMD_ELECT_NTF:
		log_elect(&m->elect);
		if (m->elect.node_id != ag->node_id)
			break;
		/* These name the primary; others an old one or a rival. */
		if (m->elect.event == RACKPWR_ELECT_EVENT_PROMOTED ||
		    m->elect.event == RACKPWR_ELECT_EVENT_DEMOTED ||
		    m->elect.event == RACKPWR_ELECT_EVENT_PRIMARY_CHANGED)
			ag->primary = m->elect.addr;
		ag->recheck = true;
		break;
	case RACKPWR_CMD_CAPACITY_NTF:
		log_cap("", &m->cap);
		if (m->cap.node_id == ag->node_id) {
			take_line(ag, &m->cap);
			feed_capacity(ag);
		}
		break;
	case RACKPWR_CMD_ALLOC_NTF:
		if (m->power.node_id == ag->node_id)
			on_alloc(ag, &m->power);
		break;
	}
	return 0;
}

/*
 * Requests unicast to the bound holder, kept while receiving (a decision
 * is a call on the same socket: never made from its own receive
 * callback) or while another call waited: decided here, in order.
 */
static void drain_requests(struct agent *ag)
{
	struct rpw_dec_power p;

	while (ag->nstray) {
		p = ag->stray[0];
		memmove(ag->stray, ag->stray + 1,
			--ag->nstray * sizeof(ag->stray[0]));
		on_request(ag, &p);
	}
}

static void receive(struct agent *ag, struct rpw_nl *nl, rpw_nl_cb cb,
		    const char *what)
{
	int e, tries = 0;

	/* Drain what is queued (older than any resync), then resync. */
	while ((e = rpw_nl_recv_events(nl, cb, ag)) == -ENOBUFS &&
	       ++tries < 64) {
		ag->overruns++;
		ag->c.overruns++;
		warn("missed events: receive buffer overrun (%u so far%s)\n",
		     ag->overruns, what);
		ag->resync = "missed events";
	}
	if (e && e != -ENOBUFS)
		err("event receive error: %s\n", nl->errmsg);
}

/* ---- configuration ------------------------------------------------------------ */

/* Read @path whole; NULL with errno set. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (!f)
		return NULL;
	for (;;) {
		if (n + 4096 > cap) {
			char *nb = realloc(buf, cap + 65536);

			if (!nb || cap > (1 << 20)) {
				free(nb ? nb : buf);
				fclose(f);
				errno = EFBIG;
				return NULL;
			}
			buf = nb;
			cap += 65536;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (!r)
			break;
	}
	fclose(f);
	*len = n;
	return buf;
}

/*
 * The configuration file, then the runtime mode override (rackpwrctl
 * mode), into @c and @pc.  Returns the errors found (all logged): 0
 * means apply.  A missing default file means the defaults.
 */
static unsigned int load_config(struct agent *ag, struct rpwc *c,
				struct rpwp_cfg *pc, bool explicit)
{
	char errs[4096], mode[32] = "";
	unsigned int n = 0, i;
	size_t len = 0;
	char *text = slurp(ag->config, &len);
	FILE *f;

	if (!text && (errno != ENOENT || explicit)) {
		err("%s: %s\n", ag->config, strerror(errno));
		return 1;
	}
	if (text) {
		n = rpwc_parse(ag->config, text, len, c, errs, sizeof(errs));
		free(text);
		if (n) {
			char *line = strtok(errs, "\n");

			for (; line; line = strtok(NULL, "\n"))
				err("%s\n", line);
			return n;
		}
	} else {
		rpwc_defaults(c);
	}
	f = fopen(ag->mode_file, "r");
	if (f) {
		if (!fgets(mode, sizeof(mode), f))
			mode[0] = 0;
		fclose(f);
		mode[strcspn(mode, " \t\r\n")] = 0;
		if (rpwc_mode_parse(mode) < 0) {
			err("%s: '%s' is not n+n, n+1 or none\n", ag->mode_file,
			    mode);
			return 1;
		}
		c->mode = (enum rpwc_mode)rpwc_mode_parse(mode);
	}
	rpwp_cfg_init(pc);
	rpwp_mode_parse(rpwc_mode_name(c->mode), &pc->mode);
	pc->shed_deadline_ms = c->shed_deadline_ms;
	pc->deny_when_full = c->deny_when_full;
	pc->n_overrides = c->nprio;
	for (i = 0; i < c->nprio; i++)
		pc->overrides[i] = (struct rpwp_prio_override){
			.chassis = c->prio[i].chassis, .slot = c->prio[i].slot,
			.prio = c->prio[i].prio,
		};
	if (rpwp_cfg_check(pc, errs, sizeof(errs))) {
		err("%s: %s\n", ag->config, errs);
		return 1;
	}
	if (mode[0])
		say("mode %s from %s (rackpwrctl mode)\n", mode, ag->mode_file);
	return 0;
}

/* SIGHUP: the new configuration whole, or the old one kept. */
static void reload_config(struct agent *ag)
{
	static struct rpwp_cfg pc;
	static struct rpwc c;
	uint32_t old = ag->digest;
	OUT(o);

	if (load_config(ag, &c, &pc, true)) {
		ag->c.reload_err++;
		err("reload: %s not applied; keeping the configuration in force (mode %s, digest 0x%08x)\n",
		    ag->config, rpwp_mode_name(ag->pcfg.mode), ag->digest);
		return;
	}
	ag->c.reloads++;
	ag->cfg = c;
	ag->pcfg = pc;
	log_level = c.log_level;
	ag->digest = (uint32_t)rpwp_cfg_digest(&pc);
	if (ag->pol && rpwp_set_cfg(ag->pol, &pc, now_ms(), &o))
		err("reload: the policy refused the configuration\n");
	else
		run_out(ag, &o);
	say("reload: %s applied: mode %s, shed deadline %u ms, %u priority override(s), policy digest 0x%08x\n",
	    ag->config, rpwp_mode_name(pc.mode), c.shed_deadline_ms, c.nprio,
	    ag->digest);
	/* Announce the new digest: the holder may bind again. */
	if (ag->digest != old && ag->bound)
		bind_holder(ag);
	ag->dirty = true;
}

/* ---- state file and metrics file ---------------------------------------------- */

/* @s as a JSON string. */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

/* What the state file says of a slot's last action. */
static const char *act_verdict(const struct rpwp_action *a)
{
	switch (a->type) {
	case RPWP_ACT_DECIDE:
		return rpwp_verdict_name(a->verdict);
	case RPWP_ACT_SHED:
		return "shed";
	case RPWP_ACT_NONCOMPLIANT:
		return "noncompliant";
	case RPWP_ACT_RESTORE:
		return "restore";
	}
	return "?";
}

static const char *act_reason(const struct rpwp_action *a)
{
	switch (a->type) {
	case RPWP_ACT_DECIDE:
		return rpwp_reason_name(a->reason);
	case RPWP_ACT_SHED:
		return "shed";
	case RPWP_ACT_NONCOMPLIANT:
		return "refused";
	default:
		return "restore";
	}
}

/* Write through a temporary file and rename: readers see old or new. */
static FILE *open_tmp(const char *path, char *tmp, size_t len)
{
	int fd;

	snprintf(tmp, len, "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	return fd < 0 ? NULL : fdopen(fd, "w");
}

static void close_tmp(FILE *f, const char *tmp, const char *path)
{
	bool bad = ferror(f);

	if (fclose(f) || bad || rename(tmp, path)) {
		err("cannot write %s: %s\n", path, strerror(errno));
		unlink(tmp);
	}
}

static void state_peers(struct agent *ag, FILE *f)
{
	const char *sep = "";
	unsigned int i;

	fputs("  \"peers\": [", f);
	for (i = 0; i < RPWD_MAX_ASM; i++) {
		const struct line *l = &ag->lines[i];

		if (!peer_line(ag, l))
			continue;
		/* A secondary's peer is its primary. */
		fprintf(f, "%s\n    { \"addr\": %u, \"digest\": \"0x%08x\", \"match\": %s }",
			sep, l->local ? ag->primary : i,
			l->local ? l->ref : l->digest,
			l->mismatch ? "false" : "true");
		sep = ",";
	}
	fputs(*sep ? "\n  ]\n" : "]\n", f);
}

static void state_slots(struct agent *ag, FILE *f)
{
	struct rpwp_slot_info si;
	unsigned int cur = 0;
	const char *sep = "";

	fputs("  \"slots\": [", f);
	while (!rpwp_slot_next(ag->pol, &cur, &si)) {
		const struct rpwp_action *a = &si.last;

		if (!si.has_last)
			continue;
		/* One object a line: rackpwrctl why reads it so. */
		fprintf(f, "%s\n    { \"chassis\": %u, \"slot\": %u, \"verdict\": \"%s\", \"mw\": %u, \"reason\": \"%s\", \"state\": \"%s\", \"prio\": %u, \"held_mw\": %u, \"at_ms\": %lld, \"text\": ",
			sep, si.chassis, si.slot, act_verdict(a), a->mw,
			act_reason(a), rpwp_pstate_name(si.state), si.prio,
			si.held_mw, to_real(a->at_ms));
		json_str(f, a->text);
		fputs(" }", f);
		sep = ",";
	}
	fputs(*sep ? "\n  ],\n" : "],\n", f);
	cur = 0;
	sep = "";
	fputs("  \"shedding\": [", f);
	while (!rpwp_slot_next(ag->pol, &cur, &si)) {
		if (si.state != RPWP_P_SHEDDING)
			continue;
		fprintf(f, "%s\n    { \"chassis\": %u, \"slot\": %u, \"since_ms\": %lld }",
			sep, si.chassis, si.slot, to_real(si.since_ms));
		sep = ",";
	}
	fputs(*sep ? "\n  ],\n" : "],\n", f);
}

static void state_queue(struct agent *ag, FILE *f)
{
	static struct rpwp_slot_info q[RPWD_MAX_SLOTS];
	unsigned int i, n = rpwp_queue_list(ag->pol, q, RPWD_MAX_SLOTS);

	fputs("  \"queue\": [", f);
	for (i = 0; i < n; i++)
		fprintf(f, "%s\n    { \"chassis\": %u, \"slot\": %u, \"prio\": %u, \"want_mw\": %u, \"since_ms\": %lld }",
			i ? "," : "", q[i].chassis, q[i].slot, q[i].prio,
			q[i].want_mw, to_real(q[i].since_ms));
	fputs(n ? "\n  ],\n" : "],\n", f);
}

/* The state file (POLICY.md's layout, rackpwrd.rst). */
static void write_state(struct agent *ag)
{
	struct rpwp_budget b;
	char tmp[600];
	FILE *f = open_tmp(ag->state_file, tmp, sizeof(tmp));

	if (!f) {
		err("cannot write %s: %s\n", tmp, strerror(errno));
		return;
	}
	rpwp_budget(ag->pol, &b);
	fprintf(f, "{\n  \"node\": %u, \"addr\": %u, \"acting\": %s, \"settling\": %s, \"epoch\": %u, \"mode\": \"%s\",\n",
		ag->node_id, ag->addr, ag->acting ? "true" : "false",
		ag->settling ? "true" : "false", ag->epoch,
		rpwp_mode_name(ag->pcfg.mode));
	fprintf(f, "  \"digest\": \"0x%08x\", \"bound\": %s, \"config\": ",
		ag->digest, ag->bound ? "true" : "false");
	json_str(f, ag->config);
	fprintf(f, ", \"updated_ms\": %lld,\n", real_ms());
	fprintf(f, "  \"budget\": { \"rail_a_mw\": %llu, \"rail_b_mw\": %llu, \"usable_mw\": %llu, \"budget_mw\": %llu,\n              \"granted_mw\": %llu, \"headroom_mw\": %llu },\n",
		(unsigned long long)b.rail_a_mw,
		(unsigned long long)b.rail_b_mw,
		(unsigned long long)b.usable_mw,
		(unsigned long long)b.budget_mw,
		(unsigned long long)b.granted_mw,
		(unsigned long long)b.headroom_mw);
	state_queue(ag, f);
	state_slots(ag, f);
	state_peers(ag, f);
	fputs("}\n", f);
	close_tmp(f, tmp, ag->state_file);
}

/* mW as watts with three decimals, Prometheus' base unit. */
static void prom_w(FILE *f, const char *name, const char *labels,
		   uint64_t mw)
{
	fprintf(f, "%s{%s} %llu.%03llu\n", name, labels,
		(unsigned long long)(mw / 1000),
		(unsigned long long)(mw % 1000));
}

static void prom_head(FILE *f, const char *name, const char *type,
		      const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void metrics_slots(struct agent *ag, FILE *f, const char *node)
{
	static const char *const names[] = {
		"rackpwr_policy_slot_held_watts",
		"rackpwr_policy_slot_want_watts",
		"rackpwr_policy_slot_granted",
		"rackpwr_policy_slot_priority",
	};
	static const char *const help[] = {
		"Watts the slot holds (granted or being shed).",
		"Watts the slot's server asks for.",
		"1 if the slot holds a grant, else 0.",
		"The slot's effective priority (higher is more important).",
	};
	struct rpwp_slot_info si;
	unsigned int k, cur;
	char lb[96];

	for (k = 0; k < 4; k++) {
		prom_head(f, names[k], "gauge", help[k]);
		cur = 0;
		while (!rpwp_slot_next(ag->pol, &cur, &si)) {
			snprintf(lb, sizeof(lb), "%s,chassis=\"%u\",slot=\"%u\"",
				 node, si.chassis, si.slot);
			if (k == 0)
				prom_w(f, names[k], lb, si.held_mw);
			else if (k == 1)
				prom_w(f, names[k], lb, si.want_mw);
			else
				fprintf(f, "%s{%s} %u\n", names[k], lb,
					k == 2 ? si.state == RPWP_P_GRANTED ||
					si.state == RPWP_P_SHEDDING ||
					si.state == RPWP_P_NONCOMPLIANT :
					si.prio);
		}
	}
}

static void metrics_counts(struct agent *ag, FILE *f, const char *node)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} plain[] = {
		{ "rackpwr_policy_grants_total", "Requests granted.",
		  offsetof(struct counts, grants) },
		{ "rackpwr_policy_sheds_total", "Shed requests sent.",
		  offsetof(struct counts, sheds) },
		{ "rackpwr_policy_noncompliant_total",
		  "Servers that did not comply with a shed in time.",
		  offsetof(struct counts, noncompliant) },
		{ "rackpwr_policy_restores_total",
		  "Shed slots allowed to power on again.",
		  offsetof(struct counts, restores) },
		{ "rackpwr_policy_decide_errors_total",
		  "Decisions or sheds the kernel refused.",
		  offsetof(struct counts, decide_err) },
		{ "rackpwr_policy_resyncs_total",
		  "Policy views rebuilt from the kernel's table.",
		  offsetof(struct counts, resyncs) },
		{ "rackpwr_policy_event_overruns_total",
		  "Receive buffer overruns (missed events).",
		  offsetof(struct counts, overruns) },
		{ "rackpwr_policy_reload_errors_total",
		  "Configuration reloads refused (old one kept).",
		  offsetof(struct counts, reload_err) },
	};
	char lb[64];
	unsigned int i, r;

	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		prom_head(f, plain[i].name, "counter", plain[i].help);
		fprintf(f, "%s{%s} %llu\n", plain[i].name, node,
			(unsigned long long)*(uint64_t *)((char *)&ag->c +
							  plain[i].off));
	}
	prom_head(f, "rackpwr_policy_queued_total", "counter",
		  "Requests answered queue, by reason.");
	for (r = 0; r < 16; r++)
		if (ag->c.queued[r]) {
			snprintf(lb, sizeof(lb), "%s,reason=\"%s\"", node,
				 rpwp_reason_name(r));
			fprintf(f, "rackpwr_policy_queued_total{%s} %llu\n", lb,
				(unsigned long long)ag->c.queued[r]);
		}
	prom_head(f, "rackpwr_policy_denials_total", "counter",
		  "Requests denied, by reason.");
	for (r = 0; r < 16; r++)
		if (ag->c.denied[r]) {
			snprintf(lb, sizeof(lb), "%s,reason=\"%s\"", node,
				 rpwp_reason_name(r));
			fprintf(f, "rackpwr_policy_denials_total{%s} %llu\n",
				lb, (unsigned long long)ag->c.denied[r]);
		}
}

/* The metrics file for node_exporter's textfile collector. */
static void write_metrics(struct agent *ag)
{
	struct rpwp_budget b;
	unsigned int i, mism = 0;
	char tmp[600], node[32], lb[64];
	FILE *f = open_tmp(ag->metrics, tmp, sizeof(tmp));

	if (!f) {
		err("cannot write %s: %s\n", tmp, strerror(errno));
		return;
	}
	rpwp_budget(ag->pol, &b);
	snprintf(node, sizeof(node), "node=\"%u\"", ag->node_id);
	prom_head(f, "rackpwr_policy_acting", "gauge",
		  "1 while the node acts as primary and this agent decides.");
	fprintf(f, "rackpwr_policy_acting{%s} %d\n", node, ag->acting);
	prom_head(f, "rackpwr_policy_epoch", "gauge",
		  "The primary's epoch the agent decides at.");
	fprintf(f, "rackpwr_policy_epoch{%s} %u\n", node, ag->epoch);
	prom_head(f, "rackpwr_policy_rail_capacity_watts", "gauge",
		  "Usable watts of one rail (bank A or B of every assembly).");
	snprintf(lb, sizeof(lb), "%s,rail=\"a\"", node);
	prom_w(f, "rackpwr_policy_rail_capacity_watts", lb, b.rail_a_mw);
	snprintf(lb, sizeof(lb), "%s,rail=\"b\"", node);
	prom_w(f, "rackpwr_policy_rail_capacity_watts", lb, b.rail_b_mw);
	prom_head(f, "rackpwr_policy_usable_watts", "gauge",
		  "Usable watts of both rails: the kernel's limit.");
	prom_w(f, "rackpwr_policy_usable_watts", node, b.usable_mw);
	prom_head(f, "rackpwr_policy_budget_watts", "gauge",
		  "Watts the redundancy mode allows to be granted.");
	prom_w(f, "rackpwr_policy_budget_watts", node, b.budget_mw);
	prom_head(f, "rackpwr_policy_granted_watts", "gauge",
		  "Watts granted (held or being shed).");
	prom_w(f, "rackpwr_policy_granted_watts", node, b.granted_mw);
	prom_head(f, "rackpwr_policy_headroom_watts", "gauge",
		  "Budget left for new grants.");
	prom_w(f, "rackpwr_policy_headroom_watts", node, b.headroom_mw);
	prom_head(f, "rackpwr_policy_queue_length", "gauge",
		  "Requests waiting for power.");
	fprintf(f, "rackpwr_policy_queue_length{%s} %u\n", node, b.queued);
	prom_head(f, "rackpwr_policy_shedding", "gauge",
		  "Sheds in progress.");
	fprintf(f, "rackpwr_policy_shedding{%s} %u\n", node, b.shedding);
	for (i = 0; i < RPWD_MAX_ASM; i++)
		mism += peer_line(ag, &ag->lines[i]) && ag->lines[i].mismatch;
	prom_head(f, "rackpwr_policy_digest_mismatches", "gauge",
		  "Power-supply modules whose policy differs from the primary's.");
	fprintf(f, "rackpwr_policy_digest_mismatches{%s} %u\n", node, mism);
	metrics_slots(ag, f, node);
	metrics_counts(ag, f, node);
	close_tmp(f, tmp, ag->metrics);
}

static void write_files(struct agent *ag)
{
	ag->dirty = false;
	write_state(ag);
	if (ag->metrics[0])
		write_metrics(ag);
}

/* ---- main --------------------------------------------------------------- */

static const struct option rpwd_opts[] = {
	{ "node", required_argument, NULL, 'n' },
	{ "config", required_argument, NULL, 'c' },
	{ "state-dir", required_argument, NULL, 's' },
	{ "metrics", required_argument, NULL, 'm' },
	{ "syslog", no_argument, NULL, 'l' },
	{ "check-config", no_argument, NULL, 'k' },
	/* For tests only: force overruns. */
	{ "rcvbuf", required_argument, NULL, 'r' },
	/* For tests only: make the kernel count our overruns (ntf-dropped). */
	{ "broadcast-error", no_argument, NULL, 'b' },
	{ NULL, 0, NULL, 0 },
};

static void usage(void)
{
	fputs("usage: rackpwrd [--node ID [--config FILE] [--state-dir DIR]\n"
	      "                [--metrics FILE|\"\"] [--check-config]] [--syslog]\n"
	      "  Runs in the foreground.  --node ID: the policy agent of that\n"
	      "  power-supply node; without it rackpwrd only logs events.\n"
	      "  SIGHUP reloads the configuration, SIGTERM stops (grants stay).\n",
	      stderr);
	exit(2);
}

static int setup(struct agent *ag, int rcvbuf, int bcast_err)
{
	int one = 1;
	int e;

	e = rpw_nl_open(&ag->req);
	if (!e)
		e = rpw_nl_open(&ag->ev);
	if (!e)
		e = rpw_nl_subscribe(&ag->ev, rcvbuf);
	if (!e && ag->node_id)
		e = rpw_nl_join(&ag->ev, RACKPWR_MCGRP_POWER);
	if (!e && bcast_err &&
	    setsockopt(nl_socket_get_fd(ag->ev.sk), SOL_NETLINK,
		       NETLINK_BROADCAST_ERROR, &one, sizeof(one)))
		e = -errno;
	if (!e)
		e = nl_socket_set_nonblocking(ag->ev.sk) ? -EIO : 0;
	if (e || !ag->node_id)
		return e;
	/* The holder socket: requests arrive on it, unicast. */
	ag->req.stray = stray_cb;
	ag->req.stray_arg = ag;
	if (setsockopt(nl_socket_get_fd(ag->req.sk), SOL_SOCKET,
		       SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(nl_socket_get_fd(ag->req.sk), SOL_SOCKET,
			   SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	return nl_socket_set_nonblocking(ag->req.sk) ? -EIO : 0;
}

/* The policy agent's files and its policy, before any netlink. */
static int setup_policy(struct agent *ag, bool explicit, bool check_only)
{
	static char metrics[512];
	FILE *f;

	snprintf(ag->mode_file, sizeof(ag->mode_file), "%s/node-%u.mode",
		 ag->state_dir, ag->node_id);
	snprintf(ag->state_file, sizeof(ag->state_file), "%s/node-%u.json",
		 ag->state_dir, ag->node_id);
	snprintf(ag->pid_file, sizeof(ag->pid_file), "%s/node-%u.pid",
		 ag->state_dir, ag->node_id);
	if (!ag->metrics) {
		snprintf(metrics, sizeof(metrics), "%s/rackpwrd-node%u.prom",
			 DEF_METRICS_DIR, ag->node_id);
		ag->metrics = metrics;
	}
	if (load_config(ag, &ag->cfg, &ag->pcfg, explicit))
		return 1;
	log_level = ag->cfg.log_level;
	ag->digest = (uint32_t)rpwp_cfg_digest(&ag->pcfg);
	if (check_only) {
		printf("%s: ok, mode %s, policy digest 0x%08x\n", ag->config,
		       rpwp_mode_name(ag->pcfg.mode), ag->digest);
		return 0;
	}
	ag->pol = rpwp_create(RPWD_MAX_SLOTS, &ag->pcfg);
	if (!ag->pol) {
		err("cannot create the policy\n");
		return 1;
	}
	if (mkdir(ag->state_dir, 0755) && errno != EEXIST) {
		err("%s: %s\n", ag->state_dir, strerror(errno));
		return 1;
	}
	f = fopen(ag->pid_file, "w");
	if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f)) {
		err("%s: %s\n", ag->pid_file, strerror(errno));
		return 1;
	}
	say("node %u: policy agent: config %s, mode %s, policy digest 0x%08x, state %s\n",
	    ag->node_id, ag->config, rpwp_mode_name(ag->pcfg.mode),
	    ag->digest, ag->state_file);
	return 0;
}

/*
 * --node takes an id or a node's name (a tty's node is named after the
 * tty, e.g. ttyS1): the files are named after the id.
 */
static int resolve_node(struct agent *ag, const char *what)
{
	struct rpw_nl nl;
	char *end;
	long id;
	int e;

	id = strtol(what, &end, 10);
	if (*what && !*end) {
		if (id <= 0 || id > 0x7fffffff)
			usage();
		ag->node_id = (uint32_t)id;
		return 0;
	}
	e = rpw_nl_open(&nl);
	if (!e) {
		e = rpw_nl_node_lookup(&nl, what);
		rpw_nl_close(&nl);
	}
	if (e < 0) {
		err("node %s: %s\n", what, strerror(-e));
		return 1;
	}
	ag->node_id = (uint32_t)e;
	return 0;
}

/* How long poll may sleep: the policy's next deadline, bounded. */
static int poll_ms(struct agent *ag)
{
	uint64_t dl, now = now_ms();
	int ms = ag->resync || ag->recheck ? 100 : 1000;

	/* The settling's end is one of the policy's deadlines. */
	if (ag->pol && ag->acting && ag->synced) {
		dl = rpwp_next_deadline(ag->pol);
		if (dl <= now)
			return 0;
		if (dl - now < (uint64_t)ms)
			ms = (int)(dl - now);
	}
	return ms;
}

static void loop_once(struct agent *ag, long long *next_audit,
		      long long *next_resync)
{
	const char *why;
	struct pollfd p[2] = {
		{ nl_socket_get_fd(ag->ev.sk), POLLIN, 0 },
		{ ag->node_id ? nl_socket_get_fd(ag->req.sk) : -1, POLLIN, 0 },
	};
	OUT(o);

	if (poll(p, 2, poll_ms(ag)) > 0) {
		if (p[0].revents)
			receive(ag, &ag->ev, event_cb, "");
		if (p[1].revents)
			receive(ag, &ag->req, stray_cb, ", policy requests");
	}
	drain_requests(ag);
	if (reload) {
		reload = 0;
		reload_config(ag);
	}
	if (ag->node_id && !ag->bound && now_ms() >= ag->next_bind) {
		bind_holder(ag);
		ag->next_bind = now_ms() + RPWD_BIND_MS;
	}
	if (ag->recheck)
		recheck(ag);
	if (ag->stray_lost && !ag->resync)
		ag->resync = "policy requests lost while busy";
	if (ag->need_sync && ag->acting) {
		ag->need_sync = false;
		ag->resync = "acting primary";
	}
	if (!ag->resync && now_ms() >= *next_audit) {
		audit(ag);
		if (ag->node_id)
			ag->recheck = true;	/* power-get's counter too */
		*next_audit = now_ms() + RPWD_AUDIT_S * 1000;
	}
	/* A steady loss would otherwise resync on every event. */
	if (ag->resync && now_ms() >= *next_resync) {
		why = ag->resync;
		ag->resync = NULL;	/* a failing resync asks again */
		resync(ag, why);
		*next_resync = now_ms() + RPWD_RESYNC_MS;
	}
	if (ag->settling && now_ms() >= ag->settle_until)
		settle_end(ag);
	if (ag->pol && ag->acting && ag->synced &&
	    rpwp_next_deadline(ag->pol) <= (uint64_t)now_ms()) {
		rpwp_tick(ag->pol, now_ms(), &o);
		run_out(ag, &o);
	}
	if (ag->pol && ag->dirty)
		write_files(ag);
}

int main(int argc, char **argv)
{
	static struct agent ag;
	int rcvbuf = RPWD_RCVBUF, bcast_err = 0, c, e;
	bool explicit = false, check_only = false;
	long long next_audit, next_resync = 0;
	const char *node = NULL;

	ag.config = DEF_CONFIG;
	ag.state_dir = DEF_STATE_DIR;
	while ((c = getopt_long(argc, argv, "", rpwd_opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			node = optarg;
			break;
		case 'c':
			ag.config = optarg;
			explicit = true;
			break;
		case 's':
			ag.state_dir = optarg;
			break;
		case 'm':
			ag.metrics = optarg;
			break;
		case 'l':
			log_syslog = true;
			break;
		case 'k':
			check_only = true;
			break;
		case 'r':
			rcvbuf = atoi(optarg) > 0 ? atoi(optarg) : rcvbuf;
			break;
		case 'b':
			bcast_err = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || (check_only && !node))
		usage();
	if (node && resolve_node(&ag, node))
		return 1;
	if (ag.node_id && setup_policy(&ag, explicit, check_only))
		return 1;
	if (check_only)
		return 0;
	e = setup(&ag, rcvbuf, bcast_err);
	if (e) {
		err("cannot follow rackpwr events: %s\n", strerror(-e));
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGPIPE, SIG_IGN);
	say("following rackpwr events\n");
	/* Subscribed first, so nothing falls between the dump and events. */
	audit(&ag);
	ag.recheck = ag.node_id != 0;
	next_audit = now_ms() + RPWD_AUDIT_S * 1000;
	while (!stop)
		loop_once(&ag, &next_audit, &next_resync);
	/* The kernel's fail-safe holds every grant from here. */
	say("stopping: grants stay; the kernel runs fail-safe until an agent binds again\n");
	if (ag.node_id) {
		ag.acting = false;
		ag.bound = false;
		write_files(&ag);
		unlink(ag.pid_file);
		rpwp_destroy(ag.pol);
	}
	rpw_nl_close(&ag.ev);
	rpw_nl_close(&ag.req);
	return 0;
}
