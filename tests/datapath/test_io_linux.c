/* SPDX-License-Identifier: MIT */
/*
 * test_io_linux.c - the Linux I/O backend and rtnetlink configuration in a
 * private network namespace: links, addresses, routes and wg-quick's policy
 * rules set through netlink.c and read back; IP packets through the TUN in
 * both directions; UDP datagrams with their endpoints and chosen sources;
 * wait/wake; set_listen; two queues. Needs root (exit 77 otherwise); no
 * packet leaves the namespace, which disappears with the process.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <unistd.h>

#include "check.h"
#include "datapath/io_harness.h"
#include "datapath/io_linux.h"
#include "datapath/netlink.h"

#define TABLE 51820
#define POOL 64

static struct pkt *pool[POOL];

/* ---------------------------------------------------------------- helpers */

static void reset_pool(void)
{
    for (unsigned i = 0; i < POOL; i++)
        pkt_reset(pool[i]);
}

static struct netlink_prefix prefix(const char *addr, unsigned len)
{
    struct netlink_prefix p = { .len = (uint8_t)len };

    p.family = strchr(addr, ':') ? AF_INET6 : AF_INET;
    if (inet_pton(p.family, addr, p.addr) != 1)
        abort();
    return p;
}

/* Run a shell command (the `ip` tool, reading back only); true when its
 * output contains every needle. */
static bool output_has(const char *cmd, const char *needle1, const char *needle2)
{
    char out[8192];
    size_t n = 0;
    FILE *f = popen(cmd, "r");

    if (!f)
        return false;
    n = fread(out, 1, sizeof(out) - 1, f);
    pclose(f);
    out[n] = '\0';
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
        if (strstr(line, needle1) && (!needle2 || strstr(line, needle2)))
            return true;
    return false;
}

/* ---------------------------------------------------------------- IP packets */

static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    return sum;
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* An IPv4 or IPv6 UDP packet into p; returns its length. */
static uint32_t build_udp(struct pkt *p, const char *src, const char *dst, uint16_t sport,
                          uint16_t dport, const char *payload)
{
    bool v6 = strchr(src, ':') != NULL;
    size_t ip_len = v6 ? 40 : 20, alen = v6 ? 16 : 4, plen = strlen(payload);
    uint8_t *ip = p->data, *udp = p->data + ip_len;
    uint16_t ulen = (uint16_t)(8 + plen);
    uint32_t sum;

    memset(ip, 0, ip_len + 8);
    inet_pton(v6 ? AF_INET6 : AF_INET, src, ip + (v6 ? 8 : 12));
    inet_pton(v6 ? AF_INET6 : AF_INET, dst, ip + (v6 ? 24 : 16));
    if (v6) {
        ip[0] = 0x60;
        put16(ip + 4, ulen);
        ip[6] = IPPROTO_UDP;
        ip[7] = 64;
    } else {
        ip[0] = 0x45;
        put16(ip + 2, (uint16_t)(20 + ulen));
        ip[8] = 64;
        ip[9] = IPPROTO_UDP;
        put16(ip + 10, fold(sum16(0, ip, 20)));
    }
    put16(udp, sport);
    put16(udp + 2, dport);
    put16(udp + 4, ulen);
    memcpy(udp + 8, payload, plen);
    /* Pseudo-header: both addresses, protocol, UDP length. */
    sum = sum16(0, ip + (v6 ? 8 : 12), 2 * alen) + IPPROTO_UDP + ulen;
    sum = sum16(sum, udp, ulen);
    put16(udp + 6, fold(sum) ? fold(sum) : 0xffff);
    p->len = (uint32_t)(ip_len + ulen);
    return p->len;
}

/* Is p a UDP packet to dst:dport carrying payload? */
static bool is_udp_to(const struct pkt *p, const char *dst, uint16_t dport, const char *payload)
{
    bool v6 = strchr(dst, ':') != NULL;
    size_t ip_len = v6 ? 40 : 20, alen = v6 ? 16 : 4, plen = strlen(payload);
    uint8_t want[16];
    const uint8_t *d = p->data;

    inet_pton(v6 ? AF_INET6 : AF_INET, dst, want);
    if (p->len != ip_len + 8 + plen || (d[0] >> 4) != (v6 ? 6 : 4))
        return false;
    if (d[v6 ? 6 : 9] != IPPROTO_UDP || memcmp(d + (v6 ? 24 : 16), want, alen))
        return false;
    return (d[ip_len + 2] << 8 | d[ip_len + 3]) == dport &&
           memcmp(d + ip_len + 8, payload, plen) == 0;
}

