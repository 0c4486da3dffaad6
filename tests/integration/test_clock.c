/* test_clock.c: the daemon's deadlines follow the test clock (the file
 * named by TOCSIN_TEST_CLOCK): an alert expiring in an hour is resolved as
 * expired within a second of moving the clock two hours ahead, and a sink
 * retry an hour out happens as soon as the clock gets there. Two hours also
 * clear a start-up grace of one resolve_timeout (default 5 min). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "harness.h"

#define HOUR (3600 * 1000LL)

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct fixture {
    struct peer *p;
    struct h_daemon d;
};

/* hook_only: route to the hook alone, so that the console hears only what
 * the hook hands to it as its fallback. */
static void up_ex(struct fixture *f, const char *hook_extra, int hook_only)
{
    struct h_config c = { 0 };

    f->p = h_peer_started();
    c.peer_port = peer_port(f->p);
    c.hook_extra = hook_extra;
    h_init(&f->d);
    h_config_standard(&f->d, &c);
    if (hook_only) {
        char *conf = h_read_file(f->d.conf);
        char *cut;

        ck_assert_ptr_nonnull(conf);
        cut = strstr(conf, ", \"console\" ];");
        ck_assert_ptr_nonnull(cut);
        *cut = '\0';
        h_write_config(&f->d, "%s ]; }\n);\n", conf);
        free(conf);
    }
    h_clock_enable(&f->d);
    h_start(&f->d);
}

static void up(struct fixture *f, const char *hook_extra)
{
    up_ex(f, hook_extra, 0);
}

static void down(struct fixture *f)
{
    h_assert_no_violations(&f->d, f->p);
    h_assert(&f->d, h_stop(&f->d, 15000) == 0, "SIGTERM: exit status not 0");
    peer_free(f->p);
}

static const char *state_of(struct fixture *f, int64_t id, json_t **inc)
{
    json_decref(*inc);
    *inc = h_incident(&f->d, id);
    return h_jstr(*inc, "state");
}

/* Polls the incident's state for up to ms of real time. */
static int becomes(struct fixture *f, int64_t id, const char *want, int ms, json_t **inc)
{
    int64_t end = h_now_ms() + ms;

    for (;;) {
        if (strcmp(state_of(f, id, inc), want) == 0)
            return 1;
        if (h_now_ms() > end)
            return 0;
        h_sleep_ms(20);
    }
}

START_TEST(test_an_hour_expiry_follows_the_test_clock)
{
    struct fixture f;
    char body[512], at[64], am_key[17];
    int64_t native, prom, t0;
    json_t *inc = NULL;
    struct h_resp r;

    up(&f, NULL);
    h_assert(&f.d, h_count_lines(f.d.log, "test clock in use") == 1,
             "tocsind did not warn that the test clock is in use");
    /* The native schema through the generic input... */
    tc_time_format(wall_ms() + HOUR, at, sizeof at);
    snprintf(body, sizeof body,
             "{\"dedup_key\": \"clock-native\", \"status\": \"firing\","
             " \"severity\": \"critical\", \"summary\": \"expires in 1h\","
             " \"expires_at\": \"%s\"}",
             at);
    h_req(&f.d, "POST", "/api/v1/alerts", body, &r);
    h_assert(&f.d, r.status == 202, "POST /api/v1/alerts: HTTP %ld: %s", r.status, r.body);
    h_resp_free(&r);
    /* ... and Prometheus' endsAt through the alertmanager input. */
    {
        char *am = h_am_alert("ClockTest", "db1", "critical", "ends in 1h", 3600);

        h_req(&f.d, "POST", "/api/v2/alerts", am, &r);
        free(am);
        h_assert(&f.d, r.status >= 200 && r.status < 300, "alertmanager intake: HTTP %ld: %s",
                 r.status, r.body);
        h_resp_free(&r);
    }
    h_am_fingerprint("ClockTest", "db1", "critical", am_key);
    native = h_incident_by_key(&f.d, "clock-native");
    prom = h_incident_by_key(&f.d, am_key);
    h_assert(&f.d, native > 0 && prom > 0, "incidents not opened (%lld, %lld)",
             (long long)native, (long long)prom);
    /* A real second changes nothing: an hour is far. */
    h_sleep_ms(1000);
    h_assert(&f.d, strcmp(state_of(&f, native, &inc), "triggered") == 0,
             "expired before its time (%s)", h_jstr(inc, "state"));

    h_clock_advance(&f.d, 2 * HOUR);
    t0 = h_now_ms();
    h_assert(&f.d, becomes(&f, native, "resolved", 1500, &inc),
             "not expired within 1.5 s of a 2 h jump (%s)", h_jstr(inc, "state"));
    ck_assert_str_eq(h_jstr(inc, "resolved_by"), "expired");
    h_assert(&f.d, becomes(&f, prom, "resolved", 1500, &inc),
             "the Prometheus alert did not expire (%s)", h_jstr(inc, "state"));
    ck_assert_str_eq(h_jstr(inc, "resolved_by"), "expired");
    fprintf(stderr, "expired %lld ms after the jump\n", (long long)(h_now_ms() - t0));
    json_decref(inc);
    down(&f);
}
END_TEST

