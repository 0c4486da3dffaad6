/* format.c: see format.h. Sizes are counted in UTF-16 code units, the
 * most a Twilio "character" can be, so a text within the limit here is
 * within Twilio's. */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"

#define ELLIPSIS "\xe2\x80\xa6" /* U+2026, one unit */
#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */

int twilio_e164_ok(const char *s)
{
    size_t n;

    if (!s || s[0] != '+' || s[1] < '1' || s[1] > '9')
        return 0;
    for (n = 1; s[n]; n++)
        if (s[n] < '0' || s[n] > '9')
            return 0;
    n--; /* the digits, without the '+' */
    return n >= 8 && n <= 15;
}

int twilio_account_sid_ok(const char *s)
{
    size_t i;

    if (!s || strncmp(s, "AC", 2) != 0 || strlen(s) != 34)
        return 0;
    for (i = 2; i < 34; i++)
        if (!isxdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

/* Units of the sequence at p of n bytes (n from tc_utf8_seq, 0: a bad byte). */
static size_t seq_units(int n)
{
    return n == 4 ? 2 : 1;
}

static void put(struct tc_text *t, const char *s)
{
    tc_text_put(t, s, strlen(s));
}

/* s as plain text: bytes that are not UTF-8 become U+FFFD, control
 * characters a space (line breaks too, unless multiline). */
static void put_clean(struct tc_text *t, const char *s, int multiline)
{
    const unsigned char *p = (const unsigned char *)s;

    while (p && *p) {
        int n = tc_utf8_seq(p);

        if (n == 0) {
            put(t, REPLACEMENT);
            p++;
        } else if (n == 1 && (*p < 0x20 || *p == 0x7f)) {
            tc_text_put(t, *p == '\n' && multiline ? "\n" : " ", 1);
            p++;
        } else {
            tc_text_put(t, (const char *)p, (size_t)n);
            p += n;
        }
    }
}

/* t as a NUL-terminated string it gives away (NULL when it failed). */
static char *take(struct tc_text *t)
{
    tc_text_put(t, "", 1);
    if (t->failed) {
        free(t->s);
        return NULL;
    }
    return t->s;
}

/* How many bytes of s (valid UTF-8) fit in budget units. */
static size_t fit(const char *s, size_t budget)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t units = 0;

    while (*p) {
        int n = tc_utf8_seq(p);

        if (n == 0)
            n = 1;
        if (units + seq_units(n) > budget)
            break;
        units += seq_units(n);
        p += n;
    }
    return (size_t)(p - (const unsigned char *)s);
}

static int is_set(const char *s)
{
    return s && *s;
}

/* {external_url}/api/v1/incidents/{id}, or "" without an external_url. */
static char *incident_url(const struct tocsin_notification *n)
{
    const char *base = n->external_url ? n->external_url : "";
    size_t len = strlen(base);
    char *url;

    while (len > 0 && base[len - 1] == '/')
        len--;
    url = malloc(len + 64);
    if (url && len == 0)
        url[0] = '\0';
    else if (url)
        snprintf(url, len + 64, "%.*s/api/v1/incidents/%lld", (int)len, base,
                 (long long)n->incident_id);
    return url;
}

static void put_upper(struct tc_text *t, const char *s)
{
    for (; *s; s++) {
        char c = (char)toupper((unsigned char)*s);

        tc_text_put(t, &c, 1);
    }
}

/* The part of the text that may be cut: who, what, details or the note. */
static void sms_head(struct tc_text *t, const struct tocsin_notification *n)
{
    const struct tocsin_alert *a = n->alert;

    if (n->test)
        put(t, "[TEST] ");
    switch (n->action) {
    case TOCSIN_ACT_ACKNOWLEDGE:
    case TOCSIN_ACT_RESOLVE:
        put(t, n->action == TOCSIN_ACT_RESOLVE ? "RESOLVED" : "ACK");
        if (is_set(n->actor)) {
            put(t, " by ");
            put_clean(t, n->actor, 0);
        }
        put(t, ": ");
        put_clean(t, a->summary ? a->summary : "", 0);
        if (n->action == TOCSIN_ACT_RESOLVE && is_set(n->note)) {
            put(t, "\nNote: ");
            put_clean(t, n->note, 1);
        }
        break;
    default:
        put_upper(t, tocsin_severity_name(a->severity));
        put(t, ": ");
        put_clean(t, a->summary ? a->summary : "", 0);
        if (is_set(a->details)) {
            put(t, "\n");
            put_clean(t, a->details, 1);
        }
        break;
    }
}

/* The link lines, most useful first: "\nLabel: URL" ("\nLabel" alone
 * without a URL). */
enum { MAX_LINES = 3 };

struct lines {
    struct tc_text v[MAX_LINES];
    size_t n;
};

static void add_line(struct lines *l, const char *label, const char *url)
{
    struct tc_text *t = &l->v[l->n++];

    put(t, "\n");
    put(t, label);
    if (is_set(url)) {
        put(t, ": ");
        put_clean(t, url, 0);
    }
    tc_text_put(t, "", 1);
}

/* Runbook and source on a trigger, the incident on every notification of
 * an incident (--test-sink's have none: id 0). */
static int link_lines(struct lines *l, const struct tocsin_notification *n)
{
    const struct tocsin_alert *a = n->alert;
    int trigger = n->action != TOCSIN_ACT_ACKNOWLEDGE && n->action != TOCSIN_ACT_RESOLVE;
    const char *runbook = tocsin_kv_get(a->annotations, a->n_annotations, "runbook_url");
    const char *source = tocsin_kv_get(a->links, a->n_links, "generator");
    size_t i;

    if (trigger && is_set(runbook))
        add_line(l, "Runbook", runbook);
    if (n->incident_id > 0) {
        char label[48], *url = incident_url(n);

        if (!url)
            return -1;
        snprintf(label, sizeof label, "Incident %lld", (long long)n->incident_id);
        add_line(l, label, url);
        free(url);
    }
    if (trigger && is_set(source))
        add_line(l, "Source", source);
    for (i = 0; i < l->n; i++)
        if (l->v[i].failed)
            return -1;
    return 0;
}

char *twilio_sms_text(const struct tocsin_notification *n, size_t max)
{
    struct tc_text head = { 0 }, out = { 0 };
    struct lines l;
    size_t i, tail = 0, reserve = max / 2 < 160 ? max / 2 : 160;
    char *text = NULL;

    if (!n || !n->alert)
        return NULL;
    memset(&l, 0, sizeof l);
    if (link_lines(&l, n) < 0)
        goto done;
    /* Links are never cut: the least useful go when they would leave the
     * text too little room. */
    for (;;) {
        tail = 0;
        for (i = 0; i < l.n; i++)
            tail += tc_text_units(l.v[i].s);
        if (l.n == 0 || tail + reserve <= max)
            break;
        free(l.v[--l.n].s);
        memset(&l.v[l.n], 0, sizeof l.v[l.n]);
    }
    sms_head(&head, n);
    if (!(text = take(&head)))
        goto done;
    if (tc_text_units(text) + tail <= max) {
        put(&out, text);
    } else if (tail < max) {
        tc_text_put(&out, text, fit(text, max - tail - 1));
        put(&out, ELLIPSIS);
    }
    for (i = 0; i < l.n; i++)
        put(&out, l.v[i].s);
    free(text);
    text = take(&out);
done:
    for (i = 0; i < MAX_LINES; i++)
        free(l.v[i].s);
    return text;
}

/* ---- TwiML ------------------------------------------------------------ */

/* The XML text of one character, or NULL when it is copied as it is. */
static const char *xml_entity(unsigned char c)
{
    switch (c) {
    case '&': return "&amp;";
    case '<': return "&lt;";
    case '>': return "&gt;";
    case '"': return "&quot;";
    case '\'': return "&apos;";
    }
    return c < 0x20 || c == 0x7f ? " " : NULL;
}

/* The units s takes escaped. */
static size_t xml_units(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t units = 0;

    while (*p) {
        int n = tc_utf8_seq(p);
        const char *e = n == 1 ? xml_entity(*p) : NULL;

        units += e ? strlen(e) : seq_units(n);
        p += n ? n : 1;
    }
    return units;
}

/* s XML-escaped, at most budget units: when it does not fit, it is cut
 * between characters (never inside an entity) and ends in "…". */
static void put_xml(struct tc_text *t, const char *s, size_t budget)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t units = 0, need = xml_units(s);

    while (*p) {
        int n = tc_utf8_seq(p);
        const char *e = n == 1 ? xml_entity(*p) : n == 0 ? REPLACEMENT : NULL;
        size_t u = e && n == 1 ? strlen(e) : seq_units(n);

        if (need > budget && units + u + 1 > budget) {
            put(t, ELLIPSIS);
            return;
        }
        if (e)
            put(t, e);
        else
            tc_text_put(t, (const char *)p, (size_t)n);
        units += u;
        p += n ? n : 1;
    }
}

