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
 * Per-peer lists: every node that holds a peer is also on that peer's
 * list (struct owner, found through a small hash keyed by the peer
 * pointer), and every node knows its parent. Removing or listing one
 * peer's prefixes therefore touches only its own nodes (the Linux module
 * keeps the same list), not both whole tries: O(prefixes of the peer), not
 * O(prefixes of all peers). Lists, parents and the hash are writer-only.
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
#include <urcu/list.h>

struct allowedips_node {
    struct allowedips_node *child[2];  /* RCU-published */
    void *peer;                        /* RCU-published; NULL = branch only */
    uint64_t key[2];                   /* prefix, bits past cidr zero */
    uint64_t mask[2];                  /* cidr leading one bits */
    uint8_t cidr;
    uint8_t family;
    struct allowedips_node *parent;    /* writers only; NULL at the root */
    struct cds_list_head peer_link;    /* writers only: on its peer's owner list */
    struct rcu_head rcu;
};

/* One peer's nodes (writers only), in a chained hash by peer pointer. */
struct allowedips_owner {
    const void *peer;
    struct cds_list_head nodes;
    struct allowedips_owner *next;     /* hash chain */
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

static struct allowedips_node *node_new(int family, const uint64_t k[2], unsigned cidr)
{
    struct allowedips_node *n = calloc(1, sizeof(*n));

    if (!n)
        return NULL;
    make_mask(n->mask, cidr);
    n->key[0] = k[0] & n->mask[0];
    n->key[1] = k[1] & n->mask[1];
    n->cidr = (uint8_t)cidr;
    n->family = (uint8_t)family;
    CDS_INIT_LIST_HEAD(&n->peer_link);
    return n;
}

/* ------------------------------------------------------- owner lists */

static size_t owner_bucket(const struct allowedips *a, const void *peer)
{
    uint64_t h = (uint64_t)(uintptr_t)peer * 0x9e3779b97f4a7c15ULL;

    return (size_t)(h >> 32) & (a->n_buckets - 1);
}

static struct allowedips_owner *owner_find(const struct allowedips *a, const void *peer)
{
    struct allowedips_owner *o;

    if (!a->n_buckets)
        return NULL;
    for (o = a->buckets[owner_bucket(a, peer)]; o; o = o->next)
        if (o->peer == peer)
            return o;
    return NULL;
}

/* Double the buckets when the chains get long; a failed grow keeps the old
 * (longer chains, still correct). */
static void owners_grow(struct allowedips *a)
{
    size_t n = a->n_buckets ? 2 * a->n_buckets : 64;
    struct allowedips_owner **b = calloc(n, sizeof(*b)), **old = a->buckets;
    size_t old_n = a->n_buckets;

    if (!b)
        return;
    a->buckets = b;
    a->n_buckets = n;
    for (size_t i = 0; i < old_n; i++) {
        struct allowedips_owner *o = old[i], *next;

        for (; o; o = next) {
            size_t at = owner_bucket(a, o->peer);

            next = o->next;
            o->next = b[at];
            b[at] = o;
        }
    }
    free(old);
}

/* The owner entry of peer, made if missing; NULL on ENOMEM. */
static struct allowedips_owner *owner_get(struct allowedips *a, const void *peer)
{
    struct allowedips_owner *o = owner_find(a, peer);
    size_t at;

