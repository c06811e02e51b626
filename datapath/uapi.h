/* SPDX-License-Identifier: MIT */
/*
 * uapi.h - the cross-platform WireGuard configuration protocol (UAPI), as
 * wireguard-go speaks it, so that an unmodified `wg` drives our daemon
 * through /var/run/wireguard/<ifname>.sock.
 *
 * The protocol, one request after another on a unix stream socket:
 *   "get=1\n\n"                    -> get body + "errno=0\n\n"
 *   "set=1\n" key=value lines "\n" -> "errno=N\n\n" (0 or a negative errno)
 *
 * The codec (uapi.c: the incremental set parser and uapi_parse_set over
 * it, uapi_format_get; uapi_stats.c: our stats operation) is plain text <->
 * struct config (proto/config.h); the server (uapi_server.c) owns the
 * socket, its accept thread and one thread per connection, and calls the
 * device through struct uapi_ops.
 *
 * Differences from wireguard-go, on purpose:
 *   - a set is parsed whole before anything is applied, so a bad line
 *     changes nothing (wireguard-go applies the lines before it); the rest
 *     of the request, up to its blank line, is read and dropped, the
 *     errno is sent and the connection stays usable;
 *   - a set has no size limit as a whole (it streams through the parser;
 *     memory is the parsed change, ~N struct config_peer), but one line
 *     is at most UAPI_MAX_LINE bytes (a longer one is refused like a bad
 *     line);
 *   - endpoints with an IPv6 zone ("[fe80::1%eth0]:51820") are refused
 *     (struct wb_endpoint has no scope id);
 *   - an unknown operation gets "errno=-22\n\n" and the connection is
 *     closed;
 *   - bounds (struct uapi_server_options overrides each):
 *       UAPI_IO_TIMEOUT_MS: a client that stops in the middle of a
 *         request, or does not read its reply, for this long is closed;
 *       UAPI_IDLE_TIMEOUT_MS: a connection idle between requests for this
 *         long is closed (wg makes one request per connection);
 *       UAPI_MAX_CONNECTIONS: connections served at once. One more evicts
 *         the connection idle (between requests) the longest; when every
 *         connection is inside a request, the new one is closed at
 *         accept.
 * Peers in a get reply come in the order the device gives them; a device
 * that dumps in parts (uapi_ops.get_begin) is read UAPI_GET_PART_PEERS
 * peers at a time and each part is written as it is formatted.
 * Every refused request, eviction and timeout is logged (uapi_ops.log).
 *
 * One operation of our own, which wg(8) never sends:
 *   "wirebolt-stats=1\n\n"       -> stats body + "errno=0\n\n"
 * the datapath's counters (uapi_format_stats below). A server whose
 * uapi_ops has no stats callback treats it as an unknown operation
 * (errno=-22, closed); wireguard-go closes the connection without a
 * reply; clients take either as "not supported".
 */
#ifndef WB_DATAPATH_UAPI_H
#define WB_DATAPATH_UAPI_H

#include <stddef.h>

#include <stdbool.h>
#include <stdint.h>

#include "datapath/device.h"
#include "datapath/io_linux.h"
#include "datapath/worker.h"
#include "include/wirebolt.h"
#include "proto/config.h"

/* Where wg(8) looks for userspace interfaces. */
#define UAPI_RUN_DIR "/var/run/wireguard"
/* Longest line of a set request, '\n' not counted (the longest
 * legitimate one, an IPv6 endpoint or allowed_ip, is under 80 bytes). A
 * request as a whole has no limit. */
#define UAPI_MAX_LINE 4096
/* A connection that makes no progress within a request (reading it or
 * writing its reply) for this long is closed. */
#define UAPI_IO_TIMEOUT_MS 5000
/* A connection idle between requests for this long is closed. */
#define UAPI_IDLE_TIMEOUT_MS 10000
/* Connections served at once (a thread each); one more evicts the one
 * idle longest, or is closed at accept when none is idle. */
#define UAPI_MAX_CONNECTIONS 32
/* Peers asked of the device per part of a get (uapi_ops.get_next): the
 * device's control lock is held for one part at a time. */
#define UAPI_GET_PART_PEERS 256

/* ----------------------------------------------------------------- codec */

/* The incremental set parser: the lines of a set request (everything
 * after "set=1\n") in pieces of any size, up to the terminating blank
 * line. Nothing is applied by the parser; _finish hands over the change.
 * Memory: the change being built and one line (UAPI_MAX_LINE); nothing
 * else grows with the request. Secrets read are wiped from every
 * temporary. One parser per request, one thread at a time; no shared
 * state. */
