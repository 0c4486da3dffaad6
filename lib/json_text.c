/* json_text.c: JSON text written straight from C strings. Building a
 * jansson tree only to dump it costs more than storing an alert: jansson
 * checks every container for loops with a formatted pointer. What this
 * writes is byte for byte what json_dumps(JSON_COMPACT) writes. */
#include <stdlib.h>
#include <string.h>

#include "common.h"

int tc_utf8_seq(const unsigned char *p)
{
    unsigned c = p[0];

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return (p[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 || (c == 0xe0 && p[1] < 0xa0) ||
            (c == 0xed && p[1] >= 0xa0))
            return 0;
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80 ||
            (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90))
            return 0;
        return 4;
    }
    return 0;
}

void tc_text_put(struct tc_text *t, const char *s, size_t n)
{
    if (t->failed || n == 0)
        return; /* nothing to copy, and t->s may still be NULL */
    if (t->len + n > t->cap) {
        size_t cap = t->cap ? t->cap : 512;
        char *grown;

        while (cap < t->len + n)
            cap *= 2;
        grown = realloc(t->s, cap);
        if (!grown) {
            t->failed = 1;
            return;
        }
        t->s = grown;
        t->cap = cap;
    }
    memcpy(t->s + t->len, s, n);
    t->len += n;
}

void tc_text_json_string(struct tc_text *t, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = (const unsigned char *)s, *run = p;

    tc_text_put(t, "\"", 1);
    while (*p) {
        const char *esc = NULL;
        char u[7];
        int n = tc_utf8_seq(p);

        if (n > 1 || (n == 1 && *p >= 0x20 && *p != '"' && *p != '\\')) {
            p += n; /* as it is: the common case, copied in runs */
            continue;
        }
        tc_text_put(t, (const char *)run, (size_t)(p - run));
        if (n == 0) {
            esc = "\xef\xbf\xbd"; /* U+FFFD for a byte that is not UTF-8 */
        } else {
            switch (*p) {
            case '"': esc = "\\\""; break;
            case '\\': esc = "\\\\"; break;
            case '\b': esc = "\\b"; break;
            case '\f': esc = "\\f"; break;
            case '\n': esc = "\\n"; break;
            case '\r': esc = "\\r"; break;
            case '\t': esc = "\\t"; break;
            default:
                memcpy(u, "\\u00", 4);
                u[4] = hex[*p >> 4];
                u[5] = hex[*p & 15];
                u[6] = '\0';
                esc = u;
            }
        }
        tc_text_put(t, esc, strlen(esc));
        run = ++p;
    }
    tc_text_put(t, (const char *)run, (size_t)(p - run));
    tc_text_put(t, "\"", 1);
}
