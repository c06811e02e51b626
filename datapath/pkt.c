/* SPDX-License-Identifier: MIT */
/*
 * pkt.c - packet buffers from the heap: allocation, release and reset for
 * reuse as a receive buffer (the layout is in pkt.h).
 */
#include <stdlib.h>
#include <string.h>

#include "datapath/pkt.h"

struct pkt *pkt_alloc(void)
{
    void *mem = malloc(pkt_size(PKT_DATA_MAX));

    return mem ? pkt_init(mem, PKT_DATA_MAX) : NULL;
}

struct pkt *pkt_init(void *mem, size_t room)
{
    struct pkt *p = mem;

    p->cap = (uint32_t)(PKT_HEADROOM + room + PKT_TAILROOM);
    pkt_reset(p);
    return p;
}

void pkt_free(struct pkt *p)
{
    free(p);
}

/* Besides data and len, clears the queue and the endpoints, so a reused
 * buffer never carries a stale address into the next burst. The payload
 * bytes are left alone (a receive overwrites them). */
void pkt_reset(struct pkt *p)
{
    p->data = p->buf + PKT_HEADROOM;
    p->len = 0;
    p->queue = 0;
    memset(&p->remote, 0, sizeof(p->remote));
    memset(&p->local, 0, sizeof(p->local));
    p->local_ifindex = 0;
}
