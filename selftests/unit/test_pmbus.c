// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for driver/rpw_pmbus.c: LINEAR11/LINEAR16 decoding (edge cases
 * and an exhaustive comparison with an independent division-based
 * reference), plausibility rejection, STATUS_* decoding to health, and the
 * capacity derating rule.
 */
#include "rpw_pmbus.h"
#include "tap.h"

/* Independent reference: exact quotient with ties away from zero. */
static long long ref_scale(long long v, int e)
{
	long long a = v < 0 ? -v : v, d, q, r;

	if (e >= 0) {
		while (e--)
			v *= 2;
		return v;
	}
	d = 1;
	while (e++)
		d *= 2;
	q = a / d;
	r = a % d;
	if (2 * r >= d)
		q++;
	return v < 0 ? -q : q;
}

static u16 lin11(int e, int m)
{
	return (u16)(((e & 0x1f) << 11) | (m & 0x7ff));
}

static int dec(enum rpw_pmbus_class c, u16 raw, u8 mode, s64 *v)
{
	*v = 0x5a5a5a5a;
	return rpw_pmbus_decode(c, raw, mode, v);
}

static void test_linear11_edges(void)
{
	s64 v;

	TAP_EQ(rpw_pmbus_linear11_scaled(0, 1000), 0, "L11 zero");
	/* 0xf8e6: e=-1, m=230 -> 115 V */
	TAP_EQ(dec(RPW_PMBUS_C_VIN, 0xf8e6, 0, &v), 0, "L11 vin 115V ok");
	TAP_EQ(v, 115000, "L11 vin 115 V = 115000 mV");
	/* e=-4, m=960 -> 60 C */
	dec(RPW_PMBUS_C_TEMP, lin11(-4, 960), 0, &v);
	TAP_EQ(v, 60000, "L11 temp 60 C");
	/* positive exponent: m=800 e=1 -> 1600 W */
	dec(RPW_PMBUS_C_POWER, lin11(1, 800), 0, &v);
	TAP_EQ(v, 1600000000LL, "L11 1600 W in uW");
	/* negative mantissa, -1 * 2^-2 A = -0.25 A */
	TAP_EQ(dec(RPW_PMBUS_C_IOUT, lin11(-2, -1), 0, &v), 0,
	       "L11 small negative current accepted");
	TAP_EQ(v, -250, "L11 -0.25 A = -250 mA");
	/* most negative mantissa with negative exponent */
	TAP_EQ(rpw_pmbus_linear11_scaled(lin11(-3, -1024), 1000), -128000,
	       "L11 m=-1024 e=-3 -> -128.000");
	/* largest and smallest representable raw values */
	TAP_EQ(rpw_pmbus_linear11_scaled(lin11(15, 1023), 1),
	       1023LL * 32768, "L11 max m=1023 e=15");
	TAP_EQ(rpw_pmbus_linear11_scaled(lin11(15, -1024), 1000000),
	       -1024LL * 32768 * 1000000, "L11 min m=-1024 e=15 no overflow");
	TAP_EQ(rpw_pmbus_linear11_scaled(lin11(-16, 1), 1000), 0,
	       "L11 m=1 e=-16 rounds to 0");
	TAP_EQ(rpw_pmbus_linear11_scaled(lin11(-16, 33), 1000), 1,
	       "L11 m=33 e=-16 rounds to 1");
	/* ties round away from zero, symmetric for negatives */
	TAP_EQ(rpw_pmbus_linear11_scaled(lin11(-1, 1), 1), 1, "L11 +0.5 -> 1");
	TAP_EQ(rpw_pmbus_linear11_scaled(lin11(-1, -3), 1), -2,
	       "L11 -1.5 -> -2");
	/* 0xffff is the undriven bus, never -0.5 */
	TAP_EQ(dec(RPW_PMBUS_C_TEMP, 0xffff, 0, &v), -ENODATA,
	       "L11 0xffff -> -ENODATA");
	TAP_EQ(v, 0x5a5a5a5a, "L11 0xffff leaves output untouched");
	/* corrupted exponent: 1023 * 2^15 W is not a supply */
	TAP_EQ(dec(RPW_PMBUS_C_POWER, lin11(15, 1023), 0, &v), -ERANGE,
	       "L11 out-of-range exponent -> -ERANGE");
	TAP_EQ(dec(RPW_PMBUS_C_FAN, lin11(0, -5), 0, &v), -ERANGE,
	       "L11 negative fan speed -> -ERANGE");
	TAP_EQ(dec(RPW_PMBUS_C_FAN, lin11(3, 1000), 0, &v), 0, "L11 fan ok");
	TAP_EQ(v, 8000, "L11 fan 8000 RPM");
	TAP_EQ(dec(RPW_PMBUS_C_VIN, lin11(0, -6), 0, &v), -ERANGE,
	       "L11 vin -6 V rejected");
	TAP_EQ(dec(RPW_PMBUS_C__MAX, 0, 0, &v), -EINVAL, "bad class");
}

