/* test_alertmanager_parse.c: the alertmanager input: postableAlerts to
 * tocsin alerts (parse.c, against fixtures), and the plugin's answers and
 * status codes through a fake host (alertmanager.c). */
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
#include "helpers.h"

extern const struct tocsin_plugin tocsin_plugin;

/* 2026-11-23T03:15:00Z and friends, computed outside tocsin. */
#define NOW 1795403700000LL
#define T_031245_123 1795403565123LL
#define T_0319 1795403940000LL
#define T_0310 1795403400000LL
#define T_0200 1795399200000LL
#define FIVE_MIN 300000LL

/* ---- helpers -------------------------------------------------------------- */

static char *read_fixture(const char *name, size_t *len)
{
    return fixture_text("alertmanager", name, len);
}

static int parse_str(const char *body, struct am_batch *b)
{
    return am_parse(body, strlen(body), NOW, FIVE_MIN, b);
}

static void parse_fixture(const char *name, struct am_batch *b)
{
    size_t len;
    char *body = read_fixture(name, &len);

    ck_assert_int_eq(am_parse(body, len, NOW, FIVE_MIN, b), TOCSIN_OK);
    free(body);
}

/* Alertmanager's fingerprint computed here from its definition
 * (prometheus/common model.labelSetToFingerprint): label names sorted,
 * FNV-1a 64 over name 0xff value 0xff for each. Up to 8 labels, names
 * given already sorted by the caller. */
static void fnv_hex(const char *const *sorted_pairs, size_t n, char out[17])
{
    unsigned long long h = 14695981039346656037ULL;
    size_t i;

    for (i = 0; i < 2 * n; i++) {
        const unsigned char *p;

        for (p = (const unsigned char *)sorted_pairs[i]; *p; p++)
            h = (h ^ *p) * 1099511628211ULL;
        h = (h ^ 0xffu) * 1099511628211ULL;
    }
    snprintf(out, 17, "%016llx", h);
}

static json_t *load_json(const char *text)
{
    json_error_t e;
    json_t *j;

    ck_assert_ptr_nonnull(text);
    j = json_loads(text, 0, &e);
    ck_assert_msg(j != NULL, "not JSON (%s): %s", e.text, text);
    return j;
}

static const char *kv(const struct tocsin_kv *k, size_t n, const char *key)
{
    return tocsin_kv_get(k, n, key);
}

/* ---- parse.c -------------------------------------------------------------- */

START_TEST(test_valid_batch_maps_every_field)
{
    struct am_batch b;
    const struct tocsin_alert *a;
    char fp[17];
    const char *disk[] = { "alertname", "DiskFull", "instance", "db1:9100",
                           "job",       "node",     "severity", "critical" };

    parse_fixture("batch_valid.json", &b);
    ck_assert_uint_eq(b.n_alerts, 3);
    ck_assert_uint_eq(b.n_invalid, 0);
    ck_assert_uint_eq(b.n_errors, 0);

    a = &b.alerts[0];
    fnv_hex(disk, 4, fp);
    ck_assert_str_eq(a->dedup_key, fp);
    ck_assert_int_eq(a->status, TOCSIN_FIRING);
    ck_assert_int_eq(a->severity, TOCSIN_SEV_CRITICAL);
    ck_assert_str_eq(a->summary, "Disk 97% full on db1");
    ck_assert_str_eq(a->details, "/var is 97% full.\nIt will be full within 2 hours.");
    ck_assert_str_eq(a->service, "node");
    ck_assert_ptr_null(a->source);
    ck_assert_uint_eq(a->n_labels, 4);
    ck_assert_str_eq(kv(a->labels, a->n_labels, "instance"), "db1:9100");
    ck_assert_uint_eq(a->n_annotations, 3);
    ck_assert_str_eq(kv(a->annotations, a->n_annotations, "runbook_url"),
                     "https://runbooks.example/disk-full");
    ck_assert_uint_eq(a->n_links, 1);
    ck_assert_str_eq(kv(a->links, a->n_links, "generator"),
                     "http://prom.example:9090/graph?g0.expr=disk_used_percent+%3E+95");
    ck_assert_int_eq(a->started_at, T_031245_123);
    ck_assert_int_eq(a->expires_at, T_0319);
    ck_assert_int_eq(a->ended_at, 0);
    ck_assert_int_eq(a->received_at, 0);

    a = &b.alerts[1];
    ck_assert_uint_eq(a->n_labels, 4); /* "team": "" dropped */
    ck_assert_ptr_null(kv(a->labels, a->n_labels, "team"));
    ck_assert_int_eq(a->severity, TOCSIN_SEV_MEDIUM);
    ck_assert_str_eq(a->summary, "p99 latency is 2.3s");
    ck_assert_str_eq(a->details, "\n  p99 latency is 2.3s\nover the last 10 minutes");
    ck_assert_str_eq(a->service, "checkout"); /* service wins over job */
    ck_assert_int_eq(a->started_at, T_0310);  /* +01:00 offset honoured */
    ck_assert_uint_eq(a->n_links, 0);         /* empty generatorURL */

    a = &b.alerts[2];
    ck_assert_str_eq(a->summary, "Watchdog");
    ck_assert_int_eq(a->severity, TOCSIN_SEV_MEDIUM);
    ck_assert_ptr_null(a->service);
    ck_assert_ptr_null(a->details);
    ck_assert_uint_eq(a->n_annotations, 0);
    ck_assert_int_eq(a->started_at, NOW);
    ck_assert_int_eq(a->status, TOCSIN_FIRING);
    ck_assert_int_eq(a->expires_at, NOW + FIVE_MIN);
    am_batch_free(&b);
}
END_TEST

