// SPDX-License-Identifier: GPL-2.0-only
/*
 * rackpwr - PMBus conversions, status decoding and capacity derating.
 *
 * Pure logic: no allocation, no sleeping, no clocks, and no 64-bit division
 * (so it also links into 32-bit kernels without libgcc helpers).
 */
#include "rpw_pmbus.h"

/* hwmon unit per class and the range a real supply can physically report. */
static const struct {
	u32 scale;
	s64 lo;
	s64 hi;
} rpw_pmbus_cls[RPW_PMBUS_C__MAX] = {
	/* Input up to 600 V covers 277 Vac and 400 Vdc feeds. */
	[RPW_PMBUS_C_VIN]	= { 1000, -5000, 600000 },
	[RPW_PMBUS_C_VOUT]	= { 1000, -5000, 100000 },
	[RPW_PMBUS_C_IIN]	= { 1000, -10000, 100000 },
	[RPW_PMBUS_C_IOUT]	= { 1000, -50000, 1000000 },
	/* Small negative power is ADC offset at idle, not garbage. */
	[RPW_PMBUS_C_POWER]	= { 1000000, -500000000LL, 30000000000LL },
	[RPW_PMBUS_C_TEMP]	= { 1000, -60000, 250000 },
	[RPW_PMBUS_C_FAN]	= { 1, 0, 100000 },
};

/* v * 2^e, rounding to nearest with ties away from zero. */
static s64 rpw_pmbus_pow2(s64 v, int e)
{
	s64 a;
	int sh;

	if (e >= 0)
		return v * ((s64)1 << e);	/* multiply: << of negatives is UB */
	sh = -e;
	a = v < 0 ? -v : v;
	a = (a + ((s64)1 << (sh - 1))) >> sh;
	return v < 0 ? -a : a;
}

s64 rpw_pmbus_linear11_scaled(u16 raw, u32 scale)
{
	int e = (raw >> 11) & 0x1f;
	int m = raw & 0x7ff;

	if (e & 0x10)
		e -= 32;
	if (m & 0x400)
		m -= 2048;
	return rpw_pmbus_pow2((s64)m * scale, e);
}

s64 rpw_pmbus_linear16_scaled(u16 raw, u8 vout_mode, u32 scale)
{
	int e = vout_mode & 0x1f;

	if (e & 0x10)
		e -= 32;
	return rpw_pmbus_pow2((s64)raw * scale, e);
}

void rpw_pmbus_range(enum rpw_pmbus_class cls, s64 *lo, s64 *hi)
{
	if ((unsigned int)cls >= RPW_PMBUS_C__MAX) {
		*lo = 0;
		*hi = -1;
		return;
	}
	*lo = rpw_pmbus_cls[cls].lo;
	*hi = rpw_pmbus_cls[cls].hi;
}

int rpw_pmbus_decode(enum rpw_pmbus_class cls, u16 raw, u8 vout_mode,
		     s64 *out)
{
	s64 v;

	if ((unsigned int)cls >= RPW_PMBUS_C__MAX)
		return -EINVAL;
	/* An undriven bus or an unimplemented register reads all ones. */
	if (raw == 0xffff)
		return -ENODATA;
	if (cls == RPW_PMBUS_C_VOUT) {
		if ((vout_mode >> 5) != RPW_VOUT_MODE_LINEAR)
			return -EOPNOTSUPP;
		v = rpw_pmbus_linear16_scaled(raw, vout_mode,
					      rpw_pmbus_cls[cls].scale);
	} else {
		v = rpw_pmbus_linear11_scaled(raw, rpw_pmbus_cls[cls].scale);
	}
	if (v < rpw_pmbus_cls[cls].lo || v > rpw_pmbus_cls[cls].hi)
		return -ERANGE;
	*out = v;
	return 0;
}

