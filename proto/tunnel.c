/* SPDX-License-Identifier: MIT */
/*
 * tunnel.c - the public single-peer tunnel (include/wirebolt.h): dispatch
 * of incoming datagrams by message type, what goes out and when, and the
 * glue between noise.c (handshake), packet.c (data), cookie.c (macs),
 * timers.c (policy) and staged.c (packets waiting for a key).
 *
 * Concurrency: every public entry takes t->lock for its whole duration; the
 * static helpers below run with it held. Nothing blocks while holding it.
 *
 * Output model: one call returns at most one datagram. What else is due
 * (staged packets once a key exists, a keepalive, a handshake asked for by
 * the timers) is remembered in t->pending and produced by the next drain
 * (decapsulate with len 0) or tick.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/aead.h"
#include "crypto/random.h"
#include "proto/clock.h"
#include "proto/lock.h"
#include "proto/packet.h"
#include "proto/peer.h"
#include "proto/tunnel.h"

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

static const struct wb_result result_done = { WB_DONE, 0, 0 };

static struct wb_result result_error(int err)
{
    struct wb_result r = { WB_ERROR, err, 0 };
    return r;
}

static struct wb_result result_network(size_t size)
{
    struct wb_result r = { WB_WRITE_TO_NETWORK, 0, size };
    return r;
}

static void tlog(struct wb_tunnel *t, enum wb_log_level level, const char *fmt, ...)
{
    char buf[256];
    va_list ap;

    if (!t->log || level > t->log_level)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    t->log(t->log_ctx, level, buf);
}

static struct wb_result drop(struct wb_tunnel *t, enum wb_drop_reason why)
{
    t->drops[why]++;
    return result_done;
}

static uint64_t now_ns(struct wb_tunnel *t)
{
    return clock_monotonic_ns(t->has_clock ? &t->clock : NULL);
}

static uint64_t realtime_ns(struct wb_tunnel *t)
{
    return clock_realtime_ns(t->has_clock ? &t->clock : NULL);
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ------------------------------------------------------------- indices */

static bool index_in_use(struct wb_tunnel *t, uint32_t idx)
{
    return (t->peer.handshake.state != HANDSHAKE_ZEROED && t->peer.handshake.local_index == idx) ||
           noise_keypairs_lookup(&t->peer.keypairs, idx) != NULL;
}

/* A fresh local index: random (or prefix<<8 | n, BoringTun's scheme), never
 * one that still names a live handshake or keypair. At most four are live,
 * so the loop ends quickly. */
static uint32_t new_local_index(struct wb_tunnel *t)
{
    uint32_t idx;

    do {
        if (t->has_index_prefix)
            idx = (t->index_prefix << 8) | (t->index_counter++ & 0xff);
        else
            idx = wb_random_u32();
    } while (index_in_use(t, idx));
    return idx;
}

/* ------------------------------------------------------------- sending */

static void count_tx(struct wb_tunnel *t, size_t len)
{
    t->peer.tx_bytes += len;
    t->peer.tx_packets++;
}

/* An initiation into dst, if the rate limit allows (or force). */
static struct wb_result send_initiation(struct wb_tunnel *t, uint8_t *dst, size_t cap,
                                        bool is_retry, bool force)
{
    struct peer *p = &t->peer;
    uint64_t now = now_ns(t);
    int ret;

    if (cap < MESSAGE_INITIATION_LEN)
        return drop(t, WB_DROP_DST_TOO_SMALL);
    if (!timers_initiation_allowed(&p->timers, now, is_retry, force))
        return result_done;
    ret = noise_create_initiation(&p->handshake, (struct message_handshake_initiation *)dst,
                                  new_local_index(t), realtime_ns(t), NULL);
    if (ret < 0) {
        tlog(t, WB_LOG_WARN, "cannot create handshake initiation: %s", strerror(-ret));
        return result_error(ret);
    }
    cookie_add_mac_to_packet(&p->cookie_maker, dst, MESSAGE_INITIATION_LEN, now);
    timers_any_authenticated_packet_traversal(&p->timers, now);
    timers_any_authenticated_packet_sent(&p->timers, now);
    timers_handshake_initiated(&p->timers, now);
    p->initiation_sent_ns = now;
    count_tx(t, MESSAGE_INITIATION_LEN);
    tlog(t, WB_LOG_DEBUG, "sending handshake initiation%s", is_retry ? " (retry)" : "");
    return result_network(MESSAGE_INITIATION_LEN);
}

