/* SPDX-License-Identifier: MIT */
/*
 * timing.c - wall time, core cycles (perf_event_open counter or the
 * dependent-add calibration) and CPU pinning for the benchmarks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
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

/* Adds per calibration run: about a millisecond at 4 GHz. */
#define CALIBRATION_ROUNDS (1u << 16)
#define ADDS_PER_ROUND 64

static struct {
    int fd;                 /* the cycle counter, or -1 */
    char note[200];         /* why there is no counter */
    double ghz;             /* highest effective frequency measured */
    double cycles_per_add;  /* lowest measured with the counter */
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
 * or reordering the adds. */
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

static volatile uint64_t chain_sink;

void timing_calibrate(void)
{
    struct timing_span s;
    double adds = (double)CALIBRATION_ROUNDS * ADDS_PER_ROUND;

    timing_begin(&s);
    chain_sink = add_chain(CALIBRATION_ROUNDS);
    timing_end(&s);
    if (s.ns > 0 && adds / (double)s.ns > clk.ghz)
        clk.ghz = adds / (double)s.ns;
    if (clk.fd >= 0 && s.cycles > 0 &&
        (clk.cycles_per_add == 0 || s.cycles / adds < clk.cycles_per_add))
        clk.cycles_per_add = s.cycles / adds;
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

/* A counter that counts nothing, or nonsense, is worse than none. */
static void check_counter(void)
{
    if (clk.fd < 0)
        return;
    if (clk.cycles_per_add > 0.25 && clk.cycles_per_add < 4.0)
        return;
    snprintf(clk.note, sizeof(clk.note),
             "PERF_COUNT_HW_CPU_CYCLES opened but read %.3f cycles per dependent add",
             clk.cycles_per_add);
    timing_fini();
    clk.cycles_per_add = 0;
}

int timing_init(bool use_add_loop)
{
#if defined(__linux__)
    if (use_add_loop)
        snprintf(clk.note, sizeof(clk.note), "counter not used (--clock loop)");
    else
        open_counter();
#else
    (void)use_add_loop;
    snprintf(clk.note, sizeof(clk.note), "perf_event_open is Linux-only");
#endif
    for (int i = 0; i < 5; i++)
        timing_calibrate();
    check_counter();
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
    return "wall time x effective frequency (timed chain of dependent adds, 1 cycle each)";
}

const char *timing_counter_note(void)
{
    return clk.note;
}

double timing_ghz(void)
{
    return clk.ghz;
}

double timing_cycles_per_add(void)
{
    return clk.cycles_per_add;
}

double timing_ns_to_cycles(double ns)
{
    return ns * clk.ghz;
}
