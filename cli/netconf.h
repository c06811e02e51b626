/* SPDX-License-Identifier: MIT */
/*
 * netconf.h - what wg-quick does around a WireGuard device, for
 * `wirebolt up`: interface addresses, MTU and link state, DNS, routes for
 * the peers' allowed IPs (with wg-quick's policy routing for default
 * routes), and the PreUp/PostUp/PreDown/PostDown hooks.
 *
 * Split in two: pure planning (netconf_plan.c: table names, the route list,
 * DNS lines, hook expansion; unit-tested without privileges) and the
 * changes themselves (netconf.c, netconf_dns.c; rtnetlink via
 * datapath/netlink.h). struct netconf records every change it made, so
 * netconf_down undoes exactly those, in reverse order, whether `up`
 * failed half way or the tunnel is going down.
 *
 * Policy routing, for a default route (0.0.0.0/0 or ::/0) when Table is
 * unset or "auto", as wg-quick does:
 *     table = fwmark = FwMark from the file, else the first of 51820,
 *             51821, ... whose routing table is empty (IPv4 and IPv6)
 *     ip route add 0.0.0.0/0 dev <if> table <table>
 *     ip rule add not fwmark <table> table <table>
 *     ip rule add table main suppress_prefixlength 0
 *     sysctl net.ipv4.conf.all.src_valid_mark=1      (IPv4 only)
 * The device's own UDP packets carry the fwmark, so they skip the tunnel's
 * table; everything else takes the default route through the tunnel, while
 * the main table's more specific routes stay in force. Several full
 * tunnels each add their own suppress_prefixlength rule (the kernel gives
 * each a new priority, so they are not duplicates to it) and each removes
 * one again.
 *
 * Threads: the control (main) thread only.
 */
#ifndef WB_CLI_NETCONF_H
#define WB_CLI_NETCONF_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "datapath/netlink.h"
#include "proto/config.h"

/* wg-quick's first policy routing table (and fwmark). */
#define NETCONF_POLICY_TABLE_FIRST 51820u
/* How many tables after it we try before giving up. */
#define NETCONF_POLICY_TABLE_TRIES 1000u
#define NETCONF_DEFAULT_MTU 1420u
/* wg-quick's overhead for the automatic MTU: 80 = 40 IPv6 + 8 UDP + 32 WG. */
#define NETCONF_MTU_OVERHEAD 80u
/* Where the DNS fallback keeps the original /etc/resolv.conf. */
#define NETCONF_RUN_DIR "/run/wirebolt"
#define NETCONF_RESOLV_CONF "/etc/resolv.conf"

/* ------------------------------------------------------------ planning */

enum netconf_table_mode {
    NETCONF_TABLE_AUTO,            /* unset or "auto": main, /0 by policy */
    NETCONF_TABLE_OFF,             /* "off": no routes */
    NETCONF_TABLE_ID,              /* a number or a name: that table */
};

struct netconf_table {
    enum netconf_table_mode mode;
    uint32_t id;                   /* NETCONF_TABLE_ID */
};

/* NULL, "auto", "off", a number (1..2^32-1, not 0), "main", "local",
 * "default", or a name from /etc/iproute2/rt_tables (or
 * /usr/share/iproute2/rt_tables). Returns 0 or -EINVAL. */
int netconf_table_parse(const char *s, struct netconf_table *out);
/* The same with the rt_tables file given (tests); path may be NULL. */
int netconf_table_parse_in(const char *s, const char *rt_tables, struct netconf_table *out);

struct netconf_route {
    struct netlink_prefix dst;
    uint32_t table;                /* 0 in a plan: the policy table, chosen later */
};

/* The routes `up` adds for cfg's peers: one per distinct effective allowed
 * IP (AllowedIPs minus DisallowedIPs), longest prefix first (wg-quick's
 * order). Under Table=off nothing; under Table=<n> all in table n. Under
 * auto, a peer whose AllowedIPs hold a default route (0.0.0.0/0 or ::/0)
 * is a full tunnel for that family: all its effective prefixes of that
 * family are policy routes (table 0 here, to be the policy table; and
 * default4/default6 set), so that DisallowedIPs carve holes out of a
 * default route without the device's own packets to its endpoints ever
 * taking the tunnel. Everything else goes to the main table. */
struct netconf_plan {
    struct netconf_route *routes;
    size_t n_routes;
    bool default4, default6;
};

/* Returns 0, -ENOMEM, or -EINVAL for a prefix of no known family. */
int netconf_plan_routes(const struct config *cfg, const struct netconf_table *table,
                        struct netconf_plan *out);
void netconf_plan_free(struct netconf_plan *plan);

