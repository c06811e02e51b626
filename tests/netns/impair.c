/* SPDX-License-Identifier: MIT */
/*
 * impair.c - wb_impair: a userspace wire impairment bridge for the netns
 * tests (this CI kernel has no netem: CONFIG_NET_SCH_NETEM is unset).
 *
 *   ns A [vAB] ==veth== [vMA] ns M (wb_impair) [vMB] ==veth== [vBA] ns B
 *
 * It runs in the middle namespace, which has no IP role (its two
 * interfaces are up with no addresses, IPv6 off), so A and B share one L2
 * segment. It opens an AF_PACKET socket on each interface (ETH_P_ALL,
 * bound to it, PACKET_IGNORE_OUTGOING so it does not read its own sends)
 * and forwards every frame to the other side, with impairments chosen
 * independently per direction:
 *
 *   loss=P      drop P % of the frames
 *   delay=MS    hold every frame MS milliseconds ...
 *   jitter=MS   ... plus a uniform [-MS, +MS] (at least 0): frames overtake
 *               each other (reordering) as soon as MS exceeds their spacing
 *   dup=P       send P % of the frames twice (each copy its own delay)
 *   corrupt=P   flip one byte in P % of the UDP datagrams' payloads, past
 *               the IP/UDP headers; the UDP checksum is then recomputed, so
 *               the receiving kernel delivers it and WireGuard must reject
 *               it (where the byte goes: corrupt_range() below)
 *
 * Random decisions come from a seeded generator (-s), one stream per
 * direction: three draws per frame whatever the settings (loss, corrupt,
 * dup), one more for the byte of a corruption and one per delayed copy.
 * The same seed, settings and frames give the same faults.
 *
 * Checksums: a sender's veth hands over UDP with CHECKSUM_PARTIAL (only the
 * pseudo-header sum in the field), and a frame sent from a packet socket
 * is checked in full by the receiver, so the UDP checksum of every IPv4
 * and IPv6 UDP frame is recomputed before it is sent, corrupted or not.
 *
 * Super-frames: an AF_PACKET socket on a veth reads a GSO packet (e.g.
 * wirebolt's UDP_SEGMENT sends, up to 64 KB) as one frame. The test sets
 * gso_max_segs 1 on the end veths so the sender's kernel segments them in
 * software; anything still larger than the interface's MTU + 14 is
 * dropped here and counted as "oversize" (the test expects none).
 *
 * On SIGTERM or SIGINT it writes its counters as JSON to the -o file (via a
 * temporary file and rename) and exits 0; SIGUSR1 writes them and goes on.
 * Frames still held in a delay queue at exit are not sent ("pending").
 *
 * Counters per direction ("ab": read on -a, sent on -b; "ba" the reverse),
 * all counting frames: rx (read), forwarded (copies sent), dropped (loss),
 * duplicated (extra copies made), corrupted (frames given a flipped byte;
 * both copies of a duplicated one carry it), reordered (sent after a frame
 * read later had been sent), delayed (went through the delay queue),
 * oversize, queue_full, send_errors, pending, kernel_drops (the socket's
 * PACKET_STATISTICS drops: frames the kernel could not queue for us). And
 * per kind of frame ("initiation", "response", "cookie", "data",
 * "keepalive" = WireGuard messages by type and length; "udp_other",
 * "non_udp"): rx, dropped, sent, corrupted (corrupted copies sent), dup
 * (intact copies sent after an earlier copy of the same frame: replays)
 * and unique (intact frames sent at least once), so that
 * sent == unique + dup + corrupted for every kind, and a receiver must
 * accept exactly the "unique" ones.
 *
 * Usage: wb_impair -a IF -b IF [--ab SPEC] [--ba SPEC] [--both SPEC]
 *                  [-s SEED] [-o FILE] [--ready FILE] [--queue N]
 * SPEC: "none" or comma-separated loss=,delay=,jitter=,dup=,corrupt=
 * (percent and milliseconds, decimals allowed). --ready FILE: written
 * (our pid) once both sockets are bound.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE                         /* ppoll, SO_RCVBUFFORCE, struct ifreq */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

#define MAX_FRAME (65536 + 256)
#define READS_PER_TURN 64

