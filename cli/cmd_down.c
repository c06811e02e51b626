/* SPDX-License-Identifier: MIT */
/*
 * cmd_down.c - `wirebolt down <file|name>`: stop the `wirebolt up`
 * process of that interface (SIGTERM to the pid in
 * /run/wirebolt/<ifname>.pid) and wait until it has exited and the
 * interface is gone. The up process does the actual teardown (hooks,
 * routes, DNS, SaveConfig), so nothing is undone twice.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/daemon.h"
#include "cli/log.h"
#include "cli/netconf.h"
#include "datapath/netlink.h"

#define DOWN_TIMEOUT_MS 10000
#define DOWN_POLL_MS 50

static void sleep_ms(long ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* The owner's pid, waiting out a pid file that is being written. */
static int find_owner(const char *ifname, pid_t *pid)
{
    int ret;

    for (int i = 0; i < 20; i++) {
        ret = daemon_pidfile_owner(ifname, pid);
        if (ret != -EAGAIN)
            return ret;
        sleep_ms(DOWN_POLL_MS);
    }
    return ret;
}

static int wait_gone(const char *ifname)
{
    for (int waited = 0; waited < DOWN_TIMEOUT_MS; waited += DOWN_POLL_MS) {
        pid_t pid;
        int owner = daemon_pidfile_owner(ifname, &pid);

        if ((owner == -ENOENT || owner == -ESRCH) && netlink_link_index(ifname) == -ENODEV)
            return 0;
        sleep_ms(DOWN_POLL_MS);
    }
    return -ETIMEDOUT;
}

static int usage(void)
{
    fprintf(stderr, "Usage: wirebolt down <config file | interface name>\n");
    return EXIT_USAGE;
}

int cmd_down(int argc, char **argv)
{
    char path[PATH_MAX], ifname[IFNAMSIZ];
    const char *arg = NULL;
    pid_t pid = 0;
    int ret;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0)
            log_set_level(WB_LOG_DEBUG);
        else if (argv[i][0] == '-' || arg)
            return usage();
        else
            arg = argv[i];
    }
    if (!arg)
        return usage();
    if (netconf_config_locate(arg, path, sizeof(path), ifname) < 0) {
        log_error("`%s': the config file must be a valid interface name, followed by .conf", arg);
        return EXIT_ERROR;
    }
    ret = find_owner(ifname, &pid);
    if (ret == -ENOENT || ret == -ESRCH) {
        if (netlink_link_index(ifname) >= 0)
            log_error("`%s' was not brought up by `wirebolt up' (no %s/%s.pid)", ifname,
                      DAEMON_RUN_DIR, ifname);
        else
            log_error("`%s' is not up", ifname);
        return EXIT_ERROR;
    }
    if (ret < 0) {
        log_error("cannot read %s/%s.pid: %s", DAEMON_RUN_DIR, ifname, strerror(-ret));
        return EXIT_ERROR;
    }
    log_info("[#] kill -TERM %ld (%s)", (long)pid, ifname);
    if (kill(pid, SIGTERM) < 0 && errno != ESRCH) {
        log_error("cannot stop %s (pid %ld): %s", ifname, (long)pid, strerror(errno));
        return EXIT_ERROR;
    }
    if (wait_gone(ifname) < 0) {
        log_error("`%s' did not go down within %d seconds", ifname, DOWN_TIMEOUT_MS / 1000);
        return EXIT_ERROR;
    }
    return EXIT_OK;
}
