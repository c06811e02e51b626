/* SPDX-License-Identifier: MIT */
/*
 * cmd_show.c - `wirebolt show [<ifname>] [--json]`: the state of every
 * userspace WireGuard interface (a socket under /var/run/wireguard, ours
 * or any implementation's), or of the one named, read with UAPI get.
 *
 * Text: like `wg show` (interface, public key, listening port, fwmark;
 * per peer, most recent handshake first: endpoint, allowed ips, latest
 * handshake, transfer, persistent keepalive). JSON: one object per
 * interface, one per line:
 *   {"interface":"wg0","public_key":"..."|null,"listen_port":51820,
 *    "fwmark":0,"peers":[{"public_key":"...","has_preshared_key":false,
 *    "endpoint":"192.0.2.1:51820"|null,"allowed_ips":["10.0.0.0/8"],
 *    "latest_handshake":1700000000 (unix seconds, 0 = never),
 *    "rx_bytes":0,"tx_bytes":0,"persistent_keepalive":0}],
 *    "datapath":{...}}
 * "datapath" is there for a wirebolt daemon only (the wirebolt-stats
 * operation, uapi.h; other implementations do not know it and the key is
 * left out): {"workers":2,"under_load":false,"pool_bytes":N,"pkt_room":N,
 * "offloads":["tso",...]|null,"totals":{<every WORKER_STATS counter>},
 * "per_worker":[{...},...],"handshake":{...},
 * "io":{<every UAPI_IO_LINUX_STATS counter>}|null,
 * "tunnel_drops":{<every UAPI_TUNNEL_DROPS name: the peers' own drop
 * counters summed, e.g. "decrypt_failed", "replay">}|null}. The text form gets one
 * line from it, "  datapath: 2 workers, offloads ..., drops: ...".
 * Private and preshared keys are never printed in either form.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "cli/commands.h"
#include "cli/uapi_get.h"

/* ---------------------------------------------------------------- text */

/* "1 day, 2 hours, 3 seconds": wg's style; "0 seconds" for 0. */
static void format_duration(char *buf, size_t len, uint64_t secs)
{
    static const struct { uint64_t size; const char *unit; } units[] = {
        { 365 * 24 * 3600ULL, "year" }, { 24 * 3600, "day" }, { 3600, "hour" },
        { 60, "minute" }, { 1, "second" },
    };
    size_t pos = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && pos < len; i++) {
        uint64_t n = secs / units[i].size;

        secs %= units[i].size;
        if (!n)
            continue;
        pos += (size_t)snprintf(buf + pos, len - pos, "%s%llu %s%s", pos ? ", " : "",
                                (unsigned long long)n, units[i].unit, n == 1 ? "" : "s");
    }
    if (!buf[0])
        snprintf(buf, len, "0 seconds");
}

static void format_bytes(char *buf, size_t len, uint64_t b)
{
    static const char *units[] = { "KiB", "MiB", "GiB", "TiB" };
    double v = (double)b;
    size_t u = 0;

    if (b < 1024) {
        snprintf(buf, len, "%llu B", (unsigned long long)b);
        return;
    }
    v /= 1024;
    while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
        v /= 1024;
        u++;
    }
    snprintf(buf, len, "%.2f %s", v, units[u]);
}

static void key_b64(char out[WB_KEY_B64_LEN + 1], const uint8_t key[WB_KEY_LEN])
{
    wb_key_to_base64(out, key);
}

static bool public_key_of(const struct config *c, uint8_t pub[WB_KEY_LEN])
{
    static const uint8_t zero[WB_KEY_LEN];

    return c->has_private_key && sodium_memcmp(c->private_key, zero, WB_KEY_LEN) != 0 &&
           wb_key_public(pub, c->private_key) == 0;
}

static bool key_is_zero(const uint8_t k[WB_KEY_LEN])
{
    static const uint8_t zero[WB_KEY_LEN];

    return sodium_memcmp(k, zero, WB_KEY_LEN) == 0;
}

static void endpoint_text(char *buf, size_t len, const struct config_peer *p)
{
    if (!p->has_endpoint || !p->endpoint_host)
        buf[0] = '\0';
    else if (strchr(p->endpoint_host, ':'))
        snprintf(buf, len, "[%s]:%u", p->endpoint_host, p->endpoint_port);
    else
        snprintf(buf, len, "%s:%u", p->endpoint_host, p->endpoint_port);
}

