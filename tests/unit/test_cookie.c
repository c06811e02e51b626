/* SPDX-License-Identifier: MIT */
/*
 * test_cookie.c - mac1/mac2 and cookie replies: maker/checker round trips
 * for initiation- and response-sized messages, IPv4/IPv6/no source, every
 * rejection path, the two clocks (cookie 115 s, secret 120 s), short
 * inputs, and mac1/mac2/reply checked against independent computations
 * (BLAKE2s from crypto/, XChaCha20-Poly1305 straight from libsodium).
 */
#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>

#include "check.h"
#include "crypto/blake2s.h"
#include "proto/cookie.h"

#define SEC NSEC_PER_SEC
#define MACS_LEN ((size_t)sizeof(struct message_macs))

static uint8_t peer_public[NOISE_PUBLIC_KEY_LEN];
static uint8_t other_public[NOISE_PUBLIC_KEY_LEN];

static struct wb_endpoint v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
    struct wb_endpoint e = { .family = 4, .port = port };

    e.addr[0] = a;
    e.addr[1] = b;
    e.addr[2] = c;
    e.addr[3] = d;
    return e;
}

static struct wb_endpoint v6(uint8_t last, uint16_t port)
{
    struct wb_endpoint e = { .family = 6, .port = port };
    static const uint8_t prefix[4] = { 0x20, 0x01, 0x0d, 0xb8 };   /* 2001:db8::/32 */

    memcpy(e.addr, prefix, sizeof(prefix));
    e.addr[15] = last;
    return e;
}

/* key = BLAKE2s-256(label || public), computed here independently. */
static void derive_key(uint8_t key[32], const char *label, const uint8_t pub[32])
{
    uint8_t in[8 + 32];

    memcpy(in, label, 8);
    memcpy(in + 8, pub, 32);
    blake2s(key, 32, in, sizeof(in), NULL, 0);
}

static void expected_mac1(uint8_t out[16], const uint8_t *msg, size_t len, const uint8_t pub[32])
{
    uint8_t key[32];

    derive_key(key, LABEL_MAC1, pub);
    blake2s(out, 16, msg, len - MACS_LEN, key, 32);
}

/* Decrypt a reply with libsodium directly: key from the public key, AAD = mac1. */
static int open_reply(uint8_t cookie[16], const struct message_handshake_cookie *r,
                      const uint8_t mac1[16], const uint8_t pub[32])
{
    uint8_t key[32];
    unsigned long long n;

    derive_key(key, LABEL_COOKIE, pub);
    return crypto_aead_xchacha20poly1305_ietf_decrypt(cookie, &n, NULL, r->encrypted_cookie,
                                                      sizeof(r->encrypted_cookie), mac1, 16,
                                                      r->nonce, key);
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed + i * 37 + (i >> 3));
}

static bool all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;

    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

static void test_mac1(size_t len)
{
    struct cookie_maker m;
    struct cookie_checker c, wrong;
    uint8_t msg[MESSAGE_INITIATION_LEN], want[16];
    struct wb_endpoint src = v4(192, 0, 2, 1, 51820);
    unsigned long bad = 0;

    fill(msg, len, (uint8_t)len);
    cookie_maker_init(&m, peer_public);
    cookie_checker_init(&c, peer_public);
    cookie_checker_init(&wrong, other_public);
    CHECK(!m.have_sent_mac1 && !m.cookie_valid && !c.secret_valid);

    cookie_add_mac_to_packet(&m, msg, len, 10 * SEC);
    expected_mac1(want, msg, len, peer_public);
    CHECK_EQ_MEM(msg + len - MACS_LEN, want, 16);
    CHECK(all_zero(msg + len - 16, 16));            /* no cookie: mac2 zero */
    CHECK(m.have_sent_mac1);
    CHECK_EQ_MEM(m.last_mac1_sent, want, 16);

    CHECK(cookie_validate_packet(&c, msg, len, &src, false, 10 * SEC) == COOKIE_VALID_MAC_BUT_NO_COOKIE);
    CHECK(cookie_validate_packet(&c, msg, len, &src, true, 10 * SEC) == COOKIE_VALID_MAC_BUT_NO_COOKIE);
    CHECK(cookie_validate_packet(&c, msg, len, NULL, true, 10 * SEC) == COOKIE_VALID_MAC_BUT_NO_COOKIE);
    CHECK(cookie_validate_packet(&wrong, msg, len, &src, false, 10 * SEC) == COOKIE_INVALID_MAC);

    /* Every bit of the message and of mac1 is covered... */
    for (size_t i = 0; i < (len - 16) * 8; i++) {
        msg[i / 8] ^= (uint8_t)(1U << (i % 8));
        bad += cookie_validate_packet(&c, msg, len, &src, false, 10 * SEC) != COOKIE_INVALID_MAC;
        msg[i / 8] ^= (uint8_t)(1U << (i % 8));
    }
    CHECK(bad == 0);
    /* ...while mac2 is not part of mac1. */
    msg[len - 1] ^= 0x80;
    CHECK(cookie_validate_packet(&c, msg, len, &src, false, 10 * SEC) == COOKIE_VALID_MAC_BUT_NO_COOKIE);
    msg[len - 1] ^= 0x80;
    /* Validation does not depend on the length being the one mac1 was made for. */
    CHECK(cookie_validate_packet(&c, msg, len - 1, &src, false, 10 * SEC) == COOKIE_INVALID_MAC);
}

