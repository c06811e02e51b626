/* SPDX-License-Identifier: MIT */
/*
 * test_noise_vectors.c - known-answer WireGuard messages (vectors in
 * tests/vectors/wireguard_messages.h, which says how they were made).
 *
 * Three computations must agree byte for byte:
 *   1. the constants checked in to wireguard_messages.h;
 *   2. the protocol code: noise_create_initiation / consume / create_response
 *      / consume_response / begin_session, cookie_add_mac_to_packet,
 *      packet_prepare_create + aead_seal, cookie_message_consume and
 *      cookie_validate_packet;
 *   3. a straight-line re-derivation of whitepaper section 5.4 written here
 *      (libsodium X25519, ChaCha20-Poly1305 and XChaCha20-Poly1305; BLAKE2s
 *      from crypto/blake2s.h; HMAC and the KDF written out below).
 * Any change to the protocol code that changes a byte on the wire fails (2),
 * and (3) keeps the constants from being merely "whatever the code does".
 *
 * `test_noise_vectors --print` prints the live outputs in the header's format.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
#include "crypto/aead.h"
#include "crypto/blake2s.h"
#include "crypto/xaead.h"
#include "include/wirebolt.h"
#include "proto/cookie.h"
#include "proto/messages.h"
#include "proto/noise.h"
#include "proto/packet.h"
#include "proto/tai64n.h"
#include "vectors/wireguard_messages.h"

#define KEY_LEN 32
#define INNER_LEN 64
#define DATA_LEN (MESSAGE_DATA_HEADER_LEN + INNER_LEN + NOISE_AUTHTAG_LEN)   /* 96 */
#define NOW_NS (1000 * NSEC_PER_SEC)     /* monotonic time; never on the wire */

/* The decoded inputs. */
struct fixture {
    uint8_t s_i[KEY_LEN], s_r[KEY_LEN];          /* static private keys */
    uint8_t e_i[KEY_LEN], e_r[KEY_LEN];          /* ephemeral private keys */
    uint8_t psk[KEY_LEN];
    uint8_t secret[COOKIE_SECRET_LEN];
    uint8_t nonce[COOKIE_NONCE_LEN];
    uint8_t inner[INNER_LEN];
    struct wb_endpoint src;
};

/* One handshake and its first transport messages. */
struct handshake_out {
    uint8_t s_i_pub[KEY_LEN], s_r_pub[KEY_LEN], e_i_pub[KEY_LEN], e_r_pub[KEY_LEN];
    uint8_t initiation[MESSAGE_INITIATION_LEN];
    uint8_t response[MESSAGE_RESPONSE_LEN];
    uint8_t i_send[KEY_LEN], i_recv[KEY_LEN];    /* the initiator's keys */
    uint8_t r_send[KEY_LEN], r_recv[KEY_LEN];    /* the responder's keys */
    uint8_t keepalive[MESSAGE_MINIMUM_LENGTH];
    uint8_t data[DATA_LEN];
};

struct cookie_out {
    uint8_t cookie[COOKIE_LEN];
    uint8_t reply[MESSAGE_COOKIE_LEN];
    uint8_t initiation_mac2[MESSAGE_INITIATION_LEN];
};

static void load_fixture(struct fixture *fx)
{
    static const uint8_t source[4] = WGV_SOURCE_IPV4;

    memset(fx, 0, sizeof(*fx));
    check_unhex(fx->s_i, KEY_LEN, WGV_INITIATOR_STATIC_PRIVATE);
    check_unhex(fx->s_r, KEY_LEN, WGV_RESPONDER_STATIC_PRIVATE);
    check_unhex(fx->e_i, KEY_LEN, WGV_INITIATOR_EPHEMERAL_PRIVATE);
    check_unhex(fx->e_r, KEY_LEN, WGV_RESPONDER_EPHEMERAL_PRIVATE);
    check_unhex(fx->psk, KEY_LEN, WGV_PRESHARED_KEY);
    check_unhex(fx->secret, sizeof(fx->secret), WGV_COOKIE_SECRET);
    check_unhex(fx->nonce, sizeof(fx->nonce), WGV_COOKIE_NONCE);
    check_unhex(fx->inner, sizeof(fx->inner), WGV_INNER_IPV4);
    fx->src.family = 4;
    fx->src.port = WGV_SOURCE_PORT;
    memcpy(fx->src.addr, source, sizeof(source));
}

/* Compare `got` with the hex constant `want_hex`, naming the vector on failure. */
static void check_vector(const char *what, const uint8_t *got, size_t len, const char *want_hex)
{
    uint8_t want[MESSAGE_INITIATION_LEN];
    size_t n = check_unhex(want, sizeof(want), want_hex);
    bool ok = n == len && memcmp(got, want, len) == 0;

    check_record(ok, what, __FILE__, __LINE__);
    if (!ok) {
        check_hex("got ", got, len);
        check_hex("want", want, n);
    }
}

/* ============================================ 2. the protocol code (live) */

