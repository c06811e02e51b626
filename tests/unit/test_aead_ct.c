/* SPDX-License-Identifier: MIT */
/*
 * test_aead_ct.c - constant-time check of every AEAD implementation the CPU
 * (or valgrind's emulated CPU) supports, plus a correctness check against
 * the portable reference.
 *
 * Run plainly it only checks that seal/open (and the batch entry points)
 * agree with the portable implementation, that open accepts good tags and
 * rejects flipped ones without touching dst. Run under valgrind memcheck
 * (CTest: ct_aead_valgrind, tests/ct/CMakeLists.txt) the secret inputs --
 * key, nonce counter, plaintext, and for open the ciphertext and tag -- are
 * marked undefined, so memcheck reports every conditional jump and every
 * memory address that depends on them. The outputs are declassified
 * (VALGRIND_MAKE_MEM_DEFINED) before the test looks at them: ciphertext and
 * tag go on the wire, the plaintext is the caller's, and open's result is
 * the one bit an attacker learns anyway (the packet is accepted or not).
 * Memcheck sees no timing: it checks control flow and addresses only, which
 * is what a compiler or a kernel can make secret-dependent.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <wirebolt.h>

#include "check.h"
#include "crypto/aead.h"
#include "crypto/cpu.h"

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define HAVE_MEMCHECK 1
#endif
#endif
#if !defined(HAVE_MEMCHECK)
#define VALGRIND_MAKE_MEM_UNDEFINED(p, n) ((void)(p), (void)(n))
#define VALGRIND_MAKE_MEM_DEFINED(p, n) ((void)(p), (void)(n))
#define RUNNING_ON_VALGRIND 0
#endif

#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))

/* Around every kernel threshold: the 8/16/32-byte tails, the 64-byte block,
 * the 4-block (256) and 8-block (512) strides, "ssse3"'s short open (192),
 * the "avx2" batch's multi-buffer limit (320) and its open's kept keystream
 * (2048), a full WireGuard packet (1420). */
static const size_t lengths[] = {
    0,    1,    7,    8,    9,    15,   16,   17,   31,   32,   33,   63,   64,   65,   127,
    128,  129,  191,  192,  193,  255,  256,  257,  319,  320,  321,  383,  384,  447,  448,
    511,  512,  513,  767,  1023, 1024, 1025, 1420, 2047, 2048, 2049, 2113, 4096,
};
#define N_LENGTHS (sizeof(lengths) / sizeof(lengths[0]))
#define MAX_LEN 4096
#define AD_LEN 13   /* an odd length: exercises the AD padding */

static uint8_t key[AEAD_KEY_LEN], ad[AD_LEN], pt[MAX_LEN];

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (uint8_t)(seed >> 16);
    }
}

/* Seal with secret key, nonce and plaintext; compare with the reference. */
static void check_seal(const struct aead_impl *impl, size_t len, size_t ad_len, uint64_t ctr)
{
    static uint8_t ref[MAX_LEN + AEAD_TAG_LEN], ct[MAX_LEN + AEAD_TAG_LEN], s_pt[MAX_LEN];
    uint8_t nonce[AEAD_NONCE_LEN], s_key[AEAD_KEY_LEN], s_nonce[AEAD_NONCE_LEN];

    aead_nonce_from_counter(nonce, ctr);
    aead_portable_impl.seal(ref, pt, len, ad, ad_len, nonce, key);
    memcpy(s_key, key, sizeof(s_key));
    memcpy(s_nonce, nonce, sizeof(s_nonce));
    memcpy(s_pt, pt, len);
    SECRET(s_key, sizeof(s_key));
    SECRET(s_nonce, sizeof(s_nonce));
    SECRET(s_pt, len);
    impl->seal(ct, s_pt, len, ad, ad_len, s_nonce, s_key);
    PUBLIC(ct, len + AEAD_TAG_LEN);     /* ciphertext and tag go on the wire */
    CHECK_EQ_MEM(ct, ref, len + AEAD_TAG_LEN);
}

/* Open with everything secret but the lengths and AD; flip tag bit `flip`
 * (or none if flip < 0). Only the result is declassified before use. */
