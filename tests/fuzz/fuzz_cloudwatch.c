/* fuzz_cloudwatch.c: libFuzzer target for the cloudwatch input's alarm
 * parser: the Message of a verified SNS Notification to an alert, under
 * every insufficient_data setting. Seeds: tests/fuzz/corpus/cloudwatch
 * (the alarm fixtures of tests/fixtures/sns). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/input/cloudwatch/alarm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cw_opts o = { CW_INSUF_IGNORE, TOCSIN_SEV_HIGH, TOCSIN_SEV_MEDIUM, TOCSIN_SEV_INFO };
    struct cw_result r;
    char *msg = malloc(size + 1);
    int i;

    if (!msg)
        return 0;
    /* The envelope parser hands over NUL-free JSON strings. */
    memcpy(msg, data, size);
    msg[size] = '\0';
    for (i = 0; i < 3; i++) {
        o.insufficient = (enum cw_insufficient)i;
        if (cw_parse(msg, i == 1 ? NULL : "Subject", "arn:aws:sns:us-east-1:123456789012:t",
                     "mid", &o, &r) == 0 && r.kind != CW_IGNORED &&
            (!r.alert.summary || !r.alert.dedup_key))
            abort(); /* an alert to store always has both */
        cw_result_free(&r);
    }
    free(msg);
    return 0;
}
