/* SPDX-License-Identifier: MIT */
/*
 * test_x25519.c - X25519 against RFC 7748: the two §5.2 vectors, the §5.2
 * iteration (1 and 1000 rounds), the §6.1 Diffie-Hellman exchange; then the
 * low-order points a peer could send (0, 1, the two order-8 points, p-1, p,
 * p+1, each also with bit 255 set), which must all give -EINVAL; and
 * clamping / key generation.
 */
#include <errno.h>
#include <string.h>

#include <sodium.h>
#include <wirebolt.h>

#include "check.h"
#include "crypto/x25519.h"

static void test_rfc7748_5_2(void)
{
    static const struct {
        const char *scalar, *u, *out;
    } v[] = {
        { "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
          "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
          "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552" },
        { "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
          "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
          "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957" },
    };

    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        uint8_t k[32], u[32], want[32], out[32];

        check_unhex(k, 32, v[i].scalar);
        check_unhex(u, 32, v[i].u);
        check_unhex(want, 32, v[i].out);
        CHECK(x25519(out, k, u) == 0);
        CHECK_EQ_MEM(out, want, 32);
    }
}

/* k = u = 9; repeat (k, u) = (X25519(k, u), k). */
static void test_rfc7748_iterated(void)
{
    uint8_t k[32] = { 9 }, u[32] = { 9 }, r[32], after1[32], after1000[32];

    check_unhex(after1, 32, "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
    check_unhex(after1000, 32, "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
    for (int i = 1; i <= 1000; i++) {
        CHECK(x25519(r, k, u) == 0);
        memcpy(u, k, 32);
        memcpy(k, r, 32);
        if (i == 1)
            CHECK_EQ_MEM(k, after1, 32);
    }
    CHECK_EQ_MEM(k, after1000, 32);
}

static void test_rfc7748_6_1(void)
{
    uint8_t a_priv[32], a_pub[32], b_priv[32], b_pub[32], shared[32];
    uint8_t pub[32], s1[32], s2[32];

    check_unhex(a_priv, 32, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    check_unhex(a_pub, 32, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    check_unhex(b_priv, 32, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
    check_unhex(b_pub, 32, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    check_unhex(shared, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");

    CHECK(x25519_public(pub, a_priv) == 0);
    CHECK_EQ_MEM(pub, a_pub, 32);
    CHECK(wb_key_public(pub, b_priv) == 0);
    CHECK_EQ_MEM(pub, b_pub, 32);
    CHECK(x25519(s1, a_priv, b_pub) == 0);
    CHECK(x25519(s2, b_priv, a_pub) == 0);
    CHECK_EQ_MEM(s1, shared, 32);
    CHECK_EQ_MEM(s2, shared, 32);
}

static void test_low_order(void)
{
    static const char *const points[] = {
        "0000000000000000000000000000000000000000000000000000000000000000",  /* 0 */
        "0100000000000000000000000000000000000000000000000000000000000000",  /* 1 */
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",  /* order 8 */
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",  /* order 8 */
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  /* p - 1 */
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  /* p */
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  /* p + 1 */
    };
    uint8_t priv[32], pt[32], out[32];

    check_unhex(priv, 32, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++) {
        for (int high = 0; high < 2; high++) {
            check_unhex(pt, 32, points[i]);
            if (high)
                pt[31] |= 0x80;  /* bit 255 is ignored by X25519 */
            memset(out, 0xaa, sizeof(out));
            CHECK(x25519(out, priv, pt) == -EINVAL);
            CHECK(sodium_is_zero(out, 32));
            CHECK(x25519_is_low_order(pt));
        }
    }
    /* And it flags nothing else: random points (half of them on the
     * twist) and points next to the listed ones agree with x25519(). */
    for (int i = 0; i < 2000; i++) {
        randombytes_buf(pt, sizeof(pt));
        if (i < 14) {
            check_unhex(pt, 32, points[i / 2]);
            pt[0] ^= (uint8_t)(1 + (i & 1));
        }
        CHECK(x25519_is_low_order(pt) == (x25519(out, priv, pt) == -EINVAL));
    }
}

static void test_clamp_generate(void)
{
    uint8_t k[32], pub[32];

    memset(k, 0xff, sizeof(k));
    x25519_clamp(k);
    CHECK(k[0] == 0xf8 && k[31] == 0x7f && k[15] == 0xff);
    memset(k, 0, sizeof(k));
    x25519_clamp(k);
    CHECK(k[0] == 0 && k[31] == 0x40);

    for (int i = 0; i < 16; i++) {
        x25519_generate(k);
        CHECK((k[0] & 7) == 0 && (k[31] & 0xc0) == 0x40);
        CHECK(x25519_public(pub, k) == 0);
        CHECK(!sodium_is_zero(pub, 32));
    }
    wb_key_generate(k);
    CHECK((k[0] & 7) == 0 && (k[31] & 0xc0) == 0x40);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    wb_init();  /* its result only reflects WIREBOLT_CRYPTO_IMPL, unused here */
    test_rfc7748_5_2();
    test_rfc7748_iterated();
    test_rfc7748_6_1();
    test_low_order();
    test_clamp_generate();
    return check_summary();
}
