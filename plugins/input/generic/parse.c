/* parse.c: native alerts (one object or an array) for the `generic` input:
 * tc_alert_from_json plus the intake's own requirements, and the answers. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "parse.h"

static int blank(const char *s)
{
    if (!s)
        return 1;
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
            return 0;
    return 1;
}

/* One alert. Returns 0, -1 (err says why) or TOCSIN_ENOMEM. */
static int parse_alert(const json_t *obj, int64_t now, struct tc_alert *ta, char *err,
                       size_t errlen)
{
    struct tocsin_alert *a = &ta->a;

    if (tc_alert_from_json(obj, ta, err, errlen) < 0)
        return strcmp(err, "out of memory") == 0 ? TOCSIN_ENOMEM : -1;
    if (blank(a->summary)) {
        snprintf(err, errlen, "\"summary\" is required");
        return -1;
    }
    /* Without either, the core could not tell one problem from another. */
    if (a->n_labels == 0 && blank(a->dedup_key)) {
        snprintf(err, errlen, "\"labels\" (non-empty) or \"dedup_key\" is required");
        return -1;
    }
    if (a->status == TOCSIN_RESOLVED) {
        if (!a->ended_at)
            a->ended_at = now;
        if (a->started_at && a->ended_at < a->started_at) {
            snprintf(err, errlen, "\"ended_at\" is before \"started_at\"");
            return -1;
        }
    }
    return 0;
}

int gen_parse(const char *body, size_t len, int64_t now_ms, struct gen_batch *out)
{
    json_error_t jerr;
    json_t *root;
    size_t i, n;
    int single;

    memset(out, 0, sizeof *out);
    root = json_loadb(body ? body : "", body ? len : 0, JSON_DECODE_ANY, &jerr);
    if (!root) {
        out->error = "malformed JSON";
        snprintf(out->detail, sizeof out->detail, "line %d column %d: %s", jerr.line,
                 jerr.column, jerr.text);
        return TOCSIN_EINVAL;
    }
    out->root = root;
    single = json_is_object(root);
    if (!single && !json_is_array(root)) {
        out->error = "body must be a JSON alert object or an array of them";
        return TOCSIN_EINVAL;
    }

    n = single ? 1 : json_array_size(root);
    if (n == 0)
        return TOCSIN_OK;
    out->alerts = calloc(n, sizeof *out->alerts);
    out->parsed = calloc(n, sizeof *out->parsed);
    if (!out->alerts || !out->parsed)
        return TOCSIN_ENOMEM;

    for (i = 0; i < n; i++) {
        const json_t *obj = single ? root : json_array_get(root, i);
        char err[256];
        int rc = parse_alert(obj, now_ms, &out->parsed[i], err, sizeof err);

        if (rc != 0) {
            /* All or nothing: drop what was parsed so far. */
            size_t j;

            for (j = 0; j <= i; j++)
                tc_alert_release(&out->parsed[j]);
            out->n_alerts = 0;
            if (rc == TOCSIN_ENOMEM)
                return TOCSIN_ENOMEM;
            out->error = "invalid alert";
            snprintf(out->detail, sizeof out->detail, "alert %zu: %s", i, err);
            return TOCSIN_EINVAL;
        }
        out->alerts[i] = out->parsed[i].a;
        out->n_alerts++;
    }
    return TOCSIN_OK;
}

void gen_batch_free(struct gen_batch *b)
{
    size_t i;

    for (i = 0; i < b->n_alerts; i++)
        tc_alert_release(&b->parsed[i]);
    free(b->parsed);
    free(b->alerts);
    json_decref(b->root);
    memset(b, 0, sizeof *b);
}

static char *dump(json_t *o)
{
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

    json_decref(o);
    return s;
}

char *gen_accepted_body(size_t n)
{
    return dump(json_pack("{s:I}", "accepted", (json_int_t)n));
}
