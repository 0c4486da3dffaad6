/* test_maintenance_api.c: maintenance windows over HTTP in the real
 * tocsind: /api/v1/maintenance (create, list, get, delete, the 400s that
 * name the field, 404, 409 for tocsin.conf's windows, read and write
 * tokens, windows kept across a restart, a DELETE that ends the muting at
 * once), tocsin.conf's bad windows named by file:line, and Alertmanager's
 * /api/v2/silences driven by the real amtool. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "harness.h"

#define WRITE_TOKEN "w-maint0123456789abcdef0123456789"
#define READ_TOKEN "r-maint0123456789abcdef0123456789"
#define AMTOOL "/usr/bin/amtool"

struct fixture {
    struct peer *p;
    struct h_daemon d;
};

static void up_with(struct fixture *f, const char *daemon_extra)
{
    struct h_config c = { 0 };

    f->p = h_peer_started();
    c.peer_port = peer_port(f->p);
    c.no_console = 1;
    c.daemon_extra = daemon_extra;
    c.top_extra = "policies = (\n  { id = \"maint\"; plugin = \"maintenance\";\n"
                  "    windows = ( { id = \"nightly\"; matchers = [ \"service=batch\" ];\n"
                  "      starts_at = \"2020-01-01T00:00:00Z\"; ends_at = \"2099-01-01T00:00:00Z\"; } );\n"
                  "  }\n);\n";
    h_init(&f->d);
    h_config_standard(&f->d, &c);
    h_start(&f->d);
}

static void down(struct fixture *f)
{
    h_assert_no_violations(&f->d, f->p);
    h_assert(&f->d, h_stop(&f->d, 15000) == 0, "SIGTERM: exit status not 0");
    peer_free(f->p);
}

/* method path [body] with an optional "Authorization: Bearer token"; the
 * answer parsed into *out (owned) when it is JSON. Returns the status. */
static long api(struct fixture *f, const char *method, const char *path, const char *body,
                const char *token, json_t **out)
{
    char url[512], auth[128];
    const char *headers[2] = { NULL, NULL };
    struct h_resp r;
    long status;

    snprintf(url, sizeof url, "%s%s", f->d.base, path);
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        headers[0] = auth;
    }
    h_http_ex(method, url, body, body ? strlen(body) : 0, 10000, headers, &r);
    status = r.status;
    if (out)
        *out = r.body[0] ? json_loads(r.body, JSON_DECODE_ANY, NULL) : NULL;
    h_resp_free(&r);
    return status;
}

/* The "error" of a v1 error answer starts with prefix. */
static void assert_400(struct fixture *f, const char *body, const char *prefix)
{
    json_t *o = NULL;
    long status = api(f, "POST", "/api/v1/maintenance", body, NULL, &o);
    const char *error = json_string_value(json_object_get(o, "error"));

    h_assert(&f->d, status == 400, "%s: HTTP %ld, not 400", body, status);
    h_assert(&f->d, error && strncmp(error, prefix, strlen(prefix)) == 0,
             "%s: error \"%s\" does not start with \"%s\"", body, error ? error : "(none)",
             prefix);
    json_decref(o);
}

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The ids of a {"windows": [...]} answer, as "id,id,". */
static char *ids_of(json_t *list)
{
    static char buf[1024];
    json_t *w;
    size_t i;

    buf[0] = '\0';
    json_array_foreach(json_object_get(list, "windows"), i, w) {
        strncat(buf, h_jstr(w, "id"), sizeof buf - strlen(buf) - 2);
        strcat(buf, ",");
    }
    return buf;
}

