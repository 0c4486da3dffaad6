/* fuzz_heartbeat.c: libFuzzer target for the heartbeat's stored state
 * (hb_state_parse: the text host->state_get() hands back after a restart),
 * checking that whatever it accepts formats back to text it reads the same.
 * Seeds: tests/fuzz/corpus/heartbeat. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/input/heartbeat/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hb_state st = { 0 }, again = { 0 };
    struct hb_timing t = { 3600000, 300000, 600000 };
    char *text = malloc(size + 1), out[128];
    int64_t at = 0;

    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (hb_state_parse(text, &st) == 0) {
        hb_state_format(&st, out, sizeof out);
        if (hb_state_parse(out, &again) != 0 || memcmp(&st, &again, sizeof st) != 0)
            abort();
        /* Whatever was stored, the deadlines are computed without overflow traps. */
        (void)hb_due(&st, &t, 0, &at);
        (void)hb_next_check(&st, &t);
    }
    free(text);
    return 0;
}
