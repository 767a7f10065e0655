// SPDX-License-Identifier: GPL-2.0-only
/*
 * rackpwr - tty line discipline transport, for USB RS-485 dongles, plain
 * UARTs and VMs.  Attached from user space (rackpwrctl attach, ldattach,
 * or TIOCSETD with the number given by the "ldisc" module parameter).  The
 * node is named after the tty and stays inert until it gets an address
 * over netlink.  Its line rate is the tty's: taken at attach, followed
 * through every termios change.  Set RS-485 mode (TIOCSRS485, with
 * SER_RS485_RX_DURING_TX so the transmitter hears its own echo) before
 * attaching.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/slab.h>
#include <linux/tty.h>
#include <linux/tty_ldisc.h>

#include "rackpwr.h"

static int ldisc = N_DEVELOPMENT;
module_param(ldisc, int, 0444);
MODULE_PARM_DESC(ldisc, "line discipline number (default N_DEVELOPMENT)");
MODULE_ALIAS_LDISC(N_DEVELOPMENT);

struct rpw_ldisc {
	struct tty_struct *tty;
	struct rpw_node *node;
	struct work_struct tx_work;
	struct work_struct flush_work;	/* the tty's flush: may sleep */
	struct rpw_txbuf tx;
};

static int rpw_ld_out(void *ctx, const u8 *buf, size_t len)
{
	struct tty_struct *tty = ctx;

	/* Set before writing: the driver may call wakeup from write(). */
	set_bit(TTY_DO_WRITE_WAKEUP, &tty->flags);
	return tty->ops->write(tty, buf, len);
}

static void rpw_ld_done_if_empty(struct rpw_ldisc *ld, size_t left)
{
	if (!left)
		clear_bit(TTY_DO_WRITE_WAKEUP, &ld->tty->flags);
}

static void rpw_ld_write(struct rpw_node *node, const u8 *buf, size_t len)
{
	struct rpw_ldisc *ld = node->priv;

	rpw_ld_done_if_empty(ld, rpw_txbuf_write(&ld->tx, buf, len,
						 rpw_ld_out, ld->tty));
}

/*
 * Node lock held, BH off (receive work, MAC hrtimer): drop our queue now
 * and leave the tty's flush_buffer, which may sleep (a pty's takes the
 * peer's buffer mutex), to flush_work.  New bytes wait in ld->tx until it
 * has run, so it cannot drop them.
 */
static void rpw_ld_flush(struct rpw_node *node)
{
	struct rpw_ldisc *ld = node->priv;

	rpw_txbuf_abort(&ld->tx);
	schedule_work(&ld->flush_work);
}

static const struct rpw_transport_ops rpw_ld_tops = {
	.write = rpw_ld_write,
	.flush = rpw_ld_flush,
	.line_rate = true,
};

static void rpw_ld_tx_work(struct work_struct *work)
{
	struct rpw_ldisc *ld = container_of(work, struct rpw_ldisc, tx_work);

	rpw_ld_done_if_empty(ld, rpw_txbuf_push(&ld->tx, rpw_ld_out, ld->tty));
}

static void rpw_ld_flush_work(struct work_struct *work)
{
	struct rpw_ldisc *ld = container_of(work, struct rpw_ldisc,
					    flush_work);
	unsigned int gen = rpw_txbuf_flush_gen(&ld->tx);

	tty_driver_flush_buffer(ld->tty);
	rpw_ld_done_if_empty(ld, rpw_txbuf_flushed(&ld->tx, gen, rpw_ld_out,
						   ld->tty));
}

/*
 * tty_wakeup() holds an ldisc reference, which excludes close(): disc_data
 * is stable here, as in mctp-serial.
 */
static void rpw_ld_write_wakeup(struct tty_struct *tty)
{
	struct rpw_ldisc *ld = tty->disc_data;

	if (ld)
		schedule_work(&ld->tx_work);
}

static void rpw_ld_receive_buf(struct tty_struct *tty, const unsigned char *cp,
			       const char *fp, int count)
{
	struct rpw_ldisc *ld = tty->disc_data;

	/*
	 * Bytes with a framing/parity flag are passed on as read: the frame
	 * check or the echo comparison rejects them, and they are counted.
	 */
	if (ld && count > 0)
		rpw_node_rx(ld->node, cp, count);
}

