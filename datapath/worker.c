/* SPDX-License-Identifier: MIT */
/*
 * worker.c - the datapath thread: bursts from the TUN side are routed by
 * destination (allowed IPs) to a peer and encapsulated; bursts from the UDP
 * side are dispatched by message type (data and cookies at once, handshakes
 * through a bounded queue so X25519 work never starves data); every 100 ms
 * the peers' timers run. One thread for now: the multi-core datapath will
 * run this loop per worker over its own queues.
 *
 * Concurrency: a registered QSBR reader, online while it works (peer and
 * allowed-IPs lookups take no lock; what they return is valid until the
 * rcu_quiescent_state() at the end of the iteration), offline while it
 * waits. A peer's protocol state is touched only under its tunnel lock,
 * and a peer marked dead under that lock is skipped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/random.h"
#include "datapath/device_impl.h"
#include "proto/byteorder.h"
#include "proto/packet.h"

#define TX_SLOTS (4 * DEVICE_BURST)

enum rx_kind { RX_DROP, RX_HANDSHAKE, RX_COOKIE, RX_DATA };

struct batch {
    struct pkt *rx[DEVICE_BURST];
    struct device_peer *peer[DEVICE_BURST];   /* per rx packet: its peer (NULL: none) */
    struct aead_op ops[DEVICE_BURST];
    struct noise_keypair *kps[DEVICE_BURST];
    long plain[DEVICE_BURST];
    uint8_t idx[DEVICE_BURST];                /* rx slot of each op */
    uint8_t kind[DEVICE_BURST];               /* enum rx_kind of each rx datagram */
    struct pkt *udp_tx[TX_SLOTS];
    unsigned n_udp_tx;
    struct pkt *tun_tx[TX_SLOTS];
    unsigned n_tun_tx;
    struct pkt *spare[TX_SLOTS];
    unsigned n_spare;
};

/* ------------------------------------------------------------- buffers */

static struct pkt *get_buf(struct batch *b)
{
    struct pkt *p = b->n_spare ? b->spare[--b->n_spare] : pkt_alloc();

    if (p)
        pkt_reset(p);
    return p;
}

static void put_buf(struct batch *b, struct pkt *p)
{
    if (b->n_spare < sizeof(b->spare) / sizeof(b->spare[0]))
        b->spare[b->n_spare++] = p;
    else
        pkt_free(p);
}

static void flush_udp(struct device *dev, struct batch *b)
{
    unsigned done = 0;

    while (done < b->n_udp_tx) {
        int n = dev->io->ops->udp_tx_burst(dev->io, 0, b->udp_tx + done, b->n_udp_tx - done);

        if (n <= 0) {
            dev->stats.tx_failed += b->n_udp_tx - done;
            break;
        }
        dev->stats.tx_datagrams += (unsigned)n;
        done += (unsigned)n;
    }
    for (unsigned i = 0; i < b->n_udp_tx; i++)
        put_buf(b, b->udp_tx[i]);
    b->n_udp_tx = 0;
}

static void flush_tun(struct device *dev, struct batch *b)
{
    unsigned done = 0;

    while (done < b->n_tun_tx) {
        int n = dev->io->ops->tun_tx_burst(dev->io, 0, b->tun_tx + done, b->n_tun_tx - done);

        if (n <= 0) {
            dev->stats.tx_failed += b->n_tun_tx - done;
            break;
        }
        dev->stats.tx_tun += (unsigned)n;
        done += (unsigned)n;
    }
    for (unsigned i = 0; i < b->n_tun_tx; i++)
        put_buf(b, b->tun_tx[i]);
    b->n_tun_tx = 0;
}

static struct pkt *udp_slot(struct device *dev, struct batch *b)
{
    if (b->n_udp_tx == TX_SLOTS)
        flush_udp(dev, b);
    return get_buf(b);
}

/* Queue out->data[0..len) to the peer's endpoint, from its sticky source.
 * Called with p->tun->lock held. */
