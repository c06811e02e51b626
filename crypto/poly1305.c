/* SPDX-License-Identifier: MIT */
/*
 * poly1305.c - portable Poly1305 (RFC 8439 §2.5), incremental.
 *
 * Two arithmetic back ends, chosen at compile time:
 *   - 64-bit limbs (base 2^64, 130-bit accumulator as h0 + h1 2^64 + h2 2^128)
 *     with unsigned __int128 products, where the compiler has them;
 *   - 26-bit limbs with 64-bit products everywhere else.
 * Defining WB_POLY1305_FORCE_32 selects the 26-bit code even where __int128
 * exists, so a test can #include this file and check it against libsodium.
 *
 * State lives in struct poly1305_ctx's uint64_t words (layouts below); the
 * pending partial block is stored in two of those words and reached through
 * a byte pointer. Final wipes the context. Everything runs in constant time:
 * the only data-dependent choice (h or h - p) is made with masks.
 */
#include "poly1305.h"

#include <string.h>

#include "random.h"

#if defined(__SIZEOF_INT128__) && !defined(WB_POLY1305_FORCE_32)
#define POLY1305_LIMB64 1
#else
#define POLY1305_LIMB64 0
#endif

#define BLOCK 16

static inline uint32_t load32_le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t load64_le(const uint8_t *p)
{
    return (uint64_t)load32_le(p) | (uint64_t)load32_le(p + 4) << 32;
}

static inline void store32_le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

#if POLY1305_LIMB64
/* ctx->opaque: [0..2] h0 h1 h2, [3..4] r0 r1, [5..6] s (pad), [7] buffered
 * byte count, [8..9] buffered bytes. */
enum { ST_H = 0, ST_R = 3, ST_PAD = 5, ST_LEFT = 7, ST_BUF = 8 };

typedef unsigned __int128 u128;

static void key_setup(uint64_t *st, const uint8_t key[POLY1305_KEY_LEN])
{
    /* r &= 0x0ffffffc0ffffffc0ffffffc0fffffff */
    st[ST_R] = load64_le(key) & 0x0ffffffc0fffffffull;
    st[ST_R + 1] = load64_le(key + 8) & 0x0ffffffc0ffffffcull;
    st[ST_PAD] = load64_le(key + 16);
    st[ST_PAD + 1] = load64_le(key + 24);
}

/* h = (h + m + hibit 2^128) * r, partially reduced, for each 16-byte block.
 * Since r1 is a multiple of 4, h1 r1 2^128 = h1 (r1/4) 2^130 = 5 (r1/4) h1
 * mod p: hence s1 = r1 + r1/4. h2 stays below 8 between blocks. */
static void blocks(uint64_t *st, const uint8_t *m, size_t len, uint64_t hibit)
{
    uint64_t h0 = st[ST_H], h1 = st[ST_H + 1], h2 = st[ST_H + 2];
    const uint64_t r0 = st[ST_R], r1 = st[ST_R + 1];
    const uint64_t s1 = r1 + (r1 >> 2);

    for (; len >= BLOCK; len -= BLOCK, m += BLOCK) {
        u128 d0, d1;
        uint64_t d2, c;

        d0 = (u128)h0 + load64_le(m);
        d1 = (u128)h1 + load64_le(m + 8) + (uint64_t)(d0 >> 64);
        h0 = (uint64_t)d0;
        h1 = (uint64_t)d1;
        h2 += (uint64_t)(d1 >> 64) + hibit;

        d0 = (u128)h0 * r0 + (u128)h1 * s1;
        d1 = (u128)h0 * r1 + (u128)h1 * r0 + (u128)h2 * s1;
        d2 = h2 * r0;
        d1 += (uint64_t)(d0 >> 64);
        d2 += (uint64_t)(d1 >> 64);
        h0 = (uint64_t)d0;
        h1 = (uint64_t)d1;

        /* Fold bits >= 130 back in: 2^130 = 5 mod p. */
        c = (d2 >> 2) + (d2 & ~(uint64_t)3);
        h2 = d2 & 3;
        h0 += c;
        c = h0 < c;
        h1 += c;
        c = h1 < c;
        h2 += c;
    }
    st[ST_H] = h0;
    st[ST_H + 1] = h1;
    st[ST_H + 2] = h2;
}

