/* SPDX-License-Identifier: MIT */
/*
 * uapi_server.c - the UAPI socket server: binds <rundir>/<ifname>.sock
 * (0600), runs an accept thread and one thread per connection (a bounded
 * number: one more evicts the connection idle longest), frames "get=1" /
 * "set=1" / "wirebolt-stats=1" requests, streams a set's lines through the
 * set parser, writes a get part by part, calls the device through struct
 * uapi_ops under one op lock and writes "errno=N" replies. The codecs are
 * uapi.c (configuration) and uapi_stats.c (our stats operation).
 *
 * Memory per connection: its read buffer (CONN_BUF) and, inside a
 * request, the set parser (the parsed change and one line) or one part of
 * a get; nothing grows with the size of a request's text.
 */
#include "datapath/uapi.h"

#include <errno.h>
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
#include <time.h>
#include <unistd.h>

#include "crypto/random.h"

#define OP_GET "get=1\n"
#define OP_SET "set=1\n"
#define OP_STATS UAPI_OP_STATS "\n"
#define OP_LEN 6                      /* OP_GET and OP_SET */
#define IFNAME_MAX 15                 /* IFNAMSIZ - 1 */
#define LISTEN_BACKLOG 16
#define CONN_BUF (64u << 10)          /* bytes read from a socket at a time */

struct conn;

