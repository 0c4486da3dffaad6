/* alertmanager.c: the `alertmanager` input: serves Alertmanager's
 * POST /api/v2/alerts so Prometheus (amtool, Grafana, vmalert...) can send
 * to tocsin unchanged. Parsing lives in parse.c; this file holds the
 * descriptor, the options and the HTTP glue around host->emit(). */
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tocsin/plugin.h>

#include "common.h"
#include "parse.h"

struct am_conf {
    const char *path;
    int64_t resolve_timeout; /* ms */
};

static const struct tocsin_option am_options[] = {
    { "path", TOCSIN_OPT_STRING, "/api/v2/alerts", 0, offsetof(struct am_conf, path),
      "Path to serve POST requests on (Alertmanager's API v2 path by default)." },
    { "resolve_timeout", TOCSIN_OPT_DURATION, "5m", 0,
      offsetof(struct am_conf, resolve_timeout),
      "An alert sent without endsAt expires (resolves) after this long without a "
      "refresh, as in Alertmanager; 0 keeps it firing until resolved." },
    { 0 }
};

struct am_input {
    const struct tocsin_host *host;
    const struct am_conf *conf;
};

/* host->emit() failed: answer so the client knows whether to retry. */
static void answer_emit_error(struct tocsin_http_response *resp, int rc, const char *err,
                              const struct am_batch *b)
{
    if (tc_emit_answer(resp, rc, err) < 0) {
        /* The core refused the batch: list its reason with our own. */
        resp->status = 400;
        resp->body = am_invalid_body(b, *err ? err : "alerts refused by the core");
    }
}

/* {"code":415,"message":"unsupported media type \"text/plain\", only
 * [application/json] are allowed"}, as Alertmanager words it. */
static char *am_media_body(const char *type)
{
    char msg[160];
    json_t *o;
    char *s;

    snprintf(msg, sizeof msg, "unsupported media type \"%s\", only [application/json] are"
             " allowed", type);
    o = json_pack("{s:i,s:s}", "code", 415, "message", msg);
    s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

static int am_handle(void *self, const struct tocsin_http_request *req,
                     struct tocsin_http_response *resp)
{
    struct am_input *in = self;
    const struct tocsin_host *host = in->host;
    struct am_batch b;
    char err[256] = "";
    int rc;

    /* Alertmanager's own answer, so a browser form cannot post alerts. */
    if (!tc_is_json_type(req->header(req, "Content-Type"))) {
        char type[80];

        resp->status = 415;
        resp->body = am_media_body(tc_media_type(req->header(req, "Content-Type"), type,
                                                 sizeof type));
        return resp->body ? TOCSIN_OK : TOCSIN_ENOMEM;
    }
    rc = am_parse(req->body, req->body_len, host->now_ms(host), in->conf->resolve_timeout, &b);
    if (rc == TOCSIN_ENOMEM) {
        resp->status = 500;
        resp->body = tc_error_json("out of memory", NULL);
        am_batch_free(&b);
        return TOCSIN_OK;
    }
    if (rc == TOCSIN_EINVAL) {
        resp->status = 400;
        resp->body = tc_error_json(b.error, b.detail[0] ? b.detail : NULL);
        host->log(host, TOCSIN_LOG_INFO, "refused a request from %s: %s",
                  req->remote_addr ? req->remote_addr : "?", b.error);
        am_batch_free(&b);
        return TOCSIN_OK;
    }

    /* Best effort, like Alertmanager: the valid alerts of a batch are
     * stored even when others are not. */
    if (b.n_alerts > 0) {
        rc = host->emit(host, b.alerts, b.n_alerts, err, sizeof err);
        if (rc != TOCSIN_OK) {
            answer_emit_error(resp, rc, err, &b);
            am_batch_free(&b);
            return TOCSIN_OK;
        }
    }
    if (b.n_invalid > 0) {
        resp->status = 400;
        resp->body = am_invalid_body(&b, NULL);
        host->log(host, TOCSIN_LOG_INFO, "%zu of %zu alerts from %s invalid, first: %s",
                  b.n_invalid, b.n_invalid + b.n_alerts,
                  req->remote_addr ? req->remote_addr : "?", b.errors[0]);
    } else {
        resp->status = 200; /* Prometheus ignores the body; Alertmanager sends none */
        resp->body = NULL;
    }
    am_batch_free(&b);
    return TOCSIN_OK;
}

static int am_create(const struct tocsin_host *host, const void *conf, void **self)
{
    const struct am_conf *cf = conf;
    struct am_input *in;
    int rc;

    if (!cf->path || cf->path[0] != '/')
        return host->fail(host, "path must start with '/', not \"%s\"",
                          cf->path ? cf->path : "");
    if (cf->resolve_timeout < 0)
        return host->fail(host, "resolve_timeout must not be negative");
    in = calloc(1, sizeof *in);
    if (!in)
        return TOCSIN_ENOMEM;
    in->host = host;
    in->conf = cf;
    rc = host->route(host, "POST", cf->path, am_handle, in);
    if (rc != TOCSIN_OK) {
        free(in);
        return rc;
    }
    *self = in;
    return TOCSIN_OK;
}

static void am_destroy(void *self)
{
    free(self);
}

const struct tocsin_plugin tocsin_plugin = {
    TOCSIN_PLUGIN_HEADER,
    .kind = TOCSIN_INPUT,
    .name = "alertmanager",
    .version = "1.0.0",
    .description = "Alertmanager API v2 intake (POST /api/v2/alerts) for Prometheus",
    .options = am_options,
    .conf_size = sizeof(struct am_conf),
    .create = am_create,
    .destroy = am_destroy,
};
