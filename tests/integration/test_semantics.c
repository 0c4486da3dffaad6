/* test_semantics.c: what a pager must get right about deliveries, against
 * the real tocsind and the fake webhook peer: order per incident across
 * retries and restarts, the retry budget, fallbacks, no expiry storm after
 * a downtime, no re-page after a manual resolve, stale resolves. */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "harness.h"

/* The standard config, with the hook sink's and the daemon's extras. */
static void up(struct peer **p, struct h_daemon *d, const char *hook_extra,
               const char *daemon_extra, int no_console)
{
    struct h_config c = { 0 };

    *p = h_peer_started();
    c.peer_port = peer_port(*p);
    c.hook_extra = hook_extra;
    c.daemon_extra = daemon_extra;
    c.no_console = no_console;
    h_init(d);
    h_config_standard(d, &c);
    h_start(d);
}

static void rfc3339(time_t t, char *buf, size_t size)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
}

/* An Alertmanager alert named name with startsAt now + starts_s and, when
 * ends_s is not 0, endsAt now + ends_s. Answered 200, or the test fails. */
static void post_am_at(struct h_daemon *d, const char *name, int starts_s, int ends_s)
{
    time_t now = time(NULL);
    char starts[40], ends[40], body[512];
    struct h_resp r;

    rfc3339(now + starts_s, starts, sizeof starts);
    rfc3339(now + ends_s, ends, sizeof ends);
    snprintf(body, sizeof body,
             "[{\"labels\":{\"alertname\":\"%s\",\"instance\":\"db1\",\"severity\":\"critical\"},"
             "\"annotations\":{\"summary\":\"%s is down\"},\"startsAt\":\"%s\"%s%s%s}]",
             name, name, starts, ends_s ? ",\"endsAt\":\"" : "", ends_s ? ends : "",
             ends_s ? "\"" : "");
    h_req(d, "POST", "/api/v2/alerts", body, &r);
    h_assert(d, r.status == 200, "POST %s: HTTP %ld: %s", name, r.status, r.body);
    h_resp_free(&r);
}

static int64_t key_of(struct h_daemon *d, const char *name)
{
    char fp[17];

    h_am_fingerprint(name, "db1", "critical", fp);
    return h_incident_by_key(d, fp);
}

/* The peer's requests as "action:incident" in order of arrival, for each
 * request the peer answered 2xx. */
static size_t delivered(struct peer *p, const char *action, int64_t incident)
{
    size_t i, n = 0;

    for (i = 0; i < peer_count(p); i++) {
        const struct peer_req *r = peer_get(p, i);

        if (r->status / 100 == 2 && r->json &&
            json_integer_value(json_object_get(r->json, "incident_id")) == incident &&
            strcmp(json_string_value(json_object_get(r->json, "action")), action) == 0)
            n++;
    }
    return n;
}

/* Every incident's requests, in arrival order: no resolve before its
 * trigger was answered 2xx. Returns the number of violations. */
static int misordered(struct peer *p, int64_t max_incident)
{
    int64_t id;
    int bad = 0;

    for (id = 1; id <= max_incident; id++) {
        int triggered = 0;
        size_t i;

        for (i = 0; i < peer_count(p); i++) {
            const struct peer_req *r = peer_get(p, i);
            const char *action;

            if (!r->json || json_integer_value(json_object_get(r->json, "incident_id")) != id)
                continue;
            action = json_string_value(json_object_get(r->json, "action"));
            if (strcmp(action, "trigger") == 0 && r->status / 100 == 2)
                triggered = 1;
            else if (strcmp(action, "trigger") != 0 && !triggered)
                bad++;
        }
    }
    return bad;
}