/* Seal src (len may be 0: a keepalive) under the current keypair. */
static struct wb_result send_data(struct wb_tunnel *t, const uint8_t *src, size_t len,
                                  uint8_t *dst, size_t cap)
{
    struct peer *p = &t->peer;
    struct noise_keypair *kp = p->keypairs.current;
    struct aead_op op;
    uint64_t now = now_ns(t);
    long n = packet_prepare_create(kp, src, len, t->mtu, dst, cap, &op);

    if (n < 0)
        return n == -EMSGSIZE ? drop(t, WB_DROP_DST_TOO_SMALL) : drop(t, WB_DROP_KEY_EXPIRED);
    aead_seal(op.dst, op.src, op.len, NULL, 0, op.counter, op.key);
    timers_any_authenticated_packet_traversal(&p->timers, now);
    timers_any_authenticated_packet_sent(&p->timers, now);
    if (len)
        timers_data_sent(&p->timers, now);
    count_tx(t, (size_t)n);
    if (timers_want_rekey_on_send(&p->timers, kp, now))
        t->pending.initiation = true, t->pending.initiation_is_retry = false;
    return result_network((size_t)n);
}

static bool can_send(struct wb_tunnel *t)
{
    return noise_keypair_can_send(t->peer.keypairs.current, now_ns(t));
}

/* The oldest staged packet, sealed, if a key exists. */
static struct wb_result send_staged(struct wb_tunnel *t, uint8_t *dst, size_t cap)
{
    const struct staged_packet *sp = staged_peek(&t->peer.staged);
    struct wb_result r;

    if (!sp || !can_send(t))
        return result_done;
    r = send_data(t, sp->data, sp->len, dst, cap);
    if (r.op == WB_WRITE_TO_NETWORK)
        staged_pop(&t->peer.staged);   /* else it stays, in order, for the next try */
    return r;
}

/* What is owed to the network, one datagram at a time. */
static struct wb_result drain(struct wb_tunnel *t, uint8_t *dst, size_t cap)
{
    struct wb_result r;

    if (t->pending.initiation) {
        t->pending.initiation = false;
        r = send_initiation(t, dst, cap, t->pending.initiation_is_retry, false);
        if (r.op != WB_DONE)
            return r;
    }
    if (!staged_empty(&t->peer.staged)) {
        if (can_send(t))
            return send_staged(t, dst, cap);
        /* A handshake already in flight is the retransmit timer's business:
         * a fresh initiation here would reset its attempt count and it
         * would never give up. */
        if (timers_handshake_in_flight(&t->peer.timers))
            return result_done;
        return send_initiation(t, dst, cap, false, false);
    }
    if (t->pending.keepalive) {
        t->pending.keepalive = false;
        if (can_send(t))
            return send_data(t, NULL, 0, dst, cap);
        return send_initiation(t, dst, cap, false, false);
    }
    return result_done;
}

static void stage(struct wb_tunnel *t, const uint8_t *src, size_t len)
{
    int ret = staged_push(&t->peer.staged, src, len);

    if (ret == 1)
        t->drops[WB_DROP_STAGED_OVERFLOW]++;
    else if (ret < 0)
        t->drops[WB_DROP_STAGED_OVERFLOW]++;
}

static struct wb_result encapsulate_locked(struct wb_tunnel *t, const uint8_t *src, size_t len,
                                           uint8_t *dst, size_t cap)
{
    if (len == 0) {
        if (can_send(t))
            return send_data(t, NULL, 0, dst, cap);
        return send_initiation(t, dst, cap, false, false);
    }
    if (staged_empty(&t->peer.staged) && can_send(t))
        return send_data(t, src, len, dst, cap);
    /* No usable key, or older packets still wait: keep order. */
    stage(t, src, len);
    if (can_send(t))
        return send_staged(t, dst, cap);
    return send_initiation(t, dst, cap, false, false);
}

