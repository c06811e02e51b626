/* SPDX-License-Identifier: MIT */
/*
 * fuzz_decapsulate.c - libFuzzer harness for wb_tunnel_decapsulate (and the
 * batch form and the drain call) on a tunnel pair with an established
 * session (fuzz_common.h: deterministic keys, RNG and clock).
 *
 * Input: one control byte, then the datagram.
 *   bit 0  feed it to b (the responder) instead of a
 *   bit 1  the tunnel is under load (cookies instead of handshakes)
 *   bit 2  drain afterwards (len 0 calls until WB_DONE)
 *   bit 3  use wb_tunnel_decapsulate_batch with 1 + (bits 4-5) copies
 *   bit 6  no source endpoint (from = NULL)
 *   bit 7  a small dst buffer (80 bytes)
 * Whenever an input was not simply dropped (something authenticated, was
 * sent, or a cookie secret was made), the pair is rebuilt, so every input
 * meets the same state and a crash reproduces from its input alone.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

#define SMALL_DST 80
#define MAX_COPIES 4
#define MAX_DRAIN 16

static struct fuzz_pair pair;
static uint8_t dst[MAX_COPIES][FUZZ_BUF_LEN];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_rng_install();
    fuzz_pair_establish(&pair);
    return 0;
}

/* The API's promises about any result. */
static void check_result(struct wb_result r, size_t cap, size_t len)
{
    switch (r.op) {
    case WB_DONE:
    case WB_ERROR:
        return;
    case WB_WRITE_TO_NETWORK:
        if (r.size > cap)
            abort();
        return;
    case WB_WRITE_TO_TUNNEL_IPV4:
    case WB_WRITE_TO_TUNNEL_IPV6:
        if (r.size > cap || len < MESSAGE_MINIMUM_LENGTH || r.size > len - MESSAGE_MINIMUM_LENGTH)
            abort();
        return;
    default:
        abort();
    }
}

/* Feed msg as ctrl says; returns the number of datagrams fed. */
static size_t run(struct wb_tunnel *t, uint8_t ctrl, const uint8_t *msg, size_t len)
{
    const struct wb_endpoint *from = ctrl & 0x40 ? NULL : t == pair.a ? &fuzz_from_b : &fuzz_from_a;
    size_t cap = ctrl & 0x80 ? SMALL_DST : FUZZ_BUF_LEN;
    size_t n = ctrl & 0x08 ? 1 + ((ctrl >> 4) & 3) : 1;
    bool sent = false;
    struct wb_result r;

    if (ctrl & 0x08) {
        struct wb_packet pkts[MAX_COPIES];

        for (size_t i = 0; i < n; i++)
            pkts[i] = (struct wb_packet){ msg, len, dst[i], cap, from, { WB_DONE, 0, 0 } };
        if (wb_tunnel_decapsulate_batch(t, pkts, n) != n)
            abort();
        for (size_t i = 0; i < n; i++) {
            check_result(pkts[i].result, cap, len);
            sent |= pkts[i].result.op == WB_WRITE_TO_NETWORK;
        }
    } else {
        r = wb_tunnel_decapsulate(t, from, msg, len, dst[0], cap);
        check_result(r, cap, len);
        sent = r.op == WB_WRITE_TO_NETWORK;
    }
    if (sent || (ctrl & 0x04)) {
        int i = 0;

        do {
            r = wb_tunnel_decapsulate(t, from, NULL, 0, dst[0], cap);
            check_result(r, cap, 0);
        } while (r.op == WB_WRITE_TO_NETWORK && ++i < MAX_DRAIN);
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wb_tunnel *t;
    uint64_t fingerprint, drops, cookies;
    size_t datagrams;
    uint8_t ctrl;

    if (size < 1)
        return 0;
    ctrl = data[0];
    t = ctrl & 1 ? pair.b : pair.a;
    fingerprint = fuzz_pair_fingerprint(&pair);
    drops = fuzz_tunnel_drops(t, -1);
    cookies = fuzz_tunnel_drops(t, WB_DROP_COOKIE_REQUIRED);

    fuzz_rng_reset(FUZZ_SEED_INPUT);
    wb_tunnel_set_under_load(t, ctrl & 2);
    datagrams = run(t, ctrl, data + 1, size - 1);
    wb_tunnel_set_under_load(t, false);

    if (size == 1)
        datagrams = 0;                 /* the drain call alone */
    if (fuzz_pair_fingerprint(&pair) != fingerprint || fuzz_tunnel_drops(t, -1) - drops != datagrams ||
        fuzz_tunnel_drops(t, WB_DROP_COOKIE_REQUIRED) != cookies) {
        fuzz_pair_destroy(&pair);
        fuzz_pair_establish(&pair);
    }
    return 0;
}
