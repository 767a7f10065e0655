// SPDX-License-Identifier: GPL-2.0-only
/*
 * rackpwrctl map: what the rack looks like now, on one screen.  One
 * snapshot of the kernel (node-get, and on the power-supply node viewed
 * power-get, capacity-get and alloc-get; slot-get of every chassis node
 * of this kernel) and of the agent's state file (mode and budget) is
 * turned into maptext.h's model, drawn by maptext.c or printed as JSON.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctljson.h"
#include "ctlmap.h"
#include "maptext.h"
#include "policy.h"

#define MAP_MAX_NODES	64

struct map_snap {
	struct rpw_nl *nl;
	struct rpw_dec_node node[MAP_MAX_NODES];
	unsigned int nnode;
	struct mapt_model m;
	char mode[16];
	char src[16];
};

struct map_opts {
	bool json;
	const char *state_dir;
	const char *mode;	/* --mode: the budget computed in this mode */
	const char *node;
};

static int map_node_cb(const struct rpw_msg *m, const char *bad, void *arg)
{
	struct map_snap *s = arg;

	(void)bad;
	if (s->nnode < MAP_MAX_NODES)
		s->node[s->nnode++] = m->node;
	return 0;
}

static bool has_role(const struct rpw_dec_node *n, uint32_t role)
{
	return RPW_HAS(n->has, RACKPWR_A_NODE_ROLE) && n->role == role;
}

static bool is_primary(const struct rpw_dec_node *n)
{
	return RPW_HAS(n->has, RACKPWR_A_NODE_ELECT_STATE) &&
	       n->elect_state == RACKPWR_ELECT_STATE_PRIMARY;
}

/*
 * The power-supply node to view: @want if given, else the acting
 * primary, else a primary, else the first power-supply node; -1: none.
 */
static int map_pick(const struct map_snap *s, int want)
{
	int i, best = -1;

	for (i = 0; i < (int)s->nnode; i++) {
		const struct rpw_dec_node *n = &s->node[i];

		if (!has_role(n, RACKPWR_ROLE_PSU))
			continue;
		if (want >= 0) {
			if ((int)n->id == want)
				return i;
			continue;
		}
		if (is_primary(n) && n->acting)
			return i;
		if (best < 0 || (is_primary(n) && !is_primary(&s->node[best])))
			best = i;
	}
	return best;
}

static int map_cap_cb(const struct rpw_msg *m, const char *bad, void *arg)
{
	struct mapt_model *mm = arg;
	const struct rpw_dec_cap *c = &m->cap;
	unsigned int i;

	(void)bad;
	if (mm->nasm >= MAPT_MAX_ASM)
		return 0;
	/* In address order, as an operator counts them. */
	for (i = mm->nasm; i > 0 && mm->asm_[i - 1].addr > c->addr; i--)
		mm->asm_[i] = mm->asm_[i - 1];
	mm->asm_[i] = (struct mapt_asm){ .addr = c->addr,
		.present = c->present, .healthy = c->healthy, .lost = c->lost,
		.bank_a_mw = c->bank_a_mw, .bank_b_mw = c->bank_b_mw };
	mm->nasm++;
	return 0;
}

/* The chassis of address @addr, added (in address order) if new. */
static struct mapt_chassis *map_chassis(struct mapt_model *mm, uint8_t addr)
{
	unsigned int i, k;

	for (i = 0; i < mm->nchassis; i++)
		if (mm->chassis[i].addr == addr)
			return &mm->chassis[i];
	if (mm->nchassis >= MAPT_MAX_CHASSIS)
		return NULL;
	for (i = mm->nchassis; i > 0 && mm->chassis[i - 1].addr > addr; i--)
		mm->chassis[i] = mm->chassis[i - 1];
	memset(&mm->chassis[i], 0, sizeof(mm->chassis[i]));
	mm->chassis[i].addr = addr;
	for (k = 0; k < MAPT_SLOTS; k++)
		mm->chassis[i].slot[k].state = MAPT_UNKNOWN;
	mm->nchassis++;
	return &mm->chassis[i];
}

