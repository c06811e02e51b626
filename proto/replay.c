/* SPDX-License-Identifier: MIT */
/*
 * replay.c - the receive-side counter window (RFC 6479 without shifts).
 *
 * The ring holds COUNTER_BITS_TOTAL bits as 64-bit words. Bit position of a
 * counter n is (n + 1): c->counter is one past the greatest counter seen, so
 * storing n + 1 keeps "c->counter" and the newest bit in the same word and
 * lets a fresh window (counter 0) accept n = 0. When a counter jumps ahead,
 * the words between the old and new newest word are cleared (at most the
 * whole ring); the word after the newest one is always stale, which is why
 * only COUNTER_WINDOW_SIZE of the ring's bits form the window.
 */
#include "proto/replay.h"

#include <string.h>

#define WORD_BITS 64U
#define WORD_SHIFT 6U
#define RING_WORDS (COUNTER_BITS_TOTAL / WORD_BITS)

_Static_assert((RING_WORDS & (RING_WORDS - 1)) == 0, "ring size must be a power of two");

void replay_init(struct replay_counter *c)
{
    memset(c, 0, sizeof(*c));
}

/* Clear the words strictly after the word of `from` up to and including the
 * word of `to` (to > from), at most the whole ring. */
static void clear_ahead(struct replay_counter *c, uint64_t from, uint64_t to)
{
    uint64_t word_from = from >> WORD_SHIFT;
    uint64_t gap = (to >> WORD_SHIFT) - word_from;

    if (gap > RING_WORDS)
        gap = RING_WORDS;
    for (uint64_t i = 1; i <= gap; i++)
        c->backtrack[(word_from + i) & (RING_WORDS - 1)] = 0;
}

/* Concurrency: the caller serialises calls on one replay_counter. */
bool replay_check_and_update(struct replay_counter *c, uint64_t counter)
{
    uint64_t pos, bit, *word;

    if (counter >= REJECT_AFTER_MESSAGES || c->counter > REJECT_AFTER_MESSAGES)
        return false;
    pos = counter + 1;  /* cannot overflow: counter < REJECT_AFTER_MESSAGES */
    if (pos + COUNTER_WINDOW_SIZE < c->counter)
        return false;   /* more than COUNTER_WINDOW_SIZE behind the newest */

    if (pos > c->counter) {
        clear_ahead(c, c->counter, pos);
        c->counter = pos;
    }

    word = &c->backtrack[(pos >> WORD_SHIFT) & (RING_WORDS - 1)];
    bit = 1ULL << (pos & (WORD_BITS - 1));
    if (*word & bit)
        return false;
    *word |= bit;
    c->received++;
    return true;
}
