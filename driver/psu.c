// SPDX-License-Identifier: GPL-2.0-only
/*
 * rackpwr - PMBus power supplies over I2C: one hwmon device per supply,
 * health, hot-swap and per-bank capacity, plus the assembly controller
 * (ambient temperature, external fans, total load).
 *
 * An assembly is everything on one I2C adapter: up to six supplies and
 * one controller.  Each adapter with a bound client has its own struct
 * rpw_asm (supplies, lock, capacity); several assemblies in one kernel are
 * independent.  The registry of assemblies is only an index by adapter
 * number.
 *
 * Debian's 6.1 kernel has CONFIG_PMBUS off, so PMBus is spoken directly
 * with SMBus calls; the arithmetic lives in rpw_pmbus.c where the host unit
 * tests reach it.
 *
 * Alarm rule: the chip latches STATUS_* bits.  Each poll reads them, keeps
 * what it saw in a software latch and writes back (W1C, PMBus >= 1.2) only
 * the bits it saw, so no event is lost and a persisting condition shows up
 * again at the next poll (the chip re-latches it).  A poll that finds
 * nothing latched writes nothing.  An *_alarm attribute reads 1 while the
 * condition persists or until it has been read once after it happened.
 */
#include <linux/device.h>
#include <linux/err.h>
#include <linux/hwmon.h>
#include <linux/i2c.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/mod_devicetable.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/of.h>
#include <linux/property.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "psu.h"
#include "rpw_pmbus.h"

#define RPW_PSU_BASE_ADDR	0x58
#define RPW_PSU_MIN_POLL_MS	100
#define RPW_PSU_MAX_POLL_MS	60000

static unsigned int psu_poll_ms = 1000;
module_param(psu_poll_ms, uint, 0644);
MODULE_PARM_DESC(psu_poll_ms,
		 "Default supply poll interval in ms (100..60000)");

static unsigned int psu_comm_fail_polls = 3;
module_param(psu_comm_fail_polls, uint, 0644);
MODULE_PARM_DESC(psu_comm_fail_polls,
		 "Consecutive failed polls before a supply is comm-fail");

enum rpw_rd {
	RD_VIN, RD_VOUT, RD_IIN, RD_IOUT, RD_PIN, RD_POUT, RD_TEMP1, RD_TEMP2,
	RD_FAN1, RD__MAX,
};

static const struct {
	u8 reg;
	u8 cls;
	const char *label;
} rpw_rd_tab[RD__MAX] = {
	[RD_VIN]	= { RPW_PMBUS_READ_VIN, RPW_PMBUS_C_VIN, "vin" },
	[RD_VOUT]	= { RPW_PMBUS_READ_VOUT, RPW_PMBUS_C_VOUT, "vout" },
	[RD_IIN]	= { RPW_PMBUS_READ_IIN, RPW_PMBUS_C_IIN, "iin" },
	[RD_IOUT]	= { RPW_PMBUS_READ_IOUT, RPW_PMBUS_C_IOUT, "iout" },
	[RD_PIN]	= { RPW_PMBUS_READ_PIN, RPW_PMBUS_C_POWER, "pin" },
	[RD_POUT]	= { RPW_PMBUS_READ_POUT, RPW_PMBUS_C_POWER, "pout" },
	[RD_TEMP1]	= { RPW_PMBUS_READ_TEMPERATURE_1, RPW_PMBUS_C_TEMP,
			    "inlet" },
	[RD_TEMP2]	= { RPW_PMBUS_READ_TEMPERATURE_2, RPW_PMBUS_C_TEMP,
			    "hotspot" },
	[RD_FAN1]	= { RPW_PMBUS_READ_FAN_SPEED_1, RPW_PMBUS_C_FAN, "fan1" },
};

/* Limits and ratings: read at identification, not per poll. */
struct rpw_lim_def {
	enum hwmon_sensor_types type;
	u32 attr;
	int ch;
	u8 reg;
	u8 cls;
};

static const struct rpw_lim_def rpw_lim_tab[] = {
	{ hwmon_in, hwmon_in_lcrit, 1, RPW_PMBUS_VIN_UV_FAULT_LIMIT,
	  RPW_PMBUS_C_VIN },
	{ hwmon_in, hwmon_in_min, 1, RPW_PMBUS_VIN_UV_WARN_LIMIT,
	  RPW_PMBUS_C_VIN },
	{ hwmon_in, hwmon_in_max, 1, RPW_PMBUS_VIN_OV_WARN_LIMIT,
	  RPW_PMBUS_C_VIN },
	{ hwmon_in, hwmon_in_crit, 1, RPW_PMBUS_VIN_OV_FAULT_LIMIT,
	  RPW_PMBUS_C_VIN },
	{ hwmon_in, hwmon_in_rated_min, 1, RPW_PMBUS_MFR_VIN_MIN,
	  RPW_PMBUS_C_VIN },
	{ hwmon_in, hwmon_in_rated_max, 1, RPW_PMBUS_MFR_VIN_MAX,
	  RPW_PMBUS_C_VIN },
	{ hwmon_in, hwmon_in_lcrit, 2, RPW_PMBUS_VOUT_UV_FAULT_LIMIT,
	  RPW_PMBUS_C_VOUT },
	{ hwmon_in, hwmon_in_min, 2, RPW_PMBUS_VOUT_UV_WARN_LIMIT,
	  RPW_PMBUS_C_VOUT },
	{ hwmon_in, hwmon_in_max, 2, RPW_PMBUS_VOUT_OV_WARN_LIMIT,
	  RPW_PMBUS_C_VOUT },
	{ hwmon_in, hwmon_in_crit, 2, RPW_PMBUS_VOUT_OV_FAULT_LIMIT,
	  RPW_PMBUS_C_VOUT },
	{ hwmon_curr, hwmon_curr_max, 0, RPW_PMBUS_IIN_OC_WARN_LIMIT,
	  RPW_PMBUS_C_IIN },
	{ hwmon_curr, hwmon_curr_crit, 0, RPW_PMBUS_IIN_OC_FAULT_LIMIT,
	  RPW_PMBUS_C_IIN },
	{ hwmon_curr, hwmon_curr_rated_max, 0, RPW_PMBUS_MFR_IIN_MAX,
	  RPW_PMBUS_C_IIN },
	{ hwmon_curr, hwmon_curr_max, 1, RPW_PMBUS_IOUT_OC_WARN_LIMIT,
	  RPW_PMBUS_C_IOUT },
	{ hwmon_curr, hwmon_curr_crit, 1, RPW_PMBUS_IOUT_OC_FAULT_LIMIT,
	  RPW_PMBUS_C_IOUT },
	{ hwmon_curr, hwmon_curr_rated_max, 1, RPW_PMBUS_MFR_IOUT_MAX,
	  RPW_PMBUS_C_IOUT },
	{ hwmon_power, hwmon_power_max, 0, RPW_PMBUS_PIN_OP_WARN_LIMIT,
	  RPW_PMBUS_C_POWER },
	{ hwmon_power, hwmon_power_rated_max, 0, RPW_PMBUS_MFR_PIN_MAX,
	  RPW_PMBUS_C_POWER },
	{ hwmon_power, hwmon_power_max, 1, RPW_PMBUS_POUT_OP_WARN_LIMIT,
	  RPW_PMBUS_C_POWER },
	{ hwmon_power, hwmon_power_crit, 1, RPW_PMBUS_POUT_OP_FAULT_LIMIT,
	  RPW_PMBUS_C_POWER },
	{ hwmon_power, hwmon_power_rated_max, 1, RPW_PMBUS_MFR_POUT_MAX,
	  RPW_PMBUS_C_POWER },
	{ hwmon_temp, hwmon_temp_max, 0, RPW_PMBUS_OT_WARN_LIMIT,
	  RPW_PMBUS_C_TEMP },
	{ hwmon_temp, hwmon_temp_crit, 0, RPW_PMBUS_OT_FAULT_LIMIT,
	  RPW_PMBUS_C_TEMP },
	{ hwmon_temp, hwmon_temp_rated_max, 0, RPW_PMBUS_MFR_MAX_TEMP_1,
	  RPW_PMBUS_C_TEMP },
};

