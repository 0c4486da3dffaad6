/* apply.c: what each job does to incidents, on the writer thread inside
 * its transaction: an alert (policies, then open, repeat or resolve), a
 * human action, a delivery outcome, an expiry. Each records its timeline
 * rows and collects the outbox rows it creates; pipeline.c owns the
 * thread, the queue and the transactions around these. */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "common.h"
#include "log.h"
#include "metrics.h"

#define MAX_ROUTED 64

/* Annotations a policy adds while judging one alert. */
struct annotations {
    json_t *obj;
};

int tc_rows_push(struct tc_rows *rows, const struct tc_new_row *row)
{
    if (rows->n == rows->cap) {
        size_t cap = rows->cap ? rows->cap * 2 : 4;
        struct tc_new_row *grown = realloc(rows->v, cap * sizeof *grown);

        if (!grown)
            return -1;
        rows->v = grown;
        rows->cap = cap;
    }
    rows->v[rows->n++] = *row;
    return 0;
}

static int add_row(struct tc_rows *rows, const char *sink, int64_t id, int64_t incident,
                   enum tocsin_action action, int64_t at, struct tc_fresh *fresh)
{
    struct tc_new_row row = { sink, id, incident, at, action, fresh };

    if (tc_rows_push(rows, &row) < 0)
        return -1;
    tc_fresh_ref(fresh); /* the row's own reference */
    return 0;
}

void tc_rows_drop(struct tc_rows *rows)
{
    size_t i;

    for (i = 0; i < rows->n; i++)
        tc_fresh_unref(rows->v[i].fresh);
    rows->n = 0;
}

void tc_rows_free(struct tc_rows *rows)
{
    tc_rows_drop(rows);
    free(rows->v);
    rows->v = NULL;
    rows->cap = 0;
}

static const char *config_sink_id(const struct tc_config *cfg, const char *name)
{
    const struct tc_instance_conf *s = tc_config_sink(cfg, name);

    return s ? s->id : NULL;
}

struct notify_ctx {
    struct tc_applier *ap;
    struct tc_rows *rows;
    int64_t incident, at;
    enum tocsin_action action;
    const char *actor, *note;
    int failed;
};

static void notify_one(void *arg, const char *sink)
{
    struct notify_ctx *c = arg;
    const char *id = config_sink_id(c->ap->cfg, sink);
    int64_t row;

    if (!id) {
        tc_warn("incident %lld: sink \"%s\" is no longer configured; not notifying it",
                (long long)c->incident, sink);
        return;
    }
    row = tc_outbox_add(c->ap->inc, c->incident, id, tocsin_action_name(c->action), c->at,
                        c->actor, c->note);
    if (row < 0 || add_row(c->rows, id, row, c->incident, c->action, c->at, NULL) < 0)
        c->failed = 1;
}

/* Notify the sinks that were sent this incident's trigger. */
static int notify_followers(struct tc_applier *ap, struct tc_rows *rows, int64_t incident,
                            enum tocsin_action action, int64_t at, const char *actor,
                            const char *note)
{
    struct notify_ctx c = { ap, rows, incident, at, action, actor, note, 0 };

    if (tc_outbox_trigger_sinks(ap->inc, incident, notify_one, &c) < 0 || c.failed)
        return -1;
    return 0;
}

/* {"k1":"v1"} or {"k1":"v1","k2":"v2"}: the timeline's detail of every
 * new incident, written directly (a jansson tree costs ten times more).
 * NULL when a value is NULL, as json_pack() would have it. */
static char *detail_strs(const char *k1, const char *v1, const char *k2, const char *v2)
{
    struct tc_text t = { NULL, 0, 0, 0 };

    if (!v1 || (k2 && !v2))
        return NULL;
    tc_text_put(&t, "{", 1);
    tc_text_json_string(&t, k1);
    tc_text_put(&t, ":", 1);
    tc_text_json_string(&t, v1);
    if (k2) {
        tc_text_put(&t, ",", 1);
        tc_text_json_string(&t, k2);
        tc_text_put(&t, ":", 1);
        tc_text_json_string(&t, v2);
    }
    tc_text_put(&t, "}", 2); /* with the NUL */
    if (t.failed) {
        free(t.s);
        return NULL;
    }
    return t.s;
}

