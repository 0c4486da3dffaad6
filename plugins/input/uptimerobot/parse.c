/* parse.c: UptimeRobot webhook values and getMonitors pages to alerts
 * (see parse.h and /work/shared/formats/uptimerobot.md). */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "parse.h"

enum tocsin_severity ur_severity(const struct tocsin_map *map, const char *kind)
{
    enum tocsin_severity sev;
    size_t i;

    for (i = 0; map && i < map->n; i++)
        if (map->items[i].key && strcasecmp(map->items[i].key, kind) == 0 &&
            tc_severity_parse(map->items[i].value, &sev) == 0)
            return sev;
    return strcmp(kind, "down") == 0 ? TOCSIN_SEV_HIGH : TOCSIN_SEV_MEDIUM;
}

/* ---- webhook values ------------------------------------------------------ */

void ur_fields_add(struct ur_fields *f, const char *name, const char *value)
{
    if (value && f->n < UR_MAX_FIELDS && !ur_fields_get(f, name))
        f->kv[f->n++] = (struct tocsin_kv){ name, value };
}

const char *ur_fields_get(const struct ur_fields *f, const char *name)
{
    return tocsin_kv_get(f->kv, f->n, name);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decodes %XX and '+' in place over [p, end); returns the new end. */
static char *decode(char *p, char *end)
{
    char *w = p;

    while (p < end) {
        if (*p == '+') {
            *w++ = ' ';
            p++;
        } else if (*p == '%' && end - p >= 3 && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
            *w++ = (char)(hexval(p[1]) * 16 + hexval(p[2]));
            p += 3;
        } else {
            *w++ = *p++;
        }
    }
    return w;
}

int ur_fields_from_form(const char *body, size_t len, struct ur_fields *f)
{
    char *p, *end;

    memset(f, 0, sizeof *f);
    if (!(f->buf = malloc(len + 1)))
        return -1;
    memcpy(f->buf, body, len);
    f->buf[len] = '\0';
    end = f->buf + len;
    for (p = f->buf; p < end;) {
        char *amp = memchr(p, '&', (size_t)(end - p)), *eq, *name_end, *val_end;

        if (!amp)
            amp = end;
        eq = memchr(p, '=', (size_t)(amp - p));
        if (eq) {
            name_end = decode(p, eq);
            *name_end = '\0';
            val_end = decode(eq + 1, amp);
            *val_end = '\0';
            ur_fields_add(f, p, eq + 1);
        }
        p = amp + 1;
    }
    return 0;
}

int ur_fields_from_json(const char *body, size_t len, struct ur_fields *f, char *err,
                        size_t errlen)
{
    json_error_t jerr;
    const char *name;
    json_t *v;

    memset(f, 0, sizeof *f);
    f->root = json_loadb(body, len, 0, &jerr);
    if (!f->root) {
        snprintf(err, errlen, "malformed JSON at line %d column %d", jerr.line, jerr.column);
        return -1;
    }
    if (!json_is_object(f->root)) {
        snprintf(err, errlen, "body must be a JSON object (see the template in the README)");
        return -1;
    }
    json_object_foreach(f->root, name, v) {
        if (json_is_string(v)) {
            ur_fields_add(f, name, json_string_value(v));
        } else if (json_is_integer(v) && f->n < UR_MAX_FIELDS) {
            snprintf(f->numbers[f->n], sizeof f->numbers[0], "%lld",
                     (long long)json_integer_value(v));
            ur_fields_add(f, name, f->numbers[f->n]);
        } else if (!json_is_null(v) && !json_is_real(v)) {
            snprintf(err, errlen, "%.60s: must be a string or a number", name);
            return -1;
        }
    }
    return 0;
}

void ur_fields_free(struct ur_fields *f)
{
    free(f->buf);
    json_decref(f->root);
    f->buf = NULL;
    f->root = NULL;
}

/* A whole decimal number (surrounding blanks allowed). */
static int number(const char *s, long long *out)
{
    char *end;

    if (!s)
        return -1;
    while (isspace((unsigned char)*s))
        s++;
    if (!isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    *out = strtoll(s, &end, 10);
    while (isspace((unsigned char)*end))
        end++;
    return errno || *end ? -1 : 0;
}

static const char *or_text(const char *s, const char *fallback)
{
    return s && *s ? s : fallback;
}

static void alert_init(struct ur_alert *a, const struct ur_rules *rules, const char *kind,
                       const char *name, const char *url)
{
    a->alert.labels = a->labels;
    a->alert.links = a->links;
    a->labels[a->alert.n_labels++] = (struct tocsin_kv){ "monitor_id", a->id };
    a->labels[a->alert.n_labels++] = (struct tocsin_kv){ "alert_type", kind };
    if (name && *name)
        a->labels[a->alert.n_labels++] = (struct tocsin_kv){ "monitor", name };
    if (url && *url)
        a->labels[a->alert.n_labels++] = (struct tocsin_kv){ "url", url };
    snprintf(a->link, sizeof a->link, "%s%s", rules->dashboard_url ? rules->dashboard_url : "",
             a->id);
    if (rules->dashboard_url && *rules->dashboard_url)
        a->links[a->alert.n_links++] = (struct tocsin_kv){ "generator", a->link };
}

int ur_webhook_alert(const struct ur_fields *f, const struct ur_rules *rules,
                     struct ur_alert *out, size_t *n, char *err, size_t errlen)
{
    const char *name = ur_fields_get(f, "monitorFriendlyName");
    const char *url = ur_fields_get(f, "monitorURL");
    const char *reason = ur_fields_get(f, "alertDetails");
    long long id, type, at = 0, secs;
    const char *shown;

    memset(out, 0, sizeof *out);
    *n = 0;
    if (number(ur_fields_get(f, "monitorID"), &id) != 0) {
        snprintf(err, errlen, "monitorID: %s", ur_fields_get(f, "monitorID")
                                                    ? "must be a number" : "missing");
        return TOCSIN_EINVAL;
    }
    if (number(ur_fields_get(f, "alertType"), &type) != 0) {
        snprintf(err, errlen, "alertType: %s", ur_fields_get(f, "alertType")
                                                    ? "must be a number" : "missing");
        return TOCSIN_EINVAL;
    }
    if (type < 1 || type > 3)
        return TOCSIN_OK; /* newer alert types: nothing to map */
    snprintf(out->id, sizeof out->id, "%lld", id);
    shown = or_text(name, or_text(url, out->id));
    if (number(ur_fields_get(f, "alertDateTime"), &at) == 0 && at > 0 && at < 100000000000LL)
        at *= 1000;
    else
        at = 0;
    if (type == 3) {
        const char *date = ur_fields_get(f, "sslExpiryDate");
        const char *days = ur_fields_get(f, "sslExpiryDaysLeft");

        alert_init(out, rules, "ssl", name, url);
        snprintf(out->key, sizeof out->key, "uptimerobot:%s:ssl", out->id);
        snprintf(out->summary, sizeof out->summary, "%.*s: SSL certificate expires %s%s%s%s",
                 tc_utf8_clip(shown, 200), shown, or_text(date, "soon"),
                 days && *days ? " (" : "", days && *days ? days : "",
                 days && *days ? " days left)" : "");
        out->alert.severity = ur_severity(rules->severity, "ssl");
        out->alert.status = TOCSIN_FIRING;
        out->alert.started_at = at;
    } else {
        alert_init(out, rules, type == 1 ? "down" : "up", name, url);
        snprintf(out->key, sizeof out->key, "uptimerobot:%s", out->id);
        out->alert.severity = ur_severity(rules->severity, "down");
        if (type == 1) {
            out->alert.status = TOCSIN_FIRING;
            out->alert.started_at = at;
            snprintf(out->summary, sizeof out->summary, "%.*s is down%s%.*s",
                     tc_utf8_clip(shown, 200), shown, reason && *reason ? ": " : "",
                     tc_utf8_clip(or_text(reason, ""), 180), or_text(reason, ""));
        } else {
            out->alert.status = TOCSIN_RESOLVED;
            out->alert.ended_at = at;
            snprintf(out->summary, sizeof out->summary, "%.*s is up",
                     tc_utf8_clip(shown, 200), shown);
        }
    }
    out->alert.dedup_key = out->key;
    out->alert.summary = out->summary;
    if (reason && *reason) {
        const char *dur = ur_fields_get(f, "alertFriendlyDuration");

        snprintf(out->details, sizeof out->details, "%.*s%s%.*s",
                 tc_utf8_clip(reason, 300), reason, dur && *dur ? "\nDown for " : "",
                 tc_utf8_clip(or_text(dur, ""), 100), or_text(dur, ""));
        out->alert.details = out->details;
    } else if (number(ur_fields_get(f, "alertDuration"), &secs) == 0 && type == 2) {
        snprintf(out->details, sizeof out->details, "Down for %lld s", secs);
        out->alert.details = out->details;
    }
    *n = 1;
    return TOCSIN_OK;
}

/* ---- polling ------------------------------------------------------------- */

static int int_member(json_t *o, const char *name, int64_t *out)
{
    json_t *v = json_object_get(o, name);

    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return 0;
    }
    if (json_is_string(v)) { /* some API versions quote numbers */
        long long n;

        if (number(json_string_value(v), &n) == 0) {
            *out = n;
            return 0;
        }
    }
    return -1;
}

int ur_page_parse(const char *body, size_t len, struct ur_page *out, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *pg;
    const char *stat;

    memset(out, 0, sizeof *out);
    out->root = json_loadb(body, len, 0, &jerr);
    if (!out->root) {
        snprintf(err, errlen, "malformed JSON at line %d column %d", jerr.line, jerr.column);
        return TOCSIN_EINVAL;
    }
    stat = json_string_value(json_object_get(out->root, "stat"));
    if (!stat) {
        snprintf(err, errlen, "no \"stat\" in the answer");
        return TOCSIN_EINVAL;
    }
    if (strcmp(stat, "ok") != 0) {
        json_t *e = json_object_get(out->root, "error");
        const char *type = json_string_value(json_object_get(e, "type"));
        const char *param = json_string_value(json_object_get(e, "parameter_name"));
        const char *msg = json_string_value(json_object_get(e, "message"));

        /* Never passed_value: it can be the API key. */
        snprintf(err, errlen, "stat \"%.20s\": %.60s%s%.60s%s%.120s", stat,
                 type ? type : "unknown error", param ? " (parameter " : "",
                 param ? param : "", param ? ")" : "", msg ? msg : "");
        return TOCSIN_EINVAL;
    }
    out->monitors = json_object_get(out->root, "monitors");
    if (!json_is_array(out->monitors)) {
        snprintf(err, errlen, "monitors: missing or not an array");
        return TOCSIN_EINVAL;
    }
    pg = json_object_get(out->root, "pagination");
    out->limit = 50;
    out->total = (int64_t)json_array_size(out->monitors);
    if (pg && (int_member(pg, "offset", &out->offset) != 0 ||
               int_member(pg, "limit", &out->limit) != 0 ||
               int_member(pg, "total", &out->total) != 0)) {
        snprintf(err, errlen, "pagination: offset, limit and total must be numbers");
        return TOCSIN_EINVAL;
    }
    return TOCSIN_OK;
}

void ur_page_free(struct ur_page *p)
{
    json_decref(p->root);
    p->root = NULL;
}

/* A monitor's state from its status: "down", "up" or NULL (paused, not
 * checked yet, seems down when that does not fire: keep what was). */
static const char *state_of(int64_t status, const struct ur_rules *rules)
{
    if (status == 9 || (status == 8 && rules->seems_down_fires))
        return "down";
    return status == 2 ? "up" : NULL;
}

static void change(struct ur_changes *c, const struct ur_rules *rules, const char *id,
                   const char *name, const char *url, int down, int gone)
{
    struct ur_alert *a = &c->alerts[c->n++];
    const char *shown = or_text(name, or_text(url, id));

    snprintf(a->id, sizeof a->id, "%s", id);
    alert_init(a, rules, down ? "down" : "up", name, url);
    snprintf(a->key, sizeof a->key, "uptimerobot:%s", a->id);
    a->alert.dedup_key = a->key;
    a->alert.status = down ? TOCSIN_FIRING : TOCSIN_RESOLVED;
    a->alert.severity = ur_severity(rules->severity, "down");
    snprintf(a->summary, sizeof a->summary, "%.*s %s", tc_utf8_clip(shown, 200), shown,
             down ? "is down" : gone ? "is no longer monitored by UptimeRobot" : "is up");
    a->alert.summary = a->summary;
}

int ur_diff(const json_t *prev, const json_t *monitors, const struct ur_rules *rules,
            struct ur_changes *out)
{
    size_t i, max = json_array_size(monitors) + json_object_size(prev);
    const char *id;
    json_t *m, *was;

    memset(out, 0, sizeof *out);
    out->next = json_object();
    out->alerts = calloc(max ? max : 1, sizeof *out->alerts);
    if (!out->next || !out->alerts)
        return TOCSIN_ENOMEM;
    json_array_foreach(monitors, i, m) {
        const char *name = json_string_value(json_object_get(m, "friendly_name"));
        const char *url = json_string_value(json_object_get(m, "url"));
        const char *now, *before;
        char key[24];
        int64_t mid, status;

        if (int_member(m, "id", &mid) != 0 || int_member(m, "status", &status) != 0)
            continue; /* not a monitor we can follow */
        snprintf(key, sizeof key, "%lld", (long long)mid);
        was = json_object_get(prev, key);
        before = json_string_value(json_object_get(was, "st"));
        now = state_of(status, rules);
        if (now && (!before || strcmp(before, now) != 0) &&
            (strcmp(now, "down") == 0 || before))
            change(out, rules, key, name, url, strcmp(now, "down") == 0, 0);
        if (!now)
            now = before;
        if (now && json_object_set_new(out->next, key,
                                       json_pack("{s:s,s:s?,s:s?}", "st", now, "name", name,
                                                 "url", url)) != 0)
            return TOCSIN_ENOMEM;
    }
    json_object_foreach((json_t *)prev, id, was) {
        const char *before = json_string_value(json_object_get(was, "st"));

        if (json_object_get(out->next, id) || !before || strcmp(before, "down") != 0)
            continue;
        change(out, rules, id, json_string_value(json_object_get(was, "name")),
               json_string_value(json_object_get(was, "url")), 0, 1);
    }
    return TOCSIN_OK;
}

void ur_changes_free(struct ur_changes *c)
{
    free(c->alerts);
    json_decref(c->next);
    c->alerts = NULL;
    c->next = NULL;
}
