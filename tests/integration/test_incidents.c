/* test_incidents.c: the incident API against the real tocsind: ack,
 * resolve (a note is required), 409 and 404, the timeline, the ?status=
 * filter, and incidents resolved because their alert expired. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

struct fixture {
    struct peer *p;
    struct h_daemon d;
};

static void up_with(struct fixture *f, const char *daemon_extra)
{
    struct h_config c = { 0 };

    f->p = h_peer_started();
    c.peer_port = peer_port(f->p);
    c.daemon_extra = daemon_extra;
    h_init(&f->d);
    h_config_standard(&f->d, &c);
    h_start(&f->d);
}

static void up(struct fixture *f)
{
    up_with(f, NULL);
}

static void down(struct fixture *f)
{
    h_assert_no_violations(&f->d, f->p);
    h_assert(&f->d, h_stop(&f->d, 15000) == 0, "SIGTERM: exit status not 0");
    peer_free(f->p);
}

/* Posts one native alert and returns its incident id. */
static int64_t open_incident(struct fixture *f, const char *key, const char *summary)
{
    char body[512];
    struct h_resp r;
    int64_t id;

    snprintf(body, sizeof body,
             "{\"dedup_key\": \"%s\", \"status\": \"firing\", \"severity\": \"critical\","
             " \"summary\": \"%s\", \"service\": \"db\"}",
             key, summary);
    h_req(&f->d, "POST", "/api/v1/alerts", body, &r);
    h_assert(&f->d, r.status == 202, "POST /api/v1/alerts: HTTP %ld: %s", r.status, r.body);
    h_resp_free(&r);
    id = h_incident_by_key(&f->d, key);
    h_assert(&f->d, id > 0, "no incident for %s", key);
    return id;
}

static long action(struct fixture *f, int64_t id, const char *verb, const char *body,
                   json_t **out)
{
    char path[128];
    struct h_resp r;
    long status;

    snprintf(path, sizeof path, "/api/v1/incidents/%lld/%s", (long long)id, verb);
    status = h_req(&f->d, "POST", path, body, &r);
    if (out)
        *out = r.len ? h_json(&r) : NULL;
    if (status >= 400) {
        json_t *j = h_json(&r);

        h_assert(&f->d, json_is_string(json_object_get(j, "error")),
                 "%s: HTTP %ld without a JSON error: %s", path, status, r.body);
        json_decref(j);
    }
    h_resp_free(&r);
    return status;
}

/* The n-th webhook request whose action is act (waits for it). */
static json_t *wait_payload(struct fixture *f, const char *act, int64_t id)
{
    int64_t end = h_now_ms() + 15000;
    size_t i = 0;

    while (h_now_ms() < end) {
        for (; i < peer_count(f->p); i++) {
            json_t *pl = peer_get(f->p, i)->json;
            const char *a = json_string_value(json_object_get(pl, "action"));

            if (a && strcmp(a, act) == 0 &&
                json_integer_value(json_object_get(pl, "incident_id")) == id)
                return pl;
        }
        h_sleep_ms(20);
    }
    return NULL;
}

START_TEST(test_ack_sets_state_and_notifies)
{
    struct fixture f;
    int64_t id;
    json_t *inc, *pl, *n;

    up(&f);
    id = open_incident(&f, "ack-me", "replica lag 40s");
    n = h_wait_notification(&f.d, id, "hook", "trigger", "done", 15000);
    h_assert(&f.d, n != NULL, "trigger never delivered");
    json_decref(n);

    h_assert(&f.d, action(&f, id, "ack", "{\"by\": \"alice\"}", &inc) == 200, "ack not 200");
    ck_assert_ptr_nonnull(inc);
    ck_assert_int_eq(h_jint(inc, "id"), id);
    ck_assert_str_eq(h_jstr(inc, "state"), "acknowledged");
    ck_assert_str_eq(h_jstr(inc, "acknowledged_by"), "alice");
    ck_assert_msg(json_is_string(json_object_get(inc, "acknowledged_at")),
                  "acknowledged_at not set");
    json_decref(inc);

    inc = h_incident(&f.d, id);
    ck_assert_str_eq(h_jstr(inc, "state"), "acknowledged");
    json_decref(inc);
    inc = h_incidents(&f.d, "acknowledged");
    ck_assert_int_eq(json_array_size(inc), 1);
    json_decref(inc);

    pl = wait_payload(&f, "acknowledge", id);
    h_assert(&f.d, pl != NULL, "no acknowledge webhook");
    ck_assert_str_eq(h_jstr(pl, "actor"), "alice");
    ck_assert_str_eq(h_jstr(pl, "sink"), "hook");
    n = h_wait_notification(&f.d, id, "hook", "acknowledge", "done", 15000);
    h_assert(&f.d, n != NULL, "acknowledge never done");
    json_decref(n);

    /* The alert firing again keeps it acknowledged, counted, not notified. */
    ck_assert_int_eq(open_incident(&f, "ack-me", "replica lag 40s"), id);
    inc = h_incident(&f.d, id);
    ck_assert_str_eq(h_jstr(inc, "state"), "acknowledged");
    ck_assert_int_eq(h_jint(inc, "occurrences"), 2);
    json_decref(inc);
    h_sleep_ms(500);
    h_assert(&f.d, peer_count(f.p) == 2, "%zu webhook requests, expected trigger and acknowledge",
             peer_count(f.p));
    down(&f);
}
END_TEST

