/* uptimerobot.c: the `uptimerobot` input: UptimeRobot's webhook alert
 * contact (a token in the URL; values as query string, form or JSON body)
 * and, with an api_key, polling of API v2 getMonitors (poll.c). This file
 * holds the descriptor, the options, the lifecycle and the webhook glue. */
#define _GNU_SOURCE
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <tocsin/plugin.h>

#include "common.h"
#include "input.h"

static const struct tocsin_option ur_options[] = {
    { "path", TOCSIN_OPT_STRING, "/hooks/uptimerobot", 0, offsetof(struct ur_conf, path),
      "Webhook path: PATH/TOKEN, PATH?token=TOKEN or PATH with Authorization: Bearer TOKEN." },
    { "token", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_SECRET, offsetof(struct ur_conf, token),
      "The webhook's token (at least 16 random characters); needed unless only polling." },
    { "severity", TOCSIN_OPT_MAP, NULL, 0, offsetof(struct ur_conf, severity),
      "Severity per kind: down (default high), ssl (medium), api (medium)." },
    { "dashboard_url", TOCSIN_OPT_STRING, "https://dashboard.uptimerobot.com/monitors/", 0,
      offsetof(struct ur_conf, dashboard_url), "Link to a monitor: this followed by its id." },
    { "api_key", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_SECRET, offsetof(struct ur_conf, api_key),
      "API key (read-only suffices): poll getMonitors; unset: webhook only." },
    { "interval", TOCSIN_OPT_DURATION, "60s", 0, offsetof(struct ur_conf, interval),
      "How often to poll." },
    { "api_url", TOCSIN_OPT_STRING, "https://api.uptimerobot.com", 0,
      offsetof(struct ur_conf, api_url), "API base; requests go to {api_url}/v2/getMonitors." },
    { "rate_limit", TOCSIN_OPT_INT, "10", 0, offsetof(struct ur_conf, rate_limit),
      "Requests per minute the plan allows (free 10); polls never go faster." },
    { "seems_down", TOCSIN_OPT_BOOL, "true", 0, offsetof(struct ur_conf, seems_down),
      "Polling: status 8 (seems down) fires like 9 (down); false waits for 9." },
    { "api_failures", TOCSIN_OPT_INT, "3", 0, offsetof(struct ur_conf, api_failures),
      "Failed polls in a row before an \"UptimeRobot API unreachable\" alert; 0: never." },
    { 0 }
};

/* The webhook's variables, looked up in the query after the body. */
static const char *const ur_variables[] = {
    "monitorID", "monitorURL", "monitorFriendlyName", "alertType", "alertTypeFriendlyName",
    "alertDetails", "alertDuration", "alertFriendlyDuration", "alertDateTime",
    "sslExpiryDate", "sslExpiryDaysLeft", NULL
};

static const char *addr_of(const struct tocsin_http_request *req)
{
    return req->remote_addr ? req->remote_addr : "?";
}

static int answer(struct tocsin_http_response *resp, int status, const char *error,
                  const char *detail)
{
    resp->status = status;
    resp->body = tc_error_json(error, detail);
    return resp->body ? TOCSIN_OK : TOCSIN_ENOMEM;
}

/* Constant time whatever the lengths: both sides hashed, then compared. */
static int token_ok(const char *expected, const char *given)
{
    unsigned char a[32], b[32];
    unsigned int n = 0;

    if (!given || !EVP_Digest(expected, strlen(expected), a, &n, EVP_sha256(), NULL) ||
        !EVP_Digest(given, strlen(given), b, &n, EVP_sha256(), NULL))
        return 0;
    return CRYPTO_memcmp(a, b, sizeof a) == 0;
}

/* The token: PATH/<token>, ?token= or, from UptimeRobot's newer webhook
 * integration with custom headers, Authorization: Bearer <token>. NULL
 * when none. */
