/* SPDX-License-Identifier: MIT */
/*
 * test_prefix_subtract.c - config_prefix_subtract (AllowedIPs minus
 * DisallowedIPs) against a brute-force model: random prefixes inside a
 * small random universe (an IPv4 /16 or /20, an IPv6 /112) whose every
 * address is enumerated, so the expected set is exact; the output must cover
 * exactly that set, without overlap, sorted, with no two prefixes that could
 * merge, and with as many prefixes as the unique minimal cover. Plus the
 * classic cases worked out by hand.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "proto/config.h"

typedef unsigned __int128 u128;

/* ------------------------------------------------------------- helpers */

static struct config_prefix pfx(const char *s)
{
    struct config_prefix p;

    if (config_prefix_parse(&p, s)) {
        fprintf(stderr, "bad prefix in test: %s\n", s);
        abort();
    }
    return p;
}

static unsigned width(const struct config_prefix *p)
{
    return p->family == 4 ? 32 : 128;
}

static u128 value(const struct config_prefix *p)
{
    u128 v = 0;

    for (unsigned i = 0; i < width(p) / 8; i++)
        v = v << 8 | p->addr[i];
    return v;
}

static int cmp_prefix(const struct config_prefix *a, const struct config_prefix *b)
{
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    u128 x = value(a), y = value(b);
    return x < y ? -1 : x > y;
}

static bool normalized(const struct config_prefix *p)
{
    struct config_prefix q = *p;

    config_prefix_normalize(&q);
    return memcmp(&q, p, sizeof(q)) == 0;
}

/* Siblings: same family and length, equal but for the last prefix bit. */
static bool siblings(const struct config_prefix *a, const struct config_prefix *b)
{
    if (a->family != b->family || a->cidr != b->cidr || a->cidr == 0)
        return false;
    unsigned host = width(a) - a->cidr;
    return (value(a) ^ value(b)) == (u128)1 << host;
}

/* Properties every output must have: valid, normalized, strictly sorted,
 * disjoint (sorted + each ends before the next starts), no siblings. */
static bool well_formed(const struct config_prefix *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((v[i].family != 4 && v[i].family != 6) || v[i].cidr > width(&v[i]) || !normalized(&v[i]))
            return false;
        if (i == 0 || v[i].family != v[i - 1].family)
            continue;
        if (cmp_prefix(&v[i - 1], &v[i]) >= 0)
            return false;
        u128 last = value(&v[i - 1]) | ((width(&v[i]) - v[i - 1].cidr >= 128)
                                           ? ~(u128)0
                                           : ((u128)1 << (width(&v[i]) - v[i - 1].cidr)) - 1);
        if (last >= value(&v[i]))
            return false;
        for (size_t j = 0; j < i; j++)
            if (siblings(&v[j], &v[i]))
                return false;
    }
    return true;
}

static bool list_is(const struct config_prefix *v, size_t n, const char *const *want, size_t nwant)
{
    char buf[64];
    bool ok = n == nwant;

    for (size_t i = 0; ok && i < n; i++)
        ok = strcmp(config_prefix_format(&v[i], buf, sizeof(buf)), want[i]) == 0;
    if (!ok)
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "  got %s\n", config_prefix_format(&v[i], buf, sizeof(buf)));
    return ok;
}

