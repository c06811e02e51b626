/* SPDX-License-Identifier: MIT */
/*
 * keys.c - example: the wb_key_* functions.
 *
 * Generates a key pair and a preshared key, prints them the way `wg` does
 * (base64), and shows the hex form and the round trip back to raw bytes.
 * Run: ./example_keys
 */
#include <stdio.h>
#include <string.h>

#include "wirebolt.h"

int main(void)
{
    uint8_t priv[WB_KEY_LEN], pub[WB_KEY_LEN], psk[WB_KEY_LEN], back[WB_KEY_LEN];
    char b64[WB_KEY_B64_LEN + 1], hex[2 * WB_KEY_LEN + 1];

    if (wb_init() < 0) {
        fprintf(stderr, "wb_init failed\n");
        return 1;
    }
    printf("libwirebolt %s\n", wb_version());

    /* A private key is 32 random bytes, clamped for X25519. */
    wb_key_generate(priv);
    wb_key_to_base64(b64, priv);
    printf("private key:   %s\n", b64);

    /* The public key is derived from it; this is what the peer configures. */
    if (wb_key_public(pub, priv) < 0) {
        fprintf(stderr, "wb_key_public failed\n");
        return 1;
    }
    wb_key_to_base64(b64, pub);
    wb_key_to_hex(hex, pub);
    printf("public key:    %s\n", b64);
    printf("  as hex:      %s\n", hex);

    /* Decoding gives the same 32 bytes back; bad input is -EINVAL. */
    if (wb_key_from_base64(back, b64) < 0 || memcmp(back, pub, WB_KEY_LEN) != 0) {
        fprintf(stderr, "base64 round trip failed\n");
        return 1;
    }
    if (wb_key_from_hex(back, hex) < 0 || memcmp(back, pub, WB_KEY_LEN) != 0) {
        fprintf(stderr, "hex round trip failed\n");
        return 1;
    }
    printf("decoding \"not base64\": %d (negative errno)\n",
           wb_key_from_base64(back, "not base64"));

    /* Optional: a preshared key adds a symmetric secret to the handshake.
     * It only changes the derived session keys; it is not mac2. */
    wb_key_generate_preshared(psk);
    wb_key_to_base64(b64, psk);
    printf("preshared key: %s\n", b64);

    /* Real programs should wipe key material they no longer need. */
    memset(priv, 0, sizeof(priv));
    memset(psk, 0, sizeof(psk));
    return 0;
}
