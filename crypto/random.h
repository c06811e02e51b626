/* SPDX-License-Identifier: MIT */
/* random.h - randomness and wiping, both libsodium's. */
#ifndef WB_CRYPTO_RANDOM_H
#define WB_CRYPTO_RANDOM_H

#include <stddef.h>
#include <stdint.h>

void wb_random_bytes(void *buf, size_t len);
uint32_t wb_random_u32(void);
/* Uniform in [0, bound). */
uint32_t wb_random_uniform(uint32_t bound);
/* Wipe that the compiler cannot elide. */
void wb_memzero(void *p, size_t len);
/* Constant-time comparison: 0 if equal. */
int wb_memcmp_ct(const void *a, const void *b, size_t len);

#endif