START_TEST(test_create_list_get_delete)
{
    struct fixture f;
    char body[512], from[40], to[40], path[128], id[64];
    json_t *o = NULL, *list = NULL;

    up_with(&f, NULL);
    tc_time_format(wall_ms() + 3600 * 1000, from, sizeof from);
    tc_time_format(wall_ms() + 7200 * 1000, to, sizeof to);
    snprintf(body, sizeof body,
             "{\"starts_at\": \"%s\", \"ends_at\": \"%s\", \"created_by\": \"ana\","
             " \"comment\": \"switch swap\", \"matchers\": [\"service=db\","
             " {\"name\": \"severity\", \"value\": \"crit.*\", \"isRegex\": true}]}",
             from, to);
    ck_assert_int_eq(api(&f, "POST", "/api/v1/maintenance", body, NULL, &o), 201);
    ck_assert_uint_eq(strlen(h_jstr(o, "id")), 36);
    snprintf(id, sizeof id, "%s", h_jstr(o, "id"));
    ck_assert_str_eq(h_jstr(o, "state"), "pending");
    ck_assert_str_eq(h_jstr(o, "created_by"), "ana");
    ck_assert_str_eq(h_jstr(o, "source"), "api");
    ck_assert_uint_eq(json_array_size(json_object_get(o, "matchers")), 2);
    ck_assert(json_is_true(json_object_get(json_array_get(json_object_get(o, "matchers"), 1),
                                           "isRegex")));
    json_decref(o);

    /* Listed with tocsin.conf's window; ?state= picks. */
    ck_assert_int_eq(api(&f, "GET", "/api/v1/maintenance", NULL, NULL, &list), 200);
    ck_assert_uint_eq(json_array_size(json_object_get(list, "windows")), 2);
    ck_assert_ptr_nonnull(strstr(ids_of(list), "nightly,"));
    json_decref(list);
    ck_assert_int_eq(api(&f, "GET", "/api/v1/maintenance?state=pending", NULL, NULL, &list), 200);
    ck_assert_str_eq(ids_of(list), strcat(strcpy(body, id), ","));
    json_decref(list);
    ck_assert_int_eq(api(&f, "GET", "/api/v1/maintenance?state=active", NULL, NULL, &list), 200);
    ck_assert_str_eq(ids_of(list), "nightly,");
    json_decref(list);
    ck_assert_int_eq(api(&f, "GET", "/api/v1/maintenance?state=soon", NULL, NULL, NULL), 400);

    snprintf(path, sizeof path, "/api/v1/maintenance/%s", id);
    ck_assert_int_eq(api(&f, "GET", path, NULL, NULL, &o), 200);
    ck_assert_str_eq(h_jstr(o, "comment"), "switch swap");
    json_decref(o);

    /* DELETE ends a one-off now and keeps it, expired. */
    ck_assert_int_eq(api(&f, "DELETE", path, NULL, NULL, &o), 200);
    ck_assert_str_eq(h_jstr(o, "state"), "expired");
    json_decref(o);
    ck_assert_int_eq(api(&f, "GET", path, NULL, NULL, &o), 200);
    ck_assert_str_eq(h_jstr(o, "state"), "expired");
    json_decref(o);

    /* Kept across a restart, and tocsin.conf's stays tocsin.conf's. */
    h_assert(&f.d, h_stop(&f.d, 15000) == 0, "SIGTERM: exit status not 0");
    h_start(&f.d);
    ck_assert_int_eq(api(&f, "GET", path, NULL, NULL, &o), 200);
    ck_assert_str_eq(h_jstr(o, "state"), "expired");
    ck_assert_str_eq(h_jstr(o, "created_by"), "ana");
    json_decref(o);
    ck_assert_int_eq(api(&f, "DELETE", "/api/v1/maintenance/nightly", NULL, NULL, &o), 409);
    ck_assert_ptr_nonnull(strstr(h_jstr(o, "error"), "tocsin.conf"));
    json_decref(o);
    ck_assert_int_eq(api(&f, "GET", "/api/v1/maintenance/no-such-window", NULL, NULL, NULL), 404);
    ck_assert_int_eq(api(&f, "DELETE", "/api/v1/maintenance/no-such-window", NULL, NULL, NULL),
                     404);
    down(&f);
    h_passed();
}
END_TEST

