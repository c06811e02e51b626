/* SPDX-License-Identifier: MIT */
/*
 * test_config.c - the configuration model: wg-quick parsing (every key,
 * case-insensitive keys, repeated keys, WireSock keys bare and as #@ws:
 * comments), each error class with its exact error line, print/parse round
 * trips, `wg showconf` output, IP prefix parse/format (RFC 5952) and
 * endpoints.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "crypto/random.h"
#include "proto/config.h"

#define KEY0 "AAsWISw3Qk1YY255hI+apbC7xtHc5/L9CBMeKTQ/SlU="
#define KEY1 "JTA7RlFcZ3J9iJOeqbS/ytXg6/YBDBciLThDTllkb3o="
#define KEY2 "SlVga3aBjJeirbjDztnk7/oFEBsmMTxHUl1oc36JlJ8="
#define KEY3 "b3qFkJumsbzH0t3o8/4JFB8qNUBLVmFsd4KNmKOuucQ="
#define KEYZ "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

/* The bytes behind KEYn: byte j is (37n + 11j) mod 256. */
static void key_bytes(uint8_t k[32], unsigned n)
{
    for (unsigned j = 0; j < 32; j++)
        k[j] = (uint8_t)(n * 37 + j * 11);
}

static bool key_is(const uint8_t k[32], unsigned n)
{
    uint8_t want[32];
    key_bytes(want, n);
    return memcmp(k, want, 32) == 0;
}

static bool prefix_is(const struct config_prefix *p, const char *text)
{
    char buf[64];
    return strcmp(config_prefix_format(p, buf, sizeof(buf)), text) == 0;
}

static bool strings_are(const struct config_strings *l, const char *const *want, size_t n)
{
    if (l->n != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(l->v[i], want[i]))
            return false;
    return true;
}

static int parse(struct config *c, const char *text, char *err, size_t errlen)
{
    config_init(c);
    return config_parse_text(c, text, "wg0.conf", err, errlen);
}

/* ------------------------------------------------------------ full file */

static const char full_text[] =
    "# a wg-quick file with every key\n"
    "[Interface]\n"
    "PrivateKey = " KEY0 "\n"
    "ListenPort = 51820\n"
    "FwMark = 0x1234\n"
    "Address = 10.0.0.2/24, fd00::2/64\n"
    "DNS = 10.0.0.1, fd00::1, corp.example\n"
    "MTU = 1420\n"
    "Table = 1234\n"
    "PreUp = echo pre up\n"
    "PostUp = iptables -A FORWARD -i %i -j ACCEPT\n"
    "PreDown = echo pre down\n"
    "PostDown = iptables -D FORWARD -i %i -j ACCEPT   # trailing comment\n"
    "SaveConfig = true\n"
    "VirtualAdapterMode = true\n"
    "EnableDefaultGateway = false\n"
    "\n"
    "[Peer]\n"
    "PublicKey = " KEY1 "\n"
    "PresharedKey = " KEY2 "\n"
    "AllowedIPs = 0.0.0.0/0, ::/0\n"
    "Endpoint = vpn.example.com:51820\n"
    "PersistentKeepalive = 25\n"
    "AllowedApps = chrome, C:\\Program Files\\Mozilla Firefox\\firefox.exe\n"
    "DisallowedApps = steam\n"
    "DisallowedIPs = 192.168.0.0/16, fe80::/10\n"
    "Socks5Proxy = 127.0.0.1:1080\n"
    "Socks5ProxyUsername = alice\n"
    "Socks5ProxyPassword = s3cret pass\n"
    "Socks5ProxyAllTraffic = true\n"
    "\n"
    "[Peer]\n"
    "PublicKey = " KEY3 "\n"
    "AllowedIPs = 10.9.0.0/16\n"
    "Endpoint = [2001:db8::1]:443\n";

