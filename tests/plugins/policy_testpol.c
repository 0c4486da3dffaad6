/* tests/plugins/policy_testpol.c: a policy serving API routes with path
 * parameters (ABI 1.1), each answering with what the core handed it:
 * which route ran, the method, the path, its parameters, the body and the
 * X-Test header, as JSON. Options pick the parameter's name and whether
 * the exact and '*' routes beside them are registered, so a second
 * instance can register a conflicting or malformed pattern. */
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tocsin/plugin.h>

struct testpol_conf {
    const char *id_name;
    int extras;
};

static const struct tocsin_option testpol_options[] = {
    { "id_name", TOCSIN_OPT_STRING, "id", 0, offsetof(struct testpol_conf, id_name),
      "Name of the first path parameter ({id})." },
    { "extras", TOCSIN_OPT_BOOL, "true", 0, offsetof(struct testpol_conf, extras),
      "Also serve the exact /api/v1/testpol/list and the prefix /api/v1/testpol/*." },
    { 0 }
};

struct testpol {
    char id_name[64];
};

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* The echo; route says which registration ran. */
static int echo(const struct testpol *t, const char *route,
                const struct tocsin_http_request *req, struct tocsin_http_response *resp)
{
    json_t *o = json_object();

    json_object_set_new(o, "route", json_string(route));
    json_object_set_new(o, "method", json_string(req->method));
    json_object_set_new(o, "path", json_string(req->path));
    json_object_set_new(o, "id", str_or_null(req->param(req, t->id_name)));
    json_object_set_new(o, "name", str_or_null(req->param(req, "name")));
    json_object_set_new(o, "unknown", str_or_null(req->param(req, "nope")));
    json_object_set_new(o, "body", json_stringn(req->body, req->body_len));
    json_object_set_new(o, "x_test", str_or_null(req->header(req, "X-Test")));
    json_object_set_new(o, "content_type", str_or_null(req->header(req, "Content-Type")));
    resp->status = strcmp(req->method, "POST") == 0 ? 201 : 200;
    resp->body = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return resp->body ? TOCSIN_OK : TOCSIN_ENOMEM;
}

static int on_one(void *self, const struct tocsin_http_request *req,
                  struct tocsin_http_response *resp)
{
    return echo(self, "one", req, resp);
}

static int on_sub(void *self, const struct tocsin_http_request *req,
                  struct tocsin_http_response *resp)
{
    return echo(self, "sub", req, resp);
}

static int on_exact(void *self, const struct tocsin_http_request *req,
                    struct tocsin_http_response *resp)
{
    return echo(self, "exact", req, resp);
}

static int on_prefix(void *self, const struct tocsin_http_request *req,
                     struct tocsin_http_response *resp)
{
    return echo(self, "prefix", req, resp);
}

static int testpol_create(const struct tocsin_host *host, const void *conf, void **out)
{
    static const char *const methods[] = { "GET", "POST", "DELETE" };
    const struct testpol_conf *cf = conf;
    struct testpol *t = calloc(1, sizeof *t);
    char one[128], sub[160];
    size_t i;

    if (!t)
        return TOCSIN_ENOMEM;
    *out = t;
    snprintf(t->id_name, sizeof t->id_name, "%s", cf->id_name);
    snprintf(one, sizeof one, "/api/v1/testpol/{%s}", cf->id_name);
    snprintf(sub, sizeof sub, "/api/v1/testpol/{%s}/sub/{name}", cf->id_name);
    for (i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        if (host->route(host, methods[i], one, on_one, t) != TOCSIN_OK ||
            host->route(host, methods[i], sub, on_sub, t) != TOCSIN_OK)
            goto refused;
    }
    if (cf->extras && (host->route(host, "GET", "/api/v1/testpol/list", on_exact, t) != TOCSIN_OK ||
                       host->route(host, "GET", "/api/v1/testpol/*", on_prefix, t) != TOCSIN_OK))
        goto refused;
    return TOCSIN_OK;

refused: /* the core said why; a failed create is not destroyed, and the
          * daemon serves nothing after it */
    free(t);
    *out = NULL;
    return TOCSIN_EINVAL;
}

static void testpol_destroy(void *self)
{
    free(self);
}

static int testpol_evaluate(void *self, const struct tocsin_alert *alert,
                            struct tocsin_policy_result *res)
{
    (void)self;
    (void)alert;
    res->decision = TOCSIN_PASS;
    return TOCSIN_OK;
}

const struct tocsin_plugin tocsin_plugin = {
    TOCSIN_PLUGIN_HEADER,
    .kind = TOCSIN_POLICY, .name = "testpol", .version = "1.0.0",
    .description = "A policy for tests whose API routes echo their path parameters.",
    .options = testpol_options, .conf_size = sizeof(struct testpol_conf),
    .create = testpol_create, .destroy = testpol_destroy, .evaluate = testpol_evaluate,
};
