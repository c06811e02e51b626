/* SPDX-License-Identifier: MIT */
/*
 * tunnel.c - the public single-peer tunnel (include/wirebolt.h): creation
 * and destruction, locking around send.c and receive.c, timer actions,
 * local indices, stats, logging, and the test hooks. The glue between
 * noise.c (handshake), packet.c (data), cookie.c (macs), timers.c (policy)
 * and staged.c (packets waiting for a key); see tunnel.h for the contract.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/random.h"
#include "proto/tunnel.h"

void tunnel_log(struct wb_tunnel *t, enum wb_log_level level, const char *fmt, ...)
{
    char buf[256];
    va_list ap;

    if (!t->shared->log || level > t->shared->log_level)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    t->shared->log(t->shared->log_ctx, level, buf);
}

/* ------------------------------------------------------------- indices */

bool tunnel_index_in_use(struct wb_tunnel *t, uint32_t idx)
{
    return (t->peer.handshake.state != HANDSHAKE_ZEROED && t->peer.handshake.local_index == idx) ||
           noise_keypairs_lookup(&t->peer.keypairs, idx) != NULL;
}

/* A fresh local index: random (or prefix<<8 | n, BoringTun's scheme), never
 * one that still names a live handshake or keypair. At most four are live,
 * so the loop ends quickly. */
uint32_t tunnel_new_local_index(struct wb_tunnel *t)
{
    uint32_t idx;

    if (t->shared->index_alloc)
        return t->shared->index_alloc(t->shared->index_ctx, t);
    do {
        if (t->has_index_prefix)
            idx = (t->index_prefix << 8) | (t->index_counter++ & 0xff);
        else
            idx = wb_random_u32();
    } while (tunnel_index_in_use(t, idx));
    return idx;
}

/* ------------------------------------------------------------- timers */

static void apply_timer_actions(struct wb_tunnel *t, unsigned actions)
{
    struct peer *p = &t->peer;
    unsigned n;

    if (actions & TIMER_ZERO_KEYS) {
        noise_keypairs_clear(&p->keypairs);
        noise_handshake_clear(&p->handshake);
        tunnel_log(t, WB_LOG_DEBUG, "zeroed key material");
    }
    if (actions & TIMER_PURGE_STAGED) {
        n = staged_purge(&p->staged);
        t->drops[WB_DROP_STAGED_PURGED] += n;
        t->pending.initiation = false;
        tunnel_log(t, WB_LOG_INFO, "handshake did not complete after %u attempts, giving up",
             (unsigned)MAX_TIMER_HANDSHAKES + 2);
    }
    if (actions & (TIMER_SEND_INITIATION | TIMER_RETRY_INITIATION)) {
        t->pending.initiation = true;
        t->pending.initiation_is_retry = !(actions & TIMER_SEND_INITIATION);
    }
    if (actions & TIMER_SEND_KEEPALIVE)
        t->pending.keepalive = true;
    if (actions & TIMER_CLEAR_ENDPOINT_SRC)
        t->pending.clear_endpoint_src = true;
}

struct wb_result tunnel_tick_locked(struct wb_tunnel *t, uint8_t *dst, size_t cap)
{
    apply_timer_actions(t, timers_expire(&t->peer.timers, tunnel_now(t)));
    return tunnel_drain(t, dst, cap);
}
uint64_t tunnel_next_tick_locked(struct wb_tunnel *t)
{
    const struct timers *tm = &t->peer.timers;
    uint64_t next = timers_next_deadline(tm);

    if (!staged_empty(&t->peer.staged) && !timers_handshake_in_flight(tm) && tm->last_sent_handshake) {
        uint64_t retry = tm->last_sent_handshake + REKEY_TIMEOUT_NS;

        if (!next || retry < next)
            next = retry;
    }
    return next;
}

/* ------------------------------------------------------ shared context */

int tunnel_shared_init(struct tunnel_shared *sh, const uint8_t *private_key, const struct wb_clock *clock)
{
    int ret;

    memset(sh, 0, sizeof(*sh));
    wb_mutex_init(&sh->cookie_lock);
    if (clock) {
        sh->clock = *clock;
        sh->has_clock = true;
    }
    /* On failure the caller still owns sh and wipes it (tunnel_shared_wipe). */
    ret = tunnel_shared_set_private_key(sh, private_key);
    return ret;
}

