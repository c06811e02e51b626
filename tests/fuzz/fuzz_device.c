/* SPDX-License-Identifier: MIT */
/*
 * fuzz_device.c - libFuzzer harness for the multi-peer device
 * (datapath/device.h) with its real threads (one data worker, the
 * handshake thread) over an in-memory backend (fuzz_memio.h): datagrams
 * and TUN packets built from the input go in, and what the device sends
 * to the two peers the harness plays comes back to them.
 *
 * The fixed state, built once (fixed keys, the RNG of fuzz_common.h, a
 * fake clock that moves only when the harness moves it; one worker):
 *   device  vector responder key, 192.0.2.1:51820, four peers:
 *   P0      client 0 (the vector initiator key, with the vector psk),
 *           endpoint 198.51.100.10:51820, 10.0.0.2/32 fd00::2/128
 *   P1      client 1 (a fixed key), endpoint 198.51.100.11:40000,
 *           10.0.1.0/24 fd00:1::/64
 *   P2      a key nobody here holds, endpoint 203.0.113.5:51820,
 *           10.0.2.0/24 fd00:2::/64 (its handshakes go unanswered)
 *   P3      another, no endpoint, 10.0.3.0/24 fd00:3::/64
 * The clients are wb_tunnels talking to the device's public key, so the
 * initiations, responses and data they make are valid (mac1 included):
 * the input steers them instead of having to guess keys and indices.
 *
 * Input: a sequence of operations (at most MAX_OPS), one byte each plus
 * arguments (a missing byte reads 0); the codes are enum fuzz_device_op
 * (fuzz_common.h, FUZZ_OP_ + the names below):
 *   OP_UDP      src, len16, bytes: a datagram from src (sources below)
 *   OP_TUN      len16, bytes: a packet on the TUN side
 *   OP_TUN_IP   flags (bit 1: IPv6), src, dst, len, bytes: an IP packet
 *               on the TUN side, addresses from the table below
 *   OP_INIT     flags, [off, n, n bytes]: client (bit 0) makes an
 *               initiation; bit 1: XOR the bytes in at off and redo mac1
 *               (the device then parses fuzzed fields behind a good
 *               mac1); bit 2: from a stranger's address; bit 3: twice
 *   OP_DATA     flags (bit 0 client, bit 1 IPv6), src, dst, len, bytes:
 *               the client sends an IP packet through its session (a
 *               handshake first if it has none); a source outside its
 *               allowed IPs meets the device's cryptokey-routing check
 *   OP_INNER    client, len16, bytes: the client encrypts the bytes
 *               as they are (not IP, bad lengths)
 *   OP_INDEX    client, kind, len16, bytes: a data message (kind 0), a
 *               response (1) or a cookie reply (2) addressed to the
 *               device's index in its last handshake with the client
 *   OP_REPLAY   client, src: the client's last datagram once more
 *   OP_TICK     client: the client's timers (keepalives, rekeys)
 *   OP_TIME     b: the clock moves on (up to 10 minutes)
 *   OP_LOAD     spread: FLOOD_N initiations with a good mac1 from a key
 *               the device does not know, from one source (spread even:
 *               the rate limiter's one bucket) or from 8 (odd), straight
 *               into the handshake ring (op_load says why), then a burst
 *               of them through the UDP side; the ring passes 1/8 full
 *               and the device is under load (cookies, rate limits) for a
 *               second of the clock
 *   OP_LOSSY    the clients stop (or start again) hearing the device
 *   OP_CONFIG   what, args: a live change of P0's allowed IPs, P1's
 *               endpoint, P0's keepalive or psk, or P3 removed and back
 * Sources (src % 6): client 0, client 1, P2's endpoint, a stranger IPv4
 * (src / 8 picks which), a stranger IPv6, the device's own address.
 * Addresses (sel % 7): 10.0.0.1 (the device's side), client 0's, one of
 * client 1's, P2's, P3's, nobody's (10.9.9.9), or 4/16 bytes from the
 * input; IPv6 alike (fd00::1, fd00::2, fd00:1::7, ..., fd09::9).
 *
 * After every operation the harness waits until the device has consumed
 * it (quiesce(): the backend's queues empty, the worker asleep, and twice
 * in a row the datapath paused with every ring empty and nothing moved
 * in between; bounded, never a hang), then delivers what the device sent
 * to a client to that client and feeds the answers back, a few rounds.
 * Between inputs the state carries on (sessions, timers, the rate
 * limiter); the clock moves 25 ms per input, and a second more after a
 * flood, so the next input starts without the load. A change of
 * configuration is undone at the end of its input.
 *
 * Deterministic enough, not exactly: two threads draw from the RNG and
 * meet the clock in an order the scheduler picks, and an input meets the
 * state its predecessors left. So a crash input may not crash alone:
 * replay it after the corpus it was found with, in one process (a copy
 * of the scratch directory with the crash file in it, -runs=0). ASan and
 * UBSan reports from the device's own threads stop the run like any.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "datapath/device_impl.h"
#include "fuzz_common.h"
#include "fuzz_memio.h"
#include "proto/byteorder.h"

#define N_CLIENTS 2
#define N_PEERS 4
#define MAX_OPS 48
#define MAX_LEN 2048               /* longest datagram or packet an input makes */
#define MAX_INNER 1760             /* OP_INNER: past the device's 1792-byte buffers once sealed */
#define FLOOD_N 640                /* > DEVICE_HANDSHAKE_RING / 8 + a round */
#define FLOOD_SOURCES 8
#define PUMP_ROUNDS 6
#define QUIESCE_NS (3ULL * NSEC_PER_SEC)
#define MS (1000ULL * 1000ULL)
#define LISTEN_PORT 51820

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ------------------------------------------------------------------ clock */

