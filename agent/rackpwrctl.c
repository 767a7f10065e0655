// SPDX-License-Identifier: GPL-2.0-only
/*
 * rackpwrctl - command-line client of the rackpwr generic netlink family.
 *
 * Output is one line per object, "key=value" pairs, so that shell tests
 * can grep it.  Errors print the kernel's extack message and exit 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <linux/serial.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "nl.h"
#include "ctljson.h"
#include "ctlmap.h"
#include "policy.h"

static struct rpw_nl nl;

static const char *const stat_names[] = {
	[RACKPWR_A_STATS_TX_FRAMES] = "tx_frames",
	[RACKPWR_A_STATS_TX_BYTES] = "tx_bytes",
	[RACKPWR_A_STATS_RX_FRAMES] = "rx_frames",
	[RACKPWR_A_STATS_RX_BYTES] = "rx_bytes",
	[RACKPWR_A_STATS_CRC_ERRORS] = "crc_errors",
	[RACKPWR_A_STATS_FRAMING_ERRORS] = "framing_errors",
	[RACKPWR_A_STATS_COLLISIONS] = "collisions",
	[RACKPWR_A_STATS_RETRIES] = "retries",
	[RACKPWR_A_STATS_TIMEOUTS] = "timeouts",
	[RACKPWR_A_STATS_DUPLICATES] = "duplicates",
	[RACKPWR_A_STATS_OVERSIZE] = "oversize",
	[RACKPWR_A_STATS_GARBAGE_BYTES] = "garbage_bytes",
	[RACKPWR_A_STATS_ACKS_TX] = "acks_tx",
	[RACKPWR_A_STATS_ACKS_RX] = "acks_rx",
	[RACKPWR_A_STATS_DUP_ADDR] = "dup_addr",
	[RACKPWR_A_STATS_ACCESS_DELAY_MAX_US] = "access_delay_max_us",
	[RACKPWR_A_STATS_ACCESS_DELAY_AVG_US] = "access_delay_avg_us",
	[RACKPWR_A_STATS_DUP_SKIPS] = "dup_skips",
	[RACKPWR_A_STATS_EXPIRED] = "expired",
	[RACKPWR_A_STATS_REFUSED_USER] = "refused_user",
	[RACKPWR_A_STATS_REFUSED_ELECT] = "refused_elect",
	[RACKPWR_A_STATS_REFUSED_PROTO] = "refused_proto",
	[RACKPWR_A_STATS_REFUSED_ALLOC] = "refused_alloc",
	[RACKPWR_A_STATS_ELECT_TX_REFUSED] = "elect_tx_refused",
	[RACKPWR_A_STATS_AUTH_MISSING] = "auth_missing",
	[RACKPWR_A_STATS_AUTH_BAD] = "auth_bad",
	[RACKPWR_A_STATS_AUTH_REPLAY] = "auth_replay",
	[RACKPWR_A_STATS_ELECT_RX_UNEARNED] = "elect_rx_unearned",
	[RACKPWR_A_STATS_ELECT_REJOINS] = "elect_rejoins",
	[RACKPWR_A_STATS_ANSWER_COUNT] = "answer_count",
};

static const char *const auth_mode_names[] = {
	[RACKPWR_AUTH_MODE_OFF] = "off",
	[RACKPWR_AUTH_MODE_OPTIONAL] = "optional",
	[RACKPWR_AUTH_MODE_REQUIRED] = "required",
};

static const char *const role_names[] = {
	[RACKPWR_ROLE_PSU] = "psu", [RACKPWR_ROLE_CHASSIS] = "chassis",
};

static const char *const kind_names[] = {
	[RACKPWR_KIND_SIM] = "sim", [RACKPWR_KIND_LDISC] = "ldisc",
	[RACKPWR_KIND_SERDEV] = "serdev",
};

static const char *const estate_names[] = {
	[RACKPWR_ELECT_STATE_IDLE] = "idle",
	[RACKPWR_ELECT_STATE_DISCOVER] = "discover",
	[RACKPWR_ELECT_STATE_SECONDARY] = "secondary",
	[RACKPWR_ELECT_STATE_TAKEOVER] = "takeover",
	[RACKPWR_ELECT_STATE_PRIMARY] = "primary",
	[RACKPWR_ELECT_STATE_FOLLOWER] = "follower",
	[RACKPWR_ELECT_STATE_STOPPED] = "stopped",
};

static const char *const eevent_names[] = {
	[RACKPWR_ELECT_EVENT_PROMOTED] = "promoted",
	[RACKPWR_ELECT_EVENT_DEMOTED] = "demoted",
	[RACKPWR_ELECT_EVENT_EPOCH_CHANGED] = "epoch-changed",
	[RACKPWR_ELECT_EVENT_PRIMARY_CHANGED] = "primary-changed",
	[RACKPWR_ELECT_EVENT_PRIMARY_LOST] = "primary-lost",
	[RACKPWR_ELECT_EVENT_CONFLICT] = "conflict",
	[RACKPWR_ELECT_EVENT_DUP_ADDR] = "dup-addr",
	[RACKPWR_ELECT_EVENT_LEASE_LOST] = "lease-lost",
	[RACKPWR_ELECT_EVENT_LEASE_OK] = "lease-ok",
	[RACKPWR_ELECT_EVENT_STALL] = "stall",
	[RACKPWR_ELECT_EVENT_STEP_DOWN] = "step-down",
};

static const char *const event_names[] = {
	[RACKPWR_EVENT_DUP_ADDR] = "dup-addr",
	[RACKPWR_EVENT_PEER_NEW] = "peer-new",
};

static const char *const slot_state_names[] = {
	[RACKPWR_SLOT_STATE_EMPTY] = "empty",
	[RACKPWR_SLOT_STATE_OFF] = "off",
	[RACKPWR_SLOT_STATE_REQUESTING] = "requesting",
	[RACKPWR_SLOT_STATE_QUEUED] = "queued",
	[RACKPWR_SLOT_STATE_DENIED] = "denied",
	[RACKPWR_SLOT_STATE_GRANTED] = "granted",
	[RACKPWR_SLOT_STATE_SHEDDING] = "shedding",
	[RACKPWR_SLOT_STATE_RELEASING] = "releasing",
};

static const char *const alloc_state_names[] = {
	[RACKPWR_ALLOC_STATE_PENDING] = "pending",
	[RACKPWR_ALLOC_STATE_QUEUED] = "queued",
	[RACKPWR_ALLOC_STATE_GRANTED] = "granted",
	[RACKPWR_ALLOC_STATE_SHEDDING] = "shedding",
};

static const char *const reason_names[] = {
	[RACKPWR_REASON_NONE] = "none",
	[RACKPWR_REASON_CAPACITY] = "capacity",
	[RACKPWR_REASON_REDUNDANCY] = "redundancy",
	[RACKPWR_REASON_NO_POLICY] = "no-policy",
	[RACKPWR_REASON_POLICY] = "policy",
	[RACKPWR_REASON_RECOVERING] = "recovering",
	[RACKPWR_REASON_NEVER_FITS] = "never-fits",
	[RACKPWR_REASON_SHED] = "shed",
	[RACKPWR_REASON_ADMIN] = "admin",
	[RACKPWR_REASON_REMOVED] = "removed",
	[RACKPWR_REASON_SLEEP] = "sleep",
	[RACKPWR_REASON_OFF] = "off",
	[RACKPWR_REASON_LOWER] = "lower",
	[RACKPWR_REASON_REFUSED] = "refused",
	[RACKPWR_REASON_STALE] = "stale",
	[RACKPWR_REASON_POWER_FAILED] = "power-failed",
};

static const char *const trigger_names[] = {
	[RACKPWR_TRIGGER_NONE] = "none",
	[RACKPWR_TRIGGER_INSERT] = "insert",
	[RACKPWR_TRIGGER_BUTTON] = "button",
	[RACKPWR_TRIGGER_LAN_WAKE] = "lan-wake",
	[RACKPWR_TRIGGER_WAKE] = "wake",
	[RACKPWR_TRIGGER_ADMIN] = "admin",
};

static const char *const pevent_names[] = {
	[RACKPWR_POWER_EVENT_ENTRY] = "entry",
	[RACKPWR_POWER_EVENT_POLICY_BOUND] = "policy-bound",
	[RACKPWR_POWER_EVENT_POLICY_UNBOUND] = "policy-unbound",
	[RACKPWR_POWER_EVENT_NO_POLICY_DENY] = "no-policy-deny",
	[RACKPWR_POWER_EVENT_INVARIANT] = "invariant",
	[RACKPWR_POWER_EVENT_RECOVERY] = "recovery",
	[RACKPWR_POWER_EVENT_RECOVERED] = "recovered",
	[RACKPWR_POWER_EVENT_SHED_REFUSED] = "shed-refused",
};

#define NAME(tbl, v) \
	((unsigned int)(v) < sizeof(tbl) / sizeof(tbl[0]) && (tbl)[v] ? \
	 (tbl)[v] : "?")

static void ctl_usage(void);

static void usage(void)
{
	fputs("usage: rackpwrctl COMMAND ...\n"
	      "  node list | node show NODE\n"
	      "  node new --bus B --addr A [--role psu|chassis] [--i2c-bus N|auto] [timers]\n"
	      "  node set NODE [--addr A] [--role R] [--baud N] [--i2c-bus N|auto] [timers]\n"
	      "  node del NODE\n"
	      "  stats [NODE]\n"
	      "  peers NODE\n"
	      "  capacity NODE\n"
	      "  send NODE DST [--ack] [--test] [--text STR | --hex HEX]\n"
	      "  step-down NODE\n"
	      "  slots NODE [SLOT]       (chassis node: its server slots)\n"
	      "  slot-set NODE SLOT [--prio P] [--power on|off]\n"
	      "  alloc NODE              (primary: allocation table)\n"
	      "  power NODE              (allocation summary and counters)\n"
	      "  decide NODE CHASSIS SLOT REQ_ID grant|queue|deny [--mw N]\n"
	      "         [--reason R] [--epoch E]\n"
	      "  shed NODE CHASSIS SLOT [--epoch E]\n"
	      "  policy NODE --grant-if-fits [--count N] [--timeout SEC]\n"
	      "         TEST TOOL, not a policy: binds as the node's policy\n"
	      "         holder and grants every request that fits the usable\n"
	      "         capacity, else queues it (rackpwrd is the real agent)\n"
	      "  monitor [--count N] [--timeout SEC]\n"
	      "  attach TTY [--ldisc N] [--rs485] [--addr A] [--role R] [--baud N]\n"
	      "  key set NODE [--id K --key-file FILE|-] [--use] [--mode M]\n"
	      "  key del NODE --id K\n"
	      "  why CHASSIS/SLOT [--node ID] [--state-dir DIR] [-j]\n"
	      "         the agent's last decision for the slot and its reason\n"
	      "  mode NODE n+n|n+1|none|default [--state-dir DIR]\n"
	      "         (root) the redundancy mode of NODE's agent, at once\n"
	      "timers: --ifs-us N --slot-us N --turnaround-us N\n"
	      "        --ack-timeout-us N --max-retries N --max-addr N\n"
	      "        --prio-period N\n"
	      "--i2c-bus: I2C adapter of the node's assembly; auto = the only one\n"
	      "election: --hb-us N --miss N --bus-delay-us N\n"
	      "key: K = key id 1..255; FILE (- = stdin) holds the key as 32..128\n"
	      "     hex digits; M = off|optional|required\n"
	      "NODE is a node id or name (e.g. ttyS1, sim0.3)\n", stderr);
	ctl_usage();
	exit(2);
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "rackpwrctl: %s: %s%s%s\n", what, strerror(-err),
		nl.errmsg[0] ? ": " : "", nl.errmsg);
	return 1;
}

#define NODE_U32(a, f, nm) \
	{ RACKPWR_A_NODE_##a, nm, offsetof(struct rpw_dec_node, f) }

static void print_node(const struct rpw_dec_node *n)
{
	static const struct { int attr; const char *name; size_t off; } u32s[] = {
		NODE_U32(BUS, bus, "bus"),
		NODE_U32(BAUD, baud, "baud"),
		NODE_U32(T_IFS_US, t_ifs_us, "ifs_us"),
		NODE_U32(T_SLOT_US, t_slot_us, "slot_us"),
		NODE_U32(T_TURNAROUND_US, t_turnaround_us, "turnaround_us"),
		NODE_U32(ACK_TIMEOUT_US, ack_timeout_us, "ack_timeout_us"),
		NODE_U32(ACCESS_BOUND_US, access_bound_us, "access_bound_us"),
		NODE_U32(EPOCH, epoch, "epoch"),
		NODE_U32(HB_US, hb_us, "hb_us"),
		NODE_U32(BUS_DELAY_US, bus_delay_us, "bus_delay_us"),
		NODE_U32(DETECT_US, detect_us, "detect_us"),
		NODE_U32(SLOT_US, slot_us, "takeover_slot_us"),
		NODE_U32(INITIAL_US, initial_us, "initial_us"),
		NODE_U32(LEASE_US, lease_us, "lease_us"),
		NODE_U32(LINE_LAT_LAST_US, line_lat_last_us, "line_lat_last_us"),
		NODE_U32(LINE_LAT_P99_US, line_lat_p99_us, "line_lat_p99_us"),
		NODE_U32(LINE_LAT_WIN_MAX_US, line_lat_win_max_us,
			 "line_lat_win_max_us"),
		NODE_U32(LINE_LAT_MAX_US, line_lat_max_us, "line_lat_max_us"),
		NODE_U32(LINE_LAT_BUDGET_US, line_lat_budget_us,
			 "line_lat_budget_us"),
		NODE_U32(LINE_T_SLOT_US, line_t_slot_us, "line_slot_us"),
		NODE_U32(LINE_T_IFS_US, line_t_ifs_us, "line_ifs_us"),
		NODE_U32(ELECT_TOL_US, elect_tol_us, "elect_tol_us"),
		NODE_U32(ELECT_LATE_US, elect_late_us, "elect_late_us"),
	};
	unsigned int i;

	printf("id=%u", n->id);
	if (RPW_HAS(n->has, RACKPWR_A_NODE_NAME))
		printf(" name=%s", n->name);
	if (RPW_HAS(n->has, RACKPWR_A_NODE_KIND))
		printf(" kind=%s", NAME(kind_names, n->kind));
	printf(" addr=%u", n->addr);
	if (RPW_HAS(n->has, RACKPWR_A_NODE_ROLE))
		printf(" role=%s", NAME(role_names, n->role));
	for (i = 0; i < sizeof(u32s) / sizeof(u32s[0]); i++)
		if (RPW_HAS(n->has, u32s[i].attr))
			printf(" %s=%u", u32s[i].name,
			       *(const uint32_t *)((const char *)n + u32s[i].off));
	if (RPW_HAS(n->has, RACKPWR_A_NODE_MAX_RETRIES))
		printf(" max_retries=%u", n->max_retries);
	if (RPW_HAS(n->has, RACKPWR_A_NODE_ELECT_STATE))
		printf(" state=%s", NAME(estate_names, n->elect_state));
	if (RPW_HAS(n->has, RACKPWR_A_NODE_PRIMARY))
		printf(" primary=%u", n->primary);
	if (RPW_HAS(n->has, RACKPWR_A_NODE_MISS))
		printf(" miss=%u", n->miss);
	if (RPW_HAS(n->has, RACKPWR_A_NODE_MAX_ADDR))
		printf(" max_addr=%u", n->max_addr);
	if (RPW_HAS(n->has, RACKPWR_A_NODE_PRIO_PERIOD))
		printf(" prio_period=%u", n->prio_period);
	if (RPW_HAS(n->has, RACKPWR_A_NODE_ELECT_STATE))
		printf(" acting=%d", n->acting);
	if (RPW_HAS(n->has, RACKPWR_A_NODE_I2C_BUS))
		printf(" i2c_bus=%u", n->i2c_bus);
	else
		printf(" i2c_bus=none");
	printf(" i2c_bus_auto=%d", n->i2c_bus_auto);
	if (RPW_HAS(n->has, RACKPWR_A_NODE_NTF_DROPPED))
		printf(" ntf_dropped=%llu", (unsigned long long)n->ntf_dropped);
	if (RPW_HAS(n->has, RACKPWR_A_NODE_AUTH_MODE))
		printf(" auth=%s tx_key=%u rx_key=%u",
		       NAME(auth_mode_names, n->auth_mode), n->auth_tx_key,
		       n->auth_rx_key);
	if (RPW_HAS(n->has, RACKPWR_A_NODE_LINE_LAT_SAMPLES))
		printf(" line_lat_samples=%llu",
		       (unsigned long long)n->line_lat_samples);
	putchar('\n');
}

static int node_cb(const struct rpw_msg *m, const char *bad, void *arg)
{
	(void)bad;
	(void)arg;
	print_node(&m->node);
	return 0;
}

static int stats_cb(const struct rpw_msg *m, const char *bad, void *arg)
{
	const struct rpw_dec_node *n = &m->node;
	unsigned int i;

	(void)bad;
	(void)arg;
	printf("id=%u name=%s", n->id,
	       RPW_HAS(n->has, RACKPWR_A_NODE_NAME) ? n->name : "?");
	for (i = 1; i <= RACKPWR_A_STATS_MAX; i++)
		if (RPW_HAS(n->stats.has, i) &&
		    i < sizeof(stat_names) / sizeof(stat_names[0]) &&
		    stat_names[i])
			printf(" %s=%llu", stat_names[i],
			       (unsigned long long)n->stats.v[i]);
	putchar('\n');
	return 0;
}

static int peer_cb(const struct rpw_msg *m, const char *bad, void *arg)
{
	const struct rpw_dec_peer *p = &m->peer;

	(void)bad;
	(void)arg;
	printf("node=%u addr=%u last_heard_ms=%u rx_frames=%llu\n",
	       p->node_id, p->addr, p->last_heard_ms,
	       (unsigned long long)p->rx_frames);
	return 0;
}

static void print_cap(const struct rpw_dec_cap *c)
{
	printf("node=%u addr=%u bank_a_mw=%u bank_b_mw=%u present=0x%02x healthy=0x%02x age_ms=%u local=%d lost=%d\n",
	       c->node_id, c->addr, c->bank_a_mw, c->bank_b_mw, c->present,
	       c->healthy, c->age_ms, c->local, c->lost);
}

static int cap_cb(const struct rpw_msg *m, const char *bad, void *arg)
{
	(void)bad;
	(void)arg;
	print_cap(&m->cap);
	return 0;
}

static long num(const char *s, long lo, long hi, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || !*s || *end || v < lo || v > hi) {
		fprintf(stderr, "rackpwrctl: bad %s '%s' (%ld..%ld)\n", what, s,
			lo, hi);
		exit(2);
	}
	return v;
}

static int node_id(const char *what)
{
	int id = rpw_nl_node_lookup(&nl, what);

	if (id < 0) {
		fprintf(stderr, "rackpwrctl: no node '%s'\n", what);
		exit(1);
	}
	return id;
}

static void print_slot(const struct rpw_dec_slot *v)
{
	printf("node=%u slot=%u state=%s present=%d enabled=%d prio=%u want_mw=%u held_mw=%u req_id=%u trigger=%s reason=%s primary=%u epoch=%u ident=%s\n",
	       v->node_id, v->slot, NAME(slot_state_names, v->state),
	       v->present, v->enabled, v->prio, v->want_mw, v->held_mw,
	       v->req_id, NAME(trigger_names, v->last_trigger),
	       NAME(reason_names, v->reason), v->primary, v->epoch,
	       v->ident[0] ? v->ident : "-");
}

static int slot_cb(const struct rpw_msg *m, const char *bad, void *arg)
{
	(void)bad;
	(void)arg;
	print_slot(&m->slot);
	return 0;
}

static void print_entry(const struct rpw_dec_power *p)
{
	printf("node=%u epoch=%u chassis=%u slot=%u", p->node_id, p->epoch,
	       p->chassis, p->slot);
	if (RPW_HAS(p->has, RACKPWR_A_POWER_STATE))
		printf(" state=%s", NAME(alloc_state_names, p->state));
	else
		printf(" state=gone");
	printf(" prio=%u want_mw=%u held_mw=%u req_id=%u reason=%s",
	       p->prio, p->want_mw, p->held_mw, p->req_id,
	       NAME(reason_names, p->reason));
	if (RPW_HAS(p->has, RACKPWR_A_POWER_AGE_MS))
		printf(" age_ms=%u", p->age_ms);
	putchar('\n');
}

static int alloc_cb(const struct rpw_msg *m, const char *bad, void *arg)
{
	(void)bad;
	(void)arg;
	print_entry(&m->power);
	return 0;
}

static void print_power(const struct rpw_dec_power *p)
{
	printf("node=%u epoch=%u acting=%d recovering=%d bound=%d usable_mw=%llu granted_mw=%llu pending=%u refused_invariant=%llu no_policy_denied=%llu rx_stale=%llu ntf_dropped=%llu\n",
	       p->node_id, p->epoch, p->acting, p->recovering, p->bound,
	       (unsigned long long)p->usable_mw,
	       (unsigned long long)p->granted_mw, p->pending,
	       (unsigned long long)p->refused_invariant,
	       (unsigned long long)p->no_policy_denied,
	       (unsigned long long)p->rx_stale,
	       (unsigned long long)p->ntf_dropped);
}

static int power_cb(const struct rpw_msg *m, const char *bad, void *arg)
{
	(void)bad;
	if (arg)
		*(struct rpw_dec_power *)arg = m->power;
	else
		print_power(&m->power);
	return 0;
}

static int lookup(const char *const *tbl, unsigned int n, const char *s)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (tbl[i] && !strcmp(tbl[i], s))
			return i;
	return -1;
}

enum { O_BUS = 256, O_ADDR, O_ROLE, O_BAUD, O_IFS, O_SLOT, O_TURN, O_ACKTO,
	O_RETRIES, O_ACK, O_TEST, O_TEXT, O_HEX, O_COUNT, O_TIMEOUT, O_LDISC,
	O_HB, O_MISS, O_JDELAY, O_RS485, O_MAXADDR, O_PRIO, O_I2C, O_KID,
	O_KFILE, O_KUSE, O_KMODE, O_SPRIO, O_POWER, O_MW, O_REASON, O_EPOCH,
	O_FITS };

static const struct option opts[] = {
	{ "bus", required_argument, NULL, O_BUS },
	{ "addr", required_argument, NULL, O_ADDR },
	{ "role", required_argument, NULL, O_ROLE },
	{ "baud", required_argument, NULL, O_BAUD },
	{ "ifs-us", required_argument, NULL, O_IFS },
	{ "slot-us", required_argument, NULL, O_SLOT },
	{ "turnaround-us", required_argument, NULL, O_TURN },
	{ "ack-timeout-us", required_argument, NULL, O_ACKTO },
	{ "max-retries", required_argument, NULL, O_RETRIES },
	{ "ack", no_argument, NULL, O_ACK },
	{ "test", no_argument, NULL, O_TEST },
	{ "text", required_argument, NULL, O_TEXT },
	{ "hex", required_argument, NULL, O_HEX },
	{ "count", required_argument, NULL, O_COUNT },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "ldisc", required_argument, NULL, O_LDISC },
	{ "hb-us", required_argument, NULL, O_HB },
	{ "rs485", no_argument, NULL, O_RS485 },
	{ "max-addr", required_argument, NULL, O_MAXADDR },
	{ "prio-period", required_argument, NULL, O_PRIO },
	{ "miss", required_argument, NULL, O_MISS },
	{ "bus-delay-us", required_argument, NULL, O_JDELAY },
	{ "i2c-bus", required_argument, NULL, O_I2C },
	{ "id", required_argument, NULL, O_KID },
	{ "key-file", required_argument, NULL, O_KFILE },
	{ "use", no_argument, NULL, O_KUSE },
	{ "mode", required_argument, NULL, O_KMODE },
	{ "prio", required_argument, NULL, O_SPRIO },
	{ "power", required_argument, NULL, O_POWER },
	{ "mw", required_argument, NULL, O_MW },
	{ "reason", required_argument, NULL, O_REASON },
	{ "epoch", required_argument, NULL, O_EPOCH },
	{ "grant-if-fits", no_argument, NULL, O_FITS },
	{ NULL, 0, NULL, 0 },
};

struct args {
	long bus, addr, role, baud, ifs, slot, turn, ackto, retries;
	long hb, miss, jdelay, maxaddr, prio;
	long i2c;		/* -1: not given, -2: auto */
	long kid, kmode;	/* key id, auth mode; -1: not given */
	const char *kfile;	/* key file, "-" = stdin; never the key */
	int kuse;
	long sprio, power, mw, reason, epoch;	/* -1: not given */
	int fits;
	int ack, test, count, timeout, ldisc, rs485;
	unsigned char payload[RACKPWR_MAX_PAYLOAD + 1];
	int plen;
};

