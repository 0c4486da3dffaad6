/* store.c: SQLite connections, pragmas, the versioned schema, and the
 * store's files kept private to tocsind's user. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "policy_timers.h"
#include "store.h"
#include <tocsin/plugin.h>

#define MAX_IDLE_READERS 8

struct tc_store {
    char *path;
    sqlite3 *writer;
    sqlite3 *state_db;          /* plugin state, under its own lock */
    pthread_mutex_t state_lock;
    pthread_mutex_t pool_lock;
    sqlite3 *idle[MAX_IDLE_READERS];
    int n_idle;
};

/* Each entry moves the schema from version i to i+1; never edit one that
 * has shipped, append a new one. */
static const char *const migrations[] = {
    /* 0 -> 1 (the CHECKs compare with OR, not IN: an IN list costs a
     * temporary b-tree on every write of the row) */
    "CREATE TABLE incidents ("
    "  id INTEGER PRIMARY KEY,"
    "  dedup_key TEXT NOT NULL,"
    "  state TEXT NOT NULL CHECK (state = 'triggered' OR state = 'acknowledged'"
    "                             OR state = 'resolved'),"
    "  severity TEXT NOT NULL,"
    "  summary TEXT NOT NULL,"
    "  source TEXT, service TEXT,"
    "  occurrences INTEGER NOT NULL DEFAULT 1,"
    "  first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
    "  expires_at INTEGER,"
    "  acknowledged_at INTEGER, acknowledged_by TEXT,"
    "  resolved_at INTEGER, resolved_by TEXT, resolution_note TEXT,"
    "  suppressed TEXT,"
    "  alert TEXT NOT NULL);"
    "CREATE UNIQUE INDEX incidents_open ON incidents(dedup_key) WHERE state != 'resolved';"
    "CREATE INDEX incidents_resolved ON incidents(resolved_at) WHERE state = 'resolved';"
    "CREATE TABLE timeline ("
    "  id INTEGER PRIMARY KEY,"
    "  incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,"
    "  at INTEGER NOT NULL, kind TEXT NOT NULL, actor TEXT, detail TEXT);"
    "CREATE INDEX timeline_incident ON timeline(incident_id, id);"
    "CREATE TABLE outbox ("
    "  id INTEGER PRIMARY KEY,"
    "  incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,"
    "  sink TEXT NOT NULL, action TEXT NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'pending'"
    "    CHECK (state = 'pending' OR state = 'done' OR state = 'failed'),"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_at INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    "  last_error TEXT, actor TEXT, note TEXT,"
    "  UNIQUE (incident_id, action, sink));"
    "CREATE INDEX outbox_pending ON outbox(next_at) WHERE state = 'pending';"
    "CREATE TABLE plugin_state ("
    "  instance TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
    "  PRIMARY KEY (instance, key));",
    /* 1 -> 2: open incidents by when their alert expires */
    "CREATE INDEX incidents_expiry ON incidents(expires_at)"
    " WHERE state != 'resolved' AND expires_at IS NOT NULL;",
    /* 2 -> 3: an incident may notify a sink of one action more than once
     * (repeats, reminders, fallbacks), so the outbox drops its UNIQUE key
     * (SQLite rebuilds the table for that); rows skipped behind a failed
     * trigger; retries a provider throttled, which cost no attempt; and
     * incidents a person resolved while their alert still fires; when the
     * source says the problem started (to tell a stale resolve) */
    "CREATE TABLE outbox_v3 ("
    "  id INTEGER PRIMARY KEY,"
    "  incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,"
    "  sink TEXT NOT NULL, action TEXT NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'pending'"
    "    CHECK (state = 'pending' OR state = 'done' OR state = 'failed' OR state = 'skipped'),"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  throttled INTEGER NOT NULL DEFAULT 0,"
    "  next_at INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    "  last_error TEXT, actor TEXT, note TEXT);"
    "INSERT INTO outbox_v3 (id, incident_id, sink, action, state, attempts, next_at,"
    "  created_at, updated_at, last_error, actor, note)"
    " SELECT id, incident_id, sink, action, state, attempts, next_at, created_at, updated_at,"
    "  last_error, actor, note FROM outbox;"
    "DROP TABLE outbox;"
    "ALTER TABLE outbox_v3 RENAME TO outbox;"
    "CREATE INDEX outbox_pending ON outbox(next_at) WHERE state = 'pending';"
    "CREATE INDEX outbox_incident ON outbox(incident_id, sink, action);"
    "ALTER TABLE incidents ADD COLUMN latched INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE incidents ADD COLUMN started_at INTEGER;"
    "CREATE UNIQUE INDEX incidents_latched ON incidents(dedup_key) WHERE latched = 1;",
    /* 3 -> 4: what a sink remembered of an incident (host->remember: a
     * Slack message ts, an email Message-ID), from the delivery that set it */
    "CREATE TABLE sink_refs ("
    "  incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,"
    "  sink TEXT NOT NULL, ref TEXT NOT NULL,"
    "  outbox_id INTEGER NOT NULL, at INTEGER NOT NULL,"
    "  PRIMARY KEY (incident_id, sink)) WITHOUT ROWID;",
    /* 4 -> 5: policies (ABI 1.1): what muted an incident (a maintenance
     * window's id), the incident a new one follows, and policies' durable
     * timers, on an incident or (incident_id 0) the instance's own; resolved
     * incidents by key (the latest of a key: a partial index, so opening an
     * incident writes no more index pages than before); outbox
     * rows that repeat a trigger (n->repeat) */
    "ALTER TABLE incidents ADD COLUMN suppressed_by TEXT;"
    "ALTER TABLE incidents ADD COLUMN previous_id INTEGER;"
    "CREATE INDEX incidents_resolved_key ON incidents(dedup_key, id) WHERE state = 'resolved';"
    "CREATE TABLE policy_timers ("
    "  instance TEXT NOT NULL, incident_id INTEGER NOT NULL, name TEXT NOT NULL,"
    "  due INTEGER NOT NULL,"
    "  PRIMARY KEY (instance, incident_id, name)) WITHOUT ROWID;"
    "CREATE INDEX policy_timers_due ON policy_timers(due);"
    "ALTER TABLE outbox ADD COLUMN repeat INTEGER NOT NULL DEFAULT 0;",
};

