/* SPDX-License-Identifier: MIT */
/*
 * test_placement.c - sched/: the cpulist parser (good, bad and random
 * input, format round trip), plans over fixed topologies (1 socket x 4
 * cores x 2 threads, 2 packages/2 NUMA nodes, sub-NUMA clusters, restricted
 * CPU sets, defaults, too many workers, SMT on and off), NUMA memory, and
 * on this machine: the hwloc source against sched_getaffinity, pinning the
 * test thread and checking sched_getcpu().
 *
 * Single-threaded; it changes its own affinity and restores it.
 */
#include "sched/placement.h"

#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <unistd.h>

#include "check.h"
#include "rng.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------ cpulist */

static bool set_is(const struct placement_cpuset *s, const int *cpus, size_t n)
{
    struct placement_cpuset want;

    memset(&want, 0, sizeof(want));
    for (size_t i = 0; i < n; i++)
        want.bits[cpus[i] / 64] |= UINT64_C(1) << (cpus[i] % 64);
    return memcmp(&want, s, sizeof(want)) == 0;
}

static void test_parse_good(void)
{
    static struct placement_cpuset s;
    char err[128], buf[256];

    CHECK(placement_parse_cpus("0-3,6,8-9", &s, err, sizeof(err)) == 7);
    CHECK(set_is(&s, (int[]){ 0, 1, 2, 3, 6, 8, 9 }, 7));
    CHECK(err[0] == '\0');
    CHECK(placement_format_cpus(&s, buf, sizeof(buf)) == 9);
    CHECK(strcmp(buf, "0-3,6,8-9") == 0);

    CHECK(placement_parse_cpus("5", &s, err, sizeof(err)) == 1 && set_is(&s, (int[]){ 5 }, 1));
    CHECK(placement_parse_cpus(" 0-1\n", &s, err, sizeof(err)) == 2);   /* as read from /sys */
    CHECK(placement_parse_cpus("3,3,1-3", &s, NULL, 0) == 3);          /* overlaps are fine */
    CHECK(placement_parse_cpus("8191", &s, err, sizeof(err)) == 1 && placement_cpuset_has(&s, 8191));
    CHECK(placement_parse_cpus("0-8191", &s, err, sizeof(err)) == 8192);
    CHECK(placement_parse_cpus("0-15:2/4", &s, err, sizeof(err)) == 8);
    CHECK(set_is(&s, (int[]){ 0, 1, 4, 5, 8, 9, 12, 13 }, 8));
    placement_format_cpus(&s, buf, sizeof(buf));
    CHECK(strcmp(buf, "0-1,4-5,8-9,12-13") == 0);
    CHECK(placement_parse_cpus("2-4:1/1", &s, err, sizeof(err)) == 3);
    CHECK(placement_parse_cpus("007", &s, err, sizeof(err)) == 1 && placement_cpuset_has(&s, 7));

    /* A short buffer: truncated, terminated, the needed length returned. */
    placement_parse_cpus("0-3,6,8-9", &s, err, sizeof(err));
    CHECK(placement_format_cpus(&s, buf, 4) == 9 && strcmp(buf, "0-3") == 0);
    memset(&s, 0, sizeof(s));
    CHECK(placement_format_cpus(&s, buf, sizeof(buf)) == 0 && buf[0] == '\0');
}

