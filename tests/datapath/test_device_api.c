/* SPDX-License-Identifier: MIT */
/*
 * test_device_api.c - the public multi-peer device (wb_device_* in
 * include/wirebolt.h), used only through the public header as an embedder
 * would: create a TUN-backed device in a private network namespace,
 * configure it with UAPI text, read it back, bring two devices up against
 * each other over loopback and pass a real packet through the kernel.
 * Needs root (exit 77 otherwise).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "datapath/netlink.h"
#include "include/wirebolt.h"

static void hexkey(char out[65], const uint8_t k[32])
{
    wb_key_to_hex(out, k);
}

static char *get(struct wb_device *d)
{
    char *s = NULL;

    CHECK(wb_device_get_config(d, &s) == 0);
    return s;
}

static int up(const char *ifname, const char *addr, int plen)
{
    struct netlink_prefix p = { .family = AF_INET, .len = (uint8_t)plen };
    int idx = netlink_link_index(ifname);

    if (idx <= 0 || inet_pton(AF_INET, addr, p.addr) != 1)
        return -1;
    if (netlink_addr_add(idx, &p) < 0 || netlink_link_set_up(idx, true) < 0)
        return -1;
    return 0;
}

int main(void)
{
    uint8_t ka[32], kb[32], pa[32], pb[32];
    char ha[65], hb[65], hpa[65], hpb[65], cfg[1024];
    struct wb_device *a = NULL, *b = NULL;
    char *text;

    if (geteuid() != 0) {
        printf("skip: needs root\n");
        return 77;
    }
    if (unshare(CLONE_NEWNET) < 0) {
        printf("skip: cannot create a network namespace (%s)\n", strerror(errno));
        return 77;
    }
    CHECK(netlink_link_set_up(netlink_link_index("lo"), true) == 0);
    CHECK(wb_init() == 0);
    wb_key_generate(ka), wb_key_generate(kb);
    wb_key_public(pa, ka), wb_key_public(pb, kb);
    hexkey(ha, ka), hexkey(hb, kb), hexkey(hpa, pa), hexkey(hpb, pb);

    /* Errors are values. */
    CHECK(wb_device_create(NULL, &a) == -EINVAL);
    CHECK(wb_device_create("this-name-is-far-too-long", &a) < 0);

    /* Worker options: bad ones are refused with the reason's errno. */
    {
        struct wb_device_options o = { .size = sizeof(o) };
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);

        o.cpus = "0-";
        CHECK(wb_device_create_with("wbopt", &o, &a) == -EINVAL && !a);
        o.cpus = NULL, o.workers = 100000;
        CHECK(wb_device_create_with("wbopt", &o, &a) == -ERANGE && !a);
        o.workers = 1, o.size = 4;
        CHECK(wb_device_create_with("wbopt", &o, &a) == -EINVAL && !a);
        /* B gets one worker on the last CPU; A the default (one a core). */
        o.size = sizeof(o);
        snprintf(cfg, sizeof(cfg), "%ld", cpus - 1);
        o.cpus = cfg;
        CHECK(wb_device_create_with("wbapib", &o, &b) == 0);
    }
    CHECK(wb_device_create("wbapi%d", &a) == 0);
    if (!a || !b)
        return check_summary();
    CHECK(strncmp(wb_device_ifname(a), "wbapi", 5) == 0);
    CHECK(strcmp(wb_device_ifname(b), "wbapib") == 0);

    /* A bad set changes nothing. */
    CHECK(wb_device_set_config(a, "private_key=zz\n") == -EINVAL);
    CHECK(wb_device_set_config(a, "bogus=1\n") == -EINVAL);
    text = get(a);
    CHECK(text && !strstr(text, "private_key="));
    wb_device_free_config(text);

    snprintf(cfg, sizeof(cfg),
             "private_key=%s\nlisten_port=51901\npublic_key=%s\nendpoint=127.0.0.1:51902\n"
             "allowed_ip=10.61.0.2/32\n", ha, hpb);
    CHECK(wb_device_set_config(a, cfg) == 0);
    snprintf(cfg, sizeof(cfg),
             "private_key=%s\nlisten_port=51902\npublic_key=%s\nendpoint=127.0.0.1:51901\n"
             "allowed_ip=10.61.0.1/32\n", hb, hpa);
    CHECK(wb_device_set_config(b, cfg) == 0);
    text = get(a);
    if (text) {
        char want[160];

        snprintf(want, sizeof(want), "private_key=%s\nlisten_port=51901\n", ha);
        CHECK(strncmp(text, want, strlen(want)) == 0);
        snprintf(want, sizeof(want), "public_key=%s\n", hpb);
        CHECK(strstr(text, want) != NULL);
        CHECK(strstr(text, "endpoint=127.0.0.1:51902\n") != NULL);
        CHECK(strstr(text, "allowed_ip=10.61.0.2/32\n") != NULL);
        CHECK(strstr(text, "protocol_version=1\n") != NULL);
    }
    wb_device_free_config(text);

    /* Real traffic from the kernel: 10.61.1.0/24 is routed into a's TUN and
     * allowed for b; a datagram sent there is encrypted by a, crosses the
     * UDP sockets on loopback and is decrypted by b (which then hands it to
     * its own TUN, where the kernel drops it: nothing here owns 10.61.1.5).
     * b's counters prove the crossing. */
    CHECK(up(wb_device_ifname(a), "10.61.0.1", 32) == 0);
    CHECK(up(wb_device_ifname(b), "10.61.0.2", 32) == 0);
    {
        struct netlink_prefix net = { .family = AF_INET, .len = 24 };

        inet_pton(AF_INET, "10.61.1.0", net.addr);
        CHECK(netlink_route_add(&net, netlink_link_index(wb_device_ifname(a)), 254) == 0);
    }
    snprintf(cfg, sizeof(cfg), "public_key=%s\nallowed_ip=10.61.1.0/24\n", hpb);
    CHECK(wb_device_set_config(a, cfg) == 0);
    CHECK(wb_device_start(a) == 0);
    CHECK(wb_device_start(b) == 0);
    CHECK(wb_device_start(a) == -EALREADY);
    {
        int s = socket(AF_INET, SOCK_DGRAM, 0);
        struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(40000) };
        unsigned long long rx = 0;

        inet_pton(AF_INET, "10.61.1.5", &to.sin_addr);
        for (int i = 0; i < 50 && rx < 200; i++) {
            char *t;
            const char *at;

            CHECK(sendto(s, "through the tunnel", 18, 0, (struct sockaddr *)&to, sizeof(to)) == 18);
            usleep(100000);
            t = get(b);
            at = t ? strstr(t, "rx_bytes=") : NULL;
            rx = at ? strtoull(at + 9, NULL, 10) : 0;
            wb_device_free_config(t);
        }
        /* Initiation (148) + at least one data message (32 + 32 padded). */
        CHECK(rx >= 148 + 64);
        close(s);
    }
    text = get(b);
    CHECK(text && strstr(text, "last_handshake_time_sec=0\n") == NULL);
    wb_device_free_config(text);

    /* Remove the peer; the interface stays until destroy. */
    snprintf(cfg, sizeof(cfg), "public_key=%s\nremove=true\n", hpb);
    CHECK(wb_device_set_config(a, cfg) == 0);
    text = get(a);
    CHECK(text && !strstr(text, "public_key="));
    wb_device_free_config(text);

    /* The interface deleted under a running device: its datapath may stop
     * on the I/O error, and configuration calls must still return (not
     * wait for a worker that is gone). SIGALRM turns a hang into a failure. */
    CHECK(netlink_link_delete(wb_device_ifname(b)) == 0);
    usleep(300000);
    alarm(20);
    CHECK(wb_device_set_config(b, "listen_port=51903\n") <= 0);
    text = get(b);
    wb_device_free_config(text);
    alarm(0);

    wb_device_stop(a);
    wb_device_destroy(a);
    wb_device_destroy(b);
    CHECK(if_nametoindex("wbapib") == 0);   /* the interface went with the device */
    wb_device_destroy(NULL);
    return check_summary();
}
