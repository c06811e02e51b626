/* SPDX-License-Identifier: MIT */
/*
 * daemon.h - the run loop shared by wireboltd and `wirebolt up`: detach
 * into the background with a readiness report, the TUN interface + device
 * + UAPI socket of one tunnel, the wait for SIGINT/SIGTERM/SIGHUP or for
 * the interface's deletion (`ip link del`, as wg-quick down does), and the
 * pid file of `up`.
 *
 * Order of use (main thread):
 *     daemon_detach()            before any thread exists (fork)
 *     daemon_signals_init()      before any thread exists (signal mask)
 *     daemon_iface_create()      TUN + device, datapath thread started
 *     daemon_iface_serve()       UAPI socket
 *     daemon_ready_report()      the waiting parent exits 0
 *     daemon_iface_wait()
 *     daemon_iface_destroy()
 *
 * Detaching: the original process forks, the child calls setsid() and
 * forks again, and the grandchild does all the work, with stderr still on
 * the terminal, so setup errors reach the user. The original process
 * waits on a pipe: one byte from daemon_ready_report → exit 0; the pipe
 * closing without it (the daemon failed and exited) → exit 1. Only then
 * does the daemon move its standard streams to /dev/null and its log to
 * syslog.
 */
#ifndef WB_CLI_DAEMON_H
#define WB_CLI_DAEMON_H

#include <net/if.h>
#include <stdbool.h>
#include <sys/types.h>

#include "datapath/device.h"
#include "datapath/uapi.h"

/* Pid files of `wirebolt up`. */
#define DAEMON_RUN_DIR "/run/wirebolt"

struct mnl_socket;

struct daemon_ready {
    int fd;                        /* write end; -1 in the foreground */
};

/* In the foreground: ready->fd = -1, returns 0. Otherwise forks as above
 * and returns 0 only in the daemon; the original process never returns
 * (it exits 0 or 1), except with -errno when the first fork fails. */
int daemon_detach(bool foreground, struct daemon_ready *ready);
/* Tell the waiting parent that setup is done: log to syslog as ident, move
 * stdin/stdout/stderr to /dev/null, chdir("/"). Nothing in the foreground. */
void daemon_ready_report(struct daemon_ready *ready, const char *ident);

enum daemon_stop {
    DAEMON_STOP_SIGNAL,            /* SIGINT, SIGTERM or SIGHUP */
    DAEMON_STOP_LINK_GONE,         /* the TUN interface was deleted */
};

struct daemon_iface {
    char ifname[IFNAMSIZ];
    int ifindex;
    struct device *dev;
    struct uapi_server *uapi;
    struct mnl_socket *watch;      /* RTMGRP_LINK: deletions of the link */
    int sigfd;                     /* signalfd for SIGINT/SIGTERM/SIGHUP */
};

/* Block SIGINT, SIGTERM and SIGHUP (they arrive through a signalfd; every
 * thread created later inherits the mask) and ignore SIGPIPE. */
int daemon_signals_init(struct daemon_iface *d);
/* Create the TUN interface `ifname` (down, no address), the device on it
 * (mtu: the device's padding limit; 0 = 1420) and start its datapath.
 * Errors are logged. Returns 0 or -errno. */
struct placement_options;
/* argv[*i] is --workers N, --cpus LIST or --smt: 1 (consumed, *i moved
 * past its value), 0 (not one of them), -1 (bad value, logged). */
int daemon_worker_arg(int argc, char **argv, int *i, struct placement_options *po);
/* po: where the workers run (NULL: one per physical core). */
int daemon_iface_create(struct daemon_iface *d, const char *ifname, unsigned mtu,
                        const struct placement_options *po);
/* Serve UAPI on /var/run/wireguard/<ifname>.sock. */
int daemon_iface_serve(struct daemon_iface *d);
/* Block until a stop signal or the link's deletion; returns which. */
enum daemon_stop daemon_iface_wait(struct daemon_iface *d);
/* Close the UAPI socket (and remove it), stop and destroy the device (the
 * TUN interface goes with it), close the watch and the signalfd. Safe on a
 * partly created or zeroed daemon_iface (sigfd -1 or 0 is fine). */
void daemon_iface_destroy(struct daemon_iface *d);

/* Take DAEMON_RUN_DIR/<ifname>.pid: create it, lock it (flock, held until
 * the process exits) and write our pid. Returns the fd, -EBUSY when a live
 * process holds it, or -errno. */
int daemon_pidfile_acquire(const char *ifname);
/* Remove and close it. */
void daemon_pidfile_release(const char *ifname, int fd);
/* The pid of the live process that holds <ifname>.pid: 0 and *pid, or
 * -ENOENT (no file), -ESRCH (a stale file: nobody holds the lock). */
int daemon_pidfile_owner(const char *ifname, pid_t *pid);

#endif
