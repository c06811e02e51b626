/* SPDX-License-Identifier: MIT */
/*
 * io_linux.c - the Linux I/O backend (io_linux.h): TUN queues read and
 * written packet by packet, UDP sockets driven with recvmmsg/sendmmsg and
 * pktinfo control messages, and per-queue epoll sets with an eventfd for
 * wake().
 *
 * Threads: bursts and wait() on queue q belong to the worker that owns q
 * (rx and tx keep separate scratch space, so the rx and tx side of one
 * queue may belong to two different threads); wake() and the stats
 * accessor may run on any thread; create, set_listen and destroy on the
 * control thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "datapath/io_linux.h"
#include "datapath/tun_offload.h"

/* Debian 12's linux/if_tun.h predates USO (Linux 6.2). */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif

#define BATCH 64                   /* datagrams per recvmmsg/sendmmsg call */
#define CTRL_SIZE 64               /* pktinfo (40 bytes) + UDP_SEGMENT / UDP_GRO (16) */
#define GSO_MAX_SEGS 64            /* datagrams per UDP_SEGMENT send (the kernel takes 64+) */
#define GSO_MAX_BYTES 65000        /* their total: under the IPv4 and IPv6 UDP limits */
#define GRO_BUFS 16                /* coalesced datagrams per recvmmsg with UDP_GRO */
#define GRO_BUF_SIZE 65536
#define TUN_READ_SIZE (VNET_HDR_LEN + PKT_DATA_MAX)
#define SOCKET_BUF_BYTES (7 << 20) /* socket buffers, as wireguard-go asks for */
#define PORT_RETRIES 100           /* port 0: the v4 port may be taken in v6 */
#define WAIT_EVENTS 8

enum { FAM_V4, FAM_V6, N_FAM };
enum { TAG_TUN = 1, TAG_UDP, TAG_WAKE };

union inet_sockaddr {
    struct sockaddr sa;
    struct sockaddr_in in4;
    struct sockaddr_in6 in6;
};

union cmsg_buf {
    struct cmsghdr align;
    uint8_t buf[CTRL_SIZE];
};

/* Scratch for one recvmmsg/sendmmsg call. On send a message may carry a
 * run of datagrams (UDP_SEGMENT): its iovecs are iov[first[m]...]. */
struct mmsg_scratch {
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    union inet_sockaddr names[BATCH];
    union cmsg_buf ctrl[BATCH];
    int8_t fam[BATCH];
    uint8_t first[BATCH], count[BATCH];
    bool has_src[BATCH];
};

/* What a coalesced datagram (UDP_GRO) came with, until its segments have
 * all been handed out. */
struct gro_meta {
    struct wb_endpoint remote, local;
    uint32_t local_ifindex;
    uint32_t len;
    uint16_t seg;                  /* segment size; 0: one datagram */
};

/* UDP_GRO receive: datagrams land here, then are cut into the caller's
 * buffers over as many bursts as they need. */
struct gro_rx {
    uint8_t *buf[GRO_BUFS];
    struct gro_meta meta[GRO_BUFS];
    struct mmsghdr msgs[GRO_BUFS];
    struct iovec iov[GRO_BUFS];
    union inet_sockaddr names[GRO_BUFS];
    union cmsg_buf ctrl[GRO_BUFS];
    unsigned n, i;                 /* received, being handed out */
    uint32_t off;                  /* bytes of buf[i] handed out */
};

struct io_queue {
    int tun_fd;
    int udp_fd[N_FAM];             /* -1: that family is unavailable */
    int epoll_fd;
    int wake_fd;                   /* eventfd: wake() writes, wait() drains */
    unsigned rx_first;             /* family read first (alternates: fairness) */
    /* Written by the owners of the sides, read by io_linux_stats (relaxed
     * atomics); the field names say which side. */
    struct io_linux_stats st;
    struct mmsg_scratch rx, tx;
    /* TUN rx with IFF_VNET_HDR: the read buffer and the split in progress. */
    uint8_t *tun_buf;
    struct gso_cursor gso;
    /* TUN tx: the coalescing plan of one chunk. */
    struct gro_group groups[BATCH];
    uint16_t next[BATCH];
    struct iovec wiov[TUN_GRO_MAX_SEGS + 1];
    /* UDP rx with UDP_GRO (NULL without). */
    struct gro_rx *gro;
    bool debug_gso_eio;            /* tests: the next GSO send fails with EIO */
    bool debug_gro_einval;         /* tests: the next coalesced TUN write fails with EINVAL */
} __attribute__((aligned(64)));

struct io_linux {
    struct io_backend base;
    char ifname[IFNAMSIZ];
    int ifindex;
    bool have_v6;
    uint16_t port;                 /* written by set_listen, read by rx workers */
    uint32_t fwmark;               /* control thread only */
    unsigned offloads;             /* IO_OFFLOAD_*; UDP_GSO may drop out at run time (atomic) */
    unsigned coalesce;             /* TUN_GRO_* kinds coalesced on TUN writes (atomic) */
    struct io_queue *q;
};

unsigned io_linux_debug_refuse;

static struct io_linux *to_linux(struct io_backend *io)
{
    return (struct io_linux *)io;
}

static const struct io_linux *to_linux_const(const struct io_backend *io)
{
    return (const struct io_linux *)io;
}

