/* SPDX-License-Identifier: MIT */
/*
 * memio.c - the benchmarks' in-memory io_backend (memio.h): preallocated
 * single-producer/single-consumer rings, feeds that hand out prebuilt
 * packets, counting and capturing sinks, and a futex wait.
 *
 * Concurrency: see memio.h. Ring indexes are free-running 32-bit counters;
 * the producer owns tail, the consumer owns head, each on its own cache
 * line. Labels pair the release stores with the acquire loads that read
 * them: [R1] slot written -> tail published, [R2] slot read -> head
 * published, [F1] feed/mode published -> seen by the datapath thread,
 * [W1] the futex eventcount (Dekker: each side stores, fences, loads).
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

#include "memio.h"

#define RING_SLOTS 1024            /* power of two */
#define CACHELINE 64

struct slot {
    uint32_t len;
    struct wb_endpoint ep;         /* rx: source; outbox: destination */
    uint8_t data[MEMIO_SLOT_DATA];
};

struct ring {
    _Alignas(CACHELINE) _Atomic uint32_t head;   /* consumer */
    _Alignas(CACHELINE) _Atomic uint32_t tail;   /* producer */
    _Alignas(CACHELINE) struct slot *slots;
};

/* A feed's progress: written by the datapath thread while the feed is
 * published, by the benchmark thread only after quiescing it. */
struct feed_state {
    _Atomic(const struct memio_feed *) feed;
    uint64_t pos;
};

struct memio {
    struct io_backend base;        /* first: the device hands us this pointer */
    struct wb_endpoint addr;
    struct memio *peer;            /* linked backend, or NULL */
    struct ring tun_inject, udp_inject, udp_link, outbox;
    struct feed_state tun_feed, udp_feed;

    _Atomic int data_mode;         /* enum memio_data_mode */
    _Atomic(const struct memio_capture *) capture;

    _Atomic uint32_t gen, seen_gen;/* [F1] changes published / seen */
    _Atomic uint32_t futex_word;   /* [W1] bumped on every kick */
    _Atomic int sleeping;
    atomic_bool woken;

    atomic_bool have_thread;
    pthread_t thread;              /* the datapath thread, once it called in */

    struct {
        _Atomic uint64_t tun_tx, tun_tx_bytes, udp_data_tx, udp_data_bytes, captured, dropped;
        _Atomic uint64_t tun_fed, udp_fed, tun_tx_last_ns, udp_tx_last_ns, udp_feed_start_ns;
    } c;
};

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Counters have one writer: a relaxed add is a plain add plus visibility. */
static void count(_Atomic uint64_t *c, uint64_t v)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
                          memory_order_relaxed);
}

/* ------------------------------------------------------------------ rings */

static int ring_init(struct ring *r)
{
    r->slots = calloc(RING_SLOTS, sizeof(*r->slots));
    return r->slots ? 0 : -ENOMEM;
}

/* Producer: the slot to fill, or NULL when full; ring_push publishes it. */
static struct slot *ring_slot(struct ring *r)
{
    uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint32_t h = atomic_load_explicit(&r->head, memory_order_acquire);   /* [R2] */

    return t - h == RING_SLOTS ? NULL : &r->slots[t & (RING_SLOTS - 1)];
}

static void ring_push(struct ring *r)
{
    uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);

    atomic_store_explicit(&r->tail, t + 1, memory_order_release);       /* [R1] */
}

/* Consumer: the oldest slot, or NULL when empty; ring_pop releases it. */
static struct slot *ring_peek(struct ring *r)
{
    uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint32_t t = atomic_load_explicit(&r->tail, memory_order_acquire);   /* [R1] */

    return h == t ? NULL : &r->slots[h & (RING_SLOTS - 1)];
}

static void ring_pop(struct ring *r)
{
    uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);

    atomic_store_explicit(&r->head, h + 1, memory_order_release);       /* [R2] */
}

static bool ring_empty(struct ring *r)
{
    return atomic_load_explicit(&r->head, memory_order_relaxed) ==
           atomic_load_explicit(&r->tail, memory_order_acquire);
}

/* ------------------------------------------------------------- wake/wait */

