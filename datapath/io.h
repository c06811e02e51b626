/* SPDX-License-Identifier: MIT */
/*
 * io.h - the packet interception interface: how the device gets IP packets
 * from and gives them to the host (TUN on Linux; Wintun or the Windows Packet
 * Filter on Windows), and datagrams from and to the network (UDP sockets).
 *
 * Everything is a burst, DPDK style: *_rx_burst fills up to n packet
 * pointers the caller supplied (buffers the caller owns, pkt_reset first)
 * and returns how many it filled (0 when nothing is ready, -errno on a
 * fatal error); *_tx_burst sends up to n and returns how many it took (the
 * caller keeps ownership of the buffers either way). A backend may have
 * several queues (multi-queue TUN, one UDP socket per worker with
 * SO_REUSEPORT); a worker owns one queue index of each side, so bursts on
 * one queue are never concurrent. wait() blocks until a queue has input or
 * the timeout passes (the datapath goes RCU-offline around it).
 *
 * Offloads (vnet_hdr TSO/GRO, UDP GSO/GRO) stay inside a backend: it
 * splits super-packets on rx and may coalesce on tx; the device sees
 * MTU-sized packets either way.
 */
#ifndef WB_DATAPATH_IO_H
#define WB_DATAPATH_IO_H

#include <stdint.h>

#include "datapath/pkt.h"

struct io_backend;

enum io_wait_result {
    IO_READY_NONE = 0,
    IO_READY_TUN = 1 << 0,
    IO_READY_UDP = 1 << 1,
    IO_READY_WAKE = 1 << 2,        /* io_backend_ops.wake() was called */
};

struct io_backend_ops {
    const char *name;
    int (*tun_rx_burst)(struct io_backend *io, unsigned queue, struct pkt **pkts, unsigned n);
    int (*tun_tx_burst)(struct io_backend *io, unsigned queue, struct pkt **pkts, unsigned n);
    int (*udp_rx_burst)(struct io_backend *io, unsigned queue, struct pkt **pkts, unsigned n);
    int (*udp_tx_burst)(struct io_backend *io, unsigned queue, struct pkt **pkts, unsigned n);
    /* Returns a mask of enum io_wait_result, or -errno. */
    int (*wait)(struct io_backend *io, unsigned queue, int timeout_ms);
    /* Interrupt wait() on every queue (any thread); a wake that arrives
     * before a wait() makes that wait() return at once. */
    void (*wake)(struct io_backend *io);
    /* The same for one queue (any thread): a worker with crypto work to
     * share wakes an idle one. Optional (NULL: wake is used). */
    void (*wake_queue)(struct io_backend *io, unsigned queue);
    /* Rebind the UDP side (listen port and fwmark changed). Control thread only. */
    int (*set_listen)(struct io_backend *io, uint16_t port, uint32_t fwmark);
    uint16_t (*listen_port)(struct io_backend *io);
    void (*destroy)(struct io_backend *io);
};

struct io_backend {
    const struct io_backend_ops *ops;
    unsigned n_queues;
};

#endif
