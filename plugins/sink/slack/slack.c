/* slack.c: the `slack` sink. Two modes: an incoming webhook (webhook_url)
 * gets one Block Kit message per action; the Web API (token + channel)
 * posts the trigger with chat.postMessage, keeps the message's channel and
 * ts for the incident (host->remember, ABI 1.1), and on acknowledge and
 * resolve updates that message in place (chat.update) and replies in its
 * thread. Messages are format.c's; this file holds the descriptor, the
 * options and the calls. The webhook URL and the token are secrets: they
 * never reach a log line or a verdict. */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <tocsin/plugin.h>

#include "answer.h"
#include "common.h"
#include "format.h"

struct slack_conf {
    const char *webhook_url;
    const char *token;
    const char *channel;
    const char *api_url;
    struct tocsin_map mention;
    struct tocsin_map colors;
    int64_t timeout; /* ms */
};

static const struct tocsin_option slack_options[] = {
    { "webhook_url", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_SECRET,
      offsetof(struct slack_conf, webhook_url),
      "Incoming webhook URL (https://hooks.slack.com/services/...; secret): one message "
      "per trigger, acknowledge and resolve. Either this or token." },
    { "token", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_SECRET, offsetof(struct slack_conf, token),
      "Web API bot token (xoxb-...; secret, scope chat:write): the trigger's message is "
      "updated in place on acknowledge and resolve, with a reply in its thread. Needs channel." },
    { "channel", TOCSIN_OPT_STRING, NULL, 0, offsetof(struct slack_conf, channel),
      "With token: the channel to post to, an id (C0123ABCD) or a name." },
    { "api_url", TOCSIN_OPT_STRING, "https://slack.com/api", 0,
      offsetof(struct slack_conf, api_url),
      "Web API base URL; calls go to {api_url}/chat.postMessage and {api_url}/chat.update." },
    { "mention", TOCSIN_OPT_MAP, NULL, 0, offsetof(struct slack_conf, mention),
      "Who a trigger mentions, per severity: { critical = \"<!here>\"; "
      "high = \"<!subteam^S0123>\"; medium = \"<@U0123>\"; } (several: space-separated)." },
    { "colors", TOCSIN_OPT_MAP, NULL, 0, offsetof(struct slack_conf, colors),
      "Side bar colours replacing the defaults: critical, high, medium, low, info, "
      "acknowledged, resolved = \"#RRGGBB\"." },
    { "timeout", TOCSIN_OPT_DURATION, "10s", 0, offsetof(struct slack_conf, timeout),
      "Time allowed for one call to Slack; 0: the daemon's default." },
    { 0 }
};

struct slack {
    const struct tocsin_host *host;
    const struct slack_conf *conf;
    struct slack_style style;
    char *api;  /* api_url without a trailing '/' */
    char *auth; /* "Authorization: Bearer <token>" */
};

/* --- options ------------------------------------------------------------- */

static int http_url(const char *s)
{
    return s && (strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0);
}

/* "<!here>", "<!channel>", "<!everyone>", "<!subteam^ID>" or "<@ID>" of
 * len bytes at s. */
static int mention_token_ok(const char *s, size_t len)
{
    char id[64];

    if (len < 4 || s[0] != '<' || s[len - 1] != '>' || len - 2 >= sizeof id)
        return 0;
    if ((len == 7 && memcmp(s, "<!here>", 7) == 0) ||
        (len == 10 && memcmp(s, "<!channel>", 10) == 0) ||
        (len == 11 && memcmp(s, "<!everyone>", 11) == 0))
        return 1;
    if (len > 11 && memcmp(s, "<!subteam^", 10) == 0) {
        snprintf(id, sizeof id, "%.*s", (int)(len - 11), s + 10);
        return slack_id_ok(id);
    }
    if (s[1] == '@') {
        snprintf(id, sizeof id, "%.*s", (int)(len - 3), s + 2);
        return slack_id_ok(id);
    }
    return 0;
}

static int mention_ok(const char *v)
{
    int tokens = 0;

    while (v && *v) {
        size_t len;

        v += strspn(v, " ");
        len = strcspn(v, " ");
        if (!len)
            break;
        if (!mention_token_ok(v, len))
            return 0;
        tokens++;
        v += len;
    }
    return tokens > 0;
}

static int color_ok(const char *v)
{
    size_t i;

    if (!v || strlen(v) != 7 || v[0] != '#')
        return 0;
    for (i = 1; i < 7; i++)
        if (!strchr("0123456789abcdefABCDEF", v[i]))
            return 0;
    return 1;
}

static int slot_of(const char *name, int n)
{
    int i;

    for (i = 0; name && i < n; i++)
        if (strcmp(name, slack_color_names[i]) == 0)
            return i;
    return -1;
}

