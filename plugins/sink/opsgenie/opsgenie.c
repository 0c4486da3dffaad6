/* opsgenie.c: the `opsgenie` sink: each notification is an Alert API v2
 * request (create, acknowledge or close by alias) through
 * host->http_sized() (plugin ABI 1.1). Requests are format.c's; this file
 * holds the descriptor, the options and the verdicts. The API key travels
 * in the Authorization header only: never logged, never in a reason. */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <tocsin/plugin.h>

#include "common.h"
#include "format.h"

#define OG_US_URL "https://api.opsgenie.com"
#define OG_EU_URL "https://api.eu.opsgenie.com"

struct og_options {
    const char *api_key;
    const char *region;
    const char *api_url;
    struct tocsin_strlist responders;
    struct tocsin_strlist tags_from;
    struct tocsin_map severity_map;
    int64_t timeout; /* ms */
};

static const struct tocsin_option og_option_table[] = {
    { "api_key", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_REQUIRED | TOCSIN_OPT_SECRET,
      offsetof(struct og_options, api_key),
      "Key of an Opsgenie API integration, sent as \"Authorization: GenieKey <key>\" "
      "(secret: use \"env:NAME\" or \"file:PATH\")." },
    { "region", TOCSIN_OPT_STRING, NULL, 0, offsetof(struct og_options, region),
      "\"us\" (" OG_US_URL ", the default) or \"eu\" (" OG_EU_URL "); not with api_url." },
    { "api_url", TOCSIN_OPT_STRING, NULL, 0, offsetof(struct og_options, api_url),
      "Base URL instead of region's (e.g. Jira Service Management's); requests go to "
      "{api_url}/v2/alerts..." },
    { "responders", TOCSIN_OPT_STRLIST, NULL, 0, offsetof(struct og_options, responders),
      "Who is notified: \"team:NAME\", \"user:EMAIL\", \"escalation:NAME\", "
      "\"schedule:NAME\" (at most 50)." },
    { "tags_from", TOCSIN_OPT_STRLIST, NULL, 0, offsetof(struct og_options, tags_from),
      "Labels copied as \"label:value\" tags (at most 20), e.g. [ \"service\", \"team\" ]." },
    { "severity_map", TOCSIN_OPT_MAP, NULL, 0, offsetof(struct og_options, severity_map),
      "Opsgenie priority per tocsin severity, replacing the defaults critical=P1, high=P2, "
      "medium=P3, low=P4, info=P5; e.g. { critical = \"P2\"; }." },
    { "timeout", TOCSIN_OPT_DURATION, "5s", 0, offsetof(struct og_options, timeout),
      "Time allowed for one delivery attempt; 0: the daemon's http_timeout." },
    { 0 }
};

struct og {
    const struct tocsin_host *host;
    const struct og_options *opt;
    struct og_conf conf;
    struct og_responder *responders;
    char *base;          /* api_url without a trailing "/" */
    char *auth;          /* "Authorization: GenieKey <key>" */
    const char *headers[4];
};

static int url_ok(const char *u)
{
    return u && (strncasecmp(u, "http://", 7) == 0 || strncasecmp(u, "https://", 8) == 0) &&
           !strpbrk(u, "?# \t\r\n");
}

/* A header value: printable ASCII without spaces. Says nothing of the
 * value itself: a near miss of a secret is still a secret. */
static int check_api_key(const struct tocsin_host *host, const char *key)
{
    size_t i;

    if (!key || !*key)
        return host->fail(host, "api_key must not be empty");
    for (i = 0; key[i]; i++)
        if ((unsigned char)key[i] <= ' ' || (unsigned char)key[i] >= 0x7f)
            return host->fail(host, "api_key must be printable ASCII without spaces; "
                                    "character %zu is not", i + 1);
    return TOCSIN_OK;
}

static int severity_index(const char *name)
{
    static const char *const names[] = { "critical", "high", "medium", "low", "info" };
    int i;

    for (i = 0; i < 5; i++)
        if (name && strcasecmp(name, names[i]) == 0)
            return i;
    return -1;
}