/* Subtract lists of prefix strings and compare with the expected strings. */
static void check_case(const char *const *allowed, size_t na, const char *const *disallowed,
                       size_t nd, const char *const *want, size_t nwant)
{
    struct config_prefix a[8], d[8], *out = NULL;
    size_t n = 99;

    for (size_t i = 0; i < na; i++)
        a[i] = pfx(allowed[i]);
    for (size_t i = 0; i < nd; i++)
        d[i] = pfx(disallowed[i]);
    CHECK(config_prefix_subtract(a, na, d, nd, &out, &n) == 0);
    CHECK(list_is(out, n, want, nwant));
    CHECK(well_formed(out, n));
    CHECK(n != 0 || out == NULL);
    free(out);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* -------------------------------------------------------- classic cases */

static void test_classic(void)
{
    static const char *const all4[] = { "0.0.0.0/0" }, *const lan[] = { "192.168.0.0/16" };
    static const char *const no_lan[] = {
        "0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/9", "192.128.0.0/11", "192.160.0.0/13",
        "192.169.0.0/16", "192.170.0.0/15", "192.172.0.0/14", "192.176.0.0/12", "192.192.0.0/10",
        "193.0.0.0/8", "194.0.0.0/7", "196.0.0.0/6", "200.0.0.0/5", "208.0.0.0/4", "224.0.0.0/3",
    };
    check_case(all4, 1, lan, 1, no_lan, N(no_lan));

    static const char *const all6[] = { "::/0" }, *const ll[] = { "fe80::/10" };
    static const char *const no_ll[] = {
        "::/1", "8000::/2", "c000::/3", "e000::/4", "f000::/5", "f800::/6", "fc00::/7",
        "fe00::/9", "fec0::/10", "ff00::/8",
    };
    check_case(all6, 1, ll, 1, no_ll, N(no_ll));

    /* Both families at once: each subtracts only its own; IPv4 comes first. */
    static const char *const both[] = { "::/0", "0.0.0.0/0" };
    static const char *const both_d[] = { "fe80::/10", "192.168.0.0/16" };
    const char *both_want[N(no_lan) + N(no_ll)];
    memcpy(both_want, no_lan, sizeof(no_lan));
    memcpy(both_want + N(no_lan), no_ll, sizeof(no_ll));
    check_case(both, 2, both_d, 2, both_want, N(both_want));

    /* Equal: nothing left. Disjoint: unchanged. Disallowed covers allowed. */
    static const char *const ten[] = { "10.0.0.0/8" };
    check_case(ten, 1, ten, 1, NULL, 0);
    check_case(ten, 1, lan, 1, ten, 1);
    check_case(ten, 1, all4, 1, NULL, 0);
    check_case(ten, 1, ll, 1, ten, 1);              /* the other family is no matter */
    check_case(ten, 1, NULL, 0, ten, 1);
    check_case(NULL, 0, ten, 1, NULL, 0);

    /* Nested: a hole inside a hole-free prefix, and a disallowed prefix
     * that straddles two allowed ones. */
    static const char *const hole_d[] = { "10.1.2.0/24", "10.1.0.0/16" };
    static const char *const hole[] = {
        "10.0.0.0/16", "10.2.0.0/15", "10.4.0.0/14", "10.8.0.0/13", "10.16.0.0/12",
        "10.32.0.0/11", "10.64.0.0/10", "10.128.0.0/9",
    };
    check_case(ten, 1, hole_d, 2, hole, N(hole));
    static const char *const pair[] = { "10.0.0.0/24", "10.0.1.0/24" };
    static const char *const straddle[] = { "10.0.0.128/25", "10.0.1.0/25" };
    static const char *const pair_left[] = { "10.0.0.0/25", "10.0.1.128/25" };
    check_case(pair, 2, straddle, 2, pair_left, 2);

    /* Allowed prefixes are merged: halves, duplicates, nested, host bits. */
    static const char *const halves[] = { "10.0.0.128/25", "10.0.0.0/25" };
    static const char *const whole[] = { "10.0.0.0/24" };
    check_case(halves, 2, NULL, 0, whole, 1);
    static const char *const dups[] = { "10.0.0.0/8", "10.1.0.0/16", "10.0.0.0/8", "10.255.255.255/32" };
    check_case(dups, 4, NULL, 0, ten, 1);
    static const char *const hostbits[] = { "10.0.0.77/24" };
    check_case(hostbits, 1, NULL, 0, whole, 1);
    static const char *const quarters[] = { "10.0.0.0/26", "10.0.0.64/26", "10.0.0.192/26" };
    static const char *const quarters_out[] = { "10.0.0.0/25", "10.0.0.192/26" };
    check_case(quarters, 3, NULL, 0, quarters_out, 2);
    static const char *const d_hostbits[] = { "10.0.0.200/25" };
    static const char *const low_half[] = { "10.0.0.0/25" };
    check_case(whole, 1, d_hostbits, 1, low_half, 1);

    /* The ends of the address spaces. */
    static const char *const top4[] = { "255.255.255.255/32" }, *const zero4[] = { "0.0.0.0/32" };
    check_case(top4, 1, NULL, 0, top4, 1);
    check_case(top4, 1, top4, 1, NULL, 0);
    check_case(zero4, 1, NULL, 0, zero4, 1);
    static const char *const v6ends[] = { "::/128", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128" };
    static const char *const v6mid[] = { "::1/128", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/128" };
    check_case(v6ends, 2, NULL, 0, v6ends, 2);
    check_case(v6ends, 2, v6mid, 2, v6ends, 2);

    /* Removing one address from a whole space leaves one prefix per bit. */
    struct {
        const char *all, *one;
        size_t n;
        unsigned bits;
    } spaces[] = {
        { "0.0.0.0/0", "0.0.0.0/32", 32, 32 },
        { "0.0.0.0/0", "255.255.255.255/32", 32, 32 },
        { "0.0.0.0/0", "128.0.0.0/32", 32, 32 },
        { "::/0", "::/128", 128, 128 },
        { "::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", 128, 128 },
        { "::/0", "8000::1/128", 128, 128 },
    };
    for (size_t i = 0; i < N(spaces); i++) {
        struct config_prefix a = pfx(spaces[i].all), d = pfx(spaces[i].one), *out = NULL;
        size_t n = 0;
        u128 total = 0;
        CHECK(config_prefix_subtract(&a, 1, &d, 1, &out, &n) == 0);
        CHECK(n == spaces[i].n && well_formed(out, n));
        for (size_t j = 0; j < n; j++) {
            CHECK(out[j].cidr >= 1);
            if (out[j].cidr >= 1)
                total += (u128)1 << (spaces[i].bits - out[j].cidr);
        }
        /* Sizes add up to the whole space less one address. */
        CHECK(total == (spaces[i].bits == 32 ? ((u128)1 << 32) - 1 : ~(u128)0));
        for (size_t j = 0; j < n && out[j].cidr >= 1; j++) {
            u128 lo = value(&out[j]);
            u128 hi = lo | (((u128)1 << (spaces[i].bits - out[j].cidr)) - 1);
            CHECK(value(&d) < lo || value(&d) > hi);
        }
        free(out);
    }

    /* Bad input. */
    struct config_prefix bad = pfx("10.0.0.0/8"), *out = (struct config_prefix *)&bad;
    size_t n = 5;
    bad.cidr = 33;
    CHECK(config_prefix_subtract(&bad, 1, NULL, 0, &out, &n) == -EINVAL && out == NULL && n == 0);
    bad.cidr = 8;
    bad.family = 0;
    CHECK(config_prefix_subtract(NULL, 0, &bad, 1, &out, &n) == -EINVAL && out == NULL && n == 0);
}

/* ---------------------------------------------------------- brute force */

/* A universe: 2^ubits addresses under a random base prefix. */
struct universe {
    uint8_t family;
    unsigned bits, ubits;
    uint8_t base[16];
};

#define MAX_U (1u << 16)

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t bound)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)((rng_state >> 16) % bound);
}

