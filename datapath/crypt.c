/* SPDX-License-Identifier: MIT */
/*
 * crypt.c - parallel crypto with per-peer order, both directions (the
 * Linux module's design; worker.h has the picture):
 *
 *   prepare (worker.c, under the peer's lock): keypair, nonces, headers;
 *     the run becomes a job, appended to the peer's order queue, then
 *     put on the device's crypto ring.
 *   crypto (crypt_run, any worker, no lock): up to 32 jobs at a time, the
 *     small ones sharing one aead_seal_batch / aead_open_batch call, the
 *     large ones one call each; then each job is marked done.
 *   ordered stage (drain, one drainer per peer and direction): jobs
 *     leave from the head of the order queue only once done, and only
 *     from the job's home worker (the one that prepared it, which a flow
 *     keeps: one TUN queue, one socket). Packets sent from two CPUs land
 *     in two CPUs' backlogs and overtake each other in the kernel (the
 *     receiver's TCP sees reordering and retransmits), so a worker that
 *     finishes another's job hands the peer to the home's drain ring.
 *     Transmit: endpoint and sticky source, then the home's UDP queue.
 *     Receive, under the peer's lock and in arrival order: replay window,
 *     timers, endpoint, cryptokey routing; then the home's TUN queue.
 *
 * Lifetimes: a job holds a reference to each keypair it uses (a rotation
 * cannot free keys in use), and counts in its peer's inflight until its
 * last touch of the peer, which a peer removal waits for (device.c).
 *
 * Lost wakeups: the drainer that gives up the draining flag looks at the
 * head once more; a worker that marks a job done then tries the flag.
 * Both are seq_cst, so one of the two sees the other (B, B').
 */
#include <errno.h>
#include <string.h>

#include "datapath/device_impl.h"
#include "proto/messages.h"

/* ------------------------------------------------------------------- jobs */

struct crypt_job *crypt_job_get(struct batch *b, struct device_peer *p, enum crypt_dir dir, uint64_t now)
{
    struct crypt_job *j = pool_get(b->dev->jobs, b->cache);

    if (!j) {
        STAT_INC(b->st, no_buffer);
        return NULL;
    }
    j->next = NULL;
    j->peer = p;
    atomic_init(&j->done, 0);
    j->dir = (uint8_t)dir;
    j->home = (uint8_t)(b->queue >= 0 ? b->queue : 0);
    j->n_refs = 0;
    j->n = 0;
    j->now = now;
    return j;
}

void crypt_job_ref(struct crypt_job *j, struct noise_keypair *kp)
{
    for (unsigned i = 0; i < j->n_refs; i++)
        if (j->refs[i] == kp)
            return;
    /* A peer has at most three keypairs, and a job is prepared under one
     * hold of its lock. */
    noise_keypair_get(kp);
    j->refs[j->n_refs++] = kp;
}

/* Give back the job, its buffers and its references. Any thread. */
static void job_release(struct batch *b, struct crypt_job *j)
{
    struct device_peer *p = j->peer;

    pool_put_bulk(b->dev->pkts, b->cache, (void *const *)j->pkts, j->n);
    for (unsigned i = 0; i < j->n_refs; i++)
        noise_keypair_put(j->refs[i]);
    pool_put(b->dev->jobs, b->cache, j);
    /* The last touch of the peer: a removal waiting for it may go on. */
    atomic_fetch_sub_explicit(&p->inflight, 1, memory_order_release);
}

/* Wake worker w if it is idle (it then is no longer). Returns whether
 * it was. Any thread. */
static bool kick_one(struct device *dev, unsigned w)
{
    unsigned long bit = 1UL << w;

    /* (C) a seq_cst read-modify-write, as in crypt_kick. */
    if (!(atomic_fetch_and(&dev->idle, ~bit) & bit))
        return false;
    if (dev->io->ops->wake_queue)
        dev->io->ops->wake_queue(dev->io, w);
    else
        dev->io->ops->wake(dev->io);
    return true;
}

void crypt_kick(struct device *dev, int self)
{
    unsigned long idle;

    /* (C) a seq_cst read-modify-write (a full barrier; a fence would
     * do, but ThreadSanitizer does not model fences): the job is in the
     * ring before the idle mask is read. Pairs with (C') in wait_io. */
    idle = atomic_fetch_or(&dev->idle, 0);
    if (self >= 0)
        idle &= ~(1UL << self);
    while (idle) {
        unsigned w = (unsigned)__builtin_ctzl(idle);

        if (kick_one(dev, w))
            return;
        idle &= ~(1UL << w);
    }
}

