/* apply.h: what alerts, human actions, delivery outcomes and expiries do
 * to incidents. Called by the writer thread (pipeline.c) inside its
 * transaction; nothing here locks, commits or waits. */
#ifndef TC_APPLY_H
#define TC_APPLY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <tocsin/plugin.h>

#include "config.h"
#include "dispatcher.h"
#include "incident.h"
#include "policy_call.h"
#include "rows.h"

/* An alert ready for the writer: the emitter's struct with the core's
 * defaults filled in (its strings live until the emitter is answered). */
struct tc_intake_alert {
    struct tocsin_alert a;
    char fingerprint[17];   /* the derived dedup key, "" when the input gave one */
    char *key;              /* a policy's dedup key for it (malloc()ed), or NULL */
    int annotated;          /* policies' annotations are in json, not in a */
    char *json;  /* native JSON text, what the store keeps (and the sinks get) */
};

/* What the effects need: the writer's statements, the config, the
 * policies, and the earliest expiry written (so the writer wakes for it). */
struct tc_applier {
    struct tc_incidents *inc;
    const struct tc_config *cfg;
    const struct tc_policy_ref *policies;
    size_t n_policies;
    int listening;       /* some policy has on_event */
    int64_t next_expiry; /* lowered by tc_apply_alert(), reset by the writer */
    int64_t next_timer;  /* lowered when a policy sets a timer, reset by the writer */
};

/* Policies, then open, repeat or resolve. 0, or -1 on a store error. */
int tc_apply_alert(struct tc_applier *ap, struct tc_rows *rows, struct tc_intake_alert *ia,
                   int64_t now);
/* A human acknowledges or resolves incident id. Returns an HTTP status
 * (200, 404, 409, 500) with err set for anything but 200. */
int tc_apply_act(struct tc_applier *ap, struct tc_rows *rows, int64_t id, enum tc_event ev,
                 const char *by, const char *note, int64_t now, char *err, size_t errlen);
/* Record a delivery outcome and its timeline entry; what a sink gave up
 * on (failed, skipped) goes to its fallback sink as a new row. 0 or -1. */
int tc_apply_delivery(struct tc_applier *ap, struct tc_rows *rows, const struct tc_outcome *o,
                      int64_t now);
/* Resolve incident id, whose alert was not refreshed before expired_at,
 * as "expired", and notify the trigger's sinks. 0 or -1. */
int tc_apply_expiry(struct tc_applier *ap, struct tc_rows *rows, int64_t id, int64_t expired_at,
                    int64_t now);

/* A policy's timer fell due: tell that policy (on_event TOCSIN_EV_TIMER).
 * 0 or -1. */
int tc_apply_timer(struct tc_applier *ap, struct tc_rows *rows, const char *instance,
                   int64_t incident, const char *name, int64_t due, int64_t now);
/* host->notify from a policy's on_event: see plugin.h. A TOCSIN_* code. */
int tc_apply_notify(struct tc_applier *ap, struct tc_rows *rows, const char *policy,
                    int64_t id, enum tocsin_action action, const char *const *sinks,
                    unsigned flags, int64_t now);

#endif