/*
 * The tty's termios changed (stty, tcsetattr): a new line rate reconfigures
 * the node, so its timers match the line.  Called with termios_rwsem held
 * for writing and an ldisc reference, which excludes close().
 */
static void rpw_ld_set_termios(struct tty_struct *tty,
			       const struct ktermios *old)
{
	struct rpw_ldisc *ld = tty->disc_data;
	u32 baud = tty_get_baud_rate(tty);
	const char *why = NULL;

	if (!ld || !baud)	/* B0 hangs the line up: keep the rate */
		return;
	if (rpw_node_set_baud(ld->node, baud, &why))
		pr_warn_ratelimited("%s: line rate %u not applied to the node: %s\n",
				    tty->name, baud, why);
}

/*
 * Nothing of our own: hand everything to the tty core's termios and flow
 * control handling, as n_tty does.  Without this every termios ioctl
 * (TCGETS, TCSETS, ...) failed with EINVAL while the discipline was on.
 */
static int rpw_ld_ioctl(struct tty_struct *tty, unsigned int cmd,
			unsigned long arg)
{
	return n_tty_ioctl_helper(tty, cmd, arg);
}

static int rpw_ld_open(struct tty_struct *tty)
{
	struct rpw_ldisc *ld;
	struct rpw_node *node;
	const char *why;
	int err;

	if (!capable(CAP_NET_ADMIN))
		return -EPERM;
	if (!tty->ops->write)
		return -EOPNOTSUPP;

	ld = kzalloc(sizeof(*ld), GFP_KERNEL);
	if (!ld)
		return -ENOMEM;
	ld->tty = tty;
	rpw_txbuf_init(&ld->tx);
	INIT_WORK(&ld->tx_work, rpw_ld_tx_work);
	INIT_WORK(&ld->flush_work, rpw_ld_flush_work);

	node = rpw_node_create(RACKPWR_KIND_LDISC, tty->name, 0,
			       RPW_MAC_PROFILE_UART, &rpw_ld_tops, ld);
	if (IS_ERR(node)) {
		kfree(ld);
		return PTR_ERR(node);
	}
	/* The node starts at the tty's present speed. */
	err = rpw_node_set_baud(node, tty_get_baud_rate(tty), &why);
	if (err) {
		pr_warn("%s: cannot attach at %u baud: %s\n", tty->name,
			tty_get_baud_rate(tty), why);
		rpw_node_destroy(node);
		kfree(ld);
		return err;
	}
	ld->node = node;
	tty->disc_data = ld;
	tty->receive_room = 65536;
	tty_driver_flush_buffer(tty);
	return 0;
}

static void rpw_ld_close(struct tty_struct *tty)
{
	struct rpw_ldisc *ld = tty->disc_data;

	if (!ld)
		return;
	/* Stops the MAC: no more writes from the core after this. */
	rpw_node_destroy(ld->node);
	/* receive_buf and write_wakeup are excluded by the ldisc lock. */
	tty->disc_data = NULL;
	cancel_work_sync(&ld->tx_work);
	cancel_work_sync(&ld->flush_work);
	clear_bit(TTY_DO_WRITE_WAKEUP, &tty->flags);
	kfree(ld);
}

static void rpw_ld_hangup(struct tty_struct *tty)
{
	rpw_ld_close(tty);
}

static struct tty_ldisc_ops rpw_ldisc_ops = {
	.owner = THIS_MODULE,
	.name = "rackpwr",
	.open = rpw_ld_open,
	.close = rpw_ld_close,
	.hangup = rpw_ld_hangup,
	.ioctl = rpw_ld_ioctl,
	.set_termios = rpw_ld_set_termios,
	.receive_buf = rpw_ld_receive_buf,
	.write_wakeup = rpw_ld_write_wakeup,
};

int __init rpw_ldisc_init(void)
{
	int err;

	/* 0 is N_TTY: registering over it would replace every tty's. */
	if (ldisc <= 0 || ldisc >= NR_LDISCS) {
		pr_err("ldisc=%d out of range\n", ldisc);
		return -EINVAL;
	}
	rpw_ldisc_ops.num = ldisc;
	err = tty_register_ldisc(&rpw_ldisc_ops);
	if (err)
		pr_err("cannot register line discipline %d: %d\n", ldisc, err);
	return err;
}

void rpw_ldisc_exit(void)
{
	tty_unregister_ldisc(&rpw_ldisc_ops);
}
