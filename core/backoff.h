/* backoff.h: how long to wait before the next delivery attempt. */
#ifndef TC_BACKOFF_H
#define TC_BACKOFF_H

#include <stdint.h>

/* Exponential backoff with "equal jitter": the delay d = base * 2^(attempt-1)
 * capped at cap, then d/2 + random(0..d/2), so retries of many rows spread
 * out but never fall below half the nominal delay. attempt >= 1 is the
 * attempt that just failed; rnd is any random 32-bit value. */
int64_t tc_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms, uint32_t rnd);

/* The delay after a failed attempt: the provider's Retry-After when it gave
 * one (capped at one hour), else the backoff above. */
int64_t tc_retry_delay_ms(int attempt, int retry_after_s, int64_t base_ms, int64_t cap_ms,
                          uint32_t rnd);

#endif
