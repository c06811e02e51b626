/* SPDX-License-Identifier: MIT */
/*
 * bench_datapath.c - packets per second through the multi-peer device
 * (datapath/device.h) in one process: two devices joined by the in-memory
 * backend (memio.h), real handshakes, then the encrypt path (TUN rx -> UDP
 * tx) and the decrypt path (UDP rx -> TUN tx) of device A, beside the raw
 * AEAD batch speed measured in the same run. Figures only: it never fails
 * on speed, only on wrong behaviour (a handshake that does not complete).
 *
 *   bench_datapath [--sizes 64,576,1420,imix] [--seconds S] [--peers 1,40000]
 *                  [--workers 1,NCPU] [--spread] [--json FILE]
 *
 * Peer counts: the default many-peer count is 40000, what sets up in well
 * under a minute on a 2-core machine (100000 works, but A's one
 * device_set_config took 36 s and the handshakes about two minutes there).
 *
 * Setup per peer count N and worker count W (each device runs W data
 * workers: its memio backend has W queues): device A has N peers, each with its own /32
 * (10.1.0.0 + i). Peer 0 is device B (linked memio, real handshake between
 * the two devices). A device has one identity, so peers 1..N-1 cannot all
 * be device B: they are wb_tunnel objects (the same protocol code a device
 * peer runs) driven by this thread over A's memio outbox, each doing a real
 * handshake with A. Every remote end initiates, and A is the responder.
 *
 * Encrypt: A's TUN rx is fed prebuilt IPv4/UDP packets as fast as it takes
 * them, destinations round-robin over the N peers; the data messages A
 * sends are counted and dropped. Feeds hand out on queue 0 only, as the
 * kernel puts one flow on one TUN queue / socket: the other workers get
 * work only by sharing worker 0's crypto jobs (the device wakes them);
 * --spread hands the feeds out on every queue instead (many flows hashed
 * over all queues). Decrypt: data messages made by the remote
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
 * cycles per packet = the CPU time of A's data workers (all W summed) x the
 * effective frequency (timing.h; "n/a" when that frequency is
 * implausible); "proc" cycles per packet = the whole process's CPU time
 * the same way (A's handshake thread and its 100 ms timer walk, both
 * devices, this thread); the ratio of the device's rate to
 * aead_seal_batch/aead_open_batch on the same sizes, one core, batches of
 * 64 (the ceiling of one worker if crypto were all it did); and the rate
 * with W workers over the rate with one worker, same peers, size and
 * direction (both measured in this run). A summary at the end sets the
 * figures beside the targets of the multi-worker issue (figures only).
 *
 * Threads: this thread configures, drives the simulated peers and samples
 * counters; each device runs W data workers and its handshake thread.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crypto/aead.h"
#include "crypto/random.h"
#include "datapath/device.h"
#include "memio.h"
#include "proto/config.h"
#include "timing.h"

#define MAX_SIZES 8
#define MAX_PEER_COUNTS 8
#define MAX_WORKER_COUNTS 8
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
    uint32_t workers[MAX_WORKER_COUNTS];   /* ascending, no duplicates */
    size_t n_workers;
    bool spread;
    double seconds;
    const char *json;
};

/* One measured direction. */
struct figure {
    double pps, gbps, cycles, proc_cycles, aead_pps;
    double per_job;                     /* packets per crypto job at A */
    double busy[MEMIO_MAX_QUEUES];      /* CPU seconds of A's worker i */
    uint64_t packets, no_buffer, drops; /* A's drops: empty pool / any other reason */
    double seconds;
    bool valid;
};

struct result {
    uint32_t peers, workers, size;
    struct figure enc, dec;
};

/* The world of one peer count. */
struct bench {
    uint32_t n, workers;
    struct memio *ma, *mb;
    struct device *a, *b;
    uint8_t a_priv[32], a_pub[32], b_priv[32], b_pub[32];
    struct wb_tunnel **sim;             /* [n]; sim[0] unused (device B) */
    uint8_t *responded;                 /* [n]: sim i had A's response */
    uint32_t resent;                    /* confirming packets sent again (A dropped them) */
    struct wb_endpoint a_ep, b_ep;
    double setup_s, config_s, handshake_s, teardown_s;   /* setup_s includes config_s */
};

static double aead_ns_seal[3], aead_ns_open[3];   /* 64, 576, 1420 */
static bool feed_spread;                         /* --spread */

