/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rackpwrctl map: the rack on one 80-column screen (maptext.h draws it).
 */
#ifndef _RPW_AGENT_CTLMAP_H
#define _RPW_AGENT_CTLMAP_H

#include <stdbool.h>

#include "nl.h"

/*
 * map [NODE] [-j] [--state-dir DIR] [--mode n+n|n+1|none]: @argv[0] is
 * "map"; @json when -j came before the command.  Reads the kernel through
 * @nl.  Returns the exit status.
 */
int ctl_map(struct rpw_nl *nl, int argc, char **argv, bool json);

#endif /* _RPW_AGENT_CTLMAP_H */
