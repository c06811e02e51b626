/* SPDX-License-Identifier: MIT */
/*
 * device.c - the device's lifecycle and configuration (device.h): peers
 * created and removed, keys and sockets changed, the running configuration
 * read back. Control threads only; the datapath thread lives in worker.c.
 *
 * Control calls register the calling thread with RCU (QSBR) for their
 * duration: the hash tables need an online reader to add and delete, and
 * the thread goes offline around synchronize_rcu().
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/random.h"
#include "crypto/x25519.h"
#include "datapath/device_impl.h"

#define RATELIMITER_ENTRIES 8192

/* ----------------------------------------------------------- datapath pause */

/* Wake every datapath thread: the workers through their queues, the
 * handshake thread through its condition. */
static void wake_all(struct device *dev)
{
    dev->io->ops->wake(dev->io);
    pthread_mutex_lock(&dev->hs.mtx);
    dev->hs.kicked = true;
    pthread_cond_broadcast(&dev->hs.cond);
    pthread_mutex_unlock(&dev->hs.mtx);
}

static void pause_datapath(struct device *dev)
{
    if (!dev->started)
        return;
    pthread_mutex_lock(&dev->pause_mtx);
    atomic_store(&dev->pause_req, true);
    wake_all(dev);
    /* A thread that already left its loop (a fatal I/O error) reads
     * nothing any more: it counts as parked. */
    while (dev->n_paused + dev->n_exited < dev->n_threads)
        pthread_cond_wait(&dev->pause_cond, &dev->pause_mtx);
    pthread_mutex_unlock(&dev->pause_mtx);
}

/* Are all datapath threads gone (never started, stopped, or out after a
 * fatal error)? Then nobody drains the order queues but us. */
static bool datapath_gone(struct device *dev)
{
    bool gone;

    pthread_mutex_lock(&dev->pause_mtx);
    gone = !dev->started || dev->n_exited == dev->n_threads;
    pthread_mutex_unlock(&dev->pause_mtx);
    return gone;
}

static void resume_datapath(struct device *dev)
{
    if (!dev->started)
        return;
    pthread_mutex_lock(&dev->pause_mtx);
    atomic_store(&dev->pause_req, false);
    pthread_cond_broadcast(&dev->pause_cond);
    pthread_mutex_unlock(&dev->pause_mtx);
}

/* ------------------------------------------------------------ rcu helpers */

static void control_enter(struct device *dev)
{
    pthread_mutex_lock(&dev->control_lock);
    rcu_register_thread();
}

static void control_leave(struct device *dev)
{
    rcu_unregister_thread();
    pthread_mutex_unlock(&dev->control_lock);
}

/* Wait until no datapath thread can still hold what was unlinked. */
static void control_grace_period(void)
{
    rcu_thread_offline();
    synchronize_rcu();
    rcu_thread_online();
}

/* ----------------------------------------------------------------- peers */

uint32_t device_alloc_index(void *ctx, struct wb_tunnel *t)
{
    struct device *dev = ctx;

    return peer_table_alloc_index(&dev->peers, t->owner);
}

/* The peer with this key, through the RCU hash table (a list scan made
 * configuring N peers O(N^2)). Control thread, online. */
static struct device_peer *find_peer(struct device *dev, const uint8_t key[WB_KEY_LEN])
{
    return peer_table_lookup_key(&dev->peers, key);
}

static int add_peer(struct device *dev, const uint8_t key[WB_KEY_LEN], struct device_peer **out)
{
    struct device_peer *p;
    int ret;

    if (dev->n_list == dev->cap_list) {
        size_t cap = dev->cap_list ? 2 * dev->cap_list : 8;
        struct device_peer **l = realloc(dev->list, cap * sizeof(*l));

        if (!l)
            return -ENOMEM;
        dev->list = l;
        dev->cap_list = cap;
    }
    p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    memcpy(p->public_key, key, WB_KEY_LEN);
    p->dev = dev;
    ret = tunnel_create_on(&dev->shared, key, NULL, 0, dev->opt.mtu, &p->tun);
    if (ret < 0) {
        free(p);
        return ret;
    }
    p->tun->owner = p;
    p->tun->defer_initiations = true;      /* the handshake thread makes them */
    wheel_entry_init(&p->wheel);
    ret = peer_table_add(&dev->peers, p);
    if (ret < 0) {
        wb_tunnel_destroy(p->tun);
        free(p);
        return ret;
    }
    p->list_pos = dev->n_list;
    dev->list[dev->n_list++] = p;
    *out = p;
    return 0;
}