/* Each bad input: -EINVAL, an empty set, and the message naming the token. */
static void test_parse_bad(void)
{
    static const struct { const char *in, *quoted; } bad[] = {
        { "", "empty CPU list" }, { "  \n", "empty CPU list" },
        { ",", "entry 1 \"\"" }, { "0,", "entry 2 \"\"" }, { ",0", "entry 1 \"\"" },
        { "0,,1", "entry 2 \"\"" }, { "a", "\"a\"" }, { "1-", "\"1-\"" }, { "-1", "\"-1\"" },
        { "3-1", "\"3-1\": range ends below" }, { "1-2-3", "\"1-2-3\"" },
        { "0,8192", "entry 2 \"8192\": CPU number too large" },
        { "99999999999999999999999", "too large" }, { "1:2", "\"1:2\"" },
        { "0-7:0/4", "1 <= USED <= GROUP" }, { "0-7:3/2", "1 <= USED <= GROUP" },
        { "0-7:1", "A-B:USED/GROUP" }, { "0-7:1/", "\"0-7:1/\"" }, { "0 1", "\"0 1\"" },
        { "+1", "\"+1\"" }, { "1 ,2", "\"1 \"" }, { "0x3", "\"0x3\"" },
        { "1,\x01\x7f", "\"??\"" },
        { "0,1234567890123456789012345678901234567890", "\"12345678901234567890123456789012...\"" },
    };
    static struct placement_cpuset s;
    char err[128];

    for (size_t i = 0; i < NELEM(bad); i++) {
        int r = placement_parse_cpus(bad[i].in, &s, err, sizeof(err));
        struct placement_cpuset empty;

        memset(&empty, 0, sizeof(empty));
        CHECK(r == -EINVAL);
        CHECK(memcmp(&s, &empty, sizeof(s)) == 0);
        if (!strstr(err, bad[i].quoted)) {
            fprintf(stderr, "input %zu: error \"%s\" lacks \"%s\"\n", i, err, bad[i].quoted);
            CHECK(!"error names the bad token");
        }
    }
    CHECK(placement_parse_cpus(NULL, &s, err, sizeof(err)) == -EINVAL);
    CHECK(placement_parse_cpus("x", &s, NULL, 0) == -EINVAL);
    CHECK(placement_parse_cpus("x", &s, err, 1) == -EINVAL && err[0] == '\0');
}

/* Random strings over the syntax's alphabet: never a crash, and whatever
 * parses prints back to a list that parses to the same set. */
static void test_parse_random(void)
{
    static const char alphabet[] = "0123456789--,,:/ 9";
    static struct placement_cpuset s, s2;
    char in[24], err[128], buf[4096];

    for (int round = 0; round < 200000; round++) {
        size_t len = rng() % (sizeof(in) - 1);

        for (size_t i = 0; i < len; i++)
            in[i] = alphabet[rng() % (sizeof(alphabet) - 1)];
        in[len] = '\0';
        int r = placement_parse_cpus(in, &s, err, sizeof(err));
        if (r < 0) {
            CHECK(r == -EINVAL && err[0]);
            continue;
        }
        CHECK(r > 0);
        CHECK((size_t)placement_format_cpus(&s, buf, sizeof(buf)) < sizeof(buf));
        CHECK(placement_parse_cpus(buf, &s2, err, sizeof(err)) == r);
        CHECK(memcmp(&s, &s2, sizeof(s)) == 0);
    }
}

/* ------------------------------------------------------------ plans */

/* 1 package, 4 cores, 2 threads each, Linux numbering: CPU c and c+4 are
 * the two threads of core c. */
static struct topology *make_1s4c2t(void)
{
    struct topology_cpu c[8];
    struct topology *t;

    for (int i = 0; i < 8; i++)
        c[i] = (struct topology_cpu){ .os_index = i, .core = (unsigned)i % 4, .package = 0,
                                      .numa_node = 0, .smt_rank = (unsigned)i / 4 };
    CHECK(topology_from_list(c, 8, &t) == 0);
    return t;
}

/* 2 packages, one NUMA node each (node = package), 4 cores each, 2
 * threads: CPUs 0-3 package 0, 4-7 package 1, siblings 8-15. */
static struct topology *make_2s4c2t(void)
{
    struct topology_cpu c[16];
    struct topology *t;

