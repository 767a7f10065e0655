// SPDX-License-Identifier: GPL-2.0-only
/*
 * rackpwr user space: decoder of the family's messages (see decode.h).
 *
 * One table per attribute set lists every attribute the user space knows:
 * its spec name, wire type and where it lands in the plain struct.  The
 * libnl policy of the set is built from the same table, so the two cannot
 * disagree; fixed-size types get an exact length (libnl only checks a
 * minimum unless told a maximum).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include "decode.h"

_Static_assert(RACKPWR_A_NODE_MAX < 64, "node has-mask is 64 bits");
_Static_assert(RACKPWR_A_STATS_MAX < 32, "stats has-mask is 32 bits");
_Static_assert(RACKPWR_A_POWER_MAX < 64, "power has-mask is 64 bits");

enum rpw_ftype { F_U8, F_U32, F_U64, F_FLAG, F_STR, F_BIN, F_NEST };

struct rpw_field {
	uint16_t attr;
	uint8_t type;		/* enum rpw_ftype */
	uint16_t off;		/* into the set's struct */
	uint16_t size;		/* F_STR: buffer; F_BIN: maximum length */
	uint16_t len_off;	/* F_BIN: where the length goes */
	const char *name;	/* the spec's */
};

struct rpw_set {
	const char *name;
	int maxattr;
	const struct rpw_field *fields;
	size_t nfields;
	int has_off;		/* offset of a uint64_t has-mask, or -1 */
	struct nla_policy *policy;	/* maxattr + 1 entries, built once */
	bool ready;
};

#define FLD(st, a, t, member, nm) \
	{ .attr = (a), .type = (t), .off = offsetof(struct st, member), \
	  .size = sizeof(((struct st *)0)->member), .name = (nm) }

static const struct rpw_field node_fields[] = {
	FLD(rpw_dec_node, RACKPWR_A_NODE_ID, F_U32, id, "id"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_NAME, F_STR, name, "name"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_KIND, F_U32, kind, "kind"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_BUS, F_U32, bus, "bus"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_ADDR, F_U8, addr, "addr"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_ROLE, F_U32, role, "role"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_BAUD, F_U32, baud, "baud"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_T_IFS_US, F_U32, t_ifs_us,
	    "t-ifs-us"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_T_SLOT_US, F_U32, t_slot_us,
	    "t-slot-us"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_T_TURNAROUND_US, F_U32,
	    t_turnaround_us, "t-turnaround-us"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_ACK_TIMEOUT_US, F_U32,
	    ack_timeout_us, "ack-timeout-us"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_MAX_RETRIES, F_U8, max_retries,
	    "max-retries"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_ACCESS_BOUND_US, F_U32,
	    access_bound_us, "access-bound-us"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_STATS, F_NEST, stats, "stats"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_ELECT_STATE, F_U32, elect_state,
	    "elect-state"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_PRIMARY, F_U8, primary, "primary"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_EPOCH, F_U32, epoch, "epoch"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_ACTING, F_FLAG, acting, "acting"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_HB_US, F_U32, hb_us, "hb-us"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_MISS, F_U8, miss, "miss"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_BUS_DELAY_US, F_U32, bus_delay_us,
	    "bus-delay-us"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_DETECT_US, F_U32, detect_us,
	    "detect-us"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_SLOT_US, F_U32, slot_us, "slot-us"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_INITIAL_US, F_U32, initial_us,
	    "initial-us"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_LEASE_US, F_U32, lease_us,
	    "lease-us"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_MAX_ADDR, F_U8, max_addr, "max-addr"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_PRIO_PERIOD, F_U8, prio_period,
	    "prio-period"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_NTF_DROPPED, F_U64, ntf_dropped,
	    "ntf-dropped"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_I2C_BUS, F_U32, i2c_bus, "i2c-bus"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_I2C_BUS_AUTO, F_FLAG, i2c_bus_auto,
	    "i2c-bus-auto"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_AUTH_MODE, F_U32, auth_mode,
	    "auth-mode"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_AUTH_TX_KEY, F_U8, auth_tx_key,
	    "auth-tx-key"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_AUTH_RX_KEY, F_U8, auth_rx_key,
	    "auth-rx-key"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_LINE_LAT_SAMPLES, F_U64,
	    line_lat_samples, "line-lat-samples"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_LINE_LAT_LAST_US, F_U32,
	    line_lat_last_us, "line-lat-last-us"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_LINE_LAT_P99_US, F_U32,
	    line_lat_p99_us, "line-lat-p99-us"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_LINE_LAT_WIN_MAX_US, F_U32,
	    line_lat_win_max_us, "line-lat-win-max-us"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_LINE_LAT_MAX_US, F_U32,
	    line_lat_max_us, "line-lat-max-us"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_LINE_LAT_BUDGET_US, F_U32,
	    line_lat_budget_us, "line-lat-budget-us"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_LINE_T_SLOT_US, F_U32,
	    line_t_slot_us, "line-t-slot-us"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_LINE_T_IFS_US, F_U32,
	    line_t_ifs_us, "line-t-ifs-us"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_ELECT_TOL_US, F_U32, elect_tol_us,
	    "elect-tol-us"),
	FLD(rpw_dec_node, RACKPWR_A_NODE_ELECT_LATE_US, F_U32, elect_late_us,
	    "elect-late-us"),
};

