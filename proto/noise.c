/* SPDX-License-Identifier: MIT */
/*
 * noise.c - the IKpsk2 handshake (whitepaper section 5.4) and keypair
 * rotation. Every function runs under the owning peer's lock (noise.h).
 * Intermediate secrets live on the stack and are wiped on every exit.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/aead.h"
#include "crypto/blake2s.h"
#include "crypto/random.h"
#include "crypto/x25519.h"
#include "proto/byteorder.h"
#include "proto/noise.h"
#include "proto/tai64n.h"

/* C0 = HASH(NOISE_CONSTRUCTION) and H0 = HASH(C0 || NOISE_IDENTIFIER): fixed
 * by the protocol, so spelled out instead of computed at start-up (no init
 * order to get wrong). tests/vectors/test_noise_vectors.c recomputes both. */
const uint8_t noise_handshake_init_chaining_key[NOISE_HASH_LEN] = {
    0x60, 0xe2, 0x6d, 0xae, 0xf3, 0x27, 0xef, 0xc0, 0x2e, 0xc3, 0x35, 0xe2, 0xa0, 0x25, 0xd2, 0xd0,
    0x16, 0xeb, 0x42, 0x06, 0xf8, 0x72, 0x77, 0xf5, 0x2d, 0x38, 0xd1, 0x98, 0x8b, 0x78, 0xcd, 0x36,
};
const uint8_t noise_handshake_init_hash[NOISE_HASH_LEN] = {
    0x22, 0x11, 0xb3, 0x61, 0x08, 0x1a, 0xc5, 0x66, 0x69, 0x12, 0x43, 0xdb, 0x45, 0x8a, 0xd5, 0x32,
    0x2d, 0x9c, 0x6c, 0x66, 0x22, 0x93, 0xe8, 0xb7, 0x0e, 0xe1, 0x9c, 0x65, 0xba, 0x07, 0x9e, 0xf3,
};

int noise_local_identity_set(struct noise_local_identity *id, const uint8_t private_key[NOISE_PUBLIC_KEY_LEN])
{
    uint8_t priv[NOISE_PUBLIC_KEY_LEN];

    memcpy(priv, private_key, sizeof(priv));
    x25519_clamp(priv);
    if (x25519_public(id->public_key, priv) < 0) {
        wb_memzero(priv, sizeof(priv));
        return -EINVAL;
    }
    memcpy(id->private_key, priv, sizeof(priv));
    wb_memzero(priv, sizeof(priv));
    id->has_identity = true;
    return 0;
}

void noise_local_identity_wipe(struct noise_local_identity *id)
{
    wb_memzero(id, sizeof(*id));
}

/* ---------------------------------------------------- symmetric state ops */

static void mix_hash(uint8_t hash[NOISE_HASH_LEN], const uint8_t *src, size_t len)
{
    struct blake2s_state st;

    blake2s_init(&st, NOISE_HASH_LEN);
    blake2s_update(&st, hash, NOISE_HASH_LEN);
    blake2s_update(&st, src, len);
    blake2s_final(&st, hash);
}

/* ck, key = KDF2(ck, DH(priv, pub)); key may be NULL (then KDF1). */
static int mix_dh(uint8_t chaining_key[NOISE_HASH_LEN], uint8_t key[NOISE_SYMMETRIC_KEY_LEN],
                  const uint8_t priv[NOISE_PUBLIC_KEY_LEN], const uint8_t pub[NOISE_PUBLIC_KEY_LEN])
{
    uint8_t dh[NOISE_PUBLIC_KEY_LEN];
    int ret = x25519(dh, priv, pub);

    if (ret == 0)
        blake2s_hkdf(chaining_key, key, NULL, dh, sizeof(dh), chaining_key);
    wb_memzero(dh, sizeof(dh));
    return ret;
}

static int mix_precomputed_dh(uint8_t chaining_key[NOISE_HASH_LEN], uint8_t key[NOISE_SYMMETRIC_KEY_LEN],
                              const uint8_t precomputed[NOISE_PUBLIC_KEY_LEN])
{
    static const uint8_t zero[NOISE_PUBLIC_KEY_LEN];

    if (wb_memcmp_ct(precomputed, zero, NOISE_PUBLIC_KEY_LEN) == 0)
        return -EINVAL;
    blake2s_hkdf(chaining_key, key, NULL, precomputed, NOISE_PUBLIC_KEY_LEN, chaining_key);
    return 0;
}

