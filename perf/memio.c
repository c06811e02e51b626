/* SPDX-License-Identifier: MIT */
/*
 * memio.c - the benchmarks' in-memory io_backend (memio.h): preallocated
 * slot rings over datapath/ring.h, feeds that hand out prebuilt packets on
 * one queue or all, counting and capturing sinks that every queue's worker
 * may call at once, and a futex wait per queue.
 *
 * Concurrency: see memio.h. A slot ring is two pointer rings over one
 * array of slots: `free` (producers take with mc dequeue, the one consumer
 * gives back with sp enqueue) and `full` (producers publish with mp
 * enqueue, the consumer takes with sc dequeue); ring.h orders the slot
 * contents (its A/B labels). Labels here: [F1] feed/mode published ->
 * seen by every worker (gen / seen_gen), [W1] a queue's futex eventcount
 * (Dekker: each side stores, fences, loads), [C1] a capture slot written
 * -> counted in `captured`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "datapath/ring.h"
#include "memio.h"

#define RING_SLOTS 1024            /* power of two */
#define CACHELINE 64

struct slot {
    uint32_t len;
    struct wb_endpoint ep;         /* rx: source; outbox: destination */
    uint8_t data[MEMIO_SLOT_DATA];
};

struct slot_ring {
    struct ring *full, *free;
    struct slot *slots;
};

/* A feed's progress: pos is claimed by the queues that read the feed
 * (atomic add: each burst takes the next packets), reset by the benchmark
 * thread only after quiescing. */
struct feed_state {
    _Atomic(const struct memio_feed *) feed;
    _Alignas(CACHELINE) _Atomic uint64_t pos;
};

/* One queue: its wait state and the counters its worker writes. */
struct queue {
    _Alignas(CACHELINE) _Atomic uint32_t futex_word;   /* [W1] bumped on every kick */
    _Atomic int sleeping;
    atomic_bool woken;
    _Atomic uint32_t seen_gen;     /* [F1] */
    atomic_bool have_thread;
    pthread_t thread;              /* its worker, once it called in */
    _Alignas(CACHELINE) struct {
        _Atomic uint64_t tun_tx, tun_tx_bytes, udp_data_tx, udp_data_bytes, dropped;
        _Atomic uint64_t tun_fed, udp_fed, tun_tx_last_ns, udp_tx_last_ns;
    } c;
};

struct memio {
    struct io_backend base;        /* first: the device hands us this pointer */
    struct wb_endpoint addr;
    struct memio *peer;            /* linked backend, or NULL */
    struct slot_ring tun_inject, udp_inject, udp_link, outbox;
    struct feed_state tun_feed, udp_feed;

    _Atomic int data_mode;         /* enum memio_data_mode */
    _Atomic(const struct memio_capture *) capture;
    _Alignas(CACHELINE) _Atomic uint64_t capture_next;  /* slots claimed */
    _Atomic uint64_t captured;                          /* [C1] slots written */
    _Atomic uint64_t udp_feed_start_ns;

    _Alignas(CACHELINE) _Atomic uint32_t gen;           /* [F1] changes published */
    struct queue *q;               /* [base.n_queues] */
};

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Per-queue counters: normally one writer, but an atomic add keeps them
 * exact whatever thread calls; relaxed, they are statistics. */
static void count(_Atomic uint64_t *c, uint64_t v)
{
    atomic_fetch_add_explicit(c, v, memory_order_relaxed);
}

/* ------------------------------------------------------------------ rings */

static void slot_ring_free(struct slot_ring *r)
{
    ring_destroy(r->full);
    ring_destroy(r->free);
    free(r->slots);
}

static int slot_ring_init(struct slot_ring *r)
{
    if (ring_create(RING_SLOTS, &r->full) < 0 || ring_create(RING_SLOTS, &r->free) < 0 ||
        !(r->slots = calloc(RING_SLOTS, sizeof(*r->slots))))
        return -ENOMEM;
    for (unsigned i = 0; i < RING_SLOTS; i++) {
        void *s = &r->slots[i];

        ring_sp_enqueue_bulk(r->free, &s, 1);
    }
    return 0;
}

