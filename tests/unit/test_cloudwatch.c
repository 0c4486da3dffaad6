/* test_cloudwatch.c: the cloudwatch input: SNS envelopes and their string
 * to sign (envelope.c), CloudWatch alarms to alerts (alarm.c, against the
 * fixtures in tests/fixtures/sns), and the plugin's checks and answers
 * (cloudwatch.c, verify.c) through a test host that serves the signing
 * certificate and records what the plugin fetched and emitted. Messages
 * are signed here with a key made by the test. */
#define _GNU_SOURCE
#include <check.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <tocsin/plugin.h>

#include "alarm.h"
#include "common.h"
#include "envelope.h"
#include "fake_host.h"
#include "sns_sign.h"
#include "helpers.h"

extern const struct tocsin_plugin tocsin_plugin;

#define TOPIC "arn:aws:sns:us-east-1:123456789012:ops-alarms"
#define OTHER_TOPIC "arn:aws:sns:us-east-1:999999999999:not-ours"
#define CERT_URL "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef.pem"
#define SUB_URL "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=" \
    TOPIC "&Token=2336412f37fb"
/* 2026-11-23T03:12:45.500Z */
#define NOW 1795403565500LL

/* ---- helpers -------------------------------------------------------------- */

static char *read_fixture(const char *name)
{
    return fixture_text("sns", name, NULL);
}

static const struct cw_opts default_opts = {
    CW_INSUF_IGNORE, TOCSIN_SEV_HIGH, TOCSIN_SEV_MEDIUM, TOCSIN_SEV_INFO,
};

/* cw_parse of a fixture; the alert as JSON (owned) for the assertions. */
static json_t *alarm_json(const char *fixture, const struct cw_opts *o, enum cw_kind *kind)
{
    char *msg = read_fixture(fixture);
    struct cw_result r;
    json_t *j = NULL;

    ck_assert_int_eq(cw_parse(msg, "ALARM: \"x\"", TOPIC, "mid-1", o ? o : &default_opts, &r),
                     0);
    *kind = r.kind;
    if (r.kind != CW_IGNORED)
        j = tc_alert_to_json(&r.alert);
    cw_result_free(&r);
    free(msg);
    return j;
}

static const char *label(json_t *a, const char *name)
{
    return json_string_value(json_object_get(json_object_get(a, "labels"), name));
}

static const char *jstr(json_t *a, const char *key)
{
    return json_string_value(json_object_get(a, key));
}

/* ---- the test host ---------------------------------------------------------- */

/* The shared fake host, with the certificate served and the alerts kept
 * as JSON. */
struct th {
    struct fake_host f; /* first: the plugin hands it back */
    /* http_sized: the certificate at cert_url, anything else answered
     * get_status (a SubscribeURL) */
    const char *cert_url;
    char *cert_pem;
    int cert_gets, other_gets, get_status;
    char last_get[1024];
    json_t *emitted; /* the last alert */
};

static struct th *th_of(const struct tocsin_host *h)
{
    return (struct th *)(void *)h;
}

static int th_emit_sized(const struct tocsin_host *h, const void *alerts, size_t n,
                         size_t alert_size, char *err, size_t errlen)
{
    struct th *t = th_of(h);

    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(alert_size, sizeof(struct tocsin_alert));
    t->f.emits++;
    json_decref(t->emitted);
    t->emitted = tc_alert_to_json(alerts);
    if (t->f.emit_rc != TOCSIN_OK)
        snprintf(err, errlen, "queue full");
    return t->f.emit_rc;
}

static int th_http_sized(const struct tocsin_host *h, const struct tocsin_http_call *call,
                         size_t call_size, struct tocsin_http_result *res, size_t res_size)
{
    struct th *t = th_of(h);

    ck_assert_uint_eq(call_size, sizeof *call);
    memset(res, 0, res_size);
    ck_assert_str_eq(call->method, "GET");
    if (t->cert_url && strcmp(call->url, t->cert_url) == 0) {
        t->cert_gets++;
        res->status = 200;
        res->body = strdup(t->cert_pem);
        res->body_len = strlen(res->body);
        return TOCSIN_OK;
    }
    t->other_gets++;
    snprintf(t->last_get, sizeof t->last_get, "%s", call->url);
    res->status = t->get_status;
    res->body = strdup("<ConfirmSubscriptionResponse/>");
    res->body_len = strlen(res->body);
    return TOCSIN_OK;
}

static void *th_key; /* one RSA key for the whole suite: making one takes a while */
static char *th_cert;

static void th_init(struct th *t)
{
    memset(t, 0, sizeof *t);
    fake_host_init(&t->f, "sns", NOW);
    t->f.host.emit_sized = th_emit_sized;
    t->f.host.http_sized = th_http_sized;
    t->cert_url = CERT_URL;
    t->cert_pem = th_cert;
    t->get_status = 200;
    if (!th_key)
        th_key = sns_test_key(&th_cert);
    t->cert_pem = th_cert;
}

/* The conf struct as the core fills it (the option table's layout). */
struct conf {
    const char *path;
    struct tocsin_strlist topics;
    const char *cert_url_allow;
    const char *ca_file;
    int64_t max_age;
    const char *insufficient_data;
    struct tocsin_map severity;
};

static const char *const one_topic[] = { TOPIC };

static void conf_default(struct conf *c)
{
    memset(c, 0, sizeof *c);
    c->path = "/hooks/sns";
    c->topics.n = 1;
    c->topics.items = one_topic;
    c->cert_url_allow = tocsin_plugin.options[2].def;
    c->max_age = 3600 * 1000;
    c->insufficient_data = "ignore";
}

