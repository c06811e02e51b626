/* SPDX-License-Identifier: MIT */
/*
 * cmd_up.c - `wirebolt up <file|name> [-f]`: wg-quick up, with the device
 * in this process. In wg-quick's order: parse the file, resolve endpoints,
 * PreUp, create the TUN interface and the device, apply the configuration
 * (AllowedIPs minus DisallowedIPs), serve UAPI, addresses, MTU and link
 * up, DNS, routes (policy routing for default routes), PostUp. Then it
 * stays in the background (or, with -f, the foreground) until SIGTERM
 * (`wirebolt down`), SIGINT, SIGHUP or the interface's deletion, and tears
 * down: PreDown, SaveConfig, DNS, rules, routes, the device and the
 * interface, the UAPI socket, PostDown, the pid file.
 *
 * All setup runs before the command returns, with errors on the terminal:
 * the process detaches first (cli/daemon.h) and the waiting parent exits 0
 * once setup succeeded. A failure undoes what was done, in reverse order,
 * and exits 1 with one error line.
 */
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <netinet/in.h>

#include "cli/commands.h"
#include "cli/daemon.h"
#include "sched/placement.h"
#include "cli/log.h"
#include "cli/netconf.h"
#include "cli/save_config.h"
#include "datapath/netlink.h"

#define RESOLVE_TRIES 3

static const char help_text[] =
"Usage: wirebolt up <config file | interface name> [-f|--foreground] [-v|--verbose]\n"
"                  [--workers N] [--cpus LIST] [--smt]\n"
"\n"
"  A name (letters, digits, _=+.-, at most 15) means /etc/wireguard/<name>.conf;\n"
"  otherwise the file's name without .conf is the interface name. The file is\n"
"  what wg-quick(8) reads: wg(8)'s keys plus Address, DNS, MTU, Table, PreUp,\n"
"  PostUp, PreDown, PostDown, SaveConfig, and DisallowedIPs under [Peer]\n"
"  (subtracted from AllowedIPs, for the device and for routes).\n"
"\n"
"  The device runs inside this process, detached once everything is set up\n"
"  (-f: stay in the foreground). Its pid is in /run/wirebolt/<name>.pid;\n"
"  `wirebolt down <name>`, SIGTERM or SIGINT take everything down again.\n"
"\n"
"  Workers: one datapath worker per physical core by default, each pinned;\n"
"  --workers N (0 = that default), --cpus LIST (\"0-3,6\": the CPUs to use),\n"
"  --smt (SMT siblings too). One peer's traffic uses every worker.\n"
"\n"
"  MTU: MTU= or, like wg-quick, the MTU of the route to the endpoints minus 80.\n"
"  Routes: one per allowed IP through the interface (Table=off: none;\n"
"  Table=<n>: in table n). A default route (/0) with Table unset or auto uses\n"
"  wg-quick's policy routing: table and fwmark 51820 (or FwMark=, or the next\n"
"  free table), `not fwmark <t> table <t>` and `table main suppress_prefixlength 0`.\n"
"  DNS: with resolvconf(8) installed, the servers and search domains go to\n"
"  `resolvconf -a <name> -m 0 -x` (as wg-quick). Without it, /etc/resolv.conf is\n"
"  copied to /run/wirebolt/<name>.resolv.conf and rewritten with the tunnel's\n"
"  servers; down restores the copy.\n";

struct up {
    char path[PATH_MAX];
    char ifname[IFNAMSIZ];
    bool foreground;
    struct placement_options workers;
    struct config cfg;             /* the file (endpoints resolved) */
    struct config dev_cfg;         /* what the device gets */
    struct netconf_table table;
    struct netconf_plan plan;
    uint32_t auto_fwmark;          /* fwmark chosen for policy routing; 0: none */
    struct daemon_ready ready;
    struct daemon_iface d;
    struct netconf nc;
    int pidfd;
};

/* ------------------------------------------------------------ arguments */

