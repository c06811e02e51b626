/* SPDX-License-Identifier: MIT */
/*
 * placement.h - where the datapath's workers run: a plan of one CPU per
 * worker over a struct topology (sched/topology.h), pinning a thread to its
 * CPU, and memory bound to a worker's NUMA node.
 *
 * The plan (sched/README.md says it for users):
 *   - workers = 0 means one per usable physical core (use_smt off) or one
 *     per usable hardware thread (use_smt on);
 *   - each core contributes its first usable hardware thread; its other
 *     threads (SMT siblings) are used only with use_smt, and only after
 *     every core has one worker;
 *   - more workers than cores with use_smt off is an error (-ERANGE) that
 *     says so, never a silent fall back onto siblings; more workers than
 *     usable CPUs is -ERANGE too: a plan never puts two workers on a CPU;
 *   - the order spreads: worker 0 on package 0, worker 1 on package 1, ...,
 *     round-robin over packages and, within a package, over its NUMA nodes,
 *     so that a plan with fewer workers than cores uses every memory
 *     controller and L3 evenly. Within a node, cores in id order.
 * cpus (Linux cpulist syntax, "0-3,6,8-9") narrows the usable CPUs; naming
 * a CPU the process may not run on is -EINVAL, not silently ignored.
 *
 * Errors: -errno, with a one-line reason in the caller's buffer
 * (placement_parse_cpus) or in struct placement.error (placement_plan).
 *
 * Concurrency: everything here is reentrant; placement_pin_self acts on the
 * calling thread only. A plan is plain data owned by its caller.
 */
#ifndef WB_SCHED_PLACEMENT_H
#define WB_SCHED_PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sched/topology.h"

#define PLACEMENT_ERROR_LEN 160

/* A set of OS CPU numbers 0..TOPOLOGY_MAX_CPUS-1. */
struct placement_cpuset {
    uint64_t bits[TOPOLOGY_MAX_CPUS / 64];
};

static inline bool placement_cpuset_has(const struct placement_cpuset *s, int cpu)
{
    return cpu >= 0 && cpu < TOPOLOGY_MAX_CPUS && (s->bits[cpu / 64] >> (cpu % 64) & 1);
}

struct placement_options {
    unsigned workers;      /* 0 = default: one per core (or per CPU with use_smt) */
    const char *cpus;      /* cpulist to choose from; NULL = every usable CPU */
    bool use_smt;          /* may SMT siblings get workers? default false */
};

struct placement_worker {
    int cpu;               /* OS CPU number to pin the worker to */
    int numa_node;         /* its OS NUMA node, -1 = unknown */
    unsigned core;         /* as in struct topology_cpu */
    unsigned package;
    unsigned smt_rank;
};

struct placement {
    unsigned n_workers;
    struct placement_worker *workers;   /* worker i runs on workers[i].cpu */
    unsigned n_cores;                   /* usable cores / CPUs the plan chose from */
    unsigned n_cpus;
    char error[PLACEMENT_ERROR_LEN];    /* why placement_plan failed, else "" */
};

/* Parse a Linux cpulist ("0-3,6,8-9", also the kernel's "0-15:2/4" stride
 * form: in each group of 4 from the range start, the first 2) into *set.
 * Surrounding white space (a trailing newline from /sys) is ignored; empty
 * lists and empty tokens are not. Returns the number of CPUs (>= 1), or
 * -EINVAL with the bad token and why in err (may be NULL; err_len bytes,
 * always terminated). Never reads past the string's terminator. */
int placement_parse_cpus(const char *list, struct placement_cpuset *set, char *err, size_t err_len);

/* Write set as a cpulist ("0-3,6") into buf (always terminated; "" for an
 * empty set). Returns the length it needed, as snprintf does. */
int placement_format_cpus(const struct placement_cpuset *set, char *buf, size_t len);

/* Plan workers over t with options o (NULL = all defaults). Always
 * initialises *out (so placement_free is safe after failure). Returns 0;
 * -EINVAL for a bad cpus list or one naming a CPU not in t; -ERANGE for
 * more workers than cores (use_smt off) or than CPUs; -ENOMEM. On failure
 * out->error says why in one line. */
int placement_plan(const struct topology *t, const struct placement_options *o,
                   struct placement *out);

/* Free a plan's worker array (the struct itself is the caller's). */
void placement_free(struct placement *p);

/* Pin the calling thread to OS CPU cpu. Returns 0, -EINVAL (cpu out of
 * range, or not allowed here: a restricted cpuset or container), or the
 * -errno pthread_setaffinity_np gave. On Windows, SetThreadAffinityMask in
 * the thread's processor group (cpu < 64). Never ignore the result: a
 * worker that thinks it is pinned but is not breaks the plan silently. */
int placement_pin_self(int cpu);

/* Memory for a worker, preferably bound to its NUMA node. */
struct placement_mem {
    void *ptr;             /* page-aligned */
    size_t size;
    bool bound;            /* true: bound to the node (hwloc BIND policy) */
    int bind_error;        /* when !bound and a node was asked: why (-errno) */
};

/* Allocate size bytes bound to OS NUMA node numa_node of t; numa_node -1
 * asks for no binding. When the source cannot bind (no support, a
 * container refusing mbind: bind_error says which) the memory comes from a
 * plain page-aligned allocation and bound is false; the kernel then places
 * pages where they are first touched, so touch them from the pinned worker.
 * Returns 0, -EINVAL (size 0, a node t does not have) or -ENOMEM. */
int placement_mem_alloc(const struct topology *t, int numa_node, size_t size,
                        struct placement_mem *out);

/* Free what placement_mem_alloc gave, on the same topology (m->ptr NULL is
 * fine). */
void placement_mem_free(const struct topology *t, struct placement_mem *m);

#endif