static void og_destroy(void *self)
{
    struct og *og = self;

    if (!og)
        return;
    free(og->responders);
    free(og->base);
    free(og->auth);
    free(og);
}

/* Region or api_url into og->base. */
static int set_base(struct og *og, const struct og_options *o)
{
    const struct tocsin_host *host = og->host;
    const char *url = OG_US_URL;
    size_t len;

    if (o->region && o->api_url)
        return host->fail(host, "set region or api_url, not both");
    if (o->region) {
        if (strcasecmp(o->region, "us") == 0)
            url = OG_US_URL;
        else if (strcasecmp(o->region, "eu") == 0)
            url = OG_EU_URL;
        else
            return host->fail(host, "region must be \"us\" or \"eu\", not \"%.64s\"", o->region);
    } else if (o->api_url) {
        if (!url_ok(o->api_url))
            return host->fail(host, "api_url must be an http:// or https:// base URL without "
                                    "query, like \"" OG_US_URL "\", not \"%.200s\"",
                              o->api_url);
        url = o->api_url;
    }
    len = strlen(url);
    while (len > 0 && url[len - 1] == '/')
        len--;
    og->base = strndup(url, len);
    return og->base ? TOCSIN_OK : TOCSIN_ENOMEM;
}

static int set_responders(struct og *og, const struct tocsin_strlist *l)
{
    char err[200];
    size_t i;

    if (l->n > OG_RESPONDERS_MAX)
        return og->host->fail(og->host, "responders: %zu given, Opsgenie takes at most %d",
                              l->n, OG_RESPONDERS_MAX);
    og->responders = calloc(l->n + 1, sizeof *og->responders);
    if (!og->responders)
        return TOCSIN_ENOMEM;
    for (i = 0; i < l->n; i++)
        if (og_responder_parse(l->items[i], &og->responders[i], err, sizeof err) < 0)
            return og->host->fail(og->host, "responders item %zu: %s", i + 1, err);
    og->conf.responders = og->responders;
    og->conf.n_responders = l->n;
    return TOCSIN_OK;
}

static int set_tags(struct og *og, const struct tocsin_strlist *l)
{
    size_t i;

    if (l->n > OG_TAGS_MAX)
        return og->host->fail(og->host, "tags_from: %zu labels given, Opsgenie takes at most "
                                        "%d tags", l->n, OG_TAGS_MAX);
    for (i = 0; i < l->n; i++)
        if (!l->items[i] || !*l->items[i])
            return og->host->fail(og->host, "tags_from item %zu must name a label", i + 1);
    og->conf.tags_from = l->items;
    og->conf.n_tags_from = l->n;
    return TOCSIN_OK;
}

static int set_priorities(struct og *og, const struct tocsin_map *m)
{
    size_t i;

    memcpy(og->conf.priority, og_default_priority, sizeof og->conf.priority);
    for (i = 0; i < m->n; i++) {
        int sev = severity_index(m->items[i].key);
        const char *p = og_priority_name(m->items[i].value);

        if (sev < 0)
            return og->host->fail(og->host, "severity_map: \"%.64s\" is not a tocsin severity "
                                            "(critical, high, medium, low, info)",
                                  m->items[i].key);
        if (!p)
            return og->host->fail(og->host, "severity_map: %s = \"%.64s\" is not an Opsgenie "
                                            "priority (P1 to P5)",
                                  m->items[i].key, m->items[i].value);
        og->conf.priority[sev] = p;
    }
    return TOCSIN_OK;
}

