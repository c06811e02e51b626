/* SPDX-License-Identifier: MIT */
/*
 * timers.c - the timer policy of the whitepaper section 6 and the Linux
 * module: retransmit, keepalive, new handshake, zeroing, persistent
 * keepalive, and when to rekey. See timers.h for the contract.
 */
#include <string.h>

#include "crypto/random.h"
#include "proto/messages.h"
#include "proto/noise.h"
#include "proto/timers.h"

static uint64_t jitter(const struct timers *t)
{
    if (t->jitter_disabled)
        return 0;
    return (uint64_t)wb_random_uniform(REKEY_TIMEOUT_JITTER_MAX_MS) * NSEC_PER_MSEC;
}

/* Deadlines are never 0 (that means disarmed), even at time 0. */
static uint64_t deadline(uint64_t now, uint64_t delta)
{
    uint64_t d = now + delta;

    return d ? d : 1;
}

void timers_init(struct timers *t, uint16_t persistent_keepalive_interval)
{
    bool jitter_disabled = t->jitter_disabled;

    memset(t, 0, sizeof(*t));
    t->jitter_disabled = jitter_disabled;
    t->persistent_keepalive_interval = persistent_keepalive_interval;
}

void timers_data_sent(struct timers *t, uint64_t now)
{
    if (!t->new_handshake)
        t->new_handshake = deadline(now, NEW_HANDSHAKE_TIME_NS + jitter(t));
}

void timers_data_received(struct timers *t, uint64_t now)
{
    if (!t->send_keepalive)
        t->send_keepalive = deadline(now, KEEPALIVE_TIMEOUT_NS);
    else
        t->need_another_keepalive = true;
}

void timers_any_authenticated_packet_sent(struct timers *t, uint64_t now)
{
    t->send_keepalive = 0;
}

void timers_any_authenticated_packet_received(struct timers *t, uint64_t now)
{
    t->new_handshake = 0;
}

void timers_any_authenticated_packet_traversal(struct timers *t, uint64_t now)
{
    if (t->persistent_keepalive_interval)
        t->persistent_keepalive = deadline(now, (uint64_t)t->persistent_keepalive_interval * NSEC_PER_SEC);
}

void timers_handshake_initiated(struct timers *t, uint64_t now)
{
    t->retransmit_handshake = deadline(now, REKEY_TIMEOUT_NS + jitter(t));
}

void timers_handshake_complete(struct timers *t, uint64_t now)
{
    t->retransmit_handshake = 0;
    t->handshake_attempts = 0;
    t->sent_lastminute_handshake = false;
}

void timers_session_derived(struct timers *t, uint64_t now)
{
    t->zero_key_material = deadline(now, ZERO_KEY_MATERIAL_TIME_NS);
}

static bool due(uint64_t *timer, uint64_t now)
{
    if (!*timer || *timer > now)
        return false;
    *timer = 0;
    return true;
}

static unsigned expire_retransmit(struct timers *t, uint64_t now)
{
    if (t->handshake_attempts > MAX_TIMER_HANDSHAKES) {
        /* Gave up: stop keepalives, drop what waited for a key, and make
         * sure the key material is zeroed eventually. */
        t->send_keepalive = 0;
        if (!t->zero_key_material)
            t->zero_key_material = deadline(now, ZERO_KEY_MATERIAL_TIME_NS);
        return TIMER_PURGE_STAGED;
    }
    ++t->handshake_attempts;
    return TIMER_RETRY_INITIATION | TIMER_CLEAR_ENDPOINT_SRC;
}

unsigned timers_expire(struct timers *t, uint64_t now)
{
    unsigned actions = 0;

    if (due(&t->retransmit_handshake, now))
        actions |= expire_retransmit(t, now);
    if (due(&t->send_keepalive, now)) {
        actions |= TIMER_SEND_KEEPALIVE;
        if (t->need_another_keepalive) {
            t->need_another_keepalive = false;
            t->send_keepalive = deadline(now, KEEPALIVE_TIMEOUT_NS);
        }
    }
    if (due(&t->new_handshake, now))
        /* We sent data and heard nothing back for 15 s. */
        actions |= TIMER_SEND_INITIATION | TIMER_CLEAR_ENDPOINT_SRC;
    if (due(&t->zero_key_material, now))
        actions |= TIMER_ZERO_KEYS;
    if (due(&t->persistent_keepalive, now) && t->persistent_keepalive_interval)
        actions |= TIMER_SEND_KEEPALIVE;
    return actions;
}

bool timers_handshake_in_flight(const struct timers *t)
{
    return t->retransmit_handshake != 0;
}

uint64_t timers_next_deadline(const struct timers *t)
{
    const uint64_t all[] = { t->retransmit_handshake, t->send_keepalive, t->new_handshake,
                             t->zero_key_material, t->persistent_keepalive };
    uint64_t next = 0;

    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        if (all[i] && (!next || all[i] < next))
            next = all[i];
    return next;
}

bool timers_initiation_allowed(struct timers *t, uint64_t now, bool is_retry, bool force)
{
    if (!is_retry)
        t->handshake_attempts = 0;
    if (!force && t->last_sent_handshake && now < t->last_sent_handshake + REKEY_TIMEOUT_NS)
        return false;
    t->last_sent_handshake = now ? now : 1;
    return true;
}

bool timers_want_rekey_on_send(const struct timers *t, const struct noise_keypair *kp, uint64_t now)
{
    if (!kp || !kp->sending.is_valid)
        return false;
    return kp->sending_counter > REKEY_AFTER_MESSAGES ||
           (kp->i_am_the_initiator && now >= kp->sending.birthdate_ns + REKEY_AFTER_TIME_NS);
}

bool timers_want_rekey_on_receive(struct timers *t, const struct noise_keypair *kp, uint64_t now)
{
    if (!kp || !kp->sending.is_valid || !kp->i_am_the_initiator || t->sent_lastminute_handshake)
        return false;
    if (now < kp->sending.birthdate_ns + REKEY_ON_RECEIVE_TIME_NS)
        return false;
    t->sent_lastminute_handshake = true;
    return true;
}
