/* test_slack_plugin.c: the slack sink's plugin file (slack.c) through a
 * fake host: options and their checks, the requests of both modes, how
 * Slack's answers become verdicts, the message kept per incident
 * (remember / n->ref) and secrets kept out of logs, errors and reasons. */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tocsin/plugin.h>

#include "fake_host.h"
#include "helpers.h"

extern const struct tocsin_plugin tocsin_plugin;

#define HOOK_URL "https://hooks.slack.example/services/T1/B1/h00ks3cr3t"
#define TOKEN "xoxb-1-t0kens3cr3t"
#define API "https://slack.example/api"

struct call {
    char method[8];
    char url[256];
    char *headers[8];
    size_t n_headers;
    json_t *json;
};

struct answer {
    long status;
    const char *body;
    int retry_after;
};

/* The shared fake host; its http_sized is replaced by one that keeps the
 * JSON bodies and answers from a script. */
static struct fake_host fh;
static struct call calls[8];
static size_t n_calls;
static struct answer answers[8];
static size_t n_answers, next_answer;
static void *conf, *self;
static struct tocsin_alert alert;
static struct tocsin_notification note;
static struct tocsin_kv map_items[4];

static int fake_http_sized(const struct tocsin_host *h, const struct tocsin_http_call *c,
                           size_t call_size, struct tocsin_http_result *res, size_t res_size)
{
    struct call *k = &calls[n_calls++];
    struct answer a = { 200, "{\"ok\":true,\"channel\":\"C0CHAN\",\"ts\":\"1700000000.000100\"}",
                        -1 };
    size_t i;

    (void)h;
    ck_assert_uint_eq(call_size, sizeof *c);
    ck_assert_uint_eq(res_size, sizeof *res);
    ck_assert_uint_lt(n_calls, 8);
    snprintf(k->method, sizeof k->method, "%s", c->method);
    snprintf(k->url, sizeof k->url, "%s", c->url);
    for (i = 0; c->headers && c->headers[i] && i < 8; i++)
        k->headers[i] = strdup(c->headers[i]);
    k->n_headers = i;
    if (strcmp(c->method, "GET") == 0) {
        ck_assert_ptr_null(c->body);
    } else {
        ck_assert_str_eq(c->method, "POST");
        k->json = json_loadb(c->body, c->body_len, 0, NULL);
        ck_assert_ptr_nonnull(k->json);
    }
    ck_assert_int_eq(c->timeout_ms, 10000);
    if (next_answer < n_answers)
        a = answers[next_answer++];
    res->status = a.status;
    res->body = a.body ? strdup(a.body) : NULL;
    res->body_len = a.body ? strlen(a.body) : 0;
    res->retry_after = a.retry_after;
    if (a.status == 0)
        snprintf(res->error, sizeof res->error, "Connection refused");
    return a.status ? TOCSIN_OK : TOCSIN_ERROR;
}

static void answer(long status, const char *body, int retry_after)
{
    answers[n_answers++] = (struct answer){ status, body, retry_after };
}

static void *field(const char *name)
{
    return plugin_field(conf, name);
}

static void set_str(const char *name, const char *v)
{
    *(const char **)field(name) = v;
}

static void set_map(const char *name, size_t n)
{
    struct tocsin_map *m = field(name);

    m->n = n;
    m->items = map_items;
}

static struct tocsin_verdict deliver(void)
{
    return plugin_deliver(self, &note);
}

static int create(void)
{
    return tocsin_plugin.create(&fh.host, conf, &self);
}

static void setup(void)
{
    fake_host_init(&fh, "chat", 1795403566000LL);
    fh.host.http_sized = fake_http_sized;
    memset(calls, 0, sizeof calls);
    n_calls = n_answers = next_answer = 0;
    self = NULL;
    memset(&alert, 0, sizeof alert);
    alert.severity = TOCSIN_SEV_HIGH;
    alert.summary = "API 5xx above 2%";
    alert.source = "prom";
    memset(&note, 0, sizeof note);
    note.sink_id = "chat";
    note.incident_id = 42;
    note.action = TOCSIN_ACT_TRIGGER;
    note.alert = &alert;
    note.occurrences = 1;
    note.attempt = 1;
    note.external_url = "";
    note.outbox_id = 9;
    /* What the core fills from the defaults. */
    conf = calloc(1, tocsin_plugin.conf_size);
    set_str("api_url", API);
    *(int64_t *)field("timeout") = 10000;
}

