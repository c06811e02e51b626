/* SPDX-License-Identifier: MIT */
/*
 * cpu.c - detects, once, the CPU features that decide which crypto
 * implementation runs (cpu.h).
 *
 * x86-64: CPUID leaves 1 and 7 say what the CPU has; XCR0 (XGETBV) says which
 * register files the OS saves on a context switch. AVX/AVX2 need XMM and YMM
 * state, AVX-512 also opmask and ZMM state: a CPU feature whose registers the
 * OS does not save counts as absent. aarch64 Linux: AT_HWCAP. Elsewhere every
 * feature reads false and only the portable code runs.
 */
#include "cpu.h"

#include <stdint.h>

#if defined(_WIN32)
#include <windows.h>
#else
#include <pthread.h>
#endif

#if defined(__x86_64__)
#include <cpuid.h>
#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1UL << 1)
#endif
#endif

static struct cpu_features features;

#if defined(__x86_64__)
/* CPUID.1:ECX */
#define CPUID1_ECX_SSSE3 (1u << 9)
#define CPUID1_ECX_OSXSAVE (1u << 27)
#define CPUID1_ECX_AVX (1u << 28)
/* CPUID.(7,0):EBX */
#define CPUID7_EBX_AVX2 (1u << 5)
#define CPUID7_EBX_BMI2 (1u << 8)
#define CPUID7_EBX_AVX512F (1u << 16)
#define CPUID7_EBX_ADX (1u << 19)
#define CPUID7_EBX_AVX512IFMA (1u << 21)
#define CPUID7_EBX_AVX512VL (1u << 31)
/* XCR0: SSE (1) and AVX (2) state; AVX-512 opmask (5), ZMM0-15 high (6), ZMM16-31 (7). */
#define XCR0_YMM 0x06u
#define XCR0_ZMM 0xe0u

static uint64_t read_xcr0(void)
{
    uint32_t lo, hi;

    /* XGETBV with ECX = 0; encoded by name so no -mxsave is needed. */
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static void detect(struct cpu_features *f)
{
    unsigned int eax, ebx, ecx, edx, max_leaf;
    uint64_t xcr0 = 0;
    bool ymm_ok, zmm_ok;

    max_leaf = __get_cpuid_max(0, NULL);
    if (max_leaf < 1 || !__get_cpuid(1, &eax, &ebx, &ecx, &edx))
        return;
    f->ssse3 = (ecx & CPUID1_ECX_SSSE3) != 0;
    if (ecx & CPUID1_ECX_OSXSAVE)
        xcr0 = read_xcr0();
    ymm_ok = (xcr0 & XCR0_YMM) == XCR0_YMM;
    zmm_ok = ymm_ok && (xcr0 & XCR0_ZMM) == XCR0_ZMM;
    f->avx = ymm_ok && (ecx & CPUID1_ECX_AVX) != 0;

    if (max_leaf < 7)
        return;
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    f->avx2 = f->avx && (ebx & CPUID7_EBX_AVX2) != 0;
    f->bmi2 = (ebx & CPUID7_EBX_BMI2) != 0;
    f->adx = (ebx & CPUID7_EBX_ADX) != 0;
    f->avx512f = zmm_ok && (ebx & CPUID7_EBX_AVX512F) != 0;
    f->avx512vl = f->avx512f && (ebx & CPUID7_EBX_AVX512VL) != 0;
    f->avx512ifma = f->avx512f && (ebx & CPUID7_EBX_AVX512IFMA) != 0;
}
#elif defined(__aarch64__) && defined(__linux__)
static void detect(struct cpu_features *f)
{
    f->neon = (getauxval(AT_HWCAP) & HWCAP_ASIMD) != 0;
}
#else
static void detect(struct cpu_features *f)
{
    (void)f;
}
#endif

#if defined(_WIN32)
static INIT_ONCE once = INIT_ONCE_STATIC_INIT;

static BOOL CALLBACK detect_once(PINIT_ONCE o, PVOID param, PVOID *ctx)
{
    (void)o;
    (void)param;
    (void)ctx;
    detect(&features);
    return TRUE;
}

const struct cpu_features *cpu_features_get(void)
{
    InitOnceExecuteOnce(&once, detect_once, NULL, NULL);
    return &features;
}
#else
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void detect_once(void)
{
    detect(&features);
}

/* Any thread, any time: the first caller detects, the others wait for it. */
const struct cpu_features *cpu_features_get(void)
{
    pthread_once(&once, detect_once);
    return &features;
}
#endif
