// SPDX-License-Identifier: GPL-2.0-only
/*
 * rackpwr - the servers of a chassis module: an I2C client driver for each
 * server's always-on communication device ("rackpwr-server"), the identity
 * EEPROM read through the kernel's at24/nvmem driver, and the per-adapter
 * chassis registry the allocation glue uses (driver/server.h).
 *
 * A chassis is everything on one I2C adapter: up to eight servers, each a
 * communication device at 0x40+n and an AT24 EEPROM at 0x50+n.  Each
 * adapter with a bound client has its own struct rpw_chassis; the registry
 * is only an index by adapter number (as the assemblies of psu.c).
 *
 * Each bound server is polled from a delayed work every srv_poll_ms:
 * presence is the device acknowledging its address, the latched EVENTS are
 * read and written back (W1C) before they are delivered, so an event is
 * delivered once even if a poll fails half way.  A device that stops
 * answering sanely (data NACK, garbage) is reported and changes nothing.
 * The driver writes CONTROL only when asked to (rpw_srv_set_power(),
 * rpw_srv_request_shutdown()): it never enables a server by itself.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/err.h>
#include <linux/i2c.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/mod_devicetable.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/nvmem-consumer.h>
#include <linux/of.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include "server.h"

#define RPW_SRV_MIN_POLL_MS	10
#define RPW_SRV_MAX_POLL_MS	1000
#define RPW_SRV_EE_RETRY_MS	1000	/* re-read of a refused EEPROM */
#define RPW_SRV_MAX_EVENTS	10	/* per poll: GONE PRESENT, 6 EVENTS, NACK */

static unsigned int srv_poll_ms = 50;
module_param(srv_poll_ms, uint, 0644);
MODULE_PARM_DESC(srv_poll_ms,
		 "Server poll interval in ms (10..1000), read at bind time");

/* What the driver knows of the slot's hardware. */
enum rpw_srv_hw {
	SRV_ABSENT,		/* the address is not acknowledged */
	SRV_BAD_EEPROM,		/* answers, EEPROM unreadable or refused */
	SRV_PRESENT,		/* identified: PRESENT delivered */
};

enum rpw_srv_fault { SRV_FAULT_NONE, SRV_FAULT_NACK, SRV_FAULT_GARBAGE };

static const char * const rpw_srv_fault_name[] = {
	[SRV_FAULT_NONE]	= "none",
	[SRV_FAULT_NACK]	= "nack",
	[SRV_FAULT_GARBAGE]	= "garbage",
};

static const char * const rpw_srv_ev_names[RPW_SRV_EV__MAX] = {
	[RPW_SRV_EV_PRESENT]	= "present",
	[RPW_SRV_EV_GONE]	= "gone",
	[RPW_SRV_EV_BUTTON]	= "button",
	[RPW_SRV_EV_LAN_WAKE]	= "lan_wake",
	[RPW_SRV_EV_WAKE]	= "wake",
	[RPW_SRV_EV_SLEEP]	= "sleep",
	[RPW_SRV_EV_OFF]	= "off",
	[RPW_SRV_EV_LOWER]	= "lower",
	[RPW_SRV_EV_NACK]	= "nack",
};

/* EVENTS bits in delivery order: what ends power use first. */
static const struct {
	u8 bit;
	enum rpw_srv_ev ev;
} rpw_srv_evt_tab[] = {
	{ RPW_SRV_EVT_OFF,	RPW_SRV_EV_OFF },
	{ RPW_SRV_EVT_SLEEP,	RPW_SRV_EV_SLEEP },
	{ RPW_SRV_EVT_LOWER,	RPW_SRV_EV_LOWER },
	{ RPW_SRV_EVT_BUTTON,	RPW_SRV_EV_BUTTON },
	{ RPW_SRV_EVT_LAN_WAKE,	RPW_SRV_EV_LAN_WAKE },
	{ RPW_SRV_EVT_WAKE,	RPW_SRV_EV_WAKE },
};

struct rpw_srv;

/*
 * One chassis: the servers on one I2C adapter.  Lock order:
 * rpw_srv_ev_lock, rpw_chassis_reg_lock, rpw_chassis.lock.
 */
struct rpw_chassis {
	struct list_head entry;		/* in rpw_chassis_list */
	int nr;				/* its I2C adapter's number */
	unsigned int users;		/* bound clients, under reg_lock */
	struct mutex lock;		/* bus access, slot[] and every rpw_srv */
	struct rpw_srv *slot[RPW_SRV_SLOTS];
};

