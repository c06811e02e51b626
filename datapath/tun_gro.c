/* SPDX-License-Identifier: MIT */
/*
 * tun_gro.c - coalesce same-flow TCP segments for one TUN write
 * (tun_offload.h). The rules are those of the kernel's own GRO (and its
 * selftests): only in-order appends; every member as large as the first
 * but the last; PSH only on the last; identical IP fields that the
 * kernel's segmentation would copy (TOS/traffic class, flow label, TTL,
 * DF) and identical TCP option bytes and ack; no IPv4 options, fragments
 * or IPv6 extension headers. A member's checksum is verified before it is
 * merged, since the kernel recomputes the checksum of the whole and would
 * otherwise hide a corrupted segment.
 *
 * The search for a packet's group looks at the last GROUP_LOOKBACK groups,
 * newest first: enough for the few flows a burst interleaves, and it keeps
 * planning linear in the burst.
 */
#include <string.h>

#include "datapath/csum.h"
#include "datapath/tun_offload.h"

#define GROUP_LOOKBACK 8
#define NO_NEXT 0xffff
#define IP_MAX_LEN 65535
#define TCP_FLAG_PSH 0x08
#define TCP_FLAG_ACK 0x10

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A coalescing candidate of the kinds asked for: returns its IP header
 * length (20 or 40) with *l4_len (TCP header, or 8) and *proto set, or 0. */
static unsigned candidate(const struct pkt *p, unsigned kinds, unsigned *l4_len, uint8_t *proto)
{
    const uint8_t *d = p->data;
    unsigned ip_len, th;

    if (p->len >= 28 && d[0] == 0x45 && get16(d + 2) == p->len &&
        (get16(d + 6) & 0x3fff) == 0)                   /* no MF, no fragment offset */
        ip_len = 20, *proto = d[9];
    else if (p->len >= 48 && d[0] >> 4 == 6 && get16(d + 4) + 40u == p->len)
        ip_len = 40, *proto = d[6];
    else
        return 0;
    if (*proto == IPPROTO_UDP && (kinds & TUN_GRO_UDP)) {
        /* A zero IPv4 checksum means "none": nothing to verify or keep. */
        if (get16(d + ip_len + 4) != p->len - ip_len || p->len == ip_len + 8 ||
            (ip_len == 20 && get16(d + ip_len + 6) == 0))
            return 0;
        th = 8;
    } else if (*proto == IPPROTO_TCP && (kinds & TUN_GRO_TCP) && p->len >= ip_len + 20) {
        th = (unsigned)(d[ip_len + 12] >> 4) * 4;
        if (th < 20 || ip_len + th >= p->len)           /* no payload: nothing to merge */
            return 0;
        if (d[ip_len + 13] != TCP_FLAG_ACK && d[ip_len + 13] != (TCP_FLAG_ACK | TCP_FLAG_PSH))
            return 0;
    } else {
        return 0;
    }
    if (ip_len == 20 && csum_fold(csum_add(0, d, 20)) != 0xffff)
        return 0;                                       /* the kernel would drop it */
    *l4_len = th;
    return ip_len;
}

static bool checksum_ok(const struct pkt *p, unsigned ip_len, uint8_t proto)
{
    size_t alen = ip_len == 20 ? 4 : 16;
    const uint8_t *src = p->data + (ip_len == 20 ? 12 : 8);
    uint64_t sum = csum_pseudo(src, src + alen, alen, proto, p->len - ip_len);

    return csum_fold(csum_add(sum, p->data + ip_len, p->len - ip_len)) == 0xffff;
}

/* Same flow and same copied fields as the group's head? */
static bool same_flow(const struct gro_group *g, const struct pkt *head, const struct pkt *p)
{
    const uint8_t *a = head->data, *b = p->data;
    unsigned ip_len = g->l4_off;

    if (ip_len == 20) {
        /* version/IHL, TOS; DF and reserved bits; TTL, protocol; addresses */
        if (a[1] != b[1] || (a[6] & 0xe0) != (b[6] & 0xe0) || a[8] != b[8] || a[9] != b[9] ||
            memcmp(a + 12, b + 12, 8) != 0)
            return false;
    } else {
        /* version, traffic class, flow label; next header, hop limit; addresses */
        if (memcmp(a, b, 4) != 0 || memcmp(a + 6, b + 6, 34) != 0)
            return false;
    }
    if (g->proto == IPPROTO_UDP)
        return memcmp(a + ip_len, b + ip_len, 4) == 0;           /* ports */
    /* ports; ack; data offset; the option bytes (sequence, flags, window
     * and checksum may differ) */
    return memcmp(a + ip_len, b + ip_len, 4) == 0 && memcmp(a + ip_len + 8, b + ip_len + 8, 5) == 0 &&
           memcmp(a + ip_len + 20, b + ip_len + 20, g->hdr_len - ip_len - 20) == 0;
}

static bool try_append(struct pkt **pkts, struct gro_group *g, uint16_t *next, unsigned i,
                       unsigned ip_len, unsigned hdr_len, uint8_t proto)
{
    const struct pkt *p = pkts[i];
    uint32_t payload = p->len - hdr_len;

    if (!g->proto || g->proto != proto || g->closed || g->l4_off != ip_len ||
        g->hdr_len != hdr_len || g->n >= TUN_GRO_MAX_SEGS || payload > g->gso_size ||
        g->ip_len + payload > IP_MAX_LEN ||
        (proto == IPPROTO_TCP && get32(p->data + ip_len + 4) != g->next_seq) ||
        !same_flow(g, pkts[g->head], p))
        return false;
    if (!checksum_ok(p, ip_len, proto))
        return false;
    next[g->last] = (uint16_t)i;
    g->last = (uint16_t)i;
    g->n++;
    g->next_seq += payload;
    g->ip_len += payload;
    if (payload < g->gso_size || (proto == IPPROTO_TCP && (p->data[ip_len + 13] & TCP_FLAG_PSH)))
        g->closed = true;
    return true;
}

