/* am_api.c: Alertmanager's read API (v2) in the shapes of Alertmanager
 * 0.25's OpenAPI: the open incidents' latest alerts as gettableAlerts, its
 * status and receivers, so amtool, karma and Grafana read tocsind as they
 * read an Alertmanager. Reads use pooled store connections. */
#define _GNU_SOURCE
#include <jansson.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "regex_guard.h"
#include "am_api.h"
#include "common.h"
#include "log.h"
#include "matcher.h"

/* filter= arguments one request may carry. */
#define MAX_FILTERS 64
/* endsAt of an alert that no refresh deadline ends: never, as far as a
 * client can tell. */
#define FAR_AHEAD "9999-12-31T23:59:59.999Z"
/* What GET /api/v2/status shows as the configuration: Alertmanager's is its
 * YAML; tocsind's routing lives in tocsin.conf and may hold secrets. */
#define CONFIG_ORIGINAL "# tocsind: routing, sinks and policies are in tocsin.conf\n"

/* Open incidents, in the order of the partial index on open dedup keys:
 * for Alertmanager's alerts the key is the label fingerprint, which is the
 * order Alertmanager answers in. */
#define ALERTS_SQL                                                                     \
    "SELECT id, dedup_key, alert, COALESCE(started_at, first_seen), last_seen,"        \
    " expires_at, suppressed, suppressed_by FROM incidents"                            \
    " WHERE state != 'resolved' ORDER BY dedup_key"
#define RECEIVERS_SQL "SELECT DISTINCT sink FROM outbox WHERE incident_id = ?1 ORDER BY sink"