static void send_to_peer(struct device *dev, struct batch *b, struct device_peer *p, struct pkt *out,
                         size_t len)
{
    if (!p->tun->peer.endpoint.family) {
        dev->stats.no_endpoint++;
        put_buf(b, out);
        return;
    }
    out->len = (uint32_t)len;
    out->remote = p->tun->peer.endpoint;
    out->local = p->src;
    out->local_ifindex = p->src_ifindex;
    b->udp_tx[b->n_udp_tx++] = out;
}

/* Reply to where a datagram came from (handshake answers before the peer
 * is known, cookie replies). */
static void reply_to(struct batch *b, const struct pkt *in, struct pkt *out, size_t len)
{
    out->len = (uint32_t)len;
    out->remote = in->remote;
    out->local = in->local;
    out->local_ifindex = in->local_ifindex;
    b->udp_tx[b->n_udp_tx++] = out;
}

/* After a call that may owe more datagrams: drain them all. p->tun->lock held. */
static void drain_peer(struct device *dev, struct batch *b, struct device_peer *p)
{
    for (;;) {
        struct pkt *out = udp_slot(dev, b);
        struct wb_result r;

        if (!out)
            return;
        r = tunnel_drain(p->tun, out->data, PKT_DATA_MAX);
        if (r.op != WB_WRITE_TO_NETWORK) {
            put_buf(b, out);
            return;
        }
        send_to_peer(dev, b, p, out, r.size);
    }
}

/* Apply a tunnel result that goes to the network; p->tun->lock held. */
static void network_result(struct device *dev, struct batch *b, struct device_peer *p,
                           struct pkt *out, struct wb_result r)
{
    if (r.op == WB_WRITE_TO_NETWORK)
        send_to_peer(dev, b, p, out, r.size);
    else
        put_buf(b, out);
    drain_peer(dev, b, p);
}

/* ---------------------------------------------------------------- TUN side */

static const uint8_t *inner_addr(const struct pkt *in, int *family, bool source)
{
    if (in->len >= 20 && in->data[0] >> 4 == 4) {
        *family = 4;
        return in->data + (source ? 12 : 16);
    }
    if (in->len >= 40 && in->data[0] >> 4 == 6) {
        *family = 6;
        return in->data + (source ? 8 : 24);
    }
    return NULL;
}

/* Hand rx slot i's buffer on to a tx list, putting a spare in its place.
 * False (the packet stays) when no spare buffer can be had. */
static bool take_rx(struct batch *b, unsigned i, struct pkt **list, unsigned *n)
{
    struct pkt *spare = get_buf(b);

    if (!spare)
        return false;
    list[(*n)++] = b->rx[i];
    b->rx[i] = spare;
    return true;
}

/* The slow path for one packet (no usable key, staged packets ahead,
 * counter exhausted): the tunnel copies it into a new buffer, stages it
 * or starts a handshake. p->tun->lock held. */
static void encapsulate_copy(struct device *dev, struct batch *b, struct device_peer *p, struct pkt *in)
{
    struct pkt *out = udp_slot(dev, b);
    struct wb_result r;

    if (!out)
        return;
    r = tunnel_encapsulate_locked(p->tun, in->data, in->len, out->data, PKT_DATA_MAX);
    network_result(dev, b, p, out, r);
}

/* Seal rx[i..j) (all routed to p) in place: the header goes into each
 * buffer's headroom, padding and tag into its tailroom, one batch AEAD
 * call for the run, and the buffers themselves become the datagrams.
 * p->tun->lock held; the keypair cannot change until it is released. */
