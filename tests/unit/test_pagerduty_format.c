/* test_pagerduty_format.c: the pagerduty sink's events (format.c) against a
 * fixture and the formats page, and its options, requests and verdicts
 * through a fake host (pagerduty.c). */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tocsin/plugin.h>

#include "fake_host.h"
#include "format.h"
#include "helpers.h"

extern const struct tocsin_plugin tocsin_plugin;

#define KEY "R0123456789ABCDEF0123456789ABCDE"
#define T_031245_123 1795403565123LL /* 2026-11-23T03:12:45.123Z */
#define T_031246 1795403566000LL
#define ELL "\xe2\x80\xa6"

static struct tocsin_kv labels[] = {
    { "alertname", "DiskFull" }, { "instance", "db1" }, { "severity", "critical" },
};
static struct tocsin_kv annotations[] = {
    { "description", "Filesystem /var on db1 is 97% full." },
    { "runbook_url", "https://runbooks.example/disk-full" },
};
static const struct tocsin_kv links[] = {
    { "generator", "http://prom.example:9090/graph?g0.expr=disk_used_percent+%3E+95" },
    { "Dashboard", "http://grafana.example/d/disk" },
};

static struct tocsin_alert alert;
static struct tocsin_notification note;
static struct pd_event_conf ev;

static void trigger(void)
{
    disk_full_trigger(&alert, &note, "pd");
    alert.dedup_key = "prom/DiskFull/db1";
    alert.source = "prom";
    alert.service = "node";
    alert.labels = labels;
    alert.n_labels = 3;
    alert.annotations = annotations;
    alert.n_annotations = 2;
    alert.links = links;
    alert.n_links = 2;
    alert.started_at = T_031245_123;
    alert.received_at = T_031246;
    note.occurrences = 1;
    note.first_seen = T_031246;
    note.last_seen = T_031246;
    note.external_url = "http://tocsin.example:9099/";
    memset(&ev, 0, sizeof ev);
    ev.routing_key = KEY;
    memcpy(ev.severity, pd_default_severity, sizeof ev.severity);
}

static json_t *parse_owned(char *text)
{
    json_error_t e;
    json_t *j;

    ck_assert_ptr_nonnull(text);
    j = json_loads(text, 0, &e);
    ck_assert_msg(j != NULL, "not JSON (%s): %s", e.text, text);
    free(text);
    return j;
}

static json_t *event(void)
{
    return parse_owned(pd_format_event(&ev, &note));
}

static const char *payload_str(json_t *j, const char *key)
{
    return json_string_value(json_object_get(json_object_get(j, "payload"), key));
}

static json_t *fixture(const char *name)
{
    return fixture_json("pagerduty", name);
}

static void expect_equal(json_t *got, json_t *want)
{
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_INDENT(2) | JSON_SORT_KEYS);
        char *w = json_dumps(want, JSON_INDENT(2) | JSON_SORT_KEYS);

        ck_abort_msg("event differs:\ngot %s\nwant %s", g, w);
    }
    json_decref(want);
}

/* ---- format.c ------------------------------------------------------------ */

START_TEST(test_trigger_matches_fixture)
{
    json_t *j;

    trigger();
    j = event();
    expect_equal(j, fixture("trigger.json"));
    json_decref(j);
}
END_TEST

START_TEST(test_follow_ups_carry_only_the_key)
{
    static const enum tocsin_action acts[] = { TOCSIN_ACT_ACKNOWLEDGE, TOCSIN_ACT_RESOLVE };
    size_t i;
    json_t *j;

    for (i = 0; i < 2; i++) {
        trigger();
        note.action = acts[i];
        note.actor = "alice";
        note.note = "freed /var/log";
        j = event();
        expect_equal(j, json_pack("{s:s, s:s, s:s}", "routing_key", KEY, "event_action",
                                  tocsin_action_name(acts[i]), "dedup_key",
                                  "prom/DiskFull/db1"));
        json_decref(j);
    }
}
END_TEST

START_TEST(test_severities_default_and_overridden)
{
    static const char *const want[] = { "critical", "error", "warning", "info", "info" };
    json_t *j;
    int s;

    for (s = 0; s < 5; s++) {
        trigger();
        alert.severity = (enum tocsin_severity)s;
        j = event();
        ck_assert_str_eq(payload_str(j, "severity"), want[s]);
        json_decref(j);
    }
    trigger();
    alert.severity = TOCSIN_SEV_HIGH;
    ev.severity[TOCSIN_SEV_HIGH] = "critical";
    j = event();
    ck_assert_str_eq(payload_str(j, "severity"), "critical");
    json_decref(j);
}
END_TEST

