/* SPDX-License-Identifier: MIT */
/*
 * wirebolt.c - main of `wirebolt`: a table of subcommands, each in its own
 * cmd_*.c file. Exit codes: 0 success, 1 error, 2 usage.
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/log.h"
#include "include/wirebolt.h"

static int daemon_entry(int argc, char **argv)
{
    return cmd_daemon(argc, argv, "wirebolt daemon");
}

static const struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *what;
} subcommands[] = {
    { "up", cmd_up, "bring up a tunnel from a wg-quick config file" },
    { "down", cmd_down, "take down a tunnel brought up with `up'" },
    { "show", cmd_show, "show the state of userspace WireGuard interfaces" },
    { "genkey", cmd_genkey, "print a new private key" },
    { "pubkey", cmd_pubkey, "read a private key on stdin, print its public key" },
    { "genpsk", cmd_genpsk, "print a new preshared key" },
    { "daemon", daemon_entry, "run a bare device, as wireguard-go [-f] <ifname>" },
};

static void usage(FILE *f)
{
    fprintf(f, "Usage: wirebolt <command> [<args>]\n\nCommands:\n");
    for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
        fprintf(f, "  %-8s %s\n", subcommands[i].name, subcommands[i].what);
    fprintf(f, "\n`wirebolt <command> --help' describes a command where it has options.\n"
               "Logging: -v/--verbose or WIREBOLT_LOG=error|warn|info|debug.\n");
}

int main(int argc, char **argv)
{
    log_init("wirebolt");
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("wirebolt %s\n", wb_version());
        return EXIT_OK;
    }
    for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
        if (strcmp(argv[1], subcommands[i].name) == 0)
            return subcommands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "wirebolt: unknown command `%s'\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
