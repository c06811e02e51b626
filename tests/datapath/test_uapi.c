/* SPDX-License-Identifier: MIT */
/*
 * test_uapi.c - the UAPI: the set parser (every key, every error), the get
 * formatter (byte for byte), a round trip, the socket server against a fake
 * device with wireguard-go's set semantics (requests, framing, limits, the
 * socket file's life, our wirebolt-stats operation with and without the
 * device's callback), and, when run as root with /usr/bin/wg present,
 * Debian's unmodified wg(8) against that server on
 * /var/run/wireguard/<ifname>.sock.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "check.h"
#include "uapi_client.h"
#include "datapath/uapi.h"

#define K1 "e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a"
#define K2 "c0ffee254729296a45a3885639c7a8f8e4a8f6a0c29b91a9b1a4b0f4a2a0a1b5"
#define P1 "f928d4f6c1b86c12f2562c10b07c555c5c57fd00f59e90c8d8d88767271cbf7c"
#define P2 "662e14fd594556f522604703340351258903b64f35553763f19426ab2a515c58"
#define P3 "1e0a7d1b9b5c2d3e4f5a6b7c8d9eafb0c1d2e3f405162738495a6b7c8d9eaf0b"
#define PSK "188515093e952f5f22e865cef3012e72f8b5f0b598ac0309d5dacce3b70fcf52"
#define ZERO64 "0000000000000000000000000000000000000000000000000000000000000000"

static uint8_t *key(const char *hex)
{
    static uint8_t k[8][32];
    static unsigned next;
    uint8_t *out = k[next++ % 8];
    check_unhex(out, 32, hex);
    return out;
}

static bool has_prefix(const struct config_prefix *v, size_t n, const char *s)
{
    char buf[64];
    for (size_t i = 0; i < n; i++)
        if (!strcmp(config_prefix_format(&v[i], buf, sizeof(buf)), s))
            return true;
    return false;
}

static struct config_peer *add_peer(struct config *c, const char *pub)
{
    struct config_peer *p = config_add_peer(c);
    memcpy(p->public_key, key(pub), 32);
    return p;
}

static void add_ip(struct config_peer *p, const char *s)
{
    struct config_prefix pfx;
    if (config_prefix_parse(&pfx, s) != 0)
        abort();
    config_prefixes_add(&p->allowed_ips, &p->n_allowed_ips, &pfx);
}

static int parse(const char *body, struct config *c)
{
    char err[128];
    return uapi_parse_set(body, strlen(body), c, err, sizeof(err));
}

/* ============================================================ set parser */