/* Seal one transport message from the initiator's current keypair. */
static long live_transport(struct noise_keypair *kp, const uint8_t *src, size_t len, uint8_t *dst,
                           size_t cap)
{
    struct aead_op op;
    long n = packet_prepare_create(kp, src, len, DEFAULT_MTU, dst, cap, &op);

    if (n > 0)
        aead_seal(op.dst, op.src, op.len, NULL, 0, op.counter, op.key);
    return n;
}

/* The responder opens a transport message; returns the plaintext length or -errno. */
static long live_open(struct noise_keypair *kp, const uint8_t *msg, size_t len, uint8_t *plain)
{
    struct aead_op op;
    long n = packet_prepare_consume(kp, msg, len, plain, INNER_LEN, &op);
    int ret;

    if (n < 0)
        return n;
    op.result = aead_open(op.dst, op.src, op.len, NULL, 0, op.counter, op.key);
    ret = packet_finish_consume(kp, &op);
    return ret < 0 ? ret : n;
}

/* Both ends of one handshake, driven through the protocol code. */
struct live {
    struct noise_local_identity id_i, id_r;
    struct noise_handshake hs_i, hs_r;
    struct noise_keypairs kps_i, kps_r;
    struct cookie_maker maker_i, maker_r;
    struct cookie_checker checker_i, checker_r;
};

static void live_setup(struct live *l, const struct fixture *fx, bool use_psk)
{
    const uint8_t *psk = use_psk ? fx->psk : NULL;

    memset(l, 0, sizeof(*l));
    CHECK(noise_local_identity_set(&l->id_i, fx->s_i) == 0);
    CHECK(noise_local_identity_set(&l->id_r, fx->s_r) == 0);
    CHECK(noise_handshake_init(&l->hs_i, &l->id_i, l->id_r.public_key, psk) == 0);
    CHECK(noise_handshake_init(&l->hs_r, &l->id_r, l->id_i.public_key, psk) == 0);
    cookie_maker_init(&l->maker_i, l->id_r.public_key);
    cookie_maker_init(&l->maker_r, l->id_i.public_key);
    cookie_checker_init(&l->checker_i, l->id_i.public_key);
    cookie_checker_init(&l->checker_r, l->id_r.public_key);
}

static void live_teardown(struct live *l)
{
    noise_keypairs_clear(&l->kps_i);
    noise_keypairs_clear(&l->kps_r);
    noise_handshake_wipe(&l->hs_i);
    noise_handshake_wipe(&l->hs_r);
    noise_local_identity_wipe(&l->id_i);
    noise_local_identity_wipe(&l->id_r);
}

/* Message 1: created and MACed by the initiator, consumed by the responder. */
static void live_initiation(struct live *l, const struct fixture *fx, struct handshake_out *out)
{
    struct message_handshake_initiation *init = (void *)out->initiation;
    struct noise_initiation_state st;

    memcpy(out->s_i_pub, l->id_i.public_key, KEY_LEN);
    memcpy(out->s_r_pub, l->id_r.public_key, KEY_LEN);
    CHECK(noise_create_initiation(&l->hs_i, init, WGV_INITIATOR_INDEX, WGV_REALTIME_NS, fx->e_i) == 0);
    cookie_add_mac_to_packet(&l->maker_i, out->initiation, MESSAGE_INITIATION_LEN, NOW_NS);
    memcpy(out->e_i_pub, init->unencrypted_ephemeral, KEY_LEN);
    CHECK(cookie_validate_packet(&l->checker_r, out->initiation, MESSAGE_INITIATION_LEN, &fx->src,
                                 false, NOW_NS) == COOKIE_VALID_MAC_BUT_NO_COOKIE);
    CHECK(noise_consume_initiation_static(&l->id_r, init, &st) == 0);
    CHECK_EQ_MEM(st.remote_static, l->id_i.public_key, KEY_LEN);
    CHECK(noise_consume_initiation_finish(&l->hs_r, init, &st, NOW_NS) == 0);
    noise_initiation_state_wipe(&st);
}

/* Message 2 and the keypairs: the initiator's go to current, the responder's to next. */
static bool live_response(struct live *l, const struct fixture *fx, struct handshake_out *out)
{
    struct message_handshake_response *resp = (void *)out->response;
    struct noise_keypair *kp_i, *kp_r;

    CHECK(noise_create_response(&l->hs_r, resp, WGV_RESPONDER_INDEX, fx->e_r) == 0);
    cookie_add_mac_to_packet(&l->maker_r, out->response, MESSAGE_RESPONSE_LEN, NOW_NS);
    memcpy(out->e_r_pub, resp->unencrypted_ephemeral, KEY_LEN);
    CHECK(cookie_validate_packet(&l->checker_i, out->response, MESSAGE_RESPONSE_LEN, &fx->src, false,
                                 NOW_NS) == COOKIE_VALID_MAC_BUT_NO_COOKIE);
    CHECK(noise_consume_response(&l->hs_i, resp) == 0);
    CHECK(noise_begin_session(&l->hs_r, &l->kps_r, NOW_NS) == 0);
    CHECK(noise_begin_session(&l->hs_i, &l->kps_i, NOW_NS) == 0);
    kp_i = l->kps_i.current;
    kp_r = l->kps_r.next;
    CHECK(kp_i && kp_r && !l->kps_r.current);
    if (!kp_i || !kp_r)
        return false;
    CHECK(kp_i->local_index == WGV_INITIATOR_INDEX && kp_i->remote_index == WGV_RESPONDER_INDEX);
    CHECK(kp_r->local_index == WGV_RESPONDER_INDEX && kp_r->remote_index == WGV_INITIATOR_INDEX);
    memcpy(out->i_send, kp_i->sending.key, KEY_LEN);
    memcpy(out->i_recv, kp_i->receiving.key, KEY_LEN);
    memcpy(out->r_send, kp_r->sending.key, KEY_LEN);
    memcpy(out->r_recv, kp_r->receiving.key, KEY_LEN);
    return true;
}

