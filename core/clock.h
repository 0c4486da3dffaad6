/* clock.h: the core's clock, injectable so timers are tested in milliseconds. */
#ifndef TC_CLOCK_H
#define TC_CLOCK_H

#include <stdint.h>

/* Wall-clock ms since the epoch (stored due times use it). */
int64_t tc_now_ms(void);
/* Replace the clock (tests); NULL restores the real one. */
void tc_clock_set(int64_t (*now)(void));

#endif
