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
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "datapath/io_linux.h"

#define BATCH 64                   /* datagrams per recvmmsg/sendmmsg call */
#define CTRL_SIZE 64               /* pktinfo (40 bytes) + room for a UDP_GRO cmsg later */
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

/* Scratch for one recvmmsg/sendmmsg call. */
struct mmsg_scratch {
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    union inet_sockaddr names[BATCH];
    union cmsg_buf ctrl[BATCH];
    int8_t fam[BATCH];
};

struct io_queue {
    int tun_fd;
    int udp_fd[N_FAM];             /* -1: that family is unavailable */
    int epoll_fd;
    int wake_fd;                   /* eventfd: wake() writes, wait() drains */
    unsigned rx_first;             /* family read first (alternates: fairness) */
    /* Written by the tx owner, read by io_linux_stats (relaxed atomics). */
    uint64_t tun_tx_dropped;
    uint64_t udp_tx_dropped;
    uint64_t udp_tx_source_cleared;
    struct mmsg_scratch rx, tx;
} __attribute__((aligned(64)));

struct io_linux {
    struct io_backend base;
    char ifname[IFNAMSIZ];
    int ifindex;
    bool have_v6;
    uint16_t port;                 /* written by set_listen, read by rx workers */
    uint32_t fwmark;               /* control thread only */
    struct io_queue *q;
};

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

/* Bytes a receive may fill: up to the tailroom reserve, at most
 * PKT_DATA_MAX (which holds any UDP payload, so MSG_TRUNC cannot happen). */
static size_t rx_room(const struct pkt *p)
{
    size_t head = pkt_headroom(p);
    size_t room = head + PKT_TAILROOM < PKT_BUF_SIZE ? PKT_BUF_SIZE - head - PKT_TAILROOM : 0;

    return room < PKT_DATA_MAX ? room : PKT_DATA_MAX;
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

/* Record where a datagram arrived (IP_PKTINFO / IPV6_PKTINFO). */
static void local_from_cmsg(struct pkt *p, struct msghdr *m, uint16_t port)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
            c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
            struct in_pktinfo pi;

            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            p->local.family = 4;
            memcpy(p->local.addr, &pi.ipi_spec_dst, 4);
            p->local_ifindex = (uint32_t)pi.ipi_ifindex;
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
                   c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
            struct in6_pktinfo pi;

            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            endpoint_set_in6(&p->local, &pi.ipi6_addr);
            p->local_ifindex = pi.ipi6_ifindex;
        }
        /* UDP_GRO (a segment size) will be read here once GRO is on. */
    }
    if (p->local.family)
        p->local.port = port;
}

/* Put p's sticky source into c for a datagram sent by family fam's socket;
 * returns the control length (0: no source, the kernel picks). */
