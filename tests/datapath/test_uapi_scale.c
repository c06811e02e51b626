/* SPDX-License-Identifier: MIT */
/*
 * test_uapi_scale.c - the UAPI control plane at scale (issue #11): the
 * incremental set parser fed in pieces of every size, a set of 25,000
 * peers over the socket (several MiB, no whole-request limit), a bad line
 * and a line too long deep inside one (nothing changes, the log names the
 * line, the connection stays usable), a get in parts with a set completing
 * between two parts and never inside one, 40 idle connections that do not
 * lock a 41st client out, refusal when every connection is busy, and the
 * idle and I/O timeouts (made short through uapi_server_create_with).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "uapi_client.h"
#include "datapath/uapi.h"

#define BIG_PEERS 25000
#define LINES_PER_PEER 4              /* public_key, allowed_ip, endpoint, keepalive */

/* ================================================================ keys */

static void key_of(size_t i, uint8_t k[32])
{
    for (unsigned j = 0; j < 32; j++)
        k[j] = (uint8_t)(0xa5 ^ (j * 37));
    k[0] = (uint8_t)(i >> 24);
    k[1] = (uint8_t)(i >> 16);
    k[2] = (uint8_t)(i >> 8);
    k[3] = (uint8_t)i;
}

static void hex_of(size_t i, char out[65])
{
    uint8_t k[32];

    key_of(i, k);
    for (unsigned j = 0; j < 32; j++)
        snprintf(out + 2 * j, 3, "%02x", k[j]);
}

/* ============================================================ the text */

struct text {
    char *p;
    size_t len, cap;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct text *t, const char *fmt, ...)
{
    va_list ap;

    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        t->cap = t->cap ? t->cap * 2 : 1 << 16;
        t->p = realloc(t->p, t->cap);
    }
}

/* "set=1\n" (with_op), replace_peers, then n peers of LINES_PER_PEER
 * lines: peer i has key_of(i), 10.x.y.z/32 from i, an endpoint and a
 * keepalive. Body line `bad` (1 = replace_peers) is replaced by a bad
 * allowed_ip when nonzero. Then the blank line. */
static void build_set(struct text *t, size_t n, size_t bad, bool with_op)
{
    size_t line = 1;
    char hex[65];

    if (with_op)
        put(t, "set=1\n");
    put(t, "replace_peers=true\n");
    for (size_t i = 0; i < n; i++) {
        hex_of(i, hex);
        put(t, "public_key=%s\n", hex);
        line += 2;
        if (line == bad)
            put(t, "allowed_ip=10.0.0.300/32\n");
        else
            put(t, "allowed_ip=10.%u.%u.%u/32\n", (unsigned)(i >> 16) & 255,
                (unsigned)(i >> 8) & 255, (unsigned)i & 255);
        put(t, "endpoint=192.0.2.%u:51820\n", (unsigned)(i % 250) + 1);
        put(t, "persistent_keepalive_interval=25\n");
        line += 2;
    }
    put(t, "\n");
}

/* Does change hold exactly build_set's n peers? */
static bool change_is_big(const struct config *c, size_t n)
{
    if (!c->replace_peers || c->n_peers != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        const struct config_peer *p = &c->peers[i];
        uint8_t k[32], a[4] = { 10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };

        key_of(i, k);
        if (memcmp(p->public_key, k, 32) || p->n_allowed_ips != 1 ||
            p->allowed_ips[0].family != 4 || p->allowed_ips[0].cidr != 32 ||
            memcmp(p->allowed_ips[0].addr, a, 4) || p->endpoint.port != 51820 ||
            p->persistent_keepalive != 25)
            return false;
    }
    return true;
}

/* ============================================================== parser */

/* The same request fed whole, byte by byte and in odd pieces parses the
 * same; feed stops right after the blank line. */
