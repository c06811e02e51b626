/* SPDX-License-Identifier: MIT */
/*
 * test_allowedips.c - the allowed-IPs trie against a naive reference (a
 * flat list of prefixes with a linear longest-match lookup), hand-written
 * edge cases, and lookups racing a writer under liburcu QSBR.
 *
 * The randomized part runs ~100k operations from a fixed seed: inserts
 * (overlapping, duplicate, /0, full-length), removals by prefix and by
 * peer, lookups of random addresses and of addresses at prefix boundaries,
 * and walks. The concurrency part asserts only what must hold whatever the
 * interleaving: readers see NULL or a known peer, never a torn or freed one
 * (ASan builds catch a node freed too early).
 */
#include "datapath/allowedips.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <urcu-qsbr.h>

#include "check.h"

#define N_PEERS 8
#define REF_CAP 8192
#define RANDOM_OPS 100000
#define MAX_REPORTED_FAILURES 50

struct peer {
    int id;
};
static struct peer peers[N_PEERS];

/* ------------------------------------------------------------ utilities */

static uint64_t rng_state;

static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static unsigned rnd(unsigned n)
{
    return (unsigned)(rng() % n);
}

static unsigned addr_len(int family)
{
    return family == 4 ? 4 : 16;
}

static void mask_bytes(uint8_t *addr, int family, unsigned cidr)
{
    for (unsigned i = 0; i < addr_len(family); i++) {
        if (cidr >= 8 * (i + 1))
            continue;
        addr[i] &= cidr <= 8 * i ? 0 : (uint8_t)(0xff << (8 - (cidr - 8 * i)));
    }
}

static bool in_prefix(const uint8_t *addr, const uint8_t *prefix, int family, unsigned cidr)
{
    uint8_t a[16];

    memcpy(a, addr, addr_len(family));
    mask_bytes(a, family, cidr);
    return memcmp(a, prefix, addr_len(family)) == 0;
}

/* addr += delta (+1 or -1), wrapping like an unsigned integer. */
static void addr_step(uint8_t *addr, int family, int delta)
{
    for (int i = (int)addr_len(family) - 1; i >= 0; i--) {
        addr[i] = (uint8_t)(addr[i] + delta);
        if (addr[i] != (delta > 0 ? 0x00 : 0xff))
            return;
    }
}

/* A network-order address from text; the test's own data must parse. */
static const uint8_t *ip(const char *text)
{
    static uint8_t slots[8][16];
    static unsigned next;
    uint8_t *out = slots[next++ % 8];

    memset(out, 0, 16);
    if (inet_pton(strchr(text, ':') ? AF_INET6 : AF_INET, text, out) != 1) {
        fprintf(stderr, "bad address in test: %s\n", text);
        abort();
    }
    return out;
}

static int fam(const char *text)
{
    return strchr(text, ':') ? 6 : 4;
}

/* ------------------------------------------------------------ reference */

struct ref_entry {
    int family;
    uint8_t addr[16];
    uint8_t cidr;
    void *peer;
};

struct ref {
    struct ref_entry e[REF_CAP];
    size_t n;
};

static struct ref_entry *ref_find(struct ref *r, int family, const uint8_t *addr, unsigned cidr)
{
    for (size_t i = 0; i < r->n; i++) {
        struct ref_entry *e = &r->e[i];

        if (e->family == family && e->cidr == cidr &&
            memcmp(e->addr, addr, addr_len(family)) == 0)
            return e;
    }
    return NULL;
}

/* addr must already be masked to cidr. */
static void ref_insert(struct ref *r, int family, const uint8_t *addr, unsigned cidr, void *peer)
{
    struct ref_entry *e = ref_find(r, family, addr, cidr);

    if (!e) {
        if (r->n == REF_CAP)
            abort();
        e = &r->e[r->n++];
        memset(e, 0, sizeof(*e));
        e->family = family;
        memcpy(e->addr, addr, addr_len(family));
        e->cidr = (uint8_t)cidr;
    }
    e->peer = peer;
}

static int ref_remove(struct ref *r, int family, const uint8_t *addr, unsigned cidr, void *peer)
{
    struct ref_entry *e = ref_find(r, family, addr, cidr);

    if (!e || e->peer != peer)
        return -ENOENT;
    *e = r->e[--r->n];
    return 0;
}

