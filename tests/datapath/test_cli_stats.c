/* SPDX-License-Identifier: MIT */
/*
 * test_cli_stats.c - the datapath's counters on their way to `wirebolt
 * show`: the wirebolt-stats codec (uapi_format_stats / uapi_parse_stats,
 * every WORKER_STATS and io_linux_stats name, a round trip, bad replies),
 * the client (uapi_get_stats_fetch) against our server with and without
 * the stats callback and against a server that closes without a reply as
 * wireguard-go does, and the JSON and text that cmd_show.c prints from
 * it. No privileges needed (temporary socket directory).
 */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"
#include "cli/cmd_show.c"
#include "cli/uapi_get.c"

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A distinct value for every counter: thread t, field k. */
static void sample_stats(struct uapi_stats *s, unsigned workers, bool has_io)
{
    uint64_t v = 1;

    memset(s, 0, sizeof(*s));
    s->workers = workers;
    s->under_load = true;
    s->pool_bytes = 123456789012ULL;
    s->pkt_room = 1536;
    for (unsigned t = 0; t <= workers; t++) {
        struct worker_stats *w = t < workers ? &s->per_worker[t] : &s->handshake;
#define FILL(name) w->name = (v++) * 1000003ULL;
        WORKER_STATS(FILL)
#undef FILL
    }
    if (has_io) {
        s->has_io = true;
        s->offloads = IO_OFFLOAD_TUN_VNET | IO_OFFLOAD_TUN_TSO | IO_OFFLOAD_UDP_GRO;
#define FILL_IO(name) s->io.name = (v++) * 7ULL;
        UAPI_IO_LINUX_STATS(FILL_IO)
#undef FILL_IO
        s->has_tunnel_drops = true;
        for (unsigned r = 0; r < WB_DROP_REASON_COUNT; r++)
            s->tunnel_drops[r] = (v++) * 11ULL;
    }
}

static bool same_worker(const struct worker_stats *a, const struct worker_stats *b)
{
    bool same = true;
#define CMP(name) same = same && a->name == b->name;
    WORKER_STATS(CMP)
#undef CMP
    return same;
}

static bool same_stats(const struct uapi_stats *a, const struct uapi_stats *b)
{
    bool same = a->workers == b->workers && a->under_load == b->under_load &&
                a->pool_bytes == b->pool_bytes && a->pkt_room == b->pkt_room &&
                a->has_io == b->has_io && a->offloads == b->offloads &&
                same_worker(&a->handshake, &b->handshake);

    for (unsigned i = 0; i < a->workers && i < UAPI_STATS_MAX_WORKERS; i++)
        same = same && same_worker(&a->per_worker[i], &b->per_worker[i]);
#define CMP_IO(name) same = same && a->io.name == b->io.name;
    UAPI_IO_LINUX_STATS(CMP_IO)
#undef CMP_IO
    same = same && a->has_tunnel_drops == b->has_tunnel_drops &&
           memcmp(a->tunnel_drops, b->tunnel_drops, sizeof(a->tunnel_drops)) == 0;
    return same;
}

/* "text + errno=0\n\n" parsed. */
static int parse_reply(const char *body, struct uapi_stats *out)
{
    char buf[8192];
    int n = snprintf(buf, sizeof(buf), "%serrno=0\n\n", body);

    return uapi_parse_stats(buf, (size_t)n, out);
}

