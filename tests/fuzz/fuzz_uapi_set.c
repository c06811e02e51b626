/* SPDX-License-Identifier: MIT */
/*
 * fuzz_uapi_set.c - libFuzzer harness for the UAPI set parser (the text
 * that arrives on /var/run/wireguard/<if>.sock from anyone allowed to
 * connect): parse; on success format the result as a get reply, which must
 * succeed, and free everything. ASan/UBSan do the checking.
 */
#include <stdint.h>
#include <stdlib.h>

#include "datapath/uapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct config c;
    char err[160];

    config_init(&c);
    if (uapi_parse_set((const char *)data, size, &c, err, sizeof(err)) == 0) {
        char *text = uapi_format_get(&c);

        if (!text)
            abort();    /* a parsed change must always print */
        uapi_text_free(text);
    }
    config_free(&c);
    return 0;
}
