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
/* The real-time clock at tick resolution: never ahead of what time() says
 * at the same moment, so a time taken from it and shown later by a tool
 * that compares with time() (wg show) is never "in the future". The
 * embedder's `realtime` when it has one. */
uint64_t clock_realtime_coarse_ns(const struct wb_clock *c);

#endif
