/* test_opsgenie_format.c: the opsgenie sink's requests (format.c) against a
 * fixture and the formats page, and its options, requests and verdicts
 * through a fake host (opsgenie.c). */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tocsin/plugin.h>

#include "common.h"
#include "fake_host.h"
#include "format.h"
#include "helpers.h"

extern const struct tocsin_plugin tocsin_plugin;

#define API_KEY "3f0c9a52-6b1d-4e8f-a7c2-9d15e0b4c8aa"
#define ELL "\xe2\x80\xa6"
#define PAGE "http://tocsin.example:9099/api/v1/incidents/12"

static struct tocsin_kv labels[] = {
    { "alertname", "DiskFull" }, { "instance", "db1" }, { "service", "database" },
};
static struct tocsin_kv annotations[] = {
    { "description", "Filesystem /var on db1 is 97% full." },
    { "runbook_url", "https://runbooks.example/disk-full" },
};
static const struct tocsin_kv links[] = {
    { "generator", "http://prom.example:9090/graph?g0.expr=disk_used_percent+%3E+95" },
    { "Dashboard", "http://grafana.example/d/disk" },
};
static const struct og_responder responders[] = {
    { "team", "name", "platform" }, { "user", "username", "alice@example.com" },
};
static const char *const tags_from[] = { "service", "nosuch", "alertname" };

static struct tocsin_alert alert;
static struct tocsin_notification note;
static struct og_conf oc;
static struct og_request req;

static void trigger(void)
{
    disk_full_trigger(&alert, &note, "og");
    alert.dedup_key = "prom/DiskFull/db1";
    alert.source = "prom";
    alert.service = "database";
    alert.labels = labels;
    alert.n_labels = 3;
    alert.annotations = annotations;
    alert.n_annotations = 2;
    alert.links = links;
    alert.n_links = 2;
    note.external_url = "http://tocsin.example:9099";
    memset(&oc, 0, sizeof oc);
    oc.responders = responders;
    oc.n_responders = 2;
    oc.tags_from = tags_from;
    oc.n_tags_from = 3;
    memcpy(oc.priority, og_default_priority, sizeof oc.priority);
}

static json_t *request(void)
{
    json_error_t e;
    json_t *j;

    og_request_free(&req);
    ck_assert_int_eq(og_format(&oc, &note, &req), 0);
    j = json_loads(req.body, 0, &e);
    ck_assert_msg(j != NULL, "not JSON (%s): %s", e.text, req.body);
    return j;
}

static void teardown(void)
{
    og_request_free(&req);
}

static const char *jstr(json_t *j, const char *key)
{
    return json_string_value(json_object_get(j, key));
}

static void expect_equal(json_t *got, json_t *want)
{
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_INDENT(2) | JSON_SORT_KEYS);
        char *w = json_dumps(want, JSON_INDENT(2) | JSON_SORT_KEYS);

        ck_abort_msg("request differs:\ngot %s\nwant %s", g, w);
    }
    json_decref(want);
}

static json_t *fixture(const char *name)
{
    return fixture_json("opsgenie", name);
}

/* ---- format.c ------------------------------------------------------------ */

START_TEST(test_create_matches_fixture)
{
    json_t *j;

    trigger();
    j = request();
    ck_assert_str_eq(req.path, "/v2/alerts");
    expect_equal(j, fixture("create.json"));
    json_decref(j);
}
END_TEST

START_TEST(test_acknowledge_and_close_by_alias)
{
    json_t *j;

    trigger();
    note.action = TOCSIN_ACT_ACKNOWLEDGE;
    note.actor = "alice";
    note.note = "ignored for an acknowledge";
    j = request();
    ck_assert_str_eq(req.path, "/v2/alerts/prom%2FDiskFull%2Fdb1/acknowledge?identifierType=alias");
    expect_equal(j, json_pack("{s:s, s:s, s:s}", "user", "alice", "source", "tocsin", "note",
                              "Acknowledged in tocsin by alice.\n" PAGE));
    json_decref(j);

    note.action = TOCSIN_ACT_RESOLVE;
    note.actor = "bob";
    note.note = "freed /var/log";
    j = request();
    ck_assert_str_eq(req.path, "/v2/alerts/prom%2FDiskFull%2Fdb1/close?identifierType=alias");
    expect_equal(j, json_pack("{s:s, s:s, s:s}", "user", "bob", "source", "tocsin", "note",
                              "Resolved in tocsin by bob: freed /var/log\n" PAGE));
    json_decref(j);
}
END_TEST