/* Values are range-checked by the kernel (strict policies); only syntax here. */
static void parse_opts(int argc, char **argv, struct args *a)
{
	int c, i;

	memset(a, 0, sizeof(*a));
	a->bus = a->addr = a->role = a->baud = a->ifs = a->slot = -1;
	a->turn = a->ackto = a->retries = -1;
	a->hb = a->miss = a->jdelay = a->maxaddr = a->prio = a->i2c = -1;
	a->kid = a->kmode = -1;
	a->sprio = a->power = a->mw = a->reason = a->epoch = -1;
	a->ldisc = 29;	/* N_DEVELOPMENT */
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case O_BUS: a->bus = num(optarg, 0, 0xffffffffL, "bus"); break;
		case O_ADDR: a->addr = num(optarg, 0, 255, "addr"); break;
		case O_ROLE:
			if (!strcmp(optarg, "psu"))
				a->role = RACKPWR_ROLE_PSU;
			else if (!strcmp(optarg, "chassis"))
				a->role = RACKPWR_ROLE_CHASSIS;
			else
				usage();
			break;
		case O_BAUD: a->baud = num(optarg, 0, 0xffffffffL, "baud"); break;
		case O_IFS: a->ifs = num(optarg, 0, 0xffffffffL, "ifs"); break;
		case O_SLOT: a->slot = num(optarg, 0, 0xffffffffL, "slot"); break;
		case O_TURN: a->turn = num(optarg, 0, 0xffffffffL, "turnaround"); break;
		case O_ACKTO: a->ackto = num(optarg, 0, 0xffffffffL, "ack timeout"); break;
		case O_RETRIES: a->retries = num(optarg, 0, 255, "retries"); break;
		case O_ACK: a->ack = 1; break;
		case O_TEST: a->test = 1; break;
		case O_TEXT:
			a->plen = strlen(optarg);
			if (a->plen > RACKPWR_MAX_PAYLOAD + 1)
				a->plen = RACKPWR_MAX_PAYLOAD + 1;
			memcpy(a->payload, optarg, a->plen);
			break;
		case O_HEX:
			for (i = 0; optarg[2 * i] && optarg[2 * i + 1] &&
			     i <= RACKPWR_MAX_PAYLOAD; i++) {
				unsigned int v;

				if (sscanf(optarg + 2 * i, "%2x", &v) != 1)
					usage();
				a->payload[i] = v;
			}
			a->plen = i;
			break;
		case O_COUNT: a->count = num(optarg, 0, 1000000, "count"); break;
		case O_TIMEOUT: a->timeout = num(optarg, 0, 86400, "timeout"); break;
		case O_LDISC: a->ldisc = num(optarg, 0, 30, "ldisc"); break;
		case O_RS485: a->rs485 = 1; break;
		case O_MAXADDR: a->maxaddr = num(optarg, 0, 255, "max-addr"); break;
		case O_PRIO: a->prio = num(optarg, 0, 255, "prio-period"); break;
		case O_HB: a->hb = num(optarg, 0, 0xffffffffL, "hb-us"); break;
		case O_MISS: a->miss = num(optarg, 0, 255, "miss"); break;
		case O_JDELAY: a->jdelay = num(optarg, 0, 0xffffffffL, "bus-delay-us"); break;
		case O_I2C:
			a->i2c = strcmp(optarg, "auto") ?
				 num(optarg, 0, 0xffffffffL, "i2c-bus") : -2;
			break;
		case O_KID: a->kid = num(optarg, 0, 255, "key id"); break;
		case O_KFILE: a->kfile = optarg; break;
		case O_KUSE: a->kuse = 1; break;
		case O_KMODE:
			for (a->kmode = 0; a->kmode <= RACKPWR_AUTH_MODE_REQUIRED;
			     a->kmode++)
				if (!strcmp(optarg, auth_mode_names[a->kmode]))
					break;
			if (a->kmode > RACKPWR_AUTH_MODE_REQUIRED)
				usage();
			break;
		case O_SPRIO: a->sprio = num(optarg, 0, 255, "prio"); break;
		case O_POWER:
			if (!strcmp(optarg, "on"))
				a->power = RACKPWR_SLOT_POWER_ON;
			else if (!strcmp(optarg, "off"))
				a->power = RACKPWR_SLOT_POWER_OFF;
			else
				usage();
			break;
		case O_MW: a->mw = num(optarg, 0, 0xffffffffL, "mw"); break;
		case O_REASON:
			a->reason = lookup(reason_names,
					   sizeof(reason_names) /
					   sizeof(reason_names[0]), optarg);
			if (a->reason < 0)
				a->reason = num(optarg, 0, 255, "reason");
			break;
		case O_EPOCH: a->epoch = num(optarg, 0, 0xffffffffL, "epoch"); break;
		case O_FITS: a->fits = 1; break;
		default: usage();
		}
	}
}

static void put_cfg(struct nl_msg *m, const struct args *a)
{
	if (a->addr >= 0)
		nla_put_u8(m, RACKPWR_A_NODE_ADDR, a->addr);
	if (a->role >= 0)
		nla_put_u32(m, RACKPWR_A_NODE_ROLE, a->role);
	if (a->baud >= 0)
		nla_put_u32(m, RACKPWR_A_NODE_BAUD, a->baud);
	if (a->ifs >= 0)
		nla_put_u32(m, RACKPWR_A_NODE_T_IFS_US, a->ifs);
	if (a->slot >= 0)
		nla_put_u32(m, RACKPWR_A_NODE_T_SLOT_US, a->slot);
	if (a->turn >= 0)
		nla_put_u32(m, RACKPWR_A_NODE_T_TURNAROUND_US, a->turn);
	if (a->ackto >= 0)
		nla_put_u32(m, RACKPWR_A_NODE_ACK_TIMEOUT_US, a->ackto);
	if (a->retries >= 0)
		nla_put_u8(m, RACKPWR_A_NODE_MAX_RETRIES, a->retries);
	if (a->hb >= 0)
		nla_put_u32(m, RACKPWR_A_NODE_HB_US, a->hb);
	if (a->miss >= 0)
		nla_put_u8(m, RACKPWR_A_NODE_MISS, a->miss);
	if (a->jdelay >= 0)
		nla_put_u32(m, RACKPWR_A_NODE_BUS_DELAY_US, a->jdelay);
	if (a->maxaddr >= 0)
		nla_put_u8(m, RACKPWR_A_NODE_MAX_ADDR, a->maxaddr);
	if (a->prio >= 0)
		nla_put_u8(m, RACKPWR_A_NODE_PRIO_PERIOD, a->prio);
	if (a->i2c >= 0)
		nla_put_u32(m, RACKPWR_A_NODE_I2C_BUS, a->i2c);
	else if (a->i2c == -2)
		nla_put_flag(m, RACKPWR_A_NODE_I2C_BUS_AUTO);
}

static int cmd_node(int argc, char **argv)
{
	struct nl_msg *m;
	struct args a;
	int err;

	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "list")) {
		m = rpw_nl_msg(&nl, RACKPWR_CMD_NODE_GET, NLM_F_DUMP);
		err = rpw_nl_call(&nl, m, node_cb, NULL);
		return err ? fail("node list", err) : 0;
	}
	if (!strcmp(argv[1], "new")) {
		parse_opts(argc - 1, argv + 1, &a);
		m = rpw_nl_msg(&nl, RACKPWR_CMD_NODE_NEW, 0);
		nla_put_u32(m, RACKPWR_A_NODE_KIND, RACKPWR_KIND_SIM);
		nla_put_u32(m, RACKPWR_A_NODE_BUS, a.bus < 0 ? 0 : a.bus);
		put_cfg(m, &a);
		err = rpw_nl_call(&nl, m, node_cb, NULL);
		return err ? fail("node new", err) : 0;
	}
	if (argc < 3)
		usage();
	if (!strcmp(argv[1], "show") || !strcmp(argv[1], "del")) {
		int del = argv[1][0] == 'd';

		m = rpw_nl_msg(&nl, del ? RACKPWR_CMD_NODE_DEL :
			       RACKPWR_CMD_NODE_GET, 0);
		nla_put_u32(m, RACKPWR_A_NODE_ID, node_id(argv[2]));
		err = rpw_nl_call(&nl, m, node_cb, NULL);
		return err ? fail(argv[1], err) : 0;
	}
	if (!strcmp(argv[1], "set")) {
		int id = node_id(argv[2]);

		parse_opts(argc - 2, argv + 2, &a);
		m = rpw_nl_msg(&nl, RACKPWR_CMD_NODE_SET, 0);
		nla_put_u32(m, RACKPWR_A_NODE_ID, id);
		put_cfg(m, &a);
		err = rpw_nl_call(&nl, m, NULL, NULL);
		return err ? fail("node set", err) : 0;
	}
	usage();
	return 2;
}

