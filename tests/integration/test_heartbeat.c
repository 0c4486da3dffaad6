/* test_heartbeat.c: the heartbeat input in the real tocsind, on the test
 * clock: a missed heartbeat fires at interval + grace and not before, the
 * next ping resolves it; /fail fires at once with what the job sent;
 * /start with max_runtime fires when no ping follows; a deadline missed
 * while tocsind was down fires once after the restart, and not again
 * after another; the token and the input's bearer_token are enforced, and
 * a browser's cross-site request is refused. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define MIN (60 * 1000LL)
#define HOUR (60 * MIN)
#define TOKEN "hb-token-0123456789abcdef"

/* Two jobs: "backup" (hourly, 5 min grace, runs timed to 10 min) and
 * "report" (daily, with a token), plus `extra` inputs. */
static void config(struct h_daemon *d, const char *extra)
{
    h_write_config(d,
                   "daemon = { listen = \"127.0.0.1:0\"; state_dir = \"%s\";\n"
                   "  plugin_dir = \"%s\"; log_level = \"debug\"; };\n"
                   "inputs = (\n"
                   "  { id = \"hb-backup\"; plugin = \"heartbeat\"; name = \"backup\";\n"
                   "    interval = \"1h\"; grace = \"5m\"; max_runtime = \"10m\"; },\n"
                   "  { id = \"report\"; plugin = \"heartbeat\"; interval = \"1d\";\n"
                   "    severity = \"critical\"; token = \"" TOKEN "\"; }%s\n"
                   ");\n"
                   "sinks = ( { id = \"console\"; plugin = \"console\"; path = \"%s\"; } );\n"
                   "routes = ( { sinks = [ \"console\" ]; } );\n",
                   d->state_dir, getenv("TOCSIN_PLUGIN_DIR"), extra ? extra : "", d->console);
}

static void up(struct h_daemon *d, const char *extra)
{
    h_init(d);
    config(d, extra);
    h_clock_enable(d);
    h_start(d);
}

static long call(const struct h_daemon *d, const char *method, const char *path,
                 const char *body, const char *const *headers)
{
    struct h_resp r;
    char url[512];
    long status;

    snprintf(url, sizeof url, "%s%s", d->base, path);
    h_http_ex(method, url, body, body ? strlen(body) : 0, 5000, headers, &r);
    status = r.status;
    h_resp_free(&r);
    return status;
}

/* The incident of the job's key as listed (owned), or NULL. */
static json_t *incident_of(const struct h_daemon *d, const char *key)
{
    int64_t id = h_incident_by_key(d, key);

    return id < 0 ? NULL : h_incident(d, id);
}

struct want {
    const struct h_daemon *d;
    const char *key, *state;
};

static int in_state(void *arg)
{
    struct want *w = arg;
    json_t *inc = incident_of(w->d, w->key);
    int ok = inc && strcmp(json_string_value(json_object_get(inc, "state")), w->state) == 0;

    json_decref(inc);
    return ok;
}

static void wait_state(const struct h_daemon *d, const char *key, const char *state)
{
    struct want w = { d, key, state };

    h_assert(d, h_wait_until(in_state, &w, 5000), "incident %s never became %s", key, state);
}