static void encapsulate_run(struct device *dev, struct batch *b, struct device_peer *p,
                            unsigned i, unsigned j)
{
    struct wb_tunnel *t = p->tun;
    uint64_t now = tunnel_now(t);
    struct noise_keypair *kp = tunnel_data_keypair_locked(t, now);
    unsigned n_ops = 0, k = i;
    size_t bytes = 0;

    for (; kp && k < j; k++) {
        struct pkt *in = b->rx[k];
        uint8_t *hdr = in->data - MESSAGE_DATA_HEADER_LEN;
        long len = packet_prepare_create(kp, in->data, in->len, t->mtu, hdr,
                                         MESSAGE_DATA_HEADER_LEN + in->len + pkt_tailroom(in),
                                         &b->ops[n_ops]);

        if (len < 0)
            break;                 /* counter exhausted: the slow path rekeys */
        in->data = hdr;
        in->len = (uint32_t)len;
        bytes += (size_t)len;
        n_ops++;
    }
    if (n_ops) {
        aead_seal_batch(b->ops, n_ops);
        tunnel_data_sent_locked(t, n_ops, bytes, now);
        for (unsigned m = i; m < i + n_ops; m++) {
            struct pkt *out = b->rx[m];

            if (b->n_udp_tx == TX_SLOTS)
                flush_udp(dev, b);
            if (!t->peer.endpoint.family) {
                dev->stats.no_endpoint++;
                continue;
            }
            out->remote = t->peer.endpoint;
            out->local = p->src;
            out->local_ifindex = p->src_ifindex;
            if (!take_rx(b, m, b->udp_tx, &b->n_udp_tx))
                dev->stats.tx_failed++;
        }
    }
    for (; k < j; k++)
        encapsulate_copy(dev, b, p, b->rx[k]);
    drain_peer(dev, b, p);
}

/* A backend error that will not go away (the TUN interface was deleted, a
 * socket died): record it, tell the owner, and let the loop end instead of
 * spinning on a descriptor that stays ready. */
static void fatal(struct device *dev, int err)
{
    int expected = 0;

    if (atomic_compare_exchange_strong(&dev->fatal_error, &expected, err) && dev->opt.on_fatal)
        dev->opt.on_fatal(dev->opt.log_ctx, err);
    if (dev->opt.log) {
        char msg[96];

        snprintf(msg, sizeof(msg), "datapath stopped: I/O error %d (%s)", err, strerror(-err));
        dev->opt.log(dev->opt.log_ctx, WB_LOG_ERROR, msg);
    }
}

static int handle_tun(struct device *dev, struct batch *b)
{
    int n = dev->io->ops->tun_rx_burst(dev->io, 0, b->rx, DEVICE_BURST);

    if (n < 0 && n != -EAGAIN && n != -EINTR) {
        fatal(dev, n);
        return n;
    }
    /* Route every packet, then one lock per run of packets to one peer. */
    for (int i = 0; i < n; i++) {
        int family;
        const uint8_t *dst = inner_addr(b->rx[i], &family, false);

        b->peer[i] = dst ? allowedips_lookup(&dev->aips, family, dst) : NULL;
        if (!b->peer[i])
            dev->stats.no_route++;
    }
    dev->stats.rx_tun += (unsigned)(n > 0 ? n : 0);
    for (int i = 0, j; i < n; i = j) {
        struct device_peer *p = b->peer[i];

        for (j = i + 1; j < n && b->peer[j] == p; j++)
            ;
        if (!p)
            continue;
        wb_mutex_lock(&p->tun->lock);
        if (!p->dead)
            encapsulate_run(dev, b, p, (unsigned)i, (unsigned)j);
        wb_mutex_unlock(&p->tun->lock);
    }
    for (int i = 0; i < n; i++)
        pkt_reset(b->rx[i]);
    return 0;
}

/* ---------------------------------------------------------------- UDP side */

/* Note the local address an authenticated datagram reached us on. */
static void learn_source(struct device_peer *p, const struct pkt *in, uint64_t rx_before)
{
    if (p->tun->peer.rx_packets != rx_before) {
        p->src = in->local;
        p->src_ifindex = in->local_ifindex;
    }
}

