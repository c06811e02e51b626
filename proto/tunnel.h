/* SPDX-License-Identifier: MIT */
/*
 * tunnel.h - internal hooks into the single-peer tunnel, for tests only
 * (tests link the static library). Not part of the public API.
 */
#ifndef WB_PROTO_TUNNEL_H
#define WB_PROTO_TUNNEL_H

#include <stdint.h>

#include "include/wirebolt.h"

/* Set the sending counter of the current keypair (message-limit tests).
 * Returns 0, or -ENOENT without a current keypair. */
int tunnel_debug_set_sending_counter(struct wb_tunnel *t, uint64_t counter);
/* Make timer deadlines deterministic (no jitter). */
void tunnel_debug_disable_jitter(struct wb_tunnel *t);
/* Local indices of the current/previous/next keypairs (0 when absent). */
void tunnel_debug_keypair_indices(struct wb_tunnel *t, uint32_t *current, uint32_t *previous,
                                  uint32_t *next);
/* Number of packets waiting for a key. */
unsigned tunnel_debug_staged_count(struct wb_tunnel *t);
/* Earliest timer deadline (monotonic ns, 0 = none). */
uint64_t tunnel_debug_next_deadline(struct wb_tunnel *t);

#endif
