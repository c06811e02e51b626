/* SPDX-License-Identifier: MIT */
/*
 * tun_offload.h - the two offload stages of a TUN opened with IFF_VNET_HDR:
 *
 *   split (tun_gso.c): a read may return a GSO super-packet (TCP TSO or UDP
 *   USO, up to 64 KiB) behind a virtio_net_hdr; it is cut into the
 *   segments the kernel would have sent, each a complete IP packet with its
 *   IPv4 header checksum, IPv4 ID, TCP sequence number, TCP flags, UDP
 *   length and transport checksum filled in. A packet that only asks for
 *   its checksum (NEEDS_CSUM, no GSO) gets it completed.
 *
 *   coalesce (tun_gro.c): before a write, same-flow TCP segments in order
 *   (same addresses, ports, ack, IP and TCP option bytes; equal sizes but
 *   the last; ACK or ACK|PSH only; checksums verified), and same-flow UDP
 *   datagrams likewise, become one super-packet: the first packet's
 *   headers, every payload after it, and a virtio_net_hdr asking the
 *   kernel to segment it (GSO_TCPV4/6, GSO_UDP_L4) with the pseudo-header
 *   sum in the checksum field. The payloads are not copied:
 *   the writer gathers them with writev.
 *
 * The virtio_net_hdr is the Linux TUN ABI (10 bytes, native byte order);
 * it is declared here so these stages and their tests need no kernel
 * header. Pure packet code, no I/O: any thread, on packets it owns.
 */
#ifndef WB_DATAPATH_TUN_OFFLOAD_H
#define WB_DATAPATH_TUN_OFFLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "datapath/pkt.h"

struct vnet_hdr {
    uint8_t flags;
    uint8_t gso_type;
    uint16_t hdr_len;
    uint16_t gso_size;
    uint16_t csum_start;
    uint16_t csum_offset;
};

#define VNET_HDR_LEN 10
#define VNET_F_NEEDS_CSUM 1
#define VNET_F_DATA_VALID 2
#define VNET_GSO_NONE 0
#define VNET_GSO_TCPV4 1
#define VNET_GSO_TCPV6 4
#define VNET_GSO_UDP_L4 5
#define VNET_GSO_ECN 0x80

#define TUN_GRO_MAX_SEGS 64        /* segments per coalesced write */

/* ------------------------------------------------------------------ split */

/* Where a split is: a super-packet stays in its buffer while its segments
 * go out over as many bursts as they need. */
struct gso_cursor {
    const uint8_t *pkt;            /* the super-packet (IP header first) */
    uint32_t len;
    uint32_t off;                  /* payload bytes already emitted */
    uint16_t hdr_len;              /* IP + transport header */
    uint16_t l4_off;               /* transport header offset */
    uint16_t gso_size;             /* payload per segment; 0: emit as is */
    uint16_t seg;                  /* segments emitted */
    uint8_t family;                /* 4 or 6 */
    uint8_t proto;                 /* 6 TCP, 17 UDP */
    bool csum;                     /* complete the checksum at csum_at */
    uint16_t csum_start, csum_offset;
    bool active;
};

/* Check h and pkt[0..len) and set c up. Returns 0, or -EINVAL for a
 * header the packet does not match (count a drop). */
int tun_gso_begin(struct gso_cursor *c, const struct vnet_hdr *h, const uint8_t *pkt, uint32_t len);
/* Write the next segments into out[0..n) (each from pkt_reset: data at the
 * headroom). Returns how many; c->active turns false after the last. It
 * stops at a buffer too small for the next one (0 with c->active: that
 * packet cannot be delivered into such buffers). */
unsigned tun_gso_next(struct gso_cursor *c, struct pkt **out, unsigned n);

/* --------------------------------------------------------------- coalesce */

/* One write: pkts[head] with the payloads of the chain next[head], ... */
struct gro_group {
    uint16_t head, last;
    uint16_t n;                    /* packets in the group */
    uint16_t gso_size;             /* payload of every member but the last */
    uint32_t next_seq;
    uint32_t ip_len;               /* IP length of the whole */
    uint8_t l4_off, hdr_len;       /* IP header, IP + TCP header */
    bool closed;                   /* a short or PSH segment ended it */
    uint8_t proto;                 /* IPPROTO_TCP/UDP; 0: not a candidate */
};

#define TUN_GRO_TCP 1              /* kinds to coalesce: TCP (TSO on the TUN) */
#define TUN_GRO_UDP 2              /* UDP (USO on the TUN) */

/* Plan pkts[0..n) (n <= 65535) into groups of the kinds asked for
 * (TUN_GRO_*), in the order of their first packet; next[i] is the packet
 * after i in its group (0xffff: none). Returns the number of groups
 * (<= n). Reads packets only. */
unsigned tun_gro_plan(struct pkt **pkts, unsigned n, unsigned kinds, struct gro_group *groups,
                      uint16_t *next);
/* Make pkts[g->head] the header of the group (IP length, IPv4 header
 * checksum, PSH, the pseudo-header sum for the kernel) and fill *h. For a
 * group of one, h is all zero and the packet is left alone. */
void tun_gro_finish(struct pkt **pkts, const struct gro_group *g, struct vnet_hdr *h);
/* Put the head back as it was before tun_gro_finish (its own lengths, a
 * full checksum), so the group can be written packet by packet. */
void tun_gro_undo(struct pkt **pkts, const struct gro_group *g);

#endif
