/* SPDX-License-Identifier: MIT */
/*
 * fuzz_memio.h - a small in-memory io_backend (datapath/io.h) for
 * fuzz_device: one queue, whose TUN and UDP sides read what the harness
 * injected and write into an outbox the harness reads back. The idea of
 * perf/memio.c, cut down to what a fuzzer needs: FIFOs under one mutex
 * (nothing here is fast, nothing needs to be), no feeds, no links.
 *
 * What the harness can learn, to know when the device is done with its
 * input (fuzz_device.c's quiesce): whether both inject FIFOs are empty
 * and the worker is blocked in wait() with nothing ready (idle), an
 * activity counter that moves whenever a burst carries a packet either
 * way, and a hook called from set_listen(), which the device calls with
 * every datapath thread parked (device.c pauses them around it).
 *
 * Concurrency: the worker calls the burst functions, wait() and (through
 * the device's control side) set_listen(); the harness thread injects,
 * pops and reads the counters; wake() comes from any thread. One mutex
 * guards everything; wait() sleeps on a condition variable.
 */
#ifndef WB_TESTS_FUZZ_MEMIO_H
#define WB_TESTS_FUZZ_MEMIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "datapath/io.h"

#define FUZZ_MEMIO_SLOT 2048       /* largest packet or datagram held */
#define FUZZ_MEMIO_RX_SLOTS 1024   /* per inject FIFO */
#define FUZZ_MEMIO_OUT_SLOTS 1024  /* outbox (datagrams the device sent) */

struct fuzz_memio;

struct fuzz_memio_counters {
    uint64_t udp_rx, tun_rx;       /* handed to the device */
    uint64_t udp_tx, tun_tx;       /* taken from it */
    uint64_t rx_too_big;           /* did not fit the device's buffer: dropped */
    uint64_t outbox_full;          /* a datagram sent while the outbox was full: dropped */
    uint64_t activity;             /* bursts that moved at least one packet */
};

/* A backend whose UDP address is *addr (the source of every datagram the
 * harness pops, and what the device's packets arrive on). NULL on ENOMEM.
 * The device created on fuzz_memio_backend() owns it. */
struct fuzz_memio *fuzz_memio_create(const struct wb_endpoint *addr);
struct io_backend *fuzz_memio_backend(struct fuzz_memio *m);

/* Harness thread: queue one datagram from `from` / one TUN packet.
 * 0, -ENOBUFS (FIFO full) or -EMSGSIZE (over FUZZ_MEMIO_SLOT). */
int fuzz_memio_inject_udp(struct fuzz_memio *m, const uint8_t *data, size_t len,
                          const struct wb_endpoint *from);
int fuzz_memio_inject_tun(struct fuzz_memio *m, const uint8_t *data, size_t len);

/* Harness thread: the oldest datagram the device sent (copied, at most
 * cap bytes) and its destination; 0 when there is none. */
size_t fuzz_memio_outbox_pop(struct fuzz_memio *m, uint8_t *buf, size_t cap,
                             struct wb_endpoint *to);

/* Nothing left to read and the worker asleep in wait(). */
bool fuzz_memio_idle(struct fuzz_memio *m);
/* Nothing left to read (the worker may be anywhere). */
bool fuzz_memio_rx_empty(struct fuzz_memio *m);
void fuzz_memio_counters(struct fuzz_memio *m, struct fuzz_memio_counters *out);

/* fn(ctx) runs inside set_listen(), i.e. with the datapath paused. */
void fuzz_memio_on_paused(struct fuzz_memio *m, void (*fn)(void *ctx), void *ctx);

#endif