static void test_codec(void)
{
    static struct uapi_stats in, out;
    char *text, *reply;
    size_t len;

    sample_stats(&in, 3, true);
    text = uapi_format_stats(&in);
    CHECK(text != NULL);
    if (!text)
        return;
    /* Every name of the lists is on the wire, once per thread. */
#define HAS(name) CHECK(strstr(text, "\n" #name "=") != NULL);
    WORKER_STATS(HAS)
    UAPI_IO_LINUX_STATS(HAS)
#undef HAS
    CHECK(starts_with(text, "workers=3\nunder_load=true\npool_bytes=123456789012\npkt_room=1536\n"
                            "offloads=vnet,tso,udp-gro\nworker=0\nrx_datagrams=1000003\n"));
    CHECK(strstr(text, "\nworker=2\n") && strstr(text, "\nworker=handshake\n") &&
          strstr(text, "\nio=linux\n") && !strstr(text, "\nworker=3\n"));
    CHECK(strstr(text, "\n\n") == NULL);          /* the body never ends a reply early */
    /* Every drop reason has a name, and each is on the wire once. */
    CHECK(strstr(text, "\ntunnel=drops\n") != NULL);
    for (unsigned r = 0; r < WB_DROP_REASON_COUNT; r++) {
        char line[64];

        CHECK(uapi_tunnel_drop_name(r) != NULL);
        snprintf(line, sizeof(line), "\n%s=", uapi_tunnel_drop_name(r) ? uapi_tunnel_drop_name(r) : "?");
        CHECK(strstr(strstr(text, "\ntunnel=drops\n"), line) != NULL);
    }
    CHECK(uapi_tunnel_drop_name(WB_DROP_REASON_COUNT) == NULL);

    len = strlen(text);
    reply = malloc(len + 16);
    memcpy(reply, text, len);
    memcpy(reply + len, "errno=0\n\n", 10);
    CHECK(uapi_parse_stats(reply, len + 9, &out) == 0);
    CHECK(same_stats(&in, &out));
    /* Without the blank line, too. */
    CHECK(uapi_parse_stats(reply, len + 8, &out) == 0 && same_stats(&in, &out));
    free(reply);
    free(text);

    /* Totals: every thread, handshake included. */
    struct worker_stats sum;
    uapi_stats_total(&in, &sum);
    CHECK(sum.rx_datagrams == in.per_worker[0].rx_datagrams + in.per_worker[1].rx_datagrams +
                                  in.per_worker[2].rx_datagrams + in.handshake.rx_datagrams);
    CHECK(sum.input_deferred == in.per_worker[0].input_deferred + in.per_worker[1].input_deferred +
                                    in.per_worker[2].input_deferred + in.handshake.input_deferred);

    /* No backend counters: no offloads line, no io section. */
    sample_stats(&in, 1, false);
    text = uapi_format_stats(&in);
    CHECK(text && !strstr(text, "offloads=") && !strstr(text, "io=") && strstr(text, "worker=0\n"));
    CHECK(text && parse_reply(text, &out) == 0 && same_stats(&in, &out) && !out.has_io);
    free(text);

    /* No offloads at all: an empty list. */
    sample_stats(&in, 1, true);
    in.offloads = 0;
    text = uapi_format_stats(&in);
    CHECK(text && strstr(text, "\noffloads=\n"));
    CHECK(text && parse_reply(text, &out) == 0 && out.has_io && out.offloads == 0);
    free(text);

    CHECK(uapi_offload_name(0) && !strcmp(uapi_offload_name(0), "vnet"));
    CHECK(uapi_offload_name(4) && !strcmp(uapi_offload_name(4), "udp-gso"));
    CHECK(uapi_offload_name(31) == NULL && uapi_offload_name(99) == NULL);
}

static void test_parse_errors(void)
{
    static struct uapi_stats s;

    CHECK(uapi_parse_stats("errno=-22\n\n", 11, &s) == -22);
    CHECK(uapi_parse_stats("errno=-95\n\n", 11, &s) == -95);
    CHECK(uapi_parse_stats("", 0, &s) == -EPROTO);
    CHECK(uapi_parse_stats("workers=1\n", 10, &s) == -EPROTO);            /* no errno line */
    CHECK(parse_reply("workers=1\nworker=1\n", &s) == -EPROTO);            /* no such worker */
    CHECK(parse_reply("worker=0\n", &s) == -EPROTO);                       /* before workers= */
    CHECK(parse_reply("workers=65\n", &s) == -EPROTO);                     /* over the limit */
    CHECK(parse_reply("workers=x\n", &s) == -EPROTO);
    CHECK(parse_reply("workers=1\nworker=0\nrx_tun=-1\n", &s) == -EPROTO);
    CHECK(parse_reply("workers=1\nworker=0\nrx_tun=18446744073709551616\n", &s) == -EPROTO);
    CHECK(parse_reply("under_load=maybe\n", &s) == -EPROTO);
    CHECK(parse_reply("garbage\n", &s) == -EPROTO);
    CHECK(s.workers == 0);                                                 /* zeroed on error */

    /* What a newer server may add is skipped. */
    CHECK(parse_reply("workers=1\nsomething_new=1\noffloads=tso,teleport,udp-gso\nworker=0\n"
                      "rx_tun=5\nnew_counter=9\nworker=handshake\nrx_tun=2\nio=dpdk\nrx_bursts=4\n"
                      "io=linux\nrx_too_big=3\n", &s) == 0);
    CHECK(s.workers == 1 && s.per_worker[0].rx_tun == 5 && s.handshake.rx_tun == 2);
    CHECK(s.has_io && s.offloads == (IO_OFFLOAD_TUN_TSO | IO_OFFLOAD_UDP_GSO));
    CHECK(s.io.rx_too_big == 3);
}

