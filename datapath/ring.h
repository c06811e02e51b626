/* SPDX-License-Identifier: MIT */
/*
 * ring.h - bounded lock-free FIFO rings of pointers, after DPDK's lib/ring:
 * the hand-off between datapath stages (I/O -> crypto -> ordered exit) and
 * the free list under datapath/pool.h.
 *
 * A ring holds up to `count` pointers (a power of two). Four free-running
 * 32-bit indexes do all the work: producers claim slots by moving prod.head,
 * write them, then publish by moving prod.tail; consumers claim by moving
 * cons.head, read, then release the slots by moving cons.tail. Index
 * arithmetic is modulo 2^32, so the indexes may wrap at will (ring_reset()
 * lets a test start them just below UINT32_MAX).
 *
 * Concurrency contract, in the function names as in DPDK:
 *   ring_sp_* / ring_sc_*: single producer / single consumer. At most one
 *       thread at a time may be on that side of the ring.
 *   ring_mp_* / ring_mc_*: any number of threads on that side. A claimer
 *       moves the head with a CAS, then waits for every earlier claimer to
 *       publish its tail before publishing its own (short spin, then yield).
 *       So a thread preempted between claim and publish stalls the others on
 *       its side: non-blocking for the other side, not for its own, exactly
 *       like DPDK's default MP/MC mode.
 *   The two sides are independent: SP enqueue with MC dequeue is fine. Never
 *   mix sp and mp calls (or sc and mc) on one ring while they may overlap.
 *   _bulk moves all n or nothing and returns n or 0; _burst moves as many as
 *   it can and returns the count. Neither ever blocks on an empty or full
 *   ring. ring_count(), ring_free_count(), ring_empty(): approximate, any
 *   thread, never torn (at worst slightly out of date).
 *   Items from one producer call come out in order and contiguous; items
 *   from one producer thread come out in its order to any one consumer
 *   (strictly FIFO with one consumer).
 *
 * Memory ordering: every acquire is labelled with the release it pairs with
 * (A/A' ... D/D'); the slots themselves are plain memory ordered by those.
 * Memory: created rings are cache-line aligned; the read-only fields, the
 * producer indexes, the consumer indexes and the slots each start a cache
 * line of their own, so producers and consumers do not false-share.
 * Portability: C11 <stdatomic.h> only, plus sched_yield() or, under _WIN32,
 * SwitchToThread(); no Linux-only calls (the Windows backend uses it too).
 *
 * Why not a package: Debian's liburcu has only unbounded queues (wfcqueue,
 * lfstack), Concurrency Kit's ck_ring (libck-dev) moves one item per call
 * and has no mingw-w64 port, and DPDK's librte-ring drags in the EAL.
 */
#ifndef WB_DATAPATH_RING_H
#define WB_DATAPATH_RING_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef _WIN32
#include <windows.h>
#else
#include <sched.h>
#endif

#define RING_CACHE_LINE 64
#define RING_SIZE_MAX (1U << 31)   /* indexes differ by at most 2^31: no ambiguity mod 2^32 */
#define RING_SPINS_BEFORE_YIELD 64

/* One side's indexes: head = claimed so far, tail = published so far. */
struct ring_headtail {
    _Atomic uint32_t head;
    _Atomic uint32_t tail;
};

struct ring {
    alignas(RING_CACHE_LINE) uint32_t size;      /* slots, a power of two */
    uint32_t mask;                               /* size - 1 */
    uint32_t capacity;                           /* usable slots: == size */
    uint32_t created;                            /* 1: ring_create()d, ring_destroy frees it */
    alignas(RING_CACHE_LINE) struct ring_headtail prod;
    alignas(RING_CACHE_LINE) struct ring_headtail cons;
    alignas(RING_CACHE_LINE) void *slots[];
};

/* Bytes that ring_init() needs for `count` slots (a multiple of
 * RING_CACHE_LINE), or 0 if count is not a power of two in [1, RING_SIZE_MAX].
 * Any thread. */
size_t ring_bytes(uint32_t count);

/* Initialise a ring in caller memory: `mem` RING_CACHE_LINE aligned and
 * ring_bytes(count) long (e.g. inside a pool's region, or NUMA-local memory).
 * 0, or -EINVAL (bad count or misaligned mem). Before any other thread sees
 * the ring; free the memory yourself afterwards (no ring_destroy). */
int ring_init(struct ring *mem, uint32_t count);

/* Allocate (cache-line aligned) and initialise a ring of `count` slots, a
 * power of two in [1, RING_SIZE_MAX]. 0, -EINVAL or -ENOMEM. Any thread;
 * hand the ring to others with the usual happens-before (thread start, a
 * mutex, a release store). */
int ring_create(uint32_t count, struct ring **out);

/* Free a ring from ring_create(). NULL is fine. Only once no other thread
 * can touch it any more. */
void ring_destroy(struct ring *r);

