/* regex_guard.c: untrusted regexes checked before regcomp (regex_guard.h).
 * The check reads the ERE just enough to know atoms, groups, bracket
 * expressions and repetitions; what it lets through that is still not a
 * valid regex is regcomp's to refuse. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regex_guard.h"

#define MAX_DEPTH 32
#define MAX_COUNT 255

struct walk {
    uint64_t size[MAX_DEPTH + 1]; /* expanded size of each open group so far */
    size_t depth;
    uint64_t last;                /* size of the last atom (0: none to repeat) */
    int repeated;                 /* the last atom already has a repetition */
    int lazy;                     /* ... and a '?' after it (Go's non-greedy mark) */
};

static void atom(struct walk *w, uint64_t size)
{
    w->size[w->depth] += size;
    w->last = size;
    w->repeated = w->lazy = 0;
}

/* The end of a bracket expression starting at re[i] == '[': the index of
 * its ']', or of the terminating NUL when it has none. */
static size_t bracket_end(const char *re, size_t i)
{
    size_t j = i + 1;

    if (re[j] == '^')
        j++;
    if (re[j] == ']')
        j++;
    while (re[j] && re[j] != ']') {
        if (re[j] == '[' && (re[j + 1] == ':' || re[j + 1] == '.' || re[j + 1] == '=')) {
            char kind = re[j + 1];

            for (j += 2; re[j] && !(re[j] == kind && re[j + 1] == ']'); j++)
                ;
            if (re[j])
                j += 2;
            continue;
        }
        j++;
    }
    return j;
}

/* A bound "{m}", "{m,}" or "{m,n}" at re[i]: 1 with *end (its '}') and
 * *copies (how often the atom ends up copied), 0 when it is not one. */
static int bound(const char *re, size_t i, size_t *end, uint64_t *copies)
{
    unsigned long m = 0, n = 0;
    size_t j = i + 1;
    int has_n = 0, comma = 0;

    if (re[j] < '0' || re[j] > '9')
        return 0;
    while (re[j] >= '0' && re[j] <= '9' && m <= 100000)
        m = m * 10 + (unsigned long)(re[j++] - '0');
    if (re[j] == ',') {
        comma = 1;
        j++;
        while (re[j] >= '0' && re[j] <= '9' && n <= 100000) {
            n = n * 10 + (unsigned long)(re[j++] - '0');
            has_n = 1;
        }
    }
    if (re[j] != '}')
        return 0;
    *end = j;
    if (m > MAX_COUNT || n > MAX_COUNT)
        *copies = UINT64_MAX;
    else
        *copies = has_n ? n : comma ? m + 1 : m;
    return 1;
}

int tc_regex_check(const char *re, char *why, size_t whylen)
{
    struct walk w;
    size_t i, len = strlen(re);

    memset(&w, 0, sizeof w);
    if (len > TC_REGEX_MAX_LEN) {
        snprintf(why, whylen, "longer than %d bytes", TC_REGEX_MAX_LEN);
        return -1;
    }
    for (i = 0; i < len; i++) {
        char c = re[i];
        uint64_t copies = 0;
        size_t end;

        if (c == '\\') {
            if (re[i + 1] >= '1' && re[i + 1] <= '9') {
                snprintf(why, whylen, "backreference \\%c at offset %zu is not supported",
                         re[i + 1], i);
                return -1;
            }
            if (re[i + 1])
                i++;
            atom(&w, 1);
        } else if (c == '[') {
            i = bracket_end(re, i);
            atom(&w, 1);
            if (!re[i])
                break;
        } else if (c == '(') {
            if (w.depth == MAX_DEPTH) {
                snprintf(why, whylen, "groups nested deeper than %d", MAX_DEPTH);
                return -1;
            }
            w.size[++w.depth] = 0;
            w.last = 0;
            w.repeated = w.lazy = 0;
        } else if (c == ')' && w.depth > 0) {
            uint64_t g = w.size[w.depth--];

            atom(&w, g ? g : 1);
        } else if (c == '|') {
            w.last = 0;
            w.repeated = w.lazy = 0;
        } else if (c == '*' || c == '+' || c == '?' ||
                   (c == '{' && bound(re, i, &end, &copies))) {
            if (c == '?' && w.repeated && !w.lazy) {
                w.lazy = 1; /* "a*?": Go's non-greedy mark, no more copies */
                continue;
            }
            if (w.repeated) {
                snprintf(why, whylen, "nested repetition operator at offset %zu", i);
                return -1;
            }
            if (c == '{') {
                if (copies == UINT64_MAX) {
                    snprintf(why, whylen, "repetition count over %d at offset %zu",
                             MAX_COUNT, i);
                    return -1;
                }
                i = end;
            } else {
                copies = c == '+' ? 2 : 1;
            }
            if (copies > 1)
                w.size[w.depth] += w.last * (copies - 1);
            w.repeated = 1;
        } else {
            atom(&w, 1);
        }
        if (w.size[w.depth] > TC_REGEX_MAX_SIZE) {
            snprintf(why, whylen, "too complex: its repetitions expand past %d atoms",
                     TC_REGEX_MAX_SIZE);
            return -1;
        }
    }
    return 0;
}

int tc_regex_compile_anchored(regex_t *out, const char *re, char *why, size_t whylen)
{
    size_t len = strlen(re);
    char *anchored;
    int rc;

    if (tc_regex_check(re, why, whylen) < 0)
        return -1;
    if (!(anchored = malloc(len + 5))) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    memcpy(anchored, "^(", 2);
    memcpy(anchored + 2, re, len);
    memcpy(anchored + 2 + len, ")$", 3);
    rc = regcomp(out, anchored, REG_EXTENDED | REG_NOSUB);
    free(anchored);
    if (rc != 0) {
        regerror(rc, out, why, whylen);
        return -1;
    }
    return 0;
}