static _Atomic uint64_t now_mono = FUZZ_MONO_START, now_real = 1700000000ULL * NSEC_PER_SEC;

static uint64_t clock_mono(void *ctx)
{
    return atomic_load_explicit(&now_mono, memory_order_relaxed);
}

static uint64_t clock_real(void *ctx)
{
    return atomic_load_explicit(&now_real, memory_order_relaxed);
}

static const struct wb_clock fz_clock = { clock_mono, clock_real, NULL };

static void advance(uint64_t ns)
{
    atomic_fetch_add(&now_mono, ns);
    atomic_fetch_add(&now_real, ns);
}

/* Real time, for the bounded waits. */
static uint64_t wall_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------- fixed state */

#define EP4(a, b, c, d, p) { 4, 0, p, { a, b, c, d } }

static const struct wb_endpoint dev_ep = EP4(192, 0, 2, 1, LISTEN_PORT);
static const struct wb_endpoint p2_ep = EP4(203, 0, 113, 5, 51820);

struct client {
    struct wb_tunnel *t;
    struct wb_endpoint ep;
    uint8_t priv[32], pub[32];
    uint32_t dev_index;            /* sender index of the device's last handshake message to us */
    bool has_dev_index;
    uint8_t last[MAX_LEN];         /* the last datagram we sent */
    size_t last_len;
};

static struct fuzz_memio *mio;
static struct device *dev;
static struct client clients[N_CLIENTS] = {
    { .ep = EP4(198, 51, 100, 10, 51820) },
    { .ep = EP4(198, 51, 100, 11, 40000) },
};
static uint8_t dev_priv[32], dev_pub[32], psk[32], peer_pub[N_PEERS][32];
static struct cookie_maker dev_maker;       /* mac1 for the device, no cookie */
static uint8_t flood_init[MESSAGE_INITIATION_LEN];
static uint16_t barrier_port = LISTEN_PORT;
static bool lossy, load_used, config_changed;

/* Addresses of the inner packets: the device's side, client 0, client 1,
 * P2, P3, nobody's. */
#define N_ADDRS 6
static const uint8_t addrs4[N_ADDRS][4] = {
    { 10, 0, 0, 1 }, { 10, 0, 0, 2 }, { 10, 0, 1, 7 }, { 10, 0, 2, 9 }, { 10, 0, 3, 9 }, { 10, 9, 9, 9 },
};
static const uint8_t addrs6[N_ADDRS][16] = {
    { 0xfd, 0, [15] = 1 },          { 0xfd, 0, [15] = 2 },          { 0xfd, 0, 0, 1, [15] = 7 },
    { 0xfd, 0, 0, 2, [15] = 9 },    { 0xfd, 0, 0, 3, [15] = 9 },    { 0xfd, 9, [15] = 9 },
};
static const char *const peer_aips[N_PEERS][2] = {
    { "10.0.0.2/32", "fd00::2/128" },   { "10.0.1.0/24", "fd00:1::/64" },
    { "10.0.2.0/24", "fd00:2::/64" },   { "10.0.3.0/24", "fd00:3::/64" },
};

