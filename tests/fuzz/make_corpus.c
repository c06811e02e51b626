/* SPDX-License-Identifier: MIT */
/*
 * make_corpus.c - writes seed inputs for the fuzz harnesses: valid (or
 * nearly valid) messages for exactly the fixed states the harnesses use
 * (fuzz_common.h), so fuzzing starts deep inside the protocol instead of
 * at the length checks.
 *
 * Usage: make_corpus DIR - creates DIR/<harness>/<seed> (harness names
 * without the fuzz_ prefix). tests/fuzz/corpus/ holds its output, checked
 * in; CTest also regenerates it into the build tree before the fuzz smoke
 * tests, so seeds follow protocol changes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include "check.h"
#include "crypto/aead.h"
#include "crypto/blake2s.h"
#include "datapath/uapi.h"
#include "fuzz_common.h"
#include "proto/packet.h"
#include "vectors/wireguard_messages.h"

#define NO_CTRL (-1)
#define INNER_LEN 64

static const char *out_dir;
static int failures;

static void make_dir(const char *path)
{
    if (mkdir(path, 0755) < 0 && errno != EEXIST) {
        perror(path);
        failures++;
    }
}

/* DIR/harness/name = [ctrl] bytes */
static void seed(const char *harness, const char *name, int ctrl, const uint8_t *msg, size_t len)
{
    char path[1024];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", out_dir, harness);
    make_dir(path);
    snprintf(path, sizeof(path), "%s/%s/%s", out_dir, harness, name);
    f = fopen(path, "wb");
    if (!f || (ctrl != NO_CTRL && fputc(ctrl, f) == EOF) || (len && fwrite(msg, len, 1, f) != 1) ||
        fclose(f) != 0) {
        perror(path);
        failures++;
    }
}

static void seed_hex(const char *harness, const char *name, int ctrl, const char *hex)
{
    uint8_t buf[MESSAGE_INITIATION_LEN];
    size_t n = check_unhex(buf, sizeof(buf), hex);

    seed(harness, name, ctrl, buf, n);
}

static size_t decap(struct wb_tunnel *t, const struct wb_endpoint *from, const uint8_t *src,
                    size_t len, uint8_t *dst)
{
    struct wb_result r = wb_tunnel_decapsulate(t, from, src, len, dst, FUZZ_BUF_LEN);

    return r.op == WB_WRITE_TO_NETWORK ? r.size : 0;
}

/* Control bits of fuzz_decapsulate.c */
enum { TO_B = 1, LOAD = 2, DRAIN = 4, BATCH4 = 0x08 | 0x30, SMALL_DST = 0x80 };

static void corpus_decapsulate(const uint8_t inner[INNER_LEN])
{
    static const char h[] = "decapsulate";
    static uint8_t buf[FUZZ_BUF_LEN], cookie[FUZZ_BUF_LEN];
    struct fuzz_pair p;
    struct wb_result r;
    size_t n;

    fuzz_pair_establish(&p);
    r = wb_tunnel_encapsulate(p.a, inner, INNER_LEN, buf, sizeof(buf));
    seed(h, "data_a_to_b", TO_B, buf, r.size);
    seed(h, "data_a_to_b_batch", TO_B | BATCH4, buf, r.size);
    seed(h, "data_a_to_b_small_dst", TO_B | SMALL_DST | DRAIN, buf, r.size);
    r = wb_tunnel_encapsulate(p.b, inner, INNER_LEN, buf, sizeof(buf));
    seed(h, "data_b_to_a", 0, buf, r.size);
    seed(h, "keepalive_replayed", TO_B, p.keepalive, sizeof(p.keepalive));
    seed(h, "initiation_replayed", TO_B, p.init, sizeof(p.init));
    seed(h, "response_unexpected", 0, p.resp, sizeof(p.resp));
    seed(h, "drain", DRAIN, NULL, 0);

    /* b's cookie secret is the first draw of an input's RNG stream, as in the harness. */
    fuzz_rng_reset(FUZZ_SEED_INPUT);
    wb_tunnel_set_under_load(p.b, true);
    n = decap(p.b, &fuzz_from_a, p.init, sizeof(p.init), cookie);
    wb_tunnel_set_under_load(p.b, false);
    seed(h, "cookie_to_a", 0, cookie, n);
    decap(p.a, &fuzz_from_b, cookie, n, buf);               /* a now holds the cookie */
    r = wb_tunnel_force_handshake(p.a, buf, sizeof(buf));   /* newer, and with mac2 */
    seed(h, "initiation_mac2_under_load", TO_B | LOAD | DRAIN, buf, r.size);
    seed(h, "initiation_new", TO_B | DRAIN, buf, r.size);
    memset(buf + r.size - COOKIE_LEN, 0, COOKIE_LEN);
    seed(h, "initiation_no_mac2_under_load", TO_B | LOAD, buf, r.size);
    seed(h, "garbage", TO_B, (const uint8_t *)"\x04\0\0\0wirebolt", 12);
    fuzz_pair_destroy(&p);
}

