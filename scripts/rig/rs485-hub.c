// SPDX-License-Identifier: GPL-2.0-only
/*
 * rs485-hub - join the UARTs of several QEMU guests (or test clients) into
 * one simulated half-duplex RS-485 multi-drop line.
 *
 * Every --node PATH is a unix stream server socket; QEMU connects to it with
 * "-serial unix:PATH".  The line is a byte-slot channel paced at the baud
 * rate (10 bit times per byte, 8N1).  In each slot where exactly one node has
 * a byte to send, that byte reaches every connected node, the sender
 * included (RS-485 transceivers with RX_DURING_TX hear their own echo).  When
 * two or more nodes send in the same slot, each loses one byte and everybody
 * receives one corrupted byte (see collide()).  Faults are injected per
 * receiving node through a line-based control socket.
 *
 * Single thread, epoll, CLOCK_MONOTONIC.  The loop sleeps (~1 ms granularity)
 * and then runs every slot that has fully elapsed, so delivery comes in small
 * batches but never faster than the baud rate.
 *
 * See Documentation/dev-tools/rackpwr-hub.rst.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stddef.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_NODES	64
#define MAX_CTL		16
#define TXQ_SIZE	65536u		/* per-node transmit queue, power of 2 */
#define OUT_SIZE	65536u		/* per-node socket output buffer, power of 2 */
#define MARKS		256u		/* arrival-time marks per transmit queue */
#define RXQ_MIN		4096u		/* delayed-receive ring, grows to RXQ_MAX */
#define RXQ_MAX		(1u << 18)
#define CTL_LINE	512
#define MAX_DELAY_MS	10000u
#define PPM_MAX		1000000u
#define BAUD_MIN	50u
#define BAUD_MAX	10000000u
#define BITS_PER_BYTE	10u		/* start + 8 data + stop */
#define NSEC		1000000000ull

enum ev_kind { EV_NODE_LISTEN, EV_NODE, EV_CTL_LISTEN, EV_CTL, EV_SIGNAL };

/* Arrival mark: bytes before sequence number @end were read at time @t. */
struct mark {
	uint32_t end;
	uint64_t t;
};

struct rxent {
	uint64_t due;
	uint8_t b;
};

/*
 * One segment of wire.  Slot k of a busy channel spans
 * [slot_t(k), slot_t(k + 1)); @free_at is the end of the last slot run, so a
 * restarted channel never overlaps its previous slot.
 */
struct chan {
	bool busy;
	uint64_t start;
	uint64_t k;
	uint64_t free_at;
};

struct node {
	const char *path;
	int lfd;
	int fd;
	bool want_out;

	uint8_t txq[TXQ_SIZE];
	uint32_t tx_head, tx_tail;	/* free-running sequence numbers */
	struct mark marks[MARKS];
	uint32_t mk_head, mk_tail;

	struct rxent *rxq;		/* bytes heard, waiting for their time */
	uint32_t rxq_cap, rx_head, rx_tail;

	uint8_t out[OUT_SIZE];		/* due bytes the socket has not taken */
	uint32_t out_head, out_tail;

	struct chan own;		/* private segment while partitioned */

	uint32_t ber_ppm, drop_ppm, delay_ms;
	bool part;

	/* Counters: keep them last, hub_reset() clears from @tx on. */
	uint64_t tx, rx, coll, drop, ber, txovf, rxovf, conns, refused;
};

struct ctl_client {
	int fd;
	size_t len;
	bool discard;
	char buf[CTL_LINE];
};

struct hub {
	unsigned int baud;
	unsigned int nnodes;
	struct node *nodes;
	struct chan bus;
	int epfd;
	int sfd;
	int ctl_lfd;
	const char *ctl_path;
	struct ctl_client ctl[MAX_CTL];
	uint64_t seed;
	uint64_t rng;
	bool quiet;
	bool quit;
	uint64_t slots, collisions;
};