static void count(uint64_t *counter)
{
    __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

static void count_n(uint64_t *counter, uint64_t n)
{
    __atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static bool offload_on(const struct io_linux *io, unsigned bit)
{
    return __atomic_load_n(&io->offloads, __ATOMIC_RELAXED) & bit;
}

/* ---------------------------------------------------------------- endpoints */

static void endpoint_set_in6(struct wb_endpoint *ep, const struct in6_addr *a)
{
    if (IN6_IS_ADDR_V4MAPPED(a)) {
        ep->family = 4;
        memcpy(ep->addr, &a->s6_addr[12], 4);
    } else {
        ep->family = 6;
        memcpy(ep->addr, a->s6_addr, 16);
    }
}

static void endpoint_from_sockaddr(struct wb_endpoint *ep, const union inet_sockaddr *sa)
{
    memset(ep, 0, sizeof(*ep));
    if (sa->sa.sa_family == AF_INET) {
        ep->family = 4;
        ep->port = ntohs(sa->in4.sin_port);
        memcpy(ep->addr, &sa->in4.sin_addr, 4);
    } else if (sa->sa.sa_family == AF_INET6) {
        endpoint_set_in6(ep, &sa->in6.sin6_addr);
        ep->port = ntohs(sa->in6.sin6_port);
    }
}

static bool is_v4_mapped(const uint8_t a[16])
{
    static const uint8_t prefix[12] = { [10] = 0xff, [11] = 0xff };

    return memcmp(a, prefix, sizeof(prefix)) == 0;
}

static bool is_link_local6(const uint8_t a[16])
{
    return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* The socket address for ep and the family (socket) that sends to it, or
 * -1 for an endpoint without a usable family. */
static int sockaddr_from_endpoint(union inet_sockaddr *sa, socklen_t *len,
                                  const struct wb_endpoint *ep, uint32_t ifindex)
{
    const uint8_t *v4 = ep->family == 4 ? ep->addr
                      : ep->family == 6 && is_v4_mapped(ep->addr) ? ep->addr + 12 : NULL;

    memset(sa, 0, sizeof(*sa));
    if (v4) {
        sa->in4.sin_family = AF_INET;
        sa->in4.sin_port = htons(ep->port);
        memcpy(&sa->in4.sin_addr, v4, 4);
        *len = sizeof(sa->in4);
        return FAM_V4;
    }
    if (ep->family != 6)
        return -1;
    sa->in6.sin6_family = AF_INET6;
    sa->in6.sin6_port = htons(ep->port);
    memcpy(&sa->in6.sin6_addr, ep->addr, 16);
    if (is_link_local6(ep->addr))
        sa->in6.sin6_scope_id = ifindex;
    *len = sizeof(sa->in6);
    return FAM_V6;
}

/* ---------------------------------------------------------------- control messages */

/* Record where a datagram arrived (IP_PKTINFO / IPV6_PKTINFO) and, with
 * UDP_GRO, the size of the datagrams coalesced into it (0: none). */
static uint16_t local_from_cmsg(struct wb_endpoint *local, uint32_t *ifindex, struct msghdr *m,
                                uint16_t port)
{
    uint16_t seg = 0;

    memset(local, 0, sizeof(*local));
    *ifindex = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
            c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
            struct in_pktinfo pi;

            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            local->family = 4;
            memcpy(local->addr, &pi.ipi_spec_dst, 4);
            *ifindex = (uint32_t)pi.ipi_ifindex;
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
                   c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
            struct in6_pktinfo pi;

            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            endpoint_set_in6(local, &pi.ipi6_addr);
            *ifindex = pi.ipi6_ifindex;
        } else if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO &&
                   c->cmsg_len >= CMSG_LEN(sizeof(int))) {
            int v;

            memcpy(&v, CMSG_DATA(c), sizeof(v));
            seg = v > 0 && v <= 65535 ? (uint16_t)v : 0;
        }
    }
    if (local->family)
        local->port = port;
    return seg;
}

/* Put p's sticky source into c for a datagram sent by family fam's socket;
 * returns the control length (0: no source, the kernel picks). */
static size_t source_to_cmsg(union cmsg_buf *c, int fam, const struct pkt *p)
{
    struct cmsghdr *cm = &c->align;

    if (fam == FAM_V4 && p->local.family == 4) {
        struct in_pktinfo pi = { 0 };

        memcpy(&pi.ipi_spec_dst, p->local.addr, 4);
        cm->cmsg_level = IPPROTO_IP;
        cm->cmsg_type = IP_PKTINFO;
        cm->cmsg_len = CMSG_LEN(sizeof(pi));
        memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
        return CMSG_SPACE(sizeof(pi));
    }
    if (fam == FAM_V6 && p->local.family == 6) {
        struct in6_pktinfo pi = { 0 };

        memcpy(&pi.ipi6_addr, p->local.addr, 16);
        if (is_link_local6(p->local.addr))
            pi.ipi6_ifindex = p->local_ifindex;
        cm->cmsg_level = IPPROTO_IPV6;
        cm->cmsg_type = IPV6_PKTINFO;
        cm->cmsg_len = CMSG_LEN(sizeof(pi));
        memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
        return CMSG_SPACE(sizeof(pi));
    }
    return 0;
}

/* ---------------------------------------------------------------- TUN */

/* Open one TUN queue on `name` (a template the first time). */
static int tun_open(const char *name, bool multi_queue, bool vnet, char out[IFNAMSIZ])
{
    struct ifreq ifr;
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    int ret;

    if (fd < 0)
        return -errno;
    memset(&ifr, 0, sizeof(ifr));
    /* IFF_VNET_HDR: every read and write starts with a virtio_net_hdr (10
     * bytes, the default TUNSETVNETHDRSZ), which is how super-packets and
     * partial checksums cross. */
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (multi_queue ? IFF_MULTI_QUEUE : 0) |
                    (vnet ? IFF_VNET_HDR : 0);
    if (name)
        memcpy(ifr.ifr_name, name, strnlen(name, IFNAMSIZ - 1));
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        ret = -errno;
        close(fd);
        return ret;
    }
    memcpy(out, ifr.ifr_name, IFNAMSIZ);
    out[IFNAMSIZ - 1] = '\0';
    return fd;
}

/* Ask for the most the kernel takes, each refusal (EINVAL: an older
 * kernel) dropping one level: USO (6.2+), then TSO, then checksums only,
 * then nothing (the header stays, always GSO_NONE). */
static unsigned tun_set_offload(int fd)
{
    static const struct { unsigned long flags; unsigned offloads; } levels[] = {
        { TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_USO4 | TUN_F_USO6,
          IO_OFFLOAD_TUN_TSO | IO_OFFLOAD_TUN_USO },
        { TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6, IO_OFFLOAD_TUN_TSO },
        { TUN_F_CSUM, 0 },
    };

    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
        if ((levels[i].offloads & io_linux_debug_refuse) ||
            ((levels[i].flags & TUN_F_CSUM) && (io_linux_debug_refuse & IO_OFFLOAD_TUN_CSUM)))
            continue;
        if (ioctl(fd, TUNSETOFFLOAD, levels[i].flags) == 0)
            return levels[i].offloads | IO_OFFLOAD_TUN_CSUM;
    }
    return 0;
}

