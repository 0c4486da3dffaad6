/* clock.c: wall-clock time plus a test offset; monotonic waits. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

/* The offset lives in memory for unit tests, or in a file tocsind shares
 * with the test that drives it (read atomically: the test writes it from
 * another process). */
static int64_t local_offset;
static int64_t *offset_at = &local_offset;
static int64_t (*_Atomic clock_fn)(void);
static atomic_int test_clock;

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t tc_now_ms(void)
{
    int64_t (*fn)(void) = atomic_load_explicit(&clock_fn, memory_order_acquire);

    if (fn)
        return fn();
    return wall_ms() + __atomic_load_n(offset_at, __ATOMIC_ACQUIRE);
}

int tc_clock_is_test(void)
{
    return atomic_load_explicit(&test_clock, memory_order_relaxed);
}

void tc_clock_advance(int64_t ms)
{
    atomic_store(&test_clock, 1);
    __atomic_fetch_add(offset_at, ms, __ATOMIC_ACQ_REL);
}

void tc_clock_set(int64_t (*now)(void))
{
    if (now)
        atomic_store(&test_clock, 1);
    atomic_store_explicit(&clock_fn, now, memory_order_release);
}

int tc_clock_cond_init(pthread_cond_t *c)
{
    pthread_condattr_t attr;
    int rc = pthread_condattr_init(&attr);

    if (rc)
        return rc;
    rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (!rc)
        rc = pthread_cond_init(c, &attr);
    pthread_condattr_destroy(&attr);
    return rc;
}

int tc_clock_timedwait(pthread_cond_t *c, pthread_mutex_t *m, int64_t due_ms)
{
    int64_t left = due_ms - tc_now_ms();
    struct timespec ts;
    int rc;

    if (left <= 0)
        return ETIMEDOUT;
    /* A test may jump the clock at any moment: look again soon. */
    if (tc_clock_is_test() && left > TC_CLOCK_TEST_POLL_MS)
        left = TC_CLOCK_TEST_POLL_MS;
    if (left > 86400000) /* far-off due times: wake once a day, no overflow */
        left = 86400000;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(left / 1000);
    ts.tv_nsec += (long)(left % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 30))
    /* Any condvar will do: the clock is given per call. */
    rc = pthread_cond_clockwait(c, m, CLOCK_MONOTONIC, &ts);
#else
    rc = pthread_cond_timedwait(c, m, &ts); /* c made by tc_clock_cond_init */
#endif
    if (rc == ETIMEDOUT && tc_now_ms() < due_ms)
        return 0; /* a capped wait, or the wall clock stepped back: not due yet */
    return rc == ETIMEDOUT ? ETIMEDOUT : 0;
}

int tc_clock_from_env(void)
{
    const char *path = getenv(TC_CLOCK_ENV);
    int64_t zero = 0;
    struct stat st;
    void *map;
    int fd;

    if (!path || !*path)
        return 0;
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || fstat(fd, &st) < 0 ||
        (st.st_size < (off_t)sizeof zero && pwrite(fd, &zero, sizeof zero, 0) != sizeof zero)) {
        tc_error("%s=%s: %s", TC_CLOCK_ENV, path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    map = mmap(NULL, sizeof zero, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        tc_error("%s=%s: mmap: %s", TC_CLOCK_ENV, path, strerror(errno));
        return -1;
    }
    offset_at = map; /* never unmapped: threads read it until exit */
    atomic_store(&test_clock, 1);
    tc_warn("test clock in use (%s=%s, offset %lld ms): time can jump, not for production",
            TC_CLOCK_ENV, path, (long long)__atomic_load_n(offset_at, __ATOMIC_ACQUIRE));
    return 1;
}