static void test_parse_all_keys(void)
{
    struct config c;
    const char *body =
        "private_key=" K1 "\n"
        "listen_port=51820\n"
        "fwmark=4660\n"
        "replace_peers=true\n"
        "public_key=" P1 "\n"
        "preshared_key=188515093E952F5F22E865CEF3012E72F8B5F0B598AC0309D5DACCE3B70FCF52\n"
        "endpoint=192.0.2.1:51820\n"
        "persistent_keepalive_interval=25\n"
        "replace_allowed_ips=true\n"
        "allowed_ip=10.0.0.0/24\n"
        "allowed_ip=fd00::1/64\n"
        "allowed_ip=-10.9.0.0/16\n"
        "protocol_version=1\n"
        "public_key=" P2 "\n"
        "update_only=true\n"
        "endpoint=[2001:db8::1]:443\n"
        "persistent_keepalive_interval=0\n"
        "public_key=" P3 "\n"
        "remove=true\n"
        "allowed_ip=10.1.0.0/16\n"
        "endpoint=198.51.100.7:9\n"
        "\n"
        "private_key=" K2 "\n";   /* after the blank line: not part of this request */

    CHECK(parse(body, &c) == 0);
    CHECK(c.has_private_key);
    CHECK_EQ_MEM(c.private_key, key(K1), 32);
    CHECK(c.has_listen_port && c.listen_port == 51820);
    CHECK(c.has_fwmark && c.fwmark == 4660);
    CHECK(c.replace_peers);
    CHECK(c.n_peers == 3);
    if (c.n_peers != 3) {
        config_free(&c);
        return;
    }
    struct config_peer *p = &c.peers[0];
    CHECK_EQ_MEM(p->public_key, key(P1), 32);
    CHECK(p->has_preshared_key);
    CHECK_EQ_MEM(p->preshared_key, key(PSK), 32);
    CHECK(p->has_endpoint && p->endpoint_host && !strcmp(p->endpoint_host, "192.0.2.1"));
    CHECK(p->endpoint_port == 51820);
    CHECK(p->endpoint.family == 4 && p->endpoint.port == 51820);
    CHECK_EQ_MEM(p->endpoint.addr, "\xc0\x00\x02\x01", 4);
    CHECK(p->has_persistent_keepalive && p->persistent_keepalive == 25);
    CHECK(p->replace_allowed_ips && !p->remove && !p->update_only);
    CHECK(p->n_allowed_ips == 2);
    CHECK(has_prefix(p->allowed_ips, p->n_allowed_ips, "10.0.0.0/24"));
    CHECK(has_prefix(p->allowed_ips, p->n_allowed_ips, "fd00::/64"));   /* normalized */
    CHECK(p->n_removed_allowed_ips == 1);
    CHECK(has_prefix(p->removed_allowed_ips, p->n_removed_allowed_ips, "10.9.0.0/16"));

    p = &c.peers[1];
    CHECK_EQ_MEM(p->public_key, key(P2), 32);
    CHECK(p->update_only && !p->remove && !p->has_preshared_key);
    CHECK(p->has_endpoint && p->endpoint.family == 6 && p->endpoint.port == 443);
    CHECK(p->endpoint_host && !strcmp(p->endpoint_host, "2001:db8::1"));
    CHECK_EQ_MEM(p->endpoint.addr, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
    CHECK(p->has_persistent_keepalive && p->persistent_keepalive == 0);
    CHECK(p->n_allowed_ips == 0);

    p = &c.peers[2];
    CHECK_EQ_MEM(p->public_key, key(P3), 32);
    CHECK(p->remove);
    CHECK(p->n_allowed_ips == 0 && !p->has_endpoint);   /* checked, not stored */
    config_free(&c);
}

static void test_parse_values(void)
{
    struct config c;

    /* All-zero private key: remove it. */
    CHECK(parse("private_key=" ZERO64 "\n\n", &c) == 0);
    CHECK(c.has_private_key);
    CHECK_EQ_MEM(c.private_key, key(ZERO64), 32);
    config_free(&c);

    /* Zero preshared key: remove it; fwmark 0: off; limits. */
    CHECK(parse("listen_port=0\nfwmark=0\npublic_key=" P1 "\npreshared_key=" ZERO64
                "\npersistent_keepalive_interval=65535\n", &c) == 0);
    CHECK(c.has_listen_port && c.listen_port == 0 && c.has_fwmark && c.fwmark == 0);
    CHECK(c.n_peers == 1 && c.peers[0].has_preshared_key);
    CHECK(c.n_peers == 1 && c.peers[0].persistent_keepalive == 65535);
    config_free(&c);

    CHECK(parse("fwmark=4294967295\nlisten_port=65535\nlisten_port=00080", &c) == 0);
    CHECK(c.fwmark == 4294967295u && c.listen_port == 80);
    config_free(&c);

    /* Empty set and an immediately blank line. */
    CHECK(parse("", &c) == 0);
    CHECK(!c.has_private_key && !c.has_listen_port && c.n_peers == 0);
    config_free(&c);
    CHECK(parse("\nlisten_port=1\n", &c) == 0);
    CHECK(!c.has_listen_port);
    config_free(&c);

    /* IPv4-mapped and bracketed IPv6 endpoints, /0 prefixes. */
    CHECK(parse("public_key=" P1 "\nendpoint=[::ffff:192.0.2.9]:1\nallowed_ip=0.0.0.0/0\n"
                "allowed_ip=::/0\n", &c) == 0);
    CHECK(c.n_peers == 1 && c.peers[0].endpoint.family == 6 && c.peers[0].endpoint.port == 1);
    CHECK(c.n_peers == 1 && has_prefix(c.peers[0].allowed_ips, c.peers[0].n_allowed_ips, "0.0.0.0/0"));
    CHECK(c.n_peers == 1 && has_prefix(c.peers[0].allowed_ips, c.peers[0].n_allowed_ips, "::/0"));
    config_free(&c);

    /* The same key twice: two entries, applied in order. */
    CHECK(parse("public_key=" P1 "\nremove=true\npublic_key=" P1 "\nallowed_ip=10.0.0.1/32\n", &c) == 0);
    CHECK(c.n_peers == 2 && c.peers[0].remove && !c.peers[1].remove);
    CHECK(c.n_peers == 2 && c.peers[1].n_allowed_ips == 1);
    config_free(&c);
}

/* wireguard-go applies lines one by one; the parsed change must mean the
 * same whatever order the device applies its lists in. */
static void test_parse_sequential(void)
{
    struct config c;

    CHECK(parse("public_key=" P1 "\nallowed_ip=10.0.0.0/8\nallowed_ip=-10.0.0.0/8\n", &c) == 0);
    CHECK(c.peers[0].n_allowed_ips == 0 && c.peers[0].n_removed_allowed_ips == 1);
    config_free(&c);

    CHECK(parse("public_key=" P1 "\nallowed_ip=-10.0.0.0/8\nallowed_ip=10.1.2.3/8\n", &c) == 0);
    CHECK(c.peers[0].n_allowed_ips == 1 && c.peers[0].n_removed_allowed_ips == 0);
    config_free(&c);

    CHECK(parse("public_key=" P1 "\nallowed_ip=10.0.0.0/8\nallowed_ip=-192.168.0.0/16\n"
                "replace_allowed_ips=true\nallowed_ip=172.16.0.0/12\nallowed_ip=172.16.0.0/12\n", &c) == 0);
    CHECK(c.peers[0].replace_allowed_ips);
    CHECK(c.peers[0].n_allowed_ips == 1 && c.peers[0].n_removed_allowed_ips == 0);
    CHECK(has_prefix(c.peers[0].allowed_ips, c.peers[0].n_allowed_ips, "172.16.0.0/12"));
    config_free(&c);
}

struct bad_case {
    const char *body;
    int code;
};

static void test_parse_errors(void)
{
    static const struct bad_case cases[] = {
        { "private_key=" ZERO64 "0\n", -EINVAL },            /* 65 digits */
        { "private_key=000000000000000000000000000000000000000000000000000000000000000\n", -EINVAL },
        { "private_key=g000000000000000000000000000000000000000000000000000000000000000\n", -EINVAL },
        { "private_key=\n", -EINVAL },
        { "listen_port=65536\n", -EINVAL },
        { "listen_port=\n", -EINVAL },
        { "listen_port=-1\n", -EINVAL },
        { "listen_port=+1\n", -EINVAL },
        { "listen_port= 1\n", -EINVAL },
        { "listen_port=0x10\n", -EINVAL },
        { "fwmark=4294967296\n", -EINVAL },
        { "fwmark=off\n", -EINVAL },
        { "replace_peers=false\n", -EINVAL },
        { "replace_peers=TRUE\n", -EINVAL },
        { "bogus=1\n", -EINVAL },
        { "endpoint=1.2.3.4:5\n", -EINVAL },                  /* peer key before public_key */
        { "allowed_ip=10.0.0.0/8\n", -EINVAL },
        { "remove=true\n", -EINVAL },
        { "protocol_version=1\n", -EINVAL },
        { "public_key=" P1 "0\n", -EINVAL },
        { "public_key=\n", -EINVAL },
        { "public_key=" P1 "\nlisten_port=1\n", -EINVAL },   /* device key in a peer section */
        { "public_key=" P1 "\nprivate_key=" K1 "\n", -EINVAL },
        { "public_key=" P1 "\nbogus=1\n", -EINVAL },
        { "public_key=" P1 "\nremove=false\n", -EINVAL },
        { "public_key=" P1 "\nupdate_only=yes\n", -EINVAL },
        { "public_key=" P1 "\nreplace_allowed_ips=1\n", -EINVAL },
        { "public_key=" P1 "\nprotocol_version=2\n", -EINVAL },
        { "public_key=" P1 "\nprotocol_version=01\n", -EINVAL },
        { "public_key=" P1 "\npreshared_key=123\n", -EINVAL },
        { "public_key=" P1 "\npersistent_keepalive_interval=65536\n", -EINVAL },
        { "public_key=" P1 "\npersistent_keepalive_interval=\n", -EINVAL },
        { "public_key=" P1 "\nendpoint=example.com:51820\n", -EINVAL },
        { "public_key=" P1 "\nendpoint=2001:db8::1:51820\n", -EINVAL },
        { "public_key=" P1 "\nendpoint=[192.0.2.1]:51820\n", -EINVAL },
        { "public_key=" P1 "\nendpoint=[fe80::1%eth0]:51820\n", -EINVAL },
        { "public_key=" P1 "\nendpoint=192.0.2.1\n", -EINVAL },
        { "public_key=" P1 "\nendpoint=192.0.2.1:\n", -EINVAL },
        { "public_key=" P1 "\nendpoint=192.0.2.1:65536\n", -EINVAL },
        { "public_key=" P1 "\nendpoint=[2001:db8::1]51820\n", -EINVAL },
        { "public_key=" P1 "\nendpoint=\n", -EINVAL },
        { "public_key=" P1 "\nallowed_ip=10.0.0.1\n", -EINVAL },      /* length required */
        { "public_key=" P1 "\nallowed_ip=10.0.0.0/33\n", -EINVAL },
        { "public_key=" P1 "\nallowed_ip=fd00::/129\n", -EINVAL },
        { "public_key=" P1 "\nallowed_ip=10.0.0.0/08\n", -EINVAL },
        { "public_key=" P1 "\nallowed_ip=10.0.0.0/\n", -EINVAL },
        { "public_key=" P1 "\nallowed_ip=-\n", -EINVAL },
        { "public_key=" P1 "\nallowed_ip=--10.0.0.0/8\n", -EINVAL },
        { "public_key=" P1 "\nallowed_ip=10.0.0.256/32\n", -EINVAL },
        { "public_key=" P1 "\nallowed_ip=fe80::%eth0/64\n", -EINVAL },
        /* Bad values are still refused after remove=true. */
        { "public_key=" P1 "\nremove=true\nendpoint=nowhere\n", -EINVAL },
        { "no equals sign\n", -EPROTO },
        { "public_key=" P1 "\nremove\n", -EPROTO },
    };
    struct config c;
    char err[128];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int r = uapi_parse_set(cases[i].body, strlen(cases[i].body), &c, err, sizeof(err));
        CHECK(r == cases[i].code);
        CHECK(strncmp(err, "line ", 5) == 0);
        if (r != cases[i].code)
            fprintf(stderr, "  case %zu: got %d (%s)\n", i, r, err);
        /* On error the change is already freed: nothing leaks (ASan). */
    }

    /* A NUL byte inside a line, and a line too long to be real. */
    static const char nul[] = "listen_port=1\0\n";
    CHECK(uapi_parse_set(nul, sizeof(nul) - 1, &c, NULL, 0) == -EINVAL);
    char longline[600];
    memset(longline, '1', sizeof(longline));
    memcpy(longline, "listen_port=", 12);
    CHECK(uapi_parse_set(longline, sizeof(longline), &c, err, sizeof(err)) == -EINVAL);

    /* The message names the line. */
    CHECK(parse("listen_port=1\npublic_key=" P1 "\nbogus=2\n", &c) == -EINVAL);
    static const char three[] = "listen_port=1\npublic_key=" P1 "\nbogus=2\n";
    CHECK(uapi_parse_set(three, sizeof(three) - 1, &c, err, sizeof(err)) == -EINVAL);
    CHECK(strncmp(err, "line 3: bogus", 13) == 0);
}