#define RPW_NR_LIM	ARRAY_SIZE(rpw_lim_tab)

/* Alarm attribute -> status register byte and bits. */
#define RPW_ST(field)	offsetof(struct rpw_pmbus_status, field)

static const struct {
	enum hwmon_sensor_types type;
	u32 attr;
	int ch;
	u8 off;
	u8 mask;
} rpw_alarm_tab[] = {
	{ hwmon_in, hwmon_in_lcrit_alarm, 1, RPW_ST(input),
	  RPW_SN_VIN_UV_FAULT },
	{ hwmon_in, hwmon_in_min_alarm, 1, RPW_ST(input), RPW_SN_VIN_UV_WARN },
	{ hwmon_in, hwmon_in_max_alarm, 1, RPW_ST(input), RPW_SN_VIN_OV_WARN },
	{ hwmon_in, hwmon_in_crit_alarm, 1, RPW_ST(input),
	  RPW_SN_VIN_OV_FAULT },
	{ hwmon_in, hwmon_in_lcrit_alarm, 2, RPW_ST(vout), RPW_SV_UV_FAULT },
	{ hwmon_in, hwmon_in_min_alarm, 2, RPW_ST(vout), RPW_SV_UV_WARN },
	{ hwmon_in, hwmon_in_max_alarm, 2, RPW_ST(vout), RPW_SV_OV_WARN },
	{ hwmon_in, hwmon_in_crit_alarm, 2, RPW_ST(vout), RPW_SV_OV_FAULT },
	{ hwmon_curr, hwmon_curr_max_alarm, 0, RPW_ST(input),
	  RPW_SN_IIN_OC_WARN },
	{ hwmon_curr, hwmon_curr_crit_alarm, 0, RPW_ST(input),
	  RPW_SN_IIN_OC_FAULT },
	{ hwmon_curr, hwmon_curr_max_alarm, 1, RPW_ST(iout), RPW_SI_OC_WARN },
	{ hwmon_curr, hwmon_curr_crit_alarm, 1, RPW_ST(iout),
	  RPW_SI_OC_FAULT | RPW_SI_OC_LV_FAULT },
	{ hwmon_power, hwmon_power_max_alarm, 0, RPW_ST(input),
	  RPW_SN_PIN_OP_WARN },
	{ hwmon_power, hwmon_power_max_alarm, 1, RPW_ST(iout),
	  RPW_SI_POUT_OP_WARN },
	{ hwmon_power, hwmon_power_crit_alarm, 1, RPW_ST(iout),
	  RPW_SI_POUT_OP_FAULT },
	{ hwmon_temp, hwmon_temp_max_alarm, 0, RPW_ST(temp), RPW_ST_OT_WARN },
	{ hwmon_temp, hwmon_temp_crit_alarm, 0, RPW_ST(temp),
	  RPW_ST_OT_FAULT },
	{ hwmon_fan, hwmon_fan_alarm, 0, RPW_ST(fan), RPW_SF_FAN1_WARN },
	{ hwmon_fan, hwmon_fan_fault, 0, RPW_ST(fan), RPW_SF_FAN1_FAULT },
	{ hwmon_fan, hwmon_fan_alarm, 1, RPW_ST(fan), RPW_SF_FAN2_WARN },
	{ hwmon_fan, hwmon_fan_fault, 1, RPW_ST(fan), RPW_SF_FAN2_FAULT },
};

/* Detail status registers: summary bit(s) in STATUS_WORD -> register. */
static const struct {
	u8 reg;
	u8 off;
	u16 summary;
} rpw_st_tab[] = {
	{ RPW_PMBUS_STATUS_VOUT, RPW_ST(vout), RPW_SW_VOUT | RPW_SW_VOUT_OV },
	{ RPW_PMBUS_STATUS_IOUT, RPW_ST(iout),
	  RPW_SW_IOUT_POUT | RPW_SW_IOUT_OC },
	{ RPW_PMBUS_STATUS_INPUT, RPW_ST(input), RPW_SW_INPUT | RPW_SW_VIN_UV },
	{ RPW_PMBUS_STATUS_TEMPERATURE, RPW_ST(temp), RPW_SW_TEMPERATURE },
	{ RPW_PMBUS_STATUS_CML, RPW_ST(cml), RPW_SW_CML },
	{ RPW_PMBUS_STATUS_OTHER, RPW_ST(other), RPW_SW_OTHER },
	{ RPW_PMBUS_STATUS_MFR_SPECIFIC, RPW_ST(mfr), RPW_SW_MFR },
	{ RPW_PMBUS_STATUS_FAN_12, RPW_ST(fan), RPW_SW_FANS },
};

#define RPW_ST_BYTE(st, off)	(((u8 *)(st))[off])

/* One PMBus device, a supply or the assembly controller. */
struct rpw_pmdev {
	struct i2c_client *client;
	u8 revision;
	u8 vout_mode;
	bool vout_mode_ok;
	struct rpw_pmbus_status active;	/* latched bits seen at last poll */
	struct rpw_pmbus_status sticky;	/* seen since the alarm was read */
};

/*
 * One assembly: the clients on one I2C adapter.  Lock order:
 * rpw_asm_ev_lock, rpw_asm_reg_lock, rpw_psu.lock, rpw_asm.lock.
 */
struct rpw_asm {
	struct list_head entry;		/* in rpw_asm_list */
	int nr;				/* its I2C adapter's number */
	unsigned int users;		/* bound clients, under rpw_asm_reg_lock */
	struct mutex lock;		/* supplies and their pub_* fields */
	struct list_head supplies;	/* struct rpw_psu, by probe order */
};

struct rpw_psu {
	struct rpw_pmdev pm;
	struct rpw_asm *as;		/* held from probe to unbind */
	struct device *hwmon;
	struct mutex lock;		/* bus access and all fields below */
	struct delayed_work work;
	bool dying;			/* no re-arming once set */
	unsigned long interval;		/* jiffies */
	int slot;
	int bank;

	bool identified;		/* identity valid for this unit */
	bool present;
	bool probed_present;		/* present at probe: visibility known */
	unsigned int errors;		/* consecutive failed polls */
	enum rpw_psu_health health;
	u32 flags;
	u32 rd_visible;			/* BIT(rd): attribute shown */
	u32 rd_unit;			/* BIT(rd): this unit has it */
	u32 lim_visible;		/* BIT(lim) */
	s64 rd_val[RD__MAX];
	int rd_err[RD__MAX];
	s64 lim_val[RPW_NR_LIM];
	int lim_err[RPW_NR_LIM];
	bool status_ok;
	u32 mfr_pout_max_mw;
	u32 rated_override_mw;
	char mfr_id[I2C_SMBUS_BLOCK_MAX + 1];
	char mfr_model[I2C_SMBUS_BLOCK_MAX + 1];
	char mfr_revision[I2C_SMBUS_BLOCK_MAX + 1];
	char mfr_serial[I2C_SMBUS_BLOCK_MAX + 1];

	/* Published state, under as->lock. */
	struct list_head node;
	bool pub_present;
	enum rpw_psu_health pub_health;
	u32 pub_usable_mw;
	int pub_pin_err;
	int pub_pout_err;
	s64 pub_pin_uw;
	s64 pub_pout_uw;
};

static DEFINE_MUTEX(rpw_asm_ev_lock);	/* ADDED/REMOVED in registry order */
static DEFINE_MUTEX(rpw_asm_reg_lock);	/* rpw_asm_list, rpw_asm.users */
static LIST_HEAD(rpw_asm_list);
static BLOCKING_NOTIFIER_HEAD(rpw_asm_chain);