START_TEST(test_resolve_waits_for_its_retried_trigger)
{
    struct peer *p;
    struct h_daemon d;
    int64_t id;
    json_t *n;

    /* Two failures, then success: the resolve is queued meanwhile. */
    up(&p, &d, "retry_base = \"300ms\"; retry_max = \"300ms\";", NULL, 1);
    peer_script(p, "500,500");
    post_am_at(&d, "Flappy", -60, 600);
    id = key_of(&d, "Flappy");
    h_assert(&d, id > 0, "no incident");
    h_assert(&d, peer_wait_requests(p, 1, 5000) >= 1, "no first attempt");
    post_am_at(&d, "Flappy", -60, -1); /* resolved, while the trigger waits to retry */
    n = h_wait_notification(&d, id, "hook", "resolve", "done", 15000);
    h_assert(&d, n != NULL, "the resolve was not delivered");
    json_decref(n);
    ck_assert_int_eq(peer_count(p), 4); /* 500, 500, trigger 200, resolve 200 */
    ck_assert_int_eq(misordered(p, id), 0);
    ck_assert_str_eq(json_string_value(json_object_get(peer_get(p, 3)->json, "action")),
                     "resolve");
    h_assert_no_violations(&d, p);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    peer_free(p);
}
END_TEST

#define BACKLOG 60

START_TEST(test_restart_with_a_backlog_keeps_every_incidents_order)
{
    struct peer *p;
    struct h_daemon d;
    char name[32];
    size_t want = 2 * BACKLOG;
    int i;

    up(&p, &d, "retry_base = \"100ms\"; retry_max = \"500ms\"; concurrency = 8;", NULL, 1);
    peer_stop(p); /* the provider is down: everything queues */
    for (i = 0; i < BACKLOG; i++) {
        snprintf(name, sizeof name, "Backlog%03d", i);
        post_am_at(&d, name, -60, 600);
    }
    for (i = 0; i < BACKLOG; i++) {
        snprintf(name, sizeof name, "Backlog%03d", i);
        post_am_at(&d, name, -60, -1);
    }
    h_sleep_ms(300);
    h_kill9(&d);
    ck_assert_int_eq(peer_start(p), 0);
    h_start(&d);
    h_assert(&d, peer_wait_requests(p, want, 30000) >= want, "only %zu of %zu requests",
             peer_count(p), want);
    h_sleep_ms(300); /* nothing more should come */
    ck_assert_int_eq(peer_count(p), want);
    h_assert(&d, misordered(p, BACKLOG) == 0, "%d requests came before their trigger",
             misordered(p, BACKLOG));
    h_assert_no_violations(&d, p);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    peer_free(p);
}
END_TEST

/* A trigger that fails for good: what is queued behind it is skipped, and
 * both go to the fallback sink (the console), in order. */
START_TEST(test_failed_trigger_skips_followers_and_goes_to_the_fallback)
{
    struct peer *p;
    struct h_daemon d;
    struct h_config c = { 0 };
    int64_t id;
    json_t *inc, *n;
    char *log;

    p = h_peer_started();
    peer_script(p, "500,500,400");
    c.peer_port = peer_port(p);
    c.hook_extra = "retry_base = \"300ms\"; retry_max = \"300ms\"; fallback = \"console\";";
    h_init(&d);
    h_config_standard(&d, &c);
    /* Route to the hook only: the console hears only what falls back. */
    log = h_read_file(d.conf);
    ck_assert_ptr_nonnull(log);
    *strstr(log, ", \"console\" ];") = '\0';
    h_write_config(&d, "%s ]; }\n);\n", log);
    free(log);
    h_start(&d);

    post_am_at(&d, "Doomed", -60, 600);
    id = key_of(&d, "Doomed");
    h_assert(&d, peer_wait_requests(p, 1, 5000) >= 1, "no first attempt");
    post_am_at(&d, "Doomed", -60, -1);
    n = h_wait_notification(&d, id, "console", "resolve", "done", 15000);
    h_assert(&d, n != NULL, "the fallback got no resolve");
    json_decref(n);
    ck_assert_int_eq(peer_count(p), 3); /* the resolve never went to the hook */
    ck_assert_int_eq(h_count_lines(d.console, "TRIGGER incident"), 1);
    ck_assert_int_eq(h_count_lines(d.console, "RESOLVE incident"), 1);
    log = h_read_file(d.console);
    ck_assert_msg(strstr(log, "TRIGGER") < strstr(log, "RESOLVE"), "resolve before trigger");
    free(log);
    inc = h_incident(&d, id);
    h_assert(&d, h_timeline_find(inc, "notify_failed", "\"fallback\":\"console\"") != NULL,
             "no notify_failed naming the fallback");
    h_assert(&d, h_timeline_find(inc, "notify_skipped", "resolve") != NULL,
             "the resolve behind the failed trigger is not recorded as skipped");
    json_decref(inc);
    ck_assert_int_eq(h_metric(&d, "tocsin_sink_notifications_total{sink=\"hook\","
                                  "outcome=\"skipped\"}"), 1);
    ck_assert_int_eq(h_metric(&d, "tocsin_sink_notifications_total{sink=\"hook\","
                                  "outcome=\"failed\"}"), 1);
    ck_assert_int_gt(h_count_lines(d.log, "failed permanently"), 0);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    peer_free(p);
}
END_TEST

