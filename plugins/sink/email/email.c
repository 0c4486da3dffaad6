/* email.c: the `email` sink: one alert mail per notification over SMTP,
 * through the core's libcurl (host->http_sized with an smtp:// or smtps://
 * URL, plugin ABI 1.1). The message is message.c's; this file holds the
 * descriptor, the options and their checks, and the verdicts: a 4xx reply
 * or no reply is retried, a 5xx reply fails for good. The password is
 * never logged. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <tocsin/plugin.h>
#include <unistd.h>

#include "common.h"
#include "message.h"

struct email_conf {
    const char *url;
    const char *starttls;
    const char *username;
    const char *password;
    const char *from;
    struct tocsin_strlist to;
    struct tocsin_strlist cc;
    const char *ca_file;
    const char *subject_prefix;
    struct tocsin_map severity_map;
    int64_t timeout; /* ms */
};

static const struct tocsin_option email_options[] = {
    { "url", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_REQUIRED, offsetof(struct email_conf, url),
      "smtp://HOST[:PORT] (25 or 587, STARTTLS) or smtps://HOST[:PORT] (465, TLS from the "
      "start); a path names this host in EHLO (smtp://mail.example.org/tocsin.example.org)." },
    { "starttls", TOCSIN_OPT_STRING, "required", 0, offsetof(struct email_conf, starttls),
      "smtp:// only: \"required\" (no STARTTLS offered: the delivery fails), \"optional\" "
      "(used when offered) or \"off\"." },
    { "username", TOCSIN_OPT_STRING, NULL, 0, offsetof(struct email_conf, username),
      "SMTP AUTH user (with password); libcurl picks PLAIN, LOGIN, ... from the server's EHLO." },
    { "password", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_SECRET,
      offsetof(struct email_conf, password),
      "SMTP AUTH password (secret: \"env:NAME\" or \"file:PATH\")." },
    { "from", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_REQUIRED, offsetof(struct email_conf, from),
      "Sender: \"alerts@example.org\" or \"tocsin <alerts@example.org>\"; also the envelope "
      "sender (MAIL FROM) and the domain of Message-IDs." },
    { "to", TOCSIN_OPT_STRLIST, NULL, TOCSIN_OPT_REQUIRED, offsetof(struct email_conf, to),
      "Recipients, \"ops@example.org\" or \"Ops <ops@example.org>\" (a list)." },
    { "cc", TOCSIN_OPT_STRLIST, NULL, 0, offsetof(struct email_conf, cc),
      "Copy recipients (a list); To and Cc are all the recipients, there is no Bcc." },
    { "ca_file", TOCSIN_OPT_STRING, NULL, 0, offsetof(struct email_conf, ca_file),
      "PEM file of the CAs to trust for the server's certificate instead of the system's." },
    { "subject_prefix", TOCSIN_OPT_STRING, NULL, 0, offsetof(struct email_conf, subject_prefix),
      "Text before every subject, e.g. \"[tocsin]\"." },
    { "severity_map", TOCSIN_OPT_MAP, NULL, 0, offsetof(struct email_conf, severity_map),
      "The subject's tag by severity, e.g. { critical = \"P1\"; high = \"P2\"; }; "
      "default CRITICAL, HIGH, MEDIUM, LOW, INFO." },
    { "timeout", TOCSIN_OPT_DURATION, "30s", 0, offsetof(struct email_conf, timeout),
      "Time allowed for one delivery (connect, TLS, AUTH, the message); 0: the daemon's "
      "http_timeout." },
    { 0 }
};

static const char *const default_tags[5] = { "CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO" };

/* The state key of the Message-ID salt (see struct email_msg). */
#define SALT_KEY "message_id_salt"
#define SALT_HEX 16

struct email {
    const struct tocsin_host *host;
    const struct email_conf *conf;
    struct em_addr from;
    struct em_addr *rcpt; /* to, then cc */
    size_t n_to, n_cc;
    char *mail_from;      /* "<alerts@example.org>" */
    char **envelope;      /* "<ops@example.org>" ..., NULL-terminated, no duplicates */
    char *subject_prefix;
    char *tags[5];
    char salt[SALT_HEX + 1];
    char run[SALT_HEX + 1];
    int starttls;
    struct email_msg msg;
};

static void email_destroy(void *self)
{
    struct email *e = self;
    size_t i;

    em_addr_free(&e->from);
    for (i = 0; i < e->n_to + e->n_cc; i++)
        em_addr_free(&e->rcpt[i]);
    free(e->rcpt);
    for (i = 0; e->envelope && e->envelope[i]; i++)
        free(e->envelope[i]);
    free(e->envelope);
    free(e->mail_from);
    free(e->subject_prefix);
    for (i = 0; i < 5; i++)
        free(e->tags[i]);
    free(e);
}