/* ---- bus helpers ------------------------------------------------------ */

/* A NACK for a register a device lacks is not a communication failure. */
static int rpw_read_word(struct rpw_pmdev *pm, u8 reg)
{
	return i2c_smbus_read_word_data(pm->client, reg);
}

static int rpw_read_byte(struct rpw_pmdev *pm, u8 reg)
{
	return i2c_smbus_read_byte_data(pm->client, reg);
}

static void rpw_read_block(struct rpw_pmdev *pm, u8 reg, char *buf)
{
	u8 tmp[I2C_SMBUS_BLOCK_MAX];
	int i, n = -EOPNOTSUPP;

	if (i2c_check_functionality(pm->client->adapter,
				    I2C_FUNC_SMBUS_READ_BLOCK_DATA))
		n = i2c_smbus_read_block_data(pm->client, reg, tmp);
	if (n < 0)
		n = 0;
	/* Keep sysfs lines sane whatever the unit sends. */
	for (i = 0; i < n; i++)
		buf[i] = (tmp[i] >= 0x20 && tmp[i] < 0x7f) ? tmp[i] : '?';
	while (n > 0 && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
}

static int rpw_decode(struct rpw_pmdev *pm, u8 cls, int raw, s64 *val)
{
	if (raw < 0)
		return -EIO;
	if (cls == RPW_PMBUS_C_VOUT && !pm->vout_mode_ok)
		return -ENODATA;
	/* Garbage is "no data", never a number. */
	return rpw_pmbus_decode(cls, raw, pm->vout_mode, val) ? -ENODATA : 0;
}

/*
 * Read the status registers the summary word points at, merge them into
 * the software latch and clear exactly the bits seen.  Returns the bits as
 * they were latched in the chip.
 */
static void rpw_status_poll(struct rpw_pmdev *pm, u16 word,
			    struct rpw_pmbus_status *st)
{
	bool seen = false;
	int i, v;

	memset(st, 0, sizeof(*st));
	st->word = word;
	for (i = 0; i < ARRAY_SIZE(rpw_st_tab); i++) {
		if (!(word & rpw_st_tab[i].summary))
			continue;
		v = rpw_read_byte(pm, rpw_st_tab[i].reg);
		if (v <= 0)
			continue;
		RPW_ST_BYTE(st, rpw_st_tab[i].off) = v;
		RPW_ST_BYTE(&pm->sticky, rpw_st_tab[i].off) |= v;
		seen = true;
		if (pm->revision >= RPW_PMBUS_REV_1_2)
			i2c_smbus_write_byte_data(pm->client,
						  rpw_st_tab[i].reg, v);
	}
	/* Before PMBus 1.2 only CLEAR_FAULTS clears; all was saved above. */
	if (seen && pm->revision < RPW_PMBUS_REV_1_2)
		i2c_smbus_write_byte(pm->client, RPW_PMBUS_CLEAR_FAULTS);
	pm->sticky.word |= word;
	pm->active = *st;
}

/* Alarm value: active now, or latched since the last read of it. */
static long rpw_alarm_read(struct rpw_pmdev *pm, u8 off, u8 mask)
{
	u8 hit = (RPW_ST_BYTE(&pm->active, off) |
		  RPW_ST_BYTE(&pm->sticky, off)) & mask;

	RPW_ST_BYTE(&pm->sticky, off) &= ~mask;
	return !!hit;
}

/* ---- capacity publication --------------------------------------------- */

static u32 rpw_psu_rated_mw(struct rpw_psu *psu)
{
	if (psu->rated_override_mw)
		return psu->rated_override_mw;
	return psu->mfr_pout_max_mw;
}

/* 0 means "use MFR_POUT_MAX"; above the limit is a typo, not a supply. */
static int rpw_psu_rated_valid(u64 mw)
{
	return mw <= RPW_PSU_RATED_MAX_MW ? 0 : -EINVAL;
}

static void rpw_asm_event(int nr, enum rpw_asm_event ev)
{
	blocking_notifier_call_chain(&rpw_asm_chain, ev, &nr);
}

/* Capacity, presence or health changed; no lock held. */
static void rpw_asm_changed(struct rpw_asm *as)
{
	rpw_asm_event(as->nr, RPW_ASM_CHANGED);
}

/* Called with psu->lock held; returns true if capacity or health changed. */
static bool rpw_psu_publish(struct rpw_psu *psu)
{
	bool ok = psu->present && psu->health == RPW_PSU_OK;
	bool temp_ok = !psu->rd_err[RD_TEMP1];
	u32 usable = 0;
	bool changed;

	lockdep_assert_held(&psu->lock);
	if (ok)
		usable = rpw_pmbus_derate_mw(rpw_psu_rated_mw(psu), temp_ok,
					     (s32)psu->rd_val[RD_TEMP1]);
	mutex_lock(&psu->as->lock);
	changed = psu->pub_present != psu->present ||
		  psu->pub_health != psu->health ||
		  psu->pub_usable_mw != usable;
	psu->pub_present = psu->present;
	psu->pub_health = psu->health;
	psu->pub_usable_mw = usable;
	psu->pub_pin_err = psu->rd_err[RD_PIN];
	psu->pub_pin_uw = psu->rd_val[RD_PIN];
	psu->pub_pout_err = psu->rd_err[RD_POUT];
	psu->pub_pout_uw = psu->rd_val[RD_POUT];
	mutex_unlock(&psu->as->lock);
	return changed;
}

/* ---- supply identification and polling -------------------------------- */

static void rpw_psu_identify(struct rpw_psu *psu)
{
	struct rpw_pmdev *pm = &psu->pm;
	bool nacked = false;
	s64 v;
	int i, raw;

	raw = rpw_read_byte(pm, RPW_PMBUS_PAGE);
	if (raw > 0 && raw != 0xff)
		i2c_smbus_write_byte_data(pm->client, RPW_PMBUS_PAGE, 0);
	nacked |= raw < 0;
	raw = rpw_read_byte(pm, RPW_PMBUS_REVISION);
	pm->revision = raw < 0 ? 0 : raw;
	nacked |= raw < 0;
	raw = rpw_read_byte(pm, RPW_PMBUS_VOUT_MODE);
	pm->vout_mode = raw < 0 ? 0 : raw;
	pm->vout_mode_ok = raw >= 0 && (raw >> 5) == RPW_VOUT_MODE_LINEAR;
	nacked |= raw < 0;
	if (raw >= 0 && !pm->vout_mode_ok)
		dev_warn(&pm->client->dev,
			 "VOUT_MODE 0x%02x is not linear: vout not reported\n",
			 raw);

	rpw_read_block(pm, RPW_PMBUS_MFR_ID, psu->mfr_id);
	rpw_read_block(pm, RPW_PMBUS_MFR_MODEL, psu->mfr_model);
	rpw_read_block(pm, RPW_PMBUS_MFR_REVISION, psu->mfr_revision);
	rpw_read_block(pm, RPW_PMBUS_MFR_SERIAL, psu->mfr_serial);

	psu->rd_unit = 0;
	for (i = 0; i < RD__MAX; i++) {
		raw = rpw_read_word(pm, rpw_rd_tab[i].reg);
		if (raw >= 0)
			psu->rd_unit |= BIT(i);
		nacked |= raw < 0;
	}
	if (!pm->vout_mode_ok)
		psu->rd_unit &= ~BIT(RD_VOUT);
	for (i = 0; i < RPW_NR_LIM; i++) {
		raw = rpw_read_word(pm, rpw_lim_tab[i].reg);
		nacked |= raw < 0;
		psu->lim_err[i] = raw < 0 ? -ENODATA :
				  rpw_decode(pm, rpw_lim_tab[i].cls, raw, &v);
		psu->lim_val[i] = psu->lim_err[i] ? 0 : v;
		if (rpw_lim_tab[i].reg == RPW_PMBUS_MFR_POUT_MAX)
			psu->mfr_pout_max_mw = psu->lim_err[i] ? 0 :
				(u32)clamp_val(div_s64(v, 1000), 0, U32_MAX);
	}
	/*
	 * Probing absent optional commands made the unit latch CML "invalid
	 * command"; that is our doing, not a fault of the supply.
	 */
	if (nacked) {
		if (pm->revision >= RPW_PMBUS_REV_1_2)
			i2c_smbus_write_byte_data(pm->client,
						  RPW_PMBUS_STATUS_CML,
						  RPW_SC_INVALID_CMD |
						  RPW_SC_INVALID_DATA);
		else
			i2c_smbus_write_byte(pm->client,
					     RPW_PMBUS_CLEAR_FAULTS);
	}
	psu->identified = true;
	dev_info(&pm->client->dev,
		 "slot %d bank %c: %s %s rev %s serial %s, PMBus 0x%02x, rated %u mW\n",
		 psu->slot, 'A' + psu->bank, psu->mfr_id, psu->mfr_model,
		 psu->mfr_revision, psu->mfr_serial, pm->revision,
		 rpw_psu_rated_mw(psu));
}

static void rpw_psu_set_health(struct rpw_psu *psu, enum rpw_psu_health h)
{
	struct device *dev = &psu->pm.client->dev;
	enum rpw_psu_health old = psu->health;

	if (h == old)
		return;
	psu->health = h;
	/* The probe logs the identity; a first state is no change. */
	if (!psu->hwmon)
		return;
	/* One line per state change, never one per poll. */
	if (h == RPW_PSU_OK)
		dev_info(dev, "slot %d health %s -> ok\n", psu->slot,
			 rpw_psu_health_name(old));
	else
		dev_warn(dev, "slot %d health %s -> %s\n", psu->slot,
			 rpw_psu_health_name(old), rpw_psu_health_name(h));
}

static void rpw_psu_invalidate(struct rpw_psu *psu, int err)
{
	int i;

	for (i = 0; i < RD__MAX; i++)
		psu->rd_err[i] = err;
	memset(&psu->pm.active, 0, sizeof(psu->pm.active));
}

static void rpw_psu_poll(struct rpw_psu *psu)
{
	struct rpw_pmdev *pm = &psu->pm;
	struct rpw_pmbus_status st, old = pm->active;
	int i, word;
	s64 v;

	word = rpw_read_word(pm, RPW_PMBUS_STATUS_WORD);
	if (word == -ENXIO)	/* one retry: a single NACK is a glitch */
		word = rpw_read_word(pm, RPW_PMBUS_STATUS_WORD);
	if (word == -ENXIO) {
		/* Nobody acknowledges the address: the slot is empty. */
		psu->present = false;
		psu->identified = false;
		psu->errors = 0;
		rpw_psu_invalidate(psu, -ENODATA);
		rpw_psu_set_health(psu, RPW_PSU_ABSENT);
		return;
	}
	if (word < 0) {
		rpw_psu_invalidate(psu, -EIO);
		if (++psu->errors >= psu_comm_fail_polls) {
			/* It may come back as another unit: identify again. */
			psu->identified = false;
			rpw_psu_set_health(psu, RPW_PSU_COMM_FAIL);
		}
		return;
	}
	psu->present = true;
	psu->errors = 0;
	if (!psu->identified) {
		rpw_psu_identify(psu);
		word = rpw_read_word(pm, RPW_PMBUS_STATUS_WORD);
		if (word < 0)
			word = 0;
	}

	rpw_status_poll(pm, word, &st);
	psu->status_ok = true;
	/* Live OFF/POWER_GOOD# show up as health; log latched changes. */
	if (memcmp(&st.vout, &old.vout, sizeof(st) - RPW_ST(vout)))
		dev_notice(&pm->client->dev,
			   "slot %d status word 0x%04x vout 0x%02x iout 0x%02x input 0x%02x temp 0x%02x cml 0x%02x fan 0x%02x\n",
			   psu->slot, st.word, st.vout, st.iout, st.input,
			   st.temp, st.cml, st.fan);

	for (i = 0; i < RD__MAX; i++) {
		int raw;

		if (!(psu->rd_unit & BIT(i))) {
			psu->rd_err[i] = -ENODATA;
			continue;
		}
		raw = rpw_read_word(pm, rpw_rd_tab[i].reg);
		psu->rd_err[i] = rpw_decode(pm, rpw_rd_tab[i].cls, raw, &v);
		psu->rd_val[i] = psu->rd_err[i] ? 0 : v;
	}

	psu->flags = rpw_pmbus_status_flags(&st);
	rpw_psu_set_health(psu, rpw_pmbus_health(psu->flags));
}

static void rpw_psu_work(struct work_struct *work)
{
	struct rpw_psu *psu = container_of(to_delayed_work(work),
					   struct rpw_psu, work);
	bool changed;

	mutex_lock(&psu->lock);
	rpw_psu_poll(psu);
	changed = rpw_psu_publish(psu);
	if (!psu->dying)
		queue_delayed_work(system_freezable_wq, &psu->work,
				   psu->interval);
	mutex_unlock(&psu->lock);
	if (changed)
		rpw_asm_changed(psu->as);
}

/* ---- hwmon ------------------------------------------------------------ */

static int rpw_psu_rd_index(enum hwmon_sensor_types type, int ch)
{
	switch (type) {
	case hwmon_in:
		return ch == 1 ? RD_VIN : ch == 2 ? RD_VOUT : -1;
	case hwmon_curr:
		return ch == 0 ? RD_IIN : RD_IOUT;
	case hwmon_power:
		return ch == 0 ? RD_PIN : RD_POUT;
	case hwmon_temp:
		return ch == 0 ? RD_TEMP1 : RD_TEMP2;
	case hwmon_fan:
		return ch == 0 ? RD_FAN1 : -1;
	default:
		return -1;
	}
}

static bool rpw_is_input(enum hwmon_sensor_types type, u32 attr)
{
	return (type == hwmon_in && attr == hwmon_in_input) ||
	       (type == hwmon_curr && attr == hwmon_curr_input) ||
	       (type == hwmon_power && attr == hwmon_power_input) ||
	       (type == hwmon_temp && attr == hwmon_temp_input) ||
	       (type == hwmon_fan && attr == hwmon_fan_input);
}

static bool rpw_is_label(enum hwmon_sensor_types type, u32 attr)
{
	return (type == hwmon_in && attr == hwmon_in_label) ||
	       (type == hwmon_curr && attr == hwmon_curr_label) ||
	       (type == hwmon_power && attr == hwmon_power_label) ||
	       (type == hwmon_temp && attr == hwmon_temp_label) ||
	       (type == hwmon_fan && attr == hwmon_fan_label);
}

static int rpw_lim_index(enum hwmon_sensor_types type, u32 attr, int ch)
{
	int i;

	for (i = 0; i < RPW_NR_LIM; i++)
		if (rpw_lim_tab[i].type == type && rpw_lim_tab[i].attr == attr &&
		    rpw_lim_tab[i].ch == ch)
			return i;
	return -1;
}

static int rpw_alarm_index(enum hwmon_sensor_types type, u32 attr, int ch)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(rpw_alarm_tab); i++)
		if (rpw_alarm_tab[i].type == type &&
		    rpw_alarm_tab[i].attr == attr && rpw_alarm_tab[i].ch == ch)
			return i;
	return -1;
}

