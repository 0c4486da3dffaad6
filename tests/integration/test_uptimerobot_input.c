/* test_uptimerobot_input.c: the uptimerobot input in the real tocsind: the
 * webhook in its three value styles with the token in the path or the
 * query, and polling a fake getMonitors API (tests/peers/uptimerobot_api)
 * on the injectable clock: pagination, changes only, stat: fail and 429
 * changing nothing, a monitor that disappears, the API alert, a restart
 * that does not fire again. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../peers/uptimerobot_api.h"
#include "harness.h"

#define TOKEN "it-uptimerobot-token-3e4f5a6b7c"
#define API_KEY "ur-it+api/key=81f2&e3 d4%c5"  /* form-encoding matters */

static void start(struct h_daemon *d, const char *extra, int clock)
{
    setenv("IT_UR_TOKEN", TOKEN, 1);
    setenv("IT_UR_API_KEY", API_KEY, 1);
    if (clock)
        h_clock_enable(d);
    h_write_config(d,
                   "daemon = { listen = \"127.0.0.1:0\"; state_dir = \"%s\";"
                   " plugin_dir = \"%s\"; log_level = \"debug\"; };\n"
                   "inputs = ( { id = \"ur\"; plugin = \"uptimerobot\"; %s } );\n"
                   "sinks = ( { id = \"console\"; plugin = \"console\"; path = \"%s\"; } );\n"
                   "routes = ( { sinks = [ \"console\" ]; } );\n",
                   d->state_dir, getenv("TOCSIN_PLUGIN_DIR"), extra, d->console);
    h_start(d);
}

static long send(struct h_daemon *d, const char *method, const char *path_query,
                 const char *content_type, const char *body)
{
    char url[1024], ctype[128];
    const char *headers[] = { ctype, NULL };
    struct h_resp resp;
    long status;

    snprintf(url, sizeof url, "%s%s", d->base, path_query);
    snprintf(ctype, sizeof ctype, "Content-Type: %s", content_type ? content_type : "");
    ck_assert_int_eq(h_http_ex(method, url, body, body ? strlen(body) : 0, 5000,
                               content_type ? headers : NULL, &resp), 0);
    status = resp.status;
    h_resp_free(&resp);
    return status;
}

struct want {
    struct h_daemon *d;
    const char *key, *state;
};

static int has_state(void *arg)
{
    struct want *w = arg;
    int64_t id = h_incident_by_key(w->d, w->key);
    json_t *inc;
    int ok;

    if (id < 0)
        return strcmp(w->state, "none") == 0;
    inc = h_incident(w->d, id);
    ok = strcmp(h_jstr(inc, "state"), w->state) == 0;
    json_decref(inc);
    return ok;
}

static void expect(struct h_daemon *d, const char *key, const char *state)
{
    struct want w = { d, key, state };

    h_assert(d, h_wait_until(has_state, &w, 5000), "%s is not %s", key, state);
}

static int64_t occurrences(struct h_daemon *d, const char *key)
{
    json_t *inc = h_incident(d, h_incident_by_key(d, key));
    int64_t n = h_jint(inc, "occurrences");

    json_decref(inc);
    return n;
}

