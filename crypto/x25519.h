/* SPDX-License-Identifier: MIT */
/* x25519.h - X25519 through libsodium, with low-order points rejected. */
#ifndef WB_CRYPTO_X25519_H
#define WB_CRYPTO_X25519_H

#include <stdbool.h>
#include <stdint.h>

#define X25519_KEY_LEN 32

/* out = X25519(scalar, point). Returns 0, or -EINVAL when the result is all
 * zero (point of low order): the caller must treat the handshake as failed. */
int x25519(uint8_t out[X25519_KEY_LEN], const uint8_t scalar[X25519_KEY_LEN],
           const uint8_t point[X25519_KEY_LEN]);
/* pub = X25519(priv, 9). Returns 0 or -EINVAL. */
int x25519_public(uint8_t pub[X25519_KEY_LEN], const uint8_t priv[X25519_KEY_LEN]);
/* Is point one whose X25519 with any clamped scalar is all zero? Exactly
 * the points x25519() refuses, without the scalar multiplication (a
 * cheap check when a key is configured; the DH itself can wait). */
bool x25519_is_low_order(const uint8_t point[X25519_KEY_LEN]);
/* Random clamped private key. */
void x25519_generate(uint8_t priv[X25519_KEY_LEN]);
/* Clamp in place (RFC 7748). */
void x25519_clamp(uint8_t priv[X25519_KEY_LEN]);

#endif