static int cmd_stats(int argc, char **argv)
{
	struct nl_msg *m;
	int err;

	if (argc > 1) {
		m = rpw_nl_msg(&nl, RACKPWR_CMD_STATS_GET, 0);
		nla_put_u32(m, RACKPWR_A_NODE_ID, node_id(argv[1]));
	} else {
		m = rpw_nl_msg(&nl, RACKPWR_CMD_STATS_GET, NLM_F_DUMP);
	}
	err = rpw_nl_call(&nl, m, stats_cb, NULL);
	return err ? fail("stats", err) : 0;
}

static int cmd_peers(int argc, char **argv)
{
	struct nl_msg *m;
	int err;

	if (argc < 2)
		usage();
	m = rpw_nl_msg(&nl, RACKPWR_CMD_PEER_GET, NLM_F_DUMP);
	nla_put_u32(m, RACKPWR_A_PEER_NODE_ID, node_id(argv[1]));
	err = rpw_nl_call(&nl, m, peer_cb, NULL);
	return err ? fail("peers", err) : 0;
}

static int cmd_capacity(int argc, char **argv)
{
	struct nl_msg *m;
	int err;

	if (argc < 2)
		usage();
	m = rpw_nl_msg(&nl, RACKPWR_CMD_CAPACITY_GET, NLM_F_DUMP);
	nla_put_u32(m, RACKPWR_A_CAPACITY_NODE_ID, node_id(argv[1]));
	err = rpw_nl_call(&nl, m, cap_cb, NULL);
	return err ? fail("capacity", err) : 0;
}

static int cmd_send(int argc, char **argv)
{
	struct nl_msg *m;
	struct args a;
	int id, err;

	if (argc < 3)
		usage();
	id = node_id(argv[1]);
	parse_opts(argc - 2, argv + 2, &a);
	m = rpw_nl_msg(&nl, RACKPWR_CMD_FRAME_SEND, 0);
	nla_put_u32(m, RACKPWR_A_FRAME_NODE_ID, id);
	nla_put_u8(m, RACKPWR_A_FRAME_DST, num(argv[2], 0, 255, "destination"));
	nla_put_u8(m, RACKPWR_A_FRAME_TYPE, a.test ? RACKPWR_FRAME_TYPE_TEST :
		   RACKPWR_FRAME_TYPE_DATA);
	if (a.plen)
		nla_put(m, RACKPWR_A_FRAME_PAYLOAD, a.plen, a.payload);
	if (a.ack)
		nla_put_flag(m, RACKPWR_A_FRAME_ACK);
	err = rpw_nl_call(&nl, m, NULL, NULL);
	return err ? fail("send", err) : 0;
}

static int cmd_step_down(int argc, char **argv)
{
	struct nl_msg *m;
	int err;

	if (argc < 2)
		usage();
	m = rpw_nl_msg(&nl, RACKPWR_CMD_STEP_DOWN, 0);
	nla_put_u32(m, RACKPWR_A_NODE_ID, node_id(argv[1]));
	err = rpw_nl_call(&nl, m, NULL, NULL);
	return err ? fail("step-down", err) : 0;
}

/*
 * Read a key as hex digits (whitespace ignored) from @path, "-" = stdin:
 * never from the command line, which other users can read in /proc.
 * Returns the key length, or -1 with a message.
 */
static int read_key(const char *path, unsigned char *key, size_t max)
{
	char buf[512];
	size_t n = 0, len = 0, i;
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	int c, hi = -1;

	if (!f) {
		perror(path);
		return -1;
	}
	while ((c = fgetc(f)) != EOF && n < sizeof(buf))
		buf[n++] = c;
	if (f != stdin)
		fclose(f);
	for (i = 0; i < n; i++) {
		int v;

		if (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\t' ||
		    buf[i] == '\r')
			continue;
		if (buf[i] >= '0' && buf[i] <= '9')
			v = buf[i] - '0';
		else if ((buf[i] | 0x20) >= 'a' && (buf[i] | 0x20) <= 'f')
			v = (buf[i] | 0x20) - 'a' + 10;
		else
			break;
		if (hi < 0) {
			hi = v;
		} else if (len < max) {
			key[len++] = hi << 4 | v;
			hi = -1;
		} else {
			len = max + 1;
			break;
		}
	}
	explicit_bzero(buf, sizeof(buf));
	if (i < n || hi >= 0 || c != EOF || len < 16 || len > max) {
		explicit_bzero(key, max);
		fprintf(stderr, "rackpwrctl: %s: want 32..%zu hex digits\n", path,
			2 * max);
		return -1;
	}
	return len;
}

static int cmd_key(int argc, char **argv)
{
	unsigned char key[64];
	struct nl_msg *m;
	struct args a;
	int id, len = 0, err, del;

	if (argc < 3 || (strcmp(argv[1], "set") && strcmp(argv[1], "del")))
		usage();
	del = argv[1][0] == 'd';
	id = node_id(argv[2]);
	parse_opts(argc - 2, argv + 2, &a);
	if ((del && a.kid < 0) || (a.kfile && a.kid < 0))
		usage();
	if (a.kfile) {
		len = read_key(a.kfile, key, sizeof(key));
		if (len < 0)
			return 1;
	}
	m = rpw_nl_msg(&nl, del ? RACKPWR_CMD_KEY_DEL : RACKPWR_CMD_KEY_SET, 0);
	nla_put_u32(m, RACKPWR_A_NODE_ID, id);
	if (a.kid >= 0)
		nla_put_u8(m, RACKPWR_A_NODE_KEY_ID, a.kid);
	if (len) {
		nla_put(m, RACKPWR_A_NODE_KEY, len, key);
		explicit_bzero(key, sizeof(key));
	}
	if (!del && a.kuse)
		nla_put_flag(m, RACKPWR_A_NODE_KEY_USE);
	if (!del && a.kmode >= 0)
		nla_put_u32(m, RACKPWR_A_NODE_AUTH_MODE, a.kmode);
	/* rpw_nl_call() wipes the message after sending it. */
	err = rpw_nl_call(&nl, m, NULL, NULL);
	return err ? fail(del ? "key del" : "key set", err) : 0;
}

struct mon {
	int seen;
	int count;	/* stop after this many, 0 = never */
};

static int monitor_cb(const struct rpw_msg *m, const char *bad, void *arg)
{
	struct mon *mon = arg;
	unsigned int i;

	if (mon->count && mon->seen >= mon->count)
		return 0;
	if (!m) {
		fprintf(stderr, "rackpwrctl: monitor: malformed event skipped: %s\n",
			bad);
		return 0;
	}
	switch (m->cmd) {
	case RACKPWR_CMD_FRAME_RX_NTF:
		printf("frame node=%u src=%u dst=%u type=%u seq=%u payload=",
		       m->frame.node_id, m->frame.src, m->frame.dst,
		       m->frame.type, m->frame.seq);
		for (i = 0; i < m->frame.len; i++)
			printf("%02x", m->frame.payload[i]);
		putchar('\n');
		break;
	case RACKPWR_CMD_NODE_CHANGE_NTF:
		printf("node-change ");
		if (!m->node.deleted)
			print_node(&m->node);
		else
			printf("id=%u deleted\n", m->node.id);
		break;
	case RACKPWR_CMD_ELECT_NTF:
		printf("elect node=%u event=%s addr=%u epoch=%u.%u state=%s\n",
		       m->elect.node_id, NAME(eevent_names, m->elect.event),
		       m->elect.addr, m->elect.epoch >> 8, m->elect.epoch & 0xff,
		       NAME(estate_names, m->elect.state));
		break;
	case RACKPWR_CMD_CAPACITY_NTF:
		printf("capacity ");
		print_cap(&m->cap);
		break;
	case RACKPWR_CMD_BUS_EVENT_NTF:
		printf("bus-event node=%u event=%s addr=%u\n", m->bus.node_id,
		       NAME(event_names, m->bus.event), m->bus.addr);
		break;
	case RACKPWR_CMD_SLOT_NTF:
		printf("slot ");
		print_slot(&m->slot);
		break;
	case RACKPWR_CMD_POWER_REQUEST_NTF:
		printf("power-request node=%u epoch=%u chassis=%u slot=%u req_id=%u prio=%u want_mw=%u held_mw=%u\n",
		       m->power.node_id, m->power.epoch, m->power.chassis,
		       m->power.slot, m->power.req_id, m->power.prio,
		       m->power.want_mw, m->power.held_mw);
		break;
	case RACKPWR_CMD_ALLOC_NTF:
		printf("alloc event=%s ", NAME(pevent_names, m->power.event));
		if (RPW_HAS(m->power.has, RACKPWR_A_POWER_CHASSIS))
			print_entry(&m->power);
		else
			printf("node=%u epoch=%u\n", m->power.node_id,
			       m->power.epoch);
		break;
	default:
		return 0;
	}
	fflush(stdout);
	mon->seen++;
	return 0;
}

static int cmd_monitor(int argc, char **argv)
{
	struct rpw_nl ev;
	struct args a;
	time_t end;
	struct mon mon = { 0 };
	int err;

	parse_opts(argc, argv, &a);
	err = rpw_nl_open(&ev);
	if (!err)
		err = rpw_nl_subscribe(&ev, 1 << 20);
	if (!err)
		err = rpw_nl_join(&ev, RACKPWR_MCGRP_POWER);
	if (err)
		return fail("monitor", err);
	nl_socket_set_nonblocking(ev.sk);
	end = a.timeout ? time(NULL) + a.timeout : 0;
	mon.count = a.count;
	while (!a.count || mon.seen < a.count) {
		struct pollfd p = { nl_socket_get_fd(ev.sk), POLLIN, 0 };
		int left = end ? (int)(end - time(NULL)) : 1;

		if (end && left <= 0)
			break;
		if (poll(&p, 1, 1000) <= 0)
			continue;
		err = rpw_nl_recv_events(&ev, monitor_cb, &mon);
		if (err == -ENOBUFS)
			fputs("rackpwrctl: monitor: events lost (receive buffer overrun)\n",
			      stderr);
		else if (err)
			fprintf(stderr, "rackpwrctl: monitor: %s\n", ev.errmsg);
	}
	rpw_nl_close(&ev);
	return a.count && mon.seen < a.count ? 1 : 0;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int cmd_slots(int argc, char **argv)
{
	struct nl_msg *m;
	int err;

	if (argc < 2)
		usage();
	m = rpw_nl_msg(&nl, RACKPWR_CMD_SLOT_GET, argc > 2 ? 0 : NLM_F_DUMP);
	nla_put_u32(m, RACKPWR_A_SLOT_NODE_ID, node_id(argv[1]));
	if (argc > 2)
		nla_put_u8(m, RACKPWR_A_SLOT_SLOT, num(argv[2], 0, 255, "slot"));
	err = rpw_nl_call(&nl, m, slot_cb, NULL);
	return err ? fail("slots", err) : 0;
}

static int cmd_slot_set(int argc, char **argv)
{
	struct nl_msg *m;
	struct args a;
	int id, err;

	if (argc < 3)
		usage();
	id = node_id(argv[1]);
	parse_opts(argc - 2, argv + 2, &a);
	m = rpw_nl_msg(&nl, RACKPWR_CMD_SLOT_SET, 0);
	nla_put_u32(m, RACKPWR_A_SLOT_NODE_ID, id);
	nla_put_u8(m, RACKPWR_A_SLOT_SLOT, num(argv[2], 0, 255, "slot"));
	if (a.sprio >= 0)
		nla_put_u8(m, RACKPWR_A_SLOT_PRIO, a.sprio);
	if (a.power >= 0)
		nla_put_u32(m, RACKPWR_A_SLOT_POWER, a.power);
	err = rpw_nl_call(&nl, m, NULL, NULL);
	return err ? fail("slot-set", err) : 0;
}

static int cmd_alloc(int argc, char **argv)
{
	struct nl_msg *m;
	int err;

	if (argc < 2)
		usage();
	m = rpw_nl_msg(&nl, RACKPWR_CMD_ALLOC_GET, NLM_F_DUMP);
	nla_put_u32(m, RACKPWR_A_POWER_NODE_ID, node_id(argv[1]));
	err = rpw_nl_call(&nl, m, alloc_cb, NULL);
	return err ? fail("alloc", err) : 0;
}

static int power_get(struct rpw_nl *s, int id, struct rpw_dec_power *out)
{
	struct nl_msg *m = rpw_nl_msg(s, RACKPWR_CMD_POWER_GET, 0);

	nla_put_u32(m, RACKPWR_A_POWER_NODE_ID, id);
	return rpw_nl_call(s, m, power_cb, out);
}

static int cmd_power(int argc, char **argv)
{
	struct rpw_dec_power p;
	int err;

	if (argc < 2)
		usage();
	err = power_get(&nl, node_id(argv[1]), &p);
	if (err)
		return fail("power", err);
	print_power(&p);
	return 0;
}

/* decide/shed: the node's current epoch unless --epoch says otherwise. */
static struct nl_msg *power_cmd(struct rpw_nl *s, int cmd, int id,
				long epoch, long chassis, long slot)
{
	struct rpw_dec_power p;
	struct nl_msg *m;
	int err;

	if (epoch < 0) {
		err = power_get(s, id, &p);
		if (err)
			exit(fail("power-get", err));
		epoch = p.epoch;
	}
	m = rpw_nl_msg(s, cmd, 0);
	nla_put_u32(m, RACKPWR_A_POWER_NODE_ID, id);
	nla_put_u32(m, RACKPWR_A_POWER_EPOCH, epoch);
	nla_put_u8(m, RACKPWR_A_POWER_CHASSIS, chassis);
	nla_put_u8(m, RACKPWR_A_POWER_SLOT, slot);
	return m;
}

static int cmd_decide(int argc, char **argv)
{
	static const char *const verdicts[] = {
		[RACKPWR_VERDICT_GRANT] = "grant",
		[RACKPWR_VERDICT_QUEUE] = "queue",
		[RACKPWR_VERDICT_DENY] = "deny",
	};
	struct nl_msg *m;
	struct args a;
	int id, v, err;

	if (argc < 6)
		usage();
	id = node_id(argv[1]);
	v = lookup(verdicts, 4, argv[5]);
	if (v < 0)
		usage();
	parse_opts(argc - 5, argv + 5, &a);
	m = power_cmd(&nl, RACKPWR_CMD_POWER_DECIDE, id, a.epoch,
		      num(argv[2], 0, 255, "chassis"),
		      num(argv[3], 0, 255, "slot"));
	nla_put_u32(m, RACKPWR_A_POWER_REQ_ID,
		    num(argv[4], 0, 0xffffffffL, "req-id"));
	nla_put_u32(m, RACKPWR_A_POWER_VERDICT, v);
	if (a.mw >= 0)
		nla_put_u32(m, RACKPWR_A_POWER_MW, a.mw);
	if (a.reason >= 0)
		nla_put_u32(m, RACKPWR_A_POWER_REASON, a.reason);
	err = rpw_nl_call(&nl, m, NULL, NULL);
	return err ? fail("decide", err) : 0;
}

static int cmd_shed(int argc, char **argv)
{
	struct nl_msg *m;
	struct args a;
	int id, err;

	if (argc < 4)
		usage();
	id = node_id(argv[1]);
	parse_opts(argc - 3, argv + 3, &a);
	m = power_cmd(&nl, RACKPWR_CMD_POWER_SHED, id, a.epoch,
		      num(argv[2], 0, 255, "chassis"),
		      num(argv[3], 0, 255, "slot"));
	err = rpw_nl_call(&nl, m, NULL, NULL);
	return err ? fail("shed", err) : 0;
}

/*
 * The test policy holder.  Requests come unicast on the bound socket;
 * those that arrive while it waits for an answer are kept here.
 */
#define POL_MAX		256

struct pol {
	int id;
	int answered;
	unsigned int n;
	struct rpw_dec_power req[POL_MAX];
};

static int pol_stray(const struct rpw_msg *m, const char *bad, void *arg)
{
	struct pol *p = arg;

	(void)bad;
	if (m && m->cmd == RACKPWR_CMD_POWER_REQUEST_NTF && p->n < POL_MAX)
		p->req[p->n++] = m->power;
	return 0;
}

/* Pending and queued entries of a dump count as requests too (resync). */
static int pol_dump_cb(const struct rpw_msg *m, const char *bad, void *arg)
{
	struct pol *p = arg;

	(void)bad;
	if ((m->power.state == RACKPWR_ALLOC_STATE_PENDING ||
	     m->power.state == RACKPWR_ALLOC_STATE_QUEUED) && p->n < POL_MAX)
		p->req[p->n++] = m->power;
	return 0;
}

/* Grant if it fits what is left of the usable capacity, else queue. */
static void pol_answer(struct rpw_nl *s, struct pol *p,
		       const struct rpw_dec_power *r)
{
	struct rpw_dec_power now;
	struct nl_msg *m;
	int fits, err;

	if (power_get(s, p->id, &now))
		return;
	fits = now.granted_mw + r->want_mw <= now.usable_mw;
	m = power_cmd(s, RACKPWR_CMD_POWER_DECIDE, p->id, now.epoch,
		      r->chassis, r->slot);
	nla_put_u32(m, RACKPWR_A_POWER_REQ_ID, r->req_id);
	nla_put_u32(m, RACKPWR_A_POWER_VERDICT, fits ? RACKPWR_VERDICT_GRANT :
		    RACKPWR_VERDICT_QUEUE);
	if (fits)
		nla_put_u32(m, RACKPWR_A_POWER_MW, r->want_mw);
	else
		nla_put_u32(m, RACKPWR_A_POWER_REASON,
			    RACKPWR_REASON_CAPACITY);
	err = rpw_nl_call(s, m, NULL, NULL);
	printf("decide chassis=%u slot=%u req_id=%u want_mw=%u verdict=%s err=%d%s%s\n",
	       r->chassis, r->slot, r->req_id, r->want_mw,
	       fits ? "grant" : "queue", err, s->errmsg[0] ? " " : "",
	       s->errmsg);
	fflush(stdout);
	p->answered++;
}

static void pol_drain(struct rpw_nl *s, struct pol *p)
{
	struct rpw_dec_power r;

	while (p->n) {
		r = p->req[0];
		memmove(p->req, p->req + 1, --p->n * sizeof(p->req[0]));
		/* A queued entry stays queued until capacity frees up. */
		pol_answer(s, p, &r);
	}
}

static int cmd_policy(int argc, char **argv)
{
	static struct pol p;
	struct rpw_dec_power b;
	struct rpw_nl s;
	struct nl_msg *m;
	struct args a;
	time_t end;
	int err;

	if (argc < 2)
		usage();
	p.id = node_id(argv[1]);
	parse_opts(argc - 1, argv + 1, &a);
	if (!a.fits)
		usage();
	err = rpw_nl_open(&s);
	if (err)
		return fail("policy: open", err);
	s.stray = pol_stray;
	s.stray_arg = &p;
	m = rpw_nl_msg(&s, RACKPWR_CMD_POLICY_BIND, 0);
	nla_put_u32(m, RACKPWR_A_POWER_NODE_ID, p.id);
	err = rpw_nl_call(&s, m, power_cb, &b);
	if (err) {
		memcpy(nl.errmsg, s.errmsg, sizeof(nl.errmsg));
		return fail("policy-bind", err);
	}
	printf("bound node=%d epoch=%u acting=%d\n", p.id, b.epoch, b.acting);
	fflush(stdout);
	/* Resync: whatever waits for a decision now. */
	m = rpw_nl_msg(&s, RACKPWR_CMD_ALLOC_GET, NLM_F_DUMP);
	nla_put_u32(m, RACKPWR_A_POWER_NODE_ID, p.id);
	err = rpw_nl_call(&s, m, pol_dump_cb, &p);
	if (err) {
		memcpy(nl.errmsg, s.errmsg, sizeof(nl.errmsg));
		return fail("policy: alloc dump", err);
	}
	nl_socket_set_nonblocking(s.sk);
	end = a.timeout ? time(NULL) + a.timeout : 0;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!stop && (!a.count || p.answered < a.count)) {
		struct pollfd pfd = { nl_socket_get_fd(s.sk), POLLIN, 0 };

		pol_drain(&s, &p);
		if (end && time(NULL) >= end)
			break;
		if (poll(&pfd, 1, 200) > 0 &&
		    rpw_nl_recv_events(&s, pol_stray, &p) == -ENOBUFS)
			fputs("rackpwrctl: policy: requests lost, resync by dump\n",
			      stderr);
	}
	rpw_nl_close(&s);
	return 0;
}

