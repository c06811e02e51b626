/* SPDX-License-Identifier: MIT */
/*
 * test_ratelimiter.c - the handshake rate limiter on a fake clock: burst,
 * refill, independence of sources, IPv6 grouping by /64, a full table and
 * its garbage collection.
 */
#include "datapath/ratelimiter.h"

#include <errno.h>

#include "check.h"
#include "proto/messages.h"

static struct wb_endpoint v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    struct wb_endpoint e = { .family = 4, .port = 51820 };

    e.addr[0] = a;
    e.addr[1] = b;
    e.addr[2] = c;
    e.addr[3] = d;
    return e;
}

/* 2001:db8:<net>::<host>, the /64 chosen by net. */
static struct wb_endpoint v6(uint16_t net, uint16_t host)
{
    struct wb_endpoint e = { .family = 6, .port = 51820 };

    e.addr[0] = 0x20;
    e.addr[1] = 0x01;
    e.addr[2] = 0x0d;
    e.addr[3] = 0xb8;
    e.addr[6] = (uint8_t)(net >> 8);
    e.addr[7] = (uint8_t)net;
    e.addr[14] = (uint8_t)(host >> 8);
    e.addr[15] = (uint8_t)host;
    return e;
}

/* How many of n messages at time t are allowed. */
static int allowed_of(struct ratelimiter *rl, const struct wb_endpoint *src, uint64_t t, int n)
{
    int ok = 0;

    for (int i = 0; i < n; i++)
        ok += ratelimiter_allow(rl, src, t);
    return ok;
}

static void test_burst_and_refill(void)
{
    struct ratelimiter rl;
    struct wb_endpoint a = v4(192, 0, 2, 1);
    uint64_t t = 1000 * NSEC_PER_SEC;

    CHECK(ratelimiter_init(&rl, RATELIMITER_DEFAULT_ENTRIES) == 0);
    for (int i = 0; i < HANDSHAKE_RATE_BURST; i++)
        CHECK(ratelimiter_allow(&rl, &a, t));
    CHECK(!ratelimiter_allow(&rl, &a, t));
    CHECK(!ratelimiter_allow(&rl, &a, t + 49 * NSEC_PER_MSEC));
    /* 1/20 s after the burst: exactly one more. */
    CHECK(ratelimiter_allow(&rl, &a, t + 50 * NSEC_PER_MSEC));
    CHECK(!ratelimiter_allow(&rl, &a, t + 50 * NSEC_PER_MSEC));
    /* 100 ms later: two more. */
    CHECK(allowed_of(&rl, &a, t + 150 * NSEC_PER_MSEC, 10) == 2);
    /* A second later the bucket is full again, and holds no more than the burst. */
    CHECK(allowed_of(&rl, &a, t + 1150 * NSEC_PER_MSEC, 10) == HANDSHAKE_RATE_BURST);
    /* A steady 20/s is sustained: one every 50 ms, for 2 s. */
    t += 1150 * NSEC_PER_MSEC;
    int steady = 0;
    for (int i = 1; i <= 2 * HANDSHAKE_RATE_PER_SECOND; i++)
        steady += allowed_of(&rl, &a, t + (uint64_t)i * 50 * NSEC_PER_MSEC, 2);
    CHECK(steady == 2 * HANDSHAKE_RATE_PER_SECOND);
    /* A clock that steps back gives no credit and does not break the entry. */
    CHECK(!ratelimiter_allow(&rl, &a, t));
    CHECK(ratelimiter_count(&rl) == 1);
    ratelimiter_free(&rl);
}

static void test_sources_independent(void)
{
    struct ratelimiter rl;
    struct wb_endpoint a = v4(192, 0, 2, 1), b = v4(192, 0, 2, 2);
    struct wb_endpoint a_other_port = a;
    uint64_t t = 5 * NSEC_PER_SEC;

    a_other_port.port = 1;
    CHECK(ratelimiter_init(&rl, 64) == 0);
    CHECK(allowed_of(&rl, &a, t, 10) == HANDSHAKE_RATE_BURST);
    CHECK(allowed_of(&rl, &b, t, 10) == HANDSHAKE_RATE_BURST);
    /* The port is not part of the source. */
    CHECK(!ratelimiter_allow(&rl, &a_other_port, t));
    /* An IPv4 source and an IPv6 one with the same leading bytes differ. */
    struct wb_endpoint six = { .family = 6 };
    memcpy(six.addr, a.addr, 4);
    CHECK(allowed_of(&rl, &six, t, 10) == HANDSHAKE_RATE_BURST);
    CHECK(ratelimiter_count(&rl) == 3);
    ratelimiter_free(&rl);
}

