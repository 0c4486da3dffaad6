/* alert_json.c: the native alert schema in JSON, label fingerprints and
 * severity names. */
#define _DEFAULT_SOURCE
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"

static int kv_cmp(const void *a, const void *b)
{
    const struct tocsin_kv *x = *(const struct tocsin_kv *const *)a;
    const struct tocsin_kv *y = *(const struct tocsin_kv *const *)b;

    return strcmp(x->key, y->key);
}

uint64_t tc_fingerprint(const struct tocsin_kv *labels, size_t n)
{
    const struct tocsin_kv **sorted;
    uint64_t h = 14695981039346656037ULL;
    size_t i;

    if (n == 0)
        return h;
    sorted = malloc(n * sizeof *sorted);
    if (!sorted)
        return 0;
    for (i = 0; i < n; i++)
        sorted[i] = &labels[i];
    qsort(sorted, n, sizeof *sorted, kv_cmp);
    for (i = 0; i < n; i++) {
        const unsigned char *p;

        if (!sorted[i]->value || !*sorted[i]->value)
            continue;
        for (p = (const unsigned char *)sorted[i]->key; *p; p++)
            h = (h ^ *p) * 1099511628211ULL;
        h = (h ^ 0xff) * 1099511628211ULL;
        for (p = (const unsigned char *)sorted[i]->value; *p; p++)
            h = (h ^ *p) * 1099511628211ULL;
        h = (h ^ 0xff) * 1099511628211ULL;
    }
    free(sorted);
    return h;
}

char *tc_fingerprint_hex(const struct tocsin_kv *labels, size_t n, char *buf)
{
    static const char hex[] = "0123456789abcdef";
    uint64_t h = tc_fingerprint(labels, n);
    int i;

    for (i = 15; i >= 0; i--, h >>= 4)
        buf[i] = hex[h & 0xf];
    buf[16] = '\0';
    return buf;
}

enum tocsin_action tc_action_parse(const char *name)
{
    if (name && strcmp(name, "resolve") == 0)
        return TOCSIN_ACT_RESOLVE;
    if (name && strcmp(name, "acknowledge") == 0)
        return TOCSIN_ACT_ACKNOWLEDGE;
    return TOCSIN_ACT_TRIGGER;
}

int tc_severity_parse(const char *s, enum tocsin_severity *out)
{
    static const struct { const char *name; enum tocsin_severity sev; } names[] = {
        { "critical", TOCSIN_SEV_CRITICAL }, { "p0", TOCSIN_SEV_CRITICAL },
        { "high", TOCSIN_SEV_HIGH },         { "error", TOCSIN_SEV_HIGH },
        { "p1", TOCSIN_SEV_HIGH },           { "medium", TOCSIN_SEV_MEDIUM },
        { "warning", TOCSIN_SEV_MEDIUM },    { "p2", TOCSIN_SEV_MEDIUM },
        { "low", TOCSIN_SEV_LOW },           { "p3", TOCSIN_SEV_LOW },
        { "info", TOCSIN_SEV_INFO },         { "p4", TOCSIN_SEV_INFO },
    };
    size_t i;

    for (i = 0; s && i < sizeof names / sizeof names[0]; i++) {
        if (strcasecmp(s, names[i].name) == 0) {
            *out = names[i].sev;
            return 0;
        }
    }
    return -1;
}

int tc_utf8_clip(const char *s, int max)
{
    size_t len = strlen(s);
    size_t n;

    if (max < 0)
        max = 0;
    if (len <= (size_t)max)
        return (int)len;
    /* Back off over continuation bytes to the start of the cut sequence. */
    for (n = (size_t)max; n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80; n--)
        ;
    return (int)n;
}

json_t *tc_json_string(const char *s)
{
    const unsigned char *p;
    json_t *j = json_string(s);
    char *copy, *q;

    if (j || !s)
        return j;
    /* Invalid UTF-8 (or no memory): each bad byte becomes U+FFFD. */
    copy = malloc(strlen(s) * 3 + 1);
    if (!copy)
        return NULL;
    for (p = (const unsigned char *)s, q = copy; *p;) {
        int n = tc_utf8_seq(p);

        if (n == 0) {
            memcpy(q, "\xef\xbf\xbd", 3);
            q += 3;
            p++;
        } else {
            memcpy(q, p, (size_t)n);
            q += n;
            p += n;
        }
    }
    *q = '\0';
    j = json_string(copy);
    free(copy);
    return j;
}

json_t *tc_kv_to_json(const struct tocsin_kv *kv, size_t n)
{
    json_t *o = json_object();
    size_t i;

    for (i = 0; o && i < n; i++) {
        json_t *k;

        if (!kv[i].key || !kv[i].value)
            continue;
        if (json_object_set_new(o, kv[i].key, tc_json_string(kv[i].value)) == 0)
            continue;
        /* A key that is not UTF-8: keep the entry under a repaired name. */
        k = tc_json_string(kv[i].key);
        if (k)
            json_object_set_new(o, json_string_value(k), tc_json_string(kv[i].value));
        json_decref(k);
    }
    return o;
}

