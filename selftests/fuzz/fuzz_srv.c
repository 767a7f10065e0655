// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the server EEPROM record checks (driver/rpw_srv.c):
 * whatever a part holds, parsing never reads past the record, and a record
 * it accepts has 1..65535 W and a terminated printable ident, and encodes
 * back to exactly the bytes it was read from.
 */
#include <stdlib.h>

#include "rpw_srv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rpw_srv_eeprom ee, again;
	char ident[RPW_SRV_IDENT_LEN];
	size_t i, n;
	u32 watts;

	if (size < sizeof(ee))
		return 0;
	memcpy(&ee, data, sizeof(ee));
	if (rpw_srv_ee_parse(&ee, &watts, ident))
		return 0;
	n = strnlen(ident, sizeof(ident));
	if (!watts || watts > 65535 || !n || n == sizeof(ident))
		abort();
	for (i = 0; i < n; i++)
		if (ident[i] < 0x20 || ident[i] > 0x7e)
			abort();
	/* Build writes the reserved byte as 0; otherwise only the CRC has it. */
	if (ee.rsvd)
		return 0;
	rpw_srv_ee_build(&again, watts, ident);
	if (memcmp(&again, &ee, sizeof(ee)))
		abort();
	return 0;
}