void tunnel_shared_wipe(struct tunnel_shared *sh)
{
    noise_local_identity_wipe(&sh->local);
    cookie_checker_wipe(&sh->cookie_checker);
    wb_mutex_destroy(&sh->cookie_lock);
}

int tunnel_shared_set_private_key(struct tunnel_shared *sh, const uint8_t *private_key)
{
    struct noise_local_identity id;
    int ret = 0;

    memset(&id, 0, sizeof(id));
    if (private_key)
        ret = noise_local_identity_set(&id, private_key);
    if (ret == 0) {
        sh->local = id;
        wb_mutex_lock(&sh->cookie_lock);
        cookie_checker_init(&sh->cookie_checker, id.public_key);
        wb_mutex_unlock(&sh->cookie_lock);
    }
    noise_local_identity_wipe(&id);
    return ret;
}

void tunnel_identity_changed_locked(struct wb_tunnel *t)
{
    struct peer *p = &t->peer;
    uint8_t remote[NOISE_PUBLIC_KEY_LEN], psk[NOISE_SYMMETRIC_KEY_LEN];
    uint8_t timestamp[NOISE_TIMESTAMP_LEN];

    memcpy(remote, p->handshake.remote_static, sizeof(remote));
    memcpy(psk, p->handshake.preshared_key, sizeof(psk));
    memcpy(timestamp, p->handshake.latest_timestamp, sizeof(timestamp));
    /* A low-order result leaves the precomputed value zero: handshakes with
     * this peer then fail cleanly, as in the Linux module. */
    noise_handshake_init(&p->handshake, &t->shared->local, remote, psk);
    memcpy(p->handshake.latest_timestamp, timestamp, sizeof(timestamp));
    noise_keypairs_clear(&p->keypairs);
    wb_memzero(psk, sizeof(psk));
}

void tunnel_set_preshared_key_locked(struct wb_tunnel *t, const uint8_t *psk)
{
    if (psk)
        memcpy(t->peer.handshake.preshared_key, psk, NOISE_SYMMETRIC_KEY_LEN);
    else
        wb_memzero(t->peer.handshake.preshared_key, NOISE_SYMMETRIC_KEY_LEN);
}

void tunnel_set_persistent_keepalive_locked(struct wb_tunnel *t, uint16_t seconds)
{
    bool was_off = t->peer.timers.persistent_keepalive_interval == 0;

    t->peer.timers.persistent_keepalive_interval = seconds;
    if (!seconds)
        t->peer.timers.persistent_keepalive = 0;
    else if (was_off)
        t->pending.keepalive = true;
}

/* ------------------------------------------------------------ public API */

static struct wb_tunnel *tunnel_alloc(struct tunnel_shared *sh)
{
    struct wb_tunnel *t = calloc(1, sizeof(*t) + (sh ? 0 : sizeof(t->own[0])));

    if (!t)
        return NULL;
    t->shared = sh ? sh : t->own;
    t->peer.rtt_ms = -1;
    staged_init(&t->peer.staged);
    wb_mutex_init(&t->lock);
    return t;
}

static int bind_peer(struct wb_tunnel *t, const uint8_t peer_public[NOISE_PUBLIC_KEY_LEN],
                     const uint8_t *psk, uint16_t persistent_keepalive, uint16_t mtu)
{
    int ret = noise_handshake_init(&t->peer.handshake, &t->shared->local, peer_public, psk);

    if (ret < 0)
        return ret;
    cookie_maker_init(&t->peer.cookie_maker, peer_public);
    timers_init(&t->peer.timers, persistent_keepalive);
    t->mtu = mtu ? mtu : DEFAULT_MTU;
    /* A persistent keepalive exists to open the path at once. */
    t->pending.keepalive = persistent_keepalive != 0;
    return 0;
}

int tunnel_create_on(struct tunnel_shared *sh, const uint8_t peer_public[NOISE_PUBLIC_KEY_LEN],
                     const uint8_t *psk, uint16_t persistent_keepalive, uint16_t mtu,
                     struct wb_tunnel **out)
{
    struct wb_tunnel *t = tunnel_alloc(sh);
    int ret;

