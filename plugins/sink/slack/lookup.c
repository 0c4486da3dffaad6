/* lookup.c: whether an earlier attempt of a Web API delivery posted its
 * message after all. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "instance.h"

/* Slack has no idempotency key: a post whose answer was lost (a timeout,
 * a 5xx after the write, a crash) may have been made. A retry looks for
 * the message marked with the notification's block_id (format.c) in the
 * channel's history, or the thread's replies, before posting again. It
 * needs the channel's id and the history scopes (channels:history,
 * groups:history); when it cannot look, it posts: twice is better than
 * never for a page. */

void slack_learn_channel(struct slack *s, const char *id)
{
    int changed;

    if (!slack_id_ok(id) || slack_id_ok(s->conf->channel))
        return;
    pthread_mutex_lock(&s->mu);
    changed = strcmp(s->channel_id, id) != 0;
    if (changed)
        snprintf(s->channel_id, sizeof s->channel_id, "%s", id);
    pthread_mutex_unlock(&s->mu);
    if (changed && s->host->state_put(s->host, "channel_id", id) != TOCSIN_OK)
        s->host->log(s->host, TOCSIN_LOG_DEBUG, "cannot keep the channel's id %s", id);
}

/* The configured channel's id into buf, or 0 when it is not known yet. */
static int channel_id(struct slack *s, char *buf, size_t size)
{
    char *kept = NULL;

    if (slack_id_ok(s->conf->channel)) {
        snprintf(buf, size, "%s", s->conf->channel);
        return 1;
    }
    pthread_mutex_lock(&s->mu);
    snprintf(buf, size, "%s", s->channel_id);
    pthread_mutex_unlock(&s->mu);
    if (*buf)
        return 1;
    if (s->host->state_get(s->host, "channel_id", &kept) == TOCSIN_OK && slack_id_ok(kept)) {
        snprintf(buf, size, "%s", kept);
        pthread_mutex_lock(&s->mu);
        snprintf(s->channel_id, sizeof s->channel_id, "%s", kept);
        pthread_mutex_unlock(&s->mu);
    }
    free(kept);
    return *buf != '\0';
}

/* A lasting reason (a missing scope, a channel name) is said once as a
 * warning; a passing one (no answer) each time, for debugging. */
static void cannot_look(struct slack *s, const char *why, int lasting)
{
    if (!lasting || atomic_exchange(&s->warned_lookup, 1) == 0)
        s->host->log(s->host, lasting ? TOCSIN_LOG_WARN : TOCSIN_LOG_DEBUG,
                     "a retry cannot look for what an earlier attempt posted (%s): it posts "
                     "again, so a message may show twice", why);
}

/* GET {api}/method?query. 1 with Slack's answer in *body (free() it); 0
 * when none came (why says); -1 when Slack asks to wait (*v says). */
static int api_read(struct slack *s, const char *method, const char *query, char **body,
                    size_t *len, char *why, size_t wsize, struct tocsin_verdict *v)
{
    const struct tocsin_host *host = s->host;
    const char *headers[] = { s->auth, NULL };
    struct tocsin_http_call call;
    struct tocsin_http_result res;
    char url[512];
    int rc = 0;

    snprintf(url, sizeof url, "%s/%s?%s", s->api, method, query);
    memset(&call, 0, sizeof call);
    call.method = "GET";
    call.url = url;
    call.headers = headers;
    call.timeout_ms = slack_timeout_ms(s);
    memset(&res, 0, sizeof res);
    res.retry_after = -1;
    host->http_sized(host, &call, sizeof call, &res, sizeof res);
    if (res.status == 429) {
        *v = tocsin_retry(res.retry_after > 0 ? res.retry_after : 0, "%s: HTTP 429", method);
        rc = -1;
    } else if (res.status >= 200 && res.status < 300 && res.body) {
        *body = res.body;
        *len = res.body_len;
        res.body = NULL;
        rc = 1;
    } else {
        snprintf(why, wsize, "%s: %s", method,
                 res.status ? "HTTP error" : res.timed_out ? "timed out" : "no answer");
    }
    host->http_free(host, &res);
    return rc;
}

int slack_find_posted(struct slack *s, const struct tocsin_notification *n,
                       const char *thread_ts, char *channel, size_t csize, char *ts,
                       size_t tsize, struct tocsin_verdict *v)
{
    char marker[96], query[256], why[128] = "", err[64];
    char *body = NULL;
    size_t len = 0;
    int rc, more;

    if (n->attempt <= 1)
        return 0;
    if (!thread_ts && !channel_id(s, channel, csize)) {
        cannot_look(s, "channel is a name and no post has told its id yet; set channel to "
                       "the id", 1);
        return 0;
    }
    slack_marker(n, marker, sizeof marker);
    if (thread_ts) {
        snprintf(query, sizeof query, "channel=%s&ts=%s&limit=200", channel, thread_ts);
    } else {
        int64_t since = n->first_seen > 0 ? n->first_seen : s->host->now_ms(s->host) - 86400000;

        /* A minute's slack for clocks that disagree. */
        snprintf(query, sizeof query, "channel=%s&oldest=%lld&limit=200", channel,
                 (long long)(since / 1000 - 60));
    }
    rc = api_read(s, thread_ts ? "conversations.replies" : "conversations.history", query,
                  &body, &len, why, sizeof why, v);
    if (rc <= 0) {
        if (rc == 0)
            cannot_look(s, why, 0);
        return rc;
    }
    rc = slack_history_find(body, len, marker, thread_ts, ts, tsize, &more, err, sizeof err);
    free(body);
    if (rc < 0 && slack_error_transient(err)) {
        *v = tocsin_retry(0, "%s: %s", thread_ts ? "conversations.replies"
                                                 : "conversations.history", err);
        return -1;
    }
    if (rc < 0) {
        snprintf(why, sizeof why, "%s", *err ? err : "not Slack's answer");
        cannot_look(s, why, 1);
        return 0;
    }
    if (rc == 1)
        s->host->log(s->host, TOCSIN_LOG_INFO, "incident %lld %s: an earlier attempt posted "
                     "it (ts %s); not posting again", (long long)n->incident_id,
                     tocsin_action_name(n->action), ts);
    return rc;
}
