/* SPDX-License-Identifier: MIT */
/*
 * test_cli_plan.c - the pure planning of `wirebolt up` (cli/netconf_plan.c):
 * Table= names, the route list (AllowedIPs minus DisallowedIPs, longest
 * prefix first, policy routes for full tunnels), DNS lines for resolvconf,
 * hook expansion, and the config file argument. Needs no privileges.
 */
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "cli/netconf_plan.c"

static struct config_prefix pfx(const char *s)
{
    struct config_prefix p;

    if (config_prefix_parse(&p, s) < 0)
        abort();
    config_prefix_normalize(&p);
    return p;
}

static void add_peer(struct config *c, const char *const *allowed, const char *const *disallowed)
{
    struct config_peer *p = config_add_peer(c);

    for (; allowed && *allowed; allowed++) {
        struct config_prefix x = pfx(*allowed);
        config_prefixes_add(&p->allowed_ips, &p->n_allowed_ips, &x);
    }
    for (; disallowed && *disallowed; disallowed++) {
        struct config_prefix x = pfx(*disallowed);
        config_prefixes_add(&p->disallowed_ips, &p->n_disallowed_ips, &x);
    }
}

static void prefix_text_for_test(const struct netlink_prefix *p, char *buf, size_t len)
{
    struct config_prefix cp = { .family = p->family == AF_INET ? 4 : 6, .cidr = p->len };

    memcpy(cp.addr, p->addr, sizeof(cp.addr));
    config_prefix_format(&cp, buf, len);
}

/* "10.0.0.0/8@254" for each route, comma-separated. */
static void plan_text(const struct netconf_plan *plan, char *buf, size_t len)
{
    size_t pos = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < plan->n_routes; i++) {
        char p[64];

        prefix_text_for_test(&plan->routes[i].dst, p, sizeof(p));
        pos += (size_t)snprintf(buf + pos, len - pos, "%s%s@%u", i ? "," : "", p,
                                plan->routes[i].table);
    }
}

static void test_table_parse(void)
{
    const char *rt = "/tmp/test_cli_plan_rt_tables";
    FILE *f = fopen(rt, "w");
    struct netconf_table t;

    fputs("# comment\n255\tlocal\n100 vpn # trailing\n", f);
    fclose(f);
    CHECK(netconf_table_parse_in(NULL, rt, &t) == 0 && t.mode == NETCONF_TABLE_AUTO);
    CHECK(netconf_table_parse_in("auto", rt, &t) == 0 && t.mode == NETCONF_TABLE_AUTO);
    CHECK(netconf_table_parse_in("off", rt, &t) == 0 && t.mode == NETCONF_TABLE_OFF);
    CHECK(netconf_table_parse_in("1234", rt, &t) == 0 && t.mode == NETCONF_TABLE_ID && t.id == 1234);
    CHECK(netconf_table_parse_in("main", rt, &t) == 0 && t.id == 254);
    CHECK(netconf_table_parse_in("vpn", rt, &t) == 0 && t.id == 100);
    CHECK(netconf_table_parse_in("0", rt, &t) == -EINVAL);
    CHECK(netconf_table_parse_in("4294967296", rt, &t) == -EINVAL);
    CHECK(netconf_table_parse_in("12x", rt, &t) == -EINVAL);
    CHECK(netconf_table_parse_in("nosuch", rt, &t) == -EINVAL);
    CHECK(netconf_table_parse_in("vpn", NULL, &t) == -EINVAL);
    unlink(rt);
}

