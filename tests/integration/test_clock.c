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

static void up(struct fixture *f, const char *hook_extra)
{
    struct h_config c = { 0 };

    f->p = h_peer_started();
    c.peer_port = peer_port(f->p);
    c.hook_extra = hook_extra;
    h_init(&f->d);
    h_config_standard(&f->d, &c);
    h_clock_enable(&f->d);
    h_start(&f->d);
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

static Suite *suite(void)
{
    Suite *s = suite_create("integration: test clock");
    TCase *tc = h_tcase("clock", 60);

    tcase_add_test(tc, test_an_hour_expiry_follows_the_test_clock);
    tcase_add_test(tc, test_a_retry_an_hour_out_follows_the_test_clock);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(suite());
}
