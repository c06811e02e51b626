/* SPDX-License-Identifier: MIT */
/*
 * tunnel_harness.h - two wb_tunnel objects in one process, talking over a
 * simulated wire, on a fake clock. Shared by the test_tunnel_*.c programs.
 *
 * What it gives a test:
 *   - a fake clock (monotonic + realtime) that only moves when the test
 *     advances it; the monotonic clock starts at 1000 s, not 0;
 *   - a pair of tunnels "a" and "b" (fresh keys, optional psk per side,
 *     persistent keepalive, mtu, jitter on or off) wired to that clock;
 *   - a wire: every datagram a side emits is recorded in side->sent and,
 *     unless the side's output is cut, queued in the other side's inbox;
 *     th_run() delivers queued datagrams (decapsulate from the sender's
 *     endpoint, then the drain loop: decapsulate with len 0 after any
 *     WB_WRITE_TO_NETWORK until WB_DONE) until nothing is in flight;
 *   - every IP packet a side hands to its "tun" recorded in side->got;
 *   - tick helpers (advance, tick a, tick b, run the wire) and counters of
 *     what was sent, by message type and length;
 *   - builders of minimal valid IPv4/IPv6 packets whose length fields are
 *     right and whose payload is a pattern derived from a sequence number.
 *
 * Static inline functions only; failures of the harness itself (out of
 * memory, a tunnel that cannot be created) abort: they are not test results.
 */
#ifndef WB_TESTS_TUNNEL_HARNESS_H
#define WB_TESTS_TUNNEL_HARNESS_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "include/wirebolt.h"
#include "proto/messages.h"
#include "proto/tunnel.h"

#define TH_MONO_START_NS (1000ULL * NSEC_PER_SEC)
#define TH_REAL_START_NS (1700000000ULL * NSEC_PER_SEC)   /* a whole second */
#define TH_TICK_NS (100ULL * NSEC_PER_MSEC)
#define TH_BUF_LEN (MESSAGE_MAX_LEN + 256)
#define TH_MAX_STEPS_PER_RUN 100000

/* ------------------------------------------------------------ fake clock */

struct th_clock {
    uint64_t mono_ns;
    uint64_t real_ns;
};

static inline uint64_t th_clock_mono(void *ctx)
{
    return ((const struct th_clock *)ctx)->mono_ns;
}

static inline uint64_t th_clock_real(void *ctx)
{
    return ((const struct th_clock *)ctx)->real_ns;
}

static inline void th_clock_advance(struct th_clock *c, uint64_t ns)
{
    c->mono_ns += ns;
    c->real_ns += ns;
}

/* ------------------------------------------------------- recorded items */

struct th_msg {
    uint8_t *data;        /* exactly len bytes, heap (ASan sees overreads) */
    size_t len;
    uint64_t t_ns;        /* fake monotonic time it was emitted */
    enum wb_op op;        /* WB_WRITE_TO_NETWORK or WB_WRITE_TO_TUNNEL_IPV4/6 */
};

struct th_list {
    struct th_msg *items;
    size_t n, cap;
};

static inline void *th_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (!p) {
        fprintf(stderr, "tunnel_harness: out of memory\n");
        abort();
    }
    return p;
}

static inline void th_list_push(struct th_list *l, const uint8_t *d, size_t len, uint64_t t,
                                enum wb_op op)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        struct th_msg *items = realloc(l->items, cap * sizeof(*items));

        if (!items) {
            fprintf(stderr, "tunnel_harness: out of memory\n");
            abort();
        }
        l->items = items;
        l->cap = cap;
    }
    l->items[l->n].data = th_xmalloc(len);
    if (len)
        memcpy(l->items[l->n].data, d, len);
    l->items[l->n].len = len;
    l->items[l->n].t_ns = t;
    l->items[l->n].op = op;
    l->n++;
}

static inline void th_list_free(struct th_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i].data);
    free(l->items);
    memset(l, 0, sizeof(*l));
}

