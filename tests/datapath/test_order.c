/* SPDX-License-Identifier: MIT */
/*
 * test_order.c - per-peer order under parallel crypto. Two devices, each
 * with W workers (W = 1 .. the CPU count, and 4), joined by an in-memory
 * multi-queue network. One peer's packets enter one TUN queue in order
 * (as one flow does in the kernel) while every worker runs crypto jobs;
 * both directions at once. Checks:
 *   - on the wire, every data message of a sender carries a counter
 *     larger than the one before (the nonce order is the send order);
 *   - at the receiver's TUN, every packet arrives exactly once and in the
 *     order it was sent;
 *   - one peer's packets leave through one queue only (their home
 *     worker's: packets sent from two CPUs overtake each other in the
 *     kernel's per-CPU backlogs);
 *   - nothing is dropped for want of a buffer, and crypto jobs really ran
 *     on more than one worker when there are several.
 * No root; no timing assertions (every wait is "until it happens, or fail
 * after a generous deadline").
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <stdio.h>

#include "check.h"
#include "datapath/device.h"
#include "datapath/device_impl.h"
#include "datapath/io.h"
#include "proto/byteorder.h"
#include "proto/messages.h"

#define N_PKTS 20000
#define QCAP 32768                 /* above N_PKTS: this network never drops */
#define MAX_Q 8

/* ------------------------------------------------- in-memory network */

struct fifo {
    struct pkt *v[QCAP];
    unsigned head, n;
};

struct host {
    struct io_backend base;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct fifo tun_in[MAX_Q], udp_in[MAX_Q];
    bool woken[MAX_Q];
    struct wb_endpoint addr;
    struct host *peer;
    /* What left, in the order it left (under lock). */
    uint32_t tun_seq_next;         /* next sequence number expected at our TUN */
    unsigned tun_got, tun_bad;
    uint64_t last_counter;
    bool have_counter;
    unsigned udp_bad_order;
    unsigned data_queues, tun_queues;   /* bit q: data left / packets arrived through queue q */
};

static bool fifo_push(struct fifo *f, struct pkt *p)
{
    if (f->n == QCAP)
        return false;
    f->v[(f->head + f->n++) % QCAP] = p;
    return true;
}

static struct pkt *fifo_pop(struct fifo *f)
{
    struct pkt *p;

    if (!f->n)
        return NULL;
    p = f->v[f->head];
    f->head = (f->head + 1) % QCAP;
    f->n--;
    return p;
}

/* A heap buffer just large enough (pkt_alloc's 64 KiB each would make
 * 40000 packets in flight gigabytes). */
static struct pkt *small_pkt(size_t len)
{
    void *mem = malloc(pkt_size(len));

    if (!mem)
        abort();
    return pkt_init(mem, len);
}

static struct pkt *copy_of(const struct pkt *src)
{
    struct pkt *p = small_pkt(src->len);

    memcpy(p->data, src->data, src->len);
    p->len = src->len;
    p->remote = src->remote;
    p->local = src->local;
    return p;
}

static int rx(struct host *h, struct fifo *f, struct pkt **pkts, unsigned n)
{
    unsigned got = 0;

    pthread_mutex_lock(&h->lock);
    for (struct pkt *p; got < n && (p = fifo_pop(f)); got++) {
        memcpy(pkts[got]->data, p->data, p->len);
        pkts[got]->len = p->len;
        pkts[got]->remote = p->remote;
        pkts[got]->local = p->local;
        pkt_free(p);
    }
    pthread_mutex_unlock(&h->lock);
    return (int)got;
}

static int h_tun_rx(struct io_backend *io, unsigned q, struct pkt **pkts, unsigned n)
{
    struct host *h = (struct host *)io;
    return rx(h, &h->tun_in[q], pkts, n);
}

static int h_udp_rx(struct io_backend *io, unsigned q, struct pkt **pkts, unsigned n)
{
    struct host *h = (struct host *)io;
    return rx(h, &h->udp_in[q], pkts, n);
}

/* Our TUN: the test's packets carry their sequence number at 28. */
static int h_tun_tx(struct io_backend *io, unsigned q, struct pkt **pkts, unsigned n)
{
    struct host *h = (struct host *)io;

    pthread_mutex_lock(&h->lock);
    h->tun_queues |= 1u << q;
    for (unsigned i = 0; i < n; i++) {
        uint32_t seq;

        if (pkts[i]->len < 32)
            continue;
        memcpy(&seq, pkts[i]->data + 28, 4);
        if (seq != h->tun_seq_next)
            h->tun_bad++;
        h->tun_seq_next = seq + 1;
        h->tun_got++;
    }
    pthread_mutex_unlock(&h->lock);
    return (int)n;
}

