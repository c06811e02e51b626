/* SPDX-License-Identifier: MIT */
/*
 * save_config.h - SaveConfig=true: on the way down, the running
 * configuration goes back into the file it came from, with the wg-quick
 * keys of the original (Address, DNS, MTU, Table, hooks, SaveConfig) and
 * its WireSock keys, as wg-quick's save_config does.
 */
#ifndef WB_CLI_SAVE_CONFIG_H
#define WB_CLI_SAVE_CONFIG_H

#include <stdint.h>

#include "proto/config.h"

/* Merge into *out (config_init'ed, empty; config_free it also on error):
 * copies of the interface keys of `file`, key, port and peers from
 * `running` (device_get_config). FwMark: the running one, unless it is
 * auto_fwmark (the policy routing mark `up` chose, not the user). Per peer
 * present in both: the file's AllowedIPs and DisallowedIPs are kept when
 * they still give the running allowed IPs (otherwise the running ones are
 * written, without DisallowedIPs), and the file's Endpoint host name when
 * it still resolves to the running endpoint. Returns 0 or -ENOMEM. */
int save_config_merge(const struct config *file, const struct config *running, uint32_t auto_fwmark,
                      struct config *out);

/* Print *c and replace path with it (path.tmp, mode 0600, fsync, rename).
 * Returns 0 or -errno. */
int save_config_write(const char *path, const struct config *c);

#endif