START_TEST(test_single_object_is_400_body_must_be_array)
{
    struct am_batch b;
    json_t *j;
    char *body;

    ck_assert_int_eq(parse_str("{\"labels\": {\"alertname\": \"X\"}}", &b), TOCSIN_EINVAL);
    ck_assert_str_eq(b.error, "body must be a JSON array of alerts");
    ck_assert_uint_eq(b.n_alerts, 0);
    body = tc_error_json(b.error, b.detail[0] ? b.detail : NULL);
    j = load_json(body);
    ck_assert_str_eq(json_string_value(json_object_get(j, "error")),
                     "body must be a JSON array of alerts");
    ck_assert_ptr_null(json_object_get(j, "detail"));
    json_decref(j);
    free(body);
    am_batch_free(&b);

    /* A valid JSON scalar is the same mistake, not "malformed". */
    ck_assert_int_eq(parse_str("\"alerts\"", &b), TOCSIN_EINVAL);
    ck_assert_str_eq(b.error, "body must be a JSON array of alerts");
    am_batch_free(&b);
}
END_TEST

START_TEST(test_malformed_json_says_line_and_column)
{
    struct am_batch b;
    json_t *j;
    char *body;
    const char *detail;

    ck_assert_int_eq(parse_str("[\n  {\"labels\": {\"a\": }}\n]", &b), TOCSIN_EINVAL);
    ck_assert_str_eq(b.error, "malformed JSON");
    ck_assert_msg(strncmp(b.detail, "line 2 column 20: ", 18) == 0, "detail: %s", b.detail);
    body = tc_error_json(b.error, b.detail);
    j = load_json(body);
    ck_assert_str_eq(json_string_value(json_object_get(j, "error")), "malformed JSON");
    detail = json_string_value(json_object_get(j, "detail"));
    ck_assert_ptr_nonnull(detail);
    ck_assert_str_eq(detail, b.detail);
    json_decref(j);
    free(body);
    am_batch_free(&b);

    ck_assert_int_eq(am_parse("", 0, NOW, FIVE_MIN, &b), TOCSIN_EINVAL);
    ck_assert_str_eq(b.error, "malformed JSON");
    am_batch_free(&b);
}
END_TEST

START_TEST(test_malformed_json_with_bad_utf8_gives_valid_json_answer)
{
    struct am_batch b;
    json_t *j;
    char *body;

    /* jansson quotes the offending bytes in its message. */
    ck_assert_int_eq(parse_str("[{\"labels\": {\"a\": \"\xff\xfe\"}}]", &b), TOCSIN_EINVAL);
    body = tc_error_json(b.error, b.detail);
    j = load_json(body);
    ck_assert_str_eq(json_string_value(json_object_get(j, "error")), "malformed JSON");
    ck_assert_ptr_nonnull(json_string_value(json_object_get(j, "detail")));
    json_decref(j);
    free(body);
    am_batch_free(&b);
}
END_TEST

static void expect_one_error(const char *body, const char *message)
{
    struct am_batch b;

    ck_assert_int_eq(parse_str(body, &b), TOCSIN_OK);
    ck_assert_uint_eq(b.n_alerts, 0);
    ck_assert_uint_eq(b.n_invalid, 1);
    ck_assert_uint_eq(b.n_errors, 1);
    ck_assert_str_eq(b.errors[0], message);
    am_batch_free(&b);
}

START_TEST(test_labels_missing_empty_or_not_strings)
{
    expect_one_error("[{}]", "alert 0: labels are required");
    expect_one_error("[{\"labels\": null}]", "alert 0: labels are required");
    expect_one_error("[{\"labels\": {}}]", "alert 0: labels must not be empty");
    expect_one_error("[{\"labels\": {\"alertname\": \"\"}}]",
                     "alert 0: labels must not be empty");
    expect_one_error("[{\"labels\": [\"a\"]}]", "alert 0: labels must be an object of strings");
    expect_one_error("[{\"labels\": {\"alertname\": 5}}]",
                     "alert 0: label \"alertname\" must be a string");
    expect_one_error("[{\"labels\": {\"\": \"x\"}}]", "alert 0: label names must not be empty");
    expect_one_error("[7]", "alert 0: must be a JSON object");
}
END_TEST

