/* SPDX-License-Identifier: MIT */
/*
 * config_parse.c - reads wg-quick / wg(8) configuration text into a struct
 * config: [Interface] and [Peer] sections, case-insensitive keys, '#'
 * comments, comma-separated lists, the wg-quick keys, and WireSock's keys
 * both bare and as "#@ws:Key = value" comment lines. Every error is one line
 * "<name>:<line>: <Key>: <why>" that never quotes a secret.
 *
 * Keys are described by a table (kind + field offsets), so adding one is a
 * line in `keys` rather than a new function.
 */
#include "proto/config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/random.h"

#define MAX_FILE_SIZE (16u << 20)
#define MAX_SHOWN_VALUE 64
#define MAX_SHOWN_KEY 32
#define WS_PREFIX "#@ws:"

enum section { SEC_NONE, SEC_INTERFACE, SEC_PEER };

enum kind {
    K_KEY,         /* base64 key at off, bool at aux */
    K_PUBLIC_KEY,  /* the peer's identity: once per peer, unique */
    K_NUMBER,      /* uint16_t/uint32_t (F_U32) at off, bool at aux (or NO_AUX) */
    K_BOOL,        /* bool at off, bool at aux (or NO_AUX) */
    K_STRING,      /* char * at off, replaced when repeated */
    K_HOOK,        /* struct config_strings at off, the whole value is one item */
    K_LIST,        /* struct config_strings at off, comma-separated */
    K_WORDS,       /* struct config_strings at off, split on ',' and whitespace */
    K_ADDRESSES,   /* prefixes at off, count at aux, host bits kept, ',' and space */
    K_NETWORKS,    /* prefixes at off, count at aux, normalized, ',' */
    K_ENDPOINT,
};

#define F_U32 1u        /* 32-bit number */
#define F_HEX 2u        /* "0x..." accepted */
#define F_OFF 4u        /* "off" means 0 */
#define F_SECRET 8u     /* wipe the old value when replaced */
#define NO_AUX SIZE_MAX

struct key_def {
    const char *name;
    enum section section;
    bool wiresock;
    enum kind kind;
    size_t off, aux;
    uint32_t min, max;
    unsigned flags;
};

#define IF(f) offsetof(struct config, f)
#define PE(f) offsetof(struct config_peer, f)

static const struct key_def keys[] = {
    { "PrivateKey", SEC_INTERFACE, false, K_KEY, IF(private_key), IF(has_private_key), 0, 0, 0 },
    { "ListenPort", SEC_INTERFACE, false, K_NUMBER, IF(listen_port), IF(has_listen_port), 0, 65535, 0 },
    { "FwMark", SEC_INTERFACE, false, K_NUMBER, IF(fwmark), IF(has_fwmark), 0, UINT32_MAX,
      F_U32 | F_HEX | F_OFF },
    { "Address", SEC_INTERFACE, false, K_ADDRESSES, IF(addresses), IF(n_addresses), 0, 0, 0 },
    { "DNS", SEC_INTERFACE, false, K_WORDS, IF(dns), NO_AUX, 0, 0, 0 },
    { "MTU", SEC_INTERFACE, false, K_NUMBER, IF(mtu), IF(has_mtu), 68, 65535, 0 },
    { "Table", SEC_INTERFACE, false, K_STRING, IF(table), NO_AUX, 0, 0, 0 },
    { "PreUp", SEC_INTERFACE, false, K_HOOK, IF(pre_up), NO_AUX, 0, 0, 0 },
    { "PostUp", SEC_INTERFACE, false, K_HOOK, IF(post_up), NO_AUX, 0, 0, 0 },
    { "PreDown", SEC_INTERFACE, false, K_HOOK, IF(pre_down), NO_AUX, 0, 0, 0 },
    { "PostDown", SEC_INTERFACE, false, K_HOOK, IF(post_down), NO_AUX, 0, 0, 0 },
    { "SaveConfig", SEC_INTERFACE, false, K_BOOL, IF(save_config), NO_AUX, 0, 0, 0 },
    { "VirtualAdapterMode", SEC_INTERFACE, true, K_STRING, IF(virtual_adapter_mode), NO_AUX, 0, 0, 0 },
    { "EnableDefaultGateway", SEC_INTERFACE, true, K_STRING, IF(enable_default_gateway), NO_AUX,
      0, 0, 0 },
    { "PublicKey", SEC_PEER, false, K_PUBLIC_KEY, PE(public_key), NO_AUX, 0, 0, 0 },
    { "PresharedKey", SEC_PEER, false, K_KEY, PE(preshared_key), PE(has_preshared_key), 0, 0, 0 },
    { "AllowedIPs", SEC_PEER, false, K_NETWORKS, PE(allowed_ips), PE(n_allowed_ips), 0, 0, 0 },
    { "Endpoint", SEC_PEER, false, K_ENDPOINT, 0, NO_AUX, 0, 0, 0 },
    { "PersistentKeepalive", SEC_PEER, false, K_NUMBER, PE(persistent_keepalive),
      PE(has_persistent_keepalive), 0, 65535, F_OFF },
    { "AllowedApps", SEC_PEER, true, K_LIST, PE(allowed_apps), NO_AUX, 0, 0, 0 },
    { "DisallowedApps", SEC_PEER, true, K_LIST, PE(disallowed_apps), NO_AUX, 0, 0, 0 },
    { "DisallowedIPs", SEC_PEER, true, K_NETWORKS, PE(disallowed_ips), PE(n_disallowed_ips), 0, 0, 0 },
    { "Socks5Proxy", SEC_PEER, true, K_STRING, PE(socks5_proxy), NO_AUX, 0, 0, 0 },
    { "Socks5ProxyUsername", SEC_PEER, true, K_STRING, PE(socks5_proxy_username), NO_AUX, 0, 0, 0 },
    { "Socks5ProxyPassword", SEC_PEER, true, K_STRING, PE(socks5_proxy_password), NO_AUX, 0, 0,
      F_SECRET },
    { "Socks5ProxyAllTraffic", SEC_PEER, true, K_BOOL, PE(socks5_proxy_all_traffic),
      PE(has_socks5_proxy_all_traffic), 0, 0, 0 },
};