static enum mapt_state slot_state(uint32_t st)
{
	switch (st) {
	case RACKPWR_SLOT_STATE_EMPTY: return MAPT_EMPTY;
	case RACKPWR_SLOT_STATE_OFF: return MAPT_OFF;
	case RACKPWR_SLOT_STATE_REQUESTING: return MAPT_ASKING;
	case RACKPWR_SLOT_STATE_QUEUED: return MAPT_QUEUED;
	case RACKPWR_SLOT_STATE_DENIED: return MAPT_DENIED;
	case RACKPWR_SLOT_STATE_GRANTED: return MAPT_GRANTED;
	case RACKPWR_SLOT_STATE_SHEDDING: return MAPT_SHEDDING;
	case RACKPWR_SLOT_STATE_RELEASING: return MAPT_RELEASING;
	}
	return MAPT_UNKNOWN;
}

static int map_slot_cb(const struct rpw_msg *m, const char *bad, void *arg)
{
	struct mapt_chassis *c = arg;
	const struct rpw_dec_slot *v = &m->slot;
	struct mapt_slot *s;

	(void)bad;
	if (v->slot >= MAPT_SLOTS)
		return 0;
	s = &c->slot[v->slot];
	s->state = slot_state(v->state);
	s->mw = s->state == MAPT_GRANTED || s->state == MAPT_SHEDDING ?
		v->held_mw : v->want_mw;
	return 0;
}

/* The primary's table fills the slots of chassis not in this kernel. */
static int map_ent_cb(const struct rpw_msg *m, const char *bad, void *arg)
{
	static const enum mapt_state st[] = {
		[RACKPWR_ALLOC_STATE_PENDING] = MAPT_ASKING,
		[RACKPWR_ALLOC_STATE_QUEUED] = MAPT_QUEUED,
		[RACKPWR_ALLOC_STATE_GRANTED] = MAPT_GRANTED,
		[RACKPWR_ALLOC_STATE_SHEDDING] = MAPT_SHEDDING,
	};
	const struct rpw_dec_power *p = &m->power;
	struct mapt_chassis *c;
	struct mapt_slot *s;

	(void)bad;
	c = map_chassis(arg, p->chassis);
	if (!c || c->local || p->slot >= MAPT_SLOTS ||
	    !RPW_HAS(p->has, RACKPWR_A_POWER_STATE) ||
	    p->state >= sizeof(st) / sizeof(st[0]) || !st[p->state])
		return 0;
	s = &c->slot[p->slot];
	s->state = st[p->state];
	s->mw = s->state == MAPT_GRANTED || s->state == MAPT_SHEDDING ?
		p->held_mw : p->want_mw;
	return 0;
}

static int map_power_cb(const struct rpw_msg *m, const char *bad, void *arg)
{
	(void)bad;
	*(struct rpw_dec_power *)arg = m->power;
	return 0;
}

static int map_dump(struct map_snap *s, int cmd, int attr, uint32_t id,
		    int flags, rpw_nl_cb cb, void *arg)
{
	struct nl_msg *msg = rpw_nl_msg(s->nl, cmd, flags);

	nla_put_u32(msg, attr, id);
	return rpw_nl_call(s->nl, msg, cb, arg);
}

