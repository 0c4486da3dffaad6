/* dispatcher.c: per-sink queues of due outbox rows and the workers that
 * deliver them, one row of an incident at a time and in order (order.c).
 * Retries run on a time budget (retry_for). Outcomes go to the writer
 * through a callback, so the store keeps one writer; the queue itself is
 * rebuilt from the store at start, so nothing pending is lost across a
 * crash. */
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
#include "deadline.h"
#include "common.h"
#include "dispatcher.h"
#include "httpclient.h"
#include "log.h"
#include "metrics.h"
#include "order.h"
#include "remember.h"
#include "scrub.h"

/* Niceness of sink workers relative to intake (see worker_main). Mild on
 * purpose: against other busy processes on the host a delivery (about
 * 0.1 ms of CPU) still gets a third of a nice-0 share. */
#define WORKER_NICE 5

/* Queued rows beyond which a new row's alert is not kept in memory. */
#define FRESH_QUEUE_MAX 256

struct sink_queue {
    struct tc_dispatcher *d;
    const struct tc_sink_ref *ref;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct tc_item *heap;   /* min-heap by due time: heads of their incident's line */
    size_t n, cap;
    struct tc_order *order; /* rows waiting behind their incident's head */
    int busy;               /* deliveries in flight */
    int stopping;
    struct tc_deadline due; /* wakes the workers when the heap's first row is due */
    /* attempts by outcome, and rows skipped, for /metrics */
    _Atomic int64_t delivered, retried, failed, skipped;
    /* What the sink remembered of incidents at deliveries whose outcome
     * the writer has not committed yet: the incident's next row may go
     * before that commit (it waited in line behind this one). */
    struct kept_ref *kept;
    pthread_t *threads;
    int n_threads;
};

struct kept_ref {
    struct kept_ref *next;
    int64_t incident, outbox_id;
    char *ref;              /* NULL: forgotten */
};

struct tc_dispatcher {
    struct tc_deadlines *deadlines;
    struct tc_store *store;
    const struct tc_config *cfg;
    tc_outcome_fn outcome;
    void *outcome_arg;
    struct sink_queue *q;
    size_t n;
};

static int earlier(const struct tc_item *a, const struct tc_item *b)
{
    return a->due < b->due || (a->due == b->due && a->id < b->id);
}

