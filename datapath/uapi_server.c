/* SPDX-License-Identifier: MIT */
/*
 * uapi_server.c - the UAPI socket server: binds <rundir>/<ifname>.sock
 * (0600), runs an accept thread and one thread per connection, frames
 * "get=1" / "set=1" / "wirebolt-stats=1" requests, calls the device
 * through struct uapi_ops one call at a time and writes "errno=N" replies.
 * The configuration codec is uapi.c; the stats codec (both directions, so
 * the server and `wirebolt show` share it) is at the end of this file.
 */
#include "datapath/uapi.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "crypto/random.h"

#define OP_GET "get=1\n"
#define OP_SET "set=1\n"
#define OP_STATS UAPI_OP_STATS "\n"
#define OP_LEN 6                      /* OP_GET and OP_SET */
#define IFNAME_MAX 15                 /* IFNAMSIZ - 1 */
#define LISTEN_BACKLOG 16

struct uapi_server {
    struct uapi_ops ops;
    void *ctx;
    int listen_fd;
    int wake_fd;                      /* eventfd: readable once destroy starts */
    dev_t sock_dev;                   /* the socket file we bound, to unlink only ours */
    ino_t sock_ino;
    pthread_t accept_thread;
    pthread_mutex_t ops_lock;         /* one ops call at a time */
    pthread_mutex_t conn_lock;        /* guards n_conns */
    pthread_cond_t conns_done;
    unsigned n_conns;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* One client connection; owned by its thread. buf holds received bytes not
 * yet consumed (keys included: wiped whenever it moves or shrinks). */
struct conn {
    struct uapi_server *srv;
    int fd;
    bool eof;
    char *buf;
    size_t len, cap;
    size_t scanned;                   /* set body searched for "\n\n" up to here */
};

enum request_kind { REQUEST_GET, REQUEST_SET, REQUEST_STATS, REQUEST_BAD };

struct request {
    enum request_kind kind;
    const char *body;                 /* set: the lines after "set=1\n" */
    size_t body_len;
    size_t used;                      /* bytes of buf the request took */
};

/* Wait until fd is ready for `events` or destroy starts. Between requests
 * a client may stay quiet as long as it likes (wireguard-go never times
 * out); in the middle of one, or while we write, it has
 * UAPI_IO_TIMEOUT_MS to make progress. Returns 0, -ECANCELED or
 * -ETIMEDOUT. */
static int conn_wait(struct conn *cn, short events)
{
    struct pollfd pfd[2] = {
        { .fd = cn->fd, .events = events },
        { .fd = cn->srv->wake_fd, .events = POLLIN },
    };
    int timeout = cn->len || events != POLLIN ? UAPI_IO_TIMEOUT_MS : -1;

    for (;;) {
        int r = poll(pfd, 2, timeout);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            return -ETIMEDOUT;
        if (pfd[1].revents)
            return -ECANCELED;
        return 0;
    }
}

static int conn_send(struct conn *cn, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(cn->fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int r = conn_wait(cn, POLLOUT);
            if (r)
                return r;
            continue;
        }
        if (w < 0)
            return -errno;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int reply_errno(struct conn *cn, int err)
{
    char line[32];
    int n = snprintf(line, sizeof(line), "errno=%d\n\n", err);
    return conn_send(cn, line, (size_t)n);
}

/* Make room for more input: the buffer doubles up to UAPI_MAX_REQUEST,
 * copying (and wiping the old copy) instead of realloc, which could leave
 * key material behind in freed memory. */
static int conn_grow(struct conn *cn)
{
    size_t cap = cn->cap ? cn->cap * 2 : 4096;

    if (cn->cap >= UAPI_MAX_REQUEST)
        return -EMSGSIZE;
    if (cap > UAPI_MAX_REQUEST)
        cap = UAPI_MAX_REQUEST;
    char *p = malloc(cap);
    if (!p)
        return -ENOMEM;
    if (cn->len)
        memcpy(p, cn->buf, cn->len);
    if (cn->buf) {
        wb_memzero(cn->buf, cn->cap);
        free(cn->buf);
    }
    cn->buf = p;
    cn->cap = cap;
    return 0;
}

/* Read what is there. Returns 0 (cn->eof set at end of stream) or -errno
 * (-EMSGSIZE when a request outgrows UAPI_MAX_REQUEST). */
static int conn_fill(struct conn *cn)
{
    if (cn->len == cn->cap) {
        int r = conn_grow(cn);
        if (r)
            return r;
    }
    for (;;) {
        ssize_t n = recv(cn->fd, cn->buf + cn->len, cn->cap - cn->len, 0);
        if (n > 0) {
            cn->len += (size_t)n;
            return 0;
        }
        if (n == 0) {
            cn->eof = true;
            return 0;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -errno;
        int r = conn_wait(cn, POLLIN);
        if (r)
            return r;
    }
}

static void conn_consume(struct conn *cn, size_t used)
{
    memmove(cn->buf, cn->buf + used, cn->len - used);
    wb_memzero(cn->buf + cn->len - used, used);
    cn->len -= used;
    cn->scanned = 0;
}

/* Is a whole request in the buffer? Returns 1 (and *rq), or 0 when more
 * input is needed (or, at end of stream, when nothing usable is left). */
static int find_request(struct conn *cn, struct request *rq)
{
    static const size_t stats_len = sizeof(OP_STATS) - 1;
    size_t have = cn->len < OP_LEN ? cn->len : OP_LEN;
    bool get = have && memcmp(cn->buf, OP_GET, have) == 0;
    bool set = have && memcmp(cn->buf, OP_SET, have) == 0;
    /* Our own operation, only where the device has the callback: without
     * it the request is an unknown operation, as it always was. */
    size_t have_stats = cn->len < stats_len ? cn->len : stats_len;
    bool stats = cn->srv->ops.stats && have_stats && memcmp(cn->buf, OP_STATS, have_stats) == 0;

    memset(rq, 0, sizeof(*rq));
    if (cn->len == 0)
        return 0;
    if (stats) {
        /* Like get: the op line, then an empty line. */
        if (cn->len < stats_len + 1)
            return 0;
        rq->kind = cn->buf[stats_len] == '\n' ? REQUEST_STATS : REQUEST_BAD;
        rq->used = stats_len + 1;
        return 1;
    }
    if (!get && !set) {
        rq->kind = REQUEST_BAD;
        return 1;
    }
    if (cn->len < OP_LEN + (get ? 1 : 0))
        return 0;
    if (get) {
        rq->kind = cn->buf[OP_LEN] == '\n' ? REQUEST_GET : REQUEST_BAD;
        rq->used = OP_LEN + 1;
        return 1;
    }
    /* set: the body ends at the first empty line; the op line's own '\n'
     * counts as the line before it. */
    size_t from = cn->scanned > OP_LEN ? cn->scanned - 1 : OP_LEN - 1;
    const char *end = memmem(cn->buf + from, cn->len - from, "\n\n", 2);
    rq->kind = REQUEST_SET;
    rq->body = cn->buf + OP_LEN;
    if (end) {
        rq->body_len = (size_t)(end + 1 - rq->body);
        rq->used = (size_t)(end + 2 - cn->buf);
        return 1;
    }
    cn->scanned = cn->len;
    if (!cn->eof)
        return 0;
    /* The client closed its side mid-set: apply what came, as
     * wireguard-go's line scanner does at end of input. */
    rq->body_len = cn->len - OP_LEN;
    rq->used = cn->len;
    return 1;
}

static int serve_get(struct conn *cn)
{
    struct uapi_server *srv = cn->srv;
    struct config cfg;
    char *text = NULL;
    int r;

    config_init(&cfg);
    pthread_mutex_lock(&srv->ops_lock);
    r = srv->ops.get(srv->ctx, &cfg);
    pthread_mutex_unlock(&srv->ops_lock);
    if (r == 0) {
        text = uapi_format_get(&cfg);
        if (!text)
            r = -ENOMEM;
    }
    config_free(&cfg);
    if (r == 0)
        r = conn_send(cn, text, strlen(text));
    else
        r = reply_errno(cn, r < 0 ? r : -EIO);
    if (r == 0 && text)
        r = reply_errno(cn, 0);
    uapi_text_free(text);
    return r;
}

static int serve_stats(struct conn *cn)
{
    struct uapi_server *srv = cn->srv;
    struct uapi_stats *st = calloc(1, sizeof(*st));
    char *text = NULL;
    int r = st ? 0 : -ENOMEM;

    if (r == 0) {
        pthread_mutex_lock(&srv->ops_lock);
        r = srv->ops.stats(srv->ctx, st);
        pthread_mutex_unlock(&srv->ops_lock);
        if (r > 0)
            r = -EIO;
    }
    if (r == 0 && !(text = uapi_format_stats(st)))
        r = -ENOMEM;
    free(st);
    if (r)
        return reply_errno(cn, r);
    r = conn_send(cn, text, strlen(text));
    free(text);
    return r ? r : reply_errno(cn, 0);
}

static void server_log(struct uapi_server *srv, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void server_log(struct uapi_server *srv, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    if (!srv->ops.log)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    srv->ops.log(srv->ctx, msg);
}

static int serve_set(struct conn *cn, const struct request *rq)
{
    struct uapi_server *srv = cn->srv;
    struct config change;
    char err[128];
    int r = uapi_parse_set(rq->body, rq->body_len, &change, err, sizeof(err));

    if (r)
        server_log(srv, "set: %s", err);
    if (r == 0) {
        pthread_mutex_lock(&srv->ops_lock);
        r = srv->ops.set(srv->ctx, &change);
        pthread_mutex_unlock(&srv->ops_lock);
        config_free(&change);
        if (r > 0)
            r = -EIO;
    }
    return reply_errno(cn, r);
}

/* Serve requests until the client leaves, errs, stalls or destroy starts. */
static void conn_serve(struct conn *cn)
{
    struct request rq;

    for (;;) {
        if (!find_request(cn, &rq)) {
            if (cn->eof)
                return;
            int r = conn_fill(cn);
            if (r == -EMSGSIZE || r == -ENOMEM) {
                server_log(cn->srv, "request over %u bytes; closing the connection",
                           UAPI_MAX_REQUEST);
                reply_errno(cn, -EINVAL);
            }
            if (r)
                return;
            continue;
        }
        if (rq.kind == REQUEST_BAD) {
            server_log(cn->srv, "unknown operation; closing the connection");
            reply_errno(cn, -EINVAL);
            return;
        }
        int r = rq.kind == REQUEST_GET     ? serve_get(cn)
                : rq.kind == REQUEST_STATS ? serve_stats(cn)
                                           : serve_set(cn, &rq);
        if (r)
            return;
        conn_consume(cn, rq.used);
    }
}

static void *conn_main(void *arg)
{
    struct conn *cn = arg;
    struct uapi_server *srv = cn->srv;

    conn_serve(cn);
    if (cn->buf) {
        wb_memzero(cn->buf, cn->cap);
        free(cn->buf);
    }
    close(cn->fd);
    free(cn);
    /* Last touch of srv: destroy may free it as soon as n_conns is 0. */
    pthread_mutex_lock(&srv->conn_lock);
    if (--srv->n_conns == 0)
        pthread_cond_broadcast(&srv->conns_done);
    pthread_mutex_unlock(&srv->conn_lock);
    return NULL;
}

/* Accept thread: hand fd to a new detached connection thread, or close it
 * when UAPI_MAX_CONNECTIONS are busy or no thread can be made. */
static void conn_start(struct uapi_server *srv, int fd)
{
    pthread_attr_t attr;
    pthread_t t;
    struct conn *cn = calloc(1, sizeof(*cn));

    pthread_mutex_lock(&srv->conn_lock);
    if (!cn || srv->n_conns >= UAPI_MAX_CONNECTIONS) {
        pthread_mutex_unlock(&srv->conn_lock);
        free(cn);
        close(fd);
        return;
    }
    srv->n_conns++;
    pthread_mutex_unlock(&srv->conn_lock);
    cn->srv = srv;
    cn->fd = fd;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int r = pthread_create(&t, &attr, conn_main, cn);
    pthread_attr_destroy(&attr);
    if (r == 0)
        return;
    close(fd);
    free(cn);
    pthread_mutex_lock(&srv->conn_lock);
    if (--srv->n_conns == 0)
        pthread_cond_broadcast(&srv->conns_done);
    pthread_mutex_unlock(&srv->conn_lock);
}

static void *accept_main(void *arg)
{
    struct uapi_server *srv = arg;
    struct pollfd pfd[2] = {
        { .fd = srv->listen_fd, .events = POLLIN },
        { .fd = srv->wake_fd, .events = POLLIN },
    };

    for (;;) {
        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pfd[1].revents)
            break;
        if (!(pfd[0].revents & POLLIN))
            continue;
        int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            conn_start(srv, fd);
        } else if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            /* Out of descriptors or memory: back off instead of spinning. */
            struct pollfd wake = { .fd = srv->wake_fd, .events = POLLIN };
            poll(&wake, 1, 100);
        }
    }
    return NULL;
}

/* A socket file is in the way: refuse if a server answers on it, remove it
 * if it is a dead server's, refuse if it is not a socket at all. */
static int remove_stale(const struct sockaddr_un *addr)
{
    struct stat st;
    int fd, r, e;

    if (lstat(addr->sun_path, &st) < 0)
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISSOCK(st.st_mode))
        return -EEXIST;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    r = connect(fd, (const struct sockaddr *)addr, sizeof(*addr));
    e = errno;
    close(fd);
    if (r == 0 || e == EAGAIN || e == EINPROGRESS)
        return -EADDRINUSE;
    if (e != ECONNREFUSED && e != ENOENT)
        return -e;
    if (unlink(addr->sun_path) < 0 && errno != ENOENT)
        return -errno;
    return 0;
}

