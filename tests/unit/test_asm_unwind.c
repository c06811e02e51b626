/* SPDX-License-Identifier: MIT */
/*
 * test_asm_unwind.c - the asm/ kernels carry unwind information, so
 * debuggers, profilers, crash reporters and Windows exception dispatch can
 * walk the stack through them (asm/x86_64_defs.h, UNWIND_*):
 *   - Linux: a profiling timer interrupts a loop of seals and opens through
 *     every x86-64 AEAD implementation the CPU runs; each signal handler
 *     takes a backtrace(), which must reach the loop's own function. A
 *     kernel without CFI ends the walk in it, so most samples (the kernels
 *     are most of the time) would fail.
 *   - Windows: RtlLookupFunctionEntry must find a function table entry
 *     (.pdata) for every entry point, with unwind codes for its prologue.
 * Returns 77 elsewhere (not x86-64, or neither OS).
 */
#include <stdio.h>

#if defined(__x86_64__) && (defined(__linux__) || defined(_WIN32))

#include <stdint.h>
#include <string.h>

#include <wirebolt.h>

#include "check.h"
#include "crypto/aead.h"
#include "crypto/cpu.h"

#define SYSV __attribute__((sysv_abi))

/* The entry points in asm/, by their declarations in crypto/aead_x86_64.c. */
SYSV void chacha20_avx2_xor(void);
SYSV void chacha20_avx512_xor(void);
SYSV void chacha20_avx512_keystream(void);
SYSV void chacha20_avx512_blocks32(void);
SYSV void chacha20_avx2_blocks8(void);
SYSV void chacha20_ssse3_xor(void);
SYSV void poly1305_x86_64_blocks_mulx(void);
SYSV void poly1305_x86_64_blocks(void);
SYSV void poly1305_avx2_blocks(void);
SYSV void poly1305_avx512ifma_blocks(void);
SYSV void chacha20poly1305_avx2_seal(void);
SYSV void chacha20poly1305_avx2_open(void);

static const struct {
    const char *name;
    SYSV void (*fn)(void);  /* only its address is used */
} entries[] = {
    { "chacha20_avx2_xor", chacha20_avx2_xor },
    { "chacha20_avx512_xor", chacha20_avx512_xor },
    { "chacha20_avx512_keystream", chacha20_avx512_keystream },
    { "chacha20_avx512_blocks32", chacha20_avx512_blocks32 },
    { "chacha20_avx2_blocks8", chacha20_avx2_blocks8 },
    { "chacha20_ssse3_xor", chacha20_ssse3_xor },
    { "poly1305_x86_64_blocks_mulx", poly1305_x86_64_blocks_mulx },
    { "poly1305_x86_64_blocks", poly1305_x86_64_blocks },
    { "poly1305_avx2_blocks", poly1305_avx2_blocks },
    { "poly1305_avx512ifma_blocks", poly1305_avx512ifma_blocks },
    { "chacha20poly1305_avx2_seal", chacha20poly1305_avx2_seal },
    { "chacha20poly1305_avx2_open", chacha20poly1305_avx2_open },
};
#define N_ENTRIES (sizeof(entries) / sizeof(entries[0]))

#if defined(__linux__)

#include <execinfo.h>
#include <signal.h>
#include <sys/time.h>

#define DEPTH 64

static volatile sig_atomic_t samples, reached;
/* Set inside work_loop only: a tick that lands before the loop or after it
 * (between the last round and the timer being stopped) is not a sample. */
static volatile sig_atomic_t in_loop;

/* work_loop sits alone in its own section; the linker marks its bounds. */
#define LOOP_SECTION "wb_unwind_loop"
extern const char __start_wb_unwind_loop[], __stop_wb_unwind_loop[];

static void on_prof(int sig)
{
    void *trace[DEPTH];
    int n = backtrace(trace, DEPTH);
    uintptr_t lo = (uintptr_t)__start_wb_unwind_loop, hi = (uintptr_t)__stop_wb_unwind_loop;

    (void)sig;
    if (!in_loop)
        return;
    samples++;
    for (int i = 0; i < n; i++)
        if ((uintptr_t)trace[i] > lo && (uintptr_t)trace[i] <= hi) {
            reached++;
            return;
        }
}