static int tun_open_all(struct io_linux *io, const char *wanted)
{
    bool multi = io->base.n_queues > 1;
    bool vnet = !(io_linux_debug_refuse & IO_OFFLOAD_TUN_VNET);
    char name[IFNAMSIZ];

    for (unsigned i = 0; i < io->base.n_queues; i++) {
        /* The first open creates the interface and completes a "%d"
         * template; the others attach to the name it got. */
        int fd = tun_open(i == 0 ? wanted : io->ifname, multi, vnet, name);

        if (fd == -EINVAL && vnet && i == 0) {
            vnet = false;              /* no IFF_VNET_HDR here: plain reads and writes */
            fd = tun_open(wanted, multi, vnet, name);
        }
        if (fd < 0)
            return fd;
        io->q[i].tun_fd = fd;
        if (i == 0)
            memcpy(io->ifname, name, IFNAMSIZ);
    }
    if (vnet) {
        io->offloads |= IO_OFFLOAD_TUN_VNET | tun_set_offload(io->q[0].tun_fd);
        io->coalesce = (io->offloads & IO_OFFLOAD_TUN_TSO ? TUN_GRO_TCP : 0) |
                       (io->offloads & IO_OFFLOAD_TUN_USO ? TUN_GRO_UDP : 0);
        for (unsigned i = 0; i < io->base.n_queues; i++)
            if (!(io->q[i].tun_buf = malloc(TUN_READ_SIZE)))
                return -ENOMEM;
    }
    io->ifindex = (int)if_nametoindex(io->ifname);
    return io->ifindex > 0 ? 0 : -errno;
}

/* Plain TUN: each read straight into the caller's buffer; one byte more
 * lands in `over` only when the packet does not fit (it is dropped). */
static int tun_rx_plain(struct io_queue *q, unsigned queue, struct pkt **pkts, unsigned n)
{
    unsigned i = 0;

    while (i < n) {
        struct pkt *p = pkts[i];
        uint8_t over;
        struct iovec iov[2] = { { p->data, pkt_room(p) }, { &over, 1 } };
        ssize_t r = readv(q->tun_fd, iov, 2);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == EAGAIN)
            break;
        if (r < 0)
            return i ? (int)i : -errno;
        if (r == 0)
            break;
        if ((size_t)r > iov[0].iov_len) {
            count(&q->st.rx_too_big);
            continue;
        }
        p->len = (uint32_t)r;
        p->queue = queue;
        i++;
    }
    return (int)i;
}

/* IFF_VNET_HDR: a read lands in the queue's buffer (a super-packet can be
 * 64 KiB) and is cut into the caller's buffers; what does not fit stays
 * for the next burst (wait() reports it ready). */
static int tun_rx_vnet(struct io_queue *q, unsigned queue, struct pkt **pkts, unsigned n)
{
    unsigned i = 0;

    while (i < n) {
        struct vnet_hdr h;
        ssize_t r;

        if (q->gso.active) {
            unsigned k = tun_gso_next(&q->gso, pkts + i, n - i);

            if (k == 0) {
                q->gso.active = false;     /* larger than the buffers: dropped */
                count(&q->st.rx_too_big);
                continue;
            }

            for (unsigned j = i; j < i + k; j++)
                pkts[j]->queue = queue;
            count_n(&q->st.tun_rx_segments, k);
            i += k;
            continue;
        }
        r = read(q->tun_fd, q->tun_buf, TUN_READ_SIZE);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == EAGAIN)
            break;
        if (r < 0)
            return i ? (int)i : -errno;
        if (r == 0)
            break;
        memcpy(&h, q->tun_buf, VNET_HDR_LEN);
        if (r <= VNET_HDR_LEN ||
            tun_gso_begin(&q->gso, &h, q->tun_buf + VNET_HDR_LEN, (uint32_t)(r - VNET_HDR_LEN)) < 0) {
            count(&q->st.tun_rx_malformed);
            continue;
        }
        if (h.gso_type != VNET_GSO_NONE)
            count(&q->st.tun_rx_super);
    }
    return (int)i;
}

/* Concurrency: the owner of the queue's TUN rx side only. */
static int linux_tun_rx_burst(struct io_backend *iob, unsigned queue, struct pkt **pkts, unsigned n)
{
    struct io_queue *q = &to_linux(iob)->q[queue];

    return q->tun_buf ? tun_rx_vnet(q, queue, pkts, n) : tun_rx_plain(q, queue, pkts, n);
}

/* Errors of a TUN write that concern the whole queue, not the packet. */
static bool tun_error_is_fatal(int e)
{
    return e == EBADF || e == EBADFD || e == EFAULT;
}

/* Plain TUN: one write per packet; stops early on EAGAIN. */
static int tun_tx_plain(struct io_queue *q, struct pkt **pkts, unsigned n)
{
    unsigned i = 0;

    while (i < n) {
        ssize_t r = write(q->tun_fd, pkts[i]->data, pkts[i]->len);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == EAGAIN)
            break;
        if (r < 0 && tun_error_is_fatal(errno))
            return i ? (int)i : -errno;
        if (r < 0)
            count(&q->st.tun_tx_dropped);  /* EINVAL: not IPv4/IPv6; EIO: link down */
        i++;
    }
    return (int)i;
}

static int tun_writev(struct io_queue *q, unsigned k)
{
    ssize_t r;

    do
        r = writev(q->tun_fd, q->wiov, (int)k);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : 0;
}

/* One packet behind an empty header. Returns 0 or -errno. */
static int tun_write_one(struct io_queue *q, struct pkt *p)
{
    static const struct vnet_hdr none;

    q->wiov[0] = (struct iovec){ (void *)&none, VNET_HDR_LEN };
    q->wiov[1] = (struct iovec){ p->data, p->len };
    return tun_writev(q, 2);
}

/* Write one coalescing group: the header, the head packet, the members'
 * payloads gathered behind it. A kernel that refuses the super-packet
 * (EINVAL: no such GSO type here; or injected) gets the group back packet
 * by packet, and no more coalescing of that kind. Returns 0 or -errno. */
static int tun_write_group(struct io_linux *io, struct io_queue *q, struct pkt **pkts,
                           const struct gro_group *g)
{
    struct vnet_hdr h;
    unsigned k = 0;
    int r;

    if (g->n < 2)
        return tun_write_one(q, pkts[g->head]);
    tun_gro_finish(pkts, g, &h);
    q->wiov[k++] = (struct iovec){ &h, VNET_HDR_LEN };
    q->wiov[k++] = (struct iovec){ pkts[g->head]->data, pkts[g->head]->len };
    for (unsigned i = q->next[g->head]; i != 0xffff; i = q->next[i])
        q->wiov[k++] = (struct iovec){ pkts[i]->data + g->hdr_len, pkts[i]->len - g->hdr_len };
    if (q->debug_gro_einval) {
        q->debug_gro_einval = false;
        r = -EINVAL;
    } else {
        r = tun_writev(q, k);
    }
    if (r == 0) {
        count(&q->st.tun_tx_gro_writes);
        count_n(&q->st.tun_tx_gro_segments, g->n);
        return 0;
    }
    if (r != -EINVAL)
        return r;
    __atomic_fetch_and(&io->coalesce, ~(unsigned)(g->proto == IPPROTO_UDP ? TUN_GRO_UDP : TUN_GRO_TCP),
                       __ATOMIC_RELAXED);
    count(&q->st.tun_tx_gro_disabled);
    tun_gro_undo(pkts, g);
    for (unsigned i = g->head; i != 0xffff; i = q->next[i])
        if ((r = tun_write_one(q, pkts[i])) < 0 && tun_error_is_fatal(-r))
            return r;
        else if (r < 0)
            count(&q->st.tun_tx_dropped);
    return 0;
}

