/* clock.c: real time unless a test put its own clock in. */
#define _GNU_SOURCE
#include <time.h>

#include "clock.h"

static int64_t real_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t (*clock_fn)(void) = real_now;

int64_t tc_now_ms(void)
{
    return clock_fn();
}

void tc_clock_set(int64_t (*now)(void))
{
    clock_fn = now ? now : real_now;
}