    if (o)
        return o;
    if (a->n_owners >= a->n_buckets)
        owners_grow(a);
    if (!a->n_buckets)
        return NULL;
    o = calloc(1, sizeof(*o));
    if (!o)
        return NULL;
    o->peer = peer;
    CDS_INIT_LIST_HEAD(&o->nodes);
    at = owner_bucket(a, peer);
    o->next = a->buckets[at];
    a->buckets[at] = o;
    a->n_owners++;
    return o;
}

/* Forget peer's entry once its list is empty. */
static void owner_put(struct allowedips *a, const void *peer)
{
    struct allowedips_owner **at, *o;

    if (!a->n_buckets)
        return;
    for (at = &a->buckets[owner_bucket(a, peer)]; (o = *at); at = &o->next) {
        if (o->peer != peer)
            continue;
        if (!cds_list_empty(&o->nodes))
            return;
        *at = o->next;
        free(o);
        a->n_owners--;
        return;
    }
}

/* Give node (holding no peer, or `from`) to `to` (not NULL), moving it
 * between owner lists. The owner entry must exist (owner_get). */
static void node_set_peer(struct allowedips *a, struct allowedips_node *n, struct allowedips_owner *to)
{
    void *from = n->peer;

    if (from == to->peer)
        return;
    cds_list_del_init(&n->peer_link);
    cds_list_add_tail(&n->peer_link, &to->nodes);
    rcu_assign_pointer(n->peer, (void *)to->peer);
    if (from)
        owner_put(a, from);
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
    memset(a, 0, sizeof(*a));
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
    for (size_t i = 0; i < a->n_buckets; i++) {
        struct allowedips_owner *o = a->buckets[i], *next;

        for (; o; o = next) {
            next = o->next;
            free(o);
        }
    }
    free(a->buckets);
    a->buckets = NULL;
    a->n_buckets = a->n_owners = 0;
    wb_mutex_destroy(&a->lock);
}

/* Writer, a->lock held: the slot that points at n. */
static struct allowedips_node **slot_of(struct allowedips *a, const struct allowedips_node *n)
{
    struct allowedips_node *parent = n->parent;

    return parent ? &parent->child[bit_at(n->key, parent->cidr)] : root_slot(a, n->family);
}

/* Writer, a->lock held. Walks down while a node's prefix is a prefix of
 * the new one, then either takes over an exact match, hangs a leaf on an
 * empty slot, puts the new node above a longer one, or splits the edge
 * with a branch node at the first differing bit. */
static int insert_locked(struct allowedips *a, int family, const uint64_t k[2], unsigned cidr,
                         struct allowedips_owner *o)
{
    struct allowedips_node **slot = root_slot(a, family), *node, *fresh, *top, *parent = NULL;
    unsigned common = 0;

