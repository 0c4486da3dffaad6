/* cloudwatch.c: the `cloudwatch` input: CloudWatch alarms through an SNS
 * HTTP/HTTPS subscription. Every message is authenticated before its
 * content is used: its topic must be allowed, its SigningCertURL must pass
 * cert_url_allow, its signature must verify with that certificate (fetched
 * once per URL), and its Timestamp must be within max_age. Envelope
 * parsing is envelope.c, signatures verify.c, the alarm alarm.c. */
#define _GNU_SOURCE
#include <pthread.h>
#include <regex.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <tocsin/plugin.h>

#include "alarm.h"
#include "common.h"
#include "envelope.h"
#include "verify.h"

/* AWS's own validators' host rule, plus the file name SNS uses. */
#define CW_DEFAULT_CERT_RULE                                                                   \
    "^https://sns\\.[a-zA-Z0-9-]{3,}\\.amazonaws\\.com(\\.cn)?/"                               \
    "SimpleNotificationService-[0-9a-f]+\\.pem$"

/* Certificates kept, by URL. SNS signs with one per region at a time and
 * rotates rarely; an evicted one is fetched again. */
#define CW_CERTS 16

struct cw_conf {
    const char *path;
    struct tocsin_strlist topics;
    const char *cert_url_allow;
    const char *ca_file;
    int64_t max_age; /* ms */
    const char *insufficient_data;
    struct tocsin_map severity;
};

static const struct tocsin_option cw_options[] = {
    { "path", TOCSIN_OPT_STRING, "/hooks/sns", 0, offsetof(struct cw_conf, path),
      "Path of the SNS HTTP/HTTPS subscription endpoint (POST)." },
    { "topics", TOCSIN_OPT_STRLIST, NULL, TOCSIN_OPT_REQUIRED, offsetof(struct cw_conf, topics),
      "TopicArns whose messages are accepted and whose subscriptions are confirmed; any "
      "other topic gets 403." },
    { "cert_url_allow", TOCSIN_OPT_STRING, CW_DEFAULT_CERT_RULE, 0,
      offsetof(struct cw_conf, cert_url_allow),
      "Extended regex a SigningCertURL (always https://) must match; the SubscribeURL must "
      "be on the same host. Default: SNS's own certificate URLs." },
    { "ca_file", TOCSIN_OPT_STRING, NULL, 0, offsetof(struct cw_conf, ca_file),
      "PEM file of CAs for fetching certificates and confirming subscriptions (default: "
      "the system's)." },
    { "max_age", TOCSIN_OPT_DURATION, "1h", 0, offsetof(struct cw_conf, max_age),
      "Refuse (401) a message whose Timestamp is further than this from now (replays); "
      "0: no limit. SNS retries keep the first Timestamp, for up to an hour with a custom "
      "delivery policy." },
    { "insufficient_data", TOCSIN_OPT_STRING, "ignore", 0,
      offsetof(struct cw_conf, insufficient_data),
      "An alarm going to INSUFFICIENT_DATA: \"ignore\", \"firing\" or \"resolve\"." },
    { "severity", TOCSIN_OPT_MAP, NULL, 0, offsetof(struct cw_conf, severity),
      "Severities by kind: alarm (default high), insufficient_data (medium; when it fires), "
      "notification (info; a message that is not an alarm)." },
    { 0 }
};

struct cw_cert {
    char *url;
    void *key;
};

struct cw_input {
    const struct tocsin_host *host;
    const struct cw_conf *conf;
    struct cw_opts opts;
    regex_t allow;
    pthread_mutex_t lock;  /* certs; held while a cached key verifies */
    pthread_mutex_t fetch; /* one fetch at a time, so each URL is fetched once */
    pthread_mutex_t order; /* an alarm's state changes: compare, store, remember */
    struct cw_cert certs[CW_CERTS];
    size_t n_certs, evict;
};

static void answer(struct tocsin_http_response *resp, int status, const char *error,
                   const char *detail)
{
    resp->status = status;
    resp->body = tc_error_json(error, detail);
}

static const char *addr_of(const struct tocsin_http_request *req)
{
    return req->remote_addr ? req->remote_addr : "?";
}

static int topic_allowed(const struct cw_input *in, const char *arn)
{
    size_t i;

    for (i = 0; i < in->conf->topics.n; i++)
        if (strcmp(in->conf->topics.items[i], arn) == 0)
            return 1;
    return 0;
}

