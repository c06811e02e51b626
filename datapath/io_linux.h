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
 * Not yet: IFF_VNET_HDR offloads (TSO/GRO on the TUN, UDP GSO/GRO); the
 * code marks where they go.
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

struct io_linux_stats {
    uint64_t tun_tx_dropped;       /* packets the TUN refused (not IPv4/IPv6, ...) */
    uint64_t udp_tx_dropped;       /* datagrams refused (no route, no socket for the family, ...) */
    uint64_t udp_tx_source_cleared; /* sticky source gone: sent from the kernel's choice */
};

/* Sum over all queues; any thread (each counter is read atomically, the
 * set is not a snapshot). */
void io_linux_stats(const struct io_backend *io, struct io_linux_stats *out);

#endif