_Static_assert(sizeof migrations / sizeof migrations[0] == TC_SCHEMA_VERSION,
               "TC_SCHEMA_VERSION is the number of migrations");

static int exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;

    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

int tc_store_migrate(sqlite3 *db, char *err, size_t errlen)
{
    const int known = (int)(sizeof migrations / sizeof migrations[0]);
    sqlite3_stmt *st;
    int version = 0, v;

    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(db));
        return -1;
    }
    if (sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version > known) {
        snprintf(err, errlen,
                 "store schema version %d is newer than this tocsind knows (%d); "
                 "run a newer tocsind or restore a backup",
                 version, known);
        return -1;
    }
    for (v = version; v < known; v++) {
        char sql[64], e[256];

        if (exec(db, "BEGIN IMMEDIATE", err, errlen) < 0)
            return -1;
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
        if (exec(db, migrations[v], e, sizeof e) < 0 || exec(db, sql, e, sizeof e) < 0) {
            snprintf(err, errlen, "migration to schema %d failed: %s", v + 1, e);
            exec(db, "ROLLBACK", e, sizeof e);
            return -1;
        }
        if (exec(db, "COMMIT", err, errlen) < 0)
            return -1;
        tc_info("store: schema migrated to version %d", v + 1);
    }
    return 0;
}

/* Page cache per connection: the writer keeps SQLite's default (2 MiB)
 * for the open-incident index; readers and sink workers touch few pages,
 * and there are several of them. */
#define WRITER_CACHE_KIB 1024
#define READER_CACHE_KIB 256

