/* SPDX-License-Identifier: MIT */
/*
 * test_tunnel_timers.c - the timer policy of two wb_tunnel objects on a
 * fake clock (tests/unit/tunnel_harness.h), against the Linux module's
 * timers.c and the whitepaper section 6: rekey after 120 s (and keypair
 * rotation), rejection after 180 s, the initiator's receive-side rekey at
 * 165 s, retransmission every 5 s (+ jitter) and giving up after 20
 * attempts, keepalive after 10 s, a new handshake after 15 s without an
 * answer, persistent keepalive, zeroing after 540 s, and the message-count
 * limits. Jitter is off except where the test is about jitter.
 */
#include "check.h"
#include "tunnel_harness.h"

#define SEC(x) ((uint64_t)(x) * NSEC_PER_SEC)
#define MS(x) ((uint64_t)(x) * NSEC_PER_MSEC)

static size_t initiations(const struct th_side *s)
{
    return th_count_type(&s->sent, 0, MESSAGE_HANDSHAKE_INITIATION);
}

static bool last_is(const struct th_side *s, size_t len, uint32_t seq, int family)
{
    return s->got.n && th_is_packet(&s->got.items[s->got.n - 1], len, seq, family);
}

/* a and b each send one packet; both must arrive at once. */
static bool ping_pong(struct th_pair *p, uint32_t seq)
{
    size_t ga = p->a.got.n, gb = p->b.got.n;

    th_send(p, &p->a, 200, seq, 4);
    th_send(p, &p->b, 300, seq, 6);
    th_run(p);
    return p->a.got.n == ga + 1 && p->b.got.n == gb + 1 && last_is(&p->b, 200, seq, 4) &&
           last_is(&p->a, 300, seq, 6);
}

/* Copy of the last datagram s sent, lost on the wire. */
static struct th_msg hold_from(struct th_pair *p, struct th_side *s, size_t len, uint32_t seq)
{
    struct th_msg m = { NULL, 0, 0, WB_WRITE_TO_NETWORK };
    bool cut = s->cut_out;

    s->cut_out = true;
    if (th_send(p, s, len, seq, 4).op == WB_WRITE_TO_NETWORK) {
        m.len = s->sent.items[s->sent.n - 1].len;
        m.data = th_xmalloc(m.len);
        memcpy(m.data, s->sent.items[s->sent.n - 1].data, m.len);
    }
    s->cut_out = cut;
    return m;
}

static void test_rekey_after_time(void)
{
    struct th_pair *p = th_pair_new(NULL);
    uint64_t t0 = th_now(p);
    struct th_indices a1, b1, a2, b2, a3;
    struct th_msg held1, held2;
    bool flow_ok = true;
    uint32_t seq = 0;
    size_t got;

    CHECK(th_connect(p));
    a1 = th_indices(&p->a);
    b1 = th_indices(&p->b);
    for (unsigned s = 1; s <= 119; s++) {
        th_advance_to(p, t0 + SEC(s));
        flow_ok &= ping_pong(p, seq++);
    }
    held1 = hold_from(p, &p->b, 100, 9001);     /* under k1, delivered late */
    held2 = hold_from(p, &p->b, 100, 9002);
    th_advance_to(p, t0 + SEC(119) + MS(900));
    flow_ok &= ping_pong(p, seq++);
    th_advance_to(p, t0 + SEC(120));
    CHECK(initiations(&p->a) == 1);              /* 119.9 s old: no rekey */
    flow_ok &= ping_pong(p, seq++);               /* 120 s old: still used... */
    CHECK(initiations(&p->a) == 1);
    th_step(p, TH_TICK_NS);                       /* ...and a rekey on the next tick */
    CHECK(initiations(&p->a) == 2);
    CHECK(th_count_type(&p->b.sent, 0, MESSAGE_HANDSHAKE_INITIATION) == 0);
    a2 = th_indices(&p->a);
    b2 = th_indices(&p->b);
    CHECK(a2.current != 0 && a2.current != a1.current && a2.previous == a1.current && a2.next == 0);
    CHECK(b2.current != 0 && b2.current != b1.current && b2.previous == b1.current && b2.next == 0);
    CHECK(th_stats(&p->a).handshakes_completed == 2 && th_stats(&p->b).handshakes_completed == 2);
    /* A packet sent under the old keypair before the rotation still counts. */
    got = p->a.got.n;
    th_deliver(p, &p->a, held1.data, held1.len);
    CHECK(p->a.got.n == got + 1 && last_is(&p->a, 100, 9001, 4));

    for (unsigned s = 121; s <= 241; s++) {
        th_advance_to(p, t0 + SEC(s));
        flow_ok &= ping_pong(p, seq++);
    }
    th_step(p, TH_TICK_NS);
    CHECK(initiations(&p->a) == 3);
    a3 = th_indices(&p->a);
    CHECK(a3.current != a2.current && a3.previous == a2.current);
    CHECK(a3.current != a1.current && a3.previous != a1.current && a3.next != a1.current);
    /* The oldest keypair is gone: its index names nothing any more. */
    got = p->a.got.n;
    th_deliver(p, &p->a, held2.data, held2.len);
    CHECK(p->a.got.n == got);
    CHECK(th_drops(&p->a, WB_DROP_UNKNOWN_INDEX) == 1);
    th_advance(p, SEC(2), TH_TICK_NS);
    flow_ok &= ping_pong(p, seq++);
    CHECK(flow_ok);
    CHECK(th_stats(&p->a).drops[WB_DROP_DECRYPT_FAILED] == 0 && th_drops(&p->b, WB_DROP_REPLAY) == 0);
    free(held1.data);
    free(held2.data);
    th_pair_free(p);
    printf("rekey after 120 s: initiator rekeys when sending at 120.0 s (not 119.9), keypairs rotate twice, "
           "%u packets each way without loss, oldest keypair freed\n", seq);
}

