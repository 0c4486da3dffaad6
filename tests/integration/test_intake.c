/* test_intake.c: alert intake against the real tocsind: delivery, dedup
 * while open, resolve, the 400/413/503 answers, the generic input, health
 * endpoints and --check-config. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static size_t n_incidents(const struct h_daemon *d)
{
    json_t *arr = h_incidents(d, NULL);
    size_t n = json_array_size(arr);

    json_decref(arr);
    return n;
}

/* The error body of a 4xx/5xx: {"error": "...", "detail": ...}. */
static json_t *assert_json_error(const struct h_daemon *d, struct h_resp *r, long status)
{
    json_t *j;

    h_assert(d, r->status == status, "HTTP %ld, expected %ld: %.300s", r->status, status,
             r->body);
    h_assert(d, strncmp(r->content_type, "application/json", 16) == 0,
             "Content-Type of the %ld answer is \"%s\"", status, r->content_type);
    j = h_json(r);
    h_assert(d, json_is_string(json_object_get(j, "error")) &&
                    json_string_length(json_object_get(j, "error")) > 0,
             "no \"error\" string in %s", r->body);
    return j;
}

#define DISK_SUMMARY "disk 97% full on db1"

/* Peer and daemon up, one DiskFull alert posted and its trigger delivered
 * to both sinks. Returns the incident id; fp gets the dedup key. */
static int64_t deliver_one(struct peer **p, struct h_daemon *d, char fp[17])
{
    struct h_config c = { 0 };
    struct h_resp r;
    char *body;
    json_t *arr, *n;
    int64_t id;

    *p = h_peer_started();
    c.peer_port = peer_port(*p);
    h_init(d);
    h_config_standard(d, &c);
    h_start(d);
    h_am_fingerprint("DiskFull", "db1", "critical", fp);
    body = h_am_alert("DiskFull", "db1", "critical", DISK_SUMMARY, 0);
    h_req(d, "POST", "/api/v2/alerts", body, &r);
    free(body);
    h_assert(d, r.status == 200, "POST /api/v2/alerts: HTTP %ld: %s", r.status, r.body);
    h_assert(d, r.len == 0, "200 with a body: %s", r.body);
    h_resp_free(&r);

    /* Committed before the answer: listed at once. */
    arr = h_incidents(d, NULL);
    h_assert(d, json_array_size(arr) == 1, "%zu incidents after one alert",
             json_array_size(arr));
    id = h_jint(json_array_get(arr, 0), "id");
    json_decref(arr);
    n = h_wait_notification(d, id, "hook", "trigger", "done", 15000);
    h_assert(d, n != NULL, "hook trigger never done");
    ck_assert_int_eq(h_jint(n, "attempts"), 1);
    json_decref(n);
    n = h_wait_notification(d, id, "console", "trigger", "done", 15000);
    h_assert(d, n != NULL, "console trigger never done");
    json_decref(n);
    return id;
}

static void finish(struct peer *p, struct h_daemon *d)
{
    h_assert_no_violations(d, p);
    h_assert(d, h_stop(d, 15000) == 0, "SIGTERM: exit status not 0");
    h_assert(d, access(d->addr_file, F_OK) != 0, "tocsind.addr left behind after SIGTERM");
    peer_free(p);
}

