/* SPDX-License-Identifier: MIT */
/*
 * peer.h - the protocol state of one remote peer: its handshake, keypairs,
 * cookie maker, timers, staged packets, endpoint and counters. The
 * single-peer tunnel (tunnel.c) embeds one; the multi-peer device will hold
 * many. No I/O and no locking here: the owner's lock covers all of it.
 */
#ifndef WB_PROTO_PEER_H
#define WB_PROTO_PEER_H

#include <stdint.h>

#include "include/wirebolt.h"
#include "proto/cookie.h"
#include "proto/noise.h"
#include "proto/staged.h"
#include "proto/timers.h"

struct peer {
    struct noise_handshake handshake;
    struct noise_keypairs keypairs;
    struct cookie_maker cookie_maker;
    struct timers timers;
    struct staged_queue staged;
    struct wb_endpoint endpoint;          /* last authenticated source */
    uint64_t tx_bytes, rx_bytes;
    uint64_t tx_packets, rx_packets;
    uint64_t handshakes_completed;
    uint64_t last_handshake_mono_ns;      /* 0: never */
    uint64_t last_handshake_realtime_ns;
    uint64_t initiation_sent_ns;          /* for the RTT estimate */
    int32_t rtt_ms;                       /* -1: unknown */
};

#endif
