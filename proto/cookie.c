/* SPDX-License-Identifier: MIT */
/*
 * cookie.c - mac1/mac2 on handshake messages and cookie replies
 * (whitepaper section 5.4.7): the responder's cookie_checker and the
 * initiator's per-peer cookie_maker. See cookie.h for the formulas.
 *
 * Concurrency (all functions): the caller holds the lock of the checker's or
 * maker's owner; nothing here locks.
 */
#include "proto/byteorder.h"
#include "proto/cookie.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

#include "crypto/blake2s.h"
#include "crypto/random.h"
#include "crypto/xaead.h"

#define LABEL_LEN 8
#define MAC1_INPUT_END(len) ((len) - sizeof(struct message_macs))
#define MAC2_INPUT_END(len) ((len) - COOKIE_LEN)
/* Shortest message we look at: the macs plus at least one byte before them. */
#define MACS_MIN_MESSAGE_LEN (sizeof(struct message_macs) + 1)

_Static_assert(sizeof(LABEL_MAC1) - 1 == LABEL_LEN, "mac1 label length");
_Static_assert(sizeof(LABEL_COOKIE) - 1 == LABEL_LEN, "cookie label length");
_Static_assert(COOKIE_NONCE_LEN == XAEAD_NONCE_LEN, "cookie nonce length");


/* key = HASH(label || public key) */
static void precompute_key(uint8_t key[NOISE_SYMMETRIC_KEY_LEN],
                           const uint8_t public_key[NOISE_PUBLIC_KEY_LEN], const char *label)
{
    struct blake2s_state s;

    blake2s_init(&s, NOISE_SYMMETRIC_KEY_LEN);
    blake2s_update(&s, (const uint8_t *)label, LABEL_LEN);
    blake2s_update(&s, public_key, NOISE_PUBLIC_KEY_LEN);
    blake2s_final(&s, key);
}

/* len >= MACS_MIN_MESSAGE_LEN; mac1 covers everything before the macs. */
static void compute_mac1(uint8_t mac1[COOKIE_LEN], const uint8_t *msg, size_t len,
                         const uint8_t key[NOISE_SYMMETRIC_KEY_LEN])
{
    blake2s(mac1, COOKIE_LEN, msg, MAC1_INPUT_END(len), key, NOISE_SYMMETRIC_KEY_LEN);
}

/* mac2 covers everything before mac2 and is keyed with the 16-byte cookie. */
static void compute_mac2(uint8_t mac2[COOKIE_LEN], const uint8_t *msg, size_t len,
                         const uint8_t cookie[COOKIE_LEN])
{
    blake2s(mac2, COOKIE_LEN, msg, MAC2_INPUT_END(len), cookie, COOKIE_LEN);
}

/* A time in the future (clock misuse) counts as expired: the safe side. */
static bool has_expired(uint64_t birthdate_ns, uint64_t lifetime_ns, uint64_t now_ns)
{
    return now_ns < birthdate_ns || now_ns - birthdate_ns >= lifetime_ns;
}

/* cookie = MAC(secret, source address bytes || source port big-endian),
 * after replacing a secret that is missing or COOKIE_SECRET_MAX_AGE old. */
static void make_cookie(struct cookie_checker *c, uint8_t cookie[COOKIE_LEN],
                        const struct wb_endpoint *src, uint64_t now_ns)
{
    struct blake2s_state s;
    uint8_t port_be[2] = { 0, 0 };

    if (!c->secret_valid || has_expired(c->secret_birthdate_ns, COOKIE_SECRET_MAX_AGE_NS, now_ns)) {
        wb_random_bytes(c->secret, sizeof(c->secret));
        c->secret_birthdate_ns = now_ns;
        c->secret_valid = true;
    }

    blake2s_init_key(&s, COOKIE_LEN, c->secret, sizeof(c->secret));
    if (src && src->family == 4)
        blake2s_update(&s, src->addr, 4);
    else if (src && src->family == 6)
        blake2s_update(&s, src->addr, 16);
    if (src) {
        port_be[0] = (uint8_t)(src->port >> 8);
        port_be[1] = (uint8_t)src->port;
    }
    blake2s_update(&s, port_be, sizeof(port_be));
    blake2s_final(&s, cookie);  /* also wipes the keyed state */
}

void cookie_checker_init(struct cookie_checker *c, const uint8_t local_public[NOISE_PUBLIC_KEY_LEN])
{
    wb_memzero(c, sizeof(*c));
    precompute_key(c->cookie_encryption_key, local_public, LABEL_COOKIE);
    precompute_key(c->message_mac1_key, local_public, LABEL_MAC1);
}

void cookie_maker_init(struct cookie_maker *m, const uint8_t peer_public[NOISE_PUBLIC_KEY_LEN])
{
    wb_memzero(m, sizeof(*m));
    memcpy(m->peer_public, peer_public, NOISE_PUBLIC_KEY_LEN);
}