/* Responses, cookies and data: the receiver index names the peer. */
static void decapsulate_indexed(struct device *dev, struct batch *b, struct pkt *in)
{
    /* The receiver index: at 8 in a response (after its sender index), at 4
     * in cookie replies and data. */
    size_t at = in->data[0] == MESSAGE_HANDSHAKE_RESPONSE ? 8 : 4;
    struct device_peer *p = peer_table_lookup_index(&dev->peers, load_le32(in->data + at));
    struct pkt *out;
    struct wb_result r;
    uint64_t rx_before;

    if (!p) {
        dev->stats.unknown_index++;
        return;
    }
    out = get_buf(b);
    if (!out)
        return;
    wb_mutex_lock(&p->tun->lock);
    if (p->dead) {
        wb_mutex_unlock(&p->tun->lock);
        put_buf(b, out);
        return;
    }
    rx_before = p->tun->peer.rx_packets;
    r = tunnel_decapsulate_locked(p->tun, &in->remote, in->data, in->len, out->data, PKT_DATA_MAX);
    learn_source(p, in, rx_before);
    if (r.op == WB_WRITE_TO_TUNNEL_IPV4 || r.op == WB_WRITE_TO_TUNNEL_IPV6) {
        int family;
        const uint8_t *src;

        out->len = (uint32_t)r.size;
        src = inner_addr(out, &family, true);
        /* Cryptokey routing: the inner source must be one of this peer's. */
        if (src && allowedips_lookup(&dev->aips, family, src) == p) {
            if (b->n_tun_tx == TX_SLOTS)
                flush_tun(dev, b);
            b->tun_tx[b->n_tun_tx++] = out;
        } else {
            dev->stats.source_not_allowed++;
            put_buf(b, out);
        }
        drain_peer(dev, b, p);     /* a confirmed session releases staged packets */
    } else {
        if (b->n_udp_tx == TX_SLOTS)
            flush_udp(dev, b);
        network_result(dev, b, p, out, r);
    }
    wb_mutex_unlock(&p->tun->lock);
}

static void queue_handshake(struct device *dev, struct batch *b, unsigned i, uint64_t now)
{
    struct pkt *copy;

    if (dev->hq_count == DEVICE_HANDSHAKE_QUEUE) {
        dev->stats.hq_full++;
        return;
    }
    /* The queue keeps the rx buffer itself; the burst slot gets a new one. */
    copy = get_buf(b);
    if (!copy)
        return;
    dev->handshake_queue[(dev->hq_head + dev->hq_count++) % DEVICE_HANDSHAKE_QUEUE] = b->rx[i];
    b->rx[i] = copy;
    if (dev->hq_count >= DEVICE_HANDSHAKE_QUEUE / 8)
        dev->under_load_until = now + UNDER_LOAD_AFTER_TIME_NS;
}

/* Open rx[i..j) (data messages, all for p) in place, one batch AEAD call,
 * then in arrival order the ordered stage (replay window, timers) and the
 * cryptokey-routing check; the buffers themselves go to the TUN.
 * p->tun->lock held. */