START_TEST(test_alert_is_stored_and_delivered)
{
    struct peer *p;
    struct h_daemon d;
    char fp[17], idem[64];
    const struct peer_req *req;
    json_t *arr, *inc, *pl, *alert;
    int64_t id = deliver_one(&p, &d, fp);

    arr = h_incidents(&d, NULL);
    inc = json_array_get(arr, 0);
    ck_assert_int_eq(h_jint(inc, "id"), id);
    ck_assert_str_eq(h_jstr(inc, "dedup_key"), fp);
    ck_assert_str_eq(h_jstr(inc, "state"), "triggered");
    ck_assert_str_eq(h_jstr(inc, "severity"), "critical");
    ck_assert_str_eq(h_jstr(inc, "summary"), DISK_SUMMARY);
    ck_assert_str_eq(h_jstr(inc, "source"), "prom");
    ck_assert_int_eq(h_jint(inc, "occurrences"), 1);
    ck_assert_str_eq(h_jsub(inc, "labels", "instance"), "db1");
    json_decref(arr);

    /* The webhook peer got exactly the trigger, in the native payload. */
    ck_assert_int_eq(peer_count(p), 1);
    req = peer_get(p, 0);
    ck_assert_str_eq(req->path, "/hook");
    pl = req->json;
    ck_assert_ptr_nonnull(pl);
    ck_assert_str_eq(h_jstr(pl, "version"), "1");
    ck_assert_str_eq(h_jstr(pl, "action"), "trigger");
    ck_assert_int_eq(h_jint(pl, "incident_id"), id);
    ck_assert_str_eq(h_jstr(pl, "sink"), "hook");
    ck_assert_int_eq(h_jint(pl, "attempt"), 1);
    ck_assert_int_eq(h_jint(pl, "occurrences"), 1);
    ck_assert_msg(json_is_string(json_object_get(pl, "first_seen")), "no first_seen");
    ck_assert_msg(json_is_string(json_object_get(pl, "last_seen")), "no last_seen");
    snprintf(idem, sizeof idem, "tocsin-%lld", (long long)h_jint(pl, "outbox_id"));
    ck_assert_str_eq(json_string_value(json_object_get(req->headers, "idempotency-key")), idem);
    alert = json_object_get(pl, "alert");
    ck_assert_msg(json_is_object(alert), "no alert in the payload");
    ck_assert_str_eq(h_jstr(alert, "dedup_key"), fp);
    ck_assert_str_eq(h_jstr(alert, "status"), "firing");
    ck_assert_str_eq(h_jstr(alert, "severity"), "critical");
    ck_assert_str_eq(h_jstr(alert, "summary"), DISK_SUMMARY);
    ck_assert_str_eq(h_jstr(alert, "source"), "prom");
    ck_assert_str_eq(h_jsub(alert, "labels", "alertname"), "DiskFull");
    ck_assert_str_eq(h_jsub(alert, "annotations", "summary"), DISK_SUMMARY);
    ck_assert_msg(json_is_string(json_object_get(alert, "started_at")), "no started_at");
    ck_assert_msg(json_is_string(json_object_get(alert, "received_at")), "no received_at");

    /* One readable console line. */
    h_assert(&d, h_count_lines(d.console, DISK_SUMMARY) == 1,
             "the console file should have one line with the summary:\n%s",
             h_read_file(d.console));
    finish(p, &d);
}
END_TEST

START_TEST(test_repeat_while_open_counts_and_does_not_notify)
{
    struct peer *p;
    struct h_daemon d;
    char fp[17], *body;
    struct h_resp r;
    json_t *arr, *inc;
    int64_t id = deliver_one(&p, &d, fp);

    /* A second later, so last_seen must move even at a 1 s resolution. */
    h_sleep_ms(1100);
    body = h_am_alert("DiskFull", "db1", "critical", DISK_SUMMARY, 0);
    h_req(&d, "POST", "/api/v2/alerts", body, &r);
    free(body);
    h_assert(&d, r.status == 200, "repeat POST: HTTP %ld: %s", r.status, r.body);
    h_resp_free(&r);
    arr = h_incidents(&d, NULL);
    h_assert(&d, json_array_size(arr) == 1, "a repeat opened another incident (%zu)",
             json_array_size(arr));
    inc = json_array_get(arr, 0);
    ck_assert_int_eq(h_jint(inc, "id"), id);
    ck_assert_int_eq(h_jint(inc, "occurrences"), 2);
    ck_assert_str_eq(h_jstr(inc, "state"), "triggered");
    h_assert(&d, strcmp(h_jstr(inc, "last_seen"), h_jstr(inc, "first_seen")) > 0,
             "last_seen %s not after first_seen %s", h_jstr(inc, "last_seen"),
             h_jstr(inc, "first_seen"));
    json_decref(arr);
    h_sleep_ms(700);
    h_assert(&d, peer_count(p) == 1, "a repeat notified again (%zu requests)", peer_count(p));
    ck_assert_int_eq(h_count_lines(d.console, DISK_SUMMARY), 1);
    finish(p, &d);
}
END_TEST

