/* SPDX-License-Identifier: MIT */
/*
 * memio.h - an in-memory io_backend (datapath/io.h) for benchmarks: two
 * devices joined by memory instead of TUN devices and sockets, fast enough
 * that the device, not the backend, is what gets measured.
 *
 * Per backend, n queues (the device runs one data worker per queue):
 *   - feeds: an array of packets that the TUN or UDP rx burst hands out in
 *     turn, as fast as the device takes them (copied into the device's
 *     buffers, as a TUN read or recvmmsg would), forever or up to a limit;
 *     a TUN feed can rewrite the IPv4 destination to spread packets over
 *     many peers. A feed is handed out on queue 0 only, as the kernel puts
 *     one flow on one TUN queue / one SO_REUSEPORT socket; with `spread`
 *     every queue takes from it (each burst claims the next packets), as
 *     many flows hashed over all queues would;
 *   - sinks: packets the device sends to TUN are counted and dropped; data
 *     messages (type 4) it sends to UDP are forwarded, counted and dropped,
 *     or captured into an arena the caller supplied; every other datagram
 *     (handshakes, cookies) is always forwarded, so the protocol stays alive
 *     while data is measured;
 *   - forwarding: a datagram for the linked backend's address goes to its
 *     link ring (read on its queue 0: one flow), any other to this
 *     backend's outbox, which the benchmark thread drains (simulated peers);
 *   - inject rings: the benchmark thread hands single packets in (TUN or
 *     UDP), read on queue 0.
 * No per-packet allocation: rings have preallocated slots of MEMIO_SLOT_DATA
 * bytes (bigger datagrams are counted as dropped).
 *
 * Concurrency: a queue's bursts and wait() come from one thread at a time
 * (io.h: its worker), but the tx bursts of all queues run at once, and any
 * worker sends any peer's packets. So the sinks are multi-producer: the
 * link ring and the outbox are MPSC (datapath/ring.h mp enqueue), the
 * capture arena hands out slots with an atomic counter, and counters are
 * per queue (their own cache lines, atomic adds) and summed when read. The
 * inject rings are produced by the benchmark thread, the outbox consumed
 * by it. Feeds and sink modes are set by the benchmark thread only, while
 * the device runs; memio_*_quiesce() returns once every queue's worker no
 * longer reads what was replaced, after which the caller may free it.
 * wait() sleeps on the queue's own futex, so an idle worker costs no CPU;
 * wake() wakes every queue, wake_queue() one. Linux only.
 */
#ifndef WB_PERF_MEMIO_H
#define WB_PERF_MEMIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "datapath/io.h"

#define MEMIO_SLOT_DATA 2048       /* largest datagram a ring slot holds */
#define MEMIO_MAX_QUEUES 64

struct memio;

/* One packet of a feed, or one captured datagram. */
struct memio_msg {
    const uint8_t *data;
    uint32_t len;
    struct wb_endpoint from;       /* UDP feeds: the source the device sees */
};

struct memio_feed {
    const struct memio_msg *msgs;  /* handed out in turn, from 0, wrapping */
    size_t n_msgs;
    uint64_t limit;                /* packets to hand out; 0 = no end */
    /* TUN feeds: when n_dst > 1, packet k gets IPv4 destination
     * dst_base + (k % n_dst) (host order in, written big-endian at byte 16). */
    uint32_t n_dst, dst_base;
    bool spread;                   /* every queue takes from it, not queue 0 only */
};

enum memio_data_mode {
    MEMIO_DATA_FORWARD = 0,        /* like any datagram */
    MEMIO_DATA_COUNT,              /* counted and dropped */
    MEMIO_DATA_CAPTURE,            /* copied into the capture arena, then dropped */
};

/* Where captured data messages go: cap slots of slot_size bytes each;
 * msgs[i] is filled for every slot used (from = this backend's address).
 * Slots are taken in the order the sends reach the backend (one peer's
 * data leaves the device in order, from whichever queue). */
struct memio_capture {
    uint8_t *arena;
    size_t slot_size, cap;
    struct memio_msg *msgs;
};

/* Counters, monotonic, summed over the queues; read with memio_counters(). */
struct memio_counters {
    uint64_t tun_tx, tun_tx_bytes;     /* packets the device wrote to TUN */
    uint64_t udp_data_tx, udp_data_bytes; /* data messages it sent (any mode) */
    uint64_t captured;                 /* data messages in the capture arena */
    uint64_t dropped;                  /* ring or arena full, datagram too big */
    uint64_t tun_fed, udp_fed;         /* packets handed out by the feeds */
    uint64_t tun_tx_last_ns;           /* CLOCK_MONOTONIC of the last TUN tx burst (any queue) */
    uint64_t udp_tx_last_ns;           /* same, UDP data */
    uint64_t udp_feed_start_ns;        /* when the current UDP feed handed its first packet */
};

/* A backend at UDP address `addr` with n_queues queues (1..MEMIO_MAX_QUEUES);
 * NULL on ENOMEM or a bad count. The device that is created on
 * memio_backend() owns it (destroy goes through the device). */
struct memio *memio_create(const struct wb_endpoint *addr, unsigned n_queues);
struct io_backend *memio_backend(struct memio *m);
/* Join a and b: each forwards datagrams for the other's address to it.
 * Before either device starts. */
void memio_link(struct memio *a, struct memio *b);

/* Benchmark thread: one packet into the TUN or UDP rx side (queue 0).
 * Returns 0, or -ENOBUFS when the inject ring is full, -EMSGSIZE when it
 * is too big. */
int memio_inject_tun(struct memio *m, const uint8_t *pkt, uint32_t len);
int memio_inject_udp(struct memio *m, const uint8_t *pkt, uint32_t len,
                     const struct wb_endpoint *from);
/* Benchmark thread: the next datagram the device sent to an address that is
 * not the linked backend's. Returns its length (copied into buf, at most
 * cap bytes) and its destination, or 0 when the outbox is empty. */
uint32_t memio_outbox_pop(struct memio *m, uint8_t *buf, uint32_t cap, struct wb_endpoint *to);

/* Benchmark thread, device running: start (f) or stop (NULL) a feed; *f
 * must stay valid until replaced and quiesced. */
void memio_feed_tun(struct memio *m, const struct memio_feed *f);
void memio_feed_udp(struct memio *m, const struct memio_feed *f);
/* Benchmark thread, device running: what happens to data messages sent
 * over UDP. cap is used with MEMIO_DATA_CAPTURE and must stay valid until
 * replaced and quiesced; capturing restarts at slot 0. */
void memio_set_data_mode(struct memio *m, enum memio_data_mode mode,
                         const struct memio_capture *cap);
/* Benchmark thread, device running: wait until every queue's worker has
 * seen the current feeds and data mode (so what they replaced is no longer
 * read). */
void memio_quiesce(struct memio *m);

void memio_counters(struct memio *m, struct memio_counters *out);
/* CPU time (ns) of the worker that drives queue q, or of all of them
 * summed (memio_thread_cpu_ns); -1 before that worker (any worker) has
 * called in. */
int64_t memio_queue_cpu_ns(struct memio *m, unsigned q);
int64_t memio_thread_cpu_ns(struct memio *m);

#endif