START_TEST(test_a_retry_an_hour_out_follows_the_test_clock)
{
    struct fixture f;
    int64_t id;
    json_t *n;
    struct h_resp r;

    up(&f, "retry_base = \"1h\"; retry_max = \"2h\"; max_attempts = 5;");
    peer_script(f.p, "500");
    h_req(&f.d, "POST", "/api/v1/alerts",
          "{\"dedup_key\": \"clock-retry\", \"status\": \"firing\", \"severity\": \"critical\","
          " \"summary\": \"retried in an hour\"}",
          &r);
    h_assert(&f.d, r.status == 202, "POST /api/v1/alerts: HTTP %ld", r.status);
    h_resp_free(&r);
    h_assert(&f.d, peer_wait_requests(f.p, 1, 10000) >= 1, "the first attempt never came");
    id = h_incident_by_key(&f.d, "clock-retry");
    h_assert(&f.d, id > 0, "no incident");
    /* The retry is an hour (with jitter, at most two) away. */
    h_sleep_ms(500);
    h_assert(&f.d, peer_count(f.p) == 1, "retried early: %zu requests", peer_count(f.p));
    h_clock_advance(&f.d, 2 * HOUR + 60000);
    n = h_wait_notification(&f.d, id, "hook", "trigger", "done", 2000);
    h_assert(&f.d, n != NULL, "the retry did not follow the clock");
    json_decref(n);
    ck_assert_uint_eq(peer_count(f.p), 2);
    down(&f);
}
END_TEST

/* --- retries on a time budget ------------------------------------------ */

#define MINUTE (60 * 1000LL)

/* The daemon's now: the wall clock plus the test clock's offset. */
static int64_t fake_now(const struct fixture *f)
{
    return wall_ms() + __atomic_load_n(f->d.clock, __ATOMIC_SEQ_CST);
}

/* The notification (owned) of incident id to sink for action, or NULL. */
static json_t *row_of(struct fixture *f, int64_t id, const char *sink, const char *action)
{
    json_t *inc = h_incident(&f->d, id), *n, *found = NULL;
    size_t i;

    json_array_foreach(json_object_get(inc, "notifications"), i, n) {
        if (strcmp(h_jstr(n, "sink"), sink) == 0 && strcmp(h_jstr(n, "action"), action) == 0) {
            found = json_incref(n);
            break;
        }
    }
    json_decref(inc);
    return found;
}

/* Waits (real time) until the row is no longer due at the daemon's now of
 * the call: it is no longer pending, or it is pending for a later time.
 * A due retry runs within ~20 ms of a jump; ten seconds mean a stall. */
