/* fuzz_sentry.c: libFuzzer target for the sentry input's parser: the
 * bytes a Sentry webhook carries, read as each mapped resource and as the
 * legacy plugin's payload (the signature check before it is libcrypto's).
 * Seeds: tests/fixtures/sentry. */
#include <stddef.h>
#include <stdint.h>

#include "../../plugins/input/sentry/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct tocsin_kv sev[] = { { "fatal", "critical" }, { "error", "nonsense" } };
    static const struct tocsin_map map = { 2, sev };
    static const char *const resources[] = { "event_alert", "metric_alert", "issue",
                                             "installation" };
    struct sn_rules rules = { &map, SN_FIRE, SN_RESOLVE, SN_FIRE, 3600000 };
    struct sn_result r;
    size_t i;

    for (i = 0; i < sizeof resources / sizeof resources[0]; i++) {
        sn_parse_hook(resources[i], (const char *)data, size, &rules, 1764558765000LL, &r);
        sn_result_free(&r);
    }
    sn_parse_legacy((const char *)data, size, &rules, 1764558765000LL, &r);
    sn_result_free(&r);
    return 0;
}
