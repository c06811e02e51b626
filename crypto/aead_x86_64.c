/* SPDX-License-Identifier: MIT */
/*
 * aead_x86_64.c - the x86-64 SIMD ChaCha20-Poly1305 implementations built
 * from the asm/ kernels:
 *   "avx2"  (AVX2, BMI2, ADX): seal and open are one stitched pass each
 *           (asm/chacha20poly1305_avx2_stitched.S: 8-block AVX2 ChaCha20
 *           with mulx Poly1305 between its quarter rounds); batches of short
 *           packets use the multi-buffer kernel (8 blocks of any packets per
 *           run); lengths decide which path runs, never data;
 *   "avx512" (AVX-512F on top of "avx2"): from SPLIT_MIN bytes on, two
 *           passes on the vector units: ChaCha20 32 blocks per run in
 *           zmm0..31 (a 1420-byte packet and its key block in one run),
 *           then the four-lane AVX2 Poly1305 (asm/poly1305_avx2.S); below
 *           that as "avx2"; batches through a 32-lane multi-buffer
 *           kernel. On AMD Zen 5 a vector add takes 2 cycles, which leaves
 *           the 8-block kernel waiting on its dependencies and the
 *           stitched MAC's 14-cycle chain per block the longest part of a
 *           packet; the two passes avoid both;
 *   "avx512ifma" (and AVX-512 IFMA): "avx512" with the eight-lane vpmadd52
 *           Poly1305 (asm/poly1305_avx512ifma.S), two passes from
 *           SPLIT_MIN_IFMA bytes on;
 *   "ssse3" (SSSE3): 4-block SSSE3 ChaCha20, then plain-mul Poly1305.
 *
 * Same construction as aead_portable.c (RFC 8439 §2.8): the Poly1305 key is
 * the first half of ChaCha20 block 0, the data is XORed from block 1, and
 * the tag covers AD || pad16 || ciphertext || pad16 || LE64(ad_len) ||
 * LE64(len). Open computes and compares the tag (constant time) before any
 * plaintext reaches dst: "avx2" and "avx512" keep the keystream on the
 * stack meanwhile (up to 2 KiB; the rest is decrypted afterwards), "ssse3" does
 * so for short messages (OPEN_SHORT_MAX) and otherwise, like the batches,
 * makes the key block first and decrypts after the check. On a bad tag dst
 * is untouched. One-time keys, MAC states and kept keystream
 * are wiped on every path; the kernels wipe their own stack frames.
 *
 * The kernels follow the System V calling convention on every OS: on
 * Windows the declarations below carry __attribute__((sysv_abi)) and the
 * compiler saves what the Windows convention needs around each call.
 *
 * Thread safety: no shared state; any thread may call these at any time.
 */
#include "aead.h"

#if defined(WB_ASM_X86_64)

#include <errno.h>
#include <immintrin.h>
#include <stddef.h>
#include <string.h>

#include "ct.h"
#include "random.h"

#define SYSV __attribute__((sysv_abi))
#define INLINE static inline __attribute__((always_inline))

/* asm/chacha20_*.S: iv = LE32(counter) || nonce; pk != NULL takes the
 * counter's block as the Poly1305 key and XORs from the next block. */
SYSV void chacha20_avx2_xor(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[32],
                            const uint8_t iv[16], uint8_t pk[32]);
/* One 32-block run: the 512-byte groups covering len (1..2048) bytes of
 * keystream to out (room for 2048). AVX-512F. */
SYSV void chacha20_avx512_keystream(uint8_t out[2048], size_t len, const uint8_t key[32],
                                    const uint8_t iv[16]);
/* The same in 32-block runs (AVX-512F, zmm0..31). */
SYSV void chacha20_avx512_xor(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[32],
                              const uint8_t iv[16], uint8_t pk[32]);
/* Eight independent blocks: lane j's state word i at in[i][j], its
 * keystream block at out + 64 j. */
SYSV void chacha20_avx2_blocks8(uint8_t out[512], const uint32_t in[16][8]);
/* The same with 32 lanes (AVX-512F). */
SYSV void chacha20_avx512_blocks32(uint8_t out[2048], const uint32_t in[16][32]);
SYSV void chacha20_ssse3_xor(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[32],
                             const uint8_t iv[16], uint8_t pk[32]);
