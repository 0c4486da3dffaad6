/* fuzz_healthcheck.c: libFuzzer target for what the healthcheck reads from
 * outside: a target's answer body (hc_judge with body_contains), and the
 * option texts it parses (expect_status, the URL it shows, host:port).
 * The first byte picks which. Seeds: tests/fuzz/corpus/healthcheck. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/input/healthcheck/judge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hc_status_set set;
    char *text, buf[512], host[256], port[8], err[256];

    if (size < 1)
        return 0;
    text = malloc(size);
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    switch (data[0] % 4) {
    case 0: {
        /* The answer, NULs and all, against every check. */
        struct hc_status_set ok;
        struct hc_expect e = { &ok, "\"status\":\"ok\"", 1000, 5000 };
        struct hc_outcome o = { HC_ANSWERED, NULL, 200, text, size - 1, (int64_t)size * 7 };

        hc_status_parse("200-399", &ok, err, sizeof err);
        hc_judge(&o, &e, buf, sizeof buf);
        break;
    }
    case 1:
        if (hc_status_parse(text, &set, err, sizeof err) == 0 && set.n < 1)
            abort();
        break;
    case 2:
        hc_display_url(text, buf, sizeof buf);
        if (strchr(buf, '?'))
            abort(); /* a query (and its secrets) never shown */
        break;
    default:
        hc_split_hostport(text, host, sizeof host, port, sizeof port);
        break;
    }
    free(text);
    return 0;
}
