// SPDX-License-Identifier: GPL-2.0-only
/*
 * rackpwr - test-only simulated chassis modules.  Each one is an I2C
 * adapter with the server side of one chassis on it: per slot n (0..7) a
 * server's communication device at 0x40+n (the register map of
 * driver/server.h) and its 24c02-compatible identity EEPROM at 0x50+n.
 *
 * Chassis are made the way netdevsim makes devices: "ID [SLOTS_MASK]"
 * written to /sys/bus/rackpwr_sim_server/new_device and "ID" to
 * del_device.  Each is a device rackpwr_sim_serverID on that bus, its
 * adapter a child of it.  The simulator instantiates the sixteen I2C
 * clients itself, as a board's firmware would: "24c02" at 0x50+n, bound by
 * the kernel's own at24 driver, then "rackpwr-server" at 0x40+n, bound by
 * rackpwr.ko.  SLOTS_MASK bit n puts a server in slot n (default 0xff).
 *
 * Both parts are served from plain I2C messages (write: register or byte
 * address, then data; read: from the current address on), the way the
 * parts do it; the I2C core emulates SMBus byte, word and I2C-block
 * transfers on top, so i2c-tools and at24 (through regmap, I2C or SMBus
 * I2C-block with smbus_only=1) see the same device.  i2c-stub cannot serve
 * as either part: it never NACKs, its registers are plain memory (no
 * write-1-to-clear, no read-only registers) and nothing happens by itself.
 *
 * The simulated server obeys the power enable: it is on only while
 * CONTROL.POWER_EN is set (it boots on the enable's rising edge and loses
 * power at once when it drops), and an orderly shutdown request takes it
 * off after shed_delay_ms unless ignore_shed is set.
 *
 * Knobs: /sys/kernel/debug/rackpwr_sim_server/chassisID/serverN/...; see
 * Documentation/dev-tools/rackpwr-testing.rst.  Test-only: nothing in
 * here is meant for production systems.
 */
#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/i2c.h>
#include <linux/idr.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "server.h"

#define SIM_EE_SIZE	256	/* 24c02 */
#define SIM_ALL_SLOTS	0xff	/* new_device without a mask */

static bool smbus_only;
module_param(smbus_only, bool, 0444);
MODULE_PARM_DESC(smbus_only,
		 "Adapters offer SMBus transfers only, no plain I2C (at24 then reads with I2C-block transfers)");

enum sim_knob {
	K_PRESENT, K_NACK, K_GARBAGE, K_WATTS, K_IDENT, K_EE_GARBAGE,
	K_BUTTON, K_LAN_WAKE, K_WAKE, K_SLEEP, K_OFF, K_LOWER, K_IGNORE_SHED,
	K_SHED_DELAY, K_STATE, K_ENABLE, K_SHUTDOWN, K_GRANT_ID, K_EVENTS,
	K_XFERS, K_EE_READS, K_INSERTS,
	K__MAX,
};

static const struct {
	const char *name;
	umode_t mode;
} sim_knobs[K__MAX] = {
	[K_PRESENT]	= { "present",		0644 },
	[K_NACK]	= { "nack",		0644 },
	[K_GARBAGE]	= { "garbage",		0644 },
	[K_WATTS]	= { "watts",		0644 },
	[K_IDENT]	= { "ident",		0644 },
	[K_EE_GARBAGE]	= { "eeprom_garbage",	0644 },
	[K_BUTTON]	= { "button",		0200 },
	[K_LAN_WAKE]	= { "lan_wake",		0200 },
	[K_WAKE]	= { "wake",		0200 },
	[K_SLEEP]	= { "sleep",		0200 },
	[K_OFF]		= { "off",		0200 },
	[K_LOWER]	= { "lower",		0644 },
	[K_IGNORE_SHED]	= { "ignore_shed",	0644 },
	[K_SHED_DELAY]	= { "shed_delay_ms",	0644 },
	[K_STATE]	= { "state",		0444 },
	[K_ENABLE]	= { "enable",		0444 },
	[K_SHUTDOWN]	= { "shutdown",		0444 },
	[K_GRANT_ID]	= { "grant_id",		0444 },
	[K_EVENTS]	= { "events",		0444 },
	[K_XFERS]	= { "xfers",		0444 },
	[K_EE_READS]	= { "eeprom_reads",	0444 },
	[K_INSERTS]	= { "inserts",		0444 },
};

