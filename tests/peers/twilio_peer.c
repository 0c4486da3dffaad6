/* twilio_peer.c: the strict fake Twilio (libmicrohttpd, a thread per
 * connection so a hung answer holds up no other request).
 *
 * What it checks, and what it answers, is Twilio's documentation:
 *   - Messages: POST /2010-04-01/Accounts/{AccountSid}/Messages.json with
 *     To (E.164), From and Body; 201 with the Message resource (sid "SM"
 *     and 32 hex digits, status "queued"). twilio.com/docs/messaging/api/
 *     message-resource; the twilio-go CreateMessage reference.
 *   - Calls: POST .../Calls.json with To, From and Twiml (inline TwiML);
 *     201 with the Call resource (sid "CA..."). twilio.com/docs/voice/api/
 *     call-resource.
 *   - HTTP basic auth, the Account SID as user and the Auth Token as
 *     password; otherwise 401 {"code": 20003, "message": "Authenticate"}.
 *     twilio.com/docs/api/errors/20003.
 *   - Errors are {"code", "message", "more_info", "status"}
 *     (twilio.com/docs/api/errors/400): 21211 invalid 'To' number (E.164: a
 *     '+', the country code and the number, twilio.com/docs/api/errors/
 *     21211), 21617 a Body over 1600 characters (twilio.com/docs/api/
 *     errors/21617), 32018 a Twiml over 4000 characters (twilio.com/docs/
 *     api/errors/32018), 20429 Too Many Requests, "safe to retry"
 *     (twilio.com/docs/api/errors/20429), 20404 Not Found.
 * The form must be application/x-www-form-urlencoded with every character
 * outside RFC 3986's unreserved set percent-encoded (a raw '+' would read as
 * a space: "+1415..." would become " 1415..."). Lengths are counted in
 * UTF-16 code units, the most a Twilio character can take. */
#define _POSIX_C_SOURCE 200809L
#include "twilio_peer.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SCRIPT 64
#define MAX_BODY (64u << 10)
#define SMS_MAX 1600
#define TWIML_MAX 4000

enum act { A_201, A_400, A_429, A_500, A_HANG };

struct answer {
    enum act act;
    int retry_after; /* -1: none */
};

struct twilio_peer {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct MHD_Daemon *mhd;
    int port;
    atomic_int stopping;
    char *sid, *token;
    unsigned serial; /* for the SIDs it makes up */

    struct answer script[MAX_SCRIPT];
    size_t n_script, next_script;

    struct twilio_req **reqs;
    size_t n_reqs, cap_reqs;
    char **violations;
    size_t n_violations, cap_violations;
};

struct pending {
    char *buf;
    size_t len, cap;
    int too_big;
};

/* A rule a request broke: how Twilio answers it. */
struct refusal {
    int status, code;
    char message[300];
};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Called with p->mu held. */
static void add_violation(struct twilio_peer *p, const char *what)
{
    if (p->n_violations == p->cap_violations) {
        size_t cap = p->cap_violations ? 2 * p->cap_violations : 16;
        char **v = realloc(p->violations, cap * sizeof *v);

        if (!v)
            return;
        p->violations = v;
        p->cap_violations = cap;
    }
    p->violations[p->n_violations++] = strdup(what);
    fprintf(stderr, "twilio peer: violation: %s\n", what);
}