struct uapi_set_parser;

/* A new parser, or NULL on ENOMEM. */
struct uapi_set_parser *uapi_set_parser_create(void);
/* Take bytes of the request. *used is set to the bytes taken: all of
 * them, or up to and including the blank line that ends the request.
 * Returns 1 when that blank line was seen (feed no more; call _finish),
 * else 0. A bad line (or one over UAPI_MAX_LINE bytes) does not stop the
 * feeding: the parser records the first error, drops the change made so
 * far, and reads on, without parsing, to the blank line. */
int uapi_set_parser_feed(struct uapi_set_parser *p, const char *data, size_t len, size_t *used);
/* End of the request (its blank line, or the end of input: a last line
 * without '\n' counts). Returns 0 with *change (overwritten) the parsed
 * change, to be config_free'd by the caller, or the first error (-EINVAL
 * for a bad key or value or a line too long, -EPROTO for a line without
 * '=', as wireguard-go, -ENOMEM) with *change config_init'ed. Call once. */
int uapi_set_parser_finish(struct uapi_set_parser *p, struct config *change);
/* The first error as one line, "line N: why" (N counts the lines after
 * "set=1"), or "" when there is none. Never holds a secret. Valid until
 * _destroy. */
const char *uapi_set_parser_error(const struct uapi_set_parser *p);
/* Wipe and free (NULL is fine); a change not handed over is freed. */
void uapi_set_parser_destroy(struct uapi_set_parser *p);

/* Parse the lines of a set request in one piece: everything after
 * "set=1\n", up to and optionally including the terminating blank line
 * (parsing stops at the first blank line; a last line without '\n'
 * counts). *change is overwritten (config_init) and describes the change,
 * in the order given:
 *   - device: has_private_key (all zeros = remove the key), has_listen_port,
 *     has_fwmark (0 = off), replace_peers;
 *   - one config_peer per public_key= line (the same key may come twice and
 *     is then applied twice, in order), with remove, update_only,
 *     has_preshared_key (all zeros = remove), has_endpoint (endpoint_host as
 *     an IP literal, endpoint resolved), has_persistent_keepalive,
 *     replace_allowed_ips, allowed_ips and removed_allowed_ips (normalized;
 *     an add cancels an earlier removal of the same prefix and vice versa;
 *     replace_allowed_ips drops what came before it in that section, as the
 *     sequential wireguard-go does). After remove=true the section's other
 *     lines are checked but not stored.
 * Returns 0, or an error as uapi_set_parser_finish, with one line "line N:
 * why" in err (may be NULL); on error *change is freed again. The same
 * parser as above (create, feed, finish). Any thread; no shared state. */
int uapi_parse_set(const char *body, size_t len, struct config *change, char *err, size_t errlen);

/* Format a get reply body (without the final "errno=0\n\n"), or one part
 * of it: the parts of a dump (device_dump_next) formatted one by one and
 * concatenated are the body, as the device part is set in the first only:
 * private_key (if has_private_key and not zero), listen_port (if
 * has_listen_port and not zero), fwmark (if not zero), then per peer
 * public_key, preshared_key (zeros if none), protocol_version=1, endpoint
 * (if peer->endpoint.family is 4 or 6: the resolved address, not
 * endpoint_host), last_handshake_time_sec/_nsec, tx_bytes, rx_bytes (zeros
 * unless has_stats), persistent_keepalive_interval, allowed_ip lines.
 * Returns a malloc'd string that holds the private key: release it with
 * uapi_text_free. NULL on ENOMEM. */
char *uapi_format_get(const struct config *c);

/* Wipe and free a string from uapi_format_get (NULL is fine). */
void uapi_text_free(char *s);

/* ----------------------------------------------------------------- stats */

/* The request line of the stats operation (followed by a blank line). */
#define UAPI_OP_STATS "wirebolt-stats=1"
#define UAPI_STATS_MAX_WORKERS DEVICE_MAX_WORKERS

/* Every counter of struct io_linux_stats, by name (io_linux.h has no list
 * of its own): uapi_stats.c checks that the list covers the struct. */
#define UAPI_IO_LINUX_STATS(X)                                                             \
    X(tun_tx_dropped) X(udp_tx_dropped) X(udp_tx_source_cleared) X(tun_rx_malformed)       \
    X(tun_rx_super) X(tun_rx_segments) X(tun_tx_gro_writes) X(tun_tx_gro_segments)         \
    X(udp_tx_gso_sends) X(udp_tx_gso_segments) X(udp_gso_disabled)                         \
    X(udp_rx_gro_datagrams) X(udp_rx_gro_segments) X(rx_too_big) X(tun_tx_gro_disabled)

