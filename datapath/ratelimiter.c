/* SPDX-License-Identifier: MIT */
/*
 * ratelimiter.c - the handshake rate limiter: a fixed pool of token buckets
 * in a chained hash table keyed by source (SipHash with a random key, so a
 * sender cannot aim all its addresses at one chain).
 *
 * Tokens are counted in nanoseconds of credit: a message costs
 * PACKET_COST_NS, credit accrues one nanosecond per nanosecond of time and
 * is capped at TOKEN_MAX_NS, which is exactly the burst.
 */
#include "datapath/ratelimiter.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/random.h"
#include "proto/messages.h"

#define PACKET_COST_NS (NSEC_PER_SEC / HANDSHAKE_RATE_PER_SECOND)
#define TOKEN_MAX_NS (PACKET_COST_NS * HANDSHAKE_RATE_BURST)
#define IDLE_RECLAIM_NS NSEC_PER_SEC   /* idle this long: bucket full, entry may go */
#define SOURCE_KEY_LEN 9               /* family, then 4 (IPv4) or 8 (IPv6 /64) bytes */

_Static_assert(RATELIMITER_HASH_KEY_LEN == crypto_shorthash_KEYBYTES, "SipHash key length");
_Static_assert(TOKEN_MAX_NS >= PACKET_COST_NS, "burst of at least one");

struct ratelimiter_entry {
    uint8_t key[SOURCE_KEY_LEN];
    uint32_t next;                     /* entry index + 1 in chain or free list; 0 = end */
    uint64_t tokens_ns;
    uint64_t last_ns;
};

/* The source's key, or false for a family we do not rate-limit by. */
static bool source_key(uint8_t key[SOURCE_KEY_LEN], const struct wb_endpoint *src)
{
    memset(key, 0, SOURCE_KEY_LEN);
    if (!src || (src->family != 4 && src->family != 6))
        return false;
    key[0] = src->family;
    memcpy(key + 1, src->addr, src->family == 4 ? 4 : 8);
    return true;
}

static uint32_t bucket_of(const struct ratelimiter *rl, const uint8_t key[SOURCE_KEY_LEN])
{
    uint8_t h[crypto_shorthash_BYTES];
    uint64_t v;

    crypto_shorthash(h, key, SOURCE_KEY_LEN, rl->hash_key);
    memcpy(&v, h, sizeof(v));
    return (uint32_t)(v & (rl->n_buckets - 1));
}

static uint32_t round_up_pow2(uint32_t n)
{
    uint32_t p = 1;

    while (p < n)
        p <<= 1;
    return p;
}

int ratelimiter_init(struct ratelimiter *rl, uint32_t max_entries)
{
    memset(rl, 0, sizeof(*rl));
    if (max_entries == 0 || max_entries > RATELIMITER_MAX_ENTRIES)
        return -EINVAL;
    rl->n_buckets = round_up_pow2(max_entries);
    rl->max_entries = max_entries;
    rl->entries = calloc(max_entries, sizeof(*rl->entries));
    rl->buckets = calloc(rl->n_buckets, sizeof(*rl->buckets));
    if (!rl->entries || !rl->buckets) {
        free(rl->entries);
        free(rl->buckets);
        rl->entries = NULL;
        rl->buckets = NULL;
        return -ENOMEM;
    }
    for (uint32_t i = 0; i + 1 < max_entries; i++)
        rl->entries[i].next = i + 2;
    rl->free_head = 1;
    wb_random_bytes(rl->hash_key, sizeof(rl->hash_key));
    wb_mutex_init(&rl->lock);
    return 0;
}

void ratelimiter_free(struct ratelimiter *rl)
{
    if (!rl->entries)
        return;
    wb_mutex_destroy(&rl->lock);
    free(rl->entries);
    free(rl->buckets);
    wb_memzero(rl->hash_key, sizeof(rl->hash_key));
    memset(rl, 0, sizeof(*rl));
}

