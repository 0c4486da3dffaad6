/* test_twilio.c: the twilio sink in the real tocsind against the strict
 * fake Twilio (tests/peers/twilio_peer.c): the exact SMS texts and TwiML
 * of trigger, acknowledge and resolve, a call per number on triggers only,
 * retries that never text a number twice (also across a restart), a
 * refused number failing for good with Twilio's words in the timeline,
 * Retry-After, a hung API, cutting at 1600 with multi-byte text, and the
 * auth token kept out of logs, the API, /metrics and --check-config;
 * tocsind --test-sink through it. */
#define _GNU_SOURCE
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../peers/twilio_peer.h"
#include "harness.h"

#define SID "AC0123456789abcdef0123456789abcdef"
#define TOKEN "tw-auth-t0ken-9f8e7d6c5b4a"
#define FROM "+15005550006"
#define TO1 "+14155550101"
#define TO2 "+4915112345678"
#define EXTERNAL "http://tocsin.example:9099"
#define RUNBOOK "https://runbooks.example/disk-full"
#define GENERATOR "http://prom.example:9090/graph?g0.expr=disk_used_percent+%3E+95"

static struct twilio_peer *peer_up(void)
{
    struct twilio_peer *p = twilio_peer_new(SID, TOKEN);

    ck_assert_ptr_nonnull(p);
    ck_assert_msg(twilio_peer_start(p) == 0, "the twilio peer did not start");
    return p;
}

/* A daemon with the generic input and the sink "pager" at the peer; the
 * token comes from the environment, as an operator would give it.
 * sink_extra may replace the numbers (to = ...) and the retry timing. */
static void write_conf(struct h_daemon *d, struct twilio_peer *p, const char *daemon_extra,
                       const char *sink_extra)
{
    const char *extra = sink_extra ? sink_extra : "";

    setenv("TWILIO_TEST_TOKEN", TOKEN, 1);
    h_write_config(d,
                   "daemon = { listen = \"127.0.0.1:0\"; state_dir = \"%s\";\n"
                   "  plugin_dir = \"%s\"; log_level = \"debug\";\n"
                   "  external_url = \"" EXTERNAL "\"; %s };\n"
                   "inputs = ( { id = \"api\"; plugin = \"generic\"; } );\n"
                   "sinks = ( { id = \"pager\"; plugin = \"twilio\";\n"
                   "  account_sid = \"" SID "\"; auth_token = \"env:TWILIO_TEST_TOKEN\";\n"
                   "  from = \"" FROM "\"; %s\n"
                   "  api_url = \"http://127.0.0.1:%d\";\n"
                   "  %s %s } );\n"
                   "routes = ( { sinks = [ \"pager\" ]; } );\n",
                   d->state_dir, getenv("TOCSIN_PLUGIN_DIR"), daemon_extra ? daemon_extra : "",
                   strstr(extra, "to =") ? "" : "to = [ \"" TO1 "\", \"" TO2 "\" ];",
                   twilio_peer_port(p),
                   strstr(extra, "retry_") ? "" : "retry_base = \"100ms\"; retry_max = \"1s\";",
                   extra);
}

static void up(struct h_daemon *d, struct twilio_peer *p, const char *daemon_extra,
               const char *sink_extra)
{
    h_init(d);
    write_conf(d, p, daemon_extra, sink_extra);
    h_start(d);
}

/* A critical alert with a runbook and a source link; summary and details
 * as given (JSON-escaped by the caller). */
static int64_t post_alert(struct h_daemon *d, const char *key, const char *summary,
                          const char *details)
{
    char *body;
    struct h_resp r;
    int64_t id;

    ck_assert_int_ge(asprintf(&body,
                              "{\"dedup_key\": \"%s\", \"severity\": \"critical\","
                              " \"summary\": \"%s\", \"details\": \"%s\","
                              " \"annotations\": {\"runbook_url\": \"" RUNBOOK "\"},"
                              " \"links\": {\"generator\": \"%s\"}}",
                              key, summary, details, GENERATOR),
                     0);
    h_req(d, "POST", "/api/v1/alerts", body, &r);
    free(body);
    h_assert(d, r.status == 202, "POST /api/v1/alerts: HTTP %ld: %s", r.status, r.body);
    h_resp_free(&r);
    id = h_incident_by_key(d, key);
    h_assert(d, id > 0, "no incident %s", key);
    return id;
}

static void act(struct h_daemon *d, int64_t id, const char *what, const char *body)
{
    char path[96];
    struct h_resp r;

    snprintf(path, sizeof path, "/api/v1/incidents/%lld/%s", (long long)id, what);
    h_req(d, "POST", path, body, &r);
    h_assert(d, r.status == 200, "POST %s: HTTP %ld: %s", path, r.status, r.body);
    h_resp_free(&r);
}

