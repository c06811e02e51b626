/* SPDX-License-Identifier: MIT */
/*
 * fuzz_consume_response.c - libFuzzer harness for the initiator's side of
 * message 2: cookie_validate_packet on the raw input and on the 92-byte
 * message made from it, then noise_consume_response against a fresh copy
 * of the fixed initiator handshake (initiation sent). A refused response
 * must leave the handshake exactly as it was; an accepted one must give
 * exactly the fixture's session.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/aead.h"
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

/* A response that authenticates carries the genuine ephemeral and the
 * fixture's psk (only the unauthenticated sender index may differ), so the
 * session must be the fixture's, and must still seal what the responder opens. */
static void use_session(struct noise_handshake *hs, const struct message_handshake_response *msg)
{
    struct noise_keypairs kps = { 0 };
    uint8_t sealed[16 + 16], plain[16] = { 1 }, back[16];

    if (noise_begin_session(hs, &kps, FUZZ_MONO_START) != 0 || !kps.current)
        abort();
    if (memcmp(kps.current->sending.key, fx.kp_i.sending.key, NOISE_SYMMETRIC_KEY_LEN) != 0 ||
        memcmp(kps.current->receiving.key, fx.kp_i.receiving.key, NOISE_SYMMETRIC_KEY_LEN) != 0 ||
        memcmp(msg->unencrypted_ephemeral, fx.resp + offsetof(struct message_handshake_response,
                                                              unencrypted_ephemeral),
               NOISE_PUBLIC_KEY_LEN) != 0)
        abort();
    aead_seal(sealed, plain, sizeof(plain), NULL, 0, 0, kps.current->sending.key);
    if (aead_open(back, sealed, sizeof(sealed), NULL, 0, 0, fx.kp_r.receiving.key) != 0 ||
        memcmp(back, plain, sizeof(plain)) != 0)
        abort();
    noise_keypairs_clear(&kps);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct message_handshake_response msg;
    struct cookie_checker checker = fx.checker_i;
    struct noise_handshake hs = fx.hs_i_created;

    memset(&msg, 0, sizeof(msg));
    memcpy(&msg, data, size < sizeof(msg) ? size : sizeof(msg));
    cookie_validate_packet(&checker, data, size, &fx.source, size & 1, FUZZ_MONO_START);
    cookie_validate_packet(&checker, (const uint8_t *)&msg, sizeof(msg), &fx.source, true,
                           FUZZ_MONO_START);

    if (noise_consume_response(&hs, &msg) == 0) {
        if (hs.state != HANDSHAKE_CONSUMED_RESPONSE)
            abort();
        use_session(&hs, &msg);
    } else if (memcmp(&hs, &fx.hs_i_created, sizeof(hs)) != 0) {
        abort();                        /* a forged response disturbed the handshake */
    }
    noise_handshake_wipe(&hs);
    cookie_checker_wipe(&checker);
    return 0;
}
