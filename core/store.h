/* store.h: the embedded SQLite store: schema, migrations, connections. */
#ifndef TC_STORE_H
#define TC_STORE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#define TC_SCHEMA_VERSION 5

struct tc_store;

/* Create state_dir if needed, open STATE_DIR/tocsin.db (WAL, synchronous
 * FULL: a commit is on disk before we answer 2xx) and run migrations.
 * A store whose schema is newer than this build knows is refused. The
 * database and its -wal and -shm files are 0600 (looser ones are
 * tightened, with a warning). */
int tc_store_open(const char *state_dir, struct tc_store **out, char *err, size_t errlen);
void tc_store_close(struct tc_store *s);
/* mkdir DIR 0700 (exactly, whatever the umask); an existing one is left
 * as it is. 0, or -1 with errno. */
int tc_store_make_dir(const char *dir);

/* Bring db to TC_SCHEMA_VERSION. Exposed for tests. 0 or -1 with err. */
int tc_store_migrate(sqlite3 *db, char *err, size_t errlen);

/* The one connection that writes incidents and the outbox (pipeline thread). */
sqlite3 *tc_store_writer(struct tc_store *s);
/* A new connection of its own for a long-lived thread (dispatcher worker). */
sqlite3 *tc_store_connect(struct tc_store *s);
/* Short-lived reads (HTTP API): borrow and give back. */
sqlite3 *tc_store_reader_get(struct tc_store *s);
void tc_store_reader_put(struct tc_store *s, sqlite3 *db);

/* Plugins' small durable key/value state. */
int tc_store_state_get(struct tc_store *s, const char *instance, const char *key, char **value);
int tc_store_state_put(struct tc_store *s, const char *instance, const char *key,
                       const char *value);
int tc_store_state_delete(struct tc_store *s, const char *instance, const char *key);

/* A policy's durable timer (policy_timers.h): set or move to due, or
 * cancel; on the writer's connection from the writer thread, else on the
 * state connection. TOCSIN_OK or TOCSIN_EIO. */
int tc_store_policy_timer(struct tc_store *s, const char *instance, int64_t incident,
                          const char *name, int64_t due, int cancel);

/* Call on the writer thread: its plugin state reads and writes then join
 * the writer's transaction (see store.c). */
void tc_store_writer_thread(void);

#endif
