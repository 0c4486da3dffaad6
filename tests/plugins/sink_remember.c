/* tests/plugins/sink_remember.c: a sink that remembers a ref per incident
 * (ABI 1.1 host->remember) and posts what it was handed, for
 * tests/integration/test_remember.c. Each delivery POSTs
 * {"action", "incident", "attempt", "ref", "test"} to url; a trigger
 * remembers "ref-<incident>-<attempt>" before the peer answers, so a
 * retried trigger shows which attempt's ref was kept. forget = true makes
 * an acknowledge forget the ref. */
#define _GNU_SOURCE
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tocsin/plugin.h>

struct rem_conf {
    const char *url;
    int forget;
};

static const struct tocsin_option rem_options[] = {
    { "url", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_REQUIRED, offsetof(struct rem_conf, url),
      "Where each delivery is posted." },
    { "forget", TOCSIN_OPT_BOOL, "false", 0, offsetof(struct rem_conf, forget),
      "An acknowledge forgets the ref." },
    { 0 }
};

struct rem {
    const struct tocsin_host *host;
    const struct rem_conf *conf;
};

static int rem_create(const struct tocsin_host *host, const void *conf, void **self)
{
    struct rem *r;

    if (!TOCSIN_HOST_HAS(host, remember) || !TOCSIN_HOST_HAS(host, http_sized))
        return host->fail(host, "needs tocsin ABI 1.1 (host has %u.%u)",
                          (unsigned)host->abi_major, (unsigned)host->abi_minor);
    if (!(r = calloc(1, sizeof *r)))
        return TOCSIN_ENOMEM;
    r->host = host;
    r->conf = conf;
    *self = r;
    return TOCSIN_OK;
}

static void rem_deliver(void *self, const struct tocsin_notification *n,
                        struct tocsin_verdict *v, size_t verdict_size)
{
    struct rem *r = self;
    const struct tocsin_host *host = r->host;
    struct tocsin_http_call call;
    struct tocsin_http_result res;
    char key[64], ref[64], *body;
    const char *headers[] = { "Content-Type: application/json", key, NULL };
    json_t *o;

    if (n->action == TOCSIN_ACT_TRIGGER) {
        snprintf(ref, sizeof ref, "ref-%lld-%d", (long long)n->incident_id, n->attempt);
        host->remember(host, n, ref);
    } else if (n->action == TOCSIN_ACT_ACKNOWLEDGE && r->conf->forget) {
        host->remember(host, n, NULL);
    }
    o = json_pack("{s:s, s:I, s:i, s:s?, s:b}", "action", tocsin_action_name(n->action),
                  "incident", (json_int_t)n->incident_id, "attempt", n->attempt, "ref", n->ref,
                  "test", n->test);
    body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!body) {
        tocsin_verdict_put(v, verdict_size, tocsin_retry(0, "out of memory"));
        return;
    }
    snprintf(key, sizeof key, "Idempotency-Key: tocsin-%lld", (long long)n->outbox_id);
    memset(&call, 0, sizeof call);
    call.method = "POST";
    call.url = r->conf->url;
    call.headers = headers;
    call.body = body;
    call.body_len = strlen(body);
    host->http_sized(host, &call, sizeof call, &res, sizeof res);
    tocsin_verdict_put(v, verdict_size, host->http_verdict(host, &res));
    host->http_free(host, &res);
    free(body);
}

static void rem_destroy(void *self)
{
    free(self);
}

const struct tocsin_plugin tocsin_plugin = {
    TOCSIN_PLUGIN_HEADER,
    .kind = TOCSIN_SINK,
    .name = "remember",
    .version = "1",
    .description = "test: remembers a ref per incident and posts what it sees",
    .options = rem_options,
    .conf_size = sizeof(struct rem_conf),
    .create = rem_create,
    .destroy = rem_destroy,
    .deliver_sized = rem_deliver,
};