/* The agent's mode and budget from DIR/node-ID.json; false without. */
static bool map_agent(struct map_snap *s, const char *dir, uint32_t id)
{
	static char buf[1 << 20];
	struct mapt_model *mm = &s->m;
	struct cj_tok *tok;
	struct cj_doc d;
	const char *why;
	char path[512];
	size_t len, at;
	bool ok = false;
	FILE *f;
	int b;

	snprintf(path, sizeof(path), "%s/node-%u.json", dir, id);
	f = fopen(path, "r");
	if (!f)
		return false;
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	tok = len < sizeof(buf) ? calloc(len + 1, sizeof(*tok)) : NULL;
	if (tok && !cj_parse(&d, buf, len, tok, len + 1, &at, &why) &&
	    d.t[0].type == CJ_OBJ)
		b = cj_get(&d, 0, "budget");
	else
		b = -1;
	/* cj_u64() and cj_str() refuse token -1. */
	if (b >= 0 &&
	    cj_str(&d, cj_get(&d, 0, "mode"), s->mode, sizeof(s->mode)) &&
	    cj_u64(&d, cj_get(&d, b, "rail_a_mw"), &mm->rail_a_mw) &&
	    cj_u64(&d, cj_get(&d, b, "rail_b_mw"), &mm->rail_b_mw) &&
	    cj_u64(&d, cj_get(&d, b, "usable_mw"), &mm->usable_mw) &&
	    cj_u64(&d, cj_get(&d, b, "budget_mw"), &mm->budget_mw))
		ok = true;
	else
		fprintf(stderr, "rackpwrctl: map: %s unreadable; budget computed\n",
			path);
	free(tok);
	return ok;
}

/* Without the agent's word: the policy library's arithmetic. */
static void map_compute(struct map_snap *s, const char *mode_name)
{
	static struct rpwp_assembly a[MAPT_MAX_ASM];
	static struct rpwp_action act[16];
	static struct rpwp_cfg cfg;
	struct rpwp_out out = { .act = act, .max = 16 };
	struct mapt_model *mm = &s->m;
	enum rpwp_mode mode = RPWP_MODE_NN;
	struct rpwp_budget b;
	struct rpwp *p;
	unsigned int i;

	rpwp_mode_parse(mode_name, &mode);
	rpwp_cfg_init(&cfg);
	cfg.mode = mode;
	p = rpwp_create(8, &cfg);
	if (!p)
		return;
	for (i = 0; i < mm->nasm; i++)
		a[i] = (struct rpwp_assembly){ .addr = mm->asm_[i].addr,
			.present = mm->asm_[i].present,
			.healthy = mm->asm_[i].healthy,
			.lost = mm->asm_[i].lost,
			.bank_a_mw = mm->asm_[i].bank_a_mw,
			.bank_b_mw = mm->asm_[i].bank_b_mw };
	rpwp_resync_begin(p);
	rpwp_capacity(p, a, mm->nasm, 0, &out);
	rpwp_resync_end(p, 0, &out);
	rpwp_budget(p, &b);
	rpwp_destroy(p);
	snprintf(s->mode, sizeof(s->mode), "%s", rpwp_mode_name(mode));
	mm->rail_a_mw = b.rail_a_mw;
	mm->rail_b_mw = b.rail_b_mw;
	mm->usable_mw = b.usable_mw;
	mm->budget_mw = b.budget_mw;
}

/* The power-supply node's view: capacity, table, power and budget. */
static int map_view(struct map_snap *s, const struct rpw_dec_node *n,
		    const struct map_opts *o)
{
	struct mapt_model *mm = &s->m;
	struct rpw_dec_power pw = { 0 };
	int err;

	mm->have_view = true;
	mm->node_id = n->id;
	mm->node_addr = n->addr;
	mm->is_primary = is_primary(n);
	mm->acting = n->acting;
	err = map_dump(s, RACKPWR_CMD_CAPACITY_GET, RACKPWR_A_CAPACITY_NODE_ID,
		       n->id, NLM_F_DUMP, map_cap_cb, mm);
	if (!err)
		err = map_dump(s, RACKPWR_CMD_POWER_GET, RACKPWR_A_POWER_NODE_ID,
			       n->id, 0, map_power_cb, &pw);
	if (!err && mm->is_primary)
		err = map_dump(s, RACKPWR_CMD_ALLOC_GET, RACKPWR_A_POWER_NODE_ID,
			       n->id, NLM_F_DUMP, map_ent_cb, mm);
	if (err)
		return err;
	mm->have_budget = mm->nasm > 0;
	if (!o->mode && map_agent(s, o->state_dir, n->id)) {
		snprintf(s->src, sizeof(s->src), "agent");
	} else if (mm->have_budget) {
		snprintf(s->src, sizeof(s->src), "computed");
		map_compute(s, o->mode ? o->mode : "n+n");
	}
	/* What is granted is the kernel's word, never a file's. */
	mm->granted_mw = pw.granted_mw;
	mm->recovering = pw.recovering;
	mm->mode = s->mode;
	mm->budget_src = s->src;
	return 0;
}

