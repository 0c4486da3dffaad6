/* test_sentry.c: the sentry input: every resource and action to alerts
 * (parse.c, against fixtures), and the plugin's authentication and
 * answers through a fake host (sentry.c, sign.c). Signatures are made
 * here with libcrypto directly, not with the plugin's code. */
#define _GNU_SOURCE
#include <check.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <tocsin/plugin.h>

#include "common.h"
#include "fake_host.h"
#include "parse.h"
#include "seen.h"
#include "sign.h"
#include "helpers.h"

extern const struct tocsin_plugin tocsin_plugin;

#define NOW 1795403700000LL /* 2026-11-23T03:15:00Z */
#define SECRET "c0ffee-client-secret-\xc3\xa9t\xc3\xa9"
#define LEGACY_TOKEN "legacy-token-0123456789abcdef"

/* ---- helpers -------------------------------------------------------------- */

static char *read_fixture(const char *name, size_t *len)
{
    return fixture_text("sentry", name, len);
}

static const struct sn_rules default_rules = { NULL, SN_FIRE, SN_RESOLVE, SN_FIRE, 0 };

/* Parses fixture name as resource with rules; expects rc. */
static int parse_fixture(const char *resource, const char *name, const struct sn_rules *rules,
                         struct sn_result *r)
{
    size_t len;
    char *body = read_fixture(name, &len);
    int rc = sn_parse_hook(resource, body, len, rules, NOW, r);

    free(body);
    return rc;
}

static const char *label(const struct sn_result *r, const char *key)
{
    return tocsin_kv_get(r->alert.labels, r->alert.n_labels, key);
}

static const char *link_of(const struct sn_result *r, const char *key)
{
    return tocsin_kv_get(r->alert.links, r->alert.n_links, key);
}

static void hmac_hex(const char *key, const char *body, size_t len, char out[65])
{
    unsigned char mac[32];
    unsigned int n = 0, i;

    ck_assert_ptr_nonnull(HMAC(EVP_sha256(), key, (int)strlen(key),
                               (const unsigned char *)body, len, mac, &n));
    ck_assert_uint_eq(n, 32);
    for (i = 0; i < 32; i++)
        sprintf(out + 2 * i, "%02x", mac[i]);
}

/* ---- parse.c --------------------------------------------------------------- */

START_TEST(test_event_alert_fires_on_the_issue)
{
    struct sn_result r;

    ck_assert_int_eq(parse_fixture("event_alert", "event_alert.json", &default_rules, &r),
                     TOCSIN_OK);
    ck_assert_uint_eq(r.n_alerts, 1);
    ck_assert_str_eq(r.alert.dedup_key, "sentry:issue:1117540176");
    ck_assert_int_eq(r.alert.status, TOCSIN_FIRING);
    ck_assert_int_eq(r.alert.severity, TOCSIN_SEV_HIGH); /* level error */
    ck_assert_str_eq(r.alert.summary, "ZeroDivisionError: division by zero");
    ck_assert_ptr_nonnull(strstr(r.alert.details, "billing.invoice in compute_total"));
    ck_assert_str_eq(label(&r, "alertname"), "Send a notification for new issues");
    ck_assert_str_eq(label(&r, "environment"), "production");
    ck_assert_str_eq(label(&r, "release"), "api@2.14.0");
    ck_assert_str_eq(label(&r, "level"), "error");
    ck_assert_str_eq(link_of(&r, "generator"),
                     "https://sentry.io/organizations/acme/issues/1117540176/events/"
                     "cb7b1a9a3a1e4d0f9a52d6b1f2a8a3e1/");
    ck_assert_int_eq(r.alert.started_at, 1795403462123LL);
    sn_result_free(&r);
}
END_TEST

