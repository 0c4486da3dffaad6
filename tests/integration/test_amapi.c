/* test_amapi.c: Alertmanager's read API on the real tocsind: GET
 * /api/v2/alerts (shape, filters, muted alerts, errors), /api/v2/status and
 * /api/v2/receivers, the read token, and amtool itself reading tocsind. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common.h"
#include "harness.h"

#define READ_TOKEN "r-am-0123456789abcdef0123456789ab"
#define WRITE_TOKEN "w-am-0123456789abcdef0123456789ab"

/* tocsind (in d, h_init()ed) with the alertmanager input, two console
 * sinks (critical alerts go to "pager" and "ops", the rest to "ops"), the
 * test policy "mute" (mute="yes": suppressed by "test-window"), and
 * daemon_extra pasted into daemon. */
static void start(struct h_daemon *d, const char *daemon_extra)
{
    char plugins[H_PATH_MAX];

    snprintf(plugins, sizeof plugins, "%s/plugins", d->dir);
    ck_assert_int_eq(mkdir(plugins, 0755), 0);
    h_copy_plugin(getenv("TOCSIN_PLUGIN_DIR"), plugins, "input_alertmanager.so");
    h_copy_plugin(getenv("TOCSIN_PLUGIN_DIR"), plugins, "sink_console.so");
    h_copy_plugin(getenv("TOCSIN_TEST_PLUGIN_DIR"), plugins, "policy_mute.so");
    h_write_config(d,
                   "daemon = { listen = \"127.0.0.1:0\"; state_dir = \"%s\";\n"
                   "           plugin_dir = \"%s\"; log_level = \"debug\"; %s };\n"
                   "inputs = ( { id = \"prom\"; plugin = \"alertmanager\"; } );\n"
                   "policies = ( { id = \"mute\"; plugin = \"mute\"; } );\n"
                   "sinks = ( { id = \"ops\"; plugin = \"console\"; path = \"%s\"; },\n"
                   "          { id = \"pager\"; plugin = \"console\"; path = \"%s.pager\"; } );\n"
                   "routes = ( { match = { severity = [ \"critical\" ]; };\n"
                   "             sinks = [ \"pager\" ]; continue = true; },\n"
                   "           { sinks = [ \"ops\" ]; } );\n",
                   d->state_dir, plugins, daemon_extra ? daemon_extra : "", d->console,
                   d->console);
    h_start(d);
}

/* RFC 3339 with milliseconds, as both sides write it. */
static void at(time_t t, char *buf, size_t size)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
}

/* POSTs one Alertmanager alert: labels alertname, instance, severity and
 * extra ("" or "mute"/"yes"), started 2 min ago, endsAt now + ends_in_s
 * (0: none), and waits for its incident to be stored. */
static void post(const struct h_daemon *d, const char *name, const char *instance,
                 const char *severity, const char *extra_k, const char *extra_v, int ends_in_s)
{
    char starts[40], ends[40], fp[17];
    json_t *alert, *arr;
    struct h_resp r;
    char *body;
    int i;

    at(time(NULL) - 120, starts, sizeof starts);
    alert = json_pack("{s:{s:s, s:s, s:s}, s:{s:s}, s:s, s:s}", "labels", "alertname", name,
                      "instance", instance, "severity", severity, "annotations", "summary",
                      "it broke", "startsAt", starts, "generatorURL",
                      "http://prom.example:9090/graph?g0.expr=up");
    if (extra_k)
        json_object_set_new(json_object_get(alert, "labels"), extra_k, json_string(extra_v));
    if (ends_in_s) {
        at(time(NULL) + ends_in_s, ends, sizeof ends);
        json_object_set_new(alert, "endsAt", json_string(ends));
    }
    arr = json_pack("[o]", alert);
    body = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    ck_assert_int_eq(h_req(d, "POST", "/api/v2/alerts", body, &r), 200);
    h_resp_free(&r);
    free(body);
    if (extra_k)
        return; /* not the plain fingerprint: the caller waits */
    h_am_fingerprint(name, instance, severity, fp);
    for (i = 0; i < 250 && h_incident_by_key(d, fp) < 0; i++)
        h_sleep_ms(20);
    h_assert(d, h_incident_by_key(d, fp) > 0, "no incident for %s", name);
}

