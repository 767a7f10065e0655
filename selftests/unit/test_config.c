// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host test of rackpwrd's configuration parser (agent/config.c): the
 * defaults, every directive and its range limits, comments and blanks,
 * every kind of error reported with FILE:LINE (all of them in one pass,
 * none stopping the others), duplicates refused, and a file without a
 * final newline or with CRLF line ends.
 */
#include <string.h>

#include "config.h"
#include "tap.h"

static struct rpwc c;
static char errs[4096];

static unsigned int parse(const char *text)
{
	return rpwc_parse("t.conf", text, strlen(text), &c, errs, sizeof(errs));
}

/* @text has exactly one error, at @line, whose message contains @what. */
static void bad(const char *text, unsigned int line, const char *what)
{
	char at[32];
	unsigned int n = parse(text);

	snprintf(at, sizeof(at), "t.conf:%u: ", line);
	tap_ok(n == 1 && !strncmp(errs, at, strlen(at)) && strstr(errs, what),
	       "refused at line %u: %s", line, what);
	if (n != 1 || !strstr(errs, what))
		tap_diag("%u error(s): %s", n, errs);
}

static void test_defaults(void)
{
	tap_ok(parse("") == 0 && c.mode == RPWC_MODE_NN &&
	       c.shed_deadline_ms == 35000 && c.log_level == RPWC_LOG_INFO &&
	       !c.deny_when_full && c.nprio == 0,
	       "empty file: the defaults (n+n, 35 s, queue, info)");
	tap_ok(parse("# only a comment\n\n   \t\n") == 0 && !errs[0],
	       "comments and blank lines");
}

static void test_directives(void)
{
	const char *f =
		"mode n+1   # redundancy\n"
		"shed-deadline 1500ms\n"
		"log-level debug\n"
		"when-full deny\n"
		"prio 32/1 200\n"
		"\tprio 254/7 0\n"
		"prio 1/0 255";	/* no final newline */

	tap_ok(parse(f) == 0 && c.mode == RPWC_MODE_N1 &&
	       c.shed_deadline_ms == 1500 && c.log_level == RPWC_LOG_DEBUG &&
	       c.deny_when_full &&
	       c.nprio == 3 && c.prio[0].chassis == 32 && c.prio[0].slot == 1 &&
	       c.prio[0].prio == 200 && c.prio[1].chassis == 254 &&
	       c.prio[1].slot == 7 && c.prio[1].prio == 0 &&
	       c.prio[2].chassis == 1 && c.prio[2].prio == 255,
	       "every directive, limits of chassis/slot/prio, no final newline");
	tap_ok(parse("mode NONE\r\nshed-deadline 600s\r\n") == 0 &&
	       c.mode == RPWC_MODE_NONE && c.shed_deadline_ms == 600000,
	       "CRLF line ends, mode case-insensitive, 600 s");
	tap_ok(parse("shed-deadline 100\n") == 0 && c.shed_deadline_ms == 100,
	       "a bare number is milliseconds; 100 ms is the minimum");
	tap_ok(parse("mode n+n\n") == 0 && c.mode == RPWC_MODE_NN, "mode n+n");
}

static void test_errors(void)
{
	bad("mode n+2\n", 1, "'n+2' is not n+n, n+1 or none");
	bad("\nmode\n", 2, "mode takes 1 value, not 0");
	bad("mode n+n n+1\n", 1, "mode takes 1 value, not 2");
	bad("mode n+n\nmode n+1\n", 2, "mode is set twice");
	bad("shed-deadline 99ms\n", 1, "out of range");
	bad("shed-deadline 601s\n", 1, "out of range");
	bad("shed-deadline 10m\n", 1, "is not a time");
	bad("shed-deadline s\n", 1, "is not a time");
	bad("shed-deadline -5s\n", 1, "is not a time");
	bad("shed-deadline 99999999999999999999ms\n", 1, "is not a time");
	bad("log-level loud\n", 1, "'loud' is not error");
	bad("when-full drop\n", 1, "'drop' is not queue or deny");
	bad("when-full deny\nwhen-full deny\n", 2, "when-full is set twice");
	bad("prio 32 1\n", 1, "'32' is not CHASSIS/SLOT");
	bad("prio 0/1 5\n", 1, "chassis '0' is not an address 1..254");
	bad("prio 255/1 5\n", 1, "chassis '255' is not an address");
	bad("prio 32/8 5\n", 1, "slot '8' is not 0..7");
	bad("prio 32/x 5\n", 1, "slot 'x' is not 0..7");
	bad("prio 32/1 256\n", 1, "priority '256' is not 0..255");
	bad("prio 32/1 +5\n", 1, "priority '+5' is not 0..255");
	bad("prio 32/1 5\nprio 32/1 6\n", 2, "prio: 32/1 is set twice");
	bad("prio 32/1\n", 1, "prio takes 2 values, not 1");
	bad("prio 32/1 1 2 3\n", 1, "too many values");
	bad("grant everything\n", 1, "unknown directive 'grant'");
	bad("Mode n+n\n", 1, "unknown directive 'Mode'");
}

static void test_all_errors(void)
{
	const char *f = "mode n+3\nlog-level info\nprio 1/9 1\nfoo\n";
	char line[RPWC_MAX_LINE + 20];
	char nul[] = "mode n+n\nmo\0de\n";
	unsigned int n;

	n = parse(f);
	tap_ok(n == 3 && strstr(errs, "t.conf:1: ") &&
	       strstr(errs, "t.conf:3: ") && strstr(errs, "t.conf:4: ") &&
	       !strstr(errs, "t.conf:2: "),
	       "every error of a file in one pass, each with its line");
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = 0;
	tap_ok(rpwc_parse("t.conf", line, strlen(line), &c, errs,
			  sizeof(errs)) == 1 && strstr(errs, "longer than"),
	       "an over-long line is an error");
	tap_ok(rpwc_parse("t.conf", nul, sizeof(nul) - 1, &c, errs,
			  sizeof(errs)) == 1 && strstr(errs, "t.conf:2: NUL"),
	       "a NUL byte is an error");
	/* A tiny buffer: counted, cut, terminated. */
	n = rpwc_parse("t.conf", f, strlen(f), &c, errs, 12);
	tap_ok(n == 3 && strlen(errs) == 11, "errors beyond the buffer are counted, the text cut");
}

int main(void)
{
	test_defaults();
	test_directives();
	test_errors();
	test_all_errors();
	tap_ok(!strcmp(rpwc_mode_name(RPWC_MODE_N1), "n+1") &&
	       rpwc_mode_parse("n+1") == RPWC_MODE_N1 &&
	       !strcmp(rpwc_level_name(RPWC_LOG_WARNING), "warning") &&
	       rpwc_level_parse("x") < 0, "names round-trip");
	return tap_done();
}