    while ((node = *slot)) {
        common = common_bits(node->key, k, node->cidr < cidr ? node->cidr : cidr);
        if (common < node->cidr)
            break;
        if (node->cidr == cidr) {
            node_set_peer(a, node, o);
            return 0;
        }
        parent = node;
        slot = &node->child[bit_at(k, node->cidr)];
    }
    fresh = node_new(family, k, cidr);
    if (!fresh)
        return -ENOMEM;
    top = fresh;
    if (node && common == cidr) {
        fresh->child[bit_at(node->key, cidr)] = node;
        node->parent = fresh;
    } else if (node) {
        top = node_new(family, k, common);
        if (!top) {
            free(fresh);
            return -ENOMEM;
        }
        top->child[bit_at(k, common)] = fresh;
        top->child[bit_at(node->key, common)] = node;
        fresh->parent = top;
        node->parent = top;
    }
    top->parent = parent;
    fresh->peer = (void *)o->peer;           /* not yet reachable: a plain store */
    cds_list_add_tail(&fresh->peer_link, &o->nodes);
    rcu_assign_pointer(*slot, top);
    return 0;
}

/* Any registered, online QSBR thread; takes a->lock. */
int allowedips_insert(struct allowedips *a, int family, const uint8_t *addr,
                      uint8_t cidr, void *peer)
{
    struct allowedips_owner *o;
    uint64_t k[2];
    int ret = prepare_key(k, family, addr, cidr);

    if (ret)
        return ret;
    if (!peer)
        return -EINVAL;
    wb_mutex_lock(&a->lock);
    o = owner_get(a, peer);
    ret = o ? insert_locked(a, family, k, cidr, o) : -ENOMEM;
    if (ret)
        owner_put(a, peer);        /* an entry made for nothing goes again */
    wb_mutex_unlock(&a->lock);
    return ret;
}

/* Writer, a->lock held: n leaves its peer's list and holds no peer. */
static void node_clear_peer(struct allowedips_node *n)
{
    cds_list_del_init(&n->peer_link);
    rcu_assign_pointer(n->peer, NULL);
}

/* Writer, a->lock held; n holds no peer any more. It goes if it has fewer
 * than two children (its child, if any, takes its slot), and its parent
 * too if that left the parent a branch node with a single child. */
static void collapse(struct allowedips *a, struct allowedips_node *n)
{
    struct allowedips_node *child, *parent;

    if (n->child[0] && n->child[1])
        return;
    child = only_child(n);
    parent = n->parent;
    if (child)
        child->parent = parent;
    rcu_assign_pointer(*slot_of(a, n), child);
    node_retire(n);
    if (child || !parent || parent->peer)
        return;
    child = only_child(parent);           /* the sibling: not NULL */
    child->parent = parent->parent;
    rcu_assign_pointer(*slot_of(a, parent), child);
    node_retire(parent);
}

/* Writer, a->lock held. Finds the exact prefix held by peer. */
static int remove_locked(struct allowedips *a, int family, const uint64_t k[2], unsigned cidr,
                         void *peer)
{
    struct allowedips_node *node = *root_slot(a, family);

    while (node && node->cidr < cidr) {
        if (!prefix_matches(node, k))
            return -ENOENT;
        node = node->child[bit_at(k, node->cidr)];
    }
    if (!node || node->cidr != cidr || node->key[0] != k[0] || node->key[1] != k[1] ||
        node->peer != peer)
        return -ENOENT;
    node_clear_peer(node);
    owner_put(a, peer);
    collapse(a, node);
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
    ret = remove_locked(a, family, k, cidr, peer);
    wb_mutex_unlock(&a->lock);
    return ret;
}

/* Any registered, online QSBR thread; takes a->lock. Only peer's own
 * nodes are visited. A node on the list always holds the peer, so the
 * collapse of an earlier one never retires a later one (collapse only
 * retires nodes that hold no peer). */
void allowedips_remove_by_peer(struct allowedips *a, void *peer)
{
    struct allowedips_owner *o;
    struct allowedips_node *n, *next;

    if (!peer)
        return;
    wb_mutex_lock(&a->lock);
    o = owner_find(a, peer);
    if (o) {
        cds_list_for_each_entry_safe(n, next, &o->nodes, peer_link) {
            node_clear_peer(n);
            collapse(a, n);
        }
        owner_put(a, peer);
    }
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

/* IPv4 first, then by address, shorter prefixes first: the order of a
 * pre-order walk of the tries, 0 side first. */
static int node_order(const void *x, const void *y)
{
    const struct allowedips_node *a = *(const struct allowedips_node *const *)x;
    const struct allowedips_node *b = *(const struct allowedips_node *const *)y;

    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    if (a->key[0] != b->key[0])
        return a->key[0] < b->key[0] ? -1 : 1;
    if (a->key[1] != b->key[1])
        return a->key[1] < b->key[1] ? -1 : 1;
    return (a->cidr > b->cidr) - (a->cidr < b->cidr);
}

/* Any thread; takes a->lock, so fn must not call writer functions on a.
 * O(k log k) for a peer with k prefixes, whatever the table holds. */
int allowedips_walk_by_peer(struct allowedips *a, void *peer, allowedips_walk_fn fn, void *ctx)
{
    struct allowedips_owner *o;
    struct allowedips_node *n, *few[16], **v = NULL;
    size_t count = 0, i = 0;
    uint8_t addr[16];
    int ret = 0;

    if (!peer)
        return 0;
    wb_mutex_lock(&a->lock);
    o = owner_find(a, peer);
    if (o)
        cds_list_for_each_entry(n, &o->nodes, peer_link)
            count++;
    if (count && count <= sizeof(few) / sizeof(few[0]))
        v = few;                      /* most peers: no allocation */
    else if (count && !(v = malloc(count * sizeof(*v))))
        ret = -ENOMEM;
    if (v) {
        cds_list_for_each_entry(n, &o->nodes, peer_link)
            v[i++] = n;
        qsort(v, count, sizeof(*v), node_order);
    }
    for (i = 0; ret == 0 && v && i < count; i++) {
        store_key(addr, v[i]->family, v[i]->key);
        ret = fn(ctx, v[i]->family, addr, v[i]->cidr);
    }
    wb_mutex_unlock(&a->lock);
    if (v != few)
        free(v);
    return ret;
}
