// SPDX-License-Identifier: GPL-2.0-only
/*
 * rackpwr - serdev transport: a bus node described by firmware as a child
 * of its UART (Documentation/devicetree/bindings/misc/rackpwr,bus-node.yaml).
 * The UART node itself carries the RS-485 settings; echo-verified
 * arbitration needs rs485-rx-during-tx, so probe warns without it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/i2c.h>
#include <linux/mod_devicetable.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/property.h>
#include <linux/serdev.h>
#include <linux/slab.h>

#include "rackpwr.h"

struct rpw_sd {
	struct serdev_device *serdev;
	struct rpw_node *node;
	struct work_struct tx_work;
	struct work_struct flush_work;	/* the tty's flush: may sleep */
	struct rpw_txbuf tx;
};

static int rpw_sd_out(void *ctx, const u8 *buf, size_t len)
{
	return serdev_device_write_buf(ctx, buf, len);
}

static void rpw_sd_write(struct rpw_node *node, const u8 *buf, size_t len)
{
	struct rpw_sd *sd = node->priv;

	rpw_txbuf_write(&sd->tx, buf, len, rpw_sd_out, sd->serdev);
}

/*
 * Node lock held, BH off: serdev_device_write_flush() is the tty's
 * flush_buffer, which may sleep; it runs from flush_work, as in ldisc.c.
 */
static void rpw_sd_flush(struct rpw_node *node)
{
	struct rpw_sd *sd = node->priv;

	rpw_txbuf_abort(&sd->tx);
	schedule_work(&sd->flush_work);
}

static const struct rpw_transport_ops rpw_sd_tops = {
	.write = rpw_sd_write,
	.flush = rpw_sd_flush,
};

static void rpw_sd_tx_work(struct work_struct *work)
{
	struct rpw_sd *sd = container_of(work, struct rpw_sd, tx_work);

	rpw_txbuf_push(&sd->tx, rpw_sd_out, sd->serdev);
}

static void rpw_sd_flush_work(struct work_struct *work)
{
	struct rpw_sd *sd = container_of(work, struct rpw_sd, flush_work);
	unsigned int gen = rpw_txbuf_flush_gen(&sd->tx);

	serdev_device_write_flush(sd->serdev);
	rpw_txbuf_flushed(&sd->tx, gen, rpw_sd_out, sd->serdev);
}

static int rpw_sd_receive_buf(struct serdev_device *serdev,
			      const unsigned char *buf, size_t len)
{
	struct rpw_sd *sd = serdev_device_get_drvdata(serdev);

	rpw_node_rx(sd->node, buf, len);
	return len;
}

static void rpw_sd_write_wakeup(struct serdev_device *serdev)
{
	struct rpw_sd *sd = serdev_device_get_drvdata(serdev);

	schedule_work(&sd->tx_work);
}

static const struct serdev_device_ops rpw_sd_ops = {
	.receive_buf = rpw_sd_receive_buf,
	.write_wakeup = rpw_sd_write_wakeup,
};

/*
 * rackpwr,i2c-bus = <&i2cN>: the I2C bus of this node's own hardware (a
 * power-supply node's assembly), bound by adapter number.  Absent: the
 * default binding (the only assembly).  Device tree only: without
 * CONFIG_OF the property cannot be there.
 */
static int rpw_sd_read_i2c_bus(struct device *dev, struct rpw_node_params *p)
{
	struct i2c_adapter *adap;
	struct device_node *np;

	if (!of_find_property(dev->of_node, "rackpwr,i2c-bus", NULL))
		return 0;
	np = of_parse_phandle(dev->of_node, "rackpwr,i2c-bus", 0);
	if (!np) {
		dev_err(dev, "rackpwr,i2c-bus must be a phandle to an I2C bus\n");
		return -EINVAL;
	}
	adap = of_find_i2c_adapter_by_node(np);
	of_node_put(np);
	if (!adap)
		return dev_err_probe(dev, -EPROBE_DEFER,
				     "I2C bus of rackpwr,i2c-bus not registered yet\n");
	p->i2c_bus = adap->nr;
	p->has_i2c_bus = true;
	put_device(&adap->dev);
	return 0;
}