struct uapi_server {
    struct uapi_ops ops;
    void *ctx;
    struct uapi_server_options opt;   /* defaults filled in */
    int listen_fd;
    int wake_fd;                      /* eventfd: readable once destroy starts */
    dev_t sock_dev;                   /* the socket file we bound, to unlink only ours */
    ino_t sock_ino;
    pthread_t accept_thread;
    pthread_mutex_t ops_lock;         /* held for each ops call: one at a time */
    pthread_mutex_t conn_lock;        /* guards what follows and each conn's
                                         busy, evicted, idle_since and links */
    pthread_cond_t conns_done;
    struct conn *conns;               /* every connection thread's */
    unsigned n_conns;                 /* connection threads alive */
    unsigned n_live;                  /* of them not evicted: held to max_connections */
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* One client connection; owned by its thread, except what conn_lock
 * guards. buf holds received bytes not yet consumed (keys included: wiped
 * whenever they move or go). */
struct conn {
    struct uapi_server *srv;
    struct conn *prev, *next;         /* srv->conns */
    int fd;
    bool busy;                        /* inside a request: never evicted */
    bool evicted;                     /* the accept thread shut fd down */
    uint64_t idle_since;              /* ms (CLOCK_MONOTONIC), while !busy */
    bool eof;
    size_t len;
    char buf[CONN_BUF];
};

enum op { OP_NEED_MORE, OP_DO_GET, OP_DO_SET, OP_DO_STATS, OP_BAD };

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void server_log(struct uapi_server *srv, enum wb_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void server_log(struct uapi_server *srv, enum wb_log_level level, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    if (!srv->ops.log)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    srv->ops.log(srv->ctx, level, msg);
}

/* Why a request's I/O ended, for the log: a timeout is the client's
 * fault, a client that left is no news, destroy says nothing. */
static void log_io(struct conn *cn, const char *what, int r)
{
    struct uapi_server *srv = cn->srv;

    if (r == -ETIMEDOUT)
        server_log(srv, WB_LOG_WARN, "%s: no progress for %d ms; closing the connection", what,
                   srv->opt.io_timeout_ms);
    else if (r == -EPIPE || r == -ECONNRESET)
        server_log(srv, WB_LOG_DEBUG, "%s: the client went away", what);
    else if (r != -ECANCELED)
        server_log(srv, WB_LOG_WARN, "%s: %s; closing the connection", what, strerror(-r));
}

/* ------------------------------------------------------------------ I/O */

/* Wait until fd is ready for `events`, destroy starts or timeout_ms pass.
 * Returns 0, -ECANCELED, -ETIMEDOUT or -errno. */
static int conn_wait(struct conn *cn, short events, int timeout_ms)
{
    struct pollfd pfd[2] = {
        { .fd = cn->fd, .events = events },
        { .fd = cn->srv->wake_fd, .events = POLLIN },
    };

    for (;;) {
        int r = poll(pfd, 2, timeout_ms);
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

/* Within a request: the client has io_timeout_ms to take each piece. */
static int conn_send(struct conn *cn, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(cn->fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int r = conn_wait(cn, POLLOUT, cn->srv->opt.io_timeout_ms);
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

/* Within a request: read what is there, waiting io_timeout_ms at most for
 * it. Returns 0 (cn->eof set at end of stream) or -errno. */
static int conn_fill(struct conn *cn)
{
    if (cn->len == sizeof(cn->buf))
        return -EMSGSIZE;             /* cannot happen: every reader consumes */
    for (;;) {
        ssize_t n = recv(cn->fd, cn->buf + cn->len, sizeof(cn->buf) - cn->len, 0);
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
        int r = conn_wait(cn, POLLIN, cn->srv->opt.io_timeout_ms);
        if (r)
            return r;
    }
}

static void conn_consume(struct conn *cn, size_t used)
{
    memmove(cn->buf, cn->buf + used, cn->len - used);
    wb_memzero(cn->buf + cn->len - used, used);
    cn->len -= used;
}

/* Between requests: wait up to idle_timeout_ms for the next one and mark
 * the connection busy when it comes (a request already buffered is one).
 * Returns 0, -ETIMEDOUT, -ECANCELED, or -ECONNABORTED when the accept
 * thread evicted the connection. */
static int conn_wait_request(struct conn *cn)
{
    struct uapi_server *srv = cn->srv;
    int r = 0;

    if (cn->len || cn->eof)
        return 0;                     /* busy since the last request */
    r = conn_wait(cn, POLLIN, srv->opt.idle_timeout_ms);
    pthread_mutex_lock(&srv->conn_lock);
    if (cn->evicted)
        r = -ECONNABORTED;
    else if (r == 0)
        cn->busy = true;
    pthread_mutex_unlock(&srv->conn_lock);
    return r;
}

/* A request is done: with nothing buffered, the connection is idle. */
static void conn_idle(struct conn *cn)
{
    struct uapi_server *srv = cn->srv;

    if (cn->len || cn->eof)
        return;
    pthread_mutex_lock(&srv->conn_lock);
    cn->busy = false;
    cn->idle_since = now_ms();
    pthread_mutex_unlock(&srv->conn_lock);
}

/* ------------------------------------------------------------- requests */

/* Which operation the buffer starts with; *used: its bytes ("set=1\n";
 * "get=1\n\n"; the stats line and its blank line). */
static enum op classify(const struct conn *cn, size_t *used)
{
    static const size_t stats_len = sizeof(OP_STATS) - 1;
    size_t have = cn->len < OP_LEN ? cn->len : OP_LEN;
    bool get = have && memcmp(cn->buf, OP_GET, have) == 0;
    bool set = have && memcmp(cn->buf, OP_SET, have) == 0;
    /* Our own operation, only where the device has the callback: without
     * it the request is an unknown operation, as it always was. */
    size_t have_stats = cn->len < stats_len ? cn->len : stats_len;
    bool stats = cn->srv->ops.stats && have_stats && memcmp(cn->buf, OP_STATS, have_stats) == 0;

    *used = 0;
    if (cn->len == 0)
        return OP_NEED_MORE;
    if (stats) {
        /* Like get: the op line, then an empty line. */
        if (cn->len < stats_len + 1)
            return OP_NEED_MORE;
        *used = stats_len + 1;
        return cn->buf[stats_len] == '\n' ? OP_DO_STATS : OP_BAD;
    }
    if (!get && !set)
        return OP_BAD;
    if (cn->len < OP_LEN + (get ? 1 : 0))
        return OP_NEED_MORE;
    if (set) {
        *used = OP_LEN;               /* the body streams through the parser */
        return OP_DO_SET;
    }
    *used = OP_LEN + 1;
    return cn->buf[OP_LEN] == '\n' ? OP_DO_GET : OP_BAD;
}

/* Read until the operation is known. Returns 0 with *op, 1 when the client
 * left (a truncated operation gets no answer), or -errno. */
static int read_op(struct conn *cn, enum op *op)
{
    for (;;) {
        size_t used;

        *op = classify(cn, &used);
        if (*op != OP_NEED_MORE) {
            conn_consume(cn, *op == OP_BAD ? 0 : used);
            return 0;
        }
        if (cn->eof) {
            if (cn->len)
                server_log(cn->srv, WB_LOG_DEBUG, "connection closed inside an operation line");
            return 1;
        }
        int r = conn_fill(cn);
        if (r) {
            log_io(cn, "request", r);
            return r;
        }
    }
}

/* One part of a get: the device part first, then up to get_part_peers
 * peers, formatted and sent. The op lock is held while the device fills
 * the part, not while it is written. Returns 1 when more may follow, 0 at
 * the end, a device error (-errno, *io 0) or an I/O error (*io set). */
static int send_part(struct conn *cn, void *cursor, int *io)
{
    struct uapi_server *srv = cn->srv;
    struct config part;
    char *text = NULL;
    int more;

    config_init(&part);
    pthread_mutex_lock(&srv->ops_lock);
    more = srv->ops.get_next(srv->ctx, cursor, &part, srv->opt.get_part_peers);
    pthread_mutex_unlock(&srv->ops_lock);
    if (more >= 0 && !(text = uapi_format_get(&part)))
        more = -ENOMEM;
    config_free(&part);
    if (more >= 0)
        *io = conn_send(cn, text, strlen(text));
    uapi_text_free(text);
    return more;
}

/* A get in parts (get_begin/_next/_end): memory for one part, the device's
 * lock for one part at a time, and a set may run between two parts. An
 * error after the first part still ends the reply with its errno. */
static int serve_get_parts(struct conn *cn)
{
    struct uapi_server *srv = cn->srv;
    void *cursor = NULL;
    int io = 0, more;

    pthread_mutex_lock(&srv->ops_lock);
    more = srv->ops.get_begin(srv->ctx, &cursor);
    pthread_mutex_unlock(&srv->ops_lock);
    if (more == 0) {
        do
            more = send_part(cn, cursor, &io);
        while (more > 0 && io == 0);
        pthread_mutex_lock(&srv->ops_lock);
        srv->ops.get_end(srv->ctx, cursor);
        pthread_mutex_unlock(&srv->ops_lock);
    }
    if (more > 0)
        more = -EIO;
    if (io == 0 && more < 0)
        server_log(srv, WB_LOG_WARN, "get: %s", strerror(-more));
    if (io == 0)
        io = reply_errno(cn, more);
    if (io)
        log_io(cn, "get", io);
    return io;
}

/* A get from the device's whole configuration at once (uapi_ops.get). */
static int serve_get_whole(struct conn *cn)
{
    struct uapi_server *srv = cn->srv;
    struct config cfg;
    char *text = NULL;
    int r;

    config_init(&cfg);
    pthread_mutex_lock(&srv->ops_lock);
    r = srv->ops.get(srv->ctx, &cfg);
    pthread_mutex_unlock(&srv->ops_lock);
    if (r > 0)
        r = -EIO;
    if (r == 0 && !(text = uapi_format_get(&cfg)))
        r = -ENOMEM;
    config_free(&cfg);
    if (r) {
        server_log(srv, WB_LOG_WARN, "get: %s", strerror(-r));
        r = reply_errno(cn, r);
    } else {
        r = conn_send(cn, text, strlen(text));
        if (r == 0)
            r = reply_errno(cn, 0);
    }
    uapi_text_free(text);
    if (r)
        log_io(cn, "get", r);
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
    if (r) {
        server_log(srv, WB_LOG_WARN, UAPI_OP_STATS ": %s", strerror(-r));
        r = reply_errno(cn, r);
    } else {
        r = conn_send(cn, text, strlen(text));
        if (r == 0)
            r = reply_errno(cn, 0);
    }
    free(text);
    if (r)
        log_io(cn, UAPI_OP_STATS, r);
    return r;
}

/* Feed the set's lines to the parser as they come, up to its blank line
 * or the end of input (the client closed its side mid-set: what came
 * counts, as with wireguard-go's line scanner). Returns 0 or -errno. */
static int read_set(struct conn *cn, struct uapi_set_parser *p)
{
    for (;;) {
        if (cn->len) {
            size_t used;
            int done = uapi_set_parser_feed(p, cn->buf, cn->len, &used);

            conn_consume(cn, used);
            if (done)
                return 0;
            continue;
        }
        if (cn->eof)
            return 0;
        int r = conn_fill(cn);
        if (r)
            return r;
    }
}

/* Parse the whole set, then apply it under the op lock: a bad line (the
 * rest of the request read and dropped) changes nothing. */
static int serve_set(struct conn *cn)
{
    struct uapi_server *srv = cn->srv;
    struct uapi_set_parser *p = uapi_set_parser_create();
    struct config change;
    int r;

    if (!p) {
        server_log(srv, WB_LOG_WARN, "set: out of memory; closing the connection");
        reply_errno(cn, -ENOMEM);
        return -ENOMEM;
    }
    r = read_set(cn, p);
    if (r) {
        log_io(cn, "set", r);
        uapi_set_parser_destroy(p);
        return r;
    }
    r = uapi_set_parser_finish(p, &change);
    if (r)
        server_log(srv, WB_LOG_WARN, "set: %s", uapi_set_parser_error(p));
    uapi_set_parser_destroy(p);
    if (r == 0) {
        pthread_mutex_lock(&srv->ops_lock);
        r = srv->ops.set(srv->ctx, &change);
        pthread_mutex_unlock(&srv->ops_lock);
        if (r > 0)
            r = -EIO;
        if (r)
            server_log(srv, WB_LOG_WARN, "set: the device failed: %s", strerror(-r));
        else
            server_log(srv, WB_LOG_DEBUG, "set: applied (%zu peers)", change.n_peers);
        config_free(&change);
    }
    r = reply_errno(cn, r);
    if (r)
        log_io(cn, "set", r);
    return r;
}

/* One request. Returns 0 to go on, else the connection closes. */
static int serve_request(struct conn *cn)
{
    enum op op;
    int r = read_op(cn, &op);

    if (r)
        return r;
    switch (op) {
    case OP_DO_GET:
        return cn->srv->ops.get_begin ? serve_get_parts(cn) : serve_get_whole(cn);
    case OP_DO_SET:
        return serve_set(cn);
    case OP_DO_STATS:
        return serve_stats(cn);
    default:
        server_log(cn->srv, WB_LOG_WARN, "unknown operation; closing the connection");
        reply_errno(cn, -EINVAL);
        return -EINVAL;
    }
}

/* Serve requests until the client leaves, errs, stalls, idles too long,
 * is evicted or destroy starts. */
static void conn_serve(struct conn *cn)
{
    for (;;) {
        int r = conn_wait_request(cn);

        if (r == -ETIMEDOUT)
            server_log(cn->srv, WB_LOG_DEBUG, "closing a connection idle for %d ms",
                       cn->srv->opt.idle_timeout_ms);
        if (r || serve_request(cn))
            return;
        conn_idle(cn);
    }
}

/* ---------------------------------------------------------- connections */

/* Unlink cn, close its socket and free it. Last touch of srv: destroy may
 * free it as soon as n_conns is 0. */
static void conn_release(struct conn *cn)
{
    struct uapi_server *srv = cn->srv;

    pthread_mutex_lock(&srv->conn_lock);
    if (cn->prev)
        cn->prev->next = cn->next;
    else
        srv->conns = cn->next;
    if (cn->next)
        cn->next->prev = cn->prev;
    if (!cn->evicted)
        srv->n_live--;
    close(cn->fd);                    /* under the lock: no eviction shuts it down now */
    if (--srv->n_conns == 0)
        pthread_cond_broadcast(&srv->conns_done);
    pthread_mutex_unlock(&srv->conn_lock);
    wb_memzero(cn, sizeof(*cn));
    free(cn);
}

static void *conn_main(void *arg)
{
    struct conn *cn = arg;

    conn_serve(cn);
    conn_release(cn);
    return NULL;
}

/* The connection idle (between requests) the longest, or NULL when every
 * connection is inside a request (the list is newest first: on a tie of
 * milliseconds the older one wins). Call with conn_lock held. */
static struct conn *oldest_idle(struct uapi_server *srv)
{
    struct conn *best = NULL;

    for (struct conn *c = srv->conns; c; c = c->next)
        if (!c->busy && !c->evicted && (!best || c->idle_since <= best->idle_since))
            best = c;
    return best;
}

/* Make room for one more connection: evict the one idle longest. Its
 * thread wakes from its wait (the socket reads as ended) and goes.
 * Returns false when every connection is busy. Call with conn_lock held. */
static bool make_room(struct uapi_server *srv, uint64_t now, uint64_t *idle_ms)
{
    struct conn *victim;

    if (srv->n_live < srv->opt.max_connections)
        return true;
    victim = oldest_idle(srv);
    if (!victim)
        return false;
    victim->evicted = true;
    srv->n_live--;
    *idle_ms = now - victim->idle_since;
    shutdown(victim->fd, SHUT_RDWR);
    return true;
}

/* Accept thread: hand fd to a new detached connection thread, evicting
 * the longest idle connection when max_connections are open, or close fd
 * when all of them are inside a request or no thread can be made. */
static void conn_start(struct uapi_server *srv, int fd)
{
    struct conn *cn = malloc(sizeof(*cn));
    uint64_t now = now_ms(), idle_ms = UINT64_MAX;
    pthread_attr_t attr;
    pthread_t t;
    int r;

    if (!cn) {
        server_log(srv, WB_LOG_WARN, "refused a connection: out of memory");
        close(fd);
        return;
    }
    memset(cn, 0, offsetof(struct conn, buf));
    cn->srv = srv;
    cn->fd = fd;
    cn->idle_since = now;
    pthread_mutex_lock(&srv->conn_lock);
    if (!make_room(srv, now, &idle_ms)) {
        pthread_mutex_unlock(&srv->conn_lock);
        server_log(srv, WB_LOG_WARN, "refused a connection: all %u connections are inside a request",
                   srv->opt.max_connections);
        close(fd);
        free(cn);
        return;
    }
    cn->next = srv->conns;
    if (cn->next)
        cn->next->prev = cn;
    srv->conns = cn;
    srv->n_live++;
    srv->n_conns++;
    pthread_mutex_unlock(&srv->conn_lock);
    if (idle_ms != UINT64_MAX)
        server_log(srv, WB_LOG_WARN,
                   "%u connections open: evicted the one idle longest (%llu ms) for a new one",
                   srv->opt.max_connections, (unsigned long long)idle_ms);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    r = pthread_create(&t, &attr, conn_main, cn);
    pthread_attr_destroy(&attr);
    if (r) {
        server_log(srv, WB_LOG_WARN, "refused a connection: no thread: %s", strerror(r));
        conn_release(cn);
    }
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

static int set_options(struct uapi_server *srv, const struct uapi_server_options *opt)
{
    static const struct uapi_server_options none;

    if (!opt)
        opt = &none;
    if (opt->idle_timeout_ms < 0 || opt->io_timeout_ms < 0)
        return -EINVAL;
    srv->opt.max_connections = opt->max_connections ? opt->max_connections : UAPI_MAX_CONNECTIONS;
    srv->opt.idle_timeout_ms = opt->idle_timeout_ms ? opt->idle_timeout_ms : UAPI_IDLE_TIMEOUT_MS;
    srv->opt.io_timeout_ms = opt->io_timeout_ms ? opt->io_timeout_ms : UAPI_IO_TIMEOUT_MS;
    srv->opt.get_part_peers = opt->get_part_peers ? opt->get_part_peers : UAPI_GET_PART_PEERS;
    return 0;
}

struct uapi_server *uapi_server_create_with(const char *dir, const char *ifname,
                                            const struct uapi_ops *ops, void *ctx,
                                            const struct uapi_server_options *opt, int *err)
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
    r = set_options(srv, opt);
    if (r)
        goto err_srv;
    if (!ops->get_begin != !ops->get_next || !ops->get_begin != !ops->get_end ||
        (!ops->get && !ops->get_begin)) {
        r = -EINVAL;
        goto err_srv;
    }
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

struct uapi_server *uapi_server_create_at(const char *dir, const char *ifname,
                                          const struct uapi_ops *ops, void *ctx, int *err)
{
    return uapi_server_create_with(dir, ifname, ops, ctx, NULL, err);
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