static int og_create(const struct tocsin_host *host, const void *conf, void **self)
{
    const struct og_options *o = conf;
    struct og *og;
    size_t len;
    int rc;

    if (!TOCSIN_HOST_HAS(host, http_sized)) {
        host->fail(host, "needs tocsin plugin ABI 1.1 (host has %u.%u)",
                   (unsigned)host->abi_major, (unsigned)host->abi_minor);
        return TOCSIN_ENOTSUP;
    }
    if (check_api_key(host, o->api_key) != TOCSIN_OK)
        return TOCSIN_ERROR;
    if (o->timeout < 0)
        return host->fail(host, "timeout must not be negative");
    og = calloc(1, sizeof *og);
    if (!og)
        return TOCSIN_ENOMEM;
    og->host = host;
    og->opt = o;
    if ((rc = set_base(og, o)) != TOCSIN_OK || (rc = set_responders(og, &o->responders)) != 0 ||
        (rc = set_tags(og, &o->tags_from)) != 0 || (rc = set_priorities(og, &o->severity_map)) != 0) {
        og_destroy(og);
        return rc;
    }
    len = strlen(o->api_key) + sizeof "Authorization: GenieKey ";
    og->auth = malloc(len);
    if (!og->auth) {
        og_destroy(og);
        return TOCSIN_ENOMEM;
    }
    snprintf(og->auth, len, "Authorization: GenieKey %s", o->api_key);
    og->headers[0] = "Content-Type: application/json";
    og->headers[1] = "User-Agent: tocsin/1";
    og->headers[2] = og->auth;
    og->headers[3] = NULL;
    *self = og;
    return TOCSIN_OK;
}

static struct tocsin_verdict deliver(struct og *og, const struct tocsin_notification *n)
{
    const struct tocsin_host *host = og->host;
    struct tocsin_http_call call;
    struct tocsin_http_result res;
    struct tocsin_verdict v;
    struct og_request req;
    char *url;

    if (!n || !n->alert)
        return tocsin_failed("notification without an alert");
    if (og_format(&og->conf, n, &req) < 0)
        return tocsin_retry(0, "out of memory formatting the request");
    url = malloc(strlen(og->base) + strlen(req.path) + 1);
    if (!url) {
        og_request_free(&req);
        return tocsin_retry(0, "out of memory formatting the request");
    }
    strcpy(url, og->base);
    strcat(url, req.path);

    memset(&call, 0, sizeof call);
    call.method = "POST";
    call.url = url;
    call.headers = og->headers;
    call.body = req.body;
    call.body_len = strlen(req.body);
    call.timeout_ms = og->opt->timeout > LONG_MAX ? LONG_MAX : (long)og->opt->timeout;
    memset(&res, 0, sizeof res);
    res.retry_after = -1;
    host->http_sized(host, &call, sizeof call, &res, sizeof res);

    if (res.status == 404 && n->action != TOCSIN_ACT_TRIGGER) {
        /* Nothing to acknowledge or close: Opsgenie has no open alert of
         * that alias (closed there already, or never created). */
        host->log(host, TOCSIN_LOG_INFO,
                  "incident %lld: Opsgenie has no alert to %s (HTTP 404); nothing to do",
                  (long long)n->incident_id,
                  n->action == TOCSIN_ACT_RESOLVE ? "close" : "acknowledge");
        v = tocsin_done();
    } else if (res.status >= 400 && res.status < 500 && !tc_http_retryable(res.status)) {
        v = tocsin_failed("%s", "");
        og_refusal(res.status, res.body, v.reason, sizeof v.reason);
    } else {
        /* 202 done; 429 (Retry-After when given, else the core's backoff),
         * 5xx, timeouts and transport errors retried. */
        v = host->http_verdict(host, &res);
    }
    tc_redact(v.reason, sizeof v.reason, og->opt->api_key, "(api_key)");
    host->log(host, TOCSIN_LOG_DEBUG, "incident %lld %s (attempt %d): HTTP %ld",
              (long long)n->incident_id, tocsin_action_name(n->action), n->attempt,
              res.status);
    host->http_free(host, &res);
    og_request_free(&req);
    free(url);
    return v;
}

static void og_deliver(void *self, const struct tocsin_notification *n, struct tocsin_verdict *v,
                       size_t verdict_size)
{
    tocsin_verdict_put(v, verdict_size, deliver(self, n));
}

const struct tocsin_plugin tocsin_plugin = {
    TOCSIN_PLUGIN_HEADER,
    .kind = TOCSIN_SINK,
    .name = "opsgenie",
    .version = "1.0.0",
    .description = "Opsgenie alerts (Alert API v2): create, acknowledge and close by alias",
    .options = og_option_table,
    .conf_size = sizeof(struct og_options),
    .create = og_create,
    .deliver_sized = og_deliver,
    .destroy = og_destroy,
};