static void decapsulate_run(struct device *dev, struct batch *b, struct device_peer *p,
                            unsigned i, unsigned j)
{
    struct wb_tunnel *t = p->tun;
    uint64_t now = tunnel_now(t);
    unsigned n_ops = 0;

    for (unsigned k = i; k < j; k++) {
        struct pkt *in = b->rx[k];
        struct wb_result r;

        b->kps[n_ops] = tunnel_prepare_data_locked(t, in->data, in->len,
                                                   in->data + MESSAGE_DATA_HEADER_LEN, in->len,
                                                   &b->ops[n_ops], &b->plain[n_ops], &r, now);
        if (b->kps[n_ops])
            b->idx[n_ops++] = (uint8_t)k;
    }
    aead_open_batch(b->ops, n_ops);
    for (unsigned q = 0; q < n_ops; q++) {
        struct pkt *in = b->rx[b->idx[q]];
        uint64_t rx_before = t->peer.rx_packets;
        struct wb_result r = tunnel_finish_data_locked(t, b->kps[q], &b->ops[q], &in->remote, in->len,
                                                       (size_t)b->plain[q], now);
        int family;
        const uint8_t *src;

        learn_source(p, in, rx_before);
        if (r.op != WB_WRITE_TO_TUNNEL_IPV4 && r.op != WB_WRITE_TO_TUNNEL_IPV6)
            continue;              /* keepalive, or a drop the tunnel counted */
        in->data += MESSAGE_DATA_HEADER_LEN;
        in->len = (uint32_t)r.size;
        src = inner_addr(in, &family, true);
        /* Cryptokey routing: the inner source must be one of this peer's. */
        if (!src || allowedips_lookup(&dev->aips, family, src) != p) {
            dev->stats.source_not_allowed++;
            continue;
        }
        if (b->n_tun_tx == TX_SLOTS)
            flush_tun(dev, b);
        if (!take_rx(b, b->idx[q], b->tun_tx, &b->n_tun_tx))
            dev->stats.tx_failed++;
    }
    drain_peer(dev, b, p);         /* a confirmed session releases staged packets */
}

/* Type and length; for data, the peer by receiver index. Drops counted. */
static enum rx_kind classify(struct device *dev, struct batch *b, unsigned i)
{
    const struct pkt *in = b->rx[i];

    if (in->len < 4 || in->data[1] || in->data[2] || in->data[3]) {
        dev->stats.malformed++;
        return RX_DROP;
    }
    if ((in->data[0] == MESSAGE_HANDSHAKE_INITIATION && in->len == MESSAGE_INITIATION_LEN) ||
        (in->data[0] == MESSAGE_HANDSHAKE_RESPONSE && in->len == MESSAGE_RESPONSE_LEN))
        return RX_HANDSHAKE;
    if (in->data[0] == MESSAGE_HANDSHAKE_COOKIE && in->len == MESSAGE_COOKIE_LEN)
        return RX_COOKIE;
    if (in->data[0] == MESSAGE_DATA && in->len >= MESSAGE_MINIMUM_LENGTH) {
        b->peer[i] = peer_table_lookup_index(&dev->peers, load_le32(in->data + 4));
        if (b->peer[i])
            return RX_DATA;
        dev->stats.unknown_index++;
        return RX_DROP;
    }
    dev->stats.malformed++;
    return RX_DROP;
}

static int handle_udp(struct device *dev, struct batch *b, uint64_t now)
{
    int n = dev->io->ops->udp_rx_burst(dev->io, 0, b->rx, DEVICE_BURST);

    if (n < 0 && n != -EAGAIN && n != -EINTR) {
        fatal(dev, n);
        return n;
    }
    for (int i = 0; i < n; i++)
        b->kind[i] = (uint8_t)classify(dev, b, (unsigned)i);
    dev->stats.rx_datagrams += (unsigned)(n > 0 ? n : 0);
    for (int i = 0, j; i < n; i = j) {
        struct device_peer *p = b->peer[i];

        j = i + 1;
        switch (b->kind[i]) {
        case RX_HANDSHAKE:
            queue_handshake(dev, b, (unsigned)i, now);
            break;
        case RX_COOKIE:
            decapsulate_indexed(dev, b, b->rx[i]);
            break;
        case RX_DATA:
            /* One lock per run of data messages to one peer. */
            while (j < n && b->kind[j] == RX_DATA && b->peer[j] == p)
                j++;
            wb_mutex_lock(&p->tun->lock);
            if (!p->dead)
                decapsulate_run(dev, b, p, (unsigned)i, (unsigned)j);
            wb_mutex_unlock(&p->tun->lock);
            break;
        default:
            break;
        }
    }
    for (int i = 0; i < n; i++)
        pkt_reset(b->rx[i]);
    return 0;
}

/* --------------------------------------------------------------- handshakes */

