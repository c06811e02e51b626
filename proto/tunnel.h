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

#include "crypto/aead.h"
#include "include/wirebolt.h"
#include "proto/clock.h"
#include "proto/cookie.h"
#include "proto/lock.h"
#include "proto/noise.h"
#include "proto/peer.h"


/*
 * What a tunnel shares with the other peers of a device: the local static
 * identity, the cookie checker, the under-load signal, time, logging and
 * local-index allocation. A standalone wb_tunnel owns one (t->own); a
 * multi-peer device owns one for all its peers and points t->shared at it.
 * Readers run under their tunnel's lock; the cookie checker, which rotates
 * its secret as a side effect, is also guarded by cookie_lock because
 * several tunnels use it. Changing the identity is the owner's control
 * path, with the datapath quiesced (the device holds every peer's lock).
 */
struct tunnel_shared {
    struct noise_local_identity local;
    struct cookie_checker cookie_checker;
    struct wb_mutex cookie_lock;
    bool under_load;
    struct wb_clock clock;
    bool has_clock;
    void (*log)(void *ctx, enum wb_log_level level, const char *msg);
    void *log_ctx;
    enum wb_log_level log_level;
    /* Device-wide index allocation; NULL: the tunnel's own scheme. Must
     * return an index that names nothing else, registered to t. */
    uint32_t (*index_alloc)(void *ctx, struct wb_tunnel *t);
    void *index_ctx;
};