static void test_linear16_edges(void)
{
	s64 v;

	/* VOUT_MODE 0x17: linear, exponent -9; 0x1800 = 12 V */
	TAP_EQ(dec(RPW_PMBUS_C_VOUT, 0x1800, 0x17, &v), 0, "L16 12 V ok");
	TAP_EQ(v, 12000, "L16 12 V = 12000 mV");
	dec(RPW_PMBUS_C_VOUT, 0x1801, 0x17, &v);
	TAP_EQ(v, 12002, "L16 12.00195 V rounds to 12002 mV");
	dec(RPW_PMBUS_C_VOUT, 12, 0x01, &v);
	TAP_EQ(v, 24000, "L16 positive exponent 12*2 V");
	dec(RPW_PMBUS_C_VOUT, 0xfffe, 0x14, &v);
	TAP_EQ(v, 16000, "L16 0xfffe e=-12 -> 15999.51 -> 16000 mV");
	TAP_EQ(rpw_pmbus_linear16_scaled(0xfffe, 0x0f, 1000),
	       65534LL * 32768 * 1000, "L16 max exponent no overflow");
	TAP_EQ(dec(RPW_PMBUS_C_VOUT, 0xfffe, 0x17, &v), -ERANGE,
	       "L16 128 V on a 12 V rail -> -ERANGE");
	TAP_EQ(dec(RPW_PMBUS_C_VOUT, 0x1800, 0x20 | 0x17, &v), -EOPNOTSUPP,
	       "L16 VID mode rejected");
	TAP_EQ(dec(RPW_PMBUS_C_VOUT, 0x1800, 0x40, &v), -EOPNOTSUPP,
	       "L16 direct mode rejected");
	TAP_EQ(dec(RPW_PMBUS_C_VOUT, 0x1800, 0x60, &v), -EOPNOTSUPP,
	       "L16 IEEE half mode rejected");
	TAP_EQ(dec(RPW_PMBUS_C_VOUT, 0x1800, 0xff, &v), -EOPNOTSUPP,
	       "L16 reserved mode 0xff rejected");
	TAP_EQ(dec(RPW_PMBUS_C_VOUT, 0xffff, 0x17, &v), -ENODATA,
	       "L16 0xffff -> -ENODATA");
}

/* Every raw word against the independent reference, at every scale used. */
static void test_exhaustive(void)
{
	static const u32 scales[] = { 1, 1000, 1000000 };
	unsigned int s, raw, mode, bad;

	for (s = 0; s < ARRAY_SIZE(scales); s++) {
		bad = 0;
		for (raw = 0; raw <= 0xffff; raw++) {
			int e = (raw >> 11) & 0x1f, m = raw & 0x7ff;

			if (e > 15)
				e -= 32;
			if (m > 1023)
				m -= 2048;
			if (rpw_pmbus_linear11_scaled(raw, scales[s]) !=
			    ref_scale((long long)m * scales[s], e))
				bad++;
		}
		tap_ok(!bad, "L11 exhaustive scale %u (%u mismatches)",
		       scales[s], bad);
	}
	bad = 0;
	for (mode = 0; mode < 32; mode++) {
		int e = mode > 15 ? (int)mode - 32 : (int)mode;

		for (raw = 0; raw <= 0xffff; raw += 7)
			if (rpw_pmbus_linear16_scaled(raw, mode, 1000) !=
			    ref_scale((long long)raw * 1000, e))
				bad++;
	}
	tap_ok(!bad, "L16 all exponents vs reference (%u mismatches)", bad);
}

