/* SPDX-License-Identifier: MIT */
/*
 * aead_portable.c - the portable ChaCha20-Poly1305 AEAD (RFC 8439 §2.8):
 * the default implementation and the reference every SIMD kernel is tested
 * against.
 *
 * Poly1305 key = first 32 bytes of ChaCha20 block 0; data is XORed with the
 * keystream from block 1; the tag covers AD || pad16 || ciphertext || pad16 ||
 * LE64(ad_len) || LE64(len). Open checks the tag in constant time before it
 * decrypts a single byte, and leaves dst untouched when the tag is wrong.
 * The one-time key and the MAC state are wiped on every path.
 *
 * Thread safety: no shared state; any thread may call these at any time.
 */
#include <errno.h>
#include <string.h>

#include "aead.h"
#include "chacha20.h"
#include "poly1305.h"
#include "ct.h"
#include "random.h"

static const uint8_t zero_pad[16];

static void poly_key(uint8_t pk[POLY1305_KEY_LEN], const uint8_t nonce[AEAD_NONCE_LEN],
                     const uint8_t key[AEAD_KEY_LEN])
{
    uint8_t block0[CHACHA20_BLOCK_LEN] = { 0 };

    chacha20_portable_xor(block0, block0, sizeof(block0), key, nonce, 0);
    memcpy(pk, block0, POLY1305_KEY_LEN);
    wb_memzero(block0, sizeof(block0));
}

static void store64_le(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* tag = Poly1305(pk, AD || pad16 || ct || pad16 || LE64(ad_len) || LE64(ct_len)) */
static void compute_tag(uint8_t tag[AEAD_TAG_LEN], const uint8_t *ad, size_t ad_len,
                        const uint8_t *ct, size_t ct_len, const uint8_t pk[POLY1305_KEY_LEN])
{
    struct poly1305_ctx mac;
    uint8_t lens[16];

    poly1305_portable_init(&mac, pk);
    if (ad_len) {
        poly1305_portable_update(&mac, ad, ad_len);
        poly1305_portable_update(&mac, zero_pad, (16 - ad_len % 16) % 16);
    }
    if (ct_len) {
        poly1305_portable_update(&mac, ct, ct_len);
        poly1305_portable_update(&mac, zero_pad, (16 - ct_len % 16) % 16);
    }
    store64_le(lens, (uint64_t)ad_len);
    store64_le(lens + 8, (uint64_t)ct_len);
    poly1305_portable_update(&mac, lens, sizeof(lens));
    poly1305_portable_final(&mac, tag);  /* wipes mac */
}

/* dst: len + 16 bytes; dst may equal src. */
static void portable_seal(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad,
                          size_t ad_len, const uint8_t nonce[AEAD_NONCE_LEN],
                          const uint8_t key[AEAD_KEY_LEN])
{
    uint8_t pk[POLY1305_KEY_LEN];

    poly_key(pk, nonce, key);
    chacha20_portable_xor(dst, src, len, key, nonce, 1);
    compute_tag(dst + len, ad, ad_len, dst, len, pk);
    wb_memzero(pk, sizeof(pk));
}

/* src: len bytes of ciphertext + tag; dst: len - 16 bytes; dst may equal src. */
static int portable_open(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad,
                         size_t ad_len, const uint8_t nonce[AEAD_NONCE_LEN],
                         const uint8_t key[AEAD_KEY_LEN])
{
    uint8_t pk[POLY1305_KEY_LEN], tag[AEAD_TAG_LEN];
    size_t ct_len;
    int bad;

    if (len < AEAD_TAG_LEN)
        return -EBADMSG;
    ct_len = len - AEAD_TAG_LEN;
    poly_key(pk, nonce, key);
    compute_tag(tag, ad, ad_len, src, ct_len, pk);
    bad = wb_memcmp_ct(tag, src + ct_len, AEAD_TAG_LEN);
    ct_public(&bad, sizeof(bad));   /* the verdict: accepted or dropped */
    wb_memzero(tag, sizeof(tag));
    wb_memzero(pk, sizeof(pk));
    if (bad)
        return -EBADMSG;
    chacha20_portable_xor(dst, src, ct_len, key, nonce, 1);
    return 0;
}

static bool portable_supported(const struct cpu_features *cpu)
{
    (void)cpu;
    return true;
}

const struct aead_impl aead_portable_impl = {
    .name = "portable",
    .supported = portable_supported,
    .seal = portable_seal,
    .open = portable_open,
    .seal_batch = NULL,   /* the front door loops over seal/open */
    .open_batch = NULL,
};