/* To the peer's queue 0 (one 4-tuple: one socket), checking counters. */
static int h_udp_tx(struct io_backend *io, unsigned q, struct pkt **pkts, unsigned n)
{
    struct host *h = (struct host *)io, *d = h->peer;

    pthread_mutex_lock(&h->lock);
    for (unsigned i = 0; i < n; i++) {
        const struct pkt *p = pkts[i];

        /* Data (keepalives are sealed by the tunnel itself, outside the
         * ordered stage, and may overtake data in flight). */
        if (p->len > MESSAGE_MINIMUM_LENGTH && p->data[0] == MESSAGE_DATA) {
            uint64_t c = load_le64(p->data + 8);

            h->data_queues |= 1u << q;
            if (h->have_counter && c <= h->last_counter) {
                h->udp_bad_order++;
                if (getenv("ORDER_DEBUG"))
                    fprintf(stderr, "host %u: counter %llu after %llu (len %u, i %u of %u)\n",
                            h->addr.addr[3], (unsigned long long)c,
                            (unsigned long long)h->last_counter, p->len, i, n);
            }
            h->last_counter = c;
            h->have_counter = true;
        }
    }
    pthread_mutex_unlock(&h->lock);
    pthread_mutex_lock(&d->lock);
    for (unsigned i = 0; i < n; i++) {
        struct pkt *c = copy_of(pkts[i]);

        c->remote = h->addr;
        c->local = d->addr;
        if (!fifo_push(&d->udp_in[0], c))
            pkt_free(c);
    }
    pthread_cond_broadcast(&d->cond);
    pthread_mutex_unlock(&d->lock);
    return (int)n;
}

static int ready_mask(struct host *h, unsigned q)
{
    return (h->tun_in[q].n ? IO_READY_TUN : 0) | (h->udp_in[q].n ? IO_READY_UDP : 0) |
           (h->woken[q] ? IO_READY_WAKE : 0);
}

static int h_wait(struct io_backend *io, unsigned q, int timeout_ms)
{
    struct host *h = (struct host *)io;
    struct timespec ts;
    int r;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 20 * 1000000L;          /* re-check the world every 20 ms */
    if (ts.tv_nsec >= 1000000000L)
        ts.tv_sec++, ts.tv_nsec -= 1000000000L;
    pthread_mutex_lock(&h->lock);
    while (!(r = ready_mask(h, q)) && timeout_ms != 0)
        if (pthread_cond_timedwait(&h->cond, &h->lock, &ts) != 0)
            break;
    r = ready_mask(h, q);
    h->woken[q] = false;
    pthread_mutex_unlock(&h->lock);
    return r;
}

static void h_wake_queue(struct io_backend *io, unsigned q)
{
    struct host *h = (struct host *)io;

    pthread_mutex_lock(&h->lock);
    h->woken[q] = true;
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->lock);
}

static void h_wake(struct io_backend *io)
{
    for (unsigned q = 0; q < io->n_queues; q++)
        h_wake_queue(io, q);
}

static uint16_t h_listen_port(struct io_backend *io)
{
    return ((struct host *)io)->addr.port;
}

static void h_destroy(struct io_backend *io)
{
    struct host *h = (struct host *)io;

    for (unsigned q = 0; q < MAX_Q; q++) {
        for (struct pkt *p; (p = fifo_pop(&h->tun_in[q]));)
            pkt_free(p);
        for (struct pkt *p; (p = fifo_pop(&h->udp_in[q]));)
            pkt_free(p);
    }
    pthread_mutex_destroy(&h->lock);
    pthread_cond_destroy(&h->cond);
    free(h);
}

static const struct io_backend_ops host_ops = {
    .name = "order-test",
    .tun_rx_burst = h_tun_rx,
    .tun_tx_burst = h_tun_tx,
    .udp_rx_burst = h_udp_rx,
    .udp_tx_burst = h_udp_tx,
    .wait = h_wait,
    .wake = h_wake,
    .wake_queue = h_wake_queue,
    .listen_port = h_listen_port,
    .destroy = h_destroy,
};

static struct host *host_new(unsigned queues, uint8_t last)
{
    struct host *h = calloc(1, sizeof(*h));

    h->base.ops = &host_ops;
    h->base.n_queues = queues;
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->cond, NULL);
    h->addr.family = 4;
    h->addr.addr[0] = 192, h->addr.addr[2] = 2, h->addr.addr[3] = last;
    h->addr.port = 51820;
    return h;
}

