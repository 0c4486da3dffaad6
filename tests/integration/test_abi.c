/* test_abi.c: plugin binaries of another ABI minor in the real tocsind.
 * A 1.0 input and sink (tests/abi/input_v1_0.c and sink_v1_0.c, compiled
 * against the frozen 1.0 header) keep working: emit, deliver by value,
 * http, their option tables. 1.1 plugins acting like a later minor (wider alerts, calls and
 * results) work through emit_sized, deliver_sized and http_sized. A 1.0
 * policy judges alerts beside a 1.1 one that hears events. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <tocsin/plugin.h>

#include "harness.h"

/* A temp plugin_dir holding just these test plugins. */
static void plugin_dir(struct h_daemon *d, char *dir, size_t len, const char *const *names)
{
    snprintf(dir, len, "%s/plugins", d->dir);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    for (; *names; names++)
        h_copy_plugin(getenv("TOCSIN_TEST_PLUGIN_DIR"), dir, *names);
}

static void post_word(struct h_daemon *d, const char *path, const char *word, long want,
                      struct h_resp *r)
{
    h_req(d, "POST", path, word, r);
    h_assert(d, r->status == want, "POST %s %s: HTTP %ld, expected %ld: %s", path, word,
             r->status, want, r->body);
}

/* The incident of dedup key `key`, checked against what the input emitted. */
static int64_t check_incident(struct h_daemon *d, const char *key, const char *summary,
                              const char *severity, const char *label, const char *annotation,
                              const char *annotation_value)
{
    int64_t id = h_incident_by_key(d, key);
    json_t *inc, *alert;

    h_assert(d, id > 0, "no incident with dedup_key %s", key);
    inc = h_incident(d, id);
    alert = json_object_get(inc, "alert");
    ck_assert_str_eq(h_jstr(alert, "summary"), summary);
    ck_assert_str_eq(h_jstr(alert, "severity"), severity);
    ck_assert_str_eq(h_jstr(alert, "status"), "firing");
    ck_assert_str_eq(h_jsub(alert, "labels", "alertname"), label);
    ck_assert_str_eq(h_jsub(alert, "annotations", annotation), annotation_value);
    json_decref(inc);
    return id;
}

/* Waits for the trigger to `sink` to be done in exactly two attempts: the
 * plugin's retry, then the peer's 200. */
static void check_retried_then_done(struct h_daemon *d, int64_t id, const char *sink)
{
    json_t *n = h_wait_notification(d, id, sink, "trigger", "done", 20000);

    h_assert(d, n != NULL, "incident %lld: the trigger to %s never got done", (long long)id,
             sink);
    ck_assert_int_eq(h_jint(n, "attempts"), 2);
    json_decref(n);
}

/* The peer's requests for incident id, by attempt (1 and 2). */
static void requests_of(struct peer *p, int64_t id, const struct peer_req *by_attempt[3])
{
    size_t i;

    by_attempt[0] = by_attempt[1] = by_attempt[2] = NULL;
    for (i = 0; i < peer_count(p); i++) {
        const struct peer_req *r = peer_get(p, i);
        json_int_t attempt;

        if (!r->json || json_integer_value(json_object_get(r->json, "incident_id")) != id)
            continue;
        attempt = json_integer_value(json_object_get(r->json, "attempt"));
        ck_assert_msg(attempt == 1 || attempt == 2, "attempt %lld", (long long)attempt);
        ck_assert_msg(by_attempt[attempt] == NULL, "two requests for attempt %lld",
                      (long long)attempt);
        by_attempt[attempt] = r;
    }
    ck_assert_msg(by_attempt[1] && by_attempt[2], "incident %lld: attempts missing at the peer",
                  (long long)id);
}

