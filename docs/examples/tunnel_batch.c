/* SPDX-License-Identifier: MIT */
/*
 * tunnel_batch.c - example: wb_tunnel_encapsulate_batch / _decapsulate_batch.
 *
 * A batch call processes n packets under one lock acquisition and lets the
 * crypto run several packets at once; every element gets the same result
 * the single call would have given. After a quick handshake, Alice seals
 * eight IPv4 packets in one call and Bob opens all eight in one call.
 * Run: ./example_tunnel_batch
 */
#include <stdio.h>
#include <string.h>

#include "wirebolt.h"

#define N 8
#define PKT_LEN 100

/* Create a tunnel from raw keys through the base64 entry point. */
static struct wb_tunnel *make(const uint8_t priv[WB_KEY_LEN], const uint8_t peer_pub[WB_KEY_LEN])
{
    char priv_b64[WB_KEY_B64_LEN + 1], peer_b64[WB_KEY_B64_LEN + 1];
    struct wb_tunnel *t = NULL;

    wb_key_to_base64(priv_b64, priv);
    wb_key_to_base64(peer_b64, peer_pub);
    wb_tunnel_create_base64(priv_b64, peer_b64, NULL, 0, &t);
    memset(priv_b64, 0, sizeof(priv_b64));
    return t;
}

int main(void)
{
    uint8_t a_priv[WB_KEY_LEN], a_pub[WB_KEY_LEN], b_priv[WB_KEY_LEN], b_pub[WB_KEY_LEN];
    static uint8_t pkts[N][PKT_LEN], wire[N][PKT_LEN + 64], inner[N][PKT_LEN + 64];
    struct wb_packet enc[N], dec[N];
    struct wb_tunnel *alice, *bob;
    struct wb_result r;
    size_t ok = 0;

    wb_init();
    wb_key_generate(a_priv);
    wb_key_generate(b_priv);
    wb_key_public(a_pub, a_priv);
    wb_key_public(b_pub, b_priv);
    alice = make(a_priv, b_pub);
    bob = make(b_priv, a_pub);
    if (!alice || !bob)
        return 1;

    /* Handshake: initiation, response (see tunnel_pair.c for the details). */
    r = wb_tunnel_force_handshake(alice, wire[0], sizeof(wire[0]));
    r = wb_tunnel_decapsulate(bob, NULL, wire[0], r.size, wire[1], sizeof(wire[1]));
    r = wb_tunnel_decapsulate(alice, NULL, wire[1], r.size, wire[0], sizeof(wire[0]));
    /* Alice answers with a keepalive that confirms the session to Bob. */
    while (r.op == WB_WRITE_TO_NETWORK) {
        wb_tunnel_decapsulate(bob, NULL, wire[0], r.size, inner[0], sizeof(inner[0]));
        r = wb_tunnel_decapsulate(alice, NULL, NULL, 0, wire[0], sizeof(wire[0]));
    }

    for (int i = 0; i < N; i++) {
        memset(pkts[i], i, PKT_LEN);
        memcpy(pkts[i], (const uint8_t[]){ 0x45, 0, 0, PKT_LEN, 0, 0, 0, 0, 64, 253 }, 10);
        enc[i] = (struct wb_packet){ .src = pkts[i], .len = PKT_LEN,
                                     .dst = wire[i], .dst_cap = sizeof(wire[i]) };
    }
    wb_tunnel_encapsulate_batch(alice, enc, N);

    for (int i = 0; i < N; i++)
        dec[i] = (struct wb_packet){ .src = wire[i], .len = enc[i].result.size,
                                     .dst = inner[i], .dst_cap = sizeof(inner[i]) };
    wb_tunnel_decapsulate_batch(bob, dec, N);

    for (int i = 0; i < N; i++) {
        int same = dec[i].result.op == WB_WRITE_TO_TUNNEL_IPV4 &&
                   dec[i].result.size == PKT_LEN && memcmp(inner[i], pkts[i], PKT_LEN) == 0;
        printf("packet %d: sealed to %u bytes (op %d), opened to %u bytes (op %d) %s\n", i,
               (unsigned)enc[i].result.size, (int)enc[i].result.op,
               (unsigned)dec[i].result.size, (int)dec[i].result.op, same ? "ok" : "MISMATCH");
        ok += same;
    }
    printf("%u of %d packets made it through\n", (unsigned)ok, N);
    wb_tunnel_destroy(alice);
    wb_tunnel_destroy(bob);
    return ok == N ? 0 : 1;
}
