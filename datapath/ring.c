/* SPDX-License-Identifier: MIT */
/*
 * ring.c - creating, initialising and resetting rings (datapath/ring.h);
 * the enqueue/dequeue paths are inline in the header.
 *
 * Concurrency: nothing here may overlap any other use of the same ring;
 * each function says so. Portable C11 (aligned_alloc, or _aligned_malloc
 * under _WIN32 where mingw-w64's CRT has no aligned_alloc).
 */
#include "datapath/ring.h"

#include <errno.h>
#include <stdlib.h>

_Static_assert(offsetof(struct ring, prod) % RING_CACHE_LINE == 0, "prod on its own line");
_Static_assert(offsetof(struct ring, cons) - offsetof(struct ring, prod) >= RING_CACHE_LINE,
               "prod and cons on separate lines");
_Static_assert(offsetof(struct ring, slots) - offsetof(struct ring, cons) >= RING_CACHE_LINE,
               "cons and slots on separate lines");

static bool count_ok(uint32_t count)
{
    return count != 0 && count <= RING_SIZE_MAX && (count & (count - 1)) == 0;
}

/* Any thread. */
size_t ring_bytes(uint32_t count)
{
    size_t n;

    if (!count_ok(count))
        return 0;
#if SIZE_MAX <= UINT32_MAX
    if (count > (SIZE_MAX - offsetof(struct ring, slots) - RING_CACHE_LINE) / sizeof(void *))
        return 0;   /* 32-bit size_t and a huge ring */
#endif
    n = offsetof(struct ring, slots) + (size_t)count * sizeof(void *);
    return (n + RING_CACHE_LINE - 1) & ~(size_t)(RING_CACHE_LINE - 1);
}

/* Before any other thread sees the ring. */
int ring_init(struct ring *mem, uint32_t count)
{
    if (!count_ok(count) || ring_bytes(count) == 0 ||
        ((uintptr_t)mem & (RING_CACHE_LINE - 1)) != 0)
        return -EINVAL;
    mem->size = count;
    mem->mask = count - 1;
    mem->capacity = count;
    mem->created = 0;
    ring_reset(mem, 0);
    return 0;
}

/* Any thread; the new ring is this thread's until it is handed over. */
int ring_create(uint32_t count, struct ring **out)
{
    size_t bytes = ring_bytes(count);
    struct ring *r;

    *out = NULL;
    if (bytes == 0)
        return -EINVAL;
#ifdef _WIN32
    r = _aligned_malloc(bytes, RING_CACHE_LINE);
#else
    r = aligned_alloc(RING_CACHE_LINE, bytes);   /* bytes is a multiple of the line */
#endif
    if (!r)
        return -ENOMEM;
    ring_init(r, count);
    r->created = 1;
    *out = r;
    return 0;
}

/* Once no other thread can touch the ring. */
void ring_destroy(struct ring *r)
{
    if (!r || !r->created)
        return;
#ifdef _WIN32
    _aligned_free(r);
#else
    free(r);
#endif
}

/* Only while no other thread uses the ring. The slots need no clearing:
 * nothing reads a slot before a producer has written it. */
void ring_reset(struct ring *r, uint32_t start)
{
    atomic_store_explicit(&r->prod.head, start, memory_order_relaxed);
    atomic_store_explicit(&r->prod.tail, start, memory_order_relaxed);
    atomic_store_explicit(&r->cons.head, start, memory_order_relaxed);
    atomic_store_explicit(&r->cons.tail, start, memory_order_relaxed);
}
