/* SPDX-License-Identifier: MIT */
/*
 * io_linux_impl.h - the Linux backend's insides, shared by io_linux.c
 * (create, wait/wake, listen port, lifetime, stats), io_linux_tun.c (the
 * TUN queues: vnet_hdr, split and coalescing) and io_linux_udp.c (the
 * sockets: endpoints, pktinfo, GSO and GRO). The threading contract is
 * io_linux.c's.
 */
#ifndef WB_DATAPATH_IO_LINUX_IMPL_H
#define WB_DATAPATH_IO_LINUX_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include <netinet/in.h>
#include <sys/socket.h>

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


static inline struct io_linux *to_linux(struct io_backend *io)
{
    return (struct io_linux *)io;
}

static inline const struct io_linux *to_linux_const(const struct io_backend *io)
{
    return (const struct io_linux *)io;
}

static inline void count(uint64_t *counter)
{
    __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

static inline void count_n(uint64_t *counter, uint64_t n)
{
    __atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static inline bool offload_on(const struct io_linux *io, unsigned bit)
{
    return __atomic_load_n(&io->offloads, __ATOMIC_RELAXED) & bit;
}

/* io_linux_tun.c */
int io_tun_open_all(struct io_linux *io, const char *wanted);
int io_tun_rx_burst(struct io_backend *iob, unsigned queue, struct pkt **pkts, unsigned n);
int io_tun_tx_burst(struct io_backend *iob, unsigned queue, struct pkt **pkts, unsigned n);

/* io_linux_udp.c */
int io_setopt(int fd, int level, int name, int value);
void io_close_fds(int *fds, size_t n);
int io_epoll_add(int epfd, int fd, uint32_t tag);
int io_udp_open_all(const struct io_linux *io, uint16_t port, uint32_t fwmark, int *fds, uint16_t *bound);
int io_udp_install(struct io_linux *io, int *fds);
int io_udp_rx_burst(struct io_backend *iob, unsigned queue, struct pkt **pkts, unsigned n);
int io_udp_tx_burst(struct io_backend *iob, unsigned queue, struct pkt **pkts, unsigned n);

#endif