/* asm/poly1305_x86_64.S: st = h0 h1 h2 r0 r1; whole 16-byte blocks. */
SYSV void poly1305_x86_64_blocks_mulx(uint64_t st[5], const uint8_t *m, size_t len);
SYSV void poly1305_x86_64_blocks(uint64_t st[5], const uint8_t *m, size_t len);
/* asm/poly1305_avx2.S: the same, four lanes of vpmuludq from 20 blocks on
 * (shorter inputs and the last 0..3 blocks go to the mulx function). */
SYSV void poly1305_avx2_blocks(uint64_t st[5], const uint8_t *m, size_t len);
/* asm/poly1305_avx512ifma.S: the same, eight lanes of vpmadd52 from 8 blocks
 * on (AVX-512F + IFMA; shorter inputs go to the mulx function). */
SYSV void poly1305_avx512ifma_blocks(uint64_t st[5], const uint8_t *m, size_t len);

/* asm/chacha20poly1305_avx2_stitched.S: ChaCha20 and the whole MAC in one
 * pass (offsets fixed in the asm). */
struct stitch_args {
    uint8_t *out;
    const uint8_t *in;
    size_t len;
    const uint8_t *key;
    const uint8_t *iv;
    const uint8_t *ad;
    size_t ad_len;
    const uint8_t *mac;     /* the ciphertext, mac_len bytes */
    size_t mac_len;
    uint8_t *tag;           /* out: 16 bytes */
};
_Static_assert(offsetof(struct stitch_args, mac_len) == 64 &&
                   offsetof(struct stitch_args, tag) == 72,
               "struct stitch_args does not match asm/chacha20poly1305_avx2_stitched.S");
/* Seal: out = ciphertext. Open: out = the key block and len bytes of
 * keystream (64 + len bytes); no plaintext is written. */
SYSV void chacha20poly1305_avx2_seal(const struct stitch_args *a);
SYSV void chacha20poly1305_avx2_open(const struct stitch_args *a);

/* Which kernels an entry uses; a constant in each entry's functions, so
 * the helpers below inline to direct calls. */
enum kernels { K_SSSE3, K_AVX2, K_AVX512, K_IFMA };   /* K_AVX512 up: zmm ChaCha20 */

#define PK_LEN 32
#define MAC_BLOCK 16

INLINE void stream(enum kernels k, uint8_t *dst, const uint8_t *src, size_t len,
                   const uint8_t key[AEAD_KEY_LEN], const uint8_t iv[16], uint8_t pk[PK_LEN])
{
    if (k >= K_AVX512)
        chacha20_avx512_xor(dst, src, len, key, iv, pk);
    else if (k == K_AVX2)
        chacha20_avx2_xor(dst, src, len, key, iv, pk);
    else
        chacha20_ssse3_xor(dst, src, len, key, iv, pk);
}

INLINE void mac_blocks(enum kernels k, uint64_t st[5], const uint8_t *m, size_t len)
{
    if (k == K_IFMA)
        poly1305_avx512ifma_blocks(st, m, len);
    else if (k == K_AVX512)
        poly1305_avx2_blocks(st, m, len);
    else if (k == K_AVX2)
        poly1305_x86_64_blocks_mulx(st, m, len);
    else
        poly1305_x86_64_blocks(st, m, len);
}

