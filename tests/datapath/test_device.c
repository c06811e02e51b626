/* SPDX-License-Identifier: MIT */
/*
 * test_device.c - two (and three) multi-peer devices joined by an in-memory
 * network, each running its real datapath thread over a fake I/O backend:
 * handshakes, routing by allowed IPs both ways, IPv4 and IPv6, the
 * receive-side source check, roaming, peer removal under traffic, a private
 * key change, get/set configuration, and a handshake flood that puts a
 * device under load. No root needed; real time, but nothing is timed:
 * every wait is "until it happens, or fail after a generous deadline".
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "datapath/device.h"
#include "datapath/io.h"
#include "proto/messages.h"

#define QCAP 4096

/* ------------------------------------------------------ in-memory network */

struct queue {
    struct pkt *v[QCAP];
    unsigned head, n;
};

struct memio;

struct memio {
    struct io_backend base;
    pthread_mutex_t lock;
    struct queue tun_in, tun_out, udp_in;
    struct wb_endpoint addr;          /* this host's UDP address */
    atomic_bool woken;
    uint64_t tx_dropped;
};

#define N_HOSTS 4
static struct memio *hosts[N_HOSTS];
static pthread_mutex_t net_lock = PTHREAD_MUTEX_INITIALIZER;

static int push(struct queue *q, struct pkt *p)
{
    if (q->n == QCAP)
        return -1;
    q->v[(q->head + q->n++) % QCAP] = p;
    return 0;
}

static struct pkt *pop(struct queue *q)
{
    struct pkt *p;

    if (!q->n)
        return NULL;
    p = q->v[q->head];
    q->head = (q->head + 1) % QCAP;
    q->n--;
    return p;
}

static struct pkt *copy_pkt(const struct pkt *src)
{
    struct pkt *p = pkt_alloc();

    memcpy(p->data, src->data, src->len);
    p->len = src->len;
    p->remote = src->remote;
    p->local = src->local;
    return p;
}

static int rx_from(struct memio *m, struct queue *q, struct pkt **pkts, unsigned n)
{
    unsigned got = 0;

    pthread_mutex_lock(&m->lock);
    while (got < n) {
        struct pkt *p = pop(q);

        if (!p)
            break;
        memcpy(pkts[got]->data, p->data, p->len);
        pkts[got]->len = p->len;
        pkts[got]->remote = p->remote;
        pkts[got]->local = p->local;
        pkt_free(p);
        got++;
    }
    pthread_mutex_unlock(&m->lock);
    return (int)got;
}

static int m_tun_rx(struct io_backend *io, unsigned q, struct pkt **pkts, unsigned n)
{
    struct memio *m = (struct memio *)io;
    return rx_from(m, &m->tun_in, pkts, n);
}

static int m_udp_rx(struct io_backend *io, unsigned q, struct pkt **pkts, unsigned n)
{
    struct memio *m = (struct memio *)io;
    return rx_from(m, &m->udp_in, pkts, n);
}

static int m_tun_tx(struct io_backend *io, unsigned q, struct pkt **pkts, unsigned n)
{
    struct memio *m = (struct memio *)io;

    pthread_mutex_lock(&m->lock);
    for (unsigned i = 0; i < n; i++)
        if (push(&m->tun_out, copy_pkt(pkts[i])) < 0)
            m->tx_dropped++;
    pthread_mutex_unlock(&m->lock);
    return (int)n;
}

static bool same_addr(const struct wb_endpoint *a, const struct wb_endpoint *b)
{
    return a->family == b->family && a->port == b->port &&
           memcmp(a->addr, b->addr, a->family == 4 ? 4 : 16) == 0;
}

/* Wire faults for the next data message (type 4) on the wire, under
 * net_lock: flip a byte of its ciphertext, or deliver it twice. */
static int corrupt_next_data, duplicate_next_data;

/* Deliver to whichever host owns the destination; the datagram's source is
 * the sender's current address (roaming changes it). */
