/* SPDX-License-Identifier: MIT */
/*
 * boringtun_ffi.c - example: the BoringTun-compatible API (wireguard_ffi.h).
 *
 * Written the way a program for BoringTun's FFI is: string keys, opaque
 * tunnels, wireguard_write/read/tick, and the drain rule (after every
 * WRITE_TO_NETWORK from wireguard_read, call it again with src_size 0 until
 * WIREGUARD_DONE). Two tunnels exchange one IPv6 packet through a
 * preshared key, and print their stats.
 * Run: ./example_boringtun_ffi
 */
#include <stdio.h>
#include <string.h>

#include "wireguard_ffi.h"

static void print_log(const char *line)
{
    printf("  [log] %s\n", line);
}

struct side {
    const char *name;
    struct wireguard_tunnel *t;
};

/* Deliver one datagram to `to`; whatever it sends back goes to `back`,
 * recursively, which is what a UDP socket pair would do. */
static void deliver(const struct side *to, const struct side *back,
                    const uint8_t *dgram, size_t len, int depth)
{
    uint8_t out[2048];                           /* enough for MTU-sized packets */
    struct wireguard_result r = wireguard_read(to->t, dgram, (uint32_t)len, out, sizeof(out));

    printf("%s read %u bytes -> op %d, %u bytes\n", to->name, (unsigned)len, (int)r.op,
           (unsigned)r.size);
    while (r.op == WRITE_TO_NETWORK && depth < 8) {
        deliver(back, to, out, r.size, depth + 1);
        r = wireguard_read(to->t, NULL, 0, out, sizeof(out));   /* drain */
    }
    if (r.op == WRITE_TO_TUNNEL_IPV6)
        printf("%s delivers an IPv6 packet of %u bytes to its interface\n", to->name,
               (unsigned)r.size);
}

int main(void)
{
    static uint8_t buf[MAX_WIREGUARD_PACKET_SIZE];
    struct x25519_key a = x25519_secret_key(), b = x25519_secret_key();
    const char *a_priv = x25519_key_to_base64(a), *b_priv = x25519_key_to_base64(b);
    const char *a_pub = x25519_key_to_base64(x25519_public_key(a));
    const char *b_pub = x25519_key_to_base64(x25519_public_key(b));
    const char *psk = x25519_key_to_base64(x25519_secret_key());   /* any 32 bytes */
    uint8_t pkt[48] = { 0x60, 0, 0, 0, 0, 8, 59, 64 };              /* IPv6, 8-byte payload */
    struct side alice = { "alice", NULL }, bob = { "bob", NULL };
    struct wireguard_result r;
    struct stats s;

    set_logging_function(print_log);
    printf("alice's public key %s (valid: %d)\n", a_pub, check_base64_encoded_x25519_key(a_pub));
    alice.t = new_tunnel(a_priv, b_pub, psk, 25, 1);   /* keepalive 25 s, index prefix 1 */
    bob.t = new_tunnel(b_priv, a_pub, psk, 0, 2);
    if (!alice.t || !bob.t)
        return 1;

    /* The first packet starts the handshake; it is sent once that is done. */
    r = wireguard_write(alice.t, pkt, sizeof(pkt), buf, sizeof(buf));
    printf("alice write %u bytes -> op %d, %u bytes\n", (unsigned)sizeof(pkt), (int)r.op,
           (unsigned)r.size);
    if (r.op == WRITE_TO_NETWORK)
        deliver(&bob, &alice, buf, r.size, 0);

    /* Every ~100 ms in a real program. */
    r = wireguard_tick(alice.t, buf, sizeof(buf));
    printf("alice tick -> op %d\n", (int)r.op);

    s = wireguard_stats(alice.t);
    printf("alice: handshake %d s ago, tx %u bytes, rx %u bytes, rtt %d ms\n",
           (int)s.time_since_last_handshake, (unsigned)s.tx_bytes, (unsigned)s.rx_bytes,
           (int)s.estimated_rtt);

    tunnel_free(alice.t);
    tunnel_free(bob.t);
    x25519_key_to_str_free(a_priv);
    x25519_key_to_str_free(b_priv);
    x25519_key_to_str_free(a_pub);
    x25519_key_to_str_free(b_pub);
    x25519_key_to_str_free(psk);
    return 0;
}
