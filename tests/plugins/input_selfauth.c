/* tests/plugins/input_selfauth.c: an input that authenticates requests
 * itself (ABI 1.1 host->route_self_auth), as provider webhooks must: a
 * request passes with the header X-Test-Signature equal to its
 * `secret` option, and stores one alert named by the body. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tocsin/plugin.h>

struct sa_conf {
    const char *secret;
};

static const struct tocsin_option sa_options[] = {
    { "secret", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_REQUIRED | TOCSIN_OPT_SECRET,
      offsetof(struct sa_conf, secret), "What X-Test-Signature must be." },
    { 0 }
};

struct sa {
    const struct tocsin_host *host;
    const struct sa_conf *conf;
};

static int sa_handle(void *self, const struct tocsin_http_request *req,
                     struct tocsin_http_response *resp)
{
    struct sa *s = self;
    const char *sig = req->header(req, "X-Test-Signature");
    struct tocsin_kv labels[1] = { { "alertname", "SelfAuth" } };
    struct tocsin_alert a;
    char err[200], key[64];
    int rc;

    if (!sig || strcmp(sig, s->conf->secret) != 0) { /* a test: not constant time */
        resp->status = 401;
        resp->body = strdup("{\"error\":\"bad signature\"}");
        return TOCSIN_OK;
    }
    snprintf(key, sizeof key, "selfauth-%.*s", (int)(req->body_len < 40 ? req->body_len : 40),
             req->body);
    memset(&a, 0, sizeof a);
    a.dedup_key = key;
    a.summary = "signed by the provider";
    a.severity = TOCSIN_SEV_HIGH;
    a.labels = labels;
    a.n_labels = 1;
    rc = s->host->emit(s->host, &a, 1, err, sizeof err);
    resp->status = rc == TOCSIN_OK ? 202 : 503;
    return TOCSIN_OK;
}

static int sa_create(const struct tocsin_host *host, const void *conf, void **self)
{
    struct sa *s;

    if (!TOCSIN_HOST_HAS(host, route_self_auth))
        return host->fail(host, "needs tocsin ABI 1.1 (host has %u.%u)",
                          (unsigned)host->abi_major, (unsigned)host->abi_minor);
    if (!(s = calloc(1, sizeof *s)))
        return TOCSIN_ENOMEM;
    s->host = host;
    s->conf = conf;
    *self = s;
    return host->route_self_auth(host, "POST", "/hooks/selfauth", sa_handle, s);
}

static void sa_destroy(void *self)
{
    free(self);
}

const struct tocsin_plugin tocsin_plugin = {
    TOCSIN_PLUGIN_HEADER,
    .kind = TOCSIN_INPUT, .name = "selfauth", .version = "1",
    .description = "test: an input that checks a signature itself",
    .options = sa_options, .conf_size = sizeof(struct sa_conf),
    .create = sa_create, .destroy = sa_destroy,
};
