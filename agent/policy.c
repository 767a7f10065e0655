// SPDX-License-Identifier: GPL-2.0-only
/*
 * rackpwr allocation policy (rpwp): the budget under a redundancy mode,
 * the grant queue, one-at-a-time priority shedding and the restore of shed
 * slots.  Pure: rules and costs in policy.h, the policy itself in
 * Documentation/admin-guide/rackpwr-policy.rst.
 *
 * Every (chassis, slot) the policy knows has a record in a fixed pool,
 * found through a hash table.  Records that wait (requests not answered,
 * queued, shed slots waiting for capacity) sit in the wait heap, best
 * first; granted records that may be shed sit in the shed heap, first to
 * shed at the root.  Totals are kept as records change state, so no
 * decision walks the table.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

#define NIL		(-1)
#define RPWP_MAX_SLOTS	(1u << 22)
#define RPWP_MAX_ASM	256
#define RPWP_DL_MAX	86400000ull

#define R_SHED		7	/* rackpwr_reason values seen in entries */
#define R_REFUSED	13

/*
 * Which intrusive list a record is on (at most one).  L_SETTLEQ: queued
 * while settling by "when-full deny", answered again when it ends.
 */
enum { L_NONE, L_IDLE, L_UNANS, L_NC, L_SHEDDING, L_RESTORING, L_SETTLEQ };

struct list {
	int32_t head, tail;
	unsigned int n;
};

struct rec {
	uint16_t chassis;
	uint8_t slot;
	uint8_t kprio;		/* the chassis's */
	uint8_t prio;		/* effective */
	uint8_t state;		/* enum rpwp_pstate */
	uint8_t used;
	uint8_t list;		/* L_* */
	uint8_t answered;	/* the request had its first answer */
	uint8_t k_shed;		/* the kernel showed it SHEDDING */
	uint8_t has_last;
	uint8_t first_grant;	/* the grant was the request's first answer */
	uint8_t nc_report;	/* NONCOMPLIANT action still to be sent */
	uint8_t shed_back;	/* a shed slot asking again: always queued */
	uint32_t want_mw, held_mw, req_id;
	uint64_t since_ms;
	uint64_t arr_ms;	/* arrival: wait order after prio */
	uint64_t arr_n;
	uint64_t deadline;	/* shed or restore deadline */
	int32_t hnext;		/* hash chain, or free list */
	int32_t wpos, spos;	/* heap positions */
	int32_t lprev, lnext;
	char nc_why[40];
	struct rpwp_action last;
};

struct heap {
	int32_t *a;
	unsigned int n;
	int (*before)(const struct rpwp *p, const struct rec *x,
		      const struct rec *y);
	size_t pos_off;		/* offsetof(struct rec, wpos/spos) */
};

struct rpwp {
	struct rpwp_cfg cfg;
	struct rpwp_prio_override *ovr;	/* sorted copy */
	unsigned int max;
	struct rec *r;
	int32_t *bucket;
	uint32_t hmask;
	int32_t free;
	struct heap wait, shed;
	struct list idle, unans, nc, shedding, restoring, settleq;
	int32_t *scratch;		/* rpwp_plan()/queue_list() */
	struct rpwp_assembly asm_[RPWP_MAX_ASM];
	unsigned int n_asm;
	struct rpwp_budget b;		/* numbers kept current */
	uint64_t arr_n;
	uint64_t pause_until;
	int pause_err;			/* the refusal that paused grants */
	uint64_t settle_until;		/* sheds held until, 0: not settling */
	bool more;			/* work left for rpwp_tick() */
	unsigned int nc_unsent;		/* NONCOMPLIANT reports not sent */
	bool resyncing;
};

/* ---- names and formatting ---------------------------------------------- */

/* A human text, cut at @len on purpose (snprintf() would warn). */
static __attribute__((format(printf, 3, 4)))
void tfmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

static const char *const mode_names[] = { "n+n", "n+1", "none" };

const char *rpwp_mode_name(enum rpwp_mode mode)
{
	return (unsigned int)mode < 3 ? mode_names[mode] : "?";
}

int rpwp_mode_parse(const char *s, enum rpwp_mode *mode)
{
	for (unsigned int i = 0; i < 3; i++) {
		if (s && !strcmp(s, mode_names[i])) {
			*mode = (enum rpwp_mode)i;
			return 0;
		}
	}
	return -1;
}

const char *rpwp_pstate_name(enum rpwp_pstate st)
{
	static const char *const n[] = {
		"idle", "pending", "queued", "granted", "shedding",
		"noncompliant", "shed", "restoring",
	};

	return (unsigned int)st < sizeof(n) / sizeof(n[0]) ? n[st] : "?";
}

const char *rpwp_verdict_name(enum rpwp_verdict v)
{
	switch (v) {
	case RPWP_GRANT: return "grant";
	case RPWP_QUEUE: return "queue";
	case RPWP_DENY: return "deny";
	}
	return "?";
}

const char *rpwp_reason_name(enum rpwp_reason r)
{
	switch (r) {
	case RPWP_R_NONE: return "none";
	case RPWP_R_CAPACITY: return "capacity";
	case RPWP_R_REDUNDANCY: return "redundancy";
	case RPWP_R_POLICY: return "policy";
	case RPWP_R_RECOVERING: return "recovering";
	case RPWP_R_NEVER_FITS: return "never-fits";
	}
	return "?";
}

const char *rpwp_act_name(enum rpwp_act_type t)
{
	switch (t) {
	case RPWP_ACT_DECIDE: return "decide";
	case RPWP_ACT_SHED: return "shed";
	case RPWP_ACT_NONCOMPLIANT: return "noncompliant";
	case RPWP_ACT_RESTORE: return "restore";
	}
	return "?";
}

char *rpwp_kw(uint64_t mw, char *buf)
{
	uint64_t c = mw / 10000 + (mw % 10000 >= 5000);	/* 10 W, half up */

	snprintf(buf, 24, "%llu.%02llu", (unsigned long long)(c / 100),
		 (unsigned long long)(c % 100));
	return buf;
}

/* ---- configuration ------------------------------------------------------ */

void rpwp_cfg_init(struct rpwp_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = RPWP_MODE_NN;
	cfg->shed_deadline_ms = RPWP_SHED_DEADLINE_MS;
	cfg->restore_ms = RPWP_RESTORE_MS;
}

static int ovr_cmp(const void *a, const void *b)
{
	const struct rpwp_prio_override *x = a, *y = b;

	if (x->chassis != y->chassis)
		return x->chassis < y->chassis ? -1 : 1;
	return (int)x->slot - (int)y->slot;
}

static void ovr_sift(struct rpwp_prio_override *a, unsigned int i,
		     unsigned int n)
{
	for (;;) {
		unsigned int c = 2 * i + 1;
		struct rpwp_prio_override t;

		if (c >= n)
			return;
		if (c + 1 < n && ovr_cmp(&a[c], &a[c + 1]) < 0)
			c++;
		if (ovr_cmp(&a[i], &a[c]) >= 0)
			return;
		t = a[i];
		a[i] = a[c];
		a[c] = t;
		i = c;
	}
}