/* ------------------------------------------------------------------ input */

struct input {
    const uint8_t *p;
    size_t left;
};

static uint8_t take(struct input *in)
{
    if (!in->left)
        return 0;
    in->left--;
    return *in->p++;
}

static size_t take_len(struct input *in, size_t max)
{
    size_t v = take(in);

    v |= (size_t)take(in) << 8;
    return v % (max + 1);
}

/* n bytes into dst, zeros where the input has ended. */
static void take_bytes(struct input *in, uint8_t *dst, size_t n)
{
    size_t k = n < in->left ? n : in->left;

    memcpy(dst, in->p, k);
    memset(dst + k, 0, n - k);
    in->p += k, in->left -= k;
}

static struct wb_endpoint source(uint8_t sel)
{
    struct wb_endpoint ep = EP4(192, 0, 2, 0, 0);

    switch (sel % 6) {
    case 0:
        return clients[0].ep;
    case 1:
        return clients[1].ep;
    case 2:
        return p2_ep;
    case 3:
        ep.addr[3] = (uint8_t)(100 + sel / 8);
        ep.port = (uint16_t)(1024 + sel);
        return ep;
    case 4:
        ep.family = 6;
        ep.addr[0] = 0x20, ep.addr[1] = 0x01, ep.addr[2] = 0x0d, ep.addr[3] = 0xb8;
        ep.addr[15] = sel;
        ep.port = 4000;
        return ep;
    default:
        return dev_ep;
    }
}

/* An address of the table, or from the input (sel % 7 == 6). */
static void address(struct input *in, uint8_t sel, bool v6, uint8_t *out)
{
    size_t alen = v6 ? 16 : 4;

    if (sel % 7 == N_ADDRS)
        take_bytes(in, out, alen);
    else
        memcpy(out, v6 ? addrs6[sel % 7] : addrs4[sel % 7], alen);
}

/* An IP packet (UDP, TTL 64) with the input's payload; returns its length. */
static size_t build_ip(struct input *in, uint8_t *pkt, bool v6)
{
    uint8_t src = take(in), dst = take(in);
    size_t payload = take(in), hdr = v6 ? 40 : 20, len = hdr + payload;

    memset(pkt, 0, hdr);
    if (v6) {
        pkt[0] = 0x60;
        pkt[4] = (uint8_t)(payload >> 8), pkt[5] = (uint8_t)payload;
        pkt[6] = 17, pkt[7] = 64;
        address(in, src, true, pkt + 8);
        address(in, dst, true, pkt + 24);
    } else {
        pkt[0] = 0x45;
        pkt[2] = (uint8_t)(len >> 8), pkt[3] = (uint8_t)len;
        pkt[8] = 64, pkt[9] = 17;
        address(in, src, false, pkt + 12);
        address(in, dst, false, pkt + 16);
    }
    take_bytes(in, pkt + hdr, payload);
    return len;
}

/* ------------------------------------------------------------- quiescence */

struct probe {
    bool seen, quiet;
    uint64_t activity;
};
static struct probe probe;

/* Inside device_set_config, every datapath thread parked at the top of
 * its loop: is anything left in any ring or queue? */
static void probe_paused(void *ctx)
{
    struct fuzz_memio_counters c;
    bool quiet = fuzz_memio_rx_empty(mio) && ring_empty(dev->hs_in) && ring_empty(dev->hs_req) &&
                 !atomic_load(&dev->hs_sweep) && ring_empty(dev->hs_out) && ring_empty(dev->crypt);

    for (unsigned i = 0; i < dev->n_workers; i++)
        quiet = quiet && ring_empty(dev->workers[i].drains);
    fuzz_memio_counters(mio, &c);
    probe = (struct probe){ .seen = true, .quiet = quiet, .activity = c.activity };
}

