/* SPDX-License-Identifier: MIT */
/*
 * io_linux_udp.c - the Linux backend's UDP side (io_linux.h): an IPv4 and
 * an IPv6-only socket per queue, endpoints and sticky sources through
 * pktinfo, recvmmsg (with UDP_GRO: super-datagrams cut into the caller's
 * buffers) and sendmmsg (runs of equal-size datagrams as one UDP_SEGMENT
 * send, with its fallbacks). Queue q's rx side belongs to its rx owner
 * and its tx side to its tx owner; socket setup to the control thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/udp.h>
#include <sys/epoll.h>
#include <sys/uio.h>

#include "datapath/io_linux_impl.h"

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

/* ---------------------------------------------------------------- UDP sockets */

int io_setopt(int fd, int level, int name, int value)
{
    return setsockopt(fd, level, name, &value, sizeof(value)) < 0 ? -errno : 0;
}

/* Large buffers help bursts; not having them is not an error. */
static void grow_buffers(int fd)
{
    if (io_setopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, SOCKET_BUF_BYTES))
        (void)io_setopt(fd, SOL_SOCKET, SO_RCVBUF, SOCKET_BUF_BYTES);
    if (io_setopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, SOCKET_BUF_BYTES))
        (void)io_setopt(fd, SOL_SOCKET, SO_SNDBUF, SOCKET_BUF_BYTES);
}

static int udp_family_options(int fd, int fam)
{
    int ret;

    if (fam == FAM_V4)
        return io_setopt(fd, IPPROTO_IP, IP_PKTINFO, 1);
    ret = io_setopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
    return ret ? ret : io_setopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
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
        ret = io_setopt(fd, SOL_SOCKET, SO_REUSEPORT, 1);
    if (!ret && fwmark)
        ret = io_setopt(fd, SOL_SOCKET, SO_MARK, (int)fwmark);
    if (!ret && gro)
        ret = io_setopt(fd, SOL_UDP, UDP_GRO, 1);
    if (!ret && bind(fd, &sa.sa, len) < 0)
        ret = -errno;
    if (ret) {
        close(fd);
        return ret;
    }
    grow_buffers(fd);
    return fd;
}

void io_close_fds(int *fds, size_t n)
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
            io_close_fds(fds, i);
            return fd;
        }
        fds[i] = fd;
    }
    *bound = port;
    return 0;
}

int io_udp_open_all(const struct io_linux *io, uint16_t port, uint32_t fwmark,
                        int *fds, uint16_t *bound)
{
    int ret;
    int tries = port ? 1 : PORT_RETRIES;

    do
        ret = udp_try_open_all(io, port, fwmark, fds, bound);
    while (ret == -EADDRINUSE && --tries > 0);
    return ret;
}

int io_epoll_add(int epfd, int fd, uint32_t tag)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/* Put freshly bound sockets in place. The first time they are simply
 * stored; later (set_listen) each new socket is dup3()ed onto the old
 * socket's descriptor number, so a worker in the middle of a burst always
 * holds a valid descriptor: the old socket until its call returns, the
 * new one afterwards. Consumes fds. */
int io_udp_install(struct io_linux *io, int *fds)
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
                r = io_epoll_add(q->epoll_fd, q->udp_fd[fam], TAG_UDP);
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
int io_udp_rx_burst(struct io_backend *iob, unsigned queue, struct pkt **pkts, unsigned n)
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
int io_udp_tx_burst(struct io_backend *iob, unsigned queue, struct pkt **pkts, unsigned n)
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
