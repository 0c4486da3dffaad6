/* pipeline.c: the writer thread. Alerts, human actions and delivery
 * outcomes queue here; the thread applies whatever is waiting in one
 * transaction (group commit: many intakes, one fsync), answers the waiting
 * callers, then hands new outbox rows to the dispatcher. It also resolves
 * expired incidents and prunes old ones. What each job does to incidents
 * is apply.c's. */
#define _GNU_SOURCE
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "common.h"
#include "deadline.h"
#include "dispatcher.h"
#include "log.h"
#include "metrics.h"
#include "pipeline.h"
#include "policy_timers.h"

#define PRUNE_EVERY_MS (3600 * 1000)
/* Delivery outcomes wait this long, or for this many, to share a commit:
 * under load they ride along with intake instead of costing an fsync
 * each. A crash in between means a notification is sent again, which the
 * outbox already allows (at least once, with an idempotency key). */
#define OUTCOME_DELAY_MS 50
#define OUTCOME_BATCH 256
/* Expired incidents resolved per transaction (more follow at once). */
#define EXPIRE_BATCH 256
/* Policy timers fired per transaction (more follow at once). */
#define TIMER_BATCH 64
/* Resolved incidents pruned per transaction (more follow between intake
 * batches, so pruning a backlog never stalls intake). */
#define PRUNE_BATCH 500
/* While the store cannot commit, try a write this often (for /readyz). */
#define PROBE_EVERY_MS 2000

enum job_kind { JOB_INTAKE, JOB_ACT, JOB_DELIVERY };

/* Transaction control, prepared once: the writer runs these per job. */
enum tx { TX_BEGIN, TX_COMMIT, TX_ROLLBACK, TX_SAVEPOINT, TX_ROLLBACK_TO, TX_RELEASE, TX_COUNT };

static const char *const tx_sql[TX_COUNT] = {
    [TX_BEGIN] = "BEGIN IMMEDIATE",       [TX_COMMIT] = "COMMIT",
    [TX_ROLLBACK] = "ROLLBACK",           [TX_SAVEPOINT] = "SAVEPOINT job",
    [TX_ROLLBACK_TO] = "ROLLBACK TO job", [TX_RELEASE] = "RELEASE job",
};

struct job {
    enum job_kind kind;
    struct job *next;
    int taken;               /* by the writer: its caller can no longer withdraw it */
    int done;
    pthread_cond_t answered; /* signalled when done (waited-for jobs) */
    int result;        /* TOCSIN_OK / TOCSIN_EIO, or an HTTP status for JOB_ACT */
    char err[256];
    /* JOB_INTAKE */
    const char *source;
    struct tc_intake_alert *alerts;
    size_t n;
    /* JOB_ACT */
    int64_t id;
    enum tc_event ev;
    const char *by, *note;
    /* JOB_DELIVERY (owned copies) */
    int64_t incident_id;
    char *sink, *action, *state, *reason;
    int attempts, throttled;
    int64_t next_at;
    int ref_set;
    char *ref;               /* what the sink remembered (ref_set; NULL: forgot) */
    struct tc_rows rows; /* outbox rows it created, enqueued after the commit */
};

struct tc_pipeline {
    struct tc_store *store;
    const struct tc_config *cfg;
    struct tc_dispatcher *dispatcher;
    struct tc_applier ap; /* the effects (apply.c); its next_expiry is the writer's */
    sqlite3 *db;

    sqlite3_stmt *tx[TX_COUNT];

    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;      /* jobs arrived */
    struct job *head, **tail; /* intake and human actions: written at once */
    struct job *outcomes, **outcomes_tail; /* delivery outcomes: may wait */
    size_t n_outcomes;
    int64_t outcomes_since;   /* when the oldest waiting outcome arrived */
    size_t in_flight;         /* alerts queued or being written */
    int intake_closed, stopping, running;
    int64_t next_prune;
    int64_t grace_end;        /* nothing expires before (daemon.expiry_grace) */
    atomic_int store_ok;      /* the last commit succeeded (for /readyz) */
    int64_t next_probe;
    struct tc_rows handing;   /* committed rows, handed over outside the lock */
    char probe_sql[48];
    struct tc_deadline due;   /* wakes the writer for expiry, pruning, batched outcomes */
    int64_t timer_poke;       /* earliest policy timer set from another thread */
};

