/* SPDX-License-Identifier: MIT */
/*
 * test_cli_save_config.c - SaveConfig's merge (cli/save_config.c): the
 * running keys, port and peers with the file's wg-quick keys, host names
 * and DisallowedIPs kept while they still describe the running state, the
 * fwmark `up` chose itself left out; and the file written back 0600.
 */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "cli/save_config.c"

#define K_PRIV "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
#define K_PEER1 "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
#define K_PEER2 "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0="
#define K_PEER3 "gN65BkIKy1eCE9pP1wdc8ROUtkHLF2PfAqYdyYBz6EA="

static const char file_text[] =
    "[Interface]\n"
    "PrivateKey = " K_PRIV "\n"
    "Address = 10.0.0.2/24\n"
    "DNS = 10.0.0.1, corp\n"
    "MTU = 1380\n"
    "PostUp = echo up %i\n"
    "PostDown = echo down %i\n"
    "SaveConfig = true\n"
    "\n"
    "[Peer]\n"
    "PublicKey = " K_PEER1 "\n"
    "AllowedIPs = 0.0.0.0/0\n"
    "DisallowedIPs = 10.0.0.0/8\n"
    "Endpoint = vpn.example:51820\n"
    "\n"
    "[Peer]\n"
    "PublicKey = " K_PEER2 "\n"
    "AllowedIPs = 172.16.0.0/16\n"
    "DisallowedIPs = 172.16.1.0/24\n"
    "Endpoint = other.example:51820\n";

static void add_prefix(struct config_peer *p, const char *s)
{
    struct config_prefix pr;

    config_prefix_parse(&pr, s);
    config_prefixes_add(&p->allowed_ips, &p->n_allowed_ips, &pr);
}

/* What device_get_config would say after `up` and some wg(8) changes. */
static void running_config(struct config *r)
{
    struct config_peer *p;
    struct config_prefix *eff = NULL;
    size_t n = 0;
    struct config_prefix all, ten;

    config_init(r);
    r->has_private_key = true;
    wb_key_from_base64(r->private_key, K_PRIV);
    r->has_listen_port = true;
    r->listen_port = 40000;
    r->has_fwmark = true;
    r->fwmark = 51820;                     /* chosen by up for policy routing */
    /* peer 1 unchanged: the effective set, endpoint where vpn.example resolved */
    p = config_add_peer(r);
    wb_key_from_base64(p->public_key, K_PEER1);
    config_prefix_parse(&all, "0.0.0.0/0");
    config_prefix_parse(&ten, "10.0.0.0/8");
    config_prefix_subtract(&all, 1, &ten, 1, &eff, &n);
    for (size_t i = 0; i < n; i++)         /* in reverse: order must not matter */
        config_prefixes_add(&p->allowed_ips, &p->n_allowed_ips, &eff[n - 1 - i]);
    free(eff);
    config_endpoint_parse(p, "192.0.2.1:51820");
    /* peer 2: allowed IPs changed by hand, endpoint roamed */
    p = config_add_peer(r);
    wb_key_from_base64(p->public_key, K_PEER2);
    add_prefix(p, "172.16.0.0/16");
    config_endpoint_parse(p, "198.51.100.7:4444");
    p->has_persistent_keepalive = true;
    p->persistent_keepalive = 25;
    /* peer 3: added at run time */
    p = config_add_peer(r);
    wb_key_from_base64(p->public_key, K_PEER3);
    add_prefix(p, "10.9.0.0/16");
}

static void test_merge(void)
{
    struct config file, running, merged, back;
    char err[256], *text;

    config_init(&file);
    CHECK(config_parse_text(&file, file_text, "t.conf", err, sizeof(err)) == 0);
    /* up resolved the host names */
    config_endpoint_parse(&file.peers[0], "vpn.example:51820");
    file.peers[0].endpoint.family = 4;
    file.peers[0].endpoint.port = 51820;
    memcpy(file.peers[0].endpoint.addr, "\xc0\x00\x02\x01", 4);
    file.peers[1].endpoint.family = 4;
    file.peers[1].endpoint.port = 51820;
    memcpy(file.peers[1].endpoint.addr, "\xc0\x00\x02\x02", 4);
    running_config(&running);

    config_init(&merged);
    CHECK(save_config_merge(&file, &running, 51820, &merged) == 0);
    text = config_print(&merged, false);
    CHECK(text != NULL);
    if (!text)
        return;
    /* the file's own keys, unchanged */
    CHECK(strstr(text, "Address = 10.0.0.2/24\n") && strstr(text, "MTU = 1380\n"));
    CHECK(strstr(text, "PostDown = echo down %i\n") && strstr(text, "SaveConfig = true\n"));
    CHECK(strstr(text, "ListenPort = 40000\n"));
    CHECK(!strstr(text, "FwMark"));                         /* up's choice, not the user's */
    /* peer 1: name and DisallowedIPs kept */
    CHECK(strstr(text, "Endpoint = vpn.example:51820\n"));
    CHECK(strstr(text, "AllowedIPs = 0.0.0.0/0\nDisallowedIPs = 10.0.0.0/8\n") ||
          (strstr(text, "AllowedIPs = 0.0.0.0/0\n") && strstr(text, "DisallowedIPs = 10.0.0.0/8\n")));
    /* peer 2: the running state */
    CHECK(strstr(text, "Endpoint = 198.51.100.7:4444\n") && !strstr(text, "other.example"));
    CHECK(strstr(text, "AllowedIPs = 172.16.0.0/16\n") && !strstr(text, "172.16.1.0/24"));
    CHECK(strstr(text, "PersistentKeepalive = 25\n"));
    CHECK(strstr(text, K_PEER3) && strstr(text, "AllowedIPs = 10.9.0.0/16\n"));
    /* the file parses back to the merge */
    config_init(&back);
    CHECK(config_parse_text(&back, text, "saved", err, sizeof(err)) == 0);
    CHECK(back.n_peers == 3 && back.dns.n == 2 && back.post_up.n == 1);
    /* the original stays whole (up still runs its PostDown hooks) */
    CHECK(file.post_down.n == 1 && file.peers[0].n_disallowed_ips == 1);
    free(text);
    config_free(&back);
    config_free(&merged);

    /* A fwmark the user set (or set at run time) is saved. */
    config_init(&merged);
    CHECK(save_config_merge(&file, &running, 0, &merged) == 0 && merged.has_fwmark &&
          merged.fwmark == 51820);
    config_free(&merged);
    config_free(&running);
    config_free(&file);
}

static void test_write(void)
{
    char path[] = "/tmp/test_cli_save_XXXXXX";
    struct config c;
    struct stat st;
    char buf[256] = "";
    FILE *f;
    int fd = mkstemp(path);

    CHECK(fd >= 0);
    close(fd);
    chmod(path, 0644);
    config_init(&c);
    c.has_listen_port = true;
    c.listen_port = 1;
    CHECK(save_config_write(path, &c) == 0);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    f = fopen(path, "r");
    CHECK(f && fread(buf, 1, sizeof(buf) - 1, f) > 0);
    if (f)
        fclose(f);
    CHECK(strcmp(buf, "[Interface]\nListenPort = 1\n") == 0);
    unlink(path);
    CHECK(save_config_write("/nonexistent-dir/x.conf", &c) == -ENOENT);
}

int main(void)
{
    wb_init();
    test_merge();
    test_write();
    return check_summary();
}