static json_t *settle(struct fixture *f, int64_t id, const char *sink, const char *action)
{
    int64_t at = fake_now(f), end = h_now_ms() + 10000, next;

    for (;;) {
        json_t *n = row_of(f, id, sink, action);
        json_t *na = n ? json_object_get(n, "next_at") : NULL;

        if (n && strcmp(h_jstr(n, "state"), "pending") != 0)
            return n;
        if (n && h_jint(n, "attempts") > 0 && json_is_string(na) &&
            tc_time_parse(json_string_value(na), &next) == 0 && next > at)
            return n;
        json_decref(n);
        h_assert(&f->d, h_now_ms() < end,
                 "the %s %s of incident %lld was due and did not run within 10 s", sink,
                 action, (long long)id);
        h_sleep_ms(10);
    }
}

/* Moves the test clock by minutes, a minute at a time, letting the due
 * retry of the row run after each step. Returns the row (owned). */
static json_t *minutes(struct fixture *f, int n, int64_t id, const char *sink,
                       const char *action)
{
    json_t *row = NULL;
    int i;

    for (i = 0; i < n; i++) {
        h_clock_advance(&f->d, MINUTE);
        json_decref(row);
        row = settle(f, id, sink, action);
    }
    return row;
}

static size_t answered(struct peer *p, int status)
{
    size_t i, k = 0, n = peer_count(p);

    for (i = 0; i < n; i++)
        if (peer_get(p, i)->status == status)
            k++;
    return k;
}

/* The hook on the defaults (retry_for 24h, retry_base 1s, retry_max 5m, no
 * max_attempts), with its provider down for three hours: refusing
 * connections for the first 90 minutes, answering 503 for the next 90. The
 * page still goes out, once, when the provider is back, and the backoff
 * (exponential from 1 s, equal jitter: a delay in [d/2, d], d capped at
 * 5 m) makes a few dozen attempts, not hundreds.
 *
 * The count, on one-minute steps: attempts 1-9 (d up to 256 s) take at
 * least a step each and at most 8.5 minutes together; from then on a delay
 * of 150-300 s puts the next attempt 3 to 5 steps (6 at a tick's edge)
 * later. Over 180 steps: at least 9 + 171/6 > 36, at most
 * 9 + 171/3 = 66 (about 48 on average). */
#define BUDGET_HOOK "" /* the defaults */