/* One server slot's driver instance; all fields under chassis->lock. */
struct rpw_srv {
	struct i2c_client *client;
	struct rpw_chassis *ch;		/* held from probe to unbind */
	unsigned int slot;
	struct delayed_work work;
	unsigned long interval;		/* jiffies */
	bool dying;			/* no re-arming once set */
	enum rpw_srv_hw hw;
	enum rpw_srv_fault fault;
	const char *ee_err;		/* last EEPROM refusal logged */
	unsigned long ee_next;		/* jiffies of the next EEPROM read */
	struct rpw_srv_info info;
	u64 count[RPW_SRV_EV__MAX];	/* events delivered */
};

/* Events gathered under the lock, delivered after it is dropped. */
struct rpw_srv_evq {
	unsigned int n;
	struct rpw_srv_event ev[RPW_SRV_MAX_EVENTS];
};

static DEFINE_MUTEX(rpw_srv_ev_lock);	/* ADDED/REMOVED in registry order */
static DEFINE_MUTEX(rpw_chassis_reg_lock);	/* the list, users */
static LIST_HEAD(rpw_chassis_list);
static BLOCKING_NOTIFIER_HEAD(rpw_srv_chain);

const char *rpw_srv_ev_name(enum rpw_srv_ev ev)
{
	return (unsigned int)ev < RPW_SRV_EV__MAX ? rpw_srv_ev_names[ev] : "?";
}
EXPORT_SYMBOL_GPL(rpw_srv_ev_name);

static struct device *rpw_srv_dev(struct rpw_srv *srv)
{
	return &srv->client->dev;
}

static void rpw_srv_emit(struct rpw_srv *srv, struct rpw_srv_evq *q,
			 enum rpw_srv_ev ev, u32 watts)
{
	lockdep_assert_held(&srv->ch->lock);
	if (WARN_ON_ONCE(q->n >= RPW_SRV_MAX_EVENTS))
		return;
	q->ev[q->n++] = (struct rpw_srv_event){
		.bus = srv->ch->nr, .slot = srv->slot, .ev = ev, .watts = watts,
	};
	srv->count[ev]++;
	dev_dbg(rpw_srv_dev(srv), "slot %u: event %s (%u W)\n", srv->slot,
		rpw_srv_ev_name(ev), watts);
}

static void rpw_srv_deliver(struct rpw_srv_evq *q)
{
	unsigned int i;

	for (i = 0; i < q->n; i++)
		blocking_notifier_call_chain(&rpw_srv_chain, RPW_SRV_EVENT,
					     &q->ev[i]);
}

/* ---- EEPROM through at24/nvmem ------------------------------------------ */

static int rpw_srv_nvmem_match(struct device *dev, const void *data)
{
	return dev->parent == data;
}

/* The at24 client's nvmem device; -EPROBE_DEFER while it is unbound. */
static struct nvmem_device *rpw_srv_nvmem_get(struct device *ee)
{
	struct nvmem_device *nvmem;

	nvmem = nvmem_device_find(ee, rpw_srv_nvmem_match);
	if (PTR_ERR_OR_ZERO(nvmem) != -EPROBE_DEFER)
		return nvmem;
	/*
	 * at24 refuses to bind while its part does not answer, which is the
	 * case for a slot that was empty when the client was created: try
	 * again now that the server is here.
	 */
	if (device_attach(ee) <= 0)
		return nvmem;
	return nvmem_device_find(ee, rpw_srv_nvmem_match);
}

/*
 * Read the record of the EEPROM at 0x50+slot on our adapter.  The nvmem
 * device is looked up and put for each read: holding it would keep at24's
 * per-client state in use after that client unbinds.
 */
static int rpw_srv_ee_read(struct rpw_srv *srv, struct rpw_srv_eeprom *ee)
{
	struct i2c_adapter *adap = srv->client->adapter;
	struct nvmem_device *nvmem;
	struct device *dev;
	char name[16];
	int ret;

	snprintf(name, sizeof(name), "%d-%04x", i2c_adapter_id(adap),
		 RPW_SRV_EEPROM_ADDR + srv->slot);
	dev = device_find_child_by_name(&adap->dev, name);
	if (!dev)
		return -ENODEV;
	nvmem = rpw_srv_nvmem_get(dev);
	put_device(dev);
	if (IS_ERR(nvmem))
		return PTR_ERR(nvmem);
	ret = nvmem_device_read(nvmem, 0, sizeof(*ee), ee);
	nvmem_device_put(nvmem);
	if (ret >= 0 && ret != sizeof(*ee))
		ret = -EIO;
	return ret < 0 ? ret : 0;
}

