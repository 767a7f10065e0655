// SPDX-License-Identifier: GPL-2.0-only
/*
 * rackpwr - test-only simulated power supply assemblies.  Each one is an
 * I2C adapter with the PMBus side of one assembly on it: up to six
 * supplies at 0x58..0x5d and the assembly controller (ambient temperature,
 * external fans) at 0x50.
 *
 * Assemblies are made the way netdevsim makes devices: through the
 * simulator's own bus, "ID [PRESENT_MASK [RATED_MW]]" written to
 * /sys/bus/rackpwr_sim_pmbus/new_device and "ID" to del_device.  Each is
 * a device rackpwr_sim_pmbusID on that bus, its adapter a child of it.
 * The simulator instantiates the seven I2C clients itself (rackpwr-psu at
 * 0x58..0x5d, rackpwr-asm at 0x50), as a board's firmware would, so a new
 * assembly binds to rackpwr.ko as soon as both exist.  A non-zero RATED_MW
 * gives each supply the firmware property rackpwr,rated-power-mw.
 *
 * Why an own adapter rather than i2c-stub: i2c-stub answers every register
 * of a configured address with 0 and never NACKs, has no SMBus block reads
 * unless told, and its registers are plain memory.  A PMBus supply NACKs
 * unsupported commands (and latches STATUS_CML), serves MFR_* strings as
 * block reads, latches STATUS_* bits until CLEAR_FAULTS or a write-1-to-
 * clear, re-latches bits whose condition persists, and derives STATUS_WORD
 * from the other status registers.  The driver's probing, alarm latching
 * and hot-swap logic can only be tested against that behaviour.
 *
 * Knobs: /sys/kernel/debug/rackpwr_sim_pmbus/asmID/{psu0..psu5,asm}/...; see
 * Documentation/hwmon/rackpwr.rst.  Test-only: nothing in here is meant for
 * production systems.
 */
#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/i2c.h>
#include <linux/idr.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/property.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "rpw_pmbus.h"

#define SIM_NR_PSU	6
#define SIM_PSU_ADDR	0x58
#define SIM_ASM_ADDR	0x50
#define SIM_VOUT_MODE	0x17	/* linear, exponent -9 */
#define SIM_ALL_PRESENT	0x3f	/* new_device without a mask */

/* Index of the latched status registers. */
enum sim_st {
	ST_VOUT, ST_IOUT, ST_INPUT, ST_TEMP, ST_CML, ST_OTHER, ST_MFR, ST_FAN,
	ST__MAX,
};

static const u8 sim_st_reg[ST__MAX] = {
	[ST_VOUT]	= RPW_PMBUS_STATUS_VOUT,
	[ST_IOUT]	= RPW_PMBUS_STATUS_IOUT,
	[ST_INPUT]	= RPW_PMBUS_STATUS_INPUT,
	[ST_TEMP]	= RPW_PMBUS_STATUS_TEMPERATURE,
	[ST_CML]	= RPW_PMBUS_STATUS_CML,
	[ST_OTHER]	= RPW_PMBUS_STATUS_OTHER,
	[ST_MFR]	= RPW_PMBUS_STATUS_MFR_SPECIFIC,
	[ST_FAN]	= RPW_PMBUS_STATUS_FAN_12,
};

enum sim_knob {
	K_PRESENT, K_NACK, K_GARBAGE, K_PGOOD, K_INPUT_LOST, K_REVISION,
	K_VOUT_MODE, K_VIN, K_VOUT, K_IIN, K_IOUT, K_PIN, K_POUT, K_TEMP1,
	K_TEMP2, K_FAN1, K_FAN2, K_POUT_MAX, K_STATUS_WORD,
	K_S_VOUT, K_S_IOUT, K_S_INPUT, K_S_TEMP, K_S_CML, K_S_OTHER, K_S_MFR,
	K_S_FAN, K_C_VOUT, K_C_IOUT, K_C_INPUT, K_C_TEMP, K_C_FAN,
	K_XFERS, K_CLEARS, K_INSERTS,
	K__MAX,
};

#define ON_PSU	BIT(0)
#define ON_ASM	BIT(1)

