/* SPDX-License-Identifier: MIT */
/* clock.c - system clocks (POSIX clock_gettime, Windows QPC and file time)
 * and the dispatch to an embedder-supplied struct wb_clock. */
#include "proto/clock.h"

#if defined(_WIN32)
#include <windows.h>

static uint64_t system_monotonic_ns(void)
{
    static LARGE_INTEGER freq;   /* benign race: every thread stores the same value */
    LARGE_INTEGER now;

    if (!freq.QuadPart)
        QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&now);
    return (uint64_t)((unsigned __int128)now.QuadPart * 1000000000ULL / (uint64_t)freq.QuadPart);
}

static uint64_t filetime_unix_ns(const FILETIME *ft)
{
    /* FILETIME: 100 ns ticks since 1601-01-01. */
    const uint64_t epoch_delta = 116444736000000000ULL;
    ULARGE_INTEGER t;

    t.LowPart = ft->dwLowDateTime;
    t.HighPart = ft->dwHighDateTime;
    return (t.QuadPart - epoch_delta) * 100ULL;
}

static uint64_t system_realtime_ns(void)
{
    FILETIME ft;

    GetSystemTimePreciseAsFileTime(&ft);
    return filetime_unix_ns(&ft);
}

/* The tick-granular system time, the one the C runtime's time() reads. */
static uint64_t system_realtime_coarse_ns(void)
{
    FILETIME ft;

    GetSystemTimeAsFileTime(&ft);
    return filetime_unix_ns(&ft);
}
#else
#include <time.h>

static uint64_t timespec_ns(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t system_monotonic_ns(void)
{
#if defined(CLOCK_BOOTTIME)
    /* Like the Linux module: time in suspend counts, so keys expire. */
    return timespec_ns(CLOCK_BOOTTIME);
#else
    return timespec_ns(CLOCK_MONOTONIC);
#endif
}

static uint64_t system_realtime_ns(void)
{
    return timespec_ns(CLOCK_REALTIME);
}

/* glibc's time() reads the vDSO's seconds of the last tick, which is
 * CLOCK_REALTIME_COARSE; CLOCK_REALTIME is up to a tick ahead of it. */
static uint64_t system_realtime_coarse_ns(void)
{
#if defined(CLOCK_REALTIME_COARSE)
    return timespec_ns(CLOCK_REALTIME_COARSE);
#else
    return timespec_ns(CLOCK_REALTIME);
#endif
}
#endif

uint64_t clock_monotonic_ns(const struct wb_clock *c)
{
    if (c && c->monotonic)
        return c->monotonic(c->ctx);
    return system_monotonic_ns();
}

uint64_t clock_realtime_ns(const struct wb_clock *c)
{
    if (c && c->realtime)
        return c->realtime(c->ctx);
    return system_realtime_ns();
}

uint64_t clock_realtime_coarse_ns(const struct wb_clock *c)
{
    if (c && c->realtime)
        return c->realtime(c->ctx);
    return system_realtime_coarse_ns();
}
