/* SPDX-License-Identifier: MIT */
/*
 * test_tun_offload.c - the TUN offload stages without a kernel: the
 * Internet checksum against a known header and a naive big-endian
 * reference; GSO split of TCP (IPv4, IPv6, odd segment sizes) and UDP
 * super-packets, each segment's headers and checksums checked
 * independently; completion of a NEEDS_CSUM packet; malformed headers
 * refused; resuming a split over several bursts; GRO coalescing of the
 * split segments back into one super-packet (the payload gathered equals
 * the original, the header and virtio_net_hdr as the kernel wants them),
 * and everything that must not coalesce.
 */
#include <errno.h>
#include <arpa/inet.h>

#include "check.h"
#include "datapath/csum.h"
#include "datapath/tun_offload.h"
#include "rng.h"

#define MAX_SEGS 160

static struct pkt *segs[MAX_SEGS];

/* ------------------------------------------------ naive reference checksum */

static uint32_t ref_sum(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    return sum;
}

static uint16_t ref_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

/* Does the transport checksum of the IP packet p verify? */
static bool ref_l4_ok(const uint8_t *p, size_t len, size_t l4_off, uint8_t proto)
{
    size_t alen = p[0] >> 4 == 4 ? 4 : 16;
    const uint8_t *src = p + (alen == 4 ? 12 : 8);
    uint32_t sum = ref_sum(0, src, 2 * alen);

    sum += proto;
    sum += (uint32_t)(len - l4_off) >> 16;
    sum += (uint32_t)(len - l4_off) & 0xffff;
    return ref_fold(ref_sum(sum, p + l4_off, len - l4_off)) == 0xffff;
}

static bool ref_ip4_ok(const uint8_t *p)
{
    return ref_fold(ref_sum(0, p, (size_t)(p[0] & 0xf) * 4)) == 0xffff;
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }

/* ------------------------------------------------------------ packet makers */

static uint8_t super[70000];

/* An IP + TCP/UDP packet with `payload` bytes, as a TSO/USO super-packet
 * is read from the TUN: lengths of the whole, the transport checksum
 * field holding the pseudo-header sum. Returns its length; *h filled. */
static size_t make_super(int family, uint8_t proto, size_t payload, uint16_t gso, uint8_t flags,
                         size_t tcp_opts, struct vnet_hdr *h)
{
    size_t ip = family == 4 ? 20 : 40, l4 = proto == IPPROTO_TCP ? 20 + tcp_opts : 8;
    size_t len = ip + l4 + payload;
    uint8_t *p = super;

    memset(p, 0, ip + l4);
    if (family == 4) {
        p[0] = 0x45;
        p[1] = 0x10;
        put16(p + 2, (uint16_t)(len > 65535 ? 0 : len));
        put16(p + 4, 0xfff0);               /* the ID wraps within the split */
        p[6] = 0x40;                         /* DF */
        p[8] = 64;
        p[9] = proto;
        memcpy(p + 12, (uint8_t[]){ 10, 0, 0, 1, 10, 0, 0, 2 }, 8);
    } else {
        p[0] = 0x60;
        p[1] = 0x01;
        p[3] = 0x42;                         /* a flow label */
        put16(p + 4, (uint16_t)(len - 40));
        p[6] = proto;
        p[7] = 64;
        p[8] = 0xfd;
        p[23] = 1;
        p[24] = 0xfd;
        p[39] = 2;
    }
    put16(p + ip, 40000);
    put16(p + ip + 2, 5201);
    if (proto == IPPROTO_TCP) {
        put32(p + ip + 4, 0xfffff000);       /* the sequence number wraps too */
        put32(p + ip + 8, 0x01020304);
        p[ip + 12] = (uint8_t)((l4 / 4) << 4);
        p[ip + 13] = flags;
        put16(p + ip + 14, 502);
        for (size_t i = 0; i < tcp_opts; i++)
            p[ip + 20 + i] = i % 4 == 0 ? 1 : (uint8_t)(0x30 + i);   /* NOPs and bytes */
    } else {
        put16(p + ip + 4, (uint16_t)(l4 + payload));
    }
    for (size_t i = 0; i < payload; i++)
        p[ip + l4 + i] = (uint8_t)(i * 7 + i / 251);
    {
        uint64_t s = csum_pseudo(p + (family == 4 ? 12 : 8), p + (family == 4 ? 16 : 24),
                                 family == 4 ? 4 : 16, proto, (uint32_t)(len - ip));
        uint16_t v = csum_fold(s);

        memcpy(p + ip + (proto == IPPROTO_TCP ? 16 : 6), &v, 2);
    }
    memset(h, 0, sizeof(*h));
    h->flags = VNET_F_NEEDS_CSUM;
    h->gso_type = proto == IPPROTO_UDP ? VNET_GSO_UDP_L4 : family == 4 ? VNET_GSO_TCPV4 : VNET_GSO_TCPV6;
    h->hdr_len = (uint16_t)(ip + l4);
    h->gso_size = gso;
    h->csum_start = (uint16_t)ip;
    h->csum_offset = proto == IPPROTO_TCP ? 16 : 6;
    return len;
}

