/* SPDX-License-Identifier: MIT */
/*
 * test_replay.c - the replay window: fixed scenarios at every edge (window
 * boundary, ring wrap, big jumps, the REJECT_AFTER_MESSAGES limit) and a
 * randomized comparison against a naive model (a set of seen counters plus
 * the greatest one) that implements the same accept rule.
 */
#include <stdbool.h>
#include <stdint.h>

#include "check.h"
#define TEST_RNG_SEED 0x2545f4914f6cdd1dULL
#include "rng.h"
#include "proto/replay.h"

static bool accept(struct replay_counter *c, uint64_t n)
{
    return replay_check_and_update(c, n);
}

static void test_fresh_and_in_order(void)
{
    struct replay_counter c;
    bool all = true;

    replay_init(&c);
    CHECK(c.counter == 0 && c.received == 0);
    CHECK(accept(&c, 0));           /* a fresh window accepts counter 0 */
    CHECK(!accept(&c, 0));
    for (uint64_t n = 1; n < 20000; n++)
        all &= accept(&c, n);
    CHECK(all);
    CHECK(c.counter == 20000);
    CHECK(c.received == 20000);
    for (uint64_t n = 19990; n < 20000; n++)
        CHECK(!accept(&c, n));
    CHECK(c.received == 20000);
}

static void test_duplicates_and_reorder(void)
{
    struct replay_counter c;
    static const uint64_t order[] = { 5, 3, 4, 1, 0, 2, 9, 7, 8, 6 };

    replay_init(&c);
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
        CHECK(accept(&c, order[i]));
    for (uint64_t n = 0; n < 10; n++)
        CHECK(!accept(&c, n));
    CHECK(c.counter == 10);
    CHECK(c.received == 10);

    /* A gap stays open until filled, then is closed. */
    CHECK(accept(&c, 100));
    CHECK(accept(&c, 50));
    CHECK(!accept(&c, 50));
    CHECK(accept(&c, 99));
    CHECK(!accept(&c, 100));
    CHECK(accept(&c, 10));
    CHECK(c.received == 14);
}

static void test_window_edge(void)
{
    struct replay_counter c;
    const uint64_t top = 100000;

    replay_init(&c);
    CHECK(accept(&c, top));
    CHECK(accept(&c, top - COUNTER_WINDOW_SIZE));        /* exactly the window */
    CHECK(!accept(&c, top - COUNTER_WINDOW_SIZE));
    CHECK(!accept(&c, top - COUNTER_WINDOW_SIZE - 1));   /* just beyond */
    CHECK(!accept(&c, 0));
    CHECK(accept(&c, top - COUNTER_WINDOW_SIZE + 1));
    CHECK(accept(&c, top - 1));

    /* Edge for every alignment of the newest counter within a word. */
    for (uint64_t t = 20000; t < 20000 + 64; t++) {
        replay_init(&c);
        CHECK(accept(&c, t));
        CHECK(!accept(&c, t - COUNTER_WINDOW_SIZE - 1));
        CHECK(accept(&c, t - COUNTER_WINDOW_SIZE));
        CHECK(accept(&c, t - 1));
    }

    /* Small newest counters: everything from 0 is inside the window. */
    replay_init(&c);
    CHECK(accept(&c, COUNTER_WINDOW_SIZE));
    CHECK(accept(&c, 0));
    replay_init(&c);
    CHECK(accept(&c, COUNTER_WINDOW_SIZE + 1));
    CHECK(!accept(&c, 0));
    CHECK(accept(&c, 1));
}

/* Fill the whole window, then advance so every slot of the ring is reused. */
static void test_ring_wrap(void)
{
    struct replay_counter c;
    bool all = true;

    replay_init(&c);
    for (uint64_t n = 0; n <= COUNTER_WINDOW_SIZE; n++)
        all &= accept(&c, n);
    CHECK(all);
    for (uint64_t n = COUNTER_WINDOW_SIZE + 1; n < 3 * COUNTER_BITS_TOTAL; n += 7) {
        all &= accept(&c, n);
        all &= !accept(&c, n);
        all &= !accept(&c, n - 7);   /* still marked after the ring wrapped */
    }
    CHECK(all);
}

static void test_big_jumps(void)
{
    struct replay_counter c;
    const uint64_t far = 1ULL << 40;

    replay_init(&c);
    for (uint64_t n = 0; n < 9000; n++)
        accept(&c, n);
    /* Jump further than the ring: every stale bit must be cleared, so the
     * counters that alias the old ones in the ring are all accepted. */
    CHECK(accept(&c, far));
    for (uint64_t n = far - COUNTER_WINDOW_SIZE; n < far; n++) {
        if (!accept(&c, n)) {
            CHECK(!"counter aliasing an old ring bit was rejected");
            break;
        }
    }
    CHECK(!accept(&c, 8999));
    CHECK(!accept(&c, far - COUNTER_WINDOW_SIZE - 1));

    /* A jump of less than one ring: only the words in between are cleared,
     * counters already seen in the overlapping part stay rejected. */
    replay_init(&c);
    for (uint64_t n = 0; n < 1000; n++)
        accept(&c, n);
    CHECK(accept(&c, 5000));
    CHECK(!accept(&c, 999));
    CHECK(!accept(&c, 0));
    CHECK(accept(&c, 1000));
    CHECK(accept(&c, 4999));
    CHECK(accept(&c, 5000 + 64 * 3 + 5));   /* jump within a few words */
    CHECK(accept(&c, 5001));
    CHECK(!accept(&c, 4999));
}