static void test_reject_after_time_receive(void)
{
    struct th_pair *p = th_pair_new(NULL);
    uint64_t t0 = th_now(p);
    struct th_msg m0;

    CHECK(th_connect(p));
    th_advance_to(p, t0 + SEC(179) + MS(900));
    CHECK(p->a.sent.n == 2 && p->b.sent.n == 1);  /* nothing since the handshake */
    m0 = hold_from(p, &p->b, 100, 1);
    th_deliver(p, &p->a, m0.data, m0.len);
    CHECK(p->a.got.n == 1 && last_is(&p->a, 100, 1, 4));
    free(m0.data);
    th_pair_free(p);
    printf("reject after 180 s: a message under a 179.9 s old key is taken\n");
}

static void test_reject_after_time_send(void)
{
    struct th_pair *p = th_pair_new(NULL);
    uint64_t t0 = th_now(p);
    struct th_msg m1;
    struct wb_result r;
    size_t a_sent;

    /* Sending at 180 s: no data message with the old key; the packet is
     * staged and an initiation goes out instead (lost here). */
    CHECK(th_connect(p));
    th_advance_to(p, t0 + SEC(179) + MS(900));
    m1 = hold_from(p, &p->b, 100, 2);
    th_advance_to(p, t0 + SEC(180));
    a_sent = p->a.sent.n;
    p->a.cut_out = true;
    r = th_send(p, &p->a, 100, 3, 4);
    CHECK(r.op == WB_WRITE_TO_NETWORK && r.size == MESSAGE_INITIATION_LEN);
    CHECK(tunnel_debug_staged_count(p->a.t) == 1);
    CHECK(th_count_type(&p->a.sent, a_sent, MESSAGE_DATA) == 0);
    r = th_send_keepalive(p, &p->a);              /* a keepalive cannot use it either */
    CHECK(r.op == WB_DONE);
    CHECK(th_count_type(&p->a.sent, a_sent, MESSAGE_DATA) == 0);
    /* Receiving under the expired key: KEY_EXPIRED. */
    r = th_deliver(p, &p->a, m1.data, m1.len);
    CHECK(r.op == WB_DONE && p->a.got.n == 0);
    CHECK(th_drops(&p->a, WB_DROP_KEY_EXPIRED) == 1);
    /* Once the handshake gets through, the staged packet follows. */
    p->a.cut_out = false;
    th_advance(p, SEC(6), TH_TICK_NS);
    CHECK(th_stats(&p->a).handshakes_completed == 2);
    CHECK(p->b.got.n == 1 && last_is(&p->b, 100, 3, 4));
    CHECK(th_count_type(&p->a.sent, a_sent, MESSAGE_DATA) >= 1);
    free(m1.data);
    th_pair_free(p);
    printf("reject after 180 s: old key neither sends (packet staged, initiation instead) nor receives "
           "(KEY_EXPIRED); staged packet delivered after the next handshake\n");
}