START_TEST(test_malformed_windows_name_the_field)
{
    struct fixture f;

    up_with(&f, NULL);
    assert_400(&f, "not json", "the body is not JSON");
    assert_400(&f, "[1]", "the body is not a JSON object");
    assert_400(&f, "{\"ends_at\": \"2099-01-01T00:00:00Z\"}", "created_by:");
    assert_400(&f, "{\"created_by\": \"a\", \"ends_at\": \"tomorrow\"}", "ends_at:");
    assert_400(&f, "{\"created_by\": \"a\"}", "ends_at:");
    assert_400(&f, "{\"created_by\": \"a\", \"ends_at\": \"2001-01-01T00:00:00Z\"}", "ends_at:");
    assert_400(&f,
               "{\"created_by\": \"a\", \"starts_at\": \"2099-01-02T00:00:00Z\","
               " \"ends_at\": \"2099-01-01T00:00:00Z\"}",
               "ends_at:");
    assert_400(&f,
               "{\"created_by\": \"a\", \"ends_at\": \"2099-01-01T00:00:00Z\","
               " \"matchers\": [\"service=db\", \"x~y\"]}",
               "matchers[1]:");
    assert_400(&f,
               "{\"created_by\": \"a\", \"ends_at\": \"2099-01-01T00:00:00Z\","
               " \"matchers\": [{\"name\": \"job\", \"value\": \"(\", \"isRegex\": true}]}",
               "matchers[0]:");
    assert_400(&f,
               "{\"created_by\": \"a\", \"ends_at\": \"2099-01-01T00:00:00Z\","
               " \"matchers\": [{\"value\": \"x\"}]}",
               "matchers[0]: name");
    assert_400(&f,
               "{\"created_by\": \"a\", \"ends_at\": \"2099-01-01T00:00:00Z\","
               " \"matchers\": \"service=db\"}",
               "matchers:");
    assert_400(&f,
               "{\"created_by\": \"a\", \"ends_at\": \"2099-01-01T00:00:00Z\","
               " \"weekdays\": [\"sun\"], \"start\": \"02:00\", \"end\": \"04:00\","
               " \"time_zone\": \"Europe/Berlin\"}",
               "ends_at:");
    assert_400(&f,
               "{\"created_by\": \"a\", \"weekdays\": [\"sun\", \"funday\"],"
               " \"start\": \"02:00\", \"end\": \"04:00\", \"time_zone\": \"Europe/Berlin\"}",
               "weekdays:");
    assert_400(&f,
               "{\"created_by\": \"a\", \"weekdays\": [\"sun\"], \"start\": \"25:00\","
               " \"end\": \"04:00\", \"time_zone\": \"Europe/Berlin\"}",
               "start:");
    assert_400(&f,
               "{\"created_by\": \"a\", \"weekdays\": [\"sun\"], \"start\": \"02:00\","
               " \"end\": \"04:00\", \"time_zone\": \"Mars/Olympus_Mons\"}",
               "time_zone:");
    assert_400(&f,
               "{\"created_by\": \"a\", \"weekdays\": [\"sun\"], \"start\": \"02:00\","
               " \"end\": \"04:00\"}",
               "time_zone:");
    down(&f);
    h_passed();
}
END_TEST

