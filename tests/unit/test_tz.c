/* test_tz.c: lib/tz.c (zones from tzdata and from TZif files written
 * here) and lib/recur.c (recurring windows across DST changes). */
#define _DEFAULT_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "recur.h"
#include "tz.h"

#define H 3600

/* UTC seconds of a civil time, by libc (not by the code under test). */
static int64_t utc(int y, int mo, int d, int h, int mi)
{
    struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
                     .tm_min = mi };

    return (int64_t)timegm(&tm);
}

static struct tc_tz *load(const char *name)
{
    char err[256] = "";
    struct tc_tz *tz = tc_tz_load(name, err, sizeof err);

    ck_assert_msg(tz != NULL, "%s", err);
    return tz;
}

/* --- TZif files of our own, in a TZDIR of our own ------------------------ */

static char tzdir[64];

static void put32(FILE *f, uint32_t v)
{
    fputc((int)(v >> 24), f);
    fputc((int)(v >> 16 & 0xff), f);
    fputc((int)(v >> 8 & 0xff), f);
    fputc((int)(v & 0xff), f);
}

static void head(FILE *f, char version, uint32_t leap, uint32_t n, uint32_t ntypes)
{
    static const char zero[15];

    fwrite("TZif", 1, 4, f);
    fputc(version, f);
    fwrite(zero, 1, 15, f);
    put32(f, 0);      /* isutcnt */
    put32(f, 0);      /* isstdcnt */
    put32(f, leap);   /* leapcnt */
    put32(f, n);      /* timecnt */
    put32(f, ntypes); /* typecnt */
    put32(f, 4);      /* charcnt */
}

static void block(FILE *f, int wide, uint32_t leap, size_t n, const int64_t *at,
                  const unsigned char *idx, size_t ntypes, const int32_t *offs)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (wide)
            put32(f, (uint32_t)((uint64_t)at[i] >> 32));
        put32(f, (uint32_t)at[i]);
    }
    if (n)
        fwrite(idx, 1, n, f);
    for (i = 0; i < ntypes; i++) {
        put32(f, (uint32_t)offs[i]);
        fputc(offs[i] != offs[0], f);
        fputc(0, f);
    }
    fwrite("ABC", 1, 4, f);
    for (i = 0; i < leap; i++) {
        if (wide)
            put32(f, 0);
        put32(f, 78796800);
        put32(f, 1);
    }
}

/* Zone NAME under tzdir: version 1 data only when footer is NULL, else
 * version 2 with the footer's rule (the "\n"s are added here). */
static void write_zone(const char *name, uint32_t leap, size_t n, const int64_t *at,
                       const unsigned char *idx, size_t ntypes, const int32_t *offs,
                       const char *footer)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", tzdir, name);
    f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    head(f, footer ? '2' : '\0', leap, (uint32_t)n, (uint32_t)ntypes);
    block(f, 0, leap, n, at, idx, ntypes, offs);
    if (footer) {
        head(f, '2', leap, (uint32_t)n, (uint32_t)ntypes);
        block(f, 1, leap, n, at, idx, ntypes, offs);
        fprintf(f, "\n%s\n", footer);
    }
    ck_assert_int_eq(fclose(f), 0);
}

static void write_bytes(const char *name, const char *bytes, size_t len)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", tzdir, name);
    f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fwrite(bytes, 1, len, f);
    ck_assert_int_eq(fclose(f), 0);
}

static void own_tzdir(void)
{
    strcpy(tzdir, "/tmp/test_tz.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tzdir));
    setenv("TZDIR", tzdir, 1);
}

static void own_tzdir_done(void)
{
    char cmd[600];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tzdir);
    ck_assert_int_eq(system(cmd), 0);
    unsetenv("TZDIR");
}

/* A rule-only ("slim") zone with no transitions at all. */
static struct tc_tz *rule_zone(const char *rule)
{
    const int32_t offs[] = { 0 };
    char err[256] = "";
    struct tc_tz *tz;

    write_zone("Rule", 0, 0, NULL, NULL, 1, offs, rule);
    tz = tc_tz_load("Rule", err, sizeof err);
    ck_assert_msg(tz != NULL, "%s: %s", rule, err);
    return tz;
}

static void expect_refused(const char *name, const char *want)
{
    char err[256] = "";

    ck_assert_ptr_null(tc_tz_load(name, err, sizeof err));
    ck_assert_msg(strstr(err, want), "%s: \"%s\" lacks \"%s\"", name, err, want);
}

/* --- offsets from tzdata ----------------------------------------------- */

START_TEST(test_berlin_changes_at_one_utc)
{
    struct tc_tz *tz = load("Europe/Berlin");

    ck_assert_str_eq(tc_tz_name(tz), "Europe/Berlin");
    ck_assert_int_eq(tc_tz_offset(tz, utc(2026, 3, 29, 1, 0) - 1), 1 * H);
    ck_assert_int_eq(tc_tz_offset(tz, utc(2026, 3, 29, 1, 0)), 2 * H);
    ck_assert_int_eq(tc_tz_offset(tz, utc(2026, 10, 25, 1, 0) - 1), 2 * H);
    ck_assert_int_eq(tc_tz_offset(tz, utc(2026, 10, 25, 1, 0)), 1 * H);
    /* Before the first transition (1893): local mean time, +0:53:28. */
    ck_assert_int_eq(tc_tz_offset(tz, utc(1850, 1, 1, 0, 0)), 53 * 60 + 28);
    tc_tz_free(tz);
}
END_TEST

