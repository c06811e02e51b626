/* SPDX-License-Identifier: MIT */
/*
 * aead.h - ChaCha20-Poly1305 dispatch: the front door the protocol uses.
 *
 * One table of implementations; aead_dispatch_init() picks the best one the
 * CPU supports (cpu.h) or the one named by WIREBOLT_CRYPTO_IMPL. The portable
 * C implementation is always present and is the reference. A SIMD kernel
 * (asm/) plugs in by adding an entry to the table in aead.c.
 *
 * Nonces here are the 12-byte RFC 8439 nonce; the WireGuard transport nonce
 * is 4 zero bytes || LE64(counter) (aead_nonce_from_counter).
 */
#ifndef WB_CRYPTO_AEAD_H
#define WB_CRYPTO_AEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu.h"

#define AEAD_KEY_LEN 32
#define AEAD_NONCE_LEN 12
#define AEAD_TAG_LEN 16

/* One packet of a batch. Transport data has no associated data. */
struct aead_op {
    uint8_t *dst;           /* seal: len + 16 bytes; open: len - 16 bytes; may equal src */
    const uint8_t *src;
    size_t len;             /* seal: plaintext length; open: ciphertext + tag length */
    uint64_t counter;       /* WireGuard nonce counter */
    const uint8_t *key;     /* 32 bytes */
    int result;             /* open: 0 or -EBADMSG; seal: 0 */
};

struct aead_impl {
    const char *name;
    bool (*supported)(const struct cpu_features *cpu);
    /* open must verify the tag before writing any plaintext and return
     * -EBADMSG (dst untouched) on mismatch. */
    void (*seal)(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad, size_t ad_len,
                 const uint8_t nonce[AEAD_NONCE_LEN], const uint8_t key[AEAD_KEY_LEN]);
    int (*open)(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad, size_t ad_len,
                const uint8_t nonce[AEAD_NONCE_LEN], const uint8_t key[AEAD_KEY_LEN]);
    /* Optional (NULL: the front door loops over seal/open). */
    void (*seal_batch)(struct aead_op *ops, size_t n);
    void (*open_batch)(struct aead_op *ops, size_t n);
};

/* Pick the implementation (env WIREBOLT_CRYPTO_IMPL, else the best supported).
 * Called from wb_init(); returns 0, or -ENOENT/-ENOTSUP if the env names an
 * unknown or unsupported implementation (then the portable one is used). */
int aead_dispatch_init(void);

/* Table access for tests and benchmarks: the i-th implementation or NULL. */
const struct aead_impl *aead_impl_at(size_t i);
const struct aead_impl *aead_impl_find(const char *name);
/* The active implementation. Set once at start-up; readers need no lock. */
extern const struct aead_impl *aead_active;
int aead_impl_set(const struct aead_impl *impl);   /* -ENOTSUP if unsupported */

static inline void aead_nonce_from_counter(uint8_t nonce[AEAD_NONCE_LEN], uint64_t counter)
{
    nonce[0] = nonce[1] = nonce[2] = nonce[3] = 0;
    for (int i = 0; i < 8; i++)
        nonce[4 + i] = (uint8_t)(counter >> (8 * i));
}

/* Front door: WireGuard-nonce seal/open through the active implementation. */
void aead_seal(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad, size_t ad_len,
               uint64_t counter, const uint8_t key[AEAD_KEY_LEN]);
int aead_open(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad, size_t ad_len,
              uint64_t counter, const uint8_t key[AEAD_KEY_LEN]);
void aead_seal_batch(struct aead_op *ops, size_t n);
void aead_open_batch(struct aead_op *ops, size_t n);

/* The portable implementation's entry (aead_portable.c), used by tests. */
extern const struct aead_impl aead_portable_impl;

#endif
