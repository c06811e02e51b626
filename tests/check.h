/* SPDX-License-Identifier: MIT */
/*
 * check.h - the tiny test harness every test program uses.
 *
 * CHECK(cond) records a pass or a failure (with file:line) and goes on;
 * CHECK_EQ_MEM compares buffers and prints both as hex on mismatch.
 * check_summary() prints "N passed, N failed" and returns the exit code,
 * so `return check_summary();` ends every main().
 */
#ifndef WB_TESTS_CHECK_H
#define WB_TESTS_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long check_passed, check_failed;

static inline void check_record(int ok, const char *expr, const char *file, int line)
{
    if (ok) {
        check_passed++;
        return;
    }
    check_failed++;
    fprintf(stderr, "FAIL %s:%d: %s\n", file, line, expr);
}

static inline void check_hex(const char *label, const uint8_t *p, size_t n)
{
    fprintf(stderr, "  %s: ", label);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "%02x", p[i]);
    fputc('\n', stderr);
}

#define CHECK(cond) check_record(!!(cond), #cond, __FILE__, __LINE__)
#define CHECK_EQ_MEM(a, b, n)                                                     \
    do {                                                                          \
        int ok_ = memcmp((a), (b), (n)) == 0;                                     \
        check_record(ok_, "memcmp(" #a ", " #b ", " #n ") == 0", __FILE__, __LINE__); \
        if (!ok_) {                                                               \
            check_hex(#a, (const uint8_t *)(a), (n));                             \
            check_hex(#b, (const uint8_t *)(b), (n));                             \
        }                                                                         \
    } while (0)

/* Decode a hex string into out; returns the byte count. Aborts on bad hex:
 * vectors are test data, a typo must stop the test loudly. */
static inline size_t check_unhex(uint8_t *out, size_t cap, const char *hex)
{
    size_t n = strlen(hex);
    if (n % 2 || n / 2 > cap) {
        fprintf(stderr, "bad hex vector (%zu chars)\n", n);
        abort();
    }
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
            fprintf(stderr, "bad hex vector at %zu\n", i);
            abort();
        }
        out[i] = (uint8_t)v;
    }
    return n / 2;
}

static inline int check_summary(void)
{
    printf("%lu passed, %lu failed\n", check_passed, check_failed);
    return check_failed ? 1 : 0;
}

#endif