static sqlite3 *connect_db(const char *path, int busy_ms, int cache_kib, char *err,
                           size_t errlen)
{
    sqlite3 *db = NULL;
    char e[256], sql[160];

    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                       SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "no memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, busy_ms);
    snprintf(sql, sizeof sql, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
             " PRAGMA foreign_keys = ON; PRAGMA cache_size = -%d;", cache_kib);
    if (exec(db, sql, e, sizeof e) < 0) {
        snprintf(err, errlen, "cannot set up %s: %s", path, e);
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

int tc_store_make_dir(const char *dir)
{
    if (mkdir(dir, 0700) == 0)
        return chmod(dir, 0700); /* whatever the umask took away */
    return errno == EEXIST ? 0 : -1;
}

/* The store holds every alert and plugins' state (tokens, cursors): only
 * our user reads it, whatever the umask. Rather than a process-wide umask
 * (which would also decide the modes of files plugins write, such as the
 * console sink's), the database file is made 0600 here before SQLite opens
 * it; SQLite gives -wal and -shm the database file's mode when it creates
 * them. Files an older tocsind (or another umask) left more open are
 * tightened, with one warning. */
static int private_files(const char *db, char *err, size_t errlen)
{
    static const char *const suffixes[] = { "", "-wal", "-shm" };
    char path[PATH_MAX], loose[512] = "";
    size_t i, n = 0;
    struct stat st;
    int fd = open(db, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);

    if (fd >= 0) {
        /* New and empty, which SQLite takes as a new database. */
        if (fchmod(fd, 0600) < 0) {
            snprintf(err, errlen, "cannot make %s private: %s", db, strerror(errno));
            close(fd);
            return -1;
        }
        close(fd);
    } else if (errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", db, strerror(errno));
        return -1;
    }
    for (i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(path, sizeof path, "%s%s", db, suffixes[i]);
        if (stat(path, &st) < 0 || !(st.st_mode & 077))
            continue;
        if (chmod(path, st.st_mode & 0700) < 0) {
            /* Not ours (a tocsind run as root before?): say so, but page. */
            tc_warn("store: %s is open to others (mode %04o) and cannot be made private: "
                    "%s; fix its owner or mode", path, (unsigned)(st.st_mode & 07777),
                    strerror(errno));
            continue;
        }
        if (n < sizeof loose)
            n += (size_t)snprintf(loose + n, sizeof loose - n, "%s%s (was %04o)",
                                  n ? ", " : "", path, (unsigned)(st.st_mode & 07777));
    }
    if (n)
        tc_warn("store: made %s private to tocsind's user (mode 0600): it holds every alert "
                "and plugins' state", loose);
    return 0;
}

int tc_store_open(const char *state_dir, struct tc_store **out, char *err, size_t errlen)
{
    struct tc_store *s;

    /* SQLite's memory statistics take one process-wide mutex on every
     * allocation; with a connection per thread that is the hottest lock
     * in the daemon. Only possible before SQLite initialises (the first
     * store opened); later calls fail harmlessly. */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    if (tc_store_make_dir(state_dir) < 0) {
        snprintf(err, errlen, "cannot create state_dir %s: %s", state_dir, strerror(errno));
        return -1;
    }
    s = calloc(1, sizeof *s);
    if (!s || asprintf(&s->path, "%s/tocsin.db", state_dir) < 0) {
        free(s);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (private_files(s->path, err, errlen) < 0) {
        free(s->path);
        free(s);
        return -1;
    }
    pthread_mutex_init(&s->state_lock, NULL);
    pthread_mutex_init(&s->pool_lock, NULL);
    /* The writer waits long on locks held by others (a backup, sqlite3
     * shell): alerts queue meanwhile, and the HTTP side answers 503. */
    s->writer = connect_db(s->path, 600000, WRITER_CACHE_KIB, err, errlen);
    if (!s->writer || tc_store_migrate(s->writer, err, errlen) < 0) {
        tc_store_close(s);
        return -1;
    }
    s->state_db = connect_db(s->path, 10000, READER_CACHE_KIB, err, errlen);
    if (!s->state_db) {
        tc_store_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

void tc_store_close(struct tc_store *s)
{
    int i;

    if (!s)
        return;
    for (i = 0; i < s->n_idle; i++)
        sqlite3_close(s->idle[i]);
    sqlite3_close(s->state_db);
    sqlite3_close(s->writer);
    pthread_mutex_destroy(&s->state_lock);
    pthread_mutex_destroy(&s->pool_lock);
    free(s->path);
    free(s);
}

sqlite3 *tc_store_writer(struct tc_store *s)
{
    return s->writer;
}

sqlite3 *tc_store_connect(struct tc_store *s)
{
    char err[256];
    sqlite3 *db = connect_db(s->path, 10000, READER_CACHE_KIB, err, sizeof err);

    if (!db)
        tc_error("store: %s", err);
    return db;
}

sqlite3 *tc_store_reader_get(struct tc_store *s)
{
    sqlite3 *db = NULL;

    pthread_mutex_lock(&s->pool_lock);
    if (s->n_idle > 0)
        db = s->idle[--s->n_idle];
    pthread_mutex_unlock(&s->pool_lock);
    return db ? db : tc_store_connect(s);
}

void tc_store_reader_put(struct tc_store *s, sqlite3 *db)
{
    if (!db)
        return;
    pthread_mutex_lock(&s->pool_lock);
    if (s->n_idle < MAX_IDLE_READERS) {
        s->idle[s->n_idle++] = db;
        db = NULL;
    }
    pthread_mutex_unlock(&s->pool_lock);
    sqlite3_close(db);
}

/* Set on the writer thread: plugin state written there (a policy judging
 * an alert) goes through the writer's own connection, inside the
 * transaction it is in, instead of waiting for that transaction's lock on
 * a second connection. */
static _Thread_local int on_writer_thread;

void tc_store_writer_thread(void)
{
    on_writer_thread = 1;
}

static int state_exec(struct tc_store *s, const char *sql, const char *instance,
                      const char *key, const char *value, char **out)
{
    sqlite3 *db = on_writer_thread ? s->writer : s->state_db;
    sqlite3_stmt *st = NULL;
    int rc;

    /* The writer's connection is its own: no lock, so it never waits on a
     * thread whose state_db waits on the writer's transaction. */
    if (!on_writer_thread)
        pthread_mutex_lock(&s->state_lock);
    rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, instance, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
        if (value)
            sqlite3_bind_text(st, 3, value, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (out) {
            *out = NULL;
            if (rc == SQLITE_ROW)
                *out = strdup((const char *)sqlite3_column_text(st, 0));
        }
    }
    sqlite3_finalize(st);
    if (!on_writer_thread)
        pthread_mutex_unlock(&s->state_lock);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        tc_error("store: plugin state of %s: %s", instance, sqlite3_errstr(rc));
        return TOCSIN_EIO;
    }
    return TOCSIN_OK;
}

int tc_store_state_get(struct tc_store *s, const char *instance, const char *key, char **value)
{
    return state_exec(s, "SELECT value FROM plugin_state WHERE instance = ?1 AND key = ?2",
                      instance, key, NULL, value);
}

int tc_store_state_put(struct tc_store *s, const char *instance, const char *key,
                       const char *value)
{
    return state_exec(s, "INSERT INTO plugin_state (instance, key, value) VALUES (?1, ?2, ?3)"
                         " ON CONFLICT (instance, key) DO UPDATE SET value = excluded.value",
                      instance, key, value, NULL);
}

int tc_store_state_delete(struct tc_store *s, const char *instance, const char *key)
{
    return state_exec(s, "DELETE FROM plugin_state WHERE instance = ?1 AND key = ?2", instance,
                      key, NULL, NULL);
}

int tc_store_policy_timer(struct tc_store *s, const char *instance, int64_t incident,
                          const char *name, int64_t due, int cancel)
{
    sqlite3 *db = on_writer_thread ? s->writer : s->state_db;
    int rc;

    if (!on_writer_thread)
        pthread_mutex_lock(&s->state_lock);
    rc = cancel ? tc_policy_timer_cancel(db, instance, incident, name)
                : tc_policy_timer_set(db, instance, incident, name, due);
    if (!on_writer_thread)
        pthread_mutex_unlock(&s->state_lock);
    return rc < 0 ? TOCSIN_EIO : TOCSIN_OK;
}
