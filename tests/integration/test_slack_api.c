/* test_slack_api.c: the slack sink's Web API mode in the real tocsind
 * against the fake Slack: the trigger's message is posted once, then
 * updated in place (chat.update on that very channel and ts) and replied
 * to in its thread on acknowledge and resolve, also after a kill -9
 * between trigger and resolve; Slack's ok:false answers as verdicts; a
 * retry after a lost answer finds the message instead of posting it
 * twice; the token kept secret; --test-sink. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slack_it.h"

#define POST "/api/chat.postMessage"
#define UPDATE "/api/chat.update"

static void up(struct slack_peer **p, struct h_daemon *d, const char *extra)
{
    *p = sit_peer();
    h_init(d);
    sit_config_api(d, *p, extra);
    h_start(d);
}

static void down(struct h_daemon *d, struct slack_peer *p)
{
    sit_no_violations(d, p);
    ck_assert_int_eq(h_stop(d, 15000), 0);
    slack_peer_free(p);
    h_passed();
}

static const char *jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s ? s : "(none)";
}

/* The one message in the channel, its ts, its edits and replies. */
static json_t *the_message(struct h_daemon *d, struct slack_peer *p)
{
    h_assert(d, slack_peer_messages(p) == 1, "%zu messages in the channel, not 1",
             slack_peer_messages(p));
    return slack_peer_message(p, 0);
}

START_TEST(test_updated_in_place_and_replied_in_thread)
{
    struct slack_peer *p;
    struct h_daemon d;
    const struct slack_req *q;
    json_t *m, *replies, *inc;
    char ts[32];
    int64_t id;

    up(&p, &d, "mention = { critical = \"<!here>\"; };");
    id = sit_alert(&d, "disk-db1", "firing", "critical", "Disk 97% full on db1");
    json_decref(sit_wait(&d, id, "trigger", "done"));
    q = sit_wait_path(&d, p, POST, 1);
    ck_assert_str_eq(jstr(q->json, "channel"), SLACK_PEER_CHANNEL_NAME);
    ck_assert_str_eq(sit_text(q), "<!here> [CRITICAL] Disk 97% full on db1");
    ck_assert_str_eq(sit_color(q->json), "#D00000");
    ck_assert_ptr_null(json_object_get(q->json, "thread_ts"));
    snprintf(ts, sizeof ts, "%s", q->ts);
    ck_assert_str_ne(ts, "");

    sit_ack(&d, id, "alice");
    json_decref(sit_wait(&d, id, "acknowledge", "done"));
    q = sit_wait_path(&d, p, UPDATE, 1);
    /* The very message: its channel's id (from the answer) and ts. */
    ck_assert_str_eq(jstr(q->json, "channel"), SLACK_PEER_CHANNEL);
    ck_assert_str_eq(jstr(q->json, "ts"), ts);
    ck_assert_str_eq(sit_text(q), "[ACKNOWLEDGED] Disk 97% full on db1");
    ck_assert_str_eq(sit_color(q->json), "#9B59B6");
    ck_assert_str_eq(sit_section(q->json, "*Ack"), "*Acknowledged* by alice");
    q = sit_wait_path(&d, p, POST, 2);
    ck_assert_str_eq(jstr(q->json, "channel"), SLACK_PEER_CHANNEL);
    ck_assert_str_eq(jstr(q->json, "thread_ts"), ts);
    ck_assert_str_eq(sit_text(q), "*Acknowledged* by alice");

    sit_resolve(&d, id, "bob", "rotated logs & freed 40 GB");
    json_decref(sit_wait(&d, id, "resolve", "done"));
    q = sit_wait_path(&d, p, UPDATE, 2);
    ck_assert_str_eq(jstr(q->json, "ts"), ts);
    ck_assert_str_eq(sit_color(q->json), "#2EB67D");
    ck_assert_str_eq(sit_section(q->json, "*Res"),
                     "*Resolved* by bob\nrotated logs &amp; freed 40 GB");
    q = sit_wait_path(&d, p, POST, 3);
    ck_assert_str_eq(jstr(q->json, "thread_ts"), ts);
    ck_assert_str_eq(sit_text(q), "*Resolved* by bob\nrotated logs &amp; freed 40 GB");

    /* One message, edited twice, two replies in its thread. */
    m = the_message(&d, p);
    ck_assert_str_eq(jstr(m, "ts"), ts);
    ck_assert_int_eq(json_integer_value(json_object_get(m, "edits")), 2);
    ck_assert_str_eq(jstr(m, "text"), "[RESOLVED] Disk 97% full on db1");
    replies = json_object_get(m, "replies");
    ck_assert_uint_eq(json_array_size(replies), 2);
    json_decref(m);
    inc = h_incident(&d, id);
    h_assert(&d, h_timeline_index(inc, "notified", "trigger") >= 0 &&
                     h_timeline_index(inc, "notified", "acknowledge") >= 0 &&
                     h_timeline_index(inc, "notified", "resolve") >= 0,
             "the timeline lacks a notified entry");
    json_decref(inc);
    down(&d, p);
}
END_TEST

