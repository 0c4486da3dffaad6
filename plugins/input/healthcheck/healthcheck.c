/* healthcheck.c: the `healthcheck` input, active probes: one instance per
 * target, an HTTP(S) request (url) or a TCP connect (tcp) every interval;
 * `failures` failures in a row fire "<target>: <what failed>", `successes`
 * successes in a row resolve it. Probes block on the instance's own timer
 * thread (the core gives every instance its own: core/timers.c), so a slow
 * target delays only its own next probe, never another instance's. The
 * verdicts live in judge.c, the probes in probe.c; this file holds the
 * descriptor, the options, the timer, the alerts and the stored state. */
#define _GNU_SOURCE
#include <ctype.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <tocsin/plugin.h>

#include "common.h"
#include "judge.h"
#include "probe.h"

struct hc_conf {
    const char *url, *tcp, *method;
    int64_t interval, timeout;
    const char *expect_status, *body_contains;
    int64_t max_latency, failures, successes;
    struct tocsin_map headers;
    const char *severity;
};

static const struct tocsin_option hc_options[] = {
    { "url", TOCSIN_OPT_STRING, NULL, 0, offsetof(struct hc_conf, url),
      "The http:// or https:// URL to request (or tcp)." },
    { "tcp", TOCSIN_OPT_STRING, NULL, 0, offsetof(struct hc_conf, tcp),
      "host:port to connect to (or url)." },
    { "method", TOCSIN_OPT_STRING, "GET", 0, offsetof(struct hc_conf, method),
      "GET or HEAD." },
    { "interval", TOCSIN_OPT_DURATION, "60s", 0, offsetof(struct hc_conf, interval),
      "Time between probes." },
    { "timeout", TOCSIN_OPT_DURATION, "5s", 0, offsetof(struct hc_conf, timeout),
      "A probe with no answer (or connection) within this fails." },
    { "expect_status", TOCSIN_OPT_STRING, "200-399", 0,
      offsetof(struct hc_conf, expect_status),
      "Healthy statuses: \"200-399\", \"200,204\"..." },
    { "body_contains", TOCSIN_OPT_STRING, NULL, 0, offsetof(struct hc_conf, body_contains),
      "The answer must contain this text." },
    { "max_latency", TOCSIN_OPT_DURATION, "0", 0, offsetof(struct hc_conf, max_latency),
      "A slower answer fails (\"1.8 s > 1 s\"); 0: not checked." },
    { "failures", TOCSIN_OPT_INT, "2", 0, offsetof(struct hc_conf, failures),
      "Failed probes in a row before the alert fires." },
    { "successes", TOCSIN_OPT_INT, "1", 0, offsetof(struct hc_conf, successes),
      "Healthy probes in a row before it resolves." },
    { "headers", TOCSIN_OPT_MAP, NULL, 0, offsetof(struct hc_conf, headers),
      "Request headers: { Authorization = \"env:HEALTH_TOKEN\"; }." },
    { "severity", TOCSIN_OPT_STRING, "high", 0, offsetof(struct hc_conf, severity),
      "Severity of the alert (critical, high, medium, low, info)." },
    { 0 }
};

struct hc {
    const struct tocsin_host *host;
    const struct hc_conf *conf;
    char method[8];
    struct hc_status_set statuses;
    struct hc_expect expect;
    enum tocsin_severity severity;
    char display[512];        /* the URL without secrets, or host:port */
    char key[300];
    char tcp_host[256], tcp_port[8];
    char **headers;           /* "Name: value", NULL-terminated */
    /* Touched only by the probe callback (and start(), before it runs). */
    struct hc_track track;
    int64_t since;            /* first failure of the current run of them */
    char fired_what[160];     /* what the firing alert said */
};

static void save(struct hc *hc)
{
    char text[256];

    if (hc->track.firing)
        snprintf(text, sizeof text, "1 %" PRId64 " %s", hc->since, hc->fired_what);
    else
        snprintf(text, sizeof text, "0");
    if (hc->host->state_put(hc->host, "state", text) != TOCSIN_OK)
        hc->host->log(hc->host, TOCSIN_LOG_ERROR, "cannot store whether %s fires: after a "
                      "restart its alert may not resolve", hc->display);
}

static void load(struct hc *hc)
{
    char *text = NULL;
    long long since;
    int used = 0;

    if (hc->host->state_get(hc->host, "state", &text) == TOCSIN_OK && text &&
        sscanf(text, "1 %lld %n", &since, &used) == 1 && used > 0) {
        hc->track.firing = 1;
        hc->since = since;
        snprintf(hc->fired_what, sizeof hc->fired_what, "%s", text + used);
    }
    free(text);
}

