/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Minimal TAP 13 helpers for the host unit tests of the pure protocol code.
 * Each test program prints "1..N" up front (or tap_done() prints it last)
 * and exits non-zero when any check failed.
 */
#ifndef _RPW_TAP_H
#define _RPW_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_n, tap_failed;

static inline void tap_plan(int n)
{
	printf("TAP version 13\n1..%d\n", n);
}

static inline __attribute__((format(printf, 2, 3)))
int tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!cond)
		tap_failed++;
	return cond;
}

static inline __attribute__((format(printf, 1, 2)))
void tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* Use when the plan was not printed up front. */
static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	fflush(stdout);
	return tap_failed ? 1 : 0;
}

static inline int tap_exit(void)
{
	fflush(stdout);
	return tap_failed ? 1 : 0;
}

#define TAP_EQ(a, b, what) \
	tap_ok((long long)(a) == (long long)(b), "%s (%lld == %lld)", what, \
	       (long long)(a), (long long)(b))

#endif /* _RPW_TAP_H */
