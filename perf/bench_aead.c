/* SPDX-License-Identifier: MIT */
/*
 * bench_aead.c - ChaCha20-Poly1305 seal/open speed of every wirebolt
 * implementation this CPU supports, one call at a time and through the batch
 * API (aead_seal_batch/aead_open_batch over BATCH packets), next to
 * libsodium, OpenSSL 3 and BoringSSL (rivals.h), in one run.
 *
 *   bench_aead [--quick] [--reps N] [--sizes N,N,...] [--cpu N]
 *              [--clock perf|loop] [--boringssl PATH]
 *
 * Method: the thread is pinned to one CPU. Before timing, every candidate's
 * output is checked against libsodium's (and a forged tag must be refused).
 * Within each repetition every candidate is timed in turn (interleaved, so
 * frequency changes and noisy neighbours hit all of them alike), and the
 * fastest repetition counts. Core cycles come from timing.h (the hardware
 * counter, else wall time x the measured effective frequency); the header
 * says which.
 *
 * Columns, per size: ns per packet, GB/s (10^9 bytes of plaintext per
 * second) and core cycles per byte, for seal and for open. Batch rows are
 * per packet. The summary gives, per size, the speed of wirebolt's best
 * implementation relative to each library: their time / wirebolt's, so
 * above 1.00 means wirebolt is faster.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/aead.h"
#include "crypto/cpu.h"
#include "rivals.h"
#include "timing.h"

#define BATCH 64
#define MAX_SIZE 65536
#define MAX_SIZES 16
#define MAX_WB_IMPLS 8
#define MAX_CANDIDATES (2 * MAX_WB_IMPLS + RIVALS_MAX)

static const size_t default_sizes[] = { 64, 256, 576, 1420, 1500, 4096, 16384 };

enum kind { WB_CALL, WB_BATCH, RIVAL };

/* Per packet, the fastest repetition: wall ns and core cycles. */
struct best {
    double ns, cycles;
};

struct candidate {
    char name[40];
    enum kind kind;
    const struct aead_impl *impl;   /* WB_CALL, WB_BATCH */
    const struct rival *rival;      /* RIVAL */
    struct best seal[MAX_SIZES], open[MAX_SIZES];
};

struct options {
    bool quick, add_loop;
    int reps, cpu;
    const char *boringssl;
    size_t sizes[MAX_SIZES], n_sizes;
};

/* The data: BATCH packets `stride` bytes apart in each buffer. Single calls
 * use packet 0 and one_sealed (sealed with `nonce`); batch packet i is
 * sealed with the WireGuard nonce for counter i. */
static struct {
    uint8_t key[AEAD_KEY_LEN], nonce[AEAD_NONCE_LEN];
    uint8_t *plain, *sealed, *out, *one_sealed;
    size_t stride;
    struct aead_op seal_ops[BATCH], open_ops[BATCH];
} d;

static volatile uint8_t sink;

static uint8_t *pkt(uint8_t *buf, size_t i)
{
    return buf + i * d.stride;
}

/* --------------------------------------------------------------- timing */

static int run_wb_call(const struct candidate *c, size_t len, size_t iters, bool open)
{
    int bad = 0;

    for (size_t i = 0; i < iters; i++) {
        if (open)
            bad |= c->impl->open(d.out, d.one_sealed, len + AEAD_TAG_LEN, NULL, 0, d.nonce, d.key);
        else
            c->impl->seal(d.out, d.plain, len, NULL, 0, d.nonce, d.key);
    }
    return bad;
}

static int run_wb_batch(const struct candidate *c, size_t iters, bool open)
{
    int bad = 0;

    if (aead_impl_set(c->impl) != 0)
        return -1;
    for (size_t i = 0; i < iters; i++) {
        if (open)
            aead_open_batch(d.open_ops, BATCH);
        else
            aead_seal_batch(d.seal_ops, BATCH);
    }
    for (size_t p = 0; p < BATCH; p++)
        bad |= open ? d.open_ops[p].result : d.seal_ops[p].result;
    return bad;
}

static int run_rival(const struct candidate *c, size_t len, size_t iters, bool open)
{
    const struct rival *r = c->rival;
    int bad = 0;

    for (size_t i = 0; i < iters; i++) {
        if (open)
            bad |= r->open(r, d.out, d.one_sealed, len, d.nonce);
        else
            bad |= r->seal(r, d.out, d.plain, len, d.nonce);
    }
    return bad;
}