static uint64_t load64_le(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void store64_le(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void make_iv(uint8_t iv[16], uint32_t counter, const uint8_t nonce[AEAD_NONCE_LEN])
{
    for (int i = 0; i < 4; i++)
        iv[i] = (uint8_t)(counter >> (8 * i));
    memcpy(iv + 4, nonce, AEAD_NONCE_LEN);
}

/* h = 0, r = clamp(pk[0..15]). */
static void mac_init(uint64_t st[5], const uint8_t pk[PK_LEN])
{
    st[0] = st[1] = st[2] = 0;
    st[3] = load64_le(pk) & 0x0ffffffc0fffffffull;
    st[4] = load64_le(pk + 8) & 0x0ffffffc0ffffffcull;
}

/* tag = (h mod p + s) mod 2^128, s = pk[16..31]; no branch on h. */
static void mac_finish(uint8_t tag[AEAD_TAG_LEN], const uint64_t st[5], const uint8_t pk[PK_LEN])
{
    typedef unsigned __int128 u128;
    uint64_t h0 = st[0], h1 = st[1], h2 = st[2], g0, g1, g2, mask;
    u128 t;

    /* Fold bits >= 130 (h2 < 8): h < 2^130 + 5 < 2p. */
    t = (u128)h0 + (h2 >> 2) * 5;
    h0 = (uint64_t)t;
    t = (u128)h1 + (uint64_t)(t >> 64);
    h1 = (uint64_t)t;
    h2 = (h2 & 3) + (uint64_t)(t >> 64);
    /* g = h + 5 reaches 2^130 exactly when h >= p; then h - p = g mod 2^128. */
    t = (u128)h0 + 5;
    g0 = (uint64_t)t;
    t = (u128)h1 + (uint64_t)(t >> 64);
    g1 = (uint64_t)t;
    g2 = h2 + (uint64_t)(t >> 64);
    mask = (uint64_t)0 - (g2 >> 2);
    h0 = (h0 & ~mask) | (g0 & mask);
    h1 = (h1 & ~mask) | (g1 & mask);
    t = (u128)h0 + load64_le(pk + 16);
    store64_le(tag, (uint64_t)t);
    store64_le(tag + 8, h1 + load64_le(pk + 24) + (uint64_t)(t >> 64));
}

/* The message zero-padded to whole blocks. */
INLINE void mac_padded(enum kernels k, uint64_t st[5], const uint8_t *m, size_t len)
{
    size_t full = len & ~(size_t)(MAC_BLOCK - 1);

    if (full)
        mac_blocks(k, st, m, full);
    if (len > full) {
        uint8_t last[MAC_BLOCK] = { 0 };

        memcpy(last, m + full, len - full);
        mac_blocks(k, st, last, MAC_BLOCK);
    }
}

INLINE void mac(enum kernels k, uint8_t tag[AEAD_TAG_LEN], const uint8_t pk[PK_LEN],
                const uint8_t *ad, size_t ad_len, const uint8_t *ct, size_t ct_len)
{
    uint64_t st[5];
    uint8_t last[2 * MAC_BLOCK] = { 0 };  /* ct's padded partial block, lengths */
    size_t full = ct_len & ~(size_t)(MAC_BLOCK - 1), rest = ct_len - full;
    size_t n = rest ? 2 * MAC_BLOCK : MAC_BLOCK;

    mac_init(st, pk);
    mac_padded(k, st, ad, ad_len);
    if (full)
        mac_blocks(k, st, ct, full);
    memcpy(last, ct + full, rest);
    store64_le(last + n - MAC_BLOCK, (uint64_t)ad_len);
    store64_le(last + n - MAC_BLOCK + 8, (uint64_t)ct_len);
    mac_blocks(k, st, last, n);       /* one call for the last one or two */
    mac_finish(tag, st, pk);
    wb_memzero(st, sizeof(st));
    wb_memzero(last, sizeof(last));
}

/* 0 if the tags are equal; no branch or early exit on their bytes. */
static int tag_differs(const uint8_t a[AEAD_TAG_LEN], const uint8_t b[AEAD_TAG_LEN])
{
    uint64_t a0, a1, b0, b1;
    int bad;

    memcpy(&a0, a, 8);
    memcpy(&a1, a + 8, 8);
    memcpy(&b0, b, 8);
    memcpy(&b1, b + 8, 8);
    bad = ((a0 ^ b0) | (a1 ^ b1)) != 0;
    ct_public(&bad, sizeof(bad));   /* the verdict: accepted or dropped */
    return bad;
}

/* dst: len + 16 bytes; dst may equal src. */
INLINE void seal_with(enum kernels k, uint8_t *dst, const uint8_t *src, size_t len,
                      const uint8_t *ad, size_t ad_len, const uint8_t nonce[AEAD_NONCE_LEN],
                      const uint8_t key[AEAD_KEY_LEN])
{
    uint8_t iv[16], pk[PK_LEN];

    make_iv(iv, 0, nonce);
    stream(k, dst, src, len, key, iv, pk);
    mac(k, dst + len, pk, ad, ad_len, dst, len);
    wb_memzero(pk, sizeof(pk));
}

/* A short message's keystream comes out of the same kernel run as the key
 * block (one 4-block stretch) and waits on the stack for the tag check. */
#define OPEN_SHORT_MAX 192

/* src: len bytes of ciphertext + tag; dst: len - 16 bytes; dst may equal src. */
INLINE int open_with(enum kernels k, uint8_t *dst, const uint8_t *src, size_t len,
                     const uint8_t *ad, size_t ad_len, const uint8_t nonce[AEAD_NONCE_LEN],
                     const uint8_t key[AEAD_KEY_LEN])
{
    uint8_t iv[16], pk[PK_LEN], tag[AEAD_TAG_LEN], ks[OPEN_SHORT_MAX] = { 0 };
    size_t ct_len, short_len;
    int bad;

    if (len < AEAD_TAG_LEN)
        return -EBADMSG;
    ct_len = len - AEAD_TAG_LEN;
    short_len = ct_len <= OPEN_SHORT_MAX ? ct_len : 0;
    make_iv(iv, 0, nonce);
    stream(k, ks, ks, short_len, key, iv, pk);     /* zeros XOR keystream */
    mac(k, tag, pk, ad, ad_len, src, ct_len);
    bad = tag_differs(tag, src + ct_len);
    wb_memzero(tag, sizeof(tag));
    wb_memzero(pk, sizeof(pk));
    if (!bad && short_len) {
        for (size_t i = 0; i < short_len; i++)
            dst[i] = src[i] ^ ks[i];
    } else if (!bad && ct_len) {
        make_iv(iv, 1, nonce);
        stream(k, dst, src, ct_len, key, iv, NULL);
    }
    wb_memzero(ks, short_len);
    return bad ? -EBADMSG : 0;
}

/* ------------------------------------------------------------ avx2 */

/* Open keeps this much keystream on the stack while it checks the tag (a
 * multiple of the 64-byte block); longer data is decrypted after it. */
#define OPEN_KS_MAX 2048
#define KEY_BLOCK 64    /* ChaCha20 block 0, whose first half is the one-time key */

__attribute__((target("avx2"))) static void xor_keystream(uint8_t *dst, const uint8_t *src,
                                                          const uint8_t *ks, size_t n)
{
    size_t i = 0;

    for (; i + 32 <= n; i += 32) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(src + i));
        __m256i y = _mm256_loadu_si256((const __m256i *)(ks + i));

        _mm256_storeu_si256((__m256i *)(dst + i), _mm256_xor_si256(x, y));
    }
    for (; i < n; i++)
        dst[i] = src[i] ^ ks[i];
    _mm256_zeroall();   /* no keystream left in vector registers */
}

