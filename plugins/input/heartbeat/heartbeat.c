/* heartbeat.c: the `heartbeat` input, a dead man's switch (like
 * healthchecks.io): a job pings /hooks/heartbeat/<name> when it ran;
 * /fail fires at once, /start times a run (max_runtime); no ping within
 * interval + grace fires "<name> missed its heartbeat" and the next ping
 * resolves it. The state machine lives in state.c; this file holds the
 * descriptor, the options, the routes, the timer and the stored state. */
#define _GNU_SOURCE
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tocsin/plugin.h>

#include "common.h"
#include "state.h"

#define HB_PREFIX "/hooks/heartbeat/"
#define HB_NAME_MAX 100
#define HB_RETRY_MS 5000   /* an emit the core refused (busy) is tried again this soon */
#define HB_DETAILS_MAX 2000 /* of a /fail body, kept in the alert's details */

struct hb_conf {
    const char *name;
    int64_t interval, grace, max_runtime;
    const char *severity;
    const char *token;
};

static const struct tocsin_option hb_options[] = {
    { "name", TOCSIN_OPT_STRING, NULL, 0, offsetof(struct hb_conf, name),
      "The job's name, in its URL /hooks/heartbeat/<name> (letters, digits, '.', '_', '-'); "
      "default: the instance id." },
    { "interval", TOCSIN_OPT_DURATION, NULL, TOCSIN_OPT_REQUIRED,
      offsetof(struct hb_conf, interval), "How often the job pings." },
    { "grace", TOCSIN_OPT_DURATION, "5m", 0, offsetof(struct hb_conf, grace),
      "How late a ping may be before \"<name> missed its heartbeat\" fires." },
    { "max_runtime", TOCSIN_OPT_DURATION, "0", 0, offsetof(struct hb_conf, max_runtime),
      "A run begun with /start fires when no ping follows within this; 0: not timed." },
    { "severity", TOCSIN_OPT_STRING, "high", 0, offsetof(struct hb_conf, severity),
      "Severity of the job's alert (critical, high, medium, low, info)." },
    { "token", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_SECRET, offsetof(struct hb_conf, token),
      "Requests must carry it as ?token= or an X-Heartbeat-Token header (then the input's "
      "bearer_token and daemon.auth are not asked); without it they need those." },
    { 0 }
};

struct hb {
    const struct tocsin_host *host;
    const struct hb_conf *conf;
    const char *name;
    struct hb_timing timing;
    enum tocsin_severity severity;
    unsigned char token_digest[SHA256_DIGEST_LENGTH];
    char key[HB_NAME_MAX + 16];          /* the dedup key */
    char path[3][sizeof HB_PREFIX + HB_NAME_MAX + 8]; /* ping, fail, start */
    /* Guards what follows. Held across host->emit(), so a ping's resolve
     * and a deadline's firing reach the core in the order they happened. */
    pthread_mutex_t lock;
    struct hb_state st;
    int64_t armed; /* due time of the earliest timer pending; INT64_MAX: none */
};

/* "1h", "5m", "90s", "250ms": a duration as the config would write it. */
static void fmt_duration(int64_t ms, char *buf, size_t len)
{
    if (ms > 0 && ms % 3600000 == 0)
        snprintf(buf, len, "%lldh", (long long)(ms / 3600000));
    else if (ms > 0 && ms % 60000 == 0)
        snprintf(buf, len, "%lldm", (long long)(ms / 60000));
    else if (ms % 1000 == 0)
        snprintf(buf, len, "%llds", (long long)(ms / 1000));
    else
        snprintf(buf, len, "%lldms", (long long)ms);
}

static int save(struct hb *hb)
{
    char text[128];
    int rc;

    hb_state_format(&hb->st, text, sizeof text);
    rc = hb->host->state_put(hb->host, "state", text);
    if (rc != TOCSIN_OK)
        hb->host->log(hb->host, TOCSIN_LOG_ERROR, "cannot store the heartbeat's state (%d): "
                      "after a restart its deadlines may be off", rc);
    return rc;
}

static void check(void *self);

/* A timer at due unless an earlier one is pending (each callback looks
 * at the state afresh, so a stale one only costs a wake-up). Lock held. */
static void arm(struct hb *hb, int64_t due)
{
    int64_t now = hb->host->now_ms(hb->host);

    if (due <= 0 || due >= hb->armed)
        return;
    if (hb->host->timer_add(hb->host, due > now ? due - now : 0, 0, check, hb) > 0)
        hb->armed = due;
    else
        hb->host->log(hb->host, TOCSIN_LOG_ERROR, "cannot add a timer: deadlines not watched");
}

