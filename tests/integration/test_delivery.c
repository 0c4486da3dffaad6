/* test_delivery.c: the webhook sink and the dispatcher against a scripted
 * peer: retry after 5xx, Retry-After on 429, permanent 4xx, timeouts, the
 * Alertmanager payload and custom headers. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* Starts peer + daemon (no console sink: only the webhook matters here). */
static void up(struct peer **p, struct h_daemon *d, const char *hook_extra)
{
    struct h_config c = { 0 };

    *p = h_peer_started();
    c.peer_port = peer_port(*p);
    c.hook_extra = hook_extra;
    c.no_console = 1;
    h_init(d);
    h_config_standard(d, &c);
    h_start(d);
}

static int64_t post_am(struct h_daemon *d, const char *name, int ends_in_s)
{
    char *body = h_am_alert(name, "host1", "high", "something broke", ends_in_s);
    char fp[17];
    struct h_resp r;
    int64_t id;

    h_req(d, "POST", "/api/v2/alerts", body, &r);
    free(body);
    h_assert(d, r.status == 200, "POST /api/v2/alerts: HTTP %ld: %s", r.status, r.body);
    h_resp_free(&r);
    h_am_fingerprint(name, "host1", "high", fp);
    id = h_incident_by_key(d, fp);
    h_assert(d, id > 0, "no incident with dedup_key %s", fp);
    return id;
}

/* The hook sink's attempts with this outcome, from /metrics. */
static long long hook_attempts(const struct h_daemon *d, const char *outcome)
{
    char series[128];

    snprintf(series, sizeof series,
             "tocsin_sink_notifications_total{sink=\"hook\",outcome=\"%s\"}", outcome);
    return h_metric(d, series);
}

START_TEST(test_500_then_200_is_delivered_once_recovered)
{
    struct peer *p;
    struct h_daemon d;
    const struct peer_req *r0, *r1;
    json_t *n;
    int64_t id;
    size_t i, ok = 0;

    up(&p, &d, NULL);
    peer_script(p, "500");
    id = post_am(&d, "Flappy", 0);
    n = h_wait_notification(&d, id, "hook", "trigger", "done", 20000);
    h_assert(&d, n != NULL, "never delivered after the peer recovered");
    ck_assert_int_eq(h_jint(n, "attempts"), 2);
    json_decref(n);
    h_sleep_ms(600);
    h_assert(&d, peer_count(p) == 2, "%zu requests, expected 500 then 200", peer_count(p));
    for (i = 0; i < peer_count(p); i++)
        if (peer_get(p, i)->status / 100 == 2)
            ok++;
    ck_assert_int_eq(ok, 1);
    r0 = peer_get(p, 0);
    r1 = peer_get(p, 1);
    ck_assert_int_eq(r0->status, 500);
    ck_assert_int_eq(r1->status, 200);
    ck_assert_int_eq(h_jint(r0->json, "attempt"), 1);
    ck_assert_int_eq(h_jint(r1->json, "attempt"), 2);
    /* A retry is the same notification: same outbox id, same key. */
    ck_assert_int_eq(h_jint(r0->json, "outbox_id"), h_jint(r1->json, "outbox_id"));
    ck_assert_str_eq(h_jsub(r0->json, "alert", "dedup_key"), h_jsub(r1->json, "alert", "dedup_key"));
    ck_assert_str_eq(json_string_value(json_object_get(r0->headers, "idempotency-key")),
                     json_string_value(json_object_get(r1->headers, "idempotency-key")));
    /* /metrics tells which sink had trouble. */
    ck_assert_int_eq(hook_attempts(&d, "delivered"), 1);
    ck_assert_int_eq(hook_attempts(&d, "retried"), 1);
    ck_assert_int_eq(hook_attempts(&d, "failed"), 0);
    ck_assert_int_eq(h_metric(&d, "tocsin_sink_pending{sink=\"hook\"}"), 0);
    ck_assert_int_eq(h_metric(&d, "tocsin_notifications_delivered_total"), 1);
    ck_assert_int_eq(h_metric(&d, "tocsin_alerts_accepted_total"), 1);
    ck_assert_int_eq(h_metric(&d, "tocsin_ready"), 1);
    h_assert_no_violations(&d, p);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    peer_free(p);
}
END_TEST

