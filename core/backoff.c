/* backoff.c: retry delays for the dispatcher (pure, unit-tested). */
#include "backoff.h"

int64_t tc_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms, uint32_t rnd)
{
    int64_t d = base_ms > 0 ? base_ms : 1;
    int i;

    if (cap_ms < d)
        cap_ms = d;
    for (i = 1; i < attempt && d < cap_ms; i++)
        d *= 2;
    if (d > cap_ms)
        d = cap_ms;
    return d / 2 + (int64_t)(rnd % (uint64_t)(d / 2 + 1));
}

int64_t tc_retry_delay_ms(int attempt, int retry_after_s, int64_t base_ms, int64_t cap_ms,
                          uint32_t rnd)
{
    if (retry_after_s > 0)
        return (int64_t)(retry_after_s > 3600 ? 3600 : retry_after_s) * 1000;
    return tc_backoff_ms(attempt, base_ms, cap_ms, rnd);
}