/* mention and colors into the style; messages name the option and key. */
static int read_style(const struct tocsin_host *host, const struct slack_conf *cf,
                      struct slack_style *st)
{
    size_t i;

    slack_style_default(st);
    for (i = 0; i < cf->mention.n; i++) {
        const struct tocsin_kv *kv = &cf->mention.items[i];
        int sev = slot_of(kv->key, 5);

        if (sev < 0)
            return host->fail(host, "mention: \"%.64s\" is not a severity (critical, high, "
                                    "medium, low, info)", kv->key ? kv->key : "");
        if (!mention_ok(kv->value))
            return host->fail(host, "mention: %s = \"%.80s\" is not <!here>, <!channel>, "
                                    "<!subteam^ID> or <@USER> (several: space-separated)",
                              kv->key, kv->value ? kv->value : "");
        st->mention[sev] = kv->value;
    }
    for (i = 0; i < cf->colors.n; i++) {
        const struct tocsin_kv *kv = &cf->colors.items[i];
        int slot = slot_of(kv->key, SLACK_N_COLORS);

        if (slot < 0)
            return host->fail(host, "colors: \"%.64s\" is not one of critical, high, medium, "
                                    "low, info, acknowledged, resolved", kv->key ? kv->key : "");
        if (!color_ok(kv->value))
            return host->fail(host, "colors: %s = \"%.16s\" is not a colour like \"#D00000\"",
                              kv->key, kv->value ? kv->value : "");
        snprintf(st->colors[slot], sizeof st->colors[slot], "%s", kv->value);
    }
    return TOCSIN_OK;
}

/* Everything beyond the option table; messages name options, never the
 * values of secrets. */
