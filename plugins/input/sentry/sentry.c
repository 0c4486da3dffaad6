/* sentry.c: the `sentry` input: Sentry integration platform webhooks
 * (signed with the integration's client secret) and, optionally, the
 * legacy WebHooks plugin (a token in the query). This file holds the
 * descriptor, the options and the HTTP glue: authenticate, then parse
 * (parse.c), then host->emit(). */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <tocsin/plugin.h>

#include "common.h"
#include "parse.h"
#include "seen.h"
#include "sign.h"

struct sn_conf {
    const char *path;
    const char *client_secret;
    int64_t timestamp_tolerance; /* ms; 0: not checked */
    struct tocsin_map severity;
    const char *on_issue_created;
    const char *on_issue_archived;
    const char *on_issue_unresolved;
    const char *legacy_path;
    const char *legacy_token;
    int64_t legacy_expire; /* ms; 0: never */
};

static const struct tocsin_option sn_options[] = {
    { "path", TOCSIN_OPT_STRING, "/hooks/sentry", 0, offsetof(struct sn_conf, path),
      "Path of the integration's webhook URL (POST)." },
    { "client_secret", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_REQUIRED | TOCSIN_OPT_SECRET,
      offsetof(struct sn_conf, client_secret),
      "The integration's client secret: the key of Sentry-Hook-Signature." },
    { "timestamp_tolerance", TOCSIN_OPT_DURATION, "300s", 0,
      offsetof(struct sn_conf, timestamp_tolerance),
      "Refuse a Sentry-Hook-Timestamp farther than this from now (replays); 0: not checked." },
    { "severity", TOCSIN_OPT_MAP, NULL, 0, offsetof(struct sn_conf, severity),
      "Sentry level (fatal, error, warning, info, debug) or metric alert action "
      "(critical, warning) to tocsin severity, e.g. { fatal = \"critical\"; }." },
    { "on_issue_created", TOCSIN_OPT_STRING, "fire", 0,
      offsetof(struct sn_conf, on_issue_created),
      "issue/created: \"fire\" or \"ignore\" (issue creation can be noisy)." },
    { "on_issue_archived", TOCSIN_OPT_STRING, "resolve", 0,
      offsetof(struct sn_conf, on_issue_archived),
      "issue/ignored and issue/archived: \"resolve\" or \"ignore\"." },
    { "on_issue_unresolved", TOCSIN_OPT_STRING, "fire", 0,
      offsetof(struct sn_conf, on_issue_unresolved),
      "issue/unresolved (reopened, regressed, escalating): \"fire\" or \"ignore\"." },
    { "legacy_path", TOCSIN_OPT_STRING, NULL, 0, offsetof(struct sn_conf, legacy_path),
      "Path for the legacy WebHooks plugin (POST ...?token=...); unset: not served." },
    { "legacy_token", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_SECRET,
      offsetof(struct sn_conf, legacy_token),
      "The `token` query argument the legacy plugin's URL carries (needed with legacy_path)." },
    { "legacy_expire", TOCSIN_OPT_DURATION, "0", 0, offsetof(struct sn_conf, legacy_expire),
      "Legacy alerts never resolve from Sentry: resolve them after this long; 0: by hand." },
    { 0 }
};

struct sn_input {
    const struct tocsin_host *host;
    const struct sn_conf *conf;
    struct sn_rules rules;
    struct sn_seen seen; /* Request-IDs stored lately */
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

static int unauthorized(const struct sn_input *in, const struct tocsin_http_request *req,
                        struct tocsin_http_response *resp, const char *why)
{
    in->host->log(in->host, TOCSIN_LOG_WARN, "refused %s %s from %s: %s", req->method,
                  req->path, addr_of(req), why);
    return answer(resp, 401, "unauthorized", why);
}

/* Sentry-Hook-Timestamp: whole Unix seconds. 1 when within tolerance. */
static int timestamp_ok(const struct sn_input *in, const char *ts)
{
    char *end;
    long long s;
    int64_t diff;

    if (!ts || !*ts)
        return 0;
    errno = 0;
    s = strtoll(ts, &end, 10);
    if (errno || end == ts || (*end && *end != '.') || s < 0 || s > 100000000000LL)
        return 0;
    diff = in->host->now_ms(in->host) - (int64_t)s * 1000;
    if (diff < 0)
        diff = -diff;
    return diff <= in->conf->timestamp_tolerance;
}

/* The parse result to an answer: 400, 200 ignored, or emit's. */
static int finish(struct sn_input *in, const struct tocsin_http_request *req,
                  struct tocsin_http_response *resp, int rc, struct sn_result *r)
{
    const struct tocsin_host *host = in->host;
    const char *rid = req->header(req, "Request-ID");
    char err[256] = "";