static void reset_segs(void)
{
    for (unsigned i = 0; i < MAX_SEGS; i++)
        pkt_reset(segs[i]);
}

/* Split into segs; returns the count. `step` segments per call. */
static unsigned split(const struct vnet_hdr *h, size_t len, unsigned step)
{
    struct gso_cursor c;
    unsigned n = 0;

    reset_segs();
    CHECK(tun_gso_begin(&c, h, super, (uint32_t)len) == 0);
    while (c.active && n < MAX_SEGS)
        n += tun_gso_next(&c, segs + n, step < MAX_SEGS - n ? step : MAX_SEGS - n);
    CHECK(!c.active);
    return n;
}

/* --------------------------------------------------------------------- tests */

static void test_checksum_kat(void)
{
    /* A textbook IPv4 header whose checksum is 0xb861. */
    uint8_t hdr[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                        0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
    uint8_t buf[1501];

    csum_store(hdr + 10, csum_add(0, hdr, 20));
    CHECK(hdr[10] == 0xb8 && hdr[11] == 0x61);
    CHECK(ref_ip4_ok(hdr));
    /* Against the reference on random lengths, odd ones included. */
    fill(buf, sizeof(buf));
    for (size_t n = 0; n <= sizeof(buf); n += 37) {
        uint16_t mine = csum_fold(csum_add(0, buf, n)), ref = ref_fold(ref_sum(0, buf, n));

        CHECK(memcmp(&mine, (uint8_t[]){ (uint8_t)(ref >> 8), (uint8_t)ref }, 2) == 0);
    }
}

/* Split a TCP super-packet and check every segment on its own. */
static void check_tcp_split(int family, size_t payload, uint16_t gso, size_t opts, unsigned step)
{
    struct vnet_hdr h;
    size_t len = make_super(family, IPPROTO_TCP, payload, gso, 0x18 /* ACK|PSH */, opts, &h);
    size_t ip = family == 4 ? 20 : 40, hdr = ip + 20 + opts;
    unsigned n = split(&h, len, step), want = (unsigned)((payload + gso - 1) / gso);
    size_t off = 0;
    bool all_ok = true;

    CHECK(n == want);
    for (unsigned k = 0; k < n; k++) {
        const uint8_t *p = segs[k]->data;
        size_t seg = payload - off < gso ? payload - off : gso;
        bool last = k == n - 1;

        all_ok &= segs[k]->len == hdr + seg;
        if (family == 4)
            all_ok &= get16(p + 2) == hdr + seg && get16(p + 4) == (uint16_t)(0xfff0 + k) &&
                      ref_ip4_ok(p) && p[6] == 0x40;
        else
            all_ok &= get16(p + 4) == hdr + seg - 40 && p[3] == 0x42;
        all_ok &= get32(p + ip + 4) == (uint32_t)(0xfffff000u + off);
        all_ok &= p[ip + 13] == (last ? 0x18 : 0x10);
        all_ok &= memcmp(p + ip + 20, super + ip + 20, opts) == 0;
        all_ok &= memcmp(p + hdr, super + hdr + off, seg) == 0;
        all_ok &= ref_l4_ok(p, segs[k]->len, ip, IPPROTO_TCP);
        off += seg;
    }
    CHECK(all_ok);
    CHECK(off == payload);
}

static void test_split_tcp(void)
{
    check_tcp_split(4, 10000, 1000, 12, MAX_SEGS);
    check_tcp_split(4, 65495 - 32, 1368, 12, 7);       /* 64 KiB TSO, 7 segments a burst */
    check_tcp_split(6, 9001, 1001, 0, 3);               /* odd sizes, IPv6 */
    check_tcp_split(6, 1000, 1380, 12, 1);              /* one segment: GSO header, small payload */
    check_tcp_split(4, 20000, 128, 0, MAX_SEGS);        /* 157 segments */
}

static void test_split_udp(void)
{
    for (int family = 4; family <= 6; family += 2) {
        struct vnet_hdr h;
        size_t ip = family == 4 ? 20 : 40;
        size_t len = make_super(family, IPPROTO_UDP, 5000, 1400, 0, 0, &h);
        unsigned n = split(&h, len, 2);
        bool ok = n == 4;

        for (unsigned k = 0; ok && k < n; k++) {
            const uint8_t *p = segs[k]->data;
            size_t seg = k < 3 ? 1400 : 800;

            ok = segs[k]->len == ip + 8 + seg && get16(p + ip + 4) == 8 + seg &&
                 ref_l4_ok(p, segs[k]->len, ip, IPPROTO_UDP) &&
                 memcmp(p + ip + 8, super + ip + 8 + 1400 * k, seg) == 0 &&
                 (family == 6 || (ref_ip4_ok(p) && get16(p + 4) == (uint16_t)(0xfff0 + k)));
        }
        CHECK(ok);
    }
}

static void test_needs_csum_only(void)
{
    struct vnet_hdr h;
    size_t len = make_super(4, IPPROTO_TCP, 700, 0, 0x10, 0, &h);
    unsigned n;

    h.gso_type = VNET_GSO_NONE;
    h.gso_size = 0;
    n = split(&h, len, 4);
    CHECK(n == 1 && segs[0]->len == len && ref_l4_ok(segs[0]->data, len, 20, IPPROTO_TCP));
    CHECK(memcmp(segs[0]->data + 40, super + 40, 700) == 0);

    /* No flags at all: passed through untouched. */
    h.flags = 0;
    n = split(&h, len, 4);
    CHECK(n == 1 && memcmp(segs[0]->data, super, len) == 0);
}

static void test_split_malformed(void)
{
    struct gso_cursor c;
    struct vnet_hdr h, bad;
    size_t len = make_super(4, IPPROTO_TCP, 3000, 1000, 0x10, 0, &h);

    bad = h, bad.gso_type = VNET_GSO_TCPV6;                /* IPv4 packet, IPv6 type */
    CHECK(tun_gso_begin(&c, &bad, super, (uint32_t)len) == -EINVAL);
    bad = h, bad.gso_size = 0;
    CHECK(tun_gso_begin(&c, &bad, super, (uint32_t)len) == -EINVAL);
    bad = h, bad.csum_start = 24;                          /* not the IPv4 header length */
    CHECK(tun_gso_begin(&c, &bad, super, (uint32_t)len) == -EINVAL);
    bad = h, bad.gso_type = 3;                             /* UFO: never asked for */
    CHECK(tun_gso_begin(&c, &bad, super, (uint32_t)len) == -EINVAL);
    CHECK(tun_gso_begin(&c, &h, super, 30) == -EINVAL);    /* TCP header cut off */
    bad = h, bad.gso_type = VNET_GSO_NONE, bad.csum_offset = 4000;
    CHECK(tun_gso_begin(&c, &bad, super, (uint32_t)len) == -EINVAL);
    CHECK(tun_gso_begin(&c, &h, super, 0) == -EINVAL);
}

/* Split, then coalesce back: one group, and the gathered payload is the
 * original. */
static void check_roundtrip(int family, size_t payload, uint16_t gso)
{
    struct gro_group g[MAX_SEGS];
    uint16_t next[MAX_SEGS];
    struct vnet_hdr h, out;
    size_t len = make_super(family, IPPROTO_TCP, payload, gso, 0x18, 12, &h);
    size_t ip = family == 4 ? 20 : 40, hdr = ip + 32;
    unsigned n = split(&h, len, MAX_SEGS);
    unsigned ng = tun_gro_plan(segs, n, TUN_GRO_TCP | TUN_GRO_UDP, g, next);
    static uint8_t whole[70000];
    size_t at;

    CHECK(ng == 1 && g[0].n == n && g[0].head == 0 && g[0].last == n - 1);
    tun_gro_finish(segs, &g[0], &out);
    CHECK(out.flags == VNET_F_NEEDS_CSUM && out.gso_size == gso && out.hdr_len == hdr &&
          out.csum_start == ip && out.csum_offset == 16 &&
          out.gso_type == (family == 4 ? VNET_GSO_TCPV4 : VNET_GSO_TCPV6));
    /* Gather as the writer does, then finish the checksum as the kernel
     * would: the whole must verify and equal the original. */
    memcpy(whole, segs[0]->data, segs[0]->len);
    at = segs[0]->len;
    for (unsigned i = next[0]; i != 0xffff; i = next[i]) {
        memcpy(whole + at, segs[i]->data + hdr, segs[i]->len - hdr);
        at += segs[i]->len - hdr;
    }
    CHECK(at == len);
    CHECK(memcmp(whole + hdr, super + hdr, payload) == 0);
    CHECK(whole[ip + 13] == 0x18);                          /* PSH of the last */
    if (family == 4)
        CHECK(get16(whole + 2) == len && ref_ip4_ok(whole));
    else
        CHECK(get16(whole + 4) == len - 40);
    {
        /* The field holds the pseudo-header sum: the kernel completes it. */
        uint16_t field;

        memcpy(&field, whole + ip + 16, 2);
        csum_store(whole + ip + 16, csum_add(0, whole + ip, len - ip));
        CHECK(ref_l4_ok(whole, len, ip, IPPROTO_TCP));
        (void)field;
    }
}

/* UDP: split a USO super-packet, coalesce it back (GSO_UDP_L4), and undo
 * restores the head byte for byte. */
static void check_udp_roundtrip(int family)
{
    struct gro_group g[MAX_SEGS];
    uint16_t next[MAX_SEGS];
    struct vnet_hdr h, out;
    size_t len = make_super(family, IPPROTO_UDP, 7000, 1300, 0, 0, &h);
    size_t ip = family == 4 ? 20 : 40, hdr = ip + 8, at;
    unsigned n = split(&h, len, MAX_SEGS);
    static uint8_t whole[70000], head[2000];
    uint32_t head_len;

    CHECK(n == 6);
    CHECK(tun_gro_plan(segs, n, TUN_GRO_TCP, g, next) == n);         /* UDP not asked for */
    CHECK(tun_gro_plan(segs, n, TUN_GRO_UDP, g, next) == 1 && g[0].n == n);
    head_len = segs[0]->len;
    memcpy(head, segs[0]->data, head_len);
    tun_gro_finish(segs, &g[0], &out);
    CHECK(out.gso_type == VNET_GSO_UDP_L4 && out.flags == VNET_F_NEEDS_CSUM && out.gso_size == 1300 &&
          out.hdr_len == hdr && out.csum_start == ip && out.csum_offset == 6);
    memcpy(whole, segs[0]->data, segs[0]->len);
    at = segs[0]->len;
    for (unsigned i = next[0]; i != 0xffff; i = next[i]) {
        memcpy(whole + at, segs[i]->data + hdr, segs[i]->len - hdr);
        at += segs[i]->len - hdr;
    }
    CHECK(at == len && memcmp(whole + hdr, super + hdr, len - hdr) == 0);
    CHECK(get16(whole + ip + 4) == len - ip);
    csum_store(whole + ip + 6, csum_add(0, whole + ip, len - ip));
    CHECK(ref_l4_ok(whole, len, ip, IPPROTO_UDP));
    tun_gro_undo(segs, &g[0]);
    CHECK(segs[0]->len == head_len && memcmp(segs[0]->data, head, head_len) == 0);
}

/* Undo after finish gives the TCP head back exactly (the fallback when the
 * kernel refuses a super-packet). */
static void check_tcp_undo(int family)
{
    struct gro_group g[MAX_SEGS];
    uint16_t next[MAX_SEGS];
    struct vnet_hdr h, out;
    size_t len = make_super(family, IPPROTO_TCP, 5000, 1000, 0x18, 12, &h);
    unsigned n = split(&h, len, MAX_SEGS);
    static uint8_t head[2000];
    uint32_t head_len = segs[0]->len;

    memcpy(head, segs[0]->data, head_len);
    CHECK(tun_gro_plan(segs, n, TUN_GRO_TCP, g, next) == 1);
    tun_gro_finish(segs, &g[0], &out);
    CHECK(memcmp(segs[0]->data, head, head_len) != 0);
    tun_gro_undo(segs, &g[0]);
    CHECK(memcmp(segs[0]->data, head, head_len) == 0);
}

static void test_coalesce_roundtrip(void)
{
    check_udp_roundtrip(4);
    check_udp_roundtrip(6);
    check_tcp_undo(4);
    check_tcp_undo(6);
    check_roundtrip(4, 20000, 1368);
    check_roundtrip(6, 9001, 1001);
    check_roundtrip(4, 1368 * 10, 1368);                    /* last segment full size */
}

/* Build n in-order segments of one flow into segs (ACK, 1000 bytes). */
static unsigned flow_segments(int family, size_t payload, uint16_t gso, uint8_t flags)
{
    struct vnet_hdr h;
    size_t len = make_super(family, IPPROTO_TCP, payload, gso, flags, 0, &h);

    return split(&h, len, MAX_SEGS);
}

static void swap(unsigned a, unsigned b)
{
    struct pkt *t = segs[a];

    segs[a] = segs[b];
    segs[b] = t;
}

/* Recompute a segment's IPv4 header and TCP checksums after an edit. */
static void fix_csums(struct pkt *p)
{
    size_t ip = p->data[0] >> 4 == 4 ? 20 : 40, alen = ip == 20 ? 4 : 16;
    const uint8_t *src = p->data + (ip == 20 ? 12 : 8);

    if (ip == 20) {
        p->data[10] = p->data[11] = 0;
        csum_store(p->data + 10, csum_add(0, p->data, 20));
    }
    p->data[ip + 16] = p->data[ip + 17] = 0;
    csum_store(p->data + ip + 16, csum_add(csum_pseudo(src, src + alen, alen, IPPROTO_TCP,
                                                       (uint32_t)(p->len - ip)),
                                           p->data + ip, p->len - ip));
}

static void test_coalesce_refusals(void)
{
    struct gro_group g[MAX_SEGS];
    uint16_t next[MAX_SEGS];
    struct vnet_hdr out;
    struct pkt *order[8];
    unsigned n;

    /* Out of order 0 1 3 2 4: 2 still follows 1, 4 follows 3. */
    n = flow_segments(4, 5000, 1000, 0x10);
    swap(2, 3);
    CHECK(tun_gro_plan(segs, n, TUN_GRO_TCP | TUN_GRO_UDP, g, next) == 2 && g[0].n == 3 && g[1].n == 2);
    CHECK(next[0] == 1 && next[1] == 3 && next[3] == 0xffff && next[2] == 4);

    /* A corrupted member is not merged; it goes out alone, for the kernel
     * to drop, and the flow goes on after it. */
    n = flow_segments(4, 5000, 1000, 0x10);
    segs[2]->data[60] ^= 1;
    CHECK(tun_gro_plan(segs, n, TUN_GRO_TCP | TUN_GRO_UDP, g, next) == 3 && g[0].n == 2 && g[1].n == 1 && g[2].n == 2);
    /* So is one whose IPv4 header checksum is wrong. */
    n = flow_segments(4, 4000, 1000, 0x10);
    segs[3]->data[8] = 63;
    CHECK(tun_gro_plan(segs, n, TUN_GRO_TCP | TUN_GRO_UDP, g, next) == 2 && g[0].n == 3);

    /* A short segment closes the group. */
    n = flow_segments(6, 2500, 1000, 0x10);
    CHECK(n == 3 && tun_gro_plan(segs, n, TUN_GRO_TCP | TUN_GRO_UDP, g, next) == 1 && g[0].closed);

    /* Another ack is another flow; so is another TTL. */
    n = flow_segments(4, 4000, 1000, 0x10);
    segs[1]->data[20 + 11] ^= 1;
    fix_csums(segs[1]);
    CHECK(tun_gro_plan(segs, n, TUN_GRO_TCP | TUN_GRO_UDP, g, next) == 3 && g[2].n == 2);
    n = flow_segments(4, 4000, 1000, 0x10);
    segs[3]->data[8] = 63;
    fix_csums(segs[3]);
    CHECK(tun_gro_plan(segs, n, TUN_GRO_TCP | TUN_GRO_UDP, g, next) == 2 && g[0].n == 3 && g[1].n == 1);

    /* PSH in the middle ends its group; FIN never merges. */
    n = flow_segments(4, 4000, 1000, 0x10);
    segs[1]->data[33] = 0x18;
    fix_csums(segs[1]);
    CHECK(tun_gro_plan(segs, n, TUN_GRO_TCP | TUN_GRO_UDP, g, next) == 2 && g[0].n == 2 && g[1].n == 2);
    tun_gro_finish(segs, &g[0], &out);
    CHECK(out.gso_type == VNET_GSO_TCPV4 && (segs[0]->data[33] & 0x08));
    n = flow_segments(4, 4000, 1000, 0x11);           /* the split leaves FIN on the last */
    CHECK(tun_gro_plan(segs, n, TUN_GRO_TCP | TUN_GRO_UDP, g, next) == 2 && g[0].n == 3 && g[1].n == 1);

    /* Not TCP, a fragment: one group each, written as is. */
    n = flow_segments(4, 3000, 1000, 0x10);
    segs[0]->data[9] = IPPROTO_UDP;
    segs[1]->data[6] |= 0x20;                          /* MF */
    CHECK(tun_gro_plan(segs, n, TUN_GRO_TCP | TUN_GRO_UDP, g, next) == 3);
    tun_gro_finish(segs, &g[0], &out);
    CHECK(out.gso_type == VNET_GSO_NONE && out.flags == 0);

    /* At most TUN_GRO_MAX_SEGS a group. */
    n = flow_segments(4, 100 * 200, 200, 0x10);
    CHECK(n == 100 && tun_gro_plan(segs, n, TUN_GRO_TCP | TUN_GRO_UDP, g, next) == 2 && g[0].n == TUN_GRO_MAX_SEGS);

    /* Two flows interleaved a0 b0 a1 b1 ...: two groups, each in order. */
    n = flow_segments(4, 4000, 1000, 0x10);
    for (unsigned i = 4; i < 8; i++) {
        memcpy(segs[i]->data, segs[i - 4]->data, segs[i - 4]->len);
        segs[i]->len = segs[i - 4]->len;
        segs[i]->data[23] ^= 1;                        /* another source port */
        fix_csums(segs[i]);
    }
    for (unsigned i = 0; i < 4; i++)
        order[2 * i] = segs[i], order[2 * i + 1] = segs[4 + i];
    CHECK(tun_gro_plan(order, 8, TUN_GRO_TCP | TUN_GRO_UDP, g, next) == 2 && g[0].n == 4 && g[1].n == 4);
    CHECK(next[0] == 2 && next[2] == 4 && next[4] == 6 && next[1] == 3);
}

int main(void)
{
    for (unsigned i = 0; i < MAX_SEGS; i++)
        if (!(segs[i] = pkt_alloc()))
            return 1;
    test_checksum_kat();
    test_split_tcp();
    test_split_udp();
    test_needs_csum_only();
    test_split_malformed();
    test_coalesce_roundtrip();
    test_coalesce_refusals();
    for (unsigned i = 0; i < MAX_SEGS; i++)
        pkt_free(segs[i]);
    return check_summary();
}
