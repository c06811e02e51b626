/* SPDX-License-Identifier: MIT */
/*
 * device_impl.h - the device's insides, shared by device.c (lifecycle and
 * configuration, control threads), worker.c (the data workers), crypt.c
 * (parallel crypto with per-peer order), handshake.c (the handshake
 * thread) and batch.c (buffers and output lists). See device.h for the
 * threading contract.
 */
#ifndef WB_DATAPATH_DEVICE_IMPL_H
#define WB_DATAPATH_DEVICE_IMPL_H

#include <pthread.h>
#include <stdatomic.h>

#include "datapath/allowedips.h"
#include "datapath/device.h"
#include "datapath/peer_table.h"
#include "datapath/pool.h"
#include "datapath/ratelimiter.h"
#include "datapath/ring.h"
#include "datapath/worker.h"
#include "proto/tunnel.h"

#define DEVICE_TICK_NS (100ULL * 1000000ULL)
/* Handshake messages wait in a ring for the handshake thread, so data is
 * never starved by X25519 work; the device is under load when it is 1/8
 * full (Linux, wireguard-go). A power of two, >= MAX_QUEUED_INCOMING_HANDSHAKES. */
#define DEVICE_HANDSHAKE_RING 4096
#define DEVICE_HANDSHAKE_OUT_RING 1024
#define DEVICE_HANDSHAKES_PER_ROUND 16
/* Peers handed to the handshake thread (an initiation to make, a timer
 * armed earlier): when full, it sweeps every peer instead. */
#define DEVICE_HS_REQUEST_RING 4096
/* A handshake slot's room: an initiation (148 B) or a response (92 B). */
#define HS_SLOT_ROOM 160
/* The timer wheel: one slot per tick, 1024 ticks (102 s) a turn. */
#define DEVICE_WHEEL_SLOTS 1024

struct device {
    struct io_backend *io;
    struct device_options opt;
    struct tunnel_shared shared;
    struct peer_table peers;
    struct allowedips aips;
    struct ratelimiter ratelimiter;

    /* Control plane: serialises set/get; owns the list of peers it walks.
     * A removed peer's slot is refilled from the end, unless a dump (a get
     * in parts, which releases the lock between parts) is in progress:
     * then the slot stays NULL until the last dump ends, so positions hold
     * still and a dump sees every peer that stays exactly once. */
    pthread_mutex_t control_lock;
    struct device_peer **list;
    size_t n_list, cap_list, n_holes;
    unsigned dumps;
    /* Unlinked peers waiting for one grace period, shared by all the
     * removals of one change (one synchronize_rcu per change, not per
     * peer: replacing 20,000 peers took 6.7 s). */
    struct device_peer **doomed;
    size_t n_doomed, cap_doomed;
    uint16_t listen_port;
    uint32_t fwmark;

    /* The threads: n_workers data workers (worker i owns I/O queue i) and
     * one handshake thread. */
    struct worker *workers;
    unsigned n_workers;
    struct handshake_thread hs;
    /* Buffers and jobs: pools with one cache per worker, one for the
     * handshake thread (cache index n_workers); control threads use
     * POOL_NO_CACHE. */
    struct pool *pkts;
    size_t pkt_room;
    struct pool *jobs;
    /* Handshake messages wait for the handshake thread in slots of their
     * own (HS_SLOT_ROOM, one per hs_in entry): a flood holds at most
     * DEVICE_HANDSHAKE_RING of them (about 1.5 MiB, allocated at start)
     * and never the data buffers. */
    struct pool *hs_msgs;
    struct ring *crypt;            /* MPMC: jobs waiting for crypto, any worker runs them */
    struct ring *hs_in;            /* MPSC: handshake messages, workers -> handshake thread */
    struct ring *hs_out;           /* SPMC: datagrams the handshake thread made, for any worker */
    struct ring *hs_req;           /* MPSC: peers the handshake thread must look at */
    atomic_bool hs_sweep;          /* hs_req overflowed (or a start): look at every peer */
    atomic_ulong idle;             /* bit i: worker i waits for I/O (kick it for crypto work) */

    /* Pausing the datapath, to change what it reads without RCU (identity,
     * sockets): the control side raises pause_req and wakes every thread;
     * each parks (offline) and counts itself in n_paused, until resumed.
     * A thread that has left its loop counts in n_exited. */
    pthread_mutex_t pause_mtx;
    pthread_cond_t pause_cond;
    atomic_bool pause_req;
    unsigned n_paused, n_exited, n_threads;
    bool started;
    atomic_bool stop;
    atomic_int fatal_error;        /* first fatal backend error, 0 = none */

    /* Counters of no worker (the handshake thread's, control's). */
    struct worker_stats hs_stats;
};

/* worker.c */
void *worker_main(void *arg);
/* A thread of the datapath parks here while the control side has paused
 * it. Any datapath thread, registered with RCU. */
void device_thread_maybe_pause(struct device *dev);
/* The datapath thread's exit: count it, wake a control thread waiting. */
void device_thread_exited(struct device *dev);
/* Record a backend error that stops the datapath. */
void device_fatal(struct device *dev, int err);

/* device.c: one thread's counters (worker < n_workers; n_workers: the
 * handshake thread's and the control threads'). Any thread. */
void device_get_worker_stats(struct device *dev, unsigned worker, struct worker_stats *out);

/* device.c: the index allocator handed to every peer's tunnel. */
uint32_t device_alloc_index(void *ctx, struct wb_tunnel *t);

#endif
