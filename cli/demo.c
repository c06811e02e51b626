/* SPDX-License-Identifier: MIT */
/*
 * demo.c - wirebolt-demo: two in-process tunnels, "alice" and "bob", joined
 * by an in-memory wire. Brings them up, handshakes, pushes traffic both
 * ways (single calls, then the batch API) and prints what happened and the
 * throughput. Uses only the public API (include/wirebolt.h).
 *
 * Usage: wirebolt-demo [megabytes per direction, default 256]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(_WIN32)
#include <windows.h>
#endif

#include "wirebolt.h"

#define PKT 1420
#define BATCH 32
#define BUF (PKT + WB_OVERHEAD + 16)

static const char *op_name(enum wb_op op)
{
    switch (op) {
    case WB_DONE: return "DONE";
    case WB_WRITE_TO_NETWORK: return "WRITE_TO_NETWORK";
    case WB_ERROR: return "ERROR";
    case WB_WRITE_TO_TUNNEL_IPV4: return "WRITE_TO_TUNNEL_IPV4";
    case WB_WRITE_TO_TUNNEL_IPV6: return "WRITE_TO_TUNNEL_IPV6";
    }
    return "?";
}

static double seconds(void)
{
#if defined(_WIN32)
    LARGE_INTEGER f, c;

    QueryPerformanceFrequency(&f);
    QueryPerformanceCounter(&c);
    return (double)c.QuadPart / (double)f.QuadPart;
#else
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
#endif
}

/* A minimal IPv4/UDP packet of `len` bytes from 10.0.0.1 to 10.0.0.2. */
static void make_ipv4(uint8_t *p, size_t len, uint32_t seq)
{
    memset(p, 0, len);
    p[0] = 0x45;
    p[2] = (uint8_t)(len >> 8);
    p[3] = (uint8_t)len;
    p[8] = 64;
    p[9] = 17;
    p[12] = 10, p[15] = 1;
    p[16] = 10, p[19] = 2;
    memcpy(p + 28, &seq, sizeof(seq));
}

/* Deliver one datagram from `from` to `to`, then follow every reply and
 * drain, printing each step. Returns 0 when the exchange settled. */
static int deliver(const char *to_name, struct wb_tunnel *to, struct wb_tunnel *from,
                   const char *from_name, uint8_t *dgram, size_t len)
{
    uint8_t out[BUF], back[BUF];

    for (int hops = 0; hops < 16; hops++) {
        struct wb_result r = wb_tunnel_decapsulate(to, NULL, dgram, len, out, sizeof(out));

        printf("  %-5s decapsulate %4zu B -> %-20s %4zu B\n", to_name, len, op_name(r.op), r.size);
        if (r.op == WB_ERROR)
            return -1;
        if (r.op != WB_WRITE_TO_NETWORK)
            return 0;
        /* The reply travels back; swap roles. */
        memcpy(back, out, r.size);
        memcpy(dgram, back, r.size);
        len = r.size;
        struct wb_tunnel *tt = to;
        const char *tn = to_name;
        to = from, to_name = from_name;
        from = tt, from_name = tn;
    }
    return -1;
}

/* Push `bytes` of 1420-byte packets from a to b with the batch API and
 * return Gbit/s of inner payload. */
static double pump(struct wb_tunnel *a, struct wb_tunnel *b, uint64_t bytes, uint64_t *delivered)
{
    static uint8_t plain[BATCH][PKT], wire[BATCH][BUF], out[BATCH][BUF];
    struct wb_packet enc[BATCH], dec[BATCH];
    uint64_t packets = bytes / PKT, sent = 0;
    double t0 = seconds();

    *delivered = 0;
    for (int i = 0; i < BATCH; i++)
        make_ipv4(plain[i], PKT, (uint32_t)i);
    while (sent < packets) {
        for (int i = 0; i < BATCH; i++) {
            enc[i] = (struct wb_packet){ .src = plain[i], .len = PKT, .dst = wire[i], .dst_cap = BUF };
        }
        wb_tunnel_encapsulate_batch(a, enc, BATCH);
        for (int i = 0; i < BATCH; i++)
            dec[i] = (struct wb_packet){ .src = wire[i], .len = enc[i].result.size,
                                         .dst = out[i], .dst_cap = BUF };
        wb_tunnel_decapsulate_batch(b, dec, BATCH);
        for (int i = 0; i < BATCH; i++)
            if (dec[i].result.op == WB_WRITE_TO_TUNNEL_IPV4)
                *delivered += dec[i].result.size;
        sent += BATCH;
    }
    return (double)*delivered * 8 / (seconds() - t0) / 1e9;
}

