/* test_dedup.c: the dedup policy against the real tocsind, the fake
 * webhook peer and the injectable clock: a flap inside flap_window reopens
 * its incident, one outside links a new incident to the old; repeat_interval
 * re-notifies until acknowledged, across a kill -9; `key` names the
 * identity of alerts that came without one. */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define MINUTE (60 * 1000LL)
#define HOUR (60 * MINUTE)

static void up(struct peer **p, struct h_daemon *d, const char *policy_extra)
{
    struct h_config c = { 0 };
    char top[512];

    *p = h_peer_started();
    snprintf(top, sizeof top, "policies = ( { id = \"dedup\"; plugin = \"dedup\"; %s } );",
             policy_extra);
    c.peer_port = peer_port(*p);
    c.top_extra = top;
    c.no_console = 1;
    h_init(d);
    h_clock_enable(d);
    h_config_standard(d, &c);
    h_start(d);
}

/* A native alert through the generic input; answered 200 or the test fails. */
static void post(struct h_daemon *d, const char *json)
{
    struct h_resp r;

    h_req(d, "POST", "/api/v1/alerts", json, &r);
    h_assert(d, r.status == 202, "POST %s: HTTP %ld: %s", json, r.status, r.body);
    h_resp_free(&r);
}

static void fire(struct h_daemon *d, const char *key)
{
    char body[256];

    snprintf(body, sizeof body,
             "{\"dedup_key\":\"%s\",\"status\":\"firing\",\"severity\":\"critical\","
             "\"summary\":\"%s is down\"}", key, key);
    post(d, body);
}

static void resolve(struct h_daemon *d, const char *key)
{
    char body[256];

    snprintf(body, sizeof body,
             "{\"dedup_key\":\"%s\",\"status\":\"resolved\",\"summary\":\"%s is down\"}", key,
             key);
    post(d, body);
}

/* Notifications the peer answered 2xx for incident with action, each
 * outbox row once (a kill -9 may send one again: at least once, with its
 * outbox_id as the idempotency key); repeats counts only those marked
 * "repeat": true (-1: any). */
static size_t delivered(struct peer *p, const char *action, int64_t incident, int repeats)
{
    json_int_t seen[64];
    size_t i, j, n = 0;

    for (i = 0; i < peer_count(p); i++) {
        const struct peer_req *r = peer_get(p, i);
        json_int_t row;
        int rep;

        if (r->status / 100 != 2 || !r->json ||
            json_integer_value(json_object_get(r->json, "incident_id")) != incident ||
            strcmp(json_string_value(json_object_get(r->json, "action")), action) != 0)
            continue;
        rep = json_is_true(json_object_get(r->json, "repeat"));
        row = json_integer_value(json_object_get(r->json, "outbox_id"));
        for (j = 0; j < n && seen[j] != row; j++)
            ;
        if ((repeats < 0 || rep == repeats) && j == n && n < 64)
            seen[n++] = row;
    }
    return n;
}

struct want {
    struct peer *p;
    const char *action;
    int64_t incident;
    int repeats;
    size_t n;
};

static int enough(void *arg)
{
    struct want *w = arg;

    return delivered(w->p, w->action, w->incident, w->repeats) >= w->n;
}

static void wait_delivered(struct h_daemon *d, struct peer *p, const char *action,
                           int64_t incident, int repeats, size_t n)
{
    struct want w = { p, action, incident, repeats, n };

    h_assert(d, h_wait_until(enough, &w, 10000),
             "incident %lld: %zu of %zu %s deliveries (repeat %d)", (long long)incident,
             delivered(p, action, incident, repeats), n, action, repeats);
}

static int64_t incident_of(struct h_daemon *d, const char *key)
{
    int64_t id = h_incident_by_key(d, key);

    h_assert(d, id > 0, "no incident for %s", key);
    return id;
}

