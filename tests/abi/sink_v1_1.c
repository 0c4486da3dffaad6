/* tests/abi/sink_v1_1.c: sink "abi11", built against today's header and
 * acting like a plugin of a later minor: deliver_sized() writes its verdict
 * with tocsin_verdict_put, and http_sized() gets a call and a result wider
 * than 1.1's (members the core must neither read nor leave unzeroed).
 * http(s):// URLs get a JSON POST; smtp(s):// ones a mail to mail_from /
 * mail_rcpt. The first `retries` attempts answer a RETRY, then the core's
 * http_verdict. short_call = true passes only the 1.0 part of the call (the
 * envelope is then absent to the core). Its 1.0 deliver() is there for a
 * 1.0 host's loader, and says so if a 1.1 core ever calls it. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <tocsin/plugin.h>

_Static_assert(TOCSIN_ABI_MINOR >= 1, "needs the 1.1 header");

struct abi11_conf {
    const char *url;
    int64_t retries;
    const char *mail_from;
    struct tocsin_strlist mail_rcpt;
    int short_call;
};

static const struct tocsin_option abi11_options[] = {
    { "url", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_REQUIRED, offsetof(struct abi11_conf, url),
      "http(s):// to POST to, or smtp(s):// to mail through." },
    { "retries", TOCSIN_OPT_INT, "1", 0, offsetof(struct abi11_conf, retries),
      "Attempts answered with a retry before the real verdict." },
    { "mail_from", TOCSIN_OPT_STRING, NULL, 0, offsetof(struct abi11_conf, mail_from),
      "Envelope sender for smtp(s)://." },
    { "mail_rcpt", TOCSIN_OPT_STRLIST, NULL, 0, offsetof(struct abi11_conf, mail_rcpt),
      "Envelope recipients for smtp(s)://." },
    { "short_call", TOCSIN_OPT_BOOL, "false", 0, offsetof(struct abi11_conf, short_call),
      "Pass call_size as 1.0's." },
    { 0 }
};

/* A call and a result as a later minor might lay them out. */
struct later_call {
    struct tocsin_http_call c;
    const char *later;
};

struct later_result {
    struct tocsin_http_result r;
    unsigned char later[16];
};

struct abi11 {
    const struct tocsin_host *host;
    const struct abi11_conf *conf;
    int smtp;
    const char **rcpt; /* NULL-terminated copy of mail_rcpt */
};

static json_t *kv_json(const struct tocsin_kv *kv, size_t n)
{
    json_t *o = json_object();
    size_t i;

    for (i = 0; i < n; i++)
        json_object_set_new(o, kv[i].key, json_string(kv[i].value));
    return o;
}

static char *json_payload(const struct tocsin_notification *n)
{
    const struct tocsin_alert *a = n->alert;
    json_t *alert = json_pack("{s:s, s:s, s:s, s:o, s:o}", "dedup_key", a->dedup_key, "summary",
                              a->summary ? a->summary : "", "severity",
                              tocsin_severity_name(a->severity), "labels",
                              kv_json(a->labels, a->n_labels), "annotations",
                              kv_json(a->annotations, a->n_annotations));
    json_t *o = json_pack("{s:s, s:I, s:s, s:i, s:I, s:o}", "plugin", "abi11", "incident_id",
                          (json_int_t)n->incident_id, "action", tocsin_action_name(n->action),
                          "attempt", n->attempt, "outbox_id", (json_int_t)n->outbox_id, "alert",
                          alert);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

    json_decref(o);
    return text;
}

/* RFC 5322: header lines, a blank line, the text; CRLF line ends. */
static char *mail_payload(const struct abi11 *s, const struct tocsin_notification *n)
{
    const char *summary = n->alert->summary ? n->alert->summary : "";
    const char *fmt = "From: tocsin %s\r\n"
                      "To: undisclosed-recipients:;\r\n"
                      "Subject: [tocsin] %s: %s\r\n"
                      "\r\n"
                      "incident %lld %s: %s\r\n";
    size_t len = strlen(fmt) + strlen(s->conf->mail_from) + 2 * strlen(summary) + 64;
    char *text = malloc(len);

    if (text)
        snprintf(text, len, fmt, s->conf->mail_from, tocsin_action_name(n->action), summary,
                 (long long)n->incident_id, tocsin_action_name(n->action), summary);
    return text;
}

static void abi11_deliver_sized(void *self, const struct tocsin_notification *n,
                                struct tocsin_verdict *v, size_t verdict_size)
{
    struct abi11 *s = self;
    const struct tocsin_host *host = s->host;
    struct later_call call;
    struct later_result res;
    char key[64];
    const char *headers[3];
    char *body;
    size_t i;

