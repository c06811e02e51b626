/* SPDX-License-Identifier: MIT */
/*
 * wirebolt.h - the public, ABI-stable C API of libwirebolt.
 *
 * What it gives you:
 *   - Keys: generate, derive, and convert X25519 keys (raw 32 bytes, base64).
 *   - AEAD: ChaCha20-Poly1305 with the WireGuard nonce, through the fastest
 *     implementation the CPU supports (chosen once, overridable with the
 *     environment variable WIREBOLT_CRYPTO_IMPL=<name>).
 *   - Tunnel: one WireGuard peer, no I/O of its own. You hand it IP packets
 *     (encapsulate) and UDP payloads (decapsulate); it hands back datagrams to
 *     send and IP packets to deliver. A timer tick drives retransmission,
 *     rekeying and keepalives.
 *
 * Caveats:
 *   - Call wb_init() once before anything else (it is idempotent and
 *     thread-safe; every entry point also calls it lazily).
 *   - Network input never aborts: bad datagrams are counted drops
 *     (see enum wb_drop_reason) and the call returns WB_DONE.
 *   - Output buffers: a datagram is at most src_len + WB_OVERHEAD bytes
 *     (+15 padding) and never shorter than WB_MIN_DST_LEN; pass a dst of at
 *     least max(src_len + WB_OVERHEAD + 16, WB_MIN_DST_LEN) bytes.
 *   - The preshared key only changes the keys derived from the handshake; it
 *     is not what mac2 is (mac2 is the cookie MAC used under load).
 *   - Structs that carry a `size` field must have it set to sizeof(struct)
 *     by the caller; this is how the ABI grows without breaking.
 *
 * Errors are negative errno values (-EINVAL, -ENOMEM, -EMSGSIZE, ...).
 */
#ifndef WIREBOLT_H
#define WIREBOLT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#  if defined(WB_BUILDING_DLL)
#    define WB_API __declspec(dllexport)
#  elif defined(WB_STATIC)
#    define WB_API
#  else
#    define WB_API __declspec(dllimport)
#  endif
#else
#  define WB_API __attribute__((visibility("default")))
#endif

#define WB_VERSION_MAJOR 0
#define WB_VERSION_MINOR 1
#define WB_VERSION_PATCH 0

#define WB_KEY_LEN 32
#define WB_KEY_B64_LEN 44          /* without the terminating NUL */
#define WB_AEAD_TAG_LEN 16
#define WB_OVERHEAD 32             /* data header (16) + tag (16) */
#define WB_MIN_DST_LEN 148         /* the largest handshake message */
#define WB_DEFAULT_MTU 1420

/* ------------------------------------------------------------------ init */

/* Initialise libsodium and pick crypto implementations. Returns 0 or -errno.
 * Thread-safe, idempotent. */
WB_API int wb_init(void);

/* "0.1.0"; a static string. Thread-safe. */
WB_API const char *wb_version(void);

/* ------------------------------------------------------------------ keys */
/* Thread safety: all wb_key_* functions are reentrant (no shared state) and
 * may be called from any thread; they call wb_init() if needed. */

/* Fill `priv` with a fresh clamped X25519 private key. */
WB_API void wb_key_generate(uint8_t priv[WB_KEY_LEN]);
/* Fill `psk` with 32 random bytes. */
WB_API void wb_key_generate_preshared(uint8_t psk[WB_KEY_LEN]);
/* pub = X25519(priv, basepoint). Returns 0 or -EINVAL. */
WB_API int wb_key_public(uint8_t pub[WB_KEY_LEN], const uint8_t priv[WB_KEY_LEN]);
/* Encode to base64 (44 chars + NUL written to out). */
WB_API void wb_key_to_base64(char out[WB_KEY_B64_LEN + 1], const uint8_t key[WB_KEY_LEN]);
/* Decode exactly 44 base64 chars encoding 32 bytes. Returns 0 or -EINVAL. */
WB_API int wb_key_from_base64(uint8_t key[WB_KEY_LEN], const char *b64);
/* Encode to 64 lowercase hex chars + NUL. */
WB_API void wb_key_to_hex(char out[2 * WB_KEY_LEN + 1], const uint8_t key[WB_KEY_LEN]);
/* Decode 64 hex chars. Returns 0 or -EINVAL. */
WB_API int wb_key_from_hex(uint8_t key[WB_KEY_LEN], const char *hex);

/* ------------------------------------------------------------------ AEAD */