/* [W1] Producer side: after publishing work, wake a sleeping consumer. */
static void kick(struct memio *m)
{
    atomic_thread_fence(memory_order_seq_cst);
    atomic_fetch_add(&m->futex_word, 1);
    if (atomic_load(&m->sleeping))
        syscall(SYS_futex, &m->futex_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static bool feed_ready(struct feed_state *fs)
{
    const struct memio_feed *f = atomic_load_explicit(&fs->feed, memory_order_acquire);

    return f && (f->limit == 0 || fs->pos < f->limit);
}

static int ready_mask(struct memio *m)
{
    int r = 0;

    if (feed_ready(&m->tun_feed) || !ring_empty(&m->tun_inject))
        r |= IO_READY_TUN;
    if (feed_ready(&m->udp_feed) || !ring_empty(&m->udp_inject) || !ring_empty(&m->udp_link))
        r |= IO_READY_UDP;
    if (atomic_exchange(&m->woken, false))
        r |= IO_READY_WAKE;
    return r;
}

static int m_wait(struct io_backend *io, unsigned queue, int timeout_ms)
{
    struct memio *m = (struct memio *)io;
    struct timespec ts = { timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L };
    uint32_t word;
    int r;

    (void)queue;
    if (!atomic_load_explicit(&m->have_thread, memory_order_relaxed)) {
        m->thread = pthread_self();
        atomic_store(&m->have_thread, true);
    }
    /* [F1] Every burst before this call has finished with what it read. */
    atomic_store_explicit(&m->seen_gen, atomic_load_explicit(&m->gen, memory_order_acquire),
                          memory_order_release);
    r = ready_mask(m);
    if (r || timeout_ms == 0)
        return r;
    atomic_store(&m->sleeping, 1);                     /* [W1] */
    word = atomic_load(&m->futex_word);
    atomic_thread_fence(memory_order_seq_cst);
    r = ready_mask(m);
    if (!r) {
        syscall(SYS_futex, &m->futex_word, FUTEX_WAIT_PRIVATE, word, &ts, NULL, 0);
        r = ready_mask(m);
    }
    atomic_store(&m->sleeping, 0);
    return r;
}

static void m_wake(struct io_backend *io)
{
    struct memio *m = (struct memio *)io;

    atomic_store(&m->woken, true);
    kick(m);
}

/* -------------------------------------------------------------------- rx */

static void copy_in(struct pkt *p, const uint8_t *data, uint32_t len, const struct wb_endpoint *from)
{
    memcpy(p->data, data, len);
    p->len = len;
    if (from)
        p->remote = *from;
}

static unsigned rx_ring(struct ring *r, struct pkt **pkts, unsigned n, const struct wb_endpoint *local)
{
    unsigned got = 0;
    struct slot *s;

    while (got < n && (s = ring_peek(r))) {
        copy_in(pkts[got], s->data, s->len, &s->ep);
        if (local)
            pkts[got]->local = *local;
        ring_pop(r);
        got++;
    }
    return got;
}

/* Hand out up to n feed packets; returns how many. */
static unsigned rx_feed(struct memio *m, struct feed_state *fs, struct pkt **pkts, unsigned n,
                        bool tun)
{
    const struct memio_feed *f = atomic_load_explicit(&fs->feed, memory_order_acquire); /* [F1] */
    uint64_t pos = fs->pos, end;
    unsigned got = 0;

    if (!f || f->n_msgs == 0)
        return 0;
    end = f->limit ? f->limit : UINT64_MAX;
    if (!tun && pos == 0 && end > 0)
        atomic_store_explicit(&m->c.udp_feed_start_ns, now_ns(), memory_order_relaxed);
    for (; got < n && pos < end; got++, pos++) {
        const struct memio_msg *msg = &f->msgs[pos % f->n_msgs];

        copy_in(pkts[got], msg->data, msg->len, tun ? NULL : &msg->from);
        if (tun && f->n_dst > 1 && msg->len >= 20) {
            uint32_t dst = f->dst_base + (uint32_t)(pos % f->n_dst);
            uint8_t *d = pkts[got]->data + 16;

            d[0] = (uint8_t)(dst >> 24), d[1] = (uint8_t)(dst >> 16);
            d[2] = (uint8_t)(dst >> 8), d[3] = (uint8_t)dst;
        }
        if (!tun)
            pkts[got]->local = m->addr;
    }
    fs->pos = pos;
    count(tun ? &m->c.tun_fed : &m->c.udp_fed, got);
    return got;
}

static int m_tun_rx(struct io_backend *io, unsigned queue, struct pkt **pkts, unsigned n)
{
    struct memio *m = (struct memio *)io;
    unsigned got = rx_ring(&m->tun_inject, pkts, n, NULL);

    (void)queue;
    return (int)(got + rx_feed(m, &m->tun_feed, pkts + got, n - got, true));
}

static int m_udp_rx(struct io_backend *io, unsigned queue, struct pkt **pkts, unsigned n)
{
    struct memio *m = (struct memio *)io;
    unsigned got = rx_ring(&m->udp_link, pkts, n, &m->addr);

    (void)queue;
    got += rx_ring(&m->udp_inject, pkts + got, n - got, &m->addr);
    return (int)(got + rx_feed(m, &m->udp_feed, pkts + got, n - got, false));
}

/* -------------------------------------------------------------------- tx */

static int m_tun_tx(struct io_backend *io, unsigned queue, struct pkt **pkts, unsigned n)
{
    struct memio *m = (struct memio *)io;
    uint64_t bytes = 0;

    (void)queue;
    for (unsigned i = 0; i < n; i++)
        bytes += pkts[i]->len;
    count(&m->c.tun_tx, n);
    count(&m->c.tun_tx_bytes, bytes);
    atomic_store_explicit(&m->c.tun_tx_last_ns, now_ns(), memory_order_relaxed);
    return (int)n;
}

static bool same_endpoint(const struct wb_endpoint *a, const struct wb_endpoint *b)
{
    return a->family == b->family && a->port == b->port &&
           memcmp(a->addr, b->addr, a->family == 4 ? 4 : 16) == 0;
}

/* To the linked backend's link ring (its source: our address), or to our
 * outbox (its destination kept). */
static void forward(struct memio *m, const struct pkt *p)
{
    bool to_peer = m->peer && same_endpoint(&m->peer->addr, &p->remote);
    struct ring *r = to_peer ? &m->peer->udp_link : &m->outbox;
    struct slot *s = p->len <= MEMIO_SLOT_DATA ? ring_slot(r) : NULL;

    if (!s) {
        count(&m->c.dropped, 1);
        return;
    }
    memcpy(s->data, p->data, p->len);
    s->len = p->len;
    s->ep = to_peer ? m->addr : p->remote;
    ring_push(r);
    if (to_peer)
        kick(m->peer);
}

static void capture(struct memio *m, const struct pkt *p)
{
    const struct memio_capture *cap = atomic_load_explicit(&m->capture, memory_order_acquire);
    uint64_t i = atomic_load_explicit(&m->c.captured, memory_order_relaxed);

    if (!cap || i >= cap->cap || p->len > cap->slot_size) {
        count(&m->c.dropped, 1);
        return;
    }
    memcpy(cap->arena + i * cap->slot_size, p->data, p->len);
    cap->msgs[i] = (struct memio_msg){ .data = cap->arena + i * cap->slot_size, .len = p->len,
                                       .from = m->addr };
    atomic_store_explicit(&m->c.captured, i + 1, memory_order_release);
}

static int m_udp_tx(struct io_backend *io, unsigned queue, struct pkt **pkts, unsigned n)
{
    struct memio *m = (struct memio *)io;
    int mode = atomic_load_explicit(&m->data_mode, memory_order_acquire);   /* [F1] */
    uint64_t data = 0, bytes = 0;

    (void)queue;
    for (unsigned i = 0; i < n; i++) {
        const struct pkt *p = pkts[i];

        if (p->len == 0 || p->data[0] != 4) {     /* MESSAGE_DATA */
            forward(m, p);
            continue;
        }
        data++, bytes += p->len;
        if (mode == MEMIO_DATA_FORWARD)
            forward(m, p);
        else if (mode == MEMIO_DATA_CAPTURE)
            capture(m, p);
    }
    if (data) {
        count(&m->c.udp_data_tx, data);
        count(&m->c.udp_data_bytes, bytes);
        atomic_store_explicit(&m->c.udp_tx_last_ns, now_ns(), memory_order_relaxed);
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

    free(m->tun_inject.slots);
    free(m->udp_inject.slots);
    free(m->udp_link.slots);
    free(m->outbox.slots);
    free(m);
}

static const struct io_backend_ops memio_ops = {
    .name = "memio",
    .tun_rx_burst = m_tun_rx, .tun_tx_burst = m_tun_tx,
    .udp_rx_burst = m_udp_rx, .udp_tx_burst = m_udp_tx,
    .wait = m_wait, .wake = m_wake, .set_listen = m_set_listen,
    .listen_port = m_listen_port, .destroy = m_destroy,
};

struct memio *memio_create(const struct wb_endpoint *addr)
{
    struct memio *m = aligned_alloc(CACHELINE, (sizeof(*m) + CACHELINE - 1) & ~(size_t)(CACHELINE - 1));

    if (!m)
        return NULL;
    memset(m, 0, sizeof(*m));
    m->base.ops = &memio_ops;
    m->base.n_queues = 1;
    m->addr = *addr;
    if (ring_init(&m->tun_inject) || ring_init(&m->udp_inject) || ring_init(&m->udp_link) ||
        ring_init(&m->outbox)) {
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

static int inject(struct memio *m, struct ring *r, const uint8_t *pkt, uint32_t len,
                  const struct wb_endpoint *from)
{
    struct slot *s;

    if (len > MEMIO_SLOT_DATA)
        return -EMSGSIZE;
    if (!(s = ring_slot(r)))
        return -ENOBUFS;
    memcpy(s->data, pkt, len);
    s->len = len;
    if (from)
        s->ep = *from;
    ring_push(r);
    kick(m);
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
    struct slot *s = ring_peek(&m->outbox);
    uint32_t len;

    if (!s)
        return 0;
    len = s->len < cap ? s->len : cap;
    memcpy(buf, s->data, len);
    *to = s->ep;
    ring_pop(&m->outbox);
    return len;
}

void memio_quiesce(struct memio *m)
{
    uint32_t g = atomic_fetch_add(&m->gen, 1) + 1;
    struct timespec ts = { 0, 100000 };

    m_wake(&m->base);
    while ((int32_t)(atomic_load_explicit(&m->seen_gen, memory_order_acquire) - g) < 0)
        nanosleep(&ts, NULL);
}

/* Stop the old feed, reset the position while nobody reads it, publish. */
static void set_feed(struct memio *m, struct feed_state *fs, const struct memio_feed *f)
{
    atomic_store_explicit(&fs->feed, NULL, memory_order_release);
    memio_quiesce(m);
    fs->pos = 0;
    atomic_store_explicit(&fs->feed, f, memory_order_release);      /* [F1] */
    if (f)
        kick(m);
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
    atomic_store_explicit(&m->c.captured, 0, memory_order_relaxed);
    atomic_store_explicit(&m->capture, cap, memory_order_release);
    atomic_store_explicit(&m->data_mode, (int)mode, memory_order_release);   /* [F1] */
}

void memio_counters(struct memio *m, struct memio_counters *o)
{
    o->tun_tx = atomic_load(&m->c.tun_tx);
    o->tun_tx_bytes = atomic_load(&m->c.tun_tx_bytes);
    o->udp_data_tx = atomic_load(&m->c.udp_data_tx);
    o->udp_data_bytes = atomic_load(&m->c.udp_data_bytes);
    o->captured = atomic_load(&m->c.captured);
    o->dropped = atomic_load(&m->c.dropped);
    o->tun_fed = atomic_load(&m->c.tun_fed);
    o->udp_fed = atomic_load(&m->c.udp_fed);
    o->tun_tx_last_ns = atomic_load(&m->c.tun_tx_last_ns);
    o->udp_tx_last_ns = atomic_load(&m->c.udp_tx_last_ns);
    o->udp_feed_start_ns = atomic_load(&m->c.udp_feed_start_ns);
}

int64_t memio_thread_cpu_ns(struct memio *m)
{
    clockid_t cid;
    struct timespec ts;

    if (!atomic_load(&m->have_thread) || pthread_getcpuclockid(m->thread, &cid) != 0 ||
        clock_gettime(cid, &ts) != 0)
        return -1;
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}