static void corpus_noise(const struct fuzz_noise *fx)
{
    struct noise_handshake hs = fx->hs_i_created;
    struct message_handshake_initiation later;
    struct cookie_maker maker = fx->maker_i_sent;
    uint8_t eph[32];

    seed("consume_initiation", "initiation", NO_CTRL, fx->init, sizeof(fx->init));
    seed_hex("consume_initiation", "initiation_mac2", NO_CTRL, WGV_INITIATION_WITH_MAC2);
    check_unhex(eph, sizeof(eph), WGV_INITIATOR_EPHEMERAL_PRIVATE);
    noise_create_initiation(&hs, &later, 1, WGV_REALTIME_NS + NSEC_PER_SEC, eph);
    cookie_add_mac_to_packet(&maker, (uint8_t *)&later, sizeof(later), FUZZ_MONO_START);
    seed("consume_initiation", "initiation_later", NO_CTRL, (const uint8_t *)&later, sizeof(later));

    seed("consume_response", "response", NO_CTRL, fx->resp, sizeof(fx->resp));
    seed_hex("consume_response", "response_other_psk", NO_CTRL, WGV_RESPONSE_NO_PSK);
    seed_hex("consume_cookie", "cookie_reply", NO_CTRL, WGV_COOKIE_REPLY);
    seed_hex("consume_cookie", "cookie_reply_short", NO_CTRL, "03000000a1b2c3d4");
    noise_handshake_wipe(&hs);
}

/* Data messages under the vector session (the responder's keypair opens them). */
static void corpus_data(const struct fuzz_noise *fx, const uint8_t inner[INNER_LEN])
{
    static const uint8_t ipv6[48] = { 0x60, 0, 0, 0, 0, 8, 17, 64 };   /* 8-byte payload */
    struct noise_keypair kp = fx->kp_i;
    struct aead_op op;
    uint8_t buf[256];
    long n;

    seed_hex("consume_data", "keepalive", NO_CTRL, WGV_KEEPALIVE_PSK);
    seed_hex("consume_data", "data_ipv4", NO_CTRL, WGV_DATA_PSK);
    kp.sending_counter = 2;
    n = packet_prepare_create(&kp, ipv6, sizeof(ipv6), DEFAULT_MTU, buf, sizeof(buf), &op);
    aead_seal(op.dst, op.src, op.len, NULL, 0, op.counter, op.key);
    seed("consume_data", "data_ipv6", NO_CTRL, buf, (size_t)n);
    kp.sending_counter = 9000;                                  /* moves the window on */
    n = packet_prepare_create(&kp, inner, 20, DEFAULT_MTU, buf, sizeof(buf), &op);
    aead_seal(op.dst, op.src, op.len, NULL, 0, op.counter, op.key);
    seed("consume_data", "data_truncated_ipv4", NO_CTRL, buf, (size_t)n);
}