    /* The core's verdict comes zeroed: "done" until written. */
    if (verdict_size < TOCSIN_VERDICT_SIZE_1_0 || v->kind != TOCSIN_DONE || v->reason[0]) {
        tocsin_verdict_put(v, verdict_size, tocsin_failed("the core's verdict was not zeroed"));
        return;
    }
    body = s->smtp ? mail_payload(s, n) : json_payload(n);
    if (!body) {
        tocsin_verdict_put(v, verdict_size, tocsin_retry(0, "out of memory"));
        return;
    }
    snprintf(key, sizeof key, "Idempotency-Key: tocsin-%lld", (long long)n->outbox_id);
    headers[0] = "Content-Type: application/json";
    headers[1] = key;
    headers[2] = NULL;
    memset(&call, 0x5a, sizeof call); /* `later` is garbage the core must not read */
    call.c.method = "POST";
    call.c.url = s->conf->url;
    call.c.headers = headers;
    call.c.body = body;
    call.c.body_len = strlen(body);
    call.c.timeout_ms = 0;
    call.c.mail_from = s->conf->mail_from;
    call.c.mail_rcpt = s->rcpt;
    call.c.username = NULL;
    call.c.password = NULL;
    call.c.starttls = TOCSIN_TLS_OFF;
    call.c.ca_file = NULL;
    memset(&res, 0x5a, sizeof res); /* the core zeroes all of it */
    host->http_sized(host, &call.c, s->conf->short_call ? TOCSIN_HTTP_CALL_SIZE_1_0 : sizeof call,
                     &res.r, sizeof res);
    for (i = 0; i < sizeof res.later; i++)
        if (res.later[i] != 0)
            break;
    if (i < sizeof res.later)
        tocsin_verdict_put(v, verdict_size,
                           tocsin_failed("http_sized left byte %zu past its result unzeroed", i));
    else if (n->attempt <= s->conf->retries)
        tocsin_verdict_put(v, verdict_size,
                           tocsin_retry(0, "abi11 asks for a retry (attempt %d)", n->attempt));
    else
        tocsin_verdict_put(v, verdict_size, host->http_verdict(host, &res.r));
    host->log(host, TOCSIN_LOG_INFO, "incident %lld attempt %d: status %ld%s%s",
              (long long)n->incident_id, n->attempt, res.r.status, res.r.error[0] ? ": " : "",
              res.r.error);
    host->http_free(host, &res.r);
    free(body);
}

static struct tocsin_verdict abi11_deliver(void *self, const struct tocsin_notification *n)
{
    return tocsin_failed("deliver (1.0) called although deliver_sized is set");
}

static int abi11_create(const struct tocsin_host *host, const void *conf, void **self)
{
    const struct abi11_conf *cf = conf;
    struct abi11 *s;
    size_t i;

    if (!TOCSIN_HOST_HAS(host, http_sized)) {
        host->fail(host, "needs tocsin ABI 1.1 (host has %u.%u)", (unsigned)host->abi_major,
                   (unsigned)host->abi_minor);
        return TOCSIN_ENOTSUP;
    }
    if (!(s = calloc(1, sizeof *s)))
        return TOCSIN_ENOMEM;
    s->host = host;
    s->conf = cf;
    s->smtp = strncasecmp(cf->url, "smtp://", 7) == 0 || strncasecmp(cf->url, "smtps://", 8) == 0;
    if (s->smtp && (!cf->mail_from || cf->mail_rcpt.n == 0)) {
        free(s);
        return host->fail(host, "an smtp(s):// url needs mail_from and mail_rcpt");
    }
    if (!(s->rcpt = calloc(cf->mail_rcpt.n + 1, sizeof *s->rcpt))) {
        free(s);
        return TOCSIN_ENOMEM;
    }
    for (i = 0; i < cf->mail_rcpt.n; i++)
        s->rcpt[i] = cf->mail_rcpt.items[i];
    *self = s;
    return TOCSIN_OK;
}

static void abi11_destroy(void *self)
{
    struct abi11 *s = self;

    free(s->rcpt);
    free(s);
}

const struct tocsin_plugin tocsin_plugin = {
    TOCSIN_PLUGIN_HEADER,
    .kind = TOCSIN_SINK,
    .name = "abi11",
    .version = "1.1.0",
    .description = "test sink using deliver_sized and http_sized with wider structs",
    .options = abi11_options,
    .conf_size = sizeof(struct abi11_conf),
    .create = abi11_create,
    .deliver = abi11_deliver,
    .destroy = abi11_destroy,
    .deliver_sized = abi11_deliver_sized,
};
