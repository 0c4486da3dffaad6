/* test_webhook_format.c: the webhook sink's payloads (format.c) against
 * fixtures, and its requests, options and secrecy through a fake host
 * (webhook.c). */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tocsin/plugin.h>

#include "format.h"
#include "fake_host.h"
#include "helpers.h"

extern const struct tocsin_plugin tocsin_plugin;

/* Times computed outside tocsin (2026-11-23T...Z). */
#define T_031245_123 1795403565123LL
#define T_031246 1795403566000LL
#define T_0318 1795403880000LL
#define T_0319 1795403940000LL
/* Alertmanager's fingerprint of the labels below (FNV-1a 64, see
 * test_alertmanager_parse.c for the vectors it is checked against). */
#define FP "e94c744ae3d44df8"

static const struct tocsin_kv labels[] = {
    { "alertname", "DiskFull" }, { "instance", "db1" }, { "severity", "critical" },
};
static const struct tocsin_kv annotations[] = {
    { "summary", "Disk 97% full on db1" },
    { "runbook_url", "https://runbooks.example/disk-full" },
};
static const struct tocsin_kv links[] = {
    { "generator", "http://prom.example:9090/graph?g0.expr=disk_used_percent+%3E+95" },
};

static struct tocsin_alert alert;
static struct tocsin_notification note;

static void trigger(void)
{
    disk_full_trigger(&alert, &note, "hook");
    alert.dedup_key = FP;
    alert.source = "prom";
    alert.service = "node";
    alert.labels = labels;
    alert.n_labels = 3;
    alert.annotations = annotations;
    alert.n_annotations = 2;
    alert.links = links;
    alert.n_links = 1;
    alert.started_at = T_031245_123;
    alert.received_at = T_031246;
    alert.expires_at = T_0319;
    note.occurrences = 1;
    note.first_seen = T_031246;
    note.last_seen = T_031246;
    note.external_url = "http://tocsin.example:9099";
}

static void resolve(void)
{
    trigger();
    alert.status = TOCSIN_RESOLVED;
    alert.expires_at = 0;
    alert.ended_at = T_0319;
    note.action = TOCSIN_ACT_RESOLVE;
    note.occurrences = 3;
    note.last_seen = T_0318;
    note.actor = "alice";
    note.note = "freed /var/log";
    note.attempt = 2;
    note.outbox_id = 9;
}

static json_t *fixture(const char *name)
{
    return fixture_json("webhook", name);
}

/* Parses text (which must be compact JSON) and takes ownership of it. */
static json_t *parse_owned(char *text)
{
    json_error_t e;
    json_t *j;

    ck_assert_ptr_nonnull(text);
    ck_assert_ptr_null(strchr(text, '\n'));
    j = json_loads(text, 0, &e);
    ck_assert_msg(j != NULL, "not JSON (%s): %s", e.text, text);
    free(text);
    return j;
}

static void expect_fixture(json_t *got, const char *name)
{
    json_t *want = fixture(name);

    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_INDENT(2) | JSON_SORT_KEYS);
        char *w = json_dumps(want, JSON_INDENT(2) | JSON_SORT_KEYS);

        ck_abort_msg("%s differs:\ngot %s\nwant %s", name, g, w);
    }
    json_decref(want);
}

static const char *str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* ---- native -------------------------------------------------------------- */

START_TEST(test_native_trigger_matches_fixture)
{
    json_t *j;

    trigger();
    j = parse_owned(webhook_format_native(&note));
    expect_fixture(j, "native_trigger.json");
    ck_assert_str_eq(str(j, "version"), "1");
    ck_assert_str_eq(str(j, "action"), "trigger");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "incident_id")), 12);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "outbox_id")), 7);
    ck_assert_ptr_null(json_object_get(j, "actor"));
    ck_assert_ptr_null(json_object_get(j, "note"));
    ck_assert_str_eq(str(json_object_get(j, "alert"), "summary"), "Disk 97% full on db1");
    json_decref(j);
}
END_TEST

START_TEST(test_native_resolve_matches_fixture)
{
    json_t *j;

    resolve();
    j = parse_owned(webhook_format_native(&note));
    expect_fixture(j, "native_resolve.json");
    ck_assert_str_eq(str(j, "actor"), "alice");
    ck_assert_str_eq(str(j, "note"), "freed /var/log");
    ck_assert_str_eq(str(json_object_get(j, "alert"), "ended_at"), "2026-11-23T03:19:00.000Z");
    json_decref(j);
}
END_TEST