static void universe_random(struct universe *u)
{
    unsigned r = rnd(3);

    memset(u, 0, sizeof(*u));
    u->family = r == 2 ? 6 : 4;
    u->bits = u->family == 4 ? 32 : 128;
    u->ubits = r == 0 ? 12 : 16;
    for (unsigned i = 0; i < u->bits / 8; i++)
        u->base[i] = (uint8_t)rnd(256);
    /* Clear the low ubits. */
    u->base[u->bits / 8 - 1] = 0;
    u->base[u->bits / 8 - 2] &= (uint8_t)(0xff << (u->ubits - 8));
}

/* A random prefix inside the universe; host bits sometimes left set. */
static struct config_prefix universe_prefix(const struct universe *u)
{
    struct config_prefix p;
    unsigned len = rnd(u->ubits + 1);           /* bits below the universe prefix */
    uint32_t off = rnd(1u << u->ubits);
    unsigned last = u->bits / 8 - 1;

    /* Bias towards longer prefixes so that holes are small and varied. */
    if (rnd(2))
        len = u->ubits - rnd(u->ubits / 2 + 1) + len / 4;
    if (len > u->ubits)
        len = u->ubits;
    memset(&p, 0, sizeof(p));
    p.family = u->family;
    p.cidr = (uint8_t)(u->bits - u->ubits + len);
    memcpy(p.addr, u->base, 16);
    p.addr[last] |= (uint8_t)off;
    p.addr[last - 1] |= (uint8_t)(off >> 8);
    if (rnd(4))
        config_prefix_normalize(&p);
    return p;
}

/* Where a prefix lies in the universe: first offset and count; false if it
 * is not inside. */
static bool universe_span(const struct universe *u, const struct config_prefix *p, uint32_t *first,
                          uint32_t *count)
{
    unsigned last = u->bits / 8 - 1;
    struct config_prefix q = *p;

    if (p->family != u->family || p->cidr < u->bits - u->ubits)
        return false;
    config_prefix_normalize(&q);
    uint32_t off = (uint32_t)q.addr[last] | (uint32_t)q.addr[last - 1] << 8;
    off &= (1u << u->ubits) - 1;
    q.addr[last] = 0;
    q.addr[last - 1] &= (uint8_t)(0xff << (u->ubits - 8));
    if (memcmp(q.addr, u->base, 16))
        return false;
    *first = off;
    *count = 1u << (u->bits - p->cidr);
    return true;
}