static const struct rpw_field peer_fields[] = {
	FLD(rpw_dec_peer, RACKPWR_A_PEER_NODE_ID, F_U32, node_id, "node-id"),
	FLD(rpw_dec_peer, RACKPWR_A_PEER_ADDR, F_U8, addr, "addr"),
	FLD(rpw_dec_peer, RACKPWR_A_PEER_LAST_HEARD_MS, F_U32, last_heard_ms,
	    "last-heard-ms"),
	FLD(rpw_dec_peer, RACKPWR_A_PEER_RX_FRAMES, F_U64, rx_frames,
	    "rx-frames"),
};

static const struct rpw_field frame_fields[] = {
	FLD(rpw_dec_frame, RACKPWR_A_FRAME_NODE_ID, F_U32, node_id,
	    "node-id"),
	FLD(rpw_dec_frame, RACKPWR_A_FRAME_DST, F_U8, dst, "dst"),
	FLD(rpw_dec_frame, RACKPWR_A_FRAME_SRC, F_U8, src, "src"),
	FLD(rpw_dec_frame, RACKPWR_A_FRAME_TYPE, F_U8, type, "type"),
	FLD(rpw_dec_frame, RACKPWR_A_FRAME_SEQ, F_U8, seq, "seq"),
	{ .attr = RACKPWR_A_FRAME_PAYLOAD, .type = F_BIN,
	  .off = offsetof(struct rpw_dec_frame, payload),
	  .size = RACKPWR_MAX_PAYLOAD,
	  .len_off = offsetof(struct rpw_dec_frame, len), .name = "payload" },
};

static const struct rpw_field bus_fields[] = {
	FLD(rpw_dec_bus_event, RACKPWR_A_BUS_EVENT_NODE_ID, F_U32, node_id,
	    "node-id"),
	FLD(rpw_dec_bus_event, RACKPWR_A_BUS_EVENT_EVENT, F_U32, event,
	    "event"),
	FLD(rpw_dec_bus_event, RACKPWR_A_BUS_EVENT_ADDR, F_U8, addr, "addr"),
};

static const struct rpw_field elect_fields[] = {
	FLD(rpw_dec_elect, RACKPWR_A_ELECT_NODE_ID, F_U32, node_id, "node-id"),
	FLD(rpw_dec_elect, RACKPWR_A_ELECT_EVENT, F_U32, event, "event"),
	FLD(rpw_dec_elect, RACKPWR_A_ELECT_ADDR, F_U8, addr, "addr"),
	FLD(rpw_dec_elect, RACKPWR_A_ELECT_EPOCH, F_U32, epoch, "epoch"),
	FLD(rpw_dec_elect, RACKPWR_A_ELECT_STATE, F_U32, state, "state"),
};

