/* test_api_routes.c: a policy's API routes with path parameters
 * (/api/v1/testpol/{id}, tests/plugins/policy_testpol.c) on the real
 * tocsind: which route a path reaches, what req->param gives, strict
 * decoding (400 naming the parameter), 405 with Allow, 404, the API
 * tokens (read for GET, write for the rest), and patterns refused at
 * start-up naming both owners. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"

#define WRITE_TOKEN "w-0123456789abcdef0123456789abcdef"
#define READ_TOKEN "r-0123456789abcdef0123456789abcdef"
#define AS_WRITER "Authorization: Bearer " WRITE_TOKEN
#define AS_READER "Authorization: Bearer " READ_TOKEN

static long status_of(const struct h_daemon *d, const char *method, const char *path,
                      const char *h1, const char *h2)
{
    struct h_resp r;
    long status = h_call(d, method, path, NULL, &r, h1, h2, (char *)NULL);

    h_resp_free(&r);
    return status;
}

/* The echo of a route that answered status; owned. */
static json_t *echo(const struct h_daemon *d, const char *method, const char *path,
                    long status, const char *auth)
{
    struct h_resp r;
    json_t *j;

    h_call(d, method, path, NULL, &r, auth, (char *)NULL);
    h_assert(d, r.status == status, "%s %s: %ld, expected %ld: %s", method, path, r.status,
             status, r.body);
    j = h_json(&r);
    h_resp_free(&r);
    return j;
}

/* Member key of the echo: a string, or "(null)". */
static const char *field(json_t *j, const char *key)
{
    json_t *v = json_object_get(j, key);

    ck_assert_msg(v != NULL, "no %s in the echo", key);
    return json_is_string(v) ? json_string_value(v) : "(null)";
}

/* A plugin_dir with the test policy and the console sink; the config
 * with instances (libconfig text inside policies = ( ... )) and extra
 * daemon settings. */
static void configure(struct h_daemon *d, const char *policies, const char *daemon_extra)
{
    char plugins[H_PATH_MAX];

    snprintf(plugins, sizeof plugins, "%s/plugins", d->dir);
    ck_assert_int_eq(mkdir(plugins, 0755), 0);
    h_copy_plugin(getenv("TOCSIN_TEST_PLUGIN_DIR"), plugins, "policy_testpol.so");
    h_copy_plugin(getenv("TOCSIN_PLUGIN_DIR"), plugins, "sink_console.so");
    h_write_config(d,
                   "daemon = { listen = \"127.0.0.1:0\"; state_dir = \"%s\";"
                   " plugin_dir = \"%s\"; log_level = \"debug\";\n  %s };\n"
                   "policies = ( %s );\n"
                   "sinks = ( { id = \"console\"; plugin = \"console\"; path = \"%s\"; } );\n"
                   "routes = ( { sinks = [ \"console\" ]; } );\n",
                   d->state_dir, plugins, daemon_extra ? daemon_extra : "", policies,
                   d->console);
}

static const char one_policy[] = "{ id = \"pol\"; plugin = \"testpol\"; }";

START_TEST(test_parameters_reach_the_route_decoded)
{
    struct h_daemon d;
    struct h_resp r;
    json_t *j;

    h_init(&d);
    configure(&d, one_policy, NULL);
    h_start(&d);

    j = echo(&d, "GET", "/api/v1/testpol/3f2a", 200, NULL);
    ck_assert_str_eq(field(j, "route"), "one");
    ck_assert_str_eq(field(j, "id"), "3f2a");
    ck_assert_str_eq(field(j, "name"), "(null)");
    ck_assert_str_eq(field(j, "unknown"), "(null)");
    ck_assert_str_eq(field(j, "path"), "/api/v1/testpol/3f2a");
    json_decref(j);

    j = echo(&d, "DELETE", "/api/v1/testpol/3f2a/sub/n1", 200, NULL);
    ck_assert_str_eq(field(j, "route"), "sub");
    ck_assert_str_eq(field(j, "method"), "DELETE");
    ck_assert_str_eq(field(j, "id"), "3f2a");
    ck_assert_str_eq(field(j, "name"), "n1");
    json_decref(j);

    /* Percent-decoded, '+' kept: a path is not a form. */
    j = echo(&d, "GET", "/api/v1/testpol/a%20b%C3%A9/sub/x+y%3Fz", 200, NULL);
    ck_assert_str_eq(field(j, "route"), "sub");
    ck_assert_str_eq(field(j, "id"), "a b\xc3\xa9");
    ck_assert_str_eq(field(j, "name"), "x+y?z");
    json_decref(j);

    /* The raw body, its type and the headers reach the plugin: a plugin's
     * route takes any body type (the core's own want JSON). */
    ck_assert_int_eq(h_call(&d, "POST", "/api/v1/testpol/w1", "window one", &r,
                          "Content-Type: text/plain", "X-Test: yes", (char *)NULL), 201);
    j = h_json(&r);
    h_resp_free(&r);
    ck_assert_str_eq(field(j, "route"), "one");
    ck_assert_str_eq(field(j, "id"), "w1");
    ck_assert_str_eq(field(j, "body"), "window one");
    ck_assert_str_eq(field(j, "content_type"), "text/plain");
    ck_assert_str_eq(field(j, "x_test"), "yes");
    json_decref(j);
    ck_assert_int_eq(h_call(&d, "POST", "/api/v1/incidents/1/ack", "note", &r,
                          "Content-Type: text/plain", (char *)NULL), 415);
    h_resp_free(&r);

    ck_assert_int_eq(h_stop(&d, 5000), 0);
    h_passed();
}
END_TEST