START_TEST(test_native_acknowledge_and_unset_values)
{
    json_t *j;

    trigger();
    note.action = TOCSIN_ACT_ACKNOWLEDGE;
    note.actor = "bob";
    note.external_url = NULL;
    note.first_seen = 0;
    j = parse_owned(webhook_format_native(&note));
    ck_assert_str_eq(str(j, "action"), "acknowledge");
    ck_assert_str_eq(str(j, "actor"), "bob");
    ck_assert_ptr_null(json_object_get(j, "note"));
    ck_assert_str_eq(str(j, "external_url"), "");
    ck_assert_ptr_null(json_object_get(j, "first_seen"));
    json_decref(j);

    note.alert = NULL;
    ck_assert_ptr_null(webhook_format_native(&note));
}
END_TEST

START_TEST(test_native_survives_text_that_is_not_utf8)
{
    json_t *j;

    trigger();
    alert.summary = "bad \xff byte";
    note.note = "cut \xc3";
    j = parse_owned(webhook_format_native(&note));
    ck_assert_str_eq(str(json_object_get(j, "alert"), "summary"), "bad \xef\xbf\xbd byte");
    ck_assert_str_eq(str(j, "note"), "cut \xef\xbf\xbd");
    json_decref(j);
}
END_TEST

/* ---- alertmanager -------------------------------------------------------- */

START_TEST(test_alertmanager_firing_matches_fixture)
{
    json_t *j, *a;

    trigger();
    j = parse_owned(webhook_format_alertmanager(&note, NULL));
    expect_fixture(j, "alertmanager_firing.json");
    /* The shape the format page fixes, field by field. */
    ck_assert_str_eq(str(j, "version"), "4");
    ck_assert_str_eq(str(j, "groupKey"), "{}:{dedup_key=\"" FP "\"}");
    ck_assert(json_is_integer(json_object_get(j, "truncatedAlerts")));
    ck_assert_int_eq(json_integer_value(json_object_get(j, "truncatedAlerts")), 0);
    ck_assert_str_eq(str(j, "status"), "firing");
    ck_assert_str_eq(str(j, "receiver"), "hook");
    ck_assert_uint_eq(json_object_size(json_object_get(j, "groupLabels")), 0);
    ck_assert_str_eq(str(json_object_get(j, "commonLabels"), "alertname"), "DiskFull");
    ck_assert_str_eq(str(j, "externalURL"), "http://tocsin.example:9099");
    ck_assert_uint_eq(json_array_size(json_object_get(j, "alerts")), 1);
    a = json_array_get(json_object_get(j, "alerts"), 0);
    ck_assert_str_eq(str(a, "status"), "firing");
    ck_assert_str_eq(str(a, "startsAt"), "2026-11-23T03:12:45.123Z");
    ck_assert_str_eq(str(a, "endsAt"), "0001-01-01T00:00:00Z");
    ck_assert_str_eq(str(a, "fingerprint"), FP);
    ck_assert_str_eq(str(a, "generatorURL"),
                     "http://prom.example:9090/graph?g0.expr=disk_used_percent+%3E+95");
    ck_assert_str_eq(str(json_object_get(a, "annotations"), "description"), "/var is 97% full.");
    json_decref(j);
}
END_TEST

START_TEST(test_alertmanager_resolved_matches_fixture)
{
    json_t *j, *a;

    resolve();
    j = parse_owned(webhook_format_alertmanager(&note, "team-hook"));
    expect_fixture(j, "alertmanager_resolved.json");
    ck_assert_str_eq(str(j, "status"), "resolved");
    ck_assert_str_eq(str(j, "receiver"), "team-hook");
    a = json_array_get(json_object_get(j, "alerts"), 0);
    ck_assert_str_eq(str(a, "status"), "resolved");
    ck_assert_str_eq(str(a, "endsAt"), "2026-11-23T03:19:00.000Z");
    json_decref(j);
}
END_TEST

START_TEST(test_alertmanager_acknowledge_is_still_firing)
{
    json_t *j;

    trigger();
    note.action = TOCSIN_ACT_ACKNOWLEDGE;
    note.actor = "bob";
    j = parse_owned(webhook_format_alertmanager(&note, NULL));
    ck_assert_str_eq(str(j, "status"), "firing");
    ck_assert_str_eq(str(json_array_get(json_object_get(j, "alerts"), 0), "endsAt"),
                     "0001-01-01T00:00:00Z");
    json_decref(j);
}
END_TEST