static void test_rekey_on_receive(void)
{
    struct th_pair *p = th_pair_new(NULL);
    uint64_t t0 = th_now(p);
    struct th_indices k1;

    CHECK(th_connect(p));
    k1 = th_indices(&p->a);
    th_advance_to(p, t0 + SEC(160));
    th_send(p, &p->b, 100, 1, 4);
    th_run(p);
    th_step(p, TH_TICK_NS);
    CHECK(p->a.got.n == 1 && initiations(&p->a) == 1);
    th_advance_to(p, t0 + SEC(164) + MS(900));
    th_send(p, &p->b, 100, 2, 4);
    th_run(p);
    th_step(p, TH_TICK_NS);                       /* at 165.0: nothing (received at 164.9) */
    CHECK(p->a.got.n == 2 && initiations(&p->a) == 1);
    th_send(p, &p->b, 100, 3, 4);                 /* received when the key is 165 s old */
    th_run(p);
    CHECK(p->a.got.n == 3);
    th_step(p, TH_TICK_NS);
    CHECK(initiations(&p->a) == 2);
    CHECK(th_indices(&p->a).current != k1.current && th_indices(&p->a).previous == k1.current);
    /* Only once per key: more traffic does not start another. */
    th_advance(p, SEC(1), TH_TICK_NS);
    th_send(p, &p->b, 100, 4, 4);
    th_run(p);
    th_advance(p, SEC(6), TH_TICK_NS);
    CHECK(initiations(&p->a) == 2);
    CHECK(p->a.got.n == 4 && last_is(&p->a, 100, 4, 4));
    th_pair_free(p);
    printf("initiator rekeys on receive once its key is 165 s old (not at 164.9 s), once\n");
}

/* The receive-side rekey looks at the current keypair (Linux receive.c
 * keep_key_fresh, wireguard-go keepKeyFreshReceiving), not at the one a
 * late packet came under. */
static void test_rekey_on_receive_looks_at_current(void)
{
    struct th_pair *p = th_pair_new(NULL);
    uint64_t t0 = th_now(p);
    struct th_msg late;

    CHECK(th_connect(p));
    th_advance_to(p, t0 + SEC(99));
    late = hold_from(p, &p->b, 100, 1);           /* under k1 */
    th_advance_to(p, t0 + SEC(100));
    th_force_handshake(p, &p->a);                 /* k2: current, k1: previous */
    th_run(p);
    CHECK(th_stats(&p->a).handshakes_completed == 2);
    th_advance_to(p, t0 + SEC(166));
    th_deliver(p, &p->a, late.data, late.len);    /* k1 is 166 s old, k2 only 66 s */
    CHECK(p->a.got.n == 1 && last_is(&p->a, 100, 1, 4));
    th_step(p, TH_TICK_NS);
    CHECK(initiations(&p->a) == 2);
    free(late.data);
    th_pair_free(p);
    printf("receive-side rekey: a late packet under the previous (166 s old) keypair starts no handshake "
           "while the current one is young\n");
}

/* Returns how many initiations a sent in `span` (its output is cut by the
 * caller: b is unreachable). */
static size_t retransmissions(struct th_pair *p, uint64_t span, uint64_t step)
{
    th_advance(p, span, step);
    return initiations(&p->a);
}

static bool every_5s(const struct th_side *s, uint64_t t0, size_t n)
{
    size_t k = 0;
    bool ok = true;

    for (size_t i = 0; i < s->sent.n; i++)
        if (th_type(&s->sent.items[i]) == MESSAGE_HANDSHAKE_INITIATION)
            ok &= s->sent.items[i].t_ns == t0 + SEC(5) * k++;
    return ok && k == n;
}

static void test_retransmit_gives_up(void)
{
    struct th_pair *p = th_pair_new(NULL);
    uint64_t t0 = th_now(p);

    /* Forced, nothing staged: 1 + 19 retries, 5 s apart, then silence. */
    p->a.cut_out = true;
    th_force_handshake(p, &p->a);
    CHECK(retransmissions(p, SEC(200), TH_TICK_NS) == MAX_TIMER_HANDSHAKES + 2);
    CHECK(every_5s(&p->a, t0, MAX_TIMER_HANDSHAKES + 2));
    CHECK(p->a.sent.n == MAX_TIMER_HANDSHAKES + 2);
    CHECK(p->b.sent.n == 0 && p->b.got.n == 0);
    th_pair_free(p);

    /* The same with packets waiting: they are purged when it gives up. */
    p = th_pair_new(NULL);
    t0 = th_now(p);
    p->a.cut_out = true;
    for (uint32_t i = 0; i < 3; i++)
        th_send(p, &p->a, 100, i, 4);
    CHECK(tunnel_debug_staged_count(p->a.t) == 3);
    CHECK(retransmissions(p, SEC(200), TH_TICK_NS) == MAX_TIMER_HANDSHAKES + 2);
    CHECK(every_5s(&p->a, t0, MAX_TIMER_HANDSHAKES + 2));
    CHECK(tunnel_debug_staged_count(p->a.t) == 0);
    CHECK(th_drops(&p->a, WB_DROP_STAGED_PURGED) == 3);
    CHECK(th_count_type(&p->a.sent, 0, MESSAGE_DATA) == 0);
    th_pair_free(p);
    printf("retransmission: 20 initiations 5 s apart (1 + 19 retries), then silence; staged packets purged\n");
}