/* ----------------------------------------------------------- receiving */

static void set_endpoint(struct wb_tunnel *t, const struct wb_endpoint *from)
{
    if (from && from->family)
        t->peer.endpoint = *from;
}

static void authenticated_rx(struct wb_tunnel *t, const struct wb_endpoint *from, size_t len, uint64_t now)
{
    struct peer *p = &t->peer;

    timers_any_authenticated_packet_received(&p->timers, now);
    timers_any_authenticated_packet_traversal(&p->timers, now);
    set_endpoint(t, from);
    p->rx_bytes += len;
    p->rx_packets++;
}

static void handshake_done(struct wb_tunnel *t, uint64_t now)
{
    struct peer *p = &t->peer;

    timers_handshake_complete(&p->timers, now);
    p->last_handshake_mono_ns = now;
    p->last_handshake_realtime_ns = realtime_ns(t);
    p->handshakes_completed++;
    tlog(t, WB_LOG_INFO, "handshake complete");
}

/* mac1 always; under load, mac2 or a cookie reply. Returns true to go on;
 * otherwise *r holds what to return. */
static bool check_macs(struct wb_tunnel *t, const struct wb_endpoint *from, const uint8_t *src,
                       size_t len, uint32_t sender, uint8_t *dst, size_t cap, uint64_t now,
                       struct wb_result *r)
{
    enum cookie_mac_state st = cookie_validate_packet(&t->cookie_checker, src, len, from,
                                                      t->under_load, now);

    if (st == COOKIE_INVALID_MAC) {
        *r = drop(t, WB_DROP_BAD_MAC1);
        return false;
    }
    if (t->under_load && st != COOKIE_VALID_MAC_WITH_COOKIE) {
        t->drops[WB_DROP_COOKIE_REQUIRED]++;
        if (cap < MESSAGE_COOKIE_LEN) {
            *r = drop(t, WB_DROP_DST_TOO_SMALL);
            return false;
        }
        cookie_message_create(&t->cookie_checker, (struct message_handshake_cookie *)dst, src, len,
                              sender, from, now);
        *r = result_network(MESSAGE_COOKIE_LEN);
        return false;
    }
    return true;
}

static struct wb_result consume_initiation(struct wb_tunnel *t, const struct wb_endpoint *from,
                                           const uint8_t *src, size_t len, uint8_t *dst, size_t cap)
{
    const struct message_handshake_initiation *msg = (const void *)src;
    struct noise_initiation_state st;
    struct peer *p = &t->peer;
    uint64_t now = now_ns(t);
    struct wb_result r;
    int ret;

    if (!check_macs(t, from, src, len, get_le32(src + 4), dst, cap, now, &r))
        return r;
    if (cap < MESSAGE_RESPONSE_LEN)
        return drop(t, WB_DROP_DST_TOO_SMALL);
    ret = noise_consume_initiation_static(&t->local, msg, &st);
    if (ret == 0)
        ret = noise_consume_initiation_finish(&p->handshake, msg, &st, now);
    noise_initiation_state_wipe(&st);
    if (ret == -EALREADY)
        return drop(t, WB_DROP_REPLAYED_TIMESTAMP);
    if (ret == -EAGAIN)
        return drop(t, WB_DROP_HANDSHAKE_FLOOD);
    if (ret < 0)
        return drop(t, WB_DROP_HANDSHAKE_FAILED);
    authenticated_rx(t, from, len, now);

    ret = noise_create_response(&p->handshake, (struct message_handshake_response *)dst,
                                new_local_index(t), NULL);
    if (ret == 0)
        ret = noise_begin_session(&p->handshake, &p->keypairs, now);
    if (ret < 0) {
        noise_handshake_clear(&p->handshake);
        return result_error(ret);
    }
    cookie_add_mac_to_packet(&p->cookie_maker, dst, MESSAGE_RESPONSE_LEN, now);
    timers_session_derived(&p->timers, now);
    timers_any_authenticated_packet_traversal(&p->timers, now);
    timers_any_authenticated_packet_sent(&p->timers, now);
    count_tx(t, MESSAGE_RESPONSE_LEN);
    tlog(t, WB_LOG_DEBUG, "handshake initiation received, sending response");
    return result_network(MESSAGE_RESPONSE_LEN);
}