/* The maker's keys, derived at the first message to or from the peer. */
static void ensure_keys(struct cookie_maker *m)
{
    if (m->keys_ready)
        return;
    precompute_key(m->cookie_decryption_key, m->peer_public, LABEL_COOKIE);
    precompute_key(m->message_mac1_key, m->peer_public, LABEL_MAC1);
    m->keys_ready = true;
}

void cookie_checker_wipe(struct cookie_checker *c)
{
    wb_memzero(c, sizeof(*c));
}

void cookie_maker_wipe(struct cookie_maker *m)
{
    wb_memzero(m, sizeof(*m));
}

/* Network input: any len is safe; too short is simply an invalid mac. */
enum cookie_mac_state cookie_validate_packet(struct cookie_checker *c, const uint8_t *msg, size_t len,
                                             const struct wb_endpoint *src, bool check_cookie,
                                             uint64_t now_ns)
{
    const struct message_macs *macs;
    enum cookie_mac_state ret = COOKIE_INVALID_MAC;
    uint8_t computed[COOKIE_LEN];
    uint8_t cookie[COOKIE_LEN];

    if (!msg || len < MACS_MIN_MESSAGE_LEN)
        return COOKIE_INVALID_MAC;
    macs = (const struct message_macs *)(msg + MAC1_INPUT_END(len));

    compute_mac1(computed, msg, len, c->message_mac1_key);
    if (wb_memcmp_ct(computed, macs->mac1, COOKIE_LEN) != 0)
        goto out;
    ret = COOKIE_VALID_MAC_BUT_NO_COOKIE;
    if (!check_cookie)
        goto out;

    make_cookie(c, cookie, src, now_ns);
    compute_mac2(computed, msg, len, cookie);
    if (wb_memcmp_ct(computed, macs->mac2, COOKIE_LEN) == 0)
        ret = COOKIE_VALID_MAC_WITH_COOKIE;

out:
    wb_memzero(cookie, sizeof(cookie));
    wb_memzero(computed, sizeof(computed));
    return ret;
}

void cookie_add_mac_to_packet(struct cookie_maker *m, uint8_t *msg, size_t len, uint64_t now_ns)
{
    struct message_macs *macs;

    /* Our own outgoing message: a short one is a programming error. */
    assert(len >= MACS_MIN_MESSAGE_LEN);
    if (len < MACS_MIN_MESSAGE_LEN)
        return;
    macs = (struct message_macs *)(msg + MAC1_INPUT_END(len));

    ensure_keys(m);
    compute_mac1(macs->mac1, msg, len, m->message_mac1_key);
    memcpy(m->last_mac1_sent, macs->mac1, COOKIE_LEN);
    m->have_sent_mac1 = true;

    if (m->cookie_valid &&
        !has_expired(m->cookie_birthdate_ns, COOKIE_SECRET_MAX_AGE_NS - COOKIE_SECRET_LATENCY_NS, now_ns))
        compute_mac2(macs->mac2, msg, len, m->cookie);
    else
        memset(macs->mac2, 0, COOKIE_LEN);
}

void cookie_message_create(struct cookie_checker *c, struct message_handshake_cookie *dst,
                           const uint8_t *msg, size_t len, uint32_t index,
                           const struct wb_endpoint *src, uint64_t now_ns)
{
    const struct message_macs *macs;
    uint8_t cookie[COOKIE_LEN];

    /* The caller validated mac1 first, so len is long enough; should it not
     * be, leave an all-zero (MESSAGE_INVALID) reply rather than read past msg. */
    assert(len >= MACS_MIN_MESSAGE_LEN);
    if (len < MACS_MIN_MESSAGE_LEN) {
        memset(dst, 0, sizeof(*dst));
        return;
    }
    macs = (const struct message_macs *)(msg + MAC1_INPUT_END(len));

    store_le32((uint8_t *)&dst->header.type, MESSAGE_HANDSHAKE_COOKIE);
    store_le32((uint8_t *)&dst->receiver_index, index);
    wb_random_bytes(dst->nonce, sizeof(dst->nonce));

    make_cookie(c, cookie, src, now_ns);
    xaead_seal(dst->encrypted_cookie, cookie, COOKIE_LEN, macs->mac1, COOKIE_LEN, dst->nonce,
               c->cookie_encryption_key);
    wb_memzero(cookie, sizeof(cookie));
}

int cookie_message_consume(struct cookie_maker *m, const struct message_handshake_cookie *src,
                           uint64_t now_ns)
{
    uint8_t cookie[COOKIE_LEN];

    if (!m->have_sent_mac1)
        return -EINVAL;
    ensure_keys(m);
    if (xaead_open(cookie, src->encrypted_cookie, sizeof(src->encrypted_cookie), m->last_mac1_sent,
                   COOKIE_LEN, src->nonce, m->cookie_decryption_key) != 0)
        return -EBADMSG;

    memcpy(m->cookie, cookie, COOKIE_LEN);
    m->cookie_birthdate_ns = now_ns;
    m->cookie_valid = true;
    /* One reply per mac1 sent (as Linux does): a replayed reply is refused. */
    m->have_sent_mac1 = false;
    wb_memzero(cookie, sizeof(cookie));
    return 0;
}