/* ========================================================= get formatter */

static void set_endpoint(struct config_peer *p, const char *s)
{
    if (config_endpoint_parse(p, s) != 0 || !p->endpoint.family)
        abort();
}

static void sample_config(struct config *c)
{
    struct config_peer *p;

    config_init(c);
    c->has_private_key = true;
    memcpy(c->private_key, key(K1), 32);
    c->has_listen_port = true;
    c->listen_port = 51820;
    c->has_fwmark = true;
    c->fwmark = 0x1234;
    p = add_peer(c, P1);
    p->has_preshared_key = true;
    memcpy(p->preshared_key, key(PSK), 32);
    set_endpoint(p, "[2001:db8::1]:443");
    p->has_persistent_keepalive = true;
    p->persistent_keepalive = 25;
    p->has_stats = true;
    p->last_handshake_time_sec = 1700000000;
    p->last_handshake_time_nsec = 123456789;
    p->tx_bytes = 18446744073709551615ull;
    p->rx_bytes = 42;
    add_ip(p, "10.0.0.0/24");
    add_ip(p, "fd00::/64");
    p = add_peer(c, P2);
    add_ip(p, "192.168.1.7/32");
}

static const char sample_get[] =
    "private_key=" K1 "\n"
    "listen_port=51820\n"
    "fwmark=4660\n"
    "public_key=" P1 "\n"
    "preshared_key=" PSK "\n"
    "protocol_version=1\n"
    "endpoint=[2001:db8::1]:443\n"
    "last_handshake_time_sec=1700000000\n"
    "last_handshake_time_nsec=123456789\n"
    "tx_bytes=18446744073709551615\n"
    "rx_bytes=42\n"
    "persistent_keepalive_interval=25\n"
    "allowed_ip=10.0.0.0/24\n"
    "allowed_ip=fd00::/64\n"
    "public_key=" P2 "\n"
    "preshared_key=" ZERO64 "\n"
    "protocol_version=1\n"
    "last_handshake_time_sec=0\n"
    "last_handshake_time_nsec=0\n"
    "tx_bytes=0\n"
    "rx_bytes=0\n"
    "persistent_keepalive_interval=0\n"
    "allowed_ip=192.168.1.7/32\n";

static void test_format(void)
{
    struct config c;
    char *s;

    sample_config(&c);
    s = uapi_format_get(&c);
    CHECK(s && !strcmp(s, sample_get));
    if (s && strcmp(s, sample_get))
        fprintf(stderr, "got:\n%s\nwant:\n%s\n", s, sample_get);
    uapi_text_free(s);

    /* IPv4 endpoint; zero key, zero port and zero fwmark are left out. */
    memset(c.private_key, 0, 32);
    c.listen_port = 0;
    c.fwmark = 0;
    config_free(&c);
    config_init(&c);
    c.has_private_key = true;
    c.has_listen_port = true;
    c.has_fwmark = true;
    struct config_peer *p = add_peer(&c, P3);
    set_endpoint(p, "127.0.0.1:51820");
    s = uapi_format_get(&c);
    CHECK(s && !strcmp(s, "public_key=" P3 "\npreshared_key=" ZERO64 "\nprotocol_version=1\n"
                          "endpoint=127.0.0.1:51820\nlast_handshake_time_sec=0\n"
                          "last_handshake_time_nsec=0\ntx_bytes=0\nrx_bytes=0\n"
                          "persistent_keepalive_interval=0\n"));
    uapi_text_free(s);
    config_free(&c);

    config_init(&c);
    s = uapi_format_get(&c);
    CHECK(s && s[0] == '\0');
    uapi_text_free(s);
}

/* get output, less the runtime lines, is valid set input meaning the same. */
static void test_round_trip(void)
{
    struct config c, back;
    char *s, *w, *r;

    sample_config(&c);
    s = uapi_format_get(&c);
    CHECK(s != NULL);
    if (!s)
        return;
    for (r = w = s; *r;) {
        char *nl = strchr(r, '\n');
        size_t n = (size_t)(nl - r) + 1;
        bool runtime = !strncmp(r, "last_handshake", 14) || !strncmp(r, "tx_bytes", 8) ||
                       !strncmp(r, "rx_bytes", 8);
        if (!runtime) {
            memmove(w, r, n);
            w += n;
        }
        r += n;
    }
    *w = '\0';
    CHECK(uapi_parse_set(s, strlen(s), &back, NULL, 0) == 0);
    CHECK(back.has_private_key && !memcmp(back.private_key, c.private_key, 32));
    CHECK(back.listen_port == c.listen_port && back.fwmark == c.fwmark);
    CHECK(back.n_peers == 2);
    for (size_t i = 0; i < back.n_peers && i < 2; i++) {
        const struct config_peer *a = &c.peers[i], *b = &back.peers[i];
        static const uint8_t zero[32];
        CHECK(!memcmp(a->public_key, b->public_key, 32));
        CHECK(b->has_preshared_key);
        CHECK(!memcmp(b->preshared_key, a->has_preshared_key ? a->preshared_key : zero, 32));
        CHECK(!memcmp(&a->endpoint, &b->endpoint, sizeof(a->endpoint)));
        CHECK(b->persistent_keepalive == a->persistent_keepalive);
        CHECK(b->n_allowed_ips == a->n_allowed_ips);
        for (size_t j = 0; j < a->n_allowed_ips && j < b->n_allowed_ips; j++)
            CHECK(!memcmp(&a->allowed_ips[j], &b->allowed_ips[j], sizeof(a->allowed_ips[j])));
    }
    config_free(&back);
    config_free(&c);
    uapi_text_free(s);
}

/* ============================================== fake device for the server */

/* It holds a struct config and applies set changes with wireguard-go's
 * semantics: replace_peers, remove, update_only, replace_allowed_ips,
 * allowed IPs moving between peers, key removal by zeros. */
struct fake {
    struct config state;
    unsigned gets, sets;
    int fail_set;                     /* nonzero: set returns it, changes nothing */
    uint16_t fail_port;               /* set of this listen port: -EADDRINUSE */
    unsigned stats_calls;
    int fail_stats;                   /* nonzero: stats returns it */
};

