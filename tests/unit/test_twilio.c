/* test_twilio.c: the twilio sink's texts, TwiML and form encoding
 * (format.c), and its requests, verdicts, options and per-recipient ledger
 * (twilio.c, ledger.c) through a fake host with an in-memory plugin state. */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tocsin/plugin.h>

#include "format.h"
#include "fake_host.h"
#include "helpers.h"

extern const struct tocsin_plugin tocsin_plugin;

#define SID "AC0123456789abcdef0123456789abcdef"
#define TOKEN "s3cr3t-auth-t0ken"
#define FROM "+15005550006"
#define TO1 "+14155550101"
#define TO2 "+4915112345678"

static const struct tocsin_kv annotations[] = {
    { "summary", "Disk 97% full on db1" },
    { "runbook_url", "https://runbooks.example/disk-full" },
};
static const struct tocsin_kv links[] = {
    { "generator", "http://prom.example:9090/graph?g0.expr=disk_used_percent+%3E+95" },
};

static struct tocsin_alert alert;
static struct tocsin_notification note;

static void trigger(void)
{
    disk_full_trigger(&alert, &note, "pager");
    alert.dedup_key = "e94c744ae3d44df8";
    alert.annotations = annotations;
    alert.n_annotations = 2;
    alert.links = links;
    alert.n_links = 1;
    note.external_url = "http://tocsin.example:9099/";
}

static int ends_with(const char *s, const char *tail)
{
    size_t a = strlen(s), b = strlen(tail);

    return a >= b && strcmp(s + a - b, tail) == 0;
}

/* ---- format.c ----------------------------------------------------------- */

START_TEST(test_e164_numbers)
{
    ck_assert(twilio_e164_ok("+14155550100"));
    ck_assert(twilio_e164_ok("+12345678"));        /* 8 digits */
    ck_assert(twilio_e164_ok("+123456789012345")); /* 15 digits */
    ck_assert(twilio_e164_ok(TO2));
    ck_assert(!twilio_e164_ok("+1234567"));         /* 7 */
    ck_assert(!twilio_e164_ok("+1234567890123456")); /* 16 */
    ck_assert(!twilio_e164_ok("14155550100"));
    ck_assert(!twilio_e164_ok("+04155550100"));
    ck_assert(!twilio_e164_ok("+1 415 555 0100"));
    ck_assert(!twilio_e164_ok("+1415555010a"));
    ck_assert(!twilio_e164_ok("+"));
    ck_assert(!twilio_e164_ok(""));
    ck_assert(!twilio_e164_ok(NULL));
}
END_TEST

START_TEST(test_account_sids)
{
    ck_assert(twilio_account_sid_ok(SID));
    ck_assert(twilio_account_sid_ok("ACFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"));
    ck_assert(!twilio_account_sid_ok("SK0123456789abcdef0123456789abcdef"));
    ck_assert(!twilio_account_sid_ok("AC0123456789abcdef0123456789abcde"));
    ck_assert(!twilio_account_sid_ok("AC0123456789abcdef0123456789abcdef0"));
    ck_assert(!twilio_account_sid_ok("AC0123456789abcdef0123456789abcdeg"));
    ck_assert(!twilio_account_sid_ok("AC0123456789abcdef/../../abcdef012"));
    ck_assert(!twilio_account_sid_ok(NULL));
}
END_TEST

START_TEST(test_units_count_utf16)
{
    ck_assert_uint_eq(tc_text_units("abc"), 3);
    ck_assert_uint_eq(tc_text_units("\xc3\xa9"), 1);         /* é */
    ck_assert_uint_eq(tc_text_units("\xe2\x82\xac"), 1);     /* € */
    ck_assert_uint_eq(tc_text_units("\xf0\x9f\x98\x80"), 2); /* 😀 */
    ck_assert_uint_eq(tc_text_units(""), 0);
}
END_TEST

START_TEST(test_form_is_rfc3986_percent_encoded)
{
    struct tc_text t = { 0 };

    twilio_form_add(&t, "To", "+14155550101");
    twilio_form_add(&t, "Body", "a b&c=d/\xc3\xa9~._-\n+%");
    tc_text_put(&t, "", 1);
    ck_assert_str_eq(t.s, "To=%2B14155550101&Body=a%20b%26c%3Dd%2F%C3%A9~._-%0A%2B%25");
    free(t.s);
}
END_TEST

