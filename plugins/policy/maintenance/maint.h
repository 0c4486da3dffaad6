/* maint.h: the maintenance policy instance, shared by its files:
 * maintenance.c (descriptor, evaluate, events), windows.c (the set of
 * windows, its lock and its stored state) and api.c (the two HTTP APIs). */
#ifndef TOCSIN_MAINT_H
#define TOCSIN_MAINT_H

#include <pthread.h>
#include <stdint.h>
#include <tocsin/plugin.h>

#include "window.h"

/* Expired windows stay listed (and stored) this long after their end. */
#define MW_RETENTION_MS (7 * 24 * 3600 * 1000LL)
/* The state key holding the API's windows, a JSON array. */
#define MW_STATE_KEY "windows"
#define MW_TIMER_END "end:"       /* + window id: a muted incident's window ends */
#define MW_TIMER_REMIND "remind:" /* + window id: remind_before its next start */

struct mw_conf {
    struct tocsin_groups windows;
    int notify_after;
    int64_t remind_before;
    struct tocsin_strlist remind_sinks;
};

struct maint {
    const struct tocsin_host *host;
    const struct mw_conf *conf;
    /* Held by every change of the set, across its state_put: changes
     * store and apply one at a time, in order. Taken before lock. */
    pthread_mutex_t change_lock;
    /* Guards v and the windows' times; evaluate() takes only this one,
     * briefly, and nobody holds it across a host call. */
    pthread_mutex_t lock;
    struct mw_window **v;
    size_t n, cap;
    const char **remind_sinks; /* conf's remind_sinks, NULL-terminated */
};

/* windows.c. The caller holds m->lock (or change_lock: only its holders
 * change the set) for find and covering. */
struct mw_window *mw_find(struct maint *m, const char *id);
/* The window (of all) that covers the alert at t and ends last, or NULL. */
const struct mw_window *mw_covering(struct maint *m, const struct tocsin_alert *a, int64_t t,
                                    int64_t *end);

/* Changes, each stored first (state_put) and applied when that worked:
 * TOCSIN_OK, TOCSIN_EIO, TOCSIN_ENOMEM. The caller holds change_lock.
 * add takes w (also on failure). */
int mw_add(struct maint *m, struct mw_window *w);
/* Replaces the window of w's id by w (takes w). */
int mw_replace(struct maint *m, struct mw_window *w);
/* A one-off ends at `at` (kept, expired); a recurring one is removed. */
int mw_expire(struct maint *m, const char *id, int64_t at);
/* Drops expired windows past the retention (stores when any went). */
int mw_prune(struct maint *m, int64_t now);

/* Loads the stored windows (create()). Bad entries are logged and
 * skipped; TOCSIN_EIO when the state cannot be read. */
int mw_load(struct maint *m);
void mw_free_all(struct maint *m);

/* Moves the end timers of every incident muted by window id to due. */
void mw_move_end_timers(struct maint *m, const char *id, int64_t due);

/* remind.c. arm: (re)sets window id's reminder before its next start
 * (none: cancels it); cancel: drops it; fire: the timer fell due. */
void mw_remind_arm(struct maint *m, const char *id, int64_t now);
void mw_remind_cancel(struct maint *m, const char *id);
int mw_remind_fire(struct maint *m, const struct tocsin_event *ev, const char *id);
/* A reminder this instance emitted; judge decides it (evaluate), opened
 * sends it to remind_sinks (its OPENED event). */
int mw_is_reminder(const struct maint *m, const struct tocsin_alert *a);
void mw_remind_judge(struct maint *m, const struct tocsin_alert *a,
                     struct tocsin_policy_result *res);
int mw_remind_opened(struct maint *m, const struct tocsin_incident *inc);

/* api.c: registers the routes (create()). */
int mw_api_register(struct maint *m);

#endif
