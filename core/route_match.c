/* route_match.c: route paths with {name} segments ("/api/v1/maintenance/{id}").
 * Matching runs on the raw path so that an encoded '/' (%2F) stays inside
 * its segment instead of moving the segments around. */
#include <stdio.h>
#include <string.h>

#include "route_match.h"

/* The segment starting at s (just after a '/'): its end. */
static const char *seg_end(const char *s)
{
    const char *e = strchr(s, '/');

    return e ? e : s + strlen(s);
}

static int is_param(const char *s, const char *e)
{
    return e - s >= 2 && s[0] == '{' && e[-1] == '}';
}

int tc_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int name_ok(const char *s, const char *e)
{
    const char *c;

    if (s == e || (*s >= '0' && *s <= '9'))
        return 0;
    for (c = s; c < e; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
              (*c >= '0' && *c <= '9') || *c == '_'))
            return 0;
    }
    return 1;
}

int tc_route_pattern_check(const char *pattern, char *err, size_t errlen)
{
    const char *names[TC_ROUTE_MAX_PARAMS];
    size_t lens[TC_ROUTE_MAX_PARAMS], len;
    const char *s, *e;
    int n = 0, empty = 0, i;

    if (!pattern || pattern[0] != '/') {
        snprintf(err, errlen, "path \"%s\" does not start with '/'", pattern ? pattern : "");
        return -1;
    }
    for (s = pattern + 1;; s = e + 1) {
        e = seg_end(s);
        empty |= s == e;
        if (is_param(s, e)) {
            if (!name_ok(s + 1, e - 1)) {
                snprintf(err, errlen, "path \"%s\": parameter \"%.*s\" is not a name"
                         " ([A-Za-z_][A-Za-z0-9_]*)", pattern, (int)(e - s), s);
                return -1;
            }
            for (i = 0; i < n; i++) {
                if (lens[i] == (size_t)(e - s - 2) && memcmp(names[i], s + 1, lens[i]) == 0) {
                    snprintf(err, errlen, "path \"%s\": parameter {%.*s} appears twice",
                             pattern, (int)lens[i], names[i]);
                    return -1;
                }
            }
            if (n == TC_ROUTE_MAX_PARAMS) {
                snprintf(err, errlen, "path \"%s\": more than %d parameters", pattern,
                         TC_ROUTE_MAX_PARAMS);
                return -1;
            }
            names[n] = s + 1;
            lens[n++] = (size_t)(e - s - 2);
        } else if (memchr(s, '{', (size_t)(e - s)) || memchr(s, '}', (size_t)(e - s))) {
            snprintf(err, errlen, "path \"%s\": segment \"%.*s\": a parameter is a whole"
                     " segment, as in /api/v1/things/{id}", pattern, (int)(e - s), s);
            return -1;
        }
        if (!*e)
            break;
    }
    len = strlen(pattern);
    if (n && pattern[len - 1] == '*') {
        snprintf(err, errlen, "path \"%s\": a prefix route (ending in '*') cannot have"
                 " parameters", pattern);
        return -1;
    }
    if (n && empty) {
        snprintf(err, errlen, "path \"%s\": an empty segment (\"//\" or a trailing '/')"
                 " beside parameters would never match", pattern);
        return -1;
    }
    return n;
}

int tc_route_same_shape(const char *a, const char *b)
{
    const char *ae, *be;

    for (a++, b++;; a = ae + 1, b = be + 1) {
        ae = seg_end(a);
        be = seg_end(b);
        if (is_param(a, ae) != is_param(b, be))
            return 0;
        if (!is_param(a, ae) && (ae - a != be - b || memcmp(a, b, (size_t)(ae - a)) != 0))
            return 0;
        if (!*ae || !*be)
            return !*ae && !*be;
    }
}

int tc_route_more_specific(const char *a, const char *b)
{
    const char *ae, *be;

    for (a++, b++;; a = ae + 1, b = be + 1) {
        ae = seg_end(a);
        be = seg_end(b);
        if (is_param(a, ae) != is_param(b, be))
            return !is_param(a, ae);
        if (!*ae || !*be)
            return 0;
    }
}

/* Whether the raw segment [s, e) decodes to exactly lit[0..n). */
static int literal_matches(const char *lit, size_t n, const char *s, const char *e)
{
    size_t i = 0;

    while (s < e) {
        int c = (unsigned char)*s, hi, lo;

        if (c == '%') {
            if (e - s < 3 || (hi = tc_hex_digit(s[1])) < 0 || (lo = tc_hex_digit(s[2])) < 0)
                return 0;
            c = hi << 4 | lo;
            s += 3;
        } else {
            s++;
        }
        if (i == n || (unsigned char)lit[i++] != c)
            return 0;
    }
    return i == n;
}

int tc_route_match(const char *pattern, const char *path, struct tc_route_param *params,
                   size_t max)
{
    const char *p = pattern, *s = path, *pe, *se;
    size_t n = 0;

    for (;;) {
        if (*p != '/' || *s != '/')
            return -1;
        pe = seg_end(++p);
        se = seg_end(++s);
        if (is_param(p, pe)) {
            if (se == s || n == max)
                return -1;
            params[n].name = p + 1;
            params[n].name_len = (size_t)(pe - p - 2);
            params[n].raw = s;
            params[n++].raw_len = (size_t)(se - s);
        } else if (!literal_matches(p, (size_t)(pe - p), s, se)) {
            return -1;
        }
        p = pe;
        s = se;
        if (!*p || !*s)
            return !*p && !*s ? (int)n : -1;
    }
}

long tc_route_decode(const char *raw, size_t len, char *out)
{
    size_t i, w = 0;

    for (i = 0; i < len; i++) {
        int hi, lo;

        if (raw[i] != '%') {
            out[w++] = raw[i];
            continue;
        }
        if (len - i < 3 || (hi = tc_hex_digit(raw[i + 1])) < 0 || (lo = tc_hex_digit(raw[i + 2])) < 0)
            return TC_ROUTE_BAD_ESCAPE;
        if ((hi | lo) == 0)
            return TC_ROUTE_NUL;
        if ((hi << 4 | lo) == '/')
            return TC_ROUTE_SLASH;
        out[w++] = (char)(hi << 4 | lo);
        i += 2;
    }
    out[w] = '\0';
    return (long)w;
}
