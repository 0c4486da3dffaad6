/* test_slack_webhook.c: the slack sink's incoming-webhook mode in the real
 * tocsind against the fake Slack: the messages of trigger, acknowledge and
 * resolve, Slack's answers as verdicts and timeline entries, retries that
 * send the very same message, cuts within Slack's limits, the webhook URL
 * kept secret, and --test-sink. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../peers/slack_blocks.h"
#include "slack_it.h"

#define HOOK SLACK_PEER_HOOK_PATH

static void up(struct slack_peer **p, struct h_daemon *d, const char *extra)
{
    *p = sit_peer();
    h_init(d);
    sit_config_webhook(d, *p, extra);
    h_start(d);
}

static void down(struct h_daemon *d, struct slack_peer *p)
{
    sit_no_violations(d, p);
    ck_assert_int_eq(h_stop(d, 15000), 0);
    slack_peer_free(p);
    h_passed();
}

START_TEST(test_trigger_acknowledge_resolve_messages)
{
    struct slack_peer *p;
    struct h_daemon d;
    const struct slack_req *q;
    json_t *n, *inc;
    char incident_url[128];
    int64_t id;

    up(&p, &d, "mention = { high = \"<!subteam^S0614TZR7>\"; };");
    id = sit_alert(&d, "disk-db1", "firing", "high", "Disk 97% full on db1");
    n = sit_wait(&d, id, "trigger", "done");
    json_decref(n);
    q = sit_wait_path(&d, p, HOOK, 1);
    ck_assert_int_eq(q->status, 200);
    ck_assert_str_eq(sit_text(q), "<!subteam^S0614TZR7> [HIGH] Disk 97% full on db1");
    ck_assert_str_eq(sit_color(q->json), "#F07000");
    ck_assert_str_eq(sit_header(q->json), "HIGH: Disk 97% full on db1");
    ck_assert_str_eq(sit_section(q->json, "/var"), "/var is 97% full &amp; growing");
    ck_assert_str_eq(sit_button(q->json, "Runbook"), "https://runbooks.example/disk");
    ck_assert_str_eq(sit_button(q->json, "Source"),
                     "http://prom.example:9090/graph?g0.expr=up&g0.tab=1");
    snprintf(incident_url, sizeof incident_url, SIT_EXTERNAL_URL "/api/v1/incidents/%lld",
             (long long)id);
    ck_assert_str_eq(sit_button(q->json, "Incident"), incident_url);
    ck_assert(json_is_false(json_object_get(q->json, "unfurl_links")));
    /* A webhook posts to its own channel: no channel in the body. */
    ck_assert_ptr_null(json_object_get(q->json, "channel"));

    sit_ack(&d, id, "alice");
    json_decref(sit_wait(&d, id, "acknowledge", "done"));
    q = sit_wait_path(&d, p, HOOK, 2);
    ck_assert_str_eq(sit_text(q), "[ACKNOWLEDGED] Disk 97% full on db1");
    ck_assert_str_eq(sit_color(q->json), "#9B59B6");
    ck_assert_str_eq(sit_section(q->json, "*Ack"), "*Acknowledged* by alice");

    sit_resolve(&d, id, "bob", "deleted old <logs> & rotated");
    json_decref(sit_wait(&d, id, "resolve", "done"));
    q = sit_wait_path(&d, p, HOOK, 3);
    ck_assert_str_eq(sit_text(q), "[RESOLVED] Disk 97% full on db1");
    ck_assert_str_eq(sit_color(q->json), "#2EB67D");
    ck_assert_str_eq(sit_section(q->json, "*Res"),
                     "*Resolved* by bob\ndeleted old &lt;logs&gt; &amp; rotated");

    /* Three messages, each in the timeline. */
    ck_assert_uint_eq(slack_peer_messages(p), 3);
    inc = h_incident(&d, id);
    h_assert(&d, h_timeline_index(inc, "notified", "trigger") >= 0 &&
                     h_timeline_index(inc, "notified", "acknowledge") >= 0 &&
                     h_timeline_index(inc, "notified", "resolve") >= 0,
             "the timeline lacks a notified entry");
    json_decref(inc);
    down(&d, p);
}
END_TEST

/* 404 no_service (a revoked webhook) is permanent, with Slack's words in
 * the timeline; 410 channel_is_archived too. */