/* Read the TUN queue until the wanted packet shows up (other traffic,
 * such as IPv6 router solicitations, is skipped). */
static bool tun_expect(struct io_backend *io, unsigned q, const char *dst, uint16_t dport,
                       const char *payload)
{
    for (int step = 0; step < WAIT_STEPS; step++) {
        int n;

        reset_pool();
        n = io->ops->tun_rx_burst(io, q, pool, POOL);
        for (int i = 0; i < n; i++)
            if (is_udp_to(pool[i], dst, dport, payload) && pool[i]->queue == q)
                return true;
        if (n <= 0)
            io->ops->wait(io, q, WAIT_STEP_MS);
    }
    return false;
}

/* Collect at least want datagrams from a UDP queue into pool[0..), with
 * bursts that offer all the free buffers. */
static int udp_collect(struct io_backend *io, unsigned q, int want)
{
    int got = 0;

    reset_pool();
    for (int step = 0; step < WAIT_STEPS && got < want; step++) {
        int n = io->ops->udp_rx_burst(io, q, pool + got, (unsigned)(POOL - got));

        if (n < 0)
            return n;
        got += n;
        if (got < want)
            io->ops->wait(io, q, WAIT_STEP_MS);
    }
    return got;
}

/* ---------------------------------------------------------------- netlink */

static void test_links(struct io_backend *io, const char *name)
{
    struct netlink_link link;
    int ifindex = io_linux_tun_ifindex(io);
    char cmd[128];

    CHECK(strncmp(name, "wbt", 3) == 0 && strcmp(name, io_linux_tun_name(io)) == 0);
    CHECK(ifindex > 0 && (unsigned)ifindex == if_nametoindex(name));
    CHECK(netlink_link_index(name) == ifindex);
    CHECK(netlink_link_index("nosuchlink0") == -ENODEV);
    CHECK(netlink_link_index("") == -EINVAL);
    CHECK(netlink_link_index("a-name-far-too-long") == -EINVAL);

    CHECK(netlink_link_set_mtu(ifindex, 1420) == 0);
    CHECK(netlink_link_set_mtu(ifindex, 10) == -EINVAL);
    CHECK(netlink_link_set_up(ifindex, true) == 0);
    CHECK(netlink_link_get(name, &link) == 0);
    CHECK(link.ifindex == ifindex && link.mtu == 1420 && (link.flags & IFF_UP));
    CHECK(strcmp(link.name, name) == 0);
    snprintf(cmd, sizeof(cmd), "ip -o link show dev %s", name);
    CHECK(output_has(cmd, "mtu 1420", ",UP"));
    CHECK(netlink_link_set_up(ifindex, false) == 0);
    CHECK(netlink_link_get(name, &link) == 0 && !(link.flags & IFF_UP));
    CHECK(netlink_link_set_up(ifindex, true) == 0);
    CHECK(netlink_link_get(name, &link) == 0 && (link.flags & IFF_UP));
}

static void test_addresses(int ifindex, const char *name)
{
    struct netlink_prefix a4 = prefix("10.77.0.1", 24), a6 = prefix("fd77::1", 64);
    struct netlink_prefix extra = prefix("10.77.9.1", 32), bad = a4;
    char cmd[128];

    CHECK(netlink_addr_add(ifindex, &a4) == 0);
    CHECK(netlink_addr_add(ifindex, &a6) == 0);
    CHECK(netlink_addr_add(ifindex, &a4) == -EEXIST);
    bad.len = 33;
    CHECK(netlink_addr_add(ifindex, &bad) == -EINVAL);
    CHECK(netlink_addr_add(9999, &extra) == -ENODEV);
    snprintf(cmd, sizeof(cmd), "ip -o -4 addr show dev %s", name);
    CHECK(output_has(cmd, "inet 10.77.0.1/24", NULL));
    snprintf(cmd, sizeof(cmd), "ip -o -6 addr show dev %s", name);
    CHECK(output_has(cmd, "inet6 fd77::1/64", NULL));

    CHECK(netlink_addr_add(ifindex, &extra) == 0);
    snprintf(cmd, sizeof(cmd), "ip -o -4 addr show dev %s", name);
    CHECK(output_has(cmd, "inet 10.77.9.1/32", NULL));
    CHECK(netlink_addr_del(ifindex, &extra) == 0);
    CHECK(!output_has(cmd, "inet 10.77.9.1/32", NULL));
    CHECK(netlink_addr_del(ifindex, &extra) < 0);
}