/*
 * Attach the line discipline to a tty and hold it open (the node lives as
 * long as the tty stays open), like ldattach and slcand.
 */
static int cmd_attach(int argc, char **argv)
{
	const char *tty;
	struct termios t;
	struct nl_msg *m;
	struct args a;
	int fd, id, err;

	if (argc < 2)
		usage();
	tty = argv[1];
	parse_opts(argc - 1, argv + 1, &a);
	fd = open(tty, O_RDWR | O_NOCTTY);
	if (fd < 0) {
		perror(tty);
		return 1;
	}
	if (tcgetattr(fd, &t) == 0) {
		static const struct { long baud; speed_t sp; } speeds[] = {
			{ 9600, B9600 }, { 19200, B19200 }, { 38400, B38400 },
			{ 57600, B57600 }, { 115200, B115200 },
			{ 230400, B230400 }, { 460800, B460800 },
			{ 921600, B921600 },
		};
		long want = a.baud < 0 ? 115200 : a.baud;
		unsigned int i;

		for (i = 0; i < sizeof(speeds) / sizeof(speeds[0]); i++)
			if (speeds[i].baud == want)
				break;
		if (i == sizeof(speeds) / sizeof(speeds[0])) {
			fprintf(stderr, "rackpwrctl: unsupported line rate %ld\n",
				want);
			return 1;
		}
		cfmakeraw(&t);
		t.c_cflag |= CLOCAL | CREAD;
		cfsetspeed(&t, speeds[i].sp);
		if (tcsetattr(fd, TCSANOW, &t)) {
			perror("tcsetattr");
			return 1;
		}
	}
	if (a.rs485) {
		struct serial_rs485 rs = { 0 };

		/* Drive DE with RTS and hear our own echo (collision check). */
		rs.flags = SER_RS485_ENABLED | SER_RS485_RTS_ON_SEND |
			   SER_RS485_RX_DURING_TX;
		if (ioctl(fd, TIOCSRS485, &rs) < 0) {
			perror("TIOCSRS485 (UART without RS-485 support?)");
			return 1;
		}
	}
	if (ioctl(fd, TIOCSETD, &a.ldisc) < 0) {
		perror("TIOCSETD (is the rackpwr module loaded?)");
		return 1;
	}
	id = rpw_nl_node_lookup(&nl, strrchr(tty, '/') ?
				strrchr(tty, '/') + 1 : tty);
	if (id < 0)
		return fail("attach: node not found", id);
	if (a.addr >= 0) {
		m = rpw_nl_msg(&nl, RACKPWR_CMD_NODE_SET, 0);
		nla_put_u32(m, RACKPWR_A_NODE_ID, id);
		put_cfg(m, &a);
		err = rpw_nl_call(&nl, m, NULL, NULL);
		if (err)
			return fail("attach: configure", err);
	}
	printf("attached id=%d tty=%s\n", id, tty);
	fflush(stdout);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!stop)
		pause();
	close(fd);
	return 0;
}

/* ---- why and mode: rackpwrd's state directory --------------------- */

#define STATE_DIR	"/run/rackpwrd"	/* rackpwrd --state-dir's default */

/*
 * One "key": value of a line of rackpwrd's state file (which writes every
 * slot's object on a line of its own): a string's text or a scalar.
 */
static bool jfield(const char *line, const char *key, char *out, size_t len)
{
	char pat[48];
	const char *p;
	size_t n = 0;

	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	p = strstr(line, pat);
	if (!p || !len)
		return false;
	p += strlen(pat);
	if (*p == '"') {
		for (p++; *p && *p != '"' && n + 1 < len; p++) {
			if (*p == '\\' && p[1])
				p++;
			out[n++] = *p;
		}
	} else {
		while (*p && !strchr(",} \n", *p) && n + 1 < len)
			out[n++] = *p++;
	}
	out[n] = 0;
	return true;
}

struct why_hit {
	char line[2048];
	char file[300];
	bool acting;
	long long at;
	unsigned int node;
	char epoch[32];
};

/* Look for the slot's line in one state file. */
static void why_file(const char *path, const char *want, struct why_hit *best)
{
	char line[2048], v[32], epoch[32] = "?";
	FILE *f = fopen(path, "r");
	bool acting = false;
	unsigned int node = 0;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (jfield(line, "acting", v, sizeof(v)))
			acting = !strcmp(v, "true");
		if (jfield(line, "node", v, sizeof(v)) && !strstr(line, want))
			node = (unsigned int)strtoul(v, NULL, 10);
		if (jfield(line, "epoch", v, sizeof(v)))
			snprintf(epoch, sizeof(epoch), "%s", v);
		if (!strstr(line, want) || !jfield(line, "at_ms", v, sizeof(v)))
			continue;
		/* The acting primary's word first, then the latest. */
		if (best->line[0] && (best->acting > acting ||
				      (best->acting == acting &&
				       best->at >= atoll(v))))
			continue;
		snprintf(best->line, sizeof(best->line), "%s", line);
		snprintf(best->file, sizeof(best->file), "%s", path);
		snprintf(best->epoch, sizeof(best->epoch), "%s", epoch);
		best->acting = acting;
		best->at = atoll(v);
		best->node = node;
	}
	fclose(f);
}

/* why CHASSIS/SLOT [--node ID] [--state-dir DIR] [-j] */
static int cmd_why(int argc, char **argv)
{
	static const char *const keys[] = { "verdict", "mw", "reason",
		"state", "prio", "held_mw", "at_ms" };
	const char *dir = STATE_DIR, *node = NULL;
	static struct why_hit hit;
	char want[64], path[300], v[512];
	unsigned long chassis, slot;
	bool json = false;
	struct dirent *d;
	char *end;
	int i;
	DIR *dd;

	if (argc < 2)
		usage();
	chassis = strtoul(argv[1], &end, 10);
	if (*end != '/' || !chassis || chassis > 254)
		usage();
	slot = strtoul(end + 1, &end, 10);
	if (*end || slot > 7)
		usage();
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "-j"))
			json = true;
		else if (!strcmp(argv[i], "--node") && i + 1 < argc)
			node = argv[++i];
		else if (!strcmp(argv[i], "--state-dir") && i + 1 < argc)
			dir = argv[++i];
		else
			usage();
	}
	snprintf(want, sizeof(want), "{ \"chassis\": %lu, \"slot\": %lu,",
		 chassis, slot);
	if (node) {
		snprintf(path, sizeof(path), "%s/node-%s.json", dir, node);
		why_file(path, want, &hit);
	} else if ((dd = opendir(dir))) {
		while ((d = readdir(dd))) {
			size_t n = strlen(d->d_name);

			if (strncmp(d->d_name, "node-", 5) || n < 6 ||
			    strcmp(d->d_name + n - 5, ".json"))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
			why_file(path, want, &hit);
		}
		closedir(dd);
	} else {
		fprintf(stderr, "rackpwrctl: why: %s: %s (is rackpwrd running?)\n",
			dir, strerror(errno));
		return 1;
	}
	if (!hit.line[0]) {
		fprintf(stderr, "rackpwrctl: why: no decision recorded for chassis %lu slot %lu in %s\n",
			chassis, slot, node ? path : dir);
		return 1;
	}
	if (json) {
		hit.line[strcspn(hit.line, "\n")] = 0;
		end = hit.line + strspn(hit.line, " ");
		printf("%.*s\n", (int)(strlen(end) - (end[strlen(end) - 1] == ',')),
		       end);
		return 0;
	}
	printf("chassis=%lu slot=%lu", chassis, slot);
	for (i = 0; i < 7; i++)
		if (jfield(hit.line, keys[i], v, sizeof(v)))
			printf(" %s=%s", keys[i], v);
	printf(" node=%u acting=%d epoch=%s\n", hit.node, hit.acting,
	       hit.epoch);
	if (jfield(hit.line, "text", v, sizeof(v)))
		printf("  %s\n", v);
	return 0;
}

/* The "mode" the agent's state file shows, or "". */
static void state_mode(const char *path, char *mode, size_t len)
{
	char line[512];
	FILE *f = fopen(path, "r");

	mode[0] = 0;
	while (f && fgets(line, sizeof(line), f))
		if (jfield(line, "mode", mode, len))
			break;
	if (f)
		fclose(f);
}

/*
 * mode NODE MODE: the runtime override rackpwrd reads after its
 * configuration file (DIR/node-ID.mode), then SIGHUP to the agent
 * (DIR/node-ID.pid) and wait until its state file shows the mode.
 * "default" removes the override.  Root only: DIR is root's.
 */
static int cmd_mode(int argc, char **argv)
{
	const char *dir = STATE_DIR, *mode;
	char path[300], pidf[300], state[300], now[16];
	bool dflt;
	FILE *f;
	long pid = 0;
	int i;

	if (argc < 3)
		usage();
	mode = argv[2];
	dflt = !strcmp(mode, "default");
	for (i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--state-dir") && i + 1 < argc)
			dir = argv[++i];
		else
			usage();
	}
	if (strspn(argv[1], "0123456789") != strlen(argv[1]) || !argv[1][0]) {
		fprintf(stderr, "rackpwrctl: mode: NODE is the node's id (its state file's name)\n");
		return 1;
	}
	if (!dflt && rpwc_mode_parse(mode) < 0) {
		fprintf(stderr, "rackpwrctl: mode: '%s' is not n+n, n+1, none or default\n",
			mode);
		return 1;
	}
	if (geteuid()) {
		fprintf(stderr, "rackpwrctl: mode: only root may change the policy (it writes %s)\n",
			dir);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/node-%s.mode", dir, argv[1]);
	snprintf(pidf, sizeof(pidf), "%s/node-%s.pid", dir, argv[1]);
	snprintf(state, sizeof(state), "%s/node-%s.json", dir, argv[1]);
	if (dflt) {
		if (unlink(path) && errno != ENOENT) {
			perror(path);
			return 1;
		}
	} else {
		f = fopen(path, "w");
		if (!f || fprintf(f, "%s\n", rpwc_mode_name(rpwc_mode_parse(mode))) < 0 ||
		    fclose(f)) {
			perror(path);
			return 1;
		}
	}
	f = fopen(pidf, "r");
	if (!f || fscanf(f, "%ld", &pid) != 1 || pid <= 0 ||
	    kill((pid_t)pid, SIGHUP)) {
		fprintf(stderr, "rackpwrctl: mode: no running agent for node %s (%s): it applies when rackpwrd starts\n",
			argv[1], pidf);
		if (f)
			fclose(f);
		return 1;
	}
	fclose(f);
	/* A mode that does not change the state file's is not waited for. */
	for (i = 0; i < 50; i++) {
		state_mode(state, now, sizeof(now));
		if (!dflt && !strcmp(now, rpwc_mode_name(rpwc_mode_parse(mode))))
			break;
		if (dflt && i >= 5)
			break;
		usleep(100000);
	}
	state_mode(state, now, sizeof(now));
	printf("node=%s mode=%s\n", argv[1], now[0] ? now : "?");
	if (!dflt && strcmp(now, rpwc_mode_name(rpwc_mode_parse(mode)))) {
		fprintf(stderr, "rackpwrctl: mode: the agent did not apply it (see its log)\n");
		return 1;
	}
	return 0;
}

/*
 * Operator commands: status, events, plan and the admin shorthands.  They
 * share one option parser (-j for JSON), read the kernel by dumps and the
 * agent's state file (POLICY.md) when it exists.
 */
#define CTL_STATE_DIR	"/run/rackpwrd"
#define CTL_MAX_FAIL	64

struct ctl_opts {
	bool json;
	const char *state_dir;
	const char *mode;		/* --mode, NULL: the agent's */
	int count, timeout;
	const char *fail[CTL_MAX_FAIL];	/* plan --fail SUPPLY... */
	int nfail;
	char *pos[4];			/* positional arguments */
	int npos;
};

static const struct option ctl_longopts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "state-dir", required_argument, NULL, 'S' },
	{ "mode", required_argument, NULL, 'M' },
	{ "count", required_argument, NULL, 'c' },
	{ "timeout", required_argument, NULL, 't' },
	{ "fail", required_argument, NULL, 'F' },
	{ NULL, 0, NULL, 0 },
};