/* Most recent handshake first, as wg does. */
static int peer_cmp(const void *pa, const void *pb)
{
    const struct config_peer *a = *(const struct config_peer *const *)pa;
    const struct config_peer *b = *(const struct config_peer *const *)pb;

    if (a->last_handshake_time_sec != b->last_handshake_time_sec)
        return a->last_handshake_time_sec > b->last_handshake_time_sec ? -1 : 1;
    return 0;
}

static void print_peer_text(const struct config_peer *p, time_t now)
{
    char b64[WB_KEY_B64_LEN + 1], buf[128];

    key_b64(b64, p->public_key);
    printf("\npeer: %s\n", b64);
    if (p->has_preshared_key && !key_is_zero(p->preshared_key))
        printf("  preshared key: (hidden)\n");
    endpoint_text(buf, sizeof(buf), p);
    if (buf[0])
        printf("  endpoint: %s\n", buf);
    printf("  allowed ips: ");
    for (size_t i = 0; i < p->n_allowed_ips; i++)
        printf("%s%s", i ? ", " : "", config_prefix_format(&p->allowed_ips[i], buf, sizeof(buf)));
    printf("%s\n", p->n_allowed_ips ? "" : "(none)");
    if (p->last_handshake_time_sec) {
        if ((uint64_t)now < p->last_handshake_time_sec) {
            printf("  latest handshake: (System clock wound backward; connection problems may ensue.)\n");
        } else if ((uint64_t)now == p->last_handshake_time_sec) {
            printf("  latest handshake: Now\n");
        } else {
            format_duration(buf, sizeof(buf), (uint64_t)now - p->last_handshake_time_sec);
            printf("  latest handshake: %s ago\n", buf);
        }
    }
    if (p->rx_bytes || p->tx_bytes) {
        char rx[32], tx[32];

        format_bytes(rx, sizeof(rx), p->rx_bytes);
        format_bytes(tx, sizeof(tx), p->tx_bytes);
        printf("  transfer: %s received, %s sent\n", rx, tx);
    }
    if (p->persistent_keepalive) {
        format_duration(buf, sizeof(buf), p->persistent_keepalive);
        printf("  persistent keepalive: every %s\n", buf);
    }
}

/* "  datapath: 2 workers, offloads tso,uso, drops: no_route 3, no_buffer 1" */
static void print_datapath_text(const struct uapi_stats *st)
{
    struct worker_stats t;

    uapi_stats_total(st, &t);
    const struct { const char *name; uint64_t n; } drops[] = {
#define DROP(src, name) { #name, (src).name }
        DROP(t, no_route), DROP(t, no_endpoint), DROP(t, malformed), DROP(t, unknown_index),
        DROP(t, unknown_peer), DROP(t, bad_mac1), DROP(t, ratelimited), DROP(t, hq_full),
        DROP(t, source_not_allowed), DROP(t, tx_failed), DROP(t, no_buffer), DROP(t, dead_peer),
        DROP(st->io, tun_tx_dropped), DROP(st->io, udp_tx_dropped),
        DROP(st->io, tun_rx_malformed), DROP(st->io, rx_too_big),
#undef DROP
    };
    bool any = false;

    printf("  datapath: %u worker%s", st->workers, st->workers == 1 ? "" : "s");
    if (st->has_io) {
        bool first = true;

        printf(", offloads ");
        for (unsigned i = 0; i < 32; i++) {
            const char *name = uapi_offload_name(i);

            if ((st->offloads & (1u << i)) && name) {
                printf("%s%s", first ? "" : ",", name);
                first = false;
            }
        }
        if (first)
            printf("none");
    }
    if (st->under_load)
        printf(", under load");
    printf(", drops: ");
    for (size_t i = 0; i < sizeof(drops) / sizeof(drops[0]); i++) {
        if (!drops[i].n)
            continue;
        printf("%s%s %llu", any ? ", " : "", drops[i].name, (unsigned long long)drops[i].n);
        any = true;
    }
    for (unsigned r = 0; st->has_tunnel_drops && r < WB_DROP_REASON_COUNT; r++) {
        if (!st->tunnel_drops[r] || !uapi_tunnel_drop_name(r))
            continue;
        printf("%s%s %llu", any ? ", " : "", uapi_tunnel_drop_name(r),
               (unsigned long long)st->tunnel_drops[r]);
        any = true;
    }
    printf("%s\n", any ? "" : "none");
}