START_TEST(test_webhook_in_three_styles)
{
    struct h_daemon d;
    char *log;

    h_init(&d);
    start(&d, "token = \"env:IT_UR_TOKEN\"; severity = { ssl = \"low\"; };", 0);
    /* query string, token as the last path segment */
    ck_assert_int_eq(send(&d, "GET", "/hooks/uptimerobot/" TOKEN "?monitorID=778899&monitorURL="
                          "https%3A%2F%2Fapi.example.com%2Fhealth&monitorFriendlyName=API%20health"
                          "&alertType=1&alertDetails=HTTP%20503&alertDateTime=1795410765", NULL,
                          NULL), 200);
    expect(&d, "uptimerobot:778899", "triggered");
    /* form body, token in the query */
    ck_assert_int_eq(send(&d, "POST", "/hooks/uptimerobot?token=" TOKEN,
                          "application/x-www-form-urlencoded",
                          "monitorID=778899&monitorFriendlyName=API+health&alertType=2"
                          "&alertDuration=754"), 200);
    expect(&d, "uptimerobot:778899", "resolved");
    /* JSON body (the README's template) */
    ck_assert_int_eq(send(&d, "POST", "/hooks/uptimerobot/" TOKEN, "application/json",
                          "{\"monitorID\":\"778899\",\"monitorFriendlyName\":\"API health\","
                          "\"alertType\":\"3\",\"sslExpiryDate\":\"2026-11-30\","
                          "\"sslExpiryDaysLeft\":\"7\"}"), 200);
    expect(&d, "uptimerobot:778899:ssl", "triggered");
    /* a custom header (UptimeRobot's newer webhook integration) */
    {
        char url[256];
        const char *headers[] = { "Authorization: Bearer " TOKEN, NULL };
        struct h_resp resp;

        snprintf(url, sizeof url, "%s/hooks/uptimerobot?monitorID=42&alertType=1", d.base);
        ck_assert_int_eq(h_http_ex("POST", url, NULL, 0, 5000, headers, &resp), 0);
        ck_assert_int_eq(resp.status, 200);
        h_resp_free(&resp);
        expect(&d, "uptimerobot:42", "triggered");
    }
    /* wrong and missing tokens, a bad field */
    ck_assert_int_eq(send(&d, "POST", "/hooks/uptimerobot/not-the-token-at-all?monitorID=1"
                          "&alertType=1", NULL, NULL), 401);
    ck_assert_int_eq(send(&d, "POST", "/hooks/uptimerobot?monitorID=1&alertType=1", NULL, NULL),
                     401);
    expect(&d, "uptimerobot:1", "none");
    ck_assert_int_eq(send(&d, "POST", "/hooks/uptimerobot/" TOKEN "?alertType=1", NULL, NULL),
                     400);
    ck_assert_int_eq(h_stop(&d, 5000), 0);
    log = h_read_file(d.log);
    ck_assert_msg(!strstr(log, "refused POST /hooks/uptimerobot/"), "a path token in the log");
    ck_assert_msg(strstr(log, "refused POST /hooks/uptimerobot from 127.0.0.1") != NULL,
                  "refusal not logged with the address");
    free(log);
    h_passed();
}
END_TEST

#define MON(id, name, status)                                                         \
    "{\"id\":" #id ",\"friendly_name\":\"" name "\",\"url\":\"https://" name             \
    ".example\",\"type\":1,\"interval\":300,\"status\":" #status "}"

