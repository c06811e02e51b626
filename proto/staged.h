/* SPDX-License-Identifier: MIT */
/*
 * staged.h - packets waiting for a session key: a FIFO of at most
 * MAX_STAGED_PACKETS copies; when full the oldest is dropped. Purged (and
 * wiped: they are plaintext) when the handshake gives up.
 * Concurrency: under the owning peer's lock.
 */
#ifndef WB_PROTO_STAGED_H
#define WB_PROTO_STAGED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/messages.h"

struct staged_packet {
    size_t len;
    uint8_t data[];
};

/* The slots are allocated by the first push and freed when the queue
 * empties: a peer that stages nothing (most of 100,000) pays a pointer,
 * not MAX_STAGED_PACKETS of them. */
struct staged_queue {
    struct staged_packet **slot;   /* MAX_STAGED_PACKETS, or NULL when empty */
    unsigned head;    /* oldest */
    unsigned count;
};

void staged_init(struct staged_queue *q);
/* Copy and append. Returns 0, 1 when the oldest packet was dropped to make
 * room, or -ENOMEM (nothing queued). */
int staged_push(struct staged_queue *q, const uint8_t *data, size_t len);
/* Oldest packet, still queued (NULL if empty). */
const struct staged_packet *staged_peek(const struct staged_queue *q);
/* Drop the oldest (wiped). */
void staged_pop(struct staged_queue *q);
/* Drop all; returns how many were dropped. */
unsigned staged_purge(struct staged_queue *q);
static inline bool staged_empty(const struct staged_queue *q) { return q->count == 0; }

#endif
