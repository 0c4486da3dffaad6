/* test_heartbeat_state.c: the heartbeat's state machine (state.c): which
 * deadline falls due when, that each fires once until a ping, what pings,
 * starts and failures change, and the stored text both ways. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "state.h"

#define T0 1795403700000LL
#define MIN 60000LL
#define HOUR (60 * MIN)

static const struct hb_timing hourly = { HOUR, 5 * MIN, 0 };
static const struct hb_timing timed = { HOUR, 5 * MIN, 10 * MIN };

START_TEST(test_nothing_due_before_interval_plus_grace)
{
    struct hb_state st;
    int64_t at = -1;

    hb_state_init(&st, T0);
    ck_assert_int_eq(hb_next_check(&st, &hourly), T0 + HOUR + 5 * MIN);
    ck_assert_int_eq(hb_due(&st, &hourly, T0 + HOUR + 5 * MIN - 1, &at), HB_UP);
    ck_assert_int_eq(at, -1);
}
END_TEST

START_TEST(test_missed_fires_once_at_its_deadline)
{
    struct hb_state st;
    int64_t at = 0;

    hb_state_init(&st, T0);
    ck_assert_int_eq(hb_due(&st, &hourly, T0 + HOUR + 5 * MIN, &at), HB_MISSED);
    ck_assert_int_eq(at, T0 + HOUR + 5 * MIN);
    hb_on_fired(&st, HB_MISSED, at);
    /* Firing: nothing else falls due, however late it gets. */
    ck_assert_int_eq(hb_due(&st, &hourly, T0 + 100 * HOUR, &at), HB_UP);
    ck_assert_int_eq(hb_next_check(&st, &hourly), 0);
}
END_TEST

START_TEST(test_a_long_outage_reports_the_missed_deadline_time)
{
    struct hb_state st;
    int64_t at = 0;

    hb_state_init(&st, T0);
    ck_assert_int_eq(hb_due(&st, &hourly, T0 + 48 * HOUR, &at), HB_MISSED);
    ck_assert_int_eq(at, T0 + HOUR + 5 * MIN);
}
END_TEST

START_TEST(test_ping_resolves_and_moves_the_deadline)
{
    struct hb_state st;
    int64_t at = 0;

    hb_state_init(&st, T0);
    ck_assert_int_eq(hb_on_ping(&st, T0 + 30 * MIN), 0); /* nothing fired: nothing to say */
    ck_assert_int_eq(hb_next_check(&st, &hourly), T0 + 30 * MIN + HOUR + 5 * MIN);
    ck_assert_int_eq(hb_due(&st, &hourly, T0 + 2 * HOUR, &at), HB_MISSED);
    hb_on_fired(&st, HB_MISSED, at);
    ck_assert_int_eq(hb_on_ping(&st, T0 + 3 * HOUR), 1);
    ck_assert_int_eq(st.why, HB_UP);
    ck_assert_int_eq(hb_next_check(&st, &hourly), T0 + 4 * HOUR + 5 * MIN);
}
END_TEST

START_TEST(test_start_times_the_run_and_ping_ends_it)
{
    struct hb_state st;
    int64_t at = 0;

    hb_state_init(&st, T0);
    hb_on_start(&st, T0 + 20 * MIN);
    ck_assert_int_eq(hb_next_check(&st, &timed), T0 + 30 * MIN);
    ck_assert_int_eq(hb_due(&st, &timed, T0 + 30 * MIN - 1, &at), HB_UP);
    ck_assert_int_eq(hb_due(&st, &timed, T0 + 30 * MIN, &at), HB_OVERRUN);
    ck_assert_int_eq(at, T0 + 30 * MIN);
    /* A ping within max_runtime ends the run: no overrun later. */
    hb_state_init(&st, T0);
    hb_on_start(&st, T0 + 20 * MIN);
    ck_assert_int_eq(hb_on_ping(&st, T0 + 25 * MIN), 0);
    ck_assert_int_eq(st.run_started, 0);
    ck_assert_int_eq(hb_due(&st, &timed, T0 + 40 * MIN, &at), HB_UP);
}
END_TEST

