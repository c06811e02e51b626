/* SPDX-License-Identifier: MIT */
/*
 * send.c - what the tunnel sends: initiations, data and keepalives, the
 * staged queue, and the encapsulate paths (single and batch). Runs with
 * t->lock held (tunnel.h).
 */
#include <errno.h>
#include <string.h>

#include "crypto/aead.h"
#include "proto/packet.h"
#include "proto/tunnel.h"


void tunnel_count_tx(struct wb_tunnel *t, size_t len)
{
    t->peer.tx_bytes += len;
    t->peer.tx_packets++;
}

/* An initiation into dst, if the rate limit allows (or force). */
struct wb_result tunnel_send_initiation(struct wb_tunnel *t, uint8_t *dst, size_t cap,
                                        bool is_retry, bool force)
{
    struct peer *p = &t->peer;
    uint64_t now;
    int ret;

    if (t->defer_initiations) {
        /* Someone else makes it (tunnel.h); a fresh request wins over a
         * retry, as it resets the attempt count. */
        t->pending.initiation_is_retry = is_retry && (!t->pending.initiation ||
                                                      t->pending.initiation_is_retry);
        t->pending.initiation = true;
        return tunnel_result_done();
    }
    now = tunnel_now(t);
    if (cap < MESSAGE_INITIATION_LEN)
        return tunnel_drop(t, WB_DROP_DST_TOO_SMALL);
    if (!timers_initiation_allowed(&p->timers, now, is_retry, force))
        return tunnel_result_done();
    ret = noise_create_initiation(&p->handshake, (struct message_handshake_initiation *)dst,
                                  tunnel_new_local_index(t), tunnel_realtime(t), NULL);
    if (ret < 0) {
        tunnel_log(t, WB_LOG_WARN, "cannot create handshake initiation: %s", strerror(-ret));
        return tunnel_result_error(ret);
    }
    cookie_add_mac_to_packet(&p->cookie_maker, dst, MESSAGE_INITIATION_LEN, now);
    timers_any_authenticated_packet_traversal(&p->timers, now);
    timers_any_authenticated_packet_sent(&p->timers, now);
    timers_handshake_initiated(&p->timers, now);
    p->initiation_sent_ns = now;
    tunnel_count_tx(t, MESSAGE_INITIATION_LEN);
    tunnel_log(t, WB_LOG_DEBUG, "sending handshake initiation%s", is_retry ? " (retry)" : "");
    return tunnel_result_network(MESSAGE_INITIATION_LEN);
}

/* Seal src (len may be 0: a keepalive) under the current keypair. */
static struct wb_result send_data(struct wb_tunnel *t, const uint8_t *src, size_t len,
                                  uint8_t *dst, size_t cap, uint64_t now)
{
    struct peer *p = &t->peer;
    struct noise_keypair *kp = p->keypairs.current;
    struct aead_op op;
    long n = packet_prepare_create(kp, src, len, t->mtu, dst, cap, &op);

    if (n < 0)
        return n == -EMSGSIZE ? tunnel_drop(t, WB_DROP_DST_TOO_SMALL) : tunnel_drop(t, WB_DROP_KEY_EXPIRED);
    aead_seal(op.dst, op.src, op.len, NULL, 0, op.counter, op.key);
    timers_any_authenticated_packet_traversal(&p->timers, now);
    timers_any_authenticated_packet_sent(&p->timers, now);
    if (len)
        timers_data_sent(&p->timers, now);
    tunnel_count_tx(t, (size_t)n);
    if (timers_want_rekey_on_send(&p->timers, kp, now))
        t->pending.initiation = true, t->pending.initiation_is_retry = false;
    return tunnel_result_network((size_t)n);
}

/* The clock is read once per call by the callers and passed down: on the
 * data path a read per packet is all that is needed. */
static bool can_send(struct wb_tunnel *t, uint64_t now)
{
    return noise_keypair_can_send(t->peer.keypairs.current, now);
}

/* The oldest staged packet, sealed, if a key exists. */
static struct wb_result send_staged(struct wb_tunnel *t, uint8_t *dst, size_t cap, uint64_t now)
{
    const struct staged_packet *sp = staged_peek(&t->peer.staged);
    struct wb_result r;

    if (!sp || !can_send(t, now))
        return tunnel_result_done();
    r = send_data(t, sp->data, sp->len, dst, cap, now);
    if (r.op == WB_WRITE_TO_NETWORK)
        staged_pop(&t->peer.staged);   /* else it stays, in order, for the next try */
    return r;
}

