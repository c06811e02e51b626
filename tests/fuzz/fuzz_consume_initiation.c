/* SPDX-License-Identifier: MIT */
/*
 * fuzz_consume_initiation.c - libFuzzer harness for the responder's side of
 * message 1: cookie_validate_packet on the raw input (any length) and on
 * the 148-byte message made from it (input truncated or zero-padded), then
 * noise_consume_initiation_static / _finish against a fresh copy of the
 * fixed responder handshake and, when that succeeds (a seed, or a seed
 * with a new sender index), the response and the session as well.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "proto/noise.h"

static struct fuzz_noise fx;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_rng_install();
    fuzz_noise_setup(&fx);
    return 0;
}

static void respond(struct noise_handshake *hs)
{
    struct message_handshake_response resp;
    struct noise_keypairs kps = { 0 };
    static const uint8_t eph[NOISE_PUBLIC_KEY_LEN] = { 0x42 };

    if (noise_create_response(hs, &resp, 7, eph) != 0)
        abort();                        /* a consumed initiation must be answerable */
    if (noise_begin_session(hs, &kps, FUZZ_MONO_START) != 0 || !kps.next)
        abort();
    noise_keypairs_clear(&kps);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct message_handshake_initiation msg;
    struct cookie_checker checker = fx.checker_r;
    struct noise_handshake hs = fx.hs_r_bound;
    struct noise_initiation_state st;
    enum cookie_mac_state mac;
    int ret;

    memset(&msg, 0, sizeof(msg));
    memcpy(&msg, data, size < sizeof(msg) ? size : sizeof(msg));
    cookie_validate_packet(&checker, data, size, &fx.source, size & 1, FUZZ_MONO_START);
    mac = cookie_validate_packet(&checker, (const uint8_t *)&msg, sizeof(msg), &fx.source, true,
                                 FUZZ_MONO_START);
    if (mac > COOKIE_VALID_MAC_WITH_COOKIE)
        abort();

    ret = noise_consume_initiation_static(&fx.id_r, &msg, &st);
    if (ret == 0) {
        ret = noise_consume_initiation_finish(&hs, &msg, &st, FUZZ_MONO_START);
        if (ret == 0) {
            if (hs.state != HANDSHAKE_CONSUMED_INITIATION)
                abort();
            respond(&hs);
        }
    }
    noise_initiation_state_wipe(&st);
    noise_handshake_wipe(&hs);
    cookie_checker_wipe(&checker);
    return 0;
}
