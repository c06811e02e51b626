/* SPDX-License-Identifier: MIT */
/*
 * test_tunnel_cookie.c - the cookie round trip between two wb_tunnel
 * objects on a fake clock (tests/unit/tunnel_harness.h): a responder under
 * load answers an initiation without mac2 with a cookie reply, the
 * initiator's retransmission carries mac2 and is answered; cookies are
 * bound to the source address; cookie replies for unknown indices, forged
 * or stale ones are dropped; without load, initiations need no mac2.
 */
#include "check.h"
#include "tunnel_harness.h"

static bool has_mac2(const struct th_msg *m)
{
    static const uint8_t zero[COOKIE_LEN];

    return th_type(m) == MESSAGE_HANDSHAKE_INITIATION && memcmp(m->data + TH_INIT_MAC2_OFF, zero, COOKIE_LEN) != 0;
}

static const struct th_msg *nth_initiation(const struct th_side *s, size_t n)
{
    for (size_t i = 0; i < s->sent.n; i++)
        if (th_type(&s->sent.items[i]) == MESSAGE_HANDSHAKE_INITIATION && n-- == 0)
            return &s->sent.items[i];
    return NULL;
}

static uint64_t all_drops(struct th_side *s)
{
    struct wb_tunnel_stats st = th_stats(s);
    uint64_t n = 0;

    for (int i = 0; i < WB_DROP_REASON_COUNT; i++)
        n += st.drops[i];
    return n;
}

static void test_round_trip_under_load(void)
{
    struct th_pair *p = th_pair_new(NULL);
    const struct th_msg *i0, *i1, *reply;
    struct wb_tunnel_stats sb;

    wb_tunnel_set_under_load(p->b.t, true);
    th_send(p, &p->a, 100, 1, 4);
    th_run(p);
    sb = th_stats(&p->b);
    CHECK(sb.drops[WB_DROP_COOKIE_REQUIRED] == 1);
    CHECK(p->b.sent.n == 1);
    reply = p->b.sent.n ? &p->b.sent.items[0] : NULL;
    CHECK(reply && th_type(reply) == MESSAGE_HANDSHAKE_COOKIE && reply->len == MESSAGE_COOKIE_LEN);
    i0 = nth_initiation(&p->a, 0);
    CHECK(i0 && !has_mac2(i0));
    CHECK(reply && i0 && th_le32(reply->data + TH_COOKIE_RECEIVER_OFF) == th_le32(i0->data + TH_INIT_SENDER_OFF));   /* answers its sender index */
    CHECK(sb.handshakes_completed == 0 && sb.rx_packets == 0);
    CHECK(all_drops(&p->a) == 0);                                       /* the reply was taken */
    CHECK(th_indices(&p->b).next == 0);

    /* The retransmission, 5 s later, carries mac2 and gets a response. */
    th_advance(p, 5 * NSEC_PER_SEC, TH_TICK_NS);
    i1 = nth_initiation(&p->a, 1);
    CHECK(i1 && has_mac2(i1));
    CHECK(th_count_type(&p->b.sent, 0, MESSAGE_HANDSHAKE_RESPONSE) == 1);
    CHECK(th_drops(&p->b, WB_DROP_COOKIE_REQUIRED) == 1);
    CHECK(th_stats(&p->a).handshakes_completed == 1 && th_stats(&p->b).handshakes_completed == 1);
    CHECK(p->b.got.n == 1 && th_is_packet(&p->b.got.items[0], 100, 1, 4));
    th_send(p, &p->b, 200, 2, 6);
    th_send(p, &p->a, 300, 3, 4);
    th_run(p);
    CHECK(p->a.got.n == 1 && th_is_packet(&p->a.got.items[0], 200, 2, 6));
    CHECK(p->b.got.n == 2 && th_is_packet(&p->b.got.items[1], 300, 3, 4));

    /* Load gone: an initiation without mac2 (the cookie expired after
     * 120 - 5 s) is answered. */
    wb_tunnel_set_under_load(p->b.t, false);
    th_advance(p, 116 * NSEC_PER_SEC, NSEC_PER_SEC);
    th_force_handshake(p, &p->a);
    CHECK(!has_mac2(&p->a.sent.items[p->a.sent.n - 1]));
    th_run(p);
    CHECK(th_count_type(&p->b.sent, 0, MESSAGE_HANDSHAKE_RESPONSE) == 2);
    CHECK(th_stats(&p->a).handshakes_completed == 2);
    CHECK(th_drops(&p->b, WB_DROP_COOKIE_REQUIRED) == 1);
    CHECK(th_count_type(&p->b.sent, 0, MESSAGE_HANDSHAKE_COOKIE) == 1);
    th_pair_free(p);
    printf("under load: cookie reply (64 bytes, COOKIE_REQUIRED) for the first initiation, the retry 5 s later "
           "carries mac2 and completes; without load no mac2 needed\n");
}

