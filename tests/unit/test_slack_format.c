/* test_slack_format.c: the slack sink's pure parts: its messages against
 * fixtures and against the fake Slack's Block Kit checks (format.c), text
 * escaped and cut within Slack's limits (text.c), and Slack's answers and
 * the per-incident reference read (answer.c). */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tocsin/plugin.h>

#include "../peers/slack_blocks.h"
#include "answer.h"
#include "common.h"
#include "format.h"
#include "helpers.h"
#include "text.h"

#define T_031245_123 1795403565123LL
#define T_031246 1795403566000LL
#define T_0318 1795403880000LL

static struct tocsin_kv labels[16];
static const struct tocsin_kv annotations[] = {
    { "summary", "Disk 97% full on db1" },
    { "runbook_url", "https://runbooks.example/disk-full" },
};
static struct tocsin_kv links[4];
static struct tocsin_alert alert;
static struct tocsin_notification note;
static struct slack_style style;

static void setup(void)
{
    memset(labels, 0, sizeof labels);
    labels[0] = (struct tocsin_kv){ "alertname", "DiskFull" };
    labels[1] = (struct tocsin_kv){ "instance", "db1" };
    labels[2] = (struct tocsin_kv){ "severity", "critical" };
    labels[3] = (struct tocsin_kv){ "service", "node" };
    memset(links, 0, sizeof links);
    links[0] = (struct tocsin_kv){
        "generator", "http://prom.example:9090/graph?g0.expr=disk_used_percent+%3E+95&g0.tab=1"
    };
    links[1] = (struct tocsin_kv){ "Dashboard", "https://grafana.example/d/disk?var-host=db1" };
    memset(&alert, 0, sizeof alert);
    alert.dedup_key = "e94c744ae3d44df8";
    alert.severity = TOCSIN_SEV_CRITICAL;
    alert.summary = "Disk 97% full on db1";
    alert.details = "/var is 97% full.\nFree: 1.2 GB < 2 GB & falling";
    alert.source = "prom";
    alert.service = "node";
    alert.labels = labels;
    alert.n_labels = 4;
    alert.annotations = annotations;
    alert.n_annotations = 2;
    alert.links = links;
    alert.n_links = 2;
    alert.started_at = T_031245_123;
    memset(&note, 0, sizeof note);
    note.sink_id = "chat";
    note.incident_id = 12;
    note.action = TOCSIN_ACT_TRIGGER;
    note.alert = &alert;
    note.occurrences = 3;
    note.first_seen = T_031246;
    note.last_seen = T_0318;
    note.attempt = 1;
    note.external_url = "http://tocsin.example:9099/";
    note.outbox_id = 7;
    slack_style_default(&style);
    style.mention[TOCSIN_SEV_CRITICAL] = "<!here> <@U024BE7LH>";
    style.mention[TOCSIN_SEV_HIGH] = "<!subteam^S0614TZR7>";
}

static void problem(void *arg, const char *what)
{
    (void)arg;
    fprintf(stderr, "Block Kit check: %s\n", what);
}

/* The message for the notification as it stands, checked as the fake
 * Slack checks every message it gets. */
static json_t *message(int mention)
{
    json_t *m = slack_message(&note, &style, mention);

    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(slack_check_message(m, problem, NULL), 0);
    return m;
}

static void expect_fixture(json_t *got, const char *name)
{
    const char *top = getenv("TOCSIN_SRCDIR");
    char path[1024];
    json_error_t e;
    json_t *want;

    snprintf(path, sizeof path, "%s/tests/fixtures/slack/%s", top ? top : TOCSIN_TOP_SRCDIR,
             name);
    want = json_load_file(path, 0, &e);
    ck_assert_msg(want != NULL, "fixture %s: %s", path, e.text);
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_INDENT(2));

        ck_abort_msg("%s differs; got:\n%s", name, g);
    }
    json_decref(want);
}

static json_t *blocks_of(json_t *m)
{
    return json_object_get(json_array_get(json_object_get(m, "attachments"), 0), "blocks");
}

/* The first block of type, or NULL. */
static json_t *block(json_t *m, const char *type)
{
    size_t i;
    json_t *b;

    json_array_foreach(blocks_of(m), i, b)
        if (strcmp(json_string_value(json_object_get(b, "type")), type) == 0)
            return b;
    return NULL;
}

