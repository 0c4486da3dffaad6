/* host.c: the host services of plugin.h, one table per instance, so every
 * log line names the instance. Plugins reach the core only through here. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "host.h"
#include "httpclient.h"
#include "remember.h"
#include "log.h"
#include "loader.h"
#include "options.h"
#include "policy_call.h"
#include "policy_timers.h"

static struct tc_instance *inst_of(const struct tocsin_host *host)
{
    return host->core;
}

static void host_logv(const struct tocsin_host *host, int level, const char *fmt, va_list ap)
{
    struct tc_instance *inst = inst_of(host);
    char prefix[160];

    snprintf(prefix, sizeof prefix, "%s %s", tc_kind_name(inst->conf->kind), inst->conf->id);
    tc_logv(level, prefix, fmt, ap);
}

static void host_log(const struct tocsin_host *host, enum tocsin_log_level level,
                     const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    host_logv(host, (int)level, fmt, ap);
    va_end(ap);
}

static int host_fail(const struct tocsin_host *host, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    host_logv(host, TOCSIN_LOG_ERROR, fmt, ap);
    va_end(ap);
    return TOCSIN_ERROR;
}

static int64_t host_now(const struct tocsin_host *host)
{
    return tc_now_ms();
}

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

static int host_emit_sized(const struct tocsin_host *host, const void *alerts, size_t n,
                           size_t alert_size, char *err, size_t errlen)
{
    struct tc_instance *inst = inst_of(host);
    struct tocsin_alert *ours = NULL;
    char buf[256];
    size_t i;
    int rc;

    if (!err || !errlen) {
        err = buf;
        errlen = sizeof buf;
    }
    err[0] = '\0';
    if (alert_size < TOCSIN_ALERT_SIZE_1_0) {
        snprintf(err, errlen,
                 "alert_size %zu is smaller than an ABI 1.0 struct tocsin_alert (%zu bytes)",
                 alert_size, (size_t)TOCSIN_ALERT_SIZE_1_0);
        return TOCSIN_EINVAL;
    }
    if (n > 0 && !alerts) {
        snprintf(err, errlen, "%zu alerts at NULL", n);
        return TOCSIN_EINVAL;
    }
    if (!inst->d->pipeline) {
        snprintf(err, errlen, "tocsind is not running yet");
        return TOCSIN_ESHUTDOWN;
    }
    /* Another minor's alerts: copied into ours (the pointers stay the
     * plugin's, valid for this call), members we lack dropped, members it
     * lacks zero. */
    if (n > 0 && alert_size != sizeof *ours) {
        if (!(ours = calloc(n, sizeof *ours))) {
            snprintf(err, errlen, "out of memory");
            return TOCSIN_ENOMEM;
        }
        for (i = 0; i < n; i++)
            memcpy(&ours[i], (const char *)alerts + i * alert_size,
                   min_size(alert_size, sizeof *ours));
        alerts = ours;
    }
    rc = tc_pipeline_intake(inst->d->pipeline, inst->conf->id, alerts, n, err, errlen);
    free(ours);
    return rc;
}

static int host_emit(const struct tocsin_host *host, const struct tocsin_alert *alerts,
                     size_t n, char *err, size_t errlen)
{
    return host_emit_sized(host, alerts, n, TOCSIN_ALERT_SIZE_1_0, err, errlen);
}

/* Routes on the core's listener; a failure goes through host->fail, so
 * --check-config's table reports it as a config error. */
static int route_as(const struct tocsin_host *host, const char *method, const char *path,
                    tocsin_route_fn fn, void *self, enum tc_gate gate)
{
    struct tc_instance *inst = inst_of(host);
    char err[256], owner[160];
    int rc;

    snprintf(owner, sizeof owner, "%s \"%s\"", tc_kind_name(inst->conf->kind), inst->conf->id);
    rc = tc_http_route(inst->d->http, method, path, fn, self, owner, gate, inst->conf->id, err,
                       sizeof err);
    if (rc != TOCSIN_OK)
        host->fail(host, "%s", err);
    return rc;
}

