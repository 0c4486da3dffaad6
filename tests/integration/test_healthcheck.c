/* test_healthcheck.c: the healthcheck input in the real tocsind against
 * real local servers (tests/peers/target.c), one probe per hour of the
 * test clock: a target that answers 200, then 503, then hangs, then
 * refuses fires after `failures` probes with the summary naming the URL
 * and what failed, and resolves when it answers again; body_contains,
 * max_latency, HEAD, TCP probes (refused, and a full accept queue that
 * times out); a hanging target does not hold up another instance's
 * probe; whether it fires survives a restart. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../peers/target.h"
#include "harness.h"

#define HOUR (3600 * 1000LL)

static void up(struct h_daemon *d, const char *inputs)
{
    h_init(d);
    h_write_config(d,
                   "daemon = { listen = \"127.0.0.1:0\"; state_dir = \"%s\";\n"
                   "  plugin_dir = \"%s\"; log_level = \"debug\"; };\n"
                   "inputs = ( %s );\n"
                   "sinks = ( { id = \"console\"; plugin = \"console\"; path = \"%s\"; } );\n"
                   "routes = ( { sinks = [ \"console\" ]; } );\n",
                   d->state_dir, getenv("TOCSIN_PLUGIN_DIR"), inputs, d->console);
    h_clock_enable(d);
    h_start(d);
}

static struct target *target(void)
{
    struct target *t = target_start();

    ck_assert_msg(t != NULL, "cannot start the probe target");
    return t;
}

/* The newest incident of key as listed (owned), or NULL. Its "summary"
 * is the trigger's; "alert" is the latest alert the input sent. */
static json_t *incident_of(const struct h_daemon *d, const char *key)
{
    int64_t id = h_incident_by_key(d, key);

    return id < 0 ? NULL : h_incident(d, id);
}

struct want {
    const struct h_daemon *d;
    const char *key, *state, *summary;
};

static int matches(void *arg)
{
    struct want *w = arg;
    json_t *inc = incident_of(w->d, w->key);
    const char *latest = inc ? h_jsub(inc, "alert", "summary") : NULL;
    int ok = inc && strcmp(json_string_value(json_object_get(inc, "state")), w->state) == 0 &&
             (!w->summary || (latest && strcmp(latest, w->summary) == 0));

    json_decref(inc);
    return ok;
}

/* Waits until key's newest incident is in state (with summary, if set). */
static void wait_for(const struct h_daemon *d, const char *key, const char *state,
                     const char *summary)
{
    struct want w = { d, key, state, summary };
    json_t *inc;

    if (h_wait_until(matches, &w, 8000))
        return;
    inc = incident_of(d, key);
    h_assert(d, 0, "%s never became %s \"%s\"; it is %s \"%s\"", key, state,
             summary ? summary : "", inc ? h_jstr(inc, "state") : "(none)",
             inc && h_jsub(inc, "alert", "summary") ? h_jsub(inc, "alert", "summary") : "");
}

/* One hour on: each instance with a 1h interval probes once more. */
static void next_probe(struct h_daemon *d)
{
    h_clock_advance(d, HOUR);
}