static void refuse(struct refusal *r, int status, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void refuse(struct refusal *r, int status, int code, const char *fmt, ...)
{
    va_list ap;

    if (r->status)
        return; /* the first broken rule is the answer */
    r->status = status;
    r->code = code;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
}

/* ---- text ------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (RFC 3629), or 0. */
static int utf8_seq(const unsigned char *p)
{
    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        return (p[1] & 0xc0) == 0x80 ? 2 : 0;
    if (p[0] >= 0xe0 && p[0] <= 0xef)
        return (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80 &&
                       !(p[0] == 0xe0 && p[1] < 0xa0) && !(p[0] == 0xed && p[1] >= 0xa0)
                   ? 3
                   : 0;
    if (p[0] >= 0xf0 && p[0] <= 0xf4)
        return (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80 &&
                       !(p[0] == 0xf0 && p[1] < 0x90) && !(p[0] == 0xf4 && p[1] >= 0x90)
                   ? 4
                   : 0;
    return 0;
}

/* UTF-16 code units of s, or -1 when s is not UTF-8. */
static long utf16_units(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    long units = 0;

    while (*p) {
        int n = utf8_seq(p);

        if (!n)
            return -1;
        units += n == 4 ? 2 : 1;
        p += n;
    }
    return units;
}

static int e164(const char *s)
{
    size_t n;

    if (!s || s[0] != '+' || s[1] < '1' || s[1] > '9')
        return 0;
    for (n = 1; s[n]; n++)
        if (!isdigit((unsigned char)s[n]))
            return 0;
    return n - 1 >= 8 && n - 1 <= 15;
}

static int hexval(int c)
{
    return isdigit(c) ? c - '0' : isxdigit(c) ? (tolower(c) - 'a' + 10) : -1;
}

/* "Basic base64(user:password)" decoded into out; 0 or -1. */
static int basic_auth(const char *header, char *out, size_t len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned acc = 0;
    int bits = 0;
    size_t n = 0;
    const char *s;

    if (!header || strncmp(header, "Basic ", 6) != 0)
        return -1;
    for (s = header + 6; *s && *s != '='; s++) {
        const char *c = strchr(alphabet, *s);

        if (!c || !*s)
            return -1;
        acc = (acc << 6) | (unsigned)(c - alphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n + 1 >= len)
                return -1;
            out[n++] = (char)((acc >> bits) & 0xff);
        }
    }
    out[n] = '\0';
    return 0;
}

/* ---- TwiML ------------------------------------------------------------ */

struct xml {
    const char *p;
    const char *err;
    char *say;
    size_t say_len;
    int says;
};

static void say_put(struct xml *x, const char *s, size_t n)
{
    char *grown = realloc(x->say, x->say_len + n + 1);

    if (!grown)
        return;
    x->say = grown;
    memcpy(x->say + x->say_len, s, n);
    x->say_len += n;
    x->say[x->say_len] = '\0';
}

/* An entity at x->p ('&'): one of XML's five or a character reference. */
static int entity(struct xml *x, int keep)
{
    static const struct { const char *name, *text; } named[] = {
        { "&amp;", "&" }, { "&lt;", "<" }, { "&gt;", ">" }, { "&quot;", "\"" }, { "&apos;", "'" },
    };
    size_t i;

    for (i = 0; i < 5; i++) {
        size_t n = strlen(named[i].name);

        if (strncmp(x->p, named[i].name, n) == 0) {
            if (keep)
                say_put(x, named[i].text, 1);
            x->p += n;
            return 0;
        }
    }
    if (x->p[1] == '#') {
        const char *q = x->p + 2;
        int hex = *q == 'x';

        if (hex)
            q++;
        if (!(hex ? isxdigit((unsigned char)*q) : isdigit((unsigned char)*q)))
            return x->err = "a malformed character reference", -1;
        while (hex ? isxdigit((unsigned char)*q) : isdigit((unsigned char)*q))
            q++;
        if (*q != ';')
            return x->err = "a character reference without ';'", -1;
        x->p = q + 1;
        return 0;
    }
    return x->err = "a '&' that starts no entity (cut or unescaped)", -1;
}

static int name(struct xml *x, char *out, size_t len)
{
    size_t n = 0;

    if (!isalpha((unsigned char)*x->p) && *x->p != '_')
        return x->err = "a tag without a name", -1;
    while (isalnum((unsigned char)*x->p) || strchr("_.-", *x->p)) {
        if (n + 1 < len)
            out[n++] = *x->p;
        x->p++;
    }
    out[n] = '\0';
    return 0;
}

static void skip_space(struct xml *x)
{
    while (*x->p == ' ' || *x->p == '\t' || *x->p == '\n' || *x->p == '\r')
        x->p++;
}

static int attributes(struct xml *x, const char *tag)
{
    for (;;) {
        char attr[32], quote;

        skip_space(x);
        if (*x->p == '>' || *x->p == '/')
            return 0;
        if (name(x, attr, sizeof attr) < 0)
            return -1;
        if (strcmp(tag, "Say") == 0 ? !strstr(" loop voice language ", attr)
                                    : strcmp(tag, "Pause") == 0 ? strcmp(attr, "length") != 0
                                                                : 1)
            return x->err = "an attribute TwiML does not know there", -1;
        if (*x->p++ != '=')
            return x->err = "an attribute without '='", -1;
        quote = *x->p++;
        if (quote != '"' && quote != '\'')
            return x->err = "an attribute value without quotes", -1;
        while (*x->p && *x->p != quote) {
            if (*x->p == '<')
                return x->err = "a '<' in an attribute value", -1;
            if (*x->p == '&') {
                if (entity(x, 0) < 0)
                    return -1;
            } else {
                x->p++;
            }
        }
        if (*x->p++ != quote)
            return x->err = "an unterminated attribute value", -1;
    }
}

/* One element and what it holds; depth 0 is the root. */
static int element(struct xml *x, int depth)
{
    char tag[32], end[32];

    if (*x->p++ != '<')
        return x->err = "text where an element belongs", -1;
    if (name(x, tag, sizeof tag) < 0)
        return -1;
    if (depth == 0 ? strcmp(tag, "Response") != 0
                   : strcmp(tag, "Say") != 0 && strcmp(tag, "Pause") != 0)
        return x->err = depth == 0 ? "the root is not <Response>"
                                   : "a verb other than <Say> or <Pause>", -1;
    if (attributes(x, tag) < 0)
        return -1;
    if (x->p[0] == '/' && x->p[1] == '>') {
        x->p += 2;
        return strcmp(tag, "Say") == 0 ? (x->err = "an empty <Say/>", -1) : 0;
    }
    x->p++; /* '>' */
    if (strcmp(tag, "Say") == 0)
        x->says++;
    for (;;) {
        if (!*x->p)
            return x->err = "an element that is never closed", -1;
        if (x->p[0] == '<' && x->p[1] == '/')
            break;
        if (*x->p == '<') {
            if (strcmp(tag, "Response") != 0)
                return x->err = "an element inside a verb", -1;
            if (element(x, depth + 1) < 0)
                return -1;
        } else if (*x->p == '&') {
            if (entity(x, strcmp(tag, "Say") == 0) < 0)
                return -1;
        } else if (*x->p == '>') {
            return x->err = "a raw '>' in text", -1;
        } else {
            if (strcmp(tag, "Response") == 0 && !isspace((unsigned char)*x->p))
                return x->err = "text directly in <Response>", -1;
            if (strcmp(tag, "Say") == 0)
                say_put(x, x->p, 1);
            x->p++;
        }
    }
    x->p += 2;
    if (name(x, end, sizeof end) < 0 || strcmp(end, tag) != 0 || *x->p++ != '>')
        return x->err = "a closing tag that does not match", -1;
    return 0;
}

const char *twilio_twiml_check(const char *s, char **say)
{
    struct xml x = { s, NULL, NULL, 0, 0 };

    if (say)
        *say = NULL;
    if (strncmp(x.p, "<?xml", 5) == 0) {
        const char *q = strstr(x.p, "?>");

        if (!q)
            return "an XML declaration without '?>'";
        x.p = q + 2;
    }
    skip_space(&x);
    if (element(&x, 0) == 0) {
        skip_space(&x);
        if (*x.p)
            x.err = "text after </Response>";
        else if (x.says == 0)
            x.err = "no <Say>: the call would say nothing";
        else if (!x.say || !*x.say)
            x.err = "an empty <Say>";
    }
    if (!x.err && say)
        *say = x.say;
    else
        free(x.say);
    return x.err;
}

/* ---- the request ------------------------------------------------------ */

/* Decodes one form value (percent-encoded, nothing else allowed). */
static char *pct_decode(const char *s, size_t n, struct refusal *r, const char *field)
{
    char *out = malloc(n + 1);
    size_t i, k = 0;

    if (!out)
        return NULL;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '%') {
            int hi = i + 2 < n ? hexval((unsigned char)s[i + 1]) : -1;
            int lo = hi >= 0 ? hexval((unsigned char)s[i + 2]) : -1;

            if (hi < 0 || lo < 0) {
                refuse(r, 400, 20001, "%s: '%%' not followed by two hex digits", field);
                break;
            }
            out[k++] = (char)(hi * 16 + lo);
            i += 2;
        } else if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out[k++] = (char)c;
        } else {
            refuse(r, 400, 20001, "%s: a raw '%c' (0x%02x): RFC 3986 wants it percent-encoded",
                   field, isprint(c) ? c : '?', c);
            out[k++] = (char)c;
        }
    }
    out[k] = '\0';
    if (strlen(out) != k)
        refuse(r, 400, 20001, "%s: a NUL byte in the value", field);
    else if (utf16_units(out) < 0)
        refuse(r, 400, 20001, "%s: not UTF-8 once decoded", field);
    return out;
}

