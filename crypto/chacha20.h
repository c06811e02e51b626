/* SPDX-License-Identifier: MIT */
/* chacha20.h - portable ChaCha20 (RFC 8439), the reference implementation. */
#ifndef WB_CRYPTO_CHACHA20_H
#define WB_CRYPTO_CHACHA20_H

#include <stddef.h>
#include <stdint.h>

#define CHACHA20_KEY_LEN 32
#define CHACHA20_NONCE_LEN 12
#define CHACHA20_BLOCK_LEN 64

/* dst = src XOR keystream(key, nonce, starting at block `counter`).
 * dst may equal src. */
void chacha20_portable_xor(uint8_t *dst, const uint8_t *src, size_t len,
                           const uint8_t key[CHACHA20_KEY_LEN],
                           const uint8_t nonce[CHACHA20_NONCE_LEN], uint32_t counter);

#endif