/* ck, tmp, key = KDF3(ck, psk); h = HASH(h || tmp). */
static void mix_psk(uint8_t chaining_key[NOISE_HASH_LEN], uint8_t hash[NOISE_HASH_LEN],
                    uint8_t key[NOISE_SYMMETRIC_KEY_LEN], const uint8_t psk[NOISE_SYMMETRIC_KEY_LEN])
{
    uint8_t temp_hash[NOISE_HASH_LEN];

    blake2s_hkdf(chaining_key, temp_hash, key, psk, NOISE_SYMMETRIC_KEY_LEN, chaining_key);
    mix_hash(hash, temp_hash, NOISE_HASH_LEN);
    wb_memzero(temp_hash, sizeof(temp_hash));
}

/* e: copy the ephemeral public into the message, h = HASH(h || e), ck = KDF1(ck, e). */
static void message_ephemeral(uint8_t dst[NOISE_PUBLIC_KEY_LEN], const uint8_t ephemeral[NOISE_PUBLIC_KEY_LEN],
                              uint8_t chaining_key[NOISE_HASH_LEN], uint8_t hash[NOISE_HASH_LEN])
{
    if (dst != ephemeral)
        memcpy(dst, ephemeral, NOISE_PUBLIC_KEY_LEN);
    mix_hash(hash, ephemeral, NOISE_PUBLIC_KEY_LEN);
    blake2s_hkdf(chaining_key, NULL, NULL, ephemeral, NOISE_PUBLIC_KEY_LEN, chaining_key);
}

static void message_encrypt(uint8_t *dst, const uint8_t *src, size_t len,
                            const uint8_t key[NOISE_SYMMETRIC_KEY_LEN], uint8_t hash[NOISE_HASH_LEN])
{
    aead_seal(dst, src, len, hash, NOISE_HASH_LEN, 0, key);
    mix_hash(hash, dst, NOISE_ENCRYPTED_LEN(len));
}

static int message_decrypt(uint8_t *dst, const uint8_t *src, size_t len,
                           const uint8_t key[NOISE_SYMMETRIC_KEY_LEN], uint8_t hash[NOISE_HASH_LEN])
{
    if (aead_open(dst, src, len, hash, NOISE_HASH_LEN, 0, key) < 0)
        return -EBADMSG;
    mix_hash(hash, src, len);
    return 0;
}

static void handshake_start(uint8_t chaining_key[NOISE_HASH_LEN], uint8_t hash[NOISE_HASH_LEN],
                            const uint8_t responder_static[NOISE_PUBLIC_KEY_LEN])
{
    memcpy(chaining_key, noise_handshake_init_chaining_key, NOISE_HASH_LEN);
    memcpy(hash, noise_handshake_init_hash, NOISE_HASH_LEN);
    mix_hash(hash, responder_static, NOISE_PUBLIC_KEY_LEN);
}



/* -------------------------------------------------------- handshake state */

static void new_ephemeral(uint8_t priv[NOISE_PUBLIC_KEY_LEN], const uint8_t *fixed)
{
    if (fixed) {
        memcpy(priv, fixed, NOISE_PUBLIC_KEY_LEN);
        x25519_clamp(priv);
    } else {
        x25519_generate(priv);
    }
}

int noise_handshake_init(struct noise_handshake *hs, const struct noise_local_identity *local,
                         const uint8_t remote_static[NOISE_PUBLIC_KEY_LEN],
                         const uint8_t psk[NOISE_SYMMETRIC_KEY_LEN])
{
    memset(hs, 0, sizeof(*hs));
    hs->local = local;
    memcpy(hs->remote_static, remote_static, NOISE_PUBLIC_KEY_LEN);
    if (psk)
        memcpy(hs->preshared_key, psk, NOISE_SYMMETRIC_KEY_LEN);
    /* The DH itself waits for the first handshake (precomputed_ss): with
     * 100,000 peers, configuring them must not cost 100,000 X25519s. The
     * cheap check keeps the answer for a low-order key the same. */
    if (!local->has_identity)
        return 0;
    if (x25519_is_low_order(remote_static))
        return -EINVAL;
    hs->static_static_pending = true;
    return 0;
}

/* DH(local static, remote static), computed on first use under the
 * owner's lock; zero (and handshakes fail) for a low-order peer key. */
static const uint8_t *precomputed_ss(struct noise_handshake *hs)
{
    if (hs->static_static_pending) {
        hs->static_static_pending = false;
        if (x25519(hs->precomputed_static_static, hs->local->private_key, hs->remote_static) < 0)
            memset(hs->precomputed_static_static, 0, NOISE_PUBLIC_KEY_LEN);
    }
    return hs->precomputed_static_static;
}