static void test_full_file(void)
{
    struct config c;
    char err[256];
    static const char *const dns[] = { "10.0.0.1", "fd00::1", "corp.example" };
    static const char *const apps[] = { "chrome", "C:\\Program Files\\Mozilla Firefox\\firefox.exe" };

    CHECK(parse(&c, full_text, err, sizeof(err)) == 0);
    if (err[0])
        fprintf(stderr, "  %s\n", err);
    CHECK(c.has_private_key && key_is(c.private_key, 0));
    CHECK(c.has_listen_port && c.listen_port == 51820);
    CHECK(c.has_fwmark && c.fwmark == 0x1234);
    CHECK(c.n_addresses == 2 && prefix_is(&c.addresses[0], "10.0.0.2/24") &&
          prefix_is(&c.addresses[1], "fd00::2/64"));
    CHECK(strings_are(&c.dns, dns, 3));
    CHECK(c.has_mtu && c.mtu == 1420);
    CHECK(c.table && strcmp(c.table, "1234") == 0);
    CHECK(c.pre_up.n == 1 && strcmp(c.pre_up.v[0], "echo pre up") == 0);
    CHECK(c.post_up.n == 1 && strcmp(c.post_up.v[0], "iptables -A FORWARD -i %i -j ACCEPT") == 0);
    CHECK(c.pre_down.n == 1 && strcmp(c.pre_down.v[0], "echo pre down") == 0);
    CHECK(c.post_down.n == 1 && strcmp(c.post_down.v[0], "iptables -D FORWARD -i %i -j ACCEPT") == 0);
    CHECK(c.save_config);
    CHECK(c.virtual_adapter_mode && strcmp(c.virtual_adapter_mode, "true") == 0);
    CHECK(c.enable_default_gateway && strcmp(c.enable_default_gateway, "false") == 0);
    CHECK(c.n_peers == 2);
    if (c.n_peers != 2) {
        config_free(&c);
        return;
    }
    struct config_peer *p = &c.peers[0];
    CHECK(p->line == 18);
    CHECK(key_is(p->public_key, 1));
    CHECK(p->has_preshared_key && key_is(p->preshared_key, 2));
    CHECK(p->n_allowed_ips == 2 && prefix_is(&p->allowed_ips[0], "0.0.0.0/0") &&
          prefix_is(&p->allowed_ips[1], "::/0"));
    CHECK(p->has_endpoint && strcmp(p->endpoint_host, "vpn.example.com") == 0 &&
          p->endpoint_port == 51820 && p->endpoint.family == 0);
    CHECK(p->has_persistent_keepalive && p->persistent_keepalive == 25);
    CHECK(strings_are(&p->allowed_apps, apps, 2));
    CHECK(p->disallowed_apps.n == 1 && strcmp(p->disallowed_apps.v[0], "steam") == 0);
    CHECK(p->n_disallowed_ips == 2 && prefix_is(&p->disallowed_ips[0], "192.168.0.0/16") &&
          prefix_is(&p->disallowed_ips[1], "fe80::/10"));
    CHECK(p->socks5_proxy && strcmp(p->socks5_proxy, "127.0.0.1:1080") == 0);
    CHECK(p->socks5_proxy_username && strcmp(p->socks5_proxy_username, "alice") == 0);
    CHECK(p->socks5_proxy_password && strcmp(p->socks5_proxy_password, "s3cret pass") == 0);
    CHECK(p->has_socks5_proxy_all_traffic && p->socks5_proxy_all_traffic);

    p = &c.peers[1];
    CHECK(p->line == 32);
    CHECK(key_is(p->public_key, 3));
    CHECK(!p->has_preshared_key && !p->has_persistent_keepalive);
    CHECK(p->n_allowed_ips == 1 && prefix_is(&p->allowed_ips[0], "10.9.0.0/16"));
    CHECK(p->has_endpoint && strcmp(p->endpoint_host, "2001:db8::1") == 0 && p->endpoint_port == 443);
    static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
    CHECK(p->endpoint.family == 6 && p->endpoint.port == 443 && memcmp(p->endpoint.addr, v6, 16) == 0);
    config_free(&c);
    CHECK(c.peers == NULL && c.n_peers == 0 && !c.has_private_key);
}

/* -------------------------------------------- case, repeats, overrides */

static void test_case_and_repeats(void)
{
    struct config c;
    char err[256];
    static const char *const post_up[] = { "first", "second = with equals" };
    static const char *const dns[] = { "1.1.1.1", "8.8.8.8", "9.9.9.9", "search.example" };
    const char *text =
        "  [INTERFACE]  \r\n"
        "privatekey=" KEY0 "\r\n"
        "LISTENPORT = 1\n"
        "listenport = 0\n"                      /* the last one wins */
        "fwmark = off\n"
        "address = 10.0.0.1/32 fd00::1/128,\t10.1.0.1/16\n"
        "Dns = 1.1.1.1,8.8.8.8\n"
        "dns = 9.9.9.9 search.example\n"
        "postup = first\n"
        "POSTUP = second = with equals\n"
        "saveconfig = FALSE\n"
        "[peer]\n"
        "publickey = " KEY1 "\n"
        "allowedips = 10.0.0.0/8\n"
        "ALLOWEDIPS = 10.0.0.1/24 ,  ,fd00::1/64,\n"   /* host bits cleared, empty items skipped */
        "AllowedIPs =\n"                               /* an empty list adds nothing */
        "persistentkeepalive = off\n"
        "endpoint = 192.0.2.1:51820\n";

    CHECK(parse(&c, text, err, sizeof(err)) == 0);
    if (err[0])
        fprintf(stderr, "  %s\n", err);
    CHECK(c.has_private_key && key_is(c.private_key, 0));
    CHECK(c.has_listen_port && c.listen_port == 0);
    CHECK(c.has_fwmark && c.fwmark == 0);
    CHECK(c.n_addresses == 3 && prefix_is(&c.addresses[0], "10.0.0.1/32") &&
          prefix_is(&c.addresses[1], "fd00::1/128") && prefix_is(&c.addresses[2], "10.1.0.1/16"));
    CHECK(strings_are(&c.dns, dns, 4));
    CHECK(strings_are(&c.post_up, post_up, 2));
    CHECK(!c.save_config);
    CHECK(c.n_peers == 1);
    if (c.n_peers == 1) {
        struct config_peer *p = &c.peers[0];
        CHECK(p->n_allowed_ips == 3 && prefix_is(&p->allowed_ips[0], "10.0.0.0/8") &&
              prefix_is(&p->allowed_ips[1], "10.0.0.0/24") &&
              prefix_is(&p->allowed_ips[2], "fd00::/64"));
        CHECK(p->has_persistent_keepalive && p->persistent_keepalive == 0);
        CHECK(p->endpoint.family == 4 && p->endpoint.port == 51820 &&
              memcmp(p->endpoint.addr, "\xc0\x00\x02\x01", 4) == 0);
    }
    config_free(&c);

    /* Hex FwMark in upper case, decimal FwMark. */
    CHECK(parse(&c, "[Interface]\nFwMark = 0XfF\n", err, sizeof(err)) == 0 && c.fwmark == 0xff);
    config_free(&c);
    CHECK(parse(&c, "[Interface]\nFwMark = 4294967295\n", err, sizeof(err)) == 0 &&
          c.fwmark == 0xffffffffu);
    config_free(&c);
    /* An empty text and a comments-only text are empty configs. */
    CHECK(parse(&c, "", err, sizeof(err)) == 0 && c.n_peers == 0 && !c.has_private_key);
    config_free(&c);
    CHECK(parse(&c, "# nothing\n\n   # more\n", err, sizeof(err)) == 0 && c.n_peers == 0);
    config_free(&c);
}

