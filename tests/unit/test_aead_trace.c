/* SPDX-License-Identifier: MIT */
/*
 * test_aead_trace.c - constant-time control flow of every AEAD entry the
 * CPU runs natively, the ones valgrind cannot (ADX, AVX-512, IFMA) above
 * all: each seal, open and batch runs in a child process single-stepped
 * with ptrace, twice, with different keys, nonces and plaintexts but the
 * same lengths and buffers, and the two sequences of instruction addresses
 * must be identical. A branch on a secret makes them differ wherever it
 * sits: C, asm, or a library the entry calls.
 *
 * What it does not see: memory addresses (a secret-indexed table load
 * takes the same path). tests/ct (valgrind memcheck) checks addresses too,
 * for the entries valgrind can run; the asm kernels have no tables. The
 * portable reference is left to valgrind alone (it would double the run).
 *
 * Two sweeps: by default (CTest test_aead_trace, label fast) a short one,
 * every entry at three lengths (the tag alone, a partial block, many
 * blocks) and the batches over those, some 270,000 steps (about 10 s);
 * with --full (CTest slow_aead_trace_full, label slow) every length of
 * full_lengths, in the batches too, some 2.5 million steps (minutes: each
 * instruction is a ptrace stop, a few tens of microseconds).
 *
 * Linux x86-64 only (ptrace of a forked child); elsewhere, where ptrace
 * is refused, and under any sanitizer (ASan, UBSan, TSan: instrumented
 * code is not the code that ships, its checks branch on shadow state, and
 * it multiplies the steps) it exits 77 (skipped). The compilers say so
 * (gcc for ASan and TSan, clang for all three); CMake also defines
 * WB_TEST_SANITIZED for any -fsanitize build (gcc has no macro for UBSan).
 */
#if defined(__linux__)
#define _GNU_SOURCE   /* dladdr */
#endif
#include <stdio.h>

#if defined(WB_TEST_SANITIZED) || defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TRACE_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define TRACE_SANITIZED 1
#endif
#endif

#if defined(__linux__) && defined(__x86_64__) && !defined(TRACE_SANITIZED)

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <wirebolt.h>

#include "check.h"
#include "rng.h"
#include "crypto/aead.h"
#include "crypto/cpu.h"

/* --full: around the kernels' thresholds: tails, the 64-byte block, 4
 * and 8 blocks, "ssse3"'s short open (192), the batch limits (320, 832),
 * the two-pass split (448, 512), a WireGuard packet, past the opens' kept
 * keystream (2048). */
static const size_t full_lengths[] = { 0,   1,   15,  16,  17,  63,  64,   65,   191,  192,  193,
                                       320, 321, 447, 448, 512, 513, 832, 833, 1420, 1500, 2113 };
/* The default: the tag alone (a keepalive), a block and a byte (the
 * partial-block tails), several 64-byte blocks and a byte (the block
 * loops; past the "avx2" batch's multi-buffer limit, so that batch mixes
 * both paths); about a ninth of the steps. Every call costs some
 * thousand steps before its first byte (keys, the MAC's powers, and for
 * the batches the lanes), so fewer lengths, not shorter ones, save time. */
static const size_t quick_lengths[] = { 0, 17, 321 };
#define N_LENGTHS (sizeof(full_lengths) / sizeof(full_lengths[0]))
#define MAX_LEN 2113

/* The sweep this run makes: full_lengths or quick_lengths. */
static const size_t *lengths = quick_lengths;
static size_t n_lengths = sizeof(quick_lengths) / sizeof(quick_lengths[0]);
#define BUF_LEN (MAX_LEN + AEAD_TAG_LEN)
#define MAX_STEPS (4u << 20)

enum op { OP_SEAL, OP_OPEN, OP_SEAL_BATCH, OP_OPEN_BATCH };
static const char *const op_names[] = { "seal", "open", "seal_batch", "open_batch" };

/* One variant's inputs, made before the fork so the traced stretch holds
 * the call only. Both variants use the same buffers (same addresses). */
static uint8_t key[N_LENGTHS][AEAD_KEY_LEN], src[N_LENGTHS][BUF_LEN], dst[N_LENGTHS][BUF_LEN];
static uint8_t nonce[AEAD_NONCE_LEN], ad[13];
static struct aead_op ops[N_LENGTHS];

struct trace {
    unsigned long *rip;
    size_t n;
    bool overflow;
};

/* Secrets of variant v; ciphertexts for the opens come from the portable
 * seal, so every tag is good and the verdict (public) is the same. */
