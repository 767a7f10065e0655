// SPDX-License-Identifier: GPL-2.0-only
/*
 * Deliberately broken module for the rig's self-tests: its init hits
 * WARN_ON(1) and still loads, so the loading test passes.  The rig must fail
 * the run anyway because the kernel log holds a splat.  Never ship this.
 */
#include <linux/bug.h>
#include <linux/module.h>

static int __init rig_warn_init(void)
{
	WARN_ON(1);
	return 0;
}

static void __exit rig_warn_exit(void)
{
}

module_init(rig_warn_init);
module_exit(rig_warn_exit);

MODULE_DESCRIPTION("rackpwr test rig: emits one WARNING on load");
MODULE_LICENSE("GPL");
