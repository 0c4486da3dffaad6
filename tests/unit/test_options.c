/* tests/unit/test_options.c: typed option tables: types, defaults, errors
 * with file:line, env:/file: secrets, duration and size syntax. */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "options.h"

struct conf {
    const char *url;
    const char *token;
    const char *greeting;
    int64_t retries;
    int verbose;
    int64_t timeout_ms;
    int64_t max_size;
    struct tocsin_strlist tags;
    struct tocsin_map headers;
    struct tocsin_strlist keys;
    const char *routing_key;
};

static const struct tocsin_option table[] = {
    { "url", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_REQUIRED, offsetof(struct conf, url),
      "Where to deliver." },
    { "token", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_SECRET, offsetof(struct conf, token),
      "Bearer token." },
    { "greeting", TOCSIN_OPT_STRING, "hello", 0, offsetof(struct conf, greeting), "Hi." },
    { "retries", TOCSIN_OPT_INT, "3", 0, offsetof(struct conf, retries), "Retries." },
    { "verbose", TOCSIN_OPT_BOOL, "false", 0, offsetof(struct conf, verbose), "Log more." },
    { "timeout", TOCSIN_OPT_DURATION, "30s", 0, offsetof(struct conf, timeout_ms), "T." },
    { "max_size", TOCSIN_OPT_SIZE, "64k", 0, offsetof(struct conf, max_size), "S." },
    { "tags", TOCSIN_OPT_STRLIST, "a,b", 0, offsetof(struct conf, tags), "Tags." },
    { "headers", TOCSIN_OPT_MAP, NULL, 0, offsetof(struct conf, headers), "Headers." },
    { "keys", TOCSIN_OPT_STRLIST, NULL, TOCSIN_OPT_SECRET, offsetof(struct conf, keys), "K." },
    { "routing_key", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_SECRET,
      offsetof(struct conf, routing_key), "Integration key." },
    { 0 }
};

/* A plugin with a list of groups (TOCSIN_OPT_GROUPS). */
struct window {
    const char *name;
    const char *starts_at;
    int64_t duration_ms;
    struct tocsin_strlist weekdays;
    const char *token;
};

struct gconf {
    const char *zone;
    struct tocsin_groups windows;
    int64_t retries;
};

static const struct tocsin_option window_options[] = {
    { "name", TOCSIN_OPT_STRING, NULL, 0, offsetof(struct window, name), "What for." },
    { "starts_at", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_REQUIRED,
      offsetof(struct window, starts_at), "RFC 3339 start." },
    { "duration", TOCSIN_OPT_DURATION, "1h", 0, offsetof(struct window, duration_ms), "Length." },
    { "weekdays", TOCSIN_OPT_STRLIST, NULL, 0, offsetof(struct window, weekdays), "Days." },
    { "token", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_SECRET, offsetof(struct window, token),
      "A secret." },
    { 0 }
};

static const struct tocsin_option gtable[] = {
    { "zone", TOCSIN_OPT_STRING, "UTC", 0, offsetof(struct gconf, zone), "Time zone." },
    { "windows", TOCSIN_OPT_GROUPS, NULL, 0, offsetof(struct gconf, windows), "Windows." },
    { "retries", TOCSIN_OPT_INT, "3", 0, offsetof(struct gconf, retries), "Retries." },
    { 0 }
};

static const struct tocsin_group_table gtables[] = {
    { "windows", window_options, sizeof(struct window) },
    { 0 }
};

#define WINDOW(g, i) TOCSIN_GROUP((g).windows, struct window, sizeof(struct window), i)

static const char *const reserved[] = { "id", "plugin", NULL };
#define CTX "sink \"pd-api\" (pagerduty)"

static char dir[4096], path[4200];
static config_t cfg;
static struct tc_errors errs;
static struct conf c;
static struct gconf g;

static void setup(void)
{
    const char *base = getenv("TOCSIN_TMPDIR");

    if (!base)
        base = "/tmp";
    mkdir(base, 0755);
    snprintf(dir, sizeof dir, "%s/options.XXXXXX", base);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/tocsin.conf", dir);
    config_init(&cfg);
    memset(&errs, 0, sizeof errs);
    memset(&c, 0, sizeof c);
    memset(&g, 0, sizeof g);
}

static void teardown(void)
{
    char f[4300];

    tc_options_free(table, NULL, &c);
    tc_options_free(gtable, gtables, &g);
    tc_errors_free(&errs);
    config_destroy(&cfg);
    unlink(path);
    snprintf(f, sizeof f, "%s/secret", dir);
    unlink(f);
    snprintf(f, sizeof f, "%s/windows.inc", dir);
    unlink(f);
    rmdir(dir);
}

