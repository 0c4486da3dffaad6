/* tz.h: IANA time zones read from TZif files, for the core and the bundled
 * plugins (maintenance windows). glibc keeps one time zone per process
 * (TZ + tzset), which threads and plugins cannot share; a tc_tz is a
 * private, read-only copy of one zone instead.
 * Not part of the SDK. */
#ifndef TOCSIN_TZ_H
#define TOCSIN_TZ_H

#include <stddef.h>
#include <stdint.h>

struct tc_tz;

/* The zone NAME ("Europe/Berlin") from $TZDIR, else /usr/share/zoneinfo:
 * TZif version 1, or the 64-bit data of versions 2 and later with the
 * POSIX TZ rule of its footer for instants after the last transition
 * (so "slim" files work). "UTC" and "Etc/UTC" need no file. NAME is
 * config input: only [A-Za-z0-9_+/-], not absolute, no "..".
 * Returns the zone, or NULL with err saying why (errlen may be 0).
 * Zones with leap seconds ("right/...") are refused. */
struct tc_tz *tc_tz_load(const char *name, char *err, size_t errlen);
void tc_tz_free(struct tc_tz *tz);

/* The name it was loaded as. */
const char *tc_tz_name(const struct tc_tz *tz);

/* Seconds east of UTC in effect at utc_s (seconds since the epoch). Pure:
 * a loaded zone may be used from any number of threads at once. */
int tc_tz_offset(const struct tc_tz *tz, int64_t utc_s);

/* Which instant a local time that happens twice (a fall-back overlap)
 * stands for. */
enum tc_tz_fold {
    TC_TZ_EARLIER,  /* the first time the wall clock shows it */
    TC_TZ_LATER     /* the second */
};

/* The instant (seconds since the epoch) of the local time sec_of_day
 * (0..86399; larger or negative values run on into the next or previous
 * days) on y-mon-day (proleptic Gregorian, mon 1..12). A local time that
 * happens twice is chosen by fold. A local time that never happens (in a
 * spring-forward gap: 02:30 when clocks jump from 02:00 to 03:00) is the
 * instant the gap ends, the one the wall clock shows as 03:00. */
int64_t tc_tz_local_to_utc(const struct tc_tz *tz, int y, int mon, int day, int sec_of_day,
                           enum tc_tz_fold fold);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t tc_days_from_civil(int64_t y, int mon, int day);
void tc_civil_from_days(int64_t days, int64_t *y, int *mon, int *day);

#endif
