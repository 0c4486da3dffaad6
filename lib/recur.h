/* recur.h: recurring windows on local wall-clock time ("Sundays 02:00-04:00
 * Europe/Berlin"), for maintenance windows. Not part of the SDK.
 *
 * Occurrences are computed per local date: a date whose weekday is in the
 * mask has one, from its start time to its end time (the next day's when
 * end <= start; start == end is 24 hours). The weekday is the start's.
 *
 * Across DST changes an occurrence spans from the first to the last
 * instant at which the wall clock shows a time in [start, end) of it:
 * - Spring forward (Europe/Berlin 2026-03-29, 02:00 -> 03:00): a start or
 *   end in the skipped hour happens when the gap ends, at 03:00. 02:30-04:00
 *   runs 03:00-04:00; 01:00-02:30 runs 01:00-03:00 (one real hour); and
 *   02:00-03:00 is empty that day: that occurrence is skipped, never a
 *   zero-length one.
 * - Fall back (America/New_York 2026-11-01, 02:00 EDT -> 01:00 EST, so
 *   01:00-01:59 happens twice): a start in the repeated hour takes its
 *   first instance, an end its second. 01:00-02:00 lasts two real hours,
 *   covering both 01:xx; 00:00-01:30 runs to 01:30 EST (2.5 hours). An
 *   end exactly at the start of the repeated hour (00:00-01:00) ends at
 *   its first instance (one hour): the repeated hour is not in the window.
 * - So consecutive occurrences of a daily window may touch, and a window
 *   that starts and ends inside a repeated hour (daily 01:30-01:30 in New
 *   York) overlaps the next one on the fall-back day; tc_recur_window_at
 *   returns the one that started first, and the caller asks again at its
 *   end.
 */
#ifndef TOCSIN_RECUR_H
#define TOCSIN_RECUR_H

#include <stddef.h>
#include <stdint.h>

#include "tz.h"

/* Weekday bits of tc_recur.days, Monday first. */
enum {
    TC_RECUR_MON = 1 << 0,
    TC_RECUR_TUE = 1 << 1,
    TC_RECUR_WED = 1 << 2,
    TC_RECUR_THU = 1 << 3,
    TC_RECUR_FRI = 1 << 4,
    TC_RECUR_SAT = 1 << 5,
    TC_RECUR_SUN = 1 << 6
};

struct tc_recur {
    unsigned days;           /* TC_RECUR_* bits; 0 never occurs */
    int start, end;          /* seconds of the local day, 0..86399 */
    const struct tc_tz *tz;  /* borrowed: must outlive the spec */
};

/* The occurrence containing t_ms (start <= t < end, all ms since the
 * epoch): returns 1. Else the first one starting after t_ms: returns 0.
 * -1 when there is none within two weeks (no days, or invalid times).
 * start_ms and end_ms are set unless -1. Pure; thread-safe. */
int tc_recur_window_at(const struct tc_recur *spec, int64_t t_ms, int64_t *start_ms,
                       int64_t *end_ms);

/* The config and API text forms. Each returns 0, or -1 with err saying
 * what was wrong (the caller adds where: file:line, option, field).
 *
 * Weekday names: "mon".."sun" or "monday".."sunday", any case; the bits
 * of all n of them in *days (duplicates are fine, none is an error). */
int tc_recur_parse_days(const char *const *names, size_t n, unsigned *days, char *err,
                        size_t errlen);
/* "HH:MM", 00:00..23:59, as seconds of the day; "24:00" too when is_end
 * (the same as an end of 00:00: midnight after the start). */
int tc_recur_parse_clock(const char *text, int is_end, int *sec, char *err, size_t errlen);

/* "mon".."sun" for bit i (0..6), for GET answers; NULL beyond. */
const char *tc_recur_day_name(int i);
/* sec (0..86399) as "HH:MM" (buf >= 6 bytes). */
char *tc_recur_format_clock(int sec, char *buf, size_t size);

#endif