static const char *token_of(const struct ur_input *in, const struct tocsin_http_request *req,
                            int *bad_path)
{
    size_t n = strlen(in->conf->path);
    const char *auth;

    *bad_path = 0;
    if (strlen(req->path) > n + 1 && req->path[n] == '/') {
        if (strchr(req->path + n + 1, '/'))
            *bad_path = 1;
        return req->path + n + 1;
    }
    if (req->query(req, "token"))
        return req->query(req, "token");
    auth = req->header(req, "Authorization");
    return auth && strncasecmp(auth, "Bearer ", 7) == 0 ? auth + 7 : NULL;
}

/* The values from the body (JSON or form) and the query. */
static int collect(const struct tocsin_http_request *req, struct ur_fields *f, char *err,
                   size_t errlen)
{
    const char *type = req->header(req, "Content-Type");
    char media[80];
    size_t i, skip = 0;

    while (skip < req->body_len && strchr(" \t\r\n", req->body[skip]))
        skip++;
    if (tc_is_json_type(type) || (skip < req->body_len && req->body[skip] == '{')) {
        if (ur_fields_from_json(req->body, req->body_len, f, err, errlen) != 0)
            return TOCSIN_EINVAL;
    } else if (req->body_len > 0 &&
               strcmp(tc_media_type(type, media, sizeof media),
                      "application/x-www-form-urlencoded") == 0) {
        if (ur_fields_from_form(req->body, req->body_len, f) != 0)
            return TOCSIN_ENOMEM;
    } else {
        memset(f, 0, sizeof *f);
    }
    for (i = 0; ur_variables[i]; i++)
        ur_fields_add(f, ur_variables[i], req->query(req, ur_variables[i]));
    return TOCSIN_OK;
}

static int ur_handle(void *self, const struct tocsin_http_request *req,
                     struct tocsin_http_response *resp)
{
    struct ur_input *in = self;
    const struct tocsin_host *host = in->host;
    struct ur_fields f;
    struct ur_alert a;
    char err[256] = "";
    size_t n = 0;
    int bad_path, rc, body_ok;
    const char *token = token_of(in, req, &bad_path);

    if (bad_path || !token_ok(in->conf->token, token)) {
        host->log(host, TOCSIN_LOG_WARN, "refused %s %s from %s: %s token", req->method,
                  in->conf->path, addr_of(req), token ? "wrong" : "missing");
        return answer(resp, 401, "unauthorized", token ? "wrong token" : "missing token");
    }
    rc = collect(req, &f, err, sizeof err);
    body_ok = rc == TOCSIN_OK;
    if (rc == TOCSIN_OK)
        rc = ur_webhook_alert(&f, &in->rules, &a, &n, err, sizeof err);
    if (rc == TOCSIN_ENOMEM) {
        rc = answer(resp, 500, "out of memory", NULL);
    } else if (rc == TOCSIN_EINVAL) {
        /* A body's own error can quote it: the log names only the kind. */
        host->log(host, TOCSIN_LOG_INFO, "refused a request from %s: %s", addr_of(req),
                  body_ok ? err : "body is not the JSON template (see the README)");
        rc = answer(resp, 400, "invalid request", err);
    } else if (n == 0) {
        host->log(host, TOCSIN_LOG_DEBUG, "ignored alertType %s from %s",
                  ur_fields_get(&f, "alertType"), addr_of(req));
        resp->status = 200;
    } else {
        rc = host->emit(host, &a.alert, 1, err, sizeof err);
        if (rc == TOCSIN_OK)
            resp->status = 200;
        else if (tc_emit_answer(resp, rc, err) < 0)
            answer(resp, 400, "alert refused by the core", err);
        rc = TOCSIN_OK;
    }
    ur_fields_free(&f);
    return rc;
}

static int register_webhook(const struct tocsin_host *host, const struct ur_conf *cf,
                            struct ur_input *in)
{
    static const char *const methods[] = { "POST", "GET" };
    char prefix[512];
    size_t i;
    int rc = TOCSIN_OK;

    snprintf(prefix, sizeof prefix, "%s/*", cf->path);
    for (i = 0; i < 2 && rc == TOCSIN_OK; i++) {
        rc = host->route_self_auth(host, methods[i], cf->path, ur_handle, in);
        if (rc == TOCSIN_OK)
            rc = host->route_self_auth(host, methods[i], prefix, ur_handle, in);
    }
    return rc;
}