/* Parses the form into the request's fields; refuses what Twilio would. */
static void parse_form(struct twilio_req *q, const char *form, struct refusal *r)
{
    const char *s = form;
    int is_call = strcmp(q->kind, "call") == 0;

    while (*s) {
        const char *amp = strchr(s, '&'), *eq;
        size_t n = amp ? (size_t)(amp - s) : strlen(s);
        char field[32], **slot = NULL;

        eq = memchr(s, '=', n);
        if (!eq) {
            refuse(r, 400, 20001, "a form pair without '=': %.40s", s);
            break;
        }
        snprintf(field, sizeof field, "%.*s", (int)(eq - s) < 31 ? (int)(eq - s) : 31, s);
        if (strcmp(field, "To") == 0)
            slot = &q->to;
        else if (strcmp(field, "From") == 0)
            slot = &q->from;
        else if (strcmp(field, is_call ? "Twiml" : "Body") == 0)
            slot = is_call ? &q->twiml : &q->body;
        if (!slot) {
            refuse(r, 400, 20001, "Unknown parameter %s", field);
        } else if (*slot) {
            refuse(r, 400, 20001, "%s given twice", field);
        } else {
            *slot = pct_decode(eq + 1, n - (size_t)(eq + 1 - s), r, field);
        }
        s += n;
        if (*s == '&' && *++s == '\0')
            refuse(r, 400, 20001, "a form that ends in '&'");
    }
    if (!q->to)
        refuse(r, 400, 21604, "A 'To' phone number is required.");
    else if (!e164(q->to))
        refuse(r, 400, 21211, "The 'To' number %.40s is not a valid phone number.", q->to);
    if (!q->from)
        refuse(r, 400, 21603, "A 'From' phone number is required.");
    else if (!e164(q->from))
        refuse(r, 400, 21212, "The 'From' number %.40s is not a valid phone number.", q->from);
    if (!is_call) {
        if (!q->body || !*q->body)
            refuse(r, 400, 21602, "Message body is required.");
        else if (utf16_units(q->body) > SMS_MAX)
            refuse(r, 400, 21617, "The concatenated message body exceeds the 1600 character "
                                  "limit (%ld).", utf16_units(q->body));
    } else {
        const char *bad;

        if (!q->twiml || !*q->twiml)
            refuse(r, 400, 21205, "Url, ApplicationSid or Twiml is required.");
        else if (utf16_units(q->twiml) > TWIML_MAX)
            refuse(r, 400, 32018, "Twiml size exceeded maximum allowed value of 4000 "
                                  "characters (%ld).", utf16_units(q->twiml));
        else if ((bad = twilio_twiml_check(q->twiml, &q->say)))
            refuse(r, 400, 12100, "Document parse failure: %s", bad);
    }
}