START_TEST(test_retry_for_bounds_the_retries)
{
    struct peer *p;
    struct h_daemon d;
    size_t attempts;
    int64_t id;
    json_t *n;

    up(&p, &d, "retry_base = \"200ms\"; retry_max = \"200ms\"; retry_for = \"2s\";", NULL, 1);
    peer_default(p, 503);
    post_am_at(&d, "Budget", -60, 600);
    id = key_of(&d, "Budget");
    n = h_wait_notification(&d, id, "hook", "trigger", "failed", 10000);
    h_assert(&d, n != NULL, "not given up after retry_for");
    h_assert(&d, strstr(h_jstr(n, "last_error"), "gave up after") != NULL, "reason: %s",
             h_jstr(n, "last_error"));
    json_decref(n);
    /* Backoff of 100-200 ms (jitter) within two seconds, and nothing
     * after the budget. */
    ck_assert_int_ge(peer_count(p), 8);
    ck_assert_int_le(peer_count(p), 22);
    attempts = peer_count(p);
    h_sleep_ms(1000);
    ck_assert_int_eq(peer_count(p), attempts);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    peer_free(p);
}
END_TEST

START_TEST(test_throttled_retries_cost_no_attempt)
{
    struct peer *p;
    struct h_daemon d;
    int64_t id;
    json_t *n;

    /* Two 429s with Retry-After, one 500, then 200: max_attempts = 2
     * counts only the 500. */
    up(&p, &d, "retry_base = \"100ms\"; retry_max = \"100ms\"; max_attempts = 2;", NULL, 1);
    peer_script(p, "429 ra=1,429 ra=1,500,200");
    post_am_at(&d, "Throttled", -60, 600);
    id = key_of(&d, "Throttled");
    n = h_wait_notification(&d, id, "hook", "trigger", "done", 15000);
    h_assert(&d, n != NULL, "gave up although only one attempt failed");
    ck_assert_int_eq(h_jint(n, "attempts"), 4);
    json_decref(n);
    ck_assert_int_eq(peer_count(p), 4);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    peer_free(p);
}
END_TEST

/* tocsind was down past the alerts' endsAt: start-up does not resolve
 * them all at once; Prometheus re-sends what still fires within the
 * grace, and only what it does not re-send expires after it. */