static const struct {
	const char *name;
	umode_t mode;
	u8 on;
} sim_knobs[K__MAX] = {
	[K_PRESENT]	= { "present",	    0644, ON_PSU | ON_ASM },
	[K_NACK]	= { "nack",	    0644, ON_PSU | ON_ASM },
	[K_GARBAGE]	= { "garbage",	    0644, ON_PSU | ON_ASM },
	[K_PGOOD]	= { "pgood",	    0644, ON_PSU },
	[K_INPUT_LOST]	= { "input_lost",   0644, ON_PSU },
	[K_REVISION]	= { "revision",	    0644, ON_PSU | ON_ASM },
	[K_VOUT_MODE]	= { "vout_mode",    0644, ON_PSU },
	[K_VIN]		= { "vin_mv",	    0644, ON_PSU },
	[K_VOUT]	= { "vout_mv",	    0644, ON_PSU },
	[K_IIN]		= { "iin_ma",	    0644, ON_PSU },
	[K_IOUT]	= { "iout_ma",	    0644, ON_PSU },
	[K_PIN]		= { "pin_mw",	    0644, ON_PSU },
	[K_POUT]	= { "pout_mw",	    0644, ON_PSU },
	[K_TEMP1]	= { "temp1_mc",	    0644, ON_PSU | ON_ASM },
	[K_TEMP2]	= { "temp2_mc",	    0644, ON_PSU },
	[K_FAN1]	= { "fan_rpm",	    0644, ON_PSU | ON_ASM },
	[K_FAN2]	= { "fan2_rpm",	    0644, ON_ASM },
	[K_POUT_MAX]	= { "pout_max_mw",  0644, ON_PSU },
	[K_STATUS_WORD]	= { "status_word",  0644, ON_PSU | ON_ASM },
	[K_S_VOUT]	= { "status_vout",  0644, ON_PSU },
	[K_S_IOUT]	= { "status_iout",  0644, ON_PSU },
	[K_S_INPUT]	= { "status_input", 0644, ON_PSU },
	[K_S_TEMP]	= { "status_temp",  0644, ON_PSU | ON_ASM },
	[K_S_CML]	= { "status_cml",   0644, ON_PSU | ON_ASM },
	[K_S_OTHER]	= { "status_other", 0644, ON_PSU },
	[K_S_MFR]	= { "status_mfr",   0644, ON_PSU },
	[K_S_FAN]	= { "status_fan",   0644, ON_PSU | ON_ASM },
	[K_C_VOUT]	= { "cond_vout",    0644, ON_PSU },
	[K_C_IOUT]	= { "cond_iout",    0644, ON_PSU },
	[K_C_INPUT]	= { "cond_input",   0644, ON_PSU },
	[K_C_TEMP]	= { "cond_temp",    0644, ON_PSU | ON_ASM },
	[K_C_FAN]	= { "cond_fan",	    0644, ON_PSU | ON_ASM },
	[K_XFERS]	= { "xfers",	    0444, ON_PSU | ON_ASM },
	[K_CLEARS]	= { "clears",	    0444, ON_PSU | ON_ASM },
	[K_INSERTS]	= { "inserts",	    0444, ON_PSU | ON_ASM },
};

struct sim_dev;

struct sim_knob_ref {
	struct sim_dev *d;
	enum sim_knob k;
};

struct sim_asm;

struct sim_dev {
	struct sim_asm *a;		/* its assembly; a->lock guards all */
	bool is_asm;
	int idx;
	s64 k[K__MAX];			/* plain numeric knobs */
	u8 latched[ST__MAX];		/* what the chip reports until cleared */
	u8 cond[ST__MAX];		/* persisting conditions: re-latch */
	u8 page;
	u8 operation;
	u16 limit[256];			/* raw limit/rating words, 0 = none */
	struct sim_knob_ref ref[K__MAX];
};

/* One simulated assembly: a device on the simulator's bus. */
struct sim_asm {
	struct device dev;		/* rackpwr_sim_pmbusID */
	struct list_head entry;		/* in sim_asms, under sim_asms_lock */
	unsigned int id;
	int bus;			/* adapter number, -1 until added */
	struct mutex lock;		/* all simulated state below */
	struct sim_dev psu[SIM_NR_PSU];
	struct sim_dev ctl;		/* the assembly controller */
	struct i2c_adapter adap;
	struct i2c_client *client[SIM_NR_PSU + 1];
	struct dentry *dir;
	/* The supplies' firmware node when new_device gave a RATED_MW. */
	struct property_entry props[2];
	struct software_node swnode;
};

static DEFINE_IDA(sim_ida);
static DEFINE_MUTEX(sim_asms_lock);	/* sim_asms, sim_enabled */
static LIST_HEAD(sim_asms);
static bool sim_enabled;		/* false once module exit began */
static struct dentry *sim_dir;

/* Smallest exponent that fits the mantissa: best resolution, as chips do. */
static u16 sim_lin11(s64 v, u32 scale)
{
	int e;

	for (e = -16; e <= 15; e++) {
		s64 num = v, den = scale, m;

		if (e < 0)
			num = v * (1LL << -e);
		else
			den = (s64)scale << e;
		m = div64_s64(num + (num < 0 ? -den / 2 : den / 2), den);
		if (m >= -1024 && m <= 1023)
			return (u16)(((e & 0x1f) << 11) | (m & 0x7ff));
	}
	return v < 0 ? 0x7c00 : 0x7bff;	/* saturate at +-1023/1024 * 2^15 */
}

static u16 sim_lin16(s64 mv, u8 mode)
{
	int e = mode & 0x1f;
	s64 num = mv, den = 1000, raw;

	if (e & 0x10)
		e -= 32;
	if (e < 0)
		num = mv * (1LL << -e);
	else
		den <<= e;
	raw = div64_s64(num + den / 2, den);
	return (u16)clamp_val(raw, 0, 0xfffe);
}

/* Live condition sources, folded into the latches before every access. */
static void sim_relatch(struct sim_dev *d)
{
	int i;

	for (i = 0; i < ST__MAX; i++)
		d->latched[i] |= d->cond[i];
	if (!d->is_asm && d->k[K_INPUT_LOST])
		d->latched[ST_INPUT] |= RPW_SN_VIN_UV_FAULT |
					RPW_SN_UNIT_OFF_LOW_VIN;
}

static bool sim_output_off(struct sim_dev *d)
{
	return !d->is_asm &&
	       (d->k[K_INPUT_LOST] || !(d->operation & 0x80));
}

