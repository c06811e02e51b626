/* SPDX-License-Identifier: MIT */
/*
 * io_linux.h - the Linux packet I/O backend behind io.h: a TUN interface
 * (/dev/net/tun, IFF_TUN | IFF_NO_PI, one fd per queue with
 * IFF_MULTI_QUEUE when there are several) and UDP sockets.
 *
 * UDP: every queue has its own IPv4 socket and its own IPv6-only socket
 * (IPV6_V6ONLY=1), all bound to the same port, with SO_REUSEPORT when
 * there is more than one queue (the kernel then hashes each 4-tuple to one
 * queue). Two sockets rather than one dual-stack socket keep each family's
 * pktinfo handling plain and let the backend run where IPv6 is absent
 * (socket(AF_INET6) fails with EAFNOSUPPORT: IPv4 only). Endpoints in
 * IPv4-mapped form are reported and accepted as family 4.
 *
 * Received datagrams record pkt->remote, pkt->local (the local address
 * the datagram was delivered to, IP_PKTINFO ipi_spec_dst / IPV6_PKTINFO,
 * with the listen port) and pkt->local_ifindex. A sent datagram whose
 * pkt->local has a family leaves from that address (IP_PKTINFO /
 * IPV6_PKTINFO; for an IPv6 link-local source, through local_ifindex);
 * when the kernel refuses it because the address is gone (EINVAL; for
 * IPv4 on recent kernels ENETUNREACH), the backend clears pkt->local and
 * sends it from the kernel's choice.
 *
 * tx bursts return how many packets were taken: sent, or refused by the
 * kernel for a reason tied to that packet (not an IP packet, no route,
 * too big...; counted in io_linux_stats). They stop early only when a
 * socket or the TUN queue is full (EAGAIN): retry the rest later.
 *
 * set_listen(port, fwmark): a port equal to the current one only changes
 * the fwmark (SO_MARK on every socket); any other port, 0 included (a new
 * port of the kernel's choice), binds new sockets and swaps them in; on
 * failure (-EADDRINUSE, ...) the old ones stay. To change only the mark of
 * a kernel-chosen port, pass listen_port().
 *
 * Offloads, each detected at create time and dropped by itself where the
 * kernel refuses it (io_linux_offloads() says which are on):
 *   - TUN: IFF_VNET_HDR with TUNSETOFFLOAD CSUM|TSO4|TSO6|USO4|USO6, then
 *     without USO, then CSUM only, then none (EINVAL: an older kernel).
 *     rx splits TSO/USO super-packets and completes partial checksums
 *     (tun_gso.c); tx coalesces same-flow TCP runs (with TSO) and UDP runs
 *     (with USO) into super-packets (tun_gro.c) and writes them with
 *     writev, payloads not copied; a super-packet the kernel refuses
 *     (EINVAL) is written again packet by packet and that kind is no
 *     longer coalesced.
 *     The device still sees MTU-sized packets both ways.
 *   - UDP: runs of equal-size datagrams to one endpoint from one source go
 *     out as one UDP_SEGMENT send (one iovec per datagram); a run the
 *     kernel refuses is sent again datagram by datagram (EINVAL/EMSGSIZE: that run;
 *     EIO: GSO off for good, as wireguard-go does). UDP_GRO on receive:
 *     coalesced datagrams are cut into the caller's buffers.
 * A split or a coalesced datagram larger than the caller's burst stays in
 * the queue for the next burst, and wait() reports that queue ready.
 */
#ifndef WB_DATAPATH_IO_LINUX_H
#define WB_DATAPATH_IO_LINUX_H

#include <net/if.h>
#include <stdint.h>

#include "datapath/io.h"

#define IO_LINUX_MAX_QUEUES 256    /* the kernel's MAX_TAP_QUEUES */