    if (rc == TOCSIN_ENOMEM) {
        rc = answer(resp, 500, "out of memory", NULL);
    } else if (rc == TOCSIN_EINVAL) {
        /* JSON errors quote the body: log only what kind of error. */
        int quote = strcmp(r->error, "malformed JSON") != 0;

        host->log(host, TOCSIN_LOG_INFO, "refused a request from %s (Request-ID %.40s): %s%s%s",
                  addr_of(req), rid ? rid : "-", r->error, quote ? " " : "",
                  quote ? r->detail : "");
        rc = answer(resp, 400, r->error, r->detail[0] ? r->detail : NULL);
    } else if (r->n_alerts == 0) {
        host->log(host, TOCSIN_LOG_DEBUG, "ignored delivery %.40s from %s: %s",
                  rid ? rid : "-", addr_of(req), r->ignored);
        resp->status = 200;
        rc = TOCSIN_OK;
    } else {
        rc = host->emit(host, &r->alert, 1, err, sizeof err);
        if (rc == TOCSIN_OK) {
            resp->status = 200;
            sn_seen_add(&in->seen, rid);
        } else if (tc_emit_answer(resp, rc, err) < 0) {
            host->log(host, TOCSIN_LOG_INFO, "alert from %s refused by the core: %s",
                      addr_of(req), err);
            rc = answer(resp, 400, "alert refused by the core", err);
        }
        rc = TOCSIN_OK;
    }
    sn_result_free(r);
    return rc;
}

static int sn_handle(void *self, const struct tocsin_http_request *req,
                     struct tocsin_http_response *resp)
{
    struct sn_input *in = self;
    struct sn_result r;
    int rc;

    /* Authenticate before a byte of the body is parsed. */
    if (!req->header(req, "Sentry-Hook-Signature"))
        return unauthorized(in, req, resp, "missing Sentry-Hook-Signature");
    if (!sn_signature_ok(in->conf->client_secret, req->body, req->body_len,
                         req->header(req, "Sentry-Hook-Signature")))
        return unauthorized(in, req, resp, "Sentry-Hook-Signature does not match the body");
    if (in->conf->timestamp_tolerance > 0 &&
        !timestamp_ok(in, req->header(req, "Sentry-Hook-Timestamp")))
        return unauthorized(in, req, resp, "Sentry-Hook-Timestamp missing or out of tolerance");
    if (sn_seen_has(&in->seen, req->header(req, "Request-ID"))) {
        in->host->log(in->host, TOCSIN_LOG_DEBUG, "delivery %s from %s already stored",
                      req->header(req, "Request-ID"), addr_of(req));
        resp->status = 200;
        return TOCSIN_OK;
    }
    rc = sn_parse_hook(req->header(req, "Sentry-Hook-Resource"), req->body, req->body_len,
                       &in->rules, in->host->now_ms(in->host), &r);
    return finish(in, req, resp, rc, &r);
}

static int sn_handle_legacy(void *self, const struct tocsin_http_request *req,
                            struct tocsin_http_response *resp)
{
    struct sn_input *in = self;
    struct sn_result r;
    int rc;

    if (!sn_token_ok(in->conf->legacy_token, req->query(req, "token")))
        return unauthorized(in, req, resp, req->query(req, "token") ? "wrong token"
                                                                      : "missing token");
    rc = sn_parse_legacy(req->body, req->body_len, &in->rules, in->host->now_ms(in->host), &r);
    return finish(in, req, resp, rc, &r);
}

/* "fire"/"resolve"/"ignore" among the allowed ones, for option name. */
static int rule_of(const struct tocsin_host *host, const char *name, const char *value,
                   enum sn_rule a, enum sn_rule b, enum sn_rule *out)
{
    static const char *const names[] = { "fire", "resolve", "ignore" };

