/* SPDX-License-Identifier: MIT */
/*
 * uapi_stats.c - the codec of our own UAPI operation, wirebolt-stats
 * (uapi.h): the reply's text from struct uapi_stats and back, so the
 * server and `wirebolt show` share it, and the offload names.
 */
#include "datapath/uapi.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct stat_field {
    const char *name;
    size_t off;
};

static const struct stat_field worker_fields[] = {
#define WORKER_FIELD(name) { #name, offsetof(struct worker_stats, name) },
    WORKER_STATS(WORKER_FIELD)
#undef WORKER_FIELD
};

#define N_FIELDS(v) (sizeof(v) / sizeof((v)[0]))

static const struct stat_field io_fields[] = {
#define IO_FIELD(name) { #name, offsetof(struct io_linux_stats, name) },
    UAPI_IO_LINUX_STATS(IO_FIELD)
#undef IO_FIELD
};

/* A field added to io_linux.h must be named in UAPI_IO_LINUX_STATS. */
_Static_assert(N_FIELDS(io_fields) * sizeof(uint64_t) == sizeof(struct io_linux_stats),
               "UAPI_IO_LINUX_STATS does not list every field of struct io_linux_stats");
_Static_assert(N_FIELDS(worker_fields) * sizeof(uint64_t) == sizeof(struct worker_stats),
               "struct worker_stats has a field outside WORKER_STATS");

static const struct {
    unsigned bit;
    const char *name;
} offload_names[] = {
#define OFFLOAD_NAME(bit, name) { bit, name },
    UAPI_IO_OFFLOADS(OFFLOAD_NAME)
#undef OFFLOAD_NAME
};

const char *uapi_offload_name(unsigned i)
{
    for (size_t k = 0; i < 32 && k < N_FIELDS(offload_names); k++)
        if (offload_names[k].bit == 1u << i)
            return offload_names[k].name;
    return NULL;
}

static uint64_t *field_at(void *base, const struct stat_field *f)
{
    return (uint64_t *)((char *)base + f->off);
}

static void format_fields(FILE *f, const void *base, const struct stat_field *fields, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s=%" PRIu64 "\n", fields[i].name, *field_at((void *)base, &fields[i]));
}

char *uapi_format_stats(const struct uapi_stats *s)
{
    unsigned workers = s->workers < UAPI_STATS_MAX_WORKERS ? s->workers : UAPI_STATS_MAX_WORKERS;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    if (!f)
        return NULL;
    fprintf(f, "workers=%u\nunder_load=%s\npool_bytes=%" PRIu64 "\npkt_room=%" PRIu64 "\n",
            workers, s->under_load ? "true" : "false", s->pool_bytes, s->pkt_room);
    if (s->has_io) {
        bool first = true;

        fputs("offloads=", f);
        for (unsigned i = 0; i < 32; i++) {
            const char *name = uapi_offload_name(i);

            if (!(s->offloads & (1u << i)) || !name)
                continue;
            fprintf(f, "%s%s", first ? "" : ",", name);
            first = false;
        }
        fputc('\n', f);
    }
    for (unsigned w = 0; w < workers; w++) {
        fprintf(f, "worker=%u\n", w);
        format_fields(f, &s->per_worker[w], worker_fields,
                      N_FIELDS(worker_fields));
    }
    fputs("worker=handshake\n", f);
    format_fields(f, &s->handshake, worker_fields, N_FIELDS(worker_fields));
    if (s->has_io) {
        fputs("io=linux\n", f);
        format_fields(f, &s->io, io_fields, N_FIELDS(io_fields));
    }
    if (s->has_tunnel_drops) {
        fputs("tunnel=drops\n", f);
        for (unsigned r = 0; r < WB_DROP_REASON_COUNT; r++)
            if (uapi_tunnel_drop_name(r))
                fprintf(f, "%s=%" PRIu64 "\n", uapi_tunnel_drop_name(r), s->tunnel_drops[r]);
    }
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* Every counter is a full 64-bit decimal. */
static bool stats_u64(const char *s, uint64_t *out)
{
    return uapi_parse_uint(s, UINT64_MAX, out);
}

/* key=val into the counter of that name in base; unknown names are fine. */
static bool set_field(void *base, const struct stat_field *fields, size_t n, const char *key,
                      const char *val)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(fields[i].name, key) == 0)
            return stats_u64(val, field_at(base, &fields[i]));
    return true;
}

static unsigned parse_offloads(const char *val)
{
    unsigned mask = 0;

    while (*val) {
        size_t n = strcspn(val, ",");

        for (size_t k = 0; k < N_FIELDS(offload_names); k++)
            if (strlen(offload_names[k].name) == n && memcmp(offload_names[k].name, val, n) == 0)
                mask |= offload_names[k].bit;
        val += n;
        if (*val == ',')
            val++;
    }
    return mask;
}

const char *uapi_tunnel_drop_name(unsigned r)
{
    static const char *const names[WB_DROP_REASON_COUNT] = {
#define TUNNEL_DROP_NAME(reason, name) [reason] = name,
        UAPI_TUNNEL_DROPS(TUNNEL_DROP_NAME)
#undef TUNNEL_DROP_NAME
    };

    return r < WB_DROP_REASON_COUNT ? names[r] : NULL;
}

