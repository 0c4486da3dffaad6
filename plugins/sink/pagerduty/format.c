/* format.c: PagerDuty Events API v2 events from tocsin notifications, and
 * PagerDuty's error answers read back. See /v2/enqueue in
 * /work/shared/formats/pagerduty.md; the mapping:
 *  - dedup_key: the incident's dedup key (its label fingerprint when it has
 *    none), on every action, so a retry and the follow-ups name one alert;
 *  - payload.summary: the summary, cut to 1024 with "…" ("[TEST] " first
 *    for tocsind --test-sink); .source: label instance, else the service,
 *    else the alert's source; .severity from the instance's map;
 *    .timestamp: started_at (else first_seen); .component/.group/.class
 *    from the labels the options name; .custom_details: labels, then
 *    annotations, then "details" (an annotation named like a label is
 *    kept as "annotation:NAME");
 *  - links: runbook (annotation runbook_url), the source (links.generator),
 *    other links by title, the tocsin incident page;
 *  - client "tocsin", client_url the incident page when external_url is set. */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "format.h"

const char *const pd_default_severity[5] = { "critical", "error", "warning", "info", "info" };

int pd_severity_ok(const char *s)
{
    static const char *const ok[] = { "critical", "error", "warning", "info" };
    size_t i;

    for (i = 0; s && i < sizeof ok / sizeof ok[0]; i++)
        if (strcmp(s, ok[i]) == 0)
            return 1;
    return 0;
}

char *pd_dedup_key(const struct tocsin_notification *n)
{
    const struct tocsin_alert *a = n->alert;
    char fp[17];

    if (a->dedup_key && *a->dedup_key)
        return tc_key_fit(a->dedup_key, PD_DEDUP_KEY_MAX);
    return strdup(tc_fingerprint_hex(a->labels, a->n_labels, fp));
}

static const char *label(const struct tocsin_alert *a, const char *name)
{
    const char *v = name ? tocsin_kv_get(a->labels, a->n_labels, name) : NULL;

    return v && *v ? v : NULL;
}

static const char *summary_of(const struct tocsin_alert *a)
{
    if (a->summary && *a->summary)
        return a->summary;
    if (label(a, "alertname"))
        return label(a, "alertname");
    return a->dedup_key && *a->dedup_key ? a->dedup_key : "(no summary)";
}

static const char *source_of(const struct tocsin_alert *a)
{
    if (label(a, "instance"))
        return label(a, "instance");
    if (a->service && *a->service)
        return a->service;
    return a->source && *a->source ? a->source : "tocsin";
}

static json_t *summary_json(const struct tocsin_notification *n)
{
    const char *s = summary_of(n->alert);
    char *text, *fit;
    json_t *j;

    if (n->test) {
        size_t len = strlen(s) + sizeof "[TEST] ";

        text = malloc(len);
        if (!text)
            return NULL;
        snprintf(text, len, "[TEST] %s", s);
    } else {
        text = strdup(s);
        if (!text)
            return NULL;
    }
    fit = tc_text_fit(text, PD_SUMMARY_MAX);
    free(text);
    j = fit ? tc_json_string(fit) : NULL;
    free(fit);
    return j;
}

static void set_label(json_t *payload, const char *field, const struct tocsin_alert *a,
                      const char *name)
{
    const char *v = label(a, name);

    if (v)
        json_object_set_new(payload, field, tc_json_string(v));
}

static json_t *custom_details(const struct tocsin_alert *a)
{
    json_t *o = json_object();
    size_t i;

    if (!o)
        return NULL;
    for (i = 0; i < a->n_labels; i++)
        if (a->labels[i].key && a->labels[i].value)
            json_object_set_new(o, a->labels[i].key, tc_json_string(a->labels[i].value));
    for (i = 0; i < a->n_annotations; i++) {
        const struct tocsin_kv *kv = &a->annotations[i];
        char name[256];

        if (!kv->key || !kv->value)
            continue;
        if (json_object_get(o, kv->key)) {
            snprintf(name, sizeof name, "annotation:%.*s", tc_utf8_clip(kv->key, 200), kv->key);
            json_object_set_new(o, name, tc_json_string(kv->value));
        } else {
            json_object_set_new(o, kv->key, tc_json_string(kv->value));
        }
    }
    if (a->details && *a->details && !json_object_get(o, "details"))
        json_object_set_new(o, "details", tc_json_string(a->details));
    return o;
}

/* {external_url}/api/v1/incidents/{id}, or NULL when there is no page. */
static char *incident_url(const struct tocsin_notification *n)
{
    const char *base = n->external_url;
    size_t len;
    char *url;

    if (!base || !*base || n->incident_id <= 0)
        return NULL;
    len = strlen(base);
    while (len > 0 && base[len - 1] == '/')
        len--;
    url = malloc(len + 64);
    if (url)
        snprintf(url, len + 64, "%.*s/api/v1/incidents/%lld", (int)len, base,
                 (long long)n->incident_id);
    return url;
}