/* Alertmanager answers a bad request with a bare JSON string. */
static int am_error(struct tocsin_http_response *resp, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int am_error(struct tocsin_http_response *resp, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    json_t *s;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    s = tc_json_string(msg);
    resp->status = status;
    resp->body = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
    json_decref(s);
    return TOCSIN_OK;
}

/* What GET /api/v2/alerts was asked. */
struct alerts_query {
    int active, silenced, inhibited, unprocessed;
    struct tc_matcher filters[MAX_FILTERS];
    size_t n_filters;
    regex_t receiver;
    int has_receiver;
};

static void query_free(struct alerts_query *q)
{
    size_t i;

    for (i = 0; i < q->n_filters; i++)
        tc_matcher_free(&q->filters[i]);
    if (q->has_receiver)
        regfree(&q->receiver);
    free(q);
}

/* A boolean argument, true when absent or empty (Alertmanager's defaults). */
static int query_bool(const struct tocsin_http_request *req, const char *name, int *out,
                      struct tocsin_http_response *resp)
{
    const char *v = req->query(req, name);

    *out = 1;
    if (!v || !*v || strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0)
        return 0;
    if (strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0) {
        *out = 0;
        return 0;
    }
    am_error(resp, 400, "query parameter %s is \"%.*s\": want true or false", name,
             tc_utf8_clip(v, 80), v);
    return -1;
}

/* The request's arguments, or NULL with resp filled (400, 500). */
static struct alerts_query *query_parse(const struct tocsin_http_request *req,
                                        struct tocsin_http_response *resp)
{
    struct alerts_query *q = calloc(1, sizeof *q);
    const char *filters[MAX_FILTERS], *receiver;
    size_t n, i;
    char err[300];

    if (!q) {
        am_error(resp, 500, "out of memory");
        return NULL;
    }
    if (query_bool(req, "active", &q->active, resp) < 0 ||
        query_bool(req, "silenced", &q->silenced, resp) < 0 ||
        query_bool(req, "inhibited", &q->inhibited, resp) < 0 ||
        query_bool(req, "unprocessed", &q->unprocessed, resp) < 0)
        goto fail;
    n = tc_http_query_all(req, "filter", filters, MAX_FILTERS);
    if (n > MAX_FILTERS) {
        am_error(resp, 400, "%zu filter parameters; at most %d", n, MAX_FILTERS);
        goto fail;
    }
    for (i = 0; i < n; i++) {
        if (tc_matcher_parse(&q->filters[i], filters[i], err, sizeof err) < 0) {
            am_error(resp, 400, "%s", err);
            goto fail;
        }
        q->n_filters++;
    }
    receiver = req->query(req, "receiver");
    if (receiver && *receiver) {
        /* Anchored, as Alertmanager compiles it: ^(?:receiver)$. */
        if (tc_regex_compile_anchored(&q->receiver, receiver, err, sizeof err) < 0) {
            am_error(resp, 400, "failed to parse receiver param: \"%.*s\": %s",
                     tc_utf8_clip(receiver, 80), receiver, err);
            goto fail;
        }
        q->has_receiver = 1;
    }
    return q;
fail:
    query_free(q);
    return NULL;
}

/* Alertmanager's fingerprint is a 16-hex hash of the label set, which the
 * alertmanager input already uses as its dedup key; other keys get a
 * stable FNV-1a 64 of themselves. */
static void fingerprint(const char *key, char out[17])
{
    uint64_t h = 14695981039346656037ULL;
    const char *p;

    if (key && strlen(key) == 16 && strspn(key, "0123456789abcdef") == 16) {
        memcpy(out, key, 17);
        return;
    }
    for (p = key; p && *p; p++) {
        h ^= (unsigned char)*p;
        h *= 1099511628211ULL;
    }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

static json_t *time_json(int64_t ms)
{
    char buf[40];

    return json_string(tc_time_format(ms, buf, sizeof buf));
}

/* The sinks incident id was routed to ([{name}], possibly empty); whether
 * one matches the receiver filter goes to *matched. */
static json_t *receivers_json(sqlite3_stmt *st, int64_t id, const struct alerts_query *q,
                              int *matched)
{
    json_t *list = json_array();

    *matched = !q->has_receiver;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, id);
    while (list && sqlite3_step(st) == SQLITE_ROW) {
        const char *sink = (const char *)sqlite3_column_text(st, 0);

        if (!sink)
            continue;
        if (q->has_receiver && regexec(&q->receiver, sink, 0, NULL, 0) == 0)
            *matched = 1;
        json_array_append_new(list, json_pack("{s:o}", "name", tc_json_string(sink)));
    }
    return list;
}

/* One open incident (a row of ALERTS_SQL) as a gettableAlert, or NULL when
 * the query filters it out (*oom set when memory ran out instead). */
static json_t *alert_json(sqlite3_stmt *row, sqlite3_stmt *sinks, const struct alerts_query *q,
                          int *oom)
{
    const char *key = (const char *)sqlite3_column_text(row, 1);
    const char *text = (const char *)sqlite3_column_text(row, 2);
    const char *suppressed = (const char *)sqlite3_column_text(row, 6);
    const char *by = (const char *)sqlite3_column_text(row, 7);
    json_t *stored = text ? json_loads(text, 0, NULL) : NULL, *o = NULL, *receivers = NULL;
    struct tc_alert ta;
    const char *generator;
    char err[200], fp[17];
    int matched;

    *oom = 0;
    if (by && !*by)
        by = NULL; /* muted by a policy that named nothing */
    memset(&ta, 0, sizeof ta);
    if (!stored || tc_alert_from_json(stored, &ta, err, sizeof err) < 0) {
        /* The core wrote it; if it ever does not parse, show the incident
         * without labels rather than hide it. */
        tc_alert_release(&ta);
        memset(&ta, 0, sizeof ta);
        ta.a.dedup_key = key;
    }
    /* Alertmanager's filters in its order: state, silences, receivers,
     * matchers. Nothing here is ever inhibited or unprocessed. */
    if ((!q->active && !suppressed) || (!q->silenced && suppressed && by) ||
        !tc_matchers_match(q->filters, q->n_filters, &ta.a))
        goto out;
    receivers = receivers_json(sinks, sqlite3_column_int64(row, 0), q, &matched);
    if (!receivers) {
        *oom = 1;
        goto out;
    }
    if (!matched)
        goto out;
    fingerprint(key, fp);
    o = json_object();
    if (!o) {
        *oom = 1;
        goto out;
    }
    json_object_set_new(o, "labels", tc_kv_to_json(ta.a.labels, ta.a.n_labels));
    json_object_set_new(o, "annotations", tc_kv_to_json(ta.a.annotations, ta.a.n_annotations));
    json_object_set_new(o, "startsAt", time_json(sqlite3_column_int64(row, 3)));
    json_object_set_new(o, "endsAt", sqlite3_column_int64(row, 5)
                                          ? time_json(sqlite3_column_int64(row, 5))
                                          : json_string(FAR_AHEAD));
    json_object_set_new(o, "updatedAt", time_json(sqlite3_column_int64(row, 4)));
    generator = tocsin_kv_get(ta.a.links, ta.a.n_links, "generator");
    if (generator && *generator)
        json_object_set_new(o, "generatorURL", tc_json_string(generator));
    json_object_set_new(o, "fingerprint", json_string(fp));
    json_object_set(o, "receivers", receivers);
    json_object_set_new(o, "status",
                        json_pack("{s:s, s:o, s:[]}", "state", suppressed ? "suppressed" : "active",
                                  "silencedBy",
                                  suppressed && by ? json_pack("[o]", tc_json_string(by))
                                                   : json_array(),
                                  "inhibitedBy"));
out:
    json_decref(receivers);
    json_decref(stored);
    tc_alert_release(&ta);
    return o;
}

/* GET /api/v2/alerts?active=&silenced=&inhibited=&unprocessed=&filter=&receiver=
 * Alertmanager's answer is one array, with no room to say it was cut: it
 * holds at most daemon.max_answer bytes (the first alert always goes), the
 * cut is logged, and the alerts come in a stable order so what is shown
 * does not jump between calls. Written as text alert by alert, so an answer
 * costs its own size and one alert. */
static int get_alerts(void *self, const struct tocsin_http_request *req,
                      struct tocsin_http_response *resp)
{
    struct tc_daemon *d = self;
    size_t max_answer = (size_t)d->cfg->daemon.max_answer, n = 0, skipped = 0;
    struct tc_text t = { 0 };
    struct alerts_query *q;
    sqlite3_stmt *rows = NULL, *sinks = NULL;
    sqlite3 *db;
    int oom = 0;

    if (!(q = query_parse(req, resp)))
        return TOCSIN_OK;
    db = tc_store_reader_get(d->store);
    if (!db || sqlite3_prepare_v2(db, ALERTS_SQL, -1, &rows, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, RECEIVERS_SQL, -1, &sinks, NULL) != SQLITE_OK) {
        sqlite3_finalize(rows);
        tc_store_reader_put(d->store, db);
        query_free(q);
        return am_error(resp, 500, "store error");
    }
    tc_text_put(&t, "[", 1);
    while (!t.failed && !oom && sqlite3_step(rows) == SQLITE_ROW) {
        json_t *o = alert_json(rows, sinks, q, &oom);
        char *one;

        if (!o)
            continue;
        one = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        if (!one) {
            oom = 1;
            break;
        }
        if (n > 0 && t.len + strlen(one) + 2 > max_answer) {
            free(one);
            skipped++;
            /* Count the rest for the log; each costs one alert at most. */
            continue;
        }
        if (n > 0)
            tc_text_put(&t, ",", 1);
        tc_text_put(&t, one, strlen(one));
        free(one);
        n++;
    }
    sqlite3_finalize(sinks);
    sqlite3_finalize(rows);
    tc_store_reader_put(d->store, db);
    query_free(q);
    tc_text_put(&t, "]", 2); /* and the NUL */
    if (t.failed || oom) {
        free(t.s);
        return am_error(resp, 500, "out of memory");
    }
    if (skipped)
        tc_warn("GET /api/v2/alerts: answered %zu alerts, left out %zu more over"
                " daemon.max_answer (%zu bytes); narrow it with filter=", n, skipped, max_answer);
    resp->status = 200;
    resp->body = t.s;
    return TOCSIN_OK;
}

/* GET /api/v2/status: no cluster, tocsind's version, no configuration
 * worth showing, and the start time as "uptime" (as Alertmanager has it). */
static int get_status(void *self, const struct tocsin_http_request *req,
                      struct tocsin_http_response *resp)
{
    struct tc_daemon *d = self;
    char started[40];
    json_t *o;

    (void)req;
    o = json_pack("{s:{s:s, s:s, s:[]}, s:{s:s, s:s, s:s, s:s, s:s, s:s}, s:{s:s}, s:s}",
                  "cluster", "name", "", "status", "disabled", "peers",
                  "versionInfo", "version", PACKAGE_VERSION, "revision", "", "branch", "",
                  "buildUser", "", "buildDate", "", "goVersion", "none",
                  "config", "original", CONFIG_ORIGINAL,
                  "uptime", tc_time_format(d->started_at, started, sizeof started));
    resp->body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!resp->body)
        return am_error(resp, 500, "out of memory");
    resp->status = 200;
    return TOCSIN_OK;
}