START_TEST(test_new_york_changes_at_two_local)
{
    struct tc_tz *tz = load("America/New_York");

    ck_assert_int_eq(tc_tz_offset(tz, utc(2026, 3, 8, 7, 0) - 1), -5 * H);
    ck_assert_int_eq(tc_tz_offset(tz, utc(2026, 3, 8, 7, 0)), -4 * H);
    ck_assert_int_eq(tc_tz_offset(tz, utc(2026, 11, 1, 6, 0) - 1), -4 * H);
    ck_assert_int_eq(tc_tz_offset(tz, utc(2026, 11, 1, 6, 0)), -5 * H);
    tc_tz_free(tz);
}
END_TEST

START_TEST(test_lord_howe_moves_half_an_hour)
{
    struct tc_tz *tz = load("Australia/Lord_Howe");

    ck_assert_int_eq(tc_tz_offset(tz, utc(2026, 4, 4, 15, 0) - 1), 11 * H);
    ck_assert_int_eq(tc_tz_offset(tz, utc(2026, 4, 4, 15, 0)), 10 * H + 1800);
    ck_assert_int_eq(tc_tz_offset(tz, utc(2026, 10, 3, 15, 30) - 1), 10 * H + 1800);
    ck_assert_int_eq(tc_tz_offset(tz, utc(2026, 10, 3, 15, 30)), 11 * H);
    tc_tz_free(tz);
}
END_TEST

START_TEST(test_kolkata_and_utc_do_not_change)
{
    struct tc_tz *in = load("Asia/Kolkata"), *u = load("UTC"), *eu = load("Etc/UTC");
    int64_t t;

    for (t = utc(1990, 1, 1, 0, 0); t < utc(2050, 1, 1, 0, 0); t += 7 * 86400 + 3 * H) {
        if (tc_tz_offset(in, t) != 5 * H + 1800 || tc_tz_offset(u, t) || tc_tz_offset(eu, t))
            ck_abort_msg("at %lld: %d %d %d", (long long)t, tc_tz_offset(in, t),
                         tc_tz_offset(u, t), tc_tz_offset(eu, t));
    }
    tc_tz_free(in);
    tc_tz_free(u);
    tc_tz_free(eu);
}
END_TEST

START_TEST(test_the_footer_rule_runs_past_2037)
{
    struct tc_tz *b = load("Europe/Berlin"), *lh = load("Australia/Lord_Howe");

    /* Debian's files list transitions up to 2037; 2040 is the footer's. */
    ck_assert_int_eq(tc_tz_offset(b, utc(2040, 3, 25, 1, 0) - 1), 1 * H);
    ck_assert_int_eq(tc_tz_offset(b, utc(2040, 3, 25, 1, 0)), 2 * H);
    ck_assert_int_eq(tc_tz_offset(b, utc(2040, 10, 28, 1, 0) - 1), 2 * H);
    ck_assert_int_eq(tc_tz_offset(b, utc(2040, 10, 28, 1, 0)), 1 * H);
    ck_assert_int_eq(tc_tz_offset(b, utc(2400, 7, 1, 0, 0)), 2 * H);
    ck_assert_int_eq(tc_tz_offset(lh, utc(2100, 1, 1, 0, 0)), 11 * H);
    ck_assert_int_eq(tc_tz_offset(lh, utc(2100, 7, 1, 0, 0)), 10 * H + 1800);
    tc_tz_free(b);
    tc_tz_free(lh);
}
END_TEST

static long glibc_offset(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (!localtime_r(&tt, &tm))
        ck_abort_msg("localtime_r(%lld) failed", (long long)t);
    return tm.tm_gmtoff;
}

/* Each day of 1900..2100 in zones of every kind, and every change glibc
 * finds (to the second, by bisection within its day), against glibc
 * reading the same files; the tests are one thread: TZ is ours here. */
START_TEST(test_offsets_agree_with_glibc)
{
    static const char *const zones[] = {
        "Europe/Berlin",    "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata",
        "America/Santiago", "Africa/Casablanca", "America/Nuuk",       "Asia/Jerusalem",
        "Pacific/Apia",     "America/Sao_Paulo", "Europe/Dublin",      "Antarctica/Troll",
    };
    size_t i, changes = 0;

    for (i = 0; i < sizeof zones / sizeof *zones; i++) {
        struct tc_tz *tz = load(zones[i]);
        char tzenv[64];
        int64_t t, end = utc(2100, 1, 1, 0, 0);
        long prev;

        snprintf(tzenv, sizeof tzenv, ":%s", zones[i]);
        setenv("TZ", tzenv, 1);
        tzset();
        prev = glibc_offset(utc(1900, 1, 1, 0, 0));
        for (t = utc(1900, 1, 1, 0, 0); t < end; t += 86400) {
            long off = glibc_offset(t);

            if (tc_tz_offset(tz, t) != off)
                ck_abort_msg("%s at %lld: %d, glibc %ld", zones[i], (long long)t,
                             tc_tz_offset(tz, t), off);
            if (off != prev) {
                int64_t lo = t - 86400, hi = t; /* glibc: prev at lo, off at hi */

                while (hi - lo > 1) {
                    int64_t mid = lo + (hi - lo) / 2;

                    *(glibc_offset(mid) == prev ? &lo : &hi) = mid;
                }
                if (tc_tz_offset(tz, lo) != prev || tc_tz_offset(tz, hi) != off)
                    ck_abort_msg("%s changes at %lld: %d then %d, glibc %ld then %ld",
                                 zones[i], (long long)hi, tc_tz_offset(tz, lo),
                                 tc_tz_offset(tz, hi), prev, off);
                changes++;
            }
            prev = off;
        }
        tc_tz_free(tz);
    }
    unsetenv("TZ");
    ck_assert_uint_gt(changes, 1000); /* the comparison saw the changes */
}
END_TEST

