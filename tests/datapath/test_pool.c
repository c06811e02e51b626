/* SPDX-License-Identifier: MIT */
/*
 * test_pool.c - datapath/pool.h: argument checks, layout and alignment,
 * pool_contains, short counts from a dry pool (never blocking), the cache
 * paths (refill, flush, bypass for large requests, POOL_NO_CACHE), a
 * caller's allocator, then several threads getting and putting through
 * their caches at once on a pool too small for all of them.
 *
 * Concurrent check: a shared bitmap (atomic fetch_or / fetch_and) catches
 * an object handed out twice or put back while free; each holder stamps
 * its objects with plain stores and checks the stamp before putting them
 * back, so a pool that let two threads hold one object (or lacked a
 * happens-before between a put and the next get) shows up here or in TSan.
 * At the end every object must be back: pool_avail is exact, and draining
 * every cache and the ring yields each object exactly once.
 *
 *   test_pool               the fast run (label fast), well under 1 s
 *   test_pool --stress S    the concurrent part for about S seconds
 */
#include "datapath/pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "check.h"
#include "rng.h"

#define N_THREADS 4                /* the last one has no cache */
#define HOLD_MAX 160               /* per thread: 4 * 160 > the pool's 512 */
#define BATCH_MAX 48

struct obj {
    uint64_t owner;
    uint64_t stamp;
    uint8_t payload[40];
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------ single thread */

static void test_args(void)
{
    struct pool *p = (struct pool *)&p;
    struct pool_allocator half = { NULL, NULL, NULL };

    CHECK(pool_create(0, 8, 10, 1, 4, &p) == -EINVAL && p == NULL);
    CHECK(pool_create(16, 3, 10, 1, 4, &p) == -EINVAL);
    CHECK(pool_create(16, 2 * POOL_ALIGN_MAX, 10, 1, 4, &p) == -EINVAL);
    CHECK(pool_create(16, 8, 0, 1, 4, &p) == -EINVAL);
    CHECK(pool_create(16, 8, 10, 1, 11, &p) == -EINVAL);            /* cache > pool */
    CHECK(pool_create(16, 8, 4096, 1, POOL_CACHE_MAX + 1, &p) == -EINVAL);
    CHECK(pool_create(16, 8, POOL_OBJS_MAX + 1U, 0, 0, &p) == -EINVAL);
    CHECK(pool_create_with(16, 8, 10, 1, 4, &half, &p) == -EINVAL);
    pool_destroy(NULL);
}

static void test_layout(size_t size, size_t align, unsigned n)
{
    struct pool *p;
    void **objs = calloc(n + 1, sizeof(void *));
    uint8_t *seen = calloc(n, 1);
    unsigned got, dup = 0, misaligned = 0, foreign = 0;
    size_t need_align = align ? align : _Alignof(max_align_t);
    int local;

    if (!objs || !seen || pool_create(size, align, n, 2, n < 16 ? n : 16, &p) != 0) {
        CHECK(0);
        free(objs);
        free(seen);
        return;
    }
    CHECK(pool_avail(p) == n);
    CHECK(pool_bytes(p) >= (size_t)n * size);
    got = pool_get_bulk(p, 0, objs, n + 1);
    CHECK(got == n);
    for (unsigned i = 0; i < got; i++) {
        if ((uintptr_t)objs[i] % need_align)
            misaligned++;
        if (!pool_contains(p, objs[i])) {
            foreign++;
            continue;
        }
        if (seen[pool_index(p, objs[i])]++)
            dup++;
        memset(objs[i], 0xa5, size);   /* ASan: the whole object is ours */
    }
    CHECK(dup == 0 && misaligned == 0 && foreign == 0);
    CHECK(!pool_contains(p, NULL) && !pool_contains(p, &local));
    CHECK(!pool_contains(p, (uint8_t *)objs[0] + 1));
    CHECK(!pool_contains(p, (uint8_t *)objs[0] - 1));
    CHECK(pool_avail(p) == 0 && pool_get(p, 0) == NULL && pool_get(p, POOL_NO_CACHE) == NULL);
    pool_put_bulk(p, 1, objs, got);
    CHECK(pool_avail(p) == n);
    pool_destroy(p);
    free(objs);
    free(seen);
}

static void test_short_counts(void)
{
    struct pool *p;
    void *a[64], *b[64], *c[64], *x;

    if (pool_create(sizeof(struct obj), 64, 100, 2, 32, &p) != 0) {
        CHECK(0);
        return;
    }
    CHECK(pool_get_bulk(p, 0, a, 0) == 0);
    CHECK(pool_get_bulk(p, 0, a, 64) == 64);        /* > cache_size: bypasses */
    CHECK(pool_get_bulk(p, 1, b, 20) == 20);        /* refills cache 1 to 32 beyond */
    CHECK(pool_avail(p) == 16);                     /* 16 left, all in cache 1 */
    CHECK(pool_get_bulk(p, 0, c, 10) == 0);         /* ring dry, own cache empty */
    CHECK(pool_get(p, POOL_NO_CACHE) == NULL);
    CHECK(pool_get_bulk(p, 1, c, 20) == 16);        /* short count, no blocking */
    CHECK(pool_get_bulk(p, 1, c + 16, 20) == 0 && pool_avail(p) == 0);

    /* Cache-hot: what a thread put is what it gets next. */
    pool_put(p, 0, a[5]);
    x = pool_get(p, 0);
    CHECK(x == a[5]);
    /* A put that overflows cache 0 (32) flushes it to the ring first. */
    pool_put_bulk(p, 0, a, 30);
    pool_put_bulk(p, 0, a + 30, 30);
    CHECK(pool_avail(p) == 60);
    pool_put_bulk(p, POOL_NO_CACHE, a + 60, 4);
    pool_put_bulk(p, 1, b, 20);
    pool_put_bulk(p, 1, c, 16);
    CHECK(pool_avail(p) == 100);
    pool_cache_flush(p, 0);
    pool_cache_flush(p, 1);
    pool_cache_flush(p, POOL_NO_CACHE);             /* nothing to do */
    CHECK(pool_get_bulk(p, POOL_NO_CACHE, a, 64) == 64);
    CHECK(pool_get_bulk(p, POOL_NO_CACHE, b, 64) == 36);
    pool_put_bulk(p, POOL_NO_CACHE, a, 64);
    pool_put_bulk(p, POOL_NO_CACHE, b, 36);
    CHECK(pool_avail(p) == 100);
    pool_destroy(p);

    /* No caches at all: every call goes to the ring. */
    if (pool_create(8, 8, 3, 0, 0, &p) == 0) {
        CHECK(pool_get_bulk(p, 0, a, 5) == 3 && pool_get(p, 0) == NULL);
        pool_put_bulk(p, 0, a, 3);
        CHECK(pool_avail(p) == 3);
        pool_destroy(p);
    } else {
        CHECK(0);
    }
}

struct counting_alloc {
    unsigned allocs, frees;
    size_t size, align;
    void *mem;
    bool fail;
};

static void *count_alloc(void *ctx, size_t size, size_t align)
{
    struct counting_alloc *c = ctx;

    c->allocs++;
    c->size = size;
    c->align = align;
    if (c->fail)
        return NULL;
#ifdef _WIN32
    c->mem = _aligned_malloc(size, align);
#else
    c->mem = aligned_alloc(align, (size + align - 1) / align * align);
#endif
    return c->mem;
}

static void count_free(void *ctx, void *mem, size_t size)
{
    struct counting_alloc *c = ctx;

    c->frees++;
    CHECK(mem == c->mem && size == c->size);
#ifdef _WIN32
    _aligned_free(mem);
#else
    free(mem);
#endif
}

static void test_allocator(void)
{
    struct counting_alloc c = { 0 };
    struct pool_allocator a = { count_alloc, count_free, &c };
    struct pool *p;
    void *objs[8];

    CHECK(pool_create_with(200, 128, 50, 3, 8, &a, &p) == 0);
    CHECK(c.allocs == 1 && c.align >= 128 && c.size == pool_bytes(p));
    CHECK((uint8_t *)p >= (uint8_t *)c.mem && (uint8_t *)p < (uint8_t *)c.mem + c.size);
    CHECK(pool_get_bulk(p, 2, objs, 8) == 8);
    for (unsigned i = 0; i < 8; i++)
        CHECK((uint8_t *)objs[i] >= (uint8_t *)c.mem &&
              (uint8_t *)objs[i] + 200 <= (uint8_t *)c.mem + c.size &&
              (uintptr_t)objs[i] % 128 == 0);
    pool_put_bulk(p, 2, objs, 8);
    pool_destroy(p);
    CHECK(c.frees == 1 && c.allocs == 1);

    c.fail = true;
    p = (struct pool *)&p;
    CHECK(pool_create_with(200, 128, 50, 3, 8, &a, &p) == -ENOMEM && p == NULL);
    CHECK(c.frees == 1);
}

/* ------------------------------------------------------------ multi-thread */

struct shared {
    struct pool *p;
    unsigned n_objs;
    double deadline;
    _Atomic uint64_t *in_use;          /* one bit per object */
    atomic_uint errors;
    atomic_ullong gets, short_gets;
};

struct worker {
    struct shared *s;
    unsigned id, cache;
    uint64_t seed;
};

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

static void take(struct worker *w, struct obj **held, unsigned *n_held, void **objs,
                 unsigned got)
{
    struct shared *s = w->s;

    for (unsigned i = 0; i < got; i++) {
        struct obj *o = objs[i];
        unsigned idx;
        uint64_t bit;

        if (!pool_contains(s->p, o)) {
            atomic_fetch_add(&s->errors, 1);
            continue;
        }
        idx = pool_index(s->p, o);
        bit = UINT64_C(1) << (idx % 64);
        if (atomic_fetch_or_explicit(&s->in_use[idx / 64], bit, memory_order_relaxed) & bit)
            atomic_fetch_add(&s->errors, 1);       /* handed out twice */
        o->owner = w->id;
        o->stamp = xorshift(&w->seed);
        held[(*n_held)++] = o;
    }
}

static void give_back(struct worker *w, struct obj **held, unsigned *n_held, unsigned n)
{
    struct shared *s = w->s;
    void *objs[BATCH_MAX];

    for (unsigned i = 0; i < n; i++) {
        /* Put back a random one of those held. */
        unsigned k = (unsigned)(xorshift(&w->seed) % *n_held);
        struct obj *o = held[k];
        unsigned idx = pool_index(s->p, o);
        uint64_t bit = UINT64_C(1) << (idx % 64);

        held[k] = held[--*n_held];
        if (o->owner != w->id)
            atomic_fetch_add(&s->errors, 1);       /* someone else wrote it */
        o->owner = UINT64_MAX;
        if (!(atomic_fetch_and_explicit(&s->in_use[idx / 64], ~bit, memory_order_relaxed) & bit))
            atomic_fetch_add(&s->errors, 1);       /* was not out */
        objs[i] = o;
    }
    if (n == 1 && (xorshift(&w->seed) & 1))
        pool_put(s->p, w->cache, objs[0]);
    else
        pool_put_bulk(s->p, w->cache, objs, n);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct shared *s = w->s;
    struct obj *held[HOLD_MAX];
    unsigned n_held = 0;
    void *objs[BATCH_MAX];

    for (unsigned iter = 0;; iter++) {
        unsigned n = 1 + (unsigned)(xorshift(&w->seed) % BATCH_MAX), got;

        if ((iter & 63) == 0 && now_s() > s->deadline)
            break;
        if (n_held + n <= HOLD_MAX && (xorshift(&w->seed) % 8) < 5) {
            if (n == 1 && (xorshift(&w->seed) & 1)) {
                objs[0] = pool_get(s->p, w->cache);
                got = objs[0] != NULL;
            } else {
                got = pool_get_bulk(s->p, w->cache, objs, n);
            }
            atomic_fetch_add_explicit(&s->gets, 1, memory_order_relaxed);
            if (got < n)
                atomic_fetch_add_explicit(&s->short_gets, 1, memory_order_relaxed);
            take(w, held, &n_held, objs, got);
        } else if (n_held > 0) {
            give_back(w, held, &n_held, n < n_held ? n : n_held);
        }
        /* Every stamp still ours: nobody else wrote a held object. */
        if ((iter & 15) == 0)
            for (unsigned i = 0; i < n_held; i++)
                if (held[i]->owner != w->id)
                    atomic_fetch_add(&s->errors, 1);
    }
    while (n_held > 0)
        give_back(w, held, &n_held, n_held < BATCH_MAX ? n_held : BATCH_MAX);
    if (w->id == 0)
        pool_cache_flush(s->p, w->cache);          /* one worker leaves nothing cached */
    return NULL;
}

static void test_threads(double seconds)
{
    const unsigned n_objs = 512, cache_size = 32;
    struct shared s = { .n_objs = n_objs };
    struct worker w[N_THREADS];
    pthread_t th[N_THREADS];
    void **all = calloc(n_objs + 1, sizeof(void *));
    uint8_t *seen = calloc(n_objs, 1);
    unsigned total = 0, dup = 0;

    s.in_use = calloc((n_objs + 63) / 64, sizeof(*s.in_use));
    if (!all || !seen || !s.in_use ||
        pool_create(sizeof(struct obj), 64, n_objs, N_THREADS - 1, cache_size, &s.p) != 0) {
        CHECK(0);
        goto out;
    }
    atomic_init(&s.errors, 0);
    atomic_init(&s.gets, 0);
    atomic_init(&s.short_gets, 0);
    s.deadline = now_s() + seconds;
    for (unsigned i = 0; i < N_THREADS; i++) {
        w[i] = (struct worker){ &s, i, i < N_THREADS - 1 ? i : POOL_NO_CACHE, rng() | 1 };
        pthread_create(&th[i], NULL, worker_main, &w[i]);
    }
    for (unsigned i = 0; i < N_THREADS; i++)
        pthread_join(th[i], NULL);

    CHECK(atomic_load(&s.errors) == 0);
    CHECK(pool_avail(s.p) == n_objs);               /* exact: nobody is working */
    /* Drain every cache (joined threads: their caches are ours now), then
     * the ring; each object exactly once, none missing. */
    for (unsigned c = 0; c <= N_THREADS - 1; c++) {
        unsigned idx = c < N_THREADS - 1 ? c : POOL_NO_CACHE, got;

        while (total < n_objs + 1 &&
               (got = pool_get_bulk(s.p, idx, all + total, n_objs + 1 - total)) > 0)
            total += got;
    }
    CHECK(total == n_objs);
    for (unsigned i = 0; i < total && i < n_objs; i++) {
        if (!pool_contains(s.p, all[i]) || seen[pool_index(s.p, all[i])]++)
            dup++;
    }
    CHECK(dup == 0);
    CHECK(pool_avail(s.p) == 0);
    printf("pool threads: %llu gets, %llu short (pool dry), %u objects back\n",
           (unsigned long long)atomic_load(&s.gets),
           (unsigned long long)atomic_load(&s.short_gets), total);
    pool_destroy(s.p);
out:
    free(all);
    free(seen);
    free(s.in_use);
}

int main(int argc, char **argv)
{
    double seconds = 0.4;

    if (argc == 3 && strcmp(argv[1], "--stress") == 0) {
        seconds = atof(argv[2]);
    } else if (argc != 1) {
        fprintf(stderr, "usage: %s [--stress SECONDS]\n", argv[0]);
        return 2;
    }
    test_args();
    test_layout(1, 0, 1);
    test_layout(100, 64, 1000);
    test_layout(24, 8, 333);
    test_layout(3000, 4096, 17);
    test_layout(2048 + 64, 64, 64);
    test_short_counts();
    test_allocator();
    test_threads(seconds);
    return check_summary();
}