START_TEST(test_metric_alert_critical_warning_resolved)
{
    struct sn_result r;

    ck_assert_int_eq(parse_fixture("metric_alert", "metric_alert_critical.json",
                                   &default_rules, &r), TOCSIN_OK);
    ck_assert_uint_eq(r.n_alerts, 1);
    ck_assert_str_eq(r.alert.dedup_key, "sentry:metric_alert:7021");
    ck_assert_int_eq(r.alert.status, TOCSIN_FIRING);
    ck_assert_int_eq(r.alert.severity, TOCSIN_SEV_CRITICAL);
    ck_assert_str_eq(r.alert.summary, "Critical: API p95 latency");
    ck_assert_ptr_nonnull(strstr(r.alert.details, "1420ms p95"));
    ck_assert_str_eq(label(&r, "alertname"), "API p95 latency");
    ck_assert_str_eq(link_of(&r, "generator"),
                     "https://sentry.io/organizations/acme/alerts/rules/details/1234/");
    ck_assert_int_eq(r.alert.started_at, 1795403400000LL);
    sn_result_free(&r);

    ck_assert_int_eq(parse_fixture("metric_alert", "metric_alert_warning.json",
                                   &default_rules, &r), TOCSIN_OK);
    ck_assert_str_eq(r.alert.dedup_key, "sentry:metric_alert:7021");
    ck_assert_int_eq(r.alert.status, TOCSIN_FIRING);
    ck_assert_int_eq(r.alert.severity, TOCSIN_SEV_MEDIUM);
    sn_result_free(&r);

    ck_assert_int_eq(parse_fixture("metric_alert", "metric_alert_resolved.json",
                                   &default_rules, &r), TOCSIN_OK);
    ck_assert_str_eq(r.alert.dedup_key, "sentry:metric_alert:7021");
    ck_assert_int_eq(r.alert.status, TOCSIN_RESOLVED);
    ck_assert_int_eq(r.alert.ended_at, 1795404660000LL); /* 03:31:00Z */
    sn_result_free(&r);
}
END_TEST

START_TEST(test_issue_actions_with_default_rules)
{
    static const struct {
        const char *file;
        size_t n;
        enum tocsin_status status;
    } cases[] = {
        { "issue_created.json", 1, TOCSIN_FIRING },
        { "issue_resolved.json", 1, TOCSIN_RESOLVED },
        { "issue_ignored.json", 1, TOCSIN_RESOLVED },
        { "issue_archived.json", 1, TOCSIN_RESOLVED },
        { "issue_unresolved.json", 1, TOCSIN_FIRING },
        { "issue_assigned.json", 0, TOCSIN_FIRING },
    };
    struct sn_result r;
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ck_assert_int_eq(parse_fixture("issue", cases[i].file, &default_rules, &r), TOCSIN_OK);
        ck_assert_msg(r.n_alerts == cases[i].n, "%s: %zu alerts", cases[i].file, r.n_alerts);
        if (cases[i].n) {
            ck_assert_str_eq(r.alert.dedup_key, "sentry:issue:1117540176");
            ck_assert_int_eq(r.alert.status, cases[i].status);
            ck_assert_str_eq(r.alert.summary, "ZeroDivisionError: division by zero");
            ck_assert_str_eq(label(&r, "project"), "api");
            ck_assert_str_eq(label(&r, "short_id"), "API-3F");
            ck_assert_str_eq(r.alert.service, "api");
            ck_assert_str_eq(link_of(&r, "generator"),
                             "https://sentry.io/organizations/acme/issues/1117540176/");
        } else {
            ck_assert_ptr_nonnull(strstr(r.ignored, "assigned"));
        }
        sn_result_free(&r);
    }
}
END_TEST

START_TEST(test_issue_rules_can_ignore)
{
    struct sn_rules rules = { NULL, SN_IGNORE, SN_IGNORE, SN_IGNORE, 0 };
    const char *files[] = { "issue_created.json", "issue_ignored.json", "issue_archived.json",
                            "issue_unresolved.json" };
    struct sn_result r;
    size_t i;

    for (i = 0; i < 4; i++) {
        ck_assert_int_eq(parse_fixture("issue", files[i], &rules, &r), TOCSIN_OK);
        ck_assert_msg(r.n_alerts == 0, "%s", files[i]);
        ck_assert_ptr_nonnull(strstr(r.ignored, "configured to ignore"));
        sn_result_free(&r);
    }
    /* resolved always resolves */
    ck_assert_int_eq(parse_fixture("issue", "issue_resolved.json", &rules, &r), TOCSIN_OK);
    ck_assert_uint_eq(r.n_alerts, 1);
    sn_result_free(&r);
}
END_TEST