/* Method, path, auth and content type, then the form. */
static void check_request(struct twilio_peer *p, struct MHD_Connection *conn,
                          struct twilio_req *q, const char *form, struct refusal *r)
{
    const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    char prefix[128], creds[256], want[256];
    size_t plen;

    snprintf(prefix, sizeof prefix, "/2010-04-01/Accounts/%s/", p->sid);
    plen = strlen(prefix);
    if (strncmp(q->path, prefix, plen) == 0 && strcmp(q->path + plen, "Messages.json") == 0)
        snprintf(q->kind, sizeof q->kind, "sms");
    else if (strncmp(q->path, prefix, plen) == 0 && strcmp(q->path + plen, "Calls.json") == 0)
        snprintf(q->kind, sizeof q->kind, "call");
    snprintf(want, sizeof want, "%s:%s", p->sid, p->token);
    if (basic_auth(auth, creds, sizeof creds) < 0 || strcmp(creds, want) != 0)
        refuse(r, 401, 20003, "Authenticate");
    if (!q->kind[0])
        refuse(r, 404, 20404, "The requested resource %.100s was not found", q->path);
    if (strcmp(q->method, "POST") != 0)
        refuse(r, 405, 20004, "Method not allowed");
    if (!ct || strncmp(ct, "application/x-www-form-urlencoded", 33) != 0 ||
        (ct[33] && ct[33] != ';'))
        refuse(r, 400, 20001, "Content-Type %.60s is not application/x-www-form-urlencoded",
               ct ? ct : "(none)");
    if (q->kind[0])
        parse_form(q, form, r);
}

