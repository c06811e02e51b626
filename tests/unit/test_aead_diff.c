/* SPDX-License-Identifier: MIT */
/*
 * test_aead_diff.c - every AEAD implementation this CPU supports against
 * libsodium's crypto_aead_chacha20poly1305_ietf_*: random lengths 0..9000,
 * AD 0..64 bytes, buffers at every offset 0..15, in place and out of place;
 * tampered ciphertexts, tags and AD fail and leave dst untouched; the batch
 * entry points agree with single calls. Then implementation selection
 * (wb_aead_impl_*, WIREBOLT_CRYPTO_IMPL) and the public wb_key_* functions.
 *
 * Randomness is a fixed-seed generator: a failure reproduces.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <wirebolt.h>

#include "check.h"
#define TEST_RNG_SEED 0x243f6a8885a308d3ull
#include "rng.h"
#include "crypto/aead.h"
#include "crypto/cpu.h"

#define MAX_LEN 9000
#define MAX_AD 64
#define SLACK 64

/* Lengths around block and packet boundaries half of the time. */
static size_t pick_len(void)
{
    static const size_t edges[] = { 0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129,
                                    255, 256, 257, 511, 512, 576, 1023, 1024, 1279, 1280,
                                    1420, 1436, 1500, 4096, 8191, 8192, 9000 };

    if (rng() & 1)
        return edges[rng() % (sizeof(edges) / sizeof(edges[0]))];
    return (size_t)(rng() % (MAX_LEN + 1));
}

static int set_env(const char *name, const char *value)
{
#if defined(_WIN32)
    return _putenv_s(name, value ? value : "");
#else
    return value ? setenv(name, value, 1) : unsetenv(name);
#endif
}

static uint8_t src_buf[MAX_LEN + SLACK], dst_buf[MAX_LEN + SLACK], ref_buf[MAX_LEN + SLACK];
static uint8_t plain[MAX_LEN], guard[MAX_LEN + SLACK];