struct sim_chassis;
struct sim_srv;

struct sim_knob_ref {
	struct sim_srv *s;
	enum sim_knob k;
};

/* One slot: the communication device and the EEPROM of its server. */
struct sim_srv {
	struct sim_chassis *c;		/* its chassis; c->lock guards all */
	int idx;
	/* knobs */
	bool present;
	bool nack;
	u8 garbage;			/* 1: reads 0xff, 2: random bytes */
	u8 ee_garbage;			/* 1: bad checksum, 2: blank part */
	bool ignore_shed;
	u32 watts;
	u32 shed_delay_ms;
	char ident[RPW_SRV_IDENT_LEN];
	/* the communication device */
	u8 ptr;				/* register pointer */
	u8 pstate;			/* enum rpw_srv_pstate */
	u8 events;
	u8 control;
	u16 lower_w;
	u32 grant_id;
	bool shed_armed;
	unsigned long shed_at;		/* jiffies: orderly shutdown done */
	/* the EEPROM */
	u8 ee_ptr;
	u8 ee[SIM_EE_SIZE];
	/* counters */
	u64 xfers;
	u64 ee_reads;
	u64 inserts;
	struct sim_knob_ref ref[K__MAX];
};

/* One simulated chassis: a device on the simulator's bus. */
struct sim_chassis {
	struct device dev;		/* rackpwr_sim_serverID */
	struct list_head entry;		/* in sim_chassis_list */
	unsigned int id;
	int bus;			/* adapter number, -1 until added */
	struct mutex lock;		/* all simulated state below */
	struct sim_srv srv[RPW_SRV_SLOTS];
	struct i2c_adapter adap;
	struct i2c_client *comm[RPW_SRV_SLOTS];
	struct i2c_client *eeprom[RPW_SRV_SLOTS];
	struct dentry *dir;
};

static DEFINE_IDA(sim_ida);
static DEFINE_MUTEX(sim_list_lock);	/* sim_chassis_list, sim_enabled */
static LIST_HEAD(sim_chassis_list);
static bool sim_enabled;		/* false once module exit began */
static struct dentry *sim_dir;

/* ---- the EEPROM -------------------------------------------------------- */

/* Write the record of the knobs into the part (the rest stays as is). */
static void sim_ee_build(struct sim_srv *s)
{
	struct rpw_srv_eeprom rec;

	if (s->ee_garbage == 2) {
		memset(s->ee, 0xff, sizeof(s->ee));	/* a blank part */
		return;
	}
	rpw_srv_ee_build(&rec, s->watts, s->ident);
	if (s->ee_garbage == 1)
		rec.ident[0] ^= 0x01;	/* one bit flipped after the CRC */
	memcpy(s->ee, &rec, sizeof(rec));
}

/* ---- the communication device ------------------------------------------ */

/* Time-driven behaviour, applied before every access and knob read. */
static void sim_tick(struct sim_srv *s)
{
	if (!s->shed_armed || time_before(jiffies, s->shed_at))
		return;
	s->shed_armed = false;
	s->control &= ~RPW_SRV_CTL_SHUTDOWN;
	s->pstate = RPW_SRV_PS_OFF;
	s->lower_w = 0;
	s->events |= RPW_SRV_EVT_OFF;
}

static u8 sim_status(struct sim_srv *s)
{
	u8 st = s->pstate;

	if (s->control & RPW_SRV_CTL_POWER_EN)
		st |= RPW_SRV_ST_ENABLED;
	if (s->control & RPW_SRV_CTL_SHUTDOWN)
		st |= RPW_SRV_ST_SHUTDOWN;
	return st;
}

