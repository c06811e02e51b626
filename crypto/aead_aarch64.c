/* SPDX-License-Identifier: MIT */
/*
 * aead_aarch64.c - the "neon" ChaCha20-Poly1305 (RFC 8439 §2.8) for
 * little-endian aarch64 ELF: the C glue around asm/chacha20_neon.S and
 * asm/poly1305_neon.S.
 *
 * ChaCha20 runs in the NEON kernel: block 0 gives the one-time Poly1305
 * key, the data is XORed from block 1 on. Poly1305 keeps its accumulator in
 * base 2^64 (64x64->128 products, which the compiler turns into MUL/UMULH)
 * for AD, short runs, the padded last blocks and the length block; a run of
 * at least POLY_NEON_MIN_BLOCKS whole blocks goes through the four-lane
 * NEON kernel, which works in base 2^26 with r^2..r^4 computed once per
 * message on first use. The MAC input is AD || pad16 || ct || pad16 ||
 * LE64(ad_len) || LE64(ct_len): whole blocks only, each with the 2^128 bit.
 *
 * Open computes the tag over the ciphertext and compares it in constant
 * time before it decrypts a byte; on mismatch dst is untouched. The ChaCha
 * state, the one-time key, the r powers and the accumulator are wiped on
 * every path. Thread safety: no shared state; any thread, any time.
 */
#include "aead.h"

/* Defined by cmake/asm-aarch64.cmake when it assembles the kernels. */
#if defined(WB_ASM_AARCH64)

#if !defined(__aarch64__) || !defined(__AARCH64EL__)
#error "WB_ASM_AARCH64: the NEON kernels are for little-endian aarch64"
#endif

#include <errno.h>
#include <string.h>

#include "ct.h"
#include "random.h"

#define BLOCK 16
#define CHACHA_BLOCK 64
#define MASK26 0x3ffffffu
/* Shorter runs stay scalar: the NEON path first computes r^2..r^4 and
 * converts the accumulator twice. An estimate, not a measurement (no
 * aarch64 hardware was at hand; perf/bench_aead is where to tune it). */
#define POLY_NEON_MIN_BLOCKS 8

typedef unsigned __int128 u128;

/* asm/chacha20_neon.S: dst = src XOR keystream(state), counter from state[12]. */
void chacha20_neon_xor(uint8_t *dst, const uint8_t *src, size_t len, const uint32_t state[16]);
/* asm/poly1305_neon.S: groups * 4 blocks into h (26-bit limbs); tab is
 * struct mac's tab, 18 rows of 4 lanes. */
void poly1305_neon_blocks4(uint32_t h[5], const uint8_t *m, size_t groups, const uint32_t *tab);

struct mac {
    uint64_t h[3];          /* accumulator, base 2^64; h[2] <= 4 between calls */
    uint64_t r[2];          /* clamped r */
    uint64_t s[2];          /* added at the end */
    uint32_t tab[18][4];    /* for poly1305_neon_blocks4: rows 0-8 r^4 in every lane,
                             * rows 9-17 r^4 r^3 r^2 r by lane; limbs r0..r4, 5r1..5r4 */
    bool tab_ready;
};

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t v;

    memcpy(&v, p, sizeof(v));   /* little-endian target */
    return v;
}

static inline void store64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, sizeof(v));
}

/* "expand 32-byte k", key, block counter, nonce (RFC 8439 §2.3). */
static void chacha_state(uint32_t st[16], const uint8_t key[AEAD_KEY_LEN],
                         const uint8_t nonce[AEAD_NONCE_LEN], uint32_t counter)
{
    static const uint32_t sigma[4] = { 0x61707865, 0x3320646e, 0x79622d32, 0x6b206574 };

    memcpy(st, sigma, sizeof(sigma));
    memcpy(st + 4, key, AEAD_KEY_LEN);
    st[12] = counter;
    memcpy(st + 13, nonce, AEAD_NONCE_LEN);
}

/* h = (h + block + 2^128) r for each of n blocks, partially reduced. With
 * r1 a multiple of 4, h1 r1 2^128 = 5 (r1 / 4) h1 (mod p): hence s1. */
static void blocks_scalar(struct mac *m, const uint8_t *in, size_t n)
{
    uint64_t h0 = m->h[0], h1 = m->h[1], h2 = m->h[2];
    const uint64_t r0 = m->r[0], r1 = m->r[1], s1 = r1 + (r1 >> 2);

    for (; n; n--, in += BLOCK) {
        u128 t0 = (u128)h0 + load64(in);
        u128 t1 = (u128)h1 + load64(in + 8) + (uint64_t)(t0 >> 64);
        uint64_t t2, c;

        h0 = (uint64_t)t0;
        h1 = (uint64_t)t1;
        h2 += (uint64_t)(t1 >> 64) + 1;
        t0 = (u128)h0 * r0 + (u128)h1 * s1;
        t1 = (u128)h0 * r1 + (u128)h1 * r0 + (u128)h2 * s1 + (uint64_t)(t0 >> 64);
        t2 = h2 * r0 + (uint64_t)(t1 >> 64);
        h0 = (uint64_t)t0;
        h1 = (uint64_t)t1;
        c = (t2 >> 2) + (t2 & ~(uint64_t)3);    /* 5 (t2 >> 2): bits >= 130 */
        h2 = t2 & 3;
        h0 += c;
        c = h0 < c;
        h1 += c;
        c = h1 < c;
        h2 += c;
    }
    m->h[0] = h0;
    m->h[1] = h1;
    m->h[2] = h2;
}