/* Each instant is one of the instants of its own local time. (Loops
 * assert only on failure: Check records every passing assertion.) */
START_TEST(test_local_to_utc_round_trips)
{
    static const char *const zones[] = { "Europe/Berlin", "America/New_York",
                                         "Australia/Lord_Howe", "America/Nuuk" };
    size_t i;

    for (i = 0; i < sizeof zones / sizeof *zones; i++) {
        struct tc_tz *tz = load(zones[i]);
        int64_t t;

        for (t = utc(2024, 1, 1, 0, 0); t < utc(2042, 1, 1, 0, 0); t += 1799) {
            int64_t local = t + tc_tz_offset(tz, t), y;
            int mon, day, sec = (int)(local % 86400);
            int64_t early, late;

            tc_civil_from_days(local / 86400, &y, &mon, &day);
            early = tc_tz_local_to_utc(tz, (int)y, mon, day, sec, TC_TZ_EARLIER);
            late = tc_tz_local_to_utc(tz, (int)y, mon, day, sec, TC_TZ_LATER);
            if ((early != t && late != t) || early > late || late - early > 1 * H)
                ck_abort_msg("%s at %lld: %lld/%lld", zones[i], (long long)t,
                             (long long)early, (long long)late);
        }
        tc_tz_free(tz);
    }
}
END_TEST

START_TEST(test_a_skipped_time_is_when_the_gap_ends)
{
    struct tc_tz *b = load("Europe/Berlin"), *ny = load("America/New_York"),
                 *lh = load("Australia/Lord_Howe");

    /* 02:30 does not happen: the clocks show 03:00 at 01:00 UTC. */
    ck_assert_int_eq(tc_tz_local_to_utc(b, 2026, 3, 29, 2 * H + 1800, TC_TZ_EARLIER),
                     utc(2026, 3, 29, 1, 0));
    ck_assert_int_eq(tc_tz_local_to_utc(b, 2026, 3, 29, 2 * H + 1800, TC_TZ_LATER),
                     utc(2026, 3, 29, 1, 0));
    ck_assert_int_eq(tc_tz_local_to_utc(b, 2026, 3, 29, 2 * H, TC_TZ_EARLIER),
                     utc(2026, 3, 29, 1, 0));
    ck_assert_int_eq(tc_tz_local_to_utc(b, 2026, 3, 29, 3 * H, TC_TZ_EARLIER),
                     utc(2026, 3, 29, 1, 0));
    ck_assert_int_eq(tc_tz_local_to_utc(b, 2026, 3, 29, 2 * H - 1, TC_TZ_EARLIER),
                     utc(2026, 3, 29, 1, 0) - 1);
    ck_assert_int_eq(tc_tz_local_to_utc(ny, 2026, 3, 8, 2 * H + 1800, TC_TZ_LATER),
                     utc(2026, 3, 8, 7, 0));
    /* Lord Howe skips only 02:00-02:30. */
    ck_assert_int_eq(tc_tz_local_to_utc(lh, 2026, 10, 4, 2 * H + 900, TC_TZ_EARLIER),
                     utc(2026, 10, 3, 15, 30));
    ck_assert_int_eq(tc_tz_local_to_utc(lh, 2026, 10, 4, 2 * H + 1800, TC_TZ_EARLIER),
                     utc(2026, 10, 3, 15, 30));
    tc_tz_free(b);
    tc_tz_free(ny);
    tc_tz_free(lh);
}
END_TEST

START_TEST(test_a_repeated_time_is_chosen_by_fold)
{
    struct tc_tz *b = load("Europe/Berlin"), *ny = load("America/New_York"),
                 *lh = load("Australia/Lord_Howe");

    ck_assert_int_eq(tc_tz_local_to_utc(b, 2026, 10, 25, 2 * H + 1800, TC_TZ_EARLIER),
                     utc(2026, 10, 25, 0, 30));
    ck_assert_int_eq(tc_tz_local_to_utc(b, 2026, 10, 25, 2 * H + 1800, TC_TZ_LATER),
                     utc(2026, 10, 25, 1, 30));
    ck_assert_int_eq(tc_tz_local_to_utc(ny, 2026, 11, 1, 1 * H, TC_TZ_EARLIER),
                     utc(2026, 11, 1, 5, 0));
    ck_assert_int_eq(tc_tz_local_to_utc(ny, 2026, 11, 1, 1 * H, TC_TZ_LATER),
                     utc(2026, 11, 1, 6, 0));
    /* 02:00 after the change happens once. */
    ck_assert_int_eq(tc_tz_local_to_utc(ny, 2026, 11, 1, 2 * H, TC_TZ_EARLIER),
                     utc(2026, 11, 1, 7, 0));
    ck_assert_int_eq(tc_tz_local_to_utc(ny, 2026, 11, 1, 2 * H, TC_TZ_LATER),
                     utc(2026, 11, 1, 7, 0));
    /* Lord Howe repeats half an hour: 01:30-01:59. */
    ck_assert_int_eq(tc_tz_local_to_utc(lh, 2026, 4, 5, 1 * H + 2700, TC_TZ_EARLIER),
                     utc(2026, 4, 4, 14, 45));
    ck_assert_int_eq(tc_tz_local_to_utc(lh, 2026, 4, 5, 1 * H + 2700, TC_TZ_LATER),
                     utc(2026, 4, 4, 15, 15));
    /* An ordinary time, and seconds running on into the next day. */
    ck_assert_int_eq(tc_tz_local_to_utc(b, 2026, 7, 1, 12 * H, TC_TZ_LATER),
                     utc(2026, 7, 1, 10, 0));
    ck_assert_int_eq(tc_tz_local_to_utc(b, 2026, 7, 1, 36 * H, TC_TZ_EARLIER),
                     utc(2026, 7, 2, 10, 0));
    ck_assert_int_eq(tc_tz_local_to_utc(b, 2026, 7, 1, -1, TC_TZ_EARLIER),
                     utc(2026, 6, 30, 22, 0) - 1);
    tc_tz_free(b);
    tc_tz_free(ny);
    tc_tz_free(lh);
}
END_TEST

