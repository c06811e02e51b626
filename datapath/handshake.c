/* SPDX-License-Identifier: MIT */
/*
 * handshake.c - the handshake thread: every handshake message the data
 * workers receive comes here through a ring (hs_in), so X25519 work never
 * holds up data and a flood of initiations cannot starve it: when the
 * ring is 1/8 full the device is under load for a second (cookies,
 * per-source rate limits), and when it is full further messages are
 * counted and dropped by the workers. The thread also runs every peer's
 * timers each 100 ms (retransmits, keepalives, rekeys). What it sends goes
 * through another ring (hs_out) to whichever worker is free.
 *
 * Concurrency: one thread; a registered QSBR reader, online while it
 * works, offline while it sleeps. Peers are touched under their lock,
 * and a peer marked dead is left alone. It sleeps on hs->cond until a
 * worker kicks it, the next tick, or a pause/stop.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "datapath/device_impl.h"
#include "proto/byteorder.h"

/* Responses and cookie replies: the receiver index names the peer. Any
 * datapath thread (workers take cookie replies themselves). */
void handshake_consume_indexed(struct batch *b, struct pkt *in)
{
    struct device *dev = b->dev;
    /* The receiver index: at 8 in a response (after its sender index), at 4
     * in cookie replies. */
    size_t at = in->data[0] == MESSAGE_HANDSHAKE_RESPONSE ? 8 : 4;
    struct device_peer *p = peer_table_lookup_index(&dev->peers, load_le32(in->data + at));
    struct pkt *out;
    struct wb_result r;
    uint64_t rx_before;

    if (!p) {
        STAT_INC(b->st, unknown_index);
        return;
    }
    out = batch_udp_slot(b);
    if (!out)
        return;
    wb_mutex_lock(&p->tun->lock);
    if (p->dead) {
        wb_mutex_unlock(&p->tun->lock);
        batch_put_buf(b, out);
        return;
    }
    rx_before = p->tun->peer.rx_packets;
    r = tunnel_decapsulate_locked(p->tun, &in->remote, in->data, in->len, out->data, pkt_room(out));
    batch_learn_source(p, in, rx_before);
    batch_network_result(b, p, out, r);
    wb_mutex_unlock(&p->tun->lock);
}

static void answer_initiation(struct batch *b, struct pkt *in)
{
    struct device *dev = b->dev;
    struct noise_initiation_state st;
    struct device_peer *p = NULL;
    struct pkt *out = batch_udp_slot(b);

    if (!out)
        return;
    if (noise_consume_initiation_static(&dev->shared.local, (const void *)in->data, &st) == 0)
        p = peer_table_lookup_key(&dev->peers, st.remote_static);
    if (!p) {
        STAT_INC(b->st, unknown_peer);
        batch_put_buf(b, out);
        noise_initiation_state_wipe(&st);
        return;
    }
    wb_mutex_lock(&p->tun->lock);
    if (!p->dead) {
        uint64_t rx_before = p->tun->peer.rx_packets;
        struct wb_result r = tunnel_answer_initiation_locked(p->tun, &in->remote, in->data, in->len,
                                                             &st, out->data, pkt_room(out));

        batch_learn_source(p, in, rx_before);
        batch_network_result(b, p, out, r);
    } else {
        batch_put_buf(b, out);
    }
    wb_mutex_unlock(&p->tun->lock);
    noise_initiation_state_wipe(&st);
}

static void process_handshake(struct batch *b, struct pkt *in)
{
    struct device *dev = b->dev;
    struct pkt *out;
    size_t reply_len = 0;

    if (dev->shared.under_load && !ratelimiter_allow(&dev->ratelimiter, &in->remote,
                                                     tunnel_shared_now(&dev->shared))) {
        STAT_INC(b->st, ratelimited);
        return;
    }
    if (in->data[0] == MESSAGE_HANDSHAKE_RESPONSE) {
        handshake_consume_indexed(b, in);   /* the tunnel checks its macs */
        return;
    }
    out = batch_udp_slot(b);
    if (!out)
        return;
    switch (tunnel_shared_check_macs(&dev->shared, &in->remote, in->data, in->len, out->data,
                                     pkt_room(out), &reply_len)) {
    case TUNNEL_MACS_OK:
        batch_put_buf(b, out);
        answer_initiation(b, in);
        return;
    case TUNNEL_MACS_COOKIE_SENT:
        STAT_INC(b->st, cookies);
        batch_reply_to(b, in, out, reply_len);
        return;
    case TUNNEL_MACS_BAD_MAC1:
    case TUNNEL_MACS_DST_TOO_SMALL:
        STAT_INC(b->st, bad_mac1);
        batch_put_buf(b, out);
        return;
    }
}

