/* format.c: the console sink's line: time, action, incident, severity,
 * summary, then key=value context. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "format.h"

/* snprintf-like appending: counts what would be written past the end. */
struct line {
    char *buf;
    size_t size;
    size_t len;
};

static void put_char(struct line *l, char c)
{
    if (l->len + 1 < l->size)
        l->buf[l->len] = c;
    l->len++;
}

static void put_str(struct line *l, const char *s)
{
    for (; *s; s++)
        put_char(l, *s);
}

static int is_ctl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

/* Free text on the line (the summary): control characters become spaces. */
static void put_text(struct line *l, const char *s)
{
    for (; *s; s++)
        put_char(l, is_ctl((unsigned char)*s) ? ' ' : *s);
}

/* A value: bare when it is one plain word, else quoted and escaped so the
 * line stays one line and parseable by eye (and by logfmt readers). */
static void put_value(struct line *l, const char *s, int always_quote)
{
    const unsigned char *p;
    int quote = always_quote || !*s;

    for (p = (const unsigned char *)s; *p && !quote; p++)
        if (*p == ' ' || *p == '"' || *p == '\\' || *p == '=' || is_ctl(*p))
            quote = 1;
    if (!quote) {
        put_str(l, s);
        return;
    }
    put_char(l, '"');
    for (p = (const unsigned char *)s; *p; p++) {
        char esc[8];

        switch (*p) {
        case '"': put_str(l, "\\\""); break;
        case '\\': put_str(l, "\\\\"); break;
        case '\n': put_str(l, "\\n"); break;
        case '\r': put_str(l, "\\r"); break;
        case '\t': put_str(l, "\\t"); break;
        default:
            if (is_ctl(*p)) {
                snprintf(esc, sizeof esc, "\\x%02x", *p);
                put_str(l, esc);
            } else {
                put_char(l, (char)*p);
            }
        }
    }
    put_char(l, '"');
}

/* " key=value" inside the parentheses; nothing when value is unset. */
static void put_pair(struct line *l, int *first, const char *key, const char *value,
                     int always_quote)
{
    if (!value || !*value)
        return;
    if (!*first)
        put_char(l, ' ');
    *first = 0;
    put_str(l, key);
    put_char(l, '=');
    put_value(l, value, always_quote);
}

/* The moment the line is about: when it ended for a resolve, else when the
 * alert was last seen (first seen, started, as fallbacks). */
static int64_t line_time(const struct tocsin_notification *n)
{
    const struct tocsin_alert *a = n->alert;

    if (n->action == TOCSIN_ACT_RESOLVE && a->ended_at)
        return a->ended_at;
    if (n->last_seen)
        return n->last_seen;
    if (n->first_seen)
        return n->first_seen;
    return a->started_at;
}

int console_format(const struct tocsin_notification *n, char *buf, size_t size)
{
    struct line l = { buf, size, 0 };
    const struct tocsin_alert *a;
    const char *action;
    char tmp[64];
    int64_t t;
    int first = 1;

    if (!n || !n->alert)
        return -1;
    a = n->alert;

    t = line_time(n);
    put_str(&l, t ? tc_time_format(t, tmp, sizeof tmp) : "-");
    put_char(&l, ' ');
    for (action = tocsin_action_name(n->action); *action; action++)
        put_char(&l, (char)(*action >= 'a' && *action <= 'z' ? *action - 'a' + 'A' : *action));
    snprintf(tmp, sizeof tmp, " incident #%lld [", (long long)n->incident_id);
    put_str(&l, tmp);
    put_str(&l, tocsin_severity_name(a->severity));
    put_str(&l, "] ");
    put_text(&l, a->summary && *a->summary ? a->summary : "(no summary)");

    put_str(&l, " (");
    put_pair(&l, &first, "source", a->source, 0);
    put_pair(&l, &first, "service", a->service, 0);
    put_pair(&l, &first, "dedup", a->dedup_key, 0);
    snprintf(tmp, sizeof tmp, "%lld", (long long)n->occurrences);
    put_pair(&l, &first, "occurrences", tmp, 0);
    put_pair(&l, &first, "by", n->actor, 0);
    put_pair(&l, &first, "note", n->note, 1);
    put_char(&l, ')');

    if (size > 0)
        buf[l.len < size ? l.len : size - 1] = '\0';
    return l.len > INT_MAX ? -1 : (int)l.len;
}
