/* SPDX-License-Identifier: MIT */
/*
 * fuzz_memio.c - the in-memory backend of fuzz_device (fuzz_memio.h):
 * FIFOs of fixed slots under one mutex, a condition variable for wait().
 */
#include "fuzz_memio.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct slot {
    uint32_t len;
    struct wb_endpoint ep;         /* rx: the source; outbox: the destination */
    uint8_t data[FUZZ_MEMIO_SLOT];
};

struct fifo {
    struct slot *slots;
    unsigned cap, head, n;
};

struct fuzz_memio {
    struct io_backend base;        /* first: the device hands us this pointer */
    struct wb_endpoint addr;
    uint16_t listen_port;
    pthread_mutex_t lock;
    pthread_cond_t cond;           /* wait() sleeps here */
    struct fifo udp_in, tun_in, out;
    bool woken, sleeping;
    struct fuzz_memio_counters c;
    void (*on_paused)(void *ctx);
    void *on_paused_ctx;
};

static int fifo_init(struct fifo *f, unsigned cap)
{
    f->slots = calloc(cap, sizeof(*f->slots));
    f->cap = cap;
    f->head = f->n = 0;
    return f->slots ? 0 : -ENOMEM;
}

/* The slot to fill at the tail, or NULL when full; fifo_push commits it. */
static struct slot *fifo_tail(struct fifo *f)
{
    return f->n < f->cap ? &f->slots[(f->head + f->n) % f->cap] : NULL;
}

static void fifo_push(struct fifo *f)
{
    f->n++;
}

static struct slot *fifo_head(struct fifo *f)
{
    return f->n ? &f->slots[f->head] : NULL;
}

static void fifo_pop(struct fifo *f)
{
    f->head = (f->head + 1) % f->cap;
    f->n--;
}

/* m->lock held. */
static int ready_mask(struct fuzz_memio *m)
{
    int r = 0;

    if (m->tun_in.n)
        r |= IO_READY_TUN;
    if (m->udp_in.n)
        r |= IO_READY_UDP;
    if (m->woken) {
        m->woken = false;
        r |= IO_READY_WAKE;
    }
    return r;
}

