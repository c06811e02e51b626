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
extern const struct aead_impl aead_avx2_impl, aead_ssse3_impl;
#endif

#if defined(WB_ASM_AARCH64)
/* crypto/aead_aarch64.c, over asm/chacha20_neon.S and asm/poly1305_neon.S. */
extern const struct aead_impl aead_neon_impl;
#endif

static const struct aead_impl *const impls[] = {
#if defined(WB_ASM_X86_64)
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

/* Start-up only (wb_init). On a bad WIREBOLT_CRYPTO_IMPL the portable
 * implementation is left active and the error is returned. */
int aead_dispatch_init(void)
{
    const struct cpu_features *cpu = cpu_features_get();
    const char *want = getenv(AEAD_IMPL_ENV);

    if (want && *want) {
        const struct aead_impl *impl = aead_impl_find(want);

        aead_active = &aead_portable_impl;
        if (!impl)
            return -ENOENT;
        return aead_impl_set(impl);
    }
    for (size_t i = 0; i < N_IMPLS; i++) {
        if (impls[i]->supported(cpu)) {
            aead_active = impls[i];
            return 0;
        }
    }
    aead_active = &aead_portable_impl;
    return 0;
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
