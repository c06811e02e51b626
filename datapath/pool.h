/* SPDX-License-Identifier: MIT */
/*
 * pool.h - a fixed-size object pool with per-thread caches, after DPDK's
 * mempool: packet buffers and other per-packet objects without malloc on
 * the datapath.
 *
 * All n_objs objects are allocated once, at pool_create(), in one aligned
 * region (with the pool header, its caches and its ring); nothing is
 * allocated or freed afterwards. Free objects sit in an MPMC ring
 * (datapath/ring.h) and in n_caches per-thread caches of up to cache_size
 * objects each, which are refilled from and flushed to the ring in bursts,
 * so a thread touches the shared ring about once per cache_size objects.
 * An empty pool hands out fewer objects than asked (possibly none): it
 * never blocks and never allocates. Objects held in other threads' caches
 * are not available to this one until those threads put or flush them.
 *
 * Concurrency contract:
 *   - cache index i (0 <= i < n_caches) belongs to exactly one thread at a
 *     time: pool_get*, pool_put* and pool_cache_flush with index i must not
 *     overlap each other. A cache may change hands only with a
 *     happens-before between the threads (thread join, a mutex, a queue).
 *     A worker thread typically owns the cache with its own index.
 *   - POOL_NO_CACHE: any thread, concurrently with anything; it goes
 *     straight to the ring (for control threads and other rare users).
 *   - pool_avail, pool_contains, pool_index, pool_bytes: any thread.
 *   - pool_create / pool_destroy: while no other thread uses the pool.
 * Portability: C11 atomics (through ring.h) and malloc; no Linux-only calls.
 */
#ifndef WB_DATAPATH_POOL_H
#define WB_DATAPATH_POOL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#define POOL_NO_CACHE UINT_MAX     /* cache index of a thread with no cache */
#define POOL_CACHE_MAX 1024        /* largest cache_size */
#define POOL_ALIGN_MAX 4096        /* largest obj_align */
#define POOL_OBJS_MAX (1U << 30)   /* largest n_objs */

struct pool;

/* Where the pool's one region comes from (e.g. NUMA-local memory). alloc
 * returns `size` bytes aligned to `align` (a power of two, >= 64) or NULL;
 * free gets back the same pointer and size. Called only from pool_create
 * and pool_destroy, in their threads. */
struct pool_allocator {
    void *(*alloc)(void *ctx, size_t size, size_t align);
    void (*free)(void *ctx, void *mem, size_t size);
    void *ctx;
};

/* Create a pool of n_objs objects of obj_size bytes, each aligned to
 * obj_align (a power of two up to POOL_ALIGN_MAX; 0: alignof(max_align_t);
 * 64 keeps every object on its own cache lines), with n_caches caches of
 * up to cache_size objects (cache_size <= POOL_CACHE_MAX and <= n_objs;
 * 0 caches or cache_size 0: every call goes to the ring). Object contents
 * start undefined. 0, -EINVAL or -ENOMEM; *out is NULL on error.
 * Any thread; hand the pool over with a happens-before. */
int pool_create(size_t obj_size, size_t obj_align, unsigned n_objs, unsigned n_caches,
                unsigned cache_size, struct pool **out);

/* pool_create with the region from `allocator` (NULL: aligned malloc). */
int pool_create_with(size_t obj_size, size_t obj_align, unsigned n_objs, unsigned n_caches,
                     unsigned cache_size, const struct pool_allocator *allocator,
                     struct pool **out);

/* Free the pool and every object in it, handed out or not. NULL is fine.
 * Only once no other thread can touch the pool. */
void pool_destroy(struct pool *p);

/* Get up to n free objects into objs; returns how many (fewer, even 0,
 * when the pool runs dry). cache_idx: the calling thread's own cache, or
 * POOL_NO_CACHE (see the contract above). */
unsigned pool_get_bulk(struct pool *p, unsigned cache_idx, void **objs, unsigned n);

/* Return n objects, each got from this pool and not returned since.
 * Threads: as pool_get_bulk. Never fails; returning a foreign object or
 * one twice is a programming error (asserted in debug builds). */
void pool_put_bulk(struct pool *p, unsigned cache_idx, void *const *objs, unsigned n);

/* One object, or NULL if the pool is dry. Threads: as pool_get_bulk. */
void *pool_get(struct pool *p, unsigned cache_idx);

/* Return one object. Threads: as pool_put_bulk. */
void pool_put(struct pool *p, unsigned cache_idx, void *obj);

/* Move every object in cache cache_idx back to the ring (a worker about
 * to stop, or to let other threads have them). The cache's owner only. */
void pool_cache_flush(struct pool *p, unsigned cache_idx);

/* Free objects, in the ring and in all caches: approximate while other
 * threads work, exact when none does. Any thread. */
unsigned pool_avail(const struct pool *p);

/* Whether obj is the start of one of this pool's objects. Any thread. */
bool pool_contains(const struct pool *p, const void *obj);

/* The index, 0..n_objs-1, of an object for which pool_contains() is
 * true (tests keep bitmaps with it). Any thread. */
unsigned pool_index(const struct pool *p, const void *obj);

/* Bytes the pool holds: header, caches, ring and objects. Any thread. */
size_t pool_bytes(const struct pool *p);
/* Run init on every object (e.g. to lay out a header once), free or not.
 * Only while no other thread uses the pool: right after create. */
void pool_init_objects(struct pool *p, void (*init)(void *obj, void *ctx), void *ctx);

#endif