START_TEST(test_annotations_and_generator_url_types)
{
    expect_one_error("[{\"labels\": {\"a\": \"b\"}, \"annotations\": \"x\"}]",
                     "alert 0: annotations must be an object of strings");
    expect_one_error("[{\"labels\": {\"a\": \"b\"}, \"annotations\": {\"summary\": true}}]",
                     "alert 0: annotation \"summary\" must be a string");
    expect_one_error("[{\"labels\": {\"a\": \"b\"}, \"generatorURL\": 3}]",
                     "alert 0: generatorURL must be a string");
}
END_TEST

START_TEST(test_bad_time_is_invalid)
{
    expect_one_error("[{\"labels\": {\"a\": \"b\"}, \"startsAt\": \"yesterday\"}]",
                     "alert 0: startsAt is not an RFC 3339 time: \"yesterday\"");
    expect_one_error("[{\"labels\": {\"a\": \"b\"}, \"endsAt\": \"2026-11-23 03:00\"}]",
                     "alert 0: endsAt is not an RFC 3339 time: \"2026-11-23 03:00\"");
    expect_one_error("[{\"labels\": {\"a\": \"b\"}, \"endsAt\": \"2026-02-30T00:00:00Z\"}]",
                     "alert 0: endsAt is not an RFC 3339 time: \"2026-02-30T00:00:00Z\"");
    expect_one_error("[{\"labels\": {\"a\": \"b\"}, \"startsAt\": 1795403700}]",
                     "alert 0: startsAt must be an RFC 3339 time string");
}
END_TEST

START_TEST(test_ends_before_starts_is_invalid)
{
    expect_one_error("[{\"labels\": {\"a\": \"b\"}, \"startsAt\": \"2026-11-23T03:00:00Z\","
                     " \"endsAt\": \"2026-11-23T02:59:59.999Z\"}]",
                     "alert 0: endsAt is before startsAt");
}
END_TEST

START_TEST(test_ends_in_the_past_is_resolved_with_ended_at)
{
    struct am_batch b;
    const struct tocsin_alert *a;

    parse_fixture("prometheus_resolved.json", &b);
    ck_assert_uint_eq(b.n_alerts, 1);
    a = &b.alerts[0];
    ck_assert_int_eq(a->status, TOCSIN_RESOLVED);
    ck_assert_int_eq(a->ended_at, T_0310);
    ck_assert_int_eq(a->expires_at, 0);
    ck_assert_int_eq(a->started_at, T_0200);
    ck_assert_int_eq(a->severity, TOCSIN_SEV_HIGH);
    ck_assert_str_eq(a->summary, "web3 is down");
    am_batch_free(&b);

    /* endsAt == now is over, too. */
    ck_assert_int_eq(parse_str("[{\"labels\": {\"a\": \"b\"}, \"startsAt\": \"2026-11-23T03:10:00Z\","
                               " \"endsAt\": \"2026-11-23T03:15:00Z\"}]", &b), TOCSIN_OK);
    ck_assert_int_eq(b.alerts[0].status, TOCSIN_RESOLVED);
    ck_assert_int_eq(b.alerts[0].ended_at, NOW);
    am_batch_free(&b);
}
END_TEST

START_TEST(test_ends_in_the_future_is_firing_with_expires_at)
{
    struct am_batch b;

    ck_assert_int_eq(parse_str("[{\"labels\": {\"a\": \"b\"}, \"startsAt\": \"2026-11-23T03:10:00Z\","
                               " \"endsAt\": \"2026-11-23T03:19:00Z\"}]", &b), TOCSIN_OK);
    ck_assert_int_eq(b.alerts[0].status, TOCSIN_FIRING);
    ck_assert_int_eq(b.alerts[0].expires_at, T_0319);
    ck_assert_int_eq(b.alerts[0].ended_at, 0);
    ck_assert_int_eq(b.alerts[0].started_at, T_0310);
    am_batch_free(&b);
}
END_TEST