static void finish(uint64_t *st, uint8_t tag[POLY1305_TAG_LEN])
{
    uint64_t h0 = st[ST_H], h1 = st[ST_H + 1], h2 = st[ST_H + 2];
    uint64_t g0, g1, g2, c, mask;
    u128 t;

    /* Fold once more so h < 2^130 + 2^64, then h < 2p. */
    c = (h2 >> 2) * 5;
    h2 &= 3;
    h0 += c;
    c = h0 < c;
    h1 += c;
    c = h1 < c;
    h2 += c;

    /* g = h + 5; if g >= 2^130 then h >= p and h - p = g - 2^130. */
    g0 = h0 + 5;
    c = g0 < 5;
    g1 = h1 + c;
    c = g1 < c;
    g2 = h2 + c;
    mask = (uint64_t)0 - (g2 >> 2);
    h0 = (h0 & ~mask) | (g0 & mask);
    h1 = (h1 & ~mask) | (g1 & mask);

    /* tag = (h + s) mod 2^128 */
    t = (u128)h0 + st[ST_PAD];
    h0 = (uint64_t)t;
    h1 = h1 + st[ST_PAD + 1] + (uint64_t)(t >> 64);
    store32_le(tag, (uint32_t)h0);
    store32_le(tag + 4, (uint32_t)(h0 >> 32));
    store32_le(tag + 8, (uint32_t)h1);
    store32_le(tag + 12, (uint32_t)(h1 >> 32));
}

#else /* 26-bit limbs */
/* ctx->opaque: [0..4] h (26-bit limbs), [5..9] r, [10..11] s (pad) as two
 * little-endian 64-bit words, [12] buffered byte count, [13..14] buffered
 * bytes. */
enum { ST_H = 0, ST_R = 5, ST_PAD = 10, ST_LEFT = 12, ST_BUF = 13 };

#define MASK26 0x3ffffffu

/* Split a 16-byte little-endian number into five 26-bit limbs. */
static void split26(uint32_t l[5], const uint8_t b[16])
{
    uint32_t t0 = load32_le(b), t1 = load32_le(b + 4);
    uint32_t t2 = load32_le(b + 8), t3 = load32_le(b + 12);

    l[0] = t0 & MASK26;
    l[1] = ((t0 >> 26) | (t1 << 6)) & MASK26;
    l[2] = ((t1 >> 20) | (t2 << 12)) & MASK26;
    l[3] = ((t2 >> 14) | (t3 << 18)) & MASK26;
    l[4] = t3 >> 8;
}

static void key_setup(uint64_t *st, const uint8_t key[POLY1305_KEY_LEN])
{
    uint8_t r[16];
    uint32_t l[5];

    memcpy(r, key, 16);
    r[3] &= 15;
    r[7] &= 15;
    r[11] &= 15;
    r[15] &= 15;
    r[4] &= 252;
    r[8] &= 252;
    r[12] &= 252;
    split26(l, r);
    for (int i = 0; i < 5; i++)
        st[ST_R + i] = l[i];
    st[ST_PAD] = load64_le(key + 16);
    st[ST_PAD + 1] = load64_le(key + 24);
    wb_memzero(r, sizeof(r));
    wb_memzero(l, sizeof(l));
}