/* Field offsets in the wire messages (proto/messages.h structs). */
#define TH_DATA_INDEX_OFF offsetof(struct message_data, key_idx)
#define TH_DATA_COUNTER_OFF offsetof(struct message_data, counter)
#define TH_INIT_SENDER_OFF offsetof(struct message_handshake_initiation, sender_index)
#define TH_INIT_MAC2_OFF offsetof(struct message_handshake_initiation, macs.mac2)
#define TH_COOKIE_RECEIVER_OFF offsetof(struct message_handshake_cookie, receiver_index)
#define TH_COOKIE_NONCE_OFF offsetof(struct message_handshake_cookie, nonce)
#define TH_COOKIE_SEALED_OFF offsetof(struct message_handshake_cookie, encrypted_cookie)

/* Message type of a recorded datagram (0 if too short). */
static inline unsigned th_type(const struct th_msg *m)
{
    return m->len >= 4 ? m->data[0] : 0;
}

static inline bool th_is_keepalive(const struct th_msg *m)
{
    return th_type(m) == MESSAGE_DATA && m->len == MESSAGE_MINIMUM_LENGTH;
}

static inline bool th_is_data(const struct th_msg *m)
{
    return th_type(m) == MESSAGE_DATA && m->len > MESSAGE_MINIMUM_LENGTH;
}

/* How many items from index `from` on have this message type. */
static inline size_t th_count_type(const struct th_list *l, size_t from, unsigned type)
{
    size_t n = 0;

    for (size_t i = from; i < l->n; i++)
        n += th_type(&l->items[i]) == type;
    return n;
}

static inline size_t th_count_keepalives(const struct th_list *l, size_t from)
{
    size_t n = 0;

    for (size_t i = from; i < l->n; i++)
        n += th_is_keepalive(&l->items[i]);
    return n;
}

static inline size_t th_count_data(const struct th_list *l, size_t from)
{
    size_t n = 0;

    for (size_t i = from; i < l->n; i++)
        n += th_is_data(&l->items[i]);
    return n;
}

/* Index of the first item from `from` on with this type, or l->n. */
static inline size_t th_find_type(const struct th_list *l, size_t from, unsigned type)
{
    size_t i;

    for (i = from; i < l->n; i++)
        if (th_type(&l->items[i]) == type)
            break;
    return i;
}

static inline size_t th_sum_len(const struct th_list *l, size_t from)
{
    size_t n = 0;

    for (size_t i = from; i < l->n; i++)
        n += l->items[i].len;
    return n;
}

static inline uint64_t th_le64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Counter field of a data message. */
static inline uint64_t th_counter(const uint8_t *msg)
{
    return th_le64(msg + TH_DATA_COUNTER_OFF);
}

static inline uint32_t th_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ------------------------------------------------------------ IP packets */

/* Payload byte i of packet `seq`. */
static inline uint8_t th_pattern(uint32_t seq, size_t i)
{
    return (uint8_t)(seq * 131u + i * 7u + (i >> 8));
}

/* An IPv4 packet of exactly len (>= 20) bytes: IHL 5, total length = len,
 * TTL 64, protocol 253 (experimentation), 10.0.0.1 -> 10.0.0.2; the
 * identification field and the first payload bytes carry seq. */
static inline void th_ipv4(uint8_t *buf, size_t len, uint32_t seq)
{
    memset(buf, 0, 20);
    buf[0] = 0x45;
    buf[2] = (uint8_t)(len >> 8);
    buf[3] = (uint8_t)len;
    buf[4] = (uint8_t)(seq >> 8);
    buf[5] = (uint8_t)seq;
    buf[8] = 64;
    buf[9] = 253;
    buf[12] = 10, buf[15] = 1;
    buf[16] = 10, buf[19] = 2;
    for (size_t i = 20; i < len; i++)
        buf[i] = th_pattern(seq, i);
    if (len >= 24) {
        buf[20] = (uint8_t)(seq >> 24);
        buf[21] = (uint8_t)(seq >> 16);
        buf[22] = (uint8_t)(seq >> 8);
        buf[23] = (uint8_t)seq;
    }
}

