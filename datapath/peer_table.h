/* SPDX-License-Identifier: MIT */
/*
 * peer_table.h - the device's peers, found by static public key (handshake
 * initiations) and by receiver index (responses, cookies, data), in two RCU
 * lock-free hash tables (liburcu's cds_lfht, QSBR flavour).
 *
 * Readers: any registered, online QSBR thread (the datapath); lookups take
 * no lock, and what they return stays valid until that thread's next
 * quiescent state. Writers: add/del from the control thread (registered
 * and online for the call); index registration from whoever holds the
 * peer's tunnel lock. A deleted peer is freed by the caller after
 * synchronize_rcu().
 */
#ifndef WB_DATAPATH_PEER_TABLE_H
#define WB_DATAPATH_PEER_TABLE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define _LGPL_SOURCE
#include <urcu-qsbr.h>
#include <urcu/rculfhash.h>

#include "datapath/timer_wheel.h"
#include "include/wirebolt.h"

struct wb_tunnel;
struct device;
struct crypt_job;

/* A registered receiver index: local indices name a handshake or keypair
 * of exactly one peer. A peer keeps at most PEER_MAX_INDICES (a handshake
 * and three keypairs is four live ones; stale ones are pruned on the next
 * registration). */
#define PEER_MAX_INDICES 8

struct index_entry {
    uint32_t index;
    struct device_peer *peer;
    struct cds_lfht_node node;
    struct rcu_head rcu;
};

/* Crypto jobs of one peer and direction in nonce (tx) / arrival (rx)
 * order: appended under the peer's lock, released from the head by one
 * drainer at a time (crypt.c). */
struct order_queue {
    struct crypt_job *head, *tail;         /* peer lock */
    atomic_bool draining;
};

struct device_peer {
    struct wb_tunnel *tun;                 /* protocol state; tun->lock guards what follows */
    struct order_queue tx_q, rx_q;
    atomic_uint inflight;                  /* jobs (and drains) that may still touch the peer */
    size_t list_pos;                       /* in the device's list (control threads) */
    uint8_t public_key[WB_KEY_LEN];
    struct device *dev;
    struct wb_endpoint src;                /* sticky source: our address the peer last reached */
    uint32_t src_ifindex;
    struct index_entry *indices[PEER_MAX_INDICES];
    bool dead;                             /* unlinked: the datapath must leave it alone */
    struct cds_lfht_node key_node;
    /* Timers (handshake.c). The handshake thread files the peer in its
     * wheel under the earliest armed deadline; timer_filed (tun->lock) is
     * what it filed, so a worker that arms an earlier one, or leaves an
     * initiation for it, asks it to look again (hs_wanted: asked once). */
    struct wheel_entry wheel;              /* handshake thread only */
    uint64_t timer_filed;                  /* tun->lock; 0 = nothing filed */
    atomic_bool hs_wanted;
    struct device_peer *dead_next;         /* on the handshake thread's dead list */
};

struct peer_table {
    struct cds_lfht *by_key;
    struct cds_lfht *by_index;
    uint64_t hash_seed;                    /* receiver indices */
    uint8_t key_seed[16];                  /* public keys: SipHash key (crypto_shorthash) */
    unsigned long sized_for;               /* peers the key table was last grown for */
};

int peer_table_init(struct peer_table *pt);
/* All peers must have been deleted. */
void peer_table_destroy(struct peer_table *pt);

/* Read side (online QSBR thread). */
struct device_peer *peer_table_lookup_key(struct peer_table *pt, const uint8_t key[WB_KEY_LEN]);
struct device_peer *peer_table_lookup_index(struct peer_table *pt, uint32_t index);

/* Control thread, online: about to add n more peers to the `have` there
 * are; grows the tables at once (cds_lfht_resize) rather than letting
 * 100,000 inserts run on chains the background resize has not caught up
 * with. */
void peer_table_reserve(struct peer_table *pt, unsigned long have, unsigned long n);

/* Control thread, online: -EEXIST if the key is present. */
int peer_table_add(struct peer_table *pt, struct device_peer *p);
/* Control thread, online, with p->tun->lock held: unlink the peer and its
 * indices. The caller frees p and its index entries after synchronize_rcu()
 * (peer_table_free_indices). */
void peer_table_del(struct peer_table *pt, struct device_peer *p);
void peer_table_free_indices(struct device_peer *p);

/* With p->tun->lock held, online: a fresh random index registered to p.
 * Prunes p's entries whose index no longer names a live handshake or
 * keypair (freed after a grace period with call_rcu). */
uint32_t peer_table_alloc_index(struct peer_table *pt, struct device_peer *p);

#endif
