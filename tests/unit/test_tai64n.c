/* SPDX-License-Identifier: MIT */
/*
 * test_tai64n.c - the handshake timestamp: known encodings, rounding of the
 * nanoseconds down to a multiple of 2^24, and strict ordering.
 */
#include <stdint.h>

#include "check.h"
#include "proto/tai64n.h"

static void check_encoding(uint64_t unix_ns, const char *hex)
{
    uint8_t want[NOISE_TIMESTAMP_LEN], got[NOISE_TIMESTAMP_LEN];

    CHECK(check_unhex(want, sizeof(want), hex) == NOISE_TIMESTAMP_LEN);
    tai64n_from_realtime(got, unix_ns);
    CHECK_EQ_MEM(got, want, NOISE_TIMESTAMP_LEN);
}

static void test_known_values(void)
{
    check_encoding(0, "400000000000000a00000000");
    /* 2^24 - 1 ns rounds down to 0. */
    check_encoding((1ULL << 24) - 1, "400000000000000a00000000");
    check_encoding(1ULL << 24, "400000000000000a01000000");
    /* 1e9 s + 123456789 ns: 1e9 = 0x3b9aca00, 123456789 -> 7 * 2^24 = 117440512 = 0x07000000. */
    check_encoding(1000000000ULL * NSEC_PER_SEC + 123456789ULL, "400000003b9aca0a07000000");
    /* The largest nanosecond value: 999999999 -> 59 * 2^24 = 989855744 = 0x3b000000. */
    check_encoding(1700000000ULL * NSEC_PER_SEC + 999999999ULL, "400000006553f10a3b000000");
    /* The largest input: 18446744073 s + 709551615 ns -> 42 * 2^24 = 0x2a000000. */
    check_encoding(UINT64_MAX, "400000044b82fa132a000000");
}

static void test_ordering(void)
{
    uint8_t a[NOISE_TIMESTAMP_LEN], b[NOISE_TIMESTAMP_LEN];

    tai64n_from_realtime(a, 5 * NSEC_PER_SEC);
    tai64n_from_realtime(b, 5 * NSEC_PER_SEC);
    CHECK(!tai64n_after(a, b));   /* strict: equal is not after */
    CHECK(!tai64n_after(b, a));

    tai64n_from_realtime(b, 5 * NSEC_PER_SEC + TAI64N_NSEC_GRANULARITY);
    CHECK(tai64n_after(b, a));
    CHECK(!tai64n_after(a, b));

    /* Seconds dominate nanoseconds. */
    tai64n_from_realtime(a, 6 * NSEC_PER_SEC);
    tai64n_from_realtime(b, 5 * NSEC_PER_SEC + 999999999ULL);
    CHECK(tai64n_after(a, b));
    CHECK(!tai64n_after(b, a));

    /* A byte compare, not a host-order integer compare: the low byte of the
     * seconds changing must order below a change in a higher byte. */
    tai64n_from_realtime(a, 0x100ULL * NSEC_PER_SEC);
    tai64n_from_realtime(b, 0x0ffULL * NSEC_PER_SEC);
    CHECK(tai64n_after(a, b));
    CHECK(!tai64n_after(b, a));

    /* Each byte position decides when all before it are equal. */
    for (int i = 0; i < NOISE_TIMESTAMP_LEN; i++) {
        uint8_t x[NOISE_TIMESTAMP_LEN] = { 0 }, y[NOISE_TIMESTAMP_LEN] = { 0 };

        x[i] = 0x80;
        y[i] = 0x7f;
        if (i + 1 < NOISE_TIMESTAMP_LEN)
            y[i + 1] = 0xff;
        CHECK(tai64n_after(x, y));
        CHECK(!tai64n_after(y, x));
    }

    /* Monotone across a sweep of times. */
    tai64n_from_realtime(a, 0);
    for (uint64_t t = 1; t < 3 * NSEC_PER_SEC; t += TAI64N_NSEC_GRANULARITY) {
        tai64n_from_realtime(b, t + TAI64N_NSEC_GRANULARITY - 1);
        if (!tai64n_after(b, a) || tai64n_after(a, b)) {
            CHECK(!"sweep not strictly increasing");
            break;
        }
        memcpy(a, b, sizeof(a));
    }
}

static void test_rounding_hides_fine_timing(void)
{
    uint8_t a[NOISE_TIMESTAMP_LEN], b[NOISE_TIMESTAMP_LEN];
    const uint64_t base = 1600000000ULL * NSEC_PER_SEC + 3ULL * TAI64N_NSEC_GRANULARITY;

    tai64n_from_realtime(a, base);
    tai64n_from_realtime(b, base + TAI64N_NSEC_GRANULARITY - 1);
    CHECK_EQ_MEM(a, b, NOISE_TIMESTAMP_LEN);
    CHECK(!tai64n_after(b, a));
    tai64n_from_realtime(b, base + 12345);
    CHECK_EQ_MEM(a, b, NOISE_TIMESTAMP_LEN);
    tai64n_from_realtime(b, base - 1);
    CHECK(tai64n_after(a, b));
    tai64n_from_realtime(b, base + TAI64N_NSEC_GRANULARITY);
    CHECK(tai64n_after(b, a));
    /* The low 24 bits of the nanoseconds field are always zero. */
    for (uint64_t t = 0; t < 2 * NSEC_PER_SEC; t += 999983) {
        tai64n_from_realtime(a, t);
        if (a[9] || a[10] || a[11] || ((uint64_t)a[8] << 24) >= NSEC_PER_SEC) {
            CHECK(!"nanoseconds field not a multiple of 2^24 below 1e9");
            break;
        }
    }
}

int main(void)
{
    test_known_values();
    test_ordering();
    test_rounding_hides_fine_timing();
    return check_summary();
}