static int rpw_sd_read_params(struct device *dev, struct rpw_node_params *p)
{
	const char *role;
	u32 v;

	memset(p, 0, sizeof(*p));
	if (device_property_read_u32(dev, "rackpwr,address", &v) ||
	    v < RPW_ADDR_MIN || v > RPW_ADDR_MAX) {
		dev_err(dev, "rackpwr,address (bus address) must be 1..254\n");
		return -EINVAL;
	}
	p->addr = v;
	p->role = RACKPWR_ROLE_CHASSIS;
	if (!device_property_read_string(dev, "rackpwr,role", &role)) {
		if (!strcmp(role, "psu")) {
			p->role = RACKPWR_ROLE_PSU;
		} else if (strcmp(role, "chassis")) {
			dev_err(dev, "rackpwr,role must be \"psu\" or \"chassis\"\n");
			return -EINVAL;
		}
	}
	p->baud = 115200;
	device_property_read_u32(dev, "current-speed", &p->baud);
	device_property_read_u32(dev, "rackpwr,slot-us", &p->t_slot_us);
	device_property_read_u32(dev, "rackpwr,ifs-us", &p->t_ifs_us);
	if (!device_property_read_u32(dev, "rackpwr,turnaround-us",
				      &p->t_turnaround_us))
		p->has_turnaround = true;
	device_property_read_u32(dev, "rackpwr,ack-timeout-us",
				 &p->ack_timeout_us);
	if (!device_property_read_u32(dev, "rackpwr,max-retries", &v)) {
		if (v > 15) {
			dev_err(dev, "rackpwr,max-retries must be 0..15\n");
			return -EINVAL;
		}
		p->max_retries = v;
		p->has_max_retries = true;
	}
	return rpw_sd_read_i2c_bus(dev, p);
}

static int rpw_sd_probe(struct serdev_device *serdev)
{
	struct device *dev = &serdev->dev;
	struct device *uart = dev->parent ? dev->parent->parent : NULL;
	struct netlink_ext_ack extack = {};
	struct rpw_node_params p;
	struct rpw_node *node;
	struct rpw_sd *sd;
	int err;

	err = rpw_sd_read_params(dev, &p);
	if (err)
		return err;
	if (uart && !device_property_read_bool(uart,
					       "linux,rs485-enabled-at-boot-time"))
		dev_warn(dev, "UART is not in RS-485 mode at boot (linux,rs485-enabled-at-boot-time)\n");
	if (uart && !device_property_read_bool(uart, "rs485-rx-during-tx"))
		dev_warn(dev, "UART lacks rs485-rx-during-tx: collisions cannot be seen\n");

	sd = devm_kzalloc(dev, sizeof(*sd), GFP_KERNEL);
	if (!sd)
		return -ENOMEM;
	sd->serdev = serdev;
	rpw_txbuf_init(&sd->tx);
	INIT_WORK(&sd->tx_work, rpw_sd_tx_work);
	INIT_WORK(&sd->flush_work, rpw_sd_flush_work);
	serdev_device_set_drvdata(serdev, sd);

	node = rpw_node_create(RACKPWR_KIND_SERDEV, dev_name(dev), 0,
			       RPW_MAC_PROFILE_UART, &rpw_sd_tops, sd);
	if (IS_ERR(node))
		return PTR_ERR(node);
	sd->node = node;

	serdev_device_set_client_ops(serdev, &rpw_sd_ops);
	err = serdev_device_open(serdev);
	if (err)
		goto err_node;
	serdev_device_set_baudrate(serdev, p.baud);
	serdev_device_set_flow_control(serdev, false);
	err = serdev_device_set_parity(serdev, SERDEV_PARITY_NONE);
	if (err)
		goto err_close;
	err = rpw_node_configure(node, &p, &extack);
	if (err) {
		dev_err(dev, "bad configuration: %s\n",
			extack._msg ?: "see the binding");
		goto err_close;
	}
	return 0;

err_close:
	serdev_device_close(serdev);
err_node:
	rpw_node_destroy(node);
	cancel_work_sync(&sd->tx_work);
	cancel_work_sync(&sd->flush_work);
	return err;
}

static void rpw_sd_remove(struct serdev_device *serdev)
{
	struct rpw_sd *sd = serdev_device_get_drvdata(serdev);

	rpw_node_destroy(sd->node);	/* no more writes after this */
	cancel_work_sync(&sd->flush_work);	/* uses the open port */
	serdev_device_close(serdev);	/* no more rx or wakeups */
	cancel_work_sync(&sd->tx_work);
}

static const struct of_device_id rpw_sd_of_match[] = {
	{ .compatible = "rackpwr,bus-node" },
	{ }
};
MODULE_DEVICE_TABLE(of, rpw_sd_of_match);

static struct serdev_device_driver rpw_sd_driver = {
	.probe = rpw_sd_probe,
	.remove = rpw_sd_remove,
	.driver = {
		.name = "rackpwr-serdev",
		.of_match_table = rpw_sd_of_match,
	},
};

int __init rpw_serdev_init(void)
{
	return serdev_device_driver_register(&rpw_sd_driver);
}

void rpw_serdev_exit(void)
{
	serdev_device_driver_unregister(&rpw_sd_driver);
}