struct wb_tunnel {
    struct wb_mutex lock;
    struct tunnel_shared *shared;     /* own, or the device's */
    struct peer peer;
    size_t mtu;
    bool has_index_prefix;
    uint32_t index_prefix;
    uint32_t index_counter;
    struct {
        bool initiation;
        bool initiation_is_retry;
        bool keepalive;
        bool clear_endpoint_src;   /* handshake retry: forget the sticky source */
    } pending;
    /* Set by a multi-peer device on its data workers' side: an initiation
     * (X25519) is not made here but left in pending.initiation for the
     * handshake thread, which clears this flag while it holds the lock
     * (tunnel_initiation_deferred_locked tells the owner one waits). */
    bool defer_initiations;
    uint64_t drops[WB_DROP_REASON_COUNT];
    void *owner;                      /* the device's per-peer data, if any */
    /* A standalone tunnel's own shared context, allocated with it; a
     * device's tunnels have none (304 bytes each at 100,000 peers). */
    struct tunnel_shared own[];
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

static inline uint64_t tunnel_shared_now(const struct tunnel_shared *sh)
{
    return clock_monotonic_ns(sh->has_clock ? &sh->clock : NULL);
}

static inline uint64_t tunnel_now(struct wb_tunnel *t)
{
    return tunnel_shared_now(t->shared);
}

static inline uint64_t tunnel_realtime(struct wb_tunnel *t)
{
    return clock_realtime_ns(t->shared->has_clock ? &t->shared->clock : NULL);
}

static inline uint64_t tunnel_realtime_coarse(struct wb_tunnel *t)
{
    return clock_realtime_coarse_ns(t->shared->has_clock ? &t->shared->clock : NULL);
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
/* An initiation into dst if the REKEY_TIMEOUT limit allows (or force). */
struct wb_result tunnel_send_initiation(struct wb_tunnel *t, uint8_t *dst, size_t cap,
                                        bool is_retry, bool force);
/* What is owed to the network, one datagram per call. */
struct wb_result tunnel_drain(struct wb_tunnel *t, uint8_t *dst, size_t cap);
struct wb_result tunnel_encapsulate_locked(struct wb_tunnel *t, const uint8_t *src, size_t len,
                                           uint8_t *dst, size_t cap);
/* The batch send path (the batch API, the device): the keypair data may be
 * sealed under right now with packet_prepare_create, or NULL when packets
 * must go through tunnel_encapsulate_locked (no usable key, or staged
 * packets waiting ahead of them). */
struct noise_keypair *tunnel_data_keypair_locked(struct wb_tunnel *t, uint64_t now);
/* After n data messages of `bytes` in all were sealed under the current
 * keypair at now: counters, timer hooks, a rekey when due. */
void tunnel_data_sent_locked(struct wb_tunnel *t, size_t n, size_t bytes, uint64_t now);

/* receive.c */
struct wb_result tunnel_decapsulate_locked(struct wb_tunnel *t, const struct wb_endpoint *from,
                                           const uint8_t *src, size_t len, uint8_t *dst, size_t cap);
/* The batch receive path, for a data message src[0..len) (classified as
 * data): find its keypair and fill *op to open it into dst (dst may be
 * src + 16: in place). Returns the keypair, or NULL with the drop counted
 * and *r set. Then, after the open (aead_open_batch), in arrival order and
 * with no handshake message processed in between (that may free kp):
 * replay window, timers, endpoint; the result says what to deliver. */
struct noise_keypair *tunnel_prepare_data_locked(struct wb_tunnel *t, const uint8_t *src, size_t len,
                                                 uint8_t *dst, size_t cap, struct aead_op *op,
                                                 long *plain, struct wb_result *r, uint64_t now);
struct wb_result tunnel_finish_data_locked(struct wb_tunnel *t, struct noise_keypair *kp,
                                           const struct aead_op *op, const struct wb_endpoint *from,
                                           size_t msg_len, size_t plain_len, uint64_t now);

/* The two halves of answering an initiation, for a device that must find
 * the peer in between. First, with no tunnel lock: the macs against the
 * shared checker. */
enum tunnel_macs {
    TUNNEL_MACS_OK,
    TUNNEL_MACS_BAD_MAC1,           /* drop */
    TUNNEL_MACS_COOKIE_SENT,        /* under load: dst holds a cookie reply */
    TUNNEL_MACS_DST_TOO_SMALL,
};
enum tunnel_macs tunnel_shared_check_macs(struct tunnel_shared *sh, const struct wb_endpoint *from,
                                          const uint8_t *src, size_t len, uint8_t *dst, size_t cap,
                                          size_t *reply_len);
/* Then, with t->lock held, once st (from noise_consume_initiation_static
 * against sh->local) named this tunnel's peer: finish and write the
 * response into dst. */
struct wb_result tunnel_answer_initiation_locked(struct wb_tunnel *t, const struct wb_endpoint *from,
                                                 const uint8_t *src, size_t len,
                                                 struct noise_initiation_state *st,
                                                 uint8_t *dst, size_t cap);

/* tunnel.c, for a device: build a peer's tunnel on a shared context.
 * psk may be NULL. Returns 0, -EINVAL (low-order key), -ENOMEM. */
int tunnel_create_on(struct tunnel_shared *sh, const uint8_t peer_public[NOISE_PUBLIC_KEY_LEN],
                     const uint8_t *psk, uint16_t persistent_keepalive, uint16_t mtu,
                     struct wb_tunnel **out);
/* Set up / tear down a shared context (private key may be NULL: none yet).
 * After init, tunnel_shared_wipe is due whether init succeeded or not. */
int tunnel_shared_init(struct tunnel_shared *sh, const uint8_t *private_key, const struct wb_clock *clock);
void tunnel_shared_wipe(struct tunnel_shared *sh);
/* Replace the local private key (NULL: remove) in sh; every tunnel on it
 * must then get tunnel_identity_changed_locked. Returns 0 or -EINVAL. */
int tunnel_shared_set_private_key(struct tunnel_shared *sh, const uint8_t *private_key);
/* With t->lock held: rebind to the new identity (DH(s, S) is made at the
 * next handshake), drop handshake and keypairs. */
void tunnel_identity_changed_locked(struct wb_tunnel *t);
/* With t->lock held: change the preshared key (NULL: none); drops keys. */
void tunnel_set_preshared_key_locked(struct wb_tunnel *t, const uint8_t *psk);
/* With t->lock held: run due timers and return the first datagram owed
 * (drain with tunnel_drain until WB_DONE). */
struct wb_result tunnel_tick_locked(struct wb_tunnel *t, uint8_t *dst, size_t cap);
/* With t->lock held: when the next tick can do something (0: nothing is
 * armed). The earliest timer deadline, or, when packets wait for a key,
 * no handshake is in flight and the last initiation was refused by the
 * one-per-REKEY_TIMEOUT limit, when that limit lets the next one go. An
 * owner that ticks only when something is due (the device's timer
 * wheel) asks this after each change. */
uint64_t tunnel_next_tick_locked(struct wb_tunnel *t);
/* With t->lock held: change the persistent keepalive; turning it on sends a
 * keepalive at the next drain. */
void tunnel_set_persistent_keepalive_locked(struct wb_tunnel *t, uint16_t seconds);

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
