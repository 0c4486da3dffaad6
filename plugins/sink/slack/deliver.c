/* deliver.c: each action of the slack sink as calls to Slack. An incoming
 * webhook gets one message per action. The Web API gets the trigger with
 * chat.postMessage, its channel and ts kept for the incident
 * (host->remember); an acknowledge or resolve updates that message in
 * place with chat.update and replies in its thread, or posts a new message
 * when none is known. Retries are safe: an update changes nothing the
 * second time, and a post first looks for an earlier attempt's (lookup.c).
 * The webhook URL and the token never reach a log line or a reason. */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "common.h"
#include "instance.h"

/* "what: reason" into v's reason (cut on a character). */
static struct tocsin_verdict slack_prefixed(const char *what, struct tocsin_verdict v)
{
    char reason[sizeof v.reason + 64];

    if (v.kind != TOCSIN_DONE) {
        snprintf(reason, sizeof reason, "%s: %s", what, v.reason);
        snprintf(v.reason, sizeof v.reason, "%.*s",
                 tc_utf8_clip(reason, (int)sizeof v.reason - 1), reason);
    }
    return v;
}

/* An incoming webhook answers "ok" with 200, and its errors as text with
 * 400, 403, 404, 410 (permanent) or 429 and 5xx (retried): the core's
 * mapping, with Slack's words in the reason. */
static struct tocsin_verdict webhook_post(struct slack *s, const char *body)
{
    static const char *const headers[] = {
        "Content-Type: application/json; charset=utf-8", NULL,
    };
    const struct tocsin_host *host = s->host;
    struct tocsin_http_call call;
    struct tocsin_http_result res;
    struct tocsin_verdict v;

    memset(&call, 0, sizeof call);
    call.method = "POST";
    call.url = s->conf->webhook_url;
    call.headers = headers;
    call.body = body;
    call.body_len = strlen(body);
    call.timeout_ms = slack_timeout_ms(s);
    memset(&res, 0, sizeof res);
    res.retry_after = -1;
    host->http_sized(host, &call, sizeof call, &res, sizeof res);
    v = slack_prefixed("incoming webhook", host->http_verdict(host, &res));
    host->http_free(host, &res);
    return v;
}

/* One Web API method with a JSON body. 200 is Slack's answer either way:
 * {"ok": true} done; ratelimited and the transient errors retried; any
 * other error permanent, named. Other statuses: the core's mapping (429
 * with Retry-After, 5xx retried). */
static struct tocsin_verdict api_call(struct slack *s, const char *method, json_t *payload,
                                      struct slack_answer *ans)
{
    const struct tocsin_host *host = s->host;
    const char *headers[3];
    struct tocsin_http_call call;
    struct tocsin_http_result res;
    struct tocsin_verdict v;
    char *body = json_dumps(payload, JSON_COMPACT);
    char *url = malloc(strlen(s->api) + strlen(method) + 2);

    memset(ans, 0, sizeof *ans);
    if (!body || !url) {
        free(body);
        free(url);
        return tocsin_retry(0, "out of memory formatting the message");
    }
    sprintf(url, "%s/%s", s->api, method);
    headers[0] = "Content-Type: application/json; charset=utf-8";
    headers[1] = s->auth;
    headers[2] = NULL;
    memset(&call, 0, sizeof call);
    call.method = "POST";
    call.url = url;
    call.headers = headers;
    call.body = body;
    call.body_len = strlen(body);
    call.timeout_ms = slack_timeout_ms(s);
    memset(&res, 0, sizeof res);
    res.retry_after = -1;
    host->http_sized(host, &call, sizeof call, &res, sizeof res);
    if (res.status < 200 || res.status >= 300)
        v = slack_prefixed(method, host->http_verdict(host, &res));
    else if (slack_answer_parse(res.body, res.body_len, ans) < 0)
        v = tocsin_retry(0, "%s: HTTP %ld without a Slack answer", method, res.status);
    else if (ans->ok)
        v = tocsin_done();
    else if (slack_error_transient(ans->error))
        v = tocsin_retry(res.retry_after > 0 ? res.retry_after : 0, "%s: %s", method,
                         ans->error);
    else if (*ans->needed)
        v = tocsin_failed("%s: %s (needed: %s)", method, ans->error, ans->needed);
    else
        v = tocsin_failed("%s: %s", method, *ans->error ? ans->error : "not ok");
    host->log(host, TOCSIN_LOG_DEBUG, "%s: HTTP %ld%s%s", method, res.status,
              *ans->error ? " " : "", ans->error);
    host->http_free(host, &res);
    free(body);
    free(url);
    return v;
}

/* Keeps "<channel> <ts>" of the message just posted for the incident's
 * later deliveries. Without it they post new messages: no failure. */
