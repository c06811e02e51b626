/* SPDX-License-Identifier: MIT */
/*
 * aead.c - ChaCha20-Poly1305 dispatch: the implementation table, the choice
 * made once at start-up (CPU features or WIREBOLT_CRYPTO_IMPL), the
 * WireGuard-nonce front door the protocol calls, and the public wb_aead_*
 * functions.
 *
 * Adding a SIMD kernel (see asm/README.md): define its struct aead_impl in
 * its own file, declare it in aead.h, and list it in `impls` below, best
 * first. The portable implementation stays last: it is always supported and
 * is the reference the others are tested against.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <wirebolt.h>

#include "aead.h"
#include "cpu.h"

#define AEAD_IMPL_ENV "WIREBOLT_CRYPTO_IMPL"

/* Best first: aead_dispatch_init() takes the first one the CPU supports.
 * Kernels from asm/ ("avx512", "avx2", "ssse3", "neon") go above portable. */
#if defined(WB_ASM_X86_64)
/* crypto/aead_x86_64.c, over the kernels in asm/. */
extern const struct aead_impl aead_avx512ifma_impl, aead_avx512_impl, aead_avx2_impl,
    aead_ssse3_impl;
#endif

#if defined(WB_ASM_AARCH64)
/* crypto/aead_aarch64.c, over asm/chacha20_neon.S and asm/poly1305_neon.S. */
extern const struct aead_impl aead_neon_impl;
#endif

static const struct aead_impl *const impls[] = {
#if defined(WB_ASM_X86_64)
    &aead_avx512ifma_impl,
    &aead_avx512_impl,
    &aead_avx2_impl,
    &aead_ssse3_impl,
#endif
#if defined(WB_ASM_AARCH64)
    &aead_neon_impl,
#endif
    &aead_portable_impl,
};

#define N_IMPLS (sizeof(impls) / sizeof(impls[0]))

/* Written at start-up (aead_dispatch_init, aead_impl_set) before worker
 * threads run; read without locks afterwards. */
const struct aead_impl *aead_active = &aead_portable_impl;

const struct aead_impl *aead_impl_at(size_t i)
{
    return i < N_IMPLS ? impls[i] : NULL;
}

const struct aead_impl *aead_impl_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < N_IMPLS; i++)
        if (strcmp(impls[i]->name, name) == 0)
            return impls[i];
    return NULL;
}

/* Start-up only: not safe against concurrent AEAD calls. */
int aead_impl_set(const struct aead_impl *impl)
{
    if (!impl)
        return -EINVAL;
    if (!impl->supported(cpu_features_get()))
        return -ENOTSUP;
    aead_active = impl;
    return 0;
}

#if !defined(NDEBUG)
/* RFC 8439 §2.8.2: key 80..9f, the "sunscreen" plaintext, its ciphertext+tag. */
static const uint8_t st_nonce[AEAD_NONCE_LEN] = { 7, 0, 0, 0, 0x40, 0x41, 0x42, 0x43,
                                                  0x44, 0x45, 0x46, 0x47 };
static const uint8_t st_ad[] = { 0x50, 0x51, 0x52, 0x53, 0xc0, 0xc1,
                                 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7 };
static const char st_plain[] = "Ladies and Gentlemen of the class of '99: If I could offer "
                               "you only one tip for the future, sunscreen would be it.";
#define ST_LEN (sizeof(st_plain) - 1)
static const uint8_t st_sealed[ST_LEN + AEAD_TAG_LEN] = {
    0xd3, 0x1a, 0x8d, 0x34, 0x64, 0x8e, 0x60, 0xdb, 0x7b, 0x86, 0xaf, 0xbc, 0x53, 0xef, 0x7e,
    0xc2, 0xa4, 0xad, 0xed, 0x51, 0x29, 0x6e, 0x08, 0xfe, 0xa9, 0xe2, 0xb5, 0xa7, 0x36, 0xee,
    0x62, 0xd6, 0x3d, 0xbe, 0xa4, 0x5e, 0x8c, 0xa9, 0x67, 0x12, 0x82, 0xfa, 0xfb, 0x69, 0xda,
    0x92, 0x72, 0x8b, 0x1a, 0x71, 0xde, 0x0a, 0x9e, 0x06, 0x0b, 0x29, 0x05, 0xd6, 0xa5, 0xb6,
    0x7e, 0xcd, 0x3b, 0x36, 0x92, 0xdd, 0xbd, 0x7f, 0x2d, 0x77, 0x8b, 0x8c, 0x98, 0x03, 0xae,
    0xe3, 0x28, 0x09, 0x1b, 0x58, 0xfa, 0xb3, 0x24, 0xe4, 0xfa, 0xd6, 0x75, 0x94, 0x55, 0x85,
    0x80, 0x8b, 0x48, 0x31, 0xd7, 0xbc, 0x3f, 0xf4, 0xde, 0xf0, 0x8e, 0x4b, 0x7a, 0x9d, 0xe5,
    0x76, 0xd2, 0x65, 0x86, 0xce, 0xc6, 0x4b, 0x61, 0x16,
    /* tag */
    0x1a, 0xe1, 0x0b, 0x59, 0x4f, 0x09, 0xe2, 0x6a, 0x7e, 0x90, 0x2e, 0xcb, 0xd0, 0x60, 0x06,
    0x91,
};

/* Debug builds: seal must match, open must return the plaintext, a flipped
 * tag bit must fail and leave dst alone. One vector: microseconds. */
