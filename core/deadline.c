/* deadline.c: the daemon's deadlines, fired by one thread (see
 * deadline.h). A daemon has a few dozen owners at most (the writer, each
 * sink, each plugin with timers), so a sorted list embedded in the owners
 * is enough, and setting a deadline never allocates (never fails). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>

#include "clock.h"
#include "deadline.h"
#include "log.h"

struct tc_deadlines {
    pthread_mutex_t lock;
    pthread_cond_t wake;  /* the earliest deadline changed, or stopping */
    pthread_cond_t fired; /* a fire() returned (cancel waits for it) */
    struct tc_deadline *first; /* set deadlines, earliest first */
    struct tc_deadline *firing;
    pthread_t thread;
    int stopping;
};

static void unlink_dl(struct tc_deadlines *ds, struct tc_deadline *dl)
{
    if (!dl->set)
        return;
    if (dl->prev)
        dl->prev->next = dl->next;
    else
        ds->first = dl->next;
    if (dl->next)
        dl->next->prev = dl->prev;
    dl->prev = dl->next = NULL;
    dl->set = 0;
}

/* In due order; among equal due times, in the order they were set. */
static void link_dl(struct tc_deadlines *ds, struct tc_deadline *dl)
{
    struct tc_deadline *at = ds->first, *before = NULL;

    while (at && at->due <= dl->due) {
        before = at;
        at = at->next;
    }
    dl->prev = before;
    dl->next = at;
    if (before)
        before->next = dl;
    else
        ds->first = dl;
    if (at)
        at->prev = dl;
    dl->set = 1;
}

static void *deadlines_main(void *arg)
{
    struct tc_deadlines *ds = arg;

    pthread_setname_np(pthread_self(), "tc-deadlines");
    pthread_mutex_lock(&ds->lock);
    while (!ds->stopping) {
        struct tc_deadline *dl = ds->first;

        if (!dl) {
            pthread_cond_wait(&ds->wake, &ds->lock);
            continue;
        }
        if (dl->due > tc_now_ms()) {
            tc_clock_timedwait(&ds->wake, &ds->lock, dl->due);
            continue;
        }
        unlink_dl(ds, dl);
        ds->firing = dl;
        pthread_mutex_unlock(&ds->lock);
        dl->fire(dl->arg);
        pthread_mutex_lock(&ds->lock);
        ds->firing = NULL;
        pthread_cond_broadcast(&ds->fired);
    }
    pthread_mutex_unlock(&ds->lock);
    return NULL;
}

struct tc_deadlines *tc_deadlines_start(void)
{
    struct tc_deadlines *ds = calloc(1, sizeof *ds);

    if (!ds)
        return NULL;
    pthread_mutex_init(&ds->lock, NULL);
    pthread_cond_init(&ds->fired, NULL);
    if (tc_clock_cond_init(&ds->wake) != 0 ||
        pthread_create(&ds->thread, NULL, deadlines_main, ds) != 0) {
        pthread_mutex_destroy(&ds->lock);
        pthread_cond_destroy(&ds->fired);
        free(ds);
        return NULL;
    }
    return ds;
}

void tc_deadlines_stop(struct tc_deadlines *ds)
{
    if (!ds)
        return;
    pthread_mutex_lock(&ds->lock);
    ds->stopping = 1;
    pthread_cond_signal(&ds->wake);
    pthread_mutex_unlock(&ds->lock);
    pthread_join(ds->thread, NULL);
    if (ds->first)
        tc_error("deadlines: some still set at stop (an owner did not cancel)");
    pthread_mutex_destroy(&ds->lock);
    pthread_cond_destroy(&ds->wake);
    pthread_cond_destroy(&ds->fired);
    free(ds);
}

void tc_deadline_init(struct tc_deadline *dl, struct tc_deadlines *ds, void (*fire)(void *arg),
                      void *arg)
{
    *dl = (struct tc_deadline){ .ds = ds, .fire = fire, .arg = arg };
}

void tc_deadline_set(struct tc_deadline *dl, int64_t due)
{
    struct tc_deadlines *ds = dl->ds;

    pthread_mutex_lock(&ds->lock);
    if (!dl->set || dl->due != due) { /* often a worker re-arms what is set */
        unlink_dl(ds, dl);
        dl->due = due;
        link_dl(ds, dl);
        if (ds->first == dl)
            pthread_cond_signal(&ds->wake);
    }
    pthread_mutex_unlock(&ds->lock);
}

void tc_deadline_cancel(struct tc_deadline *dl)
{
    struct tc_deadlines *ds = dl->ds;

    if (!ds)
        return;
    pthread_mutex_lock(&ds->lock);
    unlink_dl(ds, dl);
    if (!pthread_equal(pthread_self(), ds->thread))
        while (ds->firing == dl)
            pthread_cond_wait(&ds->fired, &ds->lock);
    pthread_mutex_unlock(&ds->lock);
}