static umode_t rpw_psu_is_visible(const void *data,
				  enum hwmon_sensor_types type, u32 attr,
				  int ch)
{
	const struct rpw_psu *psu = data;
	int rd = rpw_psu_rd_index(type, ch);
	int i;

	if (type == hwmon_chip)
		return attr == hwmon_chip_update_interval ? 0644 : 0;
	if (rd < 0 || !(psu->rd_visible & BIT(rd)))
		return 0;
	if (rpw_is_input(type, attr) || rpw_is_label(type, attr))
		return 0444;
	i = rpw_lim_index(type, attr, ch);
	if (i >= 0)
		return (psu->lim_visible & BIT(i)) ? 0444 : 0;
	if (rpw_alarm_index(type, attr, ch) >= 0)
		return psu->status_ok || !psu->probed_present ? 0444 : 0;
	return 0;
}

static int rpw_psu_read(struct device *dev, enum hwmon_sensor_types type,
			u32 attr, int ch, long *val)
{
	struct rpw_psu *psu = dev_get_drvdata(dev);
	int rd = rpw_psu_rd_index(type, ch);
	int lim = rpw_lim_index(type, attr, ch);
	int alarm = rpw_alarm_index(type, attr, ch);
	int ret = 0;

	mutex_lock(&psu->lock);
	if (type == hwmon_chip) {
		*val = jiffies_to_msecs(psu->interval);
	} else if (rpw_is_input(type, attr) && rd >= 0) {
		ret = psu->rd_err[rd];
		if (!ret)
			*val = clamp_val(psu->rd_val[rd], LONG_MIN, LONG_MAX);
	} else if (lim >= 0) {
		ret = psu->present ? psu->lim_err[lim] : -ENODATA;
		if (!ret)
			*val = clamp_val(psu->lim_val[lim], LONG_MIN, LONG_MAX);
	} else if (alarm >= 0) {
		*val = rpw_alarm_read(&psu->pm, rpw_alarm_tab[alarm].off,
				      rpw_alarm_tab[alarm].mask);
	} else {
		ret = -EOPNOTSUPP;
	}
	mutex_unlock(&psu->lock);
	return ret;
}

