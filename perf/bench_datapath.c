/* SPDX-License-Identifier: MIT */
/*
 * bench_datapath.c - packets per second through the multi-peer device
 * (datapath/device.h) in one process: two devices joined by the in-memory
 * backend (memio.h), real handshakes, then the encrypt path (TUN rx -> UDP
 * tx) and the decrypt path (UDP rx -> TUN tx) of device A, beside the raw
 * AEAD batch speed measured in the same run. Figures only: it never fails
 * on speed, only on wrong behaviour (a handshake that does not complete).
 *
 *   bench_datapath [--sizes 64,576,1420,imix] [--seconds S] [--peers 1,100000]
 *                  [--json FILE]
 *
 * Setup per peer count N: device A has N peers, each with its own /32
 * (10.1.0.0 + i). Peer 0 is device B (linked memio, real handshake between
 * the two devices). A device has one identity, so peers 1..N-1 cannot all
 * be device B: they are wb_tunnel objects (the same protocol code a device
 * peer runs) driven by this thread over A's memio outbox, each doing a real
 * handshake with A. Every remote end initiates, and A is the responder.
 *
 * Encrypt: A's TUN rx is fed prebuilt IPv4/UDP packets as fast as it takes
 * them, destinations round-robin over the N peers; the data messages A
 * sends are counted and dropped. Decrypt: data messages made by the remote
 * ends (captured from B's output for peer 0, wb_tunnel_encapsulate for the
 * others; each counter once, as the replay window wants), interleaved
 * round-robin over the peers, are fed once into A's UDP rx; the packets A
 * writes to its TUN side are counted. Enough messages for about --seconds
 * of work (from the encrypt rate), at most CAPTURE_BYTES of them.
 *
 * IMIX: 7:4:1 of 64/576/1420-byte IP packets (the classic 40/576/1500 mix
 * with 40 raised to a 64-byte minimum and 1500 lowered to the 1420 MTU),
 * interleaved, mean 347.7 bytes.
 *
 * Figures: Mpps; Gbit/s of inner IP packets (what the TUN side carries);
 * cycles per packet = the datapath thread's CPU time x the effective
 * frequency (timing.h; "n/a" when that frequency is implausible); and the
 * ratio of the device's rate to aead_seal_batch/aead_open_batch on the same
 * sizes, one core, batches of 64 (the ceiling if crypto were all it did).
 *
 * Threads: this thread configures, drives the simulated peers and samples
 * counters; each device runs its one datapath thread (BENCH_WORKERS).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/aead.h"
#include "crypto/random.h"
#include "datapath/device.h"
#include "memio.h"
#include "proto/config.h"
#include "timing.h"

/* The device runs one datapath thread today. When device_options gains a
 * worker count, set it from here (and give memio that many queues). */
#define BENCH_WORKERS 1

#define MAX_SIZES 8
#define MAX_PEER_COUNTS 8
#define IMIX 0                          /* the size value that means IMIX */
#define IMIX_LEN 12
#define AEAD_BATCH 64
#define CAPTURE_BYTES (1024ull << 20)   /* captured/prepared decrypt messages */
#define HANDSHAKE_WINDOW 128            /* simulated initiations in flight (A under load at 512) */
#define INNER_BASE 0x0a010000u          /* 10.1.0.0: peer i's /32 is INNER_BASE + i */
#define A_INNER 0x0a000001u             /* 10.0.0.1 */
#define SIM_BASE 0xc6120000u            /* 198.18.0.0: peer i's endpoint, i >= 1 */
#define SIM_PORT 51820

static const uint32_t imix_pattern[IMIX_LEN] = { 64, 576, 64, 64, 576, 64, 1420, 64, 576, 64, 64, 576 };

struct options {
    uint32_t sizes[MAX_SIZES];
    size_t n_sizes;
    uint32_t peers[MAX_PEER_COUNTS];
    size_t n_peers;
    double seconds;
    const char *json;
};

/* One measured direction. */
struct figure {
    double pps, gbps, cycles, aead_pps;
    uint64_t packets;
    double seconds;
    bool valid;
};

struct result {
    uint32_t peers, size;
    struct figure enc, dec;
};