static void no_violations(const struct h_daemon *d, struct twilio_peer *p)
{
    size_t i, n = twilio_peer_violations(p);

    for (i = 0; i < n; i++)
        fprintf(stderr, "twilio peer violation: %s\n", twilio_peer_violation(p, i));
    h_assert(d, n == 0, "the twilio peer saw %zu violations", n);
}

static const struct twilio_req *req(const struct h_daemon *d, struct twilio_peer *p, size_t i)
{
    const struct twilio_req *q;

    h_assert(d, twilio_peer_wait(p, i + 1, 15000) > i, "request %zu never came (%zu so far)",
             i + 1, twilio_peer_count(p));
    q = twilio_peer_get(p, i);
    ck_assert_ptr_nonnull(q);
    return q;
}

/* strcmp with a short message: Check cannot carry two 6 kB strings. */
static void expect_str(const struct h_daemon *d, const char *got, const char *want)
{
    size_t i = 0;

    if (got && strcmp(got, want) == 0)
        return;
    while (got && got[i] && got[i] == want[i])
        i++;
    fprintf(stderr, "got:  %s\nwant: %s\n", got ? got : "(null)", want);
    h_assert(d, 0, "differs at byte %zu of %zu (got %zu bytes)", i, strlen(want),
             got ? strlen(got) : 0);
}

static void expect_sms(const struct h_daemon *d, const struct twilio_req *q, const char *to,
                       const char *text)
{
    h_assert(d, strcmp(q->kind, "sms") == 0, "%s %s is not a message", q->method, q->path);
    ck_assert_str_eq(q->to, to);
    ck_assert_str_eq(q->from, FROM);
    expect_str(d, q->body, text);
}

static void expect_call(const struct h_daemon *d, const struct twilio_req *q, const char *to,
                        const char *twiml)
{
    h_assert(d, strcmp(q->kind, "call") == 0, "%s %s is not a call", q->method, q->path);
    ck_assert_str_eq(q->to, to);
    ck_assert_str_eq(q->from, FROM);
    expect_str(d, q->twiml, twiml);
}

