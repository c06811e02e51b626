/* SPDX-License-Identifier: MIT */
/* tai64n.h - the handshake timestamp: 12 bytes, big-endian TAI64 seconds
 * then nanoseconds rounded down to a multiple of 2^24. */
#ifndef WB_PROTO_TAI64N_H
#define WB_PROTO_TAI64N_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/messages.h"

void tai64n_from_realtime(uint8_t out[NOISE_TIMESTAMP_LEN], uint64_t unix_ns);
/* True when a is strictly later than b (big-endian compare). */
bool tai64n_after(const uint8_t a[NOISE_TIMESTAMP_LEN], const uint8_t b[NOISE_TIMESTAMP_LEN]);

#endif
