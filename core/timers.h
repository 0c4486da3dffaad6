/* timers.h: plugin timers, run on one core thread. */
#ifndef TC_TIMERS_H
#define TC_TIMERS_H

#include <stdint.h>

struct tc_timers;

struct tc_timers *tc_timers_start(void);
/* Cancels everything still pending, then joins the thread. */
void tc_timers_stop(struct tc_timers *t);
/* owner groups timers so an instance's are cancelled together. */
int64_t tc_timers_add(struct tc_timers *t, const void *owner, int64_t delay_ms,
                      int64_t interval_ms, void (*fn)(void *), void *arg);
void tc_timers_cancel(struct tc_timers *t, int64_t id);
/* Waits for a callback of owner that is running right now. */
void tc_timers_cancel_owner(struct tc_timers *t, const void *owner);

#endif