static int cert_url_allowed(const struct cw_input *in, const char *url)
{
    return sns_https_origin_len(url) > 0 && regexec(&in->allow, url, 0, NULL, 0) == 0;
}

/* Verifies m with the cached key of url. -1 when none is cached. */
static int verify_cached(struct cw_input *in, const char *url, const struct sns_msg *m)
{
    int ok = -1;
    size_t i;

    pthread_mutex_lock(&in->lock);
    for (i = 0; i < in->n_certs; i++)
        if (strcmp(in->certs[i].url, url) == 0) {
            ok = sns_verify(in->certs[i].key, m);
            break;
        }
    pthread_mutex_unlock(&in->lock);
    return ok;
}

static void cache_put(struct cw_input *in, char *url, void *key)
{
    struct cw_cert *c;

    pthread_mutex_lock(&in->lock);
    if (in->n_certs < CW_CERTS) {
        c = &in->certs[in->n_certs++];
    } else {
        c = &in->certs[in->evict];
        in->evict = (in->evict + 1) % CW_CERTS;
        free(c->url);
        sns_key_free(c->key);
    }
    c->url = url;
    c->key = key;
    pthread_mutex_unlock(&in->lock);
}

/* GET the certificate of an allowed URL and cache its key. 0, or -1 with
 * err saying why (a transient failure: the caller answers 5xx). */
