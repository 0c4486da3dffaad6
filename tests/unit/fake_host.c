/* fake_host.c: see fake_host.h. */
#define _GNU_SOURCE
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fake_host.h"

static struct fake_host *fake_of(const struct tocsin_host *h)
{
    return (struct fake_host *)(void *)h;
}

static void fake_log(const struct tocsin_host *h, enum tocsin_log_level level, const char *fmt,
                     ...)
{
    struct fake_host *f = fake_of(h);
    size_t len = strlen(f->logs);
    va_list ap;

    (void)level;
    va_start(ap, fmt);
    vsnprintf(f->logs + len, sizeof f->logs - len, fmt, ap);
    va_end(ap);
    len = strlen(f->logs);
    if (len + 1 < sizeof f->logs) {
        f->logs[len] = '\n';
        f->logs[len + 1] = '\0';
    }
}

static int fake_fail(const struct tocsin_host *h, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(fake_of(h)->failed, sizeof fake_of(h)->failed, fmt, ap);
    va_end(ap);
    return TOCSIN_ERROR;
}

static int64_t fake_now(const struct tocsin_host *h)
{
    return fake_of(h)->now;
}

static int fake_emit(const struct tocsin_host *h, const struct tocsin_alert *alerts, size_t n,
                     char *err, size_t errlen)
{
    struct fake_host *f = fake_of(h);

    f->emits++;
    f->emitted = n;
    snprintf(f->first_dedup, sizeof f->first_dedup, "%s", alerts[0].dedup_key);
    snprintf(f->first_summary, sizeof f->first_summary, "%s", alerts[0].summary);
    if (f->emit_err)
        snprintf(err, errlen, "%s", f->emit_err);
    return f->emit_rc;
}

static int fake_emit_sized(const struct tocsin_host *h, const void *alerts, size_t n,
                           size_t alert_size, char *err, size_t errlen)
{
    /* The plugin speaks 1.1 with its own struct size. */
    ck_assert_uint_eq(alert_size, sizeof(struct tocsin_alert));
    return fake_emit(h, alerts, n, err, errlen);
}

static int record_route(struct fake_host *f, const char *method, const char *path,
                        tocsin_route_fn fn, void *self)
{
    snprintf(f->method, sizeof f->method, "%s", method);
    snprintf(f->path, sizeof f->path, "%s", path);
    f->route_fn = fn;
    f->route_self = self;
    return TOCSIN_OK;
}

static int fake_route(const struct tocsin_host *h, const char *method, const char *path,
                      tocsin_route_fn fn, void *self)
{
    fake_of(h)->routes++;
    return record_route(fake_of(h), method, path, fn, self);
}

static int fake_route_self_auth(const struct tocsin_host *h, const char *method,
                                const char *path, tocsin_route_fn fn, void *self)
{
    fake_of(h)->self_auth_routes++;
    return record_route(fake_of(h), method, path, fn, self);
}

static int fake_remember(const struct tocsin_host *h, const struct tocsin_notification *n,
                         const char *ref)
{
    struct fake_host *f = fake_of(h);

    f->remembers++;
    f->remembered_for = n;
    snprintf(f->remembered, sizeof f->remembered, "%s", ref ? ref : "(null)");
    return f->remember_rc;
}

static int state_find(const struct fake_host *f, const char *key)
{
    int i;

    for (i = 0; i < (int)(sizeof f->state / sizeof f->state[0]); i++)
        if (f->state[i].key && strcmp(f->state[i].key, key) == 0)
            return i;
    return -1;
}

static int fake_state_get(const struct tocsin_host *h, const char *key, char **value)
{
    int i = state_find(fake_of(h), key);

    *value = i >= 0 ? strdup(fake_of(h)->state[i].value) : NULL;
    return TOCSIN_OK;
}

static int fake_state_put(const struct tocsin_host *h, const char *key, const char *value)
{
    struct fake_host *f = fake_of(h);
    int i = state_find(f, key), max = (int)(sizeof f->state / sizeof f->state[0]);

    f->state_puts++;
    if (i < 0)
        for (i = 0; i < max && f->state[i].key; i++)
            ;
    ck_assert_int_lt(i, max);
    if (!f->state[i].key)
        f->state[i].key = strdup(key);
    free(f->state[i].value);
    f->state[i].value = strdup(value);
    return TOCSIN_OK;
}

static int fake_state_delete(const struct tocsin_host *h, const char *key)
{
    struct fake_host *f = fake_of(h);
    int i = state_find(f, key);

    f->state_deletes++;
    if (i >= 0) {
        free(f->state[i].key);
        free(f->state[i].value);
        f->state[i].key = f->state[i].value = NULL;
    }
    return TOCSIN_OK;
}

const char *fake_host_state(const struct fake_host *f, const char *key)
{
    int i = state_find(f, key);

    return i >= 0 ? f->state[i].value : NULL;
}

