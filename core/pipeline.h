/* pipeline.h: the core thread that owns incident state and writes the store.
 * Inputs hand it alerts, the API hands it human actions, the dispatcher
 * hands it delivery outcomes; it applies them in group commits. */
#ifndef TC_PIPELINE_H
#define TC_PIPELINE_H

#include <stddef.h>
#include <stdint.h>
#include <tocsin/plugin.h>

#include "apply.h"
#include "config.h"
#include "incident.h"
#include "store.h"

struct tc_deadlines;
struct tc_dispatcher;
struct tc_pipeline;

/* The writer, not yet running: start the dispatcher (which loads the rows
 * left pending) first, so nothing the writer commits is loaded twice. */
struct tc_pipeline *tc_pipeline_new(struct tc_deadlines *deadlines, struct tc_store *store,
                                    const struct tc_config *cfg,
                                    const struct tc_policy_ref *policies, size_t n_policies,
                                    struct tc_dispatcher *dispatcher);
/* Start the writer thread. 0 or -1. */
int tc_pipeline_run(struct tc_pipeline *p);
/* Refuse new intake (TOCSIN_ESHUTDOWN) from now on. */
void tc_pipeline_close_intake(struct tc_pipeline *p);
/* Apply everything queued, then stop the thread. */
void tc_pipeline_stop(struct tc_pipeline *p);

/* Store alerts from input `source`; blocks until committed, or answers
 * TOCSIN_EBUSY when the writer did not take them within
 * daemon.intake_wait. See emit() in plugin.h for the return codes. */
int tc_pipeline_intake(struct tc_pipeline *p, const char *source,
                       const struct tocsin_alert *alerts, size_t n, char *err, size_t errlen);

/* A human acknowledges or resolves incident id. Returns an HTTP status:
 * 200, 404 (no such incident), 409 (not in a state for it), 500, 503
 * (shutting down, or the writer did not take it within intake_wait). */
int tc_pipeline_act(struct tc_pipeline *p, int64_t id, enum tc_event ev, const char *by,
                    const char *note, char *err, size_t errlen);

/* A delivery outcome (the dispatcher's tc_outcome_fn, arg: the pipeline).
 * Queued; never blocks for long. */
void tc_pipeline_outcome(void *arg, const struct tc_outcome *o);
/* A policy set a timer due at `due` from outside the writer (an API
 * route): wake the writer if it is earlier than what it waits for. */
void tc_pipeline_timer_due(struct tc_pipeline *p, int64_t due);
/* 0 while the store cannot commit (disk full), for /readyz. */
int tc_pipeline_store_ok(struct tc_pipeline *p);

size_t tc_pipeline_queue_depth(struct tc_pipeline *p);

#endif
