/* SPDX-License-Identifier: MIT */
/*
 * pool.c - the object pool (datapath/pool.h): one region laid out as
 *
 *   [struct pool][cache 0]...[cache n_caches-1][ring][objects ...]
 *
 * every part starting on a cache line (caches too, so two threads' caches
 * never share one), the objects on max(64, obj_align).
 *
 * A cache is a stack of up to 2 * cache_size pointers, holding at most
 * cache_size between calls. A get that the cache cannot serve refills it
 * from the ring with one burst, to cache_size beyond the request; a put
 * that would overflow it first flushes the whole cache to the ring with one
 * burst (DPDK's policy). Requests larger than cache_size bypass the cache.
 *
 * Concurrency: the ring is MP/MC (any thread). A cache's objects array is
 * touched by its owner only; its length is atomic (relaxed) only so that
 * pool_avail() may read it from any thread without a data race.
 */
#include "datapath/pool.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/ring.h"

#define LINE RING_CACHE_LINE

struct pool_cache {
    _Atomic uint32_t len;          /* objects in objs: owner writes, anyone reads */
    void *objs[];                  /* 2 * cache_size slots */
};

struct pool {
    struct ring *ring;             /* free objects; MP/MC */
    uint8_t *objs;                 /* first object */
    uint8_t *caches;               /* cache i at caches + i * cache_stride */
    size_t stride;                 /* distance between objects */
    size_t cache_stride;
    size_t bytes;                  /* the whole region */
    size_t align;                  /* of the region */
    unsigned n_objs;
    unsigned n_caches;
    unsigned cache_size;
    struct pool_allocator allocator;
};

static size_t round_up(size_t n, size_t align)
{
    return (n + align - 1) & ~(align - 1);
}

static bool pow2(size_t n)
{
    return n != 0 && (n & (n - 1)) == 0;
}

static void *default_alloc(void *ctx, size_t size, size_t align)
{
#ifdef _WIN32
    return _aligned_malloc(size, align);
#else
    return aligned_alloc(align, round_up(size, align));
#endif
}

static void default_free(void *ctx, void *mem, size_t size)
{
#ifdef _WIN32
    _aligned_free(mem);
#else
    free(mem);
#endif
}

static struct pool_cache *cache_at(const struct pool *p, unsigned i)
{
    return (struct pool_cache *)(p->caches + (size_t)i * p->cache_stride);
}

/* Where each part of the region goes; false if the sizes overflow. */
struct layout {
    size_t stride, cache_stride, ring_off, objs_off, bytes, align;
    uint32_t ring_count;
};

static bool plan_layout(size_t obj_size, size_t obj_align, unsigned n_objs,
                        unsigned n_caches, unsigned cache_size, struct layout *l)
{
    size_t caches_bytes, ring_bytes_n;

    if (obj_size > SIZE_MAX / 2)
        return false;
    l->stride = round_up(obj_size, obj_align);
    l->align = obj_align > LINE ? obj_align : LINE;
    l->cache_stride = round_up(sizeof(struct pool_cache) + 2 * (size_t)cache_size * sizeof(void *),
                               LINE);
    if (n_caches > SIZE_MAX / 4 / l->cache_stride)
        return false;
    caches_bytes = (size_t)n_caches * l->cache_stride;
    l->ring_count = 1;
    while (l->ring_count < n_objs)
        l->ring_count <<= 1;
    ring_bytes_n = ring_bytes(l->ring_count);
    if (ring_bytes_n == 0 || ring_bytes_n > SIZE_MAX / 4)
        return false;
    l->ring_off = round_up(sizeof(struct pool), LINE) + caches_bytes;
    l->objs_off = round_up(l->ring_off + ring_bytes_n, l->align);
    if (n_objs > (SIZE_MAX / 4) / l->stride)
        return false;
    l->bytes = round_up(l->objs_off + (size_t)n_objs * l->stride, l->align);
    return l->bytes >= l->objs_off;
}

