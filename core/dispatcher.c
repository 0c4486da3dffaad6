/* dispatcher.c: per-sink queues of due outbox rows and the workers that
 * deliver them. Outcomes go back to the writer thread (pipeline.c), so the
 * store keeps one writer; the queue itself is rebuilt from the store at
 * start, so nothing pending is lost across a crash. */
#define _GNU_SOURCE
#include <jansson.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "clock.h"
#include "common.h"
#include "dispatcher.h"
#include "httpclient.h"
#include "log.h"
#include "metrics.h"
#include "pipeline.h"

/* Niceness of sink workers relative to intake (see worker_main). Mild on
 * purpose: against other busy processes on the host a delivery (about
 * 0.1 ms of CPU) still gets a third of a nice-0 share. */
#define WORKER_NICE 5

/* Queued rows beyond which a new row's alert is not kept in memory. */
#define FRESH_QUEUE_MAX 256

struct item {
    int64_t due, id;
    int attempts;           /* attempts made so far */
    struct tc_fresh *fresh; /* first attempt of a new trigger, else NULL */
};

struct tc_fresh {
    atomic_int refs;
    json_t *alert;
    int64_t incident_id, seen_at;
};

struct tc_fresh *tc_fresh_new(json_t *alert, int64_t incident_id, int64_t seen_at)
{
    struct tc_fresh *f = malloc(sizeof *f);

    if (!f)
        return NULL;
    atomic_init(&f->refs, 1);
    f->alert = json_incref(alert);
    f->incident_id = incident_id;
    f->seen_at = seen_at;
    return f;
}

struct tc_fresh *tc_fresh_ref(struct tc_fresh *f)
{
    if (f)
        atomic_fetch_add(&f->refs, 1);
    return f;
}

void tc_fresh_unref(struct tc_fresh *f)
{
    if (f && atomic_fetch_sub(&f->refs, 1) == 1) {
        json_decref(f->alert);
        free(f);
    }
}

struct sink_queue {
    struct tc_dispatcher *d;
    const struct tc_sink_ref *ref;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct item *heap;      /* min-heap by due time */
    size_t n, cap;
    int busy;               /* deliveries in flight */
    int stopping;
    _Atomic int64_t delivered, retried, failed; /* attempts by outcome, for /metrics */
    pthread_t *threads;
    int n_threads;
};

struct tc_dispatcher {
    struct tc_store *store;
    const struct tc_config *cfg;
    struct tc_pipeline *pipeline;
    struct sink_queue *q;
    size_t n;
};

static int earlier(const struct item *a, const struct item *b)
{
    return a->due < b->due || (a->due == b->due && a->id < b->id);
}

static int heap_push(struct sink_queue *q, struct item it)
{
    size_t i;

    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 64;
        struct item *grown = realloc(q->heap, cap * sizeof *grown);

        if (!grown)
            return -1;
        q->heap = grown;
        q->cap = cap;
    }
    i = q->n++;
    while (i > 0 && earlier(&it, &q->heap[(i - 1) / 2])) {
        q->heap[i] = q->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    q->heap[i] = it;
    return 0;
}

static struct item heap_pop(struct sink_queue *q)
{
    struct item top = q->heap[0], last = q->heap[--q->n];
    size_t i = 0;

    for (;;) {
        size_t c = 2 * i + 1;

        if (c >= q->n)
            break;
        if (c + 1 < q->n && earlier(&q->heap[c + 1], &q->heap[c]))
            c++;
        if (!earlier(&q->heap[c], &last))
            break;
        q->heap[i] = q->heap[c];
        i = c;
    }
    if (q->n)
        q->heap[i] = last;
    return top;
}

static struct sink_queue *find_queue(struct tc_dispatcher *d, const char *sink)
{
    size_t i;

    for (i = 0; i < d->n; i++)
        if (strcmp(d->q[i].ref->conf->id, sink) == 0)
            return &d->q[i];
    return NULL;
}

static void push(struct sink_queue *q, struct item it)
{
    pthread_mutex_lock(&q->lock);
    /* Behind a long queue the alert would wait in memory; read it back
     * when its turn comes instead, so a backlog stays small. */
    if (it.fresh && q->n >= FRESH_QUEUE_MAX) {
        tc_fresh_unref(it.fresh);
        it.fresh = NULL;
    }
    if (heap_push(q, it) < 0) {
        tc_error("[sink %s] out of memory queueing notification %lld; it stays pending "
                 "in the store until the next start",
                 q->ref->conf->id, (long long)it.id);
        tc_fresh_unref(it.fresh);
    }
    pthread_cond_signal(&q->cond);
    pthread_mutex_unlock(&q->lock);
}