    for (int i = 0; i < 16; i++) {
        unsigned core = (unsigned)i % 8;
        c[i] = (struct topology_cpu){ .os_index = i, .core = core, .package = core / 4,
                                      .numa_node = (int)(core / 4), .smt_rank = (unsigned)i / 8 };
    }
    CHECK(topology_from_list(c, 16, &t) == 0);
    return t;
}

static bool plan_is(const struct placement *p, const int *cpus, unsigned n)
{
    if (p->n_workers != n)
        return false;
    for (unsigned i = 0; i < n; i++)
        if (p->workers[i].cpu != cpus[i])
            return false;
    return true;
}

static int plan(const struct topology *t, unsigned workers, const char *cpus, bool smt,
                struct placement *p)
{
    struct placement_options o = { .workers = workers, .cpus = cpus, .use_smt = smt };

    return placement_plan(t, &o, p);
}

static void test_plan_one_socket(void)
{
    struct topology *t = make_1s4c2t();
    struct placement p;

    CHECK(placement_plan(t, NULL, &p) == 0);               /* defaults: one per core */
    CHECK(plan_is(&p, (int[]){ 0, 1, 2, 3 }, 4));
    CHECK(p.n_cores == 4 && p.n_cpus == 8 && p.error[0] == '\0');
    CHECK(p.workers[2].numa_node == 0 && p.workers[2].core == 2 && p.workers[2].smt_rank == 0);
    placement_free(&p);

    CHECK(plan(t, 0, NULL, true, &p) == 0);                /* smt: one per thread, siblings last */
    CHECK(plan_is(&p, (int[]){ 0, 1, 2, 3, 4, 5, 6, 7 }, 8));
    placement_free(&p);
    CHECK(plan(t, 2, NULL, false, &p) == 0 && plan_is(&p, (int[]){ 0, 1 }, 2));
    placement_free(&p);
    CHECK(plan(t, 3, NULL, true, &p) == 0 && plan_is(&p, (int[]){ 0, 1, 2 }, 3));
    placement_free(&p);
    CHECK(plan(t, 6, NULL, true, &p) == 0 && plan_is(&p, (int[]){ 0, 1, 2, 3, 4, 5 }, 6));
    placement_free(&p);

    /* More workers than cores without SMT: an error that says so. */
    CHECK(plan(t, 5, NULL, false, &p) == -ERANGE);
    CHECK(p.n_workers == 0 && p.workers == NULL);
    CHECK(strstr(p.error, "5 workers") && strstr(p.error, "4 physical cores") &&
          strstr(p.error, "use_smt"));
    placement_free(&p);
    /* More workers than CPUs: never two on one CPU. */
    CHECK(plan(t, 9, NULL, true, &p) == -ERANGE && strstr(p.error, "only 8 CPUs"));
    placement_free(&p);
    topology_destroy(t);
}

static void test_plan_two_nodes(void)
{
    struct topology *t = make_2s4c2t();
    struct placement p;

    /* Workers alternate packages (and so NUMA nodes). */
    CHECK(placement_plan(t, NULL, &p) == 0);
    CHECK(plan_is(&p, (int[]){ 0, 4, 1, 5, 2, 6, 3, 7 }, 8));
    for (unsigned i = 0; i < p.n_workers; i++)
        CHECK(p.workers[i].numa_node == (int)(i % 2) && p.workers[i].package == i % 2);
    placement_free(&p);
    CHECK(plan(t, 3, NULL, false, &p) == 0 && plan_is(&p, (int[]){ 0, 4, 1 }, 3));
    placement_free(&p);
    CHECK(plan(t, 0, NULL, true, &p) == 0);
    CHECK(plan_is(&p, (int[]){ 0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15 }, 16));
    placement_free(&p);
    /* Only package 1 allowed: it fills that package. */
    CHECK(plan(t, 0, "4-7,12-15", false, &p) == 0 && plan_is(&p, (int[]){ 4, 5, 6, 7 }, 4));
    CHECK(p.workers[0].numa_node == 1);
    placement_free(&p);
    topology_destroy(t);
}

