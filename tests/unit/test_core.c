/* test_core.c: the incident state machine and its rows, retry backoff,
 * HTTP verdicts and Retry-After, the store's migrations, shared helpers. */
#define _GNU_SOURCE
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backoff.h"
#include "common.h"
#include "httpclient.h"
#include "remember.h"
#include "incident.h"
#include "store.h"

/* --- state machine ------------------------------------------------------ */

START_TEST(test_first_firing_alert_opens_an_incident)
{
    ck_assert_int_eq(tc_incident_transition(TC_NONE, TC_EV_FIRING), TC_OPEN);
    ck_assert_int_eq(tc_incident_transition(TC_RESOLVED, TC_EV_FIRING), TC_OPEN);
}
END_TEST

START_TEST(test_repeat_while_open_is_coalesced)
{
    ck_assert_int_eq(tc_incident_transition(TC_TRIGGERED, TC_EV_FIRING), TC_REPEAT);
    ck_assert_int_eq(tc_incident_transition(TC_ACKNOWLEDGED, TC_EV_FIRING), TC_REPEAT);
}
END_TEST

START_TEST(test_resolved_alert_closes_open_and_ignores_nothing_open)
{
    ck_assert_int_eq(tc_incident_transition(TC_TRIGGERED, TC_EV_RESOLVED), TC_CLOSE);
    ck_assert_int_eq(tc_incident_transition(TC_ACKNOWLEDGED, TC_EV_RESOLVED), TC_CLOSE);
    ck_assert_int_eq(tc_incident_transition(TC_NONE, TC_EV_RESOLVED), TC_IGNORE);
}
END_TEST

START_TEST(test_human_actions_conflict_when_they_do_not_apply)
{
    ck_assert_int_eq(tc_incident_transition(TC_TRIGGERED, TC_EV_ACK), TC_TAKE);
    ck_assert_int_eq(tc_incident_transition(TC_ACKNOWLEDGED, TC_EV_ACK), TC_CONFLICT);
    ck_assert_int_eq(tc_incident_transition(TC_RESOLVED, TC_EV_ACK), TC_CONFLICT);
    ck_assert_int_eq(tc_incident_transition(TC_TRIGGERED, TC_EV_RESOLVE), TC_CLOSE);
    ck_assert_int_eq(tc_incident_transition(TC_ACKNOWLEDGED, TC_EV_RESOLVE), TC_CLOSE);
    ck_assert_int_eq(tc_incident_transition(TC_RESOLVED, TC_EV_RESOLVE), TC_CONFLICT);
}
END_TEST

START_TEST(test_state_names_round_trip)
{
    ck_assert_int_eq(tc_state_parse(tc_state_name(TC_TRIGGERED)), TC_TRIGGERED);
    ck_assert_int_eq(tc_state_parse(tc_state_name(TC_ACKNOWLEDGED)), TC_ACKNOWLEDGED);
    ck_assert_int_eq(tc_state_parse(tc_state_name(TC_RESOLVED)), TC_RESOLVED);
    ck_assert_int_eq(tc_state_parse("bogus"), TC_NONE);
}
END_TEST

/* --- incident rows on a real (in-memory) store -------------------------- */

static sqlite3 *memory_store(void)
{
    sqlite3 *db;
    char err[256];

    ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    ck_assert_msg(tc_store_migrate(db, err, sizeof err) == 0, "%s", err);
    return db;
}