/* /readyz follows the last commit: a store that cannot commit (disk full)
 * makes the daemon unready until a write succeeds again. */
static void note_commit(struct tc_pipeline *p, int ok)
{
    if (ok != atomic_load(&p->store_ok)) {
        if (ok)
            tc_info("store: commits succeed again; ready");
        else
            tc_error("store: cannot commit; not ready until a write succeeds "
                     "(checked every %d s)", PROBE_EVERY_MS / 1000);
    }
    atomic_store(&p->store_ok, ok);
    if (!ok)
        p->next_probe = tc_now_ms() + PROBE_EVERY_MS;
}

/* ------------------------------------------------------------------ */

static int exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

    if (rc != SQLITE_OK) {
        tc_error("store: %s: %s", sql, msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        tc_metric_add(TC_M_STORE_ERRORS, 1);
        return -1;
    }
    return 0;
}

static int run_tx(struct tc_pipeline *p, enum tx which)
{
    sqlite3_stmt *st = p->tx[which];
    int rc;

    if (!st)
        return exec(p->db, tx_sql[which]);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        tc_error("store: %s: %s", tx_sql[which], sqlite3_errmsg(p->db));
        tc_metric_add(TC_M_STORE_ERRORS, 1);
        return -1;
    }
    return 0;
}

static void apply(struct tc_pipeline *p, struct job *j, int64_t now)
{
    size_t i;
    int rc = 0;

    if (j->kind == JOB_DELIVERY) {
        /* No savepoint: a failed outcome leaves its row pending, and the
         * row is sent again after a restart (at least once). */
        struct tc_outcome o = { j->id,     j->incident_id, j->sink,      j->action,
                                j->state,  j->reason,      j->attempts,  j->throttled,
                                j->next_at, j->ref_set,    j->ref };

        if (tc_apply_delivery(&p->ap, &j->rows, &o, now) < 0)
            tc_error("store: cannot record the outcome of notification %lld; it stays "
                     "pending and is sent again after a restart", (long long)j->id);
        return;
    }
    if (run_tx(p, TX_SAVEPOINT) < 0) {
        j->result = j->kind == JOB_ACT ? 500 : TOCSIN_EIO;
        return;
    }
    if (j->kind == JOB_INTAKE) {
        for (i = 0; i < j->n && rc == 0; i++)
            rc = tc_apply_alert(&p->ap, &j->rows, &j->alerts[i], now);
        j->result = rc == 0 ? TOCSIN_OK : TOCSIN_EIO;
    } else {
        j->result = tc_apply_act(&p->ap, &j->rows, j->id, j->ev, j->by, j->note, now, j->err,
                                 sizeof j->err);
        rc = j->result == 500 ? -1 : 0;
    }
    if (rc != 0) {
        /* Only this job is lost; the rest of the group still commits. */
        run_tx(p, TX_ROLLBACK_TO);
        tc_rows_drop(&j->rows);
        if (j->kind == JOB_INTAKE)
            snprintf(j->err, sizeof j->err, "the store could not record the alerts");
        tc_metric_add(TC_M_STORE_ERRORS, 1);
    }
    run_tx(p, TX_RELEASE);
}

/* Committed: the new rows go to their sinks' queues (with their
 * references), in commit order; the array is emptied. Not under p->lock:
 * the dispatcher may report outcomes back while it takes them. */
static void hand_over(struct tc_pipeline *p, struct tc_rows *rows)
{
    size_t i;

    for (i = 0; i < rows->n; i++)
        tc_dispatcher_enqueue(p->dispatcher, rows->v[i].sink, rows->v[i].id,
                              rows->v[i].incident, rows->v[i].action, rows->v[i].at,
                              rows->v[i].at, rows->v[i].fresh);
    rows->n = 0;
}