/* hibit is 1 << 24 (2^128 in limb 4) for full blocks, 0 for the padded last one. */
static void blocks(uint64_t *st, const uint8_t *m, size_t len, uint32_t hibit)
{
    uint32_t h0 = (uint32_t)st[ST_H], h1 = (uint32_t)st[ST_H + 1], h2 = (uint32_t)st[ST_H + 2];
    uint32_t h3 = (uint32_t)st[ST_H + 3], h4 = (uint32_t)st[ST_H + 4];
    const uint32_t r0 = (uint32_t)st[ST_R], r1 = (uint32_t)st[ST_R + 1];
    const uint32_t r2 = (uint32_t)st[ST_R + 2], r3 = (uint32_t)st[ST_R + 3];
    const uint32_t r4 = (uint32_t)st[ST_R + 4];
    const uint32_t s1 = r1 * 5, s2 = r2 * 5, s3 = r3 * 5, s4 = r4 * 5;

    for (; len >= BLOCK; len -= BLOCK, m += BLOCK) {
        uint32_t l[5];
        uint64_t d0, d1, d2, d3, d4, c;

        split26(l, m);
        h0 += l[0];
        h1 += l[1];
        h2 += l[2];
        h3 += l[3];
        h4 += l[4] | hibit;

        d0 = (uint64_t)h0 * r0 + (uint64_t)h1 * s4 + (uint64_t)h2 * s3 + (uint64_t)h3 * s2 +
             (uint64_t)h4 * s1;
        d1 = (uint64_t)h0 * r1 + (uint64_t)h1 * r0 + (uint64_t)h2 * s4 + (uint64_t)h3 * s3 +
             (uint64_t)h4 * s2;
        d2 = (uint64_t)h0 * r2 + (uint64_t)h1 * r1 + (uint64_t)h2 * r0 + (uint64_t)h3 * s4 +
             (uint64_t)h4 * s3;
        d3 = (uint64_t)h0 * r3 + (uint64_t)h1 * r2 + (uint64_t)h2 * r1 + (uint64_t)h3 * r0 +
             (uint64_t)h4 * s4;
        d4 = (uint64_t)h0 * r4 + (uint64_t)h1 * r3 + (uint64_t)h2 * r2 + (uint64_t)h3 * r1 +
             (uint64_t)h4 * r0;

        c = d0 >> 26; h0 = (uint32_t)d0 & MASK26;
        d1 += c; c = d1 >> 26; h1 = (uint32_t)d1 & MASK26;
        d2 += c; c = d2 >> 26; h2 = (uint32_t)d2 & MASK26;
        d3 += c; c = d3 >> 26; h3 = (uint32_t)d3 & MASK26;
        d4 += c; c = d4 >> 26; h4 = (uint32_t)d4 & MASK26;
        h0 += (uint32_t)c * 5;
        h1 += h0 >> 26;
        h0 &= MASK26;
    }
    st[ST_H] = h0;
    st[ST_H + 1] = h1;
    st[ST_H + 2] = h2;
    st[ST_H + 3] = h3;
    st[ST_H + 4] = h4;
}