/* Keepalive (counter 0), then the inner packet (counter 1); the responder
 * takes both, once each. */
static void live_transport_messages(struct live *l, const struct fixture *fx, struct handshake_out *out)
{
    struct noise_keypair *kp_i = l->kps_i.current, *kp_r = l->kps_r.next;
    uint8_t plain[INNER_LEN];

    CHECK(live_transport(kp_i, NULL, 0, out->keepalive, sizeof(out->keepalive)) == MESSAGE_MINIMUM_LENGTH);
    CHECK(live_transport(kp_i, fx->inner, INNER_LEN, out->data, sizeof(out->data)) == DATA_LEN);
    CHECK(live_open(kp_r, out->keepalive, sizeof(out->keepalive), plain) == 0);
    CHECK(live_open(kp_r, out->data, sizeof(out->data), plain) == INNER_LEN);
    CHECK_EQ_MEM(plain, fx->inner, INNER_LEN);
    CHECK(live_open(kp_r, out->data, sizeof(out->data), plain) == -EALREADY);
}

static void live_handshake(const struct fixture *fx, bool use_psk, struct handshake_out *out)
{
    struct live l;

    memset(out, 0, sizeof(*out));
    live_setup(&l, fx, use_psk);
    live_initiation(&l, fx, out);
    if (live_response(&l, fx, out))
        live_transport_messages(&l, fx, out);
    live_teardown(&l);
}

/* The cookie for fx->src under fx->secret, keyed BLAKE2s-128 written out. */
static void vector_cookie(const struct fixture *fx, uint8_t cookie[COOKIE_LEN])
{
    uint8_t in[4 + 2];

    memcpy(in, fx->src.addr, 4);
    in[4] = (uint8_t)(fx->src.port >> 8);
    in[5] = (uint8_t)fx->src.port;
    blake2s(cookie, COOKIE_LEN, in, sizeof(in), fx->secret, sizeof(fx->secret));
}

/* The responder's checker, holding the vector's secret. */
static void fixed_checker(struct cookie_checker *c, const struct fixture *fx, const uint8_t s_r_pub[KEY_LEN])
{
    cookie_checker_init(c, s_r_pub);
    memcpy(c->secret, fx->secret, sizeof(c->secret));
    c->secret_birthdate_ns = NOW_NS;
    c->secret_valid = true;
}

/*
 * The cookie reply with the fixed nonce, from the primitives: XChaCha20-
 * Poly1305 (crypto/xaead.h) under HASH("cookie--" || responder public),
 * AAD = the initiation's mac1, receiver = its sender index.
 */
static void live_cookie_reply(const struct fixture *fx, const uint8_t initiation[MESSAGE_INITIATION_LEN],
                              const uint8_t s_r_pub[KEY_LEN], struct cookie_out *out)
{
    const struct message_handshake_initiation *init = (const void *)initiation;
    struct message_handshake_cookie *reply = (void *)out->reply;
    uint8_t key[KEY_LEN], label_key[8 + KEY_LEN];

    memcpy(label_key, LABEL_COOKIE, 8);
    memcpy(label_key + 8, s_r_pub, KEY_LEN);
    blake2s(key, KEY_LEN, label_key, sizeof(label_key), NULL, 0);
    vector_cookie(fx, out->cookie);
    memset(reply, 0, sizeof(*reply));
    out->reply[0] = MESSAGE_HANDSHAKE_COOKIE;        /* type: one byte, then three zero bytes */
    memcpy(&reply->receiver_index, &init->sender_index, sizeof(reply->receiver_index));
    memcpy(reply->nonce, fx->nonce, COOKIE_NONCE_LEN);
    xaead_seal(reply->encrypted_cookie, out->cookie, COOKIE_LEN, init->macs.mac1, COOKIE_LEN,
               reply->nonce, key);
}

/*
 * Tie the reply to the implementation: the initiator's cookie_maker, having
 * sent this initiation, takes the reply (once), puts the cookie into mac2,
 * and the responder's checker with the same secret accepts that mac2 - from
 * that source only.
 */
static void live_cookie(const struct fixture *fx, const uint8_t initiation[MESSAGE_INITIATION_LEN],
                        struct cookie_out *out)
{
    const struct message_handshake_cookie *reply = (const void *)out->reply;
    struct cookie_maker maker;
    struct cookie_checker checker;
    struct wb_endpoint other = fx->src;
    uint8_t s_r_pub[KEY_LEN], *mac2 = out->initiation_mac2;

