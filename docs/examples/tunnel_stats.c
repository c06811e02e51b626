/* SPDX-License-Identifier: MIT */
/*
 * tunnel_stats.c - example: wb_tunnel_stats and wb_tunnel_set_under_load.
 *
 * After a handshake and one packet, both tunnels' counters are printed.
 * Then Bob is told he is under load: Alice's next initiation is not
 * processed but answered with a cookie reply (the DoS defence of WireGuard:
 * Alice must prove her address by putting the cookie into mac2 next time),
 * and Bob's drop counter for WB_DROP_COOKIE_REQUIRED goes up.
 * Run: ./example_tunnel_stats
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "wirebolt.h"

static void print_stats(const char *who, struct wb_tunnel *t)
{
    struct wb_tunnel_stats s;

    memset(&s, 0, sizeof(s));
    s.size = sizeof(s);                          /* required: the ABI version */
    if (wb_tunnel_stats(t, &s) < 0)
        return;
    printf("%s: last handshake %" PRId64 " ns ago, %" PRIu64 " handshakes, rtt %d ms\n", who,
           s.time_since_last_handshake_ns, s.handshakes_completed, (int)s.estimated_rtt_ms);
    printf("  tx %" PRIu64 " bytes / %" PRIu64 " datagrams, rx %" PRIu64 " / %" PRIu64 "\n",
           s.tx_bytes, s.tx_packets, s.rx_bytes, s.rx_packets);
    for (int i = 0; i < WB_DROP_REASON_COUNT; i++)
        if (s.drops[i])
            printf("  drops[%d] = %" PRIu64 "\n", i, s.drops[i]);
}

int main(void)
{
    uint8_t a_priv[WB_KEY_LEN], b_priv[WB_KEY_LEN];
    struct wb_tunnel_config ca = { .size = sizeof(ca) }, cb = { .size = sizeof(cb) };
    const struct wb_endpoint alice_addr = { .family = 4, .port = 51820, .addr = { 192, 0, 2, 1 } };
    uint8_t pkt[40] = { 0x45, 0, 0, sizeof(pkt), 0, 0, 0, 0, 64, 253 };
    uint8_t wire[2048], out[2048];
    struct wb_tunnel *alice = NULL, *bob = NULL;
    struct wb_result r;

    wb_init();
    wb_key_generate(a_priv);
    wb_key_generate(b_priv);
    memcpy(ca.private_key, a_priv, WB_KEY_LEN);
    memcpy(cb.private_key, b_priv, WB_KEY_LEN);
    wb_key_public(ca.peer_public_key, b_priv);
    wb_key_public(cb.peer_public_key, a_priv);
    if (wb_tunnel_create(&ca, &alice) < 0 || wb_tunnel_create(&cb, &bob) < 0)
        return 1;

    /* Handshake and one packet, drained as the API asks. */
    r = wb_tunnel_encapsulate(alice, pkt, sizeof(pkt), wire, sizeof(wire));
    r = wb_tunnel_decapsulate(bob, &alice_addr, wire, r.size, out, sizeof(out));
    r = wb_tunnel_decapsulate(alice, NULL, out, r.size, wire, sizeof(wire));
    while (r.op == WB_WRITE_TO_NETWORK) {
        wb_tunnel_decapsulate(bob, &alice_addr, wire, r.size, out, sizeof(out));
        r = wb_tunnel_decapsulate(alice, NULL, NULL, 0, wire, sizeof(wire));
    }
    print_stats("alice", alice);
    print_stats("bob", bob);

    /* Under load, an initiation without a valid mac2 gets a cookie reply. */
    wb_tunnel_set_under_load(bob, true);
    r = wb_tunnel_force_handshake(alice, wire, sizeof(wire));
    r = wb_tunnel_decapsulate(bob, &alice_addr, wire, r.size, out, sizeof(out));
    printf("bob under load answers a new initiation with %u bytes (a cookie reply is 64)\n",
           (unsigned)r.size);
    r = wb_tunnel_decapsulate(alice, NULL, out, r.size, wire, sizeof(wire));
    printf("alice stores the cookie for her next initiation (op %d)\n", (int)r.op);
    wb_tunnel_set_under_load(bob, false);
    print_stats("bob", bob);
    printf("(drop reason %d is WB_DROP_COOKIE_REQUIRED)\n", (int)WB_DROP_COOKIE_REQUIRED);

    wb_tunnel_destroy(alice);
    wb_tunnel_destroy(bob);
    memset(&ca, 0, sizeof(ca));
    memset(&cb, 0, sizeof(cb));
    memset(a_priv, 0, sizeof(a_priv));
    memset(b_priv, 0, sizeof(b_priv));
    return 0;
}
