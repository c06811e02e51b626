/* SPDX-License-Identifier: MIT */
/*
 * workers.c - the one call a device's creator makes: where its workers
 * run, from this machine's topology (hwloc) and the user's options
 * (--workers, --cpus, --smt). The result sizes the I/O backend (a queue a
 * worker) and pins each worker (device_options.cpus).
 *
 * Concurrency: reentrant; control thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched/workers.h"

int workers_plan(const struct placement_options *o, struct workers_plan *out)
{
    struct topology *t = NULL;
    struct placement plan;
    int ret;

    memset(out, 0, sizeof(*out));
    ret = topology_from_hwloc(&t);
    if (ret < 0) {
        snprintf(out->error, sizeof(out->error), "cannot read the CPU topology (hwloc): %s",
                 strerror(-ret));
        return ret;
    }
    ret = placement_plan(t, o, &plan);
    if (ret < 0) {
        snprintf(out->error, sizeof(out->error), "%s", plan.error);
        topology_destroy(t);
        return ret;
    }
    out->cpus = calloc(plan.n_workers, sizeof(*out->cpus));
    if (!out->cpus) {
        placement_free(&plan);
        topology_destroy(t);
        return -ENOMEM;
    }
    for (unsigned i = 0; i < plan.n_workers; i++)
        out->cpus[i] = plan.workers[i].cpu;
    out->n = plan.n_workers;
    out->n_cores = plan.n_cores;
    placement_free(&plan);
    topology_destroy(t);
    return 0;
}

void workers_plan_free(struct workers_plan *p)
{
    free(p->cpus);
    p->cpus = NULL;
    p->n = 0;
}

int workers_options_from_env(struct placement_options *o, char *err, size_t err_len)
{
    const char *w = getenv("WIREBOLT_WORKERS"), *c = getenv("WIREBOLT_CPUS");
    const char *smt = getenv("WIREBOLT_SMT");

    if (w && *w) {
        char *end;
        unsigned long n = strtoul(w, &end, 10);

        if (*end || n > 1024) {
            snprintf(err, err_len, "WIREBOLT_WORKERS=%s: not a worker count (0 = one per core)", w);
            return -EINVAL;
        }
        o->workers = (unsigned)n;
    }
    if (c && *c)
        o->cpus = c;
    if (smt && *smt) {
        if (strcmp(smt, "1") != 0 && strcmp(smt, "0") != 0) {
            snprintf(err, err_len, "WIREBOLT_SMT=%s: expected 0 or 1", smt);
            return -EINVAL;
        }
        o->use_smt = strcmp(smt, "1") == 0;
    }
    return 0;
}
