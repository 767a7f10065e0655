// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every default and derived timer the documentation states, computed by the
 * real pure sources (driver/rpw_mac.c, rpw_elect.c), one "key value" line
 * each, the value formatted as the documents write it.  scripts/doc-check.sh
 * compares the marked values and tables in Documentation/ with this output.
 *
 * Kernel-side constants (RPW_DEFAULT_MAX_ADDR, RPW_DEFAULT_PRIO_PERIOD, the
 * rack_modules and elect_tol_us module parameter defaults) are extracted
 * from driver/rackpwr.h and driver/core.c by the Makefile and passed in as
 * -D flags, so they cannot drift either.
 *
 *   make -C selftests/doc run          # all keys
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpw_alloc.h"
#include "rpw_compat.h"
#include "rpw_auth.h"
#include "rpw_elect.h"
#include "rpw_mac.h"
#include "policy.h"

#ifndef KERNEL_MAX_ADDR
#error "KERNEL_MAX_ADDR: build with make -C selftests/doc"
#endif

#define US	1000ULL
#define MS	1000000ULL
#define SEC	1000000000ULL

static void kv(const char *key, const char *fmt, ...)
{
	va_list ap;

	printf("%s ", key);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* "@pfx.@name value" */
static void kvp(const char *pfx, const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("%s.%s ", pfx, name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* Milliseconds with @d decimals, as the documents write them. */
static void kv_ms(const char *key, u64 ns, int d)
{
	kv(key, "%.*f", d, ns / 1e6);
}

static const char *prof_name(enum rpw_mac_profile p)
{
	return p == RPW_MAC_PROFILE_UART ? "uart" : "sim";
}

/* A new kernel node: rpw_node_create() / rpw_node_setup_default(). */
static void node_mac_cfg(struct rpw_mac_cfg *c, enum rpw_mac_profile p,
			 u32 baud, u8 prio)
{
	rpw_mac_cfg_default(c, p, RPW_ADDR_MIN, baud);
	c->max_addr = KERNEL_MAX_ADDR;
	c->prio_period = prio;
}

/* MIRROR of rpw_node_send_timeout() in driver/core.c, in ns. */
static u64 mirror_send_timeout(const struct rpw_mac_cfg *cfg, unsigned int n)
{
	u64 ns, sweep;
	u32 slots;

	ns = rpw_mac_access_bound_ns(cfg, max_t(unsigned int, n, 2),
				     RPW_MAX_WIRE, true, MS);
	slots = cfg->max_addr;
	if (cfg->prio_period)
		slots += slots / cfg->prio_period + 1;
	sweep = (cfg->t_ifs_us + (u64)slots * cfg->t_slot_us) * US;
	ns = (ns + (u64)cfg->ack_timeout_us * US + sweep) *
	     (cfg->max_retries + 1) + 2 * sweep + SEC;
	return min_t(u64, ns, 60 * SEC);
}

/* A new psu node's election configuration, as the kernel derives it. */
static int node_elect(struct rpw_elect_cfg *ec, u32 baud, u8 prio,
		      unsigned int rm, u64 tol_us, u32 hb_us, const char **why)
{
	struct rpw_mac_cfg mc;
	const struct rpw_elect_params p = {
		.role = RACKPWR_ROLE_PSU,
		.hb_us = hb_us,
		.rack_modules = rm,
		.tol_us = tol_us,
		.rx_lat_ns = MS,	/* the UART profile's latency budget */
	};

	node_mac_cfg(&mc, RPW_MAC_PROFILE_UART, baud, prio);
	return rpw_elect_cfg_build(ec, &mc, &p, why);
}

/*
 * The default heartbeat without its quarter-of-the-line term, the way
 * rackpwr-election.rst "Deriving the timers" writes the formula.
 */
static u64 hb_without_line_term(const struct rpw_elect_cfg *ec)
{
	u64 beat = (ec->bus_delay_ns + (ec->bus_delay_ns >> 5) +
		    ec->frame_ns + ec->tol_ns + 2 * MS) / ec->miss + 2 * MS;

	return max_t(u64, 16 * MS, beat);
}

/* The derived timers of @ec under @pfx, in ms (1 decimal) and in us. */
static void elect_timers(const char *pfx, const struct rpw_elect_cfg *ec)
{
	static const char * const names[] = {
		"J", "T_h", "T_det", "T_lease", "G", "W", "T_initial", "member",
	};
	const u64 v[] = {
		ec->bus_delay_ns, ec->hb_ns, ec->detect_ns, ec->lease_ns,
		ec->guard_ns, ec->slot_ns, ec->initial_ns, ec->member_ns,
	};
	char key[128];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		snprintf(key, sizeof(key), "%s.%s_ms", pfx, names[i]);
		kv_ms(key, v[i], 1);
		snprintf(key, sizeof(key), "%s.%s_us", pfx, names[i]);
		kv(key, "%llu", (unsigned long long)(v[i] / US));
	}
}

static void mac_values(void)
{
	static const u32 bauds[] = {
		9600, 19200, 38400, 57600, 115200, 230400,
	};
	static const unsigned int sizes[] = { 2, 8, 16, 60 };
	/* bench_mac's frames: 16-byte payloads, every byte escaped */
	const unsigned int bench_chars = 2 + 2 * (RPW_HDR_LEN + 16 +
						  RPW_FCS_LEN);
	struct rpw_mac_cfg c;
	char key[128];
	size_t i;
	int p;

	kv("mac.t_char_us", "%.3f", rpw_mac_char_ns(115200) / 1e3);
	for (p = RPW_MAC_PROFILE_SIM; p <= RPW_MAC_PROFILE_UART; p++) {
		char pfx[32];

		snprintf(pfx, sizeof(pfx), "mac.%s", prof_name(p));
		rpw_mac_cfg_default(&c, p, 1, 115200);
		kvp(pfx, "t_slot_us", "%u", c.t_slot_us);
		kvp(pfx, "t_ifs_us", "%u", c.t_ifs_us);
		kvp(pfx, "t_turn_us", "%u", c.t_turnaround_us);
		kvp(pfx, "ack_timeout_us", "%u", c.ack_timeout_us);
		kvp(pfx, "t_peer_s", "%u", c.peer_timeout_us / 1000000);
		kvp(pfx, "max_retries", "%u", c.max_retries);
		kvp(pfx, "max_collisions", "%u", c.max_collisions);
		kvp(pfx, "max_addr", "%u", c.max_addr);
		kvp(pfx, "prio_period", "%u", c.prio_period);
		kvp(pfx, "max_info_frames", "%u", c.max_info_frames);
		kvp(pfx, "max_queue", "%u", c.max_queue);
		/* the "uart" profile is designed for 1 ms of rx latency */
		kvp(pfx, "urgent_bound_ms", "%.1f",
		    rpw_mac_urgent_bound_ns(&c, p ? MS : 0) / 1e6);
		for (i = 0; i < ARRAY_SIZE(bauds); i++) {
			struct rpw_mac_cfg b;
			char bpfx[48];

			rpw_mac_cfg_default(&b, p, 1, bauds[i]);
			snprintf(bpfx, sizeof(bpfx), "%s.%u", pfx, bauds[i]);
			kvp(bpfx, "t_ifs_us", "%u", b.t_ifs_us);
			kvp(bpfx, "t_slot_us", "%u", b.t_slot_us);
			kvp(bpfx, "t_turn_us", "%u", b.t_turnaround_us);
			kvp(bpfx, "ack_timeout_us", "%u", b.ack_timeout_us);
		}
	}
	/* D_max as the MAC bench computes it: 16-byte payloads, ACKs */
	rpw_mac_cfg_default(&c, RPW_MAC_PROFILE_SIM, 1, 115200);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		u64 b = rpw_mac_access_bound_ns(&c, sizes[i], bench_chars,
						true, 0);

		snprintf(key, sizeof(key), "mac.sim.access_bound_ms.%u",
			 sizes[i]);
		kv(key, "%.2f", b / 1e6);
	}
}

static void node_values(void)
{
	static const unsigned int heard[] = { 2, 3, 9 };
	static const unsigned int rms[] = { 4, 8, 12, 61 };
	static const u32 slow[] = { 9600, 4800, 2400, 1200 };
	struct rpw_elect_cfg ec;
	struct rpw_mac_cfg c;
	const char *why;
	char key[128];
	unsigned int rm, lo, hi, mid;
	size_t i;
	int t;

	node_mac_cfg(&c, RPW_MAC_PROFILE_UART, 115200, KERNEL_PRIO_PERIOD);
	kv("node.max_addr", "%u", c.max_addr);
	kv("node.prio_period", "%u", c.prio_period);
	kv("node.rack_modules", "%u", KERNEL_RACK_MODULES);
	kv("node.elect_tol_us", "%u", KERNEL_ELECT_TOL_US);
	kv("node.max_retries", "%u", c.max_retries);
	kv("node.max_queue", "%u", c.max_queue);
	/* a sweep of max_addr slots, and of every address */
	kv("node.sweep_s", "%.2f", c.max_addr * (u64)c.t_slot_us / 1e6);
	kv("node.sweep_all_s", "%.2f", RPW_ADDR_MAX * (u64)c.t_slot_us / 1e6);
	/* access-bound-us: maximum-size frames, ACKs, no extra latency */
	for (i = 0; i < ARRAY_SIZE(heard); i++) {
		u64 b = rpw_mac_access_bound_ns(&c, heard[i], RPW_MAX_WIRE,
						true, 0);

		snprintf(key, sizeof(key), "node.access_bound_ms.%u", heard[i]);
		kv(key, "%.1f", b / 1e6);
		snprintf(key, sizeof(key), "node.send_timeout_s.%u", heard[i]);
		kv(key, "%.1f", mirror_send_timeout(&c, heard[i]) / 1e9);
		snprintf(key, sizeof(key), "node.send_timeout_s2.%u",
			 heard[i]);
		kv(key, "%.2f", mirror_send_timeout(&c, heard[i]) / 1e9);
	}

	/* The election timers of a new psu node, as the kernel derives them */
	kv("node.elect.T_f_ms", "%.2f",
	   rpw_mac_char_ns(115200) * (RPW_HDR_LEN + 6 + RPW_FCS_LEN + 4) / 1e6);
	if (node_elect(&ec, 115200, KERNEL_PRIO_PERIOD, KERNEL_RACK_MODULES,
		       KERNEL_ELECT_TOL_US, 0, &why))
		kv("node.elect.error", "%s", why);
	elect_timers("node.elect", &ec);
	kv("node.elect.miss", "%u", ec.miss);
	kv_ms("node.elect.T_h_nofloor_ms", hb_without_line_term(&ec), 1);
	/* The smallest explicit heartbeat the defaults accept (1 us steps) */
	lo = 1000;
	hi = 10000000;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (node_elect(&ec, 115200, KERNEL_PRIO_PERIOD,
			       KERNEL_RACK_MODULES, KERNEL_ELECT_TOL_US, mid, &why))
			lo = mid + 1;
		else
			hi = mid;
	}
	kv_ms("node.elect.hb_min_ms", lo * US, 1);
	node_elect(&ec, 115200, KERNEL_PRIO_PERIOD, KERNEL_RACK_MODULES,
		   KERNEL_ELECT_TOL_US, lo - 1000, &why);
	kv("node.elect.hb_low_refused_why", "%s", why ? why : "(accepted)");
	for (i = 0; i < 2; i++) {
		u32 hb = i ? 20000 : 60000;

		snprintf(key, sizeof(key), "node.elect.hb_%u", hb);
		kv(key, "%s", node_elect(&ec, 115200, KERNEL_PRIO_PERIOD,
					 KERNEL_RACK_MODULES,
					 KERNEL_ELECT_TOL_US, hb, &why) ?
		   "refused" : "accepted");
	}

	/* prio-period 0: every timer grows with rack_modules and the sweep */
	node_elect(&ec, 115200, 0, KERNEL_RACK_MODULES, KERNEL_ELECT_TOL_US, 0, &why);
	elect_timers("node.elect.p0", &ec);
	kv("node.elect.p0.J_s", "%.1f", ec.bus_delay_ns / 1e9);
	for (t = 0; t < 2; t++)
		for (i = 0; i < ARRAY_SIZE(rms); i++) {
			u64 tol = t ? 20000 : 5000;

			snprintf(key, sizeof(key), "node.elect.p0.rm%u.tol%llu",
				 rms[i], (unsigned long long)(tol / 1000));
			if (node_elect(&ec, 115200, 0, rms[i], tol, 0,
				       &why))
				kv(key, "error %s", why);
			else
				elect_timers(key, &ec);
		}
	/* Convergence bounds as the VM tests load the module (tol 20 ms) */
	for (i = 0; i < 3; i++) {
		static const unsigned int npsu[] = { 2, 6, 30 };

		node_elect(&ec, 115200, KERNEL_PRIO_PERIOD,
			   KERNEL_RACK_MODULES, 20000, 0, &why);
		snprintf(key, sizeof(key), "node.elect.tol20.converge_s.%u",
			 npsu[i]);
		kv(key, "%.1f", rpw_elect_converge_bound(&ec, npsu[i]) / 1e9);
	}
	/* prio-period 0: the sweep J includes, and J's growth per module */
	kv("node.elect.p0.sweep_ms", "%.1f",
	   (c.max_addr + 1) * (u64)c.t_slot_us / 1e3);
	{
		struct rpw_elect_cfg a, b;

		node_elect(&a, 115200, 0, 8, KERNEL_ELECT_TOL_US, 0,
			   &why);
		node_elect(&b, 115200, 0, 12, KERNEL_ELECT_TOL_US, 0,
			   &why);
		kv("node.elect.p0.J_per_module_ms", "%.0f",
		   (b.bus_delay_ns - a.bus_delay_ns) / 4 / 1e6);
	}
	/* The first rack_modules refused ("bus timing out of range") */
	for (i = 0; i < ARRAY_SIZE(slow); i++) {
		snprintf(key, sizeof(key), "node.elect.p0.rm_refused.%u",
			 slow[i]);
		for (rm = 2; rm <= RPW_ADDR_MAX; rm++)
			if (node_elect(&ec, slow[i], 0, rm,
				       KERNEL_ELECT_TOL_US, 0, &why))
				break;
		if (rm <= RPW_ADDR_MAX)
			kv(key, "%u", rm);
		else
			kv(key, "none");
	}
	/* With urgent access, every rate the policy allows must work */
	for (i = 0; i < ARRAY_SIZE(slow); i++)
		if (node_elect(&ec, slow[i], KERNEL_PRIO_PERIOD,
			       KERNEL_RACK_MODULES, KERNEL_ELECT_TOL_US, 0, &why))
			break;
	kv("node.elect.urgent_all_rates", "%s",
	   i == ARRAY_SIZE(slow) ? "ok" : why);
}

