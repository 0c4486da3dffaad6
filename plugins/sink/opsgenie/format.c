/* format.c: Opsgenie Alert API v2 requests from tocsin notifications, and
 * Opsgenie's error answers read back. See /work/shared/formats/opsgenie.md;
 * the mapping:
 *  - alias: the incident's dedup key (its label fingerprint when it has
 *    none), cut to 512 with a stable hash: a retried create is counted on
 *    the open alert, and acknowledge and close find it without Opsgenie's id;
 *  - create: message (the summary, cut to 130 with "…", "[TEST] " first
 *    for tocsind --test-sink), description (the details, then the runbook,
 *    source, other and incident links on lines of their own, never cut),
 *    responders, tags ("label:value" for tags_from), details (labels and
 *    annotations, an annotation named like a label as "annotation:NAME",
 *    8000 in all), entity (label instance, else the service), source
 *    "tocsin", priority from the instance's map;
 *  - acknowledge / close: POST /v2/alerts/{alias}/{acknowledge,close}
 *    ?identifierType=alias, alias percent-encoded, with user (who), source
 *    "tocsin" and a note saying who, the resolution note and the incident. */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "format.h"

const char *const og_default_priority[5] = { "P1", "P2", "P3", "P4", "P5" };

const char *og_priority_name(const char *s)
{
    int i;

    for (i = 0; s && i < 5; i++)
        if (strcasecmp(s, og_default_priority[i]) == 0)
            return og_default_priority[i];
    return NULL;
}

int og_responder_parse(const char *spec, struct og_responder *r, char *err, size_t errlen)
{
    static const struct { const char *prefix, *type, *key; } kinds[] = {
        { "team:", "team", "name" },
        { "user:", "user", "username" },
        { "escalation:", "escalation", "name" },
        { "schedule:", "schedule", "name" },
    };
    size_t i;

    for (i = 0; spec && i < sizeof kinds / sizeof kinds[0]; i++) {
        size_t n = strlen(kinds[i].prefix);
        const char *v = spec + n, *at;

        if (strncmp(spec, kinds[i].prefix, n) != 0)
            continue;
        if (!*v || strpbrk(v, "\r\n\t")) {
            snprintf(err, errlen, "\"%.80s\" names no %s", spec, kinds[i].type);
            return -1;
        }
        at = strchr(v, '@');
        if (strcmp(kinds[i].type, "user") == 0 && (!at || at == v || !at[1] || strchr(v, ' '))) {
            snprintf(err, errlen, "\"%.80s\": a user is named by the email address of the "
                                  "Opsgenie account", spec);
            return -1;
        }
        r->type = kinds[i].type;
        r->key = kinds[i].key;
        r->value = v;
        return 0;
    }
    snprintf(err, errlen, "\"%.80s\" must be team:NAME, user:EMAIL, escalation:NAME or "
                          "schedule:NAME", spec ? spec : "");
    return -1;
}

char *og_alias(const struct tocsin_notification *n)
{
    const struct tocsin_alert *a = n->alert;
    char fp[17];

    if (a->dedup_key && *a->dedup_key)
        return tc_key_fit(a->dedup_key, OG_ALIAS_MAX);
    return strdup(tc_fingerprint_hex(a->labels, a->n_labels, fp));
}

static const char *label(const struct tocsin_alert *a, const char *name)
{
    const char *v = tocsin_kv_get(a->labels, a->n_labels, name);

    return v && *v ? v : NULL;
}

/* o[key] = s cut to max units (nothing when s is NULL or empty). */
static void set_fit(json_t *o, const char *key, const char *s, size_t max)
{
    char *fit;

    if (!s || !*s)
        return;
    fit = tc_text_fit(s, max);
    if (fit)
        json_object_set_new(o, key, tc_json_string(fit));
    free(fit);
}

/* A malloc()ed printf, NULL without memory. */
TOCSIN_PRINTF(1, 2)
static char *fmt(const char *f, ...)
{
    va_list ap;
    char *s;
    int n;

    va_start(ap, f);
    n = vsnprintf(NULL, 0, f, ap);
    va_end(ap);
    if (n < 0 || !(s = malloc((size_t)n + 1)))
        return NULL;
    va_start(ap, f);
    vsnprintf(s, (size_t)n + 1, f, ap);
    va_end(ap);
    return s;
}

/* {external_url}/api/v1/incidents/{id}, or NULL when there is no page. */
static char *incident_url(const struct tocsin_notification *n)
{
    const char *base = n->external_url;
    size_t len;

    if (!base || !*base || n->incident_id <= 0)
        return NULL;
    len = strlen(base);
    while (len > 0 && base[len - 1] == '/')
        len--;
    return fmt("%.*s/api/v1/incidents/%lld", (int)len, base, (long long)n->incident_id);
}

