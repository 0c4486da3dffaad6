/* test_maintenance.c: the maintenance policy in the real tocsind on the test
 * clock: an alert inside a window opens its incident muted and nothing is
 * sent; when the window ends the trigger follows (notify_after) or does not;
 * a resolve reaches a sink told "firing" before the window; the end still
 * comes after a kill -9 inside the window; a recurring window on a day
 * the clocks change. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "harness.h"

#define MINUTE (60 * 1000LL)
#define HOUR (60 * MINUTE)

struct fixture {
    struct peer *p;
    struct h_daemon d;
};

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* tocsind with a maintenance policy (policy_extra inside its block) and
 * the webhook peer as its only sink. */
static void up_with(struct fixture *f, const char *daemon_extra, const char *policy_extra)
{
    struct h_config c = { 0 };
    char *policies;

    ck_assert_int_ge(asprintf(&policies,
                              "policies = (\n  { id = \"maint\"; plugin = \"maintenance\";\n%s\n"
                              "  }\n);\n",
                              policy_extra ? policy_extra : ""),
                     0);
    f->p = h_peer_started();
    c.peer_port = peer_port(f->p);
    c.no_console = 1;
    c.daemon_extra = daemon_extra;
    c.top_extra = policies;
    h_init(&f->d);
    h_config_standard(&f->d, &c);
    free(policies);
    h_clock_enable(&f->d);
    h_start(&f->d);
}

static void up(struct fixture *f, const char *policy_extra)
{
    up_with(f, NULL, policy_extra);
}

static void down(struct fixture *f)
{
    h_assert_no_violations(&f->d, f->p);
    h_assert(&f->d, h_stop(&f->d, 15000) == 0, "SIGTERM: exit status not 0");
    peer_free(f->p);
}

/* A config window "db-upgrade" on service=db from +1 h to +2 h of now
 * (the test clock starts at the wall clock). */
static char *db_window(const char *extra)
{
    char from[40], to[40], *s;
    int64_t now = wall_ms();

    tc_time_format(now + HOUR, from, sizeof from);
    tc_time_format(now + 2 * HOUR, to, sizeof to);
    ck_assert_int_ge(asprintf(&s,
                              "    windows = ( { id = \"db-upgrade\"; comment = \"pg 17\";\n"
                              "      matchers = [ \"service=db\" ];\n"
                              "      starts_at = \"%s\"; ends_at = \"%s\"; } );\n%s",
                              from, to, extra ? extra : ""),
                     0);
    return s;
}

static void fire(struct fixture *f, const char *key, const char *service, const char *status)
{
    char body[512];
    struct h_resp r;

    snprintf(body, sizeof body,
             "{\"dedup_key\": \"%s\", \"status\": \"%s\", \"severity\": \"critical\","
             " \"summary\": \"%s is down\", \"service\": \"%s\"}",
             key, status, key, service);
    h_req(&f->d, "POST", "/api/v1/alerts", body, &r);
    h_assert(&f->d, r.status == 202, "POST /api/v1/alerts %s: HTTP %ld: %s", key, r.status,
             r.body);
    h_resp_free(&r);
}

/* How many requests the hook got for key with action. */
static int hook_got(struct fixture *f, const char *key, const char *action)
{
    size_t i, n = peer_count(f->p);
    int count = 0;

    for (i = 0; i < n; i++) {
        const struct peer_req *r = peer_get(f->p, i);
        const char *k = r->json ? h_jsub(r->json, "alert", "dedup_key") : NULL;
        const char *a = r->json ? json_string_value(json_object_get(r->json, "action")) : NULL;

        if (k && a && strcmp(k, key) == 0 && strcmp(a, action) == 0)
            count++;
    }
    return count;
}

struct wait_arg {
    struct fixture *f;
    const char *key, *action;
};

static int got_it(void *arg)
{
    struct wait_arg *w = arg;

    return hook_got(w->f, w->key, w->action) > 0;
}

static int hook_waits(struct fixture *f, const char *key, const char *action, int ms)
{
    struct wait_arg w = { f, key, action };

    return h_wait_until(got_it, &w, ms);
}

/* The incident of key (owned), failing when there is none. */
static json_t *incident_of(struct fixture *f, const char *key)
{
    int64_t id = h_incident_by_key(&f->d, key);

    h_assert(&f->d, id > 0, "no incident for %s", key);
    return h_incident(&f->d, id);
}

