/* test_uptimerobot.c: the uptimerobot input: webhook values in their three
 * styles to alerts, getMonitors pages and the changes between polls
 * (parse.c, against fixtures), and the webhook's token and answers through
 * a fake host (uptimerobot.c). Polling over HTTP is in the integration
 * test against a fake API. */
#define _GNU_SOURCE
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <tocsin/plugin.h>

#include "common.h"
#include "fake_host.h"
#include "input.h"
#include "parse.h"
#include "helpers.h"

extern const struct tocsin_plugin tocsin_plugin;

#define NOW 1795411800000LL
#define TOKEN "9f2c41d7e8b0a6c3d5e7f9a1"

static const struct ur_rules rules = { NULL, "https://dashboard.uptimerobot.com/monitors/", 1 };

static char *read_fixture(const char *name, size_t *len)
{
    return fixture_text("uptimerobot", name, len);
}

static const char *label(const struct tocsin_alert *a, const char *key)
{
    return tocsin_kv_get(a->labels, a->n_labels, key);
}

/* ---- webhook values ---------------------------------------------------------- */

START_TEST(test_form_values_down)
{
    struct ur_fields f;
    struct ur_alert a;
    size_t len, n;
    char err[200], *body = read_fixture("webhook_down.query", &len);

    ck_assert_int_eq(ur_fields_from_form(body, len, &f), 0);
    ck_assert_str_eq(ur_fields_get(&f, "monitorURL"), "https://api.example.com/health");
    ck_assert_str_eq(ur_fields_get(&f, "alertDuration"), "");
    ck_assert_int_eq(ur_webhook_alert(&f, &rules, &a, &n, err, sizeof err), TOCSIN_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(a.alert.dedup_key, "uptimerobot:778899");
    ck_assert_int_eq(a.alert.status, TOCSIN_FIRING);
    ck_assert_int_eq(a.alert.severity, TOCSIN_SEV_HIGH);
    ck_assert_str_eq(a.alert.summary, "API health is down: HTTP 503 - Service Unavailable");
    ck_assert_int_eq(a.alert.started_at, 1795410765000LL);
    ck_assert_str_eq(label(&a.alert, "monitor_id"), "778899");
    ck_assert_str_eq(label(&a.alert, "url"), "https://api.example.com/health");
    ck_assert_str_eq(tocsin_kv_get(a.alert.links, a.alert.n_links, "generator"),
                     "https://dashboard.uptimerobot.com/monitors/778899");
    ur_fields_free(&f);
    free(body);
}
END_TEST

START_TEST(test_form_values_up_with_plus_and_escapes)
{
    struct ur_fields f;
    struct ur_alert a;
    size_t len, n;
    char err[200], *body = read_fixture("webhook_up.form", &len);

    ck_assert_int_eq(ur_fields_from_form(body, len, &f), 0);
    ck_assert_str_eq(ur_fields_get(&f, "monitorAlertContacts"), "457;2;ops@example.org");
    ck_assert_int_eq(ur_webhook_alert(&f, &rules, &a, &n, err, sizeof err), TOCSIN_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(a.alert.dedup_key, "uptimerobot:778899");
    ck_assert_int_eq(a.alert.status, TOCSIN_RESOLVED);
    ck_assert_str_eq(a.alert.summary, "API health is up");
    ck_assert_int_eq(a.alert.ended_at, 1795411519000LL);
    ck_assert_ptr_nonnull(strstr(a.alert.details, "12 minutes and 34 seconds"));
    ur_fields_free(&f);
    free(body);
}
END_TEST

START_TEST(test_json_values_ssl_on_its_own_key)
{
    static const struct tocsin_kv sev[] = { { "ssl", "low" } };
    static const struct tocsin_map map = { 1, sev };
    struct ur_rules r = rules;
    struct ur_fields f;
    struct ur_alert a;
    size_t len, n;
    char err[200], *body = read_fixture("webhook_ssl.json", &len);

    r.severity = &map;
    ck_assert_int_eq(ur_fields_from_json(body, len, &f, err, sizeof err), 0);
    ck_assert_str_eq(ur_fields_get(&f, "monitorID"), "778899"); /* a JSON number */
    ck_assert_int_eq(ur_webhook_alert(&f, &r, &a, &n, err, sizeof err), TOCSIN_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(a.alert.dedup_key, "uptimerobot:778899:ssl");
    ck_assert_int_eq(a.alert.status, TOCSIN_FIRING);
    ck_assert_int_eq(a.alert.severity, TOCSIN_SEV_LOW);
    ck_assert_str_eq(a.alert.summary,
                     "API health: SSL certificate expires 2026-11-30 (7 days left)");
    ur_fields_free(&f);
    free(body);
}
END_TEST

START_TEST(test_bad_and_unknown_values)
{
    static const struct {
        const char *form, *err;
        int rc;
        size_t n;
    } cases[] = {
        { "alertType=1", "monitorID: missing", TOCSIN_EINVAL, 0 },
        { "monitorID=abc&alertType=1", "monitorID: must be a number", TOCSIN_EINVAL, 0 },
        { "monitorID=12", "alertType: missing", TOCSIN_EINVAL, 0 },
        { "monitorID=12&alertType=*alertType*", "alertType: must be a number", TOCSIN_EINVAL, 0 },
        { "monitorID=12&alertType=4", "", TOCSIN_OK, 0 },
        { "monitorID=12&alertType=1", "", TOCSIN_OK, 1 },
    };
    struct ur_fields f;
    struct ur_alert a;
    size_t i, n;
    char err[200];

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err[0] = '\0';
        ck_assert_int_eq(ur_fields_from_form(cases[i].form, strlen(cases[i].form), &f), 0);
        ck_assert_int_eq(ur_webhook_alert(&f, &rules, &a, &n, err, sizeof err), cases[i].rc);
        ck_assert_str_eq(err, cases[i].err);
        ck_assert_uint_eq(n, cases[i].n);
        ur_fields_free(&f);
    }
    ck_assert_int_eq(ur_fields_from_json("[1]", 3, &f, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "JSON object"));
    ur_fields_free(&f);
    ck_assert_int_eq(ur_fields_from_json("{\"monitorID\":{}}", 16, &f, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "monitorID"));
    ur_fields_free(&f);
    ck_assert_int_eq(ur_fields_from_json("{\"monitorID\":", 13, &f, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "malformed JSON"));
    ur_fields_free(&f);
}
END_TEST

/* ---- getMonitors and the changes between polls ------------------------------- */

START_TEST(test_page_parse_ok_and_fail)
{
    struct ur_page p;
    size_t len;
    char err[300], *body = read_fixture("getmonitors_page1.json", &len);

    ck_assert_int_eq(ur_page_parse(body, len, &p, err, sizeof err), TOCSIN_OK);
    ck_assert_int_eq(p.total, 4);
    ck_assert_int_eq(p.limit, 50);
    ck_assert_uint_eq(json_array_size(p.monitors), 4);
    ur_page_free(&p);
    free(body);
    body = read_fixture("getmonitors_fail.json", &len);
    ck_assert_int_eq(ur_page_parse(body, len, &p, err, sizeof err), TOCSIN_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "invalid_parameter"));
    ck_assert_ptr_nonnull(strstr(err, "api_key"));
    ck_assert_ptr_null(strstr(err, "u956")); /* the passed_value: maybe the key */
    ur_page_free(&p);
    free(body);
    ck_assert_int_eq(ur_page_parse("{\"stat\":\"ok\"}", 13, &p, err, sizeof err), TOCSIN_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "monitors"));
    ur_page_free(&p);
}
END_TEST

