/* SPDX-License-Identifier: MIT */
/*
 * netlink.c - rtnetlink requests through libmnl: links, addresses, routes
 * and policy rules (the API and its conventions are in netlink.h). Each
 * call is one request on its own socket, answered by an ACK or an error.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "datapath/netlink.h"

#define REPLY_BUF_SIZE 32768       /* one link's attributes fit many times */
#define REQUEST_SEQ 1              /* one request per socket: any value will do */

/* A request under construction; MNL_SOCKET_BUFFER_SIZE is at least 4 KiB,
 * far more than any request here needs. */
struct request {
    union {
        struct nlmsghdr align;
        char buf[4096];
    } u;
};

static struct nlmsghdr *request_start(struct request *req, uint16_t type, uint16_t flags)
{
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(req->u.buf);

    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
    nlh->nlmsg_seq = REQUEST_SEQ;
    return nlh;
}

static int errno_or(int fallback)
{
    return errno > 0 ? -errno : -fallback;
}

bool netlink_reply_ok(const void *buf, size_t len)
{
    const uint8_t *p = buf;
    size_t off = 0;

    while (off < len) {
        struct nlmsghdr h;

        if (len - off < sizeof(h))
            return false;
        memcpy(&h, p + off, sizeof(h));
        /* Padding included: libmnl walks attributes up to the message's
         * aligned end (mnl_nlmsg_get_payload_tail), and the kernel always
         * pads. (Checked unaligned first: MNL_ALIGN of a huge length wraps.) */
        if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > len - off ||
            MNL_ALIGN(h.nlmsg_len) > len - off)
            return false;
        off += MNL_ALIGN(h.nlmsg_len);
    }
    return true;
}

/* Read answers until the ACK (or NLMSG_DONE); cb sees every other message. */
static int read_answer(struct mnl_socket *nl, mnl_cb_t cb, void *data)
{
    unsigned portid = mnl_socket_get_portid(nl);
    char *buf = malloc(REPLY_BUF_SIZE);
    int ret;

    if (!buf)
        return -ENOMEM;
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(nl, buf, REPLY_BUF_SIZE);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            ret = errno_or(EIO);
            break;
        }
        if (!netlink_reply_ok(buf, (size_t)n)) {
            ret = -EPROTO;             /* a malformed answer: never to libmnl */
            break;
        }
        errno = 0;
        ret = mnl_cb_run(buf, (size_t)n, REQUEST_SEQ, portid, cb, data);
        if (ret == MNL_CB_ERROR) {     /* NLMSG_ERROR: errno is its error */
            ret = errno_or(EPROTO);
            break;
        }
        if (ret == MNL_CB_STOP) {
            ret = 0;
            break;
        }
    }
    free(buf);
    return ret;
}

/* Send one request and wait for its answer. */
static int talk(struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
    struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    int ret;

    if (!nl)
        return errno_or(ENOMEM);
    if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        ret = errno_or(EIO);
        goto out;
    }
    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
        ret = errno_or(EIO);
        goto out;
    }
    ret = read_answer(nl, cb, data);
out:
    mnl_socket_close(nl);
    return ret;
}

static size_t family_addr_len(int family)
{
    if (family == AF_INET)
        return 4;
    if (family == AF_INET6)
        return 16;
    return 0;
}

static int check_prefix(const struct netlink_prefix *p)
{
    size_t alen = p ? family_addr_len(p->family) : 0;

    if (!alen || p->len > alen * 8)
        return -EINVAL;
    return (int)alen;
}

static int check_ifname(const char *ifname)
{
    if (!ifname || !ifname[0] || strlen(ifname) >= IFNAMSIZ)
        return -EINVAL;
    return 0;
}