/* Move a job's committed rows to the writer's hand-over list. */
static void collect(struct tc_pipeline *p, struct tc_rows *rows)
{
    size_t i;

    for (i = 0; i < rows->n; i++) {
        if (tc_rows_push(&p->handing, &rows->v[i]) < 0) {
            tc_error("out of memory handing notification %lld to its sink; it stays "
                     "pending in the store until the next start",
                     (long long)rows->v[i].id);
            tc_fresh_unref(rows->v[i].fresh);
        }
    }
    free(rows->v);
    *rows = (struct tc_rows){ NULL, 0, 0 };
}

static void finish(struct tc_pipeline *p, struct job *j, int committed)
{
    if (!committed) {
        tc_rows_drop(&j->rows);
        if (j->kind == JOB_ACT)
            j->result = 500;
        else
            j->result = TOCSIN_EIO;
        snprintf(j->err, sizeof j->err, "the store could not commit");
    }
    collect(p, &j->rows);
    if (j->kind == JOB_INTAKE && committed && j->result == TOCSIN_OK)
        tc_metric_add(TC_M_ALERTS_ACCEPTED, (int64_t)j->n);
    if (j->kind == JOB_DELIVERY) {
        /* The failure is on record (or the store is failing): no new row
         * of this incident can reach the sink now. */
        if (strcmp(j->state, "failed") == 0 && strcmp(j->action, "trigger") == 0)
            tc_dispatcher_settled(p->dispatcher, j->sink, j->incident_id);
        if (committed && j->ref_set)
            tc_dispatcher_ref_stored(p->dispatcher, j->sink, j->incident_id, j->id);
        free(j->ref);
        free(j->sink);
        free(j->action);
        free(j->state);
        free(j->reason);
        free(j);
    }
}

/* One bounded batch of resolved incidents past retention; the next
 * batch follows at once if there may be more, between intake batches. */
static void prune(struct tc_pipeline *p, int64_t now)
{
    int64_t removed = 0;

    p->next_prune = now + PRUNE_EVERY_MS;
    if (run_tx(p, TX_BEGIN) < 0)
        return;
    if (tc_incidents_prune(p->ap.inc, now - p->cfg->daemon.retention_ms, PRUNE_BATCH,
                           &removed) < 0 ||
        (removed && tc_policy_timers_orphans(p->db) < 0)) {
        run_tx(p, TX_ROLLBACK);
        return;
    }
    if (run_tx(p, TX_COMMIT) < 0) {
        run_tx(p, TX_ROLLBACK);
        return;
    }
    if (removed == PRUNE_BATCH)
        p->next_prune = now;
    if (removed)
        tc_info("store: pruned %lld resolved incidents past retention", (long long)removed);
}

/* When the writer next looks for expired incidents: not before the grace
 * after start, so senders can refresh what still fires after a downtime. */
static int64_t expiry_due(const struct tc_pipeline *p)
{
    return p->ap.next_expiry > p->grace_end ? p->ap.next_expiry : p->grace_end;
}

/* Whether the writer has something to do now; if not, *until is the
 * wall-clock ms at which it will (waiting outcomes fall due, pruning). */
static int has_work(struct tc_pipeline *p, int64_t now, int64_t *until)
{
    /* Pruning is always scheduled, so the wake-up time only changes when
     * something is due sooner: re-arming the same deadline costs nothing. */
    int64_t due = p->next_prune;

    if (p->timer_poke < p->ap.next_timer)
        p->ap.next_timer = p->timer_poke;
    p->timer_poke = INT64_MAX;
    if (p->head || p->stopping || now >= p->next_prune || now >= expiry_due(p) ||
        now >= p->ap.next_timer ||
        (!atomic_load(&p->store_ok) && now >= p->next_probe))
        return 1;
    if (p->outcomes) {
        due = p->outcomes_since + OUTCOME_DELAY_MS;
        if (p->n_outcomes >= OUTCOME_BATCH || now >= due)
            return 1;
    }
    if (p->next_prune < due)
        due = p->next_prune;
    if (!atomic_load(&p->store_ok) && p->next_probe < due)
        due = p->next_probe;
    if (p->ap.next_timer < due)
        due = p->ap.next_timer;
    *until = expiry_due(p) < due ? expiry_due(p) : due;
    return 0;
}