    *out = NULL;
    if (!t)
        return -ENOMEM;
    ret = bind_peer(t, peer_public, psk, persistent_keepalive, mtu);
    if (ret < 0) {
        wb_tunnel_destroy(t);
        return ret;
    }
    *out = t;
    return 0;
}

int wb_tunnel_create(const struct wb_tunnel_config *cfg, struct wb_tunnel **out)
{
    struct wb_tunnel *t;
    int ret;

    if (!cfg || !out || cfg->size < sizeof(struct wb_tunnel_config))
        return -EINVAL;
    *out = NULL;
    ret = wb_init();
    if (ret < 0 && ret != -ENOENT && ret != -ENOTSUP)
        return ret;
    t = tunnel_alloc(NULL);
    if (!t)
        return -ENOMEM;
    ret = tunnel_shared_init(t->own, cfg->private_key, cfg->clock);
    if (ret == 0) {
        t->own->log = cfg->log;
        t->own->log_ctx = cfg->log_ctx;
        t->own->log_level = cfg->log_level;
        t->has_index_prefix = cfg->has_index_prefix;
        t->index_prefix = cfg->index_prefix & 0xffffff;
        ret = bind_peer(t, cfg->peer_public_key, cfg->has_preshared_key ? cfg->preshared_key : NULL,
                        cfg->persistent_keepalive, cfg->mtu);
    }
    if (ret < 0) {
        wb_tunnel_destroy(t);
        return ret;
    }
    *out = t;
    return 0;
}

int wb_tunnel_create_base64(const char *private_b64, const char *peer_public_b64,
                            const char *preshared_b64, uint16_t persistent_keepalive,
                            struct wb_tunnel **out)
{
    struct wb_tunnel_config cfg;
    int ret = -EINVAL;

    memset(&cfg, 0, sizeof(cfg));
    cfg.size = sizeof(cfg);
    cfg.persistent_keepalive = persistent_keepalive;
    if (!private_b64 || !peer_public_b64 || wb_key_from_base64(cfg.private_key, private_b64) < 0 ||
        wb_key_from_base64(cfg.peer_public_key, peer_public_b64) < 0)
        goto out;
    if (preshared_b64) {
        if (wb_key_from_base64(cfg.preshared_key, preshared_b64) < 0)
            goto out;
        cfg.has_preshared_key = true;
    }
    ret = wb_tunnel_create(&cfg, out);
out:
    wb_memzero(&cfg, sizeof(cfg));
    return ret;
}

void wb_tunnel_destroy(struct wb_tunnel *t)
{
    if (!t)
        return;
    staged_purge(&t->peer.staged);
    noise_keypairs_clear(&t->peer.keypairs);
    noise_handshake_wipe(&t->peer.handshake);
    cookie_maker_wipe(&t->peer.cookie_maker);
    bool own = t->shared == t->own;

    if (own)
        tunnel_shared_wipe(t->own);
    wb_mutex_destroy(&t->lock);
    wb_memzero(t, sizeof(*t) + (own ? sizeof(t->own[0]) : 0));
    free(t);
}

struct wb_result wb_tunnel_encapsulate(struct wb_tunnel *t, const uint8_t *src, size_t len,
                                       uint8_t *dst, size_t dst_cap)
{
    struct wb_result r;

    if (!t || !dst || (len && !src))
        return tunnel_result_error(-EINVAL);
    if (len > MESSAGE_MAX_LEN - MESSAGE_MINIMUM_LENGTH)
        return tunnel_result_error(-EMSGSIZE);
    wb_mutex_lock(&t->lock);
    r = tunnel_encapsulate_locked(t, src, len, dst, dst_cap);
    wb_mutex_unlock(&t->lock);
    return r;
}

struct wb_result wb_tunnel_decapsulate(struct wb_tunnel *t, const struct wb_endpoint *from,
                                       const uint8_t *src, size_t len, uint8_t *dst, size_t dst_cap)
{
    struct wb_result r;

    if (!t || !dst || (len && !src))
        return tunnel_result_error(-EINVAL);
    wb_mutex_lock(&t->lock);
    r = tunnel_decapsulate_locked(t, from, src, len, dst, dst_cap);
    wb_mutex_unlock(&t->lock);
    return r;
}

struct wb_result wb_tunnel_tick(struct wb_tunnel *t, uint8_t *dst, size_t dst_cap)
{
    struct wb_result r;

