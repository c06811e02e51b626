/* SPDX-License-Identifier: MIT */
/*
 * slow_aead_kernels.c - every AEAD implementation this CPU supports (the
 * SIMD kernels and the portable reference) against libsodium's
 * crypto_aead_chacha20poly1305_ietf_* over the whole length range: every
 * length 0..2100 and random lengths up to 65535, AD of 0..300 bytes, every
 * (source, destination) alignment pair 0..63 out of place and every
 * alignment in place.
 * Bytes around the output must stay as they were; a tampered ciphertext,
 * tag or AD must be refused with dst left untouched. Then random batches
 * through aead_seal_batch/aead_open_batch (short packets mostly, some
 * tampered) with each implementation active.
 *
 * The fast lane's test_aead_diff covers lengths up to 9000; this one is
 * labelled slow by its name. Randomness is a fixed-seed generator, so a
 * failure reproduces; each failure prints the case.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
#define TEST_RNG_SEED 0x9e3779b97f4a7c15ull
#include "rng.h"
#include "crypto/aead.h"
#include "crypto/cpu.h"

#define MAX_LEN 65535
#define MAX_AD 300
#define ALIGN 64
#define GUARD 64                                  /* bytes checked around dst */
#define BUF_LEN (GUARD + ALIGN + MAX_LEN + 16 + GUARD)
#define SMALL_SWEEP 2100                          /* every length up to this */
#define IN_PLACE_PER_ALIGN 4                      /* in-place cases per alignment */
#define CANARY 0xc5
#define BATCH_ROUNDS 300

static uint8_t src_buf[BUF_LEN], dst_buf[BUF_LEN], snapshot[BUF_LEN];
static uint8_t plain[MAX_LEN], ref[MAX_LEN + 16];

struct kase {
    const struct aead_impl *impl;
    size_t len, ad_len, src_off, dst_off;
    bool in_place;
};

static void report(const struct kase *k, const char *what)
{
    fprintf(stderr, "  %s: %s, len %zu, ad %zu, src +%zu, dst +%zu, %s\n", k->impl->name, what,
            k->len, k->ad_len, k->src_off, k->dst_off, k->in_place ? "in place" : "out of place");
}

static bool same(const struct kase *k, const uint8_t *a, const uint8_t *b, size_t n,
                 const char *what)
{
    bool ok = memcmp(a, b, n) == 0;

    CHECK(ok);
    if (!ok)
        report(k, what);
    return ok;
}

/* Everything in buf except [from, from + n) still equals the canary. */
static void outside_untouched(const struct kase *k, const uint8_t *buf, const uint8_t *from,
                              size_t n, const char *what)
{
    bool ok = true;

    for (const uint8_t *p = buf; p < buf + BUF_LEN && ok; p++)
        if ((p < from || p >= from + n) && *p != CANARY)
            ok = false;
    CHECK(ok);
    if (!ok)
        report(k, what);
}