/* Any thread. */
int pool_create(size_t obj_size, size_t obj_align, unsigned n_objs, unsigned n_caches,
                unsigned cache_size, struct pool **out)
{
    return pool_create_with(obj_size, obj_align, n_objs, n_caches, cache_size, NULL, out);
}

/* Any thread; the pool is this thread's until handed over. */
int pool_create_with(size_t obj_size, size_t obj_align, unsigned n_objs, unsigned n_caches,
                     unsigned cache_size, const struct pool_allocator *allocator,
                     struct pool **out)
{
    struct pool_allocator a = { default_alloc, default_free, NULL };
    struct layout l;
    struct pool *p;
    uint8_t *mem;

    *out = NULL;
    if (obj_align == 0)
        obj_align = _Alignof(max_align_t);
    if (obj_size == 0 || !pow2(obj_align) || obj_align > POOL_ALIGN_MAX || n_objs == 0 ||
        n_objs > POOL_OBJS_MAX || cache_size > POOL_CACHE_MAX || cache_size > n_objs)
        return -EINVAL;
    if (allocator) {
        if (!allocator->alloc || !allocator->free)
            return -EINVAL;
        a = *allocator;
    }
    if (n_caches == 0 || cache_size == 0)
        n_caches = cache_size = 0;
    if (!plan_layout(obj_size, obj_align, n_objs, n_caches, cache_size, &l))
        return -EINVAL;
    mem = a.alloc(a.ctx, l.bytes, l.align);
    if (!mem)
        return -ENOMEM;

    p = (struct pool *)mem;
    memset(p, 0, sizeof(*p));
    p->ring = (struct ring *)(mem + l.ring_off);
    p->objs = mem + l.objs_off;
    p->caches = mem + round_up(sizeof(struct pool), LINE);
    p->stride = l.stride;
    p->cache_stride = l.cache_stride;
    p->bytes = l.bytes;
    p->align = l.align;
    p->n_objs = n_objs;
    p->n_caches = n_caches;
    p->cache_size = cache_size;
    p->allocator = a;
    for (unsigned i = 0; i < n_caches; i++)
        atomic_init(&cache_at(p, i)->len, 0);
    if (ring_init(p->ring, l.ring_count) != 0) {
        a.free(a.ctx, mem, l.bytes);   /* cannot happen: the layout checked the count */
        return -EINVAL;
    }
    for (unsigned i = 0; i < n_objs; i++) {
        void *obj = p->objs + (size_t)i * p->stride;

        ring_sp_enqueue_bulk(p->ring, &obj, 1);
    }
    *out = p;
    return 0;
}

/* Once no other thread can touch the pool. */
void pool_destroy(struct pool *p)
{
    if (!p)
        return;
    p->allocator.free(p->allocator.ctx, p, p->bytes);
}

/* Objects to the ring. It has room for every object of the pool, so this
 * only falls short when objects are put twice. */
static void to_ring(struct pool *p, void *const *objs, unsigned n)
{
    unsigned done = ring_mp_enqueue_burst(p->ring, objs, n);

    assert(done == n && "pool_put of an object twice?");
    (void)done;
}

/* The cache's owner, or POOL_NO_CACHE from any thread. */
unsigned pool_get_bulk(struct pool *p, unsigned cache_idx, void **objs, unsigned n)
{
    struct pool_cache *c;
    uint32_t len;

    if (n == 0)
        return 0;
    if (cache_idx == POOL_NO_CACHE || p->cache_size == 0)
        return ring_mc_dequeue_burst(p->ring, objs, n);
    assert(cache_idx < p->n_caches);
    c = cache_at(p, cache_idx);
    len = atomic_load_explicit(&c->len, memory_order_relaxed);
    if (n > p->cache_size) {
        /* Too big for the cache: all it has, then the ring. */
        memcpy(objs, c->objs, len * sizeof(void *));
        atomic_store_explicit(&c->len, 0, memory_order_relaxed);
        return len + ring_mc_dequeue_burst(p->ring, objs + len, n - len);
    }
    if (len < n) {
        /* Refill to cache_size beyond this request: len + (cache_size +
         * n - len) <= 2 * cache_size slots. */
        len += ring_mc_dequeue_burst(p->ring, c->objs + len, p->cache_size + n - len);
        if (len < n)
            n = len;                   /* the pool ran dry */
    }
    /* The most recently put objects first: likeliest still in our caches. */
    for (unsigned i = 0; i < n; i++)
        objs[i] = c->objs[len - 1 - i];
    atomic_store_explicit(&c->len, len - n, memory_order_relaxed);
    return n;
}

