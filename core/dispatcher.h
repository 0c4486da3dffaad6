/* dispatcher.h: delivers outbox rows through sink plugins, with retries. */
#ifndef TC_DISPATCHER_H
#define TC_DISPATCHER_H

#include <jansson.h>
#include <stdint.h>
#include <tocsin/plugin.h>

#include "config.h"
#include "metrics.h"
#include "store.h"

struct tc_pipeline;
struct tc_dispatcher;

/* A started sink instance. */
struct tc_sink_ref {
    const struct tc_instance_conf *conf;
    const struct tocsin_plugin *plugin;
    void *self;
};

struct tc_dispatcher *tc_dispatcher_new(struct tc_store *store, const struct tc_config *cfg,
                                        const struct tc_sink_ref *sinks, size_t n);
/* Load pending rows from the store and start each sink's workers. */
int tc_dispatcher_start(struct tc_dispatcher *d, struct tc_pipeline *pipeline);
/* What the writer already holds about a new incident's trigger rows, so
 * the first attempt need not read them back from the store (retries and
 * rows resumed at start do). Shared by the incident's rows; reference
 * counted, freed with the last reference. */
struct tc_fresh;
/* alert: the native JSON just stored, read-only from now on (a reference
 * is taken). NULL when out of memory: the row is then read back. */
struct tc_fresh *tc_fresh_new(json_t *alert, int64_t incident_id, int64_t seen_at);
struct tc_fresh *tc_fresh_ref(struct tc_fresh *f);
void tc_fresh_unref(struct tc_fresh *f);

/* A committed outbox row to deliver at due_ms; takes over the reference
 * to fresh (which may be NULL). */
void tc_dispatcher_enqueue(struct tc_dispatcher *d, const char *sink, int64_t outbox_id,
                           int64_t due_ms, struct tc_fresh *fresh);
/* Wait until nothing is due or in flight, or until deadline (ms, wall). */
void tc_dispatcher_drain(struct tc_dispatcher *d, int64_t deadline_ms);
/* Stop the workers (a delivery in flight is aborted) and free. Rows still
 * pending stay in the store for the next start. */
void tc_dispatcher_free(struct tc_dispatcher *d);
int64_t tc_dispatcher_pending(struct tc_dispatcher *d);
/* Each sink's figures in configured order, as a malloc()ed array of *n
 * (NULL when out of memory). The ids point into the config. */
struct tc_sink_stats *tc_dispatcher_stats(struct tc_dispatcher *d, size_t *n);

#endif