/* ---- answers ---------------------------------------------------------- */

static char *error_body(int status, int code, const char *message)
{
    char more[64];
    json_t *j;
    char *s;

    snprintf(more, sizeof more, "https://www.twilio.com/docs/errors/%d", code);
    j = json_pack("{s:i, s:s, s:s, s:i}", "code", code, "message", message, "more_info", more,
                  "status", status);
    s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return s;
}

/* The created resource, as Twilio's 201 has it (the fields tests read and
 * enough of the rest to look like one). */
static char *created_body(struct twilio_peer *p, const struct twilio_req *q)
{
    char uri[256], media[300];
    json_t *j;
    char *s;

    snprintf(uri, sizeof uri, "/2010-04-01/Accounts/%s/%s/%s.json", p->sid,
             strcmp(q->kind, "call") == 0 ? "Calls" : "Messages", q->sid);
    if (strcmp(q->kind, "call") == 0) {
        j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:n, s:s}", "sid", q->sid,
                      "account_sid", p->sid, "to", q->to, "from", q->from, "status", "queued",
                      "direction", "outbound-api", "api_version", "2010-04-01", "uri", uri,
                      "price", "price_unit", "USD");
    } else {
        snprintf(media, sizeof media, "%.*s/Media.json", (int)(strlen(uri) - 5), uri);
        j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:n, s:n, s:s,"
                      " s:{s:s}}",
                      "sid", q->sid, "account_sid", p->sid, "to", q->to, "from", q->from,
                      "body", q->body, "status", "queued", "direction", "outbound-api",
                      "api_version", "2010-04-01", "num_segments", "1", "num_media", "0",
                      "error_code", "error_message", "uri", uri, "subresource_uris", "media",
                      media);
    }
    s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return s;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version,
                               const char *upload_data, size_t *upload_data_size,
                               void **con_cls)
{
    struct twilio_peer *p = cls;
    struct pending *pd = *con_cls;
    struct refusal r = { 0, 0, "" };
    struct answer a = { A_201, -1 };
    struct MHD_Response *resp;
    struct twilio_req *q;
    enum MHD_Result ret;
    char *body = NULL;
    int status;

    (void)version;
    if (!pd) {
        pd = calloc(1, sizeof *pd);
        if (!pd)
            return MHD_NO;
        *con_cls = pd;
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;

        if (pd->len + n > MAX_BODY) {
            pd->too_big = 1;
        } else {
            if (pd->len + n + 1 > pd->cap) {
                size_t cap = (pd->len + n + 1) * 2;
                char *b = realloc(pd->buf, cap);

                if (!b)
                    return MHD_NO;
                pd->buf = b;
                pd->cap = cap;
            }
            memcpy(pd->buf + pd->len, upload_data, n);
            pd->len += n;
            pd->buf[pd->len] = '\0';
        }
        *upload_data_size = 0;
        return MHD_YES;
    }

    q = calloc(1, sizeof *q);
    if (!q)
        return MHD_NO;
    snprintf(q->method, sizeof q->method, "%s", method);
    snprintf(q->path, sizeof q->path, "%s", url);
    q->at_ms = now_ms();
    if (pd->too_big)
        refuse(&r, 413, 20001, "a body over %u bytes", MAX_BODY);
    else if (pd->len && strlen(pd->buf) != pd->len)
        refuse(&r, 400, 20001, "a NUL byte in the body");
    check_request(p, conn, q, pd->buf ? pd->buf : "", &r);

    pthread_mutex_lock(&p->mu);
    if (r.status) {
        char what[512];

        snprintf(what, sizeof what, "%s %s: %s", method, url, r.message);
        add_violation(p, what);
        status = r.status;
        body = error_body(r.status, r.code, r.message);
    } else {
        if (p->next_script < p->n_script)
            a = p->script[p->next_script++];
        p->serial++;
        snprintf(q->sid, sizeof q->sid, "%s%032x", strcmp(q->kind, "call") == 0 ? "CA" : "SM",
                 p->serial);
        switch (a.act) {
        case A_201: status = 201; break;
        case A_400: status = 400; break;
        case A_429: status = 429; break;
        case A_500: status = 500; break;
        default: status = 0; break;
        }
    }
    q->status = status;
    if (p->n_reqs == p->cap_reqs) {
        size_t cap = p->cap_reqs ? 2 * p->cap_reqs : 64;
        struct twilio_req **v = realloc(p->reqs, cap * sizeof *v);

        if (v) {
            p->reqs = v;
            p->cap_reqs = cap;
        }
    }
    if (p->n_reqs < p->cap_reqs)
        p->reqs[p->n_reqs++] = q;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);

    if (!r.status) {
        switch (a.act) {
        case A_201:
            body = created_body(p, q);
            break;
        case A_400: {
            char m[160];

            snprintf(m, sizeof m, "The 'To' number %.40s is not a valid phone number.", q->to);
            body = error_body(400, 21211, m);
            break;
        }
        case A_429:
            body = error_body(429, 20429, "Too Many Requests");
            break;
        case A_500:
            body = error_body(500, 20500, "Internal Server Error");
            break;
        case A_HANG:
            /* No answer until the peer stops: the client's timeout decides. */
            while (!p->stopping)
                sleep_ms(20);
            return MHD_NO;
        }
    }
    if (!body)
        return MHD_NO;
    resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    if (a.retry_after >= 0 && !r.status) {
        char ra[32];

        snprintf(ra, sizeof ra, "%d", a.retry_after);
        MHD_add_response_header(resp, "Retry-After", ra);
    }
    if (status == 401)
        MHD_add_response_header(resp, "WWW-Authenticate", "Basic realm=\"Twilio API\"");
    ret = MHD_queue_response(conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct pending *pd = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (pd) {
        free(pd->buf);
        free(pd);
        *con_cls = NULL;
    }
}