static void elect_values(void)
{
	struct rpw_elect_cfg ec;
	struct rpw_mac_cfg mc;

	/* The pure defaults (rpw_elect_cfg_default(), elect_sim bench) */
	rpw_elect_cfg_default(&ec, 1, RACKPWR_ROLE_PSU);
	kv_ms("elect.J_ms", ec.bus_delay_ns, 0);
	kv_ms("elect.T_f_ms", ec.frame_ns, 3);
	kv_ms("elect.tol_ms", ec.tol_ns, 0);
	kv("elect.rho_ppm", "%u", ec.drift_ppm);
	kv_ms("elect.T_h_ms", ec.hb_ns, 0);
	kv("elect.k", "%u", ec.miss);
	kv_ms("elect.member_ms", ec.member_ns, 0);
	kv_ms("elect.T_det_ms", ec.detect_ns, 2);
	kv_ms("elect.T_lease_ms", ec.lease_ns, 2);
	kv_ms("elect.G_ms", ec.guard_ns, 2);
	kv_ms("elect.W_ms", ec.slot_ns, 2);
	kv_ms("elect.T_initial_ms", ec.initial_ns, 2);
	/* the worst-case failover after the primary's death */
	kv_ms("elect.failover_bound_ms",
	      ec.detect_ns + 2 * (ec.bus_delay_ns + ec.frame_ns), 0);
	kv("elect.bus_share_pct", "%.0f", 200.0 * ec.frame_ns / ec.hb_ns);
	kv("elect.converge_s.6", "%.1f",
	   rpw_elect_converge_bound(&ec, 6) / 1e9);
	/* elect_sim --bench --j-urgent: J from the exact-timing bound */
	rpw_mac_cfg_default(&mc, RPW_MAC_PROFILE_SIM, 1, 115200);
	ec.bus_delay_ns = rpw_mac_urgent_bound_ns(&mc, 0);
	ec.detect_ns = 0;
	ec.lease_ns = 0;
	ec.guard_ns = 0;
	ec.slot_ns = 0;
	ec.initial_ns = 0;
	rpw_elect_cfg_derive(&ec);
	kv_ms("elect.urgent.J_ms", ec.bus_delay_ns, 1);
	kv_ms("elect.urgent.T_det_ms", ec.detect_ns, 1);
}