static size_t source_to_cmsg(union cmsg_buf *c, int fam, const struct pkt *p)
{
    struct cmsghdr *cm = &c->align;

    memset(c, 0, sizeof(*c));
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
static int tun_open(const char *name, bool multi_queue, char out[IFNAMSIZ])
{
    struct ifreq ifr;
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    int ret;

    if (fd < 0)
        return -errno;
    memset(&ifr, 0, sizeof(ifr));
    /* Offloads: IFF_VNET_HDR joins these flags, followed by TUNSETVNETHDRSZ
     * and TUNSETOFFLOAD (TUN_F_CSUM | TSO4/6 | USO4/6, the latter two
     * defined by hand on Debian 12 and refused by older kernels). */
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (multi_queue ? IFF_MULTI_QUEUE : 0);
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

static int tun_open_all(struct io_linux *io, const char *wanted)
{
    bool multi = io->base.n_queues > 1;
    char name[IFNAMSIZ];

    for (unsigned i = 0; i < io->base.n_queues; i++) {
        /* The first open creates the interface and completes a "%d"
         * template; the others attach to the name it got. */
        int fd = tun_open(i == 0 ? wanted : io->ifname, multi, name);

        if (fd < 0)
            return fd;
        io->q[i].tun_fd = fd;
        if (i == 0)
            memcpy(io->ifname, name, IFNAMSIZ);
    }
    io->ifindex = (int)if_nametoindex(io->ifname);
    return io->ifindex > 0 ? 0 : -errno;
}

/* Concurrency: the owner of the queue's TUN rx side only. */
static int linux_tun_rx_burst(struct io_backend *iob, unsigned queue, struct pkt **pkts, unsigned n)
{
    int fd = to_linux(iob)->q[queue].tun_fd;
    unsigned i = 0;

    while (i < n) {
        struct pkt *p = pkts[i];
        /* With IFF_VNET_HDR each read would start with a virtio_net_hdr
         * (read into the headroom), and a GSO super-packet would be split
         * here into MTU-sized packets across the following pkts. */
        ssize_t r = read(fd, p->data, rx_room(p));

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == EAGAIN)
            break;
        if (r < 0)
            return i ? (int)i : -errno;
        if (r == 0)
            break;
        p->len = (uint32_t)r;
        p->queue = queue;
        i++;
    }
    return (int)i;
}

/* Errors of a TUN write that concern the whole queue, not the packet. */
static bool tun_error_is_fatal(int e)
{
    return e == EBADF || e == EBADFD || e == EFAULT;
}

/* Concurrency: the owner of the queue's TUN tx side only. */
static int linux_tun_tx_burst(struct io_backend *iob, unsigned queue, struct pkt **pkts, unsigned n)
{
    struct io_queue *q = &to_linux(iob)->q[queue];
    unsigned i = 0;

    /* With IFF_VNET_HDR, runs of one TCP flow would be coalesced here into
     * one super-packet (GRO) behind a virtio_net_hdr, written with writev. */
    while (i < n) {
        ssize_t r = write(q->tun_fd, pkts[i]->data, pkts[i]->len);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == EAGAIN)
            break;
        if (r < 0 && tun_error_is_fatal(errno))
            return i ? (int)i : -errno;
        if (r < 0)
            count(&q->tun_tx_dropped);  /* EINVAL: not IPv4/IPv6; EIO: link down */
        i++;
    }
    return (int)i;
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

/* A bound, non-blocking UDP socket of family fam on port (0: any). */
static int udp_open(int fam, uint16_t port, uint32_t fwmark, bool reuseport)
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
        fd = udp_open(fam, port, fwmark, io->base.n_queues > 1);
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

            s->iov[j] = (struct iovec){ pkts[done + j]->data, rx_room(pkts[done + j]) };
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
            memset(&p->local, 0, sizeof(p->local));
            p->local_ifindex = 0;
            local_from_cmsg(p, &s->msgs[j].msg_hdr, port);
        }
        done += (unsigned)r;
        if ((unsigned)r < cnt)
            break;
    }
    return (int)done;
}