static int m_udp_tx(struct io_backend *io, unsigned q, struct pkt **pkts, unsigned n)
{
    struct memio *m = (struct memio *)io;

    pthread_mutex_lock(&net_lock);
    for (unsigned i = 0; i < n; i++) {
        bool data = pkts[i]->len > 32 && pkts[i]->data[0] == MESSAGE_DATA;
        int copies = 1;

        if (data && corrupt_next_data) {
            corrupt_next_data = 0;
            pkts[i]->data[pkts[i]->len - 1] ^= 0x40;     /* inside the tag */
        } else if (data && duplicate_next_data) {
            duplicate_next_data = 0;
            copies = 2;
        }
        for (int h = 0; h < N_HOSTS; h++) {
            struct memio *d = hosts[h];

            if (!d || !same_addr(&d->addr, &pkts[i]->remote))
                continue;
            for (int k = 0; k < copies; k++) {
                struct pkt *c = copy_pkt(pkts[i]);

                c->remote = m->addr;
                c->local = d->addr;
                pthread_mutex_lock(&d->lock);
                if (push(&d->udp_in, c) < 0) {
                    pkt_free(c);
                    d->tx_dropped++;
                }
                pthread_mutex_unlock(&d->lock);
            }
        }
    }
    pthread_mutex_unlock(&net_lock);
    return (int)n;
}

static int m_wait(struct io_backend *io, unsigned q, int timeout_ms)
{
    struct memio *m = (struct memio *)io;

    for (int waited = 0;; waited++) {
        int r = 0;

        pthread_mutex_lock(&m->lock);
        if (m->tun_in.n)
            r |= IO_READY_TUN;
        if (m->udp_in.n)
            r |= IO_READY_UDP;
        pthread_mutex_unlock(&m->lock);
        if (atomic_exchange(&m->woken, false))
            r |= IO_READY_WAKE;
        if (r || waited >= timeout_ms)
            return r;
        usleep(1000);
    }
}

static void m_wake(struct io_backend *io)
{
    atomic_store(&((struct memio *)io)->woken, true);
}

static uint16_t m_listen_port(struct io_backend *io)
{
    return ((struct memio *)io)->addr.port;
}

static int m_set_listen(struct io_backend *io, uint16_t port, uint32_t fwmark)
{
    pthread_mutex_lock(&net_lock);
    ((struct memio *)io)->addr.port = port;
    pthread_mutex_unlock(&net_lock);
    return 0;
}

static void drain_queue(struct queue *q)
{
    struct pkt *p;

    while ((p = pop(q)))
        pkt_free(p);
}