START_TEST(test_sms_trigger)
{
    char *s;

    trigger();
    s = twilio_sms_text(&note, TWILIO_SMS_MAX);
    ck_assert_str_eq(s, "CRITICAL: Disk 97% full on db1\n"
                        "/var is 97% full.\n"
                        "Runbook: https://runbooks.example/disk-full\n"
                        "Incident 12: http://tocsin.example:9099/api/v1/incidents/12\n"
                        "Source: http://prom.example:9090/graph?g0.expr=disk_used_percent+%3E+95");
    free(s);

    /* Without links, details or an external_url: the incident's number. */
    alert.n_annotations = 0;
    alert.n_links = 0;
    alert.details = NULL;
    alert.severity = TOCSIN_SEV_LOW;
    note.external_url = "";
    s = twilio_sms_text(&note, TWILIO_SMS_MAX);
    ck_assert_str_eq(s, "LOW: Disk 97% full on db1\nIncident 12");
    free(s);
}
END_TEST

START_TEST(test_sms_acknowledge_and_resolve)
{
    char *s;

    trigger();
    note.action = TOCSIN_ACT_ACKNOWLEDGE;
    note.actor = "alice";
    s = twilio_sms_text(&note, TWILIO_SMS_MAX);
    ck_assert_str_eq(s, "ACK by alice: Disk 97% full on db1\n"
                        "Incident 12: http://tocsin.example:9099/api/v1/incidents/12");
    free(s);

    note.action = TOCSIN_ACT_RESOLVE;
    note.actor = "bob";
    note.note = "freed 40G of old WAL\nand raised the alert threshold";
    s = twilio_sms_text(&note, TWILIO_SMS_MAX);
    ck_assert_str_eq(s, "RESOLVED by bob: Disk 97% full on db1\n"
                        "Note: freed 40G of old WAL\nand raised the alert threshold\n"
                        "Incident 12: http://tocsin.example:9099/api/v1/incidents/12");
    free(s);

    /* Expiry: nobody, and the core's note. */
    note.actor = NULL;
    note.note = "expired: the alert was not refreshed before 2026-11-23T03:19:00.000Z";
    s = twilio_sms_text(&note, TWILIO_SMS_MAX);
    ck_assert_str_eq(s, "RESOLVED: Disk 97% full on db1\n"
                        "Note: expired: the alert was not refreshed before "
                        "2026-11-23T03:19:00.000Z\n"
                        "Incident 12: http://tocsin.example:9099/api/v1/incidents/12");
    free(s);
}
END_TEST

START_TEST(test_sms_test_notification)
{
    char *s;

    trigger();
    note.test = 1;
    note.incident_id = 0;
    s = twilio_sms_text(&note, TWILIO_SMS_MAX);
    ck_assert_str_eq(s, "[TEST] CRITICAL: Disk 97% full on db1\n"
                        "/var is 97% full.\n"
                        "Runbook: https://runbooks.example/disk-full\n"
                        "Source: http://prom.example:9090/graph?g0.expr=disk_used_percent+%3E+95");
    free(s);
    note.action = TOCSIN_ACT_RESOLVE;
    note.actor = "tocsind --test-sink";
    s = twilio_sms_text(&note, TWILIO_SMS_MAX);
    ck_assert_str_eq(s, "[TEST] RESOLVED by tocsind --test-sink: Disk 97% full on db1");
    free(s);
}
END_TEST

START_TEST(test_sms_cleans_control_characters_and_bad_bytes)
{
    char *s;

    trigger();
    alert.summary = "a\tb\x01" "c\r\nd\xff";
    alert.details = "line 1\nline\x7f" "2";
    alert.n_annotations = alert.n_links = 0;
    note.external_url = "";
    s = twilio_sms_text(&note, TWILIO_SMS_MAX);
    ck_assert_str_eq(s, "CRITICAL: a b c  d\xef\xbf\xbd\nline 1\nline 2\nIncident 12");
    free(s);
}
END_TEST

/* 2000 three-byte characters of details: cut so the whole text is exactly
 * the limit, on a character, with "…", and the links whole after it. */
