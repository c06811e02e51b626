/* SPDX-License-Identifier: MIT */
/*
 * workers.h - plan a device's workers on this machine (workers.c).
 */
#ifndef WB_SCHED_WORKERS_H
#define WB_SCHED_WORKERS_H

#include "sched/placement.h"

struct workers_plan {
    unsigned n;                /* workers (I/O queues) */
    int *cpus;                 /* worker i pinned to cpus[i] */
    unsigned n_cores;          /* usable cores the plan chose from */
    char error[PLACEMENT_ERROR_LEN + 64];
};

/* o NULL: the defaults (one worker per physical core, no SMT siblings).
 * Returns 0, or -errno with out->error saying why (for the user). */
int workers_plan(const struct placement_options *o, struct workers_plan *out);
void workers_plan_free(struct workers_plan *p);
/* Fill o from WIREBOLT_WORKERS, WIREBOLT_CPUS, WIREBOLT_SMT (what
 * wg-quick's invocation of wireboltd can carry); unset ones are left.
 * Returns 0 or -EINVAL with err set. */
int workers_options_from_env(struct placement_options *o, char *err, size_t err_len);

#endif
