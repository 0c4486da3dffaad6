/* clock.h: the core's clock, injectable so timers are tested in milliseconds.
 *
 * Due times are wall-clock ms (they are stored), but every wait runs on
 * CLOCK_MONOTONIC: a wall-clock step never stretches a wait in progress.
 * A test moves the clock forward (tc_clock_advance in-process, or the file
 * named by TOCSIN_TEST_CLOCK for the real tocsind); while a test clock is
 * active, waits last at most TC_CLOCK_TEST_POLL_MS so a jump is noticed at
 * once. In production a wait sleeps until its due time or a signal. */
#ifndef TC_CLOCK_H
#define TC_CLOCK_H

#include <pthread.h>
#include <stdint.h>

#define TC_CLOCK_TEST_POLL_MS 20
/* The environment variable naming the test clock file of tocsind. */
#define TC_CLOCK_ENV "TOCSIN_TEST_CLOCK"

/* Wall-clock ms since the epoch plus the test offset (0 in production). */
int64_t tc_now_ms(void);

/* Wait on c (m held) until tc_now_ms() >= due_ms or a signal. Returns
 * ETIMEDOUT once the clock reached due_ms, 0 on a wake-up (which may be
 * spurious: callers re-check their condition and loop). */
int tc_clock_timedwait(pthread_cond_t *c, pthread_mutex_t *m, int64_t due_ms);
/* Initialise a condvar whose timed waits use CLOCK_MONOTONIC. Condvars
 * used with tc_clock_timedwait should be made with it (it is required on
 * C libraries without pthread_cond_clockwait). Returns 0 or an errno. */
int tc_clock_cond_init(pthread_cond_t *c);

/* Tests: move the clock forward by ms (in-process; the clock is then a
 * test clock). */
void tc_clock_advance(int64_t ms);
/* Tests: replace the clock entirely; NULL restores the real one. */
void tc_clock_set(int64_t (*now)(void));
/* 1 while a test clock is in use. */
int tc_clock_is_test(void);
/* tocsind: when TOCSIN_TEST_CLOCK names a file, map its 8 bytes (an int64
 * offset in ms, created as 0 when empty) and add it to the wall clock;
 * warns in the log. Call once before any thread starts. Returns 1 when the
 * test clock is in use, 0 when the variable is unset, -1 on error (logged). */
int tc_clock_from_env(void);

#endif
