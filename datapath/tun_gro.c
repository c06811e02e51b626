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

/* A coalescing candidate: returns its IP header length (20 or 40) with
 * *tcp_len set, or 0. */
static unsigned candidate(const struct pkt *p, unsigned *tcp_len)
{
    const uint8_t *d = p->data;
    unsigned ip_len, th;

    if (p->len >= 40 && d[0] == 0x45 && d[9] == IPPROTO_TCP && get16(d + 2) == p->len &&
        (get16(d + 6) & 0x3fff) == 0)                   /* no MF, no fragment offset */
        ip_len = 20;
    else if (p->len >= 60 && d[0] >> 4 == 6 && d[6] == IPPROTO_TCP && get16(d + 4) + 40u == p->len)
        ip_len = 40;
    else
        return 0;
    if (ip_len == 20 && csum_fold(csum_add(0, d, 20)) != 0xffff)
        return 0;                                       /* the kernel would drop it */
    th = (unsigned)(d[ip_len + 12] >> 4) * 4;
    if (th < 20 || ip_len + th >= p->len)               /* no payload: nothing to merge */
        return 0;
    if (d[ip_len + 13] != TCP_FLAG_ACK && d[ip_len + 13] != (TCP_FLAG_ACK | TCP_FLAG_PSH))
        return 0;
    *tcp_len = th;
    return ip_len;
}

static bool checksum_ok(const struct pkt *p, unsigned ip_len)
{
    size_t alen = ip_len == 20 ? 4 : 16;
    const uint8_t *src = p->data + (ip_len == 20 ? 12 : 8);
    uint64_t sum = csum_pseudo(src, src + alen, alen, IPPROTO_TCP, p->len - ip_len);

    return csum_fold(csum_add(sum, p->data + ip_len, p->len - ip_len)) == 0xffff;
}

/* Same flow and same copied fields as the group's head? */
static bool same_flow(const struct pkt *head, const struct pkt *p, unsigned hdr_len, unsigned ip_len)
{
    const uint8_t *a = head->data, *b = p->data;

    if (ip_len == 20) {
        /* version/IHL, TOS; DF and reserved bits; TTL, protocol; addresses */
        if (a[1] != b[1] || (a[6] & 0xe0) != (b[6] & 0xe0) || a[8] != b[8] ||
            memcmp(a + 12, b + 12, 8) != 0)
            return false;
    } else {
        /* version, traffic class, flow label; next header, hop limit; addresses */
        if (memcmp(a, b, 4) != 0 || memcmp(a + 6, b + 6, 34) != 0)
            return false;
    }
    /* ports; ack; data offset; the option bytes (sequence, flags, window
     * and checksum may differ) */
    return memcmp(a + ip_len, b + ip_len, 4) == 0 && memcmp(a + ip_len + 8, b + ip_len + 8, 5) == 0 &&
           memcmp(a + ip_len + 20, b + ip_len + 20, hdr_len - ip_len - 20) == 0;
}

static bool try_append(struct pkt **pkts, struct gro_group *g, uint16_t *next, unsigned i,
                       unsigned ip_len, unsigned hdr_len)
{
    const struct pkt *p = pkts[i];
    uint32_t payload = p->len - hdr_len;

    if (!g->tcp || g->closed || g->l4_off != ip_len || g->hdr_len != hdr_len ||
        g->n >= TUN_GRO_MAX_SEGS || payload > g->gso_size || g->ip_len + payload > IP_MAX_LEN ||
        get32(p->data + ip_len + 4) != g->next_seq || !same_flow(pkts[g->head], p, hdr_len, ip_len))
        return false;
    if (!checksum_ok(p, ip_len))
        return false;
    next[g->last] = (uint16_t)i;
    g->last = (uint16_t)i;
    g->n++;
    g->next_seq += payload;
    g->ip_len += payload;
    if (payload < g->gso_size || (p->data[ip_len + 13] & TCP_FLAG_PSH))
        g->closed = true;
    return true;
}

static void start_group(struct gro_group *g, const struct pkt *p, unsigned i, unsigned ip_len,
                        unsigned hdr_len)
{
    memset(g, 0, sizeof(*g));
    g->head = g->last = (uint16_t)i;
    g->n = 1;
    g->ip_len = p->len;
    if (!ip_len)
        return;
    g->tcp = true;
    g->l4_off = (uint8_t)ip_len;
    g->hdr_len = (uint8_t)hdr_len;
    g->gso_size = (uint16_t)(p->len - hdr_len);
    g->next_seq = get32(p->data + ip_len + 4) + g->gso_size;
    /* A PSH segment ends its group; an unverifiable head starts none. */
    g->closed = (p->data[ip_len + 13] & TCP_FLAG_PSH) || !checksum_ok(p, ip_len);
}

unsigned tun_gro_plan(struct pkt **pkts, unsigned n, struct gro_group *groups, uint16_t *next)
{
    unsigned n_groups = 0;

    for (unsigned i = 0; i < n; i++) {
        unsigned tcp_len = 0, ip_len = candidate(pkts[i], &tcp_len);
        unsigned hdr_len = ip_len + tcp_len;
        bool merged = false;

        next[i] = NO_NEXT;
        for (unsigned k = 0; ip_len && k < GROUP_LOOKBACK && k < n_groups && !merged; k++)
            merged = try_append(pkts, &groups[n_groups - 1 - k], next, i, ip_len, hdr_len);
        if (!merged)
            start_group(&groups[n_groups++], pkts[i], i, ip_len, hdr_len);
    }
    return n_groups;
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
    if (g->l4_off == 20) {
        d[2] = (uint8_t)(g->ip_len >> 8);
        d[3] = (uint8_t)g->ip_len;
        d[10] = d[11] = 0;
        csum_store(d + 10, csum_add(0, d, 20));
        h->gso_type = VNET_GSO_TCPV4;
    } else {
        d[4] = (uint8_t)((g->ip_len - 40) >> 8);
        d[5] = (uint8_t)(g->ip_len - 40);
        h->gso_type = VNET_GSO_TCPV6;
    }
    d[g->l4_off + 13] |= pkts[g->last]->data[g->l4_off + 13] & TCP_FLAG_PSH;
    /* CHECKSUM_PARTIAL: the field holds the pseudo-header sum, folded and
     * not inverted; the kernel adds the rest. */
    pseudo = csum_fold(csum_pseudo(src, src + alen, alen, IPPROTO_TCP, g->ip_len - g->l4_off));
    memcpy(d + g->l4_off + 16, &pseudo, 2);
    h->flags = VNET_F_NEEDS_CSUM;
    h->hdr_len = g->hdr_len;
    h->gso_size = g->gso_size;
    h->csum_start = g->l4_off;
    h->csum_offset = 16;
}