START_TEST(test_other_resources_are_ignored_unparsed)
{
    const char *resources[] = { "installation", "error", "comment", "seer", "activity_alert" };
    struct sn_result r;
    size_t i;

    for (i = 0; i < 5; i++) {
        ck_assert_int_eq(sn_parse_hook(resources[i], "not even json", 13, &default_rules, NOW,
                                       &r), TOCSIN_OK);
        ck_assert_uint_eq(r.n_alerts, 0);
        ck_assert_ptr_nonnull(strstr(r.ignored, resources[i]));
        sn_result_free(&r);
    }
    ck_assert_int_eq(parse_fixture("installation", "installation_created.json",
                                   &default_rules, &r), TOCSIN_OK);
    ck_assert_uint_eq(r.n_alerts, 0);
    sn_result_free(&r);
    /* A known resource with an action nobody maps. */
    ck_assert_int_eq(sn_parse_hook("metric_alert", "{\"action\":\"new_thing\",\"data\":{}}",
                                   strlen("{\"action\":\"new_thing\",\"data\":{}}"),
                                   &default_rules, NOW, &r), TOCSIN_OK);
    ck_assert_uint_eq(r.n_alerts, 0);
    sn_result_free(&r);
}
END_TEST

START_TEST(test_bad_bodies_name_the_field)
{
    static const struct {
        const char *resource, *body, *error, *detail;
    } cases[] = {
        { NULL, "{}", "missing header", "Sentry-Hook-Resource" },
        { "issue", "{\"action\":", "malformed JSON", "line 1" },
        { "issue", "[]", "body must be a JSON object", "" },
        { "issue", "{\"action\":\"created\"}", "missing field", "data" },
        { "issue", "{\"action\":\"created\",\"data\":[]}", "wrong type", "data" },
        { "issue", "{\"action\":7,\"data\":{}}", "wrong type", "action" },
        { "issue", "{\"action\":\"created\",\"data\":{}}", "missing field", "data.issue" },
        { "issue", "{\"action\":\"created\",\"data\":{\"issue\":{\"title\":\"x\"}}}",
          "missing field", "data.issue.id" },
        { "issue", "{\"action\":\"created\",\"data\":{\"issue\":{\"id\":true}}}",
          "wrong type", "data.issue.id" },
        { "issue", "{\"action\":\"created\",\"data\":{\"issue\":{\"id\":\"1\"}}}",
          "missing field", "data.issue.title" },
        { "event_alert", "{\"action\":\"triggered\",\"data\":{\"event\":{\"title\":\"x\"}}}",
          "missing field", "data.event.issue_id" },
        { "metric_alert", "{\"action\":\"critical\",\"data\":{\"metric_alert\":{}}}",
          "missing field", "data.metric_alert.id" },
    };
    struct sn_result r;
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ck_assert_int_eq(sn_parse_hook(cases[i].resource, cases[i].body, strlen(cases[i].body),
                                       &default_rules, NOW, &r), TOCSIN_EINVAL);
        ck_assert_str_eq(r.error, cases[i].error);
        ck_assert_msg(strncmp(r.detail, cases[i].detail, strlen(cases[i].detail)) == 0,
                      "case %zu: detail \"%s\"", i, r.detail);
        sn_result_free(&r);
    }
}
END_TEST

START_TEST(test_severity_map)
{
    static const struct tocsin_kv items[] = { { "error", "critical" }, { "Warning", "low" },
                                              { "critical", "high" } };
    static const struct tocsin_map map = { 3, items };
    struct sn_rules rules = default_rules;
    struct sn_result r;

    ck_assert_int_eq(sn_severity(NULL, "fatal"), TOCSIN_SEV_CRITICAL);
    ck_assert_int_eq(sn_severity(NULL, "error"), TOCSIN_SEV_HIGH);
    ck_assert_int_eq(sn_severity(NULL, "warning"), TOCSIN_SEV_MEDIUM);
    ck_assert_int_eq(sn_severity(NULL, "info"), TOCSIN_SEV_INFO);
    ck_assert_int_eq(sn_severity(NULL, "debug"), TOCSIN_SEV_INFO);
    ck_assert_int_eq(sn_severity(NULL, NULL), TOCSIN_SEV_HIGH);
    ck_assert_int_eq(sn_severity(&map, "ERROR"), TOCSIN_SEV_CRITICAL);
    ck_assert_int_eq(sn_severity(&map, "warning"), TOCSIN_SEV_LOW);
    ck_assert_int_eq(sn_severity(&map, "fatal"), TOCSIN_SEV_CRITICAL);
    rules.severity = &map;
    ck_assert_int_eq(parse_fixture("event_alert", "event_alert.json", &rules, &r), TOCSIN_OK);
    ck_assert_int_eq(r.alert.severity, TOCSIN_SEV_CRITICAL);
    sn_result_free(&r);
    ck_assert_int_eq(parse_fixture("metric_alert", "metric_alert_critical.json", &rules, &r),
                     TOCSIN_OK);
    ck_assert_int_eq(r.alert.severity, TOCSIN_SEV_HIGH);
    sn_result_free(&r);
}
END_TEST