/* 0, -errno of the kernel (extack in nl->errmsg), or 1: said already. */
static int map_take(struct map_snap *s, const struct map_opts *o)
{
	struct mapt_model *mm = &s->m;
	struct nl_msg *msg;
	unsigned int i;
	int err, want = -1, v;

	if (o->node) {
		want = rpw_nl_node_lookup(s->nl, o->node);
		if (want < 0) {
			fprintf(stderr, "rackpwrctl: map: no node '%s'\n", o->node);
			return 1;
		}
	}
	msg = rpw_nl_msg(s->nl, RACKPWR_CMD_NODE_GET, NLM_F_DUMP);
	err = rpw_nl_call(s->nl, msg, map_node_cb, s);
	if (err)
		return err;
	/* Local chassis first: their own slots win over the table. */
	for (i = 0; i < s->nnode; i++) {
		const struct rpw_dec_node *n = &s->node[i];
		struct mapt_chassis *c;

		if (!has_role(n, RACKPWR_ROLE_CHASSIS))
			continue;
		c = map_chassis(mm, n->addr);
		if (!c)
			break;
		c->local = true;
		c->follows = n->primary;
		err = map_dump(s, RACKPWR_CMD_SLOT_GET, RACKPWR_A_SLOT_NODE_ID,
			       n->id, NLM_F_DUMP, map_slot_cb, c);
		if (err)
			return err;
	}
	v = map_pick(s, want);
	if (want >= 0 && v < 0) {
		fprintf(stderr, "rackpwrctl: map: node '%s' is not a power-supply node\n",
			o->node);
		return 1;
	}
	if (v >= 0) {
		mm->primary = s->node[v].primary;
		mm->epoch = s->node[v].epoch;
		return map_view(s, &s->node[v], o);
	}
	/* Chassis only: the primary the first chassis follows. */
	for (i = 0; i < s->nnode; i++)
		if (has_role(&s->node[i], RACKPWR_ROLE_CHASSIS)) {
			mm->primary = s->node[i].primary;
			mm->epoch = s->node[i].epoch;
			break;
		}
	return 0;
}

static const char *const state_names[MAPT_NSTATES] = {
	[MAPT_UNKNOWN] = "unknown", [MAPT_EMPTY] = "empty", [MAPT_OFF] = "off",
	[MAPT_ASKING] = "asking", [MAPT_QUEUED] = "queued",
	[MAPT_DENIED] = "denied", [MAPT_GRANTED] = "granted",
	[MAPT_SHEDDING] = "shedding", [MAPT_RELEASING] = "releasing",
};

static void map_json_asm(const struct mapt_model *m)
{
	unsigned int i, k;

	printf(",\"assemblies\":[");
	for (i = 0; i < m->nasm; i++) {
		const struct mapt_asm *a = &m->asm_[i];

		printf("%s{\"addr\":%u,\"primary\":%s,\"lost\":%s,\"bank_a_mw\":%u,\"bank_b_mw\":%u,\"supplies\":[",
		       i ? "," : "", a->addr,
		       a->addr == m->primary ? "true" : "false",
		       a->lost ? "true" : "false", a->bank_a_mw, a->bank_b_mw);
		for (k = 0; k < MAPT_SUPPLIES; k++)
			printf("%s\"%s\"", k ? "," : "",
			       !(a->present & 1u << k) ? "absent" :
			       a->healthy & 1u << k ? "ok" : "failed");
		printf("]}");
	}
	printf("]");
}

