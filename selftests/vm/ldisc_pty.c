// SPDX-License-Identifier: GPL-2.0-only
/*
 * ldisc_pty - the line discipline on a pty (issue 10): a transmit abort
 * used to call the pty's flush_buffer, which takes a mutex, under the node
 * spinlock from the receive work or the MAC's hrtimer ("BUG: scheduling
 * while atomic", then a soft lockup).  This test opens a pty pair, attaches
 * the discipline to the secondary side (TIOCSETD), gives the node an
 * address with rackpwrctl and drives the primary side:
 *   garbage     random bytes with nobody reading the node's output, then
 *               with a reader, then in bursts with idle gaps while the
 *               reader echoes the node's bytes back (an RS-485 line),
 *               then 4 s without a gap: the power-supply node's own frames
 *               (election, capacity rounds) are not refused for want of
 *               queue room
 *   afterwards  frames still go through (sends succeed, tx_frames grows),
 *               and a node whose transmissions kept failing has no queue
 *               refusals of its own (the ENOBUFS seen after a garbage run)
 *   cycles      attach, configure, garbage, detach (close or TIOCSETD
 *               N_TTY), many times
 *   context     with the function tracer (Debian's kernel has ftrace but
 *               not DEBUG_ATOMIC_SLEEP): every pty_flush_buffer call is
 *               made in the context of a flush from user space (tcflush):
 *               interrupts on, not in softirq or with BH off, the same
 *               preemption depth.  Skipped without the tracer.
 * The rig fails the run on any BUG/WARNING/soft lockup in the kernel log.
 *
 * Runs as root in a rig VM; loads the module with modprobe itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define RPW_LDISC	29	/* N_DEVELOPMENT, the module's default */
#define ADDR		"21"
/* Timers for VM receive latency (as link_uart.sh). */
#define TIMERS		"--slot-us 5000 --ifs-us 20000 --turnaround-us 1000 " \
			"--ack-timeout-us 60000"
#define CYCLES		20
#define TRACE		"/sys/kernel/debug/tracing/"

static int tap_n, tap_fail;

static void tap(bool good, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	if (!good)
		tap_fail++;
	printf("%sok %d - ", good ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Run a shell command; its first output line in @out (if @out). */
static int run(char *out, size_t len, const char *fmt, ...)
{
	char cmd[512], line[256];
	va_list ap;
	FILE *p;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (out)
		out[0] = '\0';
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p))
		if (out && !out[0])
			snprintf(out, len, "%s", line);
	rc = pclose(p);
	if (out)
		out[strcspn(out, "\n")] = '\0';
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Lines of "rackpwrctl node list" that contain @what. */
static int nodes(const char *what)
{
	char out[32];

	run(out, sizeof(out), "rackpwrctl node list | grep -c '%s'", what);
	return atoi(out);
}

/* One counter of a node (rackpwrctl stats), -1 if not found. */
static long long stat_of(const char *node, const char *key)
{
	char out[64];

	if (run(out, sizeof(out),
		"rackpwrctl stats %s | tr ' ' '\\n' | sed -n 's/^%s=//p'",
		node, key) || !out[0])
		return -1;
	return atoll(out);
}

static void raw(int fd)
{
	struct termios t;

	if (!tcgetattr(fd, &t)) {
		cfmakeraw(&t);
		tcsetattr(fd, TCSANOW, &t);
	}
}

/* Open a pty pair, both sides raw; the primary side non-blocking. */
static int pty_open(int *secondary)
{
	int p = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);

	if (p < 0)
		return -1;
	if (grantpt(p) || unlockpt(p)) {
		close(p);
		return -1;
	}
	*secondary = open(ptsname(p), O_RDWR | O_NOCTTY);
	if (*secondary < 0) {
		close(p);
		return -1;
	}
	raw(p);
	raw(*secondary);
	return p;
}

static int attach(int sfd)
{
	int ld = RPW_LDISC;

	return ioctl(sfd, TIOCSETD, &ld) ? -errno : 0;
}

