/* SPDX-License-Identifier: MIT */
/*
 * test_aead_neon.c - the aarch64 kernels under the "neon" AEAD, one level
 * below test_rfc8439 and test_aead_diff (which run the AEAD itself):
 *   - chacha20_neon_xor against the portable ChaCha20 for every length
 *     0..1100 (the 4-block, 1-block and tail paths), odd alignments, in
 *     place, counters across the 2^32 wrap, no write past dst + len;
 *   - the Poly1305 of aead_aarch64.c (scalar base 2^64 and the four-lane
 *     NEON kernel in base 2^26) against libsodium's
 *     crypto_onetimeauth_poly1305 for 0..80 blocks fed in random runs, with
 *     extreme keys and messages, and the RFC 8439 A.3 vectors that end on a
 *     whole block (the final-reduction edge cases);
 *   - the AEAD with associated data up to 700 bytes, long enough to take
 *     the NEON MAC path (test_aead_diff stops at 64).
 * It includes crypto/aead_aarch64.c to reach its static functions. On other
 * targets there is nothing to test and it says so.
 *
 * Randomness is a fixed-seed generator: a failure reproduces.
 */
#include <stdio.h>

#if defined(__aarch64__) && defined(__AARCH64EL__) && defined(__ELF__)

#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
#define TEST_RNG_SEED 0x9e3779b97f4a7c15ull
#include "rng.h"
#include "crypto/chacha20.h"

#ifndef WB_ASM_AARCH64
#define WB_ASM_AARCH64 1
#endif
#define aead_neon_impl test_copy_of_aead_neon_impl   /* the library has the real one */
#include "crypto/aead_aarch64.c"

#define MAX_CHACHA 1100

static void test_chacha(void)
{
    static const uint32_t counters[] = { 0, 1, 0x7fffffff, 0xfffffffc, 0xfffffffe, 0xffffffff };
    static uint8_t src[MAX_CHACHA + 16], dst[MAX_CHACHA + 32], ref[MAX_CHACHA];
    uint8_t key[32], nonce[12];
    uint32_t st[16], st_copy[16];

    for (size_t len = 0; len <= MAX_CHACHA; len++) {
        uint32_t ctr = counters[len % (sizeof(counters) / sizeof(counters[0]))];
        size_t so = len % 7, doff = 1 + (len / 7) % 9;

        fill(key, sizeof(key));
        fill(nonce, sizeof(nonce));
        fill(src + so, len);
        chacha20_portable_xor(ref, src + so, len, key, nonce, ctr);
        chacha_state(st, key, nonce, ctr);
        memcpy(st_copy, st, sizeof(st));
        memset(dst, 0xee, sizeof(dst));
        chacha20_neon_xor(dst + doff, src + so, len, st);
        CHECK_EQ_MEM(dst + doff, ref, len);
        CHECK(dst[doff - 1] == 0xee && dst[doff + len] == 0xee);
        CHECK(memcmp(st, st_copy, sizeof(st)) == 0);
        chacha20_neon_xor(src + so, src + so, len, st);
        CHECK_EQ_MEM(src + so, ref, len);
    }
}

#define MAX_BLOCKS 80

/* libsodium's Poly1305 over n whole blocks || LE64(ad_len) || LE64(ct_len). */
static void ref_tag(uint8_t tag[16], const uint8_t *msg, size_t n, uint64_t ad_len,
                    uint64_t ct_len, const uint8_t key[32])
{
    static uint8_t buf[MAX_BLOCKS * BLOCK + BLOCK];

    memcpy(buf, msg, n * BLOCK);
    store64(buf + n * BLOCK, ad_len);
    store64(buf + n * BLOCK + 8, ct_len);
    crypto_onetimeauth_poly1305(tag, buf, n * BLOCK + BLOCK, key);
}

/* Our MAC over the same input, the blocks fed in runs of random length. */
static void our_tag(uint8_t tag[16], const uint8_t *msg, size_t n, uint64_t ad_len,
                    uint64_t ct_len, const uint8_t key[32])
{
    struct mac m;

    mac_init(&m, key);
    while (n) {
        size_t run = (rng() & 1) ? n : (size_t)(rng() % (n + 1));

        mac_blocks(&m, msg, run);
        msg += run * BLOCK;
        n -= run;
    }
    mac_final(&m, tag, (size_t)ad_len, (size_t)ct_len);
}

static void check_mac(const uint8_t *msg, size_t n, const uint8_t key[32])
{
    uint8_t want[16], got[16];
    uint64_t ad_len = rng(), ct_len = rng();

    ref_tag(want, msg, n, ad_len, ct_len, key);
    our_tag(got, msg, n, ad_len, ct_len, key);
    CHECK_EQ_MEM(got, want, 16);
}