START_TEST(test_bad_names_are_refused)
{
    expect_refused("../../etc/passwd", "not a zone name");
    expect_refused("Europe/../../../etc/passwd", "not a zone name");
    expect_refused("/usr/share/zoneinfo/Europe/Berlin", "not a zone name");
    expect_refused("Europe/Berlin;rm", "not a zone name");
    expect_refused("Europe/Berlin ", "not a zone name");
    expect_refused("", "not a zone name");
    expect_refused(NULL, "not a zone name");
    expect_refused("Europe/Berln", "time zone \"Europe/Berln\": unknown");
    expect_refused("Europe", "a directory");
    ck_assert_ptr_null(tc_tz_load("..", NULL, 0)); /* no err buffer: fine */
}
END_TEST

/* --- TZif files written here ------------------------------------------- */

START_TEST(test_utc_needs_no_tzdata)
{
    struct tc_tz *tz;

    /* An empty TZDIR: no zone at all. */
    tz = load("UTC");
    ck_assert_int_eq(tc_tz_offset(tz, 0), 0);
    ck_assert_int_eq(tc_tz_local_to_utc(tz, 2026, 3, 29, 2 * H, TC_TZ_LATER),
                     utc(2026, 3, 29, 2, 0));
    tc_tz_free(tz);
    tz = load("Etc/UTC");
    ck_assert_int_eq(tc_tz_offset(tz, utc(2040, 1, 1, 0, 0)), 0);
    tc_tz_free(tz);
    expect_refused("Europe/Berlin", "is tzdata installed?");
}
END_TEST

START_TEST(test_a_version_1_file_is_read)
{
    const int64_t at[] = { 1000000000, 1100000000 };
    const unsigned char idx[] = { 1, 0 };
    const int32_t offs[] = { -3 * H, 4 * H + 1800 };
    struct tc_tz *tz;

    write_zone("Old", 0, 2, at, idx, 2, offs, NULL);
    tz = load("Old");
    ck_assert_int_eq(tc_tz_offset(tz, 999999999), -3 * H);
    ck_assert_int_eq(tc_tz_offset(tz, 1000000000), 4 * H + 1800);
    ck_assert_int_eq(tc_tz_offset(tz, 1099999999), 4 * H + 1800);
    /* No footer: the last type holds forever. */
    ck_assert_int_eq(tc_tz_offset(tz, 1100000000), -3 * H);
    ck_assert_int_eq(tc_tz_offset(tz, utc(2300, 1, 1, 0, 0)), -3 * H);
    tc_tz_free(tz);
}
END_TEST

START_TEST(test_a_slim_file_is_all_rule)
{
    struct tc_tz *tz = rule_zone("CET-1CEST,M3.5.0,M10.5.0/3"), *b;
    int64_t t;

    unsetenv("TZDIR");
    b = load("Europe/Berlin");
    for (t = utc(2026, 1, 1, 0, 0); t < utc(2030, 1, 1, 0, 0); t += 1800)
        if (tc_tz_offset(tz, t) != tc_tz_offset(b, t))
            ck_abort_msg("at %lld: %d, Europe/Berlin %d", (long long)t, tc_tz_offset(tz, t),
                         tc_tz_offset(b, t));
    tc_tz_free(tz);
    tc_tz_free(b);
}
END_TEST

START_TEST(test_rule_times_may_be_negative_or_past_24h)
{
    struct tc_tz *tz;

    /* America/Nuuk until 2023: -02 from Saturday 22:00 (-2h on the last
     * Sunday of March) until Saturday 23:00 (-1h) before the last Sunday
     * of October. */
    tz = rule_zone("<-03>3<-02>,M3.5.0/-2,M10.5.0/-1");
    /* Last Sunday of March 2030 is the 31st: Saturday 30th 22:00 -03. */
    ck_assert_int_eq(tc_tz_offset(tz, utc(2030, 3, 31, 1, 0) - 1), -3 * H);
    ck_assert_int_eq(tc_tz_offset(tz, utc(2030, 3, 31, 1, 0)), -2 * H);
    /* Last Sunday of October 2030 is the 27th: Saturday 26th 23:00 -02. */
    ck_assert_int_eq(tc_tz_offset(tz, utc(2030, 10, 27, 1, 0) - 1), -2 * H);
    ck_assert_int_eq(tc_tz_offset(tz, utc(2030, 10, 27, 1, 0)), -3 * H);
    tc_tz_free(tz);

    /* Asia/Jerusalem's old form: Thursday before the last Sunday "26:00"
     * is Friday 02:00. 2030-03-29 is a Friday. */
    tz = rule_zone("IST-2IDT,M3.4.4/26,M10.5.0");
    ck_assert_int_eq(tc_tz_offset(tz, utc(2030, 3, 29, 0, 0) - 1), 2 * H);
    ck_assert_int_eq(tc_tz_offset(tz, utc(2030, 3, 29, 0, 0)), 3 * H);
    tc_tz_free(tz);

    /* DST all year round, as zic writes it: no change ever shows. */
    tz = rule_zone("EST5EDT,0/0,J365/25");
    ck_assert_int_eq(tc_tz_offset(tz, utc(2030, 1, 1, 4, 59)), -4 * H);
    ck_assert_int_eq(tc_tz_offset(tz, utc(2030, 1, 1, 5, 0)), -4 * H);
    ck_assert_int_eq(tc_tz_offset(tz, utc(2030, 7, 1, 0, 0)), -4 * H);
    ck_assert_int_eq(tc_tz_offset(tz, utc(2031, 12, 31, 23, 0)), -4 * H);
    tc_tz_free(tz);

    /* Julian days: J60 is March 1 even in a leap year; 59 is March 1 only
     * in one (2028). */
    tz = rule_zone("AAA0BBB,J60/0,J300/0");
    ck_assert_int_eq(tc_tz_offset(tz, utc(2028, 3, 1, 0, 0) - 1), 0);
    ck_assert_int_eq(tc_tz_offset(tz, utc(2028, 3, 1, 0, 0)), H);
    tc_tz_free(tz);
    tz = rule_zone("AAA0BBB,59/0,300/0");
    ck_assert_int_eq(tc_tz_offset(tz, utc(2028, 2, 29, 0, 0) - 1), 0);
    ck_assert_int_eq(tc_tz_offset(tz, utc(2028, 2, 29, 0, 0)), H);
    ck_assert_int_eq(tc_tz_offset(tz, utc(2027, 3, 1, 0, 0)), H);
    ck_assert_int_eq(tc_tz_offset(tz, utc(2027, 3, 1, 0, 0) - 1), 0);
    tc_tz_free(tz);
}
END_TEST

