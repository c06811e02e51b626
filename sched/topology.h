/* SPDX-License-Identifier: MIT */
/*
 * topology.h - the CPUs this process may run on, with the core, package and
 * NUMA node of each: what sched/placement.c needs to place datapath workers.
 *
 * A "topology source" builds a struct topology. Two exist:
 *   topology_from_hwloc()  hwloc 2.x discovery (topology_hwloc.c, Linux);
 *   topology_from_list()   an explicit list (topology_fixed.c): tests, and
 *                          any platform without a discovery source yet.
 * A port to another platform (Windows: GetLogicalProcessorInformationEx,
 * VirtualAllocExNuma) adds one file: a constructor that lists the CPUs,
 * hands them to topology_from_list() (which checks and sorts them), then
 * sets source and priv - as topology_hwloc.c does; placement.c does not
 * change.
 *
 * The numbering: os_index is the number the OS uses (Linux CPU number, what
 * taskset and sched_getcpu() say); numa_node is the OS node number (what
 * numactl says), -1 when unknown; core and package are machine-wide ids
 * (hwloc logical indexes) - CPUs with the same core are SMT siblings, and
 * smt_rank orders the hardware threads of a core (0 = its first thread,
 * counted over the whole core even where some threads are not allowed).
 *
 * Concurrency: a topology is immutable once made; any number of threads
 * may read it and call placement functions on it at once. Create and
 * destroy are the owner's: no other call may run on it during destroy.
 */
#ifndef WB_SCHED_TOPOLOGY_H
#define WB_SCHED_TOPOLOGY_H

#include <stddef.h>

/* Highest CPU number + 1 that sched/ handles (Linux's NR_CPUS maximum). */
#define TOPOLOGY_MAX_CPUS 8192

struct topology_cpu {
    int os_index;          /* OS CPU number, 0..TOPOLOGY_MAX_CPUS-1 */
    unsigned core;         /* machine-wide core id; equal core = SMT siblings */
    unsigned package;      /* machine-wide package (socket) id */
    int numa_node;         /* OS NUMA node number, -1 = unknown */
    unsigned smt_rank;     /* 0 = first hardware thread of its core */
};

struct topology;

/* What a source provides besides the CPU list. Private to sources and
 * placement.c; users only pass struct topology pointers around. */
struct topology_source {
    const char *name;                       /* "hwloc", "fixed", ... */
    /* Allocate size bytes bound to OS NUMA node numa_node (>= 0) into *out.
     * Returns 0, -EINVAL for a node this topology does not have, or another
     * -errno when binding is impossible here (-ENOSYS, -EPERM, -EXDEV...):
     * the caller then falls back to an unbound allocation. */
    int (*alloc_bound)(const struct topology *t, int numa_node, size_t size, void **out);
    /* Free what alloc_bound returned. */
    void (*free_bound)(const struct topology *t, void *p, size_t size);
    /* Free whatever the source keeps in priv (NULL: nothing to free);
     * topology_destroy frees the rest. */
    void (*destroy)(struct topology *t);
};

struct topology {
    unsigned n_cpus;                        /* >= 1 */
    struct topology_cpu *cpus;              /* n_cpus entries, sorted by os_index */
    const struct topology_source *source;   /* the source that made it */
    void *priv;                             /* the source's own state */
};

/* Discover with hwloc: the CPUs in both hwloc's allowed cpuset (cgroup
 * cpusets) and this process's CPU affinity (taskset, sched_setaffinity;
 * the union over its threads). Call it before pinning any thread. Returns
 * 0 and *out, -ENOMEM, -ENOENT when no CPU is left, or -errno from hwloc.
 * Linux (any hwloc 2.x platform). */
int topology_from_hwloc(struct topology **out);

/* An explicit topology: a copy of cpus[0..n-1], sorted by os_index.
 * Returns 0 and *out, -ENOMEM, or -EINVAL when n is 0, an os_index is out
 * of range or repeated, numa_node < -1, two CPUs of one core disagree on
 * package or NUMA node, or two CPUs of one core share an smt_rank. */
int topology_from_list(const struct topology_cpu *cpus, unsigned n, struct topology **out);

/* Free a topology from any source (NULL is fine). Memory from
 * placement_mem_alloc on it must be freed first. */
void topology_destroy(struct topology *t);

#endif
