/* test_testsink.c: `tocsind -c FILE --test-sink ID` against the strict
 * webhook peer: a marked trigger then its resolve, what the provider
 * answered, and the exit status; the ref a sink remembers at the trigger
 * reaches the resolve; nothing is stored. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

static int test_sink(struct h_daemon *d, const char *id, char **out)
{
    return h_run_tocsind(out, "-c", d->conf, "--test-sink", id, (char *)NULL);
}

START_TEST(test_a_working_sink_gets_a_marked_trigger_and_resolve)
{
    struct h_daemon d;
    struct peer *p = h_peer_started();
    struct h_config c = { .peer_port = peer_port(p), .no_console = 1 };
    const struct peer_req *q;
    char *out = NULL, path[H_PATH_MAX + 16];
    int rc;

    h_init(&d);
    h_config_standard(&d, &c);
    peer_answer_body(p, "{\"accepted\":\"yes\"}");
    rc = test_sink(&d, "hook", &out);
    ck_assert_msg(rc == 0, "exit %d:\n%s", rc, out);
    ck_assert_msg(strstr(out, "trigger  delivered") && strstr(out, "resolve  delivered") &&
                      strstr(out, "provider: HTTP 200: {\"accepted\":\"yes\"}") &&
                      strstr(out, "OK: both delivered"),
                  "%s", out);
    free(out);
    ck_assert_uint_eq(peer_count(p), 2);
    q = peer_get(p, 0);
    ck_assert_str_eq(json_string_value(json_object_get(q->json, "action")), "trigger");
    ck_assert(json_is_true(json_object_get(q->json, "test")));
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(
                                     json_object_get(q->json, "alert"), "summary")),
                                 "test notification"));
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(json_object_get(q->json, "alert"), "labels"),
                         "tocsin_test")),
                     "true");
    q = peer_get(p, 1);
    ck_assert_str_eq(json_string_value(json_object_get(q->json, "action")), "resolve");
    ck_assert(json_is_true(json_object_get(q->json, "test")));
    h_assert_no_violations(&d, p);
    /* Nothing was stored: no daemon ran, no store was made. */
    snprintf(path, sizeof path, "%s/tocsin.db", d.state_dir);
    ck_assert_int_ne(access(path, F_OK), 0);
    peer_free(p);
    h_passed();
}
END_TEST

START_TEST(test_a_refusing_or_unknown_sink_fails)
{
    struct h_daemon d;
    struct peer *p = h_peer_started();
    struct h_config c = { .peer_port = peer_port(p), .no_console = 1 };
    char *out = NULL;
    int rc;

    h_init(&d);
    h_config_standard(&d, &c);
    peer_default(p, 400);
    peer_answer_body(p, "{\"error\":\"unknown routing key\"}");
    rc = test_sink(&d, "hook", &out);
    ck_assert_msg(rc == 1, "exit %d:\n%s", rc, out);
    ck_assert_msg(strstr(out, "trigger  failed: HTTP 400") &&
                      strstr(out, "provider: HTTP 400: {\"error\":\"unknown routing key\"}") &&
                      strstr(out, "FAILED"),
                  "%s", out);
    free(out);
    /* A peer that is down: not delivered, would be retried. */
    peer_stop(p);
    rc = test_sink(&d, "hook", &out);
    ck_assert_msg(rc == 1 && strstr(out, "not delivered (would be retried)") &&
                      strstr(out, "provider: no answer"),
                  "exit %d:\n%s", rc, out);
    free(out);
    rc = test_sink(&d, "nosuch", &out);
    ck_assert_msg(rc == 2 && strstr(out, "no sink \"nosuch\"") && strstr(out, " hook"),
                  "exit %d:\n%s", rc, out);
    free(out);
    peer_free(p);
    h_passed();
}
END_TEST

/* What the sink remembers at the test trigger reaches the test resolve,
 * as in a real incident (Slack updates its message). */
START_TEST(test_the_resolve_sees_what_the_trigger_remembered)
{
    struct h_daemon d;
    struct peer *p = h_peer_started();
    char plugins[H_PATH_MAX], *out = NULL;
    const struct peer_req *q;
    int rc;

    h_init(&d);
    snprintf(plugins, sizeof plugins, "%s/plugins", d.dir);
    ck_assert_int_eq(mkdir(plugins, 0755), 0);
    h_copy_plugin(getenv("TOCSIN_TEST_PLUGIN_DIR"), plugins, "sink_remember.so");
    h_write_config(&d,
                   "daemon = { state_dir = \"%s\"; plugin_dir = \"%s\"; };\n"
                   "sinks = ( { id = \"rem\"; plugin = \"remember\";"
                   " url = \"http://127.0.0.1:%d/rem\"; } );\n",
                   d.state_dir, plugins, peer_port(p));
    rc = test_sink(&d, "rem", &out);
    ck_assert_msg(rc == 0, "exit %d:\n%s", rc, out);
    free(out);
    ck_assert_uint_eq(peer_count(p), 2);
    q = peer_get(p, 1);
    ck_assert_str_eq(json_string_value(json_object_get(q->json, "action")), "resolve");
    ck_assert_str_eq(json_string_value(json_object_get(q->json, "ref")), "ref-0-1");
    ck_assert(json_is_true(json_object_get(q->json, "test")));
    peer_free(p);
    h_passed();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("testsink");
    TCase *tc = tcase_create("testsink");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_a_working_sink_gets_a_marked_trigger_and_resolve);
    tcase_add_test(tc, test_a_refusing_or_unknown_sink_fails);
    tcase_add_test(tc, test_the_resolve_sees_what_the_trigger_remembered);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
