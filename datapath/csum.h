/* SPDX-License-Identifier: MIT */
/*
 * csum.h - the Internet checksum (RFC 1071) for the offload stages: GSO
 * split completes the checksums of the segments it cuts, GRO coalescing
 * verifies a segment's checksum before merging it and leaves the
 * pseudo-header sum for the kernel to finish.
 *
 * Sums are kept in memory order (RFC 1071 section 2(B): the sum is byte
 * order independent), 32 bits at a time in a 64-bit accumulator, so a
 * folded result is stored into a packet as it is (memcpy), with no swap.
 * Pseudo-header fields that are numbers (protocol, length) go in through
 * htons/htonl. A region must start at an even offset of the checksummed
 * data; only the last region may have an odd length.
 *
 * Pure functions; any thread.
 */
#ifndef WB_DATAPATH_CSUM_H
#define WB_DATAPATH_CSUM_H

#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Add buf[0..len) to sum. */
static inline uint64_t csum_add(uint64_t sum, const void *buf, size_t len)
{
    const uint8_t *p = buf;

    while (len >= 16) {
        uint64_t a, b;

        memcpy(&a, p, 8);
        memcpy(&b, p + 8, 8);
        sum += (a & 0xffffffffu) + (a >> 32) + (b & 0xffffffffu) + (b >> 32);
        p += 16;
        len -= 16;
    }
    while (len >= 4) {
        uint32_t v;

        memcpy(&v, p, 4);
        sum += v;
        p += 4;
        len -= 4;
    }
    if (len >= 2) {
        uint16_t v;

        memcpy(&v, p, 2);
        sum += v;
        p += 2;
        len -= 2;
    }
    if (len) {
        uint8_t last[2] = { p[0], 0 };
        uint16_t v;

        memcpy(&v, last, 2);
        sum += v;
    }
    return sum;
}

/* Fold to 16 bits (not inverted), in memory order. */
static inline uint16_t csum_fold(uint64_t sum)
{
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffu) + (sum >> 16);
    sum = (sum & 0xffffu) + (sum >> 16);
    return (uint16_t)sum;
}

/* The TCP/UDP pseudo-header of an IPv4 (addr_len 4) or IPv6 (16) packet
 * whose transport part is l4_len bytes long. */
static inline uint64_t csum_pseudo(const uint8_t *src, const uint8_t *dst, size_t addr_len,
                                   uint8_t proto, uint32_t l4_len)
{
    uint64_t sum = csum_add(0, src, addr_len);

    sum = csum_add(sum, dst, addr_len);
    return sum + htons(proto) + htonl(l4_len);
}

/* Store ~fold(sum) at p (unaligned). */
static inline void csum_store(uint8_t *p, uint64_t sum)
{
    uint16_t v = (uint16_t)~csum_fold(sum);

    memcpy(p, &v, 2);
}

#endif