START_TEST(test_reading_needs_a_read_token_changing_a_write_token)
{
    struct fixture f;
    char extra[H_DIR_MAX + 512], path[H_PATH_MAX + 16];
    const char *body = "{\"created_by\": \"bot\", \"ends_at\": \"2099-01-01T00:00:00Z\"}";
    FILE *tok;

    h_init(&f.d); /* for its dir: the read token's file */
    snprintf(path, sizeof path, "%s/read.token", f.d.dir);
    tok = fopen(path, "w");
    ck_assert_ptr_nonnull(tok);
    fprintf(tok, "%s\n", READ_TOKEN);
    fclose(tok);
    setenv("TEST_MAINT_WRITE_TOKEN", WRITE_TOKEN, 1);
    snprintf(extra, sizeof extra,
             "auth = { tokens = (\n"
             "    { token = \"env:TEST_MAINT_WRITE_TOKEN\"; role = \"write\"; },\n"
             "    { token = \"file:%s\"; role = \"read\"; } ); };",
             path);
    {
        /* up_with() without its h_init, which made the dir above. */
        struct h_config c = { 0 };
        char *conf;

        f.p = h_peer_started();
        c.peer_port = peer_port(f.p);
        c.no_console = 1;
        c.daemon_extra = extra;
        h_config_standard(&f.d, &c);
        conf = h_read_file(f.d.conf);
        h_write_config(&f.d, "%spolicies = ( { id = \"maint\"; plugin = \"maintenance\"; } );\n",
                       conf);
        free(conf);
        h_start(&f.d);
    }
    ck_assert_int_eq(api(&f, "GET", "/api/v1/maintenance", NULL, NULL, NULL), 401);
    ck_assert_int_eq(api(&f, "GET", "/api/v1/maintenance", NULL, READ_TOKEN, NULL), 200);
    ck_assert_int_eq(api(&f, "GET", "/api/v2/silences", NULL, READ_TOKEN, NULL), 200);
    ck_assert_int_eq(api(&f, "POST", "/api/v1/maintenance", body, READ_TOKEN, NULL), 403);
    ck_assert_int_eq(api(&f, "POST", "/api/v1/maintenance", body, NULL, NULL), 401);
    ck_assert_int_eq(api(&f, "DELETE", "/api/v2/silence/x", NULL, READ_TOKEN, NULL), 403);
    ck_assert_int_eq(api(&f, "POST", "/api/v1/maintenance", body, WRITE_TOKEN, NULL), 201);
    down(&f);
    h_passed();
}
END_TEST

/* A DELETE ends the muting at once (the muted incidents' end timers move
 * to now) and, with notify_after, sends the trigger nobody had. */
START_TEST(test_deleting_a_window_sends_what_it_held)
{
    struct fixture f;
    json_t *o = NULL;
    char path[128];
    struct h_resp r;
    int64_t id;

    up_with(&f, NULL);
    ck_assert_int_eq(api(&f, "POST", "/api/v1/maintenance",
                         "{\"created_by\": \"ana\", \"ends_at\": \"2099-01-01T00:00:00Z\","
                         " \"matchers\": [\"service=api\"]}",
                         NULL, &o),
                     201);
    snprintf(path, sizeof path, "/api/v1/maintenance/%s", h_jstr(o, "id"));
    json_decref(o);
    h_req(&f.d, "POST", "/api/v1/alerts",
          "{\"dedup_key\": \"api-held\", \"status\": \"firing\", \"severity\": \"high\","
          " \"summary\": \"api 500s\", \"service\": \"api\"}",
          &r);
    ck_assert_int_eq(r.status, 202);
    h_resp_free(&r);
    id = h_incident_by_key(&f.d, "api-held");
    h_assert(&f.d, id > 0, "no incident");
    h_sleep_ms(300);
    h_assert(&f.d, peer_count(f.p) == 0, "a muted incident was sent");
    ck_assert_int_eq(api(&f, "DELETE", path, NULL, NULL, NULL), 200);
    o = h_wait_notification(&f.d, id, "hook", "trigger", "done", 5000);
    h_assert(&f.d, o != NULL, "no trigger after the window was deleted");
    json_decref(o);
    down(&f);
    h_passed();
}
END_TEST

/* --- Alertmanager's API through amtool --------------------------------- */

