/* SPDX-License-Identifier: MIT */
/*
 * config.c - the configuration model's values: lifecycle (init, free with
 * wiping, growing the arrays), IP prefixes (parse, normalize, format per
 * RFC 5952), endpoints, and AllowedIPs minus DisallowedIPs as a minimal
 * prefix list. The address parsers are written by hand because proto/
 * builds for Windows too, where inet_pton needs Vista-level headers.
 */
#include "proto/config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/random.h"

/* ------------------------------------------------------------- lifecycle */

void config_init(struct config *c)
{
    memset(c, 0, sizeof(*c));
}

static void strings_free(struct config_strings *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static void secret_string_free(char *s)
{
    if (s) {
        wb_memzero(s, strlen(s));
        free(s);
    }
}

static void peer_free(struct config_peer *p)
{
    free(p->endpoint_host);
    free(p->allowed_ips);
    free(p->disallowed_ips);
    free(p->removed_allowed_ips);
    strings_free(&p->allowed_apps);
    strings_free(&p->disallowed_apps);
    free(p->socks5_proxy);
    free(p->socks5_proxy_username);
    secret_string_free(p->socks5_proxy_password);
    wb_memzero(p, sizeof(*p));
}

void config_free(struct config *c)
{
    for (size_t i = 0; i < c->n_peers; i++)
        peer_free(&c->peers[i]);
    free(c->peers);
    free(c->addresses);
    strings_free(&c->dns);
    free(c->table);
    strings_free(&c->pre_up);
    strings_free(&c->post_up);
    strings_free(&c->pre_down);
    strings_free(&c->post_down);
    free(c->virtual_adapter_mode);
    free(c->enable_default_gateway);
    wb_memzero(c, sizeof(*c));
}

/* The peers array has a power-of-two capacity: it is full when n is 0 or a
 * power of two. It moves by hand, not realloc, so the old copy of the
 * preshared keys can be wiped. */
struct config_peer *config_add_peer(struct config *c)
{
    size_t n = c->n_peers;

    if (n == 0 || (n & (n - 1)) == 0) {
        size_t cap = n ? 2 * n : 1;
        struct config_peer *v;

        if (cap > SIZE_MAX / sizeof(*v))
            return NULL;
        v = calloc(cap, sizeof(*v));
        if (!v)
            return NULL;
        if (n) {
            memcpy(v, c->peers, n * sizeof(*v));
            wb_memzero(c->peers, n * sizeof(*v));
        }
        free(c->peers);
        c->peers = v;
    }
    memset(&c->peers[n], 0, sizeof(c->peers[n]));
    c->n_peers = n + 1;
    return &c->peers[n];
}

int config_strings_add(struct config_strings *l, const char *s)
{
    size_t len = strlen(s);
    char *dup = malloc(len + 1);
    char **v;

    if (!dup)
        return -ENOMEM;
    memcpy(dup, s, len + 1);
    v = realloc(l->v, (l->n + 1) * sizeof(*v));
    if (!v) {
        free(dup);
        return -ENOMEM;
    }
    v[l->n++] = dup;
    l->v = v;
    return 0;
}

int config_prefixes_add(struct config_prefix **v, size_t *n, const struct config_prefix *p)
{
    struct config_prefix *nv;

    if (*n >= SIZE_MAX / sizeof(*nv) - 1)
        return -ENOMEM;
    nv = realloc(*v, (*n + 1) * sizeof(*nv));
    if (!nv)
        return -ENOMEM;
    nv[(*n)++] = *p;
    *v = nv;
    return 0;
}

/* ------------------------------------------------------------- addresses */

static int digit(char ch)
{
    return ch >= '0' && ch <= '9' ? ch - '0' : -1;
}

static int hexdigit(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Dotted quad, 1-3 digits per part, no leading zeros (as inet_pton). */
static bool parse_ipv4(const char *s, size_t len, uint8_t out[4])
{
    size_t i = 0;

    for (int part = 0; part < 4; part++) {
        unsigned v = 0, nd = 0;

        if (part) {
            if (i >= len || s[i] != '.')
                return false;
            i++;
        }
        while (i < len && digit(s[i]) >= 0) {
            if (nd == 1 && v == 0)
                return false;
            v = v * 10 + (unsigned)digit(s[i++]);
            if (++nd > 3 || v > 255)
                return false;
        }
        if (nd == 0)
            return false;
        out[part] = (uint8_t)v;
    }
    return i == len;
}

/* One IPv6 piece between colons: 1-4 hex digits. */
static bool parse_group(const char *s, size_t len, uint16_t *out)
{
    unsigned v = 0;

    if (len == 0 || len > 4)
        return false;
    for (size_t i = 0; i < len; i++) {
        int d = hexdigit(s[i]);
        if (d < 0)
            return false;
        v = v << 4 | (unsigned)d;
    }
    *out = (uint16_t)v;
    return true;
}

/*
 * IPv6 text: groups before and after an optional "::" are collected apart
 * and the gap is filled with zeros. A dotted quad may stand for the last two
 * groups. With "::" at most 7 groups may be written, without it exactly 8.
 */
static bool parse_ipv6(const char *s, size_t len, uint8_t out[16])
{
    uint16_t g[8];
    size_t ng = 0, gap = SIZE_MAX, i = 0;

    if (len >= 2 && s[0] == ':' && s[1] == ':') {
        gap = 0;
        i = 2;
    }
    while (i < len) {
        size_t j = i;
        uint8_t v4[4];

        while (j < len && s[j] != ':')
            j++;
        if (memchr(s + i, '.', j - i)) {
            if (j != len || ng > 6 || !parse_ipv4(s + i, j - i, v4))
                return false;
            g[ng++] = (uint16_t)(v4[0] << 8 | v4[1]);
            g[ng++] = (uint16_t)(v4[2] << 8 | v4[3]);
            break;
        }
        if (ng == 8 || !parse_group(s + i, j - i, &g[ng]))
            return false;
        ng++;
        if (j == len)
            break;
        if (j + 1 < len && s[j + 1] == ':') {
            if (gap != SIZE_MAX)
                return false;
            gap = ng;
            i = j + 2;
        } else {
            i = j + 1;
            if (i == len)
                return false;     /* a trailing single ':' */
        }
    }
    if (gap == SIZE_MAX ? ng != 8 : ng > 7)
        return false;
    memset(out, 0, 16);
    for (size_t k = 0; k < ng; k++) {
        size_t pos = (gap != SIZE_MAX && k >= gap) ? 8 - ng + k : k;
        out[2 * pos] = (uint8_t)(g[k] >> 8);
        out[2 * pos + 1] = (uint8_t)g[k];
    }
    return true;
}

/* An IPv4 or IPv6 address (no prefix length, no zone). */
static bool parse_addr(const char *s, size_t len, uint8_t *family, uint8_t addr[16])
{
    memset(addr, 0, 16);
    if (memchr(s, ':', len)) {
        *family = 6;
        return parse_ipv6(s, len, addr);
    }
    *family = 4;
    return parse_ipv4(s, len, addr);
}

int config_prefix_parse(struct config_prefix *p, const char *s)
{
    const char *slash = strchr(s, '/');
    size_t alen = slash ? (size_t)(slash - s) : strlen(s);
    struct config_prefix r;
    unsigned max;

    memset(&r, 0, sizeof(r));
    if (!parse_addr(s, alen, &r.family, r.addr))
        return -EINVAL;
    max = r.family == 4 ? 32 : 128;
    r.cidr = (uint8_t)max;
    if (slash) {
        const char *q = slash + 1;
        unsigned v = 0, nd = 0;

        for (; *q; q++, nd++) {
            if (digit(*q) < 0 || nd == 3)
                return -EINVAL;
            v = v * 10 + (unsigned)digit(*q);
        }
        if (nd == 0 || v > max)
            return -EINVAL;
        r.cidr = (uint8_t)v;
    }
    *p = r;
    return 0;
}

void config_prefix_normalize(struct config_prefix *p)
{
    unsigned bytes = p->family == 4 ? 4 : 16;
    unsigned cidr = p->cidr > bytes * 8 ? bytes * 8 : p->cidr;

    for (unsigned i = 0; i < 16; i++) {
        unsigned keep = i >= bytes ? 0 : cidr >= 8 * (i + 1) ? 8 : cidr > 8 * i ? cidr - 8 * i : 0;
        p->addr[i] &= (uint8_t)(0xff00u >> keep);
    }
}

/* Append to a bounded buffer; *pos counts what would have been written. */
static void put(char *buf, size_t buflen, size_t *pos, const char *s)
{
    for (; *s; s++, (*pos)++)
        if (*pos + 1 < buflen)
            buf[*pos] = *s;
}

static void put_uint(char *buf, size_t buflen, size_t *pos, unsigned v, unsigned base)
{
    char tmp[12];
    size_t i = sizeof(tmp) - 1;

    tmp[i] = '\0';
    do {
        tmp[--i] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    put(buf, buflen, pos, tmp + i);
}

static void put_ipv4(char *buf, size_t buflen, size_t *pos, const uint8_t a[4])
{
    for (int i = 0; i < 4; i++) {
        if (i)
            put(buf, buflen, pos, ".");
        put_uint(buf, buflen, pos, a[i], 10);
    }
}

static bool is_v4_mapped(const uint8_t a[16])
{
    static const uint8_t head[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    return memcmp(a, head, sizeof(head)) == 0;
}

/* RFC 5952: lowercase, no leading zeros, the longest run (first on a tie)
 * of two or more zero groups as "::", IPv4-mapped in mixed notation. */
static void put_ipv6(char *buf, size_t buflen, size_t *pos, const uint8_t a[16])
{
    unsigned g[8], ngroups = is_v4_mapped(a) ? 6 : 8;
    int best = -1, best_len = 1;

    for (int i = 0; i < 8; i++)
        g[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
    for (int i = 0; i < (int)ngroups;) {
        int j = i;
        while (j < (int)ngroups && g[j] == 0)
            j++;
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j > i ? j : i + 1;
    }
    for (int i = 0; i < (int)ngroups; i++) {
        if (i == best) {
            put(buf, buflen, pos, "::");
            i += best_len - 1;
            continue;
        }
        if (i && i != best + best_len)
            put(buf, buflen, pos, ":");
        put_uint(buf, buflen, pos, g[i], 16);
    }
    if (ngroups == 6) {
        if (best + best_len != 6)
            put(buf, buflen, pos, ":");
        put_ipv4(buf, buflen, pos, a + 12);
    }
}

/* Shared with the endpoint printer: the bare address. */
static size_t format_addr(uint8_t family, const uint8_t addr[16], char *buf, size_t buflen)
{
    size_t pos = 0;

    if (family == 4)
        put_ipv4(buf, buflen, &pos, addr);
    else
        put_ipv6(buf, buflen, &pos, addr);
    return pos;
}

const char *config_prefix_format(const struct config_prefix *p, char *buf, size_t buflen)
{
    size_t pos;

    if (buflen == 0)
        return buf;
    pos = format_addr(p->family, p->addr, buf, buflen);
    put(buf, buflen, &pos, "/");
    put_uint(buf, buflen, &pos, p->cidr, 10);
    buf[pos < buflen ? pos : buflen - 1] = '\0';
    return buf;
}

/* ------------------------------------------------------------- endpoints */

static bool parse_port(const char *s, uint16_t *port)
{
    unsigned v = 0, nd = 0;

    for (; *s; s++, nd++) {
        if (digit(*s) < 0 || nd == 5)
            return false;
        v = v * 10 + (unsigned)digit(*s);
    }
    if (nd == 0 || v == 0 || v > 65535)
        return false;
    *port = (uint16_t)v;
    return true;
}

/* Letters, digits, '-', '_' and '.'; all digits and dots must be IPv4. */
static bool valid_hostname(const char *s, size_t len)
{
    bool numeric = true;
    uint8_t a[4];

    if (len == 0 || len > 253)
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || digit(ch) >= 0;
        if (!alnum && ch != '-' && ch != '_' && ch != '.')
            return false;
        if (digit(ch) < 0 && ch != '.')
            numeric = false;
    }
    return !numeric || parse_ipv4(s, len, a);
}

/* A zone: an interface name or index ("eth0", "12"). */
static bool valid_zone(const char *s, size_t len)
{
    if (len == 0 || len > 64)
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || digit(ch) >= 0 ||
              ch == '-' || ch == '_' || ch == '.'))
            return false;
    }
    return true;
}

/* "[v6]" with an optional "%zone" (kept in the host, not resolved here). */
static bool valid_bracketed(const char *s, size_t len, bool *has_zone)
{
    const char *pct = memchr(s, '%', len);
    uint8_t a[16];

    *has_zone = pct != NULL;
    if (pct) {
        if (!valid_zone(pct + 1, len - (size_t)(pct - s) - 1))
            return false;
        len = (size_t)(pct - s);
    }
    return parse_ipv6(s, len, a);
}

int config_endpoint_parse(struct config_peer *peer, const char *s)
{
    const char *host = s, *colon;
    size_t hlen;
    bool bracket = s[0] == '[', zone = false;
    uint16_t port;
    struct wb_endpoint ep;
    char *dup;

    if (bracket) {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return -EINVAL;
        host = s + 1;
        hlen = (size_t)(close - host);
        colon = close + 1;
        if (!valid_bracketed(host, hlen, &zone))
            return -EINVAL;
    } else {
        colon = strchr(s, ':');
        if (!colon || strchr(colon + 1, ':'))
            return -EINVAL;
        hlen = (size_t)(colon - s);
        if (!valid_hostname(s, hlen))
            return -EINVAL;
    }
    if (!parse_port(colon + 1, &port))
        return -EINVAL;
    memset(&ep, 0, sizeof(ep));
    if (!zone && parse_addr(host, hlen, &ep.family, ep.addr))
        ep.port = port;
    else
        memset(&ep, 0, sizeof(ep));
    dup = malloc(hlen + 1);
    if (!dup)
        return -ENOMEM;
    memcpy(dup, host, hlen);
    dup[hlen] = '\0';
    free(peer->endpoint_host);
    peer->endpoint_host = dup;
    peer->endpoint_port = port;
    peer->endpoint = ep;
    peer->has_endpoint = true;
    return 0;
}

/* ---------------------------------------------------- prefix subtraction */

/* Addresses as 128-bit numbers (IPv4 in the low 32 bits): a prefix is the
 * interval [lo, hi]; subtraction works on sorted, merged intervals and the
 * result is cut into the largest aligned blocks, which is the unique
 * minimal prefix cover. */
typedef unsigned __int128 u128;

struct range {
    u128 lo, hi;
};

static u128 span(unsigned k) /* 2^k - 1, k <= 128 */
{
    return k >= 128 ? ~(u128)0 : ((u128)1 << k) - 1;
}

static struct range prefix_range(const struct config_prefix *p)
{
    unsigned bits = p->family == 4 ? 32 : 128;
    struct range r = { 0, 0 };

    for (unsigned i = 0; i < bits / 8; i++)
        r.lo = r.lo << 8 | p->addr[i];
    r.lo &= ~span(bits - p->cidr) & span(bits);
    r.hi = r.lo | span(bits - p->cidr);
    return r;
}

static int range_cmp(const void *a, const void *b)
{
    const struct range *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* The prefixes of one family as sorted, merged (overlapping or adjacent)
 * intervals. *out is malloc'd (may be NULL when *n is 0). */
static int family_ranges(const struct config_prefix *v, size_t n, uint8_t family,
                         struct range **out, size_t *nout)
{
    struct range *r = malloc((n ? n : 1) * sizeof(*r));
    size_t m = 0;

    if (!r)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (v[i].family == family)
            r[m++] = prefix_range(&v[i]);
    qsort(r, m, sizeof(*r), range_cmp);
    size_t k = 0;
    for (size_t i = 0; i < m; i++) {
        if (k && (r[i].lo == 0 || r[i].lo - 1 <= r[k - 1].hi)) {
            if (r[i].hi > r[k - 1].hi)
                r[k - 1].hi = r[i].hi;
        } else {
            r[k++] = r[i];
        }
    }
    *out = r;
    *nout = k;
    return 0;
}

/* a minus d, both sorted and merged; out holds at least na + nd entries. */
static size_t ranges_subtract(const struct range *a, size_t na, const struct range *d, size_t nd,
                              struct range *out)
{
    size_t n = 0, j = 0;

    for (size_t i = 0; i < na; i++) {
        u128 cur = a[i].lo;
        bool done = false;

        while (j < nd && d[j].hi < cur)
            j++;
        for (size_t k = j; k < nd && d[k].lo <= a[i].hi && !done; k++) {
            if (d[k].lo > cur)
                out[n++] = (struct range){ cur, d[k].lo - 1 };
            if (d[k].hi >= a[i].hi)
                done = true;
            else
                cur = d[k].hi + 1;
        }
        if (!done)
            out[n++] = (struct range){ cur, a[i].hi };
    }
    return n;
}

static unsigned ctz128(u128 v, unsigned bits)
{
    unsigned n = 0;

    if (v == 0)
        return bits;
    while (!(v & 1)) {
        v >>= 1;
        n++;
    }
    return n;
}

/* Cut [lo, hi] into maximal aligned blocks; writes them to out (if not
 * NULL) and returns how many there are. */
static size_t range_to_prefixes(struct range r, uint8_t family, struct config_prefix *out)
{
    unsigned bits = family == 4 ? 32 : 128;
    size_t n = 0;

    for (;;) {
        unsigned k = ctz128(r.lo, bits);
        while (r.hi - r.lo < span(k))
            k--;
        if (out) {
            struct config_prefix *p = &out[n];
            u128 v = r.lo;
            memset(p, 0, sizeof(*p));
            p->family = family;
            p->cidr = (uint8_t)(bits - k);
            for (unsigned i = bits / 8; i-- > 0; v >>= 8)
                p->addr[i] = (uint8_t)v;
        }
        n++;
        if (r.lo + span(k) == r.hi)
            return n;
        r.lo += span(k) + 1;
    }
}

static bool prefixes_valid(const struct config_prefix *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((v[i].family != 4 && v[i].family != 6) || v[i].cidr > (v[i].family == 4 ? 32 : 128))
            return false;
    return true;
}

/* One family's difference, appended to *out / *n_out. */
static int subtract_family(const struct config_prefix *allowed, size_t n_allowed,
                           const struct config_prefix *disallowed, size_t n_disallowed,
                           uint8_t family, struct config_prefix **out, size_t *n_out)
{
    struct range *a = NULL, *d = NULL, *diff = NULL;
    size_t na, nd, ndiff, count = 0;
    int ret = -ENOMEM;

    if (family_ranges(allowed, n_allowed, family, &a, &na) ||
        family_ranges(disallowed, n_disallowed, family, &d, &nd))
        goto out;
    diff = malloc((na + nd + 1) * sizeof(*diff));
    if (!diff)
        goto out;
    ndiff = ranges_subtract(a, na, d, nd, diff);
    for (size_t i = 0; i < ndiff; i++)
        count += range_to_prefixes(diff[i], family, NULL);
    if (count) {
        struct config_prefix *v = realloc(*out, (*n_out + count) * sizeof(*v));
        if (!v)
            goto out;
        *out = v;
        for (size_t i = 0; i < ndiff; i++)
            *n_out += range_to_prefixes(diff[i], family, v + *n_out);
    }
    ret = 0;
out:
    free(a);
    free(d);
    free(diff);
    return ret;
}

int config_prefix_subtract(const struct config_prefix *allowed, size_t n_allowed,
                           const struct config_prefix *disallowed, size_t n_disallowed,
                           struct config_prefix **out, size_t *n_out)
{
    int ret;

    *out = NULL;
    *n_out = 0;
    if (!prefixes_valid(allowed, n_allowed) || !prefixes_valid(disallowed, n_disallowed))
        return -EINVAL;
    ret = subtract_family(allowed, n_allowed, disallowed, n_disallowed, 4, out, n_out);
    if (!ret)
        ret = subtract_family(allowed, n_allowed, disallowed, n_disallowed, 6, out, n_out);
    if (ret) {
        free(*out);
        *out = NULL;
        *n_out = 0;
    }
    return ret;
}

/* ------------------------------------------------------------- equality */

static bool str_eq(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static bool strings_eq(const struct config_strings *a, const struct config_strings *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i], b->v[i]))
            return false;
    return true;
}

