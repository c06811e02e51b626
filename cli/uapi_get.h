/* SPDX-License-Identifier: MIT */
/*
 * uapi_get.h - the client side of UAPI "get": find the interfaces served
 * under /var/run/wireguard, ask one for its state, and parse the answer
 * into the shared config model (proto/config.h) with per-peer statistics,
 * and ask a wirebolt daemon for its datapath counters (wirebolt-stats).
 * Used by `wirebolt show`. Any thread; no shared state.
 */
#ifndef WB_CLI_UAPI_GET_H
#define WB_CLI_UAPI_GET_H

#include <stddef.h>

#include "datapath/uapi.h"
#include "proto/config.h"

/* Names of the interfaces with a socket in dir (NULL: UAPI_RUN_DIR),
 * sorted; *names is a malloc'd array of IFNAMSIZ-sized strings. Returns
 * the count (0 when the directory is absent) or -errno. */
int uapi_get_list(const char *dir, char (**names)[16]);

/* Parse a get reply (everything up to, and optionally including, the
 * blank line that ends it) into *out (config_init'ed, empty): device keys,
 * peers with has_stats. Unknown keys are skipped (newer servers may add
 * some). Returns 0, the reply's errno=N when N is not 0, or -EINVAL /
 * -EPROTO / -ENOMEM for a reply that makes no sense; *out is freed on
 * error. */
int uapi_get_parse(const char *text, size_t len, struct config *out);

/* Connect to dir/<ifname>.sock, send "get=1", parse the reply. Returns 0
 * or -errno (-ENOENT when there is no such socket, -ECONNREFUSED for a
 * stale one). */
int uapi_get_fetch(const char *dir, const char *ifname, struct config *out);

/* Connect to dir/<ifname>.sock, send "wirebolt-stats=1", parse the reply
 * (uapi_parse_stats). Returns 0, -EOPNOTSUPP when the server does not know
 * the operation (wireguard-go closes without a reply; a server without a
 * stats callback answers errno=-22), or -errno as uapi_get_fetch. */
int uapi_get_stats_fetch(const char *dir, const char *ifname, struct uapi_stats *out);

#endif
