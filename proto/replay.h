/* SPDX-License-Identifier: MIT */
/*
 * replay.h - the receive-side counter window (RFC 6479 without shifts):
 * a ring of COUNTER_BITS_TOTAL bits, of which COUNTER_WINDOW_SIZE (8128)
 * counters behind the newest are accepted once each.
 *
 * Concurrency: the caller serialises calls on one counter (the per-peer
 * ordered receive stage, or the tunnel lock). Call only after the packet
 * authenticated: an unauthenticated counter must never move the window.
 */
#ifndef WB_PROTO_REPLAY_H
#define WB_PROTO_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/messages.h"

struct replay_counter {
    uint64_t counter;           /* one past the greatest counter accepted */
    uint64_t backtrack[COUNTER_BITS_TOTAL / 64];
    uint64_t received;          /* packets accepted, for loss estimates */
};

void replay_init(struct replay_counter *c);
/* True when `counter` is new and inside the window (and < REJECT_AFTER_MESSAGES);
 * it is then marked as seen. False for duplicates and too-old counters. */
bool replay_check_and_update(struct replay_counter *c, uint64_t counter);

#endif