/* Sub-NUMA clustering: 2 packages x 2 nodes x 2 cores, no SMT. Round-robin
 * goes over packages first, then over the nodes inside each. */
static void test_plan_snc(void)
{
    struct topology_cpu c[8];
    struct topology *t;
    struct placement p;

    for (int i = 0; i < 8; i++)
        c[i] = (struct topology_cpu){ .os_index = i, .core = (unsigned)i,
                                      .package = (unsigned)i / 4, .numa_node = i / 2 };
    CHECK(topology_from_list(c, 8, &t) == 0);
    CHECK(placement_plan(t, NULL, &p) == 0);
    CHECK(plan_is(&p, (int[]){ 0, 4, 2, 6, 1, 5, 3, 7 }, 8));
    CHECK(p.workers[2].numa_node == 1 && p.workers[3].numa_node == 3);
    placement_free(&p);
    /* SMT on changes nothing without siblings. */
    CHECK(plan(t, 0, NULL, true, &p) == 0 && p.n_workers == 8);
    placement_free(&p);
    CHECK(plan(t, 9, NULL, true, &p) == -ERANGE);
    placement_free(&p);
    topology_destroy(t);
}

static void test_plan_restricted(void)
{
    struct topology *t = make_1s4c2t();
    struct topology *r;
    struct placement p;
    struct topology_cpu sub[4];

    /* cpus narrows the choice; a core's first usable thread serves it. */
    CHECK(plan(t, 0, "1-2,5-6", false, &p) == 0 && plan_is(&p, (int[]){ 1, 2 }, 2));
    CHECK(p.n_cores == 2 && p.n_cpus == 4);
    placement_free(&p);
    CHECK(plan(t, 0, "1-2,5-6", true, &p) == 0 && plan_is(&p, (int[]){ 1, 2, 5, 6 }, 4));
    placement_free(&p);
    CHECK(plan(t, 0, "4-5", false, &p) == 0 && plan_is(&p, (int[]){ 4, 5 }, 2));
    CHECK(p.workers[0].smt_rank == 1);
    placement_free(&p);
    CHECK(plan(t, 3, "0-1", true, &p) == -ERANGE && strstr(p.error, "in cpus"));
    placement_free(&p);

    /* A CPU the process may not use is an error, not ignored. */
    CHECK(plan(t, 0, "0,9", false, &p) == -EINVAL);
    CHECK(strstr(p.error, "CPU 9") && strstr(p.error, "usable: 0-7"));
    placement_free(&p);
    CHECK(plan(t, 0, "0-", false, &p) == -EINVAL && strstr(p.error, "cpus: bad CPU list entry"));
    placement_free(&p);

    /* A topology that is itself restricted (a container's cpuset), given in
     * scrambled order: the plan does not depend on the order. */
    sub[0] = t->cpus[7];
    sub[1] = t->cpus[2];
    sub[2] = t->cpus[6];
    sub[3] = t->cpus[3];
    CHECK(topology_from_list(sub, 4, &r) == 0);
    CHECK(r->cpus[0].os_index == 2 && r->cpus[3].os_index == 7);
    CHECK(placement_plan(r, NULL, &p) == 0 && plan_is(&p, (int[]){ 2, 3 }, 2));
    placement_free(&p);
    CHECK(plan(r, 3, NULL, false, &p) == -ERANGE);
    placement_free(&p);
    topology_destroy(r);
    topology_destroy(t);
    CHECK(placement_plan(NULL, NULL, &p) == -EINVAL && p.error[0]);
}