static const char *header_text(json_t *m)
{
    return json_string_value(json_object_get(json_object_get(block(m, "header"), "text"), "text"));
}

static const char *str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* ---- messages ------------------------------------------------------------ */

START_TEST(test_trigger_matches_fixture)
{
    json_t *m = message(1);

    expect_fixture(m, "trigger.json");
    /* What the fixture holds, said plainly. */
    ck_assert_str_eq(str(m, "text"), "<!here> <@U024BE7LH> [CRITICAL] Disk 97% full on db1");
    ck_assert_str_eq(str(json_array_get(json_object_get(m, "attachments"), 0), "color"),
                     "#D00000");
    ck_assert_str_eq(header_text(m), "CRITICAL: Disk 97% full on db1");
    ck_assert_str_eq(str(block(m, "context"), "block_id"), "tocsin-12-7-1795403566000");
    ck_assert(json_is_false(json_object_get(m, "unfurl_links")));
    json_decref(m);
}
END_TEST

START_TEST(test_acknowledge_matches_fixture)
{
    json_t *m;

    note.action = TOCSIN_ACT_ACKNOWLEDGE;
    note.actor = "bob";
    m = message(0);
    expect_fixture(m, "acknowledge.json");
    ck_assert_str_eq(str(m, "text"), "[ACKNOWLEDGED] Disk 97% full on db1");
    ck_assert_str_eq(str(json_array_get(json_object_get(m, "attachments"), 0), "color"),
                     "#9B59B6");
    json_decref(m);
}
END_TEST

START_TEST(test_resolve_matches_fixture)
{
    json_t *m, *b;
    char *r;

    note.action = TOCSIN_ACT_RESOLVE;
    note.actor = "alice";
    note.note = "freed /var/log <tmp> & rotated";
    m = message(0);
    expect_fixture(m, "resolve.json");
    ck_assert_str_eq(str(m, "text"), "[RESOLVED] Disk 97% full on db1");
    ck_assert_str_eq(str(json_array_get(json_object_get(m, "attachments"), 0), "color"),
                     "#2EB67D");
    r = slack_reply_text(&note);
    ck_assert_str_eq(r, "*Resolved* by alice\nfreed /var/log &lt;tmp&gt; &amp; rotated");
    free(r);
    json_decref(m);
    /* The reply as a message: the text, and a section marked as this
     * notification's. */
    m = slack_reply(&note);
    ck_assert_int_eq(slack_check_message(m, problem, NULL), 0);
    ck_assert_str_eq(str(m, "text"),
                     "*Resolved* by alice\nfreed /var/log &lt;tmp&gt; &amp; rotated");
    b = json_array_get(json_object_get(m, "blocks"), 0);
    ck_assert_str_eq(str(b, "block_id"), "tocsin-12-7-1795403566000");
    ck_assert_str_eq(str(json_object_get(b, "text"), "text"), str(m, "text"));
    json_decref(m);
}
END_TEST

START_TEST(test_mention_only_on_a_real_trigger)
{
    json_t *m;

    alert.severity = TOCSIN_SEV_HIGH;
    m = message(1);
    ck_assert_str_eq(str(m, "text"), "<!subteam^S0614TZR7> [HIGH] Disk 97% full on db1");
    ck_assert_str_eq(str(json_array_get(json_object_get(m, "attachments"), 0), "color"),
                     "#F07000");
    json_decref(m);
    /* No mention configured for medium. */
    alert.severity = TOCSIN_SEV_MEDIUM;
    m = message(1);
    ck_assert_str_eq(str(m, "text"), "[MEDIUM] Disk 97% full on db1");
    json_decref(m);
    /* A test never pings anyone. */
    alert.severity = TOCSIN_SEV_CRITICAL;
    note.test = 1;
    m = message(1);
    ck_assert_str_eq(str(m, "text"), "[TEST] [CRITICAL] Disk 97% full on db1");
    json_decref(m);
}
END_TEST