static int count(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    int n = -1;

    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void collect(void *arg, const char *sink)
{
    char *buf = arg;

    strcat(buf, sink);
    strcat(buf, ",");
}

START_TEST(test_one_open_incident_per_dedup_key)
{
    sqlite3 *db = memory_store();
    struct tc_incidents *x = tc_incidents_new(db);
    struct tc_new_incident n = { "k1", "critical", "disk", "prom", "db", "{}", 1000, 0, NULL, 0, NULL, 0 };
    enum tc_state state;
    int64_t id, found, started_at = 0;

    ck_assert_ptr_nonnull(x);
    id = tc_incident_insert(x, &n);
    ck_assert_int_gt(id, 0);
    ck_assert_int_eq(tc_incident_find_open(x, "k1", &found, &state, &started_at), 1);
    ck_assert_int_eq(found, id);
    ck_assert_int_eq(started_at, 0); /* the test incident says nothing */
    ck_assert_int_eq(state, TC_TRIGGERED);
    /* a second open incident for the key violates the unique index */
    ck_assert_int_lt(tc_incident_insert(x, &n), 0);
    ck_assert_int_eq(tc_incident_repeat(x, id, 2000, 0, "{\"x\":1}"), 0);
    ck_assert_int_eq(count(db, "SELECT occurrences FROM incidents WHERE id = 1"), 2);
    ck_assert_int_eq(count(db, "SELECT last_seen FROM incidents WHERE id = 1"), 2000);
    ck_assert_int_eq(tc_incident_acknowledge(x, id, 3000, "alice"), 0);
    ck_assert_int_eq(tc_incident_state(x, id, &state), 1);
    ck_assert_int_eq(state, TC_ACKNOWLEDGED);
    ck_assert_int_eq(tc_incident_resolve(x, id, 4000, "alice", "fixed", NULL), 0);
    ck_assert_int_eq(tc_incident_find_open(x, "k1", &found, &state, &started_at), 0);
    /* once resolved, the key may open a new incident */
    ck_assert_int_gt(tc_incident_insert(x, &n), id);
    ck_assert_int_eq(tc_incident_state(x, 999, &state), 0);
    tc_incidents_free(x);
    sqlite3_close(db);
}
END_TEST

START_TEST(test_outbox_rows_and_the_sinks_that_were_triggered)
{
    sqlite3 *db = memory_store();
    struct tc_incidents *x = tc_incidents_new(db);
    struct tc_new_incident n = { "k", "high", "s", "src", NULL, "{}", 1, 0, NULL, 0, NULL, 0 };
    int64_t id = tc_incident_insert(x, &n), row;
    char sinks[64] = "";

    row = tc_outbox_add(x, id, "pd", "trigger", 10, NULL, NULL);
    ck_assert_int_gt(row, 0);
    /* a repeat of one action to one sink is a row of its own */
    ck_assert_int_gt(tc_outbox_add(x, id, "pd", "trigger", 11, NULL, NULL), row);
    ck_assert_int_gt(tc_outbox_add(x, id, "chat", "trigger", 10, NULL, NULL), row);
    ck_assert_int_gt(tc_outbox_add(x, id, "pd", "resolve", 12, "bob", "note"), 0);
    ck_assert_int_eq(tc_outbox_trigger_sinks(x, id, collect, sinks), 0);
    ck_assert_str_eq(sinks, "pd,chat,"); /* each sink once */
    ck_assert_int_eq(tc_outbox_update(x, row, "failed", 3, 1, 0, "HTTP 400", 20), 0);
    ck_assert_int_eq(count(db, "SELECT attempts FROM outbox WHERE state = 'failed'"), 3);
    ck_assert_int_eq(count(db, "SELECT throttled FROM outbox WHERE state = 'failed'"), 1);
    /* pd still has a pending trigger (the repeat): still a follower */
    sinks[0] = '\0';
    ck_assert_int_eq(tc_outbox_trigger_sinks(x, id, collect, sinks), 0);
    ck_assert_str_eq(sinks, "pd,chat,");
    ck_assert_int_eq(count(db, "SELECT count(*) FROM outbox WHERE sink = 'pd' AND action = 'trigger'"), 2);
    ck_assert_int_eq(tc_outbox_update(x, row + 1, "skipped", 0, 0, 0, "trigger failed", 21), 0);
    sinks[0] = '\0';
    ck_assert_int_eq(tc_outbox_trigger_sinks(x, id, collect, sinks), 0);
    ck_assert_str_eq(sinks, "chat,"); /* a sink whose trigger failed hears no more */
    /* a copy for a fallback keeps action, actor and note */
    ck_assert_int_gt(tc_outbox_copy(x, 4, "mail", 30), 4);
    ck_assert_int_eq(count(db, "SELECT count(*) FROM outbox WHERE sink = 'mail'"
                               " AND action = 'resolve' AND actor = 'bob' AND note = 'note'"
                               " AND state = 'pending'"), 1);
    ck_assert_int_eq(tc_outbox_copy(x, 999, "mail", 30), 0);
    ck_assert_int_eq(tc_timeline_add(x, id, 5, "triggered", "src", "{}"), 0);
    ck_assert_int_eq(count(db, "SELECT count(*) FROM timeline"), 1);
    tc_incidents_free(x);
    sqlite3_close(db);
}
END_TEST

START_TEST(test_prune_drops_old_resolved_incidents_with_their_rows)
{
    sqlite3 *db = memory_store();
    struct tc_incidents *x;
    struct tc_new_incident a = { "old", "info", "s", "src", NULL, "{}", 1, 0, NULL, 0, NULL, 0 };
    struct tc_new_incident b = { "new", "info", "s", "src", NULL, "{}", 1, 0, NULL, 0, NULL, 0 };
    int64_t ia, ib, removed = 0;

    sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
    x = tc_incidents_new(db);
    ia = tc_incident_insert(x, &a);
    ib = tc_incident_insert(x, &b);
    tc_timeline_add(x, ia, 1, "triggered", NULL, NULL);
    tc_outbox_add(x, ia, "pd", "trigger", 1, NULL, NULL);
    tc_incident_resolve(x, ia, 100, "a", "n", NULL);
    tc_incident_resolve(x, ib, 900, "a", "n", "{\"status\":\"resolved\"}");
    ck_assert_int_eq(tc_incidents_prune(x, 500, 10, &removed), 0);
    ck_assert_int_eq(removed, 1);
    ck_assert_int_eq(count(db, "SELECT count(*) FROM incidents"), 1);
    ck_assert_int_eq(count(db, "SELECT count(*) FROM timeline"), 0);
    ck_assert_int_eq(count(db, "SELECT count(*) FROM outbox"), 0);
    tc_incidents_free(x);
    sqlite3_close(db);
}
END_TEST

/* Pruning a backlog goes in bounded batches, so no one transaction holds
 * the writer (and intake) for long. */
START_TEST(test_prune_takes_at_most_its_batch)
{
    sqlite3 *db = memory_store();
    struct tc_incidents *x = tc_incidents_new(db);
    struct tc_new_incident n = { "k", "info", "s", "src", NULL, "{}", 1, 0, NULL, 0, NULL, 0 };
    int64_t removed = 0;
    int i;

    for (i = 0; i < 5; i++) {
        int64_t id = tc_incident_insert(x, &n);

        ck_assert_int_eq(tc_incident_resolve(x, id, 100, "a", "n", NULL), 0);
    }
    ck_assert_int_eq(tc_incidents_prune(x, 500, 2, &removed), 0);
    ck_assert_int_eq(removed, 2);
    ck_assert_int_eq(tc_incidents_prune(x, 500, 2, &removed), 0);
    ck_assert_int_eq(removed, 2);
    ck_assert_int_eq(tc_incidents_prune(x, 500, 2, &removed), 0);
    ck_assert_int_eq(removed, 1);
    ck_assert_int_eq(count(db, "SELECT count(*) FROM incidents"), 0);
    tc_incidents_free(x);
    sqlite3_close(db);
}
END_TEST

START_TEST(test_expiry_finds_open_incidents_past_their_expiry_earliest_first)
{
    sqlite3 *db = memory_store();
    struct tc_incidents *x = tc_incidents_new(db);
    struct tc_new_incident a = { "a", "info", "s", "src", NULL, "{}", 1, 3000, NULL, 0, NULL, 0 };
    struct tc_new_incident b = { "b", "info", "s", "src", NULL, "{}", 1, 2000, NULL, 0, NULL, 0 };
    struct tc_new_incident c = { "c", "info", "s", "src", NULL, "{}", 1, 0, NULL, 0, NULL, 0 };
    struct tc_new_incident d = { "d", "info", "s", "src", NULL, "{}", 1, 1000, NULL, 0, NULL, 0 };
    int64_t ia, ib, id, ids[4], at[4], next = 0;

    ck_assert_int_eq(tc_incidents_next_expiry(x, &next), 0); /* nothing open */
    ia = tc_incident_insert(x, &a);
    ib = tc_incident_insert(x, &b);
    tc_incident_insert(x, &c); /* never expires */
    id = tc_incident_insert(x, &d);
    tc_incident_resolve(x, id, 500, "alice", "done", NULL); /* resolved: not a candidate */
    ck_assert_int_eq(tc_incidents_next_expiry(x, &next), 1);
    ck_assert_int_eq(next, 2000);
    ck_assert_int_eq(tc_incidents_expired(x, 1999, ids, at, 4), 0);
    ck_assert_int_eq(tc_incidents_expired(x, 5000, ids, at, 4), 2);
    ck_assert_int_eq(ids[0], ib);
    ck_assert_int_eq(at[0], 2000);
    ck_assert_int_eq(ids[1], ia);
    ck_assert_int_eq(at[1], 3000);
    ck_assert_int_eq(tc_incidents_expired(x, 5000, ids, at, 1), 1); /* at most max */
    /* A refresh moves the expiry on. */
    ck_assert_int_eq(tc_incident_repeat(x, ib, 2500, 9000, "{}"), 0);
    ck_assert_int_eq(tc_incidents_expired(x, 5000, ids, at, 4), 1);
    ck_assert_int_eq(ids[0], ia);
    ck_assert_int_eq(tc_incidents_next_expiry(x, &next), 1);
    ck_assert_int_eq(next, 3000);
    tc_incidents_free(x);
    sqlite3_close(db);
}
END_TEST

/* --- store ---------------------------------------------------------------- */

START_TEST(test_store_refuses_a_newer_schema)
{
    sqlite3 *db;
    char err[256] = "";

    ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL);
    ck_assert_int_eq(tc_store_migrate(db, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "99") && strstr(err, "newer"), "%s", err);
    sqlite3_close(db);
}
END_TEST