/* Adds "\ntitle: url" to the links block when it still fits in room. */
static void add_link_line(struct tc_text *t, size_t *units, size_t room, const char *title,
                          const char *url)
{
    char *line;
    size_t u;

    if (!url || !*url)
        return;
    line = fmt("\n%s: %s", title, url);
    if (!line)
        return;
    u = tc_text_units(line);
    if (*units + u <= room) { /* a link goes whole or not at all */
        tc_text_put(t, line, strlen(line));
        *units += u;
    }
    free(line);
}

/* The details, a blank line, then one line per link; links go whole and
 * first (leaving at least 100 units for the details), the details are cut. */
static json_t *description(const struct tocsin_notification *n, const char *page)
{
    const struct tocsin_alert *a = n->alert;
    const size_t room = OG_DESCRIPTION_MAX - 100;
    struct tc_text links = { 0 };
    size_t units = 0, i;
    char *details, *text = NULL;
    json_t *j = NULL;

    add_link_line(&links, &units, room, "Runbook",
                  tocsin_kv_get(a->annotations, a->n_annotations, "runbook_url"));
    add_link_line(&links, &units, room, "Source", tocsin_kv_get(a->links, a->n_links, "generator"));
    for (i = 0; i < a->n_links; i++)
        if (a->links[i].key && strcmp(a->links[i].key, "generator") != 0)
            add_link_line(&links, &units, room, a->links[i].key, a->links[i].value);
    add_link_line(&links, &units, room, "Incident", page);
    tc_text_put(&links, "", 1); /* each line starts with "\n" */
    details = links.failed ? NULL
                           : tc_text_fit(a->details ? a->details : "",
                                         OG_DESCRIPTION_MAX - units - 1);
    if (details && *details)
        text = fmt("%s%s%s", details, units ? "\n" : "", links.s);
    else if (details && units)
        text = strdup(links.s + 1);
    if (text)
        j = tc_json_string(text);
    free(text);
    free(details);
    free(links.s);
    return j;
}

static json_t *responders(const struct og_conf *c)
{
    json_t *arr = json_array();
    size_t i;

    for (i = 0; arr && i < c->n_responders && i < OG_RESPONDERS_MAX; i++)
        json_array_append_new(arr, json_pack("{s:s, s:s}", "type", c->responders[i].type,
                                             c->responders[i].key, c->responders[i].value));
    return arr;
}

static json_t *tags(const struct og_conf *c, const struct tocsin_alert *a)
{
    json_t *arr = json_array();
    size_t i;

    for (i = 0; arr && i < c->n_tags_from && json_array_size(arr) < OG_TAGS_MAX; i++) {
        const char *v = label(a, c->tags_from[i]);
        char *tag, *fit;

        if (!v)
            continue;
        tag = fmt("%s:%s", c->tags_from[i], v);
        fit = tag ? tc_text_fit(tag, OG_TAG_MAX) : NULL;
        if (fit)
            json_array_append_new(arr, tc_json_string(fit));
        free(tag);
        free(fit);
    }
    return arr;
}

/* Adds key = value while the details' total stays within OG_DETAILS_MAX
 * (*left units): a long value is cut, a key that no longer fits ends it. */
static int add_detail(json_t *o, size_t *left, const char *key, const char *value)
{
    size_t ku = tc_text_units(key);
    char *fit;

    if (ku + 1 >= *left)
        return -1;
    fit = tc_text_fit(value, *left - ku);
    if (!fit)
        return -1;
    *left -= ku + tc_text_units(fit);
    json_object_set_new(o, key, tc_json_string(fit));
    free(fit);
    return 0;
}

static json_t *details(const struct tocsin_alert *a)
{
    json_t *o = json_object();
    size_t left = OG_DETAILS_MAX, i;

    for (i = 0; o && i < a->n_labels; i++)
        if (a->labels[i].key && a->labels[i].value &&
            add_detail(o, &left, a->labels[i].key, a->labels[i].value) < 0)
            return o;
    for (i = 0; o && i < a->n_annotations; i++) {
        const struct tocsin_kv *kv = &a->annotations[i];
        char *name;
        int rc;

        if (!kv->key || !kv->value)
            continue;
        if (!json_object_get(o, kv->key)) {
            rc = add_detail(o, &left, kv->key, kv->value);
        } else {
            name = fmt("annotation:%s", kv->key);
            rc = name ? add_detail(o, &left, name, kv->value) : -1;
            free(name);
        }
        if (rc < 0)
            break;
    }
    return o;
}

