/* SPDX-License-Identifier: MIT */
/*
 * topology_hwloc.c - the hwloc 2.x topology source: discovers the PUs this
 * process may run on (hwloc's allowed cpuset, which follows cgroup cpusets,
 * intersected with the process's affinity) with their core, package and
 * nearest NUMA node, and binds memory to a node with hwloc_alloc_membind.
 *
 * The loaded hwloc topology stays in t->priv for the memory binding; it is
 * read-only after load, and hwloc documents concurrent reads (and
 * alloc_membind/free calls) on a loaded topology as safe.
 *
 * Concurrency: topology_from_hwloc may run on any thread; see topology.h.
 */
#include "sched/topology.h"

#include <errno.h>
#include <hwloc.h>
#include <stdlib.h>

/* The OS number of the NUMA node closest to obj: the first NUMA node among
 * the memory children of obj's nearest ancestor that has any. -1: none. */
static int nearest_node(hwloc_obj_t obj)
{
    for (; obj; obj = obj->parent) {
        if (!obj->memory_arity)
            continue;
        for (hwloc_obj_t m = obj->memory_first_child; m; m = m->memory_first_child)
            if (m->type == HWLOC_OBJ_NUMANODE)
                return (int)m->os_index;
        return -1;
    }
    return -1;
}

/* pu's rank among the PUs of its core, in hwloc's logical order. */
static unsigned smt_rank_of(hwloc_topology_t topo, hwloc_obj_t core, hwloc_obj_t pu)
{
    unsigned rank = 0;
    hwloc_obj_t o = NULL;

    while ((o = hwloc_get_next_obj_inside_cpuset_by_type(topo, core->cpuset, HWLOC_OBJ_PU, o)))
        if (o == pu)
            return rank;
        else
            rank++;
    return 0;
}

static void describe_pu(hwloc_topology_t topo, hwloc_obj_t pu, struct topology_cpu *c)
{
    hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_CORE, pu);
    hwloc_obj_t pkg = hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_PACKAGE, pu);

    c->os_index = (int)pu->os_index;
    /* Without core objects (some VMs, odd platforms) every PU is a core. */
    c->core = core ? core->logical_index : pu->logical_index;
    c->smt_rank = core ? smt_rank_of(topo, core, pu) : 0;
    c->package = pkg ? pkg->logical_index : 0;
    c->numa_node = nearest_node(pu);
}

/* The CPUs this process may use: allowed cpuset & process binding. The
 * binding query failing (ENOSYS on a platform without it) leaves the
 * allowed set alone. */
static int usable_cpuset(hwloc_topology_t topo, hwloc_bitmap_t set)
{
    hwloc_bitmap_t bound = hwloc_bitmap_alloc();

    if (!bound)
        return -ENOMEM;
    if (hwloc_bitmap_copy(set, hwloc_topology_get_allowed_cpuset(topo)) < 0) {
        hwloc_bitmap_free(bound);
        return -ENOMEM;
    }
    if (hwloc_get_cpubind(topo, bound, HWLOC_CPUBIND_PROCESS) == 0)
        hwloc_bitmap_and(set, set, bound);
    hwloc_bitmap_free(bound);
    return 0;
}

static int hwloc_alloc_bound(const struct topology *t, int numa_node, size_t size, void **out)
{
    hwloc_topology_t topo = t->priv;
    const struct hwloc_topology_support *sup = hwloc_topology_get_support(topo);
    hwloc_obj_t node = hwloc_get_numanode_obj_by_os_index(topo, (unsigned)numa_node);

    if (!node)
        return -EINVAL;
    if (!sup->membind->alloc_membind || !sup->membind->bind_membind)
        return -ENOSYS;
    /* STRICT: without it hwloc may hand back unbound memory silently, and
     * the caller is told whether the binding happened. */
    errno = 0;
    *out = hwloc_alloc_membind(topo, size, node->nodeset, HWLOC_MEMBIND_BIND,
                               HWLOC_MEMBIND_BYNODESET | HWLOC_MEMBIND_STRICT);
    if (!*out)
        return errno ? -errno : -ENOMEM;
    return 0;
}

static void hwloc_free_bound(const struct topology *t, void *p, size_t size)
{
    hwloc_free(t->priv, p, size);
}

static void hwloc_destroy(struct topology *t)
{
    hwloc_topology_destroy(t->priv);
}

static const struct topology_source hwloc_source = {
    .name = "hwloc",
    .alloc_bound = hwloc_alloc_bound,
    .free_bound = hwloc_free_bound,
    .destroy = hwloc_destroy,
};

/* List the PUs in set into a fresh array; *n_out is its length. */
static int list_pus(hwloc_topology_t topo, hwloc_const_bitmap_t set,
                    struct topology_cpu **out, unsigned *n_out)
{
    int w = hwloc_get_nbobjs_inside_cpuset_by_type(topo, set, HWLOC_OBJ_PU);
    struct topology_cpu *cpus;
    hwloc_obj_t pu = NULL;
    unsigned n = 0;

    if (w <= 0)
        return -ENOENT;
    cpus = calloc((size_t)w, sizeof(*cpus));
    if (!cpus)
        return -ENOMEM;
    while (n < (unsigned)w && (pu = hwloc_get_next_obj_inside_cpuset_by_type(topo, set, HWLOC_OBJ_PU, pu)))
        describe_pu(topo, pu, &cpus[n++]);
    *out = cpus;
    *n_out = n;
    return 0;
}

int topology_from_hwloc(struct topology **out)
{
    hwloc_topology_t topo;
    hwloc_bitmap_t set;
    struct topology_cpu *cpus = NULL;
    unsigned n = 0;
    int err;

    *out = NULL;
    errno = 0;
    if (hwloc_topology_init(&topo) < 0)
        return errno ? -errno : -ENOMEM;
    if (hwloc_topology_load(topo) < 0) {
        err = errno ? -errno : -EIO;
        goto err_load;
    }
    set = hwloc_bitmap_alloc();
    if (!set) {
        err = -ENOMEM;
        goto err_load;
    }
    err = usable_cpuset(topo, set);
    if (!err)
        err = list_pus(topo, set, &cpus, &n);
    hwloc_bitmap_free(set);
    if (err)
        goto err_load;
    err = topology_from_list(cpus, n, out);
    free(cpus);
    if (err)
        goto err_load;
    (*out)->source = &hwloc_source;
    (*out)->priv = topo;
    return 0;

err_load:
    hwloc_topology_destroy(topo);
    return err;
}
