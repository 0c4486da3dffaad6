/* test_timers.c: the injectable clock (monotonic waits that follow a test
 * clock jump) and plugin timers on real threads: an owner's slow callback
 * does not delay another's, cancel waits for a running callback (but not
 * from inside it), nothing fires before release (start() returned). */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"
#include "deadline.h"
#include "timers.h"

#define HOUR (3600 * 1000LL)

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* sem_wait for at most ms of real time; 0 when posted. */
static int sem_wait_ms(sem_t *s, int ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    while (sem_timedwait(s, &ts) != 0)
        if (errno != EINTR)
            return -1;
    return 0;
}

/* Timers wait through the deadlines thread, as in the daemon. */
static struct tc_deadlines *g_deadlines;

static struct tc_timers *timers_start(void)
{
    g_deadlines = tc_deadlines_start();
    ck_assert_ptr_nonnull(g_deadlines);
    return tc_timers_start(g_deadlines);
}

static void timers_stop(struct tc_timers *t)
{
    tc_timers_stop(t);
    tc_deadlines_stop(g_deadlines);
    g_deadlines = NULL;
}

/* --- clock ---------------------------------------------------------------- */

START_TEST(test_advance_moves_now_and_makes_a_test_clock)
{
    int64_t before = tc_now_ms();

    ck_assert_int_eq(tc_clock_is_test(), 0);
    tc_clock_advance(2 * HOUR);
    ck_assert_int_eq(tc_clock_is_test(), 1);
    ck_assert_int_ge(tc_now_ms() - before, 2 * HOUR);
    ck_assert_int_lt(tc_now_ms() - before, 2 * HOUR + 5000);
}
END_TEST

struct waiter {
    pthread_mutex_t m;
    pthread_cond_t c;
    int64_t due;
    int signalled, rc;
    int64_t took_ms; /* real time */
    sem_t entered, done;
};

static void *wait_main(void *arg)
{
    struct waiter *w = arg;
    int64_t t0 = mono_ms();

    pthread_mutex_lock(&w->m);
    sem_post(&w->entered); /* whoever takes m next finds us waiting */
    while (!w->signalled)
        if ((w->rc = tc_clock_timedwait(&w->c, &w->m, w->due)) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&w->m);
    w->took_ms = mono_ms() - t0;
    sem_post(&w->done);
    return NULL;
}

static void waiter_init(struct waiter *w, int64_t due)
{
    pthread_mutex_init(&w->m, NULL);
    tc_clock_cond_init(&w->c);
    w->due = due;
    w->signalled = 0;
    w->rc = -1;
    sem_init(&w->entered, 0, 0);
    sem_init(&w->done, 0, 0);
}

START_TEST(test_an_hour_long_wait_ends_soon_after_the_clock_jumps)
{
    struct waiter w;
    pthread_t th;

    tc_clock_advance(0); /* a test clock from the start, as in a test daemon */
    waiter_init(&w, tc_now_ms() + HOUR);
    pthread_create(&th, NULL, wait_main, &w);
    ck_assert_int_ne(sem_wait_ms(&w.done, 100), 0); /* an hour is not 100 ms */
    tc_clock_advance(2 * HOUR);
    ck_assert_int_eq(sem_wait_ms(&w.done, 2000), 0);
    pthread_join(th, NULL);
    ck_assert_int_eq(w.rc, ETIMEDOUT);
    ck_assert_int_ge(tc_now_ms(), w.due);
}
END_TEST

START_TEST(test_a_signal_ends_the_wait_before_its_due_time)
{
    struct waiter w;
    pthread_t th;

    waiter_init(&w, tc_now_ms() + HOUR);
    pthread_create(&th, NULL, wait_main, &w);
    ck_assert_int_eq(sem_wait_ms(&w.entered, 2000), 0);
    pthread_mutex_lock(&w.m);
    w.signalled = 1;
    pthread_cond_signal(&w.c);
    pthread_mutex_unlock(&w.m);
    ck_assert_int_eq(sem_wait_ms(&w.done, 2000), 0);
    pthread_join(th, NULL);
    ck_assert_int_eq(w.rc, 0);
}
END_TEST

START_TEST(test_a_past_due_time_times_out_at_once_and_a_short_one_is_kept)
{
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t c;
    int64_t t0, due;
    int rc;

    tc_clock_cond_init(&c);
    pthread_mutex_lock(&m);
    ck_assert_int_eq(tc_clock_timedwait(&c, &m, tc_now_ms() - 1), ETIMEDOUT);
    /* The real clock, no test clock: one wait of 150 ms, not a poll. */
    t0 = mono_ms();
    due = tc_now_ms() + 150;
    while ((rc = tc_clock_timedwait(&c, &m, due)) == 0)
        ;
    pthread_mutex_unlock(&m);
    ck_assert_int_eq(rc, ETIMEDOUT);
    ck_assert_int_ge(mono_ms() - t0, 140);
    ck_assert_int_ge(tc_now_ms(), due);
    pthread_cond_destroy(&c);
}
END_TEST

/* --- timers ---------------------------------------------------------------- */

