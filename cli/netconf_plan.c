/* SPDX-License-Identifier: MIT */
/*
 * netconf_plan.c - the pure part of netconf.h: Table= names, the list of
 * routes for the allowed IPs, DNS= as resolvconf lines, hook expansion,
 * and the up/down argument (config file path and interface name). No
 * system calls except reading rt_tables and looking for a config file, so
 * tests run without privileges.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/netconf.h"

/* --------------------------------------------------------------- tables */

static bool parse_u32(const char *s, uint32_t *out)
{
    unsigned long long v;
    char *end;

    if (!isdigit((unsigned char)s[0]))
        return false;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end || v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* "<number> <name>" lines; '#' starts a comment. */
static bool lookup_rt_tables(const char *path, const char *name, uint32_t *out)
{
    char line[256], word[128];
    unsigned long id;
    FILE *f = path ? fopen(path, "re") : NULL;
    bool found = false;

    if (!f)
        return false;
    while (!found && fgets(line, sizeof(line), f)) {
        char *hash = strchr(line, '#');

        if (hash)
            *hash = '\0';
        if (sscanf(line, "%lu %127s", &id, word) == 2 && id <= UINT32_MAX &&
            strcmp(word, name) == 0) {
            *out = (uint32_t)id;
            found = true;
        }
    }
    fclose(f);
    return found;
}

int netconf_table_parse_in(const char *s, const char *rt_tables, struct netconf_table *out)
{
    static const struct { const char *name; uint32_t id; } builtin[] = {
        { "main", 254 }, { "local", 255 }, { "default", 253 },
    };

    memset(out, 0, sizeof(*out));
    if (!s || strcasecmp(s, "auto") == 0)
        return 0;
    if (strcasecmp(s, "off") == 0) {
        out->mode = NETCONF_TABLE_OFF;
        return 0;
    }
    out->mode = NETCONF_TABLE_ID;
    if (parse_u32(s, &out->id))
        return out->id ? 0 : -EINVAL;
    for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
        if (strcmp(s, builtin[i].name) == 0) {
            out->id = builtin[i].id;
            return 0;
        }
    if (lookup_rt_tables(rt_tables, s, &out->id) && out->id)
        return 0;
    return -EINVAL;
}

int netconf_table_parse(const char *s, struct netconf_table *out)
{
    int ret = netconf_table_parse_in(s, "/etc/iproute2/rt_tables", out);

    if (ret < 0)
        ret = netconf_table_parse_in(s, "/usr/share/iproute2/rt_tables", out);
    return ret;
}

/* --------------------------------------------------------------- routes */

/* Longest prefix first (wg-quick sorts by prefix length, descending), then
 * IPv4 before IPv6, then by address, then by table: a testable order. */
static int route_cmp(const void *pa, const void *pb)
{
    const struct netconf_route *a = pa, *b = pb;

    if (a->dst.len != b->dst.len)
        return a->dst.len > b->dst.len ? -1 : 1;
    if (a->dst.family != b->dst.family)
        return a->dst.family == AF_INET ? -1 : 1;
    if (memcmp(a->dst.addr, b->dst.addr, sizeof(a->dst.addr)))
        return memcmp(a->dst.addr, b->dst.addr, sizeof(a->dst.addr));
    return a->table < b->table ? -1 : a->table > b->table;
}

static void to_netlink(struct netlink_prefix *out, const struct config_prefix *p)
{
    memset(out, 0, sizeof(*out));
    out->family = p->family == 4 ? AF_INET : AF_INET6;
    memcpy(out->addr, p->addr, p->family == 4 ? 4 : 16);
    out->len = p->cidr;
}

/* Whether the peer's AllowedIPs hold the default route of a family. */
static bool has_default(const struct config_peer *p, uint8_t family)
{
    for (size_t i = 0; i < p->n_allowed_ips; i++)
        if (p->allowed_ips[i].family == family && p->allowed_ips[i].cidr == 0)
            return true;
    return false;
}

static int plan_peer(const struct config_peer *p, const struct netconf_table *table,
                     struct netconf_plan *out, size_t *cap)
{
    bool full4 = table->mode == NETCONF_TABLE_AUTO && has_default(p, 4);
    bool full6 = table->mode == NETCONF_TABLE_AUTO && has_default(p, 6);
    struct config_prefix *eff = NULL;
    size_t n = 0;
    int ret = config_prefix_subtract(p->allowed_ips, p->n_allowed_ips, p->disallowed_ips,
                                     p->n_disallowed_ips, &eff, &n);

    if (ret == 0 && out->n_routes + n > *cap) {
        size_t c = (out->n_routes + n) * 2;
        struct netconf_route *v = realloc(out->routes, c * sizeof(*v));

        if (!v)
            ret = -ENOMEM;
        else
            out->routes = v, *cap = c;
    }
    for (size_t i = 0; ret == 0 && i < n; i++) {
        struct netconf_route *r = &out->routes[out->n_routes++];
        bool policy = eff[i].family == 4 ? full4 : full6;

        to_netlink(&r->dst, &eff[i]);
        r->table = policy ? 0 : table->mode == NETCONF_TABLE_ID ? table->id : 254; /* main */
    }
    out->default4 |= full4;
    out->default6 |= full6;
    free(eff);
    return ret;
}

int netconf_plan_routes(const struct config *cfg, const struct netconf_table *table,
                        struct netconf_plan *out)
{
    size_t cap = 0, kept = 0;
    int ret = 0;

    memset(out, 0, sizeof(*out));
    if (table->mode == NETCONF_TABLE_OFF)
        return 0;
    for (size_t i = 0; ret == 0 && i < cfg->n_peers; i++)
        ret = plan_peer(&cfg->peers[i], table, out, &cap);
    if (ret < 0) {
        netconf_plan_free(out);
        return ret;
    }
    if (out->n_routes)
        qsort(out->routes, out->n_routes, sizeof(*out->routes), route_cmp);
    for (size_t i = 0; i < out->n_routes; i++)    /* drop duplicates (sorted: adjacent) */
        if (kept == 0 || route_cmp(&out->routes[kept - 1], &out->routes[i]))
            out->routes[kept++] = out->routes[i];
    out->n_routes = kept;
    return 0;
}

void netconf_plan_free(struct netconf_plan *plan)
{
    free(plan->routes);
    memset(plan, 0, sizeof(*plan));
}

/* ------------------------------------------------------------------ DNS */

/* wg-quick: (^[0-9.]+$)|(^.*:.*$) is a server. */
static bool is_name_server(const char *s)
{
    if (strchr(s, ':'))
        return true;
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s) && *s != '.')
            return false;
    return true;
}