/* IFF_VNET_HDR: same-flow TCP runs (with TSO) and UDP runs (with USO) go
 * out as one super-packet each, the rest one by one behind an empty
 * header. Every packet is taken: a write refused for its packets counts
 * them as dropped, since coalescing has already rewritten headers. */
static int tun_tx_vnet(struct io_linux *io, struct io_queue *q, struct pkt **pkts, unsigned n)
{
    unsigned kinds = __atomic_load_n(&io->coalesce, __ATOMIC_RELAXED);

    for (unsigned base = 0; base < n; base += BATCH) {
        unsigned cnt = n - base < BATCH ? n - base : BATCH, ng;

        if (kinds) {
            ng = tun_gro_plan(pkts + base, cnt, kinds, q->groups, q->next);
        } else {
            for (unsigned i = 0; i < cnt; i++)
                q->groups[i] = (struct gro_group){ .head = (uint16_t)i, .last = (uint16_t)i, .n = 1 };
            ng = cnt;
        }
        for (unsigned k = 0; k < ng; k++) {
            int r = tun_write_group(io, q, pkts + base, &q->groups[k]);

            if (r < 0 && tun_error_is_fatal(-r))
                return base || k ? (int)n : r;
            if (r < 0)
                count_n(&q->st.tun_tx_dropped, q->groups[k].n);
        }
    }
    return (int)n;
}

/* Concurrency: the owner of the queue's TUN tx side only. */
static int linux_tun_tx_burst(struct io_backend *iob, unsigned queue, struct pkt **pkts, unsigned n)
{
    struct io_linux *io = to_linux(iob);
    struct io_queue *q = &io->q[queue];

    return q->tun_buf ? tun_tx_vnet(io, q, pkts, n) : tun_tx_plain(q, pkts, n);
}

/* ---------------------------------------------------------------- UDP sockets */

static int setopt(int fd, int level, int name, int value)
{
    return setsockopt(fd, level, name, &value, sizeof(value)) < 0 ? -errno : 0;
}

/* Large buffers help bursts; not having them is not an error. */
static void grow_buffers(int fd)
{
    if (setopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, SOCKET_BUF_BYTES))
        (void)setopt(fd, SOL_SOCKET, SO_RCVBUF, SOCKET_BUF_BYTES);
    if (setopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, SOCKET_BUF_BYTES))
        (void)setopt(fd, SOL_SOCKET, SO_SNDBUF, SOCKET_BUF_BYTES);
}

static int udp_family_options(int fd, int fam)
{
    int ret;

    if (fam == FAM_V4)
        return setopt(fd, IPPROTO_IP, IP_PKTINFO, 1);
    ret = setopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
    return ret ? ret : setopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
}

static int bound_port(int fd)
{
    union inet_sockaddr sa;
    socklen_t len = sizeof(sa);

    if (getsockname(fd, &sa.sa, &len) < 0)
        return -errno;
    return ntohs(sa.sa.sa_family == AF_INET ? sa.in4.sin_port : sa.in6.sin6_port);
}

/* A bound, non-blocking UDP socket of family fam on port (0: any); with
 * gro, UDP_GRO on (coalesced datagrams come whole, with their size). */
static int udp_open(int fam, uint16_t port, uint32_t fwmark, bool reuseport, bool gro)
{
    union inet_sockaddr sa;
    socklen_t len;
    int fd = socket(fam == FAM_V4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int ret;

    if (fd < 0)
        return -errno;
    memset(&sa, 0, sizeof(sa));
    if (fam == FAM_V4) {
        sa.in4.sin_family = AF_INET;
        sa.in4.sin_port = htons(port);
        len = sizeof(sa.in4);
    } else {
        sa.in6.sin6_family = AF_INET6;
        sa.in6.sin6_port = htons(port);
        len = sizeof(sa.in6);
    }
    ret = udp_family_options(fd, fam);
    if (!ret && reuseport)
        ret = setopt(fd, SOL_SOCKET, SO_REUSEPORT, 1);
    if (!ret && fwmark)
        ret = setopt(fd, SOL_SOCKET, SO_MARK, (int)fwmark);
    if (!ret && gro)
        ret = setopt(fd, SOL_UDP, UDP_GRO, 1);
    if (!ret && bind(fd, &sa.sa, len) < 0)
        ret = -errno;
    if (ret) {
        close(fd);
        return ret;
    }
    grow_buffers(fd);
    return fd;
}

static void close_fds(int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (fds[i] >= 0)
            close(fds[i]);
        fds[i] = -1;
    }
}

/* One attempt at opening every queue's sockets on one port: fds[q * N_FAM
 * + fam]. Port 0: the first socket's port is used for all the others. */
static int udp_try_open_all(const struct io_linux *io, uint16_t port, uint32_t fwmark,
                            int *fds, uint16_t *bound)
{
    size_t n = (size_t)io->base.n_queues * N_FAM;

    for (size_t i = 0; i < n; i++)
        fds[i] = -1;
    for (size_t i = 0; i < n; i++) {
        int fam = (int)(i % N_FAM);
        int fd;

        if (fam == FAM_V6 && !io->have_v6)
            continue;
        fd = udp_open(fam, port, fwmark, io->base.n_queues > 1, offload_on(io, IO_OFFLOAD_UDP_GRO));
        if (fd >= 0 && port == 0) {
            int p = bound_port(fd);

            if (p > 0) {
                port = (uint16_t)p;
            } else {
                close(fd);
                fd = p < 0 ? p : -EADDRNOTAVAIL;
            }
        }
        if (fd < 0) {
            close_fds(fds, i);
            return fd;
        }
        fds[i] = fd;
    }
    *bound = port;
    return 0;
}

static int udp_open_all(const struct io_linux *io, uint16_t port, uint32_t fwmark,
                        int *fds, uint16_t *bound)
{
    int ret;
    int tries = port ? 1 : PORT_RETRIES;

    do
        ret = udp_try_open_all(io, port, fwmark, fds, bound);
    while (ret == -EADDRINUSE && --tries > 0);
    return ret;
}