/* The name of the node on the secondary side: "pts" + its number. */
static bool pty_number(int pfd, char *name, size_t len)
{
	unsigned int n;

	if (ioctl(pfd, TIOCGPTN, &n))
		return false;
	snprintf(name, len, "pts%u", n);
	return true;
}

enum peer { PEER_DEAF, PEER_READ, PEER_ECHO };

/*
 * Drive the primary side for @ms: garbage in bursts of @burst ms every
 * @period ms (burst == period: no gaps); the node's output is left unread
 * (PEER_DEAF), read and dropped (PEER_READ) or written back (PEER_ECHO).
 */
static void drive(int pfd, enum peer peer, int ms, int burst, int period,
		  unsigned long *sent)
{
	long long t0 = now_ms(), t;
	unsigned char g[64], in[512];
	ssize_t r;
	size_t i;

	while ((t = now_ms() - t0) < ms) {
		if ((t % period) < burst) {
			for (i = 0; i < sizeof(g); i++)
				g[i] = rand();
			r = write(pfd, g, 1 + rand() % sizeof(g));
			if (r > 0)
				*sent += r;
		}
		if (peer != PEER_DEAF) {
			while ((r = read(pfd, in, sizeof(in))) > 0)
				if (peer == PEER_ECHO && write(pfd, in, r) != r)
					break;
		}
		usleep(1000);
	}
}

/*
 * A child that keeps the node transmitting (broadcasts, no ACK) so that
 * the garbage hits its transmissions; returns its pid.
 */
static pid_t sender(const char *name)
{
	char cmd[128];
	pid_t pid;

	snprintf(cmd, sizeof(cmd),
		 "rackpwrctl send %s 255 --test --hex 00ff7e7d >>sends.txt 2>&1",
		 name);
	pid = fork();
	if (pid)
		return pid;
	/* Its own group, killed whole; without our ptys, which it would hold. */
	setpgid(0, 0);
	for (int fd = 3; fd < 256; fd++)
		close(fd);
	for (;;)
		if (system(cmd) < 0)
			usleep(10000);
}

static void stop(pid_t pid)
{
	if (pid > 0) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

/* Echo the node's bytes back for @ms, no garbage. */
static void echo_for(int pfd, int ms)
{
	unsigned long none = 0;

	drive(pfd, PEER_ECHO, ms, 0, 1, &none);
}

/* ---- ftrace: the context of every pty_flush_buffer ---------------------- */

static bool trace_write(const char *file, const char *val)
{
	int fd = open(file, O_WRONLY | O_TRUNC);
	bool good;

	if (fd < 0)
		return false;
	good = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return good;
}

static bool trace_on(void)
{
	trace_write(TRACE "tracing_on", "0");
	return trace_write(TRACE "current_tracer", "nop") &&
	       trace_write(TRACE "set_ftrace_filter", "pty_flush_buffer") &&
	       trace_write(TRACE "trace", "") &&
	       trace_write(TRACE "current_tracer", "function") &&
	       trace_write(TRACE "tracing_on", "1");
}

static void trace_off(void)
{
	trace_write(TRACE "tracing_on", "0");
	trace_write(TRACE "current_tracer", "nop");
	trace_write(TRACE "set_ftrace_filter", "");
}

/*
 * The context columns of a function-trace line: irqs-off, hardirq/softirq
 * (or BH off) and preempt depth; "" if none.
 */
static bool trace_ctx(const char *line, char ctx[4])
{
	const char *b = strstr(line, "] ");

	if (!b || strlen(b) < 7)
		return false;
	ctx[0] = b[2];
	ctx[1] = b[4];
	ctx[2] = b[5];
	ctx[3] = '\0';
	return true;
}

/*
 * Count the traced pty_flush_buffer calls, those made by a work item (the
 * transmit aborts'), and those whose context differs from @ref (the
 * context of a tcflush() from user space).
 */
static void trace_scan(const char *ref, int *calls, int *work, int *bad,
		       char *first, size_t len)
{
	char line[512], ctx[4];
	FILE *f = fopen(TRACE "trace", "r");

	*calls = 0;
	*work = 0;
	*bad = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || !strstr(line, "pty_flush_buffer") ||
		    !trace_ctx(line, ctx))
			continue;
		(*calls)++;
		if (strstr(line, "kworker/"))
			(*work)++;
		if (strcmp(ctx, ref) && !(*bad)++)
			snprintf(first, len, "%s", line);
	}
	fclose(f);
	first[strcspn(first, "\n")] = '\0';
}