/* The world of one peer count. */
struct bench {
    uint32_t n;
    struct memio *ma, *mb;
    struct device *a, *b;
    uint8_t a_priv[32], a_pub[32], b_priv[32], b_pub[32];
    struct wb_tunnel **sim;             /* [n]; sim[0] unused (device B) */
    struct wb_endpoint a_ep, b_ep;
    double config_s, handshake_s, teardown_s;
};

static double aead_ns_seal[3], aead_ns_open[3];   /* 64, 576, 1420 */

/* --------------------------------------------------------------- helpers */

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_s(double s)
{
    struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };

    nanosleep(&ts, NULL);
}

static struct wb_endpoint endpoint4(uint32_t addr, uint16_t port)
{
    struct wb_endpoint e = { .family = 4, .port = port };

    e.addr[0] = (uint8_t)(addr >> 24), e.addr[1] = (uint8_t)(addr >> 16);
    e.addr[2] = (uint8_t)(addr >> 8), e.addr[3] = (uint8_t)addr;
    return e;
}

/* An IPv4/UDP packet of `len` bytes, src -> dst. */
static void make_ip(uint8_t *p, uint32_t len, uint32_t src, uint32_t dst, uint32_t seq)
{
    memset(p, 0, len);
    p[0] = 0x45, p[2] = (uint8_t)(len >> 8), p[3] = (uint8_t)len, p[8] = 64, p[9] = 17;
    for (int i = 0; i < 4; i++) {
        p[12 + i] = (uint8_t)(src >> (24 - 8 * i));
        p[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
    }
    p[20] = 0x30, p[21] = 0x39, p[22] = 0x30, p[23] = 0x39;     /* ports 12345 */
    p[24] = (uint8_t)((len - 20) >> 8), p[25] = (uint8_t)(len - 20);
    memcpy(p + 28, &seq, 4);
}

/* The k-th packet length of size class `size`. */
static uint32_t len_at(uint32_t size, uint64_t k)
{
    return size == IMIX ? imix_pattern[k % IMIX_LEN] : size;
}

static double mean_len(uint32_t size)
{
    double sum = 0;

    for (int i = 0; i < IMIX_LEN; i++)
        sum += len_at(size, (uint64_t)i);
    return sum / IMIX_LEN;
}

static const char *size_name(uint32_t size, char *buf, size_t cap)
{
    if (size == IMIX)
        return "imix";
    snprintf(buf, cap, "%u", size);
    return buf;
}

/* ------------------------------------------------------------- raw AEAD */

/* Per packet ns of aead_seal_batch or aead_open_batch at len, best of 3. */
static double aead_batch_ns(size_t len, bool open, double seconds)
{
    size_t stride = (len + AEAD_TAG_LEN + 63) & ~(size_t)63;
    uint8_t *in = calloc(AEAD_BATCH, stride), *out = calloc(AEAD_BATCH, stride), key[32] = { 1 };
    struct aead_op ops[AEAD_BATCH];
    double best = 1e300;

    for (size_t i = 0; i < AEAD_BATCH; i++) {
        ops[i] = (struct aead_op){ .dst = in + i * stride, .src = in + i * stride, .len = len,
                                   .counter = i, .key = key };
    }
    aead_seal_batch(ops, AEAD_BATCH);                 /* in: valid sealed messages */
    for (size_t i = 0; i < AEAD_BATCH; i++) {
        ops[i] = (struct aead_op){ .dst = out + i * stride, .src = in + i * stride,
                                   .len = open ? len + AEAD_TAG_LEN : len, .counter = i,
                                   .key = key };
    }
    for (int rep = 0; rep < 3; rep++) {
        uint64_t t0 = now_ns(), batches = 0;

        while (now_ns() - t0 < (uint64_t)(seconds * 1e9)) {
            for (int k = 0; k < 16; k++, batches++) {
                if (open)
                    aead_open_batch(ops, AEAD_BATCH);
                else
                    aead_seal_batch(ops, AEAD_BATCH);
            }
        }
        double ns = (double)(now_ns() - t0) / (double)(batches * AEAD_BATCH);
        if (ns < best)
            best = ns;
    }
    free(in);
    free(out);
    return best;
}

static int size_slot(uint32_t len)
{
    return len == 64 ? 0 : len == 576 ? 1 : len == 1420 ? 2 : -1;
}

/* AEAD ns per packet for a size class (IMIX: the mix's mean); measured
 * on demand for sizes outside 64/576/1420. */
static double aead_ns(uint32_t size, bool open, double seconds)
{
    double sum = 0;
    int n = size == IMIX ? IMIX_LEN : 1;

    for (int i = 0; i < n; i++) {
        uint32_t len = len_at(size, (uint64_t)i);
        int s = size_slot(len);
        double *tab = open ? aead_ns_open : aead_ns_seal;

        if (s < 0)
            sum += aead_batch_ns(len, open, seconds);
        else {
            if (tab[s] == 0)
                tab[s] = aead_batch_ns(len, open, seconds);
            sum += tab[s];
        }
    }
    return sum / n;
}

/* ---------------------------------------------------------------- setup */

static void add_prefix32(struct config_peer *cp, uint32_t addr)
{
    struct config_prefix pr = { .family = 4, .cidr = 32 };

    pr.addr[0] = (uint8_t)(addr >> 24), pr.addr[1] = (uint8_t)(addr >> 16);
    pr.addr[2] = (uint8_t)(addr >> 8), pr.addr[3] = (uint8_t)addr;
    config_prefixes_add(&cp->allowed_ips, &cp->n_allowed_ips, &pr);
}

static int sim_create(struct bench *w, uint32_t i, uint8_t pub_out[32])
{
    struct wb_tunnel_config tc = { .size = sizeof(tc) };
    int ret;

    wb_key_generate(tc.private_key);
    wb_key_public(pub_out, tc.private_key);
    memcpy(tc.peer_public_key, w->a_pub, 32);
    ret = wb_tunnel_create(&tc, &w->sim[i]);
    wb_memzero(tc.private_key, sizeof(tc.private_key));
    return ret;
}

/* A: N peers (B, then the simulated ones), in one device_set_config. */
static int configure(struct bench *w)
{
    struct config ca, cb;
    struct config_peer *cp;
    uint64_t t0;
    int ret = 0;

    config_init(&ca);
    ca.has_private_key = true;
    memcpy(ca.private_key, w->a_priv, 32);
    for (uint32_t i = 0; i < w->n && ret == 0; i++) {
        if (!(cp = config_add_peer(&ca))) {
            ret = -ENOMEM;
            break;
        }
        if (i == 0) {
            memcpy(cp->public_key, w->b_pub, 32);
            cp->endpoint = w->b_ep;
        } else {
            ret = sim_create(w, i, cp->public_key);
            cp->endpoint = endpoint4(SIM_BASE + i, SIM_PORT);
        }
        cp->has_endpoint = true;
        add_prefix32(cp, INNER_BASE + i);
    }
    t0 = now_ns();
    if (ret == 0)
        ret = device_set_config(w->a, &ca);
    w->config_s = (double)(now_ns() - t0) / 1e9;
    config_free(&ca);

    config_init(&cb);
    cb.has_private_key = true;
    memcpy(cb.private_key, w->b_priv, 32);
    cp = config_add_peer(&cb);
    memcpy(cp->public_key, w->a_pub, 32);
    cp->has_endpoint = true;
    cp->endpoint = w->a_ep;
    add_prefix32(cp, A_INNER);
    if (ret == 0)
        ret = device_set_config(w->b, &cb);
    config_free(&cb);
    return ret;
}

static int bench_setup(struct bench *w, uint32_t n)
{
    struct device_options opt = { 0 };
    int ret;

    memset(w, 0, sizeof(*w));
    w->n = n;
    w->a_ep = endpoint4(0xc0000201u, 1000);     /* 192.0.2.1:1000 */
    w->b_ep = endpoint4(0xc0000202u, 2000);
    wb_key_generate(w->a_priv), wb_key_public(w->a_pub, w->a_priv);
    wb_key_generate(w->b_priv), wb_key_public(w->b_pub, w->b_priv);
    w->sim = calloc(n, sizeof(*w->sim));
    w->ma = memio_create(&w->a_ep);
    w->mb = memio_create(&w->b_ep);
    if (!w->sim || !w->ma || !w->mb)
        return -ENOMEM;
    memio_link(w->ma, w->mb);
    /* BENCH_WORKERS: opt gains the worker count here once the device has one. */
    if ((ret = device_create(memio_backend(w->ma), &opt, &w->a)) < 0)
        return ret;
    if ((ret = device_create(memio_backend(w->mb), &opt, &w->b)) < 0)
        return ret;
    if ((ret = configure(w)) < 0)
        return ret;
    if ((ret = device_start(w->a)) < 0 || (ret = device_start(w->b)) < 0)
        return ret;
    return 0;
}

static void bench_teardown(struct bench *w)
{
    uint64_t t0 = now_ns();

    device_destroy(w->b);
    device_destroy(w->a);
    for (uint32_t i = 1; i < w->n && w->sim; i++)
        wb_tunnel_destroy(w->sim[i]);
    free(w->sim);
    w->teardown_s = (double)(now_ns() - t0) / 1e9;
}

/* ------------------------------------------------------------ handshakes */

static void inject_udp(struct memio *m, const uint8_t *p, size_t len, const struct wb_endpoint *from)
{
    struct timespec ts = { 0, 20000 };

    while (memio_inject_udp(m, p, (uint32_t)len, from) == -ENOBUFS)
        nanosleep(&ts, NULL);
}

/* Answer what A sent to simulated peers: responses (then the peer's staged
 * packet confirms the session), keepalives. Returns responses consumed. */
static unsigned serve_outbox(struct bench *w)
{
    static uint8_t in[MEMIO_SLOT_DATA], out[MEMIO_SLOT_DATA];
    struct wb_endpoint to;
    unsigned responses = 0;
    uint32_t len;

    while ((len = memio_outbox_pop(w->ma, in, sizeof(in), &to)) > 0) {
        uint32_t i = ((uint32_t)to.addr[0] << 24 | (uint32_t)to.addr[1] << 16 |
                      (uint32_t)to.addr[2] << 8 | to.addr[3]) - SIM_BASE;
        struct wb_endpoint from = to;
        struct wb_result r;

        if (to.family != 4 || i == 0 || i >= w->n)
            continue;
        responses += in[0] == 2;
        r = wb_tunnel_decapsulate(w->sim[i], &w->a_ep, in, len, out, sizeof(out));
        while (r.op == WB_WRITE_TO_NETWORK) {
            inject_udp(w->ma, out, r.size, &from);
            r = wb_tunnel_decapsulate(w->sim[i], NULL, NULL, 0, out, sizeof(out));
        }
    }
    return responses;
}

/* Every remote end sends A one packet; A has N confirmed sessions when N
 * packets reached its TUN side. */
static int handshake(struct bench *w)
{
    uint8_t ip[64], out[256];
    struct memio_counters c;
    uint64_t t0 = now_ns(), last_progress = t0, last_count = 0;
    uint32_t next = 1, in_flight = 0;

    make_ip(ip, sizeof(ip), INNER_BASE, A_INNER, 0);
    memio_inject_tun(w->mb, ip, sizeof(ip));           /* B initiates to A */
    for (;;) {
        while (in_flight < HANDSHAKE_WINDOW && next < w->n) {
            struct wb_endpoint from = endpoint4(SIM_BASE + next, SIM_PORT);
            struct wb_result r;

            make_ip(ip, sizeof(ip), INNER_BASE + next, A_INNER, 0);
            r = wb_tunnel_encapsulate(w->sim[next], ip, sizeof(ip), out, sizeof(out));
            if (r.op == WB_WRITE_TO_NETWORK)
                inject_udp(w->ma, out, r.size, &from);
            next++, in_flight++;
        }
        in_flight -= serve_outbox(w);
        memio_counters(w->ma, &c);
        if (c.tun_tx >= w->n)
            break;
        if (c.tun_tx != last_count) {
            last_count = c.tun_tx;
            last_progress = now_ns();
        } else if (now_ns() - last_progress > 10ull * 1000000000ull) {
            fprintf(stderr, "handshakes stalled: %llu of %u sessions confirmed\n",
                    (unsigned long long)c.tun_tx, w->n);
            return -ETIMEDOUT;
        } else {
            sleep_s(in_flight >= HANDSHAKE_WINDOW || next >= w->n ? 50e-6 : 0);
        }
    }
    w->handshake_s = (double)(now_ns() - t0) / 1e9;
    return 0;
}

/* ------------------------------------------------------------- encrypt */

/* The feed of one size class: IMIX_LEN packets (the pattern) A -> peer 0;
 * memio rewrites the destination per packet. */
static struct memio_msg *make_feed(uint32_t size, uint32_t src, uint32_t dst, uint8_t **store)
{
    struct memio_msg *msgs = calloc(IMIX_LEN, sizeof(*msgs));

    *store = calloc(IMIX_LEN, 1500);
    for (int i = 0; msgs && *store && i < IMIX_LEN; i++) {
        uint32_t len = len_at(size, (uint64_t)i);

        make_ip(*store + i * 1500, len, src, dst, (uint32_t)i);
        msgs[i] = (struct memio_msg){ .data = *store + i * 1500, .len = len };
    }
    return msgs;
}

static int measure_encrypt(struct bench *w, uint32_t size, double seconds, struct figure *f)
{
    uint8_t *store;
    struct memio_msg *msgs = make_feed(size, A_INNER, INNER_BASE, &store);
    struct memio_feed feed = { .msgs = msgs, .n_msgs = IMIX_LEN, .n_dst = w->n,
                               .dst_base = INNER_BASE };
    struct memio_counters c0, c1;
    uint64_t t0, t1;
    int64_t cpu0, cpu1;

    if (!msgs || !store)
        return -ENOMEM;
    memio_set_data_mode(w->ma, MEMIO_DATA_COUNT, NULL);
    memio_feed_tun(w->ma, &feed);
    sleep_s(seconds * 0.2 < 0.05 ? 0.05 : seconds * 0.2);   /* warm up */
    memio_counters(w->ma, &c0);
    cpu0 = memio_thread_cpu_ns(w->ma);
    t0 = now_ns();
    sleep_s(seconds);
    memio_counters(w->ma, &c1);
    cpu1 = memio_thread_cpu_ns(w->ma);
    t1 = now_ns();
    memio_feed_tun(w->ma, NULL);
    memio_set_data_mode(w->ma, MEMIO_DATA_FORWARD, NULL);
    free(msgs);
    free(store);

    f->packets = c1.udp_data_tx - c0.udp_data_tx;
    f->seconds = (double)(t1 - t0) / 1e9;
    f->pps = (double)f->packets / f->seconds;
    f->gbps = f->pps * mean_len(size) * 8 / 1e9;
    f->cycles = f->packets ? timing_ns_to_cycles((double)(cpu1 - cpu0)) / (double)f->packets : 0;
    f->valid = f->packets > 0;
    return 0;
}

/* ------------------------------------------------------------- decrypt */

struct capture_set {
    uint8_t *arena;
    size_t slot;
    struct memio_msg *msgs;            /* [n * per], interleaved by peer */
    uint64_t total;
};

/* Peer 0's messages: B's TUN fed `per` packets to A, its output captured. */
static int capture_from_b(struct bench *w, uint32_t size, uint64_t per, struct capture_set *cs,
                          struct memio_msg *b_msgs)
{
    struct memio_capture cap = { .arena = cs->arena, .slot_size = cs->slot, .cap = per,
                                 .msgs = b_msgs };
    uint8_t *store;
    struct memio_msg *feed_msgs = make_feed(size, INNER_BASE, A_INNER, &store);
    struct memio_feed feed = { .msgs = feed_msgs, .n_msgs = IMIX_LEN, .limit = per };
    struct memio_counters c;
    uint64_t t0 = now_ns();

    if (!feed_msgs || !store)
        return -ENOMEM;
    memio_set_data_mode(w->mb, MEMIO_DATA_CAPTURE, &cap);
    memio_feed_tun(w->mb, &feed);
    do {
        sleep_s(1e-3);
        memio_counters(w->mb, &c);
    } while (c.captured < per && now_ns() - t0 < 30ull * 1000000000ull);
    memio_feed_tun(w->mb, NULL);
    memio_set_data_mode(w->mb, MEMIO_DATA_FORWARD, NULL);
    free(feed_msgs);
    free(store);
    return c.captured == per ? 0 : -EIO;
}

/* Message k of the set comes from peer k % n, its (k / n)-th. */
static int prepare_decrypt(struct bench *w, uint32_t size, uint64_t total, struct capture_set *cs)
{
    uint64_t per = (total + w->n - 1) / w->n;
    struct memio_msg *b_msgs;
    uint8_t ip[1500];
    int ret;

    cs->total = per * w->n;
    cs->slot = (1420 + 32 + 16 + 63) & ~(size_t)63;
    cs->arena = malloc(cs->total * cs->slot);
    cs->msgs = calloc(cs->total, sizeof(*cs->msgs));
    b_msgs = calloc(per, sizeof(*b_msgs));
    if (!cs->arena || !cs->msgs || !b_msgs)
        return -ENOMEM;
    /* B's captures fill the arena's first `per` slots. */
    if ((ret = capture_from_b(w, size, per, cs, b_msgs)) < 0) {
        free(b_msgs);
        return ret;
    }
    for (uint64_t j = 0; j < per; j++)
        cs->msgs[j * w->n] = b_msgs[j];
    free(b_msgs);
    for (uint64_t j = 0; j < per; j++) {
        for (uint32_t i = 1; i < w->n; i++) {
            uint64_t k = j * w->n + i;
            uint8_t *dst = cs->arena + (per + k - j - 1) * cs->slot;   /* after B's slots */
            uint32_t len = len_at(size, k);
            struct wb_result r;

            make_ip(ip, len, INNER_BASE + i, A_INNER, (uint32_t)j);
            r = wb_tunnel_encapsulate(w->sim[i], ip, len, dst, cs->slot);
            if (r.op != WB_WRITE_TO_NETWORK)
                return -EIO;
            cs->msgs[k] = (struct memio_msg){ .data = dst, .len = (uint32_t)r.size,
                                              .from = endpoint4(SIM_BASE + i, SIM_PORT) };
        }
    }
    return 0;
}

static int measure_decrypt(struct bench *w, uint32_t size, uint64_t total, struct figure *f)
{
    struct capture_set cs = { 0 };
    struct memio_feed feed;
    struct memio_counters c0, c;
    uint64_t t0, last = 0, last_change;
    int64_t cpu0, cpu1;
    int ret = prepare_decrypt(w, size, total, &cs);

    if (ret < 0)
        goto out;
    feed = (struct memio_feed){ .msgs = cs.msgs, .n_msgs = cs.total, .limit = cs.total };
    memio_counters(w->ma, &c0);
    cpu0 = memio_thread_cpu_ns(w->ma);
    memio_feed_udp(w->ma, &feed);
    last_change = t0 = now_ns();
    for (;;) {
        sleep_s(1e-3);
        memio_counters(w->ma, &c);
        if (c.tun_tx - c0.tun_tx >= cs.total)
            break;
        if (c.tun_tx != last) {
            last = c.tun_tx;
            last_change = now_ns();
        } else if (now_ns() - last_change > 2000000000ull && c.udp_fed - c0.udp_fed >= cs.total) {
            break;                     /* some were dropped; report what arrived */
        }
    }
    cpu1 = memio_thread_cpu_ns(w->ma);
    memio_feed_udp(w->ma, NULL);
    f->packets = c.tun_tx - c0.tun_tx;
    f->seconds = (double)(c.tun_tx_last_ns - c.udp_feed_start_ns) / 1e9;
    f->pps = (double)f->packets / f->seconds;
    f->gbps = (double)(c.tun_tx_bytes - c0.tun_tx_bytes) * 8 / f->seconds / 1e9;
    f->cycles = f->packets ? timing_ns_to_cycles((double)(cpu1 - cpu0)) / (double)f->packets : 0;
    f->valid = f->packets > 0;
    if (f->packets < cs.total)
        printf("  (decrypt: %llu of %llu messages reached the TUN side)\n",
               (unsigned long long)f->packets, (unsigned long long)cs.total);
    (void)t0;
out:
    free(cs.arena);
    free(cs.msgs);
    return ret;
}

/* ------------------------------------------------------------- printing */

static void print_figure(const char *dir, uint32_t peers, uint32_t size, const struct figure *f)
{
    char sz[16], cyc[32];

    if (timing_cycles_valid())
        snprintf(cyc, sizeof(cyc), "%9.0f", f->cycles);
    else
        snprintf(cyc, sizeof(cyc), "%9s", "n/a");
    printf("%7u  %-5s  %-7s %8.3f %8.3f %s %10.3f %7.3f %10llu\n", peers,
           size_name(size, sz, sizeof(sz)), dir, f->pps / 1e6, f->gbps, cyc, f->aead_pps / 1e6,
           f->pps / f->aead_pps, (unsigned long long)f->packets);
}

static void json_figure(FILE *j, const char *dir, const struct figure *f)
{
    fprintf(j, "\"%s\": {\"mpps\": %.4f, \"gbps\": %.4f, \"cycles_per_packet\": ", dir,
            f->pps / 1e6, f->gbps);
    if (timing_cycles_valid())
        fprintf(j, "%.1f", f->cycles);
    else
        fprintf(j, "null");
    fprintf(j, ", \"aead_mpps\": %.4f, \"ratio_to_aead\": %.4f, \"packets\": %llu, "
            "\"seconds\": %.3f}", f->aead_pps / 1e6, f->pps / f->aead_pps,
            (unsigned long long)f->packets, f->seconds);
}

static int write_json(const char *path, const struct result *r, size_t n,
                      const struct bench *setups, size_t n_setups)
{
    FILE *j = fopen(path, "w");
    char sz[16];

    if (!j)
        return -errno;
    fprintf(j, "{\n  \"workers\": %d,\n  \"aead\": \"%s\",\n  \"ghz\": %.3f,\n"
            "  \"cycles_valid\": %s,\n  \"setups\": [", BENCH_WORKERS, aead_active->name,
            timing_ghz(), timing_cycles_valid() ? "true" : "false");
    for (size_t i = 0; i < n_setups; i++)
        fprintf(j, "%s\n    {\"peers\": %u, \"config_s\": %.3f, \"handshake_s\": %.3f, "
                "\"teardown_s\": %.3f}", i ? "," : "", setups[i].n, setups[i].config_s,
                setups[i].handshake_s, setups[i].teardown_s);
    fprintf(j, "\n  ],\n  \"results\": [");
    for (size_t i = 0; i < n; i++) {
        fprintf(j, "%s\n    {\"peers\": %u, \"size\": \"%s\", ", i ? "," : "", r[i].peers,
                size_name(r[i].size, sz, sizeof(sz)));
        json_figure(j, "encrypt", &r[i].enc);
        fprintf(j, ", ");
        json_figure(j, "decrypt", &r[i].dec);
        fprintf(j, "}");
    }
    fprintf(j, "\n  ]\n}\n");
    return fclose(j) == 0 ? 0 : -errno;
}

/* -------------------------------------------------------------- options */

static int parse_list(const char *arg, uint32_t *v, size_t max, size_t *n, bool sizes)
{
    char *end;

    *n = 0;
    while (*arg) {
        unsigned long x;

        if (sizes && strncmp(arg, "imix", 4) == 0) {
            x = IMIX;
            end = (char *)arg + 4;
        } else {
            x = strtoul(arg, &end, 10);
            if (end == arg || x == 0 || (sizes && (x < 28 || x > 1420)) || x > 16000000)
                return -1;
        }
        if (*n == max || (*end && *end != ','))
            return -1;
        v[(*n)++] = (uint32_t)x;
        arg = *end ? end + 1 : end;
    }
    return *n ? 0 : -1;
}

static int parse_options(struct options *o, int argc, char **argv)
{
    *o = (struct options){ .sizes = { 64, 576, 1420, IMIX }, .n_sizes = 4,
                           .peers = { 1, 100000 }, .n_peers = 2, .seconds = 1.0 };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (!v)
            return -1;
        if (strcmp(a, "--sizes") == 0 && parse_list(v, o->sizes, MAX_SIZES, &o->n_sizes, true) == 0)
            i++;
        else if (strcmp(a, "--peers") == 0 &&
                 parse_list(v, o->peers, MAX_PEER_COUNTS, &o->n_peers, false) == 0)
            i++;
        else if (strcmp(a, "--seconds") == 0 && (o->seconds = atof(v)) > 0)
            i++;
        else if (strcmp(a, "--json") == 0)
            o->json = argv[++i];
        else
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ run */

static void print_header(const struct options *o)
{
    printf("datapath: %d worker thread per device (the device has no worker count yet), "
           "in-memory backend (perf/memio.c)\n", BENCH_WORKERS);
    printf("aead: %s; reference = aead_seal_batch/aead_open_batch, %d-packet batches, one core\n",
           aead_active->name, AEAD_BATCH);
    printf("core clock: %s; effective %.3f GHz (%s)\n  cross-check: %s\n", timing_method(),
           timing_ghz(), timing_chain(), timing_calibration_note());
    printf("cycles/pkt = datapath thread CPU time x effective frequency%s\n",
           timing_cycles_valid() ? "" : " -- not available: frequency implausible");
    printf("imix = 7:4:1 of 64/576/1420 B (mean %.1f B); Gbit/s counts inner IP packets\n",
           mean_len(IMIX));
    printf("%.2f s per measurement\n\n", o->seconds);
}

static int run_peers(const struct options *o, uint32_t n, struct bench *w, struct result *res,
                     size_t *n_res)
{
    int ret;

    printf("--- %u peer%s ---\n", n, n == 1 ? "" : "s");
    fflush(stdout);
    if ((ret = bench_setup(w, n)) < 0) {
        fprintf(stderr, "setup with %u peers failed: %s\n", n, strerror(-ret));
        return ret;
    }
    printf("configure A with %u peers (one device_set_config): %.3f s\n", n, w->config_s);
    fflush(stdout);
    if ((ret = handshake(w)) < 0)
        return ret;
    printf("handshakes, %u sessions confirmed at A: %.3f s\n", n, w->handshake_s);
    printf("%7s  %-5s  %-7s %8s %8s %9s %10s %7s %10s\n", "peers", "size", "path", "Mpps",
           "Gbit/s", "cyc/pkt", "aead Mpps", "ratio", "packets");
    fflush(stdout);
    for (size_t s = 0; s < o->n_sizes && ret == 0; s++) {
        struct result *r = &res[(*n_res)++];
        double per_cap = (double)CAPTURE_BYTES / 1536.0;
        uint64_t total;

        *r = (struct result){ .peers = n, .size = o->sizes[s] };
        if ((ret = measure_encrypt(w, r->size, o->seconds, &r->enc)) < 0)
            break;
        r->enc.aead_pps = 1e9 / aead_ns(r->size, false, o->seconds * 0.1);
        print_figure("encrypt", n, r->size, &r->enc);
        fflush(stdout);
        total = (uint64_t)(r->enc.pps * o->seconds);
        total = total < 4096 ? 4096 : total > per_cap ? (uint64_t)per_cap : total;
        if ((ret = measure_decrypt(w, r->size, total, &r->dec)) < 0)
            break;
        r->dec.aead_pps = 1e9 / aead_ns(r->size, true, o->seconds * 0.1);
        print_figure("decrypt", n, r->size, &r->dec);
        fflush(stdout);
    }
    bench_teardown(w);
    printf("teardown (device_destroy of both): %.3f s\n\n", w->teardown_s);
    return ret;
}

int main(int argc, char **argv)
{
    static struct result res[MAX_SIZES * MAX_PEER_COUNTS];
    static struct bench setups[MAX_PEER_COUNTS];
    struct options o;
    size_t n_res = 0;
    int ret = 0;

    if (parse_options(&o, argc, argv) != 0) {
        fprintf(stderr, "usage: %s [--sizes 64,576,1420,imix] [--seconds S] "
                        "[--peers 1,100000] [--json FILE]\n", argv[0]);
        return 2;
    }
    if (wb_init() < 0)
        return 1;
    timing_init(false);
    print_header(&o);
    for (size_t p = 0; p < o.n_peers && ret == 0; p++)
        ret = run_peers(&o, o.peers[p], &setups[p], res, &n_res);
    if (ret == 0 && o.json && (ret = write_json(o.json, res, n_res, setups, o.n_peers)) < 0)
        fprintf(stderr, "%s: %s\n", o.json, strerror(-ret));
    timing_fini();
    return ret == 0 ? 0 : 1;
}
