/* test_cloudwatch.c: the cloudwatch input in the real tocsind against a
 * fake SNS over HTTPS on 127.0.0.1 (tests/peers/sns_peer.c). The suite
 * makes a test CA, a server certificate for the peer and a signing key and
 * certificate issued by the CA (openssl CLI); tocsind trusts the peer only
 * through the instance's ca_file and cert_url_allow. Messages are signed
 * here (tests/peers/sns_sign.c) with both signature versions. */
#define _GNU_SOURCE
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "sns_peer.h"
#include "sns_sign.h"

#define TOPIC "arn:aws:sns:us-east-1:123456789012:ops-alarms"
#define OTHER_TOPIC "arn:aws:sns:us-east-1:999999999999:not-ours"
#define ALARM_ARN "arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighCPU"

struct fx {
    struct h_daemon d;
    struct sns_peer *peer;
    void *key;                 /* the signing key */
    char cert_url[128], sub_url[256], url[128];
    char *alarm, *ok;          /* fixtures: the Message of ALARM and OK */
};

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    ck_assert_msg(system(cmd) == 0, "failed: %s", cmd);
}

/* A CA; a certificate for 127.0.0.1 (the peer's TLS) and a signing one,
 * both issued by it. */
static void make_pki(const char *dir)
{
    sh("cd '%s' && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=tocsin-test-ca"
       " -keyout ca.key -out ca.pem >/dev/null 2>&1", dir);
    sh("cd '%s' && printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext &&"
       " openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server.key"
       " -out server.csr >/dev/null 2>&1 &&"
       " openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2"
       " -extfile san.ext -out server.pem >/dev/null 2>&1", dir);
    sh("cd '%s' && openssl req -newkey rsa:2048 -nodes -subj /CN=sns.amazonaws.com"
       " -keyout signing.key -out signing.csr >/dev/null 2>&1 &&"
       " openssl x509 -req -in signing.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2"
       " -out signing.pem >/dev/null 2>&1", dir);
}

/* The wall clock, as SNS stamps Timestamp (h_now_ms is monotonic). */
static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *fixture(const char *name)
{
    char path[1024];
    char *s;

    snprintf(path, sizeof path, "%s/tests/fixtures/sns/%s", getenv("TOCSIN_SRCDIR"), name);
    s = h_read_file(path);
    ck_assert_msg(s != NULL, "cannot read %s", path);
    return s;
}

static void fx_start(struct fx *f, const char *extra)
{
    char tls_cert[H_PATH_MAX], tls_key[H_PATH_MAX], signing[H_PATH_MAX];

    memset(f, 0, sizeof *f);
    h_init(&f->d);
    make_pki(f->d.dir);
    snprintf(tls_cert, sizeof tls_cert, "%s/server.pem", f->d.dir);
    snprintf(tls_key, sizeof tls_key, "%s/server.key", f->d.dir);
    snprintf(signing, sizeof signing, "%s/signing.pem", f->d.dir);
    f->peer = sns_peer_start(tls_cert, tls_key, signing);
    ck_assert_ptr_nonnull(f->peer);
    snprintf(signing, sizeof signing, "%s/signing.key", f->d.dir);
    f->key = sns_key_load(signing);
    ck_assert_ptr_nonnull(f->key);
    snprintf(f->cert_url, sizeof f->cert_url,
             "https://127.0.0.1:%d/SimpleNotificationService-0123456789abcdef.pem",
             sns_peer_port(f->peer));
    snprintf(f->sub_url, sizeof f->sub_url,
             "https://127.0.0.1:%d/?Action=ConfirmSubscription&TopicArn=%s&Token=2336412f37fb",
             sns_peer_port(f->peer), TOPIC);
    /* libconfig strings: "\\." is a regex's "\." */
    h_write_config(&f->d,
                   "daemon = { listen = \"127.0.0.1:0\"; state_dir = \"%s\";\n"
                   "  plugin_dir = \"%s\"; log_level = \"debug\"; };\n"
                   "inputs = ( { id = \"sns\"; plugin = \"cloudwatch\";\n"
                   "  topics = [ \"" TOPIC "\" ];\n"
                   "  cert_url_allow = \"^https://127\\\\.0\\\\.0\\\\.1:[0-9]+/"
                   "SimpleNotificationService-[0-9a-f]+\\\\.pem$\";\n"
                   "  ca_file = \"%s/ca.pem\"; %s } );\n"
                   "sinks = ( { id = \"console\"; plugin = \"console\"; path = \"%s\"; } );\n"
                   "routes = ( { sinks = [ \"console\" ]; } );\n",
                   f->d.state_dir, getenv("TOCSIN_PLUGIN_DIR"), f->d.dir, extra ? extra : "",
                   f->d.console);
    h_start(&f->d);
    snprintf(f->url, sizeof f->url, "%s/hooks/sns", f->d.base);
    f->alarm = fixture("alarm_metric.json");
    f->ok = fixture("alarm_metric_ok.json");
}