static void deadline_in(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static int m_wait(struct io_backend *io, unsigned queue, int timeout_ms)
{
    struct fuzz_memio *m = (struct fuzz_memio *)io;
    struct timespec ts;
    int r;

    if (queue >= io->n_queues)
        return -EINVAL;
    if (timeout_ms > 0)
        deadline_in(&ts, timeout_ms);
    pthread_mutex_lock(&m->lock);
    r = ready_mask(m);
    while (!r && timeout_ms != 0) {
        m->sleeping = true;
        if (timeout_ms < 0)
            pthread_cond_wait(&m->cond, &m->lock);
        else if (pthread_cond_timedwait(&m->cond, &m->lock, &ts) == ETIMEDOUT)
            timeout_ms = 0;
        m->sleeping = false;
        r = ready_mask(m);
    }
    pthread_mutex_unlock(&m->lock);
    return r;
}

static void m_wake(struct io_backend *io)
{
    struct fuzz_memio *m = (struct fuzz_memio *)io;

    pthread_mutex_lock(&m->lock);
    m->woken = true;
    pthread_cond_broadcast(&m->cond);
    pthread_mutex_unlock(&m->lock);
}

static void m_wake_queue(struct io_backend *io, unsigned queue)
{
    m_wake(io);
}

/* Copy up to n packets of f into the device's buffers; m->lock held. */
static int rx_from(struct fuzz_memio *m, struct fifo *f, struct pkt **pkts, unsigned n, bool udp)
{
    unsigned got = 0;
    struct slot *s;

    while (got < n && (s = fifo_head(f))) {
        struct pkt *p = pkts[got];

        if (s->len > pkt_room(p)) {
            m->c.rx_too_big++;     /* as a backend must (pkt.h): drop and count */
            fifo_pop(f);
            continue;
        }
        memcpy(p->data, s->data, s->len);
        p->len = s->len;
        p->queue = 0;
        if (udp) {
            p->remote = s->ep;
            p->local = m->addr;
        }
        fifo_pop(f);
        got++;
    }
    if (got)
        m->c.activity++;
    return (int)got;
}

static int m_tun_rx(struct io_backend *io, unsigned queue, struct pkt **pkts, unsigned n)
{
    struct fuzz_memio *m = (struct fuzz_memio *)io;
    int got;

    pthread_mutex_lock(&m->lock);
    got = rx_from(m, &m->tun_in, pkts, n, false);
    m->c.tun_rx += (uint64_t)got;
    pthread_mutex_unlock(&m->lock);
    return got;
}

static int m_udp_rx(struct io_backend *io, unsigned queue, struct pkt **pkts, unsigned n)
{
    struct fuzz_memio *m = (struct fuzz_memio *)io;
    int got;

    pthread_mutex_lock(&m->lock);
    got = rx_from(m, &m->udp_in, pkts, n, true);
    m->c.udp_rx += (uint64_t)got;
    pthread_mutex_unlock(&m->lock);
    return got;
}

static int m_tun_tx(struct io_backend *io, unsigned queue, struct pkt **pkts, unsigned n)
{
    struct fuzz_memio *m = (struct fuzz_memio *)io;

    pthread_mutex_lock(&m->lock);
    m->c.tun_tx += n;
    if (n)
        m->c.activity++;
    pthread_mutex_unlock(&m->lock);
    return (int)n;
}

static int m_udp_tx(struct io_backend *io, unsigned queue, struct pkt **pkts, unsigned n)
{
    struct fuzz_memio *m = (struct fuzz_memio *)io;

    pthread_mutex_lock(&m->lock);
    for (unsigned i = 0; i < n; i++) {
        struct slot *s = pkts[i]->len <= FUZZ_MEMIO_SLOT ? fifo_tail(&m->out) : NULL;

        if (!s) {
            m->c.outbox_full++;
            continue;
        }
        memcpy(s->data, pkts[i]->data, pkts[i]->len);
        s->len = pkts[i]->len;
        s->ep = pkts[i]->remote;
        fifo_push(&m->out);
    }
    m->c.udp_tx += n;
    if (n)
        m->c.activity++;
    pthread_mutex_unlock(&m->lock);
    return (int)n;
}

/* Called by the device with its datapath paused (device.c, set_listen). */
static int m_set_listen(struct io_backend *io, uint16_t port, uint32_t fwmark)
{
    struct fuzz_memio *m = (struct fuzz_memio *)io;

    m->listen_port = port;
    if (m->on_paused)
        m->on_paused(m->on_paused_ctx);
    return 0;
}

static uint16_t m_listen_port(struct io_backend *io)
{
    return ((struct fuzz_memio *)io)->listen_port;
}

static void m_destroy(struct io_backend *io)
{
    struct fuzz_memio *m = (struct fuzz_memio *)io;

    free(m->udp_in.slots);
    free(m->tun_in.slots);
    free(m->out.slots);
    pthread_cond_destroy(&m->cond);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static const struct io_backend_ops fuzz_memio_ops = {
    .name = "fuzz-memio",
    .tun_rx_burst = m_tun_rx, .tun_tx_burst = m_tun_tx,
    .udp_rx_burst = m_udp_rx, .udp_tx_burst = m_udp_tx,
    .wait = m_wait, .wake = m_wake, .wake_queue = m_wake_queue,
    .set_listen = m_set_listen, .listen_port = m_listen_port, .destroy = m_destroy,
};

struct fuzz_memio *fuzz_memio_create(const struct wb_endpoint *addr)
{
    struct fuzz_memio *m = calloc(1, sizeof(*m));

    if (!m)
        return NULL;
    m->base.ops = &fuzz_memio_ops;
    m->base.n_queues = 1;
    m->addr = *addr;
    m->listen_port = addr->port;
    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->cond, NULL);
    if (fifo_init(&m->udp_in, FUZZ_MEMIO_RX_SLOTS) < 0 ||
        fifo_init(&m->tun_in, FUZZ_MEMIO_RX_SLOTS) < 0 ||
        fifo_init(&m->out, FUZZ_MEMIO_OUT_SLOTS) < 0) {
        m_destroy(&m->base);
        return NULL;
    }
    return m;
}

struct io_backend *fuzz_memio_backend(struct fuzz_memio *m)
{
    return &m->base;
}

static int inject(struct fuzz_memio *m, struct fifo *f, const uint8_t *data, size_t len,
                  const struct wb_endpoint *from)
{
    struct slot *s;
    int ret = 0;

    if (len > FUZZ_MEMIO_SLOT)
        return -EMSGSIZE;
    pthread_mutex_lock(&m->lock);
    s = fifo_tail(f);
    if (s) {
        memcpy(s->data, data, len);
        s->len = (uint32_t)len;
        if (from)
            s->ep = *from;
        fifo_push(f);
        pthread_cond_broadcast(&m->cond);
    } else {
        ret = -ENOBUFS;
    }
    pthread_mutex_unlock(&m->lock);
    return ret;
}

int fuzz_memio_inject_udp(struct fuzz_memio *m, const uint8_t *data, size_t len,
                          const struct wb_endpoint *from)
{
    return inject(m, &m->udp_in, data, len, from);
}

int fuzz_memio_inject_tun(struct fuzz_memio *m, const uint8_t *data, size_t len)
{
    return inject(m, &m->tun_in, data, len, NULL);
}

size_t fuzz_memio_outbox_pop(struct fuzz_memio *m, uint8_t *buf, size_t cap,
                             struct wb_endpoint *to)
{
    struct slot *s;
    size_t len = 0;

    pthread_mutex_lock(&m->lock);
    s = fifo_head(&m->out);
    if (s) {
        len = s->len < cap ? s->len : cap;
        memcpy(buf, s->data, len);
        *to = s->ep;
        fifo_pop(&m->out);
    }
    pthread_mutex_unlock(&m->lock);
    return len;
}

bool fuzz_memio_idle(struct fuzz_memio *m)
{
    bool idle;

    pthread_mutex_lock(&m->lock);
    idle = m->sleeping && !m->woken && !m->udp_in.n && !m->tun_in.n;
    pthread_mutex_unlock(&m->lock);
    return idle;
}

bool fuzz_memio_rx_empty(struct fuzz_memio *m)
{
    bool empty;

    pthread_mutex_lock(&m->lock);
    empty = !m->udp_in.n && !m->tun_in.n;
    pthread_mutex_unlock(&m->lock);
    return empty;
}

void fuzz_memio_counters(struct fuzz_memio *m, struct fuzz_memio_counters *out)
{
    pthread_mutex_lock(&m->lock);
    *out = m->c;
    pthread_mutex_unlock(&m->lock);
}

void fuzz_memio_on_paused(struct fuzz_memio *m, void (*fn)(void *ctx), void *ctx)
{
    pthread_mutex_lock(&m->lock);
    m->on_paused = fn;
    m->on_paused_ctx = ctx;
    pthread_mutex_unlock(&m->lock);
}
