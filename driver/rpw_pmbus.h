/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rackpwr - PMBus conversions, status decoding and the capacity/derating rule
 * (pure logic, shared by the kernel driver and the host unit tests).
 *
 * Values come out in hwmon units: mV, mA, uW, milli-degree C, RPM.  Every
 * decoder returns an errno instead of a value when the raw word cannot be a
 * real reading, so no sentinel ever reaches sysfs.
 */
#ifndef _RPW_PMBUS_H
#define _RPW_PMBUS_H

#include "rpw_compat.h"

/* PMBus command codes (PMBus 1.3 part II, see REFERENCE.md). */
#define RPW_PMBUS_PAGE			0x00
#define RPW_PMBUS_OPERATION		0x01
#define RPW_PMBUS_CLEAR_FAULTS		0x03
#define RPW_PMBUS_CAPABILITY		0x19
#define RPW_PMBUS_VOUT_MODE		0x20
#define RPW_PMBUS_POUT_MAX		0x31
#define RPW_PMBUS_VOUT_OV_FAULT_LIMIT	0x40
#define RPW_PMBUS_VOUT_OV_WARN_LIMIT	0x42
#define RPW_PMBUS_VOUT_UV_WARN_LIMIT	0x43
#define RPW_PMBUS_VOUT_UV_FAULT_LIMIT	0x44
#define RPW_PMBUS_IOUT_OC_FAULT_LIMIT	0x46
#define RPW_PMBUS_IOUT_OC_WARN_LIMIT	0x4a
#define RPW_PMBUS_OT_FAULT_LIMIT	0x4f
#define RPW_PMBUS_OT_WARN_LIMIT		0x51
#define RPW_PMBUS_VIN_OV_FAULT_LIMIT	0x55
#define RPW_PMBUS_VIN_OV_WARN_LIMIT	0x57
#define RPW_PMBUS_VIN_UV_WARN_LIMIT	0x58
#define RPW_PMBUS_VIN_UV_FAULT_LIMIT	0x59
#define RPW_PMBUS_IIN_OC_FAULT_LIMIT	0x5b
#define RPW_PMBUS_IIN_OC_WARN_LIMIT	0x5d
#define RPW_PMBUS_POUT_OP_FAULT_LIMIT	0x68
#define RPW_PMBUS_POUT_OP_WARN_LIMIT	0x6a
#define RPW_PMBUS_PIN_OP_WARN_LIMIT	0x6b
#define RPW_PMBUS_STATUS_BYTE		0x78
#define RPW_PMBUS_STATUS_WORD		0x79
#define RPW_PMBUS_STATUS_VOUT		0x7a
#define RPW_PMBUS_STATUS_IOUT		0x7b
#define RPW_PMBUS_STATUS_INPUT		0x7c
#define RPW_PMBUS_STATUS_TEMPERATURE	0x7d
#define RPW_PMBUS_STATUS_CML		0x7e
#define RPW_PMBUS_STATUS_OTHER		0x7f
#define RPW_PMBUS_STATUS_MFR_SPECIFIC	0x80
#define RPW_PMBUS_STATUS_FAN_12		0x81
#define RPW_PMBUS_READ_VIN		0x88
#define RPW_PMBUS_READ_IIN		0x89
#define RPW_PMBUS_READ_VOUT		0x8b
#define RPW_PMBUS_READ_IOUT		0x8c
#define RPW_PMBUS_READ_TEMPERATURE_1	0x8d
#define RPW_PMBUS_READ_TEMPERATURE_2	0x8e
#define RPW_PMBUS_READ_TEMPERATURE_3	0x8f
#define RPW_PMBUS_READ_FAN_SPEED_1	0x90
#define RPW_PMBUS_READ_FAN_SPEED_2	0x91
#define RPW_PMBUS_READ_POUT		0x96
#define RPW_PMBUS_READ_PIN		0x97
#define RPW_PMBUS_REVISION		0x98
#define RPW_PMBUS_MFR_ID		0x99
#define RPW_PMBUS_MFR_MODEL		0x9a
#define RPW_PMBUS_MFR_REVISION		0x9b
#define RPW_PMBUS_MFR_LOCATION		0x9c
#define RPW_PMBUS_MFR_DATE		0x9d
#define RPW_PMBUS_MFR_SERIAL		0x9e
#define RPW_PMBUS_MFR_VIN_MIN		0xa0
#define RPW_PMBUS_MFR_VIN_MAX		0xa1
#define RPW_PMBUS_MFR_IIN_MAX		0xa2
#define RPW_PMBUS_MFR_PIN_MAX		0xa3
#define RPW_PMBUS_MFR_IOUT_MAX		0xa6
#define RPW_PMBUS_MFR_POUT_MAX		0xa7
#define RPW_PMBUS_MFR_MAX_TEMP_1	0xc0

