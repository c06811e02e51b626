/* SPDX-License-Identifier: MIT */
/*
 * wireboltd.c - main of `wireboltd`, a drop-in for wireguard-go:
 * `wireboltd [-f|--foreground] <ifname>` (see cmd_daemon.c).
 */
#include "cli/commands.h"

int main(int argc, char **argv)
{
    return cmd_daemon(argc, argv, "wireboltd");
}