/* ---------------------------------------------------------------- links */

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
    struct netlink_link *out = data;
    const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
    const struct nlattr *attr;

    if (nlh->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
        return MNL_CB_OK;
    out->ifindex = ifi->ifi_index;
    out->flags = ifi->ifi_flags;
    mnl_attr_for_each(attr, nlh, sizeof(*ifi)) {
        uint16_t type = mnl_attr_get_type(attr);

        if (type == IFLA_MTU && mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
            out->mtu = mnl_attr_get_u32(attr);
        else if (type == IFLA_IFNAME && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0 &&
                 mnl_attr_get_payload_len(attr) <= IFNAMSIZ)
            memcpy(out->name, mnl_attr_get_str(attr), mnl_attr_get_payload_len(attr));
    }
    return MNL_CB_OK;
}

int netlink_link_get(const char *ifname, struct netlink_link *out)
{
    struct request req;
    struct nlmsghdr *nlh;
    struct ifinfomsg *ifi;
    int ret = check_ifname(ifname);

    if (ret)
        return ret;
    memset(out, 0, sizeof(*out));
    nlh = request_start(&req, RTM_GETLINK, 0);
    ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
    ifi->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
    mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
    ret = talk(nlh, link_cb, out);
    if (ret == 0 && out->ifindex <= 0)
        ret = -ENODEV;
    return ret;
}

int netlink_link_index(const char *ifname)
{
    struct netlink_link link;
    int ret = netlink_link_get(ifname, &link);

    return ret < 0 ? ret : link.ifindex;
}

/* RTM_NEWLINK on an existing link: change flags (mask `change`) and/or
 * the MTU (mtu 0: leave it). */
static int link_modify(int ifindex, unsigned change, unsigned flags, unsigned mtu)
{
    struct request req;
    struct nlmsghdr *nlh;
    struct ifinfomsg *ifi;

    if (ifindex <= 0)
        return -EINVAL;
    nlh = request_start(&req, RTM_NEWLINK, 0);
    ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = ifindex;
    ifi->ifi_change = change;
    ifi->ifi_flags = flags;
    if (mtu)
        mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
    return talk(nlh, NULL, NULL);
}

int netlink_link_set_up(int ifindex, bool up)
{
    return link_modify(ifindex, IFF_UP, up ? IFF_UP : 0, 0);
}

int netlink_link_set_mtu(int ifindex, unsigned mtu)
{
    if (mtu == 0)
        return -EINVAL;
    return link_modify(ifindex, 0, 0, mtu);
}

int netlink_link_delete(const char *ifname)
{
    struct request req;
    struct nlmsghdr *nlh;
    struct ifinfomsg *ifi;
    int ret = check_ifname(ifname);

    if (ret)
        return ret;
    nlh = request_start(&req, RTM_DELLINK, 0);
    ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
    ifi->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
    return talk(nlh, NULL, NULL);
}

/* ---------------------------------------------------------------- addresses */

static int addr_request(uint16_t type, uint16_t flags, int ifindex, const struct netlink_prefix *a)
{
    struct request req;
    struct nlmsghdr *nlh;
    struct ifaddrmsg *ifa;
    int alen = check_prefix(a);

    if (alen < 0 || ifindex <= 0)
        return -EINVAL;
    nlh = request_start(&req, type, flags);
    ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
    ifa->ifa_family = (uint8_t)a->family;
    ifa->ifa_prefixlen = a->len;
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    ifa->ifa_index = (uint32_t)ifindex;
    /* As `ip addr add` sends it: local and (no peer) address alike. */
    mnl_attr_put(nlh, IFA_LOCAL, (size_t)alen, a->addr);
    mnl_attr_put(nlh, IFA_ADDRESS, (size_t)alen, a->addr);
    return talk(nlh, NULL, NULL);
}

int netlink_addr_add(int ifindex, const struct netlink_prefix *addr)
{
    return addr_request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ifindex, addr);
}

int netlink_addr_del(int ifindex, const struct netlink_prefix *addr)
{
    return addr_request(RTM_DELADDR, 0, ifindex, addr);
}

/* ---------------------------------------------------------------- routes */

/* The network part of p: host bits cleared (the kernel refuses an IPv4
 * route with host bits set; AllowedIPs may carry them). */