static void copy_peer(struct config *dst, const struct config_peer *p)
{
    struct config_peer *q = config_add_peer(dst);
    memcpy(q->public_key, p->public_key, 32);
    q->has_preshared_key = p->has_preshared_key;
    memcpy(q->preshared_key, p->preshared_key, 32);
    q->has_endpoint = p->has_endpoint;
    q->endpoint = p->endpoint;
    q->endpoint_port = p->endpoint_port;
    q->has_persistent_keepalive = p->has_persistent_keepalive;
    q->persistent_keepalive = p->persistent_keepalive;
    q->has_stats = p->has_stats;
    q->last_handshake_time_sec = p->last_handshake_time_sec;
    q->last_handshake_time_nsec = p->last_handshake_time_nsec;
    q->rx_bytes = p->rx_bytes;
    q->tx_bytes = p->tx_bytes;
    for (size_t i = 0; i < p->n_allowed_ips; i++)
        config_prefixes_add(&q->allowed_ips, &q->n_allowed_ips, &p->allowed_ips[i]);
}

static int fake_get(void *ctx, struct config *out)
{
    struct fake *f = ctx;
    const struct config *s = &f->state;

    f->gets++;
    out->has_private_key = s->has_private_key;
    memcpy(out->private_key, s->private_key, 32);
    out->has_listen_port = s->has_listen_port;
    out->listen_port = s->listen_port;
    out->has_fwmark = s->has_fwmark;
    out->fwmark = s->fwmark;
    for (size_t i = 0; i < s->n_peers; i++)
        copy_peer(out, &s->peers[i]);
    return 0;
}

static long find_peer(const struct config *c, const uint8_t *pub)
{
    for (size_t i = 0; i < c->n_peers; i++)
        if (!memcmp(c->peers[i].public_key, pub, 32))
            return (long)i;
    return -1;
}

static void remove_peer(struct config *c, size_t i)
{
    free(c->peers[i].endpoint_host);
    free(c->peers[i].allowed_ips);
    memmove(&c->peers[i], &c->peers[i + 1], (c->n_peers - i - 1) * sizeof(c->peers[0]));
    c->n_peers--;
}

static void drop_ip(struct config_peer *p, const struct config_prefix *x)
{
    for (size_t i = 0; i < p->n_allowed_ips; i++) {
        if (!memcmp(&p->allowed_ips[i], x, sizeof(*x))) {
            memmove(&p->allowed_ips[i], &p->allowed_ips[i + 1],
                    (p->n_allowed_ips - i - 1) * sizeof(*x));
            p->n_allowed_ips--;
            return;
        }
    }
}

static void apply_ips(struct config *s, size_t idx, const struct config_peer *cp)
{
    struct config_peer *p = &s->peers[idx];

    if (cp->replace_allowed_ips)
        p->n_allowed_ips = 0;
    for (size_t i = 0; i < cp->n_removed_allowed_ips; i++)
        drop_ip(p, &cp->removed_allowed_ips[i]);
    for (size_t i = 0; i < cp->n_allowed_ips; i++) {
        /* An allowed IP belongs to one peer: adding moves it. */
        for (size_t j = 0; j < s->n_peers; j++)
            drop_ip(&s->peers[j], &cp->allowed_ips[i]);
        config_prefixes_add(&p->allowed_ips, &p->n_allowed_ips, &cp->allowed_ips[i]);
    }
}

static void apply_peer(struct config *s, const struct config_peer *cp)
{
    static const uint8_t zero[32];
    long idx = find_peer(s, cp->public_key);

    if (cp->remove) {
        if (idx >= 0)
            remove_peer(s, (size_t)idx);
        return;
    }
    if (idx < 0) {
        if (cp->update_only)
            return;
        memcpy(config_add_peer(s)->public_key, cp->public_key, 32);
        idx = (long)s->n_peers - 1;
    }
    struct config_peer *p = &s->peers[idx];
    if (cp->has_preshared_key) {
        p->has_preshared_key = memcmp(cp->preshared_key, zero, 32) != 0;
        memcpy(p->preshared_key, cp->preshared_key, 32);
    }
    if (cp->has_endpoint) {
        p->has_endpoint = true;
        p->endpoint = cp->endpoint;
        p->endpoint_port = cp->endpoint_port;
    }
    if (cp->has_persistent_keepalive) {
        p->has_persistent_keepalive = true;
        p->persistent_keepalive = cp->persistent_keepalive;
    }
    apply_ips(s, (size_t)idx, cp);
}

static int fake_set(void *ctx, const struct config *ch)
{
    static const uint8_t zero[32];
    struct fake *f = ctx;
    struct config *s = &f->state;

    f->sets++;
    if (f->fail_set)
        return f->fail_set;
    if (ch->has_listen_port && f->fail_port && ch->listen_port == f->fail_port)
        return -EADDRINUSE;
    if (ch->has_private_key) {
        s->has_private_key = memcmp(ch->private_key, zero, 32) != 0;
        memcpy(s->private_key, ch->private_key, 32);
    }
    if (ch->has_listen_port) {
        s->has_listen_port = true;
        s->listen_port = ch->listen_port;
    }
    if (ch->has_fwmark) {
        s->has_fwmark = true;
        s->fwmark = ch->fwmark;
    }
    if (ch->replace_peers)
        while (s->n_peers)
            remove_peer(s, s->n_peers - 1);
    for (size_t i = 0; i < ch->n_peers; i++)
        apply_peer(s, &ch->peers[i]);
    return 0;
}

/* The server serialises ops calls itself; this lock only lets the main
 * thread hand the state over to and take it back from the server threads
 * in a way race detectors can see (wg(8) runs in another process). */
static pthread_mutex_t fake_lock = PTHREAD_MUTEX_INITIALIZER;

static int fake_get_locked(void *ctx, struct config *out)
{
    pthread_mutex_lock(&fake_lock);
    int r = fake_get(ctx, out);
    pthread_mutex_unlock(&fake_lock);
    return r;
}

static int fake_set_locked(void *ctx, const struct config *change)
{
    pthread_mutex_lock(&fake_lock);
    int r = fake_set(ctx, change);
    pthread_mutex_unlock(&fake_lock);
    return r;
}

static void fake_sync(void)
{
    pthread_mutex_lock(&fake_lock);
    pthread_mutex_unlock(&fake_lock);
}

/* The server's last complaint. */
static char fake_last_log[256];

static void fake_log(void *ctx, enum wb_log_level level, const char *msg)
{
    (void)level;
    if (level == WB_LOG_DEBUG)
        return;                       /* "set: applied", closes: not complaints */
    pthread_mutex_lock(&fake_lock);
    snprintf(fake_last_log, sizeof(fake_last_log), "%s", msg);
    pthread_mutex_unlock(&fake_lock);
}

/* The datapath's counters: two workers, fixed values (fake_stats_body). */
static void fake_stats_fill(struct uapi_stats *out)
{
    out->workers = 2;
    out->pool_bytes = 4096;
    out->pkt_room = 1500;
    out->per_worker[0].rx_datagrams = 5;
    out->per_worker[1].tx_tun = 6;
    out->handshake.cookies = 7;
    out->has_io = true;
    out->offloads = IO_OFFLOAD_TUN_TSO | IO_OFFLOAD_UDP_GSO;
    out->io.rx_too_big = 8;
}

static int fake_stats(void *ctx, struct uapi_stats *out)
{
    struct fake *f = ctx;

    pthread_mutex_lock(&fake_lock);
    f->stats_calls++;
    int r = f->fail_stats;
    pthread_mutex_unlock(&fake_lock);
    if (r == 0)
        fake_stats_fill(out);
    return r;
}

static const struct uapi_ops fake_ops = { fake_get_locked, fake_set_locked, fake_log, fake_stats };
/* A device without the stats callback (an older wirebolt's ops). */
static const struct uapi_ops fake_ops_no_stats = { fake_get_locked, fake_set_locked, fake_log, NULL };