/* An IPv6 packet of exactly len (>= 40) bytes: payload length = len - 40,
 * next header 253, hop limit 64, fd00::1 -> fd00::2; the flow label and the
 * first payload bytes carry seq. */
static inline void th_ipv6(uint8_t *buf, size_t len, uint32_t seq)
{
    size_t payload = len - 40;

    memset(buf, 0, 40);
    buf[0] = 0x60;
    buf[1] = (uint8_t)((seq >> 16) & 0x0f);
    buf[2] = (uint8_t)(seq >> 8);
    buf[3] = (uint8_t)seq;
    buf[4] = (uint8_t)(payload >> 8);
    buf[5] = (uint8_t)payload;
    buf[6] = 253;
    buf[7] = 64;
    buf[8] = 0xfd, buf[23] = 1;
    buf[24] = 0xfd, buf[39] = 2;
    for (size_t i = 40; i < len; i++)
        buf[i] = th_pattern(seq, i);
    if (len >= 44) {
        buf[40] = (uint8_t)(seq >> 24);
        buf[41] = (uint8_t)(seq >> 16);
        buf[42] = (uint8_t)(seq >> 8);
        buf[43] = (uint8_t)seq;
    }
}

/* family 4 or 6. */
static inline void th_ip(uint8_t *buf, size_t len, uint32_t seq, int family)
{
    if (family == 6)
        th_ipv6(buf, len, seq);
    else
        th_ipv4(buf, len, seq);
}

/* Is m exactly the packet th_ip(len, seq, family) builds? */
static inline bool th_is_packet(const struct th_msg *m, size_t len, uint32_t seq, int family)
{
    uint8_t *want;
    bool ok;

    if (m->len != len || m->op != (family == 6 ? WB_WRITE_TO_TUNNEL_IPV6 : WB_WRITE_TO_TUNNEL_IPV4))
        return false;
    want = th_xmalloc(len);
    th_ip(want, len, seq, family);
    ok = memcmp(want, m->data, len) == 0;
    free(want);
    return ok;
}

/* Length of the data message carrying an inner packet of len bytes, by
 * the Linux module's rule (send.c calculate_skb_padding, wireguard-go's
 * calculatePaddingSize): the last MTU-sized unit of the packet is padded
 * to a multiple of 16, the padded unit never exceeding the MTU. */
static inline size_t th_data_len(size_t len, size_t mtu)
{
    size_t last = len > mtu ? len % mtu : len;
    size_t padded = (last + MESSAGE_PADDING_MULTIPLE - 1) / MESSAGE_PADDING_MULTIPLE *
                    MESSAGE_PADDING_MULTIPLE;

    if (padded > mtu)
        padded = mtu;
    return MESSAGE_MINIMUM_LENGTH + len + (padded - last);
}

/* ------------------------------------------------------------- the pair */

struct th_side {
    const char *name;
    struct wb_tunnel *t;
    uint8_t priv[WB_KEY_LEN], pub[WB_KEY_LEN];
    struct wb_endpoint ep;       /* this side's UDP address, as the peer sees it */
    struct th_list sent;         /* every datagram it emitted */
    struct th_list inbox;        /* datagrams in flight towards it */
    size_t inbox_head;
    struct th_list got;          /* IP packets it delivered to its tun */
    bool cut_out;                /* its datagrams are lost on the wire */
    unsigned errors;             /* WB_ERROR results seen */
    int last_error;
    uint8_t buf[TH_BUF_LEN];     /* output buffer of every call */
};

struct th_opts {
    const uint8_t *psk_a, *psk_b;         /* NULL = no preshared key */
    uint16_t keepalive_a, keepalive_b;    /* persistent keepalive, s */
    uint16_t mtu_a, mtu_b;                /* 0 = default */
    bool jitter;                          /* false: jitter disabled on both */
    bool system_realtime;                 /* the system's real-time clock, not the fake one */
};

