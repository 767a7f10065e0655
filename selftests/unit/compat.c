// SPDX-License-Identifier: GPL-2.0-only
/*
 * User-space stand-ins for the few kernel library helpers the pure protocol
 * code uses.  Written bit by bit rather than with a table: slower, but an
 * independent implementation of the same CRC, so a table typo in either one
 * would show up as a test failure.
 */
#include "rpw_compat.h"

/*
 * CRC-CCITT as lib/crc-ccitt.c computes it: reflected polynomial 0x8408
 * (x^16 + x^12 + x^5 + 1), LSB first, no implicit init or final xor.
 */
u16 crc_ccitt(u16 crc, const u8 *buffer, size_t len)
{
	size_t i;
	int bit;

	for (i = 0; i < len; i++) {
		crc ^= buffer[i];
		for (bit = 0; bit < 8; bit++)
			crc = (crc & 1) ? (crc >> 1) ^ 0x8408 : crc >> 1;
	}
	return crc;
}
