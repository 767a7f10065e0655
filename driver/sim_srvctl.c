// SPDX-License-Identifier: GPL-2.0-only
/*
 * rackpwr - test-only stand-in for the allocation glue: drives the server
 * API of rackpwr.ko (driver/server.h) from debugfs, so the VM tests can
 * check the driver's notifier stream and power calls without a rack.
 *
 *   /sys/kernel/debug/rackpwr_sim_srvctl/events    read: every notification
 *	since the last write, one per line: "added BUS", "removed BUS" or
 *	"BUS SLOT EVENT WATTS"; write anything: forget them
 *   /sys/kernel/debug/rackpwr_sim_srvctl/power     write "BUS SLOT on ID"
 *	or "BUS SLOT off": rpw_srv_set_power()
 *   /sys/kernel/debug/rackpwr_sim_srvctl/shutdown  write "BUS SLOT":
 *	rpw_srv_request_shutdown()
 *   /sys/kernel/debug/rackpwr_sim_srvctl/info      write "BUS SLOT", then
 *	read: rpw_srv_get() as "key=value" pairs
 *   /sys/kernel/debug/rackpwr_sim_srvctl/resolve   write "BUS" (-1: auto),
 *	then read: what rpw_chassis_resolve() returned
 *
 * A failed call fails the write with its errno.  Test-only: it powers
 * servers on without any grant, exactly what production code never does.
 */
#include <linux/debugfs.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "server.h"

#define CTL_LOG_MAX	512	/* notifications kept */

struct ctl_rec {
	enum rpw_srv_notify what;
	struct rpw_srv_event ev;	/* .bus only for ADDED/REMOVED */
};

static DEFINE_MUTEX(ctl_lock);		/* everything below */
static struct ctl_rec ctl_log[CTL_LOG_MAX];
static unsigned int ctl_n;
static unsigned int ctl_lost;
static int ctl_info_bus = -1;
static unsigned int ctl_info_slot;
static int ctl_resolved = -ENODEV;
static struct dentry *ctl_dir;

static int ctl_notify(struct notifier_block *nb, unsigned long what,
		      void *data)
{
	struct ctl_rec r = { .what = what };

	if (what == RPW_SRV_EVENT)
		r.ev = *(const struct rpw_srv_event *)data;
	else
		r.ev.bus = *(const int *)data;
	mutex_lock(&ctl_lock);
	if (ctl_n < CTL_LOG_MAX)
		ctl_log[ctl_n++] = r;
	else
		ctl_lost++;
	mutex_unlock(&ctl_lock);
	return NOTIFY_OK;
}

static struct notifier_block ctl_nb = { .notifier_call = ctl_notify };