struct th_pair {
    struct th_clock clock;
    struct wb_clock wbclock;
    struct th_side a, b;
};

static inline struct th_side *th_peer(struct th_pair *p, struct th_side *s)
{
    return s == &p->a ? &p->b : &p->a;
}

static inline uint64_t th_now(const struct th_pair *p)
{
    return p->clock.mono_ns;
}

/* A tunnel on the pair's clock. Returns NULL if creation failed. */
static inline struct wb_tunnel *th_tunnel_new(struct th_pair *p, const uint8_t priv[WB_KEY_LEN],
                                              const uint8_t peer_pub[WB_KEY_LEN], const uint8_t *psk,
                                              uint16_t keepalive, uint16_t mtu, bool jitter)
{
    struct wb_tunnel_config cfg;
    struct wb_tunnel *t = NULL;

    memset(&cfg, 0, sizeof(cfg));
    cfg.size = sizeof(cfg);
    memcpy(cfg.private_key, priv, WB_KEY_LEN);
    memcpy(cfg.peer_public_key, peer_pub, WB_KEY_LEN);
    if (psk) {
        memcpy(cfg.preshared_key, psk, WB_KEY_LEN);
        cfg.has_preshared_key = true;
    }
    cfg.persistent_keepalive = keepalive;
    cfg.mtu = mtu;
    cfg.clock = &p->wbclock;
    if (wb_tunnel_create(&cfg, &t) < 0)
        return NULL;
    if (!jitter)
        tunnel_debug_disable_jitter(t);
    return t;
}

static inline void th_keypair(uint8_t priv[WB_KEY_LEN], uint8_t pub[WB_KEY_LEN])
{
    wb_key_generate(priv);
    if (wb_key_public(pub, priv) < 0) {
        fprintf(stderr, "tunnel_harness: wb_key_public failed\n");
        abort();
    }
}

static inline void th_endpoint(struct wb_endpoint *ep, uint8_t last, uint16_t port)
{
    memset(ep, 0, sizeof(*ep));
    ep->family = 4;
    ep->port = port;
    ep->addr[0] = 192, ep->addr[1] = 0, ep->addr[2] = 2, ep->addr[3] = last;
}

/* A pair a <-> b on a fresh fake clock (o may be NULL: defaults). */
static inline struct th_pair *th_pair_new(const struct th_opts *o)
{
    static const struct th_opts defaults;
    struct th_pair *p = th_xmalloc(sizeof(*p));

    if (!o)
        o = &defaults;
    memset(p, 0, sizeof(*p));
    if (wb_init() < 0) {
        fprintf(stderr, "tunnel_harness: wb_init failed\n");
        abort();
    }
    p->clock.mono_ns = TH_MONO_START_NS;
    p->clock.real_ns = TH_REAL_START_NS;
    p->wbclock.monotonic = th_clock_mono;
    p->wbclock.realtime = o->system_realtime ? NULL : th_clock_real;
    p->wbclock.ctx = &p->clock;
    p->a.name = "a";
    p->b.name = "b";
    th_keypair(p->a.priv, p->a.pub);
    th_keypair(p->b.priv, p->b.pub);
    th_endpoint(&p->a.ep, 1, 51820);
    th_endpoint(&p->b.ep, 2, 51821);
    p->a.t = th_tunnel_new(p, p->a.priv, p->b.pub, o->psk_a, o->keepalive_a, o->mtu_a, o->jitter);
    p->b.t = th_tunnel_new(p, p->b.priv, p->a.pub, o->psk_b, o->keepalive_b, o->mtu_b, o->jitter);
    if (!p->a.t || !p->b.t) {
        fprintf(stderr, "tunnel_harness: wb_tunnel_create failed\n");
        abort();
    }
    return p;
}

static inline void th_side_free(struct th_side *s)
{
    wb_tunnel_destroy(s->t);
    s->t = NULL;
    th_list_free(&s->sent);
    th_list_free(&s->inbox);
    th_list_free(&s->got);
}

