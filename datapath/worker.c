/* SPDX-License-Identifier: MIT */
/*
 * worker.c - a data worker (worker.h): its loop over its own I/O queue.
 *
 *   TUN burst -> route each packet (allowed IPs) -> per run of packets to
 *     one peer, under its lock: keypair, nonces, headers in each buffer's
 *     headroom (in place) -> a transmit job (crypt.c).
 *   UDP burst -> classify -> data: per run of messages to one peer, under
 *     its lock, the keypair of each -> a receive job; cookie replies at
 *     once; handshake messages to the handshake thread's ring.
 *   then crypto jobs from the device's ring (its own or any worker's), the
 *     handshake thread's datagrams, and the slow-path output.
 *
 * Input is left in the kernel while the crypto ring holds a backlog
 * (CRYPT_BACKLOG jobs a worker) or free jobs run low (JOBS_SPARE a worker:
 * jobs done but waiting behind a slow one in their peer's order): the
 * queues push back instead of the pools running dry. Before it blocks, a worker marks itself idle so a
 * worker with jobs to spare can wake it (crypt_kick).
 *
 * Concurrency: a registered QSBR reader, online while it works (lookups
 * take no lock; what they return is valid until the rcu_quiescent_state()
 * at the end of the turn), offline while it waits. A peer's protocol
 * state is touched only under its tunnel lock, and a dead peer is skipped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/device_impl.h"
#include "proto/byteorder.h"
#include "proto/packet.h"
#include "sched/placement.h"

#define CRYPT_BACKLOG 4            /* queued jobs per worker before input waits */
#define CRYPT_RUN 4                /* jobs a worker takes per turn */
#define WAIT_SPINS 256             /* looks at the rings before a worker sleeps */

enum rx_kind { RX_DROP, RX_HANDSHAKE, RX_COOKIE, RX_DATA };

/* ---------------------------------------------------------------- TUN side */

static const uint8_t *inner_dst(const struct pkt *in, int *family)
{
    if (in->len >= 20 && in->data[0] >> 4 == 4) {
        *family = 4;
        return in->data + 16;
    }
    if (in->len >= 40 && in->data[0] >> 4 == 6) {
        *family = 6;
        return in->data + 24;
    }
    return NULL;
}

/* The slow path for one packet (no usable key, staged packets ahead,
 * counter exhausted): the tunnel copies it into a new buffer, stages it
 * or starts a handshake. p->tun->lock held. */
static void encapsulate_copy(struct batch *b, struct device_peer *p, struct pkt *in)
{
    struct pkt *out = batch_udp_slot(b);
    struct wb_result r;

    if (!out)
        return;
    r = tunnel_encapsulate_locked(p->tun, in->data, in->len, out->data, pkt_room(out));
    batch_network_result(b, p, out, r);
}

/* Prepare rx[i..j) (all routed to p) for sealing in place: the header
 * goes into each buffer's headroom, padding and tag into its tailroom,
 * and the buffers become one transmit job. p->tun->lock held; the
 * nonces are taken here, so the job's order is the wire order. */
static void encapsulate_run(struct batch *b, struct device_peer *p, unsigned i, unsigned j)
{
    struct wb_tunnel *t = p->tun;
    uint64_t now = tunnel_now(t);
    struct noise_keypair *kp = tunnel_data_keypair_locked(t, now);
    struct crypt_job *job = kp ? crypt_job_get(b, p, CRYPT_TX, now) : NULL;
    size_t bytes = 0;
    unsigned k = i;

    if (job)
        crypt_job_ref(job, kp);
    for (; job && k < j; k++) {
        struct pkt *in = b->rx[k];
        uint8_t *hdr = in->data - MESSAGE_DATA_HEADER_LEN;
        long len = packet_prepare_create(kp, in->data, in->len, t->mtu, hdr,
                                         MESSAGE_DATA_HEADER_LEN + in->len + pkt_tailroom(in),
                                         &job->ops[job->n]);

        if (len < 0)
            break;                 /* counter exhausted: the slow path rekeys */
        in->data = hdr;
        in->len = (uint32_t)len;
        if (!batch_take_rx(b, k))
            continue;              /* no spare buffer: this one is lost (counted) */
        job->pkts[job->n++] = in;
        bytes += (size_t)len;
    }
    if (job) {
        if (job->n)
            tunnel_data_sent_locked(t, job->n, bytes, now);
        crypt_job_submit(b, job);
    } else if (kp) {
        /* No job to be had: sealing these here would put them on the
         * wire ahead of the jobs in flight. Dropped, counted (the input
         * gate in the loop keeps this rare). */
        STAT_ADD(b->st, no_buffer, j - i - 1);   /* crypt_job_get counted one */
        k = j;
    }
    for (; k < j; k++)
        encapsulate_copy(b, p, b->rx[k]);
    batch_drain_peer(b, p);
}

