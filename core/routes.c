/* routes.c: parsing the `routes` list and matching alerts to sinks. */
#define _GNU_SOURCE
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regex_guard.h"
#include "common.h"
#include "options.h"
#include "routes.h"

struct label_re {
    char *key;
    regex_t re;
};

struct route {
    unsigned severities;          /* bit per enum tocsin_severity; 0: any */
    char **sources;               /* any of these; none: any */
    size_t n_sources;
    char **services;
    size_t n_services;
    struct tocsin_kv *labels;     /* all of these, exactly */
    size_t n_labels;
    struct label_re *labels_re;   /* all of these, anchored ERE */
    size_t n_labels_re;
    size_t *sinks;                /* indices into the caller's sink_ids */
    size_t n_sinks;
    int cont;
};

struct tc_routes {
    struct route *routes;
    size_t n;
};

struct parser {
    const char *file;
    struct tc_errors *errs;
    int failed;
    int index;                    /* 1-based route number, for messages */
};

TOCSIN_PRINTF(3, 4)
static void fail(struct parser *p, const config_setting_t *at, const char *fmt, ...)
{
    const char *file = config_setting_source_file(at);
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    tc_errors_add(p->errs, "%s:%u: route %d: %s", file ? file : p->file,
                  config_setting_source_line(at), p->index, msg);
    p->failed = 1;
}

static void route_free(struct route *r)
{
    size_t i;

    for (i = 0; i < r->n_sources; i++)
        free(r->sources[i]);
    free(r->sources);
    for (i = 0; i < r->n_services; i++)
        free(r->services[i]);
    free(r->services);
    for (i = 0; i < r->n_labels; i++) {
        free((char *)r->labels[i].key);
        free((char *)r->labels[i].value);
    }
    free(r->labels);
    for (i = 0; i < r->n_labels_re; i++) {
        free(r->labels_re[i].key);
        regfree(&r->labels_re[i].re);
    }
    free(r->labels_re);
    free(r->sinks);
}

void tc_routes_free(struct tc_routes *r)
{
    size_t i;

    if (!r)
        return;
    for (i = 0; i < r->n; i++)
        route_free(&r->routes[i]);
    free(r->routes);
    free(r);
}

size_t tc_routes_count(const struct tc_routes *r)
{
    return r ? r->n : 0;
}

/* A string or a list/array of strings, as the elements to iterate. */
static int string_items(struct parser *p, const config_setting_t *s, const char *what,
                        int *n)
{
    int i;

    if (config_setting_type(s) == CONFIG_TYPE_STRING) {
        *n = 1;
        return 0;
    }
    if (config_setting_type(s) != CONFIG_TYPE_LIST && config_setting_type(s) != CONFIG_TYPE_ARRAY) {
        fail(p, s, "%s must be a string or a list of strings", what);
        return -1;
    }
    *n = config_setting_length(s);
    for (i = 0; i < *n; i++)
        if (config_setting_type(config_setting_get_elem(s, (unsigned)i)) != CONFIG_TYPE_STRING) {
            fail(p, s, "%s must be a string or a list of strings", what);
            return -1;
        }
    return 0;
}

static const char *item(const config_setting_t *s, int i)
{
    if (config_setting_type(s) == CONFIG_TYPE_STRING)
        return config_setting_get_string(s);
    return config_setting_get_string(config_setting_get_elem(s, (unsigned)i));
}

static int parse_strings(struct parser *p, const config_setting_t *s, const char *what,
                         char ***out, size_t *n_out)
{
    int n, i;

    if (string_items(p, s, what, &n) < 0)
        return -1;
    *out = calloc((size_t)n + 1, sizeof **out);
    if (!*out)
        return -1;
    for (i = 0; i < n; i++) {
        if (!((*out)[i] = strdup(item(s, i))))
            return -1;
        (*n_out)++;
    }
    return 0;
}

static int parse_severity(struct parser *p, const config_setting_t *s, struct route *r)
{
    int n, i;

    if (string_items(p, s, "match.severity", &n) < 0)
        return -1;
    for (i = 0; i < n; i++) {
        enum tocsin_severity sev;

        if (tc_severity_parse(item(s, i), &sev) < 0) {
            fail(p, s, "unknown severity \"%s\" (critical, high, medium, low or info)",
                 item(s, i));
            return -1;
        }
        r->severities |= 1u << sev;
    }
    return 0;
}

