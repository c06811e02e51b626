/* SPDX-License-Identifier: MIT */
/*
 * test_tunnel_data.c - the data path of two wb_tunnel objects on a fake
 * clock (tests/unit/tunnel_harness.h): replay protection end to end
 * (duplicates, reordering inside the window, the window's edge), tampered
 * messages, padding and its removal, inner packet validation, output
 * buffers that are too small (exact-size heap buffers, so ASan sees any
 * overflow), and the batch API against the single calls.
 */
#include "check.h"
#include "tunnel_harness.h"

/* A pair with a confirmed session (a initiated). */
static struct th_pair *connected(const struct th_opts *o)
{
    struct th_pair *p = th_pair_new(o);

    CHECK(th_connect(p));
    return p;
}

/* Copy of the last datagram s sent. */
static struct th_msg last_sent(const struct th_side *s)
{
    struct th_msg m = s->sent.items[s->sent.n - 1];

    m.data = th_xmalloc(m.len);
    memcpy(m.data, s->sent.items[s->sent.n - 1].data, m.len);
    return m;
}

static struct th_msg send_held(struct th_pair *p, struct th_side *s, size_t len, uint32_t seq, int family)
{
    bool cut = s->cut_out;
    struct th_msg m;

    s->cut_out = true;
    th_send(p, s, len, seq, family);
    m = last_sent(s);
    s->cut_out = cut;
    return m;
}

static void test_replay_duplicate(void)
{
    struct th_pair *p = connected(NULL);
    struct th_msg m = send_held(p, &p->a, 100, 1, 4);
    struct wb_result r;

    r = th_deliver(p, &p->b, m.data, m.len);
    CHECK(r.op == WB_WRITE_TO_TUNNEL_IPV4 && r.size == 100);
    r = th_deliver(p, &p->b, m.data, m.len);
    CHECK(r.op == WB_DONE);
    CHECK(th_drops(&p->b, WB_DROP_REPLAY) == 1);
    CHECK(p->b.got.n == 1);
    free(m.data);
    th_pair_free(p);
    printf("replay: a data message delivered twice is taken once (WB_DROP_REPLAY)\n");
}

static void test_reorder_in_window(void)
{
    enum { N = 64 };
    struct th_pair *p = connected(NULL);
    struct th_msg held[N];
    unsigned order[N], seen[N] = { 0 };
    uint32_t x = 12345;
    bool once = true;

    for (unsigned i = 0; i < N; i++) {
        held[i] = send_held(p, &p->a, 60 + i, i, 4);
        order[i] = i;
    }
    for (unsigned i = N - 1; i > 0; i--) {        /* Fisher-Yates, fixed seed */
        unsigned j, tmp;

        x = x * 1103515245u + 12345u;
        j = (x >> 8) % (i + 1);
        tmp = order[i], order[i] = order[j], order[j] = tmp;
    }
    for (unsigned i = 0; i < N; i++)
        th_deliver(p, &p->b, held[order[i]].data, held[order[i]].len);
    CHECK(p->b.got.n == N);
    for (size_t i = 0; i < p->b.got.n; i++) {
        uint32_t seq = (uint32_t)p->b.got.items[i].data[4] << 8 | p->b.got.items[i].data[5];

        if (seq < N && th_is_packet(&p->b.got.items[i], 60 + seq, seq, 4))
            seen[seq]++;
    }
    for (unsigned i = 0; i < N; i++)
        once &= seen[i] == 1;
    CHECK(once);
    for (unsigned i = 0; i < N; i++)
        th_deliver(p, &p->b, held[i].data, held[i].len);
    CHECK(p->b.got.n == N);
    CHECK(th_drops(&p->b, WB_DROP_REPLAY) == N);
    for (unsigned i = 0; i < N; i++)
        free(held[i].data);
    th_pair_free(p);
    printf("reordering: %d messages in shuffled order all taken once, then all refused as replays\n", N);
}

