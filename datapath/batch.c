/* SPDX-License-Identifier: MIT */
/*
 * batch.c - what one thread of the datapath carries through its loop
 * (worker.h): receive slots that always hold a buffer, buffers from the
 * device's pool through the thread's own cache, and the slow-path output
 * lists (handshake messages, staged data, keepalives) flushed to the
 * thread's I/O queue, or, for the handshake thread, to the ring the data
 * workers send from.
 *
 * Concurrency: a batch belongs to one thread; nothing here is shared but
 * the pool and the rings, which are thread-safe.
 */
#include <errno.h>
#include <string.h>

#include "datapath/device_impl.h"

struct pkt *batch_get_buf(struct batch *b)
{
    struct pkt *p = pool_get(b->dev->pkts, b->cache);

    if (!p) {
        STAT_INC(b->st, no_buffer);
        return NULL;
    }
    pkt_reset(p);
    return p;
}

void batch_put_buf(struct batch *b, struct pkt *p)
{
    pool_put(b->dev->pkts, b->cache, p);
}

struct pkt *batch_take_rx(struct batch *b, unsigned i)
{
    struct pkt *spare = batch_get_buf(b), *p = b->rx[i];

    if (!spare)
        return NULL;
    b->rx[i] = spare;
    return p;
}

int batch_init(struct batch *b, struct device *dev, unsigned cache, int queue, struct worker_stats *st)
{
    memset(b, 0, sizeof(*b));
    b->dev = dev;
    b->cache = cache;
    b->queue = queue;
    b->st = st;
    for (unsigned i = 0; queue >= 0 && i < DEVICE_BURST; i++)
        if (!(b->rx[i] = batch_get_buf(b))) {
            batch_release(b);
            return -ENOMEM;
        }
    return 0;
}

void batch_release(struct batch *b)
{
    batch_flush(b);
    for (unsigned i = 0; i < DEVICE_BURST; i++) {
        if (b->rx[i])
            batch_put_buf(b, b->rx[i]);
        b->rx[i] = NULL;
    }
    pool_cache_flush(b->dev->pkts, b->cache);
    pool_cache_flush(b->dev->jobs, b->cache);
    pool_cache_flush(b->dev->hs_msgs, b->cache);
}

/* The handshake thread's datagrams go to the workers through hs_out. */
static void flush_to_ring(struct batch *b)
{
    struct device *dev = b->dev;
    unsigned n = ring_mp_enqueue_burst(dev->hs_out, (void *const *)b->udp_tx, b->n_udp_tx);

    STAT_ADD(b->st, tx_failed, b->n_udp_tx - n);
    for (unsigned i = n; i < b->n_udp_tx; i++)
        batch_put_buf(b, b->udp_tx[i]);
    if (n)
        crypt_kick(dev, -1);
}

void batch_flush_udp(struct batch *b)
{
    struct device *dev = b->dev;
    unsigned done = 0;

    if (b->queue < 0) {
        flush_to_ring(b);
        b->n_udp_tx = 0;
        return;
    }
    while (done < b->n_udp_tx) {
        int n = dev->io->ops->udp_tx_burst(dev->io, (unsigned)b->queue, b->udp_tx + done,
                                           b->n_udp_tx - done);

        if (n <= 0) {
            STAT_ADD(b->st, tx_failed, b->n_udp_tx - done);
            break;
        }
        STAT_ADD(b->st, tx_datagrams, n);
        done += (unsigned)n;
    }
    pool_put_bulk(dev->pkts, b->cache, (void *const *)b->udp_tx, b->n_udp_tx);
    b->n_udp_tx = 0;
}

void batch_flush_tun(struct batch *b)
{
    struct device *dev = b->dev;
    unsigned done = 0;

    while (b->queue >= 0 && done < b->n_tun_tx) {
        int n = dev->io->ops->tun_tx_burst(dev->io, (unsigned)b->queue, b->tun_tx + done,
                                           b->n_tun_tx - done);

        if (n <= 0) {
            STAT_ADD(b->st, tx_failed, b->n_tun_tx - done);
            break;
        }
        STAT_ADD(b->st, tx_tun, n);
        done += (unsigned)n;
    }
    pool_put_bulk(dev->pkts, b->cache, (void *const *)b->tun_tx, b->n_tun_tx);
    b->n_tun_tx = 0;
}

void batch_flush(struct batch *b)
{
    batch_flush_tun(b);
    batch_flush_udp(b);
}

struct pkt *batch_udp_slot(struct batch *b)
{
    if (b->n_udp_tx == TX_SLOTS)
        batch_flush_udp(b);
    return batch_get_buf(b);
}

void batch_send_to_peer(struct batch *b, struct device_peer *p, struct pkt *out, size_t len)
{
    if (!p->tun->peer.endpoint.family) {
        STAT_INC(b->st, no_endpoint);
        batch_put_buf(b, out);
        return;
    }
    out->len = (uint32_t)len;
    out->remote = p->tun->peer.endpoint;
    out->local = p->src;
    out->local_ifindex = p->src_ifindex;
    b->udp_tx[b->n_udp_tx++] = out;
}

void batch_reply_to(struct batch *b, const struct pkt *in, struct pkt *out, size_t len)
{
    out->len = (uint32_t)len;
    out->remote = in->remote;
    out->local = in->local;
    out->local_ifindex = in->local_ifindex;
    b->udp_tx[b->n_udp_tx++] = out;
}

void batch_drain_peer(struct batch *b, struct device_peer *p)
{
    for (;;) {
        struct pkt *out = batch_udp_slot(b);
        struct wb_result r;

        if (!out)
            break;
        r = tunnel_drain(p->tun, out->data, pkt_room(out));
        if (r.op != WB_WRITE_TO_NETWORK) {
            batch_put_buf(b, out);
            break;
        }
        batch_send_to_peer(b, p, out, r.size);
    }
    /* Every path that touches a peer's timers ends here. */
    if (handshake_note_locked(b->dev, p, b->queue < 0))
        STAT_INC(b->st, hs_requests);
}

void batch_network_result(struct batch *b, struct device_peer *p, struct pkt *out, struct wb_result r)
{
    if (r.op == WB_WRITE_TO_NETWORK)
        batch_send_to_peer(b, p, out, r.size);
    else
        batch_put_buf(b, out);
    batch_drain_peer(b, p);
}

void batch_learn_source(struct device_peer *p, const struct pkt *in, uint64_t rx_before)
{
    if (p->tun->peer.rx_packets != rx_before) {
        p->src = in->local;
        p->src_ifindex = in->local_ifindex;
    }
}