static struct wb_result consume_response(struct wb_tunnel *t, const struct wb_endpoint *from,
                                         const uint8_t *src, size_t len, uint8_t *dst, size_t cap)
{
    const struct message_handshake_response *msg = (const void *)src;
    struct peer *p = &t->peer;
    uint64_t now = now_ns(t);
    struct wb_result r;
    int ret;

    if (!check_macs(t, from, src, len, get_le32(src + 4), dst, cap, now, &r))
        return r;
    if (p->handshake.state != HANDSHAKE_CREATED_INITIATION)
        return drop(t, WB_DROP_UNEXPECTED_RESPONSE);
    if (get_le32(src + 8) != p->handshake.local_index)
        return drop(t, WB_DROP_UNKNOWN_INDEX);
    ret = noise_consume_response(&p->handshake, msg);
    if (ret < 0)
        return drop(t, WB_DROP_HANDSHAKE_FAILED);
    ret = noise_begin_session(&p->handshake, &p->keypairs, now);
    if (ret < 0)
        return result_error(ret);
    authenticated_rx(t, from, len, now);
    timers_session_derived(&p->timers, now);
    handshake_done(t, now);
    p->rtt_ms = (int32_t)((now - p->initiation_sent_ns) / NSEC_PER_MSEC);
    /* Confirm the session to the responder: staged data, or a keepalive. */
    if (staged_empty(&p->staged))
        t->pending.keepalive = true;
    return drain(t, dst, cap);
}

static struct wb_result consume_cookie(struct wb_tunnel *t, const uint8_t *src, size_t len)
{
    const struct message_handshake_cookie *msg = (const void *)src;
    uint32_t idx = get_le32(src + 4);

    if (!index_in_use(t, idx))
        return drop(t, WB_DROP_UNKNOWN_INDEX);
    if (cookie_message_consume(&t->peer.cookie_maker, msg, now_ns(t)) < 0)
        return drop(t, WB_DROP_UNEXPECTED_RESPONSE);
    tlog(t, WB_LOG_DEBUG, "cookie reply received");
    return result_done;
}

/* Everything after a data message authenticated (op already opened). */
static struct wb_result finish_data(struct wb_tunnel *t, struct noise_keypair *kp,
                                    const struct aead_op *op, const struct wb_endpoint *from,
                                    size_t msg_len, size_t plain_len)
{
    struct peer *p = &t->peer;
    uint64_t now = now_ns(t);
    size_t inner_len = 0;
    int ret = packet_finish_consume(kp, op);
    int family;

    if (ret == -EBADMSG)
        return drop(t, WB_DROP_DECRYPT_FAILED);
    if (ret < 0)
        return drop(t, WB_DROP_REPLAY);
    if (noise_received_with_keypair(&p->keypairs, kp))
        handshake_done(t, now);
    if (timers_want_rekey_on_receive(&p->timers, p->keypairs.current, now))
        t->pending.initiation = true, t->pending.initiation_is_retry = false;
    authenticated_rx(t, from, msg_len, now);
    if (plain_len == 0)
        return result_done;                 /* keepalive */
    timers_data_received(&p->timers, now);
    family = packet_inner_check(op->dst, plain_len, &inner_len);
    if (!family)
        return drop(t, WB_DROP_BAD_INNER_PACKET);
    struct wb_result r = { family == 4 ? WB_WRITE_TO_TUNNEL_IPV4 : WB_WRITE_TO_TUNNEL_IPV6, 0, inner_len };
    return r;
}

/* Find the keypair and set up the open; NULL kp + *r on a drop. */
static struct noise_keypair *prepare_data(struct wb_tunnel *t, const uint8_t *src, size_t len,
                                          uint8_t *dst, size_t cap, struct aead_op *op,
                                          long *plain, struct wb_result *r)
{
    struct noise_keypair *kp = noise_keypairs_lookup(&t->peer.keypairs, packet_receiver_index(src));

    if (!kp) {
        *r = drop(t, WB_DROP_UNKNOWN_INDEX);
        return NULL;
    }
    if (!noise_keypair_can_receive(kp, now_ns(t))) {
        *r = drop(t, WB_DROP_KEY_EXPIRED);
        return NULL;
    }
    *plain = packet_prepare_consume(kp, src, len, dst, cap, op);
    if (*plain < 0) {
        *r = drop(t, *plain == -EMSGSIZE ? WB_DROP_DST_TOO_SMALL : WB_DROP_MALFORMED);
        return NULL;
    }
    return kp;
}

