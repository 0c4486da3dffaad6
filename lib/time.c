/* time.c: RFC 3339 parsing and formatting in milliseconds since the epoch. */
#define _DEFAULT_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common.h"

static int digits(const char **p, int n, int *out)
{
    int v = 0;

    while (n-- > 0) {
        if (!isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (*(*p)++ - '0');
    }
    *out = v;
    return 0;
}

static int expect(const char **p, const char *set)
{
    if (**p == '\0' || !strchr(set, **p))
        return -1;
    (*p)++;
    return 0;
}

int tc_time_parse(const char *s, int64_t *ms)
{
    struct tm tm = { 0 };
    int y, mo, d, h, mi, sec, frac = 0, tzh = 0, tzm = 0, sign = 0;
    const char *p = s;
    int64_t t;

    if (!s || digits(&p, 4, &y) || expect(&p, "-") || digits(&p, 2, &mo) ||
        expect(&p, "-") || digits(&p, 2, &d) || expect(&p, "Tt ") ||
        digits(&p, 2, &h) || expect(&p, ":") || digits(&p, 2, &mi) ||
        expect(&p, ":") || digits(&p, 2, &sec))
        return -1;
    if (*p == '.') {
        int scale = 100;

        p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        for (; isdigit((unsigned char)*p); p++) {
            frac += (*p - '0') * scale;
            scale /= 10;
        }
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p++ == '-' ? -1 : 1;
        if (digits(&p, 2, &tzh) || expect(&p, ":") || digits(&p, 2, &tzm))
            return -1;
    } else {
        return -1;
    }
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 ||
        tzh > 23 || tzm > 59)
        return -1;
    /* timegm() would quietly turn February 31 into March 3. */
    if (d > 28) {
        static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

        if (d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap))
            return -1;
    }
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    t = (int64_t)timegm(&tm);
    t -= sign * (tzh * 3600 + tzm * 60);
    *ms = t * 1000 + frac;
    return 0;
}

static void put_digits(char *at, int v, int n)
{
    while (n-- > 0) {
        at[n] = (char)('0' + v % 10);
        v /= 10;
    }
}

char *tc_time_format(int64_t ms, char *buf, size_t size)
{
    time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    int milli = (int)(ms - (int64_t)t * 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    /* Every stored alert and answer formats several times: by hand, as
     * snprintf costs ten times more here. */
    if (size >= 25 && tm.tm_year + 1900 >= 0 && tm.tm_year + 1900 <= 9999) {
        put_digits(buf, tm.tm_year + 1900, 4);
        buf[4] = '-';
        put_digits(buf + 5, tm.tm_mon + 1, 2);
        buf[7] = '-';
        put_digits(buf + 8, tm.tm_mday, 2);
        buf[10] = 'T';
        put_digits(buf + 11, tm.tm_hour, 2);
        buf[13] = ':';
        put_digits(buf + 14, tm.tm_min, 2);
        buf[16] = ':';
        put_digits(buf + 17, tm.tm_sec, 2);
        buf[19] = '.';
        put_digits(buf + 20, milli, 3);
        buf[23] = 'Z';
        buf[24] = '\0';
        return buf;
    }
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, milli);
    return buf;
}