static json_t *monitors_of(const char *fixture)
{
    struct ur_page p;
    size_t len;
    char err[300], *body = read_fixture(fixture, &len);
    json_t *m;

    ck_assert_int_eq(ur_page_parse(body, len, &p, err, sizeof err), TOCSIN_OK);
    m = json_incref(p.monitors);
    ur_page_free(&p);
    free(body);
    return m;
}

static const struct ur_alert *find(const struct ur_changes *c, const char *key)
{
    size_t i;

    for (i = 0; i < c->n; i++)
        if (strcmp(c->alerts[i].alert.dedup_key, key) == 0)
            return &c->alerts[i];
    return NULL;
}

START_TEST(test_first_poll_fires_what_is_down)
{
    json_t *m = monitors_of("getmonitors_page1.json");
    struct ur_changes c;
    struct ur_rules no8 = rules;

    ck_assert_int_eq(ur_diff(NULL, m, &rules, &c), TOCSIN_OK);
    ck_assert_uint_eq(c.n, 2); /* 9 and 8 fire; up and paused do not */
    ck_assert_int_eq(find(&c, "uptimerobot:777712827")->alert.status, TOCSIN_FIRING);
    ck_assert_str_eq(find(&c, "uptimerobot:777712827")->alert.summary, "My Web Page is down");
    ck_assert_ptr_nonnull(find(&c, "uptimerobot:777559666"));
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(c.next, "777749809"),
                                                       "st")), "up");
    ck_assert_ptr_null(json_object_get(c.next, "781397847")); /* paused, never seen up */
    ur_changes_free(&c);
    no8.seems_down_fires = 0;
    ck_assert_int_eq(ur_diff(NULL, m, &no8, &c), TOCSIN_OK);
    ck_assert_uint_eq(c.n, 1);
    ck_assert_ptr_nonnull(find(&c, "uptimerobot:777712827"));
    ur_changes_free(&c);
    json_decref(m);
}
END_TEST

