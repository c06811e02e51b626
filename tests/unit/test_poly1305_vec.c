/* SPDX-License-Identifier: MIT */
/*
 * test_poly1305_vec.c - the vector Poly1305 block functions, each against
 * the scalar mulx one they stand in for (asm/poly1305_x86_64.S), all on
 * the same state st = h0 h1 h2 r0 r1. The kernels, one table row each:
 *   avx2        asm/poly1305_avx2.S       (AVX2, BMI2, ADX)
 *   avx512ifma  asm/poly1305_avx512ifma.S (AVX-512F, AVX-512IFMA, BMI2,
 *                                          ADX)
 * For each kernel the CPU can run:
 *   - every block count 0..300 and random counts up to 4096 blocks, from
 *     random and extreme accumulators (0, all ones with h2 = 7, values
 *     around p and 2p) with random and extreme keys and messages (all 0xff,
 *     all zero), at odd alignments and with a stray partial block in len;
 *     the results must agree mod 2^130 - 5, keep h2 < 8 and leave r alone;
 *   - messages that end where an inaccessible page begins, and (Linux)
 *     that begin where one ends, so a read past the last whole block or
 *     before the first faults;
 *   - the final fold's carry through both low words (r = 1, sums just
 *     past 2^130 with the low 128 bits all ones);
 *   - whole Poly1305 tags: the RFC 8439 A.3 vectors that end on a whole
 *     block, and long messages (RFC 8439 keys, the A.3 messages repeated,
 *     random data fed in random runs through several calls) against
 *     libsodium's crypto_onetimeauth.
 * A kernel the CPU lacks is reported SKIPPED; the program returns 77
 * (skip) when no kernel can run, or where they are not built (not
 * x86-64).
 *
 * Randomness is a fixed-seed generator: a failure reproduces.
 */
#include <stdio.h>

#if defined(__x86_64__)

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
#define TEST_RNG_SEED 0x6a09e667f3bcc908ull
#include "rng.h"
#include "crypto/cpu.h"

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

#define SYSV __attribute__((sysv_abi))

SYSV void poly1305_avx2_blocks(uint64_t st[5], const uint8_t *m, size_t len);
SYSV void poly1305_avx512ifma_blocks(uint64_t st[5], const uint8_t *m, size_t len);
SYSV void poly1305_x86_64_blocks_mulx(uint64_t st[5], const uint8_t *m, size_t len);

typedef void (SYSV *blocks_fn)(uint64_t st[5], const uint8_t *m, size_t len);

static bool has_avx2(const struct cpu_features *f)
{
    return f->avx2 && f->bmi2 && f->adx;
}

static bool has_avx512ifma(const struct cpu_features *f)
{
    return f->avx512f && f->avx512ifma && f->bmi2 && f->adx;
}

static const struct kernel {
    const char *name;
    blocks_fn blocks;
    bool (*usable)(const struct cpu_features *f);
    const char *needs;
} kernels[] = {
    { "avx2", poly1305_avx2_blocks, has_avx2, "AVX2, BMI2, ADX" },
    { "avx512ifma", poly1305_avx512ifma_blocks, has_avx512ifma,
      "AVX-512F, AVX-512IFMA, BMI2, ADX" },
};

/* The kernel under test. */
static blocks_fn vec_blocks;

#define BLOCK 16
#define MAX_BLOCKS 4096
#define SWEEP_BLOCKS 300
#define ALIGN 32

typedef unsigned __int128 u128;