static bool prefixes_eq(const struct config_prefix *a, size_t na, const struct config_prefix *b,
                        size_t nb)
{
    return na == nb && (na == 0 || memcmp(a, b, na * sizeof(*a)) == 0);
}

static bool endpoint_eq(const struct config_peer *a, const struct config_peer *b)
{
    return a->has_endpoint == b->has_endpoint && str_eq(a->endpoint_host, b->endpoint_host) &&
           a->endpoint_port == b->endpoint_port &&
           memcmp(&a->endpoint, &b->endpoint, sizeof(a->endpoint)) == 0;
}

static bool peer_eq(const struct config_peer *a, const struct config_peer *b)
{
    return memcmp(a->public_key, b->public_key, CONFIG_KEY_LEN) == 0 &&
           a->has_preshared_key == b->has_preshared_key &&
           memcmp(a->preshared_key, b->preshared_key, CONFIG_KEY_LEN) == 0 && endpoint_eq(a, b) &&
           a->has_persistent_keepalive == b->has_persistent_keepalive &&
           a->persistent_keepalive == b->persistent_keepalive &&
           prefixes_eq(a->allowed_ips, a->n_allowed_ips, b->allowed_ips, b->n_allowed_ips) &&
           prefixes_eq(a->disallowed_ips, a->n_disallowed_ips, b->disallowed_ips,
                       b->n_disallowed_ips) &&
           prefixes_eq(a->removed_allowed_ips, a->n_removed_allowed_ips, b->removed_allowed_ips,
                       b->n_removed_allowed_ips) &&
           strings_eq(&a->allowed_apps, &b->allowed_apps) &&
           strings_eq(&a->disallowed_apps, &b->disallowed_apps) &&
           str_eq(a->socks5_proxy, b->socks5_proxy) &&
           str_eq(a->socks5_proxy_username, b->socks5_proxy_username) &&
           str_eq(a->socks5_proxy_password, b->socks5_proxy_password) &&
           a->has_socks5_proxy_all_traffic == b->has_socks5_proxy_all_traffic &&
           a->socks5_proxy_all_traffic == b->socks5_proxy_all_traffic && a->remove == b->remove &&
           a->update_only == b->update_only && a->replace_allowed_ips == b->replace_allowed_ips &&
           a->has_stats == b->has_stats &&
           a->last_handshake_time_sec == b->last_handshake_time_sec &&
           a->last_handshake_time_nsec == b->last_handshake_time_nsec &&
           a->rx_bytes == b->rx_bytes && a->tx_bytes == b->tx_bytes;
}