/* Wait until no job of p's is in flight: the workers drain (and drop)
 * what a dead peer still has queued; with no worker left, we do. */
static void wait_jobs_gone(struct device *dev, struct device_peer *p)
{
    const struct timespec ms = { 0, 1000000 };

    /* (D') acquire: pairs with the release of the last job's put. */
    while (atomic_load_explicit(&p->inflight, memory_order_acquire)) {
        if (datapath_gone(dev)) {
            crypt_flush_drains(dev);
            crypt_drop_peer(dev, p);
            handshake_drop_all(dev);
            continue;
        }
        rcu_thread_offline();
        nanosleep(&ms, NULL);
        rcu_thread_online();
    }
}

static void free_peer(struct device *dev, struct device_peer *p)
{
    wait_jobs_gone(dev, p);
    peer_table_free_indices(p);
    wb_tunnel_destroy(p->tun);
    wb_memzero(p, sizeof(*p));
    free(p);
}

/* Free what the removals of this change unlinked: one grace period for
 * all of them, then each once no job of its is in flight. Control
 * thread, online. */
static void reap_doomed(struct device *dev)
{
    if (!dev->n_doomed)
        return;
    handshake_kick(dev);           /* the peers handshake_forget listed */
    control_grace_period();
    for (size_t i = 0; i < dev->n_doomed; i++)
        free_peer(dev, dev->doomed[i]);
    dev->n_doomed = 0;
}

/* Drop the holes a dump left, once no dump is in progress. */
static void compact_list(struct device *dev)
{
    size_t n = 0;

    if (dev->dumps || !dev->n_holes)
        return;
    for (size_t i = 0; i < dev->n_list; i++) {
        if (!dev->list[i])
            continue;
        dev->list[i]->list_pos = n;
        dev->list[n++] = dev->list[i];
    }
    dev->n_list = n;
    dev->n_holes = 0;
}

/* Take p out of the list: its slot is refilled from the end, or left a
 * hole while a dump holds positions. */
static void list_del(struct device *dev, struct device_peer *p)
{
    size_t pos = p->list_pos;

    if (dev->dumps) {
        dev->list[pos] = NULL;
        dev->n_holes++;
        return;
    }
    dev->list[pos] = dev->list[--dev->n_list];
    dev->list[pos]->list_pos = pos;
}

/* Unlink now; free after a grace period (reap_doomed, at the end of the
 * change) and once no job of its is in flight. The dead flag (under the
 * tunnel lock) stops a datapath thread that found the peer just before
 * the unlink from registering new indices or queueing new jobs for it. */
static void remove_peer(struct device *dev, struct device_peer *p)
{
    bool doom = true;

    if (dev->n_doomed == dev->cap_doomed) {
        size_t cap = dev->cap_doomed ? 2 * dev->cap_doomed : 64;
        struct device_peer **d = realloc(dev->doomed, cap * sizeof(*d));

        if (d) {
            dev->doomed = d;
            dev->cap_doomed = cap;
        } else {
            doom = false;      /* no room to defer: pay this one's grace period now */
        }
    }
    wb_mutex_lock(&p->tun->lock);
    p->dead = true;
    allowedips_remove_by_peer(&dev->aips, p);
    peer_table_del(&dev->peers, p);
    handshake_forget(dev, p);
    wb_mutex_unlock(&p->tun->lock);
    list_del(dev, p);
    if (doom) {
        dev->doomed[dev->n_doomed++] = p;
    } else {
        handshake_kick(dev);
        control_grace_period();
        free_peer(dev, p);
    }
}