/* The full exchange for one message size and one source: mac1 only, reply,
 * consume, then mac2 accepted from that source and no other. */
static void test_round_trip(size_t len, const struct wb_endpoint *src, const char *cookie_input_hex,
                            const struct wb_endpoint *const *others, size_t n_others)
{
    struct cookie_maker m;
    struct cookie_checker c;
    struct message_handshake_cookie reply;
    uint8_t msg[MESSAGE_INITIATION_LEN], mac1[16], cookie[16], want[16], input[18];
    const uint64_t t0 = 1000 * SEC;
    size_t input_len = check_unhex(input, sizeof(input), cookie_input_hex);

    cookie_maker_init(&m, peer_public);
    cookie_checker_init(&c, peer_public);
    fill(msg, len, 1);
    cookie_add_mac_to_packet(&m, msg, len, t0);
    memcpy(mac1, msg + len - MACS_LEN, 16);
    CHECK(cookie_validate_packet(&c, msg, len, src, true, t0) == COOKIE_VALID_MAC_BUT_NO_COOKIE);

    cookie_message_create(&c, &reply, msg, len, 0x11223344U, src, t0);
    CHECK_EQ_MEM(&reply.header, "\x03\x00\x00\x00", 4);
    CHECK_EQ_MEM(&reply.receiver_index, "\x44\x33\x22\x11", 4);
    CHECK(open_reply(cookie, &reply, mac1, peer_public) == 0);
    /* cookie = MAC(secret, address bytes || port big-endian) */
    CHECK(c.secret_valid && c.secret_birthdate_ns == t0);
    blake2s(want, 16, input, input_len, c.secret, 32);
    CHECK_EQ_MEM(cookie, want, 16);

    CHECK(cookie_message_consume(&m, &reply, t0 + SEC) == 0);
    CHECK(m.cookie_valid && m.cookie_birthdate_ns == t0 + SEC);
    CHECK_EQ_MEM(m.cookie, cookie, 16);

    fill(msg, len, 2);
    cookie_add_mac_to_packet(&m, msg, len, t0 + 2 * SEC);
    blake2s(want, 16, msg, len - 16, cookie, 16);   /* mac2 keyed with the 16-byte cookie */
    CHECK_EQ_MEM(msg + len - 16, want, 16);
    CHECK(cookie_validate_packet(&c, msg, len, src, true, t0 + 2 * SEC) == COOKIE_VALID_MAC_WITH_COOKIE);
    /* mac2 is only looked at when asked for. */
    CHECK(cookie_validate_packet(&c, msg, len, src, false, t0 + 2 * SEC) == COOKIE_VALID_MAC_BUT_NO_COOKIE);
    for (size_t i = 0; i < n_others; i++)
        CHECK(cookie_validate_packet(&c, msg, len, others[i], true, t0 + 2 * SEC) ==
              COOKIE_VALID_MAC_BUT_NO_COOKIE);

    /* A wrong mac2 bit, and a wrong mac1 despite a right mac2. */
    msg[len - 3] ^= 0x04;
    CHECK(cookie_validate_packet(&c, msg, len, src, true, t0 + 2 * SEC) == COOKIE_VALID_MAC_BUT_NO_COOKIE);
    msg[len - 3] ^= 0x04;
    msg[len - MACS_LEN] ^= 0x01;
    CHECK(cookie_validate_packet(&c, msg, len, src, true, t0 + 2 * SEC) == COOKIE_INVALID_MAC);
    msg[len - MACS_LEN] ^= 0x01;
    CHECK(cookie_validate_packet(&c, msg, len, src, true, t0 + 2 * SEC) == COOKIE_VALID_MAC_WITH_COOKIE);
}