START_TEST(test_1_0_plugin_binaries_work_in_a_1_1_tocsind)
{
    static const char *const plugins[] = { "input_abi10.so", "sink_abi10.so", NULL };
    char dir[H_PATH_MAX], *out = NULL, *log;
    const struct peer_req *req[3];
    struct peer *p = h_peer_started();
    struct h_daemon d;
    struct h_resp r;
    json_t *opts;
    int64_t a, b;

    h_init(&d);
    plugin_dir(&d, dir, sizeof dir, plugins);
    h_write_config(&d,
                   "daemon = { listen = \"127.0.0.1:0\"; state_dir = \"%s\";\n"
                   "           plugin_dir = \"%s\"; log_level = \"debug\"; };\n"
                   "inputs = ( { id = \"old-in\"; plugin = \"abi10\"; } );\n"
                   "sinks = (\n"
                   "  { id = \"old-out\"; plugin = \"abi10\";\n"
                   "    url = \"http://127.0.0.1:%d/abi10\"; token = \"t0k3n\";\n"
                   "    retries = 1; loud = true; pause = \"2s\"; limit = \"1M\";\n"
                   "    tags = [ \"a\", \"b\" ]; extra = { team = \"db\"; tier = \"1\"; };\n"
                   "    retry_base = \"100ms\"; retry_max = \"200ms\"; }\n"
                   ");\n"
                   "routes = ( { sinks = [ \"old-out\" ]; } );\n",
                   d.state_dir, dir, peer_port(p));

    /* The loader takes it as what it is: ABI 1.0. */
    ck_assert_int_eq(h_run_tocsind(&out, "--list-plugins", "-c", d.conf, (char *)NULL), 0);
    ck_assert_msg(strstr(out, "abi10") && strstr(out, "1.0   ") && !strstr(out, "(/"),
                  "--list-plugins:\n%s", out);
    free(out);

    h_start(&d);
    post_word(&d, "/abi10/alerts", "r1", 202, &r);
    h_resp_free(&r);
    a = check_incident(&d, "abi10-r1-a", "disk full on db1", "high", "DiskFull", "runbook_url",
                       "https://runbooks.example/disk");
    b = check_incident(&d, "abi10-r1-b", "cpu hot on web1", "low", "CpuHot", "description",
                       "cpu 91%");
    check_retried_then_done(&d, a, "old-out");
    check_retried_then_done(&d, b, "old-out");

    requests_of(p, a, req);
    ck_assert_str_eq(h_jstr(req[2]->json, "plugin"), "abi10");
    ck_assert_str_eq(h_jstr(req[2]->json, "action"), "trigger");
    ck_assert_str_eq(h_jsub(req[2]->json, "alert", "dedup_key"), "abi10-r1-a");
    ck_assert_str_eq(json_string_value(json_object_get(req[2]->headers, "x-token")), "t0k3n");
    /* Every option type of the 1.0 table, as the core filled its conf struct. */
    opts = json_object_get(req[2]->json, "options");
    ck_assert_str_eq(h_jstr(opts, "token"), "t0k3n");
    ck_assert_int_eq(h_jint(opts, "retries"), 1);
    ck_assert(json_is_true(json_object_get(opts, "loud")));
    ck_assert_int_eq(h_jint(opts, "pause_ms"), 2000);
    ck_assert_int_eq(h_jint(opts, "limit"), 1024 * 1024);
    ck_assert_int_eq(json_array_size(json_object_get(opts, "tags")), 2);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(opts, "tags"), 1)), "b");
    ck_assert_str_eq(h_jsub(opts, "extra", "team"), "db");
    ck_assert_str_eq(h_jsub(opts, "extra", "tier"), "1");
    ck_assert_int_eq(h_jint(opts, "option_fn_retries"), 1);
    requests_of(p, b, req);
    ck_assert_str_eq(h_jsub(req[1]->json, "alert", "dedup_key"), "abi10-r1-b");
    ck_assert_str_eq(h_jsub(req[1]->json, "alert", "severity"), "low");
    ck_assert_int_eq(peer_count(p), 4);

    /* The retry was the plugin's own verdict, returned by value. */
    log = h_read_file(d.log);
    ck_assert_msg(log && strstr(log, "abi10 asks for a retry (attempt 1)"),
                  "the 1.0 sink's retry reason is not in the log");
    free(log);
    h_assert_no_violations(&d, p);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    peer_free(p);
}
END_TEST