static void write_text(const char *file, const char *text)
{
    FILE *f = fopen(file, "w");

    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* Writes text as the config file and fills c from its "block" group. */
static int fill(const char *text)
{
    const config_setting_t *block;

    write_text(path, text);
    ck_assert_msg(config_read_file(&cfg, path), "%s:%d: %s", path, config_error_line(&cfg),
                  config_error_text(&cfg));
    block = config_lookup(&cfg, "block");
    ck_assert_ptr_nonnull(block);
    return tc_options_fill(table, NULL, block, reserved, CTX, &c, &errs);
}

/* Frees g and the errors and reads a fresh config: for a second gfill(). */
static void grestart(void)
{
    tc_options_free(gtable, gtables, &g);
    tc_errors_free(&errs);
    memset(&errs, 0, sizeof errs);
    config_destroy(&cfg);
    config_init(&cfg);
}

/* fill() for the table with groups: fills g. */
static int gfill(const char *text)
{
    write_text(path, text);
    ck_assert_msg(config_read_file(&cfg, path), "%s:%d: %s", path, config_error_line(&cfg),
                  config_error_text(&cfg));
    return tc_options_fill(gtable, gtables, config_lookup(&cfg, "block"), reserved, CTX, &g,
                           &errs);
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

START_TEST(test_every_type_is_filled_from_its_setting)
{
    ck_assert_int_eq(fill("block = {\n"
                          "  id = \"pd-api\"; plugin = \"pagerduty\";\n"
                          "  url = \"https://example.com/x\";\n"
                          "  greeting = \"hey\";\n"
                          "  retries = 5;\n"
                          "  verbose = true;\n"
                          "  timeout = \"250ms\";\n"
                          "  max_size = \"1M\";\n"
                          "  tags = [ \"x\", \"y\" ];\n"
                          "  headers = { A = \"1\"; B = \"2\"; };\n"
                          "};\n"), 0);
    ck_assert_uint_eq(errs.n, 0);
    ck_assert_str_eq(c.url, "https://example.com/x");
    ck_assert_ptr_null(c.token);
    ck_assert_str_eq(c.greeting, "hey");
    ck_assert_int_eq(c.retries, 5);
    ck_assert_int_eq(c.verbose, 1);
    ck_assert_int_eq(c.timeout_ms, 250);
    ck_assert_int_eq(c.max_size, 1048576);
    ck_assert_uint_eq(c.tags.n, 2);
    ck_assert_str_eq(c.tags.items[0], "x");
    ck_assert_str_eq(c.tags.items[1], "y");
    ck_assert_ptr_null(c.tags.items[2]);
    ck_assert_uint_eq(c.headers.n, 2);
    ck_assert_str_eq(c.headers.items[0].key, "A");
    ck_assert_str_eq(c.headers.items[0].value, "1");
    ck_assert_str_eq(c.headers.items[1].key, "B");
    ck_assert_str_eq(c.headers.items[1].value, "2");
}
END_TEST

START_TEST(test_defaults_fill_unset_options)
{
    ck_assert_int_eq(fill("block = { url = \"u\"; };\n"), 0);
    ck_assert_str_eq(c.greeting, "hello");
    ck_assert_int_eq(c.retries, 3);
    ck_assert_int_eq(c.verbose, 0);
    ck_assert_int_eq(c.timeout_ms, 30000);
    ck_assert_int_eq(c.max_size, 65536);
    ck_assert_uint_eq(c.tags.n, 2);
    ck_assert_str_eq(c.tags.items[0], "a");
    ck_assert_str_eq(c.tags.items[1], "b");
    ck_assert_uint_eq(c.headers.n, 0);
    ck_assert_ptr_null(c.token);
}
END_TEST

START_TEST(test_missing_required_option_names_file_line_and_key)
{
    ck_assert_int_eq(fill("# a comment\n"
                          "block = {\n"
                          "  greeting = \"hi\";\n"
                          "};\n"), -1);
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_str_eq(errs.msgs[0],
                     expect("%s:2: " CTX ": missing required option \"url\"", path));
}
END_TEST

START_TEST(test_unknown_key_names_file_line_and_hint)
{
    ck_assert_int_eq(fill("block = {\n"
                          "  url = \"u\";\n"
                          "  routing_kye = \"x\";\n"
                          "};\n"), -1);
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_str_eq(errs.msgs[0], expect("%s:3: " CTX ": unknown option \"routing_kye\"; "
                                          "did you mean \"routing_key\"?", path));
}
END_TEST

START_TEST(test_unknown_key_far_from_any_has_no_hint)
{
    ck_assert_int_eq(fill("block = { url = \"u\"; colour = \"red\"; };\n"), -1);
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_str_eq(errs.msgs[0], expect("%s:1: " CTX ": unknown option \"colour\"", path));
}
END_TEST

START_TEST(test_reserved_keys_are_skipped_and_hinted)
{
    ck_assert_int_eq(fill("block = { id = \"x\"; plugin = \"y\"; url = \"u\";\n"
                          "  plugn = \"z\"; };\n"), -1);
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_str_eq(errs.msgs[0], expect("%s:2: " CTX ": unknown option \"plugn\"; "
                                          "did you mean \"plugin\"?", path));
}
END_TEST

START_TEST(test_wrong_types_are_all_reported_with_what_was_given)
{
    ck_assert_int_eq(fill("block = {\n"
                          "  url = \"u\";\n"
                          "  timeout = true;\n"
                          "  retries = \"five\";\n"
                          "  verbose = 1;\n"
                          "  max_size = 1.5;\n"
                          "  tags = { a = \"b\"; };\n"
                          "  headers = [ \"x\" ];\n"
                          "  greeting = 7;\n"
                          "};\n"), -1);
    ck_assert_uint_eq(errs.n, 7);
    ck_assert_str_eq(errs.msgs[0], expect("%s:9: " CTX ": option \"greeting\" must be a "
                                          "string, not 7", path));
    ck_assert_str_eq(errs.msgs[1], expect("%s:4: " CTX ": option \"retries\" must be an "
                                          "integer, not \"five\"", path));
    ck_assert_str_eq(errs.msgs[2], expect("%s:5: " CTX ": option \"verbose\" must be a "
                                          "boolean (true or false), not 1", path));
    ck_assert_str_eq(errs.msgs[3], expect("%s:3: " CTX ": option \"timeout\" must be a "
                                          "duration (like \"30s\"), not true", path));
    ck_assert_str_eq(errs.msgs[4], expect("%s:6: " CTX ": option \"max_size\" must be a size "
                                          "(like \"64k\"), not 1.5", path));
    ck_assert_str_eq(errs.msgs[5], expect("%s:7: " CTX ": option \"tags\" must be a list of "
                                          "strings (like [\"a\", \"b\"]), not a group", path));
    ck_assert_str_eq(errs.msgs[6], expect("%s:8: " CTX ": option \"headers\" must be a group "
                                          "of strings (like { key = \"value\"; }), not an array",
                                          path));
}
END_TEST

START_TEST(test_bad_duration_and_size_strings_are_quoted)
{
    ck_assert_int_eq(fill("block = { url = \"u\";\n"
                          "  timeout = \"30x\";\n"
                          "  max_size = \"12Q\"; };\n"), -1);
    ck_assert_uint_eq(errs.n, 2);
    ck_assert_str_eq(errs.msgs[0], expect("%s:2: " CTX ": option \"timeout\" must be a "
                                          "duration (like \"30s\"), not \"30x\"", path));
    ck_assert_str_eq(errs.msgs[1], expect("%s:3: " CTX ": option \"max_size\" must be a size "
                                          "(like \"64k\"), not \"12Q\"", path));
}
END_TEST

START_TEST(test_duration_int_is_seconds_and_negative_is_refused)
{
    ck_assert_int_eq(fill("block = { url = \"u\"; timeout = 5; max_size = 100; };\n"), 0);
    ck_assert_int_eq(c.timeout_ms, 5000);
    ck_assert_int_eq(c.max_size, 100);
    tc_options_free(table, NULL, &c);
    config_destroy(&cfg);
    config_init(&cfg);
    ck_assert_int_eq(fill("block = { url = \"u\"; timeout = -1; max_size = -2; };\n"), -1);
    ck_assert_uint_eq(errs.n, 2);
    ck_assert_str_eq(errs.msgs[0], expect("%s:1: " CTX ": option \"timeout\" must be a "
                                          "duration (like \"30s\"), not -1", path));
    ck_assert_str_eq(errs.msgs[1], expect("%s:1: " CTX ": option \"max_size\" must be a size "
                                          "(like \"64k\"), not -2", path));
}
END_TEST

START_TEST(test_int_accepts_64_bit_values)
{
    ck_assert_int_eq(fill("block = { url = \"u\"; retries = 9999999999L; };\n"), 0);
    ck_assert_int_eq(c.retries, INT64_C(9999999999));
}
END_TEST

START_TEST(test_strlist_accepts_a_single_string_and_a_list)
{
    ck_assert_int_eq(fill("block = { url = \"u\"; tags = \"only\"; keys = (\"k1\"); };\n"), 0);
    ck_assert_uint_eq(c.tags.n, 1);
    ck_assert_str_eq(c.tags.items[0], "only");
    ck_assert_uint_eq(c.keys.n, 1);
    ck_assert_str_eq(c.keys.items[0], "k1");
}
END_TEST

START_TEST(test_empty_strlist_and_map_are_empty)
{
    ck_assert_int_eq(fill("block = { url = \"u\"; tags = []; headers = {}; };\n"), 0);
    ck_assert_uint_eq(c.tags.n, 0);
    ck_assert_uint_eq(c.headers.n, 0);
}
END_TEST

START_TEST(test_strlist_item_and_map_value_must_be_strings)
{
    ck_assert_int_eq(fill("block = { url = \"u\";\n"
                          "  tags = (\"a\", 1);\n"
                          "  headers = { A = \"x\"; B = 2; }; };\n"), -1);
    ck_assert_uint_eq(errs.n, 2);
    ck_assert_str_eq(errs.msgs[0], expect("%s:2: " CTX ": option \"tags\" item 2 must be a "
                                          "string, not 1", path));
    ck_assert_str_eq(errs.msgs[1], expect("%s:3: " CTX ": option \"headers\" key \"B\" must be "
                                          "a string, not 2", path));
    /* What was good is kept, so free() still sees everything. */
    ck_assert_uint_eq(c.tags.n, 1);
    ck_assert_uint_eq(c.headers.n, 1);
}
END_TEST

START_TEST(test_env_secret_is_resolved_in_every_string)
{
    setenv("TC_TEST_TOKEN", "s3cr3t", 1);
    ck_assert_int_eq(fill("block = { url = \"env:TC_TEST_TOKEN\"; token = \"env:TC_TEST_TOKEN\";\n"
                          "  tags = [ \"env:TC_TEST_TOKEN\", \"plain\" ];\n"
                          "  headers = { Authorization = \"env:TC_TEST_TOKEN\"; }; };\n"), 0);
    ck_assert_str_eq(c.url, "s3cr3t");
    ck_assert_str_eq(c.token, "s3cr3t");
    ck_assert_str_eq(c.tags.items[0], "s3cr3t");
    ck_assert_str_eq(c.tags.items[1], "plain");
    ck_assert_str_eq(c.headers.items[0].value, "s3cr3t");
}
END_TEST

START_TEST(test_unset_env_secret_names_the_variable)
{
    unsetenv("TC_TEST_MISSING");
    ck_assert_int_eq(fill("block = { url = \"u\";\n"
                          "  token = \"env:TC_TEST_MISSING\"; };\n"), -1);
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_str_eq(errs.msgs[0], expect("%s:2: " CTX ": option \"token\": environment "
                                          "variable TC_TEST_MISSING is not set", path));
}
END_TEST

START_TEST(test_file_secret_drops_trailing_newlines_only)
{
    char secret[4300], text[8800];

    snprintf(secret, sizeof secret, "%s/secret", dir);
    write_text(secret, "line1\nline2\r\n\n");
    snprintf(text, sizeof text, "block = { url = \"u\"; token = \"file:%s\"; };\n", secret);
    ck_assert_int_eq(fill(text), 0);
    ck_assert_str_eq(c.token, "line1\nline2");
}
END_TEST

START_TEST(test_unreadable_file_secret_names_path_and_reason)
{
    char text[8800];

    snprintf(text, sizeof text, "block = { url = \"u\";\n  token = \"file:%s/nope\"; };\n", dir);
    ck_assert_int_eq(fill(text), -1);
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_str_eq(errs.msgs[0], expect("%s:2: " CTX ": option \"token\": cannot read "
                                          "%s/nope: No such file or directory", path, dir));
}
END_TEST

START_TEST(test_secret_values_never_appear_in_errors)
{
    size_t i;

    setenv("TC_TEST_TOKEN", "TOPSECRET-ENV", 1);
    ck_assert_int_eq(fill("block = {\n"
                          "  url = \"env:TC_TEST_TOKEN\";\n"
                          "  token = 424242;\n"
                          "  routing_key = [ \"TOPSECRET-LIST\" ];\n"
                          "  keys = ( \"TOPSECRET-OK\", 31337 );\n"
                          "  retries = \"env:TC_TEST_TOKEN\";\n"
                          "};\n"), -1);
    ck_assert_uint_eq(errs.n, 4);
    ck_assert_str_eq(errs.msgs[0], expect("%s:3: " CTX ": option \"token\" must be a string, "
                                          "not an integer", path));
    ck_assert_str_eq(errs.msgs[1], expect("%s:6: " CTX ": option \"retries\" must be an "
                                          "integer, not \"env:TC_TEST_TOKEN\"", path));
    ck_assert_str_eq(errs.msgs[2], expect("%s:5: " CTX ": option \"keys\" item 2 must be a "
                                          "string, not an integer", path));
    ck_assert_str_eq(errs.msgs[3], expect("%s:4: " CTX ": option \"routing_key\" must be a "
                                          "string, not an array", path));
    for (i = 0; i < errs.n; i++) {
        ck_assert_ptr_null(strstr(errs.msgs[i], "TOPSECRET"));
        ck_assert_ptr_null(strstr(errs.msgs[i], "424242"));
        ck_assert_ptr_null(strstr(errs.msgs[i], "31337"));
    }
}
END_TEST

START_TEST(test_bad_default_in_table_is_reported_as_plugin_bug)
{
    static const struct tocsin_option bad[] = {
        { "timeout", TOCSIN_OPT_DURATION, "soon", 0, 0, "T." },
        { 0 }
    };
    int64_t v = 0;

    write_text(path, "block = {};\n");
    ck_assert(config_read_file(&cfg, path));
    ck_assert_int_eq(tc_options_fill(bad, NULL, config_lookup(&cfg, "block"), NULL,
                                     "input \"x\" (y)", &v, &errs), -1);
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_str_eq(errs.msgs[0], expect("%s:1: input \"x\" (y): option \"timeout\": its "
                                          "default \"soon\" is not a valid duration (a plugin "
                                          "bug)", path));
}
END_TEST

START_TEST(test_free_releases_and_zeroes_every_allocation)
{
    ck_assert_int_eq(fill("block = { url = \"u\"; token = \"t\"; tags = [\"x\"];\n"
                          "  headers = { A = \"b\"; }; keys = \"k\"; };\n"), 0);
    tc_options_free(table, NULL, &c);
    ck_assert_ptr_null(c.url);
    ck_assert_ptr_null(c.token);
    ck_assert_ptr_null(c.greeting);
    ck_assert_uint_eq(c.tags.n, 0);
    ck_assert_ptr_null(c.tags.items);
    ck_assert_uint_eq(c.headers.n, 0);
    ck_assert_ptr_null(c.headers.items);
    /* A second free is harmless (teardown does one). */
    tc_options_free(table, NULL, &c);
}
END_TEST

START_TEST(test_get_returns_the_field_and_its_type)
{
    enum tocsin_opt_type t = 0;
    const void *p;

    ck_assert_int_eq(fill("block = { url = \"u\"; retries = 9; };\n"), 0);
    p = tc_options_get(table, &c, "retries", &t);
    ck_assert_ptr_eq(p, &c.retries);
    ck_assert_int_eq(t, TOCSIN_OPT_INT);
    ck_assert_int_eq(*(const int64_t *)p, 9);
    ck_assert_ptr_eq(tc_options_get(table, &c, "url", NULL), &c.url);
    ck_assert_ptr_null(tc_options_get(table, &c, "nope", &t));
}
END_TEST

START_TEST(test_groups_fill_each_group_and_where_it_is)
{
    setenv("TC_TEST_WINDOW_TOKEN", "w1nd0w", 1);
    ck_assert_int_eq(gfill("block = {\n"                                     /* 1 */
                           "  windows = (\n"                                 /* 2 */
                           "    { name = \"db\"; starts_at = \"2024-03-31T02:00:00Z\";\n"
                           "      duration = \"90m\"; weekdays = [ \"sun\", \"sat\" ];\n"
                           "      token = \"env:TC_TEST_WINDOW_TOKEN\"; },\n" /* 5 */
                           "    {\n"                                         /* 6 */
                           "      starts_at = \"env:TC_TEST_WINDOW_TOKEN\";\n"
                           "      weekdays = \"mon\";\n"                     /* 8 */
                           "    }\n"                                         /* 9 */
                           "  );\n"                                          /* 10 */
                           "  retries = 7;\n"                                /* 11 */
                           "};\n"), 0);
    ck_assert_uint_eq(errs.n, 0);
    ck_assert_str_eq(g.zone, "UTC");
    ck_assert_int_eq(g.retries, 7);
    ck_assert_uint_eq(g.windows.n, 2);
    ck_assert_str_eq(WINDOW(g, 0)->name, "db");
    ck_assert_str_eq(WINDOW(g, 0)->starts_at, "2024-03-31T02:00:00Z");
    ck_assert_int_eq(WINDOW(g, 0)->duration_ms, 90 * 60000);
    ck_assert_uint_eq(WINDOW(g, 0)->weekdays.n, 2);
    ck_assert_str_eq(WINDOW(g, 0)->weekdays.items[0], "sun");
    ck_assert_str_eq(WINDOW(g, 0)->weekdays.items[1], "sat");
    ck_assert_str_eq(WINDOW(g, 0)->token, "w1nd0w");
    /* Defaults and env: apply in every group. */
    ck_assert_ptr_null(WINDOW(g, 1)->name);
    ck_assert_str_eq(WINDOW(g, 1)->starts_at, "w1nd0w");
    ck_assert_int_eq(WINDOW(g, 1)->duration_ms, 3600000);
    ck_assert_uint_eq(WINDOW(g, 1)->weekdays.n, 1);
    ck_assert_str_eq(WINDOW(g, 1)->weekdays.items[0], "mon");
    ck_assert_ptr_null(WINDOW(g, 1)->token);
    ck_assert_str_eq(g.windows.where[0], expect("%s:3", path));
    ck_assert_str_eq(g.windows.where[1], expect("%s:6", path));
}
END_TEST

START_TEST(test_groups_empty_or_absent_are_none)
{
    ck_assert_int_eq(gfill("block = { windows = (); };\n"), 0);
    ck_assert_uint_eq(g.windows.n, 0);
    ck_assert_ptr_null(g.windows.items);
    ck_assert_ptr_null(g.windows.where);
    grestart();
    ck_assert_int_eq(gfill("block = { windows = []; };\n"), 0);
    ck_assert_uint_eq(g.windows.n, 0);
    grestart();
    ck_assert_int_eq(gfill("block = { zone = \"Europe/Berlin\"; };\n"), 0);
    ck_assert_uint_eq(g.windows.n, 0);
    ck_assert_ptr_null(g.windows.items);
    ck_assert_uint_eq(errs.n, 0);
}
END_TEST

START_TEST(test_groups_list_of_one_group)
{
    ck_assert_int_eq(gfill("block = { windows = ( { starts_at = \"x\"; } ); };\n"), 0);
    ck_assert_uint_eq(g.windows.n, 1);
    ck_assert_str_eq(WINDOW(g, 0)->starts_at, "x");
    ck_assert_str_eq(g.windows.where[0], expect("%s:1", path));
}
END_TEST

/* Each error names the group's own line and its place in the list. */
START_TEST(test_group_errors_name_the_group_line_and_index)
{
    unsetenv("TC_TEST_MISSING");
    ck_assert_int_eq(gfill("block = {\n"                                     /* 1 */
                           "  windows = (\n"                                 /* 2 */
                           "    { starts_at = \"a\";\n"                      /* 3 */
                           "      strats_at = \"b\"; duration = true; },\n"  /* 4 */
                           "    { name = \"n\";\n"                           /* 5 */
                           "      token = \"env:TC_TEST_MISSING\"; }\n"      /* 6 */
                           "  );\n"                                          /* 7 */
                           "  windos = ();\n"                                /* 8 */
                           "};\n"), -1);
    ck_assert_uint_eq(errs.n, 5);
    ck_assert_str_eq(errs.msgs[0], expect("%s:8: " CTX ": unknown option \"windos\"; did you "
                                          "mean \"windows\"?", path));
    ck_assert_str_eq(errs.msgs[1], expect("%s:4: " CTX ": windows[0]: unknown option "
                                          "\"strats_at\"; did you mean \"starts_at\"?", path));
    ck_assert_str_eq(errs.msgs[2], expect("%s:4: " CTX ": windows[0]: option \"duration\" must "
                                          "be a duration (like \"30s\"), not true", path));
    ck_assert_str_eq(errs.msgs[3], expect("%s:5: " CTX ": windows[1]: missing required option "
                                          "\"starts_at\"", path));
    ck_assert_str_eq(errs.msgs[4], expect("%s:6: " CTX ": windows[1]: option \"token\": "
                                          "environment variable TC_TEST_MISSING is not set",
                                          path));
    /* What was filled is kept for free(). */
    ck_assert_uint_eq(g.windows.n, 2);
    ck_assert_str_eq(WINDOW(g, 1)->name, "n");
}
END_TEST

START_TEST(test_groups_must_be_a_list_of_groups)
{
    ck_assert_int_eq(gfill("block = {\n"
                           "  windows = { starts_at = \"a\"; };\n"
                           "};\n"), -1);
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_str_eq(errs.msgs[0], expect("%s:2: " CTX ": option \"windows\" must be a list of "
                                          "groups (like ( { ... }, { ... } )), not a group; "
                                          "write ( { ... } ) for one", path));
    grestart();
    ck_assert_int_eq(gfill("block = {\n"
                           "  windows = \"weekends\";\n"
                           "};\n"), -1);
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_str_eq(errs.msgs[0], expect("%s:2: " CTX ": option \"windows\" must be a list of "
                                          "groups (like ( { ... }, { ... } )), not \"weekends\"",
                                          path));
    grestart();
    ck_assert_int_eq(gfill("block = {\n"
                           "  windows = ( { starts_at = \"a\"; },\n"
                           "    \"b\", [ 1 ] );\n"
                           "};\n"), -1);
    ck_assert_uint_eq(errs.n, 2);
    ck_assert_str_eq(errs.msgs[0], expect("%s:3: " CTX ": option \"windows\" item 1 must be a "
                                          "group ({ ... }), not \"b\"", path));
    ck_assert_str_eq(errs.msgs[1], expect("%s:3: " CTX ": option \"windows\" item 2 must be a "
                                          "group ({ ... }), not an array", path));
    ck_assert_uint_eq(g.windows.n, 3);
    ck_assert_str_eq(WINDOW(g, 0)->starts_at, "a");
}
END_TEST

START_TEST(test_group_secret_values_never_appear_in_errors)
{
    size_t i;

    ck_assert_int_eq(gfill("block = {\n"
                           "  windows = ( { starts_at = \"a\";\n"
                           "    token = 424242; } );\n"
                           "};\n"), -1);
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_str_eq(errs.msgs[0], expect("%s:3: " CTX ": windows[0]: option \"token\" must be "
                                          "a string, not an integer", path));
    for (i = 0; i < errs.n; i++)
        ck_assert_ptr_null(strstr(errs.msgs[i], "424242"));
}
END_TEST

/* libconfig names an included file as the @include line wrote it. */
START_TEST(test_group_in_an_included_file_names_that_file)
{
    char inc[4400];

    snprintf(inc, sizeof inc, "%s/windows.inc", dir);
    write_text(inc, "windows = (\n  { starts_at = \"a\"; },\n  { name = \"x\"; }\n);\n");
    config_set_include_dir(&cfg, dir);
    ck_assert_int_eq(gfill("block = {\n"
                           "@include \"windows.inc\"\n"
                           "};\n"), -1);
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_str_eq(errs.msgs[0], "windows.inc:3: " CTX ": windows[1]: missing required "
                                   "option \"starts_at\"");
    ck_assert_str_eq(g.windows.where[0], "windows.inc:2");
}
END_TEST

START_TEST(test_groups_without_a_table_or_with_a_default_are_plugin_bugs)
{
    static const struct tocsin_option bad[] = {
        { "windows", TOCSIN_OPT_GROUPS, NULL, 0, offsetof(struct gconf, windows), "W." },
        { "levels", TOCSIN_OPT_GROUPS, "none", 0, offsetof(struct gconf, windows), "L." },
        { 0 }
    };
    struct gconf v;

    memset(&v, 0, sizeof v);
    write_text(path, "block = {\n  windows = ();\n};\n");
    ck_assert(config_read_file(&cfg, path));
    ck_assert_int_eq(tc_options_fill(bad, NULL, config_lookup(&cfg, "block"), NULL,
                                     "policy \"m\" (x)", &v, &errs), -1);
    ck_assert_uint_eq(errs.n, 2);
    ck_assert_str_eq(errs.msgs[0], expect("%s:2: policy \"m\" (x): option \"windows\" has no "
                                          "group table (a plugin bug)", path));
    ck_assert_str_eq(errs.msgs[1], expect("%s:1: policy \"m\" (x): option \"levels\": a list of "
                                          "groups has no default (a plugin bug)", path));
    ck_assert_uint_eq(v.windows.n, 0);
}
END_TEST

START_TEST(test_groups_free_releases_and_zeroes_everything)
{
    ck_assert_int_eq(gfill("block = { windows = (\n"
                           "  { name = \"a\"; starts_at = \"b\"; weekdays = [\"x\", \"y\"];\n"
                           "    token = \"t\"; },\n"
                           "  { starts_at = \"c\"; } ); };\n"), 0);
    ck_assert_uint_eq(g.windows.n, 2);
    tc_options_free(gtable, gtables, &g);
    ck_assert_ptr_null(g.zone);
    ck_assert_uint_eq(g.windows.n, 0);
    ck_assert_ptr_null(g.windows.items);
    ck_assert_ptr_null(g.windows.where);
    /* A second free is harmless (teardown does one). */
    tc_options_free(gtable, gtables, &g);
}
END_TEST

START_TEST(test_get_returns_the_groups)
{
    enum tocsin_opt_type t = 0;
    const struct tocsin_groups *w;

    ck_assert_int_eq(gfill("block = { windows = ( { starts_at = \"s\"; } ); };\n"), 0);
    w = tc_options_get(gtable, &g, "windows", &t);
    ck_assert_ptr_eq(w, &g.windows);
    ck_assert_int_eq(t, TOCSIN_OPT_GROUPS);
    ck_assert_uint_eq(w->n, 1);
}
END_TEST

/* The line of help output that starts with "  NAME ", or "" (static). */
static const char *help_line(const char *buf, const char *name)
{
    static char line[512];
    char start[64];
    const char *p, *end;

    snprintf(start, sizeof start, "  %s ", name);
    line[0] = '\0';
    for (p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, start, strlen(start)) == 0) {
            end = strchr(p, '\n');
            snprintf(line, sizeof line, "%.*s", end ? (int)(end - p) : (int)strlen(p), p);
            break;
        }
    return line;
}

START_TEST(test_help_shows_type_default_required_and_secret)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    const char *l;

    tc_options_help(out, table, NULL);
    fclose(out);
    ck_assert_ptr_nonnull(strstr(buf, "OPTION"));
    l = help_line(buf, "url");
    ck_assert_msg(strstr(l, " string ") && strstr(l, " (required) ") &&
                  strstr(l, "Where to deliver.") && !strstr(l, "secret"), "%s", buf);
    l = help_line(buf, "token");
    ck_assert_msg(strstr(l, " secret ") && strstr(l, "Bearer token."), "%s", buf);
    l = help_line(buf, "greeting");
    ck_assert_msg(strstr(l, " \"hello\" ") && !strstr(l, "secret"), "%s", buf);
    l = help_line(buf, "timeout");
    ck_assert_msg(strstr(l, " duration ") && strstr(l, " 30s "), "%s", buf);
    l = help_line(buf, "headers");
    ck_assert_msg(strstr(l, " map ") && strstr(l, " - "), "%s", buf);
    free(buf);
}
END_TEST