/* ---------------------------------------------------------------- random */

/* splitmix64: small, fast, good enough for fault decisions. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double rng_unit(uint64_t *s)
{
    return (double)(rng_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

/* --------------------------------------------------------------- frames */

enum kind { K_INIT, K_RESP, K_COOKIE, K_DATA, K_KEEPALIVE, K_UDP_OTHER, K_NON_UDP, K_COUNT };
static const char *const kind_names[K_COUNT] = {
    "initiation", "response", "cookie", "data", "keepalive", "udp_other", "non_udp",
};

struct frame_info {
    enum kind kind;
    int family;             /* 4 or 6 for UDP, else 0 */
    size_t l3;              /* IP header offset */
    size_t l4;              /* UDP header offset */
    size_t payload, plen;   /* UDP payload offset and length */
};

static uint16_t get16(const unsigned char *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* Ethernet (no VLAN tag) + IPv4 (unfragmented) or IPv6 (no extension
 * header) + UDP, with lengths that fit the frame; then the WireGuard
 * message type by its type byte, zero reserved bytes and exact length. */
static void classify(const unsigned char *f, size_t len, struct frame_info *fi)
{
    size_t l3 = 14, l4, ulen;
    uint16_t type;

    memset(fi, 0, sizeof(*fi));
    fi->kind = K_NON_UDP;
    if (len < 14)
        return;
    type = get16(f + 12);
    if (type == ETH_P_IP) {
        size_t ihl, tot;

        if (len < l3 + 20 || f[l3] >> 4 != 4)
            return;
        ihl = (size_t)(f[l3] & 15) * 4;
        tot = get16(f + l3 + 2);
        if (ihl < 20 || f[l3 + 9] != IPPROTO_UDP || (get16(f + l3 + 6) & 0x3fff) || tot < ihl + 8 ||
            l3 + tot > len)
            return;
        l4 = l3 + ihl;
        ulen = get16(f + l4 + 4);
        if (ulen < 8 || l4 + ulen > l3 + tot)
            return;
        fi->family = 4;
    } else if (type == ETH_P_IPV6) {
        size_t plen;

        if (len < l3 + 40 || f[l3] >> 4 != 6 || f[l3 + 6] != IPPROTO_UDP)
            return;
        plen = get16(f + l3 + 4);
        l4 = l3 + 40;
        if (plen < 8 || l4 + plen > len)
            return;
        ulen = get16(f + l4 + 4);
        if (ulen < 8 || ulen > plen)
            return;
        fi->family = 6;
    } else {
        return;
    }
    fi->l3 = l3;
    fi->l4 = l4;
    fi->payload = l4 + 8;
    fi->plen = ulen - 8;
    fi->kind = K_UDP_OTHER;

    const unsigned char *m = f + fi->payload;

    if (fi->plen < 4 || m[1] || m[2] || m[3])
        return;
    if (m[0] == 1 && fi->plen == 148)
        fi->kind = K_INIT;
    else if (m[0] == 2 && fi->plen == 92)
        fi->kind = K_RESP;
    else if (m[0] == 3 && fi->plen == 64)
        fi->kind = K_COOKIE;
    else if (m[0] == 4 && fi->plen >= 32)   /* padded to 16, but not past the MTU */
        fi->kind = fi->plen == 32 ? K_KEEPALIVE : K_DATA;
}

/* Where a corrupting flip may land, [lo, hi) within the UDP payload, so
 * that WireGuard must reject the message for one known reason:
 *   data, keepalive: past the 16-byte header (type, reserved, receiver
 *     index, counter) - the ciphertext or the tag: authentication fails;
 *   initiation, response: past both indices (12) and before mac1 (len-32):
 *     bytes mac1 covers, so mac1 fails (an initiation's shows up as the
 *     device's bad_mac1; a response's is checked inside the tunnel);
 *   cookie reply: past the receiver index: its AEAD fails;
 *   other UDP: anywhere. Not UDP: never corrupted.
 * Returns false when the frame has no such byte. */
static bool corrupt_range(const struct frame_info *fi, size_t *lo, size_t *hi)
{
    switch (fi->kind) {
    case K_DATA:
    case K_KEEPALIVE: *lo = 16; *hi = fi->plen; break;
    case K_INIT:
    case K_RESP: *lo = 12; *hi = fi->plen - 32; break;
    case K_COOKIE: *lo = 8; *hi = fi->plen; break;
    case K_UDP_OTHER: *lo = 0; *hi = fi->plen; break;
    default: return false;
    }
    return *hi > *lo;
}

static uint32_t sum16(uint32_t s, const unsigned char *p, size_t n)
{
    for (; n > 1; p += 2, n -= 2)
        s += (uint32_t)(p[0] << 8 | p[1]);
    if (n)
        s += (uint32_t)p[0] << 8;
    return s;
}

/* The full UDP checksum (pseudo-header, header, payload) into the frame. */
static void udp_checksum(unsigned char *f, const struct frame_info *fi)
{
    unsigned char *u = f + fi->l4;
    size_t ulen = get16(u + 4);
    uint32_t s = 0;
    uint16_t c;

    if (fi->family == 4) {
        s = sum16(s, f + fi->l3 + 12, 8);   /* source, destination */
        s += IPPROTO_UDP + (uint32_t)ulen;
    } else {
        s = sum16(s, f + fi->l3 + 8, 32);
        s += IPPROTO_UDP + (uint32_t)ulen;  /* upper-layer length < 65536 */
    }
    u[6] = u[7] = 0;
    s = sum16(s, u, ulen);
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    c = (uint16_t)~s;
    if (c == 0)
        c = 0xffff;                         /* 0 means "no checksum" */
    u[6] = (unsigned char)(c >> 8);
    u[7] = (unsigned char)c;
}

/* ------------------------------------------------------------ directions */

struct spec {
    double loss, dup, corrupt;              /* percent */
    double delay_ms, jitter_ms;
};

/* One frame read; its copies in the delay queue share it. */
struct packet {
    unsigned refs;                          /* queue entries */
    bool sent_any, corrupted;
    enum kind kind;
    uint64_t seq;                           /* read order in its direction */
    uint32_t len;
    unsigned char data[];
};

struct qent {
    uint64_t due_ns, order;
    struct packet *p;
};

struct kind_counters { uint64_t rx, dropped, sent, corrupted, dup, unique; };

struct counters {
    uint64_t rx, forwarded, dropped, duplicated, corrupted, reordered, delayed, oversize,
        queue_full, send_errors, kernel_drops;
    struct kind_counters k[K_COUNT];
};

struct dir {
    const char *name;                       /* "ab" or "ba" */
    const char *in_if, *out_if;
    int in_fd, out_fd;
    size_t max_frame;                       /* input MTU + Ethernet header */
    struct spec sp;
    uint64_t rng;
    struct qent *heap;
    size_t n, cap, max_queue;
    uint64_t next_seq, max_sent_seq, next_order;
    bool any_sent;
    struct counters c;
};

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static bool qless(const struct qent *a, const struct qent *b)
{
    return a->due_ns < b->due_ns || (a->due_ns == b->due_ns && a->order < b->order);
}

static bool heap_push(struct dir *d, struct qent e)
{
    size_t i;

    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 1024;
        struct qent *h = realloc(d->heap, cap * sizeof(*h));

        if (!h)
            return false;
        d->heap = h;
        d->cap = cap;
    }
    i = d->n++;
    while (i > 0 && qless(&e, &d->heap[(i - 1) / 2])) {
        d->heap[i] = d->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    d->heap[i] = e;
    return true;
}

static struct qent heap_pop(struct dir *d)
{
    struct qent top = d->heap[0], last = d->heap[--d->n];
    size_t i = 0;

    for (;;) {
        size_t c = 2 * i + 1;

        if (c >= d->n)
            break;
        if (c + 1 < d->n && qless(&d->heap[c + 1], &d->heap[c]))
            c++;
        if (!qless(&d->heap[c], &last))
            break;
        d->heap[i] = d->heap[c];
        i = c;
    }
    if (d->n)
        d->heap[i] = last;
    return top;
}

static void packet_put(struct packet *p)
{
    if (--p->refs == 0)
        free(p);
}

/* One copy onto the wire. */
static void send_copy(struct dir *d, struct packet *p)
{
    struct kind_counters *k = &d->c.k[p->kind];

    if (send(d->out_fd, p->data, p->len, 0) != (ssize_t)p->len) {
        d->c.send_errors++;
        return;
    }
    d->c.forwarded++;
    k->sent++;
    if (p->corrupted)
        k->corrupted++;
    else if (p->sent_any)
        k->dup++;
    else
        k->unique++;
    p->sent_any = true;
    if (d->any_sent && p->seq < d->max_sent_seq)
        d->c.reordered++;
    if (!d->any_sent || p->seq > d->max_sent_seq)
        d->max_sent_seq = p->seq;
    d->any_sent = true;
}

static void handle_frame(struct dir *d, unsigned char *buf, size_t len, uint64_t now)
{
    struct frame_info fi;
    struct packet *p;
    size_t lo, hi;
    unsigned copies;
    /* Three draws per frame, always in this order: reproducible streams. */
    double r_loss = rng_unit(&d->rng), r_corrupt = rng_unit(&d->rng), r_dup = rng_unit(&d->rng);

    d->c.rx++;
    if (len > d->max_frame) {
        d->c.oversize++;
        return;
    }
    classify(buf, len, &fi);
    d->c.k[fi.kind].rx++;
    if (r_loss * 100.0 < d->sp.loss) {
        d->c.dropped++;
        d->c.k[fi.kind].dropped++;
        return;
    }
    p = malloc(sizeof(*p) + len);
    if (!p) {
        d->c.queue_full++;
        return;
    }
    memcpy(p->data, buf, len);
    p->len = (uint32_t)len;
    p->kind = fi.kind;
    p->seq = d->next_seq++;
    p->sent_any = false;
    p->corrupted = false;
    if (r_corrupt * 100.0 < d->sp.corrupt && corrupt_range(&fi, &lo, &hi)) {
        uint64_t r = rng_next(&d->rng);
        size_t at = fi.payload + lo + (size_t)(r % (hi - lo));

        p->data[at] ^= (unsigned char)(1 + (r >> 32) % 255);   /* never 0: a real change */
        p->corrupted = true;
        d->c.corrupted++;
    }
    if (fi.family)
        udp_checksum(p->data, &fi);
    copies = 1;
    if (r_dup * 100.0 < d->sp.dup) {
        copies = 2;
        d->c.duplicated++;
    }
    if (d->sp.delay_ms <= 0 && d->sp.jitter_ms <= 0) {
        p->refs = 1;
        for (unsigned i = 0; i < copies; i++)
            send_copy(d, p);
        packet_put(p);
        return;
    }
    p->refs = 1;                            /* ours until the copies are queued */
    for (unsigned i = 0; i < copies; i++) {
        double ms = d->sp.delay_ms + (2.0 * rng_unit(&d->rng) - 1.0) * d->sp.jitter_ms;
        struct qent e = { now + (uint64_t)(ms > 0 ? ms * 1e6 : 0), d->next_order++, p };

        if (d->n >= d->max_queue || !heap_push(d, e)) {
            d->c.queue_full++;
            continue;
        }
        p->refs++;
        d->c.delayed++;
    }
    packet_put(p);
}

/* Send what is due. Returns the next due time, or 0 when empty. */
static uint64_t release_due(struct dir *d, uint64_t now)
{
    while (d->n && d->heap[0].due_ns <= now) {
        struct qent e = heap_pop(d);

        send_copy(d, e.p);
        packet_put(e.p);
    }
    return d->n ? d->heap[0].due_ns : 0;
}

/* Read what is queued on d's input, up to a bound. */
static int read_frames(struct dir *d, unsigned char *buf)
{
    for (int i = 0; i < READS_PER_TURN; i++) {
        struct sockaddr_ll from;
        socklen_t flen = sizeof(from);
        ssize_t n = recvfrom(d->in_fd, buf, MAX_FRAME, MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&from,
                             &flen);

        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return 0;
            perror("wb_impair: recvfrom");
            return -1;
        }
        /* Our own sends, should PACKET_IGNORE_OUTGOING be missing. */
        if (from.sll_pkttype == PACKET_OUTGOING)
            continue;
        handle_frame(d, buf, (size_t)n, now_ns());
    }
    return 0;
}

