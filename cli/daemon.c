/* SPDX-License-Identifier: MIT */
/*
 * daemon.c - detaching with a readiness report, one tunnel's TUN + device
 * + UAPI socket, the wait for a stop, and the pid file (daemon.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include "cli/daemon.h"
#include "cli/log.h"
#include "datapath/device_impl.h"     /* device_get_worker_stats */
#include "datapath/io_linux.h"
#include "sched/workers.h"
#include "datapath/netlink.h"

/* Besides the link events, look the link up this often: a lost event
 * (a full socket buffer) cannot leave us running without our interface. */
#define WATCH_RECHECK_MS 2000
#define WATCH_BUF_SIZE 16384

/* ------------------------------------------------------------ detaching */

/* The original process: wait for the report, exit with the verdict. */
static void __attribute__((noreturn)) wait_for_report(int fd, pid_t child)
{
    char c = 1;
    ssize_t n;

    while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
        ;
    do {
        n = read(fd, &c, 1);
    } while (n < 0 && errno == EINTR);
    _exit(n == 1 && c == 0 ? 0 : 1);
}

int daemon_detach(bool foreground, struct daemon_ready *ready)
{
    int p[2];
    pid_t pid;

    ready->fd = -1;
    if (foreground)
        return 0;
    if (pipe2(p, O_CLOEXEC) < 0)
        return -errno;
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        int e = errno;

        close(p[0]);
        close(p[1]);
        return -e;
    }
    if (pid > 0) {
        close(p[1]);
        wait_for_report(p[0], pid);
    }
    close(p[0]);
    if (setsid() < 0)
        _exit(1);
    pid = fork();
    if (pid < 0) {
        log_error("cannot fork: %s", strerror(errno));
        _exit(1);
    }
    if (pid > 0)
        _exit(0);
    ready->fd = p[1];
    return 0;
}

void daemon_ready_report(struct daemon_ready *ready, const char *ident)
{
    static const char ok = 0;
    int null;

    if (ready->fd < 0)
        return;
    log_use_syslog(ident);
    null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        if (null > STDERR_FILENO)
            close(null);
    }
    if (chdir("/") < 0)
        log_warn("chdir /: %s", strerror(errno));
    if (write(ready->fd, &ok, 1) != 1)
        log_warn("cannot report readiness: %s", strerror(errno));
    close(ready->fd);
    ready->fd = -1;
}

/* -------------------------------------------------------------- signals */

int daemon_signals_init(struct daemon_iface *d)
{
    sigset_t set;

    memset(d, 0, sizeof(*d));
    d->sigfd = -1;
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return -errno;
    d->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    return d->sigfd < 0 ? -errno : 0;
}

/* ------------------------------------------------------------ interface */

static int open_watch(struct daemon_iface *d)
{
    d->watch = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (!d->watch)
        return -errno;
    if (mnl_socket_bind(d->watch, RTMGRP_LINK, MNL_SOCKET_AUTOPID) < 0) {
        int e = errno;

        mnl_socket_close(d->watch);
        d->watch = NULL;
        return -e;
    }
    return 0;
}

int daemon_worker_arg(int argc, char **argv, int *i, struct placement_options *po)
{
    const char *a = argv[*i];

    if (strcmp(a, "--smt") == 0) {
        po->use_smt = true;
        return 1;
    }
    if (strcmp(a, "--workers") != 0 && strcmp(a, "--cpus") != 0)
        return 0;
    if (*i + 1 >= argc) {
        log_error("%s needs a value", a);
        return -1;
    }
    if (strcmp(a, "--cpus") == 0) {
        po->cpus = argv[++*i];
    } else {
        char *end;
        unsigned long n = strtoul(argv[*i + 1], &end, 10);

        if (!*argv[*i + 1] || *end || n > 1024) {
            log_error("--workers %s: not a worker count (0 = one per physical core)", argv[*i + 1]);
            return -1;
        }
        po->workers = (unsigned)n;
        ++*i;
    }
    return 1;
}

/* Where the workers run: one per physical core unless the options say
 * otherwise. A plan that cannot be made is the user's error to see. */
static int plan_workers(const struct placement_options *po, struct workers_plan *plan)
{
    int ret = workers_plan(po, plan);

    if (ret < 0) {
        log_error("workers: %s", plan->error);
        return ret;
    }
    if (plan->n > DEVICE_MAX_WORKERS) {
        log_info("workers: %u cores, %d workers at most: using %d", plan->n, DEVICE_MAX_WORKERS,
                 DEVICE_MAX_WORKERS);
        plan->n = DEVICE_MAX_WORKERS;
    }
    log_debug("workers: %u (of %u usable cores), first on CPU %d", plan->n, plan->n_cores,
              plan->cpus[0]);
    return 0;
}

