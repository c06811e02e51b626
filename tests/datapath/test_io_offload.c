/* SPDX-License-Identifier: MIT */
/*
 * test_io_offload.c - the Linux backend's offloads against the real
 * kernel, in a private network namespace (root; exit 77 otherwise):
 *   - which offloads a kernel of today grants, and that each refusal an
 *     older kernel would give leaves a working backend (injected, since
 *     this kernel cannot be made to refuse);
 *   - UDP GSO: a run of equal-size datagrams leaves as one UDP_SEGMENT
 *     send and arrives as separate datagrams, in order; a run the route
 *     cannot segment (EMSGSIZE: segment above the MTU) goes again datagram
 *     by datagram with GSO kept; EIO (injected) turns GSO off for good and
 *     loses nothing;
 *   - UDP GRO: a coalesced datagram is handed out over several bursts,
 *     wait() reporting the rest ready;
 *   - TUN TSO/GRO with a TCP connection whose far end this test plays
 *     through the TUN: the kernel's TSO super-packets are split into
 *     segments with valid checksums and contiguous sequence numbers, and
 *     a run of segments written back is coalesced and reaches the socket
 *     whole and in order (IPv4 and IPv6).
 */
#include <fcntl.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include "datapath/csum.h"
#include "datapath/io_harness.h"
#include "datapath/io_linux.h"
#include "datapath/tun_offload.h"

#define POOL 256
#define MSS 1000

static struct pkt *pool[POOL];

static void reset_pool(void)
{
    for (unsigned i = 0; i < POOL; i++)
        pkt_reset(pool[i]);
}

static void stats(struct io_backend *io, struct io_linux_stats *st)
{
    io_linux_stats(io, st);
}

/* Receive up to want datagrams from the backend's queue 0 into pool,
 * in bursts of at most burst. */
static unsigned udp_collect(struct io_backend *io, unsigned want, unsigned burst)
{
    unsigned got = 0;

    reset_pool();
    for (int step = 0; step < WAIT_STEPS && got < want; step++) {
        int mask = io->ops->wait(io, 0, WAIT_STEP_MS);
        int n;

        if (mask <= 0 || !(mask & IO_READY_UDP))
            continue;
        step = 0;
        n = io->ops->udp_rx_burst(io, 0, pool + got, want - got < burst ? want - got : burst);
        if (n > 0)
            got += (unsigned)n;
    }
    return got;
}

/* --------------------------------------------------------------------- UDP */

/* count datagrams of size each (the last `last` bytes) to 127.0.0.1:port;
 * returns how many the burst took. */
static int send_run(struct io_backend *io, uint16_t port, unsigned count, uint32_t size, uint32_t last)
{
    reset_pool();
    for (unsigned i = 0; i < count; i++) {
        pool[i]->len = i + 1 < count ? size : last;
        memset(pool[i]->data, (int)('a' + i % 26), pool[i]->len);
        pool[i]->remote = endpoint("127.0.0.1", port);
    }
    return io->ops->udp_tx_burst(io, 0, pool, count);
}

/* The datagrams of send_run arrive at fd, in order. */
static bool run_arrived(int fd, unsigned count, uint32_t size, uint32_t last)
{
    static char buf[4096];
    char from[INET6_ADDRSTRLEN];
    uint16_t port;

    for (unsigned i = 0; i < count; i++) {
        ssize_t n = recv_from(fd, buf, sizeof(buf), from, &port);
        uint32_t want = i + 1 < count ? size : last;

        if (n != (ssize_t)want || buf[0] != 'a' + (int)(i % 26) || buf[want - 1] != buf[0])
            return false;
    }
    return true;
}