static struct wb_result consume_data(struct wb_tunnel *t, const struct wb_endpoint *from,
                                     const uint8_t *src, size_t len, uint8_t *dst, size_t cap)
{
    struct aead_op op;
    struct wb_result r;
    long plain;
    struct noise_keypair *kp = prepare_data(t, src, len, dst, cap, &op, &plain, &r);

    if (!kp)
        return r;
    op.result = aead_open(op.dst, op.src, op.len, NULL, 0, op.counter, op.key);
    return finish_data(t, kp, &op, from, len, (size_t)plain);
}

/* Message type and exact length, before anything else looks at it. */
static enum message_type classify(const uint8_t *src, size_t len)
{
    if (len < 4 || src[1] || src[2] || src[3])
        return MESSAGE_INVALID;
    switch (src[0]) {
    case MESSAGE_HANDSHAKE_INITIATION:
        return len == MESSAGE_INITIATION_LEN ? MESSAGE_HANDSHAKE_INITIATION : MESSAGE_INVALID;
    case MESSAGE_HANDSHAKE_RESPONSE:
        return len == MESSAGE_RESPONSE_LEN ? MESSAGE_HANDSHAKE_RESPONSE : MESSAGE_INVALID;
    case MESSAGE_HANDSHAKE_COOKIE:
        return len == MESSAGE_COOKIE_LEN ? MESSAGE_HANDSHAKE_COOKIE : MESSAGE_INVALID;
    case MESSAGE_DATA:
        return len >= MESSAGE_MINIMUM_LENGTH ? MESSAGE_DATA : MESSAGE_INVALID;
    default:
        return MESSAGE_INVALID;
    }
}

static struct wb_result decapsulate_locked(struct wb_tunnel *t, const struct wb_endpoint *from,
                                           const uint8_t *src, size_t len, uint8_t *dst, size_t cap)
{
    if (len == 0)
        return drain(t, dst, cap);
    if (len > MESSAGE_MAX_LEN)
        return drop(t, WB_DROP_MALFORMED);
    switch (classify(src, len)) {
    case MESSAGE_HANDSHAKE_INITIATION:
        return consume_initiation(t, from, src, len, dst, cap);
    case MESSAGE_HANDSHAKE_RESPONSE:
        return consume_response(t, from, src, len, dst, cap);
    case MESSAGE_HANDSHAKE_COOKIE:
        return consume_cookie(t, src, len);
    case MESSAGE_DATA:
        return consume_data(t, from, src, len, dst, cap);
    default:
        return drop(t, WB_DROP_MALFORMED);
    }
}

/* ------------------------------------------------------------- timers */

static void apply_timer_actions(struct wb_tunnel *t, unsigned actions)
{
    struct peer *p = &t->peer;
    unsigned n;

    if (actions & TIMER_ZERO_KEYS) {
        noise_keypairs_clear(&p->keypairs);
        noise_handshake_clear(&p->handshake);
        tlog(t, WB_LOG_DEBUG, "zeroed key material");
    }
    if (actions & TIMER_PURGE_STAGED) {
        n = staged_purge(&p->staged);
        t->drops[WB_DROP_STAGED_PURGED] += n;
        t->pending.initiation = false;
        tlog(t, WB_LOG_INFO, "handshake did not complete after %u attempts, giving up",
             (unsigned)MAX_TIMER_HANDSHAKES + 2);
    }
    if (actions & (TIMER_SEND_INITIATION | TIMER_RETRY_INITIATION)) {
        t->pending.initiation = true;
        t->pending.initiation_is_retry = !(actions & TIMER_SEND_INITIATION);
    }
    if (actions & TIMER_SEND_KEEPALIVE)
        t->pending.keepalive = true;
}

/* ------------------------------------------------------------ public API */

