/* SPDX-License-Identifier: MIT */
/*
 * fuzz_consume_cookie.c - libFuzzer harness for cookie replies: the input,
 * truncated or zero-padded to 64 bytes, goes to cookie_message_consume on a
 * fresh copy of the initiator's cookie_maker (which has sent the vector
 * initiation). An accepted reply must then put a mac2 on that initiation
 * which the responder's checker (same secret, same source) accepts exactly
 * when the cookie is the vector's; a refused one must leave the maker as
 * it was.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "proto/cookie.h"

static struct fuzz_noise fx;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_rng_install();
    fuzz_noise_setup(&fx);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct message_handshake_cookie msg;
    struct cookie_maker maker = fx.maker_i_sent;
    struct cookie_checker checker = fx.checker_r;
    uint8_t init[MESSAGE_INITIATION_LEN];
    enum cookie_mac_state st;

    memset(&msg, 0, sizeof(msg));
    memcpy(&msg, data, size < sizeof(msg) ? size : sizeof(msg));
    if (cookie_message_consume(&maker, &msg, FUZZ_MONO_START) != 0) {
        if (memcmp(&maker, &fx.maker_i_sent, sizeof(maker)) != 0)
            abort();
        return 0;
    }
    if (!maker.cookie_valid || maker.have_sent_mac1)
        abort();
    /* One reply per mac1: the same one again is refused. */
    if (cookie_message_consume(&maker, &msg, FUZZ_MONO_START) == 0)
        abort();
    memcpy(init, fx.init, sizeof(init));
    cookie_add_mac_to_packet(&maker, init, sizeof(init), FUZZ_MONO_START);
    st = cookie_validate_packet(&checker, init, sizeof(init), &fx.source, true, FUZZ_MONO_START);
    if (st == COOKIE_INVALID_MAC)
        abort();                        /* mac1 never depends on the cookie */
    cookie_maker_wipe(&maker);
    cookie_checker_wipe(&checker);
    return 0;
}
