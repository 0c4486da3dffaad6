/* api.c: the core's HTTP API: incidents (list, one with its timeline,
 * acknowledge, resolve), /healthz, /readyz and /metrics. Reads use pooled
 * store connections; changes go through the writer thread. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "am_api.h"
#include "api.h"
#include "common.h"
#include "log.h"
#include "metrics.h"
#include "pipeline.h"

#define INCIDENT_COLUMNS                                                                   \
    "id, dedup_key, state, severity, summary, source, service, occurrences, first_seen,"  \
    " last_seen, expires_at, acknowledged_at, acknowledged_by, resolved_at, resolved_by,"  \
    " resolution_note, suppressed, alert, suppressed_by, previous_id"

static int reply(struct tocsin_http_response *resp, int status, json_t *body)
{
    resp->status = status;
    resp->body = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    return TOCSIN_OK;
}

static int reply_error(struct tocsin_http_response *resp, int status, const char *error,
                       const char *detail)
{
    resp->status = status;
    resp->body = tc_error_json(error, detail);
    return TOCSIN_OK;
}

static json_t *time_or_null(sqlite3_stmt *st, int col)
{
    char buf[40];

    if (sqlite3_column_type(st, col) == SQLITE_NULL || sqlite3_column_int64(st, col) == 0)
        return json_null();
    return json_string(tc_time_format(sqlite3_column_int64(st, col), buf, sizeof buf));
}

static json_t *text_or_null(sqlite3_stmt *st, int col)
{
    const unsigned char *s = sqlite3_column_text(st, col);

    return s ? json_string((const char *)s) : json_null();
}

/* One row of INCIDENT_COLUMNS; with_alert adds the whole latest alert. */
static json_t *incident_json(sqlite3_stmt *st, int with_alert)
{
    json_t *alert = json_loads((const char *)sqlite3_column_text(st, 17), 0, NULL);
    json_t *o = json_object();
    json_t *labels = alert ? json_object_get(alert, "labels") : NULL;

    json_object_set_new(o, "id", json_integer(sqlite3_column_int64(st, 0)));
    json_object_set_new(o, "dedup_key", text_or_null(st, 1));
    json_object_set_new(o, "state", text_or_null(st, 2));
    json_object_set_new(o, "severity", text_or_null(st, 3));
    json_object_set_new(o, "summary", text_or_null(st, 4));
    json_object_set_new(o, "source", text_or_null(st, 5));
    json_object_set_new(o, "service", text_or_null(st, 6));
    json_object_set_new(o, "occurrences", json_integer(sqlite3_column_int64(st, 7)));
    json_object_set_new(o, "first_seen", time_or_null(st, 8));
    json_object_set_new(o, "last_seen", time_or_null(st, 9));
    json_object_set_new(o, "expires_at", time_or_null(st, 10));
    json_object_set_new(o, "acknowledged_at", time_or_null(st, 11));
    json_object_set_new(o, "acknowledged_by", text_or_null(st, 12));
    json_object_set_new(o, "resolved_at", time_or_null(st, 13));
    json_object_set_new(o, "resolved_by", text_or_null(st, 14));
    json_object_set_new(o, "resolution_note", text_or_null(st, 15));
    json_object_set_new(o, "suppressed", text_or_null(st, 16));
    json_object_set_new(o, "suppressed_by", text_or_null(st, 18));
    json_object_set_new(o, "previous_id", sqlite3_column_type(st, 19) == SQLITE_NULL
                                              ? json_null()
                                              : json_integer(sqlite3_column_int64(st, 19)));
    if (labels)
        json_object_set(o, "labels", labels);
    else
        json_object_set_new(o, "labels", json_object());
    if (with_alert && alert)
        json_object_set(o, "alert", alert);
    json_decref(alert);
    return o;
}

/* A positive 64-bit integer, the whole of s: no sign, no junk, no clamping. */
static int parse_positive(const char *s, int64_t *v)
{
    char *end;
    long long n;

    if (!s || !isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    n = strtoll(s, &end, 10);
    if (errno || *end || n <= 0)
        return -1;
    *v = n;
    return 0;
}

static int bad_param(struct tocsin_http_response *resp, const char *name, const char *value,
                     const char *want)
{
    char detail[300];

    snprintf(detail, sizeof detail, "query parameter \"%s\" is \"%.80s\": %s", name, value,
             want);
    return reply_error(resp, 400, "bad query parameter", detail);
}

/* Appends to a growing text buffer; -1 when out of memory. */
static int append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t c = *cap ? *cap : 4096;
        char *grown;

        while (c < *len + n + 1)
            c *= 2;
        grown = realloc(*buf, c);
        if (!grown)
            return -1;
        *buf = grown;
        *cap = c;
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
    return 0;
}

