// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for driver/rpw_srv.c, the server's identity EEPROM record:
 * the CRC against the frame check's known value and an independent
 * bitwise reference, encode/parse round trips at the limits, every
 * refusal with its reason, every single-bit error and every byte of a
 * blank or zeroed part refused.
 */
#include <stdio.h>

#include "rpw_srv.h"
#include "tap.h"

/* Independent reference: CRC-16/X-25 bit by bit (reflected 0x1021). */
static u16 ref_crc(const u8 *p, size_t n)
{
	u16 crc = 0xffff;
	int b;

	while (n--) {
		crc ^= *p++;
		for (b = 0; b < 8; b++)
			crc = (crc & 1) ? (crc >> 1) ^ 0x8408 : crc >> 1;
	}
	return crc ^ 0xffff;
}

static const char *parse(const struct rpw_srv_eeprom *ee, u32 *w, char *id)
{
	*w = 0x5a5a5a5a;
	memset(id, 0x5a, RPW_SRV_IDENT_LEN);
	return rpw_srv_ee_parse(ee, w, id);
}

/* Re-seal @ee after an edit, so only the edited field can be wrong. */
static void reseal(struct rpw_srv_eeprom *ee)
{
	ee->crc = cpu_to_le16(ref_crc((const u8 *)ee, 32));
}

static void test_crc(void)
{
	struct rpw_srv_eeprom ee;

	/* The frame check of the bus: "123456789" -> 0x906e. */
	tap_ok(ref_crc((const u8 *)"123456789", 9) == 0x906e,
	       "reference CRC of 123456789 is 0x906e");
	rpw_srv_ee_build(&ee, 750, "RX-1 SN 0042");
	tap_ok(le16_to_cpu(ee.crc) == ref_crc((const u8 *)&ee, 32),
	       "built record's CRC matches the reference over bytes 0..31");
	tap_ok(!memcmp(ee.magic, "RPWS", 4) && ee.version == 1 && !ee.rsvd &&
	       le16_to_cpu(ee.watts) == 750,
	       "magic RPWS, version 1, reserved 0, watts le16");
}

static void test_roundtrip(void)
{
	static const struct { u16 w; const char *id; } c[] = {
		{ 1, "A" },
		{ 65535, "ABCDEFGHIJKLMNOPQRSTUVW" },	/* 23 characters */
		{ 400, " ~ space and tilde ~ " },
	};
	struct rpw_srv_eeprom ee;
	char id[RPW_SRV_IDENT_LEN];
	const char *why;
	unsigned int i;
	u32 w;

	for (i = 0; i < ARRAY_SIZE(c); i++) {
		rpw_srv_ee_build(&ee, c[i].w, c[i].id);
		why = parse(&ee, &w, id);
		tap_ok(!why && w == c[i].w && !strcmp(id, c[i].id),
		       "round trip %u W '%s' (%s)", c[i].w, c[i].id,
		       why ? why : "valid");
	}
	rpw_srv_ee_build(&ee, 5, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
	why = parse(&ee, &w, id);
	tap_ok(!why && !strcmp(id, "ABCDEFGHIJKLMNOPQRSTUVW"),
	       "a longer ident is cut to 23 characters");
}

static void refused(const struct rpw_srv_eeprom *ee, const char *want,
		    const char *what)
{
	char id[RPW_SRV_IDENT_LEN], idl[RPW_SRV_IDENT_LEN];
	const char *why;
	u32 w;

	why = parse(ee, &w, id);
	memset(idl, 0x5a, sizeof(idl));
	tap_ok(why && strstr(why, want) && w == 0x5a5a5a5a &&
	       !memcmp(id, idl, sizeof(id)),
	       "%s: refused as '%s' (%s), outputs untouched", what, want,
	       why ? why : "accepted");
}

static void test_refusals(void)
{
	struct rpw_srv_eeprom ee, ok;

	rpw_srv_ee_build(&ok, 600, "SIM-SRV2");
	ee = ok;
	ee.magic[3] = 'X';
	reseal(&ee);
	refused(&ee, "bad magic", "magic RPWX");
	ee = ok;
	ee.version = 2;
	reseal(&ee);
	refused(&ee, "unknown record version", "version 2");
	ee = ok;
	ee.crc ^= cpu_to_le16(0x0100);
	refused(&ee, "bad checksum", "CRC off by one bit");
	ee = ok;
	ee.watts = 0;
	reseal(&ee);
	refused(&ee, "watts is 0", "0 W");
	ee = ok;
	memset(ee.ident, 0, sizeof(ee.ident));
	reseal(&ee);
	refused(&ee, "ident empty", "empty ident");
	ee = ok;
	memset(ee.ident, 'A', sizeof(ee.ident));
	reseal(&ee);
	refused(&ee, "not terminated", "24 characters, no NUL");
	ee = ok;
	ee.ident[3] = 0x07;
	reseal(&ee);
	refused(&ee, "not printable", "control character");
	ee = ok;
	ee.ident[3] = (char)0xe9;
	reseal(&ee);
	refused(&ee, "not printable", "byte 0xe9");
	ee = ok;
	ee.ident[20] = 'x';		/* after the NUL at 8 */
	reseal(&ee);
	refused(&ee, "not printable", "text after the NUL");
	ee = ok;
	ee.rsvd = 1;			/* covered by the CRC only */
	refused(&ee, "bad checksum", "reserved byte changed");
	memset(&ee, 0xff, sizeof(ee));
	refused(&ee, "bad magic", "blank part (0xff)");
	memset(&ee, 0, sizeof(ee));
	refused(&ee, "bad magic", "zeroed part");
}

/* CRC-16 finds every single-bit error; nothing else may pass either. */
static void test_bitflips(void)
{
	struct rpw_srv_eeprom ok, ee;
	char id[RPW_SRV_IDENT_LEN];
	unsigned int bit, passed = 0;
	u32 w;

	rpw_srv_ee_build(&ok, 1100, "SIM-SRV7");
	for (bit = 0; bit < 8 * sizeof(ee); bit++) {
		ee = ok;
		((u8 *)&ee)[bit / 8] ^= 1 << (bit % 8);
		passed += !parse(&ee, &w, id);
	}
	tap_ok(!passed, "all %zu single-bit errors refused (%u accepted)",
	       8 * sizeof(ee), passed);
}

int main(void)
{
	test_crc();
	test_roundtrip();
	test_refusals();
	test_bitflips();
	return tap_done();
}
