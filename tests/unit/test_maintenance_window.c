/* test_maintenance_window.c: a maintenance window's pure part
 * (plugins/policy/maintenance/window.c): its JSON forms, the fields its
 * errors name, its state over time, the stored round trip and
 * Alertmanager's silence filter. */
#define _GNU_SOURCE
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "window.h"

#define T0 1800000000000LL /* 2027-01-15T08:00:00Z */
#define HOUR (3600 * 1000LL)

static int parse(struct mw_window *w, const char *text, enum mw_form form, char *err,
                 size_t errlen, int *missing)
{
    json_t *o = json_loads(text, 0, NULL);
    int rc;

    ck_assert_ptr_nonnull(o);
    rc = mw_window_from_json(w, o, form, T0, err, errlen, missing);
    json_decref(o);
    return rc;
}

/* The error of a body that must fail, which must start with prefix. */
static void refused(const char *text, enum mw_form form, const char *prefix)
{
    struct mw_window w;
    char err[400];

    ck_assert_msg(parse(&w, text, form, err, sizeof err, NULL) != 0, "%s was accepted", text);
    ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0, "%s: \"%s\" is not \"%s...\"", text,
                  err, prefix);
    mw_window_release(&w);
}

START_TEST(test_a_one_off_window_over_time)
{
    struct mw_window w;
    char err[400];
    int64_t s, e;

    ck_assert_int_eq(parse(&w,
                           "{\"created_by\": \"ana\", \"comment\": \"x\","
                           " \"starts_at\": \"2027-01-15T09:00:00Z\","
                           " \"ends_at\": \"2027-01-15T10:00:00+00:00\","
                           " \"matchers\": [\"service=db\"]}",
                           MW_FORM_NATIVE, err, sizeof err, NULL),
                     0);
    ck_assert_int_eq(mw_window_span(&w, T0, &s, &e), MW_PENDING);
    ck_assert_int_eq(s, T0 + HOUR);
    ck_assert_int_eq(mw_window_span(&w, T0 + HOUR, &s, &e), MW_ACTIVE);
    ck_assert_int_eq(mw_window_span(&w, T0 + 2 * HOUR - 1, &s, &e), MW_ACTIVE);
    ck_assert_int_eq(mw_window_span(&w, T0 + 2 * HOUR, &s, &e), MW_EXPIRED);
    ck_assert_int_eq(w.created_at, T0);
    ck_assert_str_eq(w.created_by, "ana");
    ck_assert_uint_eq(w.n_m, 1);
    mw_window_release(&w);
}
END_TEST

START_TEST(test_errors_name_the_field)
{
    refused("{\"ends_at\": \"2099-01-01T00:00:00Z\"}", MW_FORM_NATIVE, "created_by:");
    refused("{\"created_by\": 3, \"ends_at\": \"2099-01-01T00:00:00Z\"}", MW_FORM_NATIVE,
            "created_by:");
    refused("{\"created_by\": \"a\"}", MW_FORM_NATIVE, "ends_at:");
    refused("{\"created_by\": \"a\", \"ends_at\": \"2027-02-30T00:00:00Z\"}", MW_FORM_NATIVE,
            "ends_at:");
    refused("{\"created_by\": \"a\", \"ends_at\": \"2020-01-01T00:00:00Z\"}", MW_FORM_NATIVE,
            "ends_at: in the past");
    refused("{\"created_by\": \"a\", \"starts_at\": \"2099-01-01T00:00:00Z\","
            " \"ends_at\": \"2099-01-01T00:00:00Z\"}",
            MW_FORM_NATIVE, "ends_at: not after starts_at");
    refused("{\"created_by\": \"a\", \"ends_at\": \"2099-01-01T00:00:00Z\","
            " \"matchers\": [\"a=b\", 7]}",
            MW_FORM_NATIVE, "matchers[1]:");
    refused("{\"created_by\": \"a\", \"ends_at\": \"2099-01-01T00:00:00Z\","
            " \"matchers\": [{\"name\": \"a\", \"value\": \"b\", \"isRegex\": \"yes\"}]}",
            MW_FORM_NATIVE, "matchers[0]: isRegex");
    refused("{\"createdBy\": \"a\", \"comment\": \"c\", \"startsAt\": \"2099-01-01T00:00:00Z\"}",
            MW_FORM_SILENCE, "endsAt:");
}
END_TEST

START_TEST(test_a_silence_missing_a_field_says_so)
{
    struct mw_window w;
    char err[400];
    int missing = 0;

    ck_assert_int_ne(parse(&w,
                           "{\"createdBy\": \"a\", \"startsAt\": \"2099-01-01T00:00:00Z\","
                           " \"endsAt\": \"2099-01-02T00:00:00Z\","
                           " \"matchers\": [{\"name\": \"a\", \"value\": \"b\","
                           " \"isRegex\": false}]}",
                           MW_FORM_SILENCE, err, sizeof err, &missing),
                     0);
    ck_assert_int_eq(missing, 1);
    ck_assert_str_eq(err, "comment: required");
    mw_window_release(&w);
}
END_TEST