static json_t *create(const struct og_conf *c, const struct tocsin_notification *n,
                      const char *alias, const char *page)
{
    const struct tocsin_alert *a = n->alert;
    const char *summary = a->summary && *a->summary ? a->summary
                          : label(a, "alertname") ? label(a, "alertname")
                                                  : alias;
    unsigned sev = (unsigned)a->severity < 5 ? (unsigned)a->severity : TOCSIN_SEV_INFO;
    char *message = n->test ? fmt("[TEST] %s", summary) : strdup(summary);
    json_t *o = json_object(), *desc;

    if (!o || !message) {
        json_decref(o);
        free(message);
        return NULL;
    }
    set_fit(o, "message", message, OG_MESSAGE_MAX);
    free(message);
    json_object_set_new(o, "alias", tc_json_string(alias));
    desc = description(n, page);
    if (desc)
        json_object_set_new(o, "description", desc);
    if (c->n_responders)
        json_object_set_new(o, "responders", responders(c));
    if (c->n_tags_from)
        json_object_set_new(o, "tags", tags(c, a));
    json_object_set_new(o, "details", details(a));
    set_fit(o, "entity", label(a, "instance") ? label(a, "instance") : a->service,
            OG_ENTITY_MAX);
    json_object_set_new(o, "source", json_string("tocsin"));
    json_object_set_new(o, "priority",
                        json_string(c->priority[sev] ? c->priority[sev]
                                                     : og_default_priority[sev]));
    return o;
}

/* {"user": who, "source": "tocsin", "note": what happened}. */
static json_t *follow_up(const struct tocsin_notification *n, const char *page)
{
    const char *who = n->actor && *n->actor ? n->actor : NULL;
    const char *what = n->action == TOCSIN_ACT_RESOLVE ? "Resolved" : "Acknowledged";
    const char *why = n->action == TOCSIN_ACT_RESOLVE && n->note && *n->note ? n->note : NULL;
    json_t *o = json_object();
    char *note;

    note = fmt("%s%s in tocsin%s%s%s%s%s%s", n->test ? "[TEST] " : "", what,
               who ? " by " : "", who ? who : "", why ? ": " : ".", why ? why : "",
               page ? "\n" : "", page ? page : "");
    if (!o || !note) {
        json_decref(o);
        free(note);
        return NULL;
    }
    set_fit(o, "user", who ? who : "tocsin", OG_USER_MAX);
    json_object_set_new(o, "source", json_string("tocsin"));
    set_fit(o, "note", note, OG_NOTE_MAX);
    free(note);
    return o;
}

/* RFC 3986 unreserved characters stay; every other byte is %XX, "/"
 * included, so the alias is one path segment. */
static char *path_escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = malloc(strlen(s) * 3 + 1), *q = out;
    const unsigned char *p;

    if (!out)
        return NULL;
    for (p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            *q++ = (char)*p;
        } else {
            *q++ = '%';
            *q++ = hex[*p >> 4];
            *q++ = hex[*p & 15];
        }
    }
    *q = '\0';
    return out;
}

int og_format(const struct og_conf *c, const struct tocsin_notification *n,
              struct og_request *out)
{
    char *alias, *page, *escaped = NULL;
    json_t *body;

    memset(out, 0, sizeof *out);
    if (!n || !n->alert)
        return -1;
    alias = og_alias(n);
    page = incident_url(n);
    if (!alias) {
        free(page);
        return -1;
    }
    if (n->action == TOCSIN_ACT_TRIGGER) {
        body = create(c, n, alias, page);
        out->path = strdup("/v2/alerts");
    } else {
        body = follow_up(n, page);
        escaped = path_escape(alias);
        out->path = escaped ? fmt("/v2/alerts/%s/%s?identifierType=alias", escaped,
                                  n->action == TOCSIN_ACT_RESOLVE ? "close" : "acknowledge")
                            : NULL;
    }
    out->body = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    free(escaped);
    free(page);
    free(alias);
    if (!out->path || !out->body) {
        og_request_free(out);
        return -1;
    }
    return 0;
}

void og_request_free(struct og_request *r)
{
    free(r->path);
    free(r->body);
    r->path = r->body = NULL;
}

void og_refusal(long status, const char *body, char *out, size_t len)
{
    json_t *j = body && *body ? json_loads(body, 0, NULL) : NULL;
    const char *msg = json_string_value(json_object_get(j, "message"));
    json_t *errors = json_object_get(j, "errors"), *e;
    const char *key;
    size_t i;
    int first = 1;

    snprintf(out, len, "HTTP %ld", status);
    if (!msg && !json_is_object(errors) && !json_is_array(errors)) {
        if (body && *body) { /* not Opsgenie's shape: quote it */
            tc_text_append(out, len, ": ");
            tc_text_append(out, len, body);
        }
        json_decref(j);
        return;
    }
    if (msg) {
        tc_text_append(out, len, ": ");
        tc_text_append(out, len, msg);
    }
    json_object_foreach(errors, key, e) {
        if (!json_is_string(e))
            continue;
        tc_text_append(out, len, first ? ": " : "; ");
        tc_text_append(out, len, key);
        tc_text_append(out, len, ": ");
        tc_text_append(out, len, json_string_value(e));
        first = 0;
    }
    json_array_foreach(errors, i, e) {
        if (!json_is_string(e))
            continue;
        tc_text_append(out, len, first ? ": " : "; ");
        tc_text_append(out, len, json_string_value(e));
        first = 0;
    }
    json_decref(j);
}