static int tunnel_init(struct wb_tunnel *t, const struct wb_tunnel_config *cfg)
{
    const uint8_t *psk = cfg->has_preshared_key ? cfg->preshared_key : NULL;
    int ret = noise_local_identity_set(&t->local, cfg->private_key);

    if (ret < 0)
        return ret;
    ret = noise_handshake_init(&t->peer.handshake, &t->local, cfg->peer_public_key, psk);
    if (ret < 0)
        return ret;
    cookie_checker_init(&t->cookie_checker, t->local.public_key);
    cookie_maker_init(&t->peer.cookie_maker, cfg->peer_public_key);
    timers_init(&t->peer.timers, cfg->persistent_keepalive);
    staged_init(&t->peer.staged);
    t->peer.rtt_ms = -1;
    t->mtu = cfg->mtu ? cfg->mtu : DEFAULT_MTU;
    t->has_index_prefix = cfg->has_index_prefix;
    t->index_prefix = cfg->index_prefix & 0xffffff;
    if (cfg->clock) {
        t->clock = *cfg->clock;
        t->has_clock = true;
    }
    t->log = cfg->log;
    t->log_ctx = cfg->log_ctx;
    t->log_level = cfg->log_level;
    /* A persistent keepalive exists to open the path at once. */
    t->pending.keepalive = cfg->persistent_keepalive != 0;
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
    t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    ret = tunnel_init(t, cfg);
    if (ret < 0) {
        noise_local_identity_wipe(&t->local);
        noise_handshake_wipe(&t->peer.handshake);
        cookie_checker_wipe(&t->cookie_checker);
        cookie_maker_wipe(&t->peer.cookie_maker);
        free(t);
        return ret;
    }
    wb_mutex_init(&t->lock);
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
    noise_local_identity_wipe(&t->local);
    cookie_checker_wipe(&t->cookie_checker);
    cookie_maker_wipe(&t->peer.cookie_maker);
    wb_mutex_destroy(&t->lock);
    wb_memzero(t, sizeof(*t));
    free(t);
}

struct wb_result wb_tunnel_encapsulate(struct wb_tunnel *t, const uint8_t *src, size_t len,
                                       uint8_t *dst, size_t dst_cap)
{
    struct wb_result r;

    if (!t || !dst || (len && !src))
        return result_error(-EINVAL);
    if (len > MESSAGE_MAX_LEN - MESSAGE_MINIMUM_LENGTH)
        return result_error(-EMSGSIZE);
    wb_mutex_lock(&t->lock);
    r = encapsulate_locked(t, src, len, dst, dst_cap);
    wb_mutex_unlock(&t->lock);
    return r;
}

struct wb_result wb_tunnel_decapsulate(struct wb_tunnel *t, const struct wb_endpoint *from,
                                       const uint8_t *src, size_t len, uint8_t *dst, size_t dst_cap)
{
    struct wb_result r;

    if (!t || !dst || (len && !src))
        return result_error(-EINVAL);
    wb_mutex_lock(&t->lock);
    r = decapsulate_locked(t, from, src, len, dst, dst_cap);
    wb_mutex_unlock(&t->lock);
    return r;
}

struct wb_result wb_tunnel_tick(struct wb_tunnel *t, uint8_t *dst, size_t dst_cap)
{
    struct wb_result r;

    if (!t || !dst)
        return result_error(-EINVAL);
    wb_mutex_lock(&t->lock);
    apply_timer_actions(t, timers_expire(&t->peer.timers, now_ns(t)));
    r = drain(t, dst, dst_cap);
    wb_mutex_unlock(&t->lock);
    return r;
}

struct wb_result wb_tunnel_force_handshake(struct wb_tunnel *t, uint8_t *dst, size_t dst_cap)
{
    struct wb_result r;

    if (!t || !dst)
        return result_error(-EINVAL);
    wb_mutex_lock(&t->lock);
    r = send_initiation(t, dst, dst_cap, false, true);
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
    now = now_ns(t);
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
    t->under_load = under_load;
    wb_mutex_unlock(&t->lock);
}

/* ---------------------------------------------------------------- batches */

