/* SPDX-License-Identifier: MIT */
/*
 * keys.c - library start-up (wb_init, wb_version) and the public key
 * functions: generation, public-key derivation, base64 and hex encodings
 * (libsodium's codecs; base64 is the standard alphabet with padding, the
 * form wg(8) prints).
 */
#include <errno.h>
#include <string.h>

#include <sodium.h>
#include <wirebolt.h>

#include "aead.h"
#include "random.h"
#include "x25519.h"

#if defined(_WIN32)
#include <windows.h>
#else
#include <pthread.h>
#endif

#define STR_(x) #x
#define STR(x) STR_(x)

static int init_status;

static void init_run(void)
{
    if (sodium_init() < 0) {
        init_status = -EIO;
        return;
    }
    /* A bad WIREBOLT_CRYPTO_IMPL leaves the portable AEAD active; report it. */
    init_status = aead_dispatch_init();
}

#if defined(_WIN32)
static INIT_ONCE init_once = INIT_ONCE_STATIC_INIT;

static BOOL CALLBACK init_once_cb(PINIT_ONCE o, PVOID param, PVOID *ctx)
{
    (void)o;
    (void)param;
    (void)ctx;
    init_run();
    return TRUE;
}

int wb_init(void)
{
    InitOnceExecuteOnce(&init_once, init_once_cb, NULL, NULL);
    return init_status;
}
#else
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* Any thread, any number of times: the first call does the work, concurrent
 * callers wait for it, every call returns its result. */
int wb_init(void)
{
    pthread_once(&init_once, init_run);
    return init_status;
}
#endif

const char *wb_version(void)
{
    return STR(WB_VERSION_MAJOR) "." STR(WB_VERSION_MINOR) "." STR(WB_VERSION_PATCH);
}

void wb_key_generate(uint8_t priv[WB_KEY_LEN])
{
    wb_init();
    x25519_generate(priv);
}

void wb_key_generate_preshared(uint8_t psk[WB_KEY_LEN])
{
    wb_init();
    wb_random_bytes(psk, WB_KEY_LEN);
}

int wb_key_public(uint8_t pub[WB_KEY_LEN], const uint8_t priv[WB_KEY_LEN])
{
    wb_init();
    return x25519_public(pub, priv);
}

void wb_key_to_base64(char out[WB_KEY_B64_LEN + 1], const uint8_t key[WB_KEY_LEN])
{
    sodium_bin2base64(out, WB_KEY_B64_LEN + 1, key, WB_KEY_LEN, sodium_base64_VARIANT_ORIGINAL);
}

/* Length of s, looking at no more than max + 1 bytes. */
static size_t bounded_len(const char *s, size_t max)
{
    size_t n = 0;

    while (n <= max && s[n])
        n++;
    return n;
}

int wb_key_from_base64(uint8_t key[WB_KEY_LEN], const char *b64)
{
    uint8_t tmp[WB_KEY_LEN + 1];
    size_t bin_len = 0;
    int ret = -EINVAL;

    if (!key || !b64 || bounded_len(b64, WB_KEY_B64_LEN) != WB_KEY_B64_LEN)
        return -EINVAL;
    if (sodium_base642bin(tmp, sizeof(tmp), b64, WB_KEY_B64_LEN, NULL, &bin_len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) == 0 &&
        bin_len == WB_KEY_LEN) {
        memcpy(key, tmp, WB_KEY_LEN);
        ret = 0;
    }
    wb_memzero(tmp, sizeof(tmp));
    return ret;
}

void wb_key_to_hex(char out[2 * WB_KEY_LEN + 1], const uint8_t key[WB_KEY_LEN])
{
    sodium_bin2hex(out, 2 * WB_KEY_LEN + 1, key, WB_KEY_LEN);
}

int wb_key_from_hex(uint8_t key[WB_KEY_LEN], const char *hex)
{
    uint8_t tmp[WB_KEY_LEN];
    size_t bin_len = 0;
    const char *end = NULL;
    int ret = -EINVAL;

    if (!key || !hex || bounded_len(hex, 2 * WB_KEY_LEN) != 2 * WB_KEY_LEN)
        return -EINVAL;
    if (sodium_hex2bin(tmp, sizeof(tmp), hex, 2 * WB_KEY_LEN, NULL, &bin_len, &end) == 0 &&
        bin_len == WB_KEY_LEN && end == hex + 2 * WB_KEY_LEN) {
        memcpy(key, tmp, WB_KEY_LEN);
        ret = 0;
    }
    wb_memzero(tmp, sizeof(tmp));
    return ret;
}