START_TEST(test_changes_between_polls)
{
    json_t *prev = json_loads("{\"1\":{\"st\":\"down\",\"name\":\"A\"},"
                              "\"2\":{\"st\":\"up\",\"name\":\"B\"},"
                              "\"3\":{\"st\":\"down\",\"name\":\"C\",\"url\":\"https://c\"},"
                              "\"4\":{\"st\":\"down\",\"name\":\"D\"},"
                              "\"5\":{\"st\":\"up\",\"name\":\"E\"},"
                              "\"6\":{\"st\":\"down\",\"name\":\"F\"}}", 0, NULL);
    /* 1 still down, 2 goes down, 3 comes up, 4 gone while down, 5 gone
     * while up, 6 paused while down (kept as it was). */
    json_t *now = json_loads("[{\"id\":1,\"friendly_name\":\"A\",\"status\":9},"
                             "{\"id\":2,\"friendly_name\":\"B\",\"status\":9},"
                             "{\"id\":\"3\",\"friendly_name\":\"C\",\"status\":2},"
                             "{\"id\":6,\"friendly_name\":\"F\",\"status\":0},"
                             "{\"friendly_name\":\"no id\",\"status\":9}]", 0, NULL);
    struct ur_changes c;

    ck_assert_int_eq(ur_diff(prev, now, &rules, &c), TOCSIN_OK);
    ck_assert_uint_eq(c.n, 3);
    ck_assert_int_eq(find(&c, "uptimerobot:2")->alert.status, TOCSIN_FIRING);
    ck_assert_int_eq(find(&c, "uptimerobot:3")->alert.status, TOCSIN_RESOLVED);
    ck_assert_str_eq(find(&c, "uptimerobot:3")->alert.summary, "C is up");
    ck_assert_int_eq(find(&c, "uptimerobot:4")->alert.status, TOCSIN_RESOLVED);
    ck_assert_str_eq(find(&c, "uptimerobot:4")->alert.summary,
                     "D is no longer monitored by UptimeRobot");
    ck_assert_uint_eq(json_object_size(c.next), 4); /* 1, 2, 3, 6 */
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(c.next, "6"), "st")),
                     "down");
    ur_changes_free(&c);
    json_decref(prev);
    json_decref(now);
}
END_TEST

/* ---- uptimerobot.c through a fake host ------------------------------------------ */

struct rec {
    struct fake_host f; /* first */
    char key[96];
    enum tocsin_status status;
    struct {
        char method[8], path[128];
        tocsin_route_fn fn;
        void *self;
    } routes[8];
    int n_routes;
};

