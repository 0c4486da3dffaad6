/* tz.c: one IANA time zone from its TZif file (RFC 8536) and the POSIX TZ
 * rule in its footer; UTC offsets and local time to UTC, without the
 * process-wide TZ of libc. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tz.h"

#define TZ_MAX_FILE (1 << 20)  /* the largest zone today is ~4 KiB */
#define TZ_MAX_NAME 255
#define TZ_MAX_OFF (26 * 3600) /* RFC 8536: offsets within -25h..+26h */
#define TZ_SCAN (27 * 3600)    /* one local time lies within this of UTC */
#define DAY 86400

/* A day of the year in the footer's rule: Jn (1..365, February 29 never
 * counted), n (0..365, counted), or Mm.w.d (weekday d of week w, 5 being
 * the last, of month m). */
struct tz_date {
    char kind; /* 'J', 'N', 'M' */
    int n, m, w, d;
};

/* The footer: standard time, and DST between start and end when has_dst.
 * Each change happens at its time (seconds, -167h..167h) of local time as
 * it was before the change. */
struct tz_rule {
    int present, has_dst;
    int32_t std_off, dst_off; /* seconds east */
    struct tz_date start, end;
    int32_t start_time, end_time;
};

struct tc_tz {
    char *name;
    size_t n;           /* transitions */
    int64_t *at;        /* strictly ascending, UTC seconds */
    int32_t *off;       /* offset from at[i] on */
    int32_t off0;       /* before the first transition (time type 0) */
    struct tz_rule rule;
};

static void fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* --- calendar -------------------------------------------------------------- */