START_TEST(test_sms_cut_at_the_limit_on_a_character)
{
    const char *tail = "\nRunbook: https://runbooks.example/disk-full\n"
                       "Incident 12: http://tocsin.example:9099/api/v1/incidents/12\n"
                       "Source: http://prom.example:9090/graph?g0.expr=disk_used_percent+%3E+95";
    const char *head = "CRITICAL: Disk 97% full on db1\n";
    char *details = repeat("\xe2\x82\xac", 2000), *s, *want, *cut;
    size_t keep;

    trigger();
    alert.details = details;
    s = twilio_sms_text(&note, TWILIO_SMS_MAX);
    ck_assert(valid_utf8(s));
    ck_assert_uint_eq(tc_text_units(s), TWILIO_SMS_MAX);
    keep = TWILIO_SMS_MAX - strlen(head) - strlen(tail) - 1;
    cut = repeat("\xe2\x82\xac", keep);
    want = malloc(strlen(head) + strlen(cut) + strlen(tail) + 8);
    sprintf(want, "%s%s\xe2\x80\xa6%s", head, cut, tail);
    ck_assert_str_eq(s, want);
    free(s);
    free(want);
    free(cut);
    free(details);

    /* Emoji count two: one that would straddle the limit is left out. */
    details = repeat("\xf0\x9f\x98\x80", 1000);
    alert.details = details;
    s = twilio_sms_text(&note, TWILIO_SMS_MAX);
    ck_assert(valid_utf8(s));
    keep = TWILIO_SMS_MAX - strlen(head) - strlen(tail) - 1;
    ck_assert_uint_eq(tc_text_units(s), TWILIO_SMS_MAX - keep % 2);
    cut = repeat("\xf0\x9f\x98\x80", keep / 2);
    want = malloc(strlen(head) + strlen(cut) + strlen(tail) + 8);
    sprintf(want, "%s%s\xe2\x80\xa6%s", head, cut, tail);
    ck_assert_str_eq(s, want);
    free(s);
    free(want);
    free(cut);
    free(details);

    /* Exactly at the limit: nothing cut. */
    keep = TWILIO_SMS_MAX - strlen(head) - strlen(tail);
    details = repeat("\xc3\xa9", keep);
    alert.details = details;
    s = twilio_sms_text(&note, TWILIO_SMS_MAX);
    ck_assert_uint_eq(tc_text_units(s), TWILIO_SMS_MAX);
    ck_assert_ptr_null(strstr(s, "\xe2\x80\xa6"));
    free(s);
    free(details);
}
END_TEST

/* Links are never cut: the last lines go when they leave too little room. */
START_TEST(test_sms_long_links_are_left_out_not_cut)
{
    static struct tocsin_kv long_links[1];
    char *url = repeat("x", 1500), *gen, *s;

    trigger();
    gen = malloc(1600);
    snprintf(gen, 1600, "http://prom.example/%s", url);
    long_links[0].key = "generator";
    long_links[0].value = gen;
    alert.links = long_links;
    s = twilio_sms_text(&note, TWILIO_SMS_MAX);
    ck_assert_str_eq(s, "CRITICAL: Disk 97% full on db1\n"
                        "/var is 97% full.\n"
                        "Runbook: https://runbooks.example/disk-full\n"
                        "Incident 12: http://tocsin.example:9099/api/v1/incidents/12");
    free(s);
    /* A small limit keeps the head and drops links from the end. */
    alert.links = links;
    s = twilio_sms_text(&note, 200);
    ck_assert_uint_le(tc_text_units(s), 200);
    ck_assert(ends_with(s, "\nRunbook: https://runbooks.example/disk-full"));
    ck_assert_ptr_null(strstr(s, "Incident 12"));
    free(s);
    free(gen);
    free(url);
}
END_TEST

START_TEST(test_twiml_reads_the_summary)
{
    char *s;

    trigger();
    s = twilio_call_twiml(&note, TWILIO_TWIML_MAX);
    ck_assert_str_eq(s, "<Response><Say loop=\"2\">Alert from tocsin. Critical: Disk 97% full "
                        "on db1. Incident 12.</Say></Response>");
    free(s);
    alert.summary = "Latency <p99> > 2s for \"checkout\" & 'cart'!";
    alert.severity = TOCSIN_SEV_HIGH;
    note.test = 1;
    note.incident_id = 0;
    s = twilio_call_twiml(&note, TWILIO_TWIML_MAX);
    ck_assert_str_eq(s, "<Response><Say loop=\"2\">This is a test. Alert from tocsin. High: "
                        "Latency &lt;p99&gt; &gt; 2s for &quot;checkout&quot; &amp; "
                        "&apos;cart&apos;!</Say></Response>");
    free(s);
}
END_TEST

START_TEST(test_twiml_cut_never_inside_an_entity)
{
    char *summary = repeat("&\xc3\xa9", 2000), *s;
    const char *end = "\xe2\x80\xa6. Incident 12.</Say></Response>";
    size_t max;

    trigger();
    alert.summary = summary;
    for (max = 200; max < 208; max++) {
        const char *p;

        s = twilio_call_twiml(&note, max);
        ck_assert_msg(tc_text_units(s) <= max, "%zu units over %zu", tc_text_units(s), max);
        ck_assert_msg(tc_text_units(s) >= max - 5, "cut too short: %zu of %zu",
                      tc_text_units(s), max);
        ck_assert(valid_utf8(s));
        ck_assert(ends_with(s, end));
        /* Every '&' starts a whole "&amp;". */
        for (p = strchr(s, '&'); p; p = strchr(p + 1, '&'))
            ck_assert_msg(strncmp(p, "&amp;", 5) == 0, "a cut entity in %s", s);
        free(s);
    }
    free(summary);
}
END_TEST