static int host_route(const struct tocsin_host *host, const char *method, const char *path,
                      tocsin_route_fn fn, void *self)
{
    /* An input's routes take its own credentials; anyone else's are API. */
    return route_as(host, method, path, fn, self,
                    inst_of(host)->conf->kind == TOCSIN_INPUT ? TC_GATE_INPUT : TC_GATE_API);
}

static int host_route_self_auth(const struct tocsin_host *host, const char *method,
                                const char *path, tocsin_route_fn fn, void *self)
{
    if (inst_of(host)->conf->kind != TOCSIN_INPUT)
        return host->fail(host, "route_self_auth %s %s: only inputs authenticate their own "
                          "requests", method ? method : "?", path ? path : "?");
    return route_as(host, method, path, fn, self, TC_GATE_SELF);
}

static int64_t host_timer_add(const struct tocsin_host *host, int64_t delay_ms,
                              int64_t interval_ms, void (*fn)(void *), void *self)
{
    struct tc_instance *inst = inst_of(host);

    return tc_timers_add(inst->d->timers, inst, delay_ms, interval_ms, fn, self);
}

static void host_timer_cancel(const struct tocsin_host *host, int64_t id)
{
    tc_timers_cancel(inst_of(host)->d->timers, id);
}

/* --test-sink prints what the provider said: status and the start of
 * the answer on one line (the caller scrubs it), or why none came. */
static void note_answer(struct tc_instance *inst, const struct tocsin_http_call *c,
                        const struct tocsin_http_result *r, int rc)
{
    int smtp = c->url && strncasecmp(c->url, "smtp", 4) == 0;
    int n = r->body ? (int)(r->body_len < 300 ? r->body_len : 300) : 0;

    if (rc != TOCSIN_OK && !r->status)
        snprintf(inst->answer, inst->answer_len, "no answer: %s", r->error);
    else if (rc != TOCSIN_OK)
        snprintf(inst->answer, inst->answer_len, "%s %ld: %s", smtp ? "SMTP" : "HTTP",
                 r->status, r->error);
    else
        snprintf(inst->answer, inst->answer_len, "%s %ld%s%.*s", smtp ? "SMTP" : "HTTP",
                 r->status, n ? ": " : "", n, n ? r->body : "");
}

static int host_http_sized(const struct tocsin_host *host, const struct tocsin_http_call *call,
                           size_t call_size, struct tocsin_http_result *res, size_t res_size)
{
    const struct tc_daemon_conf *dc = &inst_of(host)->d->cfg->daemon;
    struct tc_http_opts opts = { .timeout_ms = (long)dc->http_timeout_ms,
                                 .max_response = (size_t)dc->http_max_response };
    struct tocsin_http_call c;
    struct tocsin_http_result r;
    int rc;

    if (!res || res_size < TOCSIN_HTTP_RESULT_SIZE_1_0) {
        host_log(host, TOCSIN_LOG_ERROR,
                 "http_sized: res_size %zu is smaller than an ABI 1.0 struct "
                 "tocsin_http_result (%zu bytes)", res_size, (size_t)TOCSIN_HTTP_RESULT_SIZE_1_0);
        return TOCSIN_EINVAL;
    }
    /* The plugin's result may be smaller or larger than ours: all of its
     * bytes are zeroed, then ours copied in as far as both reach. */
    memset(res, 0, res_size);
    res->retry_after = -1;
    if (!call || call_size < TOCSIN_HTTP_CALL_SIZE_1_0) {
        snprintf(res->error, sizeof res->error,
                 "call_size %zu is smaller than an ABI 1.0 struct tocsin_http_call (%zu bytes)",
                 call_size, (size_t)TOCSIN_HTTP_CALL_SIZE_1_0);
        return TOCSIN_EINVAL;
    }
    /* The 1.0 part, then each later member only if call_size holds it. */
    memset(&c, 0, sizeof c);
    memcpy(&c, call, TOCSIN_HTTP_CALL_SIZE_1_0);
    if (TOCSIN_SIZE_HAS(struct tocsin_http_call, call_size, mail_from))
        c.mail_from = call->mail_from;
    if (TOCSIN_SIZE_HAS(struct tocsin_http_call, call_size, mail_rcpt))
        c.mail_rcpt = call->mail_rcpt;
    if (TOCSIN_SIZE_HAS(struct tocsin_http_call, call_size, username))
        c.username = call->username;
    if (TOCSIN_SIZE_HAS(struct tocsin_http_call, call_size, password))
        c.password = call->password;
    if (TOCSIN_SIZE_HAS(struct tocsin_http_call, call_size, starttls))
        c.starttls = call->starttls;
    if (TOCSIN_SIZE_HAS(struct tocsin_http_call, call_size, ca_file))
        c.ca_file = call->ca_file;
    opts.mail_from = c.mail_from;
    opts.mail_rcpt = c.mail_rcpt;
    opts.username = c.username;
    opts.password = c.password;
    opts.starttls = c.starttls;
    opts.ca_file = c.ca_file;
    rc = tc_http_call(&c, &r, &opts);
    /* Never silent; the URL may hold a secret (a webhook token), so not it. */
    if (rc == TOCSIN_OK && tc_http_truncated(&r))
        host_log(host, TOCSIN_LOG_WARN, "HTTP %ld: %s", r.status, r.error);
    if (inst_of(host)->answer)
        note_answer(inst_of(host), &c, &r, rc);
    memcpy(res, &r, min_size(res_size, sizeof r));
    return rc;
}

