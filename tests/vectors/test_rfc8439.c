/* SPDX-License-Identifier: MIT */
/*
 * test_rfc8439.c - RFC 8439 vectors: ChaCha20 block and encryption (§2.3.2,
 * §2.4.2, §2.6.2, A.1, A.2, A.4), Poly1305 (§2.5.2 and all of A.3, including
 * the final-reduction edge cases #5-#11) and the AEAD (§2.8.2, A.5) through
 * every implementation in the dispatch table that this CPU supports; then
 * the WireGuard nonce mapping (4 zero bytes || LE64(counter)).
 */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
#include "crypto/aead.h"
#include "crypto/chacha20.h"
#include "crypto/cpu.h"
#include "crypto/poly1305.h"

#define SUNSCREEN                                                                                  \
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the "        \
    "future, sunscreen would be it."
#define IETF_TEXT                                                                                  \
    "Any submission to the IETF intended by the Contributor for publication as all or part of "   \
    "an IETF Internet-Draft or RFC and any statement made within the context of an IETF "         \
    "activity is considered an \"IETF Contribution\". Such statements include oral statements "   \
    "in IETF sessions, as well as written and electronic communications made at any time or "     \
    "place, which are addressed to"
#define JABBERWOCKY                                                                                \
    "'Twas brillig, and the slithy toves\nDid gyre and gimble in the wabe:\nAll mimsy were the "  \
    "borogoves,\nAnd the mome raths outgrabe."
#define DRAFTS_TEXT                                                                                \
    "Internet-Drafts are draft documents valid for a maximum of six months and may be updated, "  \
    "replaced, or obsoleted by other documents at any time. It is inappropriate to use "          \
    "Internet-Drafts as reference material or to cite them other than as /\xe2\x80\x9cwork in "   \
    "progress./\xe2\x80\x9d"

#define KEY_00_1F "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define KEY_80_9F "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
#define KEY_1C92 "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0"
#define ZERO32 "0000000000000000000000000000000000000000000000000000000000000000"
#define ZERO16 "00000000000000000000000000000000"

#define BUF 512

struct chacha_vec {
    const char *name, *key, *nonce;
    uint32_t counter;
    const char *plain;      /* NULL: all zero, length of out */
    const char *out;        /* ciphertext (or keystream for zero plaintext), hex */
};

