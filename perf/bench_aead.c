/* SPDX-License-Identifier: MIT */
/*
 * bench_aead.c - ChaCha20-Poly1305 seal/open speed of every wirebolt
 * implementation this CPU supports, next to libsodium's, in the same run.
 *
 * For each size, the candidates are timed in turn within every repetition
 * (interleaved, so frequency changes and noisy neighbours hit all of them
 * alike) and the fastest repetition counts. Before timing, each
 * implementation's output is checked against libsodium's.
 *
 *   bench_aead [--quick] [--reps N]
 *
 * Columns: ns per call, GB/s (10^9 bytes of plaintext per second), and the
 * speed relative to libsodium (libsodium time / wirebolt time: above 1.00
 * means wirebolt is faster).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/aead.h"
#include "crypto/cpu.h"

#if defined(_WIN32)
#include <windows.h>
#else
#include <time.h>
#endif

#define MAX_SIZE 16384
#define MAX_CANDIDATES 8

static const size_t sizes[] = { 64, 256, 576, 1420, 1500, 4096, 16384 };

static uint64_t now_ns(void)
{
#if defined(_WIN32)
    LARGE_INTEGER f, c;

    QueryPerformanceFrequency(&f);
    QueryPerformanceCounter(&c);
    return (uint64_t)((double)c.QuadPart * 1e9 / (double)f.QuadPart);
#else
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
#endif
}

/* A candidate: a wirebolt implementation, or libsodium (impl == NULL). */
struct candidate {
    const char *name;
    const struct aead_impl *impl;
    double seal_ns, open_ns;  /* best per-call time over the repetitions */
};

static uint8_t key[32], nonce[12], plain[MAX_SIZE], sealed[MAX_SIZE + 16], out[MAX_SIZE + 16];
static volatile uint8_t sink;

static void do_seal(const struct candidate *c, size_t len)
{
    unsigned long long clen;

    if (c->impl)
        c->impl->seal(out, plain, len, NULL, 0, nonce, key);
    else
        crypto_aead_chacha20poly1305_ietf_encrypt(out, &clen, plain, len, NULL, 0, NULL, nonce,
                                                  key);
}

static int do_open(const struct candidate *c, size_t len)
{
    unsigned long long mlen;

    if (c->impl)
        return c->impl->open(out, sealed, len + 16, NULL, 0, nonce, key);
    return crypto_aead_chacha20poly1305_ietf_decrypt(out, &mlen, NULL, sealed, len + 16, NULL, 0,
                                                     nonce, key);
}

static double time_run(const struct candidate *c, size_t len, size_t iters, int open)
{
    uint64_t t0 = now_ns(), t1;
    int bad = 0;

    for (size_t i = 0; i < iters; i++) {
        if (open)
            bad |= do_open(c, len);
        else
            do_seal(c, len);
    }
    t1 = now_ns();
    sink ^= out[0] ^ (uint8_t)bad;
    return (double)(t1 - t0) / (double)iters;
}

/* Every implementation must produce libsodium's bytes and open them. */
static int verify(const struct candidate *c, size_t len)
{
    unsigned long long clen;

    crypto_aead_chacha20poly1305_ietf_encrypt(sealed, &clen, plain, len, NULL, 0, NULL, nonce, key);
    if (!c->impl)
        return 0;
    c->impl->seal(out, plain, len, NULL, 0, nonce, key);
    if (memcmp(out, sealed, len + 16) != 0)
        return -1;
    if (c->impl->open(out, sealed, len + 16, NULL, 0, nonce, key) != 0 ||
        memcmp(out, plain, len) != 0)
        return -1;
    return 0;
}

static void print_row(const struct candidate *c, const struct candidate *ref, size_t len)
{
    printf("%6zu  %-10s %9.1f %7.3f %9.1f %7.3f", len, c->name, c->seal_ns, (double)len / c->seal_ns,
           c->open_ns, (double)len / c->open_ns);
    if (c != ref)
        printf("   %5.2fx %5.2fx", ref->seal_ns / c->seal_ns, ref->open_ns / c->open_ns);
    putchar('\n');
}

/* Supported wirebolt implementations, then libsodium last. */
static size_t collect(struct candidate *cand)
{
    const struct cpu_features *cpu = cpu_features_get();
    size_t n = 0;

    for (size_t i = 0; aead_impl_at(i) && n < MAX_CANDIDATES - 1; i++) {
        const struct aead_impl *impl = aead_impl_at(i);

        if (impl->supported(cpu))
            cand[n++] = (struct candidate){ .name = impl->name, .impl = impl };
    }
    cand[n++] = (struct candidate){ .name = "libsodium", .impl = NULL };
    return n;
}

/* Verify, then time every candidate at one size, interleaved; print rows. */
static int bench_size(struct candidate *cand, size_t n_cand, size_t len, int quick, int reps)
{
    size_t iters = ((size_t)(quick ? 1 << 18 : 1 << 22) / (len + 64)) + 1;

    for (size_t c = 0; c < n_cand; c++) {
        if (verify(&cand[c], len) != 0) {
            fprintf(stderr, "%s: output differs from libsodium at %zu bytes\n", cand[c].name, len);
            return -1;
        }
        cand[c].seal_ns = cand[c].open_ns = 1e300;
    }
    for (int r = 0; r < reps; r++) {
        for (size_t c = 0; c < n_cand; c++) {
            double t = time_run(&cand[c], len, iters, 0);

            if (t < cand[c].seal_ns)
                cand[c].seal_ns = t;
            t = time_run(&cand[c], len, iters, 1);
            if (t < cand[c].open_ns)
                cand[c].open_ns = t;
        }
    }
    for (size_t c = 0; c < n_cand; c++)
        print_row(&cand[c], &cand[n_cand - 1], len);
    return 0;
}

int main(int argc, char **argv)
{
    struct candidate cand[MAX_CANDIDATES];
    const struct cpu_features *cpu;
    int quick = 0, reps = 0;
    size_t n_cand;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            quick = 1;
        } else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
            reps = atoi(argv[++i]);
        } else {
            fprintf(stderr, "usage: %s [--quick] [--reps N]\n", argv[0]);
            return 2;
        }
    }
    if (reps <= 0)
        reps = quick ? 3 : 15;
    if (sodium_init() < 0)
        return 1;
    randombytes_buf(key, sizeof(key));
    randombytes_buf(nonce, sizeof(nonce));
    randombytes_buf(plain, sizeof(plain));
    n_cand = collect(cand);

    cpu = cpu_features_get();
    printf("cpu: ssse3=%d avx=%d avx2=%d bmi2=%d adx=%d avx512f=%d avx512vl=%d neon=%d\n",
           cpu->ssse3, cpu->avx, cpu->avx2, cpu->bmi2, cpu->adx, cpu->avx512f, cpu->avx512vl,
           cpu->neon);
    printf("%d repetitions, best of each; speed vs libsodium = its time / ours\n", reps);
    printf("%6s  %-10s %9s %7s %9s %7s   %s\n", "bytes", "impl", "seal ns", "GB/s", "open ns",
           "GB/s", "seal  open vs libsodium");
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
        if (bench_size(cand, n_cand, sizes[s], quick, reps) != 0)
            return 1;
    return 0;
}
