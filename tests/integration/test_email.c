/* test_email.c: the email sink in the real tocsind against a real SMTP
 * server on 127.0.0.1 (tests/peers/smtp_peer.py: aiosmtpd with STARTTLS or
 * TLS from the start, a CA made by openssl, AUTH PLAIN or LOGIN), which
 * parses every message with Python's email package: headers, encoded
 * words, both parts, threading (also across a restart), retries with the
 * same Message-ID, permanent refusals, the UTF-8 cut of a long subject.
 * Skipped (exit 77) when python3 cannot import aiosmtpd. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../peers/smtp_peer.h"
#include "harness.h"

#define PASSWORD "s3cret-smtp-pw-7d1e"

struct fixture {
    struct h_daemon d;
    struct smtp_peer *p;
    const char *from; /* NULL: "tocsin <alerts@example.org>" */
};

/* The daemon with the generic input and one email sink "mail" to the
 * peer; sink_extra goes inside the sink's block. */
static void write_config(struct fixture *f, const char *scheme, const char *sink_extra)
{
    h_write_config(&f->d,
                   "daemon = { listen = \"127.0.0.1:0\"; state_dir = \"%s\";\n"
                   "  plugin_dir = \"%s\"; log_level = \"debug\";\n"
                   "  external_url = \"http://tocsin.example:9099/\"; };\n"
                   "inputs = ( { id = \"api\"; plugin = \"generic\"; } );\n"
                   "sinks = ( { id = \"mail\"; plugin = \"email\";\n"
                   "  url = \"%s://127.0.0.1:%d/tocsin.test\";\n"
                   "  from = \"%s\";\n"
                   "  to = [ \"ops@example.org\", \"Ops Two <ops2@example.org>\" ];\n"
                   "  cc = [ \"dba@example.org\", \"OPS@example.org\" ];\n"
                   "  retry_base = \"100ms\"; retry_max = \"500ms\"; max_attempts = 5;\n"
                   "  %s } );\n"
                   "routes = ( { sinks = [ \"mail\" ]; } );\n",
                   f->d.state_dir, getenv("TOCSIN_PLUGIN_DIR"), scheme, smtp_peer_port(f->p),
                   f->from ? f->from : "tocsin <alerts@example.org>", sink_extra);
}

static void up(struct fixture *f, const struct smtp_peer_opts *o, const char *scheme,
               const char *sink_extra)
{
    char dir[H_PATH_MAX];

    h_init(&f->d);
    snprintf(dir, sizeof dir, "%s/smtp", f->d.dir);
    f->p = smtp_peer_start(dir, o);
    write_config(f, scheme, sink_extra);
    h_start(&f->d);
}

static void down(struct fixture *f)
{
    h_assert(&f->d, smtp_peer_violations(f->p) == 0, "the SMTP peer saw violations");
    h_assert(&f->d, h_stop(&f->d, 15000) == 0, "SIGTERM: exit status not 0");
    smtp_peer_free(f->p);
}

static int64_t post(struct h_daemon *d, const char *json, const char *key)
{
    struct h_resp r;
    int64_t id;

    h_req(d, "POST", "/api/v1/alerts", json, &r);
    h_assert(d, r.status == 202, "POST /api/v1/alerts: HTTP %ld: %s", r.status, r.body);
    h_resp_free(&r);
    id = h_incident_by_key(d, key);
    h_assert(d, id > 0, "no incident %s", key);
    return id;
}

static int64_t post_simple(struct h_daemon *d, const char *key, const char *severity,
                           const char *summary)
{
    char body[2048];

    snprintf(body, sizeof body,
             "{\"dedup_key\": \"%s\", \"severity\": \"%s\", \"summary\": \"%s\"}", key,
             severity, summary);
    return post(d, body, key);
}

static void act(struct h_daemon *d, int64_t id, const char *verb, const char *body)
{
    char path[128];
    struct h_resp r;

    snprintf(path, sizeof path, "/api/v1/incidents/%lld/%s", (long long)id, verb);
    h_req(d, "POST", path, body, &r);
    h_assert(d, r.status == 200, "%s: HTTP %ld: %s", path, r.status, r.body);
    h_resp_free(&r);
}

