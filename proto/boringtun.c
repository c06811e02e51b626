/* SPDX-License-Identifier: MIT */
/*
 * boringtun.c - the BoringTun-compatible FFI (include/wireguard_ffi.h) on
 * top of the native tunnel API (wb_tunnel_*, wb_key_*).
 *
 * It owns the mapping only: string keys to raw keys, BoringTun's result and
 * stats structs to wirebolt's, and the process-wide logging function that
 * new tunnels pick up. All protocol work happens in the wb_tunnel.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "wirebolt.h"
#include "wireguard_ffi.h"
#include "crypto/random.h"
#include "proto/messages.h"

typedef void (*log_func_t)(const char *);

struct wireguard_tunnel {
    struct wb_tunnel *tunnel;
    log_func_t log_func;        /* fixed at creation; NULL = silent */
};

/* Set by set_logging_function(), read when a tunnel is created. */
static _Atomic(log_func_t) current_log_func;

/* ------------------------------------------------------------------ keys */

struct x25519_key x25519_secret_key(void)
{
    struct x25519_key k;

    wb_init();
    wb_key_generate(k.key);
    return k;
}

struct x25519_key x25519_public_key(struct x25519_key private_key)
{
    struct x25519_key pub;

    memset(&pub, 0, sizeof(pub));
    if (wb_init() == 0 && wb_key_public(pub.key, private_key.key) < 0)
        memset(&pub, 0, sizeof(pub));
    wb_memzero(&private_key, sizeof(private_key));
    return pub;
}

const char *x25519_key_to_base64(struct x25519_key key)
{
    char *s = malloc(WB_KEY_B64_LEN + 1);

    if (s)
        wb_key_to_base64(s, key.key);
    wb_memzero(&key, sizeof(key));
    return s;
}

const char *x25519_key_to_hex(struct x25519_key key)
{
    char *s = malloc(2 * WB_KEY_LEN + 1);

    if (s)
        wb_key_to_hex(s, key.key);
    wb_memzero(&key, sizeof(key));
    return s;
}

void x25519_key_to_str_free(const char *key_str)
{
    char *s = (char *)key_str;   /* we allocated it; const only in the API */

    if (!s)
        return;
    wb_memzero(s, strlen(s));    /* it may spell a private key */
    free(s);
}

static bool all_zero(const uint8_t *p, size_t len)
{
    uint8_t acc = 0;

    for (size_t i = 0; i < len; i++)
        acc |= p[i];
    return acc == 0;
}

int check_base64_encoded_x25519_key(const char *key)
{
    uint8_t raw[WB_KEY_LEN];
    int valid;

    if (!key)
        return 0;
    valid = wb_key_from_base64(raw, key) == 0 && !all_zero(raw, sizeof(raw));
    wb_memzero(raw, sizeof(raw));
    return valid ? 1 : 0;
}

/* Decode a key given as 44 base64 or 64 hex characters (BoringTun accepts
 * both). Returns 0 or -EINVAL. */
static int parse_key(uint8_t out[WB_KEY_LEN], const char *s)
{
    size_t len;

    if (!s)
        return -EINVAL;
    len = strlen(s);
    if (len == WB_KEY_B64_LEN)
        return wb_key_from_base64(out, s);
    if (len == 2 * WB_KEY_LEN)
        return wb_key_from_hex(out, s);
    return -EINVAL;
}

/* --------------------------------------------------------------- logging */

bool set_logging_function(void (*log_func)(const char *))
{
    atomic_store_explicit(&current_log_func, log_func, memory_order_release);
    return true;
}

/* wb_tunnel_config.log adapter: BoringTun's lines carry no level. */
static void forward_log(void *ctx, enum wb_log_level level, const char *msg)
{
    const struct wireguard_tunnel *w = ctx;

    if (w->log_func && msg)
        w->log_func(msg);
}

/* Route the tunnel's log lines to w->log_func, if there is one. */
static void attach_log(struct wb_tunnel_config *cfg, struct wireguard_tunnel *w)
{
    if (!w->log_func)
        return;
    cfg->log = forward_log;
    cfg->log_ctx = w;
    cfg->log_level = WB_LOG_DEBUG;      /* BoringTun logs everything to it */
}

static void say(log_func_t log_func, const char *msg)
{
    if (log_func)
        log_func(msg);
}

/* --------------------------------------------------------------- tunnels */

/* Fill the key fields of cfg; returns a message naming the bad key, or
 * NULL when all keys parsed. */
static const char *parse_keys(struct wb_tunnel_config *cfg, const char *static_private,
                              const char *server_static_public, const char *preshared_key)
{
    if (parse_key(cfg->private_key, static_private) < 0)
        return "new_tunnel: static_private is not a valid base64 or hex key";
    if (parse_key(cfg->peer_public_key, server_static_public) < 0)
        return "new_tunnel: server_static_public is not a valid base64 or hex key";
    if (preshared_key) {
        if (parse_key(cfg->preshared_key, preshared_key) < 0)
            return "new_tunnel: preshared_key is not a valid base64 or hex key";
        cfg->has_preshared_key = true;
    }
    return NULL;
}