static void test_ipv6_by_64(void)
{
    struct ratelimiter rl;
    struct wb_endpoint h1 = v6(1, 1), h2 = v6(1, 0xbeef), other = v6(2, 1);
    uint64_t t = 7 * NSEC_PER_SEC;

    CHECK(ratelimiter_init(&rl, 64) == 0);
    CHECK(allowed_of(&rl, &h1, t, 3) == 3);
    /* Same /64: h2 shares h1's bucket and gets only what is left. */
    CHECK(allowed_of(&rl, &h2, t, 10) == HANDSHAKE_RATE_BURST - 3);
    CHECK(!ratelimiter_allow(&rl, &h1, t));
    /* Another /64 has its own. */
    CHECK(allowed_of(&rl, &other, t, 10) == HANDSHAKE_RATE_BURST);
    CHECK(ratelimiter_count(&rl) == 2);
    /* Unknown families are refused and not tracked. */
    struct wb_endpoint none = { .family = 0 };
    CHECK(!ratelimiter_allow(&rl, &none, t));
    CHECK(!ratelimiter_allow(&rl, NULL, t));
    CHECK(ratelimiter_count(&rl) == 2);
    ratelimiter_free(&rl);
}

static void test_full_table_and_gc(void)
{
    enum { SIZE = 16 };
    struct ratelimiter rl;
    struct wb_endpoint src;
    uint64_t t0 = 10 * NSEC_PER_SEC;

    CHECK(ratelimiter_init(&rl, SIZE) == 0);
    for (int i = 0; i < SIZE; i++) {
        src = v4(198, 51, 100, (uint8_t)i);
        CHECK(ratelimiter_allow(&rl, &src, t0));
    }
    CHECK(ratelimiter_count(&rl) == SIZE);
    struct wb_endpoint late = v4(203, 0, 113, 7);
    CHECK(!ratelimiter_allow(&rl, &late, t0));
    /* Known sources still work while the table is full. */
    src = v4(198, 51, 100, 3);
    CHECK(ratelimiter_allow(&rl, &src, t0));
    /* Keep half busy; at t0 + 1 s nothing is idle for more than a second. */
    for (int i = 0; i < SIZE / 2; i++) {
        src = v4(198, 51, 100, (uint8_t)i);
        ratelimiter_allow(&rl, &src, t0 + 600 * NSEC_PER_MSEC);
    }
    CHECK(ratelimiter_gc(&rl, t0 + NSEC_PER_SEC) == 0);
    CHECK(!ratelimiter_allow(&rl, &late, t0 + NSEC_PER_SEC));
    /* At t0 + 1.5 s the untouched half has been idle 1.5 s; the busy half 0.9 s. */
    CHECK(ratelimiter_gc(&rl, t0 + 1500 * NSEC_PER_MSEC) == SIZE / 2);
    CHECK(ratelimiter_count(&rl) == SIZE / 2);
    CHECK(ratelimiter_allow(&rl, &late, t0 + 1500 * NSEC_PER_MSEC));
    /* The newcomer started with the burst less the message just allowed. */
    CHECK(allowed_of(&rl, &late, t0 + 1500 * NSEC_PER_MSEC, 10) == HANDSHAKE_RATE_BURST - 1);
    /* Reclaimed entries are reusable: refill the table to exactly SIZE. */
    int admitted = 0;
    for (int i = 0; i < SIZE; i++) {
        src = v4(192, 0, 2, (uint8_t)i);
        admitted += ratelimiter_allow(&rl, &src, t0 + 1600 * NSEC_PER_MSEC);
    }
    CHECK(admitted == SIZE / 2 - 1);
    CHECK(ratelimiter_count(&rl) == SIZE);
    /* Everything idle: gc empties the table. */
    CHECK(ratelimiter_gc(&rl, t0 + 10 * NSEC_PER_SEC) == SIZE);
    CHECK(ratelimiter_count(&rl) == 0);
    ratelimiter_free(&rl);
}

static void test_bad_sizes(void)
{
    struct ratelimiter rl;

    CHECK(ratelimiter_init(&rl, 0) == -EINVAL);
    CHECK(ratelimiter_init(&rl, RATELIMITER_MAX_ENTRIES + 1) == -EINVAL);
    CHECK(ratelimiter_init(&rl, 1) == 0);
    struct wb_endpoint a = v4(10, 0, 0, 1), b = v4(10, 0, 0, 2);
    CHECK(ratelimiter_allow(&rl, &a, 0));
    CHECK(!ratelimiter_allow(&rl, &b, 0));
    ratelimiter_free(&rl);
}

int main(void)
{
    test_burst_and_refill();
    test_sources_independent();
    test_ipv6_by_64();
    test_full_table_and_gc();
    test_bad_sizes();
    return check_summary();
}