static ssize_t ctl_events_read(struct file *f, char __user *ubuf, size_t len,
			       loff_t *pos)
{
	size_t size = CTL_LOG_MAX * 40 + 32;
	unsigned int i;
	ssize_t ret;
	char *buf;
	int n = 0;

	buf = kmalloc(size, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	mutex_lock(&ctl_lock);
	for (i = 0; i < ctl_n; i++) {
		const struct ctl_rec *r = &ctl_log[i];

		if (r->what == RPW_SRV_EVENT)
			n += scnprintf(buf + n, size - n, "%d %u %s %u\n",
				       r->ev.bus, r->ev.slot,
				       rpw_srv_ev_name(r->ev.ev), r->ev.watts);
		else
			n += scnprintf(buf + n, size - n, "%s %d\n",
				       r->what == RPW_SRV_ADDED ? "added" :
				       "removed", r->ev.bus);
	}
	if (ctl_lost)
		n += scnprintf(buf + n, size - n, "lost %u\n", ctl_lost);
	mutex_unlock(&ctl_lock);
	ret = simple_read_from_buffer(ubuf, len, pos, buf, n);
	kfree(buf);
	return ret;
}

static ssize_t ctl_events_write(struct file *f, const char __user *ubuf,
				size_t len, loff_t *pos)
{
	mutex_lock(&ctl_lock);
	ctl_n = 0;
	ctl_lost = 0;
	mutex_unlock(&ctl_lock);
	return len;
}

/* "BUS SLOT [WORD [NUMBER]]" from user space. */
static int ctl_parse(const char __user *ubuf, size_t len, int *bus,
		     unsigned int *slot, char *word, u32 *num)
{
	char buf[64];
	int n;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	word[0] = '\0';
	*num = 0;
	n = sscanf(buf, "%d %u %7s %u", bus, slot, word, num);
	return n >= 2 ? n : -EINVAL;
}

static ssize_t ctl_power_write(struct file *f, const char __user *ubuf,
			       size_t len, loff_t *pos)
{
	unsigned int slot;
	char word[8];
	int bus, n, ret;
	u32 id;

	n = ctl_parse(ubuf, len, &bus, &slot, word, &id);
	if (n < 0)
		return n;
	if (n >= 3 && !strcmp(word, "on"))
		ret = rpw_srv_set_power(bus, slot, true, id);
	else if (n == 3 && !strcmp(word, "off"))
		ret = rpw_srv_set_power(bus, slot, false, 0);
	else
		ret = -EINVAL;
	return ret ? ret : len;
}

static ssize_t ctl_shutdown_write(struct file *f, const char __user *ubuf,
				  size_t len, loff_t *pos)
{
	unsigned int slot;
	char word[8];
	int bus, n, ret;
	u32 id;

	n = ctl_parse(ubuf, len, &bus, &slot, word, &id);
	if (n < 0)
		return n;
	ret = n == 2 ? rpw_srv_request_shutdown(bus, slot) : -EINVAL;
	return ret ? ret : len;
}

static ssize_t ctl_info_write(struct file *f, const char __user *ubuf,
			      size_t len, loff_t *pos)
{
	unsigned int slot;
	char word[8];
	int bus, n;
	u32 id;

	n = ctl_parse(ubuf, len, &bus, &slot, word, &id);
	if (n != 2)
		return -EINVAL;
	mutex_lock(&ctl_lock);
	ctl_info_bus = bus;
	ctl_info_slot = slot;
	mutex_unlock(&ctl_lock);
	return len;
}

static ssize_t ctl_info_read(struct file *f, char __user *ubuf, size_t len,
			     loff_t *pos)
{
	struct rpw_srv_info in;
	unsigned int slot;
	char buf[192];
	int bus, n, ret;

	mutex_lock(&ctl_lock);
	bus = ctl_info_bus;
	slot = ctl_info_slot;
	mutex_unlock(&ctl_lock);
	ret = rpw_srv_get(bus, slot, &in);
	if (ret)
		return ret;
	n = scnprintf(buf, sizeof(buf),
		      "present=%d enabled=%d shutdown_pending=%d fault=%d pstate=%u watts=%u lower_watts=%u grant_id=%u ident=%s\n",
		      in.present, in.enabled, in.shutdown_pending, in.fault,
		      in.pstate, in.watts, in.lower_watts, in.grant_id,
		      in.ident);
	return simple_read_from_buffer(ubuf, len, pos, buf, n);
}

static ssize_t ctl_resolve_write(struct file *f, const char __user *ubuf,
				 size_t len, loff_t *pos)
{
	int bus, ret;

	ret = kstrtoint_from_user(ubuf, len, 0, &bus);
	if (ret)
		return ret;
	ret = rpw_chassis_resolve(bus);
	mutex_lock(&ctl_lock);
	ctl_resolved = ret;
	mutex_unlock(&ctl_lock);
	return len;
}

static ssize_t ctl_resolve_read(struct file *f, char __user *ubuf,
				size_t len, loff_t *pos)
{
	char buf[16];
	int n;

	mutex_lock(&ctl_lock);
	n = scnprintf(buf, sizeof(buf), "%d\n", ctl_resolved);
	mutex_unlock(&ctl_lock);
	return simple_read_from_buffer(ubuf, len, pos, buf, n);
}

static const struct file_operations ctl_events_fops = {
	.owner	= THIS_MODULE,
	.read	= ctl_events_read,
	.write	= ctl_events_write,
	.llseek	= default_llseek,
};

static const struct file_operations ctl_power_fops = {
	.owner	= THIS_MODULE,
	.write	= ctl_power_write,
};

static const struct file_operations ctl_shutdown_fops = {
	.owner	= THIS_MODULE,
	.write	= ctl_shutdown_write,
};

static const struct file_operations ctl_info_fops = {
	.owner	= THIS_MODULE,
	.read	= ctl_info_read,
	.write	= ctl_info_write,
	.llseek	= default_llseek,
};

static const struct file_operations ctl_resolve_fops = {
	.owner	= THIS_MODULE,
	.read	= ctl_resolve_read,
	.write	= ctl_resolve_write,
	.llseek	= default_llseek,
};

static int __init ctl_init(void)
{
	int ret;

	ret = rpw_srv_notifier_register(&ctl_nb);
	if (ret)
		return ret;
	ctl_dir = debugfs_create_dir("rackpwr_sim_srvctl", NULL);
	debugfs_create_file("events", 0600, ctl_dir, NULL, &ctl_events_fops);
	debugfs_create_file("power", 0200, ctl_dir, NULL, &ctl_power_fops);
	debugfs_create_file("shutdown", 0200, ctl_dir, NULL,
			    &ctl_shutdown_fops);
	debugfs_create_file("info", 0600, ctl_dir, NULL, &ctl_info_fops);
	debugfs_create_file("resolve", 0600, ctl_dir, NULL, &ctl_resolve_fops);
	return 0;
}

static void __exit ctl_exit(void)
{
	debugfs_remove_recursive(ctl_dir);
	rpw_srv_notifier_unregister(&ctl_nb);
}

module_init(ctl_init);
module_exit(ctl_exit);

MODULE_DESCRIPTION("rackpwr test-only driver of the server API (stands in for the allocation glue)");
MODULE_AUTHOR("rackpwr developers");
MODULE_LICENSE("GPL");