static void test_from_list_bad(void)
{
    struct topology_cpu c[2] = {
        { .os_index = 0, .core = 0, .numa_node = 0, .smt_rank = 0 },
        { .os_index = 1, .core = 0, .numa_node = 0, .smt_rank = 1 },
    };
    struct topology *t = (struct topology *)&t;

    CHECK(topology_from_list(c, 2, &t) == 0);
    topology_destroy(t);
    topology_destroy(NULL);
    CHECK(topology_from_list(c, 0, &t) == -EINVAL && t == NULL);
    c[1].os_index = 0;                                     /* repeated */
    CHECK(topology_from_list(c, 2, &t) == -EINVAL);
    c[1].os_index = -1;
    CHECK(topology_from_list(c, 2, &t) == -EINVAL);
    c[1].os_index = TOPOLOGY_MAX_CPUS;
    CHECK(topology_from_list(c, 2, &t) == -EINVAL);
    c[1].os_index = 1;
    c[1].smt_rank = 0;                                     /* two first threads */
    CHECK(topology_from_list(c, 2, &t) == -EINVAL);
    c[1].smt_rank = 1;
    c[1].package = 1;                                      /* a core in two packages */
    CHECK(topology_from_list(c, 2, &t) == -EINVAL);
    c[1].package = 0;
    c[1].numa_node = 1;                                    /* ... or two nodes */
    CHECK(topology_from_list(c, 2, &t) == -EINVAL);
    c[1].numa_node = -2;
    CHECK(topology_from_list(c, 2, &t) == -EINVAL);
}

static void test_mem_fixed(void)
{
    struct topology *t = make_2s4c2t();
    struct placement_mem m;

    CHECK(placement_mem_alloc(t, 1, 100000, &m) == 0);
    CHECK(m.ptr && !m.bound && m.bind_error == -ENOSYS && m.size == 100000);
    CHECK(((uintptr_t)m.ptr & 4095) == 0);
    memset(m.ptr, 0xa5, m.size);
    placement_mem_free(t, &m);
    CHECK(m.ptr == NULL);
    placement_mem_free(t, &m);                             /* twice is harmless */
    CHECK(placement_mem_alloc(t, -1, 64, &m) == 0 && !m.bound && m.bind_error == 0);
    placement_mem_free(t, &m);
    CHECK(placement_mem_alloc(t, 2, 64, &m) == -EINVAL && m.ptr == NULL);
    CHECK(placement_mem_alloc(t, 0, 0, &m) == -EINVAL);
    CHECK(placement_mem_alloc(t, -2, 64, &m) == -EINVAL);
    topology_destroy(t);
}

/* ------------------------------------------------------------ this machine */

static void print_topology(const struct topology *t)
{
    printf("hwloc: %u usable CPUs:", t->n_cpus);
    for (unsigned i = 0; i < t->n_cpus; i++)
        printf(" %d(core %u pkg %u node %d smt %u)", t->cpus[i].os_index, t->cpus[i].core,
               t->cpus[i].package, t->cpus[i].numa_node, t->cpus[i].smt_rank);
    printf("\n");
}

static void test_hwloc_machine(const cpu_set_t *mask)
{
    struct topology *t;
    struct placement p;
    struct placement_mem m;
    int r = topology_from_hwloc(&t);

    CHECK(r == 0);
    if (r)
        return;
    print_topology(t);
    CHECK(strcmp(t->source->name, "hwloc") == 0);
    CHECK(t->n_cpus == (unsigned)CPU_COUNT(mask));
    CHECK(t->n_cpus <= (unsigned)sysconf(_SC_NPROCESSORS_ONLN));
    for (unsigned i = 0; i < t->n_cpus; i++)
        CHECK(CPU_ISSET(t->cpus[i].os_index, mask));

    CHECK(placement_plan(t, NULL, &p) == 0 && p.n_workers >= 1 && p.n_workers == p.n_cores);
    printf("default plan: %u workers on %u cores / %u CPUs; worker 0 on CPU %d node %d\n",
           p.n_workers, p.n_cores, p.n_cpus, p.workers[0].cpu, p.workers[0].numa_node);
    placement_free(&p);

    r = placement_mem_alloc(t, t->cpus[0].numa_node, 1 << 20, &m);
    CHECK(r == 0);
    if (r == 0) {
        CHECK(m.bound || t->cpus[0].numa_node < 0 || m.bind_error < 0);
        memset(m.ptr, 1, m.size);
        printf("1 MiB on node %d: %s (%s)\n", t->cpus[0].numa_node,
               m.bound ? "bound with hwloc" : "plain allocation",
               m.bound ? "BIND" : strerror(-m.bind_error));
        placement_mem_free(t, &m);
    }
    CHECK(placement_mem_alloc(t, 100000, 64, &m) == -EINVAL);
    topology_destroy(t);
}