START_TEST(test_ends_at_in_the_past_resolves_and_notifies)
{
    struct peer *p;
    struct h_daemon d;
    char fp[17], *body;
    struct h_resp r;
    json_t *arr, *inc, *pl, *n;
    int64_t id = deliver_one(&p, &d, fp);

    body = h_am_alert("DiskFull", "db1", "critical", DISK_SUMMARY, -30);
    h_req(&d, "POST", "/api/v2/alerts", body, &r);
    free(body);
    h_assert(&d, r.status == 200, "resolving POST: HTTP %ld: %s", r.status, r.body);
    h_resp_free(&r);
    inc = h_incident(&d, id);
    ck_assert_str_eq(h_jstr(inc, "state"), "resolved");
    ck_assert_msg(json_is_string(json_object_get(inc, "resolved_at")), "resolved_at not set");
    h_assert(&d, h_timeline_find(inc, "triggered", NULL) != NULL, "no triggered in timeline");
    h_assert(&d, h_timeline_find(inc, "resolved", NULL) != NULL, "no resolved in timeline");
    json_decref(inc);
    arr = h_incidents(&d, "open");
    ck_assert_int_eq(json_array_size(arr), 0);
    json_decref(arr);

    h_assert(&d, peer_wait_requests(p, 2, 15000) >= 2, "no resolve webhook");
    n = h_wait_notification(&d, id, "hook", "resolve", "done", 15000);
    h_assert(&d, n != NULL, "hook resolve never done");
    json_decref(n);
    ck_assert_int_eq(peer_count(p), 2);
    pl = peer_get(p, 1)->json;
    ck_assert_str_eq(h_jstr(pl, "action"), "resolve");
    ck_assert_int_eq(h_jint(pl, "incident_id"), id);
    ck_assert_str_eq(h_jsub(pl, "alert", "dedup_key"), fp);
    h_assert(&d, strcmp(h_jsub(pl, "alert", "status"), "resolved") == 0,
             "the resolve notification carries an alert whose status is not \"resolved\": %s",
             peer_get(p, 1)->body);
    h_assert(&d, json_is_string(json_object_get(json_object_get(pl, "alert"), "ended_at")),
             "the resolve notification's alert has no ended_at: %s", peer_get(p, 1)->body);

    /* The stored latest alert is the resolved one too. */
    inc = h_incident(&d, id);
    h_assert(&d, h_jsub(inc, "alert", "status") && strcmp(h_jsub(inc, "alert", "status"),
                                                          "resolved") == 0,
             "GET /api/v1/incidents/%lld: alert.status is %s after the resolving alert",
             (long long)id, h_jsub(inc, "alert", "status"));
    json_decref(inc);
    finish(p, &d);
}
END_TEST

START_TEST(test_malformed_json_is_400_with_position)
{
    struct peer *p = h_peer_started();
    struct h_daemon d;
    struct h_config c = { .peer_port = peer_port(p) };
    struct h_resp r;
    json_t *j;
    char *detail;

    h_init(&d);
    h_config_standard(&d, &c);
    h_start(&d);
    h_req(&d, "POST", "/api/v2/alerts",
          "[{\"labels\": {\"alertname\": \"Broken\"},\n  \"annotations\": {oops}}]", &r);
    j = assert_json_error(&d, &r, 400);
    ck_assert_msg(json_object_get(j, "detail") != NULL, "no detail: %s", r.body);
    detail = json_dumps(json_object_get(j, "detail"), JSON_ENCODE_ANY);
    h_assert(&d, strstr(detail, "line") && strstr(detail, "2") && strstr(detail, "col"),
             "detail does not give line 2 and a column: %s", detail);
    free(detail);
    json_decref(j);
    h_resp_free(&r);
    ck_assert_int_eq(n_incidents(&d), 0);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    peer_free(p);
}
END_TEST

START_TEST(test_single_object_is_400)
{
    struct peer *p = h_peer_started();
    struct h_daemon d;
    struct h_config c = { .peer_port = peer_port(p) };
    struct h_resp r;
    json_t *j;

    h_init(&d);
    h_config_standard(&d, &c);
    h_start(&d);
    h_req(&d, "POST", "/api/v2/alerts",
          "{\"labels\": {\"alertname\": \"Lonely\"}, \"annotations\": {\"summary\": \"x\"}}", &r);
    j = assert_json_error(&d, &r, 400);
    json_decref(j);
    h_resp_free(&r);
    ck_assert_int_eq(n_incidents(&d), 0);
    h_sleep_ms(300);
    ck_assert_int_eq(peer_count(p), 0);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    peer_free(p);
}
END_TEST