static u8 sim_reg_read(struct sim_srv *s, u8 reg)
{
	switch (reg) {
	case RPW_SRV_REG_ID:
		return RPW_SRV_ID;
	case RPW_SRV_REG_VERSION:
		return RPW_SRV_VERSION;
	case RPW_SRV_REG_STATUS:
		return sim_status(s);
	case RPW_SRV_REG_EVENTS:
		return s->events;
	case RPW_SRV_REG_CONTROL:
		return s->control;
	case RPW_SRV_REG_LOWER_W:
	case RPW_SRV_REG_LOWER_W + 1:
		return s->lower_w >> (8 * (reg - RPW_SRV_REG_LOWER_W));
	case RPW_SRV_REG_GRANT_ID ... RPW_SRV_REG_GRANT_ID + 3:
		return s->grant_id >> (8 * (reg - RPW_SRV_REG_GRANT_ID));
	default:
		return 0xff;	/* beyond the map: the bus' idle level */
	}
}

static void sim_control(struct sim_srv *s, u8 v)
{
	u8 old = s->control;

	s->control = v;
	if (!(v & RPW_SRV_CTL_POWER_EN)) {
		/* The enable dropped: power is cut, whatever was going on. */
		s->pstate = RPW_SRV_PS_OFF;
		s->lower_w = 0;
		s->control &= ~RPW_SRV_CTL_SHUTDOWN;
		s->shed_armed = false;
		return;
	}
	if (!(old & RPW_SRV_CTL_POWER_EN) && s->pstate == RPW_SRV_PS_OFF)
		s->pstate = RPW_SRV_PS_ON;	/* boots on the rising edge */
	if (!(v & RPW_SRV_CTL_SHUTDOWN)) {
		s->shed_armed = false;		/* request withdrawn */
		return;
	}
	if (old & RPW_SRV_CTL_SHUTDOWN)
		return;
	if (s->pstate == RPW_SRV_PS_OFF) {
		/* Already off: done at once. */
		s->control &= ~RPW_SRV_CTL_SHUTDOWN;
		s->events |= RPW_SRV_EVT_OFF;
	} else if (!s->ignore_shed) {
		s->shed_armed = true;
		s->shed_at = jiffies + msecs_to_jiffies(s->shed_delay_ms);
	}
}

/* A byte written at @reg: 0, or -EIO (the device NACKs it). */
static int sim_reg_write(struct sim_srv *s, u8 reg, u8 v)
{
	switch (reg) {
	case RPW_SRV_REG_EVENTS:
		if (v & RPW_SRV_EVT_RSVD)
			return -EIO;
		s->events &= ~v;
		return 0;
	case RPW_SRV_REG_CONTROL:
		if (v & RPW_SRV_CTL_RSVD)
			return -EIO;
		sim_control(s, v);
		return 0;
	case RPW_SRV_REG_GRANT_ID ... RPW_SRV_REG_GRANT_ID + 3:
		reg -= RPW_SRV_REG_GRANT_ID;
		s->grant_id &= ~(0xffU << (8 * reg));
		s->grant_id |= (u32)v << (8 * reg);
		return 0;
	default:
		return -EIO;	/* read-only or beyond the map */
	}
}