/* -j may also come before the command: rackpwrctl -j status. */
static bool ctl_json_first;

static void ctl_parse(int argc, char **argv, struct ctl_opts *o)
{
	bool after_fail = false;
	int c;

	memset(o, 0, sizeof(*o));
	o->json = ctl_json_first;
	o->state_dir = CTL_STATE_DIR;
	optind = 1;
	/* '-' keeps positional arguments in order: plan --fail 1:0 1:3. */
	while ((c = getopt_long(argc, argv, "-j", ctl_longopts, NULL)) != -1) {
		switch (c) {
		case 'j': o->json = true; break;
		case 'S': o->state_dir = optarg; break;
		case 'M':
			if (strcmp(optarg, "n+n") && strcmp(optarg, "n+1") &&
			    strcmp(optarg, "none")) {
				fprintf(stderr, "rackpwrctl: bad mode '%s' (n+n, n+1, none)\n",
					optarg);
				exit(2);
			}
			o->mode = optarg;
			break;
		case 'c': o->count = num(optarg, 0, 1000000, "count"); break;
		case 't': o->timeout = num(optarg, 0, 86400, "timeout"); break;
		case 'F':
		case 1:
			if (c == 1 && !after_fail) {
				if (o->npos >= (int)(sizeof(o->pos) / sizeof(o->pos[0])))
					usage();
				o->pos[o->npos++] = optarg;
				break;
			}
			after_fail = true;
			if (o->nfail >= CTL_MAX_FAIL) {
				fprintf(stderr, "rackpwrctl: at most %d --fail supplies\n",
					CTL_MAX_FAIL);
				exit(2);
			}
			o->fail[o->nfail++] = optarg;
			break;
		default: usage();
		}
	}
}

/*
 * An error for people (stderr, exit 1) or, with -j, also one JSON object
 * on stdout: {"error": WHAT, "errno": N, "message": strerror, "extack": TEXT}.
 */
static int ctl_fail(const struct ctl_opts *o, const char *what, int err)
{
	if (o->json) {
		printf("{\"error\":");
		cj_put_str(stdout, what);
		printf(",\"errno\":%d,\"message\":", -err);
		cj_put_str(stdout, strerror(-err));
		printf(",\"extack\":");
		cj_put_str(stdout, nl.errmsg);
		printf("}\n");
	}
	return fail(what, err);
}

/* A refusal of rackpwrctl's own (no errno): stderr, and JSON with -j. */
static int ctl_refuse(const struct ctl_opts *o, const char *what,
		      const char *msg)
{
	if (o->json) {
		printf("{\"error\":");
		cj_put_str(stdout, what);
		printf(",\"message\":");
		cj_put_str(stdout, msg);
		printf("}\n");
	}
	fprintf(stderr, "rackpwrctl: %s: %s\n", what, msg);
	return 1;
}

static void ctl_watts(char *buf, size_t len, uint64_t mw)
{
	snprintf(buf, len, "%llu.%llu", (unsigned long long)(mw / 1000),
		 (unsigned long long)(mw % 1000 / 100));
}

/* Everything status and plan read, one snapshot. */
#define CTL_MAX_NODES	64

struct ctl_chassis {
	int node;			/* index into nodes[] */
	struct rpw_dec_slot *slot;
	int nslot;
	int err;			/* slot dump's error */
	char errmsg[256];
};

struct ctl_queue_ent {
	uint64_t chassis, slot, prio, want_mw, since_ms;
};

struct ctl_peer {
	uint64_t addr;
	char digest[24];
	bool match;
};

/* What the agent's state file says (POLICY.md), when it is there. */
struct ctl_agent {
	bool have;
	char path[512];
	char why[160];			/* why it is absent or unreadable */
	uint64_t node, epoch, updated_ms;
	bool acting;
	char mode[16], digest[24], config[256];
	bool have_budget;
	uint64_t rail_a_mw, rail_b_mw, usable_mw, budget_mw, granted_mw;
	uint64_t headroom_mw;
	struct ctl_queue_ent *queue;
	int nqueue;
	struct ctl_queue_ent *shed;	/* shedding: chassis, slot, since_ms */
	int nshed;
	struct ctl_peer *peer;
	int npeer;
	/* slots[] entries that carry the priority the agent uses: prio */
	struct ctl_queue_ent *sprio;
	int nsprio;
};

struct ctl_snap {
	struct rpw_dec_node node[CTL_MAX_NODES];
	int nnode;
	int target;			/* index of the psu node viewed, -1 */
	bool have_power;
	struct rpw_dec_power power;
	int power_err;
	char power_errmsg[256];
	struct rpw_dec_cap *cap;
	int ncap;
	int cap_err;
	char cap_errmsg[256];
	struct rpw_dec_power *ent;
	int nent;
	int ent_err;
	char ent_errmsg[256];
	struct ctl_chassis chassis[CTL_MAX_NODES];
	int nchassis;
	struct ctl_agent agent;
	/* The budget: the agent's, else the policy's from the kernel dumps. */
	bool have_budget;
	const char *budget_src;		/* "agent" or "computed" */
	char budget_mode[16];
	uint64_t rail_a_mw, rail_b_mw, usable_mw, budget_mw, granted_mw;
	uint64_t headroom_mw;
};

static void *ctl_grow(void *p, int n, size_t sz)
{
	/* Double at powers of two (n entries in use, one more wanted). */
	if (n & (n - 1) && n)
		return p;
	p = realloc(p, (n ? 2 * n : 1) * sz);
	if (!p) {
		fputs("rackpwrctl: out of memory\n", stderr);
		exit(1);
	}
	return p;
}

static int ctl_node_cb(const struct rpw_msg *m, const char *bad, void *arg)
{
	struct ctl_snap *s = arg;

	(void)bad;
	if (s->nnode < CTL_MAX_NODES)
		s->node[s->nnode++] = m->node;
	return 0;
}

static int ctl_cap_cb(const struct rpw_msg *m, const char *bad, void *arg)
{
	struct ctl_snap *s = arg;

	(void)bad;
	s->cap = ctl_grow(s->cap, s->ncap, sizeof(*s->cap));
	s->cap[s->ncap++] = m->cap;
	return 0;
}

static int ctl_ent_cb(const struct rpw_msg *m, const char *bad, void *arg)
{
	struct ctl_snap *s = arg;

	(void)bad;
	s->ent = ctl_grow(s->ent, s->nent, sizeof(*s->ent));
	s->ent[s->nent++] = m->power;
	return 0;
}

static int ctl_slot_cb(const struct rpw_msg *m, const char *bad, void *arg)
{
	struct ctl_chassis *c = arg;

	(void)bad;
	c->slot = ctl_grow(c->slot, c->nslot, sizeof(*c->slot));
	c->slot[c->nslot++] = m->slot;
	return 0;
}

/* One dump of @cmd on node @id; the error's extack kept in @msg. */
static int ctl_dump(int cmd, int attr, uint32_t id, rpw_nl_cb cb, void *arg,
		    char *msg, size_t len)
{
	struct nl_msg *m = rpw_nl_msg(&nl, cmd, NLM_F_DUMP);
	int err;

	nla_put_u32(m, attr, id);
	err = rpw_nl_call(&nl, m, cb, arg);
	snprintf(msg, len, "%s", err ? nl.errmsg : "");
	return err;
}

static bool ctl_is_psu(const struct rpw_dec_node *n)
{
	return RPW_HAS(n->has, RACKPWR_A_NODE_ROLE) &&
	       n->role == RACKPWR_ROLE_PSU;
}

static bool ctl_is_chassis(const struct rpw_dec_node *n)
{
	return RPW_HAS(n->has, RACKPWR_A_NODE_ROLE) &&
	       n->role == RACKPWR_ROLE_CHASSIS;
}

static bool ctl_is_primary(const struct rpw_dec_node *n)
{
	return RPW_HAS(n->has, RACKPWR_A_NODE_ELECT_STATE) &&
	       n->elect_state == RACKPWR_ELECT_STATE_PRIMARY;
}

/*
 * The power-supply node to view: @want (id or name) if given, else the
 * acting primary among this kernel's nodes, else any primary, else the
 * first power-supply node; -1 when there is none.
 */
static int ctl_pick(const struct ctl_snap *s, const char *want)
{
	int i, best = -1;

	if (want) {
		int id = node_id(want);

		for (i = 0; i < s->nnode; i++)
			if ((int)s->node[i].id == id)
				return i;
		return -1;
	}
	for (i = 0; i < s->nnode; i++) {
		const struct rpw_dec_node *n = &s->node[i];

		if (!ctl_is_psu(n))
			continue;
		if (ctl_is_primary(n) && n->acting)
			return i;
		if (best < 0 || (ctl_is_primary(n) &&
				 !ctl_is_primary(&s->node[best])))
			best = i;
	}
	return best;
}

static void ctl_agent_arr(struct cj_doc *d, int arr, struct ctl_queue_ent **out,
			  int *n, bool queue)
{
	int i, e;

	for (i = 0; (e = cj_at(d, arr, i)) >= 0; i++) {
		struct ctl_queue_ent q = { 0 };

		cj_u64(d, cj_get(d, e, "chassis"), &q.chassis);
		cj_u64(d, cj_get(d, e, "slot"), &q.slot);
		cj_u64(d, cj_get(d, e, "since_ms"), &q.since_ms);
		if (queue) {
			cj_u64(d, cj_get(d, e, "prio"), &q.prio);
			cj_u64(d, cj_get(d, e, "want_mw"), &q.want_mw);
		}
		*out = ctl_grow(*out, *n, sizeof(**out));
		(*out)[(*n)++] = q;
	}
}

static void ctl_agent_parse(struct ctl_agent *a, struct cj_doc *d)
{
	static const struct { const char *k; size_t off; } budget[] = {
		{ "rail_a_mw", offsetof(struct ctl_agent, rail_a_mw) },
		{ "rail_b_mw", offsetof(struct ctl_agent, rail_b_mw) },
		{ "usable_mw", offsetof(struct ctl_agent, usable_mw) },
		{ "budget_mw", offsetof(struct ctl_agent, budget_mw) },
		{ "granted_mw", offsetof(struct ctl_agent, granted_mw) },
		{ "headroom_mw", offsetof(struct ctl_agent, headroom_mw) },
	};
	unsigned int k;
	int b, i, e;

	cj_u64(d, cj_get(d, 0, "node"), &a->node);
	cj_u64(d, cj_get(d, 0, "epoch"), &a->epoch);
	cj_u64(d, cj_get(d, 0, "updated_ms"), &a->updated_ms);
	cj_bool(d, cj_get(d, 0, "acting"), &a->acting);
	cj_str(d, cj_get(d, 0, "mode"), a->mode, sizeof(a->mode));
	cj_str(d, cj_get(d, 0, "digest"), a->digest, sizeof(a->digest));
	cj_str(d, cj_get(d, 0, "config"), a->config, sizeof(a->config));
	b = cj_get(d, 0, "budget");
	a->have_budget = b >= 0;
	for (k = 0; k < sizeof(budget) / sizeof(budget[0]); k++)
		cj_u64(d, cj_get(d, b, budget[k].k),
		       (uint64_t *)((char *)a + budget[k].off));
	ctl_agent_arr(d, cj_get(d, 0, "queue"), &a->queue, &a->nqueue, true);
	ctl_agent_arr(d, cj_get(d, 0, "shedding"), &a->shed, &a->nshed, false);
	/* rackpwrd writes each slot's effective priority (its overrides). */
	for (i = 0; (e = cj_at(d, cj_get(d, 0, "slots"), i)) >= 0; i++) {
		struct ctl_queue_ent q = { 0 };

		if (!cj_u64(d, cj_get(d, e, "prio"), &q.prio) ||
		    !cj_u64(d, cj_get(d, e, "chassis"), &q.chassis) ||
		    !cj_u64(d, cj_get(d, e, "slot"), &q.slot))
			continue;
		a->sprio = ctl_grow(a->sprio, a->nsprio, sizeof(*a->sprio));
		a->sprio[a->nsprio++] = q;
	}
	for (i = 0; (e = cj_at(d, cj_get(d, 0, "peers"), i)) >= 0; i++) {
		struct ctl_peer p = { .match = true };

		cj_u64(d, cj_get(d, e, "addr"), &p.addr);
		cj_str(d, cj_get(d, e, "digest"), p.digest, sizeof(p.digest));
		cj_bool(d, cj_get(d, e, "match"), &p.match);
		a->peer = ctl_grow(a->peer, a->npeer, sizeof(*a->peer));
		a->peer[a->npeer++] = p;
	}
}

/* Read DIR/node-ID.json; a missing or bad file is said in a->why. */
static void ctl_agent_read(struct ctl_agent *a, const char *dir, uint32_t id)
{
	static char buf[1 << 20];
	struct cj_tok *tok;
	struct cj_doc d;
	const char *why;
	size_t len, at;
	FILE *f;

	snprintf(a->path, sizeof(a->path), "%s/node-%u.json", dir, id);
	f = fopen(a->path, "r");
	if (!f) {
		snprintf(a->why, sizeof(a->why), "%s", strerror(errno));
		return;
	}
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (len == sizeof(buf)) {
		snprintf(a->why, sizeof(a->why), "larger than %zu bytes", len);
		return;
	}
	tok = calloc(len + 1, sizeof(*tok));
	if (!tok) {
		snprintf(a->why, sizeof(a->why), "out of memory");
		return;
	}
	if (cj_parse(&d, buf, len, tok, len + 1, &at, &why)) {
		snprintf(a->why, sizeof(a->why), "bad JSON: %s at byte %zu",
			 why, at);
	} else if (d.t[0].type != CJ_OBJ) {
		snprintf(a->why, sizeof(a->why), "not a JSON object");
	} else {
		ctl_agent_parse(a, &d);
		a->have = true;
	}
	free(tok);
}

static void ctl_snap_take(struct ctl_snap *s, const struct ctl_opts *o,
			  const char *want)
{
	struct nl_msg *m;
	int i, err;

	memset(s, 0, sizeof(*s));
	m = rpw_nl_msg(&nl, RACKPWR_CMD_NODE_GET, NLM_F_DUMP);
	err = rpw_nl_call(&nl, m, ctl_node_cb, s);
	if (err)
		exit(ctl_fail(o, "status: node dump", err));
	s->target = ctl_pick(s, want);
	if (want && (s->target < 0 || !ctl_is_psu(&s->node[s->target])) &&
	    (s->target < 0 || !ctl_is_chassis(&s->node[s->target]))) {
		fprintf(stderr, "rackpwrctl: node '%s' has no role\n", want);
		exit(1);
	}
	for (i = 0; i < s->nnode; i++) {
		struct ctl_chassis *c = &s->chassis[s->nchassis];

		if (!ctl_is_chassis(&s->node[i]) ||
		    (want && i != s->target))
			continue;
		c->node = i;
		c->err = ctl_dump(RACKPWR_CMD_SLOT_GET, RACKPWR_A_SLOT_NODE_ID,
				  s->node[i].id, ctl_slot_cb, c, c->errmsg,
				  sizeof(c->errmsg));
		s->nchassis++;
	}
	if (s->target >= 0 && !ctl_is_psu(&s->node[s->target]))
		s->target = -1;	/* a chassis node asked for: no rack view */
	if (s->target < 0)
		return;
	i = s->node[s->target].id;
	m = rpw_nl_msg(&nl, RACKPWR_CMD_POWER_GET, 0);
	nla_put_u32(m, RACKPWR_A_POWER_NODE_ID, i);
	s->power_err = rpw_nl_call(&nl, m, power_cb, &s->power);
	s->have_power = !s->power_err;
	snprintf(s->power_errmsg, sizeof(s->power_errmsg), "%s", nl.errmsg);
	s->cap_err = ctl_dump(RACKPWR_CMD_CAPACITY_GET,
			      RACKPWR_A_CAPACITY_NODE_ID, i, ctl_cap_cb, s,
			      s->cap_errmsg, sizeof(s->cap_errmsg));
	s->ent_err = ctl_dump(RACKPWR_CMD_ALLOC_GET, RACKPWR_A_POWER_NODE_ID,
			      i, ctl_ent_cb, s, s->ent_errmsg,
			      sizeof(s->ent_errmsg));
	ctl_agent_read(&s->agent, o->state_dir, i);
}

