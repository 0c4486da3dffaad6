/* test_remember.c: what a sink remembers of an incident (ABI 1.1
 * host->remember, notification ref) reaches the incident's later
 * deliveries to that sink: in memory while the outcome is not yet
 * committed, from the store after a kill -9, never from a delivery that
 * did not succeed; and only that sink sees it. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"

/* Sink rem posts to peer_port, sink other to other_port. */
static void config_remember(struct h_daemon *d, const char *plugins, int peer_port,
                            int other_port, const char *extra)
{
    h_write_config(d,
                   "daemon = { listen = \"127.0.0.1:0\"; state_dir = \"%s\";\n"
                   "  plugin_dir = \"%s\"; log_level = \"debug\"; };\n"
                   "inputs = ( { id = \"api\"; plugin = \"generic\"; } );\n"
                   "sinks = (\n"
                   "  { id = \"rem\"; plugin = \"remember\"; url = \"http://127.0.0.1:%d/rem\";\n"
                   "    retry_base = \"100ms\"; retry_max = \"200ms\"; %s },\n"
                   "  { id = \"other\"; plugin = \"remember\"; url = \"http://127.0.0.1:%d/other\";\n"
                   "    retry_base = \"100ms\"; retry_max = \"200ms\"; }\n"
                   ");\n"
                   "routes = ( { sinks = [ \"rem\", \"other\" ]; } );\n",
                   d->state_dir, plugins, peer_port, extra ? extra : "", other_port);
}

static void plugins_dir(struct h_daemon *d, char *plugins, size_t len)
{
    snprintf(plugins, len, "%s/plugins", d->dir);
    ck_assert_int_eq(mkdir(plugins, 0755), 0);
    h_copy_plugin(getenv("TOCSIN_PLUGIN_DIR"), plugins, "input_generic.so");
    h_copy_plugin(getenv("TOCSIN_TEST_PLUGIN_DIR"), plugins, "sink_remember.so");
}

static void post_alert(struct h_daemon *d, const char *key, const char *status)
{
    char body[256];
    struct h_resp r;

    snprintf(body, sizeof body,
             "{\"dedup_key\": \"%s\", \"status\": \"%s\", \"severity\": \"critical\","
             " \"summary\": \"remember me\"}", key, status);
    h_req(d, "POST", "/api/v1/alerts", body, &r);
    h_assert(d, r.status == 202, "POST: HTTP %ld: %s", r.status, r.body);
    h_resp_free(&r);
}

/* The i-th request the peer got on path, or NULL. */
static const struct peer_req *nth_on(struct peer *p, const char *path, size_t nth)
{
    size_t i, seen = 0;

    for (i = 0; i < peer_count(p); i++) {
        const struct peer_req *q = peer_get(p, i);

        if (strcmp(q->path, path) == 0 && seen++ == nth)
            return q;
    }
    return NULL;
}

static size_t count_on(struct peer *p, const char *path)
{
    size_t n = 0;

    while (nth_on(p, path, n))
        n++;
    return n;
}

struct wait_path {
    struct peer *p;
    const char *path;
    size_t n;
};

static int has_on(void *arg)
{
    struct wait_path *w = arg;

    return count_on(w->p, w->path) >= w->n;
}

static const struct peer_req *wait_on(struct h_daemon *d, struct peer *p, const char *path,
                                      size_t nth)
{
    struct wait_path w = { p, path, nth + 1 };

    h_assert(d, h_wait_until(has_on, &w, 15000), "request %zu on %s never came", nth + 1,
             path);
    return nth_on(p, path, nth);
}

static void wait_done(struct h_daemon *d, int64_t id, const char *sink, const char *action,
                      int timeout_ms)
{
    json_t *n = h_wait_notification(d, id, sink, action, "done", timeout_ms);

    h_assert(d, n != NULL, "the %s of incident %lld to %s was not delivered", action,
             (long long)id, sink);
    json_decref(n);
}

static const char *field(const struct peer_req *q, const char *key)
{
    const char *v = json_string_value(json_object_get(q->json, key));

    return v ? v : "(none)";
}

/* Acknowledge and resolve see what the trigger remembered; a retried
 * trigger's failed attempt remembers nothing; a second sink sees only
 * its own; forgetting with NULL works. */