START_TEST(test_a_target_that_answers_then_fails_then_hangs_then_refuses)
{
    struct target *t = target();
    struct h_daemon d;
    char inputs[512], sum[256];

    snprintf(inputs, sizeof inputs,
             "{ id = \"web\"; plugin = \"healthcheck\";"
             " url = \"http://127.0.0.1:%d/health?key=s3cret\"; interval = \"1h\";"
             " timeout = \"1s\"; }", target_port(t));
    up(&d, inputs);
    /* The first probe at start: healthy. */
    h_assert(&d, target_wait_connections(t, 1, 5000) >= 1, "no first probe");
    target_answer(t, 503, "down", 0);
    next_probe(&d);
    h_assert(&d, target_wait_connections(t, 2, 5000) >= 2, "no second probe");
    h_sleep_ms(300);
    h_assert(&d, h_incident_by_key(&d, "healthcheck/web") < 0, "fired after one failure");
    next_probe(&d);
    snprintf(sum, sizeof sum, "http://127.0.0.1:%d/health: status 503", target_port(t));
    wait_for(&d, "healthcheck/web", "triggered", sum);
    /* Still failing, another way: the open incident says so. */
    target_hang(t);
    next_probe(&d);
    snprintf(sum, sizeof sum, "http://127.0.0.1:%d/health: timeout after 1 s", target_port(t));
    wait_for(&d, "healthcheck/web", "triggered", sum);
    target_refuse(t);
    next_probe(&d);
    snprintf(sum, sizeof sum, "http://127.0.0.1:%d/health: connection refused",
             target_port(t));
    wait_for(&d, "healthcheck/web", "triggered", sum);
    target_answer(t, 200, "ok", 0);
    next_probe(&d);
    snprintf(sum, sizeof sum, "http://127.0.0.1:%d/health: healthy again", target_port(t));
    wait_for(&d, "healthcheck/web", "resolved", sum);
    h_assert(&d, h_stop(&d, 10000) == 0, "SIGTERM: exit status not 0");
    /* The query string may hold a key: never in the log. */
    ck_assert_int_eq(h_count_lines(d.log, "s3cret"), 0);
    target_free(t);
    h_passed();
}
END_TEST

START_TEST(test_body_contains_and_max_latency)
{
    struct target *t = target();
    struct h_daemon d;
    char inputs[512], sum[256];
    json_t *inc;

    target_answer(t, 200, "{\"status\":\"healthy\"}", 0);
    snprintf(inputs, sizeof inputs,
             "{ id = \"api\"; plugin = \"healthcheck\"; url = \"http://127.0.0.1:%d/\";"
             " interval = \"1h\"; timeout = \"3s\"; failures = 1; successes = 2;"
             " body_contains = \"healthy\"; max_latency = \"300ms\";"
             " headers = { X-Probe = \"tocsin\"; }; severity = \"critical\"; }",
             target_port(t));
    up(&d, inputs);
    h_assert(&d, target_wait_connections(t, 1, 5000) >= 1, "no first probe");
    target_answer(t, 200, "{\"status\":\"degraded\"}", 0);
    next_probe(&d);
    snprintf(sum, sizeof sum, "http://127.0.0.1:%d/: answer lacks \"healthy\"", target_port(t));
    wait_for(&d, "healthcheck/api", "triggered", sum);
    inc = incident_of(&d, "healthcheck/api");
    ck_assert_str_eq(h_jstr(inc, "severity"), "critical");
    json_decref(inc);
    /* The right answer, too slowly: failing still, for another reason. */
    target_answer(t, 200, "{\"status\":\"healthy\"}", 600);
    next_probe(&d);
    h_assert(&d, target_wait_connections(t, 3, 5000) >= 3, "no third probe");
    {
        struct want w = { &d, "healthcheck/api", "triggered", NULL };
        int64_t end = h_now_ms() + 8000;
        int slow = 0;

        while (!slow && h_now_ms() < end) {
            inc = incident_of(&d, "healthcheck/api");
            slow = strstr(h_jsub(inc, "alert", "summary"), " s > 0.3 s") != NULL;
            json_decref(inc);
            if (!slow)
                h_sleep_ms(20);
        }
        h_assert(&d, slow && matches(&w), "a slow answer did not count as failing");
    }
    /* successes = 2: one good probe is not enough. */
    target_answer(t, 200, "{\"status\":\"healthy\"}", 0);
    next_probe(&d);
    h_assert(&d, target_wait_connections(t, 4, 5000) >= 4, "no fourth probe");
    h_sleep_ms(300);
    wait_for(&d, "healthcheck/api", "triggered", NULL);
    next_probe(&d);
    wait_for(&d, "healthcheck/api", "resolved", NULL);
    h_assert(&d, h_stop(&d, 10000) == 0, "SIGTERM: exit status not 0");
    target_free(t);
    h_passed();
}
END_TEST

