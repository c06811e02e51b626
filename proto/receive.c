/* SPDX-License-Identifier: MIT */
/*
 * receive.c - what the tunnel receives: classification by type and length,
 * the three handshake messages and data (single and batch), in the order
 * the whitepaper requires (macs, then handshake crypto; data authenticated
 * before the replay window moves). Runs with t->lock held (tunnel.h).
 */
#include <errno.h>
#include <string.h>

#include "crypto/aead.h"
#include "proto/byteorder.h"
#include "proto/packet.h"
#include "proto/tunnel.h"


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
    /* Coarse: `wg show` compares it with time(), which lags CLOCK_REALTIME
     * by up to a tick; a fine reading taken just after a second boundary
     * would show as "System clock wound backward". */
    p->last_handshake_realtime_ns = tunnel_realtime_coarse(t);
    p->handshakes_completed++;
    tunnel_log(t, WB_LOG_INFO, "handshake complete");
}

enum tunnel_macs tunnel_shared_check_macs(struct tunnel_shared *sh, const struct wb_endpoint *from,
                                          const uint8_t *src, size_t len, uint8_t *dst, size_t cap,
                                          size_t *reply_len)
{
    uint64_t now = tunnel_shared_now(sh);
    enum tunnel_macs verdict = TUNNEL_MACS_OK;
    enum cookie_mac_state st;

    wb_mutex_lock(&sh->cookie_lock);
    st = cookie_validate_packet(&sh->cookie_checker, src, len, from, sh->under_load, now);
    if (st == COOKIE_INVALID_MAC) {
        verdict = TUNNEL_MACS_BAD_MAC1;
    } else if (sh->under_load && st != COOKIE_VALID_MAC_WITH_COOKIE) {
        if (cap < MESSAGE_COOKIE_LEN) {
            verdict = TUNNEL_MACS_DST_TOO_SMALL;
        } else {
            /* Both initiation and response carry the sender index at 4. */
            cookie_message_create(&sh->cookie_checker, (struct message_handshake_cookie *)dst, src,
                                  len, load_le32(src + 4), from, now);
            *reply_len = MESSAGE_COOKIE_LEN;
            verdict = TUNNEL_MACS_COOKIE_SENT;
        }
    }
    wb_mutex_unlock(&sh->cookie_lock);
    return verdict;
}

/* mac1 always; under load, mac2 or a cookie reply. Returns true to go on;
 * otherwise *r holds what to return. */
static bool check_macs(struct wb_tunnel *t, const struct wb_endpoint *from, const uint8_t *src,
                       size_t len, uint8_t *dst, size_t cap, struct wb_result *r)
{
    size_t reply_len = 0;

    switch (tunnel_shared_check_macs(t->shared, from, src, len, dst, cap, &reply_len)) {
    case TUNNEL_MACS_OK:
        return true;
    case TUNNEL_MACS_BAD_MAC1:
        *r = tunnel_drop(t, WB_DROP_BAD_MAC1);
        return false;
    case TUNNEL_MACS_DST_TOO_SMALL:
        t->drops[WB_DROP_COOKIE_REQUIRED]++;
        *r = tunnel_drop(t, WB_DROP_DST_TOO_SMALL);
        return false;
    case TUNNEL_MACS_COOKIE_SENT:
        t->drops[WB_DROP_COOKIE_REQUIRED]++;
        *r = tunnel_result_network(reply_len);
        return false;
    }
    return false;
}

struct wb_result tunnel_answer_initiation_locked(struct wb_tunnel *t, const struct wb_endpoint *from,
                                                 const uint8_t *src, size_t len,
                                                 struct noise_initiation_state *st,
                                                 uint8_t *dst, size_t cap)
{
    const struct message_handshake_initiation *msg = (const void *)src;
    struct peer *p = &t->peer;
    uint64_t now = tunnel_now(t);
    int ret;

    if (cap < MESSAGE_RESPONSE_LEN)
        return tunnel_drop(t, WB_DROP_DST_TOO_SMALL);
    ret = noise_consume_initiation_finish(&p->handshake, msg, st, now);
    if (ret == -EALREADY)
        return tunnel_drop(t, WB_DROP_REPLAYED_TIMESTAMP);
    if (ret == -EAGAIN)
        return tunnel_drop(t, WB_DROP_HANDSHAKE_FLOOD);
    if (ret < 0)
        return tunnel_drop(t, WB_DROP_HANDSHAKE_FAILED);
    authenticated_rx(t, from, len, now);

    ret = noise_create_response(&p->handshake, (struct message_handshake_response *)dst,
                                tunnel_new_local_index(t), NULL);
    if (ret == 0)
        ret = noise_begin_session(&p->handshake, &p->keypairs, now);
    if (ret < 0) {
        noise_handshake_clear(&p->handshake);
        return tunnel_result_error(ret);
    }
    cookie_add_mac_to_packet(&p->cookie_maker, dst, MESSAGE_RESPONSE_LEN, now);
    timers_session_derived(&p->timers, now);
    timers_any_authenticated_packet_traversal(&p->timers, now);
    timers_any_authenticated_packet_sent(&p->timers, now);
    tunnel_count_tx(t, MESSAGE_RESPONSE_LEN);
    tunnel_log(t, WB_LOG_DEBUG, "handshake initiation received, sending response");
    return tunnel_result_network(MESSAGE_RESPONSE_LEN);
}