static void test_window_edge(void)
{
    struct th_pair *p = connected(NULL);
    struct th_msg old1, old2, m;
    struct wb_result r;

    CHECK(tunnel_debug_set_sending_counter(p->a.t, 100) == 0);
    old1 = send_held(p, &p->a, 100, 1, 4);
    CHECK(th_counter(old1.data) == 100);
    CHECK(tunnel_debug_set_sending_counter(p->a.t, 100 + COUNTER_WINDOW_SIZE) == 0);
    m = send_held(p, &p->a, 100, 2, 4);
    th_deliver(p, &p->b, m.data, m.len);
    free(m.data);
    r = th_deliver(p, &p->b, old1.data, old1.len);     /* exactly 8128 behind: taken */
    CHECK(r.op == WB_WRITE_TO_TUNNEL_IPV4);

    CHECK(tunnel_debug_set_sending_counter(p->a.t, 20000) == 0);
    old2 = send_held(p, &p->a, 100, 3, 4);
    CHECK(tunnel_debug_set_sending_counter(p->a.t, 20000 + COUNTER_WINDOW_SIZE + 1) == 0);
    m = send_held(p, &p->a, 100, 4, 4);
    th_deliver(p, &p->b, m.data, m.len);
    free(m.data);
    r = th_deliver(p, &p->b, old2.data, old2.len);     /* 8129 behind: too old */
    CHECK(r.op == WB_DONE);
    CHECK(th_drops(&p->b, WB_DROP_REPLAY) == 1);
    CHECK(p->b.got.n == 3);
    free(old1.data);
    free(old2.data);
    th_pair_free(p);
    printf("replay window: a message 8128 counters behind the newest is taken, 8129 behind dropped\n");
}

static void test_tampered(void)
{
    /* off < 0 counts from the end of the message. */
    static const struct { long off; uint8_t bit; enum wb_drop_reason why; const char *what; } cases[] = {
        { 0, 0x01, WB_DROP_MALFORMED, "type" },
        { TH_DATA_INDEX_OFF + 1, 0x10, WB_DROP_UNKNOWN_INDEX, "receiver index" },
        { TH_DATA_COUNTER_OFF, 0x01, WB_DROP_DECRYPT_FAILED, "counter (low bit)" },
        { TH_DATA_COUNTER_OFF + 7, 0x80, WB_DROP_DECRYPT_FAILED, "counter (high bit)" },
        { MESSAGE_DATA_HEADER_LEN, 0x01, WB_DROP_DECRYPT_FAILED, "first ciphertext byte" },
        { MESSAGE_DATA_HEADER_LEN + 57, 0x20, WB_DROP_DECRYPT_FAILED, "ciphertext" },
        { -1, 0x01, WB_DROP_DECRYPT_FAILED, "last tag byte" },
        { -NOISE_AUTHTAG_LEN, 0x80, WB_DROP_DECRYPT_FAILED, "first tag byte" },
    };
    struct th_pair *p = connected(NULL);
    struct th_msg m = send_held(p, &p->a, 100, 1, 4);
    struct wb_tunnel_stats before = th_stats(&p->b), after;
    uint8_t *bad = th_xmalloc(m.len);
    bool reasons_ok = true;
    struct wb_result r;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t off = cases[i].off < 0 ? m.len - (size_t)-cases[i].off : (size_t)cases[i].off;
        uint64_t d = th_drops(&p->b, cases[i].why);

        memcpy(bad, m.data, m.len);
        bad[off] ^= cases[i].bit;
        r = th_deliver(p, &p->b, bad, m.len);
        if (r.op != WB_DONE || th_drops(&p->b, cases[i].why) != d + 1) {
            fprintf(stderr, "tampered %s: op %d, drop %d not counted\n", cases[i].what, r.op, cases[i].why);
            reasons_ok = false;
        }
    }
    CHECK(reasons_ok);
    r = th_deliver(p, &p->b, m.data, m.len - 1);         /* truncated tag */
    CHECK(r.op == WB_DONE);
    r = th_deliver(p, &p->b, m.data, MESSAGE_MINIMUM_LENGTH - 1);
    CHECK(r.op == WB_DONE);
    CHECK(p->b.got.n == 0);
    after = th_stats(&p->b);
    CHECK(after.rx_packets == before.rx_packets && after.rx_bytes == before.rx_bytes);
    /* The forgeries did not move the window: the original is still taken. */
    r = th_deliver(p, &p->b, m.data, m.len);
    CHECK(r.op == WB_WRITE_TO_TUNNEL_IPV4 && p->b.got.n == 1 && th_is_packet(&p->b.got.items[0], 100, 1, 4));
    free(bad);
    free(m.data);
    th_pair_free(p);
    printf("tampering: flipped bits in type, index, counter, ciphertext and tag all dropped with their "
           "reason, never delivered; the window is untouched\n");
}

