/* parse.c: Sentry webhook bodies to tocsin alerts (see parse.h and
 * /work/shared/formats/sentry.md). Strings borrow from the parsed body,
 * which the result keeps until sn_result_free(). */
#define _GNU_SOURCE
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "parse.h"

enum sn_severity_default { SN_DEFAULT_SEVERITY = TOCSIN_SEV_HIGH };

enum tocsin_severity sn_severity(const struct tocsin_map *map, const char *level)
{
    static const struct {
        const char *level;
        enum tocsin_severity sev;
    } defaults[] = {
        { "fatal", TOCSIN_SEV_CRITICAL }, { "critical", TOCSIN_SEV_CRITICAL },
        { "error", TOCSIN_SEV_HIGH },     { "warning", TOCSIN_SEV_MEDIUM },
        { "info", TOCSIN_SEV_INFO },      { "debug", TOCSIN_SEV_INFO },
    };
    enum tocsin_severity sev;
    size_t i;

    if (!level)
        return (enum tocsin_severity)SN_DEFAULT_SEVERITY;
    for (i = 0; map && i < map->n; i++)
        if (map->items[i].key && strcasecmp(map->items[i].key, level) == 0 &&
            tc_severity_parse(map->items[i].value, &sev) == 0)
            return sev;
    for (i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        if (strcasecmp(defaults[i].level, level) == 0)
            return defaults[i].sev;
    return (enum tocsin_severity)SN_DEFAULT_SEVERITY;
}

/* obj.a.b.c by a dotted path, or NULL. */
static json_t *get(json_t *obj, const char *path)
{
    char name[64];

    while (obj && *path) {
        size_t n = strcspn(path, ".");

        if (n >= sizeof name || !json_is_object(obj))
            return NULL;
        memcpy(name, path, n);
        name[n] = '\0';
        obj = json_object_get(obj, name);
        path += n + (path[n] == '.');
    }
    return obj;
}

/* A non-empty string at path, or NULL. */
static const char *str(json_t *obj, const char *path)
{
    const char *s = json_string_value(get(obj, path));

    return s && *s ? s : NULL;
}

static int fail(struct sn_result *r, const char *error, const char *field)
{
    r->error = error;
    snprintf(r->detail, sizeof r->detail, "%s", field);
    return TOCSIN_EINVAL;
}

/* An id (Sentry sends strings, older versions numbers) at path into
 * r->id. 0, or TOCSIN_EINVAL naming the field. */
static int need_id(struct sn_result *r, json_t *obj, const char *path)
{
    json_t *v = get(obj, path);

    if (json_is_string(v) && json_string_length(v) > 0 &&
        json_string_length(v) < sizeof r->id && !strchr(json_string_value(v), ':')) {
        snprintf(r->id, sizeof r->id, "%s", json_string_value(v));
        return 0;
    }
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        snprintf(r->id, sizeof r->id, "%lld", (long long)json_integer_value(v));
        return 0;
    }
    return fail(r, v ? "wrong type" : "missing field", path);
}

static void label(struct sn_result *r, const char *key, const char *value)
{
    if (value && *value && r->alert.n_labels < SN_MAX_LABELS)
        r->labels[r->alert.n_labels++] = (struct tocsin_kv){ key, value };
}

static void link_to(struct sn_result *r, const char *title, const char *url)
{
    if (url && *url && r->alert.n_links < SN_MAX_LINKS)
        r->links[r->alert.n_links++] = (struct tocsin_kv){ title, url };
}

/* An RFC 3339 time at path, or 0. */
static int64_t when(json_t *obj, const char *path)
{
    int64_t ms;

    return tc_time_parse(str(obj, path), &ms) == 0 ? ms : 0;
}

/* The summary, cut on a character: Sentry titles can be long. */
static void summary(struct sn_result *r, const char *prefix, const char *title)
{
    snprintf(r->summary, sizeof r->summary, "%s%.*s", prefix ? prefix : "",
             tc_utf8_clip(title, 240), title);
    r->alert.summary = r->summary;
}

/* details: the non-NULL lines, each cut on a character. */
static void details(struct sn_result *r, const char *const *lines, size_t n)
{
    size_t i, len = 0;

    for (i = 0; i < n && len + 1 < sizeof r->details; i++) {
        if (!lines[i] || !*lines[i])
            continue;
        len += (size_t)snprintf(r->details + len, sizeof r->details - len, "%s%.*s",
                                len ? "\n" : "", tc_utf8_clip(lines[i], 400), lines[i]);
    }
    if (len)
        r->alert.details = r->details;
}

static int ignore(struct sn_result *r, const char *fmt, const char *a, const char *b)
{
    snprintf(r->ignored, sizeof r->ignored, fmt, a ? a : "(none)", b ? b : "(none)");
    r->n_alerts = 0;
    return TOCSIN_OK;
}