/* The channel and ts live in the store with the trigger's outcome: a
 * daemon killed after the trigger still updates that message. */
START_TEST(test_the_message_survives_a_restart)
{
    struct slack_peer *p;
    struct h_daemon d;
    const struct slack_req *q;
    json_t *m;
    char ts[32];
    int64_t id;

    up(&p, &d, NULL);
    id = sit_alert(&d, "restart", "firing", "high", "queue backlog");
    json_decref(sit_wait(&d, id, "trigger", "done"));
    snprintf(ts, sizeof ts, "%s", sit_wait_path(&d, p, POST, 1)->ts);
    h_kill9(&d);
    h_start(&d);
    sit_resolve(&d, id, "carol", "drained");
    json_decref(sit_wait(&d, id, "resolve", "done"));
    q = sit_wait_path(&d, p, UPDATE, 1);
    ck_assert_str_eq(jstr(q->json, "channel"), SLACK_PEER_CHANNEL);
    ck_assert_str_eq(jstr(q->json, "ts"), ts);
    q = sit_wait_path(&d, p, POST, 2);
    ck_assert_str_eq(jstr(q->json, "thread_ts"), ts);
    m = the_message(&d, p);
    ck_assert_int_eq(json_integer_value(json_object_get(m, "edits")), 1);
    ck_assert_str_eq(jstr(m, "text"), "[RESOLVED] queue backlog");
    json_decref(m);
    down(&d, p);
}
END_TEST

/* ok:false is permanent with Slack's error in the timeline, except
 * ratelimited (429 + Retry-After) and the transient errors; 5xx and a
 * peer that never answers are retried. */
START_TEST(test_slack_answers_as_verdicts)
{
    struct slack_peer *p;
    struct h_daemon d;
    json_t *n, *inc;
    int64_t id, gap;

    up(&p, &d, "timeout = \"700ms\";");
    slack_peer_script(p, "error=channel_not_found");
    id = sit_alert(&d, "nochan", "firing", "critical", "no channel");
    n = sit_wait(&d, id, "trigger", "failed");
    ck_assert_int_eq(h_jint(n, "attempts"), 1);
    ck_assert_str_eq(h_jstr(n, "last_error"), "chat.postMessage: channel_not_found");
    json_decref(n);
    inc = h_incident(&d, id);
    h_assert(&d, h_timeline_find(inc, "notify_failed", "channel_not_found") != NULL,
             "no notify_failed naming channel_not_found");
    json_decref(inc);

    slack_peer_script(p, "429 ra=1,error=internal_error,500,hang,error=ratelimited");
    id = sit_alert(&d, "flaky", "firing", "critical", "flaky");
    n = sit_wait(&d, id, "trigger", "done");
    ck_assert_int_eq(h_jint(n, "attempts"), 6);
    json_decref(n);
    gap = slack_peer_nth(p, POST, 2)->at_ms - slack_peer_nth(p, POST, 1)->at_ms;
    h_assert(&d, gap >= 900, "retried %lld ms after a 429 with Retry-After: 1", (long long)gap);
    ck_assert_str_eq(slack_peer_nth(p, POST, 2)->error, "internal_error");
    ck_assert_int_eq(slack_peer_nth(p, POST, 3)->status, 500);
    ck_assert_str_eq(slack_peer_nth(p, POST, 4)->error, "hang");
    ck_assert_uint_eq(slack_peer_messages(p), 1);
    down(&d, p);
}
END_TEST