START_TEST(test_store_migration_is_idempotent)
{
    sqlite3 *db = memory_store();
    char err[256];

    ck_assert_int_eq(tc_store_migrate(db, err, sizeof err), 0);
    ck_assert_int_eq(count(db, "PRAGMA user_version"), TC_SCHEMA_VERSION);
    sqlite3_close(db);
}
END_TEST

START_TEST(test_store_opens_in_wal_and_keeps_plugin_state)
{
    char dir[] = "/tmp/tocsin-store-XXXXXX", path[256], *v = NULL;
    struct tc_store *s;
    char err[256];
    sqlite3 *r;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_msg(tc_store_open(dir, &s, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(tc_store_state_put(s, "sink1", "cursor", "42"), TOCSIN_OK);
    ck_assert_int_eq(tc_store_state_get(s, "sink1", "cursor", &v), TOCSIN_OK);
    ck_assert_str_eq(v, "42");
    free(v);
    ck_assert_int_eq(tc_store_state_get(s, "sink2", "cursor", &v), TOCSIN_OK);
    ck_assert_ptr_null(v);
    ck_assert_int_eq(tc_store_state_delete(s, "sink1", "cursor"), TOCSIN_OK);
    ck_assert_int_eq(tc_store_state_get(s, "sink1", "cursor", &v), TOCSIN_OK);
    ck_assert_ptr_null(v);
    r = tc_store_reader_get(s);
    ck_assert_ptr_nonnull(r);
    {
        sqlite3_stmt *st;

        sqlite3_prepare_v2(r, "PRAGMA journal_mode", -1, &st, NULL);
        ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
        ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
        sqlite3_finalize(st);
    }
    tc_store_reader_put(s, r);
    tc_store_close(s);
    snprintf(path, sizeof path, "rm -rf %s", dir);
    ck_assert_int_eq(system(path), 0);
}
END_TEST

/* --- backoff and verdicts ------------------------------------------------- */

START_TEST(test_backoff_doubles_with_jitter_and_caps)
{
    ck_assert_int_eq(tc_backoff_ms(1, 1000, 60000, 0), 500);
    ck_assert_int_eq(tc_backoff_ms(1, 1000, 60000, 500), 1000);
    ck_assert_int_eq(tc_backoff_ms(2, 1000, 60000, 0), 1000);
    ck_assert_int_eq(tc_backoff_ms(3, 1000, 60000, 0), 2000);
    ck_assert_int_eq(tc_backoff_ms(3, 1000, 60000, 2000), 4000);
    ck_assert_int_eq(tc_backoff_ms(30, 1000, 60000, 0), 30000);
    ck_assert_int_eq(tc_backoff_ms(30, 1000, 60000, 30000), 60000);
    for (uint32_t r = 0; r < 5000; r += 7) {
        int64_t d = tc_backoff_ms(4, 1000, 60000, r);

        ck_assert(d >= 4000 && d <= 8000);
    }
}
END_TEST

START_TEST(test_retry_after_wins_over_backoff_and_is_capped)
{
    ck_assert_int_eq(tc_retry_delay_ms(1, 30, 1000, 60000, 0), 30000);
    ck_assert_int_eq(tc_retry_delay_ms(1, 999999, 1000, 60000, 0), 3600000);
    ck_assert_int_eq(tc_retry_delay_ms(1, 0, 1000, 60000, 0), 500);
}
END_TEST

START_TEST(test_retry_after_parses_seconds_and_http_dates)
{
    int64_t now = 784111777000LL; /* Sun, 06 Nov 1994 08:49:37 GMT */

    ck_assert_int_eq(tc_parse_retry_after(" 120\r\n", now), 120);
    ck_assert_int_eq(tc_parse_retry_after("Sun, 06 Nov 1994 08:50:37 GMT\r\n", now), 60);
    ck_assert_int_eq(tc_parse_retry_after("Sun, 06 Nov 1994 08:40:00 GMT", now), 0);
    ck_assert_int_eq(tc_parse_retry_after("soon", now), -1);
    ck_assert_int_eq(tc_parse_retry_after("12abc", now), -1);
}
END_TEST

static struct tocsin_verdict verdict_for(long status, int retry_after, const char *body)
{
    struct tocsin_http_result res = { status, (char *)body, body ? strlen(body) : 0,
                                      retry_after, 0, "" };

    return tc_http_verdict(&res);
}

START_TEST(test_http_verdicts_follow_status_classes)
{
    struct tocsin_verdict v;

    ck_assert_int_eq(verdict_for(202, -1, NULL).kind, TOCSIN_DONE);
    v = verdict_for(429, 7, "slow down");
    ck_assert_int_eq(v.kind, TOCSIN_RETRY);
    ck_assert_int_eq(v.retry_after, 7);
    ck_assert_int_eq(verdict_for(503, -1, NULL).kind, TOCSIN_RETRY);
    ck_assert_int_eq(verdict_for(408, -1, NULL).kind, TOCSIN_RETRY);
    v = verdict_for(400, -1, "{\"message\":\"bad routing key\"}\n");
    ck_assert_int_eq(v.kind, TOCSIN_FAILED);
    ck_assert_msg(strstr(v.reason, "400") && strstr(v.reason, "bad routing key"), "%s",
                  v.reason);
    ck_assert_ptr_null(strchr(v.reason, '\n'));
    {
        struct tocsin_http_result res = { 0, NULL, 0, -1, 1, "Timeout was reached" };

        v = tc_http_verdict(&res);
        ck_assert_int_eq(v.kind, TOCSIN_RETRY);
        ck_assert_str_eq(v.reason, "timed out");
    }
}
END_TEST

/* --- shared helpers --------------------------------------------------------- */

START_TEST(test_rfc3339_parse_and_format)
{
    int64_t ms;
    char buf[40];

    ck_assert_int_eq(tc_time_parse("2026-11-23T03:12:45.123Z", &ms), 0);
    ck_assert_str_eq(tc_time_format(ms, buf, sizeof buf), "2026-11-23T03:12:45.123Z");
    ck_assert_int_eq(tc_time_parse("2026-11-23T05:12:45+02:00", &ms), 0);
    ck_assert_str_eq(tc_time_format(ms, buf, sizeof buf), "2026-11-23T03:12:45.000Z");
    ck_assert_int_eq(tc_time_parse("0001-01-01T00:00:00Z", &ms), 0);
    ck_assert_str_eq(tc_time_format(ms, buf, sizeof buf), "0001-01-01T00:00:00.000Z");
    ck_assert_str_eq(tc_time_format(0, buf, sizeof buf), "1970-01-01T00:00:00.000Z");
    ck_assert_str_eq(tc_time_format(-1, buf, sizeof buf), "1969-12-31T23:59:59.999Z");
    ck_assert_str_eq(tc_time_format(253402300799999LL, buf, sizeof buf),
                     "9999-12-31T23:59:59.999Z");
    ck_assert_str_eq(tc_time_format(253402300800000LL, buf, sizeof buf),
                     "10000-01-01T00:00:00.000Z");
    ck_assert_str_eq(tc_time_format(1764558765007LL, buf, 21), "2025-12-01T03:12:45.");
    ck_assert_int_eq(tc_time_parse("2026-13-01T00:00:00Z", &ms), -1);
    ck_assert_int_eq(tc_time_parse("2026-11-23 03:12", &ms), -1);
    ck_assert_int_eq(tc_time_parse("2026-11-23T03:12:45", &ms), -1);
}
END_TEST

/* The intake writes alerts as text directly; what it writes must be what
 * jansson would have dumped from the tree, byte for byte, whatever the
 * strings hold. */
static void assert_text_is_jansson(const struct tocsin_alert *a)
{
    json_t *o = tc_alert_to_json(a);
    char *want = json_dumps(o, JSON_COMPACT), *got = tc_alert_to_text(a);

    ck_assert_ptr_nonnull(want);
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got, want);
    free(want);
    free(got);
    json_decref(o);
}

START_TEST(test_alert_text_is_what_jansson_dumps)
{
    static const char *const odd[] = {
        "", "plain", "quote \" and backslash \\ and slash /", "\b\f\n\r\t\x01\x1f\x7f",
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\xa5", "bad \xff byte", "cut \xe2\x82",
        "overlong \xc0\xaf", "surrogate \xed\xa0\x80", "\xf4\x90\x80\x80 above max",
        "<script>alert(1)</script>", "\x1b[31mred\x1b[0m",
    };
    size_t n = sizeof odd / sizeof odd[0], i, k;

    for (i = 0; i < n; i++) {
        struct tocsin_kv labels[4] = {
            { "alertname", odd[i] }, { odd[i][0] ? odd[i] : "empty", "v" },
            { "nullvalue", NULL }, { "job", "x" },
        };
        struct tocsin_kv links[1] = { { "generator", odd[(i + 3) % n] } };
        struct tocsin_alert a;

        memset(&a, 0, sizeof a);
        a.dedup_key = odd[i];
        a.status = i % 2 ? TOCSIN_RESOLVED : TOCSIN_FIRING;
        a.severity = (enum tocsin_severity)(i % 5);
        a.summary = odd[(i + 1) % n];
        a.details = i % 3 ? odd[(i + 2) % n] : NULL;
        a.source = "prom";
        a.service = i % 4 ? NULL : "db";
        a.labels = labels;
        a.n_labels = 4;
        a.annotations = labels + 1;
        a.n_annotations = i % 3;
        a.links = links;
        a.n_links = i % 2;
        a.started_at = 1764558765007LL + (int64_t)i;
        a.received_at = i % 2 ? 0 : 1764558765999LL;
        a.ended_at = i % 2 ? 1764558766000LL : 0;
        a.expires_at = -1000;
        assert_text_is_jansson(&a);
    }
    /* Repeated keys (the last value wins, in the first one's place) and
     * many labels take jansson's own way; still the same text. */
    {
        struct tocsin_kv dup[3] = { { "a", "1" }, { "b", "2" }, { "a", "3" } };
        struct tocsin_kv many[80];
        char names[80][8];
        struct tocsin_alert a;

        memset(&a, 0, sizeof a);
        a.labels = dup;
        a.n_labels = 3;
        assert_text_is_jansson(&a);
        for (k = 0; k < 80; k++) {
            snprintf(names[k], sizeof names[k], "l%zu", k);
            many[k].key = names[k];
            many[k].value = odd[k % n];
        }
        a.labels = many;
        a.n_labels = 80;
        a.dedup_key = "k";
        assert_text_is_jansson(&a);
    }
}
END_TEST

/* host->remember is honoured only inside the delivery of the very
 * notification it names, and only up to TOCSIN_REF_MAX. */
START_TEST(test_remember_only_inside_its_delivery)
{
    struct tocsin_notification n, other;
    struct tc_remembered mem;
    char big[TOCSIN_REF_MAX + 2];

    memset(&n, 0, sizeof n);
    memset(&other, 0, sizeof other);
    ck_assert_int_eq(tc_remember(&n, "early"), TOCSIN_EINVAL);
    tc_remember_begin(&mem, &n);
    ck_assert_int_eq(tc_remember(&other, "not mine"), TOCSIN_EINVAL);
    ck_assert(!mem.set);
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ck_assert_int_eq(tc_remember(&n, big), TOCSIN_EINVAL);
    ck_assert(!mem.set);
    big[TOCSIN_REF_MAX] = '\0';
    ck_assert_int_eq(tc_remember(&n, big), TOCSIN_OK);
    ck_assert(mem.set && !mem.forget);
    ck_assert_uint_eq(strlen(mem.ref), TOCSIN_REF_MAX);
    ck_assert_int_eq(tc_remember(&n, "C123 1700000000.000100"), TOCSIN_OK);
    ck_assert_str_eq(mem.ref, "C123 1700000000.000100");
    ck_assert_int_eq(tc_remember(&n, NULL), TOCSIN_OK);
    ck_assert(mem.set && mem.forget);
    tc_remember_end();
    ck_assert_int_eq(tc_remember(&n, "late"), TOCSIN_EINVAL);
}
END_TEST

START_TEST(test_fingerprint_ignores_label_order)
{
    struct tocsin_kv a[] = { { "alertname", "DiskFull" }, { "instance", "db1" } };
    struct tocsin_kv b[] = { { "instance", "db1" }, { "alertname", "DiskFull" } };
    struct tocsin_kv c[] = { { "instance", "db2" }, { "alertname", "DiskFull" } };
    char x[17], y[17];

    ck_assert_str_eq(tc_fingerprint_hex(a, 2, x), tc_fingerprint_hex(b, 2, y));
    ck_assert_str_ne(tc_fingerprint_hex(a, 2, x), tc_fingerprint_hex(c, 2, y));
    ck_assert_int_eq(strlen(x), 16);
}
END_TEST

/* Check an error answer's JSON body, then free it. */
static void check_error_body(char *body, const char *error, const char *detail)
{
    json_t *o = json_loads(body ? body : "", 0, NULL);

    ck_assert_msg(o != NULL, "not JSON: %s", body ? body : "(null)");
    ck_assert_str_eq(json_string_value(json_object_get(o, "error")), error);
    if (detail)
        ck_assert_str_eq(json_string_value(json_object_get(o, "detail")), detail);
    else
        ck_assert_ptr_null(json_object_get(o, "detail"));
    json_decref(o);
    free(body);
}

START_TEST(test_emit_errors_answer_alike_for_every_input)
{
    struct tocsin_http_response r;

    memset(&r, 0, sizeof r);
    ck_assert_int_eq(tc_emit_answer(&r, TOCSIN_EBUSY, ""), 0);
    ck_assert_int_eq(r.status, 503);
    ck_assert_int_eq(r.retry_after, 1);
    check_error_body(r.body, "intake queue full", NULL);

    memset(&r, 0, sizeof r);
    ck_assert_int_eq(tc_emit_answer(&r, TOCSIN_ESHUTDOWN, "tocsind is shutting down"), 0);
    ck_assert_int_eq(r.status, 503);
    ck_assert_int_eq(r.retry_after, 0);
    check_error_body(r.body, "shutting down", NULL);

    memset(&r, 0, sizeof r);
    ck_assert_int_eq(tc_emit_answer(&r, TOCSIN_ENOMEM, ""), 0);
    ck_assert_int_eq(r.status, 500);
    check_error_body(r.body, "out of memory", NULL);

    memset(&r, 0, sizeof r);
    ck_assert_int_eq(tc_emit_answer(&r, TOCSIN_EIO, "the store could not commit"), 0);
    ck_assert_int_eq(r.status, 500);
    check_error_body(r.body, "storing alerts failed", "the store could not commit");

    /* A 400 is each input's own: untouched. */
    memset(&r, 0, sizeof r);
    ck_assert_int_eq(tc_emit_answer(&r, TOCSIN_EINVAL, "alert 0: bad"), -1);
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_null(r.body);
}
END_TEST

static Suite *core_suite(void)
{
    Suite *s = suite_create("core");
    TCase *sm = tcase_create("state machine"), *rows = tcase_create("incident rows");
    TCase *store = tcase_create("store"), *retry = tcase_create("retry");
    TCase *common = tcase_create("common");

    tcase_add_test(sm, test_first_firing_alert_opens_an_incident);
    tcase_add_test(sm, test_repeat_while_open_is_coalesced);
    tcase_add_test(sm, test_resolved_alert_closes_open_and_ignores_nothing_open);
    tcase_add_test(sm, test_human_actions_conflict_when_they_do_not_apply);
    tcase_add_test(sm, test_state_names_round_trip);
    tcase_add_test(rows, test_one_open_incident_per_dedup_key);
    tcase_add_test(rows, test_outbox_rows_and_the_sinks_that_were_triggered);
    tcase_add_test(rows, test_prune_drops_old_resolved_incidents_with_their_rows);
    tcase_add_test(rows, test_prune_takes_at_most_its_batch);
    tcase_add_test(rows, test_expiry_finds_open_incidents_past_their_expiry_earliest_first);
    tcase_add_test(store, test_store_refuses_a_newer_schema);
    tcase_add_test(store, test_store_migration_is_idempotent);
    tcase_add_test(store, test_store_opens_in_wal_and_keeps_plugin_state);
    tcase_add_test(retry, test_backoff_doubles_with_jitter_and_caps);
    tcase_add_test(retry, test_retry_after_wins_over_backoff_and_is_capped);
    tcase_add_test(retry, test_retry_after_parses_seconds_and_http_dates);
    tcase_add_test(retry, test_http_verdicts_follow_status_classes);
    tcase_add_test(common, test_rfc3339_parse_and_format);
    tcase_add_test(common, test_fingerprint_ignores_label_order);
    tcase_add_test(common, test_alert_text_is_what_jansson_dumps);
    tcase_add_test(common, test_remember_only_inside_its_delivery);
    tcase_add_test(common, test_emit_errors_answer_alike_for_every_input);
    suite_add_tcase(s, sm);
    suite_add_tcase(s, rows);
    suite_add_tcase(s, store);
    suite_add_tcase(s, retry);
    suite_add_tcase(s, common);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(core_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