static void test_routes(int ifindex, const char *name)
{
    struct netlink_prefix r4 = prefix("10.79.1.2", 16), r6 = prefix("fd79::", 64);
    char want4[64], want6[64];

    snprintf(want4, sizeof(want4), "10.79.0.0/16 dev %s", name);
    snprintf(want6, sizeof(want6), "fd79::/64 dev %s", name);
    CHECK(netlink_route_add(&r4, ifindex, TABLE) == 0);   /* host bits cleared */
    CHECK(netlink_route_add(&r6, ifindex, TABLE) == 0);
    CHECK(netlink_route_add(&r4, ifindex, TABLE) == -EEXIST);
    CHECK(netlink_route_add(&r4, 9999, TABLE) == -ENODEV);
    CHECK(output_has("ip -4 route show table 51820", want4, NULL));
    CHECK(output_has("ip -6 route show table 51820", want6, NULL));
    CHECK(!output_has("ip -4 route show table main", "10.79.0.0/16", NULL));
    CHECK(netlink_route_del(&r4, ifindex, TABLE) == 0);
    CHECK(netlink_route_del(&r6, ifindex, TABLE) == 0);
    CHECK(!output_has("ip -4 route show table 51820", want4, NULL));
    CHECK(!output_has("ip -6 route show table 51820", want6, NULL));
    CHECK(netlink_route_del(&r4, ifindex, TABLE) == -ESRCH);

    /* A small table number travels in the header too. */
    r4 = prefix("10.78.0.0", 16);
    CHECK(netlink_route_add(&r4, ifindex, RT_TABLE_MAIN) == 0);
    snprintf(want4, sizeof(want4), "10.78.0.0/16 dev %s", name);
    CHECK(output_has("ip -4 route show table main", want4, NULL));
}

/* wg-quick's two rules for one family, at priorities 100 and 99. */
static void wg_quick_rules(int family, struct netlink_rule *not_mark, struct netlink_rule *suppress)
{
    *not_mark = (struct netlink_rule){ .family = family, .has_priority = true, .priority = 100,
                                       .table = TABLE, .fwmark = TABLE, .invert = true,
                                       .suppress_prefixlen = -1 };
    *suppress = (struct netlink_rule){ .family = family, .has_priority = true, .priority = 99,
                                       .table = RT_TABLE_MAIN, .suppress_prefixlen = 0 };
}

static void test_rule_readback(void)
{
    static const char *const show[2] = { "ip -4 rule show", "ip -6 rule show" };
    struct netlink_rule nm, sup;

    for (int i = 0; i < 2; i++) {
        wg_quick_rules(i ? AF_INET6 : AF_INET, &nm, &sup);
        CHECK(netlink_rule_add(&nm) == 0);
        CHECK(netlink_rule_add(&sup) == 0);
        CHECK(netlink_rule_add(&nm) == -EEXIST);
        /* fwmark 51820 = 0xca6c */
        CHECK(output_has(show[i], "100:\tnot ", "fwmark 0xca6c lookup 51820"));
        CHECK(output_has(show[i], "99:", "lookup main suppress_prefixlength 0"));
        CHECK(netlink_rule_del(&nm) == 0);
        CHECK(netlink_rule_del(&sup) == 0);
        CHECK(!output_has(show[i], "100:", "lookup 51820"));
        CHECK(!output_has(show[i], "99:", "suppress_prefixlength"));
        CHECK(netlink_rule_del(&nm) < 0);
    }
    nm.table = 0;
    CHECK(netlink_rule_add(&nm) == -EINVAL);
}

/* The rules steer for real: without the mark a packet to 192.0.2.7 takes
 * table 51820 (default route into the TUN); with it, the main table,
 * which has no default route in this namespace. */
static void test_rule_behaviour(struct io_backend *io)
{
    struct netlink_prefix any = prefix("0.0.0.0", 0);
    struct netlink_rule nm, sup;
    int ifindex = io_linux_tun_ifindex(io);
    int plain = plain_socket("0.0.0.0", 0), marked = plain_socket("0.0.0.0", 0);
    int mark = TABLE;

    wg_quick_rules(AF_INET, &nm, &sup);
    CHECK(netlink_route_add(&any, ifindex, TABLE) == 0);
    CHECK(netlink_rule_add(&nm) == 0 && netlink_rule_add(&sup) == 0);
    CHECK(setsockopt(marked, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) == 0);
    CHECK(send_to(plain, "192.0.2.7", 4242, "steered", 7) == 7);
    CHECK(tun_expect(io, 0, "192.0.2.7", 4242, "steered"));
    errno = 0;
    CHECK(send_to(marked, "192.0.2.7", 4242, "escaped", 7) < 0 && errno == ENETUNREACH);
    CHECK(netlink_rule_del(&nm) == 0 && netlink_rule_del(&sup) == 0);
    CHECK(netlink_route_del(&any, ifindex, TABLE) == 0);
    close(plain);
    close(marked);
}