START_TEST(test_close_notes_without_a_person)
{
    json_t *j;

    /* Expired: no actor, the core's note. */
    trigger();
    note.action = TOCSIN_ACT_RESOLVE;
    note.note = "expired: the alert was not refreshed before 2026-11-23T03:19:00.000Z";
    note.external_url = "";
    j = request();
    ck_assert_str_eq(jstr(j, "user"), "tocsin");
    ck_assert_str_eq(jstr(j, "note"), "Resolved in tocsin: expired: the alert was not "
                                      "refreshed before 2026-11-23T03:19:00.000Z");
    json_decref(j);
    /* Resolved by its source: the input as the actor, no note. */
    note.actor = "prom";
    note.note = NULL;
    j = request();
    ck_assert_str_eq(jstr(j, "user"), "prom");
    ck_assert_str_eq(jstr(j, "note"), "Resolved in tocsin by prom.");
    json_decref(j);
}
END_TEST

START_TEST(test_test_notifications_are_marked)
{
    json_t *j;

    trigger();
    note.test = 1;
    note.incident_id = 0;
    j = request();
    ck_assert_str_eq(jstr(j, "message"), "[TEST] Disk 97% full on db1");
    ck_assert_ptr_null(strstr(jstr(j, "description"), "Incident:")); /* incident 0: no page */
    json_decref(j);
    note.action = TOCSIN_ACT_RESOLVE;
    j = request();
    ck_assert_str_eq(jstr(j, "note"), "[TEST] Resolved in tocsin.");
    json_decref(j);
}
END_TEST

START_TEST(test_priorities_default_and_overridden)
{
    static const char *const want[] = { "P1", "P2", "P3", "P4", "P5" };
    json_t *j;
    int s;

    for (s = 0; s < 5; s++) {
        trigger();
        alert.severity = (enum tocsin_severity)s;
        j = request();
        ck_assert_str_eq(jstr(j, "priority"), want[s]);
        json_decref(j);
    }
    trigger();
    oc.priority[TOCSIN_SEV_CRITICAL] = "P2";
    j = request();
    ck_assert_str_eq(jstr(j, "priority"), "P2");
    json_decref(j);
    ck_assert_str_eq(og_priority_name("p3"), "P3");
    ck_assert_ptr_null(og_priority_name("P0"));
    ck_assert_ptr_null(og_priority_name("P6"));
}
END_TEST

START_TEST(test_message_cut_to_130_between_characters)
{
    char *fits = repeat("\xe2\x82\xac", 130), *over, *want;
    json_t *j;

    trigger();
    alert.summary = fits;
    j = request();
    ck_assert_str_eq(jstr(j, "message"), fits);
    json_decref(j);
    /* 129 units and an emoji (two): the emoji goes whole. */
    over = malloc(129 * 3 + 5);
    sprintf(over, "%.*s\xf0\x9f\x94\xa5", 129 * 3, fits);
    alert.summary = over;
    j = request();
    want = malloc(129 * 3 + 4);
    sprintf(want, "%.*s" ELL, 129 * 3, fits);
    ck_assert_str_eq(jstr(j, "message"), want);
    json_decref(j);
    /* Empty summary: the alertname. */
    alert.summary = "";
    j = request();
    ck_assert_str_eq(jstr(j, "message"), "DiskFull");
    json_decref(j);
    free(fits);
    free(over);
    free(want);
}
END_TEST

START_TEST(test_alias_fits_512_and_stays_the_same)
{
    char *k = repeat("x/", 300), *first;
    json_t *j;

    trigger();
    alert.dedup_key = k;
    j = request();
    first = strdup(jstr(j, "alias"));
    ck_assert_uint_eq(strlen(first), 512);
    json_decref(j);
    note.action = TOCSIN_ACT_RESOLVE;
    j = request();
    json_decref(j);
    /* The close path names that very alias, escaped. */
    ck_assert_int_eq(strncmp(req.path, "/v2/alerts/x%2Fx%2F", 19), 0);
    ck_assert_ptr_nonnull(strstr(req.path, first + 495)); /* "~hash" is unreserved */
    free(first);
    free(k);
}
END_TEST

