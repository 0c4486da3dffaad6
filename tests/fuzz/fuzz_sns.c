/* fuzz_sns.c: libFuzzer target for the cloudwatch input's SNS envelope
 * parser and string to sign (the bytes anyone can POST to /hooks/sns,
 * parsed before the signature is checked). Seeds: tests/fuzz/corpus/sns,
 * tests/fixtures/sns. */
#include <stddef.h>
#include <stdint.h>

#include "../../plugins/input/cloudwatch/envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sns_msg m;

    if (sns_parse((const char *)data, size, &m) == 0)
        (void)sns_https_origin_len(m.signing_cert_url);
    sns_msg_free(&m);
    return 0;
}