/* ------------------------------------------------------------------ setup */

static int open_if(const char *ifname, size_t *max_frame)
{
    int fd = socket(AF_PACKET, SOCK_RAW, 0), one = 1, rcvbuf = 8 << 20;
    struct sockaddr_ll sll;
    struct packet_mreq mr;
    struct ifreq ifr;
    unsigned idx = if_nametoindex(ifname);

    if (!idx) {
        fprintf(stderr, "wb_impair: no interface %s\n", ifname);
        return -1;
    }
    if (fd < 0) {
        perror("wb_impair: socket(AF_PACKET)");
        return -1;
    }
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
    if (ioctl(fd, SIOCGIFMTU, &ifr) < 0) {
        perror("wb_impair: SIOCGIFMTU");
        close(fd);
        return -1;
    }
    *max_frame = (size_t)ifr.ifr_mtu + 14;
    if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0)
        fprintf(stderr, "wb_impair: PACKET_IGNORE_OUTGOING: %s (filtering by packet type)\n",
                strerror(errno));
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    /* Bound with protocol ETH_P_ALL: until then (protocol 0) nothing is
     * queued, so no frame of another interface slips in. */
    memset(&sll, 0, sizeof(sll));
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = (int)idx;
    if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
        fprintf(stderr, "wb_impair: bind %s: %s\n", ifname, strerror(errno));
        close(fd);
        return -1;
    }
    /* Frames for the far side's MAC are "other host": a veth passes them
     * anyway, promiscuous mode makes sure on any device. */
    memset(&mr, 0, sizeof(mr));
    mr.mr_ifindex = (int)idx;
    mr.mr_type = PACKET_MR_PROMISC;
    if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0)
        fprintf(stderr, "wb_impair: promiscuous %s: %s\n", ifname, strerror(errno));
    return fd;
}