static int epoll_add(int epfd, int fd, uint32_t tag)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/* Put freshly bound sockets in place. The first time they are simply
 * stored; later (set_listen) each new socket is dup3()ed onto the old
 * socket's descriptor number, so a worker in the middle of a burst always
 * holds a valid descriptor: the old socket until its call returns, the
 * new one afterwards. Consumes fds. */
static int udp_install(struct io_linux *io, int *fds)
{
    int ret = 0;

    for (unsigned i = 0; i < io->base.n_queues; i++) {
        struct io_queue *q = &io->q[i];

        for (int fam = 0; fam < N_FAM; fam++) {
            int fd = fds[i * N_FAM + (unsigned)fam];
            int r = 0;

            if (fd < 0)
                continue;
            if (q->udp_fd[fam] >= 0) {
                epoll_ctl(q->epoll_fd, EPOLL_CTL_DEL, q->udp_fd[fam], NULL);
                if (dup3(fd, q->udp_fd[fam], O_CLOEXEC) < 0)
                    r = -errno;
                close(fd);
            } else {
                q->udp_fd[fam] = fd;
            }
            if (!r)
                r = epoll_add(q->epoll_fd, q->udp_fd[fam], TAG_UDP);
            if (r && !ret)
                ret = r;
        }
    }
    return ret;
}

/* Move the buffers of dropped datagrams (len 0) behind the kept ones;
 * returns how many are kept. */
static unsigned compact(struct pkt **pkts, unsigned n)
{
    unsigned kept = 0;

    for (unsigned i = 0; i < n; i++) {
        if (pkts[i]->len) {
            struct pkt *t = pkts[kept];

            pkts[kept++] = pkts[i];
            pkts[i] = t;
        }
    }
    return kept;
}

static int udp_rx_socket(struct io_queue *q, int fd, uint16_t port, unsigned queue,
                         struct pkt **pkts, unsigned n)
{
    struct mmsg_scratch *s = &q->rx;
    unsigned done = 0;

    while (done < n) {
        unsigned cnt = n - done < BATCH ? n - done : BATCH;
        int r;

        for (unsigned j = 0; j < cnt; j++) {
            struct msghdr *m = &s->msgs[j].msg_hdr;

            s->iov[j] = (struct iovec){ pkts[done + j]->data, pkt_room(pkts[done + j]) };
            *m = (struct msghdr){ .msg_name = &s->names[j], .msg_namelen = sizeof(s->names[j]),
                                  .msg_iov = &s->iov[j], .msg_iovlen = 1,
                                  .msg_control = s->ctrl[j].buf, .msg_controllen = CTRL_SIZE };
        }
        r = recvmmsg(fd, s->msgs, cnt, MSG_DONTWAIT, NULL);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == EAGAIN)
            break;
        if (r < 0)
            return done ? (int)done : -errno;
        for (int j = 0; j < r; j++) {
            struct pkt *p = pkts[done + (unsigned)j];

            p->len = s->msgs[j].msg_len;
            p->queue = queue;
            endpoint_from_sockaddr(&p->remote, &s->names[j]);
            local_from_cmsg(&p->local, &p->local_ifindex, &s->msgs[j].msg_hdr, port);
            if (s->msgs[j].msg_hdr.msg_flags & MSG_TRUNC) {
                count(&q->st.rx_too_big);
                p->len = 0;            /* compacted away below */
            }
        }
        done += (unsigned)r;
        if ((unsigned)r < cnt)
            break;
    }
    return (int)compact(pkts, done);
}

/* UDP_GRO: hand out the segments of what was received, in order. */
static unsigned gro_drain(struct io_queue *q, unsigned queue, struct pkt **pkts, unsigned n)
{
    struct gro_rx *g = q->gro;
    unsigned i = 0;

    while (i < n && g->i < g->n) {
        const struct gro_meta *m = &g->meta[g->i];
        uint32_t left = m->len - g->off;
        uint32_t take = m->seg && m->seg < left ? m->seg : left;
        struct pkt *p = pkts[i];

        if (take <= pkt_room(p)) {
            memcpy(p->data, g->buf[g->i] + g->off, take);
            i++;
        } else {
            count(&q->st.rx_too_big);
        }
        p->len = take;
        p->queue = queue;
        p->remote = m->remote;
        p->local = m->local;
        p->local_ifindex = m->local_ifindex;
        g->off += take;
        if (g->off == m->len) {
            if (m->seg && m->len > m->seg) {
                count(&q->st.udp_rx_gro_datagrams);
                count_n(&q->st.udp_rx_gro_segments, (m->len + m->seg - 1) / m->seg);
            }
            g->i++;
            g->off = 0;
        }
    }
    return i;
}

/* UDP_GRO: receive up to GRO_BUFS (coalesced) datagrams from fd. */
static int gro_receive(struct io_queue *q, int fd, uint16_t port)
{
    struct gro_rx *g = q->gro;
    int r;

    for (unsigned j = 0; j < GRO_BUFS; j++) {
        g->iov[j] = (struct iovec){ g->buf[j], GRO_BUF_SIZE };
        g->msgs[j].msg_hdr = (struct msghdr){ .msg_name = &g->names[j],
                                              .msg_namelen = sizeof(g->names[j]),
                                              .msg_iov = &g->iov[j], .msg_iovlen = 1,
                                              .msg_control = g->ctrl[j].buf,
                                              .msg_controllen = CTRL_SIZE };
    }
    do
        r = recvmmsg(fd, g->msgs, GRO_BUFS, MSG_DONTWAIT, NULL);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return errno == EAGAIN ? 0 : -errno;
    for (int j = 0; j < r; j++) {
        struct gro_meta *m = &g->meta[j];

        endpoint_from_sockaddr(&m->remote, &g->names[j]);
        m->seg = local_from_cmsg(&m->local, &m->local_ifindex, &g->msgs[j].msg_hdr, port);
        m->len = g->msgs[j].msg_len;
    }
    g->n = (unsigned)r;
    g->i = 0;
    g->off = 0;
    return r;
}

static int udp_rx_gro(struct io_queue *q, unsigned queue, uint16_t port, struct pkt **pkts, unsigned n)
{
    int first = (int)(q->rx_first ^= 1);
    unsigned total = gro_drain(q, queue, pkts, n);

    for (int k = 0; k < N_FAM && total < n; k++) {
        int fd = q->udp_fd[(first + k) % N_FAM];
        int r;

        if (fd < 0)
            continue;
        r = gro_receive(q, fd, port);
        if (r < 0)
            return total ? (int)total : r;
        total += gro_drain(q, queue, pkts + total, n - total);
    }
    return (int)total;
}