static int sim_comm_msg(struct sim_srv *s, struct i2c_msg *m)
{
	int i, ret;

	s->xfers++;
	if (s->nack)
		return -EIO;	/* address ACKed, then data NACKed */
	sim_tick(s);
	if (m->flags & I2C_M_RD) {
		for (i = 0; i < m->len; i++) {
			if (s->garbage)
				m->buf[i] = s->garbage == 1 ? 0xff :
					    get_random_u8();
			else
				m->buf[i] = sim_reg_read(s, s->ptr);
			s->ptr++;
		}
		return 0;
	}
	if (!m->len)
		return 0;	/* quick write: the address ACK is all */
	s->ptr = m->buf[0];
	if (s->ptr >= RPW_SRV_NR_REGS)
		return -EIO;	/* no such register: NACKed */
	for (i = 1; i < m->len; i++) {
		if (s->garbage)
			continue;	/* a confused device ignores writes */
		ret = sim_reg_write(s, s->ptr++, m->buf[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/* 24c02: a byte address, then data; reads go on from the address. */
static int sim_ee_msg(struct sim_srv *s, struct i2c_msg *m)
{
	int i;

	if (m->flags & I2C_M_RD) {
		for (i = 0; i < m->len; i++)
			m->buf[i] = s->ee[s->ee_ptr++];	/* wraps at 256 */
		s->ee_reads += m->len;
		return 0;
	}
	if (!m->len)
		return 0;
	s->ee_ptr = m->buf[0];
	for (i = 1; i < m->len; i++)
		s->ee[s->ee_ptr++] = m->buf[i];
	return 0;
}

static int sim_xfer(struct i2c_adapter *adap, struct i2c_msg *msgs, int num)
{
	struct sim_chassis *c = i2c_get_adapdata(adap);
	int i, ret = 0;

	mutex_lock(&c->lock);
	for (i = 0; i < num && !ret; i++) {
		struct i2c_msg *m = &msgs[i];
		u16 a = m->addr;
		struct sim_srv *s;
		bool ee;

		if (m->flags & (I2C_M_TEN | I2C_M_RECV_LEN)) {
			ret = -EOPNOTSUPP;
			break;
		}
		ee = a >= RPW_SRV_EEPROM_ADDR &&
		     a < RPW_SRV_EEPROM_ADDR + RPW_SRV_SLOTS;
		if (!ee && (a < RPW_SRV_COMM_ADDR ||
			    a >= RPW_SRV_COMM_ADDR + RPW_SRV_SLOTS)) {
			ret = -ENXIO;
			break;
		}
		s = &c->srv[a & 0x07];
		if (!s->present) {
			ret = -ENXIO;	/* nobody acknowledges the address */
			break;
		}
		ret = ee ? sim_ee_msg(s, m) : sim_comm_msg(s, m);
	}
	mutex_unlock(&c->lock);
	return ret ? ret : num;
}

static u32 sim_func(struct i2c_adapter *adap)
{
	u32 f = I2C_FUNC_SMBUS_QUICK | I2C_FUNC_SMBUS_BYTE |
		I2C_FUNC_SMBUS_BYTE_DATA | I2C_FUNC_SMBUS_WORD_DATA |
		I2C_FUNC_SMBUS_I2C_BLOCK;

	return smbus_only ? f : f | I2C_FUNC_I2C;
}

static const struct i2c_algorithm sim_algo = {
	.master_xfer	= sim_xfer,
	.functionality	= sim_func,
};

/* ---- knobs ------------------------------------------------------------- */

/* Plugged in: a fresh device, latched INSERTED, power off. */
static void sim_insert(struct sim_srv *s)
{
	s->ptr = 0;
	s->ee_ptr = 0;
	s->pstate = RPW_SRV_PS_OFF;
	s->events = RPW_SRV_EVT_INSERTED;
	s->control = 0;
	s->lower_w = 0;
	s->grant_id = 0;
	s->shed_armed = false;
	s->inserts++;
}

static int sim_trigger(struct sim_srv *s, enum sim_knob k, s64 v)
{
	if (v != 1)
		return -EINVAL;
	if (!s->present)
		return -ENODEV;
	switch (k) {
	case K_BUTTON:
		s->events |= RPW_SRV_EVT_BUTTON;
		return 0;
	case K_LAN_WAKE:
		s->events |= RPW_SRV_EVT_LAN_WAKE;
		return 0;
	case K_WAKE:
		s->events |= RPW_SRV_EVT_WAKE;
		if (s->pstate == RPW_SRV_PS_SLEEP)
			s->pstate = RPW_SRV_PS_ON;
		return 0;
	case K_SLEEP:
		if (s->pstate != RPW_SRV_PS_ON)
			return -EINVAL;
		s->pstate = RPW_SRV_PS_SLEEP;
		s->events |= RPW_SRV_EVT_SLEEP;
		return 0;
	default:	/* K_OFF: the server shuts itself down */
		if (s->pstate == RPW_SRV_PS_OFF)
			return -EINVAL;
		s->pstate = RPW_SRV_PS_OFF;
		s->lower_w = 0;
		s->control &= ~RPW_SRV_CTL_SHUTDOWN;
		s->shed_armed = false;
		s->events |= RPW_SRV_EVT_OFF;
		return 0;
	}
}

static s64 sim_knob_get(struct sim_srv *s, enum sim_knob k)
{
	switch (k) {
	case K_PRESENT:		return s->present;
	case K_NACK:		return s->nack;
	case K_GARBAGE:		return s->garbage;
	case K_WATTS:		return s->watts;
	case K_EE_GARBAGE:	return s->ee_garbage;
	case K_LOWER:		return s->lower_w;
	case K_IGNORE_SHED:	return s->ignore_shed;
	case K_SHED_DELAY:	return s->shed_delay_ms;
	case K_ENABLE:		return !!(s->control & RPW_SRV_CTL_POWER_EN);
	case K_SHUTDOWN:	return !!(s->control & RPW_SRV_CTL_SHUTDOWN);
	case K_GRANT_ID:	return s->grant_id;
	case K_EVENTS:		return s->events;
	case K_XFERS:		return s->xfers;
	case K_EE_READS:	return s->ee_reads;
	case K_INSERTS:		return s->inserts;
	default:		return 0;
	}
}

static int sim_knob_set(struct sim_srv *s, enum sim_knob k, s64 v)
{
	if (!(sim_knobs[k].mode & 0200))
		return -EPERM;
	if (k >= K_BUTTON && k <= K_OFF)
		return sim_trigger(s, k, v);
	switch (k) {
	case K_PRESENT:
		if (v != 0 && v != 1)
			return -EINVAL;
		if (v && !s->present)
			sim_insert(s);
		s->present = v;
		return 0;
	case K_NACK:
	case K_IGNORE_SHED:
		if (v != 0 && v != 1)
			return -EINVAL;
		if (k == K_NACK)
			s->nack = v;
		else
			s->ignore_shed = v;
		return 0;
	case K_GARBAGE:
	case K_EE_GARBAGE:
		if (v < 0 || v > 2)
			return -EINVAL;
		if (k == K_GARBAGE) {
			s->garbage = v;
			return 0;
		}
		s->ee_garbage = v;
		sim_ee_build(s);
		return 0;
	case K_WATTS:
		/* 0 is accepted: the driver must refuse such a record. */
		if (v < 0 || v > U16_MAX)
			return -EINVAL;
		s->watts = v;
		sim_ee_build(s);
		return 0;
	case K_LOWER:
		/* Passed on as given: checking it is the driver's job. */
		if (v < 0 || v > U16_MAX)
			return -EINVAL;
		if (!s->present || s->pstate == RPW_SRV_PS_OFF)
			return -EINVAL;
		s->lower_w = v;
		s->events |= RPW_SRV_EVT_LOWER;
		return 0;
	case K_SHED_DELAY:
		if (v < 0 || v > 60000)
			return -EINVAL;
		s->shed_delay_ms = v;
		return 0;
	default:
		return -EPERM;
	}
}

static int sim_knob_show(struct sim_srv *s, enum sim_knob k, char *buf,
			 size_t n)
{
	static const char * const ps[] = { "off", "on", "sleep" };

	sim_tick(s);
	if (k == K_IDENT)
		return scnprintf(buf, n, "%s\n", s->ident);
	if (k == K_STATE)
		return scnprintf(buf, n, "%s\n",
				 s->present ? ps[s->pstate] : "absent");
	return scnprintf(buf, n, "%lld\n", sim_knob_get(s, k));
}

static ssize_t sim_knob_read(struct file *f, char __user *ubuf, size_t len,
			     loff_t *pos)
{
	struct sim_knob_ref *r = f->private_data;
	char buf[RPW_SRV_IDENT_LEN + 8];
	int n;

	mutex_lock(&r->s->c->lock);
	n = sim_knob_show(r->s, r->k, buf, sizeof(buf));
	mutex_unlock(&r->s->c->lock);
	return simple_read_from_buffer(ubuf, len, pos, buf, n);
}

/* ident: any text, as given (the driver checks it); a newline ends it. */
static int sim_ident_set(struct sim_srv *s, const char __user *ubuf,
			 size_t len)
{
	char buf[RPW_SRV_IDENT_LEN + 8], *p;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	p = strim(buf);
	if (strlen(p) >= sizeof(s->ident))
		return -EINVAL;
	strscpy_pad(s->ident, p, sizeof(s->ident));
	sim_ee_build(s);
	return 0;
}

static ssize_t sim_knob_write(struct file *f, const char __user *ubuf,
			      size_t len, loff_t *pos)
{
	struct sim_knob_ref *r = f->private_data;
	s64 v = 0;
	int ret;

	if (r->k != K_IDENT) {
		ret = kstrtoll_from_user(ubuf, len, 0, &v);
		if (ret)
			return ret;
	}
	mutex_lock(&r->s->c->lock);
	sim_tick(r->s);
	if (r->k == K_IDENT)
		ret = sim_ident_set(r->s, ubuf, len);
	else
		ret = sim_knob_set(r->s, r->k, v);
	mutex_unlock(&r->s->c->lock);
	return ret ? ret : len;
}

static const struct file_operations sim_knob_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.read	= sim_knob_read,
	.write	= sim_knob_write,
	.llseek	= default_llseek,
};

static void sim_init_srv(struct sim_srv *s, int idx, bool present)
{
	s->idx = idx;
	s->watts = 400 + 100 * idx;	/* distinct per slot: 400..1100 W */
	s->shed_delay_ms = 100;
	snprintf(s->ident, sizeof(s->ident), "SIM-SRV%d", idx);
	memset(s->ee, 0xff, sizeof(s->ee));
	sim_ee_build(s);
	s->present = present;
	if (present)
		sim_insert(s);
}

static void sim_debugfs_srv(struct sim_srv *s, struct dentry *parent)
{
	struct dentry *dir;
	char name[8];
	int k;

	snprintf(name, sizeof(name), "server%d", s->idx);
	dir = debugfs_create_dir(name, parent);
	for (k = 0; k < K__MAX; k++) {
		s->ref[k].s = s;
		s->ref[k].k = k;
		debugfs_create_file(sim_knobs[k].name, sim_knobs[k].mode, dir,
				    &s->ref[k], &sim_knob_fops);
	}
}

/* ---- the simulator's bus: new_device / del_device ---------------------- */

static struct bus_type sim_bus;

static struct sim_chassis *to_sim_chassis(struct device *dev)
{
	return container_of(dev, struct sim_chassis, dev);
}

static ssize_t i2c_bus_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%d\n", READ_ONCE(to_sim_chassis(dev)->bus));
}
static DEVICE_ATTR_RO(i2c_bus);

static ssize_t present_mask_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	struct sim_chassis *c = to_sim_chassis(dev);
	unsigned int mask = 0;
	int i;

	mutex_lock(&c->lock);
	for (i = 0; i < RPW_SRV_SLOTS; i++)
		if (c->srv[i].present)
			mask |= BIT(i);
	mutex_unlock(&c->lock);
	return sysfs_emit(buf, "0x%02x\n", mask);
}
static DEVICE_ATTR_RO(present_mask);

static struct attribute *sim_chassis_attrs[] = {
	&dev_attr_i2c_bus.attr,
	&dev_attr_present_mask.attr,
	NULL
};
ATTRIBUTE_GROUPS(sim_chassis);

static void sim_chassis_release(struct device *dev)
{
	struct sim_chassis *c = to_sim_chassis(dev);

	ida_free(&sim_ida, c->id);
	mutex_destroy(&c->lock);
	kfree(c);
}

/* The servers' clients first: their polls stop before the EEPROMs go. */
static void sim_chassis_del_clients(struct sim_chassis *c)
{
	int i;

	for (i = RPW_SRV_SLOTS - 1; i >= 0; i--) {
		i2c_unregister_device(c->comm[i]);
		c->comm[i] = NULL;
	}
	for (i = RPW_SRV_SLOTS - 1; i >= 0; i--) {
		i2c_unregister_device(c->eeprom[i]);
		c->eeprom[i] = NULL;
	}
}

static int sim_new_client(struct sim_chassis *c, const char *type, u16 addr,
			  struct i2c_client **out)
{
	struct i2c_board_info info = { .addr = addr };
	struct i2c_client *cl;

	strscpy(info.type, type, sizeof(info.type));
	cl = i2c_new_client_device(&c->adap, &info);
	if (IS_ERR(cl))
		return PTR_ERR(cl);
	*out = cl;
	return 0;
}

/* EEPROMs first, so a server's first poll finds its EEPROM's client. */
static int sim_chassis_add_clients(struct sim_chassis *c)
{
	int i, ret = 0;

	for (i = 0; i < RPW_SRV_SLOTS && !ret; i++)
		ret = sim_new_client(c, "24c02", RPW_SRV_EEPROM_ADDR + i,
				     &c->eeprom[i]);
	for (i = 0; i < RPW_SRV_SLOTS && !ret; i++)
		ret = sim_new_client(c, "rackpwr-server",
				     RPW_SRV_COMM_ADDR + i, &c->comm[i]);
	if (ret)
		sim_chassis_del_clients(c);
	return ret;
}

/* sim_list_lock held; @id already taken from sim_ida (freed on error). */
static int sim_chassis_new(unsigned int id, unsigned int mask)
{
	struct sim_chassis *c;
	char name[16];
	int i, ret;

	lockdep_assert_held(&sim_list_lock);
	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c) {
		ida_free(&sim_ida, id);
		return -ENOMEM;
	}
	c->id = id;
	c->bus = -1;
	mutex_init(&c->lock);
	for (i = 0; i < RPW_SRV_SLOTS; i++) {
		c->srv[i].c = c;
		sim_init_srv(&c->srv[i], i, mask & BIT(i));
	}

	device_initialize(&c->dev);
	c->dev.bus = &sim_bus;
	c->dev.groups = sim_chassis_groups;
	c->dev.release = sim_chassis_release;
	ret = dev_set_name(&c->dev, "rackpwr_sim_server%u", id);
	if (ret)
		goto err_put;
	ret = device_add(&c->dev);
	if (ret)
		goto err_put;

	/* No .class: legacy auto-detection must never poke it. */
	c->adap.owner = THIS_MODULE;
	c->adap.algo = &sim_algo;
	c->adap.dev.parent = &c->dev;
	snprintf(c->adap.name, sizeof(c->adap.name), "rackpwr-sim-server%u",
		 id);
	i2c_set_adapdata(&c->adap, c);
	ret = i2c_add_adapter(&c->adap);
	if (ret)
		goto err_del;
	WRITE_ONCE(c->bus, c->adap.nr);

	snprintf(name, sizeof(name), "chassis%u", id);
	c->dir = debugfs_create_dir(name, sim_dir);
	for (i = 0; i < RPW_SRV_SLOTS; i++)
		sim_debugfs_srv(&c->srv[i], c->dir);

	ret = sim_chassis_add_clients(c);
	if (ret)
		goto err_adap;
	list_add_tail(&c->entry, &sim_chassis_list);
	return 0;

err_adap:
	debugfs_remove_recursive(c->dir);
	i2c_del_adapter(&c->adap);
err_del:
	device_del(&c->dev);
err_put:
	put_device(&c->dev);	/* frees @c and its id */
	return ret;
}