/* Runs amtool against the daemon: its stdout (malloc()ed), its exit status. */
static int amtool(struct fixture *f, char **out, const char *fmt, ...)
{
    char args[1024], cmd[1400], buf[4096];
    size_t len = 0;
    va_list ap;
    FILE *p;
    int rc;

    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    /* stderr stays the test's (amtool warns there that versions differ). */
    snprintf(cmd, sizeof cmd, AMTOOL " --alertmanager.url=%s %s", f->d.base, args);
    p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    *out = malloc(1);
    (*out)[0] = '\0';
    while (fgets(buf, sizeof buf, p)) {
        size_t n = strlen(buf);

        *out = realloc(*out, len + n + 1);
        memcpy(*out + len, buf, n + 1);
        len += n;
    }
    rc = pclose(p);
    fprintf(stderr, "$ amtool %s\n%s", args, *out);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

START_TEST(test_amtool_silence_add_query_expire)
{
    struct fixture f;
    char *out, id[64];
    json_t *o = NULL, *list = NULL;

    if (access(AMTOOL, X_OK) != 0) {
        fprintf(stderr, "%s: %s not installed (apt-get install prometheus-alertmanager)\n",
                __func__, AMTOOL);
        return;
    }
    up_with(&f, NULL);
    ck_assert_int_eq(amtool(&f, &out, "silence add service=db 'severity=~crit|high'"
                                      " --author=ana --comment='db upgrade' --duration=2h"),
                     0);
    ck_assert_int_eq(sscanf(out, "%63s", id), 1);
    ck_assert_uint_eq(strlen(id), 36);
    free(out);

    /* Both APIs see it. */
    ck_assert_int_eq(api(&f, "GET", "/api/v1/maintenance?state=active", NULL, NULL, &list), 200);
    ck_assert_ptr_nonnull(strstr(ids_of(list), id));
    json_decref(list);
    ck_assert_int_eq(amtool(&f, &out, "silence query -q"), 0);
    ck_assert_ptr_nonnull(strstr(out, id));
    ck_assert_ptr_nonnull(strstr(out, "nightly"));
    free(out);
    ck_assert_int_eq(amtool(&f, &out, "silence query -o json service=db"), 0);
    o = json_loads(out, 0, NULL);
    free(out);
    ck_assert_uint_eq(json_array_size(o), 1);
    ck_assert_str_eq(h_jstr(json_array_get(o, 0), "id"), id);
    ck_assert_str_eq(h_jstr(json_array_get(o, 0), "createdBy"), "ana");
    ck_assert_str_eq(h_jsub(json_array_get(o, 0), "status", "state"), "active");
    json_decref(o);

    ck_assert_int_eq(amtool(&f, &out, "silence expire %s", id), 0);
    free(out);
    ck_assert_int_eq(amtool(&f, &out, "silence query -q"), 0);
    ck_assert_ptr_null(strstr(out, id));
    free(out);
    ck_assert_int_eq(amtool(&f, &out, "silence query --expired -q"), 0);
    ck_assert_ptr_nonnull(strstr(out, id));
    free(out);
    /* tocsin.conf's window is no silence amtool can expire. */
    ck_assert_int_ne(amtool(&f, &out, "silence expire nightly"), 0);
    free(out);
    down(&f);
    h_passed();
}
END_TEST

START_TEST(test_silences_in_alertmanagers_shapes)
{
    struct fixture f;
    json_t *o = NULL;
    char body[512], path[128], id[64];

    up_with(&f, NULL);
    /* Alertmanager's own validation answers. */
    ck_assert_int_eq(api(&f, "POST", "/api/v2/silences",
                         "{\"matchers\": [], \"startsAt\": \"2099-01-01T00:00:00Z\","
                         " \"endsAt\": \"2099-01-02T00:00:00Z\", \"createdBy\": \"a\","
                         " \"comment\": \"c\"}",
                         NULL, &o),
                     422);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "code")), 612);
    json_decref(o);
    ck_assert_int_eq(api(&f, "POST", "/api/v2/silences",
                         "{\"matchers\": [{\"name\": \"a\", \"value\": \"b\", \"isRegex\": false}],"
                         " \"startsAt\": \"2099-01-01T00:00:00Z\","
                         " \"endsAt\": \"2099-01-02T00:00:00Z\", \"comment\": \"c\"}",
                         NULL, &o),
                     422);
    ck_assert_str_eq(h_jstr(o, "message"), "createdBy in body is required");
    json_decref(o);
    ck_assert_int_eq(api(&f, "POST", "/api/v2/silences",
                         "{\"matchers\": [{\"name\": \"a\", \"value\": \"(\", \"isRegex\": true}],"
                         " \"startsAt\": \"2099-01-01T00:00:00Z\","
                         " \"endsAt\": \"2099-01-02T00:00:00Z\", \"createdBy\": \"a\","
                         " \"comment\": \"c\"}",
                         NULL, &o),
                     400);
    ck_assert(json_is_string(o));
    ck_assert_ptr_nonnull(strstr(json_string_value(o), "matchers[0]"));
    json_decref(o);
    ck_assert_int_eq(api(&f, "POST", "/api/v2/silences",
                         "{\"matchers\": [{\"name\": \"a\", \"value\": \".*\", \"isRegex\": true}],"
                         " \"startsAt\": \"2099-01-01T00:00:00Z\","
                         " \"endsAt\": \"2099-01-02T00:00:00Z\", \"createdBy\": \"a\","
                         " \"comment\": \"c\"}",
                         NULL, &o),
                     400);
    ck_assert_ptr_nonnull(strstr(json_string_value(o), "must not match the empty string"));
    json_decref(o);

    /* A pending silence, then changed in place (same id). */
    snprintf(body, sizeof body,
             "{\"matchers\": [{\"name\": \"job\", \"value\": \"backup\", \"isRegex\": false}],"
             " \"startsAt\": \"2099-01-01T00:00:00Z\", \"endsAt\": \"2099-01-02T00:00:00Z\","
             " \"createdBy\": \"ana\", \"comment\": \"c\"}");
    ck_assert_int_eq(api(&f, "POST", "/api/v2/silences", body, NULL, &o), 200);
    snprintf(id, sizeof id, "%s", h_jstr(o, "silenceID"));
    json_decref(o);
    snprintf(body, sizeof body,
             "{\"id\": \"%s\", \"matchers\": [{\"name\": \"job\", \"value\": \"backup\","
             " \"isRegex\": false}], \"startsAt\": \"2099-01-01T00:00:00Z\","
             " \"endsAt\": \"2099-01-03T00:00:00Z\", \"createdBy\": \"ana\", \"comment\": \"c2\"}",
             id);
    ck_assert_int_eq(api(&f, "POST", "/api/v2/silences", body, NULL, &o), 200);
    ck_assert_str_eq(h_jstr(o, "silenceID"), id);
    json_decref(o);
    snprintf(path, sizeof path, "/api/v2/silence/%s", id);
    ck_assert_int_eq(api(&f, "GET", path, NULL, NULL, &o), 200);
    ck_assert_str_eq(h_jstr(o, "comment"), "c2");
    ck_assert_str_eq(h_jstr(o, "endsAt"), "2099-01-03T00:00:00.000Z");
    ck_assert_str_eq(h_jsub(o, "status", "state"), "pending");
    ck_assert(json_is_false(json_object_get(json_array_get(json_object_get(o, "matchers"), 0),
                                            "isRegex")));
    ck_assert(json_is_true(json_object_get(json_array_get(json_object_get(o, "matchers"), 0),
                                           "isEqual")));
    json_decref(o);
    ck_assert_int_eq(api(&f, "GET", "/api/v2/silence/00000000-0000-4000-8000-000000000000",
                         NULL, NULL, NULL),
                     404);
    ck_assert_int_eq(api(&f, "DELETE", "/api/v2/silence/00000000-0000-4000-8000-000000000000",
                         NULL, NULL, NULL),
                     404);
    /* Every filter= counts, as in Alertmanager (not only the first). */
    ck_assert_int_eq(api(&f, "POST", "/api/v2/silences",
                         "{\"matchers\": [{\"name\": \"job\", \"value\": \"backup\","
                         " \"isRegex\": false}, {\"name\": \"env\", \"value\": \"prod\","
                         " \"isRegex\": false}], \"startsAt\": \"2099-01-01T00:00:00Z\","
                         " \"endsAt\": \"2099-01-02T00:00:00Z\", \"createdBy\": \"ana\","
                         " \"comment\": \"prod only\"}",
                         NULL, NULL),
                     200);
    ck_assert_int_eq(api(&f, "GET", "/api/v2/silences?filter=job%3Dbackup", NULL, NULL, &o), 200);
    ck_assert_uint_eq(json_array_size(o), 2);
    json_decref(o);
    ck_assert_int_eq(api(&f, "GET", "/api/v2/silences?filter=job%3Dbackup&filter=env%3Dprod",
                         NULL, NULL, &o),
                     200);
    ck_assert_uint_eq(json_array_size(o), 1);
    ck_assert_str_eq(h_jstr(json_array_get(o, 0), "comment"), "prod only");
    json_decref(o);
    ck_assert_int_eq(api(&f, "GET", "/api/v2/silences?filter=job%3Dbackup&filter=bad~", NULL,
                         NULL, &o),
                     400);
    ck_assert_ptr_nonnull(strstr(json_string_value(o), "bad~"));
    json_decref(o);
    ck_assert_int_eq(api(&f, "GET", "/api/v2/silences?filter=bad~", NULL, NULL, &o), 400);
    ck_assert(json_is_string(o));
    json_decref(o);
    ck_assert_int_eq(api(&f, "DELETE", path, NULL, NULL, NULL), 200);
    ck_assert_int_eq(api(&f, "GET", path, NULL, NULL, &o), 200);
    ck_assert_str_eq(h_jsub(o, "status", "state"), "expired");
    json_decref(o);
    down(&f);
    h_passed();
}
END_TEST

