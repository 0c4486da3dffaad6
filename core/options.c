/* options.c: checking a config block against a plugin's typed option table
 * (its groups' tables too) and filling its conf struct. The syntax of
 * values is values.c's, printing tables options_help.c's. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "options.h"

/* ---------------------------------------------------------------------------
 * Hints
 */

size_t tc_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), i, j, d;
    size_t *row = malloc((lb + 1) * sizeof *row);

    if (!row)
        return SIZE_MAX;
    for (j = 0; j <= lb; j++)
        row[j] = j;
    for (i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    d = row[lb];
    free(row);
    return d;
}

/* ---------------------------------------------------------------------------
 * Filling a conf struct
 */

const char *tc_opt_type_name(enum tocsin_opt_type t)
{
    switch (t) {
    case TOCSIN_OPT_STRING: return "string";
    case TOCSIN_OPT_INT: return "int";
    case TOCSIN_OPT_BOOL: return "bool";
    case TOCSIN_OPT_DURATION: return "duration";
    case TOCSIN_OPT_SIZE: return "size";
    case TOCSIN_OPT_STRLIST: return "strlist";
    case TOCSIN_OPT_MAP: return "map";
    case TOCSIN_OPT_GROUPS: return "groups";
    }
    return "unknown";
}

/* What the error says the option must be. */
static const char *type_expectation(enum tocsin_opt_type t)
{
    switch (t) {
    case TOCSIN_OPT_STRING: return "a string";
    case TOCSIN_OPT_INT: return "an integer";
    case TOCSIN_OPT_BOOL: return "a boolean (true or false)";
    case TOCSIN_OPT_DURATION: return "a duration (like \"30s\")";
    case TOCSIN_OPT_SIZE: return "a size (like \"64k\")";
    case TOCSIN_OPT_STRLIST: return "a list of strings (like [\"a\", \"b\"])";
    case TOCSIN_OPT_MAP: return "a group of strings (like { key = \"value\"; })";
    case TOCSIN_OPT_GROUPS: return "a list of groups (like ( { ... }, { ... } ))";
    }
    return "of a known type";
}

/* What the user wrote, for "..., not X". Values of secret options are
 * described by their type only. */
static const char *describe(const config_setting_t *s, int secret, char *buf, size_t len)
{
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        if (secret)
            return "an integer";
        snprintf(buf, len, "%lld", config_setting_get_int64(s));
        return buf;
    case CONFIG_TYPE_FLOAT:
        if (secret)
            return "a number";
        snprintf(buf, len, "%g", config_setting_get_float(s));
        return buf;
    case CONFIG_TYPE_BOOL:
        if (secret)
            return "a boolean";
        return config_setting_get_bool(s) ? "true" : "false";
    case CONFIG_TYPE_STRING:
        if (secret)
            return "a string";
        snprintf(buf, len, "\"%.60s%s\"", config_setting_get_string(s),
                 strlen(config_setting_get_string(s)) > 60 ? "..." : "");
        return buf;
    case CONFIG_TYPE_GROUP: return "a group";
    case CONFIG_TYPE_ARRAY: return "an array";
    case CONFIG_TYPE_LIST: return "a list";
    }
    return "an unknown value";
}

struct filler {
    const char *file;
    const char *context;
    struct tc_errors *errs;
    int failed;
    /* The tables of the groups options of the table being filled (NULL
     * inside a group: groups do not nest). */
    const struct tocsin_group_table *groups;
};

TOCSIN_PRINTF(3, 4)
static void fail(struct filler *f, const config_setting_t *at, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (f->context && *f->context)
        tc_errors_add(f->errs, "%s:%u: %s: %s", f->file, config_setting_source_line(at),
                      f->context, msg);
    else
        tc_errors_add(f->errs, "%s:%u: %s", f->file, config_setting_source_line(at), msg);
    f->failed = 1;
}

static void *field(void *conf, const struct tocsin_option *o)
{
    return (char *)conf + o->offset;
}

/* Pointers go in with memcpy: conf is raw memory of the plugin's struct. */
static void put_ptr(void *conf, const struct tocsin_option *o, const void *p)
{
    memcpy(field(conf, o), &p, sizeof p);
}

static void *get_ptr(void *conf, const struct tocsin_option *o)
{
    void *p;

    memcpy(&p, field(conf, o), sizeof p);
    return p;
}

static void put_i64(void *conf, const struct tocsin_option *o, int64_t v)
{
    memcpy(field(conf, o), &v, sizeof v);
}