START_TEST(test_slack_refusals_fail_with_their_reason)
{
    struct slack_peer *p;
    struct h_daemon d;
    json_t *n, *inc, *e;
    char *det;
    int64_t id;

    up(&p, &d, NULL);
    slack_peer_script(p, "404");
    id = sit_alert(&d, "gone", "firing", "critical", "webhook revoked");
    n = sit_wait(&d, id, "trigger", "failed");
    ck_assert_int_eq(h_jint(n, "attempts"), 1);
    ck_assert_str_eq(h_jstr(n, "last_error"), "incoming webhook: HTTP 404: no_service");
    json_decref(n);
    inc = h_incident(&d, id);
    e = h_timeline_find(inc, "notify_failed", "no_service");
    h_assert(&d, e != NULL, "no notify_failed naming no_service");
    det = h_detail(e);
    ck_assert_ptr_nonnull(strstr(det, "\"sink\":\"chat\""));
    ck_assert_ptr_null(strstr(det, "h00ks3cr3t"));
    free(det);
    json_decref(inc);

    slack_peer_script(p, "error=channel_is_archived");
    id = sit_alert(&d, "archived", "firing", "critical", "channel archived");
    n = sit_wait(&d, id, "trigger", "failed");
    ck_assert_str_eq(h_jstr(n, "last_error"), "incoming webhook: HTTP 410: channel_is_archived");
    json_decref(n);
    h_sleep_ms(500);
    ck_assert_uint_eq(slack_peer_count(p), 2);
    ck_assert_uint_eq(slack_peer_messages(p), 0);
    down(&d, p);
}
END_TEST

/* 429 with Retry-After, 500 and a peer that never answers are retried, and
 * each retry is the very same message (same block_id marker). */
START_TEST(test_retries_send_the_same_message)
{
    struct slack_peer *p;
    struct h_daemon d;
    const struct slack_req *q0, *q1;
    json_t *n;
    int64_t id, gap;
    size_t i;

    up(&p, &d, "timeout = \"700ms\";");
    slack_peer_script(p, "429 ra=1,500,hang");
    id = sit_alert(&d, "flaky", "firing", "medium", "flaky checkout");
    n = sit_wait(&d, id, "trigger", "done");
    ck_assert_int_eq(h_jint(n, "attempts"), 4);
    json_decref(n);
    ck_assert_uint_eq(slack_peer_count(p), 4);
    q0 = slack_peer_get(p, 0);
    q1 = slack_peer_get(p, 1);
    ck_assert_int_eq(q0->status, 429);
    gap = q1->at_ms - q0->at_ms;
    h_assert(&d, gap >= 900, "retried %lld ms after a 429 with Retry-After: 1", (long long)gap);
    ck_assert_int_eq(q1->status, 500);
    ck_assert_int_eq(slack_peer_get(p, 2)->status, 0); /* hung up on */
    ck_assert_int_eq(slack_peer_get(p, 3)->status, 200);
    for (i = 1; i < 4; i++)
        ck_assert_str_eq(slack_peer_get(p, i)->body, q0->body);
    ck_assert_ptr_nonnull(strstr(q0->body, "\"block_id\":\"tocsin-"));
    ck_assert_uint_eq(slack_peer_messages(p), 1);
    down(&d, p);
}
END_TEST

static size_t chars(const char *s)
{
    return slack_chars(s);
}

/* Multi-byte summaries and details at the limits: cut on a character,
 * ending in "…", accepted by the strict peer. */
START_TEST(test_long_text_is_cut_within_limits)
{
    struct slack_peer *p;
    struct h_daemon d;
    const struct slack_req *q;
    char summary[1024] = "", details[16384] = "", json[20000];
    const char *h, *s;
    int64_t id;
    int i;

    for (i = 0; i < 200; i++)
        strcat(summary, "\xe2\x82\xac"); /* € */
    for (i = 0; i < 1600; i++)
        strcat(details, i % 2 ? "\xc3\xa9" : "&"); /* é and & (5 as &amp;) */
    snprintf(json, sizeof json,
             "{\"dedup_key\":\"long\",\"severity\":\"low\",\"summary\":\"%s\",\"details\":\"%s\"}",
             summary, details);
    up(&p, &d, NULL);
    id = sit_alert_json(&d, "long", json);
    json_decref(sit_wait(&d, id, "trigger", "done"));
    q = sit_wait_path(&d, p, HOOK, 1);
    h = sit_header(q->json);
    ck_assert_uint_eq(chars(h), 150);
    ck_assert_int_eq(strncmp(h, "LOW: ", 5), 0);
    ck_assert_str_eq(h + strlen(h) - 6, "\xe2\x82\xac\xe2\x80\xa6"); /* …€… */
    s = sit_section(q->json, "&amp;");
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_le(chars(s), 3000);
    ck_assert_str_eq(s + strlen(s) - 3, "\xe2\x80\xa6");
    /* Never half an entity before the ellipsis. */
    ck_assert(strncmp(s + strlen(s) - 5, "&amp", 4) != 0);
    ck_assert(s[strlen(s) - 4] == ';' || (unsigned char)s[strlen(s) - 4] == 0xa9);
    down(&d, p);
}
END_TEST