/* DNS= entries split as wg-quick does: an IPv4 literal (digits and dots)
 * or anything with ':' is a name server, the rest are search domains. The
 * text is what resolvconf gets: "nameserver X" lines, then one "search a b"
 * line. Returns a malloc'd string (NULL on ENOMEM); "" when dns is empty. */
char *netconf_dns_text(const struct config_strings *dns);

/* A hook with every "%i" replaced by ifname; malloc'd, NULL on ENOMEM. */
char *netconf_hook_expand(const char *hook, const char *ifname);

/* Config file argument of up/down: "name" (wg-quick's rule: matches
 * [a-zA-Z0-9_=+.-]{1,15}) means /etc/wireguard/<name>.conf; anything else is
 * a path whose base name must be <ifname>.conf with a valid ifname.
 * path_out gets the path (PATH_MAX), ifname_out the name (IFNAMSIZ).
 * Returns 0 or -EINVAL (not a valid interface name) / -ENAMETOOLONG. */
int netconf_config_path(const char *arg, char *path_out, size_t path_len, char *ifname_out);
/* The same, but "wg0.conf" (a valid interface name, so by wg-quick's
 * rule /etc/wireguard/wg0.conf.conf) is taken for the file ./wg0.conf when
 * that exists and the other does not. */
int netconf_config_locate(const char *arg, char *path_out, size_t path_len, char *ifname_out);
/* Whether s is a name wg-quick accepts for an interface. */
bool netconf_ifname_valid(const char *s);

/* ------------------------------------------------------------- changes */

enum netconf_dns_mode { NETCONF_DNS_NONE, NETCONF_DNS_RESOLVCONF, NETCONF_DNS_FILE };

/* What was done, for netconf_down. Zero it (netconf_init) first. */
struct netconf {
    char ifname[IFNAMSIZ];
    int ifindex;
    struct netconf_route *routes;  /* added by us, in order */
    size_t n_routes;
    struct netlink_rule rules[4];  /* added by us, in order */
    size_t n_rules;
    enum netconf_dns_mode dns;
    char dns_name[IFNAMSIZ + 64];  /* the resolvconf record name */
    uint32_t policy_table;         /* 0: no policy routing */
};

void netconf_init(struct netconf *nc, const char *ifname, int ifindex);

/* Add each Address= to the interface. */
int netconf_addresses(struct netconf *nc, const struct config *cfg);
/* MTU (mtu, from MTU= or netconf_auto_mtu) and link up. */
int netconf_mtu_up(struct netconf *nc, unsigned mtu);
/* wg-quick's automatic MTU: the largest MTU of the routes to the peers'
 * endpoints (the route's mtu metric, else its device's MTU), else that of
 * the main table's default route, else 1500; minus 80. */
unsigned netconf_auto_mtu(const struct config *cfg);
/* DNS= through resolvconf, or the /etc/resolv.conf fallback (see
 * netconf_dns.c). Nothing when DNS= is empty. */
int netconf_dns_up(struct netconf *nc, const struct config *cfg);
/* The table for policy routing: fwmark if non-zero, else the first empty
 * one from NETCONF_POLICY_TABLE_FIRST. Returns it, or -errno. */
int64_t netconf_policy_table(uint32_t fwmark);
/* Add the planned routes; default routes go to policy_table (0 allowed
 * only when the plan has none) with the rules and src_valid_mark. */
int netconf_routes_up(struct netconf *nc, const struct netconf_plan *plan, uint32_t policy_table);
/* Run hooks in order with /bin/sh -c; stops at the first that fails
 * (returns -ECHILD). */
int netconf_hooks(const struct config_strings *hooks, const char *ifname, const char *what);
/* Undo: DNS, rules, routes, in reverse order of netconf_*_up. Failures are
 * logged; a route that went with its interface is not one. */
void netconf_down(struct netconf *nc);

/* Internal, shared by netconf*.c: */
int netconf_dns_restore(struct netconf *nc);
/* Run argv (argv[0] a path, or a name looked up in PATH) with stdin_text
 * (NULL: /dev/null) on its standard input, signals unblocked; wait for it.
 * Returns its exit status, 128 + signal when killed, or -errno. */
int netconf_spawn(const char *const argv[], const char *stdin_text);
/* Read-only rtnetlink queries (netconf_query.c). Whether routing table
 * `table` holds any IPv4 or IPv6 route: 1, 0, or -errno. */
int netconf_query_table_used(uint32_t table);
/* MTU of the route to addr (family AF_INET/AF_INET6, network order): its
 * mtu metric, else its device's MTU; 0 when there is no route; -errno. */
int netconf_query_route_mtu(int family, const uint8_t *addr);
/* The same for the main table's first IPv4 default route. */
int netconf_query_default_mtu(void);

#endif