START_TEST(test_a_test_notification_says_so)
{
    json_t *m, *ctx, *b;
    size_t i;
    char *r;

    note.test = 1;
    note.incident_id = 0;
    m = message(1);
    ck_assert_str_eq(header_text(m), "[TEST] CRITICAL: Disk 97% full on db1");
    ctx = json_array_get(json_object_get(block(m, "context"), "elements"), 0);
    ck_assert_ptr_nonnull(strstr(str(ctx, "text"), "Test notification"));
    ck_assert_ptr_null(strstr(str(ctx, "text"), "incident 0"));
    /* No incident page for incident 0. */
    json_array_foreach(json_object_get(block(m, "actions"), "elements"), i, b)
        ck_assert_ptr_null(strstr(str(b, "url"), "/api/v1/incidents/"));
    json_decref(m);
    note.action = TOCSIN_ACT_RESOLVE;
    r = slack_reply_text(&note);
    ck_assert_str_eq(r, "[TEST] *Resolved*");
    free(r);
}
END_TEST

START_TEST(test_who_resolved_and_expiry)
{
    json_t *m;
    char *r;

    note.action = TOCSIN_ACT_RESOLVE;
    note.actor = "expired";
    r = slack_reply_text(&note);
    ck_assert_str_eq(r, "*Resolved*: expired (the alert was not sent again in time)");
    free(r);
    note.actor = NULL;
    r = slack_reply_text(&note);
    ck_assert_str_eq(r, "*Resolved*");
    free(r);
    note.action = TOCSIN_ACT_ACKNOWLEDGE;
    note.actor = "a<b>";
    r = slack_reply_text(&note);
    ck_assert_str_eq(r, "*Acknowledged* by a&lt;b&gt;");
    free(r);
    m = message(0);
    json_decref(m);
}
END_TEST

START_TEST(test_user_text_is_escaped_everywhere)
{
    json_t *m;
    char *all;

    alert.summary = "<!channel> & <https://evil.example|click>";
    labels[4] = (struct tocsin_kv){ "team<x>", "a&b" };
    alert.n_labels = 5;
    links[2] = (struct tocsin_kv){ "<b>", "https://x.example/?a=1&b=2" };
    alert.n_links = 3;
    m = message(1);
    ck_assert_str_eq(header_text(m),
                     "CRITICAL: &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;");
    ck_assert_str_eq(str(m, "text"), "<!here> <@U024BE7LH> [CRITICAL] &lt;!channel&gt; &amp; "
                                     "&lt;https://evil.example|click&gt;");
    all = json_dumps(m, JSON_COMPACT);
    ck_assert_ptr_nonnull(strstr(all, "\"*team&lt;x&gt;*\\na&amp;b\""));
    /* A URL is a URL, not text: kept as it is in the button. */
    ck_assert_ptr_nonnull(strstr(all, "\"url\":\"https://x.example/?a=1&b=2\""));
    ck_assert_ptr_nonnull(strstr(all, "\"text\":\"&lt;b&gt;\""));
    free(all);
    json_decref(m);
}
END_TEST

/* Characters as Slack counts them at most: code points. */
static size_t chars(const char *s)
{
    return slack_chars(s);
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), k = strlen(tail);

    return n >= k && strcmp(s + n - k, tail) == 0;
}

START_TEST(test_header_cut_at_150_on_a_character)
{
    /* 2-, 3- and 4-byte characters, 200 of each: "CRITICAL: " is 10, so
     * 139 of them and "…" make 150. A 4-byte one counts 2 (UTF-16). */
    const char *units[] = { "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x94\xa5" };
    size_t i;

    for (i = 0; i < 3; i++) {
        char *summary = repeat(units[i], 200);
        json_t *m;
        const char *h;

        alert.summary = summary;
        m = message(0);
        h = header_text(m);
        ck_assert(valid_utf8(h));
        ck_assert(ends_with(h, SLK_ELLIPSIS));
        if (i < 2)
            ck_assert_uint_eq(chars(h), 150);
        else
            ck_assert_uint_eq(chars(h), 10 + 69 + 1); /* 69 * 2 + 11 <= 150 */
        ck_assert_int_eq(strncmp(h, "CRITICAL: ", 10), 0);
        json_decref(m);
        free(summary);
    }
}
END_TEST

START_TEST(test_a_summary_exactly_at_the_limit_is_not_cut)
{
    char *summary = repeat("\xe2\x82\xac", 140); /* 10 + 140 = 150 */
    json_t *m;

    alert.summary = summary;
    m = message(0);
    ck_assert_uint_eq(chars(header_text(m)), 150);
    ck_assert(!ends_with(header_text(m), SLK_ELLIPSIS));
    ck_assert_str_eq(header_text(m) + 10, summary);
    json_decref(m);
    free(summary);
}
END_TEST