static void test_cookie_bound_to_address(void)
{
    struct th_pair *p = th_pair_new(NULL);

    wb_tunnel_set_under_load(p->b.t, true);
    th_force_handshake(p, &p->a);
    th_run(p);
    CHECK(th_drops(&p->b, WB_DROP_COOKIE_REQUIRED) == 1);
    /* a moves (NAT rebinding): its mac2 is for the old address. */
    p->a.ep.port++;
    th_advance(p, 5 * NSEC_PER_SEC, TH_TICK_NS);
    CHECK(nth_initiation(&p->a, 1) && has_mac2(nth_initiation(&p->a, 1)));
    CHECK(th_drops(&p->b, WB_DROP_COOKIE_REQUIRED) == 2);
    CHECK(th_count_type(&p->b.sent, 0, MESSAGE_HANDSHAKE_COOKIE) == 2);
    CHECK(th_count_type(&p->b.sent, 0, MESSAGE_HANDSHAKE_RESPONSE) == 0);
    /* With the new cookie the next retry gets through. */
    th_advance(p, 5 * NSEC_PER_SEC, TH_TICK_NS);
    CHECK(th_count_type(&p->b.sent, 0, MESSAGE_HANDSHAKE_RESPONSE) == 1);
    CHECK(th_stats(&p->a).handshakes_completed == 1 && th_stats(&p->b).handshakes_completed == 1);
    th_pair_free(p);
    printf("cookie bound to the source address: after a port change, a new cookie, then the handshake\n");
}

static void test_bad_cookie_replies(void)
{
    static const size_t forge_at[] = { TH_COOKIE_NONCE_OFF, TH_COOKIE_NONCE_OFF + COOKIE_NONCE_LEN - 1,
                                       TH_COOKIE_SEALED_OFF, TH_COOKIE_SEALED_OFF + COOKIE_LEN };
    struct th_pair *p = th_pair_new(NULL);
    uint8_t reply[MESSAGE_COOKIE_LEN], bad[MESSAGE_COOKIE_LEN];
    struct wb_result r;
    uint64_t d, u;

    wb_tunnel_set_under_load(p->b.t, true);
    th_force_handshake(p, &p->a);
    r = th_deliver_next(p, &p->b);
    CHECK(r.op == WB_WRITE_TO_NETWORK && r.size == MESSAGE_COOKIE_LEN);
    memcpy(reply, p->b.sent.items[0].data, sizeof(reply));
    th_inbox_discard(&p->a);

    /* For an index a never used. */
    memcpy(bad, reply, sizeof(bad));
    bad[TH_COOKIE_RECEIVER_OFF] ^= 0x5a;
    u = th_drops(&p->a, WB_DROP_UNKNOWN_INDEX);
    r = th_deliver(p, &p->a, bad, sizeof(bad));
    CHECK(r.op == WB_DONE && th_drops(&p->a, WB_DROP_UNKNOWN_INDEX) == u + 1);
    /* Forged: a bit flipped in the nonce, in the encrypted cookie, in the tag. */
    for (size_t i = 0; i < sizeof(forge_at) / sizeof(forge_at[0]); i++) {
        memcpy(bad, reply, sizeof(bad));
        bad[forge_at[i]] ^= 0x01;
        d = all_drops(&p->a);
        r = th_deliver(p, &p->a, bad, sizeof(bad));
        CHECK(r.op == WB_DONE && all_drops(&p->a) == d + 1);
    }
    memcpy(bad, reply, sizeof(bad));
    bad[MESSAGE_COOKIE_LEN - 1] ^= 0x80;
    d = all_drops(&p->a);
    r = th_deliver(p, &p->a, bad, sizeof(bad));
    CHECK(r.op == WB_DONE && all_drops(&p->a) == d + 1);
    r = th_deliver(p, &p->a, reply, sizeof(reply) - 1);       /* wrong length */
    CHECK(r.op == WB_DONE && th_drops(&p->a, WB_DROP_MALFORMED) == 1);
    /* None of them gave a a cookie: its retry has no mac2 and is refused. */
    th_advance(p, 5 * NSEC_PER_SEC, TH_TICK_NS);
    CHECK(nth_initiation(&p->a, 1) && !has_mac2(nth_initiation(&p->a, 1)));
    CHECK(th_drops(&p->b, WB_DROP_COOKIE_REQUIRED) == 2);
    CHECK(th_count_type(&p->b.sent, 0, MESSAGE_HANDSHAKE_RESPONSE) == 0);
    /* The first, genuine reply is stale now (it answers an older initiation). */
    d = all_drops(&p->a);
    r = th_deliver(p, &p->a, reply, sizeof(reply));
    CHECK(r.op == WB_DONE && all_drops(&p->a) == d + 1);
    /* The second reply (delivered by the wire) was genuine: the next retry
     * gets through. */
    th_advance(p, 5 * NSEC_PER_SEC, TH_TICK_NS);
    CHECK(nth_initiation(&p->a, 2) && has_mac2(nth_initiation(&p->a, 2)));
    CHECK(th_stats(&p->a).handshakes_completed == 1 && th_stats(&p->b).handshakes_completed == 1);
    th_pair_free(p);
    printf("bad cookie replies: unknown index, forged nonce/cookie/tag, wrong length, stale: all dropped, "
           "no cookie learnt\n");
}

static void test_cookie_reply_needs_room(void)
{
    struct th_pair *p = th_pair_new(NULL);
    uint8_t *small = th_xmalloc(MESSAGE_COOKIE_LEN - 1);
    struct wb_result r;

    wb_tunnel_set_under_load(p->b.t, true);
    r = th_force_handshake(p, &p->a);
    r = wb_tunnel_decapsulate(p->b.t, &p->a.ep, p->a.buf, r.size, small, MESSAGE_COOKIE_LEN - 1);
    CHECK(r.op == WB_ERROR || (r.op == WB_DONE && th_drops(&p->b, WB_DROP_DST_TOO_SMALL) == 1));
    free(small);
    th_pair_free(p);
    printf("cookie reply into a 63-byte buffer: refused, no overflow\n");
}

int main(void)
{
    test_round_trip_under_load();
    test_cookie_bound_to_address();
    test_bad_cookie_replies();
    test_cookie_reply_needs_room();
    return check_summary();
}