START_TEST(test_429_honours_retry_after)
{
    struct peer *p;
    struct h_daemon d;
    json_t *n;
    int64_t id, gap;

    up(&p, &d, NULL); /* retry_base 100ms: without Retry-After it would come back fast */
    peer_script(p, "429 ra=1");
    id = post_am(&d, "RateLimited", 0);
    h_assert(&d, peer_wait_requests(p, 2, 15000) >= 2, "no retry after a 429");
    gap = peer_get(p, 1)->at_ms - peer_get(p, 0)->at_ms;
    h_assert(&d, gap >= 900, "retried %lld ms after a 429 with Retry-After: 1", (long long)gap);
    h_assert(&d, gap < 5000, "retried only %lld ms after a 429 with Retry-After: 1",
             (long long)gap);
    n = h_wait_notification(&d, id, "hook", "trigger", "done", 10000);
    h_assert(&d, n != NULL, "not done after the retry");
    ck_assert_int_eq(h_jint(n, "attempts"), 2);
    json_decref(n);
    h_assert_no_violations(&d, p);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    peer_free(p);
}
END_TEST

START_TEST(test_400_is_a_permanent_failure)
{
    struct peer *p;
    struct h_daemon d;
    json_t *n, *inc, *e;
    const char *err;
    int64_t id;

    up(&p, &d, NULL);
    peer_script(p, "400");
    id = post_am(&d, "Refused", 0);
    n = h_wait_notification(&d, id, "hook", "trigger", "failed", 15000);
    h_assert(&d, n != NULL, "a 400 never became a failed notification");
    ck_assert_int_eq(h_jint(n, "attempts"), 1);
    err = json_string_value(json_object_get(n, "last_error"));
    h_assert(&d, err && strstr(err, "400"), "last_error does not name the 400: %s",
             err ? err : "(null)");
    json_decref(n);
    inc = h_incident(&d, id);
    e = h_timeline_find(inc, "notify_failed", NULL);
    h_assert(&d, e != NULL, "no notify_failed in the timeline");
    {
        char *det = h_detail(e);

        h_assert(&d, strstr(det, "400") && strstr(det, "hook"),
                 "notify_failed detail does not give the sink and the 400: %s", det);
        free(det);
    }
    json_decref(inc);
    h_sleep_ms(1000);
    h_assert(&d, peer_count(p) == 1, "%zu attempts after a permanent 400", peer_count(p));
    ck_assert_int_eq(hook_attempts(&d, "failed"), 1);
    ck_assert_int_eq(h_metric(&d, "tocsin_notifications_failed_total"), 1);
    h_assert_no_violations(&d, p);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    peer_free(p);
}
END_TEST

START_TEST(test_max_attempts_exhausted_is_failed)
{
    struct peer *p;
    struct h_daemon d;
    json_t *n, *inc;
    int64_t id;

    up(&p, &d, "retry_base = \"50ms\"; retry_max = \"200ms\"; max_attempts = 3;");
    peer_default(p, 503);
    id = post_am(&d, "AlwaysDown", 0);
    n = h_wait_notification(&d, id, "hook", "trigger", "failed", 15000);
    h_assert(&d, n != NULL, "never failed after max_attempts");
    ck_assert_int_eq(h_jint(n, "attempts"), 3);
    json_decref(n);
    inc = h_incident(&d, id);
    h_assert(&d, h_timeline_find(inc, "notify_failed", NULL) != NULL, "no notify_failed");
    json_decref(inc);
    h_sleep_ms(700);
    ck_assert_int_eq(peer_count(p), 3);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    peer_free(p);
}
END_TEST

START_TEST(test_timeout_is_retried)
{
    struct peer *p;
    struct h_daemon d;
    json_t *n;
    int64_t id;

    up(&p, &d, "retry_base = \"100ms\"; retry_max = \"1s\"; max_attempts = 5; timeout = \"500ms\";");
    peer_script(p, "200 delay=2500");
    id = post_am(&d, "Slowpoke", 0);
    n = h_wait_notification(&d, id, "hook", "trigger", "done", 20000);
    h_assert(&d, n != NULL, "never delivered after a timeout");
    ck_assert_int_eq(h_jint(n, "attempts"), 2);
    json_decref(n);
    ck_assert_int_eq(peer_count(p), 2);
    ck_assert_int_eq(h_jint(peer_get(p, 1)->json, "attempt"), 2);
    h_assert_no_violations(&d, p);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    peer_free(p);
}
END_TEST

