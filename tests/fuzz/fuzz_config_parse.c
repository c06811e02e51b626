/* SPDX-License-Identifier: MIT */
/*
 * fuzz_config_parse.c - libFuzzer harness for the configuration parser and
 * printer: the input (NUL-terminated copy) goes through config_parse_text;
 * whatever parses must print (full form and the wg subset), both must
 * parse again, the full form to an equal config that prints the same, and an
 * error must be one line naming the source. AllowedIPs minus DisallowedIPs
 * runs on every peer. Errors are expected; crashes, leaks and sanitizer
 * reports are what this looks for.
 */
#include <stdlib.h>
#include <string.h>

#include "proto/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(bool ok)
{
    if (!ok)
        abort();
}

static void check_error(const char *err)
{
    must(strncmp(err, "fuzz.conf:", 10) == 0);
    must(strchr(err, '\n') == NULL);
}

static void subtract_peers(const struct config *c)
{
    for (size_t i = 0; i < c->n_peers; i++) {
        const struct config_peer *p = &c->peers[i];
        struct config_prefix *out = NULL;
        size_t n = 0;

        must(config_prefix_subtract(p->allowed_ips, p->n_allowed_ips, p->disallowed_ips,
                                    p->n_disallowed_ips, &out, &n) == 0);
        free(out);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct config a, b;
    char err[256];
    char *text = malloc(size + 1), *printed, *wg, *again;

    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    config_init(&a);
    if (config_parse_text(&a, text, "fuzz.conf", err, sizeof(err))) {
        check_error(err);
        free(text);
        return 0;
    }
    free(text);
    subtract_peers(&a);

    printed = config_print(&a, false);
    wg = config_print(&a, true);
    must(printed && wg);
    config_init(&b);
    must(config_parse_text(&b, wg, "fuzz.conf", err, sizeof(err)) == 0);
    config_free(&b);
    must(config_parse_text(&b, printed, "fuzz.conf", err, sizeof(err)) == 0);
    must(config_equal(&a, &b));
    again = config_print(&b, false);
    must(again && strcmp(again, printed) == 0);

    free(again);
    free(wg);
    free(printed);
    config_free(&a);
    config_free(&b);
    return 0;
}
