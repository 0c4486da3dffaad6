/* tests/abi/sink_v1_0.c: sink "abi10", built against the frozen 1.0 header:
 * a plugin binary compiled before 1.1. Each attempt POSTs a JSON object
 * to `url` through the 1.0 http(): the notification, the alert, and every
 * option as its conf struct holds it (so a test sees the core filled the
 * 1.0 table right), and what host->option() says. The first `retries`
 * attempts answer a RETRY verdict by value; then the core's http_verdict. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tocsin/plugin.h>

_Static_assert(TOCSIN_ABI_MINOR == 0, "not the frozen 1.0 header: -I tests/abi/v1_0 must come first");

struct abi10_conf {
    const char *url;
    const char *token;
    int64_t retries;
    int loud;
    int64_t pause;  /* ms */
    int64_t limit;  /* bytes */
    struct tocsin_strlist tags;
    struct tocsin_map extra;
};

static const struct tocsin_option abi10_options[] = {
    { "url", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_REQUIRED, offsetof(struct abi10_conf, url),
      "Where to POST." },
    { "token", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_SECRET, offsetof(struct abi10_conf, token),
      "Sent as X-Token." },
    { "retries", TOCSIN_OPT_INT, "1", 0, offsetof(struct abi10_conf, retries),
      "Attempts answered with a retry before the real verdict." },
    { "loud", TOCSIN_OPT_BOOL, "false", 0, offsetof(struct abi10_conf, loud), "A flag." },
    { "pause", TOCSIN_OPT_DURATION, "250ms", 0, offsetof(struct abi10_conf, pause),
      "A duration." },
    { "limit", TOCSIN_OPT_SIZE, "64k", 0, offsetof(struct abi10_conf, limit), "A size." },
    { "tags", TOCSIN_OPT_STRLIST, NULL, 0, offsetof(struct abi10_conf, tags), "A list." },
    { "extra", TOCSIN_OPT_MAP, NULL, 0, offsetof(struct abi10_conf, extra), "A map." },
    { 0 }
};

struct abi10 {
    const struct tocsin_host *host;
    const struct abi10_conf *conf;
};

static json_t *kv_json(const struct tocsin_kv *kv, size_t n)
{
    json_t *o = json_object();
    size_t i;

    for (i = 0; i < n; i++)
        json_object_set_new(o, kv[i].key, json_string(kv[i].value));
    return o;
}

static json_t *options_json(const struct abi10 *s)
{
    const struct abi10_conf *cf = s->conf;
    const struct tocsin_host *host = s->host;
    enum tocsin_opt_type type = 0;
    const int64_t *retries = host->option(host, "retries", &type);
    json_t *o = json_object(), *tags = json_array();
    size_t i;

    for (i = 0; i < cf->tags.n; i++)
        json_array_append_new(tags, json_string(cf->tags.items[i]));
    json_object_set_new(o, "token", json_string(cf->token ? cf->token : ""));
    json_object_set_new(o, "retries", json_integer(cf->retries));
    json_object_set_new(o, "loud", json_boolean(cf->loud));
    json_object_set_new(o, "pause_ms", json_integer(cf->pause));
    json_object_set_new(o, "limit", json_integer(cf->limit));
    json_object_set_new(o, "tags", tags);
    json_object_set_new(o, "extra", kv_json(cf->extra.items, cf->extra.n));
    /* host->option() hands out the same value, typed. */
    json_object_set_new(o, "option_fn_retries",
                        retries && type == TOCSIN_OPT_INT ? json_integer(*retries) : json_null());
    return o;
}

static char *payload(const struct abi10 *s, const struct tocsin_notification *n)
{
    const struct tocsin_alert *a = n->alert;
    json_t *alert = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "dedup_key", a->dedup_key,
                              "summary", a->summary ? a->summary : "", "severity",
                              tocsin_severity_name(a->severity), "status",
                              tocsin_status_name(a->status), "labels",
                              kv_json(a->labels, a->n_labels), "annotations",
                              kv_json(a->annotations, a->n_annotations));
    json_t *o = json_pack("{s:s, s:I, s:s, s:i, s:I, s:o, s:o}", "plugin", "abi10",
                          "incident_id", (json_int_t)n->incident_id, "action",
                          tocsin_action_name(n->action), "attempt", n->attempt, "outbox_id",
                          (json_int_t)n->outbox_id, "alert", alert, "options",
                          options_json(s));
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

    json_decref(o);
    return text;
}

static struct tocsin_verdict abi10_deliver(void *self, const struct tocsin_notification *n)
{
    struct abi10 *s = self;
    const struct tocsin_host *host = s->host;
    char key[64], token[128];
    const char *headers[4];
    struct tocsin_http_call call = { "POST", s->conf->url, headers, NULL, 0, 0 };
    struct tocsin_http_result res;
    struct tocsin_verdict v;
    char *body = payload(s, n);

    if (!body)
        return tocsin_retry(0, "out of memory");
    snprintf(key, sizeof key, "Idempotency-Key: tocsin-%lld", (long long)n->outbox_id);
    snprintf(token, sizeof token, "X-Token: %s", s->conf->token ? s->conf->token : "");
    headers[0] = "Content-Type: application/json";
    headers[1] = key;
    headers[2] = token;
    headers[3] = NULL;
    call.body = body;
    call.body_len = strlen(body);
    host->http(host, &call, &res);
    if (n->attempt <= s->conf->retries)
        v = tocsin_retry(0, "abi10 asks for a retry (attempt %d)", n->attempt);
    else
        v = host->http_verdict(host, &res);
    host->http_free(host, &res);
    free(body);
    return v;
}

static int abi10_create(const struct tocsin_host *host, const void *conf, void **self)
{
    struct abi10 *s = calloc(1, sizeof *s);

    if (!s)
        return TOCSIN_ENOMEM;
    s->host = host;
    s->conf = conf;
    *self = s;
    return TOCSIN_OK;
}

static void abi10_destroy(void *self)
{
    free(self);
}

const struct tocsin_plugin tocsin_plugin = {
    TOCSIN_PLUGIN_HEADER,
    .kind = TOCSIN_SINK,
    .name = "abi10",
    .version = "1.0.0",
    .description = "test sink built against the 1.0 header",
    .options = abi10_options,
    .conf_size = sizeof(struct abi10_conf),
    .create = abi10_create,
    .deliver = abi10_deliver,
    .destroy = abi10_destroy,
};