/*
 * ChaCha20-Poly1305 (RFC 8439) with the WireGuard nonce: 32 zero bits
 * followed by the little-endian 64-bit `counter`.
 *
 * seal: dst receives len bytes of ciphertext then the 16-byte tag
 *       (dst must hold len + 16). dst may equal src (in place).
 * open: src holds len bytes of ciphertext + tag (len >= 16); dst receives
 *       len - 16 bytes of plaintext. The tag is verified before anything is
 *       decrypted; on failure dst is untouched and -EBADMSG is returned.
 *       dst may equal src.
 * Both are thread-safe (no shared state) and constant time in the data.
 */
WB_API void wb_aead_seal(uint8_t *dst, const uint8_t *src, size_t len,
                         const uint8_t *ad, size_t ad_len, uint64_t counter,
                         const uint8_t key[WB_KEY_LEN]);
WB_API int wb_aead_open(uint8_t *dst, const uint8_t *src, size_t len,
                        const uint8_t *ad, size_t ad_len, uint64_t counter,
                        const uint8_t key[WB_KEY_LEN]);

/* Name of the implementation in use ("portable", "avx2", ...). Thread-safe. */
WB_API const char *wb_aead_impl_name(void);
/* Force an implementation by name for this process. Returns 0, -ENOENT if
 * unknown, -ENOTSUP if this CPU cannot run it. Not thread-safe against
 * concurrent AEAD calls: call at start-up. */
WB_API int wb_aead_impl_select(const char *name);
/* Enumerate: returns the name of the i-th known implementation or NULL past
 * the end; *supported (may be NULL) tells whether this CPU can run it.
 * Thread-safe. */
WB_API const char *wb_aead_impl_at(size_t i, bool *supported);

/* ---------------------------------------------------------------- tunnel */

struct wb_tunnel;

/* A UDP endpoint, address in network byte order. family: 4 or 6 (0 = none). */
struct wb_endpoint {
    uint8_t family;
    uint8_t reserved;
    uint16_t port;     /* host byte order */
    uint8_t addr[16];  /* IPv4 uses the first 4 bytes */
};

/* Time source, for embedding in event loops and for tests. Both return
 * nanoseconds: `monotonic` for timers, `realtime` since the Unix epoch for
 * handshake timestamps. NULL fields fall back to the system clock. */
struct wb_clock {
    uint64_t (*monotonic)(void *ctx);
    uint64_t (*realtime)(void *ctx);
    void *ctx;
};

enum wb_log_level { WB_LOG_ERROR = 0, WB_LOG_WARN = 1, WB_LOG_INFO = 2, WB_LOG_DEBUG = 3 };

struct wb_tunnel_config {
    uint32_t size;                        /* = sizeof(struct wb_tunnel_config) */
    uint8_t private_key[WB_KEY_LEN];
    uint8_t peer_public_key[WB_KEY_LEN];
    uint8_t preshared_key[WB_KEY_LEN];
    bool has_preshared_key;               /* false: no preshared key (all zero) */
    uint16_t persistent_keepalive;        /* seconds, 0 = off */
    uint16_t mtu;                         /* padding limit; 0 = WB_DEFAULT_MTU */
    bool has_index_prefix;                /* local session indices = prefix<<8 | n */
    uint32_t index_prefix;                /* 24 bits used */
    const struct wb_clock *clock;         /* NULL = system clock; must outlive the tunnel */
    void (*log)(void *ctx, enum wb_log_level level, const char *msg); /* never gets secrets */
    void *log_ctx;
    enum wb_log_level log_level;
};

/* What a call asks the caller to do with dst. Values match BoringTun. */
enum wb_op {
    WB_DONE = 0,                /* nothing to do */
    WB_WRITE_TO_NETWORK = 1,    /* send dst[0..size) to the peer's endpoint */
    WB_ERROR = 2,               /* `error` holds a negative errno */
    WB_WRITE_TO_TUNNEL_IPV4 = 4,/* deliver the IPv4 packet dst[0..size) */
    WB_WRITE_TO_TUNNEL_IPV6 = 6,/* deliver the IPv6 packet dst[0..size) */
};

struct wb_result {
    enum wb_op op;
    int error;
    size_t size;
};

