/* SPDX-License-Identifier: MIT */
/*
 * test_ring.c - datapath/ring.h: single-thread semantics (burst vs bulk,
 * full and empty edges, counts, 32-bit index wrap-around, layout), then a
 * multi-threaded stress test per variant (SPSC, MPSC, SPMC, MPMC).
 *
 * Stress: producers push tagged items (producer id << TAG_SHIFT | sequence)
 * in random burst sizes, mixing _burst and _bulk calls; consumers pop in
 * random sizes. Checked: every item arrives exactly once (a shared bitmap
 * set with atomic fetch_or), each consumer sees each producer's sequence
 * rising, and with one consumer without gaps (SPSC: total order; MPSC:
 * per-producer order). The indexes start just below UINT32_MAX so they
 * wrap mid-run, and ring sizes go from 4 slots (constant contention) up.
 *
 *   test_ring               the fast run: about 1 s in all (label fast)
 *   test_ring --stress S    rounds over all variants and sizes for about
 *                           S seconds (label stress)
 */
#include "datapath/ring.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "check.h"
#include "rng.h"

#if UINTPTR_MAX > 0xffffffffu
#define TAG_SHIFT 32
#else
#define TAG_SHIFT 24
#endif
#define SEQ_MASK ((UINT64_C(1) << TAG_SHIFT) - 1)
#define MAX_THREADS 4
#define MAX_BURST 32
#define ITEMS_CAP (UINT64_C(1) << 22)  /* per producer per round: bitmap of 512 KiB */

typedef unsigned (*enq_fn)(struct ring *, void *const *, unsigned);
typedef unsigned (*deq_fn)(struct ring *, void **, unsigned);

static void *item(uint64_t v)
{
    return (void *)(uintptr_t)v;
}

