/* test_opsgenie.c: the opsgenie sink in the real tocsind against the strict
 * Opsgenie peer: the exact create, acknowledge and close requests (by a
 * percent-encoded alias), retries with one alias, a refused create in the
 * timeline, a close of an alert Opsgenie no longer has, a hung peer,
 * UTF-8-safe cuts, configuration errors by name, and the API key kept out
 * of everything tocsind shows. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../peers/opsgenie_peer.h"
#include "harness.h"

#define API_KEY "3f0c9a52-6b1d-4e8f-a7c2-9d15e0b4c8aa"
#define EXTERNAL "http://tocsin.example:9099"
#define ALIAS_PATH "/v2/alerts/prom%2FDiskFull%2Fdb1"

static void write_config(struct h_daemon *d, const char *sinks)
{
    h_write_config(d,
                   "daemon = { listen = \"127.0.0.1:0\"; state_dir = \"%s\";\n"
                   "  plugin_dir = \"%s\"; log_level = \"debug\";\n"
                   "  external_url = \"" EXTERNAL "\"; };\n"
                   "inputs = ( { id = \"api\"; plugin = \"generic\"; } );\n"
                   "sinks = ( %s );\n"
                   "routes = ( { sinks = [ \"og\" ]; } );\n",
                   d->state_dir, getenv("TOCSIN_PLUGIN_DIR"), sinks);
}

/* Sink "og" with API_KEY from the environment, pointing at a new peer. */
static void config(struct peer **p, struct og_peer **og, struct h_daemon *d, const char *extra)
{
    char sinks[2048];

    setenv("TOCSIN_IT_OG_KEY", API_KEY, 1);
    *p = h_peer_started();
    *og = opsgenie_peer_attach(*p, API_KEY);
    ck_assert_ptr_nonnull(*og);
    h_init(d);
    snprintf(sinks, sizeof sinks,
             "{ id = \"og\"; plugin = \"opsgenie\"; api_key = \"env:TOCSIN_IT_OG_KEY\";\n"
             "  api_url = \"http://127.0.0.1:%d/\"; retry_base = \"100ms\";\n"
             "  retry_max = \"1s\"; %s }",
             peer_port(*p), extra ? extra : "");
    write_config(d, sinks);
}

static void up(struct peer **p, struct og_peer **og, struct h_daemon *d, const char *extra)
{
    config(p, og, d, extra);
    h_start(d);
}

static void down(struct h_daemon *d, struct peer *p, struct og_peer *og)
{
    h_assert_no_violations(d, p);
    ck_assert_int_eq(h_stop(d, 15000), 0);
    peer_free(p);
    opsgenie_peer_free(og);
}

static void post_alert(struct h_daemon *d, const char *json)
{
    struct h_resp r;

    h_req(d, "POST", "/api/v1/alerts", json, &r);
    h_assert(d, r.status == 202, "POST /api/v1/alerts: HTTP %ld: %s", r.status, r.body);
    h_resp_free(&r);
}

static int64_t incident(struct h_daemon *d, const char *key)
{
    int64_t id = h_incident_by_key(d, key);

    h_assert(d, id > 0, "no incident with dedup_key %s", key);
    return id;
}

static void act(struct h_daemon *d, int64_t id, const char *verb, const char *body)
{
    char path[96];
    struct h_resp r;

    snprintf(path, sizeof path, "/api/v1/incidents/%lld/%s", (long long)id, verb);
    h_req(d, "POST", path, body, &r);
    h_assert(d, r.status == 200, "POST %s: HTTP %ld: %s", path, r.status, r.body);
    h_resp_free(&r);
}

static void wait_state(struct h_daemon *d, int64_t id, const char *action, const char *state,
                       int attempts)
{
    json_t *n = h_wait_notification(d, id, "og", action, state, 20000);

    h_assert(d, n != NULL, "%s of incident %lld never %s", action, (long long)id, state);
    if (attempts)
        ck_assert_int_eq(h_jint(n, "attempts"), attempts);
    json_decref(n);
}

