/* SPDX-License-Identifier: MIT */
/*
 * commands.h - the subcommands of `wirebolt` (one file each) and the
 * exit codes they share. Each takes the argv of the subcommand (argv[0] is
 * its name) and returns the process exit code.
 */
#ifndef WB_CLI_COMMANDS_H
#define WB_CLI_COMMANDS_H

#define EXIT_OK 0
#define EXIT_ERROR 1
#define EXIT_USAGE 2

int cmd_genkey(int argc, char **argv);
int cmd_pubkey(int argc, char **argv);
int cmd_genpsk(int argc, char **argv);
int cmd_up(int argc, char **argv);
int cmd_down(int argc, char **argv);
int cmd_show(int argc, char **argv);
/* wireguard-go's invocation: [-f|--foreground] <ifname> (also `wireboltd`).
 * prog names the program in messages. */
int cmd_daemon(int argc, char **argv, const char *prog);

#endif
