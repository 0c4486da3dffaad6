/* slack.c: the `slack` sink's descriptor, options and lifecycle. Two
 * modes: an incoming webhook (webhook_url) gets one Block Kit message per
 * action; the Web API (token + channel) posts the trigger, keeps the
 * message for the incident (host->remember, ABI 1.1) and updates it in
 * place on acknowledge and resolve, with a reply in its thread. Messages
 * are format.c's, the calls deliver.c's. The webhook URL and the token are
 * secrets: errors name the options, never their values. */
#define _POSIX_C_SOURCE 200809L
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <tocsin/plugin.h>

#include "answer.h"
#include "instance.h"

static const struct tocsin_option slack_options[] = {
    { "webhook_url", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_SECRET,
      offsetof(struct slack_conf, webhook_url),
      "Incoming webhook URL (https://hooks.slack.com/services/...; secret): one message "
      "per trigger, acknowledge and resolve. Either this or token." },
    { "token", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_SECRET, offsetof(struct slack_conf, token),
      "Web API bot token (xoxb-...; secret; scope chat:write, and channels:history or "
      "groups:history for retries to find an earlier attempt's post): the trigger's message "
      "is updated in place on acknowledge and resolve, with a reply in its thread. Needs "
      "channel." },
    { "channel", TOCSIN_OPT_STRING, NULL, 0, offsetof(struct slack_conf, channel),
      "With token: the channel to post to, an id (C0123ABCD) or a name (a retry then looks "
      "for an earlier post only once an answer has told the id)." },
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
    pthread_mutex_destroy(&s->mu);
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
    pthread_mutex_init(&s->mu, NULL);
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

static void slack_deliver(void *self, const struct tocsin_notification *n,
                          struct tocsin_verdict *v, size_t verdict_size)
{
    struct slack *s = self;
    struct tocsin_verdict out = slack_deliver_one(s, n);

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