static void random_hex(char *out, size_t digits)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[32];
    size_t i;

    if (getrandom(b, digits / 2, 0) != (ssize_t)(digits / 2)) {
        /* Not for secrecy, only uniqueness: time and pid will do. */
        unsigned long long x = (unsigned long long)time(NULL) * 2654435761u ^
                               (unsigned long long)getpid() << 32 ^ (uintptr_t)out;

        for (i = 0; i < digits / 2; i++, x = x * 6364136223846793005ull + 1442695040888963407ull)
            b[i] = (unsigned char)(x >> 56);
    }
    for (i = 0; i < digits / 2; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[digits] = '\0';
}

static int is_hex(const char *s, size_t n)
{
    return s && strlen(s) == n && strspn(s, "0123456789abcdef") == n;
}

/* The salt survives restarts in the instance's state, so an incident's
 * trigger Message-ID can be derived again after one. */
static void load_salt(struct email *e)
{
    const struct tocsin_host *host = e->host;
    char *v = NULL;

    if (host->state_get(host, SALT_KEY, &v) == TOCSIN_OK && is_hex(v, SALT_HEX)) {
        memcpy(e->salt, v, SALT_HEX + 1);
    } else {
        random_hex(e->salt, SALT_HEX);
        if (host->state_put(host, SALT_KEY, e->salt) != TOCSIN_OK)
            host->log(host, TOCSIN_LOG_WARN,
                      "cannot keep the Message-ID salt: after a restart, acknowledge and "
                      "resolve mails of open incidents may not thread with their trigger");
    }
    free(v);
}

static int check_url(const struct tocsin_host *host, const char *url, int *smtps)
{
    const char *p, *end;

    if (!url)
        return host->fail(host, "url must be set");
    if (strncasecmp(url, "smtp://", 7) == 0)
        p = url + 7, *smtps = 0;
    else if (strncasecmp(url, "smtps://", 8) == 0)
        p = url + 8, *smtps = 1;
    else
        return host->fail(host, "url must start with smtp:// or smtps://");
    for (end = url; *end; end++)
        if ((unsigned char)*end <= 0x20 || *end == 0x7f)
            return host->fail(host, "url must not hold spaces or control characters");
    end = p + strcspn(p, "/?#");
    if (memchr(p, '@', (size_t)(end - p)))
        return host->fail(host, "url must not hold a user or password: set username and "
                                "password instead");
    if (end == p || *p == ':')
        return host->fail(host, "url has no host");
    return TOCSIN_OK;
}

/* "required", "optional", "off" as TOCSIN_TLS_*, or -1. */
static int starttls_of(const char *s)
{
    if (!s || strcmp(s, "required") == 0)
        return TOCSIN_TLS_REQUIRED;
    if (strcmp(s, "optional") == 0)
        return TOCSIN_TLS_TRY;
    if (strcmp(s, "off") == 0)
        return TOCSIN_TLS_OFF;
    return -1;
}