START_TEST(test_transitions_then_the_footer)
{
    /* Fixed +3 until 2030, then the rule (Berlin's). */
    const int64_t at[] = { utc(2030, 1, 1, 0, 0) };
    const unsigned char idx[] = { 1 };
    const int32_t offs[] = { 3 * H, 1 * H };
    struct tc_tz *tz;

    write_zone("Mixed", 0, 1, at, idx, 2, offs, "CET-1CEST,M3.5.0,M10.5.0/3");
    tz = load("Mixed");
    ck_assert_int_eq(tc_tz_offset(tz, utc(2029, 7, 1, 0, 0)), 3 * H);
    ck_assert_int_eq(tc_tz_offset(tz, utc(2030, 1, 1, 0, 0)), 1 * H);
    ck_assert_int_eq(tc_tz_offset(tz, utc(2030, 7, 1, 0, 0)), 2 * H);
    /* At the change local 03:00 becomes 01:00, so 01:30 on 2030-01-01
     * happens at +3 and again at +1: the walk crosses table and rule. */
    ck_assert_int_eq(tc_tz_local_to_utc(tz, 2030, 1, 1, 1 * H + 1800, TC_TZ_EARLIER),
                     utc(2029, 12, 31, 22, 30));
    ck_assert_int_eq(tc_tz_local_to_utc(tz, 2030, 1, 1, 1 * H + 1800, TC_TZ_LATER),
                     utc(2030, 1, 1, 0, 30));
    tc_tz_free(tz);
}
END_TEST

START_TEST(test_broken_files_are_refused)
{
    const int64_t at[] = { 2000, 1000 };
    const unsigned char idx[] = { 0, 0 }, bad_idx[] = { 0, 5 };
    const int32_t offs[] = { 0 }, huge[] = { 27 * H };
    char buf[4096];
    FILE *f;
    size_t len;

    write_bytes("Junk", "hello, world", 12);
    expect_refused("Junk", "not a TZif file");
    write_bytes("Empty", "", 0);
    expect_refused("Empty", "not a TZif file");

    write_zone("Order", 0, 2, at, idx, 1, offs, "UTC0");
    expect_refused("Order", "transitions out of order");
    write_zone("Index", 0, 2, (const int64_t[]){ 1000, 2000 }, bad_idx, 1, offs, "UTC0");
    expect_refused("Index", "unknown type");
    write_zone("Leap", 1, 0, NULL, NULL, 1, offs, "UTC0");
    expect_refused("Leap", "leap seconds");
    write_zone("Huge", 0, 0, NULL, NULL, 1, huge, "UTC0");
    expect_refused("Huge", "26 hours");
    write_zone("Footer", 0, 0, NULL, NULL, 1, offs, "CET-1CEST");
    expect_refused("Footer", "not POSIX TZ");
    write_zone("Footer2", 0, 0, NULL, NULL, 1, offs, "CET-1CEST,M13.5.0,M10.5.0");
    expect_refused("Footer2", "not POSIX TZ");
    write_zone("Footer3", 0, 0, NULL, NULL, 1, offs, "CET-1CEST,M3.5.0,M10.5.0/168");
    expect_refused("Footer3", "not POSIX TZ");

    /* Every proper prefix of a good file is truncated somewhere. */
    write_zone("Whole", 0, 2, (const int64_t[]){ 1000, 2000 }, idx, 1, offs, "UTC0");
    snprintf(buf, sizeof buf, "%s/Whole", tzdir);
    f = fopen(buf, "rb");
    ck_assert_ptr_nonnull(f);
    len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    tc_tz_free(load("Whole"));
    for (; len > 0; len--) {
        char err[256] = "";

        write_bytes("Cut", buf, len - 1);
        ck_assert_msg(tc_tz_load("Cut", err, sizeof err) == NULL, "%zu bytes loaded", len - 1);
        ck_assert_msg(strstr(err, "Cut"), "%s", err);
    }
}
END_TEST

/* --- recurring windows ------------------------------------------------- */

struct occ {
    int ret;
    int64_t start, end; /* seconds */
};