/* Seals and opens of every size class the implementations branch on. */
__attribute__((noinline, section(LOOP_SECTION))) static void work_loop(
    const struct aead_impl *impl, int rounds)
{
    static uint8_t pt[4096], ct[4096 + 16], out[4096];
    static const size_t lens[] = { 64, 320, 600, 1420, 4096 };
    static struct aead_op ops[16];
    uint8_t key[32] = { 7 }, nonce[12] = { 0 };

    in_loop = 1;

    for (int r = 0; r < rounds; r++) {
        for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
            impl->seal(ct, pt, lens[i], NULL, 0, nonce, key);
            if (impl->open(out, ct, lens[i] + 16, NULL, 0, nonce, key) != 0)
                CHECK(0);
        }
        if (impl->seal_batch) {
            for (size_t i = 0; i < 16; i++)
                ops[i] = (struct aead_op){ .dst = ct, .src = pt, .len = 64 + 40 * i,
                                           .counter = i, .key = key };
            impl->seal_batch(ops, 16);
        }
    }
    in_loop = 0;
    __asm__ volatile("" ::: "memory");  /* keep the tail call out */
}

static void check_backtraces(void)
{
    const struct cpu_features *cpu = cpu_features_get();
    struct itimerval every = { { 0, 1000 }, { 0, 1000 } }, off = { { 0, 0 }, { 0, 0 } };
    const struct aead_impl *impl;

    CHECK(signal(SIGPROF, on_prof) != SIG_ERR);
    {
        void *warm[4];  /* backtrace() loads libgcc_s on first use: not in a handler */

        CHECK(backtrace(warm, 4) > 0);
    }
    for (size_t i = 0; (impl = aead_impl_at(i)) != NULL; i++) {
        if (strcmp(impl->name, "portable") == 0 || !impl->supported(cpu))
            continue;
        samples = reached = 0;
        CHECK(setitimer(ITIMER_PROF, &every, NULL) == 0);
        for (int batch = 0; batch < 400 && samples < 200; batch++)  /* ~1 ms a sample */
            work_loop(impl, 100);
        CHECK(setitimer(ITIMER_PROF, &off, NULL) == 0);
        printf("%s: %d samples, %d backtraces reached the caller\n", impl->name, (int)samples,
               (int)reached);
        CHECK(samples >= 20);
        CHECK(reached == samples);
    }
}
#endif /* __linux__ */

#if defined(_WIN32)
#include <windows.h>

/* Every entry has a .pdata entry whose unwind info describes a prologue. */
static void check_function_tables(void)
{
    for (size_t i = 0; i < N_ENTRIES; i++) {
        DWORD64 base = 0;
        PRUNTIME_FUNCTION f = RtlLookupFunctionEntry((DWORD64)(uintptr_t)entries[i].fn, &base,
                                                     NULL);
        const uint8_t *info;

        CHECK(f != NULL);
        if (!f) {
            printf("no function table entry: %s\n", entries[i].name);
            continue;
        }
        info = (const uint8_t *)(uintptr_t)(base + f->UnwindData);
        CHECK((info[0] & 7) == 1);      /* UNWIND_INFO version 1 */
        CHECK(info[2] >= 1);            /* unwind codes: its pushes at least */
    }
    printf("%zu entry points have function table entries\n", N_ENTRIES);
}
#endif

int main(void)
{
    CHECK(wb_init() == 0);
    for (size_t i = 0; i < N_ENTRIES; i++)
        CHECK(entries[i].fn != NULL);
#if defined(__linux__)
    check_backtraces();
#endif
#if defined(_WIN32)
    check_function_tables();
#endif
    return check_summary();
}

#else

int main(void)
{
    printf("SKIPPED: the x86-64 kernels' unwind information is checked on Linux and Windows\n");
    return 77;
}

#endif