static void m_destroy(struct io_backend *io)
{
    struct memio *m = (struct memio *)io;

    pthread_mutex_lock(&net_lock);
    for (int h = 0; h < N_HOSTS; h++)
        if (hosts[h] == m)
            hosts[h] = NULL;
    pthread_mutex_unlock(&net_lock);
    drain_queue(&m->tun_in), drain_queue(&m->tun_out), drain_queue(&m->udp_in);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static const struct io_backend_ops memio_ops = {
    .name = "memio",
    .tun_rx_burst = m_tun_rx, .tun_tx_burst = m_tun_tx,
    .udp_rx_burst = m_udp_rx, .udp_tx_burst = m_udp_tx,
    .wait = m_wait, .wake = m_wake, .set_listen = m_set_listen,
    .listen_port = m_listen_port, .destroy = m_destroy,
};

static struct memio *memio_new(int h, uint8_t last_octet, uint16_t port)
{
    struct memio *m = calloc(1, sizeof(*m));

    m->base.ops = &memio_ops;
    m->base.n_queues = 1;
    pthread_mutex_init(&m->lock, NULL);
    m->addr.family = 4;
    m->addr.addr[0] = 192, m->addr.addr[1] = 0, m->addr.addr[2] = 2, m->addr.addr[3] = last_octet;
    m->addr.port = port;
    pthread_mutex_lock(&net_lock);
    hosts[h] = m;
    pthread_mutex_unlock(&net_lock);
    return m;
}

/* ------------------------------------------------------------ test helpers */

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static size_t make_ip(uint8_t *p, int family, const char *src_last, const char *dst_last, uint32_t seq,
                      size_t len)
{
    memset(p, 0, len);
    if (family == 4) {
        p[0] = 0x45, p[2] = (uint8_t)(len >> 8), p[3] = (uint8_t)len, p[8] = 64, p[9] = 17;
        p[12] = 10, p[13] = 9, p[15] = (uint8_t)atoi(src_last);
        p[16] = 10, p[17] = 9, p[19] = (uint8_t)atoi(dst_last);
        memcpy(p + 20, &seq, 4);
    } else {
        p[0] = 0x60, p[4] = (uint8_t)((len - 40) >> 8), p[5] = (uint8_t)(len - 40), p[6] = 17, p[7] = 64;
        p[8] = 0xfd, p[9] = 9, p[23] = (uint8_t)atoi(src_last);
        p[24] = 0xfd, p[25] = 9, p[39] = (uint8_t)atoi(dst_last);
        memcpy(p + 40, &seq, 4);
    }
    return len;
}

static void inject(struct memio *m, const uint8_t *data, size_t len)
{
    struct pkt *p = pkt_alloc();

    memcpy(p->data, data, len);
    p->len = (uint32_t)len;
    pthread_mutex_lock(&m->lock);
    push(&m->tun_in, p);
    pthread_mutex_unlock(&m->lock);
}

/* Wait up to 12 s for a packet at m's TUN side equal to want: a lost
 * initiation (e.g. dropped by the responder's 20 ms flood guard after a
 * burst of re-adds) is retried after REKEY_TIMEOUT + jitter, 5.333 s at
 * most, so two retries fit. */
static bool expect(struct memio *m, const uint8_t *want, size_t len)
{
    for (int i = 0; i < 12000; i++) {
        struct pkt *p;

        pthread_mutex_lock(&m->lock);
        p = pop(&m->tun_out);
        pthread_mutex_unlock(&m->lock);
        if (p) {
            bool ok = p->len == len && memcmp(p->data, want, len) == 0;
            pkt_free(p);
            if (ok)
                return true;
            continue;
        }
        sleep_ms(1);
    }
    return false;
}

static void flush_tun_out(struct memio *m)
{
    pthread_mutex_lock(&m->lock);
    drain_queue(&m->tun_out);
    pthread_mutex_unlock(&m->lock);
}

struct host_keys {
    uint8_t priv[32], pub[32];
};

static void add_prefix(struct config_peer *cp, const char *s)
{
    struct config_prefix pr;

    CHECK(config_prefix_parse(&pr, s) == 0);
    config_prefix_normalize(&pr);
    config_prefixes_add(&cp->allowed_ips, &cp->n_allowed_ips, &pr);
}

/* Configure dev with key k and one peer (key pk, endpoint ep, allowed IPs). */
static int configure(struct device *dev, const struct host_keys *k, const uint8_t pk[32],
                     const struct memio *peer_io, const char *aip4, const char *aip6)
{
    struct config c;
    struct config_peer *cp;
    int ret;

    config_init(&c);
    c.has_private_key = true;
    memcpy(c.private_key, k->priv, 32);
    cp = config_add_peer(&c);
    memcpy(cp->public_key, pk, 32);
    if (peer_io) {
        cp->has_endpoint = true;
        cp->endpoint = peer_io->addr;
    }
    add_prefix(cp, aip4);
    add_prefix(cp, aip6);
    ret = device_set_config(dev, &c);
    config_free(&c);
    return ret;
}

static const struct config_peer *find(const struct config *c, const uint8_t pk[32])
{
    for (size_t i = 0; i < c->n_peers; i++)
        if (memcmp(c->peers[i].public_key, pk, 32) == 0)
            return &c->peers[i];
    return NULL;
}

/* ------------------------------------------------------------------- tests */

static struct device *dev_a, *dev_b;
static struct memio *io_a, *io_b;
static struct host_keys ka, kb;

static void test_traffic_both_ways(void)
{
    uint8_t pkt[1500];
    size_t n;

    /* A (10.9.0.1, fd09::1) routes 10.9.0.2/32 and fd09::2/128 to B, and B the reverse. */
    CHECK(configure(dev_a, &ka, kb.pub, io_b, "10.9.0.2/32", "fd09::2/128") == 0);
    CHECK(configure(dev_b, &kb, ka.pub, NULL, "10.9.0.1/32", "fd09::1/128") == 0);
    CHECK(device_start(dev_a) == 0);
    CHECK(device_start(dev_b) == 0);

    n = make_ip(pkt, 4, "1", "2", 1, 84);
    inject(io_a, pkt, n);
    CHECK(expect(io_b, pkt, n));              /* handshake, then the staged packet */
    n = make_ip(pkt, 4, "2", "1", 2, 1420);
    inject(io_b, pkt, n);                     /* B learned A's endpoint from the handshake */
    CHECK(expect(io_a, pkt, n));
    n = make_ip(pkt, 6, "1", "2", 3, 1280);
    inject(io_a, pkt, n);
    CHECK(expect(io_b, pkt, n));
    n = make_ip(pkt, 6, "2", "1", 4, 100);
    inject(io_b, pkt, n);
    CHECK(expect(io_a, pkt, n));
    for (uint32_t i = 0; i < 200; i++) {      /* a burst arrives whole and in order */
        n = make_ip(pkt, 4, "1", "2", 100 + i, 60 + i);
        inject(io_a, pkt, n);
    }
    for (uint32_t i = 0; i < 200; i++) {
        n = make_ip(pkt, 4, "1", "2", 100 + i, 60 + i);
        CHECK(expect(io_b, pkt, n));
    }
    printf("traffic: IPv4 and IPv6 both ways, 200-packet burst in order\n");
}

static void test_get_config(void)
{
    struct config c;
    const struct config_peer *p;

    config_init(&c);
    CHECK(device_get_config(dev_a, &c) == 0);
    CHECK(c.has_private_key && memcmp(c.private_key, ka.priv, 32) == 0);
    CHECK(c.n_peers == 1);
    p = find(&c, kb.pub);
    CHECK(p != NULL);
    if (p) {
        CHECK(p->tx_bytes > 0 && p->rx_bytes > 0);
        CHECK(p->last_handshake_time_sec > 1600000000ULL);
        CHECK(p->n_allowed_ips == 2);
        CHECK(p->has_endpoint && p->endpoint_port == io_b->addr.port);
        CHECK(p->endpoint_host && strcmp(p->endpoint_host, "192.0.2.2") == 0);
    }
    config_free(&c);
    printf("get config: keys, endpoint, allowed IPs and counters\n");
}

static void test_cryptokey_routing(void)
{
    struct device_stats before, after;
    uint8_t pkt[200];
    size_t n;

    device_get_stats(dev_a, &before);
    n = make_ip(pkt, 4, "1", "77", 9, 60);      /* no peer owns 10.9.0.77 */
    inject(io_a, pkt, n);
    n = make_ip(pkt, 4, "66", "1", 10, 60);     /* B claims a source it does not own */
    inject(io_b, pkt, n);
    /* B has no route for 10.9.0.1 from source .66? It does: dst 10.9.0.1 is A. */
    for (int i = 0; i < 3000; i++) {
        device_get_stats(dev_a, &after);
        if (after.drop_no_route > before.drop_no_route &&
            after.drop_source_not_allowed > before.drop_source_not_allowed)
            break;
        sleep_ms(1);
    }
    CHECK(after.drop_no_route == before.drop_no_route + 1);
    CHECK(after.drop_source_not_allowed == before.drop_source_not_allowed + 1);
    n = make_ip(pkt, 4, "2", "1", 11, 60);      /* and a good one still passes */
    inject(io_b, pkt, n);
    CHECK(expect(io_a, pkt, n));
    printf("cryptokey routing: unknown destination and foreign source dropped and counted\n");
}

/* The peers' own drop counters reach the device's stats: a corrupted data
 * message is a decrypt failure, a duplicated one a replay. */
static void test_tunnel_drops(void)
{
    struct device_stats before, after;
    uint8_t pkt[200];
    size_t n;

    device_get_stats(dev_a, &before);
    pthread_mutex_lock(&net_lock);
    corrupt_next_data = 1;
    pthread_mutex_unlock(&net_lock);
    n = make_ip(pkt, 4, "2", "1", 21, 80);
    inject(io_b, pkt, n);
    pthread_mutex_lock(&net_lock);
    duplicate_next_data = 1;
    pthread_mutex_unlock(&net_lock);
    n = make_ip(pkt, 4, "2", "1", 22, 80);
    inject(io_b, pkt, n);
    CHECK(expect(io_a, pkt, n));
    for (int i = 0; i < 3000; i++) {
        device_get_stats(dev_a, &after);
        if (after.tunnel_drops[WB_DROP_REPLAY] > before.tunnel_drops[WB_DROP_REPLAY])
            break;
        sleep_ms(1);
    }
    CHECK(after.tunnel_drops[WB_DROP_DECRYPT_FAILED] ==
          before.tunnel_drops[WB_DROP_DECRYPT_FAILED] + 1);
    CHECK(after.tunnel_drops[WB_DROP_REPLAY] == before.tunnel_drops[WB_DROP_REPLAY] + 1);
    printf("tunnel drops in the device stats: corrupted = decrypt failed, duplicate = replay\n");
}

/* Setting the key the device already has must keep its sessions: wg
 * syncconf and setconf resend it. The handshake count must not move. */
static void test_same_key_keeps_sessions(void)
{
    struct config c, before, after;
    const struct config_peer *pb, *pa;
    uint8_t pkt[200];
    size_t n;

    config_init(&before);
    CHECK(device_get_config(dev_a, &before) == 0);
    config_init(&c);
    c.has_private_key = true;
    memcpy(c.private_key, ka.priv, 32);
    CHECK(device_set_config(dev_a, &c) == 0);
    config_free(&c);
    n = make_ip(pkt, 4, "1", "2", 77, 80);
    inject(io_a, pkt, n);
    CHECK(expect(io_b, pkt, n));
    config_init(&after);
    CHECK(device_get_config(dev_a, &after) == 0);
    pb = find(&before, kb.pub);
    pa = find(&after, kb.pub);
    CHECK(pb && pa && pb->last_handshake_time_sec == pa->last_handshake_time_sec &&
          pb->last_handshake_time_nsec == pa->last_handshake_time_nsec);
    config_free(&before);
    config_free(&after);
    printf("same private key again: sessions kept, no new handshake\n");
}

static void test_roaming(void)
{
    struct config c;
    const struct config_peer *p;
    uint8_t pkt[200];
    size_t n;

    pthread_mutex_lock(&net_lock);
    io_b->addr.addr[3] = 99;                   /* B moves to 192.0.2.99:2001 */
    io_b->addr.port = 2001;
    pthread_mutex_unlock(&net_lock);
    n = make_ip(pkt, 4, "2", "1", 12, 80);
    inject(io_b, pkt, n);
    CHECK(expect(io_a, pkt, n));
    n = make_ip(pkt, 4, "1", "2", 13, 80);      /* A answers at B's new address */
    inject(io_a, pkt, n);
    CHECK(expect(io_b, pkt, n));
    config_init(&c);
    CHECK(device_get_config(dev_a, &c) == 0);
    p = find(&c, kb.pub);
    CHECK(p && p->endpoint_port == 2001 && p->endpoint_host && strcmp(p->endpoint_host, "192.0.2.99") == 0);
    config_free(&c);
    printf("roaming: the endpoint follows authenticated packets\n");
}

static void test_key_change(void)
{
    struct host_keys k2;
    struct config c;
    struct config_peer *cp;
    uint8_t pkt[200];
    size_t n;

    wb_key_generate(k2.priv);
    wb_key_public(k2.pub, k2.priv);
    /* A takes a new key; B must learn it (replace its peer). */
    config_init(&c);
    c.has_private_key = true;
    memcpy(c.private_key, k2.priv, 32);
    CHECK(device_set_config(dev_a, &c) == 0);
    config_free(&c);
    config_init(&c);
    c.replace_peers = true;
    cp = config_add_peer(&c);
    memcpy(cp->public_key, k2.pub, 32);
    add_prefix(cp, "10.9.0.1/32");
    add_prefix(cp, "fd09::1/128");
    CHECK(device_set_config(dev_b, &c) == 0);
    config_free(&c);
    ka = k2;
    flush_tun_out(io_b);
    n = make_ip(pkt, 4, "1", "2", 14, 90);
    inject(io_a, pkt, n);
    CHECK(expect(io_b, pkt, n));
    printf("private key change: new handshake, traffic resumes\n");
}

static void *traffic_thread(void *arg)
{
    uint8_t pkt[200];
    atomic_bool *stop = arg;

    for (uint32_t i = 0; !atomic_load(stop); i++) {
        size_t n = make_ip(pkt, 4, "1", "2", i, 64);
        inject(io_a, pkt, n);
        if (i % 32 == 0)
            sleep_ms(1);
    }
    return NULL;
}

static void test_remove_under_traffic(void)
{
    atomic_bool stop = false;
    pthread_t th;
    uint8_t pkt[200];
    size_t n;

    pthread_create(&th, NULL, traffic_thread, &stop);
    for (int round = 0; round < 20; round++) {
        struct config c;
        struct config_peer *cp;

        config_init(&c);
        cp = config_add_peer(&c);
        memcpy(cp->public_key, kb.pub, 32);
        cp->remove = true;
        CHECK(device_set_config(dev_a, &c) == 0);
        config_free(&c);
        sleep_ms(5);
        CHECK(configure(dev_a, &ka, kb.pub, io_b, "10.9.0.2/32", "fd09::2/128") == 0);
        sleep_ms(5);
    }
    atomic_store(&stop, true);
    pthread_join(th, NULL);
    flush_tun_out(io_b);
    n = make_ip(pkt, 4, "1", "2", 999999, 70);
    inject(io_a, pkt, n);
    CHECK(expect(io_b, pkt, n));
    printf("peer removed and re-added 20 times under traffic: no crash, traffic resumes\n");
}

static void test_flood_under_load(void)
{
    struct device_stats st;
    struct memio *io_c;
    struct device *dev_c;
    struct host_keys kc;
    uint8_t pkt[200];
    size_t n;

    /* A third host floods A with initiations that carry a valid mac1 (it
     * knows A's public key) but a static key A does not know. */
    io_c = memio_new(2, 3, 3000);
    CHECK(device_create(&io_c->base, NULL, &dev_c) == 0);
    wb_key_generate(kc.priv);
    wb_key_public(kc.pub, kc.priv);
    CHECK(configure(dev_c, &kc, ka.pub, io_a, "10.9.0.1/32", "fd09::1/128") == 0);
    CHECK(device_start(dev_c) == 0);
    for (int i = 0; i < 5; i++) {
        n = make_ip(pkt, 4, "3", "1", (uint32_t)i, 64);
        inject(io_c, pkt, n);
    }
    sleep_ms(200);
    device_get_stats(dev_a, &st);
    CHECK(st.drop_unknown_peer >= 1);
    device_destroy(dev_c);
    /* The real peer still gets through. */
    flush_tun_out(io_b);
    n = make_ip(pkt, 4, "1", "2", 4242, 70);
    inject(io_a, pkt, n);
    CHECK(expect(io_b, pkt, n));
    printf("unknown static key: initiation dropped and counted (%llu)\n",
           (unsigned long long)st.drop_unknown_peer);
}

/* A dump in parts, with peers removed and added between parts: every
 * peer that stays the whole time comes exactly once, and the removals of
 * one change (one grace period for all of them) leave the rest working. */
static void test_dump_in_parts(void)
{
    enum { N = 600, PART = 64 };
    static uint8_t keys[N][32];
    static unsigned seen[N];
    struct memio *io_d = memio_new(3, 4, 4000);
    struct device_dump d;
    struct device *dev;
    struct config c, part;
    int more, parts = 0;

    CHECK(device_create(&io_d->base, NULL, &dev) == 0);
    config_init(&c);
    for (unsigned i = 0; i < N; i++) {
        struct config_peer *cp = config_add_peer(&c);
        char ip[32];

        wb_key_generate(keys[i]);
        wb_key_public(keys[i], keys[i]);
        memcpy(cp->public_key, keys[i], 32);
        snprintf(ip, sizeof(ip), "10.%u.%u.0/24", i / 256, i % 256);
        add_prefix(cp, ip);
    }
    CHECK(device_set_config(dev, &c) == 0);
    config_free(&c);

    memset(seen, 0, sizeof(seen));
    device_dump_begin(dev, &d);
    do {
        config_init(&part);
        more = device_dump_next(dev, &d, &part, PART);
        CHECK(more >= 0);
        CHECK(part.n_peers <= PART);
        for (size_t k = 0; k < part.n_peers; k++)
            for (unsigned i = 0; i < N; i++)
                if (memcmp(part.peers[k].public_key, keys[i], 32) == 0) {
                    seen[i]++;
                    CHECK(part.peers[k].n_allowed_ips == 1);
                }
        config_free(&part);
        if (parts++ == 2) {
            /* Remove every 7th peer (some dumped already, most not) and
             * add one, between two parts. */
            config_init(&c);
            for (unsigned i = 0; i < N; i += 7) {
                struct config_peer *cp = config_add_peer(&c);

                memcpy(cp->public_key, keys[i], 32);
                cp->remove = true;
            }
            CHECK(device_set_config(dev, &c) == 0);
            config_free(&c);
        }
    } while (more == 1);
    device_dump_end(dev, &d);
    for (unsigned i = 0; i < N; i++)
        if (i % 7)
            CHECK(seen[i] == 1);
        else
            CHECK(seen[i] <= 1);

    /* After the dump the holes are gone: a plain get has the survivors. */
    config_init(&c);
    CHECK(device_get_config(dev, &c) == 0);
    CHECK(c.n_peers == N - (N + 6) / 7);
    config_free(&c);
    device_destroy(dev);
    printf("dump in %d parts of %d with removals between parts: each staying peer once\n", parts,
           PART);
}

int main(void)
{
    CHECK(wb_init() == 0);
    wb_key_generate(ka.priv), wb_key_public(ka.pub, ka.priv);
    wb_key_generate(kb.priv), wb_key_public(kb.pub, kb.priv);
    io_a = memio_new(0, 1, 1000);
    io_b = memio_new(1, 2, 2000);
    CHECK(device_create(&io_a->base, NULL, &dev_a) == 0);
    CHECK(device_create(&io_b->base, NULL, &dev_b) == 0);

    test_traffic_both_ways();
    test_get_config();
    test_cryptokey_routing();
    test_tunnel_drops();
    test_same_key_keeps_sessions();
    test_roaming();
    test_key_change();
    test_remove_under_traffic();
    test_flood_under_load();
    test_dump_in_parts();

    device_destroy(dev_a);
    device_destroy(dev_b);
    return check_summary();
}