static int emit(struct hc *hc, int firing, const char *what, const struct hc_outcome *o,
                char *err, size_t errlen)
{
    struct tocsin_kv labels[] = { { "healthcheck", hc->host->instance_id },
                                  { "target", hc->display } };
    struct tocsin_kv links[] = { { "generator", hc->display } };
    char summary[800], details[1200], at[40], took[32], tmo[32];
    struct tocsin_alert a;

    memset(&a, 0, sizeof a);
    a.dedup_key = hc->key;
    a.status = firing ? TOCSIN_FIRING : TOCSIN_RESOLVED;
    a.severity = hc->severity;
    a.summary = summary;
    a.details = details;
    a.labels = labels;
    a.n_labels = 2;
    a.links = links;
    a.n_links = hc->conf->url ? 1 : 0;
    a.started_at = hc->since;
    hc_fmt_secs(o->latency_ms, took, sizeof took);
    hc_fmt_secs(hc->conf->timeout, tmo, sizeof tmo);
    if (firing) {
        snprintf(summary, sizeof summary, "%s: %s", hc->display, what);
        snprintf(details, sizeof details, "%d failed probe%s in a row since %s; the last: %s "
                 "(%s%s%s, timeout %s%s%s).", hc->track.fails, hc->track.fails == 1 ? "" : "s",
                 tc_time_format(hc->since, at, sizeof at), what,
                 hc->conf->url ? hc->method : "TCP connect to", " ", hc->display, tmo,
                 hc->conf->url ? ", expect_status " : "",
                 hc->conf->url ? hc->conf->expect_status : "");
    } else {
        a.ended_at = hc->host->now_ms(hc->host);
        snprintf(summary, sizeof summary, "%s: healthy again", hc->display);
        if (o->status)
            snprintf(details, sizeof details, "Status %ld in %s.", o->status, took);
        else
            snprintf(details, sizeof details, "Connected in %s.", took);
    }
    return hc->host->emit_sized(hc->host, &a, 1, sizeof a, err, errlen);
}

static void probe(void *self)
{
    struct hc *hc = self;
    const struct tocsin_host *host = hc->host;
    struct tocsin_http_result res;
    struct hc_outcome o;
    enum hc_change change;
    char what[160], took[32], err[256] = "", tcp_err[200];
    int healthy, rc = TOCSIN_OK, firing;

    memset(&res, 0, sizeof res);
    if (hc->conf->url)
        hc_probe_http(host, hc->method, hc->conf->url, (const char *const *)hc->headers,
                      hc->conf->timeout, &res, &o);
    else
        hc_probe_tcp(hc->tcp_host, hc->tcp_port, hc->conf->timeout, &o, tcp_err,
                     sizeof tcp_err);
    healthy = hc_judge(&o, &hc->expect, what, sizeof what);
    hc_fmt_secs(o.latency_ms, took, sizeof took);
    host->log(host, TOCSIN_LOG_DEBUG, "%s: %s (%s)", hc->display, what, took);
    if (!healthy && hc->track.fails == 0 && !hc->track.firing)
        hc->since = host->now_ms(host);
    change = hc_track_step(&hc->track, healthy, (int)hc->conf->failures,
                           (int)hc->conf->successes);
    /* While it fires, a new kind of failure updates the alert. */
    if (change == HC_SAME && hc->track.firing && !healthy && strcmp(what, hc->fired_what) != 0)
        change = HC_FIRE;
    if (change != HC_SAME) {
        firing = change == HC_FIRE;
        rc = emit(hc, firing, what, &o, err, sizeof err);
        if (rc == TOCSIN_OK) {
            if (firing && !hc->track.firing)
                host->log(host, TOCSIN_LOG_INFO, "%s: %s, %d probes in a row: firing",
                          hc->display, what, hc->track.fails);
            else if (!firing)
                host->log(host, TOCSIN_LOG_INFO, "%s: healthy again", hc->display);
            hc->track.firing = firing;
            snprintf(hc->fired_what, sizeof hc->fired_what, "%s", firing ? what : "");
            save(hc);
        } else {
            host->log(host, TOCSIN_LOG_WARN, "%s: the core did not take the alert (%d%s%s); "
                      "trying again after the next probe", hc->display, rc, *err ? ": " : "",
                      err);
        }
    }
    host->http_free(host, &res);
}

static void free_headers(char **h)
{
    size_t i;

    for (i = 0; h && h[i]; i++)
        free(h[i]);
    free(h);
}

/* "Name: value" lines from the headers map; -1 when one cannot be a header. */
static int make_headers(const struct tocsin_host *host, const struct tocsin_map *m, char ***out)
{
    char **h = calloc(m->n + 1, sizeof *h);
    size_t i;

    if (!h)
        return TOCSIN_ENOMEM;
    for (i = 0; i < m->n; i++) {
        const char *k = m->items[i].key, *v = m->items[i].value ? m->items[i].value : "";

        if (!*k || strpbrk(k, ": \t\r\n") || strpbrk(v, "\r\n")) {
            free_headers(h);
            return host->fail(host, "headers: \"%.60s\" is not a header name with a one-line "
                              "value", k);
        }
        if (asprintf(&h[i], "%s: %s", k, v) < 0) {
            h[i] = NULL;
            free_headers(h);
            return TOCSIN_ENOMEM;
        }
    }
    *out = h;
    return TOCSIN_OK;
}