START_TEST(test_missed_heartbeat_fires_after_interval_and_grace)
{
    struct h_daemon d;
    json_t *inc;

    up(&d, NULL);
    h_assert(&d, call(&d, "GET", "/hooks/heartbeat/backup", NULL, NULL) == 200, "ping");
    /* Late, but within the grace: nothing. The state is checked after a
     * real-time pause long enough for the timer to have noticed. */
    h_clock_advance(&d, HOUR + 4 * MIN);
    h_sleep_ms(300);
    h_assert(&d, h_incident_by_key(&d, "heartbeat/backup") < 0, "fired within the grace");
    h_clock_advance(&d, 2 * MIN);
    wait_state(&d, "heartbeat/backup", "triggered");
    inc = incident_of(&d, "heartbeat/backup");
    ck_assert_str_eq(h_jstr(inc, "summary"), "backup missed its heartbeat");
    ck_assert_str_eq(h_jstr(inc, "severity"), "high");
    ck_assert_str_eq(h_jstr(inc, "source"), "hb-backup");
    ck_assert_ptr_nonnull(strstr(h_jsub(inc, "alert", "details"), "expected every 1h (grace 5m)"));
    json_decref(inc);
    /* Later still: it fired once, it does not fire again. */
    h_clock_advance(&d, 3 * HOUR);
    h_sleep_ms(300);
    inc = incident_of(&d, "heartbeat/backup");
    ck_assert_int_eq(h_jint(inc, "occurrences"), 1);
    json_decref(inc);
    /* The next ping (POST works as well as GET) resolves it. */
    h_assert(&d, call(&d, "POST", "/hooks/heartbeat/backup", "", NULL) == 200, "ping");
    wait_state(&d, "heartbeat/backup", "resolved");
    ck_assert_int_eq(h_count_lines(d.log, "backup: missed its heartbeat"), 1);
    h_assert(&d, h_stop(&d, 10000) == 0, "SIGTERM: exit status not 0");
    h_passed();
}
END_TEST

START_TEST(test_fail_fires_at_once_with_the_jobs_output)
{
    struct h_daemon d;
    json_t *inc;

    up(&d, NULL);
    h_assert(&d, call(&d, "POST", "/hooks/heartbeat/backup/fail", "rsync: exit code 23",
                      NULL) == 200, "fail");
    wait_state(&d, "heartbeat/backup", "triggered");
    inc = incident_of(&d, "heartbeat/backup");
    ck_assert_str_eq(h_jstr(inc, "summary"), "backup reported a failure");
    ck_assert_str_eq(h_jsub(inc, "alert", "details"), "rsync: exit code 23");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(
                         json_object_get(inc, "alert"), "labels"), "reason")), "failed");
    json_decref(inc);
    h_assert(&d, call(&d, "GET", "/hooks/heartbeat/backup", NULL, NULL) == 200, "ping");
    wait_state(&d, "heartbeat/backup", "resolved");
    h_assert(&d, h_stop(&d, 10000) == 0, "SIGTERM: exit status not 0");
    h_passed();
}
END_TEST

START_TEST(test_a_run_longer_than_max_runtime_fires)
{
    struct h_daemon d;
    json_t *inc;

    up(&d, NULL);
    /* A run that pings in time: nothing. */
    h_assert(&d, call(&d, "POST", "/hooks/heartbeat/backup/start", NULL, NULL) == 200, "start");
    h_clock_advance(&d, 9 * MIN);
    h_assert(&d, call(&d, "POST", "/hooks/heartbeat/backup", NULL, NULL) == 200, "ping");
    h_clock_advance(&d, 20 * MIN);
    h_sleep_ms(300);
    h_assert(&d, h_incident_by_key(&d, "heartbeat/backup") < 0, "a timely run fired");
    /* A run that hangs: fires at max_runtime, long before it is late. */
    h_assert(&d, call(&d, "GET", "/hooks/heartbeat/backup/start", NULL, NULL) == 200, "start");
    h_clock_advance(&d, 11 * MIN);
    wait_state(&d, "heartbeat/backup", "triggered");
    inc = incident_of(&d, "heartbeat/backup");
    ck_assert_str_eq(h_jstr(inc, "summary"), "backup ran longer than 10m");
    json_decref(inc);
    h_assert(&d, call(&d, "POST", "/hooks/heartbeat/backup", NULL, NULL) == 200, "ping");
    wait_state(&d, "heartbeat/backup", "resolved");
    h_assert(&d, h_stop(&d, 10000) == 0, "SIGTERM: exit status not 0");
    h_passed();
}
END_TEST