/* Concurrency: the owner of the queue's UDP rx side only. */
static int linux_udp_rx_burst(struct io_backend *iob, unsigned queue, struct pkt **pkts, unsigned n)
{
    struct io_linux *io = to_linux(iob);
    struct io_queue *q = &io->q[queue];
    /* set_listen may change the port meanwhile (relaxed: a datagram read
     * from the old socket just before the swap may get the new port). */
    uint16_t port = __atomic_load_n(&io->port, __ATOMIC_RELAXED);
    int first;
    int total = 0;

    if (q->gro)
        return udp_rx_gro(q, queue, port, pkts, n);
    first = (int)(q->rx_first ^= 1);
    for (int k = 0; k < N_FAM && (unsigned)total < n; k++) {
        int fd = q->udp_fd[(first + k) % N_FAM];
        int r;

        if (fd < 0)
            continue;
        r = udp_rx_socket(q, fd, port, queue, pkts + total, n - (unsigned)total);
        if (r < 0)
            return total ? total : r;
        total += r;
    }
    return total;
}

/* Control messages for a send: the sticky source, and with seg a
 * UDP_SEGMENT size. Returns their length. */
static size_t tx_ctrl(struct mmsg_scratch *s, unsigned m, int fam, const struct pkt *p, uint16_t seg)
{
    union cmsg_buf *c = &s->ctrl[m];
    size_t len;

    memset(c, 0, sizeof(*c));
    len = fam >= 0 ? source_to_cmsg(c, fam, p) : 0;
    s->has_src[m] = len != 0;
    if (seg) {
        struct cmsghdr *cm = (struct cmsghdr *)(void *)(c->buf + len);

        cm->cmsg_level = SOL_UDP;
        cm->cmsg_type = UDP_SEGMENT;
        cm->cmsg_len = CMSG_LEN(sizeof(seg));
        memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
        len += CMSG_SPACE(sizeof(seg));
    }
    return len;
}

/* May b go out in the same UDP_SEGMENT send as a? */
static bool same_path(const struct pkt *a, const struct pkt *b)
{
    return a->remote.family == b->remote.family && a->remote.port == b->remote.port &&
           memcmp(a->remote.addr, b->remote.addr, 16) == 0 && a->local.family == b->local.family &&
           memcmp(a->local.addr, b->local.addr, 16) == 0 && a->local_ifindex == b->local_ifindex;
}

/* Build messages for pkts[0..cnt) (cnt <= BATCH): with gso, each run of
 * datagrams to one endpoint from one source, all of the first one's size
 * but a shorter last, is one message. Returns the message count. */
static unsigned tx_build(struct io_queue *q, struct pkt **pkts, unsigned cnt, bool gso)
{
    struct mmsg_scratch *s = &q->tx;
    unsigned m = 0;

    for (unsigned i = 0; i < cnt; m++) {
        struct msghdr *h = &s->msgs[m].msg_hdr;
        socklen_t namelen = 0;
        int fam = sockaddr_from_endpoint(&s->names[m], &namelen, &pkts[i]->remote,
                                         pkts[i]->local_ifindex);
        uint32_t seg = pkts[i]->len, total = seg;
        unsigned k = 1;
        size_t ctrl;

        while (gso && fam >= 0 && i + k < cnt && k < GSO_MAX_SEGS && pkts[i + k]->len <= seg &&
               total + pkts[i + k]->len <= GSO_MAX_BYTES && same_path(pkts[i], pkts[i + k])) {
            total += pkts[i + k]->len;
            if (pkts[i + k++]->len < seg)
                break;
        }
        for (unsigned j = i; j < i + k; j++)
            s->iov[j] = (struct iovec){ pkts[j]->data, pkts[j]->len };
        ctrl = tx_ctrl(s, m, fam, pkts[i], k > 1 ? (uint16_t)seg : 0);
        *h = (struct msghdr){ .msg_name = &s->names[m], .msg_namelen = namelen,
                              .msg_iov = &s->iov[i], .msg_iovlen = k,
                              .msg_control = ctrl ? s->ctrl[m].buf : NULL, .msg_controllen = ctrl };
        s->fam[m] = (int8_t)fam;
        s->first[m] = (uint8_t)i;
        s->count[m] = (uint8_t)k;
        i += k;
    }
    return m;
}

/* How the kernel refuses a source address that is no longer local: IPv6
 * says EINVAL; IPv4 said EINVAL too but says ENETUNREACH on recent kernels
 * (6.x route lookup). A genuinely unreachable destination then costs one
 * more try and loses its sticky source, which the next receive restores. */
static bool source_refused(int e)
{
    return e == EINVAL || e == ENETUNREACH;
}

/* The sticky source of message m is gone: forget it, keep its segment size. */
static void tx_clear_source(struct io_queue *q, struct pkt **pkts, unsigned m)
{
    struct mmsg_scratch *s = &q->tx;
    struct msghdr *h = &s->msgs[m].msg_hdr;
    unsigned first = s->first[m];
    size_t ctrl;

    for (unsigned j = first; j < first + s->count[m]; j++) {
        memset(&pkts[j]->local, 0, sizeof(pkts[j]->local));
        pkts[j]->local_ifindex = 0;
    }
    ctrl = tx_ctrl(s, m, s->fam[m], pkts[first], s->count[m] > 1 ? (uint16_t)pkts[first]->len : 0);
    h->msg_control = ctrl ? s->ctrl[m].buf : NULL;
    h->msg_controllen = ctrl;
    count(&q->st.udp_tx_source_cleared);
}

static int send_msgs(struct io_queue *q, int fd, unsigned i, unsigned n)
{
    if (q->debug_gso_eio && q->tx.count[i] > 1) {
        q->debug_gso_eio = false;
        errno = EIO;
        return -1;
    }
    return sendmmsg(fd, &q->tx.msgs[i], n, 0);
}

/* Send messages [0, n_msgs) in runs of one family, in order. Returns how
 * many packets were taken; stops early on EAGAIN, or (*gso_err = errno)
 * at a UDP_SEGMENT message the kernel refused, to be sent again without. */
