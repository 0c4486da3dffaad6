/* test_email_format.c: the email sink's message pieces (mime.c) against
 * vectors, the whole message (message.c) against fixtures and the RFC
 * rules (CRLF, 7 bits, 78 columns, threading), and the plugin (email.c:
 * options, checks, the SMTP call, verdicts, remember) through a fake host. */
#define _GNU_SOURCE
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tocsin/plugin.h>

#include "message.h"
#include "mime.h"
#include "fake_host.h"
#include "helpers.h"

extern const struct tocsin_plugin tocsin_plugin;

/* 2026-11-23T03:12:45.123Z, a Monday (computed outside tocsin). */
#define T_031245_123 1795403565123LL
#define T_0319 1795403940000LL
#define SALT "0123456789abcdef"
#define RUN "fedcba9876543210"

/* ---- helpers ---------------------------------------------------------------- */

static char *finish(struct tc_text *t)
{
    char *s = em_finish(t, NULL);

    ck_assert_ptr_nonnull(s);
    return s;
}

static int b64val(int c)
{
    const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = c ? strchr(a, c) : NULL;

    return p ? (int)(p - a) : -1;
}

/* Base64 decoded into out (NUL-terminated); returns the length. */
static size_t unbase64(const char *s, size_t n, char *out)
{
    size_t i, k = 0;
    unsigned acc = 0;
    int bits = 0;

    for (i = 0; i < n && s[i] != '='; i++) {
        int v = b64val((unsigned char)s[i]);

        ck_assert_int_ge(v, 0);
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[k++] = (char)((acc >> bits) & 0xff);
        }
    }
    out[k] = '\0';
    return k;
}