/* rl->lock held. The entry for key in chain b, or NULL. */
static struct ratelimiter_entry *find(struct ratelimiter *rl, uint32_t b,
                                      const uint8_t key[SOURCE_KEY_LEN])
{
    for (uint32_t i = rl->buckets[b]; i; i = rl->entries[i - 1].next) {
        if (memcmp(rl->entries[i - 1].key, key, SOURCE_KEY_LEN) == 0)
            return &rl->entries[i - 1];
    }
    return NULL;
}

/* rl->lock held. A new entry for key with one message already taken, or
 * false when the pool is exhausted. */
static bool track_new(struct ratelimiter *rl, uint32_t b, const uint8_t key[SOURCE_KEY_LEN],
                      uint64_t now_ns)
{
    uint32_t i = rl->free_head;
    struct ratelimiter_entry *e;

    if (!i)
        return false;
    e = &rl->entries[i - 1];
    rl->free_head = e->next;
    memcpy(e->key, key, SOURCE_KEY_LEN);
    e->tokens_ns = TOKEN_MAX_NS - PACKET_COST_NS;
    e->last_ns = now_ns;
    e->next = rl->buckets[b];
    rl->buckets[b] = i;
    rl->used++;
    return true;
}

/* rl->lock held. Refill by the time passed (a clock going back adds
 * nothing), then take one message's worth if there is enough. */
static bool take_token(struct ratelimiter_entry *e, uint64_t now_ns)
{
    uint64_t elapsed = now_ns > e->last_ns ? now_ns - e->last_ns : 0;

    if (elapsed >= TOKEN_MAX_NS - e->tokens_ns)
        e->tokens_ns = TOKEN_MAX_NS;
    else
        e->tokens_ns += elapsed;
    if (now_ns > e->last_ns)
        e->last_ns = now_ns;
    if (e->tokens_ns < PACKET_COST_NS)
        return false;
    e->tokens_ns -= PACKET_COST_NS;
    return true;
}

/* Any thread; takes rl->lock. */
bool ratelimiter_allow(struct ratelimiter *rl, const struct wb_endpoint *src, uint64_t now_ns)
{
    uint8_t key[SOURCE_KEY_LEN];
    struct ratelimiter_entry *e;
    uint32_t b;
    bool ok;

    if (!source_key(key, src))
        return false;
    b = bucket_of(rl, key);
    wb_mutex_lock(&rl->lock);
    e = find(rl, b, key);
    ok = e ? take_token(e, now_ns) : track_new(rl, b, key, now_ns);
    wb_mutex_unlock(&rl->lock);
    return ok;
}

/* rl->lock held. Unlink the idle entries of chain b onto the free list. */
static size_t gc_chain(struct ratelimiter *rl, uint32_t b, uint64_t now_ns)
{
    uint32_t *link = &rl->buckets[b];
    struct ratelimiter_entry *e;
    size_t n = 0;

    while (*link) {
        uint32_t i = *link;

        e = &rl->entries[i - 1];
        if (now_ns > e->last_ns && now_ns - e->last_ns > IDLE_RECLAIM_NS) {
            *link = e->next;
            e->next = rl->free_head;
            rl->free_head = i;
            n++;
        } else {
            link = &e->next;
        }
    }
    return n;
}

/* Any thread; takes rl->lock. One pass over every chain. */
size_t ratelimiter_gc(struct ratelimiter *rl, uint64_t now_ns)
{
    size_t n = 0;

    wb_mutex_lock(&rl->lock);
    for (uint32_t b = 0; b < rl->n_buckets; b++)
        n += gc_chain(rl, b, now_ns);
    rl->used -= (uint32_t)n;
    wb_mutex_unlock(&rl->lock);
    return n;
}

/* Any thread; takes rl->lock. */
size_t ratelimiter_count(struct ratelimiter *rl)
{
    size_t n;

    wb_mutex_lock(&rl->lock);
    n = rl->used;
    wb_mutex_unlock(&rl->lock);
    return n;
}
