/* test_deadline.c: the daemon's deadlines (core/deadline.c) on real
 * threads and the in-process test clock. */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "deadline.h"

#define HOUR (3600 * 1000LL)

/* What fired, in order. */
static pthread_mutex_t order_lock = PTHREAD_MUTEX_INITIALIZER;
static char order[64];
static sem_t fired;

struct owner {
    struct tc_deadline dl;
    char name;
    int sleep_ms;          /* a fire that takes this long */
    atomic_int count;
};

static void fire(void *arg)
{
    struct owner *o = arg;
    size_t n;

    if (o->sleep_ms)
        usleep((useconds_t)o->sleep_ms * 1000);
    pthread_mutex_lock(&order_lock);
    n = strlen(order);
    if (n + 1 < sizeof order) {
        order[n] = o->name;
        order[n + 1] = '\0';
    }
    pthread_mutex_unlock(&order_lock);
    atomic_fetch_add(&o->count, 1);
    sem_post(&fired);
}

static int wait_fired(int ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    while (sem_timedwait(&fired, &ts) != 0)
        if (errno != EINTR)
            return -1;
    return 0;
}

static struct tc_deadlines *ds;

static void setup(void)
{
    order[0] = '\0';
    sem_init(&fired, 0, 0);
    ds = tc_deadlines_start();
    ck_assert_ptr_nonnull(ds);
}

static void teardown(void)
{
    tc_deadlines_stop(ds);
    sem_destroy(&fired);
}

static void owner(struct owner *o, char name)
{
    o->name = name;
    o->sleep_ms = 0;
    atomic_init(&o->count, 0);
    tc_deadline_init(&o->dl, ds, fire, o);
}

START_TEST(test_deadlines_fire_in_due_order)
{
    struct owner a, b, c;
    int64_t now = tc_now_ms();

    owner(&a, 'a');
    owner(&b, 'b');
    owner(&c, 'c');
    tc_deadline_set(&c.dl, now + 150);
    tc_deadline_set(&a.dl, now + 50);
    tc_deadline_set(&b.dl, now + 100);
    ck_assert_int_eq(wait_fired(2000), 0);
    ck_assert_int_eq(wait_fired(2000), 0);
    ck_assert_int_eq(wait_fired(2000), 0);
    ck_assert_str_eq(order, "abc");
    ck_assert_int_ge(tc_now_ms() - now, 150);
}
END_TEST

START_TEST(test_a_deadline_moves_and_fires_once)
{
    struct owner a, b;
    int64_t now = tc_now_ms();

    owner(&a, 'a');
    owner(&b, 'b');
    tc_deadline_set(&a.dl, now + 60000);
    tc_deadline_set(&b.dl, now + 200);
    tc_deadline_set(&a.dl, now + 50); /* moved earlier: before b */
    ck_assert_int_eq(wait_fired(2000), 0);
    ck_assert_int_eq(wait_fired(2000), 0);
    ck_assert_str_eq(order, "ab");
    tc_deadline_set(&a.dl, now - 1000); /* already past: at once */
    ck_assert_int_eq(wait_fired(1000), 0);
    usleep(100 * 1000);
    ck_assert_int_eq(atomic_load(&a.count), 2);
    ck_assert_int_eq(atomic_load(&b.count), 1);
}
END_TEST

START_TEST(test_cancelled_deadlines_do_not_fire)
{
    struct owner a;

    owner(&a, 'a');
    tc_deadline_set(&a.dl, tc_now_ms() + 100);
    tc_deadline_cancel(&a.dl);
    ck_assert_int_ne(wait_fired(400), 0);
    ck_assert_int_eq(atomic_load(&a.count), 0);
    tc_deadline_cancel(&a.dl); /* twice, or never set: harmless */
}
END_TEST

/* cancel() returns only once a fire() in progress is over, so the owner
 * may free what fire() touches. */
START_TEST(test_cancel_waits_for_a_running_fire)
{
    struct owner a;

    owner(&a, 'a');
    a.sleep_ms = 300;
    tc_deadline_set(&a.dl, tc_now_ms());
    usleep(100 * 1000); /* fire() is sleeping now */
    tc_deadline_cancel(&a.dl);
    ck_assert_int_eq(atomic_load(&a.count), 1);
}
END_TEST

/* A test that moves the clock an hour moves every deadline with it. */
START_TEST(test_the_test_clock_moves_deadlines)
{
    struct owner a;
    int64_t t0;

    tc_clock_advance(0); /* a test clock from the start, as in a test daemon */
    owner(&a, 'a');
    tc_deadline_set(&a.dl, tc_now_ms() + HOUR);
    ck_assert_int_ne(wait_fired(200), 0);
    t0 = tc_now_ms();
    tc_clock_advance(HOUR);
    ck_assert_int_ge(tc_now_ms() - t0, HOUR);
    ck_assert_int_eq(wait_fired(1000), 0);
    ck_assert_int_eq(atomic_load(&a.count), 1);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("deadline");
    TCase *tc = tcase_create("deadline");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_deadlines_fire_in_due_order);
    tcase_add_test(tc, test_a_deadline_moves_and_fires_once);
    tcase_add_test(tc, test_cancelled_deadlines_do_not_fire);
    tcase_add_test(tc, test_cancel_waits_for_a_running_fire);
    tcase_add_test(tc, test_the_test_clock_moves_deadlines);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