static void teardown(void)
{
    size_t i, k;

    if (self)
        tocsin_plugin.destroy(self);
    for (i = 0; i < n_calls; i++) {
        for (k = 0; k < calls[i].n_headers; k++)
            free(calls[i].headers[k]);
        json_decref(calls[i].json);
    }
    fake_host_release(&fh);
    free(conf);
    /* Secrets never reach a log line or an error message. */
    ck_assert_msg(!strstr(fh.logs, "s3cr3t"), "a secret in the log: %s", fh.logs);
    ck_assert_msg(!strstr(fh.failed, "s3cr3t"), "a secret in an error: %s", fh.failed);
}

static int has_header(const struct call *c, const char *h)
{
    size_t i;

    for (i = 0; i < c->n_headers; i++)
        if (strcmp(c->headers[i], h) == 0)
            return 1;
    return 0;
}

static const char *jstr(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static void web_api(void)
{
    set_str("token", TOKEN);
    set_str("channel", "#ops");
    ck_assert_int_eq(create(), TOCSIN_OK);
}

/* ---- options ----------------------------------------------------------- */

START_TEST(test_option_table)
{
    ck_assert_str_eq(tocsin_plugin.name, "slack");
    ck_assert_int_eq(tocsin_plugin.kind, TOCSIN_SINK);
    ck_assert_ptr_null(tocsin_plugin.deliver);
    ck_assert_ptr_nonnull(tocsin_plugin.deliver_sized);
    ck_assert_int_eq(plugin_option("webhook_url")->type, TOCSIN_OPT_STRING);
    ck_assert_uint_eq(plugin_option("webhook_url")->flags, TOCSIN_OPT_SECRET);
    ck_assert_int_eq(plugin_option("token")->type, TOCSIN_OPT_STRING);
    ck_assert_uint_eq(plugin_option("token")->flags, TOCSIN_OPT_SECRET);
    ck_assert_uint_eq(plugin_option("channel")->flags, 0);
    ck_assert_str_eq(plugin_option("api_url")->def, "https://slack.com/api");
    ck_assert_int_eq(plugin_option("mention")->type, TOCSIN_OPT_MAP);
    ck_assert_int_eq(plugin_option("colors")->type, TOCSIN_OPT_MAP);
    ck_assert_int_eq(plugin_option("timeout")->type, TOCSIN_OPT_DURATION);
    ck_assert_str_eq(plugin_option("timeout")->def, "10s");
    ck_assert_ptr_null(tocsin_plugin.options[7].name);
}
END_TEST

static void refused(const char *why)
{
    ck_assert_int_eq(create(), TOCSIN_ERROR);
    ck_assert_ptr_null(self);
    ck_assert_str_eq(fh.failed, why);
}

START_TEST(test_create_refuses_bad_configurations)
{
    refused("needs webhook_url (an incoming webhook) or token and channel (the Web API)");
    set_str("webhook_url", HOOK_URL);
    set_str("token", TOKEN);
    refused("set webhook_url (an incoming webhook) or token (the Web API), not both");
    set_str("token", NULL);
    set_str("channel", "#ops");
    refused("channel goes with token: an incoming webhook posts to the channel it was made for");
    set_str("channel", NULL);
    set_str("webhook_url", "hooks.slack.com/services/h00ks3cr3t");
    refused("webhook_url must start with https:// (or http://)");
    set_str("webhook_url", NULL);
    set_str("token", TOKEN);
    refused("channel is required with token");
    set_str("channel", "#ops room");
    refused("channel \"#ops room\" is not a channel id or name");
    set_str("channel", "C0CHAN");
    set_str("token", "xoxb s3cr3t");
    refused("token must be one word (no spaces or line breaks)");
    set_str("token", TOKEN);
    set_str("api_url", "slack.com/api");
    refused("api_url must start with https:// (or http://)");
    set_str("api_url", API);
    map_items[0] = (struct tocsin_kv){ "urgent", "<!here>" };
    set_map("mention", 1);
    refused("mention: \"urgent\" is not a severity (critical, high, medium, low, info)");
    map_items[0] = (struct tocsin_kv){ "critical", "@oncall" };
    refused("mention: critical = \"@oncall\" is not <!here>, <!channel>, <!subteam^ID> or "
            "<@USER> (several: space-separated)");
    map_items[0] = (struct tocsin_kv){ "critical", "<!here> <!subteam^s1>" };
    refused("mention: critical = \"<!here> <!subteam^s1>\" is not <!here>, <!channel>, "
            "<!subteam^ID> or <@USER> (several: space-separated)");
    set_map("mention", 0);
    map_items[0] = (struct tocsin_kv){ "resolved", "green" };
    set_map("colors", 1);
    refused("colors: resolved = \"green\" is not a colour like \"#D00000\"");
    map_items[0] = (struct tocsin_kv){ "firing", "#FF0000" };
    refused("colors: \"firing\" is not one of critical, high, medium, low, info, acknowledged, "
            "resolved");
    set_map("colors", 0);
    *(int64_t *)field("timeout") = -1;
    refused("timeout must not be negative");
}
END_TEST

START_TEST(test_a_1_0_host_fails_create_clearly)
{
    set_str("webhook_url", HOOK_URL);
    fh.host.size = offsetof(struct tocsin_host, emit_sized);
    fh.host.abi_minor = 0;
    ck_assert_int_eq(create(), TOCSIN_ENOTSUP);
    ck_assert_str_eq(fh.failed, "needs tocsin plugin ABI 1.1 (host has 1.0)");
}
END_TEST

/* ---- incoming webhook ---------------------------------------------------- */

START_TEST(test_webhook_request)
{
    struct tocsin_verdict v;

    set_str("webhook_url", HOOK_URL);
    map_items[0] = (struct tocsin_kv){ "high", "<!subteam^S0614TZR7> <@U024BE7LH>" };
    set_map("mention", 1);
    ck_assert_int_eq(create(), TOCSIN_OK);
    answer(200, "ok", -1);
    v = deliver();
    ck_assert_int_eq(v.kind, TOCSIN_DONE);
    ck_assert_uint_eq(n_calls, 1);
    ck_assert_str_eq(calls[0].url, HOOK_URL);
    ck_assert(has_header(&calls[0], "Content-Type: application/json; charset=utf-8"));
    ck_assert_uint_eq(calls[0].n_headers, 1); /* the core names the User-Agent */
    ck_assert_str_eq(jstr(calls[0].json, "text"),
                     "<!subteam^S0614TZR7> <@U024BE7LH> [HIGH] API 5xx above 2%");
    ck_assert_ptr_null(json_object_get(calls[0].json, "channel"));
    ck_assert_int_eq(fh.remembers, 0); /* a webhook answers no ts */
    /* Acknowledge: a follow-up message in the acknowledged colour. */
    note.action = TOCSIN_ACT_ACKNOWLEDGE;
    note.actor = "alice";
    answer(200, "ok", -1);
    ck_assert_int_eq(deliver().kind, TOCSIN_DONE);
    ck_assert_str_eq(jstr(calls[1].json, "text"), "[ACKNOWLEDGED] API 5xx above 2%");
}
END_TEST

START_TEST(test_webhook_verdicts)
{
    struct tocsin_verdict v;

    set_str("webhook_url", HOOK_URL);
    ck_assert_int_eq(create(), TOCSIN_OK);
    answer(404, "no_service", -1);
    v = deliver();
    ck_assert_int_eq(v.kind, TOCSIN_FAILED);
    ck_assert_str_eq(v.reason, "incoming webhook: HTTP 404: no_service");
    answer(429, "rate_limited", 7);
    v = deliver();
    ck_assert_int_eq(v.kind, TOCSIN_RETRY);
    ck_assert_int_eq(v.retry_after, 7);
    answer(0, NULL, -1);
    v = deliver();
    ck_assert_int_eq(v.kind, TOCSIN_RETRY);
    ck_assert_str_eq(v.reason, "incoming webhook: Connection refused");
}
END_TEST

/* ---- Web API ------------------------------------------------------------- */

START_TEST(test_trigger_posts_and_remembers_the_message)
{
    struct tocsin_verdict v;

    web_api();
    v = deliver();
    ck_assert_int_eq(v.kind, TOCSIN_DONE);
    ck_assert_uint_eq(n_calls, 1);
    ck_assert_str_eq(calls[0].url, API "/chat.postMessage");
    ck_assert(has_header(&calls[0], "Content-Type: application/json; charset=utf-8"));
    ck_assert(has_header(&calls[0], "Authorization: Bearer " TOKEN));
    ck_assert_str_eq(jstr(calls[0].json, "channel"), "#ops");
    ck_assert_str_eq(jstr(calls[0].json, "text"), "[HIGH] API 5xx above 2%");
    ck_assert_ptr_null(json_object_get(calls[0].json, "thread_ts"));
    ck_assert_int_eq(fh.remembers, 1);
    ck_assert_ptr_eq(fh.remembered_for, &note);
    /* The channel's id from the answer, not the name configured. */
    ck_assert_str_eq(fh.remembered, "C0CHAN 1700000000.000100");
}
END_TEST

START_TEST(test_acknowledge_updates_then_replies_in_the_thread)
{
    json_t *att;

    web_api();
    note.action = TOCSIN_ACT_ACKNOWLEDGE;
    note.actor = "alice";
    note.ref = "C0CHAN 1700000000.000100";
    answer(200, "{\"ok\":true,\"channel\":\"C0CHAN\",\"ts\":\"1700000000.000100\"}", -1);
    answer(200, "{\"ok\":true,\"channel\":\"C0CHAN\",\"ts\":\"1700000000.000200\"}", -1);
    ck_assert_int_eq(deliver().kind, TOCSIN_DONE);
    ck_assert_uint_eq(n_calls, 2);
    ck_assert_str_eq(calls[0].url, API "/chat.update");
    ck_assert_str_eq(jstr(calls[0].json, "channel"), "C0CHAN");
    ck_assert_str_eq(jstr(calls[0].json, "ts"), "1700000000.000100");
    ck_assert_str_eq(jstr(calls[0].json, "text"), "[ACKNOWLEDGED] API 5xx above 2%");
    ck_assert_ptr_null(json_object_get(calls[0].json, "unfurl_links"));
    att = json_array_get(json_object_get(calls[0].json, "attachments"), 0);
    ck_assert_str_eq(jstr(att, "color"), "#9B59B6");
    ck_assert_str_eq(calls[1].url, API "/chat.postMessage");
    ck_assert_str_eq(jstr(calls[1].json, "channel"), "C0CHAN");
    ck_assert_str_eq(jstr(calls[1].json, "thread_ts"), "1700000000.000100");
    ck_assert_str_eq(jstr(calls[1].json, "text"), "*Acknowledged* by alice");
    ck_assert_str_eq(jstr(json_array_get(json_object_get(calls[1].json, "blocks"), 0),
                          "block_id"), "tocsin-42-9-0");
    ck_assert(has_header(&calls[1], "Authorization: Bearer " TOKEN));
    ck_assert_int_eq(fh.remembers, 0); /* the incident's message stays the trigger's */
}
END_TEST

START_TEST(test_without_a_ref_a_new_message)
{
    /* An old trigger, a failed remember, a host without remember: post. */
    web_api();
    note.action = TOCSIN_ACT_RESOLVE;
    note.actor = "bob";
    note.note = "rolled back";
    ck_assert_int_eq(deliver().kind, TOCSIN_DONE);
    ck_assert_uint_eq(n_calls, 1);
    ck_assert_str_eq(calls[0].url, API "/chat.postMessage");
    ck_assert_ptr_null(json_object_get(calls[0].json, "thread_ts"));
    ck_assert_str_eq(jstr(calls[0].json, "text"), "[RESOLVED] API 5xx above 2%");
    /* That message is the incident's now. */
    ck_assert_str_eq(fh.remembered, "C0CHAN 1700000000.000100");
    /* A ref that is not ours is no ref. */
    note.ref = "garbage";
    ck_assert_int_eq(deliver().kind, TOCSIN_DONE);
    ck_assert_str_eq(calls[1].url, API "/chat.postMessage");
}
END_TEST

START_TEST(test_a_host_without_remember)
{
    fh.host.remember = NULL;
    web_api();
    ck_assert_ptr_nonnull(strstr(fh.logs, "post new messages"));
    ck_assert_int_eq(deliver().kind, TOCSIN_DONE);
    note.action = TOCSIN_ACT_ACKNOWLEDGE;
    note.ref = "C0CHAN 1700000000.000100"; /* not trusted without the host's word */
    ck_assert_int_eq(deliver().kind, TOCSIN_DONE);
    ck_assert_str_eq(calls[1].url, API "/chat.postMessage");
    ck_assert_ptr_null(json_object_get(calls[1].json, "thread_ts"));
}
END_TEST

START_TEST(test_a_failed_remember_is_not_a_failed_delivery)
{
    web_api();
    fh.remember_rc = TOCSIN_EINVAL;
    ck_assert_int_eq(deliver().kind, TOCSIN_DONE);
    ck_assert_ptr_nonnull(strstr(fh.logs, "cannot keep message C0CHAN 1700000000.000100"));
    /* An answer without a ts: nothing to keep, still delivered. */
    answer(200, "{\"ok\":true}", -1);
    ck_assert_int_eq(deliver().kind, TOCSIN_DONE);
    ck_assert_int_eq(fh.remembers, 1);
}
END_TEST

START_TEST(test_slack_errors_become_verdicts)
{
    struct tocsin_verdict v;

    web_api();
    answer(200, "{\"ok\":false,\"error\":\"channel_not_found\"}", -1);
    v = deliver();
    ck_assert_int_eq(v.kind, TOCSIN_FAILED);
    ck_assert_str_eq(v.reason, "chat.postMessage: channel_not_found");
    answer(200, "{\"ok\":false,\"error\":\"missing_scope\",\"needed\":\"chat:write\","
                "\"provided\":\"users:read\"}", -1);
    v = deliver();
    ck_assert_int_eq(v.kind, TOCSIN_FAILED);
    ck_assert_str_eq(v.reason, "chat.postMessage: missing_scope (needed: chat:write)");
    answer(200, "{\"ok\":false,\"error\":\"internal_error\"}", -1);
    v = deliver();
    ck_assert_int_eq(v.kind, TOCSIN_RETRY);
    ck_assert_str_eq(v.reason, "chat.postMessage: internal_error");
    answer(429, "{\"ok\":false,\"error\":\"ratelimited\"}", 30);
    v = deliver();
    ck_assert_int_eq(v.kind, TOCSIN_RETRY);
    ck_assert_int_eq(v.retry_after, 30);
    answer(200, "<html>proxy</html>", -1);
    v = deliver();
    ck_assert_int_eq(v.kind, TOCSIN_RETRY);
    ck_assert_str_eq(v.reason, "chat.postMessage: HTTP 200 without a Slack answer");
    answer(503, "down", -1);
    v = deliver();
    ck_assert_int_eq(v.kind, TOCSIN_RETRY);
    ck_assert_str_eq(v.reason, "chat.postMessage: HTTP 503: down");
    answer(200, "{\"ok\":false,\"error\":\"invalid_auth\"}", -1);
    v = deliver();
    ck_assert_int_eq(v.kind, TOCSIN_FAILED);
    ck_assert_int_eq(fh.remembers, 0);
    ck_assert_ptr_null(strstr(v.reason, "s3cr3t"));
}
END_TEST

START_TEST(test_an_update_that_fails_stops_before_the_reply)
{
    struct tocsin_verdict v;

    web_api();
    note.action = TOCSIN_ACT_RESOLVE;
    note.ref = "C0CHAN 1700000000.000100";
    answer(200, "{\"ok\":false,\"error\":\"ratelimited\"}", 3);
    v = deliver();
    ck_assert_int_eq(v.kind, TOCSIN_RETRY);
    ck_assert_int_eq(v.retry_after, 3);
    ck_assert_str_eq(v.reason, "chat.update: ratelimited");
    ck_assert_uint_eq(n_calls, 1);
    /* The reply failing is the delivery failing. */
    answer(200, "{\"ok\":true}", -1);
    answer(200, "{\"ok\":false,\"error\":\"is_archived\"}", -1);
    v = deliver();
    ck_assert_int_eq(v.kind, TOCSIN_FAILED);
    ck_assert_str_eq(v.reason, "chat.postMessage: is_archived");
}
END_TEST

START_TEST(test_a_deleted_message_gets_a_new_one)
{
    web_api();
    note.action = TOCSIN_ACT_RESOLVE;
    note.actor = "bob";
    note.ref = "C0CHAN 1700000000.000100";
    answer(200, "{\"ok\":false,\"error\":\"message_not_found\"}", -1);
    answer(200, "{\"ok\":true,\"channel\":\"C0CHAN\",\"ts\":\"1700000000.000300\"}", -1);
    ck_assert_int_eq(deliver().kind, TOCSIN_DONE);
    ck_assert_uint_eq(n_calls, 2);
    ck_assert_str_eq(calls[1].url, API "/chat.postMessage");
    ck_assert_ptr_null(json_object_get(calls[1].json, "thread_ts"));
    ck_assert_str_eq(jstr(calls[1].json, "channel"), "#ops");
    ck_assert_str_eq(fh.remembered, "C0CHAN 1700000000.000300");
}
END_TEST

/* ---- a retry looks for what an earlier attempt posted ---------------- */

#define HISTORY(ts, marker)                                                                 \
    "{\"ok\":true,\"has_more\":false,\"messages\":[{\"ts\":\"" ts "\",\"attachments\":[{" \
    "\"blocks\":[{\"type\":\"context\",\"block_id\":\"" marker "\"}]}]}]}"

START_TEST(test_a_retry_finds_the_lost_post)
{
    web_api(); /* channel "#ops": its id comes from the first answer */
    note.first_seen = 1795403566000LL;
    note.attempt = 2;
    /* No id known yet: the retry cannot look, it posts (and says so once). */
    ck_assert_int_eq(deliver().kind, TOCSIN_DONE);
    ck_assert_uint_eq(n_calls, 1);
    ck_assert_str_eq(calls[0].url, API "/chat.postMessage");
    ck_assert_ptr_nonnull(strstr(fh.logs, "a retry cannot look"));
    /* That answer named the id, kept in the state. */
    ck_assert_str_eq(fake_host_state(&fh, "channel_id"), "C0CHAN");
    /* Next incident, second attempt: the message is in the history. */
    note.incident_id = 43;
    note.outbox_id = 10;
    answer(200, HISTORY("1795403570.000200", "tocsin-43-10-1795403566000"), -1);
    ck_assert_int_eq(deliver().kind, TOCSIN_DONE);
    ck_assert_uint_eq(n_calls, 2);
    ck_assert_str_eq(calls[1].method, "GET");
    ck_assert_str_eq(calls[1].url,
                     API "/conversations.history?channel=C0CHAN&oldest=1795403506&limit=200");
    ck_assert(has_header(&calls[1], "Authorization: Bearer " TOKEN));
    ck_assert_str_eq(fh.remembered, "C0CHAN 1795403570.000200");
    /* Not there (another notification's marker): posted. */
    note.outbox_id = 11;
    answer(200, HISTORY("1795403570.000200", "tocsin-43-10-1795403566000"), -1);
    ck_assert_int_eq(deliver().kind, TOCSIN_DONE);
    ck_assert_uint_eq(n_calls, 4);
    ck_assert_str_eq(calls[3].url, API "/chat.postMessage");
    /* The first attempt never looks. */
    note.attempt = 1;
    ck_assert_int_eq(deliver().kind, TOCSIN_DONE);
    ck_assert_uint_eq(n_calls, 5);
    ck_assert_uint_eq(fh.state_puts, 1);
}
END_TEST

START_TEST(test_a_retry_that_cannot_look_posts)
{
    set_str("token", TOKEN);
    set_str("channel", "C0CHAN");
    ck_assert_int_eq(create(), TOCSIN_OK);
    note.attempt = 3;
    answer(200, "{\"ok\":false,\"error\":\"missing_scope\",\"needed\":\"channels:history\"}",
           -1);
    ck_assert_int_eq(deliver().kind, TOCSIN_DONE);
    ck_assert_uint_eq(n_calls, 2);
    ck_assert_ptr_nonnull(strstr(fh.logs, "(missing_scope)"));
    ck_assert_str_eq(calls[1].url, API "/chat.postMessage");
    ck_assert_uint_eq(fh.state_puts, 0); /* an id configured is not learned */
    /* Slack asks to wait: so does the delivery. */
    answer(429, "{\"ok\":false,\"error\":\"ratelimited\"}", 20);
    {
        struct tocsin_verdict v = deliver();

        ck_assert_int_eq(v.kind, TOCSIN_RETRY);
        ck_assert_int_eq(v.retry_after, 20);
    }
    ck_assert_uint_eq(n_calls, 3);
}
END_TEST

START_TEST(test_a_retried_reply_is_not_posted_twice)
{
    web_api();
    note.action = TOCSIN_ACT_RESOLVE;
    note.ref = "C0CHAN 1700000000.000100";
    note.attempt = 2;
    answer(200, "{\"ok\":true}", -1);
    /* The parent carries this notification's marker too (just updated):
     * it is not the reply. */
    answer(200, "{\"ok\":true,\"messages\":[{\"ts\":\"1700000000.000100\",\"blocks\":"
                "[{\"block_id\":\"tocsin-42-9-0\"}]},{\"ts\":\"1700000000.000300\","
                "\"blocks\":[{\"block_id\":\"tocsin-42-9-0\"}]}]}", -1);
    ck_assert_int_eq(deliver().kind, TOCSIN_DONE);
    ck_assert_uint_eq(n_calls, 2);
    ck_assert_str_eq(calls[0].url, API "/chat.update");
    ck_assert_str_eq(calls[1].url,
                     API "/conversations.replies?channel=C0CHAN&ts=1700000000.000100&limit=200");
    /* Only the parent: the reply goes. */
    answer(200, "{\"ok\":true}", -1);
    answer(200, "{\"ok\":true,\"messages\":[{\"ts\":\"1700000000.000100\",\"blocks\":"
                "[{\"block_id\":\"tocsin-42-9-0\"}]}]}", -1);
    ck_assert_int_eq(deliver().kind, TOCSIN_DONE);
    ck_assert_uint_eq(n_calls, 5);
    ck_assert_str_eq(calls[4].url, API "/chat.postMessage");
    ck_assert_str_eq(jstr(calls[4].json, "thread_ts"), "1700000000.000100");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("slack_plugin");
    TCase *tc = tcase_create("plugin");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_option_table);
    tcase_add_test(tc, test_create_refuses_bad_configurations);
    tcase_add_test(tc, test_a_1_0_host_fails_create_clearly);
    tcase_add_test(tc, test_webhook_request);
    tcase_add_test(tc, test_webhook_verdicts);
    tcase_add_test(tc, test_trigger_posts_and_remembers_the_message);
    tcase_add_test(tc, test_acknowledge_updates_then_replies_in_the_thread);
    tcase_add_test(tc, test_without_a_ref_a_new_message);
    tcase_add_test(tc, test_a_host_without_remember);
    tcase_add_test(tc, test_a_failed_remember_is_not_a_failed_delivery);
    tcase_add_test(tc, test_slack_errors_become_verdicts);
    tcase_add_test(tc, test_an_update_that_fails_stops_before_the_reply);
    tcase_add_test(tc, test_a_deleted_message_gets_a_new_one);
    tcase_add_test(tc, test_a_retry_finds_the_lost_post);
    tcase_add_test(tc, test_a_retry_that_cannot_look_posts);
    tcase_add_test(tc, test_a_retried_reply_is_not_posted_twice);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    int n;

    srunner_run_all(sr, CK_ENV);
    n = srunner_ntests_failed(sr);
    srunner_free(sr);
    return n ? EXIT_FAILURE : EXIT_SUCCESS;
}
