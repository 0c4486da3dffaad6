/* tests/abi/input_v1_1.c: input "abi11", built against today's header and
 * acting like a plugin of a later minor: its alerts are a wider struct
 * (struct tocsin_alert, then members the core does not know) handed over
 * with emit_sized(). POST <path> with a word emits abi11-<word>-a and -b;
 * the word "narrow" passes an alert_size below 1.0's instead, and the
 * answer carries the core's refusal. create() needs emit_sized: on an
 * older host it fails clearly (tests/abi/old_host.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tocsin/plugin.h>

_Static_assert(TOCSIN_ABI_MINOR >= 1, "needs the 1.1 header");

struct abi11_conf {
    const char *path;
};

static const struct tocsin_option abi11_options[] = {
    { "path", TOCSIN_OPT_STRING, "/abi11/alerts", 0, offsetof(struct abi11_conf, path),
      "Path of the route." },
    { 0 }
};

/* An alert as a later minor might lay it out. The core must step over the
 * extra members, and never read them. */
struct later_alert {
    struct tocsin_alert a;
    int64_t later_number;
    const char *later_text;
};

struct abi11 {
    const struct tocsin_host *host;
};

static char *answer(const char *fmt, const char *text)
{
    size_t len = strlen(fmt) + strlen(text) + 1;
    char *s = malloc(len);

    if (s)
        snprintf(s, len, fmt, text);
    return s;
}

static int abi11_post(void *self, const struct tocsin_http_request *req,
                      struct tocsin_http_response *resp)
{
    struct abi11 *in = self;
    static const struct tocsin_kv labels_a[] = { { "alertname", "QueueStuck" },
                                                 { "instance", "mq1" } };
    static const struct tocsin_kv notes_a[] = { { "description", "queue depth 10k" } };
    static const struct tocsin_kv labels_b[] = { { "alertname", "CertExpiry" },
                                                 { "instance", "lb1" } };
    static const struct tocsin_kv notes_b[] = { { "runbook_url", "https://runbooks.example/tls" } };
    struct later_alert alerts[2];
    char word[64], key_a[96], key_b[96], err[256];
    size_t alert_size = sizeof alerts[0];
    int rc;

    snprintf(word, sizeof word, "%.*s", (int)(req->body_len < 63 ? req->body_len : 63),
             req->body ? req->body : "");
    snprintf(key_a, sizeof key_a, "abi11-%s-a", word);
    snprintf(key_b, sizeof key_b, "abi11-%s-b", word);
    memset(alerts, 0x5a, sizeof alerts); /* no member left unset by accident */
    memset(&alerts[0].a, 0, sizeof alerts[0].a);
    memset(&alerts[1].a, 0, sizeof alerts[1].a);
    alerts[0].a.dedup_key = key_a;
    alerts[0].a.status = TOCSIN_FIRING;
    alerts[0].a.severity = TOCSIN_SEV_CRITICAL;
    alerts[0].a.summary = "queue stuck on mq1";
    alerts[0].a.service = "queue";
    alerts[0].a.labels = labels_a;
    alerts[0].a.n_labels = 2;
    alerts[0].a.annotations = notes_a;
    alerts[0].a.n_annotations = 1;
    alerts[0].later_text = "not for a 1.1 core";
    alerts[1].a.dedup_key = key_b;
    alerts[1].a.status = TOCSIN_FIRING;
    alerts[1].a.severity = TOCSIN_SEV_MEDIUM;
    alerts[1].a.summary = "certificate expires on lb1";
    alerts[1].a.labels = labels_b;
    alerts[1].a.n_labels = 2;
    alerts[1].a.annotations = notes_b;
    alerts[1].a.n_annotations = 1;
    alerts[1].later_text = "not for a 1.1 core either";
    if (strcmp(word, "narrow") == 0)
        alert_size = TOCSIN_ALERT_SIZE_1_0 - sizeof(int64_t);

    rc = in->host->emit_sized(in->host, alerts, 2, alert_size, err, sizeof err);
    if (rc != TOCSIN_OK) {
        resp->status = rc == TOCSIN_EINVAL ? 400 : 503;
        resp->body = answer("{\"error\": \"%s\"}", err);
        return TOCSIN_OK;
    }
    resp->status = 202;
    resp->body = answer("{\"emitted\": 2, \"word\": \"%s\"}", word);
    return TOCSIN_OK;
}

static int abi11_create(const struct tocsin_host *host, const void *conf, void **self)
{
    const struct abi11_conf *cf = conf;
    struct abi11 *in;
    int rc;

    if (!TOCSIN_HOST_HAS(host, emit_sized)) {
        host->fail(host, "needs tocsin ABI 1.1 (host has %u.%u)", (unsigned)host->abi_major,
                   (unsigned)host->abi_minor);
        return TOCSIN_ENOTSUP;
    }
    if (!(in = calloc(1, sizeof *in)))
        return TOCSIN_ENOMEM;
    in->host = host;
    rc = host->route(host, "POST", cf->path, abi11_post, in);
    if (rc != TOCSIN_OK) {
        free(in);
        return rc;
    }
    *self = in;
    return TOCSIN_OK;
}

static void abi11_destroy(void *self)
{
    free(self);
}

const struct tocsin_plugin tocsin_plugin = {
    TOCSIN_PLUGIN_HEADER,
    .kind = TOCSIN_INPUT,
    .name = "abi11",
    .version = "1.1.0",
    .description = "test input using emit_sized with a wider alert",
    .options = abi11_options,
    .conf_size = sizeof(struct abi11_conf),
    .create = abi11_create,
    .destroy = abi11_destroy,
};