START_TEST(test_error_text_is_twilios)
{
    char out[240];

    ck_assert(twilio_error_text(400,
                                "{\"code\": 21211, \"message\": \"The 'To' number +1555 is not "
                                "a valid phone number.\", \"more_info\": "
                                "\"https://www.twilio.com/docs/errors/21211\", \"status\": 400}",
                                out, sizeof out));
    ck_assert_str_eq(out, "HTTP 400, Twilio error 21211: The 'To' number +1555 is not a valid "
                          "phone number.");
    ck_assert(twilio_error_text(503, "{\"message\": \"Service Unavailable\"}", out, sizeof out));
    ck_assert_str_eq(out, "HTTP 503: Service Unavailable");
    strcpy(out, "untouched");
    ck_assert(!twilio_error_text(502, "<html>Bad Gateway</html>", out, sizeof out));
    ck_assert(!twilio_error_text(400, "{\"code\": 1}", out, sizeof out));
    ck_assert(!twilio_error_text(400, NULL, out, sizeof out));
    ck_assert_str_eq(out, "untouched");
    /* Cut on a character. */
    ck_assert(twilio_error_text(400, "{\"code\": 1, \"message\": \"\xc3\xa9\xc3\xa9\xc3\xa9\"}",
                                out, 33));
    ck_assert_str_eq(out, "HTTP 400, Twilio error 1: \xc3\xa9\xc3\xa9\xc3\xa9");
    ck_assert(twilio_error_text(400, "{\"code\": 1, \"message\": \"\xc3\xa9\xc3\xa9\xc3\xa9\"}",
                                out, 32));
    ck_assert_str_eq(out, "HTTP 400, Twilio error 1: \xc3\xa9\xc3\xa9");
}
END_TEST

/* ---- twilio.c and ledger.c through a fake host ------------------------- */

struct call_copy {
    char url[256], user[64], password[64];
    char *headers[8];
    size_t n_headers;
    char *body;
};

struct answer {
    long status;
    const char *body;
    int retry_after;
};

#define MAX_CALLS 16

/* The shared fake host; its http_sized is replaced by one that keeps the
 * credentials and answers from a script. */
static struct fake_host fh;
static struct call_copy calls[MAX_CALLS];
static size_t n_calls, total_calls;
static struct answer script[MAX_CALLS];
static size_t n_script;
static void *conf, *self;
static const char *to_items[4];

static const char *const MESSAGE_201 =
    "{\"sid\": \"SM0123456789abcdef0123456789abcdef\", \"status\": \"queued\"}";
static const char *const CALL_201 =
    "{\"sid\": \"CA0123456789abcdef0123456789abcdef\", \"status\": \"queued\"}";
static const char *const ERROR_21211 =
    "{\"code\": 21211, \"message\": \"The 'To' number +4915112345678 is not a valid phone "
    "number.\", \"more_info\": \"https://www.twilio.com/docs/errors/21211\", \"status\": 400}";
static const char *const ERROR_500 =
    "{\"code\": 20500, \"message\": \"Internal Server Error\", \"more_info\": "
    "\"https://www.twilio.com/docs/errors/20500\", \"status\": 500}";

static int fake_http_sized(const struct tocsin_host *h, const struct tocsin_http_call *c,
                           size_t call_size, struct tocsin_http_result *res, size_t res_size)
{
    struct call_copy *k;
    struct answer a = { 201, NULL, -1 };
    size_t i;

    (void)h;
    ck_assert_uint_eq(call_size, sizeof *c);
    ck_assert_uint_eq(res_size, sizeof *res);
    ck_assert_uint_lt(n_calls, MAX_CALLS);
    k = &calls[n_calls];
    for (i = 0; i < k->n_headers; i++)
        free(k->headers[i]);
    free(k->body);
    total_calls++;
    ck_assert_str_eq(c->method, "POST");
    snprintf(k->url, sizeof k->url, "%s", c->url);
    snprintf(k->user, sizeof k->user, "%s", c->username ? c->username : "(none)");
    snprintf(k->password, sizeof k->password, "%s", c->password ? c->password : "(none)");
    for (i = 0; c->headers && c->headers[i] && i < 8; i++)
        k->headers[i] = strdup(c->headers[i]);
    k->n_headers = i;
    k->body = malloc(c->body_len + 1);
    memcpy(k->body, c->body, c->body_len);
    k->body[c->body_len] = '\0';
    if (n_calls < n_script)
        a = script[n_calls];
    n_calls++;
    memset(res, 0, sizeof *res);
    res->status = a.status;
    res->retry_after = a.retry_after;
    if (a.status == 0)
        snprintf(res->error, sizeof res->error, "Connection refused");
    if (!a.body)
        a.body = strstr(c->url, "Calls.json") ? CALL_201 : MESSAGE_201;
    res->body = a.status ? strdup(a.body) : NULL;
    res->body_len = res->body ? strlen(res->body) : 0;
    return a.status ? TOCSIN_OK : TOCSIN_ERROR;
}