static int parse_args(struct up *u, int argc, char **argv)
{
    const char *arg = NULL;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(help_text, stdout);
            return -1;
        }
        int w = daemon_worker_arg(argc, argv, &i, &u->workers);

        if (w < 0)
            return EXIT_ERROR;
        if (w > 0)
            continue;
        if (strcmp(a, "-f") == 0 || strcmp(a, "--foreground") == 0)
            u->foreground = true;
        else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0)
            log_set_level(WB_LOG_DEBUG);
        else if (a[0] == '-' || arg)
            return EXIT_USAGE;
        else
            arg = a;
    }
    if (!arg)
        return EXIT_USAGE;
    if (netconf_config_locate(arg, u->path, sizeof(u->path), u->ifname) < 0) {
        log_error("`%s': the config file must be a valid interface name, followed by .conf", arg);
        return EXIT_ERROR;
    }
    return 0;
}

static int check_file(struct up *u)
{
    char real[PATH_MAX];
    struct stat st;

    if (!realpath(u->path, real)) {
        log_error("`%s': %s", u->path, strerror(errno));
        return -errno;
    }
    snprintf(u->path, sizeof(u->path), "%s", real);
    if (stat(u->path, &st) == 0 && (st.st_mode & S_IRWXO))
        log_warn("`%s' is world accessible", u->path);
    return 0;
}

/* ---------------------------------------------------- config and device */

static int resolve_endpoint(struct config_peer *p, const char *path)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM,
                              .ai_protocol = IPPROTO_UDP };
    struct addrinfo *res = NULL;
    int ret = EAI_AGAIN;

    for (int i = 0; i < RESOLVE_TRIES && ret == EAI_AGAIN; i++) {
        if (i)
            sleep(1);
        ret = getaddrinfo(p->endpoint_host, NULL, &hints, &res);
    }
    if (ret != 0) {
        log_error("%s:%u: Endpoint: cannot resolve `%s': %s", path, p->line, p->endpoint_host,
                  ret == EAI_SYSTEM ? strerror(errno) : gai_strerror(ret));
        return -EHOSTUNREACH;
    }
    memset(&p->endpoint, 0, sizeof(p->endpoint));
    p->endpoint.port = p->endpoint_port;
    if (res->ai_family == AF_INET) {
        p->endpoint.family = 4;
        memcpy(p->endpoint.addr, &((struct sockaddr_in *)res->ai_addr)->sin_addr, 4);
    } else {
        p->endpoint.family = 6;
        memcpy(p->endpoint.addr, &((struct sockaddr_in6 *)res->ai_addr)->sin6_addr, 16);
    }
    freeaddrinfo(res);
    return 0;
}

/* One peer of the device's configuration: AllowedIPs minus DisallowedIPs. */
static int device_peer(struct config *dc, const struct config_peer *fp)
{
    struct config_peer *p = config_add_peer(dc);

    if (!p)
        return -ENOMEM;
    memcpy(p->public_key, fp->public_key, WB_KEY_LEN);
    p->has_preshared_key = fp->has_preshared_key;
    memcpy(p->preshared_key, fp->preshared_key, WB_KEY_LEN);
    p->has_endpoint = fp->has_endpoint;
    p->endpoint = fp->endpoint;
    p->endpoint_port = fp->endpoint_port;
    p->has_persistent_keepalive = fp->has_persistent_keepalive;
    p->persistent_keepalive = fp->persistent_keepalive;
    return config_prefix_subtract(fp->allowed_ips, fp->n_allowed_ips, fp->disallowed_ips,
                                  fp->n_disallowed_ips, &p->allowed_ips, &p->n_allowed_ips);
}