/* One stitched pass: ciphertext and tag. */
static void avx2_seal(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad,
                      size_t ad_len, const uint8_t nonce[AEAD_NONCE_LEN],
                      const uint8_t key[AEAD_KEY_LEN])
{
    uint8_t iv[16];
    const struct stitch_args a = { .out = dst, .in = src, .len = len, .key = key, .iv = iv,
                                   .ad = ad, .ad_len = ad_len, .mac = dst, .mac_len = len,
                                   .tag = dst + len };

    make_iv(iv, 0, nonce);
    chacha20poly1305_avx2_seal(&a);
}

/* One stitched pass makes the keystream (up to OPEN_KS_MAX) and the tag of
 * the whole ciphertext; only a good tag lets the keystream reach dst. */
static int avx2_open(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad,
                     size_t ad_len, const uint8_t nonce[AEAD_NONCE_LEN],
                     const uint8_t key[AEAD_KEY_LEN])
{
    uint8_t ks[KEY_BLOCK + OPEN_KS_MAX];
    uint8_t iv[16], tag[AEAD_TAG_LEN];
    size_t ct_len, head;
    int bad;

    if (len < AEAD_TAG_LEN)
        return -EBADMSG;
    ct_len = len - AEAD_TAG_LEN;
    head = ct_len < OPEN_KS_MAX ? ct_len : OPEN_KS_MAX;
    make_iv(iv, 0, nonce);
    const struct stitch_args a = { .out = ks, .len = head, .key = key, .iv = iv, .ad = ad,
                                   .ad_len = ad_len, .mac = src, .mac_len = ct_len, .tag = tag };
    chacha20poly1305_avx2_open(&a);
    bad = tag_differs(tag, src + ct_len);
    if (!bad) {
        xor_keystream(dst, src, ks + KEY_BLOCK, head);
        if (ct_len > head) {
            make_iv(iv, (uint32_t)(1 + head / KEY_BLOCK), nonce);
            chacha20_avx2_xor(dst + head, src + head, ct_len - head, key, iv, NULL);
        }
    }
    wb_memzero(ks, KEY_BLOCK + head);
    wb_memzero(tag, sizeof(tag));
    return bad ? -EBADMSG : 0;
}