START_TEST(flap_inside_window_reopens)
{
    struct h_daemon d;
    struct peer *p;
    int64_t id;
    json_t *inc;

    up(&p, &d, "flap_window = \"5m\";");
    fire(&d, "db-down");
    id = incident_of(&d, "db-down");
    wait_delivered(&d, p, "trigger", id, 0, 1);
    resolve(&d, "db-down");
    wait_delivered(&d, p, "resolve", id, 0, 1);
    h_clock_advance(&d, 2 * MINUTE);
    fire(&d, "db-down");
    /* the same incident, open again, its sinks told trigger as a repeat */
    h_assert(&d, h_incident_by_key(&d, "db-down") == id, "a flap opened a new incident");
    inc = h_incident(&d, id);
    h_assert(&d, strcmp(h_jstr(inc, "state"), "triggered") == 0, "state %s",
             h_jstr(inc, "state"));
    h_assert(&d, h_timeline_index(inc, "reopened", NULL) >= 0, "no \"reopened\" in timeline");
    h_assert(&d, json_is_null(json_object_get(inc, "resolved_at")), "still resolved_at");
    json_decref(inc);
    wait_delivered(&d, p, "trigger", id, 1, 1);
    ck_assert_uint_eq(delivered(p, "trigger", id, 0), 1);
    /* it resolves again like any incident */
    resolve(&d, "db-down");
    wait_delivered(&d, p, "resolve", id, -1, 2);
    h_assert_no_violations(&d, p);
    ck_assert_int_eq(h_stop(&d, 10000), 0);
    peer_free(p);
    h_passed();
}
END_TEST

START_TEST(flap_outside_window_links_previous)
{
    struct h_daemon d;
    struct peer *p;
    int64_t first, second;
    json_t *inc;
    size_t i;

    up(&p, &d, "flap_window = \"5m\";");
    fire(&d, "api-slow");
    first = incident_of(&d, "api-slow");
    resolve(&d, "api-slow");
    wait_delivered(&d, p, "resolve", first, 0, 1);
    h_clock_advance(&d, 6 * MINUTE);
    fire(&d, "api-slow");
    second = h_incident_by_key(&d, "api-slow");
    h_assert(&d, second > first, "no new incident after the flap window (%lld)",
             (long long)second);
    inc = h_incident(&d, second);
    h_assert(&d, json_integer_value(json_object_get(inc, "previous_id")) == first,
             "previous_id is not %lld", (long long)first);
    json_decref(inc);
    wait_delivered(&d, p, "trigger", second, 0, 1);
    for (i = 0; i < peer_count(p); i++) {
        const struct peer_req *r = peer_get(p, i);

        if (r->json && json_integer_value(json_object_get(r->json, "incident_id")) == second)
            h_assert(&d, json_integer_value(json_object_get(r->json, "previous_id")) == first,
                     "the sink was not told previous_id");
    }
    h_assert_no_violations(&d, p);
    ck_assert_int_eq(h_stop(&d, 10000), 0);
    peer_free(p);
    h_passed();
}
END_TEST

START_TEST(no_flap_window_opens_new)
{
    struct h_daemon d;
    struct peer *p;
    int64_t first;

    up(&p, &d, "flap_window = 0;");
    fire(&d, "disk");
    first = incident_of(&d, "disk");
    resolve(&d, "disk");
    wait_delivered(&d, p, "resolve", first, 0, 1);
    fire(&d, "disk");
    h_assert(&d, h_incident_by_key(&d, "disk") > first, "flap_window = 0 reopened");
    ck_assert_int_eq(h_stop(&d, 10000), 0);
    peer_free(p);
    h_passed();
}
END_TEST

START_TEST(repeat_interval_until_acknowledged)
{
    struct h_daemon d;
    struct peer *p;
    struct h_resp r;
    int64_t id;
    char path[80];

    up(&p, &d, "repeat_interval = \"4h\";");
    fire(&d, "queue-full");
    id = incident_of(&d, "queue-full");
    wait_delivered(&d, p, "trigger", id, 0, 1);
    h_clock_advance(&d, 3 * HOUR);
    h_sleep_ms(300);
    ck_assert_uint_eq(delivered(p, "trigger", id, 1), 0); /* not yet */
    h_clock_advance(&d, HOUR + MINUTE);
    wait_delivered(&d, p, "trigger", id, 1, 1);
    /* across kill -9: the timer is stored */
    h_kill9(&d);
    h_start(&d);
    h_clock_advance(&d, 4 * HOUR + MINUTE);
    wait_delivered(&d, p, "trigger", id, 1, 2);
    /* acknowledged: no more */
    snprintf(path, sizeof path, "/api/v1/incidents/%lld/ack", (long long)id);
    h_req(&d, "POST", path, "{\"by\":\"alice\"}", &r);
    h_assert(&d, r.status == 200, "ack: HTTP %ld %s", r.status, r.body);
    h_resp_free(&r);
    wait_delivered(&d, p, "acknowledge", id, 0, 1);
    h_clock_advance(&d, 9 * HOUR);
    h_sleep_ms(500);
    ck_assert_uint_eq(delivered(p, "trigger", id, 1), 2);
    h_assert_no_violations(&d, p);
    ck_assert_int_eq(h_stop(&d, 10000), 0);
    peer_free(p);
    h_passed();
}
END_TEST