/* --------------------------------------------------------------- helpers */

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A's counters before and after a measurement, and its workers' CPU. */
struct snap {
    struct device_stats st;
    int64_t cpu[MEMIO_MAX_QUEUES];
};

static void snap_take(const struct bench *w, struct snap *s)
{
    device_get_stats(w->a, &s->st);
    for (unsigned q = 0; q < w->workers; q++)
        s->cpu[q] = memio_queue_cpu_ns(w->ma, q);
}

static uint64_t drops_of(const struct device_stats *s)
{
    return s->drop_no_route + s->drop_no_endpoint + s->drop_malformed + s->drop_unknown_index +
           s->drop_unknown_peer + s->drop_bad_mac1 + s->drop_ratelimited +
           s->drop_handshake_queue_full + s->drop_source_not_allowed + s->drop_tx_failed +
           s->drop_dead_peer;
}

static void snap_diff(const struct bench *w, const struct snap *a, const struct snap *b,
                      struct figure *f)
{
    uint64_t jobs = b->st.jobs - a->st.jobs;

    f->per_job = jobs ? (double)(b->st.job_packets - a->st.job_packets) / (double)jobs : 0;
    f->no_buffer = b->st.drop_no_buffer - a->st.drop_no_buffer;
    f->drops = drops_of(&b->st) - drops_of(&a->st);
    for (unsigned q = 0; q < w->workers; q++)
        f->busy[q] = a->cpu[q] >= 0 && b->cpu[q] >= 0 ? (double)(b->cpu[q] - a->cpu[q]) / 1e9 : 0;
}

/* CPU time of the whole process (every thread, both devices). */
static int64_t process_cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
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

static int bench_setup(struct bench *w, uint32_t n, uint32_t workers)
{
    struct device_options opt = { 0 };
    uint64_t t0 = now_ns();
    int ret;

    memset(w, 0, sizeof(*w));
    w->n = n;
    w->workers = workers;
    w->a_ep = endpoint4(0xc0000201u, 1000);     /* 192.0.2.1:1000 */
    w->b_ep = endpoint4(0xc0000202u, 2000);
    wb_key_generate(w->a_priv), wb_key_public(w->a_pub, w->a_priv);
    wb_key_generate(w->b_priv), wb_key_public(w->b_pub, w->b_priv);
    w->sim = calloc(n, sizeof(*w->sim));
    w->responded = calloc(n, 1);
    w->ma = memio_create(&w->a_ep, workers);    /* one worker per queue */
    w->mb = memio_create(&w->b_ep, workers);
    if (!w->sim || !w->responded || !w->ma || !w->mb)
        return -ENOMEM;
    memio_link(w->ma, w->mb);
    if ((ret = device_create(memio_backend(w->ma), &opt, &w->a)) < 0)
        return ret;
    if ((ret = device_create(memio_backend(w->mb), &opt, &w->b)) < 0)
        return ret;
    if ((ret = configure(w)) < 0)
        return ret;
    if ((ret = device_start(w->a)) < 0 || (ret = device_start(w->b)) < 0)
        return ret;
    w->setup_s = (double)(now_ns() - t0) / 1e9;
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
    free(w->responded);
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
        if (in[0] == 2 && !w->responded[i]) {
            w->responded[i] = 1;
            responses++;
        }
        r = wb_tunnel_decapsulate(w->sim[i], &w->a_ep, in, len, out, sizeof(out));
        while (r.op == WB_WRITE_TO_NETWORK) {
            inject_udp(w->ma, out, r.size, &from);
            r = wb_tunnel_decapsulate(w->sim[i], NULL, NULL, 0, out, sizeof(out));
        }
    }
    return responses;
}

/* Remote ends whose confirming data packet A dropped (its counters: a
 * peer that authenticated only handshake messages has rx_bytes a multiple
 * of the 148-byte initiation) send another. Returns how many. */
