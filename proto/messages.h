/* SPDX-License-Identifier: MIT */
/*
 * messages.h - every WireGuard wire struct and protocol constant, in one place.
 * Nothing else in the tree spells a protocol number. Values follow the
 * whitepaper and wireguard-go's device/constants.go.
 */
#ifndef WB_MESSAGES_H
#define WB_MESSAGES_H

#include <stdint.h>

#define NSEC_PER_SEC 1000000000ULL
#define NSEC_PER_MSEC 1000000ULL

/* Noise and crypto sizes */
#define NOISE_PUBLIC_KEY_LEN 32
#define NOISE_SYMMETRIC_KEY_LEN 32
#define NOISE_TIMESTAMP_LEN 12
#define NOISE_HASH_LEN 32
#define NOISE_AUTHTAG_LEN 16
#define NOISE_ENCRYPTED_LEN(plain) ((plain) + NOISE_AUTHTAG_LEN)
#define COOKIE_LEN 16
#define COOKIE_NONCE_LEN 24
#define COOKIE_SECRET_LEN 32

#define NOISE_CONSTRUCTION "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"
#define NOISE_IDENTIFIER "WireGuard v1 zx2c4 Jason@zx2c4.com"
#define LABEL_MAC1 "mac1----"
#define LABEL_COOKIE "cookie--"

/* Message types (one byte, then three zero bytes) */
enum message_type {
    MESSAGE_INVALID = 0,
    MESSAGE_HANDSHAKE_INITIATION = 1,
    MESSAGE_HANDSHAKE_RESPONSE = 2,
    MESSAGE_HANDSHAKE_COOKIE = 3,
    MESSAGE_DATA = 4,
};

/* Limits */
#define REKEY_AFTER_MESSAGES (1ULL << 60)
#define REJECT_AFTER_MESSAGES (UINT64_MAX - (1ULL << 13))   /* 2^64 - 2^13 - 1 */
#define REKEY_TIMEOUT_NS (5ULL * NSEC_PER_SEC)
#define REKEY_TIMEOUT_JITTER_MAX_MS 334                      /* jitter in [0, 333] ms */
#define REKEY_AFTER_TIME_NS (120ULL * NSEC_PER_SEC)
#define REKEY_ATTEMPT_TIME_NS (90ULL * NSEC_PER_SEC)
#define REJECT_AFTER_TIME_NS (180ULL * NSEC_PER_SEC)
#define KEEPALIVE_TIMEOUT_NS (10ULL * NSEC_PER_SEC)
#define MAX_TIMER_HANDSHAKES (REKEY_ATTEMPT_TIME_NS / REKEY_TIMEOUT_NS)  /* 18 */
/* The initiator rekeys on receive once the key is this old (180 - 10 - 5 s). */
#define REKEY_ON_RECEIVE_TIME_NS (REJECT_AFTER_TIME_NS - KEEPALIVE_TIMEOUT_NS - REKEY_TIMEOUT_NS)
#define ZERO_KEY_MATERIAL_TIME_NS (REJECT_AFTER_TIME_NS * 3)    /* 540 s */
#define NEW_HANDSHAKE_TIME_NS (KEEPALIVE_TIMEOUT_NS + REKEY_TIMEOUT_NS) /* 15 s */
#define COOKIE_SECRET_MAX_AGE_NS (2 * 60ULL * NSEC_PER_SEC)
#define COOKIE_SECRET_LATENCY_NS (5ULL * NSEC_PER_SEC)
#define INITIATIONS_PER_SECOND 50
#define HANDSHAKE_INITIATION_RATE_NS (NSEC_PER_SEC / INITIATIONS_PER_SECOND)  /* 20 ms */
#define UNDER_LOAD_AFTER_TIME_NS (1ULL * NSEC_PER_SEC)
#define MAX_STAGED_PACKETS 128
#define MAX_QUEUED_INCOMING_HANDSHAKES 4096
#define HANDSHAKE_RATE_PER_SECOND 20
#define HANDSHAKE_RATE_BURST 5

/* Replay window: 8192 bits as 128 words of 64; one word is kept free so
 * 8128 counters behind the newest are accepted (RFC 6479). */
#define COUNTER_BITS_TOTAL 8192
#define COUNTER_REDUNDANT_BITS 64
#define COUNTER_WINDOW_SIZE (COUNTER_BITS_TOTAL - COUNTER_REDUNDANT_BITS)

/* Data path */
#define MESSAGE_PADDING_MULTIPLE 16
#define DEFAULT_MTU 1420
#define HANDSHAKE_DSCP 0x88

/* TAI64N: label 2^62 + 10 added to Unix seconds; nanoseconds rounded down
 * to a multiple of 2^24 so the timestamp leaks no fine timing. */
#define TAI64_LABEL 0x400000000000000aULL
#define TAI64N_NSEC_GRANULARITY (1U << 24)

#if defined(_MSC_VER)
#  define WB_PACKED
#  pragma pack(push, 1)
#else
#  define WB_PACKED __attribute__((packed))
#endif

struct message_header {
    uint32_t type;          /* LE; low byte is the type, the rest zero */
} WB_PACKED;

struct message_macs {
    uint8_t mac1[COOKIE_LEN];
    uint8_t mac2[COOKIE_LEN];
} WB_PACKED;

struct message_handshake_initiation {
    struct message_header header;
    uint32_t sender_index;
    uint8_t unencrypted_ephemeral[NOISE_PUBLIC_KEY_LEN];
    uint8_t encrypted_static[NOISE_ENCRYPTED_LEN(NOISE_PUBLIC_KEY_LEN)];
    uint8_t encrypted_timestamp[NOISE_ENCRYPTED_LEN(NOISE_TIMESTAMP_LEN)];
    struct message_macs macs;
} WB_PACKED;

struct message_handshake_response {
    struct message_header header;
    uint32_t sender_index;
    uint32_t receiver_index;
    uint8_t unencrypted_ephemeral[NOISE_PUBLIC_KEY_LEN];
    uint8_t encrypted_nothing[NOISE_ENCRYPTED_LEN(0)];
    struct message_macs macs;
} WB_PACKED;

struct message_handshake_cookie {
    struct message_header header;
    uint32_t receiver_index;
    uint8_t nonce[COOKIE_NONCE_LEN];
    uint8_t encrypted_cookie[NOISE_ENCRYPTED_LEN(COOKIE_LEN)];
} WB_PACKED;

struct message_data {
    struct message_header header;
    uint32_t key_idx;
    uint64_t counter;
    uint8_t encrypted_data[];
} WB_PACKED;

#if defined(_MSC_VER)
#  pragma pack(pop)
#endif

#define MESSAGE_INITIATION_LEN 148
#define MESSAGE_RESPONSE_LEN 92
#define MESSAGE_COOKIE_LEN 64
#define MESSAGE_DATA_HEADER_LEN 16
#define MESSAGE_MINIMUM_LENGTH (MESSAGE_DATA_HEADER_LEN + NOISE_AUTHTAG_LEN)  /* 32 */
#define MESSAGE_MAX_LEN 65535

_Static_assert(sizeof(struct message_handshake_initiation) == MESSAGE_INITIATION_LEN, "initiation");
_Static_assert(sizeof(struct message_handshake_response) == MESSAGE_RESPONSE_LEN, "response");
_Static_assert(sizeof(struct message_handshake_cookie) == MESSAGE_COOKIE_LEN, "cookie");
_Static_assert(sizeof(struct message_data) == MESSAGE_DATA_HEADER_LEN, "data header");

#endif /* WB_MESSAGES_H */