START_TEST(test_partial_batch_stores_the_valid_alert)
{
    struct peer *p = h_peer_started();
    struct h_daemon d;
    struct h_config c = { .peer_port = peer_port(p) };
    struct h_resp r;
    char fp[17];
    json_t *j, *arr;

    h_init(&d);
    h_config_standard(&d, &c);
    h_start(&d);
    h_am_fingerprint("Good", "web1", "low", fp);
    h_req(&d, "POST", "/api/v2/alerts",
          "[{\"labels\": {\"alertname\": \"Good\", \"instance\": \"web1\", \"severity\": \"low\"},"
          "  \"annotations\": {\"summary\": \"the valid one\"}},"
          " {\"labels\": {}, \"annotations\": {\"summary\": \"no labels\"}},"
          " {\"labels\": {\"alertname\": \"BadTime\"}, \"startsAt\": \"yesterday\"},"
          " {\"labels\": {\"alertname\": \"Backwards\"},"
          "  \"startsAt\": \"2026-01-02T00:00:00Z\", \"endsAt\": \"2026-01-01T00:00:00Z\"}]",
          &r);
    j = assert_json_error(&d, &r, 400);
    json_decref(j);
    h_resp_free(&r);
    arr = h_incidents(&d, NULL);
    h_assert(&d, json_array_size(arr) == 1, "%zu incidents stored, expected only the valid one",
             json_array_size(arr));
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(arr, 0), "dedup_key")), fp);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(arr, 0), "summary")),
                     "the valid one");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(arr, 0), "severity")),
                     "low");
    json_decref(arr);
    h_assert(&d, peer_wait_requests(p, 1, 15000) == 1, "the valid alert was not notified");
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    peer_free(p);
}
END_TEST

START_TEST(test_oversized_body_is_413)
{
    struct peer *p = h_peer_started();
    struct h_daemon d;
    struct h_config c = { .peer_port = peer_port(p) };
    struct h_resp r;
    size_t big = 70 * 1024, i;
    char *body = malloc(big + 256);
    json_t *j;
    int n;

    h_init(&d);
    h_config_standard(&d, &c); /* max_body = 64k */
    h_start(&d);
    n = snprintf(body, big + 256,
                 "[{\"labels\": {\"alertname\": \"Huge\"}, \"annotations\": {\"summary\": \"");
    for (i = 0; i < big; i++)
        body[n + i] = 'x';
    strcpy(body + n + big, "\"}}]");
    h_req(&d, "POST", "/api/v2/alerts", body, &r);
    j = assert_json_error(&d, &r, 413);
    json_decref(j);
    h_resp_free(&r);

    /* Without a Content-Length (chunked), and on the other input too. */
    {
        static const char *const chunked[] = { "Transfer-Encoding: chunked", NULL };
        char url[128];

        snprintf(url, sizeof url, "%s/api/v2/alerts", d.base);
        h_http_ex("POST", url, body, strlen(body), 30000, chunked, &r);
        json_decref(assert_json_error(&d, &r, 413));
        h_resp_free(&r);
    }
    h_req(&d, "POST", "/api/v1/alerts", body, &r);
    json_decref(assert_json_error(&d, &r, 413));
    h_resp_free(&r);
    free(body);
    ck_assert_int_eq(n_incidents(&d), 0);

    /* A body just under the limit is fine. */
    body = h_am_alert("Small", "db1", "info", "fits", 0);
    h_req(&d, "POST", "/api/v2/alerts", body, &r);
    h_assert(&d, r.status == 200, "small POST after a 413: HTTP %ld", r.status);
    h_resp_free(&r);
    free(body);
    ck_assert_int_eq(n_incidents(&d), 1);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    peer_free(p);
}
END_TEST

struct bg_post {
    const struct h_daemon *d;
    const char *body;
    struct h_resp resp;
    int64_t done_at;
};

