/* policy_timers.c: the SQL of policies' durable timers. Statements are
 * prepared per call with SQLITE_PREPARE_PERSISTENT hints on whichever
 * connection the caller holds (see policy_timers.h). */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <tocsin/plugin.h>

#include "log.h"
#include "policy_timers.h"

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v3(db, sql, -1, 0, &st, NULL) != SQLITE_OK) {
        tc_error("store: policy timers: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

static int finish(sqlite3 *db, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);

    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        tc_error("store: policy timers: %s", sqlite3_errmsg(db));
        return -1;
    }
    return 0;
}

int tc_policy_timer_set(sqlite3 *db, const char *instance, int64_t incident, const char *name,
                        int64_t due)
{
    sqlite3_stmt *st;

    if (incident == TOCSIN_TIMER_EVERY_INCIDENT)
        st = prepare(db, "UPDATE policy_timers SET due = ?4"
                         " WHERE instance = ?1 AND name = ?3 AND incident_id > 0");
    else
        st = prepare(db, "INSERT INTO policy_timers (instance, incident_id, name, due)"
                         " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (instance, incident_id, name)"
                         " DO UPDATE SET due = excluded.due");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, instance, -1, SQLITE_STATIC);
    if (incident != TOCSIN_TIMER_EVERY_INCIDENT)
        sqlite3_bind_int64(st, 2, incident);
    sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, due);
    return finish(db, st);
}

int tc_policy_timer_cancel(sqlite3 *db, const char *instance, int64_t incident,
                           const char *name)
{
    sqlite3_stmt *st;

    if (incident == TOCSIN_TIMER_EVERY_INCIDENT)
        st = prepare(db, "DELETE FROM policy_timers"
                         " WHERE instance = ?1 AND name = ?3 AND incident_id > 0");
    else if (name)
        st = prepare(db, "DELETE FROM policy_timers"
                         " WHERE instance = ?1 AND incident_id = ?2 AND name = ?3");
    else
        st = prepare(db, "DELETE FROM policy_timers WHERE instance = ?1 AND incident_id = ?2");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, instance, -1, SQLITE_STATIC);
    if (incident != TOCSIN_TIMER_EVERY_INCIDENT)
        sqlite3_bind_int64(st, 2, incident);
    if (name)
        sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
    return finish(db, st);
}

int tc_policy_timers_take(sqlite3 *db, int64_t now, struct tc_due_timer *out, int max)
{
    sqlite3_stmt *st = prepare(db, "SELECT instance, incident_id, name, due FROM policy_timers"
                                   " WHERE due <= ?1 ORDER BY due LIMIT ?2");
    int rc = SQLITE_DONE, n = 0, i;

    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int(st, 2, max);
    while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        snprintf(out[n].instance, sizeof out[n].instance, "%s", sqlite3_column_text(st, 0));
        out[n].incident = sqlite3_column_int64(st, 1);
        snprintf(out[n].name, sizeof out[n].name, "%s", sqlite3_column_text(st, 2));
        out[n].due = sqlite3_column_int64(st, 3);
        n++;
    }
    sqlite3_finalize(st);
    if (n < max && rc != SQLITE_DONE) {
        tc_error("store: policy timers: %s", sqlite3_errmsg(db));
        return -1;
    }
    for (i = 0; i < n; i++)
        if (tc_policy_timer_cancel(db, out[i].instance, out[i].incident, out[i].name) < 0)
            return -1;
    return n;
}

int tc_policy_timers_next(sqlite3 *db, int64_t *at)
{
    sqlite3_stmt *st = prepare(db, "SELECT MIN(due) FROM policy_timers");
    int rc, found = 0;

    if (!st)
        return -1;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        *at = sqlite3_column_int64(st, 0);
        found = 1;
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        tc_error("store: policy timers: %s", sqlite3_errmsg(db));
        found = -1;
    }
    sqlite3_finalize(st);
    return found;
}

int tc_policy_timers_orphans(sqlite3 *db)
{
    sqlite3_stmt *st = prepare(db, "DELETE FROM policy_timers WHERE incident_id > 0 AND"
                                   " incident_id NOT IN (SELECT id FROM incidents)");

    return st ? finish(db, st) : -1;
}
