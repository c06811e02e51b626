/* SPDX-License-Identifier: MIT */
/*
 * io_linux.c - the Linux I/O backend (io_linux.h): creation (TUN queues,
 * sockets, offloads probed), per-queue epoll sets with an eventfd for
 * wake(), the listen port, teardown and the counters. The TUN side is in
 * io_linux_tun.c, the UDP side in io_linux_udp.c.
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

#include "datapath/io_linux_impl.h"

unsigned io_linux_debug_refuse;

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
    ret = io_epoll_add(q->epoll_fd, q->tun_fd, TAG_TUN);
    return ret ? ret : io_epoll_add(q->epoll_fd, q->wake_fd, TAG_WAKE);
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
            ret = io_setopt(fd, SOL_SOCKET, SO_MARK, (int)fwmark);
    }
    if (!ret) {
        io->fwmark = fwmark;
        return 0;
    }
    while (i-- > 0) {
        int fd = io->q[i / N_FAM].udp_fd[i % N_FAM];

        if (fd >= 0)
            (void)io_setopt(fd, SOL_SOCKET, SO_MARK, (int)io->fwmark);
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
    ret = io_udp_open_all(io, port, fwmark, fds, &bound);
    if (ret == 0) {
        ret = io_udp_install(io, fds);
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

        io_close_fds(fds, sizeof(fds) / sizeof(fds[0]));
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
    .tun_rx_burst = io_tun_rx_burst,
    .tun_tx_burst = io_tun_tx_burst,
    .udp_rx_burst = io_udp_rx_burst,
    .udp_tx_burst = io_udp_tx_burst,
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
    if (io_setopt(fd, SOL_UDP, UDP_GRO, 1) == 0)
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
    int ret = io_tun_open_all(io, ifname_wanted);
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
    ret = io_udp_open_all(io, 0, 0, fds, &io->port);
    if (ret == 0)
        ret = io_udp_install(io, fds);
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