static void test_udp_gso(struct io_backend *io)
{
    int c = plain_socket("127.0.0.1", 0);
    struct io_linux_stats a, b;

    stats(io, &a);
    CHECK(send_run(io, socket_port(c), 21, 1000, 300) == 21);
    stats(io, &b);
    CHECK(b.udp_tx_gso_sends == a.udp_tx_gso_sends + 1);
    CHECK(b.udp_tx_gso_segments == a.udp_tx_gso_segments + 21);
    CHECK(run_arrived(c, 21, 1000, 300));

    /* A route the segments do not fit (lo at MTU 1500, 2000-byte
     * datagrams): EINVAL, that run sent one by one (fragmented), GSO kept. */
    CHECK(netlink_link_set_mtu(1, 1500) == 0);
    stats(io, &a);
    CHECK(send_run(io, socket_port(c), 3, 2000, 2000) == 3);
    stats(io, &b);
    CHECK(run_arrived(c, 3, 2000, 2000));
    CHECK(b.udp_tx_gso_sends == a.udp_tx_gso_sends && b.udp_gso_disabled == a.udp_gso_disabled);
    CHECK(io_linux_offloads(io) & IO_OFFLOAD_UDP_GSO);
    CHECK(netlink_link_set_mtu(1, 65536) == 0);

    /* EIO, as some drivers answer: off for good, nothing lost. */
    io_linux_debug_gso_eio(io, 0);
    stats(io, &a);
    CHECK(send_run(io, socket_port(c), 8, 1200, 1200) == 8);
    stats(io, &b);
    CHECK(run_arrived(c, 8, 1200, 1200));
    CHECK(b.udp_gso_disabled == a.udp_gso_disabled + 1 && b.udp_tx_gso_sends == a.udp_tx_gso_sends);
    CHECK(!(io_linux_offloads(io) & IO_OFFLOAD_UDP_GSO));
    CHECK(send_run(io, socket_port(c), 4, 500, 500) == 4 && run_arrived(c, 4, 500, 500));
    close(c);
}

/* A sender that coalesces: one sendmsg with UDP_SEGMENT. */
static ssize_t send_segmented(int fd, uint16_t port, const uint8_t *buf, size_t len, uint16_t seg)
{
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
    struct iovec iov = { (void *)buf, len };
    union { struct cmsghdr align; char b[CMSG_SPACE(sizeof(uint16_t))]; } ctrl;
    struct msghdr m = { .msg_name = &to, .msg_namelen = sizeof(to), .msg_iov = &iov, .msg_iovlen = 1,
                        .msg_control = ctrl.b, .msg_controllen = sizeof(ctrl.b) };
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m);

    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    memset(&ctrl, 0, sizeof(ctrl));
    cm->cmsg_level = SOL_UDP;
    cm->cmsg_type = UDP_SEGMENT;
    cm->cmsg_len = CMSG_LEN(sizeof(seg));
    memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
    return sendmsg(fd, &m, 0);
}

static void test_udp_gro(struct io_backend *io)
{
    int c = plain_socket("127.0.0.1", 0);
    static uint8_t buf[10 * 1200 + 700];
    struct io_linux_stats a, b;
    bool ok = true;

    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i / 1200 + i * 13);
    stats(io, &a);
    CHECK(send_segmented(c, io->ops->listen_port(io), buf, sizeof(buf), 1200) == (ssize_t)sizeof(buf));
    /* Bursts of 4: the coalesced datagram is handed out over three. */
    CHECK(udp_collect(io, 11, 4) == 11);
    for (unsigned i = 0; i < 11; i++)
        ok &= pool[i]->len == (i < 10 ? 1200u : 700u) &&
              memcmp(pool[i]->data, buf + 1200 * i, pool[i]->len) == 0 &&
              endpoint_is(&pool[i]->remote, "127.0.0.1", socket_port(c)) &&
              endpoint_is(&pool[i]->local, "127.0.0.1", io->ops->listen_port(io));
    CHECK(ok);
    stats(io, &b);
    CHECK(b.udp_rx_gro_datagrams == a.udp_rx_gro_datagrams + 1);
    CHECK(b.udp_rx_gro_segments == a.udp_rx_gro_segments + 11);
    close(c);
}

/* ------------------------------------------------------------- TCP, TUN */

struct flow {
    int family;
    uint8_t local[16], far[16];    /* the socket's address; the far end's, behind the TUN */
    uint16_t lport, fport;
    uint32_t lseq;                 /* next sequence number expected from the socket */
    uint32_t fseq;                 /* next one the far end sends */
};

static size_t ip_hdr_len(int family) { return family == 4 ? 20 : 40; }