/* sim_list_lock held. */
static void sim_chassis_del(struct sim_chassis *c)
{
	lockdep_assert_held(&sim_list_lock);
	list_del(&c->entry);
	sim_chassis_del_clients(c);
	/* Waits for open knob files: no knob outlives its chassis. */
	debugfs_remove_recursive(c->dir);
	i2c_del_adapter(&c->adap);
	device_unregister(&c->dev);
}

/* "ID [SLOTS_MASK]"; an empty line gives @id -1: the lowest free ID. */
static int sim_parse_new(const char *buf, int *id, unsigned int *mask)
{
	unsigned int v[2] = { 0, SIM_ALL_SLOTS };
	char tmp[32], *p = tmp, *tok;
	int n = 0;

	if (strscpy(tmp, buf, sizeof(tmp)) < 0)
		return -EINVAL;
	while ((tok = strsep(&p, " \t\n"))) {
		if (!*tok)
			continue;
		if (n == ARRAY_SIZE(v) || kstrtouint(tok, 0, &v[n]))
			return -EINVAL;
		n++;
	}
	if (v[0] > INT_MAX || v[1] > SIM_ALL_SLOTS)
		return -EINVAL;
	*id = n ? v[0] : -1;
	*mask = v[1];
	return 0;
}

static ssize_t new_device_store(struct bus_type *bus, const char *buf,
				size_t count)
{
	unsigned int mask;
	int id, ret;

	ret = sim_parse_new(buf, &id, &mask);
	if (ret)
		return ret;

	mutex_lock(&sim_list_lock);
	if (!sim_enabled) {
		ret = -ENODEV;
		goto unlock;
	}
	if (id < 0)
		ret = ida_alloc_max(&sim_ida, INT_MAX, GFP_KERNEL);
	else
		ret = ida_alloc_range(&sim_ida, id, id, GFP_KERNEL);
	if (ret < 0) {
		ret = ret == -ENOSPC ? -EEXIST : ret;
		goto unlock;
	}
	ret = sim_chassis_new(ret, mask);
unlock:
	mutex_unlock(&sim_list_lock);
	return ret ? ret : count;
}
static BUS_ATTR_WO(new_device);