/* Whether key's incident is muted now, by the window named in the reason. */
static int muted_by(struct fixture *f, const char *key, const char *window)
{
    json_t *inc = incident_of(f, key);
    const char *why = json_string_value(json_object_get(inc, "suppressed"));
    char want[128];
    int yes;

    snprintf(want, sizeof want, "maintenance window %s until ", window);
    yes = why && strstr(why, want) != NULL;
    json_decref(inc);
    return yes;
}

START_TEST(test_a_window_mutes_then_the_trigger_follows_its_end)
{
    struct fixture f;
    char *extra = db_window(NULL);

    up(&f, extra);
    free(extra);
    /* Before the window: paged as usual. */
    fire(&f, "db-before", "db", "firing");
    h_assert(&f.d, hook_waits(&f, "db-before", "trigger", 5000), "no trigger before the window");

    h_clock_advance(&f.d, HOUR + MINUTE);
    fire(&f, "db-during", "db", "firing");
    fire(&f, "web-during", "web", "firing");
    fire(&f, "db-before", "db", "firing"); /* a repeat inside the window */
    /* Out of scope: paged at once; in scope: muted, nothing sent. */
    h_assert(&f.d, hook_waits(&f, "web-during", "trigger", 5000), "service web was muted too");
    h_assert(&f.d, muted_by(&f, "db-during", "db-upgrade"), "db-during not muted by the window");
    h_sleep_ms(500);
    h_assert(&f.d, hook_got(&f, "db-during", "trigger") == 0, "a muted incident was sent");

    /* The end: the incident still firing gets its trigger; the one told
     * before the window is not told again. */
    h_clock_advance(&f.d, HOUR);
    h_assert(&f.d, hook_waits(&f, "db-during", "trigger", 5000),
             "no trigger after the window ended");
    h_assert(&f.d, !muted_by(&f, "db-during", "db-upgrade"), "still muted after the end");
    h_sleep_ms(300);
    h_assert(&f.d, hook_got(&f, "db-before", "trigger") == 1,
             "the incident notified before the window was triggered again");
    h_assert(&f.d, hook_got(&f, "db-during", "trigger") == 1, "the trigger came twice");
    down(&f);
    h_passed();
}
END_TEST

START_TEST(test_notify_after_false_only_unmutes)
{
    struct fixture f;
    char *extra = db_window("    notify_after = false;\n");

    up(&f, extra);
    free(extra);
    h_clock_advance(&f.d, HOUR + MINUTE);
    fire(&f, "db-quiet", "db", "firing");
    h_assert(&f.d, muted_by(&f, "db-quiet", "db-upgrade"), "not muted by the window");
    h_clock_advance(&f.d, HOUR);
    /* A later alert is sent, so the daemon is past the end; the muted one
     * is unmuted without a word. */
    fire(&f, "db-after", "db", "firing");
    h_assert(&f.d, hook_waits(&f, "db-after", "trigger", 5000), "the window did not end");
    {
        int64_t end = h_now_ms() + 5000;

        while (muted_by(&f, "db-quiet", "db-upgrade") && h_now_ms() < end)
            h_sleep_ms(50);
    }
    h_assert(&f.d, !muted_by(&f, "db-quiet", "db-upgrade"), "still muted after the end");
    h_sleep_ms(300);
    h_assert(&f.d, hook_got(&f, "db-quiet", "trigger") == 0,
             "notify_after = false still sent the trigger");
    down(&f);
    h_passed();
}
END_TEST

START_TEST(test_a_resolve_reaches_the_sink_told_before_the_window)
{
    struct fixture f;
    char *extra = db_window(NULL);

    up(&f, extra);
    free(extra);
    fire(&f, "db-told", "db", "firing");
    h_assert(&f.d, hook_waits(&f, "db-told", "trigger", 5000), "no trigger before the window");
    h_clock_advance(&f.d, HOUR + MINUTE);
    fire(&f, "db-told", "db", "firing");
    fire(&f, "db-told", "db", "resolved");
    h_assert(&f.d, hook_waits(&f, "db-told", "resolve", 5000),
             "the resolve inside the window never reached the sink told firing");
    /* And the end of the window does not page for it. */
    h_clock_advance(&f.d, HOUR);
    fire(&f, "db-after", "db", "firing");
    h_assert(&f.d, hook_waits(&f, "db-after", "trigger", 5000), "the window did not end");
    h_sleep_ms(300);
    h_assert(&f.d, hook_got(&f, "db-told", "trigger") == 1, "a resolved incident paged again");
    down(&f);
    h_passed();
}
END_TEST