void noise_handshake_clear(struct noise_handshake *hs)
{
    wb_memzero(hs->ephemeral_private, sizeof(hs->ephemeral_private));
    wb_memzero(hs->remote_ephemeral, sizeof(hs->remote_ephemeral));
    wb_memzero(hs->hash, sizeof(hs->hash));
    wb_memzero(hs->chaining_key, sizeof(hs->chaining_key));
    hs->remote_index = 0;
    hs->local_index = 0;
    hs->state = HANDSHAKE_ZEROED;
}

void noise_handshake_wipe(struct noise_handshake *hs)
{
    wb_memzero(hs, sizeof(*hs));
}

int noise_create_initiation(struct noise_handshake *hs, struct message_handshake_initiation *dst,
                            uint32_t local_index, uint64_t realtime_ns,
                            const uint8_t ephemeral[NOISE_PUBLIC_KEY_LEN])
{
    uint8_t timestamp[NOISE_TIMESTAMP_LEN];
    uint8_t key[NOISE_SYMMETRIC_KEY_LEN];
    uint8_t ephemeral_public[NOISE_PUBLIC_KEY_LEN];
    int ret = -EINVAL;

    if (!hs->local || !hs->local->has_identity)
        return -EINVAL;
    memset(dst, 0, sizeof(*dst));
    store_le32(&dst->header.type, MESSAGE_HANDSHAKE_INITIATION);
    handshake_start(hs->chaining_key, hs->hash, hs->remote_static);

    /* e */
    new_ephemeral(hs->ephemeral_private, ephemeral);
    if (x25519_public(ephemeral_public, hs->ephemeral_private) < 0)
        goto out;
    message_ephemeral(dst->unencrypted_ephemeral, ephemeral_public, hs->chaining_key, hs->hash);
    /* es */
    if (mix_dh(hs->chaining_key, key, hs->ephemeral_private, hs->remote_static) < 0)
        goto out;
    /* s */
    message_encrypt(dst->encrypted_static, hs->local->public_key, NOISE_PUBLIC_KEY_LEN, key, hs->hash);
    /* ss */
    if (mix_precomputed_dh(hs->chaining_key, key, precomputed_ss(hs)) < 0)
        goto out;
    /* {t} */
    tai64n_from_realtime(timestamp, realtime_ns);
    message_encrypt(dst->encrypted_timestamp, timestamp, NOISE_TIMESTAMP_LEN, key, hs->hash);

    store_le32(&dst->sender_index, local_index);
    hs->local_index = local_index;
    hs->state = HANDSHAKE_CREATED_INITIATION;
    ret = 0;
out:
    wb_memzero(key, sizeof(key));
    if (ret)
        noise_handshake_clear(hs);
    return ret;
}

int noise_consume_initiation_static(const struct noise_local_identity *local,
                                    const struct message_handshake_initiation *src,
                                    struct noise_initiation_state *st)
{
    if (!local->has_identity)
        return -EINVAL;
    handshake_start(st->chaining_key, st->hash, local->public_key);
    /* e */
    memcpy(st->remote_ephemeral, src->unencrypted_ephemeral, NOISE_PUBLIC_KEY_LEN);
    message_ephemeral(st->remote_ephemeral, st->remote_ephemeral, st->chaining_key, st->hash);
    /* es */
    if (mix_dh(st->chaining_key, st->key, local->private_key, st->remote_ephemeral) < 0)
        return -EINVAL;
    /* s */
    return message_decrypt(st->remote_static, src->encrypted_static,
                           sizeof(src->encrypted_static), st->key, st->hash);
}

int noise_consume_initiation_finish(struct noise_handshake *hs,
                                    const struct message_handshake_initiation *src,
                                    struct noise_initiation_state *st, uint64_t now_ns)
{
    uint8_t timestamp[NOISE_TIMESTAMP_LEN];
    bool replay, flood;
    int ret;

    if (wb_memcmp_ct(st->remote_static, hs->remote_static, NOISE_PUBLIC_KEY_LEN) != 0)
        return -EINVAL;
    /* ss */
    if (mix_precomputed_dh(st->chaining_key, st->key, precomputed_ss(hs)) < 0)
        return -EINVAL;
    /* {t} */
    ret = message_decrypt(timestamp, src->encrypted_timestamp, sizeof(src->encrypted_timestamp),
                          st->key, st->hash);
    if (ret < 0)
        return ret;
    replay = !tai64n_after(timestamp, hs->latest_timestamp);
    flood = hs->last_initiation_consumption_ns &&
            now_ns < hs->last_initiation_consumption_ns + HANDSHAKE_INITIATION_RATE_NS;
    if (replay || flood) {
        wb_memzero(timestamp, sizeof(timestamp));
        return replay ? -EALREADY : -EAGAIN;
    }