/* 0 when the record is valid and copied into srv->info. */
static int rpw_srv_identify(struct rpw_srv *srv)
{
	struct device *dev = rpw_srv_dev(srv);
	char ident[RPW_SRV_IDENT_LEN];
	struct rpw_srv_eeprom ee;
	const char *why;
	u32 watts;
	int ret;

	ret = rpw_srv_ee_read(srv, &ee);
	if (ret)
		why = ret == -ENODEV ? "no EEPROM client at its address" :
		      ret == -EPROBE_DEFER ? "no nvmem device (at24 not bound)" :
		      "read failed";
	else
		why = rpw_srv_ee_parse(&ee, &watts, ident);
	if (why) {
		if (why != srv->ee_err)
			dev_warn(dev, "slot %u: EEPROM 0x%02x refused: %s (%d); server not present\n",
				 srv->slot, RPW_SRV_EEPROM_ADDR + srv->slot,
				 why, ret);
		srv->ee_err = why;
		return -EINVAL;
	}
	srv->ee_err = NULL;
	srv->info.watts = watts;
	strscpy(srv->info.ident, ident, sizeof(srv->info.ident));
	return 0;
}

/* ---- communication device ---------------------------------------------- */

static int rpw_srv_read_u32(struct rpw_srv *srv, u8 reg, u32 *val)
{
	int lo, hi;

	lo = i2c_smbus_read_word_data(srv->client, reg);
	if (lo < 0)
		return lo;
	hi = i2c_smbus_read_word_data(srv->client, reg + 2);
	if (hi < 0)
		return hi;
	*val = (u32)hi << 16 | lo;
	return 0;
}

static int rpw_srv_write_u32(struct rpw_srv *srv, u8 reg, u32 val)
{
	int ret;

	ret = i2c_smbus_write_word_data(srv->client, reg, val & 0xffff);
	if (ret)
		return ret;
	return i2c_smbus_write_word_data(srv->client, reg + 2, val >> 16);
}

static void rpw_srv_set_fault(struct rpw_srv *srv, struct rpw_srv_evq *q,
			      enum rpw_srv_fault f, int err)
{
	if (srv->fault == f)
		return;
	/* One event when a sane device stops being sane, not per change. */
	if (srv->fault == SRV_FAULT_NONE && srv->hw == SRV_PRESENT) {
		srv->info.fault = true;
		rpw_srv_emit(srv, q, RPW_SRV_EV_NACK, 0);
	}
	srv->fault = f;
	dev_warn(rpw_srv_dev(srv),
		 "slot %u: communication device returns %s (%d): state kept\n",
		 srv->slot, rpw_srv_fault_name[f], err);
}

static void rpw_srv_clear_fault(struct rpw_srv *srv)
{
	if (srv->fault == SRV_FAULT_NONE)
		return;
	srv->fault = SRV_FAULT_NONE;
	srv->info.fault = false;
	dev_info(rpw_srv_dev(srv), "slot %u: communication restored\n",
		 srv->slot);
}

/* The server left (or was swapped, or the driver unbinds). */
static void rpw_srv_gone(struct rpw_srv *srv, struct rpw_srv_evq *q,
			 const char *why)
{
	if (srv->hw == SRV_PRESENT) {
		rpw_srv_emit(srv, q, RPW_SRV_EV_GONE, 0);
		dev_info(rpw_srv_dev(srv), "slot %u: %s%s gone (%s)\n",
			 srv->slot, srv->info.ident,
			 srv->info.enabled ? " (power enabled)" : "", why);
	}
	srv->hw = SRV_ABSENT;
	srv->fault = SRV_FAULT_NONE;
	srv->ee_err = NULL;
	memset(&srv->info, 0, sizeof(srv->info));
}

/* A server answers: identify it if it is new. */
static int rpw_srv_arrive(struct rpw_srv *srv, struct rpw_srv_evq *q,
			  u8 events)
{
	int ret;

	if (srv->hw == SRV_PRESENT)
		return 0;
	if (srv->hw == SRV_BAD_EEPROM && time_before(jiffies, srv->ee_next) &&
	    !(events & RPW_SRV_EVT_INSERTED))
		return 0;
	srv->hw = SRV_BAD_EEPROM;
	srv->ee_next = jiffies + msecs_to_jiffies(RPW_SRV_EE_RETRY_MS);
	if (rpw_srv_identify(srv))
		return 0;
	ret = rpw_srv_read_u32(srv, RPW_SRV_REG_GRANT_ID,
			       &srv->info.grant_id);
	if (ret) {
		srv->ee_next = jiffies;	/* the EEPROM was fine: next poll */
		return ret;
	}
	srv->hw = SRV_PRESENT;
	srv->info.present = true;
	dev_info(rpw_srv_dev(srv), "slot %u: %s, %u W, power %s, grant id %u\n",
		 srv->slot, srv->info.ident, srv->info.watts,
		 srv->info.enabled ? "enabled" : "disabled",
		 srv->info.grant_id);
	rpw_srv_emit(srv, q, RPW_SRV_EV_PRESENT, srv->info.watts);
	return 0;
}

