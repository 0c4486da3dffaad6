/* checkpoint.c: the WAL checkpointer. SQLite's auto-checkpoint runs
 * inside the commit that pushes the WAL past 1,000 pages: on the writer
 * thread, while intake POSTs wait for their answer, copying the WAL into
 * the database file and syncing both. Here the writer's commit only
 * signals, and this thread checkpoints on its own connection. PASSIVE
 * never takes the writer's lock, so the writer keeps committing
 * meanwhile; the WAL restarts from its start at the first write
 * transaction that finds it fully copied. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>

#include "checkpoint.h"
#include "log.h"

/* Small passes per WAL generation before waiting for more pages. */
#define TC_CKPT_CATCHUPS 8

struct tc_checkpointer {
    sqlite3 *writer, *db;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    /* Under lock. wal_pages and copied count pages of the current WAL;
     * generation counts its restarts, so a pass that straddles one does
     * not claim pages of the new WAL as copied. */
    int wal_pages, copied;
    unsigned generation;
    int catchups; /* small passes tried in this generation */
    int pending, running, stopping;
    int warned; /* checkpointer thread only: one warning until it works again */
};

/* sqlite3_wal_hook: on the writer thread, after each commit, with the
 * WAL's size in pages. Must stay cheap: a commit's answer waits on it. */
static int on_commit(void *arg, sqlite3 *writer, const char *schema, int pages)
{
    struct tc_checkpointer *c = arg;

    pthread_mutex_lock(&c->lock);
    if (pages < c->wal_pages) { /* restarted from its start */
        c->generation++;
        c->copied = 0;
        c->catchups = 0;
    }
    c->wal_pages = pages;
    /* A pass when there is enough to copy (each costs two fsyncs that
     * share the disk with the writer's own); after one, a few small
     * passes right behind a commit: the WAL restarts only when one of
     * them ends before the next commit starts, finding it all copied. */
    if ((pages - c->copied >= TC_CKPT_PAGES ||
         (c->copied > 0 && pages > c->copied && c->catchups < TC_CKPT_CATCHUPS)) &&
        !c->pending && !c->running) {
        if (pages - c->copied < TC_CKPT_PAGES)
            c->catchups++;
        c->pending = 1;
        pthread_cond_signal(&c->wake);
    }
    pthread_mutex_unlock(&c->lock);
    if (pages >= TC_CKPT_HARD_PAGES) {
        /* The WAL restarts at the first write transaction that finds it
         * all copied; commits kept starting while a pass ran, so none
         * did. Copy the last pages here (PASSIVE: SQLITE_BUSY at once if
         * the checkpointer is at it), so the next one restarts it. This
         * bounds the WAL; only sustained full-speed writes get here. */
        sqlite3_wal_checkpoint_v2(writer, schema, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    }
    return SQLITE_OK;
}

static void *checkpointer_main(void *arg)
{
    struct tc_checkpointer *c = arg;

    pthread_setname_np(pthread_self(), "tc-checkpoint"); /* for top -H and perf */
    pthread_mutex_lock(&c->lock);
    while (!c->stopping) {
        int rc, log = 0, copied = 0;
        unsigned generation;

        if (!c->pending) {
            pthread_cond_wait(&c->wake, &c->lock);
            continue;
        }
        c->pending = 0;
        c->running = 1;
        generation = c->generation;
        pthread_mutex_unlock(&c->lock);
        /* PASSIVE: copies what no reader still needs, never waits, never
         * blocks the writer. What it leaves is copied on a later pass. */
        rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY && !c->warned) {
            c->warned = 1;
            tc_warn("store: WAL checkpoint failed: %s (the WAL grows until one succeeds)",
                    sqlite3_errmsg(c->db));
        } else if (rc == SQLITE_OK) {
            c->warned = 0;
            tc_debug("store: checkpoint copied %d of %d WAL pages (restart %u)", copied, log,
                     generation);
        }
        pthread_mutex_lock(&c->lock);
        c->running = 0;
        if (rc == SQLITE_OK && generation == c->generation && copied > c->copied)
            c->copied = copied;
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

struct tc_checkpointer *tc_checkpointer_start(sqlite3 *writer, sqlite3 *db)
{
    struct tc_checkpointer *c = db ? calloc(1, sizeof *c) : NULL;

    if (!c) {
        sqlite3_close(db);
        return NULL;
    }
    c->writer = writer;
    c->db = db;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->wake, NULL);
    if (pthread_create(&c->thread, NULL, checkpointer_main, c) != 0) {
        pthread_mutex_destroy(&c->lock);
        pthread_cond_destroy(&c->wake);
        sqlite3_close(db);
        free(c);
        return NULL;
    }
    /* Replaces SQLite's auto-checkpoint on this connection. */
    sqlite3_wal_hook(writer, on_commit, c);
    return c;
}

void tc_checkpointer_stop(struct tc_checkpointer *c)
{
    if (!c)
        return;
    /* Nothing commits on the writer any more (the pipeline has stopped). */
    sqlite3_wal_hook(c->writer, NULL, NULL);
    pthread_mutex_lock(&c->lock);
    c->stopping = 1;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->wake);
    sqlite3_close(c->db);
    free(c);
}