START_TEST(test_alertmanager_fallbacks)
{
    json_t *j, *a;

    /* No labels, no annotations, no link, no dedup key, no started_at,
     * resolved by a person (no ended_at), no external URL. */
    resolve();
    alert.labels = NULL;
    alert.n_labels = 0;
    alert.annotations = NULL;
    alert.n_annotations = 0;
    alert.links = NULL;
    alert.n_links = 0;
    alert.dedup_key = NULL;
    alert.details = NULL;
    alert.started_at = 0;
    alert.ended_at = 0;
    note.external_url = NULL;
    j = parse_owned(webhook_format_alertmanager(&note, NULL));
    ck_assert_str_eq(str(j, "groupKey"), "{}:{dedup_key=\"cbf29ce484222325\"}");
    ck_assert_uint_eq(json_object_size(json_object_get(j, "commonLabels")), 0);
    ck_assert_str_eq(str(j, "externalURL"), "");
    a = json_array_get(json_object_get(j, "alerts"), 0);
    ck_assert_str_eq(str(a, "generatorURL"), "");
    ck_assert_str_eq(str(a, "fingerprint"), "cbf29ce484222325"); /* FNV offset basis */
    ck_assert_str_eq(str(a, "startsAt"), "2026-11-23T03:12:46.000Z"); /* first_seen */
    ck_assert_str_eq(str(a, "endsAt"), "2026-11-23T03:18:00.000Z");   /* last_seen */
    /* The summary is still there for receivers that template on it. */
    ck_assert_str_eq(str(json_object_get(a, "annotations"), "summary"), "Disk 97% full on db1");
    ck_assert_ptr_null(json_object_get(json_object_get(a, "annotations"), "description"));
    json_decref(j);
}
END_TEST

START_TEST(test_group_key_escapes_like_go)
{
    char *k = webhook_group_key("a\"b\\c\nd");

    ck_assert_str_eq(k, "{}:{dedup_key=\"a\\\"b\\\\c\\nd\"}");
    free(k);
    k = webhook_group_key("\x01");
    ck_assert_str_eq(k, "{}:{dedup_key=\"\\x01\"}");
    free(k);
    k = webhook_group_key(NULL);
    ck_assert_str_eq(k, "{}:{dedup_key=\"\"}");
    free(k);
}
END_TEST

/* ---- webhook.c through a fake host --------------------------------------- */

#define SECRET_URL "https://hooks.example/T0KEN-in-url"
#define SECRET_HEADER "Bearer s3cr3t-t0ken"

static struct fake_host fh;
static void *conf, *self;
static struct tocsin_kv header_items[4];

static void *field(const char *name)
{
    return plugin_field(conf, name);
}

/* As the core calls it: a zeroed verdict of its own size. */
static struct tocsin_verdict deliver(void *instance)
{
    return plugin_deliver(instance, &note);
}

static void plugin_setup(void)
{
    trigger();
    fake_host_init(&fh, "hook", 0);
    fh.host.external_url = "http://tocsin.example:9099";
    fh.body = "ok";
    self = NULL;
    /* What the core fills from the defaults. */
    conf = calloc(1, tocsin_plugin.conf_size);
    *(const char **)field("url") = SECRET_URL;
    *(const char **)field("format") = "native";
    *(int64_t *)field("timeout") = 10000;
}

static void plugin_teardown(void)
{
    if (self)
        tocsin_plugin.destroy(self);
    fake_host_release(&fh);
    free(conf);
    /* Secrets never reach a log line or an error message. */
    ck_assert_ptr_null(strstr(fh.logs, "T0KEN"));
    ck_assert_ptr_null(strstr(fh.logs, "s3cr3t"));
    ck_assert_ptr_null(strstr(fh.failed, "T0KEN"));
    ck_assert_ptr_null(strstr(fh.failed, "s3cr3t"));
}

static void set_headers(size_t n)
{
    struct tocsin_map *m = field("headers");

    m->n = n;
    m->items = header_items;
}

static int has_header(const char *h)
{
    return fake_host_has_header(&fh, h);
}

static size_t headers_named(const char *prefix)
{
    const struct fake_call *last = fake_host_last_call(&fh);
    size_t i, n = 0;

    for (i = 0; i < last->n_headers; i++)
        if (strncmp(last->headers[i], prefix, strlen(prefix)) == 0)
            n++;
    return n;
}