static void check_padding(uint16_t mtu, const size_t *sizes, size_t n)
{
    struct th_opts o;
    struct th_pair *p;
    bool lens_ok = true, back_ok = true;

    memset(&o, 0, sizeof(o));
    o.mtu_a = o.mtu_b = mtu;
    p = connected(&o);
    for (size_t i = 0; i < n; i++) {
        size_t got = p->b.got.n;
        struct wb_result r = th_send(p, &p->a, sizes[i], (uint32_t)i, 4);

        if (r.op != WB_WRITE_TO_NETWORK || r.size != th_data_len(sizes[i], mtu)) {
            fprintf(stderr, "mtu %u, packet %zu: message %zu bytes, want %zu\n", mtu, sizes[i], r.size,
                    th_data_len(sizes[i], mtu));
            lens_ok = false;
        }
        th_run(p);
        back_ok &= p->b.got.n == got + 1 && th_is_packet(&p->b.got.items[got], sizes[i], (uint32_t)i, 4);
    }
    CHECK(lens_ok);
    CHECK(back_ok);
    th_pair_free(p);
}

static void test_padding(void)
{
    static const size_t s1420[] = { 20, 21, 31, 32, 33, 100, 1403, 1404, 1405, 1408, 1409, 1419, 1420,
                                    1421, 1436, 1437, 1440, 1500, 2000, 2840, 2841, 9000 };
    static const size_t s1300[] = { 20, 1283, 1284, 1285, 1296, 1297, 1299, 1300, 1301, 1316, 1317 };

    /* Spot checks of the rule itself. */
    CHECK(th_data_len(20, 1420) == 32 + 32);
    CHECK(th_data_len(1419, 1420) == 32 + 1420);
    CHECK(th_data_len(1420, 1420) == 32 + 1420);
    CHECK(th_data_len(1421, 1420) == 32 + 1436);
    CHECK(th_data_len(1500, 1420) == 32 + 1500);
    check_padding(1420, s1420, sizeof(s1420) / sizeof(s1420[0]));
    check_padding(1300, s1300, sizeof(s1300) / sizeof(s1300[0]));
    printf("padding: message = 32 + padded length (multiple of 16, the last MTU unit never past the MTU) "
           "for mtu 1420 and 1300; delivered packets have their exact original length\n");
}

/* a encapsulates raw bytes; returns b's result for the message. */
static struct wb_result deliver_raw(struct th_pair *p, const uint8_t *pkt, size_t len)
{
    struct wb_result r = th_emit(p, &p->a, wb_tunnel_encapsulate(p->a.t, pkt, len, p->a.buf, sizeof(p->a.buf)));

    if (r.op != WB_WRITE_TO_NETWORK)
        return r;
    th_inbox_discard(&p->b);
    return th_deliver(p, &p->b, p->a.buf, r.size);
}

