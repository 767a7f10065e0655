// SPDX-License-Identifier: GPL-2.0-only
/*
 * tsc-khz: print the rate of this host's time-stamp counter in kHz.
 *
 * A TCG guest's TSC is the host's (QEMU reads it with rdtsc), and a guest
 * booting while the host is loaded can fail to calibrate it against its
 * emulated PIT; its clock then runs at the wrong rate.  The rig measures
 * the rate here, against CLOCK_MONOTONIC_RAW, and boots the guests with
 * tsc_early_khz= so they do not calibrate at all.
 *
 * Five 40 ms windows; the median is printed.  Exit 1 (nothing printed)
 * when the windows disagree by more than 0.5 %: a guest then calibrates as
 * before rather than take a wrong figure.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <x86intrin.h>

#define WINDOWS		5
#define WINDOW_NS	40000000LL

static int64_t ns_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(void)
{
	double khz[WINDOWS];
	int i;

	for (i = 0; i < WINDOWS; i++) {
		int64_t t0 = ns_now(), t1;
		uint64_t c0 = __rdtsc(), c1;

		do {
			t1 = ns_now();
		} while (t1 - t0 < WINDOW_NS);
		c1 = __rdtsc();
		khz[i] = (double)(c1 - c0) * 1e6 / (double)(t1 - t0);
	}
	qsort(khz, WINDOWS, sizeof(khz[0]), cmp);
	/* A preempted window reads low or high; the middle three must agree. */
	if (khz[3] - khz[1] > khz[2] * 0.005)
		return 1;
	printf("%.0f\n", khz[2]);
	return 0;
}