/* A request: headers x-amz-sns-message-type (type) and Content-Type. */
struct treq {
    struct tocsin_http_request req;
    const char *type, *topic;
};

static const char *treq_header(const struct tocsin_http_request *req, const char *name)
{
    const struct treq *r = (const struct treq *)(const void *)req;

    if (strcasecmp(name, "x-amz-sns-message-type") == 0)
        return r->type;
    if (strcasecmp(name, "x-amz-sns-topic-arn") == 0)
        return r->topic;
    if (strcasecmp(name, "Content-Type") == 0)
        return "text/plain; charset=UTF-8";
    return NULL;
}

static const char *treq_query(const struct tocsin_http_request *req, const char *name)
{
    (void)req;
    (void)name;
    return NULL;
}

/* POSTs body with header type (NULL: none); returns the status, the
 * error text in err (if any). */
static int post(struct th *t, const char *type, const char *body, char *err, size_t errlen)
{
    struct treq r;
    struct tocsin_http_response resp;
    int status;

    memset(&r, 0, sizeof r);
    r.req.method = "POST";
    r.req.path = t->f.path;
    r.req.body = body;
    r.req.body_len = strlen(body);
    r.req.remote_addr = "203.0.113.9";
    r.req.header = treq_header;
    r.req.query = treq_query;
    r.type = type;
    memset(&resp, 0, sizeof resp);
    ck_assert_ptr_nonnull(t->f.route_fn);
    ck_assert_int_eq(t->f.route_fn(t->f.route_self, &r.req, &resp), TOCSIN_OK);
    status = resp.status ? resp.status : 200;
    if (err && errlen) {
        json_t *j = resp.body ? json_loads(resp.body, 0, NULL) : NULL;

        snprintf(err, errlen, "%s%s%s", j ? jstr(j, "error") : "",
                 j && jstr(j, "detail") ? ": " : "", j && jstr(j, "detail") ? jstr(j, "detail")
                                                                            : "");
        json_decref(j);
    }
    if (resp.retry_after)
        status += 1000 * resp.retry_after; /* 503 + Retry-After: 1 -> 1503 */
    free(resp.body);
    return status;
}

static void *start(struct th *t, const struct conf *c)
{
    void *self = NULL;

    th_init(t);
    ck_assert_msg(tocsin_plugin.create(&t->f.host, c, &self) == TOCSIN_OK, "create: %s",
                  t->f.failed);
    ck_assert_str_eq(t->f.method, "POST");
    ck_assert_int_eq(t->f.routes, 0); /* SNS cannot send our credentials */
    return self;
}

static void stop(struct th *t, void *self)
{
    tocsin_plugin.destroy(self);
    json_decref(t->emitted);
    fake_host_release(&t->f);
}

static void notification_fields(struct sns_fields *f, const char *message, int version)
{
    static char ts[32];

    memset(f, 0, sizeof *f);
    f->type = "Notification";
    f->message_id = "5b0e5d4c-1a6f-5b55-9a2f-3c8f0d7b1e21";
    f->topic_arn = TOPIC;
    f->subject = "ALARM: \"HighCPU\" in US East (N. Virginia)";
    f->message = message;
    f->timestamp = sns_timestamp(NOW - 500, ts, sizeof ts);
    f->cert_url = CERT_URL;
    f->unsubscribe_url = "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&"
                         "SubscriptionArn=" TOPIC ":c9135db0";
    f->version = version;
}

static void confirmation_fields(struct sns_fields *f, const char *type, int version)
{
    static char ts[32];

    memset(f, 0, sizeof *f);
    f->type = type;
    f->message_id = "165545c9-2a5c-472c-8df2-7ff2be2b3b1b";
    f->topic_arn = TOPIC;
    f->message = "You have chosen to subscribe to the topic " TOPIC ".\n"
                 "To confirm the subscription, visit the SubscribeURL included in this message.";
    f->timestamp = sns_timestamp(NOW - 1000, ts, sizeof ts);
    f->subscribe_url = SUB_URL;
    f->token = "2336412f37fb";
    f->cert_url = CERT_URL;
    f->version = version;
}

/* ---- the envelope ------------------------------------------------------------ */

START_TEST(test_string_to_sign_notification)
{
    struct sns_fields f;
    struct sns_msg m;
    char *body, *want;

    notification_fields(&f, "line one\nline \"two\" caf\xc3\xa9", 2);
    body = sns_body(&f, "c2ln");
    ck_assert_int_eq(sns_parse(body, strlen(body), &m), 0);
    ck_assert_int_eq(m.type, SNS_NOTIFICATION);
    ck_assert_int_eq(m.version, 2);
    ck_assert_int_eq(m.timestamp_ms, NOW - 500);
    /* The decoded values, not the JSON text; Subject between MessageId and
     * Timestamp; nothing of the other types. */
    ck_assert_str_eq(m.to_sign,
                     "Message\nline one\nline \"two\" caf\xc3\xa9\n"
                     "MessageId\n5b0e5d4c-1a6f-5b55-9a2f-3c8f0d7b1e21\n"
                     "Subject\nALARM: \"HighCPU\" in US East (N. Virginia)\n"
                     "Timestamp\n2026-11-23T03:12:45.000Z\n"
                     "TopicArn\n" TOPIC "\n"
                     "Type\nNotification\n");
    want = sns_string_to_sign(&f);
    ck_assert_str_eq(m.to_sign, want);
    free(want);
    sns_msg_free(&m);
    free(body);

    /* Without a Subject, the key is left out, not signed empty. */
    f.subject = NULL;
    body = sns_body(&f, "c2ln");
    ck_assert_int_eq(sns_parse(body, strlen(body), &m), 0);
    ck_assert_ptr_null(strstr(m.to_sign, "Subject"));
    want = sns_string_to_sign(&f);
    ck_assert_str_eq(m.to_sign, want);
    free(want);
    sns_msg_free(&m);
    free(body);
}
END_TEST