/* Empty the ring and set all four indexes to `start` (tests use a start
 * just below UINT32_MAX to cross the wrap). Only while no other thread uses
 * the ring. */
void ring_reset(struct ring *r, uint32_t start);

/* ------------------------------------------------------------------ waiting */

/* One step of a bounded spin: a CPU pause hint, and every
 * RING_SPINS_BEFORE_YIELD steps a yield of the time slice, so a waiter
 * never burns a whole slice while the thread it waits for is preempted
 * (which matters with more threads than cores). */
static inline void ring_pause(unsigned *spins)
{
    if (++*spins < RING_SPINS_BEFORE_YIELD) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
        __asm__ __volatile__("yield" ::: "memory");
#endif
        return;
    }
    *spins = 0;
#ifdef _WIN32
    SwitchToThread();
#else
    sched_yield();
#endif
}

/* ------------------------------------------------------------------ internals
 * ring_move_*_head, ring_update_tail, ring_do_*: shared by the named
 * variants below, which are the API; call those. `single` and `fixed` are
 * constants at every call site, so each variant compiles to its own path. */

/* Claim up to n slots for producing. Returns how many (0..n; with `fixed`,
 * n or 0) and the claimed range [*old_head, *old_head + count). */
static inline uint32_t ring_move_prod_head(struct ring *r, bool single, uint32_t n,
                                           bool fixed, uint32_t *old_head)
{
    /* (C') acquire: pairs with (C), another producer's CAS of prod.head, so
     * the cons.tail we load next is at least as new as the one that
     * producer checked; free below can then never come out "negative". */
    uint32_t head = atomic_load_explicit(&r->prod.head, memory_order_acquire);

    for (;;) {
        /* (B') acquire: pairs with (B), a consumer's release of cons.tail:
         * consumers have finished reading the slots up to cons_tail before
         * we overwrite them. */
        uint32_t cons_tail = atomic_load_explicit(&r->cons.tail, memory_order_acquire);
        uint32_t free_n = r->capacity + cons_tail - head;
        uint32_t got = n <= free_n ? n : (fixed ? 0 : free_n);

        if (got == 0)
            return 0;
        if (single) {
            /* Only this thread writes prod.head: nobody to race with. */
            atomic_store_explicit(&r->prod.head, head + got, memory_order_relaxed);
            *old_head = head;
            return got;
        }
        /* (C) release: pairs with (C'); on failure head is reloaded with
         * acquire, as (C') above. */
        if (atomic_compare_exchange_weak_explicit(&r->prod.head, &head, head + got,
                                                  memory_order_acq_rel,
                                                  memory_order_acquire)) {
            *old_head = head;
            return got;
        }
    }
}

/* Claim up to n slots for consuming; as ring_move_prod_head. */
static inline uint32_t ring_move_cons_head(struct ring *r, bool single, uint32_t n,
                                           bool fixed, uint32_t *old_head)
{
    /* (D') acquire: pairs with (D), another consumer's CAS of cons.head, so
     * the prod.tail we load next is at least as new as the one it checked. */
    uint32_t head = atomic_load_explicit(&r->cons.head, memory_order_acquire);

    for (;;) {
        /* (A') acquire: pairs with (A), a producer's release of prod.tail:
         * the slots up to prod_tail are written and visible to us. */
        uint32_t prod_tail = atomic_load_explicit(&r->prod.tail, memory_order_acquire);
        uint32_t avail = prod_tail - head;
        uint32_t got = n <= avail ? n : (fixed ? 0 : avail);

        if (got == 0)
            return 0;
        if (single) {
            atomic_store_explicit(&r->cons.head, head + got, memory_order_relaxed);
            *old_head = head;
            return got;
        }
        /* (D) release: pairs with (D'). */
        if (atomic_compare_exchange_weak_explicit(&r->cons.head, &head, head + got,
                                                  memory_order_acq_rel,
                                                  memory_order_acquire)) {
            *old_head = head;
            return got;
        }
    }
}

/* Publish [old_tail, new_tail) on one side: prod (A) or cons (B). With
 * several threads on that side, first wait until every earlier claimer has
 * published (tail == old_tail). */
static inline void ring_update_tail(struct ring_headtail *ht, uint32_t old_tail,
                                    uint32_t new_tail, bool single)
{
    if (!single) {
        unsigned spins = 0;

        /* (A'') / (B'') acquire: pairs with the (A) / (B) release of the
         * claimer just before us, so its slot writes (or reads) happen
         * before our release below, and hence before whoever acquires it. */
        while (atomic_load_explicit(&ht->tail, memory_order_acquire) != old_tail)
            ring_pause(&spins);
    }
    /* (A) release of prod.tail: publishes the slots we wrote to consumers;
     *     pairs with (A') and with the next producer's (A'').
     * (B) release of cons.tail: hands the slots we read back to producers;
     *     pairs with (B') and with the next consumer's (B''). */
    atomic_store_explicit(&ht->tail, new_tail, memory_order_release);
}

