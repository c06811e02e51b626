/* SPDX-License-Identifier: MIT */
/* peer_table.c - peers by public key and by receiver index (peer_table.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/random.h"
#include "datapath/peer_table.h"
#include "proto/tunnel.h"

static unsigned long hash_key(const struct peer_table *pt, const uint8_t key[WB_KEY_LEN])
{
    uint8_t h[crypto_shorthash_BYTES];
    unsigned long v = 0;

    /* Keyed so a remote party cannot aim collisions at one bucket:
     * libsodium's SipHash-2-4, a few times cheaper than the keyed BLAKE2s
     * it replaces (two of which were 1/8 of configuring 100,000 peers). */
    crypto_shorthash(h, key, WB_KEY_LEN, pt->key_seed);
    memcpy(&v, h, sizeof(v) < sizeof(h) ? sizeof(v) : sizeof(h));
    return v;
}

static unsigned long hash_index(const struct peer_table *pt, uint32_t index)
{
    /* Indices are random already; mixing in the seed keeps buckets even. */
    uint64_t x = index ^ pt->hash_seed;

    x ^= x >> 33, x *= 0xff51afd7ed558ccdULL, x ^= x >> 33;
    return (unsigned long)x;
}

static int match_key(struct cds_lfht_node *node, const void *key)
{
    const struct device_peer *p = caa_container_of(node, struct device_peer, key_node);

    return memcmp(p->public_key, key, WB_KEY_LEN) == 0;
}

static int match_index(struct cds_lfht_node *node, const void *key)
{
    const struct index_entry *e = caa_container_of(node, struct index_entry, node);

    return e->index == *(const uint32_t *)key;
}

void peer_table_reserve(struct peer_table *pt, unsigned long have, unsigned long n)
{
    unsigned long want = 64;

    while (want < have + n)
        want <<= 1;
    if (want <= pt->sized_for)
        return;
    pt->sized_for = want;
    cds_lfht_resize(pt->by_key, want);
}

int peer_table_init(struct peer_table *pt)
{
    wb_random_bytes(&pt->hash_seed, sizeof(pt->hash_seed));
    wb_random_bytes(pt->key_seed, sizeof(pt->key_seed));
    pt->sized_for = 64;
    pt->by_key = cds_lfht_new(64, 64, 0, CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING, NULL);
    pt->by_index = cds_lfht_new(256, 256, 0, CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING, NULL);
    if (!pt->by_key || !pt->by_index) {
        peer_table_destroy(pt);
        return -ENOMEM;
    }
    return 0;
}

void peer_table_destroy(struct peer_table *pt)
{
    if (pt->by_key)
        cds_lfht_destroy(pt->by_key, NULL);
    if (pt->by_index)
        cds_lfht_destroy(pt->by_index, NULL);
    pt->by_key = pt->by_index = NULL;
}

struct device_peer *peer_table_lookup_key(struct peer_table *pt, const uint8_t key[WB_KEY_LEN])
{
    struct cds_lfht_iter iter;
    struct cds_lfht_node *node;

    cds_lfht_lookup(pt->by_key, hash_key(pt, key), match_key, key, &iter);
    node = cds_lfht_iter_get_node(&iter);
    return node ? caa_container_of(node, struct device_peer, key_node) : NULL;
}

struct device_peer *peer_table_lookup_index(struct peer_table *pt, uint32_t index)
{
    struct cds_lfht_iter iter;
    struct cds_lfht_node *node;

    cds_lfht_lookup(pt->by_index, hash_index(pt, index), match_index, &index, &iter);
    node = cds_lfht_iter_get_node(&iter);
    return node ? caa_container_of(node, struct index_entry, node)->peer : NULL;
}

int peer_table_add(struct peer_table *pt, struct device_peer *p)
{
    struct cds_lfht_node *old;

    cds_lfht_node_init(&p->key_node);
    old = cds_lfht_add_unique(pt->by_key, hash_key(pt, p->public_key), match_key, p->public_key,
                              &p->key_node);
    return old == &p->key_node ? 0 : -EEXIST;
}

void peer_table_del(struct peer_table *pt, struct device_peer *p)
{
    cds_lfht_del(pt->by_key, &p->key_node);
    for (int i = 0; i < PEER_MAX_INDICES; i++)
        if (p->indices[i])
            cds_lfht_del(pt->by_index, &p->indices[i]->node);
}

void peer_table_free_indices(struct device_peer *p)
{
    for (int i = 0; i < PEER_MAX_INDICES; i++) {
        free(p->indices[i]);
        p->indices[i] = NULL;
    }
}

static void free_entry_rcu(struct rcu_head *head)
{
    free(caa_container_of(head, struct index_entry, rcu));
}

/* Drop entries that no longer name a live handshake or keypair; returns a
 * free slot, or -1. */
static int prune(struct peer_table *pt, struct device_peer *p)
{
    int free_slot = -1;

    for (int i = 0; i < PEER_MAX_INDICES; i++) {
        struct index_entry *e = p->indices[i];

        if (e && tunnel_index_in_use(p->tun, e->index))
            continue;
        if (e) {
            cds_lfht_del(pt->by_index, &e->node);
            call_rcu(&e->rcu, free_entry_rcu);
            p->indices[i] = NULL;
        }
        if (free_slot < 0)
            free_slot = i;
    }
    return free_slot;
}

uint32_t peer_table_alloc_index(struct peer_table *pt, struct device_peer *p)
{
    struct index_entry *e;
    int slot;

    if (p->dead)
        return wb_random_u32();   /* unlinked: replies to it are dropped anyway */
    slot = prune(pt, p);

    if (slot < 0) {
        /* Cannot happen with at most four live indices; keep working by
         * recycling the oldest slot rather than failing a handshake. */
        slot = 0;
        cds_lfht_del(pt->by_index, &p->indices[0]->node);
        call_rcu(&p->indices[0]->rcu, free_entry_rcu);
        p->indices[0] = NULL;
    }
    e = calloc(1, sizeof(*e));
    if (!e)
        return wb_random_u32();   /* unregistered: replies to it are dropped, the retry succeeds */
    e->peer = p;
    cds_lfht_node_init(&e->node);
    for (;;) {
        e->index = wb_random_u32();
        if (cds_lfht_add_unique(pt->by_index, hash_index(pt, e->index), match_index, &e->index,
                                &e->node) == &e->node)
            break;
    }
    p->indices[slot] = e;
    return e->index;
}