/* The latched events, already cleared in the device. */
static int rpw_srv_events(struct rpw_srv *srv, struct rpw_srv_evq *q,
			  u8 events)
{
	unsigned int i;
	int lw;

	if (srv->hw != SRV_PRESENT) {
		if (events & ~RPW_SRV_EVT_INSERTED)
			dev_dbg(rpw_srv_dev(srv),
				"slot %u: events 0x%02x of an unidentified server dropped\n",
				srv->slot, events);
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(rpw_srv_evt_tab); i++) {
		enum rpw_srv_ev ev = rpw_srv_evt_tab[i].ev;
		u32 watts = 0;

		if (!(events & rpw_srv_evt_tab[i].bit))
			continue;
		if (ev == RPW_SRV_EV_LOWER) {
			lw = i2c_smbus_read_word_data(srv->client,
						      RPW_SRV_REG_LOWER_W);
			if (lw < 0)
				return lw;
			/* Not lower than what it has: not to be trusted. */
			if (!lw || lw >= srv->info.watts) {
				dev_warn(rpw_srv_dev(srv),
					 "slot %u: LOWER to %d W of %u W ignored\n",
					 srv->slot, lw, srv->info.watts);
				continue;
			}
			srv->info.lower_watts = lw;
			watts = lw;
		}
		rpw_srv_emit(srv, q, ev, watts);
	}
	return 0;
}

static void rpw_srv_set_status(struct rpw_srv *srv, u8 st)
{
	srv->info.pstate = st & RPW_SRV_ST_PSTATE;
	srv->info.enabled = st & RPW_SRV_ST_ENABLED;
	srv->info.shutdown_pending = st & RPW_SRV_ST_SHUTDOWN;
	if (srv->info.pstate == RPW_SRV_PS_OFF)
		srv->info.lower_watts = 0;
}

/* Read ID, STATUS and EVENTS; clear the events read.  Word, or -errno. */
static int rpw_srv_read_state(struct rpw_srv *srv, enum rpw_srv_fault *f)
{
	struct i2c_client *c = srv->client;
	int id, st, ret;

	*f = SRV_FAULT_NACK;
	id = i2c_smbus_read_word_data(c, RPW_SRV_REG_ID);
	if (id == -ENXIO)	/* one retry: a single NACK is a glitch */
		id = i2c_smbus_read_word_data(c, RPW_SRV_REG_ID);
	if (id < 0)
		return id;
	st = i2c_smbus_read_word_data(c, RPW_SRV_REG_STATUS);
	if (st < 0)
		return st;
	*f = SRV_FAULT_GARBAGE;
	if (id != (RPW_SRV_VERSION << 8 | RPW_SRV_ID) ||
	    rpw_srv_status_bad(st & 0xff) ||
	    ((st >> 8) & RPW_SRV_EVT_RSVD))
		return -EPROTO;
	/* Cleared before delivery: a failed poll never delivers twice. */
	if (st >> 8) {
		*f = SRV_FAULT_NACK;
		ret = i2c_smbus_write_byte_data(c, RPW_SRV_REG_EVENTS, st >> 8);
		if (ret)
			return ret;
	}
	return st;
}

static void rpw_srv_poll(struct rpw_srv *srv, struct rpw_srv_evq *q)
{
	enum rpw_srv_fault f;
	int st, ret;
	u8 events;

	lockdep_assert_held(&srv->ch->lock);
	st = rpw_srv_read_state(srv, &f);
	if (st == -ENXIO) {
		/* Nobody acknowledges the address: the slot is empty. */
		rpw_srv_gone(srv, q, "removed");
		return;
	}
	if (st < 0) {
		rpw_srv_set_fault(srv, q, f, st);
		return;
	}
	events = st >> 8;
	rpw_srv_clear_fault(srv);
	/* Unplugged and another one plugged in between two polls. */
	if (events & RPW_SRV_EVT_INSERTED)
		rpw_srv_gone(srv, q, "swapped");
	rpw_srv_set_status(srv, st & 0xff);
	ret = rpw_srv_arrive(srv, q, events);
	if (!ret)
		ret = rpw_srv_events(srv, q, events);
	if (ret)
		rpw_srv_set_fault(srv, q, SRV_FAULT_NACK, ret);
}

static void rpw_srv_work(struct work_struct *work)
{
	struct rpw_srv *srv = container_of(to_delayed_work(work),
					   struct rpw_srv, work);
	struct rpw_srv_evq q = {};

	mutex_lock(&srv->ch->lock);
	rpw_srv_poll(srv, &q);
	if (!srv->dying)
		queue_delayed_work(system_freezable_wq, &srv->work,
				   srv->interval);
	mutex_unlock(&srv->ch->lock);
	rpw_srv_deliver(&q);
}

