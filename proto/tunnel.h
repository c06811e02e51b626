/* SPDX-License-Identifier: MIT */
/*
 * tunnel.h - the single-peer tunnel's insides, shared by tunnel.c
 * (lifecycle, timers, public wrappers), send.c (what goes out) and
 * receive.c (what comes in). Not part of the public API; the test hooks at
 * the end are for tests only (they link the static library).
 *
 * Concurrency: every public wb_tunnel_* entry takes t->lock for its whole
 * duration; every function declared here runs with it held unless it says
 * otherwise. Nothing blocks while holding it.
 *
 * Output model: one call returns at most one datagram. What else is due
 * (staged packets once a key exists, a keepalive, a handshake asked for by
 * the timers) is remembered in t->pending and produced by the next drain
 * (decapsulate with len 0) or tick.
 */
#ifndef WB_PROTO_TUNNEL_H
#define WB_PROTO_TUNNEL_H

#include <stdbool.h>
#include <stdint.h>

#include "include/wirebolt.h"
#include "proto/clock.h"
#include "proto/cookie.h"
#include "proto/lock.h"
#include "proto/noise.h"
#include "proto/peer.h"


struct wb_tunnel {
    struct wb_mutex lock;
    struct noise_local_identity local;
    struct cookie_checker cookie_checker;
    struct peer peer;
    struct wb_clock clock;
    bool has_clock;
    size_t mtu;
    bool has_index_prefix;
    uint32_t index_prefix;
    uint32_t index_counter;
    bool under_load;
    struct {
        bool initiation;
        bool initiation_is_retry;
        bool keepalive;
    } pending;
    uint64_t drops[WB_DROP_REASON_COUNT];
    void (*log)(void *ctx, enum wb_log_level level, const char *msg);
    void *log_ctx;
    enum wb_log_level log_level;
};

static inline struct wb_result tunnel_result_done(void)
{
    struct wb_result r = { WB_DONE, 0, 0 };
    return r;
}

static inline struct wb_result tunnel_result_error(int err)
{
    struct wb_result r = { WB_ERROR, err, 0 };
    return r;
}

static inline struct wb_result tunnel_result_network(size_t size)
{
    struct wb_result r = { WB_WRITE_TO_NETWORK, 0, size };
    return r;
}

/* Count a drop by reason; the datagram or packet is otherwise ignored. */
static inline struct wb_result tunnel_drop(struct wb_tunnel *t, enum wb_drop_reason why)
{
    t->drops[why]++;
    return tunnel_result_done();
}

static inline uint64_t tunnel_now(struct wb_tunnel *t)
{
    return clock_monotonic_ns(t->has_clock ? &t->clock : NULL);
}

static inline uint64_t tunnel_realtime(struct wb_tunnel *t)
{
    return clock_realtime_ns(t->has_clock ? &t->clock : NULL);
}

/* tunnel.c */
void tunnel_log(struct wb_tunnel *t, enum wb_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
bool tunnel_index_in_use(struct wb_tunnel *t, uint32_t idx);
uint32_t tunnel_new_local_index(struct wb_tunnel *t);

/* send.c */
void tunnel_count_tx(struct wb_tunnel *t, size_t len);
bool tunnel_can_send(struct wb_tunnel *t);
/* An initiation into dst if the REKEY_TIMEOUT limit allows (or force). */
struct wb_result tunnel_send_initiation(struct wb_tunnel *t, uint8_t *dst, size_t cap,
                                        bool is_retry, bool force);
/* What is owed to the network, one datagram per call. */
struct wb_result tunnel_drain(struct wb_tunnel *t, uint8_t *dst, size_t cap);
struct wb_result tunnel_encapsulate_locked(struct wb_tunnel *t, const uint8_t *src, size_t len,
                                           uint8_t *dst, size_t cap);

/* receive.c */
struct wb_result tunnel_decapsulate_locked(struct wb_tunnel *t, const struct wb_endpoint *from,
                                           const uint8_t *src, size_t len, uint8_t *dst, size_t cap);

/* ------------------------------------------------- test hooks (tests only) */

/* Set the sending counter of the current keypair (message-limit tests).
 * Returns 0, or -ENOENT without a current keypair. */
int tunnel_debug_set_sending_counter(struct wb_tunnel *t, uint64_t counter);
/* Make timer deadlines deterministic (no jitter). */
void tunnel_debug_disable_jitter(struct wb_tunnel *t);
/* Local indices of the current/previous/next keypairs (0 when absent). */
void tunnel_debug_keypair_indices(struct wb_tunnel *t, uint32_t *current, uint32_t *previous,
                                  uint32_t *next);
/* Number of packets waiting for a key. */
unsigned tunnel_debug_staged_count(struct wb_tunnel *t);
/* Earliest timer deadline (monotonic ns, 0 = none). */
uint64_t tunnel_debug_next_deadline(struct wb_tunnel *t);

#endif