static int one_line(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

static int parse_list(struct email *e, const char *name, const struct tocsin_strlist *l,
                      struct em_addr *out)
{
    char err[128];
    size_t i;

    for (i = 0; i < l->n; i++)
        if (em_addr_parse(l->items[i], &out[i], err, sizeof err) < 0)
            return e->host->fail(e->host, "%s: address %zu (\"%.80s\") %s", name, i + 1,
                                 l->items[i] && one_line(l->items[i]) ? l->items[i] : "?", err);
    return TOCSIN_OK;
}

static int check_severity_map(struct email *e, const struct tocsin_map *m)
{
    const struct tocsin_host *host = e->host;
    size_t i;

    for (i = 0; i < m->n; i++) {
        const struct tocsin_kv *kv = &m->items[i];
        enum tocsin_severity s;

        if (!kv->key || tc_severity_parse(kv->key, &s) < 0)
            return host->fail(host, "severity_map: \"%.40s\" is not a severity (critical, "
                                    "high, medium, low, info)",
                              kv->key && one_line(kv->key) ? kv->key : "?");
        if (!kv->value || !*kv->value || strlen(kv->value) > 32 || !one_line(kv->value))
            return host->fail(host, "severity_map: the tag of %s must be one line of 1 to 32 "
                                    "bytes", tocsin_severity_name(s));
        free(e->tags[s]);
        if (!(e->tags[s] = em_one_line(kv->value)))
            return TOCSIN_ENOMEM;
    }
    return TOCSIN_OK;
}

static char *bracketed(const char *addr)
{
    size_t n = strlen(addr) + 3;
    char *s = malloc(n);

    if (s)
        snprintf(s, n, "<%s>", addr);
    return s;
}

/* RCPT TO for every To and Cc address, each once. */
static int make_envelope(struct email *e)
{
    size_t i, j, k = 0, n = e->n_to + e->n_cc;

    if (!(e->mail_from = bracketed(e->from.addr)) ||
        !(e->envelope = calloc(n + 1, sizeof *e->envelope)))
        return TOCSIN_ENOMEM;
    for (i = 0; i < n; i++) {
        for (j = 0; j < i && strcasecmp(e->rcpt[j].addr, e->rcpt[i].addr) != 0; j++)
            ;
        if (j == i && !(e->envelope[k++] = bracketed(e->rcpt[i].addr)))
            return TOCSIN_ENOMEM;
    }
    return TOCSIN_OK;
}

static int create(struct email *e, const struct email_conf *cf)
{
    const struct tocsin_host *host = e->host;
    char err[128];
    int smtps = 0, rc;
    size_t i;

    if ((rc = check_url(host, cf->url, &smtps)) != TOCSIN_OK)
        return rc;
    if ((e->starttls = starttls_of(cf->starttls)) < 0)
        return host->fail(host, "starttls must be \"required\", \"optional\" or \"off\", not "
                                "\"%.20s\"", one_line(cf->starttls) ? cf->starttls : "?");
    if (smtps)
        e->starttls = TOCSIN_TLS_OFF; /* TLS from the start: nothing to upgrade */
    if (!cf->username != !cf->password)
        return host->fail(host, "username and password go together: set both or neither");
    if (cf->username && (!*cf->username || !one_line(cf->username)))
        return host->fail(host, "username must be one line, not empty");
    if (cf->password && !smtps && e->starttls == TOCSIN_TLS_OFF)
        host->log(host, TOCSIN_LOG_WARN, "starttls = \"off\": the password crosses the network "
                                         "in the clear");
    if (em_addr_parse(cf->from, &e->from, err, sizeof err) < 0)
        return host->fail(host, "from: \"%.80s\" %s",
                          cf->from && one_line(cf->from) ? cf->from : "?", err);
    if (cf->to.n == 0)
        return host->fail(host, "to must name at least one address");
    if (!(e->rcpt = calloc(cf->to.n + cf->cc.n, sizeof *e->rcpt)))
        return TOCSIN_ENOMEM;
    e->n_to = cf->to.n;
    e->n_cc = cf->cc.n;
    if ((rc = parse_list(e, "to", &cf->to, e->rcpt)) != TOCSIN_OK ||
        (rc = parse_list(e, "cc", &cf->cc, e->rcpt + cf->to.n)) != TOCSIN_OK)
        return rc;
    if (cf->ca_file && access(cf->ca_file, R_OK) != 0) {
        int errnum = errno;

        return host->fail(host, "ca_file: cannot read %s: %s", cf->ca_file, strerror(errnum));
    }
    if (cf->subject_prefix) {
        if (!one_line(cf->subject_prefix) || strlen(cf->subject_prefix) > 64)
            return host->fail(host, "subject_prefix must be one line of at most 64 bytes");
        if (!(e->subject_prefix = em_one_line(cf->subject_prefix)))
            return TOCSIN_ENOMEM;
    }
    for (i = 0; i < 5; i++)
        if (!(e->tags[i] = strdup(default_tags[i])))
            return TOCSIN_ENOMEM;
    if ((rc = check_severity_map(e, &cf->severity_map)) != TOCSIN_OK)
        return rc;
    if (cf->timeout < 0)
        return host->fail(host, "timeout must not be negative");
    if ((rc = make_envelope(e)) != TOCSIN_OK)
        return rc;
    load_salt(e);
    random_hex(e->run, SALT_HEX);

    e->msg.from = &e->from;
    e->msg.to = e->rcpt;
    e->msg.n_to = e->n_to;
    e->msg.cc = e->rcpt + e->n_to;
    e->msg.n_cc = e->n_cc;
    e->msg.salt = e->salt;
    e->msg.run = e->run;
    e->msg.subject_prefix = e->subject_prefix;
    for (i = 0; i < 5; i++)
        e->msg.tags[i] = e->tags[i];
    return TOCSIN_OK;
}

static int email_create(const struct tocsin_host *host, const void *conf, void **self)
{
    struct email *e;
    int rc;

    if (!TOCSIN_HOST_HAS(host, http_sized)) {
        host->fail(host, "needs tocsin plugin ABI 1.1 (host has %u.%u)",
                   (unsigned)host->abi_major, (unsigned)host->abi_minor);
        return TOCSIN_ENOTSUP;
    }
    if (!(e = calloc(1, sizeof *e)))
        return TOCSIN_ENOMEM;
    e->host = host;
    e->conf = conf;
    rc = create(e, conf);
    if (rc != TOCSIN_OK) {
        email_destroy(e);
        return rc;
    }
    *self = e;
    return TOCSIN_OK;
}

/* SMTP has no http_verdict: 2xx done; 4xx (421, 450, 451, 452, 454) and
 * no reply (connection, timeout) retried; 5xx failed. A failed call with
 * a positive last reply is the client refusing to go on (STARTTLS
 * required but not offered, no AUTH mechanism in common): a configuration
 * error, failed. The error names the reply code and quotes the server. */
static struct tocsin_verdict verdict_of(int rc, const struct tocsin_http_result *res)
{
    long s = res->status;

    if (rc == TOCSIN_OK && s >= 200 && s < 400)
        return tocsin_done();
    if (rc == TOCSIN_OK) /* an answer, but not an acceptance */
        return s >= 500 ? tocsin_failed("SMTP %ld", s) : tocsin_retry(0, "SMTP %ld", s);
    if (s >= 500)
        return tocsin_failed("%s", res->error);
    if (s >= 400)
        return tocsin_retry(0, "%s", res->error);
    if (s > 0)
        return tocsin_failed("%s", res->error);
    return tocsin_retry(0, "%s", res->timed_out ? "timed out" : res->error);
}

static struct tocsin_verdict deliver(struct email *e, const struct tocsin_notification *n)
{
    const struct tocsin_host *host = e->host;
    const struct email_conf *cf = e->conf;
    struct tocsin_http_call call;
    struct tocsin_http_result res;
    struct tocsin_verdict v;
    size_t len;
    char *msg;
    int rc;

    if (!n || !n->alert)
        return tocsin_failed("notification without an alert");
    msg = email_compose(&e->msg, n, host->now_ms(host), &len);
    if (!msg)
        return tocsin_retry(0, "out of memory composing the message");

    memset(&call, 0, sizeof call);
    call.url = cf->url;
    call.body = msg;
    call.body_len = len;
    call.timeout_ms = cf->timeout > LONG_MAX ? LONG_MAX : (long)cf->timeout;
    call.mail_from = e->mail_from;
    call.mail_rcpt = (const char *const *)e->envelope;
    call.username = cf->username;
    call.password = cf->password;
    call.starttls = e->starttls;
    call.ca_file = cf->ca_file;
    memset(&res, 0, sizeof res);
    res.retry_after = -1;
    rc = host->http_sized(host, &call, sizeof call, &res, sizeof res);
    v = verdict_of(rc, &res);
    /* The server's words are quoted in the reason: never the password. */
    tc_redact(v.reason, sizeof v.reason, cf->password, "(password)");
    host->log(host, TOCSIN_LOG_DEBUG, "incident %lld %s (attempt %d): SMTP %ld",
              (long long)n->incident_id, tocsin_action_name(n->action), n->attempt, res.status);
    /* Acknowledge and resolve mails refer to this one: kept with the
     * outcome when it is DONE (without remember, they derive it; the host
     * logs why when it cannot keep it). */
    if (v.kind == TOCSIN_DONE && n->action == TOCSIN_ACT_TRIGGER &&
        TOCSIN_HOST_HAS(host, remember)) {
        char id[EMAIL_ID_MAX + 160];

        email_message_id(&e->msg, n, id, sizeof id);
        (void)host->remember(host, n, id);
    }
    host->http_free(host, &res);
    free(msg);
    return v;
}

static void email_deliver(void *self, const struct tocsin_notification *n,
                          struct tocsin_verdict *v, size_t verdict_size)
{
    tocsin_verdict_put(v, verdict_size, deliver(self, n));
}

const struct tocsin_plugin tocsin_plugin = {
    TOCSIN_PLUGIN_HEADER,
    .kind = TOCSIN_SINK,
    .name = "email",
    .version = "1.1.0",
    .description = "Mails notifications over SMTP (STARTTLS, AUTH), threaded per incident",
    .options = email_options,
    .conf_size = sizeof(struct email_conf),
    .create = email_create,
    .deliver_sized = email_deliver,
    .destroy = email_destroy,
};
