/* SPDX-License-Identifier: MIT */
/*
 * fuzz_common.h - fixed, reproducible protocol states for the libFuzzer
 * harnesses and for make_corpus, which writes seed inputs valid in exactly
 * those states.
 *
 * Reproducible because nothing random or timed is left: libsodium's
 * randombytes is replaced by a ChaCha20 stream from a fixed seed
 * (fuzz_rng_install, before anything calls sodium_init / wb_init), tunnels
 * run on a fake clock, and the Noise-level fixture uses the fixed keys of
 * tests/vectors/wireguard_messages.h. So a harness rebuilt from scratch
 * reaches the same bytes every time, and a crash input replays alone.
 */
#ifndef WB_TESTS_FUZZ_COMMON_H
#define WB_TESTS_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "include/wirebolt.h"
#include "proto/cookie.h"
#include "proto/messages.h"
#include "proto/noise.h"

#define FUZZ_SEED_SETUP 1        /* the RNG stream while a fixture is built */
#define FUZZ_SEED_INPUT 2        /* the RNG stream while one input runs */
#define FUZZ_BUF_LEN (MESSAGE_MAX_LEN + 64)
/* Index prefix of the FFI harness's tunnels: their first handshake is
 * FUZZ_FFI_INDEX << 8. */
#define FUZZ_FFI_INDEX 0x00c0ffeeU

/* fuzz_netlink: the port id its answers are addressed to (nlmsg_pid). */
#define FUZZ_NETLINK_PORTID 0x5eedU

/* fuzz_device: the operation codes of its input (fuzz_device.c says what
 * each takes), shared with make_corpus. */
enum fuzz_device_op {
    FUZZ_OP_UDP, FUZZ_OP_TUN, FUZZ_OP_TUN_IP, FUZZ_OP_INIT, FUZZ_OP_DATA, FUZZ_OP_INNER,
    FUZZ_OP_INDEX, FUZZ_OP_REPLAY, FUZZ_OP_TICK, FUZZ_OP_TIME, FUZZ_OP_LOAD, FUZZ_OP_LOSSY,
    FUZZ_OP_CONFIG, FUZZ_N_OPS
};

/* Deterministic randomness for libsodium (and so for all of wirebolt). */
void fuzz_rng_install(void);
void fuzz_rng_reset(uint64_t seed);
/* Abort with a message: for broken fixtures, never for fuzz inputs. */
void fuzz_die(const char *what);

/* The fake clock every fuzz tunnel runs on. */
struct fuzz_time {
    uint64_t mono, real;
};
extern struct fuzz_time fuzz_now;
extern const struct wb_clock fuzz_clock;
#define FUZZ_MONO_START (1000 * NSEC_PER_SEC)

extern const struct wb_endpoint fuzz_from_a, fuzz_from_b;

/* The vector keys: a = initiator (RFC 7748 Alice), b = responder (Bob). */
struct fuzz_keys {
    uint8_t priv_a[32], priv_b[32], pub_a[32], pub_b[32], psk[32];
    uint8_t eph_a[32], eph_b[32];
};
void fuzz_keys_load(struct fuzz_keys *k);

/*
 * Two public-API tunnels with an established session: a initiated, b
 * responded, a's keepalive confirmed it at b. The clock then stands one
 * second after the handshake (so a newer initiation is not a flood).
 */
struct fuzz_pair {
    struct wb_tunnel *a, *b;
    uint8_t init[MESSAGE_INITIATION_LEN];
    uint8_t resp[MESSAGE_RESPONSE_LEN];
    uint8_t keepalive[MESSAGE_MINIMUM_LENGTH];
};
void fuzz_pair_establish(struct fuzz_pair *p);
void fuzz_pair_destroy(struct fuzz_pair *p);
/* Sum of the counters that only move when something was accepted or sent. */
uint64_t fuzz_pair_fingerprint(struct fuzz_pair *p);
uint64_t fuzz_tunnel_drops(struct wb_tunnel *t, int reason);   /* reason < 0: all */

/*
 * The Noise-level fixture: the vector handshake (psk, fixed ephemerals,
 * fixed realtime), kept at each step so a harness can copy a state and run
 * one input against it. Must live in static storage (the handshakes point
 * at the identities).
 */
struct fuzz_noise {
    struct noise_local_identity id_i, id_r;
    struct noise_handshake hs_i_created;      /* initiator: initiation sent */
    struct noise_handshake hs_r_bound;        /* responder: nothing received yet */
    struct cookie_maker maker_i_sent;         /* initiator's maker after sending it */
    struct cookie_checker checker_i, checker_r; /* secrets fixed (WGV_COOKIE_SECRET) */
    struct noise_keypair kp_i, kp_r;          /* the session, both ends */
    uint8_t init[MESSAGE_INITIATION_LEN];
    uint8_t resp[MESSAGE_RESPONSE_LEN];
    struct wb_endpoint source;                /* 192.0.2.1:51820, as in the vectors */
};
void fuzz_noise_setup(struct fuzz_noise *n);

#endif