/* Percent-encodes a query value. */
static void enc(const char *s, char *out, size_t size)
{
    size_t o = 0;

    for (; *s && o + 4 < size; s++) {
        unsigned char c = (unsigned char)*s;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.')
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, size - o, "%%%02X", c);
    }
    out[o] = '\0';
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* GET /api/v2/alerts?query (200 required): the alertnames, sorted and
 * joined with ",". */
static char *names(const struct h_daemon *d, const char *query)
{
    char path[1024], *out = calloc(1, 1024);
    const char *v[64];
    json_t *arr, *a;
    struct h_resp r;
    size_t i, n = 0;

    snprintf(path, sizeof path, "/api/v2/alerts%s%s", *query ? "?" : "", query);
    h_assert(d, h_req(d, "GET", path, NULL, &r) == 200, "GET %s: %ld %s", path, r.status,
             r.body);
    arr = h_json(&r);
    ck_assert(json_is_array(arr));
    json_array_foreach(arr, i, a) {
        ck_assert_uint_lt(n, 64);
        v[n] = h_jsub(a, "labels", "alertname");
        ck_assert_ptr_nonnull(v[n]);
        n++;
    }
    qsort(v, n, sizeof v[0], by_name);
    for (i = 0; i < n; i++) {
        if (i)
            strcat(out, ",");
        strncat(out, v[i], 100);
    }
    json_decref(arr);
    h_resp_free(&r);
    return out;
}

/* Polls names(d, "") until it is want (the intake stores asynchronously). */
static void wait_names(const struct h_daemon *d, const char *want)
{
    char *got = NULL;
    int i;

    for (i = 0; i < 250; i++) {
        free(got);
        got = names(d, "");
        if (strcmp(got, want) == 0)
            break;
        h_sleep_ms(20);
    }
    h_assert(d, strcmp(got, want) == 0, "open alerts: [%s], want [%s]", got, want);
    free(got);
}

static void expect_names(const struct h_daemon *d, const char *query, const char *want)
{
    char *got = names(d, query);

    h_assert(d, strcmp(got, want) == 0, "GET /api/v2/alerts?%s: got [%s], want [%s]", query,
             got, want);
    free(got);
}

static json_t *find_alert(json_t *arr, const char *name)
{
    size_t i;
    json_t *a;

    json_array_foreach(arr, i, a) {
        const char *n = h_jsub(a, "labels", "alertname");

        if (n && strcmp(n, name) == 0)
            return a;
    }
    return NULL;
}