START_TEST(test_details_fit_8000)
{
    static struct tocsin_kv many[40];
    char *big = repeat("v", 400);
    const char *key;
    json_t *j, *d, *v;
    size_t i, total = 0;
    char names[40][8];

    trigger();
    for (i = 0; i < 40; i++) {
        snprintf(names[i], sizeof names[i], "k%02zu", i);
        many[i].key = names[i];
        many[i].value = big;
    }
    alert.labels = many;
    alert.n_labels = 40;
    alert.annotations = NULL;
    alert.n_annotations = 0;
    oc.n_tags_from = 0;
    j = request();
    d = json_object_get(j, "details");
    json_object_foreach(d, key, v)
        total += tc_text_units(key) + tc_text_units(json_string_value(v));
    ck_assert_uint_le(total, OG_DETAILS_MAX);
    ck_assert_uint_ge(total, OG_DETAILS_MAX - 3);
    /* 19 whole, the 20th cut with "…" (3 + 400 each: 19 * 403 = 7657). */
    ck_assert_str_eq(jstr(d, "k18"), big);
    ck_assert_ptr_nonnull(strstr(jstr(d, "k19"), ELL));
    ck_assert_ptr_null(json_object_get(d, "k20"));
    json_decref(j);
    free(big);
}
END_TEST

START_TEST(test_description_keeps_links_whole)
{
    char *long_details = repeat("d", 20000);
    const char *desc;
    json_t *j;

    trigger();
    alert.details = long_details;
    j = request();
    desc = jstr(j, "description");
    ck_assert_uint_eq(tc_text_units(desc), OG_DESCRIPTION_MAX);
    ck_assert_ptr_nonnull(strstr(desc, ELL "\n\nRunbook: https://runbooks.example/disk-full\n"));
    ck_assert_ptr_nonnull(strstr(desc, "\nIncident: " PAGE));
    ck_assert_str_eq(desc + strlen(desc) - strlen(PAGE), PAGE);
    json_decref(j);
    /* Nothing but links. */
    alert.details = NULL;
    alert.annotations = NULL;
    alert.n_annotations = 0;
    alert.n_links = 0;
    j = request();
    ck_assert_str_eq(jstr(j, "description"), "Incident: " PAGE);
    json_decref(j);
    /* Nothing at all. */
    note.external_url = NULL;
    j = request();
    ck_assert_ptr_null(json_object_get(j, "description"));
    json_decref(j);
    free(long_details);
}
END_TEST

START_TEST(test_tags_entity_and_collisions)
{
    char *long_value = repeat("t", 80);
    struct tocsin_kv lb[] = { { "service", long_value }, { "severity", "critical" } };
    struct tocsin_kv ann[] = { { "severity", "sev1" } };
    const char *const from[] = { "service", "severity" };
    json_t *j, *tags;

    trigger();
    alert.labels = lb;
    alert.n_labels = 2;
    alert.annotations = ann;
    alert.n_annotations = 1;
    oc.tags_from = from;
    oc.n_tags_from = 2;
    j = request();
    tags = json_object_get(j, "tags");
    ck_assert_uint_eq(json_array_size(tags), 2);
    ck_assert_uint_eq(tc_text_units(json_string_value(json_array_get(tags, 0))), OG_TAG_MAX);
    ck_assert_int_eq(strncmp(json_string_value(json_array_get(tags, 0)), "service:ttt", 11), 0);
    ck_assert_str_eq(json_string_value(json_array_get(tags, 1)), "severity:critical");
    ck_assert_str_eq(jstr(json_object_get(j, "details"), "annotation:severity"), "sev1");
    ck_assert_str_eq(jstr(j, "entity"), "database"); /* no instance label: the service */
    json_decref(j);
    alert.service = NULL;
    oc.n_responders = 0;
    oc.n_tags_from = 0;
    j = request();
    ck_assert_ptr_null(json_object_get(j, "entity"));
    ck_assert_ptr_null(json_object_get(j, "responders"));
    ck_assert_ptr_null(json_object_get(j, "tags"));
    json_decref(j);
    free(long_value);
}
END_TEST

