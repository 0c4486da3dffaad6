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

/* A policy instance, in configured order. */
struct tc_policy_ref {
    const char *id;
    const struct tocsin_plugin *plugin;
    void *self;
};

/* An alert ready for the writer: the emitter's struct with the core's
 * defaults filled in (its strings live until the emitter is answered). */
struct tc_intake_alert {
    struct tocsin_alert a;
    char fingerprint[17];
    char *json;  /* native JSON text, what the store keeps (and the sinks get) */
};

/* The outbox rows a job created: handed to the dispatcher once the
 * transaction commits, forgotten if it rolls back. */
struct tc_new_row {
    const char *sink;       /* points into the config */
    int64_t id, incident, at; /* at: created and due */
    enum tocsin_action action;
    struct tc_fresh *fresh; /* a reference, or NULL */
};

struct tc_rows {
    struct tc_new_row *v;
    size_t n, cap;
};

/* Append a row (taking over its fresh reference). 0, or -1 when out of
 * memory (the row is not added). */
int tc_rows_push(struct tc_rows *rows, const struct tc_new_row *row);
/* Rolled back: release the rows (the array stays for reuse). */
void tc_rows_drop(struct tc_rows *rows);
void tc_rows_free(struct tc_rows *rows);

/* What the effects need: the writer's statements, the config, the
 * policies, and the earliest expiry written (so the writer wakes for it). */
struct tc_applier {
    struct tc_incidents *inc;
    const struct tc_config *cfg;
    const struct tc_policy_ref *policies;
    size_t n_policies;
    int64_t next_expiry; /* lowered by tc_apply_alert(), reset by the writer */
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

/* For policies' host->annotate(): add key=value to the alert being judged. */
int tc_apply_annotate(struct tocsin_policy_result *res, const char *key, const char *value);

#endif