START_TEST(test_string_to_sign_confirmations)
{
    static const char *const types[] = { "SubscriptionConfirmation", "UnsubscribeConfirmation" };
    struct sns_fields f;
    struct sns_msg m;
    char *body, *want;
    int i;

    for (i = 0; i < 2; i++) {
        confirmation_fields(&f, types[i], 1);
        body = sns_body(&f, "c2ln");
        ck_assert_int_eq(sns_parse(body, strlen(body), &m), 0);
        ck_assert_int_eq(m.type, i == 0 ? SNS_SUBSCRIPTION_CONFIRMATION
                                        : SNS_UNSUBSCRIBE_CONFIRMATION);
        ck_assert_ptr_nonnull(strstr(m.to_sign, "\nSubscribeURL\n" SUB_URL "\nTimestamp\n"));
        ck_assert_ptr_nonnull(strstr(m.to_sign, "\nToken\n2336412f37fb\nTopicArn\n"));
        want = sns_string_to_sign(&f);
        ck_assert_str_eq(m.to_sign, want);
        free(want);
        sns_msg_free(&m);
        free(body);
    }
}
END_TEST

START_TEST(test_envelope_errors_name_the_field)
{
    static const struct {
        const char *body, *error;
    } cases[] = {
        { "not json", "malformed JSON" },
        { "[]", "body must be an SNS message" },
        { "{\"Type\":\"Notification\"}", "\"MessageId\" is required" },
        { "{\"Type\":\"Notification\",\"MessageId\":\"1\",\"TopicArn\":\"t\",\"Message\":\"m\","
          "\"Timestamp\":\"2026-11-23T03:12:45.500Z\",\"SignatureVersion\":\"2\","
          "\"Signature\":\"c2ln\"}", "\"SigningCertURL\" is required" },
        { "{\"Type\":\"Notification\",\"MessageId\":\"1\",\"TopicArn\":\"t\",\"Message\":\"m\","
          "\"Timestamp\":\"2026-11-23T03:12:45.500Z\",\"SignatureVersion\":\"3\","
          "\"Signature\":\"c2ln\",\"SigningCertURL\":\"u\"}", "\"SignatureVersion\" must be" },
        { "{\"Type\":\"Notification\",\"MessageId\":\"1\",\"TopicArn\":\"t\",\"Message\":\"m\","
          "\"Timestamp\":\"yesterday\",\"SignatureVersion\":\"2\","
          "\"Signature\":\"c2ln\",\"SigningCertURL\":\"u\"}", "\"Timestamp\" is not" },
        { "{\"Type\":\"Notification\",\"MessageId\":\"1\",\"TopicArn\":\"t\",\"Message\":7,"
          "\"Timestamp\":\"2026-11-23T03:12:45.500Z\",\"SignatureVersion\":\"2\","
          "\"Signature\":\"c2ln\",\"SigningCertURL\":\"u\"}", "\"Message\" must be a string" },
        { "{\"Type\":\"Notice\",\"MessageId\":\"1\",\"TopicArn\":\"t\",\"Message\":\"m\","
          "\"Timestamp\":\"2026-11-23T03:12:45.500Z\",\"SignatureVersion\":\"2\","
          "\"Signature\":\"c2ln\",\"SigningCertURL\":\"u\"}", "\"Type\" \"Notice\" is not" },
        { "{\"Type\":\"SubscriptionConfirmation\",\"MessageId\":\"1\",\"TopicArn\":\"t\","
          "\"Message\":\"m\",\"Timestamp\":\"2026-11-23T03:12:45.500Z\","
          "\"SignatureVersion\":\"2\",\"Signature\":\"c2ln\",\"SigningCertURL\":\"u\","
          "\"Token\":\"x\"}", "\"SubscribeURL\" is required" },
        /* A NUL inside a signed value could not be signed as AWS does. */
        { "{\"Type\":\"Notification\",\"MessageId\":\"1\",\"TopicArn\":\"t\",\"Message\":"
          "\"a\\u0000b\"}", "malformed JSON" },
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sns_msg m;

        ck_assert_int_eq(sns_parse(cases[i].body, strlen(cases[i].body), &m), TOCSIN_EINVAL);
        ck_assert_msg(strstr(m.error, cases[i].error), "case %zu: \"%s\" lacks \"%s\"", i,
                      m.error, cases[i].error);
        sns_msg_free(&m);
    }
}
END_TEST

START_TEST(test_origin_and_arn)
{
    char p[32], r[32], a[32];

    ck_assert_uint_eq(sns_https_origin_len(CERT_URL),
                      strlen("https://sns.us-east-1.amazonaws.com/"));
    ck_assert_uint_eq(sns_https_origin_len("http://sns.us-east-1.amazonaws.com/x.pem"), 0);
    ck_assert_uint_eq(sns_https_origin_len("https://sns.us-east-1.amazonaws.com"), 0);
    ck_assert_uint_eq(sns_https_origin_len("https:///x"), 0);
    sns_arn_parts("arn:aws-cn:sns:cn-north-1:123:t", p, sizeof p, r, sizeof r, a, sizeof a);
    ck_assert_str_eq(p, "aws-cn");
    ck_assert_str_eq(r, "cn-north-1");
    ck_assert_str_eq(a, "123");
    sns_arn_parts("not an arn", p, sizeof p, r, sizeof r, a, sizeof a);
    ck_assert_str_eq(r, "");
}
END_TEST

