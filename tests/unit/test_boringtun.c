/* SPDX-License-Identifier: MIT */
/*
 * test_boringtun.c - the BoringTun-compatible FFI, used the way a BoringTun
 * user would: only include/wireguard_ffi.h, no wirebolt.h. Keys, tunnel
 * creation errors, logging, a full handshake with the drain loop, IPv4 and
 * IPv6 both ways (with and without a preshared key), mismatched preshared
 * keys, stats, tick, forced handshakes, and garbage input.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wireguard_ffi.h"
#include "check.h"

#define BUF_LEN 2048
#define INITIATION_LEN 148      /* WireGuard message 1 */
#define MSG_INITIATION 1
#define MSG_DATA 4
#define MAX_GOT 16
#define MAX_FLIGHT 64

/* RFC 7748 section 6.1: Alice's key pair. */
static const char alice_priv_hex[] =
    "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
static const char alice_pub_hex[] =
    "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
static const char alice_pub_b64[] = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";

/* ------------------------------------------------------------- helpers */

/* One side of a tunnel pair and the inner packets it delivered. */
struct peer {
    struct wireguard_tunnel *t;
    int n_got;
    enum result_type got_op[MAX_GOT];
    size_t got_len[MAX_GOT];
    uint8_t got[MAX_GOT][BUF_LEN];
};

/* Datagrams on the wire, delivered in order by pump(). */
struct flight {
    struct peer *to, *from;
    size_t len;
    uint8_t data[BUF_LEN];
};
static struct flight wire[MAX_FLIGHT];
static int wire_head, wire_tail;

static void push(struct peer *to, struct peer *from, const uint8_t *d, size_t len)
{
    struct flight *f;

    CHECK(wire_tail < MAX_FLIGHT && len <= BUF_LEN);
    if (wire_tail >= MAX_FLIGHT || len > BUF_LEN)
        return;
    f = &wire[wire_tail++];
    f->to = to;
    f->from = from;
    f->len = len;
    memcpy(f->data, d, len);
}

/* Feed one datagram to self, send what it answers to other, and drain
 * (src_size 0) after every WRITE_TO_NETWORK, as BoringTun requires. */
static void read_one(struct peer *self, struct peer *other, const uint8_t *src, size_t len)
{
    static uint8_t out[BUF_LEN];
    struct wireguard_result r = wireguard_read(self->t, src, (uint32_t)len, out, sizeof(out));
    int rounds = 0;

    while (r.op == WRITE_TO_NETWORK && rounds++ < 200) {
        push(other, self, out, r.size);
        r = wireguard_read(self->t, NULL, 0, out, sizeof(out));
    }
    CHECK(r.op != WRITE_TO_NETWORK);           /* the drain terminated */
    if ((r.op == WRITE_TO_TUNNEL_IPV4 || r.op == WRITE_TO_TUNNEL_IPV6) && self->n_got < MAX_GOT) {
        self->got_op[self->n_got] = r.op;
        self->got_len[self->n_got] = r.size;
        memcpy(self->got[self->n_got], out, r.size < BUF_LEN ? r.size : BUF_LEN);
        self->n_got++;
    }
}

static void pump(void)
{
    while (wire_head < wire_tail) {
        struct flight *f = &wire[wire_head++];
        read_one(f->to, f->from, f->data, f->len);
    }
    wire_head = wire_tail = 0;
}

/* wireguard_write from -> to, then deliver everything. Returns the result. */
static struct wireguard_result send_packet(struct peer *from, struct peer *to,
                                           const uint8_t *pkt, size_t len, uint8_t *dgram)
{
    struct wireguard_result r = wireguard_write(from->t, pkt, (uint32_t)len, dgram, BUF_LEN);

    if (r.op == WRITE_TO_NETWORK)
        push(to, from, dgram, r.size);
    pump();
    return r;
}

