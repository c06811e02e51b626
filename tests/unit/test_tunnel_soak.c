/* SPDX-License-Identifier: MIT */
/*
 * test_tunnel_soak.c [hours] - two tunnels over a hostile wire for simulated
 * hours (default 2; the `slow` label runs it for 48).
 *
 * The wire drops, duplicates, delays and reorders datagrams; both sides send
 * numbered IPv4 packets at random and tick every 100 ms of fake time. The
 * run crosses dozens of rekeys (120 s), keepalives and retransmissions.
 * Checked: every delivered packet is byte-identical to one that was sent,
 * no packet is delivered twice (replay protection), delivery keeps going
 * through every phase, and after the hostile phase a clean wire carries
 * every packet within a few seconds.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "include/wirebolt.h"

#define WIRE_CAP 4096
#define PKT_MAX 1500
#define BUF (PKT_MAX + 64)
#define TICK_NS (100ULL * 1000000ULL)

struct fake_clock {
    uint64_t mono, real;
};

static uint64_t mono(void *ctx) { return ((struct fake_clock *)ctx)->mono; }
static uint64_t real(void *ctx) { return ((struct fake_clock *)ctx)->real; }

struct dgram {
    uint64_t due;          /* delivery time */
    int to;                /* 0 or 1 */
    size_t len;
    uint8_t data[BUF];
};

static struct dgram wire[WIRE_CAP];
static size_t wire_n;
static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static struct fake_clock clk = { 1000ULL * 1000000000ULL, 1700000000ULL * 1000000000ULL };
static struct wb_tunnel *tun[2];
static int drop_pct, dup_pct, delay_max_ms;

/* Delivery bookkeeping: packet ids are 32-bit, side in the top bit. */
static uint8_t *seen[2];
static uint32_t next_id[2];
static uint64_t delivered[2], bad_content, duplicates;