/* ---- alarms ------------------------------------------------------------------ */

START_TEST(test_metric_alarm_fires)
{
    enum cw_kind kind;
    json_t *a = alarm_json("alarm_metric.json", NULL, &kind);

    ck_assert_int_eq(kind, CW_ALARM);
    ck_assert_str_eq(jstr(a, "status"), "firing");
    ck_assert_str_eq(jstr(a, "severity"), "high");
    ck_assert_str_eq(jstr(a, "dedup_key"), "arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighCPU");
    ck_assert_str_eq(jstr(a, "summary"), "HighCPU: Threshold Crossed: 1 datapoint [93.1 "
                                         "(23/11/26 03:07:00)] was greater than the threshold "
                                         "(90.0).");
    ck_assert_str_eq(label(a, "alertname"), "HighCPU");
    ck_assert_str_eq(label(a, "alarm_type"), "metric");
    ck_assert_str_eq(label(a, "namespace"), "AWS/EC2");
    ck_assert_str_eq(label(a, "metric"), "CPUUtilization");
    ck_assert_str_eq(label(a, "statistic"), "AVERAGE");
    ck_assert_str_eq(label(a, "comparison"), "GreaterThanThreshold");
    ck_assert_str_eq(label(a, "threshold"), "90");
    ck_assert_str_eq(label(a, "dim_InstanceId"), "i-0abc123");
    ck_assert_str_eq(label(a, "region"), "us-east-1");
    ck_assert_str_eq(label(a, "account"), "123456789012");
    ck_assert_str_eq(label(a, "sns_topic"), "ops-alarms");
    ck_assert_str_eq(jstr(a, "started_at"), "2026-11-23T03:12:45.123Z");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(a, "links"),
                                                       "generator")),
                     "https://console.aws.amazon.com/cloudwatch/home?region=us-east-1"
                     "#alarmsV2:alarm/HighCPU");
    ck_assert_ptr_nonnull(strstr(jstr(a, "details"),
                                 "Metric: AWS/EC2 CPUUtilization (InstanceId=i-0abc123), "
                                 "AVERAGE over 300 s\n"));
    ck_assert_ptr_nonnull(strstr(jstr(a, "details"),
                                 "Condition: GreaterThanThreshold 90 for 2 period(s)\n"));
    ck_assert_ptr_nonnull(strstr(jstr(a, "details"), "State: OK -> ALARM at "));
    json_decref(a);
}
END_TEST

START_TEST(test_ok_resolves_the_same_key)
{
    enum cw_kind kind;
    json_t *a = alarm_json("alarm_metric_ok.json", NULL, &kind);

    ck_assert_int_eq(kind, CW_ALARM);
    ck_assert_str_eq(jstr(a, "status"), "resolved");
    ck_assert_str_eq(jstr(a, "dedup_key"), "arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighCPU");
    ck_assert_str_eq(jstr(a, "ended_at"), "2026-11-23T03:27:45.456Z");
    json_decref(a);
}
END_TEST

START_TEST(test_metric_math_alarm)
{
    enum cw_kind kind;
    json_t *a = alarm_json("alarm_metric_math.json", NULL, &kind);
    const char *d;

    ck_assert_int_eq(kind, CW_ALARM);
    ck_assert_str_eq(jstr(a, "status"), "firing");
    ck_assert_str_eq(label(a, "alarm_type"), "metric_math");
    ck_assert_str_eq(label(a, "namespace"), "AWS/ApiGateway");
    ck_assert_ptr_null(label(a, "metric")); /* several: none is "the" metric */
    ck_assert_str_eq(label(a, "dim_ApiName"), "shop-api");
    ck_assert_str_eq(label(a, "threshold"), "5");
    ck_assert_str_eq(label(a, "region"), "eu-west-1");
    d = jstr(a, "details");
    ck_assert_ptr_nonnull(strstr(d, "More than 5% of API calls fail\n"));
    ck_assert_ptr_nonnull(strstr(d, "  e1: = 100*m1/m2 \"5xx rate\" (alarmed on)\n"));
    ck_assert_ptr_nonnull(strstr(d, "  m1: AWS/ApiGateway 5XXError (ApiName=shop-api), Sum "
                                    "over 60 s\n"));
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(a, "annotations"),
                                                       "description")),
                     "More than 5% of API calls fail");
    /* The name has spaces: the console link encodes them. */
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(a, "links"),
                                                       "generator")),
                     "https://console.aws.amazon.com/cloudwatch/home?region=eu-west-1"
                     "#alarmsV2:alarm/API%205xx%20rate");
    json_decref(a);
}
END_TEST

START_TEST(test_composite_alarm)
{
    enum cw_kind kind;
    json_t *a = alarm_json("alarm_composite.json", NULL, &kind);
    const char *d;

    ck_assert_int_eq(kind, CW_ALARM);
    ck_assert_str_eq(label(a, "alarm_type"), "composite");
    ck_assert_ptr_null(label(a, "namespace"));
    ck_assert_str_eq(jstr(a, "dedup_key"),
                     "arn:aws:cloudwatch:us-east-1:123456789012:alarm:Shop degraded");
    d = jstr(a, "details");
    ck_assert_ptr_nonnull(strstr(d, "Rule: ALARM(\"HighCPU\") AND ALARM(\"API 5xx rate\")\n"));
    ck_assert_ptr_nonnull(strstr(d, "Triggered by: arn:aws:cloudwatch:us-east-1:123456789012:"
                                    "alarm:HighCPU (ALARM at 2026-11-23T03:12:45.123+0000)\n"));
    json_decref(a);
}
END_TEST