static void remember(struct slack *s, const struct tocsin_notification *n,
                     const struct slack_answer *ans)
{
    const struct tocsin_host *host = s->host;
    char ref[80];

    if (!TOCSIN_HOST_HAS(host, remember))
        return;
    if (slack_ref_format(ref, sizeof ref, ans->channel, ans->ts) < 0) {
        host->log(host, TOCSIN_LOG_WARN, "incident %lld: Slack's answer has no channel and ts; "
                  "later updates post new messages", (long long)n->incident_id);
        return;
    }
    if (host->remember(host, n, ref) != TOCSIN_OK)
        host->log(host, TOCSIN_LOG_WARN, "incident %lld: cannot keep message %s; later "
                  "updates post new messages", (long long)n->incident_id, ref);
}

/* A new top-level message: the trigger, or an acknowledge or resolve whose
 * trigger's message is unknown. It becomes the incident's message. */
static struct tocsin_verdict api_post_new(struct slack *s, const struct tocsin_notification *n)
{
    json_t *msg;
    struct slack_answer ans;
    struct tocsin_verdict v;
    int found;

    memset(&ans, 0, sizeof ans);
    found = slack_find_posted(s, n, NULL, ans.channel, sizeof ans.channel, ans.ts,
                              sizeof ans.ts, &v);
    if (found < 0)
        return v;
    if (found) {
        remember(s, n, &ans);
        return tocsin_done();
    }
    msg = slack_message(n, &s->style, n->action == TOCSIN_ACT_TRIGGER);
    if (!msg)
        return tocsin_retry(0, "out of memory formatting the message");
    json_object_set_new(msg, "channel", json_string(s->conf->channel));
    v = api_call(s, "chat.postMessage", msg, &ans);
    json_decref(msg);
    if (v.kind == TOCSIN_DONE) {
        slack_learn_channel(s, ans.channel);
        remember(s, n, &ans);
    }
    return v;
}

/* Acknowledge or resolve with the trigger's message known: that message
 * updated in place (state, colour, who, note), then a reply in its thread.
 * A retry repeats both: the update changes nothing the second time. */
static struct tocsin_verdict api_follow_up(struct slack *s, const struct tocsin_notification *n,
                                           const char *channel, const char *ts)
{
    const struct tocsin_host *host = s->host;
    json_t *msg = slack_message(n, &s->style, 0);
    json_t *reply = slack_reply(n);
    struct slack_answer ans;
    struct tocsin_verdict v;
    char found_ts[32], ch[32];
    int found;

    if (!msg || !reply) {
        json_decref(msg);
        json_decref(reply);
        return tocsin_retry(0, "out of memory formatting the message");
    }
    /* chat.update takes no unfurl settings: the message keeps its own. */
    json_object_del(msg, "unfurl_links");
    json_object_del(msg, "unfurl_media");
    json_object_set_new(msg, "channel", json_string(channel));
    json_object_set_new(msg, "ts", json_string(ts));
    v = api_call(s, "chat.update", msg, &ans);
    json_decref(msg);
    if (v.kind == TOCSIN_FAILED && slack_error_message_gone(ans.error)) {
        host->log(host, TOCSIN_LOG_INFO, "incident %lld: message %s in %s cannot be updated "
                  "(%s); posting a new one", (long long)n->incident_id, ts, channel, ans.error);
        json_decref(reply);
        return api_post_new(s, n);
    }
    if (v.kind != TOCSIN_DONE) {
        json_decref(reply);
        return v;
    }
    snprintf(ch, sizeof ch, "%s", channel);
    found = slack_find_posted(s, n, ts, ch, sizeof ch, found_ts, sizeof found_ts, &v);
    if (found != 0) {
        json_decref(reply);
        return found > 0 ? tocsin_done() : v;
    }
    json_object_set_new(reply, "channel", json_string(channel));
    json_object_set_new(reply, "thread_ts", json_string(ts));
    json_object_set_new(reply, "unfurl_links", json_false());
    json_object_set_new(reply, "unfurl_media", json_false());
    v = api_call(s, "chat.postMessage", reply, &ans);
    json_decref(reply);
    return v;
}

struct tocsin_verdict slack_deliver_one(struct slack *s, const struct tocsin_notification *n)
{
    char channel[32], ts[32];

    if (!n || !n->alert)
        return tocsin_failed("notification without an alert");
    if (s->conf->webhook_url) {
        json_t *msg = slack_message(n, &s->style, n->action == TOCSIN_ACT_TRIGGER);
        char *body = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
        struct tocsin_verdict v;

        json_decref(msg);
        if (!body)
            return tocsin_retry(0, "out of memory formatting the message");
        v = webhook_post(s, body);
        free(body);
        return v;
    }
    if (n->action != TOCSIN_ACT_TRIGGER && TOCSIN_HOST_HAS(s->host, remember) &&
        slack_ref_parse(n->ref, channel, sizeof channel, ts, sizeof ts) == 0)
        return api_follow_up(s, n, channel, ts);
    return api_post_new(s, n);
}