/* A TCP segment from the far end into p (checksums done). */
static void build_tcp(struct pkt *p, const struct flow *f, uint32_t seq, uint8_t flags,
                      const uint8_t *payload, size_t len)
{
    size_t ip = ip_hdr_len(f->family), alen = f->family == 4 ? 4 : 16;
    size_t th = flags & 0x02 ? 24 : 20, total = ip + th + len;
    uint8_t *d = p->data;

    memset(d, 0, ip + th);
    if (f->family == 4) {
        d[0] = 0x45;
        d[2] = (uint8_t)(total >> 8), d[3] = (uint8_t)total;
        d[6] = 0x40, d[8] = 64, d[9] = IPPROTO_TCP;
        memcpy(d + 12, f->far, 4);
        memcpy(d + 16, f->local, 4);
        csum_store(d + 10, csum_add(0, d, 20));
    } else {
        d[0] = 0x60;
        d[4] = (uint8_t)((total - 40) >> 8), d[5] = (uint8_t)(total - 40);
        d[6] = IPPROTO_TCP, d[7] = 64;
        memcpy(d + 8, f->far, 16);
        memcpy(d + 24, f->local, 16);
    }
    d[ip] = (uint8_t)(f->fport >> 8), d[ip + 1] = (uint8_t)f->fport;
    d[ip + 2] = (uint8_t)(f->lport >> 8), d[ip + 3] = (uint8_t)f->lport;
    for (int k = 0; k < 4; k++) {
        d[ip + 4 + k] = (uint8_t)(seq >> (24 - 8 * k));
        d[ip + 8 + k] = (uint8_t)(f->lseq >> (24 - 8 * k));
    }
    d[ip + 12] = (uint8_t)((th / 4) << 4);
    d[ip + 13] = flags;
    d[ip + 14] = 0xff, d[ip + 15] = 0xff;
    if (th == 24)
        d[ip + 20] = 2, d[ip + 21] = 4, d[ip + 22] = MSS >> 8, d[ip + 23] = MSS & 0xff;
    if (len)
        memcpy(d + ip + th, payload, len);
    csum_store(d + ip + 16, csum_add(csum_pseudo(d + (f->family == 4 ? 12 : 8),
                                                 d + (f->family == 4 ? 16 : 24), alen, IPPROTO_TCP,
                                                 (uint32_t)(th + len)),
                                     d + ip, th + len));
    p->len = (uint32_t)total;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Is p a TCP packet of the flow from the socket? Returns its TCP offset. */
static size_t tcp_of_flow(const struct pkt *p, const struct flow *f)
{
    size_t ip = ip_hdr_len(f->family);

    if (p->len < ip + 20 || p->data[0] >> 4 != f->family ||
        p->data[f->family == 4 ? 9 : 6] != IPPROTO_TCP)
        return 0;
    if (memcmp(p->data + (f->family == 4 ? 16 : 24), f->far, f->family == 4 ? 4 : 16) != 0)
        return 0;
    return ip;
}

static bool tcp_csum_ok(const struct pkt *p, size_t ip, int family)
{
    size_t alen = family == 4 ? 4 : 16;
    const uint8_t *src = p->data + (family == 4 ? 12 : 8);

    return csum_fold(csum_add(csum_pseudo(src, src + alen, alen, IPPROTO_TCP, p->len - (uint32_t)ip),
                              p->data + ip, p->len - ip)) == 0xffff &&
           (family == 6 || csum_fold(csum_add(0, p->data, 20)) == 0xffff);
}

/* Read TUN packets of the flow until `bytes` of payload came (or the SYN
 * when bytes is 0); check each segment. */
static size_t read_flow(struct io_backend *io, struct flow *f, size_t bytes, const uint8_t *expect,
                        bool *segments_ok)
{
    size_t got = 0;

    for (int step = 0; step < WAIT_STEPS; step++) {
        int n;

        io->ops->wait(io, 0, WAIT_STEP_MS);
        reset_pool();
        n = io->ops->tun_rx_burst(io, 0, pool, 16);
        for (int i = 0; i < n; i++) {
            size_t ip = tcp_of_flow(pool[i], f), th, len;

            if (!ip)
                continue;                      /* the host's own IPv6 chatter */
            th = (size_t)(pool[i]->data[ip + 12] >> 4) * 4;
            len = pool[i]->len - ip - th;
            *segments_ok &= tcp_csum_ok(pool[i], ip, f->family) && len <= MSS;
            if (pool[i]->data[ip + 13] & 0x02) {              /* SYN */
                f->lport = (uint16_t)(pool[i]->data[ip] << 8 | pool[i]->data[ip + 1]);
                f->lseq = get32(pool[i]->data + ip + 4) + 1;
                if (!bytes)
                    return 0;
                continue;
            }
            if (!len)
                continue;
            *segments_ok &= get32(pool[i]->data + ip + 4) == f->lseq &&
                            memcmp(pool[i]->data + ip + th, expect + got, len) == 0;
            f->lseq += (uint32_t)len;
            got += len;
        }
        if (n > 0)
            step = 0;
        if (bytes && got >= bytes)
            break;
    }
    return got;
}

/* Read from a TCP socket until cap bytes came (or the bound passed). */
static size_t recv_all(int fd, uint8_t *buf, size_t cap)
{
    size_t n = 0;

    for (int step = 0; step < WAIT_STEPS && n < cap; step++) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        ssize_t r;

        poll(&pfd, 1, WAIT_STEP_MS);
        r = recv(fd, buf + n, cap - n, 0);
        if (r > 0)
            n += (size_t)r;
    }
    return n;
}

