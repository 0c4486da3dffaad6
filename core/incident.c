/* incident.c: the SQL that records incidents, their timeline and their
 * outbox rows. Runs on the writer. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "incident.h"
#include "log.h"

enum {
    ST_FIND_OPEN, ST_STATE, ST_INSERT, ST_REPEAT, ST_ACK, ST_RESOLVE, ST_TIMELINE,
    ST_OUTBOX_ADD, ST_OUTBOX_COPY, ST_TRIGGER_SINKS, ST_OUTBOX_UPDATE, ST_PRUNE, ST_EXPIRED,
    ST_NEXT_EXPIRY, ST_FIND_LATCHED, ST_LATCH, ST_UNLATCH, ST_LATCH_REPEAT, ST_REF_PUT,
    ST_REF_DELETE, ST_MUTE, ST_REOPEN, ST_VIEW, ST_VIEW_KEY, ST_VIEW_KEY_RESOLVED, ST_COUNT
};

/* What a policy sees of an incident (tc_incident_view). */
#define VIEW_COLUMNS                                                          \
    "SELECT id, dedup_key, state, alert, first_seen, last_seen, acknowledged_at,"  \
    " resolved_at, acknowledged_by, resolved_by, occurrences, suppressed,"        \
    " suppressed_by, previous_id, EXISTS (SELECT 1 FROM outbox o"                 \
    " WHERE o.incident_id = incidents.id AND o.action = 'trigger'"              \
    " AND (o.state = 'pending' OR o.state = 'done')) FROM incidents"