/* In-place heapsort by (chassis, slot): qsort() may allocate. */
static void ovr_sort(struct rpwp_prio_override *a, unsigned int n)
{
	for (unsigned int i = n / 2; i-- > 0; )
		ovr_sift(a, i, n);
	for (unsigned int end = n; end > 1; ) {
		struct rpwp_prio_override t = a[0];

		a[0] = a[--end];
		a[end] = t;
		ovr_sift(a, 0, end);
	}
}

int rpwp_cfg_check(const struct rpwp_cfg *cfg, char *err, size_t errlen)
{
	struct rpwp_prio_override tmp[RPWP_MAX_OVERRIDES];

	if ((unsigned int)cfg->mode > RPWP_MODE_NONE) {
		tfmt(err, errlen, "unknown redundancy mode %d", cfg->mode);
		return -1;
	}
	if (!cfg->shed_deadline_ms || cfg->shed_deadline_ms > RPWP_DL_MAX) {
		tfmt(err, errlen, "shed deadline %llu ms not in 1..%llu",
		     (unsigned long long)cfg->shed_deadline_ms, RPWP_DL_MAX);
		return -1;
	}
	if (!cfg->restore_ms || cfg->restore_ms > RPWP_DL_MAX) {
		tfmt(err, errlen, "restore time %llu ms not in 1..%llu",
		     (unsigned long long)cfg->restore_ms, RPWP_DL_MAX);
		return -1;
	}
	if (cfg->n_overrides > RPWP_MAX_OVERRIDES) {
		tfmt(err, errlen, "%u priority overrides, at most %u",
		     cfg->n_overrides, RPWP_MAX_OVERRIDES);
		return -1;
	}
	memcpy(tmp, cfg->overrides, cfg->n_overrides * sizeof(tmp[0]));
	ovr_sort(tmp, cfg->n_overrides);
	for (unsigned int i = 1; i < cfg->n_overrides; i++) {
		if (!ovr_cmp(&tmp[i - 1], &tmp[i])) {
			tfmt(err, errlen,
			     "priority of chassis %u slot %u set twice",
			     tmp[i].chassis, tmp[i].slot);
			return -1;
		}
	}
	return 0;
}

/* Where the canonical text goes: a bounded buffer, or the digest. */
struct canon {
	char *buf;
	size_t len, at;
	uint64_t h;
};

static void canon_put(struct canon *c, const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++) {
		c->h ^= (unsigned char)s[i];
		c->h *= 0x100000001b3ull;	/* FNV-1a 64 prime */
	}
	if (c->buf && c->at < c->len) {
		size_t room = c->len - c->at - 1, k = n < room ? n : room;

		memcpy(c->buf + c->at, s, k);
		c->buf[c->at + k] = '\0';
	}
	c->at += n;
}

static void canon_run(const struct rpwp_cfg *cfg, struct canon *c)
{
	struct rpwp_prio_override tmp[RPWP_MAX_OVERRIDES];
	unsigned int n = cfg->n_overrides;
	char line[64];

	c->h = 0xcbf29ce484222325ull;		/* FNV-1a 64 offset basis */
	if (c->buf && c->len)
		c->buf[0] = '\0';
	if (n > RPWP_MAX_OVERRIDES)
		n = RPWP_MAX_OVERRIDES;
	tfmt(line, sizeof(line), "mode=%s\n", rpwp_mode_name(cfg->mode));
	canon_put(c, line);
	tfmt(line, sizeof(line), "shed_deadline_ms=%llu\n",
	     (unsigned long long)cfg->shed_deadline_ms);
	canon_put(c, line);
	tfmt(line, sizeof(line), "restore_ms=%llu\n",
	     (unsigned long long)cfg->restore_ms);
	canon_put(c, line);
	canon_put(c, cfg->deny_when_full ? "full=deny\n" : "full=queue\n");
	memcpy(tmp, cfg->overrides, n * sizeof(tmp[0]));
	ovr_sort(tmp, n);
	for (unsigned int i = 0; i < n; i++) {
		tfmt(line, sizeof(line), "prio=%u/%u:%u\n", tmp[i].chassis,
		     tmp[i].slot, tmp[i].prio);
		canon_put(c, line);
	}
}

size_t rpwp_cfg_canon(const struct rpwp_cfg *cfg, char *buf, size_t len)
{
	struct canon c = { .buf = buf, .len = len };

	canon_run(cfg, &c);
	return c.at;
}

uint64_t rpwp_cfg_digest(const struct rpwp_cfg *cfg)
{
	struct canon c = { 0 };

	canon_run(cfg, &c);
	return c.h;
}

/* ---- capacity and budget ------------------------------------------------ */

static unsigned int popcount8(uint8_t v)
{
	return (unsigned int)__builtin_popcount(v);
}

/*
 * One supply's share of its bank, rounded up; the whole bank if none of
 * its supplies is marked healthy but it reports capacity.
 */
static uint32_t bank_share(const struct rpwp_assembly *a, int bank_b)
{
	uint32_t mw = bank_b ? a->bank_b_mw : a->bank_a_mw;
	unsigned int n = popcount8(a->healthy &
				   (bank_b ? RPWP_BANK_B_MASK : RPWP_BANK_A_MASK));

	return n ? mw / n + (mw % n != 0) : mw;
}

uint32_t rpwp_supply_mw(const struct rpwp_assembly *a, unsigned int index)
{
	if (index >= RPWP_SUPPLIES || !(a->healthy & (1u << index)) || a->lost)
		return 0;
	return bank_share(a, index >= 3);
}

/* The budget numbers of @a under @mode (granted etc. left alone). */
static void budget_of(const struct rpwp_assembly *a, unsigned int n,
		      enum rpwp_mode mode, struct rpwp_budget *b)
{
	uint64_t ra = 0, rb = 0, mx = 0;

	for (unsigned int i = 0; i < n; i++) {
		if (a[i].lost)
			continue;
		ra += a[i].bank_a_mw;
		rb += a[i].bank_b_mw;
		for (int k = 0; k < 2; k++) {
			uint64_t s = bank_share(&a[i], k);

			if ((k ? a[i].bank_b_mw : a[i].bank_a_mw) && s > mx)
				mx = s;
		}
	}
	b->mode = mode;
	b->rail_a_mw = ra;
	b->rail_b_mw = rb;
	b->usable_mw = ra + rb;
	b->max_supply_mw = mx;
	switch (mode) {
	case RPWP_MODE_NN:
		b->budget_mw = ra < rb ? ra : rb;
		break;
	case RPWP_MODE_N1:
		b->budget_mw = ra + rb - mx;
		break;
	default:
		b->budget_mw = ra + rb;
		break;
	}
}

/* "n+n: rail B 4.80 kW usable" and its kin. */
static void budget_text(const struct rpwp_budget *b, char *s, size_t len)
{
	char k1[24], k2[24], k3[24];

	switch (b->mode) {
	case RPWP_MODE_NN:
		if (b->rail_a_mw == b->rail_b_mw)
			tfmt(s, len, "n+n: rails A and B %s kW usable",
			     rpwp_kw(b->rail_a_mw, k1));
		else
			tfmt(s, len, "n+n: rail %c %s kW usable",
			     b->rail_a_mw < b->rail_b_mw ? 'A' : 'B',
			     rpwp_kw(b->budget_mw, k1));
		break;
	case RPWP_MODE_N1:
		tfmt(s, len, "n+1: %s kW usable less one supply %s kW = %s kW",
		     rpwp_kw(b->usable_mw, k1), rpwp_kw(b->max_supply_mw, k2),
		     rpwp_kw(b->budget_mw, k3));
		break;
	default:
		tfmt(s, len, "none: %s kW usable", rpwp_kw(b->usable_mw, k1));
		break;
	}
}

