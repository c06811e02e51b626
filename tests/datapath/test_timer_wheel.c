/* SPDX-License-Identifier: MIT */
/*
 * test_timer_wheel.c - the timing wheel against a reference model: an
 * entry filed for time d comes out of the first expire(now) with
 * d / tick <= now / tick, exactly once, and never earlier; cancel and
 * refile move it; time may jump by more than a whole turn.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "datapath/timer_wheel.h"
#include "rng.h"

#define TICK 100
#define SLOTS 64
#define N 500

struct item {
    struct wheel_entry e;
    uint64_t due;            /* model: 0 = not filed */
    bool out;
};

static struct item items[N];

static uint64_t below(uint64_t n)
{
    return rng() % n;
}

static void check_expire(struct timer_wheel *w, uint64_t now)
{
    struct cds_list_head out;
    struct wheel_entry *e, *next;
    size_t n, expected = 0, filed = 0;

    CDS_INIT_LIST_HEAD(&out);
    for (int i = 0; i < N; i++)
        items[i].out = false;
    n = timer_wheel_expire(w, now, &out);
    cds_list_for_each_entry_safe(e, next, &out, link) {
        struct item *it = caa_container_of(e, struct item, e);

        CHECK(!it->out);
        it->out = true;
        CHECK(it->due != 0 && it->due / TICK <= now / TICK);
        CHECK(!wheel_entry_filed(e));
        cds_list_del_init(&e->link);
    }
    for (int i = 0; i < N; i++) {
        if (items[i].due && items[i].due / TICK <= now / TICK) {
            expected++;
            CHECK(items[i].out);
            items[i].due = 0;
        }
        filed += items[i].due != 0;
    }
    CHECK(n == expected);
    CHECK(w->count == filed);
}

static void test_random(void)
{
    struct timer_wheel w;
    uint64_t now = 123456;
    CHECK(timer_wheel_init(&w, SLOTS, TICK, now) == 0);
    for (int i = 0; i < N; i++)
        wheel_entry_init(&items[i].e);
    for (int round = 0; round < 4000; round++) {
        int i = (int)below(N);
        unsigned op = (unsigned)below(10);

        if (op < 5) {
            /* File: near, far (several turns), or already past. */
            uint64_t d = below(4) == 0 ? now - below(500) : now + below(op < 3 ? 2000 : 40000);
            if (d == 0)
                d = 1;
            timer_wheel_file(&w, &items[i].e, d);
            items[i].due = d;
        } else if (op < 7) {
            timer_wheel_cancel(&w, &items[i].e);
            items[i].due = 0;
        } else {
            /* Advance: within a tick, a few ticks, or more than a turn. */
            unsigned how = (unsigned)below(10);

            now += how < 4 ? below(TICK) : how < 9 ? below(8 * TICK)
                                                            : below(3 * SLOTS * TICK);
            check_expire(&w, now);
        }
    }
    for (int i = 0; i < N; i++)
        timer_wheel_cancel(&w, &items[i].e);
    CHECK(w.count == 0);
    timer_wheel_free(&w);
    printf("timer wheel: 4000 random file/cancel/expire steps match the model\n");
}

static void test_past_and_refile(void)
{
    struct timer_wheel w;
    struct cds_list_head out;
    struct item a, b;

    CHECK(timer_wheel_init(&w, 6, TICK, 1000) == -EINVAL);
    CHECK(timer_wheel_init(&w, 8, 0, 1000) == -EINVAL);
    CHECK(timer_wheel_init(&w, 8, TICK, 1000) == 0);
    wheel_entry_init(&a.e);
    wheel_entry_init(&b.e);
    CDS_INIT_LIST_HEAD(&out);
    CHECK(timer_wheel_expire(&w, 1050, &out) == 0);
    /* A deadline already visited comes out at the next expire. */
    timer_wheel_file(&w, &a.e, 900);
    CHECK(timer_wheel_expire(&w, 1120, &out) == 1);
    /* Refiling an entry that sits on the expire list takes it off. */
    timer_wheel_file(&w, &a.e, 5000);
    CHECK(cds_list_empty(&out));
    /* Far away: looked at each turn, out only when due. */
    timer_wheel_file(&w, &b.e, 1000 + 20 * TICK);
    CHECK(timer_wheel_expire(&w, 1000 + 9 * TICK, &out) == 0);
    CHECK(timer_wheel_expire(&w, 1000 + 19 * TICK, &out) == 0);
    CHECK(timer_wheel_expire(&w, 1000 + 20 * TICK, &out) == 1);
    timer_wheel_cancel(&w, &b.e);
    CHECK(cds_list_empty(&out) && w.count == 1);
    timer_wheel_cancel(&w, &a.e);
    CHECK(w.count == 0);
    timer_wheel_free(&w);
    printf("timer wheel: past deadlines, refile off the expire list, far entries\n");
}

int main(void)
{
    test_random();
    test_past_and_refile();
    return check_summary();
}