static void ref_remove_by_peer(struct ref *r, void *peer)
{
    for (size_t i = 0; i < r->n;) {
        if (r->e[i].peer == peer)
            r->e[i] = r->e[--r->n];
        else
            i++;
    }
}

static void *ref_lookup(const struct ref *r, int family, const uint8_t *addr)
{
    const struct ref_entry *best = NULL;

    for (size_t i = 0; i < r->n; i++) {
        const struct ref_entry *e = &r->e[i];

        if (e->family == family && in_prefix(addr, e->addr, family, e->cidr) &&
            (!best || e->cidr > best->cidr))
            best = e;
    }
    return best ? best->peer : NULL;
}

/* ------------------------------------------------------------ walks */

struct walked {
    struct ref_entry e[REF_CAP];
    size_t n;
    int stop_after;                /* return 1 after this many; 0 = never */
};

static int collect(void *ctx, int family, const uint8_t *addr, uint8_t cidr)
{
    struct walked *w = ctx;

    if (w->n == REF_CAP)
        return -ENOSPC;
    memset(&w->e[w->n], 0, sizeof(w->e[0]));
    w->e[w->n].family = family;
    memcpy(w->e[w->n].addr, addr, addr_len(family));
    w->e[w->n].cidr = cidr;
    w->n++;
    return w->stop_after && (int)w->n == w->stop_after ? 1 : 0;
}

/* (family, addr, cidr) strictly increasing: the documented walk order. */
static bool walk_ordered(const struct walked *w)
{
    for (size_t i = 1; i < w->n; i++) {
        const struct ref_entry *p = &w->e[i - 1], *q = &w->e[i];
        int c;

        if (p->family != q->family) {
            if (p->family > q->family)
                return false;
            continue;
        }
        c = memcmp(p->addr, q->addr, addr_len(p->family));
        if (c > 0 || (c == 0 && p->cidr >= q->cidr))
            return false;
    }
    return true;
}

/* The walk of peer lists exactly the reference's prefixes of peer. */
static bool walk_matches(struct allowedips *a, struct ref *r, void *peer)
{
    static struct walked w;
    size_t expected = 0;

    w.n = 0;
    w.stop_after = 0;
    if (allowedips_walk_by_peer(a, peer, collect, &w) != 0)
        return false;
    for (size_t i = 0; i < r->n; i++)
        expected += r->e[i].peer == peer;
    if (w.n != expected || !walk_ordered(&w))
        return false;
    for (size_t i = 0; i < w.n; i++) {
        struct ref_entry *e = ref_find(r, w.e[i].family, w.e[i].addr, w.e[i].cidr);

        if (!e || e->peer != peer)
            return false;
    }
    return true;
}

/* ------------------------------------------------------------ hand-written */

static int insert_s(struct allowedips *a, const char *addr, unsigned cidr, struct peer *p)
{
    return allowedips_insert(a, fam(addr), ip(addr), (uint8_t)cidr, p);
}

static int remove_s(struct allowedips *a, const char *addr, unsigned cidr, struct peer *p)
{
    return allowedips_remove(a, fam(addr), ip(addr), (uint8_t)cidr, p);
}

static void *lookup_s(struct allowedips *a, const char *addr)
{
    return allowedips_lookup(a, fam(addr), ip(addr));
}