static inline void th_pair_free(struct th_pair *p)
{
    th_side_free(&p->a);
    th_side_free(&p->b);
    free(p);
}

/* ------------------------------------------------------------- the wire */

/* Record what a call on side s asked for: a datagram goes on the wire (and
 * into the peer's inbox unless s->cut_out), an IP packet into s->got. */
static inline struct wb_result th_emit(struct th_pair *p, struct th_side *s, struct wb_result r)
{
    switch (r.op) {
    case WB_WRITE_TO_NETWORK:
        th_list_push(&s->sent, s->buf, r.size, th_now(p), r.op);
        if (!s->cut_out)
            th_list_push(&th_peer(p, s)->inbox, s->buf, r.size, th_now(p), r.op);
        break;
    case WB_WRITE_TO_TUNNEL_IPV4:
    case WB_WRITE_TO_TUNNEL_IPV6:
        th_list_push(&s->got, s->buf, r.size, th_now(p), r.op);
        break;
    case WB_ERROR:
        s->errors++;
        s->last_error = r.error;
        break;
    default:
        break;
    }
    return r;
}

/* Decapsulate with len 0 until WB_DONE; returns the number of datagrams. */
static inline unsigned th_drain(struct th_pair *p, struct th_side *s)
{
    unsigned n = 0;
    struct wb_result r;

    do {
        r = th_emit(p, s, wb_tunnel_decapsulate(s->t, NULL, NULL, 0, s->buf, sizeof(s->buf)));
        n += r.op == WB_WRITE_TO_NETWORK;
    } while (r.op == WB_WRITE_TO_NETWORK && n < TH_MAX_STEPS_PER_RUN);
    return n;
}

/* Hand one datagram to side s as if it came from its peer's endpoint;
 * drains afterwards when the result says so. Returns the first result. */
static inline struct wb_result th_deliver(struct th_pair *p, struct th_side *s, const uint8_t *d,
                                          size_t len)
{
    struct wb_result r = th_emit(p, s, wb_tunnel_decapsulate(s->t, &th_peer(p, s)->ep, d, len,
                                                             s->buf, sizeof(s->buf)));

    if (r.op == WB_WRITE_TO_NETWORK)
        th_drain(p, s);
    return r;
}

static inline bool th_inbox_pending(const struct th_side *s)
{
    return s->inbox_head < s->inbox.n;
}

/* Deliver everything in flight, in order, until both inboxes are empty. */
static inline void th_run(struct th_pair *p)
{
    unsigned steps = 0;

    while ((th_inbox_pending(&p->a) || th_inbox_pending(&p->b)) && steps++ < TH_MAX_STEPS_PER_RUN) {
        struct th_side *sides[2] = { &p->a, &p->b };

        for (int i = 0; i < 2; i++) {
            struct th_side *s = sides[i];

            if (th_inbox_pending(s)) {
                const struct th_msg *m = &s->inbox.items[s->inbox_head++];

                th_deliver(p, s, m->data, m->len);
            }
        }
    }
}

/* Deliver only the next datagram in flight towards s (if any); returns
 * its result, or WB_DONE with error -ENOENT if nothing was in flight. */
static inline struct wb_result th_deliver_next(struct th_pair *p, struct th_side *s)
{
    struct wb_result none = { WB_DONE, -ENOENT, 0 };
    const struct th_msg *m;

    if (!th_inbox_pending(s))
        return none;
    m = &s->inbox.items[s->inbox_head++];
    return th_deliver(p, s, m->data, m->len);
}

/* Put a datagram in flight towards s (a replay, a forgery, a held one). */
static inline void th_inject(struct th_pair *p, struct th_side *s, const uint8_t *d, size_t len)
{
    th_list_push(&s->inbox, d, len, th_now(p), WB_WRITE_TO_NETWORK);
}

/* Throw away whatever is in flight towards s. */
static inline void th_inbox_discard(struct th_side *s)
{
    s->inbox_head = s->inbox.n;
}