static void test_parser_pieces(void)
{
    struct text t = { 0 };
    struct config whole, c;
    char err[128];

    build_set(&t, 300, 0, false);
    put(&t, "after=the blank line\n");
    CHECK(uapi_parse_set(t.p, t.len, &whole, err, sizeof(err)) == 0);
    CHECK(change_is_big(&whole, 300));
    config_free(&whole);

    static const size_t steps[] = { 1, 2, 7, 63, 64, 65, 4095, 4097, 100000 };
    for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
        struct uapi_set_parser *p = uapi_set_parser_create();
        size_t pos = 0, used = 0;
        bool all_taken = true;
        int done = 0;

        while (!done && pos < t.len) {
            size_t n = t.len - pos < steps[s] ? t.len - pos : steps[s];
            done = uapi_set_parser_feed(p, t.p + pos, n, &used);
            all_taken &= used == n || done;
            pos += used;
        }
        CHECK(done == 1 && all_taken);
        CHECK(!strcmp(t.p + pos, "after=the blank line\n"));
        CHECK(uapi_set_parser_finish(p, &c) == 0);
        CHECK(!strcmp(uapi_set_parser_error(p), ""));
        CHECK(change_is_big(&c, 300));
        config_free(&c);
        uapi_set_parser_destroy(p);
    }
    free(t.p);
}

static void test_parser_errors(void)
{
    struct uapi_set_parser *p = uapi_set_parser_create();
    struct text t = { 0 };
    struct config c;
    size_t used;

    /* A bad line deep inside: the first error names its line; the rest up
     * to the blank line is taken without a look. */
    build_set(&t, 1000, 3 + 4 * 499, false);     /* peer 499's allowed_ip */
    CHECK(uapi_set_parser_feed(p, t.p, t.len, &used) == 1 && used == t.len);
    CHECK(uapi_set_parser_finish(p, &c) == -EINVAL);
    CHECK(c.n_peers == 0);
    CHECK(!strcmp(uapi_set_parser_error(p), "line 1999: allowed_ip: not a prefix"));
    uapi_set_parser_destroy(p);

    /* A line too long, in pieces, even a megabyte: refused by number, and
     * the lines after it are counted but not parsed. */
    p = uapi_set_parser_create();
    static const char head[] = "listen_port=1\nfwmark=";
    CHECK(uapi_set_parser_feed(p, head, sizeof(head) - 1, &used) == 0);
    char *junk = malloc(1 << 20);
    memset(junk, '7', 1 << 20);
    for (int i = 0; i < 3; i++)
        CHECK(uapi_set_parser_feed(p, junk, 1 << 20, &used) == 0 && used == 1 << 20);
    static const char tail[] = "\nbogus\n\nlisten_port=2\n";
    CHECK(uapi_set_parser_feed(p, tail, sizeof(tail) - 1, &used) == 1 && used == 8);
    CHECK(uapi_set_parser_finish(p, &c) == -EINVAL);
    CHECK(!strcmp(uapi_set_parser_error(p), "line 2: longer than 4096 bytes"));
    uapi_set_parser_destroy(p);

    /* UAPI_MAX_LINE bytes exactly is a line; one more is not. */
    memcpy(junk, "fwmark=", 7);
    memset(junk + 7, '0', UAPI_MAX_LINE - 8);
    junk[UAPI_MAX_LINE - 1] = '5';
    CHECK(uapi_parse_set(junk, UAPI_MAX_LINE, &c, NULL, 0) == 0 && c.fwmark == 5);
    config_free(&c);
    junk[UAPI_MAX_LINE] = '\n';
    CHECK(uapi_parse_set(junk, UAPI_MAX_LINE + 1, &c, NULL, 0) == 0 && c.fwmark == 5);
    config_free(&c);
    memmove(junk + 8, junk + 7, UAPI_MAX_LINE);
    char err[128];
    CHECK(uapi_parse_set(junk, UAPI_MAX_LINE + 2, &c, err, sizeof(err)) == -EINVAL);
    CHECK(!strcmp(err, "line 1: longer than 4096 bytes"));

    /* The end of input ends the last line; a destroyed parser that still
     * holds a change frees it (ASan). */
    p = uapi_set_parser_create();
    CHECK(uapi_set_parser_feed(p, "public_key=", 11, &used) == 0);
    hex_of(7, err);
    CHECK(uapi_set_parser_feed(p, err, 64, &used) == 0);
    CHECK(uapi_set_parser_finish(p, &c) == 0 && c.n_peers == 1);
    config_free(&c);
    uapi_set_parser_destroy(p);
    p = uapi_set_parser_create();
    CHECK(uapi_set_parser_feed(p, "public_key=", 11, &used) == 0);
    CHECK(uapi_set_parser_feed(p, err, 64, &used) == 0);
    CHECK(uapi_set_parser_feed(p, "\n", 1, &used) == 0);
    uapi_set_parser_destroy(p);
    free(junk);
    free(t.p);
}

