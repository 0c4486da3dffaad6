/* deadline.h: one module owns every deadline of the daemon: sink retries,
 * alert expiry, pruning, plugin timers (and next, policy timers). Each
 * owner keeps its own queue of work and registers one deadline: the time
 * it next needs to look at that queue. One thread ("tc-deadlines") waits
 * on the core's injectable clock for the earliest of them and runs its
 * fire(), which only hands off (takes the owner's lock and wakes it): so a
 * slow owner cannot delay another's deadline, owners wait without
 * timeouts, and a test that moves the clock moves every deadline. */
#ifndef TC_DEADLINE_H
#define TC_DEADLINE_H

#include <stdint.h>

struct tc_deadlines;

/* Embedded in its owner; fields are private (tc_deadline_init). */
struct tc_deadline {
    struct tc_deadlines *ds;
    void (*fire)(void *arg);
    void *arg;
    int64_t due;
    struct tc_deadline *prev, *next; /* in due order, while set */
    int set;
};

struct tc_deadlines *tc_deadlines_start(void);
/* Stops the thread and frees; every deadline must be cancelled (or never
 * set) by then. */
void tc_deadlines_stop(struct tc_deadlines *ds);

void tc_deadline_init(struct tc_deadline *dl, struct tc_deadlines *ds, void (*fire)(void *arg),
                      void *arg);
/* Fire once at due (ms, tc_now_ms() time; now or earlier: at once), moving
 * the deadline if it was set. May be called with the owner's lock held. */
void tc_deadline_set(struct tc_deadline *dl, int64_t due);
/* Unset; returns only when fire() is not running (unless called from it).
 * Never call it holding a lock that fire() takes. */
void tc_deadline_cancel(struct tc_deadline *dl);

#endif