/* Every member and value of one alert, as Alertmanager 0.25 writes it. */
START_TEST(test_alerts_in_alertmanagers_shape)
{
    struct h_daemon d;
    char starts[40], ends[40], fp[17], *text;
    json_t *arr, *a, *want;
    int64_t ms, before = (int64_t)time(NULL) * 1000;
    struct h_resp r;

    h_init(&d);
    start(&d, NULL);
    at(time(NULL) - 120, starts, sizeof starts);
    at(time(NULL) + 600, ends, sizeof ends);
    post(&d, "DiskFull", "db-1", "high", NULL, NULL, 600);
    post(&d, "MemHigh", "db-2", "critical", NULL, NULL, 0);
    post(&d, "Gone", "db-3", "high", NULL, NULL, 0);
    post(&d, "Gone", "db-3", "high", NULL, NULL, -60); /* resolved: not listed */
    wait_names(&d, "DiskFull,MemHigh");
    ck_assert_int_eq(h_req(&d, "GET", "/api/v2/alerts", NULL, &r), 200);
    ck_assert_str_eq(r.content_type, "application/json");
    arr = h_json(&r);
    h_resp_free(&r);
    ck_assert_uint_eq(json_array_size(arr), 2);

    a = find_alert(arr, "DiskFull");
    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq(json_object_size(a), 9);
    ck_assert_int_eq(tc_time_parse(h_jstr(a, "updatedAt"), &ms), 0);
    ck_assert_int_ge(ms, before - 1000);
    json_object_del(a, "updatedAt");
    h_am_fingerprint("DiskFull", "db-1", "high", fp);
    want = json_pack("{s:{s:s, s:s, s:s}, s:{s:s}, s:s, s:s, s:s, s:s, s:[{s:s}],"
                     " s:{s:s, s:[], s:[]}}",
                     "labels", "alertname", "DiskFull", "instance", "db-1", "severity", "high",
                     "annotations", "summary", "it broke", "startsAt", starts, "endsAt", ends,
                     "generatorURL", "http://prom.example:9090/graph?g0.expr=up",
                     "fingerprint", fp, "receivers", "name", "ops", "status", "state", "active",
                     "silencedBy", "inhibitedBy");
    text = json_dumps(a, JSON_SORT_KEYS);
    h_assert(&d, json_equal(a, want), "DiskFull: %s", text);
    free(text);
    json_decref(want);

    /* Routed to two sinks; no endsAt from Prometheus: the input's expiry. */
    a = find_alert(arr, "MemHigh");
    ck_assert_ptr_nonnull(a);
    text = json_dumps(json_object_get(a, "receivers"), JSON_COMPACT);
    ck_assert_str_eq(text, "[{\"name\":\"ops\"},{\"name\":\"pager\"}]");
    free(text);
    ck_assert_int_eq(tc_time_parse(h_jstr(a, "endsAt"), &ms), 0);
    ck_assert_int_gt(ms, (int64_t)time(NULL) * 1000);
    h_am_fingerprint("MemHigh", "db-2", "critical", fp);
    ck_assert_str_eq(h_jstr(a, "fingerprint"), fp);
    json_decref(arr);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    h_passed();
}
END_TEST

START_TEST(test_filters_as_alertmanager)
{
    struct h_daemon d;
    char q[512], v1[128], v2[128];

    h_init(&d);
    start(&d, NULL);
    post(&d, "DiskFull", "db-1", "high", NULL, NULL, 600);
    post(&d, "MemHigh", "db-2", "critical", NULL, NULL, 600);
    expect_names(&d, "", "DiskFull,MemHigh");
    expect_names(&d, "filter=alertname%3DDiskFull", "DiskFull");
    enc("alertname=\"MemHigh\"", v1, sizeof v1);
    snprintf(q, sizeof q, "filter=%s", v1);
    expect_names(&d, q, "MemHigh");
    /* Several filters: all must match. */
    enc("severity=~\"high|critical\"", v1, sizeof v1);
    enc("instance!=\"db-1\"", v2, sizeof v2);
    snprintf(q, sizeof q, "filter=%s&filter=%s", v1, v2);
    expect_names(&d, q, "MemHigh");
    /* Anchored regexes; an absent label is "". */
    enc("alertname=~\"Disk\"", v1, sizeof v1);
    snprintf(q, sizeof q, "filter=%s", v1);
    expect_names(&d, q, "");
    enc("team=\"\"", v1, sizeof v1);
    snprintf(q, sizeof q, "filter=%s", v1);
    expect_names(&d, q, "DiskFull,MemHigh");
    enc("alertname!~\"Mem.*\"", v1, sizeof v1);
    snprintf(q, sizeof q, "filter=%s", v1);
    expect_names(&d, q, "DiskFull");
    /* Receivers: an anchored regex on the sinks an incident went to. */
    expect_names(&d, "receiver=pager", "MemHigh");
    expect_names(&d, "receiver=pag", "");
    expect_names(&d, "receiver=ops", "DiskFull,MemHigh");
    expect_names(&d, "receiver=p.*", "MemHigh");
    /* State: both active. */
    expect_names(&d, "active=false", "");
    expect_names(&d, "active=true&silenced=false&inhibited=false&unprocessed=false",
                 "DiskFull,MemHigh");
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    h_passed();
}
END_TEST