START_TEST(test_no_expiry_storm_after_a_downtime)
{
    struct peer *p;
    struct h_daemon d;
    int grace_s = h_under_tsan() ? 12 : 4; /* start-up alone takes seconds under TSan */
    char grace[64];
    int64_t firing, gone;
    json_t *inc;

    snprintf(grace, sizeof grace, "expiry_grace = \"%ds\";", grace_s);
    up(&p, &d, NULL, grace, 1);
    post_am_at(&d, "StillFiring", -60, 2);
    post_am_at(&d, "WentAway", -60, 2);
    firing = key_of(&d, "StillFiring");
    gone = key_of(&d, "WentAway");
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    h_sleep_ms(3000); /* both endsAt pass while tocsind is down */
    h_start(&d);
    h_sleep_ms(1000);
    inc = h_incident(&d, firing);
    ck_assert_str_eq(h_jstr(inc, "state"), "triggered");
    json_decref(inc);
    inc = h_incident(&d, gone);
    ck_assert_str_eq(h_jstr(inc, "state"), "triggered");
    json_decref(inc);
    post_am_at(&d, "StillFiring", -60, 60); /* Prometheus' next re-send */
    h_sleep_ms(grace_s * 1000 + 1000);
    inc = h_incident(&d, firing);
    ck_assert_str_eq(h_jstr(inc, "state"), "triggered");
    ck_assert_int_eq(h_jint(inc, "occurrences"), 2);
    json_decref(inc);
    inc = h_incident(&d, gone);
    ck_assert_str_eq(h_jstr(inc, "state"), "resolved");
    ck_assert_str_eq(h_jstr(inc, "resolved_by"), "expired");
    json_decref(inc);
    ck_assert_int_eq(json_array_size(inc = h_incidents(&d, "open")), 1);
    json_decref(inc);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    peer_free(p);
}
END_TEST

/* Resolved by a person while Prometheus still sends it: no new page; once
 * the source resolves it, the next firing is a new incident. */
START_TEST(test_manual_resolve_of_a_firing_alert_does_not_repage)
{
    struct peer *p;
    struct h_daemon d;
    struct h_resp r;
    char path[64];
    int64_t id, again;
    json_t *inc;

    up(&p, &d, NULL, NULL, 1);
    post_am_at(&d, "Noisy", -60, 240);
    id = key_of(&d, "Noisy");
    h_assert(&d, peer_wait_requests(p, 1, 5000) >= 1, "no trigger");
    snprintf(path, sizeof path, "/api/v1/incidents/%lld/resolve", (long long)id);
    h_req(&d, "POST", path, "{\"by\":\"alice\",\"note\":\"known, fix tomorrow\"}", &r);
    h_assert(&d, r.status == 200, "resolve: HTTP %ld: %s", r.status, r.body);
    h_resp_free(&r);
    h_assert(&d, peer_wait_requests(p, 2, 5000) >= 2, "no resolve sent");

    post_am_at(&d, "Noisy", -60, 240); /* a minute later, still firing */
    post_am_at(&d, "Noisy", -60, 240);
    h_sleep_ms(500);
    ck_assert_int_eq(peer_count(p), 2);
    inc = h_incidents(&d, "open");
    ck_assert_int_eq(json_array_size(inc), 0);
    json_decref(inc);
    inc = h_incident(&d, id);
    ck_assert_str_eq(h_jstr(inc, "state"), "resolved");
    ck_assert_int_eq(h_jint(inc, "occurrences"), 3); /* counted, not lost */
    json_decref(inc);

    post_am_at(&d, "Noisy", -60, -1); /* the source resolves it */
    post_am_at(&d, "Noisy", 0, 240);  /* and it fires again: a new problem */
    again = key_of(&d, "Noisy");
    h_assert(&d, again > id, "no new incident after the source resolved (%lld)",
             (long long)again);
    h_assert(&d, peer_wait_requests(p, 3, 5000) >= 3, "the new incident paged nobody");
    ck_assert_int_eq(delivered(p, "trigger", again), 1);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    peer_free(p);
}
END_TEST

/* HA Prometheus: one replica's late resolve of an earlier episode ends
 * before the open incident's alert started. */
