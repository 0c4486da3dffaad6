/* test_ops.c: operating tocsind: --check-config runs start-up's own checks
 * (plugins' create() included) without side effects, one daemon per
 * state_dir, and the order of start-up and shutdown as a sink sees it. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

/* The line of the first occurrence of needle in path (1-based), or 0. */
static int line_of(const char *path, const char *needle)
{
    char *text = h_read_file(path), *at, *p;
    int line = 1;

    ck_assert_ptr_nonnull(text);
    at = strstr(text, needle);
    if (!at) {
        free(text);
        return 0;
    }
    for (p = text; p < at; p++)
        if (*p == '\n')
            line++;
    free(text);
    return line;
}

static int exists(const char *dir, const char *name)
{
    char path[H_PATH_MAX + 32];

    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

static int check_config(const struct h_daemon *d, char **out)
{
    return h_run_tocsind(out, "--check-config", "-c", d->conf, (char *)NULL);
}

/* format is a plain string in the webhook's option table: only the
 * plugin's create() knows "xml" is not a format. */
START_TEST(test_check_config_runs_plugin_validation)
{
    struct h_daemon d;
    struct h_config c = { .peer_port = 9,
                          .hook_extra = "retry_base = \"100ms\";\n    format = \"xml\";" };
    char *out = NULL, *log, want[H_PATH_MAX + 64];
    int rc;

    h_init(&d);
    h_config_standard(&d, &c);
    snprintf(want, sizeof want, "%s:%d: sink \"hook\" (webhook): ", d.conf,
             line_of(d.conf, "id = \"hook\""));
    rc = check_config(&d, &out);
    ck_assert_msg(rc == 1, "--check-config passed a config the webhook refuses: exit %d:\n%s",
                  rc, out);
    ck_assert_msg(strstr(out, want) && strstr(out, "format"),
                  "the error does not read \"%s... format ...\":\n%s", want, out);
    ck_assert_msg(strstr(out, "1 error"), "no error count in:\n%s", out);
    free(out);
    /* A check writes nothing: no store, no lock, no address file. */
    ck_assert_msg(!exists(d.state_dir, "tocsin.db") && !exists(d.state_dir, "tocsind.lock") &&
                      !exists(d.state_dir, "tocsind.addr"),
                  "--check-config left files in %s", d.state_dir);

    /* Start-up refuses it the same way. */
    ck_assert_int_eq(h_try_start(&d, 10000), -1);
    log = h_read_file(d.log);
    ck_assert_msg(log && strstr(log, "sink \"hook\" (webhook)") && strstr(log, "format"),
                  "start-up's refusal does not name the instance:\n%s", log ? log : "");
    free(log);
}
END_TEST

/* Two inputs on one path: only create() registers routes, so only a
 * check that creates every instance sees the conflict. Every error is
 * reported, not only the first. */
START_TEST(test_check_config_reports_every_instance)
{
    struct h_daemon d;
    const char *plugins = getenv("TOCSIN_PLUGIN_DIR");
    char *out = NULL, want[H_PATH_MAX + 64];
    int rc;

    h_init(&d);
    h_write_config(&d,
                   "daemon = { listen = \"127.0.0.1:0\"; state_dir = \"%s\";\n"
                   "           plugin_dir = \"%s\"; };\n"
                   "inputs = (\n"
                   "  { id = \"prom\"; plugin = \"alertmanager\"; },\n"
                   "  { id = \"prom2\"; plugin = \"alertmanager\"; }\n"
                   ");\n"
                   "sinks = (\n"
                   "  { id = \"hook\"; plugin = \"webhook\"; url = \"ftp://example.com/\"; },\n"
                   "  { id = \"hook2\"; plugin = \"webhook\"; url = \"http://127.0.0.1:9/\"; }\n"
                   ");\n"
                   "routes = ( { sinks = [ \"hook\", \"hook2\" ]; } );\n",
                   d.state_dir, plugins);
    rc = check_config(&d, &out);
    ck_assert_msg(rc == 1, "exit %d, expected 1:\n%s", rc, out);
    snprintf(want, sizeof want, "%s:%d: sink \"hook\" (webhook): url", d.conf,
             line_of(d.conf, "id = \"hook\""));
    ck_assert_msg(strstr(out, want), "no \"%s\" in:\n%s", want, out);
    snprintf(want, sizeof want, "%s:%d: input \"prom2\" (alertmanager): ", d.conf,
             line_of(d.conf, "id = \"prom2\""));
    ck_assert_msg(strstr(out, want) && strstr(out, "taken by input \"prom\""),
                  "the route conflict is not reported as \"%s...taken by input \\\"prom\\\"\":\n%s",
                  want, out);
    ck_assert_msg(!strstr(out, "hook2"), "a good instance is blamed:\n%s", out);
    ck_assert_msg(strstr(out, "2 errors"), "not 2 errors:\n%s", out);
    free(out);
    ck_assert_int_eq(h_try_start(&d, 10000), -1);
}
END_TEST

START_TEST(test_check_config_refuses_an_unusable_state_dir)
{
    struct h_daemon d;
    struct h_config c = { .peer_port = 9 };
    char *out = NULL, want[H_PATH_MAX + 64];
    FILE *f;
    int rc;

    h_init(&d);
    h_config_standard(&d, &c);
    ck_assert_int_eq(rmdir(d.state_dir), 0);
    f = fopen(d.state_dir, "w"); /* a file where the directory should be */
    ck_assert_ptr_nonnull(f);
    fclose(f);
    rc = check_config(&d, &out);
    snprintf(want, sizeof want, "state_dir %s is not a directory", d.state_dir);
    ck_assert_msg(rc == 1 && strstr(out, want), "exit %d, expected 1 and \"%s\":\n%s", rc, want,
                  out);
    free(out);
    ck_assert_int_eq(h_try_start(&d, 10000), -1);
}
END_TEST

/* What passes the check starts. */
START_TEST(test_check_config_pass_means_start)
{
    struct h_daemon d;
    struct h_config c = { .peer_port = 9, .hook_extra = "format = \"alertmanager\";" };
    struct h_resp r;
    char *out = NULL;
    int rc;

    h_init(&d);
    h_config_standard(&d, &c);
    rc = check_config(&d, &out);
    ck_assert_msg(rc == 0 && strstr(out, ": OK ("), "exit %d:\n%s", rc, out);
    free(out);
    h_start(&d);
    ck_assert_int_eq(h_req(&d, "GET", "/readyz", NULL, &r), 200);
    h_resp_free(&r);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
}
END_TEST

/* A second tocsind on d1's state_dir, with a config of its own. */
static void config_on(struct h_daemon *d2, const struct h_daemon *d1)
{
    const char *plugins = getenv("TOCSIN_PLUGIN_DIR");

    h_write_config(d2,
                   "daemon = { listen = \"127.0.0.1:0\"; state_dir = \"%s\";\n"
                   "           plugin_dir = \"%s\"; };\n"
                   "inputs = ( { id = \"api\"; plugin = \"generic\"; } );\n"
                   "sinks = ( { id = \"console\"; plugin = \"console\"; path = \"%s\"; } );\n"
                   "routes = ( { sinks = [ \"console\" ]; } );\n",
                   d1->state_dir, plugins, d2->console);
    /* h_try_start() waits for the address file in the state_dir it names. */
    memcpy(d2->state_dir, d1->state_dir, sizeof d2->state_dir);
    memcpy(d2->addr_file, d1->addr_file, sizeof d2->addr_file);
}

START_TEST(test_second_daemon_on_a_state_dir_is_refused)
{
    struct h_daemon d1, d2;
    struct h_config c = { .peer_port = 9 };
    struct h_resp r;
    char *log, *out = NULL, want[H_PATH_MAX + 64], pid[64];
    int rc;

    h_init(&d1);
    h_init(&d2);
    h_config_standard(&d1, &c);
    h_start(&d1);
    config_on(&d2, &d1);

    /* h_try_start() removes, then waits for, the address file it is
     * given: not d1's, which must survive the refusal. */
    snprintf(d2.addr_file, sizeof d2.addr_file, "%s/not-d1s.addr", d2.dir);
    rc = h_try_start(&d2, 10000);
    h_assert(&d1, rc == -1 && d2.pid == 0,
             "a second tocsind %s on %s", rc == 0 ? "started" : "kept running", d1.state_dir);
    log = h_read_file(d2.log);
    snprintf(want, sizeof want, "state_dir %s is in use by another tocsind", d1.state_dir);
    snprintf(pid, sizeof pid, "pid %ld", (long)d1.pid);
    ck_assert_msg(log && strstr(log, want) && strstr(log, pid),
                  "the refusal does not read \"%s ... %s\":\n%s", want, pid, log ? log : "");
    free(log);

    /* The first is untouched: still serving, its address file in place. */
    h_assert(&d1, h_req(&d1, "GET", "/readyz", NULL, &r) == 200, "d1 is not ready any more");
    h_resp_free(&r);
    h_assert(&d1, access(d1.addr_file, F_OK) == 0, "d1's %s is gone", d1.addr_file);

    /* Checking a config does not need the lock (check, then restart). */
    rc = h_run_tocsind(&out, "--check-config", "-c", d2.conf, (char *)NULL);
    ck_assert_msg(rc == 0, "--check-config beside a running tocsind: exit %d:\n%s", rc, out);
    free(out);

    /* The lock goes with its process, even with kill -9. */
    h_kill9(&d1);
    memcpy(d2.addr_file, d1.addr_file, sizeof d2.addr_file);
    h_start(&d2);
    h_assert(&d2, h_req(&d2, "GET", "/readyz", NULL, &r) == 200, "d2 is not ready");
    h_resp_free(&r);
    h_assert(&d2, h_stop(&d2, 15000) == 0, "d2 did not stop cleanly");
}
END_TEST

/* Copies src/name into dir (0755: the loader refuses group-writable files). */
static void config_lifecycle(struct h_daemon *d, const char *plugins, const char *life_log,
                             const char *sink_extra)
{
    h_write_config(d,
                   "daemon = { listen = \"127.0.0.1:0\"; state_dir = \"%s\";\n"
                   "           plugin_dir = \"%s\"; drain_timeout = \"2s\"; };\n"
                   "inputs = ( { id = \"api\"; plugin = \"generic\"; } );\n"
                   "sinks = ( { id = \"life\"; plugin = \"lifecycle\"; path = \"%s\";\n"
                   "            retry_base = \"100ms\"; retry_max = \"100ms\"; %s } );\n"
                   "routes = ( { sinks = [ \"life\" ]; } );\n",
                   d->state_dir, plugins, life_log, sink_extra);
}

static const char *g_life_log;

/* Whether the sink was called (in time or not) since life.log was new. */
static int delivered(void *arg)
{
    char *text = h_read_file(g_life_log);
    int seen = text && strstr(text, "\ndeliver");

    free(text);
    return seen;
}

/* A notification left pending by the last run is due the moment the
 * workers start: its sink's start() must have returned by then. And no
 * deliver() after the sink's stop(). The sink's start() takes 500 ms, so
 * a worker started before it is caught delivering meanwhile. */
START_TEST(test_sinks_start_before_and_stop_after_deliveries)
{
    struct h_daemon d;
    struct h_resp r;
    char plugins[H_PATH_MAX], life_log[H_PATH_MAX + 16], *text;

    h_init(&d);
    snprintf(plugins, sizeof plugins, "%s/plugins", d.dir);
    snprintf(life_log, sizeof life_log, "%s/life.log", d.dir);
    ck_assert_int_eq(mkdir(plugins, 0755), 0);
    h_copy_plugin(getenv("TOCSIN_PLUGIN_DIR"), plugins, "input_generic.so");
    h_copy_plugin(getenv("TOCSIN_TEST_PLUGIN_DIR"), plugins, "sink_lifecycle.so");
    g_life_log = life_log;

    /* Run 1: the sink answers retry; the row stays pending. */
    config_lifecycle(&d, plugins, life_log, "retry = true;");
    h_start(&d);
    h_req(&d, "POST", "/api/v1/alerts",
          "{\"dedup_key\": \"k1\", \"status\": \"firing\", \"severity\": \"critical\","
          " \"summary\": \"pending across a restart\"}",
          &r);
    h_assert(&d, r.status == 202, "POST: HTTP %ld: %s", r.status, r.body);
    h_resp_free(&r);
    h_assert(&d, h_wait_until(delivered, NULL, 10000),
             "the sink was never called");
    h_kill9(&d);

    /* Run 2: a slow start(); the pending row is delivered after it. */
    ck_assert_int_eq(unlink(life_log), 0);
    config_lifecycle(&d, plugins, life_log, "start_delay = \"500ms\";");
    h_start(&d);
    h_assert(&d, h_wait_until(delivered, NULL, 10000),
             "the pending notification was not delivered after the restart");
    h_assert(&d, h_stop(&d, 15000) == 0, "tocsind did not stop cleanly");
    text = h_read_file(life_log);
    ck_assert_ptr_nonnull(text);
    ck_assert_msg(!strstr(text, "deliver-outside-start-stop"),
                  "deliver() ran before the sink's start() returned or after its stop():\n%s",
                  text);
    ck_assert_msg(strstr(text, "start-begin\nstart-end\n") == text && strstr(text, "stop\n"),
                  "lifecycle out of order:\n%s", text);
    free(text);
}
END_TEST

/* A plugin's list of groups (TOCSIN_OPT_GROUPS) in the real tocsind:
 * --plugin-help lists a group's options below its option, --check-config
 * names a bad group by file:line and index, and passes good ones. */
START_TEST(test_plugin_groups_in_help_and_check_config)
{
    struct h_daemon d;
    char plugins[H_PATH_MAX], want[H_PATH_MAX + 128], *out = NULL, *w, *s;
    int rc;

    h_init(&d);
    snprintf(plugins, sizeof plugins, "%s/plugins", d.dir);
    ck_assert_int_eq(mkdir(plugins, 0755), 0);
    h_copy_plugin(getenv("TOCSIN_TEST_PLUGIN_DIR"), plugins, "policy_groups.so");

    rc = h_run_tocsind(&out, "--plugin-help", "groups", "--plugin-dir", plugins, (char *)NULL);
    ck_assert_msg(rc == 0, "--plugin-help groups: exit %d:\n%s", rc, out);
    w = strstr(out, "\n  windows ");
    s = strstr(out, "\n    starts_at ");
    ck_assert_msg(w && s && w < s && strstr(w, " groups ") && strstr(s, " (required) "),
                  "the window's options are not listed below \"windows\":\n%s", out);
    free(out);

    h_write_config(&d,
                   "daemon = { listen = \"127.0.0.1:0\"; state_dir = \"%s\";\n"
                   "           plugin_dir = \"%s\"; };\n"
                   "policies = (\n"
                   "  { id = \"maint\"; plugin = \"groups\";\n"
                   "    windows = (\n"
                   "      { starts_at = \"2024-03-31T02:00:00Z\"; },\n"
                   "      { name = \"no start\"; }\n"
                   "    ); }\n"
                   ");\n",
                   d.state_dir, plugins);
    rc = check_config(&d, &out);
    ck_assert_msg(rc == 1, "--check-config passed a group without starts_at: exit %d:\n%s", rc,
                  out);
    snprintf(want, sizeof want, "%s:%d: policy \"maint\" (groups): windows[1]: missing required "
             "option \"starts_at\"", d.conf, line_of(d.conf, "{ name = \"no start\""));
    ck_assert_msg(strstr(out, want), "no \"%s\" in:\n%s", want, out);
    free(out);

    h_write_config(&d,
                   "daemon = { listen = \"127.0.0.1:0\"; state_dir = \"%s\";\n"
                   "           plugin_dir = \"%s\"; };\n"
                   "policies = (\n"
                   "  { id = \"maint\"; plugin = \"groups\";\n"
                   "    windows = ( { starts_at = \"2024-03-31T02:00:00Z\"; duration = \"2h\"; },\n"
                   "                { starts_at = \"2024-10-27T01:00:00Z\"; } ); }\n"
                   ");\n",
                   d.state_dir, plugins);
    rc = check_config(&d, &out);
    ck_assert_msg(rc == 0, "--check-config refused good groups: exit %d:\n%s", rc, out);
    free(out);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("integration: ops");
    TCase *tc = h_tcase("ops", 90);

    tcase_add_test(tc, test_check_config_runs_plugin_validation);
    tcase_add_test(tc, test_check_config_reports_every_instance);
    tcase_add_test(tc, test_check_config_refuses_an_unusable_state_dir);
    tcase_add_test(tc, test_check_config_pass_means_start);
    tcase_add_test(tc, test_second_daemon_on_a_state_dir_is_refused);
    tcase_add_test(tc, test_sinks_start_before_and_stop_after_deliveries);
    tcase_add_test(tc, test_plugin_groups_in_help_and_check_config);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(suite());
}
