/* SPDX-License-Identifier: MIT */
/*
 * handshake.c - the handshake thread: every handshake message the data
 * workers receive comes here through a ring (hs_in), so X25519 work never
 * holds up data and a flood of initiations cannot starve it: when the
 * ring is 1/8 full the device is under load for a second (cookies,
 * per-source rate limits), and when it is full further messages are
 * counted and dropped by the workers. It also makes every initiation (a
 * worker that wants one leaves it in the tunnel's pending state and hands
 * the peer over through hs_req), and runs the peers' timers (retransmits,
 * keepalives, rekeys, zeroing) from a timing wheel: each 100 ms tick
 * looks only at the peers with a deadline in it, so idle peers cost
 * nothing. What it sends goes through another ring (hs_out) to whichever
 * worker is free.
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
        pool_put(dev->hs_msgs, b->cache, in[k]);
    }
    return !ring_empty(dev->hs_in);
}

/* ------------------------------------------------------------ timers */

/* Handshake thread, p->tun->lock held: file p under due (0: take it out).
 * A filed peer holds one inflight count, so it is not freed while the
 * wheel points at it. */
static void wheel_file(struct device *dev, struct device_peer *p, uint64_t due)
{
    struct handshake_thread *hs = &dev->hs;

    p->timer_filed = due;
    if (!due) {
        if (wheel_entry_filed(&p->wheel)) {
            timer_wheel_cancel(&hs->wheel, &p->wheel);
            /* (D) release: pairs with wait_jobs_gone's acquire. */
            atomic_fetch_sub_explicit(&p->inflight, 1, memory_order_release);
        }
        return;
    }
    if (!wheel_entry_filed(&p->wheel))
        atomic_fetch_add_explicit(&p->inflight, 1, memory_order_relaxed);
    timer_wheel_file(&hs->wheel, &p->wheel, due);
}

/* Ask the handshake thread to look at p, once until it has. Holds an
 * inflight count while queued. A full ring sets hs_sweep instead, and
 * hs_wanted stays set: the sweep looks at every peer. */
static void request(struct device *dev, struct device_peer *p)
{
    if (atomic_exchange_explicit(&p->hs_wanted, true, memory_order_acq_rel))
        return;
    atomic_fetch_add_explicit(&p->inflight, 1, memory_order_relaxed);
    if (!ring_mp_enqueue_bulk(dev->hs_req, (void *const *)&p, 1)) {
        atomic_fetch_sub_explicit(&p->inflight, 1, memory_order_release);
        atomic_store(&dev->hs_sweep, true);
    }
    handshake_kick(dev);
}

bool handshake_note_locked(struct device *dev, struct device_peer *p, bool hs_thread)
{
    struct wb_tunnel *t = p->tun;
    bool wanted = t->pending.initiation || t->pending.keepalive;
    uint64_t next;

    if (hs_thread) {
        next = p->dead ? 0 : wanted ? 1 : tunnel_next_tick_locked(t);
        wheel_file(dev, p, next);          /* 1: long past, so at the next tick */
        return false;
    }
    if (p->dead)
        return false;
    next = tunnel_next_tick_locked(t);
    if (next && (!p->timer_filed || next < p->timer_filed))
        p->timer_filed = next;
    else if (!wanted)
        return false;
    request(dev, p);
    return true;
}

/* Look at p: fire its due timers, make the initiation a worker left for
 * us, send what that gives, and file it again under its next deadline.
 * Handshake thread; the caller holds p (an inflight count, or an RCU
 * read-side reference while online). */
static void visit_peer(struct batch *b, struct device_peer *p)
{
    struct device *dev = b->dev;
    struct wb_tunnel *t = p->tun;
    struct pkt *out = batch_udp_slot(b);

    STAT_INC(b->st, timer_visits);
    wb_mutex_lock(&t->lock);
    if (p->dead || !out) {
        wheel_file(dev, p, p->dead ? 0 : 1);   /* no buffer: again at the next tick */
        wb_mutex_unlock(&t->lock);
        if (out)
            batch_put_buf(b, out);
        return;
    }
    t->defer_initiations = false;          /* X25519 belongs here */
    {
        struct wb_result r = tunnel_tick_locked(t, out->data, pkt_room(out));

        if (t->pending.clear_endpoint_src) {
            t->pending.clear_endpoint_src = false;
            memset(&p->src, 0, sizeof(p->src));
            p->src_ifindex = 0;
        }
        batch_network_result(b, p, out, r);    /* drains, and files p again */
    }
    t->defer_initiations = true;
    wb_mutex_unlock(&t->lock);
}

