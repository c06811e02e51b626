/* SPDX-License-Identifier: MIT */
/*
 * config.h - the one configuration model, shared by the wg-quick file parser
 * (config_parse.c), the printer (config_print.c), the UAPI control socket
 * (datapath/uapi.c) and the device. Plain data: arrays with counts, strings
 * owned by the struct (config_free releases and wipes everything).
 *
 * A `struct config` describes either a whole configuration (a file, or the
 * answer to UAPI get=1) or a change (UAPI set=1): the has_* flags say which
 * fields were given, and the peer flags (remove, update_only,
 * replace_allowed_ips) carry the set semantics.
 *
 * Portable: no OS calls, builds for Windows. Endpoint host names are kept as
 * written; resolving them is the caller's job (config_peer.endpoint_host).
 */
#ifndef WB_PROTO_CONFIG_H
#define WB_PROTO_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "include/wirebolt.h"

#define CONFIG_KEY_LEN 32

/* An IP prefix. family 4 or 6; addr in network byte order, host bits zero
 * after config_prefix_normalize. */
struct config_prefix {
    uint8_t family;
    uint8_t cidr;
    uint8_t addr[16];
};

/* A string list (DNS entries, hook commands, app names). */
struct config_strings {
    char **v;
    size_t n;
};

struct config_peer {
    uint8_t public_key[CONFIG_KEY_LEN];
    bool has_preshared_key;
    uint8_t preshared_key[CONFIG_KEY_LEN];     /* all zero + has = remove it */

    char *endpoint_host;                       /* as written: name, IPv4, or IPv6 without [] */
    uint16_t endpoint_port;
    bool has_endpoint;                         /* endpoint_host/port given */
    struct wb_endpoint endpoint;               /* resolved; family 0 until resolved */

    bool has_persistent_keepalive;
    uint16_t persistent_keepalive;             /* seconds; 0 = off */

    struct config_prefix *allowed_ips;
    size_t n_allowed_ips;
    struct config_prefix *disallowed_ips;      /* WireSock extension */
    size_t n_disallowed_ips;
    struct config_prefix *removed_allowed_ips; /* UAPI allowed_ip=-prefix */
    size_t n_removed_allowed_ips;

    /* WireSock extension keys, kept and printed back. */
    struct config_strings allowed_apps;
    struct config_strings disallowed_apps;
    char *socks5_proxy;
    char *socks5_proxy_username;
    char *socks5_proxy_password;
    bool has_socks5_proxy_all_traffic;
    bool socks5_proxy_all_traffic;

    /* UAPI set semantics. */
    bool remove;
    bool update_only;
    bool replace_allowed_ips;

    /* UAPI get: runtime state. */
    bool has_stats;
    uint64_t last_handshake_time_sec;
    uint64_t last_handshake_time_nsec;
    uint64_t rx_bytes;
    uint64_t tx_bytes;

    unsigned line;                             /* where [Peer] started; 0 if not from a file */
};

struct config {
    bool has_private_key;
    uint8_t private_key[CONFIG_KEY_LEN];       /* all zero + has = remove it (UAPI) */
    bool has_listen_port;
    uint16_t listen_port;
    bool has_fwmark;
    uint32_t fwmark;                           /* 0 = off */
    bool replace_peers;                        /* UAPI set */

    /* wg-quick keys ([Interface]). */
    struct config_prefix *addresses;
    size_t n_addresses;
    struct config_strings dns;                 /* IP addresses and search domains, as written */
    bool has_mtu;
    uint16_t mtu;
    char *table;                               /* "off", "auto" or a number/name; NULL = auto */
    struct config_strings pre_up, post_up, pre_down, post_down;
    bool save_config;

    /* WireSock extension keys ([Interface]), kept as written; NULL = absent. */
    char *virtual_adapter_mode;
    char *enable_default_gateway;

    struct config_peer *peers;
    size_t n_peers;
};

/* ------------------------------------------------------------- lifecycle */