static u16 sim_status_word(struct sim_dev *d)
{
	u8 *l = d->latched;
	u16 w = 0;

	if (sim_output_off(d))
		w |= RPW_SW_OFF;
	if (!d->is_asm && (sim_output_off(d) || !d->k[K_PGOOD]))
		w |= RPW_SW_POWER_GOOD_N;
	if (l[ST_VOUT] & RPW_SV_OV_FAULT)
		w |= RPW_SW_VOUT_OV;
	if (l[ST_IOUT] & RPW_SI_OC_FAULT)
		w |= RPW_SW_IOUT_OC;
	if (l[ST_INPUT] & RPW_SN_VIN_UV_FAULT)
		w |= RPW_SW_VIN_UV;
	if (l[ST_TEMP])
		w |= RPW_SW_TEMPERATURE;
	if (l[ST_CML])
		w |= RPW_SW_CML;
	if (l[ST_VOUT])
		w |= RPW_SW_VOUT;
	if (l[ST_IOUT])
		w |= RPW_SW_IOUT_POUT;
	if (l[ST_INPUT])
		w |= RPW_SW_INPUT;
	if (l[ST_MFR])
		w |= RPW_SW_MFR;
	if (l[ST_FAN])
		w |= RPW_SW_FANS;
	if (l[ST_OTHER])
		w |= RPW_SW_OTHER;
	/* Something latched that the low byte cannot name. */
	if ((l[ST_VOUT] & ~RPW_SV_OV_FAULT) || (l[ST_IOUT] & ~RPW_SI_OC_FAULT) ||
	    (l[ST_INPUT] & ~RPW_SN_VIN_UV_FAULT) || l[ST_MFR] || l[ST_FAN] ||
	    l[ST_OTHER])
		w |= RPW_SW_NONE_OF_ABOVE;
	return w;
}

/* STATUS_BYTE/WORD write-1-to-clear: a summary bit clears its source. */
static void sim_clear_word(struct sim_dev *d, u16 mask)
{
	if (mask & RPW_SW_VOUT)
		d->latched[ST_VOUT] = 0;
	if (mask & RPW_SW_VOUT_OV)
		d->latched[ST_VOUT] &= ~RPW_SV_OV_FAULT;
	if (mask & RPW_SW_IOUT_POUT)
		d->latched[ST_IOUT] = 0;
	if (mask & RPW_SW_IOUT_OC)
		d->latched[ST_IOUT] &= ~RPW_SI_OC_FAULT;
	if (mask & RPW_SW_INPUT)
		d->latched[ST_INPUT] = 0;
	if (mask & RPW_SW_VIN_UV)
		d->latched[ST_INPUT] &= ~RPW_SN_VIN_UV_FAULT;
	if (mask & RPW_SW_TEMPERATURE)
		d->latched[ST_TEMP] = 0;
	if (mask & RPW_SW_CML)
		d->latched[ST_CML] = 0;
	if (mask & RPW_SW_MFR)
		d->latched[ST_MFR] = 0;
	if (mask & RPW_SW_FANS)
		d->latched[ST_FAN] = 0;
	if (mask & RPW_SW_OTHER)
		d->latched[ST_OTHER] = 0;
}

/* Knob convenience: a STATUS_WORD bit injects a representative event. */
static void sim_inject_word(struct sim_dev *d, u16 w)
{
	if (w & RPW_SW_VOUT_OV)
		d->latched[ST_VOUT] |= RPW_SV_OV_FAULT;
	if (w & RPW_SW_IOUT_OC)
		d->latched[ST_IOUT] |= RPW_SI_OC_FAULT;
	if (w & RPW_SW_VIN_UV)
		d->latched[ST_INPUT] |= RPW_SN_VIN_UV_FAULT;
	if (w & RPW_SW_TEMPERATURE)
		d->latched[ST_TEMP] |= RPW_ST_OT_FAULT;
	if (w & RPW_SW_CML)
		d->latched[ST_CML] |= RPW_SC_OTHER_COMM;
	if (w & RPW_SW_VOUT)
		d->latched[ST_VOUT] |= RPW_SV_OV_WARN;
	if (w & RPW_SW_IOUT_POUT)
		d->latched[ST_IOUT] |= RPW_SI_OC_WARN;
	if (w & RPW_SW_INPUT)
		d->latched[ST_INPUT] |= RPW_SN_VIN_UV_WARN;
	if (w & RPW_SW_MFR)
		d->latched[ST_MFR] |= BIT(0);
	if (w & RPW_SW_FANS)
		d->latched[ST_FAN] |= RPW_SF_FAN1_WARN;
	if (w & RPW_SW_OTHER)
		d->latched[ST_OTHER] |= BIT(0);
}

static int sim_st_index(u8 reg)
{
	int i;

	for (i = 0; i < ST__MAX; i++)
		if (sim_st_reg[i] == reg)
			return i;
	return -1;
}

enum sim_kind { R_NONE, R_BYTE, R_WORD, R_BLOCK, R_SEND };

