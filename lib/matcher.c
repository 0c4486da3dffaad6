/* matcher.c: Alertmanager's label matchers (amtool's text and the JSON
 * form of silences) tested against a tocsin alert, for the maintenance
 * policy and the core's Alertmanager API. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "matcher.h"
#include "regex_guard.h"

/* How much of a bad matcher an error quotes. */
#define SHOWN 120

/* err = prefix + what, prefix quoting at most SHOWN bytes of quoted. */
static void set_err(char *err, size_t errlen, const char *prefix, const char *quoted,
                    const char *what)
{
    if (!err || !errlen)
        return;
    if (quoted)
        snprintf(err, errlen, "%s \"%.*s\": %s", prefix, tc_utf8_clip(quoted, SHOWN), quoted,
                 what);
    else
        snprintf(err, errlen, "%s", what);
}

/* Alertmanager's rule for label names (no colon, unlike metric names). */
static int valid_name(const char *s)
{
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
        return 0;
    for (s++; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return 0;
    return 1;
}

static int valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    int n;

    while (*p) {
        if (!(n = tc_utf8_seq(p)))
            return 0;
        p += n;
    }
    return 1;
}

int tc_matcher_init(struct tc_matcher *m, const char *name, const char *value, int is_regex,
                    int is_equal, char *err, size_t errlen)
{
    char why[160];

    memset(m, 0, sizeof *m);
    if (!name || !*name) {
        set_err(err, errlen, NULL, NULL, "empty label name");
        return -1;
    }
    if (!valid_name(name)) {
        set_err(err, errlen, "label name", name, "must match [a-zA-Z_][a-zA-Z0-9_]*");
        return -1;
    }
    if (!value)
        value = "";
    if (!valid_utf8(value)) {
        set_err(err, errlen, "label", name, "value is not valid UTF-8");
        return -1;
    }
    m->op = is_regex ? (is_equal ? TC_MATCH_RE : TC_MATCH_NRE)
                     : (is_equal ? TC_MATCH_EQ : TC_MATCH_NE);
    m->name = strdup(name);
    m->value = strdup(value);
    if (!m->name || !m->value) {
        tc_matcher_free(m);
        set_err(err, errlen, NULL, NULL, "out of memory");
        return -1;
    }
    if (!is_regex)
        return 0;
    /* Prometheus anchors with ^(?:v)$; ERE has no (?:), and REG_NOSUB
     * makes the group's capture moot. */
    if (tc_regex_compile_anchored(&m->re, value, why, sizeof why) < 0) {
        set_err(err, errlen, "bad regex", value, why);
        tc_matcher_free(m);
        return -1;
    }
    m->has_re = 1;
    return 0;
}

/* The value part of amtool's text, unquoted and unescaped as Alertmanager
 * 0.25 does (pkg/labels/parse.go): \n, \" and \\ are escapes, any other
 * backslash is itself; a quote may only close a value that opened with
 * one. malloc()ed into *out; NULL and a reason when it is malformed. */
static const char *unquote(const char *raw, size_t len, char **out)
{
    int quoted = len > 0 && raw[0] == '"';
    char *v = malloc(len + 1), *w = v;
    size_t i = quoted;

    *out = NULL;
    if (!v)
        return "out of memory";
    for (; i < len; i++) {
        if (raw[i] == '\\' && i + 1 < len) {
            char c = raw[++i];

            if (c == 'n')
                *w++ = '\n';
            else if (c == '"' || c == '\\')
                *w++ = c;
            else {
                *w++ = '\\';
                *w++ = c;
            }
        } else if (raw[i] == '"') {
            if (!quoted || i + 1 < len) {
                free(v);
                return "unescaped double quote in the value";
            }
            quoted = 0; /* the closing quote */
        } else {
            *w++ = raw[i];
        }
    }
    if (quoted) {
        free(v);
        return "the value's opening quote is never closed";
    }
    *w = '\0';
    *out = v;
    return NULL;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

int tc_matcher_parse(struct tc_matcher *m, const char *text, char *err, size_t errlen)
{
    const char *op, *name, *name_end, *val, *val_end, *why;
    char *name_copy, *value, inner[256];
    int is_regex, is_equal, rc;

    memset(m, 0, sizeof *m);
    if (!text)
        text = "";
    op = text + strcspn(text, "=!");
    if (!*op || (op[0] == '!' && op[1] != '=' && op[1] != '~')) {
        set_err(err, errlen, "matcher", text, "expected =, !=, =~ or !~");
        return -1;
    }
    is_equal = op[0] == '=';
    is_regex = op[1] == '~';
    name = text;
    name_end = op;
    while (name < name_end && is_space(*name))
        name++;
    while (name_end > name && is_space(name_end[-1]))
        name_end--;
    val = op + (op[0] == '!' || is_regex ? 2 : 1);
    while (is_space(*val))
        val++;
    val_end = val + strlen(val);
    while (val_end > val && is_space(val_end[-1]))
        val_end--;

    if (!(name_copy = strndup(name, (size_t)(name_end - name)))) {
        set_err(err, errlen, NULL, NULL, "out of memory");
        return -1;
    }
    if ((why = unquote(val, (size_t)(val_end - val), &value))) {
        set_err(err, errlen, "matcher", text, why);
        free(name_copy);
        return -1;
    }
    rc = tc_matcher_init(m, name_copy, value, is_regex, is_equal, inner, sizeof inner);
    if (rc != 0)
        set_err(err, errlen, "matcher", text, inner);
    free(name_copy);
    free(value);
    return rc;
}

void tc_matcher_free(struct tc_matcher *m)
{
    if (!m)
        return;
    free(m->name);
    free(m->value);
    if (m->has_re)
        regfree(&m->re);
    memset(m, 0, sizeof *m);
}

const char *tc_matcher_value(const struct tocsin_alert *a, const char *name)
{
    const char *v = tocsin_kv_get(a->labels, a->n_labels, name);

    if (v)
        return v;
    if (strcmp(name, "severity") == 0)
        v = tocsin_severity_name(a->severity);
    else if (strcmp(name, "source") == 0)
        v = a->source;
    else if (strcmp(name, "service") == 0)
        v = a->service;
    else if (strcmp(name, "summary") == 0)
        v = a->summary;
    else if (strcmp(name, "dedup_key") == 0)
        v = a->dedup_key;
    return v ? v : "";
}

int tc_matcher_match(const struct tc_matcher *m, const struct tocsin_alert *a)
{
    const char *v = tc_matcher_value(a, m->name);

    switch (m->op) {
    case TC_MATCH_EQ:
        return strcmp(v, m->value) == 0;
    case TC_MATCH_NE:
        return strcmp(v, m->value) != 0;
    case TC_MATCH_RE:
        return m->has_re && regexec(&m->re, v, 0, NULL, 0) == 0;
    case TC_MATCH_NRE:
        return m->has_re && regexec(&m->re, v, 0, NULL, 0) != 0;
    }
    return 0;
}

int tc_matchers_match(const struct tc_matcher *v, size_t n, const struct tocsin_alert *a)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!tc_matcher_match(&v[i], a))
            return 0;
    return 1;
}
