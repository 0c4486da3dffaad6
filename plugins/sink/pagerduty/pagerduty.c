/* pagerduty.c: the `pagerduty` sink: each notification is an Events API
 * v2 event POSTed to {events_url}/v2/enqueue, through host->http_sized()
 * (plugin ABI 1.1). Events are format.c's; this file holds the descriptor,
 * the options and the verdicts. The routing key sits in every request
 * body: bodies are never logged and the key never reaches a reason. */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <tocsin/plugin.h>

#include "common.h"
#include "format.h"

#define PD_DEFAULT_URL "https://events.pagerduty.com"
#define PD_ROUTING_KEY_LEN 32

struct pd_conf {
    const char *routing_key;
    const char *events_url;
    int64_t timeout; /* ms */
    const char *component, *group, *class;
    struct tocsin_map severity_map;
};

static const struct tocsin_option pd_options[] = {
    { "routing_key", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_REQUIRED | TOCSIN_OPT_SECRET,
      offsetof(struct pd_conf, routing_key),
      "The 32-character integration key (Events API v2) of the PagerDuty service "
      "(secret: use \"env:NAME\" or \"file:PATH\")." },
    { "events_url", TOCSIN_OPT_STRING, PD_DEFAULT_URL, 0, offsetof(struct pd_conf, events_url),
      "Base URL of the Events API; events go to {events_url}/v2/enqueue "
      "(EU accounts: https://events.eu.pagerduty.com)." },
    { "timeout", TOCSIN_OPT_DURATION, "5s", 0, offsetof(struct pd_conf, timeout),
      "Time allowed for one delivery attempt; 0: the daemon's http_timeout." },
    { "component", TOCSIN_OPT_STRING, NULL, 0, offsetof(struct pd_conf, component),
      "Label whose value is sent as payload.component (e.g. \"job\"); unset: none." },
    { "group", TOCSIN_OPT_STRING, NULL, 0, offsetof(struct pd_conf, group),
      "Label whose value is sent as payload.group (e.g. \"service\"); unset: none." },
    { "class", TOCSIN_OPT_STRING, NULL, 0, offsetof(struct pd_conf, class),
      "Label whose value is sent as payload.class (e.g. \"alertname\"); unset: none." },
    { "severity_map", TOCSIN_OPT_MAP, NULL, 0, offsetof(struct pd_conf, severity_map),
      "PagerDuty severity per tocsin severity, replacing the defaults critical=critical, "
      "high=error, medium=warning, low=info, info=info; e.g. { high = \"critical\"; }." },
    { 0 }
};

struct pd {
    const struct tocsin_host *host;
    const struct pd_conf *conf;
    struct pd_event_conf ev;
    char *url; /* {events_url}/v2/enqueue */
};

static const char *const pd_headers[] = {
    "Content-Type: application/json",
    "User-Agent: tocsin/1",
    NULL,
};

static int url_ok(const char *u)
{
    return u && (strncasecmp(u, "http://", 7) == 0 || strncasecmp(u, "https://", 8) == 0) &&
           !strpbrk(u, "?# \t\r\n");
}

/* Integration keys are 32 characters, letters and digits. Says nothing of
 * the value itself: a near miss of a secret is still a secret. */