static int ur_create(const struct tocsin_host *host, const void *conf, void **self)
{
    const struct ur_conf *cf = conf;
    struct ur_input *in;
    enum tocsin_severity sev;
    size_t i;

    if (!TOCSIN_HOST_HAS(host, route_self_auth))
        return host->fail(host, "needs tocsin ABI 1.1 (host has %u.%u)",
                          (unsigned)host->abi_major, (unsigned)host->abi_minor);
    if (!cf->path || cf->path[0] != '/' || strchr(cf->path, '*') || strlen(cf->path) > 400 ||
        (strlen(cf->path) > 1 && cf->path[strlen(cf->path) - 1] == '/'))
        return host->fail(host, "path must start with '/' and not end with one, not \"%s\"",
                          cf->path ? cf->path : "");
    if (!cf->token && !cf->api_key)
        return host->fail(host, "set token (webhook), api_key (polling) or both");
    if (cf->token && strlen(cf->token) < 16)
        return host->fail(host, "token must be a random string of at least 16 characters");
    if (cf->token && strchr(cf->token, '/'))
        return host->fail(host, "token must not contain '/' (it can be the URL's last segment)");
    for (i = 0; i < cf->severity.n; i++) {
        const char *k = cf->severity.items[i].key;

        if (strcasecmp(k, "down") != 0 && strcasecmp(k, "ssl") != 0 && strcasecmp(k, "api") != 0)
            return host->fail(host, "severity: unknown key \"%s\" (down, ssl, api)", k);
        if (tc_severity_parse(cf->severity.items[i].value, &sev) != 0)
            return host->fail(host, "severity: \"%s\" = \"%s\" is not a severity (critical, "
                              "high, medium, low, info)", cf->severity.items[i].key,
                              cf->severity.items[i].value ? cf->severity.items[i].value : "");
    }
    if (cf->rate_limit < 1)
        return host->fail(host, "rate_limit must be at least 1 (requests per minute)");
    if (cf->api_key && cf->interval < 60000 / cf->rate_limit)
        return host->fail(host, "interval must be at least %lld ms: rate_limit %lld allows "
                          "one request per %lld ms", (long long)(60000 / cf->rate_limit),
                          (long long)cf->rate_limit, (long long)(60000 / cf->rate_limit));
    if (cf->api_failures < 0)
        return host->fail(host, "api_failures must not be negative");
    if (cf->api_key && (!cf->api_url || strncmp(cf->api_url, "http", 4) != 0))
        return host->fail(host, "api_url must be an http:// or https:// URL, not \"%s\"",
                          cf->api_url ? cf->api_url : "");
    if (!(in = calloc(1, sizeof *in)))
        return TOCSIN_ENOMEM;
    in->host = host;
    in->conf = cf;
    in->rules.severity = &cf->severity;
    in->rules.dashboard_url = cf->dashboard_url;
    in->rules.seems_down_fires = cf->seems_down;
    if (cf->token && register_webhook(host, cf, in) != TOCSIN_OK) {
        free(in);
        return TOCSIN_ERROR;
    }
    *self = in;
    return TOCSIN_OK;
}

static int ur_start(void *self)
{
    struct ur_input *in = self;

    if (!in->conf->api_key)
        return TOCSIN_OK;
    in->timer = in->host->timer_add(in->host, 0, in->conf->interval, ur_poll, in);
    return in->timer > 0 ? TOCSIN_OK : in->host->fail(in->host, "cannot start the poll timer");
}

static void ur_destroy(void *self)
{
    free(self);
}

const struct tocsin_plugin tocsin_plugin = {
    TOCSIN_PLUGIN_HEADER,
    .kind = TOCSIN_INPUT,
    .name = "uptimerobot",
    .version = "1.0.0",
    .description = "UptimeRobot: webhook alert contact and getMonitors polling",
    .options = ur_options,
    .conf_size = sizeof(struct ur_conf),
    .create = ur_create,
    .start = ur_start,
    .destroy = ur_destroy,
};