/* ------------------------------------------------------- WireSock keys */

static void test_wiresock_keys(void)
{
    struct config bare, comment;
    char err[256];
    const char *bare_text =
        "[Interface]\nPrivateKey = " KEY0 "\nVirtualAdapterMode = true\n"
        "EnableDefaultGateway = true\n"
        "[Peer]\nPublicKey = " KEY1 "\nAllowedIPs = 0.0.0.0/0\n"
        "AllowedApps = chrome, firefox\nAllowedApps = C:\\Games\\\n"
        "DisallowedApps = svchost\nDisallowedIPs = 10.0.0.0/8\nDisallowedIPs = 172.16.0.0/12\n"
        "Socks5Proxy = proxy.example:1080\nSocks5ProxyUsername = u\n"
        "Socks5ProxyPassword = p\nSocks5ProxyAllTraffic = false\n";
    const char *comment_text =
        "[Interface]\nPrivateKey = " KEY0 "\n#@ws:VirtualAdapterMode = true\n"
        "  #@WS: enabledefaultgateway=true\n"
        "[Peer]\nPublicKey = " KEY1 "\nAllowedIPs = 0.0.0.0/0\n"
        "#@ws:AllowedApps = chrome, firefox\n#@ws:AllowedApps = C:\\Games\\   # comment\n"
        "#@ws:DisallowedApps = svchost\n#@ws:DisallowedIPs = 10.0.0.0/8\nDisallowedIPs = 172.16.0.0/12\n"
        "#@ws:Socks5Proxy = proxy.example:1080\n#@ws:Socks5ProxyUsername = u\n"
        "#@ws:Socks5ProxyPassword = p\n#@ws:Socks5ProxyAllTraffic = false\n"
        "# @ws:AllowedApps = not-a-wiresock-line\n";

    CHECK(parse(&bare, bare_text, err, sizeof(err)) == 0);
    CHECK(parse(&comment, comment_text, err, sizeof(err)) == 0);
    if (err[0])
        fprintf(stderr, "  %s\n", err);
    CHECK(config_equal(&bare, &comment));
    CHECK(bare.n_peers == 1 && bare.peers[0].allowed_apps.n == 3 &&
          strcmp(bare.peers[0].allowed_apps.v[2], "C:\\Games\\") == 0);
    CHECK(bare.n_peers == 1 && bare.peers[0].has_socks5_proxy_all_traffic &&
          !bare.peers[0].socks5_proxy_all_traffic);
    CHECK(bare.enable_default_gateway && strcmp(bare.enable_default_gateway, "true") == 0);
    config_free(&bare);
    config_free(&comment);
}

/* -------------------------------------------------------------- errors */

struct error_case {
    const char *text;
    const char *err;
};