static int heap_push(struct sink_queue *q, struct tc_item it)
{
    size_t i;

    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 64;
        struct tc_item *grown = realloc(q->heap, cap * sizeof *grown);

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

static struct tc_item heap_pop(struct sink_queue *q)
{
    struct tc_item top = q->heap[0], last = q->heap[--q->n];
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

/* Out of memory: the row stays pending in the store, so it is not lost;
 * it goes out after the next start. */
static void not_queued(struct sink_queue *q, struct tc_item *it)
{
    tc_error("[sink %s] out of memory queueing notification %lld; it stays pending "
             "in the store until the next start",
             q->ref->conf->id, (long long)it->id);
    tc_fresh_unref(it->fresh);
    it->fresh = NULL;
}

/* A head of its line is ready (under q->lock). */
static void push_ready(struct sink_queue *q, struct tc_item it)
{
    /* Behind a long queue the alert would wait in memory; read it back
     * when its turn comes instead, so a backlog stays small. */
    if (it.fresh && q->n >= FRESH_QUEUE_MAX) {
        tc_fresh_unref(it.fresh);
        it.fresh = NULL;
    }
    if (heap_push(q, it) < 0) {
        not_queued(q, &it);
        return;
    }
    pthread_cond_signal(&q->cond);
}

/* Rows to report as skipped once q->lock is released (the outcome
 * callback takes the writer's lock, which is taken before ours). */
struct skips {
    struct tc_item *v;
    size_t n, cap;
};

static void skip_later(void *arg, struct tc_item *it)
{
    struct skips *sk = arg;

    tc_fresh_unref(it->fresh);
    it->fresh = NULL;
    if (sk->n == sk->cap) {
        size_t cap = sk->cap ? sk->cap * 2 : 8;
        struct tc_item *grown = realloc(sk->v, cap * sizeof *grown);

        if (!grown) {
            tc_error("out of memory skipping notification %lld; it stays pending",
                     (long long)it->id);
            return;
        }
        sk->v = grown;
        sk->cap = cap;
    }
    sk->v[sk->n++] = *it;
}

static void report_ref(struct sink_queue *q, const struct tc_item *it, const char *state,
                       int attempts, int throttled, int64_t next_at, const char *reason,
                       const struct tc_remembered *mem)
{
    struct tc_outcome o = { it->id,   it->incident, q->ref->conf->id,
                            tocsin_action_name((enum tocsin_action)it->action),
                            state,    reason,       attempts, throttled, next_at,
                            0,        NULL };

    if (mem && mem->set) {
        o.ref_set = 1;
        o.ref = mem->forget ? NULL : mem->ref;
    }
    q->d->outcome(q->d->outcome_arg, &o);
}

static void report(struct sink_queue *q, const struct tc_item *it, const char *state,
                   int attempts, int throttled, int64_t next_at, const char *reason)
{
    report_ref(q, it, state, attempts, throttled, next_at, reason, NULL);
}

/* Under q->lock. */
static struct kept_ref *kept_find(struct sink_queue *q, int64_t incident)
{
    struct kept_ref *k;

    for (k = q->kept; k && k->incident != incident; k = k->next)
        ;
    return k;
}

/* The sink remembered something at a delivery: keep it until the writer
 * has stored it. Without memory the ref is only in the store, later. */
static void keep_ref(struct sink_queue *q, int64_t incident, int64_t outbox_id,
                     const struct tc_remembered *mem)
{
    struct kept_ref *k;
    char *ref = mem->forget ? NULL : strdup(mem->ref);

    if (!mem->forget && !ref)
        return;
    pthread_mutex_lock(&q->lock);
    if (!(k = kept_find(q, incident)) && (k = calloc(1, sizeof *k))) {
        k->incident = incident;
        k->next = q->kept;
        q->kept = k;
    }
    if (k) {
        free(k->ref);
        k->ref = ref;
        k->outbox_id = outbox_id;
        ref = NULL;
    }
    pthread_mutex_unlock(&q->lock);
    free(ref);
}

/* The ref a delivery of incident sees: one kept since its last delivery,
 * else the stored one (loaded). Returns a malloc()ed copy or NULL. */
static char *ref_for(struct sink_queue *q, int64_t incident, const char *stored)
{
    struct kept_ref *k;
    char *ref;

    pthread_mutex_lock(&q->lock);
    k = kept_find(q, incident);
    ref = k ? (k->ref ? strdup(k->ref) : NULL) : (stored ? strdup(stored) : NULL);
    pthread_mutex_unlock(&q->lock);
    return ref;
}

static void kept_free(struct sink_queue *q)
{
    struct kept_ref *k, *next;

    for (k = q->kept; k; k = next) {
        next = k->next;
        free(k->ref);
        free(k);
    }
    q->kept = NULL;
}

static void report_skips(struct sink_queue *q, struct skips *sk)
{
    size_t i;

    for (i = 0; i < sk->n; i++) {
        tc_warn("[sink %s] %s of incident %lld skipped: the trigger to this sink failed",
                q->ref->conf->id, tocsin_action_name((enum tocsin_action)sk->v[i].action),
                (long long)sk->v[i].incident);
        atomic_fetch_add(&q->skipped, 1);
        report(q, &sk->v[i], "skipped", sk->v[i].attempts, sk->v[i].throttled, 0,
               "the trigger to this sink failed");
    }
    free(sk->v);
    *sk = (struct skips){ NULL, 0, 0 };
}

/* A row joins its incident's line (under q->lock). */
static void arrive(struct sink_queue *q, struct tc_item it, struct skips *sk)
{
    switch (tc_order_arrive(q->order, &it)) {
    case TC_LINE_HEAD:
        push_ready(q, it);
        break;
    case TC_LINE_WAITS:
        break;
    case TC_LINE_BLOCKED:
        skip_later(sk, &it);
        break;
    case TC_LINE_NOMEM:
        not_queued(q, &it);
        break;
    }
}

void tc_dispatcher_enqueue(struct tc_dispatcher *d, const char *sink, int64_t outbox_id,
                           int64_t incident, enum tocsin_action action, int64_t created,
                           int64_t due_ms, struct tc_fresh *fresh)
{
    struct sink_queue *q = find_queue(d, sink);
    struct skips sk = { NULL, 0, 0 };

    if (!q) {
        tc_fresh_unref(fresh);
        return;
    }
    pthread_mutex_lock(&q->lock);
    arrive(q, (struct tc_item){ due_ms, outbox_id, incident, created, (int)action, 0, 0, fresh },
           &sk);
    pthread_mutex_unlock(&q->lock);
    report_skips(q, &sk);
}

void tc_dispatcher_settled(struct tc_dispatcher *d, const char *sink, int64_t incident)
{
    struct sink_queue *q = find_queue(d, sink);

    if (!q)
        return;
    pthread_mutex_lock(&q->lock);
    tc_order_unblock(q->order, incident);
    pthread_mutex_unlock(&q->lock);
}

void tc_dispatcher_ref_stored(struct tc_dispatcher *d, const char *sink, int64_t incident,
                              int64_t outbox_id)
{
    struct sink_queue *q = find_queue(d, sink);
    struct kept_ref **at, *k;

    if (!q)
        return;
    pthread_mutex_lock(&q->lock);
    for (at = &q->kept; (k = *at); at = &k->next) {
        /* A later delivery may have remembered again since: keep that. */
        if (k->incident == incident && k->outbox_id == outbox_id) {
            *at = k->next;
            free(k->ref);
            free(k);
            break;
        }
    }
    pthread_mutex_unlock(&q->lock);
}

/* The row and its incident, as a notification. */
struct loaded {
    struct tocsin_notification n;
    struct tc_alert alert;
    json_t *json;
    const char *action;
    char *actor, *note;
    char *stored_ref;  /* what the sink remembered of the incident, as stored */
    char *ref;         /* what this delivery sees (ref_for) */
    int pending;
    int after_failed; /* the trigger to this sink failed or was skipped */
};

/* The latest earlier trigger of the incident to the same sink tells
 * whether a follow-up may go (after a restart: in memory, the line does). */
static const char *const load_sql =
    "SELECT o.incident_id, o.action, o.state, o.actor, o.note, i.alert, i.occurrences,"
    " i.first_seen, i.last_seen,"
    " (SELECT t.state FROM outbox t WHERE t.incident_id = o.incident_id AND t.sink = o.sink"
    "   AND t.action = 'trigger' AND t.id < o.id ORDER BY t.id DESC LIMIT 1),"
    " (SELECT r.ref FROM sink_refs r WHERE r.incident_id = o.incident_id AND r.sink = o.sink),"
    " o.repeat, i.previous_id"
    " FROM outbox o JOIN incidents i ON i.id = o.incident_id WHERE o.id = ?1";

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

/* A new trigger from what the writer handed over: no store read, and a
 * JSON object of this thread's own. */
static int load_fresh(const struct tc_fresh *f, int64_t id, struct loaded *l)
{
    memset(l, 0, sizeof *l);
    l->pending = 1;
    l->json = json_loads(f->alert_json, 0, NULL);
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
    free(l->stored_ref);
    free(l->ref);
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
    l->n.action = tc_action_parse((const char *)sqlite3_column_text(st, 1));
    l->pending = col_is(st, 2, "pending");
    l->actor = col_dup(st, 3);
    l->note = col_dup(st, 4);
    l->json = json_loads((const char *)sqlite3_column_text(st, 5), 0, NULL);
    l->n.occurrences = sqlite3_column_int64(st, 6);
    l->n.first_seen = sqlite3_column_int64(st, 7);
    l->n.last_seen = sqlite3_column_int64(st, 8);
    l->after_failed = l->n.action != TOCSIN_ACT_TRIGGER &&
                      (col_is(st, 9, "failed") || col_is(st, 9, "skipped"));
    l->stored_ref = col_dup(st, 10);
    l->n.repeat = sqlite3_column_int(st, 11);
    l->n.previous_id = sqlite3_column_int64(st, 12);
    sqlite3_reset(st);
    return finish_load(l, id);
}

/* "3h05m", "4m10s", "12s": for the log and the timeline. */
static void format_span(int64_t ms, char *out, size_t len)
{
    int64_t s = ms / 1000;

    if (s >= 3600)
        snprintf(out, len, "%lldh%02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
    else if (s >= 60)
        snprintf(out, len, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
    else
        snprintf(out, len, "%llds", (long long)s);
}

/* What became of a delivery, for its incident's line. */
enum result {
    R_FINISHED,       /* done, failed, or nothing to send: the next row may go */
    R_RETRY,          /* *it is due again later, still the head */
    R_TRIGGER_FAILED, /* the rows behind it are skipped */
};

static enum result deliver_one(struct sink_queue *q, struct worker_db *w, struct tc_item *it,
                               unsigned *seed)
{
    const struct tc_instance_conf *conf = q->ref->conf;
    struct tocsin_verdict v;
    struct loaded l;
    struct tc_remembered mem;
    char why[TC_SCRUB_MAX + 1];
    int found = it->fresh ? load_fresh(it->fresh, it->id, &l) : load(w, it->id, &l);
    int attempts = it->attempts + 1, throttled = it->throttled;
    int64_t now, spent;
    enum result r = R_FINISHED;

    /* A retry reads the row back: a queue of rows waiting for a peer that
     * is down then costs memory per row, not per alert. */
    tc_fresh_unref(it->fresh);
    it->fresh = NULL;

    if (found < 0) {
        /* The store is busy or failing: keep the line, try again soon. */
        tc_error("[sink %s] cannot load notification %lld; trying again in 5 s", conf->id,
                 (long long)it->id);
        unload(&l);
        it->due = tc_now_ms() + 5000;
        return R_RETRY;
    }
    if (found == 0 || !l.pending) {
        unload(&l);
        return R_FINISHED;
    }
    if (l.after_failed) {
        tc_warn("[sink %s] %s of incident %lld skipped: the trigger to this sink failed",
                conf->id, l.action, (long long)l.n.incident_id);
        atomic_fetch_add(&q->skipped, 1);
        report(q, it, "skipped", it->attempts, throttled, 0, "the trigger to this sink failed");
        unload(&l);
        return R_FINISHED;
    }
    l.n.sink_id = conf->id;
    l.n.attempt = attempts;
    l.n.external_url = q->d->cfg->daemon.external_url;
    l.n.ref = l.ref = ref_for(q, l.n.incident_id, l.stored_ref);
    v = tc_remember_deliver(q->ref->plugin, q->ref->self, &l.n, &mem);
    /* The provider's words as the plugin quoted them: cut, escaped and rid
     * of URLs' secrets here, once for every sink, before the log and the
     * store see them. */
    tc_scrub(v.reason, why, sizeof why - 1);
    now = tc_now_ms();
    spent = now - it->created;
    /* A wait the provider asked for (429, 503 with Retry-After) is
     * throttling, not failure: it costs no attempt, only time. */
    if (v.kind == TOCSIN_RETRY && v.retry_after > 0)
        throttled++;
    if (v.kind == TOCSIN_DONE) {
        tc_debug("[sink %s] %s of incident %lld delivered (attempt %d)", conf->id, l.action,
                 (long long)l.n.incident_id, attempts);
        tc_metric_add(TC_M_NOTIFY_DONE, 1);
        atomic_fetch_add(&q->delivered, 1);
        /* Kept before the line moves on: the incident's next row sees it. */
        if (mem.set)
            keep_ref(q, l.n.incident_id, it->id, &mem);
        report_ref(q, it, "done", attempts, throttled, 0, NULL, &mem);
    } else if (v.kind == TOCSIN_RETRY && spent < conf->retry_for_ms &&
               (conf->max_attempts == 0 || attempts - throttled < conf->max_attempts)) {
        int counted = attempts - throttled > 0 ? attempts - throttled : 1;
        int64_t delay = tc_retry_delay_ms(counted, v.retry_after, conf->retry_base_ms,
                                          conf->retry_max_ms, (uint32_t)rand_r(seed));
        int64_t due = now + delay, last = it->created + conf->retry_for_ms;

        /* The last attempt falls on the deadline, not past it. */
        if (due > last)
            due = last > now ? last : now;
        tc_warn("[sink %s] %s of incident %lld: %s; retry %d in %lld ms", conf->id, l.action,
                (long long)l.n.incident_id, why, attempts + 1, (long long)(due - now));
        tc_metric_add(TC_M_NOTIFY_RETRY, 1);
        atomic_fetch_add(&q->retried, 1);
        report(q, it, "pending", attempts, throttled, due, why);
        it->due = due;
        it->attempts = attempts;
        it->throttled = throttled;
        r = R_RETRY;
    } else {
        char reason[360], span[32];

        format_span(spent, span, sizeof span);
        if (v.kind == TOCSIN_RETRY)
            snprintf(reason, sizeof reason, "gave up after %d attempts in %s: %s", attempts,
                     span, why);
        else
            snprintf(reason, sizeof reason, "%s", why);
        tc_error("[sink %s] %s of incident %lld failed permanently: %s%s%s", conf->id,
                 l.action, (long long)l.n.incident_id, reason,
                 conf->fallback ? "; handing it to fallback " : "",
                 conf->fallback ? conf->fallback : "");
        tc_metric_add(TC_M_NOTIFY_FAILED, 1);
        atomic_fetch_add(&q->failed, 1);
        report(q, it, "failed", attempts, throttled, 0, reason);
        if (l.n.action == TOCSIN_ACT_TRIGGER)
            r = R_TRIGGER_FAILED;
    }
    unload(&l);
    return r;
}

/* Move the incident's line on after a delivery (under q->lock). */
static void advance(struct sink_queue *q, struct tc_item *it, enum result r, struct skips *sk)
{
    struct tc_item next;

    switch (r) {
    case R_RETRY:
        push_ready(q, *it);
        break;
    case R_TRIGGER_FAILED:
        tc_order_block(q->order, it->incident, skip_later, sk);
        break;
    case R_FINISHED:
        if (tc_order_next(q->order, it->incident, &next))
            push_ready(q, next);
        break;
    }
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
            tc_deadline_set(&q->due, q->heap[0].due);
            pthread_cond_wait(&q->cond, &q->lock);
        } else {
            struct tc_item it = heap_pop(q);
            struct skips sk = { NULL, 0, 0 };
            enum result r;

            q->busy++;
            pthread_mutex_unlock(&q->lock);
            r = deliver_one(q, &w, &it, &seed);
            pthread_mutex_lock(&q->lock);
            q->busy--; /* nobody waits on this: push() wakes a worker per row */
            advance(q, &it, r, &sk);
            if (sk.n) {
                pthread_mutex_unlock(&q->lock);
                report_skips(q, &sk);
                pthread_mutex_lock(&q->lock);
            }
        }
    }
    pthread_mutex_unlock(&q->lock);
    sqlite3_finalize(w.load);
    sqlite3_close(w.db);
    tc_httpclient_thread_done();
    return NULL;
}

/* A queue's first row fell due (on the deadlines thread): wake its
 * workers; the first to look takes it, the others wait again. */
static void queue_due(void *arg)
{
    struct sink_queue *q = arg;

    pthread_mutex_lock(&q->lock);
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
}

struct tc_dispatcher *tc_dispatcher_new(struct tc_deadlines *deadlines, struct tc_store *store,
                                        const struct tc_config *cfg,
                                        const struct tc_sink_ref *sinks, size_t n)
{
    struct tc_dispatcher *d = calloc(1, sizeof *d);
    size_t i;

    if (!d || !(d->q = calloc(n ? n : 1, sizeof *d->q))) {
        free(d);
        return NULL;
    }
    d->deadlines = deadlines;
    d->store = store;
    d->cfg = cfg;
    d->n = n;
    for (i = 0; i < n; i++) {
        d->q[i].d = d;
        d->q[i].ref = &sinks[i];
        if (!(d->q[i].order = tc_order_new())) {
            d->n = i;
            tc_dispatcher_free(d);
            return NULL;
        }
        pthread_mutex_init(&d->q[i].lock, NULL);
        pthread_cond_init(&d->q[i].cond, NULL);
        tc_deadline_init(&d->q[i].due, deadlines, queue_due, &d->q[i]);
    }
    return d;
}

/* Pending rows of the previous run, with their attempts so far, each in
 * its incident's line in id order. */
static int load_pending(struct tc_dispatcher *d)
{
    sqlite3 *db = tc_store_reader_get(d->store);
    sqlite3_stmt *st = NULL;
    int64_t count = 0;
    int rc;

    if (!db)
        return -1;
    rc = sqlite3_prepare_v2(db, "SELECT id, sink, next_at, attempts, throttled, incident_id,"
                                " action, created_at FROM outbox"
                                " WHERE state = 'pending' ORDER BY id", -1, &st, NULL);
    while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        const char *sink = (const char *)sqlite3_column_text(st, 1);
        const char *action = (const char *)sqlite3_column_text(st, 6);
        struct sink_queue *q = find_queue(d, sink);
        struct skips sk = { NULL, 0, 0 };
        struct tc_item it = {
            .due = sqlite3_column_int64(st, 2), .id = sqlite3_column_int64(st, 0),
            .incident = sqlite3_column_int64(st, 5), .created = sqlite3_column_int64(st, 7),
            .action = (int)tc_action_parse(action),
            .attempts = sqlite3_column_int(st, 3), .throttled = sqlite3_column_int(st, 4),
        };

        if (!q) {
            tc_warn("outbox: notification %lld is for sink \"%s\", which is not configured; "
                    "it stays pending", (long long)it.id, sink);
            continue;
        }
        pthread_mutex_lock(&q->lock);
        arrive(q, it, &sk); /* no line is blocked yet: nothing to skip */
        pthread_mutex_unlock(&q->lock);
        count++;
    }
    sqlite3_finalize(st);
    tc_store_reader_put(d->store, db);
    if (count)
        tc_info("outbox: resuming %lld pending notifications", (long long)count);
    return rc == SQLITE_OK ? 0 : -1;
}

int tc_dispatcher_start(struct tc_dispatcher *d, tc_outcome_fn fn, void *arg)
{
    size_t i;
    int k;

    d->outcome = fn;
    d->outcome_arg = arg;
    if (load_pending(d) < 0)
        return -1;
    for (i = 0; i < d->n; i++) {
        struct sink_queue *q = &d->q[i];

        q->threads = calloc((size_t)q->ref->conf->concurrency, sizeof *q->threads);
        if (!q->threads)
            return -1;
        q->n_threads = (int)q->ref->conf->concurrency;
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
        total += (int64_t)(d->q[i].n + tc_order_waiting(d->q[i].order)) + d->q[i].busy;
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
        out[i].pending = (int64_t)(q->n + tc_order_waiting(q->order)) + q->busy;
        pthread_mutex_unlock(&q->lock);
        out[i].id = q->ref->conf->id;
        out[i].delivered = atomic_load(&q->delivered);
        out[i].retried = atomic_load(&q->retried);
        out[i].failed = atomic_load(&q->failed);
        out[i].skipped = atomic_load(&q->skipped);
    }
    *n = d->n;
    return out;
}

static void drop_item(void *arg, struct tc_item *it)
{
    (void)arg;
    tc_fresh_unref(it->fresh);
}

void tc_dispatcher_stop(struct tc_dispatcher *d)
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
        d->q[i].n_threads = 0;
        tc_deadline_cancel(&d->q[i].due); /* not under q->lock: queue_due takes it */
    }
}

void tc_dispatcher_free(struct tc_dispatcher *d)
{
    size_t i;

    if (!d)
        return;
    tc_dispatcher_stop(d);
    for (i = 0; i < d->n; i++) {
        while (d->q[i].n) /* still pending in the store */
            tc_fresh_unref(heap_pop(&d->q[i]).fresh);
        tc_order_free(d->q[i].order, drop_item, NULL);
        kept_free(&d->q[i]);
        free(d->q[i].threads);
        free(d->q[i].heap);
        pthread_mutex_destroy(&d->q[i].lock);
        pthread_cond_destroy(&d->q[i].cond);
    }
    free(d->q);
    free(d);
}