START_TEST(test_a_cut_never_splits_an_entity)
{
    /* 10 + 137 "x" leave 3 characters: "&amp;" (5) does not fit. */
    char *x = repeat("x", 137), summary[400];
    json_t *m;

    snprintf(summary, sizeof summary, "%s&&&", x);
    alert.summary = summary;
    m = message(0);
    ck_assert(ends_with(header_text(m), "x" SLK_ELLIPSIS));
    ck_assert_uint_eq(chars(header_text(m)), 148);
    json_decref(m);
    free(x);
}
END_TEST

START_TEST(test_details_cut_at_3000_and_fields_at_2000)
{
    char *details = repeat("\xc3\xa9<", 2000), *value = repeat("\xe4\xb8\xad", 2500);
    json_t *m, *f;
    const char *t;

    alert.details = details;
    labels[4] = (struct tocsin_kv){ "long", value };
    alert.n_labels = 5;
    m = message(0);
    t = str(json_object_get(json_array_get(blocks_of(m), 1), "text"), "text");
    ck_assert(valid_utf8(t));
    ck_assert_uint_le(chars(t), 3000);
    ck_assert_uint_ge(chars(t), 2996);
    ck_assert(ends_with(t, SLK_ELLIPSIS));
    ck_assert(ends_with(t, "&lt;" SLK_ELLIPSIS) || ends_with(t, "\xc3\xa9" SLK_ELLIPSIS));
    f = json_array_get(json_object_get(json_array_get(blocks_of(m), 2), "fields"), 4);
    ck_assert_uint_eq(chars(str(f, "text")), 2000);
    ck_assert(ends_with(str(f, "text"), SLK_ELLIPSIS));
    json_decref(m);
    free(details);
    free(value);
}
END_TEST

START_TEST(test_more_labels_than_fields)
{
    char keys[14][8];
    json_t *m, *fields;
    size_t i;

    for (i = 0; i < 14; i++) {
        snprintf(keys[i], sizeof keys[i], "k%zu", i);
        labels[i] = (struct tocsin_kv){ keys[i], "v" };
    }
    alert.n_labels = 14;
    m = message(0);
    fields = json_object_get(json_array_get(blocks_of(m), 2), "fields");
    ck_assert_uint_eq(json_array_size(fields), 10);
    ck_assert_str_eq(str(json_array_get(fields, 0), "text"), "*Service*\nnode");
    ck_assert_str_eq(str(json_array_get(fields, 8), "text"), "*k6*\nv");
    ck_assert_str_eq(str(json_array_get(fields, 9), "text"),
                     "*Other labels*\nk7=v, k8=v, k9=v, k10=v, k11=v, k12=v, k13=v");
    json_decref(m);
    /* Exactly as many as fit: no "Other labels". */
    alert.n_labels = 8;
    m = message(0);
    fields = json_object_get(json_array_get(blocks_of(m), 2), "fields");
    ck_assert_uint_eq(json_array_size(fields), 10);
    ck_assert_str_eq(str(json_array_get(fields, 9), "text"), "*k7*\nv");
    json_decref(m);
}
END_TEST

START_TEST(test_buttons_only_for_usable_urls)
{
    char *long_url = repeat("a", 3001), *title = repeat("T", 80);
    json_t *m, *els;

    memcpy(long_url, "https://", 8);
    links[1] = (struct tocsin_kv){ "js", "javascript:alert(1)" };
    links[2] = (struct tocsin_kv){ "space", "https://x.example/a b" };
    links[3] = (struct tocsin_kv){ "long", long_url };
    alert.n_links = 4;
    note.external_url = "";
    m = message(0);
    els = json_object_get(block(m, "actions"), "elements");
    ck_assert_uint_eq(json_array_size(els), 2); /* Runbook, Source */
    json_decref(m);
    links[1] = (struct tocsin_kv){ title, "https://x.example/" };
    alert.n_links = 2;
    alert.annotations = NULL;
    alert.n_annotations = 0;
    m = message(0);
    els = json_object_get(block(m, "actions"), "elements");
    ck_assert_uint_eq(json_array_size(els), 2);
    ck_assert_uint_eq(chars(str(json_object_get(json_array_get(els, 1), "text"), "text")), 75);
    json_decref(m);
    /* No links at all: no actions block. */
    alert.n_links = 0;
    m = message(0);
    ck_assert_ptr_null(block(m, "actions"));
    json_decref(m);
    free(long_url);
    free(title);
}
END_TEST

