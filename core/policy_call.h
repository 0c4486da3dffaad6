/* policy_call.h: calling policies on the writer thread, inside the
 * transaction of the change at hand: evaluate() on every alert, on_event()
 * after a change to an incident and when their timers fall due. While a
 * policy runs, the calling thread's context says which one and what it
 * may touch, so host calls (policy_host.c) land in the right transaction
 * and job; each on_event() runs under a savepoint of its own. */
#ifndef TC_POLICY_CALL_H
#define TC_POLICY_CALL_H

#include <stddef.h>
#include <stdint.h>
#include <tocsin/plugin.h>

#include "incident.h"
#include "rows.h"

struct tc_applier; /* apply.h: what host->notify works with */

/* A policy instance, in configured order. */
struct tc_policy_ref {
    const char *id;
    const struct tocsin_plugin *plugin;
    void *self;
};

/* The context of the policy call running on this thread. */
struct tc_policy_ctx {
    struct tc_applier *ap;
    struct tc_rows *rows;    /* where host->notify's rows go */
    struct tc_incidents *inc;
    int64_t now;
    const struct tc_policy_ref *pol; /* the one being called */
    int in_event;            /* on_event (notify allowed), not evaluate */
    /* Events: the incident's latest alert when the caller holds it parsed
     * (the alert it just stored), so it is not parsed back; or NULL. */
    const struct tocsin_alert *latest;
};

/* The context of the policy this thread is running, or NULL. */
struct tc_policy_ctx *tc_policy_current(void);

/* The chain's verdict on one alert. */
struct tc_judgement {
    char *reason;            /* "policy: reason" when suppressed (malloc()ed), else NULL */
    char suppressed_by[64];
    char dedup_key[256];     /* "" unless a policy named the alert's identity */
    int64_t reopen, previous;
    void *annotations;       /* json_t * of annotations policies added, or NULL */
};

/* Run evaluate() of each policy in order on alert a; a suppression stops
 * the chain. Fills *j (release with tc_judgement_free). */
void tc_policy_judge(struct tc_policy_ctx *ctx, const struct tc_policy_ref *policies, size_t n,
                     const struct tocsin_alert *a, struct tc_judgement *j);
void tc_judgement_free(struct tc_judgement *j);
/* For host->annotate: add key=value to the alert being judged. */
int tc_policy_annotate(struct tocsin_policy_result *res, const char *key, const char *value);

/* 1 when some policy has an on_event (so events are worth building). */
int tc_policy_listening(const struct tc_policy_ref *policies, size_t n);
/* Tell every listening policy, in order, what happened to incident id (0:
 * a timer of the instance's own). ev carries kind, actor, note, timer; its
 * incident and at are filled here. only: just that policy (timers), or
 * NULL. 0, or -1 on a store error (the job fails). */
int tc_policy_event(struct tc_policy_ctx *ctx, const struct tc_policy_ref *policies, size_t n,
                    const struct tc_policy_ref *only, int64_t id, struct tocsin_event *ev);

#endif