static void fake_init(struct fake *f)
{
    struct config_peer *p;

    memset(f, 0, sizeof(*f));
    config_init(&f->state);
    f->state.has_private_key = true;
    memcpy(f->state.private_key, key(K1), 32);
    f->state.has_listen_port = true;
    f->state.listen_port = 51820;
    p = add_peer(&f->state, P1);
    add_ip(p, "10.0.0.0/24");
}

/* ================================================================ client */

/* Read one reply (up to the first blank line) or, with to_eof, everything
 * until the server closes. Returns a malloc'd string. */
static char *read_reply(int fd, bool to_eof)
{
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);

    for (;;) {
        if (len + 1 == cap)
            buf = realloc(buf, cap *= 2);
        ssize_t n = recv(fd, buf + len, to_eof ? cap - len - 1 : 1, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = '\0';
        if (!to_eof && len >= 2 && buf[len - 1] == '\n' && buf[len - 2] == '\n')
            break;
    }
    buf[len] = '\0';
    return buf;
}

/* One connection: send, half-close, read to EOF. */
static char *call(const char *path, const char *req, size_t len)
{
    int fd = client_connect(path);
    if (fd < 0)
        return strdup("<connect failed>");
    send_all(fd, req, len);
    shutdown(fd, SHUT_WR);
    char *r = read_reply(fd, true);
    close(fd);
    return r;
}

static bool call_is(const char *path, const char *req, const char *want)
{
    char *got = call(path, req, strlen(req));
    bool ok = !strcmp(got, want);
    if (!ok)
        fprintf(stderr, "  request %.40s...: got \"%s\", want \"%s\"\n", req, got, want);
    free(got);
    return ok;
}

/* ================================================================ server */

static const char fake_init_get[] =
    "private_key=" K1 "\nlisten_port=51820\n"
    "public_key=" P1 "\npreshared_key=" ZERO64 "\nprotocol_version=1\n"
    "last_handshake_time_sec=0\nlast_handshake_time_nsec=0\ntx_bytes=0\nrx_bytes=0\n"
    "persistent_keepalive_interval=0\nallowed_ip=10.0.0.0/24\n"
    "errno=0\n\n";

static void test_server_requests(const char *path, struct fake *f)
{
    CHECK(call_is(path, "get=1\n\n", fake_init_get));

    /* A set with every peer key, then its effect. */
    CHECK(call_is(path, "set=1\nlisten_port=1234\nfwmark=7\npublic_key=" P2 "\npreshared_key=" PSK
                  "\nendpoint=[2001:db8::5]:9\npersistent_keepalive_interval=5\nallowed_ip=10.0.0.0/24\n"
                  "allowed_ip=10.2.0.0/16\n\n", "errno=0\n\n"));
    CHECK(f->state.listen_port == 1234 && f->state.fwmark == 7);
    CHECK(f->state.n_peers == 2);
    CHECK(f->state.n_peers == 2 && f->state.peers[0].n_allowed_ips == 0);     /* moved to P2 */
    CHECK(f->state.n_peers == 2 && f->state.peers[1].n_allowed_ips == 2);
    CHECK(f->state.n_peers == 2 && f->state.peers[1].has_preshared_key);
    CHECK(f->state.n_peers == 2 && f->state.peers[1].endpoint.port == 9);

    /* A bad set changes nothing and is answered with -EINVAL. */
    unsigned sets = f->sets;
    CHECK(call_is(path, "set=1\nlisten_port=99\nbogus=1\n\n", "errno=-22\n\n"));
    CHECK(f->sets == sets && f->state.listen_port == 1234);
    fake_sync();
    CHECK(!strcmp(fake_last_log, "set: line 2: bogus: unknown device key"));
    CHECK(call_is(path, "set=1\nlisten_port\n\n", "errno=-71\n\n"));   /* -EPROTO */

    /* The device's error travels back as errno=N. */
    f->fail_set = -EADDRINUSE;
    CHECK(call_is(path, "set=1\nlisten_port=1\n\n", "errno=-98\n\n"));
    f->fail_set = 0;

    /* remove, update_only of an unknown peer, replace_allowed_ips, psk removal. */
    CHECK(call_is(path, "set=1\npublic_key=" P1 "\nremove=true\npublic_key=" P3 "\nupdate_only=true\n"
                  "allowed_ip=10.3.0.0/16\npublic_key=" P2 "\nupdate_only=true\npreshared_key=" ZERO64
                  "\nreplace_allowed_ips=true\nallowed_ip=10.4.0.0/16\nallowed_ip=-10.2.0.0/16\n\n",
                  "errno=0\n\n"));
    CHECK(f->state.n_peers == 1);
    CHECK(f->state.n_peers == 1 && !memcmp(f->state.peers[0].public_key, key(P2), 32));
    CHECK(f->state.n_peers == 1 && !f->state.peers[0].has_preshared_key);
    CHECK(f->state.n_peers == 1 && f->state.peers[0].n_allowed_ips == 1 &&
          has_prefix(f->state.peers[0].allowed_ips, 1, "10.4.0.0/16"));

    /* replace_peers and private key removal. */
    CHECK(call_is(path, "set=1\nprivate_key=" ZERO64 "\nreplace_peers=true\n\n", "errno=0\n\n"));
    CHECK(!f->state.has_private_key && f->state.n_peers == 0);
    CHECK(call_is(path, "get=1\n\n", "listen_port=1234\nfwmark=7\nerrno=0\n\n"));
}

static void test_server_framing(const char *path, struct fake *f)
{
    /* Several requests in one write, then several on one open connection. */
    CHECK(call_is(path, "get=1\n\nset=1\nlisten_port=4321\n\nget=1\n\n",
                  "listen_port=1234\nfwmark=7\nerrno=0\n\nerrno=0\n\n"
                  "listen_port=4321\nfwmark=7\nerrno=0\n\n"));
    int fd = client_connect(path);
    CHECK(fd >= 0);
    for (int i = 0; i < 3 && fd >= 0; i++) {
        char req[64];
        snprintf(req, sizeof(req), "set=1\nfwmark=%d\n\n", 100 + i);
        send_all(fd, req, strlen(req));
        char *r = read_reply(fd, false);
        CHECK(!strcmp(r, "errno=0\n\n") && f->state.fwmark == 100u + (unsigned)i);
        free(r);
        send_all(fd, "get=1\n\n", 7);
        r = read_reply(fd, false);
        CHECK(strstr(r, "errno=0\n\n") != NULL);
        free(r);
    }
    if (fd >= 0)
        close(fd);

    /* The client closes its side mid-set: what came is applied. */
    CHECK(call_is(path, "set=1\nlisten_port=7777\n", "errno=0\n\n"));
    CHECK(f->state.listen_port == 7777);
    CHECK(call_is(path, "set=1\nlisten_port=7778", "errno=0\n\n"));
    CHECK(f->state.listen_port == 7778);

    /* Unknown operations and a get with trailing garbage: -EINVAL, closed. */
    CHECK(call_is(path, "hello\n\nget=1\n\n", "errno=-22\n\n"));
    fake_sync();
    CHECK(strstr(fake_last_log, "unknown operation") != NULL);
    CHECK(call_is(path, "get=2\n\n", "errno=-22\n\n"));
    CHECK(call_is(path, "get=1\nx\n", "errno=-22\n\n"));
    CHECK(call_is(path, "get=1\n\nGET=1\n\n", "listen_port=7778\nfwmark=102\nerrno=0\n\nerrno=-22\n\n"));
    /* Truncated operations get no answer. */
    CHECK(call_is(path, "get=1\n", ""));
    CHECK(call_is(path, "set", ""));
    CHECK(call_is(path, "", ""));
}

