/* SPDX-License-Identifier: MIT */
/*
 * tun_gso.c - split a TUN read's GSO super-packet into segments, and
 * complete checksums the kernel left partial (tun_offload.h).
 *
 * The transport header offset is csum_start, as the kernel sets it for
 * every GSO packet (so IPv6 extension headers need no parsing); hdr_len
 * from the kernel is only a hint and is recomputed from the headers.
 */
#include <errno.h>
#include <string.h>

#include "datapath/csum.h"
#include "datapath/tun_offload.h"
#include "proto/messages.h"

#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_PSH 0x08

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

/* A partial checksum only: csum_start/csum_offset inside the packet. */
static int begin_csum_only(struct gso_cursor *c, const struct vnet_hdr *h)
{
    if (h->flags & VNET_F_NEEDS_CSUM) {
        if ((uint32_t)h->csum_start + h->csum_offset + 2 > c->len)
            return -EINVAL;
        c->csum = true;
        c->csum_start = h->csum_start;
        c->csum_offset = h->csum_offset;
    }
    return 0;
}

int tun_gso_begin(struct gso_cursor *c, const struct vnet_hdr *h, const uint8_t *pkt, uint32_t len)
{
    uint8_t type = h->gso_type & (uint8_t)~VNET_GSO_ECN;
    uint32_t l4_hdr;

    memset(c, 0, sizeof(*c));
    c->pkt = pkt;
    c->len = len;
    if (len < 1)
        return -EINVAL;
    c->family = pkt[0] >> 4;
    if (type == VNET_GSO_NONE) {
        if (begin_csum_only(c, h) < 0)
            return -EINVAL;
        c->active = true;
        return 0;
    }
    if ((type == VNET_GSO_TCPV4 && c->family != 4) || (type == VNET_GSO_TCPV6 && c->family != 6) ||
        (type != VNET_GSO_TCPV4 && type != VNET_GSO_TCPV6 && type != VNET_GSO_UDP_L4) ||
        (c->family != 4 && c->family != 6) || h->gso_size == 0)
        return -EINVAL;
    c->proto = type == VNET_GSO_UDP_L4 ? IPPROTO_UDP : IPPROTO_TCP;
    c->l4_off = h->csum_start;
    if (c->family == 4 ? (len < 20 || c->l4_off < 20 || (pkt[0] & 0xf) * 4u != c->l4_off ||
                          pkt[9] != c->proto)
                       : (len < 40 || c->l4_off < 40))
        return -EINVAL;
    if (c->proto == IPPROTO_TCP) {
        if ((uint32_t)c->l4_off + 20 > len)
            return -EINVAL;
        l4_hdr = (uint32_t)(pkt[c->l4_off + 12] >> 4) * 4;
        if (l4_hdr < 20)
            return -EINVAL;
    } else {
        l4_hdr = 8;
    }
    if (c->l4_off + l4_hdr > len)
        return -EINVAL;
    if (begin_csum_only(c, h) < 0)
        return -EINVAL;
    c->hdr_len = (uint16_t)(c->l4_off + l4_hdr);
    c->gso_size = h->gso_size;
    c->active = true;
    return 0;
}

/* The transport checksum of a complete segment at p (IP header first). */
static void l4_checksum(uint8_t *p, const struct gso_cursor *c, uint32_t seg_len)
{
    uint32_t l4_len = seg_len - c->l4_off;
    size_t alen = c->family == 4 ? 4 : 16;
    const uint8_t *src = p + (c->family == 4 ? 12 : 8);
    uint8_t *field = p + c->l4_off + (c->proto == IPPROTO_TCP ? 16 : 6);
    uint64_t sum;

    memset(field, 0, 2);
    sum = csum_add(csum_pseudo(src, src + alen, alen, c->proto, l4_len), p + c->l4_off, l4_len);
    csum_store(field, sum);
    if (c->proto == IPPROTO_UDP && field[0] == 0 && field[1] == 0)
        field[0] = field[1] = 0xff;      /* 0 means "no checksum" in UDP */
}

static void ipv4_header_checksum(uint8_t *p)
{
    size_t ihl = (size_t)(p[0] & 0xf) * 4;

    p[10] = p[11] = 0;
    csum_store(p + 10, csum_add(0, p, ihl));
}

/* Cut segment number c->seg into out. */
static void emit_segment(struct gso_cursor *c, struct pkt *out)
{
    uint32_t payload = c->len - c->hdr_len - c->off;
    uint32_t seg_payload = payload < c->gso_size ? payload : c->gso_size;
    uint32_t seg_len = c->hdr_len + seg_payload;
    bool last = seg_payload == payload;
    uint8_t *p = out->data;

    memcpy(p, c->pkt, c->hdr_len);
    memcpy(p + c->hdr_len, c->pkt + c->hdr_len + c->off, seg_payload);
    if (c->family == 4) {
        put16(p + 2, (uint16_t)seg_len);
        put16(p + 4, (uint16_t)(get16(c->pkt + 4) + c->seg));
        ipv4_header_checksum(p);
    } else {
        put16(p + 4, (uint16_t)(seg_len - 40));
    }
    if (c->proto == IPPROTO_TCP) {
        put32(p + c->l4_off + 4, get32(c->pkt + c->l4_off + 4) + c->off);
        if (!last)
            p[c->l4_off + 13] &= (uint8_t)~(TCP_FLAG_FIN | TCP_FLAG_PSH);
    } else {
        put16(p + c->l4_off + 4, (uint16_t)(seg_len - c->l4_off));
    }
    l4_checksum(p, c, seg_len);
    out->len = seg_len;
    c->off += seg_payload;
    c->seg++;
    if (last)
        c->active = false;
}

/* A packet that is not split: copied, its partial checksum completed. */
static void emit_whole(struct gso_cursor *c, struct pkt *out)
{
    memcpy(out->data, c->pkt, c->len);
    out->len = c->len;
    if (c->csum) {
        uint8_t *field = out->data + c->csum_start + c->csum_offset;

        /* The field holds the pseudo-header sum: the sum over the rest
         * completes it. */
        csum_store(field, csum_add(0, out->data + c->csum_start, c->len - c->csum_start));
    }
    c->active = false;
}

/* Bytes the next packet out of c needs. */
static uint32_t next_len(const struct gso_cursor *c)
{
    uint32_t payload = c->len - c->hdr_len - c->off;

    if (c->gso_size == 0 || c->len == c->hdr_len)
        return c->len;
    return c->hdr_len + (payload < c->gso_size ? payload : c->gso_size);
}

unsigned tun_gso_next(struct gso_cursor *c, struct pkt **out, unsigned n)
{
    unsigned i = 0;

    while (c->active && i < n && next_len(c) <= pkt_room(out[i])) {
        if (c->gso_size == 0 || c->len == c->hdr_len)
            emit_whole(c, out[i]);
        else
            emit_segment(c, out[i]);
        i++;
    }
    return i;
}