static int rpw_psu_read_string(struct device *dev,
			       enum hwmon_sensor_types type, u32 attr, int ch,
			       const char **str)
{
	int rd = rpw_psu_rd_index(type, ch);

	if (rd < 0)
		return -EOPNOTSUPP;
	*str = rpw_rd_tab[rd].label;
	return 0;
}

static int rpw_psu_write(struct device *dev, enum hwmon_sensor_types type,
			 u32 attr, int ch, long val)
{
	struct rpw_psu *psu = dev_get_drvdata(dev);

	if (type != hwmon_chip || attr != hwmon_chip_update_interval)
		return -EOPNOTSUPP;
	val = clamp_val(val, RPW_PSU_MIN_POLL_MS, RPW_PSU_MAX_POLL_MS);
	mutex_lock(&psu->lock);
	psu->interval = msecs_to_jiffies(val);
	if (!psu->dying)
		mod_delayed_work(system_freezable_wq, &psu->work,
				 psu->interval);
	mutex_unlock(&psu->lock);
	return 0;
}

static const struct hwmon_ops rpw_psu_hwmon_ops = {
	.is_visible	= rpw_psu_is_visible,
	.read		= rpw_psu_read,
	.read_string	= rpw_psu_read_string,
	.write		= rpw_psu_write,
};

#define RPW_IN_ATTRS	(HWMON_I_INPUT | HWMON_I_LABEL | HWMON_I_LCRIT | \
			 HWMON_I_MIN | HWMON_I_MAX | HWMON_I_CRIT | \
			 HWMON_I_RATED_MIN | HWMON_I_RATED_MAX | \
			 HWMON_I_LCRIT_ALARM | HWMON_I_MIN_ALARM | \
			 HWMON_I_MAX_ALARM | HWMON_I_CRIT_ALARM)
#define RPW_CURR_ATTRS	(HWMON_C_INPUT | HWMON_C_LABEL | HWMON_C_MAX | \
			 HWMON_C_CRIT | HWMON_C_RATED_MAX | \
			 HWMON_C_MAX_ALARM | HWMON_C_CRIT_ALARM)
#define RPW_POWER_ATTRS	(HWMON_P_INPUT | HWMON_P_LABEL | HWMON_P_MAX | \
			 HWMON_P_CRIT | HWMON_P_RATED_MAX | \
			 HWMON_P_MAX_ALARM | HWMON_P_CRIT_ALARM)

static const struct hwmon_channel_info *rpw_psu_channels[] = {
	HWMON_CHANNEL_INFO(chip, HWMON_C_UPDATE_INTERVAL),
	/* in0 is never shown: vin is in1 and vout in2, as in pmbus_core. */
	HWMON_CHANNEL_INFO(in, HWMON_I_INPUT, RPW_IN_ATTRS, RPW_IN_ATTRS),
	HWMON_CHANNEL_INFO(curr, RPW_CURR_ATTRS, RPW_CURR_ATTRS),
	HWMON_CHANNEL_INFO(power, RPW_POWER_ATTRS, RPW_POWER_ATTRS),
	HWMON_CHANNEL_INFO(temp,
			   HWMON_T_INPUT | HWMON_T_LABEL | HWMON_T_MAX |
			   HWMON_T_CRIT | HWMON_T_RATED_MAX |
			   HWMON_T_MAX_ALARM | HWMON_T_CRIT_ALARM,
			   HWMON_T_INPUT | HWMON_T_LABEL),
	HWMON_CHANNEL_INFO(fan, HWMON_F_INPUT | HWMON_F_LABEL |
			   HWMON_F_ALARM | HWMON_F_FAULT),
	NULL
};

static const struct hwmon_chip_info rpw_psu_chip_info = {
	.ops	= &rpw_psu_hwmon_ops,
	.info	= rpw_psu_channels,
};

/* ---- non-hwmon sysfs on the I2C device -------------------------------- */

static ssize_t health_show(struct device *dev, struct device_attribute *a,
			   char *buf)
{
	struct rpw_psu *psu = dev_get_drvdata(dev);
	ssize_t n;

	mutex_lock(&psu->lock);
	n = sysfs_emit(buf, "%s\n", rpw_psu_health_name(psu->health));
	mutex_unlock(&psu->lock);
	return n;
}
static DEVICE_ATTR_RO(health);

static ssize_t bank_show(struct device *dev, struct device_attribute *a,
			 char *buf)
{
	struct rpw_psu *psu = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%c\n", 'A' + psu->bank);
}
static DEVICE_ATTR_RO(bank);

static ssize_t slot_show(struct device *dev, struct device_attribute *a,
			 char *buf)
{
	struct rpw_psu *psu = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%d\n", psu->slot);
}
static DEVICE_ATTR_RO(slot);

static ssize_t rated_power_mw_show(struct device *dev,
				   struct device_attribute *a, char *buf)
{
	struct rpw_psu *psu = dev_get_drvdata(dev);
	ssize_t n;

	mutex_lock(&psu->lock);
	n = sysfs_emit(buf, "%u\n", rpw_psu_rated_mw(psu));
	mutex_unlock(&psu->lock);
	return n;
}

static ssize_t rated_power_mw_store(struct device *dev,
				    struct device_attribute *a,
				    const char *buf, size_t count)
{
	struct rpw_psu *psu = dev_get_drvdata(dev);
	bool changed;
	u64 v;
	int ret;

	/* Anything but a number in 0..RPW_PSU_RATED_MAX_MW changes nothing. */
	ret = kstrtou64(buf, 0, &v);
	if (ret)
		return -EINVAL;
	ret = rpw_psu_rated_valid(v);
	if (ret)
		return ret;
	mutex_lock(&psu->lock);
	psu->rated_override_mw = v;
	changed = rpw_psu_publish(psu);
	mutex_unlock(&psu->lock);
	if (changed)
		rpw_asm_changed(psu->as);
	return count;
}
static DEVICE_ATTR_RW(rated_power_mw);

static ssize_t usable_power_mw_show(struct device *dev,
				    struct device_attribute *a, char *buf)
{
	struct rpw_psu *psu = dev_get_drvdata(dev);
	u32 v;

	mutex_lock(&psu->as->lock);
	v = psu->pub_usable_mw;
	mutex_unlock(&psu->as->lock);
	return sysfs_emit(buf, "%u\n", v);
}
static DEVICE_ATTR_RO(usable_power_mw);