static int print_text(const char *ifname, const struct config *c, const struct uapi_stats *st)
{
    const struct config_peer **order = calloc(c->n_peers ? c->n_peers : 1, sizeof(*order));
    uint8_t pub[WB_KEY_LEN];
    char b64[WB_KEY_B64_LEN + 1];
    time_t now = time(NULL);

    if (!order)
        return -ENOMEM;
    printf("interface: %s\n", ifname);
    if (public_key_of(c, pub)) {
        key_b64(b64, pub);
        printf("  public key: %s\n  private key: (hidden)\n", b64);
    }
    if (c->has_listen_port && c->listen_port)
        printf("  listening port: %u\n", c->listen_port);
    if (c->has_fwmark && c->fwmark)
        printf("  fwmark: 0x%x\n", c->fwmark);
    if (st)
        print_datapath_text(st);
    for (size_t i = 0; i < c->n_peers; i++)
        order[i] = &c->peers[i];
    qsort(order, c->n_peers, sizeof(*order), peer_cmp);
    for (size_t i = 0; i < c->n_peers; i++)
        print_peer_text(order[i], now);
    free(order);
    return 0;
}

/* ---------------------------------------------------------------- JSON */

/* Interface names and endpoints are plain ASCII already, but escape
 * anyway: a name from a directory listing is not ours to trust. */
static void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;

        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 0x20 || ch >= 0x7f)
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
    putchar('"');
}

static void print_peer_json(const struct config_peer *p)
{
    char b64[WB_KEY_B64_LEN + 1], buf[128];

    key_b64(b64, p->public_key);
    printf("{\"public_key\":\"%s\",\"has_preshared_key\":%s,\"endpoint\":", b64,
           p->has_preshared_key && !key_is_zero(p->preshared_key) ? "true" : "false");
    endpoint_text(buf, sizeof(buf), p);
    if (buf[0])
        json_string(buf);
    else
        printf("null");
    printf(",\"allowed_ips\":[");
    for (size_t i = 0; i < p->n_allowed_ips; i++)
        printf("%s\"%s\"", i ? "," : "", config_prefix_format(&p->allowed_ips[i], buf, sizeof(buf)));
    printf("],\"latest_handshake\":%llu,\"rx_bytes\":%llu,\"tx_bytes\":%llu,"
           "\"persistent_keepalive\":%u}",
           (unsigned long long)p->last_handshake_time_sec, (unsigned long long)p->rx_bytes,
           (unsigned long long)p->tx_bytes, p->persistent_keepalive);
}

