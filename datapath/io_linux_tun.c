/* SPDX-License-Identifier: MIT */
/*
 * io_linux_tun.c - the Linux backend's TUN queues (io_linux.h): opened
 * with IFF_MULTI_QUEUE and IFF_VNET_HDR, offloads asked for level by level;
 * reads split super-packets (tun_gso.c) into the caller's buffers, writes
 * coalesce same-flow runs (tun_gro.c) into one writev. Queue q's rx side
 * belongs to its rx owner and its tx side to its tx owner.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/uio.h>

#include "datapath/io_linux_impl.h"

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

int io_tun_open_all(struct io_linux *io, const char *wanted)
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

/* One read of a TUN queue: bytes read, 0 when there is nothing more now
 * (EAGAIN, or end of file), or -errno for the queue itself. */
static ssize_t tun_read(int fd, const struct iovec *iov, int n_iov)
{
    ssize_t r;

    do
        r = readv(fd, iov, n_iov);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return errno == EAGAIN ? 0 : -errno;
    return r;
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
        ssize_t r = tun_read(q->tun_fd, iov, 2);

        if (r < 0)
            return i ? (int)i : (int)r;
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
        r = tun_read(q->tun_fd, &(struct iovec){ q->tun_buf, TUN_READ_SIZE }, 1);
        if (r < 0)
            return i ? (int)i : (int)r;
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
int io_tun_rx_burst(struct io_backend *iob, unsigned queue, struct pkt **pkts, unsigned n)
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
int io_tun_tx_burst(struct io_backend *iob, unsigned queue, struct pkt **pkts, unsigned n)
{
    struct io_linux *io = to_linux(iob);
    struct io_queue *q = &io->q[queue];

    return q->tun_buf ? tun_tx_vnet(io, q, pkts, n) : tun_tx_plain(q, pkts, n);
}