int daemon_iface_create(struct daemon_iface *d, const char *ifname, unsigned mtu,
                        const struct placement_options *po)
{
    struct device_options opt = {
        .mtu = (uint16_t)mtu,
        .log = log_device,
        .log_level = log_get_level() < 0 ? WB_LOG_ERROR : (enum wb_log_level)log_get_level(),
    };
    struct workers_plan plan;
    struct io_backend *io;
    int ret = open_watch(d);

    if (ret < 0) {
        log_error("cannot watch network links: %s", strerror(-ret));
        return ret;
    }
    if ((ret = plan_workers(po, &plan)) < 0)
        return ret;
    opt.cpus = plan.cpus;
    opt.n_cpus = plan.n;
    io = io_linux_create(ifname, d->ifname, plan.n, &ret);
    if (!io) {
        if (ret == -EBUSY || ret == -EEXIST)
            log_error("`%s' already exists", ifname);
        else
            log_error("cannot create TUN interface %s: %s", ifname, strerror(-ret));
        workers_plan_free(&plan);
        return ret;
    }
    d->ifindex = io_linux_tun_ifindex(io);
    ret = device_create(io, &opt, &d->dev);     /* io is the device's now */
    workers_plan_free(&plan);
    if (ret == 0)
        ret = device_start(d->dev);
    if (ret < 0)
        log_error("cannot start the device on %s: %s", d->ifname, strerror(-ret));
    else
        log_debug("interface %s (index %d) created", d->ifname, d->ifindex);
    return ret;
}

static int uapi_get(void *ctx, struct config *out)
{
    return device_get_config(ctx, out);
}

/* A get in parts (UAPI_GET_PART_PEERS peers each): the device's control
 * lock is held for one part at a time, so a set is not held up by a dump
 * of 100,000 peers. */
static int uapi_get_begin(void *ctx, void **cursor)
{
    struct device_dump *d = malloc(sizeof(*d));

    if (!d)
        return -ENOMEM;
    device_dump_begin(ctx, d);
    *cursor = d;
    return 0;
}

static int uapi_get_next(void *ctx, void *cursor, struct config *out, size_t max_peers)
{
    return device_dump_next(ctx, cursor, out, max_peers);
}

static void uapi_get_end(void *ctx, void *cursor)
{
    device_dump_end(ctx, cursor);
    free(cursor);
}

/* Refused requests, evictions, timeouts (never a secret in msg). */
static void uapi_log(void *ctx, enum wb_log_level level, const char *msg)
{
    (void)ctx;
    log_msg((int)level, "uapi: %s", msg);
}

/* Changes this large give memory back to the system afterwards. */
#define TRIM_AFTER_PEERS 1024

static int uapi_set(void *ctx, const struct config *change)
{
    int ret = device_set_config(ctx, change);

    /* Removing 100,000 peers freed ~150 MiB that glibc kept in the heap
     * (RSS stayed put; a second full config grew it further). */
    if (change->replace_peers || change->n_peers >= TRIM_AFTER_PEERS)
        malloc_trim(0);
    return ret;
}

/* wirebolt-stats: the datapath's counters, per thread, and the backend's. */
static int uapi_stats(void *ctx, struct uapi_stats *out)
{
    struct device *dev = ctx;
    struct io_backend *io = device_io(dev);
    struct device_stats ds;

    device_get_stats(dev, &ds);
    out->workers = ds.workers < UAPI_STATS_MAX_WORKERS ? ds.workers : UAPI_STATS_MAX_WORKERS;
    out->under_load = ds.under_load;
    out->pool_bytes = ds.pool_bytes;
    out->pkt_room = ds.pkt_room;
    for (unsigned i = 0; i < out->workers; i++)
        device_get_worker_stats(dev, i, &out->per_worker[i]);
    device_get_worker_stats(dev, ds.workers, &out->handshake);
    out->has_tunnel_drops = true;
    memcpy(out->tunnel_drops, ds.tunnel_drops, sizeof(out->tunnel_drops));
    if (io && io->ops && io->ops->name && strcmp(io->ops->name, "linux") == 0) {
        out->has_io = true;
        out->offloads = io_linux_offloads(io);
        io_linux_stats(io, &out->io);
    }
    return 0;
}

int daemon_iface_serve(struct daemon_iface *d)
{
    static const struct uapi_ops ops = {
        .get = uapi_get,
        .set = uapi_set,
        .log = uapi_log,
        .stats = uapi_stats,
        .get_begin = uapi_get_begin,
        .get_next = uapi_get_next,
        .get_end = uapi_get_end,
    };
    int ret = 0;

    d->uapi = uapi_server_create(d->ifname, &ops, d->dev, &ret);
    if (!d->uapi) {
        log_error("cannot serve %s/%s.sock: %s", UAPI_RUN_DIR, d->ifname, strerror(-ret));
        return ret;
    }
    log_debug("UAPI listener started on %s", uapi_server_path(d->uapi));
    return 0;
}