static void *bg_post_run(void *arg)
{
    struct bg_post *b = arg;
    char url[256];

    snprintf(url, sizeof url, "%s/api/v2/alerts", b->d->base);
    h_http("POST", url, b->body, strlen(b->body), 30000, &b->resp);
    b->done_at = h_now_ms();
    return NULL;
}

START_TEST(test_queue_full_is_503_with_retry_after)
{
    struct peer *p = h_peer_started();
    struct h_daemon d;
    struct h_config c = { .peer_port = peer_port(p), .intake_queue = 2 };
    struct h_resp r;
    struct bg_post bg;
    pthread_t th;
    sqlite3 *db;
    char path[PATH_MAX + 16], *err = NULL, *one;
    json_t *j, *arr;
    int64_t released;

    h_init(&d);
    h_config_standard(&d, &c);
    h_start(&d);

    /* Stall the daemon's writer: hold SQLite's write lock. */
    snprintf(path, sizeof path, "%s/tocsin.db", d.state_dir);
    h_assert(&d, sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK,
             "cannot open the daemon's store %s", path);
    sqlite3_busy_timeout(db, 5000);
    h_assert(&d, sqlite3_exec(db, "BEGIN IMMEDIATE;", NULL, NULL, &err) == SQLITE_OK,
             "BEGIN IMMEDIATE on %s: %s", path, err ? err : "?");

    memset(&bg, 0, sizeof bg);
    bg.d = &d;
    bg.body = "[{\"labels\": {\"alertname\": \"Q1\"}, \"annotations\": {\"summary\": \"q1\"}},"
              " {\"labels\": {\"alertname\": \"Q2\"}, \"annotations\": {\"summary\": \"q2\"}}]";
    ck_assert_int_eq(pthread_create(&th, NULL, bg_post_run, &bg), 0);
    h_sleep_ms(400);
    h_assert(&d, bg.done_at == 0, "the batch was answered (HTTP %ld) while the store was locked",
             bg.resp.status);

    one = "[{\"labels\": {\"alertname\": \"Q3\"}, \"annotations\": {\"summary\": \"q3\"}}]";
    h_req(&d, "POST", "/api/v2/alerts", one, &r);
    released = h_now_ms();
    sqlite3_exec(db, "ROLLBACK;", NULL, NULL, NULL);
    sqlite3_close(db);
    j = assert_json_error(&d, &r, 503);
    h_assert(&d, r.retry_after >= 1, "503 without a Retry-After header (%d)", r.retry_after);
    json_decref(j);
    h_resp_free(&r);

    pthread_join(th, NULL);
    h_assert(&d, bg.resp.status == 200, "the stalled batch: HTTP %ld: %s", bg.resp.status,
             bg.resp.body);
    h_assert(&d, bg.done_at >= released, "the batch was answered before the lock was released");
    h_resp_free(&bg.resp);

    arr = h_incidents(&d, NULL);
    h_assert(&d, json_array_size(arr) == 2, "%zu incidents, expected Q1 and Q2",
             json_array_size(arr));
    json_decref(arr);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    peer_free(p);
}
END_TEST