static void prepare(const struct aead_impl *impl, enum op op, size_t li, int v)
{
    size_t first = op >= OP_SEAL_BATCH ? 0 : li, last = op >= OP_SEAL_BATCH ? n_lengths : li + 1;

    (void)impl;
    rng_state = TEST_RNG_SEED * (uint64_t)(v + 1);   /* each variant its own secrets */
    fill(nonce, sizeof(nonce));
    memset(ad, 0x5a, sizeof(ad));
    for (size_t i = first; i < last; i++) {
        size_t len = lengths[i];
        uint8_t pt[MAX_LEN], n[AEAD_NONCE_LEN];
        uint64_t ctr;

        fill(key[i], AEAD_KEY_LEN);
        fill(pt, len);
        ctr = (rng() >> 20) ^ i;
        memset(dst[i], 0, BUF_LEN);
        if (op == OP_SEAL || op == OP_SEAL_BATCH) {
            memcpy(src[i], pt, len);
        } else {
            aead_nonce_from_counter(n, ctr);
            aead_portable_impl.seal(src[i], pt, len, op == OP_OPEN ? ad : NULL,
                                    op == OP_OPEN ? sizeof(ad) : 0, op == OP_OPEN ? nonce : n,
                                    key[i]);
        }
        ops[i] = (struct aead_op){ .dst = dst[i], .src = src[i],
                                   .len = len + (op == OP_OPEN_BATCH ? AEAD_TAG_LEN : 0),
                                   .counter = ctr, .key = key[i], .result = 1 };
    }
}

/* The traced stretch: between the two SIGSTOPs. */
static int run(const struct aead_impl *impl, enum op op, size_t li)
{
    switch (op) {
    case OP_SEAL:
        impl->seal(dst[li], src[li], lengths[li], ad, sizeof(ad), nonce, key[li]);
        return 0;
    case OP_OPEN:
        return impl->open(dst[li], src[li], lengths[li] + AEAD_TAG_LEN, ad, sizeof(ad), nonce,
                          key[li]);
    case OP_SEAL_BATCH:
        impl->seal_batch(ops, n_lengths);
        return 0;
    case OP_OPEN_BATCH:
        impl->open_batch(ops, n_lengths);
        for (size_t i = 0; i < n_lengths; i++)
            if (ops[i].result != 0)
                return -1;
        return 0;
    }
    return -1;
}

static int give_up(pid_t pid, int ret)
{
    int status;

    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return ret;
}

/* Forks, single-steps run() in the child and records its instruction
 * addresses. 0: traced, and the call gave the right result; -1: ptrace
 * refused (the test is skipped); -2: anything else (a failure). */
static int trace_one(const struct aead_impl *impl, enum op op, size_t li, int v,
                     struct trace *t)
{
    int status;
    pid_t pid;

    prepare(impl, op, li, v);
    t->n = 0;
    t->overflow = false;
    fflush(NULL);
    pid = fork();
    if (pid < 0)
        return -2;
    if (pid == 0) {
        int r;

        if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0)
            _exit(3);
        raise(SIGSTOP);
        r = run(impl, op, li);
        raise(SIGSTOP);
        _exit(r == 0 ? 0 : 2);
    }
    if (waitpid(pid, &status, 0) != pid)
        return give_up(pid, -2);
    if (!WIFSTOPPED(status))
        return WIFEXITED(status) && WEXITSTATUS(status) == 3 ? -1 : -2;
    for (;;) {
        struct user_regs_struct regs;

        if (ptrace(PTRACE_SINGLESTEP, pid, NULL, NULL) != 0)
            return give_up(pid, -1);         /* stepping refused */
        if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status))
            return give_up(pid, -2);         /* gone before the end mark */
        if (WSTOPSIG(status) == SIGSTOP)     /* the end mark */
            break;
        if (WSTOPSIG(status) != SIGTRAP) {   /* a crash in the traced code */
            fprintf(stderr, "%s %s len %zu: child stopped by signal %d\n", impl->name,
                    op_names[op], lengths[li], WSTOPSIG(status));
            return give_up(pid, -2);
        }
        if (ptrace(PTRACE_GETREGS, pid, NULL, &regs) != 0)
            return give_up(pid, -1);
        if (t->n == MAX_STEPS) {
            t->overflow = true;
            return give_up(pid, -2);
        }
        t->rip[t->n++] = (unsigned long)regs.rip;
    }
    /* Let it finish: its exit status says whether the result was right. */
    if (ptrace(PTRACE_CONT, pid, NULL, NULL) != 0 || waitpid(pid, &status, 0) != pid)
        return give_up(pid, -2);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 && t->n > 0 ? 0 : -2;
}