START_TEST(test_a_deadline_missed_while_down_fires_once_after_restart)
{
    struct h_daemon d;
    json_t *inc;

    up(&d, NULL);
    h_assert(&d, call(&d, "GET", "/hooks/heartbeat/backup", NULL, NULL) == 200, "ping");
    h_assert(&d, h_stop(&d, 10000) == 0, "SIGTERM: exit status not 0");
    /* tocsind is down for two days: the deadline passes unwatched. */
    h_clock_advance(&d, 48 * HOUR);
    h_start(&d);
    wait_state(&d, "heartbeat/backup", "triggered");
    inc = incident_of(&d, "heartbeat/backup");
    ck_assert_str_eq(h_jstr(inc, "summary"), "backup missed its heartbeat");
    json_decref(inc);
    /* Another restart, later still: the stored state says it fired. */
    h_assert(&d, h_stop(&d, 10000) == 0, "SIGTERM: exit status not 0");
    h_clock_advance(&d, 5 * HOUR);
    h_start(&d);
    h_sleep_ms(300);
    inc = incident_of(&d, "heartbeat/backup");
    ck_assert_int_eq(h_jint(inc, "occurrences"), 1);
    ck_assert_str_eq(h_jstr(inc, "state"), "triggered");
    json_decref(inc);
    ck_assert_int_eq(h_count_lines(d.log, "backup: missed its heartbeat"), 1);
    /* And the ping after all that resolves it. */
    h_assert(&d, call(&d, "GET", "/hooks/heartbeat/backup", NULL, NULL) == 200, "ping");
    wait_state(&d, "heartbeat/backup", "resolved");
    h_assert(&d, h_stop(&d, 10000) == 0, "SIGTERM: exit status not 0");
    h_passed();
}
END_TEST

START_TEST(test_a_job_that_never_pings_fires_too)
{
    struct h_daemon d;

    up(&d, NULL);
    h_clock_advance(&d, HOUR + 6 * MIN);
    wait_state(&d, "heartbeat/backup", "triggered");
    h_assert(&d, h_stop(&d, 10000) == 0, "SIGTERM: exit status not 0");
    h_passed();
}
END_TEST

START_TEST(test_the_token_is_asked_and_never_logged)
{
    static const char *const good_hdr[] = { "X-Heartbeat-Token: " TOKEN, NULL };
    static const char *const bad_hdr[] = { "X-Heartbeat-Token: " TOKEN "x", NULL };
    static const char *const bearer[] = { "Authorization: Bearer " TOKEN, NULL };
    struct h_daemon d;
    char *log;

    up(&d, NULL);
    h_assert(&d, call(&d, "GET", "/hooks/heartbeat/report", NULL, NULL) == 401, "no token");
    h_assert(&d, call(&d, "GET", "/hooks/heartbeat/report?token=nope", NULL, NULL) == 401,
             "wrong token");
    h_assert(&d, call(&d, "GET", "/hooks/heartbeat/report/fail", NULL, bad_hdr) == 401,
             "wrong header token");
    /* The core's credentials are not this route's. */
    h_assert(&d, call(&d, "GET", "/hooks/heartbeat/report/fail", NULL, bearer) == 401,
             "bearer instead of the token");
    h_assert(&d, h_incident_by_key(&d, "heartbeat/report") < 0, "refused requests fired");
    h_assert(&d, call(&d, "POST", "/hooks/heartbeat/report/fail?token=" TOKEN, "x", NULL) == 200,
             "fail with ?token=");
    wait_state(&d, "heartbeat/report", "triggered");
    h_assert(&d, call(&d, "GET", "/hooks/heartbeat/report", NULL, good_hdr) == 200,
             "ping with the header");
    wait_state(&d, "heartbeat/report", "resolved");
    h_assert(&d, h_stop(&d, 10000) == 0, "SIGTERM: exit status not 0");
    log = h_read_file(d.log);
    ck_assert_ptr_nonnull(log);
    ck_assert_ptr_nonnull(strstr(log, "refused GET /hooks/heartbeat/report from 127.0.0.1"));
    ck_assert_ptr_null(strstr(log, TOKEN));
    free(log);
    h_passed();
}
END_TEST