/* One alert of the job: firing for why, or resolved (HB_UP). Lock held. */
static int emit(struct hb *hb, enum hb_why why, int64_t at, const char *body, size_t body_len,
                char *err, size_t errlen)
{
    struct tocsin_kv labels[] = { { "heartbeat", hb->name }, { "reason", hb_why_name(why) } };
    struct tocsin_alert a;
    char summary[HB_NAME_MAX + 80], details[HB_DETAILS_MAX + 400], t1[40], t2[40], d1[32],
        d2[32];

    memset(&a, 0, sizeof a);
    a.dedup_key = hb->key;
    a.severity = hb->severity;
    a.labels = labels;
    a.n_labels = 2;
    a.summary = summary;
    a.details = details;
    a.started_at = at;
    details[0] = '\0';
    switch (why) {
    case HB_UP:
        a.status = TOCSIN_RESOLVED;
        a.ended_at = at;
        a.started_at = hb->st.fired_at;
        snprintf(summary, sizeof summary, "%s sent its heartbeat", hb->name);
        snprintf(details, sizeof details, "Pinged at %s.", tc_time_format(at, t1, sizeof t1));
        break;
    case HB_MISSED:
        fmt_duration(hb->timing.interval, d1, sizeof d1);
        fmt_duration(hb->timing.grace, d2, sizeof d2);
        snprintf(summary, sizeof summary, "%s missed its heartbeat", hb->name);
        snprintf(details, sizeof details, "No ping since %s; expected every %s (grace %s), "
                 "by %s.", tc_time_format(hb->st.last_ping, t1, sizeof t1), d1, d2,
                 tc_time_format(at, t2, sizeof t2));
        break;
    case HB_OVERRUN:
        fmt_duration(hb->timing.max_runtime, d1, sizeof d1);
        snprintf(summary, sizeof summary, "%s ran longer than %s", hb->name, d1);
        snprintf(details, sizeof details, "Started at %s; no ping within max_runtime %s.",
                 tc_time_format(hb->st.run_started, t1, sizeof t1), d1);
        break;
    case HB_FAILED:
        snprintf(summary, sizeof summary, "%s reported a failure", hb->name);
        if (body_len > 0) {
            /* What the job sent (its output, say), cut at a whole character. */
            int n = tc_utf8_clip(body, body_len > HB_DETAILS_MAX ? HB_DETAILS_MAX
                                                                 : (int)body_len);

            snprintf(details, sizeof details, "%.*s%s", n, body,
                     (size_t)n < body_len ? "…" : "");
        } else {
            snprintf(details, sizeof details, "The job called /fail at %s.",
                     tc_time_format(at, t1, sizeof t1));
        }
        break;
    }
    if (TOCSIN_HOST_HAS(hb->host, emit_sized))
        return hb->host->emit_sized(hb->host, &a, 1, sizeof a, err, errlen);
    return hb->host->emit(hb->host, &a, 1, err, errlen);
}

/* The timer: fire what fell due (once), then wait for the next deadline. */
static void check(void *self)
{
    struct hb *hb = self;
    const struct tocsin_host *host = hb->host;
    char err[256] = "";
    enum hb_why why;
    int64_t at = 0, now;
    int rc;

    pthread_mutex_lock(&hb->lock);
    hb->armed = INT64_MAX;
    now = host->now_ms(host);
    why = hb_due(&hb->st, &hb->timing, now, &at);
    if (why != HB_UP) {
        rc = emit(hb, why, at, NULL, 0, err, sizeof err);
        if (rc == TOCSIN_OK) {
            hb_on_fired(&hb->st, why, at);
            save(hb);
            host->log(host, TOCSIN_LOG_INFO, "%s: %s", hb->name, why == HB_MISSED
                      ? "missed its heartbeat" : "ran longer than max_runtime");
        } else {
            host->log(host, TOCSIN_LOG_WARN, "%s %s, but the core did not take the alert "
                      "(%d%s%s): trying again", hb->name, hb_why_name(why), rc,
                      *err ? ": " : "", err);
            arm(hb, now + HB_RETRY_MS);
        }
    }
    arm(hb, hb_next_check(&hb->st, &hb->timing));
    pthread_mutex_unlock(&hb->lock);
}

/* The instance's token, if it has one, in the query or the header;
 * compared as SHA-256 digests, so in constant time whatever the lengths. */
