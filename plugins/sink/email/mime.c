/* mime.c: see mime.h. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mime.h"

/* Raw bytes per encoded word: 42 bytes are 56 base64 characters, a word of
 * 68 ("=?UTF-8?B?" + 56 + "?="), so "Subject: " and a word fit in 78. */
#define EM_WORD_RAW 42
/* A plain header word longer than this is encoded instead (it could not
 * be folded). */
#define EM_WORD_PLAIN 64

static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */

void em_put(struct tc_text *t, const char *s, size_t n)
{
    if (n > 0) /* tc_text_put would copy 0 bytes to a NULL buffer */
        tc_text_put(t, s, n);
}

void em_puts(struct tc_text *t, const char *s)
{
    em_put(t, s, strlen(s));
}

void em_printf(struct tc_text *t, const char *fmt, ...)
{
    char small[256], *big;
    va_list ap, again;
    int n;

    va_start(ap, fmt);
    va_copy(again, ap);
    n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        t->failed = 1;
    } else if ((size_t)n < sizeof small) {
        em_put(t, small, (size_t)n);
    } else if ((big = malloc((size_t)n + 1))) {
        vsnprintf(big, (size_t)n + 1, fmt, again);
        em_put(t, big, (size_t)n);
        free(big);
    } else {
        t->failed = 1;
    }
    va_end(again);
}

char *em_finish(struct tc_text *t, size_t *len)
{
    tc_text_put(t, "", 1);
    if (t->failed) {
        free(t->s);
        t->s = NULL;
        return NULL;
    }
    if (len)
        *len = t->len - 1;
    return t->s;
}

/* A C1 control (U+0080..U+009F) or a Unicode line or paragraph separator:
 * as much a line break or control to a reader as the ASCII ones. */
static int unicode_control(const unsigned char *p, int n)
{
    return (n == 2 && p[0] == 0xc2 && p[1] < 0xa0) ||
           (n == 3 && p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9));
}

char *em_one_line(const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    struct tc_text t = { 0 };
    int space = 0;

    while (*p) {
        int n = tc_utf8_seq(p);

        if (n == 1 && (*p <= 0x20 || *p == 0x7f)) {
            space = 1;
            p++;
            continue;
        }
        if (n > 1 && unicode_control(p, n)) {
            space = 1;
            p += n;
            continue;
        }
        if (space && t.len > 0)
            em_put(&t, " ", 1);
        space = 0;
        if (n == 0) {
            em_put(&t, replacement, 3);
            p++;
        } else {
            em_put(&t, (const char *)p, (size_t)n);
            p += n;
        }
    }
    return em_finish(&t, NULL);
}

char *em_lines(const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    struct tc_text t = { 0 };

    while (*p) {
        int n = tc_utf8_seq(p);

        if (n == 0) {
            em_put(&t, replacement, 3);
            p++;
        } else if (*p == '\r') {
            em_put(&t, "\n", 1);
            p += p[1] == '\n' ? 2 : 1;
        } else if (n == 1 && *p != '\n' && *p != '\t' && (*p < 0x20 || *p == 0x7f)) {
            em_put(&t, " ", 1);
            p++;
        } else if (n > 1 && unicode_control(p, n)) {
            em_put(&t, " ", 1);
            p += n;
        } else {
            em_put(&t, (const char *)p, (size_t)n);
            p += n;
        }
    }
    return em_finish(&t, NULL);
}

int em_cut(char *s, size_t max)
{
    static const char ellipsis[] = "\xe2\x80\xa6"; /* … */
    int n;

    if (strlen(s) <= max)
        return 0;
    n = tc_utf8_clip(s, (int)(max - (sizeof ellipsis - 1)));
    memcpy(s + n, ellipsis, sizeof ellipsis);
    return 1;
}

/* ---- header fields ------------------------------------------------------ */

void em_header_start(struct em_header *h, struct tc_text *t, const char *name)
{
    h->t = t;
    em_puts(t, name);
    em_put(t, ":", 1);
    h->col = strlen(name) + 1;
}

void em_header_word(struct em_header *h, const char *w, size_t n)
{
    if (h->col + 1 + n > EM_LINE) {
        em_put(h->t, "\r\n ", 3);
        h->col = 1;
    } else {
        em_put(h->t, " ", 1);
        h->col++;
    }
    em_put(h->t, w, n);
    h->col += n;
}

void em_header_end(struct em_header *h)
{
    em_put(h->t, "\r\n", 2);
    h->col = 0;
}

/* Every word of s (split at spaces) within EM_WORD_PLAIN, s free of "=?",
 * and every byte accepted by ok(). */