/* Create the TUN interface and the UDP sockets (bound to a port the kernel
 * picks; set_listen() changes it).
 * ifname_wanted: the interface name, or a template with "%d" that the
 * kernel completes ("wg%d"); NULL or "" gives the kernel's "tun%d".
 * ifname_out: NULL, or IFNAMSIZ bytes that receive the actual name.
 * n_queues: 1..IO_LINUX_MAX_QUEUES.
 * Returns the backend, or NULL with *err = -errno (-EINVAL for bad
 * arguments, -EPERM without CAP_NET_ADMIN, -EBUSY for a name in use).
 * Control thread only. */
struct io_backend *io_linux_create(const char *ifname_wanted, char *ifname_out,
                                   unsigned n_queues, int *err);

/* The TUN interface's index and name (fixed for the backend's lifetime;
 * a rename by someone else is not followed). Any thread. */
int io_linux_tun_ifindex(const struct io_backend *io);
const char *io_linux_tun_name(const struct io_backend *io);

/* Every field a uint64_t (io_linux_stats sums them as an array). */
struct io_linux_stats {
    uint64_t tun_tx_dropped;       /* packets the TUN refused (not IPv4/IPv6, ...) */
    uint64_t udp_tx_dropped;       /* datagrams refused (no route, no socket for the family, ...) */
    uint64_t udp_tx_source_cleared; /* sticky source gone: sent from the kernel's choice */
    uint64_t tun_rx_malformed;     /* reads whose virtio_net_hdr did not fit the packet */
    uint64_t tun_rx_super;         /* TSO/USO super-packets read */
    uint64_t tun_rx_segments;      /* packets handed out by the vnet path (split or not) */
    uint64_t tun_tx_gro_writes;    /* coalesced writes */
    uint64_t tun_tx_gro_segments;  /* packets in them */
    uint64_t udp_tx_gso_sends;     /* UDP_SEGMENT sends */
    uint64_t udp_tx_gso_segments;  /* datagrams in them */
    uint64_t udp_gso_disabled;     /* GSO turned off after EIO */
    uint64_t udp_rx_gro_datagrams; /* coalesced datagrams received */
    uint64_t udp_rx_gro_segments;  /* datagrams in them */
    uint64_t rx_too_big;           /* packets/datagrams larger than the caller's buffers */
    uint64_t tun_tx_gro_disabled;  /* coalesced writes refused (EINVAL): that kind turned off */
};

enum io_linux_offload {
    IO_OFFLOAD_TUN_VNET = 1 << 0,  /* IFF_VNET_HDR */
    IO_OFFLOAD_TUN_CSUM = 1 << 1,  /* TUN_F_CSUM */
    IO_OFFLOAD_TUN_TSO = 1 << 2,   /* TUN_F_TSO4|TSO6: split on rx, coalesce on tx */
    IO_OFFLOAD_TUN_USO = 1 << 3,   /* TUN_F_USO4|USO6: split on rx */
    IO_OFFLOAD_UDP_GSO = 1 << 4,   /* UDP_SEGMENT */
    IO_OFFLOAD_UDP_GRO = 1 << 5,   /* UDP_GRO */
};

/* The offloads in use (a mask of enum io_linux_offload). Any thread. */
unsigned io_linux_offloads(const struct io_backend *io);

/* Tests only. Offloads to refuse at the next io_linux_create, as a kernel
 * without them would (the kernel here cannot be made to refuse). */
extern unsigned io_linux_debug_refuse;
/* Tests only: the next UDP_SEGMENT send on queue fails with EIO, as some
 * drivers do. Call from the queue's tx owner or before it runs. */
void io_linux_debug_gso_eio(struct io_backend *io, unsigned queue);
/* Tests only: the next coalesced TUN write on queue fails with EINVAL, as
 * a kernel without that GSO type would answer. Same caller rule. */
void io_linux_debug_gro_einval(struct io_backend *io, unsigned queue);
/* The kinds coalesced on TUN writes now (TUN_GRO_TCP/UDP of
 * tun_offload.h). Any thread. */
unsigned io_linux_coalescing(const struct io_backend *io);

/* Sum over all queues; any thread (each counter is read atomically, the
 * set is not a snapshot). */
void io_linux_stats(const struct io_backend *io, struct io_linux_stats *out);

#endif