/* Why a datagram or packet was dropped; counted in wb_tunnel_stats. */
enum wb_drop_reason {
    WB_DROP_MALFORMED = 0,       /* bad length or type */
    WB_DROP_UNKNOWN_INDEX,       /* receiver index names no session */
    WB_DROP_BAD_MAC1,
    WB_DROP_COOKIE_REQUIRED,     /* under load, mac2 missing or wrong (cookie sent) */
    WB_DROP_HANDSHAKE_FAILED,    /* authentication or key mismatch */
    WB_DROP_REPLAYED_TIMESTAMP,  /* initiation not newer than the last one */
    WB_DROP_HANDSHAKE_FLOOD,     /* initiations < 20 ms apart */
    WB_DROP_UNEXPECTED_RESPONSE, /* response or cookie with no handshake pending */
    WB_DROP_DECRYPT_FAILED,      /* data packet failed authentication */
    WB_DROP_REPLAY,              /* counter seen or too old */
    WB_DROP_KEY_EXPIRED,         /* key too old or too used */
    WB_DROP_BAD_INNER_PACKET,    /* decrypted payload is not a sane IP packet */
    WB_DROP_STAGED_OVERFLOW,     /* staged queue full, oldest dropped */
    WB_DROP_STAGED_PURGED,       /* handshake gave up, staged packets dropped */
    WB_DROP_DST_TOO_SMALL,       /* caller's buffer too small */
    WB_DROP_NO_MEMORY,           /* a packet could not be staged: allocation failed */
    WB_DROP_REASON_COUNT
};

struct wb_tunnel_stats {
    uint32_t size;                       /* = sizeof(struct wb_tunnel_stats) */
    int64_t time_since_last_handshake_ns;/* -1: never */
    uint64_t last_handshake_realtime_ns; /* 0: never; the system clock at tick
                                          * resolution (what time() reads), so
                                          * never ahead of time() */
    uint64_t tx_bytes;                   /* UDP payload bytes sent */
    uint64_t rx_bytes;                   /* UDP payload bytes received and authenticated */
    uint64_t tx_packets, rx_packets;
    float estimated_loss;                /* 0..1, -1 unknown */
    int32_t estimated_rtt_ms;            /* -1 unknown */
    uint64_t handshakes_completed;
    uint64_t drops[WB_DROP_REASON_COUNT];
};

/* Create a tunnel. *out receives the handle. Returns 0, -EINVAL (bad config,
 * low-order key), -ENOMEM. The config is copied; keys in it may be wiped by
 * the caller afterwards. */
WB_API int wb_tunnel_create(const struct wb_tunnel_config *cfg, struct wb_tunnel **out);
/* Same, with base64 keys; preshared_b64 NULL = none. */
WB_API int wb_tunnel_create_base64(const char *private_b64, const char *peer_public_b64,
                                   const char *preshared_b64, uint16_t persistent_keepalive,
                                   struct wb_tunnel **out);
/* Free the tunnel and wipe every secret it held. NULL is a no-op. */
WB_API void wb_tunnel_destroy(struct wb_tunnel *t);

/*
 * Thread safety of every wb_tunnel_* call below: a tunnel serialises calls
 * on it with an internal lock, so any thread may call any of them at any
 * time; different tunnels share no state. Calls never block on I/O.
 */

/* IP packet -> datagram. With a session: WB_WRITE_TO_NETWORK, dst holds a
 * transport message. Without: the packet is staged (up to 128, oldest
 * dropped) and a handshake initiation may be returned instead. A zero-length
 * src sends a keepalive if a session exists. */
WB_API struct wb_result wb_tunnel_encapsulate(struct wb_tunnel *t, const uint8_t *src, size_t len,
                                              uint8_t *dst, size_t dst_cap);

/* Datagram from `from` (may be NULL: then cookies use an all-zero source)
 * -> an IP packet to deliver, a message to send back, or nothing. After any
 * WB_WRITE_TO_NETWORK result, call again with len == 0 until WB_DONE: that
 * drains packets staged during the handshake. A responder's staged packets
 * are released when the initiator's first data packet confirms the session
 * (a WB_WRITE_TO_TUNNEL_* result); a drain call then sends them at once,
 * otherwise the next tick does. */
WB_API struct wb_result wb_tunnel_decapsulate(struct wb_tunnel *t, const struct wb_endpoint *from,
                                              const uint8_t *src, size_t len,
                                              uint8_t *dst, size_t dst_cap);

/* Run timers. Call every 100-250 ms. Returns WB_WRITE_TO_NETWORK when a
 * handshake or keepalive must be sent; call again until WB_DONE. */
WB_API struct wb_result wb_tunnel_tick(struct wb_tunnel *t, uint8_t *dst, size_t dst_cap);

/* Start a handshake now (ignoring the retry back-off). */
WB_API struct wb_result wb_tunnel_force_handshake(struct wb_tunnel *t, uint8_t *dst, size_t dst_cap);

/* Fill *out (out->size must be set). Returns 0 or -EINVAL. */
WB_API int wb_tunnel_stats(struct wb_tunnel *t, struct wb_tunnel_stats *out);

