/* SPDX-License-Identifier: MIT */
/* staged.c - the per-peer queue of packets waiting for a key (staged.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/random.h"
#include "proto/staged.h"

void staged_init(struct staged_queue *q)
{
    memset(q, 0, sizeof(*q));
}

static void free_packet(struct staged_packet *p)
{
    wb_memzero(p->data, p->len);
    free(p);
}

void staged_pop(struct staged_queue *q)
{
    if (!q->count)
        return;
    free_packet(q->slot[q->head]);
    q->slot[q->head] = NULL;
    q->head = (q->head + 1) % MAX_STAGED_PACKETS;
    if (--q->count == 0) {
        free(q->slot);
        q->slot = NULL;
        q->head = 0;
    }
}

int staged_push(struct staged_queue *q, const uint8_t *data, size_t len)
{
    struct staged_packet *p = malloc(sizeof(*p) + len);
    int dropped = 0;

    if (!p)
        return -ENOMEM;
    if (!q->slot && !(q->slot = calloc(MAX_STAGED_PACKETS, sizeof(*q->slot)))) {
        free(p);
        return -ENOMEM;
    }
    p->len = len;
    if (len)
        memcpy(p->data, data, len);
    if (q->count == MAX_STAGED_PACKETS) {
        staged_pop(q);
        dropped = 1;
    }
    q->slot[(q->head + q->count) % MAX_STAGED_PACKETS] = p;
    q->count++;
    return dropped;
}

const struct staged_packet *staged_peek(const struct staged_queue *q)
{
    return q->count ? q->slot[q->head] : NULL;
}

unsigned staged_purge(struct staged_queue *q)
{
    unsigned n = q->count;

    while (q->count)
        staged_pop(q);
    return n;
}