struct noise_keypair *tunnel_data_keypair_locked(struct wb_tunnel *t, uint64_t now)
{
    return staged_empty(&t->peer.staged) && can_send(t, now) ? t->peer.keypairs.current : NULL;
}

void tunnel_data_sent_locked(struct wb_tunnel *t, size_t n, size_t bytes, uint64_t now)
{
    struct peer *p = &t->peer;

    p->tx_bytes += bytes;
    p->tx_packets += n;
    /* The timer hooks are idempotent for one `now`: once per run is the
     * same as once per packet. */
    timers_any_authenticated_packet_traversal(&p->timers, now);
    timers_any_authenticated_packet_sent(&p->timers, now);
    timers_data_sent(&p->timers, now);
    if (timers_want_rekey_on_send(&p->timers, p->keypairs.current, now))
        t->pending.initiation = true, t->pending.initiation_is_retry = false;
}

/* What is owed to the network, one datagram at a time. */
struct wb_result tunnel_drain(struct wb_tunnel *t, uint8_t *dst, size_t cap)
{
    uint64_t now = tunnel_now(t);
    struct wb_result r;

    if (t->pending.initiation && !t->defer_initiations) {
        t->pending.initiation = false;
        r = tunnel_send_initiation(t, dst, cap, t->pending.initiation_is_retry, false);
        if (r.op != WB_DONE)
            return r;
    }
    if (!staged_empty(&t->peer.staged)) {
        if (can_send(t, now))
            return send_staged(t, dst, cap, now);
        /* A handshake already in flight is the retransmit timer's business:
         * a fresh initiation here would reset its attempt count and it
         * would never give up. */
        if (timers_handshake_in_flight(&t->peer.timers))
            return tunnel_result_done();
        return tunnel_send_initiation(t, dst, cap, false, false);
    }
    if (t->pending.keepalive) {
        t->pending.keepalive = false;
        if (can_send(t, now))
            return send_data(t, NULL, 0, dst, cap, now);
        return tunnel_send_initiation(t, dst, cap, false, false);
    }
    return tunnel_result_done();
}

static void stage(struct wb_tunnel *t, const uint8_t *src, size_t len)
{
    int ret = staged_push(&t->peer.staged, src, len);

    if (ret == 1)
        t->drops[WB_DROP_STAGED_OVERFLOW]++;     /* the oldest made room */
    else if (ret < 0)
        t->drops[WB_DROP_NO_MEMORY]++;
}

struct wb_result tunnel_encapsulate_locked(struct wb_tunnel *t, const uint8_t *src, size_t len,
                                           uint8_t *dst, size_t cap)
{
    uint64_t now = tunnel_now(t);
    bool key = can_send(t, now);

    if (len == 0) {
        if (key)
            return send_data(t, NULL, 0, dst, cap, now);
        return tunnel_send_initiation(t, dst, cap, false, false);
    }
    if (staged_empty(&t->peer.staged) && key)
        return send_data(t, src, len, dst, cap, now);
    /* No usable key, or older packets still wait: keep order. */
    stage(t, src, len);
    if (key)
        return send_staged(t, dst, cap, now);
    return tunnel_send_initiation(t, dst, cap, false, false);
}

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
        size_t end = base + BATCH < n ? base + BATCH : n, n_ops = 0, bytes = 0;

        now = tunnel_now(t);
        /* Prepare: headers and nonces, serially; slow cases go singly. */
        for (size_t i = base; i < end; i++) {
            struct wb_packet *pk = &pkts[i];
            long len = -1;

            if (pk->len > MESSAGE_MAX_LEN - MESSAGE_MINIMUM_LENGTH) {
                pk->result = tunnel_result_error(-EMSGSIZE);
                continue;
            }
            if (pk->len && pk->src && pk->dst && tunnel_data_keypair_locked(t, now))
                len = packet_prepare_create(t->peer.keypairs.current, pk->src, pk->len, t->mtu,
                                            pk->dst, pk->dst_cap, &ops[n_ops]);
            if (len < 0) {
                pk->result = (!pk->dst || (pk->len && !pk->src))
                                 ? tunnel_result_error(-EINVAL)
                                 : tunnel_encapsulate_locked(t, pk->src, pk->len, pk->dst, pk->dst_cap);
                continue;
            }
            pk->result = tunnel_result_network((size_t)len);
            idx[n_ops++] = i;
        }
        aead_seal_batch(ops, n_ops);
        if (!n_ops)
            continue;
        for (size_t k = 0; k < n_ops; k++)
            bytes += pkts[idx[k]].result.size;
        tunnel_data_sent_locked(t, n_ops, bytes, now);
    }
    wb_mutex_unlock(&t->lock);
    return n;
}
