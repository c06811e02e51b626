/* SPDX-License-Identifier: MIT */
/*
 * fuzz_boringtun_read.c - libFuzzer harness for wireguard_read() of the
 * BoringTun-compatible FFI (include/wireguard_ffi.h), with the drain loop a
 * BoringTun caller runs after WRITE_TO_NETWORK.
 *
 * Input: one control byte, then the datagram.
 *   bit 0  feed the initiator tunnel (its handshake in flight, index prefix
 *          FUZZ_FFI_INDEX) instead of the fresh responder tunnel
 *   bit 1  call wireguard_tick afterwards
 *   bit 2  a small dst (the 148-byte minimum)
 * Keys are the vector keys, so the vector initiation is accepted by the
 * responder. A tunnel whose byte counters moved is rebuilt.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "include/wireguard_ffi.h"

#define MAX_DRAIN 16

static struct wireguard_tunnel *responder, *initiator;
static uint8_t dst[FUZZ_BUF_LEN];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct wireguard_tunnel *make(bool as_initiator)
{
    char priv[WB_KEY_B64_LEN + 1], pub[WB_KEY_B64_LEN + 1], psk[WB_KEY_B64_LEN + 1];
    struct fuzz_keys k;
    struct wireguard_tunnel *t;

    fuzz_rng_reset(FUZZ_SEED_SETUP);
    fuzz_keys_load(&k);
    wb_key_to_base64(priv, as_initiator ? k.priv_a : k.priv_b);
    wb_key_to_base64(pub, as_initiator ? k.pub_b : k.pub_a);
    wb_key_to_base64(psk, k.psk);
    t = new_tunnel(priv, pub, psk, 0, FUZZ_FFI_INDEX);
    if (!t)
        fuzz_die("new_tunnel");
    if (as_initiator && wireguard_force_handshake(t, dst, sizeof(dst)).op != WRITE_TO_NETWORK)
        fuzz_die("no initiation");
    return t;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_rng_install();
    responder = make(false);
    initiator = make(true);
    return 0;
}

static void check(struct wireguard_result r, uint32_t cap)
{
    if (r.op != WIREGUARD_DONE && r.op != WRITE_TO_NETWORK && r.op != WIREGUARD_ERROR &&
        r.op != WRITE_TO_TUNNEL_IPV4 && r.op != WRITE_TO_TUNNEL_IPV6)
        abort();
    if (r.op != WIREGUARD_DONE && r.op != WIREGUARD_ERROR && r.size > cap)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wireguard_tunnel **t;
    struct wireguard_result r;
    struct stats before, after;
    uint32_t cap;
    int i = 0;

    if (size < 1 || size - 1 > UINT32_MAX)
        return 0;
    t = data[0] & 1 ? &initiator : &responder;
    cap = data[0] & 4 ? MESSAGE_INITIATION_LEN : (uint32_t)sizeof(dst);
    before = wireguard_stats(*t);
    fuzz_rng_reset(FUZZ_SEED_INPUT);

    r = wireguard_read(*t, data + 1, (uint32_t)(size - 1), dst, cap);
    check(r, cap);
    while (r.op == WRITE_TO_NETWORK && i++ < MAX_DRAIN) {
        r = wireguard_read(*t, NULL, 0, dst, cap);
        check(r, cap);
    }
    if (data[0] & 2) {
        r = wireguard_tick(*t, dst, cap);
        check(r, cap);
    }

    after = wireguard_stats(*t);
    if (after.tx_bytes != before.tx_bytes || after.rx_bytes != before.rx_bytes) {
        tunnel_free(*t);
        *t = make(t == &initiator);
    }
    return 0;
}