static void test_inner_packet_validation(void)
{
    struct th_pair *p = connected(NULL);
    uint8_t pkt[200];
    struct wb_result r;
    unsigned bad = 0;
    const struct { size_t len; uint8_t b0; unsigned tot; const char *what; } v4[] = {
        { 19, 0x45, 19, "IPv4 shorter than its header" },
        { 60, 0x44, 60, "IPv4 IHL 4" },
        { 60, 0x45, 65, "IPv4 total length past the end of the padded plaintext" },
        { 60, 0x45, 19, "IPv4 total length below the header" },
        { 60, 0x46, 22, "IPv4 total length below IHL 6" },
        { 60, 0x55, 60, "version 5" },
        { 60, 0x05, 60, "version 0" },
        { 60, 0xf5, 60, "version 15" },
    };

    for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
        memset(pkt, 0x11, sizeof(pkt));
        pkt[0] = v4[i].b0;
        pkt[2] = (uint8_t)(v4[i].tot >> 8);
        pkt[3] = (uint8_t)v4[i].tot;
        r = deliver_raw(p, pkt, v4[i].len);
        if (r.op != WB_DONE) {
            fprintf(stderr, "%s delivered\n", v4[i].what);
            continue;
        }
        bad++;
    }
    /* IPv6 shorter than its header, and a payload length past the end (of
     * the plaintext: 100 bytes travel padded to 112, the receiver cannot
     * tell padding from packet, and neither can Linux). */
    th_ipv6(pkt, 100, 1);
    r = deliver_raw(p, pkt, 39);
    bad += r.op == WB_DONE;
    pkt[5] = 112 - 40 + 1;
    r = deliver_raw(p, pkt, 100);
    bad += r.op == WB_DONE;
    CHECK(bad == sizeof(v4) / sizeof(v4[0]) + 2);
    CHECK(th_drops(&p->b, WB_DROP_BAD_INNER_PACKET) == sizeof(v4) / sizeof(v4[0]) + 2);
    CHECK(p->b.got.n == 0);

    /* A length field shorter than the buffer: the packet is trimmed to it
     * (this is how padding comes off). */
    th_ipv4(pkt, 80, 7);
    memset(pkt + 80, 0xee, 20);
    r = deliver_raw(p, pkt, 100);
    CHECK(r.op == WB_WRITE_TO_TUNNEL_IPV4 && r.size == 80 && p->b.got.n == 1 &&
          th_is_packet(&p->b.got.items[0], 80, 7, 4));
    th_ipv6(pkt, 90, 8);
    r = deliver_raw(p, pkt, 100);
    CHECK(r.op == WB_WRITE_TO_TUNNEL_IPV6 && r.size == 90 && p->b.got.n == 2 &&
          th_is_packet(&p->b.got.items[1], 90, 8, 6));
    th_pair_free(p);
    printf("inner packets: %zu kinds of non-IP or inconsistent payloads dropped as BAD_INNER_PACKET; "
           "short length fields trim\n", sizeof(v4) / sizeof(v4[0]) + 2);
}

/* Calls with exact-size heap output buffers. */
static struct wb_result encap_cap(struct wb_tunnel *t, const uint8_t *src, size_t len, size_t cap)
{
    uint8_t *dst = th_xmalloc(cap);
    struct wb_result r = wb_tunnel_encapsulate(t, src, len, dst, cap);

    free(dst);
    return r;
}

static struct wb_result decap_cap(struct wb_tunnel *t, const uint8_t *src, size_t len, size_t cap)
{
    uint8_t *dst = th_xmalloc(cap);
    struct wb_result r = wb_tunnel_decapsulate(t, NULL, src, len, dst, cap);

    free(dst);
    return r;
}

static bool refused(struct wb_result r, struct th_side *s, uint64_t too_small_before)
{
    return r.op == WB_ERROR || (r.op == WB_DONE && th_drops(s, WB_DROP_DST_TOO_SMALL) == too_small_before + 1);
}

static void test_dst_too_small_handshake(void)
{
    struct th_pair *p = th_pair_new(NULL);
    uint8_t pkt[300];
    struct th_msg init;
    struct wb_result r;
    uint64_t d;

    /* No session: the initiation needs 148 bytes. */
    d = th_drops(&p->a, WB_DROP_DST_TOO_SMALL);
    r = wb_tunnel_force_handshake(p->a.t, (uint8_t[MESSAGE_INITIATION_LEN - 1]){ 0 }, MESSAGE_INITIATION_LEN - 1);
    CHECK(refused(r, &p->a, d));
    th_ipv4(pkt, 100, 1);
    d = th_drops(&p->a, WB_DROP_DST_TOO_SMALL);
    r = encap_cap(p->a.t, pkt, 100, MESSAGE_INITIATION_LEN - 1);
    CHECK(refused(r, &p->a, d));
    CHECK(tunnel_debug_staged_count(p->a.t) == 1);       /* the packet waits */
    /* The responder needs 92 bytes for its response; nothing is consumed. */
    th_force_handshake(p, &p->a);
    th_inbox_discard(&p->b);
    init = last_sent(&p->a);
    d = th_drops(&p->b, WB_DROP_DST_TOO_SMALL);
    r = decap_cap(p->b.t, init.data, init.len, MESSAGE_RESPONSE_LEN - 1);
    CHECK(refused(r, &p->b, d));
    CHECK(th_indices(&p->b).next == 0);
    th_deliver(p, &p->b, init.data, init.len);           /* the same one, now taken */
    th_run(p);
    CHECK(th_stats(&p->a).handshakes_completed == 1 && th_stats(&p->b).handshakes_completed == 1);
    CHECK(p->b.got.n == 1);
    free(init.data);
    th_pair_free(p);
    printf("small buffers: initiation and response refused one byte short, nothing consumed\n");
}