/* ---------------------------------------------------------------- TUN */

static void test_tun_tx(struct io_backend *io)
{
    int s4 = plain_socket("10.77.0.1", 5000), s6 = plain_socket("fd77::1", 5001);
    struct io_linux_stats st;
    char buf[64], from[INET6_ADDRSTRLEN];
    uint16_t port = 0;

    reset_pool();
    build_udp(pool[0], "10.77.0.2", "10.77.0.1", 4000, 5000, "to-v4");
    CHECK(io->ops->tun_tx_burst(io, 0, pool, 1) == 1);
    CHECK(recv_from(s4, buf, sizeof(buf), from, &port) == 5 && memcmp(buf, "to-v4", 5) == 0);
    CHECK(strcmp(from, "10.77.0.2") == 0 && port == 4000);

    /* Not an IP packet: taken and counted, and the burst goes on. */
    memset(pool[0]->data, 0, 40);
    pool[0]->len = 40;
    build_udp(pool[1], "fd77::2", "fd77::1", 4001, 5001, "to-v6");
    CHECK(io->ops->tun_tx_burst(io, 0, pool, 2) == 2);
    CHECK(recv_from(s6, buf, sizeof(buf), from, &port) == 5 && memcmp(buf, "to-v6", 5) == 0);
    CHECK(strcmp(from, "fd77::2") == 0 && port == 4001);
    io_linux_stats(io, &st);
    CHECK(st.tun_tx_dropped == 1);
    close(s4);
    close(s6);
}

static void test_tun_rx(struct io_backend *io)
{
    int s4 = plain_socket("0.0.0.0", 0), s6 = plain_socket("::", 0);
    int mask;

    CHECK(send_to(s4, "10.77.0.5", 6000, "hello-tun", 9) == 9);
    mask = io->ops->wait(io, 0, WAIT_STEP_MS * WAIT_STEPS);
    CHECK(mask > 0 && (mask & IO_READY_TUN));
    CHECK(tun_expect(io, 0, "10.77.0.5", 6000, "hello-tun"));
    CHECK(send_to(s4, "10.78.3.9", 6001, "via-route", 9) == 9);
    CHECK(tun_expect(io, 0, "10.78.3.9", 6001, "via-route"));
    CHECK(send_to(s6, "fd77::5", 6002, "hello-v6", 8) == 8);
    CHECK(tun_expect(io, 0, "fd77::5", 6002, "hello-v6"));
    close(s4);
    close(s6);
}

/* ---------------------------------------------------------------- UDP */

/* A client on `addr` sends to the backend; the backend answers with
 * pkt->local = `source` (NULL: as received). Returns the answer's source. */
static void udp_round_trip(struct io_backend *io, const char *addr, const char *source,
                           const char *expect_from)
{
    int c = plain_socket(addr, 0);
    uint16_t cport = socket_port(c), lport = io->ops->listen_port(io), from_port = 0;
    char buf[64], from[INET6_ADDRSTRLEN] = "";
    struct pkt *p;

    CHECK(send_to(c, addr, lport, "ping", 4) == 4);
    CHECK(udp_collect(io, 0, 1) == 1);
    p = pool[0];
    CHECK(p->len == 4 && memcmp(p->data, "ping", 4) == 0 && p->queue == 0);
    CHECK(endpoint_is(&p->remote, addr, cport));
    CHECK(endpoint_is(&p->local, addr, lport));
    CHECK(p->local_ifindex == 1);                  /* lo */
    memcpy(p->data, "pong", 4);
    if (source)
        p->local = endpoint(source, 0);
    CHECK(io->ops->udp_tx_burst(io, 0, &p, 1) == 1);
    CHECK(recv_from(c, buf, sizeof(buf), from, &from_port) == 4 && memcmp(buf, "pong", 4) == 0);
    CHECK(strcmp(from, expect_from) == 0 && from_port == lport);
    close(c);
}