static int fake_http_sized(const struct tocsin_host *h, const struct tocsin_http_call *c,
                           size_t call_size, struct tocsin_http_result *res, size_t res_size)
{
    struct fake_host *f = fake_of(h);
    struct fake_call *k;
    size_t i;

    /* The sink speaks 1.1 with its own struct sizes. */
    ck_assert_uint_eq(call_size, sizeof *c);
    ck_assert_uint_eq(res_size, sizeof *res);
    ck_assert_int_lt(f->n_calls, (int)(sizeof f->calls / sizeof f->calls[0]));
    k = &f->calls[f->n_calls++];
    snprintf(k->method, sizeof k->method, "%s", c->method ? c->method : "");
    k->url = strdup(c->url);
    for (i = 0; c->headers && c->headers[i] && i < 16; i++)
        k->headers[i] = strdup(c->headers[i]);
    k->n_headers = i;
    k->body = malloc(c->body_len + 1);
    memcpy(k->body, c->body, c->body_len);
    k->body[c->body_len] = '\0';
    k->timeout_ms = c->timeout_ms;

    memset(res, 0, res_size);
    res->status = f->status;
    res->retry_after = f->retry_after;
    if (f->status == 0) {
        snprintf(res->error, sizeof res->error, "%s", f->error ? f->error : "connection refused");
        return TOCSIN_ERROR;
    }
    res->body = strdup(f->body ? f->body : "");
    res->body_len = strlen(res->body);
    return TOCSIN_OK;
}

static void fake_http_free(const struct tocsin_host *h, struct tocsin_http_result *res)
{
    fake_of(h)->frees++;
    free(res->body);
    res->body = NULL;
    res->body_len = 0;
}

static struct tocsin_verdict fake_verdict(const struct tocsin_host *h,
                                          const struct tocsin_http_result *res)
{
    long s = res->status;

    (void)h;
    if (s == 0)
        return tocsin_retry(0, "%s", res->error);
    if (s >= 200 && s < 300)
        return tocsin_done();
    if (s == 408 || s == 425 || s == 429 || s >= 500)
        return tocsin_retry(res->retry_after > 0 ? res->retry_after : 0, "HTTP %ld: %s", s,
                            res->body ? res->body : "");
    return tocsin_failed("HTTP %ld: %s", s, res->body ? res->body : "");
}

void fake_host_init(struct fake_host *f, const char *instance_id, int64_t now)
{
    memset(f, 0, sizeof *f);
    f->host.size = sizeof f->host;
    f->host.abi_major = TOCSIN_ABI_MAJOR;
    f->host.abi_minor = TOCSIN_ABI_MINOR;
    f->host.instance_id = instance_id;
    f->host.external_url = "";
    f->host.log = fake_log;
    f->host.fail = fake_fail;
    f->host.now_ms = fake_now;
    f->host.emit = fake_emit;
    f->host.emit_sized = fake_emit_sized;
    f->host.route = fake_route;
    f->host.route_self_auth = fake_route_self_auth;
    f->host.remember = fake_remember;
    f->host.state_get = fake_state_get;
    f->host.state_put = fake_state_put;
    f->host.state_delete = fake_state_delete;
    f->host.http_sized = fake_http_sized; /* http (1.0) left NULL: not to be used */
    f->host.http_free = fake_http_free;
    f->host.http_verdict = fake_verdict;
    f->now = now;
    f->status = 202;
    f->retry_after = -1;
    f->content_type = "application/json";
}

void fake_host_release(struct fake_host *f)
{
    int i;
    size_t j;

    for (i = 0; i < f->n_calls; i++) {
        free(f->calls[i].url);
        free(f->calls[i].body);
        for (j = 0; j < f->calls[i].n_headers; j++)
            free(f->calls[i].headers[j]);
    }
    f->n_calls = 0;
    for (i = 0; i < (int)(sizeof f->state / sizeof f->state[0]); i++) {
        free(f->state[i].key);
        free(f->state[i].value);
        f->state[i].key = f->state[i].value = NULL;
    }
}

const struct fake_call *fake_host_last_call(const struct fake_host *f)
{
    ck_assert_int_gt(f->n_calls, 0);
    return &f->calls[f->n_calls - 1];
}

int fake_host_has_header(const struct fake_host *f, const char *h)
{
    const struct fake_call *k = fake_host_last_call(f);
    size_t i;

    for (i = 0; i < k->n_headers; i++)
        if (strcmp(k->headers[i], h) == 0)
            return 1;
    return 0;
}

/* req.core carries the fake host, whose only header is Content-Type. */
static const char *fake_header(const struct tocsin_http_request *req, const char *name)
{
    const struct fake_host *f = req->core;

    return strcasecmp(name, "Content-Type") == 0 ? f->content_type : NULL;
}

void fake_host_post(struct fake_host *f, const char *body, struct tocsin_http_response *resp)
{
    struct tocsin_http_request req;

    ck_assert_ptr_nonnull(f->route_fn);
    memset(&req, 0, sizeof req);
    req.method = "POST";
    req.path = f->path;
    req.body = body;
    req.body_len = strlen(body);
    req.remote_addr = "127.0.0.1";
    req.header = fake_header;
    req.core = f;
    memset(resp, 0, sizeof *resp);
    ck_assert_int_eq(f->route_fn(f->route_self, &req, resp), TOCSIN_OK);
}

const struct tocsin_option *plugin_option(const char *name)
{
    const struct tocsin_option *o;

    for (o = tocsin_plugin.options; o->name; o++)
        if (strcmp(o->name, name) == 0)
            return o;
    ck_abort_msg("no option %s", name);
    return NULL;
}

void *plugin_field(void *conf, const char *name)
{
    return (char *)conf + plugin_option(name)->offset;
}

struct tocsin_verdict plugin_deliver(void *self, const struct tocsin_notification *n)
{
    struct tocsin_verdict v;

    memset(&v, 0, sizeof v);
    tocsin_plugin.deliver_sized(self, n, &v, sizeof v);
    return v;
}
