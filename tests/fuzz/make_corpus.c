/* SPDX-License-Identifier: MIT */
/*
 * make_corpus.c - writes seed inputs for the fuzz harnesses: valid (or
 * nearly valid) messages for exactly the fixed states the harnesses use
 * (fuzz_common.h), so fuzzing starts deep inside the protocol instead of
 * at the length checks.
 *
 * Usage: make_corpus DIR - creates DIR/<harness>/<seed> (harness names
 * without the fuzz_ prefix). tests/fuzz/corpus/ holds its output, checked
 * in; CTest also regenerates it into the build tree before the fuzz smoke
 * tests, so seeds follow protocol changes.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "crypto/aead.h"
#include "crypto/blake2s.h"
#include "fuzz_common.h"
#include "proto/packet.h"
#include "vectors/wireguard_messages.h"

#define NO_CTRL (-1)
#define INNER_LEN 64

static const char *out_dir;
static int failures;

static void make_dir(const char *path)
{
    if (mkdir(path, 0755) < 0 && errno != EEXIST) {
        perror(path);
        failures++;
    }
}

/* DIR/harness/name = [ctrl] bytes */
static void seed(const char *harness, const char *name, int ctrl, const uint8_t *msg, size_t len)
{
    char path[1024];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", out_dir, harness);
    make_dir(path);
    snprintf(path, sizeof(path), "%s/%s/%s", out_dir, harness, name);
    f = fopen(path, "wb");
    if (!f || (ctrl != NO_CTRL && fputc(ctrl, f) == EOF) || (len && fwrite(msg, len, 1, f) != 1) ||
        fclose(f) != 0) {
        perror(path);
        failures++;
    }
}

static void seed_hex(const char *harness, const char *name, int ctrl, const char *hex)
{
    uint8_t buf[MESSAGE_INITIATION_LEN];
    size_t n = check_unhex(buf, sizeof(buf), hex);

    seed(harness, name, ctrl, buf, n);
}

static size_t decap(struct wb_tunnel *t, const struct wb_endpoint *from, const uint8_t *src,
                    size_t len, uint8_t *dst)
{
    struct wb_result r = wb_tunnel_decapsulate(t, from, src, len, dst, FUZZ_BUF_LEN);

    return r.op == WB_WRITE_TO_NETWORK ? r.size : 0;
}

/* Control bits of fuzz_decapsulate.c */
enum { TO_B = 1, LOAD = 2, DRAIN = 4, BATCH4 = 0x08 | 0x30, SMALL_DST = 0x80 };

static void corpus_decapsulate(const uint8_t inner[INNER_LEN])
{
    static const char h[] = "decapsulate";
    static uint8_t buf[FUZZ_BUF_LEN], cookie[FUZZ_BUF_LEN];
    struct fuzz_pair p;
    struct wb_result r;
    size_t n;

    fuzz_pair_establish(&p);
    r = wb_tunnel_encapsulate(p.a, inner, INNER_LEN, buf, sizeof(buf));
    seed(h, "data_a_to_b", TO_B, buf, r.size);
    seed(h, "data_a_to_b_batch", TO_B | BATCH4, buf, r.size);
    seed(h, "data_a_to_b_small_dst", TO_B | SMALL_DST | DRAIN, buf, r.size);
    r = wb_tunnel_encapsulate(p.b, inner, INNER_LEN, buf, sizeof(buf));
    seed(h, "data_b_to_a", 0, buf, r.size);
    seed(h, "keepalive_replayed", TO_B, p.keepalive, sizeof(p.keepalive));
    seed(h, "initiation_replayed", TO_B, p.init, sizeof(p.init));
    seed(h, "response_unexpected", 0, p.resp, sizeof(p.resp));
    seed(h, "drain", DRAIN, NULL, 0);

    /* b's cookie secret is the first draw of an input's RNG stream, as in the harness. */
    fuzz_rng_reset(FUZZ_SEED_INPUT);
    wb_tunnel_set_under_load(p.b, true);
    n = decap(p.b, &fuzz_from_a, p.init, sizeof(p.init), cookie);
    wb_tunnel_set_under_load(p.b, false);
    seed(h, "cookie_to_a", 0, cookie, n);
    decap(p.a, &fuzz_from_b, cookie, n, buf);               /* a now holds the cookie */
    r = wb_tunnel_force_handshake(p.a, buf, sizeof(buf));   /* newer, and with mac2 */
    seed(h, "initiation_mac2_under_load", TO_B | LOAD | DRAIN, buf, r.size);
    seed(h, "initiation_new", TO_B | DRAIN, buf, r.size);
    memset(buf + r.size - COOKIE_LEN, 0, COOKIE_LEN);
    seed(h, "initiation_no_mac2_under_load", TO_B | LOAD, buf, r.size);
    seed(h, "garbage", TO_B, (const uint8_t *)"\x04\0\0\0wirebolt", 12);
    fuzz_pair_destroy(&p);
}