START_TEST(test_bare_alert)
{
    json_t *m;

    alert.summary = NULL;
    alert.details = NULL;
    alert.service = NULL;
    alert.source = NULL;
    alert.n_labels = 0;
    alert.n_annotations = 0;
    alert.n_links = 0;
    note.first_seen = 0;
    alert.started_at = 0;
    note.occurrences = 1;
    note.external_url = NULL;
    m = message(0);
    ck_assert_str_eq(header_text(m), "CRITICAL: (no summary)");
    ck_assert_uint_eq(json_array_size(blocks_of(m)), 2); /* header, context */
    ck_assert_str_eq(
        str(json_array_get(json_object_get(block(m, "context"), "elements"), 0), "text"),
        "tocsin incident 12");
    json_decref(m);
    ck_assert_ptr_null(slack_message(NULL, &style, 0));
    note.alert = NULL;
    ck_assert_ptr_null(slack_message(&note, &style, 0));
}
END_TEST

/* ---- text.c -------------------------------------------------------------- */

START_TEST(test_text_units)
{
    struct slk_text t;
    char *s;

    s = slk_fit("a\tb\nc\x01" "d\xff" "e", 100, SLK_ESCAPE);
    ck_assert_str_eq(s, "a\tb\nc d\xef\xbf\xbd" "e");
    free(s);
    s = slk_fit("a\tb\r\nc", 100, SLK_ESCAPE | SLK_ONE_LINE);
    ck_assert_str_eq(s, "a b  c");
    free(s);
    s = slk_fit("abcdef", 6, 0);
    ck_assert_str_eq(s, "abcdef");
    free(s);
    s = slk_fit("abcdefg", 6, 0);
    ck_assert_str_eq(s, "abcde" SLK_ELLIPSIS);
    free(s);
    /* Own markup is whole or not there. */
    slk_init(&t, 10);
    slk_put(&t, "abc", 0);
    slk_raw(&t, "<!subteam^S1>");
    slk_put(&t, "more", 0);
    s = slk_take(&t);
    ck_assert_str_eq(s, "abc" SLK_ELLIPSIS);
    free(s);
    s = slk_fit(NULL, 5, 0);
    ck_assert_str_eq(s, "");
    free(s);
}
END_TEST

/* ---- answer.c ------------------------------------------------------------ */

START_TEST(test_answers)
{
    struct slack_answer a;
    const char *ok = "{\"ok\":true,\"channel\":\"C1H9RESGL\",\"ts\":\"1503435956.000247\"}";
    const char *err = "{\"ok\":false,\"error\":\"missing_scope\",\"needed\":\"chat:write\"}";

    ck_assert_int_eq(slack_answer_parse(ok, strlen(ok), &a), 0);
    ck_assert(a.ok);
    ck_assert_str_eq(a.channel, "C1H9RESGL");
    ck_assert_str_eq(a.ts, "1503435956.000247");
    ck_assert_int_eq(slack_answer_parse(err, strlen(err), &a), 0);
    ck_assert(!a.ok);
    ck_assert_str_eq(a.error, "missing_scope");
    ck_assert_str_eq(a.needed, "chat:write");
    ck_assert_int_eq(slack_answer_parse("ok", 2, &a), -1);
    ck_assert_int_eq(slack_answer_parse("{\"ok\":1}", 8, &a), -1);
    ck_assert_int_eq(slack_answer_parse(NULL, 0, &a), -1);
    /* What cannot go into a reference is dropped. */
    ck_assert_int_eq(slack_answer_parse("{\"ok\":true,\"channel\":\"c 1\",\"ts\":\"x\"}", 36, &a),
                     0);
    ck_assert_str_eq(a.channel, "");
    ck_assert_str_eq(a.ts, "");

    ck_assert(slack_error_transient("ratelimited"));
    ck_assert(slack_error_transient("internal_error"));
    ck_assert(slack_error_transient("fatal_error"));
    ck_assert(slack_error_transient("service_unavailable"));
    ck_assert(slack_error_transient("request_timeout"));
    ck_assert(!slack_error_transient("channel_not_found"));
    ck_assert(!slack_error_transient(""));
    ck_assert(slack_error_message_gone("message_not_found"));
    ck_assert(!slack_error_message_gone("invalid_auth"));
}
END_TEST