static void test_dst_too_small_data(void)
{
    struct th_pair *p = connected(NULL);
    uint8_t pkt[300];
    struct th_msg m;
    struct wb_result r;
    uint64_t d;

    /* Data: 300 bytes -> 32 + 304; one byte less is refused and costs no nonce. */
    th_send(p, &p->a, 100, 1, 4);
    th_run(p);
    th_ipv4(pkt, 300, 2);
    d = th_drops(&p->a, WB_DROP_DST_TOO_SMALL);
    r = encap_cap(p->a.t, pkt, 300, th_data_len(300, WB_DEFAULT_MTU) - 1);
    CHECK(refused(r, &p->a, d));
    m = send_held(p, &p->a, 300, 2, 4);
    CHECK(m.len == th_data_len(300, WB_DEFAULT_MTU));
    CHECK(th_counter(m.data) == th_counter(p->a.sent.items[p->a.sent.n - 2].data) + 1);
    /* Receiving needs room for the padded plaintext. */
    d = th_drops(&p->b, WB_DROP_DST_TOO_SMALL);
    r = decap_cap(p->b.t, m.data, m.len, m.len - MESSAGE_MINIMUM_LENGTH - 1);
    CHECK(refused(r, &p->b, d));
    r = decap_cap(p->b.t, m.data, m.len, m.len - MESSAGE_MINIMUM_LENGTH);
    CHECK(r.op == WB_WRITE_TO_TUNNEL_IPV4 && r.size == 300);  /* the window was not burned */
    r = decap_cap(p->b.t, m.data, m.len, m.len);
    CHECK(r.op == WB_DONE && th_drops(&p->b, WB_DROP_REPLAY) == 1);
    /* A keepalive into a buffer of exactly 32 bytes. */
    r = encap_cap(p->a.t, NULL, 0, MESSAGE_MINIMUM_LENGTH);
    CHECK(r.op == WB_WRITE_TO_NETWORK && r.size == MESSAGE_MINIMUM_LENGTH);
    d = th_drops(&p->a, WB_DROP_DST_TOO_SMALL);
    r = encap_cap(p->a.t, NULL, 0, MESSAGE_MINIMUM_LENGTH - 1);
    CHECK(refused(r, &p->a, d));
    free(m.data);
    th_pair_free(p);
    printf("small buffers: data and keepalive refused one byte short without using a nonce or the "
           "replay window; exact sizes work\n");
}

/* ---------------------------------------------------------------- batches */

struct batch {
    struct wb_packet pk[128];
    uint8_t *src[128];
    size_t n;
};

static void batch_free(struct batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        free(b->src[i]);
        free(b->pk[i].dst);
    }
    memset(b, 0, sizeof(*b));
}

/* Add a copy of src with an exact-size heap dst of `cap` bytes. */
static void batch_add(struct batch *b, const uint8_t *src, size_t len, size_t cap,
                      const struct wb_endpoint *from)
{
    struct wb_packet *pk = &b->pk[b->n];

    b->src[b->n] = th_xmalloc(len);
    if (len)
        memcpy(b->src[b->n], src, len);
    memset(pk, 0, sizeof(*pk));
    pk->src = b->src[b->n];
    pk->len = len;
    pk->dst = th_xmalloc(cap);
    pk->dst_cap = cap;
    pk->from = from;
    b->n++;
}

/* Packet i of the mixed batch: a few edge sizes, then pseudo-random ones;
 * every third an IPv6 packet. */
static size_t mixed_len(unsigned i, int *family)
{
    static const size_t fixed[] = { 20, 40, 1420, 1419, 21, 576, 1280, 41 };
    uint32_t x = i * 2654435761u;

    *family = (i % 3 == 0) ? 6 : 4;
    if (i < 8) {
        *family = fixed[i] == 40 || fixed[i] == 41 ? 6 : 4;
        return fixed[i];
    }
    return (*family == 6 ? 40 : 20) + (x >> 8) % 1380;
}