static json_t *wait_done(struct h_daemon *d, int64_t id, const char *action, int attempts)
{
    json_t *n = h_wait_notification(d, id, "mail", action, "done", 20000);

    h_assert(d, n != NULL, "the %s mail of incident %lld was never delivered", action,
             (long long)id);
    if (attempts)
        h_assert(d, h_jint(n, "attempts") == attempts, "%s: %lld attempts, expected %d",
                 action, (long long)h_jint(n, "attempts"), attempts);
    return n;
}

static const char *jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    ck_assert_msg(s != NULL, "no string %s", key);
    return s;
}

static void assert_contains(const char *hay, const char *needle, const char *what)
{
    ck_assert_msg(hay && strstr(hay, needle), "%s lacks \"%s\":\n%s", what, needle,
                  hay ? hay : "(null)");
}

/* A trigger, an acknowledge and a resolve, over STARTTLS with AUTH PLAIN,
 * checked field by field as the peer's MIME parser read them. */
START_TEST(test_trigger_ack_resolve_over_starttls_and_auth)
{
    static const char alert[] =
        "{\"dedup_key\": \"disk-db1\", \"severity\": \"critical\","
        " \"summary\": \"Disk 97% full on db1 \xe2\x80\x94 caf\xc3\xa9 <b>&</b>\","
        " \"details\": \"/var is 97% full.\\nThe biggest directory is /var/log/journal, which"
        " grew by 12 GiB in the last six hours; rotate it or the database stops.\","
        " \"service\": \"postgres\","
        " \"labels\": {\"alertname\": \"DiskFull\", \"instance\": \"db1\"},"
        " \"annotations\": {\"runbook_url\": \"https://runbooks.example/disk?a=1&b=2\"},"
        " \"links\": {\"generator\": \"http://prom.example:9090/graph?g0.expr=up\","
        " \"evil\": \"javascript:alert(1)\"}}";
    struct smtp_peer_opts o = { .starttls = 1, .require_tls = 1, .user = "tocsin",
                                .password = PASSWORD, .auth_mech = "PLAIN" };
    char extra[2048], want[256], *log, *out = NULL;
    const char *id0, *text, *html;
    struct fixture f = { .from = NULL };
    json_t *m, *n, *inc, *rcpt;
    int64_t id;
    int rc;

    setenv("TOCSIN_IT_SMTP_PASSWORD", PASSWORD, 1);
    h_init(&f.d);
    {
        char dir[H_PATH_MAX];

        snprintf(dir, sizeof dir, "%s/smtp", f.d.dir);
        f.p = smtp_peer_start(dir, &o);
    }
    snprintf(extra, sizeof extra,
             "username = \"tocsin\"; password = \"env:TOCSIN_IT_SMTP_PASSWORD\";\n"
             "  ca_file = \"%s\"; subject_prefix = \"[tocsin]\";",
             smtp_peer_ca(f.p));
    write_config(&f, "smtp", extra);
    rc = h_run_tocsind(&out, "--check-config", "-c", f.d.conf, (char *)NULL);
    h_assert(&f.d, rc == 0, "--check-config: exit %d: %s", rc, out);
    h_assert(&f.d, !strstr(out, PASSWORD), "--check-config shows the password: %s", out);
    free(out);
    h_start(&f.d);

    id = post(&f.d, alert, "disk-db1");
    json_decref(wait_done(&f.d, id, "trigger", 1));
    h_assert(&f.d, smtp_peer_wait(f.p, 1, 5000) == 1, "no message at the peer");
    m = smtp_peer_get(f.p, 0);
    ck_assert_int_eq(json_integer_value(json_object_get(m, "answer")), 250);
    ck_assert_msg(json_is_true(json_object_get(m, "tls")), "the message came without TLS");
    ck_assert_str_eq(jstr(m, "auth_user"), "tocsin");
    ck_assert_str_eq(jstr(m, "auth_mech"), "PLAIN");
    /* The envelope: every To and Cc once (OPS@ is ops@), no one else. */
    ck_assert_str_eq(jstr(m, "mail_from"), "alerts@example.org");
    rcpt = json_object_get(m, "rcpt_tos");
    ck_assert_int_eq(json_array_size(rcpt), 3);
    ck_assert_str_eq(json_string_value(json_array_get(rcpt, 0)), "ops@example.org");
    ck_assert_str_eq(json_string_value(json_array_get(rcpt, 1)), "ops2@example.org");
    ck_assert_str_eq(json_string_value(json_array_get(rcpt, 2)), "dba@example.org");
    /* Headers, decoded by the parser. */
    ck_assert_str_eq(jstr(m, "subject"),
                     "[tocsin] [CRITICAL] Disk 97% full on db1 \xe2\x80\x94 caf\xc3\xa9 <b>&</b>");
    assert_contains(jstr(m, "raw"), "\r\nSubject: =?UTF-8?B?", "the raw message");
    ck_assert_str_eq(smtp_msg_header(m, "From"), "tocsin <alerts@example.org>");
    ck_assert_str_eq(smtp_msg_header(m, "To"), "ops@example.org, Ops Two <ops2@example.org>");
    ck_assert_str_eq(smtp_msg_header(m, "Cc"), "dba@example.org, OPS@example.org");
    ck_assert_str_eq(smtp_msg_header(m, "MIME-Version"), "1.0");
    ck_assert_str_eq(smtp_msg_header(m, "Auto-Submitted"), "auto-generated");
    snprintf(want, sizeof want, "%lld", (long long)id);
    ck_assert_str_eq(smtp_msg_header(m, "X-Tocsin-Incident"), want);
    ck_assert_str_eq(smtp_msg_header(m, "X-Tocsin-Action"), "trigger");
    id0 = jstr(m, "message_id");
    snprintf(want, sizeof want, "<tocsin.%lld.", (long long)id);
    ck_assert_msg(strncmp(id0, want, strlen(want)) == 0, "Message-ID %s", id0);
    ck_assert_msg(strstr(id0, "@example.org>"), "Message-ID %s", id0);
    ck_assert_ptr_null(smtp_msg_header(m, "In-Reply-To"));
    ck_assert_int_le(json_integer_value(json_object_get(m, "max_line")), 78);
    /* Both parts, decoded: the facts, the links, HTML escaped. */
    text = smtp_msg_part(m, "text/plain");
    assert_contains(text, "Triggered: Disk 97% full on db1 \xe2\x80\x94 caf\xc3\xa9 <b>&</b>",
                    "text");
    assert_contains(text, "Severity         critical", "text");
    assert_contains(text, "Service          postgres", "text");
    assert_contains(text, "which grew by 12 GiB", "text");
    assert_contains(text, "  alertname: DiskFull", "text");
    assert_contains(text, "  Runbook: https://runbooks.example/disk?a=1&b=2", "text");
    assert_contains(text, "  Source: http://prom.example:9090/graph?g0.expr=up", "text");
    snprintf(want, sizeof want, "  Incident: http://tocsin.example:9099/api/v1/incidents/%lld",
             (long long)id);
    assert_contains(text, want, "text");
    html = smtp_msg_part(m, "text/html");
    assert_contains(html, "<h2>Disk 97% full on db1 \xe2\x80\x94 caf\xc3\xa9 "
                          "&lt;b&gt;&amp;&lt;/b&gt;</h2>", "html");
    ck_assert_msg(!strstr(html, "<b>&</b>"), "unescaped alert text in the HTML:\n%s", html);
    assert_contains(html, "<a href=\"https://runbooks.example/disk?a=1&amp;b=2\">Runbook</a>",
                    "html");
    assert_contains(html, "<a href=\"http://prom.example:9090/graph?g0.expr=up\">Source</a>",
                    "html");
    /* A javascript: URL is shown, never made a link. */
    assert_contains(html, "evil: javascript:alert(1)", "html");
    ck_assert_msg(!strstr(html, "href=\"javascript"), "a javascript: link in the HTML");

    act(&f.d, id, "ack", "{\"by\": \"alice\"}");
    json_decref(wait_done(&f.d, id, "acknowledge", 1));
    h_assert(&f.d, smtp_peer_wait(f.p, 2, 5000) == 2, "no acknowledge mail");
    m = smtp_peer_get(f.p, 1);
    ck_assert_str_eq(jstr(m, "subject"), "[tocsin] Acknowledged: [CRITICAL] Disk 97% full on "
                                         "db1 \xe2\x80\x94 caf\xc3\xa9 <b>&</b>");
    ck_assert_str_eq(jstr(m, "in_reply_to"), id0);
    ck_assert_str_eq(jstr(m, "references"), id0);
    ck_assert_str_ne(jstr(m, "message_id"), id0);
    assert_contains(smtp_msg_part(m, "text/plain"), "Acknowledged by alice: Disk", "ack text");
    assert_contains(smtp_msg_part(m, "text/html"), "Acknowledged by alice</div>", "ack html");

    act(&f.d, id, "resolve", "{\"by\": \"bob\", \"note\": \"rotated the journal & <ok>\"}");
    json_decref(wait_done(&f.d, id, "resolve", 1));
    h_assert(&f.d, smtp_peer_wait(f.p, 3, 5000) == 3, "no resolve mail");
    m = smtp_peer_get(f.p, 2);
    ck_assert_str_eq(jstr(m, "subject"), "[tocsin] Resolved: [CRITICAL] Disk 97% full on db1 "
                                         "\xe2\x80\x94 caf\xc3\xa9 <b>&</b>");
    ck_assert_str_eq(jstr(m, "in_reply_to"), id0);
    ck_assert_str_eq(jstr(m, "references"), id0);
    ck_assert_str_ne(jstr(m, "message_id"), jstr(smtp_peer_get(f.p, 1), "message_id"));
    assert_contains(smtp_msg_part(m, "text/plain"), "Resolved by bob: Disk", "resolve text");
    assert_contains(smtp_msg_part(m, "text/plain"), "Note:\nrotated the journal & <ok>",
                    "resolve text");
    assert_contains(smtp_msg_part(m, "text/html"), "rotated the journal &amp; &lt;ok&gt;",
                    "resolve html");

    inc = h_incident(&f.d, id);
    h_assert(&f.d, h_timeline_find(inc, "notified", "\"action\":\"trigger\""), "no trigger");
    h_assert(&f.d, h_timeline_find(inc, "notified", "\"action\":\"acknowledge\""), "no ack");
    h_assert(&f.d, h_timeline_find(inc, "notified", "\"action\":\"resolve\""), "no resolve");
    json_decref(inc);
    n = h_get_json(&f.d, "/api/v1/incidents");
    {
        char *dump = json_dumps(n, 0);

        h_assert(&f.d, !strstr(dump, PASSWORD), "the API shows the password");
        free(dump);
    }
    json_decref(n);
    {
        struct h_resp r;

        h_req(&f.d, "GET", "/metrics", NULL, &r);
        h_assert(&f.d, r.status == 200 && !strstr(r.body, PASSWORD), "/metrics: HTTP %ld",
                 r.status);
        h_resp_free(&r);
    }
    down(&f);
    log = h_read_file(f.d.log);
    ck_assert_msg(log && !strstr(log, PASSWORD), "the password is in the daemon's log");
    free(log);
}
END_TEST