START_TEST(test_refs)
{
    char buf[64], ch[32], ts[32];

    ck_assert_int_eq(slack_ref_format(buf, sizeof buf, "C0123", "1503435956.000247"), 0);
    ck_assert_str_eq(buf, "C0123 1503435956.000247");
    ck_assert_int_eq(slack_ref_parse(buf, ch, sizeof ch, ts, sizeof ts), 0);
    ck_assert_str_eq(ch, "C0123");
    ck_assert_str_eq(ts, "1503435956.000247");
    ck_assert_int_eq(slack_ref_format(buf, sizeof buf, "#alerts", "1.2"), -1);
    ck_assert_int_eq(slack_ref_format(buf, sizeof buf, "C1", "12"), -1);
    ck_assert_int_eq(slack_ref_format(buf, 8, "C0123", "1503435956.000247"), -1);
    ck_assert_int_eq(slack_ref_parse(NULL, ch, sizeof ch, ts, sizeof ts), -1);
    ck_assert_int_eq(slack_ref_parse("C1", ch, sizeof ch, ts, sizeof ts), -1);
    ck_assert_int_eq(slack_ref_parse("C1 1.2 x", ch, sizeof ch, ts, sizeof ts), -1);
    ck_assert_int_eq(slack_ref_parse("<m@x> 1.2", ch, sizeof ch, ts, sizeof ts), -1);
}
END_TEST

START_TEST(test_history)
{
    const char *h = "{\"ok\":true,\"has_more\":true,\"messages\":["
                    "{\"ts\":\"3.0\",\"blocks\":[{\"type\":\"section\",\"block_id\":\"x\"}]},"
                    "{\"ts\":\"2.0\",\"attachments\":"
                    "[{\"blocks\":[{\"block_id\":\"tocsin-1-2\"}]}]},"
                    "{\"ts\":\"1.0\"}]}";
    char ts[32], err[64];
    int more;

    ck_assert_int_eq(slack_history_find(h, strlen(h), "tocsin-1-2", NULL, ts, sizeof ts, &more, err,
                                        sizeof err), 1);
    ck_assert_str_eq(ts, "2.0");
    ck_assert(more);
    ck_assert_int_eq(slack_history_find(h, strlen(h), "x", NULL, ts, sizeof ts, &more, err,
                                        sizeof err), 1);
    ck_assert_str_eq(ts, "3.0");
    /* A thread's parent is skipped: it carries the update's marker. */
    ck_assert_int_eq(slack_history_find(h, strlen(h), "x", "3.0", ts, sizeof ts, &more, err,
                                        sizeof err), 0);
    ck_assert_int_eq(slack_history_find(h, strlen(h), "tocsin-9-9", NULL, ts, sizeof ts, &more, err,
                                        sizeof err), 0);
    h = "{\"ok\":false,\"error\":\"missing_scope\"}";
    ck_assert_int_eq(slack_history_find(h, strlen(h), "x", NULL, ts, sizeof ts, &more, err,
                                        sizeof err), -1);
    ck_assert_str_eq(err, "missing_scope");
}
END_TEST

/* ---- the fake Slack's own checks (tests/peers/slack_blocks.c) ------------ */

static int problems(const char *json)
{
    json_error_t e;
    json_t *m = json_loads(json, 0, &e);
    int n;

    ck_assert_msg(m != NULL, "%s: %s", json, e.text);
    n = slack_check_message(m, NULL, NULL);
    json_decref(m);
    return n;
}

#define ATT(blocks)                                                                        \
    "{\"text\":\"t\",\"attachments\":[{\"color\":\"#D00000\",\"blocks\":[" blocks "]}]}"
#define HEADER(t) "{\"type\":\"header\",\"text\":{\"type\":\"plain_text\",\"text\":\"" t "\"}}"

