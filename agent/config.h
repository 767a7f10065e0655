/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rackpwrd's configuration file: a pure parser (no I/O, no allocation, no
 * globals), so the daemon and the host unit test (selftests/unit/
 * test_config.c) run the same code.  Format (Documentation/admin-guide/
 * rackpwrd.rst): one directive per line, '#' starts a comment, blank lines
 * are ignored, words are separated by blanks:
 *
 *   mode n+n                # n+n (default), n+1 or none
 *   shed-deadline 35s       # 100ms .. 600s, unit ms or s (default 35s)
 *   when-full queue         # queue (default) or deny what does not fit
 *   log-level info          # error, warning, info (default) or debug
 *   prio 32/1 200           # chassis address/slot, priority 0..255
 *
 * mode, shed-deadline, when-full and log-level may appear once each; a
 * prio line once per slot.  The parser reports every error as "FILE:LINE: what" and
 * the caller applies the result only when there was none: a file is
 * taken whole or not at all.
 */
#ifndef _RPW_AGENT_CONFIG_H
#define _RPW_AGENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Redundancy modes, named as rpwp_mode_name() names them ("n+n"...). */
enum rpwc_mode { RPWC_MODE_NN, RPWC_MODE_N1, RPWC_MODE_NONE };

/* Log levels, syslog's numbers (the "<N>" prefix of journal lines). */
enum rpwc_level {
	RPWC_LOG_ERR = 3,
	RPWC_LOG_WARNING = 4,
	RPWC_LOG_INFO = 6,
	RPWC_LOG_DEBUG = 7,
};

#define RPWC_CHASSIS_MIN	1	/* bus addresses of chassis modules */
#define RPWC_CHASSIS_MAX	254
#define RPWC_SLOTS		8	/* slots per chassis */
#define RPWC_MAX_PRIO	((RPWC_CHASSIS_MAX - RPWC_CHASSIS_MIN + 1) * RPWC_SLOTS)
#define RPWC_DEADLINE_MIN_MS	100
#define RPWC_DEADLINE_MAX_MS	600000
/* The kernel's own shed deadline (30 s) and two resends fit in it. */
#define RPWC_DEADLINE_DEF_MS	35000
#define RPWC_MAX_LINE		512	/* longer lines are an error */

struct rpwc_prio {
	uint8_t chassis;	/* bus address, 1..254 */
	uint8_t slot;		/* 0..7 */
	uint8_t prio;		/* the kernel's u8: higher is more important */
};

struct rpwc {
	enum rpwc_mode mode;
	uint32_t shed_deadline_ms;
	bool deny_when_full;		/* when-full deny */
	enum rpwc_level log_level;
	unsigned int nprio;			/* in file order */
	struct rpwc_prio prio[RPWC_MAX_PRIO];
};

/* Without a file: n+n, 35 s, queue, info, no overrides. */
void rpwc_defaults(struct rpwc *c);

/*
 * Parse @len bytes of @text (need not be terminated; a NUL byte is an
 * error) named @file in messages.  @out is filled from the defaults and
 * the file.  Every error is appended to @errs (at most @errlen bytes,
 * always terminated, one "FILE:LINE: what\n" per error; messages that do
 * not fit are counted but cut).  Returns the number of errors: @out is
 * meaningful only when it is 0.
 */
unsigned int rpwc_parse(const char *file, const char *text, size_t len,
			struct rpwc *out, char *errs, size_t errlen);

const char *rpwc_mode_name(enum rpwc_mode m);
/* "n+n", "n+1", "none" (case-insensitive); -1 if none of them. */
int rpwc_mode_parse(const char *s);
const char *rpwc_level_name(enum rpwc_level l);
int rpwc_level_parse(const char *s);

#endif /* _RPW_AGENT_CONFIG_H */