static void fx_stop(struct fx *f)
{
    h_stop(&f->d, 5000);
    sns_peer_free(f->peer);
    sns_key_release(f->key);
    free(f->alarm);
    free(f->ok);
}

static void notification(struct fx *f, struct sns_fields *s, const char *message, int version,
                         char *ts, size_t tslen)
{
    memset(s, 0, sizeof *s);
    s->type = "Notification";
    s->message_id = version == 1 ? "a1c6e5f0-0001" : "a1c6e5f0-0002";
    s->topic_arn = TOPIC;
    s->subject = "ALARM: \"HighCPU\" in US East (N. Virginia)";
    s->message = message;
    s->timestamp = sns_timestamp(wall_ms(), ts, tslen);
    s->cert_url = f->cert_url;
    s->unsubscribe_url = "https://127.0.0.1/?Action=Unsubscribe";
    s->version = version;
}

static void confirmation(struct fx *f, struct sns_fields *s, const char *type, int version,
                         char *ts, size_t tslen)
{
    memset(s, 0, sizeof *s);
    s->type = type;
    s->message_id = "165545c9-2a5c-472c-8df2-7ff2be2b3b1b";
    s->topic_arn = TOPIC;
    s->message = "You have chosen to subscribe to the topic " TOPIC ".\nTo confirm the "
                 "subscription, visit the SubscribeURL included in this message.";
    s->timestamp = sns_timestamp(wall_ms(), ts, tslen);
    s->subscribe_url = f->sub_url;
    s->token = "2336412f37fb";
    s->cert_url = f->cert_url;
    s->version = version;
}

/* POSTs body as SNS does (text/plain JSON, its headers); the status. */
static long post(struct fx *f, const char *type, const char *topic, const char *body)
{
    char h_type[96], h_topic[160];
    const char *headers[] = { "Content-Type: text/plain; charset=UTF-8", h_type, h_topic,
                              "User-Agent: Amazon Simple Notification Service Agent", NULL };
    struct h_resp r;
    long status;

    snprintf(h_type, sizeof h_type, "x-amz-sns-message-type: %s", type);
    snprintf(h_topic, sizeof h_topic, "x-amz-sns-topic-arn: %s", topic);
    ck_assert_int_eq(h_http_ex("POST", f->url, body, strlen(body), 20000, headers, &r), 0);
    status = r.status;
    h_resp_free(&r);
    return status;
}

static long post_signed(struct fx *f, const struct sns_fields *s)
{
    char *body = sns_signed_body(s, f->key);
    long status = post(f, s->type, s->topic_arn, body);

    free(body);
    return status;
}