/* Any producer: a slot to fill, or NULL when the ring is full; slot_push
 * publishes it. */
static struct slot *slot_get(struct slot_ring *r)
{
    void *s;

    return ring_mc_dequeue_bulk(r->free, &s, 1) ? s : NULL;
}

static void slot_push(struct slot_ring *r, struct slot *s)
{
    void *p = s;

    ring_mp_enqueue_bulk(r->full, &p, 1);    /* never full: RING_SLOTS slots in all */
}

/* The one consumer: the oldest slot, or NULL when empty; slot_put gives it
 * back once read. */
static struct slot *slot_take(struct slot_ring *r)
{
    void *s;

    return ring_sc_dequeue_bulk(r->full, &s, 1) ? s : NULL;
}

static void slot_put(struct slot_ring *r, struct slot *s)
{
    void *p = s;

    ring_sp_enqueue_bulk(r->free, &p, 1);
}

static bool slot_ring_empty(const struct slot_ring *r)
{
    return ring_empty(r->full);
}

/* ------------------------------------------------------------- wake/wait */

/* [W1] Producer side: after publishing work, wake queue q if it sleeps. */
static void kick(struct memio *m, unsigned q)
{
    struct queue *qu = &m->q[q];

    atomic_thread_fence(memory_order_seq_cst);
    atomic_fetch_add(&qu->futex_word, 1);
    if (atomic_load(&qu->sleeping))
        syscall(SYS_futex, &qu->futex_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void kick_all(struct memio *m)
{
    for (unsigned q = 0; q < m->base.n_queues; q++)
        kick(m, q);
}

/* Does queue q read this feed, and has it packets left? */
static bool feed_ready(const struct feed_state *fs, unsigned q)
{
    const struct memio_feed *f = atomic_load_explicit(&fs->feed, memory_order_acquire);

    return f && f->n_msgs && (q == 0 || f->spread) &&
           (f->limit == 0 || atomic_load_explicit(&fs->pos, memory_order_relaxed) < f->limit);
}

static int ready_mask(struct memio *m, unsigned q)
{
    int r = 0;

    if (feed_ready(&m->tun_feed, q) || (q == 0 && !slot_ring_empty(&m->tun_inject)))
        r |= IO_READY_TUN;
    if (feed_ready(&m->udp_feed, q) ||
        (q == 0 && (!slot_ring_empty(&m->udp_inject) || !slot_ring_empty(&m->udp_link))))
        r |= IO_READY_UDP;
    if (atomic_exchange(&m->q[q].woken, false))
        r |= IO_READY_WAKE;
    return r;
}

static int m_wait(struct io_backend *io, unsigned queue, int timeout_ms)
{
    struct memio *m = (struct memio *)io;
    struct queue *qu;
    struct timespec ts = { timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L };
    uint32_t word;
    int r;

    if (queue >= io->n_queues)
        return -EINVAL;
    qu = &m->q[queue];
    if (!atomic_load_explicit(&qu->have_thread, memory_order_relaxed)) {
        qu->thread = pthread_self();
        atomic_store(&qu->have_thread, true);
    }
    /* [F1] Every burst of this queue before this call has finished with
     * what it read. */
    atomic_store_explicit(&qu->seen_gen, atomic_load_explicit(&m->gen, memory_order_acquire),
                          memory_order_release);
    r = ready_mask(m, queue);
    if (r || timeout_ms == 0)
        return r;
    atomic_store(&qu->sleeping, 1);                    /* [W1] */
    word = atomic_load(&qu->futex_word);
    atomic_thread_fence(memory_order_seq_cst);
    r = ready_mask(m, queue);
    if (!r) {
        syscall(SYS_futex, &qu->futex_word, FUTEX_WAIT_PRIVATE, word,
                timeout_ms < 0 ? NULL : &ts, NULL, 0);
        r = ready_mask(m, queue);
    }
    atomic_store(&qu->sleeping, 0);
    return r;
}

static void m_wake_queue(struct io_backend *io, unsigned queue)
{
    struct memio *m = (struct memio *)io;

    if (queue >= io->n_queues)
        return;
    atomic_store(&m->q[queue].woken, true);
    kick(m, queue);
}

static void m_wake(struct io_backend *io)
{
    for (unsigned q = 0; q < io->n_queues; q++)
        m_wake_queue(io, q);
}

/* -------------------------------------------------------------------- rx */

static void copy_in(struct pkt *p, unsigned queue, const uint8_t *data, uint32_t len,
                    const struct wb_endpoint *from)
{
    memcpy(p->data, data, len);
    p->len = len;
    p->queue = queue;
    if (from)
        p->remote = *from;
}

static unsigned rx_ring(struct slot_ring *r, unsigned queue, struct pkt **pkts, unsigned n,
                        const struct wb_endpoint *local)
{
    unsigned got = 0;
    struct slot *s;

    while (got < n && (s = slot_take(r))) {
        copy_in(pkts[got], queue, s->data, s->len, &s->ep);
        if (local)
            pkts[got]->local = *local;
        slot_put(r, s);
        got++;
    }
    return got;
}

/* Hand out up to n feed packets on queue q; returns how many. */
static unsigned rx_feed(struct memio *m, unsigned q, struct feed_state *fs, struct pkt **pkts,
                        unsigned n, bool tun)
{
    const struct memio_feed *f = atomic_load_explicit(&fs->feed, memory_order_acquire); /* [F1] */
    uint64_t pos, end;
    unsigned got;

    if (n == 0 || !f || f->n_msgs == 0 || (q != 0 && !f->spread))
        return 0;
    end = f->limit ? f->limit : UINT64_MAX;
    if (atomic_load_explicit(&fs->pos, memory_order_relaxed) >= end)
        return 0;
    /* Claim [pos, pos + n): may run past end (the rest is not handed out;
     * pos only ever compares against end afterwards). */
    pos = atomic_fetch_add_explicit(&fs->pos, n, memory_order_relaxed);
    if (pos >= end)
        return 0;
    got = end - pos < n ? (unsigned)(end - pos) : n;
    if (!tun && pos == 0)
        atomic_store_explicit(&m->udp_feed_start_ns, now_ns(), memory_order_relaxed);
    for (unsigned i = 0; i < got; i++, pos++) {
        const struct memio_msg *msg = &f->msgs[pos % f->n_msgs];

        copy_in(pkts[i], q, msg->data, msg->len, tun ? NULL : &msg->from);
        if (tun && f->n_dst > 1 && msg->len >= 20) {
            uint32_t dst = f->dst_base + (uint32_t)(pos % f->n_dst);
            uint8_t *d = pkts[i]->data + 16;

            d[0] = (uint8_t)(dst >> 24), d[1] = (uint8_t)(dst >> 16);
            d[2] = (uint8_t)(dst >> 8), d[3] = (uint8_t)dst;
        }
        if (!tun)
            pkts[i]->local = m->addr;
    }
    count(tun ? &m->q[q].c.tun_fed : &m->q[q].c.udp_fed, got);
    return got;
}

static int m_tun_rx(struct io_backend *io, unsigned queue, struct pkt **pkts, unsigned n)
{
    struct memio *m = (struct memio *)io;
    unsigned got = 0;

    if (queue >= io->n_queues)
        return -EINVAL;
    if (queue == 0)
        got = rx_ring(&m->tun_inject, queue, pkts, n, NULL);
    return (int)(got + rx_feed(m, queue, &m->tun_feed, pkts + got, n - got, true));
}

static int m_udp_rx(struct io_backend *io, unsigned queue, struct pkt **pkts, unsigned n)
{
    struct memio *m = (struct memio *)io;
    unsigned got = 0;

    if (queue >= io->n_queues)
        return -EINVAL;
    if (queue == 0) {
        got = rx_ring(&m->udp_link, queue, pkts, n, &m->addr);
        got += rx_ring(&m->udp_inject, queue, pkts + got, n - got, &m->addr);
    }
    return (int)(got + rx_feed(m, queue, &m->udp_feed, pkts + got, n - got, false));
}

/* -------------------------------------------------------------------- tx */

static int m_tun_tx(struct io_backend *io, unsigned queue, struct pkt **pkts, unsigned n)
{
    struct memio *m = (struct memio *)io;
    struct queue *qu;
    uint64_t bytes = 0;

    if (queue >= io->n_queues)
        return -EINVAL;
    qu = &m->q[queue];
    for (unsigned i = 0; i < n; i++)
        bytes += pkts[i]->len;
    count(&qu->c.tun_tx, n);
    count(&qu->c.tun_tx_bytes, bytes);
    atomic_store_explicit(&qu->c.tun_tx_last_ns, now_ns(), memory_order_relaxed);
    return (int)n;
}

static bool same_endpoint(const struct wb_endpoint *a, const struct wb_endpoint *b)
{
    return a->family == b->family && a->port == b->port &&
           memcmp(a->addr, b->addr, a->family == 4 ? 4 : 16) == 0;
}

/* To the linked backend's link ring (its source: our address), or to our
 * outbox (its destination kept). Any queue's worker, concurrently. */
static void forward(struct memio *m, struct queue *qu, const struct pkt *p)
{
    bool to_peer = m->peer && same_endpoint(&m->peer->addr, &p->remote);
    struct slot_ring *r = to_peer ? &m->peer->udp_link : &m->outbox;
    struct slot *s = p->len <= MEMIO_SLOT_DATA ? slot_get(r) : NULL;

    if (!s) {
        count(&qu->c.dropped, 1);
        return;
    }
    memcpy(s->data, p->data, p->len);
    s->len = p->len;
    s->ep = to_peer ? m->addr : p->remote;
    slot_push(r, s);
    if (to_peer)
        kick(m->peer, 0);
}

/* Any queue's worker, concurrently: each takes the next slot. */
static void capture(struct memio *m, struct queue *qu, const struct pkt *p)
{
    const struct memio_capture *cap = atomic_load_explicit(&m->capture, memory_order_acquire);
    uint64_t i;

    if (!cap || p->len > cap->slot_size ||
        (i = atomic_fetch_add_explicit(&m->capture_next, 1, memory_order_relaxed)) >= cap->cap) {
        count(&qu->c.dropped, 1);
        return;
    }
    memcpy(cap->arena + i * cap->slot_size, p->data, p->len);
    cap->msgs[i] = (struct memio_msg){ .data = cap->arena + i * cap->slot_size, .len = p->len,
                                       .from = m->addr };
    atomic_fetch_add_explicit(&m->captured, 1, memory_order_release);     /* [C1] */
}

static int m_udp_tx(struct io_backend *io, unsigned queue, struct pkt **pkts, unsigned n)
{
    struct memio *m = (struct memio *)io;
    int mode = atomic_load_explicit(&m->data_mode, memory_order_acquire);   /* [F1] */
    struct queue *qu;
    uint64_t data = 0, bytes = 0;

    if (queue >= io->n_queues)
        return -EINVAL;
    qu = &m->q[queue];
    for (unsigned i = 0; i < n; i++) {
        const struct pkt *p = pkts[i];

        if (p->len == 0 || p->data[0] != 4) {     /* MESSAGE_DATA */
            forward(m, qu, p);
            continue;
        }
        data++, bytes += p->len;
        if (mode == MEMIO_DATA_FORWARD)
            forward(m, qu, p);
        else if (mode == MEMIO_DATA_CAPTURE)
            capture(m, qu, p);
    }
    if (data) {
        count(&qu->c.udp_data_tx, data);
        count(&qu->c.udp_data_bytes, bytes);
        atomic_store_explicit(&qu->c.udp_tx_last_ns, now_ns(), memory_order_relaxed);
    }
    return (int)n;
}

/* ------------------------------------------------------------ control */

static int m_set_listen(struct io_backend *io, uint16_t port, uint32_t fwmark)
{
    (void)fwmark;
    ((struct memio *)io)->addr.port = port;   /* the datapath is paused */
    return 0;
}

static uint16_t m_listen_port(struct io_backend *io)
{
    return ((struct memio *)io)->addr.port;
}

static void m_destroy(struct io_backend *io)
{
    struct memio *m = (struct memio *)io;

    slot_ring_free(&m->tun_inject);
    slot_ring_free(&m->udp_inject);
    slot_ring_free(&m->udp_link);
    slot_ring_free(&m->outbox);
    free(m->q);
    free(m);
}

static const struct io_backend_ops memio_ops = {
    .name = "memio",
    .tun_rx_burst = m_tun_rx, .tun_tx_burst = m_tun_tx,
    .udp_rx_burst = m_udp_rx, .udp_tx_burst = m_udp_tx,
    .wait = m_wait, .wake = m_wake, .wake_queue = m_wake_queue,
    .set_listen = m_set_listen, .listen_port = m_listen_port, .destroy = m_destroy,
};

static void *alloc_lines(size_t bytes)
{
    void *p = aligned_alloc(CACHELINE, (bytes + CACHELINE - 1) & ~(size_t)(CACHELINE - 1));

    if (p)
        memset(p, 0, bytes);
    return p;
}

struct memio *memio_create(const struct wb_endpoint *addr, unsigned n_queues)
{
    struct memio *m;

    if (n_queues < 1 || n_queues > MEMIO_MAX_QUEUES || !(m = alloc_lines(sizeof(*m))))
        return NULL;
    m->base.ops = &memio_ops;
    m->base.n_queues = n_queues;
    m->addr = *addr;
    if (!(m->q = alloc_lines(n_queues * sizeof(*m->q))) || slot_ring_init(&m->tun_inject) ||
        slot_ring_init(&m->udp_inject) || slot_ring_init(&m->udp_link) ||
        slot_ring_init(&m->outbox)) {
        m_destroy(&m->base);
        return NULL;
    }
    return m;
}

struct io_backend *memio_backend(struct memio *m)
{
    return &m->base;
}

void memio_link(struct memio *a, struct memio *b)
{
    a->peer = b;
    b->peer = a;
}

/* ---------------------------------------------------- benchmark thread */

static int inject(struct memio *m, struct slot_ring *r, const uint8_t *pkt, uint32_t len,
                  const struct wb_endpoint *from)
{
    struct slot *s;

    if (len > MEMIO_SLOT_DATA)
        return -EMSGSIZE;
    if (!(s = slot_get(r)))
        return -ENOBUFS;
    memcpy(s->data, pkt, len);
    s->len = len;
    if (from)
        s->ep = *from;
    slot_push(r, s);
    kick(m, 0);
    return 0;
}

int memio_inject_tun(struct memio *m, const uint8_t *pkt, uint32_t len)
{
    return inject(m, &m->tun_inject, pkt, len, NULL);
}

int memio_inject_udp(struct memio *m, const uint8_t *pkt, uint32_t len,
                     const struct wb_endpoint *from)
{
    return inject(m, &m->udp_inject, pkt, len, from);
}

uint32_t memio_outbox_pop(struct memio *m, uint8_t *buf, uint32_t cap, struct wb_endpoint *to)
{
    struct slot *s = slot_take(&m->outbox);
    uint32_t len;

    if (!s)
        return 0;
    len = s->len < cap ? s->len : cap;
    memcpy(buf, s->data, len);
    *to = s->ep;
    slot_put(&m->outbox, s);
    return len;
}

void memio_quiesce(struct memio *m)
{
    uint32_t g = atomic_fetch_add(&m->gen, 1) + 1;
    struct timespec ts = { 0, 100000 };

    m_wake(&m->base);
    for (unsigned q = 0; q < m->base.n_queues; q++)
        while ((int32_t)(atomic_load_explicit(&m->q[q].seen_gen, memory_order_acquire) - g) < 0)
            nanosleep(&ts, NULL);
}

/* Stop the old feed, reset the position while nobody reads it, publish. */
static void set_feed(struct memio *m, struct feed_state *fs, const struct memio_feed *f)
{
    atomic_store_explicit(&fs->feed, NULL, memory_order_release);
    memio_quiesce(m);
    atomic_store_explicit(&fs->pos, 0, memory_order_relaxed);
    if (fs == &m->udp_feed)
        atomic_store_explicit(&m->udp_feed_start_ns, 0, memory_order_relaxed);
    atomic_store_explicit(&fs->feed, f, memory_order_release);      /* [F1] */
    if (f && f->spread)
        kick_all(m);
    else if (f)
        kick(m, 0);
}

void memio_feed_tun(struct memio *m, const struct memio_feed *f)
{
    set_feed(m, &m->tun_feed, f);
}

void memio_feed_udp(struct memio *m, const struct memio_feed *f)
{
    set_feed(m, &m->udp_feed, f);
}

void memio_set_data_mode(struct memio *m, enum memio_data_mode mode,
                         const struct memio_capture *cap)
{
    atomic_store_explicit(&m->data_mode, MEMIO_DATA_COUNT, memory_order_release);
    atomic_store_explicit(&m->capture, NULL, memory_order_release);
    memio_quiesce(m);
    atomic_store_explicit(&m->capture_next, 0, memory_order_relaxed);
    atomic_store_explicit(&m->captured, 0, memory_order_relaxed);
    atomic_store_explicit(&m->capture, cap, memory_order_release);
    atomic_store_explicit(&m->data_mode, (int)mode, memory_order_release);   /* [F1] */
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

void memio_counters(struct memio *m, struct memio_counters *o)
{
    memset(o, 0, sizeof(*o));
    for (unsigned q = 0; q < m->base.n_queues; q++) {
        struct queue *qu = &m->q[q];

        o->tun_tx += atomic_load(&qu->c.tun_tx);
        o->tun_tx_bytes += atomic_load(&qu->c.tun_tx_bytes);
        o->udp_data_tx += atomic_load(&qu->c.udp_data_tx);
        o->udp_data_bytes += atomic_load(&qu->c.udp_data_bytes);
        o->dropped += atomic_load(&qu->c.dropped);
        o->tun_fed += atomic_load(&qu->c.tun_fed);
        o->udp_fed += atomic_load(&qu->c.udp_fed);
        o->tun_tx_last_ns = max_u64(o->tun_tx_last_ns, atomic_load(&qu->c.tun_tx_last_ns));
        o->udp_tx_last_ns = max_u64(o->udp_tx_last_ns, atomic_load(&qu->c.udp_tx_last_ns));
    }
    o->captured = atomic_load(&m->captured);                              /* [C1] */
    o->udp_feed_start_ns = atomic_load(&m->udp_feed_start_ns);
}

int64_t memio_queue_cpu_ns(struct memio *m, unsigned q)
{
    clockid_t cid;
    struct timespec ts;

    if (q >= m->base.n_queues || !atomic_load(&m->q[q].have_thread) ||
        pthread_getcpuclockid(m->q[q].thread, &cid) != 0 || clock_gettime(cid, &ts) != 0)
        return -1;
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

int64_t memio_thread_cpu_ns(struct memio *m)
{
    int64_t sum = -1;

    for (unsigned q = 0; q < m->base.n_queues; q++) {
        int64_t t = memio_queue_cpu_ns(m, q);

        if (t >= 0)
            sum = (sum < 0 ? 0 : sum) + t;
    }
    return sum;
}