/* A tag of zeros: the wire size of a sealed frame without escapes. */
static int zero_mac(void *ctx, unsigned int slot, const u8 *msg, size_t len,
		    u8 *tag)
{
	(void)ctx;
	(void)slot;
	(void)msg;
	(void)len;
	memset(tag, 0, RPW_AUTH_TAG_LEN);
	return 0;
}

/*
 * Line time of each frame the protocols send, plain and authenticated:
 * rpw_frame_encode() of a payload of zeros (no escapes), sealed by the
 * real rpw_auth_seal(), at 115200 baud.
 */
static void auth_values(void)
{
	static const struct { u8 type; u8 len; const char *name; } t[] = {
		{ RPW_T_ACK, 0, "ack" },
		{ RPW_T_HEARTBEAT, RPW_LEN_CLAIM, "heartbeat" },
		{ RPW_T_HEARTBEAT_ACK, RPW_LEN_EPOCH, "heartbeat_ack" },
		{ RPW_T_CAP_REPORT, RPW_CAP_REPORT_LEN, "cap_report" },
		{ RPW_T_PWR_REQUEST, RPW_PWR_HDR_LEN + 8, "pwr_request" },
		{ RPW_T_PWR_ANSWER, RPW_PWR_HDR_LEN + 10, "pwr_answer" },
	};
	u64 tc = rpw_mac_char_ns(115200);
	u8 buf[RPW_MAX_WIRE];
	struct rpw_auth a;
	char key[64];
	unsigned int i;

	kv("auth.trailer_bytes", "%d", RPW_AUTH_TRAILER_LEN);
	kv("auth.max_payload", "%d", RPW_AUTH_MAX_PAYLOAD);
	rpw_auth_init(&a, zero_mac, NULL);
	rpw_auth_key_installed(&a, 0, 1);
	rpw_auth_set_mode(&a, RPW_AUTH_REQUIRED);
	for (i = 0; i < ARRAY_SIZE(t); i++) {
		struct rpw_frame f = { .version = RPW_PROTO_VERSION };
		int plain, sealed;

		f.type = t[i].type;
		f.dst = 2;
		f.src = 1;
		f.len = t[i].len;
		plain = rpw_frame_encode(&f, buf, sizeof(buf));
		if (rpw_auth_seal(&a, &f))
			exit(1);
		sealed = rpw_frame_encode(&f, buf, sizeof(buf));
		if (plain < 0 || sealed < 0)
			exit(1);
		snprintf(key, sizeof(key), "auth.%s", t[i].name);
		kvp(key, "chars_plain", "%d", plain);
		kvp(key, "chars_auth", "%d", sealed);
		kvp(key, "ms_plain", "%.2f", plain * tc / 1e6);
		kvp(key, "ms_auth", "%.2f", sealed * tc / 1e6);
	}
}