START_TEST(test_resolve_without_note_is_400)
{
    struct fixture f;
    int64_t id;
    json_t *inc;

    up(&f);
    id = open_incident(&f, "needs-note", "cpu 100%");
    ck_assert_int_eq(action(&f, id, "resolve", "{\"by\": \"bob\"}", NULL), 400);
    ck_assert_int_eq(action(&f, id, "resolve", "{\"by\": \"bob\", \"note\": \"\"}", NULL), 400);
    ck_assert_int_eq(action(&f, id, "resolve", "{}", NULL), 400);
    inc = h_incident(&f.d, id);
    ck_assert_str_eq(h_jstr(inc, "state"), "triggered");
    json_decref(inc);
    down(&f);
}
END_TEST

START_TEST(test_resolve_with_note_notifies_and_twice_is_409)
{
    struct fixture f;
    int64_t id;
    json_t *inc, *pl, *n;

    up(&f);
    id = open_incident(&f, "fix-me", "disk full");
    h_assert(&f.d, action(&f, id, "resolve", "{\"by\": \"bob\", \"note\": \"rotated logs\"}",
                          &inc) == 200,
             "resolve not 200");
    ck_assert_ptr_nonnull(inc);
    ck_assert_str_eq(h_jstr(inc, "state"), "resolved");
    ck_assert_str_eq(h_jstr(inc, "resolved_by"), "bob");
    ck_assert_str_eq(h_jstr(inc, "resolution_note"), "rotated logs");
    ck_assert_msg(json_is_string(json_object_get(inc, "resolved_at")), "resolved_at not set");
    json_decref(inc);

    pl = wait_payload(&f, "resolve", id);
    h_assert(&f.d, pl != NULL, "no resolve webhook");
    ck_assert_str_eq(h_jstr(pl, "actor"), "bob");
    ck_assert_str_eq(h_jstr(pl, "note"), "rotated logs");
    n = h_wait_notification(&f.d, id, "hook", "resolve", "done", 15000);
    h_assert(&f.d, n != NULL, "resolve never done");
    json_decref(n);

    ck_assert_int_eq(action(&f, id, "resolve", "{\"by\": \"bob\", \"note\": \"again\"}", NULL),
                     409);
    inc = h_incident(&f.d, id);
    ck_assert_str_eq(h_jstr(inc, "resolution_note"), "rotated logs");
    json_decref(inc);

    /* A new firing alert with the same key opens a new incident. */
    ck_assert_int_ne(open_incident(&f, "fix-me", "disk full again"), id);
    down(&f);
}
END_TEST

START_TEST(test_unknown_incident_is_404)
{
    struct fixture f;
    struct h_resp r;
    json_t *j;

    up(&f);
    h_req(&f.d, "GET", "/api/v1/incidents/424242", NULL, &r);
    h_assert(&f.d, r.status == 404, "GET unknown incident: HTTP %ld", r.status);
    j = h_json(&r);
    ck_assert_msg(json_is_string(json_object_get(j, "error")), "no error: %s", r.body);
    json_decref(j);
    h_resp_free(&r);
    ck_assert_int_eq(action(&f, 424242, "ack", "{\"by\": \"alice\"}", NULL), 404);
    ck_assert_int_eq(action(&f, 424242, "resolve", "{\"by\": \"a\", \"note\": \"n\"}", NULL),
                     404);
    down(&f);
}
END_TEST