/* FFI tunnels: a fresh responder (bit 0 clear) and an initiator in flight. */
static void corpus_boringtun(const struct fuzz_noise *fx)
{
    static const char h[] = "boringtun_read";
    struct message_handshake_response resp;
    struct message_handshake_cookie cookie;
    uint8_t key[32], label[sizeof(LABEL_MAC1) - 1 + 32];
    uint32_t idx = FUZZ_FFI_INDEX << 8;

    seed(h, "initiation_to_responder", 0, fx->init, sizeof(fx->init));
    seed_hex(h, "data_unknown_index", 0, WGV_DATA_PSK);
    seed(h, "tick", 2, NULL, 0);

    /* The vector response, re-addressed to the initiator's handshake, mac1 redone. */
    memcpy(&resp, fx->resp, sizeof(resp));
    for (int i = 0; i < 4; i++)
        ((uint8_t *)&resp.receiver_index)[i] = (uint8_t)(idx >> (8 * i));
    memcpy(label, LABEL_MAC1, sizeof(LABEL_MAC1) - 1);
    memcpy(label + sizeof(LABEL_MAC1) - 1, fx->id_i.public_key, 32);
    blake2s(key, sizeof(key), label, sizeof(label), NULL, 0);
    blake2s(resp.macs.mac1, COOKIE_LEN, (const uint8_t *)&resp, offsetof(struct message_handshake_response, macs),
            key, sizeof(key));
    seed(h, "response_to_initiator", 1, (const uint8_t *)&resp, sizeof(resp));
    check_unhex((uint8_t *)&cookie, sizeof(cookie), WGV_COOKIE_REPLY);
    cookie.receiver_index = resp.receiver_index;
    seed(h, "cookie_to_initiator", 1, (const uint8_t *)&cookie, sizeof(cookie));
}

/* ------------------------------------------------------------ UAPI get */

static void seed_text(const char *harness, const char *name, const char *text)
{
    seed(harness, name, NO_CTRL, (const uint8_t *)text, strlen(text));
}

/* A reply as our server writes it: the formatter's body + the errno line. */
static void seed_reply(const char *name, char *body)
{
    size_t n = body ? strlen(body) : 0;
    char *t = malloc(n + 16);

    if (!body || !t) {
        failures++;
        free(t);
        return;
    }
    memcpy(t, body, n);
    strcpy(t + n, "errno=0\n\n");
    seed_text("uapi_get", name, t);
    free(t);
}

static void prefix(struct config_peer *cp, const char *s)
{
    struct config_prefix pr;

    CHECK(config_prefix_parse(&pr, s) == 0);
    CHECK(config_prefixes_add(&cp->allowed_ips, &cp->n_allowed_ips, &pr) == 0);
}