/* One random case: seal and open through impl, compare with libsodium. */
static void diff_one(const struct aead_impl *impl, int iter)
{
    uint8_t key[32], nonce[12], ad[MAX_AD];
    size_t len = pick_len(), ad_len = (size_t)(rng() % (MAX_AD + 1));
    size_t src_off = (size_t)(rng() % 16), dst_off = (size_t)(rng() % 16);
    int in_place = (iter % 3) == 0;
    uint8_t *src = src_buf + src_off, *dst = in_place ? src : dst_buf + dst_off;
    unsigned long long ref_len = 0;

    fill(key, sizeof(key));
    fill(nonce, sizeof(nonce));
    fill(ad, ad_len);
    fill(plain, len);

    crypto_aead_chacha20poly1305_ietf_encrypt(ref_buf, &ref_len, plain, len, ad, ad_len, NULL,
                                              nonce, key);
    CHECK(ref_len == len + 16);

    memcpy(src, plain, len);
    impl->seal(dst, src, len, ad, ad_len, nonce, key);
    CHECK_EQ_MEM(dst, ref_buf, len + 16);

    /* Open what libsodium sealed (in place or not) and get the plaintext. */
    memcpy(src, ref_buf, len + 16);
    CHECK(impl->open(dst, src, len + 16, ad, ad_len, nonce, key) == 0);
    CHECK_EQ_MEM(dst, plain, len);

    /* Tamper with one bit of ciphertext, tag or AD: -EBADMSG, dst untouched. */
    memcpy(src, ref_buf, len + 16);
    if (!in_place) {
        memset(dst, 0xa5, len + 16);
    }
    int what = (int)(rng() % 3);
    size_t bit;
    if (what == 0 && len > 0) {
        bit = (size_t)(rng() % (len * 8));
        src[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    } else if (what == 1 && ad_len > 0) {
        bit = (size_t)(rng() % (ad_len * 8));
        ad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    } else {
        bit = (size_t)(rng() % 128);
        src[len + bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    memcpy(guard, in_place ? src : dst, len + 16);
    CHECK(impl->open(dst, src, len + 16, ad, ad_len, nonce, key) == -EBADMSG);
    CHECK(memcmp(in_place ? src : dst, guard, len + 16) == 0);
}

static void test_short_input(const struct aead_impl *impl)
{
    uint8_t key[32] = { 1 }, nonce[12] = { 2 }, in[16] = { 0 }, out[16];

    for (size_t len = 0; len < 16; len++) {
        memset(out, 0x3c, sizeof(out));
        CHECK(impl->open(out, in, len, NULL, 0, nonce, key) == -EBADMSG);
        CHECK(out[0] == 0x3c);
    }
    /* Empty plaintext, empty AD: a valid 16-byte message. */
    impl->seal(out, in, 0, NULL, 0, nonce, key);
    CHECK(impl->open(in, out, 16, NULL, 0, nonce, key) == 0);
}

#define N_OPS 37

/* Batch seal/open through the front door with impl active, vs single calls. */
static void test_batch(const struct aead_impl *impl)
{
    static uint8_t pt[N_OPS][2048], ct[N_OPS][2048 + 16], ct1[2048 + 16], out[N_OPS][2048];
    uint8_t keys[3][32];
    struct aead_op ops[N_OPS];

    CHECK(aead_impl_set(impl) == 0);
    fill(&keys[0][0], sizeof(keys));
    for (size_t i = 0; i < N_OPS; i++) {
        size_t len = (size_t)(rng() % 2049);

        fill(pt[i], len);
        ops[i] = (struct aead_op){ .dst = ct[i], .src = pt[i], .len = len,
                                   .counter = rng() >> (rng() % 64), .key = keys[i % 3],
                                   .result = 12345 };
    }
    aead_seal_batch(ops, N_OPS);
    for (size_t i = 0; i < N_OPS; i++) {
        CHECK(ops[i].result == 0);
        aead_seal(ct1, pt[i], ops[i].len, NULL, 0, ops[i].counter, ops[i].key);
        CHECK_EQ_MEM(ct[i], ct1, ops[i].len + 16);
    }

    for (size_t i = 0; i < N_OPS; i++) {
        size_t len = ops[i].len;

        if (i % 4 == 3)
            ct[i][(size_t)(rng() % (len + 16))] ^= 0x10;
        memset(out[i], 0x77, sizeof(out[i]));
        ops[i] = (struct aead_op){ .dst = out[i], .src = ct[i], .len = len + 16,
                                   .counter = ops[i].counter, .key = ops[i].key, .result = 1 };
    }
    aead_open_batch(ops, N_OPS);
    for (size_t i = 0; i < N_OPS; i++) {
        size_t len = ops[i].len - 16;

        if (i % 4 == 3) {
            CHECK(ops[i].result == -EBADMSG);
            CHECK(out[i][0] == 0x77 && out[i][sizeof(out[i]) - 1] == 0x77);
            CHECK(aead_open(out[i], ct[i], len + 16, NULL, 0, ops[i].counter, ops[i].key) ==
                  -EBADMSG);
        } else {
            CHECK(ops[i].result == 0);
            CHECK_EQ_MEM(out[i], pt[i], len);
        }
    }
    CHECK(aead_impl_set(&aead_portable_impl) == 0);
}

static void test_selection(void)
{
    const char *saved = getenv("WIREBOLT_CRYPTO_IMPL");
    char *saved_copy = saved ? strdup(saved) : NULL;
    const struct aead_impl *best = NULL;
    bool sup = false;
    size_t n = 0;

    /* Enumeration: portable is always there and always supported. */
    for (const char *name; (name = wb_aead_impl_at(n, &sup)) != NULL; n++) {
        const struct aead_impl *impl = aead_impl_find(name);

        CHECK(impl == aead_impl_at(n));
        CHECK(sup == impl->supported(cpu_features_get()));
        CHECK(wb_aead_impl_select(name) == (sup ? 0 : -ENOTSUP));
        if (sup && !best)
            best = impl;
        if (strcmp(name, "portable") == 0)
            CHECK(sup);
    }
    CHECK(n >= 1 && aead_impl_at(n) == NULL);
    CHECK(aead_impl_find("portable") == &aead_portable_impl);
    CHECK(aead_impl_find("no-such-impl") == NULL);

    CHECK(wb_aead_impl_select("no-such-impl") == -ENOENT);
    CHECK(wb_aead_impl_select(NULL) == -EINVAL);
    CHECK(wb_aead_impl_select("portable") == 0);
    CHECK(strcmp(wb_aead_impl_name(), "portable") == 0);

    /* The environment variable, read by aead_dispatch_init(). */
    CHECK(set_env("WIREBOLT_CRYPTO_IMPL", "no-such-impl") == 0);
    CHECK(aead_dispatch_init() == -ENOENT);
    CHECK(aead_active == &aead_portable_impl);
    CHECK(set_env("WIREBOLT_CRYPTO_IMPL", "portable") == 0);
    CHECK(aead_dispatch_init() == 0);
    CHECK(aead_active == &aead_portable_impl);
    CHECK(set_env("WIREBOLT_CRYPTO_IMPL", NULL) == 0);
    CHECK(aead_dispatch_init() == 0);
    CHECK(aead_active == best);

    if (saved_copy) {
        set_env("WIREBOLT_CRYPTO_IMPL", saved_copy);
        free(saved_copy);
    }
    aead_dispatch_init();
}

/* First wb_init() of the process, with a bad WIREBOLT_CRYPTO_IMPL: the error
 * is returned, every time, and the portable implementation is active. */
static void test_init_bad_env(void)
{
    const char *saved = getenv("WIREBOLT_CRYPTO_IMPL");
    char *saved_copy = saved ? strdup(saved) : NULL;

    CHECK(set_env("WIREBOLT_CRYPTO_IMPL", "no-such-impl") == 0);
    CHECK(wb_init() == -ENOENT);
    CHECK(wb_init() == -ENOENT);
    CHECK(aead_active == &aead_portable_impl);
    CHECK(strcmp(wb_aead_impl_name(), "portable") == 0);
    set_env("WIREBOLT_CRYPTO_IMPL", saved_copy);
    free(saved_copy);
    aead_dispatch_init();
}

static void test_public_aead(void)
{
    uint8_t key[32], msg[300], ct[316], back[300], ref[316], nonce[12];
    unsigned long long ref_len;

    fill(key, sizeof(key));
    fill(msg, sizeof(msg));
    wb_aead_seal(ct, msg, sizeof(msg), (const uint8_t *)"ad", 2, 42, key);
    aead_nonce_from_counter(nonce, 42);
    crypto_aead_chacha20poly1305_ietf_encrypt(ref, &ref_len, msg, sizeof(msg),
                                              (const uint8_t *)"ad", 2, NULL, nonce, key);
    CHECK_EQ_MEM(ct, ref, sizeof(ct));
    CHECK(wb_aead_open(back, ct, sizeof(ct), (const uint8_t *)"ad", 2, 42, key) == 0);
    CHECK_EQ_MEM(back, msg, sizeof(msg));
    CHECK(wb_aead_open(back, ct, sizeof(ct), (const uint8_t *)"ad", 2, 43, key) == -EBADMSG);
    CHECK(wb_aead_open(back, ct, 15, NULL, 0, 42, key) == -EBADMSG);
}

static void test_keys(void)
{
    static const char b64_00_1f[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    static const char *const bad_b64[] = {
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",    /* 43 chars */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8==",  /* 45 chars */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==",   /* 31 bytes */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8A",   /* 33 bytes */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=",   /* non-canonical */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh-=",   /* URL-safe alphabet */
        "AAECAwQFBgcICQoLDA0O DxAREhMUFRYXGBkaGxwdHh8",   /* space */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd!h8=",   /* bad char */
        "",
    };
    static const char *const bad_hex[] = {
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1",    /* 63 */
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f0",  /* 65 */
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g",   /* 'g' */
        "000102030405060708090a0b0c0d0e0f 01112131415161718191a1b1c1d1e1f",   /* space */
        "",
    };
    uint8_t k[32], k2[32], seq[32], pattern[32];
    char b64[WB_KEY_B64_LEN + 1], hex[2 * WB_KEY_LEN + 1];

    CHECK(strcmp(wb_version(), "0.1.0") == 0);

    for (size_t i = 0; i < 32; i++)
        seq[i] = (uint8_t)i;
    wb_key_to_base64(b64, seq);
    CHECK(strcmp(b64, b64_00_1f) == 0);
    CHECK(wb_key_from_base64(k, b64_00_1f) == 0);
    CHECK_EQ_MEM(k, seq, 32);
    wb_key_to_hex(hex, seq);
    CHECK(strcmp(hex, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f") == 0);
    CHECK(wb_key_from_hex(k, "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F") == 0);
    CHECK_EQ_MEM(k, seq, 32);

    for (int i = 0; i < 64; i++) {
        wb_key_generate(k);
        CHECK((k[0] & 7) == 0 && (k[31] & 0xc0) == 0x40);
        wb_key_to_base64(b64, k);
        CHECK(strlen(b64) == WB_KEY_B64_LEN && b64[43] == '=');
        CHECK(wb_key_from_base64(k2, b64) == 0);
        CHECK_EQ_MEM(k2, k, 32);
        wb_key_to_hex(hex, k);
        CHECK(strlen(hex) == 64 && strspn(hex, "0123456789abcdef") == 64);
        CHECK(wb_key_from_hex(k2, hex) == 0);
        CHECK_EQ_MEM(k2, k, 32);
    }
    wb_key_generate_preshared(k);
    wb_key_generate_preshared(k2);
    CHECK(memcmp(k, k2, 32) != 0 && !sodium_is_zero(k, 32));

    memset(pattern, 0x5a, sizeof(pattern));
    for (size_t i = 0; i < sizeof(bad_b64) / sizeof(bad_b64[0]); i++) {
        memcpy(k, pattern, 32);
        CHECK(wb_key_from_base64(k, bad_b64[i]) == -EINVAL);
        CHECK_EQ_MEM(k, pattern, 32);
    }
    CHECK(wb_key_from_base64(k, NULL) == -EINVAL);
    for (size_t i = 0; i < sizeof(bad_hex) / sizeof(bad_hex[0]); i++) {
        memcpy(k, pattern, 32);
        CHECK(wb_key_from_hex(k, bad_hex[i]) == -EINVAL);
        CHECK_EQ_MEM(k, pattern, 32);
    }
    CHECK(wb_key_from_hex(k, NULL) == -EINVAL);
}

int main(void)
{
    size_t tested = 0;

    test_init_bad_env();
    if (sodium_init() < 0)
        return 1;
    for (size_t i = 0; aead_impl_at(i); i++) {
        const struct aead_impl *impl = aead_impl_at(i);

        if (!impl->supported(cpu_features_get())) {
            printf("aead %s: not supported on this CPU, skipped\n", impl->name);
            continue;
        }
        printf("aead %s: differential vs libsodium\n", impl->name);
        for (int iter = 0; iter < 400; iter++)
            diff_one(impl, iter);
        test_short_input(impl);
        test_batch(impl);
        tested++;
    }
    CHECK(tested >= 1);
    test_selection();
    test_public_aead();
    test_keys();
    return check_summary();
}