/* tocsin.conf's windows: every bad one is an error naming its file:line
 * and the field. */
START_TEST(test_bad_config_windows_name_their_line_and_field)
{
    struct h_daemon d;
    char *out = NULL, want[H_PATH_MAX + 64];

    h_init(&d);
    h_write_config(&d,
                   "daemon = { listen = \"127.0.0.1:0\"; state_dir = \"%s\";"
                   " plugin_dir = \"%s\"; };\n"
                   "inputs = ( );\n"
                   "policies = ( { id = \"maint\"; plugin = \"maintenance\";\n"
                   "  windows = (\n"
                   "    { id = \"a\"; matchers = [ \"service~db\" ];\n"
                   "      starts_at = \"2027-01-01T00:00:00Z\"; ends_at = \"2027-01-02T00:00:00Z\"; },\n"
                   "    { id = \"b c\"; starts_at = \"2027-01-01T00:00:00Z\";"
                   " ends_at = \"2027-01-02T00:00:00Z\"; },\n"
                   "    { id = \"c\"; starts_at = \"2027-01-02T00:00:00Z\";"
                   " ends_at = \"2027-01-01T00:00:00Z\"; }\n"
                   "  ); } );\n"
                   "sinks = ( );\nroutes = ( );\n",
                   d.state_dir, getenv("TOCSIN_PLUGIN_DIR"));
    ck_assert_int_eq(h_run_tocsind(&out, "--check-config", "-c", d.conf, (char *)NULL), 1);
    snprintf(want, sizeof want, "%s:5: windows: matchers[0]: matcher \"service~db\"", d.conf);
    ck_assert_msg(strstr(out, want), "no \"%s\" in:\n%s", want, out);
    snprintf(want, sizeof want, "%s:7: windows: id: \"b c\"", d.conf);
    ck_assert_msg(strstr(out, want), "no \"%s\" in:\n%s", want, out);
    snprintf(want, sizeof want, "%s:8: windows: ends_at:", d.conf);
    ck_assert_msg(strstr(out, want), "no \"%s\" in:\n%s", want, out);
    free(out);
    h_passed();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("maintenance_api");
    TCase *tc = h_tcase("maintenance_api", 60);

    tcase_add_test(tc, test_create_list_get_delete);
    tcase_add_test(tc, test_malformed_windows_name_the_field);
    tcase_add_test(tc, test_bad_config_windows_name_their_line_and_field);
    tcase_add_test(tc, test_reading_needs_a_read_token_changing_a_write_token);
    tcase_add_test(tc, test_deleting_a_window_sends_what_it_held);
    tcase_add_test(tc, test_amtool_silence_add_query_expire);
    tcase_add_test(tc, test_silences_in_alertmanagers_shapes);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