/* Slack posted the message but its answer never came: the retry finds
 * that message in the channel's history (by the block_id that marks the
 * notification) instead of posting a second one, and keeps its ts. The
 * channel is configured by name: its id came with an earlier answer. */
START_TEST(test_a_retry_after_a_lost_answer_posts_once)
{
    struct slack_peer *p;
    struct h_daemon d;
    json_t *n, *m;
    int64_t id;

    up(&p, &d, "timeout = \"500ms\";");
    id = sit_alert(&d, "first", "firing", "info", "tells the channel's id");
    json_decref(sit_wait(&d, id, "trigger", "done"));
    slack_peer_script(p, "ok delay=2000");
    id = sit_alert(&d, "lost", "firing", "critical", "lost answer");
    n = sit_wait(&d, id, "trigger", "done");
    ck_assert_int_eq(h_jint(n, "attempts"), 2);
    json_decref(n);
    ck_assert_uint_eq(slack_peer_count_path(p, POST), 2);
    ck_assert_uint_eq(slack_peer_messages(p), 2);
    h_assert(&d, slack_peer_count_path(p, "/api/conversations.history") == 1,
             "the retry did not look for the message");
    /* The message found is the incident's: the acknowledge updates it. */
    sit_ack(&d, id, "dave");
    json_decref(sit_wait(&d, id, "acknowledge", "done"));
    m = slack_peer_message(p, 1);
    ck_assert_str_eq(jstr(sit_wait_path(&d, p, UPDATE, 1)->json, "ts"), jstr(m, "ts"));
    ck_assert_str_eq(jstr(m, "text"), "[ACKNOWLEDGED] lost answer");
    json_decref(m);
    down(&d, p);
}
END_TEST

/* Someone deleted the message: the acknowledge posts a new one, and the
 * resolve updates that. */
START_TEST(test_a_deleted_message_is_posted_again)
{
    struct slack_peer *p;
    struct h_daemon d;
    const struct slack_req *q;
    char ts[32];
    int64_t id;

    up(&p, &d, NULL);
    id = sit_alert(&d, "deleted", "firing", "low", "deleted later");
    json_decref(sit_wait(&d, id, "trigger", "done"));
    slack_peer_delete(p, sit_wait_path(&d, p, POST, 1)->ts);
    sit_ack(&d, id, "erin");
    json_decref(sit_wait(&d, id, "acknowledge", "done"));
    ck_assert_str_eq(sit_wait_path(&d, p, UPDATE, 1)->error, "message_not_found");
    q = sit_wait_path(&d, p, POST, 2);
    ck_assert_ptr_null(json_object_get(q->json, "thread_ts"));
    ck_assert_str_eq(sit_text(q), "[ACKNOWLEDGED] deleted later");
    snprintf(ts, sizeof ts, "%s", q->ts);
    sit_resolve(&d, id, "erin", "fine");
    json_decref(sit_wait(&d, id, "resolve", "done"));
    ck_assert_str_eq(jstr(sit_wait_path(&d, p, UPDATE, 2)->json, "ts"), ts);
    down(&d, p);
}
END_TEST