static const struct rpw_field cap_fields[] = {
	FLD(rpw_dec_cap, RACKPWR_A_CAPACITY_NODE_ID, F_U32, node_id,
	    "node-id"),
	FLD(rpw_dec_cap, RACKPWR_A_CAPACITY_ADDR, F_U8, addr, "addr"),
	FLD(rpw_dec_cap, RACKPWR_A_CAPACITY_BANK_A_MW, F_U32, bank_a_mw,
	    "bank-a-mw"),
	FLD(rpw_dec_cap, RACKPWR_A_CAPACITY_BANK_B_MW, F_U32, bank_b_mw,
	    "bank-b-mw"),
	FLD(rpw_dec_cap, RACKPWR_A_CAPACITY_PRESENT, F_U8, present, "present"),
	FLD(rpw_dec_cap, RACKPWR_A_CAPACITY_HEALTHY, F_U8, healthy, "healthy"),
	FLD(rpw_dec_cap, RACKPWR_A_CAPACITY_AGE_MS, F_U32, age_ms, "age-ms"),
	FLD(rpw_dec_cap, RACKPWR_A_CAPACITY_LOCAL, F_FLAG, local, "local"),
	FLD(rpw_dec_cap, RACKPWR_A_CAPACITY_LOST, F_FLAG, lost, "lost"),
	FLD(rpw_dec_cap, RACKPWR_A_CAPACITY_POLICY_DIGEST, F_U32, policy_digest,
	    "policy-digest"),
	FLD(rpw_dec_cap, RACKPWR_A_CAPACITY_PRIMARY_DIGEST, F_U32,
	    primary_digest, "primary-digest"),
	FLD(rpw_dec_cap, RACKPWR_A_CAPACITY_DIGEST_MISMATCH, F_FLAG,
	    digest_mismatch, "digest-mismatch"),
};

static const struct rpw_field slot_fields[] = {
	FLD(rpw_dec_slot, RACKPWR_A_SLOT_NODE_ID, F_U32, node_id, "node-id"),
	FLD(rpw_dec_slot, RACKPWR_A_SLOT_SLOT, F_U8, slot, "slot"),
	FLD(rpw_dec_slot, RACKPWR_A_SLOT_STATE, F_U32, state, "state"),
	FLD(rpw_dec_slot, RACKPWR_A_SLOT_PRIO, F_U8, prio, "prio"),
	FLD(rpw_dec_slot, RACKPWR_A_SLOT_WANT_MW, F_U32, want_mw, "want-mw"),
	FLD(rpw_dec_slot, RACKPWR_A_SLOT_HELD_MW, F_U32, held_mw, "held-mw"),
	FLD(rpw_dec_slot, RACKPWR_A_SLOT_REQ_ID, F_U32, req_id, "req-id"),
	FLD(rpw_dec_slot, RACKPWR_A_SLOT_LAST_TRIGGER, F_U32, last_trigger,
	    "last-trigger"),
	FLD(rpw_dec_slot, RACKPWR_A_SLOT_PRESENT, F_FLAG, present, "present"),
	FLD(rpw_dec_slot, RACKPWR_A_SLOT_ENABLED, F_FLAG, enabled, "enabled"),
	FLD(rpw_dec_slot, RACKPWR_A_SLOT_REASON, F_U32, reason, "reason"),
	FLD(rpw_dec_slot, RACKPWR_A_SLOT_IDENT, F_STR, ident, "ident"),
	FLD(rpw_dec_slot, RACKPWR_A_SLOT_PRIMARY, F_U8, primary, "primary"),
	FLD(rpw_dec_slot, RACKPWR_A_SLOT_EPOCH, F_U32, epoch, "epoch"),
};