START_TEST(test_responder_specs)
{
    struct og_responder r;
    char err[200];

    ck_assert_int_eq(og_responder_parse("team:platform", &r, err, sizeof err), 0);
    ck_assert_str_eq(r.type, "team");
    ck_assert_str_eq(r.key, "name");
    ck_assert_str_eq(r.value, "platform");
    ck_assert_int_eq(og_responder_parse("user:alice@example.com", &r, err, sizeof err), 0);
    ck_assert_str_eq(r.key, "username");
    ck_assert_int_eq(og_responder_parse("escalation:db esc", &r, err, sizeof err), 0);
    ck_assert_str_eq(r.value, "db esc");
    ck_assert_int_eq(og_responder_parse("schedule:oncall", &r, err, sizeof err), 0);
    ck_assert_int_eq(og_responder_parse("team:", &r, err, sizeof err), -1);
    ck_assert_str_eq(err, "\"team:\" names no team");
    ck_assert_int_eq(og_responder_parse("user:alice", &r, err, sizeof err), -1);
    ck_assert_int_eq(og_responder_parse("user:@x", &r, err, sizeof err), -1);
    ck_assert_int_eq(og_responder_parse("group:x", &r, err, sizeof err), -1);
    ck_assert_str_eq(err, "\"group:x\" must be team:NAME, user:EMAIL, escalation:NAME or "
                          "schedule:NAME");
}
END_TEST

START_TEST(test_refusal_reasons)
{
    char r[240];

    og_refusal(400, "{\"message\":\"Request body is not processable. Please check the errors.\","
                    "\"errors\":{\"message\":\"Message can not be empty.\"},\"took\":0.002,"
                    "\"requestId\":\"x\"}", r, sizeof r);
    ck_assert_str_eq(r, "HTTP 400: Request body is not processable. Please check the errors.: "
                        "message: Message can not be empty.");
    og_refusal(422, "{\"message\":\"Alert is already closed\",\"took\":0.1}", r, sizeof r);
    ck_assert_str_eq(r, "HTTP 422: Alert is already closed");
    og_refusal(403, "{\"errors\":[\"no access\",\"really\"]}", r, sizeof r);
    ck_assert_str_eq(r, "HTTP 403: no access; really");
    og_refusal(401, "Unauthorized", r, sizeof r);
    ck_assert_str_eq(r, "HTTP 401: Unauthorized");
    og_refusal(409, NULL, r, sizeof r);
    ck_assert_str_eq(r, "HTTP 409");
}
END_TEST

/* ---- opsgenie.c through a fake host -------------------------------------- */

static struct fake_host fh;
static void *conf, *self;
static const char *list[64];
static struct tocsin_kv map_items[2];

static void *field(const char *name)
{
    return plugin_field(conf, name);
}

static void set_list(const char *name, size_t n)
{
    struct tocsin_strlist *l = field(name);

    l->n = n;
    l->items = list;
}

static void plugin_setup(void)
{
    trigger();
    fake_host_init(&fh, "og", 0);
    self = NULL;
    conf = calloc(1, tocsin_plugin.conf_size);
    *(const char **)field("api_key") = API_KEY;
    *(int64_t *)field("timeout") = 5000;
}

static void plugin_teardown(void)
{
    if (self)
        tocsin_plugin.destroy(self);
    fake_host_release(&fh);
    free(conf);
    og_request_free(&req);
    ck_assert_ptr_null(strstr(fh.logs, API_KEY));
    ck_assert_ptr_null(strstr(fh.failed, API_KEY));
}

static void expect_refused(const char *why)
{
    ck_assert_int_ne(tocsin_plugin.create(&fh.host, conf, &self), TOCSIN_OK);
    ck_assert_ptr_null(self);
    ck_assert_msg(strstr(fh.failed, why), "create failed with \"%s\", expected \"%s\"",
                  fh.failed, why);
}

static void created(void)
{
    ck_assert_msg(tocsin_plugin.create(&fh.host, conf, &self) == TOCSIN_OK, "create: %s",
                  fh.failed);
}