static int rec_emit(const struct tocsin_host *h, const struct tocsin_alert *a, size_t n,
                    char *err, size_t errlen)
{
    struct rec *r = (struct rec *)(void *)h;

    (void)err;
    (void)errlen;
    r->f.emits++;
    r->f.emitted = n;
    snprintf(r->key, sizeof r->key, "%s", a[0].dedup_key);
    r->status = a[0].status;
    return r->f.emit_rc;
}

static int rec_route(const struct tocsin_host *h, const char *method, const char *path,
                     tocsin_route_fn fn, void *self)
{
    struct rec *r = (struct rec *)(void *)h;

    ck_assert_int_lt(r->n_routes, 8);
    snprintf(r->routes[r->n_routes].method, sizeof r->routes[0].method, "%s", method);
    snprintf(r->routes[r->n_routes].path, sizeof r->routes[0].path, "%s", path);
    r->routes[r->n_routes].fn = fn;
    r->routes[r->n_routes].self = self;
    r->n_routes++;
    return TOCSIN_OK;
}

struct served {
    struct rec r;
    struct ur_conf conf;
    void *self;
    struct tocsin_http_response resp;
};

static void served_start(struct served *s)
{
    memset(s, 0, sizeof *s);
    fake_host_init(&s->r.f, "ur", NOW);
    s->r.f.host.emit = rec_emit;
    s->r.f.host.route_self_auth = rec_route;
    s->conf.path = "/hooks/uptimerobot";
    s->conf.token = TOKEN;
    s->conf.dashboard_url = "https://dashboard.uptimerobot.com/monitors/";
    s->conf.interval = 60000;
    s->conf.api_url = "https://api.uptimerobot.com";
    s->conf.rate_limit = 10;
    s->conf.seems_down = 1;
    s->conf.api_failures = 3;
    ck_assert_uint_eq(sizeof s->conf, tocsin_plugin.conf_size);
    ck_assert_int_eq(tocsin_plugin.create(&s->r.f.host, &s->conf, &s->self), TOCSIN_OK);
}

static void served_end(struct served *s)
{
    free(s->resp.body);
    tocsin_plugin.destroy(s->self);
}

struct req_ctx {
    const char *query, *content_type;
};

static const char *authorization;

static const char *req_header(const struct tocsin_http_request *req, const char *name)
{
    const struct req_ctx *c = req->core;

    if (strcasecmp(name, "Authorization") == 0)
        return authorization;
    return strcasecmp(name, "Content-Type") == 0 ? c->content_type : NULL;
}

/* A value of the (already decoded, '&'-separated) test query. */
static const char *req_query(const struct tocsin_http_request *req, const char *name)
{
    static char buf[8][256];
    static int next;
    const struct req_ctx *c = req->core;
    const char *p = c->query;
    size_t n = strlen(name);

    while (p && *p) {
        if (strncmp(p, name, n) == 0 && p[n] == '=') {
            char *b = buf[next++ % 8];

            snprintf(b, sizeof buf[0], "%.*s", (int)strcspn(p + n + 1, "&"), p + n + 1);
            return b;
        }
        p = strchr(p, '&');
        p = p ? p + 1 : NULL;
    }
    return NULL;
}

/* Calls the route registered for method and (exact or prefix) path. */
static int call(struct served *s, const char *method, const char *path, const char *query,
                const char *content_type, const char *body)
{
    struct tocsin_http_request req;
    struct req_ctx c = { query, content_type };
    int i, best = -1;

    for (i = 0; i < s->r.n_routes; i++) {
        size_t n = strlen(s->r.routes[i].path);
        int prefix = s->r.routes[i].path[n - 1] == '*';

        if (strcmp(s->r.routes[i].method, method) != 0)
            continue;
        if (prefix ? strncmp(path, s->r.routes[i].path, n - 1) == 0
                   : strcmp(path, s->r.routes[i].path) == 0)
            if (best < 0 || !prefix)
                best = i;
    }
    ck_assert_int_ge(best, 0);
    free(s->resp.body);
    memset(&s->resp, 0, sizeof s->resp);
    memset(&req, 0, sizeof req);
    req.method = method;
    req.path = path;
    req.body = body ? body : "";
    req.body_len = body ? strlen(body) : 0;
    req.remote_addr = "127.0.0.1";
    req.header = req_header;
    req.query = req_query;
    req.core = &c;
    ck_assert_int_eq(s->r.routes[best].fn(s->r.routes[best].self, &req, &s->resp), TOCSIN_OK);
    return s->resp.status;
}

