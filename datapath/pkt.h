/* SPDX-License-Identifier: MIT */
/*
 * pkt.h - a packet buffer with headroom and tailroom, so a plaintext IP
 * packet becomes a WireGuard data message in place (the 16-byte header goes
 * into the headroom, padding and the 16-byte tag into the tailroom) and a
 * data message becomes plaintext in place (the header is pulled off).
 *
 * Today buffers come from pkt_alloc (malloc); the multi-core datapath will
 * hand them out from per-worker pools without changing this layout.
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
#define PKT_BUF_SIZE (PKT_HEADROOM + PKT_DATA_MAX + PKT_TAILROOM)

struct pkt {
    uint8_t *data;                 /* first byte of the packet, inside buf */
    uint32_t len;
    uint32_t queue;                /* I/O queue it came from / goes to */
    struct wb_endpoint remote;     /* UDP: the peer's address and port */
    struct wb_endpoint local;      /* UDP: our address it arrived on / leaves from (family 0: any) */
    uint32_t local_ifindex;        /* with local (IPv6 link-local, pktinfo) */
    uint8_t buf[PKT_BUF_SIZE];
};

/* A fresh buffer with data at buf + PKT_HEADROOM and len 0; NULL on ENOMEM. */
struct pkt *pkt_alloc(void);
void pkt_free(struct pkt *p);
/* Reset data/len for reuse as a receive buffer. */
void pkt_reset(struct pkt *p);
/* Room before data / after data + len. */
static inline size_t pkt_headroom(const struct pkt *p) { return (size_t)(p->data - p->buf); }
static inline size_t pkt_tailroom(const struct pkt *p)
{
    return PKT_BUF_SIZE - pkt_headroom(p) - p->len;
}

#endif
