/* twilio.c: the `twilio` sink: an SMS to every number of `to` for each
 * notification, and on a trigger with `call = true` a voice call to each
 * that reads the summary. Twilio's REST API (2010-04-01): form-encoded
 * POSTs to Messages.json and Calls.json under the account, HTTP basic auth
 * with the Account SID and Auth Token, 201 for a created message or call.
 * Texts are format.c's; which recipients a retried notification already
 * reached is ledger.c's. The auth token is never logged. */
#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <tocsin/plugin.h>

#include "format.h"
#include "ledger.h"

#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

struct twilio_conf {
    const char *account_sid;
    const char *auth_token;
    const char *from;
    struct tocsin_strlist to;
    const char *api_url;
    int call;
};

static const struct tocsin_option twilio_options[] = {
    { "account_sid", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_REQUIRED,
      offsetof(struct twilio_conf, account_sid),
      "The Account SID (\"AC\" and 32 hex digits): the user of HTTP basic auth, and part "
      "of every request path." },
    { "auth_token", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_REQUIRED | TOCSIN_OPT_SECRET,
      offsetof(struct twilio_conf, auth_token),
      "The account's Auth Token, the password of HTTP basic auth (secret: use "
      "\"env:NAME\" or \"file:PATH\")." },
    { "from", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_REQUIRED, offsetof(struct twilio_conf, from),
      "The Twilio number messages and calls come from, E.164 (+14155550100)." },
    { "to", TOCSIN_OPT_STRLIST, NULL, TOCSIN_OPT_REQUIRED, offsetof(struct twilio_conf, to),
      "The numbers to page, E.164 ('+' and 8 to 15 digits): one SMS each per notification." },
    { "api_url", TOCSIN_OPT_STRING, "https://api.twilio.com", 0,
      offsetof(struct twilio_conf, api_url),
      "Base URL of Twilio's REST API: requests go to "
      "{api_url}/2010-04-01/Accounts/{account_sid}/Messages.json and Calls.json." },
    { "call", TOCSIN_OPT_BOOL, "false", 0, offsetof(struct twilio_conf, call),
      "Also call each number on a trigger and read the summary (acknowledge and "
      "resolve send an SMS only)." },
    { 0 }
};

static const char *const request_headers[] = {
    "Content-Type: application/x-www-form-urlencoded",
    "Accept: application/json",
    "User-Agent: tocsin/1",
    NULL,
};

struct twilio {
    const struct tocsin_host *host;
    const struct twilio_conf *conf;
    char *messages_url, *calls_url;
};

static void twilio_destroy(void *self)
{
    struct twilio *tw = self;

    free(tw->messages_url);
    free(tw->calls_url);
    free(tw);
}

/* {api_url}/2010-04-01/Accounts/{sid}/{resource}, malloc()ed. */
static char *resource_url(const char *base, size_t base_len, const char *sid,
                          const char *resource)
{
    size_t len = base_len + strlen(sid) + strlen(resource) + 32;
    char *url = malloc(len);

    if (url)
        snprintf(url, len, "%.*s/2010-04-01/Accounts/%s/%s", (int)base_len, base, sid,
                 resource);
    return url;
}

/* http://localhost..., http://127.x..., http://[::1]...: a test peer. */
static int loopback_url(const char *url)
{
    const char *h = url + strlen("http://");

    return strncmp(h, "127.", 4) == 0 || strncasecmp(h, "localhost", 9) == 0 ||
           strncmp(h, "[::1]", 5) == 0;
}