static int handle_tun(struct worker *w)
{
    struct batch *b = &w->b;
    struct device *dev = w->dev;
    int n = dev->io->ops->tun_rx_burst(dev->io, w->id, b->rx, DEVICE_BURST);

    if (n < 0 && n != -EAGAIN && n != -EINTR) {
        device_fatal(dev, n);
        return n;
    }
    /* Route every packet, then one lock per run of packets to one peer. */
    for (int i = 0; i < n; i++) {
        int family;
        const uint8_t *dst = inner_dst(b->rx[i], &family);

        b->peer[i] = dst ? allowedips_lookup(&dev->aips, family, dst) : NULL;
        if (!b->peer[i])
            STAT_INC(b->st, no_route);
    }
    STAT_ADD(b->st, rx_tun, n > 0 ? n : 0);
    for (int i = 0, j; i < n; i = j) {
        struct device_peer *p = b->peer[i];

        for (j = i + 1; j < n && b->peer[j] == p; j++)
            ;
        if (!p)
            continue;
        wb_mutex_lock(&p->tun->lock);
        if (!p->dead)
            encapsulate_run(b, p, (unsigned)i, (unsigned)j);
        wb_mutex_unlock(&p->tun->lock);
    }
    for (int i = 0; i < n; i++)
        pkt_reset(b->rx[i]);
    return 0;
}

/* ---------------------------------------------------------------- UDP side */

/* Prepare rx[i..j) (data messages, all for p) for opening in place: the
 * keypair of each (a reference held by the job), one receive job; the
 * replay window and timers run in order once it is open (crypt.c).
 * p->tun->lock held. */
static void decapsulate_run(struct batch *b, struct device_peer *p, unsigned i, unsigned j)
{
    struct wb_tunnel *t = p->tun;
    uint64_t now = tunnel_now(t);
    struct crypt_job *job = crypt_job_get(b, p, CRYPT_RX, now);

    for (unsigned k = i; job && k < j; k++) {
        struct pkt *in = b->rx[k];
        struct wb_result r;
        long plain;
        struct noise_keypair *kp = tunnel_prepare_data_locked(t, in->data, in->len,
                                                              in->data + MESSAGE_DATA_HEADER_LEN,
                                                              in->len, &job->ops[job->n], &plain,
                                                              &r, now);

        if (!kp || !batch_take_rx(b, k))
            continue;              /* counted by the tunnel / the pool */
        crypt_job_ref(job, kp);
        job->kps[job->n] = kp;
        job->plain[job->n] = (uint32_t)plain;
        job->pkts[job->n++] = in;
    }
    if (job)
        crypt_job_submit(b, job);
    else
        STAT_ADD(b->st, no_buffer, j - i - 1);   /* crypt_job_get counted one */
}

/* Type and length; for data, the peer by receiver index. Drops counted. */
static enum rx_kind classify(struct batch *b, unsigned i)
{
    const struct pkt *in = b->rx[i];

    if (in->len < 4 || in->data[1] || in->data[2] || in->data[3]) {
        STAT_INC(b->st, malformed);
        return RX_DROP;
    }
    if ((in->data[0] == MESSAGE_HANDSHAKE_INITIATION && in->len == MESSAGE_INITIATION_LEN) ||
        (in->data[0] == MESSAGE_HANDSHAKE_RESPONSE && in->len == MESSAGE_RESPONSE_LEN))
        return RX_HANDSHAKE;
    if (in->data[0] == MESSAGE_HANDSHAKE_COOKIE && in->len == MESSAGE_COOKIE_LEN)
        return RX_COOKIE;
    if (in->data[0] == MESSAGE_DATA && in->len >= MESSAGE_MINIMUM_LENGTH) {
        b->peer[i] = peer_table_lookup_index(&b->dev->peers, load_le32(in->data + 4));
        if (b->peer[i])
            return RX_DATA;
        STAT_INC(b->st, unknown_index);
        return RX_DROP;
    }
    STAT_INC(b->st, malformed);
    return RX_DROP;
}