static int is_int(const config_setting_t *s)
{
    return config_setting_type(s) == CONFIG_TYPE_INT ||
           config_setting_type(s) == CONFIG_TYPE_INT64;
}

static char *resolve(struct filler *f, const config_setting_t *at, const char *opt,
                     const char *where, const char *value)
{
    char err[512];
    char *out = tc_resolve_secret(value, err, sizeof err);

    if (!out)
        fail(f, at, "option \"%s\"%s: %s", opt, where, err);
    return out;
}

static int fill_strlist(struct filler *f, const struct tocsin_option *o,
                        const config_setting_t *s, void *conf)
{
    int secret = (o->flags & TOCSIN_OPT_SECRET) != 0;
    struct tocsin_strlist sl = { 0, NULL };
    char **items;
    int n = 1, i, ok = 1;
    char buf[96];

    if (config_setting_type(s) == CONFIG_TYPE_LIST || config_setting_type(s) == CONFIG_TYPE_ARRAY)
        n = config_setting_length(s);
    else if (config_setting_type(s) != CONFIG_TYPE_STRING) {
        fail(f, s, "option \"%s\" must be %s, not %s", o->name, type_expectation(o->type),
             describe(s, secret, buf, sizeof buf));
        return -1;
    }
    items = calloc((size_t)n + 1, sizeof *items); /* NULL-terminated too */
    if (!items) {
        fail(f, s, "option \"%s\": out of memory", o->name);
        return -1;
    }
    for (i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_type(s) == CONFIG_TYPE_STRING
                                        ? s : config_setting_get_elem(s, (unsigned)i);
        char where[32];

        snprintf(where, sizeof where, " item %d", i + 1);
        if (config_setting_type(e) != CONFIG_TYPE_STRING) {
            fail(f, e, "option \"%s\"%s must be a string, not %s", o->name, where,
                 describe(e, secret, buf, sizeof buf));
            ok = 0;
            continue;
        }
        items[sl.n] = resolve(f, e, o->name, config_setting_type(s) == CONFIG_TYPE_STRING
                                                 ? "" : where, config_setting_get_string(e));
        if (items[sl.n])
            sl.n++;
        else
            ok = 0;
    }
    sl.items = (const char *const *)items;
    memcpy(field(conf, o), &sl, sizeof sl);
    return ok ? 0 : -1;
}

static int fill_map(struct filler *f, const struct tocsin_option *o,
                    const config_setting_t *s, void *conf)
{
    int secret = (o->flags & TOCSIN_OPT_SECRET) != 0;
    struct tocsin_map m = { 0, NULL };
    struct tocsin_kv *items;
    int n, i, ok = 1;
    char buf[96];

    if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
        fail(f, s, "option \"%s\" must be %s, not %s", o->name, type_expectation(o->type),
             describe(s, secret, buf, sizeof buf));
        return -1;
    }
    n = config_setting_length(s);
    items = calloc((size_t)n + 1, sizeof *items);
    if (!items) {
        fail(f, s, "option \"%s\": out of memory", o->name);
        return -1;
    }
    for (i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        char where[160];
        char *key, *val;

        snprintf(where, sizeof where, " key \"%s\"", config_setting_name(e));
        if (config_setting_type(e) != CONFIG_TYPE_STRING) {
            fail(f, e, "option \"%s\"%s must be a string, not %s", o->name, where,
                 describe(e, secret, buf, sizeof buf));
            ok = 0;
            continue;
        }
        val = resolve(f, e, o->name, where, config_setting_get_string(e));
        key = val ? strdup(config_setting_name(e)) : NULL;
        if (!key) {
            free(val);
            ok = 0;
            continue;
        }
        items[m.n].key = key;
        items[m.n].value = val;
        m.n++;
    }
    m.items = items;
    memcpy(field(conf, o), &m, sizeof m);
    return ok ? 0 : -1;
}

static void fill_block(struct filler *f, const struct tocsin_option *table,
                       const config_setting_t *block, const char *const *reserved,
                       void *conf);

const struct tocsin_group_table *tc_options_group(const struct tocsin_group_table *groups,
                                                  const char *name)
{
    for (; groups && groups->option; groups++)
        if (strcmp(groups->option, name) == 0)
            return groups;
    return NULL;
}

/* A list of groups: each filled from its group table into a struct of the
 * table's conf_size, with its own FILE:LINE kept in where[i]. Slots of
 * elements that are no group stay zeroed, so free() can walk all n. */
