/* SPDX-License-Identifier: MIT */
/*
 * x25519.c - X25519 (RFC 7748) through libsodium. A result of all zeros
 * (the peer sent a point of small order) is an error the handshake must act
 * on, never a key.
 */
#include "x25519.h"

#include <errno.h>

#include <sodium.h>

#include "random.h"

int x25519(uint8_t out[X25519_KEY_LEN], const uint8_t scalar[X25519_KEY_LEN],
           const uint8_t point[X25519_KEY_LEN])
{
    /* libsodium returns -1 for a low-order point or an all-zero result. */
    if (crypto_scalarmult_curve25519(out, scalar, point) != 0) {
        wb_memzero(out, X25519_KEY_LEN);
        return -EINVAL;
    }
    return 0;
}

int x25519_public(uint8_t pub[X25519_KEY_LEN], const uint8_t priv[X25519_KEY_LEN])
{
    if (crypto_scalarmult_curve25519_base(pub, priv) != 0) {
        wb_memzero(pub, X25519_KEY_LEN);
        return -EINVAL;
    }
    return 0;
}

void x25519_clamp(uint8_t priv[X25519_KEY_LEN])
{
    priv[0] &= 248;
    priv[31] &= 127;
    priv[31] |= 64;
}

void x25519_generate(uint8_t priv[X25519_KEY_LEN])
{
    randombytes_buf(priv, X25519_KEY_LEN);
    x25519_clamp(priv);
}
