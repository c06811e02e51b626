/* SPDX-License-Identifier: MIT */
/*
 * timing.h - the benchmark's clocks: wall time, core cycles, and pinning the
 * thread to one CPU.
 *
 * Core cycles come from the hardware counter (Linux perf_event_open,
 * PERF_COUNT_HW_CPU_CYCLES, user mode, this thread) when the kernel and the
 * hypervisor expose it. Otherwise they are derived from wall time and the
 * effective core frequency, measured by timing a chain of dependent adds
 * (one cycle each on every core this project targets).
 *
 * Single-threaded: everything here belongs to the benchmark's one thread.
 */
#ifndef WB_PERF_TIMING_H
#define WB_PERF_TIMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One measured interval: wall nanoseconds and core cycles (0 without a
 * counter; see timing_cycles()). */
struct timing_span {
    uint64_t ns;
    double cycles;
    uint64_t raw_[3];   /* timing.c's counter reading at timing_begin() */
};

/* Pin the calling thread to `cpu` (< 0: the CPU it is running on now).
 * Returns the CPU pinned to, or -errno. */
int timing_pin(int cpu);

/* Open the cycle counter unless `use_add_loop`, then calibrate the add loop.
 * Returns 0 (the add loop is the fallback, so this cannot fail). */
int timing_init(bool use_add_loop);
void timing_fini(void);

/* How cycles are obtained, in words, for the report header. */
const char *timing_method(void);
/* Why the counter is not used ("" when it is). */
const char *timing_counter_note(void);
bool timing_has_counter(void);

/* One short run of the dependent-add loop: updates the effective frequency
 * (the highest seen, i.e. the fastest run) and, with a counter, the measured
 * cycles per add. Call once per repetition so it tracks the same conditions
 * as the measurements. */
void timing_calibrate(void);
double timing_ghz(void);
double timing_cycles_per_add(void);   /* 0 without a counter */

void timing_begin(struct timing_span *s);
void timing_end(struct timing_span *s);   /* turns s into the duration */

/* Core cycles for `ns` wall nanoseconds at the effective frequency. */
double timing_ns_to_cycles(double ns);

#endif