static const struct chacha_vec chacha_vecs[] = {
    { "2.3.2 block", KEY_00_1F, "000000090000004a00000000", 1, NULL,
      "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
      "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e" },
    { "2.4.2 sunscreen", KEY_00_1F, "000000000000004a00000000", 1, SUNSCREEN,
      "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b"
      "f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8"
      "07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736"
      "5af90bbf74a35be6b40b8eedf2785e42874d" },
    { "2.6.2 poly key", KEY_80_9F, "000000000001020304050607", 0, NULL,
      "8ad5a08b905f81cc815040274ab29471a833b637e3fd0da508dbb8e2fdd1a646" },
    { "A.1 #1", ZERO32, "000000000000000000000000", 0, NULL,
      "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"
      "da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586" },
    { "A.1 #2", ZERO32, "000000000000000000000000", 1, NULL,
      "9f07e7be5551387a98ba977c732d080dcb0f29a048e3656912c6533e32ee7aed"
      "29b721769ce64e43d57133b074d839d531ed1f28510afb45ace10a1f4b794d6f" },
    { "A.1 #3", "0000000000000000000000000000000000000000000000000000000000000001",
      "000000000000000000000000", 1, NULL,
      "3aeb5224ecf849929b9d828db1ced4dd832025e8018b8160b82284f3c949aa5a"
      "8eca00bbb4a73bdad192b5c42f73f2fd4e273644c8b36125a64addeb006c13a0" },
    { "A.1 #4", "00ff000000000000000000000000000000000000000000000000000000000000",
      "000000000000000000000000", 2, NULL,
      "72d54dfbf12ec44b362692df94137f328fea8da73990265ec1bbbea1ae9af0ca"
      "13b25aa26cb4a648cb9b9d1be65b2c0924a66c54d545ec1b7374f4872e99f096" },
    { "A.1 #5", ZERO32, "000000000000000000000002", 0, NULL,
      "c2c64d378cd536374ae204b9ef933fcd1a8b2288b3dfa49672ab765b54ee27c7"
      "8a970e0e955c14f3a88e741b97c286f75f8fc299e8148362fa198a39531bed6d" },
    { "A.2 #2", "0000000000000000000000000000000000000000000000000000000000000001",
      "000000000000000000000002", 1, IETF_TEXT,
      "a3fbf07df3fa2fde4f376ca23e82737041605d9f4f4f57bd8cff2c1d4b7955ec"
      "2a97948bd3722915c8f3d337f7d370050e9e96d647b7c39f56e031ca5eb6250d"
      "4042e02785ececfa4b4bb5e8ead0440e20b6e8db09d881a7c6132f420e527950"
      "42bdfa7773d8a9051447b3291ce1411c680465552aa6c405b7764d5e87bea85a"
      "d00f8449ed8f72d0d662ab052691ca66424bc86d2df80ea41f43abf937d3259d"
      "c4b2d0dfb48a6c9139ddd7f76966e928e635553ba76c5c879d7b35d49eb2e62b"
      "0871cdac638939e25e8a1e0ef9d5280fa8ca328b351c3c765989cbcf3daa8b6c"
      "cc3aaf9f3979c92b3720fc88dc95ed84a1be059c6499b9fda236e7e818b04b0b"
      "c39c1e876b193bfe5569753f88128cc08aaa9b63d1a16f80ef2554d7189c411f"
      "5869ca52c5b83fa36ff216b9c1d30062bebcfd2dc5bce0911934fda79a86f6e6"
      "98ced759c3ff9b6477338f3da4f9cd8514ea9982ccafb341b2384dd902f3d1ab"
      "7ac61dd29c6f21ba5b862f3730e37cfdc4fd806c22f221" },
    { "A.2 #3", KEY_1C92, "000000000000000000000002", 42, JABBERWOCKY,
      "62e6347f95ed87a45ffae7426f27a1df5fb69110044c0d73118effa95b01e5cf"
      "166d3df2d721caf9b21e5fb14c616871fd84c54f9d65b283196c7fe4f60553eb"
      "f39c6402c42234e32a356b3e764312a61a5532055716ead6962568f87d3f3f77"
      "04c6a8d1bcd1bf4d50d6154b6da731b187b58dfd728afa36757a797ac188d1" },
    { "A.4 #1", ZERO32, "000000000000000000000000", 0, NULL,
      "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7" },
    { "A.4 #2", "0000000000000000000000000000000000000000000000000000000000000001",
      "000000000000000000000002", 0, NULL,
      "ecfa254f845f647473d3cb140da9e87606cb33066c447b87bc2666dde3fbb739" },
    { "A.4 #3", KEY_1C92, "000000000000000000000002", 0, NULL,
      "965e3bc6f9ec7ed9560808f4d229f94b137ff275ca9b3fcbdd59deaad23310ae" },
};

struct poly_vec {
    const char *name, *key;
    const char *msg_text;   /* message as text, or NULL: msg_hex */
    const char *msg_hex;
    const char *tag;
};

static const struct poly_vec poly_vecs[] = {
    { "2.5.2", "85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b",
      "Cryptographic Forum Research Group", NULL, "a8061dc1305136c6c22b8baf0c0127a9" },
    { "A.3 #1", ZERO32, NULL, ZERO32 ZERO32, ZERO16 },
    { "A.3 #2", ZERO16 "36e5f6b5c5e06070f0efca96227a863e", IETF_TEXT, NULL,
      "36e5f6b5c5e06070f0efca96227a863e" },
    { "A.3 #3", "36e5f6b5c5e06070f0efca96227a863e" ZERO16, IETF_TEXT, NULL,
      "f3477e7cd95417af89a6b8794c310cf0" },
    { "A.3 #4", KEY_1C92, JABBERWOCKY, NULL, "4541669a7eaaee61e708dc7cbcc5eb62" },
    { "A.3 #5", "02000000000000000000000000000000" ZERO16, NULL,
      "ffffffffffffffffffffffffffffffff", "03000000000000000000000000000000" },
    { "A.3 #6", "02000000000000000000000000000000ffffffffffffffffffffffffffffffff", NULL,
      "02000000000000000000000000000000", "03000000000000000000000000000000" },
    { "A.3 #7", "01000000000000000000000000000000" ZERO16, NULL,
      "ffffffffffffffffffffffffffffffff"
      "f0ffffffffffffffffffffffffffffff"
      "11000000000000000000000000000000",
      "05000000000000000000000000000000" },
    { "A.3 #8", "01000000000000000000000000000000" ZERO16, NULL,
      "ffffffffffffffffffffffffffffffff"
      "fbfefefefefefefefefefefefefefefe"
      "01010101010101010101010101010101",
      ZERO16 },
    { "A.3 #9", "02000000000000000000000000000000" ZERO16, NULL,
      "fdffffffffffffffffffffffffffffff", "faffffffffffffffffffffffffffffff" },
    { "A.3 #10", "01000000000000000400000000000000" ZERO16, NULL,
      "e33594d7505e43b90000000000000000"
      "3394d7505e4379cd0100000000000000"
      "00000000000000000000000000000000"
      "01000000000000000000000000000000",
      "14000000000000005500000000000000" },
    { "A.3 #11", "01000000000000000400000000000000" ZERO16, NULL,
      "e33594d7505e43b90000000000000000"
      "3394d7505e4379cd0100000000000000"
      "00000000000000000000000000000000",
      "13000000000000000000000000000000" },
};

