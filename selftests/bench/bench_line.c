// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench_line - what timing each kind of line would get from its measured
 * echo latency (Documentation/networking/rackpwr-mac.rst, "Timing from the
 * line"), with the real driver code: rpw_mac.c measures, derives the budget
 * and the MAC timing, rpw_elect.c derives the election's timers.
 *
 * For each latency model, two nodes of busim (selftests/sim/busim.c) take
 * turns, node 1 sending acked unicast to node 0 and node 0 broadcasting,
 * ROUNDS times, each on an idle line; the timing they run with is the
 * widest one (the 30 ms budget), so no model is measured into collisions.
 * Node 0's measurement gives the budget L; the table shows the timing
 * rpw_mac_cfg_for_latency() derives for it at 115200 baud (max_addr 64,
 * prio_period 4, as a kernel node), the MAC's documented bounds for it
 * (rpw_mac_urgent_bound_ns(), rpw_mac_access_bound_ns() for N = 8
 * saturated nodes, longest frames with ACKs) and the election's derived
 * J, heartbeat and detection time (rpw_elect_cfg_build(): rack_modules 8,
 * elect_tol_us 5000, rx_lat = L).  The "fixed" row is the "uart" profile
 * every UART node uses today (L = 1 ms, not measured).
 *
 * Model-only: the latency columns are measured on busim's latency model,
 * not on hardware; the other columns are the formulas for that budget.
 * Exit status is non-zero if a budget does not cover its model's latency
 * (spikes aside) or a model gave fewer samples than rounds.
 */

#include <stdio.h>
#include <string.h>

#include "busim.h"
#include "rpw_elect.h"
#include <uapi/linux/rackpwr.h>

#define US		1000ULL
#define MS		1000000ULL
#define BAUD		115200
#define ROUNDS		300
#define MAX_ADDR	64	/* a kernel node's default */
#define BOUND_N		8

struct model {
	const char *name;
	u64 lat, jitter;	/* ns: fixed + uniform 0..jitter per chunk */
	u64 spike;		/* ns added to node 0's receive, 1 round in */
	unsigned int every;	/* ... this many (0: none) */
};

static const struct model models[] = {
	{ "sim bus (exact)", 0, 0, 0, 0 },
	{ "uart 0.1-0.2 ms", 100 * US, 100 * US, 0, 0 },
	{ "uart 0.2-1 ms", 200 * US, 800 * US, 0, 0 },
	{ "usb 2-4 ms", 2 * MS, 2 * MS, 0, 0 },
	{ "usb 2-4 ms +16ms/200", 2 * MS, 2 * MS, 16 * MS, 200 },
	{ "usb 2-4 ms +16ms/50", 2 * MS, 2 * MS, 16 * MS, 50 },
};

static void measure(const struct model *m, struct rpw_mac_lat *out)
{
	struct rpw_mac_cfg cfg[2];
	struct busim_cfg bc = {
		.nodes = 2, .baud = BAUD, .seed = 1,
		.rx_lat_ns = m->lat, .rx_jitter_ns = m->jitter,
	};
	struct busim_hooks h = { 0 };
	struct busim *sim;
	unsigned int i;
	u8 p = 0;

	for (i = 0; i < 2; i++) {
		rpw_mac_cfg_default(&cfg[i], RPW_MAC_PROFILE_UART, i + 1, BAUD);
		cfg[i].max_addr = 2;
		rpw_mac_cfg_for_latency(&cfg[i], RPW_MAC_LAT_CAP_US);
	}
	sim = busim_new(&bc, cfg, &h);
	if (!sim) {
		memset(out, 0, sizeof(*out));
		return;
	}
	for (i = 0; i < ROUNDS; i++) {
		bool spike = m->every && i % m->every == m->every / 2;

		if (spike)
			busim_set_latency(sim, 0, m->lat + m->spike, 0);
		p++;
		busim_send(sim, 1, 1, RPW_T_DATA, RPW_F_ACKREQ, &p, 1);
		busim_send(sim, 0, RPW_ADDR_BCAST, RPW_T_DATA, 0, &p, 1);
		busim_run_until_idle(sim, busim_now(sim) + 5000 * MS);
		if (spike)
			busim_set_latency(sim, 0, m->lat, m->jitter);
		busim_run_until(sim, busim_now(sim) + 200 * MS);
	}
	rpw_mac_latency(busim_mac(sim, 0), out);
	busim_free(sim);
}

static void row(const char *name, const struct rpw_mac_lat *lat, u32 budget)
{
	struct rpw_elect_params p = {
		.role = RACKPWR_ROLE_PSU,
		.rack_modules = 8,
		.tol_us = 5000,
		.rx_lat_ns = (u64)budget * US,
	};
	struct rpw_elect_cfg ec;
	struct rpw_mac_cfg mc;
	const char *why = NULL;
	char l[64] = "       -       -       -";

	rpw_mac_cfg_default(&mc, RPW_MAC_PROFILE_UART, 1, BAUD);
	mc.max_addr = MAX_ADDR;
	mc.prio_period = 4;
	rpw_mac_cfg_for_latency(&mc, budget);
	if (lat)
		snprintf(l, sizeof(l), "%8.2f%8.2f%8.2f",
			 lat->p99_ns / 1e6, lat->win_max_ns / 1e6,
			 lat->max_ns / 1e6);
	printf("%-21s%s%8u%7u%7u%8.1f%8.1f", name, l, budget, mc.t_slot_us,
	       mc.t_ifs_us, rpw_mac_urgent_bound_ns(&mc, p.rx_lat_ns) / 1e6,
	       rpw_mac_access_bound_ns(&mc, BOUND_N, RPW_MAX_WIRE, true,
				       p.rx_lat_ns) / 1e6);
	if (rpw_elect_cfg_build(&ec, &mc, &p, &why))
		printf("  election: %s\n", why);
	else
		printf("%7.1f%7.1f%8.1f\n", ec.bus_delay_ns / 1e6,
		       ec.hb_ns / 1e6, ec.detect_ns / 1e6);
}

int main(void)
{
	struct rpw_mac_lat lat;
	unsigned int i;
	int fail = 0;

	printf("# line bench: %u rounds per model, 115200 baud; latency (ms) "
	       "measured on busim's model (model-only), the rest derived\n",
	       ROUNDS);
	printf("%-21s%8s%8s%8s%8s%7s%7s%8s%8s%7s%7s%8s\n", "model", "p99_ms",
	       "wmax_ms", "max_ms", "L_us", "slot", "ifs", "urg_ms", "acc8_ms",
	       "J_ms", "Th_ms", "det_ms");
	row("fixed uart profile", NULL, 1000);
	for (i = 0; i < ARRAY_SIZE(models); i++) {
		measure(&models[i], &lat);
		row(models[i].name, &lat, lat.budget_us);
		/* The budget must cover the model's latency, spikes aside. */
		if (lat.samples < ROUNDS ||
		    lat.budget_us * US + rpw_mac_char_ns(BAUD) <
		    models[i].lat + models[i].jitter) {
			printf("# FAIL %s: %llu samples, budget %u us\n",
			       models[i].name,
			       (unsigned long long)lat.samples, lat.budget_us);
			fail = 1;
		}
	}
	return fail;
}
