/* test_apply.c: what alerts, human actions, delivery outcomes and
 * expiries do to incidents (core/apply.c), on an in-memory store with
 * routes to two sinks and a policy written here. */
#define _GNU_SOURCE
#include <check.h>
#include <jansson.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "common.h"
#include "store.h"

static const char *const sink_ids[] = { "pd", "chat" };

struct world {
    sqlite3 *db;
    config_t lc;
    struct tc_errors errs;
    struct tc_instance_conf sinks[2];
    struct tc_config cfg;
    struct tc_applier ap;
    struct tc_rows rows;
};

static struct world w;

static void setup(void)
{
    char err[256];
    size_t i;

    memset(&w, 0, sizeof w);
    ck_assert_int_eq(sqlite3_open(":memory:", &w.db), SQLITE_OK);
    ck_assert_msg(tc_store_migrate(w.db, err, sizeof err) == 0, "%s", err);
    sqlite3_exec(w.db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
    config_init(&w.lc);
    ck_assert(config_read_string(&w.lc, "routes = ("
                                        "  { match = { severity = [ \"critical\" ]; };"
                                        "    sinks = [ \"pd\", \"chat\" ]; },"
                                        "  { sinks = [ \"chat\" ]; } );"));
    w.cfg.routes =
        tc_routes_parse(config_lookup(&w.lc, "routes"), "tocsin.conf", sink_ids, 2, &w.errs);
    ck_assert_ptr_nonnull(w.cfg.routes);
    for (i = 0; i < 2; i++)
        w.sinks[i].id = (char *)sink_ids[i];
    w.cfg.sinks = w.sinks;
    w.cfg.n_sinks = 2;
    w.ap.inc = tc_incidents_new(w.db);
    ck_assert_ptr_nonnull(w.ap.inc);
    w.ap.cfg = &w.cfg;
    w.ap.next_expiry = INT64_MAX;
}

static void teardown(void)
{
    tc_rows_free(&w.rows);
    tc_incidents_free(w.ap.inc);
    tc_routes_free(w.cfg.routes);
    tc_errors_free(&w.errs);
    config_destroy(&w.lc);
    sqlite3_close(w.db);
}

/* An alert as the pipeline prepares it (release with release()). */
static struct tc_intake_alert alert(const char *key, enum tocsin_severity sev,
                                    enum tocsin_status status, int64_t expires_at)
{
    struct tc_intake_alert ia;
    json_t *obj;

    memset(&ia, 0, sizeof ia);
    ia.a.dedup_key = key;
    ia.a.severity = sev;
    ia.a.status = status;
    ia.a.summary = "disk full";
    ia.a.source = "prom";
    ia.a.received_at = 1000;
    ia.a.expires_at = expires_at;
    obj = tc_alert_to_json(&ia.a);
    ia.json = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    return ia;
}

static void release(struct tc_intake_alert *ia)
{
    free(ia->json);
}

static int apply(const char *key, enum tocsin_severity sev, enum tocsin_status status,
                 int64_t expires_at, int64_t now)
{
    struct tc_intake_alert ia = alert(key, sev, status, expires_at);
    int rc = tc_apply_alert(&w.ap, &w.rows, &ia, now);

    release(&ia);
    return rc;
}

static long long scalar(const char *sql)
{
    sqlite3_stmt *st;
    long long v = -1;

    ck_assert_int_eq(sqlite3_prepare_v2(w.db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static const char *text(const char *sql)
{
    static char buf[512];
    sqlite3_stmt *st;

    buf[0] = '\0';
    ck_assert_int_eq(sqlite3_prepare_v2(w.db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(buf, sizeof buf, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return buf;
}

/* The sinks of the collected rows, as "pd,chat,". */
static const char *row_sinks(void)
{
    static char buf[128];
    size_t i;

    buf[0] = '\0';
    for (i = 0; i < w.rows.n; i++) {
        strcat(buf, w.rows.v[i].sink);
        strcat(buf, ",");
    }
    return buf;
}

START_TEST(test_firing_alert_opens_an_incident_routed_to_its_sinks)
{
    ck_assert_int_eq(apply("k1", TOCSIN_SEV_CRITICAL, TOCSIN_FIRING, 0, 2000), 0);
    ck_assert_str_eq(row_sinks(), "pd,chat,");
    /* The new rows carry the alert, so the first attempt needs no read. */
    ck_assert_ptr_nonnull(w.rows.v[0].fresh);
    ck_assert_ptr_eq(w.rows.v[0].fresh, w.rows.v[1].fresh);
    ck_assert_int_eq(scalar("SELECT count(*) FROM incidents WHERE state = 'triggered'"), 1);
    ck_assert_str_eq(text("SELECT kind FROM timeline ORDER BY id LIMIT 1"), "triggered");
    ck_assert_int_eq(scalar("SELECT count(*) FROM outbox WHERE action = 'trigger'"), 2);

    /* A lower severity takes the catch-all route. */
    tc_rows_drop(&w.rows);
    ck_assert_int_eq(apply("k2", TOCSIN_SEV_LOW, TOCSIN_FIRING, 0, 2000), 0);
    ck_assert_str_eq(row_sinks(), "chat,");
}
END_TEST

START_TEST(test_repeat_is_coalesced_and_resolve_notifies_the_trigger_sinks)
{
    ck_assert_int_eq(apply("k", TOCSIN_SEV_CRITICAL, TOCSIN_FIRING, 0, 2000), 0);
    tc_rows_drop(&w.rows);
    ck_assert_int_eq(apply("k", TOCSIN_SEV_CRITICAL, TOCSIN_FIRING, 0, 3000), 0);
    ck_assert_int_eq(w.rows.n, 0);
    ck_assert_int_eq(scalar("SELECT occurrences FROM incidents"), 2);
    ck_assert_int_eq(scalar("SELECT count(*) FROM timeline"), 1); /* no row per repeat */

    ck_assert_int_eq(apply("k", TOCSIN_SEV_CRITICAL, TOCSIN_RESOLVED, 0, 4000), 0);
    ck_assert_str_eq(row_sinks(), "pd,chat,");
    ck_assert_ptr_null(w.rows.v[0].fresh); /* follow-ups are read from the store */
    ck_assert_str_eq(text("SELECT state FROM incidents"), "resolved");
    ck_assert_str_eq(text("SELECT resolved_by FROM incidents"), "prom");
    ck_assert_int_eq(scalar("SELECT count(*) FROM outbox WHERE action = 'resolve'"), 2);

    /* Resolved again with nothing open: nothing happens. */
    tc_rows_drop(&w.rows);
    ck_assert_int_eq(apply("k", TOCSIN_SEV_CRITICAL, TOCSIN_RESOLVED, 0, 5000), 0);
    ck_assert_int_eq(w.rows.n, 0);
    ck_assert_int_eq(scalar("SELECT count(*) FROM incidents"), 1);
}
END_TEST

START_TEST(test_human_actions_follow_the_state_machine)
{
    char err[256] = "";
    int64_t id;

    ck_assert_int_eq(apply("k", TOCSIN_SEV_HIGH, TOCSIN_FIRING, 0, 2000), 0);
    id = scalar("SELECT id FROM incidents");
    tc_rows_drop(&w.rows);

    ck_assert_int_eq(tc_apply_act(&w.ap, &w.rows, id, TC_EV_ACK, "alice", NULL, 3000, err,
                                  sizeof err),
                     200);
    ck_assert_str_eq(row_sinks(), "chat,");
    ck_assert_str_eq(text("SELECT acknowledged_by FROM incidents"), "alice");
    ck_assert_int_eq(tc_apply_act(&w.ap, &w.rows, id, TC_EV_ACK, "bob", NULL, 3100, err,
                                  sizeof err),
                     409);
    ck_assert_msg(strstr(err, "acknowledged") != NULL, "409 says: %s", err);

    tc_rows_drop(&w.rows);
    ck_assert_int_eq(tc_apply_act(&w.ap, &w.rows, id, TC_EV_RESOLVE, "bob", "rolled back",
                                  4000, err, sizeof err),
                     200);
    ck_assert_str_eq(row_sinks(), "chat,");
    ck_assert_str_eq(text("SELECT resolution_note FROM incidents"), "rolled back");
    ck_assert_str_eq(text("SELECT note FROM outbox WHERE action = 'resolve'"), "rolled back");
    ck_assert_int_eq(tc_apply_act(&w.ap, &w.rows, id, TC_EV_RESOLVE, "bob", "again", 4100,
                                  err, sizeof err),
                     409);
    ck_assert_int_eq(tc_apply_act(&w.ap, &w.rows, 999, TC_EV_ACK, "bob", NULL, 4200, err,
                                  sizeof err),
                     404);
    ck_assert_str_eq(err, "no incident 999");
}
END_TEST

START_TEST(test_delivery_outcomes_update_the_row_and_the_timeline)
{
    struct tc_outcome done = { 0, 0, "pd", "trigger", "done", NULL, 2, 0, 0, 0, NULL };
    struct tc_outcome failed = { 0, 0, "chat", "trigger", "failed", "HTTP 400: \"bad\"", 1, 0, 0,
                                 0, NULL };
    json_t *d;

    ck_assert_int_eq(apply("k", TOCSIN_SEV_CRITICAL, TOCSIN_FIRING, 0, 2000), 0);
    done.outbox_id = w.rows.v[0].id;
    failed.outbox_id = w.rows.v[1].id;
    done.incident_id = failed.incident_id = scalar("SELECT id FROM incidents");

    ck_assert_int_eq(tc_apply_delivery(&w.ap, &w.rows, &done, 3000), 0);
    ck_assert_int_eq(tc_apply_delivery(&w.ap, &w.rows, &failed, 3000), 0);
    ck_assert_int_eq(scalar("SELECT attempts FROM outbox WHERE sink = 'pd' AND state = 'done'"),
                     2);
    ck_assert_str_eq(text("SELECT last_error FROM outbox WHERE sink = 'chat'"),
                     "HTTP 400: \"bad\"");
    /* Both details are JSON that says which sink and why. */
    d = json_loads(text("SELECT detail FROM timeline WHERE kind = 'notified'"), 0, NULL);
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(json_string_value(json_object_get(d, "sink")), "pd");
    ck_assert_int_eq(json_integer_value(json_object_get(d, "attempts")), 2);
    json_decref(d);
    d = json_loads(text("SELECT detail FROM timeline WHERE kind = 'notify_failed'"), 0, NULL);
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(json_string_value(json_object_get(d, "reason")), "HTTP 400: \"bad\"");
    json_decref(d);
}
END_TEST

START_TEST(test_expiry_is_noted_and_resolves_as_expired)
{
    int64_t id;

    ck_assert_int_eq(apply("k", TOCSIN_SEV_CRITICAL, TOCSIN_FIRING, 9000, 2000), 0);
    ck_assert_int_eq(w.ap.next_expiry, 9000);
    ck_assert_int_eq(apply("other", TOCSIN_SEV_LOW, TOCSIN_FIRING, 7000, 2000), 0);
    ck_assert_int_eq(w.ap.next_expiry, 7000);
    ck_assert_int_eq(apply("k", TOCSIN_SEV_CRITICAL, TOCSIN_FIRING, 12000, 3000), 0);
    ck_assert_int_eq(w.ap.next_expiry, 7000); /* the earliest stays */

    id = scalar("SELECT id FROM incidents WHERE dedup_key = 'k'");
    tc_rows_drop(&w.rows);
    ck_assert_int_eq(tc_apply_expiry(&w.ap, &w.rows, id, 12000, 12500), 0);
    ck_assert_str_eq(row_sinks(), "pd,chat,");
    ck_assert_str_eq(text("SELECT resolved_by FROM incidents WHERE id = 1"), "expired");
    ck_assert_int_eq(scalar("SELECT resolved_at FROM incidents WHERE id = 1"), 12000);
    ck_assert_msg(strstr(text("SELECT note FROM outbox WHERE action = 'resolve' LIMIT 1"),
                         "expired") != NULL,
                  "the resolve notification does not say it expired");
    ck_assert_msg(strstr(text("SELECT detail FROM timeline WHERE kind = 'resolved'"),
                         "\"by\":\"expired\"") != NULL,
                  "the timeline does not say it expired");
}
END_TEST

/* A policy: suppresses alerts labelled maintenance=yes, annotates all. */
static int evaluate(void *self, const struct tocsin_alert *a, struct tocsin_policy_result *res)
{
    (void)self;
    tc_policy_annotate(res, "checked_by", "test-policy");
    if (tocsin_kv_get(a->labels, a->n_labels, "maintenance")) {
        res->decision = TOCSIN_SUPPRESS;
        snprintf(res->reason, sizeof res->reason, "db1 is in maintenance");
    }
    return TOCSIN_OK;
}

START_TEST(test_policies_suppress_with_a_reason_and_annotate)
{
    static struct tocsin_plugin policy;
    struct tc_policy_ref ref = { "maint", &policy, NULL };
    struct tocsin_kv labels[] = { { "maintenance", "yes" } };
    struct tc_intake_alert ia;

    policy.evaluate = evaluate;
    w.ap.policies = &ref;
    w.ap.n_policies = 1;

    ia = alert("quiet", TOCSIN_SEV_CRITICAL, TOCSIN_FIRING, 0);
    ia.a.labels = labels;
    ia.a.n_labels = 1;
    ck_assert_int_eq(tc_apply_alert(&w.ap, &w.rows, &ia, 2000), 0);
    release(&ia);
    ck_assert_int_eq(w.rows.n, 0); /* suppressed: nobody notified */
    ck_assert_str_eq(text("SELECT suppressed FROM incidents"), "maint: db1 is in maintenance");
    ck_assert_int_eq(scalar("SELECT count(*) FROM timeline WHERE kind = 'suppressed'"), 1);
    ck_assert_msg(strstr(text("SELECT alert FROM incidents"), "test-policy") != NULL,
                  "the annotation is not in the stored alert");

    ck_assert_int_eq(apply("loud", TOCSIN_SEV_CRITICAL, TOCSIN_FIRING, 0, 2000), 0);
    ck_assert_str_eq(row_sinks(), "pd,chat,");
    /* Outside a policy's evaluate() there is nothing to annotate. */
    ck_assert_int_eq(tc_policy_annotate(&(struct tocsin_policy_result){ 0 }, "k", "v"),
                     TOCSIN_EINVAL);
}
END_TEST

static Suite *apply_suite(void)
{
    Suite *s = suite_create("apply");
    TCase *tc = tcase_create("effects");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_firing_alert_opens_an_incident_routed_to_its_sinks);
    tcase_add_test(tc, test_repeat_is_coalesced_and_resolve_notifies_the_trigger_sinks);
    tcase_add_test(tc, test_human_actions_follow_the_state_machine);
    tcase_add_test(tc, test_delivery_outcomes_update_the_row_and_the_timeline);
    tcase_add_test(tc, test_expiry_is_noted_and_resolves_as_expired);
    tcase_add_test(tc, test_policies_suppress_with_a_reason_and_annotate);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(apply_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
