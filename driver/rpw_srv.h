/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rackpwr - a server's hardware as the chassis module sees it: the register
 * map of its communication device and the record in its identity EEPROM,
 * with the record's checks and its encoder (pure logic, shared by the
 * kernel driver, the simulator and the host unit tests).
 */
#ifndef _RPW_SRV_H
#define _RPW_SRV_H

#include "rpw_compat.h"

#define RPW_SRV_SLOTS		8	/* comm device 0x40+n, EEPROM 0x50+n */
#define RPW_SRV_COMM_ADDR	0x40
#define RPW_SRV_EEPROM_ADDR	0x50
#define RPW_SRV_IDENT_LEN	24	/* incl. the terminating NUL */

/*
 * Communication device, 8-bit register pointer, SMBus byte and word
 * access (a word is two consecutive registers, little-endian), and plain
 * I2C reads/writes with auto-increment.  Registers 0x0c..0xff and writes
 * to read-only registers are NACKed, as are reserved bits set in a write.
 */
#define RPW_SRV_REG_ID		0x00	/* RO: RPW_SRV_ID */
#define RPW_SRV_REG_VERSION	0x01	/* RO: RPW_SRV_VERSION */
#define RPW_SRV_REG_STATUS	0x02	/* RO: live state */
#define RPW_SRV_REG_EVENTS	0x03	/* RO, latched, write 1 to clear */
#define RPW_SRV_REG_CONTROL	0x04	/* RW */
#define RPW_SRV_REG_RSVD	0x05	/* RO: 0 */
#define RPW_SRV_REG_LOWER_W	0x06	/* RO le16: W needed while lowered */
#define RPW_SRV_REG_GRANT_ID	0x08	/* RW le32 scratch, 0x08..0x0b */
#define RPW_SRV_NR_REGS		0x0c

#define RPW_SRV_ID		0x52	/* 'R' */
#define RPW_SRV_VERSION		0x01

/* STATUS */
#define RPW_SRV_ST_PSTATE	0x03	/* enum rpw_srv_pstate; 3 = invalid */
#define RPW_SRV_ST_ENABLED	0x04	/* CONTROL.POWER_EN as the device has it */
#define RPW_SRV_ST_SHUTDOWN	0x08	/* an orderly shutdown is pending */
#define RPW_SRV_ST_RSVD		0xf0

/* EVENTS: latched until written back as 1 */
#define RPW_SRV_EVT_INSERTED	0x01	/* the device powered up (insertion) */
#define RPW_SRV_EVT_BUTTON	0x02	/* front-panel power button */
#define RPW_SRV_EVT_LAN_WAKE	0x04	/* wake-on-LAN packet */
#define RPW_SRV_EVT_WAKE	0x08	/* wake from sleep (RTC, keyboard...) */
#define RPW_SRV_EVT_SLEEP	0x10	/* the server entered sleep */
#define RPW_SRV_EVT_OFF		0x20	/* orderly shutdown done: it is off */
#define RPW_SRV_EVT_LOWER	0x40	/* needs LOWER_W watts from now on */
#define RPW_SRV_EVT_RSVD	0x80

/* CONTROL */
#define RPW_SRV_CTL_POWER_EN	0x01	/* the server may draw power */
#define RPW_SRV_CTL_SHUTDOWN	0x02	/* request an orderly shutdown;
					 * reads 1 until the server is off
					 */
#define RPW_SRV_CTL_RSVD	0xfc

enum rpw_srv_pstate {
	RPW_SRV_PS_OFF,
	RPW_SRV_PS_ON,
	RPW_SRV_PS_SLEEP,
};

/* A STATUS byte no sane device reports: reserved bits or state 3. */
static inline bool rpw_srv_status_bad(u8 st)
{
	return (st & RPW_SRV_ST_RSVD) ||
	       (st & RPW_SRV_ST_PSTATE) > RPW_SRV_PS_SLEEP;
}

/*
 * EEPROM (24c02 or larger) at offset 0, all little-endian.  Valid when the
 * magic and version match, crc is the CRC-16 of the 32 bytes before it (the
 * frame check of the bus: crc_ccitt(0xffff, ...) ^ 0xffff), watts is not
 * 0 and ident holds 1..23 printable ASCII characters followed only by NULs.
 */
#define RPW_SRV_EE_MAGIC	"RPWS"
#define RPW_SRV_EE_VERSION	1

struct rpw_srv_eeprom {
	u8 magic[4];			/* RPW_SRV_EE_MAGIC, no NUL */
	u8 version;			/* RPW_SRV_EE_VERSION */
	u8 rsvd;			/* 0 */
	__le16 watts;			/* W at full power, 1..65535 */
	char ident[RPW_SRV_IDENT_LEN];	/* model/serial, NUL-padded */
	__le16 crc;
} __packed;
static_assert(sizeof(struct rpw_srv_eeprom) == 34);

/*
 * Check @ee: NULL when it is a valid record (then *@watts and @ident, of
 * RPW_SRV_IDENT_LEN bytes, are filled in), else why not, as a constant
 * string for one log line (the first check that failed, in the order of
 * the comment above).
 */
const char *rpw_srv_ee_parse(const struct rpw_srv_eeprom *ee, u32 *watts,
			     char *ident);

/*
 * Encode a valid record of @watts and @ident (the first 23 characters of
 * it are stored, unchecked: the simulator writes what it is told).
 */
void rpw_srv_ee_build(struct rpw_srv_eeprom *ee, u16 watts,
		      const char *ident);

#endif /* _RPW_SRV_H */