/* ========================================================= fake device */

/* A device of peers by index (key_of(i), one /32), dumped in parts; it
 * checks the parts and the sets against each other. */
struct fake {
    pthread_mutex_t lock;
    size_t n_peers;
    unsigned sets;
    bool last_set_big;                /* the last set was build_set's BIG_PEERS */
    unsigned parts, max_asked;        /* get_next calls, largest max_peers */
    unsigned parts_at_set;            /* parts served when the last set ran */
    int in_part;                      /* a get_next is running */
    unsigned set_inside_part;         /* sets that ran inside one: must stay 0 */
    unsigned dumps_open;
    char logs[64][256];
    unsigned n_logs;
};

static struct fake fake = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void fake_reset(size_t n_peers)
{
    pthread_mutex_lock(&fake.lock);
    fake.n_peers = n_peers;
    fake.sets = fake.parts = fake.max_asked = fake.parts_at_set = 0;
    fake.set_inside_part = 0;
    fake.last_set_big = false;
    fake.n_logs = 0;
    pthread_mutex_unlock(&fake.lock);
}

static int fake_set(void *ctx, const struct config *c)
{
    (void)ctx;
    bool big = change_is_big(c, BIG_PEERS);

    pthread_mutex_lock(&fake.lock);
    fake.sets++;
    fake.set_inside_part += fake.in_part != 0;
    fake.parts_at_set = fake.parts;
    fake.last_set_big = big;
    if (c->replace_peers)
        fake.n_peers = 0;
    fake.n_peers += c->n_peers;       /* build_set's keys follow on: key_of(n) */
    pthread_mutex_unlock(&fake.lock);
    return 0;
}

static void fake_peer(struct config *out, size_t i)
{
    struct config_peer *p = config_add_peer(out);
    struct config_prefix a = { .family = 4, .cidr = 32,
                               .addr = { 10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i } };

    key_of(i, p->public_key);
    config_prefixes_add(&p->allowed_ips, &p->n_allowed_ips, &a);
}

static int fake_get(void *ctx, struct config *out)
{
    (void)ctx;
    pthread_mutex_lock(&fake.lock);
    out->has_listen_port = true;
    out->listen_port = 51820;
    for (size_t i = 0; i < fake.n_peers; i++)
        fake_peer(out, i);
    pthread_mutex_unlock(&fake.lock);
    return 0;
}

static int fake_get_begin(void *ctx, void **cursor)
{
    (void)ctx;
    *cursor = calloc(1, sizeof(size_t));
    pthread_mutex_lock(&fake.lock);
    fake.dumps_open++;
    pthread_mutex_unlock(&fake.lock);
    return 0;
}

static int fake_get_next(void *ctx, void *cursor, struct config *out, size_t max)
{
    size_t *pos = cursor, n = 0;
    int more;

    (void)ctx;
    pthread_mutex_lock(&fake.lock);
    fake.in_part = 1;
    fake.parts++;
    if (max > fake.max_asked)
        fake.max_asked = (unsigned)max;
    if (*pos == 0) {
        out->has_listen_port = true;
        out->listen_port = 51820;
    }
    pthread_mutex_unlock(&fake.lock);
    usleep(200);                      /* a set that could sneak in, would */
    pthread_mutex_lock(&fake.lock);
    for (; n < max && *pos < fake.n_peers; n++, ++*pos)
        fake_peer(out, *pos);
    more = *pos < fake.n_peers;
    fake.in_part = 0;
    pthread_mutex_unlock(&fake.lock);
    return more;
}

