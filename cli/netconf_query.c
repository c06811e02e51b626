/* SPDX-License-Identifier: MIT */
/*
 * netconf_query.c - the read-only rtnetlink questions `up` asks: is a
 * routing table empty (to pick the policy table), and what MTU does the
 * route to an endpoint (or the default route) have (automatic MTU).
 * datapath/netlink.h only changes things; these only look.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include "cli/netconf.h"

#define QUERY_BUF_SIZE 32768
#define QUERY_SEQ 1
#define QUERY_REQ_SIZE 1024        /* one request: a header and one address */

/* What a route message told us. */
struct route_info {
    uint32_t want_table;           /* table filter for dumps; 0 = any */
    bool default_only;             /* dumps: only dst_len 0, table main */
    bool found;
    uint32_t oif;
    uint32_t mtu;                  /* RTAX_MTU, 0 if absent */
};

static uint32_t route_table(const struct nlmsghdr *nlh, const struct rtmsg *rtm)
{
    struct nlattr *a;

    mnl_attr_for_each(a, nlh, sizeof(*rtm))
        if (mnl_attr_get_type(a) == RTA_TABLE && mnl_attr_get_payload_len(a) >= 4)
            return mnl_attr_get_u32(a);
    return rtm->rtm_table;
}

static void read_route_attrs(const struct nlmsghdr *nlh, const struct rtmsg *rtm,
                             struct route_info *ri)
{
    struct nlattr *a, *m;

    mnl_attr_for_each(a, nlh, sizeof(*rtm)) {
        if (mnl_attr_get_type(a) == RTA_OIF && mnl_attr_get_payload_len(a) >= 4)
            ri->oif = mnl_attr_get_u32(a);
        if (mnl_attr_get_type(a) != RTA_METRICS)
            continue;
        mnl_attr_for_each_nested(m, a)
            if (mnl_attr_get_type(m) == RTAX_MTU && mnl_attr_get_payload_len(m) >= 4)
                ri->mtu = mnl_attr_get_u32(m);
    }
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
    struct route_info *ri = data;
    const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
    uint32_t table;

    if (nlh->nlmsg_type != RTM_NEWROUTE || ri->found ||
        nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)))
        return MNL_CB_OK;
    if (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6)
        return MNL_CB_OK;
    table = route_table(nlh, rtm);
    if (ri->want_table && table != ri->want_table)
        return MNL_CB_OK;
    if (ri->default_only && (rtm->rtm_dst_len != 0 || table != RT_TABLE_MAIN ||
                             rtm->rtm_type != RTN_UNICAST))
        return MNL_CB_OK;
    ri->found = true;
    read_route_attrs(nlh, rtm, ri);
    return MNL_CB_OK;
}

/* Send one request and run cb over every answer until the end of a dump,
 * or (not a dump) until *found. */
static int query(struct nlmsghdr *nlh, mnl_cb_t cb, void *data, const bool *found)
{
    struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    char *buf;
    int ret = 0;

    if (!nl)
        return -errno;
    buf = malloc(QUERY_BUF_SIZE);
    if (!buf) {
        mnl_socket_close(nl);
        return -ENOMEM;
    }
    if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
        mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
        ret = -errno;
    while (ret == 0) {
        ssize_t n = mnl_socket_recvfrom(nl, buf, QUERY_BUF_SIZE);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            ret = -errno;
            break;
        }
        if (!netlink_reply_ok(buf, (size_t)n)) {
            ret = -EPROTO;             /* a malformed answer: never to libmnl */
            break;
        }
        errno = 0;
        ret = mnl_cb_run(buf, (size_t)n, QUERY_SEQ, mnl_socket_get_portid(nl), cb, data);
        if (ret <= MNL_CB_STOP) {
            ret = ret == MNL_CB_ERROR ? (errno ? -errno : -EPROTO) : 0;
            break;
        }
        ret = 0;
        if (!(nlh->nlmsg_flags & NLM_F_DUMP) && *found)
            break;
    }
    free(buf);
    mnl_socket_close(nl);
    return ret;
}

/* A request with an rtmsg header. */
static struct nlmsghdr *start(char *buf, uint16_t type, uint16_t flags, int family,
                              struct rtmsg **rtm)
{
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | flags;
    nlh->nlmsg_seq = QUERY_SEQ;
    *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(**rtm));
    (*rtm)->rtm_family = (uint8_t)family;
    return nlh;
}

int netconf_query_table_used(uint32_t table)
{
    static const int families[] = { AF_INET, AF_INET6 };
    struct route_info ri = { .want_table = table };
    char buf[QUERY_REQ_SIZE] __attribute__((aligned(8)));
    struct rtmsg *rtm;

    for (size_t i = 0; i < 2 && !ri.found; i++) {
        int ret = query(start(buf, RTM_GETROUTE, NLM_F_DUMP, families[i], &rtm), route_cb, &ri, &ri.found);

        /* A kernel without IPv6 has nothing to dump there. */
        if (ret < 0 && !(families[i] == AF_INET6 && ret == -EAFNOSUPPORT))
            return ret;
    }
    return ri.found ? 1 : 0;
}

static int link_mtu(uint32_t ifindex)
{
    char name[IFNAMSIZ];
    struct netlink_link link;

    if (!if_indextoname(ifindex, name) || netlink_link_get(name, &link) < 0)
        return 0;
    return (int)link.mtu;
}

static int info_mtu(const struct route_info *ri)
{
    if (!ri->found)
        return 0;
    if (ri->mtu)
        return (int)ri->mtu;
    return ri->oif ? link_mtu(ri->oif) : 0;
}

int netconf_query_route_mtu(int family, const uint8_t *addr)
{
    struct route_info ri = { 0 };
    char buf[QUERY_REQ_SIZE] __attribute__((aligned(8)));
    struct rtmsg *rtm;
    struct nlmsghdr *nlh = start(buf, RTM_GETROUTE, 0, family, &rtm);
    size_t alen = family == AF_INET ? 4 : 16;
    int ret;

    rtm->rtm_dst_len = (uint8_t)(alen * 8);
    mnl_attr_put(nlh, RTA_DST, alen, addr);
    ret = query(nlh, route_cb, &ri, &ri.found);
    if (ret == -ENETUNREACH || ret == -EHOSTUNREACH)
        return 0;
    return ret < 0 ? ret : info_mtu(&ri);
}

int netconf_query_default_mtu(void)
{
    struct route_info ri = { .default_only = true };
    char buf[QUERY_REQ_SIZE] __attribute__((aligned(8)));
    struct rtmsg *rtm;
    int ret = query(start(buf, RTM_GETROUTE, NLM_F_DUMP, AF_INET, &rtm), route_cb, &ri, &ri.found);

    return ret < 0 ? ret : info_mtu(&ri);
}