static int check_conf(const struct tocsin_host *host, const struct slack_conf *cf)
{
    const char *p;

    if (cf->webhook_url && cf->token)
        return host->fail(host, "set webhook_url (an incoming webhook) or token (the Web API), "
                                "not both");
    if (!cf->webhook_url && !cf->token)
        return host->fail(host, "needs webhook_url (an incoming webhook) or token and channel "
                                "(the Web API)");
    if (cf->timeout < 0)
        return host->fail(host, "timeout must not be negative");
    if (cf->webhook_url) {
        if (!http_url(cf->webhook_url))
            return host->fail(host, "webhook_url must start with https:// (or http://)");
        if (cf->channel)
            return host->fail(host, "channel goes with token: an incoming webhook posts to "
                                    "the channel it was made for");
        return TOCSIN_OK;
    }
    if (!*cf->token)
        return host->fail(host, "token is empty");
    for (p = cf->token; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return host->fail(host, "token must be one word (no spaces or line breaks)");
    if (!cf->channel || !*cf->channel)
        return host->fail(host, "channel is required with token");
    if (strlen(cf->channel) > 80)
        return host->fail(host, "channel \"%.80s...\" is longer than a channel name can be",
                          cf->channel);
    for (p = cf->channel; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '"' || *p == '\\')
            return host->fail(host, "channel \"%.80s\" is not a channel id or name",
                              cf->channel);
    if (!http_url(cf->api_url))
        return host->fail(host, "api_url must start with https:// (or http://)");
    return TOCSIN_OK;
}

static void slack_destroy(void *self)
{
    struct slack *s = self;

    if (!s)
        return;
    free(s->api);
    free(s->auth);
    free(s);
}

static int slack_create(const struct tocsin_host *host, const void *conf, void **self)
{
    const struct slack_conf *cf = conf;
    struct slack *s;
    int rc;

    if (!TOCSIN_HOST_HAS(host, http_sized)) {
        host->fail(host, "needs tocsin plugin ABI 1.1 (host has %u.%u)",
                   (unsigned)host->abi_major, (unsigned)host->abi_minor);
        return TOCSIN_ENOTSUP;
    }
    if ((rc = check_conf(host, cf)) != TOCSIN_OK)
        return rc;
    s = calloc(1, sizeof *s);
    if (!s)
        return TOCSIN_ENOMEM;
    s->host = host;
    s->conf = cf;
    if ((rc = read_style(host, cf, &s->style)) != TOCSIN_OK) {
        slack_destroy(s);
        return rc;
    }
    if (cf->token) {
        size_t len = strlen(cf->api_url);

        while (len > 0 && cf->api_url[len - 1] == '/')
            len--;
        s->api = strndup(cf->api_url, len);
        s->auth = malloc(strlen(cf->token) + 32);
        if (!s->api || !s->auth) {
            slack_destroy(s);
            return TOCSIN_ENOMEM;
        }
        snprintf(s->auth, strlen(cf->token) + 32, "Authorization: Bearer %s", cf->token);
        if (!TOCSIN_HOST_HAS(host, remember))
            host->log(host, TOCSIN_LOG_WARN,
                      "this tocsind keeps no message per incident (host->remember): "
                      "acknowledge and resolve post new messages instead of updating");
    }
    *self = s;
    return TOCSIN_OK;
}

/* --- calls ------------------------------------------------------------- */

/* "what: reason" into v's reason. */
static struct tocsin_verdict prefixed(const char *what, struct tocsin_verdict v)
{
    char reason[sizeof v.reason + 64];

    if (v.kind != TOCSIN_DONE) {
        snprintf(reason, sizeof reason, "%s: %s", what, v.reason);
        snprintf(v.reason, sizeof v.reason, "%.*s",
                 tc_utf8_clip(reason, (int)sizeof v.reason - 1), reason);
    }
    return v;
}

static long timeout_ms(const struct slack *s)
{
    return s->conf->timeout > LONG_MAX ? LONG_MAX : (long)s->conf->timeout;
}

/* An incoming webhook answers "ok" with 200, and its errors as text with
 * 400, 403, 404, 410 (permanent) or 429 and 5xx (retried): the core's
 * mapping, with Slack's words in the reason. */
static struct tocsin_verdict webhook_post(struct slack *s, const char *body)
{
    static const char *const headers[] = {
        "Content-Type: application/json; charset=utf-8", "User-Agent: tocsin/1", NULL,
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
    call.timeout_ms = timeout_ms(s);
    memset(&res, 0, sizeof res);
    res.retry_after = -1;
    host->http_sized(host, &call, sizeof call, &res, sizeof res);
    v = prefixed("incoming webhook", host->http_verdict(host, &res));
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
    const char *headers[4];
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
    headers[2] = "User-Agent: tocsin/1";
    headers[3] = NULL;
    memset(&call, 0, sizeof call);
    call.method = "POST";
    call.url = url;
    call.headers = headers;
    call.body = body;
    call.body_len = strlen(body);
    call.timeout_ms = timeout_ms(s);
    memset(&res, 0, sizeof res);
    res.retry_after = -1;
    host->http_sized(host, &call, sizeof call, &res, sizeof res);
    if (res.status < 200 || res.status >= 300)
        v = prefixed(method, host->http_verdict(host, &res));
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
    json_t *msg = slack_message(n, &s->style, n->action == TOCSIN_ACT_TRIGGER);
    struct slack_answer ans;
    struct tocsin_verdict v;

    if (!msg)
        return tocsin_retry(0, "out of memory formatting the message");
    json_object_set_new(msg, "channel", json_string(s->conf->channel));
    v = api_call(s, "chat.postMessage", msg, &ans);
    json_decref(msg);
    if (v.kind == TOCSIN_DONE)
        remember(s, n, &ans);
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
    char *reply = slack_reply_text(n);
    struct slack_answer ans;
    struct tocsin_verdict v;

    if (!msg || !reply) {
        json_decref(msg);
        free(reply);
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
        free(reply);
        return api_post_new(s, n);
    }
    if (v.kind != TOCSIN_DONE) {
        free(reply);
        return v;
    }
    msg = json_pack("{s:s, s:s, s:s, s:b, s:b}", "channel", channel, "thread_ts", ts, "text",
                    reply, "unfurl_links", 0, "unfurl_media", 0);
    free(reply);
    if (!msg)
        return tocsin_retry(0, "out of memory formatting the reply");
    v = api_call(s, "chat.postMessage", msg, &ans);
    json_decref(msg);
    return v;
}

static struct tocsin_verdict deliver(struct slack *s, const struct tocsin_notification *n)
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

static void slack_deliver(void *self, const struct tocsin_notification *n,
                          struct tocsin_verdict *v, size_t verdict_size)
{
    struct slack *s = self;
    struct tocsin_verdict out = deliver(s, n);

    s->host->log(s->host, TOCSIN_LOG_DEBUG, "incident %lld %s (attempt %d): %s%s%s",
                 n ? (long long)n->incident_id : 0LL, n ? tocsin_action_name(n->action) : "?",
                 n ? n->attempt : 0,
                 out.kind == TOCSIN_DONE ? "done" : out.kind == TOCSIN_RETRY ? "retry" : "failed",
                 *out.reason ? ": " : "", out.reason);
    tocsin_verdict_put(v, verdict_size, out);
}

const struct tocsin_plugin tocsin_plugin = {
    TOCSIN_PLUGIN_HEADER,
    .kind = TOCSIN_SINK,
    .name = "slack",
    .version = "1.0.0",
    .description = "Slack: Block Kit messages by incoming webhook, or by the Web API with "
                   "the trigger's message updated in place",
    .options = slack_options,
    .conf_size = sizeof(struct slack_conf),
    .create = slack_create,
    .deliver_sized = slack_deliver,
    .destroy = slack_destroy,
};
