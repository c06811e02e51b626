/* SPDX-License-Identifier: MIT */
/*
 * tai64n.c - the 12-byte handshake timestamp: big-endian TAI64 seconds
 * (TAI64_LABEL + Unix seconds) then big-endian nanoseconds rounded down to a
 * multiple of TAI64N_NSEC_GRANULARITY, and its strict ordering.
 */
#include "proto/tai64n.h"

#include <string.h>

static void store_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static void store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

void tai64n_from_realtime(uint8_t out[NOISE_TIMESTAMP_LEN], uint64_t unix_ns)
{
    uint64_t seconds = unix_ns / NSEC_PER_SEC;
    uint32_t nanos = (uint32_t)(unix_ns % NSEC_PER_SEC);

    nanos -= nanos % TAI64N_NSEC_GRANULARITY;
    store_be64(out, TAI64_LABEL + seconds);
    store_be32(out + 8, nanos);
}

bool tai64n_after(const uint8_t a[NOISE_TIMESTAMP_LEN], const uint8_t b[NOISE_TIMESTAMP_LEN])
{
    /* memcmp orders bytes as unsigned char: exactly a big-endian compare. */
    return memcmp(a, b, NOISE_TIMESTAMP_LEN) > 0;
}