/* The cache's owner, or POOL_NO_CACHE from any thread. */
void pool_put_bulk(struct pool *p, unsigned cache_idx, void *const *objs, unsigned n)
{
    struct pool_cache *c;
    uint32_t len;

#ifndef NDEBUG
    for (unsigned i = 0; i < n; i++)
        assert(pool_contains(p, objs[i]) && "pool_put of a foreign object");
#endif
    if (n == 0)
        return;
    if (cache_idx == POOL_NO_CACHE || p->cache_size == 0 || n > p->cache_size) {
        to_ring(p, objs, n);
        return;
    }
    assert(cache_idx < p->n_caches);
    c = cache_at(p, cache_idx);
    len = atomic_load_explicit(&c->len, memory_order_relaxed);
    if (len + n > p->cache_size) {
        to_ring(p, c->objs, len);
        len = 0;
    }
    memcpy(c->objs + len, objs, n * sizeof(void *));
    atomic_store_explicit(&c->len, len + n, memory_order_relaxed);
}

/* As pool_get_bulk. */
void *pool_get(struct pool *p, unsigned cache_idx)
{
    void *obj;

    return pool_get_bulk(p, cache_idx, &obj, 1) == 1 ? obj : NULL;
}

/* As pool_put_bulk. */
void pool_put(struct pool *p, unsigned cache_idx, void *obj)
{
    pool_put_bulk(p, cache_idx, &obj, 1);
}

/* The cache's owner only. */
void pool_cache_flush(struct pool *p, unsigned cache_idx)
{
    struct pool_cache *c;

    if (cache_idx == POOL_NO_CACHE || cache_idx >= p->n_caches)
        return;
    c = cache_at(p, cache_idx);
    to_ring(p, c->objs, atomic_load_explicit(&c->len, memory_order_relaxed));
    atomic_store_explicit(&c->len, 0, memory_order_relaxed);
}

/* Any thread. */
unsigned pool_avail(const struct pool *p)
{
    size_t n = ring_count(p->ring);

    for (unsigned i = 0; i < p->n_caches; i++)
        n += atomic_load_explicit(&cache_at(p, i)->len, memory_order_relaxed);
    return n > p->n_objs ? p->n_objs : (unsigned)n;
}

/* Any thread. */
bool pool_contains(const struct pool *p, const void *obj)
{
    uintptr_t off = (uintptr_t)obj - (uintptr_t)p->objs;   /* huge if below */

    return off < (uintptr_t)p->n_objs * p->stride && off % p->stride == 0;
}

/* Any thread; obj must satisfy pool_contains. */
unsigned pool_index(const struct pool *p, const void *obj)
{
    assert(pool_contains(p, obj));
    return (unsigned)(((uintptr_t)obj - (uintptr_t)p->objs) / p->stride);
}

/* Any thread. */
size_t pool_bytes(const struct pool *p)
{
    return p->bytes;
}

/* The creator, before the pool is shared. */
void pool_init_objects(struct pool *p, void (*init)(void *obj, void *ctx), void *ctx)
{
    for (unsigned i = 0; i < p->n_objs; i++)
        init(p->objs + (size_t)i * p->stride, ctx);
}