START_TEST(test_a_sink_down_for_three_hours_still_delivers)
{
    struct fixture f;
    int64_t id;
    int refused, attempts;
    json_t *n;
    struct h_resp r;

    up(&f, BUDGET_HOOK);
    peer_stop(f.p);
    h_req(&f.d, "POST", "/api/v1/alerts",
          "{\"dedup_key\": \"budget-3h\", \"status\": \"firing\", \"severity\": \"critical\","
          " \"summary\": \"the provider is down for three hours\"}",
          &r);
    h_assert(&f.d, r.status == 202, "POST /api/v1/alerts: HTTP %ld", r.status);
    h_resp_free(&r);
    id = h_incident_by_key(&f.d, "budget-3h");
    h_assert(&f.d, id > 0, "no incident");

    /* 90 minutes of refused connections... */
    n = minutes(&f, 90, id, "hook", "trigger");
    h_assert(&f.d, strcmp(h_jstr(n, "state"), "pending") == 0,
             "given up after 90 minutes: %s (%s)", h_jstr(n, "state"),
             json_string_value(json_object_get(n, "last_error")));
    refused = (int)h_jint(n, "attempts");
    json_decref(n);
    /* ... then 90 minutes of 503 (no Retry-After: each costs an attempt). */
    peer_default(f.p, 503);
    h_assert(&f.d, peer_start(f.p) == 0, "peer_start");
    n = minutes(&f, 90, id, "hook", "trigger");
    h_assert(&f.d, strcmp(h_jstr(n, "state"), "pending") == 0,
             "given up after 3 hours: %s (%s)", h_jstr(n, "state"),
             json_string_value(json_object_get(n, "last_error")));
    ck_assert_int_eq(h_jint(n, "attempts"), refused + (int)peer_count(f.p));
    ck_assert_uint_eq(answered(f.p, 200), 0);
    json_decref(n);

    /* The provider is back: the next retry, at most retry_max away, gets
     * through. */
    peer_default(f.p, 200);
    json_decref(minutes(&f, 5, id, "hook", "trigger"));
    n = h_wait_notification(&f.d, id, "hook", "trigger", "done", 3000);
    h_assert(&f.d, n != NULL, "not delivered within retry_max of the provider's return");
    attempts = (int)h_jint(n, "attempts");
    fprintf(stderr, "3 h down: %d attempts (%d refused, %zu answered 503), then delivered\n",
            attempts, refused, answered(f.p, 503));
    ck_assert_int_eq(attempts, refused + (int)peer_count(f.p));
    h_assert(&f.d, attempts >= 36 && attempts <= 66,
             "%d attempts in 3 h: not the backoff of retry_base 1s, retry_max 5m", attempts);
    json_decref(n);
    ck_assert_uint_eq(answered(f.p, 200), 1);
    n = h_incident(&f.d, id);
    h_assert(&f.d, h_timeline_find(n, "notified", "\"sink\":\"hook\"") != NULL,
             "no notified entry in the timeline");
    h_assert(&f.d, h_timeline_find(n, "notify_failed", NULL) == NULL,
             "a notify_failed entry although it was delivered");
    json_decref(n);
    /* Exactly once: an hour later nothing more went out. */
    h_clock_advance(&f.d, HOUR);
    h_sleep_ms(300);
    ck_assert_uint_eq(answered(f.p, 200), 1);
    ck_assert_int_eq(h_metric(&f.d, "tocsin_sink_notifications_total{sink=\"hook\","
                                    "outcome=\"failed\"}"), 0);
    down(&f);
}
END_TEST

/* retry_for = 2h with fallback = "console", the route to the hook alone,
 * the provider down throughout: the trigger is given up on at the 2 h
 * deadline (not before), the resolve queued behind it is skipped, and both
 * go to the console in order; the hook never sends them, even once its
 * provider is back. */