static void test_retransmit_jitter(void)
{
    struct th_opts o;
    struct th_pair *p;
    uint64_t prev = 0, min_gap = UINT64_MAX, max_gap = 0;
    size_t n = 0;
    bool in_range = true;

    memset(&o, 0, sizeof(o));
    o.jitter = true;
    p = th_pair_new(&o);
    p->a.cut_out = true;
    th_force_handshake(p, &p->a);
    CHECK(retransmissions(p, SEC(120), MS(1)) == MAX_TIMER_HANDSHAKES + 2);
    for (size_t i = 0; i < p->a.sent.n; i++) {
        uint64_t t = p->a.sent.items[i].t_ns, gap;

        if (th_type(&p->a.sent.items[i]) != MESSAGE_HANDSHAKE_INITIATION)
            continue;
        if (n++) {
            gap = t - prev;
            in_range &= gap >= REKEY_TIMEOUT_NS && gap <= REKEY_TIMEOUT_NS + MS(REKEY_TIMEOUT_JITTER_MAX_MS - 1);
            min_gap = gap < min_gap ? gap : min_gap;
            max_gap = gap > max_gap ? gap : max_gap;
        }
        prev = t;
    }
    CHECK(in_range);
    CHECK(max_gap > min_gap);                     /* the jitter is random... */
    CHECK(max_gap >= REKEY_TIMEOUT_NS + MS(20));  /* ...and actually applied */
    th_pair_free(p);
    printf("retransmission jitter: 19 gaps within [5.000, 5.333] s (%.3f .. %.3f s)\n", min_gap / 1e9,
           max_gap / 1e9);
}

static void test_keepalive_after_receive(void)
{
    struct th_pair *p = th_pair_new(NULL);
    uint64_t t1;
    size_t b_sent, a_sent;

    CHECK(th_connect(p));
    th_advance(p, SEC(1), TH_TICK_NS);
    t1 = th_now(p);
    b_sent = p->b.sent.n;
    a_sent = p->a.sent.n;
    th_send(p, &p->a, 100, 1, 4);
    th_run(p);
    CHECK(p->b.got.n == 1);
    th_advance_to(p, t1 + SEC(9) + MS(900));
    CHECK(p->b.sent.n == b_sent);
    th_advance_to(p, t1 + SEC(10));
    CHECK(p->b.sent.n == b_sent + 1 && th_is_keepalive(&p->b.sent.items[p->b.sent.n - 1]));
    th_advance_to(p, t1 + SEC(40));
    CHECK(p->b.sent.n == b_sent + 1);             /* one keepalive only */
    /* It reached a in time: a's 15 s new-handshake timer was cancelled. */
    CHECK(th_count_type(&p->a.sent, a_sent, MESSAGE_HANDSHAKE_INITIATION) == 0);
    CHECK(p->a.sent.n == a_sent + 1);
    th_pair_free(p);

    /* The receiver that answers with data sends no keepalive. */
    p = th_pair_new(NULL);
    CHECK(th_connect(p));
    th_advance(p, SEC(1), TH_TICK_NS);
    t1 = th_now(p);
    th_send(p, &p->a, 100, 1, 4);
    th_run(p);
    th_advance_to(p, t1 + SEC(5));
    th_send(p, &p->b, 100, 2, 4);
    th_run(p);
    b_sent = p->b.sent.n;
    th_advance_to(p, t1 + SEC(30));
    CHECK(p->b.sent.n == b_sent);
    CHECK(th_count_keepalives(&p->b.sent, 0) == 0);
    CHECK(th_count_keepalives(&p->a.sent, 0) == 2);   /* the confirmation, and 10 s after b's data */
    th_pair_free(p);
    printf("keepalive: one 32-byte keepalive exactly 10 s after receiving data; none when data was sent back\n");
}