START_TEST(test_generic_input_202_and_400)
{
    struct peer *p = h_peer_started();
    struct h_daemon d;
    struct h_config c = { .peer_port = peer_port(p) };
    struct h_resp r;
    json_t *j, *inc;
    int64_t id;

    h_init(&d);
    h_config_standard(&d, &c);
    h_start(&d);

    h_req(&d, "POST", "/api/v1/alerts",
          "{\"dedup_key\": \"gen-1\", \"status\": \"firing\", \"severity\": \"high\","
          " \"summary\": \"queue depth 10k\", \"details\": \"consumer stuck\","
          " \"service\": \"billing\", \"labels\": {\"team\": \"pay\"}}",
          &r);
    h_assert(&d, r.status == 202, "single object: HTTP %ld: %s", r.status, r.body);
    j = h_json(&r);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "accepted")), 1);
    json_decref(j);
    h_resp_free(&r);

    h_req(&d, "POST", "/api/v1/alerts",
          "[{\"dedup_key\": \"gen-2\", \"status\": \"firing\", \"severity\": \"low\","
          "  \"summary\": \"two\"},"
          " {\"dedup_key\": \"gen-3\", \"status\": \"firing\", \"severity\": \"info\","
          "  \"summary\": \"three\"}]",
          &r);
    h_assert(&d, r.status == 202, "array: HTTP %ld: %s", r.status, r.body);
    j = h_json(&r);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "accepted")), 2);
    json_decref(j);
    h_resp_free(&r);
    ck_assert_int_eq(n_incidents(&d), 3);

    /* One invalid alert: the whole request is refused. */
    h_req(&d, "POST", "/api/v1/alerts",
          "[{\"dedup_key\": \"gen-4\", \"status\": \"firing\", \"severity\": \"low\","
          "  \"summary\": \"fine\"},"
          " {\"dedup_key\": \"gen-5\", \"status\": \"firing\", \"severity\": \"low\"}]",
          &r);
    json_decref(assert_json_error(&d, &r, 400));
    h_resp_free(&r);
    h_req(&d, "POST", "/api/v1/alerts",
          "{\"dedup_key\": \"gen-6\", \"status\": \"firing\", \"severity\": \"apocalyptic\","
          " \"summary\": \"bad severity\"}",
          &r);
    json_decref(assert_json_error(&d, &r, 400));
    h_resp_free(&r);
    h_req(&d, "POST", "/api/v1/alerts",
          "{\"dedup_key\": \"gen-7\", \"status\": \"smouldering\", \"severity\": \"low\","
          " \"summary\": \"bad status\"}",
          &r);
    json_decref(assert_json_error(&d, &r, 400));
    h_resp_free(&r);
    h_req(&d, "POST", "/api/v1/alerts", "{\"summary\": ", &r);
    json_decref(assert_json_error(&d, &r, 400));
    h_resp_free(&r);
    ck_assert_int_eq(n_incidents(&d), 3);
    ck_assert_int_eq(h_incident_by_key(&d, "gen-4"), -1);

    id = h_incident_by_key(&d, "gen-1");
    ck_assert_int_gt(id, 0);
    inc = h_incident(&d, id);
    ck_assert_str_eq(json_string_value(json_object_get(inc, "severity")), "high");
    ck_assert_str_eq(json_string_value(json_object_get(inc, "summary")), "queue depth 10k");
    ck_assert_str_eq(json_string_value(json_object_get(inc, "service")), "billing");
    ck_assert_str_eq(json_string_value(json_object_get(inc, "source")), "api");
    ck_assert_str_eq(h_jsub(inc, "alert", "details"),
                     "consumer stuck");
    json_decref(inc);

    /* Without a dedup_key, the key comes from the labels. */
    {
        const char *nokey = "{\"status\": \"firing\", \"severity\": \"medium\","
                            " \"summary\": \"no key\", \"labels\": {\"check\": \"ping\","
                            " \"host\": \"h1\"}}";
        json_t *arr;
        size_t k, hits = 0;

        for (k = 0; k < 2; k++) {
            h_req(&d, "POST", "/api/v1/alerts", nokey, &r);
            h_assert(&d, r.status == 202, "no dedup_key: HTTP %ld: %s", r.status, r.body);
            h_resp_free(&r);
        }
        arr = h_incidents(&d, NULL);
        ck_assert_int_eq(json_array_size(arr), 4);
        json_array_foreach(arr, k, inc) {
            if (strcmp(h_jstr(inc, "summary"), "no key") == 0) {
                hits++;
                ck_assert_int_eq(h_jint(inc, "occurrences"), 2);
                ck_assert_msg(strlen(h_jstr(inc, "dedup_key")) > 0, "empty derived dedup_key");
            }
        }
        ck_assert_int_eq(hits, 1);
        json_decref(arr);
    }

    /* status "resolved" resolves the open incident. */
    h_req(&d, "POST", "/api/v1/alerts",
          "{\"dedup_key\": \"gen-1\", \"status\": \"resolved\", \"severity\": \"high\","
          " \"summary\": \"queue depth 10k\"}",
          &r);
    h_assert(&d, r.status == 202, "resolve: HTTP %ld: %s", r.status, r.body);
    h_resp_free(&r);
    inc = h_incident(&d, id);
    ck_assert_str_eq(json_string_value(json_object_get(inc, "state")), "resolved");
    json_decref(inc);
    ck_assert_int_eq(n_incidents(&d), 4);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    peer_free(p);
}
END_TEST