static void test_sources(void)
{
    struct wb_endpoint a = v4(192, 0, 2, 1, 51820), ip = v4(192, 0, 2, 2, 51820),
                       port = v4(192, 0, 2, 1, 51821), swapped = v4(192, 0, 2, 1, 0x6cca),
                       as6 = a, none = { 0 }, b6 = v6(1, 51820), ip6 = v6(2, 51820),
                       port6 = v6(1, 51821), b6_as4 = b6;

    as6.family = 6;      /* same first bytes, but 16 of them are hashed */
    b6_as4.family = 4;   /* only the first 4 bytes hashed */
    {
        const struct wb_endpoint *others[] = { &ip, &port, &swapped, &as6, &none, NULL };
        test_round_trip(MESSAGE_INITIATION_LEN, &a, "c0000201ca6c", others, 6);
        test_round_trip(MESSAGE_RESPONSE_LEN, &a, "c0000201ca6c", others, 6);
    }
    {
        const struct wb_endpoint *others[] = { &ip6, &port6, &b6_as4, &none, &a };
        test_round_trip(MESSAGE_INITIATION_LEN, &b6, "20010db8000000000000000000000001ca6c", others, 5);
    }
    {
        /* No source: NULL and family 0 port 0 are the same (all-zero) source. */
        struct wb_endpoint zero6 = { .family = 6 }, zero4 = { .family = 4 };
        const struct wb_endpoint *others[] = { &zero6, &zero4, &a };
        test_round_trip(MESSAGE_INITIATION_LEN, NULL, "0000", others, 3);
        test_round_trip(MESSAGE_RESPONSE_LEN, &none, "0000", others, 3);
    }
}

static void test_consume_rejects(void)
{
    struct cookie_maker m, fresh;
    struct cookie_checker c, wrong;
    struct message_handshake_cookie reply, bad;
    uint8_t msg[MESSAGE_INITIATION_LEN], saved[16];
    struct wb_endpoint src = v4(192, 0, 2, 1, 51820);
    unsigned long accepted = 0;

    cookie_maker_init(&m, peer_public);
    cookie_maker_init(&fresh, peer_public);
    cookie_checker_init(&c, peer_public);
    cookie_checker_init(&wrong, other_public);
    fill(msg, sizeof(msg), 3);
    cookie_add_mac_to_packet(&m, msg, sizeof(msg), 5 * SEC);
    cookie_message_create(&c, &reply, msg, sizeof(msg), 7, &src, 5 * SEC);

    /* No mac1 ever sent: nothing to authenticate the reply against. */
    CHECK(cookie_message_consume(&fresh, &reply, 5 * SEC) == -EINVAL);
    CHECK(!fresh.cookie_valid);

    /* Any flipped bit of nonce or ciphertext fails authentication. */
    for (size_t i = 8 * offsetof(struct message_handshake_cookie, nonce); i < 8 * sizeof(reply); i++) {
        bad = reply;
        ((uint8_t *)&bad)[i / 8] ^= (uint8_t)(1U << (i % 8));
        accepted += cookie_message_consume(&m, &bad, 5 * SEC) != -EBADMSG;
    }
    CHECK(accepted == 0);
    CHECK(!m.cookie_valid && m.have_sent_mac1);

    /* A reply sealed under another identity's key. */
    cookie_message_create(&wrong, &bad, msg, sizeof(msg), 7, &src, 5 * SEC);
    CHECK(cookie_message_consume(&m, &bad, 5 * SEC) == -EBADMSG);

    /* A reply to an older mac1: AAD mismatch. */
    memcpy(saved, m.last_mac1_sent, 16);
    msg[20] ^= 1;
    cookie_add_mac_to_packet(&m, msg, sizeof(msg), 6 * SEC);
    CHECK(memcmp(saved, m.last_mac1_sent, 16) != 0);
    CHECK(cookie_message_consume(&m, &reply, 6 * SEC) == -EBADMSG);
    CHECK(!m.cookie_valid);

    /* The right reply is consumed once; a replay of it is refused because
     * no new mac1 has been sent since (as the Linux module does). */
    cookie_message_create(&c, &reply, msg, sizeof(msg), 7, &src, 6 * SEC);
    CHECK(cookie_message_consume(&m, &reply, 6 * SEC) == 0);
    CHECK(m.cookie_valid && !m.have_sent_mac1);
    CHECK(cookie_message_consume(&m, &reply, 6 * SEC) == -EINVAL);
}

