/* SPDX-License-Identifier: MIT */
/*
 * tunnel_pair.c - example: two wb_tunnel objects talk to each other.
 *
 * No sockets: the "network" is a buffer passed from one tunnel to the
 * other. Alice encapsulates an IPv4 packet; since no session exists yet,
 * the packet is staged and a handshake initiation comes out instead. Bob
 * answers, Alice completes the handshake, and the drain call
 * (wb_tunnel_decapsulate with len 0) releases the staged packet, which Bob
 * decapsulates back into the original IP packet.
 * Run: ./example_tunnel_pair
 */
#include <stdio.h>
#include <string.h>

#include "wirebolt.h"

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

static void show(const char *who, const char *call, struct wb_result r)
{
    printf("%-5s %-12s -> %-20s %u bytes\n", who, call, op_name(r.op), (unsigned)r.size);
}

static struct wb_tunnel *make(const uint8_t priv[WB_KEY_LEN], const uint8_t peer_pub[WB_KEY_LEN])
{
    struct wb_tunnel_config cfg;
    struct wb_tunnel *t = NULL;

    memset(&cfg, 0, sizeof(cfg));
    cfg.size = sizeof(cfg);                      /* ABI versioning: always set */
    memcpy(cfg.private_key, priv, WB_KEY_LEN);
    memcpy(cfg.peer_public_key, peer_pub, WB_KEY_LEN);
    if (wb_tunnel_create(&cfg, &t) < 0)
        return NULL;
    memset(&cfg, 0, sizeof(cfg));                /* the tunnel keeps its own copy */
    return t;
}

int main(void)
{
    uint8_t a_priv[WB_KEY_LEN], a_pub[WB_KEY_LEN], b_priv[WB_KEY_LEN], b_pub[WB_KEY_LEN];
    uint8_t pkt[64] = { 0x45, 0, 0, sizeof(pkt), 0, 0, 0, 0, 64, 253, 0, 0,
                        10, 0, 0, 1, 10, 0, 0, 2 };   /* IPv4 10.0.0.1 -> 10.0.0.2 */
    uint8_t wire[2048], out[2048];
    struct wb_tunnel *alice, *bob;
    struct wb_result r;

    wb_init();
    wb_key_generate(a_priv);
    wb_key_generate(b_priv);
    wb_key_public(a_pub, a_priv);
    wb_key_public(b_pub, b_priv);
    alice = make(a_priv, b_pub);
    bob = make(b_priv, a_pub);
    if (!alice || !bob)
        return 1;

    r = wb_tunnel_encapsulate(alice, pkt, sizeof(pkt), wire, sizeof(wire));
    show("alice", "encapsulate", r);             /* the 148-byte initiation */
    r = wb_tunnel_decapsulate(bob, NULL, wire, r.size, out, sizeof(out));
    show("bob", "decapsulate", r);               /* the 92-byte response; bob has
                                                    nothing staged, so no drain */
    r = wb_tunnel_decapsulate(alice, NULL, out, r.size, wire, sizeof(wire));
    show("alice", "decapsulate", r);             /* handshake done */

    /* After any WRITE_TO_NETWORK: send it, then drain until DONE. */
    while (r.op == WB_WRITE_TO_NETWORK) {
        struct wb_result got = wb_tunnel_decapsulate(bob, NULL, wire, r.size, out, sizeof(out));
        show("bob", "decapsulate", got);
        if (got.op == WB_WRITE_TO_TUNNEL_IPV4)
            printf("      bob received %s packet\n",
                   got.size == sizeof(pkt) && memcmp(out, pkt, sizeof(pkt)) == 0
                   ? "the original" : "a DIFFERENT");
        r = wb_tunnel_decapsulate(alice, NULL, NULL, 0, wire, sizeof(wire));
        show("alice", "drain", r);
    }

    wb_tunnel_destroy(alice);
    wb_tunnel_destroy(bob);
    return 0;
}
