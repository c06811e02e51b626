/* SPDX-License-Identifier: MIT */
/*
 * noise.h - Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s as WireGuard uses it:
 * handshake state per peer, create/consume for each handshake message, and
 * the keypairs (previous/current/next) that the data path uses.
 *
 * Concurrency: every function here is called with the owning peer's lock
 * held (the tunnel lock for the single-peer tunnel; the peer's handshake
 * lock in the multi-peer device). Nothing here does I/O or reads a clock:
 * times come in as arguments (monotonic ns, and real time for TAI64N).
 *
 * Index allocation is the owner's job: it passes the local index for a new
 * initiation/response, and keypairs inherit the handshake's index, as in the
 * Linux module, so a receiver index names a handshake or a keypair.
 */
#ifndef WB_PROTO_NOISE_H
#define WB_PROTO_NOISE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "proto/messages.h"
#include "proto/replay.h"

struct noise_local_identity {
    uint8_t private_key[NOISE_PUBLIC_KEY_LEN];
    uint8_t public_key[NOISE_PUBLIC_KEY_LEN];
    bool has_identity;
};

enum noise_handshake_state {
    HANDSHAKE_ZEROED,
    HANDSHAKE_CREATED_INITIATION,
    HANDSHAKE_CONSUMED_INITIATION,
    HANDSHAKE_CREATED_RESPONSE,
    HANDSHAKE_CONSUMED_RESPONSE,
};

struct noise_handshake {
    enum noise_handshake_state state;
    uint64_t last_initiation_consumption_ns;   /* 0: never */
    const struct noise_local_identity *local;
    uint8_t remote_static[NOISE_PUBLIC_KEY_LEN];
    uint8_t precomputed_static_static[NOISE_PUBLIC_KEY_LEN]; /* zero: low order */
    bool static_static_pending;          /* precomputed_static_static not yet made */
    uint8_t preshared_key[NOISE_SYMMETRIC_KEY_LEN];
    uint8_t ephemeral_private[NOISE_PUBLIC_KEY_LEN];
    uint8_t remote_ephemeral[NOISE_PUBLIC_KEY_LEN];
    uint8_t hash[NOISE_HASH_LEN];
    uint8_t chaining_key[NOISE_HASH_LEN];
    uint8_t latest_timestamp[NOISE_TIMESTAMP_LEN];
    uint32_t local_index;
    uint32_t remote_index;
};

struct noise_symmetric_key {
    uint8_t key[NOISE_SYMMETRIC_KEY_LEN];
    uint64_t birthdate_ns;
    bool is_valid;
};

/* Reference counted: the keypairs slot holds one, and so does every batch
 * of packets sealed or opened under it outside the owner's lock (the
 * device's parallel crypto), so a rotation never frees keys in use. */
struct noise_keypair {
    atomic_uint refs;
    struct noise_symmetric_key sending;
    uint64_t sending_counter;
    struct noise_symmetric_key receiving;
    struct replay_counter receiving_counter;
    uint32_t local_index;
    uint32_t remote_index;
    bool i_am_the_initiator;
};

struct noise_keypairs {
    struct noise_keypair *current;
    struct noise_keypair *previous;
    struct noise_keypair *next;
};

/* The protocol's initial chaining key C0 = HASH(construction) and hash
 * H0 = HASH(C0 || identifier). */
extern const uint8_t noise_handshake_init_chaining_key[NOISE_HASH_LEN];
extern const uint8_t noise_handshake_init_hash[NOISE_HASH_LEN];

/* Set the local key; derives the public key. Returns 0 or -EINVAL. */
int noise_local_identity_set(struct noise_local_identity *id, const uint8_t private_key[NOISE_PUBLIC_KEY_LEN]);
void noise_local_identity_wipe(struct noise_local_identity *id);

/* Bind a handshake to its peer. DH(local, remote static) is computed at
 * the first handshake that needs it, not here. psk may be NULL. Returns 0,
 * or -EINVAL when the peer's key is of low order (the handshake can then
 * never succeed). */
