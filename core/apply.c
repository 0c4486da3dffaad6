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

static int add_row(struct tc_rows *rows, const char *sink, int64_t id, int64_t incident,
                   enum tocsin_action action, int64_t at, struct tc_fresh *fresh)
{
    struct tc_new_row row = { sink, id, incident, at, action, fresh };

    if (tc_rows_push(rows, &row) < 0)
        return -1;
    tc_fresh_ref(fresh); /* the row's own reference */
    return 0;
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
        ia->annotated = 1; /* the text now says more than ia->a */
    }
    json_decref(obj);
}

/* The alert ia as the incident now stores it, parsed: ia->a, unless
 * policies' annotations were merged into the text only. */
static const struct tocsin_alert *stored_alert(const struct tc_intake_alert *ia)
{
    return ia->annotated ? NULL : &ia->a;
}

/* Tell the listening policies what happened to incident id; stored: the
 * alert just stored as its latest, or NULL (the view reads it back). */
static int tell_stored(struct tc_applier *ap, struct tc_rows *rows, int64_t id,
                       enum tocsin_event_kind kind, const char *actor, const char *note,
                       const struct tocsin_alert *stored, int64_t now)
{
    struct tc_policy_ctx ctx = { ap, rows, ap->inc, now, NULL, 1, stored };
    struct tocsin_event ev = { .kind = kind, .actor = actor, .note = note };

    if (!ap->listening)
        return 0;
    return tc_policy_event(&ctx, ap->policies, ap->n_policies, NULL, id, &ev);
}

/* The same for an event whose alert the incident did not just take. */
static int tell(struct tc_applier *ap, struct tc_rows *rows, int64_t id,
                enum tocsin_event_kind kind, const char *actor, const char *note, int64_t now)
{
    return tell_stored(ap, rows, id, kind, actor, note, NULL, now);
}

/* Trigger rows for the sinks the routes give alert a (repeat: marked so). */
static int notify_routed(struct tc_applier *ap, struct tc_rows *rows, int64_t id,
                         const struct tocsin_alert *a, struct tc_fresh *fresh, int repeat,
                         int64_t now)
{
    size_t routed[MAX_ROUTED], k, count = tc_routes_match(ap->cfg->routes, a, routed, MAX_ROUTED);
    int rc = 0;

    if (count == 0)
        return tc_timeline_add(ap->inc, id, now, "unrouted", NULL, NULL);
    for (k = 0; k < count && rc == 0; k++) {
        const char *sink = ap->cfg->sinks[routed[k]].id;
        int64_t row = tc_outbox_add_repeat(ap->inc, id, sink, "trigger", now, NULL, NULL, repeat);

        if (row < 0 || add_row(rows, sink, row, id, TOCSIN_ACT_TRIGGER, now, fresh) < 0)
            rc = -1;
    }
    return rc;
}

static int note_suppressed(struct tc_applier *ap, int64_t id, const char *reason, int64_t now)
{
    char *d = detail_strs("reason", reason, NULL, NULL);
    int rc = tc_timeline_add(ap->inc, id, now, "suppressed", NULL, d);

    free(d);
    tc_metric_add(TC_M_SUPPRESSED, 1);
    return rc;
}

static int open_incident(struct tc_applier *ap, struct tc_rows *rows, struct tc_intake_alert *ia,
                         const struct tc_judgement *j, int64_t now)
{
    const struct tocsin_alert *a = &ia->a;
    struct tc_new_incident n = {
        a->dedup_key, tocsin_severity_name(a->severity), a->summary, a->source, a->service,
        ia->json, a->received_at, a->expires_at, j->reason, a->started_at,
        j->reason && j->suppressed_by[0] ? j->suppressed_by : NULL, j->previous,
    };
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
    if (j->reason) {
        rc |= note_suppressed(ap, id, j->reason, now);
    } else if (rc == 0) {
        if (!j->previous) /* a follower's notification names its predecessor: read back */
            fresh = tc_fresh_new(ia->json, id, a->received_at);
        rc = notify_routed(ap, rows, id, a, fresh, 0, now);
        tc_fresh_unref(fresh);
    }
    return rc ? rc
              : tell_stored(ap, rows, id, TOCSIN_EV_OPENED, NULL, NULL, stored_alert(ia), now);
}

/* A policy asked to reopen resolved incident j->reopen for this firing:
 * 1 when it did, 0 when that incident cannot be reopened (a new one opens),
 * -1 on a store error. */
static int reopen_incident(struct tc_applier *ap, struct tc_rows *rows,
                           struct tc_intake_alert *ia, const struct tc_judgement *j, int64_t now)
{
    const struct tocsin_alert *a = &ia->a;
    int64_t id = j->reopen;
    int done = tc_incident_reopen(ap->inc, id, a->dedup_key, a->received_at, a->expires_at,
                                  ia->json, j->reason, j->suppressed_by);
    int rc;