static const char *const sql[ST_COUNT] = {
    [ST_FIND_OPEN] = "SELECT id, state, started_at FROM incidents"
                     " WHERE dedup_key = ?1 AND state != 'resolved'",
    [ST_STATE] = "SELECT state FROM incidents WHERE id = ?1",
    [ST_INSERT] = "INSERT INTO incidents (dedup_key, state, severity, summary, source, service,"
                  " first_seen, last_seen, expires_at, suppressed, alert, started_at,"
                  " suppressed_by, previous_id)"
                  " VALUES (?1, 'triggered', ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    [ST_REPEAT] = "UPDATE incidents SET occurrences = occurrences + 1, last_seen = ?2,"
                  " expires_at = ?3, alert = ?4 WHERE id = ?1",
    [ST_ACK] = "UPDATE incidents SET state = 'acknowledged', acknowledged_at = ?2,"
               " acknowledged_by = ?3 WHERE id = ?1",
    [ST_RESOLVE] = "UPDATE incidents SET state = 'resolved', resolved_at = ?2,"
                   " resolved_by = ?3, resolution_note = ?4, alert = COALESCE(?5, alert) WHERE id = ?1",
    [ST_TIMELINE] = "INSERT INTO timeline (incident_id, at, kind, actor, detail)"
                    " VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_OUTBOX_ADD] = "INSERT INTO outbox (incident_id, sink, action, next_at, created_at,"
                      " updated_at, actor, note, repeat)"
                      " VALUES (?1, ?2, ?3, ?4, ?4, ?4, ?5, ?6, ?7)",
    [ST_OUTBOX_COPY] = "INSERT INTO outbox (incident_id, sink, action, next_at, created_at,"
                       " updated_at, actor, note, repeat) SELECT incident_id, ?2, action, ?3,"
                       " ?3, ?3, actor, note, repeat FROM outbox WHERE id = ?1",
    /* A sink whose trigger failed or was skipped hears no more of it. */
    [ST_TRIGGER_SINKS] = "SELECT sink FROM outbox WHERE incident_id = ?1 AND action = 'trigger'"
                         " GROUP BY sink HAVING SUM(state = 'pending' OR state = 'done') > 0"
                         " ORDER BY MIN(id)",
    [ST_OUTBOX_UPDATE] = "UPDATE outbox SET state = ?2, attempts = ?3, throttled = ?4,"
                         " next_at = ?5, last_error = ?6, updated_at = ?7 WHERE id = ?1",
    /* In batches: one long DELETE would hold the writer (and intake). */
    [ST_PRUNE] = "DELETE FROM incidents WHERE id IN (SELECT id FROM incidents"
                 " WHERE state = 'resolved' AND resolved_at < ?1 LIMIT ?2)",
    /* Both match the partial index incidents_expiry word for word. */
    [ST_EXPIRED] = "SELECT id, expires_at FROM incidents"
                   " WHERE state != 'resolved' AND expires_at IS NOT NULL AND expires_at <= ?1"
                   " ORDER BY expires_at LIMIT ?2",
    [ST_NEXT_EXPIRY] = "SELECT MIN(expires_at) FROM incidents"
                       " WHERE state != 'resolved' AND expires_at IS NOT NULL",
    [ST_FIND_LATCHED] = "SELECT id, expires_at FROM incidents WHERE dedup_key = ?1"
                        " AND latched = 1",
    /* Only an alert its source re-sends (one that expires) can still be
     * firing; one latched incident per key at most. */
    [ST_LATCH] = "UPDATE incidents SET latched = 1 WHERE id = ?1 AND expires_at IS NOT NULL"
                 " AND NOT EXISTS (SELECT 1 FROM incidents o WHERE o.latched = 1"
                 " AND o.dedup_key = incidents.dedup_key)",
    [ST_UNLATCH] = "UPDATE incidents SET latched = 0 WHERE id = ?1",
    [ST_REF_PUT] = "INSERT INTO sink_refs (incident_id, sink, ref, outbox_id, at)"
                   " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (incident_id, sink) DO UPDATE"
                   " SET ref = excluded.ref, outbox_id = excluded.outbox_id, at = excluded.at",
    [ST_REF_DELETE] = "DELETE FROM sink_refs WHERE incident_id = ?1 AND sink = ?2",
    [ST_LATCH_REPEAT] = "UPDATE incidents SET occurrences = occurrences + 1, last_seen = ?2,"
                        " expires_at = ?3 WHERE id = ?1",
    [ST_MUTE] = "UPDATE incidents SET suppressed = ?2, suppressed_by = ?3 WHERE id = ?1",
    /* Only a resolved incident, and only while its key has no open one
     * (the caller found none): incidents_open stays unique. */
    [ST_REOPEN] = "UPDATE incidents SET state = 'triggered', acknowledged_at = NULL,"
                  " acknowledged_by = NULL, resolved_at = NULL, resolved_by = NULL,"
                  " resolution_note = NULL, latched = 0, occurrences = occurrences + 1,"
                  " last_seen = ?2, expires_at = ?3, alert = ?4, suppressed = ?5,"
                  " suppressed_by = ?6 WHERE id = ?1 AND state = 'resolved' AND dedup_key = ?7",
    [ST_VIEW] = VIEW_COLUMNS " WHERE id = ?1",
    /* The latest incident of a key: the open one (incidents_open), else the
     * latest resolved one (incidents_resolved_key). */
    [ST_VIEW_KEY] = VIEW_COLUMNS " WHERE dedup_key = ?1 AND state != 'resolved'",
    [ST_VIEW_KEY_RESOLVED] = VIEW_COLUMNS " WHERE dedup_key = ?1 AND state = 'resolved'"
                                          " ORDER BY id DESC LIMIT 1",
};

struct tc_incidents {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
};

struct tc_incidents *tc_incidents_new(sqlite3 *db)
{
    struct tc_incidents *x = calloc(1, sizeof *x);
    int i;

    if (!x)
        return NULL;
    x->db = db;
    for (i = 0; i < ST_COUNT; i++) {
        if (sqlite3_prepare_v3(db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &x->st[i], NULL) !=
            SQLITE_OK) {
            tc_error("store: cannot prepare statement: %s", sqlite3_errmsg(db));
            tc_incidents_free(x);
            return NULL;
        }
    }
    return x;
}

void tc_incidents_free(struct tc_incidents *x)
{
    int i;

    if (!x)
        return;
    for (i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(x->st[i]);
    free(x);
}

static sqlite3_stmt *use(struct tc_incidents *x, int which)
{
    sqlite3_reset(x->st[which]);
    sqlite3_clear_bindings(x->st[which]);
    return x->st[which];
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static void bind_time(sqlite3_stmt *st, int i, int64_t v)
{
    if (v)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

/* Step a statement that returns no rows. */
static int done(struct tc_incidents *x, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);

    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        tc_error("store: %s", sqlite3_errmsg(x->db));
        return -1;
    }
    return 0;
}

int tc_incident_find_open(struct tc_incidents *x, const char *dedup_key, int64_t *id,
                          enum tc_state *state, int64_t *started_at)
{
    sqlite3_stmt *st = use(x, ST_FIND_OPEN);
    int rc;

    bind_text(st, 1, dedup_key);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        *state = tc_state_parse((const char *)sqlite3_column_text(st, 1));
        *started_at = sqlite3_column_int64(st, 2); /* 0 when unknown */
    }
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    tc_error("store: %s", sqlite3_errmsg(x->db));
    return -1;
}

int tc_incident_state(struct tc_incidents *x, int64_t id, enum tc_state *state)
{
    sqlite3_stmt *st = use(x, ST_STATE);
    int rc;

    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *state = tc_state_parse((const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int64_t tc_incident_insert(struct tc_incidents *x, const struct tc_new_incident *n)
{
    sqlite3_stmt *st = use(x, ST_INSERT);

    bind_text(st, 1, n->dedup_key);
    bind_text(st, 2, n->severity);
    bind_text(st, 3, n->summary);
    bind_text(st, 4, n->source);
    bind_text(st, 5, n->service);
    sqlite3_bind_int64(st, 6, n->at);
    bind_time(st, 7, n->expires_at);
    bind_text(st, 8, n->suppressed);
    bind_text(st, 9, n->alert_json);
    bind_time(st, 10, n->started_at);
    bind_text(st, 11, n->suppressed_by);
    bind_time(st, 12, n->previous_id);
    if (done(x, st) < 0)
        return -1;
    return sqlite3_last_insert_rowid(x->db);
}

int tc_incident_repeat(struct tc_incidents *x, int64_t id, int64_t at, int64_t expires_at,
                       const char *alert_json)
{
    sqlite3_stmt *st = use(x, ST_REPEAT);

    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, at);
    bind_time(st, 3, expires_at);
    bind_text(st, 4, alert_json);
    return done(x, st);
}

int tc_incident_acknowledge(struct tc_incidents *x, int64_t id, int64_t at, const char *by)
{
    sqlite3_stmt *st = use(x, ST_ACK);

    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, at);
    bind_text(st, 3, by);
    return done(x, st);
}

int tc_incident_resolve(struct tc_incidents *x, int64_t id, int64_t at, const char *by,
                        const char *note, const char *alert_json)
{
    sqlite3_stmt *st = use(x, ST_RESOLVE);

    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, at);
    bind_text(st, 3, by);
    bind_text(st, 4, note);
    bind_text(st, 5, alert_json);
    return done(x, st);
}

int tc_timeline_add(struct tc_incidents *x, int64_t incident, int64_t at, const char *kind,
                    const char *actor, const char *detail_json)
{
    sqlite3_stmt *st = use(x, ST_TIMELINE);

    sqlite3_bind_int64(st, 1, incident);
    sqlite3_bind_int64(st, 2, at);
    bind_text(st, 3, kind);
    bind_text(st, 4, actor);
    bind_text(st, 5, detail_json);
    return done(x, st);
}

int64_t tc_outbox_add(struct tc_incidents *x, int64_t incident, const char *sink,
                      const char *action, int64_t at, const char *actor, const char *note)
{
    return tc_outbox_add_repeat(x, incident, sink, action, at, actor, note, 0);
}

int64_t tc_outbox_add_repeat(struct tc_incidents *x, int64_t incident, const char *sink,
                             const char *action, int64_t at, const char *actor,
                             const char *note, int repeat)
{
    sqlite3_stmt *st = use(x, ST_OUTBOX_ADD);

    sqlite3_bind_int64(st, 1, incident);
    bind_text(st, 2, sink);
    bind_text(st, 3, action);
    sqlite3_bind_int64(st, 4, at);
    bind_text(st, 5, actor);
    bind_text(st, 6, note);
    sqlite3_bind_int(st, 7, repeat);
    if (done(x, st) < 0)
        return -1;
    return sqlite3_changes(x->db) ? sqlite3_last_insert_rowid(x->db) : 0;
}

int tc_outbox_trigger_sinks(struct tc_incidents *x, int64_t incident,
                            void (*fn)(void *arg, const char *sink), void *arg)
{
    sqlite3_stmt *st = use(x, ST_TRIGGER_SINKS);
    char *sinks[64];
    int rc, n = 0, i;

    /* Copy first: fn may add outbox rows, which would disturb this query. */
    sqlite3_bind_int64(st, 1, incident);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < 64)
        sinks[n++] = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    for (i = 0; i < n; i++) {
        if (sinks[i])
            fn(arg, sinks[i]);
        free(sinks[i]);
    }
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int64_t tc_outbox_copy(struct tc_incidents *x, int64_t from, const char *sink, int64_t at)
{
    sqlite3_stmt *st = use(x, ST_OUTBOX_COPY);

    sqlite3_bind_int64(st, 1, from);
    bind_text(st, 2, sink);
    sqlite3_bind_int64(st, 3, at);
    if (done(x, st) < 0)
        return -1;
    return sqlite3_changes(x->db) ? sqlite3_last_insert_rowid(x->db) : 0;
}

int tc_outbox_update(struct tc_incidents *x, int64_t id, const char *state, int attempts,
                     int throttled, int64_t next_at, const char *last_error, int64_t at)
{
    sqlite3_stmt *st = use(x, ST_OUTBOX_UPDATE);

    sqlite3_bind_int64(st, 1, id);
    bind_text(st, 2, state);
    sqlite3_bind_int(st, 3, attempts);
    sqlite3_bind_int(st, 4, throttled);
    sqlite3_bind_int64(st, 5, next_at);
    bind_text(st, 6, last_error && *last_error ? last_error : NULL);
    sqlite3_bind_int64(st, 7, at);
    return done(x, st);
}

int tc_sink_ref_set(struct tc_incidents *x, int64_t incident, const char *sink, const char *ref,
                    int64_t outbox_id, int64_t at)
{
    sqlite3_stmt *st = use(x, ref ? ST_REF_PUT : ST_REF_DELETE);

    sqlite3_bind_int64(st, 1, incident);
    bind_text(st, 2, sink);
    if (ref) {
        bind_text(st, 3, ref);
        sqlite3_bind_int64(st, 4, outbox_id);
        sqlite3_bind_int64(st, 5, at);
    }
    return done(x, st);
}

int tc_incident_find_latched(struct tc_incidents *x, const char *dedup_key, int64_t *id,
                             int64_t *expires_at)
{
    sqlite3_stmt *st = use(x, ST_FIND_LATCHED);
    int rc;

    bind_text(st, 1, dedup_key);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        *expires_at = sqlite3_column_int64(st, 1); /* 0 when NULL */
    }
    sqlite3_reset(st);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        return rc == SQLITE_ROW;
    tc_error("store: %s", sqlite3_errmsg(x->db));
    return -1;
}

