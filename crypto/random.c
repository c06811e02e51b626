/* SPDX-License-Identifier: MIT */
/* random.c - randomness, wiping and constant-time comparison, all libsodium's. */
#include "random.h"

#include <sodium.h>

void wb_random_bytes(void *buf, size_t len)
{
    randombytes_buf(buf, len);
}

uint32_t wb_random_u32(void)
{
    return randombytes_random();
}

uint32_t wb_random_uniform(uint32_t bound)
{
    return randombytes_uniform(bound);
}

void wb_memzero(void *p, size_t len)
{
    sodium_memzero(p, len);
}

/* sodium_memcmp already returns exactly 0 or -1; passing it through keeps
 * the comparison free of a branch on secret data. */
int wb_memcmp_ct(const void *a, const void *b, size_t len)
{
    return sodium_memcmp(a, b, len);
}