char *twilio_call_twiml(const struct tocsin_notification *n, size_t max)
{
    static const char close[] = "</Say></Response>";
    const struct tocsin_alert *a = n ? n->alert : NULL;
    const char *summary;
    struct tc_text t = { 0 };
    char sev[16], start[96], end[64];
    size_t len, fixed;

    if (!a)
        return NULL;
    summary = a->summary ? a->summary : "";
    snprintf(sev, sizeof sev, "%s", tocsin_severity_name(a->severity));
    sev[0] = (char)toupper((unsigned char)sev[0]);
    snprintf(start, sizeof start, "<Response><Say loop=\"2\">%sAlert from tocsin. %s: ",
             n->test ? "This is a test. " : "", sev);
    len = strlen(summary);
    /* A sentence's own stop is enough. */
    snprintf(end, sizeof end, "%s", len && strchr(".!?", summary[len - 1]) ? "" : ".");
    if (n->incident_id > 0)
        snprintf(end + strlen(end), sizeof end - strlen(end), " Incident %lld.",
                 (long long)n->incident_id);
    fixed = strlen(start) + strlen(end) + strlen(close);
    put(&t, start);
    put_xml(&t, summary, fixed < max ? max - fixed : 0);
    put(&t, end);
    put(&t, close);
    return take(&t);
}