START_TEST(test_insufficient_data_as_configured)
{
    struct cw_opts o = default_opts;
    enum cw_kind kind;
    json_t *a;

    a = alarm_json("alarm_insufficient.json", &o, &kind);
    ck_assert_int_eq(kind, CW_IGNORED); /* the default */
    ck_assert_ptr_null(a);

    o.insufficient = CW_INSUF_FIRING;
    a = alarm_json("alarm_insufficient.json", &o, &kind);
    ck_assert_int_eq(kind, CW_ALARM);
    ck_assert_str_eq(jstr(a, "status"), "firing");
    ck_assert_str_eq(jstr(a, "severity"), "medium");
    ck_assert_str_eq(label(a, "statistic"), "p99"); /* ExtendedStatistic */
    ck_assert_str_eq(label(a, "comparison"), "GreaterThanOrEqualToThreshold");
    ck_assert_str_eq(label(a, "threshold"), "1000");
    json_decref(a);

    o.insufficient = CW_INSUF_RESOLVE;
    a = alarm_json("alarm_insufficient.json", &o, &kind);
    ck_assert_str_eq(jstr(a, "status"), "resolved");
    json_decref(a);
}
END_TEST

START_TEST(test_legacy_alarm_without_arn)
{
    enum cw_kind kind;
    json_t *a = alarm_json("alarm_legacy.json", NULL, &kind);

    ck_assert_int_eq(kind, CW_ALARM);
    ck_assert_str_eq(jstr(a, "dedup_key"), "cloudwatch:123456789012:US West (Oregon):DiskFull");
    ck_assert_str_eq(label(a, "dim_path"), "/");
    ck_assert_str_eq(label(a, "dim_host"), "web-1");
    /* No ARN in the alarm: the region code is the topic's. */
    ck_assert_str_eq(label(a, "region"), "us-east-1");
    ck_assert_str_eq(jstr(a, "started_at"), "2016-03-01T10:00:00.000Z");
    json_decref(a);
}
END_TEST

START_TEST(test_other_messages_are_generic)
{
    char *msg = read_fixture("message_plain.txt");
    struct cw_result r;
    json_t *a;

    ck_assert_int_eq(cw_parse(msg, "Backup failed", TOPIC, "m-1", &default_opts, &r), 0);
    ck_assert_int_eq(r.kind, CW_GENERIC);
    a = tc_alert_to_json(&r.alert);
    ck_assert_str_eq(jstr(a, "summary"), "Backup failed");
    ck_assert_str_eq(jstr(a, "severity"), "info");
    ck_assert_str_eq(jstr(a, "status"), "firing");
    ck_assert_str_eq(jstr(a, "details"), msg);
    ck_assert_str_eq(jstr(a, "dedup_key"), "sns:" TOPIC ":Backup failed");
    ck_assert_str_eq(label(a, "sns_topic"), "ops-alarms");
    json_decref(a);
    cw_result_free(&r);

    /* No Subject: the first line names it, the message id keys it. */
    ck_assert_int_eq(cw_parse(msg, NULL, TOPIC, "m-2", &default_opts, &r), 0);
    a = tc_alert_to_json(&r.alert);
    ck_assert_str_eq(jstr(a, "summary"),
                     "Nightly backup of db-1 failed: pg_dump exited with status 1.");
    ck_assert_str_eq(jstr(a, "dedup_key"), "sns:" TOPIC ":m-2");
    json_decref(a);
    cw_result_free(&r);

    /* JSON that is not an alarm is generic too. */
    ck_assert_int_eq(cw_parse("{\"AlarmName\":7}", NULL, TOPIC, "m-3", &default_opts, &r), 0);
    ck_assert_int_eq(r.kind, CW_GENERIC);
    cw_result_free(&r);
    free(msg);
}
END_TEST

START_TEST(test_state_change_time)
{
    int64_t ms;

    ck_assert_int_eq(cw_time_parse("2026-11-23T03:12:45.123+0000", &ms), 0);
    ck_assert_int_eq(ms, 1795403565123LL);
    ck_assert_int_eq(cw_time_parse("2026-11-23T05:12:45.123+0200", &ms), 0);
    ck_assert_int_eq(ms, 1795403565123LL);
    ck_assert_int_eq(cw_time_parse("2026-11-23T03:12:45.123Z", &ms), 0);
    ck_assert_int_eq(cw_time_parse("+0000", &ms), -1);
    ck_assert_int_eq(cw_time_parse("2026-11-23 nonsense", &ms), -1);
}
END_TEST

/* ---- the plugin --------------------------------------------------------------- */

START_TEST(test_signed_notifications_are_stored)
{
    struct th t;
    struct conf c;
    struct sns_fields f;
    char *msg = read_fixture("alarm_metric.json"), *body, err[256];
    void *self;
    int v;

    conf_default(&c);
    self = start(&t, &c);
    ck_assert_str_eq(t.f.path, "/hooks/sns");
    for (v = 1; v <= 2; v++) {
        notification_fields(&f, msg, v);
        body = sns_signed_body(&f, th_key);
        ck_assert_int_eq(post(&t, "Notification", body, err, sizeof err), 200);
        ck_assert_int_eq(t.f.emits, v);
        ck_assert_str_eq(jstr(t.emitted, "dedup_key"),
                         "arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighCPU");
        free(body);
    }
    /* Both versions, one certificate: fetched once. */
    ck_assert_int_eq(t.cert_gets, 1);
    stop(&t, self);
    free(msg);
}
END_TEST