/* Pause and resume the datapath (a listen port change is made with every
 * datapath thread parked), probing it meanwhile. */
static struct probe barrier(void)
{
    struct config c;

    config_init(&c);
    c.has_listen_port = true;
    barrier_port = barrier_port == LISTEN_PORT ? LISTEN_PORT + 1 : LISTEN_PORT;
    c.listen_port = barrier_port;
    probe.seen = false;
    if (device_set_config(dev, &c) != 0)
        fuzz_die("listen port change");
    config_free(&c);
    return probe;
}

static void nap(void)
{
    const struct timespec ts = { 0, 20000 };

    nanosleep(&ts, NULL);
}

/* Until the device has done everything its input asked: the worker idle
 * with nothing to read, then two pauses in a row that find every ring
 * empty with no packet moved between them (the first lets the handshake
 * thread run the turn it was woken for, timers included). Bounded. */
static bool quiesce(void)
{
    static unsigned long late;
    uint64_t deadline = wall_ns() + QUIESCE_NS;
    struct probe prev = { 0 };

    while (wall_ns() < deadline) {
        struct probe p;

        while (!fuzz_memio_idle(mio) && wall_ns() < deadline)
            nap();
        p = barrier();
        if (p.seen && p.quiet && prev.seen && prev.quiet && p.activity == prev.activity)
            return true;
        prev = p;
    }
    if (late++ < 5) {
        struct device_stats st;

        device_get_stats(dev, &st);
        fprintf(stderr,
                "fuzz_device: the device did not go quiet within %llu s (worker idle %d, "
                "last pause: quiet %d; rings: hs_in %u hs_out %u crypt %u; free: pkts %u "
                "jobs %u; input deferred %llu)\n",
                (unsigned long long)(QUIESCE_NS / NSEC_PER_SEC), fuzz_memio_idle(mio),
                prev.quiet, ring_count(dev->hs_in), ring_count(dev->hs_out),
                ring_count(dev->crypt), pool_avail(dev->pkts), pool_avail(dev->jobs),
                (unsigned long long)st.input_deferred);
    }
    return false;
}

/* --------------------------------------------------------------- clients */

static void client_send(struct client *cl, const uint8_t *msg, size_t len,
                        const struct wb_endpoint *from)
{
    if (!len || len > MAX_LEN)
        return;
    memcpy(cl->last, msg, len);
    cl->last_len = len;
    fuzz_memio_inject_udp(mio, msg, len, from ? from : &cl->ep);   /* full: lost, as UDP */
}

/* Send what a tunnel call gave, then what it has staged (len 0 calls). */
static bool client_result(struct client *cl, struct wb_result r, uint8_t *buf, size_t cap)
{
    bool sent = false;

    for (int i = 0; i < 16 && r.op == WB_WRITE_TO_NETWORK; i++) {
        client_send(cl, buf, r.size, NULL);
        sent = true;
        r = wb_tunnel_decapsulate(cl->t, &dev_ep, NULL, 0, buf, cap);
    }
    return sent;
}

/* The device sent msg to cl: remember its index, let the client answer. */
static bool client_receive(struct client *cl, const uint8_t *msg, size_t len)
{
    static uint8_t buf[FUZZ_BUF_LEN];
    struct wb_result r;

    if ((msg[0] == MESSAGE_HANDSHAKE_INITIATION && len == MESSAGE_INITIATION_LEN) ||
        (msg[0] == MESSAGE_HANDSHAKE_RESPONSE && len == MESSAGE_RESPONSE_LEN)) {
        cl->dev_index = load_le32(msg + 4);
        cl->has_dev_index = true;
    }
    r = wb_tunnel_decapsulate(cl->t, &dev_ep, msg, len, buf, sizeof(buf));
    return client_result(cl, r, buf, sizeof(buf));
}

static struct client *client_at(const struct wb_endpoint *to)
{
    for (int i = 0; i < N_CLIENTS; i++)
        if (to->family == clients[i].ep.family && to->port == clients[i].ep.port &&
            memcmp(to->addr, clients[i].ep.addr, 4) == 0)
            return &clients[i];
    return NULL;
}