/* The names of the enum io_linux_offload bits, as shown to users. */
#define UAPI_IO_OFFLOADS(X)                                                                \
    X(IO_OFFLOAD_TUN_VNET, "vnet") X(IO_OFFLOAD_TUN_CSUM, "csum")                          \
    X(IO_OFFLOAD_TUN_TSO, "tso") X(IO_OFFLOAD_TUN_USO, "uso")                              \
    X(IO_OFFLOAD_UDP_GSO, "udp-gso") X(IO_OFFLOAD_UDP_GRO, "udp-gro")

/* The peers' own drop reasons (enum wb_drop_reason), by name. */
#define UAPI_TUNNEL_DROPS(X)                                                               \
    X(WB_DROP_MALFORMED, "malformed") X(WB_DROP_UNKNOWN_INDEX, "unknown_index")           \
    X(WB_DROP_BAD_MAC1, "bad_mac1") X(WB_DROP_COOKIE_REQUIRED, "cookie_required")         \
    X(WB_DROP_HANDSHAKE_FAILED, "handshake_failed")                                       \
    X(WB_DROP_REPLAYED_TIMESTAMP, "replayed_timestamp")                                   \
    X(WB_DROP_HANDSHAKE_FLOOD, "handshake_flood")                                         \
    X(WB_DROP_UNEXPECTED_RESPONSE, "unexpected_response")                                 \
    X(WB_DROP_DECRYPT_FAILED, "decrypt_failed") X(WB_DROP_REPLAY, "replay")               \
    X(WB_DROP_KEY_EXPIRED, "key_expired") X(WB_DROP_BAD_INNER_PACKET, "bad_inner_packet") \
    X(WB_DROP_STAGED_OVERFLOW, "staged_overflow") X(WB_DROP_STAGED_PURGED, "staged_purged") \
    X(WB_DROP_DST_TOO_SMALL, "dst_too_small") X(WB_DROP_NO_MEMORY, "no_memory")

/* The name of drop reason r (enum wb_drop_reason), or NULL. */
const char *uapi_tunnel_drop_name(unsigned r);

/* What the stats operation carries: the device's counters per thread (the
 * names of WORKER_STATS, worker.h), its pools, its I/O backend's, and the
 * peers' own drop counters summed (tunnel_drops, by UAPI_TUNNEL_DROPS). */
struct uapi_stats {
    unsigned workers;                 /* data workers: per_worker[0..workers-1] */
    bool under_load;
    uint64_t pool_bytes;              /* memory the packet and job pools hold */
    uint64_t pkt_room;                /* largest packet a buffer takes */
    struct worker_stats per_worker[UAPI_STATS_MAX_WORKERS];
    struct worker_stats handshake;    /* the handshake thread's (and control's) */
    bool has_io;                      /* the backend is io_linux: offloads, io */
    unsigned offloads;                /* mask of enum io_linux_offload */
    struct io_linux_stats io;
    bool has_tunnel_drops;
    uint64_t tunnel_drops[WB_DROP_REASON_COUNT];
};

/* The body of a stats reply (without the final "errno=0\n\n"), one
 * key=value line each, sections like a get's peers:
 *   workers=N, under_load=true|false, pool_bytes=, pkt_room=,
 *   offloads=tso,uso,... (has_io only; names of UAPI_IO_OFFLOADS, comma
 *   separated, empty for none), then per worker "worker=<i>" and every
 *   WORKER_STATS name, "worker=handshake" and the same, and (has_io)
 *   "io=linux" and every UAPI_IO_LINUX_STATS name, and (has_tunnel_drops)
 *   "tunnel=drops" and every UAPI_TUNNEL_DROPS name.
 * Returns a malloc'd string (free()), NULL on ENOMEM. */
char *uapi_format_stats(const struct uapi_stats *s);
/* Parse a stats reply (up to and optionally including its blank line)
 * into *out (zeroed first). Unknown keys and offload names are skipped
 * (a newer server may add some). Returns 0, the reply's errno=N when N is
 * not 0, or -EPROTO for a reply that makes no sense (also one without an
 * errno line, or more workers than UAPI_STATS_MAX_WORKERS). */
int uapi_parse_stats(const char *text, size_t len, struct uapi_stats *out);
/* The counters of every thread (workers and handshake) summed. */
void uapi_stats_total(const struct uapi_stats *s, struct worker_stats *sum);
/* The name of offload bit i (1u << i), or NULL for a bit we do not know. */
const char *uapi_offload_name(unsigned i);