static void fake_get_end(void *ctx, void *cursor)
{
    (void)ctx;
    free(cursor);
    pthread_mutex_lock(&fake.lock);
    fake.dumps_open--;
    pthread_mutex_unlock(&fake.lock);
}

static void fake_log(void *ctx, enum wb_log_level level, const char *msg)
{
    (void)ctx;
    (void)level;
    pthread_mutex_lock(&fake.lock);
    snprintf(fake.logs[fake.n_logs++ % 64], 256, "%s", msg);
    pthread_mutex_unlock(&fake.lock);
}

static bool log_has(const char *s)
{
    bool found = false;

    pthread_mutex_lock(&fake.lock);
    for (unsigned i = 0; i < 64 && i < fake.n_logs && !found; i++)
        found = strstr(fake.logs[i], s) != NULL;
    pthread_mutex_unlock(&fake.lock);
    if (!found)
        fprintf(stderr, "  no log line with \"%s\"\n", s);
    return found;
}

static unsigned fake_read(unsigned *field)
{
    pthread_mutex_lock(&fake.lock);
    unsigned v = *field;
    pthread_mutex_unlock(&fake.lock);
    return v;
}

static const struct uapi_ops parts_ops = {
    .get = fake_get, .set = fake_set, .log = fake_log,
    .get_begin = fake_get_begin, .get_next = fake_get_next, .get_end = fake_get_end,
};

/* ============================================================== client */

/* Read one reply (up to its errno line and blank line) or, with to_eof,
 * everything until the server closes. Returns a malloc'd string. */
static char *read_reply(int fd, bool to_eof, size_t *len_out)
{
    struct text t = { 0 };

    put(&t, "%s", "");
    for (;;) {
        if (t.cap - t.len < 65536) {
            t.cap *= 2;
            t.p = realloc(t.p, t.cap);
        }
        ssize_t n = recv(fd, t.p + t.len, t.cap - t.len - 1, 0);
        if (n <= 0)
            break;
        t.len += (size_t)n;
        t.p[t.len] = '\0';
        if (to_eof || t.len < 2 || t.p[t.len - 1] != '\n' || t.p[t.len - 2] != '\n')
            continue;
        /* A reply ends with its errno line; body lines are never blank. */
        char *last = t.p + t.len - 2;
        while (last > t.p && last[-1] != '\n')
            last--;
        if (!strncmp(last, "errno=", 6))
            break;
    }
    t.p[t.len] = '\0';
    if (len_out)
        *len_out = t.len;
    return t.p;
}

/* One connection: send, half-close, read to EOF. */
static char *call(const char *path, const char *req, size_t len)
{
    int fd = client_connect(path);
    if (fd < 0)
        return strdup("<connect failed>");
    send_all(fd, req, len);
    shutdown(fd, SHUT_WR);
    char *r = read_reply(fd, true, NULL);
    close(fd);
    return r;
}