static void check_open(const struct aead_impl *impl, size_t len, size_t ad_len, uint64_t ctr,
                       int flip)
{
    static uint8_t ct[MAX_LEN + AEAD_TAG_LEN], out[MAX_LEN], guard[MAX_LEN];
    uint8_t nonce[AEAD_NONCE_LEN], s_key[AEAD_KEY_LEN];
    int r;

    aead_nonce_from_counter(nonce, ctr);
    aead_portable_impl.seal(ct, pt, len, ad, ad_len, nonce, key);
    if (flip >= 0)
        ct[len + (size_t)flip / 8] ^= (uint8_t)(1u << (flip % 8));
    memset(out, 0xa5, len);
    memset(guard, 0xa5, len);
    memcpy(s_key, key, sizeof(s_key));
    SECRET(s_key, sizeof(s_key));
    SECRET(nonce, sizeof(nonce));
    SECRET(ct, len + AEAD_TAG_LEN);
    r = impl->open(out, ct, len + AEAD_TAG_LEN, ad, ad_len, nonce, s_key);
    /* The one legitimate declassification: accepted or not is public (the
     * peer sees whether we answer), so the result may steer control flow
     * from here on. Nothing else an open computes may. */
    PUBLIC(&r, sizeof(r));
    PUBLIC(out, len);                   /* the caller's plaintext */
    if (flip < 0) {
        CHECK(r == 0);
        CHECK_EQ_MEM(out, pt, len);
    } else {
        CHECK(r == -EBADMSG);
        CHECK_EQ_MEM(out, guard, len);  /* dst untouched on a bad tag */
    }
}

/* The batch entry points, one packet per length, one bad tag in the open
 * batch; per-op keys and counters are secret. */
static void check_batch(const struct aead_impl *impl)
{
    static uint8_t buf[N_LENGTHS][MAX_LEN + AEAD_TAG_LEN], ref[MAX_LEN + AEAD_TAG_LEN];
    static uint8_t keys[N_LENGTHS][AEAD_KEY_LEN];
    static struct aead_op ops[N_LENGTHS];
    uint8_t nonce[AEAD_NONCE_LEN];
    const size_t bad = N_LENGTHS / 2;

    for (size_t i = 0; i < N_LENGTHS; i++) {
        memcpy(keys[i], key, AEAD_KEY_LEN);
        keys[i][0] ^= (uint8_t)i;
        memcpy(buf[i], pt, lengths[i]);
        ops[i] = (struct aead_op){ .dst = buf[i], .src = buf[i], .len = lengths[i],
                                   .counter = 1000 + i, .key = keys[i], .result = 1 };
        SECRET(keys[i], AEAD_KEY_LEN);
        SECRET(&ops[i].counter, sizeof(ops[i].counter));
        SECRET(buf[i], lengths[i]);
    }
    impl->seal_batch(ops, N_LENGTHS);
    for (size_t i = 0; i < N_LENGTHS; i++) {
        PUBLIC(buf[i], lengths[i] + AEAD_TAG_LEN);
        PUBLIC(&ops[i], sizeof(ops[i]));
        PUBLIC(keys[i], AEAD_KEY_LEN);
        aead_nonce_from_counter(nonce, ops[i].counter);
        aead_portable_impl.seal(ref, pt, lengths[i], NULL, 0, nonce, keys[i]);
        CHECK(ops[i].result == 0);
        CHECK_EQ_MEM(buf[i], ref, lengths[i] + AEAD_TAG_LEN);
    }
    buf[bad][lengths[bad] + 3] ^= 0x10;
    for (size_t i = 0; i < N_LENGTHS; i++) {
        ops[i].len = lengths[i] + AEAD_TAG_LEN;
        ops[i].result = 1;
        SECRET(keys[i], AEAD_KEY_LEN);
        SECRET(&ops[i].counter, sizeof(ops[i].counter));
        SECRET(buf[i], lengths[i] + AEAD_TAG_LEN);
    }
    impl->open_batch(ops, N_LENGTHS);
    for (size_t i = 0; i < N_LENGTHS; i++) {
        PUBLIC(&ops[i].result, sizeof(ops[i].result));  /* as in check_open */
        PUBLIC(buf[i], lengths[i] + AEAD_TAG_LEN);
        CHECK(ops[i].result == (i == bad ? -EBADMSG : 0));
        if (i != bad)
            CHECK_EQ_MEM(buf[i], pt, lengths[i]);
    }
}