static char *detail(const char *fmt, ...)
{
    va_list ap;
    json_t *o;
    char *s;

    va_start(ap, fmt);
    o = json_vpack_ex(NULL, 0, fmt, ap);
    va_end(ap);
    if (!o)
        return NULL;
    s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

/* Policies' annotations join the alert's own. Rare: the alert is parsed
 * again from its text rather than kept as an object for every alert. */
static void merge_annotations(struct tc_intake_alert *ia, json_t *added)
{
    json_t *obj = json_loads(ia->json, 0, NULL), *a;
    char *text;

    if (!obj) {
        tc_warn("cannot add policy annotations to alert %s: out of memory", ia->a.dedup_key);
        json_decref(added);
        return;
    }
    a = json_object_get(obj, "annotations");
    if (!json_is_object(a)) {
        a = json_object();
        json_object_set_new(obj, "annotations", a);
    }
    json_object_update(a, added);
    json_decref(added);
    if ((text = json_dumps(obj, JSON_COMPACT))) {
        free(ia->json);
        ia->json = text;
    }
    json_decref(obj);
}

/* Run the policies in order; a suppression stops the chain. Returns the
 * reason (malloc()ed, "policy: reason") or NULL to notify. Annotations
 * are merged into the alert's JSON. */
static char *judge(struct tc_applier *ap, struct tc_intake_alert *ia)
{
    struct annotations ann = { NULL };
    char *reason = NULL;
    size_t i;

    for (i = 0; i < ap->n_policies; i++) {
        const struct tc_policy_ref *pol = &ap->policies[i];
        struct tocsin_policy_result res = { .decision = TOCSIN_PASS, .core = &ann };

        if (pol->plugin->evaluate(pol->self, &ia->a, &res) != TOCSIN_OK) {
            tc_warn("[policy %s] evaluation failed; passing the alert on", pol->id);
            continue;
        }
        if (res.decision == TOCSIN_SUPPRESS) {
            if (asprintf(&reason, "%s: %s", pol->id, res.reason) < 0)
                reason = NULL;
            break;
        }
    }
    if (ann.obj)
        merge_annotations(ia, ann.obj);
    return reason;
}

int tc_apply_annotate(struct tocsin_policy_result *res, const char *key, const char *value)
{
    struct annotations *ann = res->core;

    if (!ann || !key || !value)
        return TOCSIN_EINVAL;
    if (!ann->obj && !(ann->obj = json_object()))
        return TOCSIN_ENOMEM;
    return json_object_set_new(ann->obj, key, json_string(value)) == 0 ? TOCSIN_OK
                                                                       : TOCSIN_EINVAL;
}

static int open_incident(struct tc_applier *ap, struct tc_rows *rows, struct tc_intake_alert *ia,
                         const char *suppressed, int64_t now)
{
    const struct tocsin_alert *a = &ia->a;
    struct tc_new_incident n = {
        a->dedup_key, tocsin_severity_name(a->severity), a->summary, a->source, a->service,
        ia->json, a->received_at, a->expires_at, suppressed, a->started_at,
    };
    size_t routed[MAX_ROUTED], k, count;
    int64_t id = tc_incident_insert(ap->inc, &n);
    struct tc_fresh *fresh = NULL;
    char *d;
    int rc = 0;

    if (id < 0)
        return -1;
    d = detail_strs("severity", n.severity, "summary", a->summary);
    rc |= tc_timeline_add(ap->inc, id, now, "triggered", a->source, d);
    free(d);
    tc_metric_add(TC_M_INCIDENTS_OPENED, 1);
    if (suppressed) {
        d = detail_strs("reason", suppressed, NULL, NULL);
        rc |= tc_timeline_add(ap->inc, id, now, "suppressed", NULL, d);
        free(d);
        tc_metric_add(TC_M_SUPPRESSED, 1);
        return rc;
    }
    count = tc_routes_match(ap->cfg->routes, a, routed, MAX_ROUTED);
    if (count == 0)
        rc |= tc_timeline_add(ap->inc, id, now, "unrouted", NULL, NULL);
    else
        fresh = tc_fresh_new(ia->json, id, a->received_at);
    for (k = 0; k < count && rc == 0; k++) {
        const char *sink = ap->cfg->sinks[routed[k]].id;
        int64_t row = tc_outbox_add(ap->inc, id, sink, "trigger", now, NULL, NULL);

        if (row < 0 || add_row(rows, sink, row, id, TOCSIN_ACT_TRIGGER, now, fresh) < 0)
            rc = -1;
    }
    tc_fresh_unref(fresh);
    return rc;
}

/* An open incident now expires at `at` (0: never): wake up for it. */
static void note_expiry(struct tc_applier *ap, int64_t at)
{
    if (at && at < ap->next_expiry)
        ap->next_expiry = at;
}

/* No incident of this key is open: one a person resolved while the
 * alert still fired may absorb it. 1 when it did (nothing more to do), 0
 * when the alert goes on as usual, -1 on a store error. */
static int absorb_latched(struct tc_applier *ap, struct tc_intake_alert *ia, int64_t now)
{
    int64_t id, expires_at;
    int found = tc_incident_find_latched(ap->inc, ia->a.dedup_key, &id, &expires_at);

    if (found <= 0)
        return found;
    if (ia->a.status == TOCSIN_FIRING && (!expires_at || expires_at > now)) {
        tc_metric_add(TC_M_REPEATS, 1);
        return tc_incident_latched_repeat(ap->inc, id, ia->a.received_at, ia->a.expires_at) < 0
                   ? -1
                   : 1;
    }
    /* The source resolved it, or stopped sending it: the next firing is a
     * new problem. */
    return tc_incident_latch(ap->inc, id, 0) < 0 ? -1 : 0;
}

int tc_apply_alert(struct tc_applier *ap, struct tc_rows *rows, struct tc_intake_alert *ia,
                   int64_t now)
{
    enum tc_state state = TC_NONE;
    int64_t id = 0, started_at = 0;
    char *suppressed = NULL, *d;
    int found, absorbed, rc = 0;

    found = tc_incident_find_open(ap->inc, ia->a.dedup_key, &id, &state, &started_at);
    if (found < 0)
        return -1;
    if (found == 0 && (absorbed = absorb_latched(ap, ia, now)) != 0)
        return absorbed < 0 ? -1 : 0;
    if (found > 0 && ia->a.status == TOCSIN_RESOLVED && ia->a.ended_at &&
        ia->a.ended_at < started_at) {
        /* A resolve that ended before this incident's problem began (HA
         * Prometheus pairs send them): it is about an earlier one. Both
         * times are the source's, so no clock skew between us. */
        tc_debug("incident %lld: ignoring a resolve that ended before it opened",
                 (long long)id);
        tc_metric_add(TC_M_STALE_RESOLVED, 1);
        return 0;
    }
    if (ap->n_policies)
        suppressed = judge(ap, ia);
    switch (tc_incident_transition(state, ia->a.status == TOCSIN_RESOLVED ? TC_EV_RESOLVED
                                                                          : TC_EV_FIRING)) {
    case TC_OPEN:
        rc = open_incident(ap, rows, ia, suppressed, now);
        note_expiry(ap, ia->a.expires_at);
        break;
    case TC_REPEAT:
        /* Coalesced: no timeline row per re-send keeps storage bounded. */
        rc = tc_incident_repeat(ap->inc, id, ia->a.received_at, ia->a.expires_at, ia->json);
        note_expiry(ap, ia->a.expires_at);
        tc_metric_add(TC_M_REPEATS, 1);
        break;
    case TC_CLOSE:
        rc = tc_incident_resolve(ap->inc, id, ia->a.ended_at ? ia->a.ended_at : now,
                                 ia->a.source, NULL, ia->json);
        d = detail_strs("by", "alert", NULL, NULL);
        rc |= tc_timeline_add(ap->inc, id, now, "resolved", ia->a.source, d);
        free(d);
        if (rc == 0 && suppressed) {
            d = detail_strs("reason", suppressed, NULL, NULL);
            rc = tc_timeline_add(ap->inc, id, now, "suppressed", NULL, d);
            free(d);
        } else if (rc == 0) {
            rc = notify_followers(ap, rows, id, TOCSIN_ACT_RESOLVE, now, ia->a.source, NULL);
        }
        tc_metric_add(TC_M_INCIDENTS_RESOLVED, 1);
        break;
    default:
        tc_metric_add(TC_M_STALE_RESOLVED, 1);
        break;
    }
    free(suppressed);
    return rc;
}

int tc_apply_act(struct tc_applier *ap, struct tc_rows *rows, int64_t id, enum tc_event ev,
                 const char *by, const char *note, int64_t now, char *err, size_t errlen)
{
    enum tc_state state = TC_NONE;
    int found = tc_incident_state(ap->inc, id, &state);
    int rc = 0;
    char *d;

    if (found < 0) {
        snprintf(err, errlen, "store error");
        return 500;
    }
    if (found == 0) {
        snprintf(err, errlen, "no incident %lld", (long long)id);
        return 404;
    }
    switch (tc_incident_transition(state, ev)) {
    case TC_TAKE:
        rc = tc_incident_acknowledge(ap->inc, id, now, by);
        rc |= tc_timeline_add(ap->inc, id, now, "acknowledged", by, NULL);
        if (rc == 0)
            rc = notify_followers(ap, rows, id, TOCSIN_ACT_ACKNOWLEDGE, now, by, NULL);
        break;
    case TC_CLOSE:
        /* Latched: while the alert keeps firing it does not page again. */
        rc = tc_incident_resolve(ap->inc, id, now, by, note, NULL);
        rc |= tc_incident_latch(ap->inc, id, 1);
        d = detail_strs("note", note, NULL, NULL);
        rc |= tc_timeline_add(ap->inc, id, now, "resolved", by, d);
        free(d);
        if (rc == 0)
            rc = notify_followers(ap, rows, id, TOCSIN_ACT_RESOLVE, now, by, note);
        tc_metric_add(TC_M_INCIDENTS_RESOLVED, 1);
        break;
    default:
        snprintf(err, errlen, "incident %lld is %s already", (long long)id, tc_state_name(state));
        return 409;
    }
    if (rc) {
        snprintf(err, errlen, "store error");
        return 500;
    }
    return 200;
}

/* What a sink gave up on goes to its fallback, as a new row. */
static int hand_to_fallback(struct tc_applier *ap, struct tc_rows *rows,
                            const struct tc_outcome *o, const char *fallback, int64_t now)
{
    const struct tc_instance_conf *fb = tc_config_sink(ap->cfg, fallback);
    enum tocsin_action action = tc_action_parse(o->action);
    int64_t row;

    if (!fb)
        return 0; /* config.c checked it; a reload may have dropped it */
    row = tc_outbox_copy(ap->inc, o->outbox_id, fb->id, now);
    if (row <= 0)
        return row < 0 ? -1 : 0;
    return add_row(rows, fb->id, row, o->incident_id, action, now, NULL);
}

int tc_apply_delivery(struct tc_applier *ap, struct tc_rows *rows, const struct tc_outcome *o,
                      int64_t now)
{
    int rc = tc_outbox_update(ap->inc, o->outbox_id, o->state, o->attempts, o->throttled,
                              o->next_at, o->reason, now);
    int failed = strcmp(o->state, "failed") == 0, skipped = strcmp(o->state, "skipped") == 0;
    const struct tc_instance_conf *sink = tc_config_sink(ap->cfg, o->sink);
    const char *fallback = (failed || skipped) && sink ? sink->fallback : NULL;
    char *d = NULL, done[200];

    if (rc == 0 && o->ref_set && strcmp(o->state, "done") == 0)
        rc = tc_sink_ref_set(ap->inc, o->incident_id, o->sink, o->ref, o->outbox_id, now);
    if (rc == 0 && strcmp(o->state, "done") == 0) {
        /* Sink ids are [A-Za-z0-9_.-] (config.c) and actions are fixed
         * words: nothing to escape, so no JSON library on this hot path. */
        snprintf(done, sizeof done, "{\"sink\":\"%s\",\"action\":\"%s\",\"attempts\":%d}",
                 o->sink, o->action, o->attempts);
        rc = tc_timeline_add(ap->inc, o->incident_id, now, "notified", NULL, done);
    } else if (rc == 0 && (failed || skipped)) {
        d = detail("{s:s, s:s, s:i, s:s, s:s*}", "sink", o->sink, "action", o->action,
                   "attempts", o->attempts, "reason", o->reason ? o->reason : "", "fallback",
                   fallback);
        rc = tc_timeline_add(ap->inc, o->incident_id, now,
                             failed ? "notify_failed" : "notify_skipped", NULL, d);
        if (rc == 0 && fallback)
            rc = hand_to_fallback(ap, rows, o, fallback, now);
    }
    free(d);
    return rc;
}

int tc_apply_expiry(struct tc_applier *ap, struct tc_rows *rows, int64_t id, int64_t expired_at,
                    int64_t now)
{
    char when[40], d[96], note[160];
    int rc;

    tc_time_format(expired_at, when, sizeof when);
    snprintf(d, sizeof d, "{\"by\":\"expired\",\"expires_at\":\"%s\"}", when);
    snprintf(note, sizeof note, "expired: the alert was not refreshed before %s", when);
    rc = tc_incident_resolve(ap->inc, id, expired_at, "expired", NULL, NULL);
    rc |= tc_timeline_add(ap->inc, id, now, "resolved", NULL, d);
    if (rc == 0)
        rc = notify_followers(ap, rows, id, TOCSIN_ACT_RESOLVE, now, NULL, note);
    tc_metric_add(TC_M_EXPIRED, 1);
    tc_metric_add(TC_M_INCIDENTS_RESOLVED, 1);
    return rc;
}
