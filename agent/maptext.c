// SPDX-License-Identifier: GPL-2.0-only
/*
 * rackpwrctl map's layout (maptext.h): one screen, 80 columns, that says
 * who is primary, what every assembly's supplies can give, what the two
 * rails and the budget are, and what every slot of every chassis holds.
 * Every field has a fixed maximum width, so no model makes a line longer
 * than MAPT_COLS.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "maptext.h"

struct mbuf {
	char *p;
	size_t len;		/* size of p */
	size_t used;		/* what the whole drawing needs so far */
};

static __attribute__((format(printf, 2, 3)))
void mb_printf(struct mbuf *b, const char *fmt, ...)
{
	size_t room = b->used < b->len ? b->len - b->used : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? b->p + b->used : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->used += n;
}

static const char letters[MAPT_NSTATES] = {
	[MAPT_UNKNOWN] = '?', [MAPT_EMPTY] = '.', [MAPT_OFF] = 'o',
	[MAPT_ASKING] = 'R', [MAPT_QUEUED] = 'Q', [MAPT_DENIED] = 'D',
	[MAPT_GRANTED] = 'G', [MAPT_SHEDDING] = 'S', [MAPT_RELEASING] = 'L',
};

char maptext_letter(enum mapt_state s)
{
	return (unsigned int)s < MAPT_NSTATES ? letters[s] : '?';
}

uint32_t maptext_slot_mw(const struct mapt_slot *s)
{
	switch (s->state) {
	case MAPT_ASKING:
	case MAPT_QUEUED:
	case MAPT_DENIED:
	case MAPT_GRANTED:
	case MAPT_SHEDDING:
	case MAPT_RELEASING:
		return s->mw;
	default:
		return 0;
	}
}

uint64_t maptext_chassis_mw(const struct mapt_chassis *c)
{
	uint64_t sum = 0;
	unsigned int i;

	for (i = 0; i < MAPT_SLOTS; i++)
		if (c->slot[i].state == MAPT_GRANTED ||
		    c->slot[i].state == MAPT_SHEDDING)
			sum += c->slot[i].mw;
	return sum;
}

/* Whole watts, "1234 W" .. "12345678 GW": at most 11 characters. */
static const char *watts(char buf[24], uint64_t mw)
{
	static const char *const unit[] = { "W", "kW", "MW", "GW" };
	uint64_t w = mw / 1000;
	unsigned int u = 0;

	while (w >= 100000 && u < 3) {
		w /= 1000;
		u++;
	}
	snprintf(buf, 24, "%llu %s", (unsigned long long)w, unit[u]);
	return buf;
}

/* A slot's watts in four columns: "1234", " 12k", "  4M". */
static const char *cell_watts(char buf[16], uint32_t mw)
{
	uint32_t w = mw / 1000;

	if (!w && !mw)
		snprintf(buf, 16, "    ");
	else if (w < 10000)
		snprintf(buf, 16, "%4u", w);
	else if (w < 1000000)
		snprintf(buf, 16, "%3uk", w / 1000);
	else
		snprintf(buf, 16, "%3uM", w / 1000000);
	return buf;
}

/* "ok ok !!": one mark per supply of a bank (ok, !! failed, -- absent). */
static const char *bank(char buf[12], const struct mapt_asm *a, int first)
{
	int i, n = 0;

	for (i = first; i < first + 3; i++)
		n += snprintf(buf + n, 12 - n, "%s%s", i > first ? " " : "",
			      !(a->present & 1u << i) ? "--" :
			      a->healthy & 1u << i ? "ok" : "!!");
	return buf;
}

static void head(struct mbuf *b, const struct mapt_model *m)
{
	const char *what;

	if (m->primary)
		mb_printf(b, "RACK MAP   primary addr %u, epoch %u.%u: term %u claimed by %u\n",
			  m->primary, m->epoch >> 8, m->epoch & 0xff,
			  m->epoch >> 8, m->epoch & 0xff);
	else
		mb_printf(b, "RACK MAP   no primary known\n");
	if (!m->have_view) {
		mb_printf(b, "view       no power-supply node here: chassis only\n");
		return;
	}
	what = !m->is_primary ? "secondary, NOT the rack's table" :
	       !m->acting ? "primary, lease lapsed" :
	       m->recovering ? "acting primary, rebuilding its table" :
	       "acting primary";
	mb_printf(b, "view       node %u (addr %u): %s\n", m->node_id,
		  m->node_addr, what);
}