/* Exact before parameters before '*' prefixes, among the routes of the
 * request's method. */
START_TEST(test_exact_then_parameters_then_prefix)
{
    struct h_daemon d;
    json_t *j;

    h_init(&d);
    configure(&d, one_policy, NULL);
    h_start(&d);

    j = echo(&d, "GET", "/api/v1/testpol/list", 200, NULL);
    ck_assert_str_eq(field(j, "route"), "exact");
    ck_assert_str_eq(field(j, "id"), "(null)");
    json_decref(j);
    /* No POST /api/v1/testpol/list: the parameter route takes it. */
    j = echo(&d, "POST", "/api/v1/testpol/list", 201, NULL);
    ck_assert_str_eq(field(j, "route"), "one");
    ck_assert_str_eq(field(j, "id"), "list");
    json_decref(j);
    /* The prefix route matches this path too; the parameter route wins. */
    j = echo(&d, "GET", "/api/v1/testpol/abc", 200, NULL);
    ck_assert_str_eq(field(j, "route"), "one");
    json_decref(j);
    /* No parameter route of this shape: the prefix, with no parameters. */
    j = echo(&d, "GET", "/api/v1/testpol/abc/def", 200, NULL);
    ck_assert_str_eq(field(j, "route"), "prefix");
    ck_assert_str_eq(field(j, "id"), "(null)");
    json_decref(j);
    j = echo(&d, "GET", "/api/v1/testpol/abc/sub/", 200, NULL);
    ck_assert_str_eq(field(j, "route"), "prefix"); /* {name} is never empty */
    json_decref(j);

    ck_assert_int_eq(h_stop(&d, 5000), 0);
    h_passed();
}
END_TEST

/* 400 naming the parameter for %00, an encoded '/' and a broken escape;
 * 405 with Allow for a path with routes of other methods; 404 else. */
START_TEST(test_bad_values_wrong_methods_and_unknown_paths)
{
    struct h_daemon d;
    struct h_resp r;

    h_init(&d);
    configure(&d, one_policy, NULL);
    h_start(&d);

    ck_assert_int_eq(h_call(&d, "GET", "/api/v1/testpol/a%00b", NULL, &r, (char *)NULL), 400);
    ck_assert_msg(strstr(r.body, "{id}") && strstr(r.body, "%00"), "%s", r.body);
    h_resp_free(&r);
    ck_assert_int_eq(h_call(&d, "DELETE", "/api/v1/testpol/a%2Fb", NULL, &r, (char *)NULL), 400);
    ck_assert_msg(strstr(r.body, "{id}") && strstr(r.body, "%2F"), "%s", r.body);
    h_resp_free(&r);
    ck_assert_int_eq(h_call(&d, "GET", "/api/v1/testpol/x/sub/a%2fb", NULL, &r, (char *)NULL),
                     400);
    ck_assert_msg(strstr(r.body, "{name}") && strstr(r.body, "%2F"), "%s", r.body);
    h_resp_free(&r);
    ck_assert_int_eq(h_call(&d, "GET", "/api/v1/testpol/a%zz", NULL, &r, (char *)NULL), 400);
    ck_assert_msg(strstr(r.body, "{id}") && strstr(r.body, "hex"), "%s", r.body);
    h_resp_free(&r);

    ck_assert_int_eq(h_call(&d, "PUT", "/api/v1/testpol/abc", NULL, &r, (char *)NULL), 405);
    ck_assert_str_eq(r.allow, "GET, POST, DELETE");
    h_resp_free(&r);
    /* The empty segment matches no {id}: only the GET prefix is left. */
    ck_assert_int_eq(h_call(&d, "DELETE", "/api/v1/testpol/", NULL, &r, (char *)NULL), 405);
    ck_assert_str_eq(r.allow, "GET");
    h_resp_free(&r);
    /* The core's own routes answer the same way. */
    ck_assert_int_eq(h_call(&d, "DELETE", "/api/v1/incidents", NULL, &r, (char *)NULL), 405);
    ck_assert_str_eq(r.allow, "GET");
    h_resp_free(&r);

    ck_assert_int_eq(h_call(&d, "GET", "/api/v1/nothing/abc", NULL, &r, (char *)NULL), 404);
    ck_assert_str_eq(r.allow, "");
    h_resp_free(&r);
    ck_assert_int_eq(status_of(&d, "GET", "/api/v1/testpol", NULL, NULL), 404);

    ck_assert_int_eq(h_stop(&d, 5000), 0);
    h_passed();
}
END_TEST

/* With daemon.auth a policy's routes are API routes: GET with a read
 * token, anything else with a write token; Host and Origin checked. */
