/* SPDX-License-Identifier: MIT */
/*
 * clock.h - time for the protocol: a monotonic clock for timers and a
 * real-time clock for TAI64N timestamps, both behind struct wb_clock so an
 * embedder (or a test) can substitute its own. Thread-safe.
 */
#ifndef WB_PROTO_CLOCK_H
#define WB_PROTO_CLOCK_H

#include <stdint.h>

#include "include/wirebolt.h"

/* `c` may be NULL or have NULL members: the system clock is used then. */
uint64_t clock_monotonic_ns(const struct wb_clock *c);
uint64_t clock_realtime_ns(const struct wb_clock *c);

#endif