START_TEST(test_option_table)
{
    const struct tocsin_option *o;

    ck_assert_str_eq(tocsin_plugin.name, "webhook");
    ck_assert_int_eq(tocsin_plugin.kind, TOCSIN_SINK);
    o = plugin_option("url");
    ck_assert_int_eq(o->type, TOCSIN_OPT_STRING);
    ck_assert_uint_eq(o->flags, TOCSIN_OPT_REQUIRED | TOCSIN_OPT_SECRET);
    ck_assert_ptr_null(o->def);
    o = plugin_option("format");
    ck_assert_int_eq(o->type, TOCSIN_OPT_STRING);
    ck_assert_str_eq(o->def, "native");
    o = plugin_option("headers");
    ck_assert_int_eq(o->type, TOCSIN_OPT_MAP);
    ck_assert_uint_eq(o->flags, TOCSIN_OPT_SECRET);
    o = plugin_option("timeout");
    ck_assert_int_eq(o->type, TOCSIN_OPT_DURATION);
    ck_assert_str_eq(o->def, "10s");
    o = plugin_option("receiver");
    ck_assert_int_eq(o->type, TOCSIN_OPT_STRING);
    ck_assert_ptr_null(o->def);
    ck_assert_ptr_null(tocsin_plugin.options[5].name);
}
END_TEST

START_TEST(test_native_delivery_request)
{
    struct tocsin_verdict v;
    json_t *j;

    header_items[0].key = "Authorization";
    header_items[0].value = SECRET_HEADER;
    set_headers(1);
    ck_assert_int_eq(tocsin_plugin.create(&fh.host, conf, &self), TOCSIN_OK);
    v = deliver(self);
    ck_assert_int_eq(v.kind, TOCSIN_DONE);
    ck_assert_int_eq(fh.n_calls, 1);
    ck_assert_int_eq(fh.frees, 1);
    ck_assert_str_eq(fake_host_last_call(&fh)->method, "POST");
    ck_assert_str_eq(fake_host_last_call(&fh)->url, SECRET_URL);
    ck_assert_int_eq(fake_host_last_call(&fh)->timeout_ms, 10000);
    ck_assert(has_header("Content-Type: application/json"));
    ck_assert(has_header("User-Agent: tocsin/1"));
    ck_assert(has_header("Idempotency-Key: tocsin-7"));
    ck_assert(has_header("Authorization: " SECRET_HEADER));
    ck_assert_uint_eq(fake_host_last_call(&fh)->n_headers, 4);
    j = parse_owned(strdup(fake_host_last_call(&fh)->body));
    expect_fixture(j, "native_trigger.json");
    json_decref(j);
}
END_TEST

START_TEST(test_alertmanager_delivery_uses_sink_id_or_receiver)
{
    json_t *j;

    *(const char **)field("format") = "alertmanager";
    ck_assert_int_eq(tocsin_plugin.create(&fh.host, conf, &self), TOCSIN_OK);
    ck_assert_int_eq(deliver(self).kind, TOCSIN_DONE);
    j = parse_owned(strdup(fake_host_last_call(&fh)->body));
    expect_fixture(j, "alertmanager_firing.json");
    json_decref(j);
    tocsin_plugin.destroy(self);
    self = NULL;

    resolve();
    *(const char **)field("receiver") = "team-hook";
    ck_assert_int_eq(tocsin_plugin.create(&fh.host, conf, &self), TOCSIN_OK);
    ck_assert_int_eq(deliver(self).kind, TOCSIN_DONE);
    ck_assert(has_header("Idempotency-Key: tocsin-9"));
    j = parse_owned(strdup(fake_host_last_call(&fh)->body));
    expect_fixture(j, "alertmanager_resolved.json");
    json_decref(j);
}
END_TEST

START_TEST(test_configured_header_replaces_default)
{
    header_items[0].key = "user-agent";
    header_items[0].value = "custom/2";
    header_items[1].key = "Idempotency-Key";
    header_items[1].value = "mine";
    set_headers(2);
    ck_assert_int_eq(tocsin_plugin.create(&fh.host, conf, &self), TOCSIN_OK);
    deliver(self);
    ck_assert_uint_eq(headers_named("User-Agent"), 0);
    ck_assert(has_header("user-agent: custom/2"));
    ck_assert_uint_eq(headers_named("Idempotency-Key"), 1);
    ck_assert(has_header("Idempotency-Key: mine"));
    ck_assert(has_header("Content-Type: application/json"));
}
END_TEST