    /* Success: the handshake now belongs to this initiation. */
    noise_handshake_clear(hs);
    memcpy(hs->remote_ephemeral, st->remote_ephemeral, NOISE_PUBLIC_KEY_LEN);
    memcpy(hs->latest_timestamp, timestamp, NOISE_TIMESTAMP_LEN);
    memcpy(hs->hash, st->hash, NOISE_HASH_LEN);
    memcpy(hs->chaining_key, st->chaining_key, NOISE_HASH_LEN);
    hs->remote_index = load_le32(&src->sender_index);
    hs->last_initiation_consumption_ns = now_ns;
    hs->state = HANDSHAKE_CONSUMED_INITIATION;
    wb_memzero(timestamp, sizeof(timestamp));
    return 0;
}

void noise_initiation_state_wipe(struct noise_initiation_state *st)
{
    wb_memzero(st, sizeof(*st));
}

int noise_create_response(struct noise_handshake *hs, struct message_handshake_response *dst,
                          uint32_t local_index, const uint8_t ephemeral[NOISE_PUBLIC_KEY_LEN])
{
    uint8_t key[NOISE_SYMMETRIC_KEY_LEN];
    uint8_t ephemeral_public[NOISE_PUBLIC_KEY_LEN];
    int ret = -EINVAL;

    if (hs->state != HANDSHAKE_CONSUMED_INITIATION)
        return -EINVAL;
    memset(dst, 0, sizeof(*dst));
    store_le32(&dst->header.type, MESSAGE_HANDSHAKE_RESPONSE);
    store_le32(&dst->receiver_index, hs->remote_index);

    /* e */
    new_ephemeral(hs->ephemeral_private, ephemeral);
    if (x25519_public(ephemeral_public, hs->ephemeral_private) < 0)
        goto out;
    message_ephemeral(dst->unencrypted_ephemeral, ephemeral_public, hs->chaining_key, hs->hash);
    /* ee, se */
    if (mix_dh(hs->chaining_key, NULL, hs->ephemeral_private, hs->remote_ephemeral) < 0 ||
        mix_dh(hs->chaining_key, NULL, hs->ephemeral_private, hs->remote_static) < 0)
        goto out;
    /* psk */
    mix_psk(hs->chaining_key, hs->hash, key, hs->preshared_key);
    /* {} */
    message_encrypt(dst->encrypted_nothing, NULL, 0, key, hs->hash);

    store_le32(&dst->sender_index, local_index);
    hs->local_index = local_index;
    hs->state = HANDSHAKE_CREATED_RESPONSE;
    ret = 0;
out:
    wb_memzero(key, sizeof(key));
    if (ret)
        noise_handshake_clear(hs);
    return ret;
}

int noise_consume_response(struct noise_handshake *hs, const struct message_handshake_response *src)
{
    uint8_t key[NOISE_SYMMETRIC_KEY_LEN];
    uint8_t hash[NOISE_HASH_LEN];
    uint8_t chaining_key[NOISE_HASH_LEN];
    uint8_t e[NOISE_PUBLIC_KEY_LEN];
    uint8_t nothing[1];
    int ret = -EBADMSG;

    if (hs->state != HANDSHAKE_CREATED_INITIATION || !hs->local || !hs->local->has_identity)
        return -EINVAL;
    /* Work on copies: a forged response must not disturb the pending handshake. */
    memcpy(hash, hs->hash, sizeof(hash));
    memcpy(chaining_key, hs->chaining_key, sizeof(chaining_key));
    memcpy(e, src->unencrypted_ephemeral, sizeof(e));

    message_ephemeral(e, e, chaining_key, hash);
    if (mix_dh(chaining_key, NULL, hs->ephemeral_private, e) < 0 ||
        mix_dh(chaining_key, NULL, hs->local->private_key, e) < 0) {
        ret = -EINVAL;
        goto out;
    }
    mix_psk(chaining_key, hash, key, hs->preshared_key);
    if (message_decrypt(nothing, src->encrypted_nothing, sizeof(src->encrypted_nothing), key, hash) < 0)
        goto out;

    memcpy(hs->remote_ephemeral, e, sizeof(e));
    memcpy(hs->hash, hash, sizeof(hash));
    memcpy(hs->chaining_key, chaining_key, sizeof(chaining_key));
    hs->remote_index = load_le32(&src->sender_index);
    hs->state = HANDSHAKE_CONSUMED_RESPONSE;
    ret = 0;
out:
    wb_memzero(key, sizeof(key));
    wb_memzero(hash, sizeof(hash));
    wb_memzero(chaining_key, sizeof(chaining_key));
    wb_memzero(e, sizeof(e));
    return ret;
}