static void test_status(void)
{
	struct rpw_pmbus_status st = { 0 };
	u32 f;

	TAP_EQ(rpw_pmbus_status_flags(&st), 0, "clean status -> no flags");
	TAP_EQ(rpw_pmbus_health(0), RPW_PSU_OK, "no flags -> ok");

	st.word = RPW_SW_OFF | RPW_SW_POWER_GOOD_N | RPW_SW_INPUT |
		  RPW_SW_VIN_UV;
	st.input = RPW_SN_VIN_UV_FAULT | RPW_SN_UNIT_OFF_LOW_VIN;
	f = rpw_pmbus_status_flags(&st);
	tap_ok((f & RPW_PSU_F_INPUT_LOST) && (f & RPW_PSU_F_OUTPUT_OFF) &&
	       (f & RPW_PSU_F_PGOOD_BAD), "input loss flags (0x%x)", f);
	TAP_EQ(rpw_pmbus_health(f), RPW_PSU_INPUT_LOST,
	       "input loss wins over output off");

	memset(&st, 0, sizeof(st));
	st.input = RPW_SN_UNIT_OFF_LOW_VIN;
	TAP_EQ(rpw_pmbus_health(rpw_pmbus_status_flags(&st)),
	       RPW_PSU_INPUT_LOST, "unit off for low input alone -> input-lost");

	memset(&st, 0, sizeof(st));
	st.word = RPW_SW_POWER_GOOD_N;
	TAP_EQ(rpw_pmbus_health(rpw_pmbus_status_flags(&st)),
	       RPW_PSU_OUTPUT_OFF, "POWER_GOOD# -> output-off");
	st.word = RPW_SW_OFF;
	TAP_EQ(rpw_pmbus_health(rpw_pmbus_status_flags(&st)),
	       RPW_PSU_OUTPUT_OFF, "OFF -> output-off");

	memset(&st, 0, sizeof(st));
	st.word = RPW_SW_IOUT_POUT | RPW_SW_IOUT_OC;
	st.iout = RPW_SI_OC_FAULT;
	TAP_EQ(rpw_pmbus_health(rpw_pmbus_status_flags(&st)),
	       RPW_PSU_OVERCURRENT, "IOUT OC fault -> overcurrent");
	memset(&st, 0, sizeof(st));
	st.word = RPW_SW_IOUT_OC;	/* detail register unreadable */
	TAP_EQ(rpw_pmbus_health(rpw_pmbus_status_flags(&st)),
	       RPW_PSU_OVERCURRENT, "summary IOUT_OC alone -> overcurrent");
	memset(&st, 0, sizeof(st));
	st.iout = RPW_SI_POUT_OP_FAULT;
	TAP_EQ(rpw_pmbus_health(rpw_pmbus_status_flags(&st)),
	       RPW_PSU_OVERCURRENT, "POUT OP fault -> overcurrent");
	memset(&st, 0, sizeof(st));
	st.input = RPW_SN_IIN_OC_FAULT;
	TAP_EQ(rpw_pmbus_health(rpw_pmbus_status_flags(&st)),
	       RPW_PSU_OVERCURRENT, "IIN OC fault -> overcurrent");
	memset(&st, 0, sizeof(st));
	st.iout = RPW_SI_OC_WARN;
	f = rpw_pmbus_status_flags(&st);
	tap_ok(f == RPW_PSU_F_WARN && rpw_pmbus_health(f) == RPW_PSU_OK,
	       "OC warning -> warn flag, still ok (0x%x)", f);

	memset(&st, 0, sizeof(st));
	st.word = RPW_SW_TEMPERATURE;
	st.temp = RPW_ST_OT_FAULT;
	TAP_EQ(rpw_pmbus_health(rpw_pmbus_status_flags(&st)),
	       RPW_PSU_OVERTEMP, "OT fault -> overtemp");
	st.temp = RPW_ST_OT_WARN;
	TAP_EQ(rpw_pmbus_health(rpw_pmbus_status_flags(&st)), RPW_PSU_OK,
	       "OT warning alone -> ok");

	memset(&st, 0, sizeof(st));
	st.fan = RPW_SF_FAN1_FAULT;
	TAP_EQ(rpw_pmbus_health(rpw_pmbus_status_flags(&st)),
	       RPW_PSU_FAN_FAULT, "fan1 fault -> fan-fault");
	st.fan = RPW_SF_AIRFLOW_FAULT;
	TAP_EQ(rpw_pmbus_health(rpw_pmbus_status_flags(&st)),
	       RPW_PSU_FAN_FAULT, "airflow fault -> fan-fault");

	memset(&st, 0, sizeof(st));
	st.vout = RPW_SV_OV_FAULT;
	TAP_EQ(rpw_pmbus_health(rpw_pmbus_status_flags(&st)),
	       RPW_PSU_OUTPUT_OFF, "VOUT OV fault -> output-off");

	/* severity order when several faults are latched together */
	memset(&st, 0, sizeof(st));
	st.iout = RPW_SI_OC_FAULT;
	st.temp = RPW_ST_OT_FAULT;
	st.fan = RPW_SF_FAN2_FAULT;
	TAP_EQ(rpw_pmbus_health(rpw_pmbus_status_flags(&st)),
	       RPW_PSU_OVERCURRENT, "OC outranks OT and fan");
	st.iout = 0;
	TAP_EQ(rpw_pmbus_health(rpw_pmbus_status_flags(&st)),
	       RPW_PSU_OVERTEMP, "OT outranks fan");

	memset(&st, 0, sizeof(st));
	st.cml = RPW_SC_INVALID_CMD;
	f = rpw_pmbus_status_flags(&st);
	tap_ok(f == RPW_PSU_F_CML && rpw_pmbus_health(f) == RPW_PSU_OK,
	       "CML alone is not a power fault (0x%x)", f);

	tap_ok(!strcmp(rpw_psu_health_name(RPW_PSU_COMM_FAIL), "comm-fail") &&
	       !strcmp(rpw_psu_health_name(RPW_PSU_HEALTH__MAX), "unknown"),
	       "health names");
}

static void test_derate(void)
{
	TAP_EQ(rpw_pmbus_derate_mw(1600000, false, 99000), 1600000,
	       "unknown temperature: no derating");
	TAP_EQ(rpw_pmbus_derate_mw(1600000, true, 45000), 1600000,
	       "45 C: full rating");
	TAP_EQ(rpw_pmbus_derate_mw(1600000, true, 55000), 1200000,
	       "55 C: 75 %");
	TAP_EQ(rpw_pmbus_derate_mw(1600000, true, 84999), 0,
	       "84.999 C: under one permille -> 0");
	TAP_EQ(rpw_pmbus_derate_mw(1600000, true, 85000), 0, "85 C: 0");
	TAP_EQ(rpw_pmbus_derate_mw(0xffffffffu, true, 65000), 2147483647u,
	       "huge rating at 50 % does not overflow");
	TAP_EQ(rpw_pmbus_derate_mw(1600000, true, -40000), 1600000,
	       "cold: full rating");
}

int main(void)
{
	test_linear11_edges();
	test_linear16_edges();
	test_exhaustive();
	test_status();
	test_derate();
	return tap_done();
}