START_TEST(test_head_gets_its_answer_without_waiting_for_a_body)
{
    struct target *t = target();
    struct h_daemon d;
    char inputs[512], method[16], line[128];

    snprintf(inputs, sizeof inputs,
             "{ id = \"head\"; plugin = \"healthcheck\"; url = \"http://127.0.0.1:%d/head\";"
             " method = \"head\"; interval = \"1h\"; timeout = \"2s\"; failures = 1; }",
             target_port(t));
    up(&d, inputs);
    h_assert(&d, target_wait_connections(t, 1, 5000) >= 1, "no first probe");
    target_last_method(t, method, sizeof method);
    ck_assert_str_eq(method, "HEAD");
    /* The probe's own verdict (debug log): a HEAD answer announces a body
     * it does not send; waiting for it would end in a timeout. */
    snprintf(line, sizeof line, "http://127.0.0.1:%d/head: ok (", target_port(t));
    {
        int64_t end = h_now_ms() + 8000;

        while (h_count_lines(d.log, line) == 0 && h_now_ms() < end)
            h_sleep_ms(20);
    }
    h_assert(&d, h_count_lines(d.log, line) == 1, "HEAD probe not healthy");
    ck_assert_int_eq(h_incident_by_key(&d, "healthcheck/head"), -1);
    h_assert(&d, h_stop(&d, 10000) == 0, "SIGTERM: exit status not 0");
    target_free(t);
    h_passed();
}
END_TEST

START_TEST(test_tcp_probes_refused_and_timed_out)
{
    struct target *t = target();
    struct h_daemon d;
    char inputs[512], sum[256];

    snprintf(inputs, sizeof inputs,
             "{ id = \"db\"; plugin = \"healthcheck\"; tcp = \"127.0.0.1:%d\";"
             " interval = \"1h\"; timeout = \"1s\"; failures = 1; }", target_port(t));
    up(&d, inputs);
    h_assert(&d, target_wait_connections(t, 1, 5000) >= 1, "no first connect");
    target_refuse(t);
    next_probe(&d);
    snprintf(sum, sizeof sum, "127.0.0.1:%d: connection refused", target_port(t));
    wait_for(&d, "healthcheck/db", "triggered", sum);
    target_answer(t, 200, "", 0);
    next_probe(&d);
    snprintf(sum, sizeof sum, "127.0.0.1:%d: healthy again", target_port(t));
    wait_for(&d, "healthcheck/db", "resolved", sum);
    /* Listening, but the accept queue is full: the SYN gets no answer. */
    target_blackhole(t);
    next_probe(&d);
    snprintf(sum, sizeof sum, "127.0.0.1:%d: timeout after 1 s", target_port(t));
    wait_for(&d, "healthcheck/db", "triggered", sum);
    h_assert(&d, h_stop(&d, 10000) == 0, "SIGTERM: exit status not 0");
    target_free(t);
    h_passed();
}
END_TEST

START_TEST(test_a_hanging_target_holds_up_no_other_instance)
{
    struct target *slow = target(), *fast = target();
    struct h_daemon d;
    char inputs[1024];

    /* slow probes every hour, fast every two: when fast's probe falls due,
     * slow's is hanging. Were their timers one queue, fast's probe would
     * wait behind it, and slow (failures = 1) would fire first. */
    snprintf(inputs, sizeof inputs,
             "{ id = \"slow\"; plugin = \"healthcheck\"; url = \"http://127.0.0.1:%d/\";"
             " interval = \"1h\"; timeout = \"8s\"; failures = 1; },"
             "{ id = \"fast\"; plugin = \"healthcheck\"; url = \"http://127.0.0.1:%d/\";"
             " interval = \"2h\"; timeout = \"1s\"; failures = 1; }",
             target_port(slow), target_port(fast));
    up(&d, inputs);
    h_assert(&d, target_wait_connections(slow, 1, 5000) >= 1, "no first probe of slow");
    h_assert(&d, target_wait_connections(fast, 1, 5000) >= 1, "no first probe of fast");
    target_hang(slow);
    target_answer(fast, 503, "", 0);
    next_probe(&d);
    h_assert(&d, target_wait_connections(slow, 2, 5000) >= 2, "slow's probe did not start");
    next_probe(&d);
    wait_for(&d, "healthcheck/fast", "triggered", NULL);
    h_assert(&d, h_incident_by_key(&d, "healthcheck/slow") < 0,
             "slow fired before fast's probe ran: fast waited behind it");
    /* SIGTERM aborts the hanging probe. */
    h_assert(&d, h_stop(&d, 15000) == 0, "SIGTERM: exit status not 0");
    target_free(slow);
    target_free(fast);
    h_passed();
}
END_TEST

