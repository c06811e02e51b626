/* SPDX-License-Identifier: MIT */
/*
 * uapi.c - the UAPI text codec: the incremental set parser and the get
 * formatter (text <-> struct config). The socket server is uapi_server.c,
 * the stats codec uapi_stats.c. Protocol facts: wireguard-go
 * device/uapi.go and wireguard-tools src/ipc-uapi.h; uapi.h says where we
 * differ.
 */
#include "datapath/uapi.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/random.h"

#define KEY_HEX_LEN (2 * CONFIG_KEY_LEN)
/* The longest line the get formatter writes (a key line is 77 bytes). */
#define MAX_LINE 256
#define ERR_LEN 160
#define PROTOCOL_VERSION "1"

/* ============================================================ set parser */

struct set_parser {
    struct config *c;
    bool in_peer;                     /* a public_key= line opened the last peer */
    bool dummy;                       /* that peer was removed: check, don't store */
    unsigned line;
    char *err;
    size_t errlen;
};

static int fail(struct set_parser *sp, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct set_parser *sp, int code, const char *fmt, ...)
{
    if (sp->err && sp->errlen) {
        int n = snprintf(sp->err, sp->errlen, "line %u: ", sp->line);
        va_list ap;
        va_start(ap, fmt);
        if (n >= 0 && (size_t)n < sp->errlen)
            vsnprintf(sp->err + n, sp->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Exactly 64 hex digits, either case (wb_key_from_hex: libsodium's
 * constant-time hex2bin). Wipes out on failure. */
static bool parse_key(uint8_t out[CONFIG_KEY_LEN], const char *s)
{
    if (wb_key_from_hex(out, s) == 0)
        return true;
    wb_memzero(out, CONFIG_KEY_LEN);
    return false;
}

/* Decimal digits only (no sign, no space), at most max: Go's ParseUint. */
bool uapi_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        unsigned d = (unsigned)(*s - '0');
        if (v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static bool is_true(const char *v)
{
    return strcmp(v, "true") == 0;
}

/* "a.b.c.d:port" or "[v6]:port", IP literals only (netip.ParseAddrPort). */
static int parse_endpoint(struct config_peer *p, const char *v)
{
    struct wb_endpoint ep = { 0 };
    char host[INET6_ADDRSTRLEN];
    const char *start = v, *port, *end;
    uint64_t port_v;

    if (v[0] == '[') {
        start = v + 1;
        end = strchr(start, ']');
        if (!end || end[1] != ':')
            return -EINVAL;
        port = end + 2;
        ep.family = 6;
    } else {
        end = strrchr(v, ':');
        if (!end)
            return -EINVAL;
        port = end + 1;
        ep.family = 4;
    }
    size_t hlen = (size_t)(end - start);
    if (hlen == 0 || hlen >= sizeof(host))
        return -EINVAL;
    memcpy(host, start, hlen);
    host[hlen] = '\0';
    if (inet_pton(ep.family == 6 ? AF_INET6 : AF_INET, host, ep.addr) != 1)
        return -EINVAL;
    if (!uapi_parse_uint(port, UINT16_MAX, &port_v))
        return -EINVAL;
    char *dup = strdup(host);
    if (!dup)
        return -ENOMEM;
    ep.port = (uint16_t)port_v;
    free(p->endpoint_host);
    p->endpoint_host = dup;
    p->endpoint_port = ep.port;
    p->has_endpoint = true;
    p->endpoint = ep;
    return 0;
}

static bool prefix_equal(const struct config_prefix *a, const struct config_prefix *b)
{
    return a->family == b->family && a->cidr == b->cidr &&
           memcmp(a->addr, b->addr, a->family == 4 ? 4 : 16) == 0;
}

static void prefix_drop(struct config_prefix *v, size_t *n, const struct config_prefix *p)
{
    for (size_t i = 0; i < *n; i++) {
        if (prefix_equal(&v[i], p)) {
            memmove(&v[i], &v[i + 1], (*n - i - 1) * sizeof(*v));
            (*n)--;
            return;
        }
    }
}

static int prefix_add_once(struct config_prefix **v, size_t *n, const struct config_prefix *p)
{
    for (size_t i = 0; i < *n; i++)
        if (prefix_equal(&(*v)[i], p))
            return 0;
    return config_prefixes_add(v, n, p);
}

/* "addr/bits" with bits in plain decimal (netip.ParsePrefix: the length is
 * required, no leading zeros, no zone). */
static int parse_prefix(struct config_prefix *p, const char *s)
{
    const char *slash = strchr(s, '/');

    if (!slash || strchr(s, '%'))
        return -EINVAL;
    const char *bits = slash + 1;
    size_t nbits = strlen(bits);
    if (nbits == 0 || nbits > 3 || (nbits > 1 && bits[0] == '0'))
        return -EINVAL;
    for (size_t i = 0; i < nbits; i++)
        if (bits[i] < '0' || bits[i] > '9')
            return -EINVAL;
    if (config_prefix_parse(p, s) != 0)
        return -EINVAL;
    config_prefix_normalize(p);
    return 0;
}

/* allowed_ip=<prefix> adds, allowed_ip=-<prefix> removes; the two lists
 * stay disjoint so the order a device applies them in does not matter. */
static int parse_allowed_ip(struct config_peer *p, const char *v)
{
    struct config_prefix pfx;
    bool removal = v[0] == '-';
    int r = parse_prefix(&pfx, removal ? v + 1 : v);

    if (r)
        return r;
    if (removal) {
        prefix_drop(p->allowed_ips, &p->n_allowed_ips, &pfx);
        return prefix_add_once(&p->removed_allowed_ips, &p->n_removed_allowed_ips, &pfx);
    }
    prefix_drop(p->removed_allowed_ips, &p->n_removed_allowed_ips, &pfx);
    return prefix_add_once(&p->allowed_ips, &p->n_allowed_ips, &pfx);
}

static void peer_release(struct config_peer *p)
{
    free(p->endpoint_host);
    free(p->allowed_ips);
    free(p->removed_allowed_ips);
    wb_memzero(p, sizeof(*p));
}

static void drop_allowed_ips(struct config_peer *p)
{
    free(p->allowed_ips);
    free(p->removed_allowed_ips);
    p->allowed_ips = p->removed_allowed_ips = NULL;
    p->n_allowed_ips = p->n_removed_allowed_ips = 0;
}

static bool is_peer_key(const char *key)
{
    static const char *const keys[] = {
        "update_only", "remove", "preshared_key", "endpoint", "persistent_keepalive_interval",
        "replace_allowed_ips", "allowed_ip", "protocol_version",
    };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (!strcmp(key, keys[i]))
            return true;
    return false;
}

static int device_line(struct set_parser *sp, const char *key, const char *v)
{
    struct config *c = sp->c;
    uint64_t n;

    if (!strcmp(key, "private_key")) {
        if (!parse_key(c->private_key, v))
            return fail(sp, -EINVAL, "private_key: not 64 hex digits");
        c->has_private_key = true;
    } else if (!strcmp(key, "listen_port")) {
        if (!uapi_parse_uint(v, UINT16_MAX, &n))
            return fail(sp, -EINVAL, "listen_port: not a port number");
        c->has_listen_port = true;
        c->listen_port = (uint16_t)n;
    } else if (!strcmp(key, "fwmark")) {
        if (!uapi_parse_uint(v, UINT32_MAX, &n))
            return fail(sp, -EINVAL, "fwmark: not a 32-bit number");
        c->has_fwmark = true;
        c->fwmark = (uint32_t)n;
    } else if (!strcmp(key, "replace_peers")) {
        if (!is_true(v))
            return fail(sp, -EINVAL, "replace_peers: only \"true\" is valid");
        c->replace_peers = true;
    } else if (is_peer_key(key)) {
        return fail(sp, -EINVAL, "%s: peer key before any public_key", key);
    } else {
        return fail(sp, -EINVAL, "%s: unknown device key", key);
    }
    return 0;
}

static int flag_line(struct set_parser *sp, const char *key, const char *v, bool *flag)
{
    if (!is_true(v))
        return fail(sp, -EINVAL, "%s: only \"true\" is valid", key);
    *flag = true;
    return 0;
}

static int peer_value_line(struct set_parser *sp, struct config_peer *p, const char *key,
                           const char *v)
{
    uint64_t n;
    int r;

    if (!strcmp(key, "preshared_key")) {
        if (!parse_key(p->preshared_key, v))
            return fail(sp, -EINVAL, "preshared_key: not 64 hex digits");
        p->has_preshared_key = true;
    } else if (!strcmp(key, "endpoint")) {
        r = parse_endpoint(p, v);
        if (r)
            return fail(sp, r, "endpoint: not ip:port or [ip6]:port");
    } else if (!strcmp(key, "persistent_keepalive_interval")) {
        if (!uapi_parse_uint(v, UINT16_MAX, &n))
            return fail(sp, -EINVAL, "persistent_keepalive_interval: not 0-65535");
        p->has_persistent_keepalive = true;
        p->persistent_keepalive = (uint16_t)n;
    } else if (!strcmp(key, "allowed_ip")) {
        r = parse_allowed_ip(p, v);
        if (r)
            return fail(sp, r, "allowed_ip: not a prefix");
    } else if (!strcmp(key, "protocol_version")) {
        if (strcmp(v, PROTOCOL_VERSION) != 0)
            return fail(sp, -EINVAL, "protocol_version: only " PROTOCOL_VERSION " is supported");
    } else {
        return fail(sp, -EINVAL, "%s: unknown peer key", key);
    }
    return 0;
}

static int peer_line(struct set_parser *sp, const char *key, const char *v)
{
    struct config_peer *p = &sp->c->peers[sp->c->n_peers - 1];
    struct config_peer scratch;
    int r;

    if (!strcmp(key, "remove")) {
        r = flag_line(sp, key, v, &p->remove);
        if (!r)
            sp->dummy = true;
        return r;
    }
    if (!strcmp(key, "update_only"))
        return flag_line(sp, key, v, &p->update_only);
    if (!strcmp(key, "replace_allowed_ips")) {
        r = flag_line(sp, key, v, &p->replace_allowed_ips);
        if (!r)
            drop_allowed_ips(p);   /* sequentially, replacing undoes the lines before */
        return r;
    }
    if (!sp->dummy)
        return peer_value_line(sp, p, key, v);
    memset(&scratch, 0, sizeof(scratch));
    r = peer_value_line(sp, &scratch, key, v);
    peer_release(&scratch);
    return r;
}

static int public_key_line(struct set_parser *sp, const char *v)
{
    uint8_t key[CONFIG_KEY_LEN];
    struct config_peer *p;

    if (!parse_key(key, v))
        return fail(sp, -EINVAL, "public_key: not 64 hex digits");
    p = config_add_peer(sp->c);
    if (!p)
        return fail(sp, -ENOMEM, "out of memory");
    memcpy(p->public_key, key, sizeof(key));
    sp->in_peer = true;
    sp->dummy = false;
    return 0;
}

static int parse_line(struct set_parser *sp, char *line, size_t n)
{
    char *eq;

    if (memchr(line, '\0', n))
        return fail(sp, -EINVAL, "NUL byte in line");
    eq = strchr(line, '=');
    if (!eq)
        return fail(sp, -EPROTO, "no '=' in line");
    *eq = '\0';
    if (!strcmp(line, "public_key"))
        return public_key_line(sp, eq + 1);
    if (!sp->in_peer)
        return device_line(sp, line, eq + 1);
    return peer_line(sp, line, eq + 1);
}

/* ======================================================= the line feeder */

struct uapi_set_parser {
    struct set_parser sp;             /* .c = &change; .line counts every line */
    struct config change;
    int error;                        /* the first; lines after it are not parsed */
    bool done;                        /* the blank line was seen */
    bool overlong;                    /* dropping the rest of a line too long */
    size_t line_len;                  /* bytes of the line being assembled */
    char err[ERR_LEN];
    char line[UAPI_MAX_LINE + 1];     /* may hold a key: wiped after each line */
};

struct uapi_set_parser *uapi_set_parser_create(void)
{
    struct uapi_set_parser *p = malloc(sizeof(*p));

    if (!p)
        return NULL;
    memset(p, 0, offsetof(struct uapi_set_parser, line));
    config_init(&p->change);
    p->sp.c = &p->change;
    p->sp.err = p->err;
    p->sp.errlen = sizeof(p->err);
    return p;
}

/* The first error counts; the change made so far goes at once (nothing of
 * it will be applied, and a long request may follow). */
static void record_error(struct uapi_set_parser *p, int r)
{
    if (p->error || !r)
        return;
    p->error = r;
    config_free(&p->change);
    config_init(&p->change);
}

/* p->line[0..line_len) is a whole line (its '\n' seen, or the end of
 * input): the end of the request if blank, else parsed unless an error
 * came before. */
static void end_line(struct uapi_set_parser *p)
{
    size_t n = p->line_len;

    p->sp.line++;
    p->line_len = 0;
    if (n == 0) {
        p->done = true;
        return;
    }
    if (!p->error) {
        p->line[n] = '\0';
        record_error(p, parse_line(&p->sp, p->line, n));
    }
    wb_memzero(p->line, n + 1);
}

/* The line being assembled would pass UAPI_MAX_LINE: refuse it unread and
 * drop the rest of it as it comes. */
static void line_too_long(struct uapi_set_parser *p)
{
    wb_memzero(p->line, p->line_len);
    p->line_len = 0;
    p->overlong = true;
    p->sp.line++;                     /* it is never blank: not the end */
    if (!p->error)
        record_error(p, fail(&p->sp, -EINVAL, "longer than %u bytes", UAPI_MAX_LINE));
}

int uapi_set_parser_feed(struct uapi_set_parser *p, const char *data, size_t len, size_t *used)
{
    size_t i = 0;

    while (i < len && !p->done) {
        const char *nl = memchr(data + i, '\n', len - i);
        size_t n = nl ? (size_t)(nl - (data + i)) : len - i;

        if (p->overlong) {
            p->overlong = !nl;        /* its '\n' ends it */
        } else if (p->line_len + n > UAPI_MAX_LINE) {
            line_too_long(p);
            p->overlong = !nl;
        } else {
            memcpy(p->line + p->line_len, data + i, n);
            p->line_len += n;
            if (nl)
                end_line(p);
        }
        i += n + (nl ? 1 : 0);
    }
    *used = i;
    return p->done;
}

int uapi_set_parser_finish(struct uapi_set_parser *p, struct config *change)
{
    if (!p->done && !p->overlong && p->line_len)
        end_line(p);                  /* the end of input ends the last line */
    config_init(change);
    if (p->error)
        return p->error;
    *change = p->change;              /* handed over: the parser forgets it */
    config_init(&p->change);
    return 0;
}

const char *uapi_set_parser_error(const struct uapi_set_parser *p)
{
    return p->error ? p->err : "";
}

void uapi_set_parser_destroy(struct uapi_set_parser *p)
{
    if (!p)
        return;
    config_free(&p->change);
    wb_memzero(p, sizeof(*p));
    free(p);
}

int uapi_parse_set(const char *body, size_t len, struct config *change, char *err, size_t errlen)
{
    struct uapi_set_parser *p = uapi_set_parser_create();
    size_t used;
    int r;

    config_init(change);
    if (err && errlen)
        err[0] = '\0';
    if (!p) {
        if (err && errlen)
            snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    uapi_set_parser_feed(p, body, len, &used);
    r = uapi_set_parser_finish(p, change);
    if (r && err && errlen)
        snprintf(err, errlen, "%s", uapi_set_parser_error(p));
    uapi_set_parser_destroy(p);
    return r;
}

/* ========================================================= get formatter */

/* A growing string that never leaves a copy of its contents behind: it
 * holds the private key. */
struct text {
    char *p;
    size_t len, cap;
    bool oom;
};

static void text_append(struct text *t, const char *s, size_t n)
{
    if (t->oom)
        return;
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 1024;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *p = malloc(cap);
        if (!p) {
            t->oom = true;
            return;
        }
        if (t->len)
            memcpy(p, t->p, t->len);
        if (t->p) {
            wb_memzero(t->p, t->cap);
            free(t->p);
        }
        t->p = p;
        t->cap = cap;
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = '\0';
}

static void text_linef(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void text_linef(struct text *t, const char *fmt, ...)
{
    char line[MAX_LINE];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(line) - 1) {
        t->oom = true;                /* cannot happen: every line is short */
        return;
    }
    line[n++] = '\n';
    text_append(t, line, (size_t)n);
    wb_memzero(line, (size_t)n);      /* it may have been a key */
}

/* "name=value\n" (name with its '='), without printf: a dump of 100,000
 * peers is a million lines, and vfprintf was a third of its cost. */
static void text_str(struct text *t, const char *name_eq, const char *value)
{
    text_append(t, name_eq, strlen(name_eq));
    text_append(t, value, strlen(value));
    text_append(t, "\n", 1);
}

static void text_u64(struct text *t, const char *name_eq, uint64_t v)
{
    char digits[21], *d = digits + sizeof(digits);

    do {
        *--d = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    text_append(t, name_eq, strlen(name_eq));
    text_append(t, d, (size_t)(digits + sizeof(digits) - d));
    text_append(t, "\n", 1);
}

static void text_key(struct text *t, const char *name, const uint8_t key[CONFIG_KEY_LEN])
{
    static const char digits[] = "0123456789abcdef";
    char line[32 + KEY_HEX_LEN + 2];
    size_t n = strlen(name);

    if (n > 30) {
        t->oom = true;                /* cannot happen: our own names */
        return;
    }
    memcpy(line, name, n);
    line[n++] = '=';
    for (size_t i = 0; i < CONFIG_KEY_LEN; i++) {
        line[n++] = digits[key[i] >> 4];
        line[n++] = digits[key[i] & 0xf];
    }
    line[n++] = '\n';
    text_append(t, line, n);
    wb_memzero(line, sizeof(line));   /* it may have been a private key */
}

static bool key_is_zero(const uint8_t key[CONFIG_KEY_LEN])
{
    uint8_t acc = 0;
    for (size_t i = 0; i < CONFIG_KEY_LEN; i++)
        acc |= key[i];
    return acc == 0;
}

static void text_endpoint(struct text *t, const struct wb_endpoint *ep)
{
    char host[INET6_ADDRSTRLEN];

    if (ep->family != 4 && ep->family != 6)
        return;
    if (!inet_ntop(ep->family == 6 ? AF_INET6 : AF_INET, ep->addr, host, sizeof(host)))
        return;
    if (ep->family == 6)
        text_linef(t, "endpoint=[%s]:%u", host, (unsigned)ep->port);
    else
        text_linef(t, "endpoint=%s:%u", host, (unsigned)ep->port);
}

static void text_peer(struct text *t, const struct config_peer *p)
{
    static const uint8_t zero[CONFIG_KEY_LEN];
    char buf[64];

    text_key(t, "public_key", p->public_key);
    text_key(t, "preshared_key", p->has_preshared_key ? p->preshared_key : zero);
    text_str(t, "protocol_version=", PROTOCOL_VERSION);
    text_endpoint(t, &p->endpoint);
    text_u64(t, "last_handshake_time_sec=", p->has_stats ? p->last_handshake_time_sec : 0);
    text_u64(t, "last_handshake_time_nsec=", p->has_stats ? p->last_handshake_time_nsec : 0);
    text_u64(t, "tx_bytes=", p->has_stats ? p->tx_bytes : 0);
    text_u64(t, "rx_bytes=", p->has_stats ? p->rx_bytes : 0);
    text_u64(t, "persistent_keepalive_interval=",
             p->has_persistent_keepalive ? p->persistent_keepalive : 0);
    for (size_t i = 0; i < p->n_allowed_ips; i++)
        text_str(t, "allowed_ip=", config_prefix_format(&p->allowed_ips[i], buf, sizeof(buf)));
}

char *uapi_format_get(const struct config *c)
{
    struct text t = { 0 };

    text_append(&t, "", 0);           /* an empty config is "" , not NULL */
    if (c->has_private_key && !key_is_zero(c->private_key))
        text_key(&t, "private_key", c->private_key);
    if (c->has_listen_port && c->listen_port)
        text_linef(&t, "listen_port=%u", (unsigned)c->listen_port);
    if (c->has_fwmark && c->fwmark)
        text_linef(&t, "fwmark=%u", (unsigned)c->fwmark);
    for (size_t i = 0; i < c->n_peers; i++)
        text_peer(&t, &c->peers[i]);
    if (t.oom) {
        if (t.p)
            wb_memzero(t.p, t.cap);
        free(t.p);
        return NULL;
    }
    return t.p;
}

int uapi_reply_line(char *line, const char **key, const char **val, int *err)
{
    char *eq = strchr(line, '=');
    long e;
    char *end;

    if (!eq)
        return -EPROTO;
    *eq = '\0';
    *key = line;
    *val = eq + 1;
    if (strcmp(line, "errno") != 0)
        return 0;
    errno = 0;
    e = strtol(*val, &end, 10);
    if (errno || end == *val || *end || e < INT32_MIN || e > INT32_MAX)
        return -EPROTO;
    *err = (int)(e < 0 ? e : -e);
    return 1;
}

void uapi_text_free(char *s)
{
    if (!s)
        return;
    wb_memzero(s, strlen(s));
    free(s);
}