START_TEST(test_later_deliveries_see_the_triggers_ref)
{
    struct h_daemon d;
    struct peer *p = h_peer_started(), *o = h_peer_started();
    char plugins[H_PATH_MAX], want[64], path[96];
    const struct peer_req *q;
    struct h_resp r;
    int64_t id;

    h_init(&d);
    plugins_dir(&d, plugins, sizeof plugins);
    config_remember(&d, plugins, peer_port(p), peer_port(o), NULL);
    /* The first trigger attempt to /rem fails (it remembers ref-ID-1 all
     * the same: not kept), the second succeeds (ref-ID-2). */
    peer_script(p, "500");
    h_start(&d);
    post_alert(&d, "k1", "firing");
    id = h_incident_by_key(&d, "k1");
    h_assert(&d, id > 0, "no incident");
    snprintf(want, sizeof want, "ref-%lld-2", (long long)id);
    wait_done(&d, id, "rem", "trigger", 15000);
    snprintf(path, sizeof path, "/api/v1/incidents/%lld/ack", (long long)id);
    ck_assert_int_eq(h_req(&d, "POST", path, "{\"by\": \"alice\"}", &r), 200);
    h_resp_free(&r);
    q = wait_on(&d, p, "/rem", 2);
    ck_assert_str_eq(field(q, "action"), "acknowledge");
    ck_assert_str_eq(field(q, "ref"), want);
    post_alert(&d, "k1", "resolved");
    q = wait_on(&d, p, "/rem", 3);
    ck_assert_str_eq(field(q, "action"), "resolve");
    ck_assert_str_eq(field(q, "ref"), want);
    /* The first attempt saw no ref; the other sink kept its own. */
    ck_assert_str_eq(field(nth_on(p, "/rem", 0), "ref"), "(none)");
    q = wait_on(&d, o, "/other", 2);
    snprintf(want, sizeof want, "ref-%lld-1", (long long)id);
    ck_assert_str_eq(field(q, "ref"), want);
    ck_assert(!json_is_true(json_object_get(q->json, "test")));
    h_assert_no_violations(&d, p);
    h_assert_no_violations(&d, o);
    h_stop(&d, 5000);

    /* forget = true: the acknowledge forgets, the resolve sees nothing. */
    h_init(&d);
    plugins_dir(&d, plugins, sizeof plugins);
    config_remember(&d, plugins, peer_port(p), peer_port(o), "forget = true;");
    h_start(&d);
    post_alert(&d, "k2", "firing");
    id = h_incident_by_key(&d, "k2");
    wait_done(&d, id, "rem", "trigger", 15000);
    snprintf(path, sizeof path, "/api/v1/incidents/%lld/ack", (long long)id);
    ck_assert_int_eq(h_req(&d, "POST", path, NULL, &r), 200);
    h_resp_free(&r);
    wait_done(&d, id, "rem", "acknowledge", 15000);
    post_alert(&d, "k2", "resolved");
    wait_done(&d, id, "rem", "resolve", 15000);
    q = nth_on(p, "/rem", count_on(p, "/rem") - 1);
    ck_assert_str_eq(field(q, "action"), "resolve");
    ck_assert_str_eq(field(q, "ref"), "(none)");
    h_stop(&d, 5000);
    peer_free(p);
    peer_free(o);
    h_passed();
}
END_TEST

/* The resolve waits in line behind a trigger that is being retried; the
 * moment the trigger succeeds, the resolve goes, before the writer may
 * have committed the trigger's outcome: it still sees the ref. */
START_TEST(test_a_resolve_queued_behind_its_trigger_sees_the_ref)
{
    struct h_daemon d;
    struct peer *p = h_peer_started(), *o = h_peer_started();
    char plugins[H_PATH_MAX];
    const struct peer_req *q;
    int64_t id;

    h_init(&d);
    plugins_dir(&d, plugins, sizeof plugins);
    config_remember(&d, plugins, peer_port(p), peer_port(o), NULL);
    peer_script(p, "500 delay=300,500 delay=300,500 delay=300");
    h_start(&d);
    post_alert(&d, "k3", "firing");
    post_alert(&d, "k3", "resolved");
    id = h_incident_by_key(&d, "k3");
    q = wait_on(&d, p, "/rem", 3); /* what ran through the script first */
    (void)q;
    wait_done(&d, id, "rem", "resolve", 20000);
    q = nth_on(p, "/rem", count_on(p, "/rem") - 1);
    ck_assert_str_eq(field(q, "action"), "resolve");
    q = nth_on(p, "/rem", count_on(p, "/rem") - 2);
    ck_assert_str_eq(field(q, "action"), "trigger");
    {
        char got[64];

        /* The ref of the attempt that succeeded, the last trigger request. */
        snprintf(got, sizeof got, "ref-%lld-%lld", (long long)id,
                 (long long)json_integer_value(json_object_get(q->json, "attempt")));
        ck_assert_str_eq(field(nth_on(p, "/rem", count_on(p, "/rem") - 1), "ref"), got);
    }
    h_assert_no_violations(&d, p);
    h_assert_no_violations(&d, o);
    h_stop(&d, 5000);
    peer_free(p);
    peer_free(o);
    h_passed();
}
END_TEST

/* kill -9 once the trigger's outcome is committed: after the restart the
 * resolve finds the ref in the store. */
START_TEST(test_the_ref_survives_kill_9)
{
    struct h_daemon d;
    struct peer *p = h_peer_started(), *o = h_peer_started();
    char plugins[H_PATH_MAX], want[64];
    const struct peer_req *q;
    int64_t id;

    h_init(&d);
    plugins_dir(&d, plugins, sizeof plugins);
    config_remember(&d, plugins, peer_port(p), peer_port(o), NULL);
    h_start(&d);
    post_alert(&d, "k4", "firing");
    id = h_incident_by_key(&d, "k4");
    wait_done(&d, id, "rem", "trigger", 15000);
    wait_done(&d, id, "other", "trigger", 15000);
    h_kill9(&d);
    h_start(&d);
    post_alert(&d, "k4", "resolved");
    wait_done(&d, id, "rem", "resolve", 15000);
    q = nth_on(p, "/rem", count_on(p, "/rem") - 1);
    snprintf(want, sizeof want, "ref-%lld-1", (long long)id);
    ck_assert_str_eq(field(q, "action"), "resolve");
    ck_assert_str_eq(field(q, "ref"), want);
    h_assert_no_violations(&d, p);
    h_assert_no_violations(&d, o);
    h_stop(&d, 5000);
    peer_free(p);
    peer_free(o);
    h_passed();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("remember");
    TCase *tc = tcase_create("remember");

    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, test_later_deliveries_see_the_triggers_ref);
    tcase_add_test(tc, test_a_resolve_queued_behind_its_trigger_sees_the_ref);
    tcase_add_test(tc, test_the_ref_survives_kill_9);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