/* 400 with Alertmanager's error shape: a JSON string saying what is wrong. */
static void expect_400(const struct h_daemon *d, const char *query, const char *want)
{
    char path[600];
    struct h_resp r;
    json_t *j;

    snprintf(path, sizeof path, "/api/v2/alerts?%s", query);
    h_assert(d, h_req(d, "GET", path, NULL, &r) == 400, "GET %s: %ld", path, r.status);
    j = json_loads(r.body, JSON_DECODE_ANY, NULL);
    ck_assert_msg(json_is_string(j), "%s", r.body);
    ck_assert_msg(strstr(json_string_value(j), want), "%s: %s", query, r.body);
    json_decref(j);
    h_resp_free(&r);
}

START_TEST(test_bad_arguments_are_400)
{
    struct h_daemon d;
    char q[256], v[128];

    h_init(&d);
    start(&d, NULL);
    post(&d, "DiskFull", "db-1", "high", NULL, NULL, 600);
    expect_400(&d, "filter=x~y", "matcher \"x~y\": expected =, !=, =~ or !~");
    enc("alertname=\"DiskFull", v, sizeof v);
    snprintf(q, sizeof q, "filter=alertname%%3DDiskFull&filter=%s", v);
    expect_400(&d, q, "matcher \"alertname=\"DiskFull\": the value's opening quote is never"
               " closed");
    enc("a=~\"(\"", v, sizeof v);
    snprintf(q, sizeof q, "filter=%s", v);
    expect_400(&d, q, "bad regex \"(\"");
    expect_400(&d, "filter=9x%3Dy", "label name \"9x\"");
    expect_400(&d, "receiver=%28", "failed to parse receiver param: \"(\"");
    expect_400(&d, "active=maybe", "query parameter active is \"maybe\": want true or false");
    expect_400(&d, "silenced=2", "query parameter silenced is \"2\"");
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    h_passed();
}
END_TEST

/* A muted incident (the test policy stands in for a maintenance window)
 * is "suppressed", silenced by what muted it, and sent nowhere. */
START_TEST(test_muted_alerts_are_suppressed)
{
    struct h_daemon d;
    json_t *arr, *a;
    struct h_resp r;
    char *text;

    h_init(&d);
    start(&d, NULL);
    post(&d, "DiskFull", "db-1", "high", NULL, NULL, 600);
    post(&d, "Maint", "db-9", "critical", "mute", "yes", 600);
    post(&d, "Quiet", "db-8", "high", "mute", "quiet", 600);
    wait_names(&d, "DiskFull,Maint,Quiet");
    ck_assert_int_eq(h_req(&d, "GET", "/api/v2/alerts", NULL, &r), 200);
    arr = h_json(&r);
    h_resp_free(&r);
    a = find_alert(arr, "Maint");
    text = json_dumps(json_object_get(a, "status"), JSON_SORT_KEYS | JSON_COMPACT);
    ck_assert_str_eq(text,
                     "{\"inhibitedBy\":[],\"silencedBy\":[\"test-window\"],\"state\":\"suppressed\"}");
    free(text);
    text = json_dumps(json_object_get(a, "receivers"), JSON_COMPACT);
    ck_assert_str_eq(text, "[]");
    free(text);
    /* Muted without naming a window: suppressed, silenced by nothing. */
    a = find_alert(arr, "Quiet");
    text = json_dumps(json_object_get(a, "status"), JSON_SORT_KEYS | JSON_COMPACT);
    ck_assert_str_eq(text, "{\"inhibitedBy\":[],\"silencedBy\":[],\"state\":\"suppressed\"}");
    free(text);
    json_decref(arr);
    /* amtool's default: silenced=false hides what a window silenced. */
    expect_names(&d, "silenced=false", "DiskFull,Quiet");
    expect_names(&d, "active=false", "Maint,Quiet");
    expect_names(&d, "active=false&silenced=false", "Quiet");
    expect_names(&d, "receiver=.*", "DiskFull");  /* nothing was sent for the muted */
    expect_names(&d, "filter=mute%3Dyes", "Maint");
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    h_passed();
}
END_TEST