void config_init(struct config *c);
/* Free everything and wipe the keys; leaves *c as after config_init. */
void config_free(struct config *c);
/* Append a zeroed peer; returns it or NULL on ENOMEM. Grow c->peers only
 * through this call (it keeps a power-of-two capacity, and wipes the old
 * array when it moves, since peers hold preshared keys). */
struct config_peer *config_add_peer(struct config *c);
int config_strings_add(struct config_strings *l, const char *s);
int config_prefixes_add(struct config_prefix **v, size_t *n, const struct config_prefix *p);

/* ---------------------------------------------------------------- values */

/* "10.0.0.1/24", "fd00::/64", "10.0.0.1" (= /32 or /128). Returns 0 or
 * -EINVAL. Host bits are kept as written (wg keeps them in Address=). */
int config_prefix_parse(struct config_prefix *p, const char *s);
/* Zero the host bits (allowed IPs are networks). */
void config_prefix_normalize(struct config_prefix *p);
/* Into buf ("10.0.0.0/8", "fd00::/64"); returns buf. buflen >= 50. */
const char *config_prefix_format(const struct config_prefix *p, char *buf, size_t buflen);
/* "host:port", "[v6]:port"; host kept as written. Returns 0 or -EINVAL. */
int config_endpoint_parse(struct config_peer *peer, const char *s);

/* AllowedIPs minus DisallowedIPs, per family, as a minimal list of prefixes
 * covering exactly the addresses in some allowed prefix and in no disallowed
 * one. *out is malloc'd (free it); returns 0 or -ENOMEM. Host bits of the
 * inputs are ignored; the output is sorted, IPv4 first, normalized, and
 * NULL when *n_out is 0. A prefix with a family other than 4/6 or a cidr
 * beyond its family's width gives -EINVAL. */
int config_prefix_subtract(const struct config_prefix *allowed, size_t n_allowed,
                           const struct config_prefix *disallowed, size_t n_disallowed,
                           struct config_prefix **out, size_t *n_out);

/* ------------------------------------------------------- files and text */

/* Parse wg-quick / wg(8) config text. `name` names the source in errors.
 * On error returns -EINVAL (or -ENOMEM) and writes one line to err:
 * "<name>:<line>: <Key>: <why>". WireSock keys are accepted as bare keys and
 * as "#@ws:Key = value" comment lines. */
int config_parse_text(struct config *c, const char *text, const char *name, char *err, size_t errlen);
int config_parse_file(struct config *c, const char *path, char *err, size_t errlen);
/*
 * Details of both: *c must be initialised (config_init) and empty; on error
 * it is freed (left as after config_init). AllowedIPs and DisallowedIPs are
 * normalized, Address keeps its host bits. Lists are comma-separated
 * (Address and DNS also split on whitespace, as wg-quick does); empty items
 * are skipped; list keys and hooks accumulate when repeated, other keys
 * take the last value. '#' starts a comment anywhere on a line. An Endpoint
 * that is an IP literal also fills peer->endpoint. Errors never quote keys,
 * passwords or hook commands. config_parse_file reads at most 16 MiB and
 * returns -errno (with an error line) when the file cannot be read.
 */

/* Whether two configs hold the same values (peer->line is ignored). */
bool config_equal(const struct config *a, const struct config *b);

/* Print as a config file. wg_only: only what `wg showconf` prints
 * ([Interface] PrivateKey/ListenPort/FwMark, [Peer] PublicKey/PresharedKey/
 * AllowedIPs/Endpoint/PersistentKeepalive). Returns a malloc'd string or NULL. */
char *config_print(const struct config *c, bool wg_only);
/* More on config_print: the full form prints every key (WireSock keys as
 * bare keys) so that config_parse_text gives back a config_equal one. NULL
 * also when a string cannot be written back faithfully (a control
 * character or '#', a ',' inside a list item, whitespace inside an Address/
 * DNS item, leading or trailing whitespace); errno says which (ENOMEM or
 * EINVAL). The text may hold keys: wipe it (wb_memzero) before free. */

#endif