static void test_tcp(struct io_backend *io, int family)
{
    struct flow f = { .family = family, .fport = 80, .fseq = 7000 };
    struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(80) };
    struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons(80) };
    static uint8_t up[30000], down[20 * MSS + 333], got[sizeof(down)];
    struct io_linux_stats a, b;
    struct pollfd pfd;
    bool seg_ok = true;
    size_t n = 0;
    int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    inet_pton(family == 4 ? AF_INET : AF_INET6, family == 4 ? "10.77.0.1" : "fd77::1", f.local);
    inet_pton(family == 4 ? AF_INET : AF_INET6, family == 4 ? "10.77.0.9" : "fd77::9", f.far);
    memcpy(&s4.sin_addr, f.far, 4);
    memcpy(&s6.sin6_addr, f.far, 16);
    for (size_t i = 0; i < sizeof(up); i++)
        up[i] = (uint8_t)(i * 31 + i / 977);
    for (size_t i = 0; i < sizeof(down); i++)
        down[i] = (uint8_t)(i * 17 + 5);
    CHECK(connect(fd, family == 4 ? (struct sockaddr *)&s4 : (struct sockaddr *)&s6,
                  family == 4 ? sizeof(s4) : sizeof(s6)) < 0 && errno == EINPROGRESS);
    read_flow(io, &f, 0, NULL, &seg_ok);                           /* the SYN */
    CHECK(f.lport != 0);
    reset_pool();
    build_tcp(pool[0], &f, f.fseq++, 0x12 /* SYN|ACK */, NULL, 0);
    CHECK(io->ops->tun_tx_burst(io, 0, pool, 1) == 1);
    pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
    CHECK(poll(&pfd, 1, WAIT_STEP_MS * WAIT_STEPS) == 1);

    /* Up: the socket's data leaves through the TUN as TSO super-packets. */
    stats(io, &a);
    CHECK(send(fd, up, sizeof(up), 0) > 0);
    CHECK(read_flow(io, &f, 10 * MSS, up, &seg_ok) >= 10 * MSS);   /* the first window */
    CHECK(seg_ok);
    stats(io, &b);
    if (io_linux_offloads(io) & IO_OFFLOAD_TUN_TSO)
        CHECK(b.tun_rx_super > a.tun_rx_super);

    /* Down: 21 in-order segments, one burst, coalesced on the way in. */
    reset_pool();
    for (unsigned i = 0; i * MSS < sizeof(down); i++) {
        size_t len = sizeof(down) - i * MSS < MSS ? sizeof(down) - i * MSS : MSS;

        build_tcp(pool[i], &f, f.fseq, (uint8_t)(len < MSS ? 0x18 : 0x10), down + i * MSS, len);
        f.fseq += (uint32_t)len;
        n++;
    }
    stats(io, &a);
    CHECK(io->ops->tun_tx_burst(io, 0, pool, (unsigned)n) == (int)n);
    stats(io, &b);
    if (io_linux_offloads(io) & IO_OFFLOAD_TUN_TSO)
        CHECK(b.tun_tx_gro_writes == a.tun_tx_gro_writes + 1 &&
              b.tun_tx_gro_segments == a.tun_tx_gro_segments + n);
    else
        CHECK(b.tun_tx_gro_writes == a.tun_tx_gro_writes);
    CHECK(b.tun_tx_dropped == a.tun_tx_dropped);
    n = recv_all(fd, got, sizeof(got));
    CHECK(n == sizeof(down) && memcmp(got, down, sizeof(down)) == 0);
    close(fd);
}

/* Down through the TUN once more, with the kernel refusing the
 * super-packet (injected): the group goes again packet by packet, all of
 * it arrives, and TCP is no longer coalesced. */
