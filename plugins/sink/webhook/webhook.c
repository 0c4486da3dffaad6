/* webhook.c: the `webhook` sink: POSTs each notification as JSON, in
 * tocsin's native shape or as Alertmanager's webhook payload. Payloads are
 * format.c's; this file holds the descriptor, the options and the call
 * through host->http_sized() (plugin ABI 1.1). The URL and headers often
 * carry tokens: they are never logged. */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <tocsin/plugin.h>

#include "format.h"

struct webhook_conf {
    const char *url;
    const char *format;
    struct tocsin_map headers;
    int64_t timeout; /* ms */
    const char *receiver;
};

static const struct tocsin_option webhook_options[] = {
    { "url", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_REQUIRED | TOCSIN_OPT_SECRET,
      offsetof(struct webhook_conf, url),
      "http:// or https:// URL to POST to (secret: URLs often hold tokens)." },
    { "format", TOCSIN_OPT_STRING, "native", 0, offsetof(struct webhook_conf, format),
      "\"native\" (tocsin's JSON) or \"alertmanager\" (Alertmanager's webhook "
      "payload, version 4, for existing Alertmanager receivers)." },
    { "headers", TOCSIN_OPT_MAP, NULL, TOCSIN_OPT_SECRET, offsetof(struct webhook_conf, headers),
      "Extra request headers, e.g. { Authorization = \"env:HOOK_AUTH\"; } (secret); "
      "one named like a default (Content-Type, User-Agent, Idempotency-Key) replaces it." },
    { "timeout", TOCSIN_OPT_DURATION, "10s", 0, offsetof(struct webhook_conf, timeout),
      "Time allowed for one delivery attempt; 0: the daemon's default." },
    { "receiver", TOCSIN_OPT_STRING, NULL, 0, offsetof(struct webhook_conf, receiver),
      "The \"receiver\" field of the alertmanager format; default: the sink id." },
    { 0 }
};

/* Sent unless a configured header of the same name replaces it; the
 * Idempotency-Key ("tocsin-<outbox id>", stable across retries) lets a
 * receiver drop a repeated delivery. */
static const char *const default_headers[] = {
    "Content-Type: application/json",
    "User-Agent: tocsin/1",
};

struct webhook {
    const struct tocsin_host *host;
    const struct webhook_conf *conf;
    int alertmanager;   /* the format */
    char **fixed;       /* "Name: value" sent every time, defaults first */
    size_t n_fixed;
    int own_idempotency; /* a configured Idempotency-Key replaces ours */
};

/* RFC 9110 token characters. */
static int header_name_ok(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || strchr("!#$%&'*+-.^_`|~", *s)))
            return 0;
    return 1;
}

/* Does the configuration set header `name`? */
static int configured(const struct webhook_conf *cf, const char *name, size_t len)
{
    size_t i;

    for (i = 0; i < cf->headers.n; i++)
        if (strlen(cf->headers.items[i].key) == len &&
            strncasecmp(cf->headers.items[i].key, name, len) == 0)
            return 1;
    return 0;
}

static int add_fixed(struct webhook *w, const char *name, size_t name_len, const char *value)
{
    size_t len = name_len + 2 + strlen(value) + 1;
    char *h = malloc(len);

    if (!h)
        return TOCSIN_ENOMEM;
    snprintf(h, len, "%.*s: %s", (int)name_len, name, value);
    w->fixed[w->n_fixed++] = h;
    return TOCSIN_OK;
}

static void webhook_destroy(void *self)
{
    struct webhook *w = self;
    size_t i;

    for (i = 0; i < w->n_fixed; i++)
        free(w->fixed[i]);
    free(w->fixed);
    free(w);
}