/* ---- records, hash, lists ----------------------------------------------- */

static inline int32_t ridx(const struct rpwp *p, const struct rec *r)
{
	return (int32_t)(r - p->r);
}

static uint32_t hkey(uint16_t chassis, uint8_t slot, uint32_t mask)
{
	uint32_t k = ((uint32_t)chassis << 8 | slot) * 0x9e3779b1u;

	return (k ^ (k >> 15)) & mask;
}

static struct rec *rec_find(const struct rpwp *p, uint16_t chassis,
			    uint8_t slot)
{
	int32_t i = p->bucket[hkey(chassis, slot, p->hmask)];

	while (i != NIL) {
		struct rec *r = &p->r[i];

		if (r->chassis == chassis && r->slot == slot)
			return r;
		i = r->hnext;
	}
	return NULL;
}

static void list_add(struct rpwp *p, struct list *l, int id, struct rec *r)
{
	int32_t i = ridx(p, r);

	r->list = (uint8_t)id;
	r->lnext = NIL;
	r->lprev = l->tail;
	if (l->tail != NIL)
		p->r[l->tail].lnext = i;
	else
		l->head = i;
	l->tail = i;
	l->n++;
}

static struct list *list_of(struct rpwp *p, uint8_t id)
{
	switch (id) {
	case L_IDLE: return &p->idle;
	case L_UNANS: return &p->unans;
	case L_NC: return &p->nc;
	case L_SHEDDING: return &p->shedding;
	case L_RESTORING: return &p->restoring;
	case L_SETTLEQ: return &p->settleq;
	}
	return NULL;
}

static void list_del(struct rpwp *p, struct rec *r)
{
	struct list *l = list_of(p, r->list);

	if (!l)
		return;
	if (r->lprev != NIL)
		p->r[r->lprev].lnext = r->lnext;
	else
		l->head = r->lnext;
	if (r->lnext != NIL)
		p->r[r->lnext].lprev = r->lprev;
	else
		l->tail = r->lprev;
	l->n--;
	r->list = L_NONE;
	r->lprev = NIL;
	r->lnext = NIL;
}

static void hash_del(struct rpwp *p, struct rec *r)
{
	int32_t *pp = &p->bucket[hkey(r->chassis, r->slot, p->hmask)];

	while (*pp != NIL && *pp != ridx(p, r))
		pp = &p->r[*pp].hnext;
	if (*pp != NIL)
		*pp = r->hnext;
}

/* ---- heaps (indexed: each record knows its position) -------------------- */

static int32_t *hpos(const struct heap *h, struct rec *r)
{
	return (int32_t *)((char *)r + h->pos_off);
}

static void heap_set(struct rpwp *p, struct heap *h, unsigned int i,
		     int32_t id)
{
	h->a[i] = id;
	*hpos(h, &p->r[id]) = (int32_t)i;
}

static void heap_up(struct rpwp *p, struct heap *h, unsigned int i)
{
	int32_t id = h->a[i];

	while (i) {
		unsigned int up = (i - 1) / 2;

		if (!h->before(p, &p->r[id], &p->r[h->a[up]]))
			break;
		heap_set(p, h, i, h->a[up]);
		i = up;
	}
	heap_set(p, h, i, id);
}

static void heap_down(struct rpwp *p, struct heap *h, unsigned int i)
{
	int32_t id = h->a[i];

	for (;;) {
		unsigned int c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n &&
		    h->before(p, &p->r[h->a[c + 1]], &p->r[h->a[c]]))
			c++;
		if (!h->before(p, &p->r[h->a[c]], &p->r[id]))
			break;
		heap_set(p, h, i, h->a[c]);
		i = c;
	}
	heap_set(p, h, i, id);
}

static void heap_add(struct rpwp *p, struct heap *h, struct rec *r)
{
	h->a[h->n] = ridx(p, r);
	*hpos(h, r) = (int32_t)h->n;
	heap_up(p, h, h->n++);
}

static void heap_del(struct rpwp *p, struct heap *h, struct rec *r)
{
	int32_t *pos = hpos(h, r), moved;
	unsigned int i;

	if (*pos == NIL)
		return;
	i = (unsigned int)*pos;
	*pos = NIL;
	if (i == --h->n)
		return;
	moved = h->a[h->n];
	heap_set(p, h, i, moved);
	heap_up(p, h, i);
	heap_down(p, h, (unsigned int)*hpos(h, &p->r[moved]));
}

static struct rec *heap_top(struct rpwp *p, const struct heap *h)
{
	return h->n ? &p->r[h->a[0]] : NULL;
}

/*
 * Wait order: priority (higher first); then shed slots waiting for their
 * restore (arrival 0) before requests; then arrival; then the kernel's
 * total order (lower chassis, then lower slot, first).
 */
static int wait_before(const struct rpwp *p, const struct rec *x,
		       const struct rec *y)
{
	(void)p;
	if (x->prio != y->prio)
		return x->prio > y->prio;
	if (x->arr_ms != y->arr_ms)
		return x->arr_ms < y->arr_ms;
	if (x->arr_n != y->arr_n)
		return x->arr_n < y->arr_n;
	if (x->chassis != y->chassis)
		return x->chassis < y->chassis;
	return x->slot < y->slot;
}

/* Shed order: the bottom of the kernel's total order first. */
static int shed_before(const struct rpwp *p, const struct rec *x,
		       const struct rec *y)
{
	(void)p;
	if (x->prio != y->prio)
		return x->prio < y->prio;
	if (x->chassis != y->chassis)
		return x->chassis > y->chassis;
	return x->slot > y->slot;
}

/* ---- lifetime ----------------------------------------------------------- */

static void prio_table(struct rpwp *p)
{
	memcpy(p->ovr, p->cfg.overrides,
	       p->cfg.n_overrides * sizeof(p->ovr[0]));
	ovr_sort(p->ovr, p->cfg.n_overrides);
}

static uint8_t prio_eff(const struct rpwp *p, uint16_t chassis, uint8_t slot,
			uint8_t kprio)
{
	struct rpwp_prio_override k = { .chassis = chassis, .slot = slot };
	const struct rpwp_prio_override *o;

	if (!p->cfg.n_overrides)
		return kprio;
	o = bsearch(&k, p->ovr, p->cfg.n_overrides, sizeof(k), ovr_cmp);
	return o ? o->prio : kprio;
}

struct rpwp *rpwp_create(unsigned int max_slots, const struct rpwp_cfg *cfg)
{
	struct rpwp *p;
	char err[128];
	uint32_t nb = 1;