static int build_device_config(struct up *u)
{
    struct config *dc = &u->dev_cfg;
    int ret = 0;

    dc->has_private_key = u->cfg.has_private_key;
    memcpy(dc->private_key, u->cfg.private_key, WB_KEY_LEN);
    dc->has_listen_port = u->cfg.has_listen_port;
    dc->listen_port = u->cfg.listen_port;
    dc->has_fwmark = u->cfg.has_fwmark;
    dc->fwmark = u->cfg.fwmark;
    for (size_t i = 0; ret == 0 && i < u->cfg.n_peers; i++)
        ret = device_peer(dc, &u->cfg.peers[i]);
    return ret;
}

/* Everything that needs no privileges and changes nothing. */
static int prepare(struct up *u)
{
    char err[512];
    int ret;

    if (check_file(u) < 0)
        return -EINVAL;
    ret = config_parse_file(&u->cfg, u->path, err, sizeof(err));
    if (ret < 0) {
        log_error("%s", err);
        return ret;
    }
    if (netconf_table_parse(u->cfg.table, &u->table) < 0) {
        log_error("%s: Table: `%s' is not a routing table", u->path, u->cfg.table);
        return -EINVAL;
    }
    for (size_t i = 0; i < u->cfg.n_peers; i++) {
        struct config_peer *p = &u->cfg.peers[i];

        if (p->has_endpoint && !p->endpoint.family && (ret = resolve_endpoint(p, u->path)) < 0)
            return ret;
    }
    ret = build_device_config(u);
    if (ret == 0)
        ret = netconf_plan_routes(&u->cfg, &u->table, &u->plan);
    if (ret < 0)
        log_error("%s: %s", u->path, strerror(-ret));
    return ret;
}

static int check_not_up(struct up *u)
{
    pid_t pid;

    if (daemon_pidfile_owner(u->ifname, &pid) == 0) {
        log_error("`%s' is already up (pid %ld)", u->ifname, (long)pid);
        return -EBUSY;
    }
    if (netlink_link_index(u->ifname) >= 0) {
        log_error("`%s' already exists", u->ifname);
        return -EEXIST;
    }
    return 0;
}

/* ---------------------------------------------------------------- setup */

/* The planned routes; for a default route, first the policy table and the
 * device's fwmark (wg-quick: `wg set <if> fwmark <table>`). */
static int routes(struct up *u)
{
    int64_t table;
    int ret;

    if (!u->plan.default4 && !u->plan.default6)
        return netconf_routes_up(&u->nc, &u->plan, 0);
    table = netconf_policy_table(u->cfg.fwmark);
    if (table < 0) {
        log_error("cannot find a free routing table: %s", strerror((int)-table));
        return (int)table;
    }
    if (!u->cfg.fwmark) {
        struct config mark;

        config_init(&mark);
        mark.has_fwmark = true;
        mark.fwmark = (uint32_t)table;
        log_info("[#] set %s fwmark %u", u->ifname, mark.fwmark);
        ret = device_set_config(u->d.dev, &mark);
        if (ret < 0) {
            log_error("cannot set the fwmark of %s: %s", u->ifname, strerror(-ret));
            return ret;
        }
        u->auto_fwmark = mark.fwmark;
    }
    return netconf_routes_up(&u->nc, &u->plan, (uint32_t)table);
}

static int set_up(struct up *u)
{
    unsigned mtu = u->cfg.has_mtu ? u->cfg.mtu : netconf_auto_mtu(&u->cfg);
    int ret = netconf_hooks(&u->cfg.pre_up, u->ifname, "PreUp");

    if (ret == 0)
        ret = daemon_iface_create(&u->d, u->ifname, mtu, &u->workers);
    if (ret < 0)
        return ret;
    netconf_init(&u->nc, u->d.ifname, u->d.ifindex);
    log_info("[#] set %s (%zu peers)", u->ifname, u->dev_cfg.n_peers);
    ret = device_set_config(u->d.dev, &u->dev_cfg);
    if (ret < 0) {
        log_error("cannot configure %s: %s", u->ifname, strerror(-ret));
        return ret;
    }
    ret = daemon_iface_serve(&u->d);
    if (ret == 0)
        ret = netconf_addresses(&u->nc, &u->cfg);
    if (ret == 0)
        ret = netconf_mtu_up(&u->nc, mtu);
    if (ret == 0)
        ret = netconf_dns_up(&u->nc, &u->cfg);
    if (ret == 0)
        ret = routes(u);
    if (ret == 0)
        ret = netconf_hooks(&u->cfg.post_up, u->ifname, "PostUp");
    return ret;
}