static int parse_labels(struct parser *p, const config_setting_t *s, struct route *r, int re)
{
    const char *what = re ? "match.labels_re" : "match.labels";
    int n, i;

    if (!config_setting_is_group(s)) {
        fail(p, s, "%s must be a group like { team = \"db\"; }", what);
        return -1;
    }
    n = config_setting_length(s);
    if (re)
        r->labels_re = calloc((size_t)n + 1, sizeof *r->labels_re);
    else
        r->labels = calloc((size_t)n + 1, sizeof *r->labels);
    if (re ? !r->labels_re : !r->labels)
        return -1;
    for (i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        const char *key = config_setting_name(e), *val;

        if (config_setting_type(e) != CONFIG_TYPE_STRING) {
            fail(p, e, "%s.%s must be a string", what, key);
            return -1;
        }
        val = config_setting_get_string(e);
        if (re) {
            struct label_re *lr = &r->labels_re[r->n_labels_re];
            char why[256];

            /* Anchored like Alertmanager's =~: "db" must not match "mydb2". */
            if (tc_regex_compile_anchored(&lr->re, val, why, sizeof why) < 0) {
                fail(p, e, "%s.%s: bad regular expression \"%s\": %s", what, key, val, why);
                return -1;
            }
            if (!(lr->key = strdup(key))) {
                regfree(&lr->re);
                return -1;
            }
            r->n_labels_re++;
        } else {
            struct tocsin_kv *kv = &r->labels[r->n_labels];

            kv->key = strdup(key);
            kv->value = strdup(val);
            r->n_labels++;
            if (!kv->key || !kv->value)
                return -1;
        }
    }
    return 0;
}

static int parse_match(struct parser *p, const config_setting_t *m, struct route *r)
{
    static const char *const keys[] = { "severity", "source", "service", "labels",
                                        "labels_re", NULL };
    int i, n, rc = 0;

    if (!config_setting_is_group(m)) {
        fail(p, m, "match must be a group like { severity = \"critical\"; }");
        return -1;
    }
    n = config_setting_length(m);
    for (i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(m, (unsigned)i);
        const char *key = config_setting_name(s);

        if (strcmp(key, "severity") == 0)
            rc |= parse_severity(p, s, r);
        else if (strcmp(key, "source") == 0)
            rc |= parse_strings(p, s, "match.source", &r->sources, &r->n_sources);
        else if (strcmp(key, "service") == 0)
            rc |= parse_strings(p, s, "match.service", &r->services, &r->n_services);
        else if (strcmp(key, "labels") == 0)
            rc |= parse_labels(p, s, r, 0);
        else if (strcmp(key, "labels_re") == 0)
            rc |= parse_labels(p, s, r, 1);
        else {
            const char *best = NULL;
            size_t j, d, best_d = 3;

            for (j = 0; keys[j]; j++)
                if ((d = tc_edit_distance(key, keys[j])) < best_d)
                    best_d = d, best = keys[j];
            if (best)
                fail(p, s, "unknown match key \"%s\"; did you mean \"%s\"?", key, best);
            else
                fail(p, s, "unknown match key \"%s\" (severity, source, service, labels, "
                     "labels_re)", key);
            rc = -1;
        }
    }
    return rc ? -1 : 0;
}

static int parse_sinks(struct parser *p, const config_setting_t *s, struct route *r,
                       const char *const *sink_ids, size_t n_sinks)
{
    int n, i, rc = 0;

    if (string_items(p, s, "sinks", &n) < 0)
        return -1;
    if (n == 0) {
        fail(p, s, "sinks is empty: a route must name at least one sink");
        return -1;
    }
    r->sinks = calloc((size_t)n, sizeof *r->sinks);
    if (!r->sinks)
        return -1;
    for (i = 0; i < n; i++) {
        const char *id = item(s, i), *best = NULL;
        size_t j, d, best_d = 3;

        for (j = 0; j < n_sinks; j++)
            if (strcmp(sink_ids[j], id) == 0)
                break;
        if (j < n_sinks) {
            r->sinks[r->n_sinks++] = j;
            continue;
        }
        for (j = 0; j < n_sinks; j++)
            if ((d = tc_edit_distance(id, sink_ids[j])) < best_d)
                best_d = d, best = sink_ids[j];
        if (best)
            fail(p, s, "unknown sink \"%s\"; did you mean \"%s\"?", id, best);
        else
            fail(p, s, "unknown sink \"%s\" (no sink has this id)", id);
        rc = -1;
    }
    return rc;
}