START_TEST(test_the_token_stays_secret)
{
    struct slack_peer *p;
    struct h_daemon d;
    struct h_resp r;
    char *out;
    int64_t id;

    up(&p, &d, NULL);
    slack_peer_script(p, "error=invalid_auth");
    id = sit_alert(&d, "tok", "firing", "info", "token test");
    json_decref(sit_wait(&d, id, "trigger", "failed"));
    ck_assert_int_eq(h_req(&d, "GET", "/api/v1/incidents", NULL, &r), 200);
    ck_assert_ptr_null(strstr(r.body, "t0kens3cr3t"));
    h_resp_free(&r);
    ck_assert_int_eq(h_req(&d, "GET", "/metrics", NULL, &r), 200);
    ck_assert_ptr_null(strstr(r.body, "t0kens3cr3t"));
    h_resp_free(&r);
    ck_assert_int_eq(h_run_tocsind(&out, "--check-config", "-c", d.conf, (char *)NULL), 0);
    ck_assert_msg(!strstr(out, "t0kens3cr3t"), "%s", out);
    free(out);
    ck_assert_int_eq(h_run_tocsind(&out, "--plugin-help", "slack", "-c", d.conf, (char *)NULL),
                     0);
    ck_assert_msg(strstr(out, "token") && !strstr(out, "t0kens3cr3t"), "%s", out);
    free(out);
    sit_no_violations(&d, p);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    ck_assert_msg(!sit_file_has(d.log, "t0kens3cr3t"), "the token is in the log");
    ck_assert_msg(sit_file_has(d.log, "invalid_auth"), "the failure is not in the log");
    slack_peer_free(p);
    h_passed();
}
END_TEST

START_TEST(test_test_sink_success_and_failure)
{
    struct slack_peer *p = sit_peer();
    struct h_daemon d;
    const struct slack_req *q;
    char *out, ts[32];
    int rc;

    h_init(&d);
    sit_config_api(&d, p, NULL);
    rc = h_run_tocsind(&out, "-c", d.conf, "--test-sink", "chat", (char *)NULL);
    ck_assert_msg(rc == 0 && strstr(out, "trigger  delivered") &&
                      strstr(out, "resolve  delivered") &&
                      strstr(out, "provider: HTTP 200: {\"ok\":true"),
                  "exit %d:\n%s", rc, out);
    ck_assert_msg(!strstr(out, "t0kens3cr3t"), "%s", out);
    free(out);
    /* The test trigger, then its message updated and a reply in its thread. */
    q = slack_peer_nth(p, POST, 0);
    ck_assert_int_eq(strncmp(sit_text(q), "[TEST] [INFO] tocsin test notification", 38), 0);
    snprintf(ts, sizeof ts, "%s", q->ts);
    q = slack_peer_nth(p, UPDATE, 0);
    ck_assert_ptr_nonnull(q);
    ck_assert_str_eq(jstr(q->json, "ts"), ts);
    ck_assert_int_eq(strncmp(sit_text(q), "[TEST] [RESOLVED] ", 18), 0);
    q = slack_peer_nth(p, POST, 1);
    ck_assert_str_eq(jstr(q->json, "thread_ts"), ts);
    ck_assert_int_eq(strncmp(sit_text(q), "[TEST] *Resolved* by tocsind --test-sink", 40), 0);

    slack_peer_script(p, "error=invalid_auth,error=invalid_auth");
    rc = h_run_tocsind(&out, "-c", d.conf, "--test-sink", "chat", (char *)NULL);
    ck_assert_msg(rc == 1 && strstr(out, "trigger  failed: chat.postMessage: invalid_auth") &&
                      strstr(out, "FAILED"),
                  "exit %d:\n%s", rc, out);
    ck_assert_msg(!strstr(out, "t0kens3cr3t"), "%s", out);
    free(out);
    sit_no_violations(&d, p);
    slack_peer_free(p);
    h_passed();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("slack_api");
    TCase *tc = h_tcase("web api", 90);

    tcase_add_test(tc, test_updated_in_place_and_replied_in_thread);
    tcase_add_test(tc, test_the_message_survives_a_restart);
    tcase_add_test(tc, test_slack_answers_as_verdicts);
    tcase_add_test(tc, test_a_retry_after_a_lost_answer_posts_once);
    tcase_add_test(tc, test_a_deleted_message_is_posted_again);
    tcase_add_test(tc, test_the_token_stays_secret);
    tcase_add_test(tc, test_test_sink_success_and_failure);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