    if (done <= 0)
        return done;
    rc = tc_timeline_add(ap->inc, id, now, "reopened", a->source, NULL);
    tc_metric_add(TC_M_INCIDENTS_OPENED, 1);
    if (rc == 0 && j->reason)
        rc = note_suppressed(ap, id, j->reason, now);
    else if (rc == 0) /* the same incident again: sinks see a repeat of its trigger */
        rc = notify_routed(ap, rows, id, a, NULL, 1, now);
    if (rc == 0)
        rc = tell_stored(ap, rows, id, TOCSIN_EV_REOPENED, NULL, NULL, stored_alert(ia), now);
    return rc < 0 ? -1 : 1;
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

/* A policy named the identity of an alert whose input gave none. */
static int rekey(struct tc_intake_alert *ia, const char *key)
{
    char *copy = strdup(key), *json;
    const char *was = ia->a.dedup_key;

    if (!copy)
        return -1;
    ia->a.dedup_key = copy;
    if (!(json = tc_alert_to_text(&ia->a))) {
        ia->a.dedup_key = was;
        free(copy);
        return -1;
    }
    free(ia->key);
    ia->key = copy;
    free(ia->json);
    ia->json = json;
    return 0;
}

/* The policies' verdict on ia, with what they ask of its identity and
 * annotations applied to it. */
static void judge(struct tc_applier *ap, struct tc_rows *rows, struct tc_intake_alert *ia,
                  struct tc_judgement *j, int64_t now)
{
    struct tc_policy_ctx ctx = { ap, rows, ap->inc, now, NULL, 0, NULL };

