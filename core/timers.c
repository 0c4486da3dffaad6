/* timers.c: plugin timers, one thread ("lane") per owner that has any.
 * A daemon has a handful of instances with timers, so a thread each is
 * cheaper to reason about than a pool with per-owner serialisation: a slow
 * callback blocks only its own lane, and an owner's callbacks stay serial
 * as plugins expect. Few timers per owner, so a plain array is enough. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "clock.h"
#include "deadline.h"
#include "httpclient.h"
#include "timers.h"

struct timer {
    int64_t id, due, interval;
    void (*fn)(void *);
    void *arg;
};

struct lane {
    struct tc_timers *t;
    const void *owner;
    pthread_t thread;
    pthread_cond_t cond; /* timers changed, released, stopping, callback done */
    struct timer *v;
    size_t n, cap;
    int released;        /* the owner's start() returned */
    int has_thread;      /* started with the owner's first timer */
    int64_t running;     /* id of the callback running now, 0 when none */
    struct tc_deadline due; /* wakes the lane for its soonest timer */
    struct lane *next;
};

struct tc_timers {
    struct tc_deadlines *deadlines;
    pthread_mutex_t lock; /* guards everything, never held in a callback */
    struct lane *lanes;
    int64_t next_id;
    int stopping;
};

/* The lane's deadline fell due (on the deadlines thread): wake it. */
static void lane_due(void *arg)
{
    struct lane *l = arg;

    pthread_mutex_lock(&l->t->lock);
    pthread_cond_broadcast(&l->cond);
    pthread_mutex_unlock(&l->t->lock);
}

static void *lane_main(void *arg)
{
    struct lane *l = arg;
    struct tc_timers *t = l->t;

    pthread_setname_np(pthread_self(), "tc-timers");
    pthread_mutex_lock(&t->lock);
    while (!t->stopping) {
        int64_t now, soonest;
        size_t i, best = 0;
        struct timer tm;

        if (!l->released || l->n == 0) {
            pthread_cond_wait(&l->cond, &t->lock);
            continue;
        }
        now = tc_now_ms();
        soonest = l->v[0].due;
        for (i = 1; i < l->n; i++) {
            if (l->v[i].due < soonest) {
                soonest = l->v[i].due;
                best = i;
            }
        }
        if (soonest > now) {
            tc_deadline_set(&l->due, soonest);
            pthread_cond_wait(&l->cond, &t->lock);
            continue;
        }
        tm = l->v[best];
        if (tm.interval > 0)
            l->v[best].due = now + tm.interval; /* after a clock jump: once, not a burst */
        else
            l->v[best] = l->v[--l->n];
        l->running = tm.id;
        pthread_mutex_unlock(&t->lock);
        tm.fn(tm.arg);
        pthread_mutex_lock(&t->lock);
        l->running = 0;
        pthread_cond_broadcast(&l->cond); /* cancellers wait for this */
    }
    pthread_mutex_unlock(&t->lock);
    tc_httpclient_thread_done();
    return NULL;
}

/* The owner's lane, made on first use (its thread comes with the first
 * timer: instances without timers cost no thread). Lock held. */
static struct lane *lane_of(struct tc_timers *t, const void *owner, int create)
{
    struct lane *l;

    for (l = t->lanes; l; l = l->next)
        if (l->owner == owner)
            return l;
    if (!create || t->stopping || !(l = calloc(1, sizeof *l)))
        return NULL;
    l->t = t;
    l->owner = owner;
    pthread_cond_init(&l->cond, NULL);
    tc_deadline_init(&l->due, t->deadlines, lane_due, l);
    l->next = t->lanes;
    t->lanes = l;
    return l;
}

/* Waits until no callback of l matching id (0: any) runs, unless the
 * caller is that callback. Lock held. */
static void wait_not_running(struct tc_timers *t, struct lane *l, int64_t id)
{
    if (l->has_thread && pthread_equal(pthread_self(), l->thread))
        return;
    while (l->running && (id == 0 || l->running == id))
        pthread_cond_wait(&l->cond, &t->lock);
}

struct tc_timers *tc_timers_start(struct tc_deadlines *deadlines)
{
    struct tc_timers *t = calloc(1, sizeof *t);

    if (!t)
        return NULL;
    t->deadlines = deadlines;
    pthread_mutex_init(&t->lock, NULL);
    return t;
}

void tc_timers_stop(struct tc_timers *t)
{
    struct lane *l, *next;

    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    t->stopping = 1;
    for (l = t->lanes; l; l = l->next)
        pthread_cond_broadcast(&l->cond);
    pthread_mutex_unlock(&t->lock);
    for (l = t->lanes; l; l = next) {
        next = l->next;
        if (l->has_thread)
            pthread_join(l->thread, NULL);
        tc_deadline_cancel(&l->due); /* not under t->lock: lane_due takes it */
        pthread_cond_destroy(&l->cond);
        free(l->v);
        free(l);
    }
    pthread_mutex_destroy(&t->lock);
    free(t);
}

int64_t tc_timers_add(struct tc_timers *t, const void *owner, int64_t delay_ms,
                      int64_t interval_ms, void (*fn)(void *), void *arg)
{
    struct lane *l;
    int64_t id = -1;

    pthread_mutex_lock(&t->lock);
    l = lane_of(t, owner, 1);
    if (!l)
        goto out;
    if (!l->has_thread) {
        if (pthread_create(&l->thread, NULL, lane_main, l) != 0)
            goto out;
        l->has_thread = 1;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        struct timer *grown = realloc(l->v, cap * sizeof *grown);

        if (!grown)
            goto out;
        l->v = grown;
        l->cap = cap;
    }
    id = ++t->next_id;
    l->v[l->n++] = (struct timer){ id, tc_now_ms() + (delay_ms > 0 ? delay_ms : 0),
                                   interval_ms, fn, arg };
    pthread_cond_broadcast(&l->cond);
out:
    pthread_mutex_unlock(&t->lock);
    return id;
}

void tc_timers_release(struct tc_timers *t, const void *owner)
{
    struct lane *l;

    pthread_mutex_lock(&t->lock);
    l = lane_of(t, owner, 1); /* no timers yet: later ones find it released */
    if (l) {
        l->released = 1;
        pthread_cond_broadcast(&l->cond);
    }
    pthread_mutex_unlock(&t->lock);
}

void tc_timers_cancel(struct tc_timers *t, int64_t id)
{
    struct lane *l;
    size_t i;

    pthread_mutex_lock(&t->lock);
    for (l = t->lanes; l; l = l->next) {
        for (i = 0; i < l->n; i++) {
            if (l->v[i].id == id) {
                l->v[i] = l->v[--l->n];
                break;
            }
        }
        if (l->running == id) {
            wait_not_running(t, l, id);
            break;
        }
    }
    pthread_mutex_unlock(&t->lock);
}

void tc_timers_cancel_owner(struct tc_timers *t, const void *owner)
{
    struct lane *l;

    pthread_mutex_lock(&t->lock);
    l = lane_of(t, owner, 0);
    if (l) {
        l->n = 0;
        l->released = 0;
        wait_not_running(t, l, 0);
    }
    pthread_mutex_unlock(&t->lock);
}
