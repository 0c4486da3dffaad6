/* tests/unit/test_config.c: loading tocsin.conf with real test plugins:
 * a full valid file, and every error named by file:line, all at once. */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "plugin_fixture.h"

/* Mirrors tests/plugins/sink_good.c. */
struct good_conf {
    const char *url;
    const char *token;
    const char *greeting;
    int64_t retries;
    int verbose;
    int64_t timeout_ms;
    int64_t max_size;
    struct tocsin_strlist tags;
    struct tocsin_map headers;
};

struct input_conf {
    const char *path;
};

/* Mirrors tests/plugins/groups.c. */
struct groups_window {
    const char *name;
    const char *starts_at;
    int64_t duration_ms;
    struct tocsin_strlist weekdays;
    const char *token;
};

struct groups_conf {
    const char *zone;
    struct tocsin_groups windows;
};

static const char *plugin_dir;
static char dir[4096], path[4200];
static struct tc_errors errs;
static struct tc_config *c;

static void setup(void)
{
    tu_mkdtemp(dir, sizeof dir, "config");
    snprintf(path, sizeof path, "%s/tocsin.conf", dir);
    memset(&errs, 0, sizeof errs);
    c = NULL;
}

static void teardown(void)
{
    char p[4400];

    tc_config_free(c);
    tc_errors_free(&errs);
    unlink(path);
    snprintf(p, sizeof p, "%s/sinks.inc", dir);
    unlink(p);
    rmdir(dir);
}