START_TEST(test_routes_exact_and_prefix_get_and_post)
{
    struct served s;

    served_start(&s);
    ck_assert_int_eq(s.r.n_routes, 4);
    ck_assert_str_eq(s.r.routes[0].path, "/hooks/uptimerobot");
    ck_assert_str_eq(s.r.routes[1].path, "/hooks/uptimerobot/*");
    ck_assert_str_eq(s.r.routes[2].method, "GET");
    served_end(&s);
}
END_TEST

START_TEST(test_token_in_path_or_query)
{
    struct served s;
    const char *q = "monitorID=5&alertType=1&monitorFriendlyName=Web";

    served_start(&s);
    ck_assert_int_eq(call(&s, "GET", "/hooks/uptimerobot", q, NULL, NULL), 401);
    ck_assert_int_eq(call(&s, "GET", "/hooks/uptimerobot/wrong-token-wrong", q, NULL, NULL), 401);
    ck_assert_int_eq(call(&s, "GET", "/hooks/uptimerobot/" TOKEN "/x", q, NULL, NULL), 401);
    ck_assert_int_eq(call(&s, "GET", "/hooks/uptimerobot",
                          "token=9f2c41d7e8b0a6c3d5e7f9a&monitorID=5&alertType=1", NULL, NULL),
                     401);
    ck_assert_int_eq(s.r.f.emits, 0);
    ck_assert_int_eq(call(&s, "GET", "/hooks/uptimerobot/" TOKEN, q, NULL, NULL), 200);
    ck_assert_int_eq(s.r.f.emits, 1);
    ck_assert_str_eq(s.r.key, "uptimerobot:5");
    ck_assert_int_eq(call(&s, "POST", "/hooks/uptimerobot",
                          "token=" TOKEN "&monitorID=5&alertType=2", NULL, NULL), 200);
    ck_assert_int_eq(s.r.status, TOCSIN_RESOLVED);
    /* A custom header of UptimeRobot's newer webhook integration. */
    authorization = "Bearer wrong-token-wrong-token";
    ck_assert_int_eq(call(&s, "POST", "/hooks/uptimerobot", q, NULL, NULL), 401);
    authorization = "Bearer " TOKEN;
    ck_assert_int_eq(call(&s, "POST", "/hooks/uptimerobot", q, NULL, NULL), 200);
    ck_assert_int_eq(s.r.f.emits, 3);
    authorization = NULL;
    served_end(&s);
}
END_TEST