static void print_stats(const char *name, struct wb_tunnel *t)
{
    struct wb_tunnel_stats s = { .size = sizeof(s) };
    uint64_t drops = 0;

    wb_tunnel_stats(t, &s);
    for (int i = 0; i < WB_DROP_REASON_COUNT; i++)
        drops += s.drops[i];
    printf("  %-5s tx %" PRIu64 " B in %" PRIu64 " datagrams, rx %" PRIu64 " B in %" PRIu64
           " datagrams, handshakes %" PRIu64 ", drops %" PRIu64 "\n",
           name, s.tx_bytes, s.tx_packets, s.rx_bytes, s.rx_packets, s.handshakes_completed, drops);
}

int main(int argc, char **argv)
{
    uint8_t alice_priv[32], bob_priv[32], psk[32], alice_pub[32], bob_pub[32];
    char b64[WB_KEY_B64_LEN + 1];
    struct wb_tunnel *alice, *bob;
    uint8_t pkt[PKT], dgram[BUF];
    uint64_t mb = argc > 1 ? strtoull(argv[1], NULL, 10) : 256, got_ab, got_ba;

    if (wb_init() < 0 || !mb)
        return 1;
    wb_key_generate(alice_priv);
    wb_key_generate(bob_priv);
    wb_key_generate_preshared(psk);
    wb_key_public(alice_pub, alice_priv);
    wb_key_public(bob_pub, bob_priv);

    struct wb_tunnel_config ca = { .size = sizeof(ca), .has_preshared_key = true };
    struct wb_tunnel_config cb = ca;
    memcpy(ca.private_key, alice_priv, 32), memcpy(ca.peer_public_key, bob_pub, 32);
    memcpy(cb.private_key, bob_priv, 32), memcpy(cb.peer_public_key, alice_pub, 32);
    memcpy(ca.preshared_key, psk, 32), memcpy(cb.preshared_key, psk, 32);
    if (wb_tunnel_create(&ca, &alice) || wb_tunnel_create(&cb, &bob)) {
        fprintf(stderr, "wirebolt-demo: cannot create tunnels\n");
        return 1;
    }
    printf("wirebolt %s, AEAD implementation: %s\n", wb_version(), wb_aead_impl_name());
    wb_key_to_base64(b64, alice_pub);
    printf("alice public key %s\n", b64);
    wb_key_to_base64(b64, bob_pub);
    printf("bob   public key %s (preshared key in use)\n\n", b64);

    printf("1. alice sends a packet; no session yet, so it is staged and a handshake starts\n");
    make_ipv4(pkt, 84, 1);
    struct wb_result r = wb_tunnel_encapsulate(alice, pkt, 84, dgram, sizeof(dgram));
    printf("  alice encapsulate   84 B -> %-20s %4zu B\n", op_name(r.op), r.size);
    if (r.op != WB_WRITE_TO_NETWORK || deliver("bob", bob, alice, "alice", dgram, r.size))
        return 1;

    printf("\n2. bob answers with a packet of his own\n");
    r = wb_tunnel_encapsulate(bob, pkt, 84, dgram, sizeof(dgram));
    printf("  bob   encapsulate   84 B -> %-20s %4zu B\n", op_name(r.op), r.size);
    if (r.op != WB_WRITE_TO_NETWORK || deliver("alice", alice, bob, "bob", dgram, r.size))
        return 1;

    printf("\n3. bulk traffic, %" PRIu64 " MiB each way, 1420-byte packets, batch API\n", mb);
    double ab = pump(alice, bob, mb << 20, &got_ab);
    double ba = pump(bob, alice, mb << 20, &got_ba);
    printf("  alice -> bob: %.2f Gbit/s (%" PRIu64 " B delivered)\n", ab, got_ab);
    printf("  bob -> alice: %.2f Gbit/s (%" PRIu64 " B delivered)\n", ba, got_ba);
    printf("  (encrypt + decrypt on one core, no sockets: the protocol core's ceiling)\n\n");
    print_stats("alice", alice);
    print_stats("bob", bob);

    wb_tunnel_destroy(alice);
    wb_tunnel_destroy(bob);
    return got_ab && got_ba ? 0 : 1;
}