/* ---- sysfs on the I2C device ------------------------------------------- */

static const char *rpw_srv_state_name(struct rpw_srv *srv)
{
	static const char * const ps[] = { "off", "on", "sleep" };

	if (srv->hw == SRV_ABSENT)
		return "absent";
	if (srv->hw == SRV_BAD_EEPROM)
		return "bad-eeprom";
	return ps[srv->info.pstate];
}

enum rpw_srv_attr {
	A_SLOT, A_STATE, A_ENABLED, A_SHUTDOWN, A_WATTS, A_LOWER, A_IDENT,
	A_GRANT, A_FAULT,
};

static ssize_t rpw_srv_show(struct device *dev, char *buf,
			    enum rpw_srv_attr a)
{
	struct rpw_srv *srv = dev_get_drvdata(dev);
	struct rpw_srv_info *in = &srv->info;
	ssize_t n;

	mutex_lock(&srv->ch->lock);
	switch (a) {
	case A_SLOT:
		n = sysfs_emit(buf, "%u\n", srv->slot);
		break;
	case A_STATE:
		n = sysfs_emit(buf, "%s\n", rpw_srv_state_name(srv));
		break;
	case A_ENABLED:
		n = sysfs_emit(buf, "%d\n", in->enabled);
		break;
	case A_SHUTDOWN:
		n = sysfs_emit(buf, "%d\n", in->shutdown_pending);
		break;
	case A_WATTS:
		n = sysfs_emit(buf, "%u\n", in->watts);
		break;
	case A_LOWER:
		n = sysfs_emit(buf, "%u\n", in->lower_watts);
		break;
	case A_IDENT:
		n = sysfs_emit(buf, "%s\n", in->ident);
		break;
	case A_GRANT:
		n = sysfs_emit(buf, "%u\n", in->grant_id);
		break;
	default:
		n = sysfs_emit(buf, "%s\n", rpw_srv_fault_name[srv->fault]);
		break;
	}
	mutex_unlock(&srv->ch->lock);
	return n;
}

#define RPW_SRV_ATTR(_name, _a)						\
static ssize_t _name##_show(struct device *dev,				\
			    struct device_attribute *attr, char *buf)	\
{									\
	return rpw_srv_show(dev, buf, _a);				\
}									\
static DEVICE_ATTR_RO(_name)

RPW_SRV_ATTR(slot, A_SLOT);
RPW_SRV_ATTR(state, A_STATE);
RPW_SRV_ATTR(enabled, A_ENABLED);
RPW_SRV_ATTR(shutdown_pending, A_SHUTDOWN);
RPW_SRV_ATTR(watts, A_WATTS);
RPW_SRV_ATTR(lower_watts, A_LOWER);
RPW_SRV_ATTR(ident, A_IDENT);
RPW_SRV_ATTR(grant_id, A_GRANT);
RPW_SRV_ATTR(fault, A_FAULT);

static struct attribute *rpw_srv_attrs[] = {
	&dev_attr_slot.attr,
	&dev_attr_state.attr,
	&dev_attr_enabled.attr,
	&dev_attr_shutdown_pending.attr,
	&dev_attr_watts.attr,
	&dev_attr_lower_watts.attr,
	&dev_attr_ident.attr,
	&dev_attr_grant_id.attr,
	&dev_attr_fault.attr,
	NULL
};

static const struct attribute_group rpw_srv_group = {
	.attrs = rpw_srv_attrs,
};

/* events/NAME: how many NAME events the driver delivered for the slot. */
struct rpw_srv_ev_attr {
	struct device_attribute attr;
	enum rpw_srv_ev ev;
};

static ssize_t rpw_srv_ev_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct rpw_srv *srv = dev_get_drvdata(dev);
	enum rpw_srv_ev ev = container_of(attr, struct rpw_srv_ev_attr,
					  attr)->ev;
	u64 v;

	mutex_lock(&srv->ch->lock);
	v = srv->count[ev];
	mutex_unlock(&srv->ch->lock);
	return sysfs_emit(buf, "%llu\n", v);
}

#define RPW_SRV_EV_ATTR(_name, _ev)					\
static struct rpw_srv_ev_attr rpw_srv_ev_attr_##_name = {		\
	.attr = __ATTR(_name, 0444, rpw_srv_ev_show, NULL),		\
	.ev = _ev,							\
}