static void test_maker_cookie_age(void)
{
    struct cookie_maker m;
    struct cookie_checker c;
    struct message_handshake_cookie reply;
    uint8_t msg[MESSAGE_INITIATION_LEN];
    struct wb_endpoint src = v4(192, 0, 2, 1, 51820);
    const uint64_t tc = 50 * SEC;
    const uint64_t fresh_for = COOKIE_SECRET_MAX_AGE_NS - COOKIE_SECRET_LATENCY_NS;

    CHECK(fresh_for == 115 * SEC);
    cookie_maker_init(&m, peer_public);
    cookie_checker_init(&c, peer_public);
    fill(msg, sizeof(msg), 4);
    cookie_add_mac_to_packet(&m, msg, sizeof(msg), tc);
    cookie_message_create(&c, &reply, msg, sizeof(msg), 1, &src, tc);
    CHECK(cookie_message_consume(&m, &reply, tc) == 0);

    cookie_add_mac_to_packet(&m, msg, sizeof(msg), tc + fresh_for - 1);
    CHECK(!all_zero(msg + sizeof(msg) - 16, 16));
    cookie_add_mac_to_packet(&m, msg, sizeof(msg), tc + fresh_for);
    CHECK(all_zero(msg + sizeof(msg) - 16, 16));
    cookie_add_mac_to_packet(&m, msg, sizeof(msg), tc + 1000 * SEC);
    CHECK(all_zero(msg + sizeof(msg) - 16, 16));
    /* A clock that went backwards is not trusted either. */
    cookie_add_mac_to_packet(&m, msg, sizeof(msg), tc - 1);
    CHECK(all_zero(msg + sizeof(msg) - 16, 16));
    cookie_add_mac_to_packet(&m, msg, sizeof(msg), tc);
    CHECK(!all_zero(msg + sizeof(msg) - 16, 16));
}

static void test_checker_secret_rotation(void)
{
    struct cookie_maker m;
    struct cookie_checker c;
    struct message_handshake_cookie reply;
    uint8_t msg[MESSAGE_INITIATION_LEN], secret[32];
    struct wb_endpoint src = v4(198, 51, 100, 7, 4500);
    const uint64_t s = 2000 * SEC;

    cookie_maker_init(&m, peer_public);
    cookie_checker_init(&c, peer_public);
    fill(msg, sizeof(msg), 5);
    cookie_add_mac_to_packet(&m, msg, sizeof(msg), s);
    cookie_message_create(&c, &reply, msg, sizeof(msg), 1, &src, s);
    CHECK(c.secret_valid && c.secret_birthdate_ns == s);
    memcpy(secret, c.secret, 32);
    /* The maker gets the reply late, so its own 115 s clock starts later. */
    CHECK(cookie_message_consume(&m, &reply, s + 10 * SEC) == 0);

    cookie_add_mac_to_packet(&m, msg, sizeof(msg), s + COOKIE_SECRET_MAX_AGE_NS - 1);
    CHECK(!all_zero(msg + sizeof(msg) - 16, 16));
    CHECK(cookie_validate_packet(&c, msg, sizeof(msg), &src, true, s + COOKIE_SECRET_MAX_AGE_NS - 1) ==
          COOKIE_VALID_MAC_WITH_COOKIE);
    CHECK_EQ_MEM(c.secret, secret, 32);

    /* 120 s after its birth the secret is replaced: the maker still sends
     * mac2 (its cookie is 110 s old) but it no longer validates. */
    cookie_add_mac_to_packet(&m, msg, sizeof(msg), s + COOKIE_SECRET_MAX_AGE_NS);
    CHECK(!all_zero(msg + sizeof(msg) - 16, 16));
    CHECK(cookie_validate_packet(&c, msg, sizeof(msg), &src, true, s + COOKIE_SECRET_MAX_AGE_NS) ==
          COOKIE_VALID_MAC_BUT_NO_COOKIE);
    CHECK(c.secret_birthdate_ns == s + COOKIE_SECRET_MAX_AGE_NS);
    CHECK(memcmp(c.secret, secret, 32) != 0);

    /* A new reply under the new secret works again. */
    cookie_message_create(&c, &reply, msg, sizeof(msg), 1, &src, s + 121 * SEC);
    CHECK(cookie_message_consume(&m, &reply, s + 121 * SEC) == 0);
    cookie_add_mac_to_packet(&m, msg, sizeof(msg), s + 122 * SEC);
    CHECK(cookie_validate_packet(&c, msg, sizeof(msg), &src, true, s + 122 * SEC) ==
          COOKIE_VALID_MAC_WITH_COOKIE);

    /* Re-initialising the checker (local key change) invalidates the secret. */
    cookie_checker_init(&c, peer_public);
    CHECK(!c.secret_valid);
    CHECK(cookie_validate_packet(&c, msg, sizeof(msg), &src, true, s + 123 * SEC) ==
          COOKIE_VALID_MAC_BUT_NO_COOKIE);
}