START_TEST(test_component_group_class_from_labels)
{
    json_t *j;

    trigger();
    ev.component_label = "alertname";
    ev.group_label = "instance";
    ev.class_label = "missing";
    j = event();
    ck_assert_str_eq(payload_str(j, "component"), "DiskFull");
    ck_assert_str_eq(payload_str(j, "group"), "db1");
    ck_assert_ptr_null(json_object_get(json_object_get(j, "payload"), "class"));
    json_decref(j);
}
END_TEST

START_TEST(test_test_notification_is_marked)
{
    json_t *j;

    trigger();
    note.test = 1;
    note.incident_id = 0;
    j = event();
    ck_assert_str_eq(payload_str(j, "summary"), "[TEST] Disk 97% full on db1");
    /* incident 0 has no page */
    ck_assert_ptr_null(json_object_get(j, "client_url"));
    ck_assert_uint_eq(json_array_size(json_object_get(j, "links")), 3);
    json_decref(j);
}
END_TEST

START_TEST(test_no_external_url_no_incident_link)
{
    json_t *j;

    trigger();
    note.external_url = "";
    j = event();
    ck_assert_ptr_null(json_object_get(j, "client_url"));
    ck_assert_str_eq(json_string_value(json_object_get(j, "client")), "tocsin");
    ck_assert_uint_eq(json_array_size(json_object_get(j, "links")), 3);
    json_decref(j);
    note.external_url = NULL;
    j = event();
    ck_assert_ptr_null(json_object_get(j, "client_url"));
    json_decref(j);
}
END_TEST

START_TEST(test_source_and_summary_fall_back)
{
    json_t *j;

    trigger();
    alert.labels = labels; /* alertname only: no instance */
    alert.n_labels = 1;
    alert.summary = "";
    j = event();
    ck_assert_str_eq(payload_str(j, "source"), "node"); /* the service */
    ck_assert_str_eq(payload_str(j, "summary"), "DiskFull");
    json_decref(j);
    alert.service = NULL;
    alert.n_labels = 0;
    alert.summary = NULL;
    j = event();
    ck_assert_str_eq(payload_str(j, "source"), "prom"); /* the alert's source */
    ck_assert_str_eq(payload_str(j, "summary"), "prom/DiskFull/db1");
    json_decref(j);
    alert.source = NULL;
    alert.started_at = 0;
    j = event();
    ck_assert_str_eq(payload_str(j, "source"), "tocsin");
    ck_assert_str_eq(payload_str(j, "timestamp"), "2026-11-23T03:12:46.000Z"); /* first_seen */
    json_decref(j);
}
END_TEST

START_TEST(test_annotation_named_like_a_label_is_kept)
{
    struct tocsin_kv ann[] = { { "severity", "sev1" }, { "details", "from an annotation" } };
    json_t *j, *cd;

    trigger();
    alert.annotations = ann;
    alert.n_annotations = 2;
    j = event();
    cd = json_object_get(json_object_get(j, "payload"), "custom_details");
    ck_assert_str_eq(json_string_value(json_object_get(cd, "severity")), "critical");
    ck_assert_str_eq(json_string_value(json_object_get(cd, "annotation:severity")), "sev1");
    /* an annotation "details" wins over the alert's details text */
    ck_assert_str_eq(json_string_value(json_object_get(cd, "details")), "from an annotation");
    json_decref(j);
}
END_TEST

/* n copies of s, malloc()ed. */

START_TEST(test_summary_cut_to_1024_between_characters)
{
    char *fits = repeat("\xe2\x82\xac", 1024), *over = repeat("\xe2\x82\xac", 1025);
    char *want = repeat("\xe2\x82\xac", 1023), *w;
    json_t *j;

    trigger();
    alert.summary = fits;
    j = event();
    ck_assert_str_eq(payload_str(j, "summary"), fits);
    json_decref(j);
    alert.summary = over;
    j = event();
    w = malloc(strlen(want) + 4);
    sprintf(w, "%s" ELL, want);
    ck_assert_str_eq(payload_str(j, "summary"), w);
    json_decref(j);
    /* [TEST] counts too */
    alert.summary = fits;
    note.test = 1;
    j = event();
    ck_assert_int_eq(strncmp(payload_str(j, "summary"), "[TEST] \xe2\x82\xac", 10), 0);
    ck_assert_uint_eq(strlen(payload_str(j, "summary")), 7 + 1016 * 3 + 3);
    json_decref(j);
    free(fits);
    free(over);
    free(want);
    free(w);
}
END_TEST