static void test_udp_endpoints(struct io_backend *io)
{
    struct io_linux_stats st;

    CHECK(io->ops->listen_port(io) != 0);
    udp_round_trip(io, "127.0.0.1", NULL, "127.0.0.1");
    udp_round_trip(io, "::1", NULL, "::1");
    udp_round_trip(io, "127.0.0.1", "127.0.0.2", "127.0.0.2");
    udp_round_trip(io, "::1", "fd77::1", "fd77::1");
    /* A source that is not ours: cleared, sent from the kernel's choice. */
    udp_round_trip(io, "127.0.0.1", "10.99.99.99", "127.0.0.1");
    CHECK(pool[0]->local.family == 0);
    udp_round_trip(io, "::1", "fd99::9", "::1");
    CHECK(pool[0]->local.family == 0);
    io_linux_stats(io, &st);
    CHECK(st.udp_tx_source_cleared == 2);
}

/* Several datagrams in one burst, both families in one tx burst (an
 * IPv4-mapped remote goes out as IPv4), an endpoint without family dropped. */
static void test_udp_bursts(struct io_backend *io)
{
    int c4 = plain_socket("127.0.0.1", 0), c6 = plain_socket("::1", 0);
    uint16_t lport = io->ops->listen_port(io), p4 = socket_port(c4), p6 = socket_port(c6);
    struct io_linux_stats before, after;
    char buf[64], from[INET6_ADDRSTRLEN];
    uint16_t fport;
    bool ok = true;

    for (int i = 0; i < 5; i++)
        CHECK(send_to(i % 2 ? c6 : c4, i % 2 ? "::1" : "127.0.0.1", lport, "burst", 5) == 5);
    CHECK(udp_collect(io, 0, 5) == 5);
    for (int i = 0; i < 5; i++)
        ok &= pool[i]->len == 5 && (endpoint_is(&pool[i]->remote, "127.0.0.1", p4) ||
                                    endpoint_is(&pool[i]->remote, "::1", p6));
    CHECK(ok);

    reset_pool();
    for (int i = 0; i < 4; i++) {
        memcpy(pool[i]->data, "multi", 5);
        pool[i]->len = 5;
    }
    pool[0]->remote = endpoint("127.0.0.1", p4);
    pool[1]->remote = endpoint("::1", p6);
    pool[2]->remote = endpoint("::ffff:127.0.0.1", p4);
    /* pool[3]: no family */
    io_linux_stats(io, &before);
    CHECK(io->ops->udp_tx_burst(io, 0, pool, 4) == 4);
    io_linux_stats(io, &after);
    CHECK(after.udp_tx_dropped == before.udp_tx_dropped + 1);
    for (int i = 0; i < 2; i++)
        CHECK(recv_from(c4, buf, sizeof(buf), from, &fport) == 5 && strcmp(from, "127.0.0.1") == 0);
    CHECK(recv_from(c6, buf, sizeof(buf), from, &fport) == 5 && strcmp(from, "::1") == 0);
    close(c4);
    close(c6);
}

/* ---------------------------------------------------------------- wait and wake */

static void *wake_thread(void *arg)
{
    struct io_backend *io = arg;

    io->ops->wake(io);
    return NULL;
}

/* The host's own traffic into the TUN (IPv6 router solicitations, MLD
 * reports) makes it readable at moments of the kernel's choosing: wait
 * until one of `bits` shows, draining the TUN in between. Returns the
 * union of the masks seen. */
static int wait_for(struct io_backend *io, unsigned q, int bits, int timeout_ms)
{
    int seen = 0;

    for (int step = 0; step < WAIT_STEPS && !(seen & bits); step++) {
        int mask = io->ops->wait(io, q, timeout_ms);

        if (mask < 0)
            return mask;
        seen |= mask;
        if (mask & IO_READY_TUN) {
            reset_pool();
            io->ops->tun_rx_burst(io, q, pool, POOL);
        }
    }
    return seen;
}

static void test_wait_wake(struct io_backend *io)
{
    int c = plain_socket("127.0.0.1", 0);
    pthread_t t;
    int mask;

    /* Idle: only the TUN may be ready (see wait_for). */
    CHECK((io->ops->wait(io, 0, 0) & (IO_READY_UDP | IO_READY_WAKE)) == 0);
    io->ops->wake(io);
    mask = wait_for(io, 0, IO_READY_WAKE, WAIT_STEP_MS * WAIT_STEPS);
    CHECK(mask > 0 && (mask & IO_READY_WAKE) && !(mask & IO_READY_UDP));
    CHECK((io->ops->wait(io, 0, 0) & IO_READY_WAKE) == 0);  /* drained */

    /* Woken from another thread, whether it runs before or during wait(). */
    CHECK(pthread_create(&t, NULL, wake_thread, io) == 0);
    mask = wait_for(io, 0, IO_READY_WAKE, -1);
    CHECK(mask > 0 && (mask & IO_READY_WAKE));
    pthread_join(t, NULL);

    CHECK(send_to(c, "127.0.0.1", io->ops->listen_port(io), "x", 1) == 1);
    mask = wait_for(io, 0, IO_READY_UDP, WAIT_STEP_MS);
    CHECK(mask > 0 && (mask & IO_READY_UDP) && !(mask & IO_READY_WAKE));
    CHECK(udp_collect(io, 0, 1) == 1);
    close(c);
}

