/* SPDX-License-Identifier: MIT */
/* byteorder.h - little-endian loads and stores for wire fields, byte by
 * byte so they are right on any host and at any alignment. */
#ifndef WB_PROTO_BYTEORDER_H
#define WB_PROTO_BYTEORDER_H

#include <stdint.h>

static inline uint32_t load_le32(const void *src)
{
    const uint8_t *p = src;

    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void store_le32(void *dst, uint32_t v)
{
    uint8_t *p = dst;

    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t load_le64(const void *src)
{
    const uint8_t *p = src;
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static inline void store_le64(void *dst, uint64_t v)
{
    uint8_t *p = dst;

    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

#endif
