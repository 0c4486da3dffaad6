/* generic.c: the `generic` input: native alert intake (POST /api/v1/alerts)
 * for curl, scripts and anything that can send JSON. Parsing lives in
 * parse.c; this file holds the descriptor, the options and the HTTP glue
 * around host->emit(). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <tocsin/plugin.h>

#include "common.h"
#include "parse.h"

struct gen_conf {
    const char *path;
};

static const struct tocsin_option gen_options[] = {
    { "path", TOCSIN_OPT_STRING, "/api/v1/alerts", 0, offsetof(struct gen_conf, path),
      "Path to serve POST requests on." },
    { 0 }
};

struct gen_input {
    const struct tocsin_host *host;
    const struct gen_conf *conf;
};

static int gen_handle(void *self, const struct tocsin_http_request *req,
                      struct tocsin_http_response *resp)
{
    struct gen_input *in = self;
    const struct tocsin_host *host = in->host;
    struct gen_batch b;
    char err[256] = "";
    int rc;

    if (!tc_is_json_type(req->header(req, "Content-Type"))) {
        char type[80], detail[160];

        snprintf(detail, sizeof detail, "Content-Type \"%s\": send application/json",
                 tc_media_type(req->header(req, "Content-Type"), type, sizeof type));
        resp->status = 415;
        resp->body = tc_error_json("unsupported media type", detail);
        return TOCSIN_OK;
    }
    rc = gen_parse(req->body, req->body_len, host->now_ms(host), &b);
    if (rc == TOCSIN_OK && b.n_alerts > 0)
        rc = host->emit(host, b.alerts, b.n_alerts, err, sizeof err);

    if (rc == TOCSIN_OK) {
        resp->status = 202;
        resp->body = gen_accepted_body(b.n_alerts);
    } else if (tc_emit_answer(resp, rc, err) < 0) {
        resp->status = 400;
        if (b.error) { /* ours */
            resp->body = tc_error_json(b.error, b.detail[0] ? b.detail : NULL);
            host->log(host, TOCSIN_LOG_INFO, "refused a request from %s: %s",
                      req->remote_addr ? req->remote_addr : "?",
                      b.detail[0] ? b.detail : b.error);
        } else { /* the core's */
            resp->body = tc_error_json("invalid alert", *err ? err : NULL);
        }
    }
    gen_batch_free(&b);
    return TOCSIN_OK;
}

static int gen_create(const struct tocsin_host *host, const void *conf, void **self)
{
    const struct gen_conf *cf = conf;
    struct gen_input *in;
    int rc;

    if (!cf->path || cf->path[0] != '/')
        return host->fail(host, "path must start with '/', not \"%s\"",
                          cf->path ? cf->path : "");
    in = calloc(1, sizeof *in);
    if (!in)
        return TOCSIN_ENOMEM;
    in->host = host;
    in->conf = cf;
    /* POST only; other methods on the path are the core's to refuse. */
    rc = host->route(host, "POST", cf->path, gen_handle, in);
    if (rc != TOCSIN_OK) {
        free(in);
        return rc;
    }
    *self = in;
    return TOCSIN_OK;
}

static void gen_destroy(void *self)
{
    free(self);
}

const struct tocsin_plugin tocsin_plugin = {
    TOCSIN_PLUGIN_HEADER,
    .kind = TOCSIN_INPUT,
    .name = "generic",
    .version = "1.0.0",
    .description = "Native JSON alert intake (POST /api/v1/alerts)",
    .options = gen_options,
    .conf_size = sizeof(struct gen_conf),
    .create = gen_create,
    .destroy = gen_destroy,
};