/* ------------------------------------------------------------- traffic */

/* An IPv4/UDP packet from 10.8.0.<src> to 10.8.0.<dst> with seq at 28. */
static struct pkt *make_packet(uint8_t src, uint8_t dst, uint32_t seq, size_t len)
{
    struct pkt *p = small_pkt(len);
    uint8_t *d = p->data;

    memset(d, 0, len);
    d[0] = 0x45, d[2] = (uint8_t)(len >> 8), d[3] = (uint8_t)len, d[8] = 64, d[9] = 17;
    d[12] = 10, d[13] = 8, d[15] = src;
    d[16] = 10, d[17] = 8, d[19] = dst;
    memcpy(d + 28, &seq, 4);
    p->len = (uint32_t)len;
    return p;
}

/* Feed count packets into h's TUN queue 0, in order, as room allows;
 * sizes from the caller's own xorshift state (feeders run in parallel). */
static void feed(struct host *h, uint8_t src, uint8_t dst, uint32_t first, unsigned count)
{
    uint64_t x = 0x9e3779b97f4a7c15ull ^ src;

    for (unsigned i = 0; i < count;) {
        pthread_mutex_lock(&h->lock);
        while (i < count && h->tun_in[0].n < QCAP) {
            size_t len;

            x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
            len = 32 + (size_t)((x * 0x2545f4914f6cdd1dull) >> 33) % 1380;

            fifo_push(&h->tun_in[0], make_packet(src, dst, first + i, len));
            i++;
        }
        pthread_cond_broadcast(&h->cond);
        pthread_mutex_unlock(&h->lock);
        if (i < count)
            usleep(1000);
    }
}

struct feeder {
    struct host *h;
    uint8_t src, dst;
};

static void *feed_thread(void *arg)
{
    struct feeder *f = arg;

    feed(f->h, f->src, f->dst, 1, N_PKTS);
    return NULL;
}

static bool wait_got(struct host *h, unsigned want)
{
    for (int i = 0; i < 1000; i++) {           /* 10 s, only ever reached on failure */
        unsigned got;

        pthread_mutex_lock(&h->lock);
        got = h->tun_got;
        pthread_mutex_unlock(&h->lock);
        if (got >= want)
            return true;
        usleep(10000);
    }
    return false;
}

static void add_peer(struct device *dev, const uint8_t priv[32], const uint8_t pub[32],
                     const struct host *peer, uint8_t peer_last)
{
    struct config c;
    struct config_peer *cp;
    struct config_prefix pr;
    char aip[32];

    config_init(&c);
    c.has_private_key = true;
    memcpy(c.private_key, priv, 32);
    cp = config_add_peer(&c);
    memcpy(cp->public_key, pub, 32);
    if (peer) {
        cp->has_endpoint = true;
        cp->endpoint = peer->addr;
    }
    snprintf(aip, sizeof(aip), "10.8.0.%u/32", peer_last);
    CHECK(config_prefix_parse(&pr, aip) == 0);
    config_prefixes_add(&cp->allowed_ips, &cp->n_allowed_ips, &pr);
    CHECK(device_set_config(dev, &c) == 0);
    config_free(&c);
}