RPW_SRV_EV_ATTR(present, RPW_SRV_EV_PRESENT);
RPW_SRV_EV_ATTR(gone, RPW_SRV_EV_GONE);
RPW_SRV_EV_ATTR(button, RPW_SRV_EV_BUTTON);
RPW_SRV_EV_ATTR(lan_wake, RPW_SRV_EV_LAN_WAKE);
RPW_SRV_EV_ATTR(wake, RPW_SRV_EV_WAKE);
RPW_SRV_EV_ATTR(sleep, RPW_SRV_EV_SLEEP);
RPW_SRV_EV_ATTR(off, RPW_SRV_EV_OFF);
RPW_SRV_EV_ATTR(lower, RPW_SRV_EV_LOWER);
RPW_SRV_EV_ATTR(nack, RPW_SRV_EV_NACK);

static struct attribute *rpw_srv_ev_attrs[] = {
	&rpw_srv_ev_attr_present.attr.attr,
	&rpw_srv_ev_attr_gone.attr.attr,
	&rpw_srv_ev_attr_button.attr.attr,
	&rpw_srv_ev_attr_lan_wake.attr.attr,
	&rpw_srv_ev_attr_wake.attr.attr,
	&rpw_srv_ev_attr_sleep.attr.attr,
	&rpw_srv_ev_attr_off.attr.attr,
	&rpw_srv_ev_attr_lower.attr.attr,
	&rpw_srv_ev_attr_nack.attr.attr,
	NULL
};

static const struct attribute_group rpw_srv_ev_group = {
	.name = "events",
	.attrs = rpw_srv_ev_attrs,
};

static const struct attribute_group *rpw_srv_groups[] = {
	&rpw_srv_group,
	&rpw_srv_ev_group,
	NULL
};

/* ---- the chassis registry ---------------------------------------------- */

static void rpw_chassis_event(int nr, enum rpw_srv_notify what)
{
	blocking_notifier_call_chain(&rpw_srv_chain, what, &nr);
}

static struct rpw_chassis *rpw_chassis_find(int nr)
{
	struct rpw_chassis *ch;

	lockdep_assert_held(&rpw_chassis_reg_lock);
	list_for_each_entry(ch, &rpw_chassis_list, entry)
		if (ch->nr == nr)
			return ch;
	return NULL;
}

/* A client on adapter @nr binds: its chassis, created by the first one. */
static struct rpw_chassis *rpw_chassis_get(int nr)
{
	struct rpw_chassis *ch;
	bool added = false;

	mutex_lock(&rpw_srv_ev_lock);
	mutex_lock(&rpw_chassis_reg_lock);
	ch = rpw_chassis_find(nr);
	if (!ch) {
		ch = kzalloc(sizeof(*ch), GFP_KERNEL);
		if (ch) {
			ch->nr = nr;
			mutex_init(&ch->lock);
			list_add_tail(&ch->entry, &rpw_chassis_list);
			added = true;
		}
	}
	if (ch)
		ch->users++;
	mutex_unlock(&rpw_chassis_reg_lock);
	if (added)
		rpw_chassis_event(nr, RPW_SRV_ADDED);
	mutex_unlock(&rpw_srv_ev_lock);
	return ch;
}

/* devm action: a client unbinds; the last one frees the chassis. */
static void rpw_chassis_put(void *data)
{
	struct rpw_chassis *ch = data;
	int nr = ch->nr;
	bool last;

	mutex_lock(&rpw_srv_ev_lock);
	mutex_lock(&rpw_chassis_reg_lock);
	last = !--ch->users;
	if (last)
		list_del(&ch->entry);
	mutex_unlock(&rpw_chassis_reg_lock);
	if (last) {
		mutex_destroy(&ch->lock);
		kfree(ch);
		rpw_chassis_event(nr, RPW_SRV_REMOVED);
	}
	mutex_unlock(&rpw_srv_ev_lock);
}

/* devm action: the slot leaves the chassis; a present server is GONE. */
static void rpw_srv_unlist(void *data)
{
	struct rpw_srv *srv = data;
	struct rpw_srv_evq q = {};

	mutex_lock(&srv->ch->lock);
	srv->ch->slot[srv->slot] = NULL;
	rpw_srv_gone(srv, &q, "driver unbound");
	mutex_unlock(&srv->ch->lock);
	rpw_srv_deliver(&q);
}

/* devm action, registered last: no poll outlives the binding. */
static void rpw_srv_stop(void *data)
{
	struct rpw_srv *srv = data;

	mutex_lock(&srv->ch->lock);
	srv->dying = true;
	mutex_unlock(&srv->ch->lock);
	cancel_delayed_work_sync(&srv->work);
}

/*
 * The bound, listed server of (@bus, @slot) with its chassis locked, or an
 * ERR_PTR.  rpw_chassis_reg_lock stays held too (the chassis cannot go):
 * release both with rpw_srv_unlock().
 */