int tc_incident_latch(struct tc_incidents *x, int64_t id, int latched)
{
    sqlite3_stmt *st = use(x, latched ? ST_LATCH : ST_UNLATCH);

    sqlite3_bind_int64(st, 1, id);
    return done(x, st);
}

int tc_incident_latched_repeat(struct tc_incidents *x, int64_t id, int64_t at,
                               int64_t expires_at)
{
    sqlite3_stmt *st = use(x, ST_LATCH_REPEAT);

    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, at);
    bind_time(st, 3, expires_at);
    return done(x, st);
}

int tc_incidents_prune(struct tc_incidents *x, int64_t before, int limit, int64_t *removed)
{
    sqlite3_stmt *st = use(x, ST_PRUNE);

    sqlite3_bind_int64(st, 1, before);
    sqlite3_bind_int(st, 2, limit);
    if (done(x, st) < 0)
        return -1;
    *removed = sqlite3_changes(x->db);
    return 0;
}

int tc_incidents_expired(struct tc_incidents *x, int64_t now, int64_t *ids, int64_t *at,
                         int max)
{
    sqlite3_stmt *st = use(x, ST_EXPIRED);
    int rc = SQLITE_DONE, n = 0;

    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int(st, 2, max);
    while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        ids[n] = sqlite3_column_int64(st, 0);
        at[n] = sqlite3_column_int64(st, 1);
        n++;
    }
    if (n < max && rc != SQLITE_DONE) {
        tc_error("store: %s", sqlite3_errmsg(x->db));
        n = -1;
    }
    sqlite3_reset(st);
    return n;
}