static void remove_all_peers(struct device *dev)
{
    for (size_t i = dev->n_list; i-- > 0;)
        if (dev->list[i])
            remove_peer(dev, dev->list[i]);
}

/* ----------------------------------------------------------------- config */

static bool all_zero(const uint8_t *k, size_t n)
{
    uint8_t acc = 0;

    for (size_t i = 0; i < n; i++)
        acc |= k[i];
    return acc == 0;
}

/* The parsers (config_endpoint_parse, the UAPI codec) fill cp->endpoint for
 * IP literals and `wirebolt up` resolves names into it: the device only
 * takes a resolved endpoint. */
static int endpoint_from_config(const struct config_peer *cp, struct wb_endpoint *ep)
{
    if (cp->endpoint.family != 4 && cp->endpoint.family != 6)
        return -EINVAL;
    *ep = cp->endpoint;
    return 0;
}

/* Is k (NULL: none) the key the device already has? Compared clamped, as
 * stored, and in constant time. */
static bool same_private_key(const struct device *dev, const uint8_t *k)
{
    uint8_t clamped[WB_KEY_LEN];
    bool same;

    if (!k || !dev->shared.local.has_identity)
        return !k && !dev->shared.local.has_identity;
    memcpy(clamped, k, WB_KEY_LEN);
    x25519_clamp(clamped);
    same = wb_memcmp_ct(clamped, dev->shared.local.private_key, WB_KEY_LEN) == 0;
    wb_memzero(clamped, sizeof(clamped));
    return same;
}

static int set_private_key(struct device *dev, const uint8_t key[WB_KEY_LEN])
{
    const uint8_t *k = all_zero(key, WB_KEY_LEN) ? NULL : key;
    struct device_peer *self;
    uint8_t pub[WB_KEY_LEN];
    int ret;

    /* Unchanged: keep every session, as wireguard-go and Linux do (wg
     * syncconf and setconf resend the key and must not disrupt traffic). */
    if (same_private_key(dev, k))
        return 0;

    /* A peer with our own public key would talk to itself: drop it, as
     * wireguard-go does. */
    if (k && wb_key_public(pub, k) == 0 && (self = find_peer(dev, pub)))
        remove_peer(dev, self);
    pause_datapath(dev);
    ret = tunnel_shared_set_private_key(&dev->shared, k);
    if (ret == 0) {
        for (size_t i = 0; i < dev->n_list; i++) {
            struct device_peer *p = dev->list[i];

            if (!p)
                continue;
            wb_mutex_lock(&p->tun->lock);
            tunnel_identity_changed_locked(p->tun);
            wb_mutex_unlock(&p->tun->lock);
        }
    }
    resume_datapath(dev);
    return ret;
}

static int set_listen(struct device *dev, const struct config *c)
{
    uint16_t port = c->has_listen_port ? c->listen_port : dev->listen_port;
    uint32_t mark = c->has_fwmark ? c->fwmark : dev->fwmark;
    int ret = 0;

    if (port == dev->listen_port && mark == dev->fwmark && c->has_listen_port)
        return 0;
    pause_datapath(dev);
    if (dev->io->ops->set_listen)
        ret = dev->io->ops->set_listen(dev->io, port, mark);
    if (ret == 0) {
        dev->listen_port = dev->io->ops->listen_port ? dev->io->ops->listen_port(dev->io) : port;
        dev->fwmark = mark;
    }
    resume_datapath(dev);
    return ret;
}

static int apply_allowed_ips(struct device *dev, struct device_peer *p, const struct config_peer *cp)
{
    int ret;

    if (cp->replace_allowed_ips)
        allowedips_remove_by_peer(&dev->aips, p);
    for (size_t i = 0; i < cp->n_removed_allowed_ips; i++) {
        const struct config_prefix *pr = &cp->removed_allowed_ips[i];
        allowedips_remove(&dev->aips, pr->family, pr->addr, pr->cidr, p);   /* absent is fine */
    }
    for (size_t i = 0; i < cp->n_allowed_ips; i++) {
        const struct config_prefix *pr = &cp->allowed_ips[i];

        ret = allowedips_insert(&dev->aips, pr->family, pr->addr, pr->cidr, p);
        if (ret < 0)
            return ret;
    }
    return 0;
}

