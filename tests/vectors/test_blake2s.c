/* SPDX-License-Identifier: MIT */
/*
 * test_blake2s.c - BLAKE2s against RFC 7693 (Appendix B "abc", Appendix E
 * self-test grand hash), the official BLAKE2 keyed KAT (key 00..1f, input
 * 00..n-1, from BLAKE2/BLAKE2 testvectors/blake2-kat.h), incremental updates,
 * HMAC-BLAKE2s, the WireGuard KDF vectors of wireguard-go device/kdf_test.go,
 * and the Noise construction constants C0 and H0.
 */
#include <string.h>

#include "check.h"
#include "crypto/blake2s.h"

/* RFC 7693 Appendix B: BLAKE2s-256("abc"). */
static void test_abc(void)
{
    uint8_t want[32], out[32];

    check_unhex(want, sizeof(want),
                "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
    blake2s(out, 32, (const uint8_t *)"abc", 3, NULL, 0);
    CHECK_EQ_MEM(out, want, 32);
}

/* RFC 7693 Appendix E: a Fibonacci-like byte sequence seeded per length. */
static void selftest_seq(uint8_t *out, size_t len, uint32_t seed)
{
    uint32_t a = 0xDEAD4BAD * seed, b = 1;

    for (size_t i = 0; i < len; i++) {
        uint32_t t = a + b;

        a = b;
        b = t;
        out[i] = (uint8_t)(t >> 24);
    }
}

/* Hash of the unkeyed and keyed hashes for outlen {16,20,28,32} x inlen
 * {0,3,64,65,255,1024}. */
static void test_rfc7693_selftest(void)
{
    static const size_t md_len[4] = { 16, 20, 28, 32 };
    static const size_t in_len[6] = { 0, 3, 64, 65, 255, 1024 };
    uint8_t in[1024], md[32], key[32], grand[32], want[32];
    struct blake2s_state all;

    check_unhex(want, sizeof(want),
                "6a411f08ce25adcdfb02aba641451cec53c598b24f4fc787fbdc88797f4c1dfe");
    blake2s_init(&all, 32);
    for (size_t i = 0; i < 4; i++) {
        size_t outlen = md_len[i];

        for (size_t j = 0; j < 6; j++) {
            size_t inlen = in_len[j];

            selftest_seq(in, inlen, (uint32_t)inlen);
            blake2s(md, outlen, in, inlen, NULL, 0);
            blake2s_update(&all, md, outlen);

            selftest_seq(key, outlen, (uint32_t)outlen);
            blake2s(md, outlen, in, inlen, key, outlen);
            blake2s_update(&all, md, outlen);
        }
    }
    blake2s_final(&all, grand);
    CHECK_EQ_MEM(grand, want, 32);
}

/* blake2s_keyed_kat[n] from the BLAKE2 reference package. */
static void test_keyed_kat(void)
{
    static const struct {
        size_t n;
        const char *out;
    } kat[] = {
        { 0, "48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49" },
        { 1, "40d15fee7c328830166ac3f918650f807e7e01e177258cdc0a39b11f598066f1" },
        { 64, "8975b0577fd35566d750b362b0897a26c399136df07bababbde6203ff2954ed4" },
        { 255, "3fb735061abc519dfe979e54c1ee5bfad0a9d858b3315bad34bde999efd724dd" },
    };
    uint8_t key[32], in[256], want[32], out[32];

    for (size_t i = 0; i < sizeof(key); i++)
        key[i] = (uint8_t)i;
    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)i;
    for (size_t k = 0; k < sizeof(kat) / sizeof(kat[0]); k++) {
        struct blake2s_state s;

        check_unhex(want, sizeof(want), kat[k].out);
        blake2s(out, 32, in, kat[k].n, key, 32);
        CHECK_EQ_MEM(out, want, 32);

        /* Same through odd-sized updates (block-boundary buffering). */
        blake2s_init_key(&s, 32, key, 32);
        for (size_t off = 0; off < kat[k].n;) {
            size_t step = 1 + (off * 13) % 70;

            if (step > kat[k].n - off)
                step = kat[k].n - off;
            blake2s_update(&s, in + off, step);
            off += step;
        }
        blake2s_final(&s, out);
        CHECK_EQ_MEM(out, want, 32);
        /* final wiped the state. */
        CHECK(s.buflen == 0 && s.h[0] == 0 && s.outlen == 0);
    }
}

/* HMAC-BLAKE2s (RFC 2104, block 64), expected values from Python's
 * hmac.new(key, msg, hashlib.blake2s). */
