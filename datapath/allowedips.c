/* SPDX-License-Identifier: MIT */
/*
 * allowedips.c - the allowed-IPs trie: a path-compressed binary trie per
 * family, read lock-free under liburcu QSBR, written under one mutex.
 *
 * Shape: each node holds a prefix (key, cidr) and either a peer or two
 * children; a node with no peer and fewer than two children is never left
 * in the trie. A child's prefix extends its parent's, and the child sits on
 * the side named by the child's bit at index parent->cidr. So the peer of
 * the longest matching prefix is the last peer seen walking down while the
 * node's prefix still matches the address.
 *
 * Keys are the network-order address loaded big-endian into two 64-bit
 * words (IPv4 in the top half of the first), so bit i is the i-th bit on
 * the wire and a prefix test is two masked XORs.
 *
 * Publication: a node is filled in completely before rcu_assign_pointer()
 * makes it reachable; after that only its peer and child pointers change,
 * and always through rcu_assign_pointer(). Removal unlinks a node and hands
 * it to call_rcu(), which frees it after a grace period: every reader that
 * could have loaded a pointer to it was, by QSBR's definition, inside the
 * read-side critical section that the grace period waits out, and no reader
 * starting later can reach it because it is no longer linked.
 */
#define URCU_INLINE_SMALL_FUNCTIONS   /* rcu_dereference inline: no call per hop */
#include "datapath/allowedips.h"

#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <urcu-qsbr.h>

struct allowedips_node {
    struct allowedips_node *child[2];  /* RCU-published */
    void *peer;                        /* RCU-published; NULL = branch only */
    uint64_t key[2];                   /* prefix, bits past cidr zero */
    uint64_t mask[2];                  /* cidr leading one bits */
    uint8_t cidr;
    struct rcu_head rcu;
};

static unsigned family_bits(int family)
{
    return family == 4 ? 32 : family == 6 ? 128 : 0;
}

static void load_key(uint64_t k[2], int family, const uint8_t *addr)
{
    uint32_t w4;
    uint64_t w6[2];

    if (family == 4) {
        memcpy(&w4, addr, sizeof(w4));
        k[0] = (uint64_t)be32toh(w4) << 32;
        k[1] = 0;
        return;
    }
    memcpy(w6, addr, sizeof(w6));
    k[0] = be64toh(w6[0]);
    k[1] = be64toh(w6[1]);
}

static void store_key(uint8_t *addr, int family, const uint64_t k[2])
{
    uint32_t w4;
    uint64_t w6[2];

    if (family == 4) {
        w4 = htobe32((uint32_t)(k[0] >> 32));
        memcpy(addr, &w4, sizeof(w4));
        return;
    }
    w6[0] = htobe64(k[0]);
    w6[1] = htobe64(k[1]);
    memcpy(addr, w6, sizeof(w6));
}

static void make_mask(uint64_t m[2], unsigned cidr)
{
    m[0] = cidr == 0 ? 0 : cidr >= 64 ? ~0ULL : ~0ULL << (64 - cidr);
    m[1] = cidr <= 64 ? 0 : ~0ULL << (128 - cidr);
}

static unsigned bit_at(const uint64_t k[2], unsigned i)
{
    return i < 64 ? (unsigned)(k[0] >> (63 - i)) & 1 : (unsigned)(k[1] >> (127 - i)) & 1;
}

/* How many leading bits a and b share, at most limit. */
static unsigned common_bits(const uint64_t a[2], const uint64_t b[2], unsigned limit)
{
    uint64_t x0 = a[0] ^ b[0], x1 = a[1] ^ b[1];
    unsigned n = x0 ? (unsigned)__builtin_clzll(x0) : x1 ? 64 + (unsigned)__builtin_clzll(x1) : 128;

    return n < limit ? n : limit;
}

static bool prefix_matches(const struct allowedips_node *n, const uint64_t k[2])
{
    return (((k[0] ^ n->key[0]) & n->mask[0]) | ((k[1] ^ n->key[1]) & n->mask[1])) == 0;
}