int noise_handshake_init(struct noise_handshake *hs, const struct noise_local_identity *local,
                         const uint8_t remote_static[NOISE_PUBLIC_KEY_LEN],
                         const uint8_t psk[NOISE_SYMMETRIC_KEY_LEN]);
/* Forget in-flight handshake state (not the peer binding or timestamp). */
void noise_handshake_clear(struct noise_handshake *hs);
/* Wipe everything, binding included. */
void noise_handshake_wipe(struct noise_handshake *hs);

/* Initiator: message 1. Fills everything but the macs. `ephemeral` is the
 * ephemeral private key to use, NULL for a fresh random one (fixed keys are
 * for known-answer tests only). Returns 0 or -errno. */
int noise_create_initiation(struct noise_handshake *hs, struct message_handshake_initiation *dst,
                            uint32_t local_index, uint64_t realtime_ns,
                            const uint8_t ephemeral[NOISE_PUBLIC_KEY_LEN]);

/*
 * Responder: message 1, in two steps so a multi-peer device can look the
 * peer up by the decrypted static key between them.
 * Step 1 decrypts the initiator's static key into *st (a scratch state the
 * caller keeps on its stack and wipes with noise_initiation_state_wipe).
 * Step 2 finishes against the peer's handshake: returns 0, -EBADMSG
 * (authentication), -EINVAL (low order / wrong peer), -EALREADY (replayed
 * timestamp) or -EAGAIN (initiations less than 20 ms apart).
 */
struct noise_initiation_state {
    uint8_t hash[NOISE_HASH_LEN];
    uint8_t chaining_key[NOISE_HASH_LEN];
    uint8_t key[NOISE_SYMMETRIC_KEY_LEN];
    uint8_t remote_static[NOISE_PUBLIC_KEY_LEN];
    uint8_t remote_ephemeral[NOISE_PUBLIC_KEY_LEN];
};
int noise_consume_initiation_static(const struct noise_local_identity *local,
                                    const struct message_handshake_initiation *src,
                                    struct noise_initiation_state *st);
int noise_consume_initiation_finish(struct noise_handshake *hs,
                                    const struct message_handshake_initiation *src,
                                    struct noise_initiation_state *st, uint64_t now_ns);
void noise_initiation_state_wipe(struct noise_initiation_state *st);

/* Responder: message 2 (`ephemeral` as for initiations). Returns 0 or
 * -errno (-EINVAL wrong state). */
int noise_create_response(struct noise_handshake *hs, struct message_handshake_response *dst,
                          uint32_t local_index, const uint8_t ephemeral[NOISE_PUBLIC_KEY_LEN]);

/* Initiator: message 2, for the handshake whose local_index equals
 * src->receiver_index. Returns 0, -EINVAL (state), -EBADMSG. */
int noise_consume_response(struct noise_handshake *hs, const struct message_handshake_response *src);

/* After CREATED_RESPONSE or CONSUMED_RESPONSE: derive the keypair, install
 * it (initiator: current; responder: next), and clear the handshake.
 * Returns 0, -EINVAL (wrong state), -ENOMEM. */
int noise_begin_session(struct noise_handshake *hs, struct noise_keypairs *kps, uint64_t now_ns);

/* A packet authenticated under kp: if kp is the unconfirmed next keypair,
 * rotate it into current. Returns true when that happened (handshake done). */
bool noise_received_with_keypair(struct noise_keypairs *kps, struct noise_keypair *kp);

/* Find the keypair with this local index, or NULL. */
struct noise_keypair *noise_keypairs_lookup(struct noise_keypairs *kps, uint32_t local_index);
/* Drop and wipe all keypairs. */
void noise_keypairs_clear(struct noise_keypairs *kps);
/* Take / drop a reference; the last one wipes and frees (NULL ok for
 * put). Any thread; get needs a reference or the owner's lock held. */
void noise_keypair_get(struct noise_keypair *kp);
void noise_keypair_put(struct noise_keypair *kp);

/* Transport key usable for sending/receiving now? */
bool noise_keypair_can_send(const struct noise_keypair *kp, uint64_t now_ns);
bool noise_keypair_can_receive(const struct noise_keypair *kp, uint64_t now_ns);

#endif
