// SPDX-License-Identifier: GPL-2.0-only
/*
 * Rig self-test in C: a static kselftest-harness program as every
 * test in selftests/vm is built.  Checks the environment C tests rely on
 * and shows how a C test talks to the host (the RIG-SYNC:/RIG-HUB: console
 * line, answered on RIG_HOSTPORT).
 */
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <termios.h>
#include <unistd.h>

#include "kselftest_harness.h"

#define DEBUGFS_MAGIC	0x64626720

static int env_int(const char *name)
{
	const char *v = getenv(name);

	return v ? atoi(v) : -1;
}

TEST(environment)
{
	ASSERT_NE(NULL, getenv("RIG_TEST"));
	ASSERT_STREQ("rig_harness", getenv("RIG_TEST"));
	ASSERT_LE(1, env_int("RIG_NNODES"));
	ASSERT_LE(0, env_int("RIG_NODE"));
	ASSERT_GT(env_int("RIG_NNODES"), env_int("RIG_NODE"));
}

TEST(debugfs_mounted)
{
	struct statfs sfs;

	ASSERT_EQ(0, statfs("/sys/kernel/debug", &sfs));
	ASSERT_EQ(DEBUGFS_MAGIC, (unsigned long)sfs.f_type);
}

/* init left the bus UART raw: no line editing, echo or modem control. */
TEST(bus_uart_raw)
{
	struct termios tio;
	int fd;

	fd = open(getenv("RIG_BUS"), O_RDWR | O_NOCTTY | O_NONBLOCK);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, tcgetattr(fd, &tio));
	EXPECT_EQ(0, tio.c_lflag & (ICANON | ECHO | ISIG));
	EXPECT_EQ(0, tio.c_oflag & OPOST);
	EXPECT_EQ(CLOCAL, tio.c_cflag & CLOCAL);
	EXPECT_EQ(B115200, cfgetospeed(&tio));
	close(fd);
}

/*
 * Open the answer port first, then ask: the answer cannot be missed.  A
 * barrier waits for every VM of the run, so only a single VM can use one
 * without knowing what the others run.
 */
TEST(host_sync)
{
	static const char req[] = "# RIG-SYNC: rig_harness\n";
	struct pollfd pfd;
	char ans[64];
	size_t len = 0;
	int con;

	if (env_int("RIG_NNODES") != 1)
		SKIP(return, "barrier needs a single-VM run");

	pfd.fd = open(getenv("RIG_HOSTPORT"), O_RDONLY | O_NOCTTY);
	ASSERT_LE(0, pfd.fd);
	pfd.events = POLLIN;
	con = open("/dev/console", O_WRONLY | O_NOCTTY);
	ASSERT_LE(0, con);
	ASSERT_EQ((ssize_t)strlen(req), write(con, req, strlen(req)));
	close(con);
	while (len < sizeof(ans) - 1) {
		ssize_t n;

		ASSERT_EQ(1, poll(&pfd, 1, 10000)) TH_LOG("no answer in 10 s");
		n = read(pfd.fd, ans + len, 1);
		ASSERT_EQ(1, n);
		if (ans[len] == '\n')
			break;
		len++;
	}
	ans[len] = '\0';
	close(pfd.fd);
	ASSERT_STREQ("ok", ans);
}

TEST_HARNESS_MAIN