static enum sim_kind sim_reg_kind(struct sim_dev *d, u8 reg)
{
	switch (reg) {
	case RPW_PMBUS_CLEAR_FAULTS:
		return R_SEND;
	case RPW_PMBUS_PAGE:
	case RPW_PMBUS_CAPABILITY:
	case RPW_PMBUS_STATUS_BYTE:
	case RPW_PMBUS_STATUS_CML:
	case RPW_PMBUS_STATUS_TEMPERATURE:
	case RPW_PMBUS_STATUS_FAN_12:
	case RPW_PMBUS_REVISION:
		return R_BYTE;
	case RPW_PMBUS_STATUS_WORD:
	case RPW_PMBUS_READ_TEMPERATURE_1:
	case RPW_PMBUS_READ_FAN_SPEED_1:
		return R_WORD;
	case RPW_PMBUS_MFR_ID:
	case RPW_PMBUS_MFR_MODEL:
	case RPW_PMBUS_MFR_REVISION:
	case RPW_PMBUS_MFR_SERIAL:
		return R_BLOCK;
	}
	if (d->is_asm) {
		if (reg == RPW_PMBUS_READ_FAN_SPEED_2)
			return R_WORD;
		return d->limit[reg] ? R_WORD : R_NONE;
	}
	switch (reg) {
	case RPW_PMBUS_OPERATION:
	case RPW_PMBUS_VOUT_MODE:
	case RPW_PMBUS_STATUS_VOUT:
	case RPW_PMBUS_STATUS_IOUT:
	case RPW_PMBUS_STATUS_INPUT:
	case RPW_PMBUS_STATUS_OTHER:
	case RPW_PMBUS_STATUS_MFR_SPECIFIC:
		return R_BYTE;
	case RPW_PMBUS_READ_VIN:
	case RPW_PMBUS_READ_IIN:
	case RPW_PMBUS_READ_VOUT:
	case RPW_PMBUS_READ_IOUT:
	case RPW_PMBUS_READ_TEMPERATURE_2:
	case RPW_PMBUS_READ_POUT:
	case RPW_PMBUS_READ_PIN:
		return R_WORD;
	case RPW_PMBUS_MFR_LOCATION:
	case RPW_PMBUS_MFR_DATE:
		return R_BLOCK;
	}
	return d->limit[reg] ? R_WORD : R_NONE;
}

static u16 sim_reading(struct sim_dev *d, u8 reg)
{
	bool off = sim_output_off(d);
	bool vout = reg == RPW_PMBUS_READ_VOUT;
	s64 v;
	u32 scale = 1000;

	if (d->k[K_GARBAGE] == 1)
		return 0xffff;
	if (d->k[K_GARBAGE] == 2)
		return vout ? 0xfffe : 0x7bff;	/* exponent +15 */

	switch (reg) {
	case RPW_PMBUS_READ_VIN:
		v = d->k[K_INPUT_LOST] ? 0 : d->k[K_VIN];
		break;
	case RPW_PMBUS_READ_IIN:
		v = d->k[K_INPUT_LOST] ? 0 : d->k[K_IIN];
		break;
	case RPW_PMBUS_READ_PIN:
		v = d->k[K_INPUT_LOST] ? 0 : d->k[K_PIN];
		break;
	case RPW_PMBUS_READ_VOUT:
		return sim_lin16(off ? 0 : d->k[K_VOUT], (u8)d->k[K_VOUT_MODE]);
	case RPW_PMBUS_READ_IOUT:
		v = off ? 0 : d->k[K_IOUT];
		break;
	case RPW_PMBUS_READ_POUT:
		v = off ? 0 : d->k[K_POUT];
		break;
	case RPW_PMBUS_READ_TEMPERATURE_1:
		v = d->k[K_TEMP1];
		break;
	case RPW_PMBUS_READ_TEMPERATURE_2:
		v = d->k[K_TEMP2];
		break;
	case RPW_PMBUS_READ_FAN_SPEED_1:
		v = d->k[K_FAN1];
		scale = 1;
		break;
	case RPW_PMBUS_READ_FAN_SPEED_2:
		v = d->k[K_FAN2];
		scale = 1;
		break;
	default:
		return d->limit[reg];
	}
	return sim_lin11(v, scale);
}

static const char *sim_block(struct sim_dev *d, u8 reg, char *buf, size_t n)
{
	switch (reg) {
	case RPW_PMBUS_MFR_ID:
		return "RACKPWR";
	case RPW_PMBUS_MFR_MODEL:
		return d->is_asm ? "SIM-ASM" : "SIM-PSU-1600";
	case RPW_PMBUS_MFR_REVISION:
		return "A1";
	case RPW_PMBUS_MFR_LOCATION:
		return "SIMULATOR";
	case RPW_PMBUS_MFR_DATE:
		return "250101";
	}
	/* A reinserted supply is a different unit: new serial number. */
	if (d->is_asm)
		snprintf(buf, n, "SIMASM-%03lld", d->k[K_INSERTS]);
	else
		snprintf(buf, n, "SIMPSU%d-%03lld", d->idx, d->k[K_INSERTS]);
	return buf;
}

/* Command NACK: what a PMBus device does for unsupported/invalid commands. */
static int sim_nack(struct sim_dev *d, u8 cml)
{
	d->latched[ST_CML] |= cml;
	return -EIO;
}

static int sim_write_byte(struct sim_dev *d, u8 reg, u8 val)
{
	int st = sim_st_index(reg);

	if (st >= 0 || reg == RPW_PMBUS_STATUS_BYTE) {
		/* Status registers are writable (W1C) from PMBus 1.2 on. */
		if (d->k[K_REVISION] < RPW_PMBUS_REV_1_2)
			return sim_nack(d, RPW_SC_INVALID_CMD);
		if (st >= 0)
			d->latched[st] &= ~val;
		else
			sim_clear_word(d, val);
		d->k[K_CLEARS]++;
		return 0;
	}
	switch (reg) {
	case RPW_PMBUS_PAGE:
		/* Single-page devices accept page 0 and 0xff (all pages). */
		if (val && val != 0xff)
			return sim_nack(d, RPW_SC_INVALID_DATA);
		d->page = val;
		return 0;
	case RPW_PMBUS_OPERATION:
		d->operation = val;
		return 0;
	}
	return sim_nack(d, RPW_SC_INVALID_CMD);
}

static int sim_xfer_dev(struct sim_dev *d, char rw, u8 cmd, int size,
			union i2c_smbus_data *data)
{
	enum sim_kind kind;
	char buf[24];
	const char *s;
	int st;