/* One round; returns on how many workers crypto ran. */
static unsigned run(unsigned workers)
{
    struct host *ha = host_new(workers, 1), *hb = host_new(workers, 2);
    struct device *a, *b;
    uint8_t ka[32], kb[32], pa[32], pb[32];
    struct feeder fa = { ha, 1, 2 }, fb = { hb, 2, 1 };
    pthread_t ta, tb;
    struct device_stats sa, sb;
    unsigned ran_on = 0;

    ha->peer = hb, hb->peer = ha;
    wb_key_generate(ka);
    CHECK(wb_key_public(pa, ka) == 0);
    wb_key_generate(kb);
    CHECK(wb_key_public(pb, kb) == 0);
    CHECK(device_create(&ha->base, NULL, &a) == 0);
    CHECK(device_create(&hb->base, NULL, &b) == 0);
    add_peer(a, ka, pb, hb, 2);
    add_peer(b, kb, pa, NULL, 1);
    CHECK(device_start(a) == 0 && device_start(b) == 0);

    /* The handshake, with packet 0 staged behind it. */
    feed(ha, 1, 2, 0, 1);
    CHECK(wait_got(hb, 1));
    /* B learned A's endpoint: now both ways at once. (Packet 0 waited for
     * the handshake and went out with the response's processing, from
     * whichever worker: the one-queue rule is for the data path.) */
    pthread_mutex_lock(&ha->lock);
    ha->data_queues = ha->tun_queues = 0;
    pthread_mutex_unlock(&ha->lock);
    pthread_mutex_lock(&hb->lock);
    hb->data_queues = hb->tun_queues = 0;
    pthread_mutex_unlock(&hb->lock);
    pthread_create(&ta, NULL, feed_thread, &fa);
    pthread_create(&tb, NULL, feed_thread, &fb);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    CHECK(wait_got(hb, 1 + N_PKTS));
    CHECK(wait_got(ha, N_PKTS));

    device_get_stats(a, &sa);
    device_get_stats(b, &sb);
    pthread_mutex_lock(&ha->lock);
    pthread_mutex_lock(&hb->lock);
    printf("workers %u: B got %u (%u out of order), A got %u (%u out of order); wire order faults "
           "A %u B %u; A: rx %llu tx %llu no_buffer %llu tx_failed %llu; B: rx %llu tx %llu "
           "no_buffer %llu replay? tx_failed %llu\n",
           workers, hb->tun_got, hb->tun_bad, ha->tun_got, ha->tun_bad, ha->udp_bad_order,
           hb->udp_bad_order, (unsigned long long)sa.rx_datagrams, (unsigned long long)sa.tx_datagrams,
           (unsigned long long)sa.drop_no_buffer, (unsigned long long)sa.drop_tx_failed,
           (unsigned long long)sb.rx_datagrams, (unsigned long long)sb.tx_datagrams,
           (unsigned long long)sb.drop_no_buffer, (unsigned long long)sb.drop_tx_failed);
    for (int i = 0; i < WB_DROP_REASON_COUNT; i++)
        if (a->list[0]->tun->drops[i] || b->list[0]->tun->drops[i])
            printf("  drop reason %d: A %llu B %llu\n", i, (unsigned long long)a->list[0]->tun->drops[i],
                   (unsigned long long)b->list[0]->tun->drops[i]);
    printf("  A queues: tx head %p rx head %p inflight %u\n", (void *)a->list[0]->tx_q.head,
           (void *)a->list[0]->rx_q.head, atomic_load(&a->list[0]->inflight));
    CHECK(hb->tun_got == 1 + N_PKTS && hb->tun_bad == 0);
    CHECK(ha->tun_got == N_PKTS && ha->tun_bad <= 1);        /* B's first is 1, not 0 */
    CHECK(ha->udp_bad_order == 0 && hb->udp_bad_order == 0);
    CHECK(__builtin_popcount(ha->data_queues) == 1 && __builtin_popcount(hb->data_queues) == 1);
    CHECK(__builtin_popcount(ha->tun_queues) == 1 && __builtin_popcount(hb->tun_queues) == 1);
    pthread_mutex_unlock(&hb->lock);
    pthread_mutex_unlock(&ha->lock);

    CHECK(sa.workers == workers && sb.workers == workers);
    CHECK(sa.drop_no_buffer == 0 && sb.drop_no_buffer == 0);
    for (unsigned w = 0; w < workers; w++) {
        struct worker_stats st;

        device_get_worker_stats(a, w, &st);
        ran_on += st.jobs_run > 0;
    }
    printf("workers %u: %u packets each way in order; A: %llu jobs (%.1f packets each), "
           "crypto on %u worker(s)\n", workers, N_PKTS, (unsigned long long)sa.jobs,
           sa.jobs ? (double)sa.job_packets / (double)sa.jobs : 0.0, ran_on);
    device_destroy(a);
    device_destroy(b);
    return ran_on;
}

/* Order must hold in every round. That crypto really ran on several
 * workers (what makes the round a test of parallel crypto) depends on the
 * scheduler: a worker runs its own jobs first and others only take what it
 * cannot keep up with, so on a loaded machine one round may keep up alone.
 * Up to five rounds, then it must have happened. */
static void run_parallel(unsigned workers)
{
    unsigned ran_on = run(workers);

    for (int round = 1; workers > 1 && ran_on < 2 && round < 5; round++) {
        printf("workers %u: crypto stayed on one worker; again\n", workers);
        ran_on = run(workers);
    }
    if (workers > 1)
        CHECK(ran_on > 1);
}

int main(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);

    if (wb_init() < 0)
        return 1;
    for (unsigned w = 1; w <= (unsigned)(cpus > 1 ? cpus : 1) && w <= MAX_Q; w++)
        run_parallel(w);
    if (cpus < 4)
        run_parallel(4);
    return check_summary();
}