/* Take everything queued: outcomes first (they happened before anything
 * still waiting, so the timeline stays in order), then the rest. */
static struct job *take_batch(struct tc_pipeline *p)
{
    struct job *batch = p->outcomes, *j;

    if (batch)
        *p->outcomes_tail = p->head;
    else
        batch = p->head;
    p->outcomes = NULL;
    p->outcomes_tail = &p->outcomes;
    p->n_outcomes = 0;
    p->head = NULL;
    p->tail = &p->head;
    for (j = batch; j; j = j->next)
        j->taken = 1;
    return batch;
}

/* Alertmanager's semantics: an alert that stops being refreshed past its
 * endsAt (or resolve_timeout) is over. Resolves what expired, recorded as
 * "expired", and notes when to look again. */
static void expire(struct tc_pipeline *p, int64_t now)
{
    struct tc_rows rows = { NULL, 0, 0 };
    int64_t ids[EXPIRE_BATCH], at[EXPIRE_BATCH], next = 0;
    int n, i, rc = 0, found = -1;

    if (run_tx(p, TX_BEGIN) < 0) {
        p->ap.next_expiry = now + 1000; /* the store is busy or failing: retry soon */
        return;
    }
    n = tc_incidents_expired(p->ap.inc, now, ids, at, EXPIRE_BATCH);
    for (i = 0; i < n && rc == 0; i++)
        rc = tc_apply_expiry(&p->ap, &rows, ids[i], at[i], now);
    if (n >= 0 && rc == 0)
        found = tc_incidents_next_expiry(p->ap.inc, &next);
    if (n < 0 || rc != 0 || found < 0 || run_tx(p, TX_COMMIT) < 0) {
        run_tx(p, TX_ROLLBACK);
        tc_rows_free(&rows);
        p->ap.next_expiry = now + 1000;
        return;
    }
    tc_metric_add(TC_M_COMMITS, 1);
    if (n > 0)
        tc_info("resolved %d incidents whose alerts expired", n);
    /* A full batch means more are due now; else sleep until the next. */
    p->ap.next_expiry = n == EXPIRE_BATCH ? now : found ? next : INT64_MAX;
    hand_over(p, &rows); /* the resolve notifications */
    tc_rows_free(&rows);
}

/* Policies' timers that fell due: each is taken from the store and its
 * policy told, in one transaction per batch; notes when to look again. */
static void fire_timers(struct tc_pipeline *p, int64_t now)
{
    struct tc_rows rows = { NULL, 0, 0 };
    struct tc_due_timer due[TIMER_BATCH];
    int64_t next = 0;
    int n, i, rc = 0, found = -1;

    p->ap.next_timer = INT64_MAX; /* what the policies set now lowers it */
    if (run_tx(p, TX_BEGIN) < 0) {
        p->ap.next_timer = now + 1000;
        return;
    }
    n = tc_policy_timers_take(p->db, now, due, TIMER_BATCH);
    for (i = 0; i < n && rc == 0; i++)
        rc = tc_apply_timer(&p->ap, &rows, due[i].instance, due[i].incident, due[i].name,
                            due[i].due, now);
    if (n >= 0 && rc == 0)
        found = tc_policy_timers_next(p->db, &next);
    if (n < 0 || rc != 0 || found < 0 || run_tx(p, TX_COMMIT) < 0) {
        run_tx(p, TX_ROLLBACK);
        tc_rows_free(&rows);
        p->ap.next_timer = now + 1000; /* the store is busy or failing: retry soon */
        return;
    }
    tc_metric_add(TC_M_COMMITS, 1);
    p->ap.next_timer = n == TIMER_BATCH ? now : found ? next : INT64_MAX;
    hand_over(p, &rows);
    tc_rows_free(&rows);
}

/* Whether the store takes a write again (disk full, then freed). */
static void probe(struct tc_pipeline *p, int64_t now)
{
    int ok;

    p->next_probe = now + PROBE_EVERY_MS;
    /* Rewriting the header's user_version writes a page, as a commit must. */
    ok = run_tx(p, TX_BEGIN) == 0 && exec(p->db, p->probe_sql) == 0;
    ok = ok && run_tx(p, TX_COMMIT) == 0;
    if (!ok)
        run_tx(p, TX_ROLLBACK);
    note_commit(p, ok);
}