/* Howard Hinnant's civil-date algorithms, exact for every int64 day here. */
int64_t tc_days_from_civil(int64_t y, int mon, int day)
{
    int64_t era, yoe, doy, doe;

    y -= mon <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (mon + (mon > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void tc_civil_from_days(int64_t days, int64_t *y, int *mon, int *day)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;

    *day = (int)(doy - (153 * mp + 2) / 5 + 1);
    *mon = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*mon <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b < 0);
}

static int is_leap(int64_t y)
{
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static int month_days(int64_t y, int m)
{
    static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

    return days[m - 1] + (m == 2 && is_leap(y));
}

/* --- the footer's POSIX TZ rule -------------------------------------------- */

static int parse_num(const char **p, int max, int *out)
{
    int v = 0, digits = 0;

    while (**p >= '0' && **p <= '9') {
        v = v * 10 + (*(*p)++ - '0');
        if (v > max || ++digits > 3)
            return -1;
    }
    if (digits == 0)
        return -1;
    *out = v;
    return 0;
}

/* [+-]hh[:mm[:ss]] in seconds, hours at most max_h. */
static int parse_hms(const char **p, int max_h, int32_t *out)
{
    int sign = 1, h, m = 0, s = 0;

    if (**p == '+' || **p == '-')
        sign = *(*p)++ == '-' ? -1 : 1;
    if (parse_num(p, max_h, &h))
        return -1;
    if (**p == ':') {
        (*p)++;
        if (parse_num(p, 59, &m))
            return -1;
        if (**p == ':') {
            (*p)++;
            if (parse_num(p, 59, &s))
                return -1;
        }
    }
    *out = sign * (h * 3600 + m * 60 + s);
    return 0;
}

/* An abbreviation: three or more letters, or <...> of letters, digits, +, -. */
static int parse_abbr(const char **p)
{
    const char *s = *p;

    if (*s == '<') {
        for (s++; (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
                  (*s >= '0' && *s <= '9') || *s == '+' || *s == '-';
             s++)
            ;
        if (*s != '>' || s - *p < 2)
            return -1;
        *p = s + 1;
        return 0;
    }
    while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z'))
        s++;
    if (s - *p < 3)
        return -1;
    *p = s;
    return 0;
}

static int parse_date(const char **p, struct tz_date *d)
{
    memset(d, 0, sizeof *d);
    if (**p == 'J') {
        (*p)++;
        d->kind = 'J';
        return parse_num(p, 365, &d->n) || d->n < 1 ? -1 : 0;
    }
    if (**p == 'M') {
        (*p)++;
        d->kind = 'M';
        if (parse_num(p, 12, &d->m) || d->m < 1 || *(*p)++ != '.' ||
            parse_num(p, 5, &d->w) || d->w < 1 || *(*p)++ != '.' || parse_num(p, 6, &d->d))
            return -1;
        return 0;
    }
    d->kind = 'N';
    return parse_num(p, 365, &d->n);
}

static int parse_change(const char **p, struct tz_date *d, int32_t *time)
{
    if (parse_date(p, d))
        return -1;
    *time = 2 * 3600;
    if (**p == '/') {
        (*p)++;
        return parse_hms(p, 167, time); /* RFC 8536 widens POSIX's 0..24 */
    }
    return 0;
}

/* "CET-1CEST,M3.5.0,M10.5.0/3": offsets west of UTC, as POSIX writes them. */
static int parse_rule(const char *s, struct tz_rule *r)
{
    const char *p = s;
    int32_t west;

    memset(r, 0, sizeof *r);
    if (parse_abbr(&p) || parse_hms(&p, 24, &west))
        return -1;
    r->std_off = -west;
    if (*p == '\0') {
        r->present = 1;
        return 0;
    }
    if (parse_abbr(&p))
        return -1;
    r->has_dst = 1;
    r->dst_off = r->std_off + 3600;
    if (*p == '+' || *p == '-' || (*p >= '0' && *p <= '9')) {
        if (parse_hms(&p, 24, &west))
            return -1;
        r->dst_off = -west;
    }
    /* POSIX leaves a DST without dates to the implementation; zic always
     * writes them. */
    if (*p++ != ',' || parse_change(&p, &r->start, &r->start_time) || *p++ != ',' ||
        parse_change(&p, &r->end, &r->end_time) || *p != '\0')
        return -1;
    r->present = 1;
    return 0;
}

static int64_t rule_day(const struct tz_date *d, int64_t y)
{
    int64_t first;

    switch (d->kind) {
    case 'J':
        return tc_days_from_civil(y, 1, 1) + d->n - 1 + (is_leap(y) && d->n >= 60);
    case 'N':
        return tc_days_from_civil(y, 1, 1) + d->n;
    default:
        first = tc_days_from_civil(y, d->m, 1);
        /* 1970-01-01 was a Thursday (4, Sunday being 0). */
        first += (d->d - (int)((first % 7 + 7 + 4) % 7) + 7) % 7 + (d->w - 1) * 7;
        while (first >= tc_days_from_civil(y, d->m, 1) + month_days(y, d->m))
            first -= 7;
        return first;
    }
}

struct change {
    int64_t at;
    int to_dst;
};

static int change_cmp(const void *a, const void *b)
{
    const struct change *x = a, *y = b;

    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    /* An end and a start at one instant (DST all year, "J365/25" then
     * "0/0") leave DST on. */
    return x->to_dst - y->to_dst;
}

/* The rule's changes in the years around t, in order (out holds 8). */
static size_t rule_changes(const struct tz_rule *r, int64_t t, struct change *out)
{
    int64_t y0, y;
    int mon, day;
    size_t n = 0;

    tc_civil_from_days(floor_div(t + r->std_off, DAY), &y0, &mon, &day);
    for (y = y0 - 1; y <= y0 + 2; y++) {
        out[n].at = rule_day(&r->start, y) * DAY + r->start_time - r->std_off;
        out[n++].to_dst = 1;
        out[n].at = rule_day(&r->end, y) * DAY + r->end_time - r->dst_off;
        out[n++].to_dst = 0;
    }
    qsort(out, n, sizeof *out, change_cmp);
    return n;
}

/* Beyond a few hundred million years the calendar arithmetic would
 * overflow; no rule means anything there anyway. */
static int64_t clamp(int64_t t)
{
    const int64_t lim = INT64_C(1) << 52;

    return t < -lim ? -lim : t > lim ? lim : t;
}

static int32_t rule_offset(const struct tz_rule *r, int64_t t)
{
    struct change c[8];
    size_t n, i;
    int dst;

    if (!r->has_dst)
        return r->std_off;
    t = clamp(t);
    n = rule_changes(r, t, c);
    dst = !c[0].to_dst;
    for (i = 0; i < n && c[i].at <= t; i++)
        dst = c[i].to_dst;
    return dst ? r->dst_off : r->std_off;
}

static int64_t rule_next(const struct tz_rule *r, int64_t t)
{
    struct change c[8];
    size_t n, i;

    if (!r->has_dst || t != clamp(t))
        return INT64_MAX;
    n = rule_changes(r, t, c);
    for (i = 0; i < n; i++)
        if (c[i].at > t)
            return c[i].at;
    return INT64_MAX;
}

/* --- lookups --------------------------------------------------------------- */

/* The last transition at or before t (t >= at[0]). */
static size_t find(const struct tc_tz *tz, int64_t t)
{
    size_t lo = 0, hi = tz->n; /* at[lo] <= t < at[hi] */

    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;

        if (tz->at[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

int tc_tz_offset(const struct tc_tz *tz, int64_t utc_s)
{
    if (tz->n == 0)
        return tz->rule.present ? rule_offset(&tz->rule, utc_s) : tz->off0;
    if (utc_s < tz->at[0])
        return tz->off0;
    if (utc_s >= tz->at[tz->n - 1] && tz->rule.present)
        return rule_offset(&tz->rule, utc_s);
    return tz->off[find(tz, utc_s)];
}

/* The first instant after t at which the offset may change. */
static int64_t next_change(const struct tc_tz *tz, int64_t t)
{
    if (tz->n > 0 && t < tz->at[0])
        return tz->at[0];
    if (tz->n > 0 && t < tz->at[tz->n - 1])
        return tz->at[find(tz, t) + 1];
    return tz->rule.present ? rule_next(&tz->rule, t) : INT64_MAX;
}

int64_t tc_tz_local_to_utc(const struct tc_tz *tz, int y, int mon, int day, int sec_of_day,
                           enum tc_tz_fold fold)
{
    int64_t local = tc_days_from_civil(y, mon, day) * DAY + sec_of_day;
    int64_t s = local - TZ_SCAN, first = 0, last = 0, gap_end = 0;
    int found = 0, in_gap = 0;

    /* Walk the spans of constant offset that can hold this local time; in
     * each, it is the instant local - offset if that falls inside. */
    for (;;) {
        int32_t off = tc_tz_offset(tz, s);
        int64_t e = next_change(tz, s), t = local - off;

        if (t >= s && t < e) {
            if (!found)
                first = t;
            last = t;
            found = 1;
        } else if (t < s && !found && !in_gap) {
            /* The span begins later on the wall clock than local: the
             * clocks jumped over it at s. */
            gap_end = s;
            in_gap = 1;
        }
        if (e > local + TZ_SCAN)
            break;
        s = e;
    }
    if (found)
        return fold == TC_TZ_LATER ? last : first;
    return in_gap ? gap_end : local - tz->off0;
}

const char *tc_tz_name(const struct tc_tz *tz)
{
    return tz->name;
}

/* --- TZif ------------------------------------------------------------------ */

struct tzif_head {
    char version;
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static int read_head(const unsigned char *p, size_t len, struct tzif_head *h)
{
    if (len < 44 || memcmp(p, "TZif", 4) != 0)
        return -1;
    h->version = (char)p[4];
    h->isutcnt = be32(p + 20);
    h->isstdcnt = be32(p + 24);
    h->leapcnt = be32(p + 28);
    h->timecnt = be32(p + 32);
    h->typecnt = be32(p + 36);
    h->charcnt = be32(p + 40);
    return 0;
}

/* Bytes of the data block after a header, times of tsize bytes. */
static size_t block_size(const struct tzif_head *h, size_t tsize)
{
    return (size_t)h->timecnt * (tsize + 1) + (size_t)h->typecnt * 6 + h->charcnt +
           (size_t)h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;
}

/* The data block at p (after its header) into tz; why not in *why. */
static int read_block(struct tc_tz *tz, const struct tzif_head *h, const unsigned char *p,
                      size_t tsize, const char **why)
{
    const unsigned char *idx = p + (size_t)h->timecnt * tsize;
    const unsigned char *types = idx + h->timecnt;
    size_t i;

    if (h->typecnt == 0 || h->typecnt > 256 || (h->isstdcnt && h->isstdcnt != h->typecnt) ||
        (h->isutcnt && h->isutcnt != h->typecnt)) {
        *why = "inconsistent counts";
        return -1;
    }
    if (h->leapcnt) {
        *why = "leap seconds (a right/ zone) are not supported";
        return -1;
    }
    for (i = 0; i < h->typecnt; i++) {
        int32_t off = (int32_t)be32(types + i * 6);

        if (off <= -TZ_MAX_OFF || off >= TZ_MAX_OFF) {
            *why = "a UTC offset beyond 26 hours";
            return -1;
        }
    }
    tz->n = h->timecnt;
    tz->at = malloc((tz->n ? tz->n : 1) * sizeof *tz->at);
    tz->off = malloc((tz->n ? tz->n : 1) * sizeof *tz->off);
    if (!tz->at || !tz->off) {
        *why = "out of memory";
        return -1;
    }
    tz->off0 = (int32_t)be32(types);
    for (i = 0; i < tz->n; i++) {
        tz->at[i] = tsize == 8 ? be64(p + i * 8) : (int32_t)be32(p + i * 4);
        if (idx[i] >= h->typecnt || (i > 0 && tz->at[i] <= tz->at[i - 1])) {
            *why = idx[i] >= h->typecnt ? "a transition to an unknown type"
                                        : "transitions out of order";
            return -1;
        }
        tz->off[i] = (int32_t)be32(types + (size_t)idx[i] * 6);
    }
    return 0;
}

/* A whole TZif file; why not in *why. */
static int parse_tzif(struct tc_tz *tz, const unsigned char *p, size_t len, const char **why)
{
    struct tzif_head h;
    size_t size;

    *why = "not a TZif file";
    if (read_head(p, len, &h))
        return -1;
    size = 44 + block_size(&h, 4);
    if (h.timecnt > len || h.typecnt > len || h.charcnt > len || h.leapcnt > len ||
        h.isstdcnt > len || h.isutcnt > len || size > len) {
        *why = "truncated";
        return -1;
    }
    if (h.version == '\0')
        return read_block(tz, &h, p + 44, 4, why);
    /* Version 2 and later repeat the data with 64-bit times, then a
     * footer: "\n" TZ-rule "\n". */
    p += size;
    len -= size;
    if (read_head(p, len, &h)) {
        *why = "no 64-bit data after the version 1 data";
        return -1;
    }
    size = 44 + block_size(&h, 8);
    if (h.timecnt > len || h.typecnt > len || h.charcnt > len || h.leapcnt > len ||
        h.isstdcnt > len || h.isutcnt > len || size > len) {
        *why = "truncated";
        return -1;
    }
    if (read_block(tz, &h, p + 44, 8, why))
        return -1;
    p += size;
    len -= size;
    if (len < 2 || p[0] != '\n' || p[len - 1] != '\n' || memchr(p + 1, '\n', len - 2) ||
        memchr(p, '\0', len)) {
        *why = "a missing or malformed footer";
        return -1;
    }
    if (len > 2) {
        char rule[256];

        if (len - 2 >= sizeof rule) {
            *why = "a footer TZ rule too long";
            return -1;
        }
        memcpy(rule, p + 1, len - 2);
        rule[len - 2] = '\0';
        if (parse_rule(rule, &tz->rule)) {
            *why = "a footer TZ rule that is not POSIX TZ";
            return -1;
        }
    }
    return 0;
}

static int valid_name(const char *name)
{
    const char *p;

    if (!name || !*name || strlen(name) > TZ_MAX_NAME || name[0] == '/' || strstr(name, ".."))
        return 0;
    for (p = name; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '+' || *p == '/' || *p == '-'))
            return 0;
    return 1;
}

/* The whole file, at most TZ_MAX_FILE bytes; NULL with errno. */
static unsigned char *slurp(const char *path, size_t *len)
{
    struct stat st;
    unsigned char *buf = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC), saved;
    size_t got = 0;

    if (fd < 0)
        return NULL;
    if (fstat(fd, &st)) {
        saved = errno;
        goto out;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > TZ_MAX_FILE) {
        saved = S_ISDIR(st.st_mode) ? EISDIR : EFBIG;
        goto out;
    }
    buf = malloc((size_t)st.st_size + 1);
    saved = ENOMEM;
    if (!buf)
        goto out;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            saved = errno;
            free(buf);
            buf = NULL;
            goto out;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    *len = got;
out:
    close(fd);
    if (!buf)
        errno = saved;
    return buf;
}

void tc_tz_free(struct tc_tz *tz)
{
    if (!tz)
        return;
    free(tz->name);
    free(tz->at);
    free(tz->off);
    free(tz);
}

struct tc_tz *tc_tz_load(const char *name, char *err, size_t errlen)
{
    const char *dir = getenv("TZDIR"), *why;
    struct tc_tz *tz;
    unsigned char *data;
    size_t len = 0;
    char path[4096];

    if (!valid_name(name)) {
        fail(err, errlen,
             "time zone \"%s\": not a zone name (like Europe/Berlin: letters, digits, "
             "'_', '+', '-', '/'; not absolute, no \"..\")",
             name ? name : "");
        return NULL;
    }
    tz = calloc(1, sizeof *tz);
    if (!tz || !(tz->name = strdup(name))) {
        fail(err, errlen, "time zone \"%s\": out of memory", name);
        tc_tz_free(tz);
        return NULL;
    }
    /* UTC needs no tzdata; its file would say the same. */
    if (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0)
        return tz;
    if (!dir || !*dir)
        dir = "/usr/share/zoneinfo";
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path) {
        fail(err, errlen, "time zone \"%s\": path too long under %s", name, dir);
        tc_tz_free(tz);
        return NULL;
    }
    data = slurp(path, &len);
    if (!data) {
        if (errno == ENOENT || errno == ENOTDIR)
            fail(err, errlen, "time zone \"%s\": unknown (no %s; is tzdata installed?)", name,
                 path);
        else
            fail(err, errlen, "time zone \"%s\": cannot read %s: %s", name, path,
                 errno == EISDIR ? "a directory, not a zone" : strerror(errno));
        tc_tz_free(tz);
        return NULL;
    }
    if (parse_tzif(tz, data, len, &why)) {
        fail(err, errlen, "time zone \"%s\": %s: %s", name, path, why);
        free(data);
        tc_tz_free(tz);
        return NULL;
    }
    free(data);
    return tz;
}
