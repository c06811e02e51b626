/* SPDX-License-Identifier: MIT */
/*
 * netconf.c - the changes `up` makes to the system around the device, in
 * wg-quick's order (addresses, MTU and link up, routes and policy rules,
 * hooks) and their undo (netconf.h). DNS is in netconf_dns.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/rtnetlink.h>

#include "cli/log.h"
#include "cli/netconf.h"

#define SRC_VALID_MARK "/proc/sys/net/ipv4/conf/all/src_valid_mark"

void netconf_init(struct netconf *nc, const char *ifname, int ifindex)
{
    memset(nc, 0, sizeof(*nc));
    snprintf(nc->ifname, sizeof(nc->ifname), "%s", ifname);
    nc->ifindex = ifindex;
}

static const char *prefix_text(const struct netlink_prefix *p, char *buf, size_t len)
{
    struct config_prefix cp = { .family = p->family == AF_INET ? 4 : 6, .cidr = p->len };

    memcpy(cp.addr, p->addr, sizeof(cp.addr));
    return config_prefix_format(&cp, buf, len);
}

/* ------------------------------------------------------------ addresses */

int netconf_addresses(struct netconf *nc, const struct config *cfg)
{
    char text[64];

    for (size_t i = 0; i < cfg->n_addresses; i++) {
        const struct config_prefix *a = &cfg->addresses[i];
        struct netlink_prefix p = { .family = a->family == 4 ? AF_INET : AF_INET6, .len = a->cidr };
        int ret;

        memcpy(p.addr, a->addr, sizeof(p.addr));
        log_info("[#] address add %s dev %s", prefix_text(&p, text, sizeof(text)), nc->ifname);
        ret = netlink_addr_add(nc->ifindex, &p);
        if (ret < 0) {
            log_error("cannot add address %s to %s: %s", text, nc->ifname, strerror(-ret));
            return ret;
        }
    }
    return 0;
}

/* ----------------------------------------------------------- MTU and up */

int netconf_mtu_up(struct netconf *nc, unsigned mtu)
{
    int ret;

    log_info("[#] link set mtu %u up dev %s", mtu, nc->ifname);
    ret = netlink_link_set_mtu(nc->ifindex, mtu);
    if (ret < 0) {
        log_error("cannot set the MTU of %s to %u: %s", nc->ifname, mtu, strerror(-ret));
        return ret;
    }
    ret = netlink_link_set_up(nc->ifindex, true);
    if (ret < 0)
        log_error("cannot bring %s up: %s", nc->ifname, strerror(-ret));
    return ret;
}

unsigned netconf_auto_mtu(const struct config *cfg)
{
    int best = 0;

    for (size_t i = 0; i < cfg->n_peers; i++) {
        const struct wb_endpoint *ep = &cfg->peers[i].endpoint;
        int m;

        if (ep->family != 4 && ep->family != 6)
            continue;
        m = netconf_query_route_mtu(ep->family == 4 ? AF_INET : AF_INET6, ep->addr);
        if (m > best)
            best = m;
    }
    if (best <= 0)
        best = netconf_query_default_mtu();
    if (best <= 0)
        best = 1500;
    if ((unsigned)best <= NETCONF_MTU_OVERHEAD + 68)    /* IPv4's minimum MTU */
        return NETCONF_DEFAULT_MTU;
    return (unsigned)best - NETCONF_MTU_OVERHEAD;
}

/* --------------------------------------------------------------- routes */

int64_t netconf_policy_table(uint32_t fwmark)
{
    if (fwmark)
        return fwmark;
    for (uint32_t t = NETCONF_POLICY_TABLE_FIRST;
         t < NETCONF_POLICY_TABLE_FIRST + NETCONF_POLICY_TABLE_TRIES; t++) {
        int used = netconf_query_table_used(t);

        if (used < 0)
            return used;
        if (!used)
            return t;
    }
    return -ENOSPC;
}

static int record_route(struct netconf *nc, const struct netconf_route *r)
{
    struct netconf_route *v = realloc(nc->routes, (nc->n_routes + 1) * sizeof(*v));

    if (!v)
        return -ENOMEM;
    nc->routes = v;
    v[nc->n_routes++] = *r;
    return 0;
}

static int add_route(struct netconf *nc, const struct netconf_route *r)
{
    char text[64];
    int ret;

    log_info("[#] route add %s dev %s table %u", prefix_text(&r->dst, text, sizeof(text)),
             nc->ifname, r->table);
    ret = netlink_route_add(&r->dst, nc->ifindex, r->table);
    if (ret == -EEXIST && r->table == RT_TABLE_MAIN) {
        /* wg-quick skips a route the interface already has (the kernel's
         * own route for an Address= prefix, typically). */
        log_debug("route %s exists already", text);
        return 0;
    }
    if (ret < 0) {
        log_error("cannot add route %s dev %s table %u: %s", text, nc->ifname, r->table,
                  strerror(-ret));
        return ret;
    }
    return record_route(nc, r);
}