static ssize_t rpw_mfr_show(struct device *dev, char *buf, size_t off)
{
	struct rpw_psu *psu = dev_get_drvdata(dev);
	ssize_t n;

	mutex_lock(&psu->lock);
	n = sysfs_emit(buf, "%s\n", (char *)psu + off);
	mutex_unlock(&psu->lock);
	return n;
}

static ssize_t mfr_id_show(struct device *dev, struct device_attribute *a,
			   char *buf)
{
	return rpw_mfr_show(dev, buf, offsetof(struct rpw_psu, mfr_id));
}
static DEVICE_ATTR_RO(mfr_id);

static ssize_t mfr_model_show(struct device *dev, struct device_attribute *a,
			      char *buf)
{
	return rpw_mfr_show(dev, buf, offsetof(struct rpw_psu, mfr_model));
}
static DEVICE_ATTR_RO(mfr_model);

static ssize_t mfr_revision_show(struct device *dev,
				 struct device_attribute *a, char *buf)
{
	return rpw_mfr_show(dev, buf, offsetof(struct rpw_psu, mfr_revision));
}
static DEVICE_ATTR_RO(mfr_revision);

static ssize_t mfr_serial_show(struct device *dev,
			       struct device_attribute *a, char *buf)
{
	return rpw_mfr_show(dev, buf, offsetof(struct rpw_psu, mfr_serial));
}
static DEVICE_ATTR_RO(mfr_serial);

static struct attribute *rpw_psu_attrs[] = {
	&dev_attr_health.attr,
	&dev_attr_bank.attr,
	&dev_attr_slot.attr,
	&dev_attr_rated_power_mw.attr,
	&dev_attr_usable_power_mw.attr,
	&dev_attr_mfr_id.attr,
	&dev_attr_mfr_model.attr,
	&dev_attr_mfr_revision.attr,
	&dev_attr_mfr_serial.attr,
	NULL
};
ATTRIBUTE_GROUPS(rpw_psu);

/* ---- probe / remove --------------------------------------------------- */

static void rpw_psu_stop(void *data)
{
	struct rpw_psu *psu = data;

	mutex_lock(&psu->lock);
	psu->dying = true;
	mutex_unlock(&psu->lock);
	cancel_delayed_work_sync(&psu->work);
}

static struct rpw_asm *rpw_asm_find(int nr)
{
	struct rpw_asm *as;

	lockdep_assert_held(&rpw_asm_reg_lock);
	list_for_each_entry(as, &rpw_asm_list, entry)
		if (as->nr == nr)
			return as;
	return NULL;
}

/* A client on adapter @nr binds: its assembly, created by the first one. */
static struct rpw_asm *rpw_asm_get(int nr)
{
	struct rpw_asm *as;
	bool added = false;

	mutex_lock(&rpw_asm_ev_lock);
	mutex_lock(&rpw_asm_reg_lock);
	as = rpw_asm_find(nr);
	if (!as) {
		as = kzalloc(sizeof(*as), GFP_KERNEL);
		if (as) {
			as->nr = nr;
			mutex_init(&as->lock);
			INIT_LIST_HEAD(&as->supplies);
			list_add_tail(&as->entry, &rpw_asm_list);
			added = true;
		}
	}
	if (as)
		as->users++;
	mutex_unlock(&rpw_asm_reg_lock);
	if (added)
		rpw_asm_event(nr, RPW_ASM_ADDED);
	mutex_unlock(&rpw_asm_ev_lock);
	return as;
}

/* devm action: a client unbinds; the last one frees the assembly. */
static void rpw_asm_put(void *data)
{
	struct rpw_asm *as = data;
	int nr = as->nr;
	bool last;

	mutex_lock(&rpw_asm_ev_lock);
	mutex_lock(&rpw_asm_reg_lock);
	last = !--as->users;
	if (last)
		list_del(&as->entry);
	mutex_unlock(&rpw_asm_reg_lock);
	if (last) {
		WARN_ON(!list_empty(&as->supplies));
		mutex_destroy(&as->lock);
		kfree(as);
		rpw_asm_event(nr, RPW_ASM_REMOVED);
	}
	mutex_unlock(&rpw_asm_ev_lock);
}

static int rpw_asm_attach(struct device *dev, struct i2c_client *client,
			  struct rpw_asm **asp)
{
	*asp = rpw_asm_get(client->adapter->nr);
	if (!*asp)
		return -ENOMEM;
	return devm_add_action_or_reset(dev, rpw_asm_put, *asp);
}

static void rpw_psu_unlist(void *data)
{
	struct rpw_psu *psu = data;

	mutex_lock(&psu->as->lock);
	list_del(&psu->node);
	mutex_unlock(&psu->as->lock);
	/* The slot's capacity is gone with the driver instance. */
	rpw_asm_changed(psu->as);
}

/* Slots are unique within one assembly, not across the kernel. */
static int rpw_psu_list_add(struct rpw_psu *psu)
{
	struct rpw_asm *as = psu->as;
	struct rpw_psu *p;

	mutex_lock(&as->lock);
	list_for_each_entry(p, &as->supplies, node) {
		if (p->slot == psu->slot) {
			mutex_unlock(&as->lock);
			return -EBUSY;
		}
	}
	list_add_tail(&psu->node, &as->supplies);
	mutex_unlock(&as->lock);
	return 0;
}

static int rpw_psu_probe(struct i2c_client *client)
{
	struct device *dev = &client->dev;
	struct rpw_psu *psu;
	u32 prop;
	int i, ret;

	if (!i2c_check_functionality(client->adapter,
				     I2C_FUNC_SMBUS_BYTE_DATA |
				     I2C_FUNC_SMBUS_WORD_DATA))
		return -ENODEV;

	psu = devm_kzalloc(dev, sizeof(*psu), GFP_KERNEL);
	if (!psu)
		return -ENOMEM;
	psu->pm.client = client;
	mutex_init(&psu->lock);
	INIT_DELAYED_WORK(&psu->work, rpw_psu_work);
	psu->interval = msecs_to_jiffies(clamp_t(unsigned int, psu_poll_ms,
						 RPW_PSU_MIN_POLL_MS,
						 RPW_PSU_MAX_POLL_MS));
	psu->health = RPW_PSU_ABSENT;
	psu->pub_health = RPW_PSU_ABSENT;
	rpw_psu_invalidate(psu, -ENODATA);

	/* Firmware may place the supply; else the address says where. */
	if (device_property_read_u32(dev, "rackpwr,slot", &prop))
		prop = client->addr - RPW_PSU_BASE_ADDR;
	if (prop >= RPW_PSU_MAX_SUPPLIES)
		return dev_err_probe(dev, -EINVAL,
				     "address 0x%02x: no slot (0x58..0x5d)\n",
				     client->addr);
	psu->slot = prop;
	if (device_property_read_u32(dev, "rackpwr,bank", &prop))
		prop = psu->slot / 3;
	if (prop >= RPW_PSU_BANKS)
		return dev_err_probe(dev, -EINVAL, "bad rackpwr,bank %u\n",
				     prop);
	psu->bank = prop;
	if (!device_property_read_u32(dev, "rackpwr,rated-power-mw", &prop)) {
		if (rpw_psu_rated_valid(prop))
			return dev_err_probe(dev, -EINVAL,
					     "rackpwr,rated-power-mw %u: not in 0..%u\n",
					     prop, RPW_PSU_RATED_MAX_MW);
		psu->rated_override_mw = prop;
	}
	i2c_set_clientdata(client, psu);

	ret = rpw_asm_attach(dev, client, &psu->as);
	if (ret)
		return ret;
	ret = rpw_psu_list_add(psu);
	if (ret)
		return dev_err_probe(dev, ret, "slot %d already bound on i2c-%d\n",
				     psu->slot, psu->as->nr);
	ret = devm_add_action_or_reset(dev, rpw_psu_unlist, psu);
	if (ret)
		return ret;

	/*
	 * First poll before the hwmon device exists: it decides which
	 * attributes a present unit has.  An empty slot shows them all.
	 */
	mutex_lock(&psu->lock);
	rpw_psu_poll(psu);
	psu->probed_present = psu->identified;
	psu->rd_visible = GENMASK(RD__MAX - 1, 0);
	psu->lim_visible = GENMASK(RPW_NR_LIM - 1, 0);
	if (psu->identified) {
		psu->rd_visible = psu->rd_unit;
		for (i = 0; i < RPW_NR_LIM; i++)
			if (psu->lim_err[i] == -ENODATA)
				psu->lim_visible &= ~BIT(i);
	}
	rpw_psu_publish(psu);
	mutex_unlock(&psu->lock);

	psu->hwmon = devm_hwmon_device_register_with_info(dev, "rackpwr_psu",
							  psu,
							  &rpw_psu_chip_info,
							  NULL);
	if (IS_ERR(psu->hwmon))
		return PTR_ERR(psu->hwmon);

	/* Registered last, so it runs first on unbind: no poll outlives us. */
	ret = devm_add_action_or_reset(dev, rpw_psu_stop, psu);
	if (ret)
		return ret;
	queue_delayed_work(system_freezable_wq, &psu->work, psu->interval);
	rpw_asm_changed(psu->as);
	return 0;
}

