/* SPDX-License-Identifier: MIT */
/*
 * rivals.c - libsodium's, OpenSSL 3's and BoringSSL's ChaCha20-Poly1305
 * behind struct rival (rivals.h), for the benchmark to time.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "rivals.h"

#if defined(BENCH_HAVE_OPENSSL)
#include <openssl/crypto.h>
#include <openssl/evp.h>
#endif
#if !defined(_WIN32)
#include <dlfcn.h>
#endif

/* ------------------------------------------------------------ libsodium */

static uint8_t sodium_key[RIVAL_KEY_LEN];

static int sodium_seal(const struct rival *r, uint8_t *dst, const uint8_t *src, size_t len,
                       const uint8_t nonce[RIVAL_NONCE_LEN])
{
    return crypto_aead_chacha20poly1305_ietf_encrypt(dst, NULL, src, len, NULL, 0, NULL, nonce,
                                                     r->ctx);
}

static int sodium_open(const struct rival *r, uint8_t *dst, const uint8_t *src, size_t len,
                       const uint8_t nonce[RIVAL_NONCE_LEN])
{
    return crypto_aead_chacha20poly1305_ietf_decrypt(dst, NULL, NULL, src, len + RIVAL_TAG_LEN,
                                                     NULL, 0, nonce, r->ctx);
}

static void sodium_release(struct rival *r)
{
    sodium_memzero(sodium_key, sizeof(sodium_key));
    r->ctx = NULL;
}

static int sodium_load(struct rival *r, const uint8_t key[RIVAL_KEY_LEN], const char **why)
{
    memcpy(sodium_key, key, RIVAL_KEY_LEN);
    *r = (struct rival){ .name = "libsodium", .seal = sodium_seal, .open = sodium_open,
                         .ctx = sodium_key, .release = sodium_release };
    snprintf(r->about, sizeof(r->about), "libsodium %s (crypto_aead_chacha20poly1305_ietf_*)",
             sodium_version_string());
    return 0;
}

/* ------------------------------------------------------------ OpenSSL 3 */

#if defined(BENCH_HAVE_OPENSSL)
struct ossl {
    EVP_CIPHER *cipher;
    EVP_CIPHER_CTX *enc, *dec;   /* keyed once; each call sets the nonce */
};

static int ossl_seal(const struct rival *r, uint8_t *dst, const uint8_t *src, size_t len,
                     const uint8_t nonce[RIVAL_NONCE_LEN])
{
    EVP_CIPHER_CTX *c = ((struct ossl *)r->ctx)->enc;
    int n = 0, fin = 0;

    if (len > INT_MAX || EVP_EncryptInit_ex2(c, NULL, NULL, nonce, NULL) != 1 ||
        EVP_EncryptUpdate(c, dst, &n, src, (int)len) != 1 ||
        EVP_EncryptFinal_ex(c, dst + n, &fin) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, RIVAL_TAG_LEN, dst + len) != 1)
        return -1;
    return 0;
}

static int ossl_open(const struct rival *r, uint8_t *dst, const uint8_t *src, size_t len,
                     const uint8_t nonce[RIVAL_NONCE_LEN])
{
    EVP_CIPHER_CTX *c = ((struct ossl *)r->ctx)->dec;
    int n = 0, fin = 0;

    if (len > INT_MAX || EVP_DecryptInit_ex2(c, NULL, NULL, nonce, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, RIVAL_TAG_LEN, (void *)(src + len)) != 1 ||
        EVP_DecryptUpdate(c, dst, &n, src, (int)len) != 1 ||
        EVP_DecryptFinal_ex(c, dst + n, &fin) <= 0)
        return -1;
    return 0;
}

static void ossl_release(struct rival *r)
{
    struct ossl *o = r->ctx;

    if (!o)
        return;
    EVP_CIPHER_CTX_free(o->enc);   /* wipes the key schedule */
    EVP_CIPHER_CTX_free(o->dec);
    EVP_CIPHER_free(o->cipher);
    free(o);
    r->ctx = NULL;
}

