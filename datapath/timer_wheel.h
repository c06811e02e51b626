/* SPDX-License-Identifier: MIT */
/*
 * timer_wheel.h - a hashed timing wheel: what is due, without looking at
 * what is not.
 *
 * The handshake thread files each peer that has a timer armed under the
 * earliest of its deadlines, and each tick takes out only the entries of
 * the slots that came due. Filing, refiling and cancelling are O(1); a
 * tick costs the entries of its slot, and an entry further away than one
 * turn (n_slots ticks) is looked at once per turn until it is due. A
 * device with 100,000 idle peers therefore costs nothing per tick, where
 * a sweep over every peer cost 14.8 % of a core at 20,000.
 *
 * Resolution is one tick: an entry comes out at the first tick whose
 * index (time / tick_ns) reaches its deadline's, so up to one tick early
 * (the owner checks the exact deadlines and refiles) and, with a tick
 * each tick_ns, at most one tick late. A deadline already past is due at
 * the next expire.
 *
 * Concurrency: none. One thread owns a wheel and its entries' link and
 * due fields (the handshake thread, datapath/handshake.c).
 */
#ifndef WB_DATAPATH_TIMER_WHEEL_H
#define WB_DATAPATH_TIMER_WHEEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <urcu/list.h>

struct wheel_entry {
    struct cds_list_head link;
    uint64_t due;                  /* filed for this time; 0 = not filed */
};

struct timer_wheel {
    struct cds_list_head *slots;
    uint64_t mask;                 /* n_slots - 1 */
    uint64_t tick_ns;
    uint64_t cursor;               /* the last tick index expire visited */
    size_t count;                  /* entries filed */
};

/* n_slots: a power of two. Returns 0 or -ENOMEM / -EINVAL. */
int timer_wheel_init(struct timer_wheel *w, unsigned n_slots, uint64_t tick_ns, uint64_t now);
/* The wheel must be empty (entries belong to their owners). */
void timer_wheel_free(struct timer_wheel *w);

static inline void wheel_entry_init(struct wheel_entry *e)
{
    CDS_INIT_LIST_HEAD(&e->link);
    e->due = 0;
}

static inline bool wheel_entry_filed(const struct wheel_entry *e)
{
    return e->due != 0;
}

/* File e for due (not 0), moving it if it was filed already, and taking
 * it off the expire list it may be on (iterate that list with
 * cds_list_for_each_entry_safe). */
void timer_wheel_file(struct timer_wheel *w, struct wheel_entry *e, uint64_t due);
/* Take e out of the wheel, or off an expire list. */
void timer_wheel_cancel(struct timer_wheel *w, struct wheel_entry *e);
/* Move the entries that are due at now (by tick index, see above) onto
 * the list `out`, unfiled (due = 0). Visits the slots of the ticks since
 * the last call, at most every slot once. Returns how many came out. */
size_t timer_wheel_expire(struct timer_wheel *w, uint64_t now, struct cds_list_head *out);

#endif