static int parse_spec(const char *text, struct spec *sp)
{
    char *copy = strdup(text), *save = NULL, *tok;
    int ret = 0;

    if (!copy)
        return -1;
    memset(sp, 0, sizeof(*sp));
    for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '='), *end;
        double v;

        if (strcmp(tok, "none") == 0)
            continue;
        if (!eq) {
            ret = -1;
            break;
        }
        *eq = '\0';
        v = strtod(eq + 1, &end);
        if (end == eq + 1 || *end || v < 0) {
            ret = -1;
            break;
        }
        if (strcmp(tok, "loss") == 0)
            sp->loss = v;
        else if (strcmp(tok, "dup") == 0)
            sp->dup = v;
        else if (strcmp(tok, "corrupt") == 0)
            sp->corrupt = v;
        else if (strcmp(tok, "delay") == 0)
            sp->delay_ms = v;
        else if (strcmp(tok, "jitter") == 0)
            sp->jitter_ms = v;
        else {
            ret = -1;
            break;
        }
        if ((sp->loss > 100 || sp->dup > 100 || sp->corrupt > 100) && ret == 0)
            ret = -1;
    }
    free(copy);
    if (ret)
        fprintf(stderr, "wb_impair: bad impairment '%s' (none, or loss=%%,delay=ms,jitter=ms,dup=%%,corrupt=%%)\n",
                text);
    return ret;
}