/* ------------------------------------------------------------ avx512 */

/* Below this many bytes the stitched AVX2 pass is faster than the two
 * passes (bench_aead on AMD Zen 5: 256 B 3.7 vs 4.3 cycles/byte, even at
 * 576 B); with the IFMA MAC from 448 B on (384 B: even). */
#define SPLIT_MIN 512
#define SPLIT_MIN_IFMA 448
#define split_min(k) ((k) == K_IFMA ? SPLIT_MIN_IFMA : SPLIT_MIN)

/* Two passes, each on the vector units: ChaCha20 with 32-block runs, then
 * the vector Poly1305 (k: AVX2 or IFMA). */
INLINE void wide_seal(enum kernels k, uint8_t *dst, const uint8_t *src, size_t len,
                      const uint8_t *ad, size_t ad_len, const uint8_t nonce[AEAD_NONCE_LEN],
                      const uint8_t key[AEAD_KEY_LEN])
{
    if (len < split_min(k)) {
        avx2_seal(dst, src, len, ad, ad_len, nonce, key);
        return;
    }
    seal_with(k, dst, src, len, ad, ad_len, nonce, key);
}

/* The key block and the keystream in one 32-block run (up to
 * WIDE_KS - 64 bytes of data), kept on the stack while the MAC runs; only
 * a good tag lets it reach dst. Longer data is decrypted after the check. */
#define WIDE_KS 2048
#define WIDE_GROUP 512

INLINE int wide_open(enum kernels k, uint8_t *dst, const uint8_t *src, size_t len,
                     const uint8_t *ad, size_t ad_len, const uint8_t nonce[AEAD_NONCE_LEN],
                     const uint8_t key[AEAD_KEY_LEN])
{
    uint8_t ks[WIDE_KS], iv[16], tag[AEAD_TAG_LEN];
    size_t ct_len, head, made;
    int bad;

    if (len < AEAD_TAG_LEN + split_min(k))
        return avx2_open(dst, src, len, ad, ad_len, nonce, key);
    ct_len = len - AEAD_TAG_LEN;
    head = ct_len < WIDE_KS - KEY_BLOCK ? ct_len : WIDE_KS - KEY_BLOCK;
    made = (KEY_BLOCK + head + WIDE_GROUP - 1) / WIDE_GROUP * WIDE_GROUP;
    make_iv(iv, 0, nonce);
    chacha20_avx512_keystream(ks, KEY_BLOCK + head, key, iv);
    mac(k, tag, ks, ad, ad_len, src, ct_len);
    bad = tag_differs(tag, src + ct_len);
    if (!bad) {
        xor_keystream(dst, src, ks + KEY_BLOCK, head);
        if (ct_len > head) {
            make_iv(iv, (uint32_t)(1 + head / KEY_BLOCK), nonce);
            chacha20_avx512_xor(dst + head, src + head, ct_len - head, key, iv, NULL);
        }
    }
    wb_memzero(ks, made);
    wb_memzero(tag, sizeof(tag));
    return bad ? -EBADMSG : 0;
}

static void avx512_seal(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad,
                        size_t ad_len, const uint8_t nonce[AEAD_NONCE_LEN],
                        const uint8_t key[AEAD_KEY_LEN])
{
    wide_seal(K_AVX512, dst, src, len, ad, ad_len, nonce, key);
}