/* Validate family and cidr, load addr and clear its host bits. */
static int prepare_key(uint64_t k[2], int family, const uint8_t *addr, uint8_t cidr)
{
    uint64_t m[2];
    unsigned bits = family_bits(family);

    if (!bits)
        return -EAFNOSUPPORT;
    if (cidr > bits || !addr)
        return -EINVAL;
    load_key(k, family, addr);
    make_mask(m, cidr);
    k[0] &= m[0];
    k[1] &= m[1];
    return 0;
}

static struct allowedips_node **root_slot(struct allowedips *a, int family)
{
    return family == 4 ? &a->root4 : &a->root6;
}

static struct allowedips_node *node_new(const uint64_t k[2], unsigned cidr, void *peer)
{
    struct allowedips_node *n = calloc(1, sizeof(*n));

    if (!n)
        return NULL;
    make_mask(n->mask, cidr);
    n->key[0] = k[0] & n->mask[0];
    n->key[1] = k[1] & n->mask[1];
    n->cidr = (uint8_t)cidr;
    n->peer = peer;
    return n;
}

static void node_free_rcu(struct rcu_head *head)
{
    free(caa_container_of(head, struct allowedips_node, rcu));
}

/* Writer, lock held; n is already unlinked. Freed after a grace period. */
static void node_retire(struct allowedips_node *n)
{
    call_rcu(&n->rcu, node_free_rcu);
}

static struct allowedips_node *only_child(const struct allowedips_node *n)
{
    return n->child[0] ? n->child[0] : n->child[1];
}

int allowedips_init(struct allowedips *a)
{
    a->root4 = NULL;
    a->root6 = NULL;
    wb_mutex_init(&a->lock);
    return 0;
}

static void free_subtree(struct allowedips_node *n)
{
    if (!n)
        return;
    free_subtree(n->child[0]);
    free_subtree(n->child[1]);
    free(n);
}

/* No reader and no writer may run: see the header. Nodes go at once. */
void allowedips_free(struct allowedips *a)
{
    free_subtree(a->root4);
    free_subtree(a->root6);
    a->root4 = NULL;
    a->root6 = NULL;
    wb_mutex_destroy(&a->lock);
}

/* Writer, a->lock held. Walks down while a node's prefix is a prefix of
 * the new one, then either takes over an exact match, hangs a leaf on an
 * empty slot, puts the new node above a longer one, or splits the edge
 * with a branch node at the first differing bit. */
static int insert_locked(struct allowedips_node **slot, const uint64_t k[2],
                         unsigned cidr, void *peer)
{
    struct allowedips_node *node, *fresh, *branch;
    unsigned common = 0;

    while ((node = *slot)) {
        common = common_bits(node->key, k, node->cidr < cidr ? node->cidr : cidr);
        if (common < node->cidr)
            break;
        if (node->cidr == cidr) {
            rcu_assign_pointer(node->peer, peer);
            return 0;
        }
        slot = &node->child[bit_at(k, node->cidr)];
    }
    fresh = node_new(k, cidr, peer);
    if (!fresh)
        return -ENOMEM;
    if (node && common == cidr) {
        fresh->child[bit_at(node->key, cidr)] = node;
    } else if (node) {
        branch = node_new(k, common, NULL);
        if (!branch) {
            free(fresh);
            return -ENOMEM;
        }
        branch->child[bit_at(k, common)] = fresh;
        branch->child[bit_at(node->key, common)] = node;
        fresh = branch;
    }
    rcu_assign_pointer(*slot, fresh);
    return 0;
}

/* Any registered, online QSBR thread; takes a->lock. */
int allowedips_insert(struct allowedips *a, int family, const uint8_t *addr,
                      uint8_t cidr, void *peer)
{
    uint64_t k[2];
    int ret = prepare_key(k, family, addr, cidr);

    if (ret)
        return ret;
    if (!peer)
        return -EINVAL;
    wb_mutex_lock(&a->lock);
    ret = insert_locked(root_slot(a, family), k, cidr, peer);
    wb_mutex_unlock(&a->lock);
    return ret;
}

/* Writer, a->lock held. Clears the peer of the exact prefix; the node then
 * goes if it has fewer than two children, and its parent too if that left
 * the parent a branch node with a single child. */
