/* SPDX-License-Identifier: MIT */
/*
 * cmd_keys.c - `wirebolt genkey`, `pubkey` and `genpsk`: keys as base64 on
 * standard output, as wg(8) prints them. Every buffer that held a key is
 * wiped before returning.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cli/commands.h"
#include "include/wirebolt.h"

/* Longest stdin line pubkey accepts: a key, some whitespace. */
#define PUBKEY_INPUT_MAX 128

/* wg's warning for a key written into a file others can read. */
static void warn_if_readable_by_others(void)
{
    struct stat st;

    if (fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & S_IRWXO))
        fprintf(stderr, "Warning: writing to world accessible file.\n"
                        "Consider setting the umask to 077 and trying again.\n");
}

static int print_key(const uint8_t key[WB_KEY_LEN])
{
    char b64[WB_KEY_B64_LEN + 1];
    int ok;

    wb_key_to_base64(b64, key);
    ok = printf("%s\n", b64) > 0 && fflush(stdout) == 0;
    sodium_memzero(b64, sizeof(b64));
    if (!ok) {
        fprintf(stderr, "wirebolt: cannot write the key: %s\n", strerror(errno));
        return EXIT_ERROR;
    }
    return EXIT_OK;
}

static int no_arguments(int argc, char **argv)
{
    if (argc == 1)
        return 0;
    fprintf(stderr, "Usage: wirebolt %s\n", argv[0]);
    return EXIT_USAGE;
}

/* genkey and genpsk differ only in how the 32 bytes are made. */
static int generate(int argc, char **argv, void (*make)(uint8_t key[WB_KEY_LEN]))
{
    uint8_t key[WB_KEY_LEN];
    int ret = no_arguments(argc, argv);

    if (ret)
        return ret;
    if (wb_init() < 0) {
        fprintf(stderr, "wirebolt: cannot initialise the crypto library\n");
        return EXIT_ERROR;
    }
    warn_if_readable_by_others();
    make(key);
    ret = print_key(key);
    sodium_memzero(key, sizeof(key));
    return ret;
}

int cmd_genkey(int argc, char **argv)
{
    return generate(argc, argv, wb_key_generate);
}

int cmd_genpsk(int argc, char **argv)
{
    return generate(argc, argv, wb_key_generate_preshared);
}

/* Read stdin whole (up to PUBKEY_INPUT_MAX; read(2), so that no stdio
 * buffer keeps a copy) and strip surrounding whitespace. Returns false for
 * more input than that, or a read error. */
static bool read_key_text(char *buf, size_t len)
{
    size_t n = 0;
    char *s = buf;

    for (;;) {
        ssize_t r = read(STDIN_FILENO, buf + n, len - n);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return false;
        if (r == 0)
            break;
        n += (size_t)r;
        if (n == len)
            return false;
    }
    buf[n] = '\0';
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
        buf[--n] = '\0';
    while (*s == ' ' || *s == '\t')
        s++;
    memmove(buf, s, strlen(s) + 1);
    return true;
}

int cmd_pubkey(int argc, char **argv)
{
    char text[PUBKEY_INPUT_MAX];
    uint8_t priv[WB_KEY_LEN], pub[WB_KEY_LEN];
    int ret = no_arguments(argc, argv);

    if (ret)
        return ret;
    if (wb_init() < 0) {
        fprintf(stderr, "wirebolt: cannot initialise the crypto library\n");
        return EXIT_ERROR;
    }
    if (!read_key_text(text, sizeof(text)) || wb_key_from_base64(priv, text) < 0 ||
        wb_key_public(pub, priv) < 0) {
        fprintf(stderr, "wirebolt: Key is not the correct length or format\n");
        ret = EXIT_ERROR;
    } else {
        ret = print_key(pub);
    }
    sodium_memzero(text, sizeof(text));
    sodium_memzero(priv, sizeof(priv));
    return ret;
}