/* The mode in force: --mode, else the agent's, else the default N+N. */
static const char *ctl_mode(const struct ctl_snap *s, const struct ctl_opts *o,
			    const char **src)
{
	if (o->mode) {
		*src = "option";
		return o->mode;
	}
	if (s->agent.have && s->agent.mode[0]) {
		*src = "agent";
		return s->agent.mode;
	}
	*src = "default";
	return "n+n";
}

static uint64_t ctl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waiting entries in grant order: priority (higher first), then age. */
static int ctl_wait_cmp(const void *a, const void *b)
{
	const struct rpw_dec_power *x = a, *y = b;

	if (x->prio != y->prio)
		return x->prio > y->prio ? -1 : 1;
	if (x->age_ms != y->age_ms)
		return x->age_ms > y->age_ms ? -1 : 1;
	return x->chassis != y->chassis ? x->chassis - y->chassis :
	       x->slot - y->slot;
}

/*
 * The queue: the agent's when its state file is there (it knows the
 * arrival order), else the kernel's waiting entries in grant order.
 */
static int ctl_kernel_queue(const struct ctl_snap *s,
			    struct rpw_dec_power **out)
{
	int i, n = 0;

	*out = calloc(s->nent + 1, sizeof(**out));
	if (!*out)
		exit(1);
	for (i = 0; i < s->nent; i++)
		if (s->ent[i].state == RACKPWR_ALLOC_STATE_PENDING ||
		    s->ent[i].state == RACKPWR_ALLOC_STATE_QUEUED)
			(*out)[n++] = s->ent[i];
	qsort(*out, n, sizeof(**out), ctl_wait_cmp);
	return n;
}

static void ctl_epoch(char *buf, size_t len, uint32_t e)
{
	snprintf(buf, len, "%u.%u", e >> 8, e & 0xff);
}

/* "ok ok --": one mark per supply of a bank: ok, !! (failed), -- (absent). */
static void ctl_bank(char *buf, const struct rpw_dec_cap *c, int first)
{
	int i;

	buf[0] = '\0';
	for (i = first; i < first + 3; i++)
		strcat(buf, !(c->present & 1u << i) ? "-- " :
		       c->healthy & 1u << i ? "ok " : "!! ");
	buf[8] = '\0';
}

static void ctl_text_head(const struct ctl_snap *s)
{
	const struct rpw_dec_node *n = &s->node[s->target];
	char e[24];

	ctl_epoch(e, sizeof(e), n->epoch);
	printf("node %u (%s) addr %u: %s%s, primary addr %u, epoch %s\n",
	       n->id, n->name, n->addr, NAME(estate_names, n->elect_state),
	       ctl_is_primary(n) && n->acting ? " (acting)" : "", n->primary,
	       e);
	if (!ctl_is_primary(n))
		printf("  NOT the primary: ask the primary (addr %u) for the rack\n",
		       n->primary);
	if (s->have_power)
		printf("  holder %s%s\n  pending %u, refused by the kernel's limit %llu\n",
		       s->power.bound ? "bound" : "NOT bound (fail-safe)",
		       s->power.recovering ? ", recovering after failover" : "",
		       s->power.pending,
		       (unsigned long long)s->power.refused_invariant);
	else
		printf("  power-get: %s%s%s\n", strerror(-s->power_err),
		       s->power_errmsg[0] ? ": " : "", s->power_errmsg);
}

static void ctl_text_agent(const struct ctl_snap *s, const struct ctl_opts *o)
{
	const struct ctl_agent *a = &s->agent;
	const char *src, *mode = ctl_mode(s, o, &src);
	int i;

	if (!a->have) {
		printf("agent: no state: %s: %s\n  mode %s (%s)\n", a->path,
		       a->why, mode, src);
		return;
	}
	printf("agent: mode %s (%s), digest %s, state %llu s old%s\n", mode, src,
	       a->digest[0] ? a->digest : "-",
	       (unsigned long long)((ctl_now_ms() - a->updated_ms) / 1000),
	       a->acting ? "" : ", not acting");
	for (i = 0; i < a->npeer; i++)
		if (!a->peer[i].match)
			printf("  POLICY MISMATCH: addr %llu runs %s, this module %s\n",
			       (unsigned long long)a->peer[i].addr,
			       a->peer[i].digest, a->digest);
}

static void ctl_text_caps(const struct ctl_snap *s)
{
	char a[12], b[12], wa[24], wb[24];
	int i;

	if (s->cap_err) {
		printf("capacity-get: %s%s%s\n", strerror(-s->cap_err),
		       s->cap_errmsg[0] ? ": " : "", s->cap_errmsg);
		return;
	}
	printf("\nASSEMBLY  BANK A    BANK B     BANK A W   BANK B W   AGE ms  NOTE\n");
	for (i = 0; i < s->ncap; i++) {
		const struct rpw_dec_cap *c = &s->cap[i];

		ctl_bank(a, c, 0);
		ctl_bank(b, c, 3);
		ctl_watts(wa, sizeof(wa), c->bank_a_mw);
		ctl_watts(wb, sizeof(wb), c->bank_b_mw);
		printf("%8u  %-8s  %-8s  %9s  %9s  %7u  %s%s\n", c->addr, a, b,
		       wa, wb, c->age_ms, c->local ? "local" : "",
		       c->lost ? " LOST" : "");
	}
}

static void ctl_text_budget(const struct ctl_snap *s)
{
	char w[6][24];

	if (s->have_power) {
		ctl_watts(w[0], sizeof(w[0]), s->power.usable_mw);
		ctl_watts(w[1], sizeof(w[1]), s->power.granted_mw);
		printf("\nkernel: usable %s W (both banks), granted %s W\n",
		       w[0], w[1]);
	}
	if (!s->have_budget)
		return;
	ctl_watts(w[0], sizeof(w[0]), s->rail_a_mw);
	ctl_watts(w[1], sizeof(w[1]), s->rail_b_mw);
	ctl_watts(w[2], sizeof(w[2]), s->usable_mw);
	ctl_watts(w[3], sizeof(w[3]), s->budget_mw);
	ctl_watts(w[4], sizeof(w[4]), s->granted_mw);
	ctl_watts(w[5], sizeof(w[5]), s->headroom_mw);
	printf("budget (%s, %s): rail A %s W, rail B %s W, usable %s W\n",
	       s->budget_mode, s->budget_src, w[0], w[1], w[2]);
	printf("  budget %s W, granted %s W, headroom %s W\n", w[3], w[4], w[5]);
}

static void ctl_text_alloc(const struct ctl_snap *s)
{
	char want[24], held[24];
	int i;

	if (s->ent_err) {
		printf("alloc-get: %s%s%s\n", strerror(-s->ent_err),
		       s->ent_errmsg[0] ? ": " : "", s->ent_errmsg);
		return;
	}
	printf("\nCHASSIS  SLOT  STATE     PRIO    WANT W    HELD W      REQ_ID  REASON\n");
	for (i = 0; i < s->nent; i++) {
		const struct rpw_dec_power *p = &s->ent[i];

		ctl_watts(want, sizeof(want), p->want_mw);
		ctl_watts(held, sizeof(held), p->held_mw);
		printf("%7u  %4u  %-8s  %4u  %8s  %8s  %10u  %s\n", p->chassis,
		       p->slot, RPW_HAS(p->has, RACKPWR_A_POWER_STATE) ?
		       NAME(alloc_state_names, p->state) : "gone", p->prio,
		       want, held, p->req_id, NAME(reason_names, p->reason));
	}
	if (!s->nent)
		printf("(no slot holds or asks for power)\n");
}

static void ctl_text_queue(const struct ctl_snap *s)
{
	const struct ctl_agent *a = &s->agent;
	struct rpw_dec_power *q;
	char want[24];
	int i, n;

	if (a->have) {
		printf("\nQUEUE (agent, grant order)\n  #  CHASSIS  SLOT  PRIO    WANT W\n");
		for (i = 0; i < a->nqueue; i++) {
			ctl_watts(want, sizeof(want), a->queue[i].want_mw);
			printf("%3d  %7llu  %4llu  %4llu  %8s\n", i + 1,
			       (unsigned long long)a->queue[i].chassis,
			       (unsigned long long)a->queue[i].slot,
			       (unsigned long long)a->queue[i].prio, want);
		}
		for (i = 0; i < a->nshed; i++)
			printf("shedding: chassis %llu slot %llu\n",
			       (unsigned long long)a->shed[i].chassis,
			       (unsigned long long)a->shed[i].slot);
		return;
	}
	n = ctl_kernel_queue(s, &q);
	printf("\nQUEUE (kernel's waiting entries, grant order)\n  #  CHASSIS  SLOT  PRIO    WANT W  WAITING ms\n");
	for (i = 0; i < n; i++) {
		ctl_watts(want, sizeof(want), q[i].want_mw);
		printf("%3d  %7u  %4u  %4u  %8s  %10u\n", i + 1, q[i].chassis,
		       q[i].slot, q[i].prio, want, q[i].age_ms);
	}
	free(q);
}

static void ctl_text_chassis(const struct ctl_snap *s)
{
	char want[24], held[24], e[24];
	int i, k;

	for (i = 0; i < s->nchassis; i++) {
		const struct ctl_chassis *c = &s->chassis[i];
		const struct rpw_dec_node *n = &s->node[c->node];

		ctl_epoch(e, sizeof(e), n->epoch);
		printf("\nchassis node %u (%s) addr %u, follows primary addr %u, epoch %s\n",
		       n->id, n->name, n->addr, n->primary, e);
		if (c->err) {
			printf("  slot-get: %s%s%s\n", strerror(-c->err),
			       c->errmsg[0] ? ": " : "", c->errmsg);
			continue;
		}
		printf("SLOT  STATE       ON  PRIO    WANT W    HELD W  TRIGGER   REASON      IDENT\n");
		for (k = 0; k < c->nslot; k++) {
			const struct rpw_dec_slot *v = &c->slot[k];

			ctl_watts(want, sizeof(want), v->want_mw);
			ctl_watts(held, sizeof(held), v->held_mw);
			printf("%4u  %-10s  %2s  %4u  %8s  %8s  %-8s  %-10s  %.8s\n",
			       v->slot, NAME(slot_state_names, v->state),
			       v->enabled ? "on" : "-", v->prio, want, held,
			       NAME(trigger_names, v->last_trigger),
			       NAME(reason_names, v->reason),
			       v->ident[0] ? v->ident : "-");
		}
	}
}

static void ctl_status_text(const struct ctl_snap *s, const struct ctl_opts *o)
{
	if (s->target >= 0) {
		ctl_text_head(s);
		ctl_text_agent(s, o);
		ctl_text_caps(s);
		ctl_text_budget(s);
		ctl_text_alloc(s);
		ctl_text_queue(s);
	} else if (!s->nchassis) {
		printf("no power-supply or chassis node in this kernel\n");
	}
	ctl_text_chassis(s);
}

/*
 * JSON output: a writer that places the commas.  Keys and string values
 * go through cj_put_str(); numbers are mW, ms and raw ids as the kernel
 * reports them.
 */
struct jw {
	int depth;
	bool more[16];		/* a value was written at this depth */
	bool keyed;		/* jw_key() wrote the key of the next value */
};

static void jw_sep(struct jw *w, const char *key)
{
	if (w->keyed) {
		w->keyed = false;
		return;
	}
	if (w->more[w->depth])
		putchar(',');
	w->more[w->depth] = true;
	if (key) {
		cj_put_str(stdout, key);
		putchar(':');
	}
}

/* The key of a value that a function writing keyless values writes. */
static void jw_key(struct jw *w, const char *key)
{
	jw_sep(w, key);
	w->keyed = true;
}

static void jw_open(struct jw *w, const char *key, char c)
{
	jw_sep(w, key);
	putchar(c);
	w->more[++w->depth] = false;
}

static void jw_close(struct jw *w, char c)
{
	w->depth--;
	putchar(c);
}

static void jw_u64(struct jw *w, const char *key, uint64_t v)
{
	jw_sep(w, key);
	printf("%llu", (unsigned long long)v);
}

static void jw_bool(struct jw *w, const char *key, bool v)
{
	jw_sep(w, key);
	fputs(v ? "true" : "false", stdout);
}

static void jw_str(struct jw *w, const char *key, const char *v)
{
	jw_sep(w, key);
	if (v)
		cj_put_str(stdout, v);
	else
		fputs("null", stdout);
}

static void jw_err(struct jw *w, const char *key, int err, const char *msg)
{
	char buf[320];

	if (!err)
		return;
	snprintf(buf, sizeof(buf), "%s%s%s", strerror(-err), msg[0] ? ": " : "",
		 msg);
	jw_str(w, key, buf);
}

static void jw_node(struct jw *w, const char *key, const struct rpw_dec_node *n)
{
	char e[24];

	ctl_epoch(e, sizeof(e), n->epoch);
	jw_open(w, key, '{');
	jw_u64(w, "id", n->id);
	jw_str(w, "name", n->name);
	jw_str(w, "role", RPW_HAS(n->has, RACKPWR_A_NODE_ROLE) ?
	       NAME(role_names, n->role) : "none");
	jw_u64(w, "addr", n->addr);
	jw_str(w, "state", NAME(estate_names, n->elect_state));
	jw_bool(w, "acting", n->acting);
	jw_u64(w, "primary", n->primary);
	jw_u64(w, "epoch", n->epoch);
	jw_str(w, "epoch_text", e);
	jw_close(w, '}');
}