/* A tunnel drop counter by name; unknown names are skipped (a newer
 * server may count more reasons). */
static bool set_tunnel_drop(struct uapi_stats *s, const char *key, const char *val)
{
    for (unsigned r = 0; r < WB_DROP_REASON_COUNT; r++)
        if (uapi_tunnel_drop_name(r) && strcmp(key, uapi_tunnel_drop_name(r)) == 0)
            return stats_u64(val, &s->tunnel_drops[r]);
    return true;
}

enum stats_section { SEC_DEVICE, SEC_WORKER, SEC_IO, SEC_TUNNEL, SEC_SKIP };

struct stats_parse {
    struct uapi_stats *out;
    enum stats_section sec;
    struct worker_stats *w;        /* SEC_WORKER: which */
    bool workers_seen;
};

/* One line, NUL-terminated. Returns 0, 1 for the errno line (*err set),
 * or -EPROTO. */
static int stats_line(struct stats_parse *p, char *line, int *err)
{
    struct uapi_stats *s = p->out;
    const char *key, *val;
    uint64_t v;
    int r = uapi_reply_line(line, &key, &val, err);

    if (r != 0)
        return r;
    if (strcmp(key, "worker") == 0) {
        if (strcmp(val, "handshake") == 0) {
            p->w = &s->handshake;
        } else {
            if (!p->workers_seen || !stats_u64(val, &v) || v >= s->workers)
                return -EPROTO;
            p->w = &s->per_worker[v];
        }
        p->sec = SEC_WORKER;
        return 0;
    }
    if (strcmp(key, "tunnel") == 0) {
        p->sec = strcmp(val, "drops") == 0 ? SEC_TUNNEL : SEC_SKIP;
        s->has_tunnel_drops |= p->sec == SEC_TUNNEL;
        return 0;
    }
    if (strcmp(key, "io") == 0) {
        /* Only the Linux backend's counters are known here. */
        p->sec = strcmp(val, "linux") == 0 ? SEC_IO : SEC_SKIP;
        s->has_io |= p->sec == SEC_IO;
        return 0;
    }
    switch (p->sec) {
    case SEC_WORKER:
        return set_field(p->w, worker_fields, N_FIELDS(worker_fields),
                         key, val) ? 0 : -EPROTO;
    case SEC_IO:
        return set_field(&s->io, io_fields, N_FIELDS(io_fields), key, val)
                   ? 0 : -EPROTO;
    case SEC_TUNNEL:
        return set_tunnel_drop(s, key, val) ? 0 : -EPROTO;
    case SEC_SKIP:
        return 0;
    case SEC_DEVICE:
        break;
    }
    if (strcmp(key, "workers") == 0) {
        if (!stats_u64(val, &v) || v > UAPI_STATS_MAX_WORKERS)
            return -EPROTO;
        s->workers = (unsigned)v;
        p->workers_seen = true;
    } else if (strcmp(key, "under_load") == 0) {
        if (strcmp(val, "true") && strcmp(val, "false"))
            return -EPROTO;
        s->under_load = val[0] == 't';
    } else if (strcmp(key, "pool_bytes") == 0) {
        return stats_u64(val, &s->pool_bytes) ? 0 : -EPROTO;
    } else if (strcmp(key, "pkt_room") == 0) {
        return stats_u64(val, &s->pkt_room) ? 0 : -EPROTO;
    } else if (strcmp(key, "offloads") == 0) {
        s->has_io = true;
        s->offloads = parse_offloads(val);
    }
    return 0;
}

int uapi_parse_stats(const char *text, size_t len, struct uapi_stats *out)
{
    struct stats_parse p = { .out = out, .sec = SEC_DEVICE };
    char *copy = malloc(len + 1), *line, *next;
    int err = 0, ret = -EPROTO;

    memset(out, 0, sizeof(*out));
    if (!copy)
        return -ENOMEM;
    memcpy(copy, text, len);
    copy[len] = '\0';
    for (line = copy; line && *line && *line != '\n'; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        ret = stats_line(&p, line, &err);
        if (ret != 0)
            break;
    }
    free(copy);
    if (ret == 1)                /* the errno line ends the reply */
        ret = err;
    else if (ret == 0)
        ret = -EPROTO;           /* no errno line */
    if (ret != 0)
        memset(out, 0, sizeof(*out));
    return ret;
}

void uapi_stats_total(const struct uapi_stats *s, struct worker_stats *sum)
{
    unsigned workers = s->workers < UAPI_STATS_MAX_WORKERS ? s->workers : UAPI_STATS_MAX_WORKERS;

    memset(sum, 0, sizeof(*sum));
    for (unsigned w = 0; w <= workers; w++) {
        const struct worker_stats *t = w < workers ? &s->per_worker[w] : &s->handshake;
#define WORKER_STAT_SUM(name) sum->name += t->name;
        WORKER_STATS(WORKER_STAT_SUM)
#undef WORKER_STAT_SUM
    }
}
