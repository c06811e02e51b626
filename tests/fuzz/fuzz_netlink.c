/* SPDX-License-Identifier: MIT */
/*
 * fuzz_netlink.c - libFuzzer harness for the rtnetlink answer callbacks:
 * link_cb (datapath/netlink.c: netlink_link_get reads a link's index,
 * flags, MTU and name) and route_cb (cli/netconf_query.c: table-used,
 * route-MTU and default-MTU queries read a route's table, output link and
 * RTAX_MTU, nested in RTA_METRICS). Each runs under libmnl's mnl_cb_run
 * over the datagrams recv() handed back, exactly as the two read loops
 * do; here the datagrams come from the input instead of the kernel.
 *
 * The callbacks are static: the two files are included (tests may include
 * a .c to reach statics, docs/style.md); nothing here opens a socket.
 *
 * Input: one mode byte, four bytes of table (little-endian; the
 * table-used query's filter), then datagrams, each a 2-byte little-endian
 * length and that many bytes (the last one takes whatever is left).
 *   mode % 4: 0 link_cb (the read_answer loop of netlink.c)
 *             1 route_cb, dump, one table (netconf_query_table_used)
 *             2 route_cb, dump, default routes of main (netconf_query_default_mtu)
 *             3 route_cb, one route, stops once found (netconf_query_route_mtu)
 *   mode & 4: port id 0 (an unbound socket's view) instead of FUZZ_NETLINK_PORTID
 * Each datagram is copied into a buffer of exactly its size, so a read
 * past what the kernel sent is an ASan report (the real buffers are 32
 * KiB and would hide it as stale bytes). What is checked beyond
 * ASan/UBSan: a link name read back always ends within IFNAMSIZ.
 * A datagram netlink_reply_ok refuses is refused here too, as the read
 * loops do (libmnl 1.0.4 would loop forever on some: nlmsg_len >= 2^31).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

/* The files under test, with their static callbacks. */
#include "datapath/netlink.c"
#include "cli/netconf_query.c"

#define MAX_DATAGRAMS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct reader {
    const uint8_t *p;
    size_t left;
};

/* The next datagram: 2-byte length, then the bytes (fewer if the input ends). */
static bool next_datagram(struct reader *r, const uint8_t **dg, size_t *len)
{
    size_t n;

    if (r->left < 2)
        return false;
    n = (size_t)r->p[0] | (size_t)r->p[1] << 8;
    r->p += 2, r->left -= 2;
    if (n > r->left)
        n = r->left;
    *dg = r->p;
    *len = n;
    r->p += n, r->left -= n;
    return true;
}

/* mnl_cb_run over one datagram in a buffer of its exact size. */
static int run_one(const uint8_t *dg, size_t len, unsigned seq, unsigned portid, mnl_cb_t cb,
                   void *out)
{
    void *buf;
    int ret;

    /* The read loops refuse what netlink_reply_ok refuses (libmnl would
     * loop forever on some of it), and so does this one. */
    if (!netlink_reply_ok(dg, len))
        return MNL_CB_ERROR;
    buf = malloc(len ? len : 1);
    if (!buf)
        abort();
    memcpy(buf, dg, len);
    errno = 0;
    ret = mnl_cb_run(buf, len, seq, portid, cb, out);
    free(buf);
    return ret;
}

/* netlink.c's read_answer loop: until an error or the ACK / NLMSG_DONE. */
static void fuzz_link(struct reader *r, unsigned portid)
{
    struct netlink_link link;
    const uint8_t *dg;
    size_t len;

    memset(&link, 0, sizeof(link));
    for (int i = 0; i < MAX_DATAGRAMS && next_datagram(r, &dg, &len); i++) {
        int ret = run_one(dg, len, REQUEST_SEQ, portid, link_cb, &link);

        if (ret == MNL_CB_ERROR || ret == MNL_CB_STOP)
            break;
    }
    if (!memchr(link.name, '\0', sizeof(link.name)))
        abort();
}

/* netconf_query.c's query loop: until an error or the end of a dump, or
 * (not a dump) until a route was found. */
static void fuzz_route(struct reader *r, unsigned portid, struct route_info *ri, bool dump)
{
    const uint8_t *dg;
    size_t len;

    for (int i = 0; i < MAX_DATAGRAMS && next_datagram(r, &dg, &len); i++) {
        int ret = run_one(dg, len, QUERY_SEQ, portid, route_cb, ri);

        if (ret <= MNL_CB_STOP)
            break;
        if (!dump && ri->found)
            break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct reader r = { data + 5, size - 5 };
    struct route_info ri;
    unsigned portid;
    uint8_t mode;

    if (size < 5)
        return 0;
    mode = data[0];
    portid = mode & 4 ? 0 : FUZZ_NETLINK_PORTID;
    memset(&ri, 0, sizeof(ri));
    switch (mode % 4) {
    case 0:
        fuzz_link(&r, portid);
        break;
    case 1:
        ri.want_table = (uint32_t)data[1] | (uint32_t)data[2] << 8 | (uint32_t)data[3] << 16 |
                        (uint32_t)data[4] << 24;
        fuzz_route(&r, portid, &ri, true);
        break;
    case 2:
        ri.default_only = true;
        fuzz_route(&r, portid, &ri, true);
        break;
    default:
        fuzz_route(&r, portid, &ri, false);
        break;
    }
    return 0;
}