static void logmsg(const struct hub *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void logmsg(const struct hub *h, const char *fmt, ...)
{
	va_list ap;

	if (h && h->quiet)
		return;
	va_start(ap, fmt);
	fputs("hub: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC + (uint64_t)ts.tv_nsec;
}

/* splitmix64: tiny, seedable, good enough for fault injection. */
static uint64_t rng_next(struct hub *h)
{
	uint64_t z = (h->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static bool chance(struct hub *h, uint32_t ppm)
{
	if (!ppm)
		return false;
	return rng_next(h) % PPM_MAX < ppm;
}

static uint64_t ev_data(enum ev_kind kind, unsigned int idx)
{
	return (uint64_t)kind << 32 | idx;
}

static int ep_add(struct hub *h, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	return epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void ep_mod(struct hub *h, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	if (epoll_ctl(h->epfd, EPOLL_CTL_MOD, fd, &ev))
		logmsg(h, "epoll_ctl mod: %s", strerror(errno));
}

static int listen_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(path);
	int fd;

	if (len >= sizeof(sa.sun_path)) {
		fprintf(stderr, "hub: socket path too long: %s\n", path);
		return -1;
	}
	memcpy(sa.sun_path, path, len + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* A stale socket from a previous run would make bind() fail. */
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 4)) {
		fprintf(stderr, "hub: %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- per-node queues ---- */

static uint32_t txq_len(const struct node *n)
{
	return n->tx_tail - n->tx_head;
}

static void txq_append(struct node *n, const uint8_t *p, size_t len,
		       uint64_t t)
{
	uint32_t room = TXQ_SIZE - txq_len(n);
	uint32_t fit = len < room ? (uint32_t)len : room;
	uint32_t i;
	struct mark *last;

	n->txovf += len - fit;
	if (!fit)
		return;
	for (i = 0; i < fit; i++)
		n->txq[(n->tx_tail + i) & (TXQ_SIZE - 1)] = p[i];
	n->tx_tail += fit;

	last = n->mk_tail != n->mk_head ?
	       &n->marks[(n->mk_tail - 1) % MARKS] : NULL;
	if (last && (last->t == t || n->mk_tail - n->mk_head == MARKS)) {
		/*
		 * Same instant, or out of marks: extend the newest mark.  The
		 * bytes it already covered then look slightly younger, which
		 * can only delay them, never send them early.
		 */
		last->end = n->tx_tail;
		last->t = t;
		return;
	}
	n->marks[n->mk_tail % MARKS] = (struct mark){ n->tx_tail, t };
	n->mk_tail++;
}

/* When did the oldest pending byte arrive?  False if none is pending. */
static bool tx_head_time(struct node *n, uint64_t *t)
{
	if (n->fd < 0 || !txq_len(n))
		return false;
	while (n->mk_head != n->mk_tail &&
	       (int32_t)(n->marks[n->mk_head % MARKS].end - n->tx_head) <= 0)
		n->mk_head++;
	*t = n->marks[n->mk_head % MARKS].t;
	return true;
}

static uint8_t txq_pop(struct node *n)
{
	return n->txq[n->tx_head++ & (TXQ_SIZE - 1)];
}

static bool rxq_push(struct node *n, uint64_t due, uint8_t b)
{
	uint32_t len = n->rx_tail - n->rx_head;

	if (len == n->rxq_cap) {
		uint32_t cap = n->rxq_cap ? n->rxq_cap * 2 : RXQ_MIN;
		struct rxent *q;
		uint32_t i;

		if (cap > RXQ_MAX)
			return false;
		q = malloc(sizeof(*q) * cap);
		if (!q)
			return false;
		for (i = 0; i < len; i++)
			q[i] = n->rxq[(n->rx_head + i) & (n->rxq_cap - 1)];
		free(n->rxq);
		n->rxq = q;
		n->rxq_cap = cap;
		n->rx_head = 0;
		n->rx_tail = len;
	}
	n->rxq[n->rx_tail++ & (n->rxq_cap - 1)] = (struct rxent){ due, b };
	return true;
}

static void node_reset_queues(struct node *n)
{
	n->tx_head = n->tx_tail;
	n->mk_head = n->mk_tail;
	n->rx_head = n->rx_tail;
	n->out_head = n->out_tail;
	n->own.busy = false;
	n->want_out = false;
}

static void node_disconnect(struct hub *h, unsigned int i, const char *why)
{
	struct node *n = &h->nodes[i];

	if (n->fd < 0)
		return;
	logmsg(h, "n%u: client gone (%s)", i, why);
	close(n->fd);
	n->fd = -1;
	node_reset_queues(n);
}

static void node_flush(struct hub *h, unsigned int i)
{
	struct node *n = &h->nodes[i];
	bool blocked = false;

	while (n->fd >= 0 && n->out_tail != n->out_head) {
		uint32_t off = n->out_head & (OUT_SIZE - 1);
		uint32_t len = n->out_tail - n->out_head;
		ssize_t w;

		if (len > OUT_SIZE - off)
			len = OUT_SIZE - off;
		w = send(n->fd, n->out + off, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				blocked = true;
				break;
			}
			node_disconnect(h, i, strerror(errno));
			return;
		}
		n->out_head += (uint32_t)w;
		n->rx += (uint64_t)w;
	}
	if (n->fd >= 0 && blocked != n->want_out) {
		n->want_out = blocked;
		ep_mod(h, n->fd, EPOLLIN | (blocked ? EPOLLOUT : 0),
		       ev_data(EV_NODE, i));
	}
}

/* Move every due byte to the socket buffer and write what the socket takes. */
static void node_pump(struct hub *h, unsigned int i, uint64_t now)
{
	struct node *n = &h->nodes[i];

	while (n->rx_head != n->rx_tail &&
	       n->out_tail - n->out_head < OUT_SIZE) {
		struct rxent *e = &n->rxq[n->rx_head & (n->rxq_cap - 1)];

		if (e->due > now)
			break;
		n->out[n->out_tail++ & (OUT_SIZE - 1)] = e->b;
		n->rx_head++;
	}
	node_flush(h, i);
}

/* ---- the line ---- */

/*
 * Value every node receives when several nodes drive the line in one slot.
 * Start from the wired-AND of the contenders (a start bit is a low, and a
 * receiver mostly resolves a driver fight towards the low side), then, as
 * real transceivers would report a framing error, make sure the result
 * equals none of the bytes sent, even when the senders agreed: step by 0x55
 * (odd, so the walk visits all 256 values) until no contender matches.
 */
static uint8_t collide(const uint8_t *b, unsigned int n)
{
	uint8_t v = 0xff;
	unsigned int i;
	bool hit;

	for (i = 0; i < n; i++)
		v &= b[i];
	do {
		hit = false;
		for (i = 0; i < n; i++)
			hit |= b[i] == v;
		if (hit)
			v += 0x55;
	} while (hit);
	return v;
}

static uint64_t slot_t(const struct hub *h, const struct chan *c, uint64_t k)
{
	return c->start + k * BITS_PER_BYTE * NSEC / h->baud;
}

static void deliver(struct hub *h, unsigned int i, uint8_t b, uint64_t t)
{
	struct node *n = &h->nodes[i];

	if (n->fd < 0)
		return;
	if (chance(h, n->drop_ppm)) {
		n->drop++;
		return;
	}
	if (chance(h, n->ber_ppm)) {
		b ^= (uint8_t)(1u << (rng_next(h) % 8));
		n->ber++;
	}
	if (!rxq_push(n, t + (uint64_t)n->delay_ms * 1000000ull, b))
		n->rxovf++;
}

/*
 * Run every slot of channel @c that has ended by @now.  @members is the set
 * of nodes on this segment: they may transmit and they all hear the result.
 */
static void chan_run(struct hub *h, struct chan *c, uint64_t members,
		     uint64_t now)
{
	unsigned int who[MAX_NODES];
	uint8_t sent[MAX_NODES];

	for (;;) {
		uint64_t s, e, t;
		unsigned int i, n = 0;
		uint8_t v;

		if (!c->busy) {
			uint64_t first = UINT64_MAX;

			for (i = 0; i < h->nnodes; i++)
				if ((members >> i & 1) &&
				    tx_head_time(&h->nodes[i], &t) && t < first)
					first = t;
			if (first == UINT64_MAX)
				return;
			c->busy = true;
			c->start = first > c->free_at ? first : c->free_at;
			c->k = 0;
		}
		s = slot_t(h, c, c->k);
		e = slot_t(h, c, c->k + 1);
		if (e > now)
			return;

		/* Contenders: bytes that were there when the slot began. */
		for (i = 0; i < h->nnodes; i++)
			if ((members >> i & 1) &&
			    tx_head_time(&h->nodes[i], &t) && t <= s)
				who[n++] = i;
		if (!n) {
			/* Line went idle; restart at the next arrival. */
			c->busy = false;
			continue;
		}
		for (i = 0; i < n; i++) {
			sent[i] = txq_pop(&h->nodes[who[i]]);
			h->nodes[who[i]].tx++;
		}
		if (n == 1) {
			v = sent[0];
		} else {
			v = collide(sent, n);
			h->collisions++;
			for (i = 0; i < n; i++)
				h->nodes[who[i]].coll++;
		}
		for (i = 0; i < h->nnodes; i++)
			if (members >> i & 1)
				deliver(h, i, v, e);
		h->slots++;
		c->free_at = e;
		c->k++;
		/* Rebase: baud slots take exactly BITS_PER_BYTE seconds. */
		if (c->k >= h->baud) {
			c->start += BITS_PER_BYTE * NSEC;
			c->k -= h->baud;
		}
	}
}

static void bus_run(struct hub *h, uint64_t now)
{
	uint64_t main_set = 0;
	unsigned int i;

	for (i = 0; i < h->nnodes; i++) {
		struct node *n = &h->nodes[i];

		if (n->fd < 0)
			continue;
		if (n->part)
			chan_run(h, &n->own, 1ull << i, now);
		else
			main_set |= 1ull << i;
	}
	chan_run(h, &h->bus, main_set, now);
}

static void set_partition(struct hub *h, unsigned int i, bool part,
			  uint64_t now)
{
	struct node *n = &h->nodes[i];

	if (n->part == part)
		return;
	n->part = part;
	/* The node was on the other segment up to now: no overlap with it. */
	if (part) {
		n->own.busy = false;
		if (n->own.free_at < now)
			n->own.free_at = now;
	}
}

/* Milliseconds until the next slot end or delayed byte is due; -1: none. */
static int next_timeout(struct hub *h, uint64_t now)
{
	uint64_t next = UINT64_MAX, t, d;
	unsigned int i;

	if (h->bus.busy)
		next = slot_t(h, &h->bus, h->bus.k + 1);
	for (i = 0; i < h->nnodes; i++) {
		struct node *n = &h->nodes[i];

		if (n->fd < 0)
			continue;
		if (n->part && n->own.busy) {
			t = slot_t(h, &n->own, n->own.k + 1);
			if (t < next)
				next = t;
		}
		/*
		 * A due byte behind a full buffer waits for EPOLLOUT; one that
		 * fell due since the last pump goes now (else epoll would
		 * sleep past it, up to the 1 s cap).
		 */
		if (n->rx_head != n->rx_tail) {
			t = n->rxq[n->rx_head & (n->rxq_cap - 1)].due;
			if (t <= now && !n->want_out)
				t = now;
			if (t >= now && t < next)
				next = t;
		}
	}
	if (next == UINT64_MAX)
		return -1;
	if (next <= now)
		return 0;
	d = (next - now + 999999) / 1000000;
	return d > 1000 ? 1000 : (int)d;
}

/* ---- sockets ---- */

static void node_accept(struct hub *h, unsigned int i)
{
	struct node *n = &h->nodes[i];
	int fd;

	for (;;) {
		fd = accept4(n->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				logmsg(h, "n%u: accept: %s", i, strerror(errno));
			if (errno == EINTR)
				continue;
			return;
		}
		if (n->fd >= 0) {
			/* One client per node: a second one is refused. */
			n->refused++;
			logmsg(h, "n%u: busy, refusing another client", i);
			close(fd);
			continue;
		}
		if (ep_add(h, fd, EPOLLIN, ev_data(EV_NODE, i))) {
			logmsg(h, "n%u: epoll: %s", i, strerror(errno));
			close(fd);
			continue;
		}
		node_reset_queues(n);
		n->fd = fd;
		n->conns++;
		logmsg(h, "n%u: client connected", i);
	}
}

static void node_read(struct hub *h, unsigned int i)
{
	struct node *n = &h->nodes[i];
	uint64_t t = now_ns();
	uint8_t buf[4096];
	int rounds;

	/* Bounded, so one chatty node cannot starve the rest of the loop. */
	for (rounds = 0; rounds < 16 && n->fd >= 0; rounds++) {
		ssize_t r = read(n->fd, buf, sizeof(buf));

		if (r > 0) {
			txq_append(n, buf, (size_t)r, t);
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		node_disconnect(h, i, r ? strerror(errno) : "eof");
	}
}

/* ---- control ---- */

static void ctl_reply(struct hub *h, int fd, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void ctl_reply(struct hub *h, int fd, const char *fmt, ...)
{
	char line[MAX_NODES * 320 + 256];
	va_list ap;
	size_t len, off = 0;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	len = (size_t)r < sizeof(line) - 1 ? (size_t)r : sizeof(line) - 2;
	line[len++] = '\n';
	/* Replies are short; a client that does not read them loses them. */
	while (off < len) {
		ssize_t w = send(fd, line + off, len - off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			logmsg(h, "ctl: reply lost: %s", strerror(errno));
			return;
		}
		off += (size_t)w;
	}
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *v)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return !errno && !*end && *v <= max;
}

/* "all" or a node index: sets [*lo, *hi). */
static bool parse_node(const struct hub *h, const char *s, unsigned int *lo,
		       unsigned int *hi)
{
	uint64_t v;

	if (s && !strcmp(s, "all")) {
		*lo = 0;
		*hi = h->nnodes;
		return true;
	}
	if (!parse_u64(s, h->nnodes - 1, &v))
		return false;
	*lo = (unsigned int)v;
	*hi = (unsigned int)v + 1;
	return true;
}

static void hub_reset(struct hub *h, uint64_t now)
{
	unsigned int i;

	for (i = 0; i < h->nnodes; i++) {
		struct node *n = &h->nodes[i];

		n->ber_ppm = 0;
		n->drop_ppm = 0;
		n->delay_ms = 0;
		set_partition(h, i, false, now);
		memset(&n->tx, 0, sizeof(*n) - offsetof(struct node, tx));
	}
	h->slots = 0;
	h->collisions = 0;
	h->rng = h->seed;
}

static void ctl_stats(struct hub *h, int fd)
{
	char line[MAX_NODES * 320];
	size_t off;
	unsigned int i;

	off = (size_t)snprintf(line, sizeof(line),
			       "nodes=%u baud=%u slots=%" PRIu64
			       " collisions=%" PRIu64,
			       h->nnodes, h->baud, h->slots, h->collisions);
	for (i = 0; i < h->nnodes && off < sizeof(line); i++) {
		struct node *n = &h->nodes[i];

		off += (size_t)snprintf(line + off, sizeof(line) - off,
			" n%u.conn=%d n%u.part=%d n%u.tx=%" PRIu64
			" n%u.rx=%" PRIu64 " n%u.coll=%" PRIu64
			" n%u.drop=%" PRIu64 " n%u.ber=%" PRIu64
			" n%u.txovf=%" PRIu64 " n%u.rxovf=%" PRIu64
			" n%u.txq=%u",
			i, n->fd >= 0, i, n->part, i, n->tx, i, n->rx,
			i, n->coll, i, n->drop, i, n->ber, i, n->txovf,
			i, n->rxovf, i, txq_len(n));
	}
	ctl_reply(h, fd, "ok %s", line);
}

static void ctl_command(struct hub *h, int fd, char *line)
{
	char *argv[8], *save = NULL, *tok;
	unsigned int argc = 0, lo, hi, i;
	uint64_t v = 0, now = now_ns();
	const char *cmd;

	for (tok = strtok_r(line, " \t\r", &save); tok;
	     tok = strtok_r(NULL, " \t\r", &save)) {
		if (argc == 8) {
			ctl_reply(h, fd, "err too many words");
			return;
		}
		argv[argc++] = tok;
	}
	if (!argc)
		return;
	cmd = argv[0];

	if (!strcmp(cmd, "ber") || !strcmp(cmd, "drop") ||
	    !strcmp(cmd, "delay")) {
		bool is_delay = !strcmp(cmd, "delay");

		if (argc != 3) {
			ctl_reply(h, fd, "err usage: %s N|all %s", cmd,
				  is_delay ? "MS" : "PPM");
			return;
		}
		if (!parse_node(h, argv[1], &lo, &hi)) {
			ctl_reply(h, fd, "err bad node '%s' (0..%u or all)",
				  argv[1], h->nnodes - 1);
			return;
		}
		if (!parse_u64(argv[2], is_delay ? MAX_DELAY_MS : PPM_MAX,
			       &v)) {
			ctl_reply(h, fd, "err bad value '%s' (0..%u)", argv[2],
				  is_delay ? MAX_DELAY_MS : PPM_MAX);
			return;
		}
		for (i = lo; i < hi; i++) {
			if (cmd[0] == 'b')
				h->nodes[i].ber_ppm = (uint32_t)v;
			else if (is_delay)
				h->nodes[i].delay_ms = (uint32_t)v;
			else
				h->nodes[i].drop_ppm = (uint32_t)v;
		}
		ctl_reply(h, fd, "ok %s %s %" PRIu64, cmd, argv[1], v);
	} else if (!strcmp(cmd, "partition") || !strcmp(cmd, "heal")) {
		if (argc != 2 || !parse_node(h, argv[1], &lo, &hi)) {
			ctl_reply(h, fd, "err usage: %s N|all (0..%u)", cmd,
				  h->nnodes - 1);
			return;
		}
		/* Finish the slots that ran under the old wiring first. */
		bus_run(h, now);
		for (i = lo; i < hi; i++)
			set_partition(h, i, cmd[0] == 'p', now);
		ctl_reply(h, fd, "ok %s %s", cmd, argv[1]);
	} else if (!strcmp(cmd, "stats") && argc == 1) {
		bus_run(h, now);
		ctl_stats(h, fd);
	} else if (!strcmp(cmd, "reset") && argc == 1) {
		bus_run(h, now);
		hub_reset(h, now);
		ctl_reply(h, fd, "ok reset");
	} else if (!strcmp(cmd, "seed")) {
		if (argc != 2 || !parse_u64(argv[1], UINT64_MAX, &v)) {
			ctl_reply(h, fd, "err usage: seed S (decimal u64)");
			return;
		}
		h->seed = v;
		h->rng = v;
		ctl_reply(h, fd, "ok seed %" PRIu64, v);
	} else if (!strcmp(cmd, "ping") && argc == 1) {
		ctl_reply(h, fd, "ok pong");
	} else if (!strcmp(cmd, "help") && argc == 1) {
		ctl_reply(h, fd, "ok ber N|all PPM; drop N|all PPM; "
			  "delay N|all MS; partition N|all; heal N|all; "
			  "stats; reset; seed S; ping; quit");
	} else if (!strcmp(cmd, "quit") && argc == 1) {
		ctl_reply(h, fd, "ok bye");
		h->quit = true;
	} else {
		ctl_reply(h, fd, "err unknown command '%s' (try help)", cmd);
	}
}

static void ctl_close(struct hub *h, unsigned int c)
{
	close(h->ctl[c].fd);
	h->ctl[c].fd = -1;
}

static void ctl_accept(struct hub *h)
{
	unsigned int c;
	int fd;

	for (;;) {
		fd = accept4(h->ctl_lfd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		for (c = 0; c < MAX_CTL && h->ctl[c].fd >= 0; c++)
			;
		if (c == MAX_CTL ||
		    ep_add(h, fd, EPOLLIN, ev_data(EV_CTL, c))) {
			static const char msg[] = "err too many clients\n";

			if (send(fd, msg, sizeof(msg) - 1,
				 MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				logmsg(h, "ctl: %s", strerror(errno));
			close(fd);
			continue;
		}
		h->ctl[c].fd = fd;
		h->ctl[c].len = 0;
		h->ctl[c].discard = false;
	}
}

static void ctl_read(struct hub *h, unsigned int c)
{
	struct ctl_client *cl = &h->ctl[c];

	while (!h->quit) {
		ssize_t r = read(cl->fd, cl->buf + cl->len,
				 sizeof(cl->buf) - cl->len);
		char *nl;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (r <= 0) {
			ctl_close(h, c);
			return;
		}
		cl->len += (size_t)r;
		while (!h->quit &&
		       (nl = memchr(cl->buf, '\n', cl->len)) != NULL) {
			size_t used = (size_t)(nl - cl->buf) + 1;

			*nl = '\0';
			if (!cl->discard)
				ctl_command(h, cl->fd, cl->buf);
			cl->discard = false;
			memmove(cl->buf, cl->buf + used, cl->len - used);
			cl->len -= used;
		}
		if (cl->len == sizeof(cl->buf)) {
			/* Too long: answer once, skip to the next newline. */
			if (!cl->discard)
				ctl_reply(h, cl->fd, "err line too long");
			cl->discard = true;
			cl->len = 0;
		}
	}
}

/* ---- main ---- */

static void usage(FILE *f)
{
	fputs("usage: rs485-hub [--baud N] [--ctl PATH] [--seed S] [--ber PPM]\n"
	      "                 [--drop PPM] [--quiet] --node PATH [--node PATH]...\n"
	      "Joins up to 64 unix stream sockets (QEMU -serial unix:PATH) into\n"
	      "one simulated half-duplex RS-485 line paced at N baud (8N1).\n",
	      f);
}

static void hub_cleanup(struct hub *h)
{
	unsigned int i;

	for (i = 0; i < h->nnodes; i++) {
		struct node *n = &h->nodes[i];

		if (n->fd >= 0)
			close(n->fd);
		if (n->lfd >= 0) {
			close(n->lfd);
			unlink(n->path);
		}
		free(n->rxq);
	}
	for (i = 0; i < MAX_CTL; i++)
		if (h->ctl[i].fd >= 0)
			close(h->ctl[i].fd);
	if (h->ctl_lfd >= 0) {
		close(h->ctl_lfd);
		unlink(h->ctl_path);
	}
	free(h->nodes);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "baud", required_argument, NULL, 'b' },
		{ "ctl", required_argument, NULL, 'c' },
		{ "node", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ "ber", required_argument, NULL, 'e' },
		{ "drop", required_argument, NULL, 'd' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static struct hub hub;
	struct hub *h = &hub;
	const char *paths[MAX_NODES];
	uint64_t v, ber = 0, drop = 0;
	unsigned int i;
	sigset_t mask;
	int opt, rc = 1;

	h->baud = 115200;
	h->seed = 1;
	h->ctl_lfd = -1;
	h->sfd = -1;
	for (i = 0; i < MAX_CTL; i++)
		h->ctl[i].fd = -1;

	while ((opt = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (opt) {
		case 'b':
			if (!parse_u64(optarg, BAUD_MAX, &v) || v < BAUD_MIN) {
				fprintf(stderr, "hub: bad --baud %s (%u..%u)\n",
					optarg, BAUD_MIN, BAUD_MAX);
				return 2;
			}
			h->baud = (unsigned int)v;
			break;
		case 'c':
			h->ctl_path = optarg;
			break;
		case 'n':
			if (h->nnodes == MAX_NODES) {
				fprintf(stderr, "hub: at most %d nodes\n",
					MAX_NODES);
				return 2;
			}
			paths[h->nnodes++] = optarg;
			break;
		case 's':
			if (!parse_u64(optarg, UINT64_MAX, &h->seed)) {
				fprintf(stderr, "hub: bad --seed %s\n", optarg);
				return 2;
			}
			break;
		case 'e':
		case 'd':
			if (!parse_u64(optarg, PPM_MAX, &v)) {
				fprintf(stderr, "hub: bad PPM %s\n", optarg);
				return 2;
			}
			*(opt == 'e' ? &ber : &drop) = v;
			break;
		case 'q':
			h->quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !h->nnodes) {
		usage(stderr);
		return 2;
	}
	h->rng = h->seed;

	h->nodes = calloc(h->nnodes, sizeof(*h->nodes));
	if (!h->nodes) {
		perror("hub: calloc");
		return 1;
	}
	for (i = 0; i < h->nnodes; i++) {
		h->nodes[i].path = paths[i];
		h->nodes[i].lfd = -1;
		h->nodes[i].fd = -1;
		h->nodes[i].ber_ppm = (uint32_t)ber;
		h->nodes[i].drop_ppm = (uint32_t)drop;
	}

	/* Signals arrive as epoll events, so no handler races the loop. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	h->sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	h->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (h->sfd < 0 || h->epfd < 0 ||
	    ep_add(h, h->sfd, EPOLLIN, ev_data(EV_SIGNAL, 0))) {
		perror("hub: setup");
		goto out;
	}
	for (i = 0; i < h->nnodes; i++) {
		h->nodes[i].lfd = listen_unix(paths[i]);
		if (h->nodes[i].lfd < 0 ||
		    ep_add(h, h->nodes[i].lfd, EPOLLIN,
			   ev_data(EV_NODE_LISTEN, i)))
			goto out;
	}
	if (h->ctl_path) {
		h->ctl_lfd = listen_unix(h->ctl_path);
		if (h->ctl_lfd < 0 ||
		    ep_add(h, h->ctl_lfd, EPOLLIN, ev_data(EV_CTL_LISTEN, 0)))
			goto out;
	}
	printf("hub: ready\n");
	fflush(stdout);
	logmsg(h, "%u nodes at %u baud, %.1f us per byte", h->nnodes,
	       h->baud, BITS_PER_BYTE * 1e6 / h->baud);

	while (!h->quit) {
		struct epoll_event evs[32];
		uint64_t now = now_ns();
		int n, k;

		n = epoll_wait(h->epfd, evs, 32, next_timeout(h, now));
		if (n < 0 && errno != EINTR) {
			perror("hub: epoll_wait");
			goto out;
		}
		for (k = 0; k < n && !h->quit; k++) {
			unsigned int idx = (unsigned int)evs[k].data.u64;
			uint32_t e = evs[k].events;

			switch ((enum ev_kind)(evs[k].data.u64 >> 32)) {
			case EV_NODE_LISTEN:
				node_accept(h, idx);
				break;
			case EV_NODE:
				if (h->nodes[idx].fd < 0)
					break;
				if (e & EPOLLOUT)
					node_flush(h, idx);
				if (e & (EPOLLIN | EPOLLHUP | EPOLLERR))
					node_read(h, idx);
				break;
			case EV_CTL_LISTEN:
				ctl_accept(h);
				break;
			case EV_CTL:
				if (h->ctl[idx].fd >= 0)
					ctl_read(h, idx);
				break;
			case EV_SIGNAL: {
				struct signalfd_siginfo si;

				if (read(h->sfd, &si, sizeof(si)) > 0)
					logmsg(h, "signal %u, exiting",
					       si.ssi_signo);
				h->quit = true;
				break;
			}
			}
		}
		now = now_ns();
		bus_run(h, now);
		for (i = 0; i < h->nnodes; i++)
			if (h->nodes[i].fd >= 0)
				node_pump(h, i, now);
	}
	rc = 0;
out:
	hub_cleanup(h);
	return rc;
}