    tc_policy_judge(&ctx, ap->policies, ap->n_policies, &ia->a, j);
    if (j->dedup_key[0] && ia->fingerprint[0] && strcmp(j->dedup_key, ia->a.dedup_key) != 0 &&
        rekey(ia, j->dedup_key) < 0)
        tc_warn("cannot give alert %s the dedup key a policy asked for: out of memory",
                ia->a.dedup_key);
    if (j->annotations) {
        merge_annotations(ia, j->annotations); /* takes it */
        j->annotations = NULL;
    }
}

int tc_apply_alert(struct tc_applier *ap, struct tc_rows *rows, struct tc_intake_alert *ia,
                   int64_t now)
{
    struct tc_judgement j = { 0 };
    enum tc_state state = TC_NONE;
    int64_t id = 0, started_at = 0;
    int found, absorbed, rc = 0;
    char *d;

    if (ap->n_policies)
        judge(ap, rows, ia, &j, now);
    found = tc_incident_find_open(ap->inc, ia->a.dedup_key, &id, &state, &started_at);
    if (found < 0) {
        rc = -1;
        goto out;
    }
    if (found == 0 && (absorbed = absorb_latched(ap, ia, now)) != 0) {
        rc = absorbed < 0 ? -1 : 0;
        goto out;
    }
    if (found > 0 && ia->a.status == TOCSIN_RESOLVED && ia->a.ended_at &&
        ia->a.ended_at < started_at) {
        /* A resolve that ended before this incident's problem began (HA
         * Prometheus pairs send them): it is about an earlier one. Both
         * times are the source's, so no clock skew between us. */
        tc_debug("incident %lld: ignoring a resolve that ended before it opened",
                 (long long)id);
        tc_metric_add(TC_M_STALE_RESOLVED, 1);
        goto out;
    }
    switch (tc_incident_transition(state, ia->a.status == TOCSIN_RESOLVED ? TC_EV_RESOLVED
                                                                          : TC_EV_FIRING)) {
    case TC_OPEN:
        rc = j.reopen ? reopen_incident(ap, rows, ia, &j, now) : 0;
        if (rc == 0)
            rc = open_incident(ap, rows, ia, &j, now);
        rc = rc < 0 ? -1 : 0;
        note_expiry(ap, ia->a.expires_at);
        break;
    case TC_REPEAT:
        /* Coalesced: no timeline row per re-send keeps storage bounded. */
        rc = tc_incident_repeat(ap->inc, id, ia->a.received_at, ia->a.expires_at, ia->json);
        if (rc == 0 && j.reason) /* muted from now on: a window began */
            rc = tc_incident_mute(ap->inc, id, j.reason, j.suppressed_by);
        if (rc == 0)
            rc = tell_stored(ap, rows, id, TOCSIN_EV_REPEATED, NULL, NULL, stored_alert(ia),
                             now);
        note_expiry(ap, ia->a.expires_at);
        tc_metric_add(TC_M_REPEATS, 1);
        break;
    case TC_CLOSE:
        rc = tc_incident_resolve(ap->inc, id, ia->a.ended_at ? ia->a.ended_at : now,
                                 ia->a.source, NULL, ia->json);
        d = detail_strs("by", "alert", NULL, NULL);
        rc |= tc_timeline_add(ap->inc, id, now, "resolved", ia->a.source, d);
        free(d);
        /* Every sink told "firing" hears the resolve, muted or not: a
         * window that began since must not leave a page open for good. */
        if (rc == 0)
            rc = notify_followers(ap, rows, id, TOCSIN_ACT_RESOLVE, now, ia->a.source, NULL);
        if (rc == 0)
            rc = tell_stored(ap, rows, id, TOCSIN_EV_RESOLVED, "alert", NULL, stored_alert(ia),
                             now);
        tc_metric_add(TC_M_INCIDENTS_RESOLVED, 1);
        break;
    default:
        tc_metric_add(TC_M_STALE_RESOLVED, 1);
        break;
    }
out:
    tc_judgement_free(&j);
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
        if (rc == 0)
            rc = tell(ap, rows, id, TOCSIN_EV_ACKNOWLEDGED, by, NULL, now);
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
        if (rc == 0)
            rc = tell(ap, rows, id, TOCSIN_EV_RESOLVED, by, note, now);
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
    if (rc == 0)
        rc = tell(ap, rows, id, TOCSIN_EV_RESOLVED, "expired", NULL, now);
    tc_metric_add(TC_M_EXPIRED, 1);
    tc_metric_add(TC_M_INCIDENTS_RESOLVED, 1);
    return rc;
}

int tc_apply_timer(struct tc_applier *ap, struct tc_rows *rows, const char *instance,
                   int64_t incident, const char *name, int64_t due, int64_t now)
{
    struct tc_policy_ctx ctx = { ap, rows, ap->inc, now, NULL, 1, NULL };
    struct tocsin_event ev = { .kind = TOCSIN_EV_TIMER, .timer = name,
                               .timer_incident = incident, .due = due };
    size_t i;

    for (i = 0; i < ap->n_policies; i++)
        if (strcmp(ap->policies[i].id, instance) == 0)
            break;
    if (i == ap->n_policies || !ap->policies[i].plugin->on_event) {
        tc_warn("timer \"%s\" of policy \"%s\" fell due, but no such policy hears events "
                "any more; dropped", name, instance);
        return 0;
    }
    return tc_policy_event(&ctx, ap->policies, ap->n_policies, &ap->policies[i], incident, &ev);
}

/* The sinks of a notify() call: each a configured sink. */
static int check_sinks(struct tc_applier *ap, const char *const *sinks)
{
    size_t i;

    for (i = 0; sinks && sinks[i]; i++)
        if (!config_sink_id(ap->cfg, sinks[i]))
            return -1;
    return 0;
}

int tc_apply_notify(struct tc_applier *ap, struct tc_rows *rows, const char *policy,
                    int64_t id, enum tocsin_action action, const char *const *sinks,
                    unsigned flags, int64_t now)
{
    struct tc_incident_view v;
    int found = tc_incident_view(ap->inc, id, NULL, NULL, &v), rc = 0, repeat = !!(flags & TOCSIN_NOTIFY_REPEAT);
    char d[200];
    size_t i;

    if (found < 0)
        return TOCSIN_EIO;
    if (found == 0 || check_sinks(ap, sinks) < 0 ||
        (action != TOCSIN_ACT_TRIGGER && action != TOCSIN_ACT_ACKNOWLEDGE &&
         action != TOCSIN_ACT_RESOLVE) ||
        (action == TOCSIN_ACT_TRIGGER && strcmp(v.state, "resolved") == 0)) {
        if (found)
            tc_incident_view_free(&v);
        return TOCSIN_EINVAL;
    }
    if (action == TOCSIN_ACT_TRIGGER && v.suppressed) {
        if (!(flags & TOCSIN_NOTIFY_UNMUTE)) {
            snprintf(d, sizeof d, "{\"policy\":\"%s\",\"action\":\"trigger\"}", policy);
            rc = tc_timeline_add(ap->inc, id, now, "notify_suppressed", NULL, d);
            tc_incident_view_free(&v);
            return rc < 0 ? TOCSIN_EIO : TOCSIN_OK;
        }
        rc = tc_incident_mute(ap->inc, id, NULL, NULL);
        snprintf(d, sizeof d, "{\"policy\":\"%s\"}", policy);
        rc |= tc_timeline_add(ap->inc, id, now, "unmuted", NULL, d);
    }
    if (rc == 0 && (!sinks || sinks[0])) {
        snprintf(d, sizeof d, "{\"policy\":\"%s\",\"action\":\"%s\",\"repeat\":%s}", policy,
                 tocsin_action_name(action), repeat ? "true" : "false");
        rc = tc_timeline_add(ap->inc, id, now, "notify", NULL, d);
    }
    if (rc == 0 && sinks) {
        for (i = 0; sinks[i] && rc == 0; i++) {
            const char *sink = config_sink_id(ap->cfg, sinks[i]);
            int64_t row = tc_outbox_add_repeat(ap->inc, id, sink, tocsin_action_name(action),
                                               now, NULL, NULL, repeat);

            if (row < 0 || add_row(rows, sink, row, id, action, now, NULL) < 0)
                rc = -1;
        }
    } else if (rc == 0 && action == TOCSIN_ACT_TRIGGER) {
        rc = notify_routed(ap, rows, id, v.inc.alert, NULL, repeat, now);
    } else if (rc == 0) {
        rc = notify_followers(ap, rows, id, action, now, NULL, NULL);
    }
    tc_incident_view_free(&v);
    return rc < 0 ? TOCSIN_EIO : TOCSIN_OK;
}