struct wireguard_tunnel *new_tunnel(const char *static_private, const char *server_static_public,
                                    const char *preshared_key, uint16_t keep_alive,
                                    uint32_t index)
{
    log_func_t log_func = atomic_load_explicit(&current_log_func, memory_order_acquire);
    struct wb_tunnel_config cfg;
    struct wireguard_tunnel *w;
    const char *bad;

    memset(&cfg, 0, sizeof(cfg));
    if (wb_init() < 0) {
        say(log_func, "new_tunnel: crypto initialisation failed");
        return NULL;
    }
    bad = parse_keys(&cfg, static_private, server_static_public, preshared_key);
    if (bad) {
        say(log_func, bad);
        goto err_keys;
    }
    w = calloc(1, sizeof(*w));
    if (!w) {
        say(log_func, "new_tunnel: out of memory");
        goto err_keys;
    }
    w->log_func = log_func;
    cfg.size = sizeof(cfg);
    cfg.persistent_keepalive = keep_alive;
    cfg.has_index_prefix = true;
    cfg.index_prefix = index;
    attach_log(&cfg, w);
    if (wb_tunnel_create(&cfg, &w->tunnel) < 0) {
        say(log_func, "new_tunnel: keys rejected (low-order public key?) or out of memory");
        goto err_tunnel;
    }
    wb_memzero(&cfg, sizeof(cfg));
    return w;

err_tunnel:
    free(w);
err_keys:
    wb_memzero(&cfg, sizeof(cfg));
    return NULL;
}

void tunnel_free(struct wireguard_tunnel *tunnel)
{
    if (!tunnel)
        return;
    wb_tunnel_destroy(tunnel->tunnel);
    free(tunnel);
}

/* ------------------------------------------------------------- data path */

/*
 * Every function below takes BoringTun's `const struct wireguard_tunnel *`.
 * The wrapper itself is never written after new_tunnel(); the wb_tunnel it
 * points to changes state under its own internal lock, so concurrent calls
 * from any threads are safe.
 */

static struct wireguard_result to_ffi(struct wb_result r)
{
    struct wireguard_result out = { WIREGUARD_DONE, 0 };

    switch (r.op) {
    case WB_WRITE_TO_NETWORK:
        out.op = WRITE_TO_NETWORK;
        out.size = r.size;
        break;
    case WB_WRITE_TO_TUNNEL_IPV4:
        out.op = WRITE_TO_TUNNEL_IPV4;
        out.size = r.size;
        break;
    case WB_WRITE_TO_TUNNEL_IPV6:
        out.op = WRITE_TO_TUNNEL_IPV6;
        out.size = r.size;
        break;
    case WB_ERROR:
        out.op = WIREGUARD_ERROR;
        out.size = r.error < 0 ? (size_t)-r.error : (size_t)EINVAL;
        break;
    case WB_DONE:
    default:
        break;
    }
    return out;
}

static struct wireguard_result invalid_argument(void)
{
    struct wireguard_result out = { WIREGUARD_ERROR, EINVAL };

    return out;
}

struct wireguard_result wireguard_write(const struct wireguard_tunnel *tunnel,
                                        const uint8_t *src, uint32_t src_size,
                                        uint8_t *dst, uint32_t dst_size)
{
    if (!tunnel || !dst || (!src && src_size))
        return invalid_argument();
    return to_ffi(wb_tunnel_encapsulate(tunnel->tunnel, src, src_size, dst, dst_size));
}

/* src_size 0 is the drain call; BoringTun's FFI has no source address, so
 * cookies are bound to the all-zero source. */
struct wireguard_result wireguard_read(const struct wireguard_tunnel *tunnel,
                                       const uint8_t *src, uint32_t src_size,
                                       uint8_t *dst, uint32_t dst_size)
{
    if (!tunnel || !dst || (!src && src_size))
        return invalid_argument();
    return to_ffi(wb_tunnel_decapsulate(tunnel->tunnel, NULL, src_size ? src : NULL, src_size,
                                        dst, dst_size));
}

struct wireguard_result wireguard_tick(const struct wireguard_tunnel *tunnel,
                                       uint8_t *dst, uint32_t dst_size)
{
    if (!tunnel || !dst)
        return invalid_argument();
    return to_ffi(wb_tunnel_tick(tunnel->tunnel, dst, dst_size));
}

struct wireguard_result wireguard_force_handshake(const struct wireguard_tunnel *tunnel,
                                                  uint8_t *dst, uint32_t dst_size)
{
    if (!tunnel || !dst)
        return invalid_argument();
    return to_ffi(wb_tunnel_force_handshake(tunnel->tunnel, dst, dst_size));
}

struct stats wireguard_stats(const struct wireguard_tunnel *tunnel)
{
    struct wb_tunnel_stats s;
    struct stats out;

    memset(&out, 0, sizeof(out));
    out.time_since_last_handshake = -1;
    out.estimated_loss = -1.0f;
    out.estimated_rtt = -1;
    memset(&s, 0, sizeof(s));
    s.size = sizeof(s);
    if (!tunnel || wb_tunnel_stats(tunnel->tunnel, &s) < 0)
        return out;
    if (s.time_since_last_handshake_ns >= 0)
        out.time_since_last_handshake = s.time_since_last_handshake_ns / (int64_t)NSEC_PER_SEC;
    out.tx_bytes = (size_t)s.tx_bytes;
    out.rx_bytes = (size_t)s.rx_bytes;
    out.estimated_loss = s.estimated_loss;
    out.estimated_rtt = s.estimated_rtt_ms;
    return out;
}