static void start_group(struct gro_group *g, const struct pkt *p, unsigned i, unsigned ip_len,
                        unsigned hdr_len, uint8_t proto)
{
    memset(g, 0, sizeof(*g));
    g->head = g->last = (uint16_t)i;
    g->n = 1;
    g->ip_len = p->len;
    if (!ip_len)
        return;
    g->proto = proto;
    g->l4_off = (uint8_t)ip_len;
    g->hdr_len = (uint8_t)hdr_len;
    g->gso_size = (uint16_t)(p->len - hdr_len);
    /* An unverifiable head starts no group; for TCP, neither does PSH. */
    g->closed = !checksum_ok(p, ip_len, proto);
    if (proto == IPPROTO_TCP) {
        g->next_seq = get32(p->data + ip_len + 4) + g->gso_size;
        g->closed |= (p->data[ip_len + 13] & TCP_FLAG_PSH) != 0;
    }
}

unsigned tun_gro_plan(struct pkt **pkts, unsigned n, unsigned kinds, struct gro_group *groups,
                      uint16_t *next)
{
    unsigned n_groups = 0;

    for (unsigned i = 0; i < n; i++) {
        unsigned l4_len = 0;
        uint8_t proto = 0;
        unsigned ip_len = candidate(pkts[i], kinds, &l4_len, &proto);
        unsigned hdr_len = ip_len + l4_len;
        bool merged = false;

        next[i] = NO_NEXT;
        for (unsigned k = 0; ip_len && k < GROUP_LOOKBACK && k < n_groups && !merged; k++)
            merged = try_append(pkts, &groups[n_groups - 1 - k], next, i, ip_len, hdr_len, proto);
        if (!merged)
            start_group(&groups[n_groups++], pkts[i], i, ip_len, hdr_len, proto);
    }
    return n_groups;
}

/* The IP length of the head (IPv4 total, with its header checksum; IPv6
 * payload) and, for UDP, its length field, for a packet of ip_len bytes. */
static void set_lengths(uint8_t *d, const struct gro_group *g, uint32_t ip_len)
{
    if (g->l4_off == 20) {
        d[2] = (uint8_t)(ip_len >> 8);
        d[3] = (uint8_t)ip_len;
        d[10] = d[11] = 0;
        csum_store(d + 10, csum_add(0, d, 20));
    } else {
        d[4] = (uint8_t)((ip_len - 40) >> 8);
        d[5] = (uint8_t)(ip_len - 40);
    }
    if (g->proto == IPPROTO_UDP) {
        d[g->l4_off + 4] = (uint8_t)((ip_len - g->l4_off) >> 8);
        d[g->l4_off + 5] = (uint8_t)(ip_len - g->l4_off);
    }
}

static unsigned csum_field(const struct gro_group *g)
{
    return g->l4_off + (g->proto == IPPROTO_UDP ? 6u : 16u);
}

void tun_gro_finish(struct pkt **pkts, const struct gro_group *g, struct vnet_hdr *h)
{
    uint8_t *d = pkts[g->head]->data;
    size_t alen = g->l4_off == 20 ? 4 : 16;
    const uint8_t *src = d + (g->l4_off == 20 ? 12 : 8);
    uint16_t pseudo;

    memset(h, 0, sizeof(*h));
    if (g->n < 2)
        return;
    set_lengths(d, g, g->ip_len);
    if (g->proto == IPPROTO_UDP) {
        h->gso_type = VNET_GSO_UDP_L4;
    } else {
        h->gso_type = g->l4_off == 20 ? VNET_GSO_TCPV4 : VNET_GSO_TCPV6;
        d[g->l4_off + 13] |= pkts[g->last]->data[g->l4_off + 13] & TCP_FLAG_PSH;
    }
    /* CHECKSUM_PARTIAL: the field holds the pseudo-header sum, folded and
     * not inverted; the kernel adds the rest. */
    pseudo = csum_fold(csum_pseudo(src, src + alen, alen, g->proto, g->ip_len - g->l4_off));
    memcpy(d + csum_field(g), &pseudo, 2);
    h->flags = VNET_F_NEEDS_CSUM;
    h->hdr_len = g->hdr_len;
    h->gso_size = g->gso_size;
    h->csum_start = g->l4_off;
    h->csum_offset = (uint16_t)(csum_field(g) - g->l4_off);
}

void tun_gro_undo(struct pkt **pkts, const struct gro_group *g)
{
    struct pkt *p = pkts[g->head];
    uint8_t *d = p->data;
    size_t alen = g->l4_off == 20 ? 4 : 16;
    const uint8_t *src = d + (g->l4_off == 20 ? 12 : 8);

    if (g->n < 2)
        return;
    set_lengths(d, g, p->len);
    if (g->proto == IPPROTO_TCP)                 /* a head with PSH has no members */
        d[g->l4_off + 13] &= (uint8_t)~TCP_FLAG_PSH;
    memset(d + csum_field(g), 0, 2);
    csum_store(d + csum_field(g), csum_add(csum_pseudo(src, src + alen, alen, g->proto,
                                                       p->len - g->l4_off),
                                           d + g->l4_off, p->len - g->l4_off));
}