static bool interface_eq(const struct config *a, const struct config *b)
{
    return a->has_private_key == b->has_private_key &&
           memcmp(a->private_key, b->private_key, CONFIG_KEY_LEN) == 0 &&
           a->has_listen_port == b->has_listen_port && a->listen_port == b->listen_port &&
           a->has_fwmark == b->has_fwmark && a->fwmark == b->fwmark &&
           a->replace_peers == b->replace_peers &&
           prefixes_eq(a->addresses, a->n_addresses, b->addresses, b->n_addresses) &&
           strings_eq(&a->dns, &b->dns) && a->has_mtu == b->has_mtu && a->mtu == b->mtu &&
           str_eq(a->table, b->table) && strings_eq(&a->pre_up, &b->pre_up) &&
           strings_eq(&a->post_up, &b->post_up) && strings_eq(&a->pre_down, &b->pre_down) &&
           strings_eq(&a->post_down, &b->post_down) && a->save_config == b->save_config &&
           str_eq(a->virtual_adapter_mode, b->virtual_adapter_mode) &&
           str_eq(a->enable_default_gateway, b->enable_default_gateway);
}

bool config_equal(const struct config *a, const struct config *b)
{
    if (!interface_eq(a, b) || a->n_peers != b->n_peers)
        return false;
    for (size_t i = 0; i < a->n_peers; i++)
        if (!peer_eq(&a->peers[i], &b->peers[i]))
            return false;
    return true;
}