static int apply_peer(struct device *dev, const struct config_peer *cp)
{
    struct device_peer *p;
    struct wb_endpoint ep;
    int ret;

    p = find_peer(dev, cp->public_key);
    if (cp->remove) {
        if (p)
            remove_peer(dev, p);
        return 0;
    }
    if (!p) {
        if (cp->update_only)
            return 0;
        if (dev->shared.local.has_identity &&
            memcmp(cp->public_key, dev->shared.local.public_key, WB_KEY_LEN) == 0)
            return 0;     /* our own key: ignored, as wireguard-go does */
        ret = add_peer(dev, cp->public_key, &p);
        if (ret < 0)
            return ret;
    }
    if (cp->has_endpoint && (ret = endpoint_from_config(cp, &ep)) < 0)
        return ret;
    wb_mutex_lock(&p->tun->lock);
    if (cp->has_preshared_key)
        tunnel_set_preshared_key_locked(p->tun, all_zero(cp->preshared_key, WB_KEY_LEN)
                                                    ? NULL : cp->preshared_key);
    if (cp->has_endpoint) {
        p->tun->peer.endpoint = ep;
        memset(&p->src, 0, sizeof(p->src));
    }
    if (cp->has_persistent_keepalive)
        tunnel_set_persistent_keepalive_locked(p->tun, cp->persistent_keepalive);
    /* A first keepalive goes now, through the handshake thread. */
    if (dev->started)
        handshake_note_locked(dev, p, false);
    wb_mutex_unlock(&p->tun->lock);
    return apply_allowed_ips(dev, p, cp);
}

int device_set_config(struct device *dev, const struct config *c)
{
    int ret = 0;

    control_enter(dev);
    if (c->has_private_key)
        ret = set_private_key(dev, c->private_key);
    if (ret == 0 && (c->has_listen_port || c->has_fwmark))
        ret = set_listen(dev, c);
    if (ret == 0 && c->replace_peers)
        remove_all_peers(dev);
    if (c->n_peers > 256)
        peer_table_reserve(&dev->peers, dev->n_list - dev->n_holes, c->n_peers);
    for (size_t i = 0; ret == 0 && i < c->n_peers; i++)
        ret = apply_peer(dev, &c->peers[i]);
    reap_doomed(dev);
    control_leave(dev);
    return ret;
}

/* ----------------------------------------------------------------- get */

static int add_allowed_ip(void *ctx, int family, const uint8_t *addr, uint8_t cidr)
{
    struct config_peer *cp = ctx;
    struct config_prefix pr = { .family = (uint8_t)family, .cidr = cidr };

    memcpy(pr.addr, addr, family == 4 ? 4 : 16);
    return config_prefixes_add(&cp->allowed_ips, &cp->n_allowed_ips, &pr);
}

static int endpoint_to_config(struct config_peer *cp, const struct wb_endpoint *ep)
{
    char host[INET6_ADDRSTRLEN];

    if (!inet_ntop(ep->family == 4 ? AF_INET : AF_INET6, ep->addr, host, sizeof(host)))
        return -EINVAL;
    cp->endpoint_host = strdup(host);
    if (!cp->endpoint_host)
        return -ENOMEM;
    cp->endpoint_port = ep->port;
    cp->endpoint = *ep;
    cp->has_endpoint = true;
    return 0;
}