/* Quoted-printable decoded (soft breaks joined, CRLF to LF). */
static char *unqp(const char *s)
{
    char *out = malloc(strlen(s) + 1), *o = out;

    for (; *s; s++) {
        if (s[0] == '=' && s[1] == '\r' && s[2] == '\n') {
            s += 2;
        } else if (s[0] == '=') {
            unsigned v;

            ck_assert_int_eq(sscanf(s + 1, "%2X", &v), 1);
            *o++ = (char)v;
            s += 2;
        } else if (s[0] == '\r' && s[1] == '\n') {
            *o++ = '\n';
            s++;
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
    return out;
}

static int valid_utf8_n(const char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        int k = tc_utf8_seq((const unsigned char *)s + i);

        if (k == 0)
            return 0;
        i += (size_t)k;
    }
    return i == n;
}

/* Every line ends in CRLF, holds 7-bit bytes only and at most max
 * characters. */
static void assert_lines(const char *s, size_t max)
{
    const char *line = s;

    for (; *s; s++) {
        ck_assert_msg((unsigned char)*s < 0x80, "8-bit byte at %zu", (size_t)(s - line));
        if (*s == '\r') {
            ck_assert_msg(s[1] == '\n', "bare CR");
            ck_assert_msg((size_t)(s - line) <= max, "a line of %zu: %.*s", (size_t)(s - line),
                          (int)(s - line), line);
            line = s + 2;
            s++;
        } else {
            ck_assert_msg(*s != '\n', "bare LF after %.*s", (int)(s - line), line);
        }
    }
    ck_assert_msg(s == line, "the text does not end in CRLF");
}

/* A header field written by em_header_* back to its text: unfolded, its
 * encoded words decoded and joined (RFC 2047 6.2). Checks every word on
 * the way: at most 75 characters and whole UTF-8 characters. */
static char *unheader(const char *field)
{
    char *out = calloc(1, strlen(field) * 2 + 1), *o = out, word[200];
    char *unfolded = calloc(1, strlen(field) + 1), *u = unfolded;
    const char *p;
    int last_encoded = 0;

    /* Unfolding: a CRLF before white space goes; the field's CRLF ends it. */
    for (p = strchr(field, ':') + 1; *p; p++) {
        if (p[0] == '\r' && p[1] == '\n' && (p[2] == ' ' || p[2] == '\t'))
            p++;
        else if (p[0] == '\r')
            break;
        else
            *u++ = *p;
    }
    for (p = unfolded; *p;) {
        size_t n;

        p += strspn(p, " \t");
        if (!*p)
            break;
        n = strcspn(p, " \t");
        if (n > 12 && strncmp(p, "=?UTF-8?B?", 10) == 0 && strncmp(p + n - 2, "?=", 2) == 0) {
            size_t k;

            ck_assert_uint_le(n, 75);
            k = unbase64(p + 10, n - 12, word);
            ck_assert_msg(valid_utf8_n(word, k), "an encoded word splits a character: %.*s",
                          (int)n, p);
            if (o > out && !last_encoded) /* only between encoded words is space dropped */
                *o++ = ' ';
            memcpy(o, word, k);
            o += k;
            last_encoded = 1;
        } else {
            if (o > out)
                *o++ = ' ';
            memcpy(o, p, n);
            o += n;
            last_encoded = 0;
        }
        p += n;
    }
    *o = '\0';
    free(unfolded);
    return out;
}

static char *header_text(const char *name, const char *text)
{
    struct tc_text t = { 0 };
    struct em_header h;

    em_header_start(&h, &t, name);
    em_header_text(&h, text);
    em_header_end(&h);
    return finish(&t);
}

/* ---- mime.c ------------------------------------------------------------------ */

START_TEST(test_qp_vectors)
{
    static const struct {
        const char *in, *out;
    } v[] = {
        { "a=b\n", "a=3Db\r\n" },
        { "trailing \nspace\t", "trailing=20\r\nspace=09" },
        { "inner space\n", "inner space\r\n" },
        { "From me\nnot From\n", "=46rom me\r\nnot From\r\n" },
        { "caf\xc3\xa9\n", "caf=C3=A9\r\n" },
        { "tab\there\x01\n", "tab\there=01\r\n" },
        { ".dot\n", ".dot\r\n" }, /* libcurl stuffs dots */
    };
    size_t i;

    for (i = 0; i < sizeof v / sizeof v[0]; i++) {
        struct tc_text t = { 0 };
        char *s;

        em_qp(&t, v[i].in);
        s = finish(&t);
        ck_assert_str_eq(s, v[i].out);
        free(s);
    }
}
END_TEST

START_TEST(test_qp_keeps_lines_within_76_and_round_trips)
{
    char in[2000] = "", *out, *back;
    struct tc_text t = { 0 };
    const char *p, *line;
    int i;

    for (i = 0; i < 30; i++)
        strcat(in, "x\xe2\x82\xac=y ");
    strcat(in, "\n");
    for (i = 0; i < 200; i++)
        strcat(in, i % 10 ? "a" : " ");
    strcat(in, " \nFrom the end\n");
    em_qp(&t, in);
    out = finish(&t);
    for (line = p = out; *p; p++)
        if (*p == '\r') {
            ck_assert_msg(p - line <= 76, "a line of %d: %.*s", (int)(p - line), (int)(p - line),
                          line);
            /* No "=XX" is split, and a soft break ends in "=". */
            line = p + 2;
        }
    ck_assert_ptr_null(strstr(out, "=\r\n=\r\n"));
    back = unqp(out);
    ck_assert_str_eq(back, in);
    free(back);
    free(out);

    /* 74 characters, then one to encode: it moves to the next line whole. */
    memset(in, 'a', 74);
    strcpy(in + 74, "\xc3\xa9");
    t = (struct tc_text){ 0 };
    em_qp(&t, in);
    out = finish(&t);
    ck_assert_str_eq(out + 74, "=\r\n=C3=A9");
    free(out);
}
END_TEST

START_TEST(test_plain_subject_is_folded_at_spaces)
{
    char text[400] = "", *h, *back;
    int i;

    h = header_text("Subject", "[CRITICAL] Disk 97% full on db1");
    ck_assert_str_eq(h, "Subject: [CRITICAL] Disk 97% full on db1\r\n");
    free(h);

    for (i = 0; i < 40; i++)
        strcat(text, i ? " word-" : "word-");
    h = header_text("Subject", text);
    assert_lines(h, 78);
    ck_assert_ptr_nonnull(strstr(h, "\r\n word-"));
    back = unheader(h);
    ck_assert_str_eq(back, text);
    free(back);
    free(h);
}
END_TEST

START_TEST(test_utf8_subject_becomes_encoded_words)
{
    static const char *const texts[] = {
        "Disk 97% full on db1 \xe2\x80\x94 caf\xc3\xa9",
        /* 4-byte characters where a word would end */
        "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
        "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
        "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
        "ab\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80",
        /* ASCII that a decoder would take for an encoded word */
        "not =?UTF-8?B?YQ==?= a word",
        /* ASCII with a word too long to fold */
        "x http://example.org/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    };
    size_t i;

    for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        char *h = header_text("Subject", texts[i]), *back;

        ck_assert_msg(strncmp(h, "Subject: =?UTF-8?B?", 19) == 0, "%s", h);
        assert_lines(h, 78);
        back = unheader(h);
        ck_assert_str_eq(back, texts[i]);
        free(back);
        free(h);
    }
}
END_TEST

START_TEST(test_text_made_safe)
{
    static const struct {
        const char *in, *one, *lines;
    } v[] = {
        { "a\r\nBcc: evil@example.org", "a Bcc: evil@example.org",
          "a\nBcc: evil@example.org" },
        { "  lots \t of   space  ", "lots of space", "  lots \t of   space  " },
        { "bad \xff byte", "bad \xef\xbf\xbd byte", "bad \xef\xbf\xbd byte" },
        { "nel\xc2\x85here\x01", "nel here", "nel here " },
        { "cr\ronly", "cr only", "cr\nonly" },
        { "sep\xe2\x80\xa8line", "sep line", "sep line" },
    };
    size_t i;

    for (i = 0; i < sizeof v / sizeof v[0]; i++) {
        char *one = em_one_line(v[i].in), *lines = em_lines(v[i].in);

        ck_assert_str_eq(one, v[i].one);
        ck_assert_str_eq(lines, v[i].lines);
        free(one);
        free(lines);
    }
    {
        char *s = em_one_line(NULL);

        ck_assert_str_eq(s, "");
        free(s);
    }
}
END_TEST

START_TEST(test_cut_on_a_character_and_say_so)
{
    char euro[300] = "", *s;
    int i;

    for (i = 0; i < 70; i++)
        strcat(euro, "\xe2\x82\xac");
    s = strdup(euro);
    ck_assert_int_eq(em_cut(s, 200), 1);
    ck_assert_uint_eq(strlen(s), 65 * 3 + 3);
    ck_assert_int_eq(strncmp(s, euro, 65 * 3), 0);
    ck_assert_str_eq(s + 65 * 3, "\xe2\x80\xa6");
    free(s);

    s = strdup(euro);
    s[200] = '\0'; /* 200 bytes, the last character cut: not ours to repair */
    ck_assert_int_eq(em_cut(s, 200), 0);
    free(s);
    s = strdup("short");
    ck_assert_int_eq(em_cut(s, 200), 0);
    ck_assert_str_eq(s, "short");
    free(s);
}
END_TEST

START_TEST(test_addresses)
{
    static const struct {
        const char *in, *name, *addr;
    } ok[] = {
        { "ops@example.org", NULL, "ops@example.org" },
        { "  Ops Team <ops@example.org> ", "Ops Team", "ops@example.org" },
        { "\"Ops, \\\"Team\\\"\" <ops@example.org>", "Ops, \"Team\"", "ops@example.org" },
        { "Zo\xc3\xab <z@example.org>", "Zo\xc3\xab", "z@example.org" },
        { "<first.last+tag@sub.example.org>", NULL, "first.last+tag@sub.example.org" },
        { "ops@[192.0.2.1]", NULL, "ops@[192.0.2.1]" },
    };
    static const struct {
        const char *in, *err;
    } bad[] = {
        { "", "is empty" },
        { "ops", "is not one address of the form local@domain" },
        { "a@b@example.org", "is not one address of the form local@domain" },
        { "ops@", "has a domain" },
        { "@example.org", "has a local part" },
        { "a b@example.org", "has a local part" },
        { "a..b@example.org", "has a local part" },
        { "ops@-x.org", "has a domain" },
        { "ops@x..org", "has a domain" },
        { "ops@[1.2]x", "has a domain" },
        { "caf\xc3\xa9@example.org", "has a local part" },
        { "ops@example.org\r\nBcc: x@y", "has a control character" },
        { "Ops <ops@example.org", "has a local part" },
    };
    char err[128];
    size_t i;

    for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        struct em_addr a;

        ck_assert_msg(em_addr_parse(ok[i].in, &a, err, sizeof err) == 0, "%s: %s", ok[i].in,
                      err);
        if (ok[i].name)
            ck_assert_str_eq(a.name, ok[i].name);
        else
            ck_assert_ptr_null(a.name);
        ck_assert_str_eq(a.addr, ok[i].addr);
        em_addr_free(&a);
    }
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct em_addr a;

        ck_assert_msg(em_addr_parse(bad[i].in, &a, err, sizeof err) < 0, "took %s", bad[i].in);
        ck_assert_msg(strstr(err, bad[i].err), "%s: %s", bad[i].in, err);
        ck_assert_ptr_null(a.addr);
    }
}
END_TEST