/* A groups option's own options are listed, indented, below it. */
START_TEST(test_help_lists_group_options_below_their_option)
{
    char *buf = NULL, *w, *s, *zone;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);

    tc_options_help(out, gtable, gtables);
    fclose(out);
    w = strstr(buf, "\n  windows ");
    s = strstr(buf, "\n    starts_at ");
    zone = strstr(buf, "\n  zone ");
    ck_assert_msg(w && s && zone && zone < w && w < s, "%s", buf);
    ck_assert_msg(strstr(help_line(buf, "windows"), " groups "), "%s", buf);
    ck_assert_msg(strstr(s, " string ") && strstr(s, " (required) ") &&
                  strstr(s, "RFC 3339 start."), "%s", buf);
    ck_assert_msg(strstr(buf, "\n    token ") && strstr(strstr(buf, "\n    token "), " secret "),
                  "%s", buf);
    /* The nested rows end before the next option of the block. */
    ck_assert_msg(strstr(buf, "\n  retries ") > strstr(buf, "\n    token "), "%s", buf);
    /* Columns line up: TYPE starts at the same place on every row. */
    ck_assert_int_eq(strstr(help_line(buf, "windows"), "groups") - help_line(buf, "windows"),
                     strstr(buf, "OPTION") - buf + (strstr(strstr(buf, "OPTION"), "TYPE") -
                                                    strstr(buf, "OPTION")));
    free(buf);
}
END_TEST

