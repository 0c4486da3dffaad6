/* test_generic_parse.c: the generic input: native alerts, all or nothing
 * (parse.c), and the plugin's answers through a fake host (generic.c). */
#include <check.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tocsin/plugin.h>

#include "common.h"
#include "fake_host.h"
#include "parse.h"

extern const struct tocsin_plugin tocsin_plugin;

/* 2026-11-23T03:15:00Z, 03:10:00Z, 03:12:45.123Z, computed outside tocsin. */
#define NOW 1795403700000LL
#define T_0310 1795403400000LL
#define T_031245_123 1795403565123LL

static json_t *load_json(const char *text)
{
    json_error_t e;
    json_t *j;

    ck_assert_ptr_nonnull(text);
    j = json_loads(text, 0, &e);
    ck_assert_msg(j != NULL, "not JSON (%s): %s", e.text, text);
    return j;
}

static int parse_str(const char *body, struct gen_batch *b)
{
    return gen_parse(body, strlen(body), NOW, b);
}

static void expect_invalid(const char *body, const char *error, const char *detail)
{
    struct gen_batch b;

    ck_assert_int_eq(parse_str(body, &b), TOCSIN_EINVAL);
    ck_assert_str_eq(b.error, error);
    ck_assert_str_eq(b.detail, detail);
    ck_assert_uint_eq(b.n_alerts, 0); /* nothing is kept */
    gen_batch_free(&b);
}

/* ---- parse.c -------------------------------------------------------------- */

START_TEST(test_single_object_maps_fields)
{
    struct gen_batch b;
    const struct tocsin_alert *a;

    ck_assert_int_eq(
        parse_str("{\"summary\": \"disk 97%\", \"details\": \"/var\", \"severity\": \"critical\","
                  " \"service\": \"db\", \"source\": \"cron\", \"dedup_key\": \"disk-db1\","
                  " \"labels\": {\"host\": \"db1\"}, \"annotations\": {\"runbook_url\": \"r\"},"
                  " \"links\": {\"graph\": \"http://g\"}, \"started_at\": \"2026-11-23T03:12:45.123Z\","
                  " \"unknown\": 1}", &b), TOCSIN_OK);
    ck_assert_uint_eq(b.n_alerts, 1);
    a = &b.alerts[0];
    ck_assert_str_eq(a->summary, "disk 97%");
    ck_assert_str_eq(a->details, "/var");
    ck_assert_int_eq(a->severity, TOCSIN_SEV_CRITICAL);
    ck_assert_int_eq(a->status, TOCSIN_FIRING);
    ck_assert_str_eq(a->service, "db");
    ck_assert_str_eq(a->source, "cron");
    ck_assert_str_eq(a->dedup_key, "disk-db1");
    ck_assert_str_eq(tocsin_kv_get(a->labels, a->n_labels, "host"), "db1");
    ck_assert_str_eq(tocsin_kv_get(a->annotations, a->n_annotations, "runbook_url"), "r");
    ck_assert_str_eq(tocsin_kv_get(a->links, a->n_links, "graph"), "http://g");
    ck_assert_int_eq(a->started_at, T_031245_123);
    ck_assert_int_eq(a->ended_at, 0);
    gen_batch_free(&b);
}
END_TEST

START_TEST(test_array_of_alerts)
{
    struct gen_batch b;
    char *body;
    json_t *j;

    ck_assert_int_eq(parse_str("[{\"summary\": \"one\", \"labels\": {\"a\": \"1\"}},"
                               " {\"summary\": \"two\", \"dedup_key\": \"k2\", \"severity\": \"P1\"}]",
                               &b), TOCSIN_OK);
    ck_assert_uint_eq(b.n_alerts, 2);
    ck_assert_str_eq(b.alerts[0].summary, "one");
    ck_assert_int_eq(b.alerts[0].severity, TOCSIN_SEV_MEDIUM); /* the default */
    ck_assert_str_eq(b.alerts[1].summary, "two");
    ck_assert_int_eq(b.alerts[1].severity, TOCSIN_SEV_HIGH);
    ck_assert_uint_eq(b.alerts[1].n_labels, 0);
    body = gen_accepted_body(b.n_alerts);
    j = load_json(body);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "accepted")), 2);
    ck_assert_uint_eq(json_object_size(j), 1);
    json_decref(j);
    free(body);
    gen_batch_free(&b);

    ck_assert_int_eq(parse_str("[]", &b), TOCSIN_OK);
    ck_assert_uint_eq(b.n_alerts, 0);
    gen_batch_free(&b);
}
END_TEST