/* Time `iters` calls (batches for WB_BATCH) and keep the per-packet best. */
static int time_one(struct candidate *c, size_t si, size_t len, size_t iters, bool open)
{
    struct best *b = open ? &c->open[si] : &c->seal[si];
    size_t packets = c->kind == WB_BATCH ? iters * BATCH : iters;
    struct timing_span s;
    int bad;

    timing_begin(&s);
    if (c->kind == WB_CALL)
        bad = run_wb_call(c, len, iters, open);
    else if (c->kind == WB_BATCH)
        bad = run_wb_batch(c, iters, open);
    else
        bad = run_rival(c, len, iters, open);
    timing_end(&s);
    sink ^= d.out[0];
    if (bad) {
        fprintf(stderr, "%s: %s failed while timing %zu bytes\n", c->name, open ? "open" : "seal",
                len);
        return -1;
    }
    if ((double)s.ns / (double)packets < b->ns)
        b->ns = (double)s.ns / (double)packets;
    if (timing_has_counter() && s.cycles / (double)packets < b->cycles)
        b->cycles = s.cycles / (double)packets;
    return 0;
}

/* --------------------------------------------------------- verification */

/* libsodium's bytes for this size: the single-call packet and the batch. */
static void prepare(size_t len)
{
    uint8_t nonce[AEAD_NONCE_LEN];

    crypto_aead_chacha20poly1305_ietf_encrypt(d.one_sealed, NULL, d.plain, len, NULL, 0, NULL,
                                              d.nonce, d.key);
    for (size_t p = 0; p < BATCH; p++) {
        aead_nonce_from_counter(nonce, p);
        crypto_aead_chacha20poly1305_ietf_encrypt(pkt(d.sealed, p), NULL, pkt(d.plain, p), len,
                                                  NULL, 0, NULL, nonce, d.key);
        d.seal_ops[p] = (struct aead_op){ .dst = pkt(d.out, p), .src = pkt(d.plain, p),
                                          .len = len, .counter = p, .key = d.key };
        d.open_ops[p] = (struct aead_op){ .dst = pkt(d.out, p), .src = pkt(d.sealed, p),
                                          .len = len + AEAD_TAG_LEN, .counter = p, .key = d.key };
    }
}

static int seal_one(const struct candidate *c, size_t len)
{
    if (c->kind == RIVAL)
        return c->rival->seal(c->rival, d.out, d.plain, len, d.nonce);
    c->impl->seal(d.out, d.plain, len, NULL, 0, d.nonce, d.key);
    return 0;
}

static int open_one(const struct candidate *c, size_t len)
{
    if (c->kind == RIVAL)
        return c->rival->open(c->rival, d.out, d.one_sealed, len, d.nonce);
    return c->impl->open(d.out, d.one_sealed, len + AEAD_TAG_LEN, NULL, 0, d.nonce, d.key);
}

/* Same bytes as libsodium, opens them, and refuses them with a flipped tag bit. */
static int verify_call(const struct candidate *c, size_t len)
{
    int forged;

    memset(d.out, 0, len + AEAD_TAG_LEN);
    if (seal_one(c, len) != 0 || memcmp(d.out, d.one_sealed, len + AEAD_TAG_LEN) != 0)
        return -1;
    memset(d.out, 0, len);
    if (open_one(c, len) != 0 || memcmp(d.out, d.plain, len) != 0)
        return -1;
    d.one_sealed[len + 3] ^= 0x10;
    forged = open_one(c, len);
    d.one_sealed[len + 3] ^= 0x10;
    return forged != 0 ? 0 : -1;
}

static int verify_batch(const struct candidate *c, size_t len)
{
    if (aead_impl_set(c->impl) != 0)
        return -1;
    aead_seal_batch(d.seal_ops, BATCH);
    for (size_t p = 0; p < BATCH; p++)
        if (d.seal_ops[p].result != 0 ||
            memcmp(pkt(d.out, p), pkt(d.sealed, p), len + AEAD_TAG_LEN) != 0)
            return -1;
    memset(d.out, 0, BATCH * d.stride);
    aead_open_batch(d.open_ops, BATCH);
    for (size_t p = 0; p < BATCH; p++)
        if (d.open_ops[p].result != 0 || memcmp(pkt(d.out, p), pkt(d.plain, p), len) != 0)
            return -1;
    return 0;
}