static void corpus_noise(const struct fuzz_noise *fx)
{
    struct noise_handshake hs = fx->hs_i_created;
    struct message_handshake_initiation later;
    struct cookie_maker maker = fx->maker_i_sent;
    uint8_t eph[32];

    seed("consume_initiation", "initiation", NO_CTRL, fx->init, sizeof(fx->init));
    seed_hex("consume_initiation", "initiation_mac2", NO_CTRL, WGV_INITIATION_WITH_MAC2);
    check_unhex(eph, sizeof(eph), WGV_INITIATOR_EPHEMERAL_PRIVATE);
    noise_create_initiation(&hs, &later, 1, WGV_REALTIME_NS + NSEC_PER_SEC, eph);
    cookie_add_mac_to_packet(&maker, (uint8_t *)&later, sizeof(later), FUZZ_MONO_START);
    seed("consume_initiation", "initiation_later", NO_CTRL, (const uint8_t *)&later, sizeof(later));

    seed("consume_response", "response", NO_CTRL, fx->resp, sizeof(fx->resp));
    seed_hex("consume_response", "response_other_psk", NO_CTRL, WGV_RESPONSE_NO_PSK);
    seed_hex("consume_cookie", "cookie_reply", NO_CTRL, WGV_COOKIE_REPLY);
    seed_hex("consume_cookie", "cookie_reply_short", NO_CTRL, "03000000a1b2c3d4");
    noise_handshake_wipe(&hs);
}

/* Data messages under the vector session (the responder's keypair opens them). */
static void corpus_data(const struct fuzz_noise *fx, const uint8_t inner[INNER_LEN])
{
    static const uint8_t ipv6[48] = { 0x60, 0, 0, 0, 0, 8, 17, 64 };   /* 8-byte payload */
    struct noise_keypair kp = fx->kp_i;
    struct aead_op op;
    uint8_t buf[256];
    long n;

    seed_hex("consume_data", "keepalive", NO_CTRL, WGV_KEEPALIVE_PSK);
    seed_hex("consume_data", "data_ipv4", NO_CTRL, WGV_DATA_PSK);
    kp.sending_counter = 2;
    n = packet_prepare_create(&kp, ipv6, sizeof(ipv6), DEFAULT_MTU, buf, sizeof(buf), &op);
    aead_seal(op.dst, op.src, op.len, NULL, 0, op.counter, op.key);
    seed("consume_data", "data_ipv6", NO_CTRL, buf, (size_t)n);
    kp.sending_counter = 9000;                                  /* moves the window on */
    n = packet_prepare_create(&kp, inner, 20, DEFAULT_MTU, buf, sizeof(buf), &op);
    aead_seal(op.dst, op.src, op.len, NULL, 0, op.counter, op.key);
    seed("consume_data", "data_truncated_ipv4", NO_CTRL, buf, (size_t)n);
}

/* FFI tunnels: a fresh responder (bit 0 clear) and an initiator in flight. */
static void corpus_boringtun(const struct fuzz_noise *fx)
{
    static const char h[] = "boringtun_read";
    struct message_handshake_response resp;
    struct message_handshake_cookie cookie;
    uint8_t key[32], label[sizeof(LABEL_MAC1) - 1 + 32];
    uint32_t idx = FUZZ_FFI_INDEX << 8;

    seed(h, "initiation_to_responder", 0, fx->init, sizeof(fx->init));
    seed_hex(h, "data_unknown_index", 0, WGV_DATA_PSK);
    seed(h, "tick", 2, NULL, 0);

    /* The vector response, re-addressed to the initiator's handshake, mac1 redone. */
    memcpy(&resp, fx->resp, sizeof(resp));
    for (int i = 0; i < 4; i++)
        ((uint8_t *)&resp.receiver_index)[i] = (uint8_t)(idx >> (8 * i));
    memcpy(label, LABEL_MAC1, sizeof(LABEL_MAC1) - 1);
    memcpy(label + sizeof(LABEL_MAC1) - 1, fx->id_i.public_key, 32);
    blake2s(key, sizeof(key), label, sizeof(label), NULL, 0);
    blake2s(resp.macs.mac1, COOKIE_LEN, (const uint8_t *)&resp, offsetof(struct message_handshake_response, macs),
            key, sizeof(key));
    seed(h, "response_to_initiator", 1, (const uint8_t *)&resp, sizeof(resp));
    check_unhex((uint8_t *)&cookie, sizeof(cookie), WGV_COOKIE_REPLY);
    cookie.receiver_index = resp.receiver_index;
    seed(h, "cookie_to_initiator", 1, (const uint8_t *)&cookie, sizeof(cookie));
}

int main(int argc, char **argv)
{
    static struct fuzz_noise fx;
    uint8_t inner[INNER_LEN];

    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    out_dir = argv[1];
    make_dir(out_dir);
    fuzz_rng_install();
    check_unhex(inner, sizeof(inner), WGV_INNER_IPV4);
    fuzz_noise_setup(&fx);
    corpus_decapsulate(inner);
    corpus_noise(&fx);
    corpus_data(&fx, inner);
    corpus_boringtun(&fx);
    return failures ? 1 : 0;
}
