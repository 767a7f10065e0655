// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host test of rackpwrctl map's layout (agent/maptext.c): the seed's rack
 * drawn as the demo shows it, checked cell by cell; the widest model the
 * types allow (every address, watts and epoch at its maximum, every state,
 * the most assemblies and chassis) never draws a line longer than 80
 * columns; a short buffer gets a terminated prefix and the full length.
 */
#include <string.h>

#include "maptext.h"
#include "tap.h"

static char out[1 << 16];

/* Longest line of @s, and how many lines it has. */
static size_t longest(const char *s, unsigned int *lines)
{
	size_t max = 0, n;

	*lines = 0;
	while (*s) {
		n = strcspn(s, "\n");
		if (n > max)
			max = n;
		(*lines)++;
		s += n + (s[n] == '\n');
	}
	return max;
}

/* The line of @s that starts with @prefix, copied to @line. */
static bool line_of(const char *s, const char *prefix, char *line, size_t len)
{
	size_t n;

	while (*s) {
		n = strcspn(s, "\n");
		if (!strncmp(s, prefix, strlen(prefix))) {
			snprintf(line, len, "%.*s", (int)n, s);
			return true;
		}
		s += n + (s[n] == '\n');
	}
	return false;
}

/* The seed's rack: 2 assemblies of six 1600 W supplies, 6 chassis. */
static void seed(struct mapt_model *m)
{
	unsigned int i, k;

	memset(m, 0, sizeof(*m));
	m->have_view = true;
	m->node_id = 2;
	m->node_addr = 2;
	m->is_primary = m->acting = true;
	m->primary = 2;
	m->epoch = 1 << 8 | 2;
	m->mode = "n+n";
	m->budget_src = "agent";
	m->have_budget = true;
	m->nasm = 2;
	for (i = 0; i < 2; i++)
		m->asm_[i] = (struct mapt_asm){ .addr = i + 1, .present = 0x3f,
			.healthy = 0x3f, .bank_a_mw = 4800000,
			.bank_b_mw = 4800000 };
	m->asm_[0].healthy = 0x3d;	/* supply 1 failed */
	m->asm_[0].bank_a_mw = 3200000;
	m->rail_a_mw = 8000000;
	m->rail_b_mw = 9600000;
	m->usable_mw = 17600000;
	m->budget_mw = 8000000;
	m->nchassis = 6;
	for (i = 0; i < 6; i++) {
		m->chassis[i].addr = 11 + i;
		m->chassis[i].local = true;
		m->chassis[i].follows = 2;
		for (k = 0; k < MAPT_SLOTS; k++)
			m->chassis[i].slot[k] = (struct mapt_slot){
				.state = MAPT_OFF, .mw = 450000 };
	}
	m->chassis[0].slot[0] = (struct mapt_slot){ MAPT_GRANTED, 450000 };
	m->chassis[0].slot[1] = (struct mapt_slot){ MAPT_SHEDDING, 1200000 };
	m->chassis[0].slot[2] = (struct mapt_slot){ MAPT_QUEUED, 700000 };
	m->chassis[0].slot[3] = (struct mapt_slot){ MAPT_EMPTY, 0 };
	m->chassis[0].slot[4] = (struct mapt_slot){ MAPT_DENIED, 350000 };
	m->granted_mw = 1650000;
}

static void test_seed(void)
{
	struct mapt_model m;
	unsigned int lines;
	char l[256];
	size_t n, w;

	seed(&m);
	n = maptext_render(&m, out, sizeof(out));
	tap_ok(n == strlen(out), "the length returned is the drawing's (%zu)", n);
	w = longest(out, &lines);
	tap_ok(w <= MAPT_COLS, "seed rack: every line fits %d columns (longest %zu)",
	       MAPT_COLS, w);
	tap_ok(line_of(out, "RACK MAP   primary addr 2, epoch 1.2: term 1 claimed by 2", l,
		       sizeof(l)), "the primary, its epoch and who claimed it");
	tap_ok(line_of(out, " *  2      ok ok ok  ", l, sizeof(l)) &&
	       strstr(l, "primary"), "the primary's assembly is marked: %s", l);
	tap_ok(line_of(out, "    1      ok !! ok       3200 W   ok ok ok       4800 W",
		       l, sizeof(l)) && !strstr(l, "primary"),
	       "a failed supply is !!, the bank's watts beside it");
	tap_ok(line_of(out, "RAILS      A 8000 W, B 9600 W; usable 17600 W", l,
		       sizeof(l)), "the rails and the usable capacity");
	tap_ok(line_of(out, "BUDGET     n+n: 8000 W (agent)", l, sizeof(l)),
	       "the budget, its mode and source");
	tap_ok(line_of(out, "GRANTED    1650 W, headroom 6350 W", l, sizeof(l)),
	       "granted and headroom");
	tap_ok(line_of(out, "    11    G  450 S 1200 Q  700 .      D  350 o      o      o        1650 W",
		       l, sizeof(l)), "chassis 11: every slot's letter and watts, held sum");
	tap_ok(line_of(out, "    16    o      o ", l, sizeof(l)),
	       "an idle chassis shows its servers off, no watts");
	tap_ok(!strstr(out, "  ! ") && !strstr(out, "  ~ "),
	       "no footnote when every chassis is local and follows the primary");
	tap_ok(lines == 17, "17 lines for the seed rack (%u)", lines);
}