START_TEST(test_missing_summary_names_field_and_index)
{
    expect_invalid("{\"labels\": {\"a\": \"b\"}}", "invalid alert",
                   "alert 0: \"summary\" is required");
    expect_invalid("[{\"summary\": \"ok\", \"labels\": {\"a\": \"b\"}},"
                   " {\"summary\": \"  \", \"labels\": {\"a\": \"c\"}}]",
                   "invalid alert", "alert 1: \"summary\" is required");
    expect_invalid("{\"summary\": 5, \"labels\": {\"a\": \"b\"}}", "invalid alert",
                   "alert 0: \"summary\" must be a string");
}
END_TEST

START_TEST(test_labels_or_dedup_key_required)
{
    struct gen_batch b;

    expect_invalid("{\"summary\": \"s\"}", "invalid alert",
                   "alert 0: \"labels\" (non-empty) or \"dedup_key\" is required");
    expect_invalid("{\"summary\": \"s\", \"labels\": {\"a\": \"\"}, \"dedup_key\": \"\"}",
                   "invalid alert",
                   "alert 0: \"labels\" (non-empty) or \"dedup_key\" is required");
    ck_assert_int_eq(parse_str("{\"summary\": \"s\", \"dedup_key\": \"k\"}", &b), TOCSIN_OK);
    gen_batch_free(&b);
}
END_TEST

START_TEST(test_bad_severity)
{
    expect_invalid("{\"summary\": \"s\", \"labels\": {\"a\": \"b\"}, \"severity\": \"urgent\"}",
                   "invalid alert",
                   "alert 0: \"severity\" must be one of critical, high, medium, low, info; "
                   "not \"urgent\"");
}
END_TEST

START_TEST(test_bad_status)
{
    expect_invalid("[{\"summary\": \"s\", \"labels\": {\"a\": \"b\"}},"
                   " {\"summary\": \"s\", \"labels\": {\"a\": \"b\"}, \"status\": \"open\"}]",
                   "invalid alert",
                   "alert 1: \"status\" must be \"firing\" or \"resolved\", not \"open\"");
}
END_TEST

START_TEST(test_labels_not_strings)
{
    expect_invalid("{\"summary\": \"s\", \"labels\": {\"team\": 7}}", "invalid alert",
                   "alert 0: \"labels.team\" must be a string");
    expect_invalid("{\"summary\": \"s\", \"labels\": [\"a\"]}", "invalid alert",
                   "alert 0: \"labels\" must be an object of strings");
    expect_invalid("[\"alert\"]", "invalid alert", "alert 0: an alert must be a JSON object");
}
END_TEST

START_TEST(test_bad_time)
{
    expect_invalid("{\"summary\": \"s\", \"labels\": {\"a\": \"b\"}, \"started_at\": \"noon\"}",
                   "invalid alert",
                   "alert 0: \"started_at\" is not an RFC 3339 time: \"noon\"");
}
END_TEST

START_TEST(test_resolved_defaults_ended_at_to_now)
{
    struct gen_batch b;

    ck_assert_int_eq(parse_str("[{\"summary\": \"s\", \"labels\": {\"a\": \"b\"}, \"status\": \"resolved\"},"
                               " {\"summary\": \"s\", \"labels\": {\"a\": \"b\"}, \"status\": \"resolved\","
                               "  \"ended_at\": \"2026-11-23T03:10:00Z\"},"
                               " {\"summary\": \"s\", \"labels\": {\"a\": \"b\"}}]", &b), TOCSIN_OK);
    ck_assert_int_eq(b.alerts[0].status, TOCSIN_RESOLVED);
    ck_assert_int_eq(b.alerts[0].ended_at, NOW);
    ck_assert_int_eq(b.alerts[1].ended_at, T_0310);
    ck_assert_int_eq(b.alerts[2].status, TOCSIN_FIRING);
    ck_assert_int_eq(b.alerts[2].ended_at, 0);
    gen_batch_free(&b);

    expect_invalid("{\"summary\": \"s\", \"labels\": {\"a\": \"b\"}, \"status\": \"resolved\","
                   " \"started_at\": \"2026-11-23T03:12:00Z\", \"ended_at\": \"2026-11-23T03:10:00Z\"}",
                   "invalid alert", "alert 0: \"ended_at\" is before \"started_at\"");
}
END_TEST