static void fill_groups(struct filler *f, const struct tocsin_option *o,
                        const config_setting_t *s, void *conf)
{
    const struct tocsin_group_table *gt = tc_options_group(f->groups, o->name);
    struct tocsin_groups g = { 0, NULL, NULL };
    int type = config_setting_type(s), secret = (o->flags & TOCSIN_OPT_SECRET) != 0;
    char buf[96], **where;
    unsigned i, n;
    char *items;

    if (!gt) {
        fail(f, s, "option \"%s\" has no group table (a plugin bug)", o->name);
        return;
    }
    if (type == CONFIG_TYPE_GROUP) {
        fail(f, s, "option \"%s\" must be %s, not a group; write ( { ... } ) for one",
             o->name, type_expectation(o->type));
        return;
    }
    /* libconfig arrays hold scalars only: an array here is the empty []. */
    if (type != CONFIG_TYPE_LIST && type != CONFIG_TYPE_ARRAY) {
        fail(f, s, "option \"%s\" must be %s, not %s", o->name, type_expectation(o->type),
             describe(s, secret, buf, sizeof buf));
        return;
    }
    n = (unsigned)config_setting_length(s);
    if (n == 0)
        return; /* conf is zeroed: n = 0 */
    items = calloc(n, gt->conf_size);
    where = calloc((size_t)n + 1, sizeof *where);
    if (!items || !where) {
        free(items);
        free(where);
        fail(f, s, "option \"%s\": out of memory", o->name);
        return;
    }
    g.n = n;
    g.items = items;
    g.where = (const char *const *)where;
    for (i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, i);
        const char *file = config_setting_source_file(e);
        struct filler sub = { file ? file : f->file, NULL, f->errs, 0, NULL };
        char ctx[512];

        if (asprintf(&where[i], "%s:%u", sub.file, config_setting_source_line(e)) < 0) {
            where[i] = NULL;
            fail(f, e, "option \"%s\": out of memory", o->name);
            continue;
        }
        if (config_setting_type(e) != CONFIG_TYPE_GROUP) {
            fail(f, e, "option \"%s\" item %u must be a group ({ ... }), not %s", o->name, i,
                 describe(e, secret, buf, sizeof buf));
            continue;
        }
        snprintf(ctx, sizeof ctx, "%s%s%s[%u]", f->context ? f->context : "",
                 f->context && *f->context ? ": " : "", o->name, i);
        sub.context = ctx;
        fill_block(&sub, gt->options, e, NULL, items + (size_t)i * gt->conf_size);
        if (sub.failed)
            f->failed = 1;
    }
    memcpy(field(conf, o), &g, sizeof g);
}

/* Converts the user's setting s into the field of o. */
static void fill_one(struct filler *f, const struct tocsin_option *o,
                     const config_setting_t *s, void *conf)
{
    int secret = (o->flags & TOCSIN_OPT_SECRET) != 0;
    char buf[96];
    int64_t v;

    switch (o->type) {
    case TOCSIN_OPT_STRING:
        if (config_setting_type(s) != CONFIG_TYPE_STRING)
            break;
        put_ptr(conf, o, resolve(f, s, o->name, "", config_setting_get_string(s)));
        return;
    case TOCSIN_OPT_INT:
        if (!is_int(s))
            break;
        put_i64(conf, o, config_setting_get_int64(s));
        return;
    case TOCSIN_OPT_BOOL:
        if (config_setting_type(s) != CONFIG_TYPE_BOOL)
            break;
        memcpy(field(conf, o), &(int){ config_setting_get_bool(s) ? 1 : 0 }, sizeof(int));
        return;
    case TOCSIN_OPT_DURATION:
        if (is_int(s)) {
            v = config_setting_get_int64(s);
            if (v < 0 || v > INT64_MAX / 1000)
                break;
            put_i64(conf, o, v * 1000);
            return;
        }
        if (config_setting_type(s) != CONFIG_TYPE_STRING ||
            tc_parse_duration(config_setting_get_string(s), &v) < 0)
            break;
        put_i64(conf, o, v);
        return;
    case TOCSIN_OPT_SIZE:
        if (is_int(s)) {
            v = config_setting_get_int64(s);
            if (v < 0)
                break;
            put_i64(conf, o, v);
            return;
        }
        if (config_setting_type(s) != CONFIG_TYPE_STRING ||
            tc_parse_size(config_setting_get_string(s), &v) < 0)
            break;
        put_i64(conf, o, v);
        return;
    case TOCSIN_OPT_STRLIST:
        fill_strlist(f, o, s, conf);
        return;
    case TOCSIN_OPT_MAP:
        fill_map(f, o, s, conf);
        return;
    case TOCSIN_OPT_GROUPS:
        fill_groups(f, o, s, conf);
        return;
    }
    fail(f, s, "option \"%s\" must be %s, not %s", o->name, type_expectation(o->type),
         describe(s, secret, buf, sizeof buf));
}

