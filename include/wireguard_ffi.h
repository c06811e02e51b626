/* SPDX-License-Identifier: MIT */
/*
 * wireguard_ffi.h - BoringTun-compatible C API of libwirebolt.
 *
 * A drop-in replacement for BoringTun's boringtun/src/wireguard_ffi.h: the
 * same names, enum values, struct layouts and function signatures, so a
 * program written for BoringTun's FFI compiles and links against libwirebolt
 * unchanged. It is a thin layer over wirebolt.h (wb_tunnel_*, wb_key_*); new
 * code that wants batching, endpoints, drop counters or a custom clock
 * should use wirebolt.h directly.
 *
 * How a caller drives a tunnel:
 *   - IP packet from the local interface -> wireguard_write(); send dst to
 *     the peer when the result is WRITE_TO_NETWORK.
 *   - UDP payload from the peer -> wireguard_read(); deliver dst to the
 *     interface on WRITE_TO_TUNNEL_IPV4/IPV6, send it on WRITE_TO_NETWORK.
 *     After every WRITE_TO_NETWORK from wireguard_read(), call
 *     wireguard_read() again with src_size == 0 until it returns
 *     WIREGUARD_DONE: this flushes packets that waited for the handshake.
 *   - About every 100 ms -> wireguard_tick(), until it returns WIREGUARD_DONE.
 *
 * IMPORTANT - the preshared key is not mac2. The optional preshared key is
 * mixed into the Noise handshake (IKpsk2) and changes only the session keys
 * derived from it; nothing on the wire shows whether one is used. mac2 is a
 * different thing: the cookie MAC that a peer under load asks for to make
 * the sender prove its address. A non-zero mac2 is not a sign that a
 * preshared key is configured, and a preshared key never fills mac2. If
 * the two sides hold different preshared keys, the handshake fails (the
 * initiator cannot authenticate the response) and no data flows.
 *
 * Buffers: dst must hold at least src_size + 32 bytes (plus up to 15 bytes
 * of padding) and never fewer than 148 bytes (a handshake initiation);
 * MAX_WIREGUARD_PACKET_SIZE always suffices.
 *
 * Threads: BoringTun's functions take `const struct wireguard_tunnel *` yet
 * change the tunnel's state. The same holds here: every call on a tunnel is
 * serialised by a lock inside it, so any thread may call any of these
 * functions on the same tunnel at any time (but never after tunnel_free()).
 *
 * Differences from BoringTun, all in the direction of accepting less
 * undefined behaviour: NULL tunnels and NULL strings are rejected instead of
 * crashing, and set_logging_function() may be called more than once.
 */
#ifndef WIREGUARD_FFI_H
#define WIREGUARD_FFI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Same rules as WB_API in wirebolt.h: exported from the shared library and
 * the DLL; define WB_STATIC when linking the static library on Windows. */
#if defined(_WIN32)
#  if defined(WB_BUILDING_DLL)
#    define WIREGUARD_FFI_API __declspec(dllexport)
#  elif defined(WB_STATIC)
#    define WIREGUARD_FFI_API
#  else
#    define WIREGUARD_FFI_API __declspec(dllimport)
#  endif
#else
#  define WIREGUARD_FFI_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque tunnel handle, created by new_tunnel() and freed by tunnel_free(). */
struct wireguard_tunnel;

enum {
    /* A dst buffer of this size holds the output of any call. */
    MAX_WIREGUARD_PACKET_SIZE = 65536 + 64,
};

/* What the caller must do with dst after a call. */
enum result_type {
    WIREGUARD_DONE = 0,         /* nothing */
    WRITE_TO_NETWORK = 1,       /* send dst[0..size) to the peer over UDP */
    WIREGUARD_ERROR = 2,        /* the call failed; size holds an error code */
    WRITE_TO_TUNNEL_IPV4 = 4,   /* deliver the IPv4 packet dst[0..size) */
    WRITE_TO_TUNNEL_IPV6 = 6,   /* deliver the IPv6 packet dst[0..size) */
};

/* op says what to do; size is the number of bytes of dst to use, or, for
 * WIREGUARD_ERROR, a positive errno value (EINVAL, EMSGSIZE, ...) saying why.
 * (BoringTun puts its own error enumeration there; treat it as opaque.) */
struct wireguard_result {
    enum result_type op;
    size_t size;
};

/* A snapshot of a tunnel's counters, as returned by wireguard_stats(). */
struct stats {
    int64_t time_since_last_handshake; /* whole seconds, -1: no handshake yet */
    size_t tx_bytes;                   /* UDP payload bytes sent */
    size_t rx_bytes;                   /* UDP payload bytes received and authenticated */
    float estimated_loss;              /* fraction 0..1, -1 when unknown */
    int32_t estimated_rtt;             /* ms, from the last handshake we initiated; -1 unknown */
    uint8_t reserved[56];              /* zero; keeps the struct size fixed */
};

/* A raw X25519 key (private or public), 32 bytes. */
struct x25519_key {
    uint8_t key[32];
};

/* Return a new random X25519 private key (already clamped). */
WIREGUARD_FFI_API struct x25519_key x25519_secret_key(void);

/* Return the public key belonging to private_key. The result is all zero
 * only if the library could not initialise its crypto. */