START_TEST(test_malformed_and_wrong_top_level)
{
    struct gen_batch b;

    ck_assert_int_eq(parse_str("{\"summary\": \"s\",\n \"labels\": {\"a\" \"b\"}}", &b),
                     TOCSIN_EINVAL);
    ck_assert_str_eq(b.error, "malformed JSON");
    ck_assert_msg(strncmp(b.detail, "line 2 column 19: ", 18) == 0, "detail: %s", b.detail);
    gen_batch_free(&b);

    expect_invalid("42", "body must be a JSON alert object or an array of them", "");
}
END_TEST

START_TEST(test_error_body_is_valid_json_even_for_cut_utf8)
{
    struct gen_batch b;
    char body[512], *p = body, *out;
    json_t *j;
    int i;

    /* A 60-character status of 2-byte characters: the message quotes 40
     * bytes of it, which must not end in half a character. */
    p += sprintf(p, "{\"summary\": \"s\", \"labels\": {\"a\": \"b\"}, \"status\": \"");
    for (i = 0; i < 60; i++)
        p += sprintf(p, "\xc3\xa9");
    sprintf(p, "\"}");
    ck_assert_int_eq(parse_str(body, &b), TOCSIN_EINVAL);
    out = tc_error_json(b.error, b.detail);
    j = load_json(out);
    ck_assert_str_eq(json_string_value(json_object_get(j, "error")), "invalid alert");
    ck_assert_ptr_nonnull(json_string_value(json_object_get(j, "detail")));
    ck_assert_str_eq(json_string_value(json_object_get(j, "detail")), b.detail);
    json_decref(j);
    free(out);
    gen_batch_free(&b);

    out = tc_error_json("x", NULL);
    j = load_json(out);
    ck_assert_ptr_null(json_object_get(j, "detail"));
    json_decref(j);
    free(out);
}
END_TEST

/* ---- generic.c through a fake host --------------------------------------- */

struct fake {
    struct fake_host h;
    void *conf, *self;
    struct tocsin_http_response resp;
};

static void start(struct fake *f, const char *path)
{
    const struct tocsin_option *o = tocsin_plugin.options;

    memset(f, 0, sizeof *f);
    fake_host_init(&f->h, "native", NOW);
    f->h.emit_err = "core says no";
    f->conf = calloc(1, tocsin_plugin.conf_size);
    ck_assert_str_eq(o[0].name, "path");
    *(const char **)(void *)((char *)f->conf + o[0].offset) = path ? path : o[0].def;
}

static void serve(struct fake *f, const char *body)
{
    free(f->resp.body);
    fake_host_post(&f->h, body, &f->resp);
}

static void stop(struct fake *f)
{
    free(f->resp.body);
    if (f->self)
        tocsin_plugin.destroy(f->self);
    free(f->conf);
}

START_TEST(test_descriptor_and_route)
{
    struct fake f;

    ck_assert_str_eq(tocsin_plugin.name, "generic");
    ck_assert_int_eq(tocsin_plugin.kind, TOCSIN_INPUT);
    ck_assert_str_eq(tocsin_plugin.options[0].def, "/api/v1/alerts");
    ck_assert_ptr_null(tocsin_plugin.options[1].name);
    start(&f, NULL);
    ck_assert_int_eq(tocsin_plugin.create(&f.h.host, f.conf, &f.self), TOCSIN_OK);
    ck_assert_str_eq(f.h.method, "POST");
    ck_assert_str_eq(f.h.path, "/api/v1/alerts");
    stop(&f);

    start(&f, "api/alerts");
    ck_assert_int_eq(tocsin_plugin.create(&f.h.host, f.conf, &f.self), TOCSIN_ERROR);
    ck_assert_msg(strstr(f.h.failed, "path must start with '/'") != NULL, "%s", f.h.failed);
    f.self = NULL;
    stop(&f);
}
END_TEST