void tc_dispatcher_enqueue(struct tc_dispatcher *d, const char *sink, int64_t outbox_id,
                           int64_t due_ms, struct tc_fresh *fresh)
{
    struct sink_queue *q = find_queue(d, sink);

    if (q)
        push(q, (struct item){ due_ms, outbox_id, 0, fresh });
    else
        tc_fresh_unref(fresh);
}

/* The row and its incident, as a notification. */
struct loaded {
    struct tocsin_notification n;
    struct tc_alert alert;
    json_t *json;
    const char *action;
    char *actor, *note;
    int pending;
};

static const char *const load_sql =
    "SELECT o.incident_id, o.action, o.state, o.actor, o.note, i.alert, i.occurrences,"
    " i.first_seen, i.last_seen FROM outbox o JOIN incidents i ON i.id = o.incident_id"
    " WHERE o.id = ?1";

static char *col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);

    return s ? strdup((const char *)s) : NULL;
}

static int col_is(sqlite3_stmt *st, int i, const char *value)
{
    const unsigned char *s = sqlite3_column_text(st, i);

    return s && strcmp((const char *)s, value) == 0;
}

/* The alert and the action, once l->json and l->n are filled in. */
static int finish_load(struct loaded *l, int64_t id)
{
    char err[200];

    if (!l->json || tc_alert_from_json(l->json, &l->alert, err, sizeof err) < 0)
        return -1;
    l->n.outbox_id = id;
    l->n.alert = &l->alert.a;
    l->n.actor = l->actor;
    l->n.note = l->note;
    l->action = tocsin_action_name(l->n.action);
    return 1;
}

/* A new trigger from what the writer handed over: no store read. */
static int load_fresh(const struct tc_fresh *f, int64_t id, struct loaded *l)
{
    memset(l, 0, sizeof *l);
    l->pending = 1;
    l->json = json_incref(f->alert);
    l->n.incident_id = f->incident_id;
    l->n.action = TOCSIN_ACT_TRIGGER;
    l->n.occurrences = 1;
    l->n.first_seen = l->n.last_seen = f->seen_at;
    return finish_load(l, id);
}

static void unload(struct loaded *l)
{
    tc_alert_release(&l->alert);
    json_decref(l->json);
    free(l->actor);
    free(l->note);
}

/* A worker's own store connection, opened when first needed: with rows
 * handed over fresh, a worker may never read the store at all. */
struct worker_db {
    struct tc_store *store;
    sqlite3 *db;
    sqlite3_stmt *load;
};

/* The row as stored (retries, rows resumed at start, follow-ups). */
static int load(struct worker_db *w, int64_t id, struct loaded *l)
{
    sqlite3_stmt *st;
    int rc;

    memset(l, 0, sizeof *l);
    if (!w->db && !(w->db = tc_store_connect(w->store)))
        return -1;
    if (!w->load && sqlite3_prepare_v2(w->db, load_sql, -1, &w->load, NULL) != SQLITE_OK)
        return -1;
    st = w->load;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? 0 : -1;
    }
    l->n.incident_id = sqlite3_column_int64(st, 0);
    l->n.action = col_is(st, 1, "resolve")       ? TOCSIN_ACT_RESOLVE
                  : col_is(st, 1, "acknowledge") ? TOCSIN_ACT_ACKNOWLEDGE
                                                 : TOCSIN_ACT_TRIGGER;
    l->pending = col_is(st, 2, "pending");
    l->actor = col_dup(st, 3);
    l->note = col_dup(st, 4);
    l->json = json_loads((const char *)sqlite3_column_text(st, 5), 0, NULL);
    l->n.occurrences = sqlite3_column_int64(st, 6);
    l->n.first_seen = sqlite3_column_int64(st, 7);
    l->n.last_seen = sqlite3_column_int64(st, 8);
    sqlite3_reset(st);
    return finish_load(l, id);
}