static unsigned resend_unconfirmed(struct bench *w)
{
    struct config cfg;
    uint8_t ip[64], out[256];
    unsigned sent = 0;

    config_init(&cfg);
    if (device_get_config(w->a, &cfg) < 0) {
        config_free(&cfg);
        return 0;
    }
    for (size_t k = 0; k < cfg.n_peers; k++) {
        const struct config_peer *cp = &cfg.peers[k];
        const uint8_t *a;
        uint32_t i;
        struct wb_result r;

        if (cp->n_allowed_ips == 0 || cp->rx_bytes % 148 != 0)
            continue;
        a = cp->allowed_ips[0].addr;
        i = ((uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3]) - INNER_BASE;
        if (i == 0 || i >= w->n || !w->responded[i])
            continue;                  /* B retries by itself; no session yet */
        make_ip(ip, sizeof(ip), INNER_BASE + i, A_INNER, 1);
        r = wb_tunnel_encapsulate(w->sim[i], ip, sizeof(ip), out, sizeof(out));
        if (r.op == WB_WRITE_TO_NETWORK) {
            struct wb_endpoint from = endpoint4(SIM_BASE + i, SIM_PORT);

            inject_udp(w->ma, out, r.size, &from);
            sent++;
        }
    }
    config_free(&cfg);
    return sent;
}

/* Every remote end sends A one packet; A has N confirmed sessions when N
 * packets reached its TUN side. */
static int handshake(struct bench *w)
{
    uint8_t ip[64], out[256];
    struct memio_counters c;
    uint64_t t0 = now_ns(), last_progress = t0, last_count = 0, last_retry = 0, last_report = t0;
    uint32_t next = 1, in_flight = 0, retries = 0, data_resent = 0;

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
        if (now_ns() - last_report > 10ull * 1000000000ull) {
            last_report = now_ns();
            printf("  ... %llu of %u sessions confirmed after %.0f s\n",
                   (unsigned long long)c.tun_tx, w->n, (double)(last_report - t0) / 1e9);
            fflush(stdout);
        }
        if (c.tun_tx != last_count) {
            last_count = c.tun_tx;
            last_progress = now_ns();
        } else if (now_ns() - last_progress > 10ull * 1000000000ull) {
            struct device_stats st;

            device_get_stats(w->a, &st);
            fprintf(stderr, "handshakes stalled: %llu of %u sessions confirmed (A: no buffer/job "
                    "%llu, hs queue full %llu, rate limited %llu, cookies %llu, bad mac1 %llu; "
                    "memio dropped %llu)\n", (unsigned long long)c.tun_tx, w->n,
                    (unsigned long long)st.drop_no_buffer,
                    (unsigned long long)st.drop_handshake_queue_full,
                    (unsigned long long)st.drop_ratelimited, (unsigned long long)st.cookies_sent,
                    (unsigned long long)st.drop_bad_mac1, (unsigned long long)c.dropped);
            return -ETIMEDOUT;
        } else if (next >= w->n && now_ns() - last_progress > 2ull * 1000000000ull &&
                   now_ns() - last_retry > 2ull * 1000000000ull) {
            /* All sent, nothing for 2 s: an initiation or its response was
             * lost (dropped under load, a cookie reply): initiate again. */
            last_retry = now_ns();
            for (uint32_t i = 1; i < w->n; i++) {
                struct wb_endpoint from = endpoint4(SIM_BASE + i, SIM_PORT);
                struct wb_result r;

                if (w->responded[i])
                    continue;
                r = wb_tunnel_force_handshake(w->sim[i], out, sizeof(out));
                if (r.op == WB_WRITE_TO_NETWORK)
                    inject_udp(w->ma, out, r.size, &from), retries++;
            }
            /* Or A dropped the confirming data packet (no buffer/job). */
            data_resent += resend_unconfirmed(w);
            fprintf(stderr, "handshakes: %llu of %u confirmed after %.1f s; sent again so far: "
                    "%u initiations, %u confirming packets\n", (unsigned long long)c.tun_tx,
                    w->n, (double)(now_ns() - t0) / 1e9, retries, data_resent);
        } else {
            sleep_s(in_flight >= HANDSHAKE_WINDOW || next >= w->n ? 50e-6 : 0);
        }
    }
    w->handshake_s = (double)(now_ns() - t0) / 1e9;
    w->resent = data_resent;
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
                               .dst_base = INNER_BASE, .spread = feed_spread };
    struct memio_counters c0, c1;
    struct snap s0, s1;
    uint64_t t0, t1;
    int64_t cpu0, cpu1, pcpu0, pcpu1;

    if (!msgs || !store)
        return -ENOMEM;
    memio_set_data_mode(w->ma, MEMIO_DATA_COUNT, NULL);
    memio_feed_tun(w->ma, &feed);
    sleep_s(seconds * 0.2 < 0.05 ? 0.05 : seconds * 0.2);   /* warm up */
    memio_counters(w->ma, &c0);
    snap_take(w, &s0);
    cpu0 = memio_thread_cpu_ns(w->ma);
    pcpu0 = process_cpu_ns();
    t0 = now_ns();
    sleep_s(seconds);
    memio_counters(w->ma, &c1);
    cpu1 = memio_thread_cpu_ns(w->ma);
    pcpu1 = process_cpu_ns();
    t1 = now_ns();
    snap_take(w, &s1);
    snap_diff(w, &s0, &s1, f);
    memio_feed_tun(w->ma, NULL);
    memio_set_data_mode(w->ma, MEMIO_DATA_FORWARD, NULL);
    free(msgs);
    free(store);

    f->packets = c1.udp_data_tx - c0.udp_data_tx;
    f->seconds = (double)(t1 - t0) / 1e9;
    f->pps = (double)f->packets / f->seconds;
    f->gbps = f->pps * mean_len(size) * 8 / 1e9;
    f->cycles = f->packets ? timing_ns_to_cycles((double)(cpu1 - cpu0)) / (double)f->packets : 0;
    f->proc_cycles = f->packets ? timing_ns_to_cycles((double)(pcpu1 - pcpu0)) / (double)f->packets : 0;
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
    struct snap s0, s1;
    uint64_t t0, last = 0, last_change;
    int64_t cpu0, cpu1, pcpu0, pcpu1;
    int ret = prepare_decrypt(w, size, total, &cs);

    if (ret < 0)
        goto out;
    feed = (struct memio_feed){ .msgs = cs.msgs, .n_msgs = cs.total, .limit = cs.total,
                                .spread = feed_spread };
    memio_counters(w->ma, &c0);
    snap_take(w, &s0);
    cpu0 = memio_thread_cpu_ns(w->ma);
    pcpu0 = process_cpu_ns();
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
    pcpu1 = process_cpu_ns();
    snap_take(w, &s1);
    snap_diff(w, &s0, &s1, f);
    memio_feed_udp(w->ma, NULL);
    f->packets = c.tun_tx - c0.tun_tx;
    f->seconds = (double)(c.tun_tx_last_ns - c.udp_feed_start_ns) / 1e9;
    f->pps = (double)f->packets / f->seconds;
    f->gbps = (double)(c.tun_tx_bytes - c0.tun_tx_bytes) * 8 / f->seconds / 1e9;
    f->cycles = f->packets ? timing_ns_to_cycles((double)(cpu1 - cpu0)) / (double)f->packets : 0;
    f->proc_cycles = f->packets ? timing_ns_to_cycles((double)(pcpu1 - pcpu0)) / (double)f->packets : 0;
    f->valid = f->packets > 0;
    if (f->packets < cs.total)
        printf("  (decrypt: %llu of %llu messages reached the TUN side; A dropped %llu for "
               "want of a buffer or job, %llu otherwise)\n",
               (unsigned long long)f->packets, (unsigned long long)cs.total,
               (unsigned long long)f->no_buffer, (unsigned long long)f->drops);
    (void)t0;
