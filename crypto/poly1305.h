/* SPDX-License-Identifier: MIT */
/* poly1305.h - portable Poly1305 (RFC 8439), incremental. Wipes itself in final. */
#ifndef WB_CRYPTO_POLY1305_H
#define WB_CRYPTO_POLY1305_H

#include <stddef.h>
#include <stdint.h>

#define POLY1305_KEY_LEN 32
#define POLY1305_TAG_LEN 16

struct poly1305_ctx {
    uint64_t opaque[16];        /* limbs, key, pending block; layout private to poly1305.c */
};

void poly1305_portable_init(struct poly1305_ctx *ctx, const uint8_t key[POLY1305_KEY_LEN]);
void poly1305_portable_update(struct poly1305_ctx *ctx, const uint8_t *in, size_t len);
void poly1305_portable_final(struct poly1305_ctx *ctx, uint8_t tag[POLY1305_TAG_LEN]);

#endif