/* Rows of the sink's plugin state: the ledger of what is still retried. */
static long long ledger_rows(const struct h_daemon *d, char *value, size_t len)
{
    char path[H_PATH_MAX + 16];
    sqlite3 *db;
    sqlite3_stmt *st;
    long long n = -1;

    snprintf(path, sizeof path, "%s/tocsin.db", d->state_dir);
    ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    ck_assert_int_eq(sqlite3_prepare_v2(db,
                                        "SELECT count(*), max(value) FROM plugin_state "
                                        "WHERE instance = 'pager' AND key LIKE 'sent/%'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW) {
        n = sqlite3_column_int64(st, 0);
        if (value)
            snprintf(value, len, "%s",
                     sqlite3_column_text(st, 1) ? (const char *)sqlite3_column_text(st, 1) : "");
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static char *sms_trigger_text(int64_t id)
{
    char *s;

    ck_assert_int_ge(asprintf(&s,
                              "CRITICAL: Disk 97%% full on db1\n/var is 97%% full.\n"
                              "Runbook: " RUNBOOK "\n"
                              "Incident %lld: " EXTERNAL "/api/v1/incidents/%lld\n"
                              "Source: %s",
                              (long long)id, (long long)id, GENERATOR),
                     0);
    return s;
}

START_TEST(test_trigger_texts_and_calls_each_number)
{
    struct twilio_peer *p = peer_up();
    struct h_daemon d;
    char *text, *twiml, *say;
    json_t *n, *inc;
    int64_t id;
    size_t i;

    up(&d, p, NULL, "call = true;");
    id = post_alert(&d, "disk-db1", "Disk 97% full on db1", "/var is 97% full.");
    n = h_wait_notification(&d, id, "pager", "trigger", "done", 15000);
    h_assert(&d, n != NULL, "the trigger was never delivered");
    ck_assert_int_eq(h_jint(n, "attempts"), 1);
    json_decref(n);

    text = sms_trigger_text(id);
    ck_assert_int_ge(asprintf(&say, "Alert from tocsin. Critical: Disk 97%% full on db1. "
                                    "Incident %lld.", (long long)id), 0);
    ck_assert_int_ge(asprintf(&twiml, "<Response><Say loop=\"2\">%s</Say></Response>", say), 0);
    /* Every number's SMS first, then a call to each. */
    expect_sms(&d, req(&d, p, 0), TO1, text);
    expect_sms(&d, req(&d, p, 1), TO2, text);
    expect_call(&d, req(&d, p, 2), TO1, twiml);
    expect_call(&d, req(&d, p, 3), TO2, twiml);
    ck_assert_str_eq(req(&d, p, 3)->say, say);
    for (i = 0; i < 4; i++)
        ck_assert_int_eq(req(&d, p, i)->status, 201);
    h_sleep_ms(500);
    h_assert(&d, twilio_peer_count(p) == 4, "%zu requests for one trigger, not 4",
             twilio_peer_count(p));
    inc = h_incident(&d, id);
    h_assert(&d, h_timeline_find(inc, "notified", "\"sink\":\"pager\"") != NULL,
             "no notified entry for pager in the timeline");
    json_decref(inc);
    ck_assert_int_eq(ledger_rows(&d, NULL, 0), 0);
    no_violations(&d, p);
    free(text);
    free(say);
    free(twiml);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    twilio_peer_free(p);
}
END_TEST

START_TEST(test_acknowledge_and_resolve_send_sms_only)
{
    struct twilio_peer *p = peer_up();
    struct h_daemon d;
    char *ack, *resolved;
    json_t *n;
    int64_t id;

    up(&d, p, NULL, "call = true;");
    id = post_alert(&d, "disk-db2", "Disk 97% full on db1", "/var is 97% full.");
    h_assert(&d, twilio_peer_wait(p, 4, 15000) >= 4, "the trigger's 4 requests never came");
    n = h_wait_notification(&d, id, "pager", "trigger", "done", 15000);
    h_assert(&d, n != NULL, "the trigger was never delivered");
    json_decref(n);

    act(&d, id, "ack", "{\"by\": \"alice\"}");
    n = h_wait_notification(&d, id, "pager", "acknowledge", "done", 15000);
    h_assert(&d, n != NULL, "the acknowledge was never delivered");
    json_decref(n);
    ck_assert_int_ge(asprintf(&ack, "ACK by alice: Disk 97%% full on db1\n"
                                    "Incident %lld: " EXTERNAL "/api/v1/incidents/%lld",
                              (long long)id, (long long)id), 0);
    expect_sms(&d, req(&d, p, 4), TO1, ack);
    expect_sms(&d, req(&d, p, 5), TO2, ack);

    act(&d, id, "resolve", "{\"by\": \"bob\", \"note\": \"freed 40G of old WAL\"}");
    n = h_wait_notification(&d, id, "pager", "resolve", "done", 15000);
    h_assert(&d, n != NULL, "the resolve was never delivered");
    json_decref(n);
    ck_assert_int_ge(asprintf(&resolved, "RESOLVED by bob: Disk 97%% full on db1\n"
                                         "Note: freed 40G of old WAL\n"
                                         "Incident %lld: " EXTERNAL "/api/v1/incidents/%lld",
                              (long long)id, (long long)id), 0);
    expect_sms(&d, req(&d, p, 6), TO1, resolved);
    expect_sms(&d, req(&d, p, 7), TO2, resolved);
    /* No call for either. */
    h_sleep_ms(500);
    h_assert(&d, twilio_peer_count(p) == 8, "%zu requests, expected 4 + 2 + 2",
             twilio_peer_count(p));
    no_violations(&d, p);
    free(ack);
    free(resolved);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    twilio_peer_free(p);
}
END_TEST

/* TO2's SMS gets a 500: the retry texts TO2 only, never TO1 again. */
START_TEST(test_a_retry_after_500_skips_who_has_it)
{
    struct twilio_peer *p = peer_up();
    struct h_daemon d;
    char *text;
    json_t *n;
    int64_t id;

    twilio_peer_script(p, "201,500");
    up(&d, p, NULL, NULL);
    id = post_alert(&d, "disk-db3", "Disk 97% full on db1", "/var is 97% full.");
    n = h_wait_notification(&d, id, "pager", "trigger", "done", 15000);
    h_assert(&d, n != NULL, "the trigger was never delivered after the 500");
    ck_assert_int_eq(h_jint(n, "attempts"), 2);
    json_decref(n);
    text = sms_trigger_text(id);
    expect_sms(&d, req(&d, p, 0), TO1, text);
    expect_sms(&d, req(&d, p, 1), TO2, text);
    ck_assert_int_eq(req(&d, p, 1)->status, 500);
    expect_sms(&d, req(&d, p, 2), TO2, text);
    ck_assert_int_eq(req(&d, p, 2)->status, 201);
    h_sleep_ms(500);
    h_assert(&d, twilio_peer_count(p) == 3, "%zu requests: TO1 was texted again?",
             twilio_peer_count(p));
    ck_assert_int_eq(ledger_rows(&d, NULL, 0), 0);
    no_violations(&d, p);
    free(text);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    twilio_peer_free(p);
}
END_TEST

/* The same with a restart between the attempts: the ledger is durable. */
START_TEST(test_the_ledger_survives_a_restart)
{
    struct twilio_peer *p = peer_up();
    struct h_daemon d;
    char value[512];
    json_t *n;
    int64_t id;

    twilio_peer_script(p, "201,500");
    up(&d, p, NULL, "retry_base = \"3s\"; retry_max = \"3s\";");
    id = post_alert(&d, "disk-db4", "Disk 97% full on db1", "/var is 97% full.");
    h_assert(&d, twilio_peer_wait(p, 2, 15000) >= 2, "the first attempt never came");
    h_sleep_ms(300); /* the ledger is written before the verdict */
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    ck_assert_int_eq(ledger_rows(&d, value, sizeof value), 1);
    ck_assert_msg(strncmp(value, "sms " TO1 " ok SM", 22) == 0 && !strstr(value, TO2),
                  "ledger: %s", value);

    h_start(&d);
    n = h_wait_notification(&d, id, "pager", "trigger", "done", 20000);
    h_assert(&d, n != NULL, "not delivered after the restart");
    json_decref(n);
    ck_assert_int_eq(twilio_peer_count(p), 3);
    ck_assert_str_eq(req(&d, p, 2)->to, TO2);
    ck_assert_int_eq(ledger_rows(&d, NULL, 0), 0);
    no_violations(&d, p);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    twilio_peer_free(p);
}
END_TEST

/* Twilio refuses TO2 (21211): failed for good, its words in the timeline,
 * TO1 texted once, nothing retried. */
START_TEST(test_a_refused_number_fails_with_twilios_reason)
{
    struct twilio_peer *p = peer_up();
    struct h_daemon d;
    const char *err;
    json_t *n, *inc, *e;
    char *det;
    int64_t id;

    twilio_peer_script(p, "201,400");
    up(&d, p, NULL, NULL);
    id = post_alert(&d, "disk-db5", "Disk 97% full on db1", "/var is 97% full.");
    n = h_wait_notification(&d, id, "pager", "trigger", "failed", 15000);
    h_assert(&d, n != NULL, "a 400 never failed the trigger");
    ck_assert_int_eq(h_jint(n, "attempts"), 1);
    err = json_string_value(json_object_get(n, "last_error"));
    h_assert(&d, err && strcmp(err, "1 of 2 sent; SMS to " TO2 ": HTTP 400, Twilio error 21211: "
                                    "The 'To' number " TO2 " is not a valid phone number.") == 0,
             "last_error: %s", err ? err : "(null)");
    json_decref(n);
    inc = h_incident(&d, id);
    e = h_timeline_find(inc, "notify_failed", "21211");
    h_assert(&d, e != NULL, "no notify_failed naming 21211 in the timeline");
    det = h_detail(e);
    h_assert(&d, strstr(det, "\"sink\":\"pager\"") && strstr(det, "is not a valid phone number"),
             "notify_failed: %s", det);
    free(det);
    json_decref(inc);
    h_sleep_ms(1000);
    h_assert(&d, twilio_peer_count(p) == 2, "%zu requests after a permanent 400",
             twilio_peer_count(p));
    ck_assert_int_eq(ledger_rows(&d, NULL, 0), 0);
    no_violations(&d, p);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    twilio_peer_free(p);
}
END_TEST

START_TEST(test_429_waits_for_retry_after)
{
    struct twilio_peer *p = peer_up();
    struct h_daemon d;
    json_t *n;
    int64_t id, gap;

    twilio_peer_script(p, "429 ra=1");
    up(&d, p, NULL, NULL);
    id = post_alert(&d, "disk-db6", "Disk 97% full on db1", "/var is 97% full.");
    n = h_wait_notification(&d, id, "pager", "trigger", "done", 15000);
    h_assert(&d, n != NULL, "never delivered after the 429");
    ck_assert_int_eq(h_jint(n, "attempts"), 2);
    json_decref(n);
    /* The 429 ended the attempt: TO2 was not tried until the retry. */
    ck_assert_int_eq(twilio_peer_count(p), 3);
    ck_assert_int_eq(req(&d, p, 0)->status, 429);
    ck_assert_str_eq(req(&d, p, 1)->to, TO1);
    ck_assert_str_eq(req(&d, p, 2)->to, TO2);
    gap = req(&d, p, 1)->at_ms - req(&d, p, 0)->at_ms;
    h_assert(&d, gap >= 900, "retried %lld ms after Retry-After: 1", (long long)gap);
    no_violations(&d, p);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    twilio_peer_free(p);
}
END_TEST

/* No answer at all: the daemon's http_timeout ends the call; retried. */
START_TEST(test_a_hung_api_is_retried)
{
    struct twilio_peer *p = peer_up();
    struct h_daemon d;
    json_t *n;
    int64_t id;

    twilio_peer_script(p, "hang");
    up(&d, p, "http_timeout = \"500ms\";", NULL);
    id = post_alert(&d, "disk-db7", "Disk 97% full on db1", "/var is 97% full.");
    n = h_wait_notification(&d, id, "pager", "trigger", "done", 15000);
    h_assert(&d, n != NULL, "never delivered after a hung request");
    ck_assert_int_eq(h_jint(n, "attempts"), 2);
    json_decref(n);
    ck_assert_int_eq(twilio_peer_count(p), 3);
    ck_assert_int_eq(req(&d, p, 0)->status, 0);
    ck_assert_str_eq(req(&d, p, 1)->to, TO1);
    ck_assert_str_eq(req(&d, p, 2)->to, TO2);
    no_violations(&d, p);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    twilio_peer_free(p);
}
END_TEST

static char *repeat(const char *unit, size_t times)
{
    size_t len = strlen(unit), i;
    char *s = malloc(len * times + 1);

    ck_assert_ptr_nonnull(s);
    for (i = 0; i < times; i++)
        memcpy(s + i * len, unit, len);
    s[len * times] = '\0';
    return s;
}

/* A summary of 2100 emoji (4200 UTF-16 units): the SMS is cut to exactly
 * 1600 units, the TwiML to 4000, each on a character, with "…", and the
 * links whole after the SMS text. The peer checks both limits itself. */
START_TEST(test_multibyte_text_is_cut_at_the_limits)
{
    static const char emoji[] = "\xf0\x9f\x92\xbe"; /* U+1F4BE, two units */
    struct twilio_peer *p = peer_up();
    struct h_daemon d;
    const struct twilio_req *q;
    char *summary = repeat(emoji, 2100), *tail, *want, *cut;
    json_t *n;
    size_t keep, head = strlen("CRITICAL: ");
    int64_t id;

    up(&d, p, NULL, "call = true;");
    id = post_alert(&d, "disk-utf8", summary, "");
    n = h_wait_notification(&d, id, "pager", "trigger", "done", 15000);
    h_assert(&d, n != NULL, "the trigger was never delivered");
    json_decref(n);

    ck_assert_int_ge(asprintf(&tail, "\nRunbook: " RUNBOOK "\nIncident %lld: " EXTERNAL
                                     "/api/v1/incidents/%lld\nSource: %s",
                              (long long)id, (long long)id, GENERATOR), 0);
    /* Units left for the summary before "…": an odd count leaves one unit
     * empty rather than split an emoji. */
    keep = 1600 - head - strlen(tail) - 1;
    cut = repeat(emoji, keep / 2);
    ck_assert_int_ge(asprintf(&want, "CRITICAL: %s\xe2\x80\xa6%s", cut, tail), 0);
    q = req(&d, p, 0);
    expect_sms(&d, q, TO1, want);
    free(want);
    free(cut);

    /* TwiML: the opening, the summary cut, then the fixed end. */
    q = req(&d, p, 2);
    ck_assert_str_eq(q->kind, "call");
    {
        const char *open = "<Response><Say loop=\"2\">Alert from tocsin. Critical: ";
        char end[96];

        snprintf(end, sizeof end, "\xe2\x80\xa6. Incident %lld.</Say></Response>", (long long)id);
        keep = 4000 - strlen(open) - (strlen(end) - 2); /* "…" is 3 bytes, 1 unit */
        cut = repeat(emoji, keep / 2);
        ck_assert_int_ge(asprintf(&want, "%s%s%s", open, cut, end), 0);
        expect_str(&d, q->twiml, want);
        free(want);
        free(cut);
    }
    no_violations(&d, p);
    free(summary);
    free(tail);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    twilio_peer_free(p);
}
END_TEST

/* The token reaches Twilio (the peer checks basic auth) and nothing else:
 * not the debug log, the incident API, /metrics, --check-config or
 * --plugin-help. */
START_TEST(test_the_auth_token_stays_secret)
{
    struct twilio_peer *p = peer_up();
    struct h_daemon d;
    struct h_resp r;
    char path[64], *log, *out;
    json_t *n;
    int64_t id;

    twilio_peer_script(p, "500");
    up(&d, p, NULL, "call = true;");
    id = post_alert(&d, "disk-secret", "Disk 97% full on db1", "/var is 97% full.");
    n = h_wait_notification(&d, id, "pager", "trigger", "done", 15000);
    h_assert(&d, n != NULL, "the trigger was never delivered");
    json_decref(n);
    snprintf(path, sizeof path, "/api/v1/incidents/%lld", (long long)id);
    h_req(&d, "GET", path, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_null(strstr(r.body, TOKEN));
    h_resp_free(&r);
    h_req(&d, "GET", "/metrics", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_null(strstr(r.body, TOKEN));
    h_resp_free(&r);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    log = h_read_file(d.log);
    ck_assert_ptr_nonnull(log);
    ck_assert_msg(strstr(log, "SMS to " TO1 ": HTTP 201"), "no debug line per message");
    ck_assert_ptr_null(strstr(log, TOKEN));
    free(log);

    ck_assert_int_eq(h_run_tocsind(&out, "--check-config", "-c", d.conf, (char *)NULL), 0);
    ck_assert_ptr_null(strstr(out, TOKEN));
    free(out);
    ck_assert_int_eq(h_run_tocsind(&out, "--plugin-help", "twilio", "--plugin-dir",
                                   getenv("TOCSIN_PLUGIN_DIR"), (char *)NULL), 0);
    ck_assert_msg(strstr(out, "auth_token") && strstr(out, "secret"), "%s", out);
    free(out);
    no_violations(&d, p);
    twilio_peer_free(p);
}
END_TEST

/* A number that is not E.164 stops the daemon at start, naming it. */
START_TEST(test_check_config_names_a_bad_number)
{
    struct twilio_peer *p = peer_up();
    struct h_daemon d;
    char *out;

    h_init(&d);
    write_conf(&d, p, NULL, "to = [ \"" TO1 "\", \"0151 12345678\" ];");
    ck_assert_int_eq(h_run_tocsind(&out, "--check-config", "-c", d.conf, (char *)NULL), 1);
    ck_assert_msg(strstr(out, "pager") &&
                      strstr(out, "to: \"0151 12345678\" (item 2) is not an E.164 number"),
                  "%s", out);
    free(out);
    twilio_peer_free(p);
}
END_TEST

/* ---- tocsind --test-sink ------------------------------------------------ */

/* What --test-sink's notifications say (core/testsink.c). */
static void test_summary(char *buf, size_t len)
{
    char host[128] = "this host";

    gethostname(host, sizeof host - 1);
    snprintf(buf, len, "tocsin test notification from %s: not a real incident, nothing to do",
             host);
}

START_TEST(test_test_sink_texts_and_calls_marked_as_a_test)
{
    struct twilio_peer *p = peer_up();
    struct h_daemon d;
    char summary[300], *out = NULL, *text, *twiml;
    int rc;

    h_init(&d);
    write_conf(&d, p, NULL, "call = true;");
    rc = h_run_tocsind(&out, "-c", d.conf, "--test-sink", "pager", (char *)NULL);
    ck_assert_msg(rc == 0, "exit %d:\n%s", rc, out);
    ck_assert_msg(strstr(out, "trigger  delivered") && strstr(out, "resolve  delivered") &&
                      strstr(out, "provider: HTTP 201: {\"sid\":\"SM") &&
                      strstr(out, "OK: both delivered") && !strstr(out, TOKEN),
                  "%s", out);
    free(out);

    test_summary(summary, sizeof summary);
    /* No incident behind it: no incident line, no ledger. */
    ck_assert_int_ge(asprintf(&text, "[TEST] INFO: %s", summary), 0);
    ck_assert_int_ge(asprintf(&twiml, "<Response><Say loop=\"2\">This is a test. Alert from "
                                      "tocsin. Info: %s.</Say></Response>", summary), 0);
    ck_assert_uint_eq(twilio_peer_count(p), 6);
    expect_sms(&d, req(&d, p, 0), TO1, text);
    expect_sms(&d, req(&d, p, 1), TO2, text);
    expect_call(&d, req(&d, p, 2), TO1, twiml);
    expect_call(&d, req(&d, p, 3), TO2, twiml);
    free(text);
    ck_assert_int_ge(asprintf(&text, "[TEST] RESOLVED by tocsind --test-sink: %s\n"
                                     "Note: test notification: nothing was wrong", summary), 0);
    expect_sms(&d, req(&d, p, 4), TO1, text);
    expect_sms(&d, req(&d, p, 5), TO2, text);
    free(text);
    free(twiml);
    no_violations(&d, p);
    twilio_peer_free(p);
}
END_TEST

/* Twilio refuses the second number: the trigger fails with its words,
 * the resolve still goes, and the exit status says not both. */
START_TEST(test_test_sink_reports_a_refused_number)
{
    struct twilio_peer *p = peer_up();
    struct h_daemon d;
    char *out = NULL;
    int rc;

    twilio_peer_script(p, "201,400");
    h_init(&d);
    write_conf(&d, p, NULL, NULL);
    rc = h_run_tocsind(&out, "-c", d.conf, "--test-sink", "pager", (char *)NULL);
    ck_assert_msg(rc == 1, "exit %d:\n%s", rc, out);
    ck_assert_msg(strstr(out, "trigger  failed: 1 of 2 sent; SMS to " TO2 ": HTTP 400, Twilio "
                              "error 21211: The 'To' number " TO2 " is not a valid phone "
                              "number.") &&
                      strstr(out, "provider: HTTP 400: {\"code\":21211") &&
                      strstr(out, "resolve  delivered") &&
                      strstr(out, "FAILED: not both delivered") && !strstr(out, TOKEN),
                  "%s", out);
    free(out);
    ck_assert_uint_eq(twilio_peer_count(p), 4);
    no_violations(&d, p);
    twilio_peer_free(p);
}
END_TEST

/* ---- the peer itself: it must refuse what Twilio would ------------------ */

static void base64(const char *in, char *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(in), i;

    for (i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)in[i] << 16;

        v |= i + 1 < n ? (unsigned char)in[i + 1] << 8 : 0;
        v |= i + 2 < n ? (unsigned char)in[i + 2] : 0;
        *out++ = a[v >> 18 & 63];
        *out++ = a[v >> 12 & 63];
        *out++ = i + 1 < n ? a[v >> 6 & 63] : '=';
        *out++ = i + 2 < n ? a[v & 63] : '=';
    }
    *out = '\0';
}

/* POSTs form to the peer's resource; returns the status, *code Twilio's. */
static long peer_post(struct twilio_peer *p, const char *resource, const char *user_pass,
                      const char *content_type, const char *form, long *code)
{
    char url[256], auth[256], b64[200], ct[128];
    const char *headers[3] = { auth, ct, NULL };
    struct h_resp r;
    json_t *j;
    long status;

    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", twilio_peer_port(p), resource);
    base64(user_pass, b64);
    snprintf(auth, sizeof auth, "Authorization: Basic %s", b64);
    snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
    h_http_ex("POST", url, form, strlen(form), 5000, headers, &r);
    status = r.status;
    j = json_loads(r.body, 0, NULL);
    *code = json_integer_value(json_object_get(j, "code"));
    if (status == 201)
        *code = strncmp(json_string_value(json_object_get(j, "sid")), "SM", 2) == 0   ? 1
                : strncmp(json_string_value(json_object_get(j, "sid")), "CA", 2) == 0 ? 2
                                                                                      : 0;
    json_decref(j);
    h_resp_free(&r);
    return status;
}

START_TEST(test_the_peer_refuses_what_twilio_would)
{
    static const char msgs[] = "/2010-04-01/Accounts/" SID "/Messages.json";
    static const char calls[] = "/2010-04-01/Accounts/" SID "/Calls.json";
    static const char form_ct[] = "application/x-www-form-urlencoded";
    static const char ok_head[] = "To=%2B14155550101&From=%2B15005550006&";
    struct twilio_peer *p = peer_up();
    char *a1600 = repeat("a", 1600), *e800 = repeat("%F0%9F%92%BE", 800), form[16384];
    size_t bad = 0;
    long code;
    struct {
        const char *resource, *user_pass, *ct, *form;
        long status, code;
    } cases[] = {
        { msgs, SID ":" TOKEN, form_ct, "To=%2B14155550101&From=%2B15005550006&Body=hi", 201, 1 },
        { msgs, SID ":wrong", form_ct, "To=%2B14155550101&From=%2B15005550006&Body=hi", 401,
          20003 },
        { "/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages.json",
          "AC00000000000000000000000000000000:" TOKEN, form_ct,
          "To=%2B14155550101&From=%2B15005550006&Body=hi", 401, 20003 },
        { "/2010-04-01/Accounts/" SID "/SMS/Messages.json", SID ":" TOKEN, form_ct,
          "To=%2B14155550101&From=%2B15005550006&Body=hi", 404, 20404 },
        { msgs, SID ":" TOKEN, "application/json", "To=%2B14155550101&From=%2B15005550006&Body=hi",
          400, 20001 },
        /* A raw '+' would reach Twilio as a space. */
        { msgs, SID ":" TOKEN, form_ct, "To=+14155550101&From=%2B15005550006&Body=hi", 400,
          20001 },
        { msgs, SID ":" TOKEN, form_ct, "To=%2B14155550101&From=%2B15005550006&Body=a+b", 400,
          20001 },
        { msgs, SID ":" TOKEN, form_ct, "To=%2B1415555&From=%2B15005550006&Body=hi", 400, 21211 },
        { msgs, SID ":" TOKEN, form_ct, "To=%2B14155550101&From=%2B15005550006&Body=", 400,
          21602 },
        { msgs, SID ":" TOKEN, form_ct,
          "To=%2B14155550101&From=%2B15005550006&Body=hi&MediaUrl=x", 400, 20001 },
        { msgs, SID ":" TOKEN, form_ct, "To=%2B14155550101&From=%2B15005550006&Body=%C3", 400,
          20001 },
        { calls, SID ":" TOKEN, form_ct,
          "To=%2B14155550101&From=%2B15005550006&Twiml=%3CResponse%3E%3CSay%3Ea%20%26amp%20b"
          "%3C%2FSay%3E%3C%2FResponse%3E", 400, 12100 },
        { calls, SID ":" TOKEN, form_ct,
          "To=%2B14155550101&From=%2B15005550006&Twiml=%3CResponse%3E%3CSay%20loop%3D%222%22%3E"
          "a%20%26amp%3B%20b%3C%2FSay%3E%3C%2FResponse%3E", 201, 2 },
        { calls, SID ":" TOKEN, form_ct,
          "To=%2B14155550101&From=%2B15005550006&Body=hi", 400, 20001 },
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        long status = peer_post(p, cases[i].resource, cases[i].user_pass, cases[i].ct,
                                cases[i].form, &code);

        ck_assert_msg(status == cases[i].status && code == cases[i].code,
                      "case %zu (%s): HTTP %ld code %ld, expected %ld %ld", i, cases[i].form,
                      status, code, cases[i].status, cases[i].code);
        bad += status >= 400;
        ck_assert_uint_eq(twilio_peer_violations(p), bad);
    }
    ck_assert_str_eq(twilio_peer_get(p, 12)->say, "a & b");

    /* 1600 is the limit, counted in UTF-16 units (an emoji is two). */
    snprintf(form, sizeof form, "%sBody=%s", ok_head, a1600);
    ck_assert_int_eq(peer_post(p, msgs, SID ":" TOKEN, form_ct, form, &code), 201);
    snprintf(form, sizeof form, "%sBody=%sa", ok_head, a1600);
    ck_assert_int_eq(peer_post(p, msgs, SID ":" TOKEN, form_ct, form, &code), 400);
    ck_assert_int_eq(code, 21617);
    snprintf(form, sizeof form, "%sBody=%s", ok_head, e800);
    ck_assert_int_eq(peer_post(p, msgs, SID ":" TOKEN, form_ct, form, &code), 201);
    snprintf(form, sizeof form, "%sBody=%sa", ok_head, e800);
    ck_assert_int_eq(peer_post(p, msgs, SID ":" TOKEN, form_ct, form, &code), 400);
    ck_assert_int_eq(code, 21617);
    ck_assert_uint_eq(twilio_peer_violations(p), bad + 2);

    /* TwiML the sink must never send. */
    ck_assert_ptr_null(twilio_twiml_check("<Response><Say>hi</Say><Pause length=\"1\"/></Response>",
                                          NULL));
    ck_assert_ptr_nonnull(twilio_twiml_check("<Response><Say>a < b</Say></Response>", NULL));
    ck_assert_ptr_nonnull(twilio_twiml_check("<Response><Say>a &am</Say></Response>", NULL));
    ck_assert_ptr_nonnull(twilio_twiml_check("<Response><Say>hi</Response>", NULL));
    ck_assert_ptr_nonnull(twilio_twiml_check("<Response><Say>hi</Say>", NULL));
    ck_assert_ptr_nonnull(twilio_twiml_check("<Response></Response>", NULL));
    ck_assert_ptr_nonnull(twilio_twiml_check("<Say>hi</Say>", NULL));
    ck_assert_ptr_nonnull(twilio_twiml_check("<Response><Say loop=2>hi</Say></Response>", NULL));
    ck_assert_ptr_nonnull(twilio_twiml_check("<Response><Play>x</Play></Response>", NULL));
    free(a1600);
    free(e800);
    twilio_peer_free(p);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("twilio");
    TCase *tc = h_tcase("twilio", 90);

    tcase_add_test(tc, test_trigger_texts_and_calls_each_number);
    tcase_add_test(tc, test_acknowledge_and_resolve_send_sms_only);
    tcase_add_test(tc, test_a_retry_after_500_skips_who_has_it);
    tcase_add_test(tc, test_the_ledger_survives_a_restart);
    tcase_add_test(tc, test_a_refused_number_fails_with_twilios_reason);
    tcase_add_test(tc, test_429_waits_for_retry_after);
    tcase_add_test(tc, test_a_hung_api_is_retried);
    tcase_add_test(tc, test_multibyte_text_is_cut_at_the_limits);
    tcase_add_test(tc, test_the_auth_token_stays_secret);
    tcase_add_test(tc, test_check_config_names_a_bad_number);
    tcase_add_test(tc, test_test_sink_texts_and_calls_marked_as_a_test);
    tcase_add_test(tc, test_test_sink_reports_a_refused_number);
    tcase_add_test(tc, test_the_peer_refuses_what_twilio_would);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(suite());
}