	if (!max_slots || max_slots > RPWP_MAX_SLOTS ||
	    rpwp_cfg_check(cfg, err, sizeof(err)))
		return NULL;
	while (nb < 2 * max_slots)
		nb <<= 1;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->max = max_slots;
	p->hmask = nb - 1;
	p->r = calloc(max_slots, sizeof(*p->r));
	p->bucket = malloc(nb * sizeof(*p->bucket));
	p->wait.a = malloc(max_slots * sizeof(int32_t));
	p->shed.a = malloc(max_slots * sizeof(int32_t));
	p->scratch = malloc(max_slots * sizeof(int32_t));
	p->ovr = malloc(RPWP_MAX_OVERRIDES * sizeof(*p->ovr));
	if (!p->r || !p->bucket || !p->wait.a || !p->shed.a || !p->scratch ||
	    !p->ovr) {
		rpwp_destroy(p);
		return NULL;
	}
	for (uint32_t i = 0; i < nb; i++)
		p->bucket[i] = NIL;
	for (unsigned int i = 0; i < max_slots; i++)
		p->r[i].hnext = i + 1 < max_slots ? (int32_t)i + 1 : NIL;
	p->free = 0;
	p->wait.before = wait_before;
	p->wait.pos_off = offsetof(struct rec, wpos);
	p->shed.before = shed_before;
	p->shed.pos_off = offsetof(struct rec, spos);
	p->idle = (struct list){ NIL, NIL, 0 };
	p->unans = p->idle;
	p->nc = p->idle;
	p->shedding = p->idle;
	p->restoring = p->idle;
	p->settleq = p->idle;
	p->cfg = *cfg;
	prio_table(p);
	p->b.mode = cfg->mode;
	return p;
}

void rpwp_destroy(struct rpwp *p)
{
	if (!p)
		return;
	free(p->r);
	free(p->bucket);
	free(p->wait.a);
	free(p->shed.a);
	free(p->scratch);
	free(p->ovr);
	free(p);
}

const struct rpwp_cfg *rpwp_get_cfg(const struct rpwp *p)
{
	return &p->cfg;
}

/*
 * A record for (chassis, slot): found, taken free, or the oldest idle
 * one reused.  NULL when every record is live.
 */
static struct rec *rec_get(struct rpwp *p, uint16_t chassis, uint8_t slot)
{
	struct rec *r = rec_find(p, chassis, slot);
	uint32_t h;

	if (r)
		return r;
	if (p->free != NIL) {
		r = &p->r[p->free];
		p->free = r->hnext;
	} else if (p->idle.head != NIL) {
		r = &p->r[p->idle.head];
		list_del(p, r);
		hash_del(p, r);
	} else {
		return NULL;
	}
	memset(r, 0, sizeof(*r));
	r->used = 1;
	r->chassis = chassis;
	r->slot = slot;
	r->state = RPWP_P_IDLE;
	r->wpos = NIL;
	r->spos = NIL;
	r->lprev = NIL;
	r->lnext = NIL;
	h = hkey(chassis, slot, p->hmask);
	r->hnext = p->bucket[h];
	p->bucket[h] = ridx(p, r);
	list_add(p, &p->idle, L_IDLE, r);
	return r;
}

/* ---- state changes (totals follow) -------------------------------------- */

static bool holds(uint8_t st)
{
	return st == RPWP_P_GRANTED || st == RPWP_P_SHEDDING ||
	       st == RPWP_P_NONCOMPLIANT;
}

/* Takes @r out of every structure and its watts out of the totals. */
static void rec_detach(struct rpwp *p, struct rec *r)
{
	heap_del(p, &p->wait, r);
	heap_del(p, &p->shed, r);
	list_del(p, r);
	if (r->nc_report) {
		r->nc_report = 0;
		p->nc_unsent--;
	}
	if (holds(r->state)) {
		p->b.granted_mw -= r->held_mw;
		p->b.granted--;
	}
	switch (r->state) {
	case RPWP_P_PENDING:
	case RPWP_P_QUEUED:
		p->b.queued--;
		break;
	case RPWP_P_SHEDDING:
		p->b.shedding--;
		break;
	case RPWP_P_NONCOMPLIANT:
		p->b.noncompliant--;
		break;
	case RPWP_P_SHED:
		p->b.restore--;
		break;
	case RPWP_P_RESTORING:
		p->b.restore--;
		p->b.reserved_mw -= r->want_mw;
		break;
	}
	r->state = RPWP_P_IDLE;
}

/* Puts a detached @r into @st, with its structures and totals. */
static void rec_enter(struct rpwp *p, struct rec *r, uint8_t st,
		      uint64_t now)
{
	r->state = st;
	r->since_ms = now;
	if (holds(st)) {
		p->b.granted_mw += r->held_mw;
		p->b.granted++;
	}
	switch (st) {
	case RPWP_P_IDLE:
		list_add(p, &p->idle, L_IDLE, r);
		break;
	case RPWP_P_PENDING:
		p->b.queued++;
		heap_add(p, &p->wait, r);
		list_add(p, &p->unans, L_UNANS, r);
		break;
	case RPWP_P_QUEUED:
		p->b.queued++;
		heap_add(p, &p->wait, r);
		break;
	case RPWP_P_GRANTED:
		heap_add(p, &p->shed, r);
		break;
	case RPWP_P_SHEDDING:
		p->b.shedding++;
		r->deadline = now + p->cfg.shed_deadline_ms;
		list_add(p, &p->shedding, L_SHEDDING, r);
		break;
	case RPWP_P_NONCOMPLIANT:
		p->b.noncompliant++;
		list_add(p, &p->nc, L_NC, r);
		break;
	case RPWP_P_SHED:
		p->b.restore++;
		r->arr_ms = 0;
		r->arr_n = 0;
		heap_add(p, &p->wait, r);
		break;
	case RPWP_P_RESTORING:
		p->b.restore++;
		p->b.reserved_mw += r->want_mw;
		r->deadline = now + p->cfg.restore_ms;
		list_add(p, &p->restoring, L_RESTORING, r);
		break;
	}
}

static void rec_move(struct rpwp *p, struct rec *r, uint8_t st, uint64_t now)
{
	rec_detach(p, r);
	rec_enter(p, r, st, now);
}

/* ---- actions ------------------------------------------------------------ */

static bool room(struct rpwp *p, struct rpwp_out *out)
{
	if (out->n < out->max)
		return true;
	out->more = true;
	p->more = true;
	return false;
}

/* Appends an action about @r (room checked by the caller). */
static struct rpwp_action *act(struct rpwp_out *out, struct rec *r,
			       enum rpwp_act_type t, uint64_t now)
{
	struct rpwp_action *a = &out->act[out->n++];

	memset(a, 0, sizeof(*a));
	a->type = t;
	a->chassis = r->chassis;
	a->slot = r->slot;
	a->prio = r->prio;
	a->req_id = r->req_id;
	a->at_ms = now;
	return a;
}

static void keep(struct rec *r, const struct rpwp_action *a)
{
	r->last = *a;
	r->has_last = 1;
}

/* "4.55 kW granted" with reservations named. */
static void granted_text(const struct rpwp *p, char *s, size_t len)
{
	char k1[24], k2[24];

	if (p->b.reserved_mw)
		tfmt(s, len, "%s kW granted (+%s kW reserved)",
		     rpwp_kw(p->b.granted_mw, k1),
		     rpwp_kw(p->b.reserved_mw, k2));
	else
		tfmt(s, len, "%s kW granted", rpwp_kw(p->b.granted_mw, k1));
}

static void decide(struct rpwp *p, struct rec *r, enum rpwp_verdict v,
		   enum rpwp_reason why, const char *note, uint64_t now,
		   struct rpwp_out *out)
{
	struct rpwp_action *a = act(out, r, RPWP_ACT_DECIDE, now);
	const char *verb = v == RPWP_GRANT ? "granted" :
			   v == RPWP_QUEUE ? "queued" : "denied";
	char bt[128], gt[80], k[24];

