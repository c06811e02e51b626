/* SPDX-License-Identifier: MIT */
/*
 * netlink.h - interface configuration over rtnetlink (libmnl): links
 * (look up, up/down, MTU, delete), IPv4/IPv6 addresses, routes through a
 * device in a given table, and the policy rules wg-quick installs for a
 * default route:
 *
 *     ip rule add not fwmark <mark> table <table>        (netlink_rule, invert)
 *     ip rule add table main suppress_prefixlength 0     (suppress_prefixlen 0)
 *
 * Every call opens its own NETLINK_ROUTE socket, sends one request with
 * NLM_F_ACK, reads the answer and closes the socket: there is no shared
 * state, so any thread may call any function at any time (the intended
 * caller is the control thread; nothing here is fast enough for the
 * datapath). Each works on the calling thread's network namespace.
 *
 * Return values: 0 (or an ifindex where stated) on success, -errno on
 * failure. An NLMSG_ERROR from the kernel becomes its -errno (-EEXIST when
 * an address, route or rule already exists, -ENODEV for an unknown link,
 * -ESRCH / -EADDRNOTAVAIL / -ENOENT when deleting something absent, -EPERM
 * without CAP_NET_ADMIN).
 *
 * Families are AF_INET or AF_INET6; addresses are in network byte order
 * (IPv4 in the first 4 bytes of addr).
 */
#ifndef WB_DATAPATH_NETLINK_H
#define WB_DATAPATH_NETLINK_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An address with a prefix length: an interface address or a route's
 * destination. */
struct netlink_prefix {
    int family;                    /* AF_INET or AF_INET6 */
    uint8_t addr[16];
    uint8_t len;                   /* prefix length: <= 32 or <= 128 */
};

/* What netlink_link_get reads back. */
struct netlink_link {
    int ifindex;
    unsigned mtu;
    unsigned flags;                /* IFF_UP, IFF_RUNNING, ... (ifi_flags) */
    char name[IFNAMSIZ];
};

/* A policy rule that sends lookups to a table. */
struct netlink_rule {
    int family;                    /* AF_INET or AF_INET6 */
    bool has_priority;             /* false: the kernel picks the priority */
    uint32_t priority;
    uint32_t table;                /* RT_TABLE_MAIN (254) for "main" */
    uint32_t fwmark;               /* 0: no fwmark match */
    uint32_t fwmask;               /* 0: the kernel's default (all ones) */
    bool invert;                   /* "not": match packets the selector misses */
    int suppress_prefixlen;        /* -1: none; 0: suppress_prefixlength 0 */
};

/* Index of the link called ifname, or -errno (-ENODEV when absent). */
int netlink_link_index(const char *ifname);
/* Read a link by name into *out. */
int netlink_link_get(const char *ifname, struct netlink_link *out);
int netlink_link_set_up(int ifindex, bool up);
int netlink_link_set_mtu(int ifindex, unsigned mtu);
int netlink_link_delete(const char *ifname);

int netlink_addr_add(int ifindex, const struct netlink_prefix *addr);
int netlink_addr_del(int ifindex, const struct netlink_prefix *addr);

/* A route to dst through the device ifindex (no gateway, scope link) in
 * routing table `table` (RT_TABLE_MAIN = 254 for the main table). */
int netlink_route_add(const struct netlink_prefix *dst, int ifindex, uint32_t table);
int netlink_route_del(const struct netlink_prefix *dst, int ifindex, uint32_t table);

/* Delete matches on the fields given (as `ip rule del` does). */
int netlink_rule_add(const struct netlink_rule *rule);
int netlink_rule_del(const struct netlink_rule *rule);

/* Is buf (len bytes from recv) a sequence of whole netlink messages,
 * each nlmsg_len at least a header and, padded to NLMSG_ALIGNTO, no more
 * than the bytes left (libmnl reads attributes up to the padded end)? To
 * be asked before mnl_cb_run: libmnl 1.0.4 compares the length signed,
 * so an nlmsg_len of 2^31 or more passes, and from 0xfffffffd up its step
 * to the next message wraps to 0 and the callback runs on the same message
 * forever (found by tests/fuzz/fuzz_netlink). Pure; any thread. */
bool netlink_reply_ok(const void *buf, size_t len);

#endif