static void test_reject_after_messages(void)
{
    struct replay_counter c;

    replay_init(&c);
    CHECK(!accept(&c, REJECT_AFTER_MESSAGES));
    CHECK(!accept(&c, UINT64_MAX));
    CHECK(!accept(&c, UINT64_MAX - 1));
    CHECK(c.counter == 0 && c.received == 0);   /* rejected values never move the window */
    CHECK(accept(&c, REJECT_AFTER_MESSAGES - 1));
    CHECK(!accept(&c, REJECT_AFTER_MESSAGES - 1));
    CHECK(!accept(&c, REJECT_AFTER_MESSAGES));
    CHECK(!accept(&c, UINT64_MAX));
    CHECK(accept(&c, REJECT_AFTER_MESSAGES - 2));
    CHECK(accept(&c, REJECT_AFTER_MESSAGES - 1 - COUNTER_WINDOW_SIZE));
    CHECK(!accept(&c, REJECT_AFTER_MESSAGES - 2 - COUNTER_WINDOW_SIZE));
    CHECK(!accept(&c, 0));
    CHECK(c.counter == REJECT_AFTER_MESSAGES);
    CHECK(c.received == 3);
}

/* ---- naive model: open-addressing set of every accepted counter */

#define MODEL_SLOTS (1U << 19)

struct model {
    uint64_t *slots;     /* key + 1, 0 = empty (keys are < REJECT_AFTER_MESSAGES) */
    bool any;
    uint64_t max;
};

static size_t model_slot(const struct model *m, uint64_t n)
{
    size_t i = (size_t)((n * 0x9e3779b97f4a7c15ULL) >> 45) & (MODEL_SLOTS - 1);

    while (m->slots[i] != 0 && m->slots[i] != n + 1)
        i = (i + 1) & (MODEL_SLOTS - 1);
    return i;
}

static bool model_accept(struct model *m, uint64_t n)
{
    size_t i;

    if (n >= REJECT_AFTER_MESSAGES)
        return false;
    if (m->any && n + COUNTER_WINDOW_SIZE < m->max)
        return false;
    i = model_slot(m, n);
    if (m->slots[i] != 0)
        return false;
    m->slots[i] = n + 1;
    if (!m->any || n > m->max)
        m->max = n;
    m->any = true;
    return true;
}

static uint64_t next_counter(uint64_t max, uint64_t base)
{
    uint64_t r = rng() % 100;

    if (r < 40)
        return max + 1 + rng() % 4;                   /* mostly in order */
    if (r < 70)
        return max - (max - base < 9000 ? rng() % (max - base + 1) : rng() % 9000); /* reorder */
    if (r < 80)
        return max - COUNTER_WINDOW_SIZE - 2 + rng() % 5; /* around the edge */
    if (r < 90)
        return max + rng() % (3 * COUNTER_BITS_TOTAL);     /* jumps within ~3 rings */
    if (r < 91)
        return max + rng() % (1ULL << 24);                  /* rare big jump */
    return max - rng() % 200;                               /* likely duplicate */
}

/* Returns the number of disagreements; *accepted_out counts accepts. */
static unsigned long run_random(uint64_t base, unsigned long ops, unsigned long *accepted_out)
{
    struct replay_counter c;
    struct model m = { calloc(MODEL_SLOTS, sizeof(uint64_t)), false, 0 };
    unsigned long mismatches = 0, accepted = 0;

    if (!m.slots) {
        CHECK(!"out of memory");
        return 1;
    }
    replay_init(&c);
    m.max = base;
    for (unsigned long i = 0; i < ops; i++) {
        uint64_t n = next_counter(m.max, base);
        bool want = model_accept(&m, n);
        bool got = replay_check_and_update(&c, n);

        if (want != got && mismatches++ < 5)
            fprintf(stderr, "mismatch at op %lu: counter %llu model %d window %d\n", i,
                    (unsigned long long)n, want, got);
        accepted += want;
    }
    CHECK(c.received == accepted);
    *accepted_out = accepted;
    free(m.slots);
    return mismatches;
}

static void test_random_against_model(void)
{
    unsigned long accepted;

    CHECK(run_random(0, 200000, &accepted) == 0);
    CHECK(accepted > 200000 / 4);   /* the mix really exercises accepts */
    /* Near the limit: about halfway through, the counters reach
     * REJECT_AFTER_MESSAGES; both must then refuse everything above it. */
    CHECK(run_random(REJECT_AFTER_MESSAGES - (1ULL << 32), 100000, &accepted) == 0);
    CHECK(accepted > 1000);
}

int main(void)
{
    test_fresh_and_in_order();
    test_duplicates_and_reorder();
    test_window_edge();
    test_ring_wrap();
    test_big_jumps();
    test_reject_after_messages();
    test_random_against_model();
    return check_summary();
}