/* The context of one pty_flush_buffer from user space (tcflush). */
static bool trace_ref(char ref[4])
{
	char line[512];
	int p, s;
	bool got = false;
	FILE *f;

	p = pty_open(&s);
	if (p < 0 || !trace_on())
		goto out;
	tcflush(s, TCOFLUSH);
	trace_write(TRACE "tracing_on", "0");
	f = fopen(TRACE "trace", "r");
	while (f && !got && fgets(line, sizeof(line), f))
		if (line[0] != '#' && strstr(line, "pty_flush_buffer"))
			got = trace_ctx(line, ref);
	if (f)
		fclose(f);
	trace_write(TRACE "trace", "");
	trace_write(TRACE "tracing_on", "1");
out:
	if (p >= 0) {
		close(s);
		close(p);
	}
	return got;
}

int main(void)
{
	char name[32], out[256], ref[4] = "", first[512] = "";
	long long tx0, tx1, refused;
	unsigned long garbage = 0;
	int pfd, sfd, i, j, err, calls, work, bad, sends;
	pid_t pid;
	bool traced;

	srand(10);
	if (run(NULL, 0, "modprobe rackpwr cap_query_ms=100")) {
		tap(false, "load rackpwr");
		printf("1..%d\n", tap_n);
		return 1;
	}
	traced = trace_ref(ref);
	if (!traced)
		printf("# function tracer unavailable: context check skipped\n");
	else
		printf("# pty_flush_buffer from tcflush: context '%s'\n", ref);

	/* ---- attach and configure -------------------------------------- */
	pfd = pty_open(&sfd);
	tap(pfd >= 0, "open a pty pair");
	if (pfd < 0) {
		printf("1..%d\n", tap_n);
		return 1;
	}
	err = attach(sfd);
	tap(!err, "TIOCSETD %d on the secondary side (%s)", RPW_LDISC,
	    strerror(-err));
	pty_number(pfd, name, sizeof(name));
	tap(!run(NULL, 0, "rackpwrctl node set %s --addr " ADDR " --role psu "
		 TIMERS, name), "configure power-supply node %s with rackpwrctl",
	    name);

	/* ---- garbage ----------------------------------------------------- */
	tx0 = stat_of(name, "tx_frames");
	pid = sender(name);
	drive(pfd, PEER_DEAF, 3000, 30, 1000, &garbage);
	tap(stat_of(name, "tx_frames") == tx0,
	    "garbage with idle gaps, nobody reading or echoing: nothing goes out intact");
	drive(pfd, PEER_READ, 3000, 30, 1000, &garbage);
	tap(stat_of(name, "tx_frames") == tx0,
	    "garbage with idle gaps and a reader that does not echo: the same");
	drive(pfd, PEER_ECHO, 4000, 50, 300, &garbage);
	stop(pid);
	/*
	 * A line that never goes idle: what the node queues meanwhile
	 * (election, capacity rounds every 100 ms here, sends) must not fill
	 * its queue.
	 */
	echo_for(pfd, 1500);
	drive(pfd, PEER_DEAF, 4000, 1, 1, &garbage);
	refused = stat_of(name, "refused_proto");
	tap(refused == 0,
	    "a line that never goes idle: no protocol frame refused (%lld), %lld expired",
	    refused, stat_of(name, "expired"));
	/* Diagnostics: the counters, and what the sends answered. */
	snprintf(out, sizeof(out),
		 "rackpwrctl stats %s | sed 's/^/# /'; "
		 "sort sends.txt | uniq -c | sed 's/^/# /'", name);
	fflush(stdout);
	if (system(out))
		printf("# no stats\n");
	tap(stat_of(name, "garbage_bytes") > 0,
	    "garbage bursts with idle gaps and an echo: %lu bytes in all, %lld counted as garbage",
	    garbage, stat_of(name, "garbage_bytes"));
	printf("# collisions %lld, crc_errors %lld, framing_errors %lld, expired %lld\n",
	       stat_of(name, "collisions"), stat_of(name, "crc_errors"),
	       stat_of(name, "framing_errors"), stat_of(name, "expired"));

	/* ---- afterwards: frames go through -------------------------------- */
	echo_for(pfd, 500);
	tx0 = stat_of(name, "tx_frames");
	sends = 0;
	for (i = 0; i < 5; i++) {
		/*
		 * rackpwrctl waits for the MAC: echo meanwhile, until it is
		 * done (up to 10 s: the debug kernel is several times slower).
		 */
		snprintf(out, sizeof(out),
			 "rm -f send.done; (rackpwrctl send %s 255 --test --hex 00ff7e7d >send.txt 2>&1; touch send.done) &",
			 name);
		if (system(out))
			break;
		for (j = 0; j < 50 && access("send.done", F_OK); j++)
			echo_for(pfd, 200);
		if (!run(out, sizeof(out), "wait; cat send.txt") && !out[0])
			sends++;
		else
			printf("# send: %s\n", out);
	}
	tx1 = stat_of(name, "tx_frames");
	tap(sends == 5, "after the garbage, 5 of 5 sends succeed (%d)", sends);
	tap(tx1 >= tx0 + 5, "... and go out intact (tx_frames %lld -> %lld)",
	    tx0, tx1);
	refused = stat_of(name, "refused_user") + stat_of(name, "refused_elect") +
		  stat_of(name, "refused_proto");
	tap(refused == 0,
	    "no queue refusals after failing transmissions (%lld: user %lld, election %lld, protocol %lld)",
	    refused, stat_of(name, "refused_user"),
	    stat_of(name, "refused_elect"), stat_of(name, "refused_proto"));
	close(sfd);
	close(pfd);
	usleep(200000);
	snprintf(out, sizeof(out), "name=%s ", name);
	tap(!nodes(out), "closing the pty detaches the node");

	/* ---- attach/detach cycles ---------------------------------------- */
	err = 0;
	for (i = 0; i < CYCLES && !err; i++) {
		int ld = 0;	/* N_TTY */

		pfd = pty_open(&sfd);
		if (pfd < 0 || attach(sfd)) {
			err = -1;
			break;
		}
		pty_number(pfd, name, sizeof(name));
		if (run(NULL, 0, "rackpwrctl node set %s --addr " ADDR " " TIMERS,
			name))
			err = -2;
		pid = sender(name);
		drive(pfd, i % 3 ? PEER_READ : PEER_DEAF, 200 + rand() % 500,
		      20, 700, &garbage);
		stop(pid);
		/* Odd cycles switch back to N_TTY, even ones just close. */
		if (i % 2 && ioctl(sfd, TIOCSETD, &ld))
			err = -3;
		close(sfd);
		close(pfd);
	}
	tap(!err, "%d attach, configure, garbage, detach cycles (%d done, err %d)",
	    CYCLES, i, err);
	i = nodes("kind=ldisc");
	tap(!i, "no ldisc node left (%d)", i);

	/* ---- context of every tty flush ------------------------------------ */
	if (traced) {
		trace_write(TRACE "tracing_on", "0");
		trace_scan(ref, &calls, &work, &bad, first, sizeof(first));
		tap(work > 0,
		    "transmit aborts flushed the pty from a work item (%d of %d traced pty_flush_buffer calls)",
		    work, calls);
		tap(!bad, "every pty_flush_buffer in process context like tcflush's (%d bad%s%s)",
		    bad, bad ? ": " : "", first);
		trace_off();
	} else {
		tap(true, "# SKIP function tracer unavailable");
	}
	printf("1..%d\n", tap_n);
	return tap_fail ? 1 : 0;
}