/* ------------------------------------------------------------- printing */

static double cycles_of(const struct best *b)
{
    return timing_has_counter() ? b->cycles : timing_ns_to_cycles(b->ns);
}

/* Cycles per byte in a 6-wide column, or "n/a" when the clock cannot say. */
static const char *cpb(char *buf, size_t cap, const struct best *b, size_t len)
{
    if (!timing_cycles_valid())
        return "n/a";
    snprintf(buf, cap, "%6.2f", cycles_of(b) / (double)len);
    return buf;
}

static void print_row(const struct candidate *c, size_t si, size_t len)
{
    const struct best *s = &c->seal[si], *o = &c->open[si];
    char sc[32], oc[32];

    printf("%6zu  %-22s %10.1f %7.3f %6s   %10.1f %7.3f %6s\n", len, c->name, s->ns,
           (double)len / s->ns, cpb(sc, sizeof(sc), s, len), o->ns, (double)len / o->ns,
           cpb(oc, sizeof(oc), o, len));
}

/* The candidate of `kind` with the lowest seal + open time at size si. */
static const struct candidate *fastest(const struct candidate *cand, size_t n, enum kind kind,
                                       size_t si)
{
    const struct candidate *best = NULL;

    for (size_t i = 0; i < n; i++) {
        if (cand[i].kind != kind)
            continue;
        if (!best || cand[i].seal[si].ns + cand[i].open[si].ns <
                         best->seal[si].ns + best->open[si].ns)
            best = &cand[i];
    }
    return best;
}

static void print_ratio(const struct candidate *theirs, const struct candidate *ours, size_t si)
{
    printf("  %6.3f %6.3f", theirs->seal[si].ns / ours->seal[si].ns,
           theirs->open[si].ns / ours->open[si].ns);
}

static void print_summary_row(const struct candidate *cand, size_t n, size_t si, size_t len)
{
    const struct candidate *wb = fastest(cand, n, WB_CALL, si);
    const struct candidate *wbb = fastest(cand, n, WB_BATCH, si);
    const struct candidate *other = fastest(cand, n, RIVAL, si);

    printf("%6zu  %-9s", len, wb->impl->name);
    for (size_t i = 0; i < n; i++)
        if (cand[i].kind == RIVAL)
            print_ratio(&cand[i], wb, si);
    printf("   %-9s", other->name);
    print_ratio(other, wb, si);
    printf("   %-9s", wbb->impl->name);
    print_ratio(other, wbb, si);
    putchar('\n');
}

static void print_summary(const struct candidate *cand, size_t n, const struct options *o)
{
    printf("wirebolt's best implementation (lowest seal+open time) against each library:\n"
           "their time / wirebolt's, for seal and open; above 1.000 means wirebolt is faster.\n"
           "The last pair compares wirebolt's best batch (per packet, %d-packet batches)\n"
           "with the best other library's single calls.\n", BATCH);
    printf("%6s  %-9s", "bytes", "wirebolt");
    for (size_t i = 0; i < n; i++)
        if (cand[i].kind == RIVAL)
            printf("  %-13s", cand[i].name);
    printf("   %-24s   %s\n", "best other", "wirebolt batch vs best other");
    printf("%6s  %-9s", "", "best");
    for (size_t i = 0; i < n; i++)
        if (cand[i].kind == RIVAL)
            printf("  %6s %6s", "seal", "open");
    printf("   %-9s  %6s %6s   %-9s  %6s %6s\n", "", "seal", "open", "", "seal", "open");
    for (size_t si = 0; si < o->n_sizes; si++)
        print_summary_row(cand, n, si, o->sizes[si]);
    printf("effective frequency at the end: %.3f GHz\n", timing_ghz());
}

/* ------------------------------------------------------------ the run */

static int bench_size(struct candidate *cand, size_t n, size_t si, const struct options *o)
{
    size_t len = o->sizes[si], target = (size_t)1 << (o->quick ? 18 : 22);
    size_t iters_call = target / (len + 64) + 1, iters_batch = target / (BATCH * (len + 64)) + 1;

    prepare(len);
    for (size_t c = 0; c < n; c++) {
        int bad = cand[c].kind == WB_BATCH ? verify_batch(&cand[c], len)
                                           : verify_call(&cand[c], len);

        if (bad) {
            fprintf(stderr, "%s: wrong at %zu bytes (not libsodium's bytes, or a forged "
                    "tag accepted)\n", cand[c].name, len);
            return -1;
        }
        cand[c].seal[si] = cand[c].open[si] = (struct best){ 1e300, 1e300 };
    }
    for (int r = 0; r < o->reps; r++) {
        timing_calibrate();
        for (size_t c = 0; c < n; c++) {
            size_t iters = cand[c].kind == WB_BATCH ? iters_batch : iters_call;

            if (time_one(&cand[c], si, len, iters, false) != 0 ||
                time_one(&cand[c], si, len, iters, true) != 0)
                return -1;
        }
    }
    for (size_t c = 0; c < n; c++)
        print_row(&cand[c], si, len);
    putchar('\n');
    return 0;
}

