/* SPDX-License-Identifier: MIT */
/*
 * netconf_dns.c - DNS= while the tunnel is up.
 *
 * With resolvconf(8) on the PATH (Debian's resolvconf, openresolv, or
 * systemd's resolvconf emulation), exactly as wg-quick: the lines
 * "nameserver X" and "search D ..." go to `resolvconf -a <name> -m 0 -x`
 * (-x: exclusive, these servers only while the tunnel is up), and down runs
 * `resolvconf -d <name> -f`. <name> is the interface name, prefixed as
 * wg-quick does with "<p>." when /etc/resolvconf/interface-order has a
 * "<p>*" line (Debian's resolvconf orders records by that prefix).
 *
 * Without resolvconf, a fallback that wg-quick lacks: the current
 * /etc/resolv.conf is copied to /run/wirebolt/<if>.resolv.conf (or, if
 * there is none, /run/wirebolt/<if>.resolv.none marks that), and
 * /etc/resolv.conf is rewritten in place with the tunnel's lines; down
 * writes the copy back (or removes the file) and deletes the copy.
 * Rewriting in place follows a symlink and works on a bind-mounted file.
 * A copy left by a crashed run is kept (it holds the true original) and
 * restored at the next down. Two tunnels with DNS= in fallback mode must go
 * down in the reverse order they came up.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/log.h"
#include "cli/netconf.h"

#define RESOLV_MAX (1u << 20)

static bool have_resolvconf(void)
{
    const char *path = getenv("PATH");
    char buf[4096];

    if (!path)
        path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");

        if (n && n < sizeof(buf) - 16) {
            snprintf(buf, sizeof(buf), "%.*s/resolvconf", (int)n, path);
            if (access(buf, X_OK) == 0)
                return true;
        }
        path += n + (path[n] == ':');
    }
    return false;
}

/* wg-quick's resolvconf_iface_prefix(). */
static void record_name(char *out, size_t len, const char *ifname)
{
    FILE *f = fopen("/etc/resolvconf/interface-order", "re");
    char line[256], prefix[64] = "";

    while (f && !prefix[0] && fgets(line, sizeof(line), f)) {
        size_t n = strspn(line, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-");

        if (n && n < sizeof(prefix) - 1 && line[n] == '*' && (line[n + 1] == '\n' || !line[n + 1]))
            snprintf(prefix, sizeof(prefix), "%.*s.", (int)n, line);
    }
    if (f)
        fclose(f);
    snprintf(out, len, "%s%s", prefix, ifname);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "re");
    char *buf = f ? malloc(RESOLV_MAX + 1) : NULL;

    if (!buf) {
        if (f)
            fclose(f);
        return NULL;
    }
    *len = fread(buf, 1, RESOLV_MAX, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

/* Write in place (open with O_TRUNC), or through a temporary and rename. */
static int write_file(const char *path, const char *text, size_t len, bool in_place)
{
    char tmp[256];
    const char *target = path;
    int fd, ret = 0;

    if (!in_place) {
        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        target = tmp;
    }
    fd = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0)
        ret = errno ? -errno : -EIO;
    close(fd);
    if (ret == 0 && !in_place && rename(tmp, path) < 0)
        ret = -errno;
    if (ret < 0 && !in_place)
        unlink(tmp);
    return ret;
}

static void backup_paths(const char *ifname, char *copy, char *none, size_t len)
{
    snprintf(copy, len, "%s/%s.resolv.conf", NETCONF_RUN_DIR, ifname);
    snprintf(none, len, "%s/%s.resolv.none", NETCONF_RUN_DIR, ifname);
}

/* Save the original unless a crashed run saved it already. */
static int back_up(const char *ifname)
{
    char copy[256], none[256];
    size_t len = 0;
    char *orig;
    int ret;

    backup_paths(ifname, copy, none, sizeof(copy));
    if (access(copy, F_OK) == 0 || access(none, F_OK) == 0) {
        log_warn("keeping the saved resolv.conf of an earlier run of %s", ifname);
        return 0;
    }
    if (mkdir(NETCONF_RUN_DIR, 0755) < 0 && errno != EEXIST)
        return -errno;
    orig = read_file(NETCONF_RESOLV_CONF, &len);
    if (!orig && errno != ENOENT)
        return -errno;
    ret = orig ? write_file(copy, orig, len, false) : write_file(none, "", 0, false);
    free(orig);
    return ret;
}

static int fallback_up(struct netconf *nc, const char *text)
{
    char head[128];
    char *full;
    int ret = back_up(nc->ifname);

    if (ret < 0) {
        log_error("cannot save %s: %s", NETCONF_RESOLV_CONF, strerror(-ret));
        return ret;
    }
    nc->dns = NETCONF_DNS_FILE;    /* from here on, down restores */
    snprintf(head, sizeof(head), "# written by wirebolt for %s; the original is in %s/\n",
             nc->ifname, NETCONF_RUN_DIR);
    full = malloc(strlen(head) + strlen(text) + 1);
    if (!full)
        return -ENOMEM;
    strcpy(full, head);
    strcat(full, text);
    log_info("[#] write %s (no resolvconf)", NETCONF_RESOLV_CONF);
    ret = write_file(NETCONF_RESOLV_CONF, full, strlen(full), true);
    free(full);
    if (ret < 0)
        log_error("cannot write %s: %s", NETCONF_RESOLV_CONF, strerror(-ret));
    return ret;
}

static int fallback_restore(struct netconf *nc)
{
    char copy[256], none[256];
    size_t len = 0;
    char *orig;
    int ret = 0;

    backup_paths(nc->ifname, copy, none, sizeof(copy));
    log_info("[#] restore %s", NETCONF_RESOLV_CONF);
    if (access(none, F_OK) == 0) {
        if (unlink(NETCONF_RESOLV_CONF) < 0 && errno != ENOENT)
            ret = -errno;
        unlink(none);
        return ret;
    }
    orig = read_file(copy, &len);
    if (!orig)
        return -errno;
    ret = write_file(NETCONF_RESOLV_CONF, orig, len, true);
    free(orig);
    if (ret == 0)
        unlink(copy);
    return ret;
}

int netconf_dns_up(struct netconf *nc, const struct config *cfg)
{
    char *text;
    int ret;

    if (!cfg->dns.n)
        return 0;
    text = netconf_dns_text(&cfg->dns);
    if (!text)
        return -ENOMEM;
    if (have_resolvconf()) {
        const char *argv[] = { "resolvconf", "-a", nc->dns_name, "-m", "0", "-x", NULL };

        record_name(nc->dns_name, sizeof(nc->dns_name), nc->ifname);
        log_info("[#] resolvconf -a %s -m 0 -x", nc->dns_name);
        ret = netconf_spawn(argv, text);
        if (ret == 0)
            nc->dns = NETCONF_DNS_RESOLVCONF;
        else
            log_error("resolvconf -a %s failed (%d)", nc->dns_name, ret);
        ret = ret == 0 ? 0 : -ECHILD;
    } else {
        ret = fallback_up(nc, text);
    }
    free(text);
    return ret;
}

int netconf_dns_restore(struct netconf *nc)
{
    int ret;

    if (nc->dns == NETCONF_DNS_RESOLVCONF) {
        const char *argv[] = { "resolvconf", "-d", nc->dns_name, "-f", NULL };

        log_info("[#] resolvconf -d %s -f", nc->dns_name);
        ret = netconf_spawn(argv, NULL);
        ret = ret == 0 ? 0 : -ECHILD;
    } else {
        ret = fallback_restore(nc);
    }
    if (ret < 0)
        log_warn("cannot restore DNS settings: %s", strerror(-ret));
    nc->dns = NETCONF_DNS_NONE;
    return ret;
}