START_TEST(test_address_headers)
{
    static const char *const in[] = { "Zo\xc3\xab <z@example.org>", "ops@example.org",
                                      "\"Ops, Team\" <team@example.org>",
                                      "A Rather Long Display Name For Folding <long.address@"
                                      "subdomain.example.org>" };
    struct em_addr a[4];
    struct tc_text t = { 0 };
    struct em_header h;
    char err[128], *s, *back;
    size_t i;

    for (i = 0; i < 4; i++)
        ck_assert_int_eq(em_addr_parse(in[i], &a[i], err, sizeof err), 0);
    em_header_start(&h, &t, "To");
    for (i = 0; i < 4; i++)
        em_header_addr(&h, &a[i], i < 3);
    em_header_end(&h);
    s = finish(&t);
    assert_lines(s, 78);
    ck_assert_msg(strncmp(s, "To: =?UTF-8?B?Wm/Dqw==?= <z@example.org>, ops@example.org,", 58) == 0,
                  "%s", s);
    /* "Ops, Team" has specials: encoded, never a bare comma in a name. */
    ck_assert_ptr_null(strstr(s, "Ops, Team"));
    back = unheader(s);
    ck_assert_str_eq(back, "Zo\xc3\xab <z@example.org>, ops@example.org, Ops, Team "
                           "<team@example.org>, A Rather Long Display Name For Folding "
                           "<long.address@subdomain.example.org>");
    free(back);
    free(s);
    for (i = 0; i < 4; i++)
        em_addr_free(&a[i]);
}
END_TEST