static void jw_cap(struct jw *w, const struct rpw_dec_cap *c)
{
	int i;

	jw_open(w, NULL, '{');
	jw_u64(w, "addr", c->addr);
	jw_u64(w, "bank_a_mw", c->bank_a_mw);
	jw_u64(w, "bank_b_mw", c->bank_b_mw);
	jw_u64(w, "present", c->present);
	jw_u64(w, "healthy", c->healthy);
	jw_u64(w, "age_ms", c->age_ms);
	jw_bool(w, "local", c->local);
	jw_bool(w, "lost", c->lost);
	jw_open(w, "supplies", '[');
	for (i = 0; i < 6; i++) {
		jw_open(w, NULL, '{');
		jw_u64(w, "index", i);
		jw_str(w, "bank", i < 3 ? "A" : "B");
		jw_bool(w, "present", c->present & 1u << i);
		jw_bool(w, "healthy", c->healthy & 1u << i);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_close(w, '}');
}

static void jw_entry(struct jw *w, const struct rpw_dec_power *p)
{
	jw_open(w, NULL, '{');
	jw_u64(w, "chassis", p->chassis);
	jw_u64(w, "slot", p->slot);
	jw_str(w, "state", RPW_HAS(p->has, RACKPWR_A_POWER_STATE) ?
	       NAME(alloc_state_names, p->state) : "gone");
	jw_u64(w, "prio", p->prio);
	jw_u64(w, "want_mw", p->want_mw);
	jw_u64(w, "held_mw", p->held_mw);
	jw_u64(w, "req_id", p->req_id);
	jw_str(w, "reason", NAME(reason_names, p->reason));
	if (RPW_HAS(p->has, RACKPWR_A_POWER_AGE_MS))
		jw_u64(w, "age_ms", p->age_ms);
	jw_close(w, '}');
}

static void jw_slot(struct jw *w, const struct rpw_dec_slot *v)
{
	jw_open(w, NULL, '{');
	jw_u64(w, "slot", v->slot);
	jw_str(w, "state", NAME(slot_state_names, v->state));
	jw_bool(w, "present", v->present);
	jw_bool(w, "enabled", v->enabled);
	jw_u64(w, "prio", v->prio);
	jw_u64(w, "want_mw", v->want_mw);
	jw_u64(w, "held_mw", v->held_mw);
	jw_u64(w, "req_id", v->req_id);
	jw_str(w, "trigger", NAME(trigger_names, v->last_trigger));
	jw_str(w, "reason", NAME(reason_names, v->reason));
	jw_u64(w, "primary", v->primary);
	jw_u64(w, "epoch", v->epoch);
	jw_str(w, "ident", v->ident);
	jw_close(w, '}');
}

static void jw_power(struct jw *w, const char *key, const struct rpw_dec_power *p)
{
	jw_open(w, key, '{');
	jw_u64(w, "epoch", p->epoch);
	jw_bool(w, "acting", p->acting);
	jw_bool(w, "recovering", p->recovering);
	jw_bool(w, "bound", p->bound);
	jw_u64(w, "usable_mw", p->usable_mw);
	jw_u64(w, "granted_mw", p->granted_mw);
	jw_u64(w, "pending", p->pending);
	jw_u64(w, "refused_invariant", p->refused_invariant);
	jw_u64(w, "no_policy_denied", p->no_policy_denied);
	jw_u64(w, "rx_stale", p->rx_stale);
	jw_u64(w, "ntf_dropped", p->ntf_dropped);
	jw_close(w, '}');
}

static void jw_agent(struct jw *w, const struct ctl_agent *a)
{
	int i;

	jw_open(w, "agent", '{');
	jw_str(w, "path", a->path);
	jw_bool(w, "present", a->have);
	if (!a->have) {
		jw_str(w, "error", a->why);
		jw_close(w, '}');
		return;
	}
	jw_u64(w, "node", a->node);
	jw_bool(w, "acting", a->acting);
	jw_u64(w, "epoch", a->epoch);
	jw_str(w, "mode", a->mode);
	jw_str(w, "digest", a->digest);
	jw_str(w, "config", a->config);
	jw_u64(w, "updated_ms", a->updated_ms);
	jw_open(w, "mismatches", '[');
	for (i = 0; i < a->npeer; i++) {
		if (a->peer[i].match)
			continue;
		jw_open(w, NULL, '{');
		jw_u64(w, "addr", a->peer[i].addr);
		jw_str(w, "digest", a->peer[i].digest);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_open(w, "shedding", '[');
	for (i = 0; i < a->nshed; i++) {
		jw_open(w, NULL, '{');
		jw_u64(w, "chassis", a->shed[i].chassis);
		jw_u64(w, "slot", a->shed[i].slot);
		jw_u64(w, "since_ms", a->shed[i].since_ms);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_close(w, '}');
}

static void jw_budget(struct jw *w, const struct ctl_snap *s)
{
	if (!s->have_budget) {
		jw_sep(w, "budget");
		fputs("null", stdout);
		return;
	}
	jw_open(w, "budget", '{');
	jw_str(w, "source", s->budget_src);
	jw_str(w, "mode", s->budget_mode);
	jw_u64(w, "rail_a_mw", s->rail_a_mw);
	jw_u64(w, "rail_b_mw", s->rail_b_mw);
	jw_u64(w, "usable_mw", s->usable_mw);
	jw_u64(w, "budget_mw", s->budget_mw);
	jw_u64(w, "granted_mw", s->granted_mw);
	jw_u64(w, "headroom_mw", s->headroom_mw);
	jw_close(w, '}');
}

static void jw_queue(struct jw *w, const struct ctl_snap *s)
{
	const struct ctl_agent *a = &s->agent;
	struct rpw_dec_power *q;
	int i, n;

	jw_str(w, "queue_source", a->have ? "agent" : "kernel");
	jw_open(w, "queue", '[');
	if (a->have) {
		for (i = 0; i < a->nqueue; i++) {
			jw_open(w, NULL, '{');
			jw_u64(w, "chassis", a->queue[i].chassis);
			jw_u64(w, "slot", a->queue[i].slot);
			jw_u64(w, "prio", a->queue[i].prio);
			jw_u64(w, "want_mw", a->queue[i].want_mw);
			jw_u64(w, "since_ms", a->queue[i].since_ms);
			jw_close(w, '}');
		}
	} else {
		n = ctl_kernel_queue(s, &q);
		for (i = 0; i < n; i++)
			jw_entry(w, &q[i]);
		free(q);
	}
	jw_close(w, ']');
}

static void jw_rack(struct jw *w, const struct ctl_snap *s,
		    const struct ctl_opts *o)
{
	const char *src, *mode = ctl_mode(s, o, &src);
	int i;

	jw_node(w, "node", &s->node[s->target]);
	jw_u64(w, "primary", s->node[s->target].primary);
	jw_u64(w, "epoch", s->node[s->target].epoch);
	jw_bool(w, "is_primary", ctl_is_primary(&s->node[s->target]));
	if (s->have_power)
		jw_power(w, "power", &s->power);
	jw_err(w, "power_error", s->power_err, s->power_errmsg);
	jw_str(w, "mode", mode);
	jw_str(w, "mode_source", src);
	jw_open(w, "assemblies", '[');
	for (i = 0; i < s->ncap; i++)
		jw_cap(w, &s->cap[i]);
	jw_close(w, ']');
	jw_err(w, "capacity_error", s->cap_err, s->cap_errmsg);
	jw_budget(w, s);
	jw_open(w, "alloc", '[');
	for (i = 0; i < s->nent; i++)
		jw_entry(w, &s->ent[i]);
	jw_close(w, ']');
	jw_err(w, "alloc_error", s->ent_err, s->ent_errmsg);
	jw_queue(w, s);
	jw_agent(w, &s->agent);
}

static void ctl_status_json(const struct ctl_snap *s, const struct ctl_opts *o)
{
	struct jw w = { 0 };
	int i, k;

	jw_open(&w, NULL, '{');
	if (s->target >= 0)
		jw_rack(&w, s, o);
	jw_open(&w, "chassis", '[');
	for (i = 0; i < s->nchassis; i++) {
		const struct ctl_chassis *c = &s->chassis[i];

		jw_open(&w, NULL, '{');
		jw_node(&w, "node", &s->node[c->node]);
		jw_err(&w, "error", c->err, c->errmsg);
		jw_open(&w, "slots", '[');
		for (k = 0; k < c->nslot; k++)
			jw_slot(&w, &c->slot[k]);
		jw_close(&w, ']');
		jw_close(&w, '}');
	}
	jw_close(&w, ']');
	jw_close(&w, '}');
	putchar('\n');
}

static void ctl_budget_compute(struct ctl_snap *s, const struct ctl_opts *o);

/* status [NODE] [-j] [--state-dir DIR] [--mode M] */
static int cmd_status(int argc, char **argv)
{
	static struct ctl_snap s;
	struct ctl_opts o;

	ctl_parse(argc, argv, &o);
	if (o.nfail || o.npos > 1)
		usage();
	ctl_snap_take(&s, &o, o.npos ? o.pos[0] : NULL);
	ctl_budget_compute(&s, &o);
	if (o.json)
		ctl_status_json(&s, &o);
	else
		ctl_status_text(&s, &o);
	return 0;
}

struct ctl_ev {
	const struct ctl_opts *o;
	struct mon mon;		/* count and seen, shared with monitor_cb */
};

static bool ctl_ev_known(unsigned int cmd)
{
	switch (cmd) {
	case RACKPWR_CMD_FRAME_RX_NTF:
	case RACKPWR_CMD_NODE_CHANGE_NTF:
	case RACKPWR_CMD_ELECT_NTF:
	case RACKPWR_CMD_CAPACITY_NTF:
	case RACKPWR_CMD_BUS_EVENT_NTF:
	case RACKPWR_CMD_SLOT_NTF:
	case RACKPWR_CMD_POWER_REQUEST_NTF:
	case RACKPWR_CMD_ALLOC_NTF:
		return true;
	}
	return false;
}

/* The event's own fields, after "ts_ms" and "event". */
static void ctl_ev_fields(struct jw *w, const struct rpw_msg *m)
{
	char hex[2 * RACKPWR_MAX_PAYLOAD + 1];
	unsigned int i;

	switch (m->cmd) {
	case RACKPWR_CMD_FRAME_RX_NTF:
		jw_u64(w, "node", m->frame.node_id);
		jw_u64(w, "src", m->frame.src);
		jw_u64(w, "dst", m->frame.dst);
		jw_u64(w, "type", m->frame.type);
		jw_u64(w, "seq", m->frame.seq);
		for (i = 0; i < m->frame.len; i++)
			sprintf(hex + 2 * i, "%02x", m->frame.payload[i]);
		hex[2 * m->frame.len] = '\0';
		jw_str(w, "payload", hex);
		break;
	case RACKPWR_CMD_NODE_CHANGE_NTF:
		jw_bool(w, "deleted", m->node.deleted);
		if (m->node.deleted)
			jw_u64(w, "id", m->node.id);
		else
			jw_node(w, "node", &m->node);
		break;
	case RACKPWR_CMD_ELECT_NTF:
		jw_u64(w, "node", m->elect.node_id);
		jw_str(w, "kind", NAME(eevent_names, m->elect.event));
		jw_u64(w, "addr", m->elect.addr);
		jw_u64(w, "epoch", m->elect.epoch);
		jw_str(w, "state", NAME(estate_names, m->elect.state));
		break;
	case RACKPWR_CMD_CAPACITY_NTF:
		jw_u64(w, "node", m->cap.node_id);
		jw_key(w, "assembly");
		jw_cap(w, &m->cap);
		break;
	case RACKPWR_CMD_BUS_EVENT_NTF:
		jw_u64(w, "node", m->bus.node_id);
		jw_str(w, "kind", NAME(event_names, m->bus.event));
		jw_u64(w, "addr", m->bus.addr);
		break;
	case RACKPWR_CMD_SLOT_NTF:
		jw_u64(w, "node", m->slot.node_id);
		jw_key(w, "slot");
		jw_slot(w, &m->slot);
		break;
	case RACKPWR_CMD_POWER_REQUEST_NTF:
	case RACKPWR_CMD_ALLOC_NTF:
		jw_u64(w, "node", m->power.node_id);
		jw_u64(w, "epoch", m->power.epoch);
		if (m->cmd == RACKPWR_CMD_ALLOC_NTF)
			jw_str(w, "kind", NAME(pevent_names, m->power.event));
		if (m->cmd == RACKPWR_CMD_POWER_REQUEST_NTF) {
			jw_open(w, "request", '{');
			jw_u64(w, "chassis", m->power.chassis);
			jw_u64(w, "slot", m->power.slot);
			jw_u64(w, "req_id", m->power.req_id);
			jw_u64(w, "prio", m->power.prio);
			jw_u64(w, "want_mw", m->power.want_mw);
			jw_u64(w, "held_mw", m->power.held_mw);
			jw_close(w, '}');
		} else if (RPW_HAS(m->power.has, RACKPWR_A_POWER_CHASSIS)) {
			jw_key(w, "entry");
			jw_entry(w, &m->power);
		}
		break;
	}
}

static int ctl_ev_cb(const struct rpw_msg *m, const char *bad, void *arg)
{
	struct ctl_ev *ev = arg;
	struct jw w = { 0 };
	uint64_t now = ctl_now_ms();
	time_t sec = now / 1000;
	struct tm tm;

	if (ev->mon.count && ev->mon.seen >= ev->mon.count)
		return 0;
	if (!m) {
		fprintf(stderr, "rackpwrctl: events: malformed event skipped: %s\n",
			bad);
		return 0;
	}
	if (!ctl_ev_known(m->cmd))
		return 0;
	if (!ev->o->json) {
		localtime_r(&sec, &tm);
		printf("%02d:%02d:%02d.%03u ", tm.tm_hour, tm.tm_min, tm.tm_sec,
		       (unsigned int)(now % 1000));
		return monitor_cb(m, bad, &ev->mon);
	}
	jw_open(&w, NULL, '{');
	jw_u64(&w, "ts_ms", now);
	jw_str(&w, "event", rpw_cmd_name(m->cmd));
	ctl_ev_fields(&w, m);
	jw_close(&w, '}');
	putchar('\n');
	fflush(stdout);
	ev->mon.seen++;
	return 0;
}

/*
 * events [-j] [--count N] [--timeout SEC]: follow the events and power
 * groups, one line per event (JSON lines with -j).  Lost events are said
 * on stderr (and as {"event":"lost"} with -j).  Exit 1 when --count was
 * not reached.
 */
static int cmd_events(int argc, char **argv)
{
	struct ctl_opts o;
	struct ctl_ev ev = { .o = &o };
	struct rpw_nl s;
	time_t end;
	int err;

	ctl_parse(argc, argv, &o);
	if (o.npos || o.nfail)
		usage();
	err = rpw_nl_open(&s);
	if (!err)
		err = rpw_nl_subscribe(&s, 1 << 20);
	if (!err)
		err = rpw_nl_join(&s, RACKPWR_MCGRP_POWER);
	if (err) {
		memcpy(nl.errmsg, s.errmsg, sizeof(nl.errmsg));
		return ctl_fail(&o, "events", err);
	}
	nl_socket_set_nonblocking(s.sk);
	ev.mon.count = o.count;
	end = o.timeout ? time(NULL) + o.timeout : 0;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!stop && (!o.count || ev.mon.seen < o.count)) {
		struct pollfd p = { nl_socket_get_fd(s.sk), POLLIN, 0 };

		if (end && time(NULL) >= end)
			break;
		if (poll(&p, 1, 200) <= 0)
			continue;
		err = rpw_nl_recv_events(&s, ctl_ev_cb, &ev);
		if (err == -ENOBUFS) {
			fputs("rackpwrctl: events: events lost (receive buffer overrun)\n",
			      stderr);
			if (o.json)
				printf("{\"ts_ms\":%llu,\"event\":\"lost\"}\n",
				       (unsigned long long)ctl_now_ms());
		} else if (err) {
			fprintf(stderr, "rackpwrctl: events: %s\n", s.errmsg);
		}
		fflush(stdout);
	}
	rpw_nl_close(&s);
	return o.count && ev.mon.seen < o.count ? 1 : 0;
}

/* The slot-set every admin shorthand sends; -j says {"ok":true} too. */
static int ctl_slot_set(const struct ctl_opts *o, const char *what,
			const char *node, const char *slot, int prio, int power)
{
	uint32_t id = node_id(node);
	long sl = num(slot, 0, 255, "slot");
	struct nl_msg *m;
	int err;

	m = rpw_nl_msg(&nl, RACKPWR_CMD_SLOT_SET, 0);
	nla_put_u32(m, RACKPWR_A_SLOT_NODE_ID, id);
	nla_put_u8(m, RACKPWR_A_SLOT_SLOT, sl);
	if (prio >= 0)
		nla_put_u8(m, RACKPWR_A_SLOT_PRIO, prio);
	if (power >= 0)
		nla_put_u32(m, RACKPWR_A_SLOT_POWER, power);
	err = rpw_nl_call(&nl, m, NULL, NULL);
	if (err)
		return ctl_fail(o, what, err);
	if (o->json)
		printf("{\"ok\":true,\"node\":%u,\"slot\":%ld}\n", id, sl);
	return 0;
}

/* priority NODE SLOT PRIO: the slot's priority on its chassis node. */
static int cmd_priority(int argc, char **argv)
{
	struct ctl_opts o;

	ctl_parse(argc, argv, &o);
	if (o.npos != 3 || o.nfail)
		usage();
	return ctl_slot_set(&o, "priority", o.pos[0], o.pos[1],
			    num(o.pos[2], 0, 255, "priority"), -1);
}

/* power-on|power-off NODE SLOT: an administrative power request. */
static int cmd_slot_power(int argc, char **argv)
{
	bool on = !strcmp(argv[0], "power-on");
	struct ctl_opts o;

	ctl_parse(argc, argv, &o);
	if (o.npos != 2 || o.nfail)
		usage();
	return ctl_slot_set(&o, argv[0], o.pos[0], o.pos[1], -1,
			    on ? RACKPWR_SLOT_POWER_ON : RACKPWR_SLOT_POWER_OFF);
}

/*
 * A slot's priority: the one the agent's state file says it uses (the
 * configuration's overrides applied), else the one the chassis sent.
 */
static uint8_t ctl_prio(const struct ctl_snap *s, const struct rpw_dec_power *k)
{
	int i;

	for (i = 0; i < s->agent.nsprio; i++)
		if (s->agent.sprio[i].chassis == k->chassis &&
		    s->agent.sprio[i].slot == k->slot &&
		    s->agent.sprio[i].prio <= 255)
			return s->agent.sprio[i].prio;
	return k->prio;
}

/*
 * The policy's view of the snapshot: the kernel's capacity and table fed
 * to a private rpwp (policy.h) as the daemon's resync does, in @mode.
 * Nothing is sent to the kernel; the actions the resync returns (answers
 * to pending requests) are dropped.  NULL when out of memory.
 */
static struct rpwp *ctl_policy(const struct ctl_snap *s, enum rpwp_mode mode)
{
	static struct rpwp_assembly asm_[256];
	static struct rpwp_action act[64];
	static struct rpwp_cfg cfg;
	struct rpwp_out out = { .act = act, .max = 64 };
	unsigned int na = 0;
	struct rpwp *p;
	int i;

	rpwp_cfg_init(&cfg);
	cfg.mode = mode;
	p = rpwp_create(s->nent + 8, &cfg);
	if (!p)
		return NULL;
	for (i = 0; i < s->ncap && na < 256; i++, na++) {
		const struct rpw_dec_cap *c = &s->cap[i];

		asm_[na] = (struct rpwp_assembly){
			.addr = c->addr, .present = c->present,
			.healthy = c->healthy, .lost = c->lost,
			.bank_a_mw = c->bank_a_mw, .bank_b_mw = c->bank_b_mw,
		};
	}
	rpwp_resync_begin(p);
	rpwp_capacity(p, asm_, na, 0, &out);
	for (i = 0; i < s->nent; i++) {
		const struct rpw_dec_power *k = &s->ent[i];
		struct rpwp_entry e = {
			.chassis = k->chassis, .slot = k->slot,
			.prio = ctl_prio(s, k),
			.state = RPW_HAS(k->has, RACKPWR_A_POWER_STATE) ?
				 (enum rpwp_kstate)k->state : RPWP_K_GONE,
			.want_mw = k->want_mw, .held_mw = k->held_mw,
			.req_id = k->req_id, .age_ms = k->age_ms,
			.reason = k->reason,
		};

		/*
		 * A pending request enters as queued: resync_end() would
		 * answer it, and the copy would count a grant the kernel
		 * has not made.
		 */
		if (e.state == RPWP_K_PENDING)
			e.state = RPWP_K_QUEUED;
		rpwp_resync_entry(p, &e, 0);
	}
	out.n = 0;
	rpwp_resync_end(p, 0, &out);
	return p;
}

static enum rpwp_mode ctl_mode_enum(const struct ctl_snap *s,
				    const struct ctl_opts *o, const char **src)
{
	enum rpwp_mode m = RPWP_MODE_NN;

	if (rpwp_mode_parse(ctl_mode(s, o, src), &m)) {
		fprintf(stderr, "rackpwrctl: the agent's state names an unknown mode '%s'; using n+n\n",
			s->agent.mode);
		*src = "default";
	}
	return m;
}

/*
 * SUPPLY: ADDR:N (supply N, 0..5: 0-2 bank A, 3-5 bank B), ADDR:A or
 * ADDR:B (the bank's three), ADDR:all (all six); a comma separates
 * several.  Appends to @f (at most @max); returns the new count or exits.
 */
static unsigned int ctl_supplies(const char *arg, struct rpwp_supply *f,
				 unsigned int n, unsigned int max)
{
	char buf[256], *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", arg);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(tok, ':');
		unsigned int from, to, i;
		long addr;

		if (!colon)
			goto bad;
		*colon = '\0';
		addr = num(tok, 1, 254, "assembly address");
		if (!strcmp(colon + 1, "A") || !strcmp(colon + 1, "a"))
			from = 0, to = 2;
		else if (!strcmp(colon + 1, "B") || !strcmp(colon + 1, "b"))
			from = 3, to = 5;
		else if (!strcmp(colon + 1, "all"))
			from = 0, to = 5;
		else
			from = to = num(colon + 1, 0, RPWP_SUPPLIES - 1,
					"supply index");
		for (i = from; i <= to; i++) {
			if (n >= max) {
				fprintf(stderr, "rackpwrctl: at most %u supplies\n",
					max);
				exit(2);
			}
			f[n++] = (struct rpwp_supply){ .addr = addr, .index = i };
		}
	}
	return n;
bad:
	fprintf(stderr, "rackpwrctl: bad supply '%s': ADDR:N, ADDR:A, ADDR:B or ADDR:all\n",
		arg);
	exit(2);
}

/* A named supply that the rack does not have, or that is not healthy. */
static const char *ctl_supply_check(const struct ctl_snap *s,
				    const struct rpwp_supply *f)
{
	int i;

	for (i = 0; i < s->ncap; i++) {
		if (s->cap[i].addr != f->addr)
			continue;
		if (!(s->cap[i].present & 1u << f->index))
			return "no supply in that slot";
		if (s->cap[i].lost || !(s->cap[i].healthy & 1u << f->index))
			return "not healthy now: failing it changes nothing";
		return NULL;
	}
	return "no such assembly";
}

#define CTL_PLAN_MAX	4096

static void ctl_plan_text(const struct rpwp_plan *pl,
			  const struct rpwp_plan_step *st, unsigned int n,
			  const char *mode, const char *src)
{
	char w[4][24];
	unsigned int i;

	ctl_watts(w[0], sizeof(w[0]), pl->budget_before_mw);
	ctl_watts(w[1], sizeof(w[1]), pl->budget_after_mw);
	ctl_watts(w[2], sizeof(w[2]), pl->granted_mw);
	ctl_watts(w[3], sizeof(w[3]), pl->usable_after_mw);
	printf("mode %s (%s): budget %s W now, %s W after (usable %s W)\n",
	       mode, src, w[0], w[1], w[3]);
	printf("granted %s W: %u shed%s needed\n", w[2], pl->steps,
	       pl->steps == 1 ? "" : "s");
	if (!pl->steps)
		return;
	printf("  #  CHASSIS  SLOT  PRIO    SHED W  GRANTED AFTER W\n");
	for (i = 0; i < n; i++) {
		ctl_watts(w[0], sizeof(w[0]), st[i].mw);
		ctl_watts(w[1], sizeof(w[1]), st[i].granted_mw);
		printf("%3u  %7u  %4u  %4u  %8s  %15s\n", i + 1, st[i].chassis,
		       st[i].slot, st[i].prio, w[0], w[1]);
	}
	if (n < pl->steps)
		printf("(%u more not listed)\n", pl->steps - n);
}

static void ctl_plan_json(const struct rpwp_plan *pl,
			  const struct rpwp_plan_step *st, unsigned int n,
			  const struct rpwp_supply *f, unsigned int nf,
			  const char *mode, const char *src, uint32_t node)
{
	struct jw w = { 0 };
	unsigned int i;

	jw_open(&w, NULL, '{');
	jw_u64(&w, "node", node);
	jw_str(&w, "mode", mode);
	jw_str(&w, "mode_source", src);
	jw_open(&w, "failed", '[');
	for (i = 0; i < nf; i++) {
		jw_open(&w, NULL, '{');
		jw_u64(&w, "addr", f[i].addr);
		jw_u64(&w, "index", f[i].index);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');
	jw_u64(&w, "budget_before_mw", pl->budget_before_mw);
	jw_u64(&w, "budget_after_mw", pl->budget_after_mw);
	jw_u64(&w, "usable_after_mw", pl->usable_after_mw);
	jw_u64(&w, "granted_mw", pl->granted_mw);
	jw_u64(&w, "steps", pl->steps);
	jw_open(&w, "order", '[');
	for (i = 0; i < n; i++) {
		jw_open(&w, NULL, '{');
		jw_u64(&w, "chassis", st[i].chassis);
		jw_u64(&w, "slot", st[i].slot);
		jw_u64(&w, "prio", st[i].prio);
		jw_u64(&w, "mw", st[i].mw);
		jw_u64(&w, "granted_mw", st[i].granted_mw);
		jw_u64(&w, "budget_mw", st[i].budget_mw);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');
	jw_close(&w, '}');
	putchar('\n');
}

/*
 * plan [NODE] --fail SUPPLY... [--mode M] [-j]: who the policy would shed,
 * in order, if those supplies failed now, from the primary's capacity
 * and table and the mode in force (the agent's, or --mode).
 */
static int cmd_plan(int argc, char **argv)
{
	static struct rpwp_plan_step step[CTL_PLAN_MAX];
	static struct rpwp_supply f[CTL_MAX_FAIL * RPWP_SUPPLIES];
	static struct ctl_snap s;
	const char *src, *why;
	struct rpwp_plan pl;
	char msg[192];
	struct ctl_opts o;
	enum rpwp_mode mode;
	unsigned int nf = 0, i;
	struct rpwp *p;

	ctl_parse(argc, argv, &o);
	if (!o.nfail || o.npos > 1)
		usage();
	for (i = 0; i < (unsigned int)o.nfail; i++)
		nf = ctl_supplies(o.fail[i], f, nf, sizeof(f) / sizeof(f[0]));
	ctl_snap_take(&s, &o, o.npos ? o.pos[0] : NULL);
	if (s.target < 0)
		return ctl_refuse(&o, "plan", "no power-supply node to ask");
	if (!ctl_is_primary(&s.node[s.target])) {
		snprintf(msg, sizeof(msg), "node %u is not the primary; its table is not the rack's (ask the primary, addr %u)",
			 s.node[s.target].id, s.node[s.target].primary);
		return ctl_refuse(&o, "plan", msg);
	}
	if (s.cap_err || s.ent_err) {
		memcpy(nl.errmsg, s.cap_err ? s.cap_errmsg : s.ent_errmsg,
		       sizeof(nl.errmsg));
		return ctl_fail(&o, s.cap_err ? "plan: capacity-get" :
				"plan: alloc-get", s.cap_err ?: s.ent_err);
	}
	for (i = 0; i < nf; i++) {
		why = ctl_supply_check(&s, &f[i]);
		if (!why)
			continue;
		snprintf(msg, sizeof(msg), "supply %u:%u: %s", f[i].addr,
			 f[i].index, why);
		if (strcmp(why, "not healthy now: failing it changes nothing"))
			return ctl_refuse(&o, "plan", msg);
		fprintf(stderr, "rackpwrctl: plan: %s\n", msg);
	}
	mode = ctl_mode_enum(&s, &o, &src);
	p = ctl_policy(&s, mode);
	if (!p) {
		fputs("rackpwrctl: plan: out of memory\n", stderr);
		return 1;
	}
	rpwp_plan(p, f, nf, step, CTL_PLAN_MAX, &pl);
	rpwp_destroy(p);
	if (o.json)
		ctl_plan_json(&pl, step, pl.steps < CTL_PLAN_MAX ? pl.steps :
			      CTL_PLAN_MAX, f, nf, rpwp_mode_name(mode), src,
			      s.node[s.target].id);
	else
		ctl_plan_text(&pl, step, pl.steps < CTL_PLAN_MAX ? pl.steps :
			      CTL_PLAN_MAX, rpwp_mode_name(mode), src);
	return 0;
}

/*
 * The budget status shows: the agent's (it is what the agent enforces)
 * unless --mode asks for another mode, else the policy's arithmetic on
 * the kernel's capacity and table in the mode in force.
 */
static void ctl_budget_compute(struct ctl_snap *s, const struct ctl_opts *o)
{
	const struct ctl_agent *a = &s->agent;
	struct rpwp_budget b;
	enum rpwp_mode mode;
	const char *src;
	struct rpwp *p;

	if (s->target < 0 || s->cap_err || s->ent_err)
		return;
	if (a->have_budget && !o->mode) {
		s->have_budget = true;
		s->budget_src = "agent";
		snprintf(s->budget_mode, sizeof(s->budget_mode), "%s", a->mode);
		s->rail_a_mw = a->rail_a_mw;
		s->rail_b_mw = a->rail_b_mw;
		s->usable_mw = a->usable_mw;
		s->budget_mw = a->budget_mw;
		s->granted_mw = a->granted_mw;
		s->headroom_mw = a->headroom_mw;
		return;
	}
	mode = ctl_mode_enum(s, o, &src);
	p = ctl_policy(s, mode);
	if (!p)
		return;
	rpwp_budget(p, &b);
	rpwp_destroy(p);
	s->have_budget = true;
	s->budget_src = "computed";
	snprintf(s->budget_mode, sizeof(s->budget_mode), "%s",
		 rpwp_mode_name(mode));
	s->rail_a_mw = b.rail_a_mw;
	s->rail_b_mw = b.rail_b_mw;
	s->usable_mw = b.usable_mw;
	s->budget_mw = b.budget_mw;
	s->granted_mw = b.granted_mw;
	s->headroom_mw = b.headroom_mw;
}

/* step-down NODE [-j]: the existing command, with -j. */
static int cmd_ctl_step_down(int argc, char **argv)
{
	struct ctl_opts o;
	struct nl_msg *m;
	uint32_t id;
	int err;

	ctl_parse(argc, argv, &o);
	if (o.npos != 1 || o.nfail)
		usage();
	id = node_id(o.pos[0]);
	m = rpw_nl_msg(&nl, RACKPWR_CMD_STEP_DOWN, 0);
	nla_put_u32(m, RACKPWR_A_NODE_ID, id);
	err = rpw_nl_call(&nl, m, NULL, NULL);
	if (err)
		return ctl_fail(&o, "step-down", err);
	if (o.json)
		printf("{\"ok\":true,\"node\":%u}\n", id);
	return 0;
}

static void ctl_usage(void)
{
	fputs("operator (-j: JSON; before or after the command):\n"
	      "  status [NODE] [--state-dir DIR] [--mode n+n|n+1|none]\n"
	      "  events [--count N] [--timeout SEC]\n"
	      "  plan [NODE] --fail SUPPLY [SUPPLY...] [--mode M] [--state-dir DIR]\n"
	      "         SUPPLY = ADDR:N (assembly address, supply 0..5; 0-2 bank A,\n"
	      "         3-5 bank B), ADDR:A or ADDR:B (a bank), ADDR:all\n"
	      "  priority NODE SLOT PRIO | power-on NODE SLOT | power-off NODE SLOT\n"
	      "         (NODE: the chassis node)\n"
	      "  step-down NODE\n"
	      "  map [NODE] [--state-dir DIR] [--mode M]   (the rack, 80 columns)\n",
	      stderr);
}

/* map: agent/ctlmap.c */
static int cmd_map(int argc, char **argv)
{
	return ctl_map(&nl, argc, argv, ctl_json_first);
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} ctl_cmds[] = {
	{ "status", cmd_status },
	{ "events", cmd_events },
	{ "plan", cmd_plan },
	{ "priority", cmd_priority },
	{ "power-on", cmd_slot_power },
	{ "power-off", cmd_slot_power },
	{ "step-down", cmd_ctl_step_down },
	{ "map", cmd_map },
};

/* Run an operator command; false when @argv[0] is none of them. */
static bool ctl_dispatch(int argc, char **argv, int *err)
{
	unsigned int i;

	if (argc > 1 && (!strcmp(argv[0], "-j") || !strcmp(argv[0], "--json"))) {
		ctl_json_first = true;
		argc--;
		argv++;
	}
	for (i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++)
		if (!strcmp(argv[0], ctl_cmds[i].name)) {
			*err = ctl_cmds[i].fn(argc, argv);
			return true;
		}
	if (ctl_json_first)
		usage();
	return false;
}

int main(int argc, char **argv)
{
	int err;

	if (argc < 2)
		usage();
	/* These read rackpwrd's state directory, not the kernel. */
	if (!strcmp(argv[1], "why"))
		return cmd_why(argc - 1, argv + 1);
	if (!strcmp(argv[1], "mode"))
		return cmd_mode(argc - 1, argv + 1);
	err = rpw_nl_open(&nl);
	if (err) {
		fprintf(stderr, "rackpwrctl: cannot reach the rackpwr family: %s\n",
			strerror(-err));
		return 1;
	}
	argc--;
	argv++;
	if (ctl_dispatch(argc, argv, &err)) {
		rpw_nl_close(&nl);
		return err;
	}
	if (!strcmp(argv[0], "node"))
		err = cmd_node(argc, argv);
	else if (!strcmp(argv[0], "stats"))
		err = cmd_stats(argc, argv);
	else if (!strcmp(argv[0], "peers"))
		err = cmd_peers(argc, argv);
	else if (!strcmp(argv[0], "send"))
		err = cmd_send(argc, argv);
	else if (!strcmp(argv[0], "capacity"))
		err = cmd_capacity(argc, argv);
	else if (!strcmp(argv[0], "step-down"))
		err = cmd_step_down(argc, argv);
	else if (!strcmp(argv[0], "monitor"))
		err = cmd_monitor(argc, argv);
	else if (!strcmp(argv[0], "attach"))
		err = cmd_attach(argc, argv);
	else if (!strcmp(argv[0], "key"))
		err = cmd_key(argc, argv);
	else if (!strcmp(argv[0], "slots"))
		err = cmd_slots(argc, argv);
	else if (!strcmp(argv[0], "slot-set"))
		err = cmd_slot_set(argc, argv);
	else if (!strcmp(argv[0], "alloc"))
		err = cmd_alloc(argc, argv);
	else if (!strcmp(argv[0], "power"))
		err = cmd_power(argc, argv);
	else if (!strcmp(argv[0], "decide"))
		err = cmd_decide(argc, argv);
	else if (!strcmp(argv[0], "shed"))
		err = cmd_shed(argc, argv);
	else if (!strcmp(argv[0], "policy"))
		err = cmd_policy(argc, argv);
	else
		usage();
	rpw_nl_close(&nl);
	return err;
}
