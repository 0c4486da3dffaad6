/* window.c: one maintenance window: when it is on, what it covers, and its
 * JSON forms (tocsin's API, the stored state, Alertmanager's silences). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "window.h"

static const char *const state_names[] = { "pending", "active", "expired" };

const char *mw_state_name(enum mw_state s)
{
    return (unsigned)s < 3 ? state_names[s] : "expired";
}

int mw_state_parse(const char *name)
{
    int i;

    for (i = 0; name && i < 3; i++)
        if (strcmp(name, state_names[i]) == 0)
            return i;
    return -1;
}

int mw_id_valid(const char *id)
{
    size_t n = id ? strlen(id) : 0;

    if (n == 0 || n > MW_ID_LEN)
        return 0;
    return strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

enum mw_state mw_window_span(const struct mw_window *w, int64_t t, int64_t *start, int64_t *end)
{
    int64_t s, e;

    if (w->recurring) {
        /* The occurrence holding t, else the next; none: no weekday left. */
        if (tc_recur_window_at(&w->recur, t, &s, &e) < 0) {
            *start = *end = 0;
            return MW_EXPIRED;
        }
    } else {
        s = w->starts_at;
        e = w->ends_at;
    }
    *start = s;
    *end = e;
    if (t < s)
        return MW_PENDING;
    return t < e ? MW_ACTIVE : MW_EXPIRED;
}

int mw_window_covers(const struct mw_window *w, const struct tocsin_alert *a, int64_t t,
                     int64_t *end)
{
    int64_t start;

    return mw_window_span(w, t, &start, end) == MW_ACTIVE && tc_matchers_match(w->m, w->n_m, a);
}

void mw_window_release(struct mw_window *w)
{
    size_t i;

    for (i = 0; i < w->n_m; i++)
        tc_matcher_free(&w->m[i]);
    free(w->m);
    free(w->comment);
    free(w->created_by);
    tc_tz_free(w->tz);
    json_decref(w->weekdays);
    free(w->start);
    free(w->end);
    free(w->time_zone);
    memset(w, 0, sizeof *w);
}

TOCSIN_PRINTF(3, 4)
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

/* The recurring part from its four texts; weekdays a JSON array of strings. */
static int set_recurring(struct mw_window *w, json_t *weekdays, const char *start,
                         const char *end, const char *tz, char *err, size_t errlen)
{
    const char *days[8];
    size_t i, n = json_array_size(weekdays);
    char why[200];

    if (n == 0)
        return fail(err, errlen, "weekdays: required for a recurring window (e.g. [\"sun\"])");
    if (n > 7)
        return fail(err, errlen, "weekdays: at most 7 entries");
    for (i = 0; i < n; i++) {
        days[i] = json_string_value(json_array_get(weekdays, i));
        if (!days[i])
            return fail(err, errlen, "weekdays[%zu]: not a string", i);
    }
    if (!start)
        return fail(err, errlen, "start: required for a recurring window (\"HH:MM\")");
    if (!end)
        return fail(err, errlen, "end: required for a recurring window (\"HH:MM\")");
    if (!tz)
        return fail(err, errlen, "time_zone: required for a recurring window "
                                 "(e.g. \"Europe/Berlin\")");
    if (tc_recur_parse_days(days, n, &w->recur.days, why, sizeof why) != 0)
        return fail(err, errlen, "weekdays: %s", why);
    if (tc_recur_parse_clock(start, 0, &w->recur.start, why, sizeof why) != 0)
        return fail(err, errlen, "start: %s", why);
    if (tc_recur_parse_clock(end, 1, &w->recur.end, why, sizeof why) != 0)
        return fail(err, errlen, "end: %s", why);
    w->tz = tc_tz_load(tz, why, sizeof why);
    if (!w->tz)
        return fail(err, errlen, "time_zone: %s", why);
    w->recur.tz = w->tz;
    w->recurring = 1;
    w->weekdays = json_incref(weekdays);
    w->start = strdup(start);
    w->end = strdup(end);
    w->time_zone = strdup(tz);
    if (!w->start || !w->end || !w->time_zone)
        return fail(err, errlen, "out of memory");
    return 0;
}