/* Deliver what the device sent to the clients, feed their answers back. */
static void pump(void)
{
    static uint8_t msg[FUZZ_MEMIO_SLOT];

    for (int round = 0; round < PUMP_ROUNDS; round++) {
        struct wb_endpoint to;
        bool answered = false;
        size_t n;

        while ((n = fuzz_memio_outbox_pop(mio, msg, sizeof(msg), &to))) {
            struct client *cl = client_at(&to);

            if (cl && !lossy)
                answered |= client_receive(cl, msg, n);
        }
        if (!answered)
            return;
        quiesce();
    }
}

/* ------------------------------------------------------------ operations */

static void op_udp(struct input *in)
{
    static uint8_t msg[MAX_LEN];
    struct wb_endpoint from = source(take(in));
    size_t len = take_len(in, MAX_LEN);

    take_bytes(in, msg, len);
    fuzz_memio_inject_udp(mio, msg, len, &from);
}

static void op_tun(struct input *in, bool ip)
{
    static uint8_t pkt[MAX_LEN];
    size_t len;

    if (ip) {
        len = build_ip(in, pkt, take(in) & 2);
    } else {
        len = take_len(in, MAX_LEN);
        take_bytes(in, pkt, len);
    }
    fuzz_memio_inject_tun(mio, pkt, len);
}

static void op_init(struct input *in)
{
    uint8_t flags = take(in), msg[FUZZ_BUF_LEN];
    struct client *cl = &clients[flags & 1];
    struct wb_endpoint stranger = source(3);
    struct wb_result r;

    advance(25 * MS);              /* a newer timestamp, past the 20 ms flood guard */
    r = wb_tunnel_force_handshake(cl->t, msg, sizeof(msg));
    if (r.op != WB_WRITE_TO_NETWORK || r.size != MESSAGE_INITIATION_LEN)
        return;
    if (flags & 2) {
        size_t off = take(in) % offsetof(struct message_handshake_initiation, macs);
        size_t n = take(in) % 33;

        for (size_t i = 0; i < n && off + i < MESSAGE_INITIATION_LEN; i++)
            msg[off + i] ^= take(in);
        cookie_add_mac_to_packet(&dev_maker, msg, MESSAGE_INITIATION_LEN, clock_mono(NULL));
    }
    client_send(cl, msg, r.size, flags & 4 ? &stranger : NULL);
    if (flags & 8)
        client_send(cl, msg, r.size, NULL);
}

static void op_data(struct input *in, bool raw)
{
    static uint8_t pkt[MAX_LEN], out[FUZZ_BUF_LEN];
    uint8_t flags = take(in);
    struct client *cl = &clients[flags & 1];
    size_t len;

    if (raw) {
        len = take_len(in, MAX_INNER);
        take_bytes(in, pkt, len);
    } else {
        len = build_ip(in, pkt, flags & 2);
    }
    client_result(cl, wb_tunnel_encapsulate(cl->t, pkt, len, out, sizeof(out)), out, sizeof(out));
}

static void op_index(struct input *in)
{
    static uint8_t msg[MAX_LEN];
    struct client *cl = &clients[take(in) & 1];
    uint8_t kind = take(in) % 3;
    size_t len = take_len(in, MAX_LEN - MESSAGE_MINIMUM_LENGTH);

    if (kind == 1)
        len = MESSAGE_RESPONSE_LEN;
    else if (kind == 2)
        len = MESSAGE_COOKIE_LEN;
    else
        len += MESSAGE_MINIMUM_LENGTH;
    take_bytes(in, msg, len);
    msg[0] = kind == 0 ? MESSAGE_DATA : kind == 1 ? MESSAGE_HANDSHAKE_RESPONSE : MESSAGE_HANDSHAKE_COOKIE;
    msg[1] = msg[2] = msg[3] = 0;
    /* The receiver index: at 8 in a response, at 4 in the others. */
    store_le32(msg + (kind == 1 ? 8 : 4), cl->has_dev_index ? cl->dev_index : 0);
    if (kind == 1)
        cookie_add_mac_to_packet(&dev_maker, msg, len, clock_mono(NULL));
    fuzz_memio_inject_udp(mio, msg, len, &cl->ep);
}

