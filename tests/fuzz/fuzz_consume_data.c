/* SPDX-License-Identifier: MIT */
/*
 * fuzz_consume_data.c - libFuzzer harness for transport data on the
 * receiving side: packet_prepare_consume, the AEAD open and
 * packet_finish_consume on a fresh copy of the responder's keypair from the
 * vector handshake, then packet_inner_check on what decrypted; plus
 * packet_inner_check on the raw input. An accepted message must be refused
 * as a replay the second time.
 */
#include <stdlib.h>
#include <string.h>

#include "crypto/aead.h"
#include "fuzz_common.h"
#include "proto/packet.h"

static struct fuzz_noise fx;
static struct noise_keypair kp;
static uint8_t plain[FUZZ_BUF_LEN];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_rng_install();
    fuzz_noise_setup(&fx);
    return 0;
}

/* Returns the plaintext length, or -errno. */
static long consume(const uint8_t *msg, size_t len)
{
    struct aead_op op;
    long n = packet_prepare_consume(&kp, msg, len, plain, sizeof(plain), &op);
    int ret;

    if (n < 0)
        return n;
    if ((size_t)n != len - MESSAGE_MINIMUM_LENGTH || op.len != len - MESSAGE_DATA_HEADER_LEN)
        abort();
    op.result = aead_open(op.dst, op.src, op.len, NULL, 0, op.counter, op.key);
    ret = packet_finish_consume(&kp, &op);
    return ret < 0 ? ret : n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t inner_len = 0;
    long n;
    int family;

    family = packet_inner_check(data, size, &inner_len);
    if (family && inner_len > size)
        abort();

    kp = fx.kp_r;
    n = consume(data, size);
    if (n >= 0) {
        family = packet_inner_check(plain, (size_t)n, &inner_len);
        if (family && inner_len > (size_t)n)
            abort();
        if (consume(data, size) >= 0)
            abort();                    /* replayed and accepted */
    }
    return 0;
}
