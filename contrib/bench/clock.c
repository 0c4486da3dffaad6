/* clock.c: the bench's monotonic time and sleeps, used by the driver,
 * its receiver and the daemon it runs. */
#define _GNU_SOURCE
#include <errno.h>
#include <time.h>

#include "bench.h"

int64_t bench_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void bench_sleep_until(int64_t t_ns)
{
    struct timespec ts;

    if (t_ns <= bench_now_ns())
        return;
    ts.tv_sec = t_ns / 1000000000LL;
    ts.tv_nsec = t_ns % 1000000000LL;
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

void bench_sleep_ms(int64_t ms)
{
    bench_sleep_until(bench_now_ns() + ms * 1000000LL);
}