static const struct error_case error_cases[] = {
    { "[Interface]\nPrivateKey = " KEY0 "\n[Peer]\nPublicKey = " KEY1 "\nEndpoint = h:1\n"
      "AllowedIPs = 10.0.0.300/24\n",
      "wg0.conf:6: AllowedIPs: '10.0.0.300/24' is not an IP prefix" },
    { "[Interface]\n\nFoo = bar\n", "wg0.conf:3: Foo: unknown key" },
    { "[Interface]\nPrivateKey = abc\n", "wg0.conf:2: PrivateKey: not a base64 WireGuard key" },
    { "[Interface]\nPrivateKey = " KEY0 "x\n", "wg0.conf:2: PrivateKey: not a base64 WireGuard key" },
    { "PrivateKey = " KEY0 "\n", "wg0.conf:1: PrivateKey: outside any section" },
    { "[Interface]\nListenPort = 65536\n",
      "wg0.conf:2: ListenPort: '65536' is not a number from 0 to 65535" },
    { "[Interface]\nListenPort = -1\n", "wg0.conf:2: ListenPort: '-1' is not a number from 0 to 65535" },
    { "[Interface]\nListenPort =\n", "wg0.conf:2: ListenPort: missing value" },
    { "[Interface]\nFwMark = 0x100000000\n",
      "wg0.conf:2: FwMark: '0x100000000' is not a number from 0 to 4294967295 (decimal or 0x hex) or 'off'" },
    { "[Interface]\nMTU = 67\n", "wg0.conf:2: MTU: '67' is not a number from 68 to 65535" },
    { "[Interface]\nSaveConfig = yes\n", "wg0.conf:2: SaveConfig: 'yes' is not true or false" },
    { "[Interface]\nTable =\n", "wg0.conf:2: Table: missing value" },
    { "[Interface]\nPostUp =   # only a comment\n", "wg0.conf:2: PostUp: missing value" },
    { "[Interface]\nPrivateKey " KEY0 "\n", "wg0.conf:2: (hidden): unknown key" },
    { "[Interface]\nListenPort 51820\n", "wg0.conf:2: (hidden): expected 'Key = value'" },
    { "[Interface]\nListenPort\n", "wg0.conf:2: ListenPort: expected 'Key = value'" },
    { "[Interface]\n= 5\n", "wg0.conf:2: (no key): unknown key" },
    { "[Interfaces]\n", "wg0.conf:1: [Interfaces]: unknown section" },
    { "[Peer\n", "wg0.conf:1: (section): '[' without a closing ']'" },
    { "[Interface]\nPublicKey = " KEY1 "\n", "wg0.conf:2: PublicKey: belongs in [Peer], not [Interface]" },
    { "[Peer]\nPublicKey = " KEY1 "\nMTU = 1400\n", "wg0.conf:3: MTU: belongs in [Interface], not [Peer]" },
    { "[Interface]\nPrivateKey = " KEY0 "\n\n[Peer]\nAllowedIPs = 10.0.0.0/8\n[Peer]\nPublicKey = " KEY1 "\n",
      "wg0.conf:4: PublicKey: missing in [Peer] starting at line 4" },
    { "[Peer]\nPublicKey = " KEY1 "\n[Peer]\nAllowedIPs = ::/0\n",
      "wg0.conf:3: PublicKey: missing in [Peer] starting at line 3" },
    { "[Peer]\nPublicKey = " KEY1 "\nPublicKey = " KEY2 "\n",
      "wg0.conf:3: PublicKey: given twice in one [Peer]" },
    { "[Peer]\nPublicKey = " KEY1 "\n[Peer]\nPublicKey = " KEY2 "\n[Peer]\n\nPublicKey = " KEY1 "\n",
      "wg0.conf:7: PublicKey: same as the [Peer] at line 1" },
    { "[Peer]\nPublicKey = " KEY1 "\nPresharedKey = hunter2\n",
      "wg0.conf:3: PresharedKey: not a base64 WireGuard key" },
    { "[Peer]\nPublicKey = " KEY1 "\nEndpoint = 1.2.3.4\n",
      "wg0.conf:3: Endpoint: '1.2.3.4' is not host:port or [IPv6]:port (port 1 to 65535)" },
    { "[Peer]\nPublicKey = " KEY1 "\nEndpoint = 1.2.3.4:0\n",
      "wg0.conf:3: Endpoint: '1.2.3.4:0' is not host:port or [IPv6]:port (port 1 to 65535)" },
    { "[Peer]\nPublicKey = " KEY1 "\nPersistentKeepalive = 65536\n",
      "wg0.conf:3: PersistentKeepalive: '65536' is not a number from 0 to 65535 or 'off'" },
    { "[Peer]\nPublicKey = " KEY1 "\nSocks5ProxyAllTraffic = 1\n",
      "wg0.conf:3: Socks5ProxyAllTraffic: '1' is not true or false" },
    { "[Peer]\nPublicKey = " KEY1 "\nDisallowedIPs = 10.0.0.0/8, 1.2.3.4/33\n",
      "wg0.conf:3: DisallowedIPs: '1.2.3.4/33' is not an IP prefix" },
    { "[Interface]\nAddress = 10.0.0.1/24 bogus\n", "wg0.conf:2: Address: 'bogus' is not an IP prefix" },
    { "[Interface]\n#@ws:PrivateKey = " KEY0 "\n",
      "wg0.conf:2: PrivateKey: not a WireSock key, so not allowed after #@ws:" },
    { "[Interface]\n#@ws:[Peer]\n", "wg0.conf:2: #@ws: holds only WireSock keys, not a section" },
    { "[Interface]\n#@ws: just a note\n", "wg0.conf:2: (hidden): expected 'Key = value'" },
    { "#@ws:AllowedApps = chrome\n", "wg0.conf:1: AllowedApps: outside any section" },
    { "[Interface]\nPostUp = a\x01" "b\n", "wg0.conf:2: PostUp: value holds a control character" },
    { "[Interface]\nTable = a\rb\n", "wg0.conf:2: Table: value holds a control character" },
};

static void test_errors(void)
{
    for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
        struct config c;
        char err[256];
        int ret = parse(&c, error_cases[i].text, err, sizeof(err));
        bool ok = ret == -EINVAL && strcmp(err, error_cases[i].err) == 0;

        CHECK(ok);
        if (!ok)
            fprintf(stderr, "  case %zu: ret %d\n    got:  %s\n    want: %s\n", i, ret, err,
                    error_cases[i].err);
        /* After an error the config is empty again. */
        CHECK(c.n_peers == 0 && c.peers == NULL && !c.has_private_key && c.n_addresses == 0);
        config_free(&c);
    }
}