	d->k[K_XFERS]++;
	if (!d->k[K_PRESENT])
		return -ENXIO;		/* nobody acknowledges the address */
	if (d->k[K_NACK])
		return -EIO;		/* address ACKed, then data NACKed */
	sim_relatch(d);

	if (size == I2C_SMBUS_QUICK)
		return 0;
	if (size == I2C_SMBUS_BYTE) {
		/* Send byte is how CLEAR_FAULTS travels; receive byte is not. */
		if (rw == I2C_SMBUS_WRITE && cmd == RPW_PMBUS_CLEAR_FAULTS) {
			memset(d->latched, 0, sizeof(d->latched));
			d->k[K_CLEARS]++;
			return 0;
		}
		return sim_nack(d, RPW_SC_INVALID_CMD);
	}

	kind = sim_reg_kind(d, cmd);
	if (kind == R_NONE || kind == R_SEND)
		return sim_nack(d, RPW_SC_INVALID_CMD);
	if ((kind == R_BYTE && size != I2C_SMBUS_BYTE_DATA) ||
	    (kind == R_WORD && size != I2C_SMBUS_WORD_DATA) ||
	    (kind == R_BLOCK && size != I2C_SMBUS_BLOCK_DATA))
		return sim_nack(d, RPW_SC_INVALID_DATA);

	if (rw == I2C_SMBUS_WRITE) {
		if (kind == R_BYTE)
			return sim_write_byte(d, cmd, data->byte);
		if (kind == R_BLOCK)
			return sim_nack(d, RPW_SC_INVALID_CMD);
		if (cmd == RPW_PMBUS_STATUS_WORD) {
			if (d->k[K_REVISION] < RPW_PMBUS_REV_1_2)
				return sim_nack(d, RPW_SC_INVALID_CMD);
			sim_clear_word(d, data->word);
			d->k[K_CLEARS]++;
			return 0;
		}
		/* Limits are writable; readings and MFR_* ratings are not. */
		if (cmd >= RPW_PMBUS_VOUT_OV_FAULT_LIMIT &&
		    cmd <= RPW_PMBUS_PIN_OP_WARN_LIMIT && d->limit[cmd]) {
			d->limit[cmd] = data->word;
			return 0;
		}
		return sim_nack(d, RPW_SC_INVALID_CMD);
	}

	switch (kind) {
	case R_BYTE:
		st = sim_st_index(cmd);
		if (st >= 0)
			data->byte = d->latched[st];
		else if (cmd == RPW_PMBUS_STATUS_BYTE)
			data->byte = sim_status_word(d) & 0xff;
		else if (cmd == RPW_PMBUS_PAGE)
			data->byte = d->page;
		else if (cmd == RPW_PMBUS_OPERATION)
			data->byte = d->operation;
		else if (cmd == RPW_PMBUS_CAPABILITY)
			data->byte = 0x20;	/* 400 kHz, no PEC, no ALERT */
		else if (cmd == RPW_PMBUS_VOUT_MODE)
			data->byte = (u8)d->k[K_VOUT_MODE];
		else
			data->byte = (u8)d->k[K_REVISION];
		return 0;
	case R_WORD:
		if (cmd == RPW_PMBUS_STATUS_WORD)
			data->word = sim_status_word(d);
		else if (cmd == RPW_PMBUS_MFR_POUT_MAX)
			data->word = sim_lin11(d->k[K_POUT_MAX], 1000);
		else
			data->word = sim_reading(d, cmd);
		return 0;
	default:
		s = sim_block(d, cmd, buf, sizeof(buf));
		data->block[0] = min_t(size_t, strlen(s), I2C_SMBUS_BLOCK_MAX);
		memcpy(&data->block[1], s, data->block[0]);
		return 0;
	}
}

static int sim_smbus_xfer(struct i2c_adapter *adap, u16 addr,
			  unsigned short flags, char rw, u8 cmd, int size,
			  union i2c_smbus_data *data)
{
	struct sim_asm *a = i2c_get_adapdata(adap);
	struct sim_dev *d = NULL;
	int ret;

	if (addr >= SIM_PSU_ADDR && addr < SIM_PSU_ADDR + SIM_NR_PSU)
		d = &a->psu[addr - SIM_PSU_ADDR];
	else if (addr == SIM_ASM_ADDR)
		d = &a->ctl;
	if (!d)
		return -ENXIO;

	mutex_lock(&a->lock);
	ret = sim_xfer_dev(d, rw, cmd, size, data);
	mutex_unlock(&a->lock);
	return ret;
}

static u32 sim_func(struct i2c_adapter *adap)
{
	return I2C_FUNC_SMBUS_QUICK | I2C_FUNC_SMBUS_BYTE |
	       I2C_FUNC_SMBUS_BYTE_DATA | I2C_FUNC_SMBUS_WORD_DATA |
	       I2C_FUNC_SMBUS_BLOCK_DATA;
}

static const struct i2c_algorithm sim_algo = {
	.smbus_xfer	= sim_smbus_xfer,
	.functionality	= sim_func,
};

/* A (re)inserted unit starts with clean latches and its output on. */
static void sim_insert(struct sim_dev *d)
{
	memset(d->latched, 0, sizeof(d->latched));
	d->page = 0;
	d->operation = 0x80;
	d->k[K_INSERTS]++;
}

static const enum sim_st sim_cond_st[] = {
	[K_C_VOUT - K_C_VOUT]	= ST_VOUT,
	[K_C_IOUT - K_C_VOUT]	= ST_IOUT,
	[K_C_INPUT - K_C_VOUT]	= ST_INPUT,
	[K_C_TEMP - K_C_VOUT]	= ST_TEMP,
	[K_C_FAN - K_C_VOUT]	= ST_FAN,
};