static void test_new_handshake_after_15s(void)
{
    struct th_pair *p = th_pair_new(NULL);
    uint64_t t1;
    size_t a_sent;

    CHECK(th_connect(p));
    th_advance(p, SEC(1), TH_TICK_NS);
    t1 = th_now(p);
    p->b.cut_out = true;                           /* a hears nothing back */
    a_sent = p->a.sent.n;
    th_send(p, &p->a, 100, 1, 4);
    th_run(p);
    CHECK(p->b.got.n == 1);
    th_advance_to(p, t1 + SEC(14) + MS(900));
    CHECK(th_count_type(&p->a.sent, a_sent, MESSAGE_HANDSHAKE_INITIATION) == 0);
    th_advance_to(p, t1 + SEC(15));
    CHECK(th_count_type(&p->a.sent, a_sent, MESSAGE_HANDSHAKE_INITIATION) == 1);
    CHECK(p->a.sent.items[p->a.sent.n - 1].t_ns == t1 + SEC(15));
    th_pair_free(p);
    printf("new handshake exactly 15 s after sending data without hearing back\n");
}

static void test_persistent_keepalive(void)
{
    static const uint64_t want[] = { 25100, 50100, 70000, 95000 };   /* ms after creation */
    struct th_opts o;
    struct th_pair *p;
    uint64_t t0;
    size_t k = 0;
    bool times_ok = true;

    memset(&o, 0, sizeof(o));
    o.keepalive_a = 25;
    p = th_pair_new(&o);
    t0 = th_now(p);
    th_step(p, TH_TICK_NS);
    /* Right after creation: no session yet, so the keepalive is a handshake. */
    CHECK(p->a.sent.n >= 1 && th_type(&p->a.sent.items[0]) == MESSAGE_HANDSHAKE_INITIATION);
    CHECK(th_stats(&p->a).handshakes_completed == 1 && th_stats(&p->b).handshakes_completed == 1);
    th_advance_to(p, t0 + SEC(60));
    th_send(p, &p->b, 100, 1, 4);                 /* traffic pushes the timer back */
    th_run(p);
    th_advance_to(p, t0 + SEC(119));
    for (size_t i = 2; i < p->a.sent.n; i++) {
        const struct th_msg *m = &p->a.sent.items[i];

        times_ok &= th_is_keepalive(m) && k < 4 && m->t_ns == t0 + MS(want[k]);
        k++;
    }
    CHECK(times_ok && k == 4);
    CHECK(p->b.sent.n == 2);                      /* the response and its one packet */
    th_pair_free(p);

    /* Also on the responder's side. */
    memset(&o, 0, sizeof(o));
    o.keepalive_b = 10;
    p = th_pair_new(&o);
    t0 = th_now(p);
    th_step(p, TH_TICK_NS);
    CHECK(th_count_type(&p->b.sent, 0, MESSAGE_HANDSHAKE_INITIATION) == 1);
    th_advance_to(p, t0 + SEC(45));
    CHECK(th_count_keepalives(&p->b.sent, 0) == 5);   /* confirmation + 10.1, 20.1, 30.1, 40.1 */
    th_pair_free(p);
    printf("persistent keepalive: handshake at the first tick after creation, then every N s after the "
           "last authenticated packet\n");
}

static void test_zero_key_material(void)
{
    struct th_pair *p = th_pair_new(NULL);
    uint64_t t0 = th_now(p);
    struct th_indices ka, kb;
    struct wb_result r;

    CHECK(th_connect(p));
    CHECK(ping_pong(p, 1));
    th_advance_to(p, t0 + SEC(539) + MS(900));
    ka = th_indices(&p->a);
    kb = th_indices(&p->b);
    CHECK(ka.current != 0 && kb.current != 0);
    th_advance_to(p, t0 + SEC(540));
    ka = th_indices(&p->a);
    kb = th_indices(&p->b);
    CHECK(ka.current == 0 && ka.previous == 0 && ka.next == 0);
    CHECK(kb.current == 0 && kb.previous == 0 && kb.next == 0);
    CHECK(initiations(&p->a) == 1 && initiations(&p->b) == 0);
    /* Data now needs a new handshake. */
    r = th_send(p, &p->a, 100, 2, 4);
    CHECK(r.op == WB_WRITE_TO_NETWORK && r.size == MESSAGE_INITIATION_LEN);
    th_run(p);
    CHECK(last_is(&p->b, 100, 2, 4));
    CHECK(th_stats(&p->a).handshakes_completed == 2);
    th_pair_free(p);
    printf("key material zeroed 540 s after the session (kept at 539.9 s); data then needs a handshake\n");
}