/* Error lines never carry key material or passwords, and a small error
 * buffer is cut, not overrun. */
static void test_errors_hide_secrets(void)
{
    struct config c;
    char err[256], tiny[12];
    const char *leaks[] = {
        "[Interface]\n" KEY0 "\n",
        "[Interface]\nPrivateKey = " KEY0 "=\n",
        "[Interface]\nPrivatekey: " KEY0 "\n",
        "[Peer]\nPublicKey = " KEY1 "\nPresharedKey = " KEY0 " " KEY0 "\n",
    };

    for (size_t i = 0; i < sizeof(leaks) / sizeof(leaks[0]); i++) {
        CHECK(parse(&c, leaks[i], err, sizeof(err)) == -EINVAL);
        CHECK(strstr(err, "AAsWISw3Qk1YY") == NULL);
        CHECK(strchr(err, '\n') == NULL && strlen(err) > 0);
        if (strstr(err, "AAsWISw3Qk1YY"))
            fprintf(stderr, "  leaked: %s\n", err);
        config_free(&c);
    }
    CHECK(parse(&c, "[Interface]\nFoo = bar\n", tiny, sizeof(tiny)) == -EINVAL);
    CHECK(strcmp(tiny, "wg0.conf:2:") == 0);
    config_free(&c);
    CHECK(parse(&c, "[Interface]\nFoo = bar\n", NULL, 0) == -EINVAL);
    config_free(&c);
    /* A long value is cut in the error line. */
    char text[400];
    snprintf(text, sizeof(text), "[Interface]\nMTU = %0200d\n", 1);
    CHECK(parse(&c, text, err, sizeof(err)) == -EINVAL && strstr(err, "00...' is not") != NULL &&
          strlen(err) < 140);
    config_free(&c);
}

/* ----------------------------------------------------------- round trip */

static void round_trip(const char *text)
{
    struct config a, b;
    char err[256];
    char *printed, *again;

    CHECK(parse(&a, text, err, sizeof(err)) == 0);
    printed = config_print(&a, false);
    CHECK(printed != NULL);
    if (!printed) {
        config_free(&a);
        return;
    }
    CHECK(parse(&b, printed, err, sizeof(err)) == 0);
    if (err[0])
        fprintf(stderr, "  re-parse: %s\n%s", err, printed);
    CHECK(config_equal(&a, &b));
    again = config_print(&b, false);
    CHECK(again && strcmp(again, printed) == 0);
    wb_memzero(printed, strlen(printed));
    free(printed);
    free(again);
    config_free(&a);
    config_free(&b);
}