static int get_peer(struct device *dev, struct device_peer *p, struct config_peer *cp)
{
    struct wb_tunnel *t = p->tun;
    int ret = 0;

    memcpy(cp->public_key, p->public_key, WB_KEY_LEN);
    wb_mutex_lock(&t->lock);
    memcpy(cp->preshared_key, t->peer.handshake.preshared_key, WB_KEY_LEN);
    cp->has_preshared_key = !all_zero(cp->preshared_key, WB_KEY_LEN);
    if (t->peer.endpoint.family)
        ret = endpoint_to_config(cp, &t->peer.endpoint);
    cp->has_stats = true;
    cp->last_handshake_time_sec = t->peer.last_handshake_realtime_ns / NSEC_PER_SEC;
    cp->last_handshake_time_nsec = t->peer.last_handshake_realtime_ns % NSEC_PER_SEC;
    cp->tx_bytes = t->peer.tx_bytes;
    cp->rx_bytes = t->peer.rx_bytes;
    cp->has_persistent_keepalive = true;
    cp->persistent_keepalive = t->peer.timers.persistent_keepalive_interval;
    wb_mutex_unlock(&t->lock);
    if (ret == 0)
        ret = allowedips_walk_by_peer(&dev->aips, p, add_allowed_ip, cp);
    return ret;
}

void device_dump_begin(struct device *dev, struct device_dump *d)
{
    pthread_mutex_lock(&dev->control_lock);
    dev->dumps++;
    pthread_mutex_unlock(&dev->control_lock);
    d->pos = 0;
    d->started = false;
}

int device_dump_next(struct device *dev, struct device_dump *d, struct config *out, size_t max_peers)
{
    size_t n = 0;
    int ret = 0;

    control_enter(dev);
    if (!d->started) {
        d->started = true;
        if (dev->shared.local.has_identity) {
            out->has_private_key = true;
            memcpy(out->private_key, dev->shared.local.private_key, WB_KEY_LEN);
        }
        out->has_listen_port = true;
        out->listen_port = dev->listen_port;
        out->has_fwmark = dev->fwmark != 0;
        out->fwmark = dev->fwmark;
    }
    for (; ret == 0 && n < max_peers && d->pos < dev->n_list; d->pos++) {
        struct device_peer *p = dev->list[d->pos];
        struct config_peer *cp;

        if (!p)
            continue;
        cp = config_add_peer(out);
        ret = cp ? get_peer(dev, p, cp) : -ENOMEM;
        n++;
    }
    if (ret == 0)
        ret = d->pos < dev->n_list;
    control_leave(dev);
    return ret;
}

void device_dump_end(struct device *dev, struct device_dump *d)
{
    (void)d;
    pthread_mutex_lock(&dev->control_lock);
    dev->dumps--;
    compact_list(dev);
    pthread_mutex_unlock(&dev->control_lock);
}

int device_get_config(struct device *dev, struct config *out)
{
    struct device_dump d;
    int ret;

    device_dump_begin(dev, &d);
    ret = device_dump_next(dev, &d, out, SIZE_MAX);
    device_dump_end(dev, &d);
    return ret < 0 ? ret : 0;
}

static void add_stats(struct worker_stats *sum, const struct worker_stats *st)
{
#define WORKER_STAT_SUM(name) sum->name += __atomic_load_n(&st->name, __ATOMIC_RELAXED);
    WORKER_STATS(WORKER_STAT_SUM)
#undef WORKER_STAT_SUM
}

void device_get_worker_stats(struct device *dev, unsigned worker, struct worker_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (worker < dev->n_workers)
        add_stats(out, &dev->workers[worker].st);
    else
        add_stats(out, &dev->hs_stats);
}