/* The resolve after a restart still refers to the trigger's Message-ID:
 * the one remembered with the trigger's outcome, not one derived again
 * (from now names another domain, so a derived one would differ). */
START_TEST(test_threading_survives_a_restart)
{
    struct fixture f = { .from = NULL };
    const char *id0, *id1;
    json_t *m;
    int64_t id;

    up(&f, NULL, "smtp", "starttls = \"off\";");
    id = post_simple(&f.d, "restart-1", "high", "replica lag 40s");
    json_decref(wait_done(&f.d, id, "trigger", 1));
    h_assert(&f.d, h_stop(&f.d, 15000) == 0, "SIGTERM: exit status not 0");
    f.from = "tocsin <alerts@example.net>";
    write_config(&f, "smtp", "starttls = \"off\";");
    h_start(&f.d);
    /* Resolved by its source. */
    {
        char body[256];

        snprintf(body, sizeof body, "{\"dedup_key\": \"restart-1\", \"status\": \"resolved\","
                                    " \"severity\": \"high\", \"summary\": \"replica lag 40s\"}");
        post(&f.d, body, "restart-1");
    }
    json_decref(wait_done(&f.d, id, "resolve", 1));
    h_assert(&f.d, smtp_peer_wait(f.p, 2, 5000) == 2, "no resolve mail");
    m = smtp_peer_get(f.p, 0);
    ck_assert_msg(json_is_false(json_object_get(m, "tls")), "TLS with starttls = off");
    id0 = jstr(m, "message_id");
    ck_assert_msg(strstr(id0, "@example.org>"), "trigger Message-ID %s", id0);
    ck_assert_str_eq(jstr(m, "subject"), "[HIGH] replica lag 40s");
    m = smtp_peer_get(f.p, 1);
    id1 = jstr(m, "message_id");
    ck_assert_msg(strstr(id1, "@example.net>"), "resolve Message-ID %s", id1);
    ck_assert_str_eq(jstr(m, "subject"), "Resolved: [HIGH] replica lag 40s");
    ck_assert_str_eq(jstr(m, "in_reply_to"), id0);
    ck_assert_str_eq(jstr(m, "references"), id0);
    assert_contains(smtp_msg_part(m, "text/plain"), "Resolved by api: replica lag 40s",
                    "resolve text");
    down(&f);
}
END_TEST

