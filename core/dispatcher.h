/* dispatcher.h: delivers outbox rows through sink plugins, with retries. */
#ifndef TC_DISPATCHER_H
#define TC_DISPATCHER_H

#include <stdint.h>
#include <tocsin/plugin.h>

#include "config.h"
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
/* A committed outbox row to deliver at due_ms. */
void tc_dispatcher_enqueue(struct tc_dispatcher *d, const char *sink, int64_t outbox_id,
                           int64_t due_ms);
/* Wait until nothing is due or in flight, or until deadline (ms, wall). */
void tc_dispatcher_drain(struct tc_dispatcher *d, int64_t deadline_ms);
/* Stop the workers (a delivery in flight is aborted) and free. Rows still
 * pending stay in the store for the next start. */
void tc_dispatcher_free(struct tc_dispatcher *d);
int64_t tc_dispatcher_pending(struct tc_dispatcher *d);

#endif