/* Pin to every usable CPU in turn and ask the kernel where we are. */
static void test_pin(const cpu_set_t *mask)
{
    struct topology *t;
    struct placement p;

    if (topology_from_hwloc(&t))
        return;
    CHECK(plan(t, 0, NULL, true, &p) == 0);
    for (unsigned i = 0; i < p.n_workers; i++) {
        int r = placement_pin_self(p.workers[i].cpu);

        CHECK(r == 0);
        if (r == 0)
            CHECK(sched_getcpu() == p.workers[i].cpu);
    }
    placement_free(&p);
    topology_destroy(t);

    CHECK(placement_pin_self(-1) == -EINVAL);
    CHECK(placement_pin_self(TOPOLOGY_MAX_CPUS) == -EINVAL);
    /* A CPU the kernel will not run us on: reported, not ignored. (A CPU
     * merely outside our affinity mask is no test: a thread may widen its
     * own mask unless a cgroup cpuset forbids it.) */
    long conf = sysconf(_SC_NPROCESSORS_CONF);
    if (conf > 0 && conf < TOPOLOGY_MAX_CPUS)
        CHECK(placement_pin_self((int)conf) == -EINVAL);
    CHECK(sched_setaffinity(0, sizeof(*mask), mask) == 0);
}

/* Threads in this process (/proc/self/task), 0 if unknown. */
static unsigned threads_of_process(void)
{
    DIR *d = opendir("/proc/self/task");
    unsigned n = 0;

    if (!d)
        return 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Narrow our affinity to one CPU, as taskset would: hwloc sees only it. */
static void test_hwloc_follows_affinity(const cpu_set_t *mask)
{
    struct topology *t;
    cpu_set_t one;
    int last = -1;

    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
        if (CPU_ISSET(cpu, mask))
            last = cpu;
    CPU_ZERO(&one);
    CPU_SET(last, &one);
    CHECK(sched_setaffinity(0, sizeof(one), &one) == 0);
    CHECK(topology_from_hwloc(&t) == 0);
    if (t && threads_of_process() == 1) {
        CHECK(t->n_cpus == 1 && t->cpus[0].os_index == last);
    } else if (t) {
        /* hwloc takes the affinity of the whole process: threads we did
         * not make (an emulator's: qemu-user) keep theirs. */
        bool has_last = false;

        for (unsigned i = 0; i < t->n_cpus; i++)
            has_last |= t->cpus[i].os_index == last;
        CHECK(has_last);
        printf("hwloc after narrowing: %u CPUs (other threads in this process)\n", t->n_cpus);
    }
    if (t)
        topology_destroy(t);
    CHECK(sched_setaffinity(0, sizeof(*mask), mask) == 0);
}

int main(void)
{
    cpu_set_t mask;

    test_parse_good();
    test_parse_bad();
    test_parse_random();
    test_plan_one_socket();
    test_plan_two_nodes();
    test_plan_snc();
    test_plan_restricted();
    test_from_list_bad();
    test_mem_fixed();

    CHECK(sched_getaffinity(0, sizeof(mask), &mask) == 0);
    test_hwloc_machine(&mask);
    test_pin(&mask);
    test_hwloc_follows_affinity(&mask);
    return check_summary();
}