static inline unsigned ring_do_enqueue(struct ring *r, void *const *objs, unsigned n,
                                       bool single, bool fixed)
{
    uint32_t head, got, idx, first;

    if (n == 0)
        return 0;
    if (n > r->capacity)
        n = fixed ? r->capacity + 1 : r->capacity;   /* fixed: sure to fail */
    got = ring_move_prod_head(r, single, n, fixed, &head);
    if (got == 0)
        return 0;
    /* Plain stores: the slots are ours between (B') and (A). */
    idx = head & r->mask;
    first = r->size - idx < got ? r->size - idx : got;
    for (uint32_t i = 0; i < first; i++)
        r->slots[idx + i] = objs[i];
    for (uint32_t i = first; i < got; i++)
        r->slots[i - first] = objs[i];
    ring_update_tail(&r->prod, head, head + got, single);
    return got;
}

static inline unsigned ring_do_dequeue(struct ring *r, void **objs, unsigned n,
                                       bool single, bool fixed)
{
    uint32_t head, got, idx, first;

    if (n == 0)
        return 0;
    if (n > r->capacity)
        n = fixed ? r->capacity + 1 : r->capacity;
    got = ring_move_cons_head(r, single, n, fixed, &head);
    if (got == 0)
        return 0;
    /* Plain loads: the slots are ours between (A') and (B). */
    idx = head & r->mask;
    first = r->size - idx < got ? r->size - idx : got;
    for (uint32_t i = 0; i < first; i++)
        objs[i] = r->slots[idx + i];
    for (uint32_t i = first; i < got; i++)
        objs[i] = r->slots[i - first];
    ring_update_tail(&r->cons, head, head + got, single);
    return got;
}

/* ------------------------------------------------------------------ enqueue */

/* Enqueue all n pointers or none: returns n or 0.
 * sp: only one thread at a time may enqueue on this ring (any thread, as
 * long as hand-overs between threads are ordered). mp: any threads,
 * concurrently. */
static inline unsigned ring_sp_enqueue_bulk(struct ring *r, void *const *objs, unsigned n)
{
    return ring_do_enqueue(r, objs, n, true, true);
}

static inline unsigned ring_mp_enqueue_bulk(struct ring *r, void *const *objs, unsigned n)
{
    return ring_do_enqueue(r, objs, n, false, true);
}

/* Enqueue as many of the n pointers as fit, in order; returns the count
 * (objs[0..count) went in). Threads: as the _bulk variants above. */
static inline unsigned ring_sp_enqueue_burst(struct ring *r, void *const *objs, unsigned n)
{
    return ring_do_enqueue(r, objs, n, true, false);
}

static inline unsigned ring_mp_enqueue_burst(struct ring *r, void *const *objs, unsigned n)
{
    return ring_do_enqueue(r, objs, n, false, false);
}

/* ------------------------------------------------------------------ dequeue */

/* Dequeue exactly n pointers into objs, or none: returns n or 0.
 * sc: only one thread at a time may dequeue from this ring. mc: any
 * threads, concurrently. */
static inline unsigned ring_sc_dequeue_bulk(struct ring *r, void **objs, unsigned n)
{
    return ring_do_dequeue(r, objs, n, true, true);
}

static inline unsigned ring_mc_dequeue_bulk(struct ring *r, void **objs, unsigned n)
{
    return ring_do_dequeue(r, objs, n, false, true);
}

/* Dequeue up to n pointers into objs; returns the count. Threads: as the
 * _bulk variants above. */
static inline unsigned ring_sc_dequeue_burst(struct ring *r, void **objs, unsigned n)
{
    return ring_do_dequeue(r, objs, n, true, false);
}

static inline unsigned ring_mc_dequeue_burst(struct ring *r, void **objs, unsigned n)
{
    return ring_do_dequeue(r, objs, n, false, false);
}

/* ------------------------------------------------------------------ readers */

/* Entries published and not yet released, approximately (stale while other
 * threads work, never above the capacity). Any thread. */
static inline unsigned ring_count(const struct ring *r)
{
    /* (B') acquire: pairs with (B); the consumer that released this
     * cons.tail had seen prod.tail >= it, so the prod.tail we load next is
     * too, and the difference is never negative. */
    uint32_t cons_tail = atomic_load_explicit(&r->cons.tail, memory_order_acquire);
    uint32_t prod_tail = atomic_load_explicit(&r->prod.tail, memory_order_relaxed);
    uint32_t n = prod_tail - cons_tail;

    return n > r->capacity ? r->capacity : n;
}

/* Free slots, approximately. Any thread. */
static inline unsigned ring_free_count(const struct ring *r)
{
    return r->capacity - ring_count(r);
}

/* True if the ring looked empty. Any thread. */
static inline bool ring_empty(const struct ring *r)
{
    return ring_count(r) == 0;
}

/* Usable slots (the count given at creation). Any thread. */
static inline unsigned ring_capacity(const struct ring *r)
{
    return r->capacity;
}

#endif