static void test_rekey_after_messages(void)
{
    struct th_pair *p = th_pair_new(NULL);
    struct th_indices k1;
    struct wb_result r;

    /* REKEY_AFTER_MESSAGES: asks for a handshake once the counter passes it. */
    CHECK(th_connect(p));
    th_advance(p, SEC(6), TH_TICK_NS);
    k1 = th_indices(&p->a);
    CHECK(tunnel_debug_set_sending_counter(p->a.t, REKEY_AFTER_MESSAGES - 1) == 0);
    r = th_send(p, &p->a, 100, 1, 4);
    CHECK(r.op == WB_WRITE_TO_NETWORK && th_counter(p->a.buf) == REKEY_AFTER_MESSAGES - 1);
    th_run(p);
    th_step(p, TH_TICK_NS);
    CHECK(initiations(&p->a) == 1);
    r = th_send(p, &p->a, 100, 2, 4);
    CHECK(r.op == WB_WRITE_TO_NETWORK && th_counter(p->a.buf) == REKEY_AFTER_MESSAGES);
    th_run(p);
    th_step(p, TH_TICK_NS);
    CHECK(initiations(&p->a) == 2);
    CHECK(p->b.got.n == 2 && last_is(&p->b, 100, 2, 4));
    CHECK(th_indices(&p->a).current != k1.current);
    /* The responder too (no initiator condition on the message count). */
    th_advance(p, SEC(6), TH_TICK_NS);
    CHECK(tunnel_debug_set_sending_counter(p->b.t, REKEY_AFTER_MESSAGES) == 0);
    th_send(p, &p->b, 100, 3, 4);
    th_run(p);
    th_step(p, TH_TICK_NS);
    CHECK(th_count_type(&p->b.sent, 0, MESSAGE_HANDSHAKE_INITIATION) == 1);
    CHECK(last_is(&p->a, 100, 3, 4));
    th_pair_free(p);
    printf("message limits: a rekey is asked for once the counter passes REKEY_AFTER_MESSAGES (both roles)\n");
}

static void test_reject_after_messages(void)
{
    struct th_pair *p = th_pair_new(NULL);
    struct wb_result r;
    size_t a_sent;

    /* REJECT_AFTER_MESSAGES: the last nonce goes out, then the key is done. */
    CHECK(th_connect(p));
    th_advance(p, SEC(6), TH_TICK_NS);
    CHECK(tunnel_debug_set_sending_counter(p->a.t, REJECT_AFTER_MESSAGES - 1) == 0);
    r = th_send(p, &p->a, 100, 1, 4);
    CHECK(r.op == WB_WRITE_TO_NETWORK && th_counter(p->a.buf) == REJECT_AFTER_MESSAGES - 1);
    th_run(p);
    CHECK(p->b.got.n == 1 && last_is(&p->b, 100, 1, 4));
    p->a.cut_out = true;                          /* the rekey does not get through */
    th_step(p, TH_TICK_NS);
    a_sent = p->a.sent.n;
    r = th_send(p, &p->a, 100, 2, 4);
    CHECK(r.op != WB_WRITE_TO_NETWORK || r.size == MESSAGE_INITIATION_LEN);
    CHECK(th_count_type(&p->a.sent, a_sent, MESSAGE_DATA) == 0);
    CHECK(tunnel_debug_staged_count(p->a.t) == 1);
    p->a.cut_out = false;
    th_advance(p, SEC(6), TH_TICK_NS);
    CHECK(p->b.got.n == 2 && last_is(&p->b, 100, 2, 4));
    CHECK(tunnel_debug_staged_count(p->a.t) == 0);
    th_pair_free(p);
    printf("message limits: nothing sent past nonce REJECT_AFTER_MESSAGES - 1, the packet staged until "
           "the new key\n");
}

int main(void)
{
    test_rekey_after_time();
    test_reject_after_time_receive();
    test_reject_after_time_send();
    test_rekey_on_receive();
    test_rekey_on_receive_looks_at_current();
    test_retransmit_gives_up();
    test_retransmit_jitter();
    test_keepalive_after_receive();
    test_new_handshake_after_15s();
    test_persistent_keepalive();
    test_zero_key_material();
    test_rekey_after_messages();
    test_reject_after_messages();
    return check_summary();
}
