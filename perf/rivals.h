/* SPDX-License-Identifier: MIT */
/*
 * rivals.h - the other libraries' ChaCha20-Poly1305 (RFC 8439, 12-byte
 * nonce, 16-byte tag, no associated data) behind one seal/open interface, so
 * the benchmark can time them next to wirebolt's.
 *
 *   libsodium  always (wirebolt links it anyway)
 *   openssl    OpenSSL 3's EVP interface, when the build found libcrypto
 *   boringssl  loaded at run time with dlopen(RTLD_LOCAL | RTLD_DEEPBIND), so
 *              its EVP_* symbols cannot collide with OpenSSL's
 *
 * The key is given once, as WireGuard keeps one key for a session: OpenSSL
 * and BoringSSL set up a context for it; only the nonce changes per call.
 * Single-threaded: a rival's context belongs to the benchmark's thread.
 */
#ifndef WB_PERF_RIVALS_H
#define WB_PERF_RIVALS_H

#include <stddef.h>
#include <stdint.h>

#define RIVAL_KEY_LEN 32
#define RIVAL_NONCE_LEN 12
#define RIVAL_TAG_LEN 16
#define RIVALS_MAX 3

struct rival {
    const char *name;        /* "libsodium", "openssl", "boringssl" */
    char about[160];         /* version and origin, for the report header */
    /* dst receives len bytes of ciphertext and the tag. Returns 0 or -1. */
    int (*seal)(const struct rival *r, uint8_t *dst, const uint8_t *src, size_t len,
                const uint8_t nonce[RIVAL_NONCE_LEN]);
    /* src holds len bytes of ciphertext and the tag; dst receives len bytes.
     * Returns 0, or -1 if the tag does not verify. */
    int (*open)(const struct rival *r, uint8_t *dst, const uint8_t *src, size_t len,
                const uint8_t nonce[RIVAL_NONCE_LEN]);
    void *ctx;               /* the library's state for the key */
    void (*release)(struct rival *r);
};

/* Set up every rival available for `key` into r[0..], at most RIVALS_MAX.
 * For each one that is not, calls absent(name, why). `boringssl_path` is the
 * BoringSSL libcrypto to load (NULL: the path found at configure time).
 * Returns the number set up. */
size_t rivals_load(struct rival *r, const uint8_t key[RIVAL_KEY_LEN], const char *boringssl_path,
                   void (*absent)(const char *name, const char *why));
void rivals_release(struct rival *r, size_t n);

#endif