static void hc_destroy(void *self)
{
    struct hc *hc = self;

    if (!hc)
        return;
    free_headers(hc->headers);
    free(hc);
}

static int check_conf(const struct tocsin_host *host, const struct hc_conf *cf)
{
    if (!TOCSIN_HOST_HAS(host, http_sized) || !TOCSIN_HOST_HAS(host, emit_sized))
        return host->fail(host, "needs tocsin ABI 1.1 (host has %u.%u)", host->abi_major,
                          host->abi_minor);
    if (!cf->url == !cf->tcp)
        return host->fail(host, "set one of url (an HTTP check) or tcp (a TCP connect)");
    if (cf->url && strncasecmp(cf->url, "http://", 7) != 0 &&
        strncasecmp(cf->url, "https://", 8) != 0)
        return host->fail(host, "url must start with http:// or https://");
    if (cf->tcp && (cf->body_contains || cf->headers.n))
        return host->fail(host, "%s is for url checks, not tcp",
                          cf->body_contains ? "body_contains" : "headers");
    if (strcasecmp(cf->method, "GET") != 0 && strcasecmp(cf->method, "HEAD") != 0)
        return host->fail(host, "method \"%.20s\": GET or HEAD", cf->method);
    if (cf->interval <= 0 || cf->timeout <= 0)
        return host->fail(host, "%s must be more than 0", cf->interval <= 0 ? "interval"
                                                                              : "timeout");
    if (cf->timeout > cf->interval)
        return host->fail(host, "timeout must not be longer than interval");
    if (cf->max_latency < 0)
        return host->fail(host, "max_latency must not be negative");
    if (cf->failures < 1 || cf->failures > 1000 || cf->successes < 1 || cf->successes > 1000)
        return host->fail(host, "%s must be 1 to 1000",
                          cf->failures < 1 || cf->failures > 1000 ? "failures" : "successes");
    if (cf->body_contains && !*cf->body_contains)
        return host->fail(host, "body_contains is empty");
    return TOCSIN_OK;
}

static int hc_create(const struct tocsin_host *host, const void *conf, void **self)
{
    const struct hc_conf *cf = conf;
    char err[256];
    struct hc *hc;
    int rc = check_conf(host, cf);
    size_t i;

    if (rc != TOCSIN_OK)
        return rc;
    if (!(hc = calloc(1, sizeof *hc)))
        return TOCSIN_ENOMEM;
    hc->host = host;
    hc->conf = cf;
    for (i = 0; cf->method[i] && i < sizeof hc->method - 1; i++)
        hc->method[i] = (char)toupper((unsigned char)cf->method[i]);
    if (cf->url && hc_status_parse(cf->expect_status, &hc->statuses, err, sizeof err) < 0)
        rc = host->fail(host, "%s", err);
    else if (tc_severity_parse(cf->severity, &hc->severity) < 0)
        rc = host->fail(host, "severity \"%s\": use critical, high, medium, low or info",
                        cf->severity);
    else if (cf->tcp && hc_split_hostport(cf->tcp, hc->tcp_host, sizeof hc->tcp_host,
                                          hc->tcp_port, sizeof hc->tcp_port) < 0)
        rc = host->fail(host, "tcp \"%.80s\": use host:port or [v6 address]:port", cf->tcp);
    else if (cf->url)
        rc = make_headers(host, &cf->headers, &hc->headers);
    if (rc != TOCSIN_OK) {
        hc_destroy(hc);
        return rc;
    }
    hc->expect.statuses = cf->url ? &hc->statuses : NULL;
    hc->expect.body_contains = cf->body_contains;
    hc->expect.max_latency_ms = cf->max_latency;
    hc->expect.timeout_ms = cf->timeout;
    if (cf->url)
        hc_display_url(cf->url, hc->display, sizeof hc->display);
    else
        snprintf(hc->display, sizeof hc->display, "%s", cf->tcp);
    snprintf(hc->key, sizeof hc->key, "healthcheck/%s", host->instance_id);
    *self = hc;
    return TOCSIN_OK;
}

static int hc_start(void *self)
{
    struct hc *hc = self;

    load(hc);
    /* The first probe at once, then every interval. */
    if (hc->host->timer_add(hc->host, 0, hc->conf->interval, probe, hc) <= 0)
        return hc->host->fail(hc->host, "cannot add the probe's timer");
    return TOCSIN_OK;
}

const struct tocsin_plugin tocsin_plugin = {
    TOCSIN_PLUGIN_HEADER,
    .kind = TOCSIN_INPUT,
    .name = "healthcheck",
    .version = "1.0.0",
    .description = "Active probes: an HTTP(S) request or a TCP connect every interval",
    .options = hc_options,
    .conf_size = sizeof(struct hc_conf),
    .create = hc_create,
    .start = hc_start,
    .destroy = hc_destroy,
};