static void check_impl(const struct aead_impl *impl)
{
    for (size_t i = 0; i < N_LENGTHS; i++) {
        size_t len = lengths[i], ad_len = i % 3 ? 0 : AD_LEN;
        uint64_t ctr = 0x0123456789abcdefull + i;

        check_seal(impl, len, ad_len, ctr);
        check_open(impl, len, ad_len, ctr, -1);
        check_open(impl, len, ad_len, ctr, (int)((i * 37) % (8 * AEAD_TAG_LEN)));
    }
    if (impl->seal_batch && impl->open_batch)
        check_batch(impl);
}

#if defined(__x86_64__)
/* asm/poly1305_avx2.S alone: valgrind lacks ADX, so the "avx2" and
 * "avx512" entries are skipped under it, but the vector Poly1305 they use
 * needs only AVX2 and BMI2 when the block count is a multiple of 4 from 20
 * up (no scalar tail). h, r and the message are secret; one call over n
 * blocks must equal two calls over n/2 each (their reduced values). */
__attribute__((sysv_abi)) void poly1305_avx2_blocks(uint64_t st[5], const uint8_t *m, size_t len);
__attribute__((sysv_abi)) void chacha20_avx2_xor(uint8_t *dst, const uint8_t *src, size_t len,
                                                 const uint8_t key[32], const uint8_t iv[16],
                                                 uint8_t pk[32]);
__attribute__((sysv_abi)) void chacha20_ssse3_xor(uint8_t *dst, const uint8_t *src, size_t len,
                                                  const uint8_t key[32], const uint8_t iv[16],
                                                  uint8_t pk[32]);

/* h mod 2^130 - 5, canonical, as two words and the top bits (no branch). */
static void reduce(uint64_t out[3], const uint64_t st[5])
{
    typedef unsigned __int128 u128;
    uint64_t h0 = st[0], h1 = st[1], h2 = st[2];

    for (int pass = 0; pass < 2; pass++) {
        u128 t = (u128)h0 + (h2 >> 2) * 5;

        h0 = (uint64_t)t;
        t = (u128)h1 + (uint64_t)(t >> 64);
        h1 = (uint64_t)t;
        h2 = (h2 & 3) + (uint64_t)(t >> 64);
    }
    u128 g = (u128)h0 + 5;
    uint64_t g0 = (uint64_t)g, g1, g2, mask;

    g = (u128)h1 + (uint64_t)(g >> 64);
    g1 = (uint64_t)g;
    g2 = h2 + (uint64_t)(g >> 64);
    mask = (uint64_t)0 - (g2 >> 2);
    out[0] = (h0 & ~mask) | (g0 & mask);
    out[1] = (h1 & ~mask) | (g1 & mask);
    out[2] = (h2 & ~mask) | ((g2 & 3) & mask);
}

static void check_poly_avx2(void)
{
    static const size_t counts[] = { 20, 24, 40, 88, 128 };
    uint64_t one[5], two[5], a[3], b[3];

    for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
        size_t n = counts[i] * 16;

        one[0] = 0x0123456789abcdefull;
        one[1] = 0xfedcba9876543210ull;
        one[2] = 3;
        memcpy(one + 3, key, 16);
        one[3] &= 0x0ffffffc0fffffffull;
        one[4] &= 0x0ffffffc0ffffffcull;
        memcpy(two, one, sizeof(two));
        SECRET(one, sizeof(one));
        SECRET(two, sizeof(two));
        SECRET(pt, n);
        poly1305_avx2_blocks(one, pt, n);
        poly1305_avx2_blocks(two, pt, n / 2);
        poly1305_avx2_blocks(two, pt + n / 2, n / 2);
        reduce(a, one);
        reduce(b, two);
        PUBLIC(a, sizeof(a));
        PUBLIC(b, sizeof(b));
        PUBLIC(pt, n);
        CHECK(memcmp(a, b, sizeof(a)) == 0);
    }
    printf("ran the AVX2 Poly1305 kernel alone (%zu block counts)\n",
           sizeof(counts) / sizeof(counts[0]));
}
#endif