START_TEST(test_durations_parse_and_refuse_junk)
{
    static const struct { const char *s; int64_t ms; } good[] = {
        { "250ms", 250 }, { "30s", 30000 }, { "5m", 300000 }, { "1h", 3600000 },
        { "2d", 172800000 }, { "1w", 604800000 }, { "1h30m", 5400000 },
        { "1m30s500ms", 90500 }, { "0", 0 }, { "45", 45000 }, { "0s", 0 },
    };
    static const char *const bad[] = {
        "", "s", "ms", "-1s", "1.5s", "10x", "1m s", " 1s", "1s ", "1S", "1sm",
        "99999999999999999999s", "9223372036854775807s", "106751991167301d", "1h1",
    };
    size_t i;
    int64_t ms;

    for (i = 0; i < sizeof good / sizeof good[0]; i++) {
        ms = -1;
        ck_assert_msg(tc_parse_duration(good[i].s, &ms) == 0, "%s", good[i].s);
        ck_assert_msg(ms == good[i].ms, "%s: %lld", good[i].s, (long long)ms);
    }
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(tc_parse_duration(bad[i], &ms) == -1, "\"%s\" accepted", bad[i]);
    ck_assert_int_eq(tc_parse_duration(NULL, &ms), -1);
}
END_TEST