/* PMBUS_REVISION value from which STATUS_* bits are write-1-to-clear. */
#define RPW_PMBUS_REV_1_2		0x22

/* STATUS_WORD (low byte is STATUS_BYTE). */
#define RPW_SW_NONE_OF_ABOVE		BIT(0)
#define RPW_SW_CML			BIT(1)
#define RPW_SW_TEMPERATURE		BIT(2)
#define RPW_SW_VIN_UV			BIT(3)
#define RPW_SW_IOUT_OC			BIT(4)
#define RPW_SW_VOUT_OV			BIT(5)
#define RPW_SW_OFF			BIT(6)
#define RPW_SW_BUSY			BIT(7)
#define RPW_SW_UNKNOWN			BIT(8)
#define RPW_SW_OTHER			BIT(9)
#define RPW_SW_FANS			BIT(10)
#define RPW_SW_POWER_GOOD_N		BIT(11)
#define RPW_SW_MFR			BIT(12)
#define RPW_SW_INPUT			BIT(13)
#define RPW_SW_IOUT_POUT		BIT(14)
#define RPW_SW_VOUT			BIT(15)

/* STATUS_VOUT */
#define RPW_SV_OV_FAULT			BIT(7)
#define RPW_SV_OV_WARN			BIT(6)
#define RPW_SV_UV_WARN			BIT(5)
#define RPW_SV_UV_FAULT			BIT(4)
/* STATUS_IOUT */
#define RPW_SI_OC_FAULT			BIT(7)
#define RPW_SI_OC_LV_FAULT		BIT(6)
#define RPW_SI_OC_WARN			BIT(5)
#define RPW_SI_POUT_OP_FAULT		BIT(1)
#define RPW_SI_POUT_OP_WARN		BIT(0)
/* STATUS_INPUT */
#define RPW_SN_VIN_OV_FAULT		BIT(7)
#define RPW_SN_VIN_OV_WARN		BIT(6)
#define RPW_SN_VIN_UV_WARN		BIT(5)
#define RPW_SN_VIN_UV_FAULT		BIT(4)
#define RPW_SN_UNIT_OFF_LOW_VIN		BIT(3)
#define RPW_SN_IIN_OC_FAULT		BIT(2)
#define RPW_SN_IIN_OC_WARN		BIT(1)
#define RPW_SN_PIN_OP_WARN		BIT(0)
/* STATUS_TEMPERATURE */
#define RPW_ST_OT_FAULT			BIT(7)
#define RPW_ST_OT_WARN			BIT(6)
#define RPW_ST_UT_WARN			BIT(5)
#define RPW_ST_UT_FAULT			BIT(4)
/* STATUS_CML */
#define RPW_SC_INVALID_CMD		BIT(7)
#define RPW_SC_INVALID_DATA		BIT(6)
#define RPW_SC_PEC_FAILED		BIT(5)
#define RPW_SC_OTHER_COMM		BIT(1)
/* STATUS_FAN_1_2 */
#define RPW_SF_FAN1_FAULT		BIT(7)
#define RPW_SF_FAN2_FAULT		BIT(6)
#define RPW_SF_FAN1_WARN		BIT(5)
#define RPW_SF_FAN2_WARN		BIT(4)
#define RPW_SF_AIRFLOW_FAULT		BIT(1)
#define RPW_SF_AIRFLOW_WARN		BIT(0)

/* VOUT_MODE: bits 7:5 select the format, 4:0 the LINEAR16 exponent. */
#define RPW_VOUT_MODE_LINEAR		0

