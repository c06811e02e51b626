/* SPDX-License-Identifier: MIT */
/*
 * blake2s.h - BLAKE2s (RFC 7693), keyed BLAKE2s, HMAC-BLAKE2s and the
 * whitepaper's HKDF. libsodium has no BLAKE2s, so it lives here.
 */
#ifndef WB_CRYPTO_BLAKE2S_H
#define WB_CRYPTO_BLAKE2S_H

#include <stddef.h>
#include <stdint.h>

#define BLAKE2S_HASH_LEN 32
#define BLAKE2S_BLOCK_LEN 64
#define BLAKE2S_KEY_LEN 32

struct blake2s_state {
    uint32_t h[8];
    uint32_t t[2];
    uint32_t f[2];
    uint8_t buf[BLAKE2S_BLOCK_LEN];
    size_t buflen;
    size_t outlen;
};

/* outlen 1..32; key may be NULL with keylen 0; keylen <= 32. */
void blake2s_init(struct blake2s_state *s, size_t outlen);
void blake2s_init_key(struct blake2s_state *s, size_t outlen, const uint8_t *key, size_t keylen);
void blake2s_update(struct blake2s_state *s, const uint8_t *in, size_t inlen);
/* Writes s->outlen bytes and wipes the state. */
void blake2s_final(struct blake2s_state *s, uint8_t *out);
void blake2s(uint8_t *out, size_t outlen, const uint8_t *in, size_t inlen,
             const uint8_t *key, size_t keylen);

/* HMAC (RFC 2104) over BLAKE2s-256, block 64. */
void hmac_blake2s(uint8_t out[BLAKE2S_HASH_LEN], const uint8_t *in, size_t inlen,
                  const uint8_t *key, size_t keylen);

/* The whitepaper's KDF_n(key = chaining_key, input = data):
 *   T0 = HMAC(ck, data); T1 = HMAC(T0, 0x1); T2 = HMAC(T0, T1 || 0x2);
 *   T3 = HMAC(T0, T2 || 0x3).
 * Writes T1 to first, T2 to second, T3 to third; trailing outputs may be NULL
 * (n = number of non-NULL leading outputs). Outputs may alias chaining_key.
 * Intermediates are wiped. */
void blake2s_hkdf(uint8_t first[BLAKE2S_HASH_LEN], uint8_t second[BLAKE2S_HASH_LEN],
                  uint8_t third[BLAKE2S_HASH_LEN], const uint8_t *data, size_t data_len,
                  const uint8_t chaining_key[BLAKE2S_HASH_LEN]);

#endif