START_TEST(test_sizes_parse_in_powers_of_1024)
{
    static const struct { const char *s; int64_t b; } good[] = {
        { "512", 512 }, { "512B", 512 }, { "64k", 65536 }, { "64K", 65536 },
        { "64KiB", 65536 }, { "1M", 1048576 }, { "1MB", 1048576 },
        { "2G", INT64_C(2147483648) }, { "1T", INT64_C(1099511627776) }, { "0", 0 },
    };
    static const char *const bad[] = {
        "", "k", "1.5M", "-1", "1X", "1 M", "1Mi", "99999999999T", "1kk",
        "99999999999999999999",
    };
    size_t i;
    int64_t b;

    for (i = 0; i < sizeof good / sizeof good[0]; i++) {
        b = -1;
        ck_assert_msg(tc_parse_size(good[i].s, &b) == 0, "%s", good[i].s);
        ck_assert_msg(b == good[i].b, "%s: %lld", good[i].s, (long long)b);
    }
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(tc_parse_size(bad[i], &b) == -1, "\"%s\" accepted", bad[i]);
}
END_TEST

START_TEST(test_resolve_secret_copies_plain_values_and_checks_prefixes)
{
    char err[256] = "";
    char *v = tc_resolve_secret("plain:value", err, sizeof err);

    ck_assert_str_eq(v, "plain:value");
    free(v);
    ck_assert_ptr_null(tc_resolve_secret("env:", err, sizeof err));
    ck_assert_str_eq(err, "\"env:\" needs a variable name (\"env:NAME\")");
    ck_assert_ptr_null(tc_resolve_secret("file:", err, sizeof err));
    ck_assert_str_eq(err, "\"file:\" needs a path (\"file:/etc/tocsin/key\")");
    setenv("TC_TEST_EMPTY", "", 1);
    v = tc_resolve_secret("env:TC_TEST_EMPTY", err, sizeof err);
    ck_assert_str_eq(v, "");
    free(v);
}
END_TEST