/* The stats reply fake_stats gives, through the codec. */
static char *fake_stats_reply(void)
{
    struct uapi_stats *st = calloc(1, sizeof(*st));
    fake_stats_fill(st);
    char *body = uapi_format_stats(st);
    char *r = malloc(strlen(body) + 16);
    sprintf(r, "%serrno=0\n\n", body);
    free(body);
    free(st);
    return r;
}

static void test_server_stats(const char *path, struct fake *f)
{
    char *want = fake_stats_reply(), *both;
    struct uapi_stats *st = calloc(1, sizeof(*st));

    /* The body: device lines, each worker, the handshake thread, the backend. */
    static const char head[] = "workers=2\nunder_load=false\npool_bytes=4096\npkt_room=1500\n"
                               "offloads=tso,udp-gso\nworker=0\nrx_datagrams=5\n";
    CHECK(!strncmp(want, head, sizeof(head) - 1));
    CHECK(strstr(want, "\nworker=1\n") && strstr(want, "\nworker=handshake\n") &&
          strstr(want, "\ncookies=7\n") && strstr(want, "\nio=linux\n") &&
          strstr(want, "\nrx_too_big=8\n"));
    CHECK(uapi_parse_stats(want, strlen(want), st) == 0 && st->workers == 2 &&
          st->per_worker[1].tx_tun == 6 && st->handshake.cookies == 7 && st->io.rx_too_big == 8);

    unsigned calls = f->stats_calls;
    CHECK(call_is(path, UAPI_OP_STATS "\n\n", want));
    fake_sync();
    CHECK(f->stats_calls == calls + 1);

    /* Beside get and set on one connection, in any order. */
    both = malloc(strlen(want) * 2 + 256);
    sprintf(both, "%serrno=0\n\n%s", want, want);
    static const char three[] = UAPI_OP_STATS "\n\nset=1\n\n" UAPI_OP_STATS "\n\n";
    char *got = call(path, three, sizeof(three) - 1);
    CHECK(!strcmp(got, both));
    free(got);
    static const char two[] = "get=1\n\n" UAPI_OP_STATS "\n\n";
    got = call(path, two, sizeof(two) - 1);
    CHECK(strstr(got, "errno=0\n\nworkers=2\n") != NULL && strstr(got, "\nworker=handshake\n"));
    free(got);
    free(both);

    /* The device's error travels back as errno=N; the connection stays. */
    pthread_mutex_lock(&fake_lock);
    f->fail_stats = -ENOMEM;
    pthread_mutex_unlock(&fake_lock);
    CHECK(call_is(path, UAPI_OP_STATS "\n\nget=1\n\n",
                  "errno=-12\n\nlisten_port=1234\nfwmark=7\nerrno=0\n\n"));
    pthread_mutex_lock(&fake_lock);
    f->fail_stats = 0;
    pthread_mutex_unlock(&fake_lock);

    /* Framed like get: trailing garbage is an error; a truncated op waits. */
    CHECK(call_is(path, UAPI_OP_STATS "\nx\n", "errno=-22\n\n"));
    CHECK(call_is(path, UAPI_OP_STATS "\n", ""));
    CHECK(call_is(path, "wirebolt-stats=2\n\n", "errno=-22\n\n"));
    CHECK(call_is(path, "wirebolt", ""));
    free(want);
    free(st);
}

/* Without the callback, the operation is unknown, as before it existed. */
static void test_server_no_stats(const char *dir, struct fake *f)
{
    int err = 0;
    char path[108];
    struct uapi_server *srv = uapi_server_create_at(dir, "wbt2", &fake_ops_no_stats, f, &err);

    CHECK(srv != NULL);
    if (!srv)
        return;
    snprintf(path, sizeof(path), "%s/wbt2.sock", dir);
    unsigned calls = f->stats_calls;
    CHECK(call_is(path, UAPI_OP_STATS "\n\nget=1\n\n", "errno=-22\n\n"));
    fake_sync();
    CHECK(strstr(fake_last_log, "unknown operation") != NULL && f->stats_calls == calls);
    CHECK(call_is(path, "get=1\n\n", "listen_port=1234\nfwmark=7\nerrno=0\n\n"));
    uapi_server_destroy(srv);
}

static void test_server_limits(const char *path, struct fake *f)
{
    /* No limit on a request as a whole: 4 MiB of lines is one set. */
    size_t lines = (4u << 20) / 11, n = 6 + lines * 11 + 1;
    char *big = malloc(n + UAPI_MAX_LINE + 64);
    memcpy(big, "set=1\n", 6);
    for (size_t i = 0; i < lines; i++)
        memcpy(big + 6 + i * 11, "fwmark=102\n", 11);
    big[n - 1] = '\n';
    unsigned sets = f->sets;
    char *r = call(path, big, n);
    CHECK(!strcmp(r, "errno=0\n\n"));
    CHECK(f->sets == sets + 1);
    free(r);

    /* One line over UAPI_MAX_LINE: -EINVAL, nothing set, and the
     * connection goes on with the next request. */
    memset(big + 6, 'x', UAPI_MAX_LINE + 10);
    memcpy(big + 6, "listen_port=", 12);
    snprintf(big + 6 + UAPI_MAX_LINE + 10, 64, "\nlisten_port=9\n\nget=1\n\n");
    r = call(path, big, strlen(big));
    CHECK(!strcmp(r, "errno=-22\n\nlisten_port=7778\nfwmark=102\nerrno=0\n\n"));
    CHECK(f->sets == sets + 1);
    fake_sync();
    CHECK(strstr(fake_last_log, "set: line 1: longer than 4096 bytes") != NULL);
    free(r);
    free(big);

    /* A stalled client does not hold up others; it finishes when it goes on. */
    int slow = client_connect(path);
    CHECK(slow >= 0);
    send_all(slow, "set=1\nlisten_port=", 18);
    CHECK(call_is(path, "get=1\n\n", "listen_port=7778\nfwmark=102\nerrno=0\n\n"));
    int probe = client_connect(path);       /* wg's liveness probe: connect, close */
    CHECK(probe >= 0);
    close(probe);
    send_all(slow, "2222\n\n", 6);
    r = read_reply(slow, false);
    CHECK(!strcmp(r, "errno=0\n\n") && f->state.listen_port == 2222);
    free(r);
    close(slow);
}

