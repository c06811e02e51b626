/* SPDX-License-Identifier: MIT */
/*
 * fuzz_uapi_get.c - libFuzzer harness for the client side of UAPI: the
 * get-reply parser of `wirebolt show` (cli/uapi_get.c, uapi_get_parse) and
 * the wirebolt-stats reply parser beside it (uapi_parse_stats). Both read
 * whatever the process on the other end of /var/run/wireguard/<if>.sock
 * writes, which need not be ours (any wireguard-go, or anything bound
 * there).
 *
 * Every input goes to both parsers, as the whole reply. What is checked,
 * beyond ASan/UBSan:
 *   - get: a reply that parses prints again (uapi_format_get + the errno
 *     line), and that text parses to the same peers (keys in order, same
 *     numbers of allowed IPs), with errno 0;
 *   - stats: a reply that parses prints again (uapi_format_stats) and that
 *     text parses to the same workers, load flag and per-thread counters.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/uapi_get.h"
#include "datapath/uapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The text uapi_format_get made, with the errno line a server appends. */
static char *with_errno_line(char *body, size_t *len)
{
    static const char tail[] = "errno=0\n\n";
    size_t n = strlen(body);
    char *t = malloc(n + sizeof(tail));

    if (!t)
        abort();
    memcpy(t, body, n);
    memcpy(t + n, tail, sizeof(tail));
    *len = n + sizeof(tail) - 1;
    return t;
}

static void same_peers(const struct config *a, const struct config *b)
{
    if (a->n_peers != b->n_peers)
        abort();
    for (size_t i = 0; i < a->n_peers; i++)
        if (memcmp(a->peers[i].public_key, b->peers[i].public_key, sizeof(a->peers[i].public_key)) ||
            a->peers[i].n_allowed_ips != b->peers[i].n_allowed_ips)
            abort();
}

static void fuzz_get(const char *text, size_t len)
{
    struct config c, again;
    char *body, *reply;
    size_t reply_len;

    config_init(&c);
    if (uapi_get_parse(text, len, &c) != 0) {
        config_free(&c);               /* freed (and zeroed) already: a no-op */
        return;
    }
    body = uapi_format_get(&c);
    if (!body)
        abort();
    reply = with_errno_line(body, &reply_len);
    uapi_text_free(body);
    config_init(&again);
    if (uapi_get_parse(reply, reply_len, &again) != 0)
        abort();                       /* what we print, we must read */
    same_peers(&c, &again);
    config_free(&again);
    config_free(&c);
    free(reply);
}

static void same_stats(const struct uapi_stats *a, const struct uapi_stats *b)
{
    if (a->workers != b->workers || a->under_load != b->under_load ||
        a->pool_bytes != b->pool_bytes || a->pkt_room != b->pkt_room ||
        memcmp(&a->handshake, &b->handshake, sizeof(a->handshake)) != 0)
        abort();
    for (unsigned i = 0; i < a->workers && i < UAPI_STATS_MAX_WORKERS; i++)
        if (memcmp(&a->per_worker[i], &b->per_worker[i], sizeof(a->per_worker[i])) != 0)
            abort();
}

static void fuzz_stats(const char *text, size_t len)
{
    static struct uapi_stats s, again;   /* some 20 KiB each */
    char *body, *reply;
    size_t reply_len;

    if (uapi_parse_stats(text, len, &s) != 0)
        return;
    body = uapi_format_stats(&s);
    if (!body)
        abort();
    reply = with_errno_line(body, &reply_len);
    free(body);
    if (uapi_parse_stats(reply, reply_len, &again) != 0)
        abort();
    same_stats(&s, &again);
    free(reply);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_get((const char *)data, size);
    fuzz_stats((const char *)data, size);
    return 0;
}
