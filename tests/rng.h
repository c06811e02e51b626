/* SPDX-License-Identifier: MIT */
/*
 * rng.h - deterministic test inputs: xorshift64*, one state per test
 * program. Define TEST_RNG_SEED before including it to pick the program's
 * sequence; rng() returns 64 bits, fill() writes bytes (the top 8 bits of
 * each rng()).
 */
#ifndef WB_TESTS_RNG_H
#define WB_TESTS_RNG_H

#include <stddef.h>
#include <stdint.h>

#ifndef TEST_RNG_SEED
#define TEST_RNG_SEED 0x9e3779b97f4a7c15ull
#endif

static uint64_t rng_state = TEST_RNG_SEED;

static inline uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

static inline void fill(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(rng() >> 56);
}

#endif
