/* tests/abi/input_v1_0.c: input "abi10", built against the frozen 1.0
 * header: a plugin binary compiled before 1.1. POST <path> with a word as
 * the body emits two alerts (labels, annotations, links) through the 1.0
 * emit(), with dedup keys abi10-<word>-a and abi10-<word>-b. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tocsin/plugin.h>

_Static_assert(TOCSIN_ABI_MINOR == 0, "not the frozen 1.0 header: -I tests/abi/v1_0 must come first");

struct abi10_conf {
    const char *path;
};

static const struct tocsin_option abi10_options[] = {
    { "path", TOCSIN_OPT_STRING, "/abi10/alerts", 0, offsetof(struct abi10_conf, path),
      "Path of the route." },
    { 0 }
};

struct abi10 {
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

static int abi10_post(void *self, const struct tocsin_http_request *req,
                      struct tocsin_http_response *resp)
{
    struct abi10 *in = self;
    static const struct tocsin_kv labels_a[] = { { "alertname", "DiskFull" },
                                                 { "instance", "db1" } };
    static const struct tocsin_kv notes_a[] = { { "runbook_url", "https://runbooks.example/disk" },
                                                { "description", "disk 97% full" } };
    static const struct tocsin_kv links_a[] = { { "generator", "https://prom.example/g" } };
    static const struct tocsin_kv labels_b[] = { { "alertname", "CpuHot" },
                                                 { "instance", "web1" } };
    static const struct tocsin_kv notes_b[] = { { "description", "cpu 91%" } };
    struct tocsin_alert alerts[2];
    char word[64], key_a[96], key_b[96], err[256];
    int64_t now = in->host->now_ms(in->host);
    int rc;

    snprintf(word, sizeof word, "%.*s", (int)(req->body_len < 63 ? req->body_len : 63),
             req->body ? req->body : "");
    snprintf(key_a, sizeof key_a, "abi10-%s-a", word);
    snprintf(key_b, sizeof key_b, "abi10-%s-b", word);
    memset(alerts, 0, sizeof alerts);
    alerts[0].dedup_key = key_a;
    alerts[0].status = TOCSIN_FIRING;
    alerts[0].severity = TOCSIN_SEV_HIGH;
    alerts[0].summary = "disk full on db1";
    alerts[0].details = "from a 1.0 plugin binary";
    alerts[0].service = "storage";
    alerts[0].labels = labels_a;
    alerts[0].n_labels = 2;
    alerts[0].annotations = notes_a;
    alerts[0].n_annotations = 2;
    alerts[0].links = links_a;
    alerts[0].n_links = 1;
    alerts[0].started_at = now - 60000;
    alerts[1].dedup_key = key_b;
    alerts[1].status = TOCSIN_FIRING;
    alerts[1].severity = TOCSIN_SEV_LOW;
    alerts[1].summary = "cpu hot on web1";
    alerts[1].labels = labels_b;
    alerts[1].n_labels = 2;
    alerts[1].annotations = notes_b;
    alerts[1].n_annotations = 1;
    alerts[1].started_at = now - 1000;

    rc = in->host->emit(in->host, alerts, 2, err, sizeof err);
    if (rc != TOCSIN_OK) {
        resp->status = rc == TOCSIN_EINVAL ? 400 : 503;
        resp->body = answer("{\"error\": \"%s\"}", err);
        return TOCSIN_OK;
    }
    resp->status = 202;
    resp->body = answer("{\"emitted\": 2, \"word\": \"%s\"}", word);
    return TOCSIN_OK;
}

static int abi10_create(const struct tocsin_host *host, const void *conf, void **self)
{
    const struct abi10_conf *cf = conf;
    struct abi10 *in = calloc(1, sizeof *in);
    int rc;

    if (!in)
        return TOCSIN_ENOMEM;
    in->host = host;
    rc = host->route(host, "POST", cf->path, abi10_post, in);
    if (rc != TOCSIN_OK) {
        free(in);
        return rc;
    }
    *self = in;
    return TOCSIN_OK;
}

static void abi10_destroy(void *self)
{
    free(self);
}

const struct tocsin_plugin tocsin_plugin = {
    TOCSIN_PLUGIN_HEADER,
    .kind = TOCSIN_INPUT,
    .name = "abi10",
    .version = "1.0.0",
    .description = "test input built against the 1.0 header",
    .options = abi10_options,
    .conf_size = sizeof(struct abi10_conf),
    .create = abi10_create,
    .destroy = abi10_destroy,
};
