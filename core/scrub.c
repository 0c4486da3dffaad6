/* scrub.c: escaping control characters and removing URLs' secrets from
 * text the daemon did not write, before it is logged or stored. */
#include <stdio.h>
#include <string.h>

#include "scrub.h"

#define ELLIPSIS "\xe2\x80\xa6" /* U+2026 "…" */

/* Output of at most max bytes, cut between units (a character or an
 * escape), never inside one. keep is the longest prefix that still leaves
 * room for the ellipsis, where a cut goes back to. */
struct out {
    char *buf;
    size_t max, len, keep, reserve;
    int cut;
};

static void put(struct out *o, const char *unit, size_t n)
{
    if (o->cut)
        return;
    if (o->len + n > o->max) {
        o->cut = 1;
        return;
    }
    memcpy(o->buf + o->len, unit, n);
    o->len += n;
    if (o->len + o->reserve <= o->max)
        o->keep = o->len;
}

/* The length of the valid UTF-8 sequence at p (2..4 bytes), 0 if invalid:
 * overlong forms, surrogates and code points past U+10FFFF included. */
static size_t utf8_seq(const unsigned char *p)
{
    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        return (p[1] & 0xc0) == 0x80 ? 2 : 0;
    if (p[0] >= 0xe0 && p[0] <= 0xef) {
        unsigned lo = p[0] == 0xe0 ? 0xa0 : 0x80, hi = p[0] == 0xed ? 0x9f : 0xbf;

        return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 ? 3 : 0;
    }
    if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        unsigned lo = p[0] == 0xf0 ? 0x90 : 0x80, hi = p[0] == 0xf4 ? 0x8f : 0xbf;

        return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80
                   ? 4 : 0;
    }
    return 0;
}

static void put_hex(struct out *o, unsigned char c)
{
    char esc[5];

    snprintf(esc, sizeof esc, "\\x%02x", c);
    put(o, esc, 4);
}

/* One character of s at *i, escaped; advances *i past it. */
static void put_one(struct out *o, const char *s, size_t *i)
{
    const unsigned char *p = (const unsigned char *)s + *i;
    size_t n = 0;

    switch (*p) {
    case '\\': put(o, "\\\\", 2); break;
    case '\n': put(o, "\\n", 2); break;
    case '\r': put(o, "\\r", 2); break;
    case '\t': put(o, "\\t", 2); break;
    default:
        if (*p < 0x20 || *p == 0x7f) {
            put_hex(o, *p);
        } else if (*p < 0x80) {
            put(o, (const char *)p, 1);
        } else if ((n = utf8_seq(p)) == 0) {
            put_hex(o, *p);
        } else if (n == 2 && p[0] == 0xc2 && p[1] < 0xa0) {
            /* C1 controls: some terminals take U+009B as CSI. */
            put_hex(o, p[0]);
            put_hex(o, p[1]);
        } else {
            put(o, (const char *)p, n);
        }
        *i += n ? n : 1;
        return;
    }
    *i += 1;
}

static void finish(struct out *o, int ellipsis)
{
    if (o->cut) {
        o->len = o->keep;
        if (ellipsis && o->len + sizeof ELLIPSIS - 1 <= o->max) {
            memcpy(o->buf + o->len, ELLIPSIS, sizeof ELLIPSIS - 1);
            o->len += sizeof ELLIPSIS - 1;
        }
    }
    o->buf[o->len] = '\0';
}

size_t tc_escape(const char *s, char *out, size_t size)
{
    struct out o = { out, size ? size - 1 : 0, 0, 0, 0, 0 };
    size_t i = 0;

    if (!size)
        return 0;
    while (s[i] && !o.cut)
        put_one(&o, s, &i);
    finish(&o, 0);
    return o.len;
}

/* Where a URL ends in running text (JSON, HTML, a sentence). */
static int url_end(unsigned char c)
{
    return c <= 0x20 || c == 0x7f || c == '"' || c == '\'' || c == '<' || c == '>' ||
           c == '`';
}

/* Where the authority (userinfo@host:port) ends: the path ("/", or "\/"
 * in JSON that escapes slashes), the query, the fragment, or the URL. */
static int authority_end(unsigned char c)
{
    return !c || url_end(c) || c == '/' || c == '\\' || c == '?' || c == '#';
}

/* s + *i is just past "://" (or ":\/\/"): keep host[:port], say "/…" for
 * anything else the URL held, and skip to its end. */
static void put_url_rest(struct out *o, const char *s, size_t *i)
{
    size_t start = *i, end = start, host, host_end, k;
    int dropped = 0;

    while (!authority_end((unsigned char)s[end]))
        end++;
    host = start;
    for (k = start; k < end; k++)
        if (s[k] == '@')
            host = k + 1;
    dropped = host != start; /* user:password@ */
    host_end = host;
    if (s[host] == '[') { /* [IPv6] */
        while (host_end < end && s[host_end] != ']')
            host_end++;
        if (host_end < end)
            host_end++;
    } else {
        while (host_end < end && s[host_end] != ':')
            host_end++;
    }
    if (host_end < end && s[host_end] == ':') {
        /* A port is digits; anything else here is not one. */
        for (k = host_end + 1; k < end && s[k] >= '0' && s[k] <= '9'; k++)
            ;
        if (k == end && k > host_end + 1)
            host_end = end;
        else
            dropped = 1;
    } else if (host_end < end) {
        dropped = 1;
    }
    for (k = host; k < host_end;)
        put_one(o, s, &k);
    *i = end;
    if (s[end] && !url_end((unsigned char)s[end])) { /* a path, query or fragment */
        while (s[*i] && !url_end((unsigned char)s[*i]))
            (*i)++;
        dropped = 1;
    }
    if (dropped)
        put(o, "/" ELLIPSIS, 1 + sizeof ELLIPSIS - 1);
}

size_t tc_scrub(const char *s, char *out, size_t max)
{
    struct out o = { out, max, 0, 0, sizeof ELLIPSIS - 1, 0 };
    size_t i = 0;

    while (s[i] && !o.cut) {
        if (strncmp(s + i, "://", 3) == 0) {
            put(&o, "://", 3);
            i += 3;
            put_url_rest(&o, s, &i);
        } else if (strncmp(s + i, ":\\/\\/", 5) == 0) {
            put(&o, ":\\\\/\\\\/", 7); /* as tc_escape writes it */
            i += 5;
            put_url_rest(&o, s, &i);
        } else {
            put_one(&o, s, &i);
        }
    }
    finish(&o, 1);
    return o.len;
}