START_TEST(test_tampering_is_401)
{
    struct th t;
    struct conf c;
    struct sns_fields f;
    char *msg = read_fixture("alarm_metric.json"), *sig, *body, err[256];
    void *self;

    conf_default(&c);
    self = start(&t, &c);

    /* The Message changed after signing. */
    notification_fields(&f, msg, 2);
    sig = sns_signature(&f, th_key);
    f.message = "{\"AlarmName\":\"HighCPU\",\"NewStateValue\":\"OK\"}";
    body = sns_body(&f, sig);
    ck_assert_int_eq(post(&t, "Notification", body, err, sizeof err), 401);
    ck_assert_str_eq(err, "invalid signature");
    free(body);
    free(sig);

    /* A Subject added after signing. */
    notification_fields(&f, msg, 2);
    f.subject = NULL;
    sig = sns_signature(&f, th_key);
    f.subject = "OK: all is well";
    body = sns_body(&f, sig);
    ck_assert_int_eq(post(&t, "Notification", body, err, sizeof err), 401);
    free(body);
    free(sig);

    /* Signed as version 1, sent as version 2. */
    notification_fields(&f, msg, 1);
    sig = sns_signature(&f, th_key);
    f.version = 2;
    body = sns_body(&f, sig);
    ck_assert_int_eq(post(&t, "Notification", body, err, sizeof err), 401);
    free(body);
    free(sig);

    /* Not base64 at all. */
    notification_fields(&f, msg, 2);
    body = sns_body(&f, "%%%not base64%%%");
    ck_assert_int_eq(post(&t, "Notification", body, err, sizeof err), 401);
    free(body);

    ck_assert_int_eq(t.f.emits, 0);
    /* Logged with the remote address, never with the body. */
    ck_assert_ptr_nonnull(strstr(t.f.logs, "203.0.113.9"));
    ck_assert_ptr_null(strstr(t.f.logs, "HighCPU"));
    stop(&t, self);
    free(msg);
}
END_TEST

START_TEST(test_cert_url_rule_is_403)
{
    static const char *const urls[] = {
        /* over http */
        "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef.pem",
        /* another host */
        "https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-01.pem",
        "https://evil.example/SimpleNotificationService-0123456789abcdef.pem",
        "https://sns.us-east-1.amazonaws.com@evil.example/SimpleNotificationService-01.pem",
        /* not SNS's certificate file */
        "https://sns.us-east-1.amazonaws.com/other.pem",
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-01.pem?x=1",
    };
    struct th t;
    struct conf c;
    struct sns_fields f;
    char *msg = read_fixture("alarm_metric.json"), *body, err[256];
    void *self;
    size_t i;

    conf_default(&c);
    self = start(&t, &c);
    for (i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        notification_fields(&f, msg, 2);
        f.cert_url = urls[i];
        body = sns_signed_body(&f, th_key);
        ck_assert_msg(post(&t, "Notification", body, err, sizeof err) == 403, "%s", urls[i]);
        ck_assert_str_eq(err, "SigningCertURL not allowed");
        free(body);
    }
    /* China's endpoints pass the default rule. */
    notification_fields(&f, msg, 2);
    f.cert_url = "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-ab12.pem";
    t.cert_url = f.cert_url;
    body = sns_signed_body(&f, th_key);
    ck_assert_int_eq(post(&t, "Notification", body, err, sizeof err), 200);
    free(body);
    ck_assert_int_eq(t.other_gets, 0); /* nothing fetched from a refused URL */
    stop(&t, self);
    free(msg);
}
END_TEST

START_TEST(test_other_topics_are_403)
{
    static const char *const types[] = { "Notification", "SubscriptionConfirmation",
                                         "UnsubscribeConfirmation" };
    struct th t;
    struct conf c;
    struct sns_fields f;
    char *body, err[256];
    void *self;
    int i;

    conf_default(&c);
    self = start(&t, &c);
    for (i = 0; i < 3; i++) {
        if (i == 0)
            notification_fields(&f, "hello", 2);
        else
            confirmation_fields(&f, types[i], 2);
        f.topic_arn = OTHER_TOPIC;
        body = sns_signed_body(&f, th_key);
        ck_assert_int_eq(post(&t, types[i], body, err, sizeof err), 403);
        ck_assert_str_eq(err, "topic not allowed");
        free(body);
    }
    ck_assert_int_eq(t.f.emits, 0);
    ck_assert_int_eq(t.other_gets, 0); /* no subscription confirmed */
    ck_assert_int_eq(t.cert_gets, 0);  /* nor anything fetched for them */
    ck_assert_ptr_nonnull(strstr(t.f.logs, "refused a SubscriptionConfirmation from 203.0.113.9: "
                                         "topic " OTHER_TOPIC " is not in topics"));
    stop(&t, self);
}
END_TEST

START_TEST(test_stale_messages_are_401)
{
    struct th t;
    struct conf c;
    struct sns_fields f;
    char *body, err[256], ts[32];
    void *self;

    conf_default(&c);
    self = start(&t, &c);
    notification_fields(&f, "hello", 2);
    f.timestamp = sns_timestamp(NOW - 3600 * 1000 - 1000, ts, sizeof ts);
    body = sns_signed_body(&f, th_key);
    ck_assert_int_eq(post(&t, "Notification", body, err, sizeof err), 401);
    ck_assert_str_eq(err, "stale message: Timestamp is outside max_age");
    /* A retry just within the window passes. */
    t.f.now = NOW - 1000;
    ck_assert_int_eq(post(&t, "Notification", body, err, sizeof err), 200);
    free(body);
    /* So far in the future is as suspect. */
    f.timestamp = sns_timestamp(NOW + 3600 * 1000 + 1000, ts, sizeof ts);
    body = sns_signed_body(&f, th_key);
    ck_assert_int_eq(post(&t, "Notification", body, err, sizeof err), 401);
    free(body);
    stop(&t, self);

    /* max_age 0: no window. */
    c.max_age = 0;
    self = start(&t, &c);
    f.timestamp = "2016-03-01T10:00:00.000Z";
    body = sns_signed_body(&f, th_key);
    ck_assert_int_eq(post(&t, "Notification", body, err, sizeof err), 200);
    free(body);
    stop(&t, self);
}
END_TEST