void crypt_job_submit(struct batch *b, struct crypt_job *j)
{
    struct device_peer *p = j->peer;
    struct order_queue *q = j->dir == CRYPT_TX ? &p->tx_q : &p->rx_q;

    if (!j->n) {
        for (unsigned i = 0; i < j->n_refs; i++)
            noise_keypair_put(j->refs[i]);
        pool_put(b->dev->jobs, b->cache, j);
        return;
    }
    STAT_INC(b->st, jobs);
    STAT_ADD(b->st, job_packets, j->n);
    atomic_fetch_add_explicit(&p->inflight, 1, memory_order_relaxed);
    if (q->tail)
        q->tail->next = j;
    else
        q->head = j;
    q->tail = j;
    /* The ring holds every job the pool has: it cannot be full. */
    ring_mp_enqueue_bulk(b->dev->crypt, (void *const *)&j, 1);
    if (b->dev->n_workers > 1)
        crypt_kick(b->dev, b->queue);
}

/* ---------------------------------------------------------- ordered stage */

/* Transmit, with the lock held: where each datagram goes. False: drop. */
static bool tx_finish_locked(struct batch *b, struct crypt_job *j)
{
    struct device_peer *p = j->peer;

    if (p->dead) {
        STAT_ADD(b->st, dead_peer, j->n);
        return false;
    }
    if (!p->tun->peer.endpoint.family) {
        STAT_ADD(b->st, no_endpoint, j->n);
        return false;
    }
    for (unsigned i = 0; i < j->n; i++) {
        j->pkts[i]->remote = p->tun->peer.endpoint;
        j->pkts[i]->local = p->src;
        j->pkts[i]->local_ifindex = p->src_ifindex;
    }
    return true;
}

static void tx_send(struct batch *b, struct crypt_job *j)
{
    struct device *dev = b->dev;
    unsigned done = 0;

    while (done < j->n) {
        int n = dev->io->ops->udp_tx_burst(dev->io, (unsigned)b->queue, j->pkts + done, j->n - done);

        if (n <= 0) {
            STAT_ADD(b->st, tx_failed, j->n - done);
            break;
        }
        STAT_ADD(b->st, tx_datagrams, n);
        done += (unsigned)n;
    }
}

/* Receive, with the lock held, in arrival order: the replay window and
 * timers (the tunnel), the sticky source, cryptokey routing. The packets
 * to deliver move to the front of j->pkts; returns how many. */
static unsigned rx_finish_locked(struct batch *b, struct crypt_job *j)
{
    struct device_peer *p = j->peer;
    struct wb_tunnel *t = p->tun;
    unsigned keep = 0;

    if (p->dead) {
        STAT_ADD(b->st, dead_peer, j->n);
        return 0;
    }
    for (unsigned i = 0; i < j->n; i++) {
        struct pkt *in = j->pkts[i];
        uint64_t rx_before = t->peer.rx_packets;
        struct wb_result r = tunnel_finish_data_locked(t, j->kps[i], &j->ops[i], &in->remote, in->len,
                                                       j->plain[i], j->now);
        const uint8_t *src = NULL;
        int family = 0;

        batch_learn_source(p, in, rx_before);
        if (r.op != WB_WRITE_TO_TUNNEL_IPV4 && r.op != WB_WRITE_TO_TUNNEL_IPV6)
            continue;              /* keepalive, or a drop the tunnel counted */
        in->data += MESSAGE_DATA_HEADER_LEN;
        in->len = (uint32_t)r.size;
        if (in->len >= 20 && in->data[0] >> 4 == 4)
            family = 4, src = in->data + 12;
        else if (in->len >= 40 && in->data[0] >> 4 == 6)
            family = 6, src = in->data + 8;
        if (!src || allowedips_lookup(&b->dev->aips, family, src) != p) {
            STAT_INC(b->st, source_not_allowed);
            continue;
        }
        j->pkts[i] = j->pkts[keep];
        j->pkts[keep++] = in;
    }
    batch_drain_peer(b, p);        /* a confirmed session releases staged packets */
    return keep;
}