static int fetch_cert(struct cw_input *in, const char *url, char *err, size_t errlen)
{
    const struct tocsin_host *host = in->host;
    struct tocsin_http_call call;
    struct tocsin_http_result res;
    char *copy;
    void *key;
    int rc;

    memset(&call, 0, sizeof call);
    call.method = "GET";
    call.url = url;
    call.timeout_ms = 5000; /* SNS waits 15 s for the whole answer */
    call.ca_file = in->conf->ca_file;
    rc = host->http_sized(host, &call, sizeof call, &res, sizeof res);
    if (rc != TOCSIN_OK || res.status != 200) {
        if (rc != TOCSIN_OK)
            snprintf(err, errlen, "%s", res.error);
        else
            snprintf(err, errlen, "HTTP %ld", res.status);
        host->http_free(host, &res);
        return -1;
    }
    key = sns_key_from_pem(res.body, res.body_len, err, errlen);
    host->http_free(host, &res);
    if (!key)
        return -1;
    if (!(copy = strdup(url))) {
        sns_key_free(key);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    cache_put(in, copy, key);
    host->log(host, TOCSIN_LOG_INFO, "fetched the SNS signing certificate %s", url);
    return 0;
}

/* 1: the signature verifies; 0: it does not; -1: the certificate could not
 * be had (err says why). */
static int verify(struct cw_input *in, const struct sns_msg *m, char *err, size_t errlen)
{
    int ok = verify_cached(in, m->signing_cert_url, m);

    if (ok >= 0)
        return ok;
    pthread_mutex_lock(&in->fetch);
    ok = verify_cached(in, m->signing_cert_url, m); /* fetched while we waited? */
    if (ok < 0 && fetch_cert(in, m->signing_cert_url, err, errlen) == 0)
        ok = verify_cached(in, m->signing_cert_url, m);
    pthread_mutex_unlock(&in->fetch);
    return ok;
}

/* SubscriptionConfirmation of an allowed topic: GET its SubscribeURL. */
static void confirm(struct cw_input *in, const struct tocsin_http_request *req,
                    const struct sns_msg *m, struct tocsin_http_response *resp)
{
    const struct tocsin_host *host = in->host;
    size_t origin = sns_https_origin_len(m->signing_cert_url);
    struct tocsin_http_call call;
    struct tocsin_http_result res;
    int rc;

    /* The certificate's host passed cert_url_allow; SNS serves both. */
    if (sns_https_origin_len(m->subscribe_url) != origin ||
        strncasecmp(m->subscribe_url, m->signing_cert_url, origin) != 0) {
        host->log(host, TOCSIN_LOG_WARN, "refused a subscription to %s from %s: its "
                  "SubscribeURL is not on the certificate's host", m->topic_arn, addr_of(req));
        answer(resp, 403, "SubscribeURL not allowed",
               "it must be https:// on the host of SigningCertURL");
        return;
    }
    memset(&call, 0, sizeof call);
    call.method = "GET";
    call.url = m->subscribe_url; /* holds the Token: never logged */
    call.timeout_ms = 10000;
    call.ca_file = in->conf->ca_file;
    rc = host->http_sized(host, &call, sizeof call, &res, sizeof res);
    if (rc != TOCSIN_OK || res.status < 200 || res.status > 299) {
        if (rc != TOCSIN_OK)
            host->log(host, TOCSIN_LOG_WARN, "confirming the subscription to %s failed: %s",
                      m->topic_arn, res.error);
        else
            host->log(host, TOCSIN_LOG_WARN, "confirming the subscription to %s failed: "
                      "HTTP %ld", m->topic_arn, res.status);
        host->http_free(host, &res);
        /* 5xx: SNS sends the confirmation again. */
        answer(resp, 502, "confirming the subscription failed", NULL);
        return;
    }
    host->http_free(host, &res);
    host->log(host, TOCSIN_LOG_INFO, "confirmed the subscription to %s", m->topic_arn);
    resp->status = 200;
}

/* Whether an alarm's state change is older than one already stored: SNS
 * retries a failed delivery for up to an hour, so an ALARM can arrive
 * after the OK that followed it, and must not reopen the incident. The
 * last StateChangeTime per alarm is kept in the instance's state. */
static int superseded(struct cw_input *in, const struct cw_result *r, char *key, size_t keylen)
{
    const struct tocsin_host *host = in->host;
    char *seen = NULL;
    int old;

    snprintf(key, keylen, "changed:%s", r->alert.dedup_key);
    if (host->state_get(host, key, &seen) != TOCSIN_OK || !seen)
        return 0;
    old = r->changed_at < strtoll(seen, NULL, 10);
    free(seen);
    return old;
}

static void remember_change(struct cw_input *in, const struct cw_result *r, const char *key)
{
    const struct tocsin_host *host = in->host;
    char v[24];

    snprintf(v, sizeof v, "%lld", (long long)r->changed_at);
    if (host->state_put(host, key, v) != TOCSIN_OK)
        host->log(host, TOCSIN_LOG_WARN, "cannot keep the time of %s's state change",
                  r->alert.dedup_key);
}

static void notification(struct cw_input *in, const struct sns_msg *m,
                         struct tocsin_http_response *resp)
{
    const struct tocsin_host *host = in->host;
    struct cw_result r;
    char err[256] = "", key[1100];
    int ordered, rc = cw_parse(m->message, m->subject, m->topic_arn, m->message_id, &in->opts,
                               &r);

    if (rc != 0) {
        cw_result_free(&r);
        tc_emit_answer(resp, TOCSIN_ENOMEM, NULL);
        return;
    }
    if (r.kind == CW_IGNORED) {
        host->log(host, TOCSIN_LOG_DEBUG, "message %s on %s: %s", m->message_id, m->topic_arn,
                  r.why);
        cw_result_free(&r);
        resp->status = 200;
        return;
    }
    ordered = r.kind == CW_ALARM && r.changed_at > 0;
    if (ordered) {
        pthread_mutex_lock(&in->order);
        if (superseded(in, &r, key, sizeof key)) {
            pthread_mutex_unlock(&in->order);
            host->log(host, TOCSIN_LOG_DEBUG, "message %s: %s changed state since; ignored",
                      m->message_id, r.alert.dedup_key);
            cw_result_free(&r);
            resp->status = 200;
            return;
        }
    }
    rc = host->emit_sized(host, &r.alert, 1, sizeof r.alert, err, sizeof err);
    if (rc == TOCSIN_OK && ordered)
        remember_change(in, &r, key);
    if (ordered)
        pthread_mutex_unlock(&in->order);
    if (rc == TOCSIN_OK) {
        resp->status = 200;
    } else if (tc_emit_answer(resp, rc, err) < 0) {
        host->log(host, TOCSIN_LOG_WARN, "message %s on %s refused by the core: %s",
                  m->message_id, m->topic_arn, err);
        answer(resp, 400, "alert refused by the core", *err ? err : NULL);
    }
    cw_result_free(&r);
}

static int cw_handle(void *self, const struct tocsin_http_request *req,
                     struct tocsin_http_response *resp)
{
    struct cw_input *in = self;
    const struct tocsin_host *host = in->host;
    const char *htype = req->header(req, "x-amz-sns-message-type");
    const char *htopic = req->header(req, "x-amz-sns-topic-arn");
    const char *bad;
    struct sns_msg m;
    char err[256] = "";
    int64_t now, age;
    int rc;

    rc = sns_parse(req->body, req->body_len, &m);
    if (rc == TOCSIN_ENOMEM) {
        tc_emit_answer(resp, rc, NULL);
        goto out;
    }
    if (rc != 0) {
        host->log(host, TOCSIN_LOG_INFO, "refused a request from %s: %s", addr_of(req),
                  m.error);
        answer(resp, 400, "malformed SNS message", m.error);
        goto out;
    }
    /* Trust the body's Type, which is signed, and require the headers to agree. */
    bad = !htype                           ? "header x-amz-sns-message-type is missing"
          : strcmp(htype, m.type_name) != 0 ? "header x-amz-sns-message-type does not match "
                                              "\"Type\""
          : htopic && strcmp(htopic, m.topic_arn) != 0
              ? "header x-amz-sns-topic-arn does not match \"TopicArn\""
              : NULL;
    if (bad) {
        host->log(host, TOCSIN_LOG_INFO, "refused a request from %s: %s", addr_of(req), bad);
        answer(resp, 400, "malformed SNS message", bad);
        goto out;
    }
    if (!topic_allowed(in, m.topic_arn)) {
        host->log(host, TOCSIN_LOG_WARN, "refused a%s %s from %s: topic %.*s is not in topics",
                  m.type == SNS_UNSUBSCRIBE_CONFIRMATION ? "n" : "", m.type_name, addr_of(req),
                  tc_utf8_clip(m.topic_arn, 200), m.topic_arn);
        answer(resp, 403, "topic not allowed", NULL);
        goto out;
    }
    if (!cert_url_allowed(in, m.signing_cert_url)) {
        host->log(host, TOCSIN_LOG_WARN, "refused a %s from %s: SigningCertURL %.*s does not "
                  "match cert_url_allow", m.type_name, addr_of(req),
                  tc_utf8_clip(m.signing_cert_url, 200), m.signing_cert_url);
        answer(resp, 403, "SigningCertURL not allowed", NULL);
        goto out;
    }
    rc = verify(in, &m, err, sizeof err);
    if (rc < 0) {
        host->log(host, TOCSIN_LOG_WARN, "cannot fetch the signing certificate %s: %s",
                  m.signing_cert_url, err);
        answer(resp, 502, "cannot fetch the signing certificate", NULL);
        goto out;
    }
    if (rc == 0) {
        host->log(host, TOCSIN_LOG_WARN, "refused a %s from %s: invalid signature",
                  m.type_name, addr_of(req));
        answer(resp, 401, "invalid signature", NULL);
        goto out;
    }
    now = host->now_ms(host);
    age = now - m.timestamp_ms;
    if (in->conf->max_age > 0 && (age > in->conf->max_age || -age > in->conf->max_age)) {
        host->log(host, TOCSIN_LOG_WARN, "refused a %s from %s: its Timestamp %s is more "
                  "than max_age from now", m.type_name, addr_of(req), m.timestamp);
        answer(resp, 401, "stale message", "Timestamp is outside max_age");
        goto out;
    }
    switch (m.type) {
    case SNS_SUBSCRIPTION_CONFIRMATION:
        confirm(in, req, &m, resp);
        break;
    case SNS_UNSUBSCRIBE_CONFIRMATION:
        host->log(host, TOCSIN_LOG_INFO, "unsubscribed from %s", m.topic_arn);
        resp->status = 200;
        break;
    case SNS_NOTIFICATION:
        notification(in, &m, resp);
        break;
    }
out:
    sns_msg_free(&m);
    return TOCSIN_OK;
}

/* The severity map: only the kinds this input knows. Each bad entry is
 * reported (--check-config lists them all); TOCSIN_ERROR if any. */
static int read_severities(const struct tocsin_host *host, const struct tocsin_map *map,
                           struct cw_opts *o)
{
    int rc = TOCSIN_OK;
    size_t i;

    o->sev_alarm = TOCSIN_SEV_HIGH;
    o->sev_insufficient = TOCSIN_SEV_MEDIUM;
    o->sev_notification = TOCSIN_SEV_INFO;
    for (i = 0; i < map->n; i++) {
        const char *k = map->items[i].key, *v = map->items[i].value;
        enum tocsin_severity *to = strcmp(k, "alarm") == 0               ? &o->sev_alarm
                                   : strcmp(k, "insufficient_data") == 0 ? &o->sev_insufficient
                                   : strcmp(k, "notification") == 0     ? &o->sev_notification
                                                                          : NULL;

        if (!to)
            rc = host->fail(host, "severity: unknown kind \"%s\" (alarm, insufficient_data, "
                            "notification)", k);
        else if (tc_severity_parse(v, to) < 0)
            rc = host->fail(host, "severity.%s: \"%s\" is not a severity (critical, high, "
                            "medium, low, info)", k, v);
    }
    return rc;
}

/* The options beyond their types, every problem reported. */
static int check_conf(const struct tocsin_host *host, const struct cw_conf *cf,
                      struct cw_opts *o)
{
    int rc = TOCSIN_OK;
    size_t i;

    if (!cf->path || cf->path[0] != '/')
        rc = host->fail(host, "path must start with '/', not \"%s\"", cf->path ? cf->path : "");
    if (cf->topics.n == 0)
        rc = host->fail(host, "topics must list at least one TopicArn");
    for (i = 0; i < cf->topics.n; i++)
        if (strncmp(cf->topics.items[i], "arn:", 4) != 0)
            rc = host->fail(host, "topics: \"%s\" is not a TopicArn (arn:aws:sns:REGION:"
                            "ACCOUNT:NAME)", cf->topics.items[i]);
    if (cf->max_age < 0)
        rc = host->fail(host, "max_age must not be negative");
    if (strcmp(cf->insufficient_data, "ignore") == 0)
        o->insufficient = CW_INSUF_IGNORE;
    else if (strcmp(cf->insufficient_data, "firing") == 0)
        o->insufficient = CW_INSUF_FIRING;
    else if (strcmp(cf->insufficient_data, "resolve") == 0)
        o->insufficient = CW_INSUF_RESOLVE;
    else
        rc = host->fail(host, "insufficient_data must be \"ignore\", \"firing\" or "
                        "\"resolve\", not \"%s\"", cf->insufficient_data);
    if (read_severities(host, &cf->severity, o) != TOCSIN_OK)
        rc = TOCSIN_ERROR;
    return rc;
}

static void cw_destroy(void *self)
{
    struct cw_input *in = self;
    size_t i;

    for (i = 0; i < in->n_certs; i++) {
        free(in->certs[i].url);
        sns_key_free(in->certs[i].key);
    }
    regfree(&in->allow);
    pthread_mutex_destroy(&in->lock);
    pthread_mutex_destroy(&in->fetch);
    pthread_mutex_destroy(&in->order);
    free(in);
}

static int cw_create(const struct tocsin_host *host, const void *conf, void **self)
{
    const struct cw_conf *cf = conf;
    struct cw_input *in;
    char msg[160];
    int rc;

    if (!TOCSIN_HOST_HAS(host, route_self_auth) || !TOCSIN_HOST_HAS(host, http_sized) ||
        !TOCSIN_HOST_HAS(host, emit_sized))
        return host->fail(host, "needs tocsin ABI 1.1 (host has %u.%u)",
                          (unsigned)host->abi_major, (unsigned)host->abi_minor);
    if (!(in = calloc(1, sizeof *in)))
        return TOCSIN_ENOMEM;
    in->host = host;
    in->conf = cf;
    if (check_conf(host, cf, &in->opts) != TOCSIN_OK) {
        free(in);
        return TOCSIN_ERROR;
    }
    rc = regcomp(&in->allow, cf->cert_url_allow, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        regerror(rc, &in->allow, msg, sizeof msg);
        free(in);
        return host->fail(host, "cert_url_allow: %s", msg);
    }
    pthread_mutex_init(&in->lock, NULL);
    pthread_mutex_init(&in->fetch, NULL);
    pthread_mutex_init(&in->order, NULL);
    rc = host->route_self_auth(host, "POST", cf->path, cw_handle, in);
    if (rc != TOCSIN_OK) {
        cw_destroy(in);
        return rc;
    }
    *self = in;
    return TOCSIN_OK;
}

const struct tocsin_plugin tocsin_plugin = {
    TOCSIN_PLUGIN_HEADER,
    .kind = TOCSIN_INPUT,
    .name = "cloudwatch",
    .version = "1.0.0",
    .description = "CloudWatch alarms through an SNS HTTP/HTTPS subscription (signed, "
                   "confirmed)",
    .options = cw_options,
    .conf_size = sizeof(struct cw_conf),
    .create = cw_create,
    .destroy = cw_destroy,
};