START_TEST(test_the_end_comes_after_a_kill_inside_the_window)
{
    struct fixture f;
    char *extra = db_window(NULL);

    up(&f, extra);
    free(extra);
    h_clock_advance(&f.d, HOUR + MINUTE);
    fire(&f, "db-crash", "db", "firing");
    h_assert(&f.d, muted_by(&f, "db-crash", "db-upgrade"), "not muted by the window");
    h_kill9(&f.d);
    h_start(&f.d);
    h_assert(&f.d, muted_by(&f, "db-crash", "db-upgrade"), "unmuted by the restart");
    h_clock_advance(&f.d, HOUR);
    h_assert(&f.d, hook_waits(&f, "db-crash", "trigger", 5000),
             "no trigger after the window that a kill -9 interrupted");
    down(&f);
    h_passed();
}
END_TEST

/* A recurring window, Sundays 02:00-04:00 Europe/Berlin, on the day
 * clocks spring forward (2027-03-28, 02:00 CET -> 03:00 CEST): 02:00 does
 * not exist and is the instant 03:00 CEST (01:00Z), so the window runs
 * 01:00Z-02:00Z, one hour. lib/recur has the zone rules and their tests;
 * this is the plugin's wiring on the real daemon's clock. */
START_TEST(test_a_recurring_window_on_a_spring_forward_day)
{
    struct fixture f;
    int64_t at;
    json_t *list = NULL, *w;
    struct h_resp r;

    up(&f, "    windows = ( { id = \"sunday-batch\"; matchers = [ \"service=batch\" ];\n"
           "      weekdays = [ \"sun\" ]; start = \"02:00\"; end = \"04:00\";\n"
           "      time_zone = \"Europe/Berlin\"; } );\n");
    ck_assert_int_eq(tc_time_parse("2027-03-28T00:30:00Z", &at), 0);
    h_clock_advance(&f.d, at - wall_ms());
    fire(&f, "batch-early", "batch", "firing");
    h_assert(&f.d, hook_waits(&f, "batch-early", "trigger", 5000),
             "muted before the window (00:30Z)");

    h_clock_advance(&f.d, HOUR); /* 01:30Z: 03:30 CEST */
    fire(&f, "batch-inside", "batch", "firing");
    h_assert(&f.d, muted_by(&f, "batch-inside", "sunday-batch"), "not muted at 03:30 CEST");
    {
        json_t *inc = incident_of(&f, "batch-inside");

        h_assert(&f.d, strstr(h_jstr(inc, "suppressed"), "until 2027-03-28T02:00:00.000Z") != NULL,
                 "the window does not end at 04:00 CEST: %s", h_jstr(inc, "suppressed"));
        json_decref(inc);
    }
    h_req(&f.d, "GET", "/api/v1/maintenance/sunday-batch", NULL, &r);
    h_assert(&f.d, r.status == 200, "GET the window: HTTP %ld", r.status);
    list = h_json(&r);
    h_resp_free(&r);
    w = json_object_get(list, "current");
    ck_assert_str_eq(h_jstr(list, "state"), "active");
    ck_assert_str_eq(h_jstr(w, "starts_at"), "2027-03-28T01:00:00.000Z");
    ck_assert_str_eq(h_jstr(w, "ends_at"), "2027-03-28T02:00:00.000Z");
    json_decref(list);

    h_clock_advance(&f.d, HOUR); /* 02:30Z: 04:30 CEST, over */
    h_assert(&f.d, hook_waits(&f, "batch-inside", "trigger", 5000),
             "no trigger after the window's end at 04:00 CEST");
    down(&f);
    h_passed();
}
END_TEST

/* Europe/Berlin falls back on 2027-10-31: 03:00 CEST (01:00Z) becomes
 * 02:00 CET, so 02:00-03:00 happens twice. The window covers both passes
 * (the start takes the first 02:00, the end the second 03:00): 00:00Z to
 * 02:00Z, two hours. */
