/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rackpwr - the servers of a chassis module: each slot has an always-on
 * communication device ("rackpwr-server" I2C client) and an AT24-compatible
 * EEPROM (read through the kernel's at24/nvmem driver).  One chassis per
 * I2C adapter: the servers on one adapter form it, as the supplies on one
 * adapter form an assembly.
 *
 * Kernel-internal API for the rest of rackpwr.ko (the allocation glue);
 * the hardware itself is described in rpw_srv.h.  The driver reports; it
 * never enables power on its own.  See
 * Documentation/misc-devices/rackpwr-server.rst.
 */
#ifndef _RPW_SERVER_H
#define _RPW_SERVER_H

#include <linux/notifier.h>
#include <linux/types.h>

#include "rpw_srv.h"	/* register map, EEPROM record, RPW_SRV_SLOTS */

/* A node's binding to an I2C adapter; the same value as in psu.h. */
#ifndef RPW_I2C_BUS_AUTO
#define RPW_I2C_BUS_AUTO	(-1)	/* the only chassis, if exactly one */
#endif

/* Called from rackpwr.ko module init/exit. */
int rpw_srv_init(void);
void rpw_srv_exit(void);

/*
 * Resolve a binding: an adapter number -> that number if a chassis (any
 * bound rackpwr-server client) sits on it; RPW_I2C_BUS_AUTO -> the only
 * chassis' adapter number when exactly one exists.  Else -ENODEV.
 * Process context.
 */
int rpw_chassis_resolve(int bus);

/*
 * What the driver last saw of one slot (its poll, or the last
 * rpw_srv_set_power()/rpw_srv_request_shutdown()).  present means the
 * communication device answers sanely *and* the EEPROM is valid: a server
 * whose EEPROM cannot be read or fails its checks is not present (logged,
 * retried every second).  While fault is set the device stopped
 * answering sanely (data NACK or garbage) and every other field is the
 * last good value.
 */
struct rpw_srv_info {
	bool present;
	bool enabled;			/* STATUS.ENABLED */
	bool shutdown_pending;		/* STATUS.SHUTDOWN */
	bool fault;
	u8 pstate;			/* enum rpw_srv_pstate */
	u32 watts;			/* from the EEPROM, W */
	u32 lower_watts;		/* LOWER_W after a LOWER event, else 0 */
	u32 grant_id;			/* GRANT_ID register */
	char ident[RPW_SRV_IDENT_LEN];	/* from the EEPROM */
};

/*
 * All three may sleep (bus access under the chassis lock): process
 * context, no spinlock held.  0, or -ENODEV (no chassis on @bus, or no
 * driver bound to @slot), -EINVAL (@slot >= RPW_SRV_SLOTS, or power on
 * with @grant_id 0), or the bus error (-ENXIO: nobody at the address).
 *
 * rpw_srv_set_power(on): GRANT_ID := @grant_id, then POWER_EN := 1, then
 * read back.  (off): POWER_EN := 0 (and any pending shutdown request is
 * withdrawn), then GRANT_ID := 0; @grant_id is not used.  The device keeps
 * both across a restart of the chassis module: rpw_srv_get() after a
 * restart tells which grant a powered server holds.
 * rpw_srv_request_shutdown(): sets CONTROL.SHUTDOWN; the server reports
 * RPW_SRV_EV_OFF when it is off, or never if it ignores the request.
 */
int rpw_srv_get(int bus, unsigned int slot, struct rpw_srv_info *out);
int rpw_srv_set_power(int bus, unsigned int slot, bool on, u32 grant_id);
int rpw_srv_request_shutdown(int bus, unsigned int slot);

/*
 * Events of one slot, in the order the driver saw them.  Within one poll:
 * GONE, PRESENT, then OFF, SLEEP, LOWER, then BUTTON, LAN_WAKE, WAKE (what
 * ends power use before what asks for it).  PRESENT: the server was
 * inserted (or was there when the driver bound) and identified; watts =
 * its EEPROM's watts.  GONE: it was removed (its device no longer
 * acknowledges its address), was swapped for another, or the driver
 * unbound.  LOWER: watts = LOWER_W.  NACK: the device stopped answering
 * sanely (data NACK or garbage); nothing else changes, events resume when
 * it answers again.  Events of a server that is not present (no PRESENT
 * yet) are consumed and logged, never delivered.
 */
enum rpw_srv_ev {
	RPW_SRV_EV_PRESENT,
	RPW_SRV_EV_GONE,
	RPW_SRV_EV_BUTTON,
	RPW_SRV_EV_LAN_WAKE,
	RPW_SRV_EV_WAKE,
	RPW_SRV_EV_SLEEP,
	RPW_SRV_EV_OFF,
	RPW_SRV_EV_LOWER,
	RPW_SRV_EV_NACK,
	RPW_SRV_EV__MAX,
};

struct rpw_srv_event {
	int bus;			/* I2C adapter number */
	unsigned int slot;
	enum rpw_srv_ev ev;
	u32 watts;			/* PRESENT, LOWER; else 0 */
};

const char *rpw_srv_ev_name(enum rpw_srv_ev ev);

/*
 * Blocking notifier, process context: callbacks may sleep and may call
 * the functions above, but must not (un)register a notifier.
 * ADDED/REMOVED: data is const int *adapter_nr; ADDED when an adapter's
 * first rackpwr-server client binds, REMOVED when its last one unbinds,
 * in the order the registry changed.  EVENT: data is const struct
 * rpw_srv_event *, delivered from the slot's poll with no lock of the
 * driver held.
 */
enum rpw_srv_notify { RPW_SRV_ADDED, RPW_SRV_REMOVED, RPW_SRV_EVENT };
int rpw_srv_notifier_register(struct notifier_block *nb);
void rpw_srv_notifier_unregister(struct notifier_block *nb);

#endif /* _RPW_SERVER_H */