static void test_default_route_and_host(void)
{
    struct allowedips a;
    struct peer *A = &peers[0], *B = &peers[1];

    CHECK(allowedips_init(&a) == 0);
    CHECK(lookup_s(&a, "10.0.0.1") == NULL);
    CHECK(insert_s(&a, "0.0.0.0", 0, A) == 0);
    CHECK(insert_s(&a, "10.0.0.1", 32, B) == 0);
    CHECK(lookup_s(&a, "10.0.0.1") == B);
    CHECK(lookup_s(&a, "10.0.0.0") == A);
    CHECK(lookup_s(&a, "10.0.0.2") == A);
    CHECK(lookup_s(&a, "255.255.255.255") == A);
    CHECK(lookup_s(&a, "0.0.0.0") == A);
    /* The families are separate tables. */
    CHECK(lookup_s(&a, "::") == NULL);
    CHECK(lookup_s(&a, "::ffff:10.0.0.1") == NULL);
    CHECK(remove_s(&a, "10.0.0.1", 32, B) == 0);
    CHECK(lookup_s(&a, "10.0.0.1") == A);
    CHECK(remove_s(&a, "10.0.0.1", 32, B) == -ENOENT);
    CHECK(remove_s(&a, "0.0.0.0", 0, A) == 0);
    CHECK(lookup_s(&a, "10.0.0.1") == NULL);
    CHECK(a.root4 == NULL);

    CHECK(insert_s(&a, "::", 0, A) == 0);
    CHECK(insert_s(&a, "2001:db8::", 32, B) == 0);
    CHECK(insert_s(&a, "2001:db8::1", 128, A) == 0);
    CHECK(lookup_s(&a, "2001:db8::1") == A);
    CHECK(lookup_s(&a, "2001:db8::2") == B);
    CHECK(lookup_s(&a, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff") == B);
    CHECK(lookup_s(&a, "2001:db9::") == A);
    CHECK(lookup_s(&a, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") == A);
    CHECK(lookup_s(&a, "1.2.3.4") == NULL);
    allowedips_remove_by_peer(&a, A);
    CHECK(lookup_s(&a, "2001:db8::1") == B);
    CHECK(lookup_s(&a, "2001:db9::") == NULL);
    allowedips_remove_by_peer(&a, B);
    CHECK(a.root4 == NULL && a.root6 == NULL);
    allowedips_free(&a);
}

static void test_owner_replaced(void)
{
    struct allowedips a;
    struct peer *A = &peers[0], *B = &peers[1];
    struct walked w = { .n = 0 };

    CHECK(allowedips_init(&a) == 0);
    CHECK(insert_s(&a, "10.0.0.0", 8, A) == 0);
    CHECK(insert_s(&a, "10.0.0.0", 8, B) == 0);
    CHECK(lookup_s(&a, "10.20.30.40") == B);
    CHECK(allowedips_walk_by_peer(&a, A, collect, &w) == 0 && w.n == 0);
    CHECK(allowedips_walk_by_peer(&a, B, collect, &w) == 0 && w.n == 1);
    /* A prefix owned by another peer cannot be removed in that peer's name. */
    CHECK(remove_s(&a, "10.0.0.0", 8, A) == -ENOENT);
    CHECK(lookup_s(&a, "10.20.30.40") == B);
    CHECK(remove_s(&a, "10.0.0.0", 8, B) == 0);
    CHECK(lookup_s(&a, "10.20.30.40") == NULL);
    CHECK(a.root4 == NULL);
    allowedips_free(&a);
}

static void test_host_bits_and_errors(void)
{
    struct allowedips a;
    struct peer *A = &peers[0];
    struct walked w = { .n = 0 };

    CHECK(allowedips_init(&a) == 0);
    CHECK(insert_s(&a, "10.1.2.3", 8, A) == 0);
    CHECK(allowedips_walk_by_peer(&a, A, collect, &w) == 0);
    CHECK(w.n == 1 && w.e[0].family == 4 && w.e[0].cidr == 8);
    CHECK_EQ_MEM(w.e[0].addr, ip("10.0.0.0"), 4);
    CHECK(lookup_s(&a, "10.255.255.255") == A);
    CHECK(lookup_s(&a, "11.0.0.0") == NULL);
    CHECK(lookup_s(&a, "9.255.255.255") == NULL);
    CHECK(remove_s(&a, "10.9.9.9", 8, A) == 0);
    CHECK(a.root4 == NULL);

    CHECK(insert_s(&a, "10.0.0.0", 33, A) == -EINVAL);
    CHECK(insert_s(&a, "::", 129, A) == -EINVAL);
    CHECK(insert_s(&a, "10.0.0.0", 8, NULL) == -EINVAL);
    CHECK(allowedips_insert(&a, 5, ip("10.0.0.0"), 8, A) == -EAFNOSUPPORT);
    CHECK(allowedips_insert(&a, 0, ip("10.0.0.0"), 8, A) == -EAFNOSUPPORT);
    CHECK(allowedips_remove(&a, 5, ip("10.0.0.0"), 8, A) == -EAFNOSUPPORT);
    CHECK(remove_s(&a, "10.0.0.0", 33, A) == -EINVAL);
    CHECK(allowedips_lookup(&a, 5, ip("10.0.0.0")) == NULL);
    CHECK(a.root4 == NULL && a.root6 == NULL);
    allowedips_free(&a);
}

/* Two /24s make a branch node at /23 that owns nothing. */
static void test_branch_nodes(void)
{
    struct allowedips a;
    struct peer *A = &peers[0], *B = &peers[1], *C = &peers[2];

    CHECK(allowedips_init(&a) == 0);
    CHECK(insert_s(&a, "10.0.0.0", 24, A) == 0);
    CHECK(insert_s(&a, "10.0.1.0", 24, B) == 0);
    CHECK(lookup_s(&a, "10.0.0.9") == A);
    CHECK(lookup_s(&a, "10.0.1.9") == B);
    CHECK(lookup_s(&a, "10.0.2.9") == NULL);
    /* The branch is not a prefix anyone owns. */
    CHECK(remove_s(&a, "10.0.0.0", 23, A) == -ENOENT);
    CHECK(lookup_s(&a, "10.0.0.9") == A);
    /* Claiming it gives it an owner without hiding the longer prefixes. */
    CHECK(insert_s(&a, "10.0.0.0", 23, C) == 0);
    CHECK(lookup_s(&a, "10.0.1.9") == B);
    CHECK(remove_s(&a, "10.0.1.0", 24, B) == 0);
    CHECK(lookup_s(&a, "10.0.1.9") == C);
    CHECK(lookup_s(&a, "10.0.0.9") == A);
    CHECK(remove_s(&a, "10.0.0.0", 23, C) == 0);
    CHECK(lookup_s(&a, "10.0.1.9") == NULL);
    CHECK(lookup_s(&a, "10.0.0.9") == A);
    /* A shorter prefix above an existing one, then the longer one goes. */
    CHECK(insert_s(&a, "10.0.0.0", 16, B) == 0);
    CHECK(insert_s(&a, "10.0.0.128", 25, C) == 0);
    CHECK(lookup_s(&a, "10.0.0.200") == C);
    CHECK(lookup_s(&a, "10.0.0.100") == A);
    CHECK(lookup_s(&a, "10.0.99.1") == B);
    CHECK(remove_s(&a, "10.0.0.0", 24, A) == 0);
    CHECK(lookup_s(&a, "10.0.0.100") == B);
    CHECK(lookup_s(&a, "10.0.0.200") == C);
    allowedips_remove_by_peer(&a, B);
    allowedips_remove_by_peer(&a, C);
    CHECK(a.root4 == NULL);
    /* Siblings removed one by one take their branch node with them. */
    CHECK(insert_s(&a, "10.0.0.0", 24, A) == 0);
    CHECK(insert_s(&a, "10.0.1.0", 24, B) == 0);
    CHECK(insert_s(&a, "10.0.3.0", 24, C) == 0);
    CHECK(remove_s(&a, "10.0.1.0", 24, B) == 0);
    CHECK(lookup_s(&a, "10.0.0.1") == A && lookup_s(&a, "10.0.3.1") == C);
    CHECK(remove_s(&a, "10.0.0.0", 24, A) == 0);
    CHECK(lookup_s(&a, "10.0.0.1") == NULL && lookup_s(&a, "10.0.3.1") == C);
    CHECK(remove_s(&a, "10.0.3.0", 24, C) == 0);
    CHECK(a.root4 == NULL);
    allowedips_free(&a);
}

static void test_walk_exact(void)
{
    struct allowedips a;
    struct peer *A = &peers[0], *B = &peers[1];
    struct walked w = { .n = 0 };

    CHECK(allowedips_init(&a) == 0);
    CHECK(insert_s(&a, "192.168.1.0", 24, A) == 0);
    CHECK(insert_s(&a, "10.0.0.0", 8, A) == 0);
    CHECK(insert_s(&a, "10.0.0.0", 16, A) == 0);
    CHECK(insert_s(&a, "10.0.0.1", 32, B) == 0);
    CHECK(insert_s(&a, "2001:db8::", 64, A) == 0);
    CHECK(insert_s(&a, "fd00::1", 128, B) == 0);
    CHECK(allowedips_walk_by_peer(&a, A, collect, &w) == 0);
    CHECK(w.n == 4);
    CHECK(w.e[0].family == 4 && w.e[0].cidr == 8 && !memcmp(w.e[0].addr, ip("10.0.0.0"), 4));
    CHECK(w.e[1].family == 4 && w.e[1].cidr == 16 && !memcmp(w.e[1].addr, ip("10.0.0.0"), 4));
    CHECK(w.e[2].family == 4 && w.e[2].cidr == 24 && !memcmp(w.e[2].addr, ip("192.168.1.0"), 4));
    CHECK(w.e[3].family == 6 && w.e[3].cidr == 64 && !memcmp(w.e[3].addr, ip("2001:db8::"), 16));
    w.n = 0;
    CHECK(allowedips_walk_by_peer(&a, B, collect, &w) == 0);
    CHECK(w.n == 2 && w.e[0].cidr == 32 && w.e[1].cidr == 128);
    CHECK(!memcmp(w.e[1].addr, ip("fd00::1"), 16));
    /* A callback's non-zero return stops the walk and is returned. */
    w.n = 0;
    w.stop_after = 2;
    CHECK(allowedips_walk_by_peer(&a, A, collect, &w) == 1);
    CHECK(w.n == 2);
    w.n = 0;
    w.stop_after = 0;
    CHECK(allowedips_walk_by_peer(&a, &peers[5], collect, &w) == 0 && w.n == 0);
    allowedips_free(&a);   /* frees a non-empty table at once */
}

/* ------------------------------------------------------------ randomized */

static const char *const bases4[] = {
    "0.0.0.0", "255.255.255.255", "10.0.0.0", "10.0.0.255", "10.1.0.0",
    "192.168.1.1", "172.16.0.1", "128.0.0.0", "127.255.255.255",
};
static const char *const bases6[] = {
    "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db8::", "2001:db8:0:1::",
    "fe80::1", "::ffff:10.0.0.0", "8000::", "7fff:ffff:ffff:ffff::",
};

/* An address near one of a few bases: only its last few bits random, so
 * prefixes drawn from it overlap, nest and collide often. */
static void random_addr(uint8_t *addr, int family)
{
    unsigned bits = family == 4 ? 32 : 128;
    unsigned randomised = rnd(bits + 1);

    memset(addr, 0, 16);
    if (family == 4)
        memcpy(addr, ip(bases4[rnd(sizeof(bases4) / sizeof(bases4[0]))]), 4);
    else
        memcpy(addr, ip(bases6[rnd(sizeof(bases6) / sizeof(bases6[0]))]), 16);
    for (unsigned i = bits - randomised; i < bits; i++) {
        if (rng() & 1)
            addr[i / 8] ^= (uint8_t)(0x80 >> (i % 8));
    }
}

static unsigned random_cidr(int family)
{
    unsigned bits = family == 4 ? 32 : 128;

    unsigned pick = rnd(64);

    if (pick == 0)
        return 0;                /* a default route now and then */
    if (pick < 8)
        return bits;             /* host routes often */
    if (pick < 24)
        return 1 + rnd(bits);    /* anything, short ones covering a lot */
    return bits / 2 + rnd(bits / 2);
}

/* An address from the distribution, or one at or just past the edge of a
 * prefix in the reference. */
static int lookup_addr(const struct ref *r, uint8_t *addr)
{
    int family = rnd(2) ? 4 : 6;
    const struct ref_entry *e;

    if (r->n == 0 || rnd(2)) {
        random_addr(addr, family);
        return family;
    }
    e = &r->e[rnd((unsigned)r->n)];
    memcpy(addr, e->addr, 16);
    if (rnd(2)) {            /* last address: set the host bits */
        for (unsigned i = e->cidr; i < addr_len(e->family) * 8; i++)
            addr[i / 8] |= (uint8_t)(0x80 >> (i % 8));
        if (rnd(2))
            addr_step(addr, e->family, +1);
    } else if (rnd(2)) {
        addr_step(addr, e->family, -1);
    }
    return e->family;
}

struct op_stats {
    unsigned long inserts, removes_ok, removes_refused, by_peer, lookups, hits, walks;
};

/* An existing prefix, named with random host bits, removed by its owner
 * (peer NULL) or by `peer` (refused unless it happens to be the owner). */
static void remove_existing(struct allowedips *a, struct ref *r, struct op_stats *st, void *peer)
{
    const struct ref_entry *e = &r->e[rnd((unsigned)r->n)];
    int family = e->family, expect;
    unsigned cidr = e->cidr;
    uint8_t addr[16];

    memcpy(addr, e->addr, 16);
    for (unsigned i = cidr; i < addr_len(family) * 8; i++)
        addr[i / 8] |= (uint8_t)((rng() & 1) << (7 - i % 8));
    if (!peer)
        peer = e->peer;
    expect = ref_remove(r, family, e->addr, cidr, peer);
    CHECK(allowedips_remove(a, family, addr, (uint8_t)cidr, peer) == expect);
    if (expect)
        st->removes_refused++;
    else
        st->removes_ok++;
}

static void random_step(struct allowedips *a, struct ref *r, struct op_stats *st)
{
    uint8_t addr[16];
    unsigned cidr, op = rnd(100);
    int family = rnd(2) ? 4 : 6;
    void *peer = &peers[rnd(N_PEERS)];

    if (r->n == 0 && op >= 30 && op < 45)
        op = 0;                  /* nothing to remove yet */
    if (op < 30) {
        random_addr(addr, family);
        cidr = random_cidr(family);
        CHECK(allowedips_insert(a, family, addr, (uint8_t)cidr, peer) == 0);
        mask_bytes(addr, family, cidr);
        ref_insert(r, family, addr, cidr, peer);
        st->inserts++;
    } else if (op < 45) {
        remove_existing(a, r, st, op < 40 ? NULL : peer);
    } else if (op < 50) {
        random_addr(addr, family);
        cidr = random_cidr(family);
        mask_bytes(addr, family, cidr);
        CHECK(allowedips_remove(a, family, addr, (uint8_t)cidr, peer) ==
              ref_remove(r, family, addr, cidr, peer));
    } else if (op < 51) {
        allowedips_remove_by_peer(a, peer);
        ref_remove_by_peer(r, peer);
        st->by_peer++;
    } else if (op < 53) {
        CHECK(walk_matches(a, r, peer));
        st->walks++;
    } else {
        family = lookup_addr(r, addr);
        peer = ref_lookup(r, family, addr);
        CHECK(allowedips_lookup(a, family, addr) == peer);
        st->lookups++;
        st->hits += peer != NULL;
    }
}

static void test_random_against_reference(void)
{
    static struct ref r;
    struct allowedips a;
    struct op_stats st = { 0 };

    rng_state = 0x5eed0a1105ULL;
    CHECK(allowedips_init(&a) == 0);
    for (unsigned i = 0; i < RANDOM_OPS && check_failed < MAX_REPORTED_FAILURES; i++) {
        random_step(&a, &r, &st);
        rcu_quiescent_state();   /* lets call_rcu reclaim as we go */
    }
    for (int p = 0; p < N_PEERS; p++)
        CHECK(walk_matches(&a, &r, &peers[p]));
    /* Empty it one prefix at a time, then nothing may be left: no branch
     * node outlives the leaves it was made for. */
    while (r.n > 0) {
        struct ref_entry e = r.e[rnd((unsigned)r.n)];

        CHECK(allowedips_remove(&a, e.family, e.addr, e.cidr, e.peer) == 0);
        CHECK(ref_remove(&r, e.family, e.addr, e.cidr, e.peer) == 0);
    }
    CHECK(a.root4 == NULL && a.root6 == NULL);
    /* The run really exercised every kind of operation. */
    CHECK(st.inserts > 20000 && st.removes_ok > 1000 && st.removes_refused > 1000);
    CHECK(st.by_peer > 500 && st.walks > 1000 && st.lookups > 40000);
    CHECK(st.hits > st.lookups / 4 && st.lookups - st.hits > 2000);
    printf("random: %lu inserts, %lu removes (%lu refused), %lu by peer, "
           "%lu lookups (%lu hits), %lu walks\n", st.inserts, st.removes_ok,
           st.removes_refused, st.by_peer, st.lookups, st.hits, st.walks);
    allowedips_free(&a);
}

/* ------------------------------------------------------------ concurrency */

/* Readers look up inside prefixes that never go away while the writer
 * churns longer prefixes inside them: 10.0.0.0/8 and 2001:db8::/32 belong
 * to peers[0] throughout, 10.1.2.3/32 and 2001:db8::1/128 to peers[1]. */
#define STABLE_PEER (&peers[0])
#define HOST_PEER (&peers[1])
#define CHURN_PEER_FIRST 2
#define READER_MIN_LOOKUPS 20000UL
#define WRITER_MIN_OPS 20000UL
#define CHURN_MEMORY 256

struct reader {
    pthread_t thread;
    const struct allowedips *a;
    uint64_t seed;
    unsigned long lookups, unknown, missing, wrong_host, outside_hit;
};

static atomic_bool stop_readers;

static bool known_peer(const void *p)
{
    for (int i = 0; i < N_PEERS; i++) {
        if (p == &peers[i])
            return true;
    }
    return false;
}

static uint64_t reader_rng(struct reader *r)
{
    uint64_t z = (r->seed += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A lookup inside a stable prefix: some peer, always a real one. */
static void check_inside(struct reader *r, int family, const uint8_t *addr)
{
    void *p = allowedips_lookup(r->a, family, addr);

    if (!p)
        r->missing++;
    else if (!known_peer(p))
        r->unknown++;
    r->lookups++;
}

static void reader_batch(struct reader *r)
{
    static const uint8_t host4[4] = { 10, 1, 2, 3 };
    static const uint8_t host6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
    uint64_t x = reader_rng(r), y = reader_rng(r);
    uint8_t a4[4] = { 10, (uint8_t)(x & 3), (uint8_t)(x >> 8), (uint8_t)(x >> 16) };
    uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
    uint8_t out4[4] = { 11, (uint8_t)(x >> 24), 0, 1 };

    memcpy(a6 + 4, &y, 8);
    a6[4] &= 3;
    a6[12] = (uint8_t)(x >> 32);
    check_inside(r, 4, a4);
    check_inside(r, 6, a6);
    if (allowedips_lookup(r->a, 4, host4) != HOST_PEER)
        r->wrong_host++;
    if (allowedips_lookup(r->a, 6, host6) != HOST_PEER)
        r->wrong_host++;
    if (allowedips_lookup(r->a, 4, out4) != NULL)
        r->outside_hit++;
    r->lookups += 3;
}

static void *reader_main(void *arg)
{
    struct reader *r = arg;

    rcu_register_thread();
    while (!atomic_load(&stop_readers) || r->lookups < READER_MIN_LOOKUPS) {
        for (int i = 0; i < 32; i++)
            reader_batch(r);
        rcu_quiescent_state();   /* once per batch, as a datapath worker does */
    }
    rcu_unregister_thread();
    return NULL;
}

struct churned {
    int family;
    uint8_t addr[16];
    uint8_t cidr;
    void *peer;
};

/* A prefix strictly inside a stable one, never equal to a host entry. */
static void churn_prefix(struct churned *c)
{
    memset(c->addr, 0, 16);
    c->family = rnd(2) ? 4 : 6;
    if (c->family == 4) {
        c->addr[0] = 10;
        c->addr[1] = (uint8_t)rnd(4);
        c->addr[2] = (uint8_t)rnd(4);
        c->addr[3] = (uint8_t)rng();
        c->cidr = (uint8_t)(9 + rnd(24));
        if (c->cidr == 32 && !memcmp(c->addr, (uint8_t[]){ 10, 1, 2, 3 }, 4))
            c->cidr = 31;
    } else {
        memcpy(c->addr, (uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8, (uint8_t)rnd(4) }, 5);
        c->addr[12] = (uint8_t)rnd(4);
        c->addr[15] = (uint8_t)rnd(4);
        c->cidr = (uint8_t)(33 + rnd(95));   /* up to /127 */
    }
    mask_bytes(c->addr, c->family, c->cidr);
    c->peer = &peers[CHURN_PEER_FIRST + rnd(N_PEERS - CHURN_PEER_FIRST)];
}

static double elapsed_s(const struct timespec *t0)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Writer side of the race: returns how many operations it made. The
 * duration is wall time (~1 s) but nothing asserted depends on it. */
static unsigned long churn(struct allowedips *a)
{
    static struct churned mem[CHURN_MEMORY];
    struct timespec t0;
    unsigned long ops = 0, insert_failures = 0;
    unsigned op;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (ops < WRITER_MIN_OPS || elapsed_s(&t0) < 1.0) {
        struct churned *c = &mem[rnd(CHURN_MEMORY)];

        op = rnd(100);
        if (op < 55 || !c->peer) {
            churn_prefix(c);
            insert_failures += allowedips_insert(a, c->family, c->addr, c->cidr, c->peer) != 0;
        } else if (op < 98) {
            allowedips_remove(a, c->family, c->addr, c->cidr, c->peer);
            c->peer = NULL;
        } else {
            allowedips_remove_by_peer(a, &peers[CHURN_PEER_FIRST + rnd(N_PEERS - CHURN_PEER_FIRST)]);
        }
        ops++;
        rcu_quiescent_state();
    }
    CHECK(insert_failures == 0);
    return ops;
}

static void test_concurrent_readers(void)
{
    static struct allowedips a;
    struct reader readers[2];
    unsigned long ops;

    rng_state = 0xc0ffee;
    CHECK(allowedips_init(&a) == 0);
    CHECK(insert_s(&a, "10.0.0.0", 8, STABLE_PEER) == 0);
    CHECK(insert_s(&a, "10.1.2.3", 32, HOST_PEER) == 0);
    CHECK(insert_s(&a, "2001:db8::", 32, STABLE_PEER) == 0);
    CHECK(insert_s(&a, "2001:db8::1", 128, HOST_PEER) == 0);
    atomic_store(&stop_readers, false);
    for (int i = 0; i < 2; i++) {
        readers[i] = (struct reader){ .a = &a, .seed = 1000 + (uint64_t)i };
        CHECK(pthread_create(&readers[i].thread, NULL, reader_main, &readers[i]) == 0);
    }
    ops = churn(&a);
    atomic_store(&stop_readers, true);
    rcu_thread_offline();        /* about to block in join */
    for (int i = 0; i < 2; i++)
        CHECK(pthread_join(readers[i].thread, NULL) == 0);
    rcu_thread_online();
    CHECK(ops >= WRITER_MIN_OPS);
    for (int i = 0; i < 2; i++) {
        struct reader *r = &readers[i];

        CHECK(r->lookups >= READER_MIN_LOOKUPS);
        CHECK(r->unknown == 0);
        CHECK(r->missing == 0);
        CHECK(r->wrong_host == 0);
        CHECK(r->outside_hit == 0);
        printf("reader %d: %lu lookups while %lu writes\n", i, r->lookups, ops);
    }
    for (int p = CHURN_PEER_FIRST; p < N_PEERS; p++)
        allowedips_remove_by_peer(&a, &peers[p]);
    CHECK(lookup_s(&a, "10.3.3.3") == STABLE_PEER);
    CHECK(lookup_s(&a, "10.1.2.3") == HOST_PEER);
    CHECK(lookup_s(&a, "2001:db8:3::3") == STABLE_PEER);
    allowedips_remove_by_peer(&a, STABLE_PEER);
    allowedips_remove_by_peer(&a, HOST_PEER);
    CHECK(a.root4 == NULL && a.root6 == NULL);
    allowedips_free(&a);
}

int main(void)
{
    /* This thread is the writer: call_rcu wants a registered, online one. */
    rcu_register_thread();
    test_default_route_and_host();
    test_owner_replaced();
    test_host_bits_and_errors();
    test_branch_nodes();
    test_walk_exact();
    test_random_against_reference();
    test_concurrent_readers();
    /* Wait for every node handed to call_rcu to be freed (leak checkers
     * then see a clean heap). rcu_barrier must not run online. */
    rcu_thread_offline();
    rcu_barrier();
    rcu_unregister_thread();
    return check_summary();
}