/* h (base 2^64, h[2] <= 4) to five 26-bit limbs, the top one below 2^27. */
static void h_to26(uint32_t l[5], const uint64_t h[3])
{
    l[0] = (uint32_t)h[0] & MASK26;
    l[1] = (uint32_t)(h[0] >> 26) & MASK26;
    l[2] = (uint32_t)((h[0] >> 52) | (h[1] << 12)) & MASK26;
    l[3] = (uint32_t)(h[1] >> 14) & MASK26;
    l[4] = (uint32_t)((h[1] >> 40) | (h[2] << 24));
}

/* Limbs below 2^29 back to base 2^64, folding bits >= 130 so h[2] <= 4. */
static void h_from26(uint64_t h[3], const uint32_t l[5])
{
    u128 t = (u128)l[0] + ((u128)l[1] << 26) + ((u128)l[2] << 52);
    uint64_t c;

    h[0] = (uint64_t)t;
    t = (t >> 64) + ((u128)l[3] << 14) + ((u128)l[4] << 40);
    h[1] = (uint64_t)t;
    h[2] = (uint64_t)(t >> 64);
    c = (h[2] >> 2) * 5;
    h[2] &= 3;
    h[0] += c;
    c = h[0] < c;
    h[1] += c;
    c = h[1] < c;
    h[2] += c;
}

/* out = a b mod p in 26-bit limbs (inputs up to 2^26 + 2^8 each), carried
 * so that every output limb is at most 2^26 + 2^8. */
static void mul26(uint32_t out[5], const uint32_t a[5], const uint32_t b[5])
{
    uint64_t d[5], c;

    for (int k = 0; k < 5; k++) {
        d[k] = 0;
        for (int i = 0; i < 5; i++) {
            int j = k - i;    /* a_i b_j 2^(26 (i + j)); 2^130 = 5 (mod p) */

            d[k] += (uint64_t)a[i] * (j >= 0 ? b[j] : 5 * b[j + 5]);
        }
    }
    for (int k = 0; k < 4; k++) {
        d[k + 1] += d[k] >> 26;
        d[k] &= MASK26;
    }
    c = d[4] >> 26;
    d[4] &= MASK26;
    d[0] += 5 * c;
    d[1] += d[0] >> 26;
    d[0] &= MASK26;
    for (int k = 0; k < 5; k++)
        out[k] = (uint32_t)d[k];
    wb_memzero(d, sizeof(d));
}

/* Rows row..row+8 of tab, lane `lane`: limbs of p, then 5 p1..5 p4. */
static void tab_fill(uint32_t tab[18][4], int row, int lane, const uint32_t p[5])
{
    for (int i = 0; i < 5; i++)
        tab[row + i][lane] = p[i];
    for (int i = 1; i < 5; i++)
        tab[row + 4 + i][lane] = 5 * p[i];
}

static void mac_powers(struct mac *m)
{
    uint32_t pw[5][5];      /* pw[k] = r^k, k = 1..4 */
    uint64_t r[3] = { m->r[0], m->r[1], 0 };

    h_to26(pw[1], r);
    mul26(pw[2], pw[1], pw[1]);
    mul26(pw[3], pw[2], pw[1]);
    mul26(pw[4], pw[3], pw[1]);
    for (int lane = 0; lane < 4; lane++) {
        tab_fill(m->tab, 0, lane, pw[4]);
        tab_fill(m->tab, 9, lane, pw[4 - lane]);
    }
    wb_memzero(pw, sizeof(pw));
    wb_memzero(r, sizeof(r));
    m->tab_ready = true;
}

/* n whole blocks: groups of four through NEON when the run is long enough. */
static void mac_blocks(struct mac *m, const uint8_t *in, size_t n)
{
    if (n >= POLY_NEON_MIN_BLOCKS) {
        uint32_t l[5];
        size_t groups = n / 4;

        if (!m->tab_ready)
            mac_powers(m);
        h_to26(l, m->h);
        poly1305_neon_blocks4(l, in, groups, &m->tab[0][0]);
        h_from26(m->h, l);
        wb_memzero(l, sizeof(l));
        in += groups * 4 * BLOCK;
        n -= groups * 4;
    }
    blocks_scalar(m, in, n);
}

/* in || zero padding to a multiple of 16 (in is AD or ciphertext: public). */
static void mac_padded(struct mac *m, const uint8_t *in, size_t len)
{
    size_t full = len / BLOCK, rest = len % BLOCK;

    mac_blocks(m, in, full);
    if (rest) {
        uint8_t last[BLOCK] = { 0 };

        memcpy(last, in + full * BLOCK, rest);
        blocks_scalar(m, last, 1);
    }
}