int tc_incidents_next_expiry(struct tc_incidents *x, int64_t *at)
{
    sqlite3_stmt *st = use(x, ST_NEXT_EXPIRY);
    int rc = sqlite3_step(st), found = 0;

    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        *at = sqlite3_column_int64(st, 0);
        found = 1;
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        tc_error("store: %s", sqlite3_errmsg(x->db));
        found = -1;
    }
    sqlite3_reset(st);
    return found;
}

int tc_incident_mute(struct tc_incidents *x, int64_t id, const char *reason, const char *by)
{
    sqlite3_stmt *st = use(x, ST_MUTE);

    sqlite3_bind_int64(st, 1, id);
    bind_text(st, 2, reason);
    bind_text(st, 3, by && *by ? by : NULL);
    return done(x, st);
}

int tc_incident_reopen(struct tc_incidents *x, int64_t id, const char *dedup_key, int64_t at,
                       int64_t expires_at, const char *alert_json, const char *suppressed,
                       const char *suppressed_by)
{
    sqlite3_stmt *st = use(x, ST_REOPEN);

    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, at);
    bind_time(st, 3, expires_at);
    bind_text(st, 4, alert_json);
    bind_text(st, 5, suppressed);
    bind_text(st, 6, suppressed && suppressed_by && *suppressed_by ? suppressed_by : NULL);
    bind_text(st, 7, dedup_key);
    if (done(x, st) < 0)
        return -1;
    return sqlite3_changes(x->db) == 1 ? 1 : 0;
}