/* ---- lifecycle and queries -------------------------------------------- */

struct twilio_peer *twilio_peer_new(const char *account_sid, const char *auth_token)
{
    struct twilio_peer *p = calloc(1, sizeof *p);

    if (!p)
        return NULL;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->sid = strdup(account_sid);
    p->token = strdup(auth_token);
    return p;
}

static int listen_socket(int port, int *bound)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int one = 1, fd = -1, tries;

    for (tries = 0; tries < 100; tries++) {
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return -1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        memset(&sa, 0, sizeof sa);
        sa.sin_family = AF_INET;
        sa.sin_port = htons((uint16_t)port);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(fd, 64) == 0)
            break;
        close(fd);
        fd = -1;
        if (port == 0)
            return -1;
        sleep_ms(50);
    }
    if (fd < 0 || getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *bound = ntohs(sa.sin_port);
    return fd;
}

int twilio_peer_start(struct twilio_peer *p)
{
    int fd, port = 0;

    if (p->mhd)
        return 0;
    fd = listen_socket(p->port, &port);
    if (fd < 0) {
        fprintf(stderr, "twilio peer: cannot listen: %s\n", strerror(errno));
        return -1;
    }
    p->stopping = 0;
    p->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                                  MHD_USE_ITC,
                              0, NULL, NULL, handler, p, MHD_OPTION_LISTEN_SOCKET, fd,
                              MHD_OPTION_NOTIFY_COMPLETED, completed, p,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
    if (!p->mhd) {
        close(fd);
        return -1;
    }
    p->port = port;
    return 0;
}