static const char *state_value(const char *key)
{
    return fake_host_state(&fh, key);
}

static void *field(const char *name)
{
    return plugin_field(conf, name);
}

static void set_to(size_t n)
{
    struct tocsin_strlist *l = field("to");

    l->n = n;
    l->items = to_items;
}

static void plugin_setup(void)
{
    trigger();
    fake_host_init(&fh, "pager", 0);
    fh.host.http_sized = fake_http_sized;
    memset(calls, 0, sizeof calls);
    n_calls = total_calls = n_script = 0;
    self = NULL;
    conf = calloc(1, tocsin_plugin.conf_size);
    *(const char **)field("account_sid") = SID;
    *(const char **)field("auth_token") = TOKEN;
    *(const char **)field("from") = FROM;
    *(const char **)field("api_url") = "https://api.twilio.com";
    to_items[0] = TO1;
    to_items[1] = TO2;
    set_to(2);
}

static void plugin_teardown(void)
{
    size_t i, j;

    if (self)
        tocsin_plugin.destroy(self);
    for (i = 0; i < MAX_CALLS; i++) {
        for (j = 0; j < calls[i].n_headers; j++)
            free(calls[i].headers[j]);
        free(calls[i].body);
    }
    fake_host_release(&fh);
    free(conf);
    /* The auth token never reaches a log line or an error message. */
    ck_assert_msg(!strstr(fh.logs, TOKEN), "the token is in the log:\n%s", fh.logs);
    ck_assert_ptr_null(strstr(fh.failed, TOKEN));
    ck_assert_uint_eq(fh.frees, total_calls);
}

static void answers(size_t n, ...)
{
    va_list ap;
    size_t i;

    va_start(ap, n);
    for (i = 0; i < n; i++)
        script[i] = va_arg(ap, struct answer);
    va_end(ap);
    n_script = n;
}

#define OK201 ((struct answer){ 201, NULL, -1 })

static struct tocsin_verdict deliver(void)
{
    return plugin_deliver(self, &note);
}

static void create_ok(void)
{
    ck_assert_msg(tocsin_plugin.create(&fh.host, conf, &self) == TOCSIN_OK, "create: %s",
                  fh.failed);
}

static int has_header(const struct call_copy *c, const char *h)
{
    size_t i;

    for (i = 0; i < c->n_headers; i++)
        if (strcmp(c->headers[i], h) == 0)
            return 1;
    return 0;
}

START_TEST(test_option_table)
{
    const struct tocsin_option *o;

    ck_assert_str_eq(tocsin_plugin.name, "twilio");
    ck_assert_int_eq(tocsin_plugin.kind, TOCSIN_SINK);
    ck_assert_ptr_null(tocsin_plugin.deliver);
    o = plugin_option("account_sid");
    ck_assert_int_eq(o->type, TOCSIN_OPT_STRING);
    ck_assert_uint_eq(o->flags, TOCSIN_OPT_REQUIRED);
    o = plugin_option("auth_token");
    ck_assert_int_eq(o->type, TOCSIN_OPT_STRING);
    ck_assert_uint_eq(o->flags, TOCSIN_OPT_REQUIRED | TOCSIN_OPT_SECRET);
    o = plugin_option("from");
    ck_assert_uint_eq(o->flags, TOCSIN_OPT_REQUIRED);
    o = plugin_option("to");
    ck_assert_int_eq(o->type, TOCSIN_OPT_STRLIST);
    ck_assert_uint_eq(o->flags, TOCSIN_OPT_REQUIRED);
    o = plugin_option("api_url");
    ck_assert_str_eq(o->def, "https://api.twilio.com");
    o = plugin_option("call");
    ck_assert_int_eq(o->type, TOCSIN_OPT_BOOL);
    ck_assert_str_eq(o->def, "false");
    ck_assert_ptr_null(tocsin_plugin.options[6].name);
}
END_TEST

