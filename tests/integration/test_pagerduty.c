/* test_pagerduty.c: the pagerduty sink in the real tocsind against the
 * strict PagerDuty peer: the exact events of trigger, acknowledge and
 * resolve, retries with one dedup key, a refused event in the timeline, a
 * hung peer, UTF-8-safe cuts, two services routed by label, and the
 * routing key kept out of everything tocsind shows. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../peers/pagerduty_peer.h"
#include "harness.h"

/* Integration keys: 32 letters and digits. */
#define KEY_API "Rapi0123456789ABCDEF0123456789ab"
#define KEY_DB "Rdb00123456789ABCDEF0123456789cd"
#define EXTERNAL "http://tocsin.example:9099"
#define STARTED "2026-11-23T03:12:45Z"

_Static_assert(sizeof KEY_API == 33 && sizeof KEY_DB == 33, "keys are 32 characters");

/* The daemon with inputs api (generic) and the given sinks and routes. */
static void write_config(struct h_daemon *d, const char *sinks, const char *routes)
{
    h_write_config(d,
                   "daemon = { listen = \"127.0.0.1:0\"; state_dir = \"%s\";\n"
                   "  plugin_dir = \"%s\"; log_level = \"debug\";\n"
                   "  external_url = \"" EXTERNAL "/\"; };\n"
                   "inputs = ( { id = \"api\"; plugin = \"generic\"; } );\n"
                   "sinks = ( %s );\n"
                   "routes = ( %s );\n",
                   d->state_dir, getenv("TOCSIN_PLUGIN_DIR"), sinks, routes);
}