/* Prefixes in the minimal cover of set[lo, lo + n): whole blocks count 1. */
static size_t minimal_count(const uint8_t *set, uint32_t lo, uint32_t n)
{
    bool all = true, none = true;

    for (uint32_t i = lo; i < lo + n && (all || none); i++) {
        all = all && set[i];
        none = none && !set[i];
    }
    if (none)
        return 0;
    if (all)
        return 1;
    return minimal_count(set, lo, n / 2) + minimal_count(set, lo + n / 2, n / 2);
}

static uint8_t want_set[MAX_U], got_set[MAX_U];

static bool brute_one(unsigned iteration)
{
    struct universe u;
    struct config_prefix a[12], d[12], *out = NULL;
    size_t na, nd, n = 0;
    uint32_t size, first, count;
    bool ok = true;

    universe_random(&u);
    size = 1u << u.ubits;
    na = 1 + rnd(N(a));
    nd = rnd(N(d) + 1);
    for (size_t i = 0; i < na; i++)
        a[i] = universe_prefix(&u);
    for (size_t i = 0; i < nd; i++)
        d[i] = universe_prefix(&u);
    memset(want_set, 0, size);
    memset(got_set, 0, size);
    for (size_t i = 0; i < na; i++)
        if (universe_span(&u, &a[i], &first, &count))
            memset(want_set + first, 1, count);
    for (size_t i = 0; i < nd; i++)
        if (universe_span(&u, &d[i], &first, &count))
            memset(want_set + first, 0, count);

    if (config_prefix_subtract(a, na, d, nd, &out, &n) != 0)
        return false;
    ok = well_formed(out, n);
    for (size_t i = 0; ok && i < n; i++) {
        ok = universe_span(&u, &out[i], &first, &count);
        for (uint32_t j = first; ok && j < first + count; j++) {
            ok = !got_set[j];         /* no address twice */
            got_set[j] = 1;
        }
    }
    ok = ok && memcmp(want_set, got_set, size) == 0;
    ok = ok && n == minimal_count(want_set, 0, size);
    if (!ok) {
        char buf[64];
        fprintf(stderr, "  iteration %u: %zu allowed, %zu disallowed, %zu out\n", iteration, na, nd, n);
        for (size_t i = 0; i < na; i++)
            fprintf(stderr, "    allowed %s\n", config_prefix_format(&a[i], buf, sizeof(buf)));
        for (size_t i = 0; i < nd; i++)
            fprintf(stderr, "    disallowed %s\n", config_prefix_format(&d[i], buf, sizeof(buf)));
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "    out %s\n", config_prefix_format(&out[i], buf, sizeof(buf)));
    }
    free(out);
    return ok;
}

static void test_brute_force(void)
{
    unsigned failures = 0;

    for (unsigned i = 0; i < 3000 && failures < 3; i++)
        failures += !brute_one(i);
    CHECK(failures == 0);
}

/* The cover is also minimal for a family mixed with the other one. */
static void test_mixed_random(void)
{
    for (unsigned iter = 0; iter < 200; iter++) {
        struct universe u4, u6;
        struct config_prefix a[16], d[16], a4[16], d4[16], *mixed = NULL, *only = NULL;
        size_t na = 0, nd = 0, na4 = 0, nd4 = 0, nm = 0, no = 0;

        do
            universe_random(&u4);
        while (u4.family != 4);
        do
            universe_random(&u6);
        while (u6.family != 6);
        for (unsigned i = 0; i < 8; i++) {
            bool four = rnd(2);
            struct config_prefix p = universe_prefix(four ? &u4 : &u6);
            a[na++] = p;
            if (four)
                a4[na4++] = p;
            four = rnd(2);
            p = universe_prefix(four ? &u4 : &u6);
            d[nd++] = p;
            if (four)
                d4[nd4++] = p;
        }
        CHECK(config_prefix_subtract(a, na, d, nd, &mixed, &nm) == 0);
        CHECK(config_prefix_subtract(a4, na4, d4, nd4, &only, &no) == 0);
        /* The IPv4 part of the mixed answer is the IPv4-only answer. */
        size_t k = 0;
        while (k < nm && mixed[k].family == 4)
            k++;
        CHECK(k == no && (no == 0 || memcmp(mixed, only, no * sizeof(*only)) == 0));
        for (size_t i = k; i < nm; i++)
            CHECK(mixed[i].family == 6);
        free(mixed);
        free(only);
    }
}

int main(void)
{
    test_classic();
    test_brute_force();
    test_mixed_random();
    return check_summary();
}