static void test_round_trips(void)
{
    round_trip(full_text);
    round_trip("");
    round_trip("[Interface]\nListenPort = 0\nFwMark = off\n");
    round_trip("[Peer]\nPublicKey = " KEY1 "\nPresharedKey = " KEYZ "\nPersistentKeepalive = 0\n"
               "Socks5ProxyAllTraffic = false\n");
    round_trip("[Interface]\nAddress = ::ffff:10.0.0.1/120, 2001:DB8:0:0:1:0:0:1/64\n"
               "DNS = a.example b.example\nPostUp = x\nPostUp = y\n"
               "[Peer]\nPublicKey = " KEY1 "\nEndpoint = [fe80::1%eth0]:5\n"
               "[Peer]\nPublicKey = " KEY2 "\nEndpoint = [FD00::0001]:65535\n"
               "[Peer]\nPublicKey = " KEY3 "\nEndpoint = 10.1.2.3:7\n#@ws:AllowedApps = a b c\n");

    /* The printed form of the full file, exactly. */
    struct config c;
    char err[256];
    CHECK(parse(&c, full_text, err, sizeof(err)) == 0);
    char *s = config_print(&c, false);
    const char *want =
        "[Interface]\n"
        "PrivateKey = " KEY0 "\n"
        "ListenPort = 51820\n"
        "FwMark = 0x1234\n"
        "Address = 10.0.0.2/24, fd00::2/64\n"
        "DNS = 10.0.0.1, fd00::1, corp.example\n"
        "MTU = 1420\n"
        "Table = 1234\n"
        "PreUp = echo pre up\n"
        "PostUp = iptables -A FORWARD -i %i -j ACCEPT\n"
        "PreDown = echo pre down\n"
        "PostDown = iptables -D FORWARD -i %i -j ACCEPT\n"
        "SaveConfig = true\n"
        "VirtualAdapterMode = true\n"
        "EnableDefaultGateway = false\n"
        "\n[Peer]\n"
        "PublicKey = " KEY1 "\n"
        "PresharedKey = " KEY2 "\n"
        "AllowedIPs = 0.0.0.0/0, ::/0\n"
        "Endpoint = vpn.example.com:51820\n"
        "PersistentKeepalive = 25\n"
        "DisallowedIPs = 192.168.0.0/16, fe80::/10\n"
        "AllowedApps = chrome, C:\\Program Files\\Mozilla Firefox\\firefox.exe\n"
        "DisallowedApps = steam\n"
        "Socks5Proxy = 127.0.0.1:1080\n"
        "Socks5ProxyUsername = alice\n"
        "Socks5ProxyPassword = s3cret pass\n"
        "Socks5ProxyAllTraffic = true\n"
        "\n[Peer]\n"
        "PublicKey = " KEY3 "\n"
        "AllowedIPs = 10.9.0.0/16\n"
        "Endpoint = [2001:db8::1]:443\n";
    CHECK(s && strcmp(s, want) == 0);
    if (s && strcmp(s, want))
        fprintf(stderr, "  printed:\n%s", s);
    free(s);

    /* wg showconf's subset: no wg-quick or WireSock keys; resolved endpoints. */
    s = config_print(&c, true);
    const char *want_wg =
        "[Interface]\n"
        "PrivateKey = " KEY0 "\n"
        "ListenPort = 51820\n"
        "FwMark = 0x1234\n"
        "\n[Peer]\n"
        "PublicKey = " KEY1 "\n"
        "PresharedKey = " KEY2 "\n"
        "AllowedIPs = 0.0.0.0/0, ::/0\n"
        "Endpoint = vpn.example.com:51820\n"
        "PersistentKeepalive = 25\n"
        "\n[Peer]\n"
        "PublicKey = " KEY3 "\n"
        "AllowedIPs = 10.9.0.0/16\n"
        "Endpoint = [2001:db8::1]:443\n";
    CHECK(s && strcmp(s, want_wg) == 0);
    if (s && strcmp(s, want_wg))
        fprintf(stderr, "  printed:\n%s", s);
    free(s);

    /* wg showconf leaves out zero values and resolves endpoints. */
    memset(c.private_key, 0, 32);
    c.listen_port = 0;
    c.fwmark = 0;
    c.peers[0].persistent_keepalive = 0;
    memset(c.peers[0].preshared_key, 0, 32);
    c.peers[0].endpoint.family = 4;
    c.peers[0].endpoint.port = 1234;
    memcpy(c.peers[0].endpoint.addr, "\xc6\x33\x64\x07", 4);
    s = config_print(&c, true);
    CHECK(s && strstr(s, "PrivateKey") == NULL && strstr(s, "ListenPort") == NULL &&
          strstr(s, "FwMark") == NULL &&
          strstr(s, "PersistentKeepalive") == NULL && strstr(s, "PresharedKey") == NULL &&
          strstr(s, "Endpoint = 198.51.100.7:1234\n") != NULL);
    free(s);
    /* ... while the full form keeps them. */
    s = config_print(&c, false);
    CHECK(s && strstr(s, "PrivateKey = " KEYZ "\n") && strstr(s, "ListenPort = 0\n") &&
          strstr(s, "FwMark = off\n") &&
          strstr(s, "PersistentKeepalive = off\n") && strstr(s, "PresharedKey = " KEYZ "\n") &&
          strstr(s, "Endpoint = vpn.example.com:51820\n"));
    free(s);

    /* Values the parser could not give back are refused, not mangled. */
    CHECK(config_strings_add(&c.post_up, "echo hi\nPostUp = rm -rf /") == 0);
    errno = 0;
    CHECK(config_print(&c, false) == NULL && errno == EINVAL);
    s = config_print(&c, true);             /* hooks are not in the wg subset */
    CHECK(s != NULL);
    free(s);
    config_free(&c);

    config_init(&c);
    CHECK(config_strings_add(&c.dns, "a b") == 0);
    CHECK(config_print(&c, false) == NULL);
    config_free(&c);
    config_init(&c);
    struct config_peer *p = config_add_peer(&c);
    CHECK(p && config_strings_add(&p->allowed_apps, "a,b") == 0);
    CHECK(config_print(&c, false) == NULL);
    config_free(&c);
    config_init(&c);
    c.table = malloc(8);
    strcpy(c.table, "1 # x");
    CHECK(config_print(&c, false) == NULL);
    config_free(&c);
}

/* ------------------------------------------------------------- prefixes */

struct prefix_case {
    const char *in;
    const char *out;          /* NULL: must be rejected */
};

static const struct prefix_case prefix_cases[] = {
    { "10.0.0.1/24", "10.0.0.1/24" },
    { "10.0.0.1", "10.0.0.1/32" },
    { "0.0.0.0/0", "0.0.0.0/0" },
    { "255.255.255.255/32", "255.255.255.255/32" },
    { "::", "::/128" },
    { "::/0", "::/0" },
    { "::1", "::1/128" },
    { "1::", "1::/128" },
    { "::1/128", "::1/128" },
    { "2001:DB8::1/64", "2001:db8::1/64" },
    { "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1/128" },
    { "2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1/128" },            /* longest run */
    { "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1/128" },          /* first of equal runs */
    { "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1/128" },       /* one zero: not compressed */
    { "1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0/128" },
    { "::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8/128" },
    { "fe80::/10", "fe80::/10" },
    { "::ffff:1.2.3.4", "::ffff:1.2.3.4/128" },
    { "::FFFF:10.0.0.1/104", "::ffff:10.0.0.1/104" },
    { "0:0:0:0:0:ffff:102:304", "::ffff:1.2.3.4/128" },
    { "::1.2.3.4", "::102:304/128" },                               /* compat: plain hex */
    { "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304/128" },
    { "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128" },
    { "1.2.3", NULL },
    { "1.2.3.4.5", NULL },
    { "1.2.3.4/33", NULL },
    { "1.2.3.4/", NULL },
    { "1.2.3.4/-1", NULL },
    { "1.2.3.4/1000", NULL },
    { "256.1.1.1", NULL },
    { "01.2.3.4", NULL },
    { "1.2.3.4 ", NULL },
    { " 1.2.3.4", NULL },
    { "1..3.4", NULL },
    { "", NULL },
    { "/8", NULL },
    { ":::", NULL },
    { "1::2::3", NULL },
    { ":1::", NULL },
    { "1::2:", NULL },
    { ":", NULL },
    { "1:2:3:4:5:6:7:8:9", NULL },
    { "1:2:3:4:5:6:7", NULL },
    { "1:2:3:4:5:6:7:8::", NULL },
    { "::1:2:3:4:5:6:7:8", NULL },
    { "12345::", NULL },
    { "g::", NULL },
    { "::1/129", NULL },
    { "::1.2.3", NULL },
    { "1.2.3.4::", NULL },
    { "::1.2.3.4:5", NULL },
    { "1:2:3:4:5:6:7:1.2.3.4", NULL },
    { "fe80::1%eth0", NULL },
};