static void expect_json(json_t *got, json_t *want, const char *what)
{
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_INDENT(2) | JSON_SORT_KEYS);
        char *w = json_dumps(want, JSON_INDENT(2) | JSON_SORT_KEYS);

        ck_abort_msg("%s differs:\ngot %s\nwant %s", what, g, w);
    }
    json_decref(want);
}

static const char disk_alert[] =
    "{\"dedup_key\":\"prom/DiskFull/db1\",\"summary\":\"Disk 97% full on db1\","
    "\"severity\":\"critical\",\"details\":\"/var/lib/postgresql is 97% full\","
    "\"service\":\"database\",\"labels\":{\"alertname\":\"DiskFull\",\"instance\":\"db1\","
    "\"team\":\"db\"},\"annotations\":{\"runbook_url\":\"https://runbooks.example/disk\"},"
    "\"links\":{\"generator\":\"http://prom.example:9090/graph?g0.expr=disk\"}}";

START_TEST(test_create_acknowledge_close_requests)
{
    struct peer *p;
    struct og_peer *og;
    struct h_daemon d;
    char *desc, *note;
    json_t *inc;
    int64_t id;

    up(&p, &og, &d,
       "responders = [ \"team:platform\", \"user:alice@example.com\", \"escalation:db-esc\","
       " \"schedule:db-oncall\" ]; tags_from = [ \"team\", \"alertname\", \"nosuch\" ];"
       " severity_map = { critical = \"P2\"; };");
    post_alert(&d, disk_alert);
    id = incident(&d, "prom/DiskFull/db1");
    wait_state(&d, id, "trigger", "done", 1);
    ck_assert_int_eq(peer_count(p), 1);
    ck_assert_str_eq(peer_get(p, 0)->raw_path, "/v2/alerts");
    ck_assert_int_ge(asprintf(&desc,
                              "/var/lib/postgresql is 97%% full\n\n"
                              "Runbook: https://runbooks.example/disk\n"
                              "Source: http://prom.example:9090/graph?g0.expr=disk\n"
                              "Incident: " EXTERNAL "/api/v1/incidents/%lld",
                              (long long)id), 0);
    expect_json(peer_get(p, 0)->json,
                json_pack("{s:s, s:s, s:s,"
                          " s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}],"
                          " s:[s, s], s:{s:s, s:s, s:s, s:s},"
                          " s:s, s:s, s:s}",
                          "message", "Disk 97% full on db1", "alias", "prom/DiskFull/db1",
                          "description", desc, "responders", "type", "team", "name", "platform",
                          "type", "user", "username", "alice@example.com", "type", "escalation",
                          "name", "db-esc", "type", "schedule", "name", "db-oncall", "tags",
                          "team:db", "alertname:DiskFull", "details", "alertname", "DiskFull",
                          "instance", "db1", "team", "db", "runbook_url",
                          "https://runbooks.example/disk", "entity", "db1", "source", "tocsin",
                          "priority", "P2"),
                "create request");
    free(desc);

    act(&d, id, "ack", "{\"by\": \"alice\"}");
    wait_state(&d, id, "acknowledge", "done", 1);
    ck_assert_str_eq(peer_get(p, 1)->raw_path, ALIAS_PATH "/acknowledge");
    ck_assert_str_eq(h_jstr(peer_get(p, 1)->query, "identifierType"), "alias");
    ck_assert_int_ge(asprintf(&note, "Acknowledged in tocsin by alice.\n" EXTERNAL
                                     "/api/v1/incidents/%lld", (long long)id), 0);
    expect_json(peer_get(p, 1)->json,
                json_pack("{s:s, s:s, s:s}", "user", "alice", "source", "tocsin", "note", note),
                "acknowledge request");
    free(note);

    act(&d, id, "resolve", "{\"by\": \"bob\", \"note\": \"freed 20 GB\"}");
    wait_state(&d, id, "resolve", "done", 1);
    ck_assert_str_eq(peer_get(p, 2)->raw_path, ALIAS_PATH "/close");
    ck_assert_str_eq(h_jstr(peer_get(p, 2)->query, "identifierType"), "alias");
    ck_assert_int_ge(asprintf(&note, "Resolved in tocsin by bob: freed 20 GB\n" EXTERNAL
                                     "/api/v1/incidents/%lld", (long long)id), 0);
    expect_json(peer_get(p, 2)->json,
                json_pack("{s:s, s:s, s:s}", "user", "bob", "source", "tocsin", "note", note),
                "close request");
    free(note);
    ck_assert_int_eq(peer_count(p), 3);

    inc = h_incident(&d, id);
    h_assert(&d, h_timeline_find(inc, "notified", "\"action\":\"trigger\"") != NULL,
             "no notified entry for the create");
    h_assert(&d, h_timeline_find(inc, "notified", "\"action\":\"acknowledge\"") != NULL,
             "no notified entry for the acknowledge");
    h_assert(&d, h_timeline_find(inc, "notified", "\"action\":\"resolve\"") != NULL,
             "no notified entry for the close");
    json_decref(inc);
    down(&d, p, og);
}
END_TEST