static void deliver_one(struct sink_queue *q, struct worker_db *w, struct item it, unsigned *seed)
{
    const struct tc_instance_conf *conf = q->ref->conf;
    struct tc_pipeline *p = q->d->pipeline;
    struct tocsin_verdict v;
    struct loaded l;
    int found = it.fresh ? load_fresh(it.fresh, it.id, &l) : load(w, it.id, &l);
    int attempts = it.attempts + 1;

    /* A retry reads the row back: a queue of rows waiting for a peer that
     * is down then costs memory per row, not per alert. */
    tc_fresh_unref(it.fresh);

    if (found <= 0 || !l.pending) {
        if (found < 0)
            tc_error("[sink %s] cannot load notification %lld; leaving it pending", conf->id,
                     (long long)it.id);
        unload(&l);
        return;
    }
    l.n.sink_id = conf->id;
    l.n.attempt = attempts;
    l.n.external_url = q->d->cfg->daemon.external_url;
    v = q->ref->plugin->deliver(q->ref->self, &l.n);
    v.reason[sizeof v.reason - 1] = '\0';
    if (v.kind == TOCSIN_DONE) {
        tc_debug("[sink %s] %s of incident %lld delivered (attempt %d)", conf->id, l.action,
                 (long long)l.n.incident_id, attempts);
        tc_metric_add(TC_M_NOTIFY_DONE, 1);
        atomic_fetch_add(&q->delivered, 1);
        tc_pipeline_delivery(p, it.id, l.n.incident_id, conf->id, l.action, "done", attempts, 0,
                             NULL);
    } else if (v.kind == TOCSIN_RETRY && attempts < conf->max_attempts) {
        int64_t delay = tc_retry_delay_ms(attempts, v.retry_after, conf->retry_base_ms,
                                          conf->retry_max_ms, (uint32_t)rand_r(seed));
        int64_t due = tc_now_ms() + delay;

        tc_warn("[sink %s] %s of incident %lld: %s; retry %d in %lld ms", conf->id, l.action,
                (long long)l.n.incident_id, v.reason, attempts + 1, (long long)delay);
        tc_metric_add(TC_M_NOTIFY_RETRY, 1);
        atomic_fetch_add(&q->retried, 1);
        tc_pipeline_delivery(p, it.id, l.n.incident_id, conf->id, l.action, "pending", attempts,
                             due, v.reason);
        push(q, (struct item){ due, it.id, attempts, NULL });
    } else {
        char reason[300];

        if (v.kind == TOCSIN_RETRY)
            snprintf(reason, sizeof reason, "gave up after %d attempts: %s", attempts, v.reason);
        else
            snprintf(reason, sizeof reason, "%s", v.reason);
        tc_error("[sink %s] %s of incident %lld failed permanently: %s", conf->id, l.action,
                 (long long)l.n.incident_id, reason);
        tc_metric_add(TC_M_NOTIFY_FAILED, 1);
        atomic_fetch_add(&q->failed, 1);
        tc_pipeline_delivery(p, it.id, l.n.incident_id, conf->id, l.action, "failed", attempts,
                             0, reason);
    }
    unload(&l);
}

static void *worker_main(void *arg)
{
    struct sink_queue *q = arg;
    struct worker_db w = { q->d->store, NULL, NULL };
    unsigned seed = (unsigned)tc_now_ms() ^ (unsigned)(uintptr_t)&seed;
    char name[16];
    int base_nice;

    snprintf(name, sizeof name, "tc-sink-%s", q->ref->conf->id); /* clipped to 15 */
    pthread_setname_np(pthread_self(), name);
    /* Intake first: when the CPU is short (an alert storm), accepting
     * alerts durably matters more than sending them a moment sooner. An
     * idle machine runs these threads as fast as any other. */
    errno = 0;
    base_nice = getpriority(PRIO_PROCESS, (id_t)gettid()); /* relative to the daemon's own */
    if (errno || setpriority(PRIO_PROCESS, (id_t)gettid(), base_nice + WORKER_NICE) < 0)
        tc_debug("[sink %s] cannot lower the workers' priority: %s", q->ref->conf->id,
                 strerror(errno));

    pthread_mutex_lock(&q->lock);
    while (!q->stopping) {
        int64_t now = tc_now_ms();

        if (q->n == 0) {
            pthread_cond_wait(&q->cond, &q->lock);
        } else if (q->heap[0].due > now) {
            tc_clock_timedwait(&q->cond, &q->lock, q->heap[0].due);
        } else {
            struct item it = heap_pop(q);

            q->busy++;
            pthread_mutex_unlock(&q->lock);
            deliver_one(q, &w, it, &seed);
            pthread_mutex_lock(&q->lock);
            q->busy--; /* nobody waits on this: push() wakes a worker per row */
        }
    }
    pthread_mutex_unlock(&q->lock);
    sqlite3_finalize(w.load);
    sqlite3_close(w.db);
    tc_httpclient_thread_done();
    return NULL;
}

struct tc_dispatcher *tc_dispatcher_new(struct tc_store *store, const struct tc_config *cfg,
                                        const struct tc_sink_ref *sinks, size_t n)
{
    struct tc_dispatcher *d = calloc(1, sizeof *d);
    size_t i;

    if (!d || !(d->q = calloc(n ? n : 1, sizeof *d->q))) {
        free(d);
        return NULL;
    }
    d->store = store;
    d->cfg = cfg;
    d->n = n;
    for (i = 0; i < n; i++) {
        d->q[i].d = d;
        d->q[i].ref = &sinks[i];
        pthread_mutex_init(&d->q[i].lock, NULL);
        pthread_cond_init(&d->q[i].cond, NULL);
    }
    return d;
}