/* ----------------------------------------------------------------- keypairs */

void noise_keypair_get(struct noise_keypair *kp)
{
    atomic_fetch_add_explicit(&kp->refs, 1, memory_order_relaxed);
}

/* The last reference wipes the keys. (A) acq_rel: every access by the
 * other holders happens before the wipe. */
void noise_keypair_put(struct noise_keypair *kp)
{
    if (!kp || atomic_fetch_sub_explicit(&kp->refs, 1, memory_order_acq_rel) != 1)
        return;
    wb_memzero(kp, sizeof(*kp));
    free(kp);
}

static void install_keypair(struct noise_keypairs *kps, struct noise_keypair *kp)
{
    if (kp->i_am_the_initiator) {
        /* A pending next keypair (we were responder) is older than this
         * one: it becomes previous, and the current one is dropped. */
        if (kps->next) {
            noise_keypair_put(kps->previous);
            kps->previous = kps->next;
            kps->next = NULL;
            noise_keypair_put(kps->current);
        } else {
            noise_keypair_put(kps->previous);
            kps->previous = kps->current;
        }
        kps->current = kp;
    } else {
        /* Responder: not used for sending until the initiator's first
         * packet confirms it (noise_received_with_keypair). */
        noise_keypair_put(kps->next);
        kps->next = kp;
        noise_keypair_put(kps->previous);
        kps->previous = NULL;
    }
}

int noise_begin_session(struct noise_handshake *hs, struct noise_keypairs *kps, uint64_t now_ns)
{
    struct noise_keypair *kp;
    bool initiator;

    if (hs->state != HANDSHAKE_CREATED_RESPONSE && hs->state != HANDSHAKE_CONSUMED_RESPONSE)
        return -EINVAL;
    kp = calloc(1, sizeof(*kp));
    if (!kp)
        return -ENOMEM;
    initiator = hs->state == HANDSHAKE_CONSUMED_RESPONSE;
    /* T_send(i) = first, T_recv(i) = second; the responder swaps. */
    if (initiator)
        blake2s_hkdf(kp->sending.key, kp->receiving.key, NULL, NULL, 0, hs->chaining_key);
    else
        blake2s_hkdf(kp->receiving.key, kp->sending.key, NULL, NULL, 0, hs->chaining_key);
    kp->sending.birthdate_ns = kp->receiving.birthdate_ns = now_ns;
    kp->sending.is_valid = kp->receiving.is_valid = true;
    kp->i_am_the_initiator = initiator;
    atomic_init(&kp->refs, 1);             /* the slot's */
    kp->local_index = hs->local_index;
    kp->remote_index = hs->remote_index;
    replay_init(&kp->receiving_counter);
    noise_handshake_clear(hs);
    install_keypair(kps, kp);
    return 0;
}

bool noise_received_with_keypair(struct noise_keypairs *kps, struct noise_keypair *kp)
{
    if (!kp || kp != kps->next)
        return false;
    noise_keypair_put(kps->previous);
    kps->previous = kps->current;
    kps->current = kps->next;
    kps->next = NULL;
    return true;
}

struct noise_keypair *noise_keypairs_lookup(struct noise_keypairs *kps, uint32_t local_index)
{
    struct noise_keypair *slots[3] = { kps->current, kps->previous, kps->next };

    for (int i = 0; i < 3; i++)
        if (slots[i] && slots[i]->local_index == local_index)
            return slots[i];
    return NULL;
}

void noise_keypairs_clear(struct noise_keypairs *kps)
{
    noise_keypair_put(kps->current);
    noise_keypair_put(kps->previous);
    noise_keypair_put(kps->next);
    kps->current = kps->previous = kps->next = NULL;
}

bool noise_keypair_can_send(const struct noise_keypair *kp, uint64_t now_ns)
{
    return kp && kp->sending.is_valid && now_ns < kp->sending.birthdate_ns + REJECT_AFTER_TIME_NS &&
           kp->sending_counter < REJECT_AFTER_MESSAGES;
}

bool noise_keypair_can_receive(const struct noise_keypair *kp, uint64_t now_ns)
{
    return kp && kp->receiving.is_valid && now_ns < kp->receiving.birthdate_ns + REJECT_AFTER_TIME_NS &&
           kp->receiving_counter.counter < REJECT_AFTER_MESSAGES;
}