static s64 sim_knob_get(struct sim_dev *d, enum sim_knob k)
{
	if (k == K_STATUS_WORD) {
		sim_relatch(d);
		return sim_status_word(d);
	}
	if (k >= K_S_VOUT && k <= K_S_FAN)
		return d->latched[k - K_S_VOUT];
	if (k >= K_C_VOUT && k <= K_C_FAN)
		return d->cond[sim_cond_st[k - K_C_VOUT]];
	return d->k[k];
}

static int sim_knob_set(struct sim_dev *d, enum sim_knob k, s64 v)
{
	if (sim_knobs[k].mode == 0444)
		return -EPERM;
	if (k == K_STATUS_WORD || (k >= K_S_VOUT && k <= K_C_FAN)) {
		if (v < 0 || v > (k == K_STATUS_WORD ? 0xffff : 0xff))
			return -EINVAL;
		if (k == K_STATUS_WORD)
			sim_inject_word(d, (u16)v);
		else if (k <= K_S_FAN)
			d->latched[k - K_S_VOUT] |= (u8)v;	/* an event */
		else
			d->cond[sim_cond_st[k - K_C_VOUT]] = (u8)v;
		return 0;
	}
	if (v < -(1LL << 31) || v > U32_MAX)
		return -ERANGE;
	if (k == K_PRESENT) {
		v = !!v;
		if (v && !d->k[K_PRESENT])
			sim_insert(d);
	}
	if ((k == K_REVISION || k == K_VOUT_MODE) && (v < 0 || v > 0xff))
		return -EINVAL;
	d->k[k] = v;
	return 0;
}

static ssize_t sim_knob_read(struct file *f, char __user *ubuf, size_t len,
			     loff_t *pos)
{
	struct sim_knob_ref *r = f->private_data;
	char buf[24];
	int n;

	mutex_lock(&r->d->a->lock);
	n = scnprintf(buf, sizeof(buf), "%lld\n", sim_knob_get(r->d, r->k));
	mutex_unlock(&r->d->a->lock);
	return simple_read_from_buffer(ubuf, len, pos, buf, n);
}

static ssize_t sim_knob_write(struct file *f, const char __user *ubuf,
			      size_t len, loff_t *pos)
{
	struct sim_knob_ref *r = f->private_data;
	s64 v;
	int ret;

	ret = kstrtoll_from_user(ubuf, len, 0, &v);
	if (ret)
		return ret;
	mutex_lock(&r->d->a->lock);
	ret = sim_knob_set(r->d, r->k, v);
	mutex_unlock(&r->d->a->lock);
	return ret ? ret : len;
}

static const struct file_operations sim_knob_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.read	= sim_knob_read,
	.write	= sim_knob_write,
	.llseek	= default_llseek,
};

static void sim_init_psu(struct sim_dev *d, int idx, bool present)
{
	/* Defaults are exactly representable, so tests can compare exactly. */
	static const struct { u8 reg; s64 v; u32 scale; } lim[] = {
		{ RPW_PMBUS_POUT_MAX,		1600000, 1000 },
		{ RPW_PMBUS_IOUT_OC_FAULT_LIMIT, 140000, 1000 },
		{ RPW_PMBUS_IOUT_OC_WARN_LIMIT,	130000, 1000 },
		{ RPW_PMBUS_OT_FAULT_LIMIT,	100000, 1000 },
		{ RPW_PMBUS_OT_WARN_LIMIT,	85000, 1000 },
		{ RPW_PMBUS_VIN_OV_FAULT_LIMIT,	300000, 1000 },
		{ RPW_PMBUS_VIN_OV_WARN_LIMIT,	290000, 1000 },
		{ RPW_PMBUS_VIN_UV_WARN_LIMIT,	180000, 1000 },
		{ RPW_PMBUS_VIN_UV_FAULT_LIMIT,	90000, 1000 },
		{ RPW_PMBUS_IIN_OC_FAULT_LIMIT,	10000, 1000 },
		{ RPW_PMBUS_IIN_OC_WARN_LIMIT,	9000, 1000 },
		{ RPW_PMBUS_POUT_OP_FAULT_LIMIT, 1760000, 1000 },
		{ RPW_PMBUS_POUT_OP_WARN_LIMIT,	1700000, 1000 },
		{ RPW_PMBUS_PIN_OP_WARN_LIMIT,	1850000, 1000 },
		{ RPW_PMBUS_MFR_VIN_MIN,	90000, 1000 },
		{ RPW_PMBUS_MFR_VIN_MAX,	264000, 1000 },
		{ RPW_PMBUS_MFR_IIN_MAX,	10000, 1000 },
		{ RPW_PMBUS_MFR_PIN_MAX,	1850000, 1000 },
		{ RPW_PMBUS_MFR_IOUT_MAX,	133000, 1000 },
		{ RPW_PMBUS_MFR_MAX_TEMP_1,	70000, 1000 },
	};
	static const struct { u8 reg; s64 mv; } vlim[] = {
		{ RPW_PMBUS_VOUT_OV_FAULT_LIMIT, 13500 },
		{ RPW_PMBUS_VOUT_OV_WARN_LIMIT,	13000 },
		{ RPW_PMBUS_VOUT_UV_WARN_LIMIT,	11000 },
		{ RPW_PMBUS_VOUT_UV_FAULT_LIMIT, 10500 },
	};
	int i;

	d->idx = idx;
	d->k[K_PRESENT] = present;
	d->k[K_PGOOD] = 1;
	d->k[K_REVISION] = RPW_PMBUS_REV_1_2;
	d->k[K_VOUT_MODE] = SIM_VOUT_MODE;
	d->k[K_VIN] = 230000;
	d->k[K_IIN] = 2750;
	d->k[K_PIN] = 632000;
	d->k[K_VOUT] = 12000;
	d->k[K_IOUT] = 50000;
	d->k[K_POUT] = 600000;
	d->k[K_TEMP1] = 30000;
	d->k[K_TEMP2] = 45500;
	d->k[K_FAN1] = 8800;
	d->k[K_POUT_MAX] = 1600000;
	for (i = 0; i < ARRAY_SIZE(lim); i++)
		d->limit[lim[i].reg] = sim_lin11(lim[i].v, lim[i].scale);
	for (i = 0; i < ARRAY_SIZE(vlim); i++)
		d->limit[vlim[i].reg] = sim_lin16(vlim[i].mv, SIM_VOUT_MODE);
	/* MFR_POUT_MAX follows its knob; mark it supported. */
	d->limit[RPW_PMBUS_MFR_POUT_MAX] = 1;
	sim_insert(d);
	d->k[K_INSERTS] = 0;
}