static int host_http(const struct tocsin_host *host, const struct tocsin_http_call *call,
                     struct tocsin_http_result *res)
{
    return host_http_sized(host, call, TOCSIN_HTTP_CALL_SIZE_1_0, res,
                           TOCSIN_HTTP_RESULT_SIZE_1_0);
}

static int host_remember(const struct tocsin_host *host, const struct tocsin_notification *n,
                         const char *ref)
{
    int rc = tc_remember(n, ref);

    if (rc != TOCSIN_OK)
        host_log(host, TOCSIN_LOG_WARN, "remember: %s", ref && strlen(ref) > TOCSIN_REF_MAX
                 ? "the ref is longer than TOCSIN_REF_MAX; nothing kept"
                 : "called outside the delivery of that notification; nothing kept");
    return rc;
}

static void host_http_free(const struct tocsin_host *host, struct tocsin_http_result *res)
{
    tc_http_result_free(res);
}

static struct tocsin_verdict host_http_verdict(const struct tocsin_host *host,
                                               const struct tocsin_http_result *res)
{
    return tc_http_verdict(res);
}

static const void *host_option(const struct tocsin_host *host, const char *name,
                               enum tocsin_opt_type *type)
{
    struct tc_instance *inst = inst_of(host);

    return tc_options_get(inst->plugin->options, inst->conf->conf, name, type);
}

static int host_state_get(const struct tocsin_host *host, const char *key, char **value)
{
    return tc_store_state_get(inst_of(host)->d->store, host->instance_id, key, value);
}

static int host_state_put(const struct tocsin_host *host, const char *key, const char *value)
{
    return tc_store_state_put(inst_of(host)->d->store, host->instance_id, key, value);
}

static int host_state_delete(const struct tocsin_host *host, const char *key)
{
    return tc_store_state_delete(inst_of(host)->d->store, host->instance_id, key);
}

static int host_annotate(const struct tocsin_host *host, struct tocsin_policy_result *res,
                         const char *key, const char *value)
{
    return tc_policy_annotate(res, key, value);
}

/* ---- policies (1.1): on the writer thread inside a policy call, or (timers) anywhere ---- */

static int valid_timer_name(const char *name)
{
    return name && *name && strlen(name) <= TC_TIMER_NAME_MAX;
}

static int host_policy_timer_set(const struct tocsin_host *host, int64_t incident,
                                 const char *name, int64_t due_ms)
{
    struct tc_instance *inst = inst_of(host);
    struct tc_policy_ctx *ctx = tc_policy_current();
    int rc;

    if (inst->conf->kind != TOCSIN_POLICY || !valid_timer_name(name) ||
        (incident < 0 && incident != TOCSIN_TIMER_EVERY_INCIDENT))
        return TOCSIN_EINVAL;
    if (!inst->d->store) /* --check-config: nothing is written */
        return TOCSIN_OK;
    rc = tc_store_policy_timer(inst->d->store, host->instance_id, incident, name, due_ms, 0);
    if (rc != TOCSIN_OK)
        return rc;
    if (ctx && ctx->ap->next_timer > due_ms)
        ctx->ap->next_timer = due_ms; /* the writer looks again after this job */
    else if (!ctx && inst->d->pipeline) /* before it runs, it reads the store at start */
        tc_pipeline_timer_due(inst->d->pipeline, due_ms);
    return TOCSIN_OK;
}