/* Tell the tunnel whether the host is under load: when true, initiations
 * without a valid mac2 are answered with a cookie reply instead. */
WB_API void wb_tunnel_set_under_load(struct wb_tunnel *t, bool under_load);

/* Batch forms: process n packets in one call (one lock acquisition, crypto
 * batched). Each element's `result` is filled as the single call would.
 * Returns the number processed (always n). For decapsulate, drain with
 * wb_tunnel_decapsulate(len = 0) if any result was WB_WRITE_TO_NETWORK. */
struct wb_packet {
    const uint8_t *src;
    size_t len;
    uint8_t *dst;
    size_t dst_cap;
    const struct wb_endpoint *from;  /* decapsulate only */
    struct wb_result result;
};
WB_API size_t wb_tunnel_encapsulate_batch(struct wb_tunnel *t, struct wb_packet *pkts, size_t n);
WB_API size_t wb_tunnel_decapsulate_batch(struct wb_tunnel *t, struct wb_packet *pkts, size_t n);

/* ---------------------------------------------------------------- device */

/*
 * A multi-peer WireGuard device that runs the whole datapath: it owns a TUN
 * interface, UDP sockets, the private key, listen port, fwmark and peers,
 * and a datapath thread. Linux only for now (WB_HAVE_DEVICE is defined
 * where it exists); the Windows backends come later.
 *
 * Configuration is the cross-platform UAPI text that wg(8) and
 * wireguard-go speak (keys as 64 lowercase hex characters), which keeps the
 * ABI stable as keys are added:
 *   set: "private_key=<hex>\nlisten_port=51820\npublic_key=<hex>\n"
 *        "endpoint=192.0.2.1:51820\nallowed_ip=10.0.0.0/24\n"
 *        (replace_peers, remove, update_only, preshared_key,
 *         persistent_keepalive_interval, replace_allowed_ips,
 *         allowed_ip=-<prefix>, fwmark, protocol_version=1 also work)
 *   get: the same keys plus per-peer last_handshake_time_sec/nsec,
 *        tx_bytes, rx_bytes.
 * A set is parsed whole before anything is applied; a bad line changes
 * nothing and returns -EINVAL.
 *
 * Thread safety: set/get/start/stop may be called from any thread and are
 * serialised internally; destroy must not race with the others.
 */
#if defined(__linux__)
#define WB_HAVE_DEVICE 1
struct wb_device;

/* Create the TUN interface `ifname` (a name, or a template like "wb%d")
 * and the UDP side (listening on an ephemeral port until configured).
 * The interface is left down and unaddressed. Needs CAP_NET_ADMIN.
 * Returns 0, -EPERM, -EEXIST, -EINVAL, -ENOMEM, ... */
WB_API int wb_device_create(const char *ifname, struct wb_device **out);

/* Where the datapath runs. Zero everything for the defaults. */
struct wb_device_options {
    uint32_t size;       /* = sizeof(struct wb_device_options) (ABI check) */
    uint32_t workers;    /* 0: one per physical core (of `cpus` when set) */
    const char *cpus;    /* Linux cpulist of the CPUs to use ("0-3,6"); NULL: all usable */
    int use_smt;         /* nonzero: SMT siblings may get workers too */
};
/* wb_device_create with options (NULL: the defaults). One worker per I/O
 * queue, each pinned to its CPU; one peer's traffic uses every worker.
 * -EINVAL for a bad cpulist, -ERANGE for more workers than usable cores
 * (or CPUs with use_smt), as well as wb_device_create's errors. */
WB_API int wb_device_create_with(const char *ifname, const struct wb_device_options *opt,
                                 struct wb_device **out);
/* The interface's actual name. */
WB_API const char *wb_device_ifname(const struct wb_device *dev);
/* Apply a UAPI set body (the lines after "set=1"). Returns 0 or -errno. */
WB_API int wb_device_set_config(struct wb_device *dev, const char *uapi_set);
/* The UAPI get body (without "errno=0"); free with wb_device_free_config.
 * It contains the private key: it is wiped when freed. Returns 0 or -errno. */
WB_API int wb_device_get_config(struct wb_device *dev, char **uapi_get);
WB_API void wb_device_free_config(char *uapi_get);
/* Start and stop the datapath threads. */
WB_API int wb_device_start(struct wb_device *dev);
WB_API void wb_device_stop(struct wb_device *dev);
/* Stop, remove the interface, wipe every secret. NULL is a no-op. */
WB_API void wb_device_destroy(struct wb_device *dev);
#endif

#ifdef __cplusplus
}
#endif
#endif /* WIREBOLT_H */
