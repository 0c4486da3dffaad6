/* timers.h: plugin timers. Each owner (a plugin instance) gets its own
 * thread, so one slow callback (a blocking HTTP poll) delays only its own
 * owner's timers; an owner's callbacks never run concurrently. */
#ifndef TC_TIMERS_H
#define TC_TIMERS_H

#include <stdint.h>

struct tc_timers;

struct tc_deadlines;
/* The lanes wait for their timers through deadlines (deadline.h). */
struct tc_timers *tc_timers_start(struct tc_deadlines *deadlines);
/* Cancels everything still pending, waits for running callbacks, joins. */
void tc_timers_stop(struct tc_timers *t);
/* owner groups timers so an instance's are cancelled together. Timers of
 * an owner fire only once tc_timers_release() was called for it (after its
 * start() returned). Returns the id (> 0), or -1 when out of memory. */
int64_t tc_timers_add(struct tc_timers *t, const void *owner, int64_t delay_ms,
                      int64_t interval_ms, void (*fn)(void *), void *arg);
/* The owner's start() returned: its timers may fire from now on. */
void tc_timers_release(struct tc_timers *t, const void *owner);
/* Removes timer id; returns once its callback is not running (at once when
 * called from that owner's callback itself, which would deadlock). */
void tc_timers_cancel(struct tc_timers *t, int64_t id);
/* Removes every timer of owner and holds the owner again (nothing fires
 * until the next release); returns once none of its callbacks runs (same
 * exception). */
void tc_timers_cancel_owner(struct tc_timers *t, const void *owner);

#endif