START_TEST(test_policy_routes_take_api_tokens)
{
    struct h_daemon d;
    struct h_resp r;
    char daemon_extra[256], host[96];

    setenv("TEST_WRITE_TOKEN", WRITE_TOKEN, 1);
    setenv("TEST_READ_TOKEN", READ_TOKEN, 1);
    snprintf(daemon_extra, sizeof daemon_extra,
             "auth = { tokens = (\n"
             "    { token = \"env:TEST_WRITE_TOKEN\"; role = \"write\"; name = \"ops\"; },\n"
             "    { token = \"env:TEST_READ_TOKEN\"; role = \"read\"; name = \"dash\"; }\n"
             "  ); };");
    h_init(&d);
    configure(&d, one_policy, daemon_extra);
    h_start(&d);

    ck_assert_int_eq(h_call(&d, "GET", "/api/v1/testpol/abc", NULL, &r, (char *)NULL), 401);
    ck_assert_msg(strncmp(r.www_authenticate, "Bearer", 6) == 0, "%s", r.www_authenticate);
    h_resp_free(&r);
    ck_assert_int_eq(status_of(&d, "GET", "/api/v1/testpol/abc",
                               "Authorization: Bearer not-a-token", NULL), 401);
    /* No token, no hint about the value either. */
    ck_assert_int_eq(status_of(&d, "GET", "/api/v1/testpol/a%00b", NULL, NULL), 401);
    ck_assert_int_eq(status_of(&d, "GET", "/api/v1/testpol/abc", AS_READER, NULL), 200);
    ck_assert_int_eq(status_of(&d, "GET", "/api/v1/testpol/abc/sub/x", AS_READER, NULL), 200);
    ck_assert_int_eq(status_of(&d, "POST", "/api/v1/testpol/abc", AS_READER, NULL), 403);
    ck_assert_int_eq(status_of(&d, "DELETE", "/api/v1/testpol/abc", AS_READER, NULL), 403);
    ck_assert_int_eq(status_of(&d, "POST", "/api/v1/testpol/abc", NULL, NULL), 401);
    ck_assert_int_eq(status_of(&d, "POST", "/api/v1/testpol/abc", AS_WRITER, NULL), 201);
    ck_assert_int_eq(status_of(&d, "DELETE", "/api/v1/testpol/abc/sub/x", AS_WRITER, NULL),
                     200);
    ck_assert_int_eq(status_of(&d, "GET", "/api/v1/testpol/abc", AS_WRITER, NULL), 200);
    ck_assert_int_eq(status_of(&d, "POST", "/api/v1/testpol/abc", AS_WRITER,
                               "Origin: https://evil.example"), 403);
    snprintf(host, sizeof host, "Host: rebound.example:%d", d.port);
    ck_assert_int_eq(status_of(&d, "GET", "/api/v1/testpol/abc", AS_READER, host), 421);

    ck_assert_int_eq(h_stop(&d, 5000), 0);
    h_passed();
}
END_TEST

/* The error of --check-config and of a start for these policies. */
static void assert_refused(const char *policies, const char *want)
{
    struct h_daemon d;
    char *out = NULL, *log;
    int rc;

    h_init(&d);
    configure(&d, policies, NULL);
    rc = h_run_tocsind(&out, "--check-config", "-c", d.conf, (char *)NULL);
    ck_assert_msg(rc == 1 && strstr(out, want), "exit %d, no \"%s\" in:\n%s", rc, want, out);
    free(out);
    ck_assert_int_eq(h_try_start(&d, 10000), -1);
    log = h_read_file(d.log);
    ck_assert_msg(log && strstr(log, want), "no \"%s\" in the log:\n%s", want, log);
    free(log);
    h_passed();
}

START_TEST(test_a_conflicting_pattern_names_both_owners)
{
    assert_refused("{ id = \"a\"; plugin = \"testpol\"; },\n"
                   "  { id = \"b\"; plugin = \"testpol\"; id_name = \"x\"; extras = false; }",
                   "route GET /api/v1/testpol/{x} of policy \"b\" conflicts with"
                   " GET /api/v1/testpol/{id} of policy \"a\"");
}
END_TEST

START_TEST(test_a_malformed_pattern_is_refused)
{
    assert_refused("{ id = \"a\"; plugin = \"testpol\"; id_name = \"x-y\"; }",
                   "route GET /api/v1/testpol/{x-y} of policy \"a\": path"
                   " \"/api/v1/testpol/{x-y}\": parameter \"{x-y}\" is not a name");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("api_routes");
    TCase *tc = h_tcase("api_routes", 60);

    tcase_add_test(tc, test_parameters_reach_the_route_decoded);
    tcase_add_test(tc, test_exact_then_parameters_then_prefix);
    tcase_add_test(tc, test_bad_values_wrong_methods_and_unknown_paths);
    tcase_add_test(tc, test_policy_routes_take_api_tokens);
    tcase_add_test(tc, test_a_conflicting_pattern_names_both_owners);
    tcase_add_test(tc, test_a_malformed_pattern_is_refused);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