START_TEST(test_1_1_plugins_with_wider_structs_use_the_sized_entry_points)
{
    static const char *const plugins[] = { "input_abi11.so", "sink_abi11.so", NULL };
    char dir[H_PATH_MAX], want[256], *log;
    const struct peer_req *req[3];
    struct peer *p = h_peer_started();
    struct h_daemon d;
    struct h_resp r;
    int64_t a, b;

    h_init(&d);
    plugin_dir(&d, dir, sizeof dir, plugins);
    h_write_config(&d,
                   "daemon = { listen = \"127.0.0.1:0\"; state_dir = \"%s\";\n"
                   "           plugin_dir = \"%s\"; log_level = \"debug\"; };\n"
                   "inputs = ( { id = \"new-in\"; plugin = \"abi11\"; } );\n"
                   "sinks = (\n"
                   "  { id = \"new-out\"; plugin = \"abi11\";\n"
                   "    url = \"http://127.0.0.1:%d/abi11\"; retries = 1;\n"
                   "    retry_base = \"100ms\"; retry_max = \"200ms\"; }\n"
                   ");\n"
                   "routes = ( { sinks = [ \"new-out\" ]; } );\n",
                   d.state_dir, dir, peer_port(p));
    h_start(&d);

    /* Two alerts 16 bytes wider than ours each: the second is found only
     * by stepping alert_size. */
    post_word(&d, "/abi11/alerts", "r2", 202, &r);
    h_resp_free(&r);
    a = check_incident(&d, "abi11-r2-a", "queue stuck on mq1", "critical", "QueueStuck",
                       "description", "queue depth 10k");
    b = check_incident(&d, "abi11-r2-b", "certificate expires on lb1", "medium", "CertExpiry",
                       "runbook_url", "https://runbooks.example/tls");

    /* An alert_size below 1.0's is refused, nothing stored. */
    post_word(&d, "/abi11/alerts", "narrow", 400, &r);
    snprintf(want, sizeof want,
             "alert_size %zu is smaller than an ABI 1.0 struct tocsin_alert (%zu bytes)",
             (size_t)TOCSIN_ALERT_SIZE_1_0 - sizeof(int64_t), (size_t)TOCSIN_ALERT_SIZE_1_0);
    ck_assert_msg(strstr(r.body, want), "refusal: %s", r.body);
    h_resp_free(&r);
    ck_assert_int_eq(h_incident_by_key(&d, "abi11-narrow-a"), -1);

    /* deliver_sized: the plugin's RETRY, then the core's verdict on the
     * peer's 200, each through tocsin_verdict_put into the core's verdict;
     * http_sized zeroed the plugin's wider result (else it fails). */
    check_retried_then_done(&d, a, "new-out");
    check_retried_then_done(&d, b, "new-out");
    requests_of(p, a, req);
    ck_assert_str_eq(h_jstr(req[1]->json, "plugin"), "abi11");
    ck_assert_str_eq(h_jsub(req[1]->json, "alert", "dedup_key"), "abi11-r2-a");
    requests_of(p, b, req);
    ck_assert_str_eq(h_jsub(req[2]->json, "alert", "summary"), "certificate expires on lb1");
    ck_assert_int_eq(peer_count(p), 4);

    log = h_read_file(d.log);
    ck_assert_msg(log && strstr(log, "abi11 asks for a retry (attempt 1)"),
                  "the 1.1 sink's retry reason is not in the log");
    ck_assert_msg(!strstr(log, "deliver (1.0) called"), "the core called deliver, not "
                  "deliver_sized");
    free(log);
    h_assert_no_violations(&d, p);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    peer_free(p);
}
END_TEST

