/* fake_host.c: see fake_host.h. */
#define _GNU_SOURCE
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
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
    (void)h;
    (void)level;
    (void)fmt;
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

static int fake_route(const struct tocsin_host *h, const char *method, const char *path,
                      tocsin_route_fn fn, void *self)
{
    struct fake_host *f = fake_of(h);

    f->routes++;
    snprintf(f->method, sizeof f->method, "%s", method);
    snprintf(f->path, sizeof f->path, "%s", path);
    f->route_fn = fn;
    f->route_self = self;
    return TOCSIN_OK;
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
    f->host.route = fake_route;
    f->now = now;
    f->content_type = "application/json";
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