START_TEST(test_missing_times_follow_alertmanager_defaults)
{
    struct am_batch b;

    /* Only endsAt: startsAt = endsAt. */
    ck_assert_int_eq(parse_str("[{\"labels\": {\"a\": \"b\"}, \"endsAt\": \"2026-11-23T03:10:00Z\"}]",
                               &b), TOCSIN_OK);
    ck_assert_int_eq(b.alerts[0].started_at, T_0310);
    ck_assert_int_eq(b.alerts[0].status, TOCSIN_RESOLVED);
    am_batch_free(&b);

    /* Go's zero time, null and "" mean unset. */
    ck_assert_int_eq(parse_str("[{\"labels\": {\"a\": \"b\"}, \"startsAt\": \"0001-01-01T00:00:00Z\","
                               " \"endsAt\": \"0001-01-01T00:00:00.000Z\"},"
                               " {\"labels\": {\"a\": \"c\"}, \"startsAt\": null, \"endsAt\": \"\"}]",
                               &b), TOCSIN_OK);
    ck_assert_uint_eq(b.n_alerts, 2);
    ck_assert_int_eq(b.alerts[0].started_at, NOW);
    ck_assert_int_eq(b.alerts[0].status, TOCSIN_FIRING);
    ck_assert_int_eq(b.alerts[0].expires_at, NOW + FIVE_MIN);
    ck_assert_int_eq(b.alerts[1].started_at, NOW);
    am_batch_free(&b);

    /* resolve_timeout 0: no endsAt means firing until resolved. */
    {
        const char *one = "[{\"labels\": {\"a\": \"b\"}}]";

        ck_assert_int_eq(am_parse(one, strlen(one), NOW, 0, &b), TOCSIN_OK);
    }
    ck_assert_int_eq(b.alerts[0].expires_at, 0);
    am_batch_free(&b);
}
END_TEST

START_TEST(test_partial_batch_keeps_valid_and_indexes_errors)
{
    struct am_batch b;
    json_t *j, *detail;
    char *body;

    parse_fixture("batch_partial.json", &b);
    ck_assert_uint_eq(b.n_alerts, 2);
    ck_assert_str_eq(b.alerts[0].summary, "first is fine");
    ck_assert_int_eq(b.alerts[0].severity, TOCSIN_SEV_CRITICAL); /* "page" */
    ck_assert_str_eq(b.alerts[1].summary, "Third");
    ck_assert_int_eq(b.alerts[1].severity, TOCSIN_SEV_MEDIUM); /* "warn" */
    ck_assert_uint_eq(b.n_invalid, 3);
    ck_assert_uint_eq(b.n_errors, 3);

    body = am_invalid_body(&b, NULL);
    j = load_json(body);
    ck_assert_str_eq(json_string_value(json_object_get(j, "error")), "invalid alerts");
    detail = json_object_get(j, "detail");
    ck_assert(json_is_array(detail));
    ck_assert_uint_eq(json_array_size(detail), 3);
    ck_assert_str_eq(json_string_value(json_array_get(detail, 0)),
                     "alert 1: labels must not be empty");
    ck_assert_str_eq(json_string_value(json_array_get(detail, 1)),
                     "alert 3: endsAt is before startsAt");
    ck_assert_str_eq(json_string_value(json_array_get(detail, 2)),
                     "alert 4: startsAt is not an RFC 3339 time: \"yesterday\"");
    json_decref(j);
    free(body);

    /* The core's refusal is listed after ours. */
    body = am_invalid_body(&b, "store refused");
    j = load_json(body);
    detail = json_object_get(j, "detail");
    ck_assert_uint_eq(json_array_size(detail), 4);
    ck_assert_str_eq(json_string_value(json_array_get(detail, 3)), "store refused");
    json_decref(j);
    free(body);
    am_batch_free(&b);
}
END_TEST

START_TEST(test_error_list_is_capped)
{
    struct am_batch b;
    size_t i, n = AM_MAX_ERRORS + 50;
    char *text = malloc(n * 4 + 3), *p = text, *body;
    json_t *j, *detail;

    *p++ = '[';
    for (i = 0; i < n; i++) {
        memcpy(p, i ? ",{}" : "{}", i ? 3 : 2);
        p += i ? 3 : 2;
    }
    *p++ = ']';
    *p = '\0';
    ck_assert_int_eq(parse_str(text, &b), TOCSIN_OK);
    ck_assert_uint_eq(b.n_invalid, n);
    ck_assert_uint_eq(b.n_errors, AM_MAX_ERRORS);
    body = am_invalid_body(&b, NULL);
    j = load_json(body);
    detail = json_object_get(j, "detail");
    ck_assert_uint_eq(json_array_size(detail), AM_MAX_ERRORS + 1);
    ck_assert_str_eq(json_string_value(json_array_get(detail, AM_MAX_ERRORS)),
                     "... and 50 more invalid alerts");
    json_decref(j);
    free(body);
    free(text);
    am_batch_free(&b);
}
END_TEST

START_TEST(test_empty_array_is_fine)
{
    struct am_batch b;

    ck_assert_int_eq(parse_str("[]", &b), TOCSIN_OK);
    ck_assert_uint_eq(b.n_alerts, 0);
    ck_assert_uint_eq(b.n_invalid, 0);
    am_batch_free(&b);
}
END_TEST

