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
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <linux/serial.h>
#include <time.h>
#include <unistd.h>

#include "nl.h"

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
	      "timers: --ifs-us N --slot-us N --turnaround-us N\n"
	      "        --ack-timeout-us N --max-retries N --max-addr N\n"
	      "        --prio-period N\n"
	      "--i2c-bus: I2C adapter of the node's assembly; auto = the only one\n"
	      "election: --hb-us N --miss N --bus-delay-us N\n"
	      "key: K = key id 1..255; FILE (- = stdin) holds the key as 32..128\n"
	      "     hex digits; M = off|optional|required\n"
	      "NODE is a node id or name (e.g. ttyS1, sim0.3)\n", stderr);
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

int main(int argc, char **argv)
{
	int err;

	if (argc < 2)
		usage();
	err = rpw_nl_open(&nl);
	if (err) {
		fprintf(stderr, "rackpwrctl: cannot reach the rackpwr family: %s\n",
			strerror(-err));
		return 1;
	}
	argc--;
	argv++;
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