/* Pending rows of the previous run, with their attempts so far. */
static int load_pending(struct tc_dispatcher *d)
{
    sqlite3 *db = tc_store_reader_get(d->store);
    sqlite3_stmt *st = NULL;
    int64_t count = 0;
    int rc;

    if (!db)
        return -1;
    rc = sqlite3_prepare_v2(db, "SELECT id, sink, next_at, attempts FROM outbox"
                                " WHERE state = 'pending' ORDER BY id", -1, &st, NULL);
    while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        const char *sink = (const char *)sqlite3_column_text(st, 1);
        struct sink_queue *q = find_queue(d, sink);
        struct item it = { sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 0),
                           sqlite3_column_int(st, 3), NULL };

        if (!q) {
            tc_warn("outbox: notification %lld is for sink \"%s\", which is not configured; "
                    "it stays pending", (long long)it.id, sink);
            continue;
        }
        heap_push(q, it);
        count++;
    }
    sqlite3_finalize(st);
    tc_store_reader_put(d->store, db);
    if (count)
        tc_info("outbox: resuming %lld pending notifications", (long long)count);
    return rc == SQLITE_OK ? 0 : -1;
}

int tc_dispatcher_start(struct tc_dispatcher *d, struct tc_pipeline *pipeline)
{
    size_t i;
    int k;

    d->pipeline = pipeline;
    if (load_pending(d) < 0)
        return -1;
    for (i = 0; i < d->n; i++) {
        struct sink_queue *q = &d->q[i];

        q->n_threads = (int)q->ref->conf->concurrency;
        q->threads = calloc((size_t)q->n_threads, sizeof *q->threads);
        if (!q->threads)
            return -1;
        for (k = 0; k < q->n_threads; k++) {
            if (pthread_create(&q->threads[k], NULL, worker_main, q) != 0) {
                q->n_threads = k;
                return -1;
            }
        }
    }
    return 0;
}

static int has_due_work(struct sink_queue *q, int64_t now)
{
    int due;

    pthread_mutex_lock(&q->lock);
    due = q->busy > 0 || (q->n > 0 && q->heap[0].due <= now);
    pthread_mutex_unlock(&q->lock);
    return due;
}

void tc_dispatcher_drain(struct tc_dispatcher *d, int64_t deadline_ms)
{
    for (;;) {
        int64_t now = tc_now_ms();
        size_t i;
        int due = 0;

        for (i = 0; i < d->n && !due; i++)
            due = has_due_work(&d->q[i], now);
        if (!due || now >= deadline_ms)
            break;
        usleep(20000);
    }
}

int64_t tc_dispatcher_pending(struct tc_dispatcher *d)
{
    int64_t total = 0;
    size_t i;

    for (i = 0; i < d->n; i++) {
        pthread_mutex_lock(&d->q[i].lock);
        total += (int64_t)d->q[i].n + d->q[i].busy;
        pthread_mutex_unlock(&d->q[i].lock);
    }
    return total;
}

struct tc_sink_stats *tc_dispatcher_stats(struct tc_dispatcher *d, size_t *n)
{
    struct tc_sink_stats *out = calloc(d->n ? d->n : 1, sizeof *out);
    size_t i;

    *n = 0;
    if (!out)
        return NULL;
    for (i = 0; i < d->n; i++) {
        struct sink_queue *q = &d->q[i];

        pthread_mutex_lock(&q->lock);
        out[i].pending = (int64_t)q->n + q->busy;
        pthread_mutex_unlock(&q->lock);
        out[i].id = q->ref->conf->id;
        out[i].delivered = atomic_load(&q->delivered);
        out[i].retried = atomic_load(&q->retried);
        out[i].failed = atomic_load(&q->failed);
    }
    *n = d->n;
    return out;
}

void tc_dispatcher_free(struct tc_dispatcher *d)
{
    size_t i;
    int k;

    if (!d)
        return;
    tc_httpclient_abort_all(); /* past the drain deadline: stop waiting on peers */
    for (i = 0; i < d->n; i++) {
        pthread_mutex_lock(&d->q[i].lock);
        d->q[i].stopping = 1;
        pthread_cond_broadcast(&d->q[i].cond);
        pthread_mutex_unlock(&d->q[i].lock);
    }
    for (i = 0; i < d->n; i++) {
        for (k = 0; k < d->q[i].n_threads; k++)
            pthread_join(d->q[i].threads[k], NULL);
        while (d->q[i].n) /* still pending in the store */
            tc_fresh_unref(heap_pop(&d->q[i]).fresh);
        free(d->q[i].threads);
        free(d->q[i].heap);
        pthread_mutex_destroy(&d->q[i].lock);
        pthread_cond_destroy(&d->q[i].cond);
    }
    free(d->q);
    free(d);
}