static void test_routes(void)
{
    static const char *full[] = { "0.0.0.0/0", NULL }, *hole[] = { "10.0.0.0/8", NULL };
    static const char *split[] = { "172.16.5.0/24", "fd99::/64", "172.16.5.0/24", NULL };
    static const char *v6full[] = { "::/0", "10.1.0.0/16", NULL };
    struct netconf_table t = { NETCONF_TABLE_AUTO, 0 };
    struct netconf_plan plan;
    struct config c;
    char buf[2048];

    /* Full tunnel minus 10/8: all of it in the policy table (0 here). */
    config_init(&c);
    add_peer(&c, full, hole);
    add_peer(&c, split, NULL);
    CHECK(netconf_plan_routes(&c, &t, &plan) == 0);
    plan_text(&plan, buf, sizeof(buf));
    CHECK(strcmp(buf, "fd99::/64@254,172.16.5.0/24@254,11.0.0.0/8@0,8.0.0.0/7@0,12.0.0.0/6@0,"
                      "0.0.0.0/5@0,16.0.0.0/4@0,32.0.0.0/3@0,64.0.0.0/2@0,128.0.0.0/1@0") == 0);
    if (strcmp(buf, "fd99::/64@254,172.16.5.0/24@254,11.0.0.0/8@0,8.0.0.0/7@0,12.0.0.0/6@0,"
                    "0.0.0.0/5@0,16.0.0.0/4@0,32.0.0.0/3@0,64.0.0.0/2@0,128.0.0.0/1@0"))
        fprintf(stderr, "  got %s\n", buf);
    CHECK(plan.default4 && !plan.default6);
    netconf_plan_free(&plan);

    /* Table=off: nothing. Table=1234: everything there, no policy. */
    t.mode = NETCONF_TABLE_OFF;
    CHECK(netconf_plan_routes(&c, &t, &plan) == 0 && plan.n_routes == 0 && !plan.default4);
    t.mode = NETCONF_TABLE_ID;
    t.id = 1234;
    CHECK(netconf_plan_routes(&c, &t, &plan) == 0 && plan.n_routes == 10 && !plan.default4);
    for (size_t i = 0; i < plan.n_routes; i++)
        CHECK(plan.routes[i].table == 1234);
    netconf_plan_free(&plan);
    config_free(&c);

    /* An IPv6 full tunnel: ::/0 in the policy table, the IPv4 route in main. */
    config_init(&c);
    add_peer(&c, v6full, NULL);
    t.mode = NETCONF_TABLE_AUTO;
    CHECK(netconf_plan_routes(&c, &t, &plan) == 0);
    plan_text(&plan, buf, sizeof(buf));
    CHECK(strcmp(buf, "10.1.0.0/16@254,::/0@0") == 0);
    CHECK(!plan.default4 && plan.default6);
    netconf_plan_free(&plan);
    config_free(&c);
}

static void test_dns_text(void)
{
    struct config_strings dns = { 0 };
    char *text;

    text = netconf_dns_text(&dns);
    CHECK(text && strcmp(text, "") == 0);
    free(text);
    config_strings_add(&dns, "10.0.0.1");
    config_strings_add(&dns, "corp.example");
    config_strings_add(&dns, "fd00::53");
    config_strings_add(&dns, "lan");
    text = netconf_dns_text(&dns);
    CHECK(text && strcmp(text, "nameserver 10.0.0.1\nnameserver fd00::53\nsearch corp.example lan\n") == 0);
    free(text);
    for (size_t i = 0; i < dns.n; i++)
        free(dns.v[i]);
    free(dns.v);
}

static void test_hooks(void)
{
    char *s = netconf_hook_expand("iptables -A FORWARD -i %i; echo %%i %i%", "wg0");

    CHECK(s && strcmp(s, "iptables -A FORWARD -i wg0; echo %wg0 wg0%") == 0);
    free(s);
    s = netconf_hook_expand("", "wg0");
    CHECK(s && strcmp(s, "") == 0);
    free(s);
}

static void test_config_path(void)
{
    char path[256], ifname[IFNAMSIZ];

    CHECK(netconf_config_path("wg0", path, sizeof(path), ifname) == 0);
    CHECK(strcmp(path, "/etc/wireguard/wg0.conf") == 0 && strcmp(ifname, "wg0") == 0);
    CHECK(netconf_config_path("./tun-x.conf", path, sizeof(path), ifname) == 0);
    CHECK(strcmp(path, "./tun-x.conf") == 0 && strcmp(ifname, "tun-x") == 0);
    CHECK(netconf_config_path("/a/b/c=+_.d.conf", path, sizeof(path), ifname) == 0);
    CHECK(strcmp(ifname, "c=+_.d") == 0);
    CHECK(netconf_config_path("./abcdefghijklmnop.conf", path, sizeof(path), ifname) == -EINVAL);
    CHECK(netconf_config_path("./abcdefghijklmno.conf", path, sizeof(path), ifname) == 0);
    CHECK(netconf_config_path("./bad name.conf", path, sizeof(path), ifname) == -EINVAL);
    CHECK(netconf_config_path("./x.txt", path, sizeof(path), ifname) == -EINVAL);
    CHECK(netconf_config_path("/tmp/.conf", path, sizeof(path), ifname) == -EINVAL);
    CHECK(netconf_config_path("abcdefghijklmnop", path, sizeof(path), ifname) == -EINVAL);
    /* wg-quick's rule: a valid name is a name, even with a dot. */
    CHECK(netconf_config_path("wg0.conf", path, sizeof(path), ifname) == 0);
    CHECK(strcmp(path, "/etc/wireguard/wg0.conf.conf") == 0);
    CHECK(netconf_ifname_valid("wg0") && !netconf_ifname_valid("") && !netconf_ifname_valid("a:b"));
}

int main(void)
{
    test_table_parse();
    test_routes();
    test_dns_text();
    test_hooks();
    test_config_path();
    return check_summary();
}
