/* parse.c: Alertmanager postableAlerts to tocsin alerts (validation, the
 * Alertmanager defaults for times, severity and summary), and the answers. */
#define _DEFAULT_SOURCE
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "parse.h"

/* What one valid alert points into besides the parsed JSON. */
struct am_store {
    struct tocsin_kv *kv; /* labels, then annotations, then the link */
    char *summary;        /* always owned: often a cut-down copy */
    char dedup[17];       /* the label fingerprint */
};

static char *copy_n(const char *s, size_t n)
{
    char *c = malloc(n + 1);

    if (c) {
        memcpy(c, s, n);
        c[n] = '\0';
    }
    return c;
}

/* The first non-blank line of s, trimmed, as a new string; NULL when s
 * has none (*oom set when allocation failed). Summaries are one line. */
static char *first_line(const char *s, int *oom)
{
    const char *end;
    char *line;

    if (!s)
        return NULL;
    s += strspn(s, " \t\r\n");
    if (!*s)
        return NULL;
    end = s + strcspn(s, "\r\n");
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    line = copy_n(s, (size_t)(end - s));
    if (!line)
        *oom = 1;
    return line;
}

/* {name="value", ...} in body order, Prometheus style, at most ~200 bytes:
 * the summary of last resort for an alert without alertname. */
static char *render_labels(const struct tocsin_kv *kv, size_t n, int *oom)
{
    char buf[256], *r, *p;
    size_t len = 1, i;

    buf[0] = '{';
    for (i = 0; i < n && len < 200; i++) {
        int w = snprintf(buf + len, sizeof buf - len, "%s%s=\"%s\"", i ? ", " : "", kv[i].key,
                         kv[i].value);

        if (w < 0)
            break;
        len += (size_t)w;
    }
    if (len > 200 || i < n) {
        /* Cut on a character boundary and say so (snprintf left buf
         * NUL-terminated at or past byte 200). */
        len = (size_t)tc_utf8_clip(buf, 200);
        memcpy(buf + len, "...}", 5);
    } else {
        memcpy(buf + len, "}", 2);
    }
    for (p = buf; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' '; /* one line, even from a label value with a newline */
    r = copy_n(buf, strlen(buf));
    if (!r)
        *oom = 1;
    return r;
}

enum tocsin_severity am_severity(const char *s)
{
    /* Beyond tocsin's own names: what alerting rules commonly use. */
    static const struct {
        const char *name;
        enum tocsin_severity sev;
    } aliases[] = {
        { "page", TOCSIN_SEV_CRITICAL },  { "crit", TOCSIN_SEV_CRITICAL },
        { "fatal", TOCSIN_SEV_CRITICAL }, { "emergency", TOCSIN_SEV_CRITICAL },
        { "major", TOCSIN_SEV_HIGH },     { "err", TOCSIN_SEV_HIGH },
        { "warn", TOCSIN_SEV_MEDIUM },    { "minor", TOCSIN_SEV_LOW },
        { "notice", TOCSIN_SEV_LOW },     { "informational", TOCSIN_SEV_INFO },
        { "none", TOCSIN_SEV_INFO },      { "debug", TOCSIN_SEV_INFO },
    };
    enum tocsin_severity sev;
    size_t i;

    if (!s)
        return TOCSIN_SEV_MEDIUM;
    if (tc_severity_parse(s, &sev) == 0)
        return sev;
    for (i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcasecmp(s, aliases[i].name) == 0)
            return aliases[i].sev;
    return TOCSIN_SEV_MEDIUM;
}

/* labels / annotations: an object of strings; empty values are dropped
 * (Alertmanager does the same), empty names refused. what is "label" or
 * "annotation". Appends to out[*n]. */
static int parse_kv(const json_t *obj, const char *what, struct tocsin_kv *out, size_t *n,
                    char *err, size_t errlen)
{
    const char *key;
    json_t *val;

    if (!json_is_object(obj)) {
        snprintf(err, errlen, "%ss must be an object of strings", what);
        return -1;
    }
    json_object_foreach((json_t *)obj, key, val) {
        if (!*key) {
            snprintf(err, errlen, "%s names must not be empty", what);
            return -1;
        }
        if (!json_is_string(val)) {
            snprintf(err, errlen, "%s \"%.*s\" must be a string", what, tc_utf8_clip(key, 64),
                     key);
            return -1;
        }
        if (json_string_length(val) == 0)
            continue;
        out[*n].key = key;
        out[*n].value = json_string_value(val);
        (*n)++;
    }
    return 0;
}

/* startsAt / endsAt: absent, null, "" and Go's zero time all mean unset. */
static int parse_time(const json_t *obj, const char *field, int64_t *ms, int *set, char *err,
                      size_t errlen)
{
    json_t *v = json_object_get(obj, field);
    const char *s;

    *set = 0;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        snprintf(err, errlen, "%s must be an RFC 3339 time string", field);
        return -1;
    }
    s = json_string_value(v);
    if (!*s)
        return 0;
    if (tc_time_parse(s, ms) < 0) {
        snprintf(err, errlen, "%s is not an RFC 3339 time: \"%.*s\"", field,
                 tc_utf8_clip(s, 40), s);
        return -1;
    }
    *set = *ms != AM_ZERO_TIME_MS;
    return 0;
}