void device_get_stats(struct device *dev, struct device_stats *s)
{
    struct worker_stats sum;

    memset(s, 0, sizeof(*s));
    memset(&sum, 0, sizeof(sum));
    for (unsigned i = 0; i < dev->n_workers; i++)
        add_stats(&sum, &dev->workers[i].st);
    add_stats(&sum, &dev->hs_stats);
    s->workers = dev->n_workers;
    s->rx_datagrams = sum.rx_datagrams;
    s->tx_datagrams = sum.tx_datagrams;
    s->rx_tun_packets = sum.rx_tun;
    s->tx_tun_packets = sum.tx_tun;
    s->drop_no_route = sum.no_route;
    s->drop_no_endpoint = sum.no_endpoint;
    s->drop_malformed = sum.malformed;
    s->drop_unknown_index = sum.unknown_index;
    s->drop_unknown_peer = sum.unknown_peer;
    s->drop_bad_mac1 = sum.bad_mac1;
    s->drop_ratelimited = sum.ratelimited;
    s->drop_handshake_queue_full = sum.hq_full;
    s->drop_source_not_allowed = sum.source_not_allowed;
    s->drop_tx_failed = sum.tx_failed;
    s->cookies_sent = sum.cookies;
    s->jobs = sum.jobs;
    s->job_packets = sum.job_packets;
    s->drop_no_buffer = sum.no_buffer;
    s->drop_dead_peer = sum.dead_peer;
    s->input_deferred = sum.input_deferred;
    s->pool_bytes = pool_bytes(dev->pkts) + pool_bytes(dev->jobs) + pool_bytes(dev->hs_msgs);
    s->pkt_room = dev->pkt_room;
    s->under_load = __atomic_load_n(&dev->shared.under_load, __ATOMIC_RELAXED);
    pthread_mutex_lock(&dev->control_lock);
    for (size_t i = 0; i < dev->n_list; i++) {
        struct device_peer *p = dev->list[i];

        if (!p)
            continue;
        wb_mutex_lock(&p->tun->lock);
        for (unsigned r = 0; r < WB_DROP_REASON_COUNT; r++)
            s->tunnel_drops[r] += p->tun->drops[r];
        wb_mutex_unlock(&p->tun->lock);
    }
    pthread_mutex_unlock(&dev->control_lock);
}

struct io_backend *device_io(struct device *dev)
{
    return dev->io;
}

int device_fatal_error(struct device *dev)
{
    return atomic_load(&dev->fatal_error);
}

/* -------------------------------------------------------------- lifecycle */

/* Buffers large enough for the MTU plus the WireGuard overhead, and for
 * a peer whose MTU is a little above ours. */
static size_t pkt_room_for(uint16_t mtu)
{
    size_t room = (size_t)(mtu ? mtu : 1420) + 64;

    return room > 1792 ? (room + 63) & ~(size_t)63 : 1792;
}

static uint32_t pow2_at_least(uint32_t n)
{
    uint32_t p = 1;

    while (p < n)
        p <<= 1;
    return p;
}

/* Lay a buffer of the fresh pool out as a pkt of pkt_room. */
static void init_pkt(void *obj, void *ctx)
{
    pkt_init(obj, ((struct device *)ctx)->pkt_room);
}

static void init_hs_slot(void *obj, void *ctx)
{
    (void)ctx;
    pkt_init(obj, HS_SLOT_ROOM);
}

/* Pools and rings, sized for n workers. */
static int alloc_datapath(struct device *dev)
{
    unsigned n = dev->n_workers, caches = n + 1;
    unsigned jobs = DEVICE_JOBS_PER_WORKER * n + 8;
    int ret;

    /* Buffers in flight, and every thread's receive slots and cache. */
    unsigned pkts = DEVICE_PKTS_PER_WORKER * n + caches * (DEVICE_BURST + DEVICE_PKT_CACHE);

    dev->pkt_room = pkt_room_for(dev->opt.mtu);
    ret = pool_create(pkt_size(dev->pkt_room), 64, pkts, caches, DEVICE_PKT_CACHE, &dev->pkts);
    if (!ret)
        ret = pool_create(sizeof(struct crypt_job), 64, jobs, caches, 4, &dev->jobs);
    if (!ret)
        ret = ring_create(pow2_at_least(jobs), &dev->crypt);
    if (!ret)
        ret = pool_create(pkt_size(HS_SLOT_ROOM), 64, DEVICE_HANDSHAKE_RING + caches * 16, caches,
                          8, &dev->hs_msgs);
    if (!ret)
        ret = ring_create(DEVICE_HANDSHAKE_RING, &dev->hs_in);
    if (!ret)
        ret = ring_create(DEVICE_HANDSHAKE_OUT_RING, &dev->hs_out);
    if (!ret)
        ret = ring_create(DEVICE_HS_REQUEST_RING, &dev->hs_req);
    if (!ret)
        ret = timer_wheel_init(&dev->hs.wheel, DEVICE_WHEEL_SLOTS, DEVICE_TICK_NS,
                               clock_monotonic_ns(dev->opt.clock));
    if (ret)
        return ret;
    pool_init_objects(dev->pkts, init_pkt, dev);
    pool_init_objects(dev->hs_msgs, init_hs_slot, NULL);
    dev->workers = aligned_alloc(_Alignof(struct worker), sizeof(struct worker) * n);
    if (!dev->workers)
        return -ENOMEM;
    memset(dev->workers, 0, sizeof(struct worker) * n);
    for (unsigned i = 0; i < n; i++) {
        if ((ret = ring_create(pow2_at_least(jobs), &dev->workers[i].drains)) < 0)
            return ret;
        dev->workers[i].dev = dev;
        dev->workers[i].id = i;
        dev->workers[i].cpu = dev->opt.cpus && i < dev->opt.n_cpus ? dev->opt.cpus[i] : -1;
    }
    pthread_mutex_init(&dev->hs.mtx, NULL);
    pthread_cond_init(&dev->hs.cond, NULL);
    return 0;
}