static struct occ window(const struct tc_tz *tz, unsigned days, const char *from,
                         const char *to, int64_t t)
{
    struct tc_recur r = { .days = days, .tz = tz };
    char err[128] = "";
    struct occ o;
    int64_t s = 0, e = 0;

    ck_assert_msg(tc_recur_parse_clock(from, 0, &r.start, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(tc_recur_parse_clock(to, 1, &r.end, err, sizeof err) == 0, "%s", err);
    o.ret = tc_recur_window_at(&r, t * 1000, &s, &e);
    ck_assert_int_eq(s % 1000, 0);
    ck_assert_int_eq(e % 1000, 0);
    o.start = s / 1000;
    o.end = e / 1000;
    return o;
}

#define EXPECT(o, r, s, e)                                                               \
    do {                                                                                 \
        struct occ o_ = (o);                                                             \
        ck_assert_int_eq(o_.ret, (r));                                                   \
        ck_assert_int_eq(o_.start, (s));                                                 \
        ck_assert_int_eq(o_.end, (e));                                                   \
    } while (0)

#define ALL 0x7f

START_TEST(test_berlin_windows_across_spring_forward)
{
    struct tc_tz *b = load("Europe/Berlin");

    /* Sundays 02:00-04:00: on 2026-03-29 it opens when 03:00 CEST comes. */
    EXPECT(window(b, TC_RECUR_SUN, "02:00", "04:00", utc(2026, 3, 29, 0, 30)), 0,
           utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 2, 0));
    EXPECT(window(b, TC_RECUR_SUN, "02:00", "04:00", utc(2026, 3, 29, 1, 0)), 1,
           utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 2, 0));
    /* 02:00-03:00 daily: nothing on the 29th, the 30th is next. */
    EXPECT(window(b, ALL, "02:00", "03:00", utc(2026, 3, 28, 12, 0)), 0,
           utc(2026, 3, 30, 0, 0), utc(2026, 3, 30, 1, 0));
    EXPECT(window(b, ALL, "02:00", "03:00", utc(2026, 3, 28, 1, 30)), 1,
           utc(2026, 3, 28, 1, 0), utc(2026, 3, 28, 2, 0));
    /* Only Sundays: the skipped Sunday leaves the next one, a week on. */
    EXPECT(window(b, TC_RECUR_SUN, "02:00", "03:00", utc(2026, 3, 28, 12, 0)), 0,
           utc(2026, 4, 5, 0, 0), utc(2026, 4, 5, 1, 0));
    /* Ends in the gap: at 03:00 CEST, one real hour after 01:00 CET. */
    EXPECT(window(b, ALL, "01:00", "02:30", utc(2026, 3, 29, 0, 10)), 1,
           utc(2026, 3, 29, 0, 0), utc(2026, 3, 29, 1, 0));
    /* Starts in the gap. */
    EXPECT(window(b, ALL, "02:30", "04:00", utc(2026, 3, 29, 0, 10)), 0,
           utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 2, 0));
    /* Across midnight into the change: Saturday 22:00 CET - Sunday 03:00
     * CEST is four real hours. */
    EXPECT(window(b, TC_RECUR_SAT, "22:00", "03:00", utc(2026, 3, 28, 23, 0)), 1,
           utc(2026, 3, 28, 21, 0), utc(2026, 3, 29, 1, 0));
    /* A whole day (start == end) is 23 hours that day. */
    EXPECT(window(b, TC_RECUR_SUN, "00:00", "00:00", utc(2026, 3, 29, 12, 0)), 1,
           utc(2026, 3, 28, 23, 0), utc(2026, 3, 29, 22, 0));
    tc_tz_free(b);
}
END_TEST

START_TEST(test_berlin_windows_across_fall_back)
{
    struct tc_tz *b = load("Europe/Berlin");

    /* 02:00-02:59 happens twice on 2026-10-25; 02:00-03:00 covers both:
     * from 02:00 CEST (00:00 UTC) to 03:00 CET (02:00 UTC). */
    EXPECT(window(b, TC_RECUR_SUN, "02:00", "03:00", utc(2026, 10, 24, 12, 0)), 0,
           utc(2026, 10, 25, 0, 0), utc(2026, 10, 25, 2, 0));
    EXPECT(window(b, TC_RECUR_SUN, "02:00", "03:00", utc(2026, 10, 25, 1, 30)), 1,
           utc(2026, 10, 25, 0, 0), utc(2026, 10, 25, 2, 0));
    /* Ends inside the repeated hour: at its second 02:30. */
    EXPECT(window(b, TC_RECUR_SUN, "01:00", "02:30", utc(2026, 10, 25, 0, 0)), 1,
           utc(2026, 10, 24, 23, 0), utc(2026, 10, 25, 1, 30));
    /* Ends where the repeated hour begins: that hour is not in it. */
    EXPECT(window(b, TC_RECUR_SUN, "01:00", "02:00", utc(2026, 10, 25, 0, 0)), 0,
           utc(2026, 11, 1, 0, 0), utc(2026, 11, 1, 1, 0));
    EXPECT(window(b, TC_RECUR_SUN, "01:00", "02:00", utc(2026, 10, 24, 23, 59)), 1,
           utc(2026, 10, 24, 23, 0), utc(2026, 10, 25, 0, 0));
    /* A whole day is 25 hours. */
    EXPECT(window(b, TC_RECUR_SUN, "00:00", "24:00", utc(2026, 10, 25, 12, 0)), 1,
           utc(2026, 10, 24, 22, 0), utc(2026, 10, 25, 23, 0));
    tc_tz_free(b);
}
END_TEST

