/* message.c: see message.h. The text and the HTML part say the same:
 * what happened (headline), the facts, details, labels, annotations and
 * links (runbook, source, the incident page). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "message.h"

/* "=_" never occurs in quoted-printable text ("=" is followed by two hex
 * digits or a line end), so neither part can hold the boundary. */
#define BOUNDARY "=_tocsin-alt"

/* The bar above the HTML part: the severity's colour until someone acts. */
static const char *const sev_colour[] = { "#b71c1c", "#e65100", "#f9a825", "#1565c0",
                                          "#546e7a" };
#define ACK_COLOUR "#455a64"
#define RESOLVED_COLOUR "#2e7d32"

static uint32_t fnv1a32(const char *s)
{
    uint32_t h = 2166136261u;

    for (; s && *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* What names the incident in a Message-ID: "42.9f3a06c1" (id and the
 * dedup key's FNV-1a), or "test-RUN" for a test notification. */
static void incident_token(const struct email_msg *m, const struct tocsin_notification *n,
                           char *buf, size_t size)
{
    if (n->test)
        snprintf(buf, size, "test-%s", m->run);
    else
        snprintf(buf, size, "%lld.%08x", (long long)n->incident_id,
                 (unsigned)fnv1a32(n->alert ? n->alert->dedup_key : NULL));
}

int email_is_msgid(const char *s)
{
    size_t n = s ? strlen(s) : 0, i, at = 0;

    if (n < 5 || n > EMAIL_ID_MAX || s[0] != '<' || s[n - 1] != '>')
        return 0;
    for (i = 1; i < n - 1; i++) {
        if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '<' || s[i] == '>')
            return 0;
        if (s[i] == '@') {
            if (at)
                return 0;
            at = i;
        }
    }
    return at > 1 && at < n - 2;
}

void email_trigger_id(const struct email_msg *m, const struct tocsin_notification *n,
                      char *buf, size_t size)
{
    char tok[64];

    incident_token(m, n, tok, sizeof tok);
    snprintf(buf, size, "<tocsin.%s.%s@%s>", tok, m->salt, em_addr_domain(m->from));
}

void email_thread_id(const struct email_msg *m, const struct tocsin_notification *n,
                     char *buf, size_t size)
{
    if (email_is_msgid(n->ref))
        snprintf(buf, size, "%s", n->ref);
    else
        email_trigger_id(m, n, buf, size);
}

void email_message_id(const struct email_msg *m, const struct tocsin_notification *n,
                      char *buf, size_t size)
{
    char tok[64];

    if (n->action == TOCSIN_ACT_TRIGGER) {
        email_trigger_id(m, n, buf, size);
        return;
    }
    incident_token(m, n, tok, sizeof tok);
    snprintf(buf, size, "<tocsin.%s.%s.%lld.%s@%s>", tok, tocsin_action_name(n->action),
             (long long)n->outbox_id, m->salt, em_addr_domain(m->from));
}

static const char *tag_of(const struct email_msg *m, const struct tocsin_alert *a)
{
    unsigned s = (unsigned)a->severity;

    return s < 5 && m->tags[s] ? m->tags[s] : "INFO";
}

char *email_subject(const struct email_msg *m, const struct tocsin_notification *n)
{
    struct tc_text t = { 0 };
    char *summary = em_one_line(n->alert->summary);

    if (!summary)
        return NULL;
    em_cut(summary, EMAIL_SUMMARY_MAX);
    if (m->subject_prefix && *m->subject_prefix)
        em_printf(&t, "%s ", m->subject_prefix);
    if (n->test)
        em_puts(&t, "[TEST] ");
    if (n->action == TOCSIN_ACT_ACKNOWLEDGE)
        em_puts(&t, "Acknowledged: ");
    else if (n->action == TOCSIN_ACT_RESOLVE)
        em_puts(&t, "Resolved: ");
    em_printf(&t, "[%s] %s", tag_of(m, n->alert), *summary ? summary : "(no summary)");
    free(summary);
    return em_finish(&t, NULL);
}

/* ---- the body, as text and as HTML ---------------------------------------- */

/* "Acknowledged by alice", "Resolved", "Triggered". */
static void headline(struct tc_text *t, const struct tocsin_notification *n, const char *actor)
{
    em_puts(t, n->action == TOCSIN_ACT_ACKNOWLEDGE ? "Acknowledged"
               : n->action == TOCSIN_ACT_RESOLVE   ? "Resolved"
                                                   : "Triggered");
    if (actor && *actor && n->action != TOCSIN_ACT_TRIGGER)
        em_printf(t, " by %s", actor);
}

struct link {
    const char *title;
    const char *url;
};

/* Runbook, source, the other links of the alert, the incident page. */
static size_t collect_links(const struct tocsin_notification *n, const char *incident_url,
                            struct link *out, size_t max)
{
    const struct tocsin_alert *a = n->alert;
    const char *v;
    size_t k = 0, i;

    if ((v = tocsin_kv_get(a->annotations, a->n_annotations, "runbook_url")) && *v && k < max)
        out[k++] = (struct link){ "Runbook", v };
    if ((v = tocsin_kv_get(a->links, a->n_links, "generator")) && *v && k < max)
        out[k++] = (struct link){ "Source", v };
    for (i = 0; i < a->n_links && k < max; i++)
        if (a->links[i].key && strcmp(a->links[i].key, "generator") != 0 && a->links[i].value &&
            *a->links[i].value)
            out[k++] = (struct link){ a->links[i].key, a->links[i].value };
    if (incident_url && k < max)
        out[k++] = (struct link){ "Incident", incident_url };
    return k;
}

/* The facts of the notification, one label and value each (values one
 * line, already made safe). */
struct fact {
    const char *label;
    char *value; /* malloc()ed */
};

#define MAX_FACTS 12

static void add_fact(struct fact *f, size_t *k, const char *label, const char *value)
{
    if (value && *value && *k < MAX_FACTS && (f[*k].value = em_one_line(value))) {
        f[*k].label = label;
        (*k)++;
    }
}

static size_t collect_facts(const struct tocsin_notification *n, struct fact *f)
{
    const struct tocsin_alert *a = n->alert;
    char buf[64];
    size_t k = 0;

    if (n->test) {
        add_fact(f, &k, "Incident", "none: a test notification");
    } else {
        snprintf(buf, sizeof buf, "%lld", (long long)n->incident_id);
        add_fact(f, &k, "Incident", buf);
    }
    add_fact(f, &k, "Severity", tocsin_severity_name(a->severity));
    add_fact(f, &k, "Source", a->source);
    add_fact(f, &k, "Service", a->service);
    if (a->started_at)
        add_fact(f, &k, "Started", tc_time_format(a->started_at, buf, sizeof buf));
    if (a->ended_at)
        add_fact(f, &k, "Ended", tc_time_format(a->ended_at, buf, sizeof buf));
    if (n->occurrences > 0) {
        snprintf(buf, sizeof buf, "%lld", (long long)n->occurrences);
        add_fact(f, &k, "Occurrences", buf);
    }
    if (n->action == TOCSIN_ACT_ACKNOWLEDGE)
        add_fact(f, &k, "Acknowledged by", n->actor);
    if (n->action == TOCSIN_ACT_RESOLVE)
        add_fact(f, &k, "Resolved by", n->actor);
    add_fact(f, &k, "Dedup key", a->dedup_key);
    return k;
}

static void free_facts(struct fact *f, size_t k)
{
    while (k--)
        free(f[k].value);
}

/* Everything both parts show, made safe once. */
struct content {
    char *summary, *actor, *note, *details;
    char *incident_url;
    struct fact facts[MAX_FACTS];
    size_t n_facts;
    struct link links[32];
    size_t n_links;
};

static int content_make(struct content *c, const struct tocsin_notification *n)
{
    const char *ext = n->external_url;

    memset(c, 0, sizeof *c);
    c->summary = em_one_line(n->alert->summary);
    c->actor = em_one_line(n->actor);
    c->note = n->note && *n->note ? em_lines(n->note) : NULL;
    c->details = n->alert->details && *n->alert->details ? em_lines(n->alert->details) : NULL;
    if (ext && *ext && !n->test) {
        size_t len = strlen(ext);
        struct tc_text t = { 0 };

        while (len && ext[len - 1] == '/')
            len--;
        em_printf(&t, "%.*s/api/v1/incidents/%lld", (int)len, ext, (long long)n->incident_id);
        c->incident_url = em_finish(&t, NULL);
        if (!c->incident_url)
            return -1;
    }
    c->n_facts = collect_facts(n, c->facts);
    c->n_links = collect_links(n, c->incident_url, c->links,
                               sizeof c->links / sizeof c->links[0]);
    return c->summary && c->actor && (c->note || !n->note || !*n->note) &&
                   (c->details || !n->alert->details || !*n->alert->details)
               ? 0
               : -1;
}

static void content_free(struct content *c)
{
    free(c->summary);
    free(c->actor);
    free(c->note);
    free(c->details);
    free(c->incident_url);
    free_facts(c->facts, c->n_facts);
}

/* "  key: value" lines of a kv array (values on one line). */
static void text_kv(struct tc_text *t, const char *title, const struct tocsin_kv *kv, size_t n,
                    const char *skip)
{
    size_t i, shown = 0;

    for (i = 0; i < n; i++) {
        char *k, *v;

        if (!kv[i].key || (skip && strcmp(kv[i].key, skip) == 0))
            continue;
        k = em_one_line(kv[i].key);
        v = em_one_line(kv[i].value);
        if (k && v) {
            if (shown++ == 0)
                em_printf(t, "\n%s:\n", title);
            em_printf(t, "  %s: %s\n", k, v);
        } else {
            t->failed = 1;
        }
        free(k);
        free(v);
    }
}

static char *text_part(const struct tocsin_notification *n, const struct content *c)
{
    const struct tocsin_alert *a = n->alert;
    struct tc_text t = { 0 };
    size_t i;

    if (n->test)
        em_puts(&t, "[TEST] A test notification from `tocsind --test-sink`: "
                    "nobody needs to act.\n\n");
    headline(&t, n, c->actor);
    em_printf(&t, ": %s\n\n", *c->summary ? c->summary : "(no summary)");
    for (i = 0; i < c->n_facts; i++)
        em_printf(&t, "%-16s %s\n", c->facts[i].label, c->facts[i].value);
    if (c->note)
        em_printf(&t, "\nNote:\n%s\n", c->note);
    if (c->details)
        em_printf(&t, "\nDetails:\n%s\n", c->details);
    text_kv(&t, "Labels", a->labels, a->n_labels, NULL);
    text_kv(&t, "Annotations", a->annotations, a->n_annotations, "runbook_url");
    if (c->n_links)
        em_puts(&t, "\nLinks:\n");
    for (i = 0; i < c->n_links; i++) {
        char *title = em_one_line(c->links[i].title), *url = em_one_line(c->links[i].url);

        if (title && url)
            em_printf(&t, "  %s: %s\n", title, url);
        else
            t.failed = 1;
        free(title);
        free(url);
    }
    em_printf(&t, "\n-- \ntocsin, sink \"%s\"\n", n->sink_id ? n->sink_id : "");
    return em_finish(&t, NULL);
}

/* <a href="url">title</a> for a link a reader can follow, else the text. */
static void html_link(struct tc_text *t, const char *url, const char *title)
{
    char *u = em_one_line(url), *ti = em_one_line(title);

    if (!u || !ti) {
        t->failed = 1;
    } else if (em_linkable(u)) {
        em_puts(t, "<a href=\"");
        em_html(t, u);
        em_puts(t, "\">");
        em_html(t, ti);
        em_puts(t, "</a>");
    } else {
        em_html(t, ti);
        em_puts(t, ": ");
        em_html(t, u);
    }
    free(u);
    free(ti);
}

static void html_kv(struct tc_text *t, const char *title, const struct tocsin_kv *kv, size_t n,
                    const char *skip)
{
    size_t i, shown = 0;

    for (i = 0; i < n; i++) {
        char *k, *v;

        if (!kv[i].key || (skip && strcmp(kv[i].key, skip) == 0))
            continue;
        k = em_one_line(kv[i].key);
        v = em_one_line(kv[i].value);
        if (k && v) {
            if (shown++ == 0)
                em_printf(t, "<h3>%s</h3>\n<table cellpadding=\"3\">\n", title);
            em_puts(t, "<tr><th align=\"left\">");
            em_html(t, k);
            em_puts(t, "</th><td>");
            em_html(t, v);
            em_puts(t, "</td></tr>\n");
        } else {
            t->failed = 1;
        }
        free(k);
        free(v);
    }
    if (shown)
        em_puts(t, "</table>\n");
}

static char *html_part(const struct email_msg *m, const struct tocsin_notification *n,
                       const struct content *c, const char *subject)
{
    const struct tocsin_alert *a = n->alert;
    const char *colour = n->action == TOCSIN_ACT_ACKNOWLEDGE ? ACK_COLOUR
                         : n->action == TOCSIN_ACT_RESOLVE
                             ? RESOLVED_COLOUR
                             : sev_colour[(unsigned)a->severity < 5 ? a->severity : 4];
    struct tc_text t = { 0 }, head = { 0 };
    size_t i;

    em_puts(&t, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>");
    em_html(&t, subject);
    em_puts(&t, "</title></head>\n"
                "<body style=\"font-family:Arial,Helvetica,sans-serif;font-size:14px\">\n");
    if (n->test)
        em_puts(&t, "<p style=\"padding:6px 10px;border-left:6px solid #888\"><b>[TEST]</b> "
                    "A test notification from <code>tocsind --test-sink</code>: nobody needs "
                    "to act.</p>\n");
    headline(&head, n, c->actor);
    if (!em_finish(&head, NULL)) {
        t.failed = 1;
    } else {
        em_printf(&t, "<div style=\"padding:6px 10px;background:%s;color:#ffffff;"
                      "font-weight:bold\">", colour);
        em_html(&t, tag_of(m, a));
        em_puts(&t, " &middot; ");
        em_html(&t, head.s);
        em_puts(&t, "</div>\n");
    }
    free(head.s);
    em_puts(&t, "<h2>");
    em_html(&t, *c->summary ? c->summary : "(no summary)");
    em_puts(&t, "</h2>\n<table cellpadding=\"3\">\n");
    for (i = 0; i < c->n_facts; i++) {
        em_printf(&t, "<tr><th align=\"left\">%s</th><td>", c->facts[i].label);
        if (c->incident_url && strcmp(c->facts[i].label, "Incident") == 0)
            html_link(&t, c->incident_url, c->facts[i].value);
        else
            em_html(&t, c->facts[i].value);
        em_puts(&t, "</td></tr>\n");
    }
    em_puts(&t, "</table>\n");
    if (c->note) {
        em_puts(&t, "<h3>Note</h3>\n<pre style=\"white-space:pre-wrap\">");
        em_html(&t, c->note);
        em_puts(&t, "</pre>\n");
    }
    if (c->details) {
        em_puts(&t, "<h3>Details</h3>\n<pre style=\"white-space:pre-wrap\">");
        em_html(&t, c->details);
        em_puts(&t, "</pre>\n");
    }
    html_kv(&t, "Labels", a->labels, a->n_labels, NULL);
    html_kv(&t, "Annotations", a->annotations, a->n_annotations, "runbook_url");
    if (c->n_links)
        em_puts(&t, "<h3>Links</h3>\n<ul>\n");
    for (i = 0; i < c->n_links; i++) {
        em_puts(&t, "<li>");
        html_link(&t, c->links[i].url, c->links[i].title);
        em_puts(&t, "</li>\n");
    }
    if (c->n_links)
        em_puts(&t, "</ul>\n");
    em_puts(&t, "<p style=\"color:#888888;font-size:12px\">tocsin, sink &quot;");
    em_html(&t, n->sink_id ? n->sink_id : "");
    em_puts(&t, "&quot;</p>\n</body></html>\n");
    return em_finish(&t, NULL);
}

/* ---- the message --------------------------------------------------------- */

static void address_list(struct tc_text *t, const char *name, const struct em_addr *v, size_t n)
{
    struct em_header h;
    size_t i;

    if (n == 0)
        return;
    em_header_start(&h, t, name);
    for (i = 0; i < n; i++)
        em_header_addr(&h, &v[i], i + 1 < n);
    em_header_end(&h);
}

static void simple_header(struct tc_text *t, const char *name, const char *value)
{
    struct em_header h;

    em_header_start(&h, t, name);
    em_header_word(&h, value, strlen(value));
    em_header_end(&h);
}

static void part(struct tc_text *t, const char *type, const char *body)
{
    em_printf(t, "--" BOUNDARY "\r\nContent-Type: %s; charset=UTF-8\r\n"
                 "Content-Transfer-Encoding: quoted-printable\r\n\r\n", type);
    em_qp(t, body);
}

char *email_compose(const struct email_msg *m, const struct tocsin_notification *n,
                    int64_t now_ms, size_t *len)
{
    char date[40], id[EMAIL_ID_MAX + 160], thread[EMAIL_ID_MAX + 160], num[32];
    char *subject = NULL, *text = NULL, *html = NULL;
    struct tc_text t = { 0 };
    struct em_header h;
    struct content c;

    if (content_make(&c, n) < 0 || !(subject = email_subject(m, n)) ||
        !(text = text_part(n, &c)) || !(html = html_part(m, n, &c, subject))) {
        t.failed = 1;
        goto out;
    }
    simple_header(&t, "Date", em_date(now_ms, date, sizeof date));
    address_list(&t, "From", m->from, 1);
    address_list(&t, "To", m->to, m->n_to);
    address_list(&t, "Cc", m->cc, m->n_cc);
    email_message_id(m, n, id, sizeof id);
    simple_header(&t, "Message-ID", id);
    if (n->action != TOCSIN_ACT_TRIGGER) {
        email_thread_id(m, n, thread, sizeof thread);
        simple_header(&t, "In-Reply-To", thread);
        simple_header(&t, "References", thread);
    }
    em_header_start(&h, &t, "Subject");
    em_header_text(&h, subject);
    em_header_end(&h);
    em_puts(&t, "MIME-Version: 1.0\r\n"
                "Content-Type: multipart/alternative; boundary=\"" BOUNDARY "\"\r\n"
                "Auto-Submitted: auto-generated\r\n"); /* RFC 3834: no vacation replies */
    if (!n->test) {
        snprintf(num, sizeof num, "%lld", (long long)n->incident_id);
        simple_header(&t, "X-Tocsin-Incident", num);
    }
    simple_header(&t, "X-Tocsin-Action", tocsin_action_name(n->action));
    simple_header(&t, "X-Tocsin-Severity", tocsin_severity_name(n->alert->severity));
    em_puts(&t, "\r\nThis is a MIME message: the same text as plain text and as HTML.\r\n");
    part(&t, "text/plain", text);
    part(&t, "text/html", html);
    em_puts(&t, "--" BOUNDARY "--\r\n");

out:
    content_free(&c);
    free(subject);
    free(text);
    free(html);
    return em_finish(&t, len);
}
