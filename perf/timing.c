/* SPDX-License-Identifier: MIT */
/*
 * timing.c - wall time, core cycles (perf_event_open counter or the
 * calibrated dependency chain, see timing.h for the latency assumptions)
 * and CPU pinning for the benchmarks.
 *
 * Concurrency: one benchmark thread owns all of this (the counter counts
 * that thread only); no locking.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timing.h"

#if defined(_WIN32)
#include <windows.h>
#else
#include <time.h>
#endif
#if defined(__linux__)
#include <linux/perf_event.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

/* Chain steps per calibration run: about a millisecond of imuls at 4 GHz. */
#define CALIBRATION_ROUNDS (1u << 14)
#define STEPS_PER_ROUND 64
#define GHZ_MIN 0.5
#define GHZ_MAX 7.0
/* Cross-check: the add chain's frequency over the main chain's. Where adds
 * are the main chain this is 1 by construction. */
#define AGREE_LOW 0.8
#define AGREE_HIGH 1.25

#if defined(__x86_64__)
#define CHAIN_LATENCY 3.0
#define CHAIN_NAME "dependent 64-bit imul, 3 cycles each"
#else
#define CHAIN_LATENCY 1.0
#define CHAIN_NAME "dependent add, 1 cycle each"
#endif

static struct {
    int fd;                 /* the cycle counter, or -1 */
    char note[200];         /* why there is no counter */
    char check[240];        /* the cross-check, in words */
    double ghz;             /* highest effective frequency from the main chain */
    double add_ghz;         /* highest from the add chain, assuming 1 cycle per add */
    double cycles_per_step; /* lowest measured with the counter */
} clk = { .fd = -1 };

static uint64_t now_ns(void)
{
#if defined(_WIN32)
    static LARGE_INTEGER freq;
    LARGE_INTEGER c;

    if (freq.QuadPart == 0)
        QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&c);
    return (uint64_t)((double)c.QuadPart * 1e9 / (double)freq.QuadPart);
#else
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
#endif
}

int timing_pin(int cpu)
{
#if defined(__linux__)
    cpu_set_t set;

    if (cpu < 0)
        cpu = sched_getcpu();
    if (cpu < 0)
        return -errno;
    if (cpu >= CPU_SETSIZE)
        return -EINVAL;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0)
        return -errno;
    return cpu;
#elif defined(_WIN32)
    if (cpu < 0)
        cpu = (int)GetCurrentProcessorNumber();
    if (cpu >= (int)(8 * sizeof(DWORD_PTR)))
        return -EINVAL;
    if (SetThreadAffinityMask(GetCurrentThread(), (DWORD_PTR)1 << cpu) == 0)
        return -EINVAL;
    return cpu;
#else
    (void)cpu;
    return -ENOTSUP;
#endif
}

/* The counter's value scaled for multiplexing: raw[0] value, raw[1] time
 * enabled, raw[2] time running. */
static int read_counter(uint64_t raw[3])
{
#if defined(__linux__)
    if (clk.fd >= 0 && read(clk.fd, raw, 3 * sizeof(uint64_t)) == 3 * sizeof(uint64_t))
        return 0;
#endif
    raw[0] = raw[1] = raw[2] = 0;
    return -1;
}

static double counter_delta(const uint64_t a[3], const uint64_t b[3])
{
    double value = (double)(b[0] - a[0]);
    uint64_t enabled = b[1] - a[1], running = b[2] - a[2];

    if (running > 0 && running < enabled)
        value *= (double)enabled / (double)running;
    return value;
}

void timing_begin(struct timing_span *s)
{
    uint64_t raw[3];

    read_counter(raw);
    s->cycles = 0;
    memcpy(s->raw_, raw, sizeof(raw));
    s->ns = now_ns();
}

void timing_end(struct timing_span *s)
{
    uint64_t t = now_ns(), raw[3];

    s->ns = t - s->ns;
    if (clk.fd >= 0 && read_counter(raw) == 0)
        s->cycles = counter_delta(s->raw_, raw);
}