START_TEST(test_legacy_payload)
{
    struct sn_rules rules = default_rules;
    struct sn_result r;
    size_t len;
    char *body = read_fixture("legacy.json", &len);

    rules.legacy_expire_ms = 3600000;
    ck_assert_int_eq(sn_parse_legacy(body, len, &rules, NOW, &r), TOCSIN_OK);
    ck_assert_uint_eq(r.n_alerts, 1);
    ck_assert_str_eq(r.alert.dedup_key, "sentry:issue:1117540176");
    ck_assert_int_eq(r.alert.status, TOCSIN_FIRING);
    ck_assert_int_eq(r.alert.severity, TOCSIN_SEV_HIGH);
    ck_assert_str_eq(r.alert.summary, "ZeroDivisionError: division by zero");
    ck_assert_str_eq(label(&r, "alertname"), "Send a notification for new issues");
    ck_assert_str_eq(label(&r, "project"), "api");
    ck_assert_str_eq(link_of(&r, "generator"), "https://sentry.io/organizations/acme/issues/"
                     "1117540176/?referrer=webhooks_plugin");
    ck_assert_int_eq(r.alert.started_at, 1795403462123LL);
    ck_assert_int_eq(r.alert.expires_at, NOW + 3600000);
    sn_result_free(&r);
    free(body);
    ck_assert_int_eq(sn_parse_legacy("{\"message\":\"x\"}", 15, &rules, NOW, &r),
                     TOCSIN_EINVAL);
    ck_assert_str_eq(r.detail, "id");
    sn_result_free(&r);
}
END_TEST

/* ---- sign.c ------------------------------------------------------------------- */