/* What a raw word measures; selects the unit scale and plausibility range. */
enum rpw_pmbus_class {
	RPW_PMBUS_C_VIN,	/* LINEAR11 V   -> mV */
	RPW_PMBUS_C_VOUT,	/* LINEAR16 V   -> mV */
	RPW_PMBUS_C_IIN,	/* LINEAR11 A   -> mA */
	RPW_PMBUS_C_IOUT,	/* LINEAR11 A   -> mA */
	RPW_PMBUS_C_POWER,	/* LINEAR11 W   -> uW */
	RPW_PMBUS_C_TEMP,	/* LINEAR11 C   -> m C */
	RPW_PMBUS_C_FAN,	/* LINEAR11 RPM -> RPM */
	RPW_PMBUS_C__MAX,
};

/* Raw m * 2^e * scale, rounded to nearest (half away from zero). */
s64 rpw_pmbus_linear11_scaled(u16 raw, u32 scale);
/* Unsigned raw * 2^exp * scale for LINEAR16; exp is VOUT_MODE[4:0]. */
s64 rpw_pmbus_linear16_scaled(u16 raw, u8 vout_mode, u32 scale);

/*
 * Decode one reading or limit of @cls into hwmon units.
 * Returns 0, -ENODATA for the 0xffff "nothing driven" word, -EOPNOTSUPP for
 * a non-linear VOUT_MODE (VID/direct/IEEE half are not supported) and
 * -ERANGE for a value outside the physically plausible range of @cls (a
 * corrupted exponent, for instance).
 */
int rpw_pmbus_decode(enum rpw_pmbus_class cls, u16 raw, u8 vout_mode,
		     s64 *out);

/* Plausible range of @cls in hwmon units (documented in rackpwr.rst). */
void rpw_pmbus_range(enum rpw_pmbus_class cls, s64 *lo, s64 *hi);

/* One snapshot of the PMBus status registers. */
struct rpw_pmbus_status {
	u16 word;
	u8 vout;
	u8 iout;
	u8 input;
	u8 temp;
	u8 cml;
	u8 other;
	u8 mfr;
	u8 fan;
};

/* Health flags derived from a status snapshot. */
#define RPW_PSU_F_INPUT_LOST	BIT(0)	/* VIN UV fault / off for low input */
#define RPW_PSU_F_OUTPUT_OFF	BIT(1)	/* OFF bit: output not delivering */
#define RPW_PSU_F_PGOOD_BAD	BIT(2)	/* POWER_GOOD# asserted */
#define RPW_PSU_F_VOUT_FAULT	BIT(3)	/* VOUT OV or UV fault */
#define RPW_PSU_F_OC_FAULT	BIT(4)	/* IOUT/IIN OC or POUT OP fault */
#define RPW_PSU_F_OT_FAULT	BIT(5)	/* over-temperature fault */
#define RPW_PSU_F_FAN_FAULT	BIT(6)	/* fan or airflow fault */
#define RPW_PSU_F_WARN		BIT(7)	/* any warning, no fault */
#define RPW_PSU_F_CML		BIT(8)	/* communication/memory/logic */
#define RPW_PSU_F_VIN_OV_FAULT	BIT(9)	/* input over-voltage fault */

u32 rpw_pmbus_status_flags(const struct rpw_pmbus_status *st);

/*
 * Health of one supply, most severe first in the order the driver checks
 * them.  Only RPW_PSU_OK counts towards capacity.
 */
enum rpw_psu_health {
	RPW_PSU_OK = 0,
	RPW_PSU_ABSENT,
	RPW_PSU_COMM_FAIL,
	RPW_PSU_INPUT_LOST,
	RPW_PSU_OUTPUT_OFF,
	RPW_PSU_OVERCURRENT,
	RPW_PSU_OVERTEMP,
	RPW_PSU_FAN_FAULT,
	RPW_PSU_HEALTH__MAX,
};

/* Health from status flags alone (absence/comm are the driver's call). */
enum rpw_psu_health rpw_pmbus_health(u32 flags);
const char *rpw_psu_health_name(enum rpw_psu_health h);

/*
 * Thermal derating: full rating up to RPW_DERATE_START_MC at the supply's
 * temp1 (inlet), then minus 2.5 % per degree C, reaching 0 at
 * RPW_DERATE_ZERO_MC.  Unknown temperature means no derating.
 */
#define RPW_DERATE_START_MC	45000
#define RPW_DERATE_ZERO_MC	85000
u32 rpw_pmbus_derate_mw(u32 rated_mw, bool temp_valid, s32 temp_mc);

#endif /* _RPW_PMBUS_H */