static struct rpw_srv *rpw_srv_lock(int bus, unsigned int slot)
{
	struct rpw_chassis *ch;

	if (slot >= RPW_SRV_SLOTS)
		return ERR_PTR(-EINVAL);
	mutex_lock(&rpw_chassis_reg_lock);
	ch = rpw_chassis_find(bus);
	if (ch) {
		mutex_lock(&ch->lock);
		if (ch->slot[slot])
			return ch->slot[slot];
		mutex_unlock(&ch->lock);
	}
	mutex_unlock(&rpw_chassis_reg_lock);
	return ERR_PTR(-ENODEV);
}

static void rpw_srv_unlock(struct rpw_srv *srv)
{
	mutex_unlock(&srv->ch->lock);
	mutex_unlock(&rpw_chassis_reg_lock);
}

/* ---- probe ------------------------------------------------------------- */

static int rpw_srv_probe(struct i2c_client *client)
{
	struct device *dev = &client->dev;
	struct rpw_srv_evq q = {};
	struct rpw_srv *srv;
	unsigned int slot;
	int ret;

	if (!i2c_check_functionality(client->adapter,
				     I2C_FUNC_SMBUS_BYTE_DATA |
				     I2C_FUNC_SMBUS_WORD_DATA))
		return -ENODEV;
	slot = client->addr - RPW_SRV_COMM_ADDR;
	if (client->addr < RPW_SRV_COMM_ADDR || slot >= RPW_SRV_SLOTS)
		return dev_err_probe(dev, -EINVAL,
				     "address 0x%02x: no slot (0x40..0x47)\n",
				     client->addr);
	srv = devm_kzalloc(dev, sizeof(*srv), GFP_KERNEL);
	if (!srv)
		return -ENOMEM;
	srv->client = client;
	srv->slot = slot;
	srv->interval = msecs_to_jiffies(clamp_t(unsigned int, srv_poll_ms,
						 RPW_SRV_MIN_POLL_MS,
						 RPW_SRV_MAX_POLL_MS));
	INIT_DELAYED_WORK(&srv->work, rpw_srv_work);
	i2c_set_clientdata(client, srv);

	srv->ch = rpw_chassis_get(client->adapter->nr);
	if (!srv->ch)
		return -ENOMEM;
	ret = devm_add_action_or_reset(dev, rpw_chassis_put, srv->ch);
	if (ret)
		return ret;

	mutex_lock(&srv->ch->lock);
	if (srv->ch->slot[slot]) {
		mutex_unlock(&srv->ch->lock);
		return dev_err_probe(dev, -EBUSY, "slot %u already bound on i2c-%d\n",
				     slot, srv->ch->nr);
	}
	srv->ch->slot[slot] = srv;
	mutex_unlock(&srv->ch->lock);
	ret = devm_add_action_or_reset(dev, rpw_srv_unlist, srv);
	if (ret)
		return ret;
	ret = devm_add_action_or_reset(dev, rpw_srv_stop, srv);
	if (ret)
		return ret;

	/* The first poll now, so a present server is known at once. */
	mutex_lock(&srv->ch->lock);
	rpw_srv_poll(srv, &q);
	queue_delayed_work(system_freezable_wq, &srv->work, srv->interval);
	mutex_unlock(&srv->ch->lock);
	rpw_srv_deliver(&q);
	return 0;
}

static const struct i2c_device_id rpw_srv_id[] = {
	{ "rackpwr-server", 0 },
	{ }
};
MODULE_DEVICE_TABLE(i2c, rpw_srv_id);

static const struct of_device_id __maybe_unused rpw_srv_of_match[] = {
	{ .compatible = "rackpwr,server" },
	{ }
};
MODULE_DEVICE_TABLE(of, rpw_srv_of_match);

static struct i2c_driver rpw_srv_driver = {
	.driver = {
		.name		= "rackpwr-server",
		.of_match_table	= of_match_ptr(rpw_srv_of_match),
		.dev_groups	= rpw_srv_groups,
	},
	.probe_new	= rpw_srv_probe,
	.id_table	= rpw_srv_id,
};

/* ---- kernel-internal API ----------------------------------------------- */

