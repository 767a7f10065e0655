// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host self-test of scripts/rig/rs485-hub: starts the hub on temporary unix
 * sockets with three nodes, plays three guests and checks echo, pacing,
 * collisions, partitions and the fault knobs.  TAP output; exit 1 on failure.
 *
 * HUB=path/to/rs485-hub overrides the default ../../scripts/rig/rs485-hub;
 * hubctl is taken from the same directory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../unit/tap.h"

#define NN	3
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define QUIET	150	/* ms of silence that ends a read */

static char dir[64], ctl_path[96], node_path[NN][96];
static const char *hub_bin;
static char hubctl[256];
static pid_t hub_pid = -1;
static int ctl_fd = -1;
static int nfd[NN] = { -1, -1, -1 };

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static double now_ms_f(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int unix_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Read up to @max bytes, stopping after @quiet ms without data or at @max. */
static size_t read_quiet(int fd, uint8_t *buf, size_t max, int quiet)
{
	size_t got = 0;

	while (got < max) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, quiet) <= 0)
			break;
		r = read(fd, buf + got, max - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

/* Read exactly @n bytes unless @timeout ms pass; returns the count read. */
static size_t read_n(int fd, uint8_t *buf, size_t n, int timeout)
{
	uint64_t end = now_ms() + (uint64_t)timeout;
	size_t got = 0;

	while (got < n) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = (int64_t)(end - now_ms());
		ssize_t r;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		r = read(fd, buf + got, n - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

static bool write_all(int fd, const void *buf, size_t len)
{
	return write(fd, buf, len) == (ssize_t)len;
}

/* One command on the persistent control connection; reply without '\n'. */
static const char *ctl(const char *cmd)
{
	static char reply[32768];
	size_t len = 0;

	reply[0] = '\0';
	if (!write_all(ctl_fd, cmd, strlen(cmd)) || !write_all(ctl_fd, "\n", 1))
		return "(write failed)";
	while (len < sizeof(reply) - 1) {
		struct pollfd p = { .fd = ctl_fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, 2000) <= 0)
			return "(timeout)";
		r = read(ctl_fd, reply + len, sizeof(reply) - 1 - len);
		if (r <= 0)
			return "(eof)";
		len += (size_t)r;
		reply[len] = '\0';
		if (reply[len - 1] == '\n') {
			reply[len - 1] = '\0';
			return reply;
		}
	}
	return "(too long)";
}

static bool ctl_ok(const char *cmd)
{
	const char *r = ctl(cmd);

	if (strncmp(r, "ok", 2)) {
		tap_diag("'%s' -> '%s'", cmd, r);
		return false;
	}
	return true;
}

/* Value of @key in a fresh `stats` reply, or -1. */
static long long stat_get(const char *key)
{
	const char *r = ctl("stats");
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), " %s=", key);
	p = strstr(r, pat);
	return p ? atoll(p + strlen(pat)) : -1;
}

static pid_t spawn_hub(char *const argv[], int *out_fd)
{
	int pfd[2];
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		execv(hub_bin, argv);
		_exit(127);
	}
	close(pfd[1]);
	*out_fd = pfd[0];
	return pid;
}

static bool wait_ready(int fd)
{
	char buf[256];
	size_t len = read_n(fd, (uint8_t *)buf, 11, 3000);

	buf[len] = '\0';
	return !strcmp(buf, "hub: ready\n");
}