/* Lines that begin with key (a strstr loop is quadratic under ASan). */
static size_t count(const char *s, const char *key)
{
    size_t n = 0, len = strlen(key);

    for (const char *p = s; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
        n += strncmp(p, key, len) == 0;
    return n;
}

/* Is the peer key_of(i) in a get reply? */
static bool reply_has_peer(const char *r, size_t i)
{
    char line[80] = "public_key=";
    hex_of(i, line + 11);
    return strstr(r, line) != NULL;
}

static bool closed_by_server(int fd, int timeout_ms)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    char c;

    return poll(&pfd, 1, timeout_ms) == 1 && recv(fd, &c, 1, MSG_DONTWAIT) == 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ============================================================== server */

static struct uapi_server *start(const char *dir, const struct uapi_server_options *opt,
                                 char path[108])
{
    int err = 0;
    struct uapi_server *srv = uapi_server_create_with(dir, "wbs0", &parts_ops, NULL, opt, &err);

    CHECK(srv != NULL);
    if (srv)
        snprintf(path, 108, "%s", uapi_server_path(srv));
    return srv;
}

/* 25,000 peers in one set over the socket, then back in parts. */
static void test_big_set(const char *path)
{
    struct text t = { 0 };
    size_t len;
    double t0;

    fake_reset(0);
    build_set(&t, BIG_PEERS, 0, true);
    CHECK(t.len > (3u << 20));
    t0 = now_s();
    char *r = call(path, t.p, t.len);
    printf("set of %d peers (%.1f MiB): %.3f s\n", BIG_PEERS, t.len / 1048576.0, now_s() - t0);
    CHECK(!strcmp(r, "errno=0\n\n"));
    CHECK(fake_read(&fake.sets) == 1);
    pthread_mutex_lock(&fake.lock);
    CHECK(fake.last_set_big && fake.n_peers == BIG_PEERS);
    pthread_mutex_unlock(&fake.lock);
    free(r);

    t0 = now_s();
    r = call(path, "get=1\n\n", 7);
    len = strlen(r);
    printf("get of %d peers (%.1f MiB): %.3f s\n", BIG_PEERS, len / 1048576.0, now_s() - t0);
    CHECK(count(r, "public_key=") == BIG_PEERS);
    CHECK(!strncmp(r, "listen_port=51820\npublic_key=", 29));
    CHECK(len > 9 && !strcmp(r + len - 9, "errno=0\n\n"));
    CHECK(count(r, "listen_port=") == 1);
    CHECK(reply_has_peer(r, 0) && reply_has_peer(r, BIG_PEERS - 1));
    CHECK(fake_read(&fake.max_asked) == UAPI_GET_PART_PEERS);
    CHECK(fake_read(&fake.parts) == (BIG_PEERS + UAPI_GET_PART_PEERS - 1) / UAPI_GET_PART_PEERS);
    CHECK(fake_read(&fake.dumps_open) == 0);
    free(r);
    free(t.p);
}

/* A bad line and a line too long deep inside big sets: nothing changes,
 * the log names the line, the next request on the connection is served. */
static void test_big_errors(const char *path)
{
    struct text t = { 0 };
    size_t bad = 3 + 4 * 19998;       /* peer 19998's allowed_ip */
    char want[128];

    fake_reset(7);
    build_set(&t, BIG_PEERS, bad, true);
    put(&t, "get=1\n\n");
    char *r = call(path, t.p, t.len);
    CHECK(!strncmp(r, "errno=-22\n\nlisten_port=51820\n", 29));
    CHECK(count(r, "public_key=") == 7);
    CHECK(fake_read(&fake.sets) == 0);
    snprintf(want, sizeof(want), "set: line %zu: allowed_ip: not a prefix", bad);
    CHECK(log_has(want));
    free(r);

    /* A 3 MiB line in the middle of a set. */
    t.len = 0;
    put(&t, "set=1\nfwmark=1\nlisten_port=");
    size_t at = t.len;
    for (size_t i = 0; i < (3u << 20) / 64; i++)
        put(&t, "%s", "1234567890123456789012345678901234567890123456789012345678901234");
    CHECK(t.len - at == 3u << 20);
    put(&t, "\n");
    build_set(&t, 100, 0, false);     /* more lines, then the blank one */
    put(&t, "get=1\n\n");
    r = call(path, t.p, t.len);
    CHECK(!strncmp(r, "errno=-22\n\nlisten_port=51820\n", 29));
    CHECK(fake_read(&fake.sets) == 0);
    CHECK(log_has("set: line 2: longer than 4096 bytes"));
    free(r);
    free(t.p);
}

struct setter {
    const char *path;
    char *reply;
};

static void *setter_main(void *arg)
{
    struct setter *s = arg;
    char req[256], hex[65];

    hex_of(20000, hex);               /* the next index: the dump's last peer */
    snprintf(req, sizeof(req), "set=1\npublic_key=%s\nallowed_ip=10.0.78.32/32\n\n", hex);
    s->reply = call(s->path, req, strlen(req));
    return NULL;
}

/* A client reads a get of 20,000 peers slowly; a set on another
 * connection completes meanwhile, between two parts, and the peer it adds
 * is in the rest of the dump. */
static void test_get_interleave(const char *path)
{
    struct setter s = { .path = path };
    pthread_t th;
    size_t len;
    int fd = client_connect(path);

    fake_reset(20000);
    send_all(fd, "get=1\n\n", 7);
    /* The server writes part after part until the socket is full (some
     * 200 KiB: a few of the 79 parts), then waits for us to read. */
    for (int i = 0; i < 500 && fake_read(&fake.parts) < 2; i++)
        usleep(10000);
    pthread_create(&th, NULL, setter_main, &s);
    pthread_join(th, NULL);           /* done while the get still waits */
    CHECK(s.reply && !strcmp(s.reply, "errno=0\n\n"));
    unsigned at = fake_read(&fake.parts_at_set);
    CHECK(at >= 2 && at < 20000 / UAPI_GET_PART_PEERS);
    char *r = read_reply(fd, false, &len);
    close(fd);
    CHECK(len > 9 && !strcmp(r + len - 9, "errno=0\n\n"));
    CHECK(count(r, "public_key=") == 20001);
    CHECK(reply_has_peer(r, 20000));  /* added between two parts */
    CHECK(fake_read(&fake.set_inside_part) == 0);
    printf("get of 20,000 peers: set done after part %u of %u\n", at, fake_read(&fake.parts));
    free(r);
    free(s.reply);
}

/* Sets hammering a slow get in parts: never inside one part. */
struct hammer {
    const char *path;
    int stop;                         /* __atomic */
    unsigned ok;                      /* __atomic */
};

static void *hammer_main(void *arg)
{
    struct hammer *h = arg;

    do {
        char *r = call(h->path, "set=1\nfwmark=1\n\n", 16);
        if (!strcmp(r, "errno=0\n\n"))
            __atomic_fetch_add(&h->ok, 1, __ATOMIC_RELAXED);
        free(r);
    } while (!__atomic_load_n(&h->stop, __ATOMIC_RELAXED));
    return NULL;
}

static void test_get_hammered(const char *path)
{
    struct hammer h = { .path = path };
    pthread_t th[2];

    fake_reset(5000);
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, hammer_main, &h);
    char *r = call(path, "get=1\n\n", 7);
    __atomic_store_n(&h.stop, 1, __ATOMIC_RELAXED);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    CHECK(count(r, "public_key=") == 5000);
    CHECK(fake_read(&fake.set_inside_part) == 0);
    CHECK(h.ok > 0 && h.ok == fake_read(&fake.sets));
    free(r);
}