	a->verdict = v;
	a->reason = why;
	if (v == RPWP_GRANT)
		a->mw = r->want_mw;
	budget_text(&p->b, bt, sizeof(bt));
	granted_text(p, gt, sizeof(gt));
	tfmt(a->text, sizeof(a->text), "%s: %s, %s, request %s kW%s%s",
	     verb, bt, gt, rpwp_kw(r->want_mw, k), note ? "; " : "",
	     note ? note : "");
	keep(r, a);
}

/* ---- deciding ----------------------------------------------------------- */

static uint64_t committed(const struct rpwp *p)
{
	return p->b.granted_mw + p->b.reserved_mw;
}

static bool fits(const struct rpwp *p, uint32_t mw)
{
	return committed(p) + mw <= p->b.budget_mw;
}

static enum rpwp_reason never_reason(const struct rpwp *p, uint32_t mw)
{
	return mw > p->b.usable_mw ? RPWP_R_NEVER_FITS : RPWP_R_REDUNDANCY;
}

/* Grant @r (in the wait heap, answered or not). */
static void grant(struct rpwp *p, struct rec *r, uint64_t now,
		  struct rpwp_out *out)
{
	r->held_mw = r->want_mw;
	r->k_shed = 0;
	r->first_grant = !r->answered;
	rec_move(p, r, RPWP_P_GRANTED, now);
	r->answered = 1;
	decide(p, r, RPWP_GRANT, RPWP_R_NONE, NULL, now, out);
}

static void deny_never(struct rpwp *p, struct rec *r, uint64_t now,
		       struct rpwp_out *out)
{
	enum rpwp_reason why = never_reason(p, r->want_mw);
	char note[96], k[24];

	if (why == RPWP_R_NEVER_FITS)
		tfmt(note, sizeof(note),
		     "more than the rack's %s kW usable",
		     rpwp_kw(p->b.usable_mw, k));
	else
		tfmt(note, sizeof(note),
		     "above the %s budget with nothing else granted",
		     rpwp_mode_name(p->cfg.mode));
	rec_move(p, r, RPWP_P_IDLE, now);
	r->answered = 1;
	decide(p, r, RPWP_DENY, why, note, now, out);
}

/*
 * First answer to the waiting, unanswered @r: grant if it is first in
 * the wait order and fits, deny if it can never fit the budget, queue
 * otherwise.  Room is checked by the caller.
 */
static void answer(struct rpwp *p, struct rec *r, uint64_t now,
		   struct rpwp_out *out)
{
	struct rec *top = heap_top(p, &p->wait);
	enum rpwp_reason why = RPWP_R_CAPACITY;
	bool settling = now < p->settle_until;
	bool recovering = now < p->pause_until && p->pause_err == -EAGAIN;
	char note[96];

	/* While settling the budget may still grow: nothing "never" fits. */
	if (r->want_mw > p->b.budget_mw && !settling) {
		deny_never(p, r, now, out);
		return;
	}
	if (top == r && fits(p, r->want_mw) && now >= p->pause_until) {
		grant(p, r, now, out);
		return;
	}
	note[0] = '\0';
	if (top != r)
		tfmt(note, sizeof(note), "behind %u/%u (prio %u)",
		     top->chassis, top->slot, top->prio);
	else if (now < p->pause_until)
		tfmt(note, sizeof(note),
		     "the kernel refused a grant%s, retried in %llu ms",
		     recovering ? " while recovering" : "",
		     (unsigned long long)(p->pause_until - now));
	else if (committed(p) + r->want_mw <= p->b.usable_mw)
		why = RPWP_R_REDUNDANCY;	/* fits the rack, not the mode */
	if (recovering)
		why = RPWP_R_RECOVERING;	/* not the budget: the kernel */
	else if (settling && !note[0])
		tfmt(note, sizeof(note),
		     "capacity table still filling, %llu ms left",
		     (unsigned long long)(p->settle_until - now));
	/*
	 * "when-full deny" refuses new demand; a server the policy shed
	 * waits for the capacity it gave back.  Full is not known while
	 * settling or recovering: queued, answered again after (L_SETTLEQ).
	 */
	if (p->cfg.deny_when_full && !r->shed_back && !settling &&
	    !recovering) {
		rec_move(p, r, RPWP_P_IDLE, now);
		r->answered = 1;
		decide(p, r, RPWP_DENY, why, note[0] ? note : "full", now, out);
		return;
	}
	list_del(p, r);
	r->state = RPWP_P_QUEUED;	/* stays in the wait heap */
	r->answered = 1;
	if (p->cfg.deny_when_full && !r->shed_back)
		list_add(p, &p->settleq, L_SETTLEQ, r);
	decide(p, r, RPWP_QUEUE, why, note[0] ? note : NULL, now, out);
}

/* Answer requests that could not be answered when they came. */
static void answer_waiting(struct rpwp *p, uint64_t now, struct rpwp_out *out)
{
	while (p->unans.head != NIL) {
		struct rec *r = &p->r[p->unans.head];

		if (!room(p, out))
			return;
		answer(p, r, now, out);
	}
}

/* Grant and restore from the top of the wait order while it fits. */
static void drain(struct rpwp *p, uint64_t now, struct rpwp_out *out)
{
	struct rec *r;

	if (now < p->pause_until)
		return;
	while ((r = heap_top(p, &p->wait))) {
		/* while settling the budget may still grow to fit it */
		if (r->want_mw > p->b.budget_mw && now >= p->settle_until) {
			if (r->state == RPWP_P_SHED) {
				/* never back under this budget: forget it */
				rec_move(p, r, RPWP_P_IDLE, now);
				continue;
			}
			if (!room(p, out))
				return;
			deny_never(p, r, now, out);
			continue;
		}
		if (!fits(p, r->want_mw))
			return;
		if (!room(p, out))
			return;
		if (r->state == RPWP_P_SHED) {
			struct rpwp_action *a;
			char bt[128], k[24], gt[80];

			rec_move(p, r, RPWP_P_RESTORING, now);
			a = act(out, r, RPWP_ACT_RESTORE, now);
			a->mw = r->want_mw;
			budget_text(&p->b, bt, sizeof(bt));
			granted_text(p, gt, sizeof(gt));
			tfmt(a->text, sizeof(a->text),
			     "restore: %s, %s, %s kW reserved for %llu ms",
			     bt, gt, rpwp_kw(r->want_mw, k),
			     (unsigned long long)p->cfg.restore_ms);
			keep(r, a);
		} else {
			grant(p, r, now, out);
		}
	}
}

