/* test_ops.c: operating tocsind: one daemon per state_dir. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

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

static Suite *suite(void)
{
    Suite *s = suite_create("integration: ops");
    TCase *tc = h_tcase("ops", 90);

    tcase_add_test(tc, test_second_daemon_on_a_state_dir_is_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(suite());
}