static int ossl_load(struct rival *r, const uint8_t key[RIVAL_KEY_LEN], const char **why)
{
    struct ossl *o = calloc(1, sizeof(*o));

    *r = (struct rival){ .name = "openssl", .seal = ossl_seal, .open = ossl_open, .ctx = o,
                         .release = ossl_release };
    if (!o) {
        *why = "out of memory";
        return -1;
    }
    o->cipher = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
    o->enc = EVP_CIPHER_CTX_new();
    o->dec = EVP_CIPHER_CTX_new();
    if (!o->cipher || !o->enc || !o->dec ||
        EVP_EncryptInit_ex2(o->enc, o->cipher, key, NULL, NULL) != 1 ||
        EVP_DecryptInit_ex2(o->dec, o->cipher, key, NULL, NULL) != 1) {
        ossl_release(r);
        *why = "EVP_CIPHER_fetch/EVP_*Init_ex2 for ChaCha20-Poly1305 failed";
        return -1;
    }
    snprintf(r->about, sizeof(r->about), "%s (EVP_CIPHER ChaCha20-Poly1305, linked)",
             OpenSSL_version(OPENSSL_VERSION));
    return 0;
}
#else
static int ossl_load(struct rival *r, const uint8_t key[RIVAL_KEY_LEN], const char **why)
{
    *why = "not available: built without OpenSSL 3 (pkg-config libcrypto, Debian libssl-dev)";
    return -1;
}
#endif

/* ------------------------------------------------------------ BoringSSL */

#if !defined(_WIN32)
/* The few entry points used, as declared in BoringSSL's <openssl/aead.h>
 * and <openssl/crypto.h>; the structs stay opaque. */
typedef const void *(*bssl_aead_fn)(void);
typedef void *(*bssl_ctx_new_fn)(const void *aead, const uint8_t *key, size_t key_len,
                                 size_t tag_len);
typedef void (*bssl_ctx_free_fn)(void *ctx);
typedef int (*bssl_crypt_fn)(const void *ctx, uint8_t *out, size_t *out_len, size_t max_out_len,
                             const uint8_t *nonce, size_t nonce_len, const uint8_t *in,
                             size_t in_len, const uint8_t *ad, size_t ad_len);
typedef const char *(*bssl_version_fn)(int which);

struct bssl {
    void *so;
    void *ctx;                   /* EVP_AEAD_CTX for the key */
    bssl_crypt_fn seal, open;
    bssl_ctx_free_fn ctx_free;
};

static int bssl_seal(const struct rival *r, uint8_t *dst, const uint8_t *src, size_t len,
                     const uint8_t nonce[RIVAL_NONCE_LEN])
{
    const struct bssl *b = r->ctx;
    size_t out_len;

    return b->seal(b->ctx, dst, &out_len, len + RIVAL_TAG_LEN, nonce, RIVAL_NONCE_LEN, src, len,
                   NULL, 0) == 1 ? 0 : -1;
}

static int bssl_open(const struct rival *r, uint8_t *dst, const uint8_t *src, size_t len,
                     const uint8_t nonce[RIVAL_NONCE_LEN])
{
    const struct bssl *b = r->ctx;
    size_t out_len;

    return b->open(b->ctx, dst, &out_len, len, nonce, RIVAL_NONCE_LEN, src, len + RIVAL_TAG_LEN,
                   NULL, 0) == 1 ? 0 : -1;
}

static void bssl_release(struct rival *r)
{
    struct bssl *b = r->ctx;

    if (!b)
        return;
    if (b->ctx)
        b->ctx_free(b->ctx);   /* EVP_AEAD_CTX_free wipes the key */
    if (b->so)
        dlclose(b->so);
    free(b);
    r->ctx = NULL;
}

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/* dlopen the library on its own: RTLD_LOCAL keeps its symbols out of the
 * global scope, RTLD_DEEPBIND makes its own references bind to itself first,
 * so neither it nor the linked OpenSSL can pick up the other's EVP_*. */