static int check_conf(const struct tocsin_host *host, const struct twilio_conf *cf)
{
    size_t i, j;

    /* Not the value: a token pasted into the wrong option stays unprinted. */
    if (!twilio_account_sid_ok(cf->account_sid))
        return host->fail(host, "account_sid must be \"AC\" followed by 32 hex digits, "
                                "the Account SID of the Twilio console");
    if (!cf->auth_token || !*cf->auth_token)
        return host->fail(host, "auth_token must not be empty");
    if (!twilio_e164_ok(cf->from))
        return host->fail(host,
                          "from: \"%.40s\" is not an E.164 number ('+' and 8 to 15 digits, "
                          "e.g. +14155550100)", cf->from ? cf->from : "");
    if (cf->to.n == 0)
        return host->fail(host, "to must name at least one number");
    for (i = 0; i < cf->to.n; i++) {
        const char *to = cf->to.items[i];

        if (!twilio_e164_ok(to))
            return host->fail(host,
                              "to: \"%.40s\" (item %zu) is not an E.164 number ('+' and 8 to "
                              "15 digits, e.g. +14155550100)", to ? to : "", i + 1);
        for (j = 0; j < i; j++)
            if (strcmp(cf->to.items[j], to) == 0)
                return host->fail(host, "to: %s is listed twice (items %zu and %zu)", to,
                                  j + 1, i + 1);
    }
    if (!cf->api_url || (strncasecmp(cf->api_url, "https://", 8) != 0 &&
                         strncasecmp(cf->api_url, "http://", 7) != 0))
        return host->fail(host, "api_url must start with https:// (or http:// for a local "
                                "test peer)");
    if (strpbrk(cf->api_url, "?#"))
        return host->fail(host, "api_url must be a base URL, without a query or fragment");
    return TOCSIN_OK;
}

static int twilio_create(const struct tocsin_host *host, const void *conf, void **self)
{
    const struct twilio_conf *cf = conf;
    struct twilio *tw;
    size_t base_len;

    if (!TOCSIN_HOST_HAS(host, http_sized)) {
        host->fail(host, "needs tocsin plugin ABI 1.1 (host has %u.%u)",
                   (unsigned)host->abi_major, (unsigned)host->abi_minor);
        return TOCSIN_ENOTSUP;
    }
    if (check_conf(host, cf) != TOCSIN_OK)
        return TOCSIN_ERROR;
    if (strncasecmp(cf->api_url, "http://", 7) == 0 && !loopback_url(cf->api_url))
        host->log(host, TOCSIN_LOG_WARN,
                  "api_url is plain http: the auth token crosses the network unencrypted");
    if (!host->state_get || !host->state_put || !host->state_delete)
        host->log(host, TOCSIN_LOG_WARN, "the host keeps no plugin state: a retried "
                                         "notification goes to every number again");

    tw = calloc(1, sizeof *tw);
    if (!tw)
        return TOCSIN_ENOMEM;
    tw->host = host;
    tw->conf = cf;
    base_len = strlen(cf->api_url);
    while (base_len > 0 && cf->api_url[base_len - 1] == '/')
        base_len--;
    tw->messages_url = resource_url(cf->api_url, base_len, cf->account_sid, "Messages.json");
    tw->calls_url = resource_url(cf->api_url, base_len, cf->account_sid, "Calls.json");
    if (!tw->messages_url || !tw->calls_url) {
        twilio_destroy(tw);
        return TOCSIN_ENOMEM;
    }
    *self = tw;
    return TOCSIN_OK;
}

/* vsnprintf that never leaves half a UTF-8 character at a cut. */
TOCSIN_PRINTF(3, 4)
static void say(char *out, size_t len, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(out, len, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n >= len) {
        size_t k = strlen(out), back = 0;

        while (k > 0 && back < 3 && ((unsigned char)out[k - 1] & 0xc0) == 0x80) {
            k--;
            back++;
        }
        if (k > 0 && (unsigned char)out[k - 1] >= 0xc0 &&
            tc_utf8_seq((const unsigned char *)out + k - 1) == 0)
            out[k - 1] = '\0';
    }
}

