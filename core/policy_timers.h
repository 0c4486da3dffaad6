/* policy_timers.h: the SQL of policies' durable timers (host->
 * policy_timer_set, ABI 1.1), on whichever connection the caller holds:
 * the writer's inside its transaction, or the state connection for a
 * call from another thread (store.c picks). */
#ifndef TC_POLICY_TIMERS_H
#define TC_POLICY_TIMERS_H

#include <sqlite3.h>
#include <stdint.h>

/* Longest timer name a policy may use. */
#define TC_TIMER_NAME_MAX 64

/* Set or move instance's timer name on incident (0: its own) to due;
 * incident TOCSIN_TIMER_EVERY_INCIDENT: move every incident's timer of
 * that name (none is created). 0 or -1 (logged). */
int tc_policy_timer_set(sqlite3 *db, const char *instance, int64_t incident, const char *name,
                        int64_t due);
/* Cancel instance's timer name on incident; name NULL: all its timers on
 * that incident; incident TOCSIN_TIMER_EVERY_INCIDENT: that name on every
 * incident. 0 or -1. */
int tc_policy_timer_cancel(sqlite3 *db, const char *instance, int64_t incident,
                           const char *name);

/* A timer that fell due. */
struct tc_due_timer {
    char instance[128];
    char name[TC_TIMER_NAME_MAX + 1];
    int64_t incident, due;
};

/* Up to max timers due at or before now, earliest first, each removed from
 * the store as it is taken (the policy may set it again). Count, or -1. */
int tc_policy_timers_take(sqlite3 *db, int64_t now, struct tc_due_timer *out, int max);
/* The earliest due time: 1 and *at, 0 when none, -1. */
int tc_policy_timers_next(sqlite3 *db, int64_t *at);
/* Drop timers of incidents that are gone (pruned). 0 or -1. */
int tc_policy_timers_orphans(sqlite3 *db);

#endif
