/* policy_call.c: calling policies on the writer thread (policy_call.h). */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "policy_call.h"

static _Thread_local struct tc_policy_ctx *current;

struct tc_policy_ctx *tc_policy_current(void)
{
    return current;
}

/* Annotations a policy adds while judging one alert. */
struct annotations {
    json_t *obj;
};

int tc_policy_annotate(struct tocsin_policy_result *res, const char *key, const char *value)
{
    struct annotations *ann = res->core;

    if (!ann || !key || !value)
        return TOCSIN_EINVAL;
    if (!ann->obj && !(ann->obj = json_object()))
        return TOCSIN_ENOMEM;
    return json_object_set_new(ann->obj, key, json_string(value)) == 0 ? TOCSIN_OK
                                                                       : TOCSIN_EINVAL;
}

/* Members of a policy's result beyond 1.0: a 1.0 plugin never writes them
 * (the core zeroed them), so no size check is needed to read them. */
static void take_result(struct tc_judgement *j, const struct tocsin_policy_result *res)
{
    if (!j->dedup_key[0] && res->dedup_key[0])
        snprintf(j->dedup_key, sizeof j->dedup_key, "%.*s", (int)sizeof res->dedup_key - 1,
                 res->dedup_key);
    if (!j->reopen && res->reopen > 0)
        j->reopen = res->reopen;
    if (!j->previous && res->previous > 0)
        j->previous = res->previous;
}

void tc_policy_judge(struct tc_policy_ctx *ctx, const struct tc_policy_ref *policies, size_t n,
                     const struct tocsin_alert *a, struct tc_judgement *j)
{
    struct annotations ann = { NULL };
    struct tc_policy_ctx *outer = current;
    size_t i;

    memset(j, 0, sizeof *j);
    ctx->in_event = 0;
    current = ctx;
    for (i = 0; i < n; i++) {
        const struct tc_policy_ref *pol = &policies[i];
        struct tocsin_policy_result res = { .decision = TOCSIN_PASS, .core = &ann };

        if (!pol->plugin->evaluate)
            continue;
        ctx->pol = pol;
        if (pol->plugin->evaluate(pol->self, a, &res) != TOCSIN_OK) {
            tc_warn("[policy %s] evaluation failed; passing the alert on", pol->id);
            continue;
        }
        take_result(j, &res);
        if (res.decision == TOCSIN_SUPPRESS) {
            res.reason[sizeof res.reason - 1] = '\0';
            if (asprintf(&j->reason, "%s: %s", pol->id, res.reason) < 0)
                j->reason = NULL;
            snprintf(j->suppressed_by, sizeof j->suppressed_by, "%.*s",
                     (int)sizeof res.suppressed_by - 1, res.suppressed_by);
            break;
        }
    }
    current = outer;
    j->annotations = ann.obj;
}

void tc_judgement_free(struct tc_judgement *j)
{
    free(j->reason);
    json_decref(j->annotations);
    memset(j, 0, sizeof *j);
}

int tc_policy_listening(const struct tc_policy_ref *policies, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (policies[i].plugin->on_event)
            return 1;
    return 0;
}

static int savepoint(struct tc_policy_ctx *ctx, const char *sql)
{
    char *msg = NULL;

    if (sqlite3_exec(tc_incidents_db(ctx->inc), sql, NULL, NULL, &msg) != SQLITE_OK) {
        tc_error("store: %s: %s", sql, msg ? msg : "error");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* One policy's on_event under a savepoint: a failure undoes what it did. */
static int call_one(struct tc_policy_ctx *ctx, const struct tc_policy_ref *pol,
                    const struct tocsin_event *ev)
{
    size_t rows_before = ctx->rows->n;
    int rc;

    if (savepoint(ctx, "SAVEPOINT policy") < 0)
        return -1;
    ctx->pol = pol;
    rc = pol->plugin->on_event(pol->self, ev);
    if (rc != TOCSIN_OK) {
        tc_warn("[policy %s] on_event(%s) of incident %lld failed (%d); what it did is undone",
                pol->id, tocsin_event_name(ev->kind),
                (long long)(ev->incident ? ev->incident->id : ev->timer_incident), rc);
        if (savepoint(ctx, "ROLLBACK TO policy") < 0)
            return -1;
        tc_rows_truncate(ctx->rows, rows_before);
    }
    return savepoint(ctx, "RELEASE policy");
}

int tc_policy_event(struct tc_policy_ctx *ctx, const struct tc_policy_ref *policies, size_t n,
                    const struct tc_policy_ref *only, int64_t id, struct tocsin_event *ev)
{
    struct tc_policy_ctx *outer = current;
    struct tc_incident_view view;
    int found = 0, rc = 0;
    size_t i;

    if (!only && !tc_policy_listening(policies, n))
        return 0;
    if (id > 0 && (found = tc_incident_view(ctx->inc, id, NULL, ctx->latest, &view)) < 0)
        return -1;
    ev->incident = found ? &view.inc : NULL;
    ev->at = ctx->now;
    ctx->in_event = 1;
    current = ctx;
    for (i = 0; i < n && rc == 0; i++) {
        const struct tc_policy_ref *pol = &policies[i];

        if ((only && pol != only) || !pol->plugin->on_event)
            continue;
        rc = call_one(ctx, pol, ev);
    }
    current = outer;
    ctx->pol = NULL;
    if (found)
        tc_incident_view_free(&view);
    return rc;
}