START_TEST(test_valid_is_202_with_count)
{
    struct fake f;
    json_t *j;

    start(&f, NULL);
    ck_assert_int_eq(tocsin_plugin.create(&f.h.host, f.conf, &f.self), TOCSIN_OK);
    serve(&f, "[{\"summary\": \"a\", \"dedup_key\": \"1\"}, {\"summary\": \"b\", \"dedup_key\": \"2\"}]");
    ck_assert_int_eq(f.resp.status, 202);
    ck_assert_uint_eq(f.h.emitted, 2);
    j = load_json(f.resp.body);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "accepted")), 2);
    json_decref(j);
    stop(&f);
}
END_TEST

START_TEST(test_invalid_is_400_and_stores_nothing)
{
    struct fake f;
    json_t *j;

    start(&f, NULL);
    ck_assert_int_eq(tocsin_plugin.create(&f.h.host, f.conf, &f.self), TOCSIN_OK);
    serve(&f, "[{\"summary\": \"a\", \"dedup_key\": \"1\"}, {\"dedup_key\": \"2\"}]");
    ck_assert_int_eq(f.resp.status, 400);
    ck_assert_int_eq(f.h.emits, 0);
    j = load_json(f.resp.body);
    ck_assert_str_eq(json_string_value(json_object_get(j, "error")), "invalid alert");
    ck_assert_str_eq(json_string_value(json_object_get(j, "detail")),
                     "alert 1: \"summary\" is required");
    json_decref(j);
    stop(&f);
}
END_TEST

START_TEST(test_emit_errors_map_to_status)
{
    static const struct {
        int rc, status, retry_after;
        const char *error, *detail;
    } cases[] = {
        { TOCSIN_EBUSY, 503, 1, "intake queue full", NULL },
        { TOCSIN_ESHUTDOWN, 503, 0, "shutting down", NULL },
        { TOCSIN_EINVAL, 400, 0, "invalid alert", "core says no" },
        { TOCSIN_EIO, 500, 0, "storing alerts failed", "core says no" },
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fake f;
        json_t *j;

        start(&f, NULL);
        ck_assert_int_eq(tocsin_plugin.create(&f.h.host, f.conf, &f.self), TOCSIN_OK);
        f.h.emit_rc = cases[i].rc;
        serve(&f, "{\"summary\": \"a\", \"dedup_key\": \"1\"}");
        ck_assert_int_eq(f.resp.status, cases[i].status);
        ck_assert_int_eq(f.resp.retry_after, cases[i].retry_after);
        j = load_json(f.resp.body);
        ck_assert_str_eq(json_string_value(json_object_get(j, "error")), cases[i].error);
        if (cases[i].detail)
            ck_assert_str_eq(json_string_value(json_object_get(j, "detail")), cases[i].detail);
        json_decref(j);
        stop(&f);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("generic");
    TCase *parse = tcase_create("parse");
    TCase *plugin = tcase_create("plugin");

    tcase_add_test(parse, test_single_object_maps_fields);
    tcase_add_test(parse, test_array_of_alerts);
    tcase_add_test(parse, test_missing_summary_names_field_and_index);
    tcase_add_test(parse, test_labels_or_dedup_key_required);
    tcase_add_test(parse, test_bad_severity);
    tcase_add_test(parse, test_bad_status);
    tcase_add_test(parse, test_labels_not_strings);
    tcase_add_test(parse, test_bad_time);
    tcase_add_test(parse, test_resolved_defaults_ended_at_to_now);
    tcase_add_test(parse, test_malformed_and_wrong_top_level);
    tcase_add_test(parse, test_error_body_is_valid_json_even_for_cut_utf8);
    suite_add_tcase(s, parse);

    tcase_add_test(plugin, test_descriptor_and_route);
    tcase_add_test(plugin, test_valid_is_202_with_count);
    tcase_add_test(plugin, test_invalid_is_400_and_stores_nothing);
    tcase_add_test(plugin, test_emit_errors_map_to_status);
    suite_add_tcase(s, plugin);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    int failed;

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