/* Every supported wirebolt implementation, then each again through the
 * batch API, then the rivals. */
static size_t collect(struct candidate *cand, const struct rival *rivals, size_t n_rivals)
{
    const struct cpu_features *cpu = cpu_features_get();
    size_t n = 0, n_wb;

    for (size_t i = 0; aead_impl_at(i) && n < MAX_WB_IMPLS; i++) {
        const struct aead_impl *impl = aead_impl_at(i);

        if (!impl->supported(cpu))
            continue;
        cand[n] = (struct candidate){ .kind = WB_CALL, .impl = impl };
        snprintf(cand[n++].name, sizeof(cand[0].name), "wirebolt %s", impl->name);
    }
    n_wb = n;
    for (size_t i = 0; i < n_wb; i++) {
        cand[n] = (struct candidate){ .kind = WB_BATCH, .impl = cand[i].impl };
        snprintf(cand[n++].name, sizeof(cand[0].name), "wirebolt %s x%d", cand[i].impl->name,
                 BATCH);
    }
    for (size_t i = 0; i < n_rivals; i++) {
        cand[n] = (struct candidate){ .kind = RIVAL, .rival = &rivals[i] };
        snprintf(cand[n++].name, sizeof(cand[0].name), "%s", rivals[i].name);
    }
    return n;
}

/* Libraries that could not be loaded, printed with the header. */
static char absent_notes[RIVALS_MAX][400];
static size_t n_absent;

static void note_absent(const char *name, const char *why)
{
    if (n_absent < RIVALS_MAX)
        snprintf(absent_notes[n_absent++], sizeof(absent_notes[0]), "%-10s %s", name, why);
}

static void print_cpu_model(void)
{
    char line[256];
    FILE *f = fopen("/proc/cpuinfo", "r");

    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "model name", 10) == 0 && strchr(line, ':')) {
            printf("cpu:%s", strchr(line, ':') + 1);
            break;
        }
    }
    fclose(f);
}

static void print_header(const struct candidate *cand, size_t n, int pinned,
                         const struct options *o)
{
    const struct cpu_features *cpu = cpu_features_get();

    print_cpu_model();
    printf("cpu features: ssse3=%d avx=%d avx2=%d bmi2=%d adx=%d avx512f=%d avx512vl=%d neon=%d\n",
           cpu->ssse3, cpu->avx, cpu->avx2, cpu->bmi2, cpu->adx, cpu->avx512f, cpu->avx512vl,
           cpu->neon);
    if (pinned >= 0)
        printf("pinned to CPU %d\n", pinned);
    else
        printf("not pinned: %s\n", strerror(-pinned));
    printf("core clock: %s\n", timing_method());
    if (*timing_counter_note())
        printf("  (no counter: %s)\n", timing_counter_note());
    printf("  effective frequency %.3f GHz from a %s", timing_ghz(), timing_chain());
    if (timing_has_counter())
        printf("; the counter measures %.3f cycles per step there", timing_cycles_per_step());
    printf("\n  cross-check: %s\n", timing_calibration_note());
    if (!timing_cycles_valid())
        printf("  %.3f GHz is outside 0.5-7 GHz: cycle figures print as n/a, ns figures stand\n",
               timing_ghz());
    printf("wirebolt implementations here:");
    for (size_t i = 0; i < n; i++)
        if (cand[i].kind == WB_CALL)
            printf(" %s%s", cand[i].impl->name,
                   cand[i].impl->seal_batch || cand[i].impl->open_batch ? " (batch kernel)" : "");
    printf("; \"x%d\" rows: aead_seal_batch/aead_open_batch over %d packets, per packet\n", BATCH,
           BATCH);
    printf("libraries:\n");
    for (size_t i = 0; i < n; i++)
        if (cand[i].kind == RIVAL)
            printf("  %-10s %s\n", cand[i].rival->name, cand[i].rival->about);
    for (size_t i = 0; i < n_absent; i++)
        printf("  %s\n", absent_notes[i]);
}