out:
    free(cs.arena);
    free(cs.msgs);
    return ret;
}

/* ------------------------------------------------------------- printing */

/* The same measurement with one worker, or NULL. */
static const struct figure *one_worker(const struct result *res, size_t n_res,
                                       const struct result *r, bool enc)
{
    for (size_t i = 0; i < n_res; i++)
        if (res[i].peers == r->peers && res[i].size == r->size && res[i].workers == 1)
            return enc ? &res[i].enc : &res[i].dec;
    return NULL;
}

static double scaling(const struct figure *f, const struct figure *base)
{
    return base && base->valid && f->valid && base->pps > 0 ? f->pps / base->pps : 0;
}

static void print_table_header(void)
{
    printf("%7s  %-5s  %-7s %3s %8s %8s %9s %9s %10s %7s %6s %7s %8s %10s\n", "peers", "size",
           "path", "W", "Mpps", "Gbit/s", "cyc/pkt", "proc cyc", "aead Mpps", "x aead", "x W1",
           "pkt/job", "drops", "packets");
}

static void print_figure(const char *dir, const struct result *r, const struct figure *f,
                         const struct figure *base)
{
    char sz[16], cyc[32], pcyc[32], x1[16];
    double x = scaling(f, base);

    if (timing_cycles_valid()) {
        snprintf(cyc, sizeof(cyc), "%9.0f", f->cycles);
        snprintf(pcyc, sizeof(pcyc), "%9.0f", f->proc_cycles);
    } else {
        snprintf(cyc, sizeof(cyc), "%9s", "n/a");
        snprintf(pcyc, sizeof(pcyc), "%9s", "n/a");
    }
    if (r->workers == 1 || x == 0)
        snprintf(x1, sizeof(x1), "%6s", "-");
    else
        snprintf(x1, sizeof(x1), "%6.2f", x);
    printf("%7u  %-5s  %-7s %3u %8.3f %8.3f %s %s %10.3f %7.3f %s %7.1f %8llu %10llu\n",
           r->peers, size_name(r->size, sz, sizeof(sz)), dir, r->workers, f->pps / 1e6, f->gbps,
           cyc, pcyc, f->aead_pps / 1e6, f->pps / f->aead_pps, x1, f->per_job,
           (unsigned long long)(f->no_buffer + f->drops), (unsigned long long)f->packets);
}