int rpw_chassis_resolve(int bus)
{
	int ret = -ENODEV;

	mutex_lock(&rpw_chassis_reg_lock);
	if (bus == RPW_I2C_BUS_AUTO) {
		if (list_is_singular(&rpw_chassis_list))
			ret = list_first_entry(&rpw_chassis_list,
					       struct rpw_chassis, entry)->nr;
	} else if (bus >= 0 && rpw_chassis_find(bus)) {
		ret = bus;
	}
	mutex_unlock(&rpw_chassis_reg_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(rpw_chassis_resolve);

int rpw_srv_get(int bus, unsigned int slot, struct rpw_srv_info *out)
{
	struct rpw_srv *srv = rpw_srv_lock(bus, slot);

	if (IS_ERR(srv))
		return PTR_ERR(srv);
	*out = srv->info;
	rpw_srv_unlock(srv);
	return 0;
}
EXPORT_SYMBOL_GPL(rpw_srv_get);

/* Read STATUS back after a write to CONTROL; refresh the cached state. */
static int rpw_srv_readback(struct rpw_srv *srv)
{
	int st = i2c_smbus_read_byte_data(srv->client, RPW_SRV_REG_STATUS);

	if (st < 0)
		return st;
	if (rpw_srv_status_bad(st))
		return -EIO;
	rpw_srv_set_status(srv, st);
	return 0;
}

static int rpw_srv_power(struct rpw_srv *srv, bool on, u32 grant_id)
{
	struct i2c_client *c = srv->client;
	int ret;

	if (on) {
		/* Never power a server the driver could not identify. */
		if (srv->hw != SRV_PRESENT)
			return -ENODEV;
		ret = rpw_srv_write_u32(srv, RPW_SRV_REG_GRANT_ID, grant_id);
		if (ret)
			return ret;
		srv->info.grant_id = grant_id;
		ret = i2c_smbus_write_byte_data(c, RPW_SRV_REG_CONTROL,
						RPW_SRV_CTL_POWER_EN);
		if (!ret)
			ret = rpw_srv_readback(srv);
	} else {
		/* Never an enabled server without its grant id: enable first. */
		ret = i2c_smbus_write_byte_data(c, RPW_SRV_REG_CONTROL, 0);
		if (!ret)
			ret = rpw_srv_readback(srv);
		if (!ret && !srv->info.enabled) {
			ret = rpw_srv_write_u32(srv, RPW_SRV_REG_GRANT_ID, 0);
			if (!ret)
				srv->info.grant_id = 0;
		}
	}
	if (!ret && srv->info.enabled != on)
		ret = -EIO;
	return ret;
}

int rpw_srv_set_power(int bus, unsigned int slot, bool on, u32 grant_id)
{
	struct rpw_srv *srv;
	int ret;

	if (on && !grant_id)
		return -EINVAL;
	srv = rpw_srv_lock(bus, slot);
	if (IS_ERR(srv))
		return PTR_ERR(srv);
	ret = rpw_srv_power(srv, on, grant_id);
	if (ret)
		dev_warn(rpw_srv_dev(srv), "slot %u: power %s (grant id %u) failed: %d\n",
			 slot, on ? "on" : "off", grant_id, ret);
	else
		dev_dbg(rpw_srv_dev(srv), "slot %u: power %s, grant id %u\n",
			slot, on ? "on" : "off", srv->info.grant_id);
	rpw_srv_unlock(srv);
	return ret;
}
EXPORT_SYMBOL_GPL(rpw_srv_set_power);

int rpw_srv_request_shutdown(int bus, unsigned int slot)
{
	struct rpw_srv *srv = rpw_srv_lock(bus, slot);
	int ctl, ret;

	if (IS_ERR(srv))
		return PTR_ERR(srv);
	ctl = i2c_smbus_read_byte_data(srv->client, RPW_SRV_REG_CONTROL);
	ret = ctl < 0 ? ctl : (ctl & RPW_SRV_CTL_RSVD) ? -EIO : 0;
	if (!ret)
		ret = i2c_smbus_write_byte_data(srv->client,
						RPW_SRV_REG_CONTROL,
						ctl | RPW_SRV_CTL_SHUTDOWN);
	if (!ret)
		ret = rpw_srv_readback(srv);
	if (ret)
		dev_warn(rpw_srv_dev(srv), "slot %u: shutdown request failed: %d\n",
			 slot, ret);
	rpw_srv_unlock(srv);
	return ret;
}
EXPORT_SYMBOL_GPL(rpw_srv_request_shutdown);

int rpw_srv_notifier_register(struct notifier_block *nb)
{
	return blocking_notifier_chain_register(&rpw_srv_chain, nb);
}
EXPORT_SYMBOL_GPL(rpw_srv_notifier_register);

void rpw_srv_notifier_unregister(struct notifier_block *nb)
{
	blocking_notifier_chain_unregister(&rpw_srv_chain, nb);
}
EXPORT_SYMBOL_GPL(rpw_srv_notifier_unregister);

int rpw_srv_init(void)
{
	return i2c_add_driver(&rpw_srv_driver);
}

void rpw_srv_exit(void)
{
	/* Unbinding runs each device's devm actions: polls stop first. */
	i2c_del_driver(&rpw_srv_driver);
}