START_TEST(test_utf8_label_names_are_accepted)
{
    struct am_batch b;
    const struct tocsin_alert *a;
    char fp[17];
    /* Sorted bytewise, as Go sorts strings. */
    const char *labels[] = { "alertname", "\xc3\x9c" "berhitzung", "http.status_code", "503",
                             "r\xc3\xa9gion", "eu-west-3", "\xf0\x9f\x94\xa5", "yes" };

    parse_fixture("utf8_labels.json", &b);
    ck_assert_uint_eq(b.n_alerts, 1);
    a = &b.alerts[0];
    ck_assert_uint_eq(a->n_labels, 4);
    ck_assert_str_eq(kv(a->labels, a->n_labels, "r\xc3\xa9gion"), "eu-west-3");
    ck_assert_str_eq(kv(a->labels, a->n_labels, "\xf0\x9f\x94\xa5"), "yes");
    ck_assert_str_eq(a->summary, "Temp\xc3\xa9rature \xc3\xa9lev\xc3\xa9" "e \xe2\x80\x94 "
                                 "\xf0\x9f\x94\xa5");
    fnv_hex(labels, 4, fp);
    ck_assert_str_eq(a->dedup_key, fp);
    am_batch_free(&b);
}
END_TEST

START_TEST(test_fingerprint_matches_prometheus_vectors)
{
    struct am_batch b;

    /* Expected values from prometheus/common model/signature_test.go
     * (TestMetricToFingerprint, BenchmarkMetricToFingerprintSingle). */
    ck_assert_int_eq(parse_str("[{\"labels\": {\"name\": \"garland, briggs\","
                               " \"fear\": \"love is not enough\"}},"
                               " {\"labels\": {\"first-label\": \"first-label-value\"}},"
                               " {\"labels\": {\"third-label\": \"third-label-value\","
                               " \"second-label\": \"second-label-value\","
                               " \"first-label\": \"first-label-value\"}}]", &b), TOCSIN_OK);
    ck_assert_uint_eq(b.n_alerts, 3);
    ck_assert_str_eq(b.alerts[0].dedup_key, "507a62d79ee76c9a"); /* 5799056148416392346 */
    ck_assert_str_eq(b.alerts[1].dedup_key, "476b44f5db3e21f9"); /* 5146282821936882169 */
    ck_assert_str_eq(b.alerts[2].dedup_key, "c01c58139d52b4b9"); /* 13843036195897128121 */
    am_batch_free(&b);

    /* Annotations and times do not change identity; an empty label does not either. */
    ck_assert_int_eq(parse_str("[{\"labels\": {\"fear\": \"love is not enough\", \"x\": \"\","
                               " \"name\": \"garland, briggs\"}, \"annotations\": {\"a\": \"b\"},"
                               " \"startsAt\": \"2026-11-23T03:00:00Z\"}]", &b), TOCSIN_OK);
    ck_assert_str_eq(b.alerts[0].dedup_key, "507a62d79ee76c9a");
    am_batch_free(&b);
}
END_TEST

START_TEST(test_severity_mapping)
{
    static const struct {
        const char *in;
        enum tocsin_severity out;
    } cases[] = {
        { "critical", TOCSIN_SEV_CRITICAL }, { "CRITICAL", TOCSIN_SEV_CRITICAL },
        { "page", TOCSIN_SEV_CRITICAL },     { "P0", TOCSIN_SEV_CRITICAL },
        { "crit", TOCSIN_SEV_CRITICAL },     { "high", TOCSIN_SEV_HIGH },
        { "error", TOCSIN_SEV_HIGH },        { "major", TOCSIN_SEV_HIGH },
        { "warning", TOCSIN_SEV_MEDIUM },    { "warn", TOCSIN_SEV_MEDIUM },
        { "medium", TOCSIN_SEV_MEDIUM },     { "low", TOCSIN_SEV_LOW },
        { "minor", TOCSIN_SEV_LOW },         { "info", TOCSIN_SEV_INFO },
        { "none", TOCSIN_SEV_INFO },         { "bogus", TOCSIN_SEV_MEDIUM },
        { "", TOCSIN_SEV_MEDIUM },
    };
    struct am_batch b;
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_msg(am_severity(cases[i].in) == cases[i].out, "severity \"%s\"", cases[i].in);
    ck_assert_int_eq(am_severity(NULL), TOCSIN_SEV_MEDIUM);

    /* And through the parser, from labels.severity. */
    ck_assert_int_eq(parse_str("[{\"labels\": {\"a\": \"1\", \"severity\": \"info\"}},"
                               " {\"labels\": {\"a\": \"2\", \"severity\": \"page\"}},"
                               " {\"labels\": {\"a\": \"3\"}}]", &b), TOCSIN_OK);
    ck_assert_int_eq(b.alerts[0].severity, TOCSIN_SEV_INFO);
    ck_assert_int_eq(b.alerts[1].severity, TOCSIN_SEV_CRITICAL);
    ck_assert_int_eq(b.alerts[2].severity, TOCSIN_SEV_MEDIUM);
    am_batch_free(&b);
}
END_TEST

