/* SPDX-License-Identifier: MIT */
/*
 * placement.c - worker placement: the cpulist parser and printer, the plan
 * (which CPU each worker gets; the policy is in placement.h and
 * sched/README.md), pinning the calling thread, and NUMA-bound memory
 * through the topology's source with a plain fallback.
 *
 * Nothing here depends on hwloc: the topology source does the binding, so
 * this file builds for Windows as it is (the _WIN32 branches).
 *
 * Concurrency: reentrant; no globals.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE                 /* CPU_ALLOC, pthread_setaffinity_np */
#endif
#include "sched/placement.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <malloc.h>
#include <windows.h>
#else
#include <pthread.h>
#include <sched.h>
#include <unistd.h>
#endif

#define TOKEN_SHOWN_MAX 32          /* how much of a bad token an error quotes */
#define TOPOLOGY_MAX_CPUS_LAST 8191 /* for messages; checked against the header below */
#define STR_(x) #x
#define STR(x) STR_(x)

_Static_assert(TOPOLOGY_MAX_CPUS_LAST == TOPOLOGY_MAX_CPUS - 1, "message matches the limit");
_Static_assert(TOPOLOGY_MAX_CPUS % 64 == 0, "cpuset words");

static void seterr(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;

    if (!err || !len)
        return;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
}

static void cpuset_add(struct placement_cpuset *s, unsigned cpu)
{
    s->bits[cpu / 64] |= UINT64_C(1) << (cpu % 64);
}

/* ------------------------------------------------------------ cpulist */

/* Digits at s[*i..len) into *v. false when there are none or the number is
 * not a CPU number (> TOPOLOGY_MAX_CPUS - 1); *why says which. */
static bool parse_number(const char *s, size_t len, size_t *i, unsigned *v, const char **why)
{
    size_t start = *i;
    unsigned long n = 0;

    while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
        if (n <= TOPOLOGY_MAX_CPUS)
            n = n * 10 + (unsigned long)(s[*i] - '0');
        (*i)++;
    }
    if (*i == start) {
        *why = *i < len ? "expected a number" : "missing a number";
        return false;
    }
    if (n >= TOPOLOGY_MAX_CPUS) {
        *why = "CPU number too large (sched/ handles 0-" STR(TOPOLOGY_MAX_CPUS_LAST) ")";
        return false;
    }
    *v = (unsigned)n;
    return true;
}