static int bind_once(const struct sockaddr_un *addr, int *out)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

    if (fd < 0)
        return -errno;
    /* On Linux the file bind() creates takes the socket inode's mode (less
     * the umask), so this makes it 0600 without touching the process-wide
     * umask; the chmod below covers other kernels. */
    if (fchmod(fd, 0600) < 0 && errno != EINVAL && errno != EOPNOTSUPP)
        goto err;
    if (bind(fd, (const struct sockaddr *)addr, sizeof(*addr)) < 0)
        goto err;
    if (chmod(addr->sun_path, 0600) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
        int e = errno;
        unlink(addr->sun_path);
        close(fd);
        return -e;
    }
    *out = fd;
    return 0;
err:;
    int e = errno;
    close(fd);
    return -e;
}

static int listen_socket(struct uapi_server *srv)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    struct stat st;
    int r;

    memcpy(addr.sun_path, srv->path, sizeof(addr.sun_path));
    r = bind_once(&addr, &srv->listen_fd);
    if (r == -EADDRINUSE) {
        r = remove_stale(&addr);
        if (r)
            return r;
        r = bind_once(&addr, &srv->listen_fd);
    }
    if (r)
        return r;
    if (lstat(srv->path, &st) == 0) {
        srv->sock_dev = st.st_dev;
        srv->sock_ino = st.st_ino;
    }
    return 0;
}