int mw_window_from_group(struct mw_window *w, const struct mw_group *g, char *err,
                         size_t errlen)
{
    int recurring = g->weekdays.n || g->start || g->end || g->time_zone;
    size_t i;

    memset(w, 0, sizeof *w);
    if (!mw_id_valid(g->id))
        return fail(err, errlen, "id: \"%.80s\" is not [A-Za-z0-9_.-]+ of at most %d characters",
                    g->id ? g->id : "", MW_ID_LEN);
    snprintf(w->id, sizeof w->id, "%s", g->id);
    w->from_config = 1;
    w->comment = dup_or_empty(g->comment);
    w->created_by = strdup(g->created_by ? g->created_by : "tocsin.conf");
    if (!w->comment || !w->created_by)
        return fail(err, errlen, "out of memory");
    if (g->matchers.n) {
        w->m = calloc(g->matchers.n, sizeof *w->m);
        if (!w->m)
            return fail(err, errlen, "out of memory");
    }
    for (i = 0; i < g->matchers.n; i++) {
        char why[300];

        if (tc_matcher_parse(&w->m[i], g->matchers.items[i], why, sizeof why) != 0)
            return fail(err, errlen, "matchers[%zu]: %s", i, why);
        w->n_m++;
    }
    if (recurring) {
        json_t *days;
        int rc;

        if (g->starts_at || g->ends_at)
            return fail(err, errlen, "%s: a window is one-off (starts_at, ends_at) or recurring "
                        "(weekdays, start, end, time_zone), not both",
                        g->starts_at ? "starts_at" : "ends_at");
        days = json_array();
        for (i = 0; days && i < g->weekdays.n; i++)
            json_array_append_new(days, json_string(g->weekdays.items[i]));
        rc = days ? set_recurring(w, days, g->start, g->end, g->time_zone, err, errlen)
                  : fail(err, errlen, "out of memory");
        json_decref(days);
        return rc;
    }
    if (!g->starts_at || !g->ends_at)
        return fail(err, errlen, "%s: required (RFC 3339) for a one-off window; a recurring one "
                    "has weekdays, start, end and time_zone",
                    g->starts_at ? "ends_at" : "starts_at");
    if (tc_time_parse(g->starts_at, &w->starts_at) != 0)
        return fail(err, errlen, "starts_at: \"%s\" is not an RFC 3339 time", g->starts_at);
    if (tc_time_parse(g->ends_at, &w->ends_at) != 0)
        return fail(err, errlen, "ends_at: \"%s\" is not an RFC 3339 time", g->ends_at);
    if (w->ends_at <= w->starts_at)
        return fail(err, errlen, "ends_at: %s is not after starts_at %s", g->ends_at,
                    g->starts_at);
    return 0;
}

/* --- JSON -------------------------------------------------------------- */

struct names {
    const char *starts_at, *ends_at, *created_by, *created_at, *updated_at;
};

static const struct names native_names = { "starts_at", "ends_at", "created_by", "created_at",
                                           "updated_at" };
static const struct names silence_names = { "startsAt", "endsAt", "createdBy", "createdAt",
                                            "updatedAt" };

/* A string member, or NULL when absent; -1 when present but not a string. */
static int get_string(const json_t *o, const char *key, const char **out, char *err,
                      size_t errlen)
{
    json_t *v = json_object_get(o, key);

    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return fail(err, errlen, "%s: not a string", key);
    *out = json_string_value(v);
    return 0;
}

static int get_time(const json_t *o, const char *key, int64_t *out, int *present, char *err,
                    size_t errlen)
{
    const char *s;

    *present = 0;
    if (get_string(o, key, &s, err, errlen) != 0)
        return -1;
    if (!s)
        return 0;
    if (tc_time_parse(s, out) != 0)
        return fail(err, errlen, "%s: \"%.64s\" is not an RFC 3339 time", key, s);
    *present = 1;
    return 0;
}

static int matcher_from_json(struct tc_matcher *m, const json_t *v, char *why, size_t len)
{
    const char *name, *value;
    json_t *re, *eq;

    if (json_is_string(v))
        return tc_matcher_parse(m, json_string_value(v), why, len);
    if (!json_is_object(v))
        return fail(why, len, "neither a matcher text (service=\"db\") nor an object "
                              "{name, value, isRegex, isEqual}");
    name = json_string_value(json_object_get(v, "name"));
    value = json_string_value(json_object_get(v, "value"));
    re = json_object_get(v, "isRegex");
    eq = json_object_get(v, "isEqual");
    if (!name)
        return fail(why, len, "name: required (a string)");
    if (!value)
        return fail(why, len, "value: required (a string)");
    if (re && !json_is_boolean(re))
        return fail(why, len, "isRegex: not true or false");
    if (eq && !json_is_boolean(eq))
        return fail(why, len, "isEqual: not true or false");
    return tc_matcher_init(m, name, value, json_is_true(re), !eq || json_is_true(eq), why, len);
}

