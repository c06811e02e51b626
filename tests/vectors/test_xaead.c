/* SPDX-License-Identifier: MIT */
/*
 * test_xaead.c - XChaCha20-Poly1305 (cookie replies) against the
 * draft-irtf-cfrg-xchacha-03 A.3.1 vector; tampering and short inputs fail
 * with -EBADMSG and leave dst untouched (libsodium alone would zero it).
 */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
#include "crypto/xaead.h"

#define SUNSCREEN                                                                                  \
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the "        \
    "future, sunscreen would be it."

int main(void)
{
    uint8_t key[32], nonce[24], ad[12], want[130], out[130], back[130];
    size_t n = strlen(SUNSCREEN);

    if (sodium_init() < 0)
        return 1;
    check_unhex(key, sizeof(key), "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
    check_unhex(nonce, sizeof(nonce), "404142434445464748494a4b4c4d4e4f5051525354555657");
    check_unhex(ad, sizeof(ad), "50515253c0c1c2c3c4c5c6c7");
    CHECK(check_unhex(want, sizeof(want),
                      "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb"
                      "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452"
                      "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
                      "21f9664c97637da9768812f615c68b13b52e"
                      "c0875924c1c7987947deafd8780acf49") == n + 16);

    xaead_seal(out, (const uint8_t *)SUNSCREEN, n, ad, sizeof(ad), nonce, key);
    CHECK_EQ_MEM(out, want, n + 16);
    CHECK(xaead_open(back, want, n + 16, ad, sizeof(ad), nonce, key) == 0);
    CHECK_EQ_MEM(back, SUNSCREEN, n);

    /* In place. */
    memcpy(out, want, n + 16);
    CHECK(xaead_open(out, out, n + 16, ad, sizeof(ad), nonce, key) == 0);
    CHECK_EQ_MEM(out, SUNSCREEN, n);

    /* Each bit of the tag, a ciphertext bit, an AD bit, the nonce: fail, dst untouched. */
    for (size_t bit = 0; bit < 128; bit++) {
        memcpy(out, want, n + 16);
        out[n + bit / 8] ^= (uint8_t)(1u << (bit % 8));
        memset(back, 0x66, sizeof(back));
        CHECK(xaead_open(back, out, n + 16, ad, sizeof(ad), nonce, key) == -EBADMSG);
        CHECK(back[0] == 0x66 && back[n - 1] == 0x66);
    }
    memcpy(out, want, n + 16);
    out[7] ^= 4;
    CHECK(xaead_open(back, out, n + 16, ad, sizeof(ad), nonce, key) == -EBADMSG);
    CHECK(back[0] == 0x66);
    ad[11] ^= 1;
    CHECK(xaead_open(back, want, n + 16, ad, sizeof(ad), nonce, key) == -EBADMSG);
    ad[11] ^= 1;
    nonce[23] ^= 1;
    CHECK(xaead_open(back, want, n + 16, ad, sizeof(ad), nonce, key) == -EBADMSG);
    CHECK(back[0] == 0x66);
    for (size_t len = 0; len < 16; len++)
        CHECK(xaead_open(back, want, len, NULL, 0, nonce, key) == -EBADMSG);
    return check_summary();
}
