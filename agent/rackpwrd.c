// SPDX-License-Identifier: GPL-2.0-only
/*
 * rackpwrd - the rackpwr agent.  Today it follows the kernel's event
 * group and logs what an operator needs to see, with timestamps: nodes
 * coming and going, duplicate addresses, new peers, election transitions
 * and capacity changes.  The power-allocation policy is added here with
 * the allocation frames.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "nl.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void stamp(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	printf("[%5ld.%03ld] ", (long)ts.tv_sec, ts.tv_nsec / 1000000);
}

static int event_cb(int cmd, struct nlattr **tb, void *arg)
{
	(void)arg;
	switch (cmd) {
	case RACKPWR_CMD_NODE_CHANGE_NTF:
		stamp();
		if (tb[RACKPWR_A_NODE_NAME])
			printf("node %u (%s) addr %u up\n",
			       nla_get_u32(tb[RACKPWR_A_NODE_ID]),
			       nla_get_string(tb[RACKPWR_A_NODE_NAME]),
			       tb[RACKPWR_A_NODE_ADDR] ?
			       nla_get_u8(tb[RACKPWR_A_NODE_ADDR]) : 0);
		else
			printf("node %u removed\n",
			       nla_get_u32(tb[RACKPWR_A_NODE_ID]));
		break;
	case RACKPWR_CMD_BUS_EVENT_NTF:
		stamp();
		switch (nla_get_u32(tb[RACKPWR_A_BUS_EVENT_EVENT])) {
		case RACKPWR_EVENT_DUP_ADDR:
			printf("node %u: DUPLICATE ADDRESS %u on the bus\n",
			       nla_get_u32(tb[RACKPWR_A_BUS_EVENT_NODE_ID]),
			       nla_get_u8(tb[RACKPWR_A_BUS_EVENT_ADDR]));
			break;
		case RACKPWR_EVENT_PEER_NEW:
			printf("node %u: new peer %u\n",
			       nla_get_u32(tb[RACKPWR_A_BUS_EVENT_NODE_ID]),
			       nla_get_u8(tb[RACKPWR_A_BUS_EVENT_ADDR]));
			break;
		}
		break;
	case RACKPWR_CMD_ELECT_NTF: {
		static const char *const what[] = {
			[RACKPWR_ELECT_EVENT_PROMOTED] = "became primary",
			[RACKPWR_ELECT_EVENT_DEMOTED] = "lost the primary role to",
			[RACKPWR_ELECT_EVENT_PRIMARY_CHANGED] = "now follows primary",
			[RACKPWR_ELECT_EVENT_PRIMARY_LOST] = "lost primary",
			[RACKPWR_ELECT_EVENT_CONFLICT] = "heard a rival primary",
			[RACKPWR_ELECT_EVENT_DUP_ADDR] = "DUPLICATE ADDRESS",
			[RACKPWR_ELECT_EVENT_LEASE_LOST] = "primary lease lapsed (fenced)",
			[RACKPWR_ELECT_EVENT_STALL] = "stalled, re-validated",
			[RACKPWR_ELECT_EVENT_STEP_DOWN] = "step-down by",
		};
		unsigned int ev = nla_get_u32(tb[RACKPWR_A_ELECT_EVENT]);
		unsigned int ep = nla_get_u32(tb[RACKPWR_A_ELECT_EPOCH]);

		/* Lease renewals and epoch bumps are routine: not logged. */
		if (ev >= sizeof(what) / sizeof(what[0]) || !what[ev])
			return 0;
		stamp();
		printf("node %u: %s %u (epoch %u.%u)\n",
		       nla_get_u32(tb[RACKPWR_A_ELECT_NODE_ID]), what[ev],
		       nla_get_u8(tb[RACKPWR_A_ELECT_ADDR]), ep >> 8, ep & 0xff);
		break;
	}
	case RACKPWR_CMD_CAPACITY_NTF:
		stamp();
		printf("node %u: assembly %u capacity A %u W, B %u W, healthy 0x%02x%s\n",
		       nla_get_u32(tb[RACKPWR_A_CAPACITY_NODE_ID]),
		       nla_get_u8(tb[RACKPWR_A_CAPACITY_ADDR]),
		       nla_get_u32(tb[RACKPWR_A_CAPACITY_BANK_A_MW]) / 1000,
		       nla_get_u32(tb[RACKPWR_A_CAPACITY_BANK_B_MW]) / 1000,
		       nla_get_u8(tb[RACKPWR_A_CAPACITY_HEALTHY]),
		       tb[RACKPWR_A_CAPACITY_LOST] ? " LOST" : "");
		break;
	default:
		return 0;
	}
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	struct rpw_nl ev;
	int err;

	(void)argv;
	if (argc > 1) {
		fputs("usage: rackpwrd (runs in the foreground; SIGTERM stops it)\n",
		      stderr);
		return 2;
	}
	err = rpw_nl_open(&ev);
	if (!err)
		err = rpw_nl_subscribe(&ev);
	if (err) {
		fprintf(stderr, "rackpwrd: cannot follow rackpwr events: %s\n",
			strerror(-err));
		return 1;
	}
	nl_socket_set_nonblocking(ev.sk);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	stamp();
	printf("rackpwrd: following rackpwr events\n");
	fflush(stdout);
	while (!stop) {
		struct pollfd p = { nl_socket_get_fd(ev.sk), POLLIN, 0 };

		if (poll(&p, 1, 1000) > 0)
			rpw_nl_recv_events(&ev, event_cb, NULL);
	}
	rpw_nl_close(&ev);
	return 0;
}