static uint64_t value(void *p)
{
    return (uint64_t)(uintptr_t)p;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------ single thread */

struct variant {
    const char *name;
    enq_fn enq_burst, enq_bulk;
    deq_fn deq_burst, deq_bulk;
    unsigned n_prod, n_cons;           /* threads in the stress test */
};

static const struct variant variants[] = {
    { "spsc", ring_sp_enqueue_burst, ring_sp_enqueue_bulk,
      ring_sc_dequeue_burst, ring_sc_dequeue_bulk, 1, 1 },
    { "mpsc", ring_mp_enqueue_burst, ring_mp_enqueue_bulk,
      ring_sc_dequeue_burst, ring_sc_dequeue_bulk, 3, 1 },
    { "spmc", ring_sp_enqueue_burst, ring_sp_enqueue_bulk,
      ring_mc_dequeue_burst, ring_mc_dequeue_bulk, 1, 3 },
    { "mpmc", ring_mp_enqueue_burst, ring_mp_enqueue_bulk,
      ring_mc_dequeue_burst, ring_mc_dequeue_bulk, 2, 2 },
};
#define N_VARIANTS (sizeof(variants) / sizeof(variants[0]))

static void test_create(void)
{
    struct ring *r = (struct ring *)&r;
    static alignas(RING_CACHE_LINE) uint8_t buf[4096];

    CHECK(ring_create(0, &r) == -EINVAL && r == NULL);
    CHECK(ring_create(3, &r) == -EINVAL);
    CHECK(ring_create(RING_SIZE_MAX << 1, &r) == -EINVAL);
    CHECK(ring_create(1000, &r) == -EINVAL);
    CHECK(ring_bytes(6) == 0);
    CHECK(ring_bytes(1) > 0 && ring_bytes(1) % RING_CACHE_LINE == 0);
    CHECK(ring_bytes(64) >= 64 * sizeof(void *) + 3 * RING_CACHE_LINE);

    CHECK(ring_create(1, &r) == 0);
    if (r) {
        void *x = item(7), *y = NULL;

        CHECK(ring_sp_enqueue_bulk(r, &x, 1) == 1);
        CHECK(ring_sp_enqueue_bulk(r, &x, 1) == 0);
        CHECK(ring_sc_dequeue_burst(r, &y, 1) == 1 && y == x);
        ring_destroy(r);
    }
    CHECK(ring_create(1024, &r) == 0);
    if (r) {
        /* Layout: each part on its own cache line. */
        uintptr_t base = (uintptr_t)r;

        CHECK(base % RING_CACHE_LINE == 0);
        CHECK(((uintptr_t)&r->prod - base) % RING_CACHE_LINE == 0);
        CHECK(((uintptr_t)&r->cons - base) % RING_CACHE_LINE == 0);
        CHECK((uintptr_t)&r->cons - (uintptr_t)&r->prod >= RING_CACHE_LINE);
        CHECK((uintptr_t)&r->prod - base >= RING_CACHE_LINE);
        CHECK((uintptr_t)r->slots % RING_CACHE_LINE == 0);
        CHECK((uintptr_t)r->slots - (uintptr_t)&r->cons >= RING_CACHE_LINE);
        CHECK(ring_capacity(r) == 1024 && ring_empty(r) && ring_free_count(r) == 1024);
        ring_destroy(r);
    }
    ring_destroy(NULL);

    /* In place, in caller memory. */
    CHECK(ring_bytes(16) <= sizeof(buf));
    CHECK(ring_init((struct ring *)(buf + 8), 16) == -EINVAL);
    CHECK(ring_init((struct ring *)buf, 12) == -EINVAL);
    CHECK(ring_init((struct ring *)buf, 16) == 0);
    r = (struct ring *)buf;
    CHECK(ring_capacity(r) == 16 && ring_count(r) == 0);
    ring_destroy(r);   /* not ours to free: must do nothing */
}

/* Burst vs bulk at the full and empty edges, for one enqueue/dequeue pair. */
static void test_edges(const struct variant *v, uint32_t start)
{
    struct ring *r;
    void *in[16], *out[16];

    for (unsigned i = 0; i < 16; i++)
        in[i] = item(1000 + i);
    if (ring_create(8, &r) != 0) {
        CHECK(0);
        return;
    }
    ring_reset(r, start);
    CHECK(v->deq_burst(r, out, 4) == 0);
    CHECK(v->deq_bulk(r, out, 1) == 0);
    CHECK(v->enq_burst(r, in, 0) == 0 && v->enq_bulk(r, in, 0) == 0);
    CHECK(v->enq_bulk(r, in, 9) == 0 && ring_empty(r));       /* more than capacity */
    CHECK(v->enq_burst(r, in, 10) == 8);                       /* as many as fit */
    CHECK(ring_count(r) == 8 && ring_free_count(r) == 0 && !ring_empty(r));
    CHECK(v->enq_burst(r, in, 1) == 0 && v->enq_bulk(r, in, 1) == 0);
    CHECK(v->deq_bulk(r, out, 9) == 0 && ring_count(r) == 8);  /* all or nothing */
    CHECK(v->deq_burst(r, out, 3) == 3);
    CHECK(out[0] == in[0] && out[1] == in[1] && out[2] == in[2]);
    CHECK(ring_count(r) == 5 && ring_free_count(r) == 3);
    CHECK(v->enq_bulk(r, in + 8, 4) == 0);                     /* 3 free: none */
    CHECK(v->enq_bulk(r, in + 8, 3) == 3 && ring_count(r) == 8);
    CHECK(v->deq_bulk(r, out, 6) == 6);
    for (unsigned i = 0; i < 5; i++)
        CHECK(out[i] == in[3 + i]);
    CHECK(out[5] == in[8]);
    CHECK(v->deq_burst(r, out, 16) == 2 && out[0] == in[9] && out[1] == in[10]);
    CHECK(ring_empty(r) && ring_count(r) == 0 && ring_free_count(r) == 8);
    CHECK(v->deq_burst(r, out, 16) == 0 && v->deq_bulk(r, out, 0) == 0);
    ring_destroy(r);
}

/* Random bursts through a small ring with the indexes crossing 2^32, checked
 * against a model FIFO (a plain counter: items go in numbered). */
static void test_wrap(const struct variant *v, uint32_t start, uint32_t size)
{
    struct ring *r;
    uint64_t next_in = 0, next_out = 0;
    void *buf[64];
    int bad = 0;

    if (ring_create(size, &r) != 0) {
        CHECK(0);
        return;
    }
    ring_reset(r, start);
    for (unsigned step = 0; step < 4000 && !bad; step++) {
        unsigned n = (unsigned)(rng() % (2 * size + 2)) % 64, got;
        uint64_t count = next_in - next_out;
        bool bulk = rng() & 1;

        if (rng() & 1) {
            for (unsigned i = 0; i < n; i++)
                buf[i] = item(next_in + i + 1);
            got = bulk ? v->enq_bulk(r, buf, n) : v->enq_burst(r, buf, n);
            if (got != (n <= size - count ? n : (bulk ? 0 : size - count)))
                bad = 1;
            next_in += got;
        } else {
            got = bulk ? v->deq_bulk(r, buf, n) : v->deq_burst(r, buf, n);
            if (got != (n <= count ? n : (bulk ? 0 : count)))
                bad = 1;
            for (unsigned i = 0; i < got; i++)
                if (value(buf[i]) != next_out + i + 1)
                    bad = 1;
            next_out += got;
        }
        if (ring_count(r) != next_in - next_out ||
            ring_free_count(r) != size - (next_in - next_out))
            bad = 1;
    }
    CHECK(!bad);
    /* The indexes really did move past the wrap (4000 steps, ~size/2 each). */
    CHECK(next_in > (uint64_t)(UINT32_MAX - start) + 1 || start < UINT32_MAX - 100000);
    ring_destroy(r);
}

/* ------------------------------------------------------------ multi-thread */

struct stress {
    const struct variant *v;
    struct ring *r;
    unsigned n_prod, n_cons;
    double deadline;
    atomic_uint producers_left;
    _Atomic uint64_t *seen;                     /* n_prod bitmaps of ITEMS_CAP bits */
    uint64_t sent[MAX_THREADS];                 /* written by each producer, read after join */
    atomic_uint errors;
    atomic_ullong received;
};

struct worker {
    struct stress *s;
    unsigned id;
    uint64_t seed;
};

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

static void *producer(void *arg)
{
    struct worker *w = arg;
    struct stress *s = w->s;
    uint64_t seq = 0, tag = (uint64_t)w->id << TAG_SHIFT;
    void *buf[MAX_BURST];
    unsigned pending = 0, spins = 0;

    for (unsigned iter = 0; seq < ITEMS_CAP; iter++) {
        unsigned n = 1 + (unsigned)(xorshift(&w->seed) % MAX_BURST), got;
        bool bulk = xorshift(&w->seed) & 1;

        if ((iter & 63) == 0 && now_s() > s->deadline)
            break;
        if (n > ITEMS_CAP - seq)
            n = (unsigned)(ITEMS_CAP - seq);
        /* buf[0..pending) are items a short burst left behind; top up. */
        for (; pending < n; pending++)
            buf[pending] = item(tag | (seq + pending));
        n = pending;
        got = bulk ? s->v->enq_bulk(s->r, buf, n) : s->v->enq_burst(s->r, buf, n);
        if (bulk && got != 0 && got != n)
            atomic_fetch_add(&s->errors, 1);
        seq += got;
        memmove(buf, buf + got, (n - got) * sizeof(void *));
        pending = n - got;
        if (got == 0)
            ring_pause(&spins);
    }
    /* What is left in buf was never enqueued: it does not count. */
    s->sent[w->id] = seq;
    atomic_fetch_sub_explicit(&s->producers_left, 1, memory_order_release);
    return NULL;
}

static void *consumer(void *arg)
{
    struct worker *w = arg;
    struct stress *s = w->s;
    uint64_t last[MAX_THREADS];
    void *buf[MAX_BURST];
    unsigned spins = 0;
    uint64_t count = 0;
    bool ordered = s->n_cons == 1;

    for (unsigned i = 0; i < MAX_THREADS; i++)
        last[i] = UINT64_MAX;   /* "nothing yet": the first must be 0 when ordered */
    for (;;) {
        unsigned n = 1 + (unsigned)(xorshift(&w->seed) % MAX_BURST), got;
        /* Acquire: pairs with the producers' release decrement, so once it
         * reads 0 every item ever enqueued is visible to the dequeue below;
         * from then on only bursts, so an empty answer means done. */
        bool finished = atomic_load_explicit(&s->producers_left, memory_order_acquire) == 0;
        bool bulk = !finished && (xorshift(&w->seed) & 1);

        got = bulk ? s->v->deq_bulk(s->r, buf, n) : s->v->deq_burst(s->r, buf, n);
        if (got == 0) {
            if (finished)
                break;
            ring_pause(&spins);
            continue;
        }
        if (bulk && got != n)
            atomic_fetch_add(&s->errors, 1);
        for (unsigned i = 0; i < got; i++) {
            uint64_t v = value(buf[i]), p = v >> TAG_SHIFT, seq = v & SEQ_MASK;
            uint64_t bit;

            if (p >= s->n_prod || seq >= ITEMS_CAP) {
                atomic_fetch_add(&s->errors, 1);
                continue;
            }
            /* Rising per producer for every consumer; gapless for one. */
            if (ordered ? seq != last[p] + 1 : (last[p] != UINT64_MAX && seq <= last[p]))
                atomic_fetch_add(&s->errors, 1);
            last[p] = seq;
            bit = UINT64_C(1) << (seq % 64);
            if (atomic_fetch_or_explicit(&s->seen[p * (ITEMS_CAP / 64) + seq / 64], bit,
                                         memory_order_relaxed) & bit)
                atomic_fetch_add(&s->errors, 1);   /* twice */
        }
        count += got;
    }
    atomic_fetch_add(&s->received, count);
    return NULL;
}

/* One round of one variant; returns items moved, or 0 after a failure. */
static uint64_t stress_round(const struct variant *v, uint32_t size, uint32_t start,
                             double seconds, _Atomic uint64_t *seen)
{
    struct stress s = { .v = v, .n_prod = v->n_prod, .n_cons = v->n_cons, .seen = seen };
    struct worker w[2 * MAX_THREADS];
    pthread_t th[2 * MAX_THREADS];
    unsigned n_threads = v->n_prod + v->n_cons;
    uint64_t total = 0, missing = 0;

    if (ring_create(size, &s.r) != 0) {
        CHECK(0);
        return 0;
    }
    ring_reset(s.r, start);
    for (size_t i = 0; i < (size_t)v->n_prod * (ITEMS_CAP / 64); i++)
        atomic_init(&seen[i], 0);
    atomic_init(&s.producers_left, v->n_prod);
    atomic_init(&s.errors, 0);
    atomic_init(&s.received, 0);
    s.deadline = now_s() + seconds;
    for (unsigned i = 0; i < n_threads; i++) {
        bool prod = i < v->n_prod;

        w[i] = (struct worker){ &s, prod ? i : i - v->n_prod, rng() | 1 };
        pthread_create(&th[i], NULL, prod ? producer : consumer, &w[i]);
    }
    for (unsigned i = 0; i < n_threads; i++)
        pthread_join(th[i], NULL);

    /* Every item sent arrived once; nothing beyond what was sent. */
    for (unsigned p = 0; p < v->n_prod; p++) {
        for (uint64_t word = 0; word < ITEMS_CAP / 64; word++) {
            uint64_t got = atomic_load_explicit(&seen[p * (ITEMS_CAP / 64) + word],
                                                memory_order_relaxed);
            uint64_t first = word * 64, want;

            if (s.sent[p] >= first + 64)
                want = UINT64_MAX;
            else if (s.sent[p] <= first)
                want = 0;
            else
                want = (UINT64_C(1) << (s.sent[p] - first)) - 1;
            missing += (uint64_t)__builtin_popcountll(got ^ want);
        }
        total += s.sent[p];
    }
    CHECK(atomic_load(&s.errors) == 0);
    CHECK(missing == 0);
    CHECK(atomic_load(&s.received) == total);
    CHECK(ring_empty(s.r));
    if (atomic_load(&s.errors) || missing || atomic_load(&s.received) != total)
        fprintf(stderr, "stress %s size %u start %u: %u errors, %llu missing, %llu/%llu\n",
                v->name, size, start, atomic_load(&s.errors), (unsigned long long)missing,
                (unsigned long long)atomic_load(&s.received), (unsigned long long)total);
    ring_destroy(s.r);
    return total;
}

static void stress(double seconds_total, bool verbose)
{
    static const uint32_t sizes[] = { 4, 64, 1024, 16 };
    _Atomic uint64_t *seen = malloc(MAX_THREADS * (ITEMS_CAP / 64) * sizeof(*seen));
    double end = now_s() + seconds_total;
    /* Fast mode: one round per variant; stress: rounds of ~1 s until the end. */
    double round_s = verbose ? 1.0 : seconds_total / N_VARIANTS;
    unsigned round = 0;

    if (!seen) {
        CHECK(0);
        return;
    }
    do {
        const struct variant *v = &variants[round % N_VARIANTS];
        uint32_t size = sizes[(round + round / N_VARIANTS) % 4];
        uint32_t start = UINT32_MAX - (uint32_t)(rng() % 100000);
        uint64_t n = stress_round(v, size, start, round_s, seen);

        if (verbose || round < N_VARIANTS)
            printf("stress %-4s ring %4u: %llu items\n", v->name, size, (unsigned long long)n);
        round++;
    } while (round < N_VARIANTS || (verbose && now_s() < end));
    free(seen);
}

int main(int argc, char **argv)
{
    double stress_s = 1.0;
    bool verbose = false;

    if (argc == 3 && strcmp(argv[1], "--stress") == 0) {
        stress_s = atof(argv[2]);
        verbose = true;
    } else if (argc != 1) {
        fprintf(stderr, "usage: %s [--stress SECONDS]\n", argv[0]);
        return 2;
    }
    test_create();
    for (size_t i = 0; i < N_VARIANTS; i++) {
        test_edges(&variants[i], 0);
        test_edges(&variants[i], UINT32_MAX - 3);   /* the edges across the wrap */
        test_edges(&variants[i], UINT32_MAX);
        test_wrap(&variants[i], UINT32_MAX - 50, 8);
        test_wrap(&variants[i], UINT32_MAX - 1, 1);
        test_wrap(&variants[i], UINT32_MAX - 1000, 64);
        test_wrap(&variants[i], 12345, 16);
    }
    stress(stress_s, verbose);
    return check_summary();
}
