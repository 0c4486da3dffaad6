/* fuzz_native.c: libFuzzer target for the generic input's parser (the
 * native schema, POST /api/v1/alerts). Seeds: tests/fuzz/corpus/native. */
#include <stddef.h>
#include <stdint.h>

#include "../../plugins/input/generic/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gen_batch b;

    gen_parse((const char *)data, size, 1764558765000LL, &b);
    gen_batch_free(&b);
    return 0;
}