static void prefix_network(uint8_t out[16], const struct netlink_prefix *p, size_t alen)
{
    for (size_t i = 0; i < alen; i++) {
        unsigned bits = p->len > i * 8 ? p->len - (unsigned)i * 8 : 0;
        uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff00u >> bits);

        out[i] = p->addr[i] & mask;
    }
}

static void put_table(struct nlmsghdr *nlh, uint8_t *hdr_table, uint16_t attr, uint32_t table)
{
    *hdr_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
    mnl_attr_put_u32(nlh, attr, table);
}

static int route_request(bool add, const struct netlink_prefix *dst, int ifindex, uint32_t table)
{
    struct request req;
    struct nlmsghdr *nlh;
    struct rtmsg *rtm;
    uint8_t net[16];
    int alen = check_prefix(dst);

    if (alen < 0 || ifindex <= 0 || table == RT_TABLE_UNSPEC)
        return -EINVAL;
    nlh = request_start(&req, add ? RTM_NEWROUTE : RTM_DELROUTE,
                        add ? NLM_F_CREATE | NLM_F_EXCL : 0);
    rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
    rtm->rtm_family = (uint8_t)dst->family;
    rtm->rtm_dst_len = dst->len;
    /* Like `ip route`: an add is a unicast boot route, scope link for an
     * IPv4 route without gateway; a delete leaves type, protocol and (IPv4)
     * scope as wildcards. */
    if (add) {
        rtm->rtm_protocol = RTPROT_BOOT;
        rtm->rtm_type = RTN_UNICAST;
    }
    if (dst->family == AF_INET)
        rtm->rtm_scope = add ? RT_SCOPE_LINK : RT_SCOPE_NOWHERE;
    else
        rtm->rtm_scope = RT_SCOPE_UNIVERSE;
    put_table(nlh, &rtm->rtm_table, RTA_TABLE, table);
    prefix_network(net, dst, (size_t)alen);
    mnl_attr_put(nlh, RTA_DST, (size_t)alen, net);
    mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
    return talk(nlh, NULL, NULL);
}

int netlink_route_add(const struct netlink_prefix *dst, int ifindex, uint32_t table)
{
    return route_request(true, dst, ifindex, table);
}

int netlink_route_del(const struct netlink_prefix *dst, int ifindex, uint32_t table)
{
    return route_request(false, dst, ifindex, table);
}

/* ---------------------------------------------------------------- rules */

static int rule_request(bool add, const struct netlink_rule *r)
{
    struct request req;
    struct nlmsghdr *nlh;
    struct fib_rule_hdr *frh;

    if (!r || !family_addr_len(r->family) || r->table == RT_TABLE_UNSPEC ||
        r->suppress_prefixlen < -1 || r->suppress_prefixlen > 128)
        return -EINVAL;
    nlh = request_start(&req, add ? RTM_NEWRULE : RTM_DELRULE,
                        add ? NLM_F_CREATE | NLM_F_EXCL : 0);
    frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
    frh->family = (uint8_t)r->family;
    frh->action = FR_ACT_TO_TBL;
    frh->flags = r->invert ? FIB_RULE_INVERT : 0;
    put_table(nlh, &frh->table, FRA_TABLE, r->table);
    if (r->has_priority)
        mnl_attr_put_u32(nlh, FRA_PRIORITY, r->priority);
    if (r->fwmark)
        mnl_attr_put_u32(nlh, FRA_FWMARK, r->fwmark);
    if (r->fwmask)
        mnl_attr_put_u32(nlh, FRA_FWMASK, r->fwmask);
    if (r->suppress_prefixlen >= 0)
        mnl_attr_put_u32(nlh, FRA_SUPPRESS_PREFIXLEN, (uint32_t)r->suppress_prefixlen);
    return talk(nlh, NULL, NULL);
}

int netlink_rule_add(const struct netlink_rule *rule)
{
    return rule_request(true, rule);
}

int netlink_rule_del(const struct netlink_rule *rule)
{
    return rule_request(false, rule);
}