/* 450 is "try again": the retry is the same message (same Message-ID). */
START_TEST(test_450_is_retried_as_the_same_message)
{
    struct fixture f = { .from = NULL };
    json_t *m0, *m1;
    int64_t id;

    up(&f, NULL, "smtp", "starttls = \"off\";");
    smtp_peer_script(f.p, "450");
    id = post_simple(&f.d, "busy-1", "medium", "queue depth 5000");
    json_decref(wait_done(&f.d, id, "trigger", 2));
    h_assert(&f.d, smtp_peer_wait(f.p, 2, 5000) == 2, "%zu messages", smtp_peer_count(f.p));
    m0 = smtp_peer_get(f.p, 0);
    m1 = smtp_peer_get(f.p, 1);
    ck_assert_int_eq(json_integer_value(json_object_get(m0, "answer")), 450);
    ck_assert_int_eq(json_integer_value(json_object_get(m1, "answer")), 250);
    ck_assert_str_eq(jstr(m0, "message_id"), jstr(m1, "message_id"));
    ck_assert_str_eq(jstr(m0, "subject"), jstr(m1, "subject"));
    down(&f);
}
END_TEST

/* 550 is "never": failed at once, with the server's words in the timeline. */
START_TEST(test_550_fails_for_good_with_the_servers_words)
{
    struct fixture f = { .from = NULL };
    json_t *n, *inc, *e;
    const char *err;
    char *det;
    int64_t id;

    up(&f, NULL, "smtp", "starttls = \"off\";");
    smtp_peer_script(f.p, "550");
    id = post_simple(&f.d, "refused-1", "low", "certificate expires in 20 days");
    n = h_wait_notification(&f.d, id, "mail", "trigger", "failed", 20000);
    h_assert(&f.d, n != NULL, "a 550 never became a failed notification");
    ck_assert_int_eq(h_jint(n, "attempts"), 1);
    err = json_string_value(json_object_get(n, "last_error"));
    h_assert(&f.d, err && strstr(err, "SMTP 550") && strstr(err, "No such user here"),
             "last_error: %s", err ? err : "(null)");
    json_decref(n);
    inc = h_incident(&f.d, id);
    e = h_timeline_find(inc, "notify_failed", "No such user here");
    h_assert(&f.d, e != NULL, "no notify_failed with the server's words in the timeline");
    det = h_detail(e);
    ck_assert_msg(strstr(det, "\"mail\"") && strstr(det, "550"), "detail: %s", det);
    free(det);
    json_decref(inc);
    h_sleep_ms(800);
    ck_assert_int_eq(smtp_peer_count(f.p), 1);
    down(&f);
}
END_TEST