/* RFC 4231 test case 2, and the plugin against libcrypto here. */
START_TEST(test_signature_known_answer)
{
    const char *data = "what do ya want for nothing?";
    char hex[65];

    ck_assert_int_eq(sn_signature("Jefe", data, strlen(data), hex), 0);
    ck_assert_str_eq(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    ck_assert(sn_signature_ok("Jefe", data, strlen(data),
                              "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843"));
    ck_assert(!sn_signature_ok("Jefe", data, strlen(data) - 1, hex));
    ck_assert(!sn_signature_ok("Jeff", data, strlen(data), hex));
    ck_assert(!sn_signature_ok("Jefe", data, strlen(data), "5bdc"));
    ck_assert(sn_token_ok("abc", "abc"));
    ck_assert(!sn_token_ok("abc", "abd"));
    ck_assert(!sn_token_ok("abc", "abcd"));
    ck_assert(!sn_token_ok("abc", NULL));
    ck_assert(!sn_token_ok("", ""));
}
END_TEST

/* ---- seen.c ------------------------------------------------------------------ */

START_TEST(test_seen_remembers_the_latest_ids)
{
    static struct sn_seen s; /* large: not on the stack */
    char id[40];
    int i;

    sn_seen_init(&s);
    ck_assert(!sn_seen_has(&s, "0123456789abcdef0123456789abcdef"));
    sn_seen_add(&s, "0123456789abcdef0123456789abcdef");
    ck_assert(sn_seen_has(&s, "0123456789abcdef0123456789abcdef"));
    ck_assert(!sn_seen_has(&s, "0123456789abcdef0123456789abcdee"));
    ck_assert(!sn_seen_valid(NULL));
    ck_assert(!sn_seen_valid(""));
    ck_assert(!sn_seen_valid("not hex"));
    sn_seen_add(&s, "not hex");
    ck_assert(!sn_seen_has(&s, "not hex"));
    for (i = 0; i < SN_SEEN_MAX; i++) {
        snprintf(id, sizeof id, "%08x", i);
        sn_seen_add(&s, id);
    }
    ck_assert(!sn_seen_has(&s, "0123456789abcdef0123456789abcdef")); /* pushed out */
    ck_assert(sn_seen_has(&s, "00000000"));
    sn_seen_destroy(&s);
}
END_TEST

/* ---- sentry.c through a fake host ------------------------------------------- */

struct rec_host {
    struct fake_host f; /* first */
    char key[128], summary[512];
    enum tocsin_status status;
    enum tocsin_severity severity;
};

static int rec_emit(const struct tocsin_host *h, const struct tocsin_alert *a, size_t n,
                    char *err, size_t errlen)
{
    struct rec_host *r = (struct rec_host *)(void *)h;

    r->f.emits++;
    r->f.emitted = n;
    snprintf(r->key, sizeof r->key, "%s", a[0].dedup_key);
    snprintf(r->summary, sizeof r->summary, "%s", a[0].summary);
    r->status = a[0].status;
    r->severity = a[0].severity;
    if (r->f.emit_err)
        snprintf(err, errlen, "%s", r->f.emit_err);
    return r->f.emit_rc;
}

struct route_rec {
    char path[128];
    tocsin_route_fn fn;
    void *self;
};
static struct route_rec routes[4];
static int n_routes;

static int rec_route(const struct tocsin_host *h, const char *method, const char *path,
                     tocsin_route_fn fn, void *self)
{
    (void)h;
    ck_assert_str_eq(method, "POST");
    ck_assert_int_lt(n_routes, 4);
    snprintf(routes[n_routes].path, sizeof routes[n_routes].path, "%s", path);
    routes[n_routes].fn = fn;
    routes[n_routes].self = self;
    n_routes++;
    return TOCSIN_OK;
}

struct conf_view {
    const char *path, *client_secret;
    int64_t timestamp_tolerance;
    struct tocsin_map severity;
    const char *created, *archived, *unresolved, *legacy_path, *legacy_token;
    int64_t legacy_expire;
};

/* The conf struct as the core fills it, from the option table. */
static void *conf_new(const char *legacy_path, int64_t tolerance)
{
    const struct tocsin_option *o;
    char *conf = calloc(1, tocsin_plugin.conf_size);

    ck_assert_ptr_nonnull(conf);
    for (o = tocsin_plugin.options; o->name; o++) {
        void *p = conf + o->offset;

        if (o->type == TOCSIN_OPT_STRING)
            *(const char **)p = o->def;
        else if (o->type == TOCSIN_OPT_DURATION)
            *(int64_t *)p = strcmp(o->name, "timestamp_tolerance") == 0 ? tolerance : 0;
        if (strcmp(o->name, "client_secret") == 0)
            *(const char **)p = SECRET;
        if (strcmp(o->name, "legacy_path") == 0)
            *(const char **)p = legacy_path;
        if (strcmp(o->name, "legacy_token") == 0)
            *(const char **)p = LEGACY_TOKEN;
    }
    return conf;
}

struct served {
    struct rec_host h;
    void *conf, *self;
    struct tocsin_http_response resp;
};

static void served_start(struct served *s, const char *legacy_path, int64_t tolerance)
{
    memset(s, 0, sizeof *s);
    n_routes = 0;
    fake_host_init(&s->h.f, "sentry", NOW);
    s->h.f.host.size = sizeof(struct tocsin_host);
    s->h.f.host.emit = rec_emit;
    s->h.f.host.route_self_auth = rec_route;
    s->conf = conf_new(legacy_path, tolerance);
    ck_assert_int_eq(tocsin_plugin.create(&s->h.f.host, s->conf, &s->self), TOCSIN_OK);
}

static void served_end(struct served *s)
{
    free(s->resp.body);
    tocsin_plugin.destroy(s->self);
    free(s->conf);
}

/* The request's headers: "Name: value" strings, NULL-terminated. */
struct req_ctx {
    const char *const *headers;
    const char *token;
};

static const char *req_header(const struct tocsin_http_request *req, const char *name)
{
    const struct req_ctx *c = req->core;
    size_t n = strlen(name), i;

    for (i = 0; c->headers && c->headers[i]; i++)
        if (strncasecmp(c->headers[i], name, n) == 0 && c->headers[i][n] == ':')
            return c->headers[i] + n + 2;
    return NULL;
}

static const char *req_query(const struct tocsin_http_request *req, const char *name)
{
    const struct req_ctx *c = req->core;

    return strcmp(name, "token") == 0 ? c->token : NULL;
}

static int post(struct served *s, int route, const char *body, size_t len,
                const char *const *headers, const char *token)
{
    struct tocsin_http_request req;
    struct req_ctx c = { headers, token };

    free(s->resp.body);
    memset(&s->resp, 0, sizeof s->resp);
    memset(&req, 0, sizeof req);
    req.method = "POST";
    req.path = routes[route].path;
    req.body = body;
    req.body_len = len;
    req.remote_addr = "127.0.0.1";
    req.header = req_header;
    req.query = req_query;
    req.core = &c;
    ck_assert_int_eq(routes[route].fn(routes[route].self, &req, &s->resp), TOCSIN_OK);
    return s->resp.status;
}

/* POSTs a body signed with secret, as resource, stamped at ts (s). */
static int post_signed(struct served *s, const char *resource, const char *body, size_t len,
                       const char *secret, long long ts)
{
    char sig[65], h_sig[100], h_res[100], h_ts[64];
    const char *headers[] = { h_sig, h_res, h_ts, "Request-ID: 0123456789abcdef0123456789abcdef",
                              "Content-Type: application/json", NULL };

    hmac_hex(secret, body, len, sig);
    snprintf(h_sig, sizeof h_sig, "Sentry-Hook-Signature: %s", sig);
    snprintf(h_res, sizeof h_res, "Sentry-Hook-Resource: %s", resource);
    snprintf(h_ts, sizeof h_ts, "Sentry-Hook-Timestamp: %lld", ts);
    return post(s, 0, body, len, headers, NULL);
}

START_TEST(test_registers_self_authenticated_routes)
{
    struct served s;

    served_start(&s, NULL, 300000);
    ck_assert_int_eq(n_routes, 1);
    ck_assert_str_eq(routes[0].path, "/hooks/sentry");
    served_end(&s);
    served_start(&s, "/hooks/sentry/legacy", 300000);
    ck_assert_int_eq(n_routes, 2);
    ck_assert_str_eq(routes[1].path, "/hooks/sentry/legacy");
    served_end(&s);
}
END_TEST

/* The signature covers the bytes as sent: raw UTF-8 and \u escapes that a
 * re-serialisation would change. */
START_TEST(test_signed_exact_bytes_are_accepted)
{
    const char *files[] = { "event_alert_unicode.json", "event_alert_escapes.json",
                            "event_alert.json" };
    const char *summaries[] = {
        "Fehler beim \xc3\x96" "ffnen der Datei \xe2\x80\x9e\xc3\x9c" "berweisung.pdf\xe2\x80\x9c"
        " \xe2\x80\x94 \xe6\x96\x87\xe4\xbb\xb6\xe6\x9c\xaa\xe6\x89\xbe\xe5\x88\xb0 \xf0\x9f\x9a\xa8",
        "Fehler beim \xc3\x96" "ffnen \xe2\x80\x9e\xc3\x9c" "berweisung.pdf\xe2\x80\x9c \xe2\x80\x94"
        " \xe6\x96\x87\xe4\xbb\xb6 \xf0\x9f\x9a\xa8 \"quoted\" /path",
        "ZeroDivisionError: division by zero",
    };
    struct served s;
    size_t i, len;

    for (i = 0; i < 3; i++) {
        char *body = read_fixture(files[i], &len);

        served_start(&s, NULL, 300000);
        ck_assert_int_eq(post_signed(&s, "event_alert", body, len, SECRET, NOW / 1000 - 20),
                         200);
        ck_assert_int_eq(s.h.f.emits, 1);
        ck_assert_str_eq(s.h.summary, summaries[i]);
        served_end(&s);
        free(body);
    }
}
END_TEST

START_TEST(test_wrong_or_missing_signature_is_401)
{
    struct served s;
    size_t len;
    char *body = read_fixture("event_alert_escapes.json", &len);
    char *other;
    char sig[65], h_sig[100];
    const char *no_sig[] = { "Sentry-Hook-Resource: event_alert", NULL };
    const char *bad_sig[] = { h_sig, "Sentry-Hook-Resource: event_alert", NULL };

    served_start(&s, NULL, 0);
    ck_assert_int_eq(post_signed(&s, "event_alert", body, len, "another secret", 0), 401);
    ck_assert_int_eq(post(&s, 0, body, len, no_sig, NULL), 401);
    ck_assert_ptr_nonnull(strstr(s.resp.body, "missing Sentry-Hook-Signature"));
    /* Signed over the decoded-and-re-encoded text: not what was sent. */
    other = strdup(body);
    memcpy(strstr(other, "\\u00d6"), "\\u00D6", 6);
    hmac_hex(SECRET, other, len, sig);
    snprintf(h_sig, sizeof h_sig, "Sentry-Hook-Signature: %s", sig);
    ck_assert_int_eq(post(&s, 0, body, len, bad_sig, NULL), 401);
    ck_assert_int_eq(s.h.f.emits, 0);
    ck_assert_ptr_nonnull(strstr(s.resp.body, "unauthorized"));
    /* A tampered body under a valid signature of the original. */
    hmac_hex(SECRET, body, len, sig);
    snprintf(h_sig, sizeof h_sig, "Sentry-Hook-Signature: %s", sig);
    ck_assert_int_eq(post(&s, 0, other, len, bad_sig, NULL), 401);
    ck_assert_int_eq(post(&s, 0, body, len, bad_sig, NULL), 200); /* tolerance 0: no check */
    ck_assert_int_eq(s.h.f.emits, 1);
    served_end(&s);
    free(other);
    free(body);
}
END_TEST

START_TEST(test_stale_or_missing_timestamp_is_401)
{
    struct served s;
    size_t len;
    char *body = read_fixture("metric_alert_critical.json", &len);
    char sig[65], h_sig[100];
    const char *no_ts[] = { h_sig, "Sentry-Hook-Resource: metric_alert", NULL };

    served_start(&s, NULL, 300000);
    ck_assert_int_eq(post_signed(&s, "metric_alert", body, len, SECRET, NOW / 1000 - 301), 401);
    ck_assert_ptr_nonnull(strstr(s.resp.body, "Sentry-Hook-Timestamp"));
    ck_assert_int_eq(post_signed(&s, "metric_alert", body, len, SECRET, NOW / 1000 + 301), 401);
    hmac_hex(SECRET, body, len, sig);
    snprintf(h_sig, sizeof h_sig, "Sentry-Hook-Signature: %s", sig);
    ck_assert_int_eq(post(&s, 0, body, len, no_ts, NULL), 401);
    ck_assert_int_eq(s.h.f.emits, 0);
    ck_assert_int_eq(post_signed(&s, "metric_alert", body, len, SECRET, NOW / 1000 - 299), 200);
    ck_assert_int_eq(s.h.f.emits, 1);
    ck_assert_str_eq(s.h.key, "sentry:metric_alert:7021");
    ck_assert_int_eq(s.h.severity, TOCSIN_SEV_CRITICAL);
    served_end(&s);
    free(body);
}
END_TEST

START_TEST(test_answers_ignored_invalid_and_saturated)
{
    struct served s;
    size_t len;
    char *body = read_fixture("installation_created.json", &len);
    const char *bad = "{\"action\":\"created\",\"data\":{\"issue\":{\"id\":\"9\"}}}";

    served_start(&s, NULL, 300000);
    ck_assert_int_eq(post_signed(&s, "installation", body, len, SECRET, NOW / 1000), 200);
    ck_assert_int_eq(s.h.f.emits, 0);
    ck_assert_int_eq(post_signed(&s, "issue", bad, strlen(bad), SECRET, NOW / 1000), 400);
    ck_assert_ptr_nonnull(strstr(s.resp.body, "data.issue.title"));
    free(body);
    body = read_fixture("issue_resolved.json", &len);
    s.h.f.emit_rc = TOCSIN_EBUSY;
    ck_assert_int_eq(post_signed(&s, "issue", body, len, SECRET, NOW / 1000), 503);
    ck_assert_int_eq(s.resp.retry_after, 1);
    s.h.f.emit_rc = TOCSIN_OK;
    ck_assert_int_eq(post_signed(&s, "issue", body, len, SECRET, NOW / 1000), 200);
    ck_assert_int_eq(s.h.status, TOCSIN_RESOLVED);
    ck_assert_str_eq(s.h.key, "sentry:issue:1117540176");
    ck_assert_int_eq(s.h.f.emits, 2);
    /* The same Request-ID again: a retry, answered without storing twice. */
    ck_assert_int_eq(post_signed(&s, "issue", body, len, SECRET, NOW / 1000), 200);
    ck_assert_int_eq(s.h.f.emits, 2);
    served_end(&s);
    free(body);
}
END_TEST

START_TEST(test_legacy_route_takes_its_token)
{
    struct served s;
    size_t len;
    char *body = read_fixture("legacy.json", &len);

    served_start(&s, "/hooks/sentry/legacy", 300000);
    ck_assert_int_eq(post(&s, 1, body, len, NULL, NULL), 401);
    ck_assert_int_eq(post(&s, 1, body, len, NULL, "legacy-token-0123456789abcdeF"), 401);
    ck_assert_int_eq(post(&s, 1, body, len, NULL, SECRET), 401);
    ck_assert_int_eq(s.h.f.emits, 0);
    ck_assert_int_eq(post(&s, 1, body, len, NULL, LEGACY_TOKEN), 200);
    ck_assert_int_eq(s.h.f.emits, 1);
    ck_assert_str_eq(s.h.key, "sentry:issue:1117540176");
    /* The token does not open the signed route. */
    ck_assert_int_eq(post(&s, 0, body, len, NULL, LEGACY_TOKEN), 401);
    served_end(&s);
    free(body);
}
END_TEST

START_TEST(test_create_refuses_bad_options)
{
    struct served s;
    struct conf_view *cv;

    memset(&s, 0, sizeof s);
    fake_host_init(&s.h.f, "sentry", NOW);
    s.h.f.host.route_self_auth = rec_route;
    s.conf = conf_new("/hooks/sentry/legacy", 300000);
    cv = s.conf;
    ck_assert_uint_eq(sizeof *cv, tocsin_plugin.conf_size);
    cv->legacy_token = "short";
    ck_assert_int_eq(tocsin_plugin.create(&s.h.f.host, s.conf, &s.self), TOCSIN_ERROR);
    ck_assert_ptr_nonnull(strstr(s.h.f.failed, "legacy_token"));
    cv->legacy_token = LEGACY_TOKEN;
    cv->archived = "fire";
    ck_assert_int_eq(tocsin_plugin.create(&s.h.f.host, s.conf, &s.self), TOCSIN_ERROR);
    ck_assert_ptr_nonnull(strstr(s.h.f.failed, "on_issue_archived must be \"resolve\" or"));
    cv->archived = "resolve";
    {
        static const struct tocsin_kv bad_key[] = { { "fatl", "critical" } };
        static const struct tocsin_kv bad_value[] = { { "fatal", "urgent" } };

        cv->severity = (struct tocsin_map){ 1, bad_key };
        ck_assert_int_eq(tocsin_plugin.create(&s.h.f.host, s.conf, &s.self), TOCSIN_ERROR);
        ck_assert_ptr_nonnull(strstr(s.h.f.failed, "unknown key \"fatl\""));
        cv->severity = (struct tocsin_map){ 1, bad_value };
        ck_assert_int_eq(tocsin_plugin.create(&s.h.f.host, s.conf, &s.self), TOCSIN_ERROR);
        ck_assert_ptr_nonnull(strstr(s.h.f.failed, "\"urgent\" is not a severity"));
        cv->severity = (struct tocsin_map){ 0, NULL };
    }
    /* A host without route_self_auth (1.0) is refused by name. */
    s.h.f.host.size = (uint32_t)offsetof(struct tocsin_host, emit_sized);
    ck_assert_int_eq(tocsin_plugin.create(&s.h.f.host, s.conf, &s.self), TOCSIN_ERROR);
    ck_assert_ptr_nonnull(strstr(s.h.f.failed, "needs tocsin ABI 1.1"));
    free(s.conf);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sentry");
    TCase *parse = tcase_create("parse");
    TCase *plugin = tcase_create("plugin");
    SRunner *sr;
    int failed;

    tcase_add_test(parse, test_event_alert_fires_on_the_issue);
    tcase_add_test(parse, test_metric_alert_critical_warning_resolved);
    tcase_add_test(parse, test_issue_actions_with_default_rules);
    tcase_add_test(parse, test_issue_rules_can_ignore);
    tcase_add_test(parse, test_other_resources_are_ignored_unparsed);
    tcase_add_test(parse, test_bad_bodies_name_the_field);
    tcase_add_test(parse, test_severity_map);
    tcase_add_test(parse, test_legacy_payload);
    tcase_add_test(parse, test_signature_known_answer);
    tcase_add_test(parse, test_seen_remembers_the_latest_ids);
    suite_add_tcase(s, parse);
    tcase_add_test(plugin, test_registers_self_authenticated_routes);
    tcase_add_test(plugin, test_signed_exact_bytes_are_accepted);
    tcase_add_test(plugin, test_wrong_or_missing_signature_is_401);
    tcase_add_test(plugin, test_stale_or_missing_timestamp_is_401);
    tcase_add_test(plugin, test_answers_ignored_invalid_and_saturated);
    tcase_add_test(plugin, test_legacy_route_takes_its_token);
    tcase_add_test(plugin, test_create_refuses_bad_options);
    suite_add_tcase(s, plugin);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