/* One token: "N", "A-B" or "A-B:U/G". Adds its CPUs to set; NULL or why. */
static const char *parse_token(const char *s, size_t len, struct placement_cpuset *set)
{
    unsigned a, b, used = 1, group = 1;
    const char *why = NULL;
    size_t i = 0;

    if (len == 0)
        return "empty entry (two commas, or a comma at an end)";
    if (!parse_number(s, len, &i, &a, &why))
        return why;
    b = a;
    if (i < len && s[i] == '-') {
        i++;
        if (!parse_number(s, len, &i, &b, &why))
            return why;
        if (b < a)
            return "range ends below its start";
        if (i < len && s[i] == ':') {
            i++;
            if (!parse_number(s, len, &i, &used, &why))
                return why;
            if (i >= len || s[i] != '/')
                return "stride needs the form A-B:USED/GROUP";
            i++;
            if (!parse_number(s, len, &i, &group, &why))
                return why;
            if (used == 0 || group == 0 || used > group)
                return "stride needs 1 <= USED <= GROUP";
        }
    }
    if (i < len)
        return "unexpected character";
    for (unsigned cpu = a; cpu <= b; cpu++)
        if ((cpu - a) % group < used)
            cpuset_add(set, cpu);
    return NULL;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Quote at most TOKEN_SHOWN_MAX bytes of a token, unprintables as '?'. */
static void quote_token(char *q, size_t qlen, const char *s, size_t len)
{
    size_t n = len < qlen - 1 ? len : qlen - 1;

    for (size_t i = 0; i < n; i++)
        q[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    q[n] = '\0';
}

static unsigned cpuset_count(const struct placement_cpuset *s)
{
    unsigned n = 0;

    for (size_t i = 0; i < TOPOLOGY_MAX_CPUS / 64; i++)
        n += (unsigned)__builtin_popcountll(s->bits[i]);
    return n;
}

int placement_parse_cpus(const char *list, struct placement_cpuset *set, char *err, size_t err_len)
{
    const char *p, *end;

    memset(set, 0, sizeof(*set));
    seterr(err, err_len, "%s", "");
    if (!list) {
        seterr(err, err_len, "no CPU list");
        return -EINVAL;
    }
    for (p = list; is_space(*p); p++)
        ;
    for (end = p + strlen(p); end > p && is_space(end[-1]); end--)
        ;
    if (p == end) {
        seterr(err, err_len, "empty CPU list");
        return -EINVAL;
    }
    for (;;) {
        const char *tend = memchr(p, ',', (size_t)(end - p));
        const char *why;

        if (!tend)
            tend = end;
        why = parse_token(p, (size_t)(tend - p), set);
        if (why) {
            char q[TOKEN_SHOWN_MAX + 1];
            unsigned idx = 1;

            for (const char *c = list; c < p; c++)
                idx += *c == ',';
            quote_token(q, sizeof(q), p, (size_t)(tend - p));
            seterr(err, err_len, "bad CPU list entry %u \"%s%s\": %s", idx, q,
                   (size_t)(tend - p) > TOKEN_SHOWN_MAX ? "..." : "", why);
            memset(set, 0, sizeof(*set));
            return -EINVAL;
        }
        if (tend == end)
            break;
        p = tend + 1;
    }
    return (int)cpuset_count(set);
}

int placement_format_cpus(const struct placement_cpuset *set, char *buf, size_t len)
{
    size_t used = 0;

    if (len)
        buf[0] = '\0';
    for (int cpu = 0; cpu < TOPOLOGY_MAX_CPUS; cpu++) {
        char item[32];
        int first = cpu, n;

        if (!placement_cpuset_has(set, cpu))
            continue;
        while (cpu + 1 < TOPOLOGY_MAX_CPUS && placement_cpuset_has(set, cpu + 1))
            cpu++;
        if (first == cpu)
            n = snprintf(item, sizeof(item), "%s%d", used ? "," : "", first);
        else
            n = snprintf(item, sizeof(item), "%s%d-%d", used ? "," : "", first, cpu);
        if (used < len)
            snprintf(buf + used, len - used, "%s", item);
        used += (size_t)n;
    }
    return (int)used;
}

/* ------------------------------------------------------------ the plan */

/* A usable CPU with its place in the spreading order (see placement.h). */
struct cand {
    const struct topology_cpu *c;
    unsigned level;        /* rank among its core's usable threads */
    unsigned core_rank;    /* rank of its core within its (package, node) */
    unsigned dom_rank;     /* rank of its node within its package */
};

#define CMP(x, y) do { if ((x) != (y)) return (x) < (y) ? -1 : 1; } while (0)

static int cmp_by_place(const void *a, const void *b)
{
    const struct topology_cpu *x = ((const struct cand *)a)->c, *y = ((const struct cand *)b)->c;

    CMP(x->package, y->package);
    CMP(x->numa_node, y->numa_node);
    CMP(x->core, y->core);
    CMP(x->smt_rank, y->smt_rank);
    CMP(x->os_index, y->os_index);
    return 0;
}

/* Siblings last, then round-robin over cores of each node, nodes of each
 * package, packages. */
static int cmp_by_order(const void *a, const void *b)
{
    const struct cand *p = a, *q = b;

    CMP(p->level, q->level);
    CMP(p->core_rank, q->core_rank);
    CMP(p->dom_rank, q->dom_rank);
    CMP(p->c->package, q->c->package);
    return cmp_by_place(a, b);
}

/* Rank every candidate (sorted by place) within its core, node, package. */
static unsigned rank_candidates(struct cand *cs, unsigned n)
{
    unsigned n_cores = 0;

    for (unsigned i = 0; i < n; i++) {
        const struct topology_cpu *c = cs[i].c, *prev = i ? cs[i - 1].c : NULL;
        bool new_pkg = !prev || prev->package != c->package;
        bool new_dom = new_pkg || prev->numa_node != c->numa_node;
        bool new_core = new_dom || prev->core != c->core;

        cs[i].dom_rank = new_pkg ? 0 : cs[i - 1].dom_rank + new_dom;
        cs[i].core_rank = new_dom ? 0 : cs[i - 1].core_rank + new_core;
        cs[i].level = new_core ? 0 : cs[i - 1].level + 1;
        n_cores += new_core;
    }
    return n_cores;
}

/* The CPUs of t that o->cpus allows, into cs; their count, or -EINVAL. */
static int select_candidates(const struct topology *t, const char *cpus, struct cand *cs,
                             struct placement *out)
{
    struct placement_cpuset want, have;
    char why[PLACEMENT_ERROR_LEN - 8];
    unsigned n = 0;
    int r;

    memset(&have, 0, sizeof(have));
    for (unsigned i = 0; i < t->n_cpus; i++)
        cpuset_add(&have, (unsigned)t->cpus[i].os_index);
    if (cpus) {
        r = placement_parse_cpus(cpus, &want, why, sizeof(why));
        if (r < 0) {
            seterr(out->error, sizeof(out->error), "cpus: %s", why);
            return r;
        }
        for (int cpu = 0; cpu < TOPOLOGY_MAX_CPUS; cpu++) {
            if (placement_cpuset_has(&want, cpu) && !placement_cpuset_has(&have, cpu)) {
                placement_format_cpus(&have, why, sizeof(why));
                seterr(out->error, sizeof(out->error),
                       "cpus: CPU %d is not one this process may run on (usable: %s)", cpu, why);
                return -EINVAL;
            }
        }
    }
    for (unsigned i = 0; i < t->n_cpus; i++)
        if (!cpus || placement_cpuset_has(&want, t->cpus[i].os_index))
            cs[n++].c = &t->cpus[i];
    return (int)n;
}

/* How many workers o asks for, or -ERANGE with the reason in out. */
static int worker_count(const struct placement_options *o, struct placement *out)
{
    unsigned want = o->workers ? o->workers : o->use_smt ? out->n_cpus : out->n_cores;

    if (want > out->n_cpus) {
        seterr(out->error, sizeof(out->error),
               "%u workers asked for, but only %u CPUs are usable (%u cores)%s", want,
               out->n_cpus, out->n_cores, o->cpus ? " in cpus" : "");
        return -ERANGE;
    }
    if (want > out->n_cores && !o->use_smt) {
        seterr(out->error, sizeof(out->error),
               "%u workers asked for, but only %u physical cores are usable (%u hardware "
               "threads): ask for at most %u workers, or turn use_smt on", want,
               out->n_cores, out->n_cpus, out->n_cores);
        return -ERANGE;
    }
    return (int)want;
}

int placement_plan(const struct topology *t, const struct placement_options *o,
                   struct placement *out)
{
    static const struct placement_options defaults = { 0 };
    struct cand *cs;
    int n, workers;

    memset(out, 0, sizeof(*out));
    if (!o)
        o = &defaults;
    if (!t || !t->n_cpus) {
        seterr(out->error, sizeof(out->error), "no topology");
        return -EINVAL;
    }
    cs = calloc(t->n_cpus, sizeof(*cs));
    if (!cs) {
        seterr(out->error, sizeof(out->error), "out of memory");
        return -ENOMEM;
    }
    n = select_candidates(t, o->cpus, cs, out);
    if (n < 0)
        goto out;
    qsort(cs, (size_t)n, sizeof(*cs), cmp_by_place);
    out->n_cores = rank_candidates(cs, (unsigned)n);
    out->n_cpus = (unsigned)n;
    qsort(cs, (size_t)n, sizeof(*cs), cmp_by_order);
    n = workers = worker_count(o, out);
    if (workers < 0)
        goto out;
    out->workers = calloc((size_t)workers, sizeof(*out->workers));
    if (!out->workers) {
        seterr(out->error, sizeof(out->error), "out of memory");
        n = -ENOMEM;
        goto out;
    }
    for (int i = 0; i < workers; i++) {
        const struct topology_cpu *c = cs[i].c;

        out->workers[i] = (struct placement_worker){ .cpu = c->os_index, .numa_node = c->numa_node,
                                                     .core = c->core, .package = c->package,
                                                     .smt_rank = c->smt_rank };
    }
    out->n_workers = (unsigned)workers;
    n = 0;
out:
    free(cs);
    return n;
}

void placement_free(struct placement *p)
{
    free(p->workers);
    p->workers = NULL;
    p->n_workers = 0;
}

/* ------------------------------------------------------------ pinning */

#ifdef _WIN32
/* The thread's current processor group only: cpu is the bit in that
 * group's 64-bit mask. Machines with more than 64 logical processors need
 * SetThreadGroupAffinity and a topology source that reports groups. */
int placement_pin_self(int cpu)
{
    if (cpu < 0 || cpu >= (int)(8 * sizeof(DWORD_PTR)))
        return -EINVAL;
    if (SetThreadAffinityMask(GetCurrentThread(), (DWORD_PTR)1 << cpu) == 0)
        return GetLastError() == ERROR_ACCESS_DENIED ? -EPERM : -EINVAL;
    return 0;
}
#else
int placement_pin_self(int cpu)
{
    cpu_set_t *set;
    size_t size;
    int rc;

    if (cpu < 0 || cpu >= TOPOLOGY_MAX_CPUS)
        return -EINVAL;
    set = CPU_ALLOC(cpu + 1);
    if (!set)
        return -ENOMEM;
    size = CPU_ALLOC_SIZE(cpu + 1);
    CPU_ZERO_S(size, set);
    CPU_SET_S(cpu, size, set);
    rc = pthread_setaffinity_np(pthread_self(), size, set);   /* an errno value, not -1 */
    CPU_FREE(set);
    return -rc;
}
#endif

/* ------------------------------------------------------------ memory */

static void *aligned_alloc_pages(size_t size)
{
#ifdef _WIN32
    return _aligned_malloc(size, 4096);
#else
    long page = sysconf(_SC_PAGESIZE);
    void *p;

    if (posix_memalign(&p, page > 0 ? (size_t)page : 4096, size))
        return NULL;
    return p;
#endif
}

static void aligned_free_pages(void *p)
{
#ifdef _WIN32
    _aligned_free(p);
#else
    free(p);
#endif
}

int placement_mem_alloc(const struct topology *t, int numa_node, size_t size,
                        struct placement_mem *out)
{
    void *p = NULL;
    int r;

    memset(out, 0, sizeof(*out));
    if (!t || !size || numa_node < -1)
        return -EINVAL;
    if (numa_node >= 0) {
        r = t->source->alloc_bound ? t->source->alloc_bound(t, numa_node, size, &p) : -ENOSYS;
        if (r == 0) {
            *out = (struct placement_mem){ .ptr = p, .size = size, .bound = true };
            return 0;
        }
        if (r == -EINVAL)
            return r;
        out->bind_error = r;
    }
    out->ptr = aligned_alloc_pages(size);
    if (!out->ptr)
        return -ENOMEM;
    out->size = size;
    return 0;
}

void placement_mem_free(const struct topology *t, struct placement_mem *m)
{
    if (!m->ptr)
        return;
    if (m->bound)
        t->source->free_bound(t, m->ptr, m->size);
    else
        aligned_free_pages(m->ptr);
    m->ptr = NULL;
}