static void *writer_main(void *arg)
{
    struct tc_pipeline *p = arg;

    pthread_setname_np(pthread_self(), "tc-writer"); /* for top -H and perf */
    tc_store_writer_thread();
    for (;;) {
        struct job *batch, *j, *next;
        size_t alerts = 0;
        int64_t now, until;
        int committed;

        pthread_mutex_lock(&p->lock);
        while (!has_work(p, tc_now_ms(), &until)) {
            tc_deadline_set(&p->due, until);
            pthread_cond_wait(&p->wake, &p->lock);
        }
        batch = take_batch(p);
        if (!batch && p->stopping) {
            pthread_mutex_unlock(&p->lock);
            break;
        }
        pthread_mutex_unlock(&p->lock);

        now = tc_now_ms();
        if (batch) {
            committed = run_tx(p, TX_BEGIN) == 0;
            if (committed) {
                for (j = batch; j; j = j->next)
                    apply(p, j, now);
                committed = run_tx(p, TX_COMMIT) == 0;
                if (!committed)
                    run_tx(p, TX_ROLLBACK);
                else
                    tc_metric_add(TC_M_COMMITS, 1);
            }
            note_commit(p, committed);
            pthread_mutex_lock(&p->lock);
            for (j = batch; j; j = next) {
                next = j->next;
                if (j->kind == JOB_INTAKE)
                    alerts += j->n;
                if (j->kind == JOB_DELIVERY) {
                    finish(p, j, committed); /* and frees it */
                    continue;
                }
                finish(p, j, committed);
                j->done = 1;
                pthread_cond_signal(&j->answered); /* its caller, and only it */
            }
            p->in_flight -= alerts;
            pthread_mutex_unlock(&p->lock);
            hand_over(p, &p->handing);
        } else if (!atomic_load(&p->store_ok) && now >= p->next_probe) {
            probe(p, now);
        }
        if (now >= p->next_prune)
            prune(p, now);
        if (now >= expiry_due(p))
            expire(p, now);
        if (now >= p->ap.next_timer)
            fire_timers(p, now);
    }
    tc_rows_free(&p->handing);
    return NULL;
}

/* Queue a job and wait for its answer (under p->lock), at most wait_ms
 * while nobody has taken it: then it is withdrawn and 0 returned (the
 * caller answers 503). Once taken, the writer answers it soon (the store
 * write is under way). */
static int submit(struct tc_pipeline *p, struct job *j, int64_t wait_ms)
{
    int64_t deadline = tc_now_ms() + wait_ms;

    j->next = NULL;
    pthread_cond_init(&j->answered, NULL);
    *p->tail = j;
    p->tail = &j->next;
    pthread_cond_signal(&p->wake);
    while (!j->done) {
        if (!j->taken && tc_now_ms() >= deadline) {
            struct job **at = &p->head;

            while (*at != j)
                at = &(*at)->next;
            *at = j->next;
            if (p->tail == &j->next)
                p->tail = at;
            pthread_cond_destroy(&j->answered);
            return 0;
        }
        if (j->taken)
            pthread_cond_wait(&j->answered, &p->lock);
        else
            tc_clock_timedwait(&j->answered, &p->lock, deadline);
    }
    pthread_cond_destroy(&j->answered);
    return 1;
}

/* ------------------------------------------------------------------ */

/* Fill the core's defaults and validate. The summary, service and dedup
 * key may point into the alert's own labels or into ia. */