/* 500, then 429 with Retry-After, then 202: the same create three times. */
START_TEST(test_retries_send_the_same_alias)
{
    struct peer *p;
    struct og_peer *og;
    struct h_daemon d;
    int64_t id, gap;
    size_t i;

    up(&p, &og, &d, NULL);
    peer_script(p, "500,429 ra=1");
    post_alert(&d, disk_alert);
    id = incident(&d, "prom/DiskFull/db1");
    wait_state(&d, id, "trigger", "done", 3);
    ck_assert_int_eq(peer_count(p), 3);
    ck_assert_int_eq(peer_get(p, 0)->status, 500);
    ck_assert_int_eq(peer_get(p, 1)->status, 429);
    ck_assert_int_eq(peer_get(p, 2)->status, 202);
    for (i = 1; i < 3; i++) {
        ck_assert_str_eq(peer_get(p, i)->raw_path, "/v2/alerts");
        ck_assert_str_eq(peer_get(p, i)->body, peer_get(p, 0)->body);
    }
    gap = peer_get(p, 2)->at_ms - peer_get(p, 1)->at_ms;
    h_assert(&d, gap >= 900, "retried %lld ms after a 429 with Retry-After: 1", (long long)gap);
    down(&d, p, og);
}
END_TEST

/* Refused: failed with Opsgenie's words in the timeline, and the sink
 * hears no more of the incident. */
START_TEST(test_refused_create_fails_with_message_in_timeline)
{
    struct peer *p;
    struct og_peer *og;
    struct h_daemon d;
    json_t *inc, *e;
    char *det;
    int64_t id;

    up(&p, &og, &d, NULL);
    peer_script(p, "400");
    post_alert(&d, disk_alert);
    id = incident(&d, "prom/DiskFull/db1");
    wait_state(&d, id, "trigger", "failed", 1);
    inc = h_incident(&d, id);
    e = h_timeline_find(inc, "notify_failed", NULL);
    h_assert(&d, e != NULL, "no notify_failed in the timeline");
    det = h_detail(e);
    h_assert(&d, strstr(det, "HTTP 400: " OG_PEER_400_MESSAGE ": message: " OG_PEER_400_ERROR),
             "notify_failed does not carry Opsgenie's message: %s", det);
    h_assert(&d, strstr(det, API_KEY) == NULL, "the API key is in the timeline");
    free(det);
    json_decref(inc);
    act(&d, id, "resolve", "{\"by\": \"bob\", \"note\": \"gone\"}");
    h_sleep_ms(500);
    ck_assert_int_eq(peer_count(p), 1);
    down(&d, p, og);
}
END_TEST