static int avx512_open(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad,
                       size_t ad_len, const uint8_t nonce[AEAD_NONCE_LEN],
                       const uint8_t key[AEAD_KEY_LEN])
{
    return wide_open(K_AVX512, dst, src, len, ad, ad_len, nonce, key);
}

static void ifma_seal(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad,
                      size_t ad_len, const uint8_t nonce[AEAD_NONCE_LEN],
                      const uint8_t key[AEAD_KEY_LEN])
{
    wide_seal(K_IFMA, dst, src, len, ad, ad_len, nonce, key);
}

static int ifma_open(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad,
                     size_t ad_len, const uint8_t nonce[AEAD_NONCE_LEN],
                     const uint8_t key[AEAD_KEY_LEN])
{
    return wide_open(K_IFMA, dst, src, len, ad, ad_len, nonce, key);
}

/* ------------------------------------------------------------ batches */

/*
 * Batches: packets up to MB_MAX_LEN (AVX-512: MB_MAX_LEN_WIDE) bytes go
 * through the multi-buffer kernel, 8 ChaCha20 blocks of any packets per run
 * (32 with AVX-512: one block of a short packet leaves the other lanes of
 * the single-packet kernels idle); longer ones through the single-packet
 * calls. Seal queues
 * every packet's key block and data blocks, then MACs each packet. Open
 * queues the key blocks, checks every tag, then queues the data blocks of
 * the packets whose tag was good. Packets are taken MB_CHUNK at a time, so
 * their one-time keys fit on the stack (wiped after each chunk).
 */
#define MB_LANES_MAX 32
#define MB_MAX_LEN 320
/* With 32 lanes and the vector MAC, batching pays up to here (bench_aead,
 * AMD Zen 5: 576 B 233 vs 296 ns a packet; even at 896 B). */
#define MB_MAX_LEN_WIDE 832
#define MB_CHUNK 32

struct mb {
    uint32_t in[16 * MB_LANES_MAX];  /* word w of lane j at in[w * lanes + j] */
    uint8_t out[MB_LANES_MAX * KEY_BLOCK];
    struct { uint32_t op, block; } job[MB_LANES_MAX];
    size_t n, lanes;                /* queued, and per run: 8 or 32 */
    struct aead_op *ops;
    const size_t *data_len;         /* per op: bytes of plaintext/ciphertext */
    uint8_t (*pk)[PK_LEN];          /* per op: the one-time key */
};

static uint32_t load32_le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Run the queued blocks: key blocks to pk, data blocks XORed src -> dst. */
static void mb_run(struct mb *mb)
{
    if (mb->lanes == MB_LANES_MAX)
        chacha20_avx512_blocks32(mb->out, (const uint32_t(*)[MB_LANES_MAX])mb->in);
    else
        chacha20_avx2_blocks8(mb->out, (const uint32_t(*)[8])mb->in);
    for (size_t j = 0, run; j < mb->n; j += run) {
        uint32_t o = mb->job[j].op, b = mb->job[j].block;
        struct aead_op *op = &mb->ops[o];
        size_t off, n;

        run = 1;
        if (b == 0) {
            memcpy(mb->pk[o], mb->out + KEY_BLOCK * j, PK_LEN);
            continue;
        }
        /* Lanes holding the next blocks of the same packet: one XOR. */
        while (j + run < mb->n && mb->job[j + run].op == o && mb->job[j + run].block == b + run)
            run++;
        off = (size_t)(b - 1) * KEY_BLOCK;
        n = mb->data_len[o] - off;
        if (n > run * KEY_BLOCK)
            n = run * KEY_BLOCK;
        xor_keystream(op->dst + off, op->src + off, mb->out + KEY_BLOCK * j, n);
    }
    mb->n = 0;
}

/* Queue block `block` of op i (0: the key block); runs when a run's worth
 * (mb->lanes) is queued. */