/* Each create error names the option and what is wrong, never the token. */
START_TEST(test_create_checks_the_options)
{
    struct { const char *option, *value, *error; } cases[] = {
        { "account_sid", "SK0123456789abcdef0123456789abcdef",
          "account_sid must be \"AC\" followed by 32 hex digits, the Account SID of the "
          "Twilio console" },
        { "account_sid", TOKEN,
          "account_sid must be \"AC\" followed by 32 hex digits, the Account SID of the "
          "Twilio console" },
        { "auth_token", "", "auth_token must not be empty" },
        { "from", "4155550100",
          "from: \"4155550100\" is not an E.164 number ('+' and 8 to 15 digits, e.g. "
          "+14155550100)" },
        { "api_url", "ftp://api.twilio.com",
          "api_url must start with https:// (or http:// for a local test peer)" },
        { "api_url", "https://api.twilio.com/?x=1",
          "api_url must be a base URL, without a query or fragment" },
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        plugin_setup();
        *(const char **)field(cases[i].option) = cases[i].value;
        ck_assert_int_eq(tocsin_plugin.create(&fh.host, conf, &self), TOCSIN_ERROR);
        ck_assert_str_eq(fh.failed, cases[i].error);
        ck_assert_ptr_null(self);
        plugin_teardown();
    }
    plugin_setup();
    to_items[1] = "+49 151 12345678";
    ck_assert_int_eq(tocsin_plugin.create(&fh.host, conf, &self), TOCSIN_ERROR);
    ck_assert_str_eq(fh.failed, "to: \"+49 151 12345678\" (item 2) is not an E.164 number ('+' "
                             "and 8 to 15 digits, e.g. +14155550100)");
    to_items[1] = TO1;
    ck_assert_int_eq(tocsin_plugin.create(&fh.host, conf, &self), TOCSIN_ERROR);
    ck_assert_str_eq(fh.failed, "to: " TO1 " is listed twice (items 1 and 2)");
    set_to(0);
    ck_assert_int_eq(tocsin_plugin.create(&fh.host, conf, &self), TOCSIN_ERROR);
    ck_assert_str_eq(fh.failed, "to must name at least one number");
    plugin_teardown();
}
END_TEST

START_TEST(test_a_1_0_host_fails_create_clearly)
{
    fh.host.size = offsetof(struct tocsin_host, emit_sized);
    fh.host.abi_minor = 0;
    ck_assert_int_eq(tocsin_plugin.create(&fh.host, conf, &self), TOCSIN_ENOTSUP);
    ck_assert_str_eq(fh.failed, "needs tocsin plugin ABI 1.1 (host has 1.0)");
    ck_assert_ptr_null(self);
}
END_TEST

/* A trigger with call = true: an SMS to each number, then a call to each. */
START_TEST(test_trigger_sends_sms_then_calls)
{
    struct tocsin_verdict v;
    const char *msgs = "https://api.twilio.com/2010-04-01/Accounts/" SID "/Messages.json";
    const char *calls_url = "https://api.twilio.com/2010-04-01/Accounts/" SID "/Calls.json";
    size_t i;

    *(const char **)field("api_url") = "https://api.twilio.com/";
    *(int *)field("call") = 1;
    alert.n_annotations = alert.n_links = 0;
    alert.details = NULL;
    note.external_url = "";
    create_ok();
    v = deliver();
    ck_assert_int_eq(v.kind, TOCSIN_DONE);
    ck_assert_uint_eq(n_calls, 4);
    ck_assert_str_eq(calls[0].url, msgs);
    ck_assert_str_eq(calls[1].url, msgs);
    ck_assert_str_eq(calls[2].url, calls_url);
    ck_assert_str_eq(calls[3].url, calls_url);
    ck_assert_str_eq(calls[0].body, "To=%2B14155550101&From=%2B15005550006&"
                                    "Body=CRITICAL%3A%20Disk%2097%25%20full%20on%20db1%0A"
                                    "Incident%2012");
    ck_assert_str_eq(calls[1].body, "To=%2B4915112345678&From=%2B15005550006&"
                                    "Body=CRITICAL%3A%20Disk%2097%25%20full%20on%20db1%0A"
                                    "Incident%2012");
    ck_assert_str_eq(calls[2].body,
                     "To=%2B14155550101&From=%2B15005550006&Twiml="
                     "%3CResponse%3E%3CSay%20loop%3D%222%22%3EAlert%20from%20tocsin.%20"
                     "Critical%3A%20Disk%2097%25%20full%20on%20db1.%20Incident%2012."
                     "%3C%2FSay%3E%3C%2FResponse%3E");
    ck_assert(strncmp(calls[3].body, "To=%2B4915112345678&From=%2B15005550006&Twiml=", 46) == 0);
    for (i = 0; i < 4; i++) {
        ck_assert_str_eq(calls[i].user, SID);
        ck_assert_str_eq(calls[i].password, TOKEN);
        ck_assert(has_header(&calls[i], "Content-Type: application/x-www-form-urlencoded"));
        ck_assert(has_header(&calls[i], "Accept: application/json"));
    }
    /* Done: the ledger was written as it went, and is gone now. */
    ck_assert_int_eq(fh.state_puts, 4);
    ck_assert_ptr_null(state_value("sent/7"));

    /* Acknowledge and resolve: an SMS each, no call. */
    n_calls = 0;
    note.action = TOCSIN_ACT_ACKNOWLEDGE;
    note.actor = "alice";
    note.outbox_id = 8;
    ck_assert_int_eq(deliver().kind, TOCSIN_DONE);
    ck_assert_uint_eq(n_calls, 2);
    ck_assert_str_eq(calls[0].url, msgs);
    ck_assert_str_eq(calls[1].url, msgs);
    ck_assert(strstr(calls[0].body, "Body=ACK%20by%20alice%3A%20Disk"));
}
END_TEST