START_TEST(test_timeline_is_complete_and_ordered)
{
    struct fixture f;
    int64_t id;
    json_t *inc, *tl, *e, *n;
    int trig, ack, res, n_trig, n_ack, n_res;
    const char *prev = "";
    size_t i;

    up(&f);
    id = open_incident(&f, "timeline", "api 5xx");
    n = h_wait_notification(&f.d, id, "hook", "trigger", "done", 15000);
    h_assert(&f.d, n != NULL, "trigger never done");
    json_decref(n);
    ck_assert_int_eq(action(&f, id, "ack", "{\"by\": \"alice\"}", NULL), 200);
    n = h_wait_notification(&f.d, id, "hook", "acknowledge", "done", 15000);
    h_assert(&f.d, n != NULL, "acknowledge never done");
    json_decref(n);
    ck_assert_int_eq(action(&f, id, "resolve", "{\"by\": \"bob\", \"note\": \"rolled back\"}",
                            NULL),
                     200);
    n = h_wait_notification(&f.d, id, "hook", "resolve", "done", 15000);
    h_assert(&f.d, n != NULL, "resolve never done");
    json_decref(n);
    n = h_wait_notification(&f.d, id, "console", "resolve", "done", 15000);
    h_assert(&f.d, n != NULL, "console resolve never done");
    json_decref(n);

    inc = h_incident(&f.d, id);
    tl = json_object_get(inc, "timeline");
    ck_assert_msg(json_is_array(tl), "no timeline");
    {
        char *dump = json_dumps(tl, JSON_INDENT(1));

        fprintf(stderr, "timeline of incident %lld:\n%s\n", (long long)id, dump);
        free(dump);
    }
    json_array_foreach(tl, i, e) {
        const char *at = json_string_value(json_object_get(e, "at"));

        ck_assert_msg(at != NULL, "timeline[%zu] has no \"at\"", i);
        ck_assert_msg(json_is_string(json_object_get(e, "kind")), "timeline[%zu]: no kind", i);
        ck_assert_msg(strcmp(prev, at) <= 0, "timeline not oldest first: %s after %s", at, prev);
        prev = at;
    }
    trig = h_timeline_index(inc, "triggered", NULL);
    ack = h_timeline_index(inc, "acknowledged", NULL);
    res = h_timeline_index(inc, "resolved", NULL);
    n_trig = h_timeline_index(inc, "notified", "trigger");
    n_ack = h_timeline_index(inc, "notified", "acknowledge");
    n_res = h_timeline_index(inc, "notified", "resolve");
    ck_assert_msg(trig == 0, "the timeline does not start with triggered (%d)", trig);
    ck_assert_msg(ack > trig && res > ack, "order triggered %d, acknowledged %d, resolved %d", trig,
                  ack, res);
    ck_assert_msg(n_trig > trig && n_trig < ack, "notified(trigger) at %d", n_trig);
    ck_assert_msg(n_ack > ack && n_ack < res, "notified(acknowledge) at %d", n_ack);
    ck_assert_msg(n_res > res, "notified(resolve) at %d", n_res);
    ck_assert_msg(h_timeline_index(inc, "notified", "hook") >= 0 &&
                      h_timeline_index(inc, "notified", "console") >= 0,
                  "notified entries do not name the sinks");
    ck_assert_str_eq(h_jstr(json_array_get(tl, (size_t)ack), "actor"), "alice");
    ck_assert_str_eq(h_jstr(json_array_get(tl, (size_t)res), "actor"), "bob");
    {
        char *det = h_detail(json_array_get(tl, (size_t)res));

        ck_assert_msg(strstr(det, "rolled back"), "the resolved entry does not carry the note: %s",
                      det);
        free(det);
    }

    /* Two sinks x three actions, each delivered on the first attempt. */
    ck_assert_int_eq(json_array_size(json_object_get(inc, "notifications")), 6);
    json_array_foreach(json_object_get(inc, "notifications"), i, e) {
        ck_assert_str_eq(h_jstr(e, "state"), "done");
        ck_assert_int_eq(h_jint(e, "attempts"), 1);
    }
    /* The latest alert, native schema. */
    ck_assert_str_eq(h_jsub(inc, "alert", "dedup_key"), "timeline");
    ck_assert_str_eq(h_jsub(inc, "alert", "summary"), "api 5xx");
    json_decref(inc);
    down(&f);
}
END_TEST

static void assert_ids(struct fixture *f, const char *status, int64_t a, int64_t b, int64_t c)
{
    json_t *arr = h_incidents(&f->d, status);
    int64_t want[3] = { a, b, c };
    size_t i, n = 0;

    for (i = 0; i < 3; i++)
        if (want[i] > 0)
            n++;
    h_assert(&f->d, json_array_size(arr) == n, "?status=%s: %zu incidents, expected %zu",
             status ? status : "(none)", json_array_size(arr), n);
    for (i = 0; i < n; i++)
        h_assert(&f->d, json_integer_value(json_object_get(json_array_get(arr, i), "id")) ==
                            want[i],
                 "?status=%s: [%zu] is not incident %lld (newest first)",
                 status ? status : "(none)", i, (long long)want[i]);
    json_decref(arr);
}

