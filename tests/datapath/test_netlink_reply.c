/* SPDX-License-Identifier: MIT */
/*
 * test_netlink_reply.c - netlink_reply_ok, the check the netlink read
 * loops make before libmnl sees a datagram: whole padded messages pass,
 * and a length libmnl 1.0.4 would loop on (>= 2^31), a short header, a
 * length past the end, a missing padding (libmnl reads attributes up to
 * the padded end; tests/fuzz/fuzz_netlink found a read past the buffer
 * there) or a truncated tail do not.
 */
#include <linux/netlink.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "datapath/netlink.h"

static size_t put_msg(uint8_t *buf, size_t off, uint32_t len)
{
    struct nlmsghdr h = { .nlmsg_len = len, .nlmsg_type = NLMSG_NOOP };

    memcpy(buf + off, &h, sizeof(h));
    return off + NLMSG_ALIGN(len);
}

int main(void)
{
    uint8_t buf[256];
    size_t n;

    memset(buf, 0, sizeof(buf));
    CHECK(netlink_reply_ok(buf, 0));
    n = put_msg(buf, 0, 16);
    n = put_msg(buf, n, 20);
    n = put_msg(buf, n, 33);                      /* padded to 36 */
    CHECK(netlink_reply_ok(buf, n));
    CHECK(!netlink_reply_ok(buf, n - 3));         /* its padding missing: libmnl reads it */
    CHECK(!netlink_reply_ok(buf, n - 4));         /* and one of its own bytes */
    CHECK(!netlink_reply_ok(buf, n + 8));         /* 8 bytes of no header */

    put_msg(buf, 16, 0xffffffffu);                /* libmnl: the same message forever */
    CHECK(!netlink_reply_ok(buf, 72));
    put_msg(buf, 16, 0x80000000u);                /* libmnl: steps past the buffer */
    CHECK(!netlink_reply_ok(buf, 72));
    put_msg(buf, 16, 15);                         /* shorter than its header */
    CHECK(!netlink_reply_ok(buf, 72));
    put_msg(buf, 16, 0);
    CHECK(!netlink_reply_ok(buf, 72));
    printf("netlink_reply_ok: whole messages pass; huge, short, overlong and cut ones do not\n");
    return check_summary();
}
