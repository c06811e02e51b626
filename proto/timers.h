/* SPDX-License-Identifier: MIT */
/*
 * timers.h - every timing policy of a peer, in one place (the Linux
 * module's timers.c as deadlines instead of kernel timers).
 *
 * The owner reports events through the hooks (named after what happened,
 * not what to do) and calls timers_expire() periodically; it answers with a
 * mask of actions for the owner to carry out. Only this file knows the
 * intervals. Times are monotonic nanoseconds; a deadline of 0 is disarmed.
 *
 * Concurrency: called with the owning peer's lock held.
 */
#ifndef WB_PROTO_TIMERS_H
#define WB_PROTO_TIMERS_H

#include <stdbool.h>
#include <stdint.h>

struct noise_keypair;

struct timers {
    uint64_t retransmit_handshake;
    uint64_t send_keepalive;
    uint64_t new_handshake;
    uint64_t zero_key_material;
    uint64_t persistent_keepalive;
    uint64_t last_sent_handshake;        /* 0: never */
    unsigned handshake_attempts;
    uint16_t persistent_keepalive_interval; /* seconds, 0 = off */
    bool need_another_keepalive;
    bool sent_lastminute_handshake;
    bool jitter_disabled;                /* tests: deterministic deadlines */
};

enum timer_action {
    TIMER_SEND_INITIATION = 1 << 0,       /* a new handshake (attempt counter reset) */
    TIMER_RETRY_INITIATION = 1 << 1,      /* a retransmission (attempts already counted) */
    TIMER_SEND_KEEPALIVE = 1 << 2,
    TIMER_PURGE_STAGED = 1 << 3,          /* the handshake gave up */
    TIMER_ZERO_KEYS = 1 << 4,             /* wipe keypairs and handshake */
    TIMER_CLEAR_ENDPOINT_SRC = 1 << 5,    /* forget the sticky source address */
};

void timers_init(struct timers *t, uint16_t persistent_keepalive_interval);

/* Event hooks. */
void timers_data_sent(struct timers *t, uint64_t now);
void timers_data_received(struct timers *t, uint64_t now);
void timers_any_authenticated_packet_sent(struct timers *t, uint64_t now);
void timers_any_authenticated_packet_received(struct timers *t, uint64_t now);
void timers_any_authenticated_packet_traversal(struct timers *t, uint64_t now);
void timers_handshake_initiated(struct timers *t, uint64_t now);
void timers_handshake_complete(struct timers *t, uint64_t now);
void timers_session_derived(struct timers *t, uint64_t now);

/* Fire due timers; returns a mask of enum timer_action. */
unsigned timers_expire(struct timers *t, uint64_t now);
/* Is an initiation awaiting its response (the retransmit timer armed)? */
bool timers_handshake_in_flight(const struct timers *t);

/* Earliest armed deadline, or 0 if none. */
uint64_t timers_next_deadline(const struct timers *t);

/* May an initiation go out now? Resets the attempt counter for a fresh
 * (non-retry) handshake, refuses more than one per REKEY_TIMEOUT unless
 * forced, and records the send time when it says yes. */
bool timers_initiation_allowed(struct timers *t, uint64_t now, bool is_retry, bool force);

/* keep_key_fresh: should sending or receiving under kp start a rekey? */
bool timers_want_rekey_on_send(const struct timers *t, const struct noise_keypair *kp, uint64_t now);
bool timers_want_rekey_on_receive(struct timers *t, const struct noise_keypair *kp, uint64_t now);

#endif