START_TEST(test_alertmanager_format_payload)
{
    struct peer *p;
    struct h_daemon d;
    json_t *pl, *a, *n;
    char fp[17];
    int64_t id;

    up(&p, &d, "retry_base = \"100ms\"; format = \"alertmanager\";");
    peer_require_idempotency_key(p, 0);
    id = post_am(&d, "DiskFull", 0);
    h_am_fingerprint("DiskFull", "host1", "high", fp);
    h_assert(&d, peer_wait_requests(p, 1, 15000) >= 1, "no webhook request");
    pl = peer_get(p, 0)->json;
    ck_assert_ptr_nonnull(pl);
    {
        char *dump = json_dumps(pl, JSON_INDENT(1));

        fprintf(stderr, "alertmanager payload:\n%s\n", dump);
        free(dump);
    }
    ck_assert_str_eq(h_jstr(pl, "version"), "4");
    ck_assert_msg(strlen(h_jstr(pl, "groupKey")) > 0, "empty groupKey");
    ck_assert_str_eq(h_jstr(pl, "status"), "firing");
    ck_assert_str_eq(h_jstr(pl, "receiver"), "hook");
    ck_assert_int_eq(h_jint(pl, "truncatedAlerts"), 0);
    ck_assert_msg(json_is_object(json_object_get(pl, "groupLabels")), "no groupLabels");
    ck_assert_msg(json_is_object(json_object_get(pl, "commonAnnotations")), "no commonAnnotations");
    ck_assert_msg(json_is_string(json_object_get(pl, "externalURL")), "no externalURL");
    ck_assert_str_eq(h_jsub(pl, "commonLabels", "alertname"), "DiskFull");
    ck_assert_str_eq(h_jsub(pl, "commonLabels", "instance"), "host1");
    ck_assert_int_eq(json_array_size(json_object_get(pl, "alerts")), 1);
    a = json_array_get(json_object_get(pl, "alerts"), 0);
    ck_assert_str_eq(h_jstr(a, "status"), "firing");
    ck_assert_int_eq(json_object_size(json_object_get(a, "labels")), 3);
    ck_assert_str_eq(h_jsub(a, "labels", "alertname"), "DiskFull");
    ck_assert_str_eq(h_jsub(a, "labels", "instance"), "host1");
    ck_assert_str_eq(h_jsub(a, "labels", "severity"), "high");
    ck_assert_str_eq(h_jsub(a, "annotations", "summary"), "something broke");
    ck_assert_str_eq(h_jstr(a, "endsAt"), "0001-01-01T00:00:00Z");
    ck_assert_msg(strlen(h_jstr(a, "startsAt")) >= 20, "startsAt: %s", h_jstr(a, "startsAt"));
    ck_assert_str_eq(h_jstr(a, "generatorURL"), "http://prom.example:9090/graph?g0.expr=up");
    ck_assert_str_eq(h_jstr(a, "fingerprint"), fp);
    n = h_wait_notification(&d, id, "hook", "trigger", "done", 10000);
    h_assert(&d, n != NULL, "not done");
    json_decref(n);

    post_am(&d, "DiskFull", -10);
    h_assert(&d, peer_wait_requests(p, 2, 15000) >= 2, "no resolve webhook");
    pl = peer_get(p, 1)->json;
    ck_assert_str_eq(h_jstr(pl, "status"), "resolved");
    a = json_array_get(json_object_get(pl, "alerts"), 0);
    ck_assert_str_eq(h_jstr(a, "status"), "resolved");
    ck_assert_str_ne(h_jstr(a, "endsAt"), "0001-01-01T00:00:00Z");
    ck_assert_str_eq(h_jstr(a, "fingerprint"), fp);
    ck_assert_str_eq(h_jstr(pl, "groupKey"), h_jstr(peer_get(p, 0)->json, "groupKey"));
    h_assert_no_violations(&d, p);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    peer_free(p);
}
END_TEST

START_TEST(test_custom_header_from_env)
{
    static const char secret[] = "s3cr3t-t0ken-9f8e7d";
    struct peer *p;
    struct h_daemon d;
    const char *got;
    char *log;

    setenv("TOCSIN_IT_TOKEN", secret, 1);
    up(&p, &d, "retry_base = \"100ms\"; headers = { X-Token = \"env:TOCSIN_IT_TOKEN\"; };");
    post_am(&d, "WithHeader", 0);
    h_assert(&d, peer_wait_requests(p, 1, 15000) >= 1, "no webhook request");
    got = json_string_value(json_object_get(peer_get(p, 0)->headers, "x-token"));
    h_assert(&d, got && strcmp(got, secret) == 0, "X-Token at the peer: %s",
             got ? got : "(missing)");
    h_assert_no_violations(&d, p);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    log = h_read_file(d.log);
    ck_assert_ptr_nonnull(log);
    ck_assert_msg(strstr(log, secret) == NULL, "the secret header value is in the daemon's log");
    free(log);
    peer_free(p);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("integration: delivery");
    TCase *tc = h_tcase("delivery", 90);

    tcase_add_test(tc, test_500_then_200_is_delivered_once_recovered);
    tcase_add_test(tc, test_429_honours_retry_after);
    tcase_add_test(tc, test_400_is_a_permanent_failure);
    tcase_add_test(tc, test_max_attempts_exhausted_is_failed);
    tcase_add_test(tc, test_timeout_is_retried);
    tcase_add_test(tc, test_alertmanager_format_payload);
    tcase_add_test(tc, test_custom_header_from_env);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(suite());
}