static uint32_t rnd(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static void wire_send(int to, const uint8_t *p, size_t len)
{
    int copies = (int)(rnd() % 100) < dup_pct ? 2 : 1;

    if ((int)(rnd() % 100) < drop_pct)
        return;
    for (int c = 0; c < copies && wire_n < WIRE_CAP; c++) {
        struct dgram *d = &wire[wire_n++];
        d->due = clk.mono + (delay_max_ms ? (uint64_t)(rnd() % (unsigned)delay_max_ms) * 1000000ULL : 0);
        d->to = to;
        d->len = len;
        memcpy(d->data, p, len);
    }
}

/* Packet content is a function of (side, id) so any corruption shows. */
static size_t make_packet(uint8_t *p, int side, uint32_t id)
{
    size_t len = 28 + (id * 7919u + (unsigned)side * 31u) % (PKT_MAX - 28);

    memset(p, 0, 20);
    p[0] = 0x45;
    p[2] = (uint8_t)(len >> 8), p[3] = (uint8_t)len;
    p[8] = 64, p[9] = 17;
    memcpy(p + 20, &id, 4);
    p[24] = (uint8_t)side;
    for (size_t i = 25; i < len; i++)
        p[i] = (uint8_t)(id + i * 13 + (unsigned)side);
    return len;
}

static void on_delivered(int receiver, const uint8_t *p, size_t len)
{
    uint8_t expect[BUF];
    uint32_t id;
    int side = 1 - receiver;

    memcpy(&id, p + 20, 4);
    if (len < 28 || id >= next_id[side] || make_packet(expect, side, id) != len ||
        memcmp(expect, p, len) != 0) {
        bad_content++;
        return;
    }
    if (seen[side][id]) {
        duplicates++;
        return;
    }
    seen[side][id] = 1;
    delivered[side]++;
}

/* Feed a result's follow-ups: send network output, drain until done. */
static void handle(int side, struct wb_result r, uint8_t *out)
{
    for (int guard = 0; guard < 300; guard++) {
        if (r.op == WB_WRITE_TO_TUNNEL_IPV4 || r.op == WB_WRITE_TO_TUNNEL_IPV6) {
            on_delivered(side, out, r.size);
            return;
        }
        if (r.op != WB_WRITE_TO_NETWORK)
            return;
        wire_send(1 - side, out, r.size);
        r = wb_tunnel_decapsulate(tun[side], NULL, NULL, 0, out, BUF);
    }
}

static void send_one(int side)
{
    uint8_t p[BUF], out[BUF];
    size_t len = make_packet(p, side, next_id[side]++);

    handle(side, wb_tunnel_encapsulate(tun[side], p, len, out, BUF), out);
}

static void deliver_due(void)
{
    uint8_t out[BUF];
    size_t i = 0;

    while (i < wire_n) {
        /* Pick a random due datagram: reordering among those due. */
        size_t j = i + rnd() % (wire_n - i);
        struct dgram d;

        if (wire[j].due > clk.mono) {
            i++;
            continue;
        }
        d = wire[j];
        wire[j] = wire[--wire_n];
        handle(d.to, wb_tunnel_decapsulate(tun[d.to], NULL, d.data, d.len, out, BUF), out);
    }
}

static void run(uint64_t seconds, int rate_pct)
{
    uint8_t out[BUF];

    for (uint64_t t = 0; t < seconds * 10; t++) {
        for (int side = 0; side < 2; side++)
            for (int k = 0; k < 4; k++)
                if ((int)(rnd() % 100) < rate_pct)
                    send_one(side);
        deliver_due();
        clk.mono += TICK_NS;
        clk.real += TICK_NS;
        for (int side = 0; side < 2; side++)
            handle(side, wb_tunnel_tick(tun[side], out, BUF), out);
        deliver_due();
    }
}

int main(int argc, char **argv)
{
    static const struct wb_clock c = { mono, real, &clk };
    uint8_t k0[32], k1[32], p0[32], p1[32], psk[32];
    struct wb_tunnel_config cfg[2];
    struct wb_tunnel_stats st = { .size = sizeof(st) };
    uint64_t before[2];
    int hours = argc > 1 ? atoi(argv[1]) : 2;

    CHECK(wb_init() == 0);
    seen[0] = calloc(1u << 26, 1), seen[1] = calloc(1u << 26, 1);
    wb_key_generate(k0), wb_key_generate(k1), wb_key_generate_preshared(psk);
    wb_key_public(p0, k0), wb_key_public(p1, k1);
    for (int i = 0; i < 2; i++) {
        memset(&cfg[i], 0, sizeof(cfg[i]));
        cfg[i].size = sizeof(cfg[i]);
        memcpy(cfg[i].private_key, i ? k1 : k0, 32);
        memcpy(cfg[i].peer_public_key, i ? p0 : p1, 32);
        memcpy(cfg[i].preshared_key, psk, 32);
        cfg[i].has_preshared_key = true;
        cfg[i].clock = &c;
        CHECK(wb_tunnel_create(&cfg[i], &tun[i]) == 0);
    }

    /* Phase 1: hostile wire for `hours` simulated hours (30 rekeys each). */
    drop_pct = 10, dup_pct = 5, delay_max_ms = 300;
    for (int slice = 0; slice < hours * 6; slice++) {
        before[0] = delivered[0], before[1] = delivered[1];
        run(600, 20);
        /* Every 10 minutes of hostility still moves traffic both ways. */
        CHECK(delivered[0] > before[0] + 1000);
        CHECK(delivered[1] > before[1] + 1000);
    }
    printf("hostile phase: delivered %llu / %llu and %llu / %llu packets\n",
           (unsigned long long)delivered[0], (unsigned long long)next_id[0],
           (unsigned long long)delivered[1], (unsigned long long)next_id[1]);

    /* Phase 2: silence long enough for keys to be zeroed (540 s). */
    drop_pct = 100;
    run(600, 0);
    wire_n = 0;

    /* Phase 3: a clean wire: every packet sent from now on arrives, exactly
     * once. (Both sides start with no keys, so their initiations may cross
     * and be retried a few times; packets wait staged meanwhile.) */
    /* If the crossings repeat (rare: jitter separates them), more than 128
     * packets may wait, and the oldest are dropped and counted: that is
     * the specified behaviour, so the exact claim is missing == counted. */
    drop_pct = 0, dup_pct = 0, delay_max_ms = 20;
    uint32_t start[2] = { next_id[0], next_id[1] };
    uint64_t overflow[2];
    for (int side = 0; side < 2; side++) {
        CHECK(wb_tunnel_stats(tun[side], &st) == 0);
        overflow[side] = st.drops[WB_DROP_STAGED_OVERFLOW];
    }
    run(70, 20);
    run(20, 0);   /* retries and the last datagrams land */
    for (int side = 0; side < 2; side++) {
        uint64_t missing = 0;

        for (uint32_t id = start[side]; id < next_id[side]; id++)
            missing += !seen[side][id];
        CHECK(wb_tunnel_stats(tun[side], &st) == 0);
        CHECK(missing == st.drops[WB_DROP_STAGED_OVERFLOW] - overflow[side]);
        CHECK(next_id[side] - start[side] > 400);    /* ~560 expected */
    }
    CHECK(bad_content == 0);
    CHECK(duplicates == 0);

    for (int i = 0; i < 2; i++) {
        CHECK(wb_tunnel_stats(tun[i], &st) == 0);
        printf("side %d: handshakes %llu, replay drops %llu, decrypt drops %llu, staged overflow %llu\n",
               i, (unsigned long long)st.handshakes_completed,
               (unsigned long long)st.drops[WB_DROP_REPLAY],
               (unsigned long long)st.drops[WB_DROP_DECRYPT_FAILED],
               (unsigned long long)st.drops[WB_DROP_STAGED_OVERFLOW]);
        CHECK(st.handshakes_completed >= (uint64_t)hours * 25);   /* a rekey every ~2 minutes */
        CHECK(st.drops[WB_DROP_DECRYPT_FAILED] == 0);
        wb_tunnel_destroy(tun[i]);
    }
    free(seen[0]), free(seen[1]);
    return check_summary();
}