/* One postableAlert. Returns 0, -1 (err says why) or TOCSIN_ENOMEM. */
static int parse_alert(const json_t *obj, int64_t now, int64_t resolve_timeout,
                       struct tocsin_alert *a, struct am_store *st, char *err, size_t errlen)
{
    const json_t *labels, *annotations, *gen;
    int64_t starts = 0, ends = 0;
    int starts_set, ends_set, oom = 0;
    size_t cap, nl = 0, na = 0, nk = 0;

    memset(a, 0, sizeof *a);
    if (!json_is_object(obj)) {
        snprintf(err, errlen, "must be a JSON object");
        return -1;
    }
    labels = json_object_get(obj, "labels");
    annotations = json_object_get(obj, "annotations");
    if (!labels || json_is_null(labels)) {
        snprintf(err, errlen, "labels are required");
        return -1;
    }
    if (annotations && json_is_null(annotations))
        annotations = NULL;
    gen = json_object_get(obj, "generatorURL");
    if (gen && !json_is_null(gen) && !json_is_string(gen)) {
        snprintf(err, errlen, "generatorURL must be a string");
        return -1;
    }

    cap = json_object_size(labels) + json_object_size(annotations) + 1;
    st->kv = calloc(cap, sizeof *st->kv);
    if (!st->kv)
        return TOCSIN_ENOMEM;
    if (parse_kv(labels, "label", st->kv, &nl, err, errlen) < 0)
        return -1;
    if (nl == 0) {
        snprintf(err, errlen, "labels must not be empty");
        return -1;
    }
    if (annotations && parse_kv(annotations, "annotation", st->kv + nl, &na, err, errlen) < 0)
        return -1;
    if (parse_time(obj, "startsAt", &starts, &starts_set, err, errlen) < 0 ||
        parse_time(obj, "endsAt", &ends, &ends_set, err, errlen) < 0)
        return -1;
    if (starts_set && ends_set && ends < starts) {
        snprintf(err, errlen, "endsAt is before startsAt");
        return -1;
    }
    if (gen && json_is_string(gen) && json_string_length(gen) > 0) {
        st->kv[nl + na].key = "generator";
        st->kv[nl + na].value = json_string_value(gen);
        nk = 1;
    }

    a->labels = st->kv;
    a->n_labels = nl;
    a->annotations = na ? st->kv + nl : NULL;
    a->n_annotations = na;
    a->links = nk ? st->kv + nl + na : NULL;
    a->n_links = nk;

    /* Identity is the label set, as in Alertmanager. */
    a->dedup_key = tc_fingerprint_hex(a->labels, a->n_labels, st->dedup);
    a->severity = am_severity(tocsin_kv_get(a->labels, nl, "severity"));
    a->details = tocsin_kv_get(a->annotations, na, "description");
    a->service = tocsin_kv_get(a->labels, nl, "service");
    if (!a->service)
        a->service = tocsin_kv_get(a->labels, nl, "job");
    a->source = NULL; /* the core fills in the input's instance id */

    st->summary = first_line(tocsin_kv_get(a->annotations, na, "summary"), &oom);
    if (!st->summary && !oom)
        st->summary = first_line(a->details, &oom);
    if (!st->summary && !oom)
        st->summary = first_line(tocsin_kv_get(a->labels, nl, "alertname"), &oom);
    if (!st->summary && !oom)
        st->summary = render_labels(a->labels, nl, &oom);
    if (oom)
        return TOCSIN_ENOMEM;
    a->summary = st->summary;