static void op_replay(struct input *in)
{
    struct client *cl = &clients[take(in) & 1];
    struct wb_endpoint from = source(take(in));

    if (cl->last_len)
        fuzz_memio_inject_udp(mio, cl->last, cl->last_len, &from);
}

static void op_tick(struct input *in)
{
    static uint8_t out[FUZZ_BUF_LEN];
    struct client *cl = &clients[take(in) & 1];

    client_result(cl, wb_tunnel_tick(cl->t, out, sizeof(out)), out, sizeof(out));
}

static void op_time(struct input *in)
{
    uint8_t b = take(in);

    advance(b < 128 ? (uint64_t)b * 100 * MS : (uint64_t)(b - 127) * 5000 * MS);
}

static struct wb_endpoint flood_source(bool spread, unsigned i)
{
    struct wb_endpoint from = source(3);

    if (spread)
        from.addr[3] = (uint8_t)(200 + i % FLOOD_SOURCES);
    return from;
}

/* The flood goes into the handshake ring in one bulk enqueue, as the
 * worker's queue_handshake (worker.c) would have put it there message by
 * message: a copy in a slot of the handshake-message pool (POOL_NO_CACHE:
 * any thread may take one), on the MPSC ring with the harness thread as
 * one more producer. So the handshake thread's next round finds the ring
 * past 1/8 full whatever the scheduler did. Sent through the UDP side the
 * same flood races the handshake thread: with a CPU each the worker wins
 * by far, but on a machine busy with other work the worker yields while
 * it spins for input (ring_pause) and the handshake thread keeps the ring
 * short about half the time. Then a burst of the same through the UDP
 * side, which meets the load: the rate limiter, cookie replies. */
static void op_load(struct input *in)
{
    static void *slots[FLOOD_N];
    bool spread = take(in) & 1;
    unsigned n = pool_get_bulk(dev->hs_msgs, POOL_NO_CACHE, slots, FLOOD_N);

    for (unsigned i = 0; i < n; i++) {
        struct pkt *m = slots[i];

        pkt_reset(m);
        memcpy(m->data, flood_init, sizeof(flood_init));
        m->len = sizeof(flood_init);
        m->queue = 0;
        m->remote = flood_source(spread, i);
        m->local = dev_ep;
        m->local_ifindex = 0;
    }
    if (n < FLOOD_N || ring_mp_enqueue_bulk(dev->hs_in, slots, n) != n) {
        pool_put_bulk(dev->hs_msgs, POOL_NO_CACHE, slots, n);
        return;
    }
    handshake_kick(dev);
    for (unsigned i = 0; i < DEVICE_BURST; i++) {
        struct wb_endpoint from = flood_source(spread, i);

        fuzz_memio_inject_udp(mio, flood_init, sizeof(flood_init), &from);
    }
    load_used = true;
}

/* ---------------------------------------------------------- configuration */

static void add_prefix(struct config_peer *cp, const char *s)
{
    struct config_prefix pr;

    if (config_prefix_parse(&pr, s) != 0)
        fuzz_die("prefix");
    config_prefix_normalize(&pr);
    if (config_prefixes_add(&cp->allowed_ips, &cp->n_allowed_ips, &pr) != 0)
        fuzz_die("prefix");
}

/* The fixed configuration, whole (replacing every peer's allowed IPs). */
static void apply_baseline(bool with_key)
{
    static const struct wb_endpoint *const eps[N_PEERS] = { &clients[0].ep, &clients[1].ep,
                                                            &p2_ep, NULL };
    struct config c;

    config_init(&c);
    if (with_key) {
        c.has_private_key = true;
        memcpy(c.private_key, dev_priv, 32);
    }
    for (int i = 0; i < N_PEERS; i++) {
        struct config_peer *cp = config_add_peer(&c);

        if (!cp)
            fuzz_die("config");
        memcpy(cp->public_key, peer_pub[i], 32);
        cp->has_preshared_key = true;
        if (i == 0)
            memcpy(cp->preshared_key, psk, 32);
        if (eps[i]) {
            cp->has_endpoint = true;
            cp->endpoint = *eps[i];
        }
        cp->has_persistent_keepalive = true;
        cp->persistent_keepalive = 0;
        cp->replace_allowed_ips = true;
        add_prefix(cp, peer_aips[i][0]);
        add_prefix(cp, peer_aips[i][1]);
    }
    if (device_set_config(dev, &c) != 0)
        fuzz_die("device_set_config");
    config_free(&c);
}