static struct wb_result consume_initiation(struct wb_tunnel *t, const struct wb_endpoint *from,
                                           const uint8_t *src, size_t len, uint8_t *dst, size_t cap)
{
    struct noise_initiation_state st;
    struct wb_result r;
    int ret;

    if (!check_macs(t, from, src, len, dst, cap, &r))
        return r;
    ret = noise_consume_initiation_static(&t->shared->local, (const void *)src, &st);
    if (ret < 0)
        r = tunnel_drop(t, WB_DROP_HANDSHAKE_FAILED);
    else
        r = tunnel_answer_initiation_locked(t, from, src, len, &st, dst, cap);
    noise_initiation_state_wipe(&st);
    return r;
}

static struct wb_result consume_response(struct wb_tunnel *t, const struct wb_endpoint *from,
                                         const uint8_t *src, size_t len, uint8_t *dst, size_t cap)
{
    const struct message_handshake_response *msg = (const void *)src;
    struct peer *p = &t->peer;
    uint64_t now = tunnel_now(t);
    struct wb_result r;
    int ret;

    if (!check_macs(t, from, src, len, dst, cap, &r))
        return r;
    if (p->handshake.state != HANDSHAKE_CREATED_INITIATION)
        return tunnel_drop(t, WB_DROP_UNEXPECTED_RESPONSE);
    if (load_le32(src + 8) != p->handshake.local_index)
        return tunnel_drop(t, WB_DROP_UNKNOWN_INDEX);
    ret = noise_consume_response(&p->handshake, msg);
    if (ret < 0)
        return tunnel_drop(t, WB_DROP_HANDSHAKE_FAILED);
    ret = noise_begin_session(&p->handshake, &p->keypairs, now);
    if (ret < 0)
        return tunnel_result_error(ret);
    authenticated_rx(t, from, len, now);
    timers_session_derived(&p->timers, now);
    handshake_done(t, now);
    p->rtt_ms = (int32_t)((now - p->initiation_sent_ns) / NSEC_PER_MSEC);
    /* Confirm the session to the responder: staged data, or a keepalive. */
    if (staged_empty(&p->staged))
        t->pending.keepalive = true;
    return tunnel_drain(t, dst, cap);
}

static struct wb_result consume_cookie(struct wb_tunnel *t, const uint8_t *src, size_t len)
{
    const struct message_handshake_cookie *msg = (const void *)src;
    uint32_t idx = load_le32(src + 4);

    if (!tunnel_index_in_use(t, idx))
        return tunnel_drop(t, WB_DROP_UNKNOWN_INDEX);
    if (cookie_message_consume(&t->peer.cookie_maker, msg, tunnel_now(t)) < 0)
        return tunnel_drop(t, WB_DROP_UNEXPECTED_RESPONSE);
    tunnel_log(t, WB_LOG_DEBUG, "cookie reply received");
    return tunnel_result_done();
}

/* Everything after a data message authenticated (op already opened). */
struct wb_result tunnel_finish_data_locked(struct wb_tunnel *t, struct noise_keypair *kp,
                                    const struct aead_op *op, const struct wb_endpoint *from,
                                    size_t msg_len, size_t plain_len, uint64_t now)
{
    struct peer *p = &t->peer;
    size_t inner_len = 0;
    int ret = packet_finish_consume(kp, op);
    int family;

    if (ret == -EBADMSG)
        return tunnel_drop(t, WB_DROP_DECRYPT_FAILED);
    if (ret < 0)
        return tunnel_drop(t, WB_DROP_REPLAY);
    if (noise_received_with_keypair(&p->keypairs, kp))
        handshake_done(t, now);
    if (timers_want_rekey_on_receive(&p->timers, p->keypairs.current, now))
        t->pending.initiation = true, t->pending.initiation_is_retry = false;
    authenticated_rx(t, from, msg_len, now);
    if (plain_len == 0)
        return tunnel_result_done();                 /* keepalive */
    timers_data_received(&p->timers, now);
    family = packet_inner_check(op->dst, plain_len, &inner_len);
    if (!family)
        return tunnel_drop(t, WB_DROP_BAD_INNER_PACKET);
    struct wb_result r = { family == 4 ? WB_WRITE_TO_TUNNEL_IPV4 : WB_WRITE_TO_TUNNEL_IPV6, 0, inner_len };
    return r;
}