START_TEST(test_dedup_key_fits_255_and_defaults_to_fingerprint)
{
    char *k = repeat("k", 300);
    const char *got;
    json_t *j;

    trigger();
    alert.dedup_key = k;
    j = event();
    got = json_string_value(json_object_get(j, "dedup_key"));
    ck_assert_uint_eq(strlen(got), 255);
    ck_assert_int_eq(strncmp(got, k, 238), 0);
    json_decref(j);
    free(k);
    alert.dedup_key = "";
    alert.n_labels = 0;
    j = event();
    /* FNV-1a 64 offset basis: the fingerprint of no labels */
    ck_assert_str_eq(json_string_value(json_object_get(j, "dedup_key")), "cbf29ce484222325");
    json_decref(j);
}
END_TEST

START_TEST(test_huge_annotations_are_left_out)
{
    char *big = repeat("x", 600 * 1024), *text;
    struct tocsin_kv ann[] = { { "dump", big } };
    json_t *j, *cd;

    trigger();
    alert.annotations = ann;
    alert.n_annotations = 1;
    text = pd_format_event(&ev, &note);
    ck_assert_ptr_nonnull(text);
    ck_assert_uint_le(strlen(text), PD_EVENT_MAX);
    j = parse_owned(text);
    cd = json_object_get(json_object_get(j, "payload"), "custom_details");
    ck_assert_ptr_null(json_object_get(cd, "dump"));
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(cd, "tocsin")), "512 KB"));
    ck_assert_str_eq(payload_str(j, "summary"), "Disk 97% full on db1");
    json_decref(j);
    free(big);
}
END_TEST

START_TEST(test_text_that_is_not_utf8_still_goes)
{
    json_t *j;

    trigger();
    alert.summary = "bad \xff byte";
    j = event();
    ck_assert_str_eq(payload_str(j, "summary"), "bad \xef\xbf\xbd byte");
    json_decref(j);
}
END_TEST

START_TEST(test_refusal_reasons)
{
    char r[240];

    pd_refusal(400, "{\"status\":\"invalid event\",\"message\":\"Event object is invalid\","
                    "\"errors\":[\"'payload.summary' is missing\",\"'payload.source' is missing\"]}",
               r, sizeof r);
    ck_assert_str_eq(r, "HTTP 400: Event object is invalid: 'payload.summary' is missing; "
                        "'payload.source' is missing");
    pd_refusal(403, "<html>Forbidden</html>", r, sizeof r);
    ck_assert_str_eq(r, "HTTP 403: <html>Forbidden</html>");
    pd_refusal(404, "", r, sizeof r);
    ck_assert_str_eq(r, "HTTP 404");
    pd_refusal(400, "{\"message\":\"Invalid routing key\"}", r, sizeof r);
    ck_assert_str_eq(r, "HTTP 400: Invalid routing key");
    /* Cut between characters when long. */
    pd_refusal(400, "{\"message\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}", r, 16);
    ck_assert_str_eq(r, "HTTP 400: \xc3\xa9\xc3\xa9");
}
END_TEST

START_TEST(test_answer_dedup_key)
{
    trigger();
    ck_assert(pd_answer_matches("{\"status\":\"success\",\"dedup_key\":\"prom/DiskFull/db1\"}",
                                &note));
    ck_assert(pd_answer_matches("{\"status\":\"success\"}", &note));
    ck_assert(pd_answer_matches("not json", &note));
    ck_assert(!pd_answer_matches("{\"dedup_key\":\"other\"}", &note));
}
END_TEST

/* ---- pagerduty.c through a fake host -------------------------------------- */

static struct fake_host fh;
static void *conf, *self;
static struct tocsin_kv sev_items[2];

static void *field(const char *name)
{
    return plugin_field(conf, name);
}

static void plugin_setup(void)
{
    trigger();
    fake_host_init(&fh, "pd", 0);
    self = NULL;
    /* What the core fills: the required key and the defaults. */
    conf = calloc(1, tocsin_plugin.conf_size);
    *(const char **)field("routing_key") = KEY;
    *(const char **)field("events_url") = plugin_option("events_url")->def;
    *(int64_t *)field("timeout") = 5000;
}

static void plugin_teardown(void)
{
    if (self)
        tocsin_plugin.destroy(self);
    fake_host_release(&fh);
    free(conf);
    /* The key never reaches a log line or an error message. */
    ck_assert_ptr_null(strstr(fh.logs, "0123456789ABCDEF"));
    ck_assert_ptr_null(strstr(fh.failed, "0123456789ABCDEF"));
}

