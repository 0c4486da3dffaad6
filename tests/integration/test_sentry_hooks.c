/* test_sentry_hooks.c: the sentry input in the real tocsind: signed
 * integration platform deliveries open and resolve incidents, a wrong
 * signature or a stale timestamp (on the injectable clock) is 401 and
 * stores nothing, the legacy route takes its token, and the secrets reach
 * neither the log nor /metrics. Signatures are made here with libcrypto. */
#define _GNU_SOURCE
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

#define SECRET "it-sentry-client-secret-5f1e2d3c"
#define LEGACY "it-sentry-legacy-token-9a8b7c6d5e"

static char *fixture(const char *name, size_t *len)
{
    char path[1024];
    char *s;

    snprintf(path, sizeof path, "%s/tests/fixtures/sentry/%s", getenv("TOCSIN_SRCDIR"), name);
    s = h_read_file(path);
    ck_assert_msg(s != NULL, "cannot read %s", path);
    *len = strlen(s);
    return s;
}

static void start(struct h_daemon *d, int clock)
{
    h_init(d);
    setenv("IT_SENTRY_SECRET", SECRET, 1);
    setenv("IT_SENTRY_LEGACY", LEGACY, 1);
    if (clock)
        h_clock_enable(d);
    h_write_config(d,
                   "daemon = { listen = \"127.0.0.1:0\"; state_dir = \"%s\";"
                   " plugin_dir = \"%s\"; log_level = \"debug\"; };\n"
                   "inputs = ( { id = \"sentry\"; plugin = \"sentry\";"
                   " client_secret = \"env:IT_SENTRY_SECRET\";"
                   " legacy_path = \"/hooks/sentry/legacy\";"
                   " legacy_token = \"env:IT_SENTRY_LEGACY\";"
                   " severity = { warning = \"low\"; }; } );\n"
                   "sinks = ( { id = \"console\"; plugin = \"console\"; path = \"%s\"; } );\n"
                   "routes = ( { sinks = [ \"console\" ]; } );\n",
                   d->state_dir, getenv("TOCSIN_PLUGIN_DIR"), d->console);
    h_start(d);
}

/* POST body to the signed route as resource, signed with secret, stamped
 * ts seconds (Unix). Returns the status. */
static int deliveries;

/* With Request-ID rid (NULL: a new one per call, as Sentry gives each
 * delivery). */
static long send_signed_id(struct h_daemon *d, const char *resource, const char *body,
                           size_t len, const char *secret, long long ts, const char *rid)
{
    unsigned char mac[32];
    unsigned int n = 0, i;
    char sig[65], h_sig[100], h_res[80], h_ts[64], url[128], h_id[80];
    const char *headers[] = { h_sig, h_res, h_ts, h_id, NULL };
    struct h_resp resp;
    long status;

    ck_assert_ptr_nonnull(HMAC(EVP_sha256(), secret, (int)strlen(secret),
                               (const unsigned char *)body, len, mac, &n));
    for (i = 0; i < n; i++)
        sprintf(sig + 2 * i, "%02x", mac[i]);
    snprintf(h_sig, sizeof h_sig, "Sentry-Hook-Signature: %s", sig);
    snprintf(h_res, sizeof h_res, "Sentry-Hook-Resource: %s", resource);
    snprintf(h_ts, sizeof h_ts, "Sentry-Hook-Timestamp: %lld", ts);
    if (rid)
        snprintf(h_id, sizeof h_id, "Request-ID: %s", rid);
    else
        snprintf(h_id, sizeof h_id, "Request-ID: 4e0a5b8c9d7f41e2a3b4c5d6e7f8%04x", ++deliveries);
    snprintf(url, sizeof url, "%s/hooks/sentry", d->base);
    ck_assert_int_eq(h_http_ex("POST", url, body, len, 5000, headers, &resp), 0);
    status = resp.status;
    h_resp_free(&resp);
    return status;
}

static long send_signed(struct h_daemon *d, const char *resource, const char *body, size_t len,
                        const char *secret, long long ts)
{
    return send_signed_id(d, resource, body, len, secret, ts, NULL);
}

static const char *state_of(struct h_daemon *d, const char *key, char *buf, size_t len)
{
    int64_t id = h_incident_by_key(d, key);
    json_t *inc;

    if (id < 0)
        return "none";
    inc = h_incident(d, id);
    snprintf(buf, len, "%s", h_jstr(inc, "state"));
    json_decref(inc);
    return buf;
}

