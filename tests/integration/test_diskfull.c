/* test_diskfull.c: the store cannot commit (a full disk, simulated by
 * tests/peers/enospc.c preloaded into the real tocsind): intake is not
 * answered 2xx, /readyz says so, and both recover when the disk has room
 * again; nothing answered 2xx is lost. */
#define _GNU_SOURCE
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static long post(struct h_daemon *d, const char *key)
{
    char body[256];
    struct h_resp r;
    long status;

    snprintf(body, sizeof body, "{\"dedup_key\":\"%s\",\"summary\":\"%s\"}", key, key);
    h_req(d, "POST", "/api/v1/alerts", body, &r);
    status = r.status;
    h_resp_free(&r);
    return status;
}

static long readyz(struct h_daemon *d)
{
    struct h_resp r;
    long status;

    h_req(d, "GET", "/readyz", NULL, &r);
    status = r.status;
    h_resp_free(&r);
    return status;
}

static struct h_daemon *g_d;

static int ready_again(void *arg)
{
    (void)arg;
    return readyz(g_d) == 200;
}

START_TEST(test_a_full_disk_makes_tocsind_unready_and_it_recovers)
{
    struct peer *p = h_peer_started();
    struct h_config c = { 0 };
    struct h_daemon d;
    char flag[H_PATH_MAX + 16], preload[H_PATH_MAX];
    const char *asan = getenv("ASAN_OPTIONS");
    char *asan_opts = NULL;
    long status;
    int fd;

    if (h_under_tsan()) {
        fprintf(stderr, "%s: no preloaded shim under TSan\n", __func__);
        peer_free(p);
        return;
    }
    c.peer_port = peer_port(p);
    h_init(&d);
    h_config_standard(&d, &c);
    snprintf(flag, sizeof flag, "%s/disk-full", d.dir);
    snprintf(preload, sizeof preload, "%s/libenospc.so", getenv("TOCSIN_TEST_SHIM_DIR"));
    ck_assert_msg(access(preload, R_OK) == 0, "no %s", preload);
    /* The daemon inherits these; ASan wants to come first otherwise. */
    setenv("LD_PRELOAD", preload, 1);
    setenv("TOCSIN_TEST_ENOSPC", flag, 1);
    ck_assert_int_ge(asprintf(&asan_opts, "%s%sverify_asan_link_order=0", asan ? asan : "",
                              asan && *asan ? ":" : ""), 0);
    setenv("ASAN_OPTIONS", asan_opts, 1);
    h_start(&d);
    unsetenv("LD_PRELOAD");
    g_d = &d;

    ck_assert_int_eq(post(&d, "before"), 202);
    ck_assert_int_eq(readyz(&d), 200);

    fd = open(flag, O_WRONLY | O_CREAT, 0600); /* the disk is full */
    ck_assert_int_ge(fd, 0);
    close(fd);
    status = post(&d, "during");
    h_assert(&d, status / 100 == 5, "an alert was answered %ld with the disk full", status);
    h_assert(&d, readyz(&d) == 503, "/readyz still 200 while nothing can be stored");
    h_assert(&d, h_count_lines(d.log, "cannot commit") >= 1, "the failure is not logged");

    unlink(flag); /* room again: the probe write brings readiness back */
    h_assert(&d, h_wait_until(ready_again, NULL, 6000), "/readyz did not recover");
    ck_assert_int_eq(post(&d, "after"), 202);

    /* What was answered 2xx is there and was notified; what was refused
     * is not (its sender retries). */
    h_assert(&d, h_incident_by_key(&d, "before") > 0, "lost an alert answered 2xx");
    h_assert(&d, h_incident_by_key(&d, "after") > 0, "lost an alert answered 2xx");
    ck_assert_int_lt(h_incident_by_key(&d, "during"), 0);
    h_assert(&d, peer_wait_requests(p, 2, 10000) >= 2, "the stored alerts were not delivered");
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    peer_free(p);
    free(asan_opts);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("diskfull");
    TCase *tc = h_tcase("diskfull", 60);

    tcase_add_test(tc, test_a_full_disk_makes_tocsind_unready_and_it_recovers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(suite());
}