WIREGUARD_FFI_API struct x25519_key x25519_public_key(struct x25519_key private_key);

/* Return key as 44 base64 characters in a NUL-terminated heap string, or
 * NULL when out of memory. Free it with x25519_key_to_str_free(). */
WIREGUARD_FFI_API const char *x25519_key_to_base64(struct x25519_key key);

/* Return key as 64 lowercase hex characters in a NUL-terminated heap
 * string, or NULL when out of memory. Free it with x25519_key_to_str_free(). */
WIREGUARD_FFI_API const char *x25519_key_to_hex(struct x25519_key key);

/* Wipe and free a string from x25519_key_to_base64() or x25519_key_to_hex().
 * NULL is a no-op. Passing any other pointer is undefined. */
WIREGUARD_FFI_API void x25519_key_to_str_free(const char *key_str);

/* Return 1 if key is a NUL-terminated base64 string that decodes to 32
 * bytes which are not all zero, else 0 (NULL included). */
WIREGUARD_FFI_API int check_base64_encoded_x25519_key(const char *key);

/* Route log lines to log_func: every tunnel created after this call passes
 * its log lines (one NUL-terminated line per call, never containing key
 * material) to log_func, as do failures inside new_tunnel(). The string is
 * only valid during the call; copy it to keep it. log_func may be called
 * from any thread that calls into a tunnel. Tunnels created earlier keep
 * the function they were created with. NULL turns logging off for later
 * tunnels. Always returns true. */
WIREGUARD_FFI_API bool set_logging_function(void (*log_func)(const char *));

/*
 * Create a tunnel to one peer.
 *   static_private:       our private key
 *   server_static_public: the peer's public key
 *   preshared_key:        optional preshared key, NULL for none (see the
 *                         note at the top: this is not mac2)
 *   keep_alive:           persistent keepalive interval in seconds, 0 = off
 *   index:                24-bit prefix of our session indices (the index
 *                         is prefix << 8 | n); lets one process tell its
 *                         tunnels apart by the receiver index of a datagram
 * Keys are 44-character base64 or 64-character hex strings of 32 bytes.
 * Returns NULL on a malformed key, a public key the handshake could never
 * use (low order), or out of memory; the reason goes to the logging
 * function, if one is set. Free the result with tunnel_free().
 */
WIREGUARD_FFI_API struct wireguard_tunnel *new_tunnel(const char *static_private,
                                                      const char *server_static_public,
                                                      const char *preshared_key,
                                                      uint16_t keep_alive, uint32_t index);

/* Free the tunnel and wipe its keys. NULL is a no-op. No other call on the
 * tunnel may be running or made afterwards. */
WIREGUARD_FFI_API void tunnel_free(struct wireguard_tunnel *tunnel);

/* Encrypt the IP packet src[0..src_size) for the peer. Returns
 * WRITE_TO_NETWORK with the datagram in dst, or, before a session exists,
 * queues the packet and returns a handshake initiation to send (or
 * WIREGUARD_DONE when one is already under way). src_size 0 sends a
 * keepalive when a session exists. WIREGUARD_ERROR: dst too small, bad
 * arguments. */
WIREGUARD_FFI_API struct wireguard_result wireguard_write(const struct wireguard_tunnel *tunnel,
                                                          const uint8_t *src, uint32_t src_size,
                                                          uint8_t *dst, uint32_t dst_size);

/* Process the UDP payload src[0..src_size) received from the peer. Returns
 * WRITE_TO_TUNNEL_IPV4/IPV6 with a decrypted packet in dst, WRITE_TO_NETWORK
 * with a handshake reply or a queued packet to send, or WIREGUARD_DONE.
 * After WRITE_TO_NETWORK call again with src_size 0 (src may be NULL) until
 * WIREGUARD_DONE. Invalid, forged or replayed datagrams are dropped and
 * return WIREGUARD_DONE or WIREGUARD_ERROR; they never crash or stop the
 * tunnel. */
WIREGUARD_FFI_API struct wireguard_result wireguard_read(const struct wireguard_tunnel *tunnel,
                                                         const uint8_t *src, uint32_t src_size,
                                                         uint8_t *dst, uint32_t dst_size);

/* Run the timers (handshake retries, rekeying, keepalives); call about every
 * 100 ms. Returns WRITE_TO_NETWORK when dst holds a message to send (call
 * again until WIREGUARD_DONE), WIREGUARD_DONE when nothing is due. */
WIREGUARD_FFI_API struct wireguard_result wireguard_tick(const struct wireguard_tunnel *tunnel,
                                                         uint8_t *dst, uint32_t dst_size);

/* Start a new handshake now, even if one was sent recently. Returns
 * WRITE_TO_NETWORK with the 148-byte initiation in dst (which must hold at
 * least 148 bytes). */
WIREGUARD_FFI_API struct wireguard_result
wireguard_force_handshake(const struct wireguard_tunnel *tunnel, uint8_t *dst, uint32_t dst_size);

/* Return the tunnel's counters (see struct stats). For a NULL tunnel the
 * byte counts are zero and every other field reads as unknown (-1). */
WIREGUARD_FFI_API struct stats wireguard_stats(const struct wireguard_tunnel *tunnel);

#ifdef __cplusplus
}
#endif
#endif /* WIREGUARD_FFI_H */