/* A peer's PublicKey and where it was written, for the duplicate check. */
struct pk_seen {
    uint8_t key[CONFIG_KEY_LEN];
    unsigned line;
    unsigned peer_line;
};

struct parser {
    struct config *c;
    const char *name;
    char *err;
    size_t errlen;
    unsigned line;
    enum section section;
    unsigned *pk_line;     /* per peer: the line of its PublicKey, 0 = none yet */
    size_t pk_cap;
};

/* ------------------------------------------------------------- characters */

static bool is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

static bool is_control(char ch)
{
    return ((unsigned char)ch < 0x20 && ch != '\t') || ch == 0x7f;
}

static char lower(char ch)
{
    return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

static bool eq_nocase(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (lower(*a) != lower(*b))
            return false;
    return *a == *b;
}

static char *trim(char *s)
{
    char *end;

    while (is_space(*s))
        s++;
    end = s + strlen(s);
    while (end > s && is_space(end[-1]))
        end--;
    *end = '\0';
    return s;
}

static bool has_control(const char *s)
{
    for (; *s; s++)
        if (is_control(*s))
            return true;
    return false;
}

/* ----------------------------------------------------------------- errors */

struct text {
    char *buf;
    size_t cap, pos;
};

/* Append at most max bytes of s, control characters shown as '?'. */
static void text_put(struct text *t, const char *s, size_t max)
{
    for (size_t i = 0; s[i] && i < max; i++)
        if (t->pos + 1 < t->cap)
            t->buf[t->pos++] = is_control(s[i]) ? '?' : s[i];
    if (t->cap)
        t->buf[t->pos] = '\0';
}

static void text_putu(struct text *t, unsigned long v)
{
    char tmp[24];
    size_t i = sizeof(tmp) - 1;

    tmp[i] = '\0';
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    text_put(t, tmp + i, SIZE_MAX);
}

/* A key name as written, unless it might be something else (a secret
 * pasted without its key, say): then a placeholder. */
static const char *shown_key(const char *key)
{
    size_t n = strlen(key);

    if (n == 0)
        return "(no key)";
    if (n > MAX_SHOWN_KEY)
        return "(hidden)";
    for (size_t i = 0; i < n; i++) {
        char ch = key[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-' || ch == '.' || ch == '@' || ch == ':'))
            return "(hidden)";
    }
    return key;
}

/* Start the error line: "<name>:<line>: <key>: ". */
static struct text fail_start(struct parser *ps, const char *key)
{
    struct text t = { ps->err, ps->errlen, 0 };

    if (ps->errlen)
        ps->err[0] = '\0';
    text_put(&t, ps->name, SIZE_MAX);
    text_put(&t, ":", 1);
    text_putu(&t, ps->line);
    text_put(&t, ": ", 2);
    text_put(&t, key, SIZE_MAX);
    text_put(&t, ": ", 2);
    return t;
}

static int fail(struct parser *ps, int ret, const char *key, const char *why)
{
    struct text t = fail_start(ps, key);

    text_put(&t, ret == -ENOMEM ? "out of memory" : why, SIZE_MAX);
    return ret;
}

/* "'<value>'", cut to MAX_SHOWN_VALUE characters. Only for values that are
 * not secret. */
static void text_put_quoted(struct text *t, const char *value)
{
    text_put(t, "'", 1);
    text_put(t, value, MAX_SHOWN_VALUE);
    if (strlen(value) > MAX_SHOWN_VALUE)
        text_put(t, "...", 3);
    text_put(t, "'", 1);
}

static int fail_value(struct parser *ps, const char *key, const char *value, const char *why)
{
    struct text t = fail_start(ps, key);

    text_put_quoted(&t, value);
    text_put(&t, " ", 1);
    text_put(&t, why, SIZE_MAX);
    return -EINVAL;
}

/* ----------------------------------------------------------------- values */

static bool parse_number(const char *s, uint32_t max, bool hex, uint32_t *out)
{
    unsigned base = 10;
    uint64_t v = 0;

    if (hex && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (!*s)
        return false;
    for (; *s; s++) {
        char ch = lower(*s);
        unsigned d;
        if (ch >= '0' && ch <= '9')
            d = (unsigned)(ch - '0');
        else if (base == 16 && ch >= 'a' && ch <= 'f')
            d = (unsigned)(ch - 'a' + 10);
        else
            return false;
        v = v * base + d;
        if (v > max)
            return false;
    }
    *out = (uint32_t)v;
    return true;
}

static int set_number(struct parser *ps, const struct key_def *k, void *base, const char *value)
{
    uint32_t v;

    if ((k->flags & F_OFF) && eq_nocase(value, "off")) {
        v = 0;
    } else if (!parse_number(value, k->max, k->flags & F_HEX, &v) || v < k->min) {
        struct text t = fail_start(ps, k->name);
        text_put_quoted(&t, value);
        text_put(&t, " is not a number from ", SIZE_MAX);
        text_putu(&t, k->min);
        text_put(&t, " to ", SIZE_MAX);
        text_putu(&t, k->max);
        if (k->flags & F_HEX)
            text_put(&t, " (decimal or 0x hex)", SIZE_MAX);
        if (k->flags & F_OFF)
            text_put(&t, " or 'off'", SIZE_MAX);
        return -EINVAL;
    }
    if (k->flags & F_U32)
        *(uint32_t *)((char *)base + k->off) = v;
    else
        *(uint16_t *)((char *)base + k->off) = (uint16_t)v;
    return 0;
}

static int set_bool(struct parser *ps, const struct key_def *k, void *base, const char *value)
{
    bool v;

    if (eq_nocase(value, "true"))
        v = true;
    else if (eq_nocase(value, "false"))
        v = false;
    else
        return fail_value(ps, k->name, value, "is not true or false");
    *(bool *)((char *)base + k->off) = v;
    return 0;
}

static int set_string(struct parser *ps, const struct key_def *k, void *base, const char *value)
{
    char **slot = (char **)((char *)base + k->off);
    size_t len = strlen(value);
    char *dup;

    if (!*value)
        return fail(ps, -EINVAL, k->name, "missing value");
    dup = malloc(len + 1);
    if (!dup)
        return fail(ps, -ENOMEM, k->name, NULL);
    memcpy(dup, value, len + 1);
    if (*slot && (k->flags & F_SECRET))
        wb_memzero(*slot, strlen(*slot));
    free(*slot);
    *slot = dup;
    return 0;
}

/* The next non-empty, trimmed item of a list, or NULL at the end. */
static char *next_item(char **cursor, bool split_space)
{
    while (**cursor) {
        char *item = *cursor, *end = item;

        while (*end && *end != ',' && !(split_space && is_space(*end)))
            end++;
        *cursor = *end ? end + 1 : end;
        *end = '\0';
        item = trim(item);
        if (*item)
            return item;
    }
    return NULL;
}

static int set_list(struct parser *ps, const struct key_def *k, void *base, char *value)
{
    struct config_strings *l = (struct config_strings *)((char *)base + k->off);
    char *item;

    if (k->kind == K_HOOK) {
        if (!*value)
            return fail(ps, -EINVAL, k->name, "missing value");
        return config_strings_add(l, value) ? fail(ps, -ENOMEM, k->name, NULL) : 0;
    }
    while ((item = next_item(&value, k->kind == K_WORDS)))
        if (config_strings_add(l, item))
            return fail(ps, -ENOMEM, k->name, NULL);
    return 0;
}

static int set_prefixes(struct parser *ps, const struct key_def *k, void *base, char *value)
{
    struct config_prefix **v = (struct config_prefix **)((char *)base + k->off);
    size_t *n = (size_t *)((char *)base + k->aux);
    struct config_prefix p;
    char *item;

    while ((item = next_item(&value, k->kind == K_ADDRESSES))) {
        if (config_prefix_parse(&p, item))
            return fail_value(ps, k->name, item, "is not an IP prefix");
        if (k->kind == K_NETWORKS)
            config_prefix_normalize(&p);
        if (config_prefixes_add(v, n, &p))
            return fail(ps, -ENOMEM, k->name, NULL);
    }
    return 0;
}

static int set_key(struct parser *ps, const struct key_def *k, void *base, const char *value)
{
    if (wb_key_from_base64((uint8_t *)base + k->off, value))
        return fail(ps, -EINVAL, k->name, "not a base64 WireGuard key");
    return 0;
}

static int set_public_key(struct parser *ps, const struct key_def *k, struct config_peer *peer,
                          const char *value)
{
    unsigned *seen = &ps->pk_line[ps->c->n_peers - 1];

    if (*seen)
        return fail(ps, -EINVAL, k->name, "given twice in one [Peer]");
    if (set_key(ps, k, peer, value))
        return -EINVAL;
    *seen = ps->line;
    return 0;
}

static int set_endpoint(struct parser *ps, const struct key_def *k, struct config_peer *peer,
                        const char *value)
{
    int ret = config_endpoint_parse(peer, value);

    if (ret == -ENOMEM)
        return fail(ps, ret, k->name, NULL);
    if (ret)
        return fail_value(ps, k->name, value, "is not host:port or [IPv6]:port (port 1 to 65535)");
    return 0;
}

/* Store one value; `value` is trimmed and may be cut up in place. */
static int set_value(struct parser *ps, const struct key_def *k, char *value)
{
    struct config_peer *peer = k->section == SEC_PEER ? &ps->c->peers[ps->c->n_peers - 1] : NULL;
    void *base = peer ? (void *)peer : (void *)ps->c;
    int ret;

    /* Lists may be empty (nothing added); strings and hooks check for themselves. */
    if (!*value && (k->kind == K_KEY || k->kind == K_PUBLIC_KEY || k->kind == K_NUMBER ||
                    k->kind == K_BOOL || k->kind == K_ENDPOINT))
        return fail(ps, -EINVAL, k->name, "missing value");
    switch (k->kind) {
    case K_KEY: ret = set_key(ps, k, base, value); break;
    case K_PUBLIC_KEY: return set_public_key(ps, k, peer, value);
    case K_NUMBER: ret = set_number(ps, k, base, value); break;
    case K_BOOL: ret = set_bool(ps, k, base, value); break;
    case K_STRING: return set_string(ps, k, base, value);
    case K_HOOK:
    case K_LIST:
    case K_WORDS: return set_list(ps, k, base, value);
    case K_ADDRESSES:
    case K_NETWORKS: return set_prefixes(ps, k, base, value);
    case K_ENDPOINT: return set_endpoint(ps, k, peer, value);
    default: return fail(ps, -EINVAL, k->name, "internal error: unknown kind");
    }
    if (!ret && k->aux != NO_AUX)
        *(bool *)((char *)base + k->aux) = true;
    return ret;
}

/* --------------------------------------------------------------- sections */

/* Called when a [Peer] ends (a new section or the end of the text). */
static int finish_peer(struct parser *ps)
{
    size_t n = ps->c->n_peers;
    struct text t;

    if (n == 0 || ps->pk_line[n - 1])
        return 0;
    ps->line = ps->c->peers[n - 1].line;
    t = fail_start(ps, "PublicKey");
    text_put(&t, "missing in [Peer] starting at line ", SIZE_MAX);
    text_putu(&t, ps->line);
    return -EINVAL;
}

static int start_peer(struct parser *ps)
{
    size_t n = ps->c->n_peers;
    struct config_peer *peer;

    if (n == ps->pk_cap) {
        size_t cap = ps->pk_cap ? 2 * ps->pk_cap : 8;
        unsigned *v = realloc(ps->pk_line, cap * sizeof(*v));
        if (!v)
            return fail(ps, -ENOMEM, "[Peer]", NULL);
        ps->pk_line = v;
        ps->pk_cap = cap;
    }
    peer = config_add_peer(ps->c);
    if (!peer)
        return fail(ps, -ENOMEM, "[Peer]", NULL);
    peer->line = ps->line;
    ps->pk_line[n] = 0;
    return 0;
}

static int section_line(struct parser *ps, char *s, bool wiresock)
{
    size_t len = strlen(s);
    char *name;
    int ret;

    if (wiresock)
        return fail(ps, -EINVAL, "#@ws", "holds only WireSock keys, not a section");
    if (s[len - 1] != ']')
        return fail(ps, -EINVAL, "(section)", "'[' without a closing ']'");
    s[len - 1] = '\0';
    name = trim(s + 1);
    ret = finish_peer(ps);
    if (ret)
        return ret;
    if (eq_nocase(name, "Interface")) {
        ps->section = SEC_INTERFACE;
        return 0;
    }
    if (eq_nocase(name, "Peer")) {
        ps->section = SEC_PEER;
        return start_peer(ps);
    }
    char shown[MAX_SHOWN_KEY + 3] = "[";
    strcat(shown, shown_key(name));
    strcat(shown, "]");
    return fail(ps, -EINVAL, shown, "unknown section");
}

static const struct key_def *find_key(const char *name)
{
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (eq_nocase(name, keys[i].name))
            return &keys[i];
    return NULL;
}

static int key_line(struct parser *ps, char *s, bool wiresock)
{
    char *eq = strchr(s, '=');
    const struct key_def *k;
    char *key, *value;

    if (!eq)
        return fail(ps, -EINVAL, shown_key(s), "expected 'Key = value'");
    *eq = '\0';
    key = trim(s);
    value = trim(eq + 1);
    k = find_key(key);
    if (!k)
        return fail(ps, -EINVAL, shown_key(key), "unknown key");
    if (wiresock && !k->wiresock)
        return fail(ps, -EINVAL, k->name, "not a WireSock key, so not allowed after #@ws:");
    if (ps->section == SEC_NONE)
        return fail(ps, -EINVAL, k->name, "outside any section");
    if (ps->section != k->section)
        return fail(ps, -EINVAL, k->name,
                    k->section == SEC_PEER ? "belongs in [Peer], not [Interface]"
                                           : "belongs in [Interface], not [Peer]");
    if (has_control(value))
        return fail(ps, -EINVAL, k->name, "value holds a control character");
    return set_value(ps, k, value);
}

static bool starts_nocase(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++)
        if (lower(*s) != lower(*prefix))
            return false;
    return true;
}

static int parse_line(struct parser *ps, char *line)
{
    char *s = trim(line), *hash;
    bool wiresock = starts_nocase(s, WS_PREFIX);

    if (wiresock)
        s += strlen(WS_PREFIX);
    hash = strchr(s, '#');
    if (hash)
        *hash = '\0';
    s = trim(s);
    if (!*s)
        return 0;
    if (*s == '[')
        return section_line(ps, s, wiresock);
    return key_line(ps, s, wiresock);
}

/* --------------------------------------------------------- whole configs */

static int pk_cmp(const void *a, const void *b)
{
    const struct pk_seen *x = a, *y = b;
    int r = memcmp(x->key, y->key, CONFIG_KEY_LEN);

    return r ? r : (x->line > y->line) - (x->line < y->line);
}

/* Two peers with one PublicKey: the error names the later one. */
static int check_duplicates(struct parser *ps)
{
    size_t n = ps->c->n_peers;
    struct pk_seen *v, *dup = NULL;
    struct text t;

    if (n < 2)
        return 0;
    v = malloc(n * sizeof(*v));
    if (!v)
        return fail(ps, -ENOMEM, "PublicKey", NULL);
    for (size_t i = 0; i < n; i++) {
        memcpy(v[i].key, ps->c->peers[i].public_key, CONFIG_KEY_LEN);
        v[i].line = ps->pk_line[i];
        v[i].peer_line = ps->c->peers[i].line;
    }
    qsort(v, n, sizeof(*v), pk_cmp);
    for (size_t i = 1; i < n; i++)
        if (!memcmp(v[i].key, v[i - 1].key, CONFIG_KEY_LEN) && (!dup || v[i].line < dup->line))
            dup = &v[i];
    if (dup) {
        ps->line = dup->line;
        t = fail_start(ps, "PublicKey");
        text_put(&t, "same as the [Peer] at line ", SIZE_MAX);
        text_putu(&t, (dup - 1)->peer_line);
    }
    free(v);
    return dup ? -EINVAL : 0;
}

static int parse_lines(struct parser *ps, char *buf)
{
    char *line = buf;
    int ret;

    for (ps->line = 1;; ps->line++) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        ret = parse_line(ps, line);
        if (ret || !nl)
            break;
        line = nl + 1;
    }
    if (!ret)
        ret = finish_peer(ps);
    if (!ret)
        ret = check_duplicates(ps);
    return ret;
}

int config_parse_text(struct config *c, const char *text, const char *name, char *err, size_t errlen)
{
    struct parser ps = { .c = c, .name = name ? name : "(config)", .err = err, .errlen = errlen };
    size_t len = strlen(text);
    char *buf = malloc(len + 1);
    int ret;

    if (errlen)
        err[0] = '\0';
    if (!buf) {
        ret = fail(&ps, -ENOMEM, "(config)", NULL);
    } else {
        memcpy(buf, text, len + 1);
        ret = parse_lines(&ps, buf);
        wb_memzero(buf, len);
        free(buf);
    }
    free(ps.pk_line);
    if (ret)
        config_free(c);
    return ret;
}

/* ------------------------------------------------------------------ files */

static int file_error(const char *path, const char *why, int ret, char *err, size_t errlen)
{
    struct text t = { err, errlen, 0 };

    if (errlen)
        err[0] = '\0';
    text_put(&t, path, SIZE_MAX);
    text_put(&t, ": ", 2);
    text_put(&t, why, SIZE_MAX);
    return ret;
}

/* Grow by moving, so that no stale copy of the key material is left. */
static int read_all(FILE *f, char **out, size_t *out_len)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);

    if (!buf)
        return -ENOMEM;
    for (;;) {
        size_t got = fread(buf + len, 1, cap - 1 - len, f);
        len += got;
        if (len < cap - 1) {
            if (ferror(f)) {
                wb_memzero(buf, len);
                free(buf);
                return -EIO;
            }
            break;
        }
        char *nb = cap > MAX_FILE_SIZE ? NULL : malloc(cap * 2);
        if (nb)
            memcpy(nb, buf, len);
        wb_memzero(buf, len);
        free(buf);
        if (!nb)
            return cap > MAX_FILE_SIZE ? -EFBIG : -ENOMEM;
        buf = nb;
        cap *= 2;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return 0;
}

int config_parse_file(struct config *c, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0;
    int ret;

    if (!f) {
        ret = -errno;
        return file_error(path, strerror(errno), ret ? ret : -EIO, err, errlen);
    }
    ret = read_all(f, &buf, &len);
    fclose(f);
    if (ret)
        return file_error(path, ret == -EFBIG ? "file too large" : "cannot read", ret, err, errlen);
    if (strlen(buf) != len) {
        struct parser ps = { .c = c, .name = path, .err = err, .errlen = errlen, .line = 1 };
        for (const char *p = buf; *p; p++)
            ps.line += *p == '\n';
        ret = fail(&ps, -EINVAL, "(file)", "holds a NUL byte");
    } else {
        ret = config_parse_text(c, buf, path, err, errlen);
    }
    wb_memzero(buf, len);
    free(buf);
    return ret;
}