static void test_server_socket(const char *dir)
{
    struct fake f;
    struct uapi_server *srv, *again;
    struct stat st;
    char path[108];
    int err = 0;

    fake_init(&f);
    snprintf(path, sizeof(path), "%s/wbt0.sock", dir);
    srv = uapi_server_create_at(dir, "wbt0", &fake_ops, &f, &err);
    CHECK(srv != NULL && err == 0);
    if (!srv) {
        config_free(&f.state);
        return;
    }
    CHECK(!strcmp(uapi_server_path(srv), path));
    CHECK(lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0600);

    /* A second server on a live socket is refused; the first keeps working. */
    again = uapi_server_create_at(dir, "wbt0", &fake_ops, &f, &err);
    CHECK(again == NULL && err == -EADDRINUSE);
    uapi_server_destroy(again);

    test_server_requests(path, &f);
    test_server_stats(path, &f);
    test_server_no_stats(dir, &f);
    test_server_framing(path, &f);
    test_server_limits(path, &f);

    /* Destroy wakes a client that is mid-request and one that idles between
     * requests (up to UAPI_IDLE_TIMEOUT_MS), and removes the file. */
    int busy = client_connect(path), idle = client_connect(path);
    send_all(busy, "set=1\n", 6);
    send_all(idle, "get=1\n\n", 7);
    char *r = read_reply(idle, false);
    CHECK(strstr(r, "errno=0\n\n") != NULL);
    free(r);
    uapi_server_destroy(srv);
    CHECK(lstat(path, &st) < 0 && errno == ENOENT);
    r = read_reply(busy, true);
    CHECK(r[0] == '\0');
    free(r);
    r = read_reply(idle, true);
    CHECK(r[0] == '\0');
    free(r);
    close(busy);
    close(idle);
    CHECK(client_connect(path) < 0);

    /* A dead server's socket file is taken over. */
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0);
    close(fd);
    srv = uapi_server_create_at(dir, "wbt0", &fake_ops, &f, &err);
    CHECK(srv != NULL);
    CHECK(srv && call_is(path, "set=1\nlisten_port=3\n\n", "errno=0\n\n") && f.state.listen_port == 3);
    uapi_server_destroy(srv);

    /* Something that is not a socket is left alone. */
    fd = open(path, O_CREAT | O_WRONLY, 0600);
    close(fd);
    srv = uapi_server_create_at(dir, "wbt0", &fake_ops, &f, &err);
    CHECK(srv == NULL && err == -EEXIST);
    CHECK(lstat(path, &st) == 0 && S_ISREG(st.st_mode));
    unlink(path);

    /* Names wg could never ask for. */
    CHECK(!uapi_server_create_at(dir, "", &fake_ops, &f, &err) && err == -EINVAL);
    CHECK(!uapi_server_create_at(dir, "a/b", &fake_ops, &f, &err) && err == -EINVAL);
    CHECK(!uapi_server_create_at(dir, "..", &fake_ops, &f, &err) && err == -EINVAL);
    CHECK(!uapi_server_create_at(dir, "sixteen-chars-xx", &fake_ops, &f, &err) && err == -EINVAL);

    /* The run directory is made when missing. */
    char sub[256];
    snprintf(sub, sizeof(sub), "%s/run", dir);
    srv = uapi_server_create_at(sub, "wbt1", &fake_ops, &f, &err);
    CHECK(srv != NULL && stat(sub, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0755);
    uapi_server_destroy(srv);
    rmdir(sub);
    config_free(&f.state);
}

/* ============================================================ real wg(8) */

static int run(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int run(char **out, const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd) - 8, fmt, ap);
    va_end(ap);
    strcat(cmd, " 2>&1");
    fake_sync();                      /* our writes to the fake, before wg reads them */
    FILE *p = popen(cmd, "r");
    if (!p) {
        buf[0] = '\0';
        *out = buf;
        return -1;
    }
    for (size_t n; (n = fread(buf + len, 1, cap - len - 1, p)) > 0;) {
        len += n;
        if (len + 1 == cap)
            buf = realloc(buf, cap *= 2);
    }
    buf[len] = '\0';
    int st = pclose(p);
    fake_sync();                      /* what wg made the server write, before we read it */
    *out = buf;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Run and compare the output; prints both on a mismatch. */
static bool run_is(const char *want, const char *cmd)
{
    char *got;
    int rc = run(&got, "%s", cmd);
    bool ok = rc == 0 && !strcmp(got, want);
    if (!ok)
        fprintf(stderr, "  `%s` exited %d:\n%s  want:\n%s", cmd, rc, got, want);
    free(got);
    return ok;
}

static void b64(char out[45], const uint8_t k[32])
{
    sodium_bin2base64(out, 45, k, 32, sodium_base64_VARIANT_ORIGINAL);
}

static void b64_hex(char out[45], const char *hex)
{
    b64(out, key(hex));
}

static void b64_public(char out[45], const char *private_hex)
{
    uint8_t pub[32];
    crypto_scalarmult_base(pub, key(private_hex));
    b64(out, pub);
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    if (!fp)
        abort();
    fputs(text, fp);
    fclose(fp);
}

static struct config_peer *state_peer(struct fake *f, const char *pub_hex)
{
    long i = find_peer(&f->state, key(pub_hex));
    return i < 0 ? NULL : &f->state.peers[i];
}

static bool peer_ips_are(const struct config_peer *p, const char *a, const char *b)
{
    size_t n = (a ? 1 : 0) + (b ? 1 : 0);
    return p && p->n_allowed_ips == n && (!a || has_prefix(p->allowed_ips, n, a)) &&
           (!b || has_prefix(p->allowed_ips, n, b));
}

struct wg_env {
    const char *ifname;
    char k1[45], k1_pub[45], k2[45], k2_pub[45], p1[45], p2[45], p3[45], psk[45];
    char file[64];                    /* scratch file for keys and configs */
};

static void wg_show(struct wg_env *e, struct fake *f)
{
    char cmd[256], want[1024];
    struct config_peer *p = state_peer(f, P1);

    p->has_stats = true;
    p->last_handshake_time_sec = 1700000000;
    p->last_handshake_time_nsec = 5;
    p->rx_bytes = 42;
    p->tx_bytes = 1000;

    char *out;
    CHECK(run(&out, "wg show interfaces") == 0 && strstr(out, e->ifname) != NULL);
    free(out);
    snprintf(cmd, sizeof(cmd), "wg show %s dump", e->ifname);
    snprintf(want, sizeof(want), "%s\t%s\t51820\toff\n%s\t(none)\t(none)\t10.0.0.0/24\t1700000000\t42\t1000\toff\n",
             e->k1, e->k1_pub, e->p1);
    CHECK(run_is(want, cmd));
    snprintf(cmd, sizeof(cmd), "wg show %s public-key", e->ifname);
    snprintf(want, sizeof(want), "%s\n", e->k1_pub);
    CHECK(run_is(want, cmd));
}

static void wg_set_peer(struct wg_env *e, struct fake *f)
{
    char cmd[512], want[1024];
    struct config_peer *p;

    snprintf(cmd, sizeof(cmd), "wg set %s peer %s allowed-ips 10.0.0.0/24 endpoint 127.0.0.1:51820 "
             "persistent-keepalive 25", e->ifname, e->p2);
    CHECK(run_is("", cmd));
    p = state_peer(f, P2);
    CHECK(p && p->endpoint.family == 4 && p->endpoint.port == 51820 &&
          !memcmp(p->endpoint.addr, "\x7f\0\0\x01", 4));
    CHECK(p && p->has_persistent_keepalive && p->persistent_keepalive == 25);
    CHECK(peer_ips_are(p, "10.0.0.0/24", NULL));
    CHECK(peer_ips_are(state_peer(f, P1), NULL, NULL));   /* the prefix moved */

    snprintf(cmd, sizeof(cmd), "wg showconf %s", e->ifname);
    snprintf(want, sizeof(want),
             "[Interface]\nListenPort = 51820\nPrivateKey = %s\n\n"
             "[Peer]\nPublicKey = %s\n\n"
             "[Peer]\nPublicKey = %s\nAllowedIPs = 10.0.0.0/24\nEndpoint = 127.0.0.1:51820\n"
             "PersistentKeepalive = 25\n", e->k1, e->p1, e->p2);
    CHECK(run_is(want, cmd));

    /* Preshared key from a file, then removed with an empty one. */
    snprintf(want, sizeof(want), "%s\n", e->psk);
    write_file(e->file, want);
    snprintf(cmd, sizeof(cmd), "wg set %s peer %s preshared-key %s", e->ifname, e->p2, e->file);
    CHECK(run_is("", cmd));
    p = state_peer(f, P2);
    CHECK(p && p->has_preshared_key && !memcmp(p->preshared_key, key(PSK), 32));
    snprintf(cmd, sizeof(cmd), "wg show %s preshared-keys", e->ifname);
    snprintf(want, sizeof(want), "%s\t(none)\n%s\t%s\n", e->p1, e->p2, e->psk);
    CHECK(run_is(want, cmd));
    snprintf(cmd, sizeof(cmd), "wg set %s peer %s preshared-key /dev/null", e->ifname, e->p2);
    CHECK(run_is("", cmd));
    CHECK(p && !p->has_preshared_key);

    snprintf(cmd, sizeof(cmd), "wg set %s peer %s remove", e->ifname, e->p1);
    CHECK(run_is("", cmd));
    CHECK(state_peer(f, P1) == NULL && state_peer(f, P2) != NULL && f->state.n_peers == 1);
}

