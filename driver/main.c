// SPDX-License-Identifier: GPL-2.0-only
/*
 * rackpwr - module entry: brings the layers up bottom to top and down in
 * reverse.  The only file that names them all; the layering and the lock
 * order are written in rackpwr.h.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>

#include "psu.h"
#include "rackpwr.h"
#include "server.h"

static int __init rackpwr_init(void)
{
	int err;

	/* Protocols register before the transports can create nodes. */
	err = rpw_nl_init();
	if (err)
		return err;
	err = rpw_elect_proto_init();
	if (err)
		goto err_nl;
	err = rpw_psu_init();
	if (err)
		goto err_elect;
	err = rpw_srv_init();
	if (err)
		goto err_psu;
	err = rpw_cap_init();
	if (err)
		goto err_srv;
	err = rpw_alloc_init();
	if (err)
		goto err_cap;
	err = rpw_ldisc_init();
	if (err)
		goto err_alloc;
	err = rpw_serdev_init();
	if (err)
		goto err_ldisc;
	return 0;

err_ldisc:
	rpw_ldisc_exit();
err_alloc:
	rpw_alloc_exit();
err_cap:
	rpw_cap_exit();
err_srv:
	rpw_srv_exit();
err_psu:
	rpw_psu_exit();
err_elect:
	rpw_elect_proto_exit();
err_nl:
	rpw_nl_exit();
	return err;
}

static void __exit rackpwr_exit(void)
{
	rpw_serdev_exit();
	rpw_ldisc_exit();
	rpw_alloc_exit();
	rpw_cap_exit();
	rpw_srv_exit();
	rpw_psu_exit();
	rpw_elect_proto_exit();
	rpw_nl_exit();
	rpw_core_exit();
}

module_init(rackpwr_init);
module_exit(rackpwr_exit);

MODULE_DESCRIPTION("Rack power management over a shared RS-485 bus");
MODULE_AUTHOR("rackpwr developers");
MODULE_LICENSE("GPL");
