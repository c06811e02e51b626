/* SPDX-License-Identifier: MIT */
/*
 * log.h - the programs' log: four levels (error, warn, info, debug), to
 * stderr while a program runs in the foreground and to syslog once it has
 * daemonized. The threshold comes from -v (debug) or the environment
 * (WIREBOLT_LOG=error|warn|info|debug; wireguard-go's LOG_LEVEL=
 * error|info|verbose|debug|silent is honoured too); the default is info.
 *
 * Never pass a key to these functions: nothing here can tell a secret from
 * any other text.
 *
 * Threads: log_msg may be called from any thread (the device's datapath and
 * the UAPI server log through log_device); log_init, log_set_level and
 * log_use_syslog are for the main thread before other threads exist.
 */
#ifndef WB_CLI_LOG_H
#define WB_CLI_LOG_H

#include <stdbool.h>

#include "include/wirebolt.h"

/* "silent": below error; nothing is printed. */
#define LOG_LEVEL_SILENT (-1)

/* prog: the name printed before each stderr line ("wirebolt"). Reads the
 * environment for the threshold. */
void log_init(const char *prog);
void log_set_level(int level);
int log_get_level(void);
/* From now on lines go to syslog (facility daemon) tagged with ident
 * ("wireboltd-wg0"); ident must stay valid. */
void log_use_syslog(const char *ident);

void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_error(...) log_msg(WB_LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(WB_LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(WB_LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(WB_LOG_DEBUG, __VA_ARGS__)

/* The device's log callback (struct device_options.log); ctx unused. */
void log_device(void *ctx, enum wb_log_level level, const char *msg);

/* Parse a level name ("debug", "warn", ...). Returns the level or -2 when
 * the name is unknown. */
int log_level_parse(const char *name);

#endif