START_TEST(test_status_and_receivers)
{
    struct h_daemon d;
    int64_t before = (int64_t)time(NULL) * 1000 - 1000, ms;
    json_t *st, *rc;
    char *text;

    h_init(&d);
    start(&d, NULL);
    st = h_get_json(&d, "/api/v2/status");
    ck_assert_str_eq(h_jsub(st, "cluster", "status"), "disabled");
    ck_assert_uint_eq(json_array_size(json_object_get(json_object_get(st, "cluster"), "peers")),
                      0);
    ck_assert_str_eq(h_jsub(st, "versionInfo", "version"), PACKAGE_VERSION);
    ck_assert_str_eq(h_jsub(st, "versionInfo", "goVersion"), "none");
    ck_assert_ptr_nonnull(h_jsub(st, "versionInfo", "revision"));
    ck_assert_ptr_nonnull(h_jsub(st, "config", "original"));
    /* Nothing of tocsin.conf: not even a sink's path. */
    ck_assert_ptr_null(strstr(h_jsub(st, "config", "original"), d.dir));
    ck_assert_int_eq(tc_time_parse(h_jstr(st, "uptime"), &ms), 0);
    ck_assert_int_ge(ms, before);
    ck_assert_int_le(ms, (int64_t)time(NULL) * 1000 + 1000);
    json_decref(st);
    rc = h_get_json(&d, "/api/v2/receivers");
    text = json_dumps(rc, JSON_COMPACT);
    ck_assert_str_eq(text, "[{\"name\":\"ops\"},{\"name\":\"pager\"}]");
    free(text);
    json_decref(rc);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    h_passed();
}
END_TEST