/* ---------------------------------------------------------------- set_listen */

/* A port free in both families right now (a dual-stack socket holds it in
 * both; nothing else runs in this namespace to take it afterwards). */
static uint16_t free_port(void)
{
    int a = plain_socket("::", 0);
    uint16_t port = socket_port(a);

    close(a);
    return port;
}

static bool arrives_on(struct io_backend *io, unsigned q, const char *addr, uint16_t port)
{
    int c = plain_socket(addr, 0);
    bool ok = send_to(c, addr, port, "lp", 2) == 2 && udp_collect(io, q, 1) == 1 &&
              pool[0]->local.port == port && endpoint_is(&pool[0]->remote, addr, socket_port(c));

    close(c);
    return ok;
}

static void test_set_listen(struct io_backend *io)
{
    uint16_t port = free_port(), busy_port;
    int busy = plain_socket("0.0.0.0", 0);

    busy_port = socket_port(busy);
    CHECK(io->ops->set_listen(io, port, 0) == 0);
    CHECK(io->ops->listen_port(io) == port);
    CHECK(arrives_on(io, 0, "127.0.0.1", port));
    CHECK(arrives_on(io, 0, "::1", port));
    CHECK(io->ops->set_listen(io, busy_port, 0) == -EADDRINUSE);
    CHECK(io->ops->listen_port(io) == port);
    CHECK(arrives_on(io, 0, "127.0.0.1", port));
    CHECK(io->ops->set_listen(io, 0, 0) == 0);
    CHECK(io->ops->listen_port(io) != 0 && io->ops->listen_port(io) != port);
    CHECK(arrives_on(io, 0, "::1", io->ops->listen_port(io)));
    close(busy);
}

/* The fwmark steers the backend's own datagrams: mark 0x1234 selects
 * table 100, whose route leads into the TUN; without it, no route. */
static void test_fwmark(struct io_backend *io)
{
    struct netlink_prefix dst = prefix("10.200.0.0", 16);
    struct netlink_rule rule = { .family = AF_INET, .has_priority = true, .priority = 200,
                                 .table = 100, .fwmark = 0x1234, .suppress_prefixlen = -1 };
    int ifindex = io_linux_tun_ifindex(io);
    uint16_t port = io->ops->listen_port(io);
    struct io_linux_stats before, after;

    CHECK(netlink_route_add(&dst, ifindex, 100) == 0);
    CHECK(netlink_rule_add(&rule) == 0);
    CHECK(output_has("ip -4 rule show", "200:", "fwmark 0x1234 lookup 100"));
    CHECK(io->ops->set_listen(io, port, 0x1234) == 0);
    CHECK(io->ops->listen_port(io) == port);
    reset_pool();
    memcpy(pool[0]->data, "marked", 6);
    pool[0]->len = 6;
    pool[0]->remote = endpoint("10.200.0.9", 7777);
    CHECK(io->ops->udp_tx_burst(io, 0, pool, 1) == 1);
    CHECK(tun_expect(io, 0, "10.200.0.9", 7777, "marked"));

    CHECK(io->ops->set_listen(io, port, 0) == 0);
    reset_pool();
    memcpy(pool[0]->data, "marked", 6);
    pool[0]->len = 6;
    pool[0]->remote = endpoint("10.200.0.9", 7777);
    io_linux_stats(io, &before);
    CHECK(io->ops->udp_tx_burst(io, 0, pool, 1) == 1);
    io_linux_stats(io, &after);
    CHECK(after.udp_tx_dropped == before.udp_tx_dropped + 1);  /* ENETUNREACH */
    CHECK(netlink_rule_del(&rule) == 0);
    CHECK(netlink_route_del(&dst, ifindex, 100) == 0);
}

/* ---------------------------------------------------------------- two queues */

#define FLOWS 32

static void flow_payload(char *out, size_t cap, const char *tag, int f)
{
    snprintf(out, cap, "%s%02d", tag, f);
}