static int parse_route(struct parser *p, const config_setting_t *g, struct route *r,
                       const char *const *sink_ids, size_t n_sinks)
{
    const config_setting_t *sinks = NULL;
    int i, n, rc = 0;

    if (!config_setting_is_group(g)) {
        fail(p, g, "a route must be a group like { sinks = [ \"chat\" ]; }");
        return -1;
    }
    n = config_setting_length(g);
    for (i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *key = config_setting_name(s);

        if (strcmp(key, "match") == 0) {
            rc |= parse_match(p, s, r);
        } else if (strcmp(key, "sinks") == 0) {
            sinks = s;
            rc |= parse_sinks(p, s, r, sink_ids, n_sinks);
        } else if (strcmp(key, "continue") == 0) {
            if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
                fail(p, s, "continue must be true or false");
                rc = -1;
            } else {
                r->cont = config_setting_get_bool(s);
            }
        } else {
            const char *hint = tc_edit_distance(key, "sinks") <= 2 ? "sinks"
                             : tc_edit_distance(key, "match") <= 2 ? "match"
                             : tc_edit_distance(key, "continue") <= 2 ? "continue" : NULL;
            if (hint)
                fail(p, s, "unknown key \"%s\"; did you mean \"%s\"?", key, hint);
            else
                fail(p, s, "unknown key \"%s\" (match, sinks, continue)", key);
            rc = -1;
        }
    }
    if (!sinks) {
        fail(p, g, "no sinks: a route must name at least one sink");
        rc = -1;
    }
    return rc ? -1 : 0;
}

struct tc_routes *tc_routes_parse(const config_setting_t *list, const char *file,
                                  const char *const *sink_ids, size_t n_sinks,
                                  struct tc_errors *errs)
{
    struct parser p = { file, errs, 0, 0 };
    struct tc_routes *r = calloc(1, sizeof *r);
    int n, i;

    if (!r) {
        tc_errors_add(errs, "%s: out of memory", file);
        return NULL;
    }
    if (!list)
        return r;
    if (!config_setting_is_list(list)) {
        const char *f = config_setting_source_file(list);
        tc_errors_add(errs, "%s:%u: routes must be a list of groups: ( { ... }, { ... } )",
                      f ? f : file, config_setting_source_line(list));
        free(r);
        return NULL;
    }
    n = config_setting_length(list);
    r->routes = calloc((size_t)n + 1, sizeof *r->routes);
    if (!r->routes) {
        free(r);
        tc_errors_add(errs, "%s: out of memory", file);
        return NULL;
    }
    for (i = 0; i < n; i++) {
        p.index = i + 1;
        /* Counted before parsing so a half-parsed route is freed too. */
        r->n++;
        if (parse_route(&p, config_setting_get_elem(list, (unsigned)i), &r->routes[i],
                        sink_ids, n_sinks) < 0 && !p.failed) {
            tc_errors_add(errs, "%s: route %d: out of memory", file, p.index);
            p.failed = 1;
        }
    }
    if (p.failed) {
        tc_routes_free(r);
        return NULL;
    }
    return r;
}

static const char *label(const struct tocsin_alert *a, const char *key)
{
    const char *v = tocsin_kv_get(a->labels, a->n_labels, key);

    /* A missing label matches like an empty one, as in Alertmanager. */
    return v ? v : "";
}

static int any_of(char *const *list, size_t n, const char *value)
{
    size_t i;

    if (n == 0)
        return 1;
    for (i = 0; i < n; i++)
        if (strcmp(list[i], value ? value : "") == 0)
            return 1;
    return 0;
}

static int route_matches(const struct route *r, const struct tocsin_alert *a)
{
    size_t i;

    if (r->severities && !((unsigned)a->severity < 5 && (r->severities & (1u << a->severity))))
        return 0;
    if (!any_of(r->sources, r->n_sources, a->source) ||
        !any_of(r->services, r->n_services, a->service))
        return 0;
    for (i = 0; i < r->n_labels; i++)
        if (strcmp(label(a, r->labels[i].key), r->labels[i].value) != 0)
            return 0;
    for (i = 0; i < r->n_labels_re; i++)
        if (regexec(&r->labels_re[i].re, label(a, r->labels_re[i].key), 0, NULL, 0) != 0)
            return 0;
    return 1;
}

size_t tc_routes_match(const struct tc_routes *r, const struct tocsin_alert *alert,
                       size_t *out, size_t max)
{
    size_t i, j, k, n = 0;

    for (i = 0; r && i < r->n; i++) {
        const struct route *rt = &r->routes[i];

        if (!route_matches(rt, alert))
            continue;
        for (j = 0; j < rt->n_sinks; j++) {
            for (k = 0; k < n && out[k] != rt->sinks[j]; k++)
                ;
            if (k == n && n < max)
                out[n++] = rt->sinks[j];
        }
        if (!rt->cont)
            break;
    }
    return n;
}
