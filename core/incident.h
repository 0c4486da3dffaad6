/* incident.h: the SQL that records incidents and their rows (timeline,
 * outbox), on the writer's connection. The state machine itself is
 * incident_state.h's. */
#ifndef TC_INCIDENT_H
#define TC_INCIDENT_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>
#include <tocsin/plugin.h>

#include "common.h"

#include "incident_state.h"

/* Prepared statements on the writer connection. */
struct tc_incidents;

struct tc_incidents *tc_incidents_new(sqlite3 *db);
void tc_incidents_free(struct tc_incidents *x);
/* The writer's connection the statements run on (for savepoints). */
sqlite3 *tc_incidents_db(struct tc_incidents *x);

/* Open incident by dedup key: 1 and *id, *state, *started_at (when its
 * source says the problem started; 0 unknown) set; 0 when none; -1 error. */
int tc_incident_find_open(struct tc_incidents *x, const char *dedup_key, int64_t *id,
                          enum tc_state *state, int64_t *started_at);
/* A person resolved an incident while its alert still fired: the incident
 * is "latched" and absorbs that alert's firings quietly until the source
 * resolves it or stops sending it (see tc_apply_alert()). find: 1 and
 * *id, *expires_at (0: none); 0 when no incident of the key is latched. */
int tc_incident_find_latched(struct tc_incidents *x, const char *dedup_key, int64_t *id,
                             int64_t *expires_at);
/* Latch (only an incident whose alert expires, i.e. is re-sent) or unlatch. */
int tc_incident_latch(struct tc_incidents *x, int64_t id, int latched);
/* A firing absorbed by a latched incident: count it, move its expiry. */
int tc_incident_latched_repeat(struct tc_incidents *x, int64_t id, int64_t at,
                               int64_t expires_at);
/* State of incident id: 1 found, 0 not, -1 error. */
int tc_incident_state(struct tc_incidents *x, int64_t id, enum tc_state *state);

struct tc_new_incident {
    const char *dedup_key, *severity, *summary, *source, *service, *alert_json;
    int64_t at, expires_at;
    const char *suppressed; /* reason, or NULL */
    int64_t started_at;     /* the alert's own start */
    const char *suppressed_by; /* what muted it (a window id), or NULL */
    int64_t previous_id;    /* the incident it follows, or 0 */
};
int64_t tc_incident_insert(struct tc_incidents *x, const struct tc_new_incident *n);
int tc_incident_repeat(struct tc_incidents *x, int64_t id, int64_t at, int64_t expires_at,
                       const char *alert_json);
int tc_incident_acknowledge(struct tc_incidents *x, int64_t id, int64_t at, const char *by);
/* alert_json: the resolving alert, which replaces the latest one; NULL
 * for a human resolve (the alert stays as it was). */
int tc_incident_resolve(struct tc_incidents *x, int64_t id, int64_t at, const char *by,
                        const char *note, const char *alert_json);

int tc_timeline_add(struct tc_incidents *x, int64_t incident, int64_t at, const char *kind,
                    const char *actor, const char *detail_json);

/* A notification row; returns its id, or -1 on error. An incident may
 * notify a sink of one action more than once (repeats, fallbacks). */
int64_t tc_outbox_add(struct tc_incidents *x, int64_t incident, const char *sink,
                      const char *action, int64_t at, const char *actor, const char *note);
/* The same, marked as a repeat (n->repeat) when repeat is 1. */
int64_t tc_outbox_add_repeat(struct tc_incidents *x, int64_t incident, const char *sink,
                             const char *action, int64_t at, const char *actor,
                             const char *note, int repeat);
/* Row `from` again, for another sink (a fallback): its id, 0 when `from`
 * is gone, -1 on error. */
int64_t tc_outbox_copy(struct tc_incidents *x, int64_t from, const char *sink, int64_t at);
/* Sinks that were sent (or are being sent) the trigger of an incident,
 * once each; not those whose trigger failed or was skipped: fn per sink. */
int tc_outbox_trigger_sinks(struct tc_incidents *x, int64_t incident,
                            void (*fn)(void *arg, const char *sink), void *arg);
/* Record a delivery outcome (throttled: retries the provider asked to
 * wait for, which cost no attempt). */
/* What a sink remembered of an incident at outbox row outbox_id; NULL
 * ref forgets it. */
int tc_sink_ref_set(struct tc_incidents *x, int64_t incident, const char *sink, const char *ref,
                    int64_t outbox_id, int64_t at);
int tc_outbox_update(struct tc_incidents *x, int64_t id, const char *state, int attempts,
                     int throttled, int64_t next_at, const char *last_error, int64_t at);
/* Drop up to limit resolved incidents older than `before` (with their
 * rows); *removed says how many went. */
int tc_incidents_prune(struct tc_incidents *x, int64_t before, int limit, int64_t *removed);
/* Open incidents whose alert expired at or before now, earliest first:
 * up to max of them into ids[] and at[] (their expiry). Count, or -1. */
int tc_incidents_expired(struct tc_incidents *x, int64_t now, int64_t *ids, int64_t *at,
                         int max);
/* The earliest expiry among open incidents: 1 and *at, 0 when none, -1. */
int tc_incidents_next_expiry(struct tc_incidents *x, int64_t *at);

/* Mute incident id (reason, and what muted it) or, with reason NULL, end
 * the muting. 0 or -1. */
int tc_incident_mute(struct tc_incidents *x, int64_t id, const char *reason, const char *by);
/* Reopen resolved incident id of dedup_key with a new firing alert
 * (muted when suppressed is set): 1 done, 0 when it is not a resolved
 * incident of that key, -1 on error. */
int tc_incident_reopen(struct tc_incidents *x, int64_t id, const char *dedup_key, int64_t at,
                       int64_t expires_at, const char *alert_json, const char *suppressed,
                       const char *suppressed_by);

/* An incident as a policy sees it (plugin.h's struct tocsin_incident),
 * with the storage its pointers point into. */
struct tc_incident_view {
    struct tocsin_incident inc;
    struct tc_alert alert;
    json_t *json;
    char *dedup_key, *state, *acknowledged_by, *resolved_by, *suppressed, *suppressed_by;
};
/* Incident id, or with id 0 the latest of dedup_key: 1 and *v filled
 * (tc_incident_view_free it), 0 none, -1 error. latest: the incident's
 * latest alert when the caller holds it parsed (it just stored it), which
 * the view then points to instead of parsing the stored text; or NULL. */
int tc_incident_view(struct tc_incidents *x, int64_t id, const char *dedup_key,
                     const struct tocsin_alert *latest, struct tc_incident_view *v);
void tc_incident_view_free(struct tc_incident_view *v);

#endif
