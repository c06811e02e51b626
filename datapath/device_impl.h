/* SPDX-License-Identifier: MIT */
/*
 * device_impl.h - the device's insides, shared by device.c (lifecycle and
 * configuration, control threads) and worker.c (the datapath thread).
 * See device.h for the threading contract.
 */
#ifndef WB_DATAPATH_DEVICE_IMPL_H
#define WB_DATAPATH_DEVICE_IMPL_H

#include <pthread.h>
#include <stdatomic.h>

#include "datapath/allowedips.h"
#include "datapath/device.h"
#include "datapath/peer_table.h"
#include "datapath/ratelimiter.h"
#include "proto/tunnel.h"

#define DEVICE_BURST 64
#define DEVICE_TICK_NS (100ULL * 1000000ULL)
/* Handshake messages wait here so data is never starved by X25519 work;
 * the device is under load when it is 1/8 full (Linux, wireguard-go). */
#define DEVICE_HANDSHAKE_QUEUE MAX_QUEUED_INCOMING_HANDSHAKES
#define DEVICE_HANDSHAKES_PER_ROUND 16

struct device {
    struct io_backend *io;
    struct device_options opt;
    struct tunnel_shared shared;
    struct peer_table peers;
    struct allowedips aips;
    struct ratelimiter ratelimiter;

    /* Control plane: serialises set/get; owns the list of peers it walks. */
    pthread_mutex_t control_lock;
    struct device_peer **list;
    size_t n_list, cap_list;
    uint16_t listen_port;
    uint32_t fwmark;

    /* Pausing the datapath, to change what it reads without RCU (identity,
     * sockets): the control side raises pause_req and wakes the worker,
     * which parks (offline) and says so with paused, until resumed. */
    pthread_mutex_t pause_mtx;
    pthread_cond_t pause_cond;
    atomic_bool pause_req;
    bool paused;
    bool exited;                   /* the worker has left its loop (under pause_mtx) */
    pthread_t thread;
    bool started;
    atomic_bool stop;
    atomic_int fatal_error;        /* first fatal backend error, 0 = none */

    /* Datapath-thread state. */
    struct pkt *handshake_queue[DEVICE_HANDSHAKE_QUEUE];
    unsigned hq_head, hq_count;
    uint64_t under_load_until;
    uint64_t next_tick;

    /* Counters: written by the datapath thread, read by anyone. */
    struct {
        _Atomic uint64_t rx_datagrams, tx_datagrams, rx_tun, tx_tun;
        _Atomic uint64_t no_route, no_endpoint, malformed, unknown_index, unknown_peer;
        _Atomic uint64_t bad_mac1, ratelimited, hq_full, source_not_allowed, tx_failed, cookies;
    } stats;
};

/* worker.c */
void *worker_main(void *arg);
/* worker.c: park here while the control side has paused the datapath. */
void worker_maybe_pause(struct device *dev);

/* device.c: the index allocator handed to every peer's tunnel. */
uint32_t device_alloc_index(void *ctx, struct wb_tunnel *t);

#endif