/* tag = (h mod p + s) mod 2^128; wipes m. */
static void mac_emit(struct mac *m, uint8_t tag[AEAD_TAG_LEN])
{
    uint64_t h0 = m->h[0], h1 = m->h[1], h2 = m->h[2], g0, g1, g2, c, mask;
    u128 t;

    /* h < 5 2^128 < 2p. g = h + 5 = h - p + 2^130: h >= p exactly when g
     * reaches 2^130, and then h - p is g's low 130 bits. */
    g0 = h0 + 5;
    c = g0 < 5;
    g1 = h1 + c;
    c = g1 < c;
    g2 = h2 + c;
    mask = (uint64_t)0 - (g2 >> 2);
    h0 = (h0 & ~mask) | (g0 & mask);
    h1 = (h1 & ~mask) | (g1 & mask);
    t = (u128)h0 + m->s[0];
    store64(tag, (uint64_t)t);
    store64(tag + 8, h1 + m->s[1] + (uint64_t)(t >> 64));
    wb_memzero(m, sizeof(*m));
}

/* The lengths block, then the tag; wipes m. */
static void mac_final(struct mac *m, uint8_t tag[AEAD_TAG_LEN], size_t ad_len, size_t ct_len)
{
    uint8_t lens[BLOCK];

    store64(lens, (uint64_t)ad_len);
    store64(lens + 8, (uint64_t)ct_len);
    blocks_scalar(m, lens, 1);
    mac_emit(m, tag);
}

/* Poly1305 keyed with r (clamped, RFC 8439 §2.5) and s from the 32-byte key. */
static void mac_init(struct mac *m, const uint8_t key[32])
{
    m->h[0] = m->h[1] = m->h[2] = 0;
    m->r[0] = load64(key) & 0x0ffffffc0fffffffull;
    m->r[1] = load64(key + 8) & 0x0ffffffc0ffffffcull;
    m->s[0] = load64(key + 16);
    m->s[1] = load64(key + 24);
    m->tab_ready = false;
}

/* ChaCha state for key/nonce with the counter at 1, and m keyed from block 0. */
static void mac_start(struct mac *m, uint32_t st[16], const uint8_t key[AEAD_KEY_LEN],
                      const uint8_t nonce[AEAD_NONCE_LEN])
{
    uint8_t block0[CHACHA_BLOCK] = { 0 };

    chacha_state(st, key, nonce, 0);
    chacha20_neon_xor(block0, block0, sizeof(block0), st);
    mac_init(m, block0);
    wb_memzero(block0, sizeof(block0));
    st[12] = 1;
}

static void mac_tag(struct mac *m, uint8_t tag[AEAD_TAG_LEN], const uint8_t *ad, size_t ad_len,
                    const uint8_t *ct, size_t ct_len)
{
    mac_padded(m, ad, ad_len);
    mac_padded(m, ct, ct_len);
    mac_final(m, tag, ad_len, ct_len);
}

/* dst: len + 16 bytes; dst may equal src. */
static void neon_seal(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad,
                      size_t ad_len, const uint8_t nonce[AEAD_NONCE_LEN],
                      const uint8_t key[AEAD_KEY_LEN])
{
    uint32_t st[16];
    struct mac m;

    mac_start(&m, st, key, nonce);
    chacha20_neon_xor(dst, src, len, st);
    mac_tag(&m, dst + len, ad, ad_len, dst, len);
    wb_memzero(st, sizeof(st));
}

/* src: ciphertext + tag (len bytes); dst: len - 16 bytes; dst may equal src. */
static int neon_open(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad,
                     size_t ad_len, const uint8_t nonce[AEAD_NONCE_LEN],
                     const uint8_t key[AEAD_KEY_LEN])
{
    uint32_t st[16];
    uint8_t tag[AEAD_TAG_LEN];
    struct mac m;
    size_t ct_len;
    int bad;

    if (len < AEAD_TAG_LEN)
        return -EBADMSG;
    ct_len = len - AEAD_TAG_LEN;
    mac_start(&m, st, key, nonce);
    mac_tag(&m, tag, ad, ad_len, src, ct_len);
    bad = wb_memcmp_ct(tag, src + ct_len, AEAD_TAG_LEN);
    ct_public(&bad, sizeof(bad));   /* the verdict: accepted or dropped */
    wb_memzero(tag, sizeof(tag));
    if (!bad)
        chacha20_neon_xor(dst, src, ct_len, st);
    wb_memzero(st, sizeof(st));
    return bad ? -EBADMSG : 0;
}

static bool neon_supported(const struct cpu_features *cpu)
{
    return cpu->neon;
}

const struct aead_impl aead_neon_impl = {
    .name = "neon",
    .supported = neon_supported,
    .seal = neon_seal,
    .open = neon_open,
    .seal_batch = NULL,   /* the front door loops over seal/open */
    .open_batch = NULL,
};

#endif
