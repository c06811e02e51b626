/* SPDX-License-Identifier: MIT */
/* xaead.h - XChaCha20-Poly1305 (24-byte nonce) for cookie replies, via libsodium. */
#ifndef WB_CRYPTO_XAEAD_H
#define WB_CRYPTO_XAEAD_H

#include <stddef.h>
#include <stdint.h>

#define XAEAD_NONCE_LEN 24

/* dst: len + 16 bytes. */
void xaead_seal(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad, size_t ad_len,
                const uint8_t nonce[XAEAD_NONCE_LEN], const uint8_t key[32]);
/* len includes the tag; returns 0 or -EBADMSG (dst untouched). */
int xaead_open(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad, size_t ad_len,
               const uint8_t nonce[XAEAD_NONCE_LEN], const uint8_t key[32]);

#endif