static void test_poly1305(void)
{
    static uint8_t msg[MAX_BLOCKS * BLOCK];
    uint8_t key[32];

    for (size_t n = 0; n <= MAX_BLOCKS; n++) {
        for (int round = 0; round < 4; round++) {
            fill(key, sizeof(key));
            fill(msg, n * BLOCK);
            check_mac(msg, n, key);
        }
        /* Largest clamped r and s, largest and smallest blocks. */
        memset(key, 0xff, sizeof(key));
        memset(msg, 0xff, n * BLOCK);
        check_mac(msg, n, key);
        memset(msg, 0, n * BLOCK);
        check_mac(msg, n, key);
        memset(key + 16, 0, 16);
        memset(msg, 0xff, n * BLOCK);
        check_mac(msg, n, key);
    }
}

/* RFC 8439 A.3 #5-#11 without a partial last block: tag over the blocks. */
static void test_poly1305_a3(void)
{
    static const struct {
        const char *key, *msg, *tag;
    } v[] = {
        { "0200000000000000000000000000000000000000000000000000000000000000",
          "ffffffffffffffffffffffffffffffff", "03000000000000000000000000000000" },
        { "02000000000000000000000000000000ffffffffffffffffffffffffffffffff",
          "02000000000000000000000000000000", "03000000000000000000000000000000" },
        { "0100000000000000000000000000000000000000000000000000000000000000",
          "fffffffffffffffffffffffffffffffff0ffffffffffffffffffffffffffffff"
          "11000000000000000000000000000000", "05000000000000000000000000000000" },
        { "0100000000000000000000000000000000000000000000000000000000000000",
          "fffffffffffffffffffffffffffffffffbfefefefefefefefefefefefefefefe"
          "01010101010101010101010101010101", "00000000000000000000000000000000" },
        { "0200000000000000000000000000000000000000000000000000000000000000",
          "fdffffffffffffffffffffffffffffff", "faffffffffffffffffffffffffffffff" },
        { "0100000000000000040000000000000000000000000000000000000000000000",
          "e33594d7505e43b900000000000000003394d7505e4379cd0100000000000000"
          "0000000000000000000000000000000001000000000000000000000000000000",
          "14000000000000005500000000000000" },
        { "0100000000000000040000000000000000000000000000000000000000000000",
          "e33594d7505e43b900000000000000003394d7505e4379cd0100000000000000"
          "00000000000000000000000000000000", "13000000000000000000000000000000" },
    };

    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        uint8_t key[32], msg[64], want[16], tag[16];
        size_t n = check_unhex(msg, sizeof(msg), v[i].msg);
        struct mac m;

        check_unhex(key, sizeof(key), v[i].key);
        check_unhex(want, sizeof(want), v[i].tag);
        CHECK(n % BLOCK == 0);
        mac_init(&m, key);
        mac_blocks(&m, msg, n / BLOCK);
        mac_emit(&m, tag);
        CHECK_EQ_MEM(tag, want, 16);
    }
}

#define MAX_AD 700
#define MAX_LEN 1500

static void test_long_ad(void)
{
    static uint8_t ad[MAX_AD], pt[MAX_LEN], ct[MAX_LEN + 16], ref[MAX_LEN + 16], out[MAX_LEN];
    uint8_t key[32], nonce[12];

    for (int iter = 0; iter < 300; iter++) {
        size_t ad_len = (size_t)(rng() % (MAX_AD + 1)), len = (size_t)(rng() % (MAX_LEN + 1));
        unsigned long long ref_len = 0;

        fill(key, sizeof(key));
        fill(nonce, sizeof(nonce));
        fill(ad, ad_len);
        fill(pt, len);
        crypto_aead_chacha20poly1305_ietf_encrypt(ref, &ref_len, pt, len, ad, ad_len, NULL,
                                                  nonce, key);
        neon_seal(ct, pt, len, ad, ad_len, nonce, key);
        CHECK_EQ_MEM(ct, ref, len + 16);
        CHECK(neon_open(out, ct, len + 16, ad, ad_len, nonce, key) == 0);
        CHECK_EQ_MEM(out, pt, len);
        if (ad_len) {
            ad[rng() % ad_len] ^= (uint8_t)(1u << (rng() % 8));
            memset(out, 0x5a, sizeof(out));
            CHECK(neon_open(out, ct, len + 16, ad, ad_len, nonce, key) == -EBADMSG);
            CHECK(out[0] == 0x5a && out[MAX_LEN - 1] == 0x5a);
        }
    }
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    test_chacha();
    test_poly1305();
    test_poly1305_a3();
    test_long_ad();
    return check_summary();
}

#else

int main(void)
{
    printf("test_aead_neon: not little-endian aarch64 ELF, nothing to test\n");
    return 0;
}

#endif