/* One created message or call: the verdict, the Twilio SID on success. */
static struct tocsin_verdict post(struct twilio *tw, const char *url, const char *form,
                                  char *sid, size_t sid_len, long *status)
{
    const struct tocsin_host *host = tw->host;
    struct tocsin_http_call call;
    struct tocsin_http_result res;
    struct tocsin_verdict v;
    char text[sizeof v.reason];

    memset(&call, 0, sizeof call);
    call.method = "POST";
    call.url = url;
    call.headers = request_headers;
    call.body = form;
    call.body_len = strlen(form);
    call.username = tw->conf->account_sid;
    call.password = tw->conf->auth_token;
    memset(&res, 0, sizeof res);
    res.retry_after = -1;
    host->http_sized(host, &call, sizeof call, &res, sizeof res);
    /* The core's mapping (2xx done; 408, 429, 5xx and no answer retried,
     * honouring Retry-After; other 4xx failed) with Twilio's own words. */
    v = host->http_verdict(host, &res);
    sid[0] = '\0';
    if (v.kind == TOCSIN_DONE) {
        json_t *j = res.body ? json_loads(res.body, 0, NULL) : NULL;
        const char *s = json_string_value(json_object_get(j, "sid"));

        /* Kept in the ledger and the log: only a SID's letters and digits. */
        if (s && strlen(s) < sid_len && strspn(s, ALNUM) == strlen(s))
            snprintf(sid, sid_len, "%s", s);
        json_decref(j);
    } else if (res.status && twilio_error_text(res.status, res.body, text, sizeof text)) {
        snprintf(v.reason, sizeof v.reason, "%s", text);
    }
    *status = res.status;
    host->http_free(host, &res);
    return v;
}

/* What the attempt came to, over all its messages and calls. */
struct tally {
    size_t legs, accepted;
    int retry, retry_after;
    char retry_reason[240];
    int failed;
    char failed_reason[240];
};

static void note_retry(struct tally *t, const char *what, const struct tocsin_verdict *v)
{
    if (!t->retry)
        say(t->retry_reason, sizeof t->retry_reason, "%s: %s", what, v->reason);
    t->retry = 1;
    if (v->retry_after > t->retry_after)
        t->retry_after = v->retry_after;
}

static void note_failure(struct tally *t, const char *reason, size_t len)
{
    if (!t->failed)
        say(t->failed_reason, sizeof t->failed_reason, "%.*s", (int)len, reason);
    t->failed = 1;
}

/* "SMS to +15550001001" or "call to +15550001001". */
static void leg_name(char *buf, size_t len, int is_call, const char *to)
{
    snprintf(buf, len, "%s to %s", is_call ? "call" : "SMS", to);
}

/* One SMS or call, unless the ledger says an earlier attempt settled it;
 * returns 1 when the attempt should go no further (Twilio asked to slow
 * down, or did not answer at all). */
static int send_leg(struct twilio *tw, const struct tocsin_notification *n,
                    struct twilio_ledger *ledger, struct tally *t, int is_call, const char *to,
                    const char *content)
{
    const struct tocsin_host *host = tw->host;
    const char *channel = is_call ? "call" : "sms";
    struct tc_text form = { 0 };
    struct tocsin_verdict v;
    char what[64], sid[64], reason[300];
    const char *rec;
    size_t rec_len;
    long status;

    leg_name(what, sizeof what, is_call, to);
    rec = twilio_ledger_find(ledger, channel, to, &rec_len);
    if (rec && rec_len >= 2 && strncmp(rec, "ok", 2) == 0) {
        t->accepted++;
        host->log(host, TOCSIN_LOG_DEBUG, "incident %lld %s (attempt %d): %s was sent before",
                  (long long)n->incident_id, tocsin_action_name(n->action), n->attempt, what);
        return 0;
    }
    if (rec && rec_len > 7 && strncmp(rec, "failed ", 7) == 0) {
        note_failure(t, rec + 7, rec_len - 7);
        return 0;
    }

    twilio_form_add(&form, "To", to);
    twilio_form_add(&form, "From", tw->conf->from);
    twilio_form_add(&form, is_call ? "Twiml" : "Body", content);
    tc_text_put(&form, "", 1);
    if (form.failed) {
        free(form.s);
        v = tocsin_retry(0, "out of memory");
        note_retry(t, what, &v);
        return 1;
    }
    v = post(tw, is_call ? tw->calls_url : tw->messages_url, form.s, sid, sizeof sid, &status);
    free(form.s);
    host->log(host, TOCSIN_LOG_DEBUG, "incident %lld %s (attempt %d): %s: HTTP %ld%s%s",
              (long long)n->incident_id, tocsin_action_name(n->action), n->attempt, what,
              status, *sid ? " " : "", sid);
    switch (v.kind) {
    case TOCSIN_DONE:
        t->accepted++;
        snprintf(reason, sizeof reason, "ok %s", sid);
        twilio_ledger_add(ledger, channel, to, reason);
        return 0;
    case TOCSIN_FAILED:
        say(reason, sizeof reason, "failed %s: %s", what, v.reason);
        twilio_ledger_add(ledger, channel, to, reason);
        note_failure(t, reason + 7, strlen(reason + 7));
        return 0;
    default:
        note_retry(t, what, &v);
        return status == 0 || v.retry_after > 0;
    }
}

