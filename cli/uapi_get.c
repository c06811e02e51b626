/* SPDX-License-Identifier: MIT */
/*
 * uapi_get.c - UAPI get from the client side: list the sockets, fetch a
 * reply, parse it (uapi_get.h). Keys and order follow wireguard-go's
 * device/uapi.go; the server is ours or any other implementation. The
 * stats reply is parsed by the codec beside the server (uapi.h).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <sodium.h>

#include "cli/uapi_get.h"
#include "datapath/uapi.h"

#define GET_MAX_REPLY (64u << 20)
#define GET_TIMEOUT_S 5

/* ---------------------------------------------------------------- list */

static int name_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

int uapi_get_list(const char *dir, char (**names)[16])
{
    DIR *d = opendir(dir ? dir : UAPI_RUN_DIR);
    char (*v)[16] = NULL;
    struct dirent *e;
    int n = 0;

    *names = NULL;
    if (!d)
        return errno == ENOENT ? 0 : -errno;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        void *nv;

        if (len <= 5 || len - 5 >= 16 || strcmp(e->d_name + len - 5, ".sock") != 0)
            continue;
        if (e->d_type != DT_SOCK && e->d_type != DT_UNKNOWN)
            continue;
        nv = realloc(v, (size_t)(n + 1) * sizeof(*v));
        if (!nv) {
            free(v);
            closedir(d);
            return -ENOMEM;
        }
        v = nv;
        memcpy(v[n], e->d_name, len - 5);
        v[n][len - 5] = '\0';
        n++;
    }
    closedir(d);
    if (n)
        qsort(v, (size_t)n, sizeof(*v), name_cmp);
    *names = v;
    return n;
}

/* --------------------------------------------------------------- parse */

/* A device-level key; false when the value is bad. */
static bool device_key(struct config *c, const char *key, const char *val, bool *known)
{
    uint64_t v = 0;

    *known = true;
    if (strcmp(key, "private_key") == 0) {
        c->has_private_key = true;
        return wb_key_from_hex(c->private_key, val) == 0;
    }
    if (strcmp(key, "listen_port") == 0) {
        c->has_listen_port = uapi_parse_uint(val, UINT16_MAX, &v);
        c->listen_port = (uint16_t)v;
        return c->has_listen_port;
    }
    if (strcmp(key, "fwmark") == 0) {
        c->has_fwmark = uapi_parse_uint(val, UINT32_MAX, &v);
        c->fwmark = (uint32_t)v;
        return c->has_fwmark;
    }
    *known = false;
    return true;
}

static bool peer_number(struct config_peer *p, const char *key, const char *val)
{
    static const struct { const char *key; size_t off; uint64_t max; } nums[] = {
        { "last_handshake_time_sec", offsetof(struct config_peer, last_handshake_time_sec), UINT64_MAX },
        { "last_handshake_time_nsec", offsetof(struct config_peer, last_handshake_time_nsec), UINT64_MAX },
        { "tx_bytes", offsetof(struct config_peer, tx_bytes), UINT64_MAX },
        { "rx_bytes", offsetof(struct config_peer, rx_bytes), UINT64_MAX },
    };
    uint64_t v;

    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
        if (strcmp(key, nums[i].key) != 0)
            continue;
        if (!uapi_parse_uint(val, nums[i].max, &v))
            return false;
        memcpy((char *)p + nums[i].off, &v, sizeof(v));
        p->has_stats = true;
        return true;
    }
    return true;    /* not one of these: the caller decided it is unknown */
}

static bool peer_key(struct config_peer *p, const char *key, const char *val)
{
    struct config_prefix pr;
    uint64_t v = 0;

    if (strcmp(key, "preshared_key") == 0) {
        p->has_preshared_key = true;
        return wb_key_from_hex(p->preshared_key, val) == 0;
    }
    if (strcmp(key, "endpoint") == 0)
        return config_endpoint_parse(p, val) == 0;
    if (strcmp(key, "persistent_keepalive_interval") == 0) {
        p->has_persistent_keepalive = uapi_parse_uint(val, UINT16_MAX, &v);
        p->persistent_keepalive = (uint16_t)v;
        return p->has_persistent_keepalive;
    }
    if (strcmp(key, "allowed_ip") == 0)
        return config_prefix_parse(&pr, val) == 0 &&
               config_prefixes_add(&p->allowed_ips, &p->n_allowed_ips, &pr) == 0;
    if (strcmp(key, "protocol_version") == 0)
        return uapi_parse_uint(val, UINT32_MAX, &v);
    return peer_number(p, key, val);
}

/* One "key=value" line (NUL-terminated, no '\n'). Returns 0, 1 for the
 * errno line (*err set), or -errno. */
