/* fuzz_silence.c: libFuzzer target for the maintenance policy's window
 * bodies (POST /api/v1/maintenance, POST /api/v2/silences, and the stored
 * form read back at start): parsed in each form, then shown and asked for
 * its occurrence at a few times. Seeds: tests/fuzz/corpus/silence. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../plugins/policy/maintenance/window.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum mw_form forms[] = { MW_FORM_NATIVE, MW_FORM_STORED, MW_FORM_SILENCE };
    const int64_t now = 1764558765000LL; /* 2025-12-01 */
    json_t *o = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    size_t i;

    if (!o)
        return 0;
    for (i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        struct mw_window w;
        char err[300];
        int missing = 0;

        if (mw_window_from_json(&w, o, forms[i], now, err, sizeof err, &missing) == 0) {
            int64_t s, e, t;

            json_decref(mw_window_to_json(&w, forms[i], now));
            for (t = now - 86400000LL; t <= now + 8 * 86400000LL; t += 86400000LL)
                mw_window_span(&w, t, &s, &e);
        }
        mw_window_release(&w); /* what a failed parse filled, too */
    }
    json_decref(o);
    return 0;
}