/* "file+offset" of an address, for addr2line -f -e file offset. */
static void where(char *buf, size_t cap, unsigned long addr)
{
    Dl_info info;

    if (addr && dladdr((void *)addr, &info) && info.dli_fname)
        snprintf(buf, cap, "%s+%#lx", info.dli_fname, addr - (unsigned long)info.dli_fbase);
    else
        snprintf(buf, cap, "%#lx", addr);
}

static size_t first_difference(const struct trace *a, const struct trace *b)
{
    size_t n = a->n < b->n ? a->n : b->n;

    for (size_t i = 0; i < n; i++)
        if (a->rip[i] != b->rip[i])
            return i;
    return n;
}

static unsigned long steps_total;

/* 1: traced and compared; 0: ptrace refused. */
static int check_case(const struct aead_impl *impl, enum op op, size_t li, struct trace t[2])
{
    for (int v = 0; v < 2; v++) {
        int r = trace_one(impl, op, li, v, &t[v]);

        if (r == -1)
            return 0;
        CHECK(r == 0);
        if (r != 0) {
            fprintf(stderr, "%s %s len %zu variant %d: the traced call failed%s\n", impl->name,
                    op_names[op], lengths[li], v, t[v].overflow ? " (step limit)" : "");
            return 1;
        }
    }
    steps_total += t[0].n + t[1].n;
    if (t[0].n != t[1].n || memcmp(t[0].rip, t[1].rip, t[0].n * sizeof(t[0].rip[0])) != 0) {
        size_t i = first_difference(&t[0], &t[1]);
        char a[512], b[512], prev[512];

        where(a, sizeof(a), i < t[0].n ? t[0].rip[i] : 0UL);
        where(b, sizeof(b), i < t[1].n ? t[1].rip[i] : 0UL);
        where(prev, sizeof(prev), i ? t[0].rip[i - 1] : 0UL);
        CHECK(!"instruction traces differ with the secrets");
        fprintf(stderr,
                "%s %s len %zu: traces differ (%zu and %zu steps), first at step %zu, after %s:"
                " %s vs %s\n",
                impl->name, op_names[op], lengths[li], t[0].n, t[1].n, i, prev, a, b);
    }
    return 1;
}

int main(int argc, char **argv)
{
    const struct cpu_features *cpu;
    const struct aead_impl *impl;
    struct trace t[2];

    if (argc > 2 || (argc == 2 && strcmp(argv[1], "--full") != 0)) {
        fprintf(stderr, "usage: %s [--full]\n", argv[0]);
        return 2;
    }
    if (argc == 2) {
        lengths = full_lengths;
        n_lengths = N_LENGTHS;
    }
    printf("sweep: %s, %zu lengths\n", argc == 2 ? "full" : "quick (--full for all)", n_lengths);
    if (wb_init() < 0)
        return 1;
    cpu = cpu_features_get();
    for (int v = 0; v < 2; v++) {
        t[v].rip = malloc(MAX_STEPS * sizeof(t[v].rip[0]));
        if (!t[v].rip)
            return 1;
    }
    for (size_t k = 0; (impl = aead_impl_at(k)) != NULL; k++) {
        unsigned long before = steps_total, failed_before = check_failed;
        size_t cases = 0;

        if (impl == &aead_portable_impl) {
            /* The reference: plain C that valgrind checks in full, with
             * addresses (tests/ct), at twice the steps of all the rest. */
            printf("not traced: %s (ct_aead_valgrind checks it)\n", impl->name);
            continue;
        }
        if (!impl->supported(cpu)) {
            printf("SKIPPED %s: not supported by this CPU\n", impl->name);
            continue;
        }
        for (int op = OP_SEAL; op <= OP_OPEN_BATCH; op++) {
            size_t n = op >= OP_SEAL_BATCH ? 1 : n_lengths;

            if ((op == OP_SEAL_BATCH && !impl->seal_batch) ||
                (op == OP_OPEN_BATCH && !impl->open_batch))
                continue;
            for (size_t li = 0; li < n; li++) {
                if (!check_case(impl, (enum op)op, li, t)) {
                    printf("SKIP: ptrace refused (a seccomp or Yama policy?)\n");
                    return 77;
                }
                cases++;
            }
        }
        printf("%s: %zu calls traced twice, %lu instructions, traces identical: %s\n",
               impl->name, cases, steps_total - before,
               check_failed == failed_before ? "yes" : "no");
    }
    free(t[0].rip);
    free(t[1].rip);
    return check_summary();
}

#else

int main(int argc, char **argv)
{
    (void)argc, (void)argv;
#if defined(TRACE_SANITIZED)
    printf("SKIP: the instruction-trace check traces the shipped code, not a sanitized build\n");
#else
    printf("SKIP: the instruction-trace check needs Linux on x86-64 (ptrace single-step)\n");
#endif
    return 77;
}

#endif
