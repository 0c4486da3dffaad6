/* fuzz_alertmanager.c: libFuzzer target for the alertmanager input's
 * parser (POST /api/v2/alerts bodies), the bytes an HTTP client controls.
 * Seeds: tests/fixtures/alertmanager. */
#include <stddef.h>
#include <stdint.h>

#include "../../plugins/input/alertmanager/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct am_batch b;

    /* resolve_timeout 5m, a fixed now: the parse must not depend on time. */
    am_parse((const char *)data, size, 1764558765000LL, 300000, &b);
    am_batch_free(&b);
    return 0;
}