static unsigned udp_tx_msgs(struct io_queue *q, struct pkt **pkts, unsigned n_msgs, int *gso_err)
{
    struct mmsg_scratch *s = &q->tx;
    unsigned i = 0, taken = 0;

    while (i < n_msgs) {
        int fam = s->fam[i];
        int fd = fam >= 0 ? q->udp_fd[fam] : -1;
        unsigned end = i + 1;
        int r;

        if (fd < 0) {
            count_n(&q->st.udp_tx_dropped, s->count[i]);
            taken += s->count[i++];
            continue;
        }
        while (end < n_msgs && s->fam[end] == fam)
            end++;
        r = send_msgs(q, fd, i, end - i);
        if (r > 0) {
            for (int k = 0; k < r; k++, i++) {
                taken += s->count[i];
                if (s->count[i] > 1) {
                    count(&q->st.udp_tx_gso_sends);
                    count_n(&q->st.udp_tx_gso_segments, s->count[i]);
                }
            }
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == EAGAIN)
            break;
        if (r < 0 && source_refused(errno) && s->has_src[i]) {
            tx_clear_source(q, pkts, i);
            continue;
        }
        if (r < 0 && s->count[i] > 1 && (errno == EIO || errno == EINVAL || errno == EMSGSIZE)) {
            *gso_err = errno;
            break;
        }
        count_n(&q->st.udp_tx_dropped, s->count[i]);  /* ENETUNREACH, EMSGSIZE, EPERM, ... */
        taken += s->count[i++];
    }
    return taken;
}

/* Concurrency: the owner of the queue's UDP tx side only. */
static int linux_udp_tx_burst(struct io_backend *iob, unsigned queue, struct pkt **pkts, unsigned n)
{
    struct io_linux *io = to_linux(iob);
    struct io_queue *q = &io->q[queue];
    bool gso = offload_on(io, IO_OFFLOAD_UDP_GSO);
    unsigned done = 0;

    while (done < n) {
        unsigned cnt = n - done < BATCH ? n - done : BATCH;
        int gso_err = 0;
        unsigned sent = udp_tx_msgs(q, pkts + done, tx_build(q, pkts + done, cnt, gso), &gso_err);

        done += sent;
        if (gso_err) {
            /* EIO: the path cannot segment (seen in the wild with some
             * drivers): off for good, as wireguard-go does. EINVAL or
             * EMSGSIZE: this run only (a segment larger than the route's
             * MTU: Linux 6.x says EMSGSIZE). Either way the run goes
             * again, datagram by datagram. */
            if (gso_err == EIO) {
                __atomic_fetch_and(&io->offloads, ~(unsigned)IO_OFFLOAD_UDP_GSO, __ATOMIC_RELAXED);
                count(&q->st.udp_gso_disabled);
            }
            gso = false;
            continue;
        }
        if (sent < cnt)
            break;
    }
    return (int)done;
}

/* ---------------------------------------------------------------- wait and wake */

