/* SPDX-License-Identifier: MIT */
/*
 * xaead.c - XChaCha20-Poly1305 (24-byte nonce) for cookie replies, through
 * libsodium's crypto_aead_xchacha20poly1305_ietf_*.
 *
 * libsodium zeroes the output buffer when a tag does not verify; our
 * contract is "dst untouched", so open verifies first (a detached call with
 * no output buffer) and decrypts only after that succeeded. Cookie replies
 * carry 32 bytes, so the second MAC pass costs nothing that matters.
 */
#include "xaead.h"

#include <errno.h>

#include <sodium.h>

#define XAEAD_TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES

void xaead_seal(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad, size_t ad_len,
                const uint8_t nonce[XAEAD_NONCE_LEN], const uint8_t key[32])
{
    crypto_aead_xchacha20poly1305_ietf_encrypt(dst, NULL, src, len, ad, ad_len, NULL, nonce, key);
}

int xaead_open(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad, size_t ad_len,
               const uint8_t nonce[XAEAD_NONCE_LEN], const uint8_t key[32])
{
    size_t ct_len;

    if (len < XAEAD_TAG_LEN)
        return -EBADMSG;
    ct_len = len - XAEAD_TAG_LEN;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached(NULL, NULL, src, ct_len,
                                                            src + ct_len, ad, ad_len, nonce,
                                                            key) != 0)
        return -EBADMSG;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached(dst, NULL, src, ct_len,
                                                            src + ct_len, ad, ad_len, nonce,
                                                            key) != 0)
        return -EBADMSG;
    return 0;
}