static void sim_init_asm(struct sim_dev *d)
{
	d->is_asm = true;
	d->k[K_PRESENT] = 1;
	d->k[K_REVISION] = RPW_PMBUS_REV_1_2;
	d->k[K_TEMP1] = 25000;
	d->k[K_FAN1] = 6000;
	d->k[K_FAN2] = 6200;
	d->limit[RPW_PMBUS_OT_WARN_LIMIT] = sim_lin11(45000, 1000);
	d->limit[RPW_PMBUS_OT_FAULT_LIMIT] = sim_lin11(55000, 1000);
	sim_insert(d);
	d->k[K_INSERTS] = 0;
}

static void sim_debugfs_dev(struct sim_dev *d, struct dentry *parent,
			    const char *name)
{
	struct dentry *dir = debugfs_create_dir(name, parent);
	u8 on = d->is_asm ? ON_ASM : ON_PSU;
	int k;

	for (k = 0; k < K__MAX; k++) {
		if (!(sim_knobs[k].on & on))
			continue;
		d->ref[k].d = d;
		d->ref[k].k = k;
		debugfs_create_file(sim_knobs[k].name, sim_knobs[k].mode, dir,
				    &d->ref[k], &sim_knob_fops);
	}
}

/* ---- the simulator's bus: new_device / del_device ---------------------- */

static struct bus_type sim_bus;

static struct sim_asm *to_sim_asm(struct device *dev)
{
	return container_of(dev, struct sim_asm, dev);
}

static ssize_t i2c_bus_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%d\n", READ_ONCE(to_sim_asm(dev)->bus));
}
static DEVICE_ATTR_RO(i2c_bus);

static ssize_t present_mask_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	struct sim_asm *a = to_sim_asm(dev);
	unsigned int mask = 0;
	int i;

	mutex_lock(&a->lock);
	for (i = 0; i < SIM_NR_PSU; i++)
		if (a->psu[i].k[K_PRESENT])
			mask |= BIT(i);
	mutex_unlock(&a->lock);
	return sysfs_emit(buf, "0x%02x\n", mask);
}
static DEVICE_ATTR_RO(present_mask);

static struct attribute *sim_asm_attrs[] = {
	&dev_attr_i2c_bus.attr,
	&dev_attr_present_mask.attr,
	NULL
};
ATTRIBUTE_GROUPS(sim_asm);

/* Last reference gone: the adapter is deleted and its clients with it. */
static void sim_asm_release(struct device *dev)
{
	struct sim_asm *a = to_sim_asm(dev);

	ida_free(&sim_ida, a->id);
	mutex_destroy(&a->lock);
	kfree(a);
}

static void sim_asm_del_clients(struct sim_asm *a)
{
	int i;

	/* Unbinding stops the driver's polls before the adapter goes. */
	for (i = ARRAY_SIZE(a->client) - 1; i >= 0; i--) {
		i2c_unregister_device(a->client[i]);
		a->client[i] = NULL;
	}
}

static int sim_asm_add_clients(struct sim_asm *a)
{
	struct i2c_board_info info = {};
	int i;

	for (i = 0; i < ARRAY_SIZE(a->client); i++) {
		bool ctl = i == SIM_NR_PSU;

		strscpy(info.type, ctl ? "rackpwr-asm" : "rackpwr-psu",
			sizeof(info.type));
		info.addr = ctl ? SIM_ASM_ADDR : SIM_PSU_ADDR + i;
		/* One node shared by the supplies, released with the last. */
		info.swnode = ctl || !a->props[0].name ? NULL : &a->swnode;
		a->client[i] = i2c_new_client_device(&a->adap, &info);
		if (IS_ERR(a->client[i])) {
			int ret = PTR_ERR(a->client[i]);

			a->client[i] = NULL;
			sim_asm_del_clients(a);
			return ret;
		}
	}
	return 0;
}