START_TEST(test_summary_fallbacks)
{
    struct am_batch b;

    ck_assert_int_eq(
        parse_str("["
                  "{\"labels\": {\"alertname\": \"A\"}, \"annotations\": {\"summary\": \"S\","
                  " \"description\": \"D\"}},"
                  "{\"labels\": {\"alertname\": \"A\"}, \"annotations\": {\"description\":"
                  " \"  first line  \\r\\nsecond\"}},"
                  "{\"labels\": {\"alertname\": \"A\"}, \"annotations\": {\"summary\": \" \\n \","
                  " \"description\": \"\\n\\n\"}},"
                  "{\"labels\": {\"job\": \"node\", \"instance\": \"db1\"}},"
                  "{\"labels\": {\"alertname\": \"A\"}, \"annotations\": {\"summary\":"
                  " \"two\\nlines\"}}"
                  "]", &b), TOCSIN_OK);
    ck_assert_uint_eq(b.n_alerts, 5);
    ck_assert_str_eq(b.alerts[0].summary, "S");
    ck_assert_str_eq(b.alerts[0].details, "D");
    ck_assert_str_eq(b.alerts[1].summary, "first line");
    ck_assert_str_eq(b.alerts[2].summary, "A");
    ck_assert_str_eq(b.alerts[3].summary, "{job=\"node\", instance=\"db1\"}");
    ck_assert_str_eq(b.alerts[4].summary, "two");
    am_batch_free(&b);
}
END_TEST

START_TEST(test_long_label_summary_is_cut_on_a_character)
{
    struct am_batch b;
    char text[1024], *p = text;
    size_t i, len;
    json_t *s;

    /* 150 two-byte characters in one value, no alertname. */
    p += sprintf(p, "[{\"labels\": {\"x\": \"");
    for (i = 0; i < 150; i++)
        p += sprintf(p, "\xc3\xa9");
    sprintf(p, "\"}}]");
    ck_assert_int_eq(parse_str(text, &b), TOCSIN_OK);
    len = strlen(b.alerts[0].summary);
    ck_assert_uint_le(len, 204);
    ck_assert_str_eq(b.alerts[0].summary + len - 4, "...}");
    s = json_string(b.alerts[0].summary); /* NULL when not UTF-8 */
    ck_assert_ptr_nonnull(s);
    json_decref(s);
    am_batch_free(&b);
}
END_TEST

/* ---- alertmanager.c through a fake host ---------------------------------- */

/* A conf struct filled the way the core fills it: defaults from the
 * option table (string and duration defaults used here). */
static void *conf_new(void)
{
    const struct tocsin_option *o;
    char *conf = calloc(1, tocsin_plugin.conf_size);

    ck_assert_ptr_nonnull(conf);
    for (o = tocsin_plugin.options; o && o->name; o++) {
        if (o->type == TOCSIN_OPT_STRING)
            *(const char **)(void *)(conf + o->offset) = o->def;
        else if (o->type == TOCSIN_OPT_DURATION)
            *(int64_t *)(void *)(conf + o->offset) = strcmp(o->def, "5m") == 0 ? FIVE_MIN : -1;
    }
    return conf;
}

static void conf_set_str(void *conf, const char *name, const char *value)
{
    const struct tocsin_option *o;

    for (o = tocsin_plugin.options; o->name; o++)
        if (strcmp(o->name, name) == 0) {
            ck_assert_int_eq(o->type, TOCSIN_OPT_STRING);
            *(const char **)(void *)((char *)conf + o->offset) = value;
            return;
        }
    ck_abort_msg("no option %s", name);
}

struct served {
    struct fake_host f;
    void *conf, *self;
    struct tocsin_http_response resp;
};

static void serve(struct served *s, const char *body)
{
    fake_host_post(&s->f, body, &s->resp);
}

static void served_start(struct served *s)
{
    memset(s, 0, sizeof *s);
    fake_host_init(&s->f, "prom", NOW);
    s->conf = conf_new();
    ck_assert_int_eq(tocsin_plugin.create(&s->f.host, s->conf, &s->self), TOCSIN_OK);
}

static void served_end(struct served *s)
{
    free(s->resp.body);
    tocsin_plugin.destroy(s->self);
    free(s->conf);
}

static json_t *resp_json(const struct served *s)
{
    return load_json(s->resp.body);
}