/* Short inputs: each buffer is exactly len bytes on the heap, so a read past
 * it is caught by ASan or valgrind. */
static void test_short_lengths(void)
{
    struct cookie_checker c;
    struct cookie_maker m;
    struct wb_endpoint src = v4(192, 0, 2, 1, 51820);
    unsigned long bad = 0;

    cookie_checker_init(&c, peer_public);
    cookie_maker_init(&m, peer_public);
    for (size_t len = 0; len <= MACS_LEN; len++) {
        uint8_t *p = malloc(len ? len : 1);

        if (!p) {
            CHECK(!"out of memory");
            return;
        }
        memset(p, 0, len);
        bad += cookie_validate_packet(&c, p, len, &src, false, SEC) != COOKIE_INVALID_MAC;
        bad += cookie_validate_packet(&c, p, len, &src, true, SEC) != COOKIE_INVALID_MAC;
        free(p);
    }
    CHECK(bad == 0);
    CHECK(cookie_validate_packet(&c, NULL, 0, &src, true, SEC) == COOKIE_INVALID_MAC);

    /* The shortest accepted shape: one byte before the macs. */
    {
        uint8_t *p = malloc(MACS_LEN + 1);

        if (!p) {
            CHECK(!"out of memory");
            return;
        }
        p[0] = 0x42;
        cookie_add_mac_to_packet(&m, p, MACS_LEN + 1, SEC);
        CHECK(cookie_validate_packet(&c, p, MACS_LEN + 1, &src, true, SEC) == COOKIE_VALID_MAC_BUT_NO_COOKIE);
        free(p);
    }
}

static void test_wipe(void)
{
    struct cookie_checker c;
    struct cookie_maker m;
    struct message_handshake_cookie reply;
    uint8_t msg[MESSAGE_RESPONSE_LEN];

    cookie_checker_init(&c, peer_public);
    cookie_maker_init(&m, peer_public);
    fill(msg, sizeof(msg), 6);
    cookie_add_mac_to_packet(&m, msg, sizeof(msg), SEC);
    cookie_message_create(&c, &reply, msg, sizeof(msg), 1, NULL, SEC);
    CHECK(cookie_message_consume(&m, &reply, SEC) == 0);
    CHECK(!all_zero((uint8_t *)&c, sizeof(c)) && !all_zero((uint8_t *)&m, sizeof(m)));
    cookie_checker_wipe(&c);
    cookie_maker_wipe(&m);
    CHECK(all_zero((uint8_t *)&c, sizeof(c)));
    CHECK(all_zero((uint8_t *)&m, sizeof(m)));
}

int main(void)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "sodium_init failed\n");
        return 1;
    }
    fill(peer_public, sizeof(peer_public), 0x5a);
    fill(other_public, sizeof(other_public), 0xa5);

    test_mac1(MESSAGE_INITIATION_LEN);
    test_mac1(MESSAGE_RESPONSE_LEN);
    test_sources();
    test_consume_rejects();
    test_maker_cookie_age();
    test_checker_secret_rotation();
    test_short_lengths();
    test_wipe();
    return check_summary();
}
