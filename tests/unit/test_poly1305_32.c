/* SPDX-License-Identifier: MIT */
/*
 * test_poly1305_32.c - the 26-bit-limb Poly1305 back end (the one used where
 * the compiler has no unsigned __int128), compiled here by including
 * poly1305.c with WB_POLY1305_FORCE_32, against libsodium's
 * crypto_onetimeauth_poly1305 on random keys and messages, whole and in
 * randomly split updates; plus the RFC 8439 A.3 reduction edge cases.
 *
 * The 64-bit back end is what the library links; test_rfc8439 and
 * test_aead_diff cover it.
 */
#define WB_POLY1305_FORCE_32 1
#include "crypto/poly1305.c"

#include <sodium.h>

#include "check.h"
#define TEST_RNG_SEED 0x9e3779b97f4a7c15ull
#include "rng.h"

_Static_assert(!POLY1305_LIMB64, "the 26-bit back end must be the one under test");

/* xorshift64*: deterministic, so a failure reproduces. */
static void tag_split(uint8_t tag[16], const uint8_t key[32], const uint8_t *m, size_t n)
{
    struct poly1305_ctx ctx;
    size_t off = 0;

    poly1305_portable_init(&ctx, key);
    while (off < n) {
        size_t step = (size_t)(rng() % 40);

        if (step > n - off)
            step = n - off;
        poly1305_portable_update(&ctx, m + off, step);
        off += step;
    }
    poly1305_portable_final(&ctx, tag);
}

static void test_random(void)
{
    static uint8_t msg[4096];

    for (int iter = 0; iter < 2000; iter++) {
        uint8_t key[32], want[16], got[16];
        struct poly1305_ctx ctx;
        size_t n = (size_t)(rng() % (iter < 1000 ? 80 : sizeof(msg)));

        fill(key, sizeof(key));
        /* Stress the carries: some keys and messages made of 0xff bytes. */
        if (iter % 7 == 0)
            memset(key, 0xff, sizeof(key));
        fill(msg, n);
        if (iter % 5 == 0)
            memset(msg, 0xff, n);
        crypto_onetimeauth_poly1305(want, msg, n, key);

        poly1305_portable_init(&ctx, key);
        poly1305_portable_update(&ctx, msg, n);
        poly1305_portable_final(&ctx, got);
        CHECK_EQ_MEM(got, want, 16);

        tag_split(got, key, msg, n);
        CHECK_EQ_MEM(got, want, 16);
    }
}

/* RFC 8439 A.3 #5-#11: partially reduced results that are not fully
 * reduced, s overflowing 2^128, carries out of all-ones limbs. */
static void test_edges(void)
{
    static const struct {
        const char *key, *msg, *tag;
    } v[] = {
        { "0200000000000000000000000000000000000000000000000000000000000000",
          "ffffffffffffffffffffffffffffffff", "03000000000000000000000000000000" },
        { "02000000000000000000000000000000ffffffffffffffffffffffffffffffff",
          "02000000000000000000000000000000", "03000000000000000000000000000000" },
        { "0100000000000000000000000000000000000000000000000000000000000000",
          "ffffffffffffffffffffffffffffffff""f0ffffffffffffffffffffffffffffff"
          "11000000000000000000000000000000", "05000000000000000000000000000000" },
        { "0100000000000000000000000000000000000000000000000000000000000000",
          "ffffffffffffffffffffffffffffffff""fbfefefefefefefefefefefefefefefe"
          "01010101010101010101010101010101", "00000000000000000000000000000000" },
        { "0200000000000000000000000000000000000000000000000000000000000000",
          "fdffffffffffffffffffffffffffffff", "faffffffffffffffffffffffffffffff" },
        { "0100000000000000040000000000000000000000000000000000000000000000",
          "e33594d7505e43b90000000000000000""3394d7505e4379cd0100000000000000"
          "00000000000000000000000000000000""01000000000000000000000000000000",
          "14000000000000005500000000000000" },
        { "0100000000000000040000000000000000000000000000000000000000000000",
          "e33594d7505e43b90000000000000000""3394d7505e4379cd0100000000000000"
          "00000000000000000000000000000000", "13000000000000000000000000000000" },
    };

    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        uint8_t key[32], msg[64], want[16], got[16], ref[16];
        struct poly1305_ctx ctx;
        size_t n;

        check_unhex(key, sizeof(key), v[i].key);
        n = check_unhex(msg, sizeof(msg), v[i].msg);
        check_unhex(want, sizeof(want), v[i].tag);
        poly1305_portable_init(&ctx, key);
        poly1305_portable_update(&ctx, msg, n);
        poly1305_portable_final(&ctx, got);
        CHECK_EQ_MEM(got, want, 16);
        crypto_onetimeauth_poly1305(ref, msg, n, key);
        CHECK_EQ_MEM(ref, want, 16);
    }
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    test_edges();
    test_random();
    return check_summary();
}