/* 40 idle connections and a busy one: the 41st client's get succeeds, the
 * oldest idle ones were evicted (and logged), the busy one was not. */
static void test_idle_evicted(const char *path)
{
    int idle[40];
    size_t len;

    fake_reset(3);
    int busy = client_connect(path);
    send_all(busy, "set=1\nfwmark=", 13);
    usleep(100000);                   /* its thread has seen the request begin */
    for (int i = 0; i < 40; i++) {
        idle[i] = client_connect(path);
        CHECK(idle[i] >= 0);
    }
    char *r = call(path, "get=1\n\n", 7);
    CHECK(count(r, "public_key=") == 3 && strstr(r, "errno=0\n\n"));
    free(r);
    CHECK(log_has("32 connections open: evicted the one idle longest"));
    /* 1 busy + 40 idle + our get = 42: the 10 idle longest went. */
    unsigned evicted = 0;
    for (int i = 0; i < 10; i++)
        evicted += closed_by_server(idle[i], 2000);
    CHECK(evicted == 10);
    for (int i = 10; i < 40; i++)
        CHECK(!closed_by_server(idle[i], 0));
    send_all(busy, "2\n\n", 3);
    r = read_reply(busy, false, &len);
    CHECK(!strcmp(r, "errno=0\n\n"));
    free(r);
    /* The survivors still work. */
    send_all(idle[39], "get=1\n\n", 7);
    r = read_reply(idle[39], false, &len);
    CHECK(strstr(r, "errno=0\n\n") != NULL);
    free(r);
    for (int i = 0; i < 40; i++)
        close(idle[i]);
    close(busy);
}