/* A 404 to a close: Opsgenie has no such open alert (closed there). */
START_TEST(test_close_of_an_alert_opsgenie_lacks_is_done)
{
    struct peer *p;
    struct og_peer *og;
    struct h_daemon d;
    char *log;
    int64_t id;

    up(&p, &og, &d, NULL);
    peer_script(p, "202,404");
    post_alert(&d, disk_alert);
    id = incident(&d, "prom/DiskFull/db1");
    wait_state(&d, id, "trigger", "done", 1);
    act(&d, id, "resolve", "{\"by\": \"bob\", \"note\": \"closed in Opsgenie already\"}");
    wait_state(&d, id, "resolve", "done", 1);
    ck_assert_int_eq(peer_get(p, 1)->status, 404);
    ck_assert_int_eq(peer_count(p), 2);
    log = h_read_file(d.log);
    h_assert(&d, log && strstr(log, "Opsgenie has no alert to close (HTTP 404)"),
             "the 404 is not in the log");
    free(log);
    down(&d, p, og);
}
END_TEST

START_TEST(test_hung_peer_is_retried_after_timeout)
{
    struct peer *p;
    struct og_peer *og;
    struct h_daemon d;
    int64_t id;

    up(&p, &og, &d, "timeout = \"300ms\";");
    peer_script(p, "202 hang");
    post_alert(&d, disk_alert);
    id = incident(&d, "prom/DiskFull/db1");
    wait_state(&d, id, "trigger", "done", 2);
    ck_assert_int_eq(peer_count(p), 2);
    ck_assert_str_eq(peer_get(p, 1)->body, peer_get(p, 0)->body);
    down(&d, p, og);
}
END_TEST

static char *repeat(const char *s, int n)
{
    size_t len = strlen(s);
    char *out = malloc(len * (size_t)n + 1);
    int i;

    ck_assert_ptr_nonnull(out);
    for (i = 0; i < n; i++)
        memcpy(out + len * (size_t)i, s, len);
    out[len * (size_t)n] = '\0';
    return out;
}

/* A message over 130 with multi-byte characters and an emoji at the cut;
 * an alias over 512 (with "/" and spaces) stable from create to close. */
START_TEST(test_utf8_message_and_long_alias_are_cut_safely)
{
    struct peer *p;
    struct og_peer *og;
    struct h_daemon d;
    char *ru = repeat("\xd0\xb4", 128), *key = repeat("a/b c", 120), *body, *want;
    const char *alias, *path;
    int64_t id;

    up(&p, &og, &d, NULL);
    /* 128 Cyrillic, then an emoji (two units) and "!": 131 units. The
     * emoji would end at 130, past the 129 left before "…": it goes whole. */
    ck_assert_int_ge(asprintf(&body, "{\"dedup_key\":\"%s\",\"summary\":\"%s\xf0\x9f\x94\xa5!\","
                              "\"labels\":{\"a\":\"1\"}}", key, ru), 0);
    post_alert(&d, body);
    free(body);
    id = incident(&d, key);
    wait_state(&d, id, "trigger", "done", 1);
    ck_assert_int_ge(asprintf(&want, "%s\xe2\x80\xa6", ru), 0);
    ck_assert_str_eq(h_jstr(peer_get(p, 0)->json, "message"), want);
    free(want);
    alias = h_jstr(peer_get(p, 0)->json, "alias");
    ck_assert_int_eq(strlen(alias), 512);
    ck_assert_int_eq(strncmp(alias, key, 495), 0);
    act(&d, id, "ack", "{\"by\": \"alice\"}");
    wait_state(&d, id, "acknowledge", "done", 1);
    /* The peer checked it is the alias created; here, that it is escaped. */
    path = peer_get(p, 1)->raw_path;
    ck_assert_int_eq(strncmp(path, "/v2/alerts/a%2Fb%20ca%2Fb%20c", 29), 0);
    free(ru);
    free(key);
    down(&d, p, og);
}
END_TEST