/* Up to one round of queued messages. Returns whether any were left. */
static bool process_handshakes(struct handshake_thread *hs, uint64_t now)
{
    struct batch *b = &hs->b;
    struct device *dev = b->dev;
    struct pkt *in[DEVICE_HANDSHAKES_PER_ROUND];
    unsigned n;

    if (ring_count(dev->hs_in) >= DEVICE_HANDSHAKE_RING / 8)
        hs->under_load_until = now + UNDER_LOAD_AFTER_TIME_NS;
    /* Read by control threads for the stats: relaxed atomic. */
    __atomic_store_n(&dev->shared.under_load, now < hs->under_load_until, __ATOMIC_RELAXED);
    n = ring_sc_dequeue_burst(dev->hs_in, (void **)in, DEVICE_HANDSHAKES_PER_ROUND);
    for (unsigned k = 0; k < n; k++) {
        process_handshake(b, in[k]);
        batch_put_buf(b, in[k]);
    }
    return !ring_empty(dev->hs_in);
}

static void tick_peers(struct batch *b, uint64_t now)
{
    struct device *dev = b->dev;
    struct cds_lfht_iter iter;
    struct cds_lfht_node *node;

    /* cds_lfht_for_each_entry would form a container pointer from NULL at
     * the end of the walk (undefined behaviour); walk nodes instead. */
    cds_lfht_for_each(dev->peers.by_key, &iter, node) {
        struct device_peer *p = caa_container_of(node, struct device_peer, key_node);
        struct pkt *out = batch_udp_slot(b);

        if (!out)
            break;
        wb_mutex_lock(&p->tun->lock);
        if (p->dead) {
            batch_put_buf(b, out);
        } else {
            struct wb_result r = tunnel_tick_locked(p->tun, out->data, pkt_room(out));

            if (p->tun->pending.clear_endpoint_src) {
                p->tun->pending.clear_endpoint_src = false;
                memset(&p->src, 0, sizeof(p->src));
                p->src_ifindex = 0;
            }
            batch_network_result(b, p, out, r);
        }
        wb_mutex_unlock(&p->tun->lock);
    }
    ratelimiter_gc(&dev->ratelimiter, now);
}

void handshake_kick(struct device *dev)
{
    struct handshake_thread *hs = &dev->hs;

    pthread_mutex_lock(&hs->mtx);
    hs->kicked = true;
    pthread_cond_signal(&hs->cond);
    pthread_mutex_unlock(&hs->mtx);
}

/* Sleep until kicked, the next tick, or a pause/stop. Offline. */
static void sleep_until(struct device *dev, uint64_t deadline_mono_ns)
{
    struct handshake_thread *hs = &dev->hs;
    uint64_t now = tunnel_shared_now(&dev->shared);
    struct timespec ts;

    if (deadline_mono_ns <= now)
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    {
        uint64_t ns = (uint64_t)ts.tv_nsec + (deadline_mono_ns - now);

        ts.tv_sec += (time_t)(ns / NSEC_PER_SEC);
        ts.tv_nsec = (long)(ns % NSEC_PER_SEC);
    }
    rcu_thread_offline();
    pthread_mutex_lock(&hs->mtx);
    while (!hs->kicked && !atomic_load(&dev->stop) && !atomic_load(&dev->pause_req))
        if (pthread_cond_timedwait(&hs->cond, &hs->mtx, &ts) == ETIMEDOUT)
            break;
    hs->kicked = false;
    pthread_mutex_unlock(&hs->mtx);
    rcu_thread_online();
}

void *handshake_main(void *arg)
{
    struct device *dev = arg;
    struct handshake_thread *hs = &dev->hs;

    rcu_register_thread();
    hs->next_tick = tunnel_shared_now(&dev->shared);
    while (!atomic_load(&dev->stop)) {
        uint64_t now;
        bool more;

        device_thread_maybe_pause(dev);
        now = tunnel_shared_now(&dev->shared);
        more = process_handshakes(hs, now);
        if (now >= hs->next_tick) {
            tick_peers(&hs->b, now);
            hs->next_tick = now + DEVICE_TICK_NS;
        }
        batch_flush(&hs->b);
        rcu_quiescent_state();
        if (!more)
            sleep_until(dev, hs->next_tick);
    }
    batch_flush(&hs->b);
    rcu_unregister_thread();
    device_thread_exited(dev);
    return NULL;
}