static void add_link(json_t *links, const char *href, const char *text)
{
    json_t *l;

    if (!href || !*href)
        return;
    l = json_object();
    if (!l)
        return;
    json_object_set_new(l, "href", tc_json_string(href));
    json_object_set_new(l, "text", tc_json_string(text));
    json_array_append_new(links, l);
}

static json_t *links_json(const struct tocsin_alert *a, const char *page, long long id)
{
    json_t *links = json_array();
    char text[64];
    size_t i;

    if (!links)
        return NULL;
    add_link(links, tocsin_kv_get(a->annotations, a->n_annotations, "runbook_url"), "Runbook");
    add_link(links, tocsin_kv_get(a->links, a->n_links, "generator"), "Source");
    for (i = 0; i < a->n_links; i++)
        if (a->links[i].key && strcmp(a->links[i].key, "generator") != 0)
            add_link(links, a->links[i].value, a->links[i].key);
    snprintf(text, sizeof text, "tocsin incident %lld", id);
    add_link(links, page, text);
    return links;
}

static char *dump(json_t *o)
{
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

    json_decref(o);
    return s;
}

static json_t *event_head(const struct pd_event_conf *c, const struct tocsin_notification *n)
{
    json_t *o = json_object();
    char *key = pd_dedup_key(n);

    if (!o || !key) {
        json_decref(o);
        free(key);
        return NULL;
    }
    json_object_set_new(o, "routing_key", tc_json_string(c->routing_key ? c->routing_key : ""));
    json_object_set_new(o, "event_action", json_string(tocsin_action_name(n->action)));
    json_object_set_new(o, "dedup_key", tc_json_string(key));
    free(key);
    return o;
}

static json_t *trigger(const struct pd_event_conf *c, const struct tocsin_notification *n,
                       int with_details)
{
    const struct tocsin_alert *a = n->alert;
    json_t *o = event_head(c, n), *payload = json_object();
    char when[40], *page = incident_url(n);
    int64_t started = a->started_at ? a->started_at : n->first_seen;
    unsigned sev = (unsigned)a->severity < 5 ? (unsigned)a->severity : TOCSIN_SEV_INFO;

    if (!o || !payload) {
        json_decref(o);
        json_decref(payload);
        free(page);
        return NULL;
    }
    json_object_set_new(payload, "summary", summary_json(n));
    json_object_set_new(payload, "source", tc_json_string(source_of(a)));
    json_object_set_new(payload, "severity",
                        json_string(c->severity[sev] ? c->severity[sev]
                                                     : pd_default_severity[sev]));
    if (started > 0)
        json_object_set_new(payload, "timestamp",
                            json_string(tc_time_format(started, when, sizeof when)));
    set_label(payload, "component", a, c->component_label);
    set_label(payload, "group", a, c->group_label);
    set_label(payload, "class", a, c->class_label);
    if (with_details)
        json_object_set_new(payload, "custom_details", custom_details(a));
    else
        json_object_set_new(payload, "custom_details",
                            json_pack("{s:s}", "tocsin",
                                      "labels and annotations left out: the event would "
                                      "exceed PagerDuty's 512 KB"));
    json_object_set_new(o, "payload", payload);
    json_object_set_new(o, "links", links_json(a, page, (long long)n->incident_id));
    json_object_set_new(o, "client", json_string("tocsin"));
    if (page)
        json_object_set_new(o, "client_url", tc_json_string(page));
    free(page);
    return o;
}

char *pd_format_event(const struct pd_event_conf *c, const struct tocsin_notification *n)
{
    char *s;

    if (!n || !n->alert)
        return NULL;
    if (n->action != TOCSIN_ACT_TRIGGER)
        return dump(event_head(c, n));
    s = dump(trigger(c, n, 1));
    if (s && strlen(s) > PD_EVENT_MAX) {
        /* Huge annotations: page anyway, without them. */
        free(s);
        s = dump(trigger(c, n, 0));
    }
    return s;
}

int pd_answer_matches(const char *body, const struct tocsin_notification *n)
{
    json_t *j = json_loads(body, 0, NULL);
    const char *got = json_string_value(json_object_get(j, "dedup_key"));
    char *key = got ? pd_dedup_key(n) : NULL;
    json_t *sent = key ? tc_json_string(key) : NULL; /* as it went out */
    int same = !got || !sent || strcmp(got, json_string_value(sent)) == 0;

    json_decref(sent);
    free(key);
    json_decref(j);
    return same;
}

void pd_refusal(long status, const char *body, char *out, size_t len)
{
    json_t *j = body && *body ? json_loads(body, 0, NULL) : NULL;
    const char *msg = json_string_value(json_object_get(j, "message"));
    json_t *errors = json_object_get(j, "errors"), *e;
    size_t i;

    snprintf(out, len, "HTTP %ld", status);
    if (!msg && !json_array_size(errors)) {
        /* Not PagerDuty's shape: quote the start of what came. */
        if (body && *body) {
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
    json_array_foreach(errors, i, e) {
        if (!json_is_string(e))
            continue;
        tc_text_append(out, len, i == 0 ? ": " : "; ");
        tc_text_append(out, len, json_string_value(e));
    }
    json_decref(j);
}