static void finish(uint64_t *st, uint8_t tag[POLY1305_TAG_LEN])
{
    uint32_t h0 = (uint32_t)st[ST_H], h1 = (uint32_t)st[ST_H + 1], h2 = (uint32_t)st[ST_H + 2];
    uint32_t h3 = (uint32_t)st[ST_H + 3], h4 = (uint32_t)st[ST_H + 4];
    uint32_t g0, g1, g2, g3, g4, c, mask;
    uint64_t f;

    /* Full carry, then h < 2p. */
    c = h1 >> 26; h1 &= MASK26;
    h2 += c; c = h2 >> 26; h2 &= MASK26;
    h3 += c; c = h3 >> 26; h3 &= MASK26;
    h4 += c; c = h4 >> 26; h4 &= MASK26;
    h0 += c * 5; c = h0 >> 26; h0 &= MASK26;
    h1 += c;

    /* g = h + 5 - 2^130; keep g when it did not go negative (h >= p). */
    g0 = h0 + 5; c = g0 >> 26; g0 &= MASK26;
    g1 = h1 + c; c = g1 >> 26; g1 &= MASK26;
    g2 = h2 + c; c = g2 >> 26; g2 &= MASK26;
    g3 = h3 + c; c = g3 >> 26; g3 &= MASK26;
    g4 = h4 + c - (1u << 26);
    mask = (g4 >> 31) - 1;  /* all ones when g4 >= 0 */
    h0 = (h0 & ~mask) | (g0 & mask);
    h1 = (h1 & ~mask) | (g1 & mask);
    h2 = (h2 & ~mask) | (g2 & mask);
    h3 = (h3 & ~mask) | (g3 & mask);
    h4 = (h4 & ~mask) | (g4 & mask);

    /* Back to 32-bit words with carries (a limb may be exactly 2^26), then
     * add s modulo 2^128. */
    uint32_t w[4];
    f = (uint64_t)h0 + ((uint64_t)h1 << 26);
    w[0] = (uint32_t)f;
    f = (f >> 32) + ((uint64_t)h2 << 20);
    w[1] = (uint32_t)f;
    f = (f >> 32) + ((uint64_t)h3 << 14);
    w[2] = (uint32_t)f;
    f = (f >> 32) + ((uint64_t)h4 << 8);
    w[3] = (uint32_t)f;

    uint32_t s[4] = { (uint32_t)st[ST_PAD], (uint32_t)(st[ST_PAD] >> 32),
                      (uint32_t)st[ST_PAD + 1], (uint32_t)(st[ST_PAD + 1] >> 32) };
    f = 0;
    for (int i = 0; i < 4; i++) {
        f = (f >> 32) + w[i] + s[i];
        store32_le(tag + 4 * i, (uint32_t)f);
    }
    wb_memzero(s, sizeof(s));
    wb_memzero(w, sizeof(w));
}
#endif

_Static_assert(ST_BUF + 2 <= (int)(sizeof(((struct poly1305_ctx *)0)->opaque) / sizeof(uint64_t)),
               "poly1305 state does not fit struct poly1305_ctx");

void poly1305_portable_init(struct poly1305_ctx *ctx, const uint8_t key[POLY1305_KEY_LEN])
{
    memset(ctx, 0, sizeof(*ctx));
    key_setup(ctx->opaque, key);
}

void poly1305_portable_update(struct poly1305_ctx *ctx, const uint8_t *in, size_t len)
{
    uint64_t *st = ctx->opaque;
    uint8_t *buf = (uint8_t *)&st[ST_BUF];
    size_t left = (size_t)st[ST_LEFT];

    if (left) {
        size_t want = BLOCK - left;

        if (want > len)
            want = len;
        memcpy(buf + left, in, want);
        left += want;
        in += want;
        len -= want;
        if (left < BLOCK) {
            st[ST_LEFT] = left;
            return;
        }
        blocks(st, buf, BLOCK, 1u << (POLY1305_LIMB64 ? 0 : 24));
        left = 0;
    }
    if (len >= BLOCK) {
        size_t full = len & ~(size_t)(BLOCK - 1);

        blocks(st, in, full, 1u << (POLY1305_LIMB64 ? 0 : 24));
        in += full;
        len -= full;
    }
    if (len) {
        memcpy(buf, in, len);
        left = len;
    }
    st[ST_LEFT] = left;
}

void poly1305_portable_final(struct poly1305_ctx *ctx, uint8_t tag[POLY1305_TAG_LEN])
{
    uint64_t *st = ctx->opaque;
    uint8_t *buf = (uint8_t *)&st[ST_BUF];
    size_t left = (size_t)st[ST_LEFT];

    if (left) {
        /* Last partial block: append the 0x01 byte, zero-pad, no 2^128 bit. */
        buf[left] = 1;
        memset(buf + left + 1, 0, BLOCK - left - 1);
        blocks(st, buf, BLOCK, 0);
    }
    finish(st, tag);
    wb_memzero(ctx, sizeof(*ctx));
}