START_TEST(test_the_peer_catches_what_slack_refuses)
{
    char *big = repeat("x", 151), *json;
    size_t n;

    ck_assert_int_eq(problems(ATT(HEADER("fine &amp; &lt;ok&gt;"))), 0);
    ck_assert_int_eq(problems("{\"text\":\"<!here> <@U1> <!subteam^S1|@ops> <#C1> "
                              "<https://x.example/?a=1&amp;b|label> "
                              "<!date^1392734382^{date}|Feb 18>\"}"), 0);
    ck_assert_int_eq(problems("{\"text\":\"a < b\"}"), 1);
    ck_assert_int_eq(problems("{\"text\":\"a & b\"}"), 1);
    ck_assert_int_eq(problems("{\"text\":\"a > b\"}"), 1);
    ck_assert_int_eq(problems("{\"text\":\"<!date^1^{date}>\"}"), 2); /* no fallback: < and > raw */
    ck_assert_int_eq(problems("{\"text\":\"<https://x|a & b>\"}"), 1);
    ck_assert_int_eq(problems("{}"), 1);
    json = malloc(400);
    snprintf(json, 400, ATT(HEADER("%s")), big);
    ck_assert_int_eq(problems(json), 1);
    free(json);
    ck_assert_int_eq(problems(ATT("{\"type\":\"header\",\"text\":{\"type\":\"mrkdwn\","
                                  "\"text\":\"x\"}}")), 1);
    ck_assert_int_eq(
        problems("{\"attachments\":[{\"color\":\"red\",\"blocks\":[" HEADER("x") "]}]}"), 1);
    ck_assert_int_eq(problems(ATT("{\"type\":\"carousel\"}")), 1);
    ck_assert_int_eq(problems(ATT("{\"type\":\"divider\",\"block_id\":\"a\"},"
                                  "{\"type\":\"divider\",\"block_id\":\"a\"}")), 1);
    ck_assert_int_eq(problems(ATT("{\"type\":\"section\"}")), 1);
    ck_assert_int_eq(problems(ATT("{\"type\":\"actions\",\"elements\":[{\"type\":\"button\","
                                  "\"text\":{\"type\":\"plain_text\",\"text\":\"b\"},"
                                  "\"url\":\"ftp://x\"}]}")), 1);
    /* 11 fields, 51 blocks. */
    json = malloc(20000);
    strcpy(json, "{\"blocks\":[{\"type\":\"section\",\"fields\":[");
    for (n = 0; n < 11; n++)
        strcat(json, n ? ",{\"type\":\"mrkdwn\",\"text\":\"f\"}"
                       : "{\"type\":\"mrkdwn\",\"text\":\"f\"}");
    strcat(json, "]}]}");
    ck_assert_int_eq(problems(json), 1);
    strcpy(json, "{\"blocks\":[");
    for (n = 0; n < 51; n++)
        strcat(json, n ? ",{\"type\":\"divider\"}" : "{\"type\":\"divider\"}");
    strcat(json, "]}");
    ck_assert_int_eq(problems(json), 1);
    free(json);
    free(big);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("slack_format");
    TCase *fmt = tcase_create("format");
    TCase *rest = tcase_create("text and answers");

    tcase_add_checked_fixture(fmt, setup, NULL);
    tcase_add_test(fmt, test_trigger_matches_fixture);
    tcase_add_test(fmt, test_acknowledge_matches_fixture);
    tcase_add_test(fmt, test_resolve_matches_fixture);
    tcase_add_test(fmt, test_mention_only_on_a_real_trigger);
    tcase_add_test(fmt, test_a_test_notification_says_so);
    tcase_add_test(fmt, test_who_resolved_and_expiry);
    tcase_add_test(fmt, test_user_text_is_escaped_everywhere);
    tcase_add_test(fmt, test_header_cut_at_150_on_a_character);
    tcase_add_test(fmt, test_a_summary_exactly_at_the_limit_is_not_cut);
    tcase_add_test(fmt, test_a_cut_never_splits_an_entity);
    tcase_add_test(fmt, test_details_cut_at_3000_and_fields_at_2000);
    tcase_add_test(fmt, test_more_labels_than_fields);
    tcase_add_test(fmt, test_buttons_only_for_usable_urls);
    tcase_add_test(fmt, test_bare_alert);
    suite_add_tcase(s, fmt);
    tcase_add_test(rest, test_text_units);
    tcase_add_test(rest, test_answers);
    tcase_add_test(rest, test_refs);
    tcase_add_test(rest, test_history);
    tcase_add_test(rest, test_the_peer_catches_what_slack_refuses);
    suite_add_tcase(s, rest);
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