static void wg_set_device(struct wg_env *e, struct fake *f)
{
    char cmd[512], want[256];

    snprintf(want, sizeof(want), "%s\n", e->k2);
    write_file(e->file, want);
    snprintf(cmd, sizeof(cmd), "wg set %s listen-port 12345 fwmark 0x10 private-key %s", e->ifname, e->file);
    CHECK(run_is("", cmd));
    CHECK(f->state.listen_port == 12345 && f->state.fwmark == 0x10);
    CHECK(f->state.has_private_key && !memcmp(f->state.private_key, key(K2), 32));
    snprintf(cmd, sizeof(cmd), "wg show %s public-key", e->ifname);
    snprintf(want, sizeof(want), "%s\n", e->k2_pub);
    CHECK(run_is(want, cmd));
    snprintf(cmd, sizeof(cmd), "wg show %s fwmark", e->ifname);
    CHECK(run_is("0x10\n", cmd));
    snprintf(cmd, sizeof(cmd), "wg set %s fwmark off", e->ifname);
    CHECK(run_is("", cmd));
    CHECK(f->state.fwmark == 0);

    /* The device's error reaches the user. */
    char *out;
    f->fail_port = 1;
    CHECK(run(&out, "wg set %s listen-port 1", e->ifname) != 0);
    CHECK(strstr(out, "Address already in use") != NULL);
    free(out);
    f->fail_port = 0;
    CHECK(f->state.listen_port == 12345);
}

static void wg_conf_files(struct wg_env *e, struct fake *f)
{
    char cmd[512], conf[2048];
    struct config_peer *p;

    snprintf(conf, sizeof(conf),
             "[Interface]\nPrivateKey = %s\nListenPort = 40000\n\n"
             "[Peer]\nPublicKey = %s\nAllowedIPs = 10.1.0.0/16, fd01::/64\nEndpoint = [2001:db8::7]:1234\n\n"
             "[Peer]\nPublicKey = %s\nPresharedKey = %s\nAllowedIPs = 10.3.0.0/16\nPersistentKeepalive = 15\n",
             e->k1, e->p1, e->p3, e->psk);
    write_file(e->file, conf);
    snprintf(cmd, sizeof(cmd), "wg setconf %s %s", e->ifname, e->file);
    CHECK(run_is("", cmd));
    CHECK(f->state.n_peers == 2 && state_peer(f, P2) == NULL);
    CHECK(f->state.listen_port == 40000 && !memcmp(f->state.private_key, key(K1), 32));
    p = state_peer(f, P1);
    CHECK(peer_ips_are(p, "10.1.0.0/16", "fd01::/64"));
    CHECK(p && p->endpoint.family == 6 && p->endpoint.port == 1234);
    p = state_peer(f, P3);
    CHECK(peer_ips_are(p, "10.3.0.0/16", NULL));
    CHECK(p && p->has_preshared_key && p->persistent_keepalive == 15);

    /* syncconf: P3 goes, P1 loses fd01::/64 (keeps its endpoint), P2 comes. */
    snprintf(conf, sizeof(conf),
             "[Interface]\nPrivateKey = %s\nListenPort = 40000\n\n"
             "[Peer]\nPublicKey = %s\nAllowedIPs = 10.1.0.0/16\n\n"
             "[Peer]\nPublicKey = %s\nAllowedIPs = 10.2.0.0/16\n",
             e->k1, e->p1, e->p2);
    write_file(e->file, conf);
    snprintf(cmd, sizeof(cmd), "wg syncconf %s %s", e->ifname, e->file);
    CHECK(run_is("", cmd));
    CHECK(f->state.n_peers == 2 && state_peer(f, P3) == NULL);
    p = state_peer(f, P1);
    CHECK(peer_ips_are(p, "10.1.0.0/16", NULL));
    CHECK(p && p->endpoint.family == 6);
    CHECK(peer_ips_are(state_peer(f, P2), "10.2.0.0/16", NULL));

    /* addconf adds without replacing. */
    snprintf(conf, sizeof(conf), "[Peer]\nPublicKey = %s\nAllowedIPs = 10.3.0.0/16\n", e->p3);
    write_file(e->file, conf);
    snprintf(cmd, sizeof(cmd), "wg addconf %s %s", e->ifname, e->file);
    CHECK(run_is("", cmd));
    CHECK(f->state.n_peers == 3 && peer_ips_are(state_peer(f, P3), "10.3.0.0/16", NULL));
}

static void test_wg_tool(void)
{
    struct wg_env e;
    struct fake f;
    struct uapi_server *srv;
    char ifname[16];
    int err = 0, fd;

    memset(&e, 0, sizeof(e));
    snprintf(ifname, sizeof(ifname), "wbt%u", (unsigned)getpid() % 100000000u);
    e.ifname = ifname;
    b64_hex(e.k1, K1);
    b64_public(e.k1_pub, K1);
    b64_hex(e.k2, K2);
    b64_public(e.k2_pub, K2);
    b64_hex(e.p1, P1);
    b64_hex(e.p2, P2);
    b64_hex(e.p3, P3);
    b64_hex(e.psk, PSK);
    snprintf(e.file, sizeof(e.file), "/tmp/wb-uapi-wg-XXXXXX");
    fd = mkstemp(e.file);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    close(fd);

    fake_init(&f);
    srv = uapi_server_create(ifname, &fake_ops, &f, &err);
    CHECK(srv != NULL);
    if (srv) {
        wg_show(&e, &f);
        wg_set_peer(&e, &f);
        wg_set_device(&e, &f);
        wg_conf_files(&e, &f);
        uapi_server_destroy(srv);
        char *out;
        CHECK(run(&out, "wg show %s", ifname) != 0);   /* gone with the server */
        free(out);
    }
    unlink(e.file);
    config_free(&f.state);
}

int main(void)
{
    char dir[] = "/tmp/wb-uapi-XXXXXX";

    if (sodium_init() < 0)
        return 1;
    test_parse_all_keys();
    test_parse_values();
    test_parse_sequential();
    test_parse_errors();
    test_format();
    test_round_trip();
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_server_socket(dir);
    rmdir(dir);
    if (geteuid() == 0 && access("/usr/bin/wg", X_OK) == 0)
        test_wg_tool();
    else
        printf("note: skipping the wg(8) tests (they need root and /usr/bin/wg)\n");
    return check_summary();
}