static uint64_t load64_le(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void store64_le(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* h0 h1 h2 (any h2 below 2^62) -> the canonical h mod 2^130 - 5, in out. */
static void reduce_canonical(uint64_t out[3], const uint64_t h[3])
{
    u128 lo = (u128)h[1] << 64 | h[0], t;
    uint64_t hi = h[2] & 3, fold = (h[2] >> 2) * 5;

    t = lo + fold;
    hi += t < lo;
    lo = t;
    /* p = 3 2^128 + 2^128 - 5; h - p = h + 5 - 2^130. */
    while (hi > 3 || (hi == 3 && lo >= ~(u128)0 - 4)) {
        t = lo + 5;
        hi += t < lo;
        lo = t;
        hi -= 4;
    }
    out[0] = (uint64_t)lo;
    out[1] = (uint64_t)(lo >> 64);
    out[2] = hi;
}

static void clamp(uint64_t st[5], const uint8_t k[16])
{
    st[3] = load64_le(k) & 0x0ffffffc0fffffffull;
    st[4] = load64_le(k + 8) & 0x0ffffffc0ffffffcull;
}

/* Starting accumulators: kind 0 random, the others extreme. */
static void pick_h(uint64_t st[5], unsigned kind)
{
    static const uint64_t extreme[][3] = {
        { 0, 0, 0 },
        { ~0ull, ~0ull, 7 },                    /* the largest allowed */
        { ~0ull - 4, ~0ull, 3 },                /* p */
        { ~0ull - 5, ~0ull, 3 },                /* p - 1 */
        { ~0ull - 3, ~0ull, 3 },                /* p + 1 */
        { ~0ull - 9, ~0ull, 7 },                /* 2p */
        { 4, 0, 4 },                            /* 2^130 + 4 = p + 9 */
        { 1, 0, 0 },
    };
    const size_t n = sizeof(extreme) / sizeof(extreme[0]);

    if (kind % (n + 1) == 0) {
        st[0] = rng();
        st[1] = rng();
        st[2] = rng() & 7;
        return;
    }
    memcpy(st, extreme[kind % (n + 1) - 1], 3 * sizeof(uint64_t));
}

/* Keys: kind 0 random, then the largest clamped r, r = 0 and r = 1. */
static void pick_r(uint64_t st[5], unsigned kind)
{
    uint8_t k[16];

    switch (kind % 5) {
    case 1:
        memset(k, 0xff, sizeof(k));
        break;
    case 2:
        memset(k, 0, sizeof(k));
        break;
    case 3:
        memset(k, 0, sizeof(k));
        k[0] = 1;
        break;
    default:
        fill(k, sizeof(k));
        break;
    }
    clamp(st, k);
}

/* Messages: random, all 0xff, all zero. */
static void pick_msg(uint8_t *m, size_t n, unsigned kind)
{
    if (kind % 3 == 1)
        memset(m, 0xff, n);
    else if (kind % 3 == 2)
        memset(m, 0, n);
    else
        fill(m, n);
}

/* One run of both functions from the same state; 1 if they agree. */
static int diff_run(const uint64_t start[5], const uint8_t *m, size_t len)
{
    uint64_t a[5], b[5], ca[3], cb[3];

    memcpy(a, start, sizeof(a));
    memcpy(b, start, sizeof(b));
    vec_blocks(a, m, len);
    poly1305_x86_64_blocks_mulx(b, m, len);
    reduce_canonical(ca, a);
    reduce_canonical(cb, b);
    CHECK(a[2] < 8);
    CHECK(a[3] == start[3] && a[4] == start[4]);
    CHECK_EQ_MEM(ca, cb, sizeof(ca));
    return memcmp(ca, cb, sizeof(ca)) == 0 && a[2] < 8;
}

static uint8_t msg_buf[MAX_BLOCKS * BLOCK + ALIGN + BLOCK];

static void test_sweep(void)
{
    for (unsigned nb = 0; nb <= SWEEP_BLOCKS; nb++) {
        for (unsigned combo = 0; combo < 4; combo++) {
            unsigned kind = nb * 4 + combo;
            size_t off = (size_t)(rng() % ALIGN);
            size_t len = nb * BLOCK + (combo == 3 ? (size_t)(rng() % BLOCK) : 0);
            uint64_t st[5];

            pick_h(st, kind);
            pick_r(st, kind / 2);
            pick_msg(msg_buf + off, len, combo == 0 ? 0 : kind);
            if (!diff_run(st, msg_buf + off, len))
                fprintf(stderr, "  sweep: %u blocks, combo %u, offset %zu\n", nb, combo, off);
        }
    }
}

static void test_random_lengths(void)
{
    for (unsigned iter = 0; iter < 300; iter++) {
        size_t nb = (size_t)(rng() % (MAX_BLOCKS + 1)), off = (size_t)(rng() % ALIGN);
        uint64_t st[5];

        pick_h(st, (unsigned)rng());
        pick_r(st, (unsigned)rng());
        pick_msg(msg_buf + off, nb * BLOCK, iter % 4 ? 0 : (unsigned)rng());
        if (!diff_run(st, msg_buf + off, nb * BLOCK))
            fprintf(stderr, "  random: %zu blocks, offset %zu\n", nb, off);
    }
}

/*
 * A carry the random cases never reach: the fold of the bits from 2^130
 * up after the lane sum, carried through both low words. With r = 1 and
 * h = 0 the lanes only add, each folded now and then on the way (k blocks
 * of zeros hold k 2^128, 4 2^128 = 2^130 = 5), so the lanes sum to
 * A 2^128 + B with A above 3 and B small; a last block m = 2^128 - c with
 * c = B + 1 makes the low 128 bits all ones. B depends on how a kernel
 * spreads the blocks over its lanes, so every c up to 41 is tried: the
 * AVX2 kernel (four lanes) needs c = 21..25 at 20..36 blocks, the IFMA one
 * (eight lanes, the first group short) c = 1 at 9..24 blocks, c = 6, 11,
 * .. 31 at 25..30 and c = 41 at 36..56.
 */
static void test_fold_carry(void)
{
    static const unsigned counts[] = { 9, 16, 20, 21, 23, 24, 25, 27, 28, 30, 36, 40, 48, 56 };
    uint8_t m[56 * BLOCK];

    for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
        for (unsigned c = 0; c <= 41; c++) {
            uint64_t st[5] = { 0, 0, 0, 1, 0 };
            uint8_t *last = m + (counts[i] - 1) * BLOCK;

            memset(m, 0, sizeof(m));
            store64_le(last, 0ull - c);
            store64_le(last + 8, c ? ~0ull : 0);
            diff_run(st, m, counts[i] * BLOCK);
        }
    }
}

/* Messages that end where an inaccessible page begins, and that begin
 * where one ends (a kernel that reads a whole group around a short first
 * one must not touch the bytes before m). */
static void test_page_ends(void)
{
#if defined(__linux__)
    long page = sysconf(_SC_PAGESIZE);
    size_t span = (size_t)page * 4;
    uint8_t *map = mmap(NULL, span + 2 * (size_t)page, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    CHECK(map != MAP_FAILED);
    if (map == MAP_FAILED)
        return;
    CHECK(mprotect(map, (size_t)page, PROT_NONE) == 0);
    CHECK(mprotect(map + (size_t)page + span, (size_t)page, PROT_NONE) == 0);
    for (size_t nb = 0; nb <= 260; nb += 1 + nb / 16) {
        uint8_t *end = map + (size_t)page + span - nb * BLOCK;
        uint8_t *start = map + (size_t)page;
        uint64_t st[5];

        pick_h(st, (unsigned)nb);
        pick_r(st, 0);
        fill(end, nb * BLOCK);
        diff_run(st, end, nb * BLOCK);
        fill(start, nb * BLOCK);
        diff_run(st, start, nb * BLOCK + BLOCK - 1);
    }
    munmap(map, span + 2 * (size_t)page);
#endif
}

/* tag = (h mod p + s) mod 2^128 after the kernel on whole blocks,
 * the message fed in runs of random length (chunks != 0) or in one call. */
static void vec_tag(uint8_t tag[16], const uint8_t key[32], const uint8_t *m, size_t len,
                    int chunks)
{
    uint64_t st[5] = { 0 }, c[3];
    u128 t;

    clamp(st, key);
    while (len) {
        size_t n = chunks ? (size_t)(rng() % 40 + 1) * BLOCK : len;

        if (n > len)
            n = len;
        vec_blocks(st, m, n);
        CHECK(st[2] < 8);
        m += n;
        len -= n;
    }
    reduce_canonical(c, st);
    t = ((u128)c[1] << 64 | c[0]) + ((u128)load64_le(key + 24) << 64 | load64_le(key + 16));
    store64_le(tag, (uint64_t)t);
    store64_le(tag + 8, (uint64_t)(t >> 64));
    sodium_memzero(st, sizeof(st));
}

/* RFC 8439 A.3 vectors whose message is whole blocks (expected tags). */
static void test_rfc_a3(void)
{
    static const struct {
        const char *key, *msg, *tag;
    } v[] = {
        { "0000000000000000000000000000000000000000000000000000000000000000",
          "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
          "000000000000000000000000000000000000000000000000",
          "00000000000000000000000000000000" },
        { "0200000000000000000000000000000000000000000000000000000000000000",
          "ffffffffffffffffffffffffffffffff", "03000000000000000000000000000000" },
        { "02000000000000000000000000000000ffffffffffffffffffffffffffffffff",
          "02000000000000000000000000000000", "03000000000000000000000000000000" },
        { "0100000000000000000000000000000000000000000000000000000000000000",
          "fffffffffffffffffffffffffffffffff0ffffffffffffffffffffffffffffff"
          "11000000000000000000000000000000",
          "05000000000000000000000000000000" },
        { "0100000000000000000000000000000000000000000000000000000000000000",
          "fffffffffffffffffffffffffffffffffbfefefefefefefefefefefefefefefe"
          "01010101010101010101010101010101",
          "00000000000000000000000000000000" },
        { "0200000000000000000000000000000000000000000000000000000000000000",
          "fdffffffffffffffffffffffffffffff", "faffffffffffffffffffffffffffffff" },
        { "0100000000000000040000000000000000000000000000000000000000000000",
          "e33594d7505e43b900000000000000003394d7505e4379cd0100000000000000"
          "0000000000000000000000000000000001000000000000000000000000000000",
          "14000000000000005500000000000000" },
        { "0100000000000000040000000000000000000000000000000000000000000000",
          "e33594d7505e43b900000000000000003394d7505e4379cd0100000000000000"
          "00000000000000000000000000000000",
          "13000000000000000000000000000000" },
    };
    static uint8_t longmsg[MAX_BLOCKS * BLOCK];

    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        uint8_t key[32], msg[64], want[16], tag[16], ref[16];
        size_t n = check_unhex(msg, sizeof(msg), v[i].msg);

        check_unhex(key, sizeof(key), v[i].key);
        check_unhex(want, sizeof(want), v[i].tag);
        CHECK(n % BLOCK == 0);
        vec_tag(tag, key, msg, n, 0);
        CHECK_EQ_MEM(tag, want, 16);
        crypto_onetimeauth(ref, msg, n, key);
        CHECK_EQ_MEM(ref, want, 16);

        /* The same message over and over, long enough for the vector path. */
        for (size_t reps = 1; reps * n <= sizeof(longmsg); reps = reps * 3 + 1) {
            for (size_t j = 0; j < reps; j++)
                memcpy(longmsg + j * n, msg, n);
            vec_tag(tag, key, longmsg, reps * n, 0);
            crypto_onetimeauth(ref, longmsg, reps * n, key);
            CHECK_EQ_MEM(tag, ref, 16);
        }
    }
}

/* Long messages against libsodium: the RFC 8439 2.5.2 and A.3 keys, then
 * random keys; in one call and in runs of random length. */
static void test_long_tags(void)
{
    static const char *const keys[] = {
        "85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b",
        "0000000000000000000000000000000036e5f6b5c5e06070f0efca96227a863e",
        "36e5f6b5c5e06070f0efca96227a863e00000000000000000000000000000000",
        "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    };
    static uint8_t m[MAX_BLOCKS * BLOCK];

    for (unsigned iter = 0; iter < 120; iter++) {
        uint8_t key[32], tag[16], ref[16];
        size_t len = (size_t)(rng() % (MAX_BLOCKS + 1)) * BLOCK;

        if (iter < 2 * sizeof(keys) / sizeof(keys[0]))
            check_unhex(key, sizeof(key), keys[iter / 2]);
        else
            fill(key, sizeof(key));
        pick_msg(m, len, iter);
        crypto_onetimeauth(ref, m, len, key);
        vec_tag(tag, key, m, len, (int)(iter & 1));
        CHECK_EQ_MEM(tag, ref, 16);
    }
}

/* Every test above with one kernel. */
static void test_kernel(const struct kernel *k)
{
    unsigned long passed = check_passed, failed = check_failed;

    vec_blocks = k->blocks;
    test_sweep();
    test_random_lengths();
    test_fold_carry();
    test_page_ends();
    test_rfc_a3();
    test_long_tags();
    printf("test_poly1305_vec: %s: %lu passed, %lu failed\n", k->name, check_passed - passed,
           check_failed - failed);
}

int main(void)
{
    const struct cpu_features *f = cpu_features_get();
    unsigned ran = 0;

    if (sodium_init() < 0)
        return 1;
    for (size_t i = 0; i < sizeof(kernels) / sizeof(kernels[0]); i++) {
        if (!kernels[i].usable(f)) {
            printf("test_poly1305_vec: %s: SKIPPED (CPU lacks %s)\n", kernels[i].name,
                   kernels[i].needs);
            continue;
        }
        test_kernel(&kernels[i]);
        ran++;
    }
    if (ran == 0) {
        printf("test_poly1305_vec: no kernel can run here, skipped\n");
        return 77;
    }
    return check_summary();
}

#else

int main(void)
{
    printf("test_poly1305_vec: not x86-64, nothing to test, skipped\n");
    return 77;
}

#endif