static bool self_test(const struct aead_impl *impl)
{
    uint8_t key[AEAD_KEY_LEN], buf[ST_LEN + AEAD_TAG_LEN], out[ST_LEN];
    bool ok;

    for (size_t i = 0; i < AEAD_KEY_LEN; i++)
        key[i] = (uint8_t)(0x80 + i);
    impl->seal(buf, (const uint8_t *)st_plain, ST_LEN, st_ad, sizeof(st_ad), st_nonce, key);
    ok = memcmp(buf, st_sealed, sizeof(buf)) == 0;
    ok = ok && impl->open(out, st_sealed, sizeof(st_sealed), st_ad, sizeof(st_ad), st_nonce,
                          key) == 0 && memcmp(out, st_plain, ST_LEN) == 0;
    memcpy(buf, st_sealed, sizeof(buf));
    buf[ST_LEN + 5] ^= 0x04;
    memset(out, 0xa5, sizeof(out));
    ok = ok && impl->open(out, buf, sizeof(buf), st_ad, sizeof(st_ad), st_nonce, key) ==
                   -EBADMSG;
    for (size_t i = 0; i < sizeof(out); i++)
        ok = ok && out[i] == 0xa5;
    return ok;
}
#else
static bool self_test(const struct aead_impl *impl)
{
    (void)impl;
    return true;
}
#endif

/* Start-up only (wb_init). On a bad WIREBOLT_CRYPTO_IMPL the portable
 * implementation is left active and the error is returned. Debug builds
 * self-test every supported implementation first: one that fails is passed
 * over (the next best is used) and -EIO is returned so wb_init reports it. */
int aead_dispatch_init(void)
{
    const struct cpu_features *cpu = cpu_features_get();
    const char *want = getenv(AEAD_IMPL_ENV);
    const struct aead_impl *best = NULL, *impl;
    bool failed = false;

    for (size_t i = 0; i < N_IMPLS; i++) {
        if (!impls[i]->supported(cpu))
            continue;
        if (!self_test(impls[i]))
            failed = true;
        else if (!best)
            best = impls[i];
    }
    aead_active = best ? best : &aead_portable_impl;
    if (want && *want) {
        impl = aead_impl_find(want);
        if (!impl || !impl->supported(cpu)) {
            aead_active = &aead_portable_impl;
            return impl ? -ENOTSUP : -ENOENT;
        }
        if (!self_test(impl))
            return -EIO;    /* the best passing one stays active */
        aead_active = impl;
    }
    return failed ? -EIO : 0;
}

void aead_seal(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad, size_t ad_len,
               uint64_t counter, const uint8_t key[AEAD_KEY_LEN])
{
    uint8_t nonce[AEAD_NONCE_LEN];

    aead_nonce_from_counter(nonce, counter);
    aead_active->seal(dst, src, len, ad, ad_len, nonce, key);
}

int aead_open(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad, size_t ad_len,
              uint64_t counter, const uint8_t key[AEAD_KEY_LEN])
{
    uint8_t nonce[AEAD_NONCE_LEN];

    aead_nonce_from_counter(nonce, counter);
    return aead_active->open(dst, src, len, ad, ad_len, nonce, key);
}

/* Batch: no associated data (transport packets). Each op's result is set. */
void aead_seal_batch(struct aead_op *ops, size_t n)
{
    const struct aead_impl *impl = aead_active;

    if (impl->seal_batch) {
        impl->seal_batch(ops, n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t nonce[AEAD_NONCE_LEN];

        aead_nonce_from_counter(nonce, ops[i].counter);
        impl->seal(ops[i].dst, ops[i].src, ops[i].len, NULL, 0, nonce, ops[i].key);
        ops[i].result = 0;
    }
}

void aead_open_batch(struct aead_op *ops, size_t n)
{
    const struct aead_impl *impl = aead_active;

    if (impl->open_batch) {
        impl->open_batch(ops, n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t nonce[AEAD_NONCE_LEN];

        aead_nonce_from_counter(nonce, ops[i].counter);
        ops[i].result = impl->open(ops[i].dst, ops[i].src, ops[i].len, NULL, 0, nonce,
                                   ops[i].key);
    }
}

/* ------------------------------------------------------------ public API */

void wb_aead_seal(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad,
                  size_t ad_len, uint64_t counter, const uint8_t key[WB_KEY_LEN])
{
    wb_init();
    aead_seal(dst, src, len, ad, ad_len, counter, key);
}

int wb_aead_open(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad,
                 size_t ad_len, uint64_t counter, const uint8_t key[WB_KEY_LEN])
{
    wb_init();
    if (len < WB_AEAD_TAG_LEN)
        return -EBADMSG;
    return aead_open(dst, src, len, ad, ad_len, counter, key);
}

const char *wb_aead_impl_name(void)
{
    wb_init();
    return aead_active->name;
}

int wb_aead_impl_select(const char *name)
{
    const struct aead_impl *impl;

    wb_init();
    if (!name)
        return -EINVAL;
    impl = aead_impl_find(name);
    if (!impl)
        return -ENOENT;
    return aead_impl_set(impl);
}

const char *wb_aead_impl_at(size_t i, bool *supported)
{
    const struct aead_impl *impl = aead_impl_at(i);

    if (!impl)
        return NULL;
    if (supported)
        *supported = impl->supported(cpu_features_get());
    return impl->name;
}
