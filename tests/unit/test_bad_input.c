/* SPDX-License-Identifier: MIT */
/*
 * test_bad_input.c - hostile datagrams through the public API.
 *
 * A tunnel pair (a initiates, b responds) is put into each state: fresh,
 * handshake in flight (a's initiation answered by b, the response held
 * back), and established. Real messages of every type are then mutated and
 * fed to the tunnel they are addressed to: truncated to every shorter
 * length, extended by 1..16 bytes, every single bit flipped, the type byte
 * set to 0/5/255, reserved bytes set, receiver indices that name nothing,
 * flips behind a recomputed mac1 (to reach the Noise code), and 20000
 * deterministic garbage datagrams of 0..2000 bytes.
 *
 * Every one must end as WB_DONE (or a cookie reply under load), count
 * exactly one drop - of the reason that input determines, where it does -
 * authenticate nothing, deliver nothing, and leave the tunnel working: each
 * state ends with a real handshake and data in both directions.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "check.h"
#include "crypto/blake2s.h"
#include "include/wirebolt.h"
#include "proto/messages.h"
#include "proto/tunnel.h"
#include "vectors/wireguard_messages.h"

#define BUF_LEN 2048
#define KEY_LEN 32
#define INNER_LEN 64
#define DATA_LEN (MESSAGE_DATA_HEADER_LEN + INNER_LEN + NOISE_AUTHTAG_LEN)
#define MAX_EXTEND 16
#define GARBAGE_ROUNDS 20000
#define GARBAGE_MAX_LEN 2000
#define ANY_REASON (-1)
/* Where the index fields sit. The sender index of a handshake message and
 * the receiver index of a cookie reply or data message share an offset. */
#define SENDER_OFF offsetof(struct message_handshake_initiation, sender_index)
#define RECEIVER_OFF offsetof(struct message_data, key_idx)
#define RESPONSE_RECEIVER_OFF offsetof(struct message_handshake_response, receiver_index)
#define RESPONSE_EPHEMERAL_OFF offsetof(struct message_handshake_response, unencrypted_ephemeral)
_Static_assert(offsetof(struct message_handshake_cookie, receiver_index) == RECEIVER_OFF, "layout");
_Static_assert(offsetof(struct message_handshake_response, sender_index) == SENDER_OFF, "layout");

enum state { STATE_FRESH, STATE_IN_FLIGHT, STATE_ESTABLISHED };
static const char *const state_name[] = { "fresh", "in-flight", "established" };

/* ------------------------------------------------------------ fixture */

struct test_clock {
    uint64_t mono, real;
};
static struct test_clock now = { 1000 * NSEC_PER_SEC, WGV_REALTIME_NS };

static uint64_t clock_mono(void *ctx)
{
    return ((struct test_clock *)ctx)->mono;
}

static uint64_t clock_real(void *ctx)
{
    return ((struct test_clock *)ctx)->real;
}

static const struct wb_clock test_clock = { clock_mono, clock_real, &now };

static void advance(uint64_t ns)
{
    now.mono += ns;
    now.real += ns;
}

static uint8_t priv_a[KEY_LEN], priv_b[KEY_LEN], pub_a[KEY_LEN], pub_b[KEY_LEN], psk[KEY_LEN];
static uint8_t inner[INNER_LEN];
static const struct wb_endpoint from_a = { 4, 0, 51820, { 192, 0, 2, 1 } };
static const struct wb_endpoint from_b = { 4, 0, 51820, { 198, 51, 100, 2 } };

static struct wb_tunnel *tunnel_new(const uint8_t priv[KEY_LEN], const uint8_t peer[KEY_LEN])
{
    struct wb_tunnel_config cfg;
    struct wb_tunnel *t = NULL;

    memset(&cfg, 0, sizeof(cfg));
    cfg.size = sizeof(cfg);
    memcpy(cfg.private_key, priv, KEY_LEN);
    memcpy(cfg.peer_public_key, peer, KEY_LEN);
    memcpy(cfg.preshared_key, psk, KEY_LEN);
    cfg.has_preshared_key = true;
    cfg.clock = &test_clock;
    CHECK(wb_tunnel_create(&cfg, &t) == 0);
    if (!t)
        abort();
    tunnel_debug_disable_jitter(t);
    return t;
}