START_TEST(test_headers_must_agree)
{
    struct th t;
    struct conf c;
    struct sns_fields f;
    char *body, err[256];
    void *self;

    conf_default(&c);
    self = start(&t, &c);
    notification_fields(&f, "hello", 2);
    body = sns_signed_body(&f, th_key);
    ck_assert_int_eq(post(&t, NULL, body, err, sizeof err), 400);
    ck_assert_str_eq(err, "malformed SNS message: header x-amz-sns-message-type is missing");
    ck_assert_int_eq(post(&t, "SubscriptionConfirmation", body, err, sizeof err), 400);
    ck_assert_int_eq(post(&t, "Notification", "{\"Type\":\"Notification\"}", err, sizeof err),
                     400);
    ck_assert_str_eq(err, "malformed SNS message: \"MessageId\" is required");
    ck_assert_int_eq(t.f.emits, 0);
    free(body);
    stop(&t, self);
}
END_TEST

START_TEST(test_subscription_is_confirmed)
{
    struct th t;
    struct conf c;
    struct sns_fields f;
    char *body, err[256];
    void *self;

    conf_default(&c);
    self = start(&t, &c);
    confirmation_fields(&f, "SubscriptionConfirmation", 1);
    body = sns_signed_body(&f, th_key);
    ck_assert_int_eq(post(&t, "SubscriptionConfirmation", body, err, sizeof err), 200);
    ck_assert_int_eq(t.other_gets, 1);
    ck_assert_str_eq(t.last_get, SUB_URL);
    ck_assert_ptr_null(strstr(t.f.logs, "2336412f37fb")); /* the token is never logged */
    /* SNS could not take the confirmation: 5xx, so it sends it again. */
    t.get_status = 500;
    ck_assert_int_eq(post(&t, "SubscriptionConfirmation", body, err, sizeof err), 502);
    free(body);

    /* A SubscribeURL elsewhere than the certificate's host. */
    f.subscribe_url = "https://evil.example/?Action=ConfirmSubscription";
    body = sns_signed_body(&f, th_key);
    ck_assert_int_eq(post(&t, "SubscriptionConfirmation", body, err, sizeof err), 403);
    ck_assert_int_eq(t.other_gets, 2);
    free(body);

    /* UnsubscribeConfirmation: noted, nothing fetched. */
    confirmation_fields(&f, "UnsubscribeConfirmation", 2);
    body = sns_signed_body(&f, th_key);
    ck_assert_int_eq(post(&t, "UnsubscribeConfirmation", body, err, sizeof err), 200);
    ck_assert_int_eq(t.other_gets, 2);
    ck_assert_int_eq(t.f.emits, 0);
    free(body);
    stop(&t, self);
}
END_TEST

START_TEST(test_answers_after_emit)
{
    struct th t;
    struct conf c;
    struct sns_fields f;
    char *msg = read_fixture("alarm_insufficient.json"), *body, err[256];
    void *self;

    conf_default(&c);
    self = start(&t, &c);
    /* Saturated: 503 with Retry-After, so SNS retries. */
    t.f.emit_rc = TOCSIN_EBUSY;
    notification_fields(&f, "hello", 2);
    body = sns_signed_body(&f, th_key);
    ck_assert_int_eq(post(&t, "Notification", body, err, sizeof err), 1503);
    free(body);
    /* INSUFFICIENT_DATA is ignored by default: 200, nothing emitted. */
    t.f.emit_rc = TOCSIN_OK;
    t.f.emits = 0;
    notification_fields(&f, msg, 2);
    body = sns_signed_body(&f, th_key);
    ck_assert_int_eq(post(&t, "Notification", body, err, sizeof err), 200);
    ck_assert_int_eq(t.f.emits, 0);
    free(body);
    stop(&t, self);
    free(msg);
}
END_TEST

/* SNS retries for up to an hour: an ALARM whose first delivery failed can
 * arrive after the OK that followed it, and must not reopen the incident. */
START_TEST(test_late_alarm_does_not_reopen)
{
    struct th t;
    struct conf c;
    struct sns_fields f;
    char *alarm = read_fixture("alarm_metric.json"), *ok = read_fixture("alarm_metric_ok.json");
    char *alarm_body, *ok_body, err[256];
    void *self;

    conf_default(&c);
    self = start(&t, &c);
    notification_fields(&f, alarm, 2);
    alarm_body = sns_signed_body(&f, th_key);
    notification_fields(&f, ok, 2);
    f.message_id = "second";
    ok_body = sns_signed_body(&f, th_key);

    /* The ALARM's first delivery fails (the core is saturated). */
    t.f.emit_rc = TOCSIN_EBUSY;
    ck_assert_int_eq(post(&t, "Notification", alarm_body, err, sizeof err), 1503);
    t.f.emit_rc = TOCSIN_OK;
    ck_assert_int_eq(post(&t, "Notification", ok_body, err, sizeof err), 200);
    ck_assert_int_eq(t.f.emits, 2);
    ck_assert_str_eq(jstr(t.emitted, "status"), "resolved");
    /* Its retry: accepted (200, so SNS stops) but not stored. */
    ck_assert_int_eq(post(&t, "Notification", alarm_body, err, sizeof err), 200);
    ck_assert_int_eq(t.f.emits, 2);
    /* The OK again (a retry of a delivered one): stored again, harmless. */
    ck_assert_int_eq(post(&t, "Notification", ok_body, err, sizeof err), 200);
    ck_assert_int_eq(t.f.emits, 3);
    free(alarm_body);
    free(ok_body);
    stop(&t, self);
    free(alarm);
    free(ok);
}
END_TEST

