/* SPDX-License-Identifier: MIT */
/*
 * topology_fixed.c - the explicit topology source: a CPU list given by the
 * caller, checked and sorted. Tests describe machines with it; every other
 * source (hwloc, a future Windows one) builds its list and passes it here,
 * then attaches its own struct topology_source. topology_destroy lives here
 * too, since every topology is allocated here.
 *
 * The fixed source cannot bind memory: placement_mem_alloc on it always
 * takes the unbound fallback.
 *
 * Concurrency: pure functions on caller memory; a made topology is
 * immutable (see topology.h).
 */
#include "sched/topology.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int fixed_alloc_bound(const struct topology *t, int numa_node, size_t size, void **out)
{
    for (unsigned i = 0; i < t->n_cpus; i++)
        if (t->cpus[i].numa_node == numa_node)
            return -ENOSYS;            /* a node it has, but no way to bind */
    return -EINVAL;
}

static const struct topology_source fixed_source = {
    .name = "fixed",
    .alloc_bound = fixed_alloc_bound,
    .free_bound = NULL,
    .destroy = NULL,
};

static int cmp_os_index(const void *a, const void *b)
{
    const struct topology_cpu *x = a, *y = b;

    return (x->os_index > y->os_index) - (x->os_index < y->os_index);
}

static int cmp_core_rank(const void *a, const void *b)
{
    const struct topology_cpu *x = a, *y = b;

    if (x->core != y->core)
        return x->core < y->core ? -1 : 1;
    return (x->smt_rank > y->smt_rank) - (x->smt_rank < y->smt_rank);
}

/* The checks of topology_from_list on a scratch copy (it gets reordered). */
static int check_list(struct topology_cpu *c, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (c[i].os_index < 0 || c[i].os_index >= TOPOLOGY_MAX_CPUS || c[i].numa_node < -1)
            return -EINVAL;
    qsort(c, n, sizeof(*c), cmp_os_index);
    for (unsigned i = 1; i < n; i++)
        if (c[i].os_index == c[i - 1].os_index)
            return -EINVAL;
    qsort(c, n, sizeof(*c), cmp_core_rank);
    for (unsigned i = 1; i < n; i++) {
        if (c[i].core != c[i - 1].core)
            continue;
        if (c[i].smt_rank == c[i - 1].smt_rank || c[i].package != c[i - 1].package ||
            c[i].numa_node != c[i - 1].numa_node)
            return -EINVAL;
    }
    return 0;
}

int topology_from_list(const struct topology_cpu *cpus, unsigned n, struct topology **out)
{
    struct topology *t;
    int err;

    *out = NULL;
    if (!cpus || n == 0 || n > TOPOLOGY_MAX_CPUS)
        return -EINVAL;
    t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    t->cpus = malloc(n * sizeof(*t->cpus));
    if (!t->cpus) {
        err = -ENOMEM;
        goto err_cpus;
    }
    memcpy(t->cpus, cpus, n * sizeof(*t->cpus));
    err = check_list(t->cpus, n);
    if (err)
        goto err_check;
    qsort(t->cpus, n, sizeof(*t->cpus), cmp_os_index);
    t->n_cpus = n;
    t->source = &fixed_source;
    *out = t;
    return 0;

err_check:
    free(t->cpus);
err_cpus:
    free(t);
    return err;
}

void topology_destroy(struct topology *t)
{
    if (!t)
        return;
    if (t->source && t->source->destroy)
        t->source->destroy(t);
    free(t->cpus);
    free(t);
}