    if (!t || !dst)
        return tunnel_result_error(-EINVAL);
    wb_mutex_lock(&t->lock);
    r = tunnel_tick_locked(t, dst, dst_cap);
    wb_mutex_unlock(&t->lock);
    return r;
}

struct wb_result wb_tunnel_force_handshake(struct wb_tunnel *t, uint8_t *dst, size_t dst_cap)
{
    struct wb_result r;

    if (!t || !dst)
        return tunnel_result_error(-EINVAL);
    wb_mutex_lock(&t->lock);
    r = tunnel_send_initiation(t, dst, dst_cap, false, true);
    wb_mutex_unlock(&t->lock);
    return r;
}

static float estimate_loss(const struct noise_keypair *kp)
{
    uint64_t expected, got;

    if (!kp || kp->receiving_counter.counter == 0)
        return -1.0f;
    expected = kp->receiving_counter.counter;
    got = kp->receiving_counter.received;
    return got >= expected ? 0.0f : (float)(expected - got) / (float)expected;
}

int wb_tunnel_stats(struct wb_tunnel *t, struct wb_tunnel_stats *out)
{
    struct wb_tunnel_stats s;
    uint64_t now;

    if (!t || !out || out->size < sizeof(struct wb_tunnel_stats))
        return -EINVAL;
    memset(&s, 0, sizeof(s));
    s.size = sizeof(s);
    wb_mutex_lock(&t->lock);
    now = tunnel_now(t);
    s.time_since_last_handshake_ns =
        t->peer.last_handshake_mono_ns ? (int64_t)(now - t->peer.last_handshake_mono_ns) : -1;
    s.last_handshake_realtime_ns = t->peer.last_handshake_realtime_ns;
    s.tx_bytes = t->peer.tx_bytes;
    s.rx_bytes = t->peer.rx_bytes;
    s.tx_packets = t->peer.tx_packets;
    s.rx_packets = t->peer.rx_packets;
    s.estimated_loss = estimate_loss(t->peer.keypairs.current);
    s.estimated_rtt_ms = t->peer.rtt_ms;
    s.handshakes_completed = t->peer.handshakes_completed;
    memcpy(s.drops, t->drops, sizeof(s.drops));
    wb_mutex_unlock(&t->lock);
    *out = s;
    return 0;
}

void wb_tunnel_set_under_load(struct wb_tunnel *t, bool under_load)
{
    if (!t)
        return;
    wb_mutex_lock(&t->lock);
    t->shared->under_load = under_load;
    wb_mutex_unlock(&t->lock);
}
/* ------------------------------------------------------------ test hooks */

int tunnel_debug_set_sending_counter(struct wb_tunnel *t, uint64_t counter)
{
    int ret = -ENOENT;

    wb_mutex_lock(&t->lock);
    if (t->peer.keypairs.current) {
        t->peer.keypairs.current->sending_counter = counter;
        ret = 0;
    }
    wb_mutex_unlock(&t->lock);
    return ret;
}

void tunnel_debug_disable_jitter(struct wb_tunnel *t)
{
    wb_mutex_lock(&t->lock);
    t->peer.timers.jitter_disabled = true;
    wb_mutex_unlock(&t->lock);
}

void tunnel_debug_keypair_indices(struct wb_tunnel *t, uint32_t *current, uint32_t *previous,
                                  uint32_t *next)
{
    struct noise_keypairs *k = &t->peer.keypairs;

    wb_mutex_lock(&t->lock);
    *current = k->current ? k->current->local_index : 0;
    *previous = k->previous ? k->previous->local_index : 0;
    *next = k->next ? k->next->local_index : 0;
    wb_mutex_unlock(&t->lock);
}

unsigned tunnel_debug_staged_count(struct wb_tunnel *t)
{
    unsigned n;

    wb_mutex_lock(&t->lock);
    n = t->peer.staged.count;
    wb_mutex_unlock(&t->lock);
    return n;
}

uint64_t tunnel_debug_next_deadline(struct wb_tunnel *t)
{
    uint64_t d;

    wb_mutex_lock(&t->lock);
    d = timers_next_deadline(&t->peer.timers);
    wb_mutex_unlock(&t->lock);
    return d;
}