/* The webhook URL is a secret: not in the log (debug level, a failure
 * included), --check-config, --plugin-help, the API or /metrics. */
START_TEST(test_the_webhook_url_stays_secret)
{
    struct slack_peer *p;
    struct h_daemon d;
    struct h_resp r;
    char *out, path[64];
    int64_t id;

    up(&p, &d, NULL);
    slack_peer_script(p, "400");
    id = sit_alert(&d, "secret", "firing", "info", "secret test");
    json_decref(sit_wait(&d, id, "trigger", "failed"));
    ck_assert_int_eq(h_req(&d, "GET", "/api/v1/incidents", NULL, &r), 200);
    ck_assert_ptr_null(strstr(r.body, "h00ks3cr3t"));
    h_resp_free(&r);
    snprintf(path, sizeof path, "/api/v1/incidents/%lld", (long long)id);
    ck_assert_int_eq(h_req(&d, "GET", path, NULL, &r), 200);
    ck_assert_ptr_null(strstr(r.body, "h00ks3cr3t"));
    h_resp_free(&r);
    ck_assert_int_eq(h_req(&d, "GET", "/metrics", NULL, &r), 200);
    ck_assert_ptr_null(strstr(r.body, "h00ks3cr3t"));
    h_resp_free(&r);
    ck_assert_int_eq(h_run_tocsind(&out, "--check-config", "-c", d.conf, (char *)NULL), 0);
    ck_assert_msg(!strstr(out, "h00ks3cr3t"), "%s", out);
    free(out);
    ck_assert_int_eq(h_run_tocsind(&out, "--plugin-help", "slack", "-c", d.conf, (char *)NULL),
                     0);
    ck_assert_msg(strstr(out, "webhook_url") && !strstr(out, "h00ks3cr3t"), "%s", out);
    free(out);
    sit_no_violations(&d, p);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    ck_assert_msg(!sit_file_has(d.log, "h00ks3cr3t"), "the webhook URL is in the log");
    ck_assert_msg(sit_file_has(d.log, "invalid_blocks"), "the failure is not in the log");
    slack_peer_free(p);
    h_passed();
}
END_TEST

START_TEST(test_test_sink_success_and_failure)
{
    struct slack_peer *p = sit_peer();
    struct h_daemon d;
    const struct slack_req *q;
    char *out;
    int rc;

    h_init(&d);
    sit_config_webhook(&d, p, NULL);
    rc = h_run_tocsind(&out, "-c", d.conf, "--test-sink", "chat", (char *)NULL);
    ck_assert_msg(rc == 0 && strstr(out, "trigger  delivered") &&
                      strstr(out, "resolve  delivered") && strstr(out, "provider: HTTP 200: ok"),
                  "exit %d:\n%s", rc, out);
    ck_assert_msg(!strstr(out, "h00ks3cr3t"), "%s", out);
    free(out);
    ck_assert_uint_eq(slack_peer_count(p), 2);
    q = slack_peer_get(p, 0);
    ck_assert_int_eq(strncmp(sit_text(q), "[TEST] [INFO] tocsin test notification", 38), 0);
    ck_assert_int_eq(strncmp(sit_header(q->json), "[TEST] INFO: ", 13), 0);
    q = slack_peer_get(p, 1);
    ck_assert_int_eq(strncmp(sit_text(q), "[TEST] [RESOLVED] ", 18), 0);
    ck_assert_ptr_nonnull(sit_section(q->json, "*Resolved* by tocsind --test-sink"));

    slack_peer_script(p, "404,404");
    rc = h_run_tocsind(&out, "-c", d.conf, "--test-sink", "chat", (char *)NULL);
    ck_assert_msg(rc == 1 && strstr(out, "trigger  failed: incoming webhook: HTTP 404: "
                                         "no_service") &&
                      strstr(out, "FAILED"),
                  "exit %d:\n%s", rc, out);
    ck_assert_msg(!strstr(out, "h00ks3cr3t"), "%s", out);
    free(out);
    sit_no_violations(&d, p);
    slack_peer_free(p);
    h_passed();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("slack_webhook");
    TCase *tc = h_tcase("webhook", 90);

    tcase_add_test(tc, test_trigger_acknowledge_resolve_messages);
    tcase_add_test(tc, test_slack_refusals_fail_with_their_reason);
    tcase_add_test(tc, test_retries_send_the_same_message);
    tcase_add_test(tc, test_long_text_is_cut_within_limits);
    tcase_add_test(tc, test_the_webhook_url_stays_secret);
    tcase_add_test(tc, test_test_sink_success_and_failure);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