START_TEST(test_descriptor_and_options)
{
    const struct tocsin_option *o = tocsin_plugin.options;

    ck_assert_uint_eq(tocsin_plugin.magic, TOCSIN_PLUGIN_MAGIC);
    ck_assert_int_eq(tocsin_plugin.kind, TOCSIN_INPUT);
    ck_assert_str_eq(tocsin_plugin.name, "alertmanager");
    ck_assert_str_eq(o[0].name, "path");
    ck_assert_int_eq(o[0].type, TOCSIN_OPT_STRING);
    ck_assert_str_eq(o[0].def, "/api/v2/alerts");
    ck_assert_str_eq(o[1].name, "resolve_timeout");
    ck_assert_int_eq(o[1].type, TOCSIN_OPT_DURATION);
    ck_assert_str_eq(o[1].def, "5m");
    ck_assert_ptr_null(o[2].name);
}
END_TEST

START_TEST(test_registers_post_on_path)
{
    struct served s;

    served_start(&s);
    ck_assert_int_eq(s.f.routes, 1);
    ck_assert_str_eq(s.f.method, "POST");
    ck_assert_str_eq(s.f.path, "/api/v2/alerts");
    served_end(&s);

    fake_host_init(&s.f, "prom", NOW);
    s.conf = conf_new();
    conf_set_str(s.conf, "path", "/prom/alerts");
    ck_assert_int_eq(tocsin_plugin.create(&s.f.host, s.conf, &s.self), TOCSIN_OK);
    ck_assert_str_eq(s.f.path, "/prom/alerts");
    memset(&s.resp, 0, sizeof s.resp);
    served_end(&s);

    fake_host_init(&s.f, "prom", NOW);
    s.conf = conf_new();
    conf_set_str(s.conf, "path", "alerts");
    ck_assert_int_eq(tocsin_plugin.create(&s.f.host, s.conf, &s.self), TOCSIN_ERROR);
    ck_assert_msg(strstr(s.f.failed, "path must start with '/'") != NULL, "%s", s.f.failed);
    ck_assert_int_eq(s.f.routes, 0);
    free(s.conf);
}
END_TEST

START_TEST(test_valid_batch_is_200_empty)
{
    struct served s;
    size_t len;
    char *body = read_fixture("batch_valid.json", &len);

    served_start(&s);
    serve(&s, body);
    ck_assert_int_eq(s.resp.status, 200);
    ck_assert_ptr_null(s.resp.body);
    ck_assert_int_eq(s.f.emits, 1);
    ck_assert_uint_eq(s.f.emitted, 3);
    ck_assert_str_eq(s.f.first_summary, "Disk 97% full on db1");
    served_end(&s);
    free(body);
}
END_TEST

/* Alertmanager answers a body that is not declared JSON with 415 and this
 * exact text; so do we, before parsing or storing anything. */
START_TEST(test_not_json_is_415_as_alertmanager)
{
    static const struct {
        const char *type, *message;
    } cases[] = {
        { "text/plain", "unsupported media type \"text/plain\", only [application/json] are allowed" },
        { "application/x-www-form-urlencoded; charset=UTF-8",
          "unsupported media type \"application/x-www-form-urlencoded\", only [application/json] are allowed" },
        { NULL, "unsupported media type \"application/octet-stream\", only [application/json] are allowed" },
    };
    struct served s;
    size_t len, i;
    char *body = read_fixture("batch_valid.json", &len);
    json_t *j;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        served_start(&s);
        s.f.content_type = cases[i].type;
        serve(&s, body);
        ck_assert_int_eq(s.resp.status, 415);
        j = json_loads(s.resp.body, 0, NULL);
        ck_assert_ptr_nonnull(j);
        ck_assert_int_eq(json_integer_value(json_object_get(j, "code")), 415);
        ck_assert_str_eq(json_string_value(json_object_get(j, "message")), cases[i].message);
        ck_assert_int_eq(s.f.emits, 0);
        json_decref(j);
        served_end(&s);
    }
    /* Parameters and case do not matter, as in Alertmanager. */
    served_start(&s);
    s.f.content_type = "Application/JSON; charset=utf-8";
    serve(&s, body);
    ck_assert_int_eq(s.resp.status, 200);
    served_end(&s);
    free(body);
}
END_TEST

START_TEST(test_partial_batch_emits_valid_and_is_400)
{
    struct served s;
    size_t len;
    char *body = read_fixture("batch_partial.json", &len);
    json_t *j;

    served_start(&s);
    serve(&s, body);
    ck_assert_int_eq(s.f.emits, 1);
    ck_assert_uint_eq(s.f.emitted, 2);
    ck_assert_int_eq(s.resp.status, 400);
    j = resp_json(&s);
    ck_assert_str_eq(json_string_value(json_object_get(j, "error")), "invalid alerts");
    ck_assert_uint_eq(json_array_size(json_object_get(j, "detail")), 3);
    json_decref(j);
    served_end(&s);
    free(body);
}
END_TEST