/* starttls = "required" (the default) and a server without STARTTLS: a
 * configuration error, failed at once and said plainly; nothing is sent. */
START_TEST(test_required_starttls_without_server_support_fails_clearly)
{
    struct fixture f = { .from = NULL };
    const char *err;
    json_t *n;
    int64_t id;

    up(&f, NULL, "smtp", "");
    id = post_simple(&f.d, "notls-1", "critical", "db down");
    n = h_wait_notification(&f.d, id, "mail", "trigger", "failed", 20000);
    h_assert(&f.d, n != NULL, "no failure without STARTTLS");
    ck_assert_int_eq(h_jint(n, "attempts"), 1);
    err = json_string_value(json_object_get(n, "last_error"));
    h_assert(&f.d, err && strstr(err, "does not offer STARTTLS"), "last_error: %s",
             err ? err : "(null)");
    json_decref(n);
    ck_assert_int_eq(smtp_peer_count(f.p), 0);
    down(&f);
}
END_TEST

/* A wrong password: 535, failed at once, the password nowhere. */
START_TEST(test_a_wrong_password_fails_for_good)
{
    struct smtp_peer_opts o = { .starttls = 1, .require_tls = 1, .user = "tocsin",
                                .password = "the-right-one" };
    struct fixture f = { .from = NULL };
    char dir[H_PATH_MAX], extra[1200], *log;
    const char *err;
    json_t *n;
    int64_t id;

    h_init(&f.d);
    snprintf(dir, sizeof dir, "%s/smtp", f.d.dir);
    f.p = smtp_peer_start(dir, &o);
    snprintf(extra, sizeof extra,
             "username = \"tocsin\"; password = \"" PASSWORD "\"; ca_file = \"%s\";",
             smtp_peer_ca(f.p));
    write_config(&f, "smtp", extra);
    h_start(&f.d);
    id = post_simple(&f.d, "badpw-1", "critical", "db down");
    n = h_wait_notification(&f.d, id, "mail", "trigger", "failed", 20000);
    h_assert(&f.d, n != NULL, "a refused AUTH never failed");
    ck_assert_int_eq(h_jint(n, "attempts"), 1);
    err = json_string_value(json_object_get(n, "last_error"));
    h_assert(&f.d, err && strstr(err, "SMTP 535") && !strstr(err, PASSWORD), "last_error: %s",
             err ? err : "(null)");
    json_decref(n);
    ck_assert_int_eq(smtp_peer_count(f.p), 0);
    h_assert(&f.d, h_stop(&f.d, 15000) == 0, "SIGTERM: exit status not 0");
    log = h_read_file(f.d.log);
    ck_assert_msg(log && !strstr(log, PASSWORD), "the password is in the daemon's log");
    free(log);
    /* The peer counted the refused AUTH: expected here. */
    smtp_peer_free(f.p);
}
END_TEST

