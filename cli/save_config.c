/* SPDX-License-Identifier: MIT */
/*
 * save_config.c - SaveConfig=true: merge the running configuration with
 * the file's own keys and write the file back (save_config.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli/save_config.h"

static int copy_strings(struct config_strings *dst, const struct config_strings *src)
{
    for (size_t i = 0; i < src->n; i++) {
        int ret = config_strings_add(dst, src->v[i]);

        if (ret < 0)
            return ret;
    }
    return 0;
}

static int copy_prefixes(struct config_prefix **v, size_t *n, const struct config_prefix *src,
                         size_t n_src)
{
    for (size_t i = 0; i < n_src; i++) {
        int ret = config_prefixes_add(v, n, &src[i]);

        if (ret < 0)
            return ret;
    }
    return 0;
}

/* *dst = a copy of src (NULL stays NULL). */
static int copy_string(char **dst, const char *src)
{
    *dst = src ? strdup(src) : NULL;
    return src && !*dst ? -ENOMEM : 0;
}

static int copy_interface(struct config *out, const struct config *file)
{
    int ret = copy_prefixes(&out->addresses, &out->n_addresses, file->addresses, file->n_addresses);

    out->has_mtu = file->has_mtu;
    out->mtu = file->mtu;
    out->save_config = file->save_config;
    if (ret == 0)
        ret = copy_strings(&out->dns, &file->dns);
    if (ret == 0)
        ret = copy_string(&out->table, file->table);
    if (ret == 0)
        ret = copy_strings(&out->pre_up, &file->pre_up);
    if (ret == 0)
        ret = copy_strings(&out->post_up, &file->post_up);
    if (ret == 0)
        ret = copy_strings(&out->pre_down, &file->pre_down);
    if (ret == 0)
        ret = copy_strings(&out->post_down, &file->post_down);
    if (ret == 0)
        ret = copy_string(&out->virtual_adapter_mode, file->virtual_adapter_mode);
    if (ret == 0)
        ret = copy_string(&out->enable_default_gateway, file->enable_default_gateway);
    return ret;
}

static const struct config_peer *find_peer(const struct config *c, const uint8_t key[WB_KEY_LEN])
{
    for (size_t i = 0; i < c->n_peers; i++)
        if (memcmp(c->peers[i].public_key, key, WB_KEY_LEN) == 0)
            return &c->peers[i];
    return NULL;
}

/* Same set of addresses: compare the minimal sorted forms. */
static int same_allowed(const struct config_peer *fp, const struct config_peer *rp, bool *same)
{
    struct config_prefix *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    int ret = config_prefix_subtract(fp->allowed_ips, fp->n_allowed_ips, fp->disallowed_ips,
                                     fp->n_disallowed_ips, &a, &na);

    if (ret == 0)
        ret = config_prefix_subtract(rp->allowed_ips, rp->n_allowed_ips, NULL, 0, &b, &nb);
    *same = ret == 0 && na == nb && (na == 0 || memcmp(a, b, na * sizeof(*a)) == 0);
    free(a);
    free(b);
    return ret;
}

/* The running endpoint, written as the file's host name while that still
 * resolves to it. */
static int endpoint_from(struct config_peer *p, const struct config_peer *fp,
                         const struct config_peer *rp)
{
    bool keep_name;

    if (!rp->has_endpoint)
        return 0;
    p->has_endpoint = true;
    p->endpoint = rp->endpoint;
    p->endpoint_port = rp->endpoint_port;
    keep_name = fp && fp->endpoint_host && fp->endpoint.family == rp->endpoint.family &&
                fp->endpoint.port == rp->endpoint.port &&
                memcmp(fp->endpoint.addr, rp->endpoint.addr, sizeof(fp->endpoint.addr)) == 0;
    return copy_string(&p->endpoint_host, keep_name ? fp->endpoint_host : rp->endpoint_host);
}

static int copy_wiresock(struct config_peer *p, const struct config_peer *fp)
{
    int ret = copy_strings(&p->allowed_apps, &fp->allowed_apps);

    if (ret == 0)
        ret = copy_strings(&p->disallowed_apps, &fp->disallowed_apps);
    if (ret == 0)
        ret = copy_string(&p->socks5_proxy, fp->socks5_proxy);
    if (ret == 0)
        ret = copy_string(&p->socks5_proxy_username, fp->socks5_proxy_username);
    if (ret == 0)
        ret = copy_string(&p->socks5_proxy_password, fp->socks5_proxy_password);
    p->has_socks5_proxy_all_traffic = fp->has_socks5_proxy_all_traffic;
    p->socks5_proxy_all_traffic = fp->socks5_proxy_all_traffic;
    return ret;
}

static int merge_peer(struct config *out, const struct config *file, const struct config_peer *rp)
{
    const struct config_peer *fp = find_peer(file, rp->public_key);
    struct config_peer *p = config_add_peer(out);
    bool same = false;
    int ret;

    if (!p)
        return -ENOMEM;
    memcpy(p->public_key, rp->public_key, WB_KEY_LEN);
    if (rp->has_preshared_key) {
        p->has_preshared_key = true;
        memcpy(p->preshared_key, rp->preshared_key, WB_KEY_LEN);
    }
    p->has_persistent_keepalive = rp->persistent_keepalive != 0 ||
                                  (fp && fp->has_persistent_keepalive);
    p->persistent_keepalive = rp->persistent_keepalive;
    ret = endpoint_from(p, fp, rp);
    if (ret == 0 && fp)
        ret = same_allowed(fp, rp, &same);
    if (ret == 0 && same) {
        ret = copy_prefixes(&p->allowed_ips, &p->n_allowed_ips, fp->allowed_ips, fp->n_allowed_ips);
        if (ret == 0)
            ret = copy_prefixes(&p->disallowed_ips, &p->n_disallowed_ips, fp->disallowed_ips,
                                fp->n_disallowed_ips);
    } else if (ret == 0) {
        ret = copy_prefixes(&p->allowed_ips, &p->n_allowed_ips, rp->allowed_ips, rp->n_allowed_ips);
    }
    if (ret == 0 && fp)
        ret = copy_wiresock(p, fp);
    return ret;
}

int save_config_merge(const struct config *file, const struct config *running,
                      uint32_t auto_fwmark, struct config *out)
{
    int ret = copy_interface(out, file);

    if (running->has_private_key) {
        out->has_private_key = true;
        memcpy(out->private_key, running->private_key, WB_KEY_LEN);
    }
    out->has_listen_port = running->has_listen_port && running->listen_port;
    out->listen_port = running->listen_port;
    if (running->has_fwmark && running->fwmark && running->fwmark != auto_fwmark) {
        out->has_fwmark = true;
        out->fwmark = running->fwmark;
    }
    for (size_t i = 0; ret == 0 && i < running->n_peers; i++)
        ret = merge_peer(out, file, &running->peers[i]);
    return ret;
}

int save_config_write(const char *path, const struct config *c)
{
    char tmp[4200];
    char *text = config_print(c, false);
    size_t len;
    int fd, ret = 0;

    if (!text)
        return errno ? -errno : -ENOMEM;
    len = strlen(text);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        ret = -errno;
    else if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0)
        ret = errno ? -errno : -EIO;
    if (fd >= 0)
        close(fd);
    if (ret == 0 && rename(tmp, path) < 0)
        ret = -errno;
    if (ret < 0 && fd >= 0)
        unlink(tmp);
    sodium_memzero(text, len);
    free(text);
    return ret;
}