static int authorized(const struct hb *hb, const struct tocsin_http_request *req)
{
    unsigned char got[SHA256_DIGEST_LENGTH];
    const char *t;
    int ok;

    if (!hb->conf->token)
        return 1; /* the core checked the input's credentials (host->route) */
    t = req->query(req, "token");
    if (!t)
        t = req->header(req, "X-Heartbeat-Token");
    if (!t)
        return 0;
    SHA256((const unsigned char *)t, strlen(t), got);
    ok = CRYPTO_memcmp(got, hb->token_digest, sizeof got) == 0;
    OPENSSL_cleanse(got, sizeof got);
    return ok;
}

static int refuse(const struct hb *hb, const struct tocsin_http_request *req,
                  struct tocsin_http_response *resp)
{
    hb->host->log(hb->host, TOCSIN_LOG_WARN, "refused %s %s from %s: %s token", req->method,
                  req->path, req->remote_addr ? req->remote_addr : "?",
                  req->query(req, "token") || req->header(req, "X-Heartbeat-Token")
                      ? "wrong" : "no");
    resp->status = 401;
    resp->body = tc_error_json("unauthorized", "send the heartbeat's token as ?token= or "
                               "an X-Heartbeat-Token header");
    return TOCSIN_OK;
}

/* A GET is a ping, and the core asks no Origin of a GET: a page the
 * operator opens could otherwise ping a loopback tocsind with an image
 * tag and keep a dead job quiet. Browsers mark such requests; cron jobs,
 * curl and the like send no Sec-Fetch-Site. */
static int cross_site(const struct tocsin_http_request *req)
{
    const char *site = req->header(req, "Sec-Fetch-Site");

    return site && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0;
}

enum hb_request { HB_PING, HB_FAIL, HB_START };

static int handle(struct hb *hb, enum hb_request what, const struct tocsin_http_request *req,
                  struct tocsin_http_response *resp)
{
    const struct tocsin_host *host = hb->host;
    struct hb_state next;
    char err[256] = "";
    int64_t now;
    int rc = TOCSIN_OK, change = 0;

    if (!authorized(hb, req))
        return refuse(hb, req, resp);
    if (cross_site(req)) {
        host->log(host, TOCSIN_LOG_WARN, "refused %s %s from %s: a browser's cross-site request",
                  req->method, req->path, req->remote_addr ? req->remote_addr : "?");
        resp->status = 403;
        resp->body = tc_error_json("cross-site request refused", "a web page may not ping "
                                   "a heartbeat");
        return TOCSIN_OK;
    }
    pthread_mutex_lock(&hb->lock);
    now = host->now_ms(host);
    next = hb->st;
    if (what == HB_PING)
        change = hb_on_ping(&next, now);
    else if (what == HB_FAIL)
        change = hb_on_fail(&next, now);
    else
        hb_on_start(&next, now);
    if (change)
        rc = emit(hb, next.why, now, req->body, req->body_len, err, sizeof err);
    if (rc == TOCSIN_OK) {
        hb->st = next;
        if (save(hb) != TOCSIN_OK) {
            resp->status = 500;
            resp->body = tc_error_json("cannot store the heartbeat", "try again");
        } else {
            resp->status = 200;
            resp->body = strdup("{\"ok\":true}");
        }
        arm(hb, hb_next_check(&hb->st, &hb->timing));
        if (change)
            host->log(host, TOCSIN_LOG_INFO, "%s: %s", hb->name,
                      what == HB_FAIL ? "reported a failure" : "heartbeat is back");
    }
    pthread_mutex_unlock(&hb->lock);
    if (rc != TOCSIN_OK && tc_emit_answer(resp, rc, err) < 0) {
        /* Our own alert refused: a bug of ours, not the caller's. */
        resp->status = 500;
        resp->body = tc_error_json("alert refused by the core", *err ? err : NULL);
    }
    return TOCSIN_OK;
}

static int on_ping(void *self, const struct tocsin_http_request *req,
                   struct tocsin_http_response *resp)
{
    return handle(self, HB_PING, req, resp);
}

static int on_fail(void *self, const struct tocsin_http_request *req,
                   struct tocsin_http_response *resp)
{
    return handle(self, HB_FAIL, req, resp);
}

static int on_start(void *self, const struct tocsin_http_request *req,
                    struct tocsin_http_response *resp)
{
    return handle(self, HB_START, req, resp);
}