/* smtps:// (TLS from the start) with AUTH LOGIN. */
START_TEST(test_smtps_with_auth_login)
{
    struct smtp_peer_opts o = { .implicit_tls = 1, .user = "tocsin", .password = PASSWORD,
                                .auth_mech = "LOGIN" };
    struct fixture f = { .from = NULL };
    char dir[H_PATH_MAX], extra[1200];
    json_t *m;
    int64_t id;

    h_init(&f.d);
    snprintf(dir, sizeof dir, "%s/smtp", f.d.dir);
    f.p = smtp_peer_start(dir, &o);
    snprintf(extra, sizeof extra,
             "username = \"tocsin\"; password = \"" PASSWORD "\"; ca_file = \"%s\";",
             smtp_peer_ca(f.p));
    write_config(&f, "smtps", extra);
    h_start(&f.d);
    id = post_simple(&f.d, "smtps-1", "info", "nightly backup done");
    json_decref(wait_done(&f.d, id, "trigger", 1));
    h_assert(&f.d, smtp_peer_wait(f.p, 1, 5000) == 1, "no message");
    m = smtp_peer_get(f.p, 0);
    ck_assert_msg(json_is_true(json_object_get(m, "tls")), "no TLS on smtps://");
    ck_assert_str_eq(jstr(m, "auth_mech"), "LOGIN");
    ck_assert_str_eq(jstr(m, "subject"), "[INFO] nightly backup done");
    down(&f);
}
END_TEST

/* A server that never answers the message: the sink's timeout ends the
 * attempt, and the retry is the same message. */
START_TEST(test_a_hanging_server_is_retried_after_the_timeout)
{
    struct fixture f = { .from = NULL };
    int64_t id;

    up(&f, NULL, "smtp", "starttls = \"off\"; timeout = \"1s\";");
    smtp_peer_script(f.p, "hang");
    id = post_simple(&f.d, "hang-1", "high", "api 5xx rate 12%");
    json_decref(wait_done(&f.d, id, "trigger", 2));
    h_assert(&f.d, smtp_peer_wait(f.p, 2, 5000) == 2, "%zu messages", smtp_peer_count(f.p));
    ck_assert_int_eq(json_integer_value(json_object_get(smtp_peer_get(f.p, 0), "answer")), 0);
    ck_assert_str_eq(jstr(smtp_peer_get(f.p, 0), "message_id"),
                     jstr(smtp_peer_get(f.p, 1), "message_id"));
    down(&f);
}
END_TEST

/* Subjects are cut at 200 bytes of summary, on a character, saying so;
 * the encoded words decode back to exactly that. */
