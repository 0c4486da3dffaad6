/* test_durability.c: nothing accepted is lost: alerts taken while the
 * webhook peer is down survive kill -9 and are delivered after a restart;
 * SIGTERM stops cleanly and keeps pending deliveries. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define N_ALERTS 100

/* A peer that has a port but does not listen (connections are refused). */
static struct peer *peer_down(void)
{
    struct peer *p = h_peer_started();

    peer_stop(p);
    return p;
}

static void config(struct h_daemon *d, struct peer *p, const char *drain)
{
    struct h_config c = { 0 };

    c.peer_port = peer_port(p);
    c.no_console = 1;
    c.drain_timeout = drain;
    /* Never give up while the peer is down; come back quickly once it is up. */
    c.hook_extra = "retry_base = \"100ms\"; retry_max = \"500ms\"; max_attempts = 100000;"
                   " timeout = \"2s\";";
    h_init(d);
    h_config_standard(d, &c);
}

static void post_alert(struct h_daemon *d, const char *key)
{
    char body[256];
    struct h_resp r;

    snprintf(body, sizeof body,
             "[{\"labels\": {\"alertname\": \"%s\", \"severity\": \"critical\"},"
             "  \"annotations\": {\"summary\": \"%s is down\"}}]",
             key, key);
    h_req(d, "POST", "/api/v2/alerts", body, &r);
    h_assert(d, r.status == 200, "POST %s: HTTP %ld: %s", key, r.status, r.body);
    h_resp_free(&r);
}

/* How many distinct alertnames among the trigger payloads the peer got. */
static size_t distinct_delivered(struct peer *p, const char *prefix, int n, size_t *total)
{
    char *seen = calloc((size_t)n, 1);
    size_t i, distinct = 0, count = peer_count(p);

    *total = 0;
    for (i = 0; i < count; i++) {
        const struct peer_req *r = peer_get(p, i);
        const char *act = json_string_value(json_object_get(r->json, "action"));
        const char *name = h_jsub(json_object_get(r->json, "alert"), "labels", "alertname");
        int k;

        if (!act || strcmp(act, "trigger") != 0 || !name ||
            strncmp(name, prefix, strlen(prefix)) != 0 || r->status != 200)
            continue;
        (*total)++;
        k = atoi(name + strlen(prefix));
        if (k >= 0 && k < n && !seen[k]) {
            seen[k] = 1;
            distinct++;
        }
    }
    free(seen);
    return distinct;
}

START_TEST(test_100_alerts_survive_kill9_and_are_delivered)
{
    struct peer *p = peer_down();
    struct h_daemon d;
    char key[64];
    size_t distinct = 0, total = 0;
    int64_t end;
    json_t *arr;
    int i;

    config(&d, p, "5s");
    h_start(&d);
    for (i = 0; i < N_ALERTS; i++) {
        snprintf(key, sizeof key, "Durable%03d", i);
        post_alert(&d, key);
    }
    arr = h_incidents(&d, NULL);
    h_assert(&d, json_array_size(arr) == N_ALERTS, "%zu incidents before the crash",
             json_array_size(arr));
    json_decref(arr);
    h_sleep_ms(300); /* let the dispatcher fail a few attempts */
    h_kill9(&d);
    ck_assert_int_eq(peer_count(p), 0);

    ck_assert_int_eq(peer_start(p), 0);
    h_start(&d);
    end = h_now_ms() + 45000;
    while (h_now_ms() < end) {
        distinct = distinct_delivered(p, "Durable", N_ALERTS, &total);
        if (distinct == N_ALERTS)
            break;
        h_sleep_ms(100);
    }
    fprintf(stderr, "durability: %zu distinct of %d delivered, %zu trigger requests\n", distinct,
            N_ALERTS, total);
    h_assert(&d, distinct == N_ALERTS, "only %zu of %d alerts delivered after kill -9",
             distinct, N_ALERTS);

    /* Every incident's trigger is recorded as done. */
    end = h_now_ms() + 15000;
    for (;;) {
        size_t done = 0, k;
        json_t *inc;

        arr = h_incidents(&d, NULL);
        json_array_foreach(arr, k, inc) {
            json_t *n = h_wait_notification(&d, json_integer_value(json_object_get(inc, "id")),
                                            "hook", "trigger", "done", 0);
            if (n)
                done++;
            json_decref(n);
        }
        ck_assert_int_eq(json_array_size(arr), N_ALERTS);
        json_decref(arr);
        if (done == N_ALERTS)
            break;
        h_assert(&d, h_now_ms() < end, "%zu of %d notifications done", done, N_ALERTS);
        h_sleep_ms(200);
    }
    h_assert_no_violations(&d, p);
    h_assert(&d, h_stop(&d, 15000) == 0, "SIGTERM: exit status not 0");
    h_assert(&d, access(d.addr_file, F_OK) != 0, "tocsind.addr left behind after SIGTERM");
    peer_free(p);
}
END_TEST

START_TEST(test_sigterm_exits_0_and_keeps_pending)
{
    struct peer *p = peer_down();
    struct h_daemon d;
    char key[64];
    size_t distinct = 0, total = 0;
    int64_t t0, end;
    int i, rc;

    config(&d, p, "1s");
    h_start(&d);
    for (i = 0; i < 5; i++) {
        snprintf(key, sizeof key, "Pending%d", i);
        post_alert(&d, key);
    }
    h_sleep_ms(200);
    t0 = h_now_ms();
    rc = h_stop(&d, 15000);
    h_assert(&d, rc == 0, "SIGTERM with pending deliveries: exit %d, expected 0", rc);
    h_assert(&d, h_now_ms() - t0 < 6000, "stopping took %lld ms with drain_timeout 1s",
             (long long)(h_now_ms() - t0));
    ck_assert_msg(access(d.addr_file, F_OK) != 0, "tocsind.addr left behind after SIGTERM");

    ck_assert_int_eq(peer_start(p), 0);
    h_start(&d);
    end = h_now_ms() + 20000;
    while (h_now_ms() < end && (distinct = distinct_delivered(p, "Pending", 5, &total)) < 5)
        h_sleep_ms(50);
    h_assert(&d, distinct == 5, "only %zu of 5 pending deliveries made after the restart",
             distinct);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    peer_free(p);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("integration: durability");
    TCase *tc = h_tcase("durability", 120);

    tcase_add_test(tc, test_100_alerts_survive_kill9_and_are_delivered);
    tcase_add_test(tc, test_sigterm_exits_0_and_keeps_pending);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(suite());
}
