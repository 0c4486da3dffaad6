/* text.c: Slack text within its limits (see text.h). */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "text.h"

void slk_init(struct slk_text *t, size_t max)
{
    memset(t, 0, sizeof *t);
    t->max = max ? max : 1;
}

static void grow_put(struct slk_text *t, const char *p, size_t n)
{
    if (t->failed)
        return;
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 128;
        char *s;

        while (cap < t->len + n + 1)
            cap *= 2;
        s = realloc(t->s, cap);
        if (!s) {
            t->failed = 1;
            return;
        }
        t->s = s;
        t->cap = cap;
    }
    memcpy(t->s + t->len, p, n);
    t->len += n;
    t->s[t->len] = '\0';
}

/* One unit of w characters: in whole, or the text is cut back to its last
 * point with room for the ellipsis, which ends it. */
static void unit(struct slk_text *t, const char *p, size_t n, size_t w)
{
    if (t->cut || t->failed)
        return;
    if (t->chars + w > t->max) {
        t->len = t->mark_len;
        t->chars = t->mark_chars;
        if (t->s)
            t->s[t->len] = '\0';
        grow_put(t, SLK_ELLIPSIS, sizeof SLK_ELLIPSIS - 1);
        t->chars++;
        t->cut = 1;
        return;
    }
    grow_put(t, p, n);
    t->chars += w;
    if (t->chars < t->max) {
        t->mark_len = t->len;
        t->mark_chars = t->chars;
    }
}

void slk_put(struct slk_text *t, const char *s, unsigned flags)
{
    const unsigned char *p = (const unsigned char *)s;

    if (!s)
        return;
    while (*p && !t->cut && !t->failed) {
        int n = tc_utf8_seq(p);

        if (n == 0) {
            unit(t, "\xef\xbf\xbd", 3, 1); /* U+FFFD for a byte that is not UTF-8 */
            p++;
            continue;
        }
        if (n == 1) {
            char c = (char)*p;

            if ((flags & SLK_ESCAPE) && c == '&')
                unit(t, "&amp;", 5, 5);
            else if ((flags & SLK_ESCAPE) && c == '<')
                unit(t, "&lt;", 4, 4);
            else if ((flags & SLK_ESCAPE) && c == '>')
                unit(t, "&gt;", 4, 4);
            else if ((flags & SLK_ONE_LINE) && (c == '\n' || c == '\r' || c == '\t'))
                unit(t, " ", 1, 1);
            else if ((*p < 0x20 && c != '\n' && c != '\t') || *p == 0x7f)
                unit(t, " ", 1, 1);
            else
                unit(t, (const char *)p, 1, 1);
        } else {
            unit(t, (const char *)p, (size_t)n, n == 4 ? 2 : 1);
        }
        p += n;
    }
}

void slk_raw(struct slk_text *t, const char *s)
{
    size_t n, w = 0;
    const unsigned char *p;

    if (!s || !*s)
        return;
    n = strlen(s);
    for (p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xc0) != 0x80)
            w += (*p >= 0xf0) ? 2 : 1;
    unit(t, s, n, w);
}

char *slk_take(struct slk_text *t)
{
    char *s = t->s;

    if (t->failed) {
        free(s);
        s = NULL;
    } else if (!s) {
        s = calloc(1, 1);
    }
    memset(t, 0, sizeof *t);
    return s;
}

void slk_free(struct slk_text *t)
{
    free(t->s);
    memset(t, 0, sizeof *t);
}

char *slk_fit(const char *s, size_t max, unsigned flags)
{
    struct slk_text t;

    slk_init(&t, max);
    slk_put(&t, s, flags);
    return slk_take(&t);
}
