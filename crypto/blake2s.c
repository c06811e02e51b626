/* SPDX-License-Identifier: MIT */
/*
 * blake2s.c - BLAKE2s (RFC 7693) with optional key, HMAC-BLAKE2s (RFC 2104,
 * block 64) and the WireGuard whitepaper's HKDF built on it. libsodium has
 * BLAKE2b only, so the hash is written here, from the RFC.
 *
 * Every state, padded key and intermediate is wiped before returning.
 */
#include "blake2s.h"

#include <assert.h>
#include <string.h>

#include "random.h"

static const uint32_t iv[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

/* Message word permutation per round (RFC 7693 §2.7). */
static const uint8_t sigma[10][16] = {
    { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
    { 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3 },
    { 11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4 },
    { 7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8 },
    { 9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13 },
    { 2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9 },
    { 12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11 },
    { 13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10 },
    { 6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5 },
    { 10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0 },
};

static inline uint32_t ror32(uint32_t v, int n)
{
    return (v >> n) | (v << (32 - n));
}

static inline uint32_t load32_le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The mixing function G (RFC 7693 §3.1) with rotations 16, 12, 8, 7. */
#define G(a, b, c, d, x, y)                                                                        \
    do {                                                                                           \
        a = a + b + (x); d = ror32(d ^ a, 16);                                                     \
        c = c + d;       b = ror32(b ^ c, 12);                                                     \
        a = a + b + (y); d = ror32(d ^ a, 8);                                                      \
        c = c + d;       b = ror32(b ^ c, 7);                                                      \
    } while (0)

static void compress(struct blake2s_state *s, const uint8_t block[BLAKE2S_BLOCK_LEN])
{
    uint32_t m[16], v[16];

    for (int i = 0; i < 16; i++)
        m[i] = load32_le(block + 4 * i);
    for (int i = 0; i < 8; i++) {
        v[i] = s->h[i];
        v[i + 8] = iv[i];
    }
    v[12] ^= s->t[0];
    v[13] ^= s->t[1];
    v[14] ^= s->f[0];
    v[15] ^= s->f[1];
    for (int r = 0; r < 10; r++) {
        const uint8_t *sg = sigma[r];

        G(v[0], v[4], v[8], v[12], m[sg[0]], m[sg[1]]);
        G(v[1], v[5], v[9], v[13], m[sg[2]], m[sg[3]]);
        G(v[2], v[6], v[10], v[14], m[sg[4]], m[sg[5]]);
        G(v[3], v[7], v[11], v[15], m[sg[6]], m[sg[7]]);
        G(v[0], v[5], v[10], v[15], m[sg[8]], m[sg[9]]);
        G(v[1], v[6], v[11], v[12], m[sg[10]], m[sg[11]]);
        G(v[2], v[7], v[8], v[13], m[sg[12]], m[sg[13]]);
        G(v[3], v[4], v[9], v[14], m[sg[14]], m[sg[15]]);
    }
    for (int i = 0; i < 8; i++)
        s->h[i] ^= v[i] ^ v[i + 8];
    wb_memzero(m, sizeof(m));
    wb_memzero(v, sizeof(v));
}

static void add_to_counter(struct blake2s_state *s, uint32_t inc)
{
    s->t[0] += inc;
    s->t[1] += (s->t[0] < inc);
}

void blake2s_init_key(struct blake2s_state *s, size_t outlen, const uint8_t *key, size_t keylen)
{
    assert(outlen >= 1 && outlen <= BLAKE2S_HASH_LEN);
    assert(keylen <= BLAKE2S_KEY_LEN && (key || keylen == 0));

    memset(s, 0, sizeof(*s));
    memcpy(s->h, iv, sizeof(s->h));
    /* Parameter block word 0: digest length, key length, fanout 1, depth 1. */
    s->h[0] ^= 0x01010000u ^ ((uint32_t)keylen << 8) ^ (uint32_t)outlen;
    s->outlen = outlen;
    if (keylen) {
        uint8_t block[BLAKE2S_BLOCK_LEN] = { 0 };

        memcpy(block, key, keylen);
        blake2s_update(s, block, sizeof(block));
        wb_memzero(block, sizeof(block));
    }
}

void blake2s_init(struct blake2s_state *s, size_t outlen)
{
    blake2s_init_key(s, outlen, NULL, 0);
}

/* The last block must be compressed with the final flag, so a full buffer is
 * only compressed once more input arrives. */
void blake2s_update(struct blake2s_state *s, const uint8_t *in, size_t inlen)
{
    while (inlen > 0) {
        if (s->buflen == BLAKE2S_BLOCK_LEN) {
            add_to_counter(s, BLAKE2S_BLOCK_LEN);
            compress(s, s->buf);
            s->buflen = 0;
        }
        if (s->buflen == 0 && inlen > BLAKE2S_BLOCK_LEN) {
            add_to_counter(s, BLAKE2S_BLOCK_LEN);
            compress(s, in);
            in += BLAKE2S_BLOCK_LEN;
            inlen -= BLAKE2S_BLOCK_LEN;
            continue;
        }
        size_t take = BLAKE2S_BLOCK_LEN - s->buflen;

        if (take > inlen)
            take = inlen;
        memcpy(s->buf + s->buflen, in, take);
        s->buflen += take;
        in += take;
        inlen -= take;
    }
}

void blake2s_final(struct blake2s_state *s, uint8_t *out)
{
    uint8_t full[BLAKE2S_HASH_LEN];

    add_to_counter(s, (uint32_t)s->buflen);
    s->f[0] = 0xffffffffu;
    memset(s->buf + s->buflen, 0, BLAKE2S_BLOCK_LEN - s->buflen);
    compress(s, s->buf);
    for (int i = 0; i < 8; i++) {
        full[4 * i] = (uint8_t)s->h[i];
        full[4 * i + 1] = (uint8_t)(s->h[i] >> 8);
        full[4 * i + 2] = (uint8_t)(s->h[i] >> 16);
        full[4 * i + 3] = (uint8_t)(s->h[i] >> 24);
    }
    memcpy(out, full, s->outlen);
    wb_memzero(full, sizeof(full));
    wb_memzero(s, sizeof(*s));
}

void blake2s(uint8_t *out, size_t outlen, const uint8_t *in, size_t inlen, const uint8_t *key,
             size_t keylen)
{
    struct blake2s_state s;

    blake2s_init_key(&s, outlen, key, keylen);
    blake2s_update(&s, in, inlen);
    blake2s_final(&s, out);
}

void hmac_blake2s(uint8_t out[BLAKE2S_HASH_LEN], const uint8_t *in, size_t inlen,
                  const uint8_t *key, size_t keylen)
{
    struct blake2s_state s;
    uint8_t pad[BLAKE2S_BLOCK_LEN] = { 0 };
    uint8_t inner[BLAKE2S_HASH_LEN];

    if (keylen > BLAKE2S_BLOCK_LEN)
        blake2s(pad, BLAKE2S_HASH_LEN, key, keylen, NULL, 0);
    else if (keylen)
        memcpy(pad, key, keylen);

    for (int i = 0; i < BLAKE2S_BLOCK_LEN; i++)
        pad[i] ^= 0x36;
    blake2s_init(&s, BLAKE2S_HASH_LEN);
    blake2s_update(&s, pad, sizeof(pad));
    blake2s_update(&s, in, inlen);
    blake2s_final(&s, inner);

    for (int i = 0; i < BLAKE2S_BLOCK_LEN; i++)
        pad[i] ^= 0x36 ^ 0x5c;
    blake2s_init(&s, BLAKE2S_HASH_LEN);
    blake2s_update(&s, pad, sizeof(pad));
    blake2s_update(&s, inner, sizeof(inner));
    blake2s_final(&s, out);

    wb_memzero(pad, sizeof(pad));
    wb_memzero(inner, sizeof(inner));
}

void blake2s_hkdf(uint8_t first[BLAKE2S_HASH_LEN], uint8_t second[BLAKE2S_HASH_LEN],
                  uint8_t third[BLAKE2S_HASH_LEN], const uint8_t *data, size_t data_len,
                  const uint8_t chaining_key[BLAKE2S_HASH_LEN])
{
    uint8_t prk[BLAKE2S_HASH_LEN];
    uint8_t t[BLAKE2S_HASH_LEN + 1];

    /* prk is computed before any output is written: outputs may alias the key. */
    hmac_blake2s(prk, data, data_len, chaining_key, BLAKE2S_HASH_LEN);

    t[0] = 1;
    hmac_blake2s(t, t, 1, prk, sizeof(prk));
    if (first)
        memcpy(first, t, BLAKE2S_HASH_LEN);
    if (!first || !second)
        goto out;

    t[BLAKE2S_HASH_LEN] = 2;
    hmac_blake2s(t, t, sizeof(t), prk, sizeof(prk));
    memcpy(second, t, BLAKE2S_HASH_LEN);
    if (!third)
        goto out;

    t[BLAKE2S_HASH_LEN] = 3;
    hmac_blake2s(t, t, sizeof(t), prk, sizeof(prk));
    memcpy(third, t, BLAKE2S_HASH_LEN);
out:
    wb_memzero(prk, sizeof(prk));
    wb_memzero(t, sizeof(t));
}