/* ---- form encoding ---------------------------------------------------- */

static void put_pct(struct tc_text *t, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = (const unsigned char *)s;

    for (; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            tc_text_put(t, (const char *)p, 1);
        } else {
            char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };

            tc_text_put(t, e, 3);
        }
    }
}

void twilio_form_add(struct tc_text *t, const char *name, const char *value)
{
    if (t->len > 0)
        tc_text_put(t, "&", 1);
    put_pct(t, name);
    tc_text_put(t, "=", 1);
    put_pct(t, value ? value : "");
}

/* ---- errors ----------------------------------------------------------- */

int twilio_error_text(long status, const char *body, char *out, size_t len)
{
    json_t *j = body ? json_loads(body, 0, NULL) : NULL;
    json_t *code = json_object_get(j, "code");
    const char *message = json_string_value(json_object_get(j, "message"));
    int n;

    if (!message || !*message || len == 0) {
        json_decref(j);
        return 0;
    }
    if (json_is_integer(code))
        n = snprintf(out, len, "HTTP %ld, Twilio error %lld: ", status,
                     (long long)json_integer_value(code));
    else
        n = snprintf(out, len, "HTTP %ld: ", status);
    /* Cut on a character: the reason becomes JSON. */
    if (n >= 0 && (size_t)n < len - 1)
        snprintf(out + n, len - (size_t)n, "%.*s",
                 tc_utf8_clip(message, (int)(len - 1 - (size_t)n)), message);
    json_decref(j);
    return 1;
}