START_TEST(test_all_invalid_emits_nothing)
{
    struct served s;

    served_start(&s);
    serve(&s, "[{\"labels\": {}}]");
    ck_assert_int_eq(s.f.emits, 0);
    ck_assert_int_eq(s.resp.status, 400);
    served_end(&s);
}
END_TEST

START_TEST(test_malformed_and_object_bodies_are_400)
{
    struct served s;
    json_t *j;

    served_start(&s);
    serve(&s, "[{\"labels\": ");
    ck_assert_int_eq(s.resp.status, 400);
    ck_assert_int_eq(s.f.emits, 0);
    j = resp_json(&s);
    ck_assert_str_eq(json_string_value(json_object_get(j, "error")), "malformed JSON");
    ck_assert(strncmp(json_string_value(json_object_get(j, "detail")), "line 1 column ", 14) == 0);
    json_decref(j);
    free(s.resp.body);

    serve(&s, "{\"labels\": {\"a\": \"b\"}}");
    ck_assert_int_eq(s.resp.status, 400);
    j = resp_json(&s);
    ck_assert_str_eq(json_string_value(json_object_get(j, "error")),
                     "body must be a JSON array of alerts");
    json_decref(j);
    served_end(&s);
}
END_TEST

START_TEST(test_emit_errors_map_to_status)
{
    static const struct {
        int rc;
        int status, retry_after;
        const char *error;
    } cases[] = {
        { TOCSIN_EBUSY, 503, 1, "intake queue full" },
        { TOCSIN_ESHUTDOWN, 503, 0, "shutting down" },
        { TOCSIN_EINVAL, 400, 0, "invalid alerts" },
        { TOCSIN_EIO, 500, 0, "storing alerts failed" },
        { TOCSIN_ERROR, 500, 0, "storing alerts failed" },
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct served s;
        json_t *j;

        served_start(&s);
        s.f.emit_rc = cases[i].rc;
        s.f.emit_err = "summary too long";
        serve(&s, "[{\"labels\": {\"alertname\": \"A\"}}]");
        ck_assert_int_eq(s.f.emits, 1);
        ck_assert_int_eq(s.resp.status, cases[i].status);
        ck_assert_int_eq(s.resp.retry_after, cases[i].retry_after);
        j = resp_json(&s);
        ck_assert_str_eq(json_string_value(json_object_get(j, "error")), cases[i].error);
        if (cases[i].rc == TOCSIN_EINVAL)
            ck_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "detail"), 0)),
                             "summary too long");
        json_decref(j);
        served_end(&s);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("alertmanager");
    TCase *parse = tcase_create("parse");
    TCase *plugin = tcase_create("plugin");

    tcase_add_test(parse, test_valid_batch_maps_every_field);
    tcase_add_test(parse, test_single_object_is_400_body_must_be_array);
    tcase_add_test(parse, test_malformed_json_says_line_and_column);
    tcase_add_test(parse, test_malformed_json_with_bad_utf8_gives_valid_json_answer);
    tcase_add_test(parse, test_labels_missing_empty_or_not_strings);
    tcase_add_test(parse, test_annotations_and_generator_url_types);
    tcase_add_test(parse, test_bad_time_is_invalid);
    tcase_add_test(parse, test_ends_before_starts_is_invalid);
    tcase_add_test(parse, test_ends_in_the_past_is_resolved_with_ended_at);
    tcase_add_test(parse, test_ends_in_the_future_is_firing_with_expires_at);
    tcase_add_test(parse, test_missing_times_follow_alertmanager_defaults);
    tcase_add_test(parse, test_partial_batch_keeps_valid_and_indexes_errors);
    tcase_add_test(parse, test_error_list_is_capped);
    tcase_add_test(parse, test_empty_array_is_fine);
    tcase_add_test(parse, test_utf8_label_names_are_accepted);
    tcase_add_test(parse, test_fingerprint_matches_prometheus_vectors);
    tcase_add_test(parse, test_severity_mapping);
    tcase_add_test(parse, test_summary_fallbacks);
    tcase_add_test(parse, test_long_label_summary_is_cut_on_a_character);
    suite_add_tcase(s, parse);

    tcase_add_test(plugin, test_descriptor_and_options);
    tcase_add_test(plugin, test_registers_post_on_path);
    tcase_add_test(plugin, test_valid_batch_is_200_empty);
    tcase_add_test(plugin, test_not_json_is_415_as_alertmanager);
    tcase_add_test(plugin, test_partial_batch_emits_valid_and_is_400);
    tcase_add_test(plugin, test_all_invalid_emits_nothing);
    tcase_add_test(plugin, test_malformed_and_object_bodies_are_400);
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