static const struct rpw_field power_fields[] = {
	FLD(rpw_dec_power, RACKPWR_A_POWER_NODE_ID, F_U32, node_id, "node-id"),
	FLD(rpw_dec_power, RACKPWR_A_POWER_EPOCH, F_U32, epoch, "epoch"),
	FLD(rpw_dec_power, RACKPWR_A_POWER_CHASSIS, F_U8, chassis, "chassis"),
	FLD(rpw_dec_power, RACKPWR_A_POWER_SLOT, F_U8, slot, "slot"),
	FLD(rpw_dec_power, RACKPWR_A_POWER_REQ_ID, F_U32, req_id, "req-id"),
	FLD(rpw_dec_power, RACKPWR_A_POWER_VERDICT, F_U32, verdict, "verdict"),
	FLD(rpw_dec_power, RACKPWR_A_POWER_MW, F_U32, mw, "mw"),
	FLD(rpw_dec_power, RACKPWR_A_POWER_REASON, F_U32, reason, "reason"),
	FLD(rpw_dec_power, RACKPWR_A_POWER_STATE, F_U32, state, "state"),
	FLD(rpw_dec_power, RACKPWR_A_POWER_PRIO, F_U8, prio, "prio"),
	FLD(rpw_dec_power, RACKPWR_A_POWER_WANT_MW, F_U32, want_mw, "want-mw"),
	FLD(rpw_dec_power, RACKPWR_A_POWER_HELD_MW, F_U32, held_mw, "held-mw"),
	FLD(rpw_dec_power, RACKPWR_A_POWER_AGE_MS, F_U32, age_ms, "age-ms"),
	FLD(rpw_dec_power, RACKPWR_A_POWER_EVENT, F_U32, event, "event"),
	FLD(rpw_dec_power, RACKPWR_A_POWER_ACTING, F_FLAG, acting, "acting"),
	FLD(rpw_dec_power, RACKPWR_A_POWER_RECOVERING, F_FLAG, recovering,
	    "recovering"),
	FLD(rpw_dec_power, RACKPWR_A_POWER_BOUND, F_FLAG, bound, "bound"),
	FLD(rpw_dec_power, RACKPWR_A_POWER_USABLE_MW, F_U64, usable_mw,
	    "usable-mw"),
	FLD(rpw_dec_power, RACKPWR_A_POWER_GRANTED_MW, F_U64, granted_mw,
	    "granted-mw"),
	FLD(rpw_dec_power, RACKPWR_A_POWER_PENDING, F_U32, pending, "pending"),
	FLD(rpw_dec_power, RACKPWR_A_POWER_REFUSED_INVARIANT, F_U64,
	    refused_invariant, "refused-invariant"),
	FLD(rpw_dec_power, RACKPWR_A_POWER_NO_POLICY_DENIED, F_U64,
	    no_policy_denied, "no-policy-denied"),
	FLD(rpw_dec_power, RACKPWR_A_POWER_RX_STALE, F_U64, rx_stale,
	    "rx-stale"),
	FLD(rpw_dec_power, RACKPWR_A_POWER_NTF_DROPPED, F_U64, ntf_dropped,
	    "ntf-dropped"),
	FLD(rpw_dec_power, RACKPWR_A_POWER_POLICY_DIGEST, F_U32, policy_digest,
	    "policy-digest"),
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static struct nla_policy node_pol[RACKPWR_A_NODE_MAX + 1];
static struct nla_policy peer_pol[RACKPWR_A_PEER_MAX + 1];
static struct nla_policy frame_pol[RACKPWR_A_FRAME_MAX + 1];
static struct nla_policy bus_pol[RACKPWR_A_BUS_EVENT_MAX + 1];
static struct nla_policy elect_pol[RACKPWR_A_ELECT_MAX + 1];
static struct nla_policy cap_pol[RACKPWR_A_CAPACITY_MAX + 1];
static struct nla_policy stats_pol[RACKPWR_A_STATS_MAX + 1];
static struct nla_policy slot_pol[RACKPWR_A_SLOT_MAX + 1];
static struct nla_policy power_pol[RACKPWR_A_POWER_MAX + 1];

#define SET(nm, max, f, pol, has) \
	{ .name = (nm), .maxattr = (max), .fields = (f), \
	  .nfields = ARRAY_SIZE(f), .has_off = (has), .policy = (pol) }

static struct rpw_set node_set = SET("node", RACKPWR_A_NODE_MAX, node_fields,
				     node_pol,
				     offsetof(struct rpw_dec_node, has));
static struct rpw_set peer_set = SET("peer", RACKPWR_A_PEER_MAX, peer_fields,
				     peer_pol, -1);
static struct rpw_set frame_set = SET("frame", RACKPWR_A_FRAME_MAX,
				      frame_fields, frame_pol, -1);
static struct rpw_set bus_set = SET("bus-event", RACKPWR_A_BUS_EVENT_MAX,
				    bus_fields, bus_pol, -1);
static struct rpw_set elect_set = SET("elect", RACKPWR_A_ELECT_MAX,
				      elect_fields, elect_pol, -1);
static struct rpw_set cap_set = SET("capacity", RACKPWR_A_CAPACITY_MAX,
				    cap_fields, cap_pol, -1);
static struct rpw_set slot_set = SET("slot", RACKPWR_A_SLOT_MAX, slot_fields,
				     slot_pol, -1);
static struct rpw_set power_set = SET("power", RACKPWR_A_POWER_MAX,
				      power_fields, power_pol,
				      offsetof(struct rpw_dec_power, has));

static void rpw_set_init(struct rpw_set *s)
{
	static const uint16_t len[] = { [F_U8] = 1, [F_U32] = 4, [F_U64] = 8 };
	static const uint16_t nla[] = {
		[F_U8] = NLA_U8, [F_U32] = NLA_U32, [F_U64] = NLA_U64,
		[F_FLAG] = NLA_FLAG, [F_STR] = NLA_STRING, [F_BIN] = NLA_UNSPEC,
		[F_NEST] = NLA_NESTED,
	};
	size_t i;

	if (s->ready)
		return;
	for (i = 0; i < s->nfields; i++) {
		const struct rpw_field *f = &s->fields[i];
		struct nla_policy *p = &s->policy[f->attr];

		p->type = nla[f->type];
		switch (f->type) {
		case F_U8: case F_U32: case F_U64:
			p->minlen = p->maxlen = len[f->type];
			break;
		case F_STR:	/* at least the NUL, at most the buffer */
			p->minlen = 1;
			p->maxlen = f->size;
			break;
		case F_BIN:
			p->maxlen = f->size;
			break;
		}
	}
	s->ready = true;
}

static void stats_init(void)
{
	static bool ready;
	int i;

	if (ready)
		return;
	ready = true;
	for (i = 1; i <= RACKPWR_A_STATS_MAX; i++)
		if (i != RACKPWR_A_STATS_PAD)
			stats_pol[i] = (struct nla_policy){ .type = NLA_U64,
							    .minlen = 8,
							    .maxlen = 8 };
}

static int bad(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

static const char *field_name(const struct rpw_set *s, int attr)
{
	size_t i;

	for (i = 0; i < s->nfields; i++)
		if (s->fields[i].attr == attr)
			return s->fields[i].name;
	return "?";
}

/*
 * The attributes must fill the payload exactly (libnl stops at a
 * truncated attribute and ignores what follows); on a policy failure
 * name the first attribute that breaks it.
 */
static int check_stream(const struct rpw_set *s, const char *cmd,
			struct nlattr *head, int len, int perr, char *why,
			size_t n)
{
	struct nlattr *a;
	int rem;

	nla_for_each_attr(a, head, len, rem) {
		int t = nla_type(a);

		if (perr && t <= s->maxattr &&
		    nla_validate(a, nla_total_size(nla_len(a)), s->maxattr,
				 s->policy) < 0)
			return bad(why, n, "%s: attribute %s (%d) has a bad length or type (%d bytes)",
				   cmd, field_name(s, t), t, nla_len(a));
	}
	if (rem > 0)
		return bad(why, n, "%s: %d bytes of truncated attribute at the end",
			   cmd, rem);
	if (perr)
		return bad(why, n, "%s: %s", cmd, nl_geterror(perr));
	return 0;
}

static int get_stats(struct rpw_dec_stats *st, struct nlattr *nest,
		     const char *cmd, char *why, size_t n)
{
	struct nlattr *tb[RACKPWR_A_STATS_MAX + 1];
	int i, err;

	err = nla_parse_nested(tb, RACKPWR_A_STATS_MAX, nest, stats_pol);
	if (err)
		return bad(why, n, "%s: stats: %s", cmd, nl_geterror(err));
	for (i = 1; i <= RACKPWR_A_STATS_MAX; i++) {
		if (!tb[i] || i == RACKPWR_A_STATS_PAD)
			continue;
		st->v[i] = nla_get_u64(tb[i]);
		st->has |= 1U << i;
	}
	return 0;
}

static int fill(const struct rpw_set *s, struct nlattr **tb, void *out,
		const char *cmd, char *why, size_t n)
{
	char *base = out;
	size_t i;

	for (i = 0; i < s->nfields; i++) {
		const struct rpw_field *f = &s->fields[i];
		struct nlattr *a = tb[f->attr];
		void *dst = base + f->off;
		uint8_t u8;
		uint32_t u32;
		uint64_t u64;

		if (!a)
			continue;
		switch (f->type) {
		case F_U8:
			u8 = nla_get_u8(a);
			memcpy(dst, &u8, 1);
			break;
		case F_U32:
			u32 = nla_get_u32(a);
			memcpy(dst, &u32, 4);
			break;
		case F_U64:
			u64 = nla_get_u64(a);
			memcpy(dst, &u64, 8);
			break;
		case F_FLAG:
			if (nla_len(a))
				return bad(why, n, "%s: flag %s carries %d bytes",
					   cmd, f->name, nla_len(a));
			*(bool *)dst = true;
			break;
		case F_STR:	/* the policy checked the NUL and the size */
			memcpy(dst, nla_data(a), nla_len(a));
			break;
		case F_BIN:
			memcpy(dst, nla_data(a), nla_len(a));
			u32 = nla_len(a);
			memcpy(base + f->len_off, &u32, sizeof(u32));
			break;
		case F_NEST:
			if (get_stats(dst, a, cmd, why, n))
				return -EBADMSG;
			break;
		}
		if (s->has_off >= 0)
			*(uint64_t *)(base + s->has_off) |= 1ULL << f->attr;
	}
	return 0;
}

/* What each command needs; 0 ends a list. */
static const uint16_t req_node[] = { RACKPWR_A_NODE_ID, RACKPWR_A_NODE_NAME,
	RACKPWR_A_NODE_KIND, RACKPWR_A_NODE_ROLE, 0 };
static const uint16_t req_node_id[] = { RACKPWR_A_NODE_ID, 0 };
static const uint16_t req_stats[] = { RACKPWR_A_NODE_ID,
	RACKPWR_A_NODE_STATS, 0 };
static const uint16_t req_peer[] = { RACKPWR_A_PEER_NODE_ID,
	RACKPWR_A_PEER_ADDR, RACKPWR_A_PEER_LAST_HEARD_MS,
	RACKPWR_A_PEER_RX_FRAMES, 0 };
static const uint16_t req_frame[] = { RACKPWR_A_FRAME_NODE_ID,
	RACKPWR_A_FRAME_SRC, RACKPWR_A_FRAME_DST, RACKPWR_A_FRAME_TYPE,
	RACKPWR_A_FRAME_SEQ, 0 };
static const uint16_t req_bus[] = { RACKPWR_A_BUS_EVENT_NODE_ID,
	RACKPWR_A_BUS_EVENT_EVENT, RACKPWR_A_BUS_EVENT_ADDR, 0 };
static const uint16_t req_elect[] = { RACKPWR_A_ELECT_NODE_ID,
	RACKPWR_A_ELECT_EVENT, RACKPWR_A_ELECT_ADDR, RACKPWR_A_ELECT_EPOCH,
	RACKPWR_A_ELECT_STATE, 0 };
static const uint16_t req_cap[] = { RACKPWR_A_CAPACITY_NODE_ID,
	RACKPWR_A_CAPACITY_ADDR, RACKPWR_A_CAPACITY_BANK_A_MW,
	RACKPWR_A_CAPACITY_BANK_B_MW, RACKPWR_A_CAPACITY_PRESENT,
	RACKPWR_A_CAPACITY_HEALTHY, RACKPWR_A_CAPACITY_AGE_MS, 0 };

static const uint16_t req_slot[] = { RACKPWR_A_SLOT_NODE_ID,
	RACKPWR_A_SLOT_SLOT, RACKPWR_A_SLOT_STATE, 0 };
static const uint16_t req_alloc[] = { RACKPWR_A_POWER_NODE_ID,
	RACKPWR_A_POWER_EPOCH, RACKPWR_A_POWER_CHASSIS, RACKPWR_A_POWER_SLOT,
	RACKPWR_A_POWER_STATE, 0 };
static const uint16_t req_power[] = { RACKPWR_A_POWER_NODE_ID,
	RACKPWR_A_POWER_EPOCH, 0 };
static const uint16_t req_preq[] = { RACKPWR_A_POWER_NODE_ID,
	RACKPWR_A_POWER_EPOCH, RACKPWR_A_POWER_CHASSIS, RACKPWR_A_POWER_SLOT,
	RACKPWR_A_POWER_REQ_ID, RACKPWR_A_POWER_WANT_MW, 0 };
static const uint16_t req_alloc_ntf[] = { RACKPWR_A_POWER_NODE_ID,
	RACKPWR_A_POWER_EVENT, RACKPWR_A_POWER_EPOCH, 0 };

static const struct rpw_cmd {
	uint8_t cmd;
	const char *name;
	struct rpw_set *set;
	const uint16_t *req;
} rpw_cmds[] = {
	{ RACKPWR_CMD_NODE_GET, "node-get", &node_set, req_node },
	{ RACKPWR_CMD_NODE_NEW, "node-new", &node_set, req_node },
	/* Checked further in rpw_decode(): a deletion carries the id only. */
	{ RACKPWR_CMD_NODE_CHANGE_NTF, "node-change-ntf", &node_set,
	  req_node_id },
	{ RACKPWR_CMD_STATS_GET, "stats-get", &node_set, req_stats },
	{ RACKPWR_CMD_PEER_GET, "peer-get", &peer_set, req_peer },
	{ RACKPWR_CMD_FRAME_RX_NTF, "frame-rx-ntf", &frame_set, req_frame },
	{ RACKPWR_CMD_BUS_EVENT_NTF, "bus-event-ntf", &bus_set, req_bus },
	{ RACKPWR_CMD_ELECT_NTF, "elect-ntf", &elect_set, req_elect },
	{ RACKPWR_CMD_CAPACITY_GET, "capacity-get", &cap_set, req_cap },
	{ RACKPWR_CMD_CAPACITY_NTF, "capacity-ntf", &cap_set, req_cap },
	{ RACKPWR_CMD_SLOT_GET, "slot-get", &slot_set, req_slot },
	{ RACKPWR_CMD_SLOT_NTF, "slot-ntf", &slot_set, req_slot },
	{ RACKPWR_CMD_ALLOC_GET, "alloc-get", &power_set, req_alloc },
	{ RACKPWR_CMD_POWER_GET, "power-get", &power_set, req_power },
	{ RACKPWR_CMD_POLICY_BIND, "policy-bind", &power_set, req_power },
	{ RACKPWR_CMD_POWER_REQUEST_NTF, "power-request-ntf", &power_set,
	  req_preq },
	{ RACKPWR_CMD_ALLOC_NTF, "alloc-ntf", &power_set, req_alloc_ntf },
};

static const struct rpw_cmd *find_cmd(unsigned int cmd)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(rpw_cmds); i++)
		if (rpw_cmds[i].cmd == cmd)
			return &rpw_cmds[i];
	return NULL;
}