/* ------------------------------------------------------------- servers */

static int fake_get(void *ctx, struct config *out)
{
    out->has_listen_port = true;
    out->listen_port = 4242;
    return 0;
}

static int fake_set(void *ctx, const struct config *change)
{
    return -EPERM;
}

static int fake_stats(void *ctx, struct uapi_stats *out)
{
    if (ctx)
        return *(int *)ctx;
    sample_stats(out, 2, true);
    return 0;
}

/* wireguard-go's answer to an operation it does not know: read the line,
 * close, say nothing. */
struct silent_server {
    int fd;
    pthread_t thread;
};

static void *silent_main(void *arg)
{
    struct silent_server *s = arg;
    int c = accept(s->fd, NULL, NULL);
    char ch;

    if (c >= 0) {
        while (read(c, &ch, 1) == 1 && ch != '\n')
            ;
        close(c);
    }
    return NULL;
}

static void test_fetch(void)
{
    static const struct uapi_ops ops = { .get = fake_get, .set = fake_set, .stats = fake_stats };
    static const struct uapi_ops old_ops = { .get = fake_get, .set = fake_set };
    static struct uapi_stats want, got;
    char dir[] = "/tmp/test_cli_stats_XXXXXX";
    struct uapi_server *srv;
    struct config c;
    int err = 0, fail = -ENOTTY;

    CHECK(mkdtemp(dir) != NULL);
    srv = uapi_server_create_at(dir, "wbs0", &ops, NULL, &err);
    CHECK(srv != NULL);
    if (!srv)
        return;
    sample_stats(&want, 2, true);
    CHECK(uapi_get_stats_fetch(dir, "wbs0", &got) == 0 && same_stats(&want, &got));
    /* get still works beside it. */
    config_init(&c);
    CHECK(uapi_get_fetch(dir, "wbs0", &c) == 0 && c.listen_port == 4242);
    config_free(&c);
    uapi_server_destroy(srv);

    /* The device's error comes back as is. */
    srv = uapi_server_create_at(dir, "wbs0", &ops, &fail, &err);
    CHECK(srv && uapi_get_stats_fetch(dir, "wbs0", &got) == -ENOTTY);
    uapi_server_destroy(srv);

    /* A server without the callback: an unknown operation, not supported. */
    srv = uapi_server_create_at(dir, "wbs0", &old_ops, NULL, &err);
    CHECK(srv && uapi_get_stats_fetch(dir, "wbs0", &got) == -EOPNOTSUPP);
    uapi_server_destroy(srv);

    /* wireguard-go: closes without a reply. */
    struct silent_server ss;
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/wgo0.sock", dir);
    ss.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(bind(ss.fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 && listen(ss.fd, 4) == 0);
    CHECK(pthread_create(&ss.thread, NULL, silent_main, &ss) == 0);
    CHECK(uapi_get_stats_fetch(dir, "wgo0", &got) == -EOPNOTSUPP);
    pthread_join(ss.thread, NULL);
    close(ss.fd);
    unlink(addr.sun_path);

    CHECK(uapi_get_stats_fetch(dir, "nosuch", &got) == -ENOENT);
    rmdir(dir);
}

/* ---------------------------------------------------------------- show */

/* Run print(...) with stdout going to a file; return what it printed. */
static char *capture_begin(int *saved, FILE **tmp)
{
    fflush(stdout);
    *tmp = tmpfile();
    *saved = dup(STDOUT_FILENO);
    dup2(fileno(*tmp), STDOUT_FILENO);
    return NULL;
}

static char *capture_end(int saved, FILE *tmp)
{
    long n;
    char *out;

    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    n = ftell(tmp);
    out = calloc(1, (size_t)(n > 0 ? n : 0) + 1);
    rewind(tmp);
    if (n > 0 && fread(out, 1, (size_t)n, tmp) != (size_t)n)
        out[0] = '\0';
    fclose(tmp);
    return out;
}

/* python3 -c: the line is one JSON object with the datapath we expect. */
static int json_check(const char *line)
{
    char path[] = "/tmp/test_cli_stats_json_XXXXXX";
    char cmd[1024];
    int fd = mkstemp(path), r;

    if (fd < 0)
        return -1;
    if (write(fd, line, strlen(line)) != (ssize_t)strlen(line)) {
        close(fd);
        unlink(path);
        return -1;
    }
    close(fd);
    snprintf(cmd, sizeof(cmd),
             "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); dp=d[\"datapath\"]; "
             "assert dp[\"workers\"]==2 and len(dp[\"per_worker\"])==2; "
             "assert dp[\"offloads\"]==[\"vnet\",\"tso\",\"udp-gro\"]; "
             "ts=dp[\"per_worker\"]+[dp[\"handshake\"]]; "
             "assert dp[\"totals\"][\"rx_datagrams\"]==sum(w[\"rx_datagrams\"] for w in ts); "
             "assert set(dp[\"totals\"])==set(dp[\"handshake\"])==set(dp[\"per_worker\"][0]); "
             "assert len(dp[\"io\"])==%zu and dp[\"pool_bytes\"]==123456789012; "
             "assert d[\"peers\"]==[]' %s",
             sizeof(struct io_linux_stats) / sizeof(uint64_t), path);
    r = system(cmd);
    unlink(path);
    return r;
}

static void test_show(void)
{
    static struct uapi_stats st;
    struct config c;
    FILE *tmp;
    int saved;
    char *out;

    config_init(&c);
    c.has_listen_port = true;
    c.listen_port = 51820;
    sample_stats(&st, 2, true);

    capture_begin(&saved, &tmp);
    print_json("wbs0", &c, &st);
    out = capture_end(saved, tmp);
#define HAS_JSON(name) CHECK(strstr(out, "\"" #name "\":") != NULL);
    WORKER_STATS(HAS_JSON)
    UAPI_IO_LINUX_STATS(HAS_JSON)
#undef HAS_JSON
    CHECK(strstr(out, ",\"peers\":[],\"datapath\":{\"workers\":2,\"under_load\":true,") != NULL);
    CHECK(strstr(out, "\"offloads\":[\"vnet\",\"tso\",\"udp-gro\"]") != NULL);
    CHECK(strstr(out, "\"per_worker\":[{") && strstr(out, "\"handshake\":{") &&
          strstr(out, "\"totals\":{") && strstr(out, "\"io\":{"));
    if (system("command -v python3 >/dev/null 2>&1") == 0)
        CHECK(json_check(out) == 0);
    else
        printf("note: no python3, JSON syntax not checked\n");
    free(out);

    /* Another implementation: no datapath key, the rest as before. */
    capture_begin(&saved, &tmp);
    print_json("wbs0", &c, NULL);
    out = capture_end(saved, tmp);
    CHECK(!strcmp(out, "{\"interface\":\"wbs0\",\"public_key\":null,\"listen_port\":51820,"
                       "\"fwmark\":0,\"peers\":[]}\n"));
    free(out);

    /* Text: one line more, in the interface's section. */
    st.per_worker[0].no_route = 3;
    st.io.rx_too_big = 0;
    capture_begin(&saved, &tmp);
    print_text("wbs0", &c, &st);
    out = capture_end(saved, tmp);
    CHECK(starts_with(out, "interface: wbs0\n  listening port: 51820\n  datapath: 2 workers, "
                           "offloads vnet,tso,udp-gro, under load, drops: no_route "));
    /* One line, and the last (no peers here). */
    CHECK(strstr(out, "datapath:") && strchr(strstr(out, "datapath:"), '\n')[1] == '\0');
    free(out);
    memset(&st, 0, sizeof(st));
    st.workers = 1;
    capture_begin(&saved, &tmp);
    print_text("wbs0", &c, &st);
    out = capture_end(saved, tmp);
    CHECK(!strcmp(out, "interface: wbs0\n  listening port: 51820\n"
                       "  datapath: 1 worker, drops: none\n"));
    free(out);
    capture_begin(&saved, &tmp);
    print_text("wbs0", &c, NULL);
    out = capture_end(saved, tmp);
    CHECK(!strcmp(out, "interface: wbs0\n  listening port: 51820\n"));
    free(out);
    config_free(&c);
}

int main(void)
{
    wb_init();
    test_codec();
    test_parse_errors();
    test_fetch();
    test_show();
    return check_summary();
}