/* GET /api/v1/incidents?status=&limit=&before_id=: newest first, a page of
 * at most limit (default 100, max 1000) and of at most daemon.max_answer
 * bytes. The answer is written as text row by row, so a page costs its own
 * size and one row, not a JSON tree of every row. A cut page says so and
 * names the next one: {"incidents": [...], "truncated": true,
 * "next": "/api/v1/incidents?...&before_id=N"}. */
static int list_incidents(void *self, const struct tocsin_http_request *req,
                          struct tocsin_http_response *resp)
{
    struct tc_daemon *d = self;
    const char *status = req->query(req, "status");
    const char *limit_arg = req->query(req, "limit");
    const char *before_arg = req->query(req, "before_id");
    int64_t limit = 100, before = 0, last_id = 0;
    size_t max_answer = (size_t)d->cfg->daemon.max_answer, len = 0, cap = 0, n = 0;
    const char *where = "";
    sqlite3 *db;
    sqlite3_stmt *st = NULL;
    char sql[512], *buf = NULL, tail[600];
    int more = 0, rc;

    if (limit_arg && (parse_positive(limit_arg, &limit) < 0 || limit > 1000))
        return bad_param(resp, "limit", limit_arg, "a whole number from 1 to 1000");
    if (before_arg && parse_positive(before_arg, &before) < 0)
        return bad_param(resp, "before_id", before_arg, "an incident id (a positive integer)");
    if (status && strcmp(status, "open") == 0)
        where = " AND state != 'resolved'";
    else if (status && (strcmp(status, "triggered") == 0 || strcmp(status, "acknowledged") == 0 ||
                        strcmp(status, "resolved") == 0))
        where = " AND state = ?1";
    else if (status && *status)
        return bad_param(resp, "status", status,
                         "triggered, acknowledged, resolved or open");
    /* One row more than asked: tells whether there is a next page. */
    snprintf(sql, sizeof sql, "SELECT " INCIDENT_COLUMNS " FROM incidents WHERE id < ?2%s"
                              " ORDER BY id DESC LIMIT %lld", where, (long long)limit + 1);
    db = tc_store_reader_get(d->store);
    if (!db || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        tc_store_reader_put(d->store, db);
        return reply_error(resp, 500, "store error", NULL);
    }
    if (strstr(where, "?1"))
        sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, before ? before : INT64_MAX);
    rc = append(&buf, &len, &cap, "{\"incidents\":[", 14);
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        json_t *o;
        char *row;
        size_t row_len;

        if ((int64_t)n == limit) {
            more = 1;
            break;
        }
        o = incident_json(st, 0);
        row = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (!row) {
            rc = -1;
            break;
        }
        row_len = strlen(row);
        /* Room for the tail; the first row always goes, or no page could. */
        if (n > 0 && len + row_len + 1 + sizeof tail > max_answer) {
            free(row);
            more = 1;
            break;
        }
        rc = (n > 0 ? append(&buf, &len, &cap, ",", 1) : 0) ||
             append(&buf, &len, &cap, row, row_len);
        free(row);
        last_id = sqlite3_column_int64(st, 0);
        n++;
    }
    sqlite3_finalize(st);
    tc_store_reader_put(d->store, db);
    if (more)
        snprintf(tail, sizeof tail, "],\"truncated\":true,\"next\":\"/api/v1/incidents?"
                 "%s%s%slimit=%lld&before_id=%lld\"}", status && *where ? "status=" : "",
                 status && *where ? status : "", status && *where ? "&" : "", (long long)limit, (long long)last_id);
    else
        snprintf(tail, sizeof tail, "],\"truncated\":false}");
    if (rc != 0 || append(&buf, &len, &cap, tail, strlen(tail)) < 0) {
        free(buf);
        return reply_error(resp, 500, "out of memory", NULL);
    }
    resp->status = 200;
    resp->body = buf;
    return TOCSIN_OK;
}