/* Element i of a batch holds the delivered packet th_ip(len, seq, family)? */
static bool batch_delivered(const struct batch *b, size_t i, size_t len, uint32_t seq, int family)
{
    struct th_msg got = { b->pk[i].dst, b->pk[i].result.size, 0, b->pk[i].result.op };

    return th_is_packet(&got, len, seq, family);
}

/* Every element i of dec holds mixed packet i. */
static bool batch_holds_mixed(const struct batch *dec, unsigned n)
{
    bool ok = true;

    for (unsigned i = 0; i < n; i++) {
        int f;
        size_t len = mixed_len(i, &f);

        ok &= batch_delivered(dec, i, len, i, f);
    }
    return ok;
}

/* Encapsulate the n mixed packets in one batch on a; the messages must be
 * what the single calls gave (`single`), with the counters following on. */
static bool encap_mixed_batch(struct th_pair *p, struct batch *enc, const struct th_msg *single, unsigned n)
{
    uint32_t receiver = th_le32(single[0].data + TH_DATA_INDEX_OFF);
    uint64_t c0 = th_counter(single[n - 1].data) + 1;
    uint8_t pkt[1500];
    bool ok = true;

    for (unsigned i = 0; i < n; i++) {
        int f;
        size_t len = mixed_len(i, &f);

        th_ip(pkt, len, i, f);
        batch_add(enc, pkt, len, len + WB_OVERHEAD + 16, NULL);
    }
    ok &= wb_tunnel_encapsulate_batch(p->a.t, enc->pk, n) == n;
    for (unsigned i = 0; i < n; i++) {
        const struct wb_packet *pk = &enc->pk[i];

        ok &= pk->result.op == WB_WRITE_TO_NETWORK && pk->result.size == single[i].len &&
              th_le32(pk->dst) == MESSAGE_DATA && th_le32(pk->dst + TH_DATA_INDEX_OFF) == receiver &&
              th_counter(pk->dst) == c0 + i;
    }
    return ok;
}

static void test_batch_vs_single(void)
{
    enum { N = 100 };
    struct th_pair *p = connected(NULL);
    struct batch enc, dec;
    struct th_msg single[N];
    bool single_ok = true, replays_ok = true;
    struct wb_tunnel_stats sa0, sa1;

    memset(&enc, 0, sizeof(enc));
    memset(&dec, 0, sizeof(dec));
    for (unsigned i = 0; i < N; i++) {                 /* singly first, for comparison */
        int f;
        size_t len = mixed_len(i, &f);

        single[i] = send_held(p, &p->a, len, i, f);
        single_ok &= single[i].len == th_data_len(len, WB_DEFAULT_MTU);
    }
    CHECK(single_ok);
    sa0 = th_stats(&p->a);
    CHECK(encap_mixed_batch(p, &enc, single, N));
    sa1 = th_stats(&p->a);
    CHECK(sa1.tx_packets == sa0.tx_packets + N);
    CHECK(sa1.tx_bytes == sa0.tx_bytes + th_sum_len(&p->a.sent, p->a.sent.n - N));

    /* b: the batch-made messages in one decapsulate batch... */
    for (unsigned i = 0; i < N; i++)
        batch_add(&dec, enc.pk[i].dst, enc.pk[i].result.size, enc.pk[i].result.size, &p->a.ep);
    CHECK(wb_tunnel_decapsulate_batch(p->b.t, dec.pk, N) == N);
    CHECK(batch_holds_mixed(&dec, N));
    batch_free(&dec);
    /* ...and the singly made ones too: byte-identical plaintext either way. */
    for (unsigned i = 0; i < N; i++)
        batch_add(&dec, single[i].data, single[i].len, single[i].len, &p->a.ep);
    CHECK(wb_tunnel_decapsulate_batch(p->b.t, dec.pk, N) == N);
    CHECK(batch_holds_mixed(&dec, N));
    /* Replays, in a batch, as single calls would: all refused. */
    CHECK(wb_tunnel_decapsulate_batch(p->b.t, dec.pk, N) == N);
    for (unsigned i = 0; i < N; i++)
        replays_ok &= dec.pk[i].result.op == WB_DONE;
    CHECK(replays_ok);
    CHECK(th_drops(&p->b, WB_DROP_REPLAY) == N);
    batch_free(&dec);
    batch_free(&enc);
    for (unsigned i = 0; i < N; i++)
        free(single[i].data);
    th_pair_free(p);
    printf("batch: %d mixed IPv4/IPv6 packets encapsulated and decapsulated in batches match the single "
           "calls (sizes, counters, plaintext), replays refused\n", N);
}