#if defined(__x86_64__)
/* The AVX2 ChaCha20 kernel alone (AVX2 only, which valgrind has): key, iv
 * and data secret, every tail kernel and the main loop; it must agree with
 * the SSSE3 kernel, keystream and Poly1305 key alike. */
static void check_chacha_avx2(void)
{
    static uint8_t a[MAX_LEN], b[MAX_LEN];
    static const size_t lens[] = { 0, 1, 63, 64, 65, 255, 256, 257, 448, 511, 512, 513, 1420, 4096 };
    uint8_t s_key[32], iv[16] = { 0 }, pka[32], pkb[32];

    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        size_t n = lens[i];

        memcpy(s_key, key, sizeof(s_key));
        memcpy(iv + 4, key + 8, 12);
        SECRET(s_key, sizeof(s_key));
        SECRET(iv, sizeof(iv));
        SECRET(pt, n);
        chacha20_avx2_xor(a, pt, n, s_key, iv, pka);
        chacha20_ssse3_xor(b, pt, n, s_key, iv, pkb);
        PUBLIC(a, n);
        PUBLIC(b, n);
        PUBLIC(pka, sizeof(pka));
        PUBLIC(pkb, sizeof(pkb));
        PUBLIC(pt, n);
        CHECK(memcmp(a, b, n) == 0);
        CHECK(memcmp(pka, pkb, sizeof(pka)) == 0);
    }
    printf("ran the AVX2 ChaCha20 kernel alone (%zu lengths)\n", sizeof(lens) / sizeof(lens[0]));
}
#endif

/* Under valgrind, CPUID is valgrind's: it may not offer every extension the
 * host has, and the implementations that need one are then skipped. */
static void print_cpu(const struct cpu_features *cpu)
{
    printf("cpu%s: ssse3=%d avx=%d avx2=%d bmi2=%d adx=%d\n",
           RUNNING_ON_VALGRIND ? " (as valgrind reports it)" : "", cpu->ssse3, cpu->avx,
           cpu->avx2, cpu->bmi2, cpu->adx);
}

int main(void)
{
    const struct cpu_features *cpu;
    const struct aead_impl *impl;
    int ran = 0;

    CHECK(wb_init() == 0);
    cpu = cpu_features_get();
    print_cpu(cpu);
    printf("mode: %s\n", RUNNING_ON_VALGRIND ? "valgrind memcheck (secret inputs undefined)"
                                             : "plain (correctness only)");
    fill(key, sizeof(key), 1);
    fill(ad, sizeof(ad), 2);
    fill(pt, sizeof(pt), 3);
    for (size_t i = 0; (impl = aead_impl_at(i)) != NULL; i++) {
        if (!impl->supported(cpu)) {
            printf("SKIPPED %s: not supported by this CPU%s\n", impl->name,
                   RUNNING_ON_VALGRIND ? " as valgrind emulates it (not checked for constant time)"
                                       : "");
            continue;
        }
        check_impl(impl);
        printf("ran %s (%zu lengths%s)\n", impl->name, N_LENGTHS,
               impl->seal_batch ? ", batch entry points too" : "");
        ran++;
    }
    CHECK(ran >= 1);
#if defined(__x86_64__)
    if (cpu->avx2 && cpu->bmi2)
        check_poly_avx2();
    else
        printf("SKIPPED the AVX2 Poly1305 kernel alone: no AVX2/BMI2\n");
    if (cpu->avx2 && cpu->ssse3)
        check_chacha_avx2();
    else
        printf("SKIPPED the AVX2 ChaCha20 kernel alone: no AVX2\n");
#endif
    return check_summary();
}
