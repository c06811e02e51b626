/* SPDX-License-Identifier: MIT */
/*
 * timing.h - the benchmark's clocks: wall time, core cycles, and pinning the
 * thread to one CPU.
 *
 * Core cycles come from the hardware counter (Linux perf_event_open,
 * PERF_COUNT_HW_CPU_CYCLES, user mode, this thread) when the kernel and the
 * hypervisor expose it. Otherwise they are derived from wall time and the
 * effective core frequency, measured by timing a dependency chain the core
 * cannot shortcut:
 *   - x86-64: 64-bit `imul r, r`, 3 cycles latency on every Intel core since
 *     Core 2 and every AMD Zen (Agner Fog's tables, uops.info). A chain of
 *     `add $1` is NOT usable there: recent Intel cores (Golden Cove and
 *     later) fold add-immediate chains at rename, which read as 17.7 GHz on
 *     a Xeon VM. The add chain is still timed, as a cross-check.
 *   - aarch64 and others: dependent adds, 1 cycle (no folding known there).
 * A frequency outside 0.5-7 GHz is refused: timing_cycles_valid() turns
 * false and the benchmarks print cycles as "n/a" (their ns figures stand).
 * WB_BENCH_CLOCK=loop in the environment forces the calibrated fallback
 * even where the counter works, so both paths can be checked on one host.
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

/* Open the cycle counter unless `use_loop` (or WB_BENCH_CLOCK=loop), then
 * calibrate. Returns 0 (the calibrated loop is the fallback, so this cannot
 * fail; see timing_cycles_valid()). */
int timing_init(bool use_loop);
void timing_fini(void);

/* How cycles are obtained, in words, for the report header. */
const char *timing_method(void);
/* Why the counter is not used ("" when it is). */
const char *timing_counter_note(void);
bool timing_has_counter(void);

/* One short run of the calibration chains: updates the effective frequency
 * (the highest seen, i.e. the fastest run) and, with a counter, the measured
 * cycles per chain step. Call once per repetition so it tracks the same
 * conditions as the measurements. */
void timing_calibrate(void);
/* The effective frequency from the chain (its assumed latency x steps / ns). */
double timing_ghz(void);
/* Cycles are trustworthy: a working counter, or a frequency in 0.5-7 GHz.
 * When false, print cycle figures as "n/a". */
bool timing_cycles_valid(void);
/* The chain and its assumed latency, in words ("dependent imul, 3 cycles"). */
const char *timing_chain(void);
/* The cross-check of the two chains, in words, for the report header:
 * what the add chain says the frequency is, and whether that agrees. */
const char *timing_calibration_note(void);
double timing_cycles_per_step(void);   /* counter cycles per chain step; 0 without */

void timing_begin(struct timing_span *s);
void timing_end(struct timing_span *s);   /* turns s into the duration */

/* Core cycles for `ns` wall nanoseconds at the effective frequency (only
 * meaningful when timing_cycles_valid()). */
double timing_ns_to_cycles(double ns);

#endif