static void json_figure(FILE *j, const char *dir, const struct figure *f, const struct figure *base,
                        unsigned workers)
{
    double x = scaling(f, base);

    fprintf(j, "\"%s\": {\"mpps\": %.4f, \"gbps\": %.4f, \"cycles_per_packet\": ", dir,
            f->pps / 1e6, f->gbps);
    if (timing_cycles_valid())
        fprintf(j, "%.1f, \"process_cycles_per_packet\": %.1f", f->cycles, f->proc_cycles);
    else
        fprintf(j, "null, \"process_cycles_per_packet\": null");
    fprintf(j, ", \"aead_mpps\": %.4f, \"ratio_to_aead\": %.4f, \"ratio_to_one_worker\": ",
            f->aead_pps / 1e6, f->pps / f->aead_pps);
    if (x > 0)
        fprintf(j, "%.4f", x);
    else
        fprintf(j, "null");
    fprintf(j, ", \"packets_per_job\": %.2f, \"drop_no_buffer\": %llu, \"drop_other\": %llu, "
            "\"worker_cpu_s\": [", f->per_job, (unsigned long long)f->no_buffer,
            (unsigned long long)f->drops);
    for (unsigned q = 0; q < workers; q++)
        fprintf(j, "%s%.4f", q ? ", " : "", f->busy[q]);
    fprintf(j, "], \"packets\": %llu, \"seconds\": %.3f}", (unsigned long long)f->packets,
            f->seconds);
}

static int write_json(const char *path, const struct options *o, const struct result *r,
                      size_t n, const struct bench *setups, size_t n_setups)
{
    FILE *j = fopen(path, "w");
    char sz[16];

    if (!j)
        return -errno;
    fprintf(j, "{\n  \"workers\": [");
    for (size_t i = 0; i < o->n_workers; i++)
        fprintf(j, "%s%u", i ? ", " : "", o->workers[i]);
    fprintf(j, "],\n  \"feeds\": \"%s\",\n  \"aead\": \"%s\",\n  \"ghz\": %.3f,\n"
            "  \"cycles_valid\": %s,\n  \"setups\": [", o->spread ? "all queues" : "queue 0",
            aead_active->name, timing_ghz(), timing_cycles_valid() ? "true" : "false");
    for (size_t i = 0; i < n_setups; i++)
        fprintf(j, "%s\n    {\"peers\": %u, \"workers\": %u, \"setup_s\": %.3f, "
                "\"config_s\": %.3f, \"handshake_s\": %.3f, \"confirming_resent\": %u, "
                "\"teardown_s\": %.3f}", i ? "," : "",
                setups[i].n, setups[i].workers, setups[i].setup_s, setups[i].config_s,
                setups[i].handshake_s, setups[i].resent, setups[i].teardown_s);
    fprintf(j, "\n  ],\n  \"results\": [");
    for (size_t i = 0; i < n; i++) {
        fprintf(j, "%s\n    {\"peers\": %u, \"workers\": %u, \"size\": \"%s\", ", i ? "," : "",
                r[i].peers, r[i].workers, size_name(r[i].size, sz, sizeof(sz)));
        json_figure(j, "encrypt", &r[i].enc, one_worker(r, n, &r[i], true), r[i].workers);
        fprintf(j, ", ");
        json_figure(j, "decrypt", &r[i].dec, one_worker(r, n, &r[i], false), r[i].workers);
        fprintf(j, "}");
    }
    fprintf(j, "\n  ]\n}\n");
    return fclose(j) == 0 ? 0 : -errno;
}