/* ------------------------------------------------------------- teardown */

static void save_running(struct up *u)
{
    struct config running, merged;
    int ret;

    config_init(&running);
    config_init(&merged);
    ret = device_get_config(u->d.dev, &running);
    if (ret == 0)
        ret = save_config_merge(&u->cfg, &running, u->auto_fwmark, &merged);
    if (ret == 0)
        ret = save_config_write(u->path, &merged);
    if (ret < 0)
        log_error("SaveConfig: cannot write %s: %s", u->path, strerror(-ret));
    else
        log_info("[#] saved the running configuration to %s", u->path);
    config_free(&running);
    config_free(&merged);
}

/* hooks: false when undoing a failed up (wg-quick runs no down hooks then). */
static void tear_down(struct up *u, bool hooks)
{
    if (hooks)
        netconf_hooks(&u->cfg.pre_down, u->ifname, "PreDown");
    if (hooks && u->cfg.save_config && u->d.dev)
        save_running(u);
    netconf_down(&u->nc);
    daemon_iface_destroy(&u->d);
    if (hooks)
        netconf_hooks(&u->cfg.post_down, u->ifname, "PostDown");
    daemon_pidfile_release(u->ifname, u->pidfd);
    u->pidfd = -1;
}

static void free_up(struct up *u)
{
    config_free(&u->cfg);
    config_free(&u->dev_cfg);
    netconf_plan_free(&u->plan);
}

/* In the process that stays: take the pid file, set up, wait, tear down. */
static int run(struct up *u)
{
    char ident[IFNAMSIZ + 16];
    int ret;

    u->pidfd = daemon_pidfile_acquire(u->ifname);
    if (u->pidfd < 0) {
        if (u->pidfd == -EBUSY)
            log_error("`%s' is already up", u->ifname);
        else
            log_error("cannot create %s/%s.pid: %s", DAEMON_RUN_DIR, u->ifname, strerror(-u->pidfd));
        return EXIT_ERROR;
    }
    ret = daemon_signals_init(&u->d);
    if (ret == 0)
        ret = set_up(u);
    if (ret < 0) {
        tear_down(u, false);
        return EXIT_ERROR;
    }
    log_info("%s is up", u->ifname);
    snprintf(ident, sizeof(ident), "wirebolt/%s", u->ifname);
    daemon_ready_report(&u->ready, ident);
    daemon_iface_wait(&u->d);
    tear_down(u, true);
    log_info("%s is down", u->ifname);
    return EXIT_OK;
}

int cmd_up(int argc, char **argv)
{
    static struct up u;    /* large, and lives as long as the process */
    int ret;

    memset(&u, 0, sizeof(u));
    u.pidfd = -1;
    u.d.sigfd = -1;
    ret = parse_args(&u, argc, argv);
    if (ret < 0)
        return EXIT_OK;    /* --help */
    if (ret == EXIT_USAGE)
        fprintf(stderr, "Usage: wirebolt up <config file | interface name> [-f|--foreground] "
                        "[--workers N] [--cpus LIST] [--smt]\n");
    if (ret)
        return ret;
    if (wb_init() < 0 || prepare(&u) < 0 || check_not_up(&u) < 0) {
        free_up(&u);
        return EXIT_ERROR;
    }
    ret = daemon_detach(u.foreground, &u.ready);
    if (ret < 0) {
        log_error("cannot detach: %s", strerror(-ret));
        ret = EXIT_ERROR;
    } else {
        ret = run(&u);
    }
    free_up(&u);
    return ret;
}