/* ---------------------------------------------------------------- server */

/* The device side. Every callback is called with the server's op lock
 * held, so never two at once and a device may take its control lock
 * inside; sets are thereby serialised with each other. A get in parts
 * takes the op lock for each part only: a set (or a part of another get)
 * may run between two parts of a get, never inside one.
 *   get: fill *out (config_init'ed by the server, config_free'd after the
 *        reply is formatted), with per-peer has_stats; 0 or -errno. Used
 *        when get_begin is NULL.
 *   set: apply a change parsed by the set parser; 0 or -errno (sent back
 *        as errno=N). The server frees the change afterwards.
 *   log: optional (NULL = quiet): one line saying why a request was
 *        refused ("set: line 3: bogus: unknown device key"), a connection
 *        evicted or timed out; WB_LOG_WARN for refusals and evictions,
 *        WB_LOG_INFO or WB_LOG_DEBUG for the rest. Never holds a secret.
 *   stats: optional (NULL = the stats operation is unknown here): fill
 *        *out (zeroed by the server); 0 or -errno.
 *   get_begin, get_next, get_end: optional, all three or none: a get in
 *        parts, as device_dump_begin/_next/_end (device.h). begin: start
 *        a dump, *cursor is the device's; 0 or -errno (then no end).
 *        next: append up to max_peers peers to *out (config_init'ed by the
 *        server, freed after each part), and the device part in the
 *        first; 1 when more may follow, 0 at the end, or -errno. end:
 *        called once after every successful begin, also after an error or
 *        a client that went away. */
struct uapi_ops {
    int (*get)(void *ctx, struct config *out);
    int (*set)(void *ctx, const struct config *change);
    void (*log)(void *ctx, enum wb_log_level level, const char *msg);
    int (*stats)(void *ctx, struct uapi_stats *out);
    int (*get_begin)(void *ctx, void **cursor);
    int (*get_next)(void *ctx, void *cursor, struct config *out, size_t max_peers);
    void (*get_end)(void *ctx, void *cursor);
};

/* The server's bounds; 0 in a field means its default. */
struct uapi_server_options {
    unsigned max_connections;   /* UAPI_MAX_CONNECTIONS */
    int idle_timeout_ms;        /* UAPI_IDLE_TIMEOUT_MS */
    int io_timeout_ms;          /* UAPI_IO_TIMEOUT_MS */
    unsigned get_part_peers;    /* UAPI_GET_PART_PEERS */
};

struct uapi_server;

/* Serve UAPI on UAPI_RUN_DIR/<ifname>.sock. Creates the directory (0755)
 * if missing, refuses with -EADDRINUSE when a live server answers on the
 * socket, removes a stale socket file (-EEXIST if the path is something
 * else), binds with mode 0600 and starts the accept thread. ifname: 1 to
 * 15 characters, no '/'. Returns the server or NULL with *err = -errno.
 * ops is copied; ctx must outlive the server. Control thread. */
struct uapi_server *uapi_server_create(const char *ifname, const struct uapi_ops *ops,
                                       void *ctx, int *err);
/* The same in another directory (tests, other run dirs). */
struct uapi_server *uapi_server_create_at(const char *dir, const char *ifname,
                                          const struct uapi_ops *ops, void *ctx, int *err);
/* The same with other bounds (opt NULL: the defaults); -EINVAL for a
 * negative timeout. */
struct uapi_server *uapi_server_create_with(const char *dir, const char *ifname,
                                            const struct uapi_ops *ops, void *ctx,
                                            const struct uapi_server_options *opt, int *err);
/* The socket's path. */
const char *uapi_server_path(const struct uapi_server *srv);
/* Stop accepting, wake and wait for every connection thread (one inside an
 * ops call finishes it first), close and unlink the socket. NULL is fine.
 * Control thread; not from inside an ops callback. */
void uapi_server_destroy(struct uapi_server *srv);

/* A decimal number of the UAPI (digits only: no sign, space or empty
 * string) no larger than max, into *out. Any thread (pure). */
bool uapi_parse_uint(const char *s, uint64_t max, uint64_t *out);

/* One line of a reply (NUL-terminated, no '\n'), split at '=' in place:
 * 0 with *key and *val set, 1 for the errno line (*err = -errno), or -EPROTO.
 * Any thread (pure). */
int uapi_reply_line(char *line, const char **key, const char **val, int *err);

#endif
