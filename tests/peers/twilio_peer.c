/* twilio_peer.c: the strict fake Twilio, a provider on a test peer
 * (peer.h: the server, the script, the records and the violations).
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

#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peer.h"

#define MAX_BODY (64u << 10)
#define SMS_MAX 1600
#define TWIML_MAX 4000

struct twilio_peer {
    struct peer *peer;
    char *sid, *token;
    unsigned serial; /* for the SIDs it makes up; under the peer's lock */
};

/* A rule a request broke: how Twilio answers it. */
struct refusal {
    int status, code;
    char message[300];
};

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
static void check_request(struct twilio_peer *p, const struct peer_req *req,
                          struct twilio_req *q, struct refusal *r)
{
    const char *ct = json_string_value(json_object_get(req->headers, "content-type"));
    const char *auth = json_string_value(json_object_get(req->headers, "authorization"));
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
        parse_form(q, req->body, r);
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

/* The peer's answer hook (under its lock): check the request, record it
 * as r->ext, answer. A refused request leaves the script item for the next. */
static void answer(void *ctx, struct peer *pp, struct peer_req *req, struct peer_answer *a)
{
    struct twilio_peer *p = ctx;
    struct refusal r = { 0, 0, "" };
    struct twilio_req *q = calloc(1, sizeof *q);
    char m[160];

    if (!q || !req->body) {
        free(q);
        peer_violate(pp, "%s %s: the peer ran out of memory", req->method, req->path);
        a->status = 500;
        return;
    }
    snprintf(q->method, sizeof q->method, "%s", req->method);
    snprintf(q->path, sizeof q->path, "%.*s", (int)sizeof q->path - 1, req->path);
    q->at_ms = req->at_ms;
    req->ext = q;
    if (req->body_len > MAX_BODY)
        refuse(&r, 413, 20001, "a body over %u bytes", MAX_BODY);
    else if (strlen(req->body) != req->body_len)
        refuse(&r, 400, 20001, "a NUL byte in the body");
    check_request(p, req, q, &r);
    if (r.status) {
        peer_violate(pp, "%s %s: %s", req->method, req->path, r.message);
        a->keep = 1;
        a->status = r.status;
        a->retry_after = -1;
        a->hang = 0;
        a->delay_ms = 0;
        a->reply.body = error_body(r.status, r.code, r.message);
        if (r.status == 401) {
            snprintf(a->reply.headers[0][0], sizeof a->reply.headers[0][0], "WWW-Authenticate");
            snprintf(a->reply.headers[0][1], sizeof a->reply.headers[0][1],
                     "Basic realm=\"Twilio API\"");
            a->reply.n_headers = 1;
        }
        q->status = a->status;
        return;
    }
    p->serial++;
    snprintf(q->sid, sizeof q->sid, "%s%032x", strcmp(q->kind, "call") == 0 ? "CA" : "SM",
             p->serial);
    if (a->hang) {
        /* No answer until the peer stops: the client's timeout decides. */
        a->status = 0;
    } else if (a->status == 400) {
        snprintf(m, sizeof m, "The 'To' number %.40s is not a valid phone number.", q->to);
        a->reply.body = error_body(400, 21211, m);
    } else if (a->status == 429) {
        a->reply.body = error_body(429, 20429, "Too Many Requests");
    } else if (a->status == 500) {
        a->reply.body = error_body(500, 20500, "Internal Server Error");
    } else {
        if (a->status != 201)
            fprintf(stderr, "twilio peer: scripted %d answered as 201\n", a->status);
        a->status = 201;
        a->reply.body = created_body(p, q);
    }
    q->status = a->status;
}

/* ---- lifecycle and queries -------------------------------------------- */

static void free_req(void *ext)
{
    struct twilio_req *q = ext;

    if (!q)
        return;
    free(q->to);
    free(q->from);
    free(q->body);
    free(q->twiml);
    free(q->say);
    free(q);
}

struct twilio_peer *twilio_peer_new(const char *account_sid, const char *auth_token)
{
    struct twilio_peer *p = calloc(1, sizeof *p);

    if (!p)
        return NULL;
    p->peer = peer_new();
    p->sid = strdup(account_sid);
    p->token = strdup(auth_token);
    if (!p->peer || !p->sid || !p->token) {
        twilio_peer_free(p);
        return NULL;
    }
    peer_set_answer(p->peer, answer, free_req, p);
    peer_default(p->peer, 201);
    return p;
}

int twilio_peer_start(struct twilio_peer *p)
{
    return peer_start(p->peer);
}

void twilio_peer_stop(struct twilio_peer *p)
{
    peer_stop(p->peer);
}

void twilio_peer_free(struct twilio_peer *p)
{
    if (!p)
        return;
    peer_free(p->peer);
    free(p->sid);
    free(p->token);
    free(p);
}

int twilio_peer_port(const struct twilio_peer *p)
{
    return peer_port(p->peer);
}

/* The peer's script, whose statuses this peer answers with Twilio's bodies. */
void twilio_peer_script(struct twilio_peer *p, const char *script)
{
    peer_script(p->peer, script);
}

size_t twilio_peer_count(struct twilio_peer *p)
{
    return peer_count(p->peer);
}

const struct twilio_req *twilio_peer_get(struct twilio_peer *p, size_t i)
{
    return peer_ext(p->peer, i);
}

size_t twilio_peer_wait(struct twilio_peer *p, size_t n, int timeout_ms)
{
    return peer_wait_requests(p->peer, n, timeout_ms);
}

size_t twilio_peer_violations(struct twilio_peer *p)
{
    return peer_violations(p->peer);
}

const char *twilio_peer_violation(struct twilio_peer *p, size_t i)
{
    return peer_violation(p->peer, i);
}
