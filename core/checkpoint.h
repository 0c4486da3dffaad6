/* checkpoint.h: WAL checkpoints on a thread of their own, so the writer's
 * commits never copy the WAL into the database or wait for its fsync. */
#ifndef TC_CHECKPOINT_H
#define TC_CHECKPOINT_H

#include <sqlite3.h>

/* WAL pages after which the checkpointer copies them back (SQLite's own
 * auto-checkpoint default), and the size at which the writer, having
 * seen no restart of the WAL, does a small catch-up itself (see
 * checkpoint.c). */
#define TC_CKPT_PAGES 1000
#define TC_CKPT_HARD_PAGES (8 * TC_CKPT_PAGES)

struct tc_checkpointer;

/* Start the thread on its own connection db (taken over, closed by
 * tc_checkpointer_stop) and hook writer: its commits then only signal.
 * NULL when the thread cannot start; the caller keeps SQLite's
 * auto-checkpoint then. */
struct tc_checkpointer *tc_checkpointer_start(sqlite3 *writer, sqlite3 *db);
/* Unhook the writer, stop and join the thread. NULL is fine. */
void tc_checkpointer_stop(struct tc_checkpointer *c);

#endif