static void corpus_uapi_get(const struct fuzz_noise *fx)
{
    static struct uapi_stats st;
    struct config c;
    struct config_peer *p;
    char *text;

    config_init(&c);
    c.has_private_key = true;
    memcpy(c.private_key, fx->id_r.private_key, 32);
    c.has_listen_port = true;
    c.listen_port = 51820;
    c.has_fwmark = true;
    c.fwmark = 0xca6c;
    p = config_add_peer(&c);
    memcpy(p->public_key, fx->id_i.public_key, 32);
    p->has_preshared_key = true;
    memset(p->preshared_key, 0x11, 32);
    CHECK(config_endpoint_parse(p, "192.0.2.1:51820") == 0);
    p->has_stats = true;
    p->last_handshake_time_sec = 1700000000;
    p->last_handshake_time_nsec = 123456789;
    p->rx_bytes = 4242;
    p->tx_bytes = 1 << 20;
    p->has_persistent_keepalive = true;
    p->persistent_keepalive = 25;
    prefix(p, "10.0.0.2/32");
    prefix(p, "fd00::2/128");
    p = config_add_peer(&c);
    memset(p->public_key, 0x5a, 32);
    CHECK(config_endpoint_parse(p, "[2001:db8::1]:443") == 0);
    prefix(p, "0.0.0.0/0");
    prefix(p, "::/0");
    text = uapi_format_get(&c);
    seed_reply("get_two_peers", text);
    uapi_text_free(text);
    config_free(&c);
    seed_text("uapi_get", "errno_only", "errno=0\n\n");
    seed_text("uapi_get", "errno_failed", "errno=-2\n\n");
    seed_text("uapi_get", "unknown_key", "future_key=1\npublic_key="
              "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a\n"
              "protocol_version=1\nallowed_ip=10.1.0.0/16\nerrno=0\n\n");

    memset(&st, 0, sizeof(st));
    st.workers = 2;
    st.under_load = true;
    st.pool_bytes = 9 << 20;
    st.pkt_room = 1792;
    st.per_worker[0].rx_datagrams = 100;
    st.per_worker[1].tx_datagrams = 7;
    st.handshake.ratelimited = 3;
    st.has_io = true;
    st.offloads = 3;
    text = uapi_format_stats(&st);
    seed_reply("stats", text);
    free(text);
}

/* ------------------------------------------------------------- netlink */

/* One fuzz_netlink input under construction: mode, table, datagrams. */
struct nl_seed {
    uint8_t b[4096];
    size_t n;
    size_t dg;                     /* where the open datagram's length goes */
};

static void nl_start(struct nl_seed *s, uint8_t mode, uint32_t table)
{
    s->n = 0;
    s->b[s->n++] = mode;
    for (int i = 0; i < 4; i++)
        s->b[s->n++] = (uint8_t)(table >> (8 * i));
}

/* A new datagram; messages go in with nl_msg. */
static void nl_datagram(struct nl_seed *s)
{
    s->dg = s->n;
    s->b[s->n++] = 0, s->b[s->n++] = 0;
}

static struct nlmsghdr *nl_msg(struct nl_seed *s, uint16_t type, uint16_t flags)
{
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(s->b + s->n);

    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = flags;
    nlh->nlmsg_seq = 1;
    nlh->nlmsg_pid = FUZZ_NETLINK_PORTID;
    return nlh;
}

/* Close the message nlh (the datagram's length grows by it). */
static void nl_end(struct nl_seed *s, struct nlmsghdr *nlh)
{
    size_t len;

    s->n += NLMSG_ALIGN(nlh->nlmsg_len);
    len = s->n - s->dg - 2;
    s->b[s->dg] = (uint8_t)len, s->b[s->dg + 1] = (uint8_t)(len >> 8);
}

static void nl_ack(struct nl_seed *s, int error)
{
    struct nlmsghdr *nlh;
    struct nlmsgerr *e;

    nl_datagram(s);
    nlh = nl_msg(s, NLMSG_ERROR, 0);
    e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
    e->error = error;
    e->msg.nlmsg_len = sizeof(e->msg);
    e->msg.nlmsg_seq = 1;
    nl_end(s, nlh);
}

static void nl_done(struct nl_seed *s)
{
    struct nlmsghdr *nlh;

    nl_datagram(s);
    nlh = nl_msg(s, NLMSG_DONE, NLM_F_MULTI);
    mnl_nlmsg_put_extra_header(nlh, sizeof(int));
    nl_end(s, nlh);
}

static void nl_link(struct nl_seed *s)
{
    struct nlmsghdr *nlh = nl_msg(s, RTM_NEWLINK, 0);
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = 7;
    ifi->ifi_flags = IFF_UP | IFF_RUNNING;
    mnl_attr_put_strz(nlh, IFLA_IFNAME, "wg0");
    mnl_attr_put_u32(nlh, IFLA_MTU, 1420);
    nl_end(s, nlh);
}