static int matchers_from_json(struct mw_window *w, const json_t *o, char *err, size_t errlen)
{
    json_t *arr = json_object_get(o, "matchers"), *v;
    size_t i;

    if (!arr || json_is_null(arr))
        return 0;
    if (!json_is_array(arr))
        return fail(err, errlen, "matchers: not an array");
    if (json_array_size(arr) == 0)
        return 0;
    w->m = calloc(json_array_size(arr), sizeof *w->m);
    if (!w->m)
        return fail(err, errlen, "out of memory");
    json_array_foreach(arr, i, v) {
        char why[300];

        if (matcher_from_json(&w->m[i], v, why, sizeof why) != 0)
            return fail(err, errlen, "matchers[%zu]: %s", i, why);
        w->n_m++;
    }
    return 0;
}

/* The recurring fields of the native form; 1 when there are any. */
static int has_recurring(const json_t *o)
{
    return json_object_get(o, "weekdays") || json_object_get(o, "start") ||
           json_object_get(o, "end") || json_object_get(o, "time_zone");
}

static int recurring_from_json(struct mw_window *w, const json_t *o, char *err, size_t errlen)
{
    json_t *days = json_object_get(o, "weekdays"), *list;
    const char *start, *end, *tz;
    int rc;

    if (json_object_get(o, "starts_at") || json_object_get(o, "ends_at"))
        return fail(err, errlen, "%s: a window is one-off (starts_at, ends_at) or recurring "
                    "(weekdays, start, end, time_zone), not both",
                    json_object_get(o, "starts_at") ? "starts_at" : "ends_at");
    if (get_string(o, "start", &start, err, errlen) || get_string(o, "end", &end, err, errlen) ||
        get_string(o, "time_zone", &tz, err, errlen))
        return -1;
    if (json_is_string(days)) {
        list = json_array();
        if (!list || json_array_append(list, days) != 0) {
            json_decref(list);
            return fail(err, errlen, "out of memory");
        }
    } else if (json_is_array(days) || !days) {
        list = days ? json_incref(days) : json_array(); /* ours either way */
    } else {
        return fail(err, errlen, "weekdays: not an array of day names");
    }
    rc = set_recurring(w, list, start, end, tz, err, errlen);
    json_decref(list);
    return rc;
}

int mw_window_from_json(struct mw_window *w, const json_t *o, enum mw_form form, int64_t now,
                        char *err, size_t errlen, int *missing)
{
    const struct names *k = form == MW_FORM_SILENCE ? &silence_names : &native_names;
    const char *comment, *by, *id = NULL;
    int has_start, has_end, dummy;

    memset(w, 0, sizeof *w);
    if (!missing)
        missing = &dummy;
    *missing = 0;
    if (!json_is_object(o))
        return fail(err, errlen, "the body is not a JSON object");
    if (form == MW_FORM_STORED) {
        if (get_string(o, "id", &id, err, errlen) != 0)
            return -1;
        if (!mw_id_valid(id))
            return fail(err, errlen, "id: missing or not [A-Za-z0-9_.-]+");
        snprintf(w->id, sizeof w->id, "%s", id);
    }
    if (get_string(o, "comment", &comment, err, errlen) ||
        get_string(o, k->created_by, &by, err, errlen))
        return -1;
    if (!by || !*by) {
        *missing = !by;
        return fail(err, errlen, "%s: required (who makes the window)", k->created_by);
    }
    if (form == MW_FORM_SILENCE && !comment) {
        *missing = 1;
        return fail(err, errlen, "comment: required");
    }
    w->comment = dup_or_empty(comment);
    w->created_by = strdup(by);
    if (!w->comment || !w->created_by)
        return fail(err, errlen, "out of memory");
    if (matchers_from_json(w, o, err, errlen) != 0)
        return -1;
    w->created_at = w->updated_at = now;
    if (form == MW_FORM_STORED) {
        get_time(o, k->created_at, &w->created_at, &dummy, err, errlen);
        get_time(o, k->updated_at, &w->updated_at, &dummy, err, errlen);
    }
    if (form != MW_FORM_SILENCE && has_recurring(o))
        return recurring_from_json(w, o, err, errlen);
    if (get_time(o, k->starts_at, &w->starts_at, &has_start, err, errlen) ||
        get_time(o, k->ends_at, &w->ends_at, &has_end, err, errlen))
        return -1;
    if (!has_end || (form == MW_FORM_SILENCE && !has_start)) {
        *missing = 1;
        return fail(err, errlen, "%s: required (RFC 3339)%s", has_end ? k->starts_at : k->ends_at,
                    form == MW_FORM_SILENCE ? ""
                                            : "; or weekdays, start, end and time_zone for a "
                                              "recurring window");
    }
    if (!has_start)
        w->starts_at = now;
    if (form != MW_FORM_STORED && w->ends_at <= now)
        return fail(err, errlen, "%s: in the past", k->ends_at);
    /* A stored one expired before it began ends when it starts. */
    if (w->ends_at < w->starts_at || (w->ends_at == w->starts_at && form != MW_FORM_STORED))
        return fail(err, errlen, "%s: not after %s", k->ends_at, k->starts_at);
    /* Alertmanager starts a silence whose start has passed now, as of now. */
    if (form == MW_FORM_SILENCE && w->starts_at < now)
        w->starts_at = now;
    return 0;
}