static int parse_json(const char *body, size_t len, struct sn_result *r, json_t **data)
{
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);

    if (!root) {
        r->error = "malformed JSON";
        snprintf(r->detail, sizeof r->detail, "line %d column %d: %.*s", jerr.line,
                 jerr.column, tc_utf8_clip(jerr.text, 160), jerr.text);
        return TOCSIN_EINVAL;
    }
    r->root = root;
    if (!json_is_object(root))
        return fail(r, "body must be a JSON object", "");
    if (data) {
        *data = json_object_get(root, "data");
        if (!json_is_object(*data))
            return fail(r, *data ? "wrong type" : "missing field", "data");
    }
    return TOCSIN_OK;
}

static void start(struct sn_result *r, const char *kind, enum tocsin_status status)
{
    snprintf(r->key, sizeof r->key, "sentry:%s:%s", kind, r->id);
    r->alert.dedup_key = r->key;
    r->alert.status = status;
    r->alert.labels = r->labels;
    r->alert.links = r->links;
    r->n_alerts = 1;
}

/* event_alert/triggered: an issue alert rule fired on an event. */
static int event_alert(struct sn_result *r, json_t *data, const struct sn_rules *rules,
                       const char *action)
{
    json_t *ev = json_object_get(data, "event");
    const char *title, *level, *lines[3];
    int rc;

    if (!action || strcmp(action, "triggered") != 0)
        return ignore(r, "event_alert action \"%s\"%s", action, "");
    if (!json_is_object(ev))
        return fail(r, ev ? "wrong type" : "missing field", "data.event");
    if ((rc = need_id(r, data, "event.issue_id")) != 0)
        return fail(r, r->error, "data.event.issue_id");
    start(r, "issue", TOCSIN_FIRING);
    title = str(ev, "title");
    if (!title)
        title = str(ev, "message");
    if (!title)
        return fail(r, "missing field", "data.event.title");
    summary(r, NULL, title);
    level = str(ev, "level");
    r->alert.severity = sn_severity(rules->severity, level);
    lines[0] = str(ev, "culprit");
    lines[1] = str(ev, "message");
    lines[2] = str(data, "triggered_rule");
    if (lines[1] && strcmp(lines[1], title) == 0)
        lines[1] = NULL;
    details(r, lines, 3);
    label(r, "alertname", str(data, "triggered_rule"));
    label(r, "issue_id", r->id);
    label(r, "level", level);
    label(r, "environment", str(ev, "environment"));
    label(r, "release", str(ev, "release"));
    label(r, "platform", str(ev, "platform"));
    link_to(r, "generator", str(ev, "web_url"));
    link_to(r, "issue", str(ev, "issue_url"));
    r->alert.started_at = when(ev, "datetime");
    return TOCSIN_OK;
}

/* metric_alert/critical|warning|resolved: a metric alert rule's incident. */
static int metric_alert(struct sn_result *r, json_t *data, const struct sn_rules *rules,
                        const char *action)
{
    json_t *ma = json_object_get(data, "metric_alert");
    const char *title, *lines[2];
    enum tocsin_status status;

    if (!action || (strcmp(action, "critical") != 0 && strcmp(action, "warning") != 0 &&
                    strcmp(action, "resolved") != 0))
        return ignore(r, "metric_alert action \"%s\"%s", action, "");
    if (!json_is_object(ma))
        return fail(r, ma ? "wrong type" : "missing field", "data.metric_alert");
    if (need_id(r, ma, "id") != 0)
        return fail(r, r->error, "data.metric_alert.id");
    status = strcmp(action, "resolved") == 0 ? TOCSIN_RESOLVED : TOCSIN_FIRING;
    start(r, "metric_alert", status);
    title = str(data, "description_title");
    if (!title)
        title = str(ma, "title");
    if (!title)
        title = str(ma, "alert_rule.name");
    if (!title)
        return fail(r, "missing field", "data.description_title");
    summary(r, NULL, title);
    r->alert.severity = sn_severity(rules->severity,
                                    status == TOCSIN_RESOLVED ? "critical" : action);
    lines[0] = str(data, "description_text");
    lines[1] = str(ma, "alert_rule.query");
    details(r, lines, 2);
    label(r, "alertname", str(ma, "alert_rule.name"));
    label(r, "aggregate", str(ma, "alert_rule.aggregate"));
    label(r, "metric_alert_id", r->id);
    label(r, "action", action);
    link_to(r, "generator", str(data, "web_url"));
    r->alert.started_at = when(ma, "date_started");
    if (status == TOCSIN_RESOLVED)
        r->alert.ended_at = when(ma, "date_closed");
    return TOCSIN_OK;
}