static void free_datapath(struct device *dev)
{
    for (unsigned i = 0; dev->workers && i < dev->n_workers; i++)
        ring_destroy(dev->workers[i].drains);
    free(dev->workers);
    timer_wheel_free(&dev->hs.wheel);
    ring_destroy(dev->hs_req);
    ring_destroy(dev->hs_out);
    ring_destroy(dev->hs_in);
    ring_destroy(dev->crypt);
    pool_destroy(dev->jobs);
    pool_destroy(dev->hs_msgs);
    pool_destroy(dev->pkts);
}

int device_create(struct io_backend *io, const struct device_options *opt, struct device **out)
{
    struct device *dev;
    int ret;

    *out = NULL;
    ret = wb_init();
    if (ret < 0 && ret != -ENOENT && ret != -ENOTSUP)
        goto err_io;
    ret = -ENOMEM;
    dev = calloc(1, sizeof(*dev));
    if (!dev)
        goto err_io;
    dev->io = io;
    if (opt)
        dev->opt = *opt;
    dev->opt.cpus = NULL;          /* copied into the workers below */
    dev->n_workers = io->n_queues;
    if (dev->n_workers < 1 || dev->n_workers > DEVICE_MAX_WORKERS) {
        ret = -EINVAL;
        goto err_dev;
    }
    if (opt)
        dev->opt.cpus = opt->cpus;
    if ((ret = alloc_datapath(dev)) < 0)
        goto err_datapath;
    dev->opt.cpus = NULL;
    ret = tunnel_shared_init(&dev->shared, NULL, dev->opt.clock);
    if (ret < 0)
        goto err_shared;
    dev->shared.log = dev->opt.log;
    dev->shared.log_ctx = dev->opt.log_ctx;
    dev->shared.log_level = dev->opt.log_level;
    dev->shared.index_alloc = device_alloc_index;
    dev->shared.index_ctx = dev;
    if ((ret = peer_table_init(&dev->peers)) < 0)
        goto err_shared;
    if ((ret = allowedips_init(&dev->aips)) < 0)
        goto err_peers;
    if ((ret = ratelimiter_init(&dev->ratelimiter, RATELIMITER_ENTRIES)) < 0)
        goto err_aips;
    pthread_mutex_init(&dev->control_lock, NULL);
    pthread_mutex_init(&dev->pause_mtx, NULL);
    pthread_cond_init(&dev->pause_cond, NULL);
    dev->listen_port = io->ops->listen_port ? io->ops->listen_port(io) : 0;
    *out = dev;
    return 0;

err_aips:
    allowedips_free(&dev->aips);
err_peers:
    peer_table_destroy(&dev->peers);
err_shared:
    tunnel_shared_wipe(&dev->shared);
err_datapath:
    free_datapath(dev);
err_dev:
    free(dev);
err_io:
    io->ops->destroy(io);
    return ret;
}