static void map_json_chassis(const struct mapt_model *m)
{
	unsigned int i, k;

	printf(",\"chassis\":[");
	for (i = 0; i < m->nchassis; i++) {
		const struct mapt_chassis *c = &m->chassis[i];

		printf("%s{\"addr\":%u,\"source\":\"%s\",", i ? "," : "",
		       c->addr, c->local ? "slot-get" : "alloc-get");
		if (c->local)
			printf("\"follows\":%u,", c->follows);
		printf("\"held_mw\":%llu,\"slots\":[",
		       (unsigned long long)maptext_chassis_mw(c));
		for (k = 0; k < MAPT_SLOTS; k++)
			printf("%s{\"slot\":%u,\"state\":\"%s\",\"mw\":%u}",
			       k ? "," : "", k, state_names[c->slot[k].state],
			       maptext_slot_mw(&c->slot[k]));
		printf("]}");
	}
	printf("]");
}

static void map_json(const struct mapt_model *m)
{
	printf("{\"primary\":%u,\"epoch\":%u", m->primary, m->epoch);
	if (m->have_view)
		printf(",\"node\":{\"id\":%u,\"addr\":%u,\"is_primary\":%s,\"acting\":%s,\"recovering\":%s}",
		       m->node_id, m->node_addr, m->is_primary ? "true" : "false",
		       m->acting ? "true" : "false",
		       m->recovering ? "true" : "false");
	if (m->have_view && m->have_budget) {
		printf(",\"budget\":{\"source\":");
		cj_put_str(stdout, m->budget_src);
		printf(",\"mode\":");
		cj_put_str(stdout, m->mode);
		printf(",\"rail_a_mw\":%llu,\"rail_b_mw\":%llu,\"usable_mw\":%llu,\"budget_mw\":%llu,\"granted_mw\":%llu}",
		       (unsigned long long)m->rail_a_mw,
		       (unsigned long long)m->rail_b_mw,
		       (unsigned long long)m->usable_mw,
		       (unsigned long long)m->budget_mw,
		       (unsigned long long)m->granted_mw);
	} else {
		printf(",\"budget\":null");
	}
	map_json_asm(m);
	map_json_chassis(m);
	printf("}\n");
}

static const struct option map_longopts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "state-dir", required_argument, NULL, 'S' },
	{ "mode", required_argument, NULL, 'M' },
	{ NULL, 0, NULL, 0 },
};

static int map_parse(int argc, char **argv, struct map_opts *o)
{
	enum rpwp_mode mode;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "j", map_longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o->json = true;
			break;
		case 'S':
			o->state_dir = optarg;
			break;
		case 'M':
			if (rpwp_mode_parse(optarg, &mode)) {
				fprintf(stderr, "rackpwrctl: map: bad mode '%s' (n+n, n+1, none)\n",
					optarg);
				return -1;
			}
			o->mode = optarg;
			break;
		default:
			return -1;
		}
	}
	if (argc - optind > 1)
		return -1;
	o->node = optind < argc ? argv[optind] : NULL;
	return 0;
}

int ctl_map(struct rpw_nl *nl, int argc, char **argv, bool json)
{
	static struct map_snap s;
	static char text[1 << 16];
	struct map_opts o = { .json = json, .state_dir = "/run/rackpwrd" };
	int err;

	if (map_parse(argc, argv, &o)) {
		fputs("usage: rackpwrctl map [NODE] [-j] [--state-dir DIR] [--mode n+n|n+1|none]\n",
		      stderr);
		return 2;
	}
	memset(&s, 0, sizeof(s));
	s.nl = nl;
	err = map_take(&s, &o);
	if (err > 0)
		return 1;
	if (err) {
		fprintf(stderr, "rackpwrctl: map: %s%s%s\n", strerror(-err),
			nl->errmsg[0] ? ": " : "", nl->errmsg);
		return 1;
	}
	if (o.json) {
		map_json(&s.m);
		return 0;
	}
	if (maptext_render(&s.m, text, sizeof(text)) >= sizeof(text))
		fputs("rackpwrctl: map: drawing truncated\n", stderr);
	fputs(text, stdout);
	return 0;
}
