/* SPDX-License-Identifier: MIT */
/*
 * uapi_client.h - the client side of a UAPI socket for the UAPI tests
 * (test_uapi, test_uapi_scale): connect with bounded waits, send it all.
 */
#ifndef WB_TESTS_UAPI_CLIENT_H
#define WB_TESTS_UAPI_CLIENT_H

#include <stdio.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

/* A connected socket, or -1. Sends and receives give up after 30 s: a
 * hang fails the test, not CI. */
static inline int client_connect(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    struct timeval tv = { .tv_sec = 30 };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Send n bytes (stops quietly when the server has gone). */
static inline void send_all(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);

        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

#endif