/* Power allocation timing and defaults (rpw_alloc.c). */
static void alloc_values(void)
{
	struct rpw_alloc_timing t;

	rpw_alloc_timing_default(&t);
	kv("alloc.resend_ms", "%u", t.resend_ms);
	kv("alloc.queued_ms", "%u", t.queued_ms);
	kv("alloc.recovery_ms", "%u", t.recovery_ms);
	kv("alloc.nopolicy_ms", "%u", t.nopolicy_ms);
	kv("alloc.shed_ms", "%u", t.shed_ms);
	kv("alloc.burst_ms", "%u", RPW_ALLOC_BURST_MS);
	kv("alloc.prio_default", "%u", RPW_ALLOC_PRIO_DEFAULT);
	kv("alloc.max_chassis", "%u", RPW_ALLOC_MAX_CHASSIS);
	kv("alloc.report_frames", "%u", RPW_ALLOC_REPORT_FRAMES);
	/*
	 * MIRROR of rpw_alloc_recovery_hold() in driver/alloc.c: a kernel
	 * node (UART profile, 115200 baud) that knows n modules.
	 */
	{
		static const unsigned int mods[] = { 2, 4, 8, 16, 33 };
		struct rpw_mac_cfg c;
		char key[64];
		unsigned int i;

		node_mac_cfg(&c, RPW_MAC_PROFILE_UART, 115200,
			     KERNEL_PRIO_PERIOD);
		for (i = 0; i < ARRAY_SIZE(mods); i++) {
			u64 b = rpw_mac_access_bound_ns(&c, mods[i],
							RPW_MAX_WIRE, true,
							MS);

			snprintf(key, sizeof(key), "alloc.recovery_hold_ms.%u",
				 mods[i]);
			kv(key, "%u", rpw_alloc_recovery_ms(b, t.resend_ms));
		}
	}
}