/* Alertmanager starts a silence whose start is past as of now. */
START_TEST(test_a_silence_that_started_in_the_past_starts_now)
{
    struct mw_window w;
    char err[400];
    json_t *o;

    ck_assert_int_eq(parse(&w,
                           "{\"createdBy\": \"a\", \"comment\": \"c\","
                           " \"startsAt\": \"2020-01-01T00:00:00Z\","
                           " \"endsAt\": \"2027-01-15T09:00:00Z\","
                           " \"matchers\": [{\"name\": \"job\", \"value\": \"b.*\","
                           " \"isRegex\": true, \"isEqual\": false}]}",
                           MW_FORM_SILENCE, err, sizeof err, NULL),
                     0);
    ck_assert_int_eq(w.starts_at, T0);
    ck_assert_int_eq(w.m[0].op, TC_MATCH_NRE);
    snprintf(w.id, sizeof w.id, "%s", "0f0e0d0c-0000-4000-8000-000000000000");
    o = mw_window_to_json(&w, MW_FORM_SILENCE, T0);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(o, "status"), "state")),
                     "active");
    ck_assert_str_eq(json_string_value(json_object_get(o, "startsAt")),
                     "2027-01-15T08:00:00.000Z");
    ck_assert(json_is_false(
        json_object_get(json_array_get(json_object_get(o, "matchers"), 0), "isEqual")));
    json_decref(o);
    mw_window_release(&w);
}
END_TEST

START_TEST(test_the_stored_form_round_trips)
{
    struct mw_window w, back;
    char err[400], *a, *b;
    json_t *o;

    ck_assert_int_eq(parse(&w,
                           "{\"created_by\": \"ana\", \"comment\": \"pg\","
                           " \"ends_at\": \"2027-01-15T09:00:00Z\","
                           " \"matchers\": [\"service=\\\"db\\\"\", \"env!~\\\"dev|test\\\"\"]}",
                           MW_FORM_NATIVE, err, sizeof err, NULL),
                     0);
    snprintf(w.id, sizeof w.id, "%s", "a-window");
    o = mw_window_to_json(&w, MW_FORM_STORED, T0);
    ck_assert_int_eq(mw_window_from_json(&back, o, MW_FORM_STORED, 0, err, sizeof err, NULL), 0);
    json_decref(o);
    o = mw_window_to_json(&w, MW_FORM_NATIVE, T0);
    a = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(o);
    o = mw_window_to_json(&back, MW_FORM_NATIVE, T0);
    b = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(o);
    ck_assert_str_eq(a, b);
    free(a);
    free(b);
    ck_assert_str_eq(back.id, "a-window");
    ck_assert_int_eq(back.starts_at, T0);
    mw_window_release(&w);
    mw_window_release(&back);
}
END_TEST

/* Alertmanager's rule: filters match the silence's own matcher values. */
START_TEST(test_the_silence_filter)
{
    struct mw_window w;
    struct tc_matcher f;
    char err[400];

    ck_assert_int_eq(parse(&w,
                           "{\"created_by\": \"a\", \"ends_at\": \"2099-01-01T00:00:00Z\","
                           " \"matchers\": [\"service=db\", \"severity=~crit.*\"]}",
                           MW_FORM_NATIVE, err, sizeof err, NULL),
                     0);
    ck_assert_int_eq(tc_matcher_parse(&f, "service=db", err, sizeof err), 0);
    ck_assert(mw_window_filter(&w, &f, 1));
    tc_matcher_free(&f);
    ck_assert_int_eq(tc_matcher_parse(&f, "service=web", err, sizeof err), 0);
    ck_assert(!mw_window_filter(&w, &f, 1));
    tc_matcher_free(&f);
    ck_assert_int_eq(tc_matcher_parse(&f, "team=ops", err, sizeof err), 0);
    ck_assert(!mw_window_filter(&w, &f, 1));
    tc_matcher_free(&f);
    ck_assert_int_eq(tc_matcher_parse(&f, "team!=ops", err, sizeof err), 0);
    ck_assert(mw_window_filter(&w, &f, 1));
    tc_matcher_free(&f);
    mw_window_release(&w);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("maintenance_window");
    TCase *tc = tcase_create("window");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_a_one_off_window_over_time);
    tcase_add_test(tc, test_errors_name_the_field);
    tcase_add_test(tc, test_a_silence_missing_a_field_says_so);
    tcase_add_test(tc, test_a_silence_that_started_in_the_past_starts_now);
    tcase_add_test(tc, test_the_stored_form_round_trips);
    tcase_add_test(tc, test_the_silence_filter);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