START_TEST(test_option_table)
{
    const struct tocsin_option *o;

    ck_assert_str_eq(tocsin_plugin.name, "opsgenie");
    ck_assert_int_eq(tocsin_plugin.kind, TOCSIN_SINK);
    o = plugin_option("api_key");
    ck_assert_uint_eq(o->flags, TOCSIN_OPT_REQUIRED | TOCSIN_OPT_SECRET);
    ck_assert_int_eq(plugin_option("region")->type, TOCSIN_OPT_STRING);
    ck_assert_int_eq(plugin_option("api_url")->type, TOCSIN_OPT_STRING);
    ck_assert_int_eq(plugin_option("responders")->type, TOCSIN_OPT_STRLIST);
    ck_assert_int_eq(plugin_option("tags_from")->type, TOCSIN_OPT_STRLIST);
    ck_assert_int_eq(plugin_option("severity_map")->type, TOCSIN_OPT_MAP);
    ck_assert_str_eq(plugin_option("timeout")->def, "5s");
}
END_TEST

START_TEST(test_create_refuses_bad_options)
{
    size_t i;

    *(const char **)field("api_key") = "";
    expect_refused("api_key must not be empty");
    *(const char **)field("api_key") = "abc def";
    expect_refused("api_key must be printable ASCII without spaces; character 4");
    *(const char **)field("api_key") = "abc\r\nX-Evil: 1";
    expect_refused("api_key must be printable ASCII");
    *(const char **)field("api_key") = API_KEY;
    *(const char **)field("region") = "eu";
    *(const char **)field("api_url") = "https://api.example";
    expect_refused("set region or api_url, not both");
    *(const char **)field("api_url") = NULL;
    *(const char **)field("region") = "apac";
    expect_refused("region must be \"us\" or \"eu\", not \"apac\"");
    *(const char **)field("region") = NULL;
    *(const char **)field("api_url") = "api.opsgenie.com";
    expect_refused("api_url must be an http:// or https:// base URL");
    *(const char **)field("api_url") = NULL;
    list[0] = "team:a";
    list[1] = "teams:b";
    set_list("responders", 2);
    expect_refused("responders item 2: \"teams:b\" must be team:NAME");
    for (i = 0; i < 51; i++)
        list[i] = "team:a";
    set_list("responders", 51);
    expect_refused("responders: 51 given, Opsgenie takes at most 50");
    set_list("responders", 0);
    set_list("tags_from", 21);
    expect_refused("tags_from: 21 labels given");
    list[0] = "";
    set_list("tags_from", 1);
    expect_refused("tags_from item 1 must name a label");
    set_list("tags_from", 0);
    map_items[0].key = "critical";
    map_items[0].value = "high";
    ((struct tocsin_map *)field("severity_map"))->n = 1;
    ((struct tocsin_map *)field("severity_map"))->items = map_items;
    expect_refused("severity_map: critical = \"high\" is not an Opsgenie priority (P1 to P5)");
    map_items[0].key = "sev1";
    expect_refused("severity_map: \"sev1\" is not a tocsin severity");
    ((struct tocsin_map *)field("severity_map"))->n = 0;
    *(int64_t *)field("timeout") = -5;
    expect_refused("timeout must not be negative");
}
END_TEST

START_TEST(test_create_needs_abi_1_1)
{
    fh.host.size = (uint32_t)offsetof(struct tocsin_host, emit_sized);
    ck_assert_int_eq(tocsin_plugin.create(&fh.host, conf, &self), TOCSIN_ENOTSUP);
}
END_TEST

START_TEST(test_urls_by_region_and_api_url)
{
    created();
    ck_assert_int_eq(plugin_deliver(self, &note).kind, TOCSIN_DONE);
    ck_assert_str_eq(fake_host_last_call(&fh)->url, "https://api.opsgenie.com/v2/alerts");
    ck_assert(fake_host_has_header(&fh, "Authorization: GenieKey " API_KEY));
    ck_assert(fake_host_has_header(&fh, "Content-Type: application/json"));
    ck_assert_int_eq(fake_host_last_call(&fh)->timeout_ms, 5000);
    tocsin_plugin.destroy(self);
    self = NULL;

    *(const char **)field("region") = "EU";
    created();
    note.action = TOCSIN_ACT_ACKNOWLEDGE;
    plugin_deliver(self, &note);
    ck_assert_str_eq(fake_host_last_call(&fh)->url, "https://api.eu.opsgenie.com/v2/alerts/"
                                               "prom%2FDiskFull%2Fdb1/acknowledge?identifierType=alias");
    tocsin_plugin.destroy(self);
    self = NULL;

    *(const char **)field("region") = NULL;
    *(const char **)field("api_url") = "http://127.0.0.1:9/jsm/";
    created();
    note.action = TOCSIN_ACT_RESOLVE;
    plugin_deliver(self, &note);
    ck_assert_str_eq(fake_host_last_call(&fh)->url, "http://127.0.0.1:9/jsm/v2/alerts/"
                                               "prom%2FDiskFull%2Fdb1/close?identifierType=alias");
    ck_assert_int_eq(fh.frees, fh.n_calls);
}
END_TEST