/* Peers due by the wheel. Each comes off the expire list with the
 * wheel's inflight count, which is dropped once it is visited. */
static void visit_due(struct batch *b, uint64_t now)
{
    struct device *dev = b->dev;
    struct cds_list_head due;
    struct wheel_entry *e, *next;

    CDS_INIT_LIST_HEAD(&due);
    timer_wheel_expire(&dev->hs.wheel, now, &due);
    cds_list_for_each_entry_safe(e, next, &due, link) {
        struct device_peer *p = caa_container_of(e, struct device_peer, wheel);

        cds_list_del_init(&e->link);
        visit_peer(b, p);
        atomic_fetch_sub_explicit(&p->inflight, 1, memory_order_release);
    }
}

/* Peers the workers or the control side asked us to look at. Returns
 * whether any were left. */
static bool visit_requested(struct batch *b)
{
    struct device *dev = b->dev;
    struct device_peer *p[64];
    unsigned n = ring_sc_dequeue_burst(dev->hs_req, (void **)p, 64);

    for (unsigned i = 0; i < n; i++) {
        atomic_store_explicit(&p[i]->hs_wanted, false, memory_order_release);
        visit_peer(b, p[i]);
        atomic_fetch_sub_explicit(&p[i]->inflight, 1, memory_order_release);
    }
    return !ring_empty(dev->hs_req);
}

/* Every peer (at start, and when the request ring overflowed). Online:
 * the table walk holds the peers. */
static void visit_all(struct batch *b)
{
    struct device *dev = b->dev;
    struct cds_lfht_iter iter;
    struct cds_lfht_node *node;

    /* cds_lfht_for_each_entry would form a container pointer from NULL at
     * the end of the walk (undefined behaviour); walk nodes instead. */
    cds_lfht_for_each(dev->peers.by_key, &iter, node) {
        struct device_peer *p = caa_container_of(node, struct device_peer, key_node);

        atomic_store_explicit(&p->hs_wanted, false, memory_order_release);
        visit_peer(b, p);
    }
}

/* Removed peers: out of the wheel, and their list count dropped. */
static void forget_dead(struct device *dev)
{
    struct handshake_thread *hs = &dev->hs;
    struct device_peer *p, *next;

    pthread_mutex_lock(&hs->mtx);
    p = hs->dead;
    hs->dead = NULL;
    pthread_mutex_unlock(&hs->mtx);
    for (; p; p = next) {
        next = p->dead_next;
        wb_mutex_lock(&p->tun->lock);
        wheel_file(dev, p, 0);
        wb_mutex_unlock(&p->tun->lock);
        atomic_fetch_sub_explicit(&p->inflight, 1, memory_order_release);
    }
}

void handshake_forget(struct device *dev, struct device_peer *p)
{
    struct handshake_thread *hs = &dev->hs;

    /* Nothing filed and nothing asked: the wheel has never seen it or
     * let it go (filing always sets timer_filed; a queued request holds
     * its own inflight count). Most of 100,000 removed peers. */
    if (!p->timer_filed && !atomic_load(&p->hs_wanted))
        return;
    atomic_fetch_add_explicit(&p->inflight, 1, memory_order_relaxed);
    pthread_mutex_lock(&hs->mtx);
    p->dead_next = hs->dead;
    hs->dead = p;
    pthread_mutex_unlock(&hs->mtx);
}

void handshake_drop_all(struct device *dev)
{
    struct handshake_thread *hs = &dev->hs;
    struct device_peer *p;

    forget_dead(dev);
    while (ring_sc_dequeue_bulk(dev->hs_req, (void **)&p, 1)) {
        atomic_store(&p->hs_wanted, false);
        atomic_fetch_sub_explicit(&p->inflight, 1, memory_order_release);
    }
    for (uint64_t i = 0; hs->wheel.slots && i <= hs->wheel.mask; i++) {
        struct wheel_entry *e, *next;

        cds_list_for_each_entry_safe(e, next, &hs->wheel.slots[i], link) {
            p = caa_container_of(e, struct device_peer, wheel);
            p->timer_filed = 0;
            timer_wheel_cancel(&hs->wheel, e);
            atomic_fetch_sub_explicit(&p->inflight, 1, memory_order_release);
        }
    }
    /* Whatever was asked of the stopped thread: a restart looks at all. */
    atomic_store(&dev->hs_sweep, true);
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
        forget_dead(dev);
        more |= visit_requested(&hs->b);
        if (atomic_exchange(&dev->hs_sweep, false))
            visit_all(&hs->b);
        if (now >= hs->next_tick) {
            visit_due(&hs->b, now);
            ratelimiter_gc(&dev->ratelimiter, now);
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
