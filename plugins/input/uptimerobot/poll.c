/* poll.c: the uptimerobot poller: getMonitors (API v2) page by page on the
 * instance's timer, and only the changes since the last complete poll
 * emitted. The last states are kept in the instance's durable state, so a
 * restart does not fire again; a failed poll changes nothing. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "input.h"

#define UR_PAGE 50           /* getMonitors' largest page */
#define UR_STATE "monitors"  /* the state key of the last poll */
#define UR_MAX_PAGES 1000    /* 50,000 monitors: more is a runaway pagination */

/* s form-encoded (RFC 3986 unreserved kept, the rest %XX): malloc()ed. */
static char *form_escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = malloc(3 * strlen(s) + 1), *w = out;

    for (; out && *s; s++) {
        unsigned char c = (unsigned char)*s;

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            *w++ = (char)c;
        } else {
            *w++ = '%';
            *w++ = hex[c >> 4];
            *w++ = hex[c & 15];
        }
    }
    if (out)
        *w = '\0';
    return out;
}

/* One page into *page. 0; or -1 with why filled (the poll failed) and
 * *retry_ms a wait the API asked for. */
static int fetch(struct ur_input *in, int64_t offset, struct ur_page *page, char *why,
                 size_t whylen, int64_t *retry_ms)
{
    const struct tocsin_host *host = in->host;
    const char *headers[] = { "Content-Type: application/x-www-form-urlencoded",
                              "Cache-Control: no-cache", NULL };
    struct tocsin_http_call call;
    struct tocsin_http_result res;
    char url[600], *key, *body = NULL;
    size_t base_len;
    int rc = -1;

    memset(&call, 0, sizeof call);
    memset(&res, 0, sizeof res);
    base_len = strlen(in->conf->api_url);
    while (base_len > 0 && in->conf->api_url[base_len - 1] == '/')
        base_len--; /* "https://api.uptimerobot.com/" too */
    snprintf(url, sizeof url, "%.*s/v2/getMonitors", (int)base_len, in->conf->api_url);
    key = form_escape(in->conf->api_key);
    if (!key || asprintf(&body, "api_key=%s&format=json&offset=%lld&limit=%d", key,
                         (long long)offset, UR_PAGE) < 0) {
        free(key);
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    free(key);
    call.method = "POST";
    call.url = url;
    call.headers = headers;
    call.body = body;
    call.body_len = strlen(body);
    if (host->http(host, &call, &res) != TOCSIN_OK) {
        snprintf(why, whylen, "%s", res.error[0] ? res.error : "no answer");
    } else if (res.status == 429) {
        snprintf(why, whylen, "HTTP 429 (rate limited)");
        if (res.retry_after > 0)
            *retry_ms = (int64_t)res.retry_after * 1000;
    } else if (res.status != 200) {
        snprintf(why, whylen, "HTTP %ld", res.status);
    } else if (ur_page_parse(res.body, res.body_len, page, why, whylen) == TOCSIN_OK) {
        rc = 0;
    }
    if (rc != 0) {
        ur_page_free(page);
        tc_redact(why, whylen, in->conf->api_key, "[api_key]"); /* an echo of the key */
    }
    host->http_free(host, &res);
    free(body);
    return rc;
}

/* The alert about the API itself: firing after api_failures failed
 * polls in a row, resolved by the next good one. */
static void api_alert(struct ur_input *in, int firing, const char *why)
{
    const struct tocsin_host *host = in->host;
    struct tocsin_kv labels[1] = { { "alert_type", "api" } };
    struct tocsin_alert a;
    char key[200], summary[300], err[200];

    memset(&a, 0, sizeof a);
    snprintf(key, sizeof key, "uptimerobot:%s:api", host->instance_id);
    snprintf(summary, sizeof summary, "UptimeRobot API unreachable%s%.200s",
             firing ? ": " : "", firing ? why : "");
    a.dedup_key = key;
    a.summary = summary;
    a.status = firing ? TOCSIN_FIRING : TOCSIN_RESOLVED;
    a.severity = ur_severity(in->rules.severity, "api");
    a.labels = labels;
    a.n_labels = 1;
    if (host->emit(host, &a, 1, err, sizeof err) == TOCSIN_OK)
        in->api_alert = firing;
    else
        host->log(host, TOCSIN_LOG_WARN, "could not store the API alert: %s", err);
}

static void failed(struct ur_input *in, const char *why, int64_t retry_ms)
{
    const struct tocsin_host *host = in->host;
    int64_t now = host->now_ms(host);

    in->failures++;
    host->log(host, TOCSIN_LOG_WARN, "getMonitors failed (%lld in a row): %s; next try in %lld s",
              (long long)in->failures, why,
              (long long)((retry_ms > in->conf->interval ? retry_ms : in->conf->interval) / 1000));
    if (retry_ms > 0 && now + retry_ms - 1000 > in->not_before)
        in->not_before = now + retry_ms - 1000;
    if (in->conf->api_failures > 0 && in->failures >= in->conf->api_failures && !in->api_alert)
        api_alert(in, 1, why);
}

/* Emit the changes, then keep the new state: a failed emit leaves the old
 * one, so the next poll finds the same changes again. */
static void apply(struct ur_input *in, json_t *prev, json_t *monitors)
{
    const struct tocsin_host *host = in->host;
    struct ur_changes c;
    struct tocsin_alert *alerts = NULL;
    char err[256] = "", *text;
    size_t i;
    int rc;

    if (ur_diff(prev, monitors, &in->rules, &c) != TOCSIN_OK) {
        host->log(host, TOCSIN_LOG_ERROR, "out of memory comparing monitors");
        ur_changes_free(&c);
        return;
    }
    if (c.n > 0) {
        if (!(alerts = calloc(c.n, sizeof *alerts))) {
            ur_changes_free(&c);
            return;
        }
        for (i = 0; i < c.n; i++)
            alerts[i] = c.alerts[i].alert;
        rc = host->emit(host, alerts, c.n, err, sizeof err);
        free(alerts);
        if (rc != TOCSIN_OK) {
            host->log(host, TOCSIN_LOG_WARN, "could not store %zu monitor changes (%s): "
                      "tried again next poll", c.n, err[0] ? err : "core busy");
            ur_changes_free(&c);
            return;
        }
        host->log(host, TOCSIN_LOG_INFO, "%zu monitor changes", c.n);
    }
    text = json_dumps(c.next, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text || host->state_put(host, UR_STATE, text) != TOCSIN_OK)
        host->log(host, TOCSIN_LOG_ERROR, "could not keep the monitors' states");
    free(text);
    ur_changes_free(&c);
}

void ur_poll(void *self)
{
    struct ur_input *in = self;
    const struct tocsin_host *host = in->host;
    int64_t start = host->now_ms(host), offset = 0, retry_ms = 0, spacing;
    json_t *all = json_array(), *prev = NULL;
    char why[300] = "", *saved = NULL;
    int pages = 0;

    if (start < in->not_before || !all) {
        json_decref(all);
        return;
    }
    for (;;) {
        struct ur_page page;
        size_t n;

        if (fetch(in, offset, &page, why, sizeof why, &retry_ms) != 0)
            break;
        pages++;
        n = json_array_size(page.monitors);
        json_array_extend(all, page.monitors);
        ur_page_free(&page);
        offset += (int64_t)n;
        if (n == 0 || offset >= page.total || pages >= UR_MAX_PAGES) {
            why[0] = '\0';
            break;
        }
    }
    /* Never faster than the plan allows: each request took a slot of
     * 60 s / rate_limit; ticks before they are used up are skipped (a
     * second of slack for the timer's own jitter). */
    spacing = 60000 / in->conf->rate_limit;
    if (start + (pages + (why[0] != 0)) * spacing - 1000 > in->not_before)
        in->not_before = start + (pages + (why[0] != 0)) * spacing - 1000;
    if (why[0]) {
        failed(in, why, retry_ms);
        json_decref(all);
        return;
    }
    if (in->api_alert)
        api_alert(in, 0, NULL);
    in->failures = 0;
    if (host->state_get(host, UR_STATE, &saved) == TOCSIN_OK && saved)
        prev = json_loads(saved, 0, NULL);
    free(saved);
    apply(in, json_is_object(prev) ? prev : NULL, all);
    json_decref(prev);
    json_decref(all);
}