/* The second number's SMS gets a 500: the retry sends only that one. */
START_TEST(test_retry_sends_only_what_is_missing)
{
    struct tocsin_verdict v;

    create_ok();
    answers(2, OK201, ((struct answer){ 500, ERROR_500, -1 }));
    v = deliver();
    ck_assert_int_eq(v.kind, TOCSIN_RETRY);
    ck_assert_int_eq(v.retry_after, 0);
    ck_assert_str_eq(v.reason, "1 of 2 sent; SMS to " TO2 ": HTTP 500, Twilio error 20500: "
                               "Internal Server Error");
    ck_assert_uint_eq(n_calls, 2);
    ck_assert_str_eq(state_value("sent/7"), "sms " TO1 " ok SM0123456789abcdef0123456789abcdef\n");

    n_calls = n_script = 0;
    note.attempt = 2;
    v = deliver();
    ck_assert_int_eq(v.kind, TOCSIN_DONE);
    ck_assert_uint_eq(n_calls, 1);
    ck_assert(strncmp(calls[0].body, "To=%2B4915112345678&", 20) == 0);
    ck_assert_ptr_null(state_value("sent/7"));
    ck_assert_int_eq(fh.state_deletes, 1);
}
END_TEST

/* A number Twilio refuses fails the delivery for good, once the others
 * got theirs; it is not tried again meanwhile. */
START_TEST(test_a_refused_number_fails_once_the_rest_is_sent)
{
    struct tocsin_verdict v;
    const char *reason = "1 of 2 sent; SMS to " TO2 ": HTTP 400, Twilio error 21211: The 'To' "
                         "number +4915112345678 is not a valid phone number.";

    create_ok();
    answers(2, ((struct answer){ 503, "{}", -1 }), ((struct answer){ 400, ERROR_21211, -1 }));
    v = deliver();
    ck_assert_int_eq(v.kind, TOCSIN_RETRY);
    ck_assert_str_eq(v.reason, "0 of 2 sent; SMS to " TO1 ": HTTP 503: {}");
    ck_assert(strstr(state_value("sent/7"), "sms " TO2 " failed SMS to " TO2 ": HTTP 400"));

    n_calls = n_script = 0;
    v = deliver();
    ck_assert_int_eq(v.kind, TOCSIN_FAILED);
    ck_assert_str_eq(v.reason, reason);
    ck_assert_uint_eq(n_calls, 1);
    ck_assert(strncmp(calls[0].body, "To=%2B14155550101&", 18) == 0);
    ck_assert_ptr_null(state_value("sent/7"));
}
END_TEST

/* 429 (and no answer at all) end the attempt: the rest waits for the retry. */
START_TEST(test_429_and_no_answer_end_the_attempt)
{
    struct tocsin_verdict v;

    create_ok();
    answers(1, ((struct answer){ 429,
                                 "{\"code\": 20429, \"message\": \"Too Many Requests\", "
                                 "\"status\": 429}", 30 }));
    v = deliver();
    ck_assert_int_eq(v.kind, TOCSIN_RETRY);
    ck_assert_int_eq(v.retry_after, 30);
    ck_assert_str_eq(v.reason, "0 of 2 sent; SMS to " TO1 ": HTTP 429, Twilio error 20429: "
                               "Too Many Requests");
    ck_assert_uint_eq(n_calls, 1);

    n_calls = 0;
    answers(1, ((struct answer){ 0, NULL, -1 }));
    v = deliver();
    ck_assert_int_eq(v.kind, TOCSIN_RETRY);
    ck_assert_str_eq(v.reason, "0 of 2 sent; SMS to " TO1 ": Connection refused");
    ck_assert_uint_eq(n_calls, 1);
    ck_assert_ptr_null(state_value("sent/7"));
}
END_TEST