START_TEST(test_a_long_multibyte_subject_is_cut_on_a_character)
{
    /* "a" and 60 four-byte characters (241 bytes): 49 of them fit with
     * "a" and "…" in 200; 70 euro signs (210 bytes): 65 fit. */
    char grin[300] = "a", euro[300] = "", exact[300] = "", want[400];
    struct fixture f = { .from = NULL };
    json_t *m;
    int i;

    for (i = 0; i < 60; i++)
        strcat(grin, "\xf0\x9f\x98\x80");
    for (i = 0; i < 70; i++)
        strcat(euro, "\xe2\x82\xac");
    for (i = 0; i < 200; i++)
        strcat(exact, i % 2 ? "y" : "x");
    up(&f, NULL, "smtp", "starttls = \"off\";");
    json_decref(wait_done(&f.d, post_simple(&f.d, "cut-1", "high", grin), "trigger", 1));
    json_decref(wait_done(&f.d, post_simple(&f.d, "cut-2", "high", euro), "trigger", 1));
    json_decref(wait_done(&f.d, post_simple(&f.d, "cut-3", "high", exact), "trigger", 1));
    h_assert(&f.d, smtp_peer_wait(f.p, 3, 5000) == 3, "%zu messages", smtp_peer_count(f.p));

    m = smtp_peer_get(f.p, 0);
    snprintf(want, sizeof want, "[HIGH] %.*s\xe2\x80\xa6", 1 + 49 * 4, grin);
    ck_assert_str_eq(jstr(m, "subject"), want);
    ck_assert_int_le(json_integer_value(json_object_get(m, "max_line")), 78);
    /* The whole summary is still in the body. */
    assert_contains(smtp_msg_part(m, "text/plain"), grin, "text");
    m = smtp_peer_get(f.p, 1);
    snprintf(want, sizeof want, "[HIGH] %.*s\xe2\x80\xa6", 65 * 3, euro);
    ck_assert_str_eq(jstr(m, "subject"), want);
    ck_assert_int_le(json_integer_value(json_object_get(m, "max_line")), 78);
    /* 200 bytes fit as they are; one long word is encoded to be folded. */
    m = smtp_peer_get(f.p, 2);
    snprintf(want, sizeof want, "[HIGH] %s", exact);
    ck_assert_str_eq(jstr(m, "subject"), want);
    ck_assert_int_le(json_integer_value(json_object_get(m, "max_line")), 78);
    down(&f);
}
END_TEST

/* Options are checked when the daemon starts, naming the option. */
START_TEST(test_bad_options_are_named_by_check_config)
{
    static const struct {
        const char *extra, *said;
    } cases[] = {
        { "starttls = \"maybe\";", "starttls must be \"required\", \"optional\" or \"off\"" },
        { "username = \"u\";", "username and password go together" },
        { "ca_file = \"/nonexistent/ca.pem\";", "ca_file: cannot read /nonexistent/ca.pem" },
        { "severity_map = { urgent = \"P1\"; };", "severity_map: \"urgent\" is not a severity" },
    };
    struct fixture f = { .from = NULL };
    char dir[H_PATH_MAX], *out;
    size_t i;
    int rc;

    h_init(&f.d);
    snprintf(dir, sizeof dir, "%s/smtp", f.d.dir);
    f.p = smtp_peer_start(dir, NULL);
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_config(&f, "smtp", cases[i].extra);
        rc = h_run_tocsind(&out, "--check-config", "-c", f.d.conf, (char *)NULL);
        ck_assert_msg(rc == 1 && strstr(out, cases[i].said) && strstr(out, "sink \"mail\""),
                      "%s: exit %d: %s", cases[i].extra, rc, out);
        free(out);
    }
    write_config(&f, "http", "");
    rc = h_run_tocsind(&out, "--check-config", "-c", f.d.conf, (char *)NULL);
    ck_assert_msg(rc == 1 && strstr(out, "url must start with smtp:// or smtps://"), "%s", out);
    free(out);
    rc = h_run_tocsind(&out, "--plugin-help", "email", "--plugin-dir",
                       getenv("TOCSIN_PLUGIN_DIR"), (char *)NULL);
    ck_assert_msg(rc == 0 && strstr(out, "password") && strstr(out, "subject_prefix") &&
                      strstr(out, "severity_map"),
                  "--plugin-help email: exit %d: %s", rc, out);
    free(out);
    smtp_peer_free(f.p);

}
END_TEST