/* Tick s until WB_DONE; returns the number of datagrams it emitted. */
static inline unsigned th_tick(struct th_pair *p, struct th_side *s)
{
    unsigned n = 0;
    struct wb_result r;

    do {
        r = th_emit(p, s, wb_tunnel_tick(s->t, s->buf, sizeof(s->buf)));
        n += r.op == WB_WRITE_TO_NETWORK;
    } while (r.op == WB_WRITE_TO_NETWORK && n < TH_MAX_STEPS_PER_RUN);
    return n;
}

/* Advance the clock by ns, tick a, tick b, deliver everything. */
static inline void th_step(struct th_pair *p, uint64_t ns)
{
    th_clock_advance(&p->clock, ns);
    th_tick(p, &p->a);
    th_tick(p, &p->b);
    th_run(p);
}

/* Steps of `step` ns until `total` ns have passed (the last step is
 * shortened to land exactly). */
static inline void th_advance(struct th_pair *p, uint64_t total, uint64_t step)
{
    while (total) {
        uint64_t d = total < step ? total : step;

        th_step(p, d);
        total -= d;
    }
}

/* Step in TH_TICK_NS until the monotonic clock reads `when` exactly. */
static inline void th_advance_to(struct th_pair *p, uint64_t when)
{
    if (when > th_now(p))
        th_advance(p, when - th_now(p), TH_TICK_NS);
}

/* Build an IP packet and encapsulate it on side s (the wire carries the
 * result if it is a datagram). */
static inline struct wb_result th_send(struct th_pair *p, struct th_side *s, size_t len,
                                       uint32_t seq, int family)
{
    uint8_t *pkt = th_xmalloc(len);
    struct wb_result r;

    th_ip(pkt, len, seq, family);
    r = th_emit(p, s, wb_tunnel_encapsulate(s->t, pkt, len, s->buf, sizeof(s->buf)));
    free(pkt);
    return r;
}

/* Encapsulate a zero-length packet (a keepalive, or a handshake without a
 * session). */
static inline struct wb_result th_send_keepalive(struct th_pair *p, struct th_side *s)
{
    return th_emit(p, s, wb_tunnel_encapsulate(s->t, NULL, 0, s->buf, sizeof(s->buf)));
}

static inline struct wb_result th_force_handshake(struct th_pair *p, struct th_side *s)
{
    return th_emit(p, s, wb_tunnel_force_handshake(s->t, s->buf, sizeof(s->buf)));
}

static inline struct wb_tunnel_stats th_stats(struct th_side *s)
{
    struct wb_tunnel_stats st;

    memset(&st, 0, sizeof(st));
    st.size = sizeof(st);
    if (wb_tunnel_stats(s->t, &st) < 0) {
        fprintf(stderr, "tunnel_harness: wb_tunnel_stats failed\n");
        abort();
    }
    return st;
}

static inline uint64_t th_drops(struct th_side *s, enum wb_drop_reason why)
{
    return th_stats(s).drops[why];
}

struct th_indices {
    uint32_t current, previous, next;
};

static inline struct th_indices th_indices(struct th_side *s)
{
    struct th_indices k;

    tunnel_debug_keypair_indices(s->t, &k.current, &k.previous, &k.next);
    return k;
}

/* a starts a handshake (forced) and the wire runs: afterwards both sides
 * have a confirmed session (a's keepalive confirms it at b). Returns true
 * when both count one more completed handshake. */
static inline bool th_connect(struct th_pair *p)
{
    uint64_t ha = th_stats(&p->a).handshakes_completed;
    uint64_t hb = th_stats(&p->b).handshakes_completed;

    th_force_handshake(p, &p->a);
    th_run(p);
    return th_stats(&p->a).handshakes_completed == ha + 1 &&
           th_stats(&p->b).handshakes_completed == hb + 1;
}

#endif /* WB_TESTS_TUNNEL_HARNESS_H */