static void mb_add(struct mb *mb, size_t i, uint32_t block)
{
    static const uint32_t sigma[4] = { 0x61707865, 0x3320646e, 0x79622d32, 0x6b206574 };
    const struct aead_op *op = &mb->ops[i];
    size_t j = mb->n, l = mb->lanes;
    uint32_t *in = mb->in + j;

    for (int w = 0; w < 4; w++)
        in[w * l] = sigma[w];
    for (int w = 0; w < 8; w++)
        in[(4 + w) * l] = load32_le(op->key + 4 * w);
    in[12 * l] = block;
    in[13 * l] = 0;
    in[14 * l] = (uint32_t)op->counter;
    in[15 * l] = (uint32_t)(op->counter >> 32);
    mb->job[j].op = (uint32_t)i;
    mb->job[j].block = block;
    if (++mb->n == mb->lanes)
        mb_run(mb);
}

static void mb_add_data(struct mb *mb, size_t i)
{
    size_t blocks = (mb->data_len[i] + KEY_BLOCK - 1) / KEY_BLOCK;

    for (size_t b = 1; b <= blocks; b++)
        mb_add(mb, i, (uint32_t)b);
}

static void mb_flush(struct mb *mb)
{
    if (mb->n)
        mb_run(mb);
}

INLINE void seal_chunk(enum kernels k, struct aead_op *ops, size_t n)
{
    const bool wide = k >= K_AVX512;
    const size_t max_len = wide ? MB_MAX_LEN_WIDE : MB_MAX_LEN;
    uint8_t pk[MB_CHUNK][PK_LEN];
    size_t data_len[MB_CHUNK];
    struct mb mb = { .ops = ops, .data_len = data_len, .pk = pk,
                     .lanes = wide ? MB_LANES_MAX : 8 };

    for (size_t i = 0; i < n; i++) {
        ops[i].result = 0;
        data_len[i] = ops[i].len;
        if (ops[i].len > max_len) {
            uint8_t nonce[AEAD_NONCE_LEN];

            aead_nonce_from_counter(nonce, ops[i].counter);
            if (wide)
                wide_seal(k, ops[i].dst, ops[i].src, ops[i].len, NULL, 0, nonce, ops[i].key);
            else
                avx2_seal(ops[i].dst, ops[i].src, ops[i].len, NULL, 0, nonce, ops[i].key);
            continue;
        }
        mb_add(&mb, i, 0);
        mb_add_data(&mb, i);
    }
    mb_flush(&mb);
    for (size_t i = 0; i < n; i++)
        if (ops[i].len <= max_len)
            mac(k, ops[i].dst + ops[i].len, pk[i], NULL, 0, ops[i].dst,
                ops[i].len);
    wb_memzero(pk, sizeof(pk));
    wb_memzero(&mb, sizeof(mb));
}

INLINE void open_chunk(enum kernels k, struct aead_op *ops, size_t n)
{
    const bool wide = k >= K_AVX512;
    const size_t max_len = wide ? MB_MAX_LEN_WIDE : MB_MAX_LEN;
    uint8_t pk[MB_CHUNK][PK_LEN], tag[AEAD_TAG_LEN];
    size_t data_len[MB_CHUNK];
    struct mb mb = { .ops = ops, .data_len = data_len, .pk = pk,
                     .lanes = wide ? MB_LANES_MAX : 8 };

    for (size_t i = 0; i < n; i++) {
        ops[i].result = -EBADMSG;
        if (ops[i].len < AEAD_TAG_LEN)
            continue;
        data_len[i] = ops[i].len - AEAD_TAG_LEN;
        if (data_len[i] > max_len) {
            uint8_t nonce[AEAD_NONCE_LEN];

            aead_nonce_from_counter(nonce, ops[i].counter);
            ops[i].result = wide ? wide_open(k, ops[i].dst, ops[i].src, ops[i].len, NULL, 0,
                                             nonce, ops[i].key)
                                 : avx2_open(ops[i].dst, ops[i].src, ops[i].len, NULL, 0,
                                             nonce, ops[i].key);
            continue;
        }
        mb_add(&mb, i, 0);
    }
    mb_flush(&mb);
    for (size_t i = 0; i < n; i++) {
        if (ops[i].len < AEAD_TAG_LEN || data_len[i] > max_len)
            continue;
        mac(k, tag, pk[i], NULL, 0, ops[i].src, data_len[i]);
        if (!tag_differs(tag, ops[i].src + data_len[i])) {
            ops[i].result = 0;
            mb_add_data(&mb, i);
        }
    }
    mb_flush(&mb);
    wb_memzero(tag, sizeof(tag));
    wb_memzero(pk, sizeof(pk));
    wb_memzero(&mb, sizeof(mb));
}