static void *bssl_open_so(const char *path, char *why, size_t why_len)
{
#if defined(UNDER_ASAN) || !defined(RTLD_DEEPBIND)
    (void)path;
    snprintf(why, why_len, "not available: RTLD_DEEPBIND unusable in this build");
    return NULL;
#else
    void *so = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);

    if (!so)
        snprintf(why, why_len, "not available: %s (Debian android-libboringssl)", dlerror());
    return so;
#endif
}

static int bssl_resolve(struct bssl *b, const uint8_t key[RIVAL_KEY_LEN], char *about,
                        size_t about_len)
{
    bssl_aead_fn aead = (bssl_aead_fn)dlsym(b->so, "EVP_aead_chacha20_poly1305");
    bssl_ctx_new_fn ctx_new = (bssl_ctx_new_fn)dlsym(b->so, "EVP_AEAD_CTX_new");
    bssl_version_fn version = (bssl_version_fn)dlsym(b->so, "OpenSSL_version");

    b->ctx_free = (bssl_ctx_free_fn)dlsym(b->so, "EVP_AEAD_CTX_free");
    b->seal = (bssl_crypt_fn)dlsym(b->so, "EVP_AEAD_CTX_seal");
    b->open = (bssl_crypt_fn)dlsym(b->so, "EVP_AEAD_CTX_open");
    if (!aead || !ctx_new || !b->ctx_free || !b->seal || !b->open)
        return -1;
    b->ctx = ctx_new(aead(), key, RIVAL_KEY_LEN, RIVAL_TAG_LEN);
    if (!b->ctx)
        return -1;
    snprintf(about, about_len, "%s (EVP_AEAD chacha20_poly1305)", version ? version(0) : "?");
    return 0;
}

static int bssl_load(struct rival *r, const uint8_t key[RIVAL_KEY_LEN], const char *path,
                     char *why, size_t why_len)
{
    struct bssl *b = calloc(1, sizeof(*b));
    char about[96];

    *r = (struct rival){ .name = "boringssl", .seal = bssl_seal, .open = bssl_open, .ctx = b,
                         .release = bssl_release };
    if (!b) {
        snprintf(why, why_len, "out of memory");
        return -1;
    }
    b->so = bssl_open_so(path, why, why_len);
    if (!b->so || bssl_resolve(b, key, about, sizeof(about)) != 0) {
        if (b->so)
            snprintf(why, why_len, "not available: %s lacks BoringSSL's EVP_AEAD API", path);
        bssl_release(r);
        return -1;
    }
    snprintf(r->about, sizeof(r->about), "%s, dlopen %s", about, path);
    return 0;
}
#endif

/* ------------------------------------------------------------ the set */

size_t rivals_load(struct rival *r, const uint8_t key[RIVAL_KEY_LEN], const char *boringssl_path,
                   void (*absent)(const char *name, const char *why))
{
    const char *why = "";
    char bwhy[320];
    size_t n = 0;

    if (sodium_load(&r[n], key, &why) == 0)
        n++;
    if (ossl_load(&r[n], key, &why) == 0)
        n++;
    else
        absent("openssl", why);
#if defined(_WIN32)
    (void)boringssl_path;
    (void)bwhy;
    absent("boringssl", "not available: not built on Windows");
#else
#if defined(BENCH_BORINGSSL_SO)
    if (!boringssl_path)
        boringssl_path = BENCH_BORINGSSL_SO;
#endif
    if (!boringssl_path)
        absent("boringssl", "not available: no library path (--boringssl PATH)");
    else if (bssl_load(&r[n], key, boringssl_path, bwhy, sizeof(bwhy)) == 0)
        n++;
    else
        absent("boringssl", bwhy);
#endif
    return n;
}

void rivals_release(struct rival *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (r[i].release)
            r[i].release(&r[i]);
}