static void expect_refused(const char *why)
{
    ck_assert_int_ne(tocsin_plugin.create(&fh.host, conf, &self), TOCSIN_OK);
    ck_assert_ptr_null(self);
    ck_assert_msg(strstr(fh.failed, why), "create failed with \"%s\", expected \"%s\"",
                  fh.failed, why);
}

START_TEST(test_option_table)
{
    const struct tocsin_option *o;

    ck_assert_str_eq(tocsin_plugin.name, "pagerduty");
    ck_assert_int_eq(tocsin_plugin.kind, TOCSIN_SINK);
    ck_assert_ptr_nonnull(tocsin_plugin.deliver_sized);
    o = plugin_option("routing_key");
    ck_assert_int_eq(o->type, TOCSIN_OPT_STRING);
    ck_assert_uint_eq(o->flags, TOCSIN_OPT_REQUIRED | TOCSIN_OPT_SECRET);
    o = plugin_option("events_url");
    ck_assert_str_eq(o->def, "https://events.pagerduty.com");
    o = plugin_option("timeout");
    ck_assert_int_eq(o->type, TOCSIN_OPT_DURATION);
    ck_assert_str_eq(o->def, "5s");
    ck_assert_int_eq(plugin_option("component")->type, TOCSIN_OPT_STRING);
    ck_assert_int_eq(plugin_option("group")->type, TOCSIN_OPT_STRING);
    ck_assert_int_eq(plugin_option("class")->type, TOCSIN_OPT_STRING);
    ck_assert_int_eq(plugin_option("severity_map")->type, TOCSIN_OPT_MAP);
}
END_TEST

START_TEST(test_create_refuses_bad_options)
{
    *(const char **)field("routing_key") = "R0123456789ABCDEF0123456789ABCD";
    expect_refused("routing_key must be the 32-character integration key");
    ck_assert_ptr_nonnull(strstr(fh.failed, "31 characters"));
    *(const char **)field("routing_key") = "R0123456789ABCDEF0123456789ABCD ";
    expect_refused("routing_key must be letters and digits only; character 32");
    *(const char **)field("routing_key") = KEY;
    *(const char **)field("events_url") = "events.pagerduty.com";
    expect_refused("events_url must be an http:// or https:// base URL");
    *(const char **)field("events_url") = "https://events.pagerduty.com?x=1";
    expect_refused("events_url");
    *(const char **)field("events_url") = "https://events.pagerduty.com";
    *(int64_t *)field("timeout") = -1;
    expect_refused("timeout must not be negative");
    *(int64_t *)field("timeout") = 5000;
    *(const char **)field("group") = "";
    expect_refused("group must name a label");
    *(const char **)field("group") = NULL;
    sev_items[0].key = "urgent";
    sev_items[0].value = "critical";
    ((struct tocsin_map *)field("severity_map"))->n = 1;
    ((struct tocsin_map *)field("severity_map"))->items = sev_items;
    expect_refused("severity_map: \"urgent\" is not a tocsin severity");
    sev_items[0].key = "high";
    sev_items[0].value = "P1";
    expect_refused("severity_map: high = \"P1\" is not a PagerDuty severity");
}
END_TEST

START_TEST(test_create_needs_abi_1_1)
{
    fh.host.size = (uint32_t)offsetof(struct tocsin_host, emit_sized);
    ck_assert_int_eq(tocsin_plugin.create(&fh.host, conf, &self), TOCSIN_ENOTSUP);
    ck_assert_ptr_nonnull(strstr(fh.failed, "needs tocsin plugin ABI 1.1"));
}
END_TEST

START_TEST(test_delivery_request)
{
    struct tocsin_verdict v;
    const struct fake_call *c;
    json_t *j;

    *(const char **)field("events_url") = "http://127.0.0.1:8080//";
    sev_items[0].key = "CRITICAL";
    sev_items[0].value = "error";
    ((struct tocsin_map *)field("severity_map"))->n = 1;
    ((struct tocsin_map *)field("severity_map"))->items = sev_items;
    ck_assert_int_eq(tocsin_plugin.create(&fh.host, conf, &self), TOCSIN_OK);
    fh.body = "{\"status\":\"success\",\"message\":\"Event processed\","
              "\"dedup_key\":\"prom/DiskFull/db1\"}";
    v = plugin_deliver(self, &note);
    ck_assert_int_eq(v.kind, TOCSIN_DONE);
    c = fake_host_last_call(&fh);
    ck_assert_str_eq(c->method, "POST");
    ck_assert_str_eq(c->url, "http://127.0.0.1:8080/v2/enqueue");
    ck_assert_int_eq(c->timeout_ms, 5000);
    ck_assert(fake_host_has_header(&fh, "Content-Type: application/json"));
    ck_assert_int_eq(fh.frees, 1);
    j = parse_owned(strdup(c->body));
    ck_assert_str_eq(payload_str(j, "severity"), "error");
    ck_assert_str_eq(json_string_value(json_object_get(j, "routing_key")), KEY);
    json_decref(j);
    ck_assert_ptr_null(strstr(fh.logs, "another dedup_key"));

    fh.body = "{\"status\":\"success\",\"dedup_key\":\"not-ours\"}";
    v = plugin_deliver(self, &note);
    ck_assert_int_eq(v.kind, TOCSIN_DONE);
    ck_assert_ptr_nonnull(strstr(fh.logs, "another dedup_key"));
}
END_TEST