static void rx_deliver(struct batch *b, struct crypt_job *j, unsigned n)
{
    struct device *dev = b->dev;
    unsigned done = 0;

    while (done < n) {
        int k = dev->io->ops->tun_tx_burst(dev->io, (unsigned)b->queue, j->pkts + done, n - done);

        if (k <= 0) {
            STAT_ADD(b->st, tx_failed, n - done);
            break;
        }
        STAT_ADD(b->st, tx_tun, k);
        done += (unsigned)k;
    }
}

/* Pop the head job if it is done. p->tun->lock held. */
static struct crypt_job *pop_done(struct order_queue *q)
{
    struct crypt_job *j = q->head;

    /* (A') acquire: the job's crypto happened before. */
    if (!j || !atomic_load_explicit(&j->done, memory_order_acquire))
        return NULL;
    q->head = j->next;
    if (!q->head)
        q->tail = NULL;
    return j;
}

static bool head_done(struct device_peer *p, struct order_queue *q)
{
    bool done;

    wb_mutex_lock(&p->tun->lock);
    done = q->head && atomic_load(&q->head->done);
    wb_mutex_unlock(&p->tun->lock);
    return done;
}

/* Release p's done jobs of one direction in order. The caller keeps p
 * alive (a job of p's, or its own inflight count). */
static void drain(struct batch *b, struct device_peer *p, enum crypt_dir dir)
{
    struct order_queue *q = dir == CRYPT_TX ? &p->tx_q : &p->rx_q;

    do {
        /* (B) seq_cst: see the file comment. */
        if (atomic_exchange(&q->draining, true))
            return;
        for (;;) {
            struct crypt_job *j;
            unsigned n = 0;
            bool send = false;

            wb_mutex_lock(&p->tun->lock);
            j = pop_done(q);
            if (j && dir == CRYPT_TX)
                send = tx_finish_locked(b, j);
            else if (j)
                n = rx_finish_locked(b, j);
            wb_mutex_unlock(&p->tun->lock);
            if (!j)
                break;
            if (send)
                tx_send(b, j);
            else if (n)
                rx_deliver(b, j, n);
            job_release(b, j);
        }
        atomic_store(&q->draining, false);
    } while (head_done(p, q));
}

/* ----------------------------------------------------------------- crypto */

/* A drain request: the peer, its direction in the low bit (peers are
 * aligned). The peer is pinned (inflight) until the request is served. */
static void *drain_request(struct device_peer *p, enum crypt_dir dir)
{
    return (void *)((uintptr_t)p | (uintptr_t)dir);
}

/* Small jobs (one packet each when every packet goes to another peer)
 * share one multi-buffer AEAD call: the SIMD kernels seal or open several
 * packets at once, under any mix of keys, and a call of one packet
 * leaves most of their lanes empty. */
#define CRYPT_SHARE_MAX 8              /* jobs up to this many packets are merged */
#define CRYPT_RUN_JOBS 32              /* jobs taken from the ring at once */

static void run_jobs_crypto(struct crypt_job **jobs, unsigned n)
{
    struct aead_op ops[2][DEVICE_BURST];
    struct { struct crypt_job *j; unsigned at; } from[2][DEVICE_BURST];
    unsigned count[2] = { 0, 0 };

    for (unsigned i = 0; i < n; i++) {
        struct crypt_job *j = jobs[i];
        unsigned d = j->dir == CRYPT_TX ? 0 : 1;

        if (j->n > CRYPT_SHARE_MAX || count[d] + j->n > DEVICE_BURST) {
            if (d == 0)
                aead_seal_batch(j->ops, j->n);
            else
                aead_open_batch(j->ops, j->n);
            continue;
        }
        for (unsigned k = 0; k < j->n; k++) {
            ops[d][count[d]] = j->ops[k];
            from[d][count[d]].j = j;
            from[d][count[d]++].at = k;
        }
    }
    if (count[0])
        aead_seal_batch(ops[0], count[0]);
    if (count[1]) {
        aead_open_batch(ops[1], count[1]);
        for (unsigned k = 0; k < count[1]; k++)     /* the verdicts go home */
            from[1][k].j->ops[from[1][k].at].result = ops[1][k].result;
    }
}