/* Defaults are text in the type's syntax. A strlist default is
 * comma-separated ("a,b"); a map default is "k=v,k2=v2". */
static int fill_default(const struct tocsin_option *o, void *conf)
{
    const char *d = o->def;
    int64_t v;
    char *end;

    switch (o->type) {
    case TOCSIN_OPT_STRING: {
        char *s = strdup(d);
        if (!s)
            return -1;
        put_ptr(conf, o, s);
        return 0;
    }
    case TOCSIN_OPT_INT:
        errno = 0;
        v = strtoll(d, &end, 0);
        if (errno || end == d || *end)
            return -1;
        put_i64(conf, o, v);
        return 0;
    case TOCSIN_OPT_BOOL: {
        int b;
        if (!strcasecmp(d, "true") || !strcasecmp(d, "yes") || !strcasecmp(d, "on") ||
            !strcmp(d, "1"))
            b = 1;
        else if (!strcasecmp(d, "false") || !strcasecmp(d, "no") || !strcasecmp(d, "off") ||
                 !strcmp(d, "0"))
            b = 0;
        else
            return -1;
        memcpy(field(conf, o), &b, sizeof b);
        return 0;
    }
    case TOCSIN_OPT_DURATION:
        if (tc_parse_duration(d, &v) < 0)
            return -1;
        put_i64(conf, o, v);
        return 0;
    case TOCSIN_OPT_SIZE:
        if (tc_parse_size(d, &v) < 0)
            return -1;
        put_i64(conf, o, v);
        return 0;
    case TOCSIN_OPT_GROUPS:
        return -1; /* a list of groups has no default */
    case TOCSIN_OPT_STRLIST:
    case TOCSIN_OPT_MAP: {
        size_t n = 0, cap = 1;
        const char *p;
        char **items;
        struct tocsin_kv *kv;
        char *copy, *tok, *save = NULL;

        for (p = d; *p; p++)
            cap += *p == ',';
        copy = strdup(d);
        items = calloc(cap + 1, sizeof *items);
        kv = calloc(cap + 1, sizeof *kv);
        if (!copy || !items || !kv)
            goto list_fail;
        for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            if (o->type == TOCSIN_OPT_STRLIST) {
                if (!(items[n] = strdup(tok)))
                    goto list_fail;
            } else {
                char *eq = strchr(tok, '=');
                if (!eq)
                    goto list_fail;
                *eq = '\0';
                kv[n].key = strdup(tok);
                kv[n].value = strdup(eq + 1);
                if (!kv[n].key || !kv[n].value) {
                    n++;
                    goto list_fail;
                }
            }
            n++;
        }
        free(copy);
        if (o->type == TOCSIN_OPT_STRLIST) {
            struct tocsin_strlist sl = { n, (const char *const *)items };
            free(kv);
            memcpy(field(conf, o), &sl, sizeof sl);
        } else {
            struct tocsin_map m = { n, kv };
            free(items);
            memcpy(field(conf, o), &m, sizeof m);
        }
        return 0;
    list_fail:
        while (n-- > 0) {
            free(items[n]);
            free((char *)kv[n].key);
            free((char *)kv[n].value);
        }
        free(copy);
        free(items);
        free(kv);
        return -1;
    }
    }
    return -1;
}

static int listed(const char *const *names, const char *name)
{
    for (; names && *names; names++)
        if (strcmp(*names, name) == 0)
            return 1;
    return 0;
}

static const struct tocsin_option *find(const struct tocsin_option *table, const char *name)
{
    for (; table && table->name; table++)
        if (strcmp(table->name, name) == 0)
            return table;
    return NULL;
}

/* The closest known key, if it is close enough to be a typo ("ulr" for
 * "url" is two edits; one-letter keys get at most one). */
static const char *suggest(const struct tocsin_option *table, const char *const *reserved,
                           const char *key)
{
    const char *best = NULL;
    size_t best_d = SIZE_MAX, d, limit = strlen(key) >= 3 ? 2 : 1;

    for (; table && table->name; table++)
        if ((d = tc_edit_distance(key, table->name)) < best_d)
            best_d = d, best = table->name;
    for (; reserved && *reserved; reserved++)
        if ((d = tc_edit_distance(key, *reserved)) < best_d)
            best_d = d, best = *reserved;
    return best_d <= limit ? best : NULL;
}

