/* SPDX-License-Identifier: MIT */
/*
 * config_print.c - writes a struct config back as configuration text: the
 * full form (every wg-quick and WireSock key, re-parsing to an equal config)
 * or what `wg showconf` prints. The text holds keys, so the buffer moves by
 * hand and wipes what it leaves behind.
 */
#include "proto/config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/random.h"

struct out {
    char *buf;
    size_t len, cap;
    int error;          /* first failure: ENOMEM or EINVAL */
};

static void out_fail(struct out *o, int error)
{
    if (!o->error)
        o->error = error;
}

static void put_n(struct out *o, const char *s, size_t n)
{
    if (o->error)
        return;
    if (o->cap - o->len <= n) {
        size_t cap = o->cap ? o->cap : 1024;
        char *nb;
        while (cap - o->len <= n)
            cap *= 2;
        nb = malloc(cap);
        if (!nb) {
            out_fail(o, ENOMEM);
            return;
        }
        if (o->buf) {
            memcpy(nb, o->buf, o->len);
            wb_memzero(o->buf, o->len);
            free(o->buf);
        }
        o->buf = nb;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static void put(struct out *o, const char *s)
{
    put_n(o, s, strlen(s));
}

static void put_uint(struct out *o, uint32_t v, unsigned base)
{
    char tmp[16];
    size_t i = sizeof(tmp);

    do {
        tmp[--i] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    if (base == 16)
        put(o, "0x");
    put_n(o, tmp + i, sizeof(tmp) - i);
}

/* What a value must be to come back unchanged from the parser: no control
 * characters or '#', no outer whitespace, and for list items no separator. */
static bool writable(const char *s, bool list_item, bool split_space)
{
    size_t n = strlen(s);

    if (n && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        return false;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f || ch == '#')
            return false;
        if (list_item && (ch == ',' || (split_space && (ch == ' ' || ch == '\t'))))
            return false;
    }
    return true;
}

static void put_key(struct out *o, const char *key)
{
    put(o, key);
    put(o, " = ");
}

static void put_string(struct out *o, const char *key, const char *v)
{
    if (!v)
        return;
    if (!*v || !writable(v, false, false)) {
        out_fail(o, EINVAL);
        return;
    }
    put_key(o, key);
    put(o, v);
    put(o, "\n");
}

/* One "Key = a, b, c" line (nothing for an empty list). */
static void put_list(struct out *o, const char *key, const struct config_strings *l, bool split_space)
{
    if (!l->n)
        return;
    put_key(o, key);
    for (size_t i = 0; i < l->n; i++) {
        if (!*l->v[i] || !writable(l->v[i], true, split_space))
            out_fail(o, EINVAL);
        if (i)
            put(o, ", ");
        put(o, l->v[i]);
    }
    put(o, "\n");
}

/* Hooks: one line per command. */
static void put_hooks(struct out *o, const char *key, const struct config_strings *l)
{
    for (size_t i = 0; i < l->n; i++)
        put_string(o, key, l->v[i]);
}

static void put_prefixes(struct out *o, const char *key, const struct config_prefix *v, size_t n)
{
    char buf[64];

    if (!n)
        return;
    put_key(o, key);
    for (size_t i = 0; i < n; i++) {
        if ((v[i].family != 4 && v[i].family != 6) || v[i].cidr > (v[i].family == 4 ? 32 : 128))
            out_fail(o, EINVAL);
        if (i)
            put(o, ", ");
        put(o, config_prefix_format(&v[i], buf, sizeof(buf)));
    }
    put(o, "\n");
}

static void put_base64(struct out *o, const char *key, const uint8_t k[CONFIG_KEY_LEN])
{
    char b64[WB_KEY_B64_LEN + 1];

    wb_key_to_base64(b64, k);
    put_key(o, key);
    put(o, b64);
    put(o, "\n");
    wb_memzero(b64, sizeof(b64));
}

static void put_number(struct out *o, const char *key, uint32_t v, bool zero_is_off, unsigned base)
{
    put_key(o, key);
    if (zero_is_off && v == 0)
        put(o, "off");
    else
        put_uint(o, v, base);
    put(o, "\n");
}

static void put_bool(struct out *o, const char *key, bool v)
{
    put_key(o, key);
    put(o, v ? "true\n" : "false\n");
}

/* The host as written, else the resolved address; IPv6 in brackets. `wg
 * showconf` shows the resolved address, so wg_only prefers it. */
static void put_endpoint(struct out *o, const struct config_peer *p, bool prefer_resolved)
{
    char buf[64];
    const char *host = p->has_endpoint ? p->endpoint_host : NULL;
    uint16_t port = p->endpoint_port;

    if (p->endpoint.family && (prefer_resolved || !host)) {
        struct config_prefix a = { .family = p->endpoint.family, .cidr = 0 };
        memcpy(a.addr, p->endpoint.addr, sizeof(a.addr));
        config_prefix_format(&a, buf, sizeof(buf));
        *strrchr(buf, '/') = '\0';
        host = buf;
        port = p->endpoint.port;
    }
    if (!host)
        return;
    if (!*host || !writable(host, true, true) || port == 0) {
        out_fail(o, EINVAL);
        return;
    }
    put_key(o, "Endpoint");
    put(o, strchr(host, ':') ? "[" : "");
    put(o, host);
    put(o, strchr(host, ':') ? "]:" : ":");
    put_uint(o, port, 10);
    put(o, "\n");
}

static bool all_zero(const uint8_t *k, size_t n)
{
    uint8_t acc = 0;

    for (size_t i = 0; i < n; i++)
        acc |= k[i];
    return acc == 0;
}

static void put_interface(struct out *o, const struct config *c, bool wg_only)
{
    put(o, "[Interface]\n");
    if (c->has_private_key && (!wg_only || !all_zero(c->private_key, CONFIG_KEY_LEN)))
        put_base64(o, "PrivateKey", c->private_key);
    if (c->has_listen_port && (!wg_only || c->listen_port))
        put_number(o, "ListenPort", c->listen_port, false, 10);
    if (c->has_fwmark && (!wg_only || c->fwmark))
        put_number(o, "FwMark", c->fwmark, true, 16);
    if (wg_only)
        return;
    put_prefixes(o, "Address", c->addresses, c->n_addresses);
    put_list(o, "DNS", &c->dns, true);
    if (c->has_mtu)
        put_number(o, "MTU", c->mtu, false, 10);
    put_string(o, "Table", c->table);
    put_hooks(o, "PreUp", &c->pre_up);
    put_hooks(o, "PostUp", &c->post_up);
    put_hooks(o, "PreDown", &c->pre_down);
    put_hooks(o, "PostDown", &c->post_down);
    if (c->save_config)
        put_bool(o, "SaveConfig", true);
    put_string(o, "VirtualAdapterMode", c->virtual_adapter_mode);
    put_string(o, "EnableDefaultGateway", c->enable_default_gateway);
}

static void put_peer(struct out *o, const struct config_peer *p, bool wg_only)
{
    put(o, "\n[Peer]\n");
    put_base64(o, "PublicKey", p->public_key);
    if (p->has_preshared_key && (!wg_only || !all_zero(p->preshared_key, CONFIG_KEY_LEN)))
        put_base64(o, "PresharedKey", p->preshared_key);
    put_prefixes(o, "AllowedIPs", p->allowed_ips, p->n_allowed_ips);
    put_endpoint(o, p, wg_only);
    if (p->has_persistent_keepalive && (!wg_only || p->persistent_keepalive))
        put_number(o, "PersistentKeepalive", p->persistent_keepalive, true, 10);
    if (wg_only)
        return;
    put_prefixes(o, "DisallowedIPs", p->disallowed_ips, p->n_disallowed_ips);
    put_list(o, "AllowedApps", &p->allowed_apps, false);
    put_list(o, "DisallowedApps", &p->disallowed_apps, false);
    put_string(o, "Socks5Proxy", p->socks5_proxy);
    put_string(o, "Socks5ProxyUsername", p->socks5_proxy_username);
    put_string(o, "Socks5ProxyPassword", p->socks5_proxy_password);
    if (p->has_socks5_proxy_all_traffic)
        put_bool(o, "Socks5ProxyAllTraffic", p->socks5_proxy_all_traffic);
}

char *config_print(const struct config *c, bool wg_only)
{
    struct out o = { NULL, 0, 0, 0 };

    put_interface(&o, c, wg_only);
    for (size_t i = 0; i < c->n_peers; i++)
        put_peer(&o, &c->peers[i], wg_only);
    if (o.error) {
        if (o.buf) {
            wb_memzero(o.buf, o.len);
            free(o.buf);
        }
        errno = o.error;
        return NULL;
    }
    return o.buf;
}
