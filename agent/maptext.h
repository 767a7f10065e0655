/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rackpwrctl map's layout: the rack drawn in at most MAPT_COLS columns,
 * from a plain model that ctlmap.c fills from the kernel's dumps and the
 * agent's state file.
 *
 * Pure: no libnl, no I/O, no allocation, no clock.  maptext_render()
 * writes into the caller's buffer as snprintf() does; every line it
 * writes, whatever the model holds (addresses up to 254, any watts), is
 * at most MAPT_COLS characters (selftests/unit/test_maptext.c checks it).
 */
#ifndef _RPW_AGENT_MAPTEXT_H
#define _RPW_AGENT_MAPTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAPT_COLS	80
#define MAPT_SUPPLIES	6	/* per assembly: 0-2 bank A, 3-5 bank B */
#define MAPT_SLOTS	8	/* per chassis */
#define MAPT_MAX_ASM	32
#define MAPT_MAX_CHASSIS 64

/* A slot's state: the chassis' (slot-get) or the primary's (alloc-get). */
enum mapt_state {
	MAPT_UNKNOWN,		/* remote chassis, no entry: not known here */
	MAPT_EMPTY,
	MAPT_OFF,
	MAPT_ASKING,		/* requesting, or pending at the primary */
	MAPT_QUEUED,
	MAPT_DENIED,
	MAPT_GRANTED,
	MAPT_SHEDDING,
	MAPT_RELEASING,
	MAPT_NSTATES,
};

struct mapt_asm {
	uint8_t addr;		/* its power-supply module's bus address */
	uint8_t present;	/* bit n: supply slot n occupied */
	uint8_t healthy;	/* bit n: supply n healthy */
	bool lost;		/* its module stopped reporting */
	uint32_t bank_a_mw, bank_b_mw;
};

struct mapt_slot {
	enum mapt_state state;
	uint32_t mw;		/* held when granted or shedding, else asked */
};

struct mapt_chassis {
	uint8_t addr;		/* chassis module's bus address */
	bool local;		/* slots from its node here (slot-get) */
	uint8_t follows;	/* the primary it follows (local only) */
	struct mapt_slot slot[MAPT_SLOTS];
};

struct mapt_model {
	bool have_view;		/* a power-supply node was viewed */
	uint32_t node_id;	/* the node viewed */
	uint8_t node_addr;
	bool is_primary, acting;
	bool recovering;	/* a new primary rebuilding its table */
	uint8_t primary;	/* its primary's address, 0: none */
	uint32_t epoch;		/* term << 8 | owner */
	const char *mode;	/* "n+n", ... */
	const char *budget_src;	/* "agent" or "computed" */
	bool have_budget;
	uint64_t rail_a_mw, rail_b_mw, usable_mw, budget_mw, granted_mw;
	unsigned int nasm;
	struct mapt_asm asm_[MAPT_MAX_ASM];
	unsigned int nchassis;
	struct mapt_chassis chassis[MAPT_MAX_CHASSIS];
};

/* The letter a state is drawn with ('?' for an unknown value). */
char maptext_letter(enum mapt_state s);
/* The watts drawn in a slot: held or asked; 0 for empty, off, unknown. */
uint32_t maptext_slot_mw(const struct mapt_slot *s);
/* Sum of the watts a chassis holds (granted and shedding slots). */
uint64_t maptext_chassis_mw(const struct mapt_chassis *c);
/*
 * Draw @m into @buf (at most @len bytes, NUL included).  Returns the
 * length of the whole drawing, as snprintf() does.
 */
size_t maptext_render(const struct mapt_model *m, char *buf, size_t len);

#endif /* _RPW_AGENT_MAPTEXT_H */
