/* SPDX-License-Identifier: MIT */
/*
 * timer_wheel.c - a hashed timing wheel (timer_wheel.h). Slot i holds the
 * entries whose deadline's tick index is i modulo the number of slots; an
 * entry whose tick was already visited goes to the cursor's slot (the
 * last tick visited, which every expire visits again), so it comes out at
 * the next expire.
 *
 * Linux's timer wheel (kernel/time/timer.c) is hierarchical and in the
 * kernel; liburcu, hwloc and libsodium have none, and the Debian timer
 * libraries (libevent, libev) bring a whole event loop. One level is
 * enough here: peers' deadlines are seconds to minutes away and a far
 * entry costs one look per turn.
 */
#include "datapath/timer_wheel.h"

#include <errno.h>
#include <stdlib.h>

int timer_wheel_init(struct timer_wheel *w, unsigned n_slots, uint64_t tick_ns, uint64_t now)
{
    if (!n_slots || (n_slots & (n_slots - 1)) || !tick_ns)
        return -EINVAL;
    w->slots = malloc(n_slots * sizeof(*w->slots));
    if (!w->slots)
        return -ENOMEM;
    for (unsigned i = 0; i < n_slots; i++)
        CDS_INIT_LIST_HEAD(&w->slots[i]);
    w->mask = n_slots - 1;
    w->tick_ns = tick_ns;
    w->cursor = now / tick_ns;
    w->count = 0;
    return 0;
}

void timer_wheel_free(struct timer_wheel *w)
{
    free(w->slots);
    w->slots = NULL;
}

void timer_wheel_file(struct timer_wheel *w, struct wheel_entry *e, uint64_t due)
{
    uint64_t tick = due / w->tick_ns;

    /* Also takes it off an expire list (or off itself: harmless). */
    cds_list_del(&e->link);
    if (!wheel_entry_filed(e))
        w->count++;
    if (tick < w->cursor)
        tick = w->cursor;
    e->due = due ? due : 1;
    cds_list_add_tail(&e->link, &w->slots[tick & w->mask]);
}

void timer_wheel_cancel(struct timer_wheel *w, struct wheel_entry *e)
{
    cds_list_del_init(&e->link);       /* also off an expire list */
    if (!wheel_entry_filed(e))
        return;
    e->due = 0;
    w->count--;
}

size_t timer_wheel_expire(struct timer_wheel *w, uint64_t now, struct cds_list_head *out)
{
    uint64_t last = now / w->tick_ns, first = w->cursor;
    size_t n = 0;

    /* The cursor's tick is visited again: entries filed for a tick
     * already passed went into its slot. */
    if (last < first)
        last = first;
    /* More than a turn passed: every slot once, each entry by its own
     * tick index. */
    if (last - first > w->mask)
        first = last - w->mask;
    for (uint64_t t = first; t <= last && w->count; t++) {
        struct cds_list_head *slot = &w->slots[t & w->mask];
        struct wheel_entry *e, *next;

        cds_list_for_each_entry_safe(e, next, slot, link) {
            if (e->due / w->tick_ns > last)
                continue;              /* a later turn */
            cds_list_del(&e->link);
            cds_list_add_tail(&e->link, out);
            e->due = 0;
            w->count--;
            n++;
        }
    }
    w->cursor = last;
    return n;
}