START_TEST(test_verdicts)
{
    struct tocsin_verdict v;

    created();
    fh.status = 422;
    fh.body = "{\"message\":\"Request could not be processed\",\"took\":0.1}";
    v = plugin_deliver(self, &note);
    ck_assert_int_eq(v.kind, TOCSIN_FAILED);
    ck_assert_str_eq(v.reason, "HTTP 422: Request could not be processed");

    fh.status = 401;
    fh.body = "{\"message\":\"Key " API_KEY " is not valid\"}";
    v = plugin_deliver(self, &note);
    ck_assert_int_eq(v.kind, TOCSIN_FAILED);
    ck_assert_str_eq(v.reason, "HTTP 401: Key (api_key) is not valid");

    /* 404: a create is refused; an acknowledge or close has nothing to do. */
    fh.status = 404;
    fh.body = "{\"message\":\"Alert does not exist\"}";
    ck_assert_int_eq(plugin_deliver(self, &note).kind, TOCSIN_FAILED);
    note.action = TOCSIN_ACT_RESOLVE;
    v = plugin_deliver(self, &note);
    ck_assert_int_eq(v.kind, TOCSIN_DONE);
    ck_assert_ptr_nonnull(strstr(fh.logs, "Opsgenie has no alert to close (HTTP 404)"));
    note.action = TOCSIN_ACT_ACKNOWLEDGE;
    ck_assert_int_eq(plugin_deliver(self, &note).kind, TOCSIN_DONE);

    fh.status = 429;
    fh.retry_after = 60;
    v = plugin_deliver(self, &note);
    ck_assert_int_eq(v.kind, TOCSIN_RETRY);
    ck_assert_int_eq(v.retry_after, 60);
    fh.retry_after = -1;
    fh.status = 502;
    ck_assert_int_eq(plugin_deliver(self, &note).kind, TOCSIN_RETRY);
    fh.status = 0;
    fh.error = "Operation timed out";
    ck_assert_int_eq(plugin_deliver(self, &note).kind, TOCSIN_RETRY);
    fh.status = 202;
    fh.body = "{\"result\":\"Request will be processed\",\"took\":0.1,\"requestId\":\"r\"}";
    ck_assert_int_eq(plugin_deliver(self, &note).kind, TOCSIN_DONE);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("opsgenie format");
    TCase *tc = tcase_create("format"), *tp = tcase_create("plugin");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_create_matches_fixture);
    tcase_add_test(tc, test_acknowledge_and_close_by_alias);
    tcase_add_test(tc, test_close_notes_without_a_person);
    tcase_add_test(tc, test_test_notifications_are_marked);
    tcase_add_test(tc, test_priorities_default_and_overridden);
    tcase_add_test(tc, test_message_cut_to_130_between_characters);
    tcase_add_test(tc, test_alias_fits_512_and_stays_the_same);
    tcase_add_test(tc, test_details_fit_8000);
    tcase_add_test(tc, test_description_keeps_links_whole);
    tcase_add_test(tc, test_tags_entity_and_collisions);
    tcase_add_test(tc, test_responder_specs);
    tcase_add_test(tc, test_refusal_reasons);
    suite_add_tcase(s, tc);
    tcase_add_checked_fixture(tp, plugin_setup, plugin_teardown);
    tcase_add_test(tp, test_option_table);
    tcase_add_test(tp, test_create_refuses_bad_options);
    tcase_add_test(tp, test_create_needs_abi_1_1);
    tcase_add_test(tp, test_urls_by_region_and_api_url);
    tcase_add_test(tp, test_verdicts);
    suite_add_tcase(s, tp);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