static char *col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);

    return s ? strdup((const char *)s) : NULL;
}

void tc_incident_view_free(struct tc_incident_view *v)
{
    tc_alert_release(&v->alert);
    json_decref(v->json);
    free(v->dedup_key);
    free(v->state);
    free(v->acknowledged_by);
    free(v->resolved_by);
    free(v->suppressed);
    free(v->suppressed_by);
    memset(v, 0, sizeof *v);
}

/* Step the view statement `which` bound to id or dedup_key: SQLITE_ROW,
 * SQLITE_DONE or an error. */
static int view_step(struct tc_incidents *x, int which, int64_t id, const char *dedup_key,
                     sqlite3_stmt **out)
{
    sqlite3_stmt *st = use(x, which);

    if (id)
        sqlite3_bind_int64(st, 1, id);
    else
        bind_text(st, 1, dedup_key);
    *out = st;
    return sqlite3_step(st);
}

int tc_incident_view(struct tc_incidents *x, int64_t id, const char *dedup_key,
                     const struct tocsin_alert *latest, struct tc_incident_view *v)
{
    struct tocsin_incident *inc = &v->inc;
    sqlite3_stmt *st;
    char err[160];
    int rc;

    memset(v, 0, sizeof *v);
    rc = view_step(x, id ? ST_VIEW : ST_VIEW_KEY, id, dedup_key, &st);
    if (rc == SQLITE_DONE && !id) {
        sqlite3_reset(st);
        rc = view_step(x, ST_VIEW_KEY_RESOLVED, 0, dedup_key, &st);
    }
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        if (rc == SQLITE_DONE)
            return 0;
        tc_error("store: %s", sqlite3_errmsg(x->db));
        return -1;
    }
    inc->id = sqlite3_column_int64(st, 0);
    v->dedup_key = col_dup(st, 1);
    v->state = col_dup(st, 2);
    if (!latest) /* else the caller has the very alert it stored, parsed */
        v->json = json_loads((const char *)sqlite3_column_text(st, 3), 0, NULL);
    inc->opened_at = sqlite3_column_int64(st, 4);
    inc->last_seen = sqlite3_column_int64(st, 5);
    inc->acknowledged_at = sqlite3_column_int64(st, 6);
    inc->resolved_at = sqlite3_column_int64(st, 7);
    v->acknowledged_by = col_dup(st, 8);
    v->resolved_by = col_dup(st, 9);
    inc->occurrences = sqlite3_column_int64(st, 10);
    v->suppressed = col_dup(st, 11);
    v->suppressed_by = col_dup(st, 12);
    inc->previous_id = sqlite3_column_int64(st, 13);
    inc->notified = sqlite3_column_int(st, 14);
    sqlite3_reset(st);
    if (!latest && (!v->json || tc_alert_from_json(v->json, &v->alert, err, sizeof err) < 0)) {
        tc_error("store: incident %lld: its alert cannot be read", (long long)inc->id);
        tc_incident_view_free(v);
        return -1;
    }
    inc->dedup_key = v->dedup_key;
    inc->state = v->state;
    inc->alert = latest ? latest : &v->alert.a;
    inc->acknowledged_by = v->acknowledged_by;
    inc->resolved_by = v->resolved_by;
    inc->suppressed = v->suppressed;
    inc->suppressed_by = v->suppressed_by;
    return 1;
}

sqlite3 *tc_incidents_db(struct tc_incidents *x)
{
    return x->db;
}