static void op_config(struct input *in)
{
    uint8_t what = take(in) % 5;
    struct config c;
    struct config_peer *cp;
    struct config_prefix pr = { 0 };

    config_init(&c);
    cp = config_add_peer(&c);
    if (!cp)
        fuzz_die("config");
    cp->update_only = true;
    switch (what) {
    case 0:                        /* P0's allowed IPs: one prefix from the input */
        memcpy(cp->public_key, peer_pub[0], 32);
        pr.family = take(in) & 1 ? 6 : 4;
        pr.cidr = (uint8_t)(take(in) % (pr.family == 4 ? 33 : 129));
        take_bytes(in, pr.addr, pr.family == 4 ? 4 : 16);
        config_prefix_normalize(&pr);
        cp->replace_allowed_ips = true;
        if (config_prefixes_add(&cp->allowed_ips, &cp->n_allowed_ips, &pr) != 0)
            fuzz_die("prefix");
        break;
    case 1:                        /* P1 moves to a source of the input's choice */
        memcpy(cp->public_key, peer_pub[1], 32);
        cp->has_endpoint = true;
        cp->endpoint = source(take(in));
        break;
    case 2:                        /* P0 keeps the session alive every 1..4 s */
        memcpy(cp->public_key, peer_pub[0], 32);
        cp->has_persistent_keepalive = true;
        cp->persistent_keepalive = (uint16_t)(1 + take(in) % 4);
        break;
    case 3:                        /* P0's psk is gone: client 0's handshakes fail */
        memcpy(cp->public_key, peer_pub[0], 32);
        cp->has_preshared_key = true;
        break;
    default:                       /* P3 removed (its index, its tries) */
        memcpy(cp->public_key, peer_pub[3], 32);
        cp->remove = true;
        break;
    }
    if (device_set_config(dev, &c) != 0)
        fuzz_die("device_set_config");
    config_free(&c);
    config_changed = true;
}

/* --------------------------------------------------------------- set-up */

static struct wb_tunnel *tunnel_to_device(const uint8_t priv[32], const uint8_t *with_psk)
{
    struct wb_tunnel_config cfg;
    struct wb_tunnel *t = NULL;

    memset(&cfg, 0, sizeof(cfg));
    cfg.size = sizeof(cfg);
    memcpy(cfg.private_key, priv, 32);
    memcpy(cfg.peer_public_key, dev_pub, 32);
    if (with_psk) {
        memcpy(cfg.preshared_key, with_psk, 32);
        cfg.has_preshared_key = true;
    }
    cfg.clock = &fz_clock;
    if (wb_tunnel_create(&cfg, &t) < 0)
        fuzz_die("wb_tunnel_create");
    return t;
}

static void fixed_key(uint8_t priv[32], uint8_t pub[32], uint8_t fill)
{
    memset(priv, fill, 32);
    if (wb_key_public(pub, priv) < 0)
        fuzz_die("key");
}