START_TEST(test_polling)
{
    struct h_daemon d;
    struct ur_api *api = ur_api_start(API_KEY);
    char extra[512], buf[64], *log;
    size_t n;

    ck_assert_ptr_nonnull(api);
    ur_api_page_limit(api, 2);
    ur_api_monitors(api, "[" MON(1, "a", 2) "," MON(2, "b", 9) "," MON(3, "c", 8) "]");
    snprintf(extra, sizeof extra,
             "api_key = \"env:IT_UR_API_KEY\"; api_url = \"http://127.0.0.1:%d\";"
             " interval = \"60s\"; api_failures = 2;", ur_api_port(api));
    h_init(&d);
    start(&d, extra, 1);

    /* First poll: two pages; what is down fires, what is up does not. */
    ck_assert_uint_ge(ur_api_wait(api, 2, 5000), 2);
    expect(&d, "uptimerobot:2", "triggered");
    expect(&d, "uptimerobot:3", "triggered");
    expect(&d, "uptimerobot:1", "none");
    ck_assert_int_eq(ur_api_field(api, 0, "offset", buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "0");
    ck_assert_int_eq(ur_api_field(api, 1, "offset", buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "2");
    ck_assert_int_eq(ur_api_field(api, 0, "api_key", buf, sizeof buf), 0);
    ck_assert_str_eq(buf, API_KEY);
    ck_assert_uint_eq(ur_api_requests(api), 2); /* no poll before the interval */

    /* b recovers, c disappears, d is new, but the API fails: nothing
     * changes. */
    ur_api_monitors(api, "[" MON(1, "a", 2) "," MON(2, "b", 2) "," MON(4, "d", 2) "]");
    ur_api_script(api, "echo"); /* its message quotes the key: redacted in the log */
    h_clock_advance(&d, 60000);
    ck_assert_uint_ge(ur_api_wait(api, 3, 5000), 3);
    ur_api_script(api, "ok,429");
    h_clock_advance(&d, 60000);
    ck_assert_uint_ge(ur_api_wait(api, 5, 5000), 5); /* page 1 ok, page 2 429 */
    h_sleep_ms(300);
    expect(&d, "uptimerobot:2", "triggered");
    expect(&d, "uptimerobot:3", "triggered");
    expect(&d, "uptimerobot:ur:api", "triggered"); /* two failed polls in a row */

    /* The API answers again: changes and the API alert resolve. */
    h_clock_advance(&d, 60000);
    ck_assert_uint_ge(ur_api_wait(api, 6, 5000), 6);
    expect(&d, "uptimerobot:2", "resolved");
    expect(&d, "uptimerobot:3", "resolved");
    expect(&d, "uptimerobot:ur:api", "resolved");
    expect(&d, "uptimerobot:4", "none");

    /* a goes down; one more poll with no change stores nothing new. */
    ur_api_monitors(api, "[" MON(1, "a", 9) "," MON(2, "b", 2) "]");
    h_clock_advance(&d, 60000);
    ck_assert_uint_ge(ur_api_wait(api, 7, 5000), 7);
    expect(&d, "uptimerobot:1", "triggered");
    h_clock_advance(&d, 60000);
    ck_assert_uint_ge(ur_api_wait(api, 8, 5000), 8);
    h_sleep_ms(300);
    ck_assert_int_eq(occurrences(&d, "uptimerobot:1"), 1);

    /* A restart remembers the states: no second trigger. */
    ck_assert_int_eq(h_stop(&d, 5000), 0);
    n = ur_api_requests(api);
    h_start(&d);
    ck_assert_uint_ge(ur_api_wait(api, n + 1, 5000), n + 1);
    h_sleep_ms(300);
    ck_assert_int_eq(occurrences(&d, "uptimerobot:1"), 1);
    ck_assert_uint_eq(ur_api_violations(api), 0);
    ck_assert_int_eq(h_stop(&d, 5000), 0);
    log = h_read_file(d.log);
    ck_assert_msg(!strstr(log, API_KEY), "the API key is in the log");
    ck_assert_msg(strstr(log, "getMonitors failed (1 in a row)") != NULL, "failure not logged");
    ck_assert_msg(strstr(log, "HTTP 429") != NULL, "429 not logged");
    free(log);
    ur_api_free(api);
    h_passed();
}
END_TEST

/* rate_limit 1 a minute: a poll of two pages uses two minutes, so the
 * tick after one minute sends nothing. The api_url may end in '/'. */
START_TEST(test_polling_keeps_to_the_rate_limit)
{
    struct h_daemon d;
    struct ur_api *api = ur_api_start(API_KEY);
    char extra[512];

    ck_assert_ptr_nonnull(api);
    ur_api_page_limit(api, 2);
    ur_api_monitors(api, "[" MON(1, "a", 2) "," MON(2, "b", 9) "," MON(3, "c", 2) "]");
    snprintf(extra, sizeof extra,
             "api_key = \"env:IT_UR_API_KEY\"; api_url = \"http://127.0.0.1:%d/\";"
             " interval = \"60s\"; rate_limit = 1;", ur_api_port(api));
    h_init(&d);
    start(&d, extra, 1);
    ck_assert_uint_ge(ur_api_wait(api, 2, 5000), 2);
    expect(&d, "uptimerobot:2", "triggered");
    h_clock_advance(&d, 60000);
    h_sleep_ms(500);
    ck_assert_uint_eq(ur_api_requests(api), 2);
    h_clock_advance(&d, 60000);
    ck_assert_uint_ge(ur_api_wait(api, 4, 5000), 4);
    ck_assert_uint_eq(ur_api_violations(api), 0); /* the path had no "//" */
    ck_assert_int_eq(h_stop(&d, 5000), 0);
    ur_api_free(api);
    h_passed();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("uptimerobot_input");
    TCase *tc = h_tcase("uptimerobot", 90);

    tcase_add_test(tc, test_webhook_in_three_styles);
    tcase_add_test(tc, test_polling);
    tcase_add_test(tc, test_polling_keeps_to_the_rate_limit);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