u32 rpw_pmbus_status_flags(const struct rpw_pmbus_status *st)
{
	u32 f = 0;

	/*
	 * The summary bits of STATUS_WORD count on their own too: a supply
	 * whose detail register read failed must not look healthy.
	 */
	if ((st->input & (RPW_SN_VIN_UV_FAULT | RPW_SN_UNIT_OFF_LOW_VIN)) ||
	    (st->word & RPW_SW_VIN_UV))
		f |= RPW_PSU_F_INPUT_LOST;
	if (st->input & RPW_SN_VIN_OV_FAULT)
		f |= RPW_PSU_F_VIN_OV_FAULT;
	if (st->word & RPW_SW_OFF)
		f |= RPW_PSU_F_OUTPUT_OFF;
	if (st->word & RPW_SW_POWER_GOOD_N)
		f |= RPW_PSU_F_PGOOD_BAD;
	if ((st->vout & (RPW_SV_OV_FAULT | RPW_SV_UV_FAULT)) ||
	    (st->word & RPW_SW_VOUT_OV))
		f |= RPW_PSU_F_VOUT_FAULT;
	if ((st->iout & (RPW_SI_OC_FAULT | RPW_SI_OC_LV_FAULT |
			 RPW_SI_POUT_OP_FAULT)) ||
	    (st->input & RPW_SN_IIN_OC_FAULT) || (st->word & RPW_SW_IOUT_OC))
		f |= RPW_PSU_F_OC_FAULT;
	if (st->temp & RPW_ST_OT_FAULT)
		f |= RPW_PSU_F_OT_FAULT;
	if (st->fan & (RPW_SF_FAN1_FAULT | RPW_SF_FAN2_FAULT |
		       RPW_SF_AIRFLOW_FAULT))
		f |= RPW_PSU_F_FAN_FAULT;
	if (st->cml || (st->word & RPW_SW_CML))
		f |= RPW_PSU_F_CML;
	if ((st->vout & (RPW_SV_OV_WARN | RPW_SV_UV_WARN)) ||
	    (st->iout & (RPW_SI_OC_WARN | RPW_SI_POUT_OP_WARN)) ||
	    (st->input & (RPW_SN_VIN_OV_WARN | RPW_SN_VIN_UV_WARN |
			  RPW_SN_IIN_OC_WARN | RPW_SN_PIN_OP_WARN)) ||
	    (st->temp & (RPW_ST_OT_WARN | RPW_ST_UT_WARN)) ||
	    (st->fan & (RPW_SF_FAN1_WARN | RPW_SF_FAN2_WARN |
			RPW_SF_AIRFLOW_WARN)))
		f |= RPW_PSU_F_WARN;
	return f;
}

enum rpw_psu_health rpw_pmbus_health(u32 flags)
{
	/* Input loss also turns the output off: report the cause. */
	if (flags & RPW_PSU_F_INPUT_LOST)
		return RPW_PSU_INPUT_LOST;
	if (flags & (RPW_PSU_F_OUTPUT_OFF | RPW_PSU_F_PGOOD_BAD |
		     RPW_PSU_F_VOUT_FAULT | RPW_PSU_F_VIN_OV_FAULT))
		return RPW_PSU_OUTPUT_OFF;
	if (flags & RPW_PSU_F_OC_FAULT)
		return RPW_PSU_OVERCURRENT;
	if (flags & RPW_PSU_F_OT_FAULT)
		return RPW_PSU_OVERTEMP;
	if (flags & RPW_PSU_F_FAN_FAULT)
		return RPW_PSU_FAN_FAULT;
	return RPW_PSU_OK;
}

const char *rpw_psu_health_name(enum rpw_psu_health h)
{
	static const char * const names[RPW_PSU_HEALTH__MAX] = {
		[RPW_PSU_OK]		= "ok",
		[RPW_PSU_ABSENT]	= "absent",
		[RPW_PSU_COMM_FAIL]	= "comm-fail",
		[RPW_PSU_INPUT_LOST]	= "input-lost",
		[RPW_PSU_OUTPUT_OFF]	= "output-off",
		[RPW_PSU_OVERCURRENT]	= "overcurrent",
		[RPW_PSU_OVERTEMP]	= "overtemp",
		[RPW_PSU_FAN_FAULT]	= "fan-fault",
	};

	if ((unsigned int)h >= RPW_PSU_HEALTH__MAX)
		return "unknown";
	return names[h];
}

u32 rpw_pmbus_derate_mw(u32 rated_mw, bool temp_valid, s32 temp_mc)
{
	u32 permille;

	if (!temp_valid || temp_mc <= RPW_DERATE_START_MC)
		return rated_mw;
	if (temp_mc >= RPW_DERATE_ZERO_MC)
		return 0;
	/* 2.5 %/C = 1 permille per 40 mC; 32-bit safe for any rating. */
	permille = (u32)(RPW_DERATE_ZERO_MC - temp_mc) / 40;
	return rated_mw / 1000 * permille + rated_mw % 1000 * permille / 1000;
}