/* Shed while over budget: one at a time, lowest priority first. */
static void analyse(struct rpwp *p, uint64_t now, struct rpwp_out *out)
{
	struct rpwp_action *a;
	char bt[128], k1[24], k2[24];
	struct rec *r;

	if (p->b.granted_mw <= p->b.budget_mw) {
		/* desired state holds: the skipped ones are candidates again */
		while (p->nc.head != NIL)
			rec_move(p, &p->r[p->nc.head], RPWP_P_GRANTED, now);
		return;
	}
	/* A budget from a half-filled capacity table: held (settling). */
	if (now < p->settle_until)
		return;
	/* Reservations give way first: nothing is drawn on them yet. */
	while (p->restoring.head != NIL)
		rec_move(p, &p->r[p->restoring.head], RPWP_P_SHED, now);
	r = heap_top(p, &p->shed);
	if (p->shedding.n || !r || !room(p, out))
		return;
	rec_move(p, r, RPWP_P_SHEDDING, now);
	if (r->k_shed) {
		/*
		 * still shedding in the kernel from an earlier episode (its
		 * refusal not reported yet): wait for it again
		 */
		tfmt(r->last.text, sizeof(r->last.text),
		     "shed: still shedding since an earlier request");
		return;
	}
	a = act(out, r, RPWP_ACT_SHED, now);
	a->mw = r->held_mw;
	budget_text(&p->b, bt, sizeof(bt));
	tfmt(a->text, sizeof(a->text),
	     "shed: %s, %s kW granted; lowest priority %u holds %s kW",
	     bt, rpwp_kw(p->b.granted_mw, k1), r->prio,
	     rpwp_kw(r->held_mw, k2));
	keep(r, a);
}

/* After anything that changed watts or the budget. */
static void settle(struct rpwp *p, uint64_t now, struct rpwp_out *out)
{
	if (p->resyncing)
		return;		/* rpwp_resync_end() answers */
	if (p->settle_until && now >= p->settle_until)
		p->settle_until = 0;
	/* what "when-full deny" queued meanwhile is answered again */
	while (p->settleq.head != NIL && !p->settle_until &&
	       now >= p->pause_until) {
		struct rec *r = &p->r[p->settleq.head];

		if (p->cfg.deny_when_full)
			rec_move(p, r, RPWP_P_PENDING, now);
		else
			list_del(p, r);	/* queue mode since: it waits */
	}
	analyse(p, now, out);
	answer_waiting(p, now, out);
	if (p->b.granted_mw <= p->b.budget_mw) {
		/* a reservation that no longer fits gives way */
		if (committed(p) > p->b.budget_mw)
			while (p->restoring.head != NIL)
				rec_move(p, &p->r[p->restoring.head],
					 RPWP_P_SHED, now);
		drain(p, now, out);
	}
}

/* ---- events ------------------------------------------------------------- */

void rpwp_settling(struct rpwp *p, uint64_t until, uint64_t now,
		   struct rpwp_out *out)
{
	p->settle_until = until > now ? until : 0;
	if (!p->settle_until)
		settle(p, now, out);
}

void rpwp_capacity(struct rpwp *p, const struct rpwp_assembly *a,
		   unsigned int n, uint64_t now, struct rpwp_out *out)
{
	if (n > RPWP_MAX_ASM)
		n = RPWP_MAX_ASM;
	memcpy(p->asm_, a, n * sizeof(*a));
	p->n_asm = n;
	budget_of(p->asm_, n, p->cfg.mode, &p->b);
	settle(p, now, out);
}

int rpwp_set_cfg(struct rpwp *p, const struct rpwp_cfg *cfg, uint64_t now,
		 struct rpwp_out *out)
{
	char err[128];

	if (rpwp_cfg_check(cfg, err, sizeof(err)))
		return -1;
	p->cfg = *cfg;
	prio_table(p);
	for (unsigned int i = 0; i < p->max; i++) {
		struct rec *r = &p->r[i];
		uint8_t np;

		if (!r->used)
			continue;
		np = prio_eff(p, r->chassis, r->slot, r->kprio);
		if (np == r->prio)
			continue;
		r->prio = np;
		if (r->wpos != NIL) {
			heap_up(p, &p->wait, (unsigned int)r->wpos);
			heap_down(p, &p->wait, (unsigned int)r->wpos);
		}
		if (r->spos != NIL) {
			heap_up(p, &p->shed, (unsigned int)r->spos);
			heap_down(p, &p->shed, (unsigned int)r->spos);
		}
	}
	budget_of(p->asm_, p->n_asm, p->cfg.mode, &p->b);
	settle(p, now, out);
	return 0;
}

/* A new live entry for @r from the kernel's @e (fields only). */
static void rec_fill(struct rpwp *p, struct rec *r, const struct rpwp_entry *e)
{
	r->kprio = e->prio;
	r->prio = prio_eff(p, e->chassis, e->slot, e->prio);
	r->want_mw = e->want_mw;
	r->held_mw = e->held_mw;
	r->req_id = e->req_id;
	r->answered = 0;
	r->k_shed = 0;
}

static bool live(uint8_t st)
{
	return st != RPWP_P_IDLE && st != RPWP_P_SHED &&
	       st != RPWP_P_RESTORING;
}

void rpwp_request(struct rpwp *p, const struct rpwp_entry *e, uint64_t now,
		  struct rpwp_out *out)
{
	struct rec *r = rec_get(p, e->chassis, e->slot);
	bool restored, back;

	if (!r) {
		/* every record live: answer without remembering */
		struct rec tmp = { .chassis = e->chassis, .slot = e->slot,
				   .prio = e->prio, .req_id = e->req_id };
		struct rpwp_action *a;

		if (!room(p, out))
			return;
		a = act(out, &tmp, RPWP_ACT_DECIDE, now);
		a->verdict = RPWP_DENY;
		a->reason = RPWP_R_POLICY;
		tfmt(a->text, sizeof(a->text),
		     "denied: the policy's table is full (%u slots)",
		     p->max);
		return;
	}
	if (live(r->state) && r->req_id == e->req_id) {
		/* a repeat: answer it only if it never was */
		if (r->state == RPWP_P_PENDING && room(p, out))
			answer(p, r, now, out);
		return;
	}
	/*
	 * An older request or a restore ends here.  A slot told it may come
	 * back, or shed and asking again, keeps its place (arrival 0): it
	 * held power before the requests that came meanwhile.
	 */
	restored = r->state == RPWP_P_RESTORING;
	/* A chassis asks again for a server once its shed is over. */
	back = restored || r->state == RPWP_P_SHED;
	rec_detach(p, r);
	rec_fill(p, r, e);
	r->shed_back = back;
	r->held_mw = 0;
	r->arr_ms = back ? 0 : now;
	r->arr_n = back ? 0 : ++p->arr_n;
	rec_enter(p, r, RPWP_P_PENDING, now);
	if (p->resyncing || !room(p, out))
		return;
	answer(p, r, now, out);
	settle(p, now, out);
}

/* Sends the non-compliance report of @r, if there is room. */
static void nc_send(struct rpwp *p, struct rec *r, uint64_t now,
		    struct rpwp_out *out)
{
	struct rpwp_action *a;
	char k[24];

	if (!room(p, out))
		return;
	r->nc_report = 0;
	p->nc_unsent--;
	a = act(out, r, RPWP_ACT_NONCOMPLIANT, now);
	a->mw = r->held_mw;
	tfmt(a->text, sizeof(a->text),
	     "non-compliant: still holds %s kW %s after its shed; skipped, shedding goes on",
	     rpwp_kw(r->held_mw, k), r->nc_why);
	keep(r, a);
}

/* The kernel's shed refusal, or the policy's deadline: skip @r. */
static void noncompliant(struct rpwp *p, struct rec *r, const char *why,
			 uint64_t now, struct rpwp_out *out)
{
	rec_move(p, r, RPWP_P_NONCOMPLIANT, now);
	tfmt(r->nc_why, sizeof(r->nc_why), "%s", why);
	r->nc_report = 1;
	p->nc_unsent++;
	nc_send(p, r, now, out);
}