START_TEST(test_a_firing_check_still_resolves_after_a_restart)
{
    struct target *t = target();
    struct h_daemon d;
    char inputs[512];

    target_answer(t, 500, "", 0);
    snprintf(inputs, sizeof inputs,
             "{ id = \"svc\"; plugin = \"healthcheck\"; url = \"http://127.0.0.1:%d/\";"
             " interval = \"1h\"; timeout = \"1s\"; failures = 1; }", target_port(t));
    up(&d, inputs);
    wait_for(&d, "healthcheck/svc", "triggered", NULL);
    h_assert(&d, h_stop(&d, 10000) == 0, "SIGTERM: exit status not 0");
    target_answer(t, 200, "", 0);
    h_start(&d);
    wait_for(&d, "healthcheck/svc", "resolved", NULL);
    h_assert(&d, h_stop(&d, 10000) == 0, "SIGTERM: exit status not 0");
    target_free(t);
    h_passed();
}
END_TEST

START_TEST(test_bad_options_are_named_by_check_config)
{
    struct h_daemon d;
    char *out = NULL;

    h_init(&d);
    h_write_config(&d,
                   "daemon = { listen = \"127.0.0.1:0\"; state_dir = \"%s\";"
                   " plugin_dir = \"%s\"; };\n"
                   "inputs = (\n"
                   "  { id = \"both\"; plugin = \"healthcheck\"; url = \"http://a/\";"
                   " tcp = \"a:1\"; },\n"
                   "  { id = \"ftp\"; plugin = \"healthcheck\"; url = \"ftp://a/\"; },\n"
                   "  { id = \"status\"; plugin = \"healthcheck\"; url = \"http://a/\";"
                   " expect_status = \"2xx\"; },\n"
                   "  { id = \"post\"; plugin = \"healthcheck\"; url = \"http://a/\";"
                   " method = \"POST\"; },\n"
                   "  { id = \"port\"; plugin = \"healthcheck\"; tcp = \"db1\"; },\n"
                   "  { id = \"slow\"; plugin = \"healthcheck\"; tcp = \"db1:5432\";"
                   " interval = \"5s\"; timeout = \"10s\"; }\n"
                   ");\n"
                   "sinks = ( { id = \"console\"; plugin = \"console\"; } );\n"
                   "routes = ( { sinks = [ \"console\" ]; } );\n",
                   d.state_dir, getenv("TOCSIN_PLUGIN_DIR"));
    ck_assert_int_eq(h_run_tocsind(&out, "--check-config", "-c", d.conf, (char *)NULL), 1);
    ck_assert_msg(strstr(out, "\"both\" (healthcheck): set one of url") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "\"ftp\" (healthcheck): url must start with http://") != NULL,
                  "%s", out);
    ck_assert_msg(strstr(out, "\"status\" (healthcheck): expect_status \"2xx\"") != NULL, "%s",
                  out);
    ck_assert_msg(strstr(out, "\"post\" (healthcheck): method \"POST\"") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "\"port\" (healthcheck): tcp \"db1\"") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "\"slow\" (healthcheck): timeout must not be longer") != NULL,
                  "%s", out);
    free(out);
    h_passed();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("healthcheck");
    TCase *tc = h_tcase("healthcheck", 90);

    tcase_add_test(tc, test_a_target_that_answers_then_fails_then_hangs_then_refuses);
    tcase_add_test(tc, test_body_contains_and_max_latency);
    tcase_add_test(tc, test_head_gets_its_answer_without_waiting_for_a_body);
    tcase_add_test(tc, test_tcp_probes_refused_and_timed_out);
    tcase_add_test(tc, test_a_hanging_target_holds_up_no_other_instance);
    tcase_add_test(tc, test_a_firing_check_still_resolves_after_a_restart);
    tcase_add_test(tc, test_bad_options_are_named_by_check_config);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