static int wait_exit(pid_t pid, int timeout)
{
	uint64_t end = now_ms() + (uint64_t)timeout;
	int st;

	while (now_ms() < end) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
		usleep(5000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

static void cleanup(void)
{
	int i;

	if (hub_pid > 0) {
		kill(hub_pid, SIGKILL);
		waitpid(hub_pid, NULL, 0);
	}
	for (i = 0; i < NN; i++)
		unlink(node_path[i]);
	unlink(ctl_path);
	rmdir(dir);
}

static bool all_connected(void)
{
	uint64_t end = now_ms() + 2000;
	char key[16];
	int i, ok;

	do {
		for (i = 0, ok = 0; i < NN; i++) {
			snprintf(key, sizeof(key), "n%d.conn", i);
			ok += stat_get(key) == 1;
		}
		if (ok == NN)
			return true;
		usleep(10000);
	} while (now_ms() < end);
	return false;
}

static int nbits(uint8_t x)
{
	return __builtin_popcount(x);
}

static void test_echo(void)
{
	uint8_t msg[32], got[64];
	int i, j;

	for (i = 0; i < 32; i++)
		msg[i] = (uint8_t)(i * 37 + 1);
	write_all(nfd[0], msg, sizeof(msg));
	for (j = 0; j < NN; j++) {
		size_t n = read_n(nfd[j], got, 32, 1000);

		n += read_quiet(nfd[j], got + n, sizeof(got) - n, 30);
		tap_ok(n == 32 && !memcmp(got, msg, 32),
		       "32-byte burst from n0 %s n%d (%zu bytes)",
		       j ? "delivered to" : "echoed to sender", j, n);
	}
	tap_ok(stat_get("n0.tx") == 32 && stat_get("n1.rx") == 32,
	       "stats count n0.tx and n1.rx");
}

static void test_pacing(void)
{
	static uint8_t msg[1152], got[1152];
	double t0, first = -1, t;
	size_t n = 0;
	int i, j;
	bool same = true;

	for (i = 0; i < 1152; i++)
		msg[i] = (uint8_t)(i ^ (i >> 8));
	t0 = now_ms_f();
	write_all(nfd[1], msg, sizeof(msg));
	while (n < sizeof(got)) {
		size_t r = read_n(nfd[2], got + n, 1, 1000);

		if (!r)
			break;
		if (first < 0)
			first = now_ms_f() - t0;
		n += r;
		n += read_quiet(nfd[2], got + n, sizeof(got) - n, 0);
	}
	t = now_ms_f() - t0;
	tap_ok(n == 1152 && !memcmp(got, msg, n),
	       "1152-byte burst arrives intact (%zu bytes)", n);
	tap_ok(t >= 95 && t < 400,
	       "1152 bytes at 115200 baud take %.1f ms (95..400)", t);
	tap_ok(first >= 0 && first < 50,
	       "first byte arrives after %.1f ms (streamed, not stored)",
	       first);
	for (j = 0; j < 2; j++) {
		size_t m = read_n(nfd[j], got, sizeof(got), 1000);

		same &= m == 1152 && !memcmp(got, msg, m);
	}
	tap_ok(same, "n0 and n1 received the same 1152 bytes");
}

static void test_collision(void)
{
	static uint8_t a[256], b[256], got[NN][600];
	size_t n[NN];
	long long c;
	int j, bad[NN];
	size_t i;

	ctl_ok("reset");
	memset(a, 0x55, sizeof(a));
	memset(b, 0xaa, sizeof(b));
	write_all(nfd[1], b, sizeof(b));
	write_all(nfd[0], a, sizeof(a));
	for (j = 0; j < NN; j++) {
		n[j] = read_quiet(nfd[j], got[j], sizeof(got[j]), QUIET);
		for (i = 0, bad[j] = 0; i < n[j]; i++)
			bad[j] += got[j][i] != 0x55 && got[j][i] != 0xaa;
	}
	c = stat_get("collisions");
	tap_diag("collisions=%lld, received %zu/%zu/%zu", c, n[0], n[1], n[2]);
	tap_ok(c >= 16, "overlapping writes of n0 and n1 collide (%lld)", c);
	tap_ok(n[0] == 512 - (size_t)c && n[1] == n[0] && n[2] == n[0] &&
	       !memcmp(got[0], got[1], n[0]) && !memcmp(got[0], got[2], n[0]),
	       "every node reads the same %zu bytes, one per slot", n[0]);
	tap_ok(bad[0] == c && bad[1] == c && bad[2] == c,
	       "each collision slot delivers a byte neither sender sent");
	tap_ok(stat_get("n0.coll") == c && stat_get("n1.coll") == c &&
	       stat_get("n2.coll") == 0 && stat_get("slots") == 512 - c,
	       "per-node collision and slot counters agree");

	/* Identical bytes in one slot still read back as an error. */
	ctl_ok("reset");
	memset(a, 0x41, 64);
	write_all(nfd[0], a, 64);
	write_all(nfd[1], a, 64);
	n[2] = read_quiet(nfd[2], got[2], sizeof(got[2]), QUIET);
	read_quiet(nfd[0], got[0], sizeof(got[0]), 0);
	read_quiet(nfd[1], got[1], sizeof(got[1]), 0);
	c = stat_get("collisions");
	for (i = 0, bad[2] = 0; i < n[2]; i++)
		bad[2] += got[2][i] != 0x41;
	tap_ok(c >= 8 && bad[2] == c && n[2] == 128 - (size_t)c,
	       "equal bytes colliding are corrupted too (%lld collisions)",
	       c);
}

static void test_partition(void)
{
	uint8_t p[16], q[16], got[64];
	size_t n;
	int j;
	bool ok;

	ctl_ok("reset");
	tap_ok(ctl_ok("partition 2"), "partition 2 accepted");
	memset(p, 'p', sizeof(p));
	memset(q, 'q', sizeof(q));
	/* Both talk at once: separate segments, so no collision. */
	write_all(nfd[2], p, sizeof(p));
	write_all(nfd[0], q, sizeof(q));
	n = read_quiet(nfd[2], got, sizeof(got), QUIET);
	tap_ok(n == 16 && !memcmp(got, p, 16),
	       "partitioned n2 hears only its own echo (%zu bytes)", n);
	for (j = 0, ok = true; j < 2; j++) {
		n = read_quiet(nfd[j], got, sizeof(got), QUIET);
		ok &= n == 16 && !memcmp(got, q, 16);
	}
	tap_ok(ok, "n0/n1 hear n0 but not n2");
	tap_ok(stat_get("collisions") == 0 && stat_get("n2.part") == 1,
	       "no collision across the partition");

	tap_ok(ctl_ok("heal 2"), "heal 2 accepted");
	write_all(nfd[2], p, sizeof(p));
	for (j = 0, ok = true; j < NN; j++) {
		n = read_quiet(nfd[j], got, sizeof(got), QUIET);
		ok &= n == 16 && !memcmp(got, p, 16);
	}
	tap_ok(ok, "after heal every node hears n2");
}

static void test_ber_drop_delay(void)
{
	uint8_t msg[200], got[NN][256];
	size_t n[NN], i, k;
	int j, onebit = 0;
	double t0, t;

	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 13);

	ctl_ok("reset");
	ctl_ok("seed 42");
	tap_ok(ctl_ok("ber 1 1000000"), "ber 1 1000000 accepted");
	write_all(nfd[0], msg, 64);
	for (j = 0; j < NN; j++)
		n[j] = read_quiet(nfd[j], got[j], sizeof(got[j]), QUIET);
	for (i = 0; i < n[1] && i < 64; i++)
		onebit += nbits(got[1][i] ^ msg[i]) == 1;
	tap_ok(n[1] == 64 && onebit == 64,
	       "ber at 100%% flips exactly one bit in each byte n1 gets");
	tap_ok(n[0] == 64 && !memcmp(got[0], msg, 64) && n[2] == 64 &&
	       !memcmp(got[2], msg, 64), "ber on n1 leaves n0/n2 clean");
	tap_ok(stat_get("n1.ber") == 64, "n1.ber counts 64");
	ctl_ok("ber 1 0");

	tap_ok(ctl_ok("drop 1 1000000"), "drop 1 1000000 accepted");
	write_all(nfd[0], msg, 64);
	for (j = 0; j < NN; j++)
		n[j] = read_quiet(nfd[j], got[j], sizeof(got[j]), QUIET);
	tap_ok(n[1] == 0 && n[0] == 64 && n[2] == 64,
	       "drop at 100%% silences n1 only (%zu/%zu/%zu)", n[0], n[1],
	       n[2]);
	tap_ok(stat_get("n1.drop") == 64, "n1.drop counts 64");
	ctl_ok("drop 1 0");

	ctl_ok("drop 2 500000");
	write_all(nfd[0], msg, 200);
	for (j = 0; j < NN; j++)
		n[j] = read_quiet(nfd[j], got[j], sizeof(got[j]), QUIET);
	/* What n2 got must be the sent bytes in order, with gaps. */
	for (i = 0, k = 0; i < 200 && k < n[2]; i++)
		if (msg[i] == got[2][k])
			k++;
	tap_ok(n[2] > 40 && n[2] < 160 && k == n[2] &&
	       stat_get("n2.drop") == 200 - (long long)n[2],
	       "drop at 50%% removes bytes, keeps order (%zu of 200 left)",
	       n[2]);
	ctl_ok("drop 2 0");

	tap_ok(ctl_ok("delay 1 200"), "delay 1 200 accepted");
	t0 = now_ms_f();
	write_all(nfd[0], msg, 8);
	n[0] = read_n(nfd[0], got[0], 8, 1000);
	n[1] = read_n(nfd[1], got[1], 8, 1000);
	t = now_ms_f() - t0;
	n[2] = read_n(nfd[2], got[2], 8, 1000);
	tap_ok(n[1] == 8 && !memcmp(got[1], msg, 8) && t >= 200 && t < 2000,
	       "delay 200 ms: n1 gets the bytes after %.1f ms", t);
	ctl_ok("delay 1 0");
}

static void test_bad_commands(void)
{
	static const char *const bad[] = {
		"bogus", "ber 3 10", "ber 0 abc", "ber 0 -1",
		"drop 0 1000001", "delay 0", "delay all 10001", "partition",
		"heal x", "seed", "seed 12x", "stats now", "ber 0 10 11",
	};
	unsigned int i, errs = 0;
	const char *r;
	char cmd[512];
	int rc;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		r = ctl(bad[i]);
		if (!strncmp(r, "err ", 4))
			errs++;
		else
			tap_diag("'%s' -> '%s'", bad[i], r);
	}
	tap_ok(errs == ARRAY_SIZE(bad),
	       "bad control commands get 'err' (%u/%zu)", errs,
	       ARRAY_SIZE(bad));
	tap_ok(ctl_ok("help") && ctl_ok("ping"),
	       "control connection still works after errors");

	snprintf(cmd, sizeof(cmd), "%s %s ping >/dev/null", hubctl, ctl_path);
	rc = system(cmd);
	tap_ok(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "hubctl ping exits 0");
	snprintf(cmd, sizeof(cmd), "%s %s ber 7 1 >/dev/null", hubctl,
		 ctl_path);
	rc = system(cmd);
	tap_ok(WIFEXITED(rc) && WEXITSTATUS(rc) == 1, "hubctl on err exits 1");
}