START_TEST(test_signed_deliveries_open_and_resolve)
{
    struct h_daemon d;
    size_t len;
    char *crit = fixture("metric_alert_critical.json", &len), *body, st[32], *log, *metrics;
    long long now = (long long)time(NULL);
    struct h_resp resp;
    json_t *inc;

    start(&d, 0);
    ck_assert_int_eq(send_signed(&d, "metric_alert", crit, len, "not the secret", now), 401);
    ck_assert_str_eq(state_of(&d, "sentry:metric_alert:7021", st, sizeof st), "none");
    ck_assert_int_eq(send_signed_id(&d, "metric_alert", crit, len, SECRET, now,
                                    "5e0a5b8c9d7f41e2a3b4c5d6e7f80001"), 200);
    ck_assert_str_eq(state_of(&d, "sentry:metric_alert:7021", st, sizeof st), "triggered");
    inc = h_incident(&d, h_incident_by_key(&d, "sentry:metric_alert:7021"));
    ck_assert_str_eq(h_jstr(inc, "severity"), "critical");
    ck_assert_str_eq(h_jstr(inc, "summary"), "Critical: API p95 latency");
    ck_assert_str_eq(h_jstr(inc, "source"), "sentry");
    ck_assert_int_eq(h_jint(inc, "occurrences"), 1);
    json_decref(inc);
    /* Sentry retries a delivery whose answer it lost: stored once. A new
     * delivery of the same alert counts as a repeat. */
    ck_assert_int_eq(send_signed_id(&d, "metric_alert", crit, len, SECRET, now,
                                    "5e0a5b8c9d7f41e2a3b4c5d6e7f80001"), 200);
    inc = h_incident(&d, h_incident_by_key(&d, "sentry:metric_alert:7021"));
    ck_assert_int_eq(h_jint(inc, "occurrences"), 1);
    json_decref(inc);
    ck_assert_int_eq(send_signed(&d, "metric_alert", crit, len, SECRET, now), 200);
    inc = h_incident(&d, h_incident_by_key(&d, "sentry:metric_alert:7021"));
    ck_assert_int_eq(h_jint(inc, "occurrences"), 2);
    json_decref(inc);
    body = fixture("metric_alert_resolved.json", &len);
    ck_assert_int_eq(send_signed(&d, "metric_alert", body, len, SECRET, now), 200);
    ck_assert_str_eq(state_of(&d, "sentry:metric_alert:7021", st, sizeof st), "resolved");
    free(body);

    /* Raw UTF-8 and \u escapes: the signature covers the bytes as sent. */
    body = fixture("event_alert_unicode.json", &len);
    ck_assert_int_eq(send_signed(&d, "event_alert", body, len, SECRET, now), 200);
    free(body);
    body = fixture("event_alert_escapes.json", &len);
    ck_assert_int_eq(send_signed(&d, "event_alert", body, len, SECRET, now), 200);
    free(body);
    inc = h_incident(&d, h_incident_by_key(&d, "sentry:issue:2201"));
    ck_assert_str_eq(h_jstr(inc, "severity"), "low"); /* the instance's severity map */
    ck_assert_ptr_nonnull(strstr(h_jstr(inc, "summary"), "\xe2\x80\x9e\xc3\x9c" "berweisung"));
    json_decref(inc);
    ck_assert_str_eq(state_of(&d, "sentry:issue:2200", st, sizeof st), "triggered");

    /* Resources tocsin does not map: 200, nothing stored. */
    body = fixture("installation_created.json", &len);
    ck_assert_int_eq(send_signed(&d, "installation", body, len, SECRET, now), 200);
    free(body);

    /* The legacy plugin's route: the token in the query. */
    body = fixture("legacy.json", &len);
    {
        char url[256];

        snprintf(url, sizeof url, "%s/hooks/sentry/legacy?token=wrong", d.base);
        ck_assert_int_eq(h_http("POST", url, body, len, 5000, &resp), 0);
        ck_assert_int_eq(resp.status, 401);
        h_resp_free(&resp);
        ck_assert_str_eq(state_of(&d, "sentry:issue:1117540176", st, sizeof st), "none");
        snprintf(url, sizeof url, "%s/hooks/sentry/legacy?token=%s", d.base, LEGACY);
        ck_assert_int_eq(h_http("POST", url, body, len, 5000, &resp), 0);
        ck_assert_int_eq(resp.status, 200);
        h_resp_free(&resp);
        ck_assert_str_eq(state_of(&d, "sentry:issue:1117540176", st, sizeof st), "triggered");
    }
    free(body);
    /* And the resolve from the integration platform closes it. */
    body = fixture("issue_resolved.json", &len);
    ck_assert_int_eq(send_signed(&d, "issue", body, len, SECRET, now), 200);
    ck_assert_str_eq(state_of(&d, "sentry:issue:1117540176", st, sizeof st), "resolved");
    free(body);

    ck_assert_int_eq(h_req(&d, "GET", "/metrics", NULL, &resp), 200);
    metrics = strdup(resp.body);
    h_resp_free(&resp);
    ck_assert_int_eq(h_stop(&d, 5000), 0);
    log = h_read_file(d.log);
    ck_assert_ptr_nonnull(log);
    ck_assert_msg(!strstr(log, SECRET) && !strstr(log, LEGACY), "a secret is in the log");
    ck_assert_msg(strstr(log, "refused POST /hooks/sentry from 127.0.0.1") != NULL,
                  "no refusal logged with the remote address");
    ck_assert_msg(!strstr(metrics, SECRET) && !strstr(metrics, LEGACY), "a secret in /metrics");
    free(log);
    free(metrics);
    free(crit);
    h_passed();
}
END_TEST

/* Sentry-Hook-Timestamp against the daemon's (injectable) clock. */
START_TEST(test_stale_timestamp_is_401)
{
    struct h_daemon d;
    size_t len;
    char *body = fixture("issue_created.json", &len), st[32];
    long long sent_at = (long long)time(NULL);

    start(&d, 1);
    h_clock_advance(&d, 301000);
    h_sleep_ms(100);
    ck_assert_int_eq(send_signed(&d, "issue", body, len, SECRET, sent_at), 401);
    ck_assert_str_eq(state_of(&d, "sentry:issue:1117540176", st, sizeof st), "none");
    ck_assert_int_eq(send_signed(&d, "issue", body, len, SECRET, sent_at + 301), 200);
    ck_assert_str_eq(state_of(&d, "sentry:issue:1117540176", st, sizeof st), "triggered");
    ck_assert_int_eq(h_stop(&d, 5000), 0);
    free(body);
    h_passed();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sentry_hooks");
    TCase *tc = h_tcase("sentry", 60);

    tcase_add_test(tc, test_signed_deliveries_open_and_resolve);
    tcase_add_test(tc, test_stale_timestamp_is_401);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