/* ------------------------------------------------------------ options */

static int parse_sizes(struct options *o, const char *arg)
{
    char *end;

    o->n_sizes = 0;
    while (*arg) {
        unsigned long v = strtoul(arg, &end, 10);

        if (end == arg || v == 0 || v > MAX_SIZE || o->n_sizes == MAX_SIZES)
            return -1;
        o->sizes[o->n_sizes++] = v;
        arg = *end == ',' ? end + 1 : end;
        if (*end && *end != ',')
            return -1;
    }
    return o->n_sizes ? 0 : -1;
}

static int parse_options(struct options *o, int argc, char **argv)
{
    *o = (struct options){ .cpu = -1 };
    memcpy(o->sizes, default_sizes, sizeof(default_sizes));
    o->n_sizes = sizeof(default_sizes) / sizeof(default_sizes[0]);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "--quick") == 0)
            o->quick = true;
        else if (strcmp(a, "--reps") == 0 && v && (o->reps = atoi(v)) > 0)
            i++;
        else if (strcmp(a, "--sizes") == 0 && v && parse_sizes(o, v) == 0)
            i++;
        else if (strcmp(a, "--cpu") == 0 && v && (o->cpu = atoi(v)) >= 0)
            i++;
        else if (strcmp(a, "--clock") == 0 && v && (!strcmp(v, "perf") || !strcmp(v, "loop")))
            o->add_loop = strcmp(argv[++i], "loop") == 0;
        else if (strcmp(a, "--boringssl") == 0 && v)
            o->boringssl = argv[++i];
        else
            return -1;
    }
    if (o->reps <= 0)
        o->reps = o->quick ? 3 : 20;
    return 0;
}

static int alloc_buffers(const struct options *o)
{
    size_t max = 0;

    for (size_t i = 0; i < o->n_sizes; i++)
        if (o->sizes[i] > max)
            max = o->sizes[i];
    d.stride = (max + AEAD_TAG_LEN + 63) & ~(size_t)63;
    d.plain = malloc(BATCH * d.stride);
    d.sealed = malloc(BATCH * d.stride);
    d.out = malloc(BATCH * d.stride);
    d.one_sealed = malloc(d.stride);
    if (!d.plain || !d.sealed || !d.out || !d.one_sealed)
        return -ENOMEM;
    randombytes_buf(d.key, sizeof(d.key));
    randombytes_buf(d.nonce, sizeof(d.nonce));
    randombytes_buf(d.plain, BATCH * d.stride);
    return 0;
}

static void free_buffers(void)
{
    free(d.plain);
    free(d.sealed);
    free(d.out);
    free(d.one_sealed);
}

int main(int argc, char **argv)
{
    static struct candidate cand[MAX_CANDIDATES];
    struct rival rivals[RIVALS_MAX];
    struct options o;
    size_t n, n_rivals;
    int pinned, rc = 0;

    if (parse_options(&o, argc, argv) != 0) {
        fprintf(stderr, "usage: %s [--quick] [--reps N] [--sizes N,N,...] [--cpu N]\n"
                        "       [--clock perf|loop] [--boringssl PATH]\n", argv[0]);
        return 2;
    }
    if (sodium_init() < 0 || alloc_buffers(&o) != 0)
        return 1;
    pinned = timing_pin(o.cpu);
    timing_init(o.add_loop);
    n_rivals = rivals_load(rivals, d.key, o.boringssl, note_absent);
    n = collect(cand, rivals, n_rivals);
    print_header(cand, n, pinned, &o);
    printf("%d repetitions, interleaved; each figure is the fastest one\n\n", o.reps);
    printf("%6s  %-22s %10s %7s %6s   %10s %7s %6s\n", "bytes", "implementation", "seal ns",
           "GB/s", "c/B", "open ns", "GB/s", "c/B");
    for (size_t si = 0; si < o.n_sizes && rc == 0; si++)
        rc = bench_size(cand, n, si, &o);
    if (rc == 0)
        print_summary(cand, n, &o);
    aead_dispatch_init();
    rivals_release(rivals, n_rivals);
    timing_fini();
    free_buffers();
    return rc == 0 ? 0 : 1;
}