/* Copy rx slot i into a handshake slot for the handshake thread (the
 * receive buffer stays: a flood never holds data buffers). */
static bool queue_handshake(struct batch *b, unsigned i)
{
    struct device *dev = b->dev;
    const struct pkt *in = b->rx[i];
    struct pkt *m;

    if (ring_free_count(dev->hs_in) == 0 || !(m = pool_get(dev->hs_msgs, b->cache))) {
        STAT_INC(b->st, hq_full);
        return false;
    }
    pkt_reset(m);
    memcpy(m->data, in->data, in->len);    /* classify(): 148 or 92 bytes */
    m->len = in->len;
    m->queue = in->queue;
    m->remote = in->remote;
    m->local = in->local;
    m->local_ifindex = in->local_ifindex;
    if (!ring_mp_enqueue_bulk(dev->hs_in, (void *const *)&m, 1)) {
        STAT_INC(b->st, hq_full);          /* another worker filled it meanwhile */
        pool_put(dev->hs_msgs, b->cache, m);
        return false;
    }
    return true;
}

static int handle_udp(struct worker *w)
{
    struct batch *b = &w->b;
    struct device *dev = w->dev;
    int n = dev->io->ops->udp_rx_burst(dev->io, w->id, b->rx, DEVICE_BURST);
    bool kick = false;

    if (n < 0 && n != -EAGAIN && n != -EINTR) {
        device_fatal(dev, n);
        return n;
    }
    for (int i = 0; i < n; i++)
        b->kind[i] = (uint8_t)classify(b, (unsigned)i);
    STAT_ADD(b->st, rx_datagrams, n > 0 ? n : 0);
    for (int i = 0, j; i < n; i = j) {
        struct device_peer *p = b->peer[i];

        j = i + 1;
        switch (b->kind[i]) {
        case RX_HANDSHAKE:
            kick |= queue_handshake(b, (unsigned)i);
            break;
        case RX_COOKIE:
            handshake_consume_indexed(b, b->rx[i]);
            break;
        case RX_DATA:
            /* One lock per run of data messages to one peer. */
            while (j < n && b->kind[j] == RX_DATA && b->peer[j] == p)
                j++;
            wb_mutex_lock(&p->tun->lock);
            if (!p->dead)
                decapsulate_run(b, p, (unsigned)i, (unsigned)j);
            wb_mutex_unlock(&p->tun->lock);
            break;
        default:
            break;
        }
    }
    for (int i = 0; i < n; i++)
        pkt_reset(b->rx[i]);
    if (kick)
        handshake_kick(dev);
    return 0;
}

/* The handshake thread's datagrams: sent from this worker's queue. */
static void send_handshake_output(struct worker *w)
{
    struct batch *b = &w->b;

    while (b->n_udp_tx < TX_SLOTS && !ring_empty(b->dev->hs_out)) {
        unsigned room = TX_SLOTS - b->n_udp_tx;

        b->n_udp_tx += ring_mc_dequeue_burst(b->dev->hs_out, (void **)(b->udp_tx + b->n_udp_tx), room);
    }
}

/* --------------------------------------------------------------------- loop */

void device_fatal(struct device *dev, int err)
{
    int expected = 0;

    if (atomic_compare_exchange_strong(&dev->fatal_error, &expected, err)) {
        if (dev->opt.on_fatal)
            dev->opt.on_fatal(dev->opt.log_ctx, err);
        if (dev->opt.log) {
            char msg[96];

            snprintf(msg, sizeof(msg), "datapath stopped: I/O error %d (%s)", err, strerror(-err));
            dev->opt.log(dev->opt.log_ctx, WB_LOG_ERROR, msg);
        }
    }
    /* Every queue of the backend is gone with it: the others stop too. */
    atomic_store(&dev->stop, true);
    dev->io->ops->wake(dev->io);
    handshake_kick(dev);
}

void device_thread_maybe_pause(struct device *dev)
{
    if (!atomic_load(&dev->pause_req))
        return;
    rcu_thread_offline();
    pthread_mutex_lock(&dev->pause_mtx);
    dev->n_paused++;
    pthread_cond_broadcast(&dev->pause_cond);
    while (atomic_load(&dev->pause_req))
        pthread_cond_wait(&dev->pause_cond, &dev->pause_mtx);
    dev->n_paused--;
    pthread_mutex_unlock(&dev->pause_mtx);
    rcu_thread_online();
}