START_TEST(test_a_recurring_window_on_a_fall_back_day)
{
    struct fixture f;
    json_t *inc;
    int64_t at;

    up(&f, "    windows = ( { id = \"sunday-batch\"; matchers = [ \"service=batch\" ];\n"
           "      weekdays = [ \"sun\" ]; start = \"02:00\"; end = \"03:00\";\n"
           "      time_zone = \"Europe/Berlin\"; } );\n");
    ck_assert_int_eq(tc_time_parse("2027-10-30T23:30:00Z", &at), 0);
    h_clock_advance(&f.d, at - wall_ms()); /* 01:30 CEST: before */
    fire(&f, "batch-early", "batch", "firing");
    h_assert(&f.d, hook_waits(&f, "batch-early", "trigger", 5000), "muted at 01:30 CEST");

    h_clock_advance(&f.d, 2 * HOUR); /* 01:30Z: 02:30 CET, the second pass */
    fire(&f, "batch-second-pass", "batch", "firing");
    h_assert(&f.d, muted_by(&f, "batch-second-pass", "sunday-batch"),
             "not muted in the repeated 02:30");
    inc = incident_of(&f, "batch-second-pass");
    h_assert(&f.d, strstr(h_jstr(inc, "suppressed"), "until 2027-10-31T02:00:00.000Z") != NULL,
             "the window does not end at 03:00 CET: %s", h_jstr(inc, "suppressed"));
    json_decref(inc);
    h_clock_advance(&f.d, 20 * MINUTE); /* 01:50Z: still inside */
    h_sleep_ms(300);
    h_assert(&f.d, hook_got(&f, "batch-second-pass", "trigger") == 0, "sent inside the window");
    h_clock_advance(&f.d, 15 * MINUTE); /* 02:05Z: 03:05 CET, over */
    h_assert(&f.d, hook_waits(&f, "batch-second-pass", "trigger", 5000),
             "no trigger after 03:00 CET");
    down(&f);
    h_passed();
}
END_TEST

/* Notifications the hook got about window `id`'s reminder with action,
 * each outbox row once (after a kill -9 a row may be sent again: at least
 * once, with its outbox_id as the idempotency key). */
static int reminders(struct fixture *f, const char *id, const char *action)
{
    json_int_t seen[16];
    size_t i;
    int n = 0, j;

    for (i = 0; i < peer_count(f->p); i++) {
        const struct peer_req *r = peer_get(f->p, i);
        const char *w = r->json ? h_jsub(json_object_get(r->json, "alert"), "labels",
                                         "maintenance_window")
                                : NULL;
        const char *a = r->json ? json_string_value(json_object_get(r->json, "action")) : NULL;

        json_int_t row = r->json ? json_integer_value(json_object_get(r->json, "outbox_id")) : 0;

        if (!w || !a || strcmp(w, id) != 0 || strcmp(a, action) != 0)
            continue;
        for (j = 0; j < n && seen[j] != row; j++)
            ;
        if (j == n && n < 16)
            seen[n++] = row;
    }
    return n;
}

struct reminder_wait {
    struct fixture *f;
    const char *action;
};

static int reminded(void *arg)
{
    struct reminder_wait *w = arg;

    return reminders(w->f, "db-upgrade", w->action) > 0;
}

/* remind_before: a reminder goes to remind_sinks an hour before the
 * window starts, once (also across a restart), and resolves at its start. */
START_TEST(test_remind_before_the_window_starts)
{
    struct fixture f;
    struct reminder_wait trig = { &f, "trigger" }, res = { &f, "resolve" };
    char *extra = db_window("    remind_before = \"30m\"; remind_sinks = [ \"hook\" ];\n");

    up(&f, extra);
    free(extra);
    h_clock_advance(&f.d, 20 * MINUTE); /* 40 minutes ahead: not yet */
    h_sleep_ms(400);
    h_assert(&f.d, reminders(&f, "db-upgrade", "trigger") == 0, "reminded too early");
    h_clock_advance(&f.d, 15 * MINUTE); /* 25 minutes ahead */
    h_assert(&f.d, h_wait_until(reminded, &trig, 5000), "no reminder 25 minutes ahead");
    /* A restart does not remind again. */
    h_kill9(&f.d);
    h_start(&f.d);
    h_clock_advance(&f.d, 10 * MINUTE);
    h_sleep_ms(400);
    h_assert(&f.d, reminders(&f, "db-upgrade", "trigger") == 1, "reminded %d times",
             reminders(&f, "db-upgrade", "trigger"));
    /* The window starts: the reminder is over. */
    h_clock_advance(&f.d, 20 * MINUTE);
    h_assert(&f.d, h_wait_until(reminded, &res, 5000), "the reminder never resolved");
    down(&f);
    h_passed();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("maintenance");
    TCase *tc = h_tcase("maintenance", 60);

    tcase_add_test(tc, test_a_window_mutes_then_the_trigger_follows_its_end);
    tcase_add_test(tc, test_notify_after_false_only_unmutes);
    tcase_add_test(tc, test_a_resolve_reaches_the_sink_told_before_the_window);
    tcase_add_test(tc, test_the_end_comes_after_a_kill_inside_the_window);
    tcase_add_test(tc, test_a_recurring_window_on_a_spring_forward_day);
    tcase_add_test(tc, test_a_recurring_window_on_a_fall_back_day);
    tcase_add_test(tc, test_remind_before_the_window_starts);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