static void test_reconnect(void)
{
	uint8_t msg[8] = "reboot!", got[16];
	uint64_t end;
	size_t n;
	int extra;

	close(nfd[2]);
	end = now_ms() + 1000;
	while (stat_get("n2.conn") != 0 && now_ms() < end)
		usleep(5000);
	nfd[2] = unix_connect(node_path[2]);
	tap_ok(nfd[2] >= 0 && all_connected(), "n2 reconnects");
	write_all(nfd[0], msg, sizeof(msg));
	n = read_n(nfd[2], got, sizeof(msg), 1000);
	tap_ok(n == sizeof(msg) && !memcmp(got, msg, n),
	       "reconnected n2 hears the bus");
	read_quiet(nfd[0], got, sizeof(got), QUIET);
	read_quiet(nfd[1], got, sizeof(got), 0);

	/* A second client on a busy node is hung up on. */
	extra = unix_connect(node_path[0]);
	if (extra >= 0) {
		struct pollfd p = { .fd = extra, .events = POLLIN };

		n = poll(&p, 1, 1000) == 1 ? (size_t)read(extra, got, 16) : 1;
	}
	tap_ok(extra >= 0 && n == 0, "second client on n0 is refused");
	if (extra >= 0)
		close(extra);
	write_all(nfd[0], msg, sizeof(msg));
	n = read_n(nfd[1], got, sizeof(msg), 1000);
	read_quiet(nfd[0], got + 8, sizeof(got) - 8, QUIET);
	read_quiet(nfd[2], got + 8, sizeof(got) - 8, 0);
	tap_ok(n == sizeof(msg), "n0 keeps its connection");
}