static int host_policy_timer_cancel(const struct tocsin_host *host, int64_t incident,
                                    const char *name)
{
    struct tc_instance *inst = inst_of(host);

    if (inst->conf->kind != TOCSIN_POLICY || (name && !valid_timer_name(name)) ||
        (incident == TOCSIN_TIMER_EVERY_INCIDENT && !name) ||
        (incident < 0 && incident != TOCSIN_TIMER_EVERY_INCIDENT))
        return TOCSIN_EINVAL;
    if (!inst->d->store)
        return TOCSIN_OK;
    return tc_store_policy_timer(inst->d->store, host->instance_id, incident, name, 0, 1);
}

static int host_notify(const struct tocsin_host *host, int64_t incident,
                       enum tocsin_action action, const char *const *sinks, unsigned flags)
{
    struct tc_policy_ctx *ctx = tc_policy_current();

    if (!ctx || !ctx->in_event || !ctx->pol || strcmp(ctx->pol->id, host->instance_id) != 0)
        return TOCSIN_EINVAL;
    return tc_apply_notify(ctx->ap, ctx->rows, host->instance_id, incident, action, sinks, flags,
                           ctx->now);
}

static int host_incident_find(const struct tocsin_host *host, int64_t id, const char *dedup_key,
                              void (*fn)(void *arg, const struct tocsin_incident *inc), void *arg)
{
    struct tc_policy_ctx *ctx = tc_policy_current();
    struct tc_incident_view v;
    int found;

    if (!ctx || !fn || id < 0 || (id == 0 && (!dedup_key || !*dedup_key)))
        return TOCSIN_EINVAL;
    found = tc_incident_view(ctx->inc, id, dedup_key, NULL, &v);
    if (found < 0)
        return TOCSIN_EIO;
    if (found) {
        fn(arg, &v.inc);
        tc_incident_view_free(&v);
    }
    return found;
}

void tc_host_init(struct tc_instance *inst)
{
    struct tocsin_host *h = &inst->host;

    h->size = sizeof *h;
    h->abi_major = TOCSIN_ABI_MAJOR;
    h->abi_minor = TOCSIN_ABI_MINOR;
    h->instance_id = inst->conf->id;
    h->external_url = inst->d->cfg->daemon.external_url;
    h->core = inst;
    h->log = host_log;
    h->fail = host_fail;
    h->now_ms = host_now;
    h->emit = host_emit;
    h->route = host_route;
    h->timer_add = host_timer_add;
    h->timer_cancel = host_timer_cancel;
    h->http = host_http;
    h->http_free = host_http_free;
    h->http_verdict = host_http_verdict;
    h->option = host_option;
    h->state_get = host_state_get;
    h->state_put = host_state_put;
    h->state_delete = host_state_delete;
    h->annotate = host_annotate;
    /* 1.1 */
    h->emit_sized = host_emit_sized;
    h->http_sized = host_http_sized;
    h->remember = host_remember;
    h->route_self_auth = host_route_self_auth;
    h->policy_timer_set = host_policy_timer_set;
    h->policy_timer_cancel = host_policy_timer_cancel;
    h->notify = host_notify;
    h->incident_find = host_incident_find;
}

static int64_t inert_timer_add(const struct tocsin_host *host, int64_t delay_ms,
                               int64_t interval_ms, void (*fn)(void *), void *self)
{
    return 1;
}

static void inert_timer_cancel(const struct tocsin_host *host, int64_t id)
{
}

void tc_host_without_timers(struct tocsin_host *h)
{
    h->timer_add = inert_timer_add;
    h->timer_cancel = inert_timer_cancel;
}