/* A batch, MB_CHUNK packets at a time. */
INLINE void batch_with(enum kernels k, void (*chunk)(enum kernels, struct aead_op *, size_t),
                       struct aead_op *ops, size_t n)
{
    for (size_t i = 0; i < n; i += MB_CHUNK)
        chunk(k, ops + i, n - i < MB_CHUNK ? n - i : MB_CHUNK);
}

static void avx2_seal_batch(struct aead_op *ops, size_t n)
{
    batch_with(K_AVX2, seal_chunk, ops, n);
}

static void avx2_open_batch(struct aead_op *ops, size_t n)
{
    batch_with(K_AVX2, open_chunk, ops, n);
}

static void avx512_seal_batch(struct aead_op *ops, size_t n)
{
    batch_with(K_AVX512, seal_chunk, ops, n);
}

static void avx512_open_batch(struct aead_op *ops, size_t n)
{
    batch_with(K_AVX512, open_chunk, ops, n);
}

/* ChaCha20: AVX2 (with AVX's OS state check); Poly1305: mulx (BMI2), adcx/adox (ADX). */
static bool avx2_supported(const struct cpu_features *cpu)
{
    return cpu->avx2 && cpu->bmi2 && cpu->adx;
}

const struct aead_impl aead_avx2_impl = {
    .name = "avx2",
    .supported = avx2_supported,
    .seal = avx2_seal,
    .open = avx2_open,
    .seal_batch = avx2_seal_batch,
    .open_batch = avx2_open_batch,
};

/* "avx2" plus AVX-512F (cpu.c checks XCR0's opmask and ZMM state). */
static bool avx512_supported(const struct cpu_features *cpu)
{
    return avx2_supported(cpu) && cpu->avx512f;
}

const struct aead_impl aead_avx512_impl = {
    .name = "avx512",
    .supported = avx512_supported,
    .seal = avx512_seal,
    .open = avx512_open,
    .seal_batch = avx512_seal_batch,
    .open_batch = avx512_open_batch,
};

static void ifma_seal_batch(struct aead_op *ops, size_t n)
{
    batch_with(K_IFMA, seal_chunk, ops, n);
}

static void ifma_open_batch(struct aead_op *ops, size_t n)
{
    batch_with(K_IFMA, open_chunk, ops, n);
}

/* "avx512" plus AVX-512 IFMA for the MAC. */
static bool ifma_supported(const struct cpu_features *cpu)
{
    return avx512_supported(cpu) && cpu->avx512ifma;
}

const struct aead_impl aead_avx512ifma_impl = {
    .name = "avx512ifma",
    .supported = ifma_supported,
    .seal = ifma_seal,
    .open = ifma_open,
    .seal_batch = ifma_seal_batch,
    .open_batch = ifma_open_batch,
};

/* ------------------------------------------------------------ ssse3 */

static void ssse3_seal(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad,
                       size_t ad_len, const uint8_t nonce[AEAD_NONCE_LEN],
                       const uint8_t key[AEAD_KEY_LEN])
{
    seal_with(K_SSSE3, dst, src, len, ad, ad_len, nonce, key);
}

static int ssse3_open(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad,
                      size_t ad_len, const uint8_t nonce[AEAD_NONCE_LEN],
                      const uint8_t key[AEAD_KEY_LEN])
{
    return open_with(K_SSSE3, dst, src, len, ad, ad_len, nonce, key);
}

/* ChaCha20: SSSE3 (PSHUFB); Poly1305: plain 64-bit mul, baseline x86-64. */
static bool ssse3_supported(const struct cpu_features *cpu)
{
    return cpu->ssse3;
}

const struct aead_impl aead_ssse3_impl = {
    .name = "ssse3",
    .supported = ssse3_supported,
    .seal = ssse3_seal,
    .open = ssse3_open,
    .seal_batch = NULL,
    .open_batch = NULL,
};

#endif /* WB_ASM_X86_64 */