/* Configuration errors name the option; the key is printed nowhere. */
START_TEST(test_bad_options_are_refused_by_name)
{
    static const struct {
        const char *extra, *error;
    } cases[] = {
        { "responders = [ \"team:platform\", \"tem:db\" ];",
          "responders item 2: \"tem:db\" must be team:NAME, user:EMAIL, escalation:NAME or "
          "schedule:NAME" },
        { "responders = [ \"user:alice\" ];", "a user is named by the email address" },
        { "region = \"eu\";", "set region or api_url, not both" },
        { "severity_map = { high = \"P0\"; };", "severity_map: high = \"P0\" is not an Opsgenie priority" },
        { "tags_from = [ \"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\",\"k\","
          "\"l\",\"m\",\"n\",\"o\",\"p\",\"q\",\"r\",\"s\",\"t\",\"u\" ];",
          "tags_from: 21 labels given, Opsgenie takes at most 20 tags" },
    };
    struct peer *p;
    struct og_peer *og;
    struct h_daemon d;
    char *out;
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        config(&p, &og, &d, cases[i].extra);
        ck_assert_int_eq(h_run_tocsind(&out, "--check-config", "-c", d.conf, (char *)NULL), 1);
        h_assert(&d, strstr(out, cases[i].error) && strstr(out, "\"og\""),
                 "--check-config with %s:\n%s", cases[i].extra, out);
        h_assert(&d, strstr(out, API_KEY) == NULL, "--check-config prints the key:\n%s", out);
        free(out);
        peer_free(p);
        opsgenie_peer_free(og);
    }
    /* A region alone: "us" or "eu". */
    config(&p, &og, &d, "");
    write_config(&d, "{ id = \"og\"; plugin = \"opsgenie\"; api_key = \"env:TOCSIN_IT_OG_KEY\";"
                     " region = \"mars\"; }");
    ck_assert_int_eq(h_run_tocsind(&out, "--check-config", "-c", d.conf, (char *)NULL), 1);
    h_assert(&d, strstr(out, "region must be \"us\" or \"eu\", not \"mars\""),
             "--check-config with region mars:\n%s", out);
    free(out);
    write_config(&d, "{ id = \"og\"; plugin = \"opsgenie\"; api_key = \"env:TOCSIN_IT_OG_KEY\";"
                     " region = \"eu\"; }");
    ck_assert_int_eq(h_run_tocsind(&out, "--check-config", "-c", d.conf, (char *)NULL), 0);
    free(out);
    peer_free(p);
    opsgenie_peer_free(og);
}
END_TEST

static void assert_no_key(const struct h_daemon *d, const char *what, const char *text)
{
    h_assert(d, text != NULL, "%s: nothing read", what);
    h_assert(d, strstr(text, API_KEY) == NULL, "the API key is in %s", what);
}

START_TEST(test_api_key_stays_secret)
{
    struct peer *p;
    struct og_peer *og;
    struct h_daemon d;
    struct h_resp r;
    char path[64], *out, *log;
    int64_t id;

    up(&p, &og, &d, NULL);
    peer_script(p, "401");
    post_alert(&d, disk_alert);
    id = incident(&d, "prom/DiskFull/db1");
    wait_state(&d, id, "trigger", "failed", 1);
    snprintf(path, sizeof path, "/api/v1/incidents/%lld", (long long)id);
    h_req(&d, "GET", path, NULL, &r);
    assert_no_key(&d, "GET /api/v1/incidents/ID", r.body);
    h_assert(&d, strstr(r.body, "HTTP 401: Could not authenticate") != NULL,
             "the 401 is not in the incident: %s", r.body);
    h_resp_free(&r);
    h_req(&d, "GET", "/metrics", NULL, &r);
    assert_no_key(&d, "/metrics", r.body);
    h_resp_free(&r);
    ck_assert_int_eq(h_run_tocsind(&out, "--check-config", "-c", d.conf, (char *)NULL), 0);
    assert_no_key(&d, "--check-config", out);
    free(out);
    ck_assert_int_eq(h_run_tocsind(&out, "--plugin-help", "opsgenie", "--plugin-dir",
                                   getenv("TOCSIN_PLUGIN_DIR"), (char *)NULL), 0);
    h_assert(&d, strstr(out, "api_key") && strstr(out, "responders") && strstr(out, "tags_from")
                     && strstr(out, "region") && strstr(out, "api_url"),
             "--plugin-help opsgenie:\n%s", out);
    free(out);
    down(&d, p, og);
    log = h_read_file(d.log);
    assert_no_key(&d, "the daemon's log", log);
    free(log);
}
END_TEST