START_TEST(test_verdict_is_the_cores)
{
    struct tocsin_verdict v;

    ck_assert_int_eq(tocsin_plugin.create(&fh.host, conf, &self), TOCSIN_OK);
    fh.status = 429;
    fh.retry_after = 30;
    v = deliver(self);
    ck_assert_int_eq(v.kind, TOCSIN_RETRY);
    ck_assert_int_eq(v.retry_after, 30);
    fh.status = 400;
    v = deliver(self);
    ck_assert_int_eq(v.kind, TOCSIN_FAILED);
    ck_assert_str_eq(v.reason, "HTTP 400: ok");
    ck_assert_int_eq(fh.frees, 2);
}
END_TEST

/* A 1.0 host table has no http_sized: create says so instead of calling
 * past the end of it. */
START_TEST(test_a_1_0_host_fails_create_clearly)
{
    ck_assert_ptr_null(tocsin_plugin.deliver);
    fh.host.size = offsetof(struct tocsin_host, emit_sized);
    fh.host.abi_minor = 0;
    ck_assert_int_eq(tocsin_plugin.create(&fh.host, conf, &self), TOCSIN_ENOTSUP);
    ck_assert_str_eq(fh.failed, "needs tocsin plugin ABI 1.1 (host has 1.0)");
    ck_assert_ptr_null(self);
}
END_TEST

START_TEST(test_bad_format_fails_create)
{
    *(const char **)field("format") = "xml";
    ck_assert_int_eq(tocsin_plugin.create(&fh.host, conf, &self), TOCSIN_ERROR);
    ck_assert_str_eq(fh.failed, "format must be \"native\" or \"alertmanager\", not \"xml\"");
}
END_TEST

START_TEST(test_bad_url_fails_without_showing_it)
{
    *(const char **)field("url") = "ftp://x/T0KEN";
    ck_assert_int_eq(tocsin_plugin.create(&fh.host, conf, &self), TOCSIN_ERROR);
    ck_assert_str_eq(fh.failed, "url must start with http:// or https://");
}
END_TEST

START_TEST(test_bad_headers_fail_without_showing_values)
{
    header_items[0].key = "X Bad";
    header_items[0].value = "v";
    set_headers(1);
    ck_assert_int_eq(tocsin_plugin.create(&fh.host, conf, &self), TOCSIN_ERROR);
    ck_assert_str_eq(fh.failed, "headers: \"X Bad\" is not a valid header name");

    header_items[0].key = "Authorization";
    header_items[0].value = "Bearer s3cr3t\r\nX-Injected: 1";
    ck_assert_int_eq(tocsin_plugin.create(&fh.host, conf, &self), TOCSIN_ERROR);
    ck_assert_str_eq(fh.failed, "headers: the value of \"Authorization\" must be one line");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("webhook");
    TCase *fmt = tcase_create("format");
    TCase *plugin = tcase_create("plugin");

    tcase_add_test(fmt, test_native_trigger_matches_fixture);
    tcase_add_test(fmt, test_native_resolve_matches_fixture);
    tcase_add_test(fmt, test_native_acknowledge_and_unset_values);
    tcase_add_test(fmt, test_native_survives_text_that_is_not_utf8);
    tcase_add_test(fmt, test_alertmanager_firing_matches_fixture);
    tcase_add_test(fmt, test_alertmanager_resolved_matches_fixture);
    tcase_add_test(fmt, test_alertmanager_acknowledge_is_still_firing);
    tcase_add_test(fmt, test_alertmanager_fallbacks);
    tcase_add_test(fmt, test_group_key_escapes_like_go);
    suite_add_tcase(s, fmt);

    tcase_add_checked_fixture(plugin, plugin_setup, plugin_teardown);
    tcase_add_test(plugin, test_option_table);
    tcase_add_test(plugin, test_native_delivery_request);
    tcase_add_test(plugin, test_alertmanager_delivery_uses_sink_id_or_receiver);
    tcase_add_test(plugin, test_configured_header_replaces_default);
    tcase_add_test(plugin, test_verdict_is_the_cores);
    tcase_add_test(plugin, test_a_1_0_host_fails_create_clearly);
    tcase_add_test(plugin, test_bad_format_fails_create);
    tcase_add_test(plugin, test_bad_url_fails_without_showing_it);
    tcase_add_test(plugin, test_bad_headers_fail_without_showing_values);
    suite_add_tcase(s, plugin);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    int n;

    srunner_run_all(sr, CK_ENV);
    n = srunner_ntests_failed(sr);
    srunner_free(sr);
    return n ? EXIT_FAILURE : EXIT_SUCCESS;
}