START_TEST(test_date_html_and_links)
{
    struct tc_text t = { 0 };
    char buf[40], *s;

    ck_assert_str_eq(em_date(T_031245_123, buf, sizeof buf), "Mon, 23 Nov 2026 03:12:45 +0000");
    ck_assert_str_eq(em_date(0, buf, sizeof buf), "Thu, 01 Jan 1970 00:00:00 +0000");
    em_html(&t, "<a href=\"x\">&'</a> plain");
    s = finish(&t);
    ck_assert_str_eq(s, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt; plain");
    free(s);
    ck_assert(em_linkable("https://x"));
    ck_assert(em_linkable("HTTP://x"));
    ck_assert(em_linkable("mailto:ops@example.org"));
    ck_assert(!em_linkable("javascript:alert(1)"));
    ck_assert(!em_linkable("data:text/html,x"));
    ck_assert(!em_linkable(NULL));
}
END_TEST

/* ---- message.c --------------------------------------------------------------- */

static const struct tocsin_kv labels[] = {
    { "alertname", "DiskFull" }, { "instance", "db1" }, { "severity", "critical" },
};
static const struct tocsin_kv annotations[] = {
    { "summary", "Disk 97% full on db1" },
    { "runbook_url", "https://runbooks.example/disk-full?a=1&b=2" },
};
static const struct tocsin_kv links[] = {
    { "generator", "http://prom.example:9090/graph?g0.expr=disk_used_percent+%3E+95" },
    { "dashboard", "https://grafana.example/d/disk" },
};

static struct tocsin_alert alert;
static struct tocsin_notification note;
static struct em_addr from, rcpt[3];
static struct email_msg msg;

static void message_setup(void)
{
    char err[128];

    disk_full_trigger(&alert, &note, "mail");
    alert.dedup_key = "a"; /* FNV-1a 32: e40c292c */
    alert.details = "/var is 97% full.\nLargest: /var/log/journal";
    alert.source = "prom";
    alert.service = "node";
    alert.labels = labels;
    alert.n_labels = 3;
    alert.annotations = annotations;
    alert.n_annotations = 2;
    alert.links = links;
    alert.n_links = 2;
    alert.started_at = T_031245_123;
    note.occurrences = 1;
    note.external_url = "http://tocsin.example:9099/";

    ck_assert_int_eq(em_addr_parse("tocsin <alerts@example.org>", &from, err, sizeof err), 0);
    ck_assert_int_eq(em_addr_parse("ops@example.org", &rcpt[0], err, sizeof err), 0);
    ck_assert_int_eq(em_addr_parse("Ops Two <ops2@example.org>", &rcpt[1], err, sizeof err), 0);
    ck_assert_int_eq(em_addr_parse("dba@example.org", &rcpt[2], err, sizeof err), 0);
    memset(&msg, 0, sizeof msg);
    msg.from = &from;
    msg.to = rcpt;
    msg.n_to = 2;
    msg.cc = rcpt + 2;
    msg.n_cc = 1;
    msg.salt = SALT;
    msg.run = RUN;
    msg.tags[0] = "CRITICAL";
    msg.tags[1] = "HIGH";
    msg.tags[2] = "MEDIUM";
    msg.tags[3] = "LOW";
    msg.tags[4] = "INFO";
}

static void message_teardown(void)
{
    size_t i;

    em_addr_free(&from);
    for (i = 0; i < 3; i++)
        em_addr_free(&rcpt[i]);
}

static void to_resolve(void)
{
    alert.status = TOCSIN_RESOLVED;
    alert.ended_at = T_0319;
    note.action = TOCSIN_ACT_RESOLVE;
    note.actor = "alice";
    note.note = "freed /var/log";
    note.occurrences = 3;
    note.outbox_id = 9;
}

static char *fixture(const char *name)
{
    return fixture_text("email", name, NULL);
}

/* Fixtures are stored with LF line ends (readable in a diff); the
 * message has CRLF. */
static void expect_fixture(const char *got, const char *name)
{
    char *want = fixture(name), *crlf = malloc(strlen(want) * 2 + 1), *o = crlf;
    const char *p;

    for (p = want; *p; p++) {
        if (*p == '\n')
            *o++ = '\r';
        *o++ = *p;
    }
    *o = '\0';
    ck_assert_msg(strcmp(got, crlf) == 0, "%s differs; got:\n%s", name, got);
    free(crlf);
    free(want);
}

/* The raw header field `name` (up to its end, folding included), or NULL. */
static char *raw_field(const char *m, const char *name)
{
    size_t n = strlen(name);
    const char *p = m, *end;

    for (;;) {
        if (strncmp(p, name, n) == 0 && p[n] == ':')
            break;
        p = strstr(p, "\r\n");
        if (!p || p[2] == '\r')
            return NULL;
        p += 2;
    }
    for (end = p; !(end[0] == '\r' && end[2] != ' ' && end[2] != '\t'); end++)
        ;
    return strndup(p, (size_t)(end - p + 2));
}

/* The decoded body of the part of this type. */
static char *part_text(const char *m, const char *type)
{
    char head[128], *body, *end, *copy, *text;
    const char *p;

    snprintf(head, sizeof head, "Content-Type: %s; charset=UTF-8\r\n"
                                "Content-Transfer-Encoding: quoted-printable\r\n\r\n", type);
    p = strstr(m, head);
    ck_assert_msg(p != NULL, "no %s part", type);
    body = (char *)p + strlen(head);
    end = strstr(body, "--=_tocsin-alt");
    ck_assert_ptr_nonnull(end);
    copy = strndup(body, (size_t)(end - body));
    text = unqp(copy);
    free(copy);
    return text;
}

START_TEST(test_message_ids)
{
    char id[EMAIL_ID_MAX], thread[EMAIL_ID_MAX];

    email_message_id(&msg, &note, id, sizeof id);
    ck_assert_str_eq(id, "<tocsin.12.e40c292c." SALT "@example.org>");
    email_trigger_id(&msg, &note, thread, sizeof thread);
    ck_assert_str_eq(thread, id);
    to_resolve();
    email_message_id(&msg, &note, id, sizeof id);
    ck_assert_str_eq(id, "<tocsin.12.e40c292c.resolve.9." SALT "@example.org>");
    /* Without a ref: the derived trigger id; with one: the ref. */
    email_thread_id(&msg, &note, thread, sizeof thread);
    ck_assert_str_eq(thread, "<tocsin.12.e40c292c." SALT "@example.org>");
    note.ref = "<kept-by-remember@mx.example.org>";
    email_thread_id(&msg, &note, thread, sizeof thread);
    ck_assert_str_eq(thread, "<kept-by-remember@mx.example.org>");
    /* A ref that is not a Message-ID is not trusted into a header. */
    note.ref = "<x@y>\r\nBcc: evil@example.org";
    email_thread_id(&msg, &note, thread, sizeof thread);
    ck_assert_str_eq(thread, "<tocsin.12.e40c292c." SALT "@example.org>");
    ck_assert(!email_is_msgid("<no-at-sign>"));
    ck_assert(!email_is_msgid("<a@b@c>"));
    ck_assert(!email_is_msgid("<a b@c>"));
    ck_assert(!email_is_msgid("a@b"));
    ck_assert(!email_is_msgid(NULL));
    ck_assert(email_is_msgid("<a@b>"));
    /* Test notifications carry this process's run instead of incident 0. */
    note.ref = NULL;
    note.test = 1;
    note.incident_id = 0;
    email_message_id(&msg, &note, id, sizeof id);
    ck_assert_str_eq(id, "<tocsin.test-" RUN ".resolve.9." SALT "@example.org>");
    email_thread_id(&msg, &note, thread, sizeof thread);
    ck_assert_str_eq(thread, "<tocsin.test-" RUN "." SALT "@example.org>");
}
END_TEST

START_TEST(test_subjects)
{
    static const char *const tags[5] = { "P1", "P2", "P3", "P4", "P5" };
    char *s;
    size_t i;

    s = email_subject(&msg, &note);
    ck_assert_str_eq(s, "[CRITICAL] Disk 97% full on db1");
    free(s);
    note.action = TOCSIN_ACT_ACKNOWLEDGE;
    msg.subject_prefix = "[tocsin]";
    s = email_subject(&msg, &note);
    ck_assert_str_eq(s, "[tocsin] Acknowledged: [CRITICAL] Disk 97% full on db1");
    free(s);
    to_resolve();
    note.test = 1;
    alert.severity = TOCSIN_SEV_LOW;
    for (i = 0; i < 5; i++)
        msg.tags[i] = tags[i];
    s = email_subject(&msg, &note);
    ck_assert_str_eq(s, "[tocsin] [TEST] Resolved: [P4] Disk 97% full on db1");
    free(s);
    alert.summary = "line\r\nBcc: evil@example.org";
    s = email_subject(&msg, &note);
    ck_assert_str_eq(s, "[tocsin] [TEST] Resolved: [P4] line Bcc: evil@example.org");
    free(s);
    alert.summary = "";
    s = email_subject(&msg, &note);
    ck_assert_str_eq(s, "[tocsin] [TEST] Resolved: [P4] (no summary)");
    free(s);
}
END_TEST

START_TEST(test_trigger_message_matches_fixture)
{
    size_t len;
    char *m = email_compose(&msg, &note, T_031245_123, &len);

    ck_assert_ptr_nonnull(m);
    ck_assert_uint_eq(len, strlen(m));
    assert_lines(m, 78);
    expect_fixture(m, "trigger.eml");
    free(m);
}
END_TEST

START_TEST(test_resolve_message_matches_fixture)
{
    char *m;

    to_resolve();
    note.ref = "<tocsin.12.e40c292c." SALT "@example.org>";
    m = email_compose(&msg, &note, T_0319, NULL);
    ck_assert_ptr_nonnull(m);
    assert_lines(m, 78);
    expect_fixture(m, "resolve.eml");
    free(m);
}
END_TEST

/* Whatever the alert holds, the message stays within the rules and no
 * alert text becomes a header field or markup. */
START_TEST(test_hostile_alert_text_stays_text)
{
    static const struct tocsin_kv bad_labels[] = {
        { "k\r\nBcc", "v\r\nBcc: evil@example.org" },
        { "html", "<script>alert(1)</script>" },
    };
    static const struct tocsin_kv bad_links[] = {
        { "generator", "javascript:alert(1)" },
        { "x\"><img src=y>", "https://ok.example/?q=\"><img>" },
    };
    char long_line[3000], *m, *f, *html, *text;
    size_t i;

    for (i = 0; i < sizeof long_line - 1; i++)
        long_line[i] = (char)('a' + i % 26);
    long_line[sizeof long_line - 1] = '\0';
    alert.summary = "sum\r\nBcc: evil@example.org\r\n\r\n<b>bold</b> caf\xc3\xa9 \xff";
    alert.details = long_line;
    alert.labels = bad_labels;
    alert.n_labels = 2;
    alert.links = bad_links;
    alert.n_links = 2;
    note.actor = "mallory\r\nBcc: evil@example.org";
    note.action = TOCSIN_ACT_ACKNOWLEDGE;
    m = email_compose(&msg, &note, T_031245_123, NULL);
    ck_assert_ptr_nonnull(m);
    assert_lines(m, 78);
    ck_assert_ptr_null(strstr(m, "\r\nBcc:"));
    ck_assert_ptr_null(raw_field(m, "Bcc"));
    f = raw_field(m, "Subject");
    ck_assert_ptr_nonnull(f);
    text = unheader(f);
    ck_assert_str_eq(text, "Acknowledged: [CRITICAL] sum Bcc: evil@example.org <b>bold</b> "
                           "caf\xc3\xa9 \xef\xbf\xbd");
    free(text);
    free(f);
    text = part_text(m, "text/plain");
    html = part_text(m, "text/html");
    ck_assert_ptr_nonnull(strstr(html, "&lt;b&gt;bold&lt;/b&gt;"));
    ck_assert_ptr_nonnull(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    ck_assert_ptr_null(strstr(html, "<script>"));
    ck_assert_ptr_null(strstr(html, "href=\"javascript"));
    ck_assert_ptr_nonnull(strstr(html, "x&quot;&gt;&lt;img src=y&gt;"));
    ck_assert_ptr_nonnull(strstr(html, "href=\"https://ok.example/?q=&quot;&gt;&lt;img&gt;\""));
    ck_assert_ptr_nonnull(strstr(text, long_line)); /* long lines survive, soft-broken */
    ck_assert_ptr_nonnull(strstr(text, "Acknowledged by mallory Bcc: evil@example.org: sum"));
    free(text);
    free(html);
    free(m);
}
END_TEST

/* ---- email.c through a fake host --------------------------------------------- */

#define SECRET "pa55-w0rd-s3cret"

/* The shared fake host; its http_sized is replaced by one that keeps the
 * SMTP call and answers what the test sets, its state by the salt alone. */
static struct fake_host fh;
static struct tocsin_http_call last;
static char *last_body, *last_rcpt[8];
static char *state_salt;
static int calls, state_puts;
static struct tocsin_http_result answer;
static int answer_rc;
static void *conf, *self;
static const char *to_items[4], *cc_items[4];
static struct tocsin_kv map_items[4];

static int fake_http_sized(const struct tocsin_host *h, const struct tocsin_http_call *c,
                           size_t call_size, struct tocsin_http_result *res, size_t res_size)
{
    size_t i;

    (void)h;
    ck_assert_uint_eq(call_size, sizeof *c);
    ck_assert_uint_eq(res_size, sizeof *res);
    calls++;
    last = *c;
    free(last_body);
    last_body = strndup(c->body, c->body_len);
    for (i = 0; i < 8; i++) {
        free(last_rcpt[i]);
        last_rcpt[i] = c->mail_rcpt && c->mail_rcpt[i] ? strdup(c->mail_rcpt[i]) : NULL;
        if (!last_rcpt[i])
            break;
    }
    *res = answer;
    res->body = strdup("");
    return answer_rc;
}

static int fake_state_get(const struct tocsin_host *h, const char *key, char **value)
{
    (void)h;
    ck_assert_str_eq(key, "message_id_salt");
    *value = state_salt ? strdup(state_salt) : NULL;
    return TOCSIN_OK;
}

static int fake_state_put(const struct tocsin_host *h, const char *key, const char *value)
{
    (void)h;
    ck_assert_str_eq(key, "message_id_salt");
    state_puts++;
    free(state_salt);
    state_salt = strdup(value);
    return TOCSIN_OK;
}

static void *field(const char *name)
{
    return plugin_field(conf, name);
}

static void set_list(const char *name, const char **items, size_t n)
{
    struct tocsin_strlist *l = field(name);

    l->n = n;
    l->items = items;
}

static struct tocsin_verdict deliver(void)
{
    return plugin_deliver(self, &note);
}

static int create(void)
{
    return tocsin_plugin.create(&fh.host, conf, &self);
}

static void plugin_setup(void)
{
    message_setup();
    fake_host_init(&fh, "mail", T_031245_123);
    fh.host.http_sized = fake_http_sized;
    fh.host.http_verdict = NULL; /* the sink makes its own verdicts */
    fh.host.state_get = fake_state_get;
    fh.host.state_put = fake_state_put;
    fh.host.state_delete = NULL;
    memset(&last, 0, sizeof last);
    calls = state_puts = 0;
    state_salt = strdup(SALT);
    memset(&answer, 0, sizeof answer);
    answer.status = 250;
    answer.retry_after = -1;
    answer_rc = TOCSIN_OK;
    self = NULL;
    /* What the core fills in from the config and the defaults. */
    conf = calloc(1, tocsin_plugin.conf_size);
    *(const char **)field("url") = "smtp://mail.example.org:587/tocsin.example.org";
    *(const char **)field("starttls") = "required";
    *(const char **)field("username") = "tocsin";
    *(const char **)field("password") = SECRET;
    *(const char **)field("from") = "tocsin <alerts@example.org>";
    to_items[0] = "ops@example.org";
    to_items[1] = "Ops Two <ops2@example.org>";
    set_list("to", to_items, 2);
    cc_items[0] = "dba@example.org";
    cc_items[1] = "OPS@example.org";
    set_list("cc", cc_items, 2);
    *(int64_t *)field("timeout") = 30000;
}

static void plugin_teardown(void)
{
    size_t i;

    if (self)
        tocsin_plugin.destroy(self);
    free(conf);
    free(last_body);
    last_body = NULL;
    for (i = 0; i < 8; i++) {
        free(last_rcpt[i]);
        last_rcpt[i] = NULL;
    }
    free(state_salt);
    state_salt = NULL;
    fake_host_release(&fh);
    message_teardown();
    /* The password never reaches a log line or an error message. */
    ck_assert_ptr_null(strstr(fh.logs, SECRET));
    ck_assert_ptr_null(strstr(fh.failed, SECRET));
}

START_TEST(test_option_table)
{
    static const struct {
        const char *name;
        enum tocsin_opt_type type;
        const char *def;
        unsigned flags;
    } want[] = {
        { "url", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_REQUIRED },
        { "starttls", TOCSIN_OPT_STRING, "required", 0 },
        { "username", TOCSIN_OPT_STRING, NULL, 0 },
        { "password", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_SECRET },
        { "from", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_REQUIRED },
        { "to", TOCSIN_OPT_STRLIST, NULL, TOCSIN_OPT_REQUIRED },
        { "cc", TOCSIN_OPT_STRLIST, NULL, 0 },
        { "ca_file", TOCSIN_OPT_STRING, NULL, 0 },
        { "subject_prefix", TOCSIN_OPT_STRING, NULL, 0 },
        { "severity_map", TOCSIN_OPT_MAP, NULL, 0 },
        { "timeout", TOCSIN_OPT_DURATION, "30s", 0 },
    };
    size_t i;

    ck_assert_str_eq(tocsin_plugin.name, "email");
    ck_assert_int_eq(tocsin_plugin.kind, TOCSIN_SINK);
    ck_assert_ptr_null(tocsin_plugin.deliver);
    ck_assert_ptr_nonnull(tocsin_plugin.deliver_sized);
    for (i = 0; i < sizeof want / sizeof want[0]; i++) {
        const struct tocsin_option *o = &tocsin_plugin.options[i];

        ck_assert_str_eq(o->name, want[i].name);
        ck_assert_int_eq(o->type, want[i].type);
        if (want[i].def)
            ck_assert_str_eq(o->def, want[i].def);
        else
            ck_assert_ptr_null(o->def);
        ck_assert_uint_eq(o->flags, want[i].flags);
        ck_assert_ptr_nonnull(o->description);
    }
    ck_assert_ptr_null(tocsin_plugin.options[i].name);
}
END_TEST

START_TEST(test_the_smtp_call)
{
    struct tocsin_verdict v;

    ck_assert_int_eq(create(), TOCSIN_OK);
    ck_assert_int_eq(state_puts, 0); /* the kept salt */
    v = deliver();
    ck_assert_int_eq(v.kind, TOCSIN_DONE);
    ck_assert_int_eq(calls, 1);
    ck_assert_int_eq(fh.frees, 1);
    ck_assert_str_eq(last.url, "smtp://mail.example.org:587/tocsin.example.org");
    ck_assert_str_eq(last.mail_from, "<alerts@example.org>");
    /* To and Cc, each address once (OPS@ is ops@): no Bcc. */
    ck_assert_str_eq(last_rcpt[0], "<ops@example.org>");
    ck_assert_str_eq(last_rcpt[1], "<ops2@example.org>");
    ck_assert_str_eq(last_rcpt[2], "<dba@example.org>");
    ck_assert_ptr_null(last_rcpt[3]);
    ck_assert_str_eq(last.username, "tocsin");
    ck_assert_str_eq(last.password, SECRET);
    ck_assert_int_eq(last.starttls, TOCSIN_TLS_REQUIRED);
    ck_assert_ptr_null(last.ca_file);
    ck_assert_int_eq(last.timeout_ms, 30000);
    ck_assert_ptr_nonnull(strstr(last_body, "\r\nMessage-ID: <tocsin.12.e40c292c." SALT
                                            "@example.org>\r\n"));
    ck_assert_msg(strncmp(last_body, "Date: Mon, 23 Nov 2026 03:12:45 +0000\r\n", 39) == 0,
                  "%s", last_body);
    ck_assert_ptr_nonnull(strstr(last_body, "\r\nCc: dba@example.org, OPS@example.org\r\n"));
    assert_lines(last_body, 78);
    /* The trigger's Message-ID is kept for its incident's later mails. */
    ck_assert_int_eq(fh.remembers, 1);
    ck_assert_ptr_eq(fh.remembered_for, &note);
    ck_assert_str_eq(fh.remembered, "<tocsin.12.e40c292c." SALT "@example.org>");
}
END_TEST

START_TEST(test_starttls_ca_file_and_schemes)
{
    static const struct {
        const char *url, *starttls;
        int want;
    } v[] = {
        { "smtp://m.example.org", "optional", TOCSIN_TLS_TRY },
        { "smtp://m.example.org", "off", TOCSIN_TLS_OFF },
        { "SMTP://m.example.org:25", "required", TOCSIN_TLS_REQUIRED },
        { "smtps://m.example.org:465", "required", TOCSIN_TLS_OFF }, /* TLS already */
    };
    size_t i;

    *(const char **)field("ca_file") = "/dev/null";
    for (i = 0; i < sizeof v / sizeof v[0]; i++) {
        fh.logs[0] = '\0';
        *(const char **)field("url") = v[i].url;
        *(const char **)field("starttls") = v[i].starttls;
        ck_assert_msg(create() == TOCSIN_OK, "%s %s: %s", v[i].url, v[i].starttls, fh.failed);
        deliver();
        ck_assert_int_eq(last.starttls, v[i].want);
        ck_assert_str_eq(last.ca_file, "/dev/null");
        /* A password over smtp:// without STARTTLS is said at start-up. */
        ck_assert_int_eq(strstr(fh.logs, "starttls = \"off\": the password crosses the network "
                                      "in the clear") != NULL,
                         strcmp(v[i].starttls, "off") == 0);
        tocsin_plugin.destroy(self);
        self = NULL;
    }
}
END_TEST

START_TEST(test_verdicts)
{
    static const struct {
        int rc;
        long status;
        int timed_out;
        const char *error;
        enum tocsin_verdict_kind kind;
        const char *reason;
    } v[] = {
        { TOCSIN_OK, 250, 0, "", TOCSIN_DONE, "" },
        { TOCSIN_ERROR, 450, 0, "Weird server reply (SMTP 450): 4.2.1 Mailbox busy",
          TOCSIN_RETRY, "Weird server reply (SMTP 450): 4.2.1 Mailbox busy" },
        { TOCSIN_ERROR, 421, 0, "x (SMTP 421): 4.3.2 shutting down", TOCSIN_RETRY,
          "x (SMTP 421): 4.3.2 shutting down" },
        { TOCSIN_ERROR, 550, 0, "RCPT failed: 550 (SMTP 550): 5.1.1 No such user",
          TOCSIN_FAILED, "RCPT failed: 550 (SMTP 550): 5.1.1 No such user" },
        { TOCSIN_ERROR, 535, 0, "Login denied (SMTP 535): 5.7.8 bad credentials",
          TOCSIN_FAILED, "Login denied (SMTP 535): 5.7.8 bad credentials" },
        { TOCSIN_ERROR, 250, 0, "the server does not offer STARTTLS, and TLS is required "
          "(SMTP 250)", TOCSIN_FAILED, "the server does not offer STARTTLS, and TLS is "
          "required (SMTP 250)" },
        { TOCSIN_ERROR, 0, 1, "Timeout was reached", TOCSIN_RETRY, "timed out" },
        { TOCSIN_ERROR, 0, 0, "Couldn't connect to server", TOCSIN_RETRY,
          "Couldn't connect to server" },
        /* A server that quotes the password back never gets it into the
         * timeline. */
        { TOCSIN_ERROR, 535, 0, "Login denied (SMTP 535): 5.7.8 bad password " SECRET,
          TOCSIN_FAILED, "Login denied (SMTP 535): 5.7.8 bad password (password)" },
    };
    size_t i;

    ck_assert_int_eq(create(), TOCSIN_OK);
    for (i = 0; i < sizeof v / sizeof v[0]; i++) {
        struct tocsin_verdict got;

        answer_rc = v[i].rc;
        answer.status = v[i].status;
        answer.timed_out = v[i].timed_out;
        snprintf(answer.error, sizeof answer.error, "%s", v[i].error);
        got = deliver();
        ck_assert_msg(got.kind == v[i].kind, "case %zu: kind %d", i, got.kind);
        ck_assert_int_eq(got.retry_after, 0);
        ck_assert_str_eq(got.reason, v[i].reason);
    }
    ck_assert_int_eq(fh.frees, (int)i);
    /* Only the delivered trigger was remembered. */
    ck_assert_int_eq(fh.remembers, 1);
    ck_assert_ptr_eq(fh.remembered_for, &note);
}
END_TEST

START_TEST(test_ack_and_resolve_refer_to_the_remembered_trigger)
{
    ck_assert_int_eq(create(), TOCSIN_OK);
    note.action = TOCSIN_ACT_ACKNOWLEDGE;
    note.actor = "alice";
    note.outbox_id = 8;
    note.ref = "<remembered@mx.example.org>";
    ck_assert_int_eq(deliver().kind, TOCSIN_DONE);
    ck_assert_ptr_nonnull(strstr(last_body, "\r\nIn-Reply-To: <remembered@mx.example.org>\r\n"
                                            "References: <remembered@mx.example.org>\r\n"));
    ck_assert_ptr_nonnull(strstr(last_body, "\r\nMessage-ID: <tocsin.12.e40c292c.acknowledge.8."
                                            SALT "@example.org>\r\n"));
    ck_assert_int_eq(fh.remembers, 0);

    /* Without remember (a host before it, or NULL) ack and resolve derive
     * the trigger's Message-ID. */
    fh.host.remember = NULL;
    note.ref = NULL;
    to_resolve();
    ck_assert_int_eq(deliver().kind, TOCSIN_DONE);
    ck_assert_ptr_nonnull(strstr(last_body, "\r\nIn-Reply-To: <tocsin.12.e40c292c." SALT
                                            "@example.org>\r\n"));
    note.action = TOCSIN_ACT_TRIGGER;
    ck_assert_int_eq(deliver().kind, TOCSIN_DONE);
    ck_assert_int_eq(fh.remembers, 0);
}
END_TEST

START_TEST(test_a_new_instance_makes_and_keeps_its_salt)
{
    char salt[17];

    free(state_salt);
    state_salt = NULL;
    ck_assert_int_eq(create(), TOCSIN_OK);
    ck_assert_int_eq(state_puts, 1);
    ck_assert_uint_eq(strlen(state_salt), 16);
    ck_assert_uint_eq(strspn(state_salt, "0123456789abcdef"), 16);
    snprintf(salt, sizeof salt, "%s", state_salt);
    deliver();
    ck_assert_ptr_nonnull(strstr(last_body, salt));
    tocsin_plugin.destroy(self);
    self = NULL;
    /* The next start finds it. */
    ck_assert_int_eq(create(), TOCSIN_OK);
    ck_assert_int_eq(state_puts, 1);
    ck_assert_str_eq(state_salt, salt);
}
END_TEST

START_TEST(test_bad_options_fail_create_naming_them)
{
    static const struct {
        const char *option, *value, *said;
    } v[] = {
        { "url", "http://m.example.org", "url must start with smtp:// or smtps://" },
        { "url", "smtp://user:" SECRET "@m.example.org",
          "url must not hold a user or password: set username and password instead" },
        { "url", "smtp://", "url has no host" },
        { "url", "smtp://m.example.org/a b", "url must not hold spaces or control characters" },
        { "starttls", "yes", "starttls must be \"required\", \"optional\" or \"off\", not "
                             "\"yes\"" },
        { "from", "alerts", "from: \"alerts\" is not one address of the form local@domain" },
        { "ca_file", "/nonexistent/ca.pem", "ca_file: cannot read /nonexistent/ca.pem: No such "
                                            "file or directory" },
        { "subject_prefix", "[a]\r\nBcc: x@y", "subject_prefix must be one line of at most 64 "
                                               "bytes" },
        { "username", "", "username must be one line, not empty" },
    };
    size_t i;

    for (i = 0; i < sizeof v / sizeof v[0]; i++) {
        const char *saved = *(const char **)field(v[i].option);

        *(const char **)field(v[i].option) = v[i].value;
        ck_assert_int_eq(create(), TOCSIN_ERROR);
        ck_assert_str_eq(fh.failed, v[i].said);
        ck_assert_ptr_null(self);
        *(const char **)field(v[i].option) = saved;
    }

    *(const char **)field("password") = NULL;
    ck_assert_int_eq(create(), TOCSIN_ERROR);
    ck_assert_str_eq(fh.failed, "username and password go together: set both or neither");
    *(const char **)field("password") = SECRET;

    set_list("to", to_items, 0);
    ck_assert_int_eq(create(), TOCSIN_ERROR);
    ck_assert_str_eq(fh.failed, "to must name at least one address");
    to_items[1] = "ops2@";
    set_list("to", to_items, 2);
    ck_assert_int_eq(create(), TOCSIN_ERROR);
    ck_assert_str_eq(fh.failed, "to: address 2 (\"ops2@\") has a domain (after the @) that is not "
                             "a host name or [literal]");
    to_items[1] = "ops2@example.org";
    cc_items[1] = "x\ny@example.org";
    ck_assert_int_eq(create(), TOCSIN_ERROR);
    ck_assert_str_eq(fh.failed, "cc: address 2 (\"?\") has a control character");
    cc_items[1] = "dba2@example.org";

    map_items[0] = (struct tocsin_kv){ "urgent", "P1" };
    ((struct tocsin_map *)field("severity_map"))->n = 1;
    ((struct tocsin_map *)field("severity_map"))->items = map_items;
    ck_assert_int_eq(create(), TOCSIN_ERROR);
    ck_assert_str_eq(fh.failed, "severity_map: \"urgent\" is not a severity (critical, high, "
                             "medium, low, info)");
    map_items[0] = (struct tocsin_kv){ "high", "" };
    ck_assert_int_eq(create(), TOCSIN_ERROR);
    ck_assert_str_eq(fh.failed, "severity_map: the tag of high must be one line of 1 to 32 bytes");
    map_items[0] = (struct tocsin_kv){ "high", "SEV2" };
    ck_assert_int_eq(create(), TOCSIN_OK);
    alert.severity = TOCSIN_SEV_HIGH;
    deliver();
    ck_assert_ptr_nonnull(strstr(last_body, "\r\nSubject: [SEV2] Disk 97% full on db1\r\n"));

    *(int64_t *)field("timeout") = -1;
    tocsin_plugin.destroy(self);
    self = NULL;
    ck_assert_int_eq(create(), TOCSIN_ERROR);
    ck_assert_str_eq(fh.failed, "timeout must not be negative");
}
END_TEST

/* A 1.0 host table has no http_sized: create says so instead of calling
 * past the end of it. */
START_TEST(test_a_1_0_host_fails_create_clearly)
{
    fh.host.size = offsetof(struct tocsin_host, emit_sized);
    fh.host.abi_minor = 0;
    ck_assert_int_eq(create(), TOCSIN_ENOTSUP);
    ck_assert_str_eq(fh.failed, "needs tocsin plugin ABI 1.1 (host has 1.0)");
    ck_assert_ptr_null(self);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("email");
    TCase *mime = tcase_create("mime");
    TCase *message = tcase_create("message");
    TCase *plugin = tcase_create("plugin");

    tcase_add_test(mime, test_qp_vectors);
    tcase_add_test(mime, test_qp_keeps_lines_within_76_and_round_trips);
    tcase_add_test(mime, test_plain_subject_is_folded_at_spaces);
    tcase_add_test(mime, test_utf8_subject_becomes_encoded_words);
    tcase_add_test(mime, test_text_made_safe);
    tcase_add_test(mime, test_cut_on_a_character_and_say_so);
    tcase_add_test(mime, test_addresses);
    tcase_add_test(mime, test_address_headers);
    tcase_add_test(mime, test_date_html_and_links);
    suite_add_tcase(s, mime);

    tcase_add_checked_fixture(message, message_setup, message_teardown);
    tcase_add_test(message, test_message_ids);
    tcase_add_test(message, test_subjects);
    tcase_add_test(message, test_trigger_message_matches_fixture);
    tcase_add_test(message, test_resolve_message_matches_fixture);
    tcase_add_test(message, test_hostile_alert_text_stays_text);
    suite_add_tcase(s, message);

    tcase_add_checked_fixture(plugin, plugin_setup, plugin_teardown);
    tcase_add_test(plugin, test_option_table);
    tcase_add_test(plugin, test_the_smtp_call);
    tcase_add_test(plugin, test_starttls_ca_file_and_schemes);
    tcase_add_test(plugin, test_verdicts);
    tcase_add_test(plugin, test_ack_and_resolve_refer_to_the_remembered_trigger);
    tcase_add_test(plugin, test_a_new_instance_makes_and_keeps_its_salt);
    tcase_add_test(plugin, test_bad_options_fail_create_naming_them);
    tcase_add_test(plugin, test_a_1_0_host_fails_create_clearly);
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