START_TEST(test_new_york_windows_across_both_changes)
{
    struct tc_tz *ny = load("America/New_York");

    /* 2026-03-08 skips 02:00-02:59. */
    EXPECT(window(ny, TC_RECUR_SUN, "02:00", "03:00", utc(2026, 3, 8, 6, 0)), 0,
           utc(2026, 3, 15, 6, 0), utc(2026, 3, 15, 7, 0));
    EXPECT(window(ny, TC_RECUR_SUN, "02:30", "04:00", utc(2026, 3, 8, 6, 0)), 0,
           utc(2026, 3, 8, 7, 0), utc(2026, 3, 8, 8, 0));
    /* 2026-11-01 repeats 01:00-01:59: a 01:00-02:00 window covers both,
     * from 01:00 EDT to 02:00 EST, two real hours. */
    EXPECT(window(ny, TC_RECUR_SUN, "01:00", "02:00", utc(2026, 11, 1, 0, 0)), 0,
           utc(2026, 11, 1, 5, 0), utc(2026, 11, 1, 7, 0));
    EXPECT(window(ny, TC_RECUR_SUN, "01:00", "02:00", utc(2026, 11, 1, 6, 59)), 1,
           utc(2026, 11, 1, 5, 0), utc(2026, 11, 1, 7, 0));
    EXPECT(window(ny, TC_RECUR_SUN, "00:00", "01:30", utc(2026, 11, 1, 4, 0)), 1,
           utc(2026, 11, 1, 4, 0), utc(2026, 11, 1, 6, 30));
    EXPECT(window(ny, TC_RECUR_SUN, "00:00", "01:00", utc(2026, 11, 1, 4, 0)), 1,
           utc(2026, 11, 1, 4, 0), utc(2026, 11, 1, 5, 0));
    /* Starts in the repeated hour: at its first instance. */
    EXPECT(window(ny, TC_RECUR_SUN, "01:30", "03:00", utc(2026, 11, 1, 0, 0)), 0,
           utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 8, 0));
    /* Daily 01:30-01:30: Saturday's runs to the second 01:30 while
     * Sunday's began at the first; the earlier one is answered, then
     * Sunday's from its end on. */
    EXPECT(window(ny, ALL, "01:30", "01:30", utc(2026, 11, 1, 6, 0)), 1,
           utc(2026, 10, 31, 5, 30), utc(2026, 11, 1, 6, 30));
    EXPECT(window(ny, ALL, "01:30", "01:30", utc(2026, 11, 1, 6, 30)), 1,
           utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30));
    tc_tz_free(ny);
}
END_TEST

START_TEST(test_windows_across_midnight)
{
    struct tc_tz *b = load("Europe/Berlin");

    /* Fridays 22:00-02:00 (2026-07-03 is a Friday): Saturday 01:00 is in
     * Friday's occurrence; Saturday 23:00 waits for the next Friday. */
    EXPECT(window(b, TC_RECUR_FRI, "22:00", "02:00", utc(2026, 7, 3, 23, 0)), 1,
           utc(2026, 7, 3, 20, 0), utc(2026, 7, 4, 0, 0));
    EXPECT(window(b, TC_RECUR_FRI, "22:00", "02:00", utc(2026, 7, 4, 21, 0)), 0,
           utc(2026, 7, 10, 20, 0), utc(2026, 7, 11, 0, 0));
    /* A Saturday-only window is not running on Friday night. */
    EXPECT(window(b, TC_RECUR_SAT, "22:00", "02:00", utc(2026, 7, 3, 23, 0)), 0,
           utc(2026, 7, 4, 20, 0), utc(2026, 7, 5, 0, 0));
    tc_tz_free(b);
}
END_TEST

START_TEST(test_the_next_occurrence_within_a_week)
{
    struct tc_tz *b = load("Europe/Berlin"), *u = load("UTC");

    /* Mondays 09:00-10:00 (2026-07-06 is a Monday). */
    EXPECT(window(b, TC_RECUR_MON, "09:00", "10:00", utc(2026, 7, 7, 12, 0)), 0,
           utc(2026, 7, 13, 7, 0), utc(2026, 7, 13, 8, 0));
    /* Half-open: in at the start, out at the end. */
    EXPECT(window(b, TC_RECUR_MON, "09:00", "10:00", utc(2026, 7, 6, 7, 0)), 1,
           utc(2026, 7, 6, 7, 0), utc(2026, 7, 6, 8, 0));
    EXPECT(window(b, TC_RECUR_MON, "09:00", "10:00", utc(2026, 7, 6, 8, 0)), 0,
           utc(2026, 7, 13, 7, 0), utc(2026, 7, 13, 8, 0));
    /* Weekdays: Friday evening waits for Monday. */
    EXPECT(window(u, TC_RECUR_MON | TC_RECUR_TUE | TC_RECUR_WED | TC_RECUR_THU | TC_RECUR_FRI,
                  "08:00", "18:00", utc(2026, 7, 3, 19, 0)),
           0, utc(2026, 7, 6, 8, 0), utc(2026, 7, 6, 18, 0));
    /* Every ten minutes of a week: in the day's occurrence, or before the
     * next one. */
    {
        int64_t t;

        for (t = utc(2026, 7, 6, 0, 0); t < utc(2026, 7, 13, 0, 0); t += 600) {
            struct occ o = window(u, ALL, "06:00", "07:00", t);

            ck_assert_int_eq(o.ret, t % 86400 >= 6 * H && t % 86400 < 7 * H);
            ck_assert_int_le(o.start - t, 86400);
            ck_assert_int_eq(o.end - o.start, H);
        }
    }
    /* Milliseconds before the epoch round down, not toward zero. */
    {
        struct tc_recur r = { .days = ALL, .start = 0, .end = 1, .tz = u };
        int64_t s = 0, e = 0;

        ck_assert_int_eq(tc_recur_window_at(&r, -1, &s, &e), 0);
        ck_assert_int_eq(s, 0);
        ck_assert_int_eq(e, 1000);
        ck_assert_int_eq(tc_recur_window_at(&r, 999, &s, &e), 1);
        r.days = 0;
        ck_assert_int_eq(tc_recur_window_at(&r, 0, &s, &e), -1);
        r.days = ALL;
        r.end = 86400;
        ck_assert_int_eq(tc_recur_window_at(&r, 0, &s, &e), -1);
    }
    tc_tz_free(b);
    tc_tz_free(u);
}
END_TEST