/* issue/<action>: an issue changed state. */
static int issue(struct sn_result *r, json_t *data, const struct sn_rules *rules,
                 const char *action)
{
    json_t *is = json_object_get(data, "issue");
    const char *title, *level, *lines[2], *url;
    enum sn_rule rule;

    if (!action)
        return ignore(r, "issue action \"%s\"%s", action, "");
    if (strcmp(action, "created") == 0)
        rule = rules->on_created;
    else if (strcmp(action, "resolved") == 0)
        rule = SN_RESOLVE;
    else if (strcmp(action, "ignored") == 0 || strcmp(action, "archived") == 0)
        rule = rules->on_archived;
    else if (strcmp(action, "unresolved") == 0)
        rule = rules->on_unresolved;
    else /* assigned and anything newer: no change of state to map */
        return ignore(r, "issue action \"%s\"%s", action, "");
    if (!json_is_object(is))
        return fail(r, is ? "wrong type" : "missing field", "data.issue");
    if (need_id(r, is, "id") != 0)
        return fail(r, r->error, "data.issue.id");
    if (rule == SN_IGNORE)
        return ignore(r, "issue action \"%s\" on issue %s (configured to ignore)", action,
                      r->id);
    start(r, "issue", rule == SN_RESOLVE ? TOCSIN_RESOLVED : TOCSIN_FIRING);
    title = str(is, "title");
    if (!title)
        return fail(r, "missing field", "data.issue.title");
    summary(r, NULL, title);
    level = str(is, "level");
    r->alert.severity = sn_severity(rules->severity, level);
    lines[0] = str(is, "culprit");
    lines[1] = str(is, "substatus");
    details(r, lines, 2);
    label(r, "issue_id", r->id);
    label(r, "short_id", str(is, "shortId"));
    label(r, "project", str(is, "project.slug"));
    label(r, "level", level);
    label(r, "action", action);
    label(r, "substatus", str(is, "substatus"));
    r->alert.service = str(is, "project.slug");
    url = str(is, "web_url");
    link_to(r, "generator", url ? url : str(is, "permalink"));
    r->alert.started_at = when(is, "firstSeen");
    return TOCSIN_OK;
}

int sn_parse_hook(const char *resource, const char *body, size_t len,
                  const struct sn_rules *rules, int64_t now_ms, struct sn_result *out)
{
    json_t *data = NULL;
    const char *action;
    int rc;

    memset(out, 0, sizeof *out);
    (void)now_ms;
    if (!resource || !*resource)
        return fail(out, "missing header", "Sentry-Hook-Resource");
    if (strcmp(resource, "event_alert") != 0 && strcmp(resource, "metric_alert") != 0 &&
        strcmp(resource, "issue") != 0)
        return ignore(out, "resource \"%s\"%s", resource, ""); /* not parsed at all */
    if ((rc = parse_json(body, len, out, &data)) != TOCSIN_OK)
        return rc;
    action = json_string_value(json_object_get(out->root, "action"));
    if (!action && json_object_get(out->root, "action"))
        return fail(out, "wrong type", "action");
    if (strcmp(resource, "event_alert") == 0)
        return event_alert(out, data, rules, action);
    if (strcmp(resource, "metric_alert") == 0)
        return metric_alert(out, data, rules, action);
    return issue(out, data, rules, action);
}

int sn_parse_legacy(const char *body, size_t len, const struct sn_rules *rules,
                    int64_t now_ms, struct sn_result *out)
{
    json_t *root, *ev, *ts;
    const char *title, *level, *lines[3], *project;
    int rc;

    memset(out, 0, sizeof *out);
    if ((rc = parse_json(body, len, out, NULL)) != TOCSIN_OK)
        return rc;
    root = out->root;
    ev = json_object_get(root, "event");
    if (ev && !json_is_object(ev))
        return fail(out, "wrong type", "event");
    if (need_id(out, root, "id") != 0)
        return rc = fail(out, out->error, "id");
    start(out, "issue", TOCSIN_FIRING);
    title = str(ev, "title");
    if (!title)
        title = str(root, "message");
    if (!title)
        title = str(root, "culprit");
    if (!title)
        return fail(out, "missing field", "event.title");
    summary(out, NULL, title);
    level = str(root, "level");
    if (!level)
        level = str(ev, "level");
    out->alert.severity = sn_severity(rules->severity, level);
    lines[0] = str(root, "culprit");
    lines[1] = str(root, "message");
    lines[2] = NULL;
    if (lines[1] && strcmp(lines[1], title) == 0)
        lines[1] = NULL;
    details(out, lines, 3);
    project = str(root, "project_slug");
    if (!project)
        project = str(root, "project");
    label(out, "alertname", json_string_value(json_array_get(json_object_get(root,
                                                                             "triggering_rules"),
                                                             0)));
    label(out, "issue_id", out->id);
    label(out, "project", project);
    label(out, "level", level);
    label(out, "environment", str(ev, "environment"));
    label(out, "release", str(ev, "release"));
    out->alert.service = project;
    link_to(out, "generator", str(root, "url"));
    /* Legacy events carry Unix seconds with a fraction. */
    ts = json_object_get(ev, "timestamp");
    if (json_is_number(ts) && json_number_value(ts) > 0 && json_number_value(ts) < 1e11)
        out->alert.started_at = (int64_t)llround(json_number_value(ts) * 1000.0);
    else
        out->alert.started_at = when(ev, "timestamp");
    /* No resolve ever comes: expire when configured to. */
    if (rules->legacy_expire_ms > 0)
        out->alert.expires_at = now_ms + rules->legacy_expire_ms;
    return TOCSIN_OK;
}

void sn_result_free(struct sn_result *r)
{
    json_decref(r->root);
    r->root = NULL;
}