START_TEST(test_three_value_styles)
{
    struct served s;
    size_t len;
    char *form = read_fixture("webhook_up.form", &len);
    char *json = read_fixture("webhook_ssl.json", &len);

    served_start(&s);
    /* query string */
    ck_assert_int_eq(call(&s, "POST", "/hooks/uptimerobot/" TOKEN,
                          "monitorID=778899&alertType=1&alertDetails=Timeout", NULL, NULL), 200);
    ck_assert_str_eq(s.r.key, "uptimerobot:778899");
    ck_assert_int_eq(s.r.status, TOCSIN_FIRING);
    /* form body */
    ck_assert_int_eq(call(&s, "POST", "/hooks/uptimerobot/" TOKEN, NULL,
                          "application/x-www-form-urlencoded", form), 200);
    ck_assert_int_eq(s.r.status, TOCSIN_RESOLVED);
    /* JSON body */
    ck_assert_int_eq(call(&s, "POST", "/hooks/uptimerobot/" TOKEN, NULL, "application/json",
                          json), 200);
    ck_assert_str_eq(s.r.key, "uptimerobot:778899:ssl");
    ck_assert_int_eq(s.r.f.emits, 3);
    /* 400 naming the field, 200 for an unknown alertType, 503 when saturated */
    ck_assert_int_eq(call(&s, "POST", "/hooks/uptimerobot/" TOKEN, NULL,
                          "application/x-www-form-urlencoded", "alertType=1"), 400);
    ck_assert_ptr_nonnull(strstr(s.resp.body, "monitorID"));
    ck_assert_int_eq(call(&s, "POST", "/hooks/uptimerobot/" TOKEN, NULL, "application/json",
                          "{\"monitorID\":\"1\",\"alertType\":\"7\"}"), 200);
    ck_assert_int_eq(s.r.f.emits, 3);
    s.r.f.emit_rc = TOCSIN_EBUSY;
    ck_assert_int_eq(call(&s, "POST", "/hooks/uptimerobot/" TOKEN, NULL, "application/json",
                          json), 503);
    ck_assert_int_eq(s.resp.retry_after, 1);
    served_end(&s);
    free(form);
    free(json);
}
END_TEST

START_TEST(test_create_checks_options)
{
    struct served s;

    served_start(&s);
    served_end(&s);
    {
        static const struct tocsin_kv bad[] = { { "up", "low" } };

        s.conf.severity = (struct tocsin_map){ 1, bad };
        ck_assert_int_eq(tocsin_plugin.create(&s.r.f.host, &s.conf, &s.self), TOCSIN_ERROR);
        ck_assert_ptr_nonnull(strstr(s.r.f.failed, "unknown key \"up\""));
        s.conf.severity = (struct tocsin_map){ 0, NULL };
    }
    s.conf.token = "short";
    ck_assert_int_eq(tocsin_plugin.create(&s.r.f.host, &s.conf, &s.self), TOCSIN_ERROR);
    ck_assert_ptr_nonnull(strstr(s.r.f.failed, "at least 16"));
    s.conf.token = NULL;
    ck_assert_int_eq(tocsin_plugin.create(&s.r.f.host, &s.conf, &s.self), TOCSIN_ERROR);
    ck_assert_ptr_nonnull(strstr(s.r.f.failed, "set token"));
    s.conf.api_key = "k";
    s.conf.interval = 5000; /* 10 a minute: one per 6 s */
    ck_assert_int_eq(tocsin_plugin.create(&s.r.f.host, &s.conf, &s.self), TOCSIN_ERROR);
    ck_assert_ptr_nonnull(strstr(s.r.f.failed, "interval must be at least 6000 ms"));
    s.conf.interval = 6000;
    s.r.n_routes = 0;
    ck_assert_int_eq(tocsin_plugin.create(&s.r.f.host, &s.conf, &s.self), TOCSIN_OK);
    ck_assert_int_eq(s.r.n_routes, 0); /* polling only: no webhook */
    tocsin_plugin.destroy(s.self);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("uptimerobot");
    TCase *parse = tcase_create("parse");
    TCase *plugin = tcase_create("plugin");
    SRunner *sr;
    int failed;

    tcase_add_test(parse, test_form_values_down);
    tcase_add_test(parse, test_form_values_up_with_plus_and_escapes);
    tcase_add_test(parse, test_json_values_ssl_on_its_own_key);
    tcase_add_test(parse, test_bad_and_unknown_values);
    tcase_add_test(parse, test_page_parse_ok_and_fail);
    tcase_add_test(parse, test_first_poll_fires_what_is_down);
    tcase_add_test(parse, test_changes_between_polls);
    suite_add_tcase(s, parse);
    tcase_add_test(plugin, test_routes_exact_and_prefix_get_and_post);
    tcase_add_test(plugin, test_token_in_path_or_query);
    tcase_add_test(plugin, test_three_value_styles);
    tcase_add_test(plugin, test_create_checks_options);
    suite_add_tcase(s, plugin);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
