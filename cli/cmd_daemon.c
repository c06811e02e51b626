/* SPDX-License-Identifier: MIT */
/*
 * cmd_daemon.c - wireguard-go's invocation, for wg-quick
 * (WG_QUICK_USERSPACE_IMPLEMENTATION=wireboltd) and by hand:
 *
 *     wireboltd [-f|--foreground] <ifname>
 *
 * Creates the TUN interface (down, no addresses, MTU 1420), a device with
 * no configuration and the UAPI socket /var/run/wireguard/<ifname>.sock,
 * then leaves the rest to wg(8) and wg-quick. Unless -f or
 * WG_PROCESS_FOREGROUND=1, it detaches and the command returns once the
 * interface and the socket exist (0) or setup failed (1, with the error on
 * stderr). It exits, removing the socket and the interface, on SIGINT,
 * SIGTERM or SIGHUP, and when the interface is deleted (`ip link del`,
 * which is how wg-quick down stops a userspace implementation).
 *
 * Unlike wireguard-go, an argument starting with '-' is never taken for an
 * interface name: "--help" prints the usage (exit 1, as for other misuse).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/daemon.h"
#include "cli/log.h"
#include "cli/netconf.h"
#include "datapath/netlink.h"
#include "sched/workers.h"

static void usage(const char *prog)
{
    fprintf(stderr, "Usage: %s [-f/--foreground] [-v/--verbose] [--workers N] [--cpus LIST] [--smt]\n"
                    "          INTERFACE-NAME\n"
                    "       %s --version\n"
                    "Workers: one per physical core unless --workers/--cpus/--smt or\n"
                    "WIREBOLT_WORKERS/WIREBOLT_CPUS/WIREBOLT_SMT=1 (for wg-quick) say otherwise.\n",
            prog, prog);
}

/* Returns 0, or EXIT_ERROR after printing the usage. */
static int parse(int argc, char **argv, const char *prog, bool *fg, const char **ifname,
                 struct placement_options *po)
{
    char err[128];

    *ifname = NULL;
    if (workers_options_from_env(po, err, sizeof(err)) < 0) {
        log_error("%s", err);
        return EXIT_ERROR;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int w = daemon_worker_arg(argc, argv, &i, po);

        if (w < 0)
            return EXIT_ERROR;
        if (w > 0)
            continue;
        if (strcmp(a, "-f") == 0 || strcmp(a, "--foreground") == 0)
            *fg = true;
        else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0)
            log_set_level(WB_LOG_DEBUG);
        else if (a[0] == '-' || *ifname)
            goto bad;
        else
            *ifname = a;
    }
    if (*ifname && strlen(*ifname) < IFNAMSIZ && !strchr(*ifname, '/'))
        return 0;
bad:
    usage(prog);
    return EXIT_ERROR;
}

int cmd_daemon(int argc, char **argv, const char *prog)
{
    const char *env = getenv("WG_PROCESS_FOREGROUND");
    struct daemon_ready ready;
    struct daemon_iface d;
    struct placement_options po = { 0 };
    const char *ifname;
    bool fg = env && strcmp(env, "1") == 0;
    char ident[64];
    int ret;

    log_init(prog);
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("wirebolt %s (userspace WireGuard)\n", wb_version());
        return EXIT_OK;
    }
    if (parse(argc, argv, prog, &fg, &ifname, &po))
        return EXIT_ERROR;
    if (wb_init() < 0) {
        log_error("cannot initialise the crypto library");
        return EXIT_ERROR;
    }
    ret = daemon_detach(fg, &ready);
    if (ret == 0)
        ret = daemon_signals_init(&d);
    if (ret < 0) {
        log_error("cannot start: %s", strerror(-ret));
        return EXIT_ERROR;
    }
    ret = daemon_iface_create(&d, ifname, 0, &po);
    if (ret == 0 && (ret = netlink_link_set_mtu(d.ifindex, NETCONF_DEFAULT_MTU)) < 0)
        log_error("cannot set the MTU of %s: %s", d.ifname, strerror(-ret));
    if (ret == 0)
        ret = daemon_iface_serve(&d);
    if (ret < 0) {
        daemon_iface_destroy(&d);
        return EXIT_ERROR;
    }
    log_info("%s: device started, UAPI on %s", d.ifname, uapi_server_path(d.uapi));
    snprintf(ident, sizeof(ident), "wireboltd/%s", d.ifname);
    daemon_ready_report(&ready, ident);
    daemon_iface_wait(&d);
    daemon_iface_destroy(&d);
    log_info("%s: shut down", d.ifname);
    return EXIT_OK;
}
