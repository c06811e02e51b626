/* SPDX-License-Identifier: MIT */
/*
 * chacha20.c - portable ChaCha20 (RFC 8439 §2.3-2.4): the keystream XOR that
 * the portable AEAD and every test use as the reference.
 *
 * Whole 64-byte blocks are XORed as sixteen 32-bit little-endian words; only
 * a trailing partial block goes byte by byte. The keystream block is wiped
 * before returning.
 */
#include "chacha20.h"

#include <string.h>

#include "random.h"

#define ROTL32(v, n) (((v) << (n)) | ((v) >> (32 - (n))))

#define QUARTERROUND(a, b, c, d)                                                                   \
    do {                                                                                           \
        a += b; d ^= a; d = ROTL32(d, 16);                                                         \
        c += d; b ^= c; b = ROTL32(b, 12);                                                         \
        a += b; d ^= a; d = ROTL32(d, 8);                                                          \
        c += d; b ^= c; b = ROTL32(b, 7);                                                          \
    } while (0)

static inline uint32_t load32_le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void store32_le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* "expand 32-byte k", key, counter, nonce (RFC 8439 §2.3). */
static void state_init(uint32_t s[16], const uint8_t key[CHACHA20_KEY_LEN],
                       const uint8_t nonce[CHACHA20_NONCE_LEN], uint32_t counter)
{
    s[0] = 0x61707865;
    s[1] = 0x3320646e;
    s[2] = 0x79622d32;
    s[3] = 0x6b206574;
    for (int i = 0; i < 8; i++)
        s[4 + i] = load32_le(key + 4 * i);
    s[12] = counter;
    for (int i = 0; i < 3; i++)
        s[13 + i] = load32_le(nonce + 4 * i);
}

/* One keystream block (as words) for the state's current counter. */
static void block(uint32_t out[16], const uint32_t s[16])
{
    uint32_t x0 = s[0], x1 = s[1], x2 = s[2], x3 = s[3];
    uint32_t x4 = s[4], x5 = s[5], x6 = s[6], x7 = s[7];
    uint32_t x8 = s[8], x9 = s[9], x10 = s[10], x11 = s[11];
    uint32_t x12 = s[12], x13 = s[13], x14 = s[14], x15 = s[15];

    for (int i = 0; i < 10; i++) {
        QUARTERROUND(x0, x4, x8, x12);
        QUARTERROUND(x1, x5, x9, x13);
        QUARTERROUND(x2, x6, x10, x14);
        QUARTERROUND(x3, x7, x11, x15);
        QUARTERROUND(x0, x5, x10, x15);
        QUARTERROUND(x1, x6, x11, x12);
        QUARTERROUND(x2, x7, x8, x13);
        QUARTERROUND(x3, x4, x9, x14);
    }
    out[0] = x0 + s[0];
    out[1] = x1 + s[1];
    out[2] = x2 + s[2];
    out[3] = x3 + s[3];
    out[4] = x4 + s[4];
    out[5] = x5 + s[5];
    out[6] = x6 + s[6];
    out[7] = x7 + s[7];
    out[8] = x8 + s[8];
    out[9] = x9 + s[9];
    out[10] = x10 + s[10];
    out[11] = x11 + s[11];
    out[12] = x12 + s[12];
    out[13] = x13 + s[13];
    out[14] = x14 + s[14];
    out[15] = x15 + s[15];
}

void chacha20_portable_xor(uint8_t *dst, const uint8_t *src, size_t len,
                           const uint8_t key[CHACHA20_KEY_LEN],
                           const uint8_t nonce[CHACHA20_NONCE_LEN], uint32_t counter)
{
    uint32_t s[16], ks[16];
    uint8_t tail[CHACHA20_BLOCK_LEN];

    if (len == 0)
        return;
    state_init(s, key, nonce, counter);
    for (; len >= CHACHA20_BLOCK_LEN; len -= CHACHA20_BLOCK_LEN) {
        block(ks, s);
        s[12]++;
        for (int i = 0; i < 16; i++)
            store32_le(dst + 4 * i, load32_le(src + 4 * i) ^ ks[i]);
        src += CHACHA20_BLOCK_LEN;
        dst += CHACHA20_BLOCK_LEN;
    }
    if (len) {
        block(ks, s);
        for (int i = 0; i < 16; i++)
            store32_le(tail + 4 * i, ks[i]);
        for (size_t i = 0; i < len; i++)
            dst[i] = src[i] ^ tail[i];
        wb_memzero(tail, sizeof(tail));
    }
    wb_memzero(ks, sizeof(ks));
    wb_memzero(s, sizeof(s));
}
