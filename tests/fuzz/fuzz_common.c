/* SPDX-License-Identifier: MIT */
/*
 * fuzz_common.c - deterministic randomness, the fake clock, and the fixed
 * protocol states the harnesses and make_corpus share (fuzz_common.h).
 */
#include "fuzz_common.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
#include "vectors/wireguard_messages.h"

/* ------------------------------------------------------------ randomness */

/* Under a mutex: fuzz_device's threads (its handshake thread, the
 * harness's tunnels) draw at once. */
static pthread_mutex_t rng_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t rng_key[crypto_stream_chacha20_ietf_KEYBYTES];
static uint64_t rng_block;

/* Each request gets the keystream under its own nonce: requests of any size
 * never overlap, and the stream depends only on the seed and the order. */
static void rng_buf(void *buf, const size_t size)
{
    uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = { 0 };

    pthread_mutex_lock(&rng_lock);
    for (int i = 0; i < 8; i++)
        nonce[i] = (uint8_t)(rng_block >> (8 * i));
    rng_block++;
    crypto_stream_chacha20_ietf(buf, size, nonce, rng_key);
    pthread_mutex_unlock(&rng_lock);
}

static uint32_t rng_random(void)
{
    uint8_t b[4];

    rng_buf(b, sizeof(b));
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static const char *rng_name(void)
{
    return "wirebolt-fuzz-deterministic";
}

static void rng_stir(void)
{
}

static int rng_close(void)
{
    return 0;
}

static struct randombytes_implementation rng_impl = {
    .implementation_name = rng_name,
    .random = rng_random,
    .stir = rng_stir,
    .uniform = NULL,          /* libsodium derives it from random() */
    .buf = rng_buf,
    .close = rng_close,
};

void fuzz_rng_reset(uint64_t seed)
{
    pthread_mutex_lock(&rng_lock);
    memset(rng_key, 0, sizeof(rng_key));
    for (int i = 0; i < 8; i++)
        rng_key[i] = (uint8_t)(seed >> (8 * i));
    rng_block = 0;
    pthread_mutex_unlock(&rng_lock);
}

void fuzz_rng_install(void)
{
    fuzz_rng_reset(FUZZ_SEED_SETUP);
    if (randombytes_set_implementation(&rng_impl) != 0 || wb_init() < 0)
        fuzz_die("cannot install the deterministic RNG");
}

void fuzz_die(const char *what)
{
    fprintf(stderr, "fuzz fixture: %s\n", what);
    abort();
}

/* ------------------------------------------------------------ clock, keys */

struct fuzz_time fuzz_now = { FUZZ_MONO_START, WGV_REALTIME_NS };

static uint64_t mono(void *ctx)
{
    return ((struct fuzz_time *)ctx)->mono;
}

static uint64_t real(void *ctx)
{
    return ((struct fuzz_time *)ctx)->real;
}

const struct wb_clock fuzz_clock = { mono, real, &fuzz_now };
const struct wb_endpoint fuzz_from_a = { 4, 0, WGV_SOURCE_PORT, WGV_SOURCE_IPV4 };
const struct wb_endpoint fuzz_from_b = { 4, 0, 51820, { 198, 51, 100, 2 } };

void fuzz_keys_load(struct fuzz_keys *k)
{
    check_unhex(k->priv_a, 32, WGV_INITIATOR_STATIC_PRIVATE);
    check_unhex(k->priv_b, 32, WGV_RESPONDER_STATIC_PRIVATE);
    check_unhex(k->pub_a, 32, WGV_INITIATOR_STATIC_PUBLIC);
    check_unhex(k->pub_b, 32, WGV_RESPONDER_STATIC_PUBLIC);
    check_unhex(k->psk, 32, WGV_PRESHARED_KEY);
    check_unhex(k->eph_a, 32, WGV_INITIATOR_EPHEMERAL_PRIVATE);
    check_unhex(k->eph_b, 32, WGV_RESPONDER_EPHEMERAL_PRIVATE);
}

/* ------------------------------------------------------------ tunnel pair */

static struct wb_tunnel *tunnel_new(const uint8_t priv[32], const uint8_t peer[32],
                                    const uint8_t psk[32])
{
    struct wb_tunnel_config cfg;
    struct wb_tunnel *t = NULL;

    memset(&cfg, 0, sizeof(cfg));
    cfg.size = sizeof(cfg);
    memcpy(cfg.private_key, priv, 32);
    memcpy(cfg.peer_public_key, peer, 32);
    memcpy(cfg.preshared_key, psk, 32);
    cfg.has_preshared_key = true;
    cfg.clock = &fuzz_clock;
    if (wb_tunnel_create(&cfg, &t) < 0)
        fuzz_die("wb_tunnel_create");
    return t;
}

/* Deliver src to t and expect `op` with `size` bytes in dst (size 0: any). */
static void expect(struct wb_tunnel *t, const struct wb_endpoint *from, const uint8_t *src,
                   size_t len, uint8_t *dst, enum wb_op op, size_t size)
{
    struct wb_result r = wb_tunnel_decapsulate(t, from, src, len, dst, FUZZ_BUF_LEN);

    if (r.op != op || (size && r.size != size))
        fuzz_die("the fixed handshake did not go as planned");
}

void fuzz_pair_establish(struct fuzz_pair *p)
{
    static uint8_t buf[FUZZ_BUF_LEN];
    struct fuzz_keys k;
    struct wb_result r;

    fuzz_rng_reset(FUZZ_SEED_SETUP);
    fuzz_now.mono = FUZZ_MONO_START;
    fuzz_now.real = WGV_REALTIME_NS;
    fuzz_keys_load(&k);
    p->a = tunnel_new(k.priv_a, k.pub_b, k.psk);
    p->b = tunnel_new(k.priv_b, k.pub_a, k.psk);

    r = wb_tunnel_force_handshake(p->a, p->init, sizeof(p->init));
    if (r.op != WB_WRITE_TO_NETWORK || r.size != sizeof(p->init))
        fuzz_die("no initiation");
    expect(p->b, &fuzz_from_a, p->init, sizeof(p->init), buf, WB_WRITE_TO_NETWORK, sizeof(p->resp));
    memcpy(p->resp, buf, sizeof(p->resp));
    expect(p->b, NULL, NULL, 0, buf, WB_DONE, 0);
    expect(p->a, &fuzz_from_b, p->resp, sizeof(p->resp), buf, WB_WRITE_TO_NETWORK,
           sizeof(p->keepalive));
    memcpy(p->keepalive, buf, sizeof(p->keepalive));
    expect(p->a, NULL, NULL, 0, buf, WB_DONE, 0);
    expect(p->b, &fuzz_from_a, p->keepalive, sizeof(p->keepalive), buf, WB_DONE, 0);
    fuzz_now.mono += NSEC_PER_SEC;
    fuzz_now.real += NSEC_PER_SEC;
    sodium_memzero(&k, sizeof(k));
}

void fuzz_pair_destroy(struct fuzz_pair *p)
{
    wb_tunnel_destroy(p->a);
    wb_tunnel_destroy(p->b);
    p->a = p->b = NULL;
}

static struct wb_tunnel_stats stats_of(struct wb_tunnel *t)
{
    struct wb_tunnel_stats s;

    memset(&s, 0, sizeof(s));
    s.size = sizeof(s);
    wb_tunnel_stats(t, &s);
    return s;
}

uint64_t fuzz_pair_fingerprint(struct fuzz_pair *p)
{
    struct wb_tunnel_stats a = stats_of(p->a), b = stats_of(p->b);

    return a.tx_packets + a.rx_packets + a.handshakes_completed + b.tx_packets + b.rx_packets +
           b.handshakes_completed;
}

uint64_t fuzz_tunnel_drops(struct wb_tunnel *t, int reason)
{
    struct wb_tunnel_stats s = stats_of(t);
    uint64_t sum = 0;

    if (reason >= 0)
        return s.drops[reason];
    for (int i = 0; i < WB_DROP_REASON_COUNT; i++)
        sum += s.drops[i];
    return sum;
}

/* ------------------------------------------------------------ Noise level */

static void fixed_checker(struct cookie_checker *c, const uint8_t pub[32])
{
    cookie_checker_init(c, pub);
    check_unhex(c->secret, sizeof(c->secret), WGV_COOKIE_SECRET);
    c->secret_birthdate_ns = FUZZ_MONO_START;
    c->secret_valid = true;
}

void fuzz_noise_setup(struct fuzz_noise *n)
{
    struct fuzz_keys k;
    struct noise_handshake hs_i, hs_r;
    struct noise_initiation_state st;
    struct noise_keypairs kps_i = { 0 }, kps_r = { 0 };
    struct cookie_maker maker_r;
    static const uint8_t source[4] = WGV_SOURCE_IPV4;

    memset(n, 0, sizeof(*n));
    fuzz_keys_load(&k);
    n->source.family = 4;
    n->source.port = WGV_SOURCE_PORT;
    memcpy(n->source.addr, source, sizeof(source));
    if (noise_local_identity_set(&n->id_i, k.priv_a) < 0 || noise_local_identity_set(&n->id_r, k.priv_b) < 0 ||
        noise_handshake_init(&hs_i, &n->id_i, k.pub_b, k.psk) < 0 ||
        noise_handshake_init(&n->hs_r_bound, &n->id_r, k.pub_a, k.psk) < 0)
        fuzz_die("noise identities");
    fixed_checker(&n->checker_i, k.pub_a);
    fixed_checker(&n->checker_r, k.pub_b);
    cookie_maker_init(&n->maker_i_sent, k.pub_b);
    cookie_maker_init(&maker_r, k.pub_a);

    if (noise_create_initiation(&hs_i, (void *)n->init, WGV_INITIATOR_INDEX, WGV_REALTIME_NS, k.eph_a) < 0)
        fuzz_die("initiation");
    cookie_add_mac_to_packet(&n->maker_i_sent, n->init, sizeof(n->init), FUZZ_MONO_START);
    n->hs_i_created = hs_i;
    hs_r = n->hs_r_bound;
    if (noise_consume_initiation_static(&n->id_r, (void *)n->init, &st) < 0 ||
        noise_consume_initiation_finish(&hs_r, (void *)n->init, &st, FUZZ_MONO_START) < 0 ||
        noise_create_response(&hs_r, (void *)n->resp, WGV_RESPONDER_INDEX, k.eph_b) < 0)
        fuzz_die("responder");
    cookie_add_mac_to_packet(&maker_r, n->resp, sizeof(n->resp), FUZZ_MONO_START);
    if (noise_consume_response(&hs_i, (void *)n->resp) < 0 ||
        noise_begin_session(&hs_i, &kps_i, FUZZ_MONO_START) < 0 ||
        noise_begin_session(&hs_r, &kps_r, FUZZ_MONO_START) < 0 || !kps_i.current || !kps_r.next)
        fuzz_die("session");
    n->kp_i = *kps_i.current;
    n->kp_r = *kps_r.next;
    noise_keypairs_clear(&kps_i);
    noise_keypairs_clear(&kps_r);
    noise_initiation_state_wipe(&st);
    cookie_maker_wipe(&maker_r);
    sodium_memzero(&k, sizeof(k));
}