/* `rounds` x 64 adds, each waiting for the one before. In assembly where we
 * can, so that the chain stays in a register whatever the optimisation level;
 * elsewhere an empty asm claiming to change x keeps the compiler from merging
 * or reordering the adds. Recent Intel cores run this at several adds per
 * cycle (folded at rename): it is only the cross-check on x86-64. */
#define ADD1(x) x += 1; __asm__("" : "+r"(x));
#define ADD8(x) ADD1(x) ADD1(x) ADD1(x) ADD1(x) ADD1(x) ADD1(x) ADD1(x) ADD1(x)
#define ADD64(x) ADD8(x) ADD8(x) ADD8(x) ADD8(x) ADD8(x) ADD8(x) ADD8(x) ADD8(x)

static uint64_t add_chain(uint32_t rounds)
{
    uint64_t x = 0, n = rounds;

#if defined(__x86_64__)
    __asm__ volatile("1:\n\t.rept 64\n\tadd $1, %0\n\t.endr\n\tdec %1\n\tjnz 1b"
                     : "+r"(x), "+r"(n) : : "cc");
#elif defined(__aarch64__)
    __asm__ volatile("1:\n\t.rept 64\n\tadd %0, %0, #1\n\t.endr\n\tsubs %1, %1, #1\n\t"
                     "b.ne 1b"
                     : "+r"(x), "+r"(n) : : "cc");
#else
    for (; n > 0; n--) {
        ADD64(x)
    }
#endif
    return x;
}

#if defined(__x86_64__)
/* `rounds` x 64 `imul x, x`: each multiply needs the one before, and no
 * core folds or eliminates a multiply, so the chain runs at exactly its
 * latency. The loop counter is independent and overlaps. */
static uint64_t imul_chain(uint32_t rounds)
{
    uint64_t x = 3, n = rounds;

    __asm__ volatile("1:\n\t.rept 64\n\timul %0, %0\n\t.endr\n\tdec %1\n\tjnz 1b"
                     : "+r"(x), "+r"(n) : : "cc");
    return x;
}
#define main_chain imul_chain
#else
#define main_chain add_chain
#endif

static volatile uint64_t chain_sink;

/* Time one run of `chain`; returns its wall ns and counter cycles. */
static void time_chain(uint64_t (*chain)(uint32_t), uint32_t rounds, struct timing_span *s)
{
    timing_begin(s);
    chain_sink = chain(rounds);
    timing_end(s);
}

void timing_calibrate(void)
{
    struct timing_span s;
    double steps = (double)CALIBRATION_ROUNDS * STEPS_PER_ROUND;
    /* As many adds as the imul chain takes cycles, so both runs last alike. */
    uint32_t add_rounds = (uint32_t)(CALIBRATION_ROUNDS * CHAIN_LATENCY);

    time_chain(main_chain, CALIBRATION_ROUNDS, &s);
    if (s.ns > 0 && steps * CHAIN_LATENCY / (double)s.ns > clk.ghz)
        clk.ghz = steps * CHAIN_LATENCY / (double)s.ns;
    if (clk.fd >= 0 && s.cycles > 0 &&
        (clk.cycles_per_step == 0 || s.cycles / steps < clk.cycles_per_step))
        clk.cycles_per_step = s.cycles / steps;

    time_chain(add_chain, add_rounds, &s);
    if (s.ns > 0 && (double)add_rounds * STEPS_PER_ROUND / (double)s.ns > clk.add_ghz)
        clk.add_ghz = (double)add_rounds * STEPS_PER_ROUND / (double)s.ns;
}