/* -------------------------------------------------------------- summary */

static const struct result *find(const struct result *res, size_t n, uint32_t peers,
                                 uint32_t workers, uint32_t size)
{
    for (size_t i = 0; i < n; i++)
        if (res[i].peers == peers && res[i].workers == workers && res[i].size == size)
            return &res[i];
    return NULL;
}

/* Per packet cost of f relative to base: worker cycles when the clock is
 * trusted, else the inverse rate (one worker: the same thing). */
static double cost_ratio(const struct figure *f, const struct figure *base)
{
    if (!f->valid || !base->valid)
        return 0;
    if (timing_cycles_valid() && base->cycles > 0)
        return f->cycles / base->cycles;
    return base->pps / f->pps;
}

static void print_summary(const struct options *o, const struct result *res, size_t n)
{
    char sz[16];
    uint32_t wmax = o->workers[o->n_workers - 1], pmax = 0;
    bool have1 = o->workers[0] == 1;

    for (size_t p = 0; p < o->n_peers; p++)
        pmax = o->peers[p] > pmax ? o->peers[p] : pmax;
    printf("=== summary: Mpps by worker count");
    if (have1 && o->n_workers > 1)
        printf(", and each over one worker");
    printf(" (feeds on %s) ===\n%7s  %-5s  %-7s", o->spread ? "all queues" : "queue 0", "peers",
           "size", "path");
    for (size_t k = 0; k < o->n_workers; k++)
        printf("   W=%-3u", o->workers[k]);
    for (size_t k = have1 ? 1 : o->n_workers; k < o->n_workers; k++)
        printf("  x W%-3u", o->workers[k]);
    printf("\n");
    for (size_t p = 0; p < o->n_peers; p++) {
        for (size_t s = 0; s < o->n_sizes; s++) {
            for (int d = 0; d < 2; d++) {
                const struct result *r1 = find(res, n, o->peers[p], 1, o->sizes[s]);
                bool any = false;

                for (size_t k = 0; k < o->n_workers; k++)
                    any |= find(res, n, o->peers[p], o->workers[k], o->sizes[s]) != NULL;
                if (!any)
                    continue;
                printf("%7u  %-5s  %-7s", o->peers[p], size_name(o->sizes[s], sz, sizeof(sz)),
                       d ? "decrypt" : "encrypt");
                for (size_t k = 0; k < o->n_workers; k++) {
                    const struct result *r = find(res, n, o->peers[p], o->workers[k], o->sizes[s]);

                    if (r)
                        printf(" %8.3f", (d ? &r->dec : &r->enc)->pps / 1e6);
                    else
                        printf(" %8s", "-");
                }
                for (size_t k = have1 ? 1 : o->n_workers; k < o->n_workers; k++) {
                    const struct result *r = find(res, n, o->peers[p], o->workers[k], o->sizes[s]);
                    double x = r && r1 ? scaling(d ? &r->dec : &r->enc, d ? &r1->dec : &r1->enc) : 0;

                    if (x > 0)
                        printf(" %7.2f", x);
                    else
                        printf(" %7s", "-");
                }
                printf("\n");
            }
        }
    }

    printf("\nthe issue's targets, beside this run's figures (not checked: figures only):\n");
    if (have1 && wmax > 1 && find(res, n, 1, 1, o->sizes[0])) {
        uint32_t w2 = 0;

        for (size_t k = 0; k < o->n_workers; k++)
            if (o->workers[k] == 2)
                w2 = 2;
        w2 = w2 ? w2 : wmax;
        printf("  1 peer, %u workers / 1 worker, target >= 1.80 (a perfect split: %u.00):\n   ",
               w2, w2);
        for (size_t s = 0; s < o->n_sizes; s++) {
            const struct result *r1 = find(res, n, 1, 1, o->sizes[s]);
            const struct result *rw = find(res, n, 1, w2, o->sizes[s]);

            if (r1 && rw)
                printf(" %s enc %.2f dec %.2f;", size_name(o->sizes[s], sz, sizeof(sz)),
                       scaling(&rw->enc, &r1->enc), scaling(&rw->dec, &r1->dec));
        }
        printf("\n");
    }
    if (pmax > 1 && find(res, n, 1, o->workers[0], o->sizes[0])) {
        for (size_t k = 0; k < o->n_workers; k++) {
            uint32_t wk = o->workers[k];

            printf("  per-packet cost (%s), %u peers / 1 peer, %u worker%s, target <= 1.10:\n   ",
                   timing_cycles_valid() ? "worker cycles" : "inverse rate", pmax, wk,
                   wk == 1 ? "" : "s");
            for (size_t s = 0; s < o->n_sizes; s++) {
                const struct result *r1 = find(res, n, 1, wk, o->sizes[s]);
                const struct result *rn = find(res, n, pmax, wk, o->sizes[s]);

                if (r1 && rn)
                    printf(" %s enc %.2f dec %.2f;", size_name(o->sizes[s], sz, sizeof(sz)),
                           cost_ratio(&rn->enc, &r1->enc), cost_ratio(&rn->dec, &r1->dec));
            }
            printf("\n");
        }
    }
    if (have1) {
        const struct result *r = find(res, n, 1, 1, 1420);

        if (r && r->enc.valid && r->dec.valid)
            printf("  1420 B, 1 peer, 1 worker: time per packet over raw AEAD's, target <= +15 %%:"
                   "\n    encrypt %+.1f %%, decrypt %+.1f %%\n",
                   (r->enc.aead_pps / r->enc.pps - 1) * 100, (r->dec.aead_pps / r->dec.pps - 1) * 100);
    }
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

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

/* Ascending, each once, each in 1..DEVICE_MAX_WORKERS. */
static int tidy_workers(struct options *o)
{
    size_t k = 0;

    qsort(o->workers, o->n_workers, sizeof(o->workers[0]), cmp_u32);
    for (size_t i = 0; i < o->n_workers; i++) {
        if (o->workers[i] > DEVICE_MAX_WORKERS || o->workers[i] > MEMIO_MAX_QUEUES)
            return -1;
        if (k == 0 || o->workers[k - 1] != o->workers[i])
            o->workers[k++] = o->workers[i];
    }
    o->n_workers = k;
    return 0;
}

static int parse_options(struct options *o, int argc, char **argv)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

    *o = (struct options){ .sizes = { 64, 576, 1420, IMIX }, .n_sizes = 4,
                           .peers = { 1, 40000 }, .n_peers = 2,
                           .workers = { 1, ncpu < 1 ? 1 : ncpu > DEVICE_MAX_WORKERS
                                                               ? DEVICE_MAX_WORKERS
                                                               : (uint32_t)ncpu },
                           .n_workers = 2, .seconds = 1.0 };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "--spread") == 0) {
            o->spread = true;
            continue;
        }
        if (!v)
            return -1;
        if (strcmp(a, "--sizes") == 0 && parse_list(v, o->sizes, MAX_SIZES, &o->n_sizes, true) == 0)
            i++;
        else if (strcmp(a, "--peers") == 0 &&
                 parse_list(v, o->peers, MAX_PEER_COUNTS, &o->n_peers, false) == 0)
            i++;
        else if (strcmp(a, "--workers") == 0 &&
                 parse_list(v, o->workers, MAX_WORKER_COUNTS, &o->n_workers, false) == 0)
            i++;
        else if (strcmp(a, "--seconds") == 0 && (o->seconds = atof(v)) > 0)
            i++;
        else if (strcmp(a, "--json") == 0)
            o->json = argv[++i];
        else
            return -1;
    }
    return tidy_workers(o);
}