/* Every connection inside a request: a new one is refused, as before. */
static void test_all_busy(const char *dir)
{
    struct uapi_server_options opt = { .max_connections = 4 };
    char path[108];
    struct uapi_server *srv = start(dir, &opt, path);
    int busy[4];
    size_t len;

    if (!srv)
        return;
    fake_reset(0);
    for (int i = 0; i < 4; i++) {
        busy[i] = client_connect(path);
        send_all(busy[i], "set=1\nfwmark=", 13);
    }
    usleep(200000);                   /* their threads have seen the requests begin */
    char *r = call(path, "get=1\n\n", 7);
    CHECK(r[0] == '\0');              /* closed at accept, no reply */
    free(r);
    CHECK(log_has("refused a connection: all 4 connections are inside a request"));
    for (int i = 0; i < 4; i++) {
        send_all(busy[i], "9\n\n", 3);
        r = read_reply(busy[i], false, &len);
        CHECK(!strcmp(r, "errno=0\n\n"));
        free(r);
    }
    r = call(path, "get=1\n\n", 7);
    CHECK(!strcmp(r, "listen_port=51820\nerrno=0\n\n"));
    free(r);
    for (int i = 0; i < 4; i++)
        close(busy[i]);
    uapi_server_destroy(srv);
}

/* Idle between requests: closed after idle_timeout_ms; stuck inside one:
 * closed after io_timeout_ms, and logged. */
static void test_timeouts(const char *dir)
{
    struct uapi_server_options opt = { .idle_timeout_ms = 200, .io_timeout_ms = 300 };
    char path[108];
    struct uapi_server *srv = start(dir, &opt, path);
    size_t len;

    if (!srv)
        return;
    fake_reset(1);
    int fd = client_connect(path), quiet = client_connect(path), stuck = client_connect(path);
    send_all(fd, "get=1\n\n", 7);
    char *r = read_reply(fd, false, &len);
    CHECK(strstr(r, "errno=0\n\n") != NULL);
    free(r);
    send_all(stuck, "set=1\nfwmark=", 13);
    double t0 = now_s();
    CHECK(closed_by_server(fd, 5000));
    double idle = now_s() - t0;
    CHECK(idle > 0.1 && idle < 3.0);
    CHECK(closed_by_server(quiet, 5000));
    CHECK(closed_by_server(stuck, 5000));
    CHECK(fake_read(&fake.sets) == 0);
    CHECK(log_has("set: no progress for 300 ms; closing the connection"));
    close(fd);
    close(quiet);
    close(stuck);
    uapi_server_destroy(srv);

    /* A server without get_begin still answers from .get; half a set of
     * get callbacks is refused. */
    struct uapi_ops whole = { .get = fake_get, .set = fake_set, .log = fake_log };
    int err = 0;
    srv = uapi_server_create_with(dir, "wbs1", &whole, NULL, NULL, &err);
    CHECK(srv != NULL);
    if (srv) {
        fake_reset(300);
        r = call(uapi_server_path(srv), "get=1\n\n", 7);
        CHECK(count(r, "public_key=") == 300 && fake_read(&fake.parts) == 0);
        free(r);
        uapi_server_destroy(srv);
    }
    whole.get_begin = fake_get_begin;
    CHECK(!uapi_server_create_with(dir, "wbs1", &whole, NULL, NULL, &err) && err == -EINVAL);
    struct uapi_server_options neg = { .idle_timeout_ms = -1 };
    CHECK(!uapi_server_create_with(dir, "wbs1", &parts_ops, NULL, &neg, &err) && err == -EINVAL);
}

int main(void)
{
    char dir[] = "/tmp/wb-uapi-scale-XXXXXX";
    struct uapi_server_options opt = { .io_timeout_ms = 30000 };
    char path[108];

    test_parser_pieces();
    test_parser_errors();
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    struct uapi_server *srv = start(dir, &opt, path);
    if (srv) {
        test_big_set(path);
        test_big_errors(path);
        test_get_interleave(path);
        test_get_hammered(path);
        test_idle_evicted(path);
        uapi_server_destroy(srv);
    }
    test_all_busy(dir);
    test_timeouts(dir);
    rmdir(dir);
    return check_summary();
}