START_TEST(test_healthz_and_readyz_are_200)
{
    struct peer *p = h_peer_started();
    struct h_daemon d;
    struct h_config c = { .peer_port = peer_port(p) };
    struct h_resp r;

    h_init(&d);
    h_config_standard(&d, &c);
    h_start(&d);
    ck_assert_int_eq(h_req(&d, "GET", "/healthz", NULL, &r), 200);
    h_resp_free(&r);
    ck_assert_int_eq(h_req(&d, "GET", "/readyz", NULL, &r), 200);
    h_resp_free(&r);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    peer_free(p);
}
END_TEST

/* The 1-based line of the first line of path containing needle. */
static int line_of(const char *path, const char *needle)
{
    char *text = h_read_file(path), *s;
    int line = 1;

    ck_assert_ptr_nonnull(text);
    s = strstr(text, needle);
    ck_assert_msg(s != NULL, "\"%s\" not in %s", needle, path);
    for (char *q = text; q < s; q++)
        if (*q == '\n')
            line++;
    free(text);
    return line;
}

START_TEST(test_check_config_good_and_bad)
{
    struct h_daemon d;
    struct h_config c = { .peer_port = 9 };
    char *out = NULL, want[PATH_MAX + 64];
    int rc, l1, l2;

    h_init(&d);
    h_config_standard(&d, &c);
    rc = h_run_tocsind(&out, "--check-config", "-c", d.conf, (char *)NULL);
    ck_assert_msg(rc == 0, "--check-config on a good config: exit %d:\n%s", rc, out);
    free(out);

    /* Two mistakes: both must be reported, each with file:line. */
    c.hook_extra = "retry_base = \"100ms\";\n    urll = \"http://typo\";";
    h_config_standard(&d, &c);
    {
        char *text = h_read_file(d.conf), *s = strstr(text, "[ \"hook\", \"console\" ]");

        ck_assert_ptr_nonnull(s);
        memcpy(s, "[ \"hook\", \"nosuch\"  ]", strlen("[ \"hook\", \"nosuch\"  ]"));
        h_write_config(&d, "%s", text);
        free(text);
    }
    l1 = line_of(d.conf, "urll");
    l2 = line_of(d.conf, "nosuch");
    rc = h_run_tocsind(&out, "--check-config", "-c", d.conf, (char *)NULL);
    ck_assert_msg(rc == 1, "--check-config on a bad config: exit %d (expected 1):\n%s", rc, out);
    snprintf(want, sizeof want, "%s:%d:", d.conf, l1);
    ck_assert_msg(strstr(out, want) && strstr(out, "urll"),
                  "the unknown key is not reported as %s ... \"urll\":\n%s", want, out);
    snprintf(want, sizeof want, "%s:%d:", d.conf, l2);
    ck_assert_msg(strstr(out, want) && strstr(out, "nosuch"),
                  "the unknown sink is not reported as %s ... \"nosuch\":\n%s", want, out);
    free(out);

    /* And the daemon refuses to start on it. */
    ck_assert_int_eq(h_try_start(&d, 10000), -1);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("integration: intake");
    TCase *tc = h_tcase("intake", 90);

    tcase_add_test(tc, test_alert_is_stored_and_delivered);
    tcase_add_test(tc, test_repeat_while_open_counts_and_does_not_notify);
    tcase_add_test(tc, test_ends_at_in_the_past_resolves_and_notifies);
    tcase_add_test(tc, test_malformed_json_is_400_with_position);
    tcase_add_test(tc, test_single_object_is_400);
    tcase_add_test(tc, test_partial_batch_stores_the_valid_alert);
    tcase_add_test(tc, test_oversized_body_is_413);
    tcase_add_test(tc, test_queue_full_is_503_with_retry_after);
    tcase_add_test(tc, test_generic_input_202_and_400);
    tcase_add_test(tc, test_healthz_and_readyz_are_200);
    tcase_add_test(tc, test_check_config_good_and_bad);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(suite());
}