START_TEST(test_text_forms)
{
    const char *good[] = { "Sun", "MONDAY", "tue", "saturday", "sun" };
    const char *bad[] = { "mon", "sundy" };
    char err[160] = "", buf[8];
    unsigned days = 0;
    int sec = -1;

    ck_assert_int_eq(tc_recur_parse_days(good, 5, &days, err, sizeof err), 0);
    ck_assert_uint_eq(days, TC_RECUR_SUN | TC_RECUR_MON | TC_RECUR_TUE | TC_RECUR_SAT);
    ck_assert_int_eq(tc_recur_parse_days(bad, 2, &days, err, sizeof err), -1);
    ck_assert_str_eq(err, "weekday \"sundy\": expected mon, tue, wed, thu, fri, sat, sun "
                          "or the full name (any case)");
    ck_assert_int_eq(tc_recur_parse_days(bad, 0, &days, err, sizeof err), -1);
    ck_assert_str_eq(err, "no weekdays (expected some of mon..sun)");

    ck_assert_int_eq(tc_recur_parse_clock("02:30", 0, &sec, err, sizeof err), 0);
    ck_assert_int_eq(sec, 2 * H + 1800);
    ck_assert_int_eq(tc_recur_parse_clock("23:59", 0, &sec, err, sizeof err), 0);
    ck_assert_int_eq(sec, 86400 - 60);
    ck_assert_int_eq(tc_recur_parse_clock("24:00", 1, &sec, err, sizeof err), 0);
    ck_assert_int_eq(sec, 0);
    ck_assert_int_eq(tc_recur_parse_clock("24:00", 0, &sec, err, sizeof err), -1);
    ck_assert_str_eq(err, "time \"24:00\": expected HH:MM, 00:00 to 23:59");
    ck_assert_int_eq(tc_recur_parse_clock("2:00", 1, &sec, err, sizeof err), -1);
    ck_assert_str_eq(err, "time \"2:00\": expected HH:MM, 00:00 to 24:00");
    ck_assert_int_eq(tc_recur_parse_clock("12:60", 0, &sec, err, sizeof err), -1);
    ck_assert_int_eq(tc_recur_parse_clock("24:01", 1, &sec, err, sizeof err), -1);
    ck_assert_int_eq(tc_recur_parse_clock("02:00:00", 0, &sec, err, sizeof err), -1);
    ck_assert_int_eq(tc_recur_parse_clock(NULL, 0, &sec, err, sizeof err), -1);
    ck_assert_str_eq(err, "time \"\": expected HH:MM, 00:00 to 23:59");

    ck_assert_str_eq(tc_recur_day_name(0), "mon");
    ck_assert_str_eq(tc_recur_day_name(6), "sun");
    ck_assert_ptr_null(tc_recur_day_name(7));
    ck_assert_str_eq(tc_recur_format_clock(2 * H + 1800, buf, sizeof buf), "02:30");
    ck_assert_str_eq(tc_recur_format_clock(0, buf, sizeof buf), "00:00");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tz");
    TCase *sys = tcase_create("tzdata"), *own = tcase_create("own files"),
          *rec = tcase_create("recur");
    SRunner *sr;
    int failed;

    tcase_set_timeout(sys, 60); /* the glibc comparison walks 200 years */
    tcase_add_test(sys, test_berlin_changes_at_one_utc);
    tcase_add_test(sys, test_new_york_changes_at_two_local);
    tcase_add_test(sys, test_lord_howe_moves_half_an_hour);
    tcase_add_test(sys, test_kolkata_and_utc_do_not_change);
    tcase_add_test(sys, test_the_footer_rule_runs_past_2037);
    tcase_add_test(sys, test_offsets_agree_with_glibc);
    tcase_add_test(sys, test_local_to_utc_round_trips);
    tcase_add_test(sys, test_a_skipped_time_is_when_the_gap_ends);
    tcase_add_test(sys, test_a_repeated_time_is_chosen_by_fold);
    tcase_add_test(sys, test_bad_names_are_refused);
    suite_add_tcase(s, sys);

    tcase_add_checked_fixture(own, own_tzdir, own_tzdir_done);
    tcase_add_test(own, test_utc_needs_no_tzdata);
    tcase_add_test(own, test_a_version_1_file_is_read);
    tcase_add_test(own, test_a_slim_file_is_all_rule);
    tcase_add_test(own, test_rule_times_may_be_negative_or_past_24h);
    tcase_add_test(own, test_transitions_then_the_footer);
    tcase_add_test(own, test_broken_files_are_refused);
    suite_add_tcase(s, own);

    tcase_add_test(rec, test_berlin_windows_across_spring_forward);
    tcase_add_test(rec, test_berlin_windows_across_fall_back);
    tcase_add_test(rec, test_new_york_windows_across_both_changes);
    tcase_add_test(rec, test_windows_across_midnight);
    tcase_add_test(rec, test_the_next_occurrence_within_a_week);
    tcase_add_test(rec, test_text_forms);
    suite_add_tcase(s, rec);

    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