START_TEST(test_stale_resolve_does_not_close_a_newer_incident)
{
    struct peer *p;
    struct h_daemon d;
    int64_t id;
    json_t *inc;

    up(&p, &d, NULL, NULL, 1);
    post_am_at(&d, "Replica", -30, 240);
    id = key_of(&d, "Replica");
    post_am_at(&d, "Replica", -600, -300); /* ended 5 minutes ago */
    inc = h_incident(&d, id);
    ck_assert_str_eq(h_jstr(inc, "state"), "triggered");
    json_decref(inc);
    post_am_at(&d, "Replica", -30, -1); /* this episode's own resolve */
    inc = h_incident(&d, id);
    ck_assert_str_eq(h_jstr(inc, "state"), "resolved");
    json_decref(inc);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    peer_free(p);
}
END_TEST

/* A policy keeps durable state while it judges alerts, on the writer
 * thread: the write joins the writer's transaction (before, it waited on
 * a second connection for that transaction's lock: 10 s, then failed). */
START_TEST(test_policy_state_commits_with_the_writer)
{
    struct h_daemon d;
    char plugins[H_PATH_MAX], name[32];
    int64_t start, id;
    json_t *inc;
    int i;

    h_init(&d);
    snprintf(plugins, sizeof plugins, "%s/plugins", d.dir);
    ck_assert_int_eq(mkdir(plugins, 0755), 0);
    h_copy_plugin(getenv("TOCSIN_PLUGIN_DIR"), plugins, "input_alertmanager.so");
    h_copy_plugin(getenv("TOCSIN_PLUGIN_DIR"), plugins, "sink_console.so");
    h_copy_plugin(getenv("TOCSIN_TEST_PLUGIN_DIR"), plugins, "policy_counter.so");
    h_write_config(&d,
                   "daemon = { listen = \"127.0.0.1:0\"; state_dir = \"%s\";\n"
                   "           plugin_dir = \"%s\"; };\n"
                   "inputs = ( { id = \"prom\"; plugin = \"alertmanager\"; } );\n"
                   "policies = ( { id = \"count\"; plugin = \"counter\"; } );\n"
                   "sinks = ( { id = \"console\"; plugin = \"console\"; path = \"%s\"; } );\n"
                   "routes = ( { sinks = [ \"console\" ]; } );\n",
                   d.state_dir, plugins, d.console);
    h_start(&d);
    start = h_now_ms();
    for (i = 1; i <= 3; i++) {
        snprintf(name, sizeof name, "Counted%d", i);
        post_am_at(&d, name, -60, 600);
    }
    h_assert(&d, h_now_ms() - start < 3000, "three alerts took %lld ms",
             (long long)(h_now_ms() - start));
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    h_start(&d); /* the count is durable */
    post_am_at(&d, "Counted4", -60, 600);
    id = key_of(&d, "Counted4");
    inc = h_incident(&d, id);
    ck_assert_str_eq(h_jsub(json_object_get(inc, "alert"), "annotations", "seen"), "4");
    json_decref(inc);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("semantics");
    TCase *tc = h_tcase("semantics", 90);

    tcase_add_test(tc, test_resolve_waits_for_its_retried_trigger);
    tcase_add_test(tc, test_restart_with_a_backlog_keeps_every_incidents_order);
    tcase_add_test(tc, test_failed_trigger_skips_followers_and_goes_to_the_fallback);
    tcase_add_test(tc, test_retry_for_bounds_the_retries);
    tcase_add_test(tc, test_throttled_retries_cost_no_attempt);
    tcase_add_test(tc, test_no_expiry_storm_after_a_downtime);
    tcase_add_test(tc, test_manual_resolve_of_a_firing_alert_does_not_repage);
    tcase_add_test(tc, test_stale_resolve_does_not_close_a_newer_incident);
    tcase_add_test(tc, test_policy_state_commits_with_the_writer);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(suite());
}