size_t wb_tunnel_encapsulate_batch(struct wb_tunnel *t, struct wb_packet *pkts, size_t n)
{
    enum { BATCH = 64 };
    struct aead_op ops[BATCH];
    size_t idx[BATCH];
    uint64_t now;

    if (!t || !pkts)
        return 0;
    wb_mutex_lock(&t->lock);
    for (size_t base = 0; base < n; base += BATCH) {
        size_t end = base + BATCH < n ? base + BATCH : n, n_ops = 0;

        /* Prepare: headers and nonces, serially; slow cases go singly. */
        for (size_t i = base; i < end; i++) {
            struct wb_packet *pk = &pkts[i];
            long len = -1;

            if (pk->len > MESSAGE_MAX_LEN - MESSAGE_MINIMUM_LENGTH) {
                pk->result = result_error(-EMSGSIZE);
                continue;
            }
            if (pk->len && pk->src && pk->dst && staged_empty(&t->peer.staged) && can_send(t))
                len = packet_prepare_create(t->peer.keypairs.current, pk->src, pk->len, t->mtu,
                                            pk->dst, pk->dst_cap, &ops[n_ops]);
            if (len < 0) {
                pk->result = (!pk->dst || (pk->len && !pk->src))
                                 ? result_error(-EINVAL)
                                 : encapsulate_locked(t, pk->src, pk->len, pk->dst, pk->dst_cap);
                continue;
            }
            pk->result = result_network((size_t)len);
            idx[n_ops++] = i;
        }
        aead_seal_batch(ops, n_ops);
        /* Finish: timers and counters, in order. */
        now = now_ns(t);
        for (size_t k = 0; k < n_ops; k++) {
            timers_any_authenticated_packet_traversal(&t->peer.timers, now);
            timers_any_authenticated_packet_sent(&t->peer.timers, now);
            timers_data_sent(&t->peer.timers, now);
            count_tx(t, pkts[idx[k]].result.size);
        }
        if (n_ops && timers_want_rekey_on_send(&t->peer.timers, t->peer.keypairs.current, now))
            t->pending.initiation = true, t->pending.initiation_is_retry = false;
    }
    wb_mutex_unlock(&t->lock);
    return n;
}

struct data_batch {
    struct aead_op ops[64];
    struct noise_keypair *kps[64];
    long plain[64];
    struct wb_packet *pkts[64];
    size_t n;
};

/* Open everything prepared, then finish in arrival order. Must run before
 * any handshake message is processed: that may free the keypairs the
 * prepared ops point into. */
static void flush_data_batch(struct wb_tunnel *t, struct data_batch *b)
{
    aead_open_batch(b->ops, b->n);
    for (size_t k = 0; k < b->n; k++) {
        struct wb_packet *pk = b->pkts[k];
        pk->result = finish_data(t, b->kps[k], &b->ops[k], pk->from, pk->len, (size_t)b->plain[k]);
    }
    b->n = 0;
}

size_t wb_tunnel_decapsulate_batch(struct wb_tunnel *t, struct wb_packet *pkts, size_t n)
{
    struct data_batch b;

    if (!t || !pkts)
        return 0;
    b.n = 0;
    wb_mutex_lock(&t->lock);
    for (size_t i = 0; i < n; i++) {
        struct wb_packet *pk = &pkts[i];

        if (!pk->dst || (pk->len && !pk->src)) {
            pk->result = result_error(-EINVAL);
            continue;
        }
        if (pk->len == 0 || pk->len > MESSAGE_MAX_LEN || classify(pk->src, pk->len) != MESSAGE_DATA) {
            flush_data_batch(t, &b);
            pk->result = decapsulate_locked(t, pk->from, pk->src, pk->len, pk->dst, pk->dst_cap);
            continue;
        }
        b.kps[b.n] = prepare_data(t, pk->src, pk->len, pk->dst, pk->dst_cap, &b.ops[b.n],
                                  &b.plain[b.n], &pk->result);
        if (b.kps[b.n])
            b.pkts[b.n++] = pk;
        if (b.n == sizeof(b.ops) / sizeof(b.ops[0]))
            flush_data_batch(t, &b);
    }
    flush_data_batch(t, &b);
    wb_mutex_unlock(&t->lock);
    return n;
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