static int kv_fill(const json_t *obj, const char *field, struct tocsin_kv *out, size_t *n,
                   char *err, size_t errlen)
{
    const char *key;
    json_t *val;

    *n = 0;
    if (!obj || json_is_null(obj))
        return 0;
    if (!json_is_object(obj)) {
        snprintf(err, errlen, "\"%s\" must be an object of strings", field);
        return -1;
    }
    json_object_foreach((json_t *)obj, key, val) {
        if (!json_is_string(val)) {
            snprintf(err, errlen, "\"%s.%.*s\" must be a string", field,
                     tc_utf8_clip(key, 64), key);
            return -1;
        }
        if (!*key) {
            snprintf(err, errlen, "\"%s\" has an empty name", field);
            return -1;
        }
        if (json_string_length(val) == 0)
            continue; /* as Alertmanager: an empty value means no label */
        if (out) {
            out[*n].key = key;
            out[*n].value = json_string_value(val);
        }
        (*n)++;
    }
    return 0;
}

int tc_kv_from_json(const json_t *obj, const char *field, struct tocsin_kv **out, size_t *n,
                    char *err, size_t errlen)
{
    size_t count;

    *out = NULL;
    if (kv_fill(obj, field, NULL, &count, err, errlen) < 0)
        return -1;
    *n = 0;
    if (count == 0)
        return 0;
    *out = calloc(count, sizeof **out);
    if (!*out) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return kv_fill(obj, field, *out, n, err, errlen);
}