struct aead_vec {
    const char *name, *key, *nonce, *ad, *plain, *cipher, *tag;
};

static const struct aead_vec aead_vecs[] = {
    { "2.8.2", KEY_80_9F, "070000004041424344454647", "50515253c0c1c2c3c4c5c6c7", SUNSCREEN,
      "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
      "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
      "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
      "3ff4def08e4b7a9de576d26586cec64b6116",
      "1ae10b594f09e26a7e902ecbd0600691" },
    { "A.5", KEY_1C92, "000000000102030405060708", "f33388860000000000004e91", DRAFTS_TEXT,
      "64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb2"
      "4c6cfc18755d43eea09ee94e382d26b0bdb7b73c321b0100d4f03b7f355894cf"
      "332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855"
      "9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4"
      "b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523e"
      "af4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a"
      "0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a10"
      "49e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29"
      "a6ad5cb4022b02709b",
      "eead9d67890cbb22392336fea1851f38" },
};

static void test_chacha20(void)
{
    for (size_t v = 0; v < sizeof(chacha_vecs) / sizeof(chacha_vecs[0]); v++) {
        const struct chacha_vec *t = &chacha_vecs[v];
        uint8_t key[32], nonce[12], in[BUF] = { 0 }, want[BUF], out[BUF];
        size_t n = check_unhex(want, sizeof(want), t->out);

        check_unhex(key, sizeof(key), t->key);
        check_unhex(nonce, sizeof(nonce), t->nonce);
        if (t->plain) {
            CHECK(strlen(t->plain) == n);
            memcpy(in, t->plain, n);
        }
        chacha20_portable_xor(out, in, n, key, nonce, t->counter);
        CHECK_EQ_MEM(out, want, n);
        /* In place, and split at an odd point (counter advances per block). */
        memcpy(out, in, n);
        chacha20_portable_xor(out, out, n, key, nonce, t->counter);
        CHECK_EQ_MEM(out, want, n);
        if (n > 64) {
            chacha20_portable_xor(out, in, 64, key, nonce, t->counter);
            chacha20_portable_xor(out + 64, in + 64, n - 64, key, nonce, t->counter + 1);
            CHECK_EQ_MEM(out, want, n);
        }
    }
}

static void test_poly1305(void)
{
    for (size_t v = 0; v < sizeof(poly_vecs) / sizeof(poly_vecs[0]); v++) {
        const struct poly_vec *t = &poly_vecs[v];
        uint8_t key[32], msg[BUF], want[16], tag[16];
        struct poly1305_ctx ctx;
        size_t n;

        check_unhex(key, sizeof(key), t->key);
        check_unhex(want, sizeof(want), t->tag);
        if (t->msg_text) {
            n = strlen(t->msg_text);
            memcpy(msg, t->msg_text, n);
        } else {
            n = check_unhex(msg, sizeof(msg), t->msg_hex);
        }
        poly1305_portable_init(&ctx, key);
        poly1305_portable_update(&ctx, msg, n);
        poly1305_portable_final(&ctx, tag);
        CHECK_EQ_MEM(tag, want, 16);

        /* Byte-at-a-time updates must give the same tag. */
        poly1305_portable_init(&ctx, key);
        for (size_t i = 0; i < n; i++)
            poly1305_portable_update(&ctx, msg + i, 1);
        poly1305_portable_final(&ctx, tag);
        CHECK_EQ_MEM(tag, want, 16);
    }
}