struct probe {
    sem_t fired, entered, gate;
    atomic_int count;
    int block;              /* wait on gate inside the callback */
    atomic_int finished;    /* set as the callback's last step */
    struct tc_timers *t;
    int64_t self_id;        /* cancel this from inside */
    const void *owner;
};

static void probe_init(struct probe *p, struct tc_timers *t)
{
    sem_init(&p->fired, 0, 0);
    sem_init(&p->entered, 0, 0);
    sem_init(&p->gate, 0, 0);
    atomic_init(&p->count, 0);
    atomic_init(&p->finished, 0);
    p->block = 0;
    p->t = t;
    p->self_id = 0;
    p->owner = NULL;
}

static void probe_fn(void *arg)
{
    struct probe *p = arg;

    atomic_fetch_add(&p->count, 1);
    sem_post(&p->entered);
    if (p->block)
        sem_wait(&p->gate);
    if (p->self_id) {
        tc_timers_cancel(p->t, p->self_id);   /* must not wait for itself */
        tc_timers_cancel_owner(p->t, p->owner);
    }
    atomic_store(&p->finished, 1);
    sem_post(&p->fired);
}

static int owner_a, owner_b; /* addresses stand for plugin instances */

START_TEST(test_timer_fires_when_the_test_clock_reaches_it)
{
    struct tc_timers *t = timers_start();
    struct probe p;

    tc_clock_advance(0);
    probe_init(&p, t);
    ck_assert_int_gt(tc_timers_add(t, &owner_a, HOUR, 0, probe_fn, &p), 0);
    tc_timers_release(t, &owner_a);
    ck_assert_int_ne(sem_wait_ms(&p.fired, 100), 0);
    tc_clock_advance(HOUR);
    ck_assert_int_eq(sem_wait_ms(&p.fired, 2000), 0);
    timers_stop(t);
    ck_assert_int_eq(atomic_load(&p.count), 1);
}
END_TEST

START_TEST(test_a_slow_callback_does_not_delay_another_owners_timer)
{
    struct tc_timers *t = timers_start();
    struct probe slow, quick;

    probe_init(&slow, t);
    probe_init(&quick, t);
    slow.block = 1;
    tc_timers_release(t, &owner_a);
    tc_timers_release(t, &owner_b);
    tc_timers_add(t, &owner_a, 0, 0, probe_fn, &slow);
    ck_assert_int_eq(sem_wait_ms(&slow.entered, 2000), 0); /* a blocking poll, now */
    tc_timers_add(t, &owner_b, 0, 0, probe_fn, &quick);
    ck_assert_msg(sem_wait_ms(&quick.fired, 2000) == 0,
                  "owner b's timer waited for owner a's slow callback");
    sem_post(&slow.gate);
    ck_assert_int_eq(sem_wait_ms(&slow.fired, 2000), 0);
    timers_stop(t);
}
END_TEST

START_TEST(test_an_owners_callbacks_run_one_at_a_time)
{
    struct tc_timers *t = timers_start();
    struct probe first, second;

    probe_init(&first, t);
    probe_init(&second, t);
    first.block = 1;
    tc_timers_release(t, &owner_a);
    tc_timers_add(t, &owner_a, 0, 0, probe_fn, &first);
    ck_assert_int_eq(sem_wait_ms(&first.entered, 2000), 0);
    tc_timers_add(t, &owner_a, 0, 0, probe_fn, &second);
    ck_assert_int_ne(sem_wait_ms(&second.entered, 200), 0);
    sem_post(&first.gate);
    ck_assert_int_eq(sem_wait_ms(&second.fired, 2000), 0);
    timers_stop(t);
}
END_TEST

struct canceller {
    struct tc_timers *t;
    int64_t id;
    const void *owner;      /* non-NULL: cancel the owner instead */
    struct probe *p;
    int finished_seen;
    sem_t returned;
};

static void *cancel_main(void *arg)
{
    struct canceller *c = arg;

    if (c->owner)
        tc_timers_cancel_owner(c->t, c->owner);
    else
        tc_timers_cancel(c->t, c->id);
    c->finished_seen = atomic_load(&c->p->finished);
    sem_post(&c->returned);
    return NULL;
}

static void cancel_waits_for_running_callback(int by_owner)
{
    struct tc_timers *t = timers_start();
    struct canceller c = { 0 };
    struct probe p;
    pthread_t th;

    probe_init(&p, t);
    p.block = 1;
    tc_timers_release(t, &owner_a);
    c.t = t;
    c.p = &p;
    c.owner = by_owner ? &owner_a : NULL;
    c.id = tc_timers_add(t, &owner_a, 0, 1000, probe_fn, &p);
    sem_init(&c.returned, 0, 0);
    ck_assert_int_eq(sem_wait_ms(&p.entered, 2000), 0);
    pthread_create(&th, NULL, cancel_main, &c);
    ck_assert_msg(sem_wait_ms(&c.returned, 200) != 0,
                  "cancel returned while the callback was running");
    sem_post(&p.gate);
    ck_assert_int_eq(sem_wait_ms(&c.returned, 2000), 0);
    pthread_join(th, NULL);
    ck_assert_int_eq(c.finished_seen, 1);
    /* A periodic timer, cancelled mid-run, does not come back. */
    tc_clock_advance(HOUR);
    ck_assert_int_ne(sem_wait_ms(&p.entered, 200), 0);
    timers_stop(t);
    ck_assert_int_eq(atomic_load(&p.count), 1);
}