/* ------------------------------------------------------------------ run */

static void print_header(const struct options *o)
{
    double load[3] = { 0 };

    printf("datapath: W data workers per device (one per in-memory queue, perf/memio.c), "
           "W in");
    for (size_t i = 0; i < o->n_workers; i++)
        printf("%s%u", i ? "," : " ", o->workers[i]);
    printf("; %ld CPUs online\n", sysconf(_SC_NPROCESSORS_ONLN));
    printf("feeds: %s\n", o->spread ? "spread over every queue (--spread)"
                                    : "queue 0 only (one flow, as the kernel hashes it); "
                                      "other workers share its crypto");
    if (getloadavg(load, 3) == 3)
        printf("load average at start: %.2f %.2f %.2f\n", load[0], load[1], load[2]);
    printf("aead: %s; reference = aead_seal_batch/aead_open_batch, %d-packet batches, one core\n",
           aead_active->name, AEAD_BATCH);
    printf("core clock: %s; effective %.3f GHz (%s)\n  cross-check: %s\n", timing_method(),
           timing_ghz(), timing_chain(), timing_calibration_note());
    printf("cyc/pkt = A's data workers' CPU time (summed) x effective frequency; proc cyc = "
           "the whole process's%s\n",
           timing_cycles_valid() ? "" : " -- not available: frequency implausible");
    printf("x aead = rate / one-core AEAD batch rate; x W1 = rate / the same with 1 worker\n");
    printf("imix = 7:4:1 of 64/576/1420 B (mean %.1f B); Gbit/s counts inner IP packets\n",
           mean_len(IMIX));
    printf("%.2f s per measurement\n\n", o->seconds);
}