/* sim_asms_lock held; @id already taken from sim_ida (freed on error). */
static int sim_asm_new(unsigned int id, unsigned int mask, u32 rated_mw)
{
	struct sim_asm *a;
	char name[8];
	int i, ret;

	lockdep_assert_held(&sim_asms_lock);
	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a) {
		ida_free(&sim_ida, id);
		return -ENOMEM;
	}
	a->id = id;
	a->bus = -1;
	mutex_init(&a->lock);
	for (i = 0; i < SIM_NR_PSU; i++) {
		a->psu[i].a = a;
		sim_init_psu(&a->psu[i], i, mask & BIT(i));
	}
	a->ctl.a = a;
	sim_init_asm(&a->ctl);
	if (rated_mw) {
		/* Passed on as given: checking it is the driver's job. */
		a->props[0] = PROPERTY_ENTRY_U32("rackpwr,rated-power-mw",
						 rated_mw);
		a->swnode.properties = a->props;
	}

	device_initialize(&a->dev);
	a->dev.bus = &sim_bus;
	a->dev.groups = sim_asm_groups;
	a->dev.release = sim_asm_release;
	ret = dev_set_name(&a->dev, "rackpwr_sim_pmbus%u", id);
	if (ret)
		goto err_put;
	ret = device_add(&a->dev);
	if (ret)
		goto err_put;

	/* No .class: legacy hwmon auto-detection must never poke it. */
	a->adap.owner = THIS_MODULE;
	a->adap.algo = &sim_algo;
	a->adap.dev.parent = &a->dev;
	snprintf(a->adap.name, sizeof(a->adap.name), "rackpwr-sim-pmbus%u",
		 id);
	i2c_set_adapdata(&a->adap, a);
	ret = i2c_add_adapter(&a->adap);
	if (ret)
		goto err_del;
	WRITE_ONCE(a->bus, a->adap.nr);

	snprintf(name, sizeof(name), "asm%u", id);
	a->dir = debugfs_create_dir(name, sim_dir);
	for (i = 0; i < SIM_NR_PSU; i++) {
		char psu[8];

		snprintf(psu, sizeof(psu), "psu%d", i);
		sim_debugfs_dev(&a->psu[i], a->dir, psu);
	}
	sim_debugfs_dev(&a->ctl, a->dir, "asm");

	ret = sim_asm_add_clients(a);
	if (ret)
		goto err_adap;
	list_add_tail(&a->entry, &sim_asms);
	return 0;

err_adap:
	debugfs_remove_recursive(a->dir);
	i2c_del_adapter(&a->adap);
err_del:
	device_del(&a->dev);
err_put:
	put_device(&a->dev);	/* frees @a and its id */
	return ret;
}

/* sim_asms_lock held. */
static void sim_asm_del(struct sim_asm *a)
{
	lockdep_assert_held(&sim_asms_lock);
	list_del(&a->entry);
	sim_asm_del_clients(a);
	/* Waits for open knob files: no knob outlives its assembly. */
	debugfs_remove_recursive(a->dir);
	i2c_del_adapter(&a->adap);
	device_unregister(&a->dev);
}

/*
 * "ID [PRESENT_MASK [RATED_MW]]": PRESENT_MASK bit n puts a supply in slot
 * n at creation (default 0x3f); RATED_MW, if not 0, becomes every supply's
 * rackpwr,rated-power-mw.  An empty line gives @id -1: the lowest free ID.
 */
static int sim_parse_new(const char *buf, int *id, unsigned int *mask,
			 u32 *rated_mw)
{
	unsigned int v[3] = { 0, SIM_ALL_PRESENT, 0 };
	char tmp[48], *p = tmp, *tok;
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
	if (v[0] > INT_MAX || v[1] > SIM_ALL_PRESENT)
		return -EINVAL;
	*id = n ? v[0] : -1;
	*mask = v[1];
	*rated_mw = v[2];
	return 0;
}

static ssize_t new_device_store(struct bus_type *bus, const char *buf,
				size_t count)
{
	unsigned int mask;
	u32 rated_mw;
	int id, ret;

	ret = sim_parse_new(buf, &id, &mask, &rated_mw);
	if (ret)
		return ret;

	mutex_lock(&sim_asms_lock);
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
	ret = sim_asm_new(ret, mask, rated_mw);
unlock:
	mutex_unlock(&sim_asms_lock);
	return ret ? ret : count;
}
static BUS_ATTR_WO(new_device);

static ssize_t del_device_store(struct bus_type *bus, const char *buf,
				size_t count)
{
	struct sim_asm *a;
	unsigned int id;
	int ret = -ENOENT;

	if (kstrtouint(buf, 0, &id))
		return -EINVAL;
	mutex_lock(&sim_asms_lock);
	list_for_each_entry(a, &sim_asms, entry) {
		if (a->id == id) {
			sim_asm_del(a);
			ret = 0;
			break;
		}
	}
	mutex_unlock(&sim_asms_lock);
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
	.name		= "rackpwr_sim_pmbus",
	.bus_groups	= sim_bus_groups,
};

static int __init sim_init(void)
{
	int ret;

	sim_dir = debugfs_create_dir("rackpwr_sim_pmbus", NULL);
	ret = bus_register(&sim_bus);
	if (ret) {
		debugfs_remove_recursive(sim_dir);
		return ret;
	}
	mutex_lock(&sim_asms_lock);
	sim_enabled = true;
	mutex_unlock(&sim_asms_lock);
	return 0;
}

static void __exit sim_exit(void)
{
	struct sim_asm *a, *tmp;

	/* No new assembly from here on; then each goes, clients first. */
	mutex_lock(&sim_asms_lock);
	sim_enabled = false;
	list_for_each_entry_safe(a, tmp, &sim_asms, entry)
		sim_asm_del(a);
	mutex_unlock(&sim_asms_lock);
	bus_unregister(&sim_bus);
	debugfs_remove_recursive(sim_dir);
	ida_destroy(&sim_ida);
}

module_init(sim_init);
module_exit(sim_exit);

MODULE_DESCRIPTION("rackpwr test-only simulated PMBus power supply assemblies");
MODULE_AUTHOR("rackpwr developers");
MODULE_LICENSE("GPL");
