/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rackpwr - PMBus power supply assemblies: I2C client drivers
 * ("rackpwr-psu" per supply, "rackpwr-asm" for the assembly controller),
 * hwmon devices, health and per-bank capacity.  One assembly per I2C
 * adapter: the supplies and the controller on one adapter form it.
 *
 * Kernel-internal API for the rest of rackpwr.ko (node binding, capacity
 * reports).  See Documentation/hwmon/rackpwr.rst.
 */
#ifndef _RPW_PSU_H
#define _RPW_PSU_H

#include <linux/notifier.h>
#include <linux/types.h>

#include "rpw_pmbus.h"

#define RPW_PSU_MAX_SUPPLIES	6	/* slots 0..5: I2C 0x58..0x5d */
#define RPW_PSU_BANKS		2	/* bank A = 0, bank B = 1 */
#define RPW_PSU_RATED_MAX_MW	50000000	/* 50 kW: rated_power_mw limit */

/* A node's binding to an I2C adapter (its assembly, later a server bus). */
#define RPW_I2C_BUS_AUTO	(-1)	/* the only assembly, if exactly one */

/* A consistent snapshot of one assembly (taken under its lock). */
struct rpw_psu_capacity {
	u64 bank_mw[RPW_PSU_BANKS];	/* usable mW of healthy supplies */
	u8 present;			/* bit n: a supply sits in slot n */
	u8 healthy;			/* bit n: slot n is RPW_PSU_OK */
	u8 bound;			/* bit n: a driver instance owns slot n */
	u8 health[RPW_PSU_MAX_SUPPLIES];	/* enum rpw_psu_health */
	u32 usable_mw[RPW_PSU_MAX_SUPPLIES];	/* per slot, after derating */
};

/* Called from rackpwr.ko module init/exit. */
int rpw_psu_init(void);
void rpw_psu_exit(void);

/*
 * Resolve a binding: an adapter number -> that number if an assembly (any
 * bound rackpwr-psu or rackpwr-asm client) sits on it; RPW_I2C_BUS_AUTO ->
 * the only assembly's adapter number when exactly one exists.  Else
 * -ENODEV.  Process context.
 */
int rpw_asm_resolve(int bus);

/* Snapshot of the assembly on adapter @bus: 0, or -ENODEV if none. */
int rpw_asm_get_capacity(int bus, struct rpw_psu_capacity *cap);

/*
 * Blocking notifier, process context: callbacks may sleep and may call
 * rpw_asm_resolve()/rpw_asm_get_capacity(), but must not (un)register a
 * notifier.  action: enum rpw_asm_event; data: const int *adapter_nr.
 * ADDED when an adapter's first client binds, CHANGED on any change of
 * capacity, presence or health, REMOVED when its last client unbinds (an
 * AUTO binding may resolve differently after ADDED/REMOVED).  ADDED and
 * REMOVED are delivered in the order the registry changed.
 */
enum rpw_asm_event { RPW_ASM_ADDED, RPW_ASM_CHANGED, RPW_ASM_REMOVED };
int rpw_asm_notifier_register(struct notifier_block *nb);
void rpw_asm_notifier_unregister(struct notifier_block *nb);

#endif /* _RPW_PSU_H */
