/* fuzz_matcher.c: libFuzzer target for what a request's query and path
 * carry before any plugin sees them: Alertmanager matchers (the filter=
 * of GET /api/v2/alerts and /api/v2/silences, parsed and run against an
 * alert) and route path parameters (pattern match and strict decoding,
 * before authentication). The input is split at its first newline: the
 * matcher text, then the path. Seeds: tests/fuzz/corpus/matcher. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/route_match.h"
#include "../../lib/matcher.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run_matcher(const char *text)
{
    static const struct tocsin_kv labels[] = { { "alertname", "DiskFull" },
                                               { "instance", "db1" },
                                               { "severity", "critical" } };
    struct tocsin_alert a;
    struct tc_matcher m;
    char err[300];

    memset(&a, 0, sizeof a);
    a.dedup_key = "d40fc7db1abbc59f";
    a.summary = "disk 97%";
    a.source = "prom";
    a.service = "db";
    a.labels = labels;
    a.n_labels = 3;
    if (tc_matcher_parse(&m, text, err, sizeof err) == 0) {
        tc_matchers_match(&m, 1, &a);
        tc_matcher_free(&m);
    }
}

static void run_route(const char *path)
{
    static const char *const patterns[] = { "/api/v1/maintenance/{id}",
                                            "/api/v2/silence/{id}",
                                            "/api/v1/x/{a}/sub/{b}" };
    struct tc_route_param params[TC_ROUTE_MAX_PARAMS];
    char err[300];
    size_t i;
    int n, k;

    for (i = 0; i < sizeof patterns / sizeof patterns[0]; i++) {
        n = tc_route_match(patterns[i], path, params, TC_ROUTE_MAX_PARAMS);
        for (k = 0; k < n; k++) {
            char *out = malloc(params[k].raw_len + 1);

            if (out)
                tc_route_decode(params[k].raw, params[k].raw_len, out);
            free(out);
        }
    }
    tc_route_pattern_check(path, err, sizeof err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), *path;

    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    path = strchr(text, '\n');
    if (path)
        *path++ = '\0';
    run_matcher(text);
    run_route(path ? path : text);
    free(text);
    return 0;
}