static long get_with(const struct h_daemon *d, const char *path, const char *token)
{
    char url[512], auth[128];
    const char *headers[2] = { auth, NULL };
    struct h_resp r;
    long status;

    snprintf(url, sizeof url, "%s%s", d->base, path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    h_http_ex("GET", url, NULL, 0, 10000, token ? headers : NULL, &r);
    status = r.status;
    h_resp_free(&r);
    return status;
}

/* With daemon.auth, reading needs a token (read is enough). */
START_TEST(test_read_token_gates)
{
    static const char *const paths[] = { "/api/v2/alerts", "/api/v2/status",
                                         "/api/v2/receivers" };
    struct h_daemon d;
    char extra[H_DIR_MAX + 256], path[H_PATH_MAX + 16];
    FILE *f;
    size_t i;

    h_init(&d);
    snprintf(path, sizeof path, "%s/read.token", d.dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "%s\n", READ_TOKEN);
    fclose(f);
    setenv("TEST_AM_WRITE_TOKEN", WRITE_TOKEN, 1);
    snprintf(extra, sizeof extra,
             "auth = { tokens = ( { token = \"env:TEST_AM_WRITE_TOKEN\"; role = \"write\"; },\n"
             "  { token = \"file:%s\"; role = \"read\"; } ); };", path);
    start(&d, extra);
    for (i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        ck_assert_int_eq(get_with(&d, paths[i], NULL), 401);
        ck_assert_int_eq(get_with(&d, paths[i], "wrong-token-0123456789abcdef"), 401);
        ck_assert_int_eq(get_with(&d, paths[i], READ_TOKEN), 200);
        ck_assert_int_eq(get_with(&d, paths[i], WRITE_TOKEN), 200);
    }
    ck_assert_int_eq(h_count_lines(d.log, READ_TOKEN), 0);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    h_passed();
}
END_TEST

/* Runs amtool against the daemon; its stdout (stderr dropped: amtool warns
 * that the versions differ) into a malloc()ed string. */
static char *amtool(const struct h_daemon *d, const char *args)
{
    char cmd[1024], *out = calloc(1, 65536);
    size_t n = 0, got;
    FILE *p;
    int rc;

    snprintf(cmd, sizeof cmd, "amtool --alertmanager.url=%s %s 2>/dev/null", d->base, args);
    p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    while (n + 1 < 65536 && (got = fread(out + n, 1, 65535 - n, p)) > 0)
        n += got;
    rc = pclose(p);
    h_assert(d, rc == 0, "%s: exit %d, output: %s", cmd, rc, out);
    return out;
}

static int lines_with(const char *text, const char *needle)
{
    int n = 0;
    const char *line = text;

    while (*line) {
        size_t len = strcspn(line, "\n");

        if (memmem(line, len, needle, strlen(needle)))
            n++;
        line += len + (line[len] == '\n');
    }
    return n;
}

/* The real amtool (Alertmanager 0.25's) lists tocsind's alerts. */
START_TEST(test_amtool_alert_query)
{
    struct h_daemon d;
    char *out, fp[17];
    json_t *j;

    ck_assert_msg(system("command -v amtool >/dev/null 2>&1") == 0,
                  "amtool not found: apt-get install prometheus-alertmanager");
    h_init(&d);
    start(&d, NULL);
    post(&d, "DiskFull", "db-1", "high", NULL, NULL, 600);
    post(&d, "MemHigh", "db-2", "critical", NULL, NULL, 600);
    post(&d, "Maint", "db-9", "critical", "mute", "yes", 600);
    wait_names(&d, "DiskFull,Maint,MemHigh");

    out = amtool(&d, "alert query");
    ck_assert_int_eq(lines_with(out, "Alertname"), 1);
    ck_assert_int_eq(lines_with(out, "DiskFull"), 1);
    ck_assert_int_eq(lines_with(out, "MemHigh"), 1);
    ck_assert_int_eq(lines_with(out, "Maint"), 0);   /* silenced: amtool asks without */
    ck_assert_int_eq(lines_with(out, "it broke"), 2);
    free(out);

    out = amtool(&d, "alert query alertname=DiskFull");
    ck_assert_int_eq(lines_with(out, "DiskFull"), 1);
    ck_assert_int_eq(lines_with(out, "MemHigh"), 0);
    free(out);

    out = amtool(&d, "alert query --silenced");
    ck_assert_int_eq(lines_with(out, "Maint"), 1);
    ck_assert_int_eq(lines_with(out, "DiskFull"), 0);
    free(out);

    out = amtool(&d, "alert query -o json 'instance=~\"db-[12]\"' severity=critical");
    j = json_loads(out, 0, NULL);
    h_assert(&d, json_is_array(j) && json_array_size(j) == 1, "amtool -o json: %s", out);
    h_am_fingerprint("MemHigh", "db-2", "critical", fp);
    ck_assert_str_eq(h_jstr(json_array_get(j, 0), "fingerprint"), fp);
    ck_assert_str_eq(h_jsub(json_array_get(j, 0), "status", "state"), "active");
    json_decref(j);
    free(out);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    h_passed();
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("amapi");
    TCase *tc = h_tcase("amapi", 90);

    tcase_add_test(tc, test_alerts_in_alertmanagers_shape);
    tcase_add_test(tc, test_filters_as_alertmanager);
    tcase_add_test(tc, test_bad_arguments_are_400);
    tcase_add_test(tc, test_muted_alerts_are_suppressed);
    tcase_add_test(tc, test_status_and_receivers);
    tcase_add_test(tc, test_read_token_gates);
    tcase_add_test(tc, test_amtool_alert_query);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(suite());
}