START_TEST(test_verdicts)
{
    struct tocsin_verdict v;

    ck_assert_int_eq(tocsin_plugin.create(&fh.host, conf, &self), TOCSIN_OK);
    fh.status = 400;
    fh.body = "{\"status\":\"invalid event\",\"message\":\"Event object is invalid\","
              "\"errors\":[\"'payload.severity' is invalid\"]}";
    v = plugin_deliver(self, &note);
    ck_assert_int_eq(v.kind, TOCSIN_FAILED);
    ck_assert_str_eq(v.reason, "HTTP 400: Event object is invalid: 'payload.severity' is invalid");

    /* A provider quoting the key back: the key stays out of the reason. */
    fh.body = "{\"message\":\"Unknown routing key " KEY "\"}";
    v = plugin_deliver(self, &note);
    ck_assert_int_eq(v.kind, TOCSIN_FAILED);
    ck_assert_str_eq(v.reason, "HTTP 400: Unknown routing key (routing_key)");

    fh.status = 404;
    fh.body = "";
    ck_assert_int_eq(plugin_deliver(self, &note).kind, TOCSIN_FAILED);

    fh.status = 429;
    fh.body = "{\"status\":\"throttle exceeded\"}";
    v = plugin_deliver(self, &note);
    ck_assert_int_eq(v.kind, TOCSIN_RETRY);
    ck_assert_int_eq(v.retry_after, 0);
    fh.retry_after = 7;
    v = plugin_deliver(self, &note);
    ck_assert_int_eq(v.kind, TOCSIN_RETRY);
    ck_assert_int_eq(v.retry_after, 7);
    fh.retry_after = -1;

    fh.status = 503;
    ck_assert_int_eq(plugin_deliver(self, &note).kind, TOCSIN_RETRY);
    fh.status = 408;
    ck_assert_int_eq(plugin_deliver(self, &note).kind, TOCSIN_RETRY);
    fh.status = 0;
    fh.error = "Connection refused";
    v = plugin_deliver(self, &note);
    ck_assert_int_eq(v.kind, TOCSIN_RETRY);
    ck_assert_str_eq(v.reason, "Connection refused");
    ck_assert_int_eq(fh.frees, fh.n_calls);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pagerduty format");
    TCase *tc = tcase_create("format"), *tp = tcase_create("plugin");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_trigger_matches_fixture);
    tcase_add_test(tc, test_follow_ups_carry_only_the_key);
    tcase_add_test(tc, test_severities_default_and_overridden);
    tcase_add_test(tc, test_component_group_class_from_labels);
    tcase_add_test(tc, test_test_notification_is_marked);
    tcase_add_test(tc, test_no_external_url_no_incident_link);
    tcase_add_test(tc, test_source_and_summary_fall_back);
    tcase_add_test(tc, test_annotation_named_like_a_label_is_kept);
    tcase_add_test(tc, test_summary_cut_to_1024_between_characters);
    tcase_add_test(tc, test_dedup_key_fits_255_and_defaults_to_fingerprint);
    tcase_add_test(tc, test_huge_annotations_are_left_out);
    tcase_add_test(tc, test_text_that_is_not_utf8_still_goes);
    tcase_add_test(tc, test_refusal_reasons);
    tcase_add_test(tc, test_answer_dedup_key);
    suite_add_tcase(s, tc);
    tcase_add_checked_fixture(tp, plugin_setup, plugin_teardown);
    tcase_add_test(tp, test_option_table);
    tcase_add_test(tp, test_create_refuses_bad_options);
    tcase_add_test(tp, test_create_needs_abi_1_1);
    tcase_add_test(tp, test_delivery_request);
    tcase_add_test(tp, test_verdicts);
    suite_add_tcase(s, tp);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