static void nl_route(struct nl_seed *s, uint32_t table, uint8_t dst_len, uint32_t mtu, bool multi)
{
    static const uint8_t dst[4] = { 192, 0, 2, 1 };
    struct nlmsghdr *nlh = nl_msg(s, RTM_NEWROUTE, multi ? NLM_F_MULTI : 0);
    struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
    struct nlattr *nest;

    rtm->rtm_family = AF_INET;
    rtm->rtm_dst_len = dst_len;
    rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
    rtm->rtm_type = RTN_UNICAST;
    mnl_attr_put_u32(nlh, RTA_TABLE, table);
    if (dst_len)
        mnl_attr_put(nlh, RTA_DST, sizeof(dst), dst);
    mnl_attr_put_u32(nlh, RTA_OIF, 7);
    if (mtu) {
        nest = mnl_attr_nest_start(nlh, RTA_METRICS);
        mnl_attr_put_u32(nlh, RTAX_MTU, mtu);
        mnl_attr_nest_end(nlh, nest);
    }
    nl_end(s, nlh);
}

static void corpus_netlink(void)
{
    static const char h[] = "netlink";
    struct nl_seed s;

    nl_start(&s, 0, 0);            /* netlink_link_get: the link, then the ACK */
    nl_datagram(&s);
    nl_link(&s);
    nl_ack(&s, 0);
    seed(h, "link", NO_CTRL, s.b, s.n);
    nl_start(&s, 0, 0);
    nl_ack(&s, -ENODEV);
    seed(h, "link_enodev", NO_CTRL, s.b, s.n);

    nl_start(&s, 1, 51820);        /* table used: main, then 51820, one datagram */
    nl_datagram(&s);
    nl_route(&s, RT_TABLE_MAIN, 24, 0, true);
    nl_route(&s, 51820, 0, 1400, true);
    nl_done(&s);
    seed(h, "routes_table_used", NO_CTRL, s.b, s.n);

    nl_start(&s, 2, 0);            /* default MTU: main's default route */
    nl_datagram(&s);
    nl_route(&s, RT_TABLE_MAIN, 0, 1500, true);
    nl_done(&s);
    seed(h, "routes_default", NO_CTRL, s.b, s.n);

    nl_start(&s, 3 | 4, 0);        /* route MTU: one answer (port id 0) */
    nl_datagram(&s);
    nl_route(&s, RT_TABLE_MAIN, 32, 1380, false);
    seed(h, "route_get", NO_CTRL, s.b, s.n);
}

/* ------------------------------------------------------------- device */

/* One fuzz_device input: operation codes and their arguments. */
struct ops {
    uint8_t b[512];
    size_t n;
};

static void put(struct ops *o, int n, ...)
{
    va_list ap;

    va_start(ap, n);
    for (int i = 0; i < n; i++)
        o->b[o->n++] = (uint8_t)va_arg(ap, int);
    va_end(ap);
}

static void put_bytes(struct ops *o, const void *p, size_t n)
{
    memcpy(o->b + o->n, p, n);
    o->n += n;
}

/* The rest of an argument of n bytes whose first k were put already. */
static void put_zeros(struct ops *o, size_t n, size_t k)
{
    memset(o->b + o->n, 0, n - k);
    o->n += n - k;
}

/* fuzz_device's source and address selectors (see its header comment). */
enum { SRC_C0, SRC_C1, SRC_P2, SRC_V4, SRC_V6, SRC_SELF };
enum { AD_DEV, AD_C0, AD_C1, AD_P2, AD_P3, AD_NONE };

static void seed_ops(const char *name, const struct ops *o)
{
    seed("device", name, NO_CTRL, o->b, o->n);
}