static struct tocsin_verdict deliver(void *self, const struct tocsin_notification *n)
{
    struct twilio *tw = self;
    const struct twilio_conf *cf = tw->conf;
    struct twilio_ledger ledger;
    struct tally t;
    char *sms = NULL, *twiml = NULL, counts[48] = "";
    char reason[sizeof ((struct tocsin_verdict *)0)->reason];
    int calls, stop = 0;
    size_t i;

    if (!n || !n->alert)
        return tocsin_failed("notification without an alert");
    calls = cf->call && n->action == TOCSIN_ACT_TRIGGER;
    sms = twilio_sms_text(n, TWILIO_SMS_MAX);
    if (calls)
        twiml = twilio_call_twiml(n, TWILIO_TWIML_MAX);
    if (!sms || (calls && !twiml)) {
        free(sms);
        free(twiml);
        return tocsin_retry(0, "out of memory formatting the message");
    }

    memset(&t, 0, sizeof t);
    t.legs = cf->to.n * (calls ? 2 : 1);
    /* --test-sink's notifications have no outbox row to keep a ledger for. */
    twilio_ledger_open(&ledger, tw->host, n->outbox_id, !n->test);
    /* Every SMS first, then the calls: the text is there when the phone rings. */
    for (i = 0; i < cf->to.n && !stop; i++)
        stop = send_leg(tw, n, &ledger, &t, 0, cf->to.items[i], sms);
    for (i = 0; calls && i < cf->to.n && !stop; i++)
        stop = send_leg(tw, n, &ledger, &t, 1, cf->to.items[i], twiml);
    /* Done or failed for good: the core will not retry this row. */
    twilio_ledger_close(&ledger, !t.retry);
    free(sms);
    free(twiml);

    if (t.legs > 1)
        snprintf(counts, sizeof counts, "%zu of %zu sent; ", t.accepted, t.legs);
    if (t.retry || t.failed) {
        say(reason, sizeof reason, "%s%s", counts, t.retry ? t.retry_reason : t.failed_reason);
        return t.retry ? tocsin_retry(t.retry_after, "%s", reason)
                       : tocsin_failed("%s", reason);
    }
    return tocsin_done();
}

static void twilio_deliver(void *self, const struct tocsin_notification *n,
                           struct tocsin_verdict *v, size_t verdict_size)
{
    tocsin_verdict_put(v, verdict_size, deliver(self, n));
}

const struct tocsin_plugin tocsin_plugin = {
    TOCSIN_PLUGIN_HEADER,
    .kind = TOCSIN_SINK,
    .name = "twilio",
    .version = "1.0.0",
    .description = "Pages by SMS (and voice calls on triggers) through Twilio's REST API",
    .options = twilio_options,
    .conf_size = sizeof(struct twilio_conf),
    .create = twilio_create,
    .deliver_sized = twilio_deliver,
    .destroy = twilio_destroy,
};
