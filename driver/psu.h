/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rackpwr - PMBus power supplies of this assembly: I2C client drivers
 * ("rackpwr-psu" per supply, "rackpwr-asm" for the assembly controller),
 * hwmon devices, health and per-bank capacity.
 *
 * Kernel-internal API for the rest of rackpwr.ko (netlink capacity dump and
 * events).  See Documentation/hwmon/rackpwr.rst.
 */
#ifndef _RPW_PSU_H
#define _RPW_PSU_H

#include <linux/types.h>

#include "rpw_pmbus.h"

#define RPW_PSU_MAX_SUPPLIES	6	/* slots 0..5: I2C 0x58..0x5d */
#define RPW_PSU_BANKS		2	/* bank A = 0, bank B = 1 */

/* A consistent snapshot of the assembly (taken under one lock). */
struct rpw_psu_capacity {
	u32 bank_mw[RPW_PSU_BANKS];	/* usable mW of healthy supplies */
	u8 present;			/* bit n: a supply sits in slot n */
	u8 healthy;			/* bit n: slot n is RPW_PSU_OK */
	u8 bound;			/* bit n: a driver instance owns slot n */
	u8 health[RPW_PSU_MAX_SUPPLIES];	/* enum rpw_psu_health */
	u32 usable_mw[RPW_PSU_MAX_SUPPLIES];	/* per slot, after derating */
};

/* Called from rackpwr.ko module init/exit. */
int rpw_psu_init(void);
void rpw_psu_exit(void);

/* Per-bank usable capacity; @present/@healthy are slot bitmasks. */
void rpw_psu_capacity(u32 *bank_a_mw, u32 *bank_b_mw, u8 *present,
		      u8 *healthy);
void rpw_psu_get_capacity(struct rpw_psu_capacity *cap);

/*
 * Register (or with NULL remove) the one callback run after every change of
 * capacity, presence or health.  It runs in process context (a workqueue or
 * a sysfs writer), may sleep and may call rpw_psu_capacity(), but must not
 * call rpw_psu_set_notify().  When rpw_psu_set_notify() returns, the old
 * callback is no longer running.
 */
void rpw_psu_set_notify(void (*fn)(void));

#endif /* _RPW_PSU_H */