/* tocsind --test-sink: a marked trigger and its resolve, threaded, with
 * the server's answer; a refusing server makes it fail. */
START_TEST(test_test_sink_mails_a_marked_pair_or_fails)
{
    struct fixture f = { .from = NULL };
    char dir[H_PATH_MAX], *out = NULL, first[256];
    json_t *m0, *m1;
    int rc;

    h_init(&f.d);
    snprintf(dir, sizeof dir, "%s/smtp", f.d.dir);
    f.p = smtp_peer_start(dir, NULL);
    write_config(&f, "smtp", "starttls = \"off\"; subject_prefix = \"[tocsin]\";");
    rc = h_run_tocsind(&out, "-c", f.d.conf, "--test-sink", "mail", (char *)NULL);
    ck_assert_msg(rc == 0 && strstr(out, "trigger  delivered") &&
                      strstr(out, "resolve  delivered") && strstr(out, "provider: SMTP 250") &&
                      strstr(out, "OK: both delivered"),
                  "exit %d:\n%s", rc, out);
    free(out);
    ck_assert_uint_eq(smtp_peer_wait(f.p, 2, 5000), 2);
    m0 = smtp_peer_get(f.p, 0);
    m1 = smtp_peer_get(f.p, 1);
    ck_assert_msg(strncmp(jstr(m0, "subject"), "[tocsin] [TEST] [INFO] tocsin test notification",
                          47) == 0, "%s", jstr(m0, "subject"));
    ck_assert_msg(strncmp(jstr(m1, "subject"), "[tocsin] [TEST] Resolved: [INFO] tocsin test",
                          44) == 0, "%s", jstr(m1, "subject"));
    assert_contains(smtp_msg_part(m0, "text/plain"), "[TEST] A test notification", "text");
    assert_contains(smtp_msg_part(m0, "text/html"), "<b>[TEST]</b>", "html");
    ck_assert_ptr_null(smtp_msg_header(m0, "X-Tocsin-Incident"));
    ck_assert_str_eq(jstr(m1, "in_reply_to"), jstr(m0, "message_id"));
    assert_contains(jstr(m0, "message_id"), "<tocsin.test-", "Message-ID");
    snprintf(first, sizeof first, "%s", jstr(m0, "message_id"));

    /* Another run is another pair of messages, never taken for the first. */
    smtp_peer_script(f.p, "250,550");
    rc = h_run_tocsind(&out, "-c", f.d.conf, "--test-sink", "mail", (char *)NULL);
    ck_assert_msg(rc == 1 && strstr(out, "trigger  delivered") && strstr(out, "FAILED") &&
                      strstr(out, "SMTP 550") && strstr(out, "No such user here"),
                  "exit %d:\n%s", rc, out);
    free(out);
    ck_assert_uint_eq(smtp_peer_wait(f.p, 4, 5000), 4);
    ck_assert_str_ne(jstr(smtp_peer_get(f.p, 2), "message_id"), first);
    ck_assert_int_eq(json_integer_value(json_object_get(smtp_peer_get(f.p, 3), "answer")), 550);
    h_assert(&f.d, smtp_peer_violations(f.p) == 0, "the SMTP peer saw violations");
    smtp_peer_free(f.p);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("integration: email sink");
    TCase *tc = h_tcase("email", 90);

    tcase_add_test(tc, test_trigger_ack_resolve_over_starttls_and_auth);
    tcase_add_test(tc, test_threading_survives_a_restart);
    tcase_add_test(tc, test_450_is_retried_as_the_same_message);
    tcase_add_test(tc, test_550_fails_for_good_with_the_servers_words);
    tcase_add_test(tc, test_required_starttls_without_server_support_fails_clearly);
    tcase_add_test(tc, test_a_wrong_password_fails_for_good);
    tcase_add_test(tc, test_smtps_with_auth_login);
    tcase_add_test(tc, test_a_hanging_server_is_retried_after_the_timeout);
    tcase_add_test(tc, test_a_long_multibyte_subject_is_cut_on_a_character);
    tcase_add_test(tc, test_bad_options_are_named_by_check_config);
    tcase_add_test(tc, test_test_sink_mails_a_marked_pair_or_fails);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    if (!smtp_peer_available()) {
        fprintf(stderr, "SKIP: python3 cannot import aiosmtpd "
                        "(apt-get install python3-aiosmtpd)\n");
        return 77;
    }
    return h_run_suite(suite());
}