static void stop_threads(struct device *dev)
{
    atomic_store(&dev->stop, true);
    wake_all(dev);
    for (unsigned i = 0; i < dev->n_workers; i++) {
        struct worker *w = &dev->workers[i];

        if (w->running)
            pthread_join(w->thread, NULL);
        w->running = false;
    }
    if (dev->hs.running)
        pthread_join(dev->hs.thread, NULL);
    dev->hs.running = false;
}

/* Everything the threads left: their buffers, queued jobs, the rings. */
static void release_datapath(struct device *dev)
{
    struct pkt *p;

    crypt_flush_stopped(dev);
    handshake_drop_all(dev);
    while (ring_sc_dequeue_bulk(dev->hs_in, (void **)&p, 1))
        pool_put(dev->hs_msgs, POOL_NO_CACHE, p);
    while (ring_sc_dequeue_bulk(dev->hs_out, (void **)&p, 1))
        pool_put(dev->pkts, POOL_NO_CACHE, p);
    for (unsigned i = 0; i < dev->n_workers; i++)
        batch_release(&dev->workers[i].b);
    batch_release(&dev->hs.b);
}

int device_start(struct device *dev)
{
    int ret = 0;

    if (dev->started)
        return -EALREADY;
    atomic_store(&dev->stop, false);
    atomic_store(&dev->hs_sweep, true);    /* timers of peers configured before */
    dev->n_exited = dev->n_paused = 0;
    dev->n_threads = dev->n_workers + 1;
    for (unsigned i = 0; !ret && i < dev->n_workers; i++)
        ret = batch_init(&dev->workers[i].b, dev, i, (int)i, &dev->workers[i].st);
    if (!ret)
        ret = batch_init(&dev->hs.b, dev, dev->n_workers, -1, &dev->hs_stats);
    if (ret)
        goto err;
    dev->started = true;
    ret = -pthread_create(&dev->hs.thread, NULL, handshake_main, dev);
    dev->hs.running = ret == 0;
    if (ret == 0)
        pthread_setname_np(dev->hs.thread, "wb-handshake");
    for (unsigned i = 0; !ret && i < dev->n_workers; i++) {
        char name[16];

        ret = -pthread_create(&dev->workers[i].thread, NULL, worker_main, &dev->workers[i]);
        dev->workers[i].running = ret == 0;
        /* top -H, perf --sort comm: which thread is which. */
        snprintf(name, sizeof(name), "wb-worker%u", (unsigned)(uint8_t)i);   /* i < 64 */
        if (ret == 0)
            pthread_setname_np(dev->workers[i].thread, name);
    }
    if (ret == 0)
        return 0;
    /* Threads that never started never count themselves out. */
    pthread_mutex_lock(&dev->pause_mtx);
    dev->n_threads = dev->hs.running;
    for (unsigned i = 0; i < dev->n_workers; i++)
        dev->n_threads += dev->workers[i].running;
    pthread_mutex_unlock(&dev->pause_mtx);
    stop_threads(dev);
    dev->started = false;
err:
    release_datapath(dev);
    return ret;
}

void device_stop(struct device *dev)
{
    if (!dev->started)
        return;
    stop_threads(dev);
    control_enter(dev);
    release_datapath(dev);
    dev->started = false;
    control_leave(dev);
}

void device_destroy(struct device *dev)
{
    if (!dev)
        return;
    device_stop(dev);
    control_enter(dev);
    remove_all_peers(dev);
    reap_doomed(dev);
    control_leave(dev);
    rcu_barrier();               /* index entries queued with call_rcu */
    ratelimiter_free(&dev->ratelimiter);
    allowedips_free(&dev->aips);
    peer_table_destroy(&dev->peers);
    tunnel_shared_wipe(&dev->shared);
    dev->io->ops->destroy(dev->io);
    free_datapath(dev);
    pthread_mutex_destroy(&dev->hs.mtx);
    pthread_cond_destroy(&dev->hs.cond);
    pthread_mutex_destroy(&dev->control_lock);
    pthread_mutex_destroy(&dev->pause_mtx);
    pthread_cond_destroy(&dev->pause_cond);
    free(dev->list);
    free(dev->doomed);
    wb_memzero(dev, sizeof(*dev));
    free(dev);
}