static int get_string(const json_t *obj, const char *field, const char **out, char *err,
                      size_t errlen)
{
    json_t *v = json_object_get(obj, field);

    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        snprintf(err, errlen, "\"%s\" must be a string", field);
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

static int get_time(const json_t *obj, const char *field, int64_t *out, char *err,
                    size_t errlen)
{
    const char *s;

    *out = 0;
    if (get_string(obj, field, &s, err, errlen) < 0)
        return -1;
    if (s && *s && tc_time_parse(s, out) < 0) {
        snprintf(err, errlen, "\"%s\" is not an RFC 3339 time: \"%.*s\"", field,
                 tc_utf8_clip(s, 40), s);
        return -1;
    }
    return 0;
}

int tc_alert_from_json(const json_t *obj, struct tc_alert *out, char *err, size_t errlen)
{
    struct tocsin_alert *a = &out->a;
    const char *status, *severity;
    size_t nl, na, nk;

    memset(out, 0, sizeof *out);
    if (!json_is_object(obj)) {
        snprintf(err, errlen, "an alert must be a JSON object");
        return -1;
    }
    if (get_string(obj, "dedup_key", &a->dedup_key, err, errlen) ||
        get_string(obj, "status", &status, err, errlen) ||
        get_string(obj, "severity", &severity, err, errlen) ||
        get_string(obj, "summary", &a->summary, err, errlen) ||
        get_string(obj, "details", &a->details, err, errlen) ||
        get_string(obj, "source", &a->source, err, errlen) ||
        get_string(obj, "service", &a->service, err, errlen) ||
        get_time(obj, "started_at", &a->started_at, err, errlen) ||
        get_time(obj, "received_at", &a->received_at, err, errlen) ||
        get_time(obj, "ended_at", &a->ended_at, err, errlen) ||
        get_time(obj, "expires_at", &a->expires_at, err, errlen))
        return -1;
    if (!status || strcmp(status, "firing") == 0) {
        a->status = TOCSIN_FIRING;
    } else if (strcmp(status, "resolved") == 0) {
        a->status = TOCSIN_RESOLVED;
    } else {
        snprintf(err, errlen, "\"status\" must be \"firing\" or \"resolved\", not \"%.*s\"",
                 tc_utf8_clip(status, 40), status);
        return -1;
    }
    a->severity = TOCSIN_SEV_MEDIUM;
    if (severity && tc_severity_parse(severity, &a->severity) < 0) {
        snprintf(err, errlen,
                 "\"severity\" must be one of critical, high, medium, low, info; not \"%.*s\"",
                 tc_utf8_clip(severity, 40), severity);
        return -1;
    }
    if (kv_fill(json_object_get(obj, "labels"), "labels", NULL, &nl, err, errlen) ||
        kv_fill(json_object_get(obj, "annotations"), "annotations", NULL, &na, err, errlen) ||
        kv_fill(json_object_get(obj, "links"), "links", NULL, &nk, err, errlen))
        return -1;
    if (nl + na + nk) {
        out->kv = calloc(nl + na + nk, sizeof *out->kv);
        if (!out->kv) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    kv_fill(json_object_get(obj, "labels"), "labels", out->kv, &a->n_labels, err, errlen);
    kv_fill(json_object_get(obj, "annotations"), "annotations", out->kv ? out->kv + nl : NULL,
            &a->n_annotations, err, errlen);
    kv_fill(json_object_get(obj, "links"), "links", out->kv ? out->kv + nl + na : NULL,
            &a->n_links, err, errlen);
    a->labels = a->n_labels ? out->kv : NULL;
    a->annotations = a->n_annotations ? out->kv + nl : NULL;
    a->links = a->n_links ? out->kv + nl + na : NULL;
    return 0;
}

void tc_alert_release(struct tc_alert *alert)
{
    free(alert->kv);
    alert->kv = NULL;
}

void tc_json_set_str(json_t *o, const char *key, const char *v)
{
    if (v)
        json_object_set_new(o, key, tc_json_string(v));
}

void tc_json_set_time(json_t *o, const char *key, int64_t ms)
{
    char buf[40];

    if (ms)
        json_object_set_new(o, key, json_string(tc_time_format(ms, buf, sizeof buf)));
}

json_t *tc_alert_to_json(const struct tocsin_alert *a)
{
    json_t *o = json_object();

    if (!o)
        return NULL;
    tc_json_set_str(o, "dedup_key", a->dedup_key);
    tc_json_set_str(o, "status", tocsin_status_name(a->status));
    tc_json_set_str(o, "severity", tocsin_severity_name(a->severity));
    tc_json_set_str(o, "summary", a->summary);
    tc_json_set_str(o, "details", a->details);
    tc_json_set_str(o, "source", a->source);
    tc_json_set_str(o, "service", a->service);
    json_object_set_new(o, "labels", tc_kv_to_json(a->labels, a->n_labels));
    json_object_set_new(o, "annotations", tc_kv_to_json(a->annotations, a->n_annotations));
    if (a->n_links)
        json_object_set_new(o, "links", tc_kv_to_json(a->links, a->n_links));
    tc_json_set_time(o, "started_at", a->started_at);
    tc_json_set_time(o, "received_at", a->received_at);
    tc_json_set_time(o, "ended_at", a->ended_at);
    tc_json_set_time(o, "expires_at", a->expires_at);
    return o;
}

/* One {"k":"v",...} member as jansson would dump tc_kv_to_json(kv, n):
 * straight, unless a key repeats or is not UTF-8 (then jansson's own
 * rules for overwriting and repairing apply, through the tree). */
static void put_kv(struct tc_text *t, const struct tocsin_kv *kv, size_t n)
{
    size_t i, j, w = 0;
    int plain = n <= 64;

    for (i = 0; plain && i < n; i++) {
        const unsigned char *p;

        if (!kv[i].key || !kv[i].value)
            continue;
        for (p = (const unsigned char *)kv[i].key; *p && plain;) {
            int len = tc_utf8_seq(p);

            plain = len > 0;
            p += len;
        }
        for (j = 0; plain && j < i; j++)
            plain = !kv[j].key || !kv[j].value || strcmp(kv[j].key, kv[i].key) != 0;
    }
    if (!plain) {
        json_t *o = tc_kv_to_json(kv, n);
        char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

        if (s)
            tc_text_put(t, s, strlen(s));
        else
            t->failed = 1;
        free(s);
        json_decref(o);
        return;
    }
    tc_text_put(t, "{", 1);
    for (i = 0; i < n; i++) {
        if (!kv[i].key || !kv[i].value)
            continue;
        if (w++)
            tc_text_put(t, ",", 1);
        tc_text_json_string(t, kv[i].key);
        tc_text_put(t, ":", 1);
        tc_text_json_string(t, kv[i].value);
    }
    tc_text_put(t, "}", 1);
}

static void put_key(struct tc_text *t, const char *key)
{
    tc_text_put(t, t->len > 1 ? ",\"" : "\"", t->len > 1 ? 2 : 1);
    tc_text_put(t, key, strlen(key));
    tc_text_put(t, "\":", 2);
}

static void put_str(struct tc_text *t, const char *key, const char *v)
{
    if (v) {
        put_key(t, key);
        tc_text_json_string(t, v);
    }
}

static void put_time(struct tc_text *t, const char *key, int64_t ms)
{
    char buf[40];

    if (ms) {
        put_key(t, key);
        tc_text_json_string(t, tc_time_format(ms, buf, sizeof buf));
    }
}

char *tc_alert_to_text(const struct tocsin_alert *a)
{
    struct tc_text t = { NULL, 0, 0, 0 };

    tc_text_put(&t, "{", 1);
    put_str(&t, "dedup_key", a->dedup_key);
    put_str(&t, "status", tocsin_status_name(a->status));
    put_str(&t, "severity", tocsin_severity_name(a->severity));
    put_str(&t, "summary", a->summary);
    put_str(&t, "details", a->details);
    put_str(&t, "source", a->source);
    put_str(&t, "service", a->service);
    put_key(&t, "labels");
    put_kv(&t, a->labels, a->n_labels);
    put_key(&t, "annotations");
    put_kv(&t, a->annotations, a->n_annotations);
    if (a->n_links) {
        put_key(&t, "links");
        put_kv(&t, a->links, a->n_links);
    }
    put_time(&t, "started_at", a->started_at);
    put_time(&t, "received_at", a->received_at);
    put_time(&t, "ended_at", a->ended_at);
    put_time(&t, "expires_at", a->expires_at);
    tc_text_put(&t, "}", 2); /* with the NUL */
    if (t.failed) {
        free(t.s);
        return NULL;
    }
    return t.s;
}