const char *rpw_cmd_name(unsigned int cmd)
{
	const struct rpw_cmd *c = find_cmd(cmd);

	return c ? c->name : "?";
}

static int check_req(const struct rpw_cmd *c, const uint16_t *req,
		     struct nlattr **tb, char *why, size_t n)
{
	for (; *req; req++)
		if (!tb[*req])
			return bad(why, n, "%s: missing required attribute %s (%u)",
				   c->name, field_name(c->set, *req), *req);
	return 0;
}

int rpw_decode(const struct nlmsghdr *nlh, struct rpw_msg *m, char *why,
	       size_t whylen)
{
	struct nlattr *tb[RACKPWR_A_NODE_MAX + 1];	/* the largest set */
	struct nlmsghdr *h = (struct nlmsghdr *)nlh;
	const struct genlmsghdr *g;
	const struct rpw_cmd *c;
	int err;

#define NODE_MAX ((int)RACKPWR_A_NODE_MAX)
	_Static_assert(NODE_MAX >= (int)RACKPWR_A_PEER_MAX &&
		       NODE_MAX >= (int)RACKPWR_A_FRAME_MAX &&
		       NODE_MAX >= (int)RACKPWR_A_BUS_EVENT_MAX &&
		       NODE_MAX >= (int)RACKPWR_A_ELECT_MAX &&
		       NODE_MAX >= (int)RACKPWR_A_CAPACITY_MAX &&
		       NODE_MAX >= (int)RACKPWR_A_SLOT_MAX &&
		       NODE_MAX >= (int)RACKPWR_A_POWER_MAX,
		       "tb[] must hold every set");
#undef NODE_MAX
	why[0] = 0;
	memset(m, 0, sizeof(*m));
	if (nlh->nlmsg_len < NLMSG_LENGTH(GENL_HDRLEN))
		return bad(why, whylen, "message of %u bytes has no genl header",
			   nlh->nlmsg_len);
	g = nlmsg_data(h);
	c = find_cmd(g->cmd);
	if (!c)
		return -EOPNOTSUPP;
	m->cmd = g->cmd;
	rpw_set_init(c->set);
	stats_init();
	err = genlmsg_parse(h, 0, tb, c->set->maxattr, c->set->policy);
	err = check_stream(c->set, c->name, genlmsg_attrdata(g, 0),
			   genlmsg_attrlen(g, 0), err, why, whylen);
	if (err)
		return err;
	err = check_req(c, c->req, tb, why, whylen);
	if (!err && c->cmd == RACKPWR_CMD_NODE_CHANGE_NTF) {
		m->node.deleted = !tb[RACKPWR_A_NODE_NAME];
		if (!m->node.deleted)
			err = check_req(c, req_node, tb, why, whylen);
	}
	if (!err)
		err = fill(c->set, tb, &m->node, c->name, why, whylen);
	return err;
}