static void write_text(const char *file, const char *text)
{
    FILE *f = fopen(file, "w");

    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* Writes the config and loads it with the test plugins. */
static struct tc_config *load(const char *text)
{
    write_text(path, text);
    c = tc_config_load(path, plugin_dir, &errs);
    return c;
}

static char *expect(const char *fmt, ...)
{
    static char buf[8192];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return buf;
}

static char *all_errors(void)
{
    static char buf[16384];
    size_t i;

    buf[0] = '\0';
    for (i = 0; i < errs.n; i++) {
        strncat(buf, errs.msgs[i], sizeof buf - strlen(buf) - 2);
        strcat(buf, "\n");
    }
    return buf;
}

static const char full_conf[] =
    "daemon = {\n"                                                     /* 1 */
    "  listen = \"127.0.0.1:0\";\n"                                     /* 2 */
    "  state_dir = \"/tmp/tocsin-state\";\n"                            /* 3 */
    "  log_level = \"debug\";\n"                                        /* 4 */
    "  external_url = \"https://tocsin.example.com\";\n"                /* 5 */
    "  max_body = \"2M\";\n"                                            /* 6 */
    "  retention = \"7d\";\n"                                           /* 7 */
    "  plugin_dir = \"/nonexistent\";\n"                                /* 8 */
    "};\n"                                                              /* 9 */
    "inputs = (\n"                                                      /* 10 */
    "  { id = \"prom\"; plugin = \"good\"; },\n"                        /* 11 */
    "  { id = \"hooks\"; plugin = \"good\"; path = \"/hooks/x\"; }\n"   /* 12 */
    ");\n"                                                              /* 13 */
    "policies = ( { id = \"pass\"; plugin = \"good\"; } );\n"           /* 14 */
    "sinks = (\n"                                                       /* 15 */
    "  { id = \"pd-api\"; plugin = \"good\"; url = \"https://pd\";\n"   /* 16 */
    "    token = \"env:TC_TEST_PD_TOKEN\"; concurrency = 8;\n"          /* 17 */
    "    retry_max = \"1m\"; },\n"                                      /* 18 */
    "  { id = \"chat\"; plugin = \"good\"; url = \"https://chat\";\n"   /* 19 */
    "    tags = [ \"x\" ]; max_attempts = 3; retry_base = 2; }\n"       /* 20 */
    ");\n"                                                              /* 21 */
    "routes = (\n"                                                      /* 22 */
    "  { match = { severity = \"critical\"; }; sinks = [ \"pd-api\", \"chat\" ]; },\n"
    "  { sinks = \"chat\"; }\n"                                         /* 24 */
    ");\n";                                                             /* 25 */

START_TEST(test_full_config_loads_every_part)
{
    const struct good_conf *g;
    struct tocsin_alert a;
    size_t out[4];

    setenv("TC_TEST_PD_TOKEN", "pd-secret", 1);
    ck_assert_msg(load(full_conf) != NULL, "%s", all_errors());
    ck_assert_uint_eq(errs.n, 0);
    ck_assert_str_eq(c->path, path);

    ck_assert_str_eq(c->daemon.listen, "127.0.0.1:0");
    ck_assert_str_eq(c->daemon.state_dir, "/tmp/tocsin-state");
    ck_assert_str_eq(c->daemon.plugin_dir, plugin_dir);
    ck_assert_int_eq(c->daemon.log_level, TOCSIN_LOG_DEBUG);
    ck_assert_str_eq(c->daemon.external_url, "https://tocsin.example.com");
    ck_assert_int_eq(c->daemon.max_body, 2 * 1048576);
    ck_assert_int_eq(c->daemon.intake_queue, 10000);
    ck_assert_int_eq(c->daemon.drain_timeout_ms, 10000);
    ck_assert_int_eq(c->daemon.http_timeout_ms, 10000);
    ck_assert_int_eq(c->daemon.retention_ms, INT64_C(7) * 86400000);

    ck_assert_uint_eq(c->n_inputs, 2);
    ck_assert_str_eq(c->inputs[0].id, "prom");
    ck_assert_str_eq(c->inputs[0].plugin, "good");
    ck_assert_int_eq(c->inputs[0].kind, TOCSIN_INPUT);
    ck_assert_int_eq(c->inputs[0].line, 11);
    ck_assert_int_eq(c->inputs[1].line, 12);
    ck_assert_str_eq(((const struct input_conf *)c->inputs[0].conf)->path, "/hooks/good");
    ck_assert_str_eq(((const struct input_conf *)c->inputs[1].conf)->path, "/hooks/x");
    ck_assert_int_eq(c->inputs[1].plugin_ref->desc->kind, TOCSIN_INPUT);

    ck_assert_uint_eq(c->n_policies, 1);
    ck_assert_str_eq(c->policies[0].id, "pass");
    ck_assert_int_eq(c->policies[0].plugin_ref->desc->kind, TOCSIN_POLICY);

    ck_assert_uint_eq(c->n_sinks, 2);
    ck_assert_int_eq(c->sinks[0].line, 16);
    ck_assert_int_eq(c->sinks[1].line, 19);
    g = c->sinks[0].conf;
    ck_assert_str_eq(g->url, "https://pd");
    ck_assert_str_eq(g->token, "pd-secret");
    ck_assert_int_eq(g->timeout_ms, 30000);
    ck_assert_int_eq(c->sinks[0].concurrency, 8);
    ck_assert_int_eq(c->sinks[0].max_attempts, 0); /* no limit: retry_for decides */
    ck_assert_int_eq(c->sinks[0].retry_for_ms, 24LL * 3600 * 1000);
    ck_assert_ptr_null(c->sinks[0].fallback);
    ck_assert_int_eq(c->sinks[0].retry_base_ms, 1000);
    ck_assert_int_eq(c->sinks[0].retry_max_ms, 60000);
    g = c->sinks[1].conf;
    ck_assert_uint_eq(g->tags.n, 1);
    ck_assert_str_eq(g->tags.items[0], "x");
    ck_assert_int_eq(c->sinks[1].concurrency, 4);
    ck_assert_int_eq(c->sinks[1].max_attempts, 3);
    ck_assert_int_eq(c->sinks[1].retry_base_ms, 2000);
    ck_assert_int_eq(c->sinks[1].retry_max_ms, 300000);
    ck_assert_ptr_eq(c->sinks[0].plugin_ref, c->sinks[1].plugin_ref);
    ck_assert_ptr_eq(tc_config_sink(c, "chat"), &c->sinks[1]);
    ck_assert_ptr_null(tc_config_sink(c, "prom"));

    ck_assert_uint_eq(tc_routes_count(c->routes), 2);
    memset(&a, 0, sizeof a);
    a.severity = TOCSIN_SEV_CRITICAL;
    ck_assert_uint_eq(tc_routes_match(c->routes, &a, out, 4), 2);
    ck_assert_uint_eq(out[0], 0);
    ck_assert_uint_eq(out[1], 1);
    a.severity = TOCSIN_SEV_LOW;
    ck_assert_uint_eq(tc_routes_match(c->routes, &a, out, 4), 1);
    ck_assert_uint_eq(out[0], 1);
}
END_TEST

START_TEST(test_daemon_defaults_apply_without_daemon_group)
{
    ck_assert_msg(load("inputs = ( { id = \"prom\"; plugin = \"good\"; } );\n") != NULL, "%s",
                  all_errors());
    ck_assert_str_eq(c->daemon.listen, "127.0.0.1:9099");
    ck_assert_str_eq(c->daemon.state_dir, "/var/lib/tocsin");
    ck_assert_str_eq(c->daemon.plugin_dir, plugin_dir);
    ck_assert_int_eq(c->daemon.log_level, TOCSIN_LOG_INFO);
    ck_assert_str_eq(c->daemon.external_url, "");
    ck_assert_int_eq(c->daemon.max_body, 1048576);
    ck_assert_int_eq(c->daemon.intake_queue, 10000);
    ck_assert_int_eq(c->daemon.drain_timeout_ms, 10000);
    ck_assert_int_eq(c->daemon.http_timeout_ms, 10000);
    ck_assert_int_eq(c->daemon.http_max_response, 1048576);
    ck_assert_int_eq(c->daemon.retention_ms, INT64_C(30) * 86400000);
    ck_assert_uint_eq(c->n_sinks, 0);
    ck_assert_uint_eq(tc_routes_count(c->routes), 0);
}
END_TEST

START_TEST(test_plugin_dir_comes_from_the_file_or_the_build)
{
    char text[8192];

    snprintf(text, sizeof text, "daemon = { plugin_dir = \"%s\"; };\n"
             "sinks = ( { id = \"s\"; plugin = \"good\"; url = \"u\"; } );\n", plugin_dir);
    write_text(path, text);
    c = tc_config_load(path, NULL, &errs);
    ck_assert_msg(c != NULL, "%s", all_errors());
    ck_assert_str_eq(c->daemon.plugin_dir, plugin_dir);
    tc_config_free(c);
    write_text(path, "daemon = { listen = \"[::1]:9099\"; };\n");
    c = tc_config_load(path, NULL, &errs);
    ck_assert_msg(c != NULL, "%s", all_errors());
    ck_assert_str_eq(c->daemon.plugin_dir, PKGLIBDIR);
}
END_TEST

START_TEST(test_unknown_top_level_key_names_file_line_and_hint)
{
    ck_assert_ptr_null(load("daemon = {};\n"
                            "sink = ();\n"
                            "colour = \"red\";\n"));
    ck_assert_uint_eq(errs.n, 2);
    ck_assert_str_eq(errs.msgs[0], expect("%s:2: unknown top-level setting \"sink\"; did you "
                                          "mean \"sinks\"?", path));
    ck_assert_str_eq(errs.msgs[1], expect("%s:3: unknown top-level setting \"colour\" (daemon, "
                                          "inputs, policies, sinks, routes)", path));
}
END_TEST

START_TEST(test_unknown_daemon_key_names_file_line_and_hint)
{
    ck_assert_ptr_null(load("daemon = {\n"
                            "  lisen = \"127.0.0.1:1\";\n"
                            "};\n"));
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_str_eq(errs.msgs[0], expect("%s:2: daemon: unknown option \"lisen\"; did you mean "
                                          "\"listen\"?", path));
}
END_TEST

START_TEST(test_bad_daemon_values_are_errors)
{
    ck_assert_ptr_null(load("daemon = {\n"
                            "  log_level = \"verbose\";\n"
                            "  listen = \"localhost\";\n"
                            "  intake_queue = 0;\n"
                            "  max_body = \"lots\";\n"
                            "  http_timeout = \"0s\";\n"
                            "};\n"));
    ck_assert_msg(errs.n == 5, "%s", all_errors());
    ck_assert_str_eq(errs.msgs[0], expect("%s:5: daemon: option \"max_body\" must be a size "
                                          "(like \"64k\"), not \"lots\"", path));
    ck_assert_str_eq(errs.msgs[1], expect("%s:2: daemon: log_level must be error, warn, info or "
                                          "debug, not \"verbose\"", path));
    ck_assert_str_eq(errs.msgs[2], expect("%s:3: daemon: listen must be HOST:PORT (like "
                                          "\"127.0.0.1:9099\"), not \"localhost\"", path));
    ck_assert_str_eq(errs.msgs[3], expect("%s:4: daemon: intake_queue must be at least 1, not 0",
                                          path));
    ck_assert_str_eq(errs.msgs[4], expect("%s:6: daemon: http_timeout must be more than 0", path));
}
END_TEST

START_TEST(test_http_max_response_is_a_size_of_at_least_one_byte)
{
    ck_assert_msg(load("daemon = { http_max_response = \"4M\"; };\n") != NULL, "%s",
                  all_errors());
    ck_assert_int_eq(c->daemon.http_max_response, 4 * 1048576);
    tc_config_free(c);
    c = NULL;
    ck_assert_ptr_null(load("daemon = {\n"
                            "  http_max_response = \"0\";\n"
                            "};\n"));
    ck_assert_msg(errs.n == 1, "%s", all_errors());
    ck_assert_str_eq(errs.msgs[0], expect("%s:2: daemon: http_max_response must be at least "
                                          "1 byte", path));
}
END_TEST

START_TEST(test_duplicate_id_across_kinds_names_first_declaration)
{
    ck_assert_ptr_null(load("inputs = (\n"
                            "  { id = \"x\"; plugin = \"good\"; }\n"
                            ");\n"
                            "sinks = (\n"
                            "  { id = \"x\"; plugin = \"good\"; url = \"u\"; }\n"
                            ");\n"));
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_str_eq(errs.msgs[0], expect("%s:5: duplicate instance id \"x\" (first declared at "
                                          "%s:2)", path, path));
}
END_TEST

START_TEST(test_route_naming_unknown_sink_is_an_error)
{
    ck_assert_ptr_null(load("sinks = ( { id = \"chat\"; plugin = \"good\"; url = \"u\"; } );\n"
                            "routes = (\n"
                            "  { sinks = [ \"pager\" ]; }\n"
                            ");\n"));
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_str_eq(errs.msgs[0], expect("%s:3: route 1: unknown sink \"pager\" (no sink has "
                                          "this id)", path));
}
END_TEST

START_TEST(test_missing_plugin_names_file_line_and_plugin_path)
{
    ck_assert_ptr_null(load("sinks = (\n"
                            "  { id = \"pd\";\n"
                            "    plugin = \"pagerduty\"; routing_key = \"x\"; }\n"
                            ");\n"));
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_str_eq(errs.msgs[0], expect("%s:3: sink \"pd\": cannot load plugin \"pagerduty\": "
                                          "%s/sink_pagerduty.so: No such file or directory",
                                          path, plugin_dir));
}
END_TEST

START_TEST(test_refused_plugin_reason_is_shown)
{
    ck_assert_ptr_null(load("sinks = ( { id = \"pd\"; plugin = \"badmajor\"; } );\n"));
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_str_eq(errs.msgs[0], expect("%s:1: sink \"pd\": cannot load plugin \"badmajor\": "
                                          "%s/sink_badmajor.so: built for plugin ABI 2.3, this "
                                          "tocsind speaks 1.1 (major versions differ)",
                                          path, plugin_dir));
}
END_TEST

START_TEST(test_plugin_option_errors_name_the_instance)
{
    ck_assert_ptr_null(load("sinks = (\n"
                            "  { id = \"pd\"; plugin = \"good\";\n"
                            "    ulr = \"https://x\"; concurency = 2; }\n"
                            ");\n"));
    ck_assert_uint_eq(errs.n, 3);
    ck_assert_str_eq(errs.msgs[0], expect("%s:3: sink \"pd\" (good): unknown option \"ulr\"; did "
                                          "you mean \"url\"?", path));
    ck_assert_str_eq(errs.msgs[1], expect("%s:3: sink \"pd\" (good): unknown option "
                                          "\"concurency\"; did you mean \"concurrency\"?", path));
    ck_assert_str_eq(errs.msgs[2], expect("%s:2: sink \"pd\" (good): missing required option "
                                          "\"url\"", path));
}
END_TEST

START_TEST(test_sink_core_options_are_typed_and_range_checked)
{
    ck_assert_ptr_null(load("sinks = (\n"
                            "  { id = \"a\"; plugin = \"good\"; url = \"u\"; concurrency = 100; },\n"
                            "  { id = \"b\"; plugin = \"good\"; url = \"u\"; max_attempts = -1; },\n"
                            "  { id = \"c\"; plugin = \"good\"; url = \"u\";\n"
                            "    retry_base = \"10s\"; retry_max = \"5s\"; },\n"
                            "  { id = \"d\"; plugin = \"good\"; url = \"u\"; concurrency = \"8\"; },\n"
                            "  { id = \"e\"; plugin = \"good\"; url = \"u\"; retry_base = 0; }\n"
                            ");\n"));
    ck_assert_msg(errs.n == 5, "%s", all_errors());
    ck_assert_str_eq(errs.msgs[0], expect("%s:2: sink \"a\" (good): concurrency must be between "
                                          "1 and 64, not 100", path));
    ck_assert_str_eq(errs.msgs[1], expect("%s:3: sink \"b\" (good): max_attempts must be 0 "
                                          "(no limit) or more, not -1", path));
    ck_assert_str_eq(errs.msgs[2], expect("%s:5: sink \"c\" (good): retry_max must not be less "
                                          "than retry_base", path));
    ck_assert_str_eq(errs.msgs[3], expect("%s:6: sink \"d\" (good): option \"concurrency\" must "
                                          "be an integer, not \"8\"", path));
    ck_assert_str_eq(errs.msgs[4], expect("%s:7: sink \"e\" (good): retry_base must be more "
                                          "than 0", path));
}
END_TEST

/* A fallback names another configured sink, and fallbacks never lead
 * back to where they started. */
START_TEST(test_fallbacks_name_known_sinks_without_cycles)
{
    ck_assert_ptr_null(load("sinks = (\n"
                            "  { id = \"a\"; plugin = \"good\"; url = \"u\"; fallback = \"b\"; },\n"
                            "  { id = \"b\"; plugin = \"good\"; url = \"u\"; fallback = \"a\"; },\n"
                            "  { id = \"c\"; plugin = \"good\"; url = \"u\"; fallback = \"nope\"; }\n"
                            ");\n"));
    ck_assert_msg(errs.n == 3, "%s", all_errors());
    ck_assert_str_eq(errs.msgs[0], expect("%s:2: sink \"a\": its fallbacks lead back to it", path));
    ck_assert_str_eq(errs.msgs[1], expect("%s:3: sink \"b\": its fallbacks lead back to it", path));
    ck_assert_str_eq(errs.msgs[2], expect("%s:4: sink \"c\": fallback \"nope\" is not a "
                                          "configured sink", path));
}
END_TEST

START_TEST(test_core_sink_options_are_not_allowed_on_inputs)
{
    ck_assert_ptr_null(load("inputs = ( { id = \"i\"; plugin = \"good\"; concurrency = 2; } );\n"));
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_str_eq(errs.msgs[0], expect("%s:1: input \"i\" (good): unknown option "
                                          "\"concurrency\"", path));
}
END_TEST

START_TEST(test_instances_need_a_valid_id_and_a_plugin)
{
    ck_assert_ptr_null(load("inputs = (\n"
                            "  { plugin = \"good\"; },\n"
                            "  { id = \"a b\"; plugin = \"good\"; },\n"
                            "  { id = \"ok\"; },\n"
                            "  { id = 5; plugin = \"good\"; },\n"
                            "  \"prom\" );\n"
                            "policies = { id = \"p\"; };\n"));
    ck_assert_msg(errs.n == 6, "%s", all_errors());
    ck_assert_str_eq(errs.msgs[0], expect("%s:2: input #1: missing \"id\"", path));
    ck_assert_str_eq(errs.msgs[1], expect("%s:3: input #2: id \"a b\" may only contain letters, "
                                          "digits, '_', '.' and '-'", path));
    ck_assert_str_eq(errs.msgs[2], expect("%s:4: input \"ok\": missing \"plugin\"", path));
    ck_assert_str_eq(errs.msgs[3], expect("%s:5: input #4: \"id\" must be a string", path));
    ck_assert_str_eq(errs.msgs[4], expect("%s:6: inputs: item 5 must be a group like { id = "
                                          "\"...\"; plugin = \"...\"; }", path));
    ck_assert_str_eq(errs.msgs[5], expect("%s:7: policies must be a list: policies = ( { id = "
                                          "\"...\"; plugin = \"...\"; } );", path));
}
END_TEST

START_TEST(test_syntax_error_names_file_and_line)
{
    ck_assert_ptr_null(load("daemon = {\n"
                            "  listen = \"127.0.0.1:1\";\n"
                            "  state_dir = ;\n"
                            "};\n"));
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_str_eq(errs.msgs[0], expect("%s:3: syntax error: syntax error", path));
}
END_TEST

START_TEST(test_missing_file_names_the_reason)
{
    char p[4400];

    snprintf(p, sizeof p, "%s/nope.conf", dir);
    ck_assert_ptr_null(tc_config_load(p, plugin_dir, &errs));
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_str_eq(errs.msgs[0], expect("%s: cannot read: No such file or directory", p));
}
END_TEST

START_TEST(test_all_errors_are_reported_at_once)
{
    ck_assert_ptr_null(load("daemon = {\n"                                        /* 1 */
                            "  log_lvl = \"debug\";\n"                            /* 2 */
                            "};\n"                                                /* 3 */
                            "sink = ();\n"                                        /* 4 */
                            "inputs = ( { id = \"prom\"; plugin = \"good\"; } );\n" /* 5 */
                            "sinks = (\n"                                         /* 6 */
                            "  { id = \"prom\"; plugin = \"good\"; url = \"u\"; },\n" /* 7 */
                            "  { id = \"pd\"; plugin = \"nope\"; },\n"            /* 8 */
                            "  { id = \"chat\"; plugin = \"good\"; url = \"u\";\n" /* 9 */
                            "    colour = \"red\"; }\n"                           /* 10 */
                            ");\n"                                                /* 11 */
                            "routes = ( { sinks = [ \"pager\" ]; } );\n"));       /* 12 */
    ck_assert_msg(errs.n == 6, "%s", all_errors());
    ck_assert_str_eq(errs.msgs[0], expect("%s:4: unknown top-level setting \"sink\"; did you "
                                          "mean \"sinks\"?", path));
    ck_assert_str_eq(errs.msgs[1], expect("%s:2: daemon: unknown option \"log_lvl\"; did you "
                                          "mean \"log_level\"?", path));
    ck_assert_str_eq(errs.msgs[2], expect("%s:7: duplicate instance id \"prom\" (first declared "
                                          "at %s:5)", path, path));
    ck_assert_str_eq(errs.msgs[3], expect("%s:8: sink \"pd\": cannot load plugin \"nope\": "
                                          "%s/sink_nope.so: No such file or directory", path,
                                          plugin_dir));
    ck_assert_str_eq(errs.msgs[4], expect("%s:10: sink \"chat\" (good): unknown option "
                                          "\"colour\"", path));
    ck_assert_str_eq(errs.msgs[5], expect("%s:12: route 1: unknown sink \"pager\" (no sink has "
                                          "this id)", path));
}
END_TEST

START_TEST(test_secrets_stay_out_of_config_errors)
{
    size_t i;

    setenv("TC_TEST_PD_TOKEN", "HUNTER2", 1);
    ck_assert_ptr_null(load("sinks = ( { id = \"pd\"; plugin = \"good\";\n"
                            "  url = \"env:TC_TEST_PD_TOKEN\"; token = \"env:TC_TEST_PD_TOKEN\";\n"
                            "  greeting = [ \"env:TC_TEST_PD_TOKEN\" ]; retries = \"x\"; } );\n"));
    ck_assert_uint_eq(errs.n, 2);
    for (i = 0; i < errs.n; i++)
        ck_assert_msg(!strstr(errs.msgs[i], "HUNTER2"), "%s", errs.msgs[i]);
}
END_TEST

START_TEST(test_auth_tokens_load_with_roles_and_names)
{
    char tokfile[4300];

    snprintf(tokfile, sizeof tokfile, "%s/read.token", dir);
    write_text(tokfile, "r-0123456789abcdef0123\n");
    setenv("TC_TEST_WRITE", "w-0123456789abcdef0123", 1);
    ck_assert_ptr_nonnull(load(expect(
        "daemon = { listen = \"0.0.0.0:9099\";\n"
        "  auth = { tokens = (\n"
        "    { token = \"env:TC_TEST_WRITE\"; role = \"write\"; name = \"ops\"; },\n"
        "    { token = \"file:%s\"; role = \"read\"; } ); }; };\n"
        "inputs = ( { id = \"prom\"; plugin = \"good\"; bearer_token = \"p-0123456789abcdef\";"
        " basic_user = \"u\"; basic_password = \"pw\"; } );\n", tokfile)));
    unlink(tokfile);
    ck_assert_int_eq(c->daemon.auth, 1);
    ck_assert_uint_eq(c->daemon.n_tokens, 2);
    ck_assert_str_eq(c->daemon.tokens[0].token, "w-0123456789abcdef0123");
    ck_assert_int_eq(c->daemon.tokens[0].role, TC_ROLE_WRITE);
    ck_assert_str_eq(c->daemon.tokens[0].name, "ops");
    ck_assert_str_eq(c->daemon.tokens[1].token, "r-0123456789abcdef0123");
    ck_assert_int_eq(c->daemon.tokens[1].role, TC_ROLE_READ);
    ck_assert_str_eq(c->daemon.tokens[1].name, "token #2");
    ck_assert_str_eq(c->inputs[0].bearer_token, "p-0123456789abcdef");
    ck_assert_str_eq(c->inputs[0].basic_user, "u");
    ck_assert_str_eq(c->inputs[0].basic_password, "pw");
}
END_TEST

START_TEST(test_auth_errors_name_the_line_never_the_token)
{
    size_t i;

    setenv("TC_TEST_WRITE", "w-0123456789abcdef0123", 1);
    setenv("TC_TEST_SHORT", "SHORTSECRET", 1);
    unsetenv("TC_TEST_UNSET");
    ck_assert_ptr_null(load(
        "daemon = { auth = { tokens = (\n"                                           /* 1 */
        "    { token = \"env:TC_TEST_SHORT\"; role = \"write\"; },\n"                /* 2 */
        "    { token = \"env:TC_TEST_WRITE\"; role = \"admin\"; },\n"                /* 3 */
        "    { token = \"env:TC_TEST_UNSET\"; role = \"read\"; },\n"                 /* 4 */
        "    { token = \"env:TC_TEST_WRITE\"; role = \"write\"; },\n"                /* 5 */
        "    { token = \"env:TC_TEST_WRITE\"; role = \"read\"; scope = \"x\"; },\n"  /* 6 */
        "    { role = \"read\"; }\n"                                                 /* 7 */
        "  ); }; };\n"));                                                            /* 8 */
    ck_assert_msg(errs.n == 6, "%s", all_errors());
    ck_assert_str_eq(errs.msgs[0], expect("%s:2: daemon.auth.tokens #1: the token must be at "
                                          "least 16 characters (try: openssl rand -hex 32)", path));
    ck_assert_str_eq(errs.msgs[1], expect("%s:3: daemon.auth.tokens #2: role must be \"read\" or "
                                          "\"write\", not \"admin\"", path));
    ck_assert_str_eq(errs.msgs[2], expect("%s:4: daemon.auth.tokens #3: token: environment "
                                          "variable TC_TEST_UNSET is not set", path));
    ck_assert_str_eq(errs.msgs[3], expect("%s:6: daemon.auth.tokens #5: unknown key \"scope\" "
                                          "(a token has token, role and name)", path));
    ck_assert_str_eq(errs.msgs[4], expect("%s:6: daemon.auth.tokens #5: the same token as the "
                                          "one at line 5; give each client its own", path));
    ck_assert_str_eq(errs.msgs[5], expect("%s:7: daemon.auth.tokens #6: missing \"token\"", path));
    for (i = 0; i < errs.n; i++) {
        ck_assert_msg(!strstr(errs.msgs[i], "SHORTSECRET"), "%s", errs.msgs[i]);
        ck_assert_msg(!strstr(errs.msgs[i], "w-0123456789"), "%s", errs.msgs[i]);
    }
}
END_TEST

START_TEST(test_exposed_listener_needs_auth)
{
    static const char *const loopback[] = { "127.0.0.1:9099", "127.3.2.1:1", "localhost:9099",
                                            "[::1]:9099" };
    size_t i;

    for (i = 0; i < sizeof loopback / sizeof loopback[0]; i++) {
        ck_assert_msg(load(expect("daemon = { listen = \"%s\"; };\n", loopback[i])) != NULL,
                      "%s: %s", loopback[i], all_errors());
        tc_config_free(c);
        c = NULL;
    }
    ck_assert_ptr_null(load("daemon = {\n  listen = \"0.0.0.0:9099\";\n};\n"));
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_str_eq(errs.msgs[0], expect("%s:2: daemon: listen \"0.0.0.0:9099\" is reachable "
                                          "from other hosts, so the API needs tokens: add "
                                          "daemon.auth = { tokens = ( { token = "
                                          "\"env:TOCSIN_TOKEN\"; role = \"write\"; } ); }; (or "
                                          "listen on 127.0.0.1)", path));
    tc_errors_free(&errs);
    memset(&errs, 0, sizeof errs);
    /* A name that resolves to loopback today may not tomorrow. */
    ck_assert_ptr_null(load("daemon = { listen = \"tocsin.example.org:9099\"; };\n"));
    tc_errors_free(&errs);
    memset(&errs, 0, sizeof errs);
    ck_assert_ptr_null(load("daemon = { listen = \"127.0.0.1.example.org:9099\"; };\n"));
}
END_TEST

START_TEST(test_listener_options_are_checked)
{
    ck_assert_ptr_null(load("daemon = {\n"
                            "  tls_cert = \"/etc/tocsin/cert.pem\";\n"
                            "  allowed_hosts = [ \"ok.example.org\", \"bad host\", \"x:99999\" ];\n"
                            "};\n"
                            "inputs = ( { id = \"prom\"; plugin = \"good\";\n"
                            "  basic_user = \"u\";\n"
                            "  bearer_token = \"short\"; } );\n"));
    ck_assert_msg(errs.n == 5, "%s", all_errors());
    ck_assert_str_eq(errs.msgs[0], expect("%s:2: daemon: tls_cert and tls_key go together", path));
    ck_assert_str_eq(errs.msgs[1], expect("%s:3: daemon: allowed_hosts: \"bad host\" is not a "
                                          "host name or host:port", path));
    ck_assert_str_eq(errs.msgs[2], expect("%s:3: daemon: allowed_hosts: \"x:99999\" is not a "
                                          "host name or host:port", path));
    ck_assert_str_eq(errs.msgs[3], expect("%s:6: input \"prom\" (good): basic_user and "
                                          "basic_password go together", path));
    ck_assert_str_eq(errs.msgs[4], expect("%s:7: input \"prom\" (good): bearer_token must be at "
                                          "least 16 characters (try: openssl rand -hex 32)", path));
}
END_TEST

START_TEST(test_earlier_errors_do_not_fail_a_good_load)
{
    tc_errors_add(&errs, "something before");
    ck_assert_ptr_nonnull(load("daemon = {};\n"));
    ck_assert_uint_eq(errs.n, 1);
}
END_TEST

/* A plugin's list of groups is filled through its descriptor's groups,
 * and freed with the config (under ASan: nothing leaks). */
START_TEST(test_plugin_groups_are_filled_per_group)
{
    const struct groups_conf *gc;
    const struct groups_window *w;

    ck_assert_msg(load("policies = (\n"
                       "  { id = \"maint\"; plugin = \"groups\";\n"
                       "    windows = (\n"
                       "      { name = \"db\"; starts_at = \"2024-03-31T02:00:00Z\";\n"
                       "        weekdays = [ \"sun\" ]; },\n"
                       "      { starts_at = \"2024-10-27T01:00:00Z\"; duration = \"2h\"; }\n"
                       "    ); }\n"
                       ");\n") != NULL, "%s", all_errors());
    ck_assert_uint_eq(c->n_policies, 1);
    gc = c->policies[0].conf;
    ck_assert_str_eq(gc->zone, "UTC");
    ck_assert_uint_eq(gc->windows.n, 2);
    w = TOCSIN_GROUP(gc->windows, struct groups_window, sizeof *w, 0);
    ck_assert_str_eq(w->name, "db");
    ck_assert_int_eq(w->duration_ms, 3600000);
    ck_assert_uint_eq(w->weekdays.n, 1);
    w = TOCSIN_GROUP(gc->windows, struct groups_window, sizeof *w, 1);
    ck_assert_str_eq(w->starts_at, "2024-10-27T01:00:00Z");
    ck_assert_int_eq(w->duration_ms, 7200000);
    ck_assert_str_eq(gc->windows.where[1], expect("%s:6", path));
}
END_TEST

START_TEST(test_plugin_group_errors_name_instance_option_and_index)
{
    ck_assert_ptr_null(load("policies = (\n"
                            "  { id = \"maint\"; plugin = \"groups\";\n"
                            "    windows = (\n"
                            "      { starts_at = \"a\"; },\n"
                            "      { name = \"no start\"; duratoin = \"1h\"; }\n"
                            "    ); }\n"
                            ");\n"));
    ck_assert_uint_eq(errs.n, 2);
    ck_assert_str_eq(errs.msgs[0], expect("%s:5: policy \"maint\" (groups): windows[1]: unknown "
                                          "option \"duratoin\"; did you mean \"duration\"?",
                                          path));
    ck_assert_str_eq(errs.msgs[1], expect("%s:5: policy \"maint\" (groups): windows[1]: missing "
                                          "required option \"starts_at\"", path));
}
END_TEST

START_TEST(test_include_is_relative_to_the_config_file)
{
    char inc[4400];

    snprintf(inc, sizeof inc, "%s/sinks.inc", dir);
    write_text(inc, "sinks = (\n  { id = \"s\"; plugin = \"good\"; urk = \"u\"; }\n);\n");
    ck_assert_ptr_null(load("daemon = {};\n@include \"sinks.inc\"\n"));
    ck_assert_uint_eq(errs.n, 2);
    /* libconfig names an included file as the @include line wrote it. */
    ck_assert_str_eq(errs.msgs[0], "sinks.inc:2: sink \"s\" (good): unknown option \"urk\"; did "
                                   "you mean \"url\"?");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_full_config_loads_every_part);
    tcase_add_test(tc, test_daemon_defaults_apply_without_daemon_group);
    tcase_add_test(tc, test_plugin_dir_comes_from_the_file_or_the_build);
    tcase_add_test(tc, test_unknown_top_level_key_names_file_line_and_hint);
    tcase_add_test(tc, test_unknown_daemon_key_names_file_line_and_hint);
    tcase_add_test(tc, test_bad_daemon_values_are_errors);
    tcase_add_test(tc, test_http_max_response_is_a_size_of_at_least_one_byte);
    tcase_add_test(tc, test_duplicate_id_across_kinds_names_first_declaration);
    tcase_add_test(tc, test_route_naming_unknown_sink_is_an_error);
    tcase_add_test(tc, test_missing_plugin_names_file_line_and_plugin_path);
    tcase_add_test(tc, test_refused_plugin_reason_is_shown);
    tcase_add_test(tc, test_plugin_option_errors_name_the_instance);
    tcase_add_test(tc, test_sink_core_options_are_typed_and_range_checked);
    tcase_add_test(tc, test_fallbacks_name_known_sinks_without_cycles);
    tcase_add_test(tc, test_core_sink_options_are_not_allowed_on_inputs);
    tcase_add_test(tc, test_instances_need_a_valid_id_and_a_plugin);
    tcase_add_test(tc, test_syntax_error_names_file_and_line);
    tcase_add_test(tc, test_missing_file_names_the_reason);
    tcase_add_test(tc, test_all_errors_are_reported_at_once);
    tcase_add_test(tc, test_secrets_stay_out_of_config_errors);
    tcase_add_test(tc, test_auth_tokens_load_with_roles_and_names);
    tcase_add_test(tc, test_auth_errors_name_the_line_never_the_token);
    tcase_add_test(tc, test_exposed_listener_needs_auth);
    tcase_add_test(tc, test_listener_options_are_checked);
    tcase_add_test(tc, test_earlier_errors_do_not_fail_a_good_load);
    tcase_add_test(tc, test_include_is_relative_to_the_config_file);
    tcase_add_test(tc, test_plugin_groups_are_filled_per_group);
    tcase_add_test(tc, test_plugin_group_errors_name_instance_option_and_index);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    plugin_dir = tu_plugin_dir();
    sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