START_TEST(test_edit_distance_is_levenshtein)
{
    ck_assert_uint_eq(tc_edit_distance("kitten", "sitting"), 3);
    ck_assert_uint_eq(tc_edit_distance("", "abc"), 3);
    ck_assert_uint_eq(tc_edit_distance("abc", ""), 3);
    ck_assert_uint_eq(tc_edit_distance("routing_key", "routing_key"), 0);
    ck_assert_uint_eq(tc_edit_distance("routing_kye", "routing_key"), 2);
    ck_assert_str_eq(tc_opt_type_name(TOCSIN_OPT_STRLIST), "strlist");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("options");
    TCase *tc = tcase_create("options");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_every_type_is_filled_from_its_setting);
    tcase_add_test(tc, test_defaults_fill_unset_options);
    tcase_add_test(tc, test_missing_required_option_names_file_line_and_key);
    tcase_add_test(tc, test_unknown_key_names_file_line_and_hint);
    tcase_add_test(tc, test_unknown_key_far_from_any_has_no_hint);
    tcase_add_test(tc, test_reserved_keys_are_skipped_and_hinted);
    tcase_add_test(tc, test_wrong_types_are_all_reported_with_what_was_given);
    tcase_add_test(tc, test_bad_duration_and_size_strings_are_quoted);
    tcase_add_test(tc, test_duration_int_is_seconds_and_negative_is_refused);
    tcase_add_test(tc, test_int_accepts_64_bit_values);
    tcase_add_test(tc, test_strlist_accepts_a_single_string_and_a_list);
    tcase_add_test(tc, test_empty_strlist_and_map_are_empty);
    tcase_add_test(tc, test_strlist_item_and_map_value_must_be_strings);
    tcase_add_test(tc, test_env_secret_is_resolved_in_every_string);
    tcase_add_test(tc, test_unset_env_secret_names_the_variable);
    tcase_add_test(tc, test_file_secret_drops_trailing_newlines_only);
    tcase_add_test(tc, test_unreadable_file_secret_names_path_and_reason);
    tcase_add_test(tc, test_secret_values_never_appear_in_errors);
    tcase_add_test(tc, test_bad_default_in_table_is_reported_as_plugin_bug);
    tcase_add_test(tc, test_free_releases_and_zeroes_every_allocation);
    tcase_add_test(tc, test_get_returns_the_field_and_its_type);
    tcase_add_test(tc, test_help_shows_type_default_required_and_secret);
    tcase_add_test(tc, test_groups_fill_each_group_and_where_it_is);
    tcase_add_test(tc, test_groups_empty_or_absent_are_none);
    tcase_add_test(tc, test_groups_list_of_one_group);
    tcase_add_test(tc, test_group_errors_name_the_group_line_and_index);
    tcase_add_test(tc, test_groups_must_be_a_list_of_groups);
    tcase_add_test(tc, test_group_secret_values_never_appear_in_errors);
    tcase_add_test(tc, test_group_in_an_included_file_names_that_file);
    tcase_add_test(tc, test_groups_without_a_table_or_with_a_default_are_plugin_bugs);
    tcase_add_test(tc, test_groups_free_releases_and_zeroes_everything);
    tcase_add_test(tc, test_get_returns_the_groups);
    tcase_add_test(tc, test_help_lists_group_options_below_their_option);
    tcase_add_test(tc, test_durations_parse_and_refuse_junk);
    tcase_add_test(tc, test_sizes_parse_in_powers_of_1024);
    tcase_add_test(tc, test_resolve_secret_copies_plain_values_and_checks_prefixes);
    tcase_add_test(tc, test_edit_distance_is_levenshtein);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