static int tun_flow_of(const struct pkt *p)
{
    char payload[16];

    for (int f = 0; f < FLOWS; f++) {
        flow_payload(payload, sizeof(payload), "flow", f);
        if (is_udp_to(p, "10.88.0.7", (uint16_t)(9000 + f), payload))
            return f;
    }
    return -1;
}

/* FLOWS flows (distinct destination ports) into the TUN: the flow hash
 * spreads them over both queues; all on one has a chance of 2^-31. */
static void test_mq_tun_rx(struct io_backend *io)
{
    int s = plain_socket("0.0.0.0", 0), found = 0, per_queue[2] = { 0, 0 };
    bool seen[FLOWS] = { false };
    char payload[16];

    for (int f = 0; f < FLOWS; f++) {
        flow_payload(payload, sizeof(payload), "flow", f);
        CHECK(send_to(s, "10.88.0.7", (uint16_t)(9000 + f), payload, strlen(payload)) > 0);
    }
    for (int step = 0; step < WAIT_STEPS && found < FLOWS; step++) {
        for (unsigned q = 0; q < 2; q++) {
            int n;

            reset_pool();
            n = io->ops->tun_rx_burst(io, q, pool, POOL);
            for (int i = 0; i < n; i++) {
                int f = tun_flow_of(pool[i]);

                if (f >= 0 && !seen[f] && pool[i]->queue == q) {
                    seen[f] = true;
                    found++;
                    per_queue[q]++;
                }
            }
        }
        if (found < FLOWS)
            io->ops->wait(io, (unsigned)step % 2, WAIT_STEP_MS);
    }
    CHECK(found == FLOWS);
    CHECK(per_queue[0] > 0 && per_queue[1] > 0);
    close(s);
}

static void test_mq_tun_tx(struct io_backend *io)
{
    int s = plain_socket("10.88.0.1", 5100);
    char buf[64], from[INET6_ADDRSTRLEN];
    uint16_t port;

    for (unsigned q = 0; q < 2; q++) {
        reset_pool();
        build_udp(pool[0], "10.88.0.2", "10.88.0.1", (uint16_t)(4100 + q), 5100, "mq-tx");
        CHECK(io->ops->tun_tx_burst(io, q, pool, 1) == 1);
        CHECK(recv_from(s, buf, sizeof(buf), from, &port) == 5 && port == 4100 + q);
    }
    close(s);
}

/* FLOWS clients (distinct source ports) to the listen port: SO_REUSEPORT
 * spreads them over both queues' sockets. Answers from queue 1 (and 0)
 * come from the listen port. */
static void test_mq_udp(struct io_backend *io, const char *addr)
{
    int c[FLOWS], found = 0, per_queue[2] = { 0, 0 }, answers[2] = { 0, 0 };
    uint16_t lport = io->ops->listen_port(io), fport;
    char buf[64], from[INET6_ADDRSTRLEN];

    for (int f = 0; f < FLOWS; f++) {
        c[f] = plain_socket(addr, 0);
        CHECK(send_to(c[f], addr, lport, "mq", 2) == 2);
    }
    for (int step = 0; step < WAIT_STEPS && found < FLOWS; step++) {
        for (unsigned q = 0; q < 2; q++) {
            int n;

            reset_pool();
            n = io->ops->udp_rx_burst(io, q, pool, POOL);
            for (int i = 0; i < n; i++) {
                CHECK(pool[i]->queue == q && endpoint_is(&pool[i]->local, addr, lport));
                memcpy(pool[i]->data, "qq", 2);
                pool[i]->data[1] = (uint8_t)('0' + q);
            }
            /* Answer each on the queue it came in on. */
            CHECK(io->ops->udp_tx_burst(io, q, pool, n > 0 ? (unsigned)n : 0) == (n > 0 ? n : 0));
            found += n > 0 ? n : 0;
            per_queue[q] += n > 0 ? n : 0;
        }
        if (found < FLOWS)
            io->ops->wait(io, (unsigned)step % 2, WAIT_STEP_MS);
    }
    CHECK(found == FLOWS);
    CHECK(per_queue[0] > 0 && per_queue[1] > 0);
    for (int f = 0; f < FLOWS; f++) {
        if (recv_from(c[f], buf, sizeof(buf), from, &fport) == 2 && fport == lport &&
            buf[0] == 'q' && (buf[1] == '0' || buf[1] == '1'))
            answers[buf[1] - '0']++;
        close(c[f]);
    }
    CHECK(answers[0] == per_queue[0] && answers[1] == per_queue[1]);
}

