/* SPDX-License-Identifier: MIT */
/*
 * worker.h - the threads of the datapath and what they share:
 *
 *   data workers (worker.c): worker i owns I/O queue i (a TUN queue and a
 *     UDP socket set). It reads bursts, routes them, and under each peer's
 *     lock takes nonces and builds headers for a run of packets: a crypto
 *     job (crypt.c), appended to the peer's order queue and to the
 *     device's crypto ring. Any worker runs any job (batch AEAD, no lock);
 *     packets leave in per-peer order once their job and all before it
 *     are done (the Linux module's design, both directions).
 *   the handshake thread (handshake.c): handshake messages from every
 *     worker (a ring), X25519, cookie replies, the 100 ms timers; the
 *     datagrams it makes go to a ring that the workers send.
 *
 * The per-thread pieces: a batch (rx slots, output lists, the thread's
 * pool caches) and counters written only by their thread, summed on
 * demand (device_get_stats).
 */
#ifndef WB_DATAPATH_WORKER_H
#define WB_DATAPATH_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "crypto/aead.h"
#include "datapath/pkt.h"
#include "datapath/timer_wheel.h"

struct device;
struct device_peer;
struct noise_keypair;
struct wb_tunnel;

#define DEVICE_BURST 64
#define TX_SLOTS (4 * DEVICE_BURST)

/* Every counter of a datapath thread, by name: one list, so the struct,
 * the sum and the printing cannot drift apart. */
#define WORKER_STATS(X)                                                                   \
    X(rx_datagrams)        /* datagrams read from the UDP side */                          \
    X(tx_datagrams)        /* datagrams given to the UDP side */                           \
    X(rx_tun)              /* packets read from the TUN */                                 \
    X(tx_tun)              /* packets given to the TUN */                                  \
    X(no_route)            /* TUN packet with no allowed-IPs match */                      \
    X(no_endpoint)         /* peer has no endpoint yet */                                  \
    X(malformed)           /* bad datagram: type/length */                                 \
    X(unknown_index)                                                                       \
    X(unknown_peer)        /* initiation from a static key we don't know */                \
    X(bad_mac1)                                                                            \
    X(ratelimited)                                                                         \
    X(hq_full)             /* handshake ring full */                                       \
    X(source_not_allowed)  /* decrypted packet's source not in the peer's allowed IPs */    \
    X(tx_failed)           /* the backend refused or had no room */                        \
    X(cookies)             /* cookie replies sent */                                       \
    X(no_buffer)           /* packet pool or job pool empty: dropped */                    \
    X(dead_peer)           /* packets of a peer removed while in flight */                 \
    X(jobs)                /* crypto jobs this thread prepared */                          \
    X(job_packets)         /* packets in them (job_packets / jobs = batch size) */         \
    X(jobs_run)            /* jobs this thread ran the crypto of */                        \
    X(input_deferred)      /* loop turns that left input queued: crypto backlog */    \
    X(hs_requests)         /* peers handed to the handshake thread (initiation, timer) */ \
    X(timer_visits)        /* peers the handshake thread looked at (due, asked, swept) */

struct worker_stats {
#define WORKER_STAT_FIELD(name) uint64_t name;
    WORKER_STATS(WORKER_STAT_FIELD)
#undef WORKER_STAT_FIELD
};

/* Owner thread only: others read with relaxed atomic loads. */
#define STAT_ADD(st, name, n) __atomic_store_n(&(st)->name, (st)->name + (uint64_t)(n), __ATOMIC_RELAXED)
#define STAT_INC(st, name) STAT_ADD(st, name, 1)

/* What a thread of the datapath carries through its loop. */
struct batch {
    struct device *dev;
    unsigned cache;                /* its pool caches */
    int queue;                     /* its I/O queue; -1: the handshake thread (to hs_out) */
    struct worker_stats *st;
    struct pkt *rx[DEVICE_BURST];  /* receive slots, always full of buffers */
    struct device_peer *peer[DEVICE_BURST];
    uint8_t kind[DEVICE_BURST];
    struct pkt *udp_tx[TX_SLOTS];  /* slow-path output: handshakes, staged data, keepalives */
    unsigned n_udp_tx;
    struct pkt *tun_tx[TX_SLOTS];
    unsigned n_tun_tx;
};

struct worker {
    struct device *dev;
    unsigned id;                   /* = its I/O queue */
    int cpu;                       /* pinned to, or -1 */
    pthread_t thread;
    bool running;
    /* Peers whose done jobs this worker is to release (MPSC: any worker
     * that ran a job of which this one is the home). */
    struct ring *drains;
    struct worker_stats st;
    struct batch b;
} __attribute__((aligned(64)));

struct handshake_thread {
    pthread_t thread;
    bool running;
    pthread_mutex_t mtx;
    pthread_cond_t cond;
    bool kicked;                   /* under mtx */
    struct device_peer *dead;      /* under mtx: removed peers to take out of the wheel */
    uint64_t under_load_until;
    uint64_t next_tick;
    struct timer_wheel wheel;      /* peers with a timer armed, by earliest deadline */
    struct batch b;
};