static void print_worker_json(const struct worker_stats *w)
{
    const char *sep = "";

    putchar('{');
#define WORKER_JSON(name)                                                        \
    printf("%s\"" #name "\":%llu", sep, (unsigned long long)w->name);             \
    sep = ",";
    WORKER_STATS(WORKER_JSON)
#undef WORKER_JSON
    putchar('}');
}

static void print_datapath_json(const struct uapi_stats *st)
{
    struct worker_stats total;
    const char *sep = "";

    printf(",\"datapath\":{\"workers\":%u,\"under_load\":%s,\"pool_bytes\":%llu,"
           "\"pkt_room\":%llu,\"offloads\":",
           st->workers, st->under_load ? "true" : "false", (unsigned long long)st->pool_bytes,
           (unsigned long long)st->pkt_room);
    if (st->has_io) {
        putchar('[');
        for (unsigned i = 0; i < 32; i++) {
            const char *name = uapi_offload_name(i);

            if ((st->offloads & (1u << i)) && name) {
                printf("%s\"%s\"", sep, name);
                sep = ",";
            }
        }
        putchar(']');
    } else {
        printf("null");
    }
    uapi_stats_total(st, &total);
    printf(",\"totals\":");
    print_worker_json(&total);
    printf(",\"per_worker\":[");
    for (unsigned i = 0; i < st->workers && i < UAPI_STATS_MAX_WORKERS; i++) {
        if (i)
            putchar(',');
        print_worker_json(&st->per_worker[i]);
    }
    printf("],\"handshake\":");
    print_worker_json(&st->handshake);
    printf(",\"io\":");
    if (st->has_io) {
        sep = "";
        putchar('{');
#define IO_JSON(name)                                                            \
    printf("%s\"" #name "\":%llu", sep, (unsigned long long)st->io.name);         \
    sep = ",";
        UAPI_IO_LINUX_STATS(IO_JSON)
#undef IO_JSON
        putchar('}');
    } else {
        printf("null");
    }
    printf(",\"tunnel_drops\":");
    if (st->has_tunnel_drops) {
        sep = "";
        putchar('{');
        for (unsigned r = 0; r < WB_DROP_REASON_COUNT; r++) {
            if (!uapi_tunnel_drop_name(r))
                continue;
            printf("%s\"%s\":%llu", sep, uapi_tunnel_drop_name(r),
                   (unsigned long long)st->tunnel_drops[r]);
            sep = ",";
        }
        putchar('}');
    } else {
        printf("null");
    }
    putchar('}');
}

static int print_json(const char *ifname, const struct config *c, const struct uapi_stats *st)
{
    uint8_t pub[WB_KEY_LEN];
    char b64[WB_KEY_B64_LEN + 1];

    printf("{\"interface\":");
    json_string(ifname);
    printf(",\"public_key\":");
    if (public_key_of(c, pub)) {
        key_b64(b64, pub);
        printf("\"%s\"", b64);
    } else {
        printf("null");
    }
    printf(",\"listen_port\":%u,\"fwmark\":%u,\"peers\":[",
           c->has_listen_port ? c->listen_port : 0, c->has_fwmark ? c->fwmark : 0);
    for (size_t i = 0; i < c->n_peers; i++) {
        if (i)
            putchar(',');
        print_peer_json(&c->peers[i]);
    }
    putchar(']');
    if (st)
        print_datapath_json(st);
    printf("}\n");
    return 0;
}

/* ------------------------------------------------------------- command */

/* listing: a socket nobody answers on is skipped, as wg does. */
static int show_one(const char *ifname, bool json, bool first, bool listing)
{
    struct uapi_stats *st;
    struct config c;
    int ret;

    config_init(&c);
    ret = uapi_get_fetch(NULL, ifname, &c);
    if (ret == -ECONNREFUSED && listing)
        return 1;
    if (ret < 0) {
        fprintf(stderr, "wirebolt: Unable to access interface %s: %s\n", ifname, strerror(-ret));
        return ret;
    }
    /* The datapath's counters: a wirebolt daemon's extra; anything that
     * goes wrong there (another implementation, an older wirebolt) only
     * leaves them out. */
    st = malloc(sizeof(*st));
    if (st && uapi_get_stats_fetch(NULL, ifname, st) != 0) {
        free(st);
        st = NULL;
    }
    if (!json && !first)
        putchar('\n');
    ret = json ? print_json(ifname, &c, st) : print_text(ifname, &c, st);
    free(st);
    config_free(&c);
    return ret;
}

static int usage(void)
{
    fprintf(stderr, "Usage: wirebolt show [<interface>] [--json]\n");
    return EXIT_USAGE;
}

int cmd_show(int argc, char **argv)
{
    const char *ifname = NULL;
    char (*names)[16] = NULL;
    bool json = false, shown = false;
    int n, failed = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else if (argv[i][0] == '-' || ifname)
            return usage();
        else
            ifname = argv[i];
    }
    if (ifname)
        return show_one(ifname, json, true, false) == 0 ? EXIT_OK : EXIT_ERROR;
    n = uapi_get_list(NULL, &names);
    if (n < 0) {
        fprintf(stderr, "wirebolt: cannot list interfaces: %s\n", strerror(-n));
        return EXIT_ERROR;
    }
    for (int i = 0; i < n; i++) {
        int ret = show_one(names[i], json, !shown, true);

        if (ret == 0)
            shown = true;
        else if (ret < 0)
            failed++;
    }
    free(names);
    return failed ? EXIT_ERROR : EXIT_OK;
}