/* GET /api/v2/receivers: the sinks, as receivers' names. */
static int get_receivers(void *self, const struct tocsin_http_request *req,
                         struct tocsin_http_response *resp)
{
    struct tc_daemon *d = self;
    json_t *list = json_array();
    size_t i;

    (void)req;
    for (i = 0; list && i < d->cfg->n_sinks; i++)
        json_array_append_new(list, json_pack("{s:s}", "name", d->cfg->sinks[i].id));
    resp->body = list ? json_dumps(list, JSON_COMPACT) : NULL;
    json_decref(list);
    if (!resp->body)
        return am_error(resp, 500, "out of memory");
    resp->status = 200;
    return TOCSIN_OK;
}

int tc_am_api_register(struct tc_daemon *d)
{
    static const struct {
        const char *path;
        tocsin_route_fn fn;
    } routes[] = {
        { "/api/v2/alerts", get_alerts },
        { "/api/v2/status", get_status },
        { "/api/v2/receivers", get_receivers },
    };
    char err[256];
    size_t i;

    for (i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (tc_http_route(d->http, "GET", routes[i].path, routes[i].fn, d, NULL, TC_GATE_API,
                          NULL, err, sizeof err) != TOCSIN_OK) {
            tc_error("%s", err);
            return -1;
        }
    }
    return 0;
}