static const struct i2c_device_id rpw_psu_id[] = {
	{ "rackpwr-psu", 0 },
	{ }
};
MODULE_DEVICE_TABLE(i2c, rpw_psu_id);

static const struct of_device_id __maybe_unused rpw_psu_of_match[] = {
	{ .compatible = "rackpwr,psu" },
	{ }
};
MODULE_DEVICE_TABLE(of, rpw_psu_of_match);

static struct i2c_driver rpw_psu_driver = {
	.driver = {
		.name		= "rackpwr-psu",
		.of_match_table	= of_match_ptr(rpw_psu_of_match),
		.dev_groups	= rpw_psu_groups,
	},
	.probe_new	= rpw_psu_probe,
	.id_table	= rpw_psu_id,
};

/* ---- assembly controller ---------------------------------------------- */

enum rpw_asm_rd { ASM_TEMP, ASM_FAN1, ASM_FAN2, ASM__MAX };

static const struct {
	u8 reg;
	u8 cls;
} rpw_asm_tab[ASM__MAX] = {
	[ASM_TEMP]	= { RPW_PMBUS_READ_TEMPERATURE_1, RPW_PMBUS_C_TEMP },
	[ASM_FAN1]	= { RPW_PMBUS_READ_FAN_SPEED_1, RPW_PMBUS_C_FAN },
	[ASM_FAN2]	= { RPW_PMBUS_READ_FAN_SPEED_2, RPW_PMBUS_C_FAN },
};

struct rpw_asmctl {
	struct rpw_pmdev pm;
	struct rpw_asm *as;	/* the assembly it reports on */
	struct mutex lock;	/* bus access and cache */
	unsigned long updated;	/* jiffies of the last refresh */
	bool valid;
	s64 val[ASM__MAX];
	int err[ASM__MAX];
	s64 temp_max;
	s64 temp_crit;
	int temp_max_err;
	int temp_crit_err;
};

/* Cached like the supplies: at most one bus refresh per psu_poll_ms. */
static void rpw_asm_update(struct rpw_asmctl *as)
{
	struct rpw_pmbus_status st;
	int i, raw, word;
	s64 v;

	if (as->valid && time_before(jiffies, as->updated +
				     msecs_to_jiffies(psu_poll_ms)))
		return;
	word = rpw_read_word(&as->pm, RPW_PMBUS_STATUS_WORD);
	if (word >= 0)
		rpw_status_poll(&as->pm, word, &st);
	else
		memset(&as->pm.active, 0, sizeof(as->pm.active));
	for (i = 0; i < ASM__MAX; i++) {
		raw = word < 0 ? word : rpw_read_word(&as->pm,
						      rpw_asm_tab[i].reg);
		as->err[i] = rpw_decode(&as->pm, rpw_asm_tab[i].cls, raw, &v);
		as->val[i] = as->err[i] ? 0 : v;
	}
	as->updated = jiffies;
	as->valid = true;
}

static umode_t rpw_asm_is_visible(const void *data,
				  enum hwmon_sensor_types type, u32 attr,
				  int ch)
{
	const struct rpw_asmctl *as = data;

	switch (type) {
	case hwmon_temp:
		if (attr == hwmon_temp_max)
			return as->temp_max_err ? 0 : 0444;
		if (attr == hwmon_temp_crit)
			return as->temp_crit_err ? 0 : 0444;
		return 0444;
	case hwmon_fan:
	case hwmon_power:
		return 0444;
	default:
		return 0;
	}
}

static int rpw_asm_total(struct rpw_asm *as, int ch, long *val)
{
	struct rpw_psu *psu;
	bool any = false;
	s64 sum = 0;

	mutex_lock(&as->lock);
	list_for_each_entry(psu, &as->supplies, node) {
		int err = ch ? psu->pub_pout_err : psu->pub_pin_err;

		if (!psu->pub_present || err)
			continue;
		sum += ch ? psu->pub_pout_uw : psu->pub_pin_uw;
		any = true;
	}
	mutex_unlock(&as->lock);
	if (!any)
		return -ENODATA;
	*val = clamp_val(sum, LONG_MIN, LONG_MAX);
	return 0;
}

static int rpw_asm_read(struct device *dev, enum hwmon_sensor_types type,
			u32 attr, int ch, long *val)
{
	struct rpw_asmctl *as = dev_get_drvdata(dev);
	int alarm = rpw_alarm_index(type, attr, ch);
	int rd, ret = 0;

	if (type == hwmon_power)
		return rpw_asm_total(as->as, ch, val);

	mutex_lock(&as->lock);
	rpw_asm_update(as);
	rd = type == hwmon_temp ? ASM_TEMP : ch ? ASM_FAN2 : ASM_FAN1;
	if ((type == hwmon_temp && attr == hwmon_temp_input) ||
	    (type == hwmon_fan && attr == hwmon_fan_input)) {
		ret = as->err[rd];
		if (!ret)
			*val = as->val[rd];
	} else if (type == hwmon_temp && attr == hwmon_temp_max) {
		ret = as->temp_max_err;
		*val = as->temp_max;
	} else if (type == hwmon_temp && attr == hwmon_temp_crit) {
		ret = as->temp_crit_err;
		*val = as->temp_crit;
	} else if (alarm >= 0) {
		*val = rpw_alarm_read(&as->pm, rpw_alarm_tab[alarm].off,
				      rpw_alarm_tab[alarm].mask);
	} else {
		ret = -EOPNOTSUPP;
	}
	mutex_unlock(&as->lock);
	return ret;
}

static int rpw_asm_read_string(struct device *dev,
			       enum hwmon_sensor_types type, u32 attr, int ch,
			       const char **str)
{
	static const char * const fan[] = { "fan1", "fan2" };
	static const char * const power[] = { "total pin", "total pout" };

	if (type == hwmon_temp)
		*str = "ambient";
	else if (type == hwmon_fan)
		*str = fan[ch];
	else if (type == hwmon_power)
		*str = power[ch];
	else
		return -EOPNOTSUPP;
	return 0;
}

static const struct hwmon_ops rpw_asm_hwmon_ops = {
	.is_visible	= rpw_asm_is_visible,
	.read		= rpw_asm_read,
	.read_string	= rpw_asm_read_string,
};