static int prepare(const char *source, const struct tocsin_alert *in, struct tc_intake_alert *ia,
                   size_t index, int64_t now, char *err, size_t errlen)
{
    struct tocsin_alert *a = &ia->a;

    *a = *in;
    if ((!a->dedup_key || !*a->dedup_key) && a->n_labels == 0) {
        snprintf(err, errlen, "alert %zu: needs labels or a dedup_key", index);
        return -1;
    }
    if ((unsigned)a->severity > TOCSIN_SEV_INFO || (unsigned)a->status > TOCSIN_RESOLVED) {
        snprintf(err, errlen, "alert %zu: severity or status out of range", index);
        return -1;
    }
    if (!a->dedup_key || !*a->dedup_key)
        a->dedup_key = tc_fingerprint_hex(a->labels, a->n_labels, ia->fingerprint);
    if (!a->source || !*a->source)
        a->source = source;
    if (!a->service || !*a->service)
        a->service = tocsin_kv_get(a->labels, a->n_labels, "service");
    if (!a->service)
        a->service = tocsin_kv_get(a->labels, a->n_labels, "job");
    if (!a->summary || !*a->summary)
        a->summary = tocsin_kv_get(a->labels, a->n_labels, "alertname");
    if (!a->summary || !*a->summary)
        a->summary = a->dedup_key;
    if (!a->received_at)
        a->received_at = now;
    if (!a->started_at)
        a->started_at = a->received_at;
    if (a->status == TOCSIN_RESOLVED && !a->ended_at)
        a->ended_at = now;
    ia->json = tc_alert_to_text(a); /* the text is all that is kept */
    if (!ia->json) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static void release_alerts(struct tc_intake_alert *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(v[i].json);
        free(v[i].key);
    }
    free(v);
}

/* n alerts from source made ready for the writer: *out (release_alerts
 * it), or a TOCSIN_* refusal with err set and nothing kept. */
static int prepare_all(const char *source, const struct tocsin_alert *alerts, size_t n,
                       int64_t now, struct tc_intake_alert **out, char *err, size_t errlen)
{
    struct tc_intake_alert *v = calloc(n, sizeof *v);
    size_t i;

    if (!v)
        return TOCSIN_ENOMEM;
    for (i = 0; i < n; i++) {
        if (prepare(source, &alerts[i], &v[i], i, now, err, errlen) < 0) {
            release_alerts(v, n);
            tc_metric_add(TC_M_ALERTS_REJECTED, (int64_t)n);
            return TOCSIN_EINVAL;
        }
    }
    *out = v;
    return TOCSIN_OK;
}

/* Room in the queue for n alerts, reserved before they are prepared (so
 * a refusal costs no copies). TOCSIN_OK, or the refusal with err set. */