    crypto_scalarmult_curve25519_base(s_r_pub, fx->s_r);
    live_cookie_reply(fx, initiation, s_r_pub, out);
    cookie_maker_init(&maker, s_r_pub);
    memcpy(mac2, initiation, MESSAGE_INITIATION_LEN);
    cookie_add_mac_to_packet(&maker, mac2, MESSAGE_INITIATION_LEN, NOW_NS);
    CHECK_EQ_MEM(mac2, initiation, MESSAGE_INITIATION_LEN);   /* no cookie yet */
    CHECK(cookie_message_consume(&maker, reply, NOW_NS) == 0);
    CHECK(maker.cookie_valid);
    CHECK_EQ_MEM(maker.cookie, out->cookie, COOKIE_LEN);
    CHECK(cookie_message_consume(&maker, reply, NOW_NS) == -EINVAL);          /* one per mac1 */
    cookie_add_mac_to_packet(&maker, mac2, MESSAGE_INITIATION_LEN, NOW_NS);
    CHECK_EQ_MEM(mac2, initiation, MESSAGE_INITIATION_LEN - COOKIE_LEN);

    fixed_checker(&checker, fx, s_r_pub);
    CHECK(cookie_validate_packet(&checker, mac2, MESSAGE_INITIATION_LEN, &fx->src, true, NOW_NS) ==
          COOKIE_VALID_MAC_WITH_COOKIE);
    other.port++;
    CHECK(cookie_validate_packet(&checker, mac2, MESSAGE_INITIATION_LEN, &other, true, NOW_NS) ==
          COOKIE_VALID_MAC_BUT_NO_COOKIE);
    CHECK(cookie_validate_packet(&checker, initiation, MESSAGE_INITIATION_LEN, &fx->src, true,
                                 NOW_NS) == COOKIE_VALID_MAC_BUT_NO_COOKIE);
    cookie_maker_wipe(&maker);
    cookie_checker_wipe(&checker);
}

/* cookie_message_create draws a random nonce; with the vector's secret it
 * must seal the vector's cookie under the vector's key and mac1. */
static void check_cookie_message_create(const struct fixture *fx,
                                        const uint8_t initiation[MESSAGE_INITIATION_LEN],
                                        const struct cookie_out *want)
{
    const struct message_handshake_initiation *init = (const void *)initiation;
    struct message_handshake_cookie reply, resealed;
    struct cookie_checker checker;
    uint8_t s_r_pub[KEY_LEN], cookie[COOKIE_LEN];

    crypto_scalarmult_curve25519_base(s_r_pub, fx->s_r);
    fixed_checker(&checker, fx, s_r_pub);
    cookie_message_create(&checker, &reply, initiation, MESSAGE_INITIATION_LEN, WGV_INITIATOR_INDEX,
                          &fx->src, NOW_NS);
    CHECK_EQ_MEM(&reply, want->reply, offsetof(struct message_handshake_cookie, nonce));
    CHECK(xaead_open(cookie, reply.encrypted_cookie, sizeof(reply.encrypted_cookie), init->macs.mac1,
                     COOKIE_LEN, reply.nonce, checker.cookie_encryption_key) == 0);
    CHECK_EQ_MEM(cookie, want->cookie, COOKIE_LEN);
    resealed = reply;
    xaead_seal(resealed.encrypted_cookie, want->cookie, COOKIE_LEN, init->macs.mac1, COOKIE_LEN,
               reply.nonce, checker.cookie_encryption_key);
    CHECK_EQ_MEM(&resealed, &reply, sizeof(reply));
    cookie_checker_wipe(&checker);
}

/* A maker refuses a reply before it sent anything, and a tampered one after;
 * neither leaves it with a cookie; the genuine one still works then. */
static void check_cookie_refused(const struct fixture *fx, const uint8_t initiation[MESSAGE_INITIATION_LEN],
                                 const struct cookie_out *want)
{
    struct message_handshake_cookie tampered;
    struct cookie_maker maker;
    uint8_t s_r_pub[KEY_LEN], copy[MESSAGE_INITIATION_LEN];

    crypto_scalarmult_curve25519_base(s_r_pub, fx->s_r);
    cookie_maker_init(&maker, s_r_pub);
    memcpy(&tampered, want->reply, sizeof(tampered));
    CHECK(cookie_message_consume(&maker, &tampered, NOW_NS) == -EINVAL);     /* nothing sent yet */
    memcpy(copy, initiation, sizeof(copy));
    cookie_add_mac_to_packet(&maker, copy, sizeof(copy), NOW_NS);
    tampered.encrypted_cookie[3] ^= 0x40;
    CHECK(cookie_message_consume(&maker, &tampered, NOW_NS) == -EBADMSG);
    CHECK(!maker.cookie_valid);
    CHECK(cookie_message_consume(&maker, (const void *)want->reply, NOW_NS) == 0);
    cookie_maker_wipe(&maker);
}

/* ===================================== 3. straight-line re-derivation
 *
 * Deliberately shares nothing with proto/ but BLAKE2s itself: offsets,
 * lengths, labels and type bytes are spelled out from the whitepaper here
 * instead of taken from proto/messages.h, so a wrong constant there shows. */