static void test_two_queues(void)
{
    char name[IFNAMSIZ], cmd[128];
    int err = 0, ifindex;
    struct io_backend *io = io_linux_create("wbq%d", name, 2, &err);
    struct netlink_prefix a4 = prefix("10.88.0.1", 24);
    int mask[2];

    CHECK(io != NULL && err == 0);
    if (!io)
        return;
    CHECK(io->n_queues == 2 && strncmp(name, "wbq", 3) == 0);
    ifindex = io_linux_tun_ifindex(io);
    CHECK(netlink_addr_add(ifindex, &a4) == 0);
    CHECK(netlink_link_set_up(ifindex, true) == 0);
    snprintf(cmd, sizeof(cmd), "ip -d -o link show dev %s", name);
    CHECK(output_has(cmd, "multi_queue", NULL));
    test_mq_tun_tx(io);
    test_mq_tun_rx(io);
    test_mq_udp(io, "127.0.0.1");
    test_mq_udp(io, "::1");
    CHECK(io->ops->set_listen(io, free_port(), 0) == 0);
    test_mq_udp(io, "127.0.0.1");

    io->ops->wake(io);
    mask[0] = io->ops->wait(io, 0, WAIT_STEP_MS * WAIT_STEPS);
    mask[1] = io->ops->wait(io, 1, WAIT_STEP_MS * WAIT_STEPS);
    CHECK(mask[0] > 0 && (mask[0] & IO_READY_WAKE) && mask[1] > 0 && (mask[1] & IO_READY_WAKE));
    io->ops->destroy(io);
    CHECK(if_nametoindex(name) == 0);
}

/* ---------------------------------------------------------------- lifetime */

static void test_create_errors(const char *taken)
{
    int err = 0;

    CHECK(io_linux_create("wbx%d", NULL, 0, &err) == NULL && err == -EINVAL);
    CHECK(io_linux_create("wbx%d", NULL, IO_LINUX_MAX_QUEUES + 1, &err) == NULL && err == -EINVAL);
    CHECK(io_linux_create("a-name-far-too-long", NULL, 1, &err) == NULL && err == -EINVAL);
    CHECK(io_linux_create(taken, NULL, 1, &err) == NULL && err == -EBUSY);
}

/* netlink_link_delete removes a TUN whose fds are still open; the
 * backend's destroy still closes them cleanly. */
static void test_link_delete(void)
{
    char name[IFNAMSIZ];
    int err = 0;
    struct io_backend *io = io_linux_create("wbdel%d", name, 1, &err);

    CHECK(io != NULL);
    if (!io)
        return;
    CHECK(if_nametoindex(name) > 0);
    CHECK(netlink_link_delete(name) == 0);
    CHECK(if_nametoindex(name) == 0);
    CHECK(netlink_link_delete(name) == -ENODEV);
    reset_pool();
    CHECK(io->ops->tun_rx_burst(io, 0, pool, 1) < 0);    /* the queue is detached */
    io->ops->destroy(io);
}

int main(void)
{
    char name[IFNAMSIZ];
    int err = -1, ret = enter_namespace();
    struct io_backend *io;

    if (ret)
        return ret;
    for (unsigned i = 0; i < POOL; i++)
        if (!(pool[i] = pkt_alloc()))
            abort();
    CHECK(pool[0]->data == pool[0]->buf + PKT_HEADROOM && pool[0]->len == 0);
    CHECK(pkt_headroom(pool[0]) == PKT_HEADROOM && pkt_tailroom(pool[0]) == PKT_DATA_MAX + PKT_TAILROOM &&
          pkt_room(pool[0]) == PKT_DATA_MAX);

    io = io_linux_create("wbt%d", name, 1, &err);
    CHECK(io != NULL && err == 0);
    if (!io)
        return check_summary();
    CHECK(strcmp(io->ops->name, "linux") == 0 && io->n_queues == 1);
    test_links(io, name);
    test_addresses(io_linux_tun_ifindex(io), name);
    test_routes(io_linux_tun_ifindex(io), name);
    test_rule_readback();
    test_rule_behaviour(io);
    test_tun_tx(io);
    test_tun_rx(io);
    test_udp_endpoints(io);
    test_udp_bursts(io);
    test_wait_wake(io);
    test_set_listen(io);
    test_fwmark(io);
    test_create_errors(name);
    io->ops->destroy(io);
    CHECK(if_nametoindex(name) == 0);

    test_two_queues();
    test_link_delete();
    for (unsigned i = 0; i < POOL; i++)
        pkt_free(pool[i]);
    return check_summary();
}