static int webhook_create(const struct tocsin_host *host, const void *conf, void **self)
{
    const struct webhook_conf *cf = conf;
    struct webhook *w;
    size_t i;

    if (!TOCSIN_HOST_HAS(host, http_sized)) {
        host->fail(host, "needs tocsin plugin ABI 1.1 (host has %u.%u)",
                   (unsigned)host->abi_major, (unsigned)host->abi_minor);
        return TOCSIN_ENOTSUP;
    }
    /* Messages name options and header names, never their values. */
    if (!cf->url || (strncasecmp(cf->url, "http://", 7) != 0 &&
                     strncasecmp(cf->url, "https://", 8) != 0))
        return host->fail(host, "url must start with http:// or https://");
    if (!cf->format || (strcmp(cf->format, "native") != 0 &&
                        strcmp(cf->format, "alertmanager") != 0))
        return host->fail(host, "format must be \"native\" or \"alertmanager\", not \"%s\"",
                          cf->format ? cf->format : "");
    if (cf->timeout < 0)
        return host->fail(host, "timeout must not be negative");
    for (i = 0; i < cf->headers.n; i++) {
        const struct tocsin_kv *h = &cf->headers.items[i];

        if (!h->key || !header_name_ok(h->key))
            return host->fail(host, "headers: \"%.64s\" is not a valid header name",
                              h->key ? h->key : "");
        if (!h->value || strpbrk(h->value, "\r\n"))
            return host->fail(host, "headers: the value of \"%s\" must be one line", h->key);
    }

    w = calloc(1, sizeof *w);
    if (!w)
        return TOCSIN_ENOMEM;
    w->host = host;
    w->conf = cf;
    w->alertmanager = strcmp(cf->format, "alertmanager") == 0;
    w->own_idempotency = configured(cf, "Idempotency-Key", strlen("Idempotency-Key"));
    w->fixed = calloc(sizeof default_headers / sizeof default_headers[0] + cf->headers.n,
                      sizeof *w->fixed);
    if (!w->fixed) {
        free(w);
        return TOCSIN_ENOMEM;
    }
    for (i = 0; i < sizeof default_headers / sizeof default_headers[0]; i++) {
        const char *d = default_headers[i];
        size_t name_len = (size_t)(strchr(d, ':') - d);

        if (!configured(cf, d, name_len) && add_fixed(w, d, name_len, d + name_len + 2) < 0)
            goto oom;
    }
    for (i = 0; i < cf->headers.n; i++) {
        const struct tocsin_kv *h = &cf->headers.items[i];

        if (add_fixed(w, h->key, strlen(h->key), h->value) < 0)
            goto oom;
    }
    *self = w;
    return TOCSIN_OK;

oom:
    webhook_destroy(w);
    return TOCSIN_ENOMEM;
}

static struct tocsin_verdict deliver(void *self, const struct tocsin_notification *n)
{
    struct webhook *w = self;
    const struct tocsin_host *host = w->host;
    const struct webhook_conf *cf = w->conf;
    struct tocsin_http_call call;
    struct tocsin_http_result res;
    struct tocsin_verdict v;
    const char **headers;
    char idempotency[64];
    char *body;
    size_t i, k = 0;

    if (!n || !n->alert)
        return tocsin_failed("notification without an alert");
    if (w->alertmanager)
        body = webhook_format_alertmanager(
            n, cf->receiver && *cf->receiver ? cf->receiver
                                             : n->sink_id ? n->sink_id : host->instance_id);
    else
        body = webhook_format_native(n);
    headers = calloc(w->n_fixed + 2, sizeof *headers);
    if (!body || !headers) {
        free(body);
        free(headers);
        return tocsin_retry(0, "out of memory formatting the payload");
    }
    for (i = 0; i < w->n_fixed; i++)
        headers[k++] = w->fixed[i];
    if (!w->own_idempotency) {
        snprintf(idempotency, sizeof idempotency, "Idempotency-Key: tocsin-%lld",
                 (long long)n->outbox_id);
        headers[k++] = idempotency;
    }
    headers[k] = NULL;

    memset(&call, 0, sizeof call);
    call.method = "POST";
    call.url = cf->url;
    call.headers = headers;
    call.body = body;
    call.body_len = strlen(body);
    call.timeout_ms = cf->timeout > LONG_MAX ? LONG_MAX : (long)cf->timeout;

    /* Any outcome, transport errors included, is the core's to judge:
     * 2xx done, 408/429/5xx/timeouts retried honouring Retry-After, other
     * 4xx failed with the status and an excerpt of the answer. */
    memset(&res, 0, sizeof res);
    res.retry_after = -1;
    host->http_sized(host, &call, sizeof call, &res, sizeof res);
    v = host->http_verdict(host, &res);
    host->log(host, TOCSIN_LOG_DEBUG, "incident %lld %s (attempt %d): HTTP %ld",
              (long long)n->incident_id, tocsin_action_name(n->action), n->attempt, res.status);
    host->http_free(host, &res);
    free(headers);
    free(body);
    return v;
}

static void webhook_deliver(void *self, const struct tocsin_notification *n,
                            struct tocsin_verdict *v, size_t verdict_size)
{
    tocsin_verdict_put(v, verdict_size, deliver(self, n));
}

const struct tocsin_plugin tocsin_plugin = {
    TOCSIN_PLUGIN_HEADER,
    .kind = TOCSIN_SINK,
    .name = "webhook",
    .version = "1.1.0",
    .description = "POSTs notifications as JSON (native or Alertmanager webhook format)",
    .options = webhook_options,
    .conf_size = sizeof(struct webhook_conf),
    .create = webhook_create,
    .deliver_sized = webhook_deliver,
    .destroy = webhook_destroy,
};