static void test_aead_impl(const struct aead_impl *impl)
{
    for (size_t v = 0; v < sizeof(aead_vecs) / sizeof(aead_vecs[0]); v++) {
        const struct aead_vec *t = &aead_vecs[v];
        uint8_t key[32], nonce[12], ad[64], want[BUF], out[BUF], back[BUF];
        size_t ad_len, n = strlen(t->plain);

        check_unhex(key, sizeof(key), t->key);
        check_unhex(nonce, sizeof(nonce), t->nonce);
        ad_len = check_unhex(ad, sizeof(ad), t->ad);
        CHECK(check_unhex(want, sizeof(want), t->cipher) == n);
        check_unhex(want + n, 16, t->tag);

        impl->seal(out, (const uint8_t *)t->plain, n, ad, ad_len, nonce, key);
        CHECK_EQ_MEM(out, want, n + 16);

        memset(back, 0xaa, sizeof(back));
        CHECK(impl->open(back, want, n + 16, ad, ad_len, nonce, key) == 0);
        CHECK_EQ_MEM(back, t->plain, n);

        /* In place both ways. */
        memcpy(out, t->plain, n);
        impl->seal(out, out, n, ad, ad_len, nonce, key);
        CHECK_EQ_MEM(out, want, n + 16);
        CHECK(impl->open(out, out, n + 16, ad, ad_len, nonce, key) == 0);
        CHECK_EQ_MEM(out, t->plain, n);

        /* A flipped tag bit or AD bit fails and writes nothing. */
        memcpy(out, want, n + 16);
        out[n + 15] ^= 0x80;
        memset(back, 0x5c, sizeof(back));
        CHECK(impl->open(back, out, n + 16, ad, ad_len, nonce, key) == -EBADMSG);
        CHECK(back[0] == 0x5c && back[n - 1] == 0x5c);
        ad[0] ^= 1;
        CHECK(impl->open(back, want, n + 16, ad, ad_len, nonce, key) == -EBADMSG);
        CHECK(back[0] == 0x5c);
    }
}

static void test_nonce_mapping(void)
{
    static const uint8_t expect[12] = { 0, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1 };
    uint8_t nonce[12], key[32], msg[100], a[116], b[116], c[116];
    unsigned long long clen = 0;

    aead_nonce_from_counter(nonce, 0x0102030405060708ull);
    CHECK_EQ_MEM(nonce, expect, 12);
    aead_nonce_from_counter(nonce, 0);
    CHECK(sodium_is_zero(nonce, 12));

    check_unhex(key, sizeof(key), KEY_80_9F);
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(i * 7);
    aead_nonce_from_counter(nonce, 0x0102030405060708ull);
    aead_seal(a, msg, sizeof(msg), NULL, 0, 0x0102030405060708ull, key);
    aead_portable_impl.seal(b, msg, sizeof(msg), NULL, 0, nonce, key);
    crypto_aead_chacha20poly1305_ietf_encrypt(c, &clen, msg, sizeof(msg), NULL, 0, NULL, nonce, key);
    CHECK(clen == sizeof(c));
    CHECK_EQ_MEM(a, b, sizeof(a));
    CHECK_EQ_MEM(a, c, sizeof(a));
    CHECK(aead_open(b, a, sizeof(a), NULL, 0, 0x0102030405060708ull, key) == 0);
    CHECK_EQ_MEM(b, msg, sizeof(msg));
    CHECK(aead_open(b, a, sizeof(a), NULL, 0, 0x0102030405060709ull, key) == -EBADMSG);
}

int main(void)
{
    size_t tested = 0;

    if (sodium_init() < 0)
        return 1;
    test_chacha20();
    test_poly1305();
    for (size_t i = 0; aead_impl_at(i); i++) {
        const struct aead_impl *impl = aead_impl_at(i);

        if (!impl->supported(cpu_features_get())) {
            printf("aead %s: not supported on this CPU, skipped\n", impl->name);
            continue;
        }
        printf("aead %s: RFC 8439 vectors\n", impl->name);
        test_aead_impl(impl);
        tested++;
    }
    CHECK(tested >= 1);
    test_nonce_mapping();
    return check_summary();
}