/* HASH(a || b) */
static void ind_hash2(uint8_t out[32], const void *a, size_t alen, const void *b, size_t blen)
{
    uint8_t buf[256];

    memcpy(buf, a, alen);
    if (blen)                        /* b may be NULL for the empty input */
        memcpy(buf + alen, b, blen);
    blake2s(out, 32, buf, alen + blen, NULL, 0);
}

/* HMAC-BLAKE2s (RFC 2104, block 64): H((K ^ opad) || H((K ^ ipad) || m)). */
static void ind_hmac(uint8_t out[32], const uint8_t *key, size_t keylen, const uint8_t *msg,
                     size_t msglen)
{
    uint8_t k[64] = { 0 }, pad[64], inner[32];

    if (keylen > 64)
        blake2s(k, 32, key, keylen, NULL, 0);
    else
        memcpy(k, key, keylen);
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x36;
    ind_hash2(inner, pad, 64, msg, msglen);
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x5c;
    ind_hash2(out, pad, 64, inner, 32);
}

/* KDF_n(ck, input): T0 = HMAC(ck, input), T1 = HMAC(T0, 1), Ti = HMAC(T0, Ti-1 || i). */
static void ind_kdf(uint8_t *t1, uint8_t *t2, uint8_t *t3, const uint8_t *ck, size_t cklen,
                    const uint8_t *input, size_t len)
{
    uint8_t t0[32], prev[33], one = 1;

    ind_hmac(t0, ck, cklen, input, len);
    ind_hmac(prev, t0, 32, &one, 1);
    if (t1)
        memcpy(t1, prev, 32);
    prev[32] = 2;
    if (t2)
        ind_hmac(t2, t0, 32, prev, 33);
    if (t3) {
        memcpy(prev, t2, 32);
        prev[32] = 3;
        ind_hmac(t3, t0, 32, prev, 33);
    }
}

/* AEAD(k, 0, plain, ad): ChaCha20-Poly1305 with the 12-byte nonce 0. */
static void ind_aead(uint8_t *dst, const uint8_t key[32], const uint8_t *plain, size_t len,
                     const uint8_t *ad, size_t adlen, uint64_t counter)
{
    uint8_t nonce[12] = { 0 };

    for (int i = 0; i < 8; i++)
        nonce[4 + i] = (uint8_t)(counter >> (8 * i));
    crypto_aead_chacha20poly1305_ietf_encrypt(dst, NULL, plain, len, ad, adlen, NULL, nonce, key);
}

static void ind_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

/* mac1 = keyed-BLAKE2s-128(HASH("mac1----" || receiver public), msg up to mac1) */
static void ind_mac1(uint8_t *msg, size_t len, const uint8_t receiver_pub[32])
{
    uint8_t key[32];

    ind_hash2(key, "mac1----", 8, receiver_pub, 32);
    blake2s(msg + len - 32, 16, msg, len - 32, key, 32);
    memset(msg + len - 16, 0, 16);
}

/* The running symmetric state: chaining key C and hash H. */
struct ind_state {
    uint8_t c[32], h[32];
};

