/* format.c: the webhook sink's two payloads, tocsin's native one and
 * Alertmanager's webhook format (so existing Alertmanager receivers work
 * unchanged). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "format.h"

static char *dump(json_t *o)
{
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

    json_decref(o);
    return s;
}

char *webhook_format_native(const struct tocsin_notification *n)
{
    json_t *o, *alert;

    if (!n || !n->alert)
        return NULL;
    o = json_object();
    alert = tc_alert_to_json(n->alert);
    if (!o || !alert) {
        json_decref(o);
        json_decref(alert);
        return NULL;
    }
    json_object_set_new(o, "version", json_string("1"));
    json_object_set_new(o, "action", json_string(tocsin_action_name(n->action)));
    json_object_set_new(o, "incident_id", json_integer(n->incident_id));
    tc_json_set_str(o, "sink", n->sink_id ? n->sink_id : "");
    json_object_set_new(o, "outbox_id", json_integer(n->outbox_id));
    json_object_set_new(o, "attempt", json_integer(n->attempt));
    json_object_set_new(o, "occurrences", json_integer(n->occurrences));
    tc_json_set_time(o, "first_seen", n->first_seen);
    tc_json_set_time(o, "last_seen", n->last_seen);
    tc_json_set_str(o, "actor", n->actor);
    tc_json_set_str(o, "note", n->note);
    tc_json_set_str(o, "external_url", n->external_url ? n->external_url : "");
    if (n->test) /* tocsind --test-sink: a receiver can tell it from a page */
        json_object_set_new(o, "test", json_true());
    if (n->repeat) /* a policy's re-notification, or a reopened incident */
        json_object_set_new(o, "repeat", json_true());
    if (n->previous_id)
        json_object_set_new(o, "previous_id", json_integer(n->previous_id));
    json_object_set_new(o, "alert", alert);
    return dump(o);
}

char *webhook_group_key(const char *dedup_key)
{
    static const char head[] = "{}:{dedup_key=\"", tail[] = "\"}";
    const unsigned char *p;
    char *out, *q;

    if (!dedup_key)
        dedup_key = "";
    /* Worst case every byte becomes \xNN. */
    out = malloc(sizeof head + strlen(dedup_key) * 4 + sizeof tail);
    if (!out)
        return NULL;
    q = out + (sizeof head - 1);
    memcpy(out, head, sizeof head - 1);
    for (p = (const unsigned char *)dedup_key; *p; p++) {
        switch (*p) {
        case '"': *q++ = '\\'; *q++ = '"'; break;
        case '\\': *q++ = '\\'; *q++ = '\\'; break;
        case '\n': *q++ = '\\'; *q++ = 'n'; break;
        case '\r': *q++ = '\\'; *q++ = 'r'; break;
        case '\t': *q++ = '\\'; *q++ = 't'; break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                q += sprintf(q, "\\x%02x", *p);
            else
                *q++ = (char)*p;
        }
    }
    memcpy(q, tail, sizeof tail);
    return out;
}

static json_t *time_or_zero(int64_t ms)
{
    char buf[40];

    return json_string(ms ? tc_time_format(ms, buf, sizeof buf) : WEBHOOK_ZERO_TIME);
}

/* How tocsin maps onto Alertmanager's payload:
 *  - one notification is one group of exactly one alert, so commonLabels
 *    and commonAnnotations are that alert's labels and annotations;
 *  - groupKey is {}:{dedup_key="..."}, stable per incident; groupLabels is
 *    {}: tocsin groups by incident, not by labels, and an empty object
 *    tells templates that honestly (a made-up "dedup_key" label would
 *    appear in no alert's labels);
 *  - status is "resolved" for a resolve, else "firing" (an acknowledged
 *    incident is still firing: Alertmanager has no such state);
 *  - annotations gain "summary" and "description" from the alert's summary
 *    and details when absent, so receivers that template on them show
 *    alerts from non-Prometheus inputs too;
 *  - startsAt is started_at (else first_seen); endsAt is the zero time
 *    while firing, and ended_at (else last_seen) once resolved;
 *  - generatorURL is links.generator (else ""); fingerprint is the label
 *    fingerprint, as Alertmanager computes it. */
char *webhook_format_alertmanager(const struct tocsin_notification *n, const char *receiver)
{
    const struct tocsin_alert *a;
    json_t *o, *item, *alerts, *annotations;
    const char *status, *gen;
    char fp[17], *group_key;
    int64_t starts, ends;

    if (!n || !n->alert)
        return NULL;
    a = n->alert;
    status = n->action == TOCSIN_ACT_RESOLVE ? "resolved" : "firing";
    tc_fingerprint_hex(a->labels, a->n_labels, fp);
    group_key = webhook_group_key(a->dedup_key && *a->dedup_key ? a->dedup_key : fp);
    annotations = tc_kv_to_json(a->annotations, a->n_annotations);
    o = json_object();
    item = json_object();
    alerts = json_array();
    if (!group_key || !annotations || !o || !item || !alerts) {
        free(group_key);
        json_decref(annotations);
        json_decref(o);
        json_decref(item);
        json_decref(alerts);
        return NULL;
    }
    if (a->summary && *a->summary && !json_object_get(annotations, "summary"))
        json_object_set_new(annotations, "summary", tc_json_string(a->summary));
    if (a->details && *a->details && !json_object_get(annotations, "description"))
        json_object_set_new(annotations, "description", tc_json_string(a->details));

    starts = a->started_at ? a->started_at : n->first_seen;
    ends = 0;
    if (n->action == TOCSIN_ACT_RESOLVE)
        ends = a->ended_at ? a->ended_at : n->last_seen;
    gen = tocsin_kv_get(a->links, a->n_links, "generator");

    json_object_set_new(item, "status", json_string(status));
    json_object_set_new(item, "labels", tc_kv_to_json(a->labels, a->n_labels));
    json_object_set_new(item, "annotations", json_deep_copy(annotations));
    json_object_set_new(item, "startsAt", time_or_zero(starts));
    json_object_set_new(item, "endsAt", time_or_zero(ends));
    json_object_set_new(item, "generatorURL", tc_json_string(gen ? gen : ""));
    json_object_set_new(item, "fingerprint", json_string(fp));
    json_array_append_new(alerts, item);

    json_object_set_new(o, "version", json_string("4"));
    json_object_set_new(o, "groupKey", tc_json_string(group_key));
    json_object_set_new(o, "truncatedAlerts", json_integer(0));
    json_object_set_new(o, "status", json_string(status));
    tc_json_set_str(o, "receiver", receiver ? receiver : n->sink_id ? n->sink_id : "");
    json_object_set_new(o, "groupLabels", json_object());
    json_object_set_new(o, "commonLabels", tc_kv_to_json(a->labels, a->n_labels));
    json_object_set_new(o, "commonAnnotations", annotations);
    tc_json_set_str(o, "externalURL", n->external_url ? n->external_url : "");
    json_object_set_new(o, "alerts", alerts);
    free(group_key);
    return dump(o);
}
