/* fit.c: text and keys cut to a provider's documented limits, for the
 * sinks. Limits are counted in UTF-16 code units, the length Java and
 * JavaScript give a string: never less than the count of characters, so
 * what fits one also fits a limit in characters. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define ELLIPSIS "\xe2\x80\xa6" /* U+2026, one unit */

/* Units of the sequence at p (its byte length in *len): a character above
 * U+FFFF is a surrogate pair; a byte that is not UTF-8 becomes U+FFFD. */
static size_t units_at(const unsigned char *p, int *len)
{
    int n = tc_utf8_seq(p);

    *len = n ? n : 1;
    return n == 4 ? 2 : 1;
}

size_t tc_text_units(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t units = 0;
    int len;

    while (p && *p) {
        units += units_at(p, &len);
        p += len;
    }
    return units;
}

/* Bytes of the longest prefix of s within max units. */
static size_t prefix_bytes(const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t units = 0;
    int len;

    while (*p) {
        size_t u = units_at(p, &len);

        if (units + u > max)
            break;
        units += u;
        p += len;
    }
    return (size_t)(p - (const unsigned char *)s);
}

char *tc_text_fit(const char *s, size_t max_units)
{
    size_t keep;
    char *out;

    if (!s)
        s = "";
    if (tc_text_units(s) <= max_units)
        return strdup(s);
    if (max_units == 0)
        return strdup("");
    keep = prefix_bytes(s, max_units - 1);
    out = malloc(keep + sizeof ELLIPSIS);
    if (!out)
        return NULL;
    memcpy(out, s, keep);
    memcpy(out + keep, ELLIPSIS, sizeof ELLIPSIS);
    return out;
}

char *tc_key_fit(const char *s, size_t max_units)
{
    const unsigned char *p;
    uint64_t h = 14695981039346656037ULL;
    size_t keep;
    char *out;

    if (!s)
        s = "";
    if (tc_text_units(s) <= max_units || max_units < 17)
        return strdup(s);
    /* FNV-1a 64 of the whole key: a stable stand-in for the part cut. */
    for (p = (const unsigned char *)s; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    keep = prefix_bytes(s, max_units - 17);
    out = malloc(keep + 18);
    if (!out)
        return NULL;
    memcpy(out, s, keep);
    snprintf(out + keep, 18, "~%016llx", (unsigned long long)h);
    return out;
}

void tc_text_append(char *out, size_t len, const char *text)
{
    size_t used = strlen(out);

    if (used + 1 < len)
        snprintf(out + used, len - used, "%.*s", tc_utf8_clip(text, (int)(len - used - 1)),
                 text);
}