static int valid_name(const char *s)
{
    size_t n = 0;

    for (; s[n]; n++) {
        char c = s[n];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return n > 0 && n <= HB_NAME_MAX && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

static void hb_destroy(void *self)
{
    struct hb *hb = self;

    if (!hb)
        return;
    pthread_mutex_destroy(&hb->lock);
    OPENSSL_cleanse(hb->token_digest, sizeof hb->token_digest);
    free(hb);
}

static int hb_create(const struct tocsin_host *host, const void *conf, void **self)
{
    static const tocsin_route_fn fns[3] = { on_ping, on_fail, on_start };
    static const char *const methods[2] = { "GET", "POST" };
    static const char *const suffix[3] = { "", "/fail", "/start" };
    const struct hb_conf *cf = conf;
    const char *name = cf->name ? cf->name : host->instance_id;
    struct hb *hb;
    int i, m, rc = TOCSIN_OK;

    if (cf->token && !TOCSIN_HOST_HAS(host, route_self_auth))
        return host->fail(host, "token needs tocsin ABI 1.1 (host has %u.%u)",
                          host->abi_major, host->abi_minor);
    if (!valid_name(name))
        return host->fail(host, "%s \"%.*s\": use 1 to %d letters, digits, '.', '_' or '-' "
                          "(it is part of the URL)%s", cf->name ? "name" : "the instance id",
                          tc_utf8_clip(name, 120), name, HB_NAME_MAX,
                          cf->name ? "" : "; or set name");
    if (cf->interval <= 0)
        return host->fail(host, "interval must be more than 0");
    if (cf->grace < 0 || cf->max_runtime < 0)
        return host->fail(host, "%s must not be negative", cf->grace < 0 ? "grace"
                                                                          : "max_runtime");
    if (cf->token && strlen(cf->token) < 16)
        return host->fail(host, "token: at least 16 characters (openssl rand -hex 32)");
    hb = calloc(1, sizeof *hb);
    if (!hb)
        return TOCSIN_ENOMEM;
    if (tc_severity_parse(cf->severity, &hb->severity) < 0) {
        free(hb);
        return host->fail(host, "severity \"%s\": use critical, high, medium, low or info",
                          cf->severity);
    }
    hb->host = host;
    hb->conf = cf;
    hb->name = name;
    hb->timing = (struct hb_timing){ cf->interval, cf->grace, cf->max_runtime };
    hb->armed = INT64_MAX;
    pthread_mutex_init(&hb->lock, NULL);
    snprintf(hb->key, sizeof hb->key, "heartbeat/%s", name);
    if (cf->token)
        SHA256((const unsigned char *)cf->token, strlen(cf->token), hb->token_digest);
    for (i = 0; i < 3 && rc == TOCSIN_OK; i++) {
        snprintf(hb->path[i], sizeof hb->path[i], HB_PREFIX "%s%s", name, suffix[i]);
        for (m = 0; m < 2 && rc == TOCSIN_OK; m++)
            rc = cf->token ? host->route_self_auth(host, methods[m], hb->path[i], fns[i], hb)
                           : host->route(host, methods[m], hb->path[i], fns[i], hb);
    }
    if (rc != TOCSIN_OK) {
        hb_destroy(hb);
        return rc;
    }
    *self = hb;
    return TOCSIN_OK;
}

/* The stored state, or a new one from now: a deadline missed while
 * tocsind was down fires at once, and only if it had not fired. */
static int hb_start(void *self)
{
    struct hb *hb = self;
    const struct tocsin_host *host = hb->host;
    char *text = NULL;
    int rc;

    pthread_mutex_lock(&hb->lock);
    rc = host->state_get(host, "state", &text);
    if (rc == TOCSIN_OK && text && hb_state_parse(text, &hb->st) == 0) {
        /* kept */
    } else {
        if (text)
            host->log(host, TOCSIN_LOG_WARN, "stored state unreadable; watching afresh");
        else if (rc != TOCSIN_OK)
            host->log(host, TOCSIN_LOG_WARN, "cannot read the stored state (%d); watching "
                      "afresh", rc);
        hb_state_init(&hb->st, host->now_ms(host));
        save(hb);
    }
    free(text);
    arm(hb, hb_next_check(&hb->st, &hb->timing));
    pthread_mutex_unlock(&hb->lock);
    return TOCSIN_OK;
}

const struct tocsin_plugin tocsin_plugin = {
    TOCSIN_PLUGIN_HEADER,
    .kind = TOCSIN_INPUT,
    .name = "heartbeat",
    .version = "1.0.0",
    .description = "Dead man's switch: a job pings GET/POST /hooks/heartbeat/<name>",
    .options = hb_options,
    .conf_size = sizeof(struct hb_conf),
    .create = hb_create,
    .start = hb_start,
    .destroy = hb_destroy,
};