static void unlink_ours(struct uapi_server *srv)
{
    struct stat st;

    if (lstat(srv->path, &st) == 0 && st.st_dev == srv->sock_dev && st.st_ino == srv->sock_ino)
        unlink(srv->path);
}

static int make_dir(const char *dir)
{
    struct stat st;

    if (mkdir(dir, 0755) == 0)
        return chmod(dir, 0755) < 0 ? -errno : 0;
    if (errno != EEXIST)
        return -errno;
    if (stat(dir, &st) < 0)
        return -errno;
    return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

static int check_ifname(const char *ifname)
{
    size_t n = strlen(ifname);

    if (n == 0 || n > IFNAME_MAX || strchr(ifname, '/') || !strcmp(ifname, ".") ||
        !strcmp(ifname, ".."))
        return -EINVAL;
    return 0;
}

/* The accept thread (and the connection threads it starts) block every
 * signal: the process's handlers belong on its own threads. */
static int start_accept_thread(struct uapi_server *srv)
{
    sigset_t all, old;
    int r;

    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    r = pthread_create(&srv->accept_thread, NULL, accept_main, srv);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return -r;
}

struct uapi_server *uapi_server_create_at(const char *dir, const char *ifname,
                                          const struct uapi_ops *ops, void *ctx, int *err)
{
    struct uapi_server *srv;
    int r = check_ifname(ifname);

    if (r)
        goto err_out;
    srv = calloc(1, sizeof(*srv));
    r = -ENOMEM;
    if (!srv)
        goto err_out;
    srv->ops = *ops;
    srv->ctx = ctx;
    srv->listen_fd = srv->wake_fd = -1;
    r = snprintf(srv->path, sizeof(srv->path), "%s/%s.sock", dir, ifname);
    if (r < 0 || (size_t)r >= sizeof(srv->path)) {
        r = -ENAMETOOLONG;
        goto err_srv;
    }
    r = make_dir(dir);
    if (r)
        goto err_srv;
    r = listen_socket(srv);
    if (r)
        goto err_srv;
    srv->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    r = -errno;
    if (srv->wake_fd < 0)
        goto err_socket;
    pthread_mutex_init(&srv->ops_lock, NULL);
    pthread_mutex_init(&srv->conn_lock, NULL);
    pthread_cond_init(&srv->conns_done, NULL);
    r = start_accept_thread(srv);
    if (r)
        goto err_sync;
    return srv;

err_sync:
    pthread_cond_destroy(&srv->conns_done);
    pthread_mutex_destroy(&srv->conn_lock);
    pthread_mutex_destroy(&srv->ops_lock);
    close(srv->wake_fd);
err_socket:
    unlink_ours(srv);
    close(srv->listen_fd);
err_srv:
    free(srv);
err_out:
    if (err)
        *err = r;
    return NULL;
}

struct uapi_server *uapi_server_create(const char *ifname, const struct uapi_ops *ops,
                                       void *ctx, int *err)
{
    return uapi_server_create_at(UAPI_RUN_DIR, ifname, ops, ctx, err);
}

const char *uapi_server_path(const struct uapi_server *srv)
{
    return srv->path;
}

void uapi_server_destroy(struct uapi_server *srv)
{
    uint64_t one = 1;

    if (!srv)
        return;
    /* The eventfd stays readable: every poll in every thread sees it. */
    while (write(srv->wake_fd, &one, sizeof(one)) < 0 && errno == EINTR)
        ;
    pthread_join(srv->accept_thread, NULL);
    unlink_ours(srv);
    close(srv->listen_fd);
    pthread_mutex_lock(&srv->conn_lock);
    while (srv->n_conns)
        pthread_cond_wait(&srv->conns_done, &srv->conn_lock);
    pthread_mutex_unlock(&srv->conn_lock);
    pthread_cond_destroy(&srv->conns_done);
    pthread_mutex_destroy(&srv->conn_lock);
    pthread_mutex_destroy(&srv->ops_lock);
    close(srv->wake_fd);
    free(srv);
}

/* ----------------------------------------------------------- stats codec */

struct stat_field {
    const char *name;
    size_t off;
};

static const struct stat_field worker_fields[] = {
#define WORKER_FIELD(name) { #name, offsetof(struct worker_stats, name) },
    WORKER_STATS(WORKER_FIELD)
#undef WORKER_FIELD
};

#define N_FIELDS(v) (sizeof(v) / sizeof((v)[0]))

static const struct stat_field io_fields[] = {
#define IO_FIELD(name) { #name, offsetof(struct io_linux_stats, name) },
    UAPI_IO_LINUX_STATS(IO_FIELD)
#undef IO_FIELD
};

/* A field added to io_linux.h must be named in UAPI_IO_LINUX_STATS. */
_Static_assert(N_FIELDS(io_fields) * sizeof(uint64_t) == sizeof(struct io_linux_stats),
               "UAPI_IO_LINUX_STATS does not list every field of struct io_linux_stats");
_Static_assert(N_FIELDS(worker_fields) * sizeof(uint64_t) == sizeof(struct worker_stats),
               "struct worker_stats has a field outside WORKER_STATS");

static const struct {
    unsigned bit;
    const char *name;
} offload_names[] = {
#define OFFLOAD_NAME(bit, name) { bit, name },
    UAPI_IO_OFFLOADS(OFFLOAD_NAME)
#undef OFFLOAD_NAME
};

const char *uapi_offload_name(unsigned i)
{
    for (size_t k = 0; i < 32 && k < N_FIELDS(offload_names); k++)
        if (offload_names[k].bit == 1u << i)
            return offload_names[k].name;
    return NULL;
}

static uint64_t *field_at(void *base, const struct stat_field *f)
{
    return (uint64_t *)((char *)base + f->off);
}

static void format_fields(FILE *f, const void *base, const struct stat_field *fields, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s=%" PRIu64 "\n", fields[i].name, *field_at((void *)base, &fields[i]));
}

char *uapi_format_stats(const struct uapi_stats *s)
{
    unsigned workers = s->workers < UAPI_STATS_MAX_WORKERS ? s->workers : UAPI_STATS_MAX_WORKERS;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    if (!f)
        return NULL;
    fprintf(f, "workers=%u\nunder_load=%s\npool_bytes=%" PRIu64 "\npkt_room=%" PRIu64 "\n",
            workers, s->under_load ? "true" : "false", s->pool_bytes, s->pkt_room);
    if (s->has_io) {
        bool first = true;

        fputs("offloads=", f);
        for (unsigned i = 0; i < 32; i++) {
            const char *name = uapi_offload_name(i);

            if (!(s->offloads & (1u << i)) || !name)
                continue;
            fprintf(f, "%s%s", first ? "" : ",", name);
            first = false;
        }
        fputc('\n', f);
    }
    for (unsigned w = 0; w < workers; w++) {
        fprintf(f, "worker=%u\n", w);
        format_fields(f, &s->per_worker[w], worker_fields,
                      N_FIELDS(worker_fields));
    }
    fputs("worker=handshake\n", f);
    format_fields(f, &s->handshake, worker_fields, N_FIELDS(worker_fields));
    if (s->has_io) {
        fputs("io=linux\n", f);
        format_fields(f, &s->io, io_fields, N_FIELDS(io_fields));
    }
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

static bool stats_u64(const char *s, uint64_t *out)
{
    unsigned long long v;
    char *end;

    if (*s < '0' || *s > '9')
        return false;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

/* key=val into the counter of that name in base; unknown names are fine. */
static bool set_field(void *base, const struct stat_field *fields, size_t n, const char *key,
                      const char *val)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(fields[i].name, key) == 0)
            return stats_u64(val, field_at(base, &fields[i]));
    return true;
}

static unsigned parse_offloads(const char *val)
{
    unsigned mask = 0;

    while (*val) {
        size_t n = strcspn(val, ",");

        for (size_t k = 0; k < N_FIELDS(offload_names); k++)
            if (strlen(offload_names[k].name) == n && memcmp(offload_names[k].name, val, n) == 0)
                mask |= offload_names[k].bit;
        val += n;
        if (*val == ',')
            val++;
    }
    return mask;
}

enum stats_section { SEC_DEVICE, SEC_WORKER, SEC_IO, SEC_SKIP };

struct stats_parse {
    struct uapi_stats *out;
    enum stats_section sec;
    struct worker_stats *w;        /* SEC_WORKER: which */
    bool workers_seen;
};

/* One line, NUL-terminated. Returns 0, 1 for the errno line (*err set),
 * or -EPROTO. */
static int stats_line(struct stats_parse *p, char *line, int *err)
{
    struct uapi_stats *s = p->out;
    const char *key, *val;
    uint64_t v;
    int r = uapi_reply_line(line, &key, &val, err);

    if (r != 0)
        return r;
    if (strcmp(key, "worker") == 0) {
        if (strcmp(val, "handshake") == 0) {
            p->w = &s->handshake;
        } else {
            if (!p->workers_seen || !stats_u64(val, &v) || v >= s->workers)
                return -EPROTO;
            p->w = &s->per_worker[v];
        }
        p->sec = SEC_WORKER;
        return 0;
    }
    if (strcmp(key, "io") == 0) {
        /* Only the Linux backend's counters are known here. */
        p->sec = strcmp(val, "linux") == 0 ? SEC_IO : SEC_SKIP;
        s->has_io |= p->sec == SEC_IO;
        return 0;
    }
    switch (p->sec) {
    case SEC_WORKER:
        return set_field(p->w, worker_fields, N_FIELDS(worker_fields),
                         key, val) ? 0 : -EPROTO;
    case SEC_IO:
        return set_field(&s->io, io_fields, N_FIELDS(io_fields), key, val)
                   ? 0 : -EPROTO;
    case SEC_SKIP:
        return 0;
    case SEC_DEVICE:
        break;
    }
    if (strcmp(key, "workers") == 0) {
        if (!stats_u64(val, &v) || v > UAPI_STATS_MAX_WORKERS)
            return -EPROTO;
        s->workers = (unsigned)v;
        p->workers_seen = true;
    } else if (strcmp(key, "under_load") == 0) {
        if (strcmp(val, "true") && strcmp(val, "false"))
            return -EPROTO;
        s->under_load = val[0] == 't';
    } else if (strcmp(key, "pool_bytes") == 0) {
        return stats_u64(val, &s->pool_bytes) ? 0 : -EPROTO;
    } else if (strcmp(key, "pkt_room") == 0) {
        return stats_u64(val, &s->pkt_room) ? 0 : -EPROTO;
    } else if (strcmp(key, "offloads") == 0) {
        s->has_io = true;
        s->offloads = parse_offloads(val);
    }
    return 0;
}

int uapi_parse_stats(const char *text, size_t len, struct uapi_stats *out)
{
    struct stats_parse p = { .out = out, .sec = SEC_DEVICE };
    char *copy = malloc(len + 1), *line, *next;
    int err = 0, ret = -EPROTO;

    memset(out, 0, sizeof(*out));
    if (!copy)
        return -ENOMEM;
    memcpy(copy, text, len);
    copy[len] = '\0';
    for (line = copy; line && *line && *line != '\n'; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        ret = stats_line(&p, line, &err);
        if (ret != 0)
            break;
    }
    free(copy);
    if (ret == 1)                /* the errno line ends the reply */
        ret = err;
    else if (ret == 0)
        ret = -EPROTO;           /* no errno line */
    if (ret != 0)
        memset(out, 0, sizeof(*out));
    return ret;
}

void uapi_stats_total(const struct uapi_stats *s, struct worker_stats *sum)
{
    unsigned workers = s->workers < UAPI_STATS_MAX_WORKERS ? s->workers : UAPI_STATS_MAX_WORKERS;

    memset(sum, 0, sizeof(*sum));
    for (unsigned w = 0; w <= workers; w++) {
        const struct worker_stats *t = w < workers ? &s->per_worker[w] : &s->handshake;
#define WORKER_STAT_SUM(name) sum->name += t->name;
        WORKER_STATS(WORKER_STAT_SUM)
#undef WORKER_STAT_SUM
    }
}