static void entry_gone(struct rpwp *p, struct rec *r,
		       const struct rpwp_entry *e, uint64_t now)
{
	bool was_shed = r->state == RPWP_P_SHEDDING ||
			r->state == RPWP_P_NONCOMPLIANT;

	if (e->req_id && e->req_id != r->req_id)
		return;		/* an older request's end */
	if (was_shed && (e->reason == R_SHED || e->reason == 0))
		rec_move(p, r, RPWP_P_SHED, now);
	else
		rec_move(p, r, RPWP_P_IDLE, now);
}

void rpwp_entry(struct rpwp *p, const struct rpwp_entry *e, uint64_t now,
		struct rpwp_out *out)
{
	struct rec *r = rec_find(p, e->chassis, e->slot);

	if (e->state == RPWP_K_GONE) {
		if (r && live(r->state))
			entry_gone(p, r, e, now);
		settle(p, now, out);
		return;
	}
	if (e->state == RPWP_K_PENDING &&
	    (!r || !live(r->state) || r->req_id != e->req_id)) {
		rpwp_request(p, e, now, out);
		return;
	}
	if (!r || !live(r->state) || r->req_id != e->req_id ||
	    (!holds(r->state) && e->state != RPWP_K_QUEUED)) {
		/* a grant or queue the policy did not make: adopt it */
		r = rec_get(p, e->chassis, e->slot);
		if (!r)
			return;
		rec_detach(p, r);
		rec_fill(p, r, e);
		r->answered = 1;
		r->arr_ms = now;
		r->arr_n = ++p->arr_n;
		if (e->state == RPWP_K_QUEUED)
			r->held_mw = 0;
		rec_enter(p, r, e->state == RPWP_K_QUEUED ? RPWP_P_QUEUED :
			  e->state == RPWP_K_SHEDDING ? RPWP_P_SHEDDING :
			  RPWP_P_GRANTED, now);
		r->k_shed = e->state == RPWP_K_SHEDDING;
		settle(p, now, out);
		return;
	}
	if (!holds(r->state))
		return;		/* PENDING/QUEUED news older than our grant */
	if (e->state == RPWP_K_GRANTED) {
		if (r->state == RPWP_P_SHEDDING &&
		    (e->reason == R_REFUSED || r->k_shed))
			noncompliant(p, r, "(the chassis reports it)", now,
				     out);
		r->k_shed = 0;
	} else if (e->state == RPWP_K_SHEDDING) {
		r->k_shed = 1;
	}
	if ((e->state == RPWP_K_GRANTED || e->state == RPWP_K_SHEDDING) &&
	    e->held_mw < r->held_mw) {
		/* holdings only decrease: a lower one is the newer */
		p->b.granted_mw -= r->held_mw - e->held_mw;
		r->held_mw = e->held_mw;
	}
	settle(p, now, out);
}

void rpwp_decide_failed(struct rpwp *p, uint16_t chassis, uint8_t slot,
			uint32_t req_id, int err, uint64_t now,
			struct rpwp_out *out)
{
	struct rec *r = rec_find(p, chassis, slot);
	bool retry = err != -ENOENT && err != -ESTALE && err != -EALREADY;
	char k[24];

	if (!r || r->req_id != req_id || !r->has_last ||
	    r->last.type != RPWP_ACT_DECIDE || !live(r->state))
		return;
	if (r->last.verdict == RPWP_GRANT && r->state == RPWP_P_GRANTED &&
	    retry) {
		/* not granted: the request waits (and is answered) again */
		r->answered = !r->first_grant;
		rec_detach(p, r);
		r->held_mw = 0;
		rec_enter(p, r, r->answered ? RPWP_P_QUEUED : RPWP_P_PENDING,
			  now);
		p->pause_until = now + RPWP_RETRY_MS;
		p->pause_err = err;
		tfmt(r->last.text, sizeof(r->last.text),
		     "grant of %s kW refused by the kernel (%s); retried",
		     rpwp_kw(r->want_mw, k), strerror(-err));
	} else {
		rec_move(p, r, RPWP_P_IDLE, now);
		tfmt(r->last.text, sizeof(r->last.text),
		     "%s refused by the kernel (%s); forgotten",
		     rpwp_verdict_name(r->last.verdict), strerror(-err));
	}
	settle(p, now, out);
}

void rpwp_tick(struct rpwp *p, uint64_t now, struct rpwp_out *out)
{
	char why[40];

	p->more = false;
	for (int32_t i = p->shedding.head, next; i != NIL; i = next) {
		struct rec *r = &p->r[i];

		next = r->lnext;
		if (now < r->deadline)
			continue;
		tfmt(why, sizeof(why), "%llu ms",
		     (unsigned long long)(now - r->since_ms));
		noncompliant(p, r, why, now, out);
	}
	for (int32_t i = p->nc.head; i != NIL && p->nc_unsent;
	     i = p->r[i].lnext)
		if (p->r[i].nc_report)
			nc_send(p, &p->r[i], now, out);
	while (p->restoring.head != NIL) {
		struct rec *r = &p->r[p->restoring.head];

		if (now < r->deadline)
			break;
		rec_move(p, r, RPWP_P_IDLE, now);
		tfmt(r->last.text, sizeof(r->last.text),
		     "restore lapsed: no request within %llu ms",
		     (unsigned long long)p->cfg.restore_ms);
	}
	if (now >= p->pause_until)
		p->pause_until = 0;
	settle(p, now, out);
}

uint64_t rpwp_next_deadline(const struct rpwp *p)
{
	uint64_t t = UINT64_MAX;

	if (p->more || p->unans.n || p->nc_unsent)
		return 0;
	if (p->pause_until && p->b.queued)
		t = p->pause_until;
	if (p->settle_until && p->settle_until < t)
		t = p->settle_until;
	for (int32_t i = p->shedding.head; i != NIL; i = p->r[i].lnext)
		if (p->r[i].deadline < t)
			t = p->r[i].deadline;
	if (p->restoring.head != NIL && p->r[p->restoring.head].deadline < t)
		t = p->r[p->restoring.head].deadline;
	return t;
}

/* ---- resync ------------------------------------------------------------- */

void rpwp_resync_begin(struct rpwp *p)
{
	for (unsigned int i = 0; i < p->max; i++) {
		struct rec *r = &p->r[i];

		if (r->used && live(r->state))
			rec_move(p, r, RPWP_P_IDLE, 0);
	}
	p->resyncing = true;
	p->pause_until = 0;
	p->more = false;
}

int rpwp_resync_entry(struct rpwp *p, const struct rpwp_entry *e,
		      uint64_t now)
{
	static const uint8_t to_p[] = {
		[RPWP_K_PENDING] = RPWP_P_PENDING,
		[RPWP_K_QUEUED] = RPWP_P_QUEUED,
		[RPWP_K_GRANTED] = RPWP_P_GRANTED,
		[RPWP_K_SHEDDING] = RPWP_P_SHEDDING,
	};
	struct rec *r;
	uint8_t st;

	if (e->state < RPWP_K_PENDING || e->state > RPWP_K_SHEDDING)
		return 0;
	r = rec_get(p, e->chassis, e->slot);
	if (!r)
		return -1;
	rec_detach(p, r);
	rec_fill(p, r, e);
	r->answered = e->state != RPWP_K_PENDING;
	/* before later requests (arr_n 0); arrival 0 is a shed slot's */
	r->arr_ms = now > e->age_ms ? now - e->age_ms : 1;
	r->arr_n = 0;
	st = to_p[e->state];
	r->k_shed = st == RPWP_P_SHEDDING;
	if (st == RPWP_P_PENDING || st == RPWP_P_QUEUED)
		r->held_mw = 0;
	rec_enter(p, r, st, now);
	return 0;
}

