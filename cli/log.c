/* SPDX-License-Identifier: MIT */
/*
 * log.c - the programs' log (levels, stderr or syslog; see log.h).
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "cli/log.h"

static const char *prog_name = "wirebolt";
static atomic_int threshold = WB_LOG_INFO;
static atomic_bool to_syslog;

int log_level_parse(const char *name)
{
    static const struct { const char *name; int level; } names[] = {
        { "silent", LOG_LEVEL_SILENT }, { "error", WB_LOG_ERROR },
        { "warn", WB_LOG_WARN },        { "warning", WB_LOG_WARN },
        { "info", WB_LOG_INFO },        { "verbose", WB_LOG_DEBUG },
        { "debug", WB_LOG_DEBUG },
    };

    for (size_t i = 0; name && i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(name, names[i].name) == 0)
            return names[i].level;
    return -2;
}

void log_init(const char *prog)
{
    const char *env = getenv("WIREBOLT_LOG");
    int level = log_level_parse(env);

    prog_name = prog;
    if (level == -2)
        level = log_level_parse(getenv("LOG_LEVEL"));
    if (level != -2)
        atomic_store(&threshold, level);
}

void log_set_level(int level)
{
    atomic_store(&threshold, level);
}

int log_get_level(void)
{
    return atomic_load(&threshold);
}

void log_use_syslog(const char *ident)
{
    openlog(ident, LOG_PID, LOG_DAEMON);
    atomic_store(&to_syslog, true);
}

static int syslog_priority(int level)
{
    switch (level) {
    case WB_LOG_ERROR: return LOG_ERR;
    case WB_LOG_WARN: return LOG_WARNING;
    case WB_LOG_INFO: return LOG_INFO;
    default: return LOG_DEBUG;
    }
}

static const char *level_word(int level)
{
    switch (level) {
    case WB_LOG_ERROR: return "";
    case WB_LOG_WARN: return "warning: ";
    case WB_LOG_INFO: return "";
    default: return "debug: ";
    }
}

void log_msg(int level, const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    if (level > atomic_load(&threshold))
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (atomic_load(&to_syslog))
        syslog(syslog_priority(level), "%s", line);
    else
        fprintf(stderr, "%s: %s%s\n", prog_name, level_word(level), line);
}

void log_device(void *ctx, enum wb_log_level level, const char *msg)
{
    log_msg((int)level, "%s", msg);
}