/* Say whether the add chain agrees with the main chain. */
static void cross_check(void)
{
    double ratio = clk.ghz > 0 ? clk.add_ghz / clk.ghz : 0;

    if (CHAIN_LATENCY == 1.0)
        snprintf(clk.check, sizeof(clk.check), "no second chain on this architecture");
    else if (ratio >= AGREE_LOW && ratio <= AGREE_HIGH)
        snprintf(clk.check, sizeof(clk.check),
                 "add chain (1 cycle assumed) agrees: %.3f GHz (ratio %.2f)", clk.add_ghz, ratio);
    else
        snprintf(clk.check, sizeof(clk.check),
                 "add chain (1 cycle assumed) disagrees: %.3f GHz, %.2f adds per imul cycle; "
                 "%s", clk.add_ghz, ratio,
                 ratio > 1 ? "adds folded at rename, ignored" : "imul slower than assumed?");
}

#if defined(__linux__)
static void open_counter(void)
{
    struct perf_event_attr attr;

    memset(&attr, 0, sizeof(attr));
    attr.type = PERF_TYPE_HARDWARE;
    attr.size = sizeof(attr);
    attr.config = PERF_COUNT_HW_CPU_CYCLES;
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
    clk.fd = (int)syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
    if (clk.fd < 0)
        snprintf(clk.note, sizeof(clk.note), "perf_event_open(PERF_COUNT_HW_CPU_CYCLES): %s",
                 strerror(errno));
}
#endif

/* A counter that counts nothing, or nonsense (a reference clock instead of
 * core cycles, say), is worse than none: it must see the chain's latency. */
static void check_counter(void)
{
    if (clk.fd < 0)
        return;
    if (clk.cycles_per_step > 0.75 * CHAIN_LATENCY && clk.cycles_per_step < 1.4 * CHAIN_LATENCY)
        return;
    snprintf(clk.note, sizeof(clk.note),
             "PERF_COUNT_HW_CPU_CYCLES opened but read %.3f cycles per chain step (%s)",
             clk.cycles_per_step, CHAIN_NAME);
    timing_fini();
    clk.cycles_per_step = 0;
}

int timing_init(bool use_loop)
{
    const char *env = getenv("WB_BENCH_CLOCK");

#if defined(__linux__)
    if (use_loop)
        snprintf(clk.note, sizeof(clk.note), "counter not used (--clock loop)");
    else if (env && strcmp(env, "loop") == 0)
        snprintf(clk.note, sizeof(clk.note), "counter not used (WB_BENCH_CLOCK=loop)");
    else
        open_counter();
#else
    (void)use_loop, (void)env;
    snprintf(clk.note, sizeof(clk.note), "perf_event_open is Linux-only");
#endif
    for (int i = 0; i < 5; i++)
        timing_calibrate();
    check_counter();
    cross_check();
    return 0;
}

void timing_fini(void)
{
#if defined(__linux__)
    if (clk.fd >= 0)
        close(clk.fd);
#endif
    clk.fd = -1;
}

bool timing_has_counter(void)
{
    return clk.fd >= 0;
}

const char *timing_method(void)
{
    if (clk.fd >= 0)
        return "perf_event_open PERF_COUNT_HW_CPU_CYCLES (user-mode core cycles of this thread)";
    if (!timing_cycles_valid())
        return "none: the calibrated frequency is outside 0.5-7 GHz, cycles print as n/a";
#if defined(__x86_64__)
    return "wall time x effective frequency (timed chain of dependent imul, 3 cycles each)";
#else
    return "wall time x effective frequency (timed chain of dependent adds, 1 cycle each)";
#endif
}

bool timing_cycles_valid(void)
{
    return clk.fd >= 0 || (clk.ghz >= GHZ_MIN && clk.ghz <= GHZ_MAX);
}

const char *timing_chain(void)
{
    return CHAIN_NAME;
}

const char *timing_calibration_note(void)
{
    return clk.check;
}

const char *timing_counter_note(void)
{
    return clk.note;
}

double timing_ghz(void)
{
    return clk.ghz;
}

double timing_cycles_per_step(void)
{
    return clk.cycles_per_step;
}

double timing_ns_to_cycles(double ns)
{
    return ns * clk.ghz;
}
