/* SPDX-License-Identifier: MIT */
/*
 * cookie.h - mac1/mac2 and cookie replies (whitepaper section 5.4.7).
 *
 * The responder side is a cookie_checker (one per local identity): it checks
 * mac1 on every handshake message, checks mac2 when under load, and creates
 * cookie replies. The initiator side is a cookie_maker (one per peer): it
 * adds mac1 (and mac2 while it holds a fresh cookie) to each handshake
 * message it sends, and consumes cookie replies.
 *
 * mac1 = MAC(HASH("mac1----" || receiver's static public), msg[0 .. len-32))
 * mac2 = MAC(cookie, msg[0 .. len-16)), or 16 zero bytes without a cookie
 * cookie = MAC(secret, source address bytes || source port big-endian), the
 * secret replaced with random bytes when older than 120 s.
 * reply = XChaCha20-Poly1305(HASH("cookie--" || responder static public),
 *         random 24-byte nonce, cookie, AAD = the mac1 being answered).
 * MAC is keyed BLAKE2s with 16 bytes of output.
 *
 * Concurrency: a checker/maker is used under the lock of its owner (the
 * tunnel lock for the single-peer tunnel).
 */
#ifndef WB_PROTO_COOKIE_H
#define WB_PROTO_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "include/wirebolt.h"
#include "proto/messages.h"

struct cookie_checker {
    uint8_t secret[NOISE_HASH_LEN];
    uint64_t secret_birthdate_ns;
    bool secret_valid;
    uint8_t cookie_encryption_key[NOISE_SYMMETRIC_KEY_LEN];
    uint8_t message_mac1_key[NOISE_SYMMETRIC_KEY_LEN];
};

struct cookie_maker {
    uint8_t cookie[COOKIE_LEN];
    uint64_t cookie_birthdate_ns;
    bool cookie_valid;
    bool have_sent_mac1;
    uint8_t last_mac1_sent[COOKIE_LEN];
    /* Derived from peer_public on first use (ensure_keys): configuring
     * 100,000 peers need not hash 200,000 times. */
    bool keys_ready;
    uint8_t peer_public[NOISE_PUBLIC_KEY_LEN];
    uint8_t cookie_decryption_key[NOISE_SYMMETRIC_KEY_LEN];
    uint8_t message_mac1_key[NOISE_SYMMETRIC_KEY_LEN];
};

enum cookie_mac_state {
    COOKIE_INVALID_MAC,              /* mac1 wrong: drop silently */
    COOKIE_VALID_MAC_BUT_NO_COOKIE,  /* mac1 ok, mac2 absent or wrong */
    COOKIE_VALID_MAC_WITH_COOKIE,    /* mac1 and mac2 ok */
};

/* Derive the checker's keys from the local static public key (call again
 * whenever the local key changes). The secret starts invalid. */
void cookie_checker_init(struct cookie_checker *c, const uint8_t local_public[NOISE_PUBLIC_KEY_LEN]);
/* Derive the maker's keys from the peer's static public key. */
void cookie_maker_init(struct cookie_maker *m, const uint8_t peer_public[NOISE_PUBLIC_KEY_LEN]);
/* Wipe. */
void cookie_checker_wipe(struct cookie_checker *c);
void cookie_maker_wipe(struct cookie_maker *m);

/* Check the macs of a handshake message (initiation or response; len is
 * its full length, macs at the end). mac2 is only checked when check_cookie
 * is true; `src` may be NULL (treated as family 0, all-zero address). */
enum cookie_mac_state cookie_validate_packet(struct cookie_checker *c, const uint8_t *msg, size_t len,
                                             const struct wb_endpoint *src, bool check_cookie,
                                             uint64_t now_ns);

/* Fill mac1 and mac2 of an outgoing handshake message in place; mac2 is
 * zeros unless the maker holds a cookie younger than 120 - 5 s. */
void cookie_add_mac_to_packet(struct cookie_maker *m, uint8_t *msg, size_t len, uint64_t now_ns);

/* Build a cookie reply to the handshake message msg/len (which must carry a
 * valid mac1) received from src; `index` is the sender index of that message. */
void cookie_message_create(struct cookie_checker *c, struct message_handshake_cookie *dst,
                           const uint8_t *msg, size_t len, uint32_t index,
                           const struct wb_endpoint *src, uint64_t now_ns);

/* Consume a cookie reply addressed to this maker (the caller found the maker
 * by receiver_index). Returns 0, -EINVAL (no mac1 was sent), -EBADMSG
 * (authentication failed). */
int cookie_message_consume(struct cookie_maker *m, const struct message_handshake_cookie *src,
                           uint64_t now_ns);

#endif