START_TEST(test_subscription_confirmed_over_https)
{
    struct fx f;
    struct sns_fields s;
    char ts[32], token[64];

    fx_start(&f, NULL);
    confirmation(&f, &s, "SubscriptionConfirmation", 1, ts, sizeof ts);
    ck_assert_int_eq(post_signed(&f, &s), 200);
    /* tocsind fetched the certificate and confirmed, both over HTTPS with
     * the test CA. */
    ck_assert_int_eq(sns_peer_cert_gets(f.peer), 1);
    ck_assert_int_eq(sns_peer_confirms(f.peer), 1);
    sns_peer_last_token(f.peer, token, sizeof token);
    ck_assert_str_eq(token, "2336412f37fb");
    ck_assert_int_eq(h_count_lines(f.d.log, "confirmed the subscription to " TOPIC), 1);
    ck_assert_int_eq(h_count_lines(f.d.log, "2336412f37fb"), 0); /* the token is not logged */

    /* Another topic: 403, a log line, no confirmation. */
    s.topic_arn = OTHER_TOPIC;
    ck_assert_int_eq(post_signed(&f, &s), 403);
    ck_assert_int_eq(sns_peer_confirms(f.peer), 1);
    ck_assert_int_eq(h_count_lines(f.d.log, "topic " OTHER_TOPIC " is not in topics"), 1);

    /* UnsubscribeConfirmation (version 2): noted only. */
    confirmation(&f, &s, "UnsubscribeConfirmation", 2, ts, sizeof ts);
    ck_assert_int_eq(post_signed(&f, &s), 200);
    ck_assert_int_eq(sns_peer_confirms(f.peer), 1);
    ck_assert_int_eq(h_count_lines(f.d.log, "unsubscribed from " TOPIC), 1);
    fx_stop(&f);
    h_passed();
}
END_TEST

START_TEST(test_alarm_fires_and_resolves)
{
    struct fx f;
    struct sns_fields s;
    char ts[32];
    int64_t id;
    json_t *inc, *open_;
    int i;

    fx_start(&f, NULL);
    notification(&f, &s, f.alarm, 2, ts, sizeof ts);
    ck_assert_int_eq(post_signed(&f, &s), 200);
    /* 200 came after the store: the incident is there now. */
    id = h_incident_by_key(&f.d, ALARM_ARN);
    ck_assert_int_gt(id, 0);
    inc = h_incident(&f.d, id);
    ck_assert_str_eq(h_jstr(inc, "state"), "triggered");
    json_decref(inc);

    /* Retries and repeats (version 1 too) verify with the cached key. */
    for (i = 0; i < 5; i++) {
        notification(&f, &s, f.alarm, 1 + i % 2, ts, sizeof ts);
        ck_assert_int_eq(post_signed(&f, &s), 200);
    }
    notification(&f, &s, f.ok, 1, ts, sizeof ts);
    s.subject = "OK: \"HighCPU\" in US East (N. Virginia)";
    ck_assert_int_eq(post_signed(&f, &s), 200);
    inc = h_incident(&f.d, id);
    ck_assert_str_eq(h_jstr(inc, "state"), "resolved");
    json_decref(inc);

    /* A late retry of the ALARM (an older StateChangeTime) after the OK:
     * 200, so SNS stops, and no incident reopens. */
    notification(&f, &s, f.alarm, 2, ts, sizeof ts);
    ck_assert_int_eq(post_signed(&f, &s), 200);
    open_ = h_incidents(&f.d, "open");
    ck_assert_uint_eq(json_array_size(open_), 0);
    json_decref(open_);
    /* Eight messages, one certificate fetch. */
    ck_assert_int_eq(sns_peer_cert_gets(f.peer), 1);
    fx_stop(&f);
    h_passed();
}
END_TEST