START_TEST(test_the_fallback_gets_what_is_finally_given_up)
{
    struct fixture f;
    int64_t id;
    json_t *n, *inc;
    char *text, *trig, *res;
    struct h_resp r;

    up_ex(&f, "retry_for = \"2h\"; fallback = \"console\";", 1);
    peer_stop(f.p);
    h_req(&f.d, "POST", "/api/v1/alerts",
          "{\"dedup_key\": \"budget-fallback\", \"status\": \"firing\","
          " \"severity\": \"critical\", \"summary\": \"given up after two hours\"}",
          &r);
    h_assert(&f.d, r.status == 202, "POST /api/v1/alerts: HTTP %ld", r.status);
    h_resp_free(&r);
    id = h_incident_by_key(&f.d, "budget-fallback");
    h_assert(&f.d, id > 0, "no incident");
    h_req(&f.d, "POST", "/api/v1/alerts",
          "{\"dedup_key\": \"budget-fallback\", \"status\": \"resolved\","
          " \"severity\": \"critical\", \"summary\": \"given up after two hours\"}",
          &r);
    h_assert(&f.d, r.status == 202, "POST /api/v1/alerts (resolved): HTTP %ld", r.status);
    h_resp_free(&r);
    /* The resolve waits behind the retrying trigger. */
    n = h_wait_notification(&f.d, id, "hook", "resolve", "pending", 3000);
    h_assert(&f.d, n != NULL, "no pending resolve row to the hook");
    json_decref(n);

    /* Not given up before the budget is spent... */
    n = minutes(&f, 119, id, "hook", "trigger");
    h_assert(&f.d, strcmp(h_jstr(n, "state"), "pending") == 0,
             "given up before retry_for (2h): %s after 119 minutes (%s)", h_jstr(n, "state"),
             json_string_value(json_object_get(n, "last_error")));
    json_decref(n);
    n = row_of(&f, id, "console", "trigger");
    h_assert(&f.d, n == NULL, "the fallback got the trigger before the hook gave up");
    /* ... and given up at the deadline. */
    n = minutes(&f, 2, id, "hook", "trigger");
    h_assert(&f.d, strcmp(h_jstr(n, "state"), "failed") == 0,
             "not given up at retry_for (2h): %s after 121 minutes", h_jstr(n, "state"));
    h_assert(&f.d, strstr(h_jstr(n, "last_error"), "gave up after") != NULL &&
                       strstr(h_jstr(n, "last_error"), " in 2h00m") != NULL,
             "last_error: %s", h_jstr(n, "last_error"));
    json_decref(n);
    n = h_wait_notification(&f.d, id, "hook", "resolve", "skipped", 3000);
    h_assert(&f.d, n != NULL, "the resolve behind the failed trigger was not skipped");
    json_decref(n);
    n = h_wait_notification(&f.d, id, "console", "resolve", "done", 5000);
    h_assert(&f.d, n != NULL, "the fallback did not deliver the resolve");
    json_decref(n);
    n = h_wait_notification(&f.d, id, "console", "trigger", "done", 1000);
    h_assert(&f.d, n != NULL, "the fallback did not deliver the trigger");
    json_decref(n);

    inc = h_incident(&f.d, id);
    h_assert(&f.d, h_timeline_find(inc, "notify_failed", "\"fallback\":\"console\"") != NULL,
             "no notify_failed naming the fallback");
    h_assert(&f.d, h_timeline_find(inc, "notify_skipped", "\"action\":\"resolve\"") != NULL,
             "no notify_skipped for the resolve");
    h_assert(&f.d, h_timeline_find(inc, "notify_skipped", "\"fallback\":\"console\"") != NULL,
             "the notify_skipped entry does not name the fallback");
    json_decref(inc);
    text = h_read_file(f.d.console);
    h_assert(&f.d, text != NULL, "no console file");
    trig = strstr(text, "TRIGGER incident");
    res = strstr(text, "RESOLVE incident");
    h_assert(&f.d, trig && res && trig < res, "console: not TRIGGER then RESOLVE:\n%s", text);
    free(text);
    ck_assert_int_eq(h_count_lines(f.d.console, "TRIGGER incident"), 1);
    ck_assert_int_eq(h_count_lines(f.d.console, "RESOLVE incident"), 1);
    ck_assert_int_eq(h_metric(&f.d, "tocsin_sink_notifications_total{sink=\"hook\","
                                    "outcome=\"failed\"}"), 1);
    ck_assert_int_eq(h_metric(&f.d, "tocsin_sink_notifications_total{sink=\"hook\","
                                    "outcome=\"skipped\"}"), 1);
    h_assert(&f.d, h_count_lines(f.d.log, "failed permanently") == 1,
             "expected one 'failed permanently' line in the log");

    /* The provider comes back: the hook sends nothing of that incident. */
    h_assert(&f.d, peer_start(f.p) == 0, "peer_start");
    h_clock_advance(&f.d, HOUR);
    h_sleep_ms(300);
    h_clock_advance(&f.d, 24 * HOUR);
    h_sleep_ms(300);
    ck_assert_uint_eq(peer_count(f.p), 0);
    down(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("integration: test clock");
    TCase *tc = h_tcase("clock", 60);

    tcase_add_test(tc, test_an_hour_expiry_follows_the_test_clock);
    tcase_add_test(tc, test_a_retry_an_hour_out_follows_the_test_clock);
    suite_add_tcase(s, tc);
    /* Hundreds of steps of the clock under the sanitizers: more time. */
    tc = h_tcase("retry budget", 180);
    tcase_add_test(tc, test_a_sink_down_for_three_hours_still_delivers);
    tcase_add_test(tc, test_the_fallback_gets_what_is_finally_given_up);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(suite());
}