START_TEST(test_severity_map)
{
    static const struct tocsin_kv sev[] = { { "alarm", "critical" }, { "notification", "low" } };
    struct th t;
    struct conf c;
    struct sns_fields f;
    char *msg = read_fixture("alarm_metric.json"), *body, err[256];
    void *self;

    conf_default(&c);
    c.severity.n = 2;
    c.severity.items = sev;
    self = start(&t, &c);
    notification_fields(&f, msg, 2);
    body = sns_signed_body(&f, th_key);
    ck_assert_int_eq(post(&t, "Notification", body, err, sizeof err), 200);
    ck_assert_str_eq(jstr(t.emitted, "severity"), "critical");
    free(body);
    notification_fields(&f, "plain text", 2);
    body = sns_signed_body(&f, th_key);
    ck_assert_int_eq(post(&t, "Notification", body, err, sizeof err), 200);
    ck_assert_str_eq(jstr(t.emitted, "severity"), "low");
    free(body);
    stop(&t, self);
    free(msg);
}
END_TEST

START_TEST(test_bad_options_fail_create)
{
    static const struct tocsin_kv bad_kind[] = { { "warning", "high" } };
    static const struct tocsin_kv bad_sev[] = { { "alarm", "loud" } };
    static const char *const not_arn[] = { "ops-alarms" };
    struct th t;
    struct conf c;
    void *self = NULL;

    th_init(&t);
    conf_default(&c);
    c.insufficient_data = "maybe";
    ck_assert_int_ne(tocsin_plugin.create(&t.f.host, &c, &self), TOCSIN_OK);
    ck_assert_ptr_nonnull(strstr(t.f.failed, "insufficient_data must be"));

    conf_default(&c);
    c.severity.n = 1;
    c.severity.items = bad_kind;
    ck_assert_int_ne(tocsin_plugin.create(&t.f.host, &c, &self), TOCSIN_OK);
    ck_assert_ptr_nonnull(strstr(t.f.failed, "severity: unknown kind \"warning\""));
    c.severity.items = bad_sev;
    ck_assert_int_ne(tocsin_plugin.create(&t.f.host, &c, &self), TOCSIN_OK);
    ck_assert_ptr_nonnull(strstr(t.f.failed, "severity.alarm: \"loud\""));

    conf_default(&c);
    c.topics.items = not_arn;
    ck_assert_int_ne(tocsin_plugin.create(&t.f.host, &c, &self), TOCSIN_OK);
    ck_assert_ptr_nonnull(strstr(t.f.failed, "\"ops-alarms\" is not a TopicArn"));

    conf_default(&c);
    c.cert_url_allow = "^https://(unclosed";
    ck_assert_int_ne(tocsin_plugin.create(&t.f.host, &c, &self), TOCSIN_OK);
    ck_assert_ptr_nonnull(strstr(t.f.failed, "cert_url_allow: "));

    /* A 1.0 host: refused, saying why. */
    conf_default(&c);
    t.f.host.size = (uint32_t)offsetof(struct tocsin_host, emit_sized);
    ck_assert_int_ne(tocsin_plugin.create(&t.f.host, &c, &self), TOCSIN_OK);
    ck_assert_ptr_nonnull(strstr(t.f.failed, "needs tocsin ABI 1.1"));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("cloudwatch");
    TCase *tc = tcase_create("envelope");

    tcase_add_test(tc, test_string_to_sign_notification);
    tcase_add_test(tc, test_string_to_sign_confirmations);
    tcase_add_test(tc, test_envelope_errors_name_the_field);
    tcase_add_test(tc, test_origin_and_arn);
    suite_add_tcase(s, tc);
    tc = tcase_create("alarm");
    tcase_add_test(tc, test_metric_alarm_fires);
    tcase_add_test(tc, test_ok_resolves_the_same_key);
    tcase_add_test(tc, test_metric_math_alarm);
    tcase_add_test(tc, test_composite_alarm);
    tcase_add_test(tc, test_insufficient_data_as_configured);
    tcase_add_test(tc, test_legacy_alarm_without_arn);
    tcase_add_test(tc, test_other_messages_are_generic);
    tcase_add_test(tc, test_state_change_time);
    suite_add_tcase(s, tc);
    tc = tcase_create("plugin");
    tcase_add_test(tc, test_signed_notifications_are_stored);
    tcase_add_test(tc, test_tampering_is_401);
    tcase_add_test(tc, test_cert_url_rule_is_403);
    tcase_add_test(tc, test_other_topics_are_403);
    tcase_add_test(tc, test_stale_messages_are_401);
    tcase_add_test(tc, test_headers_must_agree);
    tcase_add_test(tc, test_subscription_is_confirmed);
    tcase_add_test(tc, test_answers_after_emit);
    tcase_add_test(tc, test_late_alarm_does_not_reopen);
    tcase_add_test(tc, test_severity_map);
    tcase_add_test(tc, test_bad_options_fail_create);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    int failed;

    /* No fork: the RSA key is made once for every test. */
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    sns_key_release(th_key);
    free(th_cert);
    return failed ? 1 : 0;
}