unsigned crypt_run(struct worker *w, unsigned max)
{
    struct device *dev = w->dev;
    struct crypt_job *jobs[CRYPT_RUN_JOBS];
    unsigned want = max < CRYPT_RUN_JOBS ? max : CRYPT_RUN_JOBS;
    unsigned n = ring_mc_dequeue_burst(dev->crypt, (void **)jobs, want), got = n, pkts = 0;

    /* A turn is max jobs, or a burst's worth of packets when the jobs are
     * small (many peers): one-packet jobs then share AEAD calls. */
    for (unsigned i = 0; i < n; i++)
        pkts += jobs[i]->n;
    while (got == want && pkts < DEVICE_BURST / 2 && n < CRYPT_RUN_JOBS) {
        want = CRYPT_RUN_JOBS - n < 8 ? CRYPT_RUN_JOBS - n : 8;
        got = ring_mc_dequeue_burst(dev->crypt, (void **)(jobs + n), want);
        for (unsigned i = n; i < n + got; i++)
            pkts += jobs[i]->n;
        n += got;
    }
    run_jobs_crypto(jobs, n);
    for (unsigned i = 0; i < n; i++) {
        struct crypt_job *j = jobs[i];
        struct device_peer *p = j->peer;
        enum crypt_dir dir = (enum crypt_dir)j->dir;
        unsigned home = j->home;
        void *req = drain_request(p, dir);

        /* Once done, another drainer may release the job and with it the
         * peer: pin the peer for the drain that follows. */
        atomic_fetch_add_explicit(&p->inflight, 1, memory_order_relaxed);
        /* (A) release, and (B') seq_cst against the drainer's recheck. */
        atomic_store(&j->done, 1);
        /* The home's drain ring holds at most one request per job: it has
         * room for every job there is. */
        if (home != w->id && ring_mp_enqueue_bulk(dev->workers[home].drains, &req, 1)) {
            kick_one(dev, home);
            continue;
        }
        drain(&w->b, p, dir);
        atomic_fetch_sub_explicit(&p->inflight, 1, memory_order_release);
    }
    STAT_ADD(&w->st, jobs_run, n);
    return n;
}

unsigned crypt_release_home(struct worker *w)
{
    void *reqs[16];
    unsigned n = ring_sc_dequeue_burst(w->drains, reqs, 16);

    for (unsigned i = 0; i < n; i++) {
        uintptr_t r = (uintptr_t)reqs[i];
        struct device_peer *p = (struct device_peer *)(r & ~(uintptr_t)1);

        drain(&w->b, p, (enum crypt_dir)(r & 1));
        atomic_fetch_sub_explicit(&p->inflight, 1, memory_order_release);
    }
    return n;
}

/* ---------------------------------------------------------------- stopped */

static void drop_queue(struct batch *b, struct order_queue *q)
{
    while (q->head) {
        struct crypt_job *j = q->head;

        q->head = j->next;
        job_release(b, j);
    }
    q->tail = NULL;
}

void crypt_drop_peer(struct device *dev, struct device_peer *p)
{
    struct batch b = { .dev = dev, .cache = POOL_NO_CACHE, .queue = -1, .st = &dev->hs_stats };

    wb_mutex_lock(&p->tun->lock);
    drop_queue(&b, &p->tx_q);
    drop_queue(&b, &p->rx_q);
    wb_mutex_unlock(&p->tun->lock);
}

void crypt_flush_drains(struct device *dev)
{
    void *req;

    /* Drain requests pin their peers: let go. */
    for (unsigned i = 0; i < dev->n_workers; i++)
        while (ring_sc_dequeue_bulk(dev->workers[i].drains, &req, 1)) {
            struct device_peer *p = (struct device_peer *)((uintptr_t)req & ~(uintptr_t)1);

            atomic_fetch_sub_explicit(&p->inflight, 1, memory_order_release);
        }
}

void crypt_flush_stopped(struct device *dev)
{
    struct crypt_job *j;

    crypt_flush_drains(dev);

    /* Every job is in some peer's order queue; the ring only points at
     * them. */
    while (ring_sc_dequeue_bulk(dev->crypt, (void **)&j, 1))
        ;
    for (size_t i = 0; i < dev->n_list; i++)
        if (dev->list[i])
            crypt_drop_peer(dev, dev->list[i]);
}