/* Concurrency: the owner of the queue. The caller goes RCU-offline first. */
static int linux_wait(struct io_backend *iob, unsigned queue, int timeout_ms)
{
    struct io_queue *q = &to_linux(iob)->q[queue];
    struct epoll_event ev[WAIT_EVENTS];
    /* A split or a coalesced datagram still being handed out is input
     * that no descriptor shows. */
    int mask = (q->gso.active ? IO_READY_TUN : 0) | (q->gro && q->gro->i < q->gro->n ? IO_READY_UDP : 0);
    int n = epoll_wait(q->epoll_fd, ev, WAIT_EVENTS, mask ? 0 : timeout_ms < 0 ? -1 : timeout_ms);

    if (n < 0)
        return errno == EINTR ? mask : -errno;
    for (int i = 0; i < n; i++) {
        if (ev[i].data.u32 == TAG_TUN)
            mask |= IO_READY_TUN;
        else if (ev[i].data.u32 == TAG_UDP)
            mask |= IO_READY_UDP;
        else if (ev[i].data.u32 == TAG_WAKE)
            mask |= IO_READY_WAKE;
    }
    if (mask & IO_READY_WAKE) {
        uint64_t v;

        if (read(q->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
            return -errno;
    }
    return mask;
}

/* Any thread. Every queue's next (or current) wait() returns IO_READY_WAKE. */
static void linux_wake(struct io_backend *iob)
{
    struct io_linux *io = to_linux(iob);
    uint64_t one = 1;

    for (unsigned i = 0; i < io->base.n_queues; i++)
        if (write(io->q[i].wake_fd, &one, sizeof(one)) < 0) {
            /* EAGAIN: the counter is already non-zero, the waiter wakes. */
        }
}

/* Any thread. */
static void linux_wake_queue(struct io_backend *iob, unsigned queue)
{
    uint64_t one = 1;

    if (write(to_linux(iob)->q[queue].wake_fd, &one, sizeof(one)) < 0) {
        /* EAGAIN: already non-zero, the waiter wakes. */
    }
}

static int queue_events_init(struct io_queue *q)
{
    int ret;

    q->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (q->epoll_fd < 0)
        return -errno;
    q->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (q->wake_fd < 0)
        return -errno;
    ret = epoll_add(q->epoll_fd, q->tun_fd, TAG_TUN);
    return ret ? ret : epoll_add(q->epoll_fd, q->wake_fd, TAG_WAKE);
}

/* ---------------------------------------------------------------- listen port */

/* Change SO_MARK on every socket; on failure put the old mark back. */
static int udp_set_mark(struct io_linux *io, uint32_t fwmark)
{
    size_t n = (size_t)io->base.n_queues * N_FAM;
    int ret = 0;
    size_t i;

    for (i = 0; i < n && !ret; i++) {
        int fd = io->q[i / N_FAM].udp_fd[i % N_FAM];

        if (fd >= 0)
            ret = setopt(fd, SOL_SOCKET, SO_MARK, (int)fwmark);
    }
    if (!ret) {
        io->fwmark = fwmark;
        return 0;
    }
    while (i-- > 0) {
        int fd = io->q[i / N_FAM].udp_fd[i % N_FAM];

        if (fd >= 0)
            (void)setopt(fd, SOL_SOCKET, SO_MARK, (int)io->fwmark);
    }
    return ret;
}

/* Control thread only. port 0 asks the kernel for a new port. On failure
 * the old sockets stay as they were. */
static int linux_set_listen(struct io_backend *iob, uint16_t port, uint32_t fwmark)
{
    struct io_linux *io = to_linux(iob);
    int *fds;
    uint16_t bound;
    int ret;

    if (port != 0 && port == io->port)
        return fwmark == io->fwmark ? 0 : udp_set_mark(io, fwmark);
    fds = malloc(sizeof(*fds) * io->base.n_queues * N_FAM);
    if (!fds)
        return -ENOMEM;
    ret = udp_open_all(io, port, fwmark, fds, &bound);
    if (ret == 0) {
        ret = udp_install(io, fds);
        __atomic_store_n(&io->port, bound, __ATOMIC_RELAXED);
        io->fwmark = fwmark;
    }
    free(fds);
    return ret;
}

static uint16_t linux_listen_port(struct io_backend *iob)
{
    return __atomic_load_n(&to_linux(iob)->port, __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------- lifetime */

/* Close whatever is open; tolerates a half-built backend. */
static void teardown(struct io_linux *io)
{
    for (unsigned i = 0; io->q && i < io->base.n_queues; i++) {
        struct io_queue *q = &io->q[i];
        int fds[] = { q->udp_fd[FAM_V4], q->udp_fd[FAM_V6], q->tun_fd, q->epoll_fd, q->wake_fd };

        close_fds(fds, sizeof(fds) / sizeof(fds[0]));
        free(q->tun_buf);
        for (unsigned k = 0; q->gro && k < GRO_BUFS; k++)
            free(q->gro->buf[k]);
        free(q->gro);
    }
    free(io->q);
    free(io);
}

/* Control thread only, after every worker has stopped using the backend.
 * The TUN interface goes away with its last fd (it is not persistent). */
static void linux_destroy(struct io_backend *iob)
{
    if (iob)
        teardown(to_linux(iob));
}

static const struct io_backend_ops linux_ops = {
    .name = "linux",
    .tun_rx_burst = linux_tun_rx_burst,
    .tun_tx_burst = linux_tun_tx_burst,
    .udp_rx_burst = linux_udp_rx_burst,
    .udp_tx_burst = linux_udp_tx_burst,
    .wait = linux_wait,
    .wake = linux_wake,
    .wake_queue = linux_wake_queue,
    .set_listen = linux_set_listen,
    .listen_port = linux_listen_port,
    .destroy = linux_destroy,
};

static bool ipv6_available(void)
{
    int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    if (fd >= 0)
        close(fd);
    return fd >= 0 || errno != EAFNOSUPPORT;
}

static struct io_linux *backend_alloc(unsigned n_queues)
{
    struct io_linux *io = calloc(1, sizeof(*io));

    if (!io)
        return NULL;
    io->base.ops = &linux_ops;
    io->base.n_queues = n_queues;
    io->q = aligned_alloc(_Alignof(struct io_queue), sizeof(struct io_queue) * n_queues);
    if (!io->q) {
        free(io);
        return NULL;
    }
    memset(io->q, 0, sizeof(struct io_queue) * n_queues);
    for (unsigned i = 0; i < n_queues; i++) {
        struct io_queue *q = &io->q[i];

        q->tun_fd = q->epoll_fd = q->wake_fd = -1;
        q->udp_fd[FAM_V4] = q->udp_fd[FAM_V6] = -1;
    }
    io->have_v6 = ipv6_available();
    return io;
}

/* UDP_SEGMENT (4.18) and UDP_GRO (5.0), asked of a scratch socket: a
 * kernel without them says ENOPROTOOPT. */
static unsigned udp_probe_offloads(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    unsigned got = 0;
    int v = 0;
    socklen_t len = sizeof(v);

    if (fd < 0)
        return 0;
    if (getsockopt(fd, SOL_UDP, UDP_SEGMENT, &v, &len) == 0)
        got |= IO_OFFLOAD_UDP_GSO;
    if (setopt(fd, SOL_UDP, UDP_GRO, 1) == 0)
        got |= IO_OFFLOAD_UDP_GRO;
    close(fd);
    return got & ~io_linux_debug_refuse;
}

static int gro_alloc(struct io_queue *q)
{
    if (!(q->gro = calloc(1, sizeof(*q->gro))))
        return -ENOMEM;
    for (unsigned k = 0; k < GRO_BUFS; k++)
        if (!(q->gro->buf[k] = malloc(GRO_BUF_SIZE)))
            return -ENOMEM;
    return 0;
}

static int backend_open(struct io_linux *io, const char *ifname_wanted)
{
    int ret = tun_open_all(io, ifname_wanted);
    int *fds;

    for (unsigned i = 0; !ret && i < io->base.n_queues; i++)
        ret = queue_events_init(&io->q[i]);
    if (ret)
        return ret;
    io->offloads |= udp_probe_offloads();
    for (unsigned i = 0; (io->offloads & IO_OFFLOAD_UDP_GRO) && i < io->base.n_queues; i++)
        if ((ret = gro_alloc(&io->q[i])) < 0)
            return ret;
    fds = malloc(sizeof(*fds) * io->base.n_queues * N_FAM);
    if (!fds)
        return -ENOMEM;
    ret = udp_open_all(io, 0, 0, fds, &io->port);
    if (ret == 0)
        ret = udp_install(io, fds);
    free(fds);
    return ret;
}

struct io_backend *io_linux_create(const char *ifname_wanted, char *ifname_out,
                                   unsigned n_queues, int *err)
{
    struct io_linux *io;
    int ret;

    if (n_queues == 0 || n_queues > IO_LINUX_MAX_QUEUES ||
        (ifname_wanted && strlen(ifname_wanted) >= IFNAMSIZ)) {
        *err = -EINVAL;
        return NULL;
    }
    io = backend_alloc(n_queues);
    if (!io) {
        *err = -ENOMEM;
        return NULL;
    }
    ret = backend_open(io, ifname_wanted);
    if (ret) {
        teardown(io);
        *err = ret;
        return NULL;
    }
    if (ifname_out)
        memcpy(ifname_out, io->ifname, IFNAMSIZ);
    *err = 0;
    return &io->base;
}

unsigned io_linux_offloads(const struct io_backend *io)
{
    return __atomic_load_n(&to_linux_const(io)->offloads, __ATOMIC_RELAXED);
}

void io_linux_debug_gso_eio(struct io_backend *io, unsigned queue)
{
    to_linux(io)->q[queue].debug_gso_eio = true;
}

void io_linux_debug_gro_einval(struct io_backend *io, unsigned queue)
{
    to_linux(io)->q[queue].debug_gro_einval = true;
}

unsigned io_linux_coalescing(const struct io_backend *io)
{
    return __atomic_load_n(&to_linux_const(io)->coalesce, __ATOMIC_RELAXED);
}

int io_linux_tun_ifindex(const struct io_backend *io)
{
    return to_linux_const(io)->ifindex;
}

const char *io_linux_tun_name(const struct io_backend *io)
{
    return to_linux_const(io)->ifname;
}

void io_linux_stats(const struct io_backend *iob, struct io_linux_stats *out)
{
    const struct io_linux *io = to_linux_const(iob);

    memset(out, 0, sizeof(*out));
    for (unsigned i = 0; i < io->base.n_queues; i++) {
        const struct io_queue *q = &io->q[i];

        const uint64_t *from = (const uint64_t *)&q->st;
        uint64_t *to = (uint64_t *)out;

        for (size_t k = 0; k < sizeof(*out) / sizeof(uint64_t); k++)
            to[k] += __atomic_load_n(&from[k], __ATOMIC_RELAXED);
    }
}
