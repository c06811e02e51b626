/* SPDX-License-Identifier: MIT */
/*
 * io_harness.h - what the Linux I/O tests share: a private network
 * namespace to run in, plain sockets to talk to the backend, endpoints
 * from text. Every wait is bounded (WAIT_STEP_MS * WAIT_STEPS) and only
 * ever reached on failure.
 */
#ifndef WB_TESTS_IO_HARNESS_H
#define WB_TESTS_IO_HARNESS_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <unistd.h>

#include "check.h"
#include "datapath/netlink.h"
#include "include/wirebolt.h"

#define WAIT_STEP_MS 100
#define WAIT_STEPS 50              /* 5 s: only ever reached on failure */

static inline struct wb_endpoint endpoint(const char *addr, uint16_t port)
{
    struct wb_endpoint ep = { .port = port };

    ep.family = strchr(addr, ':') ? 6 : 4;
    if (inet_pton(ep.family == 4 ? AF_INET : AF_INET6, addr, ep.addr) != 1)
        abort();
    return ep;
}

static inline bool endpoint_is(const struct wb_endpoint *ep, const char *addr, uint16_t port)
{
    struct wb_endpoint want = endpoint(addr, port);

    return ep->family == want.family && ep->port == want.port &&
           memcmp(ep->addr, want.addr, want.family == 4 ? 4 : 16) == 0;
}

static inline int plain_socket(const char *addr, uint16_t port)
{
    union {
        struct sockaddr sa;
        struct sockaddr_in in4;
        struct sockaddr_in6 in6;
    } sa = { 0 };
    bool v6 = strchr(addr, ':') != NULL;
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    if (v6) {
        sa.in6.sin6_family = AF_INET6;
        sa.in6.sin6_port = htons(port);
        inet_pton(AF_INET6, addr, &sa.in6.sin6_addr);
    } else {
        sa.in4.sin_family = AF_INET;
        sa.in4.sin_port = htons(port);
        inet_pton(AF_INET, addr, &sa.in4.sin_addr);
    }
    if (fd < 0 || bind(fd, &sa.sa, v6 ? sizeof(sa.in6) : sizeof(sa.in4)) < 0) {
        perror("plain_socket");
        abort();
    }
    return fd;
}

static inline uint16_t socket_port(int fd)
{
    struct sockaddr_in6 sa;
    socklen_t len = sizeof(sa);

    getsockname(fd, (struct sockaddr *)&sa, &len);
    return ntohs(sa.sin6_port);    /* same offset in sockaddr_in */
}

static inline ssize_t send_to(int fd, const char *addr, uint16_t port, const void *buf, size_t len)
{
    struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
    struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons(port) };

    if (strchr(addr, ':')) {
        inet_pton(AF_INET6, addr, &s6.sin6_addr);
        return sendto(fd, buf, len, 0, (struct sockaddr *)&s6, sizeof(s6));
    }
    inet_pton(AF_INET, addr, &s4.sin_addr);
    return sendto(fd, buf, len, 0, (struct sockaddr *)&s4, sizeof(s4));
}

/* Receive one datagram (5 s bound, failure only); from: its source text. */
static inline ssize_t recv_from(int fd, void *buf, size_t cap, char *from, uint16_t *from_port)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    struct sockaddr_in6 sa;
    socklen_t len = sizeof(sa);
    ssize_t n;

    if (poll(&pfd, 1, WAIT_STEP_MS * WAIT_STEPS) != 1)
        return -1;
    n = recvfrom(fd, buf, cap, MSG_DONTWAIT, (struct sockaddr *)&sa, &len);
    if (n >= 0 && from) {
        if (sa.sin6_family == AF_INET6)
            inet_ntop(AF_INET6, &sa.sin6_addr, from, INET6_ADDRSTRLEN);
        else
            inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, from, INET6_ADDRSTRLEN);
        *from_port = ntohs(sa.sin6_port);
    }
    return n;
}

/* Root only (else a skip line and 77); the namespace dies with the process. */
static inline int enter_namespace(void)
{
    int lo;

    if (geteuid() != 0) {
        printf("skip: needs root\n");
        return 77;
    }
    if (unshare(CLONE_NEWNET) < 0) {
        printf("skip: unshare(CLONE_NEWNET): %s\n", strerror(errno));
        return 77;
    }
    lo = netlink_link_index("lo");
    CHECK(lo == 1);
    CHECK(netlink_link_set_up(lo, true) == 0);
    return 0;
}

#endif
