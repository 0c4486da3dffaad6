/* recur.c: occurrences of a recurring local-time window (the DST rules are
 * in recur.h), and its text forms. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "recur.h"

#define DAY 86400
/* Past ~36 million years the milliseconds would overflow. */
#define T_LIMIT (INT64_C(1) << 60)

static const char *const day_names[7][2] = {
    { "mon", "monday" }, { "tue", "tuesday" }, { "wed", "wednesday" }, { "thu", "thursday" },
    { "fri", "friday" }, { "sat", "saturday" }, { "sun", "sunday" },
};

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b < 0);
}

/* 0 for Monday; 1970-01-01 was a Thursday. */
static int weekday(int64_t days)
{
    return (int)((days % 7 + 7 + 3) % 7);
}

static int64_t at(const struct tc_tz *tz, int64_t days, int sec, enum tc_tz_fold fold)
{
    int64_t y;
    int mon, day;

    tc_civil_from_days(days, &y, &mon, &day);
    return tc_tz_local_to_utc(tz, (int)y, mon, day, sec, fold);
}

/* The occurrence of local date `days` in UTC seconds: 0, or -1 when the
 * clocks skip all of it. */
static int occurrence(const struct tc_recur *r, int64_t days, int64_t *start, int64_t *end)
{
    int64_t end_day = r->end <= r->start ? days + 1 : days;
    int64_t local_end = end_day * DAY + r->end;
    int64_t e = at(r->tz, end_day, r->end, TC_TZ_LATER);

    *start = at(r->tz, days, r->start, TC_TZ_EARLIER);
    /* The end's second instance, unless the wall clock just before it
     * already showed the end or later: then the repeated hour begins at
     * the end and is not in the window, which closed at the first. */
    if (e - 1 + tc_tz_offset(r->tz, e - 1) >= local_end)
        e = at(r->tz, end_day, r->end, TC_TZ_EARLIER);
    *end = e;
    return e > *start ? 0 : -1;
}

int tc_recur_window_at(const struct tc_recur *spec, int64_t t_ms, int64_t *start_ms,
                       int64_t *end_ms)
{
    int64_t t, today, d, s, e;

    if (!spec->tz || !(spec->days & 0x7f) || spec->start < 0 || spec->start >= DAY ||
        spec->end < 0 || spec->end >= DAY || t_ms < -T_LIMIT || t_ms > T_LIMIT)
        return -1;
    t = floor_div(t_ms, 1000);
    today = floor_div(t + tc_tz_offset(spec->tz, t), DAY);
    /* An occurrence lasts at most a day and a DST change, so one from two
     * days ago may still run; occurrences come in order of their dates,
     * and a weekday skipped by a spring-forward gap recurs within 15. */
    for (d = today - 2; d <= today + 15; d++) {
        if (!(spec->days & (1u << weekday(d))) || occurrence(spec, d, &s, &e))
            continue;
        if (t_ms < e * 1000) { /* running, or the next to start */
            *start_ms = s * 1000;
            *end_ms = e * 1000;
            return s * 1000 <= t_ms;
        }
    }
    return -1;
}

int tc_recur_parse_days(const char *const *names, size_t n, unsigned *days, char *err,
                        size_t errlen)
{
    unsigned mask = 0;
    size_t i;
    int k;

    if (n == 0) {
        snprintf(err, errlen, "no weekdays (expected some of mon..sun)");
        return -1;
    }
    for (i = 0; i < n; i++) {
        for (k = 0; k < 7; k++)
            if (names[i] && (strcasecmp(names[i], day_names[k][0]) == 0 ||
                             strcasecmp(names[i], day_names[k][1]) == 0))
                break;
        if (k == 7) {
            snprintf(err, errlen,
                     "weekday \"%s\": expected mon, tue, wed, thu, fri, sat, sun "
                     "or the full name (any case)",
                     names[i] ? names[i] : "");
            return -1;
        }
        mask |= 1u << k;
    }
    *days = mask;
    return 0;
}

int tc_recur_parse_clock(const char *text, int is_end, int *sec, char *err, size_t errlen)
{
    const char *s = text ? text : "";
    int h, m;

    if (strlen(s) == 5 && s[2] == ':' && s[0] >= '0' && s[0] <= '9' && s[1] >= '0' &&
        s[1] <= '9' && s[3] >= '0' && s[3] <= '5' && s[4] >= '0' && s[4] <= '9') {
        h = (s[0] - '0') * 10 + (s[1] - '0');
        m = (s[3] - '0') * 10 + (s[4] - '0');
        if (h < 24) {
            *sec = h * 3600 + m * 60;
            return 0;
        }
        if (is_end && h == 24 && m == 0) {
            *sec = 0;
            return 0;
        }
    }
    snprintf(err, errlen, "time \"%s\": expected HH:MM, 00:00 to %s", s,
             is_end ? "24:00" : "23:59");
    return -1;
}

const char *tc_recur_day_name(int i)
{
    return i >= 0 && i < 7 ? day_names[i][0] : NULL;
}

char *tc_recur_format_clock(int sec, char *buf, size_t size)
{
    snprintf(buf, size, "%02d:%02d", sec / 3600 % 24, sec / 60 % 60);
    return buf;
}