/* A 1.0 policy binary beside a 1.1 one (dedup, with on_event): the 1.0
 * evaluate() still suppresses and annotates, its 1.0 state calls work on
 * the writer thread, and the chain goes on to the 1.1 policy. */
START_TEST(test_1_0_policy_binary_works_in_a_1_1_tocsind)
{
    static const char *const plugins[] = { "policy_abi10.so", NULL };
    char dir[H_PATH_MAX], *out = NULL;
    const char *src = getenv("TOCSIN_PLUGIN_DIR");
    struct peer *p = h_peer_started();
    struct h_daemon d;
    struct h_resp r;
    json_t *inc, *n;
    int64_t loud, muted;

    h_init(&d);
    plugin_dir(&d, dir, sizeof dir, plugins);
    h_copy_plugin(src, dir, "input_generic.so");
    h_copy_plugin(src, dir, "sink_webhook.so");
    h_copy_plugin(src, dir, "policy_dedup.so");
    h_write_config(&d,
                   "daemon = { listen = \"127.0.0.1:0\"; state_dir = \"%s\";\n"
                   "           plugin_dir = \"%s\"; log_level = \"debug\"; };\n"
                   "inputs = ( { id = \"api\"; plugin = \"generic\"; } );\n"
                   "policies = ( { id = \"old\"; plugin = \"abi10\"; },\n"
                   "             { id = \"dedup\"; plugin = \"dedup\"; } );\n"
                   "sinks = ( { id = \"hook\"; plugin = \"webhook\";\n"
                   "            url = \"http://127.0.0.1:%d/hook\"; } );\n"
                   "routes = ( { sinks = [ \"hook\" ]; } );\n",
                   d.state_dir, dir, peer_port(p));
    ck_assert_int_eq(h_run_tocsind(&out, "--list-plugins", "-c", d.conf, (char *)NULL), 0);
    ck_assert_msg(strstr(out, "policy") && strstr(out, "abi10"), "--list-plugins:\n%s", out);
    free(out);
    h_start(&d);
    h_req(&d, "POST", "/api/v1/alerts",
          "[{\"dedup_key\":\"loud\",\"status\":\"firing\",\"summary\":\"loud\"},"
          "{\"dedup_key\":\"quiet\",\"status\":\"firing\",\"summary\":\"quiet\","
          "\"labels\":{\"mute\":\"yes\"}}]", &r);
    h_assert(&d, r.status == 202, "POST: HTTP %ld %s", r.status, r.body);
    h_resp_free(&r);
    loud = h_incident_by_key(&d, "loud");
    muted = h_incident_by_key(&d, "quiet");
    h_assert(&d, loud > 0 && muted > 0, "incidents missing");
    n = h_wait_notification(&d, loud, "hook", "trigger", "done", 10000);
    h_assert(&d, n != NULL, "the passed alert was not delivered");
    json_decref(n);
    inc = h_incident(&d, loud);
    ck_assert_str_eq(h_jsub(json_object_get(inc, "alert"), "annotations", "checked_by"), "abi10");
    json_decref(inc);
    inc = h_incident(&d, muted);
    ck_assert_msg(strstr(h_jstr(inc, "suppressed"), "old: muted by abi10 (mute=yes)"),
                  "suppressed: %s", h_jstr(inc, "suppressed"));
    ck_assert_int_eq(json_array_size(json_object_get(inc, "notifications")), 0);
    json_decref(inc);
    h_assert_no_violations(&d, p);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    peer_free(p);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("integration: plugin ABI");
    TCase *tc = h_tcase("abi", 60);

    tcase_add_test(tc, test_1_0_plugin_binaries_work_in_a_1_1_tocsind);
    tcase_add_test(tc, test_1_1_plugins_with_wider_structs_use_the_sized_entry_points);
    tcase_add_test(tc, test_1_0_policy_binary_works_in_a_1_1_tocsind);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(suite());
}