void daemon_iface_destroy(struct daemon_iface *d)
{
    uapi_server_destroy(d->uapi);
    d->uapi = NULL;
    if (d->dev)
        device_destroy(d->dev);
    d->dev = NULL;
    if (d->watch)
        mnl_socket_close(d->watch);
    d->watch = NULL;
    if (d->sigfd > 0)
        close(d->sigfd);
    d->sigfd = -1;
}

/* ----------------------------------------------------------------- wait */

static int link_event(const struct nlmsghdr *nlh, void *data)
{
    const struct daemon_iface *d = data;
    const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

    if (nlh->nlmsg_type == RTM_DELLINK && nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(*ifi)) &&
        ifi->ifi_index == d->ifindex)
        return MNL_CB_STOP;
    return MNL_CB_OK;
}

static bool link_exists(const struct daemon_iface *d)
{
    int idx = netlink_link_index(d->ifname);

    /* Only a clear "no such link" counts; a failed lookup proves nothing. */
    return !(idx == -ENODEV || (idx > 0 && idx != d->ifindex));
}

/* Drain the watch socket; true when our link was deleted. */
static bool link_deleted(struct daemon_iface *d)
{
    char buf[WATCH_BUF_SIZE];

    for (;;) {
        ssize_t n = mnl_socket_recvfrom(d->watch, buf, sizeof(buf));

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == ENOBUFS)
            return !link_exists(d);          /* events lost: look */
        if (n <= 0)
            return false;
        if (mnl_cb_run(buf, (size_t)n, 0, 0, link_event, d) == MNL_CB_STOP)
            return true;
    }
}

static bool stop_signal(struct daemon_iface *d)
{
    struct signalfd_siginfo si;

    if (read(d->sigfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
        return false;
    log_info("received signal %u, shutting down", si.ssi_signo);
    return true;
}

enum daemon_stop daemon_iface_wait(struct daemon_iface *d)
{
    for (;;) {
        struct pollfd pfd[2] = {
            { .fd = d->sigfd, .events = POLLIN },
            { .fd = d->watch ? mnl_socket_get_fd(d->watch) : -1, .events = POLLIN },
        };
        int n = poll(pfd, 2, WATCH_RECHECK_MS);

        if (n < 0 && errno != EINTR) {
            log_error("poll: %s", strerror(errno));
            return DAEMON_STOP_SIGNAL;
        }
        if (n > 0 && (pfd[0].revents & POLLIN) && stop_signal(d))
            return DAEMON_STOP_SIGNAL;
        /* POLLERR: the socket overflowed (ENOBUFS); link_deleted reads it. */
        if ((n > 0 && (pfd[1].revents & (POLLIN | POLLERR)) && link_deleted(d)) ||
            (n == 0 && !link_exists(d))) {
            log_info("interface %s was deleted, shutting down", d->ifname);
            return DAEMON_STOP_LINK_GONE;
        }
    }
}

/* ------------------------------------------------------------- pid file */

static void pidfile_path(char *buf, size_t len, const char *ifname)
{
    snprintf(buf, len, "%s/%s.pid", DAEMON_RUN_DIR, ifname);
}

int daemon_pidfile_acquire(const char *ifname)
{
    char path[128], text[32];
    int fd, n;

    if (mkdir(DAEMON_RUN_DIR, 0755) < 0 && errno != EEXIST)
        return -errno;
    pidfile_path(path, sizeof(path), ifname);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;

        close(fd);
        return e == EWOULDBLOCK ? -EBUSY : -e;
    }
    n = snprintf(text, sizeof(text), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, text, (size_t)n, 0) != n) {
        int e = errno ? errno : EIO;

        unlink(path);
        close(fd);
        return -e;
    }
    return fd;
}

void daemon_pidfile_release(const char *ifname, int fd)
{
    char path[128];

    if (fd < 0)
        return;
    pidfile_path(path, sizeof(path), ifname);
    unlink(path);           /* while still locked: nobody takes it in between */
    close(fd);
}

int daemon_pidfile_owner(const char *ifname, pid_t *pid)
{
    char path[128], text[32] = "";
    long v;
    int fd;
    ssize_t n;

    pidfile_path(path, sizeof(path), ifname);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
        close(fd);
        return -ESRCH;
    }
    n = pread(fd, text, sizeof(text) - 1, 0);
    close(fd);
    v = n > 0 ? strtol(text, NULL, 10) : 0;
    if (v <= 0)
        return -EAGAIN;      /* being written: ask again */
    *pid = (pid_t)v;
    return 0;
}