static uint16_t ipv4_checksum(const uint8_t *h)
{
    uint32_t sum = 0;

    for (int i = 0; i < 20; i += 2)
        sum += (uint32_t)(h[i] << 8 | h[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* A well-formed IPv4 packet of `total` bytes, 10.0.0.a -> 10.0.0.b,
 * protocol 253 (experimentation), payload bytes seed, seed+1, ... */
static size_t make_ipv4(uint8_t *p, size_t total, uint8_t a, uint8_t b, uint8_t seed)
{
    uint16_t sum;

    memset(p, 0, 20);
    p[0] = 0x45;
    p[2] = (uint8_t)(total >> 8);
    p[3] = (uint8_t)total;
    p[8] = 64;
    p[9] = 253;
    p[12] = 10, p[15] = a;
    p[16] = 10, p[19] = b;
    sum = ipv4_checksum(p);
    p[10] = (uint8_t)(sum >> 8);
    p[11] = (uint8_t)sum;
    for (size_t i = 20; i < total; i++)
        p[i] = (uint8_t)(seed + i);
    return total;
}

/* A well-formed IPv6 packet of `total` bytes, fd00::a -> fd00::b. */
static size_t make_ipv6(uint8_t *p, size_t total, uint8_t a, uint8_t b, uint8_t seed)
{
    memset(p, 0, 40);
    p[0] = 0x60;
    p[4] = (uint8_t)((total - 40) >> 8);
    p[5] = (uint8_t)(total - 40);
    p[6] = 253;
    p[7] = 64;
    p[8] = 0xfd, p[23] = a;
    p[24] = 0xfd, p[39] = b;
    for (size_t i = 40; i < total; i++)
        p[i] = (uint8_t)(seed ^ i);
    return total;
}

/* Send pkt from -> to over an established session; check that to delivers
 * exactly pkt with the right op. */
static void check_delivery(struct peer *from, struct peer *to, const uint8_t *pkt, size_t len,
                           enum result_type want)
{
    uint8_t dgram[BUF_LEN];
    int before = to->n_got;
    struct wireguard_result r = send_packet(from, to, pkt, len, dgram);

    CHECK(r.op == WRITE_TO_NETWORK);
    CHECK(r.size >= len + 32 && r.size <= len + 32 + 15);
    CHECK(dgram[0] == MSG_DATA);
    CHECK(to->n_got == before + 1);
    if (to->n_got != before + 1)
        return;
    CHECK(to->got_op[before] == want);
    CHECK(to->got_len[before] == len);
    if (to->got_len[before] == len)
        CHECK_EQ_MEM(to->got[before], pkt, len);
}

static char *key_b64(struct x25519_key k)
{
    const char *s = x25519_key_to_base64(k);
    static char copies[8][64];
    static int next;
    char *out = copies[next++ % 8];

    CHECK(s != NULL);
    snprintf(out, 64, "%s", s ? s : "");
    x25519_key_to_str_free(s);
    return out;
}

static unsigned long log_lines;
static int log_line_empty;

static void count_log(const char *line)
{
    log_lines++;
    if (!line || !line[0])
        log_line_empty = 1;
}

/* ---------------------------------------------------------------- tests */

static void test_keys(void)
{
    struct x25519_key priv, pub, k1, k2;
    const char *s;

    check_unhex(priv.key, sizeof(priv.key), alice_priv_hex);
    pub = x25519_public_key(priv);
    s = x25519_key_to_hex(pub);
    CHECK(s && strcmp(s, alice_pub_hex) == 0);
    x25519_key_to_str_free(s);
    s = x25519_key_to_base64(pub);
    CHECK(s && strcmp(s, alice_pub_b64) == 0);
    CHECK(check_base64_encoded_x25519_key(s) == 1);
    x25519_key_to_str_free(s);
    x25519_key_to_str_free(NULL);

    k1 = x25519_secret_key();
    k2 = x25519_secret_key();
    CHECK(memcmp(k1.key, k2.key, 32) != 0);
    CHECK((k1.key[0] & 7) == 0 && (k1.key[31] & 0xc0) == 0x40);   /* clamped */
    CHECK(sizeof(struct x25519_key) == 32);
    CHECK(offsetof(struct stats, estimated_loss) == 8 + 2 * sizeof(size_t));
    CHECK(offsetof(struct stats, reserved) + 56 <= sizeof(struct stats));

    CHECK(check_base64_encoded_x25519_key(key_b64(k1)) == 1);
    CHECK(check_base64_encoded_x25519_key(NULL) == 0);
    CHECK(check_base64_encoded_x25519_key("") == 0);
    CHECK(check_base64_encoded_x25519_key("abc") == 0);
    CHECK(check_base64_encoded_x25519_key("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!=") == 0);
    /* 31 and 33 bytes, 44 characters each */
    CHECK(check_base64_encoded_x25519_key("AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHw==") == 0);
    CHECK(check_base64_encoded_x25519_key("AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAh") == 0);
    CHECK(check_base64_encoded_x25519_key("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=") == 0);
    CHECK(check_base64_encoded_x25519_key("hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo= ") == 0);
}

static void test_new_tunnel_errors(void)
{
    struct x25519_key priv = x25519_secret_key(), peer = x25519_public_key(x25519_secret_key());
    char *p = key_b64(priv), *q = key_b64(peer);
    const char *hp = x25519_key_to_hex(priv), *hq = x25519_key_to_hex(peer);
    struct wireguard_tunnel *t;
    unsigned long before;

    CHECK(set_logging_function(count_log));
    before = log_lines;
    CHECK(new_tunnel("not a key", q, NULL, 0, 1) == NULL);
    CHECK(log_lines > before);                  /* the reason was logged */
    CHECK(new_tunnel(p, "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTm", NULL, 0, 1) == NULL);
    CHECK(new_tunnel(p, q, "short", 0, 1) == NULL);
    CHECK(new_tunnel(NULL, q, NULL, 0, 1) == NULL);
    CHECK(new_tunnel(p, NULL, NULL, 0, 1) == NULL);
    /* the all-zero public key is of low order: no handshake could use it */
    CHECK(new_tunnel(p, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", NULL, 0, 1) == NULL);

    t = new_tunnel(hp, hq, NULL, 25, 0xabcdef);  /* hex keys are accepted too */
    CHECK(t != NULL);
    tunnel_free(t);
    tunnel_free(NULL);
    x25519_key_to_str_free(hp);
    x25519_key_to_str_free(hq);
}

static void test_null_tunnel(void)
{
    uint8_t buf[BUF_LEN];
    struct stats s = wireguard_stats(NULL);

    CHECK(wireguard_write(NULL, buf, 20, buf, sizeof(buf)).op == WIREGUARD_ERROR);
    CHECK(wireguard_read(NULL, buf, 20, buf, sizeof(buf)).op == WIREGUARD_ERROR);
    CHECK(wireguard_tick(NULL, buf, sizeof(buf)).op == WIREGUARD_ERROR);
    CHECK(wireguard_force_handshake(NULL, buf, sizeof(buf)).op == WIREGUARD_ERROR);
    CHECK(s.time_since_last_handshake == -1 && s.tx_bytes == 0 && s.estimated_rtt == -1);
}

static struct peer pa, pb;

/* Create pa/pb with the given preshared keys (NULL = none). */
static int make_pair(const char *psk_a, const char *psk_b)
{
    struct x25519_key a = x25519_secret_key(), b = x25519_secret_key();

    memset(&pa, 0, sizeof(pa));
    memset(&pb, 0, sizeof(pb));
    pa.t = new_tunnel(key_b64(a), key_b64(x25519_public_key(b)), psk_a, 0, 0x000a01);
    pb.t = new_tunnel(key_b64(b), key_b64(x25519_public_key(a)), psk_b, 0, 0x000b02);
    CHECK(pa.t != NULL && pb.t != NULL);
    return pa.t && pb.t ? 0 : -1;
}

static void free_pair(void)
{
    tunnel_free(pa.t);
    tunnel_free(pb.t);
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

static void check_established_stats(const struct wireguard_tunnel *t)
{
    struct stats s = wireguard_stats(t);

    CHECK(s.time_since_last_handshake >= 0);
    CHECK(s.tx_bytes > 0 && s.rx_bytes > 0);
    CHECK(all_zero(s.reserved, sizeof(s.reserved)));
}

/* Garbage, forgeries and replays must be dropped without harm. */
static void feed_garbage(struct peer *victim, const uint8_t *real_data, size_t real_len)
{
    uint8_t junk[BUF_LEN], out[BUF_LEN];
    uint32_t x = 0x9e3779b9;
    struct wireguard_result r;
    int bad = 0;

    for (int i = 0; i < 400; i++) {
        size_t len = 1 + i % 300;
        for (size_t j = 0; j < len; j++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            junk[j] = (uint8_t)x;
        }
        if (i % 2 && len >= 4) {        /* plausible header: type 1..4, zeros */
            junk[0] = (uint8_t)(1 + i % 4);
            junk[1] = junk[2] = junk[3] = 0;
        }
        r = wireguard_read(victim->t, junk, (uint32_t)len, out, sizeof(out));
        bad += r.op != WIREGUARD_DONE && r.op != WIREGUARD_ERROR;
    }
    CHECK(bad == 0);

    memcpy(junk, real_data, real_len);          /* replay of a delivered datagram */
    r = wireguard_read(victim->t, junk, (uint32_t)real_len, out, sizeof(out));
    CHECK(r.op == WIREGUARD_DONE || r.op == WIREGUARD_ERROR);
    junk[real_len - 1] ^= 1;                    /* forged tag */
    junk[8] ^= 0x40;                            /* fresh counter */
    r = wireguard_read(victim->t, junk, (uint32_t)real_len, out, sizeof(out));
    CHECK(r.op == WIREGUARD_DONE || r.op == WIREGUARD_ERROR);
}

/* With a session up (pa -> pb): replays, forgeries, garbage and a forced
 * handshake must not disturb the session. p4/p6 are valid packets. */
static void test_session_survives(const uint8_t *p4, size_t n4, const uint8_t *p6, size_t n6)
{
    uint8_t dgram[BUF_LEN], keep[BUF_LEN];
    struct wireguard_result r;
    size_t keep_len;
    int got;

    /* keep a copy of one delivered data datagram to replay and forge */
    r = wireguard_write(pa.t, p4, (uint32_t)n4, keep, sizeof(keep));
    keep_len = r.size;
    CHECK(r.op == WRITE_TO_NETWORK && keep_len > 32);
    if (r.op == WRITE_TO_NETWORK && keep_len > 32) {
        got = pb.n_got;
        read_one(&pb, &pa, keep, keep_len);
        CHECK(pb.n_got == got + 1 && pb.got_op[got] == WRITE_TO_TUNNEL_IPV4);
        feed_garbage(&pb, keep, keep_len);
        CHECK(pb.n_got == got + 1);             /* nothing more was delivered */
    }
    check_delivery(&pa, &pb, p4, n4, WRITE_TO_TUNNEL_IPV4);   /* still works */

    memset(dgram, 0xee, sizeof(dgram));
    r = wireguard_force_handshake(pa.t, dgram, sizeof(dgram));
    CHECK(r.op == WRITE_TO_NETWORK && r.size == INITIATION_LEN);
    CHECK(dgram[0] == MSG_INITIATION && dgram[1] == 0 && dgram[2] == 0 && dgram[3] == 0);
    check_delivery(&pa, &pb, p6, n6, WRITE_TO_TUNNEL_IPV6);   /* current session kept */
}

/* A full exchange between two tunnels; `logging` says whether a logging
 * function was set when they were created (then the handshake logs). */
static void test_pair(const char *psk, int logging)
{
    uint8_t p4[BUF_LEN], p6[BUF_LEN], other[BUF_LEN], dgram[BUF_LEN];
    struct wireguard_result r;
    struct stats s;
    size_t n4 = make_ipv4(p4, 84, 1, 2, 7), n6 = make_ipv6(p6, 1280, 1, 2, 9);
    unsigned long lines = log_lines;

    if (make_pair(psk, psk) < 0)
        return;
    s = wireguard_stats(pa.t);
    CHECK(s.time_since_last_handshake == -1 && s.tx_bytes == 0 && s.rx_bytes == 0);
    CHECK(wireguard_tick(pa.t, dgram, sizeof(dgram)).op == WIREGUARD_DONE);
    CHECK(wireguard_read(pa.t, NULL, 0, dgram, sizeof(dgram)).op == WIREGUARD_DONE);

    /* No session yet: the packet waits, an initiation goes out; the drain
     * loops deliver it once the handshake completes. */
    r = send_packet(&pa, &pb, p4, n4, dgram);
    CHECK(r.op == WRITE_TO_NETWORK && r.size == INITIATION_LEN && dgram[0] == MSG_INITIATION);
    CHECK(pb.n_got == 1 && pb.got_op[0] == WRITE_TO_TUNNEL_IPV4 && pb.got_len[0] == n4);
    if (pb.n_got == 1 && pb.got_len[0] == n4)
        CHECK_EQ_MEM(pb.got[0], p4, n4);
    CHECK(logging ? log_lines > lines : log_lines == lines);

    check_delivery(&pb, &pa, p6, n6, WRITE_TO_TUNNEL_IPV6);
    check_delivery(&pa, &pb, other, make_ipv6(other, 41, 3, 4, 1), WRITE_TO_TUNNEL_IPV6);
    check_delivery(&pb, &pa, other, make_ipv4(other, 20, 2, 1, 0), WRITE_TO_TUNNEL_IPV4);
    check_delivery(&pa, &pb, other, make_ipv4(other, 1420, 1, 2, 3), WRITE_TO_TUNNEL_IPV4);
    check_established_stats(pa.t);
    check_established_stats(pb.t);
    CHECK(wireguard_tick(pa.t, dgram, sizeof(dgram)).op == WIREGUARD_DONE);
    CHECK(wireguard_tick(pb.t, dgram, sizeof(dgram)).op == WIREGUARD_DONE);
    test_session_survives(p4, n4, p6, n6);
    free_pair();
}

/* Different preshared keys: the initiator cannot authenticate the
 * response, so no session forms and nothing is delivered either way. */
static void test_psk_mismatch(const char *psk_a, const char *psk_b)
{
    uint8_t p4[BUF_LEN], p6[BUF_LEN], dgram[BUF_LEN];
    struct wireguard_result r;
    size_t n4 = make_ipv4(p4, 60, 1, 2, 5), n6 = make_ipv6(p6, 60, 2, 1, 6);

    if (make_pair(psk_a, psk_b) < 0)
        return;
    r = send_packet(&pa, &pb, p4, n4, dgram);
    CHECK(r.op == WRITE_TO_NETWORK && r.size == INITIATION_LEN);
    send_packet(&pb, &pa, p6, n6, dgram);
    send_packet(&pa, &pb, p4, n4, dgram);
    CHECK(pa.n_got == 0 && pb.n_got == 0);
    CHECK(wireguard_stats(pa.t).time_since_last_handshake == -1);
    free_pair();
}

int main(void)
{
    char psk1[64], psk2[64];

    test_keys();
    test_new_tunnel_errors();
    test_null_tunnel();
    snprintf(psk1, sizeof(psk1), "%s", key_b64(x25519_secret_key()));
    snprintf(psk2, sizeof(psk2), "%s", key_b64(x25519_secret_key()));
    test_pair(NULL, 1);
    test_pair(psk1, 1);
    test_psk_mismatch(psk1, psk2);
    test_psk_mismatch(psk1, NULL);
    CHECK(log_line_empty == 0);
    CHECK(set_logging_function(NULL));          /* later tunnels are silent */
    test_pair(psk2, 0);
    return check_summary();
}