static void teardown(void)
{
    struct device_stats st;
    struct fuzz_memio_counters mc;

    if (!dev)
        return;
    quiesce();
    device_get_stats(dev, &st);
    fuzz_memio_counters(mio, &mc);
    fprintf(stderr,
            "fuzz_device: datagrams in %llu out %llu, tun in %llu out %llu; drops: malformed %llu "
            "unknown_index %llu unknown_peer %llu bad_mac1 %llu ratelimited %llu "
            "source_not_allowed %llu no_route %llu no_endpoint %llu; cookies %llu\n",
            (unsigned long long)mc.udp_rx, (unsigned long long)mc.udp_tx,
            (unsigned long long)mc.tun_rx, (unsigned long long)mc.tun_tx,
            (unsigned long long)st.drop_malformed, (unsigned long long)st.drop_unknown_index,
            (unsigned long long)st.drop_unknown_peer, (unsigned long long)st.drop_bad_mac1,
            (unsigned long long)st.drop_ratelimited, (unsigned long long)st.drop_source_not_allowed,
            (unsigned long long)st.drop_no_route, (unsigned long long)st.drop_no_endpoint,
            (unsigned long long)st.cookies_sent);
    device_destroy(dev);           /* stops the threads, destroys the backend */
    dev = NULL;
    for (int i = 0; i < N_CLIENTS; i++)
        wb_tunnel_destroy(clients[i].t);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct device_options opt;
    struct fuzz_keys k;
    uint8_t stranger_priv[32], stranger_pub[32], unused[32];
    struct wb_tunnel *stranger;
    struct wb_result r;

    fuzz_rng_install();
    fuzz_keys_load(&k);
    memcpy(dev_priv, k.priv_b, 32);
    memcpy(dev_pub, k.pub_b, 32);
    memcpy(psk, k.psk, 32);
    memcpy(clients[0].priv, k.priv_a, 32);
    memcpy(clients[0].pub, k.pub_a, 32);
    fixed_key(clients[1].priv, clients[1].pub, 0x41);
    memcpy(peer_pub[0], clients[0].pub, 32);
    memcpy(peer_pub[1], clients[1].pub, 32);
    fixed_key(unused, peer_pub[2], 0x62);
    fixed_key(unused, peer_pub[3], 0x63);
    fixed_key(stranger_priv, stranger_pub, 0x53);
    cookie_maker_init(&dev_maker, dev_pub);

    mio = fuzz_memio_create(&dev_ep);
    if (!mio)
        fuzz_die("fuzz_memio_create");
    fuzz_memio_on_paused(mio, probe_paused, NULL);
    memset(&opt, 0, sizeof(opt));
    opt.clock = &fz_clock;
    if (device_create(fuzz_memio_backend(mio), &opt, &dev) != 0)
        fuzz_die("device_create");
    apply_baseline(true);
    if (device_start(dev) != 0)
        fuzz_die("device_start");
    clients[0].t = tunnel_to_device(clients[0].priv, psk);
    clients[1].t = tunnel_to_device(clients[1].priv, NULL);

    /* The flood: an initiation with a good mac1 from a key the device does
     * not know (it costs the device a DH before it says so). */
    stranger = tunnel_to_device(stranger_priv, NULL);
    r = wb_tunnel_force_handshake(stranger, flood_init, sizeof(flood_init));
    if (r.op != WB_WRITE_TO_NETWORK || r.size != sizeof(flood_init))
        fuzz_die("flood initiation");
    wb_tunnel_destroy(stranger);
    sodium_memzero(&k, sizeof(k));
    atexit(teardown);
    quiesce();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = { data, size };

    lossy = load_used = config_changed = false;
    advance(25 * MS);
    for (int n = 0; n < MAX_OPS && in.left; n++) {
        switch ((enum fuzz_device_op)(take(&in) % FUZZ_N_OPS)) {
        case FUZZ_OP_UDP: op_udp(&in); break;
        case FUZZ_OP_TUN: op_tun(&in, false); break;
        case FUZZ_OP_TUN_IP: op_tun(&in, true); break;
        case FUZZ_OP_INIT: op_init(&in); break;
        case FUZZ_OP_DATA: op_data(&in, false); break;
        case FUZZ_OP_INNER: op_data(&in, true); break;
        case FUZZ_OP_INDEX: op_index(&in); break;
        case FUZZ_OP_REPLAY: op_replay(&in); break;
        case FUZZ_OP_TICK: op_tick(&in); break;
        case FUZZ_OP_TIME: op_time(&in); break;
        case FUZZ_OP_LOAD: op_load(&in); break;
        case FUZZ_OP_LOSSY: lossy = !lossy; break;
        case FUZZ_OP_CONFIG: op_config(&in); break;
        default: break;
        }
        quiesce();
        pump();
    }
    if (config_changed) {
        apply_baseline(false);
        quiesce();
    }
    if (load_used) {               /* the next input starts without the load */
        advance(UNDER_LOAD_AFTER_TIME_NS + 100 * MS);
        quiesce();
    }
    return 0;
}