/* Find the keypair and set up the open; NULL kp + *r on a drop. */
struct noise_keypair *tunnel_prepare_data_locked(struct wb_tunnel *t, const uint8_t *src, size_t len,
                                          uint8_t *dst, size_t cap, struct aead_op *op,
                                          long *plain, struct wb_result *r, uint64_t now)
{
    struct noise_keypair *kp = noise_keypairs_lookup(&t->peer.keypairs, packet_receiver_index(src));

    if (!kp) {
        *r = tunnel_drop(t, WB_DROP_UNKNOWN_INDEX);
        return NULL;
    }
    if (!noise_keypair_can_receive(kp, now)) {
        *r = tunnel_drop(t, WB_DROP_KEY_EXPIRED);
        return NULL;
    }
    *plain = packet_prepare_consume(kp, src, len, dst, cap, op);
    if (*plain < 0) {
        *r = tunnel_drop(t, *plain == -EMSGSIZE ? WB_DROP_DST_TOO_SMALL : WB_DROP_MALFORMED);
        return NULL;
    }
    return kp;
}

static struct wb_result consume_data(struct wb_tunnel *t, const struct wb_endpoint *from,
                                     const uint8_t *src, size_t len, uint8_t *dst, size_t cap)
{
    uint64_t now = tunnel_now(t);
    struct aead_op op;
    struct wb_result r;
    long plain;
    struct noise_keypair *kp = tunnel_prepare_data_locked(t, src, len, dst, cap, &op, &plain, &r, now);

    if (!kp)
        return r;
    op.result = aead_open(op.dst, op.src, op.len, NULL, 0, op.counter, op.key);
    return tunnel_finish_data_locked(t, kp, &op, from, len, (size_t)plain, now);
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

struct wb_result tunnel_decapsulate_locked(struct wb_tunnel *t, const struct wb_endpoint *from,
                                           const uint8_t *src, size_t len, uint8_t *dst, size_t cap)
{
    if (len == 0)
        return tunnel_drain(t, dst, cap);
    if (len > MESSAGE_MAX_LEN)
        return tunnel_drop(t, WB_DROP_MALFORMED);
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
        return tunnel_drop(t, WB_DROP_MALFORMED);
    }
}
struct data_batch {
    struct aead_op ops[64];
    struct noise_keypair *kps[64];
    long plain[64];
    struct wb_packet *pkts[64];
    size_t n;
    uint64_t now;       /* read when the batch's first packet is prepared */
};

/* Open everything prepared, then finish in arrival order. Must run before
 * any handshake message is processed: that may free the keypairs the
 * prepared ops point into. */
static void flush_data_batch(struct wb_tunnel *t, struct data_batch *b)
{
    aead_open_batch(b->ops, b->n);
    for (size_t k = 0; k < b->n; k++) {
        struct wb_packet *pk = b->pkts[k];
        pk->result = tunnel_finish_data_locked(t, b->kps[k], &b->ops[k], pk->from, pk->len,
                                               (size_t)b->plain[k], b->now);
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
            pk->result = tunnel_result_error(-EINVAL);
            continue;
        }
        if (pk->len == 0 || pk->len > MESSAGE_MAX_LEN || classify(pk->src, pk->len) != MESSAGE_DATA) {
            flush_data_batch(t, &b);
            pk->result = tunnel_decapsulate_locked(t, pk->from, pk->src, pk->len, pk->dst, pk->dst_cap);
            continue;
        }
        if (b.n == 0)
            b.now = tunnel_now(t);
        b.kps[b.n] = tunnel_prepare_data_locked(t, pk->src, pk->len, pk->dst, pk->dst_cap, &b.ops[b.n],
                                                &b.plain[b.n], &pk->result, b.now);
        if (b.kps[b.n])
            b.pkts[b.n++] = pk;
        if (b.n == sizeof(b.ops) / sizeof(b.ops[0]))
            flush_data_batch(t, &b);
    }
    flush_data_batch(t, &b);
    wb_mutex_unlock(&t->lock);
    return n;
}