static json_t *timeline_json(sqlite3 *db, int64_t id)
{
    json_t *list = json_array();
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(db, "SELECT at, kind, actor, detail FROM timeline"
                               " WHERE incident_id = ?1 ORDER BY id", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *detail = (const char *)sqlite3_column_text(st, 3);
            json_t *dj = detail ? json_loads(detail, 0, NULL) : NULL;

            json_array_append_new(list, json_pack("{s:o, s:o, s:o, s:o}", "at",
                                                  time_or_null(st, 0), "kind",
                                                  text_or_null(st, 1), "actor",
                                                  text_or_null(st, 2), "detail",
                                                  dj ? dj : json_null()));
        }
    }
    sqlite3_finalize(st);
    return list;
}

static json_t *notifications_json(sqlite3 *db, int64_t id)
{
    json_t *list = json_array();
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(db, "SELECT id, sink, action, state, attempts, next_at, last_error,"
                               " updated_at, repeat FROM outbox WHERE incident_id = ?1 ORDER BY id",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        while (sqlite3_step(st) == SQLITE_ROW)
            json_array_append_new(
                list, json_pack("{s:I, s:o, s:o, s:o, s:i, s:o, s:o, s:o, s:b}", "id",
                                (json_int_t)sqlite3_column_int64(st, 0), "sink",
                                text_or_null(st, 1), "action", text_or_null(st, 2), "state",
                                text_or_null(st, 3), "attempts", sqlite3_column_int(st, 4),
                                "next_at", time_or_null(st, 5), "last_error",
                                text_or_null(st, 6), "updated_at", time_or_null(st, 7),
                                "repeat", sqlite3_column_int(st, 8)));
    }
    sqlite3_finalize(st);
    return list;
}

/* Where an id starts in /api/v1/incidents/{id}... paths. */
#define INCIDENTS_PREFIX_LEN (sizeof "/api/v1/incidents/" - 1)

/* The id at the start of s (rest: what follows). Huge ids are refused,
 * not clamped to another incident's. */
static int parse_id(const char *s, int64_t *id, const char **rest)
{
    char *end;
    long long v;

    if (!isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || v <= 0)
        return -1;
    *id = v;
    *rest = end;
    return 0;
}

static int bad_id(struct tocsin_http_response *resp, const char *path)
{
    char detail[300];

    snprintf(detail, sizeof detail, "\"%.200s\": the incident id must be a positive integer"
             " below 2^63", path + INCIDENTS_PREFIX_LEN);
    return reply_error(resp, 400, "bad incident id", detail);
}

/* The incident with its latest alert, timeline and notifications. */
static int incident_reply(struct tc_daemon *d, int64_t id, struct tocsin_http_response *resp)
{
    sqlite3 *db;
    sqlite3_stmt *st = NULL;
    json_t *o = NULL;
    char idtext[32];

    db = tc_store_reader_get(d->store);
    if (!db || sqlite3_prepare_v2(db, "SELECT " INCIDENT_COLUMNS " FROM incidents WHERE id = ?1",
                                  -1, &st, NULL) != SQLITE_OK) {
        tc_store_reader_put(d->store, db);
        return reply_error(resp, 500, "store error", NULL);
    }
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW) {
        o = incident_json(st, 1);
        json_object_set_new(o, "timeline", timeline_json(db, id));
        json_object_set_new(o, "notifications", notifications_json(db, id));
    }
    sqlite3_finalize(st);
    tc_store_reader_put(d->store, db);
    snprintf(idtext, sizeof idtext, "%lld", (long long)id);
    if (!o)
        return reply_error(resp, 404, "no such incident", idtext);
    return reply(resp, 200, o);
}

static int get_incident(void *self, const struct tocsin_http_request *req,
                        struct tocsin_http_response *resp)
{
    const char *rest;
    int64_t id;

    if (parse_id(req->path + INCIDENTS_PREFIX_LEN, &id, &rest) < 0 || *rest)
        return bad_id(resp, req->path);
    return incident_reply(self, id, resp);
}

static int non_blank(const char *s)
{
    for (; s && *s; s++)
        if (!isspace((unsigned char)*s))
            return 1;
    return 0;
}

/* POST /api/v1/incidents/{id}/ack {"by"} and .../resolve {"note", "by"} */
static int act_on_incident(void *self, const struct tocsin_http_request *req,
                           struct tocsin_http_response *resp)
{
    struct tc_daemon *d = self;
    const char *rest, *by = NULL, *note = NULL;
    json_t *body = NULL, *v;
    json_error_t jerr;
    enum tc_event ev;
    int64_t id;
    char err[256], where[200];
    int status;