static void answer_initiation(struct device *dev, struct batch *b, struct pkt *in)
{
    struct noise_initiation_state st;
    struct device_peer *p = NULL;
    struct pkt *out = udp_slot(dev, b);

    if (!out)
        return;
    if (noise_consume_initiation_static(&dev->shared.local, (const void *)in->data, &st) == 0)
        p = peer_table_lookup_key(&dev->peers, st.remote_static);
    if (!p) {
        dev->stats.unknown_peer++;
        put_buf(b, out);
        noise_initiation_state_wipe(&st);
        return;
    }
    wb_mutex_lock(&p->tun->lock);
    if (!p->dead) {
        uint64_t rx_before = p->tun->peer.rx_packets;
        struct wb_result r = tunnel_answer_initiation_locked(p->tun, &in->remote, in->data, in->len,
                                                             &st, out->data, PKT_DATA_MAX);

        learn_source(p, in, rx_before);
        network_result(dev, b, p, out, r);
    } else {
        put_buf(b, out);
    }
    wb_mutex_unlock(&p->tun->lock);
    noise_initiation_state_wipe(&st);
}

static void process_handshake(struct device *dev, struct batch *b, struct pkt *in)
{
    struct pkt *out;
    size_t reply_len = 0;

    if (dev->shared.under_load && !ratelimiter_allow(&dev->ratelimiter, &in->remote,
                                                     tunnel_shared_now(&dev->shared))) {
        dev->stats.ratelimited++;
        return;
    }
    if (in->data[0] == MESSAGE_HANDSHAKE_RESPONSE) {
        decapsulate_indexed(dev, b, in);   /* the tunnel checks its macs */
        return;
    }
    out = udp_slot(dev, b);
    if (!out)
        return;
    switch (tunnel_shared_check_macs(&dev->shared, &in->remote, in->data, in->len, out->data,
                                     PKT_DATA_MAX, &reply_len)) {
    case TUNNEL_MACS_OK:
        put_buf(b, out);
        answer_initiation(dev, b, in);
        return;
    case TUNNEL_MACS_COOKIE_SENT:
        dev->stats.cookies++;
        reply_to(b, in, out, reply_len);
        return;
    case TUNNEL_MACS_BAD_MAC1:
    case TUNNEL_MACS_DST_TOO_SMALL:
        dev->stats.bad_mac1++;
        put_buf(b, out);
        return;
    }
}

static void process_handshakes(struct device *dev, struct batch *b, uint64_t now)
{
    dev->shared.under_load = now < dev->under_load_until;
    for (unsigned k = 0; k < DEVICE_HANDSHAKES_PER_ROUND && dev->hq_count; k++) {
        struct pkt *in = dev->handshake_queue[dev->hq_head];

        dev->hq_head = (dev->hq_head + 1) % DEVICE_HANDSHAKE_QUEUE;
        dev->hq_count--;
        process_handshake(dev, b, in);
        put_buf(b, in);
    }
}

/* ------------------------------------------------------------------ timers */

static void tick_peers(struct device *dev, struct batch *b, uint64_t now)
{
    struct cds_lfht_iter iter;
    struct cds_lfht_node *node;

    /* cds_lfht_for_each_entry would form a container pointer from NULL at
     * the end of the walk (undefined behaviour); walk nodes instead. */
    cds_lfht_for_each(dev->peers.by_key, &iter, node) {
        struct device_peer *p = caa_container_of(node, struct device_peer, key_node);
        struct pkt *out = udp_slot(dev, b);

        if (!out)
            break;
        wb_mutex_lock(&p->tun->lock);
        if (p->dead) {
            put_buf(b, out);
        } else {
            struct wb_result r = tunnel_tick_locked(p->tun, out->data, PKT_DATA_MAX);

            if (p->tun->pending.clear_endpoint_src) {
                p->tun->pending.clear_endpoint_src = false;
                memset(&p->src, 0, sizeof(p->src));
                p->src_ifindex = 0;
            }
            network_result(dev, b, p, out, r);
        }
        wb_mutex_unlock(&p->tun->lock);
    }
    ratelimiter_gc(&dev->ratelimiter, now);
}