/* tocsind --test-sink: a marked create and its close by the same alias,
 * Opsgenie's answer printed, exit 0; a refusal: exit 1 with its message. */
START_TEST(test_test_sink_success_and_failure)
{
    struct peer *p;
    struct og_peer *og;
    struct h_daemon d;
    char *out;
    const char *alias, *path;
    int rc;

    config(&p, &og, &d, NULL);
    rc = h_run_tocsind(&out, "-c", d.conf, "--test-sink", "og", (char *)NULL);
    h_assert(&d, rc == 0, "--test-sink og: exit %d:\n%s", rc, out);
    h_assert(&d, strstr(out, "trigger  delivered") && strstr(out, "resolve  delivered") &&
                     strstr(out, "provider: HTTP 202: {\"result\":\"Request will be processed\"") &&
                     strstr(out, "OK: both delivered"),
             "--test-sink og:\n%s", out);
    assert_no_key(&d, "--test-sink's output", out);
    free(out);
    ck_assert_int_eq(peer_count(p), 2);
    ck_assert_int_eq(strncmp(h_jstr(peer_get(p, 0)->json, "message"),
                             "[TEST] tocsin test notification", 31), 0);
    ck_assert_str_eq(h_jstr(peer_get(p, 0)->json, "priority"), "P5");
    alias = h_jstr(peer_get(p, 0)->json, "alias");
    path = peer_get(p, 1)->raw_path;
    ck_assert_int_eq(strncmp(path, "/v2/alerts/", 11), 0);
    ck_assert_int_eq(strncmp(path + 11, alias, strlen(alias)), 0); /* unreserved only */
    ck_assert_str_eq(path + 11 + strlen(alias), "/close");
    ck_assert_str_eq(h_jstr(peer_get(p, 1)->json, "note"),
                     "[TEST] Resolved in tocsin by tocsind --test-sink: test notification: "
                     "nothing was wrong");

    peer_default(p, 422);
    rc = h_run_tocsind(&out, "-c", d.conf, "--test-sink", "og", (char *)NULL);
    h_assert(&d, rc == 1, "--test-sink og on a 422: exit %d:\n%s", rc, out);
    h_assert(&d, strstr(out, "trigger  failed: HTTP 422: Request could not be processed") &&
                     strstr(out, "FAILED"),
             "--test-sink og on a 422:\n%s", out);
    assert_no_key(&d, "--test-sink's output", out);
    free(out);
    h_assert_no_violations(&d, p);
    peer_free(p);
    opsgenie_peer_free(og);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("integration: opsgenie");
    TCase *tc = h_tcase("opsgenie", 90);

    tcase_add_test(tc, test_create_acknowledge_close_requests);
    tcase_add_test(tc, test_retries_send_the_same_alias);
    tcase_add_test(tc, test_refused_create_fails_with_message_in_timeline);
    tcase_add_test(tc, test_close_of_an_alert_opsgenie_lacks_is_done);
    tcase_add_test(tc, test_hung_peer_is_retried_after_timeout);
    tcase_add_test(tc, test_utf8_message_and_long_alias_are_cut_safely);
    tcase_add_test(tc, test_bad_options_are_refused_by_name);
    tcase_add_test(tc, test_api_key_stays_secret);
    tcase_add_test(tc, test_test_sink_success_and_failure);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(suite());
}