static int run_world(const struct options *o, uint32_t n, uint32_t workers, struct bench *w,
                     struct result *res, size_t *n_res)
{
    int ret;

    printf("--- %u peer%s, %u worker%s ---\n", n, n == 1 ? "" : "s", workers,
           workers == 1 ? "" : "s");
    fflush(stdout);
    if ((ret = bench_setup(w, n, workers)) < 0) {
        fprintf(stderr, "setup with %u peers, %u workers failed: %s\n", n, workers,
                strerror(-ret));
        return ret;
    }
    printf("configure A with %u peers (one device_set_config): %.3f s; whole setup (keys, "
           "simulated peers, both devices): %.3f s\n", n, w->config_s, w->setup_s);
    fflush(stdout);
    if ((ret = handshake(w)) < 0)
        return ret;
    printf("handshakes, %u sessions confirmed at A: %.3f s", n, w->handshake_s);
    if (w->resent)
        printf(" (%u confirming packets sent again: A dropped them, no buffer/job)", w->resent);
    printf("\n");
    print_table_header();
    fflush(stdout);
    for (size_t s = 0; s < o->n_sizes && ret == 0; s++) {
        struct result *r = &res[(*n_res)++];
        double per_cap = (double)CAPTURE_BYTES / 1536.0;
        uint64_t total;

        *r = (struct result){ .peers = n, .workers = workers, .size = o->sizes[s] };
        if ((ret = measure_encrypt(w, r->size, o->seconds, &r->enc)) < 0)
            break;
        r->enc.aead_pps = 1e9 / aead_ns(r->size, false, o->seconds * 0.1);
        print_figure("encrypt", r, &r->enc, one_worker(res, *n_res, r, true));
        fflush(stdout);
        total = (uint64_t)(r->enc.pps * o->seconds);
        total = total < 4096 ? 4096 : total > per_cap ? (uint64_t)per_cap : total;
        if ((ret = measure_decrypt(w, r->size, total, &r->dec)) < 0)
            break;
        r->dec.aead_pps = 1e9 / aead_ns(r->size, true, o->seconds * 0.1);
        print_figure("decrypt", r, &r->dec, one_worker(res, *n_res, r, false));
        fflush(stdout);
    }
    bench_teardown(w);
    printf("teardown (device_destroy of both): %.3f s\n\n", w->teardown_s);
    return ret;
}

int main(int argc, char **argv)
{
    static struct result res[MAX_SIZES * MAX_PEER_COUNTS * MAX_WORKER_COUNTS];
    static struct bench setups[MAX_PEER_COUNTS * MAX_WORKER_COUNTS];
    struct options o;
    size_t n_res = 0, n_setups = 0;
    int ret = 0;

    if (parse_options(&o, argc, argv) != 0) {
        fprintf(stderr, "usage: %s [--sizes 64,576,1420,imix] [--seconds S] "
                        "[--peers 1,40000] [--workers 1,NCPU] [--spread] [--json FILE]\n",
                argv[0]);
        return 2;
    }
    feed_spread = o.spread;
    if (wb_init() < 0)
        return 1;
    timing_init(false);
    print_header(&o);
    for (size_t p = 0; p < o.n_peers && ret == 0; p++)
        for (size_t k = 0; k < o.n_workers && ret == 0; k++)
            ret = run_world(&o, o.peers[p], o.workers[k], &setups[n_setups++], res, &n_res);
    if (ret == 0)
        print_summary(&o, res, n_res);
    if (ret == 0 && o.json && (ret = write_json(o.json, &o, res, n_res, setups, n_setups)) < 0)
        fprintf(stderr, "%s: %s\n", o.json, strerror(-ret));
    timing_fini();
    return ret == 0 ? 0 : 1;
}