START_TEST(test_forgeries_are_refused)
{
    struct fx f;
    struct sns_fields s;
    char ts[32], url[160], *sig, *body;
    json_t *all;

    fx_start(&f, NULL);

    /* The Message changed after signing. */
    notification(&f, &s, f.alarm, 2, ts, sizeof ts);
    sig = sns_signature(&s, f.key);
    s.message = f.ok;
    body = sns_body(&s, sig);
    ck_assert_int_eq(post(&f, "Notification", TOPIC, body), 401);
    free(body);
    free(sig);

    /* A Subject added after signing. */
    notification(&f, &s, f.alarm, 1, ts, sizeof ts);
    s.subject = NULL;
    sig = sns_signature(&s, f.key);
    s.subject = "OK: nothing to see";
    body = sns_body(&s, sig);
    ck_assert_int_eq(post(&f, "Notification", TOPIC, body), 401);
    free(body);
    free(sig);

    /* The certificate over http, or on another host (the peer answers as
     * localhost too): 403, nothing fetched. */
    notification(&f, &s, f.alarm, 2, ts, sizeof ts);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/SimpleNotificationService-0123.pem",
             sns_peer_port(f.peer));
    s.cert_url = url;
    ck_assert_int_eq(post_signed(&f, &s), 403);
    snprintf(url, sizeof url, "https://localhost:%d/SimpleNotificationService-0123.pem",
             sns_peer_port(f.peer));
    ck_assert_int_eq(post_signed(&f, &s), 403);

    /* A topic not in topics. */
    notification(&f, &s, f.alarm, 2, ts, sizeof ts);
    s.topic_arn = OTHER_TOPIC;
    ck_assert_int_eq(post_signed(&f, &s), 403);

    /* Signed, but two hours old (max_age is 1h): a replay. */
    notification(&f, &s, f.alarm, 2, ts, sizeof ts);
    s.timestamp = sns_timestamp(wall_ms() - 2 * 3600 * 1000, ts, sizeof ts);
    ck_assert_int_eq(post_signed(&f, &s), 401);

    /* The header must name the body's Type. */
    notification(&f, &s, f.alarm, 2, ts, sizeof ts);
    body = sns_signed_body(&s, f.key);
    ck_assert_int_eq(post(&f, "SubscriptionConfirmation", TOPIC, body), 400);
    free(body);

    all = h_incidents(&f.d, NULL);
    ck_assert_uint_eq(json_array_size(all), 0);
    json_decref(all);
    ck_assert_int_eq(sns_peer_cert_gets(f.peer), 1); /* only for the allowed URL */
    ck_assert_int_eq(sns_peer_confirms(f.peer), 0);
    /* Refusals name the sender, never the body. */
    ck_assert_int_ge(h_count_lines(f.d.log, "from 127.0.0.1"), 5);
    ck_assert_int_eq(h_count_lines(f.d.log, "Threshold Crossed"), 0);
    fx_stop(&f);
    h_passed();
}
END_TEST

START_TEST(test_config_is_checked)
{
    struct h_daemon d;
    char *out = NULL;
    int rc;

    h_init(&d);
    h_write_config(&d,
                   "daemon = { listen = \"127.0.0.1:0\"; state_dir = \"%s\";\n"
                   "  plugin_dir = \"%s\"; };\n"
                   "inputs = ( { id = \"sns\"; plugin = \"cloudwatch\";\n"
                   "  topics = [ \"ops-alarms\" ]; insufficient_data = \"sometimes\";\n"
                   "  severity = { alarm = \"loud\"; }; } );\n"
                   "sinks = ( { id = \"console\"; plugin = \"console\"; } );\n"
                   "routes = ( { sinks = [ \"console\" ]; } );\n",
                   d.state_dir, getenv("TOCSIN_PLUGIN_DIR"));
    rc = h_run_tocsind(&out, "--check-config", "-c", d.conf, (char *)NULL);
    /* Every problem, each with file:line and the instance. */
    ck_assert_msg(rc == 1 && strstr(out, ":3: input \"sns\" (cloudwatch): topics: "
                                         "\"ops-alarms\" is not a TopicArn") &&
                      strstr(out, "insufficient_data must be \"ignore\", \"firing\" or "
                                  "\"resolve\", not \"sometimes\"") &&
                      strstr(out, "severity.alarm: \"loud\" is not a severity") &&
                      strstr(out, "3 errors"),
                  "exit %d: %s", rc, out);
    free(out);
    h_passed();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cloudwatch");
    TCase *tc = h_tcase("sns", 120);

    tcase_add_test(tc, test_subscription_confirmed_over_https);
    tcase_add_test(tc, test_alarm_fires_and_resolves);
    tcase_add_test(tc, test_forgeries_are_refused);
    tcase_add_test(tc, test_config_is_checked);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