static void test_hmac(void)
{
    static const char fox[] = "The quick brown fox jumps over the lazy dog";
    uint8_t want[32], out[32], longkey[100];

    check_unhex(want, sizeof(want),
                "f93215bb90d4af4c3061cd932fb169fb8bb8a91d0b4022baea1271e1323cd9a0");
    hmac_blake2s(out, (const uint8_t *)fox, strlen(fox), (const uint8_t *)"key", 3);
    CHECK_EQ_MEM(out, want, 32);

    /* A key longer than the block is hashed first. */
    for (size_t i = 0; i < sizeof(longkey); i++)
        longkey[i] = (uint8_t)i;
    check_unhex(want, sizeof(want),
                "096d2dec44b647196383c466daf27592cf0c187793f83d1e9f8a19efc137d0d1");
    hmac_blake2s(out, (const uint8_t *)"long key", 8, longkey, sizeof(longkey));
    CHECK_EQ_MEM(out, want, 32);
}

/* wireguard-go device/kdf_test.go. Its keys are 8, 9 and 0 bytes; ours is
 * the 32-byte chaining key. HMAC zero-pads any key to the 64-byte block, so
 * the same key zero-padded to 32 bytes gives the same outputs. */
static void test_kdf(void)
{
    static const struct {
        const char *key, *input, *t0, *t1, *t2;
    } v[] = {
        { "746573742d6b6579", "746573742d696e707574",
          "6f0e5ad38daba1bea8a0d213688736f19763239305e0f58aba697f9ffc41c633",
          "df1194df20802a4fe594cde27e92991c8cae66c366e8106aaa937a55fa371e8a",
          "fac6e2745a325f5dc5d11a5b165aad08b0ada28e7b4e666b7c077934a4d76c24" },
        { "776972656775617264", "776972656775617264",
          "491d43bbfdaa8750aaf535e334ecbfe5129967cd64635101c566d4caefda96e8",
          "1e71a379baefd8a79aa4662212fcafe19a23e2b609a3db7d6bcba8f560e3d25f",
          "31e1ae48bddfbe5de38f295e5452b1909a1b4e38e183926af3780b0c1e1f0160" },
        { "", "",
          "8387b46bf43eccfcf349552a095d8315c4055beb90208fb1be23b894bc2ed5d0",
          "58a0e5f6faefccf4807bff1f05fa8a9217945762040bcec2f4b4a62bdfe0e86e",
          "0ce6ea98ec548f8e281e93e32db65621c45eb18dc6f0a7ad94178610a2f7338e" },
    };

    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        uint8_t ck[32] = { 0 }, in[32], t0[32], t1[32], t2[32], a[32], b[32], c[32];
        size_t in_len;

        check_unhex(ck, sizeof(ck), v[i].key);
        in_len = check_unhex(in, sizeof(in), v[i].input);
        check_unhex(t0, 32, v[i].t0);
        check_unhex(t1, 32, v[i].t1);
        check_unhex(t2, 32, v[i].t2);

        blake2s_hkdf(a, b, c, in, in_len, ck);
        CHECK_EQ_MEM(a, t0, 32);
        CHECK_EQ_MEM(b, t1, 32);
        CHECK_EQ_MEM(c, t2, 32);

        memset(b, 0xee, 32);
        blake2s_hkdf(a, b, NULL, in, in_len, ck);
        CHECK_EQ_MEM(a, t0, 32);
        CHECK_EQ_MEM(b, t1, 32);

        memset(b, 0xee, 32);
        blake2s_hkdf(a, NULL, NULL, in, in_len, ck);
        CHECK_EQ_MEM(a, t0, 32);

        /* Outputs may alias the chaining key (noise.c does ck = KDF(ck, ...)). */
        memcpy(a, ck, 32);
        blake2s_hkdf(a, b, NULL, in, in_len, a);
        CHECK_EQ_MEM(a, t0, 32);
        CHECK_EQ_MEM(b, t1, 32);
    }
}

/* C0 = HASH(construction), H0 = HASH(C0 || identifier) (reference.md). */
static void test_construction(void)
{
    static const char construction[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
    static const char identifier[] = "WireGuard v1 zx2c4 Jason@zx2c4.com";
    uint8_t c0[32], h0[32], want_c0[32], want_h0[32];
    struct blake2s_state s;

    check_unhex(want_c0, 32, "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36");
    check_unhex(want_h0, 32, "2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3");
    blake2s(c0, 32, (const uint8_t *)construction, strlen(construction), NULL, 0);
    CHECK_EQ_MEM(c0, want_c0, 32);
    blake2s_init(&s, 32);
    blake2s_update(&s, c0, 32);
    blake2s_update(&s, (const uint8_t *)identifier, strlen(identifier));
    blake2s_final(&s, h0);
    CHECK_EQ_MEM(h0, want_h0, 32);
}

int main(void)
{
    test_abc();
    test_rfc7693_selftest();
    test_keyed_kat();
    test_hmac();
    test_kdf();
    test_construction();
    return check_summary();
}