START_TEST(test_a_web_page_cannot_ping)
{
    static const char *const cross[] = { "Sec-Fetch-Site: cross-site", NULL };
    static const char *const typed[] = { "Sec-Fetch-Site: none", NULL };
    struct h_daemon d;

    up(&d, NULL);
    /* An <img src> on some page the operator has open: refused. */
    h_assert(&d, call(&d, "GET", "/hooks/heartbeat/backup/fail", NULL, cross) == 403,
             "cross-site GET");
    h_assert(&d, h_incident_by_key(&d, "heartbeat/backup") < 0, "a web page fired it");
    /* The operator typing the URL is no cross-site request. */
    h_assert(&d, call(&d, "GET", "/hooks/heartbeat/backup/fail", NULL, typed) == 200,
             "typed GET");
    wait_state(&d, "heartbeat/backup", "triggered");
    h_assert(&d, h_stop(&d, 10000) == 0, "SIGTERM: exit status not 0");
    h_passed();
}
END_TEST

START_TEST(test_without_a_token_the_inputs_credentials_are_asked)
{
    static const char *const bearer[] = { "Authorization: Bearer " TOKEN, NULL };
    struct h_daemon d;

    up(&d, ",\n  { id = \"guarded\"; plugin = \"heartbeat\"; interval = \"1h\";"
           " bearer_token = \"" TOKEN "\"; }");
    h_assert(&d, call(&d, "GET", "/hooks/heartbeat/guarded", NULL, NULL) == 401, "no bearer");
    h_assert(&d, call(&d, "GET", "/hooks/heartbeat/guarded?token=" TOKEN, NULL, NULL) == 401,
             "a ?token= is not the input's bearer_token");
    h_assert(&d, call(&d, "GET", "/hooks/heartbeat/guarded", NULL, bearer) == 200, "bearer");
    h_assert(&d, call(&d, "PUT", "/hooks/heartbeat/guarded", "", bearer) == 405, "PUT");
    h_assert(&d, h_stop(&d, 10000) == 0, "SIGTERM: exit status not 0");
    h_passed();
}
END_TEST

START_TEST(test_bad_options_are_named_by_check_config)
{
    struct h_daemon d;
    char *out = NULL;

    h_init(&d);
    config(&d, ",\n  { id = \"bad\"; plugin = \"heartbeat\"; name = \"a/b\"; interval = \"1h\"; },"
               "\n  { id = \"short\"; plugin = \"heartbeat\"; interval = \"1h\";"
               " token = \"short\"; },"
               "\n  { id = \"sev\"; plugin = \"heartbeat\"; interval = \"1h\";"
               " severity = \"loud\"; },"
               "\n  { id = \"twin\"; plugin = \"heartbeat\"; name = \"backup\";"
               " interval = \"1h\"; }");
    ck_assert_int_eq(h_run_tocsind(&out, "--check-config", "-c", d.conf, (char *)NULL), 1);
    ck_assert_msg(strstr(out, "input \"bad\" (heartbeat): name \"a/b\"") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "input \"short\" (heartbeat): token: at least 16") != NULL, "%s",
                  out);
    ck_assert_msg(strstr(out, "input \"sev\" (heartbeat): severity \"loud\"") != NULL, "%s",
                  out);
    ck_assert_msg(strstr(out, "/hooks/heartbeat/backup is taken") != NULL, "%s", out);
    free(out);
    h_passed();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("heartbeat");
    TCase *tc = h_tcase("heartbeat", 60);

    tcase_add_test(tc, test_missed_heartbeat_fires_after_interval_and_grace);
    tcase_add_test(tc, test_fail_fires_at_once_with_the_jobs_output);
    tcase_add_test(tc, test_a_run_longer_than_max_runtime_fires);
    tcase_add_test(tc, test_a_deadline_missed_while_down_fires_once_after_restart);
    tcase_add_test(tc, test_a_job_that_never_pings_fires_too);
    tcase_add_test(tc, test_the_token_is_asked_and_never_logged);
    tcase_add_test(tc, test_a_web_page_cannot_ping);
    tcase_add_test(tc, test_without_a_token_the_inputs_credentials_are_asked);
    tcase_add_test(tc, test_bad_options_are_named_by_check_config);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