/* One number, a 401: no count, Twilio's reason, nothing kept. */
START_TEST(test_bad_credentials_fail_without_the_token)
{
    struct tocsin_verdict v;

    set_to(1);
    create_ok();
    answers(1, ((struct answer){ 401,
                                 "{\"code\": 20003, \"message\": \"Authenticate\", "
                                 "\"more_info\": \"https://www.twilio.com/docs/errors/20003\", "
                                 "\"status\": 401}", -1 }));
    v = deliver();
    ck_assert_int_eq(v.kind, TOCSIN_FAILED);
    ck_assert_str_eq(v.reason, "SMS to " TO1 ": HTTP 401, Twilio error 20003: Authenticate");
    ck_assert_ptr_null(strstr(v.reason, TOKEN));
    ck_assert_ptr_null(state_value("sent/7"));
}
END_TEST

/* --test-sink's notifications (no outbox row) keep no ledger. */
START_TEST(test_test_notifications_keep_no_ledger)
{
    create_ok();
    note.test = 1;
    note.incident_id = 0;
    note.outbox_id = 0;
    answers(2, OK201, ((struct answer){ 500, ERROR_500, -1 }));
    ck_assert_int_eq(deliver().kind, TOCSIN_RETRY);
    ck_assert_int_eq(fh.state_puts, 0);
    ck_assert(strstr(calls[0].body, "Body=%5BTEST%5D%20CRITICAL"));
}
END_TEST

/* Without plugin state (a host that offers none) it still pages. */
START_TEST(test_without_state_every_attempt_sends_to_all)
{
    fh.host.state_get = NULL;
    create_ok();
    ck_assert(strstr(fh.logs, "keeps no plugin state"));
    answers(2, OK201, ((struct answer){ 500, ERROR_500, -1 }));
    ck_assert_int_eq(deliver().kind, TOCSIN_RETRY);
    n_calls = n_script = 0;
    ck_assert_int_eq(deliver().kind, TOCSIN_DONE);
    ck_assert_uint_eq(n_calls, 2);
}
END_TEST

START_TEST(test_plain_http_away_from_loopback_is_warned)
{
    *(const char **)field("api_url") = "http://127.0.0.1:8080";
    create_ok();
    ck_assert_ptr_null(strstr(fh.logs, "plain http"));
    tocsin_plugin.destroy(self);
    self = NULL;
    *(const char **)field("api_url") = "http://twilio-proxy.internal";
    create_ok();
    ck_assert(strstr(fh.logs, "api_url is plain http: the auth token crosses the network "
                           "unencrypted"));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("twilio");
    TCase *fmt = tcase_create("format");
    TCase *plugin = tcase_create("plugin");
    TCase *checks = tcase_create("create");

    tcase_add_test(fmt, test_e164_numbers);
    tcase_add_test(fmt, test_account_sids);
    tcase_add_test(fmt, test_units_count_utf16);
    tcase_add_test(fmt, test_form_is_rfc3986_percent_encoded);
    tcase_add_test(fmt, test_sms_trigger);
    tcase_add_test(fmt, test_sms_acknowledge_and_resolve);
    tcase_add_test(fmt, test_sms_test_notification);
    tcase_add_test(fmt, test_sms_cleans_control_characters_and_bad_bytes);
    tcase_add_test(fmt, test_sms_cut_at_the_limit_on_a_character);
    tcase_add_test(fmt, test_sms_long_links_are_left_out_not_cut);
    tcase_add_test(fmt, test_twiml_reads_the_summary);
    tcase_add_test(fmt, test_twiml_cut_never_inside_an_entity);
    tcase_add_test(fmt, test_error_text_is_twilios);
    suite_add_tcase(s, fmt);

    /* Sets up and tears down per case itself. */
    tcase_add_test(checks, test_create_checks_the_options);
    suite_add_tcase(s, checks);

    tcase_add_checked_fixture(plugin, plugin_setup, plugin_teardown);
    tcase_add_test(plugin, test_option_table);
    tcase_add_test(plugin, test_a_1_0_host_fails_create_clearly);
    tcase_add_test(plugin, test_trigger_sends_sms_then_calls);
    tcase_add_test(plugin, test_retry_sends_only_what_is_missing);
    tcase_add_test(plugin, test_a_refused_number_fails_once_the_rest_is_sent);
    tcase_add_test(plugin, test_429_and_no_answer_end_the_attempt);
    tcase_add_test(plugin, test_bad_credentials_fail_without_the_token);
    tcase_add_test(plugin, test_test_notifications_keep_no_ledger);
    tcase_add_test(plugin, test_without_state_every_attempt_sends_to_all);
    tcase_add_test(plugin, test_plain_http_away_from_loopback_is_warned);
    suite_add_tcase(s, plugin);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    int n;

    srunner_run_all(sr, CK_ENV);
    n = srunner_ntests_failed(sr);
    srunner_free(sr);
    return n ? EXIT_FAILURE : EXIT_SUCCESS;
}