static int parse_line(struct config *c, struct config_peer **peer, char *line, int *err)
{
    const char *key, *val;
    bool known;
    int r = uapi_reply_line(line, &key, &val, err);

    if (r != 0)
        return r;
    if (strcmp(key, "public_key") == 0) {
        *peer = config_add_peer(c);
        if (!*peer)
            return -ENOMEM;
        return wb_key_from_hex((*peer)->public_key, val) == 0 ? 0 : -EINVAL;
    }
    if (!*peer)
        return device_key(c, key, val, &known) ? 0 : -EINVAL;
    return peer_key(*peer, key, val) ? 0 : -EINVAL;
}

int uapi_get_parse(const char *text, size_t len, struct config *out)
{
    struct config_peer *peer = NULL;
    char *copy = malloc(len + 1), *line, *next;
    int err = 0, ret = -EPROTO;

    if (!copy)
        return -ENOMEM;
    memcpy(copy, text, len);
    copy[len] = '\0';
    for (line = copy; line && *line && *line != '\n'; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        ret = parse_line(out, &peer, line, &err);
        if (ret != 0)
            break;
    }
    if (ret == 1)            /* the errno line ends the reply */
        ret = err;
    else if (ret == 0)
        ret = -EPROTO;       /* no errno line */
    sodium_memzero(copy, len);
    free(copy);
    if (ret < 0)
        config_free(out);
    return ret;
}

/* --------------------------------------------------------------- fetch */

static int connect_socket(const char *dir, const char *ifname)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    struct timeval tv = { .tv_sec = GET_TIMEOUT_S };
    int n = snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s.sock", dir ? dir : UAPI_RUN_DIR,
                     ifname);
    int fd;

    if (n < 0 || (size_t)n >= sizeof(sun.sun_path) || strchr(ifname, '/'))
        return -EINVAL;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        int e = errno;

        close(fd);
        return -e;
    }
    return fd;
}

/* Read until the reply's blank line; *buf is malloc'd (it holds keys). */
static int read_reply(int fd, char **buf, size_t *len)
{
    size_t cap = 4096;
    char *b = malloc(cap);

    *len = 0;
    if (!b)
        return -ENOMEM;
    for (;;) {
        ssize_t n;

        if (*len + 1 >= cap) {
            char *nb = cap >= GET_MAX_REPLY ? NULL : malloc(cap * 2);

            if (!nb) {
                sodium_memzero(b, *len);
                free(b);
                return -EMSGSIZE;
            }
            memcpy(nb, b, *len);
            sodium_memzero(b, *len);
            free(b);
            b = nb;
            cap *= 2;
        }
        n = read(fd, b + *len, cap - *len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        *len += (size_t)n;
        if ((*len == 1 && b[0] == '\n') ||
            (*len >= 2 && b[*len - 1] == '\n' && b[*len - 2] == '\n'))
            break;
    }
    *buf = b;
    return 0;
}

/* Send req on a new connection to dir/<ifname>.sock and read one reply
 * (*reply malloc'd, also when empty). */
static int request(const char *dir, const char *ifname, const char *req, char **reply,
                   size_t *len)
{
    size_t n = strlen(req);
    int fd = connect_socket(dir, ifname);
    int ret;

    *reply = NULL;
    *len = 0;
    if (fd < 0)
        return fd;
    ret = send(fd, req, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -EIO;
    if (ret == 0)
        ret = read_reply(fd, reply, len);
    close(fd);
    return ret;
}

static void reply_free(char *reply, size_t len)
{
    if (reply) {
        sodium_memzero(reply, len);
        free(reply);
    }
}

int uapi_get_fetch(const char *dir, const char *ifname, struct config *out)
{
    char *reply;
    size_t len;
    int ret = request(dir, ifname, "get=1\n\n", &reply, &len);

    if (ret == 0)
        ret = uapi_get_parse(reply, len, out);
    reply_free(reply, len);
    return ret;
}

int uapi_get_stats_fetch(const char *dir, const char *ifname, struct uapi_stats *out)
{
    char *reply;
    size_t len;
    int ret = request(dir, ifname, UAPI_OP_STATS "\n\n", &reply, &len);

    memset(out, 0, sizeof(*out));
    if (ret == 0 && len == 0)
        ret = -EOPNOTSUPP;      /* closed without a word: wireguard-go */
    if (ret == 0) {
        ret = uapi_parse_stats(reply, len, out);
        if (ret == -EINVAL)     /* errno=-22: an unknown operation there */
            ret = -EOPNOTSUPP;
    }
    reply_free(reply, len);
    return ret;
}