static int remove_locked(struct allowedips_node **slot, const uint64_t k[2],
                         unsigned cidr, void *peer)
{
    struct allowedips_node **parent_slot = NULL, *node, *child, *parent;

    while ((node = *slot) && node->cidr < cidr) {
        if (!prefix_matches(node, k))
            return -ENOENT;
        parent_slot = slot;
        slot = &node->child[bit_at(k, node->cidr)];
    }
    if (!node || node->cidr != cidr || node->key[0] != k[0] || node->key[1] != k[1] ||
        node->peer != peer)
        return -ENOENT;
    rcu_assign_pointer(node->peer, NULL);
    if (node->child[0] && node->child[1])
        return 0;
    child = only_child(node);
    rcu_assign_pointer(*slot, child);
    node_retire(node);
    if (child || !parent_slot)
        return 0;
    parent = *parent_slot;
    if (parent->peer)
        return 0;
    rcu_assign_pointer(*parent_slot, only_child(parent));
    node_retire(parent);
    return 0;
}

/* Any registered, online QSBR thread; takes a->lock. */
int allowedips_remove(struct allowedips *a, int family, const uint8_t *addr,
                      uint8_t cidr, void *peer)
{
    uint64_t k[2];
    int ret = prepare_key(k, family, addr, cidr);

    if (ret)
        return ret;
    if (!peer)
        return -EINVAL;
    wb_mutex_lock(&a->lock);
    ret = remove_locked(root_slot(a, family), k, cidr, peer);
    wb_mutex_unlock(&a->lock);
    return ret;
}

/* Writer, a->lock held. Post-order: children are pruned first, so when a
 * node is looked at its subtrees already keep the shape rule, and the node
 * only has to check itself. Recursion depth is at most 129. */
static void prune_peer(struct allowedips_node **slot, const void *peer)
{
    struct allowedips_node *node = *slot;

    if (!node)
        return;
    prune_peer(&node->child[0], peer);
    prune_peer(&node->child[1], peer);
    if (node->peer == peer)
        rcu_assign_pointer(node->peer, NULL);
    if (node->peer || (node->child[0] && node->child[1]))
        return;
    rcu_assign_pointer(*slot, only_child(node));
    node_retire(node);
}

/* Any registered, online QSBR thread; takes a->lock. */
void allowedips_remove_by_peer(struct allowedips *a, void *peer)
{
    if (!peer)
        return;
    wb_mutex_lock(&a->lock);
    prune_peer(&a->root4, peer);
    prune_peer(&a->root6, peer);
    wb_mutex_unlock(&a->lock);
}

/* Reader: a registered, online QSBR thread (rcu_read_lock is free there).
 * No lock, no allocation; at most one node per address bit. */
void *allowedips_lookup(const struct allowedips *a, int family, const uint8_t *addr)
{
    const struct allowedips_node *node;
    unsigned bits = family_bits(family);
    uint64_t k[2];
    void *found = NULL, *peer;

    if (!bits)
        return NULL;
    load_key(k, family, addr);
    node = family == 4 ? rcu_dereference(a->root4) : rcu_dereference(a->root6);
    while (node && prefix_matches(node, k)) {
        peer = rcu_dereference(node->peer);
        if (peer)
            found = peer;
        if (node->cidr == bits)
            break;
        node = rcu_dereference(node->child[bit_at(k, node->cidr)]);
    }
    return found;
}

/* Writer side, a->lock held. Pre-order, 0 side first. */
static int walk_locked(const struct allowedips_node *n, int family, const void *peer,
                       allowedips_walk_fn fn, void *ctx)
{
    uint8_t addr[16];
    int ret;

    if (!n)
        return 0;
    if (n->peer == peer) {
        store_key(addr, family, n->key);
        ret = fn(ctx, family, addr, n->cidr);
        if (ret)
            return ret;
    }
    ret = walk_locked(n->child[0], family, peer, fn, ctx);
    return ret ? ret : walk_locked(n->child[1], family, peer, fn, ctx);
}

/* Any thread; takes a->lock, so fn must not call writer functions on a. */
int allowedips_walk_by_peer(struct allowedips *a, void *peer, allowedips_walk_fn fn, void *ctx)
{
    int ret;

    if (!peer)
        return 0;
    wb_mutex_lock(&a->lock);
    ret = walk_locked(a->root4, 4, peer, fn, ctx);
    if (!ret)
        ret = walk_locked(a->root6, 6, peer, fn, ctx);
    wb_mutex_unlock(&a->lock);
    return ret;
}
