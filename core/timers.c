/* timers.c: a small timer thread for plugins (polling inputs and the like).
 * Few timers per daemon, so a plain array is enough. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"
#include "httpclient.h"
#include "timers.h"

struct timer {
    int64_t id, due, interval;
    const void *owner;
    void (*fn)(void *);
    void *arg;
};

struct tc_timers {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct timer *v;
    size_t n, cap;
    int64_t next_id;
    const void *running_owner; /* whose callback runs now */
    int stopping;
};

static void *timer_main(void *arg)
{
    struct tc_timers *t = arg;

    pthread_setname_np(pthread_self(), "tc-timers");

    pthread_mutex_lock(&t->lock);
    while (!t->stopping) {
        int64_t now = tc_now_ms(), soonest = now + 60000;
        size_t i, best = (size_t)-1;

        for (i = 0; i < t->n; i++) {
            if (t->v[i].due < soonest) {
                soonest = t->v[i].due;
                best = i;
            }
        }
        if (best != (size_t)-1 && soonest <= now) {
            struct timer tm = t->v[best];

            if (tm.interval > 0)
                t->v[best].due = now + tm.interval;
            else
                t->v[best] = t->v[--t->n];
            t->running_owner = tm.owner;
            pthread_mutex_unlock(&t->lock);
            tm.fn(tm.arg);
            pthread_mutex_lock(&t->lock);
            t->running_owner = NULL;
            pthread_cond_broadcast(&t->cond);
            continue;
        }
        {
            struct timespec ts = { (time_t)(soonest / 1000), (long)(soonest % 1000) * 1000000 };

            pthread_cond_timedwait(&t->cond, &t->lock, &ts);
        }
    }
    pthread_mutex_unlock(&t->lock);
    tc_httpclient_thread_done();
    return NULL;
}

struct tc_timers *tc_timers_start(void)
{
    struct tc_timers *t = calloc(1, sizeof *t);

    if (!t)
        return NULL;
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->cond, NULL);
    if (pthread_create(&t->thread, NULL, timer_main, t) != 0) {
        free(t);
        return NULL;
    }
    return t;
}

void tc_timers_stop(struct tc_timers *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    t->stopping = 1;
    pthread_cond_broadcast(&t->cond);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    pthread_mutex_destroy(&t->lock);
    pthread_cond_destroy(&t->cond);
    free(t->v);
    free(t);
}

int64_t tc_timers_add(struct tc_timers *t, const void *owner, int64_t delay_ms,
                      int64_t interval_ms, void (*fn)(void *), void *arg)
{
    int64_t id = -1;

    pthread_mutex_lock(&t->lock);
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        struct timer *grown = realloc(t->v, cap * sizeof *grown);

        if (!grown)
            goto out;
        t->v = grown;
        t->cap = cap;
    }
    id = ++t->next_id;
    t->v[t->n++] = (struct timer){ id, tc_now_ms() + (delay_ms > 0 ? delay_ms : 0),
                                   interval_ms, owner, fn, arg };
    pthread_cond_broadcast(&t->cond);
out:
    pthread_mutex_unlock(&t->lock);
    return id;
}

void tc_timers_cancel(struct tc_timers *t, int64_t id)
{
    size_t i;

    pthread_mutex_lock(&t->lock);
    for (i = 0; i < t->n; i++) {
        if (t->v[i].id == id) {
            t->v[i] = t->v[--t->n];
            break;
        }
    }
    pthread_mutex_unlock(&t->lock);
}

void tc_timers_cancel_owner(struct tc_timers *t, const void *owner)
{
    size_t i;

    pthread_mutex_lock(&t->lock);
    for (i = 0; i < t->n;) {
        if (t->v[i].owner == owner)
            t->v[i] = t->v[--t->n];
        else
            i++;
    }
    while (t->running_owner == owner)
        pthread_cond_wait(&t->cond, &t->lock);
    pthread_mutex_unlock(&t->lock);
}