json_t *mw_matchers_to_json(const struct tc_matcher *m, size_t n)
{
    json_t *arr = json_array();
    size_t i;

    for (i = 0; arr && i < n; i++) {
        json_t *o = json_object();

        tc_json_set_str(o, "name", m[i].name);
        tc_json_set_str(o, "value", m[i].value);
        json_object_set_new(o, "isRegex",
                            json_boolean(m[i].op == TC_MATCH_RE || m[i].op == TC_MATCH_NRE));
        json_object_set_new(o, "isEqual",
                            json_boolean(m[i].op == TC_MATCH_EQ || m[i].op == TC_MATCH_RE));
        json_array_append_new(arr, o);
    }
    return arr;
}

static json_t *silence_to_json(const struct mw_window *w, int64_t now)
{
    json_t *o = json_object(), *status = json_object();
    int64_t start, end;
    enum mw_state st = mw_window_span(w, now, &start, &end);

    tc_json_set_str(o, "id", w->id);
    tc_json_set_str(status, "state", mw_state_name(st));
    json_object_set_new(o, "status", status);
    tc_json_set_time(o, "updatedAt", w->updated_at);
    tc_json_set_str(o, "comment", w->comment);
    tc_json_set_str(o, "createdBy", w->created_by);
    /* A recurring window shows its current or next occurrence. */
    tc_json_set_time(o, "startsAt", start);
    tc_json_set_time(o, "endsAt", end);
    json_object_set_new(o, "matchers", mw_matchers_to_json(w->m, w->n_m));
    return o;
}

json_t *mw_window_to_json(const struct mw_window *w, enum mw_form form, int64_t now)
{
    json_t *o;

    if (form == MW_FORM_SILENCE)
        return silence_to_json(w, now);
    o = json_object();
    tc_json_set_str(o, "id", w->id);
    tc_json_set_str(o, "comment", w->comment);
    tc_json_set_str(o, "created_by", w->created_by);
    tc_json_set_time(o, "created_at", w->created_at);
    tc_json_set_time(o, "updated_at", w->updated_at);
    json_object_set_new(o, "matchers", mw_matchers_to_json(w->m, w->n_m));
    if (w->recurring) {
        json_object_set(o, "weekdays", w->weekdays);
        tc_json_set_str(o, "start", w->start);
        tc_json_set_str(o, "end", w->end);
        tc_json_set_str(o, "time_zone", w->time_zone);
    } else {
        tc_json_set_time(o, "starts_at", w->starts_at);
        tc_json_set_time(o, "ends_at", w->ends_at);
    }
    if (form == MW_FORM_NATIVE) {
        int64_t start, end;
        enum mw_state st = mw_window_span(w, now, &start, &end);

        tc_json_set_str(o, "state", mw_state_name(st));
        tc_json_set_str(o, "source", w->from_config ? "config" : "api");
        if (w->recurring && st != MW_EXPIRED) {
            json_t *occ = json_object();

            tc_json_set_time(occ, "starts_at", start);
            tc_json_set_time(occ, "ends_at", end);
            json_object_set_new(o, st == MW_ACTIVE ? "current" : "next", occ);
        }
    }
    return o;
}

int mw_matcher_matches_value(const struct tc_matcher *m, const char *v)
{
    int eq;

    if (m->op == TC_MATCH_RE || m->op == TC_MATCH_NRE)
        eq = regexec(&m->re, v, 0, NULL, 0) == 0;
    else
        eq = strcmp(m->value, v) == 0;
    return (m->op == TC_MATCH_EQ || m->op == TC_MATCH_RE) ? eq : !eq;
}

int mw_window_filter(const struct mw_window *w, const struct tc_matcher *f, size_t n)
{
    size_t i, j;

    /* Alertmanager's api/v2 matchFilterLabels over {name: value} of the
     * silence's matchers. */
    for (i = 0; i < n; i++) {
        const char *v = NULL;
        int negative = f[i].op == TC_MATCH_NE || f[i].op == TC_MATCH_NRE;

        for (j = 0; j < w->n_m && !v; j++)
            if (strcmp(w->m[j].name, f[i].name) == 0)
                v = w->m[j].value;
        if (negative) {
            if (f[i].value[0] == '\0' && v)
                continue;
            if (!mw_matcher_matches_value(&f[i], v ? v : ""))
                return 0;
        } else {
            if (f[i].value[0] == '\0' && !v)
                continue;
            if (!v || !mw_matcher_matches_value(&f[i], v))
                return 0;
        }
    }
    return 1;
}