static void test_gro_refused(struct io_backend *io)
{
    struct flow f = { .family = 4, .fport = 81, .fseq = 900 };
    struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons(81) };
    static uint8_t down[8 * MSS], got[sizeof(down)];
    struct io_linux_stats a, b;
    struct pollfd pfd;
    bool seg_ok = true;
    size_t n = 0;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    inet_pton(AF_INET, "10.77.0.1", f.local);
    inet_pton(AF_INET, "10.77.0.9", f.far);
    memcpy(&s4.sin_addr, f.far, 4);
    for (size_t i = 0; i < sizeof(down); i++)
        down[i] = (uint8_t)(i * 7 + 1);
    CHECK(connect(fd, (struct sockaddr *)&s4, sizeof(s4)) < 0 && errno == EINPROGRESS);
    read_flow(io, &f, 0, NULL, &seg_ok);
    reset_pool();
    build_tcp(pool[0], &f, f.fseq++, 0x12, NULL, 0);
    CHECK(io->ops->tun_tx_burst(io, 0, pool, 1) == 1);
    pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
    CHECK(poll(&pfd, 1, WAIT_STEP_MS * WAIT_STEPS) == 1);
    reset_pool();
    for (unsigned i = 0; i < 8; i++) {
        build_tcp(pool[i], &f, f.fseq, 0x10, down + i * MSS, MSS);
        f.fseq += MSS;
    }
    io_linux_debug_gro_einval(io, 0);
    stats(io, &a);
    CHECK(io->ops->tun_tx_burst(io, 0, pool, 8) == 8);
    stats(io, &b);
    CHECK(b.tun_tx_gro_disabled == a.tun_tx_gro_disabled + 1 && b.tun_tx_gro_writes == a.tun_tx_gro_writes);
    CHECK(b.tun_tx_dropped == a.tun_tx_dropped);
    CHECK(!(io_linux_coalescing(io) & TUN_GRO_TCP));
    n = recv_all(fd, got, sizeof(got));
    CHECK(n == sizeof(down) && memcmp(got, down, sizeof(down)) == 0);
    close(fd);
}

/* UDP datagrams of one flow written down the TUN in one burst: coalesced
 * (GSO_UDP_L4) where the kernel took USO, and the socket gets each one. */
static void test_udp_down(struct io_backend *io)
{
    int s = plain_socket("10.77.0.1", 0);
    uint16_t port = socket_port(s);
    struct io_linux_stats a, b;
    char buf[2048], from[INET6_ADDRSTRLEN];
    uint16_t fport;
    bool ok = true;

    reset_pool();
    for (unsigned i = 0; i < 10; i++) {
        uint8_t *d = pool[i]->data;
        size_t plen = i < 9 ? 1200 : 500, len = 28 + plen;

        memset(d, 0, 28);
        d[0] = 0x45, d[2] = (uint8_t)(len >> 8), d[3] = (uint8_t)len, d[6] = 0x40, d[8] = 64, d[9] = 17;
        inet_pton(AF_INET, "10.77.0.9", d + 12);
        inet_pton(AF_INET, "10.77.0.1", d + 16);
        csum_store(d + 10, csum_add(0, d, 20));
        d[20] = 0x13, d[21] = 0x88;                                /* port 5000 */
        d[22] = (uint8_t)(port >> 8), d[23] = (uint8_t)port;
        d[24] = (uint8_t)((8 + plen) >> 8), d[25] = (uint8_t)(8 + plen);
        memset(d + 28, 'A' + (int)i, plen);
        csum_store(d + 26, csum_add(csum_pseudo(d + 12, d + 16, 4, IPPROTO_UDP, (uint32_t)(8 + plen)),
                                    d + 20, 8 + plen));
        pool[i]->len = (uint32_t)len;
    }
    stats(io, &a);
    CHECK(io->ops->tun_tx_burst(io, 0, pool, 10) == 10);
    stats(io, &b);
    if (io_linux_coalescing(io) & TUN_GRO_UDP)
        CHECK(b.tun_tx_gro_writes == a.tun_tx_gro_writes + 1);
    for (unsigned i = 0; i < 10; i++) {
        ssize_t r = recv_from(s, buf, sizeof(buf), from, &fport);

        ok &= r == (i < 9 ? 1200 : 500) && buf[0] == 'A' + (int)i && fport == 5000;
    }
    CHECK(ok);
    close(s);
}

/* ------------------------------------------------------------ refusals */