/* Compare one batch element with what the single call said. */
static bool same_result(struct wb_result a, struct wb_result b)
{
    return a.op == b.op && a.size == b.size && a.error == b.error;
}

static void test_batch_before_session(void)
{
    struct th_pair *p = th_pair_new(NULL);
    struct batch b;
    uint8_t pkt[200];
    bool order_ok = true;

    memset(&b, 0, sizeof(b));
    for (unsigned i = 0; i < 5; i++) {
        th_ipv4(pkt, 100 + i, i);
        batch_add(&b, pkt, 100 + i, 256, NULL);
    }
    CHECK(wb_tunnel_encapsulate_batch(p->a.t, b.pk, 5) == 5);
    CHECK(b.pk[0].result.op == WB_WRITE_TO_NETWORK && b.pk[0].result.size == MESSAGE_INITIATION_LEN);
    for (unsigned i = 1; i < 5; i++)
        order_ok &= b.pk[i].result.op == WB_DONE;
    CHECK(order_ok);
    CHECK(tunnel_debug_staged_count(p->a.t) == 5);
    th_deliver(p, &p->b, b.pk[0].dst, b.pk[0].result.size);
    th_run(p);
    CHECK(p->b.got.n == 5);
    for (unsigned i = 0; i < 5 && i < p->b.got.n; i++)
        order_ok &= th_is_packet(&p->b.got.items[i], 100 + i, i, 4);
    CHECK(order_ok);
    batch_free(&b);
    th_pair_free(p);
    printf("batch before a session: the first element is the initiation, all five staged and delivered "
           "in order\n");
}

/* A packet too big for any message, and a missing dst: each batch element
 * says what the single call says. */
static void test_batch_bad_elements(void)
{
    struct th_pair *p = connected(NULL);
    size_t big = MESSAGE_MAX_LEN - MESSAGE_MINIMUM_LENGTH + 1;
    uint8_t *huge = calloc(1, big);
    struct wb_result single;
    uint8_t pkt[200];
    struct batch b;

    memset(&b, 0, sizeof(b));
    CHECK(huge != NULL);
    single = wb_tunnel_encapsulate(p->a.t, huge, big, p->a.buf, sizeof(p->a.buf));
    CHECK(single.op == WB_ERROR && single.error == -EMSGSIZE);
    th_ipv4(pkt, 100, 9);
    batch_add(&b, huge, big, big + 64, NULL);
    batch_add(&b, pkt, 100, 256, NULL);
    free(b.pk[1].dst);
    b.pk[1].dst = NULL;
    CHECK(wb_tunnel_encapsulate_batch(p->a.t, b.pk, 2) == 2);
    if (!same_result(b.pk[0].result, single))
        fprintf(stderr, "oversized packet in a batch: op %d error %d size %zu\n", b.pk[0].result.op,
                b.pk[0].result.error, b.pk[0].result.size);
    CHECK(same_result(b.pk[0].result, single));
    single = wb_tunnel_encapsulate(p->a.t, pkt, 100, NULL, 256);
    CHECK(same_result(b.pk[1].result, single));
    batch_free(&b);
    free(huge);
    th_pair_free(p);
    printf("batch elements: an oversized packet and a missing buffer give the single call's result\n");
}

/* The rekey batch for b: five data messages under k1, a's rekey initiation,
 * five more under k1, a short one, a duplicate, a forgery, a keepalive. */
