/* SPDX-License-Identifier: MIT */
/*
 * api.c - the public multi-peer device (wb_device_* in include/wirebolt.h):
 * the Linux I/O backend, the device, and the UAPI text codec put together.
 * Thread safety as documented in the header: device.c serialises set/get.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/random.h"
#include "datapath/device.h"
#include "datapath/io_linux.h"
#include "datapath/uapi.h"
#include "sched/workers.h"

struct wb_device {
    struct device *dev;
    struct io_backend *io;    /* owned by dev; kept for the name */
    char ifname[32];
};

int wb_device_create_with(const char *ifname, const struct wb_device_options *o,
                          struct wb_device **out)
{
    struct placement_options po = { 0 };
    struct device_options dopt = { 0 };
    struct workers_plan plan;
    struct wb_device *d;
    int err = 0, ret;

    if (!ifname || !out || (o && o->size < sizeof(*o)))
        return -EINVAL;
    *out = NULL;
    if (o) {
        po.workers = o->workers;
        po.cpus = o->cpus;
        po.use_smt = o->use_smt != 0;
    }
    ret = workers_plan(&po, &plan);
    if (ret < 0)
        return ret;
    if (plan.n > DEVICE_MAX_WORKERS)
        plan.n = DEVICE_MAX_WORKERS;
    dopt.cpus = plan.cpus;
    dopt.n_cpus = plan.n;
    d = calloc(1, sizeof(*d));
    if (!d) {
        workers_plan_free(&plan);
        return -ENOMEM;
    }
    d->io = io_linux_create(ifname, d->ifname, plan.n, &err);
    if (!d->io) {
        workers_plan_free(&plan);
        free(d);
        return err ? err : -EIO;
    }
    ret = device_create(d->io, &dopt, &d->dev);   /* takes the backend, also on failure */
    workers_plan_free(&plan);
    if (ret < 0) {
        free(d);
        return ret;
    }
    *out = d;
    return 0;
}

int wb_device_create(const char *ifname, struct wb_device **out)
{
    return wb_device_create_with(ifname, NULL, out);
}

const char *wb_device_ifname(const struct wb_device *d)
{
    return d ? d->ifname : NULL;
}

int wb_device_set_config(struct wb_device *d, const char *uapi_set)
{
    struct config change;
    char err[160];
    int ret;

    if (!d || !uapi_set)
        return -EINVAL;
    config_init(&change);
    ret = uapi_parse_set(uapi_set, strlen(uapi_set), &change, err, sizeof(err));
    if (ret == 0)
        ret = device_set_config(d->dev, &change);
    config_free(&change);
    return ret;
}

int wb_device_get_config(struct wb_device *d, char **uapi_get)
{
    struct config c;
    int ret;

    if (!d || !uapi_get)
        return -EINVAL;
    *uapi_get = NULL;
    config_init(&c);
    ret = device_get_config(d->dev, &c);
    if (ret == 0) {
        *uapi_get = uapi_format_get(&c);
        if (!*uapi_get)
            ret = -ENOMEM;
    }
    config_free(&c);
    return ret;
}

void wb_device_free_config(char *uapi_get)
{
    uapi_text_free(uapi_get);
}

int wb_device_start(struct wb_device *d)
{
    return d ? device_start(d->dev) : -EINVAL;
}

void wb_device_stop(struct wb_device *d)
{
    if (d)
        device_stop(d->dev);
}

void wb_device_destroy(struct wb_device *d)
{
    if (!d)
        return;
    device_destroy(d->dev);
    wb_memzero(d, sizeof(*d));
    free(d);
}