static struct io_backend *create(const char *tmpl, char *name)
{
    struct netlink_prefix a4 = { .family = AF_INET, .len = 24 }, a6 = { .family = AF_INET6, .len = 64 };
    int err = 0;
    struct io_backend *io = io_linux_create(tmpl, name, 1, &err);

    CHECK(io != NULL && err == 0);
    if (!io)
        return NULL;
    inet_pton(AF_INET, "10.77.0.1", a4.addr);
    inet_pton(AF_INET6, "fd77::1", a6.addr);
    CHECK(netlink_addr_add(io_linux_tun_ifindex(io), &a4) == 0);
    CHECK(netlink_addr_add(io_linux_tun_ifindex(io), &a6) == 0);
    CHECK(netlink_link_set_up(io_linux_tun_ifindex(io), true) == 0);
    return io;
}

/* Whatever the kernel refused, packets still cross both ways. */
static void test_refused(unsigned refuse, unsigned want_absent)
{
    char name[IFNAMSIZ];
    struct io_backend *io;
    int c = plain_socket("127.0.0.1", 0);

    io_linux_debug_refuse = refuse;
    io = create("wbr%d", name);
    io_linux_debug_refuse = 0;
    if (!io)
        return;
    CHECK((io_linux_offloads(io) & want_absent) == 0);
    if (!(want_absent & IO_OFFLOAD_TUN_VNET))
        CHECK(io_linux_offloads(io) & IO_OFFLOAD_TUN_VNET);
    CHECK(send_run(io, socket_port(c), 5, 800, 100) == 5 && run_arrived(c, 5, 800, 100));
    CHECK(send_to(c, "127.0.0.1", io->ops->listen_port(io), "x", 1) == 1);
    CHECK(udp_collect(io, 1, 8) == 1 && pool[0]->len == 1);
    test_tcp(io, 4);
    io->ops->destroy(io);
    close(c);
}

int main(void)
{
    char name[IFNAMSIZ];
    int ret = enter_namespace();
    struct io_backend *io;
    unsigned off;

    if (ret)
        return ret;
    /* No duplicate address detection in this private namespace: a
     * tentative fd77::1 would drop the far end's SYN-ACK for a second. */
    {
        FILE *f = fopen("/proc/sys/net/ipv6/conf/default/accept_dad", "w");

        CHECK(f && fputs("0", f) >= 0 && fclose(f) == 0);
    }
    for (unsigned i = 0; i < POOL; i++)
        if (!(pool[i] = pkt_alloc()))
            abort();
    io = create("wbo%d", name);
    if (!io)
        return check_summary();
    off = io_linux_offloads(io);
    printf("offloads granted: 0x%x\n", off);
    /* Linux 4.18+ has all but USO (6.2+). */
    CHECK((off & (IO_OFFLOAD_TUN_VNET | IO_OFFLOAD_TUN_CSUM | IO_OFFLOAD_TUN_TSO | IO_OFFLOAD_UDP_GSO |
                  IO_OFFLOAD_UDP_GRO)) == (IO_OFFLOAD_TUN_VNET | IO_OFFLOAD_TUN_CSUM | IO_OFFLOAD_TUN_TSO |
                                           IO_OFFLOAD_UDP_GSO | IO_OFFLOAD_UDP_GRO));
    test_udp_gro(io);
    test_tcp(io, 4);
    test_tcp(io, 6);
    test_udp_down(io);
    test_gro_refused(io);
    test_udp_gso(io);
    io->ops->destroy(io);

    test_refused(IO_OFFLOAD_TUN_VNET, IO_OFFLOAD_TUN_VNET | IO_OFFLOAD_TUN_TSO);
    test_refused(IO_OFFLOAD_TUN_USO | IO_OFFLOAD_TUN_TSO, IO_OFFLOAD_TUN_TSO | IO_OFFLOAD_TUN_USO);
    test_refused(IO_OFFLOAD_TUN_CSUM | IO_OFFLOAD_TUN_TSO | IO_OFFLOAD_TUN_USO,
                 IO_OFFLOAD_TUN_CSUM | IO_OFFLOAD_TUN_TSO);
    test_refused(IO_OFFLOAD_UDP_GSO | IO_OFFLOAD_UDP_GRO, IO_OFFLOAD_UDP_GSO | IO_OFFLOAD_UDP_GRO);
    for (unsigned i = 0; i < POOL; i++)
        pkt_free(pool[i]);
    return check_summary();
}