    if (value && strcmp(value, names[a]) == 0)
        *out = a;
    else if (value && strcmp(value, names[b]) == 0)
        *out = b;
    else
        return host->fail(host, "%s must be \"%s\" or \"%s\", not \"%s\"", name, names[a],
                          names[b], value ? value : "");
    return TOCSIN_OK;
}

static int check_path(const struct tocsin_host *host, const char *name, const char *path)
{
    if (!path || path[0] != '/' || strchr(path, '*'))
        return host->fail(host, "%s must start with '/' (and hold no '*'), not \"%s\"", name,
                          path ? path : "");
    return TOCSIN_OK;
}

static int sn_create(const struct tocsin_host *host, const void *conf, void **self)
{
    const struct sn_conf *cf = conf;
    struct sn_input *in;
    enum tocsin_severity sev;
    size_t i;
    int rc;

    if (!TOCSIN_HOST_HAS(host, route_self_auth))
        return host->fail(host, "needs tocsin ABI 1.1 (host has %u.%u)",
                          (unsigned)host->abi_major, (unsigned)host->abi_minor);
    if (check_path(host, "path", cf->path) != TOCSIN_OK)
        return TOCSIN_ERROR;
    if (!cf->client_secret || !*cf->client_secret)
        return host->fail(host, "client_secret must not be empty");
    if (cf->timestamp_tolerance < 0)
        return host->fail(host, "timestamp_tolerance must not be negative");
    if (cf->legacy_expire < 0)
        return host->fail(host, "legacy_expire must not be negative");
    for (i = 0; i < cf->severity.n; i++) {
        static const char *const keys[] = { "fatal", "critical", "error", "warning", "info",
                                            "debug" };
        size_t k;

        for (k = 0; k < 6 && strcasecmp(keys[k], cf->severity.items[i].key) != 0; k++)
            ;
        if (k == 6)
            return host->fail(host, "severity: unknown key \"%s\" (Sentry levels fatal, "
                              "error, warning, info, debug; metric actions critical, warning)",
                              cf->severity.items[i].key);
        if (tc_severity_parse(cf->severity.items[i].value, &sev) != 0)
            return host->fail(host, "severity: \"%s\" = \"%s\" is not a severity (critical, "
                              "high, medium, low, info)", cf->severity.items[i].key,
                              cf->severity.items[i].value ? cf->severity.items[i].value : "");
    }
    if (cf->legacy_path) {
        if (check_path(host, "legacy_path", cf->legacy_path) != TOCSIN_OK)
            return TOCSIN_ERROR;
        if (strcmp(cf->legacy_path, cf->path) == 0)
            return host->fail(host, "legacy_path must differ from path (\"%s\")", cf->path);
        if (!cf->legacy_token || strlen(cf->legacy_token) < 16)
            return host->fail(host, "legacy_path needs legacy_token, a random string of at "
                              "least 16 characters (the legacy plugin signs nothing)");
    }
    if (!(in = calloc(1, sizeof *in)))
        return TOCSIN_ENOMEM;
    in->host = host;
    in->conf = cf;
    in->rules.severity = &cf->severity;
    in->rules.legacy_expire_ms = cf->legacy_expire;
    sn_seen_init(&in->seen);
    if (rule_of(host, "on_issue_created", cf->on_issue_created, SN_FIRE, SN_IGNORE,
                &in->rules.on_created) != TOCSIN_OK ||
        rule_of(host, "on_issue_archived", cf->on_issue_archived, SN_RESOLVE, SN_IGNORE,
                &in->rules.on_archived) != TOCSIN_OK ||
        rule_of(host, "on_issue_unresolved", cf->on_issue_unresolved, SN_FIRE, SN_IGNORE,
                &in->rules.on_unresolved) != TOCSIN_OK) {
        sn_seen_destroy(&in->seen);
        free(in);
        return TOCSIN_ERROR;
    }
    rc = host->route_self_auth(host, "POST", cf->path, sn_handle, in);
    if (rc == TOCSIN_OK && cf->legacy_path)
        rc = host->route_self_auth(host, "POST", cf->legacy_path, sn_handle_legacy, in);
    if (rc != TOCSIN_OK) {
        sn_seen_destroy(&in->seen);
        free(in);
        return rc;
    }
    *self = in;
    return TOCSIN_OK;
}

static void sn_destroy(void *self)
{
    struct sn_input *in = self;

    sn_seen_destroy(&in->seen);
    free(in);
}

const struct tocsin_plugin tocsin_plugin = {
    TOCSIN_PLUGIN_HEADER,
    .kind = TOCSIN_INPUT,
    .name = "sentry",
    .version = "1.0.0",
    .description = "Sentry webhooks: integration platform (signed) and legacy WebHooks plugin",
    .options = sn_options,
    .conf_size = sizeof(struct sn_conf),
    .create = sn_create,
    .destroy = sn_destroy,
};