START_TEST(test_start_without_max_runtime_is_not_timed)
{
    struct hb_state st;
    int64_t at = 0;

    hb_state_init(&st, T0);
    hb_on_start(&st, T0 + 20 * MIN);
    ck_assert_int_eq(hb_run_deadline(&st, &hourly), 0);
    ck_assert_int_eq(hb_next_check(&st, &hourly), T0 + HOUR + 5 * MIN);
    ck_assert_int_eq(hb_due(&st, &hourly, T0 + HOUR, &at), HB_UP);
}
END_TEST

START_TEST(test_the_earlier_of_two_passed_deadlines_wins)
{
    struct hb_state st;
    int64_t at = 0;

    /* It overran 5 min before it was late: the overrun. */
    hb_state_init(&st, T0);
    hb_on_start(&st, T0 + 50 * MIN);
    ck_assert_int_eq(hb_due(&st, &timed, T0 + 10 * HOUR, &at), HB_OVERRUN);
    ck_assert_int_eq(at, T0 + 60 * MIN);
    /* Started after it: missed first. */
    hb_state_init(&st, T0);
    hb_on_start(&st, T0 + 64 * MIN);
    ck_assert_int_eq(hb_due(&st, &timed, T0 + 10 * HOUR, &at), HB_MISSED);
    ck_assert_int_eq(at, T0 + 65 * MIN);
}
END_TEST

START_TEST(test_fail_fires_and_counts_as_a_run)
{
    struct hb_state st;
    int64_t at = 0;

    hb_state_init(&st, T0);
    hb_on_start(&st, T0 + MIN);
    ck_assert_int_eq(hb_on_fail(&st, T0 + 2 * MIN), 1);
    ck_assert_int_eq(st.why, HB_FAILED);
    ck_assert_int_eq(st.run_started, 0);
    ck_assert_int_eq(st.last_ping, T0 + 2 * MIN);
    ck_assert_int_eq(hb_due(&st, &timed, T0 + 10 * HOUR, &at), HB_UP);
    ck_assert_int_eq(hb_on_ping(&st, T0 + 3 * MIN), 1);
}
END_TEST

START_TEST(test_state_text_round_trips)
{
    struct hb_state st, back;
    char text[128];

    hb_state_init(&st, T0);
    hb_on_start(&st, T0 + MIN);
    hb_on_fired(&st, HB_OVERRUN, T0 + 11 * MIN);
    hb_state_format(&st, text, sizeof text);
    memset(&back, 0x55, sizeof back);
    ck_assert_int_eq(hb_state_parse(text, &back), 0);
    ck_assert_int_eq(back.last_ping, st.last_ping);
    ck_assert_int_eq(back.run_started, st.run_started);
    ck_assert_int_eq(back.why, HB_OVERRUN);
    ck_assert_int_eq(back.fired_at, T0 + 11 * MIN);
}
END_TEST

START_TEST(test_state_text_refuses_what_it_did_not_write)
{
    static const char *const bad[] = {
        "", "1", "2 1 0 0 0", "1 1 0 0", "1 1 0 4 0", "1 1 0 -1 0", "1 x 0 0 0",
        "1 1 0 0 0 9", "1 1  0 0 0", "1 99999999999999999999 0 0 0", "1 1 0 0 0x",
    };
    struct hb_state st;
    size_t i;

    hb_state_init(&st, T0);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(hb_state_parse(bad[i], &st) == -1, "accepted \"%s\"", bad[i]);
        ck_assert_int_eq(st.last_ping, T0);
    }
    ck_assert_int_eq(hb_state_parse(NULL, &st), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("heartbeat_state");
    TCase *tc = tcase_create("state");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_nothing_due_before_interval_plus_grace);
    tcase_add_test(tc, test_missed_fires_once_at_its_deadline);
    tcase_add_test(tc, test_a_long_outage_reports_the_missed_deadline_time);
    tcase_add_test(tc, test_ping_resolves_and_moves_the_deadline);
    tcase_add_test(tc, test_start_times_the_run_and_ping_ends_it);
    tcase_add_test(tc, test_start_without_max_runtime_is_not_timed);
    tcase_add_test(tc, test_the_earlier_of_two_passed_deadlines_wins);
    tcase_add_test(tc, test_fail_fires_and_counts_as_a_run);
    tcase_add_test(tc, test_state_text_round_trips);
    tcase_add_test(tc, test_state_text_refuses_what_it_did_not_write);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
