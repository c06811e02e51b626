/* SPDX-License-Identifier: MIT */
/*
 * pkt.h - a packet buffer with headroom and tailroom, so a plaintext IP
 * packet becomes a WireGuard data message in place (the 16-byte header goes
 * into the headroom, padding and the 16-byte tag into the tailroom) and a
 * data message becomes plaintext in place (the header is pulled off).
 *
 * The device's buffers come from a pool with per-worker caches
 * (datapath/pool.h, sized from the MTU); pkt_alloc (malloc) serves tests
 * and tools.
 * Concurrency: a pkt has one owner at a time; ownership moves with it
 * through rings and bursts.
 */
#ifndef WB_DATAPATH_PKT_H
#define WB_DATAPATH_PKT_H

#include <stddef.h>
#include <stdint.h>

#include "include/wirebolt.h"

#define PKT_HEADROOM 64            /* >= data header 16 + virtio_net_hdr 12, aligned */
#define PKT_TAILROOM 64            /* >= padding 15 + tag 16 */
#define PKT_DATA_MAX 65535         /* largest IP packet / UDP payload */

/* The packet lives in buf[0..cap): PKT_HEADROOM, then room for the packet
 * itself, then PKT_TAILROOM. pkt_alloc gives the full PKT_DATA_MAX of
 * room; the device's pools give what its MTU needs (device.h), and a
 * backend that meets a larger packet drops and counts it. */
struct pkt {
    uint8_t *data;                 /* first byte of the packet, inside buf */
    uint32_t len;
    uint32_t queue;                /* I/O queue it came from / goes to */
    struct wb_endpoint remote;     /* UDP: the peer's address and port */
    struct wb_endpoint local;      /* UDP: our address it arrived on / leaves from (family 0: any) */
    uint32_t local_ifindex;        /* with local (IPv6 link-local, pktinfo) */
    uint32_t cap;                  /* bytes in buf */
    uint8_t buf[];
};

/* Bytes a pkt with `room` bytes of packet room takes (for pools). */
static inline size_t pkt_size(size_t room)
{
    return sizeof(struct pkt) + PKT_HEADROOM + room + PKT_TAILROOM;
}

/* A fresh heap buffer with PKT_DATA_MAX of room, data at buf +
 * PKT_HEADROOM and len 0; NULL on ENOMEM. */
struct pkt *pkt_alloc(void);
void pkt_free(struct pkt *p);
/* Make raw memory of pkt_size(room) bytes a packet buffer. */
struct pkt *pkt_init(void *mem, size_t room);
/* Reset data/len for reuse as a receive buffer. */
void pkt_reset(struct pkt *p);
/* Room before data / after data + len / for a received packet (up to the
 * tailroom reserve, at most PKT_DATA_MAX). */
static inline size_t pkt_headroom(const struct pkt *p) { return (size_t)(p->data - p->buf); }
static inline size_t pkt_tailroom(const struct pkt *p)
{
    return p->cap - pkt_headroom(p) - p->len;
}
static inline size_t pkt_room(const struct pkt *p)
{
    size_t head = pkt_headroom(p);
    size_t room = head + PKT_TAILROOM < p->cap ? p->cap - head - PKT_TAILROOM : 0;

    return room < PKT_DATA_MAX ? room : PKT_DATA_MAX;
}

#endif