static void corpus_device(void)
{
    static const char payload[] = "wirebolt";
    struct ops o;

    /* Client 0's handshake, then data both families, from its own address. */
    o.n = 0;
    put(&o, 2, FUZZ_OP_INIT, 0);
    put(&o, 5, FUZZ_OP_DATA, 0, AD_C0, AD_DEV, 8), put_bytes(&o, payload, 8);
    put(&o, 5, FUZZ_OP_DATA, 2, AD_C0, AD_DEV, 8), put_bytes(&o, payload, 8);
    seed_ops("handshake_data", &o);

    /* Decrypted fine, but the source is not the sender's: cryptokey routing. */
    o.n = 0;
    put(&o, 2, FUZZ_OP_INIT, 1);
    put(&o, 5, FUZZ_OP_DATA, 1, AD_C0, AD_DEV, 4), put_bytes(&o, payload, 4);
    put(&o, 5, FUZZ_OP_DATA, 3, AD_P2, AD_DEV, 4), put_bytes(&o, payload, 4);
    put(&o, 5, FUZZ_OP_DATA, 1, 6, AD_DEV, 0), put(&o, 4, 10, 0, 0, 200);
    seed_ops("source_not_allowed", &o);

    /* Under load: cookies for client 0, rate limits for the flood's source. */
    o.n = 0;
    put(&o, 2, FUZZ_OP_LOAD, 0);
    put(&o, 2, FUZZ_OP_INIT, 0);
    put(&o, 2, FUZZ_OP_INIT, 0);
    put(&o, 5, FUZZ_OP_DATA, 0, AD_C0, AD_DEV, 0);
    seed_ops("load_cookies_ratelimit", &o);
    o.n = 0;
    put(&o, 2, FUZZ_OP_LOAD, 1);
    put(&o, 2, FUZZ_OP_INIT, 1 | 4);
    seed_ops("load_spread", &o);

    /* The device's side: packets to each peer and to nobody. */
    o.n = 0;
    for (int dst = AD_C0; dst <= AD_NONE; dst++) {
        put(&o, 5, FUZZ_OP_TUN_IP, 0, AD_DEV, dst, 4), put_bytes(&o, payload, 4);
        put(&o, 5, FUZZ_OP_TUN_IP, 2, AD_DEV, dst, 4), put_bytes(&o, payload, 4);
    }
    put(&o, 4, FUZZ_OP_TUN, 3, 0, 0x45), put(&o, 2, 0, 0);
    seed_ops("tun_to_peers", &o);

    /* Messages at the device's index: data (16 bytes past the minimum), a
     * response, a cookie reply (their lengths are fixed: len16 unused). */
    o.n = 0;
    put(&o, 2, FUZZ_OP_INIT, 0);
    put(&o, 5, FUZZ_OP_INDEX, 0, 0, 16, 0), put(&o, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1);
    put_zeros(&o, MESSAGE_MINIMUM_LENGTH + 16, 9);
    put(&o, 5, FUZZ_OP_INDEX, 0, 1, 0, 0), put_zeros(&o, MESSAGE_RESPONSE_LEN, 0);
    put(&o, 5, FUZZ_OP_INDEX, 0, 2, 0, 0), put_zeros(&o, MESSAGE_COOKIE_LEN, 0);
    seed_ops("at_device_index", &o);

    /* Datagrams from strangers: every type, right and wrong lengths. */
    o.n = 0;
    put(&o, 4, FUZZ_OP_UDP, SRC_V4, 148, 0), put(&o, 1, 1), put_zeros(&o, 148, 1);
    put(&o, 4, FUZZ_OP_UDP, SRC_V6, 92, 0), put(&o, 1, 2), put_zeros(&o, 92, 1);
    put(&o, 4, FUZZ_OP_UDP, SRC_V4, 64, 0), put(&o, 1, 3), put_zeros(&o, 64, 1);
    put(&o, 4, FUZZ_OP_UDP, SRC_SELF, 48, 0), put(&o, 8, 4, 0, 0, 0, 1, 2, 3, 4);
    put_zeros(&o, 48, 8);
    put(&o, 4, FUZZ_OP_UDP, SRC_P2, 3, 0), put(&o, 3, 1, 0, 0);
    seed_ops("udp_strangers", &o);

    /* An initiation with fuzzed fields behind a good mac1; roaming; twice. */
    o.n = 0;
    put(&o, 5, FUZZ_OP_INIT, 2, 8, 4, 0xff), put(&o, 3, 0, 0, 1);
    put(&o, 2, FUZZ_OP_INIT, 4 | 8);
    seed_ops("init_mutated_roaming", &o);

    /* Timers: a session, then time: keepalives, rekeys, expiry. */
    o.n = 0;
    put(&o, 2, FUZZ_OP_INIT, 0);
    put(&o, 5, FUZZ_OP_DATA, 0, AD_C0, AD_DEV, 0);
    put(&o, 2, FUZZ_OP_TIME, 100);             /* 10 s */
    put(&o, 2, FUZZ_OP_TICK, 0);
    put(&o, 2, FUZZ_OP_TIME, 128 + 24);        /* 125 s */
    put(&o, 5, FUZZ_OP_TUN_IP, 0, AD_DEV, AD_C0, 0);
    put(&o, 2, FUZZ_OP_TIME, 255);
    seed_ops("timers", &o);

    /* Live changes under traffic. */
    o.n = 0;
    put(&o, 2, FUZZ_OP_INIT, 0);
    put(&o, 4, FUZZ_OP_CONFIG, 0, 0, 24), put(&o, 4, 10, 7, 0, 0);
    put(&o, 5, FUZZ_OP_DATA, 0, 6, AD_DEV, 0), put(&o, 4, 10, 7, 0, 9);
    put(&o, 3, FUZZ_OP_CONFIG, 1, SRC_V4);
    put(&o, 5, FUZZ_OP_TUN_IP, 0, AD_DEV, AD_C1, 0);
    put(&o, 3, FUZZ_OP_CONFIG, 2, 0);
    put(&o, 2, FUZZ_OP_TIME, 30);
    put(&o, 2, FUZZ_OP_CONFIG, 3);
    put(&o, 2, FUZZ_OP_INIT, 0);
    put(&o, 2, FUZZ_OP_CONFIG, 4);
    put(&o, 5, FUZZ_OP_TUN_IP, 0, AD_DEV, AD_P3, 0);
    seed_ops("config_live", &o);

    /* Replays, lost answers, raw inner packets. */
    o.n = 0;
    put(&o, 2, FUZZ_OP_INIT, 1);
    put(&o, 5, FUZZ_OP_DATA, 1, AD_C1, AD_DEV, 0);
    put(&o, 3, FUZZ_OP_REPLAY, 1, SRC_C1);
    put(&o, 3, FUZZ_OP_REPLAY, 1, SRC_V4);
    put(&o, 1, FUZZ_OP_LOSSY);
    put(&o, 2, FUZZ_OP_INIT, 1);
    put(&o, 1, FUZZ_OP_LOSSY);
    put(&o, 4, FUZZ_OP_INNER, 1, 3, 0), put(&o, 3, 0x45, 0, 3);
    put(&o, 4, FUZZ_OP_INNER, 1, 40, 0), put(&o, 2, 0x60, 0);
    seed_ops("replay_lossy_inner", &o);
}

int main(int argc, char **argv)
{
    static struct fuzz_noise fx;
    uint8_t inner[INNER_LEN];

    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    out_dir = argv[1];
    make_dir(out_dir);
    fuzz_rng_install();
    check_unhex(inner, sizeof(inner), WGV_INNER_IPV4);
    fuzz_noise_setup(&fx);
    corpus_decapsulate(inner);
    corpus_noise(&fx);
    corpus_data(&fx, inner);
    corpus_boringtun(&fx);
    corpus_uapi_get(&fx);
    corpus_netlink();
    corpus_device();
    return failures || check_failed ? 1 : 0;
}