START_TEST(test_cancel_returns_only_when_the_callback_is_not_running)
{
    cancel_waits_for_running_callback(0);
}
END_TEST

START_TEST(test_cancel_owner_returns_only_when_the_callback_is_not_running)
{
    cancel_waits_for_running_callback(1);
}
END_TEST

START_TEST(test_cancel_from_inside_the_callback_does_not_deadlock)
{
    struct tc_timers *t = timers_start();
    struct probe p;

    probe_init(&p, t);
    p.owner = &owner_a;
    p.self_id = tc_timers_add(t, &owner_a, 0, 10, probe_fn, &p);
    tc_timers_release(t, &owner_a); /* after self_id is set: the callback reads it */
    ck_assert_int_eq(sem_wait_ms(&p.fired, 5000), 0);
    timers_stop(t);
    ck_assert_int_eq(atomic_load(&p.count), 1);
}
END_TEST

START_TEST(test_nothing_fires_before_release_and_after_cancel_owner)
{
    struct tc_timers *t = timers_start();
    struct probe p;

    probe_init(&p, t);
    /* As a plugin does in create(): added before its start() returned. */
    tc_timers_add(t, &owner_a, 0, 0, probe_fn, &p);
    tc_clock_advance(HOUR);
    ck_assert_msg(sem_wait_ms(&p.fired, 200) != 0, "a timer fired before start() returned");
    tc_timers_release(t, &owner_a);
    ck_assert_int_eq(sem_wait_ms(&p.fired, 2000), 0);
    /* Stopped instances are held again. */
    tc_timers_cancel_owner(t, &owner_a);
    tc_timers_add(t, &owner_a, 0, 0, probe_fn, &p);
    ck_assert_int_ne(sem_wait_ms(&p.fired, 200), 0);
    timers_stop(t);
    ck_assert_int_eq(atomic_load(&p.count), 1);
}
END_TEST

START_TEST(test_a_periodic_timer_fires_once_after_a_jump_not_a_burst)
{
    struct tc_timers *t = timers_start();
    struct probe p;

    tc_clock_advance(0);
    probe_init(&p, t);
    tc_timers_release(t, &owner_a);
    tc_timers_add(t, &owner_a, 60000, 60000, probe_fn, &p);
    tc_clock_advance(HOUR);
    ck_assert_int_eq(sem_wait_ms(&p.fired, 2000), 0);
    ck_assert_int_ne(sem_wait_ms(&p.fired, 200), 0);
    ck_assert_int_eq(atomic_load(&p.count), 1);
    tc_clock_advance(60000);
    ck_assert_int_eq(sem_wait_ms(&p.fired, 2000), 0);
    timers_stop(t);
}
END_TEST

START_TEST(test_stop_with_pending_timers_and_idle_owners_is_clean)
{
    struct tc_timers *t = timers_start();
    struct probe p;

    probe_init(&p, t);
    tc_timers_release(t, &owner_b); /* an instance without timers: no thread */
    tc_timers_add(t, &owner_a, HOUR, 0, probe_fn, &p);
    tc_timers_release(t, &owner_a);
    timers_stop(t);
    ck_assert_int_eq(atomic_load(&p.count), 0);
}
END_TEST

static Suite *timers_suite(void)
{
    Suite *s = suite_create("clock and timers");
    TCase *clock = tcase_create("clock"), *timers = tcase_create("timers");

    tcase_set_timeout(clock, 20);
    tcase_set_timeout(timers, 20);
    tcase_add_test(clock, test_advance_moves_now_and_makes_a_test_clock);
    tcase_add_test(clock, test_an_hour_long_wait_ends_soon_after_the_clock_jumps);
    tcase_add_test(clock, test_a_signal_ends_the_wait_before_its_due_time);
    tcase_add_test(clock, test_a_past_due_time_times_out_at_once_and_a_short_one_is_kept);
    tcase_add_test(timers, test_timer_fires_when_the_test_clock_reaches_it);
    tcase_add_test(timers, test_a_slow_callback_does_not_delay_another_owners_timer);
    tcase_add_test(timers, test_an_owners_callbacks_run_one_at_a_time);
    tcase_add_test(timers, test_cancel_returns_only_when_the_callback_is_not_running);
    tcase_add_test(timers, test_cancel_owner_returns_only_when_the_callback_is_not_running);
    tcase_add_test(timers, test_cancel_from_inside_the_callback_does_not_deadlock);
    tcase_add_test(timers, test_nothing_fires_before_release_and_after_cancel_owner);
    tcase_add_test(timers, test_a_periodic_timer_fires_once_after_a_jump_not_a_burst);
    tcase_add_test(timers, test_stop_with_pending_timers_and_idle_owners_is_clean);
    suite_add_tcase(s, clock);
    suite_add_tcase(s, timers);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(timers_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