    /* Alertmanager's defaults (api/v2 postAlertsHandler): a missing
     * startsAt is endsAt when only that is given, else the receive time;
     * endsAt in the past resolves, in the future is a refresh deadline. */
    a->started_at = starts_set ? starts : ends_set ? ends : now;
    if (ends_set && ends <= now) {
        a->status = TOCSIN_RESOLVED;
        a->ended_at = ends;
    } else {
        a->status = TOCSIN_FIRING;
        a->expires_at = ends_set ? ends : resolve_timeout > 0 ? now + resolve_timeout : 0;
    }
    return 0;
}

static void store_release(struct am_store *st)
{
    free(st->kv);
    free(st->summary);
    st->kv = NULL;
    st->summary = NULL;
}

static int add_error(struct am_batch *b, size_t index, const char *msg)
{
    char line[320];
    char *copy;

    b->n_invalid++;
    if (b->n_errors >= AM_MAX_ERRORS)
        return 0;
    snprintf(line, sizeof line, "alert %zu: %s", index, msg);
    copy = copy_n(line, strlen(line));
    if (!copy)
        return TOCSIN_ENOMEM;
    b->errors[b->n_errors++] = copy;
    return 0;
}

int am_parse(const char *body, size_t len, int64_t now_ms, int64_t resolve_timeout_ms,
             struct am_batch *out)
{
    json_error_t jerr;
    json_t *root;
    size_t i, n;

    memset(out, 0, sizeof *out);
    /* DECODE_ANY so that a valid but wrong top level (a string, an object)
     * gets the helpful message rather than "malformed JSON". */
    root = json_loadb(body ? body : "", body ? len : 0, JSON_DECODE_ANY, &jerr);
    if (!root) {
        out->error = "malformed JSON";
        snprintf(out->detail, sizeof out->detail, "line %d column %d: %s", jerr.line,
                 jerr.column, jerr.text);
        return TOCSIN_EINVAL;
    }
    out->root = root;
    if (!json_is_array(root)) {
        out->error = "body must be a JSON array of alerts";
        return TOCSIN_EINVAL;
    }

    n = json_array_size(root);
    if (n == 0)
        return TOCSIN_OK;
    out->alerts = calloc(n, sizeof *out->alerts);
    out->store = calloc(n, sizeof *out->store);
    out->errors = calloc(n < AM_MAX_ERRORS ? n : AM_MAX_ERRORS, sizeof *out->errors);
    if (!out->alerts || !out->store || !out->errors)
        return TOCSIN_ENOMEM;

    for (i = 0; i < n; i++) {
        struct am_store *st = &out->store[out->n_alerts];
        char err[256];
        int rc;

        rc = parse_alert(json_array_get(root, i), now_ms, resolve_timeout_ms,
                         &out->alerts[out->n_alerts], st, err, sizeof err);
        if (rc == 0) {
            out->n_alerts++;
            continue;
        }
        store_release(st);
        if (rc == TOCSIN_ENOMEM || add_error(out, i, err) < 0)
            return TOCSIN_ENOMEM;
    }
    return TOCSIN_OK;
}

void am_batch_free(struct am_batch *b)
{
    size_t i;

    if (b->store)
        for (i = 0; i < b->n_alerts; i++)
            store_release(&b->store[i]);
    for (i = 0; i < b->n_errors; i++)
        free(b->errors[i]);
    free(b->errors);
    free(b->store);
    free(b->alerts);
    json_decref(b->root);
    memset(b, 0, sizeof *b);
}

static char *dump(json_t *o)
{
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

    json_decref(o);
    return s;
}

char *am_invalid_body(const struct am_batch *b, const char *extra)
{
    json_t *o = json_object(), *list = json_array();
    size_t i;

    if (!o || !list) {
        json_decref(o);
        json_decref(list);
        return NULL;
    }
    for (i = 0; i < b->n_errors; i++)
        json_array_append_new(list, tc_json_string(b->errors[i]));
    if (b->n_invalid > b->n_errors) {
        char more[64];

        snprintf(more, sizeof more, "... and %zu more invalid alerts",
                 b->n_invalid - b->n_errors);
        json_array_append_new(list, json_string(more));
    }
    if (extra)
        json_array_append_new(list, tc_json_string(extra));
    json_object_set_new(o, "error", json_string("invalid alerts"));
    json_object_set_new(o, "detail", list);
    return dump(o);
}