static const struct hwmon_channel_info *rpw_asm_channels[] = {
	HWMON_CHANNEL_INFO(temp, HWMON_T_INPUT | HWMON_T_LABEL |
			   HWMON_T_MAX | HWMON_T_CRIT | HWMON_T_MAX_ALARM |
			   HWMON_T_CRIT_ALARM),
	HWMON_CHANNEL_INFO(fan,
			   HWMON_F_INPUT | HWMON_F_LABEL | HWMON_F_ALARM |
			   HWMON_F_FAULT,
			   HWMON_F_INPUT | HWMON_F_LABEL | HWMON_F_ALARM |
			   HWMON_F_FAULT),
	HWMON_CHANNEL_INFO(power, HWMON_P_INPUT | HWMON_P_LABEL,
			   HWMON_P_INPUT | HWMON_P_LABEL),
	NULL
};

static const struct hwmon_chip_info rpw_asm_chip_info = {
	.ops	= &rpw_asm_hwmon_ops,
	.info	= rpw_asm_channels,
};

static void rpw_asm_snapshot(struct rpw_asm *as, struct rpw_psu_capacity *cap);

static ssize_t rpw_asm_cap_show(struct device *dev, int what, char *buf)
{
	struct rpw_asmctl *ctl = dev_get_drvdata(dev);
	struct rpw_psu_capacity cap;

	rpw_asm_snapshot(ctl->as, &cap);
	switch (what) {
	case 0:
	case 1:
		return sysfs_emit(buf, "%llu\n", cap.bank_mw[what]);
	case 2:
		return sysfs_emit(buf, "0x%02x\n", cap.present);
	default:
		return sysfs_emit(buf, "0x%02x\n", cap.healthy);
	}
}

static ssize_t capacity_bank_a_mw_show(struct device *dev,
				       struct device_attribute *a, char *buf)
{
	return rpw_asm_cap_show(dev, 0, buf);
}
static DEVICE_ATTR_RO(capacity_bank_a_mw);

static ssize_t capacity_bank_b_mw_show(struct device *dev,
				       struct device_attribute *a, char *buf)
{
	return rpw_asm_cap_show(dev, 1, buf);
}
static DEVICE_ATTR_RO(capacity_bank_b_mw);

static ssize_t supplies_present_show(struct device *dev,
				     struct device_attribute *a, char *buf)
{
	return rpw_asm_cap_show(dev, 2, buf);
}
static DEVICE_ATTR_RO(supplies_present);

static ssize_t supplies_healthy_show(struct device *dev,
				     struct device_attribute *a, char *buf)
{
	return rpw_asm_cap_show(dev, 3, buf);
}
static DEVICE_ATTR_RO(supplies_healthy);

static struct attribute *rpw_asm_attrs[] = {
	&dev_attr_capacity_bank_a_mw.attr,
	&dev_attr_capacity_bank_b_mw.attr,
	&dev_attr_supplies_present.attr,
	&dev_attr_supplies_healthy.attr,
	NULL
};
ATTRIBUTE_GROUPS(rpw_asm);

static int rpw_asm_probe(struct i2c_client *client)
{
	struct device *dev = &client->dev;
	struct device *hwmon;
	struct rpw_asmctl *as;
	int raw, ret;

	if (!i2c_check_functionality(client->adapter,
				     I2C_FUNC_SMBUS_BYTE_DATA |
				     I2C_FUNC_SMBUS_WORD_DATA))
		return -ENODEV;
	as = devm_kzalloc(dev, sizeof(*as), GFP_KERNEL);
	if (!as)
		return -ENOMEM;
	as->pm.client = client;
	mutex_init(&as->lock);
	i2c_set_clientdata(client, as);
	ret = rpw_asm_attach(dev, client, &as->as);
	if (ret)
		return ret;

	/* The controller is part of the chassis: it must answer now. */
	raw = rpw_read_byte(&as->pm, RPW_PMBUS_REVISION);
	if (raw < 0)
		return dev_err_probe(dev, raw, "assembly controller silent\n");
	as->pm.revision = raw;
	raw = rpw_read_word(&as->pm, RPW_PMBUS_OT_WARN_LIMIT);
	as->temp_max_err = rpw_decode(&as->pm, RPW_PMBUS_C_TEMP, raw,
				      &as->temp_max);
	raw = rpw_read_word(&as->pm, RPW_PMBUS_OT_FAULT_LIMIT);
	as->temp_crit_err = rpw_decode(&as->pm, RPW_PMBUS_C_TEMP, raw,
				       &as->temp_crit);

	hwmon = devm_hwmon_device_register_with_info(dev, "rackpwr_assembly",
						     as, &rpw_asm_chip_info,
						     NULL);
	return PTR_ERR_OR_ZERO(hwmon);
}

static const struct i2c_device_id rpw_asm_id[] = {
	{ "rackpwr-asm", 0 },
	{ }
};
MODULE_DEVICE_TABLE(i2c, rpw_asm_id);

static const struct of_device_id __maybe_unused rpw_asm_of_match[] = {
	{ .compatible = "rackpwr,psu-assembly" },
	{ }
};
MODULE_DEVICE_TABLE(of, rpw_asm_of_match);

static struct i2c_driver rpw_asm_driver = {
	.driver = {
		.name		= "rackpwr-asm",
		.of_match_table	= of_match_ptr(rpw_asm_of_match),
		.dev_groups	= rpw_asm_groups,
	},
	.probe_new	= rpw_asm_probe,
	.id_table	= rpw_asm_id,
};

/* ---- kernel-internal API ---------------------------------------------- */

static void rpw_asm_snapshot(struct rpw_asm *as, struct rpw_psu_capacity *cap)
{
	struct rpw_psu *psu;

	memset(cap, 0, sizeof(*cap));
	memset(cap->health, RPW_PSU_ABSENT, sizeof(cap->health));
	mutex_lock(&as->lock);
	list_for_each_entry(psu, &as->supplies, node) {
		cap->bound |= BIT(psu->slot);
		cap->health[psu->slot] = psu->pub_health;
		cap->usable_mw[psu->slot] = psu->pub_usable_mw;
		if (psu->pub_present)
			cap->present |= BIT(psu->slot);
		if (psu->pub_present && psu->pub_health == RPW_PSU_OK)
			cap->healthy |= BIT(psu->slot);
		cap->bank_mw[psu->bank] += psu->pub_usable_mw;
	}
	mutex_unlock(&as->lock);
}

int rpw_asm_get_capacity(int bus, struct rpw_psu_capacity *cap)
{
	struct rpw_asm *as;
	int ret = -ENODEV;

	mutex_lock(&rpw_asm_reg_lock);
	as = rpw_asm_find(bus);
	if (as) {
		rpw_asm_snapshot(as, cap);
		ret = 0;
	}
	mutex_unlock(&rpw_asm_reg_lock);
	return ret;
}

int rpw_asm_resolve(int bus)
{
	int ret = -ENODEV;

	mutex_lock(&rpw_asm_reg_lock);
	if (bus == RPW_I2C_BUS_AUTO) {
		if (list_is_singular(&rpw_asm_list))
			ret = list_first_entry(&rpw_asm_list, struct rpw_asm,
					       entry)->nr;
	} else if (bus >= 0 && rpw_asm_find(bus)) {
		ret = bus;
	}
	mutex_unlock(&rpw_asm_reg_lock);
	return ret;
}

int rpw_asm_notifier_register(struct notifier_block *nb)
{
	return blocking_notifier_chain_register(&rpw_asm_chain, nb);
}

void rpw_asm_notifier_unregister(struct notifier_block *nb)
{
	blocking_notifier_chain_unregister(&rpw_asm_chain, nb);
}

int rpw_psu_init(void)
{
	int ret;

	ret = i2c_add_driver(&rpw_psu_driver);
	if (ret)
		return ret;
	ret = i2c_add_driver(&rpw_asm_driver);
	if (ret)
		i2c_del_driver(&rpw_psu_driver);
	return ret;
}

void rpw_psu_exit(void)
{
	/* Unbinding runs each device's devm actions: polls stop first. */
	i2c_del_driver(&rpw_asm_driver);
	i2c_del_driver(&rpw_psu_driver);
}