static int add_rule(struct netconf *nc, const struct netlink_rule *rule)
{
    const char *fam = rule->family == AF_INET ? "-4" : "-6";
    int ret;

    if (rule->suppress_prefixlen >= 0)
        log_info("[#] rule add %s table main suppress_prefixlength %d", fam,
                 rule->suppress_prefixlen);
    else
        log_info("[#] rule add %s not fwmark %u table %u", fam, rule->fwmark, rule->table);
    ret = netlink_rule_add(rule);
    if (ret == -EEXIST && rule->suppress_prefixlen >= 0) {
        /* Only with an explicit priority would the kernel call it a
         * duplicate; then it is another tunnel's, to remove. */
        log_debug("the suppress_prefixlength rule exists already");
        return 0;
    }
    if (ret < 0) {
        log_error("cannot add a policy routing rule: %s", strerror(-ret));
        return ret;
    }
    nc->rules[nc->n_rules++] = *rule;
    return 0;
}

static int set_src_valid_mark(void)
{
    int fd = open(SRC_VALID_MARK, O_WRONLY | O_CLOEXEC);
    int ret = 0;

    log_info("[#] sysctl net.ipv4.conf.all.src_valid_mark=1");
    if (fd < 0 || write(fd, "1\n", 2) != 2)
        ret = -errno;
    if (fd >= 0)
        close(fd);
    if (ret < 0)
        log_error("cannot write %s: %s", SRC_VALID_MARK, strerror(-ret));
    return ret;
}

/* The two rules of one family, then (IPv4) src_valid_mark. */
static int add_policy(struct netconf *nc, int family, uint32_t table)
{
    struct netlink_rule not_mark = {
        .family = family, .table = table, .fwmark = table, .invert = true,
        .suppress_prefixlen = -1,
    };
    struct netlink_rule suppress = {
        .family = family, .table = RT_TABLE_MAIN, .suppress_prefixlen = 0,
    };
    int ret = add_rule(nc, &not_mark);

    if (ret == 0)
        ret = add_rule(nc, &suppress);
    if (ret == 0 && family == AF_INET)
        ret = set_src_valid_mark();
    return ret;
}

int netconf_routes_up(struct netconf *nc, const struct netconf_plan *plan, uint32_t policy_table)
{
    int ret = 0;

    if ((plan->default4 || plan->default6) && !policy_table)
        return -EINVAL;
    nc->policy_table = plan->default4 || plan->default6 ? policy_table : 0;
    for (size_t i = 0; ret == 0 && i < plan->n_routes; i++) {
        struct netconf_route r = plan->routes[i];

        if (!r.table)
            r.table = policy_table;
        ret = add_route(nc, &r);
    }
    if (ret == 0 && plan->default4)
        ret = add_policy(nc, AF_INET, policy_table);
    if (ret == 0 && plan->default6)
        ret = add_policy(nc, AF_INET6, policy_table);
    return ret;
}

/* ---------------------------------------------------------------- hooks */

int netconf_hooks(const struct config_strings *hooks, const char *ifname, const char *what)
{
    for (size_t i = 0; i < hooks->n; i++) {
        char *cmd = netconf_hook_expand(hooks->v[i], ifname);
        const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
        int status;

        if (!cmd)
            return -ENOMEM;
        /* The command itself only at debug level: hooks may carry secrets. */
        log_info("[#] %s hook %zu of %zu", what, i + 1, hooks->n);
        log_debug("[#] %s", cmd);
        status = netconf_spawn(argv, NULL);
        free(cmd);
        if (status != 0) {
            if (status < 0)
                log_error("%s hook %zu: cannot run /bin/sh: %s", what, i + 1, strerror(-status));
            else
                log_error("%s hook %zu failed with status %d", what, i + 1, status);
            return -ECHILD;
        }
    }
    return 0;
}

/* ----------------------------------------------------------------- undo */

/* Errors that mean "already gone": the interface went first and took its
 * routes with it, or someone removed the rule. */
static bool gone(int err)
{
    return err == -ESRCH || err == -ENOENT || err == -ENODEV || err == -EADDRNOTAVAIL;
}

void netconf_down(struct netconf *nc)
{
    char text[64];
    int ret;

    if (nc->dns != NETCONF_DNS_NONE)
        netconf_dns_restore(nc);
    while (nc->n_rules) {
        const struct netlink_rule *r = &nc->rules[--nc->n_rules];

        if (r->suppress_prefixlen >= 0)
            log_info("[#] rule del %s table main suppress_prefixlength %d",
                     r->family == AF_INET ? "-4" : "-6", r->suppress_prefixlen);
        else
            log_info("[#] rule del %s not fwmark %u table %u", r->family == AF_INET ? "-4" : "-6",
                     r->fwmark, r->table);
        ret = netlink_rule_del(r);
        if (ret < 0 && !gone(ret))
            log_warn("cannot delete a policy routing rule: %s", strerror(-ret));
    }
    while (nc->n_routes) {
        const struct netconf_route *r = &nc->routes[--nc->n_routes];

        log_debug("[#] route del %s dev %s table %u", prefix_text(&r->dst, text, sizeof(text)),
                  nc->ifname, r->table);
        ret = netlink_route_del(&r->dst, nc->ifindex, r->table);
        if (ret < 0 && !gone(ret))
            log_warn("cannot delete route %s: %s", text, strerror(-ret));
    }
    free(nc->routes);
    nc->routes = NULL;
    nc->policy_table = 0;
}