void device_thread_exited(struct device *dev)
{
    pthread_mutex_lock(&dev->pause_mtx);
    dev->n_exited++;
    pthread_cond_broadcast(&dev->pause_cond);
    pthread_mutex_unlock(&dev->pause_mtx);
}

/* Is there work that no descriptor shows? */
static bool work_queued(struct worker *w)
{
    struct device *dev = w->dev;

    return !ring_empty(dev->crypt) || !ring_empty(dev->hs_out) || !ring_empty(w->drains);
}

/* Wait for I/O, or poll it when work is queued. Marks the worker idle
 * around a blocking wait so crypt_kick can find it. */
static int wait_io(struct worker *w)
{
    struct device *dev = w->dev;
    unsigned long bit = 1UL << (w->id % (8 * sizeof(unsigned long)));
    int ready;

    /* A short spin first: a job handed over a microsecond later costs a
     * futex wake and a sleep otherwise, at every job (yielding every 64
     * turns, so an oversubscribed CPU loses little). */
    for (unsigned turn = 0, spins = 0; turn < WAIT_SPINS; turn++) {
        if (work_queued(w))
            return dev->io->ops->wait(dev->io, w->id, 0);
        ring_pause(&spins);
    }
    /* (C') seq_cst read-modify-write: idle is visible before we look at
     * the rings one last time. Pairs with (C) in crypt_kick. */
    atomic_fetch_or(&dev->idle, bit);
    if (work_queued(w)) {
        atomic_fetch_and(&dev->idle, ~bit);
        return dev->io->ops->wait(dev->io, w->id, 0);
    }
    rcu_thread_offline();
    ready = dev->io->ops->wait(dev->io, w->id, -1);
    rcu_thread_online();
    atomic_fetch_and(&dev->idle, ~bit);
    return ready;
}

static void pin(struct worker *w)
{
    struct device *dev = w->dev;
    int ret;

    if (w->cpu < 0)
        return;
    ret = placement_pin_self(w->cpu);
    if (ret < 0 && dev->opt.log) {
        char msg[96];

        snprintf(msg, sizeof(msg), "worker %u: cannot pin to CPU %d: %s; it runs unpinned",
                 w->id, w->cpu, strerror(-ret));
        dev->opt.log(dev->opt.log_ctx, WB_LOG_WARN, msg);
    }
}

void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct device *dev = w->dev;
    struct batch *b = &w->b;

    pin(w);
    rcu_register_thread();
    while (!atomic_load(&dev->stop)) {
        /* Jobs stuck behind a slow one (a preempted worker) count too:
         * input waits while the free ones run low. A burst may need a job
         * a packet (every packet to another peer). */
        bool input = ring_count(dev->crypt) < CRYPT_BACKLOG * dev->n_workers &&
                     pool_avail(dev->jobs) > DEVICE_BURST + CRYPT_BACKLOG * dev->n_workers &&
                     pool_avail(dev->pkts) > DEVICE_PKT_CACHE * (dev->n_workers + 1) + DEVICE_BURST;
        int ready;

        device_thread_maybe_pause(dev);
        ready = input ? wait_io(w) : dev->io->ops->wait(dev->io, w->id, 0);
        if (atomic_load(&dev->stop))
            break;
        if (ready < 0 && ready != -EINTR) {
            device_fatal(dev, ready);
            break;
        }
        if (!input)
            STAT_INC(b->st, input_deferred);
        if (input && ready > 0 && (ready & IO_READY_UDP) && handle_udp(w) < 0)
            break;
        if (input && ready > 0 && (ready & IO_READY_TUN) && handle_tun(w) < 0)
            break;
        /* Its own jobs first: another worker gets one only while this one
         * is busy. Handing each fresh job over measured no faster here and
         * much worse under CPU contention: a job taken by a preempted
         * worker holds up its peer's whole order queue. */
        crypt_run(w, CRYPT_RUN);
        crypt_release_home(w);
        send_handshake_output(w);
        batch_flush(b);
        rcu_quiescent_state();
    }
    /* What this worker still holds goes back; queued jobs are dropped by
     * device_stop once every thread is out. */
    batch_flush(b);
    rcu_unregister_thread();
    device_thread_exited(dev);
    return NULL;
}