/* --------------------------------------------------------------- counters */

static void collect_kernel_drops(struct dir *d)
{
    struct tpacket_stats st;
    socklen_t len = sizeof(st);

    /* Reading resets them: accumulate. */
    if (getsockopt(d->in_fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
        d->c.kernel_drops += st.tp_drops;
}

static void write_dir(FILE *f, const struct dir *d)
{
    const struct counters *c = &d->c;

    fprintf(f, "\"%s\":{\"from\":\"%s\",\"to\":\"%s\",", d->name, d->in_if, d->out_if);
    fprintf(f, "\"spec\":{\"loss\":%g,\"delay_ms\":%g,\"jitter_ms\":%g,\"dup\":%g,\"corrupt\":%g},",
            d->sp.loss, d->sp.delay_ms, d->sp.jitter_ms, d->sp.dup, d->sp.corrupt);
    fprintf(f,
            "\"rx\":%llu,\"forwarded\":%llu,\"dropped\":%llu,\"duplicated\":%llu,\"corrupted\":%llu,"
            "\"reordered\":%llu,\"delayed\":%llu,\"oversize\":%llu,\"queue_full\":%llu,"
            "\"send_errors\":%llu,\"pending\":%llu,\"kernel_drops\":%llu,\"kinds\":{",
            (unsigned long long)c->rx, (unsigned long long)c->forwarded, (unsigned long long)c->dropped,
            (unsigned long long)c->duplicated, (unsigned long long)c->corrupted,
            (unsigned long long)c->reordered, (unsigned long long)c->delayed,
            (unsigned long long)c->oversize, (unsigned long long)c->queue_full,
            (unsigned long long)c->send_errors, (unsigned long long)d->n,
            (unsigned long long)c->kernel_drops);
    for (int i = 0; i < K_COUNT; i++) {
        const struct kind_counters *k = &c->k[i];

        fprintf(f,
                "%s\"%s\":{\"rx\":%llu,\"dropped\":%llu,\"sent\":%llu,\"corrupted\":%llu,\"dup\":%llu,"
                "\"unique\":%llu}",
                i ? "," : "", kind_names[i], (unsigned long long)k->rx, (unsigned long long)k->dropped,
                (unsigned long long)k->sent, (unsigned long long)k->corrupted, (unsigned long long)k->dup,
                (unsigned long long)k->unique);
    }
    fprintf(f, "}}");
}

static int write_stats(const char *path, uint64_t seed, struct dir *dirs)
{
    char tmp[4096];
    FILE *f;

    if (!path)
        return 0;
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "wb_impair: %s: %s\n", tmp, strerror(errno));
        return -1;
    }
    for (int i = 0; i < 2; i++)
        collect_kernel_drops(&dirs[i]);
    fprintf(f, "{\"seed\":%llu,\"a\":\"%s\",\"b\":\"%s\",", (unsigned long long)seed, dirs[0].in_if,
            dirs[0].out_if);
    write_dir(f, &dirs[0]);
    fputc(',', f);
    write_dir(f, &dirs[1]);
    fprintf(f, "}\n");
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "wb_impair: writing %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------- main */

static volatile sig_atomic_t stop, dump;

static void on_signal(int sig)
{
    if (sig == SIGUSR1)
        dump = 1;
    else
        stop = 1;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: wb_impair -a IF -b IF [--ab SPEC] [--ba SPEC] [--both SPEC] [-s SEED]\n"
               "                 [-o STATS.json] [--ready FILE] [--queue N]\n"
               "SPEC: none | loss=%%,delay=ms,jitter=ms,dup=%%,corrupt=%% (comma-separated)\n"
               "Forwards frames between IF a and IF b (AF_PACKET), impairing each direction\n"
               "(ab: a -> b, ba: b -> a); SIGTERM/SIGINT write STATS.json and exit, SIGUSR1 writes it.\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "ab", required_argument, NULL, 1 },   { "ba", required_argument, NULL, 2 },
        { "both", required_argument, NULL, 3 }, { "ready", required_argument, NULL, 4 },
        { "queue", required_argument, NULL, 5 }, { "seed", required_argument, NULL, 's' },
        { "stats", required_argument, NULL, 'o' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct dir dirs[2];
    const char *if_a = NULL, *if_b = NULL, *stats = NULL, *ready = NULL;
    uint64_t seed = 1;
    size_t max_queue = 65536;
    unsigned char *buf;
    struct sigaction sa;
    sigset_t block, empty;
    int opt, err = 0;

    memset(dirs, 0, sizeof(dirs));
    while ((opt = getopt_long(argc, argv, "a:b:s:o:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'a': if_a = optarg; break;
        case 'b': if_b = optarg; break;
        case 's': seed = strtoull(optarg, NULL, 0); break;
        case 'o': stats = optarg; break;
        case 1:
            if (parse_spec(optarg, &dirs[0].sp))
                return 2;
            break;
        case 2:
            if (parse_spec(optarg, &dirs[1].sp))
                return 2;
            break;
        case 3:
            if (parse_spec(optarg, &dirs[0].sp))
                return 2;
            dirs[1].sp = dirs[0].sp;
            break;
        case 4: ready = optarg; break;
        case 5: max_queue = strtoull(optarg, NULL, 0); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!if_a || !if_b || optind != argc) {
        usage(stderr);
        return 2;
    }
    buf = malloc(MAX_FRAME);
    if (!buf)
        return 1;
    dirs[0].name = "ab", dirs[0].in_if = if_a, dirs[0].out_if = if_b;
    dirs[1].name = "ba", dirs[1].in_if = if_b, dirs[1].out_if = if_a;
    dirs[0].in_fd = open_if(if_a, &dirs[0].max_frame);
    dirs[1].in_fd = dirs[0].in_fd < 0 ? -1 : open_if(if_b, &dirs[1].max_frame);
    if (dirs[0].in_fd < 0 || dirs[1].in_fd < 0)
        return 1;
    dirs[0].out_fd = dirs[1].in_fd;
    dirs[1].out_fd = dirs[0].in_fd;
    /* A frame must fit both sides' MTU. */
    if (dirs[1].max_frame < dirs[0].max_frame)
        dirs[0].max_frame = dirs[1].max_frame;
    dirs[1].max_frame = dirs[0].max_frame;
    for (int i = 0; i < 2; i++) {
        uint64_t s = seed ^ (i ? 0x5bd1e9955bd1e995ull : 0);

        dirs[i].rng = rng_next(&s);         /* one stream per direction */
        dirs[i].max_queue = max_queue;
    }

    /* Signals are blocked except inside ppoll: none is lost between a
     * check of the flags and the wait. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sigemptyset(&empty);

    if (ready) {
        FILE *f = fopen(ready, "w");

        if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0) {
            fprintf(stderr, "wb_impair: %s: %s\n", ready, strerror(errno));
            return 1;
        }
    }
    fprintf(stderr, "wb_impair: %s <-> %s, seed %llu, ab: loss %g%% delay %g+-%g ms dup %g%% corrupt %g%%; "
            "ba: loss %g%% delay %g+-%g ms dup %g%% corrupt %g%%\n",
            if_a, if_b, (unsigned long long)seed, dirs[0].sp.loss, dirs[0].sp.delay_ms,
            dirs[0].sp.jitter_ms, dirs[0].sp.dup, dirs[0].sp.corrupt, dirs[1].sp.loss,
            dirs[1].sp.delay_ms, dirs[1].sp.jitter_ms, dirs[1].sp.dup, dirs[1].sp.corrupt);

    while (!stop) {
        struct pollfd pfd[2] = { { dirs[0].in_fd, POLLIN, 0 }, { dirs[1].in_fd, POLLIN, 0 } };
        uint64_t now = now_ns(), next = 0;
        struct timespec ts = { 1, 0 };
        int r;

        for (int i = 0; i < 2; i++) {
            uint64_t due = release_due(&dirs[i], now);

            if (due && (!next || due < next))
                next = due;
        }
        if (next) {
            uint64_t wait = next > now ? next - now : 0;

            if (wait < 1000000000ull)
                ts = (struct timespec){ 0, (long)wait };
        }
        r = ppoll(pfd, 2, &ts, &empty);
        if (r < 0 && errno != EINTR) {
            perror("wb_impair: ppoll");
            err = 1;
            break;
        }
        if (dump) {
            dump = 0;
            write_stats(stats, seed, dirs);
        }
        for (int i = 0; r > 0 && i < 2; i++) {
            if (pfd[i].revents & (POLLERR | POLLNVAL)) {
                fprintf(stderr, "wb_impair: error on %s\n", dirs[i].in_if);
                stop = err = 1;
            } else if ((pfd[i].revents & POLLIN) && read_frames(&dirs[i], buf) < 0) {
                stop = err = 1;
            }
        }
    }
    if (write_stats(stats, seed, dirs) != 0)
        return 1;
    for (int i = 0; i < 2; i++) {
        while (dirs[i].n)
            packet_put(heap_pop(&dirs[i]).p);
        free(dirs[i].heap);
        close(dirs[i].in_fd);
    }
    free(buf);
    fprintf(stderr, "wb_impair: stopped\n");
    return err;
}
