/* SPDX-License-Identifier: MIT */
/*
 * test_cli_uapi_get.c - the client side of UAPI get used by `wirebolt
 * show` (cli/uapi_get.c): parsing replies (wireguard-go's keys and order,
 * errno, unknown keys, bad values) and a round trip through our own UAPI
 * server in a temporary directory (no privileges needed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "cli/uapi_get.c"

#define PRIV_HEX "e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a"
#define PUB_HEX  "b85996fecc9c7f1fc6d2572a76eda11d59bcb5c3d8ee4c9cdb22e9b4a4e8d83e"
#define PSK_HEX  "188515093e952f5f22e865cef3012e72f8b5f0b598ac0309d5dacce3b70fcf52"

static const char reply[] =
    "private_key=" PRIV_HEX "\n"
    "listen_port=51820\n"
    "fwmark=51820\n"
    "public_key=" PUB_HEX "\n"
    "preshared_key=" PSK_HEX "\n"
    "protocol_version=1\n"
    "endpoint=[abcd:23::33%2]:51820\n"
    "last_handshake_time_sec=1700000000\n"
    "last_handshake_time_nsec=5\n"
    "tx_bytes=38333\n"
    "rx_bytes=2224\n"
    "persistent_keepalive_interval=25\n"
    "some_future_key=whatever\n"
    "allowed_ip=192.168.4.4/32\n"
    "allowed_ip=fd00::/64\n"
    "public_key=" PSK_HEX "\n"
    "endpoint=192.0.2.1:1\n"
    "allowed_ip=10.0.0.0/8\n"
    "errno=0\n\n";

static void test_parse(void)
{
    struct config c;
    uint8_t k[32];

    config_init(&c);
    CHECK(uapi_get_parse(reply, sizeof(reply) - 1, &c) == 0);
    CHECK(c.has_private_key && wb_key_from_hex(k, PRIV_HEX) == 0 && !memcmp(k, c.private_key, 32));
    CHECK(c.has_listen_port && c.listen_port == 51820);
    CHECK(c.has_fwmark && c.fwmark == 51820);
    CHECK(c.n_peers == 2);
    if (c.n_peers == 2) {
        const struct config_peer *p = &c.peers[0];

        CHECK(wb_key_from_hex(k, PUB_HEX) == 0 && !memcmp(k, p->public_key, 32));
        CHECK(p->has_preshared_key);
        CHECK(p->has_stats && p->last_handshake_time_sec == 1700000000 &&
              p->last_handshake_time_nsec == 5 && p->tx_bytes == 38333 && p->rx_bytes == 2224);
        CHECK(p->persistent_keepalive == 25);
        CHECK(p->n_allowed_ips == 2 && p->allowed_ips[0].family == 4 && p->allowed_ips[0].cidr == 32);
        CHECK(p->has_endpoint && p->endpoint_port == 51820);
        CHECK(c.peers[1].has_endpoint && c.peers[1].endpoint.family == 4 &&
              c.peers[1].endpoint.port == 1 && c.peers[1].n_allowed_ips == 1);
    }
    config_free(&c);

    config_init(&c);
    CHECK(uapi_get_parse("errno=-19\n\n", 11, &c) == -19);
    CHECK(uapi_get_parse("errno=0\n\n", 9, &c) == 0 && c.n_peers == 0 && !c.has_private_key);
    config_free(&c);
    config_init(&c);
    CHECK(uapi_get_parse("listen_port=1\n", 14, &c) == -EPROTO);          /* no errno line */
    CHECK(uapi_get_parse("listen_port=70000\nerrno=0\n\n", 27, &c) == -EINVAL);
    CHECK(uapi_get_parse("public_key=zz\nerrno=0\n\n", 23, &c) == -EINVAL);
    CHECK(uapi_get_parse("garbage\nerrno=0\n\n", 17, &c) == -EPROTO);
    CHECK(uapi_get_parse("", 0, &c) == -EPROTO);
    CHECK(c.n_peers == 0);
    config_free(&c);
}

/* A fake device for the server: a fixed configuration. */
static int fake_get(void *ctx, struct config *out)
{
    struct config_peer *p;
    struct config_prefix pr;

    out->has_private_key = true;
    wb_key_from_hex(out->private_key, PRIV_HEX);
    out->has_listen_port = true;
    out->listen_port = 4242;
    p = config_add_peer(out);
    if (!p)
        return -ENOMEM;
    wb_key_from_hex(p->public_key, PUB_HEX);
    p->has_stats = true;
    p->rx_bytes = 7;
    config_prefix_parse(&pr, "10.1.0.0/16");
    return config_prefixes_add(&p->allowed_ips, &p->n_allowed_ips, &pr);
}

static int fake_set(void *ctx, const struct config *change)
{
    return -EPERM;
}

static void test_round_trip(void)
{
    static const struct uapi_ops ops = { .get = fake_get, .set = fake_set };
    char dir[] = "/tmp/test_cli_uapi_XXXXXX";
    char (*names)[16] = NULL;
    struct uapi_server *srv;
    struct config c;
    int err = 0;

    CHECK(mkdtemp(dir) != NULL);
    CHECK(uapi_get_list(dir, &names) == 0);
    srv = uapi_server_create_at(dir, "wbtest0", &ops, NULL, &err);
    CHECK(srv != NULL);
    if (!srv) {
        fprintf(stderr, "  uapi_server_create_at: %d\n", err);
        return;
    }
    CHECK(uapi_get_list(dir, &names) == 1 && strcmp(names[0], "wbtest0") == 0);
    free(names);
    config_init(&c);
    CHECK(uapi_get_fetch(dir, "wbtest0", &c) == 0);
    CHECK(c.listen_port == 4242 && c.n_peers == 1 && c.peers[0].rx_bytes == 7 &&
          c.peers[0].n_allowed_ips == 1 && c.peers[0].allowed_ips[0].cidr == 16);
    config_free(&c);
    CHECK(uapi_get_fetch(dir, "nosuch", &c) == -ENOENT);
    uapi_server_destroy(srv);
    CHECK(uapi_get_list(dir, &names) == 0);
    rmdir(dir);
}

int main(void)
{
    wb_init();
    test_parse();
    test_round_trip();
    return check_summary();
}
