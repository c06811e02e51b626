/* SPDX-License-Identifier: MIT */
/*
 * aead.c - example: the wb_aead_* functions.
 *
 * Lists the ChaCha20-Poly1305 implementations this CPU can run, seals a
 * message with a WireGuard nonce (a 64-bit counter), opens it again, and
 * shows that a single flipped bit makes wb_aead_open() fail.
 * Run: ./example_aead   (WIREBOLT_CRYPTO_IMPL=portable forces one)
 */
#include <stdio.h>
#include <string.h>

#include "wirebolt.h"

int main(void)
{
    static const char msg[] = "hello through the tunnel";
    const uint8_t ad[4] = { 1, 2, 3, 4 };      /* authenticated, not encrypted */
    uint8_t key[WB_KEY_LEN], sealed[sizeof(msg) + WB_AEAD_TAG_LEN], opened[sizeof(msg)];
    uint64_t counter = 42;                       /* never reuse one with a key */
    const char *name;
    bool supported;
    int rc;

    if (wb_init() < 0)
        return 1;
    for (size_t i = 0; (name = wb_aead_impl_at(i, &supported)) != NULL; i++)
        printf("implementation %-10s %s\n", name, supported ? "supported" : "not on this CPU");
    printf("in use: %s\n", wb_aead_impl_name());

    wb_key_generate_preshared(key);             /* any 32 random bytes */

    /* Seal: ciphertext followed by the 16-byte tag. */
    wb_aead_seal(sealed, (const uint8_t *)msg, sizeof(msg), ad, sizeof(ad), counter, key);
    printf("sealed %u bytes into %u\n", (unsigned)sizeof(msg), (unsigned)sizeof(sealed));

    /* Open: verifies the tag first; only then decrypts. */
    rc = wb_aead_open(opened, sealed, sizeof(sealed), ad, sizeof(ad), counter, key);
    printf("open: %d, plaintext \"%s\"\n", rc, rc == 0 ? (const char *)opened : "-");

    /* A wrong counter, wrong ad or changed byte all fail with -EBADMSG. */
    sealed[3] ^= 0x01;
    rc = wb_aead_open(opened, sealed, sizeof(sealed), ad, sizeof(ad), counter, key);
    printf("open after flipping a bit: %d (negative errno)\n", rc);
    rc = wb_aead_open(opened, sealed, sizeof(sealed), ad, sizeof(ad), counter + 1, key);
    printf("open with another counter: %d\n", rc);

    memset(key, 0, sizeof(key));
    return 0;
}