static void test_marks(void)
{
	struct mapt_model m;
	char l[256];

	seed(&m);
	m.chassis[1].follows = 1;
	m.chassis[2].local = false;
	m.chassis[2].slot[5] = (struct mapt_slot){ MAPT_UNKNOWN, 0 };
	m.granted_mw = 9000000;
	maptext_render(&m, out, sizeof(out));
	tap_ok(line_of(out, "    12!", l, sizeof(l)) &&
	       strstr(out, "  ! this chassis module still follows another primary"),
	       "a chassis that follows another primary is marked and explained");
	tap_ok(line_of(out, "    13~", l, sizeof(l)) && strstr(l, " ? ") &&
	       strstr(out, "  ~ not in this kernel"),
	       "a chassis known from the table only is marked, its unknown slot ?");
	tap_ok(line_of(out, "GRANTED    9000 W, OVER BUDGET by 1000 W", l, sizeof(l)),
	       "over the budget (a shed under way) is said with the excess");
	m.is_primary = false;
	m.acting = false;
	maptext_render(&m, out, sizeof(out));
	tap_ok(line_of(out, "view       node 2 (addr 2): secondary, NOT the rack's table",
		       l, sizeof(l)), "a secondary's view says it is not the rack's");
	m.is_primary = m.acting = m.recovering = true;
	maptext_render(&m, out, sizeof(out));
	tap_ok(line_of(out, "view       node 2 (addr 2): acting primary, rebuilding its table",
		       l, sizeof(l)), "a new primary rebuilding its table says so");
	m.have_view = false;
	m.primary = 0;
	maptext_render(&m, out, sizeof(out));
	tap_ok(strstr(out, "RACK MAP   no primary known\n") &&
	       !strstr(out, "ASSEMBLY") && strstr(out, "CHASSIS"),
	       "chassis only: no primary, no assemblies, the chassis drawn");
}

/* Every field at its widest. */
static void test_widest(void)
{
	static struct mapt_model m;
	unsigned int i, k, lines;
	size_t n, w;

	memset(&m, 0, sizeof(m));
	m.have_view = true;
	m.node_id = UINT32_MAX;
	m.node_addr = 254;
	m.is_primary = true;
	m.recovering = true;
	m.primary = 254;
	m.epoch = UINT32_MAX;
	m.mode = "n+n-and-more";
	m.budget_src = "computed-and-more";
	m.have_budget = true;
	m.rail_a_mw = m.rail_b_mw = m.usable_mw = UINT64_MAX;
	m.budget_mw = 0;
	m.granted_mw = UINT64_MAX;
	m.nasm = MAPT_MAX_ASM + 5;	/* more than the array: clamped */
	for (i = 0; i < MAPT_MAX_ASM; i++)
		m.asm_[i] = (struct mapt_asm){ .addr = 254, .present = 0x1f,
			.healthy = 0x0f, .lost = true,
			.bank_a_mw = UINT32_MAX, .bank_b_mw = UINT32_MAX };
	m.nchassis = MAPT_MAX_CHASSIS + 5;
	for (i = 0; i < MAPT_MAX_CHASSIS; i++) {
		m.chassis[i].addr = 254;
		m.chassis[i].local = i & 1;
		m.chassis[i].follows = 1;
		for (k = 0; k < MAPT_SLOTS; k++)
			m.chassis[i].slot[k] = (struct mapt_slot){
				.state = (enum mapt_state)((i + k) % (MAPT_NSTATES + 2)),
				.mw = k & 1 ? UINT32_MAX : 10000000 * k };
	}
	n = maptext_render(&m, out, sizeof(out));
	tap_ok(n < sizeof(out), "widest model fits the test's buffer (%zu)", n);
	w = longest(out, &lines);
	tap_ok(w <= MAPT_COLS,
	       "widest model: every line fits %d columns (longest %zu, %u lines)",
	       MAPT_COLS, w, lines);
	tap_ok(lines == 2 + 1 + MAPT_MAX_ASM + 3 + 1 + MAPT_MAX_CHASSIS + 2 + 2,
	       "widest model: one line per assembly and chassis, clamped (%u)",
	       lines);
	tap_ok(strstr(out, "4294 kW") && strstr(out, "18446744 GW"),
	       "sums scale to kW, MW and GW");
	tap_ok(strstr(out, "  4M") && strstr(out, " 20k"),
	       "cells scale to k and M in four columns");
	tap_ok(maptext_letter((enum mapt_state)99) == '?' &&
	       maptext_letter(MAPT_GRANTED) == 'G',
	       "a state out of range is drawn ?");
}

static void test_short(void)
{
	static char big[1 << 16];
	struct mapt_model m;
	char small[100];
	size_t n, s;

	seed(&m);
	n = maptext_render(&m, big, sizeof(big));
	memset(small, 'x', sizeof(small));
	s = maptext_render(&m, small, sizeof(small));
	tap_ok(s == n && small[sizeof(small) - 1] == '\0' &&
	       !strncmp(small, big, sizeof(small) - 1),
	       "short buffer: terminated prefix, the full length returned");
	tap_ok(maptext_render(&m, NULL, 0) == n, "no buffer: the length only");
}

static void test_sums(void)
{
	struct mapt_chassis c = { 0 };
	struct mapt_slot s = { MAPT_OFF, 500000 };

	c.slot[0] = (struct mapt_slot){ MAPT_GRANTED, UINT32_MAX };
	c.slot[1] = (struct mapt_slot){ MAPT_SHEDDING, UINT32_MAX };
	c.slot[2] = (struct mapt_slot){ MAPT_QUEUED, 1000 };
	tap_ok(maptext_chassis_mw(&c) == 2ULL * UINT32_MAX,
	       "held: granted and shedding, summed without overflow");
	tap_ok(maptext_slot_mw(&s) == 0, "an off slot draws no watts");
	s.state = MAPT_DENIED;
	tap_ok(maptext_slot_mw(&s) == 500000, "a denied slot draws what it asked");
}

int main(void)
{
	test_seed();
	test_marks();
	test_widest();
	test_short();
	test_sums();
	return tap_done();
}