static void run_case(const struct kase *k)
{
    uint8_t key[32], nonce[12], ad[MAX_AD];
    uint8_t *src = src_buf + GUARD + k->src_off;
    uint8_t *dst = k->in_place ? src : dst_buf + GUARD + k->dst_off;
    uint8_t *dst_whole = k->in_place ? src_buf : dst_buf;
    unsigned long long ref_len = 0;
    size_t len = k->len, bit;

    fill(key, sizeof(key));
    fill(nonce, sizeof(nonce));
    fill(ad, k->ad_len);
    fill(plain, len);
    crypto_aead_chacha20poly1305_ietf_encrypt(ref, &ref_len, plain, len, ad, k->ad_len, NULL,
                                              nonce, key);

    /* Seal: libsodium's bytes, nothing written outside dst[0, len + 16). */
    memset(src_buf, CANARY, BUF_LEN);
    memset(dst_buf, CANARY, BUF_LEN);
    memcpy(src, plain, len);
    k->impl->seal(dst, src, len, ad, k->ad_len, nonce, key);
    same(k, dst, ref, len + 16, "seal differs from libsodium");
    outside_untouched(k, dst_whole, dst, len + 16, "seal wrote outside dst");

    /* Open libsodium's ciphertext. */
    memset(src_buf, CANARY, BUF_LEN);
    memset(dst_buf, CANARY, BUF_LEN);
    memcpy(src, ref, len + 16);
    CHECK(k->impl->open(dst, src, len + 16, ad, k->ad_len, nonce, key) == 0);
    same(k, dst, plain, len, "open differs from the plaintext");
    if (!k->in_place)
        outside_untouched(k, dst_buf, dst, len, "open wrote outside dst");

    /* One flipped bit in the ciphertext, the tag or the AD: refused, and
     * neither buffer changes. */
    memcpy(src, ref, len + 16);
    switch (rng() % 3) {
    case 0:
        if (len) {
            bit = (size_t)(rng() % (len * 8));
            src[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            break;
        }
        /* fall through */
    case 1:
        if (k->ad_len) {
            bit = (size_t)(rng() % (k->ad_len * 8));
            ad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            break;
        }
        /* fall through */
    default:
        bit = (size_t)(rng() % 128);
        src[len + bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    memset(dst_buf, CANARY, BUF_LEN);
    if (!k->in_place)
        fill(dst, len);
    memcpy(snapshot, dst_whole, BUF_LEN);
    CHECK(k->impl->open(dst, src, len + 16, ad, k->ad_len, nonce, key) == -EBADMSG);
    same(k, dst_whole, snapshot, BUF_LEN, "a refused open changed dst");
}

#define BATCH_MAX 80
#define BATCH_LEN 1600

static uint8_t batch_plain[BATCH_MAX][BATCH_LEN], batch_ct[BATCH_MAX][BATCH_LEN + 16];
static uint8_t batch_ref[BATCH_MAX][BATCH_LEN + 16], batch_out[BATCH_MAX][BATCH_LEN + 16];

/* One random batch through the front door with impl active: seal, then
 * open with about a quarter of the packets tampered with. Mostly short
 * packets (the multi-buffer path), some long, keys shared by a few. */
static void batch_round(const struct aead_impl *impl, int round)
{
    struct aead_op ops[BATCH_MAX];
    uint8_t keys[3][32];
    bool tampered[BATCH_MAX];
    size_t n = 1 + (size_t)(rng() % BATCH_MAX);
    bool ok = true;

    fill(&keys[0][0], sizeof(keys));
    for (size_t i = 0; i < n; i++) {
        size_t len = (rng() & 3) ? (size_t)(rng() % 400) : (size_t)(rng() % BATCH_LEN);
        bool in_place = rng() & 1;
        uint8_t nonce[AEAD_NONCE_LEN];
        unsigned long long ref_len;

        ops[i] = (struct aead_op){ .dst = batch_ct[i], .src = batch_plain[i], .len = len,
                                   .counter = rng() >> (rng() % 64), .key = keys[rng() % 3],
                                   .result = 12345 };
        fill(batch_plain[i], len);
        aead_nonce_from_counter(nonce, ops[i].counter);
        crypto_aead_chacha20poly1305_ietf_encrypt(batch_ref[i], &ref_len, batch_plain[i], len,
                                                  NULL, 0, NULL, nonce, ops[i].key);
        if (in_place) {
            memcpy(batch_ct[i], batch_plain[i], len);
            ops[i].src = batch_ct[i];
        }
    }
    aead_seal_batch(ops, n);
    for (size_t i = 0; i < n; i++)
        ok &= ops[i].result == 0 && memcmp(batch_ct[i], batch_ref[i], ops[i].len + 16) == 0;

    for (size_t i = 0; i < n; i++) {
        size_t len = ops[i].len;
        bool in_place = rng() & 1;

        tampered[i] = (rng() & 3) == 0;
        if (tampered[i])
            batch_ct[i][rng() % (len + 16)] ^= (uint8_t)(1u << (rng() % 8));
        memset(batch_out[i], CANARY, sizeof(batch_out[i]));
        if (in_place)
            memcpy(batch_out[i], batch_ct[i], len + 16);
        memcpy(batch_ref[i], in_place ? batch_ct[i] : batch_out[i], len + 16);
        ops[i] = (struct aead_op){ .dst = batch_out[i],
                                   .src = in_place ? batch_out[i] : batch_ct[i],
                                   .len = len + 16, .counter = ops[i].counter,
                                   .key = ops[i].key, .result = 12345 };
    }
    aead_open_batch(ops, n);
    for (size_t i = 0; i < n; i++) {
        size_t len = ops[i].len - 16;

        if (tampered[i])
            ok &= ops[i].result == -EBADMSG &&
                  memcmp(batch_out[i], batch_ref[i], len + 16) == 0;
        else
            ok &= ops[i].result == 0 && memcmp(batch_out[i], batch_plain[i], len) == 0;
    }
    CHECK(ok);
    if (!ok)
        fprintf(stderr, "  %s: batch round %d (%zu packets) failed\n", impl->name, round, n);
}

static size_t random_len(void)
{
    /* Half of them near a 512-byte (8-block) boundary. */
    if (rng() & 1) {
        size_t base = (size_t)(rng() % (MAX_LEN / 512 + 1)) * 512;
        size_t len = base + (size_t)(rng() % 129) - 64;

        return len > MAX_LEN ? MAX_LEN : len;
    }
    return (size_t)(rng() % (MAX_LEN + 1));
}

static void test_impl(const struct aead_impl *impl)
{
    struct kase k = { .impl = impl };
    unsigned long failed_before = check_failed;

    /* Every length up to SMALL_SWEEP, alignments and mode rotating. */
    for (size_t len = 0; len <= SMALL_SWEEP; len++) {
        k.len = len;
        k.ad_len = (size_t)(rng() % 40);
        k.src_off = len % ALIGN;
        k.dst_off = (len * 7 + 3) % ALIGN;
        k.in_place = (len % 3) == 0;
        run_case(&k);
    }
    /* Every (source, destination) alignment pair out of place, and every
     * alignment in place, at random lengths up to MAX_LEN. */
    for (size_t a = 0; a < ALIGN; a++) {
        for (size_t b = 0; b < ALIGN + IN_PLACE_PER_ALIGN; b++) {
            k.len = random_len();
            k.ad_len = (size_t)(rng() % (MAX_AD + 1));
            k.src_off = a;
            k.dst_off = b < ALIGN ? b : a;
            k.in_place = b >= ALIGN;
            run_case(&k);
        }
    }
    /* The largest message, in place and not. */
    for (int in_place = 0; in_place < 2; in_place++) {
        k.len = MAX_LEN;
        k.ad_len = MAX_AD;
        k.src_off = 63;
        k.dst_off = 1;
        k.in_place = in_place;
        run_case(&k);
    }
    /* The batch entry points (multi-buffer where the implementation has it). */
    CHECK(aead_impl_set(impl) == 0);
    for (int round = 0; round < BATCH_ROUNDS; round++)
        batch_round(impl, round);
    printf("aead %s: %s\n", impl->name, check_failed == failed_before ? "ok" : "FAILED");
}

int main(void)
{
    size_t tested = 0;

    if (sodium_init() < 0)
        return 1;
    for (size_t i = 0; aead_impl_at(i); i++) {
        const struct aead_impl *impl = aead_impl_at(i);

        if (!impl->supported(cpu_features_get())) {
            printf("aead %s: not supported on this CPU, skipped\n", impl->name);
            continue;
        }
        test_impl(impl);
        tested++;
    }
    CHECK(tested >= 1);
    return check_summary();
}
