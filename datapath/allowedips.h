/* SPDX-License-Identifier: MIT */
/*
 * allowedips.h - the allowed-IPs table: which peer owns an inner IP address.
 *
 * One path-compressed binary trie per family (4 and 6) maps prefixes to
 * peers. A prefix belongs to exactly one peer; inserting it again moves it.
 * Lookups return the peer of the longest prefix that contains the address.
 *
 * Concurrency (liburcu QSBR):
 *   - Readers (datapath workers) call allowedips_lookup() from a thread that
 *     is registered with liburcu-qsbr and online; it takes no lock, never
 *     allocates, and is safe against any concurrent writer.
 *   - Writers (insert, remove, remove_by_peer, walk_by_peer) serialise on the
 *     mutex inside struct allowedips. Because removed nodes are retired with
 *     call_rcu(), liburcu requires the writer's thread to be registered and
 *     online as well; like every QSBR thread it must then announce quiescent
 *     states (or go offline before it blocks), or memory is never reclaimed.
 *   - A peer pointer returned by a lookup stays valid only as long as the
 *     peer's owner frees peers after a grace period that follows
 *     allowedips_remove_by_peer(); the table never dereferences peers.
 *
 * Addresses are in network byte order: 4 bytes for family 4, 16 for 6.
 * Host bits of inserted and removed prefixes are ignored (masked off).
 * Errors are negative errno values.
 */
#ifndef WB_DATAPATH_ALLOWEDIPS_H
#define WB_DATAPATH_ALLOWEDIPS_H

#include <stdint.h>

#include "proto/lock.h"

#include <stddef.h>

struct allowedips_node;
struct allowedips_owner;

struct allowedips {
    struct allowedips_node *root4;   /* RCU-published; NULL = empty */
    struct allowedips_node *root6;   /* RCU-published; NULL = empty */
    struct wb_mutex lock;            /* serialises writers */
    /* Writers only: each peer's list of its nodes, hashed by peer pointer,
     * so per-peer removal and walks cost what that peer holds. */
    struct allowedips_owner **buckets;
    size_t n_buckets, n_owners;
};

/* Called for each prefix of a peer: addr is the network-order prefix (4 or
 * 16 bytes, host bits zero). Return 0 to go on; anything else stops the
 * walk and becomes its return value. */
typedef int (*allowedips_walk_fn)(void *ctx, int family, const uint8_t *addr, uint8_t cidr);

/* An empty table. Returns 0. */
int allowedips_init(struct allowedips *a);

/* Free every node at once and destroy the lock. The caller guarantees that
 * no reader can still be inside allowedips_lookup() on `a` (the table was
 * unpublished and a grace period has passed, or no reader ever saw it) and
 * that no writer runs concurrently. */
void allowedips_free(struct allowedips *a);

/* Map addr/cidr to peer (not NULL), replacing a previous owner. Returns 0,
 * -EAFNOSUPPORT (family not 4 or 6), -EINVAL (cidr too long, NULL peer),
 * -ENOMEM. */
int allowedips_insert(struct allowedips *a, int family, const uint8_t *addr,
                      uint8_t cidr, void *peer);

/* Remove addr/cidr if `peer` owns exactly that prefix. Returns 0, -ENOENT
 * (no such prefix, or another peer owns it), -EAFNOSUPPORT, -EINVAL. */
int allowedips_remove(struct allowedips *a, int family, const uint8_t *addr,
                      uint8_t cidr, void *peer);

/* Remove every prefix of `peer`, both families: O(its prefixes). */
void allowedips_remove_by_peer(struct allowedips *a, void *peer);

/* Longest-prefix match: the peer owning addr, or NULL. family other than 4
 * or 6 gives NULL. */
void *allowedips_lookup(const struct allowedips *a, int family, const uint8_t *addr);

/* Call fn for each prefix of `peer`: IPv4 first, each family in ascending
 * address order with shorter prefixes first. Returns 0 or fn's first
 * non-zero return. fn runs under the table's lock: it must not call any
 * writer function on the same table. */
int allowedips_walk_by_peer(struct allowedips *a, void *peer, allowedips_walk_fn fn, void *ctx);

#endif