static void test_prefixes(void)
{
    for (size_t i = 0; i < sizeof(prefix_cases) / sizeof(prefix_cases[0]); i++) {
        const struct prefix_case *t = &prefix_cases[i];
        struct config_prefix p;
        char buf[64];
        int ret = config_prefix_parse(&p, t->in);
        bool ok = t->out ? ret == 0 && strcmp(config_prefix_format(&p, buf, sizeof(buf)), t->out) == 0
                         : ret == -EINVAL;

        CHECK(ok);
        if (!ok)
            fprintf(stderr, "  prefix '%s': ret %d, got '%s', want '%s'\n", t->in, ret,
                    ret ? "" : config_prefix_format(&p, buf, sizeof(buf)), t->out ? t->out : "(error)");
    }

    struct config_prefix p;
    char buf[64];
    CHECK(config_prefix_parse(&p, "10.1.2.3/9") == 0 && p.family == 4 && p.cidr == 9);
    config_prefix_normalize(&p);
    CHECK(strcmp(config_prefix_format(&p, buf, sizeof(buf)), "10.0.0.0/9") == 0);
    CHECK(config_prefix_parse(&p, "2001:db8:ffff:ffff::1/35") == 0 && p.family == 6);
    config_prefix_normalize(&p);
    CHECK(strcmp(config_prefix_format(&p, buf, sizeof(buf)), "2001:db8:e000::/35") == 0);
    CHECK(config_prefix_parse(&p, "1.2.3.4/0") == 0);
    config_prefix_normalize(&p);
    CHECK(strcmp(config_prefix_format(&p, buf, sizeof(buf)), "0.0.0.0/0") == 0);
    /* The longest text fits in the documented 50 bytes. */
    CHECK(config_prefix_parse(&p, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128") == 0);
    CHECK(strlen(config_prefix_format(&p, buf, 50)) == 43);
    /* A short buffer is cut and terminated. */
    CHECK(strcmp(config_prefix_format(&p, buf, 6), "ffff:") == 0);
}

/* ------------------------------------------------------------ endpoints */

struct endpoint_case {
    const char *in;
    const char *host;         /* NULL: rejected */
    uint16_t port;
    uint8_t family;           /* filled for IP literals */
};

static const struct endpoint_case endpoint_cases[] = {
    { "1.2.3.4:51820", "1.2.3.4", 51820, 4 },
    { "[fd00::1]:51820", "fd00::1", 51820, 6 },
    { "[::ffff:1.2.3.4]:1", "::ffff:1.2.3.4", 1, 6 },
    { "host.example:51820", "host.example", 51820, 0 },
    { "my-host_1:65535", "my-host_1", 65535, 0 },
    { "[fe80::1%eth0]:443", "fe80::1%eth0", 443, 0 },
    { "[fe80::1%12]:443", "fe80::1%12", 443, 0 },
    { "1.2.3.4:0", NULL, 0, 0 },
    { "1.2.3.4:65536", NULL, 0, 0 },
    { "1.2.3.4:", NULL, 0, 0 },
    { "1.2.3.4", NULL, 0, 0 },
    { "1.2.3.4:+5", NULL, 0, 0 },
    { "1.2.3.4:051820", NULL, 0, 0 },
    { "fd00::1:51820", NULL, 0, 0 },
    { "[fd00::1]51820", NULL, 0, 0 },
    { "[fd00::1:51820", NULL, 0, 0 },
    { "[1.2.3.4]:5", NULL, 0, 0 },
    { "[]:5", NULL, 0, 0 },
    { "[fe80::1%]:5", NULL, 0, 0 },
    { ":51820", NULL, 0, 0 },
    { "1.2.3.300:5", NULL, 0, 0 },
    { "host name:5", NULL, 0, 0 },
    { "host/x:5", NULL, 0, 0 },
    { "", NULL, 0, 0 },
};

static void test_endpoints(void)
{
    for (size_t i = 0; i < sizeof(endpoint_cases) / sizeof(endpoint_cases[0]); i++) {
        const struct endpoint_case *t = &endpoint_cases[i];
        struct config c;
        struct config_peer *p;
        int ret;

        config_init(&c);
        p = config_add_peer(&c);
        ret = config_endpoint_parse(p, t->in);
        bool ok = t->host ? ret == 0 && p->has_endpoint && strcmp(p->endpoint_host, t->host) == 0 &&
                                p->endpoint_port == t->port && p->endpoint.family == t->family &&
                                (t->family == 0 || p->endpoint.port == t->port)
                          : ret == -EINVAL && !p->has_endpoint && p->endpoint_host == NULL;
        CHECK(ok);
        if (!ok)
            fprintf(stderr, "  endpoint '%s': ret %d\n", t->in, ret);
        config_free(&c);
    }

    /* A second Endpoint replaces the first. */
    struct config c;
    config_init(&c);
    struct config_peer *p = config_add_peer(&c);
    CHECK(config_endpoint_parse(p, "[::1]:1") == 0);
    CHECK(config_endpoint_parse(p, "h.example:2") == 0);
    CHECK(strcmp(p->endpoint_host, "h.example") == 0 && p->endpoint_port == 2 && p->endpoint.family == 0);
    config_free(&c);
}

/* ---------------------------------------------------- lifecycle, files */

static void test_lifecycle(void)
{
    struct config c;
    char err[256];

    config_init(&c);
    for (unsigned i = 0; i < 300; i++) {
        struct config_peer *p = config_add_peer(&c);
        CHECK(p != NULL);
        if (!p)
            break;
        p->public_key[0] = (uint8_t)i;
        p->public_key[1] = (uint8_t)(i >> 8);
        p->has_preshared_key = true;
        memset(p->preshared_key, 0xaa, 32);
    }
    bool intact = c.n_peers == 300;
    for (unsigned i = 0; intact && i < 300; i++)
        intact = c.peers[i].public_key[0] == (uint8_t)i && c.peers[i].public_key[1] == (uint8_t)(i >> 8);
    CHECK(intact);
    config_free(&c);
    config_free(&c);     /* freeing twice is harmless */

    /* Many peers through the parser, all distinct keys: no duplicate error. */
    size_t cap = 600 * 80 + 64, len = 0;
    char *text = malloc(cap);
    uint8_t k[32] = { 0 };
    char b64[WB_KEY_B64_LEN + 1];
    for (unsigned i = 0; i < 600; i++) {
        k[0] = (uint8_t)i;
        k[1] = (uint8_t)(i >> 8);
        wb_key_to_base64(b64, k);
        len += (size_t)snprintf(text + len, cap - len, "[Peer]\nPublicKey = %s\n", b64);
    }
    CHECK(parse(&c, text, err, sizeof(err)) == 0 && c.n_peers == 600);
    config_free(&c);
    /* ... and one duplicate among them is found at its line. */
    k[0] = 17;
    k[1] = 0;
    wb_key_to_base64(b64, k);
    snprintf(text + len, cap - len, "[Peer]\nPublicKey = %s\n", b64);
    CHECK(parse(&c, text, err, sizeof(err)) == -EINVAL &&
          strcmp(err, "wg0.conf:1202: PublicKey: same as the [Peer] at line 35") == 0);
    config_free(&c);
    free(text);
}

static void test_files(void)
{
    struct config c;
    char err[512], path[64];
    FILE *f;

    /* In the working directory (the build tree under ctest). */
    snprintf(path, sizeof(path), "test_config_%08x.conf", (unsigned)wb_random_u32());
    f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f)
        return;
    fputs(full_text, f);
    fclose(f);
    config_init(&c);
    CHECK(config_parse_file(&c, path, err, sizeof(err)) == 0 && c.n_peers == 2);
    config_free(&c);

    f = fopen(path, "wb");
    fputs("[Interface]\nListenPort = 1\nMTU = big\n", f);
    fclose(f);
    char want[600];
    snprintf(want, sizeof(want), "%s:3: MTU: 'big' is not a number from 68 to 65535", path);
    CHECK(config_parse_file(&c, path, err, sizeof(err)) == -EINVAL && strcmp(err, want) == 0);
    config_free(&c);

    f = fopen(path, "wb");
    fwrite("[Interface]\nListenPort = 1\n\0\n", 1, 29, f);
    fclose(f);
    snprintf(want, sizeof(want), "%s:3: (file): holds a NUL byte", path);
    CHECK(config_parse_file(&c, path, err, sizeof(err)) == -EINVAL && strcmp(err, want) == 0);
    config_free(&c);

    /* Bigger than the first read buffer. */
    f = fopen(path, "wb");
    fputs("[Interface]\n", f);
    for (int i = 0; i < 2000; i++)
        fputs("# padding padding padding padding\n", f);
    fputs("ListenPort = 7\n", f);
    fclose(f);
    CHECK(config_parse_file(&c, path, err, sizeof(err)) == 0 && c.listen_port == 7);
    config_free(&c);

    remove(path);
    CHECK(config_parse_file(&c, path, err, sizeof(err)) == -ENOENT);
    CHECK(strncmp(err, path, strlen(path)) == 0 && strchr(err, '\n') == NULL);
}

int main(void)
{
    test_full_file();
    test_case_and_repeats();
    test_wiresock_keys();
    test_errors();
    test_errors_hide_secrets();
    test_round_trips();
    test_prefixes();
    test_endpoints();
    test_lifecycle();
    test_files();
    return check_summary();
}
