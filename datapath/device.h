/* SPDX-License-Identifier: MIT */
/*
 * device.h - the multi-peer WireGuard device: one local identity, many
 * peers, cryptokey routing through allowed-IPs tries, and an I/O backend
 * (datapath/io.h) that it drives from its datapath thread.
 *
 * Each peer's protocol state is a wb_tunnel built on the device's shared
 * context (proto/tunnel.h), so the device adds only what a single tunnel
 * lacks: routing, peer lookup, handshake rate limiting and load, endpoints
 * with sticky source addresses, and the I/O loop.
 *
 * Threads:
 *   - the data workers (device_start; worker.h): one per I/O queue of the
 *     backend, each pinned where the options say. They run every burst,
 *     share the crypto of every peer, and release packets in per-peer
 *     order. RCU (QSBR) readers of the peer tables and allowed-IPs tries;
 *     quiescent once per loop turn and offline while they wait for I/O.
 *   - the handshake thread: handshake messages, cookies, the timers.
 *   - control threads (the UAPI server, the CLI): device_set/get_config,
 *     serialised by dev->control_lock. Peers are unlinked, then freed after
 *     synchronize_rcu() and once no job of theirs is in flight. Changes
 *     that the datapath reads without RCU (the local identity, the
 *     sockets) are made with every datapath thread paused.
 *
 * Memory: crypto jobs come from a pool of DEVICE_JOBS_PER_WORKER a worker
 * (about 4.4 KiB each), packet buffers from another of
 * DEVICE_PKTS_PER_WORKER a worker plus each thread's receive slots and
 * cache, each buffer pkt_room (MTU + 64, at least 1792 bytes); nothing is
 * allocated per packet. With MTU 1420: about 9 MiB a worker. Input waits
 * in the kernel while either pool runs low.
 * An empty pool is a counted drop (no_buffer), never a wait.
 */
#ifndef WB_DATAPATH_DEVICE_H
#define WB_DATAPATH_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "datapath/io.h"
#include "proto/config.h"

struct device;

struct device_options {
    uint16_t mtu;                 /* inner MTU, for padding; 0 = 1420 */
    const struct wb_clock *clock; /* NULL = system clock */
    void (*log)(void *ctx, enum wb_log_level level, const char *msg);
    void *log_ctx;
    enum wb_log_level log_level;
    /* Called once, from the datapath thread, when a backend error stops
     * the datapath (the TUN interface deleted, ...); ctx is log_ctx. */
    void (*on_fatal)(void *ctx, int err);
    /* CPU of worker i (pinned), for i < n_cpus; the others run unpinned.
     * The worker count is the backend's queue count. */
    const int *cpus;
    unsigned n_cpus;
};

#define DEVICE_MAX_WORKERS 64
#define DEVICE_JOBS_PER_WORKER 160   /* crypto jobs (up to 64 packets each; one a
                                        packet when every packet goes to another peer) */
#define DEVICE_PKTS_PER_WORKER 4096  /* packet buffers in flight */
#define DEVICE_PKT_CACHE 256         /* buffers a thread keeps at hand */

/* Create a device on an I/O backend (ownership moves to the device, also on
 * failure), with one worker per backend queue (1..DEVICE_MAX_WORKERS).
 * Returns 0 or -errno. */
int device_create(struct io_backend *io, const struct device_options *opt, struct device **out);
/* Start / stop the datapath threads. Control thread only. */
int device_start(struct device *dev);
void device_stop(struct device *dev);
/* Stop, free every peer, wipe every secret, destroy the backend. */
void device_destroy(struct device *dev);

/* Apply a change with UAPI set semantics (replace_peers, remove,
 * update_only, replace_allowed_ips, allowed_ip removal, private key removal
 * by zeros). Endpoints must be resolved into config_peer.endpoint (the
 * parsers do it for IP literals; host names are the caller's to resolve).
 * Returns 0 or -errno; on error the change may be partly applied,
 * as with wireguard-go. Control thread; serialised internally. */
int device_set_config(struct device *dev, const struct config *change);
/* Fill *out (config_init'ed by the caller) with the running configuration
 * and per-peer statistics, in UAPI get form. Returns 0 or -errno. Holds
 * the control lock throughout: for many peers, dump in parts. */
int device_get_config(struct device *dev, struct config *out);

/* The same in parts, so that a long dump (100,000 peers) does not hold up
 * a change: the control lock is taken for each part only. A peer that is
 * configured for the whole dump comes exactly once; one added meanwhile
 * may or may not come, one removed meanwhile may have come already.
 *   begin: start a dump (every begin needs its end);
 *   next:  append up to max_peers peers to *out (config_init'ed by the
 *          caller, who may config_free it between parts), and the device
 *          part (keys, port, fwmark) on the first call; returns 1 when
 *          more may follow, 0 when the dump is complete, or -errno;
 *   end:   finish it (also after an error).
 * Control threads; a dump may span several threads but each call is made
 * by one at a time. */
struct device_dump {
    size_t pos;
    bool started;
};
void device_dump_begin(struct device *dev, struct device_dump *d);
int device_dump_next(struct device *dev, struct device_dump *d, struct config *out, size_t max_peers);
void device_dump_end(struct device *dev, struct device_dump *d);

/* Counters of the datapath, summed over its threads. */
struct device_stats {
    unsigned workers;
    uint64_t jobs, job_packets;      /* crypto jobs and the packets in them */
    uint64_t drop_no_buffer;         /* a pool was empty */
    uint64_t drop_dead_peer;         /* in flight when its peer was removed */
    uint64_t input_deferred;         /* turns a worker left input queued (crypto backlog) */
    size_t pool_bytes;               /* the packet and job pools */
    size_t pkt_room;                 /* largest packet a buffer takes */
    uint64_t rx_datagrams, tx_datagrams;
    uint64_t rx_tun_packets, tx_tun_packets;
    uint64_t drop_no_route;          /* TUN packet with no allowed-IPs match */
    uint64_t drop_no_endpoint;       /* peer has no endpoint yet */
    uint64_t drop_malformed;         /* bad datagram: type/length */
    uint64_t drop_unknown_index;
    uint64_t drop_unknown_peer;      /* initiation from a static key we don't know */
    uint64_t drop_bad_mac1;
    uint64_t drop_ratelimited;
    uint64_t drop_handshake_queue_full;
    uint64_t drop_source_not_allowed;/* decrypted packet's source not in the peer's allowed IPs */
    uint64_t drop_tx_failed;
    uint64_t cookies_sent;
    bool under_load;
    /* The peers' own drop counters (enum wb_drop_reason: decrypt failed,
     * replay, handshake failed, ...), summed over the peers configured
     * now (a removed peer's go with it). */
    uint64_t tunnel_drops[WB_DROP_REASON_COUNT];
};
/* Any thread but a datapath one: the peer sum takes the control lock and
 * each peer's lock (O(N)). */
void device_get_stats(struct device *dev, struct device_stats *out);

/* The device's I/O backend (for its own counters). Any thread. */
struct io_backend *device_io(struct device *dev);

/* The I/O error that stopped the datapath thread, or 0 while it runs. */
int device_fatal_error(struct device *dev);

#endif