/* Message 1 (5.4.2): Ci, Hi, e, es, s, ss, {t}, mac1. */
static void independent_initiation(struct ind_state *s, const struct fixture *fx, struct handshake_out *out)
{
    static const char construction[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
    static const char identifier[] = "WireGuard v1 zx2c4 Jason@zx2c4.com";
    uint8_t k[32], dh[32], tai[12], *m1 = out->initiation;
    uint64_t tai_secs = 0x400000000000000aULL + WGV_REALTIME_NS / 1000000000ULL;
    uint32_t nanos = (uint32_t)(WGV_REALTIME_NS % 1000000000ULL) & ~((1U << 24) - 1);

    blake2s(s->c, 32, (const uint8_t *)construction, strlen(construction), NULL, 0);
    ind_hash2(s->h, s->c, 32, identifier, strlen(identifier));
    ind_hash2(s->h, s->h, 32, out->s_r_pub, 32);
    m1[0] = 1;
    ind_le32(m1 + 4, WGV_INITIATOR_INDEX);
    memcpy(m1 + 8, out->e_i_pub, 32);
    ind_kdf(s->c, NULL, NULL, s->c, 32, out->e_i_pub, 32);
    ind_hash2(s->h, s->h, 32, out->e_i_pub, 32);
    CHECK(crypto_scalarmult_curve25519(dh, fx->e_i, out->s_r_pub) == 0);
    ind_kdf(s->c, k, NULL, s->c, 32, dh, 32);
    ind_aead(m1 + 40, k, out->s_i_pub, 32, s->h, 32, 0);
    ind_hash2(s->h, s->h, 32, m1 + 40, 48);
    CHECK(crypto_scalarmult_curve25519(dh, fx->s_i, out->s_r_pub) == 0);
    ind_kdf(s->c, k, NULL, s->c, 32, dh, 32);
    for (int i = 0; i < 8; i++)
        tai[i] = (uint8_t)(tai_secs >> (56 - 8 * i));
    for (int i = 0; i < 4; i++)
        tai[8 + i] = (uint8_t)(nanos >> (24 - 8 * i));
    ind_aead(m1 + 88, k, tai, 12, s->h, 32, 0);
    ind_hash2(s->h, s->h, 32, m1 + 88, 28);
    ind_mac1(m1, MESSAGE_INITIATION_LEN, out->s_r_pub);
    sodium_memzero(k, sizeof(k));
    sodium_memzero(dh, sizeof(dh));
}

/* Message 2 (5.4.3): e, ee, se, psk, {}, mac1. */
static void independent_response(struct ind_state *s, const struct fixture *fx, bool use_psk,
                                 struct handshake_out *out)
{
    uint8_t k[32], t[32], dh[32], q[32] = { 0 }, *m2 = out->response;

    if (use_psk)
        memcpy(q, fx->psk, 32);
    m2[0] = 2;
    ind_le32(m2 + 4, WGV_RESPONDER_INDEX);
    ind_le32(m2 + 8, WGV_INITIATOR_INDEX);
    memcpy(m2 + 12, out->e_r_pub, 32);
    ind_kdf(s->c, NULL, NULL, s->c, 32, out->e_r_pub, 32);
    ind_hash2(s->h, s->h, 32, out->e_r_pub, 32);
    CHECK(crypto_scalarmult_curve25519(dh, fx->e_r, out->e_i_pub) == 0);
    ind_kdf(s->c, NULL, NULL, s->c, 32, dh, 32);
    CHECK(crypto_scalarmult_curve25519(dh, fx->e_r, out->s_i_pub) == 0);
    ind_kdf(s->c, NULL, NULL, s->c, 32, dh, 32);
    ind_kdf(s->c, t, k, s->c, 32, q, 32);
    ind_hash2(s->h, s->h, 32, t, 32);
    ind_aead(m2 + 44, k, NULL, 0, s->h, 32, 0);
    ind_hash2(s->h, s->h, 32, m2 + 44, 16);
    ind_mac1(m2, MESSAGE_RESPONSE_LEN, out->s_i_pub);
    sodium_memzero(k, sizeof(k));
    sodium_memzero(t, sizeof(t));
    sodium_memzero(dh, sizeof(dh));
}

/* Keys (5.4.5: T_send_i, T_recv_i = KDF2(C, empty), swapped for the
 * responder) and transport messages (5.4.6): keepalive with counter 0, the
 * packet (64 bytes: already a multiple of 16) with counter 1. */
static void independent_transport(const struct ind_state *s, const struct fixture *fx,
                                  struct handshake_out *out)
{
    ind_kdf(out->i_send, out->i_recv, NULL, s->c, 32, NULL, 0);
    memcpy(out->r_recv, out->i_send, 32);
    memcpy(out->r_send, out->i_recv, 32);
    out->keepalive[0] = 4;
    ind_le32(out->keepalive + 4, WGV_RESPONDER_INDEX);
    ind_aead(out->keepalive + 16, out->i_send, NULL, 0, NULL, 0, 0);
    out->data[0] = 4;
    ind_le32(out->data + 4, WGV_RESPONDER_INDEX);
    out->data[8] = 1;
    ind_aead(out->data + 16, out->i_send, fx->inner, INNER_LEN, NULL, 0, 1);
}

static void independent_handshake(const struct fixture *fx, bool use_psk, struct handshake_out *out)
{
    struct ind_state s;

    memset(out, 0, sizeof(*out));
    crypto_scalarmult_curve25519_base(out->s_i_pub, fx->s_i);
    crypto_scalarmult_curve25519_base(out->s_r_pub, fx->s_r);
    crypto_scalarmult_curve25519_base(out->e_i_pub, fx->e_i);
    crypto_scalarmult_curve25519_base(out->e_r_pub, fx->e_r);
    independent_initiation(&s, fx, out);
    independent_response(&s, fx, use_psk, out);
    independent_transport(&s, fx, out);
    sodium_memzero(&s, sizeof(s));
}

/* The cookie reply and the re-MACed initiation (5.4.7), with libsodium's XChaCha20-Poly1305. */
static void independent_cookie(const struct fixture *fx, const uint8_t initiation[MESSAGE_INITIATION_LEN],
                               struct cookie_out *out)
{
    uint8_t s_r_pub[32], key[32];

    memset(out, 0, sizeof(*out));
    crypto_scalarmult_curve25519_base(s_r_pub, fx->s_r);
    {
        uint8_t in[6] = { fx->src.addr[0], fx->src.addr[1], fx->src.addr[2], fx->src.addr[3],
                          (uint8_t)(WGV_SOURCE_PORT >> 8), (uint8_t)(WGV_SOURCE_PORT & 0xff) };

        blake2s(out->cookie, 16, in, sizeof(in), fx->secret, 32);
    }
    ind_hash2(key, "cookie--", 8, s_r_pub, 32);
    out->reply[0] = 3;
    memcpy(out->reply + 4, initiation + 4, 4);
    memcpy(out->reply + 8, fx->nonce, 24);
    crypto_aead_xchacha20poly1305_ietf_encrypt(out->reply + 32, NULL, out->cookie, 16,
                                               initiation + 116, 16, NULL, fx->nonce, key);
    memcpy(out->initiation_mac2, initiation, MESSAGE_INITIATION_LEN);
    blake2s(out->initiation_mac2 + 132, 16, out->initiation_mac2, 132, out->cookie, 16);
}

/* ========================================================== the checks */

static void test_constants(void)
{
    static const char construction[] = NOISE_CONSTRUCTION;
    static const char identifier[] = NOISE_IDENTIFIER;
    uint8_t c0[32], h0[32], want[32], t1[32], t2[32];

    blake2s(c0, 32, (const uint8_t *)construction, strlen(construction), NULL, 0);
    ind_hash2(h0, c0, 32, identifier, strlen(identifier));
    CHECK_EQ_MEM(c0, noise_handshake_init_chaining_key, 32);
    CHECK_EQ_MEM(h0, noise_handshake_init_hash, 32);
    /* The hex of docs/reference.md (from the Linux module and wireguard-go). */
    check_unhex(want, 32, "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36");
    CHECK_EQ_MEM(c0, want, 32);
    check_unhex(want, 32, "2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3");
    CHECK_EQ_MEM(h0, want, 32);

    /* Our HMAC/KDF against wireguard-go's kdf_test.go (first bytes as in reference.md). */
    ind_kdf(t1, t2, NULL, (const uint8_t *)"test-key", 8, (const uint8_t *)"test-input", 10);
    check_unhex(want, 4, "6f0e5ad3");
    CHECK_EQ_MEM(t1, want, 4);
    check_unhex(want, 4, "df1194df");
    CHECK_EQ_MEM(t2, want, 4);
}

static void test_tai64n(void)
{
    uint8_t stamp[NOISE_TIMESTAMP_LEN];

    tai64n_from_realtime(stamp, WGV_REALTIME_NS);
    check_vector("tai64n", stamp, sizeof(stamp), WGV_TAI64N);
}

static void compare_handshake(const char *who, const struct handshake_out *o, bool use_psk)
{
    char what[96];

#define VEC(field, name)                                                   \
    do {                                                                   \
        snprintf(what, sizeof(what), "%s %s", who, #name);                 \
        check_vector(what, o->field, sizeof(o->field), name);              \
    } while (0)
    VEC(s_i_pub, WGV_INITIATOR_STATIC_PUBLIC);
    VEC(s_r_pub, WGV_RESPONDER_STATIC_PUBLIC);
    VEC(e_i_pub, WGV_INITIATOR_EPHEMERAL_PUBLIC);
    VEC(e_r_pub, WGV_RESPONDER_EPHEMERAL_PUBLIC);
    VEC(initiation, WGV_INITIATION);
    if (use_psk) {
        VEC(response, WGV_RESPONSE_PSK);
        VEC(i_send, WGV_KEY_INITIATOR_SEND_PSK);
        VEC(i_recv, WGV_KEY_INITIATOR_RECV_PSK);
        VEC(r_recv, WGV_KEY_INITIATOR_SEND_PSK);
        VEC(r_send, WGV_KEY_INITIATOR_RECV_PSK);
        VEC(keepalive, WGV_KEEPALIVE_PSK);
        VEC(data, WGV_DATA_PSK);
    } else {
        VEC(response, WGV_RESPONSE_NO_PSK);
        VEC(i_send, WGV_KEY_INITIATOR_SEND_NO_PSK);
        VEC(i_recv, WGV_KEY_INITIATOR_RECV_NO_PSK);
        VEC(r_recv, WGV_KEY_INITIATOR_SEND_NO_PSK);
        VEC(r_send, WGV_KEY_INITIATOR_RECV_NO_PSK);
        VEC(keepalive, WGV_KEEPALIVE_NO_PSK);
        VEC(data, WGV_DATA_NO_PSK);
    }
#undef VEC
}

static void test_handshake(const struct fixture *fx, bool use_psk)
{
    struct handshake_out live, ind;
    static const uint8_t zero[COOKIE_LEN];

    live_handshake(fx, use_psk, &live);
    independent_handshake(fx, use_psk, &ind);
    compare_handshake(use_psk ? "live/psk" : "live/no-psk", &live, use_psk);
    compare_handshake(use_psk ? "independent/psk" : "independent/no-psk", &ind, use_psk);
    CHECK_EQ_MEM(live.initiation + 132, zero, COOKIE_LEN);   /* no cookie: mac2 zero */
    CHECK_EQ_MEM(live.response + 76, zero, COOKIE_LEN);
    CHECK(memcmp(live.i_send, live.i_recv, KEY_LEN) != 0);
    sodium_memzero(&live, sizeof(live));
    sodium_memzero(&ind, sizeof(ind));
}

static void test_psk_changes_only_message_2(const struct fixture *fx)
{
    struct handshake_out with, without;

    live_handshake(fx, true, &with);
    live_handshake(fx, false, &without);
    CHECK_EQ_MEM(with.initiation, without.initiation, MESSAGE_INITIATION_LEN);
    CHECK(memcmp(with.response, without.response, MESSAGE_RESPONSE_LEN) != 0);
    CHECK(memcmp(with.i_send, without.i_send, KEY_LEN) != 0);
}

static void test_cookie(const struct fixture *fx)
{
    uint8_t initiation[MESSAGE_INITIATION_LEN];
    struct cookie_out live, ind;

    check_unhex(initiation, sizeof(initiation), WGV_INITIATION);
    live_cookie(fx, initiation, &live);
    independent_cookie(fx, initiation, &ind);
    check_vector("live cookie", live.cookie, COOKIE_LEN, WGV_COOKIE);
    check_vector("live cookie reply", live.reply, MESSAGE_COOKIE_LEN, WGV_COOKIE_REPLY);
    check_vector("live initiation+mac2", live.initiation_mac2, MESSAGE_INITIATION_LEN,
                 WGV_INITIATION_WITH_MAC2);
    check_vector("independent cookie", ind.cookie, COOKIE_LEN, WGV_COOKIE);
    check_vector("independent cookie reply", ind.reply, MESSAGE_COOKIE_LEN, WGV_COOKIE_REPLY);
    check_vector("independent initiation+mac2", ind.initiation_mac2, MESSAGE_INITIATION_LEN,
                 WGV_INITIATION_WITH_MAC2);
    check_cookie_message_create(fx, initiation, &live);
    check_cookie_refused(fx, initiation, &live);
}

/* ============================================================ --print */

static void print_hex(const char *name, const uint8_t *p, size_t n)
{
    printf("#define %s", name);
    for (size_t i = 0; i < n; i++) {
        if (i % 32 == 0)
            printf(n > 32 ? " \\\n    \"" : " \"");
        printf("%02x", p[i]);
        if (i % 32 == 31 || i == n - 1)
            printf("\"");
    }
    printf("\n");
}

static int print_vectors(const struct fixture *fx)
{
    struct handshake_out psk, nopsk;
    struct cookie_out ck;
    uint8_t stamp[NOISE_TIMESTAMP_LEN];

    live_handshake(fx, true, &psk);
    live_handshake(fx, false, &nopsk);
    live_cookie(fx, psk.initiation, &ck);
    tai64n_from_realtime(stamp, WGV_REALTIME_NS);
    print_hex("WGV_TAI64N", stamp, sizeof(stamp));
    print_hex("WGV_INITIATOR_STATIC_PUBLIC", psk.s_i_pub, KEY_LEN);
    print_hex("WGV_RESPONDER_STATIC_PUBLIC", psk.s_r_pub, KEY_LEN);
    print_hex("WGV_INITIATOR_EPHEMERAL_PUBLIC", psk.e_i_pub, KEY_LEN);
    print_hex("WGV_RESPONDER_EPHEMERAL_PUBLIC", psk.e_r_pub, KEY_LEN);
    print_hex("WGV_INITIATION", psk.initiation, MESSAGE_INITIATION_LEN);
    print_hex("WGV_RESPONSE_PSK", psk.response, MESSAGE_RESPONSE_LEN);
    print_hex("WGV_KEY_INITIATOR_SEND_PSK", psk.i_send, KEY_LEN);
    print_hex("WGV_KEY_INITIATOR_RECV_PSK", psk.i_recv, KEY_LEN);
    print_hex("WGV_KEEPALIVE_PSK", psk.keepalive, sizeof(psk.keepalive));
    print_hex("WGV_DATA_PSK", psk.data, sizeof(psk.data));
    print_hex("WGV_RESPONSE_NO_PSK", nopsk.response, MESSAGE_RESPONSE_LEN);
    print_hex("WGV_KEY_INITIATOR_SEND_NO_PSK", nopsk.i_send, KEY_LEN);
    print_hex("WGV_KEY_INITIATOR_RECV_NO_PSK", nopsk.i_recv, KEY_LEN);
    print_hex("WGV_KEEPALIVE_NO_PSK", nopsk.keepalive, sizeof(nopsk.keepalive));
    print_hex("WGV_DATA_NO_PSK", nopsk.data, sizeof(nopsk.data));
    print_hex("WGV_COOKIE", ck.cookie, COOKIE_LEN);
    print_hex("WGV_COOKIE_REPLY", ck.reply, MESSAGE_COOKIE_LEN);
    print_hex("WGV_INITIATION_WITH_MAC2", ck.initiation_mac2, MESSAGE_INITIATION_LEN);
    return 0;
}

int main(int argc, char **argv)
{
    struct fixture fx;

    int ret = wb_init();

    /* -ENOENT/-ENOTSUP: WIREBOLT_CRYPTO_IMPL named something unusable; the
     * portable AEAD runs instead, which is fine for vectors. */
    if (ret < 0 && ret != -ENOENT && ret != -ENOTSUP)
        return 1;
    load_fixture(&fx);
    if (argc > 1 && strcmp(argv[1], "--print") == 0)
        return print_vectors(&fx);
    test_constants();
    test_tai64n();
    test_handshake(&fx, true);
    test_handshake(&fx, false);
    test_psk_changes_only_message_2(&fx);
    test_cookie(&fx);
    return check_summary();
}