static void build_rekey_batch(struct th_pair *p, struct batch *b, struct th_msg held[11])
{
    struct th_msg init;
    uint8_t *forged;
    unsigned k = 0;

    for (unsigned i = 0; i < 5; i++)
        held[k++] = send_held(p, &p->a, 100 + 10 * i, i, 4);
    p->a.cut_out = true;
    th_force_handshake(p, &p->a);                 /* a rekeys; k1 stays current */
    init = last_sent(&p->a);
    p->a.cut_out = false;
    for (unsigned i = 5; i < 10; i++)
        held[k++] = send_held(p, &p->a, 100 + 10 * i, i, 6 - 2 * (i % 2));
    held[k++] = send_held(p, &p->a, 20, 10, 4);

    for (unsigned i = 0; i < 5; i++)
        batch_add(b, held[i].data, held[i].len, 2048, &p->a.ep);
    batch_add(b, init.data, init.len, 2048, &p->a.ep);
    for (unsigned i = 5; i < 11; i++)
        batch_add(b, held[i].data, held[i].len, 2048, &p->a.ep);
    batch_add(b, held[0].data, held[0].len, 2048, &p->a.ep);
    forged = th_xmalloc(held[1].len);
    memcpy(forged, held[1].data, held[1].len);
    forged[MESSAGE_DATA_HEADER_LEN + 4] ^= 1;
    batch_add(b, forged, held[1].len, 2048, &p->a.ep);
    free(forged);
    free(init.data);
    th_send_keepalive(p, &p->a);
    th_inbox_discard(&p->b);
    batch_add(b, p->a.buf, MESSAGE_MINIMUM_LENGTH, 2048, &p->a.ep);
}

static bool rekey_batch_results_ok(const struct batch *b)
{
    bool ok = true;

    for (unsigned i = 0; i < 5; i++)
        ok &= batch_delivered(b, i, 100 + 10 * i, i, 4);
    ok &= b->pk[5].result.op == WB_WRITE_TO_NETWORK && b->pk[5].result.size == MESSAGE_RESPONSE_LEN;
    for (unsigned i = 5; i < 10; i++)
        ok &= batch_delivered(b, i + 1, 100 + 10 * i, i, 6 - 2 * (i % 2));
    ok &= batch_delivered(b, 11, 20, 10, 4);
    return ok && b->pk[12].result.op == WB_DONE && b->pk[13].result.op == WB_DONE &&
           b->pk[14].result.op == WB_DONE;
}

static void test_batch_with_handshake(void)
{
    struct th_pair *p = connected(NULL);
    struct th_indices kb0 = th_indices(&p->b), kb1;
    struct th_msg held[11];
    struct batch b;
    size_t got0;

    th_advance(p, 6 * NSEC_PER_SEC, TH_TICK_NS);
    memset(&b, 0, sizeof(b));
    build_rekey_batch(p, &b, held);
    got0 = p->b.got.n;
    CHECK(wb_tunnel_decapsulate_batch(p->b.t, b.pk, b.n) == b.n);
    CHECK(rekey_batch_results_ok(&b));
    CHECK(th_drops(&p->b, WB_DROP_REPLAY) == 1);
    CHECK(th_drops(&p->b, WB_DROP_DECRYPT_FAILED) == 1);
    kb1 = th_indices(&p->b);
    CHECK(kb1.current == kb0.current && kb1.next != 0);
    /* Drain b as the API asks, deliver the response: the rekey completes. */
    th_drain(p, &p->b);
    th_inject(p, &p->a, b.pk[5].dst, b.pk[5].result.size);
    th_run(p);
    kb1 = th_indices(&p->b);
    CHECK(kb1.current != kb0.current && kb1.previous == kb0.current && kb1.next == 0);
    CHECK(th_stats(&p->a).handshakes_completed == 2 && th_stats(&p->b).handshakes_completed == 2);
    th_send(p, &p->a, 333, 77, 4);
    th_run(p);
    CHECK(p->b.got.n == got0 + 1 && th_is_packet(&p->b.got.items[got0], 333, 77, 4));
    batch_free(&b);
    for (unsigned i = 0; i < 11; i++)
        free(held[i].data);
    th_pair_free(p);
    printf("batch with a handshake: data before and after a rekey initiation delivered, the response "
           "returned in place, duplicate and forgery dropped, rekey completes\n");
}

int main(void)
{
    test_replay_duplicate();
    test_reorder_in_window();
    test_window_edge();
    test_tampered();
    test_padding();
    test_inner_packet_validation();
    test_dst_too_small_handshake();
    test_dst_too_small_data();
    test_batch_vs_single();
    test_batch_before_session();
    test_batch_bad_elements();
    test_batch_with_handshake();
    return check_summary();
}