/* One sink "pd" with KEY_API from the environment, pointing at p. */
static void up(struct peer **p, struct h_daemon *d, const char *extra)
{
    char sinks[2048];

    setenv("TOCSIN_IT_PD_KEY", KEY_API, 1);
    *p = h_peer_started();
    pagerduty_peer_attach(*p);
    h_init(d);
    snprintf(sinks, sizeof sinks,
             "{ id = \"pd\"; plugin = \"pagerduty\"; routing_key = \"env:TOCSIN_IT_PD_KEY\";\n"
             "  events_url = \"http://127.0.0.1:%d\"; retry_base = \"100ms\";\n"
             "  retry_max = \"1s\"; %s }",
             peer_port(*p), extra ? extra : "");
    write_config(d, sinks, "{ sinks = [ \"pd\" ]; }");
    h_start(d);
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

static void wait_done(struct h_daemon *d, int64_t id, const char *sink, const char *action,
                      int attempts)
{
    json_t *n = h_wait_notification(d, id, sink, action, "done", 20000);

    h_assert(d, n != NULL, "%s of incident %lld to %s never done", action, (long long)id, sink);
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
    "\"links\":{\"generator\":\"http://prom.example:9090/graph?g0.expr=disk\"},"
    "\"started_at\":\"" STARTED "\"}";

START_TEST(test_trigger_ack_resolve_events)
{
    struct peer *p;
    struct h_daemon d;
    char page[128], text[64];
    json_t *inc;
    int64_t id;

    up(&p, &d, "component = \"alertname\"; group = \"team\"; class = \"nosuchlabel\";");
    post_alert(&d, disk_alert);
    id = incident(&d, "prom/DiskFull/db1");
    wait_done(&d, id, "pd", "trigger", 1);
    snprintf(page, sizeof page, EXTERNAL "/api/v1/incidents/%lld", (long long)id);
    snprintf(text, sizeof text, "tocsin incident %lld", (long long)id);
    ck_assert_int_eq(peer_count(p), 1);
    expect_json(peer_get(p, 0)->json,
                json_pack("{s:s, s:s, s:s,"
                          " s:{s:s, s:s, s:s, s:s, s:s, s:s,"
                          "    s:{s:s, s:s, s:s, s:s, s:s}},"
                          " s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}],"
                          " s:s, s:s}",
                          "routing_key", KEY_API, "event_action", "trigger", "dedup_key",
                          "prom/DiskFull/db1", "payload", "summary", "Disk 97% full on db1",
                          "source", "db1", "severity", "critical", "timestamp",
                          "2026-11-23T03:12:45.000Z", "component", "DiskFull", "group", "db",
                          "custom_details", "alertname", "DiskFull", "instance", "db1", "team",
                          "db", "runbook_url", "https://runbooks.example/disk", "details",
                          "/var/lib/postgresql is 97% full", "links", "href",
                          "https://runbooks.example/disk", "text", "Runbook", "href",
                          "http://prom.example:9090/graph?g0.expr=disk", "text", "Source",
                          "href", page, "text", text, "client", "tocsin", "client_url", page),
                "trigger event");

    act(&d, id, "ack", "{\"by\": \"alice\"}");
    wait_done(&d, id, "pd", "acknowledge", 1);
    expect_json(peer_get(p, 1)->json,
                json_pack("{s:s, s:s, s:s}", "routing_key", KEY_API, "event_action",
                          "acknowledge", "dedup_key", "prom/DiskFull/db1"),
                "acknowledge event");

    act(&d, id, "resolve", "{\"by\": \"bob\", \"note\": \"freed 20 GB\"}");
    wait_done(&d, id, "pd", "resolve", 1);
    expect_json(peer_get(p, 2)->json,
                json_pack("{s:s, s:s, s:s}", "routing_key", KEY_API, "event_action", "resolve",
                          "dedup_key", "prom/DiskFull/db1"),
                "resolve event");
    ck_assert_int_eq(peer_count(p), 3);

    /* Each delivery is in the timeline. */
    inc = h_incident(&d, id);
    h_assert(&d, h_timeline_find(inc, "notified", "\"action\":\"trigger\"") != NULL,
             "no notified entry for the trigger");
    h_assert(&d, h_timeline_find(inc, "notified", "\"action\":\"acknowledge\"") != NULL,
             "no notified entry for the acknowledge");
    h_assert(&d, h_timeline_find(inc, "notified", "\"action\":\"resolve\"") != NULL,
             "no notified entry for the resolve");
    json_decref(inc);
    h_assert_no_violations(&d, p);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    peer_free(p);
}
END_TEST

/* A 500, then a 429 with Retry-After, then 202: three identical events. */
START_TEST(test_retries_send_the_same_event)
{
    struct peer *p;
    struct h_daemon d;
    int64_t id, gap;
    size_t i;

    up(&p, &d, NULL);
    peer_script(p, "500,429 ra=1");
    post_alert(&d, disk_alert);
    id = incident(&d, "prom/DiskFull/db1");
    wait_done(&d, id, "pd", "trigger", 3);
    ck_assert_int_eq(peer_count(p), 3);
    ck_assert_int_eq(peer_get(p, 0)->status, 500);
    ck_assert_int_eq(peer_get(p, 1)->status, 429);
    ck_assert_int_eq(peer_get(p, 2)->status, 202);
    for (i = 1; i < 3; i++) {
        ck_assert_str_eq(peer_get(p, i)->body, peer_get(p, 0)->body);
        ck_assert_str_eq(h_jstr(peer_get(p, i)->json, "dedup_key"), "prom/DiskFull/db1");
    }
    gap = peer_get(p, 2)->at_ms - peer_get(p, 1)->at_ms;
    h_assert(&d, gap >= 900, "retried %lld ms after a 429 with Retry-After: 1", (long long)gap);
    h_assert_no_violations(&d, p);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    peer_free(p);
}
END_TEST

START_TEST(test_refused_event_fails_with_errors_in_timeline)
{
    struct peer *p;
    struct h_daemon d;
    json_t *n, *inc, *e;
    char *det;
    int64_t id;

    up(&p, &d, NULL);
    peer_script(p, "400");
    post_alert(&d, disk_alert);
    id = incident(&d, "prom/DiskFull/db1");
    n = h_wait_notification(&d, id, "pd", "trigger", "failed", 15000);
    h_assert(&d, n != NULL, "a 400 never became a failed notification");
    ck_assert_int_eq(h_jint(n, "attempts"), 1);
    json_decref(n);
    inc = h_incident(&d, id);
    e = h_timeline_find(inc, "notify_failed", NULL);
    h_assert(&d, e != NULL, "no notify_failed in the timeline");
    det = h_detail(e);
    h_assert(&d, strstr(det, "HTTP 400: Event object is invalid: " PD_PEER_400_ERROR) != NULL,
             "notify_failed does not carry PagerDuty's errors: %s", det);
    free(det);
    json_decref(inc);
    h_sleep_ms(500);
    ck_assert_int_eq(peer_count(p), 1);
    h_assert_no_violations(&d, p);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    peer_free(p);
}
END_TEST

START_TEST(test_hung_peer_is_retried_after_timeout)
{
    struct peer *p;
    struct h_daemon d;
    int64_t id;

    up(&p, &d, "timeout = \"300ms\";");
    peer_script(p, "202 hang");
    post_alert(&d, disk_alert);
    id = incident(&d, "prom/DiskFull/db1");
    wait_done(&d, id, "pd", "trigger", 2);
    ck_assert_int_eq(peer_count(p), 2);
    ck_assert_str_eq(peer_get(p, 1)->body, peer_get(p, 0)->body);
    h_assert_no_violations(&d, p);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    peer_free(p);
}
END_TEST

/* n copies of s. */
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

/* Summaries over 1024 characters in two- and four-byte UTF-8, and a dedup
 * key over 255: cut between characters, marked with "…", and the key the
 * same on trigger and resolve. */
START_TEST(test_utf8_summary_and_long_key_are_cut_safely)
{
    struct peer *p;
    struct h_daemon d;
    char *e1100 = repeat("\xc3\xa9", 1100), *a1022 = repeat("a", 1022);
    char *k300 = repeat("\xc3\xbc", 300), *want1, *want2, *body;
    const char *key;
    int64_t id1, id2;

    up(&p, &d, NULL);
    ck_assert_int_ge(asprintf(&body, "{\"dedup_key\":\"%s\",\"summary\":\"%s\",\"labels\":{\"a\":\"1\"}}",
                              k300, e1100), 0);
    post_alert(&d, body);
    free(body);
    /* 1022 ASCII, an emoji (two UTF-16 units), then more: the emoji would
     * be cut in half in UTF-16, so it goes whole. */
    ck_assert_int_ge(asprintf(&body, "{\"dedup_key\":\"emoji\",\"summary\":\"%s\xf0\x9f\x94\xa5zzzz\","
                              "\"labels\":{\"a\":\"2\"}}", a1022), 0);
    post_alert(&d, body);
    free(body);
    id1 = incident(&d, k300);
    id2 = incident(&d, "emoji");
    wait_done(&d, id1, "pd", "trigger", 1);
    wait_done(&d, id2, "pd", "trigger", 1);

    want1 = repeat("\xc3\xa9", 1023);
    ck_assert_int_ge(asprintf(&want2, "%s\xe2\x80\xa6", want1), 0);
    free(want1);
    want1 = want2;
    ck_assert_int_ge(asprintf(&want2, "%s\xe2\x80\xa6", a1022), 0);
    key = NULL;
    for (size_t i = 0; i < peer_count(p); i++) {
        json_t *ev = peer_get(p, i)->json;
        const char *dk = h_jstr(ev, "dedup_key");

        if (strcmp(dk, "emoji") == 0) {
            ck_assert_str_eq(h_jsub(ev, "payload", "summary"), want2);
        } else {
            ck_assert_str_eq(h_jsub(ev, "payload", "summary"), want1);
            key = dk;
        }
    }
    h_assert(&d, key != NULL, "no event for the long key");
    /* 238 "ü", "~" and 16 hex digits: 255 characters. */
    ck_assert_int_eq(strlen(key), 238 * 2 + 17);
    ck_assert_int_eq(strncmp(key, k300, 238 * 2), 0);
    ck_assert_int_eq(key[238 * 2], '~');
    {
        char *dup = strdup(key);

        act(&d, id1, "resolve", "{\"by\": \"bob\", \"note\": \"done\"}");
        wait_done(&d, id1, "pd", "resolve", 1);
        ck_assert_str_eq(h_jstr(peer_get(p, peer_count(p) - 1)->json, "dedup_key"), dup);
        free(dup);
    }
    h_assert_no_violations(&d, p);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    free(e1100);
    free(a1022);
    free(k300);
    free(want1);
    free(want2);
    peer_free(p);
}
END_TEST

/* Two services, two keys, routes by label: each event carries the key of
 * the service its route chose, follow-ups included. */
START_TEST(test_two_services_routed_by_label)
{
    struct peer *p = h_peer_started();
    struct h_daemon d;
    char sinks[4096];
    int64_t api, db;
    size_t i, n_api = 0, n_db = 0;

    pagerduty_peer_attach(p);
    setenv("TOCSIN_IT_PD_API", KEY_API, 1);
    h_init(&d);
    /* The database key from a file, the API key from the environment. */
    {
        char path[H_PATH_MAX + 16];
        FILE *f;

        snprintf(path, sizeof path, "%s/pd-db.key", d.dir);
        f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "%s\n", KEY_DB);
        fclose(f);
        snprintf(sinks, sizeof sinks,
                 "{ id = \"pd-api\"; plugin = \"pagerduty\"; routing_key = \"env:TOCSIN_IT_PD_API\";\n"
                 "  events_url = \"http://127.0.0.1:%d\"; retry_base = \"100ms\"; },\n"
                 "{ id = \"pd-db\"; plugin = \"pagerduty\"; routing_key = \"file:%s\";\n"
                 "  events_url = \"http://127.0.0.1:%d/\"; retry_base = \"100ms\"; }",
                 peer_port(p), path, peer_port(p));
    }
    write_config(&d, sinks,
                 "{ match = { labels = { team = \"api\"; }; }; sinks = [ \"pd-api\" ]; },\n"
                 "{ match = { labels = { team = \"db\"; }; }; sinks = [ \"pd-db\" ]; }");
    h_start(&d);
    post_alert(&d, "[{\"dedup_key\":\"api-5xx\",\"summary\":\"API 5xx\",\"labels\":{\"team\":\"api\"}},"
                   " {\"dedup_key\":\"db-lag\",\"summary\":\"replica lag\",\"labels\":{\"team\":\"db\"}}]");
    api = incident(&d, "api-5xx");
    db = incident(&d, "db-lag");
    wait_done(&d, api, "pd-api", "trigger", 1);
    wait_done(&d, db, "pd-db", "trigger", 1);
    act(&d, api, "ack", "{\"by\": \"alice\"}");
    act(&d, db, "resolve", "{\"by\": \"bob\", \"note\": \"caught up\"}");
    wait_done(&d, api, "pd-api", "acknowledge", 1);
    wait_done(&d, db, "pd-db", "resolve", 1);
    ck_assert_int_eq(peer_count(p), 4);
    for (i = 0; i < 4; i++) {
        json_t *ev = peer_get(p, i)->json;
        const char *dk = h_jstr(ev, "dedup_key");

        if (strcmp(dk, "api-5xx") == 0) {
            ck_assert_str_eq(h_jstr(ev, "routing_key"), KEY_API);
            n_api++;
        } else {
            ck_assert_str_eq(dk, "db-lag");
            ck_assert_str_eq(h_jstr(ev, "routing_key"), KEY_DB);
            n_db++;
        }
    }
    ck_assert_int_eq(n_api, 2);
    ck_assert_int_eq(n_db, 2);
    h_assert_no_violations(&d, p);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    peer_free(p);
}
END_TEST

static void assert_no_key(const struct h_daemon *d, const char *what, const char *text)
{
    h_assert(d, text != NULL, "%s: nothing read", what);
    h_assert(d, strstr(text, KEY_API) == NULL, "the routing key is in %s", what);
}

/* The key travels to PagerDuty and nowhere else: not the log (debug),
 * the API, /metrics, --check-config or --plugin-help; and a malformed key
 * is refused by name, without its value. */
START_TEST(test_routing_key_stays_secret)
{
    struct peer *p;
    struct h_daemon d;
    struct h_resp r;
    char path[64], *out, *log;
    json_t *n;
    int64_t id;

    up(&p, &d, NULL);
    peer_script(p, "400");
    post_alert(&d, disk_alert);
    id = incident(&d, "prom/DiskFull/db1");
    n = h_wait_notification(&d, id, "pd", "trigger", "failed", 15000);
    h_assert(&d, n != NULL, "never failed");
    json_decref(n);
    snprintf(path, sizeof path, "/api/v1/incidents/%lld", (long long)id);
    h_req(&d, "GET", path, NULL, &r);
    assert_no_key(&d, "GET /api/v1/incidents/ID", r.body);
    h_resp_free(&r);
    h_req(&d, "GET", "/api/v1/incidents", NULL, &r);
    assert_no_key(&d, "GET /api/v1/incidents", r.body);
    h_resp_free(&r);
    h_req(&d, "GET", "/metrics", NULL, &r);
    assert_no_key(&d, "/metrics", r.body);
    h_resp_free(&r);
    ck_assert_int_eq(h_run_tocsind(&out, "--check-config", "-c", d.conf, (char *)NULL), 0);
    assert_no_key(&d, "--check-config", out);
    free(out);
    ck_assert_int_eq(h_run_tocsind(&out, "--plugin-help", "pagerduty", "--plugin-dir",
                                   getenv("TOCSIN_PLUGIN_DIR"), (char *)NULL), 0);
    h_assert(&d, strstr(out, "routing_key") && strstr(out, "events_url") &&
                     strstr(out, "severity_map"), "--plugin-help pagerduty:\n%s", out);
    free(out);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    log = h_read_file(d.log);
    assert_no_key(&d, "the daemon's log", log);
    free(log);

    /* One character short: refused, naming the option, not the value. */
    setenv("TOCSIN_IT_PD_KEY", KEY_API + 1, 1);
    ck_assert_int_eq(h_run_tocsind(&out, "--check-config", "-c", d.conf, (char *)NULL), 1);
    h_assert(&d, strstr(out, "routing_key must be the 32-character integration key") &&
                     strstr(out, "31 characters"), "--check-config on a short key:\n%s", out);
    h_assert(&d, strstr(out, KEY_API + 1) == NULL, "--check-config prints the bad key:\n%s", out);
    free(out);
    h_assert_no_violations(&d, p);
    peer_free(p);
}
END_TEST

/* tocsind --test-sink: a marked trigger and its resolve with one dedup
 * key, PagerDuty's answer printed, exit 0; a refused key: exit 1, with
 * PagerDuty's errors and without the key. */
START_TEST(test_test_sink_success_and_failure)
{
    struct peer *p = h_peer_started();
    struct h_daemon d;
    char sinks[1024], *out;
    const char *key;
    int rc;

    pagerduty_peer_attach(p);
    setenv("TOCSIN_IT_PD_KEY", KEY_API, 1);
    h_init(&d);
    snprintf(sinks, sizeof sinks,
             "{ id = \"pd\"; plugin = \"pagerduty\"; routing_key = \"env:TOCSIN_IT_PD_KEY\";\n"
             "  events_url = \"http://127.0.0.1:%d\"; }", peer_port(p));
    write_config(&d, sinks, "{ sinks = [ \"pd\" ]; }");
    rc = h_run_tocsind(&out, "-c", d.conf, "--test-sink", "pd", (char *)NULL);
    h_assert(&d, rc == 0, "--test-sink pd: exit %d:\n%s", rc, out);
    h_assert(&d, strstr(out, "trigger  delivered") && strstr(out, "resolve  delivered") &&
                     strstr(out, "provider: HTTP 202: {\"status\":\"success\",\"message\":"
                                 "\"Event processed\"") && strstr(out, "OK: both delivered"),
             "--test-sink pd:\n%s", out);
    assert_no_key(&d, "--test-sink's output", out);
    free(out);
    ck_assert_int_eq(peer_count(p), 2);
    ck_assert_str_eq(h_jstr(peer_get(p, 0)->json, "event_action"), "trigger");
    ck_assert_int_eq(strncmp(h_jsub(peer_get(p, 0)->json, "payload", "summary"),
                             "[TEST] tocsin test notification", 31), 0);
    ck_assert_str_eq(h_jsub(peer_get(p, 0)->json, "payload", "severity"), "info");
    key = h_jstr(peer_get(p, 0)->json, "dedup_key");
    ck_assert_str_eq(h_jstr(peer_get(p, 1)->json, "event_action"), "resolve");
    ck_assert_str_eq(h_jstr(peer_get(p, 1)->json, "dedup_key"), key);

    peer_default(p, 400);
    rc = h_run_tocsind(&out, "-c", d.conf, "--test-sink", "pd", (char *)NULL);
    h_assert(&d, rc == 1, "--test-sink pd on a 400: exit %d:\n%s", rc, out);
    h_assert(&d, strstr(out, "trigger  failed: HTTP 400: Event object is invalid: "
                             PD_PEER_400_ERROR) && strstr(out, "FAILED"),
             "--test-sink pd on a 400:\n%s", out);
    assert_no_key(&d, "--test-sink's output", out);
    free(out);
    ck_assert_int_eq(peer_count(p), 4);
    h_assert_no_violations(&d, p);
    peer_free(p);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("integration: pagerduty");
    TCase *tc = h_tcase("pagerduty", 90);

    tcase_add_test(tc, test_trigger_ack_resolve_events);
    tcase_add_test(tc, test_retries_send_the_same_event);
    tcase_add_test(tc, test_refused_event_fails_with_errors_in_timeline);
    tcase_add_test(tc, test_hung_peer_is_retried_after_timeout);
    tcase_add_test(tc, test_utf8_summary_and_long_key_are_cut_safely);
    tcase_add_test(tc, test_two_services_routed_by_label);
    tcase_add_test(tc, test_routing_key_stays_secret);
    tcase_add_test(tc, test_test_sink_success_and_failure);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(suite());
}