    if (parse_id(req->path + INCIDENTS_PREFIX_LEN, &id, &rest) < 0)
        return bad_id(resp, req->path);
    if (strcmp(rest, "/ack") == 0 || strcmp(rest, "/acknowledge") == 0)
        ev = TC_EV_ACK;
    else if (strcmp(rest, "/resolve") == 0)
        ev = TC_EV_RESOLVE;
    else
        return reply_error(resp, 404, "not found", req->path);
    if (req->body_len) {
        body = json_loadb(req->body, req->body_len, 0, &jerr);
        if (!body) {
            snprintf(where, sizeof where, "line %d column %d: %s", jerr.line, jerr.column,
                     jerr.text);
            return reply_error(resp, 400, "malformed JSON", where);
        }
        if (!json_is_object(body)) {
            json_decref(body);
            return reply_error(resp, 400, "body must be a JSON object", NULL);
        }
        v = json_object_get(body, "by");
        if (v && !json_is_string(v)) {
            json_decref(body);
            return reply_error(resp, 400, "\"by\" must be a string", NULL);
        }
        by = json_string_value(v);
        v = json_object_get(body, "note");
        if (v && !json_is_string(v)) {
            json_decref(body);
            return reply_error(resp, 400, "\"note\" must be a string", NULL);
        }
        note = json_string_value(v);
    }
    if (ev == TC_EV_RESOLVE && !non_blank(note)) {
        json_decref(body);
        return reply_error(resp, 400, "a resolution note is required",
                           "send {\"note\": \"what was wrong and what fixed it\"}");
    }
    /* Unless the body names someone, the token's name is the actor. */
    if (!non_blank(by))
        by = non_blank(tc_http_who(req)) ? tc_http_who(req) : "anonymous";
    status = tc_pipeline_act(d->pipeline, id, ev, by,
                             ev == TC_EV_RESOLVE ? note : NULL, err, sizeof err);
    json_decref(body);
    if (status != 200)
        return reply_error(resp, status,
                           status == 404 ? "no such incident"
                           : status == 409 ? "conflict"
                                           : "cannot record the action",
                           err);
    return incident_reply(d, id, resp);
}

static int healthz(void *self, const struct tocsin_http_request *req,
                   struct tocsin_http_response *resp)
{
    return reply(resp, 200, json_pack("{s:s}", "status", "ok"));
}

static int readyz(void *self, const struct tocsin_http_request *req,
                  struct tocsin_http_response *resp)
{
    struct tc_daemon *d = self;

    if (!atomic_load(&d->ready))
        return reply_error(resp, 503, "not ready", NULL);
    /* Ready means alerts sent now get stored: not while commits fail. */
    if (!tc_pipeline_store_ok(d->pipeline))
        return reply_error(resp, 503, "not ready", "the store cannot commit (disk full?)");
    return reply(resp, 200, json_pack("{s:s}", "status", "ready"));
}

static int metrics(void *self, const struct tocsin_http_request *req,
                   struct tocsin_http_response *resp)
{
    struct tc_daemon *d = self;
    size_t n;
    struct tc_sink_stats *sinks = tc_dispatcher_stats(d->dispatcher, &n);

    if (!sinks)
        return reply_error(resp, 500, "out of memory", NULL);
    resp->status = 200;
    resp->content_type = "text/plain; version=0.0.4";
    resp->body = tc_metrics_render((int64_t)tc_pipeline_queue_depth(d->pipeline),
                                   atomic_load(&d->ready), sinks, n);
    free(sinks);
    return TOCSIN_OK;
}

int tc_api_register(struct tc_daemon *d)
{
    /* Health for probes and load balancers; the rest needs a token once
     * daemon.auth is set (read for GET, write for POST). */
    static const struct {
        const char *method, *path;
        tocsin_route_fn fn;
        enum tc_gate gate;
    } routes[] = {
        { "GET", "/healthz", healthz, TC_GATE_OPEN },
        { "GET", "/readyz", readyz, TC_GATE_OPEN },
        { "GET", "/metrics", metrics, TC_GATE_API },
        { "GET", "/api/v1/incidents", list_incidents, TC_GATE_API },
        { "GET", "/api/v1/incidents/*", get_incident, TC_GATE_API },
        { "POST", "/api/v1/incidents/*", act_on_incident, TC_GATE_API },
    };
    char err[256];
    size_t i;

    for (i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (tc_http_route(d->http, routes[i].method, routes[i].path, routes[i].fn, d, NULL,
                          routes[i].gate, NULL, err, sizeof err) != TOCSIN_OK) {
            tc_error("%s", err);
            return -1;
        }
    }
    return tc_am_api_register(d);
}
