/* SPDX-License-Identifier: MIT */
/* consumer.c - built against an installed libwirebolt (pkg-config and CMake
 * package) by scripts/check-install.sh: proves the install is usable. */
#include <stdio.h>
#include <string.h>

#include <wireguard_ffi.h>
#include <wirebolt.h>

int main(void)
{
    uint8_t priv[WB_KEY_LEN], pub[WB_KEY_LEN];
    char b64[WB_KEY_B64_LEN + 1];
    struct x25519_key k = x25519_secret_key();

    if (wb_init() < 0)
        return 1;
    wb_key_generate(priv);
    if (wb_key_public(pub, priv) < 0)
        return 1;
    wb_key_to_base64(b64, pub);
    const char *s = x25519_key_to_base64(x25519_public_key(k));
    int ok = strlen(b64) == WB_KEY_B64_LEN && check_base64_encoded_x25519_key(s);
    x25519_key_to_str_free(s);
    printf("installed wirebolt %s works: %s\n", wb_version(), ok ? "yes" : "no");
    return ok ? 0 : 1;
}