static struct wb_tunnel_stats stats_of(struct wb_tunnel *t)
{
    struct wb_tunnel_stats s;

    memset(&s, 0, sizeof(s));
    s.size = sizeof(s);
    CHECK(wb_tunnel_stats(t, &s) == 0);
    return s;
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* mac1 = MAC(HASH("mac1----" || receiver public), msg up to mac1); mac2 zero. */
static void remac(uint8_t *msg, size_t len, const uint8_t receiver_pub[KEY_LEN])
{
    uint8_t label_key[sizeof(LABEL_MAC1) - 1 + KEY_LEN], key[KEY_LEN];

    memcpy(label_key, LABEL_MAC1, sizeof(LABEL_MAC1) - 1);
    memcpy(label_key + sizeof(LABEL_MAC1) - 1, receiver_pub, KEY_LEN);
    blake2s(key, KEY_LEN, label_key, sizeof(label_key), NULL, 0);
    blake2s(msg + len - sizeof(struct message_macs), COOKIE_LEN, msg,
            len - sizeof(struct message_macs), key, KEY_LEN);
    memset(msg + len - COOKIE_LEN, 0, COOKIE_LEN);
}

/* ----------------------------------------------------------- scenario */

struct scenario {
    enum state state;
    struct wb_tunnel *a, *b;
    uint8_t init[MESSAGE_INITIATION_LEN];     /* from a, for b */
    uint8_t cookie[MESSAGE_COOKIE_LEN];       /* from b (under load), for a */
    uint8_t resp[MESSAGE_RESPONSE_LEN];       /* from b, for a */
    uint8_t data[DATA_LEN];                   /* from a, for b */
    bool a_in_flight;                         /* a waits for `resp` */
    uint32_t a_handshake_index;
};

static size_t call(struct wb_tunnel *t, const struct wb_endpoint *from, const uint8_t *src,
                   size_t len, uint8_t *dst, enum wb_op want)
{
    struct wb_result r = wb_tunnel_decapsulate(t, from, src, len, dst, BUF_LEN);

    CHECK(r.op == want);
    return r.size;
}

/* a initiates; b answers once with a cookie (under load), once with a response. */
static void capture_handshake(struct scenario *s)
{
    uint8_t buf[BUF_LEN];
    struct wb_result r = wb_tunnel_force_handshake(s->a, buf, sizeof(buf));

    CHECK(r.op == WB_WRITE_TO_NETWORK && r.size == MESSAGE_INITIATION_LEN);
    memcpy(s->init, buf, sizeof(s->init));
    wb_tunnel_set_under_load(s->b, true);
    CHECK(call(s->b, &from_a, s->init, sizeof(s->init), buf, WB_WRITE_TO_NETWORK) == MESSAGE_COOKIE_LEN);
    memcpy(s->cookie, buf, sizeof(s->cookie));
    wb_tunnel_set_under_load(s->b, false);
    CHECK(call(s->b, &from_a, s->init, sizeof(s->init), buf, WB_WRITE_TO_NETWORK) == MESSAGE_RESPONSE_LEN);
    memcpy(s->resp, buf, sizeof(s->resp));
    call(s->b, NULL, NULL, 0, buf, WB_DONE);
    s->a_in_flight = true;
    s->a_handshake_index = get_le32(s->init + SENDER_OFF);
}

/* a takes the response and confirms with a keepalive, which b takes. */
static void complete_handshake(struct scenario *s)
{
    uint8_t keepalive[BUF_LEN], out[BUF_LEN];
    size_t n = call(s->a, &from_b, s->resp, sizeof(s->resp), keepalive, WB_WRITE_TO_NETWORK);

    CHECK(n == MESSAGE_MINIMUM_LENGTH);
    call(s->a, NULL, NULL, 0, out, WB_DONE);
    call(s->b, &from_a, keepalive, n, out, WB_DONE);
    s->a_in_flight = false;
}

static void capture_data(struct scenario *s)
{
    struct wb_result r = wb_tunnel_encapsulate(s->a, inner, sizeof(inner), s->data, sizeof(s->data));

    CHECK(r.op == WB_WRITE_TO_NETWORK && r.size == DATA_LEN);
}

static void scenario_free(struct scenario *s)
{
    wb_tunnel_destroy(s->a);
    wb_tunnel_destroy(s->b);
    s->a = s->b = NULL;
}

/*
 * fresh: the victims are new tunnels, the messages come from another pair
 * with the same keys (so mac1 is right for the victims). in-flight: b has
 * answered a's initiation; a has not seen the answer. established: both
 * confirmed; the data message is a's next packet, not yet delivered.
 */
static void scenario_build(struct scenario *s, enum state st)
{
    memset(s, 0, sizeof(*s));
    s->state = st;
    s->a = tunnel_new(priv_a, pub_b);
    s->b = tunnel_new(priv_b, pub_a);
    if (st == STATE_FRESH) {
        struct scenario ref;

        scenario_build(&ref, STATE_ESTABLISHED);
        memcpy(s->init, ref.init, sizeof(s->init));
        memcpy(s->cookie, ref.cookie, sizeof(s->cookie));
        memcpy(s->resp, ref.resp, sizeof(s->resp));
        memcpy(s->data, ref.data, sizeof(s->data));
        scenario_free(&ref);
        s->state = STATE_FRESH;
        return;
    }
    capture_handshake(s);
    if (st == STATE_IN_FLIGHT) {
        struct scenario ref;

        /* Data under a session b does not know. */
        scenario_build(&ref, STATE_ESTABLISHED);
        memcpy(s->data, ref.data, sizeof(s->data));
        scenario_free(&ref);
        s->state = STATE_IN_FLIGHT;
        return;
    }
    complete_handshake(s);
    capture_data(s);
}

/* Does idx name something live in the victim (a keypair, or a's pending handshake)? */
static bool index_live(const struct scenario *s, struct wb_tunnel *t, uint32_t idx)
{
    uint32_t cur, prev, next;

    tunnel_debug_keypair_indices(t, &cur, &prev, &next);
    if (t == s->a && s->a_in_flight && idx == s->a_handshake_index)
        return true;
    return idx && (idx == cur || idx == prev || idx == next);
}

/* ------------------------------------------------------------ feeding */

static unsigned long fed;

static void report(bool ok, const char *fmt, ...)
{
    char what[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    check_record(ok, what, __FILE__, __LINE__);
}

/*
 * Feed one bad datagram; want_reason is the drop it must count (ANY_REASON:
 * exactly one drop, reason not fixed by the input). want_cookie: a cookie
 * reply is the answer (under load).
 */
static void feed(struct wb_tunnel *t, const struct wb_endpoint *from, const uint8_t *msg, size_t len,
                 bool under_load, int want_reason, bool want_cookie, const char *what)
{
    struct wb_tunnel_stats before = stats_of(t), after;
    uint8_t dst[BUF_LEN];
    struct wb_result r, d = { WB_DONE, 0, 0 };
    uint64_t total = 0;
    int changed = -1;
    bool ok;

    wb_tunnel_set_under_load(t, under_load);
    r = wb_tunnel_decapsulate(t, from, msg, len, dst, sizeof(dst));
    wb_tunnel_set_under_load(t, false);
    if (r.op == WB_WRITE_TO_NETWORK)
        d = wb_tunnel_decapsulate(t, from, NULL, 0, dst + BUF_LEN / 2, BUF_LEN / 2);
    after = stats_of(t);
    for (int i = 0; i < WB_DROP_REASON_COUNT; i++) {
        total += after.drops[i] - before.drops[i];
        if (after.drops[i] != before.drops[i])
            changed = i;
    }
    ok = total == 1 && (want_reason == ANY_REASON || changed == want_reason) && d.op == WB_DONE &&
         after.rx_packets == before.rx_packets && after.rx_bytes == before.rx_bytes &&
         after.handshakes_completed == before.handshakes_completed;
    if (want_cookie)
        ok = ok && r.op == WB_WRITE_TO_NETWORK && r.size == MESSAGE_COOKIE_LEN &&
             dst[0] == MESSAGE_HANDSHAKE_COOKIE && memcmp(dst + RECEIVER_OFF, msg + SENDER_OFF, 4) == 0;
    else
        ok = ok && r.op == WB_DONE && after.tx_packets == before.tx_packets;
    report(ok, "%s (len %zu, load %d): op %d size %zu, %llu drops, last reason %d, want %d", what, len,
           under_load, (int)r.op, r.size, (unsigned long long)total, changed, want_reason);
    fed++;
}

/* len 0 is the drain call, not a datagram: nothing owed, nothing dropped. */
static void feed_drain(struct wb_tunnel *t, const char *what)
{
    struct wb_tunnel_stats before = stats_of(t), after;
    uint8_t dst[BUF_LEN];
    struct wb_result r = wb_tunnel_decapsulate(t, NULL, NULL, 0, dst, sizeof(dst));

    after = stats_of(t);
    report(r.op == WB_DONE && memcmp(before.drops, after.drops, sizeof(before.drops)) == 0,
           "%s: drain op %d", what, (int)r.op);
}

/* The data-path reason for a type-4 message with receiver index idx. */
static int data_reason(const struct scenario *s, struct wb_tunnel *t, uint32_t idx)
{
    return index_live(s, t, idx) ? WB_DROP_DECRYPT_FAILED : WB_DROP_UNKNOWN_INDEX;
}

/* A cookie reply for a live index fails to decrypt; for any other, nobody asked. */
static int cookie_reason(const struct scenario *s, struct wb_tunnel *t, uint32_t idx)
{
    return index_live(s, t, idx) ? WB_DROP_UNEXPECTED_RESPONSE : WB_DROP_UNKNOWN_INDEX;
}

/* A message of one type, whom it is for, and how its bytes map to drop reasons. */
struct kind {
    const char *name;
    const uint8_t *msg;
    size_t len;
    struct wb_tunnel *to;
    const struct wb_endpoint *from;
    enum message_type type;
};

/* Drop reason for msg (a mutation of k) of length len, or ANY_REASON. */
static int reason_for(const struct scenario *s, const struct kind *k, const uint8_t *msg, size_t len)
{
    if (len < 4 || msg[1] || msg[2] || msg[3] || msg[0] != k->type)
        return WB_DROP_MALFORMED;
    if (k->type == MESSAGE_DATA)
        return len < MESSAGE_MINIMUM_LENGTH ? WB_DROP_MALFORMED : data_reason(s, k->to, get_le32(msg + RECEIVER_OFF));
    if (len != k->len)
        return WB_DROP_MALFORMED;
    if (k->type == MESSAGE_HANDSHAKE_COOKIE)
        return cookie_reason(s, k->to, get_le32(msg + RECEIVER_OFF));
    return WB_DROP_BAD_MAC1;   /* handshakes: anything that changes bytes before mac2 */
}

static void test_lengths(const struct scenario *s, const struct kind *k)
{
    uint8_t buf[MESSAGE_INITIATION_LEN + MAX_EXTEND];
    char what[96];

    snprintf(what, sizeof(what), "%s %s truncated to 0", state_name[s->state], k->name);
    feed_drain(k->to, what);
    for (size_t len = 1; len < k->len; len++) {
        snprintf(what, sizeof(what), "%s %s truncated", state_name[s->state], k->name);
        feed(k->to, k->from, k->msg, len, false, reason_for(s, k, k->msg, len), false, what);
    }
    memcpy(buf, k->msg, k->len);
    for (size_t extra = 1; extra <= MAX_EXTEND; extra++) {
        buf[k->len + extra - 1] = (uint8_t)(0xa5 ^ extra);
        snprintf(what, sizeof(what), "%s %s extended by %zu", state_name[s->state], k->name, extra);
        feed(k->to, k->from, buf, k->len + extra, false, reason_for(s, k, buf, k->len + extra), false,
             what);
    }
}

static void test_header(const struct scenario *s, const struct kind *k)
{
    static const uint8_t bad_types[] = { 0, 5, 255 };
    static const uint8_t reserved[] = { 0x01, 0x80, 0xff };
    uint8_t buf[MESSAGE_INITIATION_LEN];
    char what[96];

    for (size_t i = 0; i < sizeof(bad_types); i++) {
        memcpy(buf, k->msg, k->len);
        buf[0] = bad_types[i];
        snprintf(what, sizeof(what), "%s %s type %u", state_name[s->state], k->name, bad_types[i]);
        feed(k->to, k->from, buf, k->len, false, WB_DROP_MALFORMED, false, what);
    }
    for (int byte = 1; byte < 4; byte++) {
        for (size_t i = 0; i < sizeof(reserved); i++) {
            memcpy(buf, k->msg, k->len);
            buf[byte] = reserved[i];
            snprintf(what, sizeof(what), "%s %s reserved[%d]=%#x", state_name[s->state], k->name,
                     byte, reserved[i]);
            feed(k->to, k->from, buf, k->len, false, WB_DROP_MALFORMED, false, what);
        }
    }
}

/* Flipped bit in mac2: not checked unless under load, where it earns a
 * cookie reply; without load the message is the original, whose fate
 * depends on the state (NULL want: it would be accepted, so skip). */
static void feed_mac2_flip(const struct scenario *s, const struct kind *k, const uint8_t *buf,
                           const char *what)
{
    int unloaded = -2;

    feed(k->to, k->from, buf, k->len, true, WB_DROP_COOKIE_REQUIRED, true, what);
    if (k->type == MESSAGE_HANDSHAKE_INITIATION && s->state != STATE_FRESH)
        unloaded = WB_DROP_REPLAYED_TIMESTAMP;    /* b took this initiation already */
    if (k->type == MESSAGE_HANDSHAKE_RESPONSE && !s->a_in_flight)
        unloaded = WB_DROP_UNEXPECTED_RESPONSE;
    if (unloaded != -2)
        feed(k->to, k->from, buf, k->len, false, unloaded, false, what);
}

static void test_bit_flips(const struct scenario *s, const struct kind *k)
{
    uint8_t buf[MESSAGE_INITIATION_LEN];
    char what[96];
    bool handshake = k->type == MESSAGE_HANDSHAKE_INITIATION || k->type == MESSAGE_HANDSHAKE_RESPONSE;

    for (size_t bit = 0; bit < k->len * 8; bit++) {
        memcpy(buf, k->msg, k->len);
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        snprintf(what, sizeof(what), "%s %s bit %zu flipped", state_name[s->state], k->name, bit);
        if (handshake && bit / 8 >= k->len - COOKIE_LEN)
            feed_mac2_flip(s, k, buf, what);
        else
            feed(k->to, k->from, buf, k->len, false, reason_for(s, k, buf, k->len), false, what);
    }
}

/* Flips behind a valid mac1: they reach the Noise code, which must refuse them. */
static void test_deep_flips(const struct scenario *s, const struct kind *k, const uint8_t *to_pub)
{
    size_t first = SENDER_OFF + 4;   /* after the sender index: changing that one is harmless */
    size_t end = k->len - sizeof(struct message_macs);
    uint8_t buf[MESSAGE_INITIATION_LEN];
    char what[96];
    int want;

    for (size_t bit = first * 8; bit < end * 8; bit++) {
        memcpy(buf, k->msg, k->len);
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        remac(buf, k->len, to_pub);
        if (k->type == MESSAGE_HANDSHAKE_INITIATION)
            want = WB_DROP_HANDSHAKE_FAILED;
        else if (!s->a_in_flight)
            want = WB_DROP_UNEXPECTED_RESPONSE;
        else
            want = bit / 8 < RESPONSE_EPHEMERAL_OFF ? WB_DROP_UNKNOWN_INDEX : WB_DROP_HANDSHAKE_FAILED;
        snprintf(what, sizeof(what), "%s %s bit %zu flipped, mac1 recomputed", state_name[s->state],
                 k->name, bit);
        feed(k->to, k->from, buf, k->len, false, want, false, what);
    }
}

/* A receiver index that names nothing in the victim. */
static void test_unknown_index(const struct scenario *s, const struct kind *k)
{
    uint8_t buf[MESSAGE_INITIATION_LEN];
    size_t off = k->type == MESSAGE_HANDSHAKE_RESPONSE ? RESPONSE_RECEIVER_OFF : RECEIVER_OFF;
    uint32_t idx = get_le32(k->msg + off);
    char what[96];
    int want;

    if (k->type == MESSAGE_HANDSHAKE_INITIATION)
        return;                      /* it has no receiver index */
    do
        idx = idx * 2654435761u + 1;
    while (index_live(s, k->to, idx));
    memcpy(buf, k->msg, k->len);
    put_le32(buf + off, idx);
    want = WB_DROP_UNKNOWN_INDEX;
    if (k->type == MESSAGE_HANDSHAKE_RESPONSE) {
        remac(buf, k->len, pub_a);
        if (!s->a_in_flight)
            want = WB_DROP_UNEXPECTED_RESPONSE;
    }
    snprintf(what, sizeof(what), "%s %s unknown index %#x", state_name[s->state], k->name, idx);
    feed(k->to, k->from, buf, k->len, false, want, false, what);
}

/* ------------------------------------------------------------ garbage */

static uint64_t rng_state = 0x5eed0fba5e1f00dULL;

static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Random bytes; every other one shaped like a message (right type and
 * length, sometimes a live index) so it gets past the classifier. */
static void test_garbage(const struct scenario *s)
{
    static const size_t shaped_len[] = { 0, MESSAGE_INITIATION_LEN, MESSAGE_RESPONSE_LEN,
                                         MESSAGE_COOKIE_LEN, 0 };
    uint8_t buf[GARBAGE_MAX_LEN];
    char what[96];

    for (int round = 0; round < GARBAGE_ROUNDS; round++) {
        struct wb_tunnel *t = round & 1 ? s->a : s->b;
        size_t len = (size_t)(rng() % (GARBAGE_MAX_LEN + 1));
        int want = ANY_REASON;
        bool load = rng() % 4 == 0;
        uint32_t cur, prev, next;

        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)rng();
        if (round % 4 >= 2) {
            uint8_t type = (uint8_t)(1 + rng() % 4);

            len = shaped_len[type] ? shaped_len[type] : MESSAGE_MINIMUM_LENGTH + len % 1500;
            memset(buf, 0, 4);
            buf[0] = type;
            tunnel_debug_keypair_indices(t, &cur, &prev, &next);
            if (type == MESSAGE_DATA && round % 8 >= 6 && (cur || next))
                put_le32(buf + RECEIVER_OFF, cur ? cur : next);
            if (type == MESSAGE_DATA)
                want = data_reason(s, t, get_le32(buf + RECEIVER_OFF));
            else if (type == MESSAGE_HANDSHAKE_COOKIE)
                want = cookie_reason(s, t, get_le32(buf + RECEIVER_OFF));
            else
                want = WB_DROP_BAD_MAC1;
        }
        snprintf(what, sizeof(what), "%s garbage round %d", state_name[s->state], round);
        if (len == 0)
            feed_drain(t, what);
        else
            feed(t, t == s->a ? &from_b : &from_a, buf, len, load, want, false, what);
    }
}

/* ----------------------------------------------------- still working? */

/* One end of the wire: its tunnel, the source its datagrams arrive from, what it got. */
struct side {
    struct wb_tunnel *t;
    const struct wb_endpoint *from;
    int delivered;          /* inner packets, each checked against `inner` */
};

/* Deliver msg to `to` and keep answering back and forth until quiet. */
static void pump(struct side *to, struct side *other, const uint8_t *msg, size_t len)
{
    uint8_t dst[BUF_LEN];
    struct wb_result r = wb_tunnel_decapsulate(to->t, to->from, msg, len, dst, sizeof(dst));

    for (int steps = 0; r.op != WB_DONE && steps < 64; steps++) {
        if (r.op == WB_WRITE_TO_TUNNEL_IPV4) {
            to->delivered++;
            CHECK(r.size == INNER_LEN && memcmp(dst, inner, INNER_LEN) == 0);
            return;
        }
        CHECK(r.op == WB_WRITE_TO_NETWORK);
        if (r.op != WB_WRITE_TO_NETWORK)
            return;
        pump(other, to, dst, r.size);
        r = wb_tunnel_decapsulate(to->t, NULL, NULL, 0, dst, sizeof(dst));
    }
    CHECK(r.op == WB_DONE);
}

/* a -> b and b -> a, one inner packet each, through whatever handshake that takes. */
static void exchange(struct scenario *s)
{
    struct side a = { s->a, &from_b, 0 }, b = { s->b, &from_a, 0 };
    uint8_t dst[BUF_LEN];
    struct wb_result r = wb_tunnel_encapsulate(s->a, inner, sizeof(inner), dst, sizeof(dst));

    CHECK(r.op == WB_WRITE_TO_NETWORK);
    pump(&b, &a, dst, r.size);
    r = wb_tunnel_encapsulate(s->b, inner, sizeof(inner), dst, sizeof(dst));
    CHECK(r.op == WB_WRITE_TO_NETWORK);
    pump(&a, &b, dst, r.size);
    report(a.delivered == 1 && b.delivered == 1, "%s: still works (a got %d, b got %d)",
           state_name[s->state], a.delivered, b.delivered);
}

static void check_still_works(struct scenario *s)
{
    uint8_t dst[BUF_LEN];
    uint64_t hs_a = stats_of(s->a).handshakes_completed, hs_b = stats_of(s->b).handshakes_completed;
    struct wb_result r;

    if (s->state == STATE_IN_FLIGHT) {
        complete_handshake(s);       /* the held-back response still completes it */
        hs_a++, hs_b++;
    }
    if (s->state == STATE_ESTABLISHED) {
        r = wb_tunnel_decapsulate(s->b, &from_a, s->data, sizeof(s->data), dst, sizeof(dst));
        CHECK(r.op == WB_WRITE_TO_TUNNEL_IPV4 && r.size == INNER_LEN);
    }
    if (s->state == STATE_FRESH)
        hs_a++, hs_b++;
    exchange(s);
    CHECK(stats_of(s->a).handshakes_completed == hs_a);
    CHECK(stats_of(s->b).handshakes_completed == hs_b);

    /* And a fresh handshake on top (a second later: past the flood limit). */
    advance(NSEC_PER_SEC);
    r = wb_tunnel_force_handshake(s->a, dst, sizeof(dst));
    CHECK(r.op == WB_WRITE_TO_NETWORK && r.size == MESSAGE_INITIATION_LEN);
    {
        struct side a = { s->a, &from_b, 0 }, b = { s->b, &from_a, 0 };

        pump(&b, &a, dst, r.size);
    }
    exchange(s);
    CHECK(stats_of(s->a).handshakes_completed == hs_a + 1);
    CHECK(stats_of(s->b).handshakes_completed == hs_b + 1);
}

/* ---------------------------------------------------------------- main */

static void test_state(enum state st)
{
    struct scenario s;
    unsigned long before = fed;

    scenario_build(&s, st);
    {
        const struct kind kinds[] = {
            { "initiation", s.init, sizeof(s.init), s.b, &from_a, MESSAGE_HANDSHAKE_INITIATION },
            { "response", s.resp, sizeof(s.resp), s.a, &from_b, MESSAGE_HANDSHAKE_RESPONSE },
            { "cookie", s.cookie, sizeof(s.cookie), s.a, &from_b, MESSAGE_HANDSHAKE_COOKIE },
            { "data", s.data, sizeof(s.data), s.b, &from_a, MESSAGE_DATA },
        };

        for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
            test_lengths(&s, &kinds[i]);
            test_header(&s, &kinds[i]);
            test_bit_flips(&s, &kinds[i]);
            test_unknown_index(&s, &kinds[i]);
        }
        test_deep_flips(&s, &kinds[0], pub_b);
        test_deep_flips(&s, &kinds[1], pub_a);
        /* Each handshake message to the wrong tunnel: mac1 is keyed to the other one. */
        feed(s.a, &from_a, s.init, sizeof(s.init), false, WB_DROP_BAD_MAC1, false, "initiation to a");
        feed(s.b, &from_b, s.resp, sizeof(s.resp), false, WB_DROP_BAD_MAC1, false, "response to b");
    }
    test_garbage(&s);
    printf("%s: %lu bad datagrams fed\n", state_name[st], fed - before);
    check_still_works(&s);
    scenario_free(&s);
}

int main(void)
{
    int ret = wb_init();

    if (ret < 0 && ret != -ENOENT && ret != -ENOTSUP)
        return 1;
    check_unhex(priv_a, KEY_LEN, WGV_INITIATOR_STATIC_PRIVATE);
    check_unhex(priv_b, KEY_LEN, WGV_RESPONDER_STATIC_PRIVATE);
    check_unhex(pub_a, KEY_LEN, WGV_INITIATOR_STATIC_PUBLIC);
    check_unhex(pub_b, KEY_LEN, WGV_RESPONDER_STATIC_PUBLIC);
    check_unhex(psk, KEY_LEN, WGV_PRESHARED_KEY);
    check_unhex(inner, INNER_LEN, WGV_INNER_IPV4);
    test_state(STATE_FRESH);
    test_state(STATE_IN_FLIGHT);
    test_state(STATE_ESTABLISHED);
    return check_summary();
}