/* Checks block against table and fills conf: unknown keys first, then
 * each option in table order. */
static void fill_block(struct filler *f, const struct tocsin_option *table,
                       const config_setting_t *block, const char *const *reserved,
                       void *conf)
{
    const struct tocsin_option *o;
    int i, n;

    n = config_setting_is_group(block) ? config_setting_length(block) : 0;
    for (i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(block, (unsigned)i);
        const char *key = config_setting_name(s), *hint;

        if (listed(reserved, key) || find(table, key))
            continue;
        hint = suggest(table, reserved, key);
        if (hint)
            fail(f, s, "unknown option \"%s\"; did you mean \"%s\"?", key, hint);
        else
            fail(f, s, "unknown option \"%s\"", key);
    }
    for (o = table; o && o->name; o++) {
        const config_setting_t *s = config_setting_get_member(block, o->name);

        if (listed(reserved, o->name))
            continue;
        if (o->type < TOCSIN_OPT_STRING || o->type > TOCSIN_OPT_GROUPS) {
            fail(f, block, "option \"%s\" has unknown type %d (a plugin bug)", o->name,
                 (int)o->type);
            continue;
        }
        if (s) {
            fill_one(f, o, s, conf);
        } else if (o->flags & TOCSIN_OPT_REQUIRED) {
            fail(f, block, "missing required option \"%s\"", o->name);
        } else if (o->def && o->type == TOCSIN_OPT_GROUPS) {
            fail(f, block, "option \"%s\": a list of groups has no default (a plugin bug)",
                 o->name);
        } else if (o->def && fill_default(o, conf) < 0) {
            if (o->flags & TOCSIN_OPT_SECRET)
                fail(f, block, "option \"%s\": its default is not a valid %s (a plugin bug)",
                     o->name, tc_opt_type_name(o->type));
            else
                fail(f, block,
                     "option \"%s\": its default \"%s\" is not a valid %s (a plugin bug)",
                     o->name, o->def, tc_opt_type_name(o->type));
        }
    }
}

int tc_options_fill(const struct tocsin_option *table,
                    const struct tocsin_group_table *groups, const config_setting_t *block,
                    const char *const *reserved, const char *context, void *conf,
                    struct tc_errors *errs)
{
    struct filler f = { config_setting_source_file(block), context, errs, 0, groups };

    if (!f.file)
        f.file = "(config)";
    fill_block(&f, table, block, reserved, conf);
    return f.failed ? -1 : 0;
}

void tc_options_free(const struct tocsin_option *table,
                     const struct tocsin_group_table *groups, void *conf)
{
    const struct tocsin_option *o;

    if (!conf)
        return;
    for (o = table; o && o->name; o++) {
        switch (o->type) {
        case TOCSIN_OPT_STRING:
            free(get_ptr(conf, o));
            put_ptr(conf, o, NULL);
            break;
        case TOCSIN_OPT_STRLIST: {
            struct tocsin_strlist sl;
            size_t i;

            memcpy(&sl, field(conf, o), sizeof sl);
            for (i = 0; i < sl.n; i++)
                free((char *)sl.items[i]);
            free((void *)sl.items);
            memset(field(conf, o), 0, sizeof sl);
            break;
        }
        case TOCSIN_OPT_MAP: {
            struct tocsin_map m;
            size_t i;

            memcpy(&m, field(conf, o), sizeof m);
            for (i = 0; i < m.n; i++) {
                free((char *)m.items[i].key);
                free((char *)m.items[i].value);
            }
            free((void *)m.items);
            memset(field(conf, o), 0, sizeof m);
            break;
        }
        case TOCSIN_OPT_GROUPS: {
            const struct tocsin_group_table *gt = tc_options_group(groups, o->name);
            struct tocsin_groups g;
            size_t i;

            memcpy(&g, field(conf, o), sizeof g);
            for (i = 0; i < g.n; i++) {
                /* fill made items only with a table: gt is there when n > 0. */
                if (gt)
                    tc_options_free(gt->options, NULL,
                                    (char *)g.items + i * gt->conf_size);
                free((char *)g.where[i]);
            }
            free((void *)g.items);
            free((void *)g.where);
            memset(field(conf, o), 0, sizeof g);
            break;
        }
        default:
            break;
        }
    }
}

const void *tc_options_get(const struct tocsin_option *table, const void *conf,
                           const char *name, enum tocsin_opt_type *type)
{
    const struct tocsin_option *o = find(table, name);

    if (!o || !conf)
        return NULL;
    if (type)
        *type = o->type;
    return (const char *)conf + o->offset;
}