START_TEST(repeat_interval_stops_on_resolve)
{
    struct h_daemon d;
    struct peer *p;
    int64_t id;

    up(&p, &d, "repeat_interval = \"1h\"; flap_window = 0;");
    fire(&d, "cpu");
    id = incident_of(&d, "cpu");
    h_clock_advance(&d, HOUR + MINUTE);
    wait_delivered(&d, p, "trigger", id, 1, 1);
    resolve(&d, "cpu");
    wait_delivered(&d, p, "resolve", id, 0, 1);
    h_clock_advance(&d, 5 * HOUR);
    h_sleep_ms(500);
    ck_assert_uint_eq(delivered(p, "trigger", id, 1), 1);
    ck_assert_int_eq(h_stop(&d, 10000), 0);
    peer_free(p);
    h_passed();
}
END_TEST

START_TEST(key_names_the_identity)
{
    struct h_daemon d;
    struct peer *p;
    json_t *list, *inc;

    up(&p, &d, "key = [ \"alertname\", \"cluster\" ];");
    /* two pods of one problem, without dedup keys of their own: one incident */
    post(&d, "{\"status\":\"firing\",\"labels\":{\"alertname\":\"OOM\",\"cluster\":\"eu\","
             "\"pod\":\"web-1\"},\"summary\":\"OOM\"}");
    post(&d, "{\"status\":\"firing\",\"labels\":{\"alertname\":\"OOM\",\"cluster\":\"eu\","
             "\"pod\":\"web-2\"},\"summary\":\"OOM\"}");
    /* another cluster is another problem; a given key is kept as it is */
    post(&d, "{\"status\":\"firing\",\"labels\":{\"alertname\":\"OOM\",\"cluster\":\"us\","
             "\"pod\":\"web-1\"},\"summary\":\"OOM\"}");
    post(&d, "{\"dedup_key\":\"mine\",\"status\":\"firing\",\"labels\":{\"alertname\":\"OOM\","
             "\"cluster\":\"eu\"},\"summary\":\"OOM\"}");
    list = h_incidents(&d, NULL);
    h_assert(&d, json_array_size(list) == 3, "%zu incidents, not 3", json_array_size(list));
    json_decref(list);
    ck_assert_int_gt(h_incident_by_key(&d, "mine"), 0);
    list = h_incidents(&d, NULL);
    inc = json_array_get(list, json_array_size(list) - 1); /* the first one */
    ck_assert_int_eq(json_integer_value(json_object_get(inc, "occurrences")), 2);
    json_decref(list);
    ck_assert_int_eq(h_stop(&d, 10000), 0);
    peer_free(p);
    h_passed();
}
END_TEST

START_TEST(bad_options_name_the_line)
{
    struct h_daemon d;
    char *out = NULL;
    int status;

    h_init(&d);
    h_write_config(&d,
                   "daemon = { listen = \"127.0.0.1:0\"; state_dir = \"%s\";"
                   " plugin_dir = \"%s\"; };\n"
                   "inputs = ( { id = \"api\"; plugin = \"generic\"; } );\n"
                   "sinks = ( { id = \"c\"; plugin = \"console\"; } );\n"
                   "policies = (\n"
                   "  { id = \"dedup\"; plugin = \"dedup\"; repeat_interval = \"10s\"; }\n"
                   ");\n",
                   d.state_dir, getenv("TOCSIN_PLUGIN_DIR"));
    status = h_run_tocsind(&out, "--check-config", "-c", d.conf, (char *)NULL);
    ck_assert_int_ne(status, 0);
    h_assert(&d, strstr(out, "repeat_interval must be at least 1m"), "output: %s", out);
    h_assert(&d, strstr(out, "tocsin.conf:5"), "no file:line in: %s", out);
    free(out);
    h_passed();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dedup");
    TCase *tc = h_tcase("dedup", 120);

    tcase_add_test(tc, flap_inside_window_reopens);
    tcase_add_test(tc, flap_outside_window_links_previous);
    tcase_add_test(tc, no_flap_window_opens_new);
    tcase_add_test(tc, repeat_interval_until_acknowledged);
    tcase_add_test(tc, repeat_interval_stops_on_resolve);
    tcase_add_test(tc, key_names_the_identity);
    tcase_add_test(tc, bad_options_name_the_line);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