void twilio_peer_stop(struct twilio_peer *p)
{
    if (!p->mhd)
        return;
    p->stopping = 1;
    MHD_stop_daemon(p->mhd);
    p->mhd = NULL;
}

void twilio_peer_free(struct twilio_peer *p)
{
    size_t i;

    if (!p)
        return;
    twilio_peer_stop(p);
    for (i = 0; i < p->n_reqs; i++) {
        free(p->reqs[i]->to);
        free(p->reqs[i]->from);
        free(p->reqs[i]->body);
        free(p->reqs[i]->twiml);
        free(p->reqs[i]->say);
        free(p->reqs[i]);
    }
    free(p->reqs);
    for (i = 0; i < p->n_violations; i++)
        free(p->violations[i]);
    free(p->violations);
    free(p->sid);
    free(p->token);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

int twilio_peer_port(const struct twilio_peer *p)
{
    return p->port;
}

void twilio_peer_script(struct twilio_peer *p, const char *script)
{
    const char *s = script;

    pthread_mutex_lock(&p->mu);
    p->n_script = p->next_script = 0;
    while (s && *s && p->n_script < MAX_SCRIPT) {
        const char *stop = strchr(s, ',');
        size_t n = stop ? (size_t)(stop - s) : strlen(s);
        struct answer a = { A_201, -1 };
        char item[64];
        const char *ra;

        snprintf(item, sizeof item, "%.*s", (int)n, s);
        if (strncmp(item, "hang", 4) == 0)
            a.act = A_HANG;
        else if (atoi(item) == 400)
            a.act = A_400;
        else if (atoi(item) == 429)
            a.act = A_429;
        else if (atoi(item) == 500)
            a.act = A_500;
        else if (atoi(item) != 201)
            fprintf(stderr, "twilio peer: bad script item \"%s\"\n", item);
        if ((ra = strstr(item, "ra=")))
            a.retry_after = atoi(ra + 3);
        p->script[p->n_script++] = a;
        s = stop ? stop + 1 : NULL;
    }
    pthread_mutex_unlock(&p->mu);
}

size_t twilio_peer_count(struct twilio_peer *p)
{
    size_t n;

    pthread_mutex_lock(&p->mu);
    n = p->n_reqs;
    pthread_mutex_unlock(&p->mu);
    return n;
}

const struct twilio_req *twilio_peer_get(struct twilio_peer *p, size_t i)
{
    const struct twilio_req *q = NULL;

    pthread_mutex_lock(&p->mu);
    if (i < p->n_reqs)
        q = p->reqs[i];
    pthread_mutex_unlock(&p->mu);
    return q;
}

size_t twilio_peer_wait(struct twilio_peer *p, size_t n, int timeout_ms)
{
    struct timespec deadline;
    size_t got;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&p->mu);
    while (p->n_reqs < n)
        if (pthread_cond_timedwait(&p->cv, &p->mu, &deadline) == ETIMEDOUT)
            break;
    got = p->n_reqs;
    pthread_mutex_unlock(&p->mu);
    return got;
}

size_t twilio_peer_violations(struct twilio_peer *p)
{
    size_t n;

    pthread_mutex_lock(&p->mu);
    n = p->n_violations;
    pthread_mutex_unlock(&p->mu);
    return n;
}

const char *twilio_peer_violation(struct twilio_peer *p, size_t i)
{
    const char *v = NULL;

    pthread_mutex_lock(&p->mu);
    if (i < p->n_violations)
        v = p->violations[i];
    pthread_mutex_unlock(&p->mu);
    return v;
}