static void assemblies(struct mbuf *b, const struct mapt_model *m)
{
	char ba[12], bb[12], wa[24], wb[24];
	unsigned int i;

	mb_printf(b, "ASSEMBLY   BANK A (0-2)          BANK B (3-5)\n");
	for (i = 0; i < m->nasm && i < MAPT_MAX_ASM; i++) {
		const struct mapt_asm *a = &m->asm_[i];
		bool prim = m->primary && a->addr == m->primary;

		mb_printf(b, " %c%3u      %s  %11s   %s  %11s%s%s\n",
			  prim ? '*' : ' ', a->addr, bank(ba, a, 0),
			  watts(wa, a->bank_a_mw), bank(bb, a, 3),
			  watts(wb, a->bank_b_mw), prim ? "  primary" : "",
			  a->lost ? "  LOST" : "");
	}
	if (!m->nasm)
		mb_printf(b, "  (no capacity known)\n");
}

static void budget(struct mbuf *b, const struct mapt_model *m)
{
	char w[4][24];

	if (!m->have_budget) {
		mb_printf(b, "BUDGET     not known (no capacity)\n");
		return;
	}
	mb_printf(b, "RAILS      A %s, B %s; usable %s\n",
		  watts(w[0], m->rail_a_mw), watts(w[1], m->rail_b_mw),
		  watts(w[2], m->usable_mw));
	watts(w[0], m->budget_mw);
	watts(w[1], m->granted_mw);
	if (m->granted_mw > m->budget_mw)
		watts(w[2], m->granted_mw - m->budget_mw);
	else
		watts(w[2], m->budget_mw - m->granted_mw);
	mb_printf(b, "BUDGET     %.4s: %s (%.8s)\n", m->mode ? m->mode : "?",
		  w[0], m->budget_src ? m->budget_src : "?");
	mb_printf(b, "GRANTED    %s, %s %s\n", w[1],
		  m->granted_mw > m->budget_mw ? "OVER BUDGET by" : "headroom",
		  w[2]);
}

/* ' ' follows the primary; '!' follows another; '~' the primary's table. */
static char chassis_mark(const struct mapt_model *m,
			 const struct mapt_chassis *c)
{
	if (!c->local)
		return '~';
	return m->primary && c->follows != m->primary ? '!' : ' ';
}

static void chassis(struct mbuf *b, const struct mapt_model *m)
{
	bool remote = false, other = false;
	char cw[16], w[24];
	unsigned int i, k;

	/* Each slot's letter under its number; HELD ends where rows do. */
	mb_printf(b, "CHASSIS   0      1      2      3      4      5      6      7          HELD\n");
	for (i = 0; i < m->nchassis && i < MAPT_MAX_CHASSIS; i++) {
		const struct mapt_chassis *c = &m->chassis[i];
		char mark = chassis_mark(m, c);

		remote |= mark == '~';
		other |= mark == '!';
		mb_printf(b, "%6u%c  ", c->addr, mark);
		for (k = 0; k < MAPT_SLOTS; k++)
			mb_printf(b, " %c %s", maptext_letter(c->slot[k].state),
				  cell_watts(cw, maptext_slot_mw(&c->slot[k])));
		mb_printf(b, " %8s\n", watts(w, maptext_chassis_mw(c)));
	}
	if (!m->nchassis)
		mb_printf(b, "  (no chassis known)\n");
	if (other)
		mb_printf(b, "  ! this chassis module still follows another primary\n");
	if (remote)
		mb_printf(b, "  ~ not in this kernel: the primary's table (? no entry)\n");
}

size_t maptext_render(const struct mapt_model *m, char *buf, size_t len)
{
	struct mbuf b = { .p = buf, .len = len };

	if (len)
		buf[0] = '\0';
	head(&b, m);
	if (m->have_view) {
		assemblies(&b, m);
		budget(&b, m);
	}
	chassis(&b, m);
	mb_printf(&b, "  G granted  S shedding  R asking  Q queued  D denied  L releasing  o off\n");
	mb_printf(&b, "  . empty    watts: held (G, S) or asked\n");
	return b.used;
}