static int plain_words(const char *s, int (*ok)(int c))
{
    size_t word = 0;

    if (strstr(s, "=?"))
        return 0;
    for (; *s; s++) {
        if (*s == ' ') {
            word = 0;
            continue;
        }
        if (!ok((unsigned char)*s) || ++word > EM_WORD_PLAIN)
            return 0;
    }
    return 1;
}

static int printable(int c)
{
    return c > 0x20 && c < 0x7f;
}

/* RFC 5322 atext: what a display name may hold without quotes. */
static int atext(int c)
{
    return isalnum(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

int em_header_plain(const char *s)
{
    return plain_words(s, printable);
}

static void words(struct em_header *h, const char *s)
{
    while (*s) {
        size_t n = strcspn(s, " ");

        if (n)
            em_header_word(h, s, n);
        s += n;
        s += strspn(s, " ");
    }
}

static void encoded_words(struct em_header *h, const char *s)
{
    size_t len = strlen(s);

    while (len > 0) {
        struct tc_text w = { 0 };
        size_t n = len;

        if (n > EM_WORD_RAW)
            n = (size_t)tc_utf8_clip(s, EM_WORD_RAW);
        if (n == 0) /* not UTF-8 (em_one_line repairs that): still move on */
            n = 1;
        em_puts(&w, "=?UTF-8?B?");
        em_base64(&w, (const unsigned char *)s, n);
        em_puts(&w, "?=");
        if (w.failed)
            h->t->failed = 1;
        else
            em_header_word(h, w.s, w.len);
        free(w.s);
        s += n;
        len -= n;
    }
}

void em_header_text(struct em_header *h, const char *s)
{
    if (em_header_plain(s))
        words(h, s);
    else
        encoded_words(h, s);
}

void em_header_phrase(struct em_header *h, const char *s)
{
    if (plain_words(s, atext))
        words(h, s);
    else
        encoded_words(h, s);
}

/* ---- addresses ---------------------------------------------------------- */

static void seterr(char *err, size_t errlen, const char *msg)
{
    snprintf(err, errlen, "%s", msg);
}

static int local_ok(const char *s, size_t n)
{
    size_t i;

    if (n == 0 || n > 64 || s[0] == '.' || s[n - 1] == '.')
        return 0;
    for (i = 0; i < n; i++)
        if (!(atext((unsigned char)s[i]) || (s[i] == '.' && s[i + 1] != '.')))
            return 0;
    return 1;
}

static int domain_ok(const char *s)
{
    size_t label = 0;

    if (*s == '[') { /* an address literal, [192.0.2.1] or [IPv6:...] */
        size_t n = strlen(s);

        if (n < 3 || s[n - 1] != ']')
            return 0;
        for (s++; *s != ']'; s++)
            if (!printable((unsigned char)*s) || *s == '[' || *s == '\\')
                return 0;
        return s[1] == '\0';
    }
    if (!*s || *s == '.')
        return 0;
    for (; *s; s++) {
        if (*s == '.') {
            if (label == 0 || s[-1] == '-')
                return 0;
            label = 0;
        } else if (isalnum((unsigned char)*s) || (*s == '-' && label > 0)) {
            if (++label > 63)
                return 0;
        } else {
            return 0;
        }
    }
    return label > 0 && s[-1] != '-';
}

static char *trimmed(const char *s, size_t n)
{
    char *r;

    while (n && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    r = malloc(n + 1);
    if (r) {
        memcpy(r, s, n);
        r[n] = '\0';
    }
    return r;
}

/* "Ops, Team" without its quotes and backslashes. */
static void unquote(char *s)
{
    size_t n = strlen(s), i, k = 0;

    if (n < 2 || s[0] != '"' || s[n - 1] != '"')
        return;
    for (i = 1; i < n - 1; i++) {
        if (s[i] == '\\' && i + 1 < n - 1)
            i++;
        s[k++] = s[i];
    }
    s[k] = '\0';
}

int em_addr_parse(const char *s, struct em_addr *out, char *err, size_t errlen)
{
    const char *lt, *at, *why = NULL;
    size_t n;
    char *name = NULL, *addr;

    memset(out, 0, sizeof *out);
    if (!s)
        s = "";
    for (n = 0; s[n]; n++)
        if ((unsigned char)s[n] < 0x20 || s[n] == 0x7f) {
            seterr(err, errlen, "has a control character");
            return -1;
        }
    n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    if (n && s[n - 1] == '>' && (lt = memchr(s, '<', n)) && !memchr(lt + 1, '<', n - 1 - (size_t)(lt - s))) {
        char *raw = trimmed(s, (size_t)(lt - s));

        if (!raw)
            goto oom;
        unquote(raw);
        name = em_one_line(raw);
        free(raw);
        if (!name)
            goto oom;
        if (strlen(name) > EM_NAME_MAX) {
            free(name);
            seterr(err, errlen, "has a display name longer than 128 bytes");
            return -1;
        }
        if (!*name) {
            free(name);
            name = NULL;
        }
        addr = trimmed(lt + 1, n - 2 - (size_t)(lt - s));
    } else {
        addr = trimmed(s, n);
    }
    if (!addr)
        goto oom;
    at = strchr(addr, '@');
    if (!*addr)
        why = "is empty";
    else if (strlen(addr) > EM_ADDR_MAX)
        why = "is longer than 254 characters";
    else if (!at || strchr(at + 1, '@'))
        why = "is not one address of the form local@domain";
    else if (!local_ok(addr, (size_t)(at - addr)))
        why = "has a local part (before the @) that is not a dot-atom of ASCII";
    else if (!domain_ok(at + 1))
        why = "has a domain (after the @) that is not a host name or [literal]";
    if (why) {
        seterr(err, errlen, why);
        free(name);
        free(addr);
        return -1;
    }
    out->name = name;
    out->addr = addr;
    return 0;

oom:
    free(name);
    seterr(err, errlen, "out of memory");
    return -1;
}

void em_addr_free(struct em_addr *a)
{
    free(a->name);
    free(a->addr);
    a->name = a->addr = NULL;
}

const char *em_addr_domain(const struct em_addr *a)
{
    return strrchr(a->addr, '@') + 1;
}

void em_header_addr(struct em_header *h, const struct em_addr *a, int comma)
{
    struct tc_text w = { 0 };

    if (a->name)
        em_header_phrase(h, a->name);
    em_printf(&w, a->name ? "<%s>%s" : "%s%s", a->addr, comma ? "," : "");
    if (w.failed)
        h->t->failed = 1;
    else
        em_header_word(h, w.s, w.len);
    free(w.s);
}

/* ---- bodies ------------------------------------------------------------- */

void em_qp(struct tc_text *t, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = (const unsigned char *)s;
    size_t col = 0;

    for (; *p; p++) {
        int enc;
        size_t len;

        if (*p == '\n') {
            em_put(t, "\r\n", 2);
            col = 0;
            continue;
        }
        if (*p == ' ' || *p == '\t')
            enc = p[1] == '\n' || p[1] == '\0'; /* white space ending a line */
        else
            enc = *p == '=' || *p < 0x20 || *p > 0x7e;
        len = enc ? 3 : 1;
        if (col + len > 75) { /* a soft break: the line then ends in "=" at 76 */
            em_put(t, "=\r\n", 3);
            col = 0;
        }
        if (col == 0 && !enc && strncmp((const char *)p, "From ", 5) == 0)
            enc = 1, len = 3;
        if (enc) {
            char e[3] = { '=', hex[*p >> 4], hex[*p & 15] };

            em_put(t, e, 3);
        } else {
            em_put(t, (const char *)p, 1);
        }
        col += len;
    }
}

void em_base64(struct tc_text *t, const unsigned char *p, size_t n)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i;

    for (i = 0; i + 2 < n; i += 3) {
        char q[4] = { b64[p[i] >> 2], b64[((p[i] & 3) << 4) | (p[i + 1] >> 4)],
                      b64[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)], b64[p[i + 2] & 63] };

        em_put(t, q, 4);
    }
    if (n - i == 1) {
        char q[4] = { b64[p[i] >> 2], b64[(p[i] & 3) << 4], '=', '=' };

        em_put(t, q, 4);
    } else if (n - i == 2) {
        char q[4] = { b64[p[i] >> 2], b64[((p[i] & 3) << 4) | (p[i + 1] >> 4)],
                      b64[(p[i + 1] & 15) << 2], '=' };

        em_put(t, q, 4);
    }
}

char *em_date(int64_t ms, char *buf, size_t size)
{
    static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;

    if (!gmtime_r(&secs, &tm)) {
        secs = 0;
        gmtime_r(&secs, &tm);
    }
    snprintf(buf, size, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

void em_html(struct tc_text *t, const char *s)
{
    const char *run = s;

    for (; *s; s++) {
        const char *ref;

        switch (*s) {
        case '&': ref = "&amp;"; break;
        case '<': ref = "&lt;"; break;
        case '>': ref = "&gt;"; break;
        case '"': ref = "&quot;"; break;
        case '\'': ref = "&#39;"; break;
        default: continue;
        }
        em_put(t, run, (size_t)(s - run));
        em_puts(t, ref);
        run = s + 1;
    }
    em_put(t, run, (size_t)(s - run));
}

int em_linkable(const char *url)
{
    return url && (strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0 ||
                   strncasecmp(url, "mailto:", 7) == 0);
}