void rpwp_resync_end(struct rpwp *p, uint64_t now, struct rpwp_out *out)
{
	p->resyncing = false;
	answer_waiting(p, now, out);
}

/* ---- views -------------------------------------------------------------- */

void rpwp_budget(const struct rpwp *p, struct rpwp_budget *b)
{
	uint64_t c = committed(p);

	*b = p->b;
	b->mode = p->cfg.mode;
	b->settling = p->settle_until != 0;
	b->headroom_mw = c < b->budget_mw ? b->budget_mw - c : 0;
	b->over_mw = b->granted_mw > b->budget_mw ?
		     b->granted_mw - b->budget_mw : 0;
}

static void info_of(const struct rec *r, struct rpwp_slot_info *info)
{
	memset(info, 0, sizeof(*info));
	info->chassis = r->chassis;
	info->slot = r->slot;
	info->prio = r->prio;
	info->state = (enum rpwp_pstate)r->state;
	info->want_mw = r->want_mw;
	info->held_mw = r->held_mw;
	info->req_id = r->req_id;
	info->since_ms = r->since_ms;
	info->has_last = r->has_last;
	if (r->has_last)
		info->last = r->last;
}

int rpwp_why(const struct rpwp *p, uint16_t chassis, uint8_t slot,
	     struct rpwp_slot_info *info)
{
	const struct rec *r = rec_find(p, chassis, slot);

	if (!r)
		return -1;
	info_of(r, info);
	return 0;
}

int rpwp_slot_next(const struct rpwp *p, unsigned int *cursor,
		   struct rpwp_slot_info *info)
{
	while (*cursor < p->max) {
		const struct rec *r = &p->r[(*cursor)++];

		if (r->used) {
			info_of(r, info);
			return 0;
		}
	}
	return -1;
}

/* Pops the root of a plain heap of record ids in @a[0..n). */
static int32_t pop(const struct rpwp *p, int32_t *a, unsigned int *n,
		   int (*before)(const struct rpwp *, const struct rec *,
				 const struct rec *))
{
	int32_t top = a[0], id;
	unsigned int i = 0;

	id = a[--*n];
	for (;;) {
		unsigned int c = 2 * i + 1;

		if (c >= *n)
			break;
		if (c + 1 < *n && before(p, &p->r[a[c + 1]], &p->r[a[c]]))
			c++;
		if (!before(p, &p->r[a[c]], &p->r[id]))
			break;
		a[i] = a[c];
		i = c;
	}
	if (*n)
		a[i] = id;
	return top;
}

static void heapify(const struct rpwp *p, int32_t *a, unsigned int n,
		    int (*before)(const struct rpwp *, const struct rec *,
				  const struct rec *))
{
	for (unsigned int s = n / 2; s-- > 0; ) {
		int32_t id = a[s];
		unsigned int i = s;

		for (;;) {
			unsigned int c = 2 * i + 1;

			if (c >= n)
				break;
			if (c + 1 < n && before(p, &p->r[a[c + 1]], &p->r[a[c]]))
				c++;
			if (!before(p, &p->r[a[c]], &p->r[id]))
				break;
			a[i] = a[c];
			i = c;
		}
		a[i] = id;
	}
}

unsigned int rpwp_queue_list(const struct rpwp *p,
			     struct rpwp_slot_info *info, unsigned int max)
{
	unsigned int n = 0, k = 0;

	for (unsigned int i = 0; i < p->wait.n; i++) {
		const struct rec *r = &p->r[p->wait.a[i]];

		if (r->state == RPWP_P_PENDING || r->state == RPWP_P_QUEUED)
			p->scratch[n++] = p->wait.a[i];
	}
	heapify(p, p->scratch, n, wait_before);
	while (n && k < max)
		info_of(&p->r[pop(p, p->scratch, &n, wait_before)],
			&info[k++]);
	return k;
}

void rpwp_plan(const struct rpwp *p, const struct rpwp_supply *failed,
	       unsigned int n_failed, struct rpwp_plan_step *step,
	       unsigned int max, struct rpwp_plan *plan)
{
	struct rpwp_assembly a[RPWP_MAX_ASM];
	uint32_t cut[RPWP_MAX_ASM][2];
	struct rpwp_budget b;
	unsigned int n = 0;
	uint64_t g;

	memset(plan, 0, sizeof(*plan));
	memcpy(a, p->asm_, p->n_asm * sizeof(a[0]));
	memset(cut, 0, sizeof(cut));
	/* every share from the assembly as it is, then taken out */
	for (unsigned int i = 0; i < n_failed; i++) {
		unsigned int k;

		for (k = 0; k < p->n_asm; k++)
			if (a[k].addr == failed[i].addr)
				break;
		if (k == p->n_asm || failed[i].index >= RPWP_SUPPLIES) {
			plan->unknown_supply = true;
			continue;
		}
		if (!(a[k].healthy & (1u << failed[i].index)))
			continue;
		cut[k][failed[i].index >= 3] +=
			rpwp_supply_mw(&p->asm_[k], failed[i].index);
		a[k].healthy &= (uint8_t)~(1u << failed[i].index);
	}
	for (unsigned int k = 0; k < p->n_asm; k++) {
		a[k].bank_a_mw -= cut[k][0] < a[k].bank_a_mw ?
				  cut[k][0] : a[k].bank_a_mw;
		a[k].bank_b_mw -= cut[k][1] < a[k].bank_b_mw ?
				  cut[k][1] : a[k].bank_b_mw;
	}
	budget_of(a, p->n_asm, p->cfg.mode, &b);
	plan->budget_before_mw = p->b.budget_mw;
	plan->budget_after_mw = b.budget_mw;
	plan->usable_after_mw = b.usable_mw;
	g = p->b.granted_mw;
	plan->granted_mw = g;

	/* the shed in progress first, then the shed order over the rest */
	for (int32_t i = p->shedding.head; i != NIL && g > b.budget_mw;
	     i = p->r[i].lnext) {
		const struct rec *r = &p->r[i];

		g -= r->held_mw;
		if (plan->steps < max)
			step[plan->steps] = (struct rpwp_plan_step){
				r->chassis, r->slot, r->prio, r->held_mw, g,
				b.budget_mw };
		plan->steps++;
	}
	if (g <= b.budget_mw)
		return;
	memcpy(p->scratch, p->shed.a, p->shed.n * sizeof(int32_t));
	n = p->shed.n;
	for (int32_t i = p->nc.head; i != NIL; i = p->r[i].lnext)
		p->scratch[n++] = i;
	if (p->nc.n)
		heapify(p, p->scratch, n, shed_before);
	while (n && g > b.budget_mw) {
		const struct rec *r = &p->r[pop(p, p->scratch, &n,
						 shed_before)];

		g -= r->held_mw;
		if (plan->steps < max)
			step[plan->steps] = (struct rpwp_plan_step){
				r->chassis, r->slot, r->prio, r->held_mw, g,
				b.budget_mw };
		plan->steps++;
	}
}
