/* dispatcher.h: delivers outbox rows through sink plugins, with retries. */
#ifndef TC_DISPATCHER_H
#define TC_DISPATCHER_H

#include <stdint.h>
#include <tocsin/plugin.h>

#include "config.h"
#include "fresh.h"
#include "metrics.h"
#include "store.h"

struct tc_dispatcher;

/* A started sink instance. */
struct tc_sink_ref {
    const struct tc_instance_conf *conf;
    const struct tocsin_plugin *plugin;
    void *self;
};

/* A delivery outcome, for the writer: state "done", "pending" (a retry at
 * next_at), "failed" (given up) or "skipped" (behind a failed trigger). */
struct tc_outcome {
    int64_t outbox_id, incident_id;
    const char *sink, *action, *state, *reason;
    int attempts, throttled;
    int64_t next_at;
    int ref_set;          /* "done", and the sink remembered ref (NULL: forgot) */
    const char *ref;
};
typedef void (*tc_outcome_fn)(void *arg, const struct tc_outcome *o);

struct tc_deadlines;
/* Workers wait for retries through deadlines (deadline.h). */
struct tc_dispatcher *tc_dispatcher_new(struct tc_deadlines *deadlines, struct tc_store *store,
                                        const struct tc_config *cfg,
                                        const struct tc_sink_ref *sinks, size_t n);
/* Load pending rows from the store and start each sink's workers, which
 * report every outcome through fn (on their own threads; it must not
 * block for long). */
int tc_dispatcher_start(struct tc_dispatcher *d, tc_outcome_fn fn, void *arg);

/* A committed outbox row of incident, created at `created`, to deliver
 * at due_ms; takes over the reference to fresh (which may be NULL). Rows
 * of one incident must be enqueued in id order (commit order). */
void tc_dispatcher_enqueue(struct tc_dispatcher *d, const char *sink, int64_t outbox_id,
                           int64_t incident, enum tocsin_action action, int64_t created,
                           int64_t due_ms, struct tc_fresh *fresh);
/* The writer recorded that incident's trigger to sink failed for good:
 * from now on no new row of it can reach sink, so its line can go. */
void tc_dispatcher_settled(struct tc_dispatcher *d, const char *sink, int64_t incident);
/* The writer committed what sink remembered of incident at outbox row
 * outbox_id: the store has it now, the dispatcher need not keep it. */
void tc_dispatcher_ref_stored(struct tc_dispatcher *d, const char *sink, int64_t incident,
                              int64_t outbox_id);
/* Wait until nothing is due or in flight, or until deadline (ms, wall). */
void tc_dispatcher_drain(struct tc_dispatcher *d, int64_t deadline_ms);
/* Stop and join the workers (a delivery in flight is aborted); rows may
 * still be enqueued (they wait, unsent). Every outcome has been reported
 * when it returns. */
void tc_dispatcher_stop(struct tc_dispatcher *d);
/* Stop if still running, and free. Rows still pending stay in the store
 * for the next start. */
void tc_dispatcher_free(struct tc_dispatcher *d);
int64_t tc_dispatcher_pending(struct tc_dispatcher *d);
/* Each sink's figures in configured order, as a malloc()ed array of *n
 * (NULL when out of memory). The ids point into the config. */
struct tc_sink_stats *tc_dispatcher_stats(struct tc_dispatcher *d, size_t *n);

#endif