static void test_quit(void)
{
	const char *r = ctl("quit");
	struct stat st;
	int rc;

	tap_ok(!strcmp(r, "ok bye"), "quit replies '%s'", r);
	rc = wait_exit(hub_pid, 2000);
	hub_pid = -1;
	tap_ok(rc == 0 && stat(node_path[0], &st) && stat(ctl_path, &st),
	       "hub exits 0 on quit and removes its sockets (rc %d)", rc);
}

static void test_sigterm(void)
{
	char *argv[] = { "rs485-hub", "--quiet", "--node", node_path[0], NULL };
	struct stat st;
	int out = -1, rc;

	hub_pid = spawn_hub(argv, &out);
	tap_ok(hub_pid > 0 && wait_ready(out), "single-node hub ready");
	kill(hub_pid, SIGTERM);
	rc = wait_exit(hub_pid, 2000);
	hub_pid = -1;
	tap_ok(rc == 0 && stat(node_path[0], &st),
	       "hub exits 0 on SIGTERM and removes its socket (rc %d)", rc);
	close(out);
}

int main(void)
{
	char *argv[16], hubdir[256];
	int out = -1, i, a = 0;

	hub_bin = getenv("HUB") ? getenv("HUB") : "../../scripts/rig/rs485-hub";
	if (access(hub_bin, X_OK)) {
		printf("1..0 # SKIP %s not built\n", hub_bin);
		return 1;
	}
	snprintf(dir, sizeof(dir), "/tmp/rs485hub.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(ctl_path, sizeof(ctl_path), "%s/ctl.sock", dir);
	argv[a++] = "rs485-hub";
	argv[a++] = "--quiet";
	argv[a++] = "--baud";
	argv[a++] = "115200";
	argv[a++] = "--ctl";
	argv[a++] = ctl_path;
	for (i = 0; i < NN; i++) {
		snprintf(node_path[i], sizeof(node_path[i]), "%s/n%d.sock",
			 dir, i);
		argv[a++] = "--node";
		argv[a++] = node_path[i];
	}
	argv[a] = NULL;
	atexit(cleanup);

	/* hubctl sits next to the hub. */
	snprintf(hubdir, sizeof(hubdir), "%s", hub_bin);
	snprintf(hubctl, sizeof(hubctl), "%s/hubctl", dirname(hubdir));

	hub_pid = spawn_hub(argv, &out);
	if (!tap_ok(hub_pid > 0 && wait_ready(out), "hub prints 'hub: ready'"))
		return tap_done();
	ctl_fd = unix_connect(ctl_path);
	for (i = 0; i < NN; i++)
		nfd[i] = unix_connect(node_path[i]);
	if (!tap_ok(ctl_fd >= 0 && nfd[0] >= 0 && nfd[1] >= 0 && nfd[2] >= 0 &&
		    all_connected(), "3 clients and control connected"))
		return tap_done();

	test_echo();
	test_pacing();
	test_collision();
	test_partition();
	test_ber_drop_delay();
	test_bad_commands();
	test_reconnect();
	test_quit();
	close(out);
	test_sigterm();
	return tap_done();
}