static ssize_t del_device_store(struct bus_type *bus, const char *buf,
				size_t count)
{
	struct sim_chassis *c;
	unsigned int id;
	int ret = -ENOENT;

	if (kstrtouint(buf, 0, &id))
		return -EINVAL;
	mutex_lock(&sim_list_lock);
	list_for_each_entry(c, &sim_chassis_list, entry) {
		if (c->id == id) {
			sim_chassis_del(c);
			ret = 0;
			break;
		}
	}
	mutex_unlock(&sim_list_lock);
	return ret ? ret : count;
}
static BUS_ATTR_WO(del_device);

static struct attribute *sim_bus_attrs[] = {
	&bus_attr_new_device.attr,
	&bus_attr_del_device.attr,
	NULL
};
ATTRIBUTE_GROUPS(sim_bus);

static struct bus_type sim_bus = {
	.name		= "rackpwr_sim_server",
	.bus_groups	= sim_bus_groups,
};

static int __init sim_init(void)
{
	int ret;

	sim_dir = debugfs_create_dir("rackpwr_sim_server", NULL);
	ret = bus_register(&sim_bus);
	if (ret) {
		debugfs_remove_recursive(sim_dir);
		return ret;
	}
	mutex_lock(&sim_list_lock);
	sim_enabled = true;
	mutex_unlock(&sim_list_lock);
	return 0;
}

static void __exit sim_exit(void)
{
	struct sim_chassis *c, *tmp;

	/* No new chassis from here on; then each goes, clients first. */
	mutex_lock(&sim_list_lock);
	sim_enabled = false;
	list_for_each_entry_safe(c, tmp, &sim_chassis_list, entry)
		sim_chassis_del(c);
	mutex_unlock(&sim_list_lock);
	bus_unregister(&sim_bus);
	debugfs_remove_recursive(sim_dir);
	ida_destroy(&sim_ida);
}

module_init(sim_init);
module_exit(sim_exit);

MODULE_DESCRIPTION("rackpwr test-only simulated chassis modules with servers");
MODULE_AUTHOR("rackpwr developers");
MODULE_LICENSE("GPL");