/* The agent's allocation policy (agent/policy.c): its defaults, limits
 * and the admin guide's example rack, through the real code. */
static void policy_values(void)
{
	static const char *const mode_key[] = { "nn", "n1", "none" };
	struct rpwp_assembly a = { .addr = 16, .present = 0x3f,
				   .healthy = 0x1f, .bank_a_mw = 4800000,
				   .bank_b_mw = 3200000 };
	struct rpwp_cfg cfg;
	uint64_t lo = 1, hi = 1ull << 40;
	char err[128], k[24], key[64];

	rpwp_cfg_init(&cfg);
	kv("policy.mode_default", "%s", rpwp_mode_name(cfg.mode));
	kv("policy.shed_deadline_ms", "%llu",
	   (unsigned long long)cfg.shed_deadline_ms);
	kv("policy.restore_ms", "%llu", (unsigned long long)cfg.restore_ms);
	kv("policy.retry_ms", "%d", RPWP_RETRY_MS);
	kv("policy.max_overrides", "%d", RPWP_MAX_OVERRIDES);
	while (lo < hi) {		/* the largest deadline accepted */
		cfg.shed_deadline_ms = lo + (hi - lo + 1) / 2;
		if (rpwp_cfg_check(&cfg, err, sizeof(err)))
			hi = cfg.shed_deadline_ms - 1;
		else
			lo = cfg.shed_deadline_ms;
	}
	kv("policy.deadline_max_ms", "%llu", (unsigned long long)lo);
	for (int m = RPWP_MODE_NN; m <= RPWP_MODE_NONE; m++) {
		struct rpwp_out out = { 0 };
		struct rpwp_budget b;
		struct rpwp *p;

		rpwp_cfg_init(&cfg);
		cfg.mode = (enum rpwp_mode)m;
		p = rpwp_create(8, &cfg);
		if (!p)
			exit(1);
		rpwp_capacity(p, &a, 1, 0, &out);
		rpwp_budget(p, &b);
		snprintf(key, sizeof(key), "policy.example.%s", mode_key[m]);
		kvp(key, "budget_kw", "%s", rpwp_kw(b.budget_mw, k));
		if (m == RPWP_MODE_NN) {
			kv("policy.example.rail_a_kw", "%s",
			   rpwp_kw(b.rail_a_mw, k));
			kv("policy.example.rail_b_kw", "%s",
			   rpwp_kw(b.rail_b_mw, k));
			kv("policy.example.usable_kw", "%s",
			   rpwp_kw(b.usable_mw, k));
			kv("policy.example.max_supply_kw", "%s",
			   rpwp_kw(b.max_supply_mw, k));
		}
		rpwp_destroy(p);
	}
}

int main(void)
{
	mac_values();
	node_values();
	elect_values();
	auth_values();
	alloc_values();
	policy_values();
	return 0;
}