/* batch.c - buffers and output lists of one thread (its own only). */
int batch_init(struct batch *b, struct device *dev, unsigned cache, int queue, struct worker_stats *st);
void batch_release(struct batch *b);
struct pkt *batch_get_buf(struct batch *b);
void batch_put_buf(struct batch *b, struct pkt *p);
/* Hand rx slot i's buffer on (returned), a fresh one in its place; NULL
 * (the slot keeps it) when the pool is dry. */
struct pkt *batch_take_rx(struct batch *b, unsigned i);
void batch_flush_udp(struct batch *b);
void batch_flush_tun(struct batch *b);
void batch_flush(struct batch *b);
/* A buffer for one more slow-path datagram (flushing first if full). */
struct pkt *batch_udp_slot(struct batch *b);
/* Queue out (len bytes) to p's endpoint from its sticky source, or to
 * where `in` came from. p->tun->lock held for the first. */
void batch_send_to_peer(struct batch *b, struct device_peer *p, struct pkt *out, size_t len);
void batch_reply_to(struct batch *b, const struct pkt *in, struct pkt *out, size_t len);
/* What the tunnel owes after a call (staged data, keepalive, initiation):
 * drained into the udp list. p->tun->lock held. */
void batch_drain_peer(struct batch *b, struct device_peer *p);
/* A tunnel result that goes to the network, then drain. Lock held. */
void batch_network_result(struct batch *b, struct device_peer *p, struct pkt *out,
                          struct wb_result r);
/* Note the local address an authenticated datagram reached us on. Lock held. */
void batch_learn_source(struct device_peer *p, const struct pkt *in, uint64_t rx_before);

/* crypt.c - parallel crypto with per-peer order. */
#define CRYPT_JOB_MAX DEVICE_BURST
enum crypt_dir { CRYPT_TX, CRYPT_RX };

struct crypt_job {
    struct crypt_job *next;        /* the peer's order queue (peer lock) */
    struct device_peer *peer;
    atomic_int done;               /* (A) set after the crypto; (A') read by the drainer */
    uint8_t dir;
    uint8_t home;                  /* the worker that prepared it, and releases it */
    uint8_t n_refs;
    uint16_t n;
    uint64_t now;                  /* when it was prepared */
    struct noise_keypair *refs[3]; /* the keypair references it holds */
    struct pkt *pkts[CRYPT_JOB_MAX];
    struct aead_op ops[CRYPT_JOB_MAX];
    struct noise_keypair *kps[CRYPT_JOB_MAX];   /* rx: each packet's keypair */
    uint32_t plain[CRYPT_JOB_MAX];             /* rx: plaintext lengths */
};

/* A new job for p in direction dir, or NULL (pool dry, counted). */
struct crypt_job *crypt_job_get(struct batch *b, struct device_peer *p, enum crypt_dir dir, uint64_t now);
/* Hold a reference to kp for the job's lifetime (once per keypair). */
void crypt_job_ref(struct crypt_job *j, struct noise_keypair *kp);
/* p->tun->lock held: append j to p's order queue and hand it to the
 * workers; an empty job is released instead. */
void crypt_job_submit(struct batch *b, struct crypt_job *j);
/* Run the crypto of up to max queued jobs, then release what is in
 * order (jobs of which w is the home) or hand the peer to its home.
 * Returns how many jobs ran. A data worker, online. */
unsigned crypt_run(struct worker *w, unsigned max);
/* Release what other workers finished of jobs w prepared. Returns how
 * many peers it looked at. The worker w, online. */
unsigned crypt_release_home(struct worker *w);
/* Control thread, every datapath thread stopped or gone: drop every job
 * still queued (of every peer / of one). */
void crypt_flush_stopped(struct device *dev);
void crypt_flush_drains(struct device *dev);
void crypt_drop_peer(struct device *dev, struct device_peer *p);
/* Any thread: wake an idle worker other than self (-1: any) for crypto. */
void crypt_kick(struct device *dev, int self);

/* handshake.c */
void *handshake_main(void *arg);
/* A response or cookie reply: to its peer's tunnel. Any datapath thread,
 * online. */
void handshake_consume_indexed(struct batch *b, struct pkt *in);
/* A worker after queueing handshake messages: wake the thread. */
void handshake_kick(struct device *dev);
/* After touching p (p->tun->lock held): if an initiation waits for the
 * handshake thread, or a timer is now armed earlier than the thread knows,
 * hand p to it (once; a full request ring makes it sweep every peer). On
 * the handshake thread itself (hs_thread) p is refiled at once. Returns
 * whether p was handed over. Any datapath or control thread, online. */
bool handshake_note_locked(struct device *dev, struct device_peer *p, bool hs_thread);
/* Control thread, p marked dead under p->tun->lock (held): have the
 * handshake thread drop it from its wheel (p->inflight counts until it
 * has). The thread is not woken: handshake_kick once after a batch. */
void handshake_forget(struct device *dev, struct device_peer *p);
/* Control thread, every datapath thread stopped or gone: drop every
 * request and wheel entry (and their inflight counts). */
void handshake_drop_all(struct device *dev);

#endif
