/* SPDX-License-Identifier: MIT */
/*
 * ratelimiter.h - per-source token buckets for handshake messages, so one
 * source cannot make the device spend all its time on Curve25519.
 *
 * Each source gets HANDSHAKE_RATE_PER_SECOND messages a second with bursts
 * of HANDSHAKE_RATE_BURST (proto/messages.h). A source is an IPv4 address,
 * or an IPv6 /64 (one host usually holds a whole /64). The table is bounded:
 * when every entry is taken, new sources are refused until
 * ratelimiter_gc() reclaims entries idle for more than a second (an entry
 * idle that long has a full bucket, so dropping it changes nothing).
 *
 * Time comes in as monotonic nanoseconds; nothing here reads a clock.
 * Concurrency: one mutex inside serialises every call. Handshake messages
 * are few (that is the point), so it is never a hot lock; any thread may
 * call any function except init and free.
 */
#ifndef WB_DATAPATH_RATELIMITER_H
#define WB_DATAPATH_RATELIMITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "include/wirebolt.h"
#include "proto/lock.h"

#define RATELIMITER_DEFAULT_ENTRIES 8192
#define RATELIMITER_MAX_ENTRIES (1U << 24)
#define RATELIMITER_HASH_KEY_LEN 16

struct ratelimiter_entry;

struct ratelimiter {
    struct wb_mutex lock;
    struct ratelimiter_entry *entries;   /* the pool, max_entries long */
    uint32_t *buckets;                   /* chain heads: entry index + 1, 0 = empty */
    uint32_t n_buckets;                  /* a power of two */
    uint32_t max_entries;
    uint32_t used;
    uint32_t free_head;                  /* entry index + 1, 0 = pool exhausted */
    uint8_t hash_key[RATELIMITER_HASH_KEY_LEN];  /* SipHash key, random */
};

/* Set up a table of at most max_entries sources. Returns 0, -EINVAL
 * (0 or more than RATELIMITER_MAX_ENTRIES), -ENOMEM. Not thread-safe. */
int ratelimiter_init(struct ratelimiter *rl, uint32_t max_entries);

/* Release the table and wipe its hash key. No call may run concurrently. */
void ratelimiter_free(struct ratelimiter *rl);

/* May a handshake message from src be processed at now_ns? Takes a token
 * from src's bucket if so. false also for a family other than 4 or 6 and
 * for a new source when the table is full. Any thread. */
bool ratelimiter_allow(struct ratelimiter *rl, const struct wb_endpoint *src, uint64_t now_ns);

/* Reclaim entries idle for more than a second; returns how many. Call
 * about once a second. Any thread. */
size_t ratelimiter_gc(struct ratelimiter *rl, uint64_t now_ns);

/* Sources currently tracked. Any thread. */
size_t ratelimiter_count(struct ratelimiter *rl);

#endif