/* --------------------------------------------------------------------- loop */

void worker_maybe_pause(struct device *dev)
{
    if (!atomic_load(&dev->pause_req))
        return;
    rcu_thread_offline();
    pthread_mutex_lock(&dev->pause_mtx);
    dev->paused = true;
    pthread_cond_broadcast(&dev->pause_cond);
    while (atomic_load(&dev->pause_req))
        pthread_cond_wait(&dev->pause_cond, &dev->pause_mtx);
    dev->paused = false;
    pthread_mutex_unlock(&dev->pause_mtx);
    rcu_thread_online();
}

static int wait_timeout_ms(struct device *dev, uint64_t now)
{
    if (dev->hq_count)
        return 0;
    if (now >= dev->next_tick)
        return 0;
    return (int)((dev->next_tick - now) / NSEC_PER_MSEC) + 1;
}

static bool batch_init(struct batch *b)
{
    memset(b, 0, sizeof(*b));
    for (unsigned i = 0; i < DEVICE_BURST; i++)
        if (!(b->rx[i] = pkt_alloc()))
            return false;
    return true;
}

static void batch_free(struct batch *b)
{
    for (unsigned i = 0; i < DEVICE_BURST; i++)
        pkt_free(b->rx[i]);
    for (unsigned i = 0; i < b->n_spare; i++)
        pkt_free(b->spare[i]);
}

void *worker_main(void *arg)
{
    struct device *dev = arg;
    struct batch *b = malloc(sizeof(*b));
    uint64_t now;

    if (!b || !batch_init(b)) {
        if (b)
            batch_free(b);
        free(b);
        atomic_compare_exchange_strong(&dev->fatal_error, &(int){ 0 }, -ENOMEM);
        pthread_mutex_lock(&dev->pause_mtx);
        dev->exited = true;
        pthread_cond_broadcast(&dev->pause_cond);
        pthread_mutex_unlock(&dev->pause_mtx);
        return NULL;
    }
    rcu_register_thread();
    dev->next_tick = tunnel_shared_now(&dev->shared);
    while (!atomic_load(&dev->stop)) {
        int ready;

        worker_maybe_pause(dev);
        now = tunnel_shared_now(&dev->shared);
        rcu_thread_offline();
        ready = dev->io->ops->wait(dev->io, 0, wait_timeout_ms(dev, now));
        rcu_thread_online();
        if (atomic_load(&dev->stop))
            break;
        now = tunnel_shared_now(&dev->shared);
        if (ready < 0 && ready != -EINTR) {
            fatal(dev, ready);
            break;
        }
        if (ready > 0 && (ready & IO_READY_UDP) && handle_udp(dev, b, now) < 0)
            break;
        if (ready > 0 && (ready & IO_READY_TUN) && handle_tun(dev, b) < 0)
            break;
        process_handshakes(dev, b, now);
        if (now >= dev->next_tick) {
            tick_peers(dev, b, now);
            dev->next_tick = now + DEVICE_TICK_NS;
        }
        flush_tun(dev, b);
        flush_udp(dev, b);
        rcu_quiescent_state();
    }
    while (dev->hq_count) {
        put_buf(b, dev->handshake_queue[dev->hq_head]);
        dev->hq_head = (dev->hq_head + 1) % DEVICE_HANDSHAKE_QUEUE;
        dev->hq_count--;
    }
    rcu_unregister_thread();
    batch_free(b);
    free(b);
    /* Tell a control thread waiting to pause us that nobody is left. */
    pthread_mutex_lock(&dev->pause_mtx);
    dev->exited = true;
    pthread_cond_broadcast(&dev->pause_cond);
    pthread_mutex_unlock(&dev->pause_mtx);
    return NULL;
}