static int admit(struct tc_pipeline *p, size_t n, char *err, size_t errlen)
{
    int rc = TOCSIN_OK;

    pthread_mutex_lock(&p->lock);
    if (p->intake_closed) {
        snprintf(err, errlen, "tocsind is shutting down");
        rc = TOCSIN_ESHUTDOWN;
    } else if (p->in_flight > 0 && p->in_flight + n > (size_t)p->cfg->daemon.intake_queue) {
        /* A batch larger than the whole queue is taken when the queue is
         * empty, or it could never be taken at all. */
        tc_metric_add(TC_M_INTAKE_BUSY, 1);
        snprintf(err, errlen, "intake queue full (%lld alerts waiting)",
                 (long long)p->cfg->daemon.intake_queue);
        rc = TOCSIN_EBUSY;
    } else {
        p->in_flight += n;
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

static void unadmit(struct tc_pipeline *p, size_t n)
{
    pthread_mutex_lock(&p->lock);
    p->in_flight -= n;
    pthread_mutex_unlock(&p->lock);
}

/* emit() from a policy's on_event(), on the writer thread inside its
 * transaction: queueing would wait on this very thread, so the alerts are
 * applied here and now, and commit with the event (a policy's reminder).
 * Not from evaluate(), nor from an alert emitted this way. */
static int intake_inline(struct tc_policy_ctx *ctx, const char *source,
                         const struct tocsin_alert *alerts, size_t n, char *err, size_t errlen)
{
    static _Thread_local int depth;
    struct tc_intake_alert *v;
    size_t i;
    int rc = 0;

    if (!ctx->in_event || depth) {
        snprintf(err, errlen, "emit() on the writer thread only from on_event(), and not "
                              "from an alert emitted there");
        return TOCSIN_EINVAL;
    }
    if ((rc = prepare_all(source, alerts, n, ctx->now, &v, err, errlen)) != TOCSIN_OK)
        return rc;
    depth++;
    for (i = 0; i < n && rc == 0; i++)
        rc = tc_apply_alert(ctx->ap, ctx->rows, &v[i], ctx->now);
    depth--;
    release_alerts(v, n);
    if (rc != 0) {
        snprintf(err, errlen, "the store could not record the alerts");
        return TOCSIN_EIO;
    }
    tc_metric_add(TC_M_ALERTS_ACCEPTED, (int64_t)n);
    return TOCSIN_OK;
}

int tc_pipeline_intake(struct tc_pipeline *p, const char *source,
                       const struct tocsin_alert *alerts, size_t n, char *err, size_t errlen)
{
    struct job j = { .kind = JOB_INTAKE, .source = source, .n = n };
    struct tc_policy_ctx *ctx = tc_policy_current();
    int64_t now = tc_now_ms();
    int rc;

    if (n == 0)
        return TOCSIN_OK;
    if (ctx)
        return intake_inline(ctx, source, alerts, n, err, errlen);
    if ((rc = admit(p, n, err, errlen)) != TOCSIN_OK)
        return rc;
    if ((rc = prepare_all(source, alerts, n, now, &j.alerts, err, errlen)) != TOCSIN_OK) {
        unadmit(p, n);
        return rc;
    }
    pthread_mutex_lock(&p->lock);
    if (p->intake_closed) { /* closed while we prepared */
        p->in_flight -= n;
        pthread_mutex_unlock(&p->lock);
        release_alerts(j.alerts, n);
        snprintf(err, errlen, "tocsind is shutting down");
        return TOCSIN_ESHUTDOWN;
    }
    if (!submit(p, &j, p->cfg->daemon.intake_wait_ms)) {
        p->in_flight -= n;
        pthread_mutex_unlock(&p->lock);
        release_alerts(j.alerts, n);
        tc_metric_add(TC_M_INTAKE_BUSY, 1);
        tc_warn("intake: the store did not take %zu alerts from %s within %lld ms; "
                "answered 503", n, source, (long long)p->cfg->daemon.intake_wait_ms);
        snprintf(err, errlen, "the store is slow to take alerts; try again");
        return TOCSIN_EBUSY;
    }
    pthread_mutex_unlock(&p->lock);
    release_alerts(j.alerts, n);
    if (j.result != TOCSIN_OK)
        snprintf(err, errlen, "%s", j.err);
    return j.result;
}

int tc_pipeline_act(struct tc_pipeline *p, int64_t id, enum tc_event ev, const char *by,
                    const char *note, char *err, size_t errlen)
{
    struct job j = { .kind = JOB_ACT, .id = id, .ev = ev, .by = by, .note = note };

    pthread_mutex_lock(&p->lock);
    if (p->stopping) {
        pthread_mutex_unlock(&p->lock);
        snprintf(err, errlen, "tocsind is shutting down");
        return 503;
    }
    if (!submit(p, &j, p->cfg->daemon.intake_wait_ms)) {
        pthread_mutex_unlock(&p->lock);
        snprintf(err, errlen, "the store is slow; try again");
        return 503;
    }
    pthread_mutex_unlock(&p->lock);
    snprintf(err, errlen, "%s", j.err);
    return j.result;
}

void tc_pipeline_outcome(void *arg, const struct tc_outcome *o)
{
    struct tc_pipeline *p = arg;
    struct job *j = calloc(1, sizeof *j);

    if (!j || !(j->sink = strdup(o->sink)) || !(j->action = strdup(o->action)) ||
        !(j->state = strdup(o->state)) || (o->reason && !(j->reason = strdup(o->reason))) ||
        (o->ref && !(j->ref = strdup(o->ref)))) {
        tc_error("out of memory recording delivery %lld; it stays pending and is sent "
                 "again after a restart", (long long)o->outbox_id);
        if (j) {
            free(j->sink);
            free(j->action);
            free(j->state);
            free(j->reason);
            free(j);
        }
        return;
    }
    j->kind = JOB_DELIVERY;
    j->id = o->outbox_id;
    j->incident_id = o->incident_id;
    j->attempts = o->attempts;
    j->throttled = o->throttled;
    j->next_at = o->next_at;
    j->ref_set = o->ref_set;
    j->next = NULL;
    pthread_mutex_lock(&p->lock);
    if (!p->outcomes)
        p->outcomes_since = tc_now_ms();
    *p->outcomes_tail = j;
    p->outcomes_tail = &j->next;
    /* The first outcome wakes the writer to set its deadline; a full
     * batch wakes it to write now. */
    if (++p->n_outcomes == 1 || p->n_outcomes >= OUTCOME_BATCH)
        pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
}

void tc_pipeline_timer_due(struct tc_pipeline *p, int64_t due)
{
    pthread_mutex_lock(&p->lock);
    if (due < p->timer_poke)
        p->timer_poke = due;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
}

int tc_pipeline_store_ok(struct tc_pipeline *p)
{
    return atomic_load(&p->store_ok);
}

size_t tc_pipeline_queue_depth(struct tc_pipeline *p)
{
    size_t n;

    pthread_mutex_lock(&p->lock);
    n = p->in_flight;
    pthread_mutex_unlock(&p->lock);
    return n;
}

static void free_pipeline(struct tc_pipeline *p)
{
    int i;

    for (i = 0; i < TX_COUNT; i++)
        sqlite3_finalize(p->tx[i]);
    tc_incidents_free(p->ap.inc);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->wake);
    free(p);
}

/* The writer's deadline fell due (on the deadlines thread): wake it. */
static void writer_due(void *arg)
{
    struct tc_pipeline *p = arg;

    pthread_mutex_lock(&p->lock);
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
}

struct tc_pipeline *tc_pipeline_new(struct tc_deadlines *deadlines, struct tc_store *store,
                                    const struct tc_config *cfg,
                                    const struct tc_policy_ref *policies, size_t n_policies,
                                    struct tc_dispatcher *dispatcher)
{
    struct tc_pipeline *p = calloc(1, sizeof *p);
    int i;

    if (!p)
        return NULL;
    p->store = store;
    p->cfg = cfg;
    p->ap.cfg = cfg;
    p->ap.policies = policies;
    p->ap.n_policies = n_policies;
    p->dispatcher = dispatcher;
    p->db = tc_store_writer(store);
    p->ap.inc = tc_incidents_new(p->db);
    for (i = 0; i < TX_COUNT; i++) /* a failure here falls back to sqlite3_exec() */
        sqlite3_prepare_v3(p->db, tx_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &p->tx[i], NULL);
    p->tail = &p->head;
    p->outcomes_tail = &p->outcomes;
    p->next_prune = tc_now_ms() + 60000;
    p->grace_end = tc_now_ms() + cfg->daemon.expiry_grace_ms;
    p->ap.listening = tc_policy_listening(policies, n_policies);
    p->timer_poke = INT64_MAX;
    /* Timers left by the last run (late ones fire at once, each once). */
    if (tc_policy_timers_next(p->db, &p->ap.next_timer) != 1)
        p->ap.next_timer = INT64_MAX;
    atomic_init(&p->store_ok, 1);
    snprintf(p->probe_sql, sizeof p->probe_sql, "PRAGMA user_version = %d",
             TC_SCHEMA_VERSION);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    tc_deadline_init(&p->due, deadlines, writer_due, p);
    if (!p->ap.inc) {
        free_pipeline(p);
        return NULL;
    }
    return p;
}

int tc_pipeline_run(struct tc_pipeline *p)
{
    if (pthread_create(&p->thread, NULL, writer_main, p) != 0)
        return -1;
    p->running = 1;
    return 0;
}

void tc_pipeline_close_intake(struct tc_pipeline *p)
{
    pthread_mutex_lock(&p->lock);
    p->intake_closed = 1;
    pthread_mutex_unlock(&p->lock);
}

void tc_pipeline_stop(struct tc_pipeline *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->intake_closed = 1;
    p->stopping = 1;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    if (p->running)
        pthread_join(p->thread, NULL);
    tc_deadline_cancel(&p->due); /* not under p->lock: writer_due takes it */
    free_pipeline(p);
}