START_TEST(test_status_filter)
{
    struct fixture f;
    int64_t a, b, c;
    struct h_resp r;

    up(&f);
    a = open_incident(&f, "filter-a", "a");
    b = open_incident(&f, "filter-b", "b");
    c = open_incident(&f, "filter-c", "c");
    ck_assert_int_eq(action(&f, b, "ack", "{\"by\": \"alice\"}", NULL), 200);
    ck_assert_int_eq(action(&f, c, "resolve", "{\"by\": \"bob\", \"note\": \"gone\"}", NULL), 200);

    assert_ids(&f, NULL, c, b, a);
    assert_ids(&f, "triggered", a, 0, 0);
    assert_ids(&f, "acknowledged", b, 0, 0);
    assert_ids(&f, "resolved", c, 0, 0);
    assert_ids(&f, "open", b, a, 0);

    h_req(&f.d, "GET", "/api/v1/incidents?status=bogus", NULL, &r);
    h_assert(&f.d, r.status == 400, "?status=bogus: HTTP %ld", r.status);
    h_resp_free(&r);
    down(&f);
}
END_TEST

/* Posts one Alertmanager alert (endsAt = now + ends_in_s); 200 or fail. */
static void post_am(struct fixture *f, const char *name, const char *instance, int ends_in_s)
{
    char *body = h_am_alert(name, instance, "critical", "expiry test", ends_in_s);
    struct h_resp r;

    h_req(&f->d, "POST", "/api/v2/alerts", body, &r);
    h_assert(&f->d, r.status == 200, "POST /api/v2/alerts: HTTP %ld: %s", r.status, r.body);
    h_resp_free(&r);
    free(body);
}

static const char *state_of(struct fixture *f, int64_t id, json_t **inc)
{
    json_decref(*inc);
    *inc = h_incident(&f->d, id);
    return h_jstr(*inc, "state");
}

START_TEST(test_alert_not_refreshed_past_ends_at_expires)
{
    struct fixture f;
    char gone_key[17], kept_key[17];
    int64_t gone, kept, end;
    json_t *inc = NULL, *n;
    const char *state = "";

    /* On the test clock: expiry is time-driven, and a loaded machine must
     * not let real seconds decide the order. */
    f.p = h_peer_started();
    {
        struct h_config c = { .peer_port = peer_port(f.p),
                              /* the grace after start has its own test */
                              .daemon_extra = "expiry_grace = \"1s\";" };

        h_init(&f.d);
        h_config_standard(&f.d, &c);
        h_clock_enable(&f.d);
        h_start(&f.d);
    }
    h_am_fingerprint("Gone", "db1", "critical", gone_key);
    h_am_fingerprint("Kept", "db2", "critical", kept_key);
    post_am(&f, "Gone", "db1", 2);
    post_am(&f, "Kept", "db2", 2);
    gone = h_incident_by_key(&f.d, gone_key);
    kept = h_incident_by_key(&f.d, kept_key);
    h_assert(&f.d, gone > 0 && kept > 0, "incidents not opened (%lld, %lld)", (long long)gone,
             (long long)kept);
    /* Prometheus re-sends a firing alert with a later endsAt. */
    post_am(&f, "Kept", "db2", 60);
    h_clock_advance(&f.d, 3000); /* past the first endsAt, before the second */

    end = h_now_ms() + 8000;
    while (h_now_ms() < end && strcmp(state = state_of(&f, gone, &inc), "resolved") != 0)
        h_sleep_ms(100);
    h_assert(&f.d, strcmp(state, "resolved") == 0, "not refreshed past endsAt, still %s", state);
    ck_assert_str_eq(h_jstr(inc, "resolved_by"), "expired");
    h_assert(&f.d, h_timeline_index(inc, "resolved", "expired") >= 0,
             "the timeline does not say the incident expired");
    /* Followers hear of it like any resolve. */
    n = h_wait_notification(&f.d, gone, "hook", "resolve", "done", 15000);
    h_assert(&f.d, n != NULL, "the expiry was not notified");
    json_decref(n);
    /* The refreshed one is still open, until its own later endsAt. */
    h_assert(&f.d, strcmp(state_of(&f, kept, &inc), "triggered") == 0,
             "a refreshed alert expired at its first endsAt (%s)", h_jstr(inc, "state"));
    h_clock_advance(&f.d, 60000);
    end = h_now_ms() + 8000;
    while (h_now_ms() < end && strcmp(state = state_of(&f, kept, &inc), "resolved") != 0)
        h_sleep_ms(100);
    h_assert(&f.d, strcmp(state, "resolved") == 0, "the refreshed alert never expired (%s)",
             state);
    json_decref(inc);
    down(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("integration: incidents");
    TCase *tc = h_tcase("incidents", 90);

    tcase_add_test(tc, test_ack_sets_state_and_notifies);
    tcase_add_test(tc, test_resolve_without_note_is_400);
    tcase_add_test(tc, test_resolve_with_note_notifies_and_twice_is_409);
    tcase_add_test(tc, test_unknown_incident_is_404);
    tcase_add_test(tc, test_timeline_is_complete_and_ordered);
    tcase_add_test(tc, test_status_filter);
    tcase_add_test(tc, test_alert_not_refreshed_past_ends_at_expires);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(suite());
}
