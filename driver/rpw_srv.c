// SPDX-License-Identifier: GPL-2.0-only
/*
 * rackpwr - the server's identity EEPROM record: checks and encoder.
 *
 * Pure logic: no allocation, no sleeping, no clocks.  The kernel driver
 * checks what at24 read with it, the simulator writes its parts with it,
 * the host unit tests run both.
 */
#include "rpw_srv.h"

#define RPW_SRV_EE_CRC_LEN	offsetof(struct rpw_srv_eeprom, crc)

static u16 rpw_srv_ee_crc(const struct rpw_srv_eeprom *ee)
{
	return crc_ccitt(0xffff, (const u8 *)ee, RPW_SRV_EE_CRC_LEN) ^ 0xffff;
}

static const char *rpw_srv_ident_check(const char *id)
{
	size_t i, n = strnlen(id, RPW_SRV_IDENT_LEN);

	if (!n || n == RPW_SRV_IDENT_LEN)
		return "ident empty or not terminated";
	for (i = 0; i < RPW_SRV_IDENT_LEN; i++) {
		if (i < n ? (id[i] < 0x20 || id[i] > 0x7e) : id[i])
			return "ident not printable ASCII";
	}
	return NULL;
}

const char *rpw_srv_ee_parse(const struct rpw_srv_eeprom *ee, u32 *watts,
			     char *ident)
{
	const char *why;

	if (memcmp(ee->magic, RPW_SRV_EE_MAGIC, sizeof(ee->magic)))
		return "bad magic (blank or not a rackpwr server record)";
	if (ee->version != RPW_SRV_EE_VERSION)
		return "unknown record version";
	if (le16_to_cpu(ee->crc) != rpw_srv_ee_crc(ee))
		return "bad checksum";
	if (!le16_to_cpu(ee->watts))
		return "watts is 0";
	why = rpw_srv_ident_check(ee->ident);
	if (why)
		return why;
	*watts = le16_to_cpu(ee->watts);
	memcpy(ident, ee->ident, RPW_SRV_IDENT_LEN);
	return NULL;
}

void rpw_srv_ee_build(struct rpw_srv_eeprom *ee, u16 watts,
		      const char *ident)
{
	size_t n = strnlen(ident, RPW_SRV_IDENT_LEN - 1);

	memset(ee, 0, sizeof(*ee));
	memcpy(ee->magic, RPW_SRV_EE_MAGIC, sizeof(ee->magic));
	ee->version = RPW_SRV_EE_VERSION;
	ee->watts = cpu_to_le16(watts);
	memcpy(ee->ident, ident, n);
	ee->crc = cpu_to_le16(rpw_srv_ee_crc(ee));
}