/* Append s to the buffer (*buf, *len, *cap); false on ENOMEM. */
static bool append(char **buf, size_t *len, size_t *cap, const char *s)
{
    size_t n = strlen(s);

    if (*len + n + 1 > *cap) {
        size_t c = (*len + n + 1) * 2;
        char *nb = realloc(*buf, c);

        if (!nb)
            return false;
        *buf = nb;
        *cap = c;
    }
    memcpy(*buf + *len, s, n + 1);
    *len += n;
    return true;
}

char *netconf_dns_text(const struct config_strings *dns)
{
    size_t len = 0, cap = 64, n_search = 0;
    char *buf = malloc(cap);
    bool ok = buf != NULL;

    if (buf)
        buf[0] = '\0';
    for (size_t i = 0; ok && i < dns->n; i++)
        if (is_name_server(dns->v[i]))
            ok = append(&buf, &len, &cap, "nameserver ") && append(&buf, &len, &cap, dns->v[i]) &&
                 append(&buf, &len, &cap, "\n");
    for (size_t i = 0; ok && i < dns->n; i++)
        if (!is_name_server(dns->v[i]))
            ok = append(&buf, &len, &cap, n_search++ ? " " : "search ") &&
                 append(&buf, &len, &cap, dns->v[i]);
    if (ok && n_search)
        ok = append(&buf, &len, &cap, "\n");
    if (!ok) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* ---------------------------------------------------------------- hooks */

char *netconf_hook_expand(const char *hook, const char *ifname)
{
    size_t n = 0, ilen = strlen(ifname);
    char *out, *o;

    for (const char *s = hook; *s; s++)
        n += (s[0] == '%' && s[1] == 'i') ? (s++, ilen) : 1;
    out = malloc(n + 1);
    if (!out)
        return NULL;
    o = out;
    for (const char *s = hook; *s; s++) {
        if (s[0] == '%' && s[1] == 'i') {
            memcpy(o, ifname, ilen);
            o += ilen;
            s++;
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
    return out;
}

/* ------------------------------------------------------- the argument */

bool netconf_ifname_valid(const char *s)
{
    size_t n = strlen(s);

    if (n < 1 || n >= IFNAMSIZ)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("_=+.-", *s))
            return false;
    return true;
}

int netconf_config_path(const char *arg, char *path_out, size_t path_len, char *ifname_out)
{
    const char *base = strrchr(arg, '/');
    size_t blen;
    int n;

    if (netconf_ifname_valid(arg)) {
        n = snprintf(path_out, path_len, "/etc/wireguard/%s.conf", arg);
        if (n < 0 || (size_t)n >= path_len)
            return -ENAMETOOLONG;
        strcpy(ifname_out, arg);
        return 0;
    }
    base = base ? base + 1 : arg;
    blen = strlen(base);
    if (blen <= 5 || strcmp(base + blen - 5, ".conf") != 0 || blen - 5 >= IFNAMSIZ)
        return -EINVAL;
    memcpy(ifname_out, base, blen - 5);
    ifname_out[blen - 5] = '\0';
    if (!netconf_ifname_valid(ifname_out))
        return -EINVAL;
    if (strlen(arg) >= path_len)
        return -ENAMETOOLONG;
    strcpy(path_out, arg);
    return 0;
}

int netconf_config_locate(const char *arg, char *path_out, size_t path_len, char *ifname_out)
{
    char rel[PATH_MAX];
    int ret = netconf_config_path(arg, path_out, path_len, ifname_out);

    if (ret < 0 || strchr(arg, '/') || access(path_out, F_OK) == 0 || access(arg, F_OK) < 0)
        return ret;
    snprintf(rel, sizeof(rel), "./%s", arg);
    return netconf_config_path(rel, path_out, path_len, ifname_out) < 0 ? ret
           : 0;
}