static int check_routing_key(const struct tocsin_host *host, const char *key)
{
    size_t i, len = key ? strlen(key) : 0;

    if (len != PD_ROUTING_KEY_LEN)
        return host->fail(host,
                          "routing_key must be the 32-character integration key of an "
                          "Events API v2 integration; the one given has %zu characters",
                          len);
    for (i = 0; i < len; i++)
        if (!((key[i] >= 'a' && key[i] <= 'z') || (key[i] >= 'A' && key[i] <= 'Z') ||
              (key[i] >= '0' && key[i] <= '9')))
            return host->fail(host, "routing_key must be letters and digits only; character "
                                    "%zu is not", i + 1);
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

static int check_label_option(const struct tocsin_host *host, const char *name, const char *v)
{
    if (v && !*v)
        return host->fail(host, "%s must name a label, not be empty", name);
    return TOCSIN_OK;
}

static void pd_destroy(void *self)
{
    struct pd *pd = self;

    if (!pd)
        return;
    free(pd->url);
    free(pd);
}

static int pd_create(const struct tocsin_host *host, const void *conf, void **self)
{
    const struct pd_conf *cf = conf;
    struct pd *pd;
    size_t i, len;

    if (!TOCSIN_HOST_HAS(host, http_sized)) {
        host->fail(host, "needs tocsin plugin ABI 1.1 (host has %u.%u)",
                   (unsigned)host->abi_major, (unsigned)host->abi_minor);
        return TOCSIN_ENOTSUP;
    }
    if (check_routing_key(host, cf->routing_key) != TOCSIN_OK)
        return TOCSIN_ERROR;
    if (!url_ok(cf->events_url))
        return host->fail(host, "events_url must be an http:// or https:// base URL without "
                                "query, like \"" PD_DEFAULT_URL "\", not \"%.200s\"",
                          cf->events_url ? cf->events_url : "");
    if (cf->timeout < 0)
        return host->fail(host, "timeout must not be negative");
    if (check_label_option(host, "component", cf->component) != TOCSIN_OK ||
        check_label_option(host, "group", cf->group) != TOCSIN_OK ||
        check_label_option(host, "class", cf->class) != TOCSIN_OK)
        return TOCSIN_ERROR;

    pd = calloc(1, sizeof *pd);
    if (!pd)
        return TOCSIN_ENOMEM;
    pd->host = host;
    pd->conf = cf;
    pd->ev.routing_key = cf->routing_key;
    pd->ev.component_label = cf->component;
    pd->ev.group_label = cf->group;
    pd->ev.class_label = cf->class;
    for (i = 0; i < 5; i++)
        pd->ev.severity[i] = pd_default_severity[i];
    for (i = 0; i < cf->severity_map.n; i++) {
        const struct tocsin_kv *kv = &cf->severity_map.items[i];
        int sev = severity_index(kv->key);

        if (sev < 0) {
            pd_destroy(pd);
            return host->fail(host, "severity_map: \"%.64s\" is not a tocsin severity "
                                    "(critical, high, medium, low, info)", kv->key);
        }
        if (!pd_severity_ok(kv->value)) {
            pd_destroy(pd);
            return host->fail(host, "severity_map: %s = \"%.64s\" is not a PagerDuty severity "
                                    "(critical, error, warning, info)", kv->key, kv->value);
        }
        pd->ev.severity[sev] = kv->value;
    }
    len = strlen(cf->events_url);
    while (len > 0 && cf->events_url[len - 1] == '/')
        len--;
    pd->url = malloc(len + sizeof "/v2/enqueue");
    if (!pd->url) {
        pd_destroy(pd);
        return TOCSIN_ENOMEM;
    }
    snprintf(pd->url, len + sizeof "/v2/enqueue", "%.*s/v2/enqueue", (int)len, cf->events_url);
    *self = pd;
    return TOCSIN_OK;
}

static struct tocsin_verdict deliver(struct pd *pd, const struct tocsin_notification *n)
{
    const struct tocsin_host *host = pd->host;
    struct tocsin_http_call call;
    struct tocsin_http_result res;
    struct tocsin_verdict v;
    char *body;

    if (!n || !n->alert)
        return tocsin_failed("notification without an alert");
    body = pd_format_event(&pd->ev, n);
    if (!body)
        return tocsin_retry(0, "out of memory formatting the event");

    memset(&call, 0, sizeof call);
    call.method = "POST";
    call.url = pd->url;
    call.headers = pd_headers;
    call.body = body;
    call.body_len = strlen(body);
    call.timeout_ms = pd->conf->timeout > LONG_MAX ? LONG_MAX : (long)pd->conf->timeout;
    memset(&res, 0, sizeof res);
    res.retry_after = -1;
    host->http_sized(host, &call, sizeof call, &res, sizeof res);

    if (res.status >= 400 && res.status < 500 && !tc_http_retryable(res.status)) {
        /* "invalid event" and its errors, for the timeline. */
        v = tocsin_failed("%s", "");
        pd_refusal(res.status, res.body, v.reason, sizeof v.reason);
    } else {
        /* 2xx done; 429 (PagerDuty promises no Retry-After: the core's
         * backoff then), 5xx, timeouts and transport errors retried. */
        v = host->http_verdict(host, &res);
    }
    if (v.kind == TOCSIN_DONE && res.body && !pd_answer_matches(res.body, n))
        host->log(host, TOCSIN_LOG_WARN,
                  "incident %lld: PagerDuty answered with another dedup_key than it was sent",
                  (long long)n->incident_id);
    tc_redact(v.reason, sizeof v.reason, pd->conf->routing_key, "(routing_key)");
    host->log(host, TOCSIN_LOG_DEBUG, "incident %lld %s (attempt %d): HTTP %ld",
              (long long)n->incident_id, tocsin_action_name(n->action), n->attempt,
              res.status);
    host->http_free(host, &res);
    free(body);
    return v;
}

static void pd_deliver(void *self, const struct tocsin_notification *n, struct tocsin_verdict *v,
                       size_t verdict_size)
{
    tocsin_verdict_put(v, verdict_size, deliver(self, n));
}

const struct tocsin_plugin tocsin_plugin = {
    TOCSIN_PLUGIN_HEADER,
    .kind = TOCSIN_SINK,
    .name = "pagerduty",
    .version = "1.0.0",
    .description = "Pages through PagerDuty's Events API v2 (trigger, acknowledge, resolve)",
    .options = pd_options,
    .conf_size = sizeof(struct pd_conf),
    .create = pd_create,
    .deliver_sized = pd_deliver,
    .destroy = pd_destroy,
};