/* Concurrency: the owner of the queue's UDP rx side only. */
static int linux_udp_rx_burst(struct io_backend *iob, unsigned queue, struct pkt **pkts, unsigned n)
{
    struct io_linux *io = to_linux(iob);
    struct io_queue *q = &io->q[queue];
    /* set_listen may change the port meanwhile (relaxed: a datagram read
     * from the old socket just before the swap may get the new port). */
    uint16_t port = __atomic_load_n(&io->port, __ATOMIC_RELAXED);
    int first = (int)(q->rx_first ^= 1);
    int total = 0;

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

/* Fill scratch entry j to send p; returns its family or -1. */
static int tx_prepare(struct mmsg_scratch *s, unsigned j, const struct pkt *p)
{
    struct msghdr *m = &s->msgs[j].msg_hdr;
    socklen_t namelen = 0;
    int fam = sockaddr_from_endpoint(&s->names[j], &namelen, &p->remote, p->local_ifindex);
    size_t ctrl = fam >= 0 ? source_to_cmsg(&s->ctrl[j], fam, p) : 0;

    s->iov[j] = (struct iovec){ p->data, p->len };
    *m = (struct msghdr){ .msg_name = &s->names[j], .msg_namelen = namelen,
                          .msg_iov = &s->iov[j], .msg_iovlen = 1,
                          .msg_control = ctrl ? s->ctrl[j].buf : NULL, .msg_controllen = ctrl };
    return fam;
}

/* How the kernel refuses a source address that is no longer local: IPv6
 * says EINVAL; IPv4 said EINVAL too but says ENETUNREACH on recent kernels
 * (6.x route lookup). A genuinely unreachable destination then costs one
 * more try and loses its sticky source, which the next receive restores. */
static bool source_refused(int e)
{
    return e == EINVAL || e == ENETUNREACH;
}

/* Send scratch entries [0, cnt) (pkts[0..cnt)) in runs of one family, in
 * order. Returns how many were taken; stops early only on EAGAIN. */
static unsigned udp_tx_batch(struct io_queue *q, struct pkt **pkts, unsigned cnt)
{
    struct mmsg_scratch *s = &q->tx;
    unsigned i = 0;

    while (i < cnt) {
        int fam = s->fam[i];
        int fd = fam >= 0 ? q->udp_fd[fam] : -1;
        unsigned end = i + 1;
        int r;

        if (fd < 0) {
            count(&q->udp_tx_dropped);
            i++;
            continue;
        }
        while (end < cnt && s->fam[end] == fam)
            end++;
        r = sendmmsg(fd, &s->msgs[i], end - i, 0);
        if (r > 0) {
            i += (unsigned)r;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == EAGAIN)
            break;
        if (r < 0 && source_refused(errno) && s->msgs[i].msg_hdr.msg_controllen) {
            /* The sticky source is no longer ours: forget it, send again. */
            memset(&pkts[i]->local, 0, sizeof(pkts[i]->local));
            pkts[i]->local_ifindex = 0;
            s->msgs[i].msg_hdr.msg_control = NULL;
            s->msgs[i].msg_hdr.msg_controllen = 0;
            count(&q->udp_tx_source_cleared);
            continue;
        }
        count(&q->udp_tx_dropped);  /* ENETUNREACH, EMSGSIZE, EPERM, ... */
        i++;
    }
    return i;
}

/* Concurrency: the owner of the queue's UDP tx side only. */
static int linux_udp_tx_burst(struct io_backend *iob, unsigned queue, struct pkt **pkts, unsigned n)
{
    struct io_queue *q = &to_linux(iob)->q[queue];
    unsigned done = 0;

    /* UDP GSO would go here: consecutive same-size datagrams to one
     * endpoint sent as one buffer with a UDP_SEGMENT cmsg. */
    while (done < n) {
        unsigned cnt = n - done < BATCH ? n - done : BATCH;
        unsigned sent;

        for (unsigned j = 0; j < cnt; j++)
            q->tx.fam[j] = (int8_t)tx_prepare(&q->tx, j, pkts[done + j]);
        sent = udp_tx_batch(q, pkts + done, cnt);
        done += sent;
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
    int mask = IO_READY_NONE;
    int n = epoll_wait(q->epoll_fd, ev, WAIT_EVENTS, timeout_ms < 0 ? -1 : timeout_ms);

    if (n < 0)
        return errno == EINTR ? IO_READY_NONE : -errno;
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

static int backend_open(struct io_linux *io, const char *ifname_wanted)
{
    int ret = tun_open_all(io, ifname_wanted);
    int *fds;

    for (unsigned i = 0; !ret && i < io->base.n_queues; i++)
        ret = queue_events_init(&io->q[i]);
    if (ret)
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

        out->tun_tx_dropped += __atomic_load_n(&q->tun_tx_dropped, __ATOMIC_RELAXED);
        out->udp_tx_dropped += __atomic_load_n(&q->udp_tx_dropped, __ATOMIC_RELAXED);
        out->udp_tx_source_cleared += __atomic_load_n(&q->udp_tx_source_cleared, __ATOMIC_RELAXED);
    }
}
